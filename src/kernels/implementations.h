#pragma once
// The kernel tables, for dispatch.cpp. Internal to src/kernels/.
#include "kernels.h"

namespace tinygpt::kernels {

const Ops& portable_ops();

// Null when this build has no AVX2 code (not x86-64). Whether the CPU can run it is
// cpu_supports(Isa::avx2)'s business.
const Ops* avx2_ops();

namespace avx2 {
// dst[c][r] = src[r][c]; only when cpu_supports(Isa::avx2).
void transpose(float* dst, const float* src, std::size_t rows, std::size_t cols);
}  // namespace avx2

}  // namespace tinygpt::kernels
