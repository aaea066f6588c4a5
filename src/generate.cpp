#include "tinygpt/generate.h"

#include <algorithm>
#include <chrono>

#include "thread_pool.h"
#include "tinygpt/decoder.h"
#include "tinygpt/error.h"
#include "tinygpt/stop_strings.h"

namespace tinygpt {

const char* to_string(StopReason r) {
  switch (r) {
    case StopReason::eos:
      return "eos";
    case StopReason::max_new_tokens:
      return "max_new_tokens";
    case StopReason::context_full:
      return "context_full";
    case StopReason::stop_string:
      return "stop_string";
  }
  return "?";
}

void validate(const GenerateParams& p) {
  if (p.max_new_tokens < 0)
    throw_parameter_error("max_new_tokens", "max_new_tokens must be >= 0, got " + std::to_string(p.max_new_tokens));
  if (p.top_logprobs < 0)
    throw_parameter_error("top_logprobs", "top_logprobs must be >= 0, got " + std::to_string(p.top_logprobs));
  for (const std::string& s : p.stop)
    if (s.empty()) throw_parameter_error("stop", "stop: an empty string would stop before the first token");
  validate(p.sampler);
  validate(p.penalties);
}

void check_prompt(const Model& model, std::span<const std::int32_t> ids) {
  if (ids.empty()) throw_input_error("the prompt is empty and the model has no bos_token to start from");
  if (ids.size() > static_cast<std::size_t>(model.config.n_ctx))
    throw_input_error("the prompt is " + std::to_string(ids.size()) + " tokens long but the model's context holds " +
                      std::to_string(model.config.n_ctx));
}

std::vector<std::int32_t> prompt_ids(const Model& model, std::string_view prompt) {
  std::vector<std::int32_t> ids = model.tokenizer.encode_with_bos(prompt);
  check_prompt(model, ids);
  return ids;
}

std::vector<TokenLogprob> top_logprobs(std::span<const double> logprobs, int k) {
  if (k <= 0) return {};  // every decoded token comes through here: no work when none are asked for
  std::vector<std::int32_t> order(logprobs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int32_t>(i);
  const auto n = std::min<std::size_t>(static_cast<std::size_t>(std::max(k, 0)), order.size());
  auto lp = [&](std::int32_t id) { return logprobs[static_cast<std::size_t>(id)]; };
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                    [&](auto a, auto b) { return lp(a) > lp(b) || (lp(a) == lp(b) && a < b); });
  std::vector<TokenLogprob> top;
  for (std::size_t i = 0; i < n; ++i) top.push_back({order[i], lp(order[i])});
  return top;
}

static Step make_step(std::span<const float> logits, std::int32_t n_valid, std::int32_t id, int top_k) {
  const std::vector<double> lp = log_softmax(logits, n_valid);
  return Step{id, lp[static_cast<std::size_t>(id)], top_logprobs(lp, top_k), {}};
}

GenerateResult generate(const Model& model, std::vector<std::int32_t> ids, const GenerateParams& params,
                        const std::function<void(const Step&)>& on_step) {
  validate(params);
  using clock = std::chrono::steady_clock;
  GenerateResult r;
  r.prompt_ids = std::move(ids);
  const int n_ctx = model.config.n_ctx;
  check_prompt(model, r.prompt_ids);
  const auto n_prompt = static_cast<int>(r.prompt_ids.size());
  if (n_prompt == n_ctx) {
    r.stop = StopReason::context_full;
    return r;
  }
  if (params.max_new_tokens == 0) return r;  // max_new_tokens

  // The cache needs room for every token we feed back, not for the last one sampled.
  State state = make_state(
      model.config, static_cast<int>(std::min<std::int64_t>(n_ctx, std::int64_t{n_prompt} + params.max_new_tokens)));
  const std::int32_t n_valid = model.tokenizer.size();
  const auto eos = model.tokenizer.eos_id();
  Rng rng(params.seed);
  ThreadPool pool(params.threads);
  ForwardOptions options;
  options.pool = &pool;

  const auto t0 = clock::now();
  std::span<const float> logits = forward(model, state, r.prompt_ids, options);
  auto t1 = clock::now();
  r.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();

  StopStrings stops(params.stop);
  std::size_t shown = 0;  // bytes of stops.text() handed out in steps so far
  // Penalties work on a copy: the reported logprobs are the model's own distribution.
  const bool penalise = any_penalty(params.penalties);
  std::vector<float> penalised;
  std::vector<std::int32_t> seen;  // every id the model has read or written, for the penalties
  if (penalise) seen = r.prompt_ids;
  while (true) {
    std::span<const float> scores = logits;
    if (penalise) {
      penalised.assign(logits.begin(), logits.end());
      apply_penalties(penalised, n_valid, seen, r.prompt_ids.size(), params.penalties);
      scores = penalised;
    }
    const std::int32_t id = sample(scores, n_valid, params.sampler, rng);
    r.ids.push_back(id);
    if (penalise) seen.push_back(id);
    if (!model.tokenizer.is_special(id)) stops.push(model.tokenizer.token_bytes(id));
    bool end = true;
    if (stops.matched()) {
      r.stop = StopReason::stop_string;
      r.stop_string = stops.matched();
    } else if (eos && id == *eos) {
      r.stop = StopReason::eos;
    } else if (static_cast<int>(r.ids.size()) == params.max_new_tokens) {
      r.stop = StopReason::max_new_tokens;
    } else if (n_prompt + static_cast<int>(r.ids.size()) == n_ctx) {
      r.stop = StopReason::context_full;
    } else {
      end = false;
    }
    Step step = make_step(logits, n_valid, id, params.top_logprobs);
    const std::size_t settled = end ? stops.text().size() : stops.settled();
    step.text = stops.text().substr(shown, settled - shown);
    shown = settled;
    r.steps.push_back(std::move(step));
    if (on_step) on_step(r.steps.back());
    if (end) break;
    const std::int32_t next[1] = {id};
    logits = forward(model, state, next, options);
  }
  r.text = stops.text();
  r.decode_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return r;
}

}  // namespace tinygpt
