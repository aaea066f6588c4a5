// tiny-gpt convert IN OUT: a weights JSON <-> a Hugging Face GPT-2 checkpoint folder,
// lossless for float32 (include/tinygpt/save.h says what each side holds).
#include <spdlog/spdlog.h>

#include <filesystem>

#include "common.h"
#include "hf_checkpoint.h"
#include "model_path.h"
#include "output_file.h"
#include "output_folder.h"
#include "tinygpt/error.h"
#include "tinygpt/save.h"

namespace tinygpt::cli {
namespace {

struct ConvertOptions {
  ModelOptions model;  // IN
  std::string output;  // OUT
  bool force = false;
};

// Every name a checkpoint folder written by convert (or downloaded from the hub) holds:
// --force may replace a folder holding these and nothing else.
const std::set<std::string> kCheckpointFiles = {"config.json",
                                                "model.safetensors",
                                                "vocab.json",
                                                "merges.txt",
                                                "tokenizer.json",
                                                "tinygpt_tokenizer.json",
                                                "generation_config.json",
                                                "tokenizer_config.json",
                                                "special_tokens_map.json"};

void run(const ConvertOptions& o) {
  namespace fs = std::filesystem;
  const bool to_json = o.output.ends_with(".json");
  if (o.output.ends_with(".safetensors"))
    throw_usage_error("OUT " + o.output +
                      " names a .safetensors file; convert writes a checkpoint folder (config.json, "
                      "model.safetensors and the tokenizer): give the folder's name");
  refuse_output_over_model(o.output, "OUT", o.model);
  // A folder output replaces the whole folder: the input must not live in it (the input
  // itself was refused just above).
  const std::string input = resolve_model_path(o.model.model);
  if (!to_json && same_file(o.output, fs::path(input).parent_path().string()))
    throw_usage_error("OUT " + o.output + " holds the model " + input + ": refusing to write over it");
  if (to_json) refuse_existing_output(o.output, o.force);

  const Model m = load(o.model);
  if (m.weight_type != WeightType::f32 && !to_json)
    throw_usage_error(std::string("a checkpoint folder holds float32 tensors and the model runs in ") +
                      to_string(m.weight_type) + ": convert the float32 model, or write a weights JSON");
  if (to_json) {
    const std::string text = weights_json_text(m);
    write_file_atomically(o.output, text);
    spdlog::info("wrote {}: weights JSON, {} parameters, {:.1f} MB", o.output, m.parameter_count(),
                 static_cast<double>(text.size()) / 1e6);
    return;
  }
  FolderOutput out{o.output, {}, o.force, kCheckpointFiles};
  std::string names;
  for (SavedFile& f : hf_checkpoint_files(m)) {
    names += (names.empty() ? "" : ", ") + f.name;
    out.files.push_back({std::move(f.name), std::move(f.bytes)});
  }
  write_folder_atomically(out);
  spdlog::info("wrote {}: checkpoint folder ({}), {} parameters", o.output, names, m.parameter_count());
}

}  // namespace

void register_convert(CLI::App& app) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "Convert a model between a weights JSON and a Hugging Face GPT-2 checkpoint folder (float32, lossless)");
  cmd->add_option("IN", o->model.model,
                  "The model: a weights JSON, a checkpoint folder, a .safetensors file, or a shipped model's name")
      ->check(non_empty_path());
  cmd->add_option("OUT", o->output,
                  "Where to write: a name ending in .json gets a weights JSON, anything else a checkpoint folder "
                  "(config.json, model.safetensors, vocab.json + merges.txt or tinygpt_tokenizer.json)")
      ->check(non_empty_path());
  cmd->add_flag("--force", o->force,
                "Replace an existing OUT (a folder only when it holds nothing but checkpoint files)");
  add_limit_options(*cmd, o->model.limits);
  cmd->callback([cmd, o] {
    require(*cmd, "IN");
    require(*cmd, "OUT");
    run(*o);
  });
}

}  // namespace tinygpt::cli
