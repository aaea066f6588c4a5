#pragma once
// Random weights and odd-shaped models for the kernel tests, and ways to compare their outputs.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <span>
#include <vector>

#include "kernels.h"
#include "thread_pool.h"
#include "tinygpt/decoder.h"
#include "tinygpt/model.h"

namespace tinygpt::test {

inline std::vector<kernels::Isa> all_isas() {
  std::vector<kernels::Isa> v = {kernels::Isa::portable};
  if (kernels::cpu_supports(kernels::Isa::avx2)) v.push_back(kernels::Isa::avx2);
  if (kernels::cpu_supports(kernels::Isa::avx512)) v.push_back(kernels::Isa::avx512);
  return v;
}

inline std::vector<float> random_vector(std::size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

// A GPT with odd sizes: n_embd not a multiple of 8, head_dim 29 (or n_embd with one head).
inline Model random_model(int D, int H, int L, int F, int V, int C, Activation act, bool tied, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Model m;
  m.path = "random";
  m.config = Config{V, C, D, H, L, F, Positional::learned, act, 1e-5f, tied};
  // A char tokenizer wants one code point per entry; ids beyond it are padding, which is fine here.
  nlohmann::json chars = nlohmann::json::array();
  for (int i = 0; i < std::min(V, 90); ++i) chars.push_back(std::string(1, static_cast<char>('!' + i)));
  m.tokenizer = Tokenizer::from_json({{"type", "char"}, {"vocab", chars}}, "random");
  // Every tensor lives in the model's own store, as a loaded model's do.
  auto values = [&](std::size_t n, float scale, float offset = 0.0f) -> std::span<const float> {
    const std::vector<float> r = random_vector(n, rng, scale);
    const std::span<float> v = m.store.take(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = r[i] + offset;
    return v;
  };
  auto matrix = [&](int rows, int cols, float scale) {
    return Matrix{rows, cols, values(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols), scale)};
  };
  auto ones = [&](int n) { return values(static_cast<std::size_t>(n), 0.1f, 1.0f); };
  auto small = [&](int n) { return values(static_cast<std::size_t>(n), 0.1f); };
  const float s = 0.3f;
  m.weights.wte = matrix(V, D, s);
  m.weights.wpe = matrix(C, D, s);
  for (int l = 0; l < L; ++l) {
    LayerWeights lw;
    lw.ln_1_weight = ones(D);
    lw.ln_1_bias = small(D);
    lw.attn_weight = matrix(3 * D, D, s);
    lw.attn_bias = small(3 * D);
    lw.attn_proj_weight = matrix(D, D, s);
    lw.attn_proj_bias = small(D);
    lw.ln_2_weight = ones(D);
    lw.ln_2_bias = small(D);
    lw.fc_weight = matrix(F, D, s);
    lw.fc_bias = small(F);
    lw.mlp_proj_weight = matrix(D, F, s);
    lw.mlp_proj_bias = small(D);
    m.weights.layers.push_back(std::move(lw));
  }
  m.weights.ln_f_weight = ones(D);
  m.weights.ln_f_bias = small(D);
  if (!tied) m.weights.lm_head = matrix(V, D, s);
  return m;
}

// The largest |a - b| relative to the largest |b| (at least 1).
inline double relative_diff(std::span<const float> a, std::span<const float> b) {
  REQUIRE(a.size() == b.size());
  double worst = 0, scale = 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
  }
  return worst / scale;
}

inline std::vector<float> run_forward(const Model& m, std::span<const std::int32_t> ids, kernels::Isa isa,
                                      ThreadPool* pool, bool all_logits = true) {
  State s = make_state(m.config, static_cast<int>(ids.size()));
  ForwardOptions o;
  o.all_logits = all_logits;
  o.isa = isa;
  o.pool = pool;
  const auto logits = forward(m, s, ids, o);
  return {logits.begin(), logits.end()};
}

}  // namespace tinygpt::test
