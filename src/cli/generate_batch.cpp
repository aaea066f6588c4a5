#include "generate_batch.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "batch_output.h"
#include "batch_request.h"
#include "generate_json.h"
#include "input_file.h"
#include "output_file.h"
#include "progress_bar.h"
#include "thread_pool.h"
#include "tinygpt/error.h"

namespace tinygpt::cli {

namespace {

// A batch file is read whole; this bounds it (about a million short prompts).
constexpr std::uint64_t kMaxBatchBytes = std::uint64_t{256} << 20;

struct Line {
  std::size_t number;  // 1-based
  std::string_view text;
};

// The non-blank lines (a trailing newline or an empty line is no request).
std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  std::size_t start = 0, number = 1;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) lines.push_back({number, line});
    start = end + 1;
    ++number;
  }
  return lines;
}

struct Outcome {
  std::string json;  // the output line
  std::uint64_t tokens = 0;
  std::string error;  // empty when the line succeeded
};

Outcome run_line(const Model& model, const Line& line, const BatchOptions& o) {
  nlohmann::json id;
  Outcome out;
  try {
    BatchRequest request = parse_request(line.text, line.number, o.defaults, o.seed, id);
    request.params.threads = 1;  // the parallelism is across lines
    const GenerateResult r = generate(model, request.prompt, request.params);
    nlohmann::json j = {{"id", request.id}};
    j.update(result_json(model.tokenizer, r, request.params));
    out.json = dump_json(j);
    out.tokens = r.ids.size();
    return out;
  } catch (const Error& e) {
    out.error = e.what();
  } catch (const std::bad_alloc&) {
    out.error = "out of memory";
  } catch (const std::exception& e) {  // nothing may escape a worker thread: that would end the run
    out.error = std::string("unexpected failure: ") + e.what();
  }
  nlohmann::json j = {{"line", line.number}};
  if (!id.is_null()) j["id"] = id;
  j["error"] = out.error;
  out.json = dump_json(j);
  return out;
}

// The workers and what they have finished, for the writer (the calling thread) to take in order.
class Workers {
 public:
  Workers(const Model& model, const std::vector<Line>& lines, const BatchOptions& o)
      : model_(model), lines_(lines), options_(o), done_(lines.size()) {}
  ~Workers() { stop(); }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // Starts up to `n` threads; Ctrl-C and friends are blocked in them, so the signal goes
  // to the writer, which holds it back only while it writes a line.
  int start(int n) {
    const HoldSignals blocked_in_workers;
    for (int i = 0; i < n; ++i) {
      try {
        threads_.emplace_back([this] { work(); });
      } catch (const std::system_error& e) {
        if (threads_.empty()) throw_usage_error(std::string("threads: cannot start a thread (") + e.what() + ")");
        spdlog::warn("batch: started {} of {} threads ({})", threads_.size(), n, e.what());
        break;
      }
    }
    return static_cast<int>(threads_.size());
  }

  // Waits for line i and hands over its outcome.
  Outcome take(std::size_t i) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return done_[i].has_value(); });
    Outcome out = std::move(*done_[i]);
    done_[i].reset();
    return out;
  }

  void stop() {
    cancelled_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void work() {
    while (!cancelled_) {
      const std::size_t i = next_++;
      if (i >= lines_.size()) return;
      Outcome out = run_line(model_, lines_[i], options_);
      {
        const std::lock_guard lock(mutex_);
        done_[i] = std::move(out);
      }
      ready_.notify_all();
    }
  }

  const Model& model_;
  const std::vector<Line>& lines_;
  const BatchOptions& options_;
  std::vector<std::optional<Outcome>> done_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::thread> threads_;
};

}  // namespace

void run_batch(const ModelOptions& model_options, const BatchOptions& o) {
  const bool from_stdin = o.input == "-";
  const std::string text = read_input_file(from_stdin ? "/dev/stdin" : o.input, kMaxBatchBytes, ErrorKind::input);
  const std::vector<Line> lines = split_lines(text);
  BatchOutput out(o.output, o.force, o.input);  // before the model: a bad output fails at once
  const Model model = load(model_options);

  const auto t0 = std::chrono::steady_clock::now();
  Workers workers(model, lines, o);
  const int wanted =
      std::min<int>(ThreadPool::resolve(o.threads), static_cast<int>(std::max<std::size_t>(lines.size(), 1)));
  const int started = lines.empty() ? 0 : workers.start(wanted);
  ProgressBar progress(lines.size());
  std::uint64_t tokens = 0;
  std::size_t failed = 0;
  std::string first_error;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Outcome outcome = workers.take(i);
    out.write_line(outcome.json);  // an error here stops the workers (~Workers) and is reported
    tokens += outcome.tokens;
    if (!outcome.error.empty() && failed++ == 0)
      first_error = "line " + std::to_string(lines[i].number) + ": " + outcome.error;
    progress.update(i + 1, tokens);
  }
  workers.stop();
  progress.finish();
  out.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("batch: {} lines ({} failed), {} tokens in {:.2f} s ({:.0f} tokens/s) on {} threads", lines.size(),
               failed, tokens, seconds, seconds > 0 ? static_cast<double>(tokens) / seconds : 0.0, started);
  if (failed > 0)
    throw_input_error(std::to_string(failed) + " of " + std::to_string(lines.size()) +
                      " batch lines failed (each has an error object in the output); the first, " + first_error);
}

}  // namespace tinygpt::cli
