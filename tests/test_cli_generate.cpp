// `tiny-gpt generate` through the real binary: output, stop reasons, exit codes.
#include <catch2/catch.hpp>

#include "helpers.h"

using namespace tinygpt::test;
using Catch::Matchers::Contains;

namespace {

std::string model(const std::string& name) { return quote(fixture("ref/" + name + ".model.json")); }

nlohmann::json golden_run(const std::string& name, std::size_t i) {
  return read_json(fixture("ref/" + name + ".golden.json"))["runs"][i];
}

// Exactly one line on stderr, prefixed like every error of ours.
void check_one_line_error(const RunResult& r) {
  CHECK(r.err.rfind("tiny-gpt: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.out.empty());
}

}  // namespace

TEST_CASE("generate --json greedy matches the reference, eos included", "[cli][generate]") {
  for (const auto& [name, run] : {std::pair{"learned_tied_gelutanh", 1}, std::pair{"odd_single_layer", 0},
                                  std::pair{"chinese_vocab", 0}, std::pair{"padded_vocab", 0}}) {
    const auto g = golden_run(name, run);
    const auto r = run_cli("generate -m " + model(name) + " " + quote(g["prompt"]) + " --temperature 0 -n " +
                           std::to_string(g["greedy"]["max_new_tokens"].get<int>()) + " --json");
    INFO(name << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["prompt_ids"] == g["input_ids"]);
    CHECK(j["ids"] == g["greedy"]["ids"]);
    CHECK(j["stop_reason"] == g["greedy"]["stop_reason"]);
    CHECK(j["text"] == g["greedy"]["text"]);
    REQUIRE(j["steps"].size() == j["ids"].size());
    for (std::size_t i = 0; i < j["steps"].size(); ++i) {
      CHECK(j["steps"][i]["id"] == j["ids"][i]);
      CHECK(j["steps"][i]["logprob"].get<double>() == Approx(g["greedy"]["logprobs"][i].get<double>()).margin(1e-4));
      CHECK_FALSE(j["steps"][i].contains("top_logprobs"));
    }
  }
}

TEST_CASE("generate streams the prompt and the continuation, and says why it stopped", "[cli][generate]") {
  const auto g = golden_run("learned_tied_gelutanh", 1);  // stops on eos
  const auto r =
      run_cli("generate -m " + model("learned_tied_gelutanh") + " " + quote(g["prompt"]) + " --temperature 0");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == g["prompt"].get<std::string>() + g["greedy"]["text"].get<std::string>() + "\n");
  CHECK_THAT(r.err, Contains("stop: eos"));
  const auto quiet = run_cli("generate --no-echo -m " + model("learned_tied_gelutanh") + " " + quote(g["prompt"]) +
                             " --temperature 0");
  CHECK(quiet.out == g["greedy"]["text"].get<std::string>() + "\n");
}

TEST_CASE("generate stops when the context is full, also for a prompt that fills it", "[cli][generate]") {
  const auto full = golden_run("odd_single_layer", 1);  // prompt fills n_ctx
  const auto r = run_cli("generate -m " + model("odd_single_layer") + " " + quote(full["prompt"]) + " --json");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["stop_reason"] == "context_full");
  CHECK(j["ids"].empty());
  const auto longer =
      run_cli("generate -m " + model("odd_single_layer") + " " + quote(full["prompt"].get<std::string>() + "a"));
  CHECK(longer.exit_code == 1);
  CHECK_THAT(longer.err, Contains("9 tokens long but the model's context holds 8"));
  check_one_line_error(longer);
}

TEST_CASE("top-logprobs lists the K most likely tokens, best first", "[cli][generate]") {
  const auto r = run_cli("generate -m " + model("chinese_vocab") + " 新年 -n 3 --seed 5 --json --top-logprobs 3");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& step : j["steps"]) {
    REQUIRE(step["top_logprobs"].size() == 3);
    CHECK(step["top_logprobs"][0]["logprob"] >= step["top_logprobs"][1]["logprob"]);
    CHECK(step["top_logprobs"][1]["logprob"] >= step["top_logprobs"][2]["logprob"]);
    CHECK(step["logprob"] <= step["top_logprobs"][0]["logprob"]);
  }
}

TEST_CASE("the same seed gives the same sample and top-k 1 is greedy at any temperature", "[cli][generate]") {
  const std::string base =
      "generate -m " + model("gelu_3layer_4head") + " '' -n 12 --json --temperature 1.3 --top-k 0 --top-p 1";
  const auto a = run_cli(base + " --seed 7"), b = run_cli(base + " --seed 7"), c = run_cli(base + " --seed 8");
  REQUIRE(a.exit_code == 0);
  CHECK(nlohmann::json::parse(a.out)["ids"] == nlohmann::json::parse(b.out)["ids"]);
  CHECK(nlohmann::json::parse(a.out)["seed"] == 7);
  CHECK(nlohmann::json::parse(a.out)["ids"] != nlohmann::json::parse(c.out)["ids"]);
  const auto greedy = run_cli("generate -m " + model("gelu_3layer_4head") + " '' -n 12 --json --temperature 0");
  const auto k1 =
      run_cli("generate -m " + model("gelu_3layer_4head") + " '' -n 12 --json --temperature 5 --top-k 1 --seed 3");
  const auto p0 = run_cli("generate -m " + model("gelu_3layer_4head") +
                          " '' -n 12 --json --temperature 5 --top-p 1e-9 --top-k 0 --seed 3");
  CHECK(nlohmann::json::parse(k1.out)["ids"] == nlohmann::json::parse(greedy.out)["ids"]);
  CHECK(nlohmann::json::parse(p0.out)["ids"] == nlohmann::json::parse(greedy.out)["ids"]);
}

TEST_CASE("bad input and bad flags: one line, exit 1 or 2", "[cli][generate][errors]") {
  const std::string m = " -m " + model("chinese_vocab");
  struct Case {
    std::string args;
    int code;
    std::string says;
  };
  const Case cases[] = {
      {"generate" + m + " xyz", 1, "character 'x' (U+0078) at byte offset 0"},
      {"generate" + m + " 新 --temperature -1", 2, "--temperature"},
      {"generate" + m + " 新 --top-p 0", 2, "--top-p"},
      {"generate" + m + " 新 --top-p 1.5", 2, "--top-p"},
      {"generate" + m + " 新 --top-k -2", 2, "--top-k"},
      {"generate" + m + " 新 -n -1", 2, "--max-new-tokens"},
      {"generate" + m + " 新 -n abc", 2, "--max-new-tokens"},
      {"generate" + m + " 新 --bogus", 2, "--bogus"},
      {"generate" + m, 2, "prompt"},
      {"generate -m /nonexistent.json hi", 1, "/nonexistent.json"},
      {"generate -m " + model("sinusoidal_untied_relu") + " ''", 1, "prompt is empty"},
      {"generate" + m + " \"$(printf '\\377\\376')\"", 1, "invalid UTF-8"},
  };
  for (const auto& c : cases) {
    INFO(c.args);
    const auto r = run_cli(c.args);
    CHECK(r.exit_code == c.code);
    CHECK_THAT(r.err, Contains(c.says));
    check_one_line_error(r);
  }
}

TEST_CASE("help and version go to stdout with exit 0", "[cli]") {
  const auto h = run_cli("generate --help");
  CHECK(h.exit_code == 0);
  for (const char* flag : {"--temperature", "--min-p", "--repeat-penalty", "--repeat-last-n", "--frequency-penalty",
                           "--presence-penalty", "--stop", "--file", "--batch", "--output", "--force"})
    CHECK_THAT(h.out, Contains(flag));
  const auto v = run_cli("--version");
  CHECK(v.exit_code == 0);
  CHECK_THAT(v.out, Contains("tiny-gpt"));
}

TEST_CASE("generate --show-special prints the begin token before the prompt and the end token where it stopped",
          "[cli][generate]") {
  const auto g = golden_run("learned_tied_gelutanh", 1);  // stops on eos
  const std::string args =
      "generate -m " + model("learned_tied_gelutanh") + " " + quote(g["prompt"]) + " --temperature 0";
  const auto r = run_cli(args + " --show-special");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "<bos>" + g["prompt"].get<std::string>() + g["greedy"]["text"].get<std::string>() + "<eos>\n");
  // Without the flag the text is what it always was; --json is unchanged by it (it has the ids).
  CHECK(run_cli(args).out == g["prompt"].get<std::string>() + g["greedy"]["text"].get<std::string>() + "\n");
  CHECK(run_cli(args + " --json --seed 1").out == run_cli(args + " --json --seed 1 --show-special").out);
  // Stopped by -n: no end token to show.
  const auto cut = run_cli(args + " --show-special -n 1");
  REQUIRE(cut.exit_code == 0);
  CHECK(cut.out.rfind("<bos>", 0) == 0);
  CHECK(cut.out.find("<eos>") == std::string::npos);
}
