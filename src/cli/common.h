#pragma once
// Pieces every subcommand shares: the model flags, loading, and JSON printing.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tinygpt/load.h"
#include "tinygpt/model.h"

namespace tinygpt::cli {

struct ModelOptions {
  std::string model;   // name or path; empty = the default shipped model
  LoadOptions limits;  // the size limits; warnings go to the log (load())
};

// -m/--model, --max-params, --max-ctx, --weights-type
void add_model_options(CLI::App& cmd, ModelOptions& options);
// --max-params, --max-ctx, and --weights-type unless told not to, alone (for a command that
// takes its model as a positional)
void add_limit_options(CLI::App& cmd, LoadOptions& limits, bool weights_type = true);
Model load(const ModelOptions& options);

// An output (named by `flag`) that is the model file itself (or, for a checkpoint, any of its
// files), through any name or link, is
// refused before anything is read: writing it would destroy the model.
void refuse_output_over_model(const std::string& output, const char* flag, const ModelOptions& model);

// For commands whose output replaces a file only when asked (quantize, convert): anything
// at `output` (a dangling link too) is refused unless `force`.
void refuse_existing_output(const std::string& output, bool force);

// Commands do not mark their positionals (or -f) required() in CLI11: it checks that before
// it looks for arguments it does not know, so `generate -x` would say "prompt is required"
// instead of naming -x. Their callbacks call this first instead, for CLI11's own message.
void require(const CLI::App& cmd, const std::string& name);

// --layer and --head as given ("0,2", repeated flags) as numbers. Split here rather than by
// CLI11, which drops empty items: "0,,1" and "" would pass as "0,1" and nothing. A usage
// error names `flag`; ranges are checked against the model later.
std::vector<int> index_list(const std::vector<std::string>& given, const char* flag);

// For --temperature and --top-p: a number that float32 cannot hold (1e308 would become
// inf, 1e-300 would become 0) is refused as written, not as the float it would become.
CLI::Validator fits_float();

// A check for whole-number flags: digits only, at least `min`. CLI11 alone would read "-1"
// into an unsigned option as 2^64-1, and its range checks print 300-digit bounds.
CLI::Validator whole_number(std::uint64_t min, std::uint64_t max = UINT64_MAX);

// -t/--threads: 0 (one per core) up to ThreadPool::kMaxThreads.
CLI::Validator thread_count();

// For file-name options: an empty name is refused rather than read as "not given".
CLI::Validator non_empty_path();

// JSON text that is valid UTF-8 whatever the token bytes were.
std::string dump_json(const nlohmann::json& j, int indent = -1);

// A subcommand's work; runs after parsing. Register functions hand one to main.
void register_generate(CLI::App& app);
void register_embed(CLI::App& app);
void register_attention_dump(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_perplexity(CLI::App& app);
void register_bench(CLI::App& app);
void register_info(CLI::App& app);
void register_trace(CLI::App& app);
void register_convert(CLI::App& app);
void register_quantize(CLI::App& app);
void register_positions(CLI::App& app);

}  // namespace tinygpt::cli
