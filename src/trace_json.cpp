// A trace as JSON: every number in full (floats as the shortest decimal that reads back
// as the same float).
#include <nlohmann/json.hpp>
#include <string>

#include "attention_format.h"
#include "tinygpt/trace.h"

namespace tinygpt {
namespace {

using attention_format::float_value;

nlohmann::json vec(const std::vector<float>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const float f : v) a.push_back(float_value(f));
  return a;
}

nlohmann::json vecs(const std::vector<std::vector<float>>& rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows) a.push_back(vec(r));
  return a;
}

nlohmann::json tops(const std::vector<TraceTop>& top, bool with_logit) {
  nlohmann::json a = nlohmann::json::array();
  for (const TraceTop& t : top) {
    nlohmann::json j = {{"id", t.id}, {"token", t.token}, {"logprob", t.logprob}};
    if (with_logit) j["logit"] = float_value(t.logit);
    a.push_back(std::move(j));
  }
  return a;
}

nlohmann::json candidates(const std::vector<TraceCandidate>& cs) {
  nlohmann::json a = nlohmann::json::array();
  for (const TraceCandidate& c : cs) a.push_back({{"id", c.id}, {"token", c.token}, {"prob", c.prob}});
  return a;
}

nlohmann::json head_json(const TraceHead& h) {
  return {{"head", h.head},
          {"q", vec(h.q)},
          {"k", vecs(h.k)},
          {"v", vecs(h.v)},
          {"scores", vec(h.scores)},
          {"scale", float_value(h.scale)},
          {"weights", vec(h.weights)},
          {"output", vec(h.output)}};
}

nlohmann::json layer_json(const TraceLayer& l) {
  nlohmann::json heads = nlohmann::json::array();
  for (const TraceHead& h : l.heads) heads.push_back(head_json(h));
  nlohmann::json j = {{"layer", l.layer},
                      {"input", vec(l.input)},
                      {"ln_1", vec(l.ln_1)},
                      {"heads", std::move(heads)},
                      {"attn_output", vec(l.attn_output)},
                      {"residual_after_attn", vec(l.residual_after_attn)},
                      {"ln_2", vec(l.ln_2)},
                      {"mlp_output", vec(l.mlp_output)},
                      {"output", vec(l.output)}};
  if (!l.lens_top.empty()) j["lens_top"] = tops(l.lens_top, false);
  return j;
}

}  // namespace

nlohmann::json trace_json(const Trace& t) {
  nlohmann::json embedding = {{"token_id", t.token_id},
                              {"positional", t.positional == Positional::learned ? "learned" : "sinusoidal"},
                              {"token_row", vec(t.token_row)},
                              {"position_row", vec(t.position_row)},
                              {"sum", vec(t.sum)}};
  if (t.positional == Positional::sinusoidal) {
    const std::string p = std::to_string(t.position), d = std::to_string(t.sum.size());
    embedding["formula"] = "PE[" + p + "][2i] = sin(" + p + " / 10000^(2i/" + d + ")), PE[" + p + "][2i+1] = cos(" + p +
                           " / 10000^(2i/" + d + "))";
  }
  nlohmann::json tokens = nlohmann::json::array(), layers = nlohmann::json::array();
  for (const TraceToken& k : t.tokens) tokens.push_back({{"id", k.id}, {"text", k.text}});
  for (const TraceLayer& l : t.layers) layers.push_back(layer_json(l));
  const TraceSampling& s = t.sampling;
  nlohmann::json sampling = {{"temperature", float_value(s.params.temperature)},
                             {"top_k", s.params.top_k},
                             {"top_p", float_value(s.params.top_p)},
                             {"seed", s.seed},
                             {"greedy", s.greedy},
                             {"after_temperature", candidates(s.after_temperature)},
                             {"after_top_k", candidates(s.after_top_k)},
                             {"after_top_p", candidates(s.after_top_p)},
                             {"candidates", s.candidates},
                             {"draw", s.greedy ? nlohmann::json(nullptr) : nlohmann::json(s.draw)},
                             {"chosen", {{"id", s.chosen.id}, {"token", s.chosen.text}}},
                             {"is_eos", s.is_eos}};
  return {{"tokens", std::move(tokens)}, {"position", t.position},         {"n_layer", t.n_layer},
          {"n_head", t.n_head},          {"head_dim", t.head_dim},         {"embedding", std::move(embedding)},
          {"layers", std::move(layers)}, {"final_ln", vec(t.final_ln)},    {"top", tops(t.top, true)},
          {"entropy", t.entropy},        {"sampling", std::move(sampling)}};
}

}  // namespace tinygpt
