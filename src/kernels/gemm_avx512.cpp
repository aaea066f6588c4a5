// Prefill's float32 linear layer with AVX-512: out[t][r] = bias[r] + x[t] . w[r] for a batch
// of inputs, as a register-blocked matrix product.
//
// Why this shape. A batch is bound by multiply-adds, not by memory, so the aim is to keep
// both FMA units busy: every FMA should need as few loads as possible and no horizontal
// sums. The micro-tile is 12 weight rows by 32 inputs, 24 zmm accumulators: for each k it
// broadcasts w[r][k] for its 12 rows and loads x[t][k] for 32 inputs (two zmm), 14 loads
// for 24 FMAs, and each accumulator lane ends as one output, nothing left to add across
// lanes. For that the inputs must be k-major (32 inputs side by side for each k), so they
// are packed: panels of 32 inputs, K x 32 floats each. Packing the inputs rather than the
// weights keeps the weights in the one [out][in] layout that decoding, the reduced types
// and the loader share (no second copy in memory); the inputs are the small operand (T x K
// against K x rows), packed once per call and reused by every row.
//
// Cache blocking: a block of inputs is packed so that it fits in L2 (at most 1 MiB); the
// rows are walked 12 at a time, and those 12 rows (12 x K floats) stay in L1/L2 while every
// panel of the block passes under them.
//
// Rounding: each output is one accumulator lane summed over k in order within chunks of
// 128, the chunk sums added in order, then the bias. So it does not depend on how rows are split among threads, nor on
// where its input sits in the batch. Batches of fewer than 8 inputs, and decoding, take the
// AVX2 kernels, which sum in other orders (kernels_avx2.cpp): results agree to rounding.
#include "implementations.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#define TG_AVX512F __attribute__((target("avx2,fma,avx512f")))

namespace tinygpt::kernels::avx512 {
namespace {

constexpr int kPanel = 32;  // inputs per packed panel: two zmm
constexpr int kRows = 12;   // weight rows per micro-tile: 24 accumulators of the 32 zmm
// Below this many inputs the AVX2 tiles are as fast (the batch is bound by memory there).
constexpr int kMinBatch = 8;
// k is summed in chunks of this many, each in registers, the chunk sums then added in
// order: a rounding error that grows with kChunk + K / kChunk rather than with K.
constexpr int kChunk = 128;
constexpr std::size_t kBlockBytes = std::size_t{1} << 20;  // packed inputs per block (L2)

// dst = inputs [t0, t1) of x ([T][K]) as panels: panel p holds, for each k, the 32 values
// x[t0 + 32 p + j][k], j = 0..31, side by side (0 past t1). Walked 16 k at a time so that
// the part of a panel being written stays in L1.
void pack_inputs(float* dst, const float* x, int K, int t0, int t1) {
  const std::size_t ldx = static_cast<std::size_t>(K);
  for (int p0 = t0; p0 < t1; p0 += kPanel) {
    float* panel = dst + static_cast<std::size_t>((p0 - t0) / kPanel) * ldx * kPanel;
    const int n = std::min(kPanel, t1 - p0);
    for (int k0 = 0; k0 < K; k0 += 16) {
      const int k1 = std::min(K, k0 + 16);
      for (int j = 0; j < kPanel; ++j) {
        float* d = panel + static_cast<std::size_t>(k0) * kPanel + j;
        if (j < n) {
          const float* s = x + static_cast<std::size_t>(p0 + j) * ldx;
          for (int k = k0; k < k1; ++k, d += kPanel) *d = s[k];
        } else {
          for (int k = k0; k < k1; ++k, d += kPanel) *d = 0.0f;
        }
      }
    }
  }
}

// out[t * ldo + r] = bias[r] + sum_k panel[k][t] * w[r * ldw + k] for r < MR, t < nt.
// NV zmm of inputs (1: nt <= 16, 2: nt <= 32).
template <int MR, int NV>
TG_AVX512F void tile(float* out, int ldo, const float* w, std::size_t ldw, const float* panel, int K, const float* bias,
                     int nt) {
  // The sums so far, [row][input]; the output is [input][row], written at the end.
  alignas(64) float sums[MR][16 * NV];
  for (int k0 = 0; k0 < K; k0 += kChunk) {
    const int k1 = std::min(K, k0 + kChunk);
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

using TileFn = void (*)(float*, int, const float*, std::size_t, const float*, int, const float*, int);

template <int NV, std::size_t... I>
constexpr std::array<TileFn, sizeof...(I)> tiles_for(std::index_sequence<I...>) {
  return {&tile<static_cast<int>(I) + 1, NV>...};
}

// kTiles[nv - 1][mr - 1] = tile<mr, nv>
const std::array<std::array<TileFn, kRows>, 2> kTiles = {tiles_for<1>(std::make_index_sequence<kRows>{}),
                                                         tiles_for<2>(std::make_index_sequence<kRows>{})};

}  // namespace

void linear_rows(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0, int r1) {
  if (T < kMinBatch) {
    avx2::linear_rows(out, ldo, x, T, w, bias, r0, r1);
    return;
  }
  const int K = w.cols;
  const std::size_t ldw = static_cast<std::size_t>(K);
  const float* W = w.data.data();
  // Inputs per block: whole panels, as many as fit in kBlockBytes (at least one).
  const int per_block = std::max(kPanel, static_cast<int>(kBlockBytes / (sizeof(float) * ldw * kPanel)) * kPanel);
  // Reused across calls on this thread: a cache of capacity, not state (every element
  // read is written first by pack_inputs).
  thread_local std::vector<float> packed;
  const int T_block = std::min(per_block, (T + kPanel - 1) / kPanel * kPanel);
  packed.resize(static_cast<std::size_t>(T_block) * ldw);
  for (int t0 = 0; t0 < T; t0 += per_block) {
    const int t1 = std::min(T, t0 + per_block);
    pack_inputs(packed.data(), x, K, t0, t1);
    for (int r = r0; r < r1; r += kRows) {
      const int mr = std::min(kRows, r1 - r);
      for (int p0 = t0; p0 < t1; p0 += kPanel) {
        const int nt = std::min(kPanel, t1 - p0);
        const float* panel = packed.data() + static_cast<std::size_t>((p0 - t0) / kPanel) * ldw * kPanel;
        kTiles[nt > 16 ? 1 : 0][static_cast<std::size_t>(mr - 1)](
            out + static_cast<std::size_t>(p0) * static_cast<std::size_t>(ldo) + r, ldo,
            W + static_cast<std::size_t>(r) * ldw, ldw, panel, K, bias ? bias + r : nullptr, nt);
      }
    }
  }
}

}  // namespace tinygpt::kernels::avx512

#endif
