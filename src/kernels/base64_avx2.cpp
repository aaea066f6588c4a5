// Base64 decoding, 32 characters at a time with AVX2, for the weights loader's b64 tensors.
// The scalar decoder in the loader does the rest: the tail, padding, and finding and
// reporting the first bad character, so this only has to recognise a clean block.
#include "kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tinygpt::kernels {

#if defined(__x86_64__)
namespace {

// A character is in the alphabet unless kLo[low nibble] & kHi[high nibble] != 0. Each bit
// of kHi names a group of high nibbles; kLo marks, per low nibble, the groups for which it
// is not a letter, digit, '+' or '/'. Bytes >= 0x80 and control characters fall in group
// 0x10, which every low nibble rejects.
//   0x01: 0x2_ valid only for B '+' and F '/'     0x02: 0x3_ digits 0-9
//   0x04: 0x4_, 0x6_ letters from 1               0x08: 0x5_, 0x7_ letters up to A
__attribute__((target("avx2"))) inline __m256i lut16(const signed char (&t)[16]) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t));
  return _mm256_broadcastsi128_si256(x);
}

__attribute__((target("avx2"))) std::size_t decode_avx2(const char* in, std::size_t n, unsigned char* out) {
  static const signed char lo_bits[16] = {0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                          0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A};
  static const signed char hi_bits[16] = {0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
                                          0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10};
  // Added to a character to give its 6-bit value, by high nibble ('/' is patched apart).
  static const signed char shift[16] = {0, 0, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0};
  const __m256i lo_lut = lut16(lo_bits), hi_lut = lut16(hi_bits), shift_lut = lut16(shift);
  const __m256i nibble = _mm256_set1_epi8(0x0f), slash = _mm256_set1_epi8('/');
  // Within each 32-bit lane, bytes 2, 1, 0 of the packed 24-bit value are the output order.
  const __m256i pack = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,  //
                                        2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(v, 4), nibble);
    const __m256i lo = _mm256_and_si256(v, nibble);
    const __m256i bad = _mm256_and_si256(_mm256_shuffle_epi8(lo_lut, lo), _mm256_shuffle_epi8(hi_lut, hi));
    if (!_mm256_testz_si256(bad, bad)) break;
    const __m256i off =
        _mm256_blendv_epi8(_mm256_shuffle_epi8(shift_lut, hi), _mm256_set1_epi8(16), _mm256_cmpeq_epi8(v, slash));
    const __m256i sextets = _mm256_add_epi8(v, off);
    // [a b c d] -> a*64 + b, c*64 + d -> (a*64 + b)*4096 + c*64 + d: 24 bits per lane.
    const __m256i pairs = _mm256_maddubs_epi16(sextets, _mm256_set1_epi32(0x01400140));
    const __m256i quads = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x00011000));
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(quads, pack), join);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(bytes));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 16), _mm256_extracti128_si256(bytes, 1));
    out += 24;
  }
  return i;
}

}  // namespace
#endif

std::size_t decode_base64_prefix(const char* in, std::size_t n, unsigned char* out) {
#if defined(__x86_64__)
  if (default_isa() != Isa::portable) return decode_avx2(in, n, out);  // avx2 or avx512
#endif
  (void)in;
  (void)n;
  (void)out;
  return 0;
}

}  // namespace tinygpt::kernels
