#pragma once
// Quantising rows of float32 into the reduced weight types of weight_type.h, and back:
// the one definition the loader, the kernels' tests and `info` share.
#include <cstddef>
#include <cstdint>
#include <span>

#include "tinygpt/weight_type.h"

namespace tinygpt {

// One row of n float32 values into row_bytes(t, n) bytes at `out` (t is f16 or q8_0).
// Returns false, writing nothing useful, if a value (f16) or a block's scale (q8_0) does
// not fit binary16's range: the caller names the tensor.
bool quantize_row(WeightType t, const float* x, int n, std::uint8_t* out);

// The float32 values a reduced row stands for (n of them; q8_0 padding dropped).
void dequantize_row(WeightType t, const std::uint8_t* row, int n, float* out);

// A q8_0 block's scale, quantising `block` (32 values; lanes past n are 0).
// Also what the kernels use for their input vectors, whose scale stays float32:
// scale = amax / 127, and q[i] = round_half_even(x[i] * (1 / scale)), all 0 when
// scale < FLT_MIN (amax below ~1.5e-36: 1/scale would not be finite).
float quantize_block_q8(const float* x, int n, std::int8_t* q);

}  // namespace tinygpt
