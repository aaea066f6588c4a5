// tiny-gpt bench: how fast this machine loads a model, reads a prompt and decodes, in the
// manner of llama-bench: a warm-up, then repetitions, reported as median and range.
//
// The prompt is synthetic (ids 3, 10, 17, ... modulo the tokenizer's size) so that any
// model can be measured and another implementation can be fed the very same ids; decoding
// is greedy and ignores end tokens, so every repetition does the same work.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "thread_pool.h"
#include "tinygpt/decoder.h"
#include "tinygpt/error.h"
#include "tinygpt/sampler.h"

namespace tinygpt::cli {
namespace {

struct BenchOptions {
  ModelOptions model;
  int threads = 0;  // 0: one per core
  int prompt_tokens = 16;
  int decode_tokens = 199;
  int reps = 5;
  std::string kernels = "auto";
  bool json = false;
};

struct Stats {
  double median = 0, min = 0, max = 0;
};

Stats stats(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {median, v.front(), v.back()};
}

nlohmann::json to_json(const Stats& s) { return {{"median", s.median}, {"min", s.min}, {"max", s.max}}; }

// The high-water mark of this process's memory. VmHWM rather than getrusage: ru_maxrss
// survives exec, so a child of a big parent (a Python driver) would report the parent's.
double peak_rss_bytes() {
  if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    double kib = -1;
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "VmHWM: %lf kB", &kib) == 1) break;
    std::fclose(f);
    if (kib >= 0) return kib * 1024.0;
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) * 1024.0;  // Linux reports KiB
}

kernels::Isa parse_isa(const std::string& s) {
  if (s == "auto") return kernels::default_isa();
  if (s == "avx2") return kernels::Isa::avx2;
  if (s == "avx512") return kernels::Isa::avx512;
  if (s == "portable" || s == "scalar") return kernels::Isa::portable;
  throw_usage_error("--kernels: expected auto, avx512, avx2 or portable, found '" + s + "'");
}

// CPU time of the whole process (all threads): next to the wall time it shows how much of
// the machine the run actually had.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Run {
  double prefill_s = 0, decode_s = 0, prefill_cpu_s = 0, decode_cpu_s = 0;
  std::vector<std::int32_t> ids;  // the greedy continuation
};

// One prompt and its continuation in `state`, restarted: its buffers were grown by the
// warm-up, so the timed prefill is the arithmetic alone, as in a session's later prompts (and
// as llama.cpp's llama-bench, which keeps its context across repetitions).
Run run_once(const Model& model, State& state, const std::vector<std::int32_t>& prompt, int n_decode,
             const ForwardOptions& fo) {
  using clock = std::chrono::steady_clock;
  const std::int32_t n_valid = model.tokenizer.size();
  restart(state);
  Run r;
  const double c0 = cpu_seconds();
  const auto t0 = clock::now();
  std::span<const float> logits = forward(model, state, prompt, fo);
  const auto t1 = clock::now();
  r.prefill_s = std::chrono::duration<double>(t1 - t0).count();
  const double c1 = cpu_seconds();
  r.prefill_cpu_s = c1 - c0;
  for (int i = 0; i < n_decode; ++i) {
    const std::int32_t next[1] = {argmax(logits, n_valid)};
    r.ids.push_back(next[0]);
    logits = forward(model, state, next, fo);
  }
  r.decode_s = std::chrono::duration<double>(clock::now() - t1).count();
  r.decode_cpu_s = cpu_seconds() - c1;
  r.ids.push_back(argmax(logits, n_valid));
  return r;
}

void run(const BenchOptions& o) {
  const kernels::Isa isa = parse_isa(o.kernels);
  kernels::ops(isa);  // refuses an ISA this CPU lacks, before the long load

  const auto l0 = std::chrono::steady_clock::now();
  const Model model = load(o.model);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - l0).count();
  const Config& c = model.config;
  if (std::int64_t{o.prompt_tokens} + o.decode_tokens > c.n_ctx)
    throw_usage_error("-p " + std::to_string(o.prompt_tokens) + " plus -n " + std::to_string(o.decode_tokens) +
                      " exceeds the model's n_ctx of " + std::to_string(c.n_ctx));

  std::vector<std::int32_t> prompt;
  const std::int32_t n_valid = model.tokenizer.size();
  // In 64 bits: 7 * i passes 2^31 for prompts past 300 million tokens (a raised --max-ctx).
  for (int i = 0; i < o.prompt_tokens; ++i)
    prompt.push_back(static_cast<std::int32_t>((3 + 7 * std::int64_t{i}) % n_valid));

  const int threads = ThreadPool::resolve(o.threads);
  ThreadPool pool(threads);
  ForwardOptions fo;
  fo.pool = &pool;
  fo.isa = isa;

  State state = make_state(c, o.prompt_tokens + o.decode_tokens);
  run_once(model, state, prompt, std::min(o.decode_tokens, 8), fo);  // warm-up: caches, pages, the pool's threads
  std::vector<double> prefill, decode, cpu_share, prefill_cpu_share;
  std::vector<std::int32_t> ids;
  for (int r = 0; r < o.reps; ++r) {
    const Run x = run_once(model, state, prompt, o.decode_tokens, fo);
    prefill.push_back(o.prompt_tokens / x.prefill_s);
    if (o.decode_tokens > 0) decode.push_back(o.decode_tokens / x.decode_s);
    cpu_share.push_back(x.decode_s > 0 ? x.decode_cpu_s / x.decode_s : 0.0);
    prefill_cpu_share.push_back(x.prefill_s > 0 ? x.prefill_cpu_s / x.prefill_s : 0.0);
    if (r == 0) ids = x.ids;
  }
  const Stats pf = stats(prefill), dc = stats(decode);

  // What the model holds in memory (float32 store, reduced bytes, tensors read in place) and
  // what one decoding step reads of it.
  const double weight_bytes = 4.0 * static_cast<double>(model.store.size()) +
                              static_cast<double>(model.store.byte_size()) + static_cast<double>(model.in_place_bytes);
  const double read_per_token = static_cast<double>(weight_bytes_per_token(model));
  const double kv_bytes = 2.0 * 4.0 * c.n_layer * static_cast<double>(o.prompt_tokens + o.decode_tokens) * c.n_embd;
  const double rss = peak_rss_bytes();
  const double file_mb = static_cast<double>(model.file_bytes) / 1e6;

  if (o.json) {
    const nlohmann::json out = {
        {"model", model.path},
        {"parameters", model.parameter_count()},
        {"config",
         {{"vocab_size", c.vocab_size},
          {"n_ctx", c.n_ctx},
          {"n_embd", c.n_embd},
          {"n_head", c.n_head},
          {"n_layer", c.n_layer},
          {"n_inner", c.n_inner}}},
        {"kernels", kernels::to_string(isa)},
        {"weight_type", to_string(model.weight_type)},
        // decode tokens/s x this = the bytes per second decoding streams from memory
        {"weight_bytes_per_token", read_per_token},
        {"threads", threads},
        {"reps", o.reps},
        {"load", {{"seconds", load_s}, {"file_mb", file_mb}, {"mb_per_s", file_mb / load_s}}},
        {"prompt_tokens", o.prompt_tokens},
        {"decode_tokens", o.decode_tokens},
        {"prefill_tokens_per_s", to_json(pf)},
        {"decode_tokens_per_s", to_json(dc)},
        // CPU seconds per wall second while decoding (median): about `threads` on an idle
        // machine, less when other processes held the cores (or threads waited).
        {"decode_cpu_use", stats(cpu_share).median},
        {"prefill_cpu_use", stats(prefill_cpu_share).median},
        {"memory",
         {{"peak_rss_mb", rss / 1e6},
          {"weights_mb", weight_bytes / 1e6},
          {"kv_cache_mb", kv_bytes / 1e6},
          {"peak_over_weights_and_cache", rss / (weight_bytes + kv_bytes)}}},
        {"prompt_ids", prompt},
        {"greedy_ids", ids},
    };
    std::puts(dump_json(out).c_str());
    return;
  }
  std::printf("model     %s (%llu parameters, %.1f MB file)\n", model.path.c_str(),
              static_cast<unsigned long long>(model.parameter_count()), file_mb);
  std::printf("kernels   %s, %d thread%s, %d repetitions after a warm-up; weights %s\n", kernels::to_string(isa),
              threads, threads == 1 ? "" : "s", o.reps, to_string(model.weight_type));
  std::printf("load      %.3f s (%.0f MB/s)\n", load_s, file_mb / load_s);
  std::printf("prefill   %4d tokens  %9.1f tokens/s  (range %.1f .. %.1f)\n", o.prompt_tokens, pf.median, pf.min,
              pf.max);
  std::printf("decode    %4d tokens  %9.1f tokens/s  (range %.1f .. %.1f), using %.2f CPUs\n", o.decode_tokens,
              dc.median, dc.min, dc.max, stats(cpu_share).median);
  std::printf("          %.2f MB of weights read per token: %.1f GB/s\n", read_per_token / 1e6,
              read_per_token * dc.median / 1e9);
  std::printf("memory    peak RSS %.1f MB = %.2f x (weights %.1f MB + KV cache %.1f MB)\n", rss / 1e6,
              rss / (weight_bytes + kv_bytes), weight_bytes / 1e6, kv_bytes / 1e6);
}

}  // namespace

void register_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure load, prefill and decode speed (median over repetitions)");
  add_model_options(*cmd, o->model);
  cmd->add_option("-t,--threads", o->threads, "Threads (default: one per core)")->check(thread_count());
  cmd->add_option("-p,--prompt-tokens", o->prompt_tokens, "Prompt length for prefill")
      ->capture_default_str()
      ->check(whole_number(1, INT32_MAX));
  cmd->add_option("-n,--decode-tokens", o->decode_tokens, "Tokens to decode one at a time")
      ->capture_default_str()
      ->check(whole_number(0, INT32_MAX));
  cmd->add_option("-r,--reps", o->reps, "Timed repetitions (after one warm-up)")
      ->capture_default_str()
      ->check(whole_number(1, INT32_MAX));
  cmd->add_option("--kernels", o->kernels, "auto, avx512, avx2 or portable (default: auto, or TINYGPT_KERNELS)")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] { run(*o); });
}

}  // namespace tinygpt::cli
