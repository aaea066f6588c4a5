// The float32 product for a batch through an in_out matrix ([in][out], a Conv1D weight used
// in place from a checkpoint) with AVX-512: the AVX2 kernel's method (kernels_avx2.cpp) in
// registers twice as wide and twice as many. Each output is still one chain of fused
// multiply-adds over the inputs in order, then the bias, so the results are the AVX2
// kernel's bit for bit (the kernel tests check both against that chain). One input
// (decoding) is bound by memory and stays on the AVX2 kernel.
// What it bought (GPT-2 124M-shaped checkpoint, 128-token prefill, one thread, 5 rounds
// alternating, docs/performance.md): 349 against 257 tokens/s for the AVX2 kernel, 1.36x.
#include "implementations.h"

#if defined(__x86_64__)

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsics pass an "undefined" register as the unused masked source, and
// its flow analysis then reports it as maybe uninitialised (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>

#define TG_AVX512 __attribute__((target("avx2,fma,avx512f")))

namespace tinygpt::kernels::avx512 {
namespace {

constexpr int kPanelR = 48;   // outputs per panel: three 16-lane vectors
constexpr int kPanelK = 128;  // inputs per panel: 128 x 48 floats = 24 KiB, stays in L1
constexpr int kTileT = 8;     // inputs (tokens) per tile: 8 x 3 accumulators of the 32 zmm

// Lanes [0, n) of a 16-lane vector, n clamped to 0..16.
TG_AVX512 inline __mmask16 first_lanes(int n) {
  n = std::clamp(n, 0, 16);
  return static_cast<__mmask16>((1u << n) - 1u);
}

// panel[c][0..48) = w[c][0..nr), zeros after, for c < kc; rows of w are R floats apart. A
// masked load reads nothing past the row's nr floats. (A software prefetch of the next
// panel's lines, and walking the inputs in the outer loop instead, measured no gain.)
TG_AVX512 void pack_panel(float* panel, const float* w, std::size_t R, int kc, int nr) {
  const __mmask16 m0 = first_lanes(nr), m1 = first_lanes(nr - 16), m2 = first_lanes(nr - 32);
  for (int c = 0; c < kc; ++c) {
    const float* src = w + static_cast<std::size_t>(c) * R;
    float* dst = panel + c * kPanelR;
    _mm512_store_ps(dst, _mm512_maskz_loadu_ps(m0, src));
    _mm512_store_ps(dst + 16, _mm512_maskz_loadu_ps(m1, src + 16));
    _mm512_store_ps(dst + 32, _mm512_maskz_loadu_ps(m2, src + 32));
  }
}

// MT inputs (rows of x, ldx apart) by the panel's nr <= 48 outputs over its kc inputs: the
// sums start at 0 (`first`) or continue from `out`; `bias`, on the last panel of inputs, is
// added at the end. Only the nr lanes are read and written (masked, which costs nothing
// extra with AVX-512).
template <int MT>
TG_AVX512 void tile(float* out, int ldo, const float* x, std::size_t ldx, const float* panel, int kc, int nr,
                    bool first, const float* bias) {
  const __mmask16 m[3] = {first_lanes(nr), first_lanes(nr - 16), first_lanes(nr - 32)};
  __m512 acc[MT][3];
#pragma GCC unroll 8
  for (int t = 0; t < MT; ++t)
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v)
      acc[t][v] =
          first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m[v], out + static_cast<std::size_t>(t) * ldo + 16 * v);
  for (int c = 0; c < kc; ++c) {
    const float* p = panel + c * kPanelR;
    const __m512 w0 = _mm512_load_ps(p), w1 = _mm512_load_ps(p + 16), w2 = _mm512_load_ps(p + 32);
#pragma GCC unroll 8
    for (int t = 0; t < MT; ++t) {
      const __m512 xv = _mm512_set1_ps(x[static_cast<std::size_t>(t) * ldx + c]);
      acc[t][0] = _mm512_fmadd_ps(xv, w0, acc[t][0]);
      acc[t][1] = _mm512_fmadd_ps(xv, w1, acc[t][1]);
      acc[t][2] = _mm512_fmadd_ps(xv, w2, acc[t][2]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < MT; ++t)
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) {
      __m512 s = acc[t][v];
      if (bias) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m[v], bias + 16 * v));
      _mm512_mask_storeu_ps(out + static_cast<std::size_t>(t) * ldo + 16 * v, m[v], s);
    }
}

using TileFn = void (*)(float*, int, const float*, std::size_t, const float*, int, int, bool, const float*);

// kTiles[mt - 1] = tile<mt>
const std::array<TileFn, kTileT> kTiles = {&tile<1>, &tile<2>, &tile<3>, &tile<4>,
                                           &tile<5>, &tile<6>, &tile<7>, &tile<8>};

}  // namespace

void linear_rows_in_out(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0,
                        int r1) {
  if (T == 1) {
    avx2::decode_in_out(out, x, w, bias, r0, r1);
    return;
  }
  const int K = w.cols;
  const auto R = static_cast<std::size_t>(w.rows);
  const float* W = w.data.data();
  alignas(64) float panel[kPanelK * kPanelR];
  for (int r = r0; r < r1; r += kPanelR) {
    const int nr = std::min(kPanelR, r1 - r);
    for (int c0 = 0; c0 < K; c0 += kPanelK) {
      const int kc = std::min(kPanelK, K - c0);
      pack_panel(panel, W + static_cast<std::size_t>(c0) * R + r, R, kc, nr);
      const float* b = bias && c0 + kc == K ? bias + r : nullptr;
      for (int t = 0; t < T; t += kTileT) {
        const int mt = std::min(kTileT, T - t);
        kTiles[static_cast<std::size_t>(mt - 1)](out + static_cast<std::size_t>(t) * ldo + r, ldo,
                                                 x + static_cast<std::size_t>(t) * K + c0, static_cast<std::size_t>(K),
                                                 panel, kc, nr, c0 == 0, b);
      }
    }
  }
}

}  // namespace tinygpt::kernels::avx512

#else  // not x86-64: the AVX-512 table does not exist (reduced_avx512.cpp)

#endif
