// tiny-gpt perplexity -f FILE: the model's cross-entropy on a text file.
#include "common.h"
#include "tinygpt/error.h"
#include "input_file.h"
#include "tinygpt/perplexity.h"
#include "utf8.h"

namespace tinygpt::cli {
namespace {

struct PerplexityOptions {
  ModelOptions model;
  std::string file;
  bool per_line = false;
  bool json = false;
};

// Scoring runs the model over every token: a larger text would take hours, and is more
// likely a wrong path (/dev/zero) than a corpus.
constexpr std::uint64_t kMaxTextBytes = std::uint64_t{256} << 20;

std::vector<std::string> read_examples(const std::string& path, bool per_line) {
  const std::string text = read_input_file(path, kMaxTextBytes, ErrorKind::input);
  if (const auto bad = utf8::first_invalid(text))
    throw_input_error(path + ": invalid UTF-8 at byte offset " + std::to_string(*bad));
  if (!per_line) return {text};
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

void run(const PerplexityOptions& o) {
  const auto examples = read_examples(o.file, o.per_line);
  if (examples.empty() || (examples.size() == 1 && examples[0].empty())) throw_input_error(o.file + " has no text to score");
  const Model model = load(o.model);
  const Perplexity p = evaluate(model, examples);
  if (o.json) {
    std::puts(dump_json({{"model", model.path},
                         {"file", o.file},
                         {"examples", examples.size()},
                         {"tokens", p.tokens},
                         {"characters", p.characters},
                         {"bytes", p.bytes},
                         {"loss_per_token", p.per_token()},
                         {"loss_per_character", p.per_character()},
                         {"loss_per_byte", p.per_byte()},
                         {"perplexity", std::exp(p.per_token())}})
                  .c_str());
    return;
  }
  std::printf("examples            %zu\n", examples.size());
  std::printf("tokens scored       %lld\n", static_cast<long long>(p.tokens));
  std::printf("loss per token      %.5f nats (perplexity %.3f)\n", p.per_token(), std::exp(p.per_token()));
  std::printf("loss per character  %.5f nats\n", p.per_character());
  std::printf("loss per byte       %.5f nats\n", p.per_byte());
}

}  // namespace

void register_perplexity(CLI::App& app) {
  auto o = std::make_shared<PerplexityOptions>();
  CLI::App* cmd = app.add_subcommand("perplexity", "Cross-entropy of the model on a text file");
  add_model_options(*cmd, o->model);
  cmd->add_option("-f,--file", o->file, "UTF-8 text to score")->required()->check(non_empty_path());
  cmd->add_flag("--per-line", o->per_line, "Score each non-empty line as its own example (bos + line + eos)");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] { run(*o); });
}

}  // namespace tinygpt::cli
