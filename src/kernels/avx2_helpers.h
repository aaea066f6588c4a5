#pragma once
// Small AVX2 helpers the AVX2 kernel files share (kernels_avx2.cpp, reduced_avx2.cpp), and
// the AVX-512 ones that must give the AVX2 kernels' bits.
// Each carries the target attribute (see kernels_avx2.cpp for why not -mavx2). x86-64 only.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#define TG_AVX2 __attribute__((target("avx2,fma")))

namespace tinygpt::kernels::avx2 {

// Decoding reads each weight once, front to back: a row of the matrix at a time. The
// hardware prefetcher follows that stream, but on a host whose memory answers slowly it
// stays too close behind; fetching the line kDecodePrefetch bytes ahead into L1 as well
// made q8_0 decoding on CFG-M 1.34x faster (2026-12-03, one thread, against no prefetch in
// the same rounds; 1 KiB ahead: 1.10x, 2 KiB: 1.28x, 8 KiB: 1.26x). Lines past the matrix's
// `size` bytes are not fetched.
constexpr std::size_t kDecodePrefetch = 4096;
inline void prefetch_ahead(const void* matrix, std::size_t at, std::size_t size) {
  if (at + kDecodePrefetch < size) _mm_prefetch(static_cast<const char*>(matrix) + at + kDecodePrefetch, _MM_HINT_T0);
}

// A mask with lanes [0, n) set, n in 0..8, for maskload/maskstore.
TG_AVX2 inline __m256i first_lanes(int n) {
  alignas(32) static const std::int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bits + 8 - n));
}

// The four horizontal sums [sum a, sum b, sum c, sum d], each as ((a0+a1)+(a2+a3)) +
// ((a4+a5)+(a6+a7)) whichever slot it is in and whatever the other arguments are.
TG_AVX2 inline __m128 reduce4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 ab = _mm256_hadd_ps(a, b);  // a01 a23 b01 b23 | a45 a67 b45 b67
  const __m256 cd = _mm256_hadd_ps(c, d);
  const __m256 abcd = _mm256_hadd_ps(ab, cd);  // a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

// a[0] + a[1] + a[2] + a[3]
TG_AVX2 inline double hsum(__m256d a) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

// v, through an empty asm the compiler cannot see through: a multiply passed through it is
// never fused with the following add into one FMA (GCC fuses them in functions built for
// FMA, never in the portable code, built for any x86-64).
template <class V>
TG_AVX2 inline V opaque(V v) {
  asm("" : "+x"(v));
  return v;
}

// Stores n <= 4 sums (+ bias) to out[0..n).
TG_AVX2 inline void store_sums(float* out, __m128 s, const float* bias, int n) {
  if (n == 4) {
    if (bias) s = _mm_add_ps(s, _mm_loadu_ps(bias));
    _mm_storeu_ps(out, s);
    return;
  }
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, s);
  for (int i = 0; i < n; ++i) out[i] = bias ? lanes[i] + bias[i] : lanes[i];
}

}  // namespace tinygpt::kernels::avx2
