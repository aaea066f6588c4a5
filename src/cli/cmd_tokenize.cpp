// tiny-gpt tokenize TEXT: the text's own tokens (no bos), as a table, JSON or a count.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "common.h"
#include "model_choice.h"
#include "tinygpt/tokenizer.h"
#include "utf8.h"

namespace tinygpt::cli {
namespace {

struct TokenizeOptions {
  ModelOptions model;
  std::string text;
  std::string vocab, merges;  // GPT-2's encoder.json and vocab.bpe instead of a model
  bool json = false;
  bool count = false;
};

// One row per token: id and the token shown as text (spaces as ·, newlines as ↵, tabs as →,
// bytes of a character the token holds only part of as \xNN). A character split across
// tokens is shown whole, in parentheses, on the row of the token that completes it.
void print_table(const Tokenizer& tok, const std::vector<std::int32_t>& ids) {
  const std::size_t n = ids.size();
  std::vector<std::string> pieces(n), completes(n);
  std::string text;  // the bytes so far
  for (std::size_t i = 0; i < n; ++i) {
    pieces[i] = tok.piece(ids[i]);
    const std::string& bytes = tok.token_bytes(ids[i]);
    const std::size_t a = text.size();
    text += bytes;
    if (tok.is_special(ids[i]) || a == 0) continue;
    // Does this token finish a character that began in an earlier token?
    std::size_t start = a;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    if (start == a && (static_cast<unsigned char>(text[a]) & 0xC0) != 0x80) continue;
    const std::size_t len = utf8::sequence_length(text, start);
    if (len != 0 && start + len <= text.size()) completes[i] = "(" + text.substr(start, len) + ")";
  }
  int id_width = 2;     // "id"
  int piece_width = 5;  // "token"
  for (std::size_t i = 0; i < n; ++i) {
    id_width = std::max(id_width, static_cast<int>(std::to_string(ids[i]).size()));
    if (!completes[i].empty()) piece_width = std::max(piece_width, std::min(utf8::display_width(pieces[i]), 24));
  }
  std::string out = std::string(static_cast<std::size_t>(id_width - 2), ' ') + "id  token\n";
  for (std::size_t i = 0; i < n; ++i) {
    const std::string num = std::to_string(ids[i]);
    out += std::string(static_cast<std::size_t>(id_width) - num.size(), ' ') + num + "  " + pieces[i];
    if (!completes[i].empty()) {
      const int pad = std::max(1, piece_width - utf8::display_width(pieces[i]) + 2);
      out += std::string(static_cast<std::size_t>(pad), ' ') + completes[i];
    }
    out += "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

void run(const CLI::App& cmd, const TokenizeOptions& o) {
  require(cmd, "text");
  std::optional<Tokenizer> from_files;
  std::optional<Model> model;
  if (!o.vocab.empty()) {
    from_files = Tokenizer::from_gpt2_files(o.vocab, o.merges);
  } else {
    model = load_for(o.model, {o.text});
  }
  const Tokenizer& tok = from_files ? *from_files : model->tokenizer;
  const std::vector<std::int32_t> ids = tok.encode(o.text);

  if (o.count) {
    std::printf("%zu\n", ids.size());
  } else if (o.json) {
    nlohmann::json tokens = nlohmann::json::array();
    for (const auto id : ids) tokens.push_back(utf8::sanitize(tok.token_bytes(id)));
    std::puts(dump_json({{"ids", ids}, {"tokens", std::move(tokens)}}).c_str());
  } else {
    print_table(tok, ids);
  }
  std::fflush(stdout);
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd =
      app.add_subcommand("tokenize", "Show how the model's tokenizer splits a text (without the begin token)");
  cmd->add_option("text", o->text, "Text to tokenize (UTF-8); required");
  add_model_options(*cmd, o->model);
  CLI::Option* model = cmd->get_option("--model");
  CLI::Option* vocab = cmd->add_option("--vocab", o->vocab, "GPT-2's encoder.json (with --merges) instead of a model")
                           ->check(non_empty_path());
  CLI::Option* merges =
      cmd->add_option("--merges", o->merges, "GPT-2's vocab.bpe (with --vocab)")->check(non_empty_path());
  vocab->needs(merges);
  merges->needs(vocab);
  vocab->excludes(model);
  merges->excludes(model);
  CLI::Option* json = cmd->add_flag("--json", o->json, "Print {\"ids\": [...], \"tokens\": [...]}");
  CLI::Option* count = cmd->add_flag("--count", o->count, "Print only the number of tokens");
  json->excludes(count);
  cmd->callback([cmd, o] { run(*cmd, *o); });
}

}  // namespace tinygpt::cli
