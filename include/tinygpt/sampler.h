#pragma once
// Choosing the next token from logits. Our own PRNG and sampling arithmetic, because
// std:: distributions differ between standard libraries and a seed must reproduce a
// run on any machine.
#include <cstdint>
#include <span>
#include <vector>

namespace tinygpt {

// xoshiro256** seeded through splitmix64: small, fast, and specified bit for bit.
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  double uniform();  // [0, 1) with 53 random bits

 private:
  std::uint64_t s_[4];
};

// The filters run in this order, each on what the one before left (docs/how-it-works.md):
// temperature -> top-k -> top-p -> min-p, the survivors renormalised after each cut, then
// one draw. Repetition penalties (penalties.h) come before all of them, on the raw logits.
struct SamplerParams {
  float temperature = 0.8f;  // 0 = greedy
  int top_k = 40;            // 0 = off
  float top_p = 0.95f;       // 1 = off
  float min_p = 0.0f;        // drop tokens below min_p x the top probability; 0 = off
};

// Checks ranges; throws Error(usage) naming the parameter (Error::parameter()).
void validate(const SamplerParams& p);

// Greedy choice: the largest logit, ties to the lowest id, over ids [0, n_valid).
std::int32_t argmax(std::span<const float> logits, std::int32_t n_valid);

// Candidates that survive temperature, top-k, top-p and min-p, with their renormalised
// probabilities, most likely first (ties: lower id first). Exposed for tests and for
// people who want to see what the sampler chose from.
struct Candidate {
  std::int32_t id;
  double prob;
};
std::vector<Candidate> filter(std::span<const float> logits, std::int32_t n_valid, const SamplerParams& p);

// One token. Ids >= n_valid (padding rows of a padded vocabulary) are never chosen.
std::int32_t sample(std::span<const float> logits, std::int32_t n_valid, const SamplerParams& p, Rng& rng);

// log_softmax of the raw logits over [0, n_valid), in double precision.
std::vector<double> log_softmax(std::span<const float> logits, std::int32_t n_valid);

}  // namespace tinygpt
