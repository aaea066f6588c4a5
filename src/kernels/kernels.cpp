// The portable kernels: the plain definition of every step, and the fallback for CPUs
// without AVX2/FMA.
#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "half.h"
#include "implementations.h"
#include "quantize.h"
#include "tinygpt/attention.h"

namespace tinygpt::kernels {

float dot(const float* a, const float* b, int n) {
  // Eight independent partial sums let the compiler vectorise without -ffast-math.
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

void layer_norm(float* out, const float* x, const float* weight, const float* bias, int n, float eps) {
  double mean = 0;
  for (int i = 0; i < n; ++i) mean += x[i];
  mean /= n;
  double var = 0;
  for (int i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= n;  // biased, as torch.nn.LayerNorm
  const double inv = 1.0 / std::sqrt(var + eps);
  for (int i = 0; i < n; ++i) out[i] = static_cast<float>((x[i] - mean) * inv) * weight[i] + bias[i];
}

static void linear_rows(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0,
                        int r1) {
  for (int t = 0; t < T; ++t) {
    const float* xt = x + static_cast<std::size_t>(t) * w.cols;
    float* ot = out + static_cast<std::size_t>(t) * ldo;
    for (int r = r0; r < r1; ++r)
      ot[r] = dot(w.data.data() + static_cast<std::size_t>(r) * w.cols, xt, w.cols) + (bias ? bias[r] : 0.0f);
  }
}

// in_out ([in][out]): input by input, each adding its products to every output in
// [r0, r1); per output that is the sum over the inputs in order (the compiler vectorises
// across outputs, which does not reorder any one sum).
static void linear_rows_in_out(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0,
                               int r1) {
  const auto R = static_cast<std::size_t>(w.rows), K = static_cast<std::size_t>(w.cols);
  const float* W = w.data.data();
  for (int t = 0; t < T; ++t) {
    const float* xt = x + static_cast<std::size_t>(t) * K;
    float* ot = out + static_cast<std::size_t>(t) * ldo;
    for (int r = r0; r < r1; ++r) ot[r] = 0.0f;
    for (std::size_t c = 0; c < K; ++c) {
      const float xc = xt[c];
      const float* wc = W + c * R;
      for (int r = r0; r < r1; ++r) ot[r] += xc * wc[r];
    }
    if (bias)
      for (int r = r0; r < r1; ++r) ot[r] += bias[r];
  }
}

// f16: each row widened to float32 once, then as linear_rows.
static void linear_rows_f16(float* out, int ldo, const float* x, int T, const Matrix& w, const float* bias, int r0,
                            int r1) {
  std::vector<float> row(static_cast<std::size_t>(w.cols));
  const std::size_t per_row = row_bytes(WeightType::f16, static_cast<std::size_t>(w.cols));
  for (int r = r0; r < r1; ++r) {
    dequantize_row(WeightType::f16, w.packed.data() + per_row * static_cast<std::size_t>(r), w.cols, row.data());
    for (int t = 0; t < T; ++t)
      out[static_cast<std::size_t>(t) * ldo + r] =
          dot(row.data(), x + static_cast<std::size_t>(t) * w.cols, w.cols) + (bias ? bias[r] : 0.0f);
  }
}

// q8_0: per block an exact integer sum, scaled; the blocks summed in order.
static void linear_rows_q8_0(float* out, int ldo, const QuantizedInput& x, int T, const Matrix& w, const float* bias,
                             int r0, int r1) {
  const int nb = x.blocks;
  const std::size_t per_row = static_cast<std::size_t>(nb) * kQ8BlockBytes;
  for (int r = r0; r < r1; ++r) {
    const std::uint8_t* row = w.packed.data() + per_row * static_cast<std::size_t>(r);
    for (int t = 0; t < T; ++t) {
      float acc = 0;
      for (int b = 0; b < nb; ++b) {
        const std::uint8_t* block = row + static_cast<std::size_t>(b) * kQ8BlockBytes;
        std::uint16_t d;
        std::memcpy(&d, block, 2);
        const std::size_t xb = static_cast<std::size_t>(t) * nb + b;
        const std::int8_t* xq = x.values.data() + xb * kQ8Block;
        std::int32_t sum = 0;
        for (int i = 0; i < kQ8Block; ++i) sum += static_cast<std::int8_t>(block[2 + i]) * xq[i];
        acc += static_cast<float>(sum) * (half_to_float(d) * x.scales[xb]);
      }
      out[static_cast<std::size_t>(t) * ldo + r] = acc + (bias ? bias[r] : 0.0f);
    }
  }
}

void quantize_input(QuantizedInput& out, const float* x, int T, int n) {
  out.blocks = (n + kQ8Block - 1) / kQ8Block;
  const std::size_t blocks = static_cast<std::size_t>(T) * out.blocks;
  out.scales.resize(blocks);
  out.values.resize(blocks * kQ8Block);
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < out.blocks; ++b) {
      const std::size_t at = static_cast<std::size_t>(t) * out.blocks + b;
      out.scales[at] = quantize_block_q8(x + static_cast<std::size_t>(t) * n + b * kQ8Block,
                                         std::min(kQ8Block, n - b * kQ8Block), out.values.data() + at * kQ8Block);
    }
}

void linear(float* out, const float* x, int n_rows_x, const Matrix& w, const float* bias) {
  if (w.type == WeightType::f16) {
    linear_rows_f16(out, w.rows, x, n_rows_x, w, bias, 0, w.rows);
  } else if (w.type == WeightType::q8_0) {
    QuantizedInput xq;
    quantize_input(xq, x, n_rows_x, w.cols);
    linear_rows_q8_0(out, w.rows, xq, n_rows_x, w, bias, 0, w.rows);
  } else if (w.layout == Layout::in_out) {
    linear_rows_in_out(out, w.rows, x, n_rows_x, w, bias, 0, w.rows);
  } else {
    linear_rows(out, w.rows, x, n_rows_x, w, bias, 0, w.rows);
  }
}

void softmax(float* x, int n) {
  const float max = *std::max_element(x, x + n);
  float sum = 0;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

void gelu_tanh(float* x, int n) {
  constexpr float k = 0.7978845608028654f;  // sqrt(2/pi)
  for (int i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(k * (v + 0.044715f * v * v * v)));
  }
}

void gelu_erf(float* x, int n) {
  for (int i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.7071067811865476f));
}

void relu(float* x, int n) {
  for (int i = 0; i < n; ++i) x[i] = x[i] > 0 ? x[i] : 0.0f;
}

void activate(Activation a, float* x, int n) {
  switch (a) {
    case Activation::gelu_tanh:
      gelu_tanh(x, n);
      break;
    case Activation::gelu:
      gelu_erf(x, n);
      break;
    case Activation::relu:
      relu(x, n);
      break;
  }
}

static void layer_norm_rows(float* out, const float* x, int rows, const float* weight, const float* bias, int n,
                            float eps) {
  for (int r = 0; r < rows; ++r) {
    const std::size_t at = static_cast<std::size_t>(r) * static_cast<std::size_t>(n);
    layer_norm(out + at, x + at, weight, bias, n, eps);
  }
}

const Ops& portable_ops() {
  static const Ops table{.isa = Isa::portable,
                         .linear_rows = linear_rows,
                         .linear_rows_in_out = linear_rows_in_out,
                         .linear_rows_f16 = linear_rows_f16,
                         .linear_rows_q8_0 = linear_rows_q8_0,
                         .layer_norm = layer_norm_rows,
                         .softmax = softmax,
                         .activate = activate,
                         .attend_head = attend_head,
                         .attend_head_group = nullptr,
                         .pack_batch = nullptr,
                         .linear_rows_packed = nullptr,
                         .linear_rows_f16_packed = nullptr};
  return table;
}

}  // namespace tinygpt::kernels
