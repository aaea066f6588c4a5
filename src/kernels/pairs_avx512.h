#pragma once
// Two 8-lane AVX2 vectors side by side in one zmm register, for the AVX-512 kernels that
// must give the AVX2 kernels' bits (linear_avx512.cpp, attention_avx512.cpp): each half
// holds one AVX2 accumulator's 8 lanes, and the reduction below is AVX2's addition tree.
// Only for files whose callers have checked the CPU has AVX-512 F and VL. Include it before
// anything else that includes <immintrin.h>, for the pragmas to cover it.

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsics pass an "undefined" register as the unused masked source, and
// its flow analysis then reports it as (maybe) uninitialised (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#define TG_AVX512 __attribute__((target("avx2,fma,avx512f,avx512vl")))

namespace tinygpt::kernels::avx512 {

// x[0..8) in both 256-bit halves (AVX-512 F's 64-bit broadcast: the 32-bit one needs DQ).
// From memory this is a single load, with no shuffle.
TG_AVX512 inline __m512 both_halves(__m256 x) { return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(x))); }
TG_AVX512 inline __m512 both_halves(const float* a) { return both_halves(_mm256_loadu_ps(a)); }

// The upper 8 lanes (F's 64-bit extract: the 32-bit one needs DQ).
TG_AVX512 inline __m256 upper_half(__m512 x) {
  return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
}

// AVX2's _mm256_hadd_ps in each 128-bit quarter: [a0+a1, a2+a3, b0+b1, b2+b3].
TG_AVX512 inline __m512 pair_sums(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}

// Four registers, each [first's 8 lanes | second's 8 lanes] for one output (a row of a
// matrix, a key), reduced by the AVX2 tree ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)): hadd,
// hadd, then the two quarters of each half added, as kernels_avx2.cpp's reduce4 does.
// first = the four outputs of the first half, second = of the second.
TG_AVX512 inline void reduce_pairs4(__m512 a, __m512 b, __m512 c, __m512 d, __m128& first, __m128& second) {
  __m512 q = pair_sums(pair_sums(a, b), pair_sums(c, d));  // quarter j: lanes 4j..4j+3 of a, b, c, d
  q = _mm512_add_ps(q, _mm512_shuffle_f32x4(q, q, 0xB1));  // quarter 0: the first half's sums; quarter 2: the second's
  const __m128 lo = _mm512_castps512_ps128(q), hi = _mm512_extractf32x4_ps(q, 2);
  const __m128 ab = _mm_unpacklo_ps(lo, hi), cd = _mm_unpackhi_ps(lo, hi);  // [a0 a1 b0 b1], [c0 c1 d0 d1]
  first = _mm_shuffle_ps(ab, cd, 0x88);
  second = _mm_shuffle_ps(ab, cd, 0xDD);
}

// Eight registers, as reduce_pairs4's, reduced by the same tree into one register: [the
// first half's 8 sums | the second's], output i from a[i]. Fewer shuffles than two
// reduce_pairs4 (14 against 24), which matters at the end of every product tile.
TG_AVX512 inline __m512 reduce_pairs8(const __m512 (&a)[8]) {
  const __m512 p = pair_sums(pair_sums(a[0], a[1]), pair_sums(a[2], a[3]));  // quarter j: lanes 4j..4j+3 of a0-a3
  const __m512 q = pair_sums(pair_sums(a[4], a[5]), pair_sums(a[6], a[7]));  // the same for a4-a7
  // Quarters 0 and 1 hold the first half's lanes 0-3 and 4-7, quarters 2 and 3 the second's:
  // [p0 q0 p2 q2] + [p1 q1 p3 q3] adds the two halves of the tree in AVX2's last step.
  const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
  const __m512i hi = _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
  return _mm512_add_ps(_mm512_permutex2var_ps(p, lo, q), _mm512_permutex2var_ps(p, hi, q));
}

}  // namespace tinygpt::kernels::avx512
