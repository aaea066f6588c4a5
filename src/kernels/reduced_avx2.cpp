// AVX2 kernels for reduced weights (tinygpt/weight_type.h): f16 through F16C, q8_0 through
// 8-bit integer dot products. Same contracts as the portable ones in kernels.cpp (which
// define them); they differ from those only in the order float sums are added.
//
// Decoding reads each weight once, so fewer bytes per weight is the whole point: each row is
// walked front to back, the input vector (a few KB) staying in L1. A batch walks four rows
// together so that each input passes over rows that are already in L1.
#include "implementations.h"

#if defined(__x86_64__)

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "avx2_helpers.h"

#define TG_AVX2_F16C __attribute__((target("avx2,fma,f16c")))

namespace tinygpt::kernels::avx2 {
namespace {

// ---- f16 ----

// 8 halves (n < 8: only the first n, the rest 0) widened to floats.
TG_AVX2_F16C inline __m256 load_halves(const std::uint16_t* h, int n) {
  if (n == 8) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)));
  alignas(16) std::uint16_t part[8] = {};
  std::memcpy(part, h, static_cast<std::size_t>(n) * 2);
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(part)));
}

// out[r] = bias[r] + x . w[r] for r in [r0, r1): four rows at a time share each load of x.
TG_AVX2_F16C void gemv_f16(float* out, const float* x, const std::uint16_t* w, int K, const float* bias, int r0,
                           int r1) {
  const auto ld = static_cast<std::size_t>(K);
  const int full = K & ~7;
  const __m256i tail = first_lanes(K - full);
  const __m256 z = _mm256_setzero_ps();
  int r = r0;
  for (; r < r1; r += 4) {
    const int nr = std::min(4, r1 - r);
    __m256 acc[4] = {z, z, z, z};
    const std::uint16_t* row[4];
    for (int j = 0; j < 4; ++j) row[j] = w + static_cast<std::size_t>(r + std::min(j, nr - 1)) * ld;
    // Four rows two groups ahead (see q8_rows): 64 bytes of each per 32 weights. One group
    // ahead left CFG-M decoding waiting on memory on Zen 5 (two ahead: 1.135x, 18 of 20 A/Bs).
    const bool ahead = r + 8 < r1;
    for (int k = 0; k < full; k += 8) {
      if (ahead && (k & 31) == 0)
        for (int j = 0; j < 4; ++j) _mm_prefetch(reinterpret_cast<const char*>(row[j] + 8 * ld + k), _MM_HINT_T0);
      const __m256 xv = _mm256_loadu_ps(x + k);
      acc[0] = _mm256_fmadd_ps(xv, load_halves(row[0] + k, 8), acc[0]);
      acc[1] = _mm256_fmadd_ps(xv, load_halves(row[1] + k, 8), acc[1]);
      acc[2] = _mm256_fmadd_ps(xv, load_halves(row[2] + k, 8), acc[2]);
      acc[3] = _mm256_fmadd_ps(xv, load_halves(row[3] + k, 8), acc[3]);
    }
    if (full < K) {
      const __m256 xv = _mm256_maskload_ps(x + full, tail);
      for (int j = 0; j < 4; ++j) acc[j] = _mm256_fmadd_ps(xv, load_halves(row[j] + full, K - full), acc[j]);
    }
    store_sums(out + r, reduce4(acc[0], acc[1], acc[2], acc[3]), bias ? bias + r : nullptr, nr);
  }
}

// Rows widened to float32 a block at a time, then the float32 batch kernel: a batch reuses
// each row for every input, so the conversion is paid once per row, not once per input.
TG_AVX2_F16C void widen_rows(float* dst, const std::uint16_t* src, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  if (i < n) {
    alignas(32) float part[8];
    _mm256_store_ps(part, load_halves(src + i, static_cast<int>(n - i)));
    std::memcpy(dst + i, part, (n - i) * 4);
  }
}

}  // namespace

void linear_rows_f16(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0, int r1) {
  const auto* W = reinterpret_cast<const std::uint16_t*>(w.packed.data());
  const int K = w.cols;
  if (T == 1) {
    gemv_f16(out, x, W, K, bias, r0, r1);
    return;
  }
  // 48 rows (whole 3-row tiles) of float32 at a time: at most 48 x K floats, in L2.
  constexpr int kRows = 48;
  std::vector<float> block(static_cast<std::size_t>(std::min(kRows, r1 - r0)) * static_cast<std::size_t>(K));
  const Ops& f32 = *avx2_ops();
  for (int r = r0; r < r1; r += kRows) {
    const int n = std::min(kRows, r1 - r);
    widen_rows(block.data(), W + static_cast<std::size_t>(r) * K, static_cast<std::size_t>(n) * K);
    const Matrix part(n, K, std::span<const float>(block.data(), static_cast<std::size_t>(n) * K));
    f32.linear_rows(out + r, ldo, x, T, part, bias ? bias + r : nullptr, 0, n);
  }
}

namespace {

// ---- q8_0 ----

// The 32 products of one block summed into 8 int32 lanes, as floats. maddubs multiplies
// unsigned by signed bytes, so w's signs move onto x first (|w| * (x * sign w)); pairs of
// products reach at most 2 * 127 * 127, inside int16.
TG_AVX2 inline __m256 block_dot(__m256i w, __m256i x) {
  const __m256i products = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(products, _mm256_set1_epi16(1)));
}

TG_AVX2_F16C inline float scale_of(const std::uint8_t* block) {
  std::uint16_t d;
  std::memcpy(&d, block, 2);
  return _cvtsh_ss(d);
}

TG_AVX2_F16C void q8_rows(float* out, int ldo, const QuantizedInput& x, int T, const std::uint8_t* W, int nb,
                          const float* bias, int r0, int r1) {
  const std::size_t per_row = static_cast<std::size_t>(nb) * kQ8BlockBytes;
  const __m256 z = _mm256_setzero_ps();
  for (int r = r0; r < r1; r += 4) {
    const int nr = std::min(4, r1 - r);
    const std::uint8_t* row[4];
    for (int j = 0; j < 4; ++j) row[j] = W + static_cast<std::size_t>(r + std::min(j, nr - 1)) * per_row;
    // Four rows (a few KB) stay in L1 while every input of the batch passes over them.
    for (int t = 0; t < T; ++t) {
      const float* xs = x.scales.data() + static_cast<std::size_t>(t) * nb;
      const std::int8_t* xq = x.values.data() + static_cast<std::size_t>(t) * nb * kQ8Block;
      __m256 acc[4] = {z, z, z, z};
      for (int b = 0; b < nb; ++b) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * kQ8Block));
        const float s = xs[b];
        // The next four rows, one group ahead: a row of q8_0 is short (a few hundred bytes)
        // and the hardware prefetcher would not ramp up on each before it ends.
        if (t == 0 && r + 4 < r1)
          for (int j = 0; j < 4; ++j)
            _mm_prefetch(
                reinterpret_cast<const char*>(row[j] + 4 * per_row + static_cast<std::size_t>(b) * kQ8BlockBytes),
                _MM_HINT_T0);
        for (int j = 0; j < 4; ++j) {
          const std::uint8_t* block = row[j] + static_cast<std::size_t>(b) * kQ8BlockBytes;
          const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
          acc[j] = _mm256_fmadd_ps(block_dot(wv, xv), _mm256_set1_ps(scale_of(block) * s), acc[j]);
        }
      }
      store_sums(out + static_cast<std::size_t>(t) * ldo + r, reduce4(acc[0], acc[1], acc[2], acc[3]),
                 bias ? bias + r : nullptr, nr);
    }
  }
}

// Decoding: each row walked front to back on its own (one sequential stream, which the
// hardware prefetcher serves best, as in the float32 gemv), two accumulators so that the
// multiply-adds of consecutive blocks overlap; four rows' sums reduced together. Measured
// on CFG-M, one thread: 696 tokens/s against 441 for q8_rows' four interleaved rows (even
// with its prefetch), i.e. about 22 GB/s, the memory bound. On 2026-12-03's slower memory
// the stream alone reached 5.9 GB/s, and a software prefetch 4 KiB ahead (prefetch_ahead)
// took it from 198 to 262 tokens/s (AVX2) and from 246 to 402 (AVX-512's q8_gemv).
TG_AVX2_F16C void q8_gemv(float* out, const QuantizedInput& x, const std::uint8_t* W, int nb, const float* bias, int r0,
                          int r1) {
  const std::size_t per_row = static_cast<std::size_t>(nb) * kQ8BlockBytes;
  const float* xs = x.scales.data();
  const std::int8_t* xq = x.values.data();
  const __m256 z = _mm256_setzero_ps();
  const std::size_t size = static_cast<std::size_t>(r1) * per_row;  // bytes up to this call's last row
  for (int r = r0; r < r1; r += 4) {
    const int nr = std::min(4, r1 - r);
    __m256 sums[4] = {z, z, z, z};
    for (int j = 0; j < nr; ++j) {
      const std::uint8_t* row = W + static_cast<std::size_t>(r + j) * per_row;
      __m256 a0 = z, a1 = z;
      int b = 0;
      for (; b + 2 <= nb; b += 2) {
        const std::uint8_t* block = row + static_cast<std::size_t>(b) * kQ8BlockBytes;
        prefetch_ahead(W, static_cast<std::size_t>(block - W), size);  // a pair of blocks is 68 bytes
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
        const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + kQ8BlockBytes + 2));
        const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * kQ8Block));
        const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + (b + 1) * kQ8Block));
        a0 = _mm256_fmadd_ps(block_dot(w0, x0), _mm256_set1_ps(scale_of(block) * xs[b]), a0);
        a1 = _mm256_fmadd_ps(block_dot(w1, x1), _mm256_set1_ps(scale_of(block + kQ8BlockBytes) * xs[b + 1]), a1);
      }
      if (b < nb) {
        const std::uint8_t* block = row + static_cast<std::size_t>(b) * kQ8BlockBytes;
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
        const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * kQ8Block));
        a0 = _mm256_fmadd_ps(block_dot(w0, x0), _mm256_set1_ps(scale_of(block) * xs[b]), a0);
      }
      sums[j] = _mm256_add_ps(a0, a1);
    }
    store_sums(out + r, reduce4(sums[0], sums[1], sums[2], sums[3]), bias ? bias + r : nullptr, nr);
  }
}

}  // namespace

void linear_rows_q8_0(float* out, int ldo, const QuantizedInput& x, int T, const Matrix& w, const float* bias, int r0,
                      int r1) {
  if (T == 1) q8_gemv(out, x, w.packed.data(), x.blocks, bias, r0, r1);
  else q8_rows(out, ldo, x, T, w.packed.data(), x.blocks, bias, r0, r1);
}

}  // namespace tinygpt::kernels::avx2

#endif
