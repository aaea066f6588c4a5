// Layer norm with AVX-512 for several rows at once, giving exactly what the AVX2 kernel gives
// each row alone (kernels_avx2.cpp's layer_norm_row).
//
// That kernel sums a row's doubles (its values, then their squared distances from the mean)
// in two 4-lane accumulators, one for lanes 0-3 of each block of 8 values and one for lanes
// 4-7, adds the two, then the four lanes ((l0 + l2) + (l1 + l3)), then the scalar tail. Here
// one zmm register of 8 doubles holds both accumulators side by side (its low half the
// first, its high half the second), so every lane sees the same additions in the same order.
// Each sum is a chain of dependent additions (about 3 cycles each) with little else to do:
// one row alone leaves the adders mostly idle, and the AVX2 kernel was 2.5 % of a CFG-S
// prefill. Up to 8 rows interleave their chains here.
#include "implementations.h"

#if defined(__x86_64__)

#include "pairs_avx512.h"  // first: its pragmas cover <immintrin.h>

#include <cmath>
#include <cstddef>

#include "avx2_helpers.h"

namespace tinygpt::kernels::avx512 {
namespace {

constexpr int kMaxRows = 8;

// avx2::hsum(a + b), for a in the low half of s and b in the high half.
TG_AVX512 inline double sum_halves(__m512d s) {
  return avx2::hsum(_mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1)));
}

// R rows of n, each `n` floats after the one before.
template <int R>
TG_AVX512 void norm_rows(float* out, const float* x, const float* weight, const float* bias, int n, float eps) {
  const auto un = static_cast<std::size_t>(n);
  const int full = n & ~7;
  __m512d s[R];
  double mean[R], inv[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) s[r] = _mm512_setzero_pd();
  for (int i = 0; i < full; i += 8)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) s[r] = _mm512_add_pd(s[r], _mm512_cvtps_pd(_mm256_loadu_ps(x + r * un + i)));
  for (int r = 0; r < R; ++r) {
    double tail = 0;
    for (int i = full; i < n; ++i) tail += x[r * un + static_cast<std::size_t>(i)];
    mean[r] = (sum_halves(s[r]) + tail) / n;
  }
  __m512d m[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    m[r] = _mm512_set1_pd(mean[r]);
    s[r] = _mm512_setzero_pd();
  }
  for (int i = 0; i < full; i += 8)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + r * un + i)), m[r]);
      s[r] = _mm512_fmadd_pd(d, d, s[r]);
    }
  for (int r = 0; r < R; ++r) {
    double tail = 0;
    for (int i = full; i < n; ++i) {
      const double d = x[r * un + static_cast<std::size_t>(i)] - mean[r];
      tail = std::fma(d, d, tail);
    }
    const double var = (sum_halves(s[r]) + tail) / n;  // biased, as torch.nn.LayerNorm
    inv[r] = 1.0 / std::sqrt(var + eps);
  }
  for (int r = 0; r < R; ++r) {
    const float* xr = x + r * un;
    float* o = out + r * un;
    const __m512d mr = _mm512_set1_pd(mean[r]), iv = _mm512_set1_pd(inv[r]);
    for (int i = 0; i < full; i += 8) {
      const __m256 y = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(xr + i)), mr), iv));
      _mm256_storeu_ps(
          o + i, _mm256_add_ps(avx2::opaque(_mm256_mul_ps(y, _mm256_loadu_ps(weight + i))), _mm256_loadu_ps(bias + i)));
    }
    for (int i = full; i < n; ++i)
      o[i] = avx2::opaque(static_cast<float>((xr[i] - mean[r]) * inv[r]) * weight[i]) + bias[i];
  }
}

}  // namespace

void layer_norm(float* out, const float* x, int rows, const float* weight, const float* bias, int n, float eps) {
  using RowsFn = void (*)(float*, const float*, const float*, const float*, int, float);
  static constexpr RowsFn kRows[kMaxRows] = {&norm_rows<1>, &norm_rows<2>, &norm_rows<3>, &norm_rows<4>,
                                             &norm_rows<5>, &norm_rows<6>, &norm_rows<7>, &norm_rows<8>};
  const auto un = static_cast<std::size_t>(n);
  for (int r = 0; r < rows; r += kMaxRows) {
    const int k = rows - r < kMaxRows ? rows - r : kMaxRows;
    kRows[k - 1](out + static_cast<std::size_t>(r) * un, x + static_cast<std::size_t>(r) * un, weight, bias, n, eps);
  }
}

}  // namespace tinygpt::kernels::avx512

#endif
