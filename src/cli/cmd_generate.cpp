// tiny-gpt generate PROMPT: continue text, streaming it to stdout as it is sampled; or,
// with --batch, one JSON result for each line of a JSONL file (generate_batch.h).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <random>

#include "common.h"
#include "generate_batch.h"
#include "generate_json.h"
#include "model_choice.h"
#include "prompt_input.h"
#include "tinygpt/error.h"
#include "tinygpt/generate.h"
#include "utf8.h"

namespace tinygpt::cli {
namespace {

struct GenerateOptions {
  ModelOptions model;
  std::string prompt, prompt_file;
  GenerateParams params;
  std::optional<std::uint64_t> seed;
  bool json = false;
  bool no_echo = false;
  bool show_special = false;
  BatchOptions batch;
};

void check_flags(const CLI::App& cmd, const GenerateOptions& o) {
  const bool batch = cmd.count("--batch") > 0;
  if (batch && (cmd.count("prompt") > 0 || cmd.count("--file") > 0))
    throw_usage_error("--batch reads the prompts from its file: give no prompt and no --file with it");
  if (!batch && cmd.count("--output") > 0)
    throw_usage_error("--output is where --batch writes its results: use it with --batch");
  if (cmd.count("--force") > 0 && cmd.count("--output") == 0)
    throw_usage_error("--force lets --output replace an existing file: use it with --output");
  if (cmd.count("prompt") > 0 && cmd.count("--file") > 0)
    throw_usage_error("give the prompt either as an argument or with --file, not both");
  if (!batch && cmd.count("--file") == 0) require(cmd, "prompt");
  if (o.params.top_logprobs > 0 && !o.json && !batch)
    throw_usage_error(
        "--top-logprobs adds the most likely tokens to each step of the --json output: use it with --json");
}

void log_stop(const GenerateResult& r, const GenerateParams& params) {
  const char* why = r.stop == StopReason::eos              ? "the model produced its end token"
                    : r.stop == StopReason::max_new_tokens ? "reached --max-new-tokens"
                    : r.stop == StopReason::stop_string    ? "the text reached a --stop string"
                                                           : "the context is full";
  spdlog::info("stop: {} ({}), {} tokens generated", to_string(r.stop), why, r.ids.size());
  const double decode_tps = r.decode_seconds > 0 && r.ids.size() > 1 ? (r.ids.size() - 1) / r.decode_seconds : 0.0;
  spdlog::debug("prompt: {} tokens in {:.3f} s ({:.0f} tokens/s); decode: {} tokens, {:.1f} tokens/s; seed {}",
                r.prompt_ids.size(), r.prefill_seconds,
                r.prefill_seconds > 0 ? r.prompt_ids.size() / r.prefill_seconds : 0.0, r.ids.size(), decode_tps,
                params.seed);
}

void run(const CLI::App& cmd, const GenerateOptions& o) {
  check_flags(cmd, o);
  GenerateParams params = o.params;
  params.seed = o.seed ? *o.seed : std::random_device{}();
  validate(params);  // before the model is read: a bad flag is reported at once
  if (cmd.count("--batch") > 0) {
    BatchOptions batch = o.batch;
    batch.defaults = params;
    batch.seed = o.seed;
    refuse_output_over_model(batch.output, "--output", o.model);
    return run_batch(o.model, batch);
  }
  // The prompt is read before the model: a missing file costs no loading time.
  const std::string prompt = cmd.count("--file") > 0 ? read_prompt(o.prompt_file)
                             : o.prompt == "-"       ? read_prompt("-")
                                                     : o.prompt;
  const Model model = load_for(o.model, {prompt});
  const Tokenizer& tok = model.tokenizer;

  // Encode first: a prompt the model cannot take must fail before anything is printed.
  std::vector<std::int32_t> ids = prompt_ids(model, prompt);
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
    std::fputs(utf8::sanitize(prompt).c_str(), stdout);
  };
  const GenerateResult r = generate(model, std::move(ids), params, [&](const Step& step) {
    echo();
    if (o.json) return;
    const std::string text = stream.push(step.text);
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (o.show_special && tok.is_special(step.id))
      std::fputs((stream.finish() + tok.token_text(step.id)).c_str(), stdout);
    std::fflush(stdout);
  });
  echo();  // nothing was generated (-n 0, or the prompt fills the context)

  if (o.json) {
    std::puts(dump_json(result_json(tok, r, params)).c_str());
  } else {
    const std::string tail = stream.finish();
    std::fputs(tail.c_str(), stdout);
    std::fputs("\n", stdout);
  }
  std::fflush(stdout);
  log_stop(r, params);
}

// A float flag in the range float32 holds (fits_float), shown with its default.
CLI::Option* add_float(CLI::App* cmd, const char* name, float& value, const char* help) {
  return cmd->add_option(name, value, help)->capture_default_str()->check(fits_float());
}

}  // namespace

void register_generate(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "Continue a prompt with the model");
  cmd->add_option("prompt", o->prompt,
                  "Text to continue (may be empty when the model has a begin token; - reads standard input); "
                  "required unless --file or --batch");
  cmd->add_option("-f,--file", o->prompt_file, "Read the prompt from this file")->check(non_empty_path());
  add_model_options(*cmd, o->model);
  cmd->add_option("-n,--max-new-tokens", o->params.max_new_tokens, "Stop after this many new tokens")
      ->capture_default_str();
  add_float(cmd, "--temperature", o->params.sampler.temperature, "Sampling temperature; 0 is greedy");
  cmd->add_option("--top-k", o->params.sampler.top_k, "Keep only the K most likely tokens (0: off)")
      ->capture_default_str();
  add_float(cmd, "--top-p", o->params.sampler.top_p,
            "Keep the smallest set of tokens whose probability reaches P (1: off)");
  add_float(cmd, "--min-p", o->params.sampler.min_p,
            "Drop tokens less likely than M x the most likely one (0: off; after top-p)");
  add_float(cmd, "--repeat-penalty", o->params.penalties.repeat_penalty,
            "Divide the positive logits of tokens seen in the last --repeat-last-n (multiply the negative "
            "ones) by R (1: off)");
  cmd->add_option("--repeat-last-n", o->params.penalties.repeat_last_n,
                  "How many of the latest tokens (prompt included) --repeat-penalty looks at")
      ->capture_default_str();
  add_float(cmd, "--frequency-penalty", o->params.penalties.frequency_penalty,
            "Subtract F x (times generated) from a token's logit, -2..2 (0: off)");
  add_float(cmd, "--presence-penalty", o->params.penalties.presence_penalty,
            "Subtract P from the logit of every token generated so far, -2..2 (0: off)");
  cmd->add_option("--stop", o->params.stop,
                  "Stop when the generated text contains STRING (not printed; repeat for several)")
      ->allow_extra_args(false)
      ->type_name("STRING");
  cmd->add_option("--seed", o->seed, "Seed for sampling (default: random, shown with -v and in --json)")
      ->check(whole_number(0));
  cmd->add_option("--top-logprobs", o->params.top_logprobs, "With --json: the K most likely tokens at each step");
  o->params.threads = 0;  // one per core
  cmd->add_option("-t,--threads", o->params.threads,
                  "Threads for the forward pass; with --batch, prompts run at once (default: one per core)")
      ->check(thread_count());
  cmd->add_flag("--json", o->json, "Print one JSON object instead of streaming text");
  cmd->add_flag("--no-echo", o->no_echo, "Print only the continuation, not the prompt");
  cmd->add_option("--batch", o->batch.input,
                  "Run every line of this JSONL file ({\"id\", \"prompt\", overrides}; - is standard input), "
                  "one JSON result per line, in input order")
      ->check(non_empty_path());
  cmd->add_option("-o,--output", o->batch.output, "With --batch: write the results here instead of stdout")
      ->check(non_empty_path());
  cmd->add_flag("--force", o->batch.force, "With --output: replace the file if it exists");
  cmd->add_flag("--show-special", o->show_special,
                "Print the begin token before the prompt and the end token where the model stopped (e.g. "
                "<bos>...<eos>); --json has their ids");
  cmd->callback([cmd, o] {
    o->batch.threads = o->params.threads;
    run(*cmd, *o);
  });
}

}  // namespace tinygpt::cli
