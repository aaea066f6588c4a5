// GPT-2's byte-level BPE against tiktoken: every case of tests/fixtures/tokenizer/gpt2_cases.json
// (made by tools/tiktoken_fixture.mjs with npm tiktoken) must encode to exactly tiktoken's ids
// and decode back to the text. Also: loading GPT-2's own encoder.json + vocab.bpe, and an
// independent, naive transcription of GPT-2's encoder.py checked against the fast encoder.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "helpers.h"
#include "pretokenize.h"
#include "tinygpt/error.h"
#include "tinygpt/tokenizer.h"
#include "utf8.h"

using namespace tinygpt;
using Catch::Matchers::Contains;
using tinygpt::test::fixture;
using tinygpt::test::read_file;
using Ids = std::vector<std::int32_t>;

namespace {

const std::string kEncoder = fixture("tokenizer/gpt2/encoder.json");
const std::string kMerges = fixture("tokenizer/gpt2/vocab.bpe");

const Tokenizer& gpt2() {
  static const Tokenizer t = Tokenizer::from_gpt2_files(kEncoder, kMerges);
  return t;
}

std::string model_error(const std::string& encoder, const std::string& merges) {
  try {
    Tokenizer::from_gpt2_files(encoder, merges);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::model);
    return e.what();
  }
  return "";
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = "/tmp/tinygpt-tok-test-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// GPT-2's encoder.py, transcribed as plainly as possible: strings in the printable alphabet,
// a map of ranked pairs, and "merge the best pair everywhere, repeat".
class NaiveGpt2 {
 public:
  NaiveGpt2() {
    const auto enc = nlohmann::json::parse(read_file(kEncoder));
    for (const auto& [k, v] : enc.items()) encoder_[k] = v.get<int>();
    const std::string bpe = read_file(kMerges);
    std::size_t pos = bpe.find('\n') + 1, rank = 0;
    while (pos < bpe.size()) {
      const std::size_t end = bpe.find('\n', pos);
      const std::string line = bpe.substr(pos, end - pos);
      pos = end == std::string::npos ? bpe.size() : end + 1;
      if (line.empty()) continue;
      const auto sp = line.find(' ');
      ranks_[{line.substr(0, sp), line.substr(sp + 1)}] = rank++;
    }
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      byte_to_unicode_[b] = utf8::encode(printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++));
    }
  }

  Ids encode(std::string_view text) const {
    Ids ids;
    for (const auto piece : pretok::split(text)) {
      std::vector<std::string> word;
      for (const char c : piece) word.push_back(byte_to_unicode_[static_cast<unsigned char>(c)]);
      while (word.size() > 1) {
        std::size_t best = SIZE_MAX;
        std::pair<std::string, std::string> best_pair;
        for (std::size_t i = 0; i + 1 < word.size(); ++i) {
          const auto it = ranks_.find({word[i], word[i + 1]});
          if (it != ranks_.end() && it->second < best) {
            best = it->second;
            best_pair = it->first;
          }
        }
        if (best == SIZE_MAX) break;
        std::vector<std::string> merged;
        for (std::size_t i = 0; i < word.size();) {
          if (i + 1 < word.size() && word[i] == best_pair.first && word[i + 1] == best_pair.second) {
            merged.push_back(word[i] + word[i + 1]);
            i += 2;
          } else {
            merged.push_back(word[i]);
            i += 1;
          }
        }
        word = std::move(merged);
      }
      for (const auto& w : word) ids.push_back(encoder_.at(w));
    }
    return ids;
  }

 private:
  std::map<std::string, int> encoder_;
  std::map<std::pair<std::string, std::string>, std::size_t> ranks_;
  std::string byte_to_unicode_[256];
};

}  // namespace

TEST_CASE("gpt2: every fixture case encodes exactly as tiktoken and round-trips", "[tokenizer][gpt2][tiktoken]") {
  const auto fx = nlohmann::json::parse(read_file(fixture("tokenizer/gpt2_cases.json")));
  const auto& cases = fx.at("cases");
  REQUIRE(cases.size() >= 5000);
  REQUIRE(cases.size() == fx.at("count").get<std::size_t>());
  const Tokenizer& t = gpt2();
  std::size_t mismatches = 0, round_trip_failures = 0;
  std::map<std::string, std::size_t> per_category;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const std::string& text = c.at("text").get_ref<const std::string&>();
    const Ids want = c.at("ids").get<Ids>();
    const Ids got = t.encode(text);
    ++per_category[c.at("category").get<std::string>()];
    if (got != want) {
      if (++mismatches <= 5) {
        std::size_t k = 0;
        while (k < got.size() && k < want.size() && got[k] == want[k]) ++k;
        UNSCOPED_INFO("case " << i << " (" << c.at("category").get<std::string>() << ") " << c.at("text").dump()
                              << ": first difference at token " << k);
      }
    }
    if (t.decode(got) != text) ++round_trip_failures;
  }
  for (const auto& [category, n] : per_category) UNSCOPED_INFO(category << ": " << n);
  CHECK(mismatches == 0);
  CHECK(round_trip_failures == 0);
  // Every category the issue asks for is there.
  for (const char* category : {"english", "code", "contractions", "whitespace", "numbers", "punctuation", "accented",
                               "chinese", "japanese", "korean", "emoji", "random_bytes", "random_codepoints"})
    CHECK(per_category[category] >= 100);
}

TEST_CASE("gpt2: known encodings", "[tokenizer][gpt2]") {
  const Tokenizer& t = gpt2();
  CHECK(t.size() == 50257);
  CHECK(t.bos_id() == 50256);
  CHECK(t.eos_id() == 50256);
  CHECK(t.is_special(50256));
  CHECK(t.encode("Hello world") == Ids{15496, 995});
  CHECK(t.encode("hello world!") == Ids{31373, 995, 0});
  CHECK(t.encode("<|endoftext|>") == Ids{27, 91, 437, 1659, 5239, 91, 29});  // ordinary text
  CHECK(t.lookup("Ġthe") == 262);
  CHECK(t.token_bytes(262) == " the");
  CHECK(t.piece(262) == "\xC2\xB7the");
  CHECK(t.decode(Ids{15496, 50256, 995}) == "Hello world");
  CHECK(t.encode("").empty());
}

TEST_CASE("gpt2: the fast encoder agrees with a naive transcription of encoder.py", "[tokenizer][gpt2]") {
  static const NaiveGpt2 naive;
  const Tokenizer& t = gpt2();
  std::vector<std::string> texts;
  const std::string english = read_file(fixture("../../data/english_train.txt"));
  const std::string tang = read_file(fixture("../../data/tang_train.txt"));
  texts.push_back(english.substr(0, 60000));
  texts.push_back(tang.substr(0, 30000));  // starts on a character boundary: the file starts with text
  // Long pre-tokens (the heap-based path): runs of letters, digits, punctuation, CJK.
  std::uint32_t state = 7;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  const std::string letters = "etaoinshrdlucmfwypvbgkjqxz";
  for (int k = 0; k < 30; ++k) {
    std::string run = " ";
    const std::size_t len = 65 + next() % 400;
    while (run.size() < len) run += letters[next() % (k < 15 ? 6 : letters.size())];
    texts.push_back(run);
  }
  texts.push_back(std::string(300, '!') + std::string(200, '9') + std::string(150, '\n') + "x");
  std::string han;
  for (int k = 0; k < 100; ++k) han += std::string("新年快樂機器學習早上好").substr(3 * (next() % 11), 3);
  texts.push_back(han);
  for (const auto& text : texts) {
    INFO(text.substr(0, 80));
    CHECK(t.encode(text) == naive.encode(text));
  }
}

TEST_CASE("gpt2: the files' errors name the file and line", "[tokenizer][gpt2]") {
  CHECK_THAT(model_error("/nonexistent/encoder.json", kMerges),
             Contains("/nonexistent/encoder.json") && Contains("cannot open"));
  const std::string enc = read_file(kEncoder);
  const std::string merges = read_file(kMerges);
  const std::string bad_json = write_temp("bad.json", "{\"a\": 0,");
  CHECK_THAT(model_error(bad_json, kMerges), Contains(bad_json) && Contains("not valid JSON"));
  // A merge whose result is not in the vocabulary.
  const std::string extra = write_temp("extra.bpe", merges + "Ġthe Ġthe\n");
  CHECK_THAT(model_error(kEncoder, extra),
             Contains(extra + ": line 50002") && Contains("\"ĠtheĠthe\" is not in the vocabulary"));
  // An unknown token on the left.
  const std::string unknown = write_temp("unknown.bpe", "#version: 0.2\nqqqqqqqqqq x\n");
  CHECK_THAT(model_error(kEncoder, unknown), Contains(unknown + ": line 2") && Contains("\"qqqqqqqqqq\""));
  const std::string malformed = write_temp("malformed.bpe", "#version: 0.2\nĠ t\nĠt\n");
  CHECK_THAT(model_error(kEncoder, malformed), Contains(": line 3") && Contains("not two tokens"));
  const std::string blank = write_temp("blank.bpe", "#version: 0.2\nĠ t\n\nĠ a\n");
  CHECK_THAT(model_error(kEncoder, blank), Contains(": line 3 is blank"));
  // Vocabulary ids must be dense 0..n-1.
  auto j = nlohmann::json::parse(enc);
  j["Ġthe"] = 60000;
  const std::string sparse = write_temp("sparse.json", j.dump());
  CHECK_THAT(model_error(sparse, kMerges), Contains(sparse) && Contains("id 60000") && Contains("out of range"));
  j = nlohmann::json::parse(enc);
  j["Ġthe"] = 0;
  const std::string dup = write_temp("dup.json", j.dump());
  CHECK_THAT(model_error(dup, kMerges), Contains(dup) && Contains("id 0 is given to both"));
  // CRLF line endings and a missing #version line are fine.
  std::string crlf;
  for (const char c : merges) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const std::string crlf_path = write_temp("crlf.bpe", crlf);
  CHECK(Tokenizer::from_gpt2_files(kEncoder, crlf_path).encode("Hello world") == Ids{15496, 995});
  for (const auto& p : {bad_json, extra, unknown, malformed, blank, sparse, dup, crlf_path}) std::remove(p.c_str());
}

// encoder.json is read as it is parsed (no DOM): each shape of a wrong vocabulary still
// gets its own message, and a value that is not an id is refused wherever it stands.
TEST_CASE("gpt2: encoder.json values that are not ids, and files that are not vocabularies", "[tokenizer][gpt2]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([["a", 0]])", "must be an object {token: id}"},
      {"5", "must be an object {token: id}"},
      {"{}", "is empty"},
      {R"({"a": 0, "b": 1.5})", "the id of \"b\" is not an integer"},
      {R"({"a": "0"})", "the id of \"a\" is not an integer"},
      {R"({"a": null})", "the id of \"a\" is not an integer"},
      {R"({"a": true})", "the id of \"a\" is not an integer"},
      {R"({"a": [0], "b": 1})", "the id of \"a\" is not an integer"},
      {R"({"a": {"a": 0, "b": 1}})", "the id of \"a\" is not an integer"},
      {R"({"a": 0, "b": -1})", "id -1 of \"b\" is out of range (ids must be 0..1 for 2 entries)"},
      {R"({"a": 0, "b": 18446744073709551615})", "of \"b\" is out of range"},
      {R"({"a": 1, "b": 1})", "id 1 is given to both \"a\" and \"b\""},
      {R"({"a": 0, "b": 1, "a": 1})", "has the key \"a\" twice"},
      {R"({"a": 0} x)", "not valid JSON"},
      {R"({"a": 0)", "not valid JSON"},
  };
  for (const auto& [text, message] : cases) {
    INFO(text);
    const std::string path = write_temp("shape.json", text);
    CHECK_THAT(model_error(path, kMerges), Contains(path) && Contains(message));
    std::remove(path.c_str());
  }
  // Nesting is limited before anything is built: 64 levels, as for every JSON file we read.
  const std::string deep =
      write_temp("deep.json", "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
  CHECK_THAT(model_error(deep, kMerges), Contains("nested deeper than 64 levels"));
  std::remove(deep.c_str());
}

TEST_CASE("gpt2: invalid UTF-8 is an input error naming the offset", "[tokenizer][gpt2]") {
  try {
    gpt2().encode("caf\xC3");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(std::string(e.what()), Contains("byte offset 3") && Contains("0xC3"));
  }
}

TEST_CASE("gpt2: copies share the tables and encode alike", "[tokenizer][gpt2]") {
  const Tokenizer copy = gpt2();
  CHECK(copy.encode("it's 新年快樂") == gpt2().encode("it's 新年快樂"));
}
