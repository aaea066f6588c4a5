// tiny-gpt perplexity -f FILE: the model's cross-entropy on a text file.
#include <algorithm>

#include "common.h"
#include "input_file.h"
#include "model_choice.h"
#include "tinygpt/error.h"
#include "tinygpt/perplexity.h"
#include "utf8.h"

namespace tinygpt::cli {
namespace {

struct PerplexityOptions {
  ModelOptions model;
  std::string file;
  bool per_line = false;
  std::string separator_line;  // empty: not given
  bool json = false;
};

// Scoring runs the model over every token: a larger text would take hours, and is more
// likely a wrong path (/dev/zero) than a corpus.
constexpr std::uint64_t kMaxTextBytes = std::uint64_t{256} << 20;

struct Example {
  std::size_t line;  // where it starts in the file, from 1
  std::string text;
};

// The file as examples: the whole text; each non-empty line (--per-line); or the documents
// between lines that hold exactly `separator` (--separator-line), each without its leading
// and trailing newlines, empty ones skipped: how tools/train.py reads its "eot" data, where
// documents are separated by a line holding <|endoftext|>.
std::vector<Example> read_examples(const std::string& path, const PerplexityOptions& o) {
  const std::string text = read_input_file(path, kMaxTextBytes, ErrorKind::input);
  if (const auto bad = utf8::first_invalid(text))
    throw_input_error(path + ": invalid UTF-8 at byte offset " + std::to_string(*bad));
  if (!o.per_line && o.separator_line.empty()) return {{1, text}};
  std::vector<Example> out;
  std::string document;
  std::size_t start = 0, line = 1, document_line = 1;
  auto finish_document = [&] {
    const std::size_t first = document.find_first_not_of('\n');
    if (first != std::string::npos) {
      const std::size_t last = document.find_last_not_of('\n');
      out.push_back(
          {document_line + static_cast<std::size_t>(std::count(
                               document.begin(), document.begin() + static_cast<std::ptrdiff_t>(first), '\n')),
           document.substr(first, last + 1 - first)});
    }
    document.clear();
  };
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view current(text.data() + start, end - start);
    if (o.per_line) {
      if (!current.empty()) out.push_back({line, std::string(current)});
    } else if (current == o.separator_line) {
      finish_document();
      document_line = line + 1;
    } else {
      document.append(current);
      if (end < text.size()) document += '\n';
    }
    start = end + 1;
    ++line;
  }
  if (!o.per_line) finish_document();
  return out;
}

// Scores each example on its own, so that an error (a character the vocabulary lacks, at
// a byte offset within the line) can say which line of which file it is about.
// `unit` is "line" or "document" when the text was cut into examples, else empty.
Perplexity score(const Model& model, const std::string& path, const std::vector<Example>& examples,
                 const std::string& unit) {
  Perplexity total;
  for (const Example& x : examples) {
    try {
      const Perplexity p = evaluate(model, {x.text});
      total.nll += p.nll;
      total.tokens += p.tokens;
      total.characters += p.characters;
      total.bytes += p.bytes;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::input) throw;
      const std::string where = unit == "line"       ? ": line " + std::to_string(x.line)
                                : unit == "document" ? ": the document starting at line " + std::to_string(x.line)
                                                     : std::string();
      throw_input_error(path + where + ": " + e.what());
    }
  }
  // One character and no bos or eos is one token, and a first token is never predicted.
  if (total.tokens == 0)
    throw_input_error(path +
                      ": nothing to score: " + (unit.empty() ? std::string("the text is") : "every " + unit + " is") +
                      " a single token (bos and eos included, when the model has them), and scoring needs two");
  return total;
}

void run(const CLI::App& cmd, const PerplexityOptions& o) {
  require(cmd, "--file");
  if (o.per_line && !o.separator_line.empty())
    throw_usage_error("--per-line and --separator-line both say how to cut the text: give one");
  const auto examples = read_examples(o.file, o);
  if (examples.empty() || (examples.size() == 1 && examples[0].text.empty()))
    throw_input_error(o.file + " has no text to score");
  std::vector<std::string> texts;
  for (const Example& x : examples) texts.push_back(x.text);
  const Model model = load_for(o.model, texts, "the text of " + o.file);
  const Perplexity p = score(model, o.file, examples, o.per_line ? "line" : o.separator_line.empty() ? "" : "document");
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
  cmd->add_option("-f,--file", o->file, "UTF-8 text to score; required")->check(non_empty_path());
  cmd->add_flag("--per-line", o->per_line, "Score each non-empty line as its own example (bos + line + eos)");
  cmd->add_option("--separator-line", o->separator_line,
                  "Score each document on its own (bos + document + eos); documents are separated by lines "
                  "holding exactly this text, e.g. '<|endoftext|>'");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([cmd, o] { run(*cmd, *o); });
}

}  // namespace tinygpt::cli
