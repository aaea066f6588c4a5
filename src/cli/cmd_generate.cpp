// tiny-gpt generate PROMPT: continue text, streaming it to stdout as it is sampled.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <random>

#include "common.h"
#include "model_choice.h"
#include "tinygpt/error.h"
#include "tinygpt/generate.h"
#include "utf8.h"

namespace tinygpt::cli {
namespace {

struct GenerateOptions {
  ModelOptions model;
  std::string prompt;
  GenerateParams params;
  std::optional<std::uint64_t> seed;
  bool json = false;
  bool no_echo = false;
  bool show_special = false;
};

nlohmann::json token_json(const Tokenizer& tok, std::int32_t id, double logprob) {
  return {{"id", id}, {"token", tok.token_text(id)}, {"logprob", logprob}};
}

void run(const CLI::App& cmd, const GenerateOptions& o) {
  require(cmd, "prompt");
  if (o.params.top_logprobs > 0 && !o.json)
    throw_usage_error(
        "--top-logprobs adds the most likely tokens to each step of the --json output: use it with --json");
  GenerateParams params = o.params;
  params.seed = o.seed ? *o.seed : std::random_device{}();
  validate(params);  // before the model is read: a bad flag is reported at once
  const Model model = load_for(o.model, {o.prompt});
  const Tokenizer& tok = model.tokenizer;

  // Encode first: a prompt the model cannot take must fail before anything is printed.
  std::vector<std::int32_t> ids = prompt_ids(model, o.prompt);
  // --show-special: the begin token the model read before the prompt, and the end token
  // where it stopped, so the BOS ... END loop is visible in the text.
  const bool shows_bos =
      o.show_special && !o.json && !o.no_echo && !ids.empty() && tok.bos_id() && ids.front() == *tok.bos_id();
  utf8::StreamDecoder stream;
  // The prompt is echoed with the first token, once the threads, the cache and the
  // prompt's pass have all worked out: a failure to get any of them prints nothing.
  bool echoed = o.json || o.no_echo;
  auto echo = [&] {
    if (echoed) return;
    echoed = true;
    if (shows_bos) std::fputs(tok.token_text(*tok.bos_id()).c_str(), stdout);
    std::fputs(utf8::sanitize(o.prompt).c_str(), stdout);
  };
  const GenerateResult r = generate(model, std::move(ids), params, [&](const Step& step) {
    echo();
    if (o.json) return;
    if (tok.is_special(step.id)) {
      if (o.show_special) std::fputs((stream.finish() + tok.token_text(step.id)).c_str(), stdout);
      return;
    }
    const std::string text = stream.push(tok.token_bytes(step.id));
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  });
  echo();  // nothing was generated (-n 0, or the prompt fills the context)

  if (o.json) {
    nlohmann::json steps = nlohmann::json::array();
    for (const Step& s : r.steps) {
      nlohmann::json step = token_json(tok, s.id, s.logprob);
      if (params.top_logprobs > 0) {
        step["top_logprobs"] = nlohmann::json::array();
        for (const auto& t : s.top) step["top_logprobs"].push_back(token_json(tok, t.id, t.logprob));
      }
      steps.push_back(std::move(step));
    }
    const nlohmann::json out = {
        {"prompt_ids", r.prompt_ids},       {"ids", r.ids},        {"text", utf8::sanitize(tok.decode(r.ids))},
        {"stop_reason", to_string(r.stop)}, {"seed", params.seed}, {"steps", std::move(steps)}};
    std::puts(dump_json(out).c_str());
  } else {
    const std::string tail = stream.finish();
    std::fputs(tail.c_str(), stdout);
    std::fputs("\n", stdout);
  }
  std::fflush(stdout);

  const char* why = r.stop == StopReason::eos              ? "the model produced its end token"
                    : r.stop == StopReason::max_new_tokens ? "reached --max-new-tokens"
                                                           : "the context is full";
  spdlog::info("stop: {} ({}), {} tokens generated", to_string(r.stop), why, r.ids.size());
  const double decode_tps = r.decode_seconds > 0 && r.ids.size() > 1 ? (r.ids.size() - 1) / r.decode_seconds : 0.0;
  spdlog::debug("prompt: {} tokens in {:.3f} s ({:.0f} tokens/s); decode: {} tokens, {:.1f} tokens/s; seed {}",
                r.prompt_ids.size(), r.prefill_seconds,
                r.prefill_seconds > 0 ? r.prompt_ids.size() / r.prefill_seconds : 0.0, r.ids.size(), decode_tps,
                params.seed);
}

}  // namespace

void register_generate(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "Continue a prompt with the model");
  cmd->add_option("prompt", o->prompt, "Text to continue (may be empty when the model has a begin token); required");
  add_model_options(*cmd, o->model);
  cmd->add_option("-n,--max-new-tokens", o->params.max_new_tokens, "Stop after this many new tokens")
      ->capture_default_str();
  cmd->add_option("--temperature", o->params.sampler.temperature, "Sampling temperature; 0 is greedy")
      ->capture_default_str()
      ->check(fits_float());
  cmd->add_option("--top-k", o->params.sampler.top_k, "Keep only the K most likely tokens (0: off)")
      ->capture_default_str();
  cmd->add_option("--top-p", o->params.sampler.top_p,
                  "Keep the smallest set of tokens whose probability reaches P (1: off)")
      ->capture_default_str()
      ->check(fits_float());
  cmd->add_option("--seed", o->seed, "Seed for sampling (default: random, shown with -v and in --json)")
      ->check(whole_number(0));
  cmd->add_option("--top-logprobs", o->params.top_logprobs, "With --json: the K most likely tokens at each step");
  o->params.threads = 0;  // one per core
  cmd->add_option("-t,--threads", o->params.threads, "Threads for the forward pass (default: one per core)")
      ->check(thread_count());
  cmd->add_flag("--json", o->json, "Print one JSON object instead of streaming text");
  cmd->add_flag("--no-echo", o->no_echo, "Print only the continuation, not the prompt");
  cmd->add_flag("--show-special", o->show_special,
                "Print the begin token before the prompt and the end token where the model stopped (e.g. "
                "<bos>...<eos>); --json has their ids");
  cmd->callback([cmd, o] { run(*cmd, *o); });
}

}  // namespace tinygpt::cli
