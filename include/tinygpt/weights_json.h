#pragma once
// Loading and writing the weights file (JSON, version 1; see docs/weights-format.md).
#include <cstdint>
#include <string>
#include <string_view>

#include "tinygpt/model.h"

namespace tinygpt {

// What a file may claim before we refuse to allocate for it. The defaults are far
// above anything we ship; `--max-params` / `--max-ctx` raise them.
struct LoadLimits {
  std::uint64_t max_parameters = 1'000'000'000;  // 4 GB of float32
  int max_ctx = 65'536;
};

// Loads and validates everything: format, version, config, every tensor's presence,
// name and shape, finite values, tokenizer consistency. Throws Error(model) naming
// the file and the field or tensor.
Model load_model(const std::string& path, const LoadLimits& limits = {});

// The same, from JSON text already in memory (`name` appears in messages).
Model load_model_from_text(std::string_view json, const std::string& name, const LoadLimits& limits = {});

}  // namespace tinygpt
