#pragma once
// Repetition penalties: the logits of tokens already seen are pushed down before the
// sampler (sampler.h) sees them. Both common conventions, each off by default:
//   - repeat_penalty (CTRL, Hugging Face, llama.cpp): a token among the last
//     repeat_last_n ids of the context (bos, prompt and generated tokens) has its logit l
//     become l / R when l > 0, else l x R, once however often it occurs;
//   - frequency_penalty and presence_penalty (OpenAI): l -= count x F + (count > 0) x P,
//     with count the number of times the token was generated (the prompt does not count).
// The repeat penalty is applied first, then the OpenAI ones.
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinygpt {

struct PenaltyParams {
  float repeat_penalty = 1.0f;     // 1 = off; > 1 discourages repeats, < 1 encourages them
  int repeat_last_n = 64;          // how many of the latest ids the repeat penalty looks at
  float frequency_penalty = 0.0f;  // 0 = off; in [-2, 2] as in the OpenAI API
  float presence_penalty = 0.0f;   // 0 = off; in [-2, 2]
};

// Checks ranges; throws Error(usage) naming the parameter.
void validate(const PenaltyParams& p);

// Whether any penalty would change a logit (when none does, the logits are used as they are).
bool any_penalty(const PenaltyParams& p);

// Applies the penalties to logits[0, n_valid) in place. `context` is every id the model has
// seen, oldest first: the prompt's n_prompt ids (bos included), then the generated ones.
void apply_penalties(std::span<float> logits, std::int32_t n_valid, std::span<const std::int32_t> context,
                     std::size_t n_prompt, const PenaltyParams& p);

}  // namespace tinygpt
