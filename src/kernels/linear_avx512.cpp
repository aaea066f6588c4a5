// The float32 product for a batch (prefill) through an [out][in] matrix with AVX-512, summing
// every output in exactly the AVX2 tiles' order (kernels_avx2.cpp), so that the two give the
// same bits: the AVX2 order is the one the trace fixtures' 1e-5 bar was measured with, and
// one input alone (decoding, bound by memory) stays on the AVX2 kernel.
//
// The AVX2 tile sums output r as 8 lanes, lane j over the inputs k = j, j + 8, j + 16, ...
// in order (one fused multiply-add each), then ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 +
// l7)), then + bias. Here a zmm register holds two outputs' 8 lanes side by side: the weights
// of rows r and r + 1 are packed as [w_r[k..k+8), w_r+1[k..k+8)] for each block of 8 inputs,
// and the input block x[k..k+8) is broadcast to both halves. The same products go to the same
// lanes in the same order; the tree at the end is AVX2's hadd, hadd, add of halves, on zmm.
#include "implementations.h"

#if defined(__x86_64__)

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsics pass an "undefined" register as the unused masked source, and
// its flow analysis then reports it as (maybe) uninitialised (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#define TG_AVX512 __attribute__((target("avx2,fma,avx512f,avx512vl")))

namespace tinygpt::kernels::avx512 {
namespace {

constexpr int kPairs = 6;          // output pairs per panel: 12 rows of the matrix
constexpr int kRows = 2 * kPairs;  // 12 divides the threads' 24-row chunks
constexpr int kTileT = 4;          // inputs per tile: 4 x 6 = 24 zmm accumulators

// panel[b][p] (16 floats) = [w[2p][8b..8b+8), w[2p+1][8b..8b+8)] for the nr <= 12 rows of w
// (K floats apart) and the blocks of 8 inputs; past K and past nr, zeros (what the AVX2
// tile's masked loads give).
TG_AVX512 void pack_pairs(float* panel, const float* w, int K, int nr) {
  const int blocks = (K + 7) / 8;
  for (int p = 0; p < kPairs; ++p)
    for (int h = 0; h < 2; ++h) {
      const int row = 2 * p + h;
      const float* src = w + static_cast<std::size_t>(row) * static_cast<std::size_t>(K);
      for (int b = 0; b < blocks; ++b) {
        float* dst = panel + (static_cast<std::size_t>(b) * kPairs + p) * 16 + 8 * h;
        const int n = row < nr ? std::min(8, K - 8 * b) : 0;
        const __mmask8 m = static_cast<__mmask8>((1u << n) - 1u);
        _mm256_storeu_ps(dst, _mm256_maskz_loadu_ps(m, src + 8 * b));
      }
    }
}

// x[0..8) in both 256-bit halves (AVX-512 F's 64-bit broadcast: the 32-bit one needs DQ).
TG_AVX512 inline __m512 both_halves(__m256 x) { return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(x))); }

// AVX2's _mm256_hadd_ps in each 128-bit quarter: [a0+a1, a2+a3, b0+b1, b2+b3].
TG_AVX512 inline __m512 pair_sums(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}

// The four registers' eight outputs (register p holds outputs 2p and 2p + 1), each reduced
// by the AVX2 tree ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)): hadd, hadd, then the two quarters
// of each half added, as reduce4 does. Outputs 0-3 in lo, 4-7 in hi.
TG_AVX512 inline void reduce8(__m512 a, __m512 b, __m512 c, __m512 d, __m128& lo, __m128& hi) {
  __m512 q = pair_sums(pair_sums(a, b), pair_sums(c, d));  // quarter j: lanes 4j..4j+3 of a, b, c, d
  q = _mm512_add_ps(q, _mm512_shuffle_f32x4(q, q, 0xB1));  // quarter 0: even outputs; quarter 2: odd
  const __m128 even = _mm512_castps512_ps128(q), odd = _mm512_extractf32x4_ps(q, 2);
  lo = _mm_unpacklo_ps(even, odd);
  hi = _mm_unpackhi_ps(even, odd);
}

// Outputs [4i, 4i + 4) of a tile row: + bias, stored; only those below nr.
TG_AVX512 inline void store4(float* out, __m128 s, const float* bias, int i, int nr) {
  const int n = std::clamp(nr - 4 * i, 0, 4);
  const __mmask8 m = static_cast<__mmask8>((1u << n) - 1u);
  if (bias) s = _mm_add_ps(s, _mm_maskz_loadu_ps(m, bias + 4 * i));
  _mm_mask_storeu_ps(out + 4 * i, m, s);
}

// MT inputs (rows of x, K apart) by the panel's nr rows. out[t * ldo + i] for i < nr.
template <int MT>
TG_AVX512 void tile(float* out, int ldo, const float* x, int K, const float* panel, int nr, const float* bias) {
  __m512 acc[MT][kPairs];
#pragma GCC unroll 4
  for (int t = 0; t < MT; ++t)
#pragma GCC unroll 6
    for (int p = 0; p < kPairs; ++p) acc[t][p] = _mm512_setzero_ps();
  const std::size_t ld = static_cast<std::size_t>(K);
  const int full = K / 8;
  for (int b = 0; b < full; ++b) {
    const float* wb = panel + static_cast<std::size_t>(b) * kPairs * 16;
#pragma GCC unroll 4
    for (int t = 0; t < MT; ++t) {
      const __m512 xv = both_halves(_mm256_loadu_ps(x + t * ld + 8 * b));
#pragma GCC unroll 6
      for (int p = 0; p < kPairs; ++p) acc[t][p] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(wb + 16 * p), acc[t][p]);
    }
  }
  if (full * 8 < K) {  // the ragged block: zeros past K on both sides, as the AVX2 tile's masks
    const float* wb = panel + static_cast<std::size_t>(full) * kPairs * 16;
    const __mmask8 m = static_cast<__mmask8>((1u << (K - 8 * full)) - 1u);
#pragma GCC unroll 4
    for (int t = 0; t < MT; ++t) {
      const __m512 xv = both_halves(_mm256_maskz_loadu_ps(m, x + t * ld + 8 * full));
#pragma GCC unroll 6
      for (int p = 0; p < kPairs; ++p) acc[t][p] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(wb + 16 * p), acc[t][p]);
    }
  }
  static_assert(kPairs == 6, "the reduction below is written for 6 registers (12 outputs) per input");
  const __m512 z = _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int t = 0; t < MT; ++t) {
    __m128 s0, s1, s2, s3;
    reduce8(acc[t][0], acc[t][1], acc[t][2], acc[t][3], s0, s1);
    reduce8(acc[t][4], acc[t][5], z, z, s2, s3);
    float* o = out + static_cast<std::size_t>(t) * ldo;
    store4(o, s0, bias, 0, nr);
    store4(o, s1, bias, 1, nr);
    store4(o, s2, bias, 2, nr);
  }
}

using TileFn = void (*)(float*, int, const float*, int, const float*, int, const float*);

// kTiles[mt - 1] = tile<mt>
const std::array<TileFn, kTileT> kTiles = {&tile<1>, &tile<2>, &tile<3>, &tile<4>};

}  // namespace

void linear_rows(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0, int r1) {
  if (T == 1) {
    avx2::decode_rows(out, x, w, bias, r0, r1);
    return;
  }
  const int K = w.cols;
  const std::size_t panel_floats = static_cast<std::size_t>((K + 7) / 8) * kPairs * 16;
  std::vector<float> scratch(panel_floats + 16);  // + 16: room to start it on a cache line
  float* panel = scratch.data() + (16 - reinterpret_cast<std::uintptr_t>(scratch.data()) / 4 % 16) % 16;
  const float* W = w.data.data();
  const int tiles = (T + kTileT - 1) / kTileT;
  for (int r = r0; r < r1; r += kRows) {
    const int nr = std::min(kRows, r1 - r);
    pack_pairs(panel, W + static_cast<std::size_t>(r) * static_cast<std::size_t>(K), K, nr);
    // The next panel's rows (one contiguous block) are fetched into L2 a slice per tile,
    // while this panel computes: a prefill reads each weight once, from DRAM for a model
    // larger than the cache, and the packing would otherwise wait for it.
    const int next_rows = std::max(0, std::min(kRows, r1 - r - kRows));
    const char* next =
        next_rows > 0
            ? reinterpret_cast<const char*>(W + static_cast<std::size_t>(r + kRows) * static_cast<std::size_t>(K))
            : nullptr;  // no pointer past the matrix, even unused
    const std::size_t next_lines = (static_cast<std::size_t>(next_rows) * static_cast<std::size_t>(K) * 4 + 63) / 64;
    const std::size_t per_tile = (next_lines + static_cast<std::size_t>(tiles) - 1) / static_cast<std::size_t>(tiles);
    for (int t = 0, i = 0; t < T; t += kTileT, ++i) {
      const std::size_t first_line = static_cast<std::size_t>(i) * per_tile;
      for (std::size_t l = first_line; l < std::min(next_lines, first_line + per_tile); ++l)
        _mm_prefetch(next + 64 * l, _MM_HINT_T1);
      const int mt = std::min(kTileT, T - t);
      kTiles[static_cast<std::size_t>(mt - 1)](out + static_cast<std::size_t>(t) * ldo + r, ldo,
                                               x + static_cast<std::size_t>(t) * static_cast<std::size_t>(K), K, panel,
                                               nr, bias ? bias + r : nullptr);
    }
  }
}

}  // namespace tinygpt::kernels::avx512

#endif
