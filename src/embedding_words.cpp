// What a word is in a byte-level BPE vocabulary (tinygpt/embedding.h, "words"): the form a
// word is looked up in, and which tokens count as whole words among neighbours.
#include <cstdint>
#include <string>

#include "tinygpt/embedding.h"
#include "utf8.h"

namespace tinygpt {

std::string word_form(const Tokenizer& tok, std::string_view word) {
  if (tok.type() != TokenizerType::byte_bpe || word.empty() || word[0] == ' ') return std::string(word);
  const std::string spaced = " " + std::string(word);
  // Even when the bare form is one token too: "man" is then mostly the piece of "woman" and
  // "manner", while " man" is the word, and an analogy must leave the word itself out.
  if (tok.encode(spaced).size() == 1) return spaced;
  return std::string(word);
}

namespace {

bool is_letter(std::string_view text, std::size_t at, std::size_t n) {
  if (n == 1) {
    const char c = text[at];
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
  const char32_t cp = utf8::decode_at(text, at);
  const bool punctuation = (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) ||
                           (cp >= 0xFF00 && cp <= 0xFF0F) || cp == 0x00A0 || (cp >= 0x00A1 && cp <= 0x00BF);
  return !punctuation;
}

}  // namespace

bool is_whole_word(const Tokenizer& tok, std::int32_t id) {
  if (tok.is_special(id)) return false;
  if (tok.type() != TokenizerType::byte_bpe) return true;
  const std::string& bytes = tok.token_bytes(id);
  if (bytes.size() < 2 || bytes[0] != ' ') return false;
  for (std::size_t i = 1; i < bytes.size();) {
    const std::size_t n = utf8::sequence_length(bytes, i);
    if (n == 0 || !is_letter(bytes, i, n)) return false;  // a partial character is a piece
    i += n;
  }
  return true;
}

void keep_whole_words(UnitTable& table, const Tokenizer& tok) {
  for (std::int32_t id = 0; id < table.rows; ++id)
    if (!is_whole_word(tok, id)) table.candidate[static_cast<std::size_t>(id)] = 0;
}

}  // namespace tinygpt
