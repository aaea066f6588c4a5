// GPT-2's pre-tokenizer pattern as a scanner; see include/tinygpt/pretokenize.h.
#include "pretokenize.h"

#include <array>

namespace tinygpt::pretok {
namespace {

// Classes of the 128 ASCII characters, looked up without decoding.
const std::array<CharClass, 128>& ascii_classes() {
  static const std::array<CharClass, 128> table = [] {
    std::array<CharClass, 128> t{};
    for (char32_t c = 0; c < 128; ++c) t[c] = char_class(c);
    return t;
  }();
  return table;
}

struct Char {
  char32_t cp;
  std::size_t len;
};

// Decodes the UTF-8 character at text[pos]. The text should be valid; if it is not, this
// never reads past the end and each broken byte counts as one "other" character.
inline Char decode(std::string_view text, std::size_t pos) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) return {b0, 1};
  const std::size_t need = b0 < 0xC0 ? 0 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : b0 < 0xF8 ? 4 : 0;
  if (need == 0 || pos + need > text.size()) return {0xFFFD, 1};
  const auto at = [&](std::size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(text[pos + k]) & 0x3F);
  };
  if (b0 < 0xE0) return {(static_cast<char32_t>(b0 & 0x1F) << 6) | at(1), 2};
  if (b0 < 0xF0) return {(static_cast<char32_t>(b0 & 0x0F) << 12) | (at(1) << 6) | at(2), 3};
  return {(static_cast<char32_t>(b0 & 0x07) << 18) | (at(1) << 12) | (at(2) << 6) | at(3), 4};
}

inline CharClass class_at(std::string_view text, std::size_t pos, std::size_t& len) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) {
    len = 1;
    return ascii_classes()[b0];
  }
  const Char c = decode(text, pos);
  len = c.len;
  return char_class(c.cp);
}

// End of the run of characters of class `cls` that starts at pos.
std::size_t run_end(std::string_view text, std::size_t pos, CharClass cls) {
  const auto& ascii = ascii_classes();
  while (pos < text.size()) {
    const auto b = static_cast<unsigned char>(text[pos]);
    if (b < 0x80) {
      if (ascii[b] != cls) break;
      ++pos;
      continue;
    }
    const Char c = decode(text, pos);
    if (char_class(c.cp) != cls) break;
    pos += c.len;
  }
  return pos;
}

// Rule 1: 's 't 're 've 'm 'll 'd at text[pos] == '\''. Returns the length or 0.
inline std::size_t contraction(std::string_view text, std::size_t pos) {
  if (pos + 1 >= text.size()) return 0;
  const char a = text[pos + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= text.size()) return 0;
  const char b = text[pos + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

}  // namespace

std::size_t next_end(std::string_view text, std::size_t pos) {
  const char first = text[pos];
  if (first == '\'') {
    if (const std::size_t n = contraction(text, pos)) return pos + n;
  }
  std::size_t len = 0;
  const CharClass cls = class_at(text, pos, len);
  if (first == ' ' && pos + 1 < text.size()) {
    // Rules 2-4 with the optional leading space.
    std::size_t len1 = 0;
    const CharClass next = class_at(text, pos + 1, len1);
    if (next != CharClass::space) return run_end(text, pos + 1 + len1, next);
  }
  if (cls != CharClass::space) return run_end(text, pos + len, cls);  // rules 2-4 without it
  // Rules 5 and 6: a run of whitespace.
  std::size_t last = pos;  // start of the run's last character
  std::size_t end = pos + len;
  std::size_t count = 1;
  while (end < text.size()) {
    std::size_t n = 0;
    if (class_at(text, end, n) != CharClass::space) break;
    last = end;
    end += n;
    ++count;
  }
  if (end == text.size() || count == 1) return end;  // rule 5 at the end of the text, or rule 6
  return last;                                       // rule 5: leave the last one to the next token
}

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> out;
  for_each(text, [&](std::string_view piece) { out.push_back(piece); });
  return out;
}

}  // namespace tinygpt::pretok
