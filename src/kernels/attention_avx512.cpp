// Attention for 2 or 4 consecutive queries of one head at once (a prefill's queries t, t + 1,
// ...), with AVX-512, giving exactly what AVX2 attend_head calls give (kernels_avx2.cpp).
//
// The AVX2 kernel computes each score as 8 lanes, lane j summing q[d] k[d] over d = j, j + 8,
// ... in order (one fused multiply-add each), then the tree ((l0+l1)+(l2+l3)) +
// ((l4+l5)+(l6+l7)), then times the scale; and each output lane d of the weighted sum as
// sum over keys i of p[i] v_i[d], key i going to partial sum i mod S (S = 2 for heads of at
// most 32, else 1), the partial sums added at the end. Here a zmm register holds two
// queries' 8 lanes side by side: the queries packed as [q0[d..d+8), q1[d..d+8)], each key's
// (and value's) block broadcast to both halves straight from the cache. Query i sees one key
// more than query i - 1; a key that only some see is added to their halves alone (masked
// FMAs). Every lane meets the same products in the same order as in the AVX2 kernel, so the
// bits are the same, for half the instructions: one zmm FMA where AVX2 needs one ymm FMA per
// query. Four queries (two such registers) load each key and value block once for both:
// prefill CFG-S 1.027x against pairs (12 of 12 A/Bs, Zen 5, 2026-12-04), where the loads
// had been as many as the FMAs.
#include "implementations.h"

#if defined(__x86_64__)

#include "pairs_avx512.h"  // first: its pragmas cover <immintrin.h>

#include <cstddef>

namespace tinygpt::kernels::avx512 {
namespace {

constexpr __mmask16 kFirst = 0x00FF, kSecond = 0xFF00;  // each query's half of a register

// Scores of keys [j, j + NK) (NK = 1, 4 or 8) for P pairs of queries, the head NV blocks of 8:
// each key's block loaded once for all of them.
template <int NV, int NK, int P>
TG_AVX512 inline void score_keys(const __m512 (&qp)[P][NV], const float* keys, std::size_t ld, int j, __m128 sc,
                                 float* s, std::size_t ss) {
  constexpr int NA = NK < 4 ? 4 : NK;
  __m512 a[P][NA];
#pragma GCC unroll 2
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int k = 0; k < NA; ++k) a[p][k] = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int u = 0; u < NV; ++u)
#pragma GCC unroll 8
    for (int k = 0; k < NK; ++k) {
      const __m512 kv = both_halves(keys + static_cast<std::size_t>(j + k) * ld + 8 * u);
#pragma GCC unroll 2
      for (int p = 0; p < P; ++p) a[p][k] = _mm512_fmadd_ps(qp[p][u], kv, a[p][k]);
    }
#pragma GCC unroll 2
  for (int p = 0; p < P; ++p) {
    float* s0 = s + 2 * static_cast<std::size_t>(p) * ss;
    float* s1 = s0 + ss;
    if constexpr (NK == 8) {
      const __m512 r = _mm512_mul_ps(reduce_pairs8(a[p]), _mm512_broadcast_f32x4(sc));
      _mm256_storeu_ps(s0 + j, _mm512_castps512_ps256(r));
      _mm256_storeu_ps(s1 + j, upper_half(r));
    } else {
      __m128 first, second;  // NK = 1 or 4: a's first four (zero past NK)
      reduce_pairs4(a[p][0], a[p][1], a[p][2], a[p][3], first, second);
      first = _mm_mul_ps(first, sc);
      second = _mm_mul_ps(second, sc);
      if constexpr (NK == 1) {
        s0[j] = _mm_cvtss_f32(first);
        s1[j] = _mm_cvtss_f32(second);
      } else {
        _mm_storeu_ps(s0 + j, first);
        _mm_storeu_ps(s1 + j, second);
      }
    }
  }
}

// 2 P consecutive queries (query i at q + i qs, seeing keys [0, n + i)), in P registers of
// pairs. Outputs at out + i os, scores at s + i ss.
template <int NV, int P>
TG_AVX512 void attend_group(float* out, std::size_t os, const float* q, std::size_t qs, const float* keys,
                            const float* values, std::size_t ld, int n, float scale, float* s, std::size_t ss) {
  __m512 qp[P][NV];
#pragma GCC unroll 2
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int u = 0; u < NV; ++u) {
      const float* q0 = q + 2 * static_cast<std::size_t>(p) * qs + 8 * u;
      qp[p][u] = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(q0))),
                                                     _mm256_castps_pd(_mm256_loadu_ps(q0 + qs)), 1));
    }
  const __m128 sc = _mm_set1_ps(scale);
  // Keys 0 .. n + 2P - 2 for all; key n + e counts for queries e + 1 .. 2P - 1 only (the
  // others' scores for it, computed along, land in their scratch places past their keys).
  const int last = n + 2 * P - 1;  // keys [0, last)
  int j = 0;
  for (; j + 8 <= last; j += 8) score_keys<NV, 8, P>(qp, keys, ld, j, sc, s, ss);
  for (; j + 4 <= last; j += 4) score_keys<NV, 4, P>(qp, keys, ld, j, sc, s, ss);
  for (; j < last; ++j) score_keys<NV, 1, P>(qp, keys, ld, j, sc, s, ss);

  for (int i = 0; i < 2 * P; ++i) softmax(s + static_cast<std::size_t>(i) * ss, n + i);

  constexpr int S = NV <= 4 ? 2 : 1;  // as the AVX2 weighted_rows: key i into partial sum i mod S
  __m512 acc[P][S][NV];
#pragma GCC unroll 2
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 2
    for (int t = 0; t < S; ++t)
#pragma GCC unroll 8
      for (int u = 0; u < NV; ++u) acc[p][t][u] = _mm512_setzero_ps();
  // Key i into partial sum T of every pair, in the lanes of `mask[p]` (its queries that see
  // it). Constant indices into acc throughout (an index computed per key kept acc in memory).
  auto add_key = [&]<int T>(int i, const __mmask16(&mask)[P]) TG_AVX512 {
    __m512 pv[P];
#pragma GCC unroll 2
    for (int p = 0; p < P; ++p) {
      const float* p0 = s + 2 * static_cast<std::size_t>(p) * ss + i;
      pv[p] = _mm512_mask_broadcastss_ps(_mm512_set1_ps(*p0), kSecond, _mm_load_ss(p0 + ss));
    }
    const float* row = values + static_cast<std::size_t>(i) * ld;
#pragma GCC unroll 8
    for (int u = 0; u < NV; ++u) {
      const __m512 v = both_halves(row + 8 * u);
#pragma GCC unroll 2
      for (int p = 0; p < P; ++p) acc[p][T][u] = _mm512_mask3_fmadd_ps(pv[p], v, acc[p][T][u], mask[p]);
    }
  };
  __mmask16 all[P];
  for (int p = 0; p < P; ++p) all[p] = 0xFFFF;
  int i = 0;
  for (; i + S <= n; i += S) {
    add_key.template operator()<0>(i, all);
    if constexpr (S == 2) add_key.template operator()<S - 1>(i + 1, all);
  }
  if (i < n) add_key.template operator()<0>(i, all);  // an odd count's last key: even, so partial sum 0
  // Keys n + e, e = 0 .. 2P - 2: for query k when k > e; partial sum (n + e) mod S.
  for (int e = 0; e < 2 * P - 1; ++e) {
    __mmask16 m[P];
    for (int p = 0; p < P; ++p) m[p] = static_cast<__mmask16>((2 * p > e ? kFirst : 0) | (2 * p + 1 > e ? kSecond : 0));
    if (S == 2 && ((n + e) & 1)) add_key.template operator()<S - 1>(n + e, m);
    else add_key.template operator()<0>(n + e, m);
  }
#pragma GCC unroll 2
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int u = 0; u < NV; ++u) {
      const __m512 sum = S == 2 ? _mm512_add_ps(acc[p][0][u], acc[p][S - 1][u]) : acc[p][0][u];
      float* o = out + 2 * static_cast<std::size_t>(p) * os + 8 * u;
      _mm256_storeu_ps(o, _mm512_castps512_ps256(sum));
      _mm256_storeu_ps(o + os, upper_half(sum));
    }
}

}  // namespace

void attend_head_group(float* out, std::size_t out_stride, const float* q, std::size_t q_stride, const float* keys,
                       const float* values, int kv_stride, int n_keys, int head_dim, float scale, float* scores,
                       std::size_t scores_stride, int count) {
  using GroupFn = void (*)(float*, std::size_t, const float*, std::size_t, const float*, const float*, std::size_t, int,
                           float, float*, std::size_t);
  // kPair[head_dim / 8 - 1] = attend_group<head_dim / 8, 1>, heads of 8 to 64 lanes; kQuad
  // the same for 4 queries, heads of at most 32 lanes (wider ones would not keep their
  // accumulators in the 32 registers: they go as two pairs).
  static constexpr GroupFn kPair[] = {&attend_group<1, 1>, &attend_group<2, 1>, &attend_group<3, 1>,
                                      &attend_group<4, 1>, &attend_group<5, 1>, &attend_group<6, 1>,
                                      &attend_group<7, 1>, &attend_group<8, 1>};
  static constexpr GroupFn kQuad[] = {&attend_group<1, 2>, &attend_group<2, 2>, &attend_group<3, 2>,
                                      &attend_group<4, 2>};
  const auto ld = static_cast<std::size_t>(kv_stride);
  if (head_dim % 8 == 0 && head_dim >= 8 && head_dim <= 64) {
    if (count == 4 && head_dim <= 32) {
      kQuad[head_dim / 8 - 1](out, out_stride, q, q_stride, keys, values, ld, n_keys, scale, scores, scores_stride);
      return;
    }
    for (int i = 0; i < count; i += 2)
      kPair[head_dim / 8 - 1](out + i * out_stride, out_stride, q + i * q_stride, q_stride, keys, values, ld,
                              n_keys + i, scale, scores + i * scores_stride, scores_stride);
    return;
  }
  // Any other head: one query at a time.
  const auto one = avx2_ops()->attend_head;
  for (int i = 0; i < count; ++i)
    one(out + i * out_stride, q + i * q_stride, keys, values, kv_stride, n_keys + i, head_dim, scale,
        scores + i * scores_stride);
}

}  // namespace tinygpt::kernels::avx512

#endif
