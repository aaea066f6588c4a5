#pragma once
// The kernel tables, for dispatch.cpp. Internal to src/kernels/.
#include "kernels.h"

namespace tinygpt::kernels {

const Ops& portable_ops();

// Null when this build has no AVX2 code (not x86-64). Whether the CPU can run it is
// cpu_supports(Isa::avx2)'s business.
const Ops* avx2_ops();

// The AVX2 table with the kernels where AVX-512 pays replaced (reduced_avx512.cpp); null
// when this build has none. Whether the CPU can run it is cpu_supports(Isa::avx512)'s.
const Ops* avx512_ops();

namespace avx512 {
// linear_avx512.cpp: a batch in the AVX2 tiles' summation order, bit for bit (T = 1 goes to
// avx2::decode_rows); linear_rows packs the batch itself, the other two are Ops' pair.
void linear_rows(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0, int r1);
void pack_batch(std::vector<float>& packed, const float* x, int T, int K);
void linear_rows_packed(float* out, int ldo, const std::vector<float>& packed, int T, const Matrix& w,
                        const float* bias, int r0, int r1);
// The same tiles for f16 rows, widened to float32 a block of rows at a time (Ops'
// linear_rows_f16_packed).
void linear_rows_f16_packed(float* out, int ldo, const std::vector<float>& packed, int T, const Matrix& w,
                            const float* bias, int r0, int r1);
// attention_avx512.cpp: Ops::attend_head_group, the AVX2 attend_head's bits for 2 or 4
// queries.
void attend_head_group(float* out, std::size_t out_stride, const float* q, std::size_t q_stride, const float* keys,
                       const float* values, int kv_stride, int n_keys, int head_dim, float scale, float* scores,
                       std::size_t scores_stride, int count);
// activation_avx512.cpp: the AVX2 softmax and activations' bits on 16 lanes.
void softmax(float* x, int n);
void activate(Activation a, float* x, int n);
// layer_norm_avx512.cpp: Ops::layer_norm, the AVX2 kernel's bits, up to 8 rows interleaved.
void layer_norm(float* out, const float* x, int rows, const float* weight, const float* bias, int n, float eps);
// in_out_avx512.cpp: a batch through zmm tiles, the same sums as the AVX2 kernel bit for bit.
void linear_rows_in_out(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0, int r1);
void linear_rows_q8_0(float* out, int ldo, const QuantizedInput& x, int T, const Matrix& w, const float* bias, int r0,
                      int r1);
}  // namespace avx512

namespace avx2 {
// One input through an out_in matrix (Ops::linear_rows with T = 1).
void decode_rows(float* out, const float* x, const Matrix& w, const float* bias, int r0, int r1);
// One input through an in_out matrix (Ops::linear_rows_in_out with T = 1).
void decode_in_out(float* out, const float* x, const Matrix& w, const float* bias, int r0, int r1);
// dst[c][r] = src[r][c]; only when cpu_supports(Isa::avx2).
void transpose(float* dst, const float* src, std::size_t rows, std::size_t cols);
// Reduced weights (reduced_avx2.cpp), for the AVX2 and AVX-512 tables; contracts as in Ops.
void linear_rows_f16(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0, int r1);
void linear_rows_q8_0(float* out, int ldo, const QuantizedInput& x, int T, const Matrix& w, const float* bias, int r0,
                      int r1);
}  // namespace avx2

}  // namespace tinygpt::kernels
