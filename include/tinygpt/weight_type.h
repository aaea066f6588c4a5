#pragma once
// Reduced-precision weights: what a linear layer's matrix may be stored as besides float32.
//
// Decoding one token reads every weight once, so its speed is bounded by memory bandwidth
// times bytes per weight: float32 4, f16 2, q8_0 34/32 = 1.0625. Float32 stays the default
// and the reference; the reduced types are opt-in and trade a measured accuracy cost
// (docs/performance.md) for speed.
//
// Which tensors are reduced: the four matrices of each block (attn.c_attn, attn.c_proj,
// mlp.c_fc, mlp.c_proj) and the output projection (lm_head, or for a tied model a reduced
// copy of wte). They are what a token reads in bulk. The embedding tables stay float32: a
// token reads one row of each, and `embed` inspects wte as trained. Layer norms and biases
// stay float32: they are a few thousand numbers, and a layer norm's gain is where a small
// relative error is amplified most.
//
// The formats, row by row of the [out][in] matrix (the dot-product direction is `in`):
//   f16   IEEE 754 binary16, rounded to nearest even from float32. A float32 beyond half's
//         range (|x| > 65504) is refused, never made infinite.
//   q8_0  blocks of 32 consecutive weights of a row, each 34 bytes: the scale d as a
//         binary16 (little-endian), then 32 signed bytes q[i] in -127..127, meaning
//         w[i] = float(d) * q[i]. Quantising a block: amax = max |w[i]|, d = amax / 127
//         (float32), q[i] = round_half_even(w[i] * (1 / d)) (float32 arithmetic; all q are 0
//         when amax is 0), d then stored as binary16. A row whose length is not a multiple
//         of 32 is padded with zero weights to the next multiple (they add nothing).
//         The input vector of a q8_0 layer is quantised the same way per 32-block (its scale
//         kept in float32, padding lanes 0) so that each block's dot product is an exact
//         integer sum: out[r] = bias[r] + sum_blocks float(d_w) * d_x * sum_i q_w[i] * q_x[i].
//         This is the layout of ggml's Q8_0 (a block as 2 + 32 bytes); the rounding of the
//         quantiser is our own (half-even; ggml rounds half away from zero).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tinygpt {

enum class WeightType { f32, f16, q8_0 };

constexpr int kQ8Block = 32;               // weights per q8_0 block
constexpr std::size_t kQ8BlockBytes = 34;  // 2 (binary16 scale) + 32 (int8 values)

// "f32", "f16", "q8_0"
const char* to_string(WeightType t);
std::optional<WeightType> parse_weight_type(std::string_view name);

// Bytes one row of `cols` weights takes in type t (q8_0 rows are padded to whole blocks).
std::size_t row_bytes(WeightType t, std::size_t cols);

struct Model;

// Turns a float32 model's reducible tensors (see above) into type t, in place; the model
// then runs in t (Model::weight_type). Nothing to do when it already runs in t. Throws
// Error(model) naming the tensor when a value does not fit binary16, Error(usage) when the
// model is already reduced to another type (or t is f32: a reduced model cannot go back).
void reduce_weights(Model& model, WeightType t);

// Bytes of weights one decoding step reads: every linear matrix and the output projection
// in the type it runs in, one row of each embedding table, the layer norms and biases.
// Decoding is bound by this divided by the memory bandwidth.
std::uint64_t weight_bytes_per_token(const Model& model);

}  // namespace tinygpt
