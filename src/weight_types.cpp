// The reduced weight types (weight_type.h): their names, sizes and quantisers, and turning
// a loaded float32 model's linear weights into one of them.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>

#include "half.h"
#include "kernels.h"
#include "quantize.h"
#include "tinygpt/error.h"
#include "tinygpt/model.h"

namespace tinygpt {

const char* to_string(WeightType t) {
  switch (t) {
    case WeightType::f32:
      return "f32";
    case WeightType::f16:
      return "f16";
    case WeightType::q8_0:
      return "q8_0";
  }
  return "?";
}

std::optional<WeightType> parse_weight_type(std::string_view name) {
  for (WeightType t : {WeightType::f32, WeightType::f16, WeightType::q8_0})
    if (name == to_string(t)) return t;
  return std::nullopt;
}

std::size_t row_bytes(WeightType t, std::size_t cols) {
  switch (t) {
    case WeightType::f32:
      return cols * 4;
    case WeightType::f16:
      return cols * 2;
    case WeightType::q8_0:
      return (cols + kQ8Block - 1) / kQ8Block * kQ8BlockBytes;
  }
  return 0;
}

float quantize_block_q8(const float* x, int n, std::int8_t* q) {
  float amax = 0;
  for (int i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float scale = amax / 127.0f;
  if (!(scale >= FLT_MIN)) {
    std::fill_n(q, kQ8Block, std::int8_t{0});
    return 0.0f;
  }
  const float inv = 1.0f / scale;
  for (int i = 0; i < kQ8Block; ++i) {
    // nearbyint rounds half to even in the default rounding mode; |x| * inv <= 127 up to
    // one rounding, which the clamp absorbs. An infinite block (amax inf, inv 0) makes
    // inf * 0 = NaN: 0 here, and the layer's output turns non-finite, which the decoder
    // reports (converting NaN to an integer would be undefined).
    const float v = i < n ? std::nearbyint(x[i] * inv) : 0.0f;
    q[i] = v == v ? static_cast<std::int8_t>(std::clamp(v, -127.0f, 127.0f)) : std::int8_t{0};
  }
  return scale;
}

bool quantize_row(WeightType t, const float* x, int n, std::uint8_t* out) {
  if (t == WeightType::f16) {
    for (int i = 0; i < n; ++i) {
      if (!(std::fabs(x[i]) < 65520.0f)) return false;  // would round to infinity
      const std::uint16_t h = float_to_half(x[i]);
      std::memcpy(out + 2 * i, &h, 2);  // little-endian hosts only (as the whole loader)
    }
    return true;
  }
  if (t == WeightType::q8_0) {
    for (int b = 0; b * kQ8Block < n; ++b) {
      std::uint8_t* block = out + static_cast<std::size_t>(b) * kQ8BlockBytes;
      std::int8_t q[kQ8Block];
      const float scale = quantize_block_q8(x + b * kQ8Block, std::min(kQ8Block, n - b * kQ8Block), q);
      if (!(scale < 65520.0f)) return false;
      const std::uint16_t d = float_to_half(scale);
      std::memcpy(block, &d, 2);
      std::memcpy(block + 2, q, kQ8Block);
    }
    return true;
  }
  std::memcpy(out, x, static_cast<std::size_t>(n) * 4);
  return true;
}

void dequantize_row(WeightType t, const std::uint8_t* row, int n, float* out) {
  if (t == WeightType::f16) {
    for (int i = 0; i < n; ++i) {
      std::uint16_t h;
      std::memcpy(&h, row + 2 * i, 2);
      out[i] = half_to_float(h);
    }
  } else if (t == WeightType::q8_0) {
    for (int i = 0; i < n; ++i) {
      const std::uint8_t* block = row + static_cast<std::size_t>(i / kQ8Block) * kQ8BlockBytes;
      std::uint16_t d;
      std::memcpy(&d, block, 2);
      out[i] = half_to_float(d) * static_cast<float>(static_cast<std::int8_t>(block[2 + i % kQ8Block]));
    }
  } else {
    std::memcpy(out, row, static_cast<std::size_t>(n) * 4);
  }
}

namespace {

// `m` (float32, either layout) reduced into bytes the store owns, row by row ([out][in]).
Matrix reduce(const Matrix& m, WeightType t, WeightStore& store, const std::string& where, const std::string& name) {
  const std::size_t per_row = row_bytes(t, static_cast<std::size_t>(m.cols));
  const std::span<std::uint8_t> bytes = store.take_bytes(per_row * static_cast<std::size_t>(m.rows));
  const auto rows = static_cast<std::size_t>(m.rows), cols = static_cast<std::size_t>(m.cols);
  std::vector<float> out_in;  // an in_out matrix turned to rows first: the quantiser reads rows
  if (m.layout == Layout::in_out) {
    out_in.resize(rows * cols);
    kernels::transpose(out_in.data(), m.data.data(), cols, rows);
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = out_in.empty() ? m.row(static_cast<int>(r)).data() : out_in.data() + r * cols;
    if (!quantize_row(t, row, m.cols, bytes.data() + per_row * r))
      throw_model_error(where + ": " + name + " has values too large for " + to_string(t) +
                        " (binary16 ends at 65504) or not finite; run it in f32");
  }
  Matrix out;
  out.rows = m.rows;
  out.cols = m.cols;
  out.type = t;
  out.packed = bytes;
  return out;
}

}  // namespace

void reduce_weights(Model& model, WeightType t) {
  const WeightType now = model.weight_type;
  if (now == t) return;
  if (now != WeightType::f32)
    throw_usage_error(model.path + " holds " + to_string(now) + " weights, which cannot run as " + to_string(t) +
                      (t == WeightType::f32 ? " (their float32 values are gone)" : "") +
                      ": start from the float32 model");
  Weights& w = model.weights;
  const std::string& where = model.path;
  // Tensors a file already stored in t (weights JSON version 2) stay as they are.
  auto reduce_if_f32 = [&](Matrix& m, const std::string& name) {
    if (m.type == WeightType::f32) m = reduce(m, t, model.store, where, name);
  };
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    LayerWeights& l = w.layers[i];
    const std::string p = "h." + std::to_string(i) + ".";
    reduce_if_f32(l.attn_weight, p + "attn.c_attn.weight");
    reduce_if_f32(l.attn_proj_weight, p + "attn.c_proj.weight");
    reduce_if_f32(l.fc_weight, p + "mlp.c_fc.weight");
    reduce_if_f32(l.mlp_proj_weight, p + "mlp.c_proj.weight");
  }
  if (model.config.tie_word_embeddings) w.lm_head = reduce(w.wte, t, model.store, where, "wte.weight");
  else reduce_if_f32(w.lm_head, "lm_head.weight");
  model.weight_type = t;
}

std::uint64_t weight_bytes_per_token(const Model& model) {
  const Config& c = model.config;
  auto matrix = [](const Matrix& m) {
    return static_cast<std::uint64_t>(m.rows) * row_bytes(m.type, static_cast<std::size_t>(m.cols));
  };
  const std::uint64_t D = static_cast<std::uint64_t>(c.n_embd), F = static_cast<std::uint64_t>(c.n_inner);
  std::uint64_t bytes = 2 * D * 4 + 2 * D * 4;  // a row of wte and of wpe; ln_f
  for (const LayerWeights& l : model.weights.layers)
    bytes += matrix(l.attn_weight) + matrix(l.attn_proj_weight) + matrix(l.fc_weight) + matrix(l.mlp_proj_weight) +
             4 * (4 * D + 3 * D + D + F + D);  // two layer norms, four biases
  return bytes + matrix(model.weights.output());
}

}  // namespace tinygpt
