// Attention for two consecutive queries of one head at once (a prefill's queries t and t + 1),
// with AVX-512, giving exactly what two calls of the AVX2 attend_head give (kernels_avx2.cpp).
//
// The AVX2 kernel computes each score as 8 lanes, lane j summing q[d] k[d] over d = j, j + 8,
// ... in order (one fused multiply-add each), then the tree ((l0+l1)+(l2+l3)) +
// ((l4+l5)+(l6+l7)), then times the scale; and each output lane d of the weighted sum as
// sum over keys i of p[i] v_i[d], key i going to partial sum i mod S (S = 2 for heads of at
// most 32, else 1), the partial sums added at the end. Here a zmm register holds the two
// queries' 8 lanes side by side: the queries packed as [q0[d..d+8), q1[d..d+8)], each key's
// (and value's) block broadcast to both halves straight from the cache. Both queries see keys
// 0 .. n-1; the second also key n, added to its half alone (a masked FMA). Every lane meets
// the same products in the same order as in the AVX2 kernel, so the bits are the same, for
// half the instructions: one zmm FMA where AVX2 needs one ymm FMA per query.
#include "implementations.h"

#if defined(__x86_64__)

#include "pairs_avx512.h"  // first: its pragmas cover <immintrin.h>

#include <cstddef>

namespace tinygpt::kernels::avx512 {
namespace {

constexpr __mmask16 kSecond = 0xFF00;  // the second query's half of a register

// Scores of keys [j, j + NK) for both queries (NK = 1, 4 or 8), the head NV blocks of 8.
template <int NV, int NK>
TG_AVX512 inline void score_keys(const __m512 (&qp)[NV], const float* keys, std::size_t ld, int j, __m128 sc, float* s0,
                                 float* s1) {
  __m512 a[NK < 4 ? 4 : NK];
#pragma GCC unroll 8
  for (int k = 0; k < (NK < 4 ? 4 : NK); ++k) a[k] = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int u = 0; u < NV; ++u)
#pragma GCC unroll 8
    for (int k = 0; k < NK; ++k)
      a[k] = _mm512_fmadd_ps(qp[u], both_halves(keys + static_cast<std::size_t>(j + k) * ld + 8 * u), a[k]);
  if constexpr (NK == 8) {
    const __m512 s = _mm512_mul_ps(reduce_pairs8(a), _mm512_broadcast_f32x4(sc));
    _mm256_storeu_ps(s0 + j, _mm512_castps512_ps256(s));
    _mm256_storeu_ps(s1 + j, upper_half(s));
    return;
  }
  __m128 first, second;  // NK = 1 or 4: a's first four (zero past NK)
  reduce_pairs4(a[0], a[1], a[2], a[3], first, second);
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

template <int NV>
TG_AVX512 void attend_pair(float* out0, float* out1, const float* q0, const float* q1, const float* keys,
                           const float* values, std::size_t ld, int n, float scale, float* s0, float* s1) {
  __m512 qp[NV];
#pragma GCC unroll 8
  for (int u = 0; u < NV; ++u)
    qp[u] = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(q0 + 8 * u))),
                                                _mm256_castps_pd(_mm256_loadu_ps(q1 + 8 * u)), 1));
  const __m128 sc = _mm_set1_ps(scale);
  // Keys 0 .. n-1 for both, then key n, whose score counts for query 1 only (query 0's,
  // computed along, lands in s0[n], scratch by the contract).
  int j = 0;
  for (; j + 8 <= n; j += 8) score_keys<NV, 8>(qp, keys, ld, j, sc, s0, s1);
  for (; j + 4 <= n; j += 4) score_keys<NV, 4>(qp, keys, ld, j, sc, s0, s1);
  for (; j <= n; ++j) score_keys<NV, 1>(qp, keys, ld, j, sc, s0, s1);

  softmax(s0, n);
  softmax(s1, n + 1);

  constexpr int S = NV <= 4 ? 2 : 1;  // as the AVX2 weighted_rows: key i into partial sum i mod S
  __m512 acc[S][NV];
#pragma GCC unroll 2
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 8
    for (int u = 0; u < NV; ++u) acc[s][u] = _mm512_setzero_ps();
  // Constant indices into acc throughout (an index computed per key kept acc in memory).
  auto add_key = [&](__m512(&a)[NV], int i) TG_AVX512 {
    const __m512 pv = _mm512_mask_broadcastss_ps(_mm512_set1_ps(s0[i]), kSecond, _mm_load_ss(s1 + i));
    const float* row = values + static_cast<std::size_t>(i) * ld;
#pragma GCC unroll 8
    for (int u = 0; u < NV; ++u) a[u] = _mm512_fmadd_ps(pv, both_halves(row + 8 * u), a[u]);
  };
  int i = 0;
  for (; i + S <= n; i += S) {
    add_key(acc[0], i);
    if constexpr (S == 2) add_key(acc[S - 1], i + 1);
  }
  if (i < n) add_key(acc[0], i);  // an odd count's last key: even, so partial sum 0
  // Key n, query 1 only: partial sum n mod S.
  auto add_last = [&](__m512(&a)[NV]) TG_AVX512 {
    const __m512 pv = _mm512_set1_ps(s1[n]);
    const float* row = values + static_cast<std::size_t>(n) * ld;
#pragma GCC unroll 8
    for (int u = 0; u < NV; ++u) a[u] = _mm512_mask3_fmadd_ps(pv, both_halves(row + 8 * u), a[u], kSecond);
  };
  if (S == 2 && (n & 1)) add_last(acc[S - 1]);
  else add_last(acc[0]);
#pragma GCC unroll 8
  for (int u = 0; u < NV; ++u) {
    const __m512 sum = S == 2 ? _mm512_add_ps(acc[0][u], acc[S - 1][u]) : acc[0][u];
    _mm256_storeu_ps(out0 + 8 * u, _mm512_castps512_ps256(sum));
    _mm256_storeu_ps(out1 + 8 * u, upper_half(sum));
  }
}

}  // namespace

void attend_head_pair(float* out0, float* out1, const float* q0, const float* q1, const float* keys,
                      const float* values, int kv_stride, int n_keys, int head_dim, float scale, float* scores0,
                      float* scores1) {
  using PairFn = void (*)(float*, float*, const float*, const float*, const float*, const float*, std::size_t, int,
                          float, float*, float*);
  // kPair[head_dim / 8 - 1] = attend_pair<head_dim / 8>, heads of 8 to 64 lanes.
  static constexpr PairFn kPair[] = {&attend_pair<1>, &attend_pair<2>, &attend_pair<3>, &attend_pair<4>,
                                     &attend_pair<5>, &attend_pair<6>, &attend_pair<7>, &attend_pair<8>};
  if (head_dim % 8 == 0 && head_dim >= 8 && head_dim <= 64) {
    kPair[head_dim / 8 - 1](out0, out1, q0, q1, keys, values, static_cast<std::size_t>(kv_stride), n_keys, scale,
                            scores0, scores1);
    return;
  }
  // Any other head: one query at a time.
  const auto one = avx2_ops()->attend_head;
  one(out0, q0, keys, values, kv_stride, n_keys, head_dim, scale, scores0);
  one(out1, q1, keys, values, kv_stride, n_keys + 1, head_dim, scale, scores1);
}

}  // namespace tinygpt::kernels::avx512

#endif
