#include "tinygpt/coverage.h"

#include <string>
#include <vector>

#include "utf8.h"

namespace tinygpt {
namespace {

// A char vocabulary knows a character when it has an ordinary (non-special) entry for it.
VocabularyCoverage char_coverage(const Tokenizer& tok, std::string_view text) {
  // Invalid UTF-8: encode() says where, exactly as the command reading the text would.
  if (utf8::first_invalid(text)) (void)tok.encode(text);
  VocabularyCoverage c;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8::sequence_length(text, i);
    const auto id = tok.lookup(text.substr(i, n));
    ++c.characters;
    if (!id || tok.is_special(*id)) ++c.unknown;
    i += n;
  }
  return c;
}

// A byte-level BPE reads every text, but a character whose bytes are cut by a token
// boundary was never merged into one token: the vocabulary only knows its bytes.
VocabularyCoverage bpe_coverage(const Tokenizer& tok, std::string_view text) {
  const std::vector<std::int32_t> ids = tok.encode(text);  // throws for invalid UTF-8
  std::vector<bool> boundary(text.size() + 1, false);
  std::size_t at = 0;
  for (const std::int32_t id : ids) {
    boundary[at] = true;
    at += tok.token_bytes(id).size();
  }
  VocabularyCoverage c;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8::sequence_length(text, i);
    ++c.characters;
    for (std::size_t k = i + 1; k < i + n; ++k)
      if (boundary[k]) {
        ++c.as_bytes;
        break;
      }
    i += n;
  }
  return c;
}

}  // namespace

VocabularyCoverage vocabulary_coverage(const Tokenizer& tokenizer, std::string_view text) {
  return tokenizer.type() == TokenizerType::char_level ? char_coverage(tokenizer, text) : bpe_coverage(tokenizer, text);
}

}  // namespace tinygpt
