// Which kernels run: chosen once from the CPU and TINYGPT_KERNELS; and the threaded
// linear layer on top of whichever table was chosen.
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "implementations.h"
#include "kernels.h"
#include "thread_pool.h"
#include "tinygpt/error.h"

namespace tinygpt::kernels {

const char* to_string(Isa isa) {
  switch (isa) {
    case Isa::portable:
      return "portable";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
  }
  return "?";
}

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::portable:
      return true;
    case Isa::avx2: {
#if defined(__x86_64__)
      // Checks the OS saves the ymm registers too (XGETBV), not only the CPUID bits.
      static const bool has = [] {
        __builtin_cpu_init();
        // F16C (half <-> float, for f16 weights) is CPUID leaf 1, ECX bit 29: every AVX2 CPU
        // has it, but it is a separate bit. Read directly: clang's builtin does not know it.
        unsigned a = 0, b = 0, c = 0, d = 0;
        const bool f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
      }();
      return has && avx2_ops() != nullptr;
#else
      return false;
#endif
    }
    case Isa::avx512: {
#if defined(__x86_64__)
      static const bool has = [] {
        // VNNI is CPUID leaf 7, ECX bit 11 (clang's builtin does not know it by this name).
        unsigned a = 0, b = 0, c = 0, d = 0;
        const bool vnni = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 11));
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && vnni;
      }();
      return has && cpu_supports(Isa::avx2) && avx512_ops() != nullptr;
#else
      return false;
#endif
    }
  }
  return false;
}

Isa default_isa() {
  static const Isa chosen = [] {
    const char* env = std::getenv("TINYGPT_KERNELS");
    const std::string_view want = env ? env : "";
    if (want == "portable" || want == "scalar") return Isa::portable;
    if (want != "avx2" && cpu_supports(Isa::avx512)) return Isa::avx512;
    return cpu_supports(Isa::avx2) ? Isa::avx2 : Isa::portable;
  }();
  return chosen;
}

const Ops& ops(Isa isa) {
  if (!cpu_supports(isa))
    throw_usage_error(std::string("the ") + to_string(isa) + " kernels need a CPU (and build) with " + to_string(isa));
  return isa == Isa::avx512 ? *avx512_ops() : isa == Isa::avx2 ? *avx2_ops() : portable_ops();
}

void transpose(float* dst, const float* src, std::size_t rows, std::size_t cols) {
  if (default_isa() != Isa::portable) {  // avx2 or avx512: both have AVX2
    avx2::transpose(dst, src, rows, cols);
    return;
  }
  constexpr std::size_t B = 32;  // blocks keep the strided side within a few cache lines
  for (std::size_t r0 = 0; r0 < rows; r0 += B)
    for (std::size_t c0 = 0; c0 < cols; c0 += B) {
      const std::size_t r1 = std::min(rows, r0 + B), c1 = std::min(cols, c0 + B);
      for (std::size_t c = c0; c < c1; ++c)
        for (std::size_t r = r0; r < r1; ++r) dst[c * rows + r] = src[r * cols + c];
    }
}

int Compute::threads() const { return pool ? pool->size() : 1; }

void linear(const Compute& c, float* out, const float* x, int n_rows_x, const Matrix& w, const float* bias) {
  linear(c, out, x, n_rows_x, w, bias, 0, w.rows);
}

void linear(const Compute& c, float* out, const float* x, int n_rows_x, const Matrix& w, const float* bias,
            int first_row, int end_row) {
  const int threads = c.threads();
  // Below this many multiply-adds, waking another thread costs more than it saves.
  constexpr double kMinParallelWork = 1 << 15;
  const double work = static_cast<double>(n_rows_x) * (end_row - first_row) * w.cols;
  // A q8_0 layer's input is quantised once, before the rows are shared out, so that no
  // output depends on how they were split.
  QuantizedInput xq;
  if (w.type == WeightType::q8_0) quantize_input(xq, x, n_rows_x, w.cols);
  // Likewise a float32 batch for a table that rearranges it (Ops::pack_batch).
  std::vector<float> own;
  std::vector<float>& packed = c.packed_batch ? *c.packed_batch : own;
  const bool pack = n_rows_x > 1 && ((w.type == WeightType::f32 && w.layout == Layout::out_in && c.ops->pack_batch) ||
                                     (w.type == WeightType::f16 && c.ops->linear_rows_f16_packed));
  if (pack) c.ops->pack_batch(packed, x, n_rows_x, w.cols);
  auto run = [&](int r0, int r1) {
    switch (w.type) {
      case WeightType::f32:
        if (w.layout == Layout::in_out) c.ops->linear_rows_in_out(out, w.rows, x, n_rows_x, w, bias, r0, r1);
        else if (pack) c.ops->linear_rows_packed(out, w.rows, packed, n_rows_x, w, bias, r0, r1);
        else c.ops->linear_rows(out, w.rows, x, n_rows_x, w, bias, r0, r1);
        break;
      case WeightType::f16:
        if (pack) c.ops->linear_rows_f16_packed(out, w.rows, packed, n_rows_x, w, bias, r0, r1);
        else c.ops->linear_rows_f16(out, w.rows, x, n_rows_x, w, bias, r0, r1);
        break;
      case WeightType::q8_0:
        c.ops->linear_rows_q8_0(out, w.rows, xq, n_rows_x, w, bias, r0, r1);
        break;
    }
  };
  if (threads == 1 || work < kMinParallelWork) {
    run(first_row, end_row);
    return;
  }
  // Several chunks per thread so that a late or slow thread only delays one small chunk;
  // multiples of 24 rows keep whole 8-row (decode) and 6-row (prefill) tiles together.
  constexpr int kGrain = 24;
  const int rows = end_row - first_row;
  const int per_chunk = std::max(kGrain, (rows / (4 * threads) + kGrain - 1) / kGrain * kGrain);
  const int n_chunks = (rows + per_chunk - 1) / per_chunk;
  c.pool->parallel_for(n_chunks, [&](int chunk, int) {
    const int r0 = first_row + chunk * per_chunk;
    run(r0, std::min(end_row, r0 + per_chunk));
  });
}

}  // namespace tinygpt::kernels
