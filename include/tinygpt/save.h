#pragma once
// Writing a model out: as a weights JSON (docs/weights-format.md) or as the files of a
// Hugging Face GPT-2 checkpoint folder. Both are lossless for float32 weights: loading
// what they produce gives back the same config, tokenizer and tensors, bit for bit. The
// library only produces the bytes; where and how they are written (atomically, never over
// an input) is the caller's business, as for every other output.
#include <string>
#include <vector>

#include "tinygpt/model.h"

namespace tinygpt {

// One file of an output: its name inside the folder, and its bytes.
struct SavedFile {
  std::string name;
  std::string bytes;
};

// A weights JSON: every config field written out, the tokenizer as the file format spells
// it, every tensor as base64 of little-endian float32 (version 1); a reduced model
// (weight_type.h) stores its reduced tensors in their type instead (version 2).
std::string weights_json_text(const Model& m);

// A checkpoint folder as the hub lays out GPT-2 (load_model reads it back):
//   config.json        GPT-2's field names (n_positions, activation_function "gelu_new", ...),
//                      bos/eos ids; a sinusoidal model adds "tinygpt_positional": "sinusoidal";
//   model.safetensors  F32 tensors named "transformer.h.0.ln_1.weight" ... (and "lm_head.weight"
//                      when untied), Conv1D [in, out]; a sinusoidal model's position table is
//                      stored as wpe.weight, so other GPT-2 code runs the same function;
//   vocab.json + merges.txt  for a byte_bpe tokenizer whose only special token is GPT-2's
//                      <|endoftext|> (bos and eos, or neither), as GPT-2's own files;
//   tinygpt_tokenizer.json   otherwise (every char tokenizer): the weights JSON's
//                      "tokenizer" object, which no Hugging Face format holds exactly.
std::vector<SavedFile> hf_checkpoint_files(const Model& m);

}  // namespace tinygpt
