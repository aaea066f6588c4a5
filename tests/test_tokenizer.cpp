// Tokenizers: char level (CJK, unk, errors), byte_bpe from the weights JSON (loading and its
// errors), special tokens, pieces for tables, decoding and the streaming decoder.
#include <catch2/catch.hpp>

#include "helpers.h"
#include "tinygpt/error.h"
#include "tinygpt/tokenizer.h"
#include "utf8.h"

using namespace tinygpt;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using tinygpt::test::fixture;
using tinygpt::test::read_json;
using Ids = std::vector<std::int32_t>;

namespace {

// The message of the error `f` throws, checking its kind ("" if it does not throw).
template <class F>
std::string error_of(F&& f, ErrorKind kind) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == kind);
    return e.what();
  }
  return "";
}

std::string load_error(const nlohmann::json& tok) {
  return error_of([&] { Tokenizer::from_json(tok, "m.json"); }, ErrorKind::model);
}

nlohmann::json char_vocab() {
  return {{"type", "char"},
          {"vocab", {"<bos>", "<eos>", "新", "年", "快", "樂", "a", "b", " ", "\n"}},
          {"bos_token", "<bos>"},
          {"eos_token", "<eos>"}};
}

// GPT-2's printable stand-in for a byte (bytes_to_unicode).
std::string stand_in(int b) {
  const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  if (printable) return utf8::encode(static_cast<char32_t>(b));
  int n = 0;
  for (int k = 0; k < b; ++k) {
    const bool p = (k >= '!' && k <= '~') || (k >= 0xA1 && k <= 0xAC) || (k >= 0xAE && k <= 0xFF);
    if (!p) ++n;
  }
  return utf8::encode(static_cast<char32_t>(256 + n));
}

// A byte_bpe tokenizer object: the 256 byte tokens (ids 0..255 in byte order), one token
// per merge in order, then <|endoftext|>. Merges are written in the printable alphabet.
nlohmann::json bpe_json(const std::vector<std::string>& merges, bool with_eot = true) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[stand_in(b)] = b;
  nlohmann::json m = nlohmann::json::array();
  for (const auto& s : merges) {
    const auto sp = s.find(' ');
    const std::string merged = s.substr(0, sp) + s.substr(sp + 1);
    if (!vocab.contains(merged)) vocab[merged] = vocab.size();
    m.push_back(s);
  }
  if (with_eot) vocab["<|endoftext|>"] = vocab.size();
  nlohmann::json j = {{"type", "byte_bpe"}, {"vocab", vocab}, {"merges", m}};
  if (with_eot) {
    j["bos_token"] = "<|endoftext|>";
    j["eos_token"] = "<|endoftext|>";
  }
  return j;
}

std::vector<std::string> pieces_of(const Tokenizer& t, const Ids& ids) {
  std::vector<std::string> out;
  for (const auto id : ids) out.push_back(t.token_bytes(id));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------- char level

TEST_CASE("char: one code point per token, UTF-8 aware", "[tokenizer][char]") {
  const Tokenizer t = Tokenizer::from_json(char_vocab(), "m.json");
  CHECK(t.type() == TokenizerType::char_level);
  CHECK(t.encode("新年快樂") == Ids{2, 3, 4, 5});
  CHECK(t.encode("新年快樂").size() == 4);
  CHECK(t.encode("a 新\nb") == Ids{6, 8, 2, 9, 7});
  CHECK(t.encode("").empty());
  CHECK(t.decode(t.encode("新年快樂 ab")) == "新年快樂 ab");
}

TEST_CASE("char: a missing character is an error naming it and its byte offset", "[tokenizer][char]") {
  const Tokenizer t = Tokenizer::from_json(char_vocab(), "m.json");
  const auto msg = error_of([&] { t.encode("新年x"); }, ErrorKind::input);
  CHECK_THAT(msg, Contains("'x'") && Contains("U+0078") && Contains("byte offset 6"));
  const auto cjk = error_of([&] { t.encode("ab早"); }, ErrorKind::input);
  CHECK_THAT(cjk, Contains("'早'") && Contains("U+65E9") && Contains("byte offset 2"));
  const auto tab = error_of([&] { t.encode("a\tb"); }, ErrorKind::input);
  CHECK_THAT(tab, Contains("U+0009") && Contains("byte offset 1"));
}

TEST_CASE("char: unk_token stands in for missing characters", "[tokenizer][char]") {
  auto j = char_vocab();
  j["vocab"].push_back("<unk>");
  j["unk_token"] = "<unk>";
  const Tokenizer t = Tokenizer::from_json(j, "m.json");
  CHECK(t.encode("a早b") == Ids{6, 10, 7});
  CHECK(t.is_special(10));
  CHECK(t.decode(Ids{6, 10, 7}) == "ab");  // special tokens are left out of text
}

TEST_CASE("char: special tokens are never produced from ordinary text", "[tokenizer][char]") {
  const Tokenizer t = Tokenizer::from_json(char_vocab(), "m.json");
  CHECK_THROWS_AS(t.encode("<bos>"), Error);  // '<' is not in this vocabulary: no shortcut to the special
  auto j = char_vocab();
  j["vocab"] = {"<", "b", "o", "s", ">", "<bos>"};
  j["eos_token"] = nullptr;
  const Tokenizer t2 = Tokenizer::from_json(j, "m.json");
  CHECK(t2.encode("<bos>") == Ids{0, 1, 2, 3, 4});
  CHECK(t2.bos_id() == 5);
}

TEST_CASE("char: invalid UTF-8 input is an input error with its offset", "[tokenizer][char]") {
  const Tokenizer t = Tokenizer::from_json(char_vocab(), "m.json");
  CHECK_THAT(error_of([&] { t.encode("ab\xFF"); }, ErrorKind::input),
             Contains("invalid UTF-8") && Contains("byte offset 2"));
  CHECK_THAT(error_of([&] { t.encode("\xE6\x96"); }, ErrorKind::input), Contains("byte offset 0"));
}

TEST_CASE("char: load errors name the file and the entry", "[tokenizer][char]") {
  auto j = char_vocab();
  j["vocab"].push_back("ab");
  CHECK_THAT(load_error(j), StartsWith("m.json") && Contains("more than one character"));
  j = char_vocab();
  j["vocab"].push_back("新");
  CHECK_THAT(load_error(j), Contains("twice"));
  j = char_vocab();
  j["unk_token"] = "<unk>";
  CHECK_THAT(load_error(j), Contains("unk_token") && Contains("not in the vocabulary"));
  j = char_vocab();
  j["type"] = "wordpiece";
  CHECK_THAT(load_error(j), Contains("unknown tokenizer.type"));
}

// ---------------------------------------------------------------------------- byte_bpe from JSON

TEST_CASE("byte_bpe: the shipped English tokenizer loads and round-trips", "[tokenizer][bpe]") {
  const auto j = read_json(fixture("../../data/english_bpe.json"));
  const Tokenizer t = Tokenizer::from_json(j, "english_bpe.json");
  CHECK(t.type() == TokenizerType::byte_bpe);
  CHECK(t.size() == static_cast<std::int32_t>(j["vocab"].size()));
  REQUIRE(t.bos_id().has_value());
  CHECK(t.bos_id() == t.eos_id());
  CHECK(t.token_bytes(*t.bos_id()) == "<|endoftext|>");
  const std::string text =
      "In the beginning God created the heaven and the earth.\n\n新年快樂 👍🏽 naïve   \t x";
  const Ids ids = t.encode(text);
  CHECK(t.decode(ids) == text);
  CHECK(ids.size() < text.size());  // merges happened
  for (const auto id : ids) CHECK_FALSE(t.is_special(id));
  // Text spelling the special token is ordinary text.
  const Ids eot = t.encode("<|endoftext|>");
  CHECK(eot.size() > 1);
  CHECK(std::find(eot.begin(), eot.end(), *t.eos_id()) == eot.end());
  CHECK(t.decode(eot) == "<|endoftext|>");
}

TEST_CASE("byte_bpe: merges apply in rank order, every occurrence left to right", "[tokenizer][bpe]") {
  // aa first, then aaaa: "aaaaa" -> aa aa a -> aaaa a.
  const Tokenizer t = Tokenizer::from_json(bpe_json({"a a", "aa aa"}), "m.json");
  CHECK(pieces_of(t, t.encode("aaaaa")) == std::vector<std::string>{"aaaa", "a"});
  CHECK(pieces_of(t, t.encode("aaa")) == std::vector<std::string>{"aa", "a"});
  // Long pre-tokens take another code path; the result must be the same.
  const Ids long_ids = t.encode(std::string(4 * 100 + 1, 'a'));
  REQUIRE(long_ids.size() == 101);
  for (std::size_t i = 0; i < 100; ++i) CHECK(t.token_bytes(long_ids[i]) == "aaaa");
  CHECK(t.token_bytes(long_ids[100]) == "a");
}

TEST_CASE("byte_bpe: a pair made during a pass waits until that pass is over (GPT-2's encoder.py)",
          "[tokenizer][bpe]") {
  // "ab a" outranks "a b", but "ab" exists only once "a b" has merged all its occurrences:
  // "abab" -> ab ab (never aba b), in short and in long pre-tokens alike.
  const Tokenizer t = Tokenizer::from_json(bpe_json({"ab a", "a b"}), "m.json");
  CHECK(pieces_of(t, t.encode("abab")) == std::vector<std::string>{"ab", "ab"});
  CHECK(pieces_of(t, t.encode("aba")) == std::vector<std::string>{"aba"});
  std::string long_text;
  for (int i = 0; i < 60; ++i) long_text += "ab";
  const auto p = pieces_of(t, t.encode(long_text));
  CHECK(p == std::vector<std::string>(60, "ab"));
}

TEST_CASE("byte_bpe: load errors name the file and what is wrong", "[tokenizer][bpe]") {
  auto j = bpe_json({"a b"});
  j["vocab"]["ab"] = 500;
  CHECK_THAT(load_error(j), StartsWith("m.json") && Contains("id 500") && Contains("out of range"));
  j = bpe_json({"a b"});
  j["vocab"]["zz"] = 3;
  CHECK_THAT(load_error(j), Contains("id 3 is given to both"));
  j = bpe_json({"a b"});
  j["vocab"]["ab"] = "x";
  CHECK_THAT(load_error(j), Contains("not an integer"));
  j = bpe_json({"a b"});
  j["merges"].push_back("a q9");
  CHECK_THAT(load_error(j), Contains("tokenizer.merges[1]") && Contains("\"q9\" is not in the vocabulary"));
  j = bpe_json({"a b"});
  j["merges"].push_back("b a");
  CHECK_THAT(load_error(j),
             Contains("tokenizer.merges[1]") && Contains("merged token \"ba\" is not in the vocabulary"));
  j = bpe_json({"a b"});
  j["merges"].push_back("a b");
  CHECK_THAT(load_error(j), Contains("listed twice"));
  j = bpe_json({"a b"});
  j["merges"].push_back("ab");
  CHECK_THAT(load_error(j), Contains("not two tokens separated by one space"));
  j = bpe_json({"a b"});
  j["merges"].push_back(7);
  CHECK_THAT(load_error(j), Contains("tokenizer.merges[1] is not a string"));
  j = bpe_json({"a b"});
  j["vocab"].erase("Ġ");
  j["vocab"]["zz"] = 32;
  CHECK_THAT(load_error(j), Contains("byte token \"Ġ\" (byte 0x20)"));
  j = bpe_json({"a b"});
  j["vocab"]["hello world"] = j["vocab"].size();
  CHECK_THAT(load_error(j), Contains("\"hello world\"") && Contains("byte alphabet"));
  j = bpe_json({"a b"});
  j["vocab"] = nlohmann::json::array({"a"});
  CHECK_THAT(load_error(j), Contains("must be an object"));
  j = bpe_json({"a b"});
  j.erase("merges");
  CHECK_THAT(load_error(j), Contains("tokenizer.merges"));
  j = bpe_json({"a b"});
  j["unk_token"] = "<|endoftext|>";
  CHECK_THAT(load_error(j), Contains("unk_token is only for char"));
  j = bpe_json({"a b"});
  j["bos_token"] = "<s>";
  CHECK_THAT(load_error(j), Contains("bos_token \"<s>\" is not in the vocabulary"));
}

TEST_CASE("byte_bpe: invalid UTF-8 input is an input error with its offset, never a crash", "[tokenizer][bpe]") {
  const Tokenizer t = Tokenizer::from_json(bpe_json({"a b"}), "m.json");
  for (const std::string bad : {"ab\xFF", "\xC0\xAF", "x\xED\xA0\x80", "\xF4\x90\x80\x80", "ok \xE6\x96", "\x80"}) {
    const auto msg = error_of([&] { t.encode(bad); }, ErrorKind::input);
    CHECK_THAT(msg, Contains("invalid UTF-8") && Contains("byte offset " + std::to_string(*utf8::first_invalid(bad))));
  }
  // NUL and other control characters are valid UTF-8 and encode as bytes.
  const std::string ctl("a\0b\x01\x7F", 5);
  CHECK(t.decode(t.encode(ctl)) == ctl);
}

TEST_CASE("byte_bpe: special tokens are left out of decoding and never encoded", "[tokenizer][bpe]") {
  auto j = bpe_json({"a b"});
  const Tokenizer t = Tokenizer::from_json(j, "m.json");
  const std::int32_t eot = *t.eos_id();
  CHECK(t.is_special(eot));
  CHECK(t.decode(Ids{97, eot, 98}) == "ab");
  CHECK(t.piece(eot) == "<|endoftext|>");
  // <|endoftext|> is special even when the file does not name it bos/eos.
  j.erase("bos_token");
  j.erase("eos_token");
  const Tokenizer t2 = Tokenizer::from_json(j, "m.json");
  CHECK_FALSE(t2.bos_id().has_value());
  CHECK(t2.is_special(*t2.lookup("<|endoftext|>")));
  CHECK(t2.decode(Ids{*t2.lookup("<|endoftext|>")}).empty());
}

// ---------------------------------------------------------------------------- display and decoding

TEST_CASE("pieces show spaces, newlines, tabs and partial characters visibly", "[tokenizer]") {
  const Tokenizer t = Tokenizer::from_json(bpe_json({"Ġ a", "Ċ Ċ"}), "m.json");
  CHECK(t.piece(*t.lookup("Ġa")) ==
        "\xC2\xB7"
        "a");                                                     // ·a
  CHECK(t.piece(*t.lookup("ĊĊ")) == "\xE2\x86\xB5\xE2\x86\xB5");  // ↵↵
  CHECK(t.piece(9) == "\xE2\x86\x92");                            // tab →
  CHECK(t.piece(13) == "\\r");
  CHECK(t.piece(0) == "\\x00");
  CHECK(t.piece(0xE6) == "\\xE6");  // one byte of a three-byte character
  CHECK(t.piece(400) == "<pad 400>");
  const Tokenizer c = Tokenizer::from_json(
      {{"type", "char"}, {"vocab", {"a", "\xC2\xA0", "\xE3\x80\x80", "\xC2\x85", "新"}}}, "m.json");
  CHECK(c.piece(1) == "[U+00A0]");
  CHECK(c.piece(2) == "[U+3000]");
  CHECK(c.piece(3) == "[U+0085]");
  CHECK(c.piece(4) == "新");
}

TEST_CASE("decode_text replaces unfinished characters visibly", "[tokenizer]") {
  const Tokenizer t = Tokenizer::from_json(bpe_json({}), "m.json");
  const Ids ids = t.encode("新年");  // six byte tokens
  REQUIRE(ids.size() == 6);
  CHECK(t.decode_text(ids) == "新年");
  CHECK(t.decode_text(Ids(ids.begin(), ids.begin() + 4)) == "新\xEF\xBF\xBD");
  CHECK(t.decode(Ids(ids.begin(), ids.begin() + 4)) == "新\xE5");  // raw bytes as they are
}

TEST_CASE("streaming: token by token, characters come out whole", "[tokenizer][stream]") {
  const Tokenizer t = Tokenizer::from_json(read_json(fixture("../../data/english_bpe.json")), "english_bpe.json");
  const std::string text = "The 新年快樂 and 👨‍👩‍👧‍👦 ok é";
  const Ids ids = t.encode(text);
  utf8::StreamDecoder stream;
  std::string shown;
  for (const auto id : ids) {
    const std::string out = stream.push(t.token_bytes(id));
    CHECK_FALSE(utf8::first_invalid(out).has_value());  // never broken bytes
    shown += out;
  }
  shown += stream.finish();
  CHECK(shown == text);
}

TEST_CASE("streaming: invalid or unfinished UTF-8 at the end becomes U+FFFD", "[tokenizer][stream]") {
  const Tokenizer t = Tokenizer::from_json(bpe_json({}), "m.json");
  const std::string fffd = "\xEF\xBF\xBD";
  {  // generation stops after the first two bytes of 年
    utf8::StreamDecoder stream;
    std::string shown = stream.push(t.token_bytes(0xE5));
    shown += stream.push(t.token_bytes(0xB9));
    CHECK(shown.empty());
    CHECK(stream.finish() == fffd);
  }
  {  // a stray continuation byte and an impossible byte mid-stream
    utf8::StreamDecoder stream;
    CHECK(stream.push(t.token_bytes('a')) == "a");
    CHECK(stream.push(t.token_bytes(0x96)) == fffd);
    CHECK(stream.push(t.token_bytes(0xFF)) == fffd);
    CHECK(stream.push(t.token_bytes(0xE6)).empty());
    CHECK(stream.push(t.token_bytes('b')) == fffd + "b");  // the unfinished 新 is given up
    CHECK(stream.finish().empty());
  }
}

TEST_CASE("streaming matches decoding everything at once, however the bytes are split", "[tokenizer][stream]") {
  std::uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  const std::string samples[] = {"新年快樂",      "👍🏽x", "a\xE6\x96",    "\xF0\x9F\x91\xFF",
                                 "\xED\xA0\x80z", "\xC3",      "é\xC3\xA9\x80"};
  for (int round = 0; round < 2000; ++round) {
    std::string bytes;
    for (int k = next() % 6; k >= 0; --k) bytes += samples[next() % std::size(samples)];
    if (next() % 4 == 0) bytes += static_cast<char>(next() & 0xFF);
    utf8::StreamDecoder stream;
    std::string shown;
    for (std::size_t i = 0; i < bytes.size();) {
      const std::size_t n = std::min<std::size_t>(1 + next() % 4, bytes.size() - i);
      shown += stream.push(bytes.substr(i, n));
      i += n;
    }
    shown += stream.finish();
    INFO("round " << round);
    REQUIRE(shown == utf8::sanitize(bytes));
  }
}
