// The sampler: greedy ties, top-k / top-p filtering, temperature, padding and seeds.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <vector>

#include "tinygpt/error.h"
#include "tinygpt/penalties.h"
#include "tinygpt/sampler.h"

using namespace tinygpt;

TEST_CASE("the PRNG is specified bit for bit", "[sampler]") {
  Rng a(42), b(42), c(43);
  const std::uint64_t first = a.next();
  CHECK(first == b.next());
  CHECK(first != c.next());
  // xoshiro256** seeded by splitmix64, values computed independently (Python, see the
  // algorithm in sampler.cpp); a change of generator would change every seeded run.
  Rng zero(0);
  CHECK(zero.next() == 0x99ec5f36cb75f2b4ULL);
  CHECK(zero.next() == 0xbf6e1f784956452aULL);
  CHECK(zero.next() == 0x1a5f849d4933e6e0ULL);
  CHECK(first == 0x15780b2e0c2ec716ULL);
  for (int i = 0; i < 1000; ++i) {
    const double u = a.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("greedy picks the largest logit, ties to the lowest id, never padding", "[sampler]") {
  const std::vector<float> logits = {0.5f, 2.0f, 2.0f, 1.0f, 9.0f};
  CHECK(argmax(logits, 4) == 1);  // id 4 is padding (n_valid = 4)
  CHECK(argmax(logits, 5) == 4);
  SamplerParams greedy;
  greedy.temperature = 0;
  Rng rng(1);
  CHECK(sample(logits, 4, greedy, rng) == 1);
}

TEST_CASE("top-k 1 and a tiny top-p keep only the most likely token at any temperature", "[sampler]") {
  const std::vector<float> logits = {0.1f, 3.0f, 2.9f, -1.0f};
  for (float t : {0.5f, 1.0f, 5.0f}) {
    SamplerParams k1{t, 1, 1.0f};
    SamplerParams p0{t, 0, 1e-6f};
    Rng rng(7);
    for (int i = 0; i < 50; ++i) {
      REQUIRE(sample(logits, 4, k1, rng) == 1);
      REQUIRE(sample(logits, 4, p0, rng) == 1);
    }
    REQUIRE(filter(logits, 4, p0).size() == 1);
  }
}

TEST_CASE("filter applies temperature, then top-k, then top-p", "[sampler]") {
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  SamplerParams p{1.0f, 0, 1.0f};
  auto all = filter(logits, 4, p);
  REQUIRE(all.size() == 4);
  CHECK(all[0].id == 0);
  CHECK(all[0].prob == Approx(0.5));
  CHECK(all[3].prob == Approx(0.05));

  p.top_k = 2;
  auto k2 = filter(logits, 4, p);
  REQUIRE(k2.size() == 2);
  CHECK(k2[0].prob == Approx(0.5 / 0.8));
  CHECK(k2[1].prob == Approx(0.3 / 0.8));

  p.top_k = 0;
  p.top_p = 0.79f;  // 0.5 + 0.3 passes 0.79: two survive
  auto p8 = filter(logits, 4, p);
  REQUIRE(p8.size() == 2);
  p.top_p = 0.81f;
  REQUIRE(filter(logits, 4, p).size() == 3);

  p.top_p = 1.0f;
  p.temperature = 2.0f;  // flatter: probabilities proportional to sqrt
  auto hot = filter(logits, 4, p);
  const double z = std::sqrt(0.5) + std::sqrt(0.3) + std::sqrt(0.15) + std::sqrt(0.05);
  CHECK(hot[0].prob == Approx(std::sqrt(0.5) / z));
}

TEST_CASE("sampling follows the distribution and is reproducible by seed", "[sampler]") {
  const std::vector<float> logits = {std::log(0.6f), std::log(0.3f), std::log(0.1f), 50.0f};
  SamplerParams p{1.0f, 0, 1.0f};
  Rng rng(123);
  std::map<int, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) counts[sample(logits, 3, p, rng)]++;  // id 3 is padding
  CHECK(counts[3] == 0);
  CHECK(counts[0] / double(n) == Approx(0.6).margin(0.02));
  CHECK(counts[1] / double(n) == Approx(0.3).margin(0.02));
  CHECK(counts[2] / double(n) == Approx(0.1).margin(0.02));

  Rng a(99), b(99);
  for (int i = 0; i < 100; ++i) REQUIRE(sample(logits, 3, p, a) == sample(logits, 3, p, b));
}

TEST_CASE("log_softmax is over the real vocabulary", "[sampler]") {
  const std::vector<float> logits = {1.0f, 2.0f, 100.0f};
  const auto lp = log_softmax(logits, 2);
  REQUIRE(lp.size() == 2);
  CHECK(std::exp(lp[0]) + std::exp(lp[1]) == Approx(1.0));
  CHECK(lp[1] - lp[0] == Approx(1.0));
}

TEST_CASE("bad sampler settings are usage errors", "[sampler]") {
  auto kind_of = [](SamplerParams p) {
    try {
      validate(p);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::model;
  };
  CHECK(kind_of({-0.1f, 0, 1.0f}) == ErrorKind::usage);
  CHECK(kind_of({1.0f, -1, 1.0f}) == ErrorKind::usage);
  CHECK(kind_of({1.0f, 0, 0.0f}) == ErrorKind::usage);
  CHECK(kind_of({1.0f, 0, 1.5f}) == ErrorKind::usage);
  CHECK(kind_of({NAN, 0, 1.0f}) == ErrorKind::usage);
  CHECK_NOTHROW(validate(SamplerParams{0.0f, 0, 1.0f}));
}

namespace {

std::vector<float> logs(std::initializer_list<double> probs) {
  std::vector<float> out;
  for (double p : probs) out.push_back(static_cast<float>(std::log(p)));
  return out;
}

std::vector<std::int32_t> ids_of(const std::vector<Candidate>& c) {
  std::vector<std::int32_t> out;
  for (const auto& x : c) out.push_back(x.id);
  return out;
}

}  // namespace

TEST_CASE("top-p keeps the token whose probability reaches p (>=, not >), and renormalises", "[sampler]") {
  const std::vector<float> equal(4, 0.0f);  // four tokens of exactly 0.25
  SamplerParams p{1.0f, 0, 0.5f, 0.0f};
  auto half = filter(equal, 4, p);
  REQUIRE(half.size() == 2);   // 0.25 + 0.25 reaches 0.5 exactly: with > it would take a third
  CHECK(half[0].prob == 0.5);  // renormalised over the survivors, exactly
  CHECK(half[1].prob == 0.5);
  p.top_p = 0.75f;
  auto three = filter(equal, 4, p);
  REQUIRE(three.size() == 3);
  for (const auto& c : three) CHECK(c.prob == Approx(1.0 / 3).epsilon(1e-15));

  // Values, not only counts: without the renormalisation these would be 0.5 and 0.3.
  auto kept = filter(logs({0.5, 0.3, 0.15, 0.05}), 4, {1.0f, 0, 0.79f, 0.0f});
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].prob == Approx(0.5 / 0.8).epsilon(1e-6));
  CHECK(kept[1].prob == Approx(0.3 / 0.8).epsilon(1e-6));
}

TEST_CASE("min-p keeps tokens at least min_p x the top probability, exactly at it included", "[sampler]") {
  const std::vector<float> equal(3, 1.5f);
  CHECK(filter(equal, 3, {1.0f, 0, 1.0f, 1.0f}).size() == 3);               // all exactly at the threshold
  auto c = filter(logs({0.5, 0.3, 0.15, 0.05}), 4, {1.0f, 0, 1.0f, 0.5f});  // threshold 0.25
  REQUIRE(ids_of(c) == std::vector<std::int32_t>{0, 1});
  CHECK(c[0].prob == Approx(0.5 / 0.8).epsilon(1e-6));
  CHECK(c[1].prob == Approx(0.3 / 0.8).epsilon(1e-6));
  // The threshold is on the distribution after temperature: hotter keeps more.
  CHECK(filter(logs({0.5, 0.3, 0.15, 0.05}), 4, {4.0f, 0, 1.0f, 0.5f}).size() == 4);
  CHECK(filter(logs({0.5, 0.3, 0.15, 0.05}), 4, {1.0f, 0, 1.0f, 0.0f}).size() == 4);  // 0 is off
}

// Each pair below gives a different result in the other order, so these pin the documented
// one: penalties -> temperature -> top-k -> top-p -> min-p.
TEST_CASE("the filters run in the documented order", "[sampler]") {
  const auto probs = logs({0.4, 0.3, 0.2, 0.1});
  // top-k before top-p: top-k 2 leaves 0.571 / 0.429, and 0.571 alone reaches top-p 0.5
  // (top-p first would keep 0.4 + 0.3, and top-k 2 both of them).
  CHECK(ids_of(filter(probs, 4, {1.0f, 2, 0.5f, 0.0f})) == std::vector<std::int32_t>{0});
  // top-p before min-p: top-p 0.5 keeps 0.4 + 0.3; min-p 0.6 of 0.571 then keeps both
  // (min-p first would keep the same two, renormalised, and top-p 0.5 only the first).
  CHECK(ids_of(filter(probs, 4, {1.0f, 0, 0.5f, 0.6f})) == std::vector<std::int32_t>{0, 1});
  // temperature before top-p: at T = 2 the probabilities are 0.325, 0.282, 0.230, 0.163, so
  // reaching 0.65 takes three (at T = 1 it would take two).
  CHECK(filter(probs, 4, {2.0f, 0, 0.65f, 0.0f}).size() == 3);
  // penalties before temperature: a frequency penalty of 1 on logits 2 and 1 makes them
  // equal, at any temperature (after dividing by T = 0.5 it would leave 3 and 2).
  std::vector<float> logits = {2.0f, 1.0f};
  const std::vector<std::int32_t> context = {1, 0};  // a prompt of one token, then token 0 generated
  PenaltyParams pen;
  pen.frequency_penalty = 1.0f;
  apply_penalties(logits, 2, context, 1, pen);
  const auto c = filter(logits, 2, {0.5f, 0, 1.0f, 0.0f});
  REQUIRE(c.size() == 2);
  CHECK(c[0].prob == 0.5);
  // And temperature 0 is the argmax after the penalties.
  logits = {2.0f, 1.5f};
  apply_penalties(logits, 2, context, 1, pen);
  Rng rng(1);
  CHECK(sample(logits, 2, {0.0f, 0, 1.0f, 0.0f}, rng) == 1);
}

TEST_CASE("the repeat penalty divides positive logits and multiplies negative ones, once per token", "[sampler]") {
  std::vector<float> logits = {2.0f, -2.0f, 3.0f, 0.0f, 9.0f};
  const std::vector<std::int32_t> context = {0, 1, 1, 1, 4};  // id 4 is padding (n_valid 4)
  PenaltyParams p;
  p.repeat_penalty = 2.0f;
  apply_penalties(logits, 4, context, 5, p);  // all of it prompt: the repeat penalty counts it
  CHECK(logits == std::vector<float>{1.0f, -4.0f, 3.0f, 0.0f, 9.0f});
  // Only the last repeat_last_n ids count.
  logits = {2.0f, -2.0f, 3.0f, 0.0f};
  p.repeat_last_n = 2;
  apply_penalties(logits, 4, std::vector<std::int32_t>{0, 2, 1}, 3, p);
  CHECK(logits == std::vector<float>{2.0f, -4.0f, 1.5f, 0.0f});
  p.repeat_last_n = 0;  // off
  CHECK_FALSE(any_penalty(p));
}

TEST_CASE("frequency and presence penalties count the generated tokens only", "[sampler]") {
  std::vector<float> logits = {1.0f, 1.0f, 1.0f, 1.0f};
  const std::vector<std::int32_t> context = {3, 3, 0, 1, 0};  // prompt {3, 3}, generated {0, 1, 0}
  PenaltyParams p;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.25f;
  apply_penalties(logits, 4, context, 2, p);
  CHECK(logits == std::vector<float>{1.0f - 2 * 0.5f - 0.25f, 1.0f - 0.5f - 0.25f, 1.0f, 1.0f});
}

TEST_CASE("bad penalty and min-p settings are usage errors naming the parameter", "[sampler]") {
  auto parameter_of = [](auto params) {
    try {
      validate(params);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      return e.parameter();
    }
    return std::string("none");
  };
  CHECK(parameter_of(SamplerParams{1.0f, 0, 1.0f, 1.5f}) == "min_p");
  CHECK(parameter_of(SamplerParams{1.0f, 0, 1.0f, -0.1f}) == "min_p");
  CHECK(parameter_of(PenaltyParams{0.0f, 64, 0, 0}) == "repeat_penalty");
  CHECK(parameter_of(PenaltyParams{NAN, 64, 0, 0}) == "repeat_penalty");
  CHECK(parameter_of(PenaltyParams{1.0f, -1, 0, 0}) == "repeat_last_n");
  CHECK(parameter_of(PenaltyParams{1.0f, 64, 2.5f, 0}) == "frequency_penalty");
  CHECK(parameter_of(PenaltyParams{1.0f, 64, 0, -2.5f}) == "presence_penalty");
  CHECK(parameter_of(PenaltyParams{}) == "none");
}
