// Stop strings: the matcher on its own, and `generate --stop` through the real binary on a
// hand-built byte-level model (tests/fixtures/sampling/chain_bpe.model.json, made by
// `reference.py make-chain-model`) whose greedy continuation of "a" is known to the byte:
// the tokens "x", the first two bytes of 新, its last byte with 年, "快樂!", "ok", then eos.
#include <catch2/catch.hpp>

#include "helpers.h"
#include "tinygpt/stop_strings.h"

using namespace tinygpt;
using namespace tinygpt::test;
using Catch::Matchers::Contains;

TEST_CASE("the stop-string matcher finds a match wherever the pieces split it", "[stop]") {
  const std::vector<std::string> stops = {"bc", "xyz"};
  StopStrings s(stops);
  CHECK_FALSE(s.push("ab"));
  CHECK(s.settled() == 1);  // "b" may begin "bc"
  CHECK(s.push("cd"));
  CHECK(s.text() == "a");
  CHECK(s.matched() == std::size_t{0});
  CHECK(s.settled() == 1);

  StopStrings later(stops);
  CHECK_FALSE(later.push("wx"));
  CHECK(later.settled() == 1);
  CHECK_FALSE(later.push("yq"));  // "xyq": no longer a beginning of "xyz"
  CHECK(later.settled() == 4);
  CHECK(later.text() == "wxyq");

  StopStrings first(std::vector<std::string>{"cd", "b"});  // the earliest in the text wins
  CHECK(first.push("abcd"));
  CHECK(first.matched() == std::size_t{1});
  CHECK(first.text() == "a");

  StopStrings none({});
  CHECK_FALSE(none.push("abc"));
  CHECK(none.settled() == 3);
}

namespace {

const std::string kChain = "x新年快樂!ok";

std::string chain(const std::string& args) {
  return "generate -m " + quote(fixture("sampling/chain_bpe.model.json")) + " --temperature 0 " + args;
}

}  // namespace

TEST_CASE("generate --stop: one token, across tokens, inside a token and a split character", "[stop][cli]") {
  struct Case {
    std::string stop, text;
    std::size_t tokens;  // generated, the one that completed the stop string included
  };
  const Case cases[] = {
      {"x", "", 1},            // exactly one token
      {"新年", "x", 3},        // spans two tokens; 新 itself is split across them
      {"新", "x", 3},          // ends inside a token, just after the byte that completes 新
      {"年快", "x新", 4},      // spans two tokens and ends inside the second
      {"樂", "x新年快", 4},    // ends inside the multi-character token 快樂!
      {"!o", "x新年快樂", 5},  // the end of one token and the start of the next
  };
  for (const auto& c : cases) {
    INFO("--stop " << c.stop);
    const auto r = run_cli(chain("a --json --stop " + quote(c.stop)));
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["stop_reason"] == "stop_string");
    CHECK(j["stop_string"] == c.stop);
    CHECK(j["text"] == c.text);
    CHECK(j["ids"].size() == c.tokens);
    // Streamed, the stop string (and what follows it in its token) is never printed.
    const auto streamed = run_cli(chain("a --stop " + quote(c.stop)));
    CHECK(streamed.out == "a" + c.text + "\n");
    CHECK_THAT(streamed.err, Contains("stop: stop_string"));
  }
}

TEST_CASE("generate --stop: in the prompt only, never generated, a prefix held back and released", "[stop][cli]") {
  for (const std::string args : {"'zz a' --stop zz", "a --stop a", "a --stop never", "a --stop 'ok!'"}) {
    INFO(args);
    const auto r = run_cli(chain(args + " --json"));
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["stop_reason"] == "eos");
    CHECK_FALSE(j.contains("stop_string"));
    CHECK(j["text"] == kChain);
    // "ok" might have begun "ok!": held back until the end, then printed.
    const auto streamed = run_cli(chain("--no-echo " + args));
    CHECK(streamed.out == kChain + "\n");
  }
  // Of several stop strings, the one that appears first in the text wins, whatever the order given.
  const auto r = run_cli(chain("a --json --stop ok --stop 年 --stop zz"));
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["stop_string"] == "年");
  CHECK(j["text"] == "x新");
}
