#pragma once
// Pieces every subcommand shares: the model flags, loading, and JSON printing.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>

#include "tinygpt/model.h"
#include "tinygpt/load.h"

namespace tinygpt::cli {

struct ModelOptions {
  std::string model;  // name or path; empty = the default shipped model
  LoadOptions limits;  // the size limits; warnings go to the log (load())
};

// -m/--model, --max-params, --max-ctx
void add_model_options(CLI::App& cmd, ModelOptions& options);
Model load(const ModelOptions& options);

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

}  // namespace tinygpt::cli
