#pragma once
// The float32 product of a batch with a weight matrix, out[t][r] = bias[r] + x[t] . w[r]:
// the packing and blocking, which need no vector instructions; the caller supplies the
// register tile (gemm_avx512.cpp). Internal to src/kernels/.
//
// Only the AVX-512 table uses it. An AVX2 tile of 6 rows x 16 inputs (12 ymm accumulators)
// was measured slower than AVX2's 4 x 3 dot-product tiles (kernels_avx2.cpp) on CFG-M's
// 128-token prefill, one thread: 615, 538, 689 against 721, 800, 721 tokens/s (three
// alternating rounds; AVX-512's tile 978, 962, 1082 in the same rounds).
//
// Why this shape. A batch is bound by multiply-adds, not by memory, so the aim is to keep
// the FMA units busy: every FMA should need as few loads as possible and no horizontal
// sums. A tile of `Rows` weight rows by `Panel` inputs keeps one accumulator lane per
// output: for each k it broadcasts w[r][k] for its rows and loads x[t][k] for its inputs,
// and each lane ends as one output, nothing left to add across lanes. For that the inputs
// must be k-major (Panel inputs side by side for each k), so they are packed in panels of
// K x Panel floats. Packing the inputs rather than the weights keeps the weights in the one
// [out][in] layout that decoding, the reduced types and the loader share (no second copy in
// memory); the inputs are the small operand (T x K against K x rows), packed once per call
// and reused by every row.
//
// Cache blocking: a block of inputs is packed so that it fits in L2 (at most 1 MiB); the
// rows are walked `Rows` at a time, and those rows (Rows x K floats) stay in L1/L2 while
// every panel of the block passes under them.
//
// Rounding: each output is one accumulator lane summed over k in order within chunks of
// kChunk, the chunk sums added in order, then the bias. So it does not depend on how rows
// are split among threads, nor on where its input sits in the batch.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "tinygpt/model.h"

namespace tinygpt::kernels::packed {

// k is summed in chunks of this many, each in registers, the chunk sums then added in
// order: a rounding error that grows with kChunk + K / kChunk rather than with K.
constexpr int kChunk = 128;
constexpr std::size_t kBlockBytes = std::size_t{1} << 20;  // packed inputs per block (L2)

// A register tile: out[t * ldo + r] = bias[r] + sum_k panel[k * Panel + t] * w[r * ldw + k]
// for r < its rows, t < nt (bias may be null).
using TileFn = void (*)(float* out, int ldo, const float* w, std::size_t ldw, const float* panel, int K,
                        const float* bias, int nt);

// dst = inputs [t0, t1) of x ([T][K]) as panels: panel p holds, for each k, the Panel
// values x[t0 + Panel p + j][k], j < Panel, side by side (0 past t1). Walked 16 k at a
// time so that the part of a panel being written stays in L1.
template <int Panel>
void pack_inputs(float* dst, const float* x, int K, int t0, int t1) {
  const std::size_t ldx = static_cast<std::size_t>(K);
  for (int p0 = t0; p0 < t1; p0 += Panel) {
    float* panel = dst + static_cast<std::size_t>((p0 - t0) / Panel) * ldx * Panel;
    const int n = std::min(Panel, t1 - p0);
    for (int k0 = 0; k0 < K; k0 += 16) {
      const int k1 = std::min(K, k0 + 16);
      for (int j = 0; j < Panel; ++j) {
        float* d = panel + static_cast<std::size_t>(k0) * Panel + j;
        if (j < n) {
          const float* s = x + static_cast<std::size_t>(p0 + j) * ldx;
          for (int k = k0; k < k1; ++k, d += Panel) *d = s[k];
        } else {
          for (int k = k0; k < k1; ++k, d += Panel) *d = 0.0f;
        }
      }
    }
  }
}

// Rows [r0, r1) for T inputs, as in Ops::linear_rows. tile(mr, nt) gives the tile for mr
// rows (1..Rows) and nt inputs (1..Panel).
template <int Panel, int Rows, class PickTile>
void product(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0, int r1,
             PickTile tile) {
  const int K = w.cols;
  const std::size_t ldw = static_cast<std::size_t>(K);
  const float* W = w.data.data();
  // Inputs per block: whole panels, as many as fit in kBlockBytes (at least one).
  const int per_block = std::max(Panel, static_cast<int>(kBlockBytes / (sizeof(float) * ldw * Panel)) * Panel);
  // Reused across calls on this thread: a cache of capacity, not state (every element
  // read is written first by pack_inputs).
  thread_local std::vector<float> packed;
  const int T_block = std::min(per_block, (T + Panel - 1) / Panel * Panel);
  packed.resize(static_cast<std::size_t>(T_block) * ldw);
  for (int t0 = 0; t0 < T; t0 += per_block) {
    const int t1 = std::min(T, t0 + per_block);
    pack_inputs<Panel>(packed.data(), x, K, t0, t1);
    for (int r = r0; r < r1; r += Rows) {
      const int mr = std::min(Rows, r1 - r);
      for (int p0 = t0; p0 < t1; p0 += Panel) {
        const int nt = std::min(Panel, t1 - p0);
        const float* panel = packed.data() + static_cast<std::size_t>((p0 - t0) / Panel) * ldw * Panel;
        tile(mr, nt)(out + static_cast<std::size_t>(p0) * static_cast<std::size_t>(ldo) + r, ldo,
                     W + static_cast<std::size_t>(r) * ldw, ldw, panel, K, bias ? bias + r : nullptr, nt);
      }
    }
  }
}

}  // namespace tinygpt::kernels::packed
