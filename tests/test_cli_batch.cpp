// `generate --batch` through the real binary: each result is what the line gives alone,
// results come in input order whatever the threads, a bad line is an error object and the
// rest go on, the output file is never one the user had unless --force, and an interrupted
// run leaves complete lines.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "helpers.h"

using namespace tinygpt::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string model(const std::string& name) { return quote(fixture("ref/" + name + ".model.json")); }

// A scratch directory removed again at the end of the test.
struct Dir {
  fs::path path = fs::temp_directory_path() / ("tinygpt-batch-" + std::to_string(::getpid()));
  Dir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// One request of the batch below and the same request as flags of a single `generate --json`.
struct Request {
  std::string line, flags;
};

const std::vector<Request> kRequests = {
    {R"({"id": 1, "prompt": "新年", "seed": 5})", "新年 --seed 5 -n 8"},
    {R"({"id": "b", "prompt": "機器", "temperature": 0})", "機器 --temperature 0 --seed 9 -n 8"},
    {R"({"id": [3], "prompt": "早上好", "top_k": 3, "top_p": 0.8, "min_p": 0.1, "seed": 7, "max_new_tokens": 5})",
     "早上好 --top-k 3 --top-p 0.8 --min-p 0.1 --seed 7 -n 5"},
    {R"({"id": 4, "prompt": "AI", "temperature": 1.3, "repeat_penalty": 1.5, "repeat_last_n": 4, "seed": 1})",
     "AI --temperature 1.3 --repeat-penalty 1.5 --repeat-last-n 4 --seed 1 -n 8"},
    {R"({"id": 5, "prompt": "新", "frequency_penalty": 1.2, "presence_penalty": 0.5, "temperature": 0})",
     "新 --frequency-penalty 1.2 --presence-penalty 0.5 --temperature 0 --seed 9 -n 8"},
    {R"({"id": 6, "prompt": "年", "stop": ["好", "快"], "seed": 2})", "年 --stop 好 --stop 快 --seed 2 -n 8"},
};

}  // namespace

TEST_CASE("batch: each result is what generate --json gives for the line alone, in input order", "[cli][batch]") {
  Dir d;
  std::string input;
  for (const auto& r : kRequests) input += r.line + "\n";
  input += "\n   \n";  // blank lines are no requests
  const std::string in = d.write("in.jsonl", input);
  const std::string common = " -m " + model("chinese_vocab") + " --top-logprobs 2";
  const auto two = run_cli("generate --batch " + quote(in) + common + " -n 8 -t 2 --seed 9");
  INFO(two.err);
  REQUIRE(two.exit_code == 0);
  const auto one = run_cli("generate --batch " + quote(in) + common + " -n 8 -t 1 --seed 9");
  CHECK(one.out == two.out);  // the threads change nothing, not even the order
  const auto lines = json_lines(two.out);
  REQUIRE(lines.size() == kRequests.size());
  for (std::size_t i = 0; i < kRequests.size(); ++i) {
    INFO(kRequests[i].line);
    const auto alone = run_cli("generate --json" + common + " " + kRequests[i].flags);
    REQUIRE(alone.exit_code == 0);
    nlohmann::json got = lines[i];
    CHECK(got["id"] == nlohmann::json::parse(kRequests[i].line)["id"]);
    got.erase("id");
    CHECK(got == nlohmann::json::parse(alone.out));
  }
  // The stop list of a line took effect.
  CHECK(lines[5]["stop_reason"] == "stop_string");
}

TEST_CASE("batch: a malformed line, a too-long prompt and a good line give one result and two error objects",
          "[cli][batch]") {
  Dir d;
  const std::string long_prompt(40, 'a');  // odd_single_layer holds 8 tokens
  const std::string in = d.write("in.jsonl", "{\"id\": 1, \"prompt\": \n\n{\"id\": \"long\", \"prompt\": \"" +
                                                 long_prompt + "\"}\n{\"id\": 3, \"prompt\": \"ab\", \"seed\": 4}\n");
  const auto r = run_cli("generate --batch " + quote(in) + " -m " + model("odd_single_layer") + " -n 3");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("tiny-gpt: error: 2 of 3 batch lines failed"));
  CHECK_THAT(r.err, Contains("line 1: malformed JSON"));
  const auto lines = json_lines(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["line"] == 1);
  CHECK_THAT(lines[0]["error"].get<std::string>(), Contains("malformed JSON"));
  CHECK_FALSE(lines[0].contains("ids"));
  CHECK(lines[1]["line"] == 3);  // the blank line counts: line numbers are the file's
  CHECK(lines[1]["id"] == "long");
  CHECK_THAT(lines[1]["error"].get<std::string>(), Contains("41 tokens long but the model's context holds 8"));
  CHECK(lines[2]["id"] == 3);
  CHECK(lines[2]["ids"].size() == 3);
  const auto alone = run_cli("generate --json -m " + model("odd_single_layer") + " ab -n 3 --seed 4");
  nlohmann::json good = lines[2];
  good.erase("id");
  CHECK(good == nlohmann::json::parse(alone.out));
}

TEST_CASE("batch: lines with bad keys or values are error objects naming the key", "[cli][batch]") {
  Dir d;
  const std::string in = d.write("in.jsonl",
                                 "[1, 2]\n"
                                 "{\"id\": 2}\n"
                                 "{\"id\": 3, \"prompt\": \"新\", \"top_p\": 2}\n"
                                 "{\"id\": 4, \"prompt\": \"新\", \"tmperature\": 1}\n"
                                 "{\"id\": 5, \"prompt\": 5}\n"
                                 "{\"id\": 6, \"prompt\": \"新\", \"stop\": [\"\"]}\n"
                                 "{\"id\": 7, \"prompt\": \"新\", \"seed\": -1}\n"
                                 "{\"id\": 8, \"prompt\": \"新\", \"prompt\": \"年\"}\n");
  const auto r = run_cli("generate --batch " + quote(in) + " -m " + model("chinese_vocab") + " -n 2");
  CHECK(r.exit_code == 1);
  const auto lines = json_lines(r.out);
  REQUIRE(lines.size() == 8);
  const char* says[] = {
      "a line must be a JSON object",         "the line has no \"prompt\"",  "top_p must be in (0, 1]",
      "unknown key \"tmperature\"",           "\"prompt\" must be a string", "stop: an empty string",
      "\"seed\" must be a whole number >= 0", "has the key \"prompt\" twice"};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO(i);
    CHECK(lines[i]["line"] == i + 1);
    CHECK_THAT(lines[i]["error"].get<std::string>(), Contains(says[i]));
    CHECK_THAT(lines[i]["error"].get<std::string>(), !Contains("--"));  // keys, not flags
  }
}

TEST_CASE("batch: -o writes a new file, refuses an existing one without --force, the input and the model",
          "[cli][batch]") {
  Dir d;
  const std::string in = d.write("in.jsonl", "{\"id\": 1, \"prompt\": \"新\", \"seed\": 1}\n");
  const std::string m = " -m " + model("chinese_vocab") + " -n 3";
  const std::string out = (d.path / "out.jsonl").string();
  const auto first = run_cli("generate --batch " + quote(in) + m + " -o " + quote(out));
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.empty());
  const std::string written = read_file(out);
  CHECK(json_lines(written).size() == 1);

  const std::string mine = d.write("mine.jsonl", "precious\n");
  const auto refused = run_cli("generate --batch " + quote(in) + m + " -o " + quote(mine));
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Contains("exists: give --force to replace it"));
  CHECK(read_file(mine) == "precious\n");
  const auto forced = run_cli("generate --batch " + quote(in) + m + " -o " + quote(mine) + " --force");
  CHECK(forced.exit_code == 0);
  CHECK(read_file(mine) == written);

  const auto over_input = run_cli("generate --batch " + quote(in) + m + " -o " + quote(in) + " --force");
  CHECK(over_input.exit_code == 2);
  CHECK_THAT(over_input.err, Contains("is the input file"));
  const auto over_model = run_cli("generate --batch " + quote(in) + m + " -o " +
                                  quote(fixture("ref/chinese_vocab.model.json")) + " --force");
  CHECK(over_model.exit_code == 2);
  CHECK_THAT(over_model.err, Contains("is the model file"));
  // From standard input, to /dev/null (a device is written in place, never replaced).
  const auto piped = run_cli("generate --batch -" + m + " -o /dev/null", read_file(in));
  CHECK(piped.exit_code == 0);
}

TEST_CASE("batch: an interrupted run leaves only complete lines", "[cli][batch]") {
  Dir d;
  std::string input;
  for (int i = 0; i < 40000; ++i)
    input +=
        "{\"id\": " + std::to_string(i) + ", \"prompt\": \"once upon a time\", \"seed\": " + std::to_string(i) + "}\n";
  const std::string in = d.write("in.jsonl", input), out = (d.path / "out.jsonl").string();
  const std::string cmd = "timeout --preserve-status -s INT 1 '" + std::string(TINYGPT_BINARY) + "' generate --batch " +
                          quote(in) + " -m " + model("gelu_3layer_4head") + " -n 16 -t 2 -o " + quote(out) +
                          " 2>/dev/null";
  const int status = std::system(cmd.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  const std::string text = read_file(out);
  INFO("exit " << code << ", " << text.size() << " bytes written");
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  const auto lines = json_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) REQUIRE(lines[i]["id"] == i);
  if (lines.size() == 40000) WARN("the run finished within the second: the interruption was not tested");
  else CHECK(code == 130);  // timeout passes on the status of the process the signal ended
}
