// GPT-2's pre-tokenizer pattern, rule by rule, and the scanner against PCRE2 running the
// pattern itself (with the same Unicode classes written out as character ranges) on
// hundreds of thousands of random strings and on every fixture text.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <catch2/catch.hpp>
#include <memory>

#include "helpers.h"
#include "pretokenize.h"
#include "utf8.h"

using namespace tinygpt;
using tinygpt::test::fixture;
using tinygpt::test::read_file;
using Pieces = std::vector<std::string>;

namespace {

Pieces split(std::string_view text) {
  Pieces out;
  for (const auto p : pretok::split(text)) out.emplace_back(p);
  return out;
}

// The pattern with \p{L}, \p{N} and \s spelled out from the scanner's own class table, so
// that PCRE2 checks the rules (alternation order, greediness, the lookahead) and nothing else.
std::string ranges_of(pretok::CharClass cls) {
  std::string out;
  char buf[48];
  for (char32_t cp = 0; cp < 0x110000;) {
    if (pretok::char_class(cp) != cls || (cp >= 0xD800 && cp <= 0xDFFF)) {
      ++cp;
      continue;
    }
    const char32_t first = cp;
    while (cp + 1 < 0x110000 && pretok::char_class(cp + 1) == cls) ++cp;
    std::snprintf(buf, sizeof buf, "\\x{%X}-\\x{%X}", static_cast<unsigned>(first), static_cast<unsigned>(cp));
    out += buf;
    ++cp;
  }
  return out;
}

class Pcre2Pattern {
 public:
  Pcre2Pattern() {
    const std::string L = ranges_of(pretok::CharClass::letter);
    const std::string N = ranges_of(pretok::CharClass::number);
    const std::string S = ranges_of(pretok::CharClass::space);
    const std::string pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?[" + L + "]+| ?[" + N + "]+| ?[^" + S + L + N + "]+|[" + S +
                                "]+(?![^" + S + "])|[" + S + "]+";
    int err = 0;
    PCRE2_SIZE offset = 0;
    code_.reset(
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF, &err, &offset, nullptr));
    REQUIRE(code_);
    pcre2_jit_compile(code_.get(), PCRE2_JIT_COMPLETE);
    data_.reset(pcre2_match_data_create_from_pattern(code_.get(), nullptr));
  }

  Pieces split(std::string_view text) const {
    Pieces out;
    for (PCRE2_SIZE pos = 0; pos < text.size();) {
      const int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos,
                                 PCRE2_NO_UTF_CHECK, data_.get(), nullptr);
      if (rc < 0) {
        out.emplace_back("<no match>");
        break;
      }
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data_.get());
      if (ov[0] != pos) out.emplace_back("<gap>");
      out.emplace_back(text.substr(ov[0], ov[1] - ov[0]));
      pos = ov[1];
    }
    return out;
  }

 private:
  struct CodeFree {
    void operator()(pcre2_code* c) const { pcre2_code_free(c); }
  };
  struct DataFree {
    void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
  };
  std::unique_ptr<pcre2_code, CodeFree> code_;
  std::unique_ptr<pcre2_match_data, DataFree> data_;
};

}  // namespace

TEST_CASE("pattern rule 1: contractions, lower case only, at the start of a match", "[tokenizer][pretokenize]") {
  CHECK(split("it's") == Pieces{"it", "'s"});
  CHECK(split("don't we're they've I'm we'll he'd") ==
        Pieces{"don", "'t", " we", "'re", " they", "'ve", " I", "'m", " we", "'ll", " he", "'d"});
  CHECK(split("'s") == Pieces{"'s"});
  CHECK(split("'sam") == Pieces{"'s", "am"});
  CHECK(split("'ll've") == Pieces{"'ll", "'ve"});
  // Upper case is not a contraction in GPT-2's pattern: the apostrophe is punctuation.
  CHECK(split("IT'S") == Pieces{"IT", "'", "S"});
  CHECK(split("WE'RE") == Pieces{"WE", "'", "RE"});
  CHECK(split("I'M") == Pieces{"I", "'", "M"});
  CHECK(split("it'S") == Pieces{"it", "'", "S"});
  // Not at the start of a match: inside a run of punctuation, or after a space.
  CHECK(split("''s") == Pieces{"''", "s"});
  CHECK(split("...'s") == Pieces{"...'", "s"});
  CHECK(split(" 's") == Pieces{" '", "s"});
  CHECK(split("'r") == Pieces{"'", "r"});
  CHECK(split("'") == Pieces{"'"});
  CHECK(split("it\xE2\x80\x99s") == Pieces{"it", "\xE2\x80\x99", "s"});  // ’ is not '
}

TEST_CASE("pattern rule 2: letters, with one optional leading space", "[tokenizer][pretokenize]") {
  CHECK(split("hello world") == Pieces{"hello", " world"});
  CHECK(split(" hello") == Pieces{" hello"});
  CHECK(split("naïve café") == Pieces{"naïve", " café"});
  CHECK(split("新年快樂 機器學習") == Pieces{"新年快樂", " 機器學習"});
  CHECK(split("abc123def") == Pieces{"abc", "123", "def"});
  CHECK(split("e\xCC\x81t\xC3\xA9") == Pieces{"e", "\xCC\x81", "t\xC3\xA9"});  // a combining mark is not a letter
  CHECK(split("ºª") == Pieces{"ºª"});                                          // Lo in Latin-1
  CHECK(split("\xF0\xB1\x8D\x90") == Pieces{"\xF0\xB1\x8D\x90"});              // U+31350, CJK Ext H (Unicode 15)
  CHECK(split(" \xE3\x80\x80x") == Pieces{" ", "\xE3\x80\x80", "x"});          // only U+0020 joins a word
}

TEST_CASE("pattern rule 3: numbers, with one optional leading space, any length", "[tokenizer][pretokenize]") {
  CHECK(split("in 2024") == Pieces{"in", " 2024"});
  CHECK(split("12345678901234567890") == Pieces{"12345678901234567890"});
  CHECK(split("3.14") == Pieces{"3", ".", "14"});
  CHECK(split("x²½Ⅻ") == Pieces{"x", "²½Ⅻ"});  // No, No, Nl
  CHECK(split(" ٣٤") == Pieces{" ٣٤"});
  CHECK(split("１２３ＡＢＣ") == Pieces{"１２３", "ＡＢＣ"});
}

TEST_CASE("pattern rule 4: other characters, with one optional leading space", "[tokenizer][pretokenize]") {
  CHECK(split("hi!!! ok") == Pieces{"hi", "!!!", " ok"});
  CHECK(split(" !?") == Pieces{" !?"});
  CHECK(split("a.b") == Pieces{"a", ".", "b"});
  CHECK(split("<|endoftext|>") == Pieces{"<|", "endoftext", "|>"});
  CHECK(split("新年，快樂。") == Pieces{"新年", "，", "快樂", "。"});
  CHECK(split("👍🏽👍") == Pieces{"👍🏽👍"});
  CHECK(split(" 👨‍👩‍👧") == Pieces{" 👨‍👩‍👧"});
  CHECK(split("a\xEF\xBB\xBF"
              "b") == Pieces{"a", "\xEF\xBB\xBF", "b"});  // U+FEFF is not White_Space
  CHECK(split(std::string("a\0b", 3)) == Pieces{"a", std::string(1, '\0'), "b"});
}

TEST_CASE("pattern rules 5 and 6: whitespace and its lookahead", "[tokenizer][pretokenize]") {
  CHECK(split("a b") == Pieces{"a", " b"});
  CHECK(split("a  b") == Pieces{"a", " ", " b"});  // the last space goes with the word
  CHECK(split("a    b") == Pieces{"a", "   ", " b"});
  CHECK(split("a\n\nb") == Pieces{"a", "\n", "\n", "b"});  // a lone non-space whitespace before a word
  CHECK(split("a\n\n\nb") == Pieces{"a", "\n\n", "\n", "b"});
  CHECK(split("a \n b") == Pieces{"a", " \n", " b"});
  CHECK(split("a\t b") == Pieces{"a", "\t", " b"});
  CHECK(split("a \tb") == Pieces{"a", " ", "\t", "b"});
  CHECK(split("end  ") == Pieces{"end", "  "});  // trailing whitespace: one piece
  CHECK(split("end \n") == Pieces{"end", " \n"});
  CHECK(split(" ") == Pieces{" "});
  CHECK(split("   ") == Pieces{"   "});
  CHECK(split("\n") == Pieces{"\n"});
  CHECK(split("x\r\ny") == Pieces{"x", "\r", "\n", "y"});
  CHECK(split("x \xC2\xA0y") == Pieces{"x", " ", "\xC2\xA0", "y"});  // NBSP is White_Space
  CHECK(split("x\xC2\x85y") == Pieces{"x", "\xC2\x85", "y"});        // so is U+0085 (as in tiktoken)
  CHECK(split("x\xE3\x80\x80\xE3\x80\x80y") == Pieces{"x", "\xE3\x80\x80", "\xE3\x80\x80", "y"});
  CHECK(split("  !") == Pieces{" ", " !"});
  CHECK(split("  1") == Pieces{" ", " 1"});
  CHECK(split("").empty());
}

TEST_CASE("character classes follow tiktoken (Unicode 16, White_Space)", "[tokenizer][pretokenize]") {
  using pretok::CharClass;
  CHECK(std::string(pretok::unicode_version()) == "16.0.0");
  CHECK(pretok::char_class(U'a') == CharClass::letter);
  CHECK(pretok::char_class(U'新') == CharClass::letter);
  CHECK(pretok::char_class(U'ー') == CharClass::letter);  // Lm
  CHECK(pretok::char_class(U'7') == CharClass::number);
  CHECK(pretok::char_class(0x2167) == CharClass::number);  // Ⅷ, Nl
  CHECK(pretok::char_class(U' ') == CharClass::space);
  for (const char32_t s :
       {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000})
    CHECK(pretok::char_class(s) == CharClass::space);
  for (const char32_t o : {0x1C, 0x1F, 0x180E, 0x200B, 0x200D, 0xFEFF, 0x0301, 0xE000, 0x10FFFF, 0x1F44D})
    CHECK(pretok::char_class(o) == CharClass::other);
  CHECK(pretok::char_class(0x13460) == CharClass::letter);  // Egyptian hieroglyph, Unicode 16
  CHECK(pretok::char_class(0x323B0) == CharClass::other);   // CJK Ext J, Unicode 17: not yet
  CHECK(pretok::char_class(0x110000) == CharClass::other);
}

TEST_CASE("the scanner agrees with PCRE2 running the pattern", "[tokenizer][pretokenize][pcre2]") {
  static const Pcre2Pattern pcre;
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  // An alphabet rich in the characters the rules care about.
  const std::vector<std::string> alphabet = {" ",
                                             " ",
                                             " ",
                                             "\t",
                                             "\n",
                                             "\r",
                                             "\v",
                                             "\f",
                                             "'",
                                             "'",
                                             "s",
                                             "t",
                                             "r",
                                             "e",
                                             "v",
                                             "l",
                                             "m",
                                             "d",
                                             "S",
                                             "L",
                                             "a",
                                             "Z",
                                             "0",
                                             "7",
                                             ".",
                                             "!",
                                             "-",
                                             "\xC2\xA0",
                                             "\xC2\x85",
                                             "\xE3\x80\x80",
                                             "\xE2\x80\xA8",
                                             "\xEF\xBB\xBF",
                                             "\xE2\x80\x8B",
                                             "é",
                                             "e\xCC\x81",
                                             "新",
                                             "年",
                                             "，",
                                             "²",
                                             "Ⅻ",
                                             "٣",
                                             "👍",
                                             "🏽",
                                             "\xE2\x80\x8D",
                                             std::string(1, '\0')};
  std::size_t checked = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string text;
    const std::size_t len = next() % 12;
    for (std::size_t k = 0; k < len; ++k) {
      if (next() % 16 == 0) {  // now and then any code point
        char32_t cp = static_cast<char32_t>(next() % 0x110000);
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0x41;
        text += utf8::encode(cp);
      } else {
        text += alphabet[next() % alphabet.size()];
      }
    }
    const Pieces want = pcre.split(text);
    const Pieces got = split(text);
    if (got != want) {
      INFO("text: " << nlohmann::json(text).dump());
      REQUIRE(got == want);
    }
    ++checked;
  }
  const auto fx = nlohmann::json::parse(read_file(fixture("tokenizer/gpt2_cases.json")));
  for (const auto& c : fx.at("cases")) {
    const std::string& text = c.at("text").get_ref<const std::string&>();
    if (split(text) != pcre.split(text)) {
      INFO("text: " << c.at("text").dump());
      REQUIRE(split(text) == pcre.split(text));
    }
    ++checked;
  }
  CHECK(checked > 200000);
}

TEST_CASE("the scanner never reads past the end, even on invalid UTF-8", "[tokenizer][pretokenize]") {
  // The tokenizer rejects invalid UTF-8 before scanning; the scanner alone still must not crash.
  std::uint32_t state = 99;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (int round = 0; round < 20000; ++round) {
    std::string bytes;
    for (std::size_t k = next() % 10; k > 0; --k) bytes += static_cast<char>(next() & 0xFF);
    std::string joined;
    for (const auto p : pretok::split(bytes)) {
      REQUIRE_FALSE(p.empty());
      joined += p;
    }
    REQUIRE(joined == bytes);
  }
  CHECK(split("ab\xE6") == Pieces{"ab", "\xE6"});
}
