#include "common.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "hf_checkpoint.h"
#include "model_choice.h"
#include "model_path.h"
#include "output_file.h"
#include "thread_pool.h"
#include "tinygpt/error.h"

namespace tinygpt::cli {

void add_model_options(CLI::App& cmd, ModelOptions& o) {
  cmd.add_option("-m,--model", o.model,
                 "Model file, or the name of a shipped model (default: the shipped model that knows the input's "
                 "characters, ties and no input: " +
                     std::string(kDefaultModelName) + ")")
      ->check(non_empty_path());
  add_limit_options(cmd, o.limits);
}

void add_limit_options(CLI::App& cmd, LoadOptions& limits, bool weights_type) {
  cmd.add_option("--max-params", limits.max_parameters, "Refuse models with more parameters than this")
      ->check(whole_number(1))
      ->capture_default_str();
  cmd.add_option("--max-ctx", limits.max_ctx, "Refuse models whose n_ctx is larger than this")
      ->check(whole_number(1))
      ->capture_default_str();
  if (!weights_type) return;
  cmd.add_option_function<std::string>(
         "--weights-type", [&limits](const std::string& s) { limits.weight_type = *parse_weight_type(s); },
         "Run the linear layers in f32 (default), f16 or q8_0 (8-bit blocks): a float32 model is reduced at "
         "load; faster decoding at a measured cost in accuracy (docs/performance.md)")
      ->check(CLI::IsMember({"f32", "f16", "q8_0"}));
}

void refuse_existing_output(const std::string& output, bool force) {
  std::error_code ec;
  if (!force && std::filesystem::exists(std::filesystem::symlink_status(output, ec)))
    throw_usage_error(output + " already exists (--force replaces it)");
}

void refuse_output_over_model(const std::string& output, const char* flag, const ModelOptions& model) {
  if (output.empty()) return;
  // Without -m the model is chosen by the input later (load_for): any of them may be read.
  if (model.model.empty())
    for (const char* name : kChoosableModels) {
      ModelOptions named = model;
      named.model = name;
      refuse_output_over_model(output, flag, named);
    }
  std::string path;
  try {
    path = resolve_model_path(model.model);
  } catch (const Error&) {
    return;  // no such model: it cannot be the output, and loading it says what is wrong
  }
  std::vector<std::string> inputs = {path};
  if (is_hf_checkpoint_path(path)) {
    try {
      const HfCheckpointFiles f = find_hf_checkpoint(path);
      for (const std::string* p : {&f.config, &f.weights, &f.vocab, &f.merges, &f.tokenizer_json, &f.tinygpt_tokenizer})
        if (!p->empty()) inputs.push_back(*p);
    } catch (const Error&) {
      // not a complete checkpoint: loading it says what is wrong
    }
  }
  for (const std::string& input : inputs)
    if (same_file(output, input))
      throw_usage_error(std::string(flag) + " " + output + " is the model file " + input +
                        ": refusing to write over it");
}

void require(const CLI::App& cmd, const std::string& name) {
  if (cmd.count(name) == 0) throw CLI::RequiredError(name);
}

std::vector<int> index_list(const std::vector<std::string>& given, const char* flag) {
  std::vector<int> out;
  for (const std::string& list : given) {
    std::size_t start = 0;
    while (true) {
      const std::size_t end = std::min(list.find(',', start), list.size());
      const std::string item = list.substr(start, end - start);
      int v = 0;
      const auto [stop, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
      if (item.empty() || ec != std::errc() || stop != item.data() + item.size())
        throw_usage_error(std::string(flag) + ": \"" + list + "\" is not a list of numbers like 0,2" +
                          (item.empty() ? " (an empty item)" : ""));
      out.push_back(v);
      if (end == list.size()) break;
      start = end + 1;
    }
  }
  return out;
}

CLI::Validator fits_float() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        double v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc::result_out_of_range) return s + " is beyond the range of a float";
        if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
          return {};  // CLI11 and the range check say
        const float f = static_cast<float>(v);
        if (std::isinf(f)) return s + " is too large for a float (at most 3.4e38)";
        if (f == 0 && v != 0) return s + " is too small for a float (it would be 0)";
        return {};
      },
      "FLOAT");
}

CLI::Validator whole_number(std::uint64_t min, std::uint64_t max) {
  return CLI::Validator(
      [min, max](std::string& s) -> std::string {
        std::uint64_t v = 0;
        const char* end = s.data() + s.size();
        const auto [stop, ec] = std::from_chars(s.data(), end, v);
        if (s.empty() || ec != std::errc() || stop != end || v < min || v > max) {
          std::string range = "a whole number >= " + std::to_string(min);
          if (max != UINT64_MAX) range = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
          return "must be " + range + ", got \"" + s + "\"";
        }
        return {};
      },
      min > 0 ? "POSITIVE" : "NONNEGATIVE");
}

CLI::Validator thread_count() { return whole_number(0, ThreadPool::kMaxThreads).name("THREADS"); }

CLI::Validator non_empty_path() {
  return CLI::Validator([](std::string& s) -> std::string { return s.empty() ? "the file name is empty" : ""; },
                        "FILE");
}

Model load(const ModelOptions& o) {
  const std::string path = resolve_model_path(o.model);
  const auto t0 = std::chrono::steady_clock::now();
  LoadOptions options = o.limits;
  options.on_warning = [](const std::string& message) { spdlog::warn("{}", message); };
  Model m = load_model(path, options);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::debug("loaded {} ({} parameters, {:.1f} MB) in {:.3f} s", path, m.parameter_count(), m.file_bytes / 1e6, s);
  return m;
}

std::string dump_json(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tinygpt::cli
