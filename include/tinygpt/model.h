#pragma once
// The model as plain data: hyper-parameters, weights and tokenizer. Nothing here runs;
// the forward pass is in decoder.h and reads these structs top to bottom.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "tinygpt/tokenizer.h"
#include "tinygpt/weight_store.h"
#include "tinygpt/weight_type.h"

namespace tinygpt {

enum class Positional { learned, sinusoidal };
enum class Activation { gelu_tanh, gelu, relu };

struct Config {
  int vocab_size = 0;  // V: rows of wte (may exceed the tokenizer's vocabulary: padding)
  int n_ctx = 0;       // C: longest sequence the model accepts
  int n_embd = 0;      // D: width of the residual stream
  int n_head = 0;      // H: attention heads; each is D/H wide
  int n_layer = 0;     // L: transformer blocks
  int n_inner = 0;     // F: MLP hidden width (default 4*D)
  Positional positional = Positional::learned;
  Activation activation = Activation::gelu_tanh;
  float layer_norm_epsilon = 1e-5f;
  bool tie_word_embeddings = true;

  int head_dim() const { return n_embd / n_head; }
};

// How a float32 matrix of `rows` outputs by `cols` inputs lies in memory.
//   out_in  [rows][cols]: each output's weights contiguous, one dot product per output.
//           What the loaders make from a weights JSON, and from anything they copy.
//   in_out  [cols][rows]: each input's weights contiguous: the file's own layout for a
//           Conv1D weight (GPT-2's linear layers) used in place from a memory-mapped
//           safetensors file. Copying 340 MB to turn GPT-2 small's into out_in took most of
//           a second; reading them where they lie takes none (docs/performance.md).
enum class Layout { out_in, in_out };

// A matrix, a view of floats someone else owns (a Model's WeightStore, a file mapping, a
// test's vector). Linear layers have one row per output and one column per input, laid
// out as `layout` says; tables (wte, wpe, lm_head) are always out_in, one row per token or
// position.
//
// A linear layer's matrix may instead be stored reduced (weight_type.h): then `type` says
// how, `packed` holds rows * row_bytes(type, cols) bytes, row by row (out_in), and `data`
// is empty. Only the kernels (kernels::linear) read `packed`; everything else reads
// float32 `data`.
struct Matrix {
  int rows = 0;
  int cols = 0;
  std::span<const float> data;  // rows * cols (empty when reduced), as `layout` says
  WeightType type = WeightType::f32;
  std::span<const std::uint8_t> packed;  // rows * row_bytes(type, cols), when type != f32
  Layout layout = Layout::out_in;

  Matrix() = default;
  Matrix(int r, int c, std::span<const float> values) : rows(r), cols(c), data(values) {}
  // A view of a temporary vector would dangle at the end of the statement: refuse it.
  Matrix(int, int, std::vector<float>&&) = delete;

  // Row r: one output's weights. Only for out_in (an in_out row is not contiguous; see
  // at()).
  std::span<const float> row(int r) const {
    return data.subspan(static_cast<std::size_t>(r) * static_cast<std::size_t>(cols), static_cast<std::size_t>(cols));
  }
  // The weight from input c to output r, in either layout.
  float at(int r, int c) const {
    const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
    return layout == Layout::out_in ? data[static_cast<std::size_t>(r) * C + static_cast<std::size_t>(c)]
                                    : data[static_cast<std::size_t>(c) * R + static_cast<std::size_t>(r)];
  }
};

using Vector = std::span<const float>;

struct LayerWeights {
  Vector ln_1_weight, ln_1_bias;  // [D]
  Matrix attn_weight;             // [3D][D]: rows 0..D-1 make q, D..2D-1 k, 2D..3D-1 v
                                  // (shapes of the four matrices as out_in: [out][in])
  Vector attn_bias;               // [3D]
  Matrix attn_proj_weight;        // [D][D]
  Vector attn_proj_bias;          // [D]
  Vector ln_2_weight, ln_2_bias;  // [D]
  Matrix fc_weight;               // [F][D]
  Vector fc_bias;                 // [F]
  Matrix mlp_proj_weight;         // [D][F]
  Vector mlp_proj_bias;           // [D]
};

struct Weights {
  Matrix wte;                        // [V][D] token embeddings
  Matrix wpe;                        // [C][D] positions: learned rows, or the sinusoid table
  std::vector<LayerWeights> layers;  // [L]
  Vector ln_f_weight, ln_f_bias;     // [D]
  Matrix lm_head;                    // [V][D] only when untied (rows = 0 when tied) ...
  // ... or, when the linear weights are reduced (weight_type.h), for a tied model too: a
  // reduced copy of wte for the output projection, while wte stays float32 for lookups.

  const Matrix& output() const { return lm_head.rows > 0 ? lm_head : wte; }
};

struct Model {
  std::string path;  // where it was loaded from, for messages
  Config config;
  Tokenizer tokenizer;
  WeightStore store;  // owns the floats `weights` points into
  Weights weights;
  std::uint64_t file_bytes = 0;
  // What the file held, for `info`: its format, the dtype each parameter was stored in
  // ("F32", "F16", "BF16"; a weights JSON is all F32), and how many bytes of weights are
  // read in place from the file's memory map rather than held in `store`.
  std::string format;
  std::map<std::string, std::uint64_t> stored_dtypes;
  std::uint64_t in_place_bytes = 0;
  // The type the linear weights run in (weight_type.h); f32 unless reduced at load.
  WeightType weight_type = WeightType::f32;

  std::uint64_t parameter_count() const;
};

}  // namespace tinygpt
