#include "tinygpt/penalties.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "float_text.h"
#include "tinygpt/error.h"

namespace tinygpt {

void validate(const PenaltyParams& p) {
  if (!(p.repeat_penalty > 0) || !std::isfinite(p.repeat_penalty))
    throw_parameter_error("repeat_penalty",
                          "repeat_penalty must be a number > 0 (1 turns it off), got " + shortest(p.repeat_penalty));
  if (p.repeat_last_n < 0)
    throw_parameter_error("repeat_last_n",
                          "repeat_last_n must be >= 0 (0 turns it off), got " + std::to_string(p.repeat_last_n));
  if (!(p.frequency_penalty >= -2 && p.frequency_penalty <= 2))
    throw_parameter_error("frequency_penalty", "frequency_penalty must be in [-2, 2] (0 turns it off), got " +
                                                   shortest(p.frequency_penalty));
  if (!(p.presence_penalty >= -2 && p.presence_penalty <= 2))
    throw_parameter_error("presence_penalty",
                          "presence_penalty must be in [-2, 2] (0 turns it off), got " + shortest(p.presence_penalty));
}

bool any_penalty(const PenaltyParams& p) {
  return (p.repeat_penalty != 1 && p.repeat_last_n > 0) || p.frequency_penalty != 0 || p.presence_penalty != 0;
}

void apply_penalties(std::span<float> logits, std::int32_t n_valid, std::span<const std::int32_t> context,
                     std::size_t n_prompt, const PenaltyParams& p) {
  const auto valid = [&](std::int32_t id) { return id >= 0 && id < n_valid; };
  if (p.repeat_penalty != 1 && p.repeat_last_n > 0) {
    // A token counts once however often it occurs in the window, as in the implementations
    // this follows; marking it first keeps that true.
    const std::size_t n = std::min(context.size(), static_cast<std::size_t>(p.repeat_last_n));
    std::vector<bool> seen(static_cast<std::size_t>(n_valid), false);
    for (const std::int32_t id : context.subspan(context.size() - n))
      if (valid(id)) seen[static_cast<std::size_t>(id)] = true;
    for (std::size_t id = 0; id < seen.size(); ++id) {
      if (!seen[id]) continue;
      float& l = logits[id];
      l = l > 0 ? l / p.repeat_penalty : l * p.repeat_penalty;
    }
  }
  if (p.frequency_penalty != 0 || p.presence_penalty != 0) {
    std::vector<int> count(static_cast<std::size_t>(n_valid), 0);
    for (const std::int32_t id : context.subspan(std::min(n_prompt, context.size())))
      if (valid(id)) ++count[static_cast<std::size_t>(id)];
    for (std::size_t id = 0; id < count.size(); ++id)
      if (count[id] > 0) logits[id] -= static_cast<float>(count[id]) * p.frequency_penalty + p.presence_penalty;
  }
}

}  // namespace tinygpt
