// Softmax and GPT-2's gelu with AVX-512: the AVX2 kernels' arithmetic (kernels_avx2.cpp) on 16
// lanes instead of 8. Every lane runs the same instructions on the same value as an AVX2
// lane would (the same clamp, range reduction, polynomial and exponent bits for e^x), and the
// softmax's sum is still accumulated 8 lanes wide in the AVX2 order, each zmm of exponentials
// added as its low half then its high half; so both give the AVX2 kernels' bits (the kernel
// tests compare them), in about half the instructions.
#include "implementations.h"

#if defined(__x86_64__)

#include "pairs_avx512.h"  // first: its pragmas cover <immintrin.h>

#include <cmath>

#include "avx2_helpers.h"

namespace tinygpt::kernels::avx512 {
namespace {

// kernels_avx2.cpp's exp8 on 16 lanes: e^x for x in about [-87, 88], clamped outside; a NaN
// stays NaN (x is max's and min's second operand).
TG_AVX512 inline __m512 exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(88.0f), _mm512_max_ps(_mm512_set1_ps(-87.0f), x));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

// kernels_avx2.cpp's gelu_tanh8 on 16 lanes: v / (1 + e^(-2u)), u = sqrt(2/pi) (v + 0.044715 v^3).
TG_AVX512 inline __m512 gelu_tanh16(__m512 v) {
  const __m512 v3 = _mm512_mul_ps(_mm512_mul_ps(v, v), v);
  const __m512 u =
      _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), v3, v));
  const __m512 e = exp16(_mm512_mul_ps(_mm512_set1_ps(-2.0f), u));
  return _mm512_div_ps(v, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

TG_AVX512 inline __mmask16 first_lanes16(int n) { return static_cast<__mmask16>((1u << n) - 1u); }

TG_AVX512 void gelu_tanh(float* x, int n) {
  int i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, gelu_tanh16(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = first_lanes16(n - i);
    _mm512_mask_storeu_ps(x + i, m, gelu_tanh16(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

}  // namespace

TG_AVX512 void softmax(float* x, int n) {
  // The largest value: any order gives the same one.
  __m512 mv = _mm512_set1_ps(-INFINITY);
  int i = 0;
  for (; i + 16 <= n; i += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(x + i));
  if (i < n) mv = _mm512_max_ps(mv, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), first_lanes16(n - i), x + i));
  const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mv));
  // e^(x - max), summed as AVX2 does: 8 lanes, block after block, the ragged block's lanes
  // past n as zeros.
  __m256 sum = _mm256_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), m));
    _mm512_storeu_ps(x + i, e);
    sum = _mm256_add_ps(sum, _mm512_castps512_ps256(e));
    sum = _mm256_add_ps(sum, upper_half(e));
  }
  if (i < n) {
    const int left = n - i;  // 1 .. 15: one or two 8-lane blocks, the last one ragged
    const __mmask16 k = first_lanes16(left);
    const __m512 e = _mm512_maskz_mov_ps(k, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), m)));
    _mm512_mask_storeu_ps(x + i, k, e);
    sum = _mm256_add_ps(sum, _mm512_castps512_ps256(e));
    if (left > 8) sum = _mm256_add_ps(sum, upper_half(e));
  }
  const __m256 z = _mm256_setzero_ps();
  const __m512 inv = _mm512_set1_ps(1.0f / _mm_cvtss_f32(avx2::reduce4(sum, z, z, z)));
  for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
  if (i < n) {
    const __mmask16 k = first_lanes16(n - i);
    _mm512_mask_storeu_ps(x + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), inv));
  }
}

void activate(Activation a, float* x, int n) {
  if (a == Activation::gelu_tanh) gelu_tanh(x, n);
  else avx2_ops()->activate(a, x, n);  // relu is bound by memory; the exact gelu is scalar erf
}

}  // namespace tinygpt::kernels::avx512

#endif
