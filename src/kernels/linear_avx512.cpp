// The float32 product for a batch (prefill) through an [out][in] matrix with AVX-512, summing
// every output in exactly the AVX2 tiles' order (kernels_avx2.cpp), so that the two give the
// same bits: the AVX2 order is the one the trace fixtures' 1e-5 bar was measured with, and
// one input alone (decoding, bound by memory) stays on the AVX2 kernel.
//
// The AVX2 tile sums output r of input t as 8 lanes, lane j over the inputs k = j, j + 8,
// j + 16, ... in order (one fused multiply-add each), then ((l0 + l1) + (l2 + l3)) + ((l4 +
// l5) + (l6 + l7)), then + bias. Here a zmm register holds those 8 lanes for two inputs side
// by side: the batch is packed once per layer call as pairs of inputs, [x_t[k..k+8),
// x_t+1[k..k+8)] for each block of 8, and the weights' block w_r[k..k+8) is broadcast to both
// halves straight from the matrix (a broadcast from memory costs a load and nothing else).
// The same products go to the same lanes in the same order; the tree at the end is AVX2's
// hadd, hadd, add of halves, on zmm.
//
// Why the inputs are packed and not the weights (as until 2026-12-03): the batch is small
// (128 x 512 floats for a 128-token prompt) and packed once for every thread, while packing
// the weights meant copying every row of the model once per prefill, from DRAM.
#include "implementations.h"

#if defined(__x86_64__)

#include "pairs_avx512.h"  // first: its pragmas cover <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

namespace tinygpt::kernels::avx512 {
namespace {

// A tile: 6 weight rows by 4 input pairs, 24 zmm accumulators (of 32 registers), 4 loads of
// inputs and 6 broadcast loads of weights per 24 fused multiply-adds. Measured on the AMD
// EPYC (Zen 5) these machines ran on 2026-12-03 night: products of a 128-token batch
// (K = 256 and 1024) went from 190 to 202-207 GFLOP/s against 231 for a bare FMA loop, and
// a CFG-S prefill 1.035x (10/10 rounds); 8 rows by 3 pairs (11 loads per 24) had been the
// choice on the Sapphire Rapids hosts before, and 4 rows by 6 pairs was slower (0.93x).
constexpr int kRows = 6;   // weight rows per tile; 6 divides the threads' 24-row chunks
constexpr int kPairs = 4;  // input pairs per tile
static_assert(kRows <= 8, "a tile's rows are reduced as 8 outputs (reduce_pairs8)");
constexpr int kPackAlign = 16;  // floats: the packed batch starts on a cache line

// Offset of the packed batch in a vector from pack_batch (a multiple of 64 bytes).
std::size_t aligned_start(const std::vector<float>& v) {
  return (kPackAlign - reinterpret_cast<std::uintptr_t>(v.data()) / sizeof(float) % kPackAlign) % kPackAlign;
}

// Pair q, block b of xp: [x_2q[8b..8b+8), x_2q+1[8b..8b+8)], zeros past K and for the
// missing last input of an odd batch.
TG_AVX512 void pack_pairs(float* xp, const float* x, int T, int K) {
  const int blocks = (K + 7) / 8, full = K / 8, pairs = (T + 1) / 2;
  const auto uK = static_cast<std::size_t>(K);
  for (int q = 0; q < pairs; ++q) {
    const float* x0 = x + 2 * static_cast<std::size_t>(q) * uK;
    const bool second = 2 * q + 1 < T;
    const float* x1 = second ? x0 + uK : x0;  // read but zeroed when missing
    const __mmask8 m1 = second ? 0xFF : 0;
    float* dst = xp + static_cast<std::size_t>(q) * static_cast<std::size_t>(blocks) * 16;
    // Whole blocks: both inputs' 8 floats in one aligned 64-byte store.
    for (int b = 0; b < full; ++b) {
      const __m512 lo = _mm512_castps256_ps512(_mm256_loadu_ps(x0 + 8 * b));
      _mm512_store_ps(dst + 16 * b,
                      _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(lo),
                                                          _mm256_castps_pd(_mm256_maskz_loadu_ps(m1, x1 + 8 * b)), 1)));
    }
    if (full < blocks) {  // the ragged block, zeros past K
      const __mmask8 m = static_cast<__mmask8>((1u << (K - 8 * full)) - 1u);
      _mm256_store_ps(dst + 16 * full, _mm256_maskz_loadu_ps(m, x0 + 8 * full));
      _mm256_store_ps(dst + 16 * full + 8, _mm256_maskz_loadu_ps(static_cast<__mmask8>(m & m1), x1 + 8 * full));
    }
  }
}

// One input's row of a tile: the first nr <= 8 sums of s, + bias, stored.
TG_AVX512 inline void store8(float* out, __m256 s, const float* bias, int nr) {
  const __mmask8 m = static_cast<__mmask8>((1u << nr) - 1u);
  if (bias) s = _mm256_add_ps(s, _mm256_maskz_loadu_ps(m, bias));
  _mm256_mask_storeu_ps(out, m, s);
}

// NP packed pairs (inputs 0 .. 2 NP - 1 of xp, of which the first nt exist) by the nr <= 8
// rows of w (K floats apart). out[t * ldo + r] for t < nt, r < nr.
template <int NP>
TG_AVX512 void tile(float* out, int ldo, const float* xp, int blocks, const float* w, int K, int nr, int nt,
                    const float* bias) {
  __m512 acc[NP][kRows];
#pragma GCC unroll 8
  for (int q = 0; q < NP; ++q)
#pragma GCC unroll 8
    for (int r = 0; r < kRows; ++r) acc[q][r] = _mm512_setzero_ps();
  // Rows past nr read row 0 again (memory that exists); their sums are never stored.
  std::array<const float*, kRows> row{};
  for (int r = 0; r < kRows; ++r) row[r] = w + static_cast<std::size_t>(r < nr ? r : 0) * static_cast<std::size_t>(K);
  const std::size_t pair_floats = static_cast<std::size_t>(blocks) * 16;
  const int full = K / 8;
  for (int b = 0; b < full; ++b) {
    __m512 xv[NP];
#pragma GCC unroll 8
    for (int q = 0; q < NP; ++q) xv[q] = _mm512_load_ps(xp + q * pair_floats + 16 * b);
#pragma GCC unroll 8
    for (int r = 0; r < kRows; ++r) {
      const __m512 wv = both_halves(row[r] + 8 * b);
#pragma GCC unroll 8
      for (int q = 0; q < NP; ++q) acc[q][r] = _mm512_fmadd_ps(xv[q], wv, acc[q][r]);
    }
  }
  if (full < blocks) {  // the ragged block: zeros past K on both sides, as the AVX2 tile's masks
    const __mmask8 m = static_cast<__mmask8>((1u << (K - 8 * full)) - 1u);
    __m512 xv[NP];
#pragma GCC unroll 8
    for (int q = 0; q < NP; ++q) xv[q] = _mm512_load_ps(xp + q * pair_floats + 16 * full);
#pragma GCC unroll 8
    for (int r = 0; r < kRows; ++r) {
      const __m512 wv = both_halves(_mm256_maskz_loadu_ps(m, row[r] + 8 * full));
#pragma GCC unroll 8
      for (int q = 0; q < NP; ++q) acc[q][r] = _mm512_fmadd_ps(xv[q], wv, acc[q][r]);
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < NP; ++q) {
    // The 8-output reduction, rows past kRows zero: their sums land in lanes never stored.
    __m512 a8[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) a8[r] = r < kRows ? acc[q][r] : _mm512_setzero_ps();
    const __m512 s = reduce_pairs8(a8);  // [input 2q's rows | input 2q + 1's], 8 lanes each
    float* o = out + static_cast<std::size_t>(2 * q) * static_cast<std::size_t>(ldo);
    store8(o, _mm512_castps512_ps256(s), bias, nr);
    if (2 * q + 1 < nt) store8(o + ldo, upper_half(s), bias, nr);
  }
}

using TileFn = void (*)(float*, int, const float*, int, const float*, int, int, int, const float*);

// kTiles[np - 1] = tile<np>, np = 1 .. kPairs
template <std::size_t... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
  return {&tile<static_cast<int>(I) + 1>...};
}
const std::array<TileFn, kPairs> kTiles = make_tiles(std::make_index_sequence<kPairs>());

}  // namespace

void pack_batch(std::vector<float>& packed, const float* x, int T, int K) {
  const int blocks = (K + 7) / 8, pairs = (T + 1) / 2;
  // Grown, never shrunk: a layer packs batches of D and of 4 D inputs in turn, and resizing
  // back up would zero-fill the difference every time (a memset of the whole MLP batch).
  const std::size_t size = static_cast<std::size_t>(pairs) * static_cast<std::size_t>(blocks) * 16 + kPackAlign;
  if (packed.size() < size) packed.resize(size);
  pack_pairs(packed.data() + aligned_start(packed), x, T, K);
}

void linear_rows_packed(float* out, int ldo, const std::vector<float>& packed, int T, const Matrix& w,
                        const float* bias, int r0, int r1) {
  const int K = w.cols, blocks = (K + 7) / 8, pairs = (T + 1) / 2;
  const float* xp = packed.data() + aligned_start(packed);
  const std::size_t pair_floats = static_cast<std::size_t>(blocks) * 16;
  const float* W = w.data.data();
  // Pairs in tiles of at most kPairs, as even as possible (63 pairs: 15 tiles of 4 and 1 of
  // 3, or 61: 13 of 4 and 3 of 3, never a last tile of one pair whose 6 accumulators would
  // leave the FMA units waiting on each other).
  const int tiles = (pairs + kPairs - 1) / kPairs;
  for (int r = r0; r < r1; r += kRows) {
    const int nr = std::min(kRows, r1 - r);
    // The next tile row's weights (one contiguous block) are fetched into L2 a slice per
    // tile while these compute: a prefill reads each weight once, from DRAM for a model
    // larger than the cache, and the first tile would otherwise wait for it.
    const int next_rows = std::max(0, std::min(kRows, r1 - r - kRows));
    const char* next =
        next_rows > 0
            ? reinterpret_cast<const char*>(W + static_cast<std::size_t>(r + kRows) * static_cast<std::size_t>(K))
            : nullptr;  // no pointer past the matrix, even unused
    const std::size_t next_lines = (static_cast<std::size_t>(next_rows) * static_cast<std::size_t>(K) * 4 + 63) / 64;
    const std::size_t per_tile = (next_lines + static_cast<std::size_t>(tiles) - 1) / static_cast<std::size_t>(tiles);
    for (int i = 0, q = 0; i < tiles; ++i) {
      const std::size_t first_line = static_cast<std::size_t>(i) * per_tile;
      for (std::size_t l = first_line; l < std::min(next_lines, first_line + per_tile); ++l)
        _mm_prefetch(next + 64 * l, _MM_HINT_T1);
      const int np = pairs / tiles + (i < pairs % tiles ? 1 : 0);
      kTiles[static_cast<std::size_t>(np - 1)](
          out + static_cast<std::size_t>(2 * q) * static_cast<std::size_t>(ldo) + r, ldo,
          xp + static_cast<std::size_t>(q) * pair_floats, blocks,
          W + static_cast<std::size_t>(r) * static_cast<std::size_t>(K), K, nr, T - 2 * q, bias ? bias + r : nullptr);
      q += np;
    }
  }
}

// f16 rows widened to float32 (exactly: every half is a float), then the float32 tiles: a
// batch reuses each row for every input, so the widening is paid once per row. The AVX2
// table does the same with its own tiles (reduced_avx2.cpp), in the same summation order.
// Until 2026-12-03 the AVX-512 table used that AVX2 path, and an f16 prefill ran at about
// half the float32 one's speed.
TG_AVX512 void widen_rows(float* dst, const std::uint16_t* src, std::size_t n) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
  if (i < n) {
    alignas(32) std::uint16_t part[16] = {};
    std::memcpy(part, src + i, (n - i) * 2);
    alignas(64) float wide[16];
    _mm512_store_ps(wide, _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(part))));
    std::memcpy(dst + i, wide, (n - i) * 4);
  }
}

void linear_rows_f16_packed(float* out, int ldo, const std::vector<float>& packed, int T, const Matrix& w,
                            const float* bias, int r0, int r1) {
  const auto* W = reinterpret_cast<const std::uint16_t*>(w.packed.data());
  const int K = w.cols;
  // 48 rows (whole 6-row tiles) at a time: at most 48 x K floats, in L2.
  constexpr int kBlock = 48;
  static_assert(kBlock % kRows == 0, "a block of widened rows is whole tiles");
  std::vector<float> block(static_cast<std::size_t>(std::min(kBlock, r1 - r0)) * static_cast<std::size_t>(K));
  for (int r = r0; r < r1; r += kBlock) {
    const int n = std::min(kBlock, r1 - r);
    const std::size_t size = static_cast<std::size_t>(n) * static_cast<std::size_t>(K);
    widen_rows(block.data(), W + static_cast<std::size_t>(r) * static_cast<std::size_t>(K), size);
    const Matrix part(n, K, std::span<const float>(block.data(), size));
    linear_rows_packed(out + r, ldo, packed, T, part, bias ? bias + r : nullptr, 0, n);
  }
}

void linear_rows(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0, int r1) {
  if (T == 1) {
    avx2::decode_rows(out, x, w, bias, r0, r1);
    return;
  }
  std::vector<float> packed;
  pack_batch(packed, x, T, w.cols);
  linear_rows_packed(out, ldo, packed, T, w, bias, r0, r1);
}

}  // namespace tinygpt::kernels::avx512

#endif
