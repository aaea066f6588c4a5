// Defaults that read the input, through the real binary: without -m the shipped model whose
// vocabulary knows the text is chosen (and stderr says which); with -m, text that becomes
// the unknown token is warned about before any output, and text that is nothing else is
// refused. Given -m and text the model knows, nothing changes.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/wait.h>

#include "helpers.h"

using namespace tinygpt::test;
using Catch::Matchers::Contains;

namespace {

// stdout and stderr into one stream, in the order they were written.
std::string run_merged(const std::string& args) {
  const std::string path = "/tmp/tinygpt-merged-" + std::to_string(::getpid());
  const std::string cmd = std::string("'") + TINYGPT_BINARY + "' " + args + " </dev/null >" + path + " 2>&1";
  (void)std::system(cmd.c_str());
  std::string out = read_file(path);
  std::filesystem::remove(path);
  return out;
}

std::string chosen(const RunResult& r) {
  const std::string key = "no -m given: using ";
  const std::size_t at = r.err.find(key);
  if (at == std::string::npos) return {};
  const std::size_t start = at + key.size();
  return r.err.substr(start, r.err.find(' ', start) - start);
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("without -m the model is chosen by the input, in one stderr line", "[cli][defaults]") {
  struct Case {
    const char* text;
    const char* model;
  };
  // English: tang-poems lacks every letter. Chinese: english-kjv has only the bytes of each
  // character. Mixed: english-kjv lacks fewer (2 Chinese characters against 6 letters and the
  // space). Digits: tang-poems has none of them.
  for (const Case c : {Case{"Hello world", "english-kjv"}, Case{"床前明月光", "tang-poems"},
                       Case{"Hello 世界", "english-kjv"}, Case{"2024", "english-kjv"}}) {
    INFO(c.text);
    const RunResult r = run_cli("tokenize --json " + quote(c.text));
    REQUIRE(r.exit_code == kExitOk);
    CHECK(chosen(r) == c.model);
    CHECK(lines(r.err) == 1);
    const RunResult explicit_m = run_cli("tokenize --json -m " + std::string(c.model) + " " + quote(c.text));
    CHECK(explicit_m.out == r.out);  // the chosen model's own tokens
  }
  // The best choice may still lack a character: the warning -m would give, after the choice.
  const RunResult partly = run_cli("tokenize 月☃ --count");
  CHECK(chosen(partly) == "tang-poems");
  CHECK_THAT(partly.err, Contains("\nwarning: 1 of the 2 characters of \"月☃\" are not in the vocabulary of model "
                                  "tang-poems and become <unk>\n"));
  // Ties go to the default: Chinese both models read without a loss in tang-poems.
  CHECK(chosen(run_cli("tokenize 月 --count")) == "tang-poems");
}

TEST_CASE("without -m every command that reads text chooses, before any output", "[cli][defaults]") {
  const RunResult g = run_cli("generate 'In the beginning' -n 3 --seed 1");
  REQUIRE(g.exit_code == kExitOk);
  CHECK(chosen(g) == "english-kjv");
  CHECK(g.out.rfind("In the beginning", 0) == 0);
  CHECK(chosen(run_cli("attention-dump 'Your journey starts with one step' --summary")) == "english-kjv");
  CHECK(chosen(run_cli("embed king --no-vectors")) == "english-kjv");
  CHECK(chosen(run_cli("trace 'the king' --seed 1")) == "english-kjv");
  // No text to read: the default, without a word about it.
  const RunResult info = run_cli("info");
  REQUIRE(info.exit_code == kExitOk);
  CHECK(info.err.empty());
  CHECK_THAT(info.out, Contains("tang-poems.json"));
}

TEST_CASE("with -m, text partly unknown to the model is a warning before any output", "[cli][defaults]") {
  const std::string merged = run_merged("generate 'Hello 春' -m tang-poems -n 3 --seed 1");
  INFO(merged);
  CHECK(merged.rfind("warning: 6 of the 7 characters of \"Hello 春\" are not in the vocabulary of model tang-poems "
                     "and become <unk>",
                     0) == 0);
  for (const char* cmd :
       {"tokenize 'a春'", "embed 'a春' --no-vectors", "attention-dump 'a春' --summary", "trace 'a春' --seed 1"}) {
    INFO(cmd);
    const std::string out = run_merged(std::string(cmd) + " -m tang-poems");
    CHECK(out.rfind("warning: 1 of the 2 characters of \"a春\"", 0) == 0);
  }
}

TEST_CASE("errors: text entirely unknown to the -m model is refused, naming a model that reads it",
          "[cli][defaults][errors]") {
  for (const char* cmd :
       {"generate Hello", "tokenize Hello", "embed Hello", "attention-dump Hello", "trace Hello --seed 1"}) {
    INFO(cmd);
    const RunResult r = run_cli(std::string(cmd) + " -m tang-poems");
    CHECK(r.exit_code == kExitBadInput);
    CHECK(r.out.empty());
    CHECK(r.err ==
          "tiny-gpt: error: model tang-poems knows none of the characters of \"Hello\" (each would be <unk>); "
          "english-kjv reads it: -m english-kjv\n");
  }
}

TEST_CASE("errors: a shipped model that cannot be loaded is no suggestion, and takes no part in the message",
          "[cli][defaults][errors]") {
  // tang-poems reads 日本 but is over --max-params here; english-kjv has it only as bytes.
  const RunResult r = run_cli("tokenize 日本 -m demo-tiny --max-params 20000");
  CHECK(r.exit_code == kExitBadInput);
  CHECK(r.err == "tiny-gpt: error: model demo-tiny knows none of the characters of \"日本\" (each would be <unk>)\n");
}

TEST_CASE("with -m and text the model knows, no word about the vocabulary", "[cli][defaults]") {
  const RunResult zh = run_cli("generate 床前 -m tang-poems -n 3 --seed 1");
  REQUIRE(zh.exit_code == kExitOk);
  CHECK(zh.err.find("warning") == std::string::npos);
  CHECK(zh.err.find("no -m given") == std::string::npos);
  // A byte-level BPE model has no unknown token: it reads any text.
  const RunResult en = run_cli("generate '床 king' -m english-kjv -n 3 --seed 1");
  REQUIRE(en.exit_code == kExitOk);
  CHECK(en.err.find("warning") == std::string::npos);
}

TEST_CASE("errors: without -m, an output over any model the input may choose is refused", "[cli][defaults][errors]") {
  // Copies in a model folder of their own: a failure here must not touch the shipped files.
  const std::string dir = "/tmp/tinygpt-choice-models-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  for (const char* name : {"tang-poems.json", "english-kjv.json"})
    std::filesystem::copy_file(std::string(TINYGPT_SOURCE_DIR) + "/models/" + name, dir + "/" + name,
                               std::filesystem::copy_options::overwrite_existing);
  const std::string before = read_file(dir + "/english-kjv.json");
  ::setenv("TINYGPT_MODEL_DIR", dir.c_str(), 1);  // searched first (model_search_dirs)
  const RunResult r = run_cli("attention-dump Hello -o " + quote(dir + "/english-kjv.json"));
  ::unsetenv("TINYGPT_MODEL_DIR");
  CHECK(r.exit_code == kExitUsage);
  CHECK_THAT(r.err, Contains("english-kjv.json: refusing to write over it"));
  CHECK(read_file(dir + "/english-kjv.json") == before);
  std::filesystem::remove_all(dir);
}

TEST_CASE("perplexity reads its file's text for the choice and the unknown-token check", "[cli][defaults]") {
  const std::string dir = "/tmp/tinygpt-choice-text-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  { std::ofstream(dir + "/en.txt") << "In the beginning God created the heaven and the earth.\n"; }
  const RunResult chosen_en = run_cli("perplexity -f " + quote(dir + "/en.txt"));
  CHECK(chosen_en.exit_code == kExitOk);
  CHECK(chosen(chosen_en) == "english-kjv");
  const RunResult refused = run_cli("perplexity -m tang-poems -f " + quote(dir + "/en.txt"));
  CHECK(refused.exit_code == kExitBadInput);
  CHECK(refused.err == "tiny-gpt: error: model tang-poems knows none of the characters of the text of " + dir +
                           "/en.txt (each would be <unk>); english-kjv reads it: -m english-kjv\n");
  std::filesystem::remove_all(dir);
}
