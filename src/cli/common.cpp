#include "common.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>

#include "model_path.h"
#include "thread_pool.h"

namespace tinygpt::cli {

void add_model_options(CLI::App& cmd, ModelOptions& o) {
  cmd.add_option("-m,--model", o.model, "Model file, or the name of a shipped model (default: " +
                                            std::string(kDefaultModelName) + ")")
      ->check(non_empty_path());
  cmd.add_option("--max-params", o.limits.max_parameters, "Refuse models with more parameters than this")
      ->check(whole_number(1))
      ->capture_default_str();
  cmd.add_option("--max-ctx", o.limits.max_ctx, "Refuse models whose n_ctx is larger than this")
      ->check(whole_number(1))
      ->capture_default_str();
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

CLI::Validator thread_count() {
  return whole_number(0, ThreadPool::kMaxThreads).name("THREADS");
}

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
