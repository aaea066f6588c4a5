// Float32 batches (prefill) on the AVX-512 table: packed_product.h's product with a tile
// of 12 weight rows by 32 inputs, 24 zmm accumulators. For each k: 12 broadcasts of w[r][k]
// and two loads of 16 inputs feed 24 FMAs (14 loads per 24 FMAs, against 8 per 12 for
// AVX2's 6 x 16 tile); 24 + 2 + 1 of the 32 zmm registers.
#include "implementations.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "packed_product.h"

#define TG_AVX512F __attribute__((target("avx2,fma,avx512f")))

namespace tinygpt::kernels::avx512 {
namespace {

constexpr int kPanel = 32;  // inputs per panel: two zmm
constexpr int kRows = 12;   // weight rows per tile
// Below this many inputs the AVX2 tiles are as fast (the batch is bound by memory there).
constexpr int kMinBatch = 8;

// packed::TileFn for MR rows and NV zmm of inputs (1: nt <= 16, 2: nt <= 32).
template <int MR, int NV>
TG_AVX512F void tile(float* out, int ldo, const float* w, std::size_t ldw, const float* panel, int K, const float* bias,
                     int nt) {
  // The sums so far, [row][input]; the output is [input][row], written at the end.
  alignas(64) float sums[MR][16 * NV];
  for (int k0 = 0; k0 < K; k0 += packed::kChunk) {
    const int k1 = std::min(K, k0 + packed::kChunk);
    __m512 acc[MR][NV];
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
    const float* p = panel + static_cast<std::size_t>(k0) * kPanel;
    for (int k = k0; k < k1; ++k, p += kPanel) {
      __m512 xv[NV];
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) xv[v] = _mm512_loadu_ps(p + 16 * v);
#pragma GCC unroll 12
      for (int r = 0; r < MR; ++r) {
        const __m512 wv = _mm512_set1_ps(w[static_cast<std::size_t>(r) * ldw + static_cast<std::size_t>(k)]);
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(wv, xv[v], acc[r][v]);
      }
    }
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        float* s = &sums[r][16 * v];
        _mm512_store_ps(s, k0 == 0 ? acc[r][v] : _mm512_add_ps(_mm512_load_ps(s), acc[r][v]));
      }
  }
  for (int t = 0; t < nt; ++t) {
    float* o = out + static_cast<std::size_t>(t) * static_cast<std::size_t>(ldo);
    for (int r = 0; r < MR; ++r) o[r] = bias ? sums[r][t] + bias[r] : sums[r][t];
  }
}

template <int NV, std::size_t... I>
constexpr std::array<packed::TileFn, sizeof...(I)> tiles_for(std::index_sequence<I...>) {
  return {&tile<static_cast<int>(I) + 1, NV>...};
}

// kTiles[nv - 1][mr - 1] = tile<mr, nv>
const std::array<std::array<packed::TileFn, kRows>, 2> kTiles = {tiles_for<1>(std::make_index_sequence<kRows>{}),
                                                                 tiles_for<2>(std::make_index_sequence<kRows>{})};

}  // namespace

void linear_rows(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0, int r1) {
  if (T < kMinBatch) {
    avx2::linear_rows(out, ldo, x, T, w, bias, r0, r1);
    return;
  }
  packed::product<kPanel, kRows>(out, ldo, x, T, w, bias, r0, r1, [](int mr, int nt) {
    return kTiles[nt > 16 ? 1 : 0][static_cast<std::size_t>(mr - 1)];
  });
}

}  // namespace tinygpt::kernels::avx512

#endif
