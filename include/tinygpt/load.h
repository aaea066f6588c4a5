#pragma once
// Loading a model: weights, config and tokenizer from a file (the weights JSON of
// docs/weights-format.md) or a Hugging Face GPT-2 checkpoint (a folder with config.json,
// model.safetensors and vocab.json + merges.txt or tokenizer.json; or a .safetensors file
// with those beside it), validated in full before anything runs.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tinygpt/model.h"

namespace tinygpt {

// Called with each warning (a field the loader ignores, ...). The library prints nothing
// itself; leave it empty to drop warnings, or connect it to your own log.
using WarningCallback = std::function<void(const std::string& message)>;

struct LoadOptions {
  // What a file may claim before we refuse to allocate for it. The defaults are far
  // above anything we ship. Messages name these fields when a file goes past them.
  std::uint64_t max_parameters = 1'000'000'000;  // 4 GB of float32
  int max_ctx = 65'536;
  // The type the linear weights run in (weight_type.h): a float32 model is reduced at load
  // (reduce_weights). Unset: as the file holds them (float32, or a quantized weights JSON's
  // type); a reduced file asked for another type is an Error(usage).
  std::optional<WeightType> weight_type;
  WarningCallback on_warning;
};

// Loads and validates everything: format, version, config, every tensor's presence,
// name and shape, finite values, tokenizer consistency. Throws Error(model) naming
// the file and the field or tensor. `path` is a directory or ends in ".safetensors" for a
// checkpoint; anything else is read as a weights JSON. A checkpoint's F32 tensors that
// need no transpose are used in place from the memory-mapped file (the Model keeps the
// mapping) and, unlike everything copied, are not checked for finiteness: that would
// read every page of the file at load.
Model load_model(const std::string& path, const LoadOptions& options = {});

// The same, from the text of a weights JSON already in memory (`name` appears in messages).
Model load_model_from_text(std::string_view json, const std::string& name, const LoadOptions& options = {});

}  // namespace tinygpt
