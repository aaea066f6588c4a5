// trace_prediction: the forward pass once more, written to keep what a learner wants to
// see. It runs the same kernels in the same order as decoder.cpp's forward(), over the
// prefix 0..P (the keys and values of every earlier position are needed), so its logits
// are the ones generate() samples from; it only records, at position P, each step.
#include "tinygpt/trace.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "index_selection.h"
#include "kernels.h"
#include "tinygpt/error.h"
#include "tinygpt/generate.h"
#include "utf8.h"

namespace tinygpt {
namespace {

using Rows = std::vector<float>;  // T rows of n values, row-major

std::vector<float> row(const Rows& m, int r, int n) {
  const auto begin = m.begin() + static_cast<std::ptrdiff_t>(r) * n;
  return {begin, begin + n};
}

Rows layer_norm_rows(const kernels::Compute& run, const Rows& x, int T, int D, Vector weight, Vector bias, float eps) {
  Rows out(x.size());
  run.ops->layer_norm(out.data(), x.data(), T, weight.data(), bias.data(), D, eps);
  return out;
}

Rows linear_rows(const kernels::Compute& run, const Rows& x, int T, const Matrix& w, Vector bias) {
  Rows out(static_cast<std::size_t>(T) * static_cast<std::size_t>(w.rows));
  kernels::linear(run, out.data(), x.data(), T, w, bias.empty() ? nullptr : bias.data());
  return out;
}

void add(Rows& x, const Rows& y) {
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += y[i];
}

std::vector<TraceTop> best_tokens(const Model& model, std::span<const float> logits, int k) {
  const std::int32_t n_valid = model.tokenizer.size();
  const std::vector<double> lp = log_softmax(logits, n_valid);
  std::vector<TraceTop> out;
  for (const TokenLogprob& t : top_logprobs(lp, k))
    out.push_back({t.id, model.tokenizer.token_text(t.id), model.tokenizer.piece(t.id),
                   logits[static_cast<std::size_t>(t.id)], t.logprob});
  return out;
}

// ln_f(x) x W_out^T: the logits of one residual-stream vector.
std::vector<float> unembed(const kernels::Compute& run, const Model& model, const std::vector<float>& x,
                           std::vector<float>* normed = nullptr) {
  const Config& c = model.config;
  const Weights& w = model.weights;
  std::vector<float> xn(x.size());
  run.ops->layer_norm(xn.data(), x.data(), 1, w.ln_f_weight.data(), w.ln_f_bias.data(), c.n_embd, c.layer_norm_epsilon);
  std::vector<float> logits(static_cast<std::size_t>(c.vocab_size));
  kernels::linear(run, logits.data(), xn.data(), 1, w.output(), nullptr);
  if (normed) *normed = std::move(xn);
  return logits;
}

// The distribution before the draw, one stage at a time. Each stage is the sampler's own
// filter() with the later stages switched off, so what is shown is what the sampler does.
TraceSampling sampling_steps(const Model& model, std::span<const float> logits, const TraceOptions& o) {
  const Tokenizer& tok = model.tokenizer;
  const std::int32_t n_valid = tok.size();
  const SamplerParams& p = o.sampler;
  TraceSampling s;
  s.params = p;
  s.seed = o.seed;
  s.greedy = p.temperature == 0 || p.top_k == 1;
  auto shown = [&](const std::vector<Candidate>& c) {
    std::vector<TraceCandidate> out;
    for (std::size_t i = 0; i < std::min(c.size(), static_cast<std::size_t>(o.top)); ++i)
      out.push_back({c[i].id, tok.token_text(c[i].id), tok.piece(c[i].id), c[i].prob});
    return out;
  };
  s.after_temperature = shown(filter(logits, n_valid, {p.temperature, 0, 1.0f}));
  s.after_top_k = shown(filter(logits, n_valid, {p.temperature, p.top_k, 1.0f}));
  const std::vector<Candidate> final_set = filter(logits, n_valid, p);
  s.candidates = final_set.size();
  s.after_top_p = shown(final_set);
  Rng rng(o.seed);
  if (!s.greedy) s.draw = Rng(rng).uniform();  // the number sample() is about to draw
  const std::int32_t id = sample(logits, n_valid, p, rng);
  s.chosen = {id, tok.token_text(id), tok.piece(id)};
  s.is_eos = tok.eos_id() == id;
  return s;
}

}  // namespace

Trace trace_prediction(const Model& model, std::string_view text, const TraceOptions& o) {
  const Config& c = model.config;
  const Weights& w = model.weights;
  const int D = c.n_embd, hd = c.head_dim();
  validate(o.sampler);
  if (o.top < 1) throw_parameter_error("top", "top must be >= 1, got " + std::to_string(o.top));
  const std::vector<int> layers = resolve_indices(o.layers, c.n_layer, "layer");
  const std::vector<int> heads = resolve_indices(o.heads, c.n_head, "head");
  const std::vector<std::int32_t> ids = prompt_ids(model, text);
  const int n = static_cast<int>(ids.size());
  if (o.position < -1 || o.position >= n)
    throw_parameter_error("position", "position " + std::to_string(o.position) + " is outside the text: its " +
                                          std::to_string(n) + " tokens are at positions 0.." + std::to_string(n - 1));
  const int P = o.position == -1 ? n - 1 : o.position;
  const int T = P + 1;  // the prediction at P sees positions 0..P and nothing after (the causal mask)
  const kernels::Compute run{&kernels::ops(kernels::default_isa()), nullptr};

  Trace tr;
  tr.text = utf8::sanitize(text);
  for (const auto id : ids) tr.tokens.push_back({id, model.tokenizer.token_text(id), model.tokenizer.piece(id)});
  tr.position = P;
  tr.n_layer = c.n_layer;
  tr.n_head = c.n_head;
  tr.head_dim = hd;
  tr.positional = c.positional;

  // 1. Embedding: x[t] = wte[token t] + wpe[t]
  Rows x(static_cast<std::size_t>(T) * static_cast<std::size_t>(D));
  for (int t = 0; t < T; ++t) {
    const auto e = w.wte.row(ids[static_cast<std::size_t>(t)]);
    const auto p = w.wpe.row(t);
    for (int i = 0; i < D; ++i)
      x[static_cast<std::size_t>(t * D + i)] = e[static_cast<std::size_t>(i)] + p[static_cast<std::size_t>(i)];
  }
  tr.token_id = ids[static_cast<std::size_t>(P)];
  const auto token_row = w.wte.row(tr.token_id), position_row = w.wpe.row(P);
  tr.token_row.assign(token_row.begin(), token_row.end());
  tr.position_row.assign(position_row.begin(), position_row.end());
  tr.sum = row(x, P, D);

  // 2. The blocks.
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const auto qkv_stride = static_cast<std::size_t>(3 * D);
  std::vector<float> scores(static_cast<std::size_t>(T));
  for (int l = 0; l < c.n_layer; ++l) {
    const LayerWeights& lw = w.layers[static_cast<std::size_t>(l)];
    const bool kept = std::find(layers.begin(), layers.end(), l) != layers.end();
    TraceLayer L;
    L.layer = l;
    L.input = row(x, P, D);

    // Attention: x += c_proj(attend(ln_1(x)))
    const Rows ln1 = layer_norm_rows(run, x, T, D, lw.ln_1_weight, lw.ln_1_bias, c.layer_norm_epsilon);
    const Rows qkv = linear_rows(run, ln1, T, lw.attn_weight, lw.attn_bias);  // [T][3D]: q | k | v
    Rows att(x.size());
    for (int t = 0; t < T; ++t) {
      for (int h = 0; h < c.n_head; ++h) {
        const float* q = qkv.data() + static_cast<std::size_t>(t) * qkv_stride + static_cast<std::size_t>(h * hd);
        const float* keys = qkv.data() + static_cast<std::size_t>(D + h * hd);  // key j: keys + j * 3D
        const float* values = qkv.data() + static_cast<std::size_t>(2 * D + h * hd);
        float* out = att.data() + static_cast<std::size_t>(t * D + h * hd);
        run.ops->attend_head(out, q, keys, values, static_cast<int>(qkv_stride), t + 1, hd, scale, scores.data());
        if (t != P || !kept || std::find(heads.begin(), heads.end(), h) == heads.end()) continue;
        TraceHead H;
        H.head = h;
        H.q.assign(q, q + hd);
        H.scale = scale;
        for (int j = 0; j <= P; ++j) {
          const float* k = keys + static_cast<std::size_t>(j) * qkv_stride;
          const float* v = values + static_cast<std::size_t>(j) * qkv_stride;
          H.k.emplace_back(k, k + hd);
          H.v.emplace_back(v, v + hd);
          H.scores.push_back(kernels::dot(q, k, hd));
        }
        H.weights.assign(scores.begin(), scores.begin() + T);  // attend_head leaves the weights there
        H.output.assign(out, out + hd);
        L.heads.push_back(std::move(H));
      }
    }
    const Rows attn_out = linear_rows(run, att, T, lw.attn_proj_weight, lw.attn_proj_bias);
    add(x, attn_out);
    L.ln_1 = row(ln1, P, D);
    L.attn_output = row(attn_out, P, D);
    L.residual_after_attn = row(x, P, D);

    // MLP: x += c_proj(act(c_fc(ln_2(x))))
    const Rows ln2 = layer_norm_rows(run, x, T, D, lw.ln_2_weight, lw.ln_2_bias, c.layer_norm_epsilon);
    Rows hidden = linear_rows(run, ln2, T, lw.fc_weight, lw.fc_bias);
    run.ops->activate(c.activation, hidden.data(), T * c.n_inner);
    const Rows mlp_out = linear_rows(run, hidden, T, lw.mlp_proj_weight, lw.mlp_proj_bias);
    add(x, mlp_out);
    L.ln_2 = row(ln2, P, D);
    L.mlp_output = row(mlp_out, P, D);
    L.output = row(x, P, D);

    // The logit lens: this layer's output read as if it were the last.
    if (kept && o.lens) L.lens_top = best_tokens(model, unembed(run, model, L.output), o.top);
    if (kept) tr.layers.push_back(std::move(L));
  }

  // 3. Final layer norm and logits; 4. softmax; 5. the sampler.
  const std::vector<float> logits = unembed(run, model, row(x, P, D), &tr.final_ln);
  tr.top = best_tokens(model, logits, o.top);
  const std::vector<double> lp = log_softmax(logits, model.tokenizer.size());
  for (const double v : lp) tr.entropy -= v > -745 ? std::exp(v) * v : 0.0;  // exp underflows to 0 below
  tr.sampling = sampling_steps(model, logits, o);
  return tr;
}

}  // namespace tinygpt
