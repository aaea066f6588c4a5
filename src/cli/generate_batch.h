#pragma once
// `generate --batch IN.jsonl [-o OUT.jsonl]`: many prompts, one model load.
//
// Each line of the input is a request (batch_request.h); each line of the output is its
// result in the shape of `generate --json` with "id" added, or {"line", "id", "error"} for
// a line that failed. Results are written in input order, each as soon as it and every
// line before it are done. The prompts are spread over `threads` workers, each running one
// sequence at a time with a single-threaded forward pass (no batching of several sequences
// into one pass), so a line's result is exactly what `generate --json` gives for it alone.
#include <cstdint>
#include <optional>
#include <string>

#include "common.h"
#include "tinygpt/generate.h"

namespace tinygpt::cli {

struct BatchOptions {
  std::string input;                  // the JSONL file, or "-" for standard input
  std::string output;                 // empty: standard output
  bool force = false;                 // replace an existing output file
  int threads = 0;                    // sequences at once (<= 0: one per core)
  GenerateParams defaults;            // the command line's settings, which a line may override
  std::optional<std::uint64_t> seed;  // the command line's --seed, for lines without one
};

// Runs the batch. Throws Error(input) after the last line when any line failed (the
// message counts them and quotes the first), so the exit code tells.
void run_batch(const ModelOptions& model, const BatchOptions& options);

}  // namespace tinygpt::cli
