// `tiny-gpt tokenize TEXT`: table, --json, --count; -m MODEL or --vocab/--merges; exit codes.
#include <catch2/catch.hpp>

#include "helpers.h"
#include "tinygpt/error.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using tinygpt::test::fixture;
using tinygpt::test::quote;
using tinygpt::test::run_cli;

namespace {

std::string gpt2_flags() {
  return "--vocab " + quote(fixture("tokenizer/gpt2/encoder.json")) + " --merges " +
         quote(fixture("tokenizer/gpt2/vocab.bpe"));
}

}  // namespace

TEST_CASE("cli tokenize: --json with GPT-2's files", "[cli][tokenize]") {
  const auto r = run_cli("tokenize " + quote("Hello world, it's 新年快樂") + " --json " + gpt2_flags());
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["ids"] == nlohmann::json({15496, 995, 11, 340, 338, 10545, 244, 108, 33176, 112, 33232, 104, 162, 101, 224}));
  REQUIRE(j["tokens"].size() == j["ids"].size());
  CHECK(j["tokens"][0] == "Hello");
  CHECK(j["tokens"][1] == " world");
  CHECK(j["tokens"][4] == "'s");
  CHECK(j["tokens"][5] == " \xEF\xBF\xBD");  // part of 新: shown as U+FFFD, the JSON stays valid UTF-8
}

TEST_CASE("cli tokenize: --count", "[cli][tokenize]") {
  const auto r = run_cli("tokenize " + quote("Hello world") + " --count " + gpt2_flags());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "2\n");
  const auto empty = run_cli("tokenize '' --count " + gpt2_flags());
  CHECK(empty.exit_code == 0);
  CHECK(empty.out == "0\n");
}

TEST_CASE("cli tokenize: the table makes spaces and newlines visible", "[cli][tokenize]") {
  const auto r = run_cli("tokenize " + quote("Hi  there\n\tnew 新") + " " + gpt2_flags());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, StartsWith("   id  token\n"));
  CHECK_THAT(r.out, Contains("17250  Hi\n"));
  CHECK_THAT(r.out, Contains("  220  \xC2\xB7\n"));      // ·
  CHECK_THAT(r.out, Contains(" 612  \xC2\xB7there\n"));  // ·there
  CHECK_THAT(r.out, Contains("  198  \xE2\x86\xB5\n"));  // ↵
  CHECK_THAT(r.out, Contains("  197  \xE2\x86\x92\n"));  // →
  CHECK_THAT(r.out, Contains("\\xE6"));                  // 新 is split across tokens ...
  CHECK_THAT(r.out, Contains("(新)\n"));                 // ... and shown whole where it completes
}

TEST_CASE("cli tokenize: a char model, without its begin token", "[cli][tokenize]") {
  const auto r =
      run_cli("tokenize " + quote("新年快樂") + " --json -m " + quote(fixture("ref/chinese_vocab.model.json")));
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["ids"] == nlohmann::json({2, 3, 4, 5}));  // no <bos> (id 0)
  CHECK(j["tokens"] == nlohmann::json({"新", "年", "快", "樂"}));
}

TEST_CASE("cli tokenize: errors and exit codes", "[cli][tokenize]") {
  const std::string model = " -m " + quote(fixture("ref/chinese_vocab.model.json"));
  auto r = run_cli("tokenize " + quote("新年x") + model);
  CHECK(r.exit_code == tinygpt::cli::kExitBadInput);
  CHECK_THAT(r.err, Contains("'x'") && Contains("byte offset 6"));
  r = run_cli("tokenize \"$(printf 'ab\\377')\" " + gpt2_flags());
  CHECK(r.exit_code == tinygpt::cli::kExitBadInput);
  CHECK_THAT(r.err, Contains("invalid UTF-8") && Contains("byte offset 2"));
  r = run_cli("tokenize x --vocab /nonexistent.json --merges /nonexistent.bpe");
  CHECK(r.exit_code == tinygpt::cli::kExitBadInput);
  CHECK_THAT(r.err, Contains("/nonexistent.json"));
  r = run_cli("tokenize x --vocab " + quote(fixture("tokenizer/gpt2/encoder.json")));
  CHECK(r.exit_code == tinygpt::cli::kExitUsage);
  r = run_cli("tokenize x --json --count " + gpt2_flags());
  CHECK(r.exit_code == tinygpt::cli::kExitUsage);
  r = run_cli("tokenize x" + model + " " + gpt2_flags());
  CHECK(r.exit_code == tinygpt::cli::kExitUsage);
  r = run_cli("tokenize");
  CHECK(r.exit_code == tinygpt::cli::kExitUsage);
}
