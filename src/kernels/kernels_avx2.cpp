// The AVX2/FMA kernels (x86-64). Every function here carries a target attribute rather
// than the whole file being built with -mavx2: code the compiler instantiates from
// headers (std::min, ...) stays baseline x86-64, so no AVX2 instruction can leak into a
// path the dispatcher did not choose, and the binary runs on any x86-64.
//
// Ragged ends (sizes not a multiple of 8) go through masked loads and stores, never past
// the data. How rows are split among threads never changes a sum (see "Linear layers").
#include "implementations.h"

#if defined(__x86_64__)

#include "avx2_helpers.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace tinygpt::kernels::avx2 {
namespace {

// e^x for x in about [-87, 88] (clamped outside: softmax and the gelu only ever need
// that range). Range reduction x = n ln2 + r with |r| <= ln2/2, then the Taylor series
// of e^r to r^7 (truncation error below 1e-8) and 2^n built in the exponent bits.
// A NaN stays NaN, as std::exp's does: max and min return their second operand when
// either is NaN, so x goes second (first, a NaN attention score became e^-87, a weight of
// almost nothing, and a NaN weight in the model went unnoticed).
TG_AVX2 inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(88.0f), _mm256_max_ps(_mm256_set1_ps(-87.0f), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // ln 2 split in two so that n * ln2_hi is exact.
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 5040);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// ---- Linear layers ----
//
// Decoding (one input) is bound by reading the weights: each row is walked front to back
// with four accumulators, one sequential stream, which is what the hardware prefetcher
// serves fastest from DRAM, with a software prefetch 4 KiB ahead on top (prefetch_ahead).
// A batch (prefill) is bound by the FMAs: a tile of 4 inputs by 3 rows keeps twelve
// accumulators, and each loaded weight vector feeds four inputs.
// The two sum a row in different orders, so a token's logits from a batched prefill and
// from one-token decoding agree to rounding (about 1e-6), not bit for bit. Neither
// depends on how the rows are split among threads.

// One weight row: the four accumulators combined, still 8 lanes wide. The row starts at
// float `at` of a matrix of `size` floats (for the prefetch, which stays inside it).
TG_AVX2 inline __m256 row_sum(const float* x, const float* matrix, std::size_t at, std::size_t size, int K) {
  const float* w = matrix + at;
  const __m256 z = _mm256_setzero_ps();
  __m256 a[4] = {z, z, z, z};
  const int full = K / 8;
  int b = 0;
  for (; b + 4 <= full; b += 4) {
    const float* xb = x + b * 8;
    const float* wb = w + b * 8;
    const std::size_t bytes = (at + static_cast<std::size_t>(b) * 8) * sizeof(float);  // 128 per step
    prefetch_ahead(matrix, bytes, size * sizeof(float));
    prefetch_ahead(matrix, bytes + 64, size * sizeof(float));
    a[0] = _mm256_fmadd_ps(_mm256_loadu_ps(xb), _mm256_loadu_ps(wb), a[0]);
    a[1] = _mm256_fmadd_ps(_mm256_loadu_ps(xb + 8), _mm256_loadu_ps(wb + 8), a[1]);
    a[2] = _mm256_fmadd_ps(_mm256_loadu_ps(xb + 16), _mm256_loadu_ps(wb + 16), a[2]);
    a[3] = _mm256_fmadd_ps(_mm256_loadu_ps(xb + 24), _mm256_loadu_ps(wb + 24), a[3]);
  }
  for (; b < full; ++b) a[b & 3] = _mm256_fmadd_ps(_mm256_loadu_ps(x + b * 8), _mm256_loadu_ps(w + b * 8), a[b & 3]);
  if (full * 8 < K) {
    const __m256i m = first_lanes(K - full * 8);
    a[full & 3] =
        _mm256_fmadd_ps(_mm256_maskload_ps(x + full * 8, m), _mm256_maskload_ps(w + full * 8, m), a[full & 3]);
  }
  return _mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3]));
}

// Decoding: out[r] = bias[r] + x . w[r] for r in [r0, r1).
TG_AVX2 void gemv(float* out, const float* x, const float* w, int K, const float* bias, int r0, int r1) {
  const std::size_t ld = static_cast<std::size_t>(K);
  const __m256 z = _mm256_setzero_ps();
  int r = r0;
  const std::size_t size = static_cast<std::size_t>(r1) * ld;  // floats up to this call's last row
  for (; r + 4 <= r1; r += 4) {
    const __m256 s0 = row_sum(x, w, r * ld, size, K);
    const __m256 s1 = row_sum(x, w, (r + 1) * ld, size, K);
    const __m256 s2 = row_sum(x, w, (r + 2) * ld, size, K);
    const __m256 s3 = row_sum(x, w, (r + 3) * ld, size, K);
    store_sums(out + r, reduce4(s0, s1, s2, s3), bias ? bias + r : nullptr, 4);
  }
  for (; r < r1; ++r)
    store_sums(out + r, reduce4(row_sum(x, w, r * ld, size, K), z, z, z), bias ? bias + r : nullptr, 1);
}

// A batch: out[t][r] = bias[r] + x[t] . w[r] for MT inputs by NR rows, one 8-lane
// accumulator per output. 4x3: twelve accumulators, three weight vectors and one input
// vector fill the 16 ymm registers; 7 loads per 12 FMAs.
// `next`, when not null, is the next block of weight rows (NR * K floats), fetched into
// cache while this one computes: a batch is too short for the hardware prefetcher to
// learn each short run of rows, and the weights of a model come from L3 or DRAM.
template <int MT, int NR>
TG_AVX2 void tile(float* out, int ldo, const float* x, const float* w, int K, const float* bias, const float* next) {
  const std::size_t ld = static_cast<std::size_t>(K);
  __m256 acc[MT][NR];
#pragma GCC unroll 8
  for (int t = 0; t < MT; ++t)
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r) acc[t][r] = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= K; k += 8) {
    if (next) {  // NR * 8 floats of the next block per step: 1.5 cache lines for NR = 3
      _mm_prefetch(reinterpret_cast<const char*>(next + NR * k), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(next + NR * k + 16), _MM_HINT_T0);
    }
    __m256 wv[NR];
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r) wv[r] = _mm256_loadu_ps(w + r * ld + k);
#pragma GCC unroll 8
    for (int t = 0; t < MT; ++t) {
      const __m256 xv = _mm256_loadu_ps(x + t * ld + k);
#pragma GCC unroll 8
      for (int r = 0; r < NR; ++r) acc[t][r] = _mm256_fmadd_ps(xv, wv[r], acc[t][r]);
    }
  }
  if (k < K) {
    const __m256i m = first_lanes(K - k);
    __m256 wv[NR];
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r) wv[r] = _mm256_maskload_ps(w + r * ld + k, m);
#pragma GCC unroll 8
    for (int t = 0; t < MT; ++t) {
      const __m256 xv = _mm256_maskload_ps(x + t * ld + k, m);
#pragma GCC unroll 8
      for (int r = 0; r < NR; ++r) acc[t][r] = _mm256_fmadd_ps(xv, wv[r], acc[t][r]);
    }
  }
  const __m256 z = _mm256_setzero_ps();
#pragma GCC unroll 8
  for (int t = 0; t < MT; ++t) {
    __m256 s[4] = {z, z, z, z};
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r) s[r] = acc[t][r];
    store_sums(out + static_cast<std::size_t>(t) * ldo, reduce4(s[0], s[1], s[2], s[3]), bias, NR);
  }
}

using TileFn = void (*)(float*, int, const float*, const float*, int, const float*, const float*);

// kTiles[mt - 1][nr - 1] = tile<mt, nr>
const std::array<std::array<TileFn, 3>, 4> kTiles = {{{&tile<1, 1>, &tile<1, 2>, &tile<1, 3>},
                                                      {&tile<2, 1>, &tile<2, 2>, &tile<2, 3>},
                                                      {&tile<3, 1>, &tile<3, 2>, &tile<3, 3>},
                                                      {&tile<4, 1>, &tile<4, 2>, &tile<4, 3>}}};

void linear_rows(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0, int r1) {
  const int K = w.cols;
  const float* W = w.data.data();
  if (T == 1) {
    gemv(out, x, W, K, bias, r0, r1);
    return;
  }
  constexpr int MT = 4, NR = 3;
  // Inputs in blocks small enough to stay in L2 while each block of weight rows is reused.
  const int TT = std::max(MT, std::min(256, (64 * 1024 / std::max(K, 1)) / MT * MT));
  for (int t0 = 0; t0 < T; t0 += TT) {
    const int t1 = std::min(T, t0 + TT);
    for (int r = r0; r < r1; r += NR) {
      const int nr = std::min(NR, r1 - r);
      const float* next = r + NR < r1 ? W + static_cast<std::size_t>(r + NR) * K : nullptr;
      for (int t = t0; t < t1; t += MT) {
        const int mt = std::min(MT, t1 - t);
        kTiles[static_cast<std::size_t>(mt - 1)][static_cast<std::size_t>(nr - 1)](
            out + static_cast<std::size_t>(t) * ldo + r, ldo, x + static_cast<std::size_t>(t) * K,
            W + static_cast<std::size_t>(r) * K, K, bias ? bias + r : nullptr, t == t0 ? next : nullptr);
      }
    }
  }
}

// a[0..8), or only the lanes set in `m` (Masked)
template <bool Masked>
TG_AVX2 inline __m256 load8(__m256i m, const float* a) {
  if constexpr (Masked) return _mm256_maskload_ps(a, m);
  else return _mm256_loadu_ps(a);
}

// ---- Linear layers laid out in_out ([in][out]: a Conv1D weight used in place) ----
//
// Each output is one chain of FMAs over the inputs in order, then + bias (the contract in
// kernels.h), whether it is decoded alone or in a batch. Decoding streams the matrix front
// to back, four input rows at a time, with the outputs themselves (a few thousand floats,
// in L1) as the accumulators. A batch packs a panel of 24 outputs by up to 256 inputs into
// a contiguous buffer (the file's rows are thousands of floats apart) and runs tiles of 4
// inputs by 24 outputs over it; a tile's partial sums wait in `out` from one panel of
// inputs to the next, which continues the same chains.

constexpr int kPanelR = 24;   // outputs per panel: three 8-lane vectors
constexpr int kPanelK = 256;  // inputs per panel: 256 x 24 floats = 24 KiB, stays in L1

// Decoding: out[r] = bias[r] + x . w[:, r] for r in [r0, r1); row c of w starts at W + c * R.
TG_AVX2 void gemv_in_out(float* out, const float* x, const float* W, std::size_t R, int K, const float* bias, int r0,
                         int r1) {
  const int n = r1 - r0;
  const int full = n & ~7;
  const __m256i tail = first_lanes(n - full);
  float* o = out + r0;
  const float* w = W + r0;
  const __m256 z = _mm256_setzero_ps();
  for (int i = 0; i < full; i += 8) _mm256_storeu_ps(o + i, z);
  if (full < n) _mm256_maskstore_ps(o + full, tail, z);
  int c = 0;
  for (; c + 4 <= K; c += 4) {
    const __m256 x0 = _mm256_set1_ps(x[c]), x1 = _mm256_set1_ps(x[c + 1]), x2 = _mm256_set1_ps(x[c + 2]),
                 x3 = _mm256_set1_ps(x[c + 3]);
    const float* w0 = w + static_cast<std::size_t>(c) * R;
    const float* w1 = w0 + R;
    const float* w2 = w1 + R;
    const float* w3 = w2 + R;
    int i = 0;
    for (; i < full; i += 8) {
      __m256 a = _mm256_loadu_ps(o + i);
      a = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w0 + i), a);
      a = _mm256_fmadd_ps(x1, _mm256_loadu_ps(w1 + i), a);
      a = _mm256_fmadd_ps(x2, _mm256_loadu_ps(w2 + i), a);
      a = _mm256_fmadd_ps(x3, _mm256_loadu_ps(w3 + i), a);
      _mm256_storeu_ps(o + i, a);
    }
    if (i < n) {
      __m256 a = _mm256_maskload_ps(o + i, tail);
      a = _mm256_fmadd_ps(x0, _mm256_maskload_ps(w0 + i, tail), a);
      a = _mm256_fmadd_ps(x1, _mm256_maskload_ps(w1 + i, tail), a);
      a = _mm256_fmadd_ps(x2, _mm256_maskload_ps(w2 + i, tail), a);
      a = _mm256_fmadd_ps(x3, _mm256_maskload_ps(w3 + i, tail), a);
      _mm256_maskstore_ps(o + i, tail, a);
    }
  }
  for (; c < K; ++c) {
    const __m256 xc = _mm256_set1_ps(x[c]);
    const float* wc = w + static_cast<std::size_t>(c) * R;
    int i = 0;
    for (; i < full; i += 8)
      _mm256_storeu_ps(o + i, _mm256_fmadd_ps(xc, _mm256_loadu_ps(wc + i), _mm256_loadu_ps(o + i)));
    if (i < n)
      _mm256_maskstore_ps(o + i, tail,
                          _mm256_fmadd_ps(xc, _mm256_maskload_ps(wc + i, tail), _mm256_maskload_ps(o + i, tail)));
  }
  if (!bias) return;
  const float* b = bias + r0;
  int i = 0;
  for (; i < full; i += 8) _mm256_storeu_ps(o + i, _mm256_add_ps(_mm256_loadu_ps(o + i), _mm256_loadu_ps(b + i)));
  if (i < n)
    _mm256_maskstore_ps(o + i, tail, _mm256_add_ps(_mm256_maskload_ps(o + i, tail), _mm256_maskload_ps(b + i, tail)));
}

// panel[c][0..24) = w[c][0..nr), zeros after, for c < kc; rows of w are R floats apart.
TG_AVX2 void pack_panel(float* panel, const float* w, std::size_t R, int kc, int nr) {
  for (int c = 0; c < kc; ++c) {
    const float* src = w + static_cast<std::size_t>(c) * R;
    float* dst = panel + c * kPanelR;
    if (nr == kPanelR) {
      _mm256_store_ps(dst, _mm256_loadu_ps(src));
      _mm256_store_ps(dst + 8, _mm256_loadu_ps(src + 8));
      _mm256_store_ps(dst + 16, _mm256_loadu_ps(src + 16));
    } else {
      int i = 0;
      for (; i < nr; ++i) dst[i] = src[i];
      for (; i < kPanelR; ++i) dst[i] = 0.0f;
    }
  }
}

// MT inputs (rows of x, ldx apart) by the panel's nr <= 24 outputs, over its kc inputs:
// the sums start at 0 (`first`) or continue from `out`; `bias`, on the last panel of
// inputs, is added at the end. A full panel stores whole vectors; a ragged one only its
// nr lanes (masked stores are slow on some CPUs, so only the edge pays for them).
template <int MT, bool Full>
TG_AVX2 void tile_in_out(float* out, int ldo, const float* x, std::size_t ldx, const float* panel, int kc, int nr,
                         bool first, const float* bias) {
  __m256i m[3];
#pragma GCC unroll 3
  for (int v = 0; v < 3; ++v) m[v] = first_lanes(std::clamp(nr - 8 * v, 0, 8));
  __m256 acc[MT][3];
#pragma GCC unroll 4
  for (int t = 0; t < MT; ++t)
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v)
      acc[t][v] = first ? _mm256_setzero_ps() : load8<!Full>(m[v], out + static_cast<std::size_t>(t) * ldo + 8 * v);
  for (int c = 0; c < kc; ++c) {
    const float* p = panel + c * kPanelR;
    const __m256 w0 = _mm256_load_ps(p), w1 = _mm256_load_ps(p + 8), w2 = _mm256_load_ps(p + 16);
#pragma GCC unroll 4
    for (int t = 0; t < MT; ++t) {
      const __m256 xv = _mm256_broadcast_ss(x + static_cast<std::size_t>(t) * ldx + c);
      acc[t][0] = _mm256_fmadd_ps(xv, w0, acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(xv, w1, acc[t][1]);
      acc[t][2] = _mm256_fmadd_ps(xv, w2, acc[t][2]);
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < MT; ++t)
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) {
      __m256 s = acc[t][v];
      if (bias) s = _mm256_add_ps(s, load8<!Full>(m[v], bias + 8 * v));
      float* o = out + static_cast<std::size_t>(t) * ldo + 8 * v;
      if (Full) _mm256_storeu_ps(o, s);
      else _mm256_maskstore_ps(o, m[v], s);
    }
}

using InOutTileFn = void (*)(float*, int, const float*, std::size_t, const float*, int, int, bool, const float*);

// kInOutTiles[full][mt - 1] = tile_in_out<mt, full>
const std::array<std::array<InOutTileFn, 4>, 2> kInOutTiles = {
    {{&tile_in_out<1, false>, &tile_in_out<2, false>, &tile_in_out<3, false>, &tile_in_out<4, false>},
     {&tile_in_out<1, true>, &tile_in_out<2, true>, &tile_in_out<3, true>, &tile_in_out<4, true>}}};

void linear_rows_in_out(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0,
                        int r1) {
  const int K = w.cols;
  const auto R = static_cast<std::size_t>(w.rows);
  const float* W = w.data.data();
  if (T == 1) {
    gemv_in_out(out, x, W, R, K, bias, r0, r1);
    return;
  }
  constexpr int MT = 4;
  alignas(32) float panel[kPanelK * kPanelR];
  for (int r = r0; r < r1; r += kPanelR) {
    const int nr = std::min(kPanelR, r1 - r);
    for (int c0 = 0; c0 < K; c0 += kPanelK) {
      const int kc = std::min(kPanelK, K - c0);
      pack_panel(panel, W + static_cast<std::size_t>(c0) * R + r, R, kc, nr);
      const float* b = bias && c0 + kc == K ? bias + r : nullptr;
      for (int t = 0; t < T; t += MT) {
        const int mt = std::min(MT, T - t);
        kInOutTiles[nr == kPanelR][static_cast<std::size_t>(mt - 1)](
            out + static_cast<std::size_t>(t) * ldo + r, ldo, x + static_cast<std::size_t>(t) * K + c0,
            static_cast<std::size_t>(K), panel, kc, nr, c0 == 0, b);
      }
    }
  }
}

// ---- Element-wise steps ----

// The portable layer_norm's arithmetic (kernels.cpp): mean and variance in double, then
// float((x - mean) * inv) * weight + bias with a separate multiply and add, so only the order
// of the two double sums differs (and the variance's squares are fused into its sum). The
// portable loop adds one double at a time, a chain of dependent additions (a few cycles
// each) that took 3-5 % of a prefill. The AVX-512 table keeps these bits for several rows at
// once (layer_norm_avx512.cpp).
TG_AVX2 void layer_norm_row(float* out, const float* x, const float* weight, const float* bias, int n, float eps) {
  const int full = n & ~7;
  __m256d a = _mm256_setzero_pd(), b = _mm256_setzero_pd();
  for (int i = 0; i < full; i += 8) {
    a = _mm256_add_pd(a, _mm256_cvtps_pd(_mm_loadu_ps(x + i)));
    b = _mm256_add_pd(b, _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)));
  }
  double tail = 0;
  for (int i = full; i < n; ++i) tail += x[i];
  const double mean = (hsum(_mm256_add_pd(a, b)) + tail) / n;
  const __m256d m = _mm256_set1_pd(mean);
  a = _mm256_setzero_pd();
  b = _mm256_setzero_pd();
  for (int i = 0; i < full; i += 8) {
    const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), m);
    const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)), m);
    // Fused, as GCC contracted the multiply and add here before it was written out: so the
    // bits do not hang on what a compiler contracts.
    a = _mm256_fmadd_pd(d0, d0, a);
    b = _mm256_fmadd_pd(d1, d1, b);
  }
  tail = 0;
  for (int i = full; i < n; ++i) tail = std::fma(x[i] - mean, x[i] - mean, tail);
  const double var = (hsum(_mm256_add_pd(a, b)) + tail) / n;  // biased, as torch.nn.LayerNorm
  const double inv = 1.0 / std::sqrt(var + eps);
  const __m256d iv = _mm256_set1_pd(inv);
  for (int i = 0; i < full; i += 8) {
    const __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), m), iv));
    const __m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)), m), iv));
    const __m256 y = opaque(_mm256_mul_ps(_mm256_set_m128(hi, lo), _mm256_loadu_ps(weight + i)));
    _mm256_storeu_ps(out + i, _mm256_add_ps(y, _mm256_loadu_ps(bias + i)));
  }
  for (int i = full; i < n; ++i) out[i] = opaque(static_cast<float>((x[i] - mean) * inv) * weight[i]) + bias[i];
}

TG_AVX2 void layer_norm(float* out, const float* x, int rows, const float* weight, const float* bias, int n,
                        float eps) {
  for (int r = 0; r < rows; ++r) {
    const std::size_t at = static_cast<std::size_t>(r) * static_cast<std::size_t>(n);
    layer_norm_row(out + at, x + at, weight, bias, n, eps);
  }
}

TG_AVX2 void softmax(float* x, int n) {
  const int full = n & ~7;
  const __m256i tail = first_lanes(n - full);
  __m256 mv = _mm256_set1_ps(-INFINITY);
  for (int i = 0; i < full; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
  float max = -INFINITY;
  {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, mv);
    for (float v : lanes) max = std::max(max, v);
    for (int i = full; i < n; ++i) max = std::max(max, x[i]);
  }
  const __m256 m = _mm256_set1_ps(max);
  __m256 sum = _mm256_setzero_ps();
  for (int i = 0; i < full; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    _mm256_storeu_ps(x + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (full < n) {
    const __m256 e =
        _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_maskload_ps(x + full, tail), m)), _mm256_castsi256_ps(tail));
    _mm256_maskstore_ps(x + full, tail, e);
    sum = _mm256_add_ps(sum, e);
  }
  const __m128 s4 = reduce4(sum, _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps());
  const __m256 inv = _mm256_set1_ps(1.0f / _mm_cvtss_f32(s4));
  for (int i = 0; i < full; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  if (full < n) _mm256_maskstore_ps(x + full, tail, _mm256_mul_ps(_mm256_maskload_ps(x + full, tail), inv));
}

// GPT-2's gelu, 0.5 v (1 + tanh(u)) with u = sqrt(2/pi) (v + 0.044715 v^3), written as
// the identical v / (1 + e^(-2u)), which needs one exponential and no cancellation.
TG_AVX2 inline __m256 gelu_tanh8(__m256 v) {
  const __m256 v3 = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
  const __m256 u =
      _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f), _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), v3, v));
  const __m256 e = exp8(_mm256_mul_ps(_mm256_set1_ps(-2.0f), u));
  return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

TG_AVX2 void gelu_tanh(float* x, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu_tanh8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i m = first_lanes(n - i);
    _mm256_maskstore_ps(x + i, m, gelu_tanh8(_mm256_maskload_ps(x + i, m)));
  }
}

TG_AVX2 void relu(float* x, int n) {
  int i = 0;
  const __m256 z = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_max_ps(_mm256_loadu_ps(x + i), z));
  for (; i < n; ++i) x[i] = x[i] > 0 ? x[i] : 0.0f;
}

void activate(Activation a, float* x, int n) {
  switch (a) {
    case Activation::gelu_tanh:
      gelu_tanh(x, n);
      break;
    case Activation::gelu:
      kernels::gelu_erf(x, n);
      break;  // erf: the portable loop (no vector erf here)
    case Activation::relu:
      relu(x, n);
      break;
  }
}

// ---- Attention ----

// out[0..8) = sum_i p[i] * v[i * ld + 0..8), four keys in flight; Masked: only the
// lanes set in `m` are read and written.
template <bool Masked>
TG_AVX2 inline void weighted_sum(float* out, const float* v, std::size_t ld, const float* p, int n, __m256i m) {
  const __m256 z = _mm256_setzero_ps();
  __m256 a0 = z, a1 = z, a2 = z, a3 = z;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 = _mm256_fmadd_ps(_mm256_set1_ps(p[i]), load8<Masked>(m, v + i * ld), a0);
    a1 = _mm256_fmadd_ps(_mm256_set1_ps(p[i + 1]), load8<Masked>(m, v + (i + 1) * ld), a1);
    a2 = _mm256_fmadd_ps(_mm256_set1_ps(p[i + 2]), load8<Masked>(m, v + (i + 2) * ld), a2);
    a3 = _mm256_fmadd_ps(_mm256_set1_ps(p[i + 3]), load8<Masked>(m, v + (i + 3) * ld), a3);
  }
  for (; i < n; ++i) a0 = _mm256_fmadd_ps(_mm256_set1_ps(p[i]), load8<Masked>(m, v + i * ld), a0);
  const __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
  if (Masked) _mm256_maskstore_ps(out, m, s);
  else _mm256_storeu_ps(out, s);
}

// out[0..8 NV) = sum_i p[i] * v[i * ld + 0..8 NV) for a head of 8 NV lanes held in
// registers, walking each value row once; two keys in flight when the head is narrow.
template <int NV>
TG_AVX2 inline void weighted_rows(float* out, const float* v, std::size_t ld, const float* p, int n) {
  constexpr int S = NV <= 4 ? 2 : 1;
  __m256 acc[S][NV];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 8
    for (int u = 0; u < NV; ++u) acc[s][u] = _mm256_setzero_ps();
  int i = 0;
  for (; i + S <= n; i += S)
#pragma GCC unroll 2
    for (int s = 0; s < S; ++s) {
      const __m256 pv = _mm256_set1_ps(p[i + s]);
      const float* row = v + (i + s) * ld;
#pragma GCC unroll 8
      for (int u = 0; u < NV; ++u) acc[s][u] = _mm256_fmadd_ps(pv, _mm256_loadu_ps(row + 8 * u), acc[s][u]);
    }
  for (; i < n; ++i) {
    const __m256 pv = _mm256_set1_ps(p[i]);
#pragma GCC unroll 8
    for (int u = 0; u < NV; ++u) acc[0][u] = _mm256_fmadd_ps(pv, _mm256_loadu_ps(v + i * ld + 8 * u), acc[0][u]);
  }
#pragma GCC unroll 8
  for (int u = 0; u < NV; ++u)
    _mm256_storeu_ps(out + 8 * u, S == 2 ? _mm256_add_ps(acc[0][u], acc[S - 1][u]) : acc[0][u]);
}

// One head, one query. Scores four keys at a time (four independent FMA chains), then a
// vector softmax, then the weighted sum of values, eight lanes of the head at a time.
TG_AVX2 void attend_head(float* out, const float* q, const float* keys, const float* values, int kv_stride, int n_keys,
                         int head_dim, float scale, float* scores) {
  const std::size_t ld = static_cast<std::size_t>(kv_stride);
  const int full = head_dim & ~7;
  const __m256i tail = first_lanes(head_dim - full);
  const __m128 sc = _mm_set1_ps(scale);
  const __m256 z = _mm256_setzero_ps();
  int j = 0;
  for (; j + 8 <= n_keys && full == head_dim; j += 8) {  // eight chains keep both FMA units busy
    const float* k0 = keys + j * ld;
    __m256 a[8] = {z, z, z, z, z, z, z, z};
    for (int d = 0; d < full; d += 8) {
      const __m256 qv = _mm256_loadu_ps(q + d);
#pragma GCC unroll 8
      for (int u = 0; u < 8; ++u) a[u] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + u * ld + d), a[u]);
    }
    _mm_storeu_ps(scores + j, _mm_mul_ps(reduce4(a[0], a[1], a[2], a[3]), sc));
    _mm_storeu_ps(scores + j + 4, _mm_mul_ps(reduce4(a[4], a[5], a[6], a[7]), sc));
  }
  for (; j + 4 <= n_keys; j += 4) {
    const float* k0 = keys + j * ld;
    __m256 a0 = z, a1 = z, a2 = z, a3 = z;
    int d = 0;
    for (; d < full; d += 8) {
      const __m256 qv = _mm256_loadu_ps(q + d);
      a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + d), a0);
      a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + ld + d), a1);
      a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + 2 * ld + d), a2);
      a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + 3 * ld + d), a3);
    }
    if (d < head_dim) {
      const __m256 qv = _mm256_maskload_ps(q + d, tail);
      a0 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k0 + d, tail), a0);
      a1 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k0 + ld + d, tail), a1);
      a2 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k0 + 2 * ld + d, tail), a2);
      a3 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k0 + 3 * ld + d, tail), a3);
    }
    _mm_storeu_ps(scores + j, _mm_mul_ps(reduce4(a0, a1, a2, a3), sc));
  }
  for (; j < n_keys; ++j) {
    const float* k0 = keys + j * ld;
    __m256 a0 = z;
    int d = 0;
    for (; d < full; d += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(k0 + d), a0);
    if (d < head_dim) a0 = _mm256_fmadd_ps(_mm256_maskload_ps(q + d, tail), _mm256_maskload_ps(k0 + d, tail), a0);
    scores[j] = _mm_cvtss_f32(_mm_mul_ps(reduce4(a0, z, z, z), sc));
  }

  softmax(scores, n_keys);

  if (full == head_dim && head_dim <= 64) {
    switch (head_dim / 8) {
      case 1:
        return weighted_rows<1>(out, values, ld, scores, n_keys);
      case 2:
        return weighted_rows<2>(out, values, ld, scores, n_keys);
      case 3:
        return weighted_rows<3>(out, values, ld, scores, n_keys);
      case 4:
        return weighted_rows<4>(out, values, ld, scores, n_keys);
      case 5:
        return weighted_rows<5>(out, values, ld, scores, n_keys);
      case 6:
        return weighted_rows<6>(out, values, ld, scores, n_keys);
      case 7:
        return weighted_rows<7>(out, values, ld, scores, n_keys);
      default:
        return weighted_rows<8>(out, values, ld, scores, n_keys);
    }
  }
  for (int d = 0; d < full; d += 8) weighted_sum<false>(out + d, values + d, ld, scores, n_keys, tail);
  if (full < head_dim) weighted_sum<true>(out + full, values + full, ld, scores, n_keys, tail);
}

}  // namespace

void decode_rows(float* out, const float* x, const Matrix& w, const float* bias, int r0, int r1) {
  gemv(out, x, w.data.data(), w.cols, bias, r0, r1);
}

void decode_in_out(float* out, const float* x, const Matrix& w, const float* bias, int r0, int r1) {
  gemv_in_out(out, x, w.data.data(), static_cast<std::size_t>(w.rows), w.cols, bias, r0, r1);
}

// dst[c][r] = src[r][c] for a rows x cols matrix: 8x8 blocks transposed in registers,
// walked in 64x64 tiles so that both sides stay in cache; the ragged edges one by one.
TG_AVX2 void transpose(float* dst, const float* src, std::size_t rows, std::size_t cols) {
  constexpr std::size_t B = 64;
  const std::size_t rows8 = rows & ~std::size_t{7}, cols8 = cols & ~std::size_t{7};
  for (std::size_t r0 = 0; r0 < rows8; r0 += B)
    for (std::size_t c0 = 0; c0 < cols8; c0 += B) {
      const std::size_t r1 = std::min(rows8, r0 + B), c1 = std::min(cols8, c0 + B);
      for (std::size_t r = r0; r < r1; r += 8)
        for (std::size_t c = c0; c < c1; c += 8) {
          const float* s = src + r * cols + c;
          __m256 a0 = _mm256_loadu_ps(s), a1 = _mm256_loadu_ps(s + cols), a2 = _mm256_loadu_ps(s + 2 * cols),
                 a3 = _mm256_loadu_ps(s + 3 * cols), a4 = _mm256_loadu_ps(s + 4 * cols),
                 a5 = _mm256_loadu_ps(s + 5 * cols), a6 = _mm256_loadu_ps(s + 6 * cols),
                 a7 = _mm256_loadu_ps(s + 7 * cols);
          // Pairs, then quads, then the two 128-bit halves.
          const __m256 b0 = _mm256_unpacklo_ps(a0, a1), b1 = _mm256_unpackhi_ps(a0, a1);
          const __m256 b2 = _mm256_unpacklo_ps(a2, a3), b3 = _mm256_unpackhi_ps(a2, a3);
          const __m256 b4 = _mm256_unpacklo_ps(a4, a5), b5 = _mm256_unpackhi_ps(a4, a5);
          const __m256 b6 = _mm256_unpacklo_ps(a6, a7), b7 = _mm256_unpackhi_ps(a6, a7);
          const __m256 c0v = _mm256_shuffle_ps(b0, b2, 0x44), c1v = _mm256_shuffle_ps(b0, b2, 0xEE);
          const __m256 c2v = _mm256_shuffle_ps(b1, b3, 0x44), c3v = _mm256_shuffle_ps(b1, b3, 0xEE);
          const __m256 c4v = _mm256_shuffle_ps(b4, b6, 0x44), c5v = _mm256_shuffle_ps(b4, b6, 0xEE);
          const __m256 c6v = _mm256_shuffle_ps(b5, b7, 0x44), c7v = _mm256_shuffle_ps(b5, b7, 0xEE);
          float* d = dst + c * rows + r;
          _mm256_storeu_ps(d, _mm256_permute2f128_ps(c0v, c4v, 0x20));
          _mm256_storeu_ps(d + rows, _mm256_permute2f128_ps(c1v, c5v, 0x20));
          _mm256_storeu_ps(d + 2 * rows, _mm256_permute2f128_ps(c2v, c6v, 0x20));
          _mm256_storeu_ps(d + 3 * rows, _mm256_permute2f128_ps(c3v, c7v, 0x20));
          _mm256_storeu_ps(d + 4 * rows, _mm256_permute2f128_ps(c0v, c4v, 0x31));
          _mm256_storeu_ps(d + 5 * rows, _mm256_permute2f128_ps(c1v, c5v, 0x31));
          _mm256_storeu_ps(d + 6 * rows, _mm256_permute2f128_ps(c2v, c6v, 0x31));
          _mm256_storeu_ps(d + 7 * rows, _mm256_permute2f128_ps(c3v, c7v, 0x31));
        }
    }
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = (r < rows8 ? cols8 : 0); c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
}

}  // namespace tinygpt::kernels::avx2

namespace tinygpt::kernels {

const Ops* avx2_ops() {
  static const Ops table{.isa = Isa::avx2,
                         .linear_rows = avx2::linear_rows,
                         .linear_rows_in_out = avx2::linear_rows_in_out,
                         .linear_rows_f16 = avx2::linear_rows_f16,
                         .linear_rows_q8_0 = avx2::linear_rows_q8_0,
                         .layer_norm = avx2::layer_norm,
                         .softmax = avx2::softmax,
                         .activate = avx2::activate,
                         .attend_head = avx2::attend_head,
                         .attend_head_group = nullptr,
                         .pack_batch = nullptr,
                         .linear_rows_packed = nullptr,
                         .linear_rows_f16_packed = nullptr};
  return &table;
}

}  // namespace tinygpt::kernels

#else  // not x86-64: no AVX2 build

namespace tinygpt::kernels {
const Ops* avx2_ops() { return nullptr; }
namespace avx2 {
void transpose(float*, const float*, std::size_t, std::size_t) {}
}  // namespace avx2
}  // namespace tinygpt::kernels

#endif
