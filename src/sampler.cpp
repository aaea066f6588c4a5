#include "tinygpt/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "float_text.h"
#include "tinygpt/error.h"

namespace tinygpt {

static std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

Rng::Rng(std::uint64_t seed) {
  for (auto& word : s_) word = splitmix64(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

void validate(const SamplerParams& p) {
  if (!(p.temperature >= 0) || !std::isfinite(p.temperature))
    throw_parameter_error("temperature",
                          "temperature must be a number >= 0 (0 is greedy), got " + shortest(p.temperature));
  if (p.top_k < 0)
    throw_parameter_error("top_k", "top_k must be >= 0 (0 turns it off), got " + std::to_string(p.top_k));
  if (!(p.top_p > 0 && p.top_p <= 1))
    throw_parameter_error("top_p", "top_p must be in (0, 1] (1 turns it off), got " + shortest(p.top_p));
  if (!(p.min_p >= 0 && p.min_p <= 1))
    throw_parameter_error("min_p", "min_p must be in [0, 1] (0 turns it off), got " + shortest(p.min_p));
}

std::int32_t argmax(std::span<const float> logits, std::int32_t n_valid) {
  std::int32_t best = 0;
  for (std::int32_t i = 1; i < n_valid; ++i)
    if (logits[static_cast<std::size_t>(i)] > logits[static_cast<std::size_t>(best)]) best = i;
  return best;
}

std::vector<Candidate> filter(std::span<const float> logits, std::int32_t n_valid, const SamplerParams& p) {
  if (p.temperature == 0 || p.top_k == 1) return {{argmax(logits, n_valid), 1.0}};
  std::vector<Candidate> c(static_cast<std::size_t>(n_valid));
  for (std::int32_t i = 0; i < n_valid; ++i) c[static_cast<std::size_t>(i)] = {i, logits[static_cast<std::size_t>(i)]};
  auto better = [](const Candidate& a, const Candidate& b) {
    return a.prob > b.prob || (a.prob == b.prob && a.id < b.id);
  };
  const std::size_t k = p.top_k > 0 ? std::min<std::size_t>(static_cast<std::size_t>(p.top_k), c.size()) : c.size();
  std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(k), c.end(), better);
  c.resize(k);
  // softmax(logit / T) over the survivors, in double so the cut below is stable.
  const double max = c.front().prob;
  double total = 0;
  for (auto& x : c) total += (x.prob = std::exp((x.prob - max) / p.temperature));
  for (auto& x : c) x.prob /= total;
  if (p.top_p < 1) {
    double cumulative = 0;
    std::size_t keep = 0;
    while (keep < c.size()) {
      cumulative += c[keep++].prob;
      if (cumulative >= p.top_p) break;
    }
    c.resize(keep);
    for (auto& x : c) x.prob /= cumulative;
  }
  if (p.min_p > 0) {
    // The ratio to the top probability is what min-p compares, and no renormalisation
    // above changes it; a token exactly at the threshold stays.
    const double threshold = p.min_p * c.front().prob;
    double kept = 0;
    std::size_t keep = 0;
    while (keep < c.size() && c[keep].prob >= threshold) kept += c[keep++].prob;
    c.resize(keep);
    for (auto& x : c) x.prob /= kept;
  }
  return c;
}

std::int32_t sample(std::span<const float> logits, std::int32_t n_valid, const SamplerParams& p, Rng& rng) {
  if (p.temperature == 0 || p.top_k == 1) return argmax(logits, n_valid);
  const std::vector<Candidate> c = filter(logits, n_valid, p);
  const double u = rng.uniform();
  double cumulative = 0;
  for (const auto& x : c) {
    cumulative += x.prob;
    if (u < cumulative) return x.id;
  }
  return c.back().id;  // u landed in the rounding slack of the last bucket
}

std::vector<double> log_softmax(std::span<const float> logits, std::int32_t n_valid) {
  const auto n = static_cast<std::size_t>(n_valid);
  const double max = *std::max_element(logits.begin(), logits.begin() + static_cast<std::ptrdiff_t>(n));
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += std::exp(logits[i] - max);
  const double log_z = max + std::log(sum);
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = logits[i] - log_z;
  return out;
}

}  // namespace tinygpt
