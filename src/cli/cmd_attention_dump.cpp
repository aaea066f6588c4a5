// tiny-gpt attention-dump SENTENCE: every layer's and head's attention weights for one pass
// over the sentence, as a table, JSON, SVG heatmaps, an HTML viewer, CSV or .npy.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "model_choice.h"
#include "output_file.h"
#include "tinygpt/attention_dump.h"
#include "tinygpt/error.h"

namespace tinygpt::cli {
namespace {

struct AttentionDumpOptions {
  ModelOptions model;
  std::string sentence;
  std::vector<std::string> layers, heads;  // as given: "0,2", repeated flags
  std::string format;                      // empty: from --json, then -o's extension, else table
  bool json = false;
  bool include_qkv = false;
  bool summary = false;
  std::string output;
  std::uint64_t max_values = AttentionSelection{}.max_values;
};

std::string format_from_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".json") return "json";
  if (ext == ".svg") return "svg";
  if (ext == ".html" || ext == ".htm") return "html";
  if (ext == ".csv") return "csv";
  if (ext == ".npy") return "npy";
  return "table";
}

// Settles the output format and rejects contradictory flags before the model is loaded.
std::string resolve_format(const AttentionDumpOptions& o) {
  std::string f = o.format;
  if (o.json) {
    if (!f.empty() && f != "json") throw_usage_error("--json contradicts --format " + f);
    f = "json";
  }
  if (f.empty()) f = o.output.empty() ? "table" : format_from_extension(o.output);
  if (o.include_qkv && f != "json")
    throw_usage_error("--include-qkv adds q, k and v to the JSON output: use it with --json");
  if (o.summary && f != "table")
    throw_usage_error("--summary shortens the table output; it does not apply to --format " + f);
  if (f == "npy" && o.output.empty()) throw_usage_error("--format npy is binary: give a file with -o FILE.npy");
  return f;
}

void run(const CLI::App& cmd, const AttentionDumpOptions& o) {
  require(cmd, "sentence");
  const std::string format = resolve_format(o);
  refuse_output_over_model(o.output, "--output", o.model);
  const std::vector<int> layers = index_list(o.layers, "--layer"), heads = index_list(o.heads, "--head");
  const Model model = load_for(o.model, {o.sentence});
  AttentionSelection selection{layers, heads, o.include_qkv, o.max_values};
  const AttentionDump dump = capture_attention(model, o.sentence, selection);
  spdlog::debug("captured {} layer(s) x {} head(s) over {} tokens", dump.layers.size(), dump.heads.size(),
                dump.n_tokens());

  std::string out;
  if (format == "json") out = dump_json(attention_json(dump)) + "\n";
  else if (format == "svg") out = attention_svg(dump);
  else if (format == "html") out = attention_html(dump);
  else if (format == "csv") out = attention_csv(dump);
  else if (format == "npy") out = attention_npy(dump);
  else if (o.summary) out = attention_summary(dump);
  else {
    out = attention_table(dump);
    if (dump.n_tokens() > 24 && o.layers.empty() && o.heads.empty())
      spdlog::info("{} tokens make wide tables: pick heads with --layer/--head, or try --summary or --format html",
                   dump.n_tokens());
  }

  if (o.output.empty()) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  } else {
    write_file_atomically(o.output, out);
    spdlog::info("wrote {} ({}, {} layer(s) x {} head(s), {} tokens)", o.output, format, dump.layers.size(),
                 dump.heads.size(), dump.n_tokens());
  }
}

}  // namespace

void register_attention_dump(CLI::App& app) {
  auto o = std::make_shared<AttentionDumpOptions>();
  CLI::App* cmd = app.add_subcommand("attention-dump", "Show every layer's and head's attention over a sentence");
  cmd->add_option(
      "sentence", o->sentence,
      "Text to run through the model once (the bos token, when the model has one, is position 0); required");
  add_model_options(*cmd, o->model);
  cmd->add_option("--layer", o->layers, "Only these layers (numbered from 0; repeat or separate with commas)")
      ->allow_extra_args(false);  // --layer 0 SENTENCE: the sentence is not a layer
  cmd->add_option("--head", o->heads, "Only these heads (numbered from 0; repeat or separate with commas)")
      ->allow_extra_args(false);  // --layer 0 SENTENCE: the sentence is not a layer
  cmd->add_option("--format", o->format,
                  "table (default), json, svg (heatmap grid), html (interactive page), csv, npy (float32 "
                  "[layer][head][query][key]; needs -o). Default with -o: from the file's extension")
      ->check(CLI::IsMember({"table", "json", "svg", "html", "csv", "npy"}));
  cmd->add_flag("--json", o->json, "Same as --format json");
  cmd->add_flag("--include-qkv", o->include_qkv, "With --json: each head's q, k and v vectors and the score scale");
  cmd->add_flag("--summary", o->summary, "Table format: only each head's line of strongest keys");
  cmd->add_option("--max-values", o->max_values,
                  "Refuse a dump of more values than this (layers x heads x tokens^2, plus q, k and v)")
      ->check(whole_number(1))
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output,
                  "Write to this file (atomically) instead of stdout; every format but npy can also go to stdout")
      ->check(non_empty_path());
  cmd->callback([cmd, o] { run(*cmd, *o); });
}

}  // namespace tinygpt::cli
