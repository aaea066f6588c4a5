// The AVX-512 kernel table: the AVX2 table with q8_0's products replaced by AVX-512 VNNI
// ones, the float32 batch products by linear_avx512.cpp's and in_out_avx512.cpp's tiles (f16
// batches through the former, widened), attention and activations by theirs. What the q8_0
// ones bought, CFG-M on one thread (docs/performance.md): q8_0 prefill 1,316 against 1,175
// tokens/s (1.12x) when first written, and 1.62x more with the batch tile below (2026-12-03,
// AMD EPYC host); q8_0 decoding gained from a prefetch, not from the width. Decoding float32
// and f16 stays AVX2.
//
// q8_0 decoding, per pair of blocks and row: 64 weights and 64 input bytes in one register
// each; w's signs moved onto x with a masked subtraction (AVX-512 has no vpsignb for zmm);
// one vpdpbusd (|w| as unsigned bytes times x as signed, four products per int32 lane,
// exact: at most 4 * 127 * 127) does what two sign flips, vpmaddubsw and vpmaddwd do with
// AVX2; then each block's 8 lanes are scaled by its own float(d_w) * d_x. A batch (q8_tile)
// gets the same integers another way, cheaper when each row meets several inputs.
#include "implementations.h"

#if defined(__x86_64__)

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsics pass an "undefined" register as the unused masked source, and
// its flow analysis then reports it as maybe uninitialised (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "avx2_helpers.h"

#define TG_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

namespace tinygpt::kernels::avx512 {
namespace {

using avx2::reduce4;
using avx2::store_sums;

TG_AVX512 inline float scale_of(const std::uint8_t* block) {
  std::uint16_t d;
  std::memcpy(&d, block, 2);
  return _cvtsh_ss(d);
}

// Sixteen int32 lanes, 8 per block: the byte products of w and x summed four at a time.
TG_AVX512 inline __m512 pair_dot(__m512i w, __m512i x) {
  const __mmask64 negative = _mm512_movepi8_mask(w);
  const __m512i x_signed = _mm512_mask_sub_epi8(x, negative, _mm512_setzero_si512(), x);
  return _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(w), x_signed));
}

TG_AVX512 inline __m256 block_dot(__m256i w, __m256i x) {
  const __m256i products = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  return _mm256_cvtepi32_ps(products);
}

// A batch: 4 rows by NT <= 4 inputs, each row's pair of blocks loaded once for all NT
// inputs. The integer dot products here take x as unsigned: x + 128 (x ^ 0x80 as a byte),
// with the lane's 128 * sum(w) subtracted first, so one vpdpbusd per row and input, exact as
// the sign-moving form of pair_dot (both are the same integers), and every float operation
// after it is q8_gemv's in q8_gemv's order: so a token's outputs from a batch and from
// decoding are the same bits. Until 2026-12-03 the batch did pair_dot per row and input
// (eight instructions where this takes four) and a q8_0 prefill ran at under half the
// float32 one's speed.
template <int NT>
TG_AVX512 void q8_tile(float* out, int ldo, const float* xs, const std::int8_t* xq, int nb,
                       const std::uint8_t* const (&row)[4], int nr, bool prefetch_next, std::size_t per_row,
                       const float* bias) {
  const int pairs = nb / 2;
  const __m512i top_bit = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i zero = _mm512_setzero_si512();
  __m512 wide[NT][4];
#pragma GCC unroll 4
  for (int t = 0; t < NT; ++t)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) wide[t][j] = _mm512_setzero_ps();
  for (int p = 0; p < pairs; ++p) {
    const int b = 2 * p;
    __m512i xu[NT];
    __m512 dx[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const std::size_t at = static_cast<std::size_t>(t) * static_cast<std::size_t>(nb) + static_cast<std::size_t>(b);
      xu[t] = _mm512_xor_si512(_mm512_loadu_si512(xq + at * kQ8Block), top_bit);
      dx[t] = _mm512_mask_mov_ps(_mm512_set1_ps(xs[at]), 0xff00, _mm512_set1_ps(xs[at + 1]));
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const std::uint8_t* block = row[j] + static_cast<std::size_t>(b) * kQ8BlockBytes;
      // As in reduced_avx2.cpp: the next group of rows, one group ahead.
      if (prefetch_next) _mm_prefetch(reinterpret_cast<const char*>(block + 4 * per_row), _MM_HINT_T0);
      // As in q8_gemv: block b's values in bytes 0-31, block b + 1's in 32-63.
      const __m512i wv =
          _mm512_mask_loadu_epi8(_mm512_maskz_loadu_epi8(0xffffffffULL, block + 2), 0xffffffff00000000ULL, block + 4);
      const __m512i minus_offset = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, top_bit, wv));  // -128 sum(w)
      const __m512 dw =
          _mm512_mask_mov_ps(_mm512_set1_ps(scale_of(block)), 0xff00, _mm512_set1_ps(scale_of(block + kQ8BlockBytes)));
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        const __m512i dot = _mm512_dpbusd_epi32(minus_offset, xu[t], wv);
        wide[t][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dw, dx[t]), wide[t][j]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) {
    const float* xst = xs + static_cast<std::size_t>(t) * static_cast<std::size_t>(nb);
    const std::int8_t* xqt = xq + static_cast<std::size_t>(t) * static_cast<std::size_t>(nb) * kQ8Block;
    __m256 acc[4];
    for (int j = 0; j < 4; ++j)
      acc[j] = _mm256_add_ps(_mm512_castps512_ps256(wide[t][j]),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(wide[t][j]), 1)));
    if (nb % 2) {  // an odd block at the end
      const int b = nb - 1;
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xqt + b * kQ8Block));
      for (int j = 0; j < 4; ++j) {
        const std::uint8_t* block = row[j] + static_cast<std::size_t>(b) * kQ8BlockBytes;
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
        acc[j] = _mm256_fmadd_ps(block_dot(wv, xv), _mm256_set1_ps(scale_of(block) * xst[b]), acc[j]);
      }
    }
    store_sums(out + static_cast<std::size_t>(t) * static_cast<std::size_t>(ldo),
               reduce4(acc[0], acc[1], acc[2], acc[3]), bias, nr);
  }
}

TG_AVX512 void q8_rows(float* out, int ldo, const QuantizedInput& x, int T, const std::uint8_t* W, int nb,
                       const float* bias, int r0, int r1) {
  using TileFn = void (*)(float*, int, const float*, const std::int8_t*, int, const std::uint8_t* const(&)[4], int,
                          bool, std::size_t, const float*);
  static constexpr TileFn kTiles[] = {&q8_tile<1>, &q8_tile<2>, &q8_tile<3>, &q8_tile<4>};
  const std::size_t per_row = static_cast<std::size_t>(nb) * kQ8BlockBytes;
  for (int r = r0; r < r1; r += 4) {
    const int nr = std::min(4, r1 - r);
    const std::uint8_t* row[4];
    for (int j = 0; j < 4; ++j) row[j] = W + static_cast<std::size_t>(r + std::min(j, nr - 1)) * per_row;
    const bool ahead = r + 4 < r1;
    for (int t = 0; t < T; t += 4) {
      const int nt = std::min(4, T - t);
      kTiles[nt - 1](out + static_cast<std::size_t>(t) * static_cast<std::size_t>(ldo) + r, ldo,
                     x.scales.data() + static_cast<std::size_t>(t) * static_cast<std::size_t>(nb),
                     x.values.data() + static_cast<std::size_t>(t) * static_cast<std::size_t>(nb) * kQ8Block, nb, row,
                     nr, ahead && t == 0, per_row, bias ? bias + r : nullptr);
    }
  }
}

// Decoding: each row on its own, front to back (see reduced_avx2.cpp's q8_gemv).
TG_AVX512 void q8_gemv(float* out, const QuantizedInput& x, const std::uint8_t* W, int nb, const float* bias, int r0,
                       int r1) {
  const std::size_t per_row = static_cast<std::size_t>(nb) * kQ8BlockBytes;
  const float* xs = x.scales.data();
  const std::int8_t* xq = x.values.data();
  const int pairs = nb / 2;
  const std::size_t size = static_cast<std::size_t>(r1) * per_row;  // bytes up to this call's last row
  for (int r = r0; r < r1; r += 4) {
    const int nr = std::min(4, r1 - r);
    __m256 sums[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int j = 0; j < nr; ++j) {
      const std::uint8_t* row = W + static_cast<std::size_t>(r + j) * per_row;
      __m512 wide = _mm512_setzero_ps();
      for (int p = 0; p < pairs; ++p) {
        const int b = 2 * p;
        const std::uint8_t* block = row + static_cast<std::size_t>(b) * kQ8BlockBytes;
        avx2::prefetch_ahead(W, static_cast<std::size_t>(block - W), size);  // a pair of blocks is 68 bytes
        const __m512i wv =
            _mm512_mask_loadu_epi8(_mm512_maskz_loadu_epi8(0xffffffffULL, block + 2), 0xffffffff00000000ULL, block + 4);
        const __m512 scale = _mm512_mask_mov_ps(_mm512_set1_ps(scale_of(block) * xs[b]), 0xff00,
                                                _mm512_set1_ps(scale_of(block + kQ8BlockBytes) * xs[b + 1]));
        wide = _mm512_fmadd_ps(pair_dot(wv, _mm512_loadu_si512(xq + b * kQ8Block)), scale, wide);
      }
      __m256 acc = _mm256_add_ps(_mm512_castps512_ps256(wide),
                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(wide), 1)));
      if (nb % 2) {
        const int b = nb - 1;
        const std::uint8_t* block = row + static_cast<std::size_t>(b) * kQ8BlockBytes;
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * kQ8Block));
        acc = _mm256_fmadd_ps(block_dot(wv, xv), _mm256_set1_ps(scale_of(block) * xs[b]), acc);
      }
      sums[j] = acc;
    }
    store_sums(out + r, reduce4(sums[0], sums[1], sums[2], sums[3]), bias ? bias + r : nullptr, nr);
  }
}

}  // namespace

void linear_rows_q8_0(float* out, int ldo, const QuantizedInput& x, int T, const Matrix& w, const float* bias, int r0,
                      int r1) {
  if (T == 1) q8_gemv(out, x, w.packed.data(), x.blocks, bias, r0, r1);
  else q8_rows(out, ldo, x, T, w.packed.data(), x.blocks, bias, r0, r1);
}

}  // namespace tinygpt::kernels::avx512

namespace tinygpt::kernels {

const Ops* avx512_ops() {
  static const Ops table = [] {
    Ops t = *avx2_ops();
    t.isa = Isa::avx512;
    t.linear_rows = avx512::linear_rows;
    t.attend_head_group = avx512::attend_head_group;
    t.layer_norm = avx512::layer_norm;
    t.softmax = avx512::softmax;
    t.activate = avx512::activate;
    t.pack_batch = avx512::pack_batch;
    t.linear_rows_packed = avx512::linear_rows_packed;
    t.linear_rows_f16_packed = avx512::linear_rows_f16_packed;
    t.linear_rows_in_out = avx512::linear_rows_in_out;
    t.linear_rows_q8_0 = avx512::linear_rows_q8_0;
    return t;
  }();
  return &table;
}

}  // namespace tinygpt::kernels

#else  // not x86-64

namespace tinygpt::kernels {
const Ops* avx512_ops() { return nullptr; }
}  // namespace tinygpt::kernels

#endif
