#pragma once
// A Hugging Face checkpoint on disk: a folder holding config.json, model.safetensors and
// the tokenizer (vocab.json + merges.txt, GPT-2's encoder.json + vocab.bpe under the hub's
// names, or else tokenizer.json), or a .safetensors file with those files beside it. Finds the files and loads
// them through the safetensors half (safetensors.h), the GPT-2 conventions (hf_gpt2.h)
// and the architecture (architecture.h).
#include <string>

#include "tinygpt/load.h"
#include "tinygpt/model.h"

namespace tinygpt {

struct HfCheckpointFiles {
  std::string config, weights;
  std::string vocab, merges;   // when both are there (GPT-2's own files, preferred)
  std::string tokenizer_json;  // otherwise
  std::string
      tinygpt_tokenizer;  // otherwise: a weights JSON's "tokenizer" object, as `convert` writes for char tokenizers
};

// Whether `path` names a checkpoint rather than a weights JSON: a directory, or a file
// whose name ends in ".safetensors".
bool is_hf_checkpoint_path(const std::string& path);

// The files of the checkpoint at `path`. Throws Error(model) naming the folder and the
// file it lacks (no config.json, no model.safetensors, no tokenizer).
HfCheckpointFiles find_hf_checkpoint(const std::string& path);

Model load_hf_checkpoint(const HfCheckpointFiles& files, const LoadOptions& options);

}  // namespace tinygpt
