// The sampler: greedy ties, top-k / top-p filtering, temperature, padding and seeds.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <vector>

#include "tinygpt/error.h"
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
  CHECK_NOTHROW(validate({0.0f, 0, 1.0f}));
}
