// tiny-gpt quantize IN OUT --type f16|q8_0: a float32 model written as a weights JSON whose
// linear weights are stored reduced (docs/weights-format.md, version 2), so that it loads
// reduced without quantising again and takes less disk.
#include <spdlog/spdlog.h>

#include "common.h"
#include "output_file.h"
#include "tinygpt/error.h"
#include "tinygpt/save.h"

namespace tinygpt::cli {
namespace {

struct QuantizeOptions {
  ModelOptions model;  // IN
  std::string output;  // OUT
  std::string type;
  bool force = false;
};

void run(const QuantizeOptions& o) {
  if (!o.output.ends_with(".json"))
    throw_usage_error("OUT " + o.output + " must end in .json: quantized models are written as weights JSON");
  refuse_output_over_model(o.output, "OUT", o.model);
  refuse_existing_output(o.output, o.force);
  ModelOptions in = o.model;
  in.limits.weight_type = parse_weight_type(o.type);
  const Model m = load(in);
  const std::string text = weights_json_text(m);
  write_file_atomically(o.output, text);
  spdlog::info("wrote {}: {} weights JSON, {} parameters, {:.1f} MB", o.output, to_string(m.weight_type),
               m.parameter_count(), static_cast<double>(text.size()) / 1e6);
}

}  // namespace

void register_quantize(CLI::App& app) {
  auto o = std::make_shared<QuantizeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "quantize", "Write a float32 model with its linear weights stored as f16 or q8_0 (a weights JSON, version 2)");
  cmd->add_option("IN", o->model.model,
                  "The float32 model: a weights JSON, a checkpoint folder, a .safetensors file, or a shipped model's "
                  "name")
      ->check(non_empty_path());
  cmd->add_option("OUT", o->output, "Where to write the weights JSON (a name ending in .json)")
      ->check(non_empty_path());
  cmd->add_option("--type", o->type, "f16 or q8_0 (see docs/weights-format.md)")->check(CLI::IsMember({"f16", "q8_0"}));
  cmd->add_flag("--force", o->force, "Replace an existing OUT");
  add_limit_options(*cmd, o->model.limits, /*weights_type=*/false);  // --type says it
  cmd->callback([cmd, o] {
    require(*cmd, "IN");
    require(*cmd, "OUT");
    require(*cmd, "--type");
    run(*o);
  });
}

}  // namespace tinygpt::cli
