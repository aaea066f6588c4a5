#pragma once
// The numeric building blocks of the forward pass, one small function per step.
// Shapes are in the comments; matrices are row-major, linear weights [out][in].
//
// Two implementations of the hot steps exist, chosen at run time (see `Ops`): the
// portable one below, plain C++ that any compiler vectorises a little, and one using
// AVX2/FMA for x86-64 CPUs that have them. The portable functions are also the
// definition of what each step computes; the fast ones are tested against them.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tinygpt/isa.h"
#include "tinygpt/model.h"

namespace tinygpt {
class ThreadPool;
}

namespace tinygpt::kernels {

// ---- The portable implementation ----

float dot(const float* a, const float* b, int n);

// out[i] = (x[i] - mean) / sqrt(var + eps) * weight[i] + bias[i]  over one row of n.
void layer_norm(float* out, const float* x, const float* weight, const float* bias, int n, float eps);

// out[t][r] = bias[r] + sum_c x[t][c] * w[r][c]   for t < n_rows_x; w is [out][in], or
// [in][out] when w.layout is in_out (then as Ops::linear_rows_in_out sums).
// `bias` may be null. The batch form is what makes prefill matrix-matrix work. A reduced
// `w` (f16, q8_0) runs as its type defines (see Ops::linear_rows_q8_0).
void linear(float* out, const float* x, int n_rows_x, const Matrix& w, const float* bias);

// In place over n values; the largest is subtracted first so exp never overflows.
void softmax(float* x, int n);

void gelu_tanh(float* x, int n);  // GPT-2's tanh approximation
void gelu_erf(float* x, int n);   // exact: x * Phi(x)
void relu(float* x, int n);
void activate(Activation a, float* x, int n);

// ---- Reduced weights (tinygpt/weight_type.h) ----

// T input rows of n floats quantised per 32-block as a q8_0 layer's input: row t's block b
// has the float32 scale scales[t * blocks + b] and the values
// values[(t * blocks + b) * 32 + i] (padding lanes 0). See quantize_block_q8 (quantize.h).
struct QuantizedInput {
  std::vector<float> scales;
  std::vector<std::int8_t> values;
  int blocks = 0;  // per row: ceil(n / 32)
};
void quantize_input(QuantizedInput& out, const float* x, int T, int n);

// ---- Run-time choice of implementation (Isa: tinygpt/isa.h) ----

// The hot steps of one implementation, as plain function pointers.
struct Ops {
  Isa isa;
  // Rows [r0, r1) of a linear layer for a batch of T inputs:
  //   out[t * ldo + r] = bias[r] + x[t] . w[r]   (x rows are w.cols apart; bias may be null)
  // An output does not depend on r0, r1 (how rows are split among threads). With AVX2 a
  // batch (T > 1) and a single input sum in different orders (see kernels_avx2.cpp); the
  // AVX-512 batch product keeps the AVX2 order exactly (linear_avx512.cpp).
  void (*linear_rows)(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0, int r1);
  // The same for a float32 matrix laid out in_out (model.h: a Conv1D weight read in place
  // from a file). Each output is summed over the inputs in order, one product at a time
  // (fused multiply-adds where the ISA has them), then the bias added: so a batch and a
  // single input give the same bits, and so do any r0, r1. That order differs from
  // linear_rows', so the same weights in the two layouts agree to rounding, not bit for bit.
  void (*linear_rows_in_out)(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0,
                             int r1);
  // The same for f16 weights (w.type == f16), and for q8_0 weights given the input already
  // quantised (quantize_input): out[t * ldo + r] = bias[r] + sum over blocks of
  // float(d_w) * d_x * (exact integer dot product of the block's 32 values).
  void (*linear_rows_f16)(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0,
                          int r1);
  void (*linear_rows_q8_0)(float* out, int ldo, const QuantizedInput& x, int T, const Matrix& w, const float* bias,
                           int r0, int r1);
  // What kernels::layer_norm above computes, over `rows` consecutive rows of n (x and out
  // row-major). A row's result does not depend on the others or on `rows`: several rows at
  // once only let a kernel interleave their sums, each a chain of dependent additions.
  void (*layer_norm)(float* out, const float* x, int rows, const float* weight, const float* bias, int n, float eps);
  void (*softmax)(float* x, int n);
  void (*activate)(Activation a, float* x, int n);
  // One head, one query: what tinygpt::attend_head (attention.h) computes.
  void (*attend_head)(float* out, const float* q, const float* keys, const float* values, int kv_stride, int n_keys,
                      int head_dim, float scale, float* scores);
  // Optional, null in a table without it: attend_head for `count` (2 or 4) consecutive
  // queries of one head at once (a prefill's tokens t, t + 1, ...), each seeing one key more
  // than the one before: query i is at q + i q_stride, sees keys [0, n_keys + i), and its
  // output goes to out + i out_stride, its scores to scores + i scores_stride (each with room
  // for n_keys + count - 1 floats). The same bits as `count` attend_head calls.
  void (*attend_head_group)(float* out, std::size_t out_stride, const float* q, std::size_t q_stride, const float* keys,
                            const float* values, int kv_stride, int n_keys, int head_dim, float scale, float* scores,
                            std::size_t scores_stride, int count);
  // Optional, null in a table without them: linear_rows for a batch (T > 1, float32,
  // out_in) whose inputs were rearranged first by pack_batch. linear() below packs once per
  // layer and shares the result among the threads that split the rows, instead of every
  // thread's every chunk packing its own copy. The same bits as linear_rows.
  void (*pack_batch)(std::vector<float>& packed, const float* x, int T, int K);
  void (*linear_rows_packed)(float* out, int ldo, const std::vector<float>& packed, int T, const Matrix& w,
                             const float* bias, int r0, int r1);
  // Optional, null in a table without it: linear_rows_f16 for a batch packed by pack_batch
  // (T > 1): the rows widened to float32 a block at a time, then linear_rows_packed's tiles.
  // The same bits as linear_rows_f16 of the AVX2 table (which widens the rows too).
  void (*linear_rows_f16_packed)(float* out, int ldo, const std::vector<float>& packed, int T, const Matrix& w,
                                 const float* bias, int r0, int r1);
};

// The table for `isa`; throws Error(usage) if the CPU cannot run it.
const Ops& ops(Isa isa);

// Where the hot steps run: which implementation, over which threads.
struct Compute {
  const Ops* ops = nullptr;
  ThreadPool* pool = nullptr;  // null: the calling thread alone
  // Where linear() keeps a batch packed for ops->pack_batch, reused from call to call (null:
  // a vector of each call's own, allocated and freed every time).
  std::vector<float>* packed_batch = nullptr;
  int threads() const;
};

// linear() above, through `c.ops`, with the rows shared among `c.pool`'s threads.
void linear(const Compute& c, float* out, const float* x, int n_rows_x, const Matrix& w, const float* bias);
// The same for the outputs [first_row, end_row) of each input alone (out keeps w.rows per
// input; the others are not written): each gets the bits the whole product gives it.
void linear(const Compute& c, float* out, const float* x, int n_rows_x, const Matrix& w, const float* bias,
            int first_row, int end_row);

// For the weights loader: decodes the longest prefix of in[0, n) made of whole 32-character
// blocks of the base64 alphabet (no padding) into out (3 bytes per 4 characters) and
// returns its length. 0 on the portable path; the caller decodes the rest.
std::size_t decode_base64_prefix(const char* in, std::size_t n, unsigned char* out);

// For the weights loader: dst[c][r] = src[r][c] for a rows x cols matrix (Conv1D [in][out]
// to our [out][in]), cache-blocked, with AVX2 where default_isa() allows.
void transpose(float* dst, const float* src, std::size_t rows, std::size_t cols);

}  // namespace tinygpt::kernels
