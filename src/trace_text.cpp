// A trace for a terminal: the tutorials' steps in order, each with a line in plain words,
// vectors shown by their first values and their norm (--json has every number).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "attention_format.h"
#include "tinygpt/trace.h"

namespace tinygpt {
namespace {

using attention_format::fixed;

constexpr std::size_t kShownValues = 6;  // of each vector

double norm(const std::vector<float>& v) {
  double s = 0;
  for (const float f : v) s += static_cast<double>(f) * f;
  return std::sqrt(s);
}

// "norm 3.142  [0.1234, -0.5678, ... 192 values]"
std::string brief(const std::vector<float>& v) {
  std::string s = "norm " + fixed(norm(v), 3) + "  [";
  for (std::size_t i = 0; i < std::min(v.size(), kShownValues); ++i) s += (i ? ", " : "") + fixed(v[i], 4);
  if (v.size() > kShownValues) s += ", ... " + std::to_string(v.size()) + " values";
  return s + "]";
}

std::string line(const std::string& label, const std::string& text) {
  return attention_format::pad_right("    " + label, 24) + " " + text + "\n";
}

std::string percent(double p) { return fixed(100 * p, 1) + "%"; }

std::string candidates_text(const std::vector<TraceCandidate>& cs) {
  std::string s;
  for (const TraceCandidate& c : cs) s += "  " + c.piece + " " + percent(c.prob);
  return s;
}

std::string embedding_section(const Trace& t) {
  const int P = t.position;
  const std::string id = std::to_string(t.token_id);
  const bool learned = t.positional == Positional::learned;
  std::string s = "\n2. Embedding: one-hot(" + id + ") x wte picks row " + id +
                  " of the embedding table; the position's vector is added\n";
  s += line("wte[" + id + "]", brief(t.token_row));
  if (learned) {
    s += line("wpe[" + std::to_string(P) + "]",
              brief(t.position_row) + "  (learned: row " + std::to_string(P) + " of wpe)");
  } else {
    s += line("PE[" + std::to_string(P) + "]", brief(t.position_row));
    s += "    (sinusoidal: PE[" + std::to_string(P) + "][2i] = sin(" + std::to_string(P) + " / 10000^(2i/" +
         std::to_string(t.sum.size()) + ")), PE[" + std::to_string(P) + "][2i+1] = cos(the same))\n";
  }
  s += line("sum", brief(t.sum) + "  (the input of layer 0)");
  return s;
}

std::string head_section(const Trace& t, const TraceHead& h) {
  std::string s = "    head " + std::to_string(h.head) + ": q = ln_1 x W_Q (" + std::to_string(h.q.size()) +
                  " values); score_j = q . k_j for the positions j <= " + std::to_string(t.position) +
                  " (later ones are masked), times 1/sqrt(" + std::to_string(h.q.size()) + ") = " + fixed(h.scale, 4) +
                  ", softmax:\n     ";
  for (std::size_t j = 0; j < h.weights.size(); ++j)
    s += " " + t.tokens[j].piece + " " + fixed(h.weights[j], 3) + " (" + fixed(h.scores[j], 2) + ")";
  s += "\n" + line("  output", brief(h.output) + "  (sum_j weight_j x v_j)");
  return s;
}

std::string layer_section(const Trace& t, const TraceLayer& l) {
  std::string s = "\n3. Layer " + std::to_string(l.layer) + "\n";
  s += line("input", brief(l.input));
  s += line("ln_1", brief(l.ln_1) + "  (layer norm: (x - mean) / sqrt(var + eps) x weight + bias)");
  for (const TraceHead& h : l.heads) s += head_section(t, h);
  s += line("attn_output", brief(l.attn_output) + "  (the heads side by side, x W_O + bias)");
  s += line("+ residual", brief(l.residual_after_attn) + "  (input + attn_output)");
  s += line("ln_2", brief(l.ln_2));
  s += line("mlp_output", brief(l.mlp_output) + "  (c_proj(act(c_fc(ln_2))))");
  s += line("output", brief(l.output) + "  (+ residual: what the next layer reads)");
  if (!l.lens_top.empty()) {
    std::string lens;
    for (const TraceTop& k : l.lens_top) lens += "  " + k.piece + " " + percent(std::exp(k.logprob));
    s += line("logit lens", "if the model stopped here:" + lens);
  }
  return s;
}

std::string sampling_section(const Trace& t) {
  const TraceSampling& s = t.sampling;
  std::string out = "\n5. Sampling: ";
  if (s.greedy) {
    out += "temperature 0 (or top-k 1) is greedy: the most likely token, no random draw\n";
  } else {
    out += "softmax(logits / temperature), then keep the best top-k, then the smallest set reaching top-p\n";
    out += line("temperature " + fixed(s.params.temperature, 2), candidates_text(s.after_temperature));
    out += line(s.params.top_k > 0 ? "top-k " + std::to_string(s.params.top_k) : "top-k off",
                candidates_text(s.after_top_k));
    out += line(s.params.top_p < 1 ? "top-p " + fixed(s.params.top_p, 2) : "top-p off",
                candidates_text(s.after_top_p) + "  (" + std::to_string(s.candidates) + " candidates)");
    out += line("draw", fixed(s.draw, 6) + " (seed " + std::to_string(s.seed) +
                            "): walk the candidates' cumulative probability until it passes the draw");
  }
  out += line("chosen", s.chosen.piece + " (id " + std::to_string(s.chosen.id) + ")" +
                            (s.is_eos ? ": the end token, generation stops here" : ": appended, and the loop goes on"));
  return out;
}

}  // namespace

std::string trace_text(const Trace& t) {
  const TraceToken& at = t.tokens[static_cast<std::size_t>(t.position)];
  std::string s = "The prediction after position " + std::to_string(t.position) + " (" + at.piece + ", id " +
                  std::to_string(at.id) + "): " + std::to_string(t.n_layer) + " layers x " + std::to_string(t.n_head) +
                  " heads of " + std::to_string(t.head_dim) + "\n";
  s += "\n1. Tokens: the text as ids (the begin token first, when the model has one)\n   ";
  for (std::size_t i = 0; i < t.tokens.size(); ++i)
    s += " " + std::to_string(i) + ":" + t.tokens[i].piece + "(" + std::to_string(t.tokens[i].id) + ")";
  s += "\n";
  s += embedding_section(t);
  for (const TraceLayer& l : t.layers) s += layer_section(t, l);
  s += "\n4. Final layer norm, then logits = ln_f(x) x W_out^T (W_out is wte when tied): a score for every token\n";
  s += line("ln_f", brief(t.final_ln));
  for (const TraceTop& k : t.top)
    s += line(k.piece + " (" + std::to_string(k.id) + ")",
              "logit " + fixed(k.logit, 3) + "  probability " + percent(std::exp(k.logprob)));
  s += line("entropy", fixed(t.entropy, 3) + " nats (0: certain; log of the vocabulary size: no idea)");
  s += sampling_section(t);
  return s;
}

}  // namespace tinygpt
