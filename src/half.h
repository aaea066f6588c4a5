#pragma once
// IEEE 754 binary16 ("half") <-> float32 in plain C++: the definition the f16 weights and
// q8_0 scales use (weight_type.h). The AVX2 kernels convert with F16C instead; the tests
// check these against F16C on every half and on millions of floats.
#include <bit>
#include <cstdint>

namespace tinygpt {

// Exact: every half is a float32.
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (man << 13));  // inf, NaN
  if (exp == 0) {  // zero or subnormal: man x 2^-24, exact in float32
    const float v = static_cast<float>(man) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (man << 13));  // rebias 15 -> 127
}

// Rounded to nearest, ties to even. Magnitudes from 65520 up become infinity (callers that
// must not make infinities check the range first); NaN stays NaN.
inline std::uint16_t float_to_half(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7e00u;   // NaN (quiet)
  if (a >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 (or inf): rounds past the largest half
  if (a >= 0x38800000u) {                       // >= 2^-14: a normal half
    const std::uint32_t rebased = a - (112u << 23);
    // Round the 13 dropped bits to nearest even; a carry into the exponent is correct.
    return static_cast<std::uint16_t>(sign | ((rebased + 0x0fffu + ((rebased >> 13) & 1u)) >> 13));
  }
  // Subnormal half (or zero): round (significand x 2^(e - 126)) to an integer count of 2^-24.
  const std::uint32_t e = a >> 23;
  if (e < 102) return sign;  // below 2^-25: rounds to zero
  const std::uint32_t m = (a & 0x7fffffu) | 0x800000u;
  const std::uint32_t shift = 126 - e;  // 14..24
  std::uint32_t q = m >> shift;
  const std::uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return static_cast<std::uint16_t>(sign | q);
}

}  // namespace tinygpt
