#include "generate_json.h"

#include "utf8.h"

namespace tinygpt::cli {

namespace {

nlohmann::json token_json(const Tokenizer& tok, std::int32_t id, double logprob) {
  return {{"id", id}, {"token", tok.token_text(id)}, {"logprob", logprob}};
}

}  // namespace

nlohmann::json result_json(const Tokenizer& tok, const GenerateResult& r, const GenerateParams& params) {
  nlohmann::json steps = nlohmann::json::array();
  for (const Step& s : r.steps) {
    nlohmann::json step = token_json(tok, s.id, s.logprob);
    if (params.top_logprobs > 0) {
      step["top_logprobs"] = nlohmann::json::array();
      for (const auto& t : s.top) step["top_logprobs"].push_back(token_json(tok, t.id, t.logprob));
    }
    steps.push_back(std::move(step));
  }
  nlohmann::json out = {{"prompt_ids", r.prompt_ids},
                        {"ids", r.ids},
                        {"text", utf8::sanitize(r.text)},
                        {"stop_reason", to_string(r.stop)}};
  if (r.stop_string) out["stop_string"] = params.stop.at(*r.stop_string);
  out["seed"] = params.seed;
  out["steps"] = std::move(steps);
  return out;
}

}  // namespace tinygpt::cli
