#include "tinygpt/decoder.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>

#include "architecture.h"
#include "kernels.h"
#include "thread_pool.h"
#include "tinygpt/error.h"

namespace tinygpt {

State make_state(const Config& c, int capacity) {
  State s;
  s.capacity = std::clamp(capacity, 1, c.n_ctx);
  const std::size_t cache = static_cast<std::size_t>(c.n_layer) * s.capacity * c.n_embd;
  s.key_cache.assign(cache, 0.0f);
  s.value_cache.assign(cache, 0.0f);
  s.scores.assign(static_cast<std::size_t>(s.capacity), 0.0f);
  return s;
}

static void grow(std::vector<float>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
}

namespace {

// Masked self-attention of T queries at positions pos0.. over the cache of one layer:
// att[t][head h] = attend(q of token t, head h; keys and values 0..pos0+t).
void attention(const kernels::Compute& run, State& s, const float* qkv, const float* k_cache, const float* v_cache,
               int T, int pos0, int layer, const Config& c, const AttentionObserver* observer) {
  const int D = c.n_embd, H = c.n_head, hd = c.head_dim();
  const auto uD = static_cast<std::size_t>(D);
  const std::size_t head_stride = static_cast<std::size_t>(s.capacity) * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  auto one = [&](int t, int h, float* scores) {
    const int pos = pos0 + t;
    const float* q = qkv + 3 * t * uD + h * hd;
    const float* keys = k_cache + h * head_stride;
    const float* values = v_cache + h * head_stride;
    run.ops->attend_head(s.att.data() + t * uD + h * hd, q, keys, values, hd, pos + 1, hd, scale, scores);
    if (observer)
      (*observer)(AttentionEvent{layer,
                                 h,
                                 pos,
                                 {scores, static_cast<std::size_t>(pos + 1)},
                                 {q, static_cast<std::size_t>(hd)},
                                 keys,
                                 values,
                                 hd});
  };
  // Four queries at a time where the kernels have it (a prefill on AVX-512), then two, then
  // one: the same bits as one at a time (Ops::attend_head_group). Not with an observer, which
  // sees each query's scores in turn.
  const bool groups_of = !observer && run.ops->attend_head_group && T > 1;
  const int per = groups_of ? 4 : 1;
  const std::size_t scratch = static_cast<std::size_t>(per) * static_cast<std::size_t>(s.capacity);
  auto group = [&](int g, int h, float* scores) {  // queries per * g on; scores: `scratch` floats
    for (int t = per * g, end = std::min(T, t + per); t < end;) {
      const int count = end - t >= 4 ? 4 : end - t >= 2 ? 2 : 1;
      if (count == 1) {
        one(t, h, scores);
        return;
      }
      run.ops->attend_head_group(s.att.data() + t * uD + h * hd, uD, qkv + 3 * t * uD + h * hd, 3 * uD,
                                 k_cache + h * head_stride, v_cache + h * head_stride, hd, pos0 + t + 1, hd, scale,
                                 scores, s.capacity, count);
      t += count;
    }
  };
  // Below this many multiply-adds (scores and values), one thread is quicker.
  constexpr double kMinParallelWork = 1 << 14;
  const double work = 2.0 * T * (static_cast<double>(pos0) + T) * D;
  const std::int64_t groups = (T + per - 1) / per;
  const std::int64_t jobs = groups * H;  // one per group of queries and head; past an int: run them here
  if (observer || run.threads() == 1 || jobs < 2 || jobs > INT32_MAX || work < kMinParallelWork) {
    grow(s.scores, scratch);
    for (int g = 0; g < groups; ++g)
      for (int h = 0; h < H; ++h) group(g, h, s.scores.data());
    return;
  }
  grow(s.scores, static_cast<std::size_t>(run.threads()) * scratch);
  run.pool->parallel_for(static_cast<int>(jobs), [&](int i, int thread) {
    group(i / H, i % H, s.scores.data() + static_cast<std::size_t>(thread) * scratch);
  });
}

// fn(t) for every row t < T: on the pool's threads when there is enough work (rows x
// width element operations) to pay for waking them. Row-wise steps (layer norm, the MLP's
// activation) compute each row alone, so the split changes no result; left on the calling
// thread they were the serial part of a prefill on two threads (together about 5 % of CFG-S's
// one-thread prefill).
template <class Fn>
void for_rows(const kernels::Compute& run, int T, int width, Fn&& fn) {
  // A step costs about a nanosecond per element and waking the other threads some
  // microseconds: below ~100 microseconds of work one thread is as quick.
  constexpr double kMinParallelWork = 1 << 17;
  if (run.threads() == 1 || T < 2 || static_cast<double>(T) * width < kMinParallelWork) {
    for (int t = 0; t < T; ++t) fn(t);
    return;
  }
  const int chunks = std::min(T, 4 * run.threads());  // a few per thread: one may start late
  run.pool->parallel_for(chunks, [&](int chunk, int) {
    const int t0 = static_cast<int>(std::int64_t{T} * chunk / chunks);
    const int t1 = static_cast<int>(std::int64_t{T} * (chunk + 1) / chunks);
    for (int t = t0; t < t1; ++t) fn(t);
  });
}

// out[t] = layer_norm(x[t]) for the T rows of D: a few rows to each call of the kernel,
// which interleaves their sums (Ops::layer_norm), the groups shared among the threads as
// for_rows shares rows.
void layer_norm_rows(const kernels::Compute& run, float* out, const float* x, int T, int D, const float* weight,
                     const float* bias, float eps) {
  constexpr int kGroup = 8;
  const auto uD = static_cast<std::size_t>(D);
  const int groups = (T + kGroup - 1) / kGroup;
  for_rows(run, groups, kGroup * D, [&](int g) {
    const std::size_t at = static_cast<std::size_t>(g) * kGroup * uD;
    run.ops->layer_norm(out + at, x + at, std::min(kGroup, T - g * kGroup), weight, bias, D, eps);
  });
}

// Finite weights can still overflow float32 on the way (a layer norm weight of 3e38, an
// epsilon that is 0 in float32), and an inf or NaN would then be sampled or scored as if
// it meant something. Checked over each layer's output (T x D values, nothing next to the
// layer's own work) and over the logits (layer -1). `rows` rows of `width`, the first at
// position pos0.
void check_finite(const Model& model, const float* v, int rows, int width, int pos0, int layer) {
  const std::size_t n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(width);
  std::uint32_t bad = 0;  // branch-free so that it vectorises: all-ones exponent is inf or NaN
  for (std::size_t i = 0; i < n; ++i) bad |= (std::bit_cast<std::uint32_t>(v[i]) & 0x7f800000u) == 0x7f800000u;
  if (!bad) return;
  // A weight that is itself inf or NaN is the likelier cause when the model was
  // memory-mapped (its float32 tensors are not read at load): name it if so.
  check_weights_finite(model);
  std::size_t i = 0;
  while (std::isfinite(v[i])) ++i;
  const std::string what = layer < 0 ? "logits" : "activations after layer " + std::to_string(layer);
  throw_model_error(model.path + ": the " + what + " at position " +
                    std::to_string(pos0 + static_cast<int>(i) / width) + " are not finite (" +
                    (std::isnan(v[i]) ? "NaN" : "inf") + "): the weights overflow float32");
}

}  // namespace

std::span<const float> forward(const Model& model, State& s, std::span<const std::int32_t> tokens,
                               const ForwardOptions& options) {
  const Config& c = model.config;
  const Weights& w = model.weights;
  const kernels::Compute run{&kernels::ops(options.isa), options.pool, &s.packed};
  const int T = static_cast<int>(tokens.size());
  const int D = c.n_embd, F = c.n_inner, V = c.vocab_size, hd = c.head_dim();
  const int pos0 = s.n_past;
  if (T == 0) throw_input_error("nothing to run: no tokens");
  if (std::int64_t{pos0} + T > s.capacity)
    throw_input_error("sequence of " + std::to_string(std::int64_t{pos0} + T) + " tokens does not fit the context of " +
                      std::to_string(s.capacity));
  const auto uD = static_cast<std::size_t>(D);
  grow(s.x, T * uD);
  grow(s.xn, T * uD);
  grow(s.qkv, 3 * T * uD);
  grow(s.att, T * uD);
  grow(s.hidden, static_cast<std::size_t>(T) * F);

  // x[t] = wte[token] + wpe[position]
  for (int t = 0; t < T; ++t) {
    const int id = tokens[static_cast<std::size_t>(t)];
    if (id < 0 || id >= V) throw_input_error("token id " + std::to_string(id) + " is outside the vocabulary");
    const auto e = w.wte.row(id);
    const auto p = w.wpe.row(pos0 + t);
    float* x = s.x.data() + t * uD;
    for (int i = 0; i < D; ++i) x[i] = e[i] + p[i];
  }

  const bool tail = !options.all_logits && !options.observer && T > 2;
  for (int l = 0; l < c.n_layer; ++l) {
    const LayerWeights& lw = w.layers[static_cast<std::size_t>(l)];
    float* k_cache = s.key_cache.data() + static_cast<std::size_t>(l) * s.capacity * uD;
    float* v_cache = s.value_cache.data() + static_cast<std::size_t>(l) * s.capacity * uD;

    // Attention sub-block: x += c_proj(attn(ln_1(x)))
    layer_norm_rows(run, s.xn.data(), s.x.data(), T, D, lw.ln_1_weight.data(), lw.ln_1_bias.data(),
                    c.layer_norm_epsilon);
    // Past this point a row only feeds its own token's next layer, and after the last layer
    // only the last token's row reaches the logits. So unless every token's logits (or every
    // query's attention, for an observer) are asked for, the last layer needs the keys and
    // values of every row but the rest (its queries on) for its last two rows alone; llama.cpp
    // skips the same rows (its output ids). Two rows, not one: a batch runs the batch kernels,
    // which sum each row as they would within the whole prompt, so the logits keep their bits
    // (one row alone would take the decoding kernels, whose order differs). The rows before
    // them go through the batch kernels too, as long as there are two of them.
    const int t0 = tail && l == c.n_layer - 1 ? T - 2 : 0;
    if (t0 >= 2) {
      kernels::linear(run, s.qkv.data(), s.xn.data(), t0, lw.attn_weight, lw.attn_bias.data(), D, 3 * D);
      kernels::linear(run, s.qkv.data() + 3 * static_cast<std::size_t>(t0) * uD, s.xn.data() + t0 * uD, T - t0,
                      lw.attn_weight, lw.attn_bias.data());
    } else {
      kernels::linear(run, s.qkv.data(), s.xn.data(), T, lw.attn_weight, lw.attn_bias.data());
    }
    for (int t = 0; t < T; ++t) {
      const float* qkv = s.qkv.data() + 3 * t * uD;
      for (int h = 0; h < c.n_head; ++h) {
        const std::size_t at = (static_cast<std::size_t>(h) * s.capacity + pos0 + t) * hd;
        std::copy_n(qkv + D + h * hd, hd, k_cache + at);
        std::copy_n(qkv + 2 * D + h * hd, hd, v_cache + at);
      }
    }
    const int n = T - t0;
    const std::size_t nD = static_cast<std::size_t>(n) * uD;
    float* x = s.x.data() + static_cast<std::size_t>(t0) * uD;
    attention(run, s, s.qkv.data() + 3 * static_cast<std::size_t>(t0) * uD, k_cache, v_cache, n, pos0 + t0, l, c,
              options.observer);
    kernels::linear(run, s.xn.data(), s.att.data(), n, lw.attn_proj_weight, lw.attn_proj_bias.data());
    for (std::size_t i = 0; i < nD; ++i) x[i] += s.xn[i];

    // MLP sub-block: x += c_proj(act(c_fc(ln_2(x))))
    layer_norm_rows(run, s.xn.data(), x, n, D, lw.ln_2_weight.data(), lw.ln_2_bias.data(), c.layer_norm_epsilon);
    kernels::linear(run, s.hidden.data(), s.xn.data(), n, lw.fc_weight, lw.fc_bias.data());
    // Row by row: rows x F can pass 2^31 (65536 positions of a 40000-wide MLP); activate's
    // length is an int.
    for_rows(run, n, F,
             [&](int t) { run.ops->activate(c.activation, s.hidden.data() + static_cast<std::size_t>(t) * F, F); });
    kernels::linear(run, s.xn.data(), s.hidden.data(), n, lw.mlp_proj_weight, lw.mlp_proj_bias.data());
    for (std::size_t i = 0; i < nD; ++i) x[i] += s.xn[i];
    check_finite(model, x, n, D, pos0 + t0, l);
  }
  s.n_past = pos0 + T;

  // logits = ln_f(x) W_out^T, for the rows asked for.
  const int first = options.all_logits ? 0 : T - 1;
  const int rows = T - first;
  layer_norm_rows(run, s.xn.data(), s.x.data() + first * uD, rows, D, w.ln_f_weight.data(), w.ln_f_bias.data(),
                  c.layer_norm_epsilon);
  grow(s.logits, static_cast<std::size_t>(rows) * V);
  kernels::linear(run, s.logits.data(), s.xn.data(), rows, w.output(), nullptr);
  check_finite(model, s.logits.data(), rows, V, pos0 + first, -1);
  return {s.logits.data(), static_cast<std::size_t>(rows) * V};
}

}  // namespace tinygpt
