#pragma once
// Autoregressive decoding: prompt -> ids -> prefill -> sample, feed back, stop.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tinygpt/model.h"
#include "tinygpt/sampler.h"

namespace tinygpt {

enum class StopReason { eos, max_new_tokens, context_full };
const char* to_string(StopReason r);

struct GenerateParams {
  int max_new_tokens = 200;
  SamplerParams sampler;
  std::uint64_t seed = 0;
  int top_logprobs = 0;  // alternatives to record per step (0 = none)
  int threads = 1;       // threads for the forward pass (<= 0: one per core); results do not depend on it
};

struct TokenLogprob {
  std::int32_t id;
  double logprob;
};

struct Step {
  std::int32_t id;
  double logprob;                 // log_softmax of the raw logits (temperature 1, before filtering)
  std::vector<TokenLogprob> top;  // the top_logprobs most likely, best first
};

struct GenerateResult {
  std::vector<std::int32_t> prompt_ids;  // bos (when the model has one) + the prompt's tokens
  std::vector<std::int32_t> ids;         // generated, including a final eos
  std::vector<Step> steps;               // one per generated id
  StopReason stop = StopReason::max_new_tokens;
  double prefill_seconds = 0, decode_seconds = 0;
};

// The k most likely ids of a log-softmax (sampler.h), best first, ties to the lower id.
std::vector<TokenLogprob> top_logprobs(std::span<const double> logprobs, int k);

// Checks ranges (max_new_tokens, top_logprobs >= 0, the sampler's); throws Error(usage)
// naming the parameter. generate() calls it; call it yourself to fail before loading.
void validate(const GenerateParams& params);

// Throws Error(input) for a prompt the model cannot take: no ids at all (an empty prompt
// on a model without bos), or more than n_ctx.
void check_prompt(const Model& model, std::span<const std::int32_t> ids);

// The ids the model sees for a prompt: bos (if any) + encode(prompt), checked as above.
std::vector<std::int32_t> prompt_ids(const Model& model, std::string_view prompt);

// `on_step` is called as soon as each token is chosen (for streaming).
GenerateResult generate(const Model& model, std::vector<std::int32_t> prompt_ids, const GenerateParams& params,
                        const std::function<void(const Step&)>& on_step = {});
inline GenerateResult generate(const Model& model, std::string_view prompt, const GenerateParams& params,
                               const std::function<void(const Step&)>& on_step = {}) {
  return generate(model, prompt_ids(model, prompt), params, on_step);
}

}  // namespace tinygpt
