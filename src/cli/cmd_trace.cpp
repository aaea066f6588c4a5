// tiny-gpt trace TEXT: one prediction followed step by step, from the token ids to the
// sampled token, with the model's real numbers (the library computes them:
// tinygpt/trace.h; this file parses flags and prints).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common.h"
#include "model_choice.h"
#include "output_file.h"
#include "tinygpt/error.h"
#include "tinygpt/trace.h"

namespace tinygpt::cli {
namespace {

struct TraceCliOptions {
  ModelOptions model;
  std::string text;
  std::optional<int> position;
  TraceOptions trace;
  std::vector<std::string> layers, heads;  // as given: "0,2", repeated flags (index_list)
  std::optional<std::uint64_t> seed;
  bool no_lens = false;
  bool json = false;
  std::string format;  // text (default), json, html
  std::string output;
};

// text, json or html: --json is --format json; html goes to a file.
std::string resolve_format(const TraceCliOptions& o) {
  std::string f = o.format.empty() ? "text" : o.format;
  if (o.json) {
    if (!o.format.empty() && o.format != "json") throw_usage_error("--json contradicts --format " + o.format);
    f = "json";
  }
  if (f == "html" && o.output.empty()) throw_usage_error("--format html writes a page: give a file with -o FILE.html");
  return f;
}

void run(const CLI::App& cmd, const TraceCliOptions& o) {
  require(cmd, "text");
  const std::string format = resolve_format(o);
  refuse_output_over_model(o.output, "--output", o.model);
  TraceOptions options = o.trace;
  options.layers = index_list(o.layers, "--layer");
  options.heads = index_list(o.heads, "--head");
  options.position = o.position.value_or(-1);
  options.seed = o.seed ? *o.seed : std::random_device{}();
  options.lens = !o.no_lens;
  validate(options.sampler);  // a bad flag is reported before the model is read
  const Model model = load_for(o.model, {o.text});
  const Trace trace = trace_prediction(model, o.text, options);
  const std::string out = format == "json"   ? dump_json(trace_json(trace)) + "\n"
                          : format == "html" ? trace_html(trace)
                                             : trace_text(trace);
  if (o.output.empty()) {
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  } else {
    write_file_atomically(o.output, out);
    spdlog::info("wrote {}", o.output);
  }
}

}  // namespace

void register_trace(CLI::App& app) {
  auto o = std::make_shared<TraceCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "trace", "Follow one prediction step by step: tokens, embedding, every layer and head, logits, sampling");
  cmd->add_option("text", o->text, "Text to run (the bos token, when the model has one, is position 0); required");
  add_model_options(*cmd, o->model);
  cmd->add_option("--position", o->position,
                  "The position whose next token is predicted (default: the last token of the text)")
      ->type_name("P")
      ->check(whole_number(0, INT32_MAX));
  cmd->add_option("--layer", o->layers, "Only these layers (numbered from 0; repeat or separate with commas)")
      ->allow_extra_args(false);
  cmd->add_option("--head", o->heads, "Only these heads (numbered from 0; repeat or separate with commas)")
      ->allow_extra_args(false);
  cmd->add_option("--top", o->trace.top, "How many tokens each top list shows")
      ->type_name("K")
      ->check(whole_number(1, 1000))
      ->capture_default_str();
  cmd->add_option("--temperature", o->trace.sampler.temperature, "Sampling temperature, as in generate; 0 is greedy")
      ->capture_default_str()
      ->check(fits_float());
  cmd->add_option("--top-k", o->trace.sampler.top_k, "As in generate (0: off)")->capture_default_str();
  cmd->add_option("--top-p", o->trace.sampler.top_p, "As in generate (1: off)")
      ->capture_default_str()
      ->check(fits_float());
  cmd->add_option("--seed", o->seed, "Seed for the draw (default: random; generate with the same seed draws the same)")
      ->check(whole_number(0));
  cmd->add_flag("--no-lens", o->no_lens, "Leave out the logit lens (each layer's output read as if it were the last)");
  cmd->add_flag("--json", o->json, "Every number in full, as one JSON object (same as --format json)");
  cmd->add_option("--format", o->format,
                  "text (default), json, or html: one self-contained page walking through the steps (needs -o)")
      ->check(CLI::IsMember({"text", "json", "html"}));
  cmd->add_option("-o,--output", o->output, "Write to this file (atomically) instead of stdout")
      ->check(non_empty_path());
  cmd->callback([cmd, o] { run(*cmd, *o); });
}

}  // namespace tinygpt::cli
