// The sampler and the penalties against tools/reference.py (tests/fixtures/sampling, from
// `reference.py make-sampling-fixtures`): greedy decoding with each penalty alone and all
// together, seeded samples with temperature, top-k, top-p, min-p and the penalties set
// together (token for token: the reference has the same generator and draws), the
// log-probabilities and --top-logprobs of every step, all through the real binary; and the
// filtered distribution before the draw (the library's filter()), values included.
#include <catch2/catch.hpp>
#include <cmath>

#include "helpers.h"
#include "tinygpt/decoder.h"
#include "tinygpt/load.h"
#include "tinygpt/penalties.h"
#include "tinygpt/sampler.h"

using namespace tinygpt;
using namespace tinygpt::test;

namespace {

const nlohmann::json& goldens() {
  static const nlohmann::json g = read_json(fixture("sampling/sampling.golden.json"));
  return g;
}

// The golden's settings as the command line's flags (written as the golden has them, so
// the engine's float32 is the reference's float32).
std::string flags(const nlohmann::json& run) {
  const auto& s = run["sampler"];
  const auto& p = run["penalties"];
  std::string f = " --temperature " + s["temperature"].dump() + " --top-k " + s["top_k"].dump() + " --top-p " +
                  s["top_p"].dump() + " --min-p " + s["min_p"].dump();
  for (const auto& [key, flag] :
       {std::pair{"repeat_penalty", "--repeat-penalty"}, std::pair{"repeat_last_n", "--repeat-last-n"},
        std::pair{"frequency_penalty", "--frequency-penalty"}, std::pair{"presence_penalty", "--presence-penalty"}})
    if (p.contains(key)) f += std::string(" ") + flag + " " + p[key].dump();
  return f;
}

PenaltyParams penalties_of(const nlohmann::json& p) {
  PenaltyParams out;
  if (p.contains("repeat_penalty")) out.repeat_penalty = p["repeat_penalty"].get<float>();
  if (p.contains("repeat_last_n")) out.repeat_last_n = p["repeat_last_n"].get<int>();
  if (p.contains("frequency_penalty")) out.frequency_penalty = p["frequency_penalty"].get<float>();
  if (p.contains("presence_penalty")) out.presence_penalty = p["presence_penalty"].get<float>();
  return out;
}

}  // namespace

TEST_CASE("greedy and seeded sampling with penalties and filters match the reference token for token",
          "[sampling][reference]") {
  int changed_by_penalties = 0;
  for (const auto& run : goldens()["runs"]) {
    const std::string name = run["model"].get<std::string>() + " " + run["name"].get<std::string>();
    INFO(name);
    const auto r = run_cli("generate --json -m " + quote(fixture("ref/" + run["model"].get<std::string>())) + " " +
                           quote(run["prompt"]) + " -n " + run["max_new_tokens"].dump() + " --seed " +
                           run["seed"].dump() + " --top-logprobs " + run["top_logprobs"].dump() + flags(run));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["prompt_ids"] == run["input_ids"]);
    REQUIRE(j["ids"] == run["ids"]);
    CHECK(j["stop_reason"] == run["stop_reason"]);
    for (std::size_t i = 0; i < run["ids"].size(); ++i) {
      const auto& step = j["steps"][i];
      CHECK(step["logprob"].get<double>() == Approx(run["logprobs"][i].get<double>()).margin(1e-4));
      const auto& want = run["top"][i];
      REQUIRE(step["top_logprobs"].size() == want.size());
      for (std::size_t k = 0; k < want.size(); ++k) {
        CHECK(step["top_logprobs"][k]["id"] == want[k]["id"]);
        CHECK(step["top_logprobs"][k]["logprob"].get<double>() ==
              Approx(want[k]["logprob"].get<double>()).margin(1e-4));
      }
    }
    if (run["sampler"]["temperature"] == 0 && run["differs_from_plain"].get<bool>()) ++changed_by_penalties;
  }
  // The goldens are worth something only where a penalty changed the greedy text.
  CHECK(changed_by_penalties >= 5);
}

TEST_CASE("the distribution before the draw matches the reference, probabilities included", "[sampling][reference]") {
  for (const auto& c : goldens()["filters"]) {
    INFO(c["model"].get<std::string>() << " " << c["name"].get<std::string>());
    const Model model = load_model(fixture("ref/" + c["model"].get<std::string>()));
    const auto ids = c["input_ids"].get<std::vector<std::int32_t>>();
    State state = make_state(model.config, static_cast<int>(ids.size()));
    const auto raw = forward(model, state, ids, {});
    std::vector<float> logits(raw.begin(), raw.end());
    const std::int32_t n_valid = model.tokenizer.size();
    apply_penalties(logits, n_valid, c["context"].get<std::vector<std::int32_t>>(), c["n_prompt"].get<std::size_t>(),
                    penalties_of(c["penalties"]));
    const auto& s = c["sampler"];
    const SamplerParams p{s["temperature"].get<float>(), s["top_k"].get<int>(), s["top_p"].get<float>(),
                          s["min_p"].get<float>()};
    const std::vector<Candidate> got = filter(logits, n_valid, p);
    const auto& want = c["candidates"];
    REQUIRE(got.size() == want.size());
    double total = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].id == want[i]["id"].get<int>());
      CHECK(got[i].prob == Approx(want[i]["prob"].get<double>()).margin(1e-5));
      total += got[i].prob;
    }
    CHECK(total == Approx(1.0).margin(1e-12));
  }
}
