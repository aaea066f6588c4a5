// `trace` against tools/reference.py (PyTorch, float64, and the sampler's rules written
// again in Python): every number of every fixture's golden (tests/fixtures/trace/, made by
// `reference.py make-trace-fixtures`), then consistency with generate and attention-dump,
// then the command line.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "helpers.h"
#include "tinygpt/attention_dump.h"
#include "tinygpt/error.h"
#include "tinygpt/generate.h"
#include "tinygpt/load.h"
#include "tinygpt/trace.h"

using namespace tinygpt;
using namespace tinygpt::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

struct Compared {
  std::size_t numbers = 0, above_absolute = 0;
  double worst = 0;         // |tool - reference|
  double worst_scaled = 0;  // |tool - reference| / max(1, |reference|)
};

// Every value of `want` must be in `got` at the same place: integers (ids, counts, the
// position) equal, other numbers within `tolerance` (1e-4 for the logit lens) of the
// reference, relative to the value where it is above 1 (float32 carries 7 significant
// digits, so a score of 5.4 can only be compared to a few 1e-6 of itself), booleans and
// nulls equal. `got` may hold more (token texts).
void compare(const nlohmann::json& got, const nlohmann::json& want, const std::string& path, double tolerance,
             Compared& c) {
  INFO(path);
  if (want.is_object()) {
    REQUIRE(got.is_object());
    for (const auto& [key, value] : want.items()) {
      REQUIRE(got.contains(key));
      compare(got[key], value, path + "." + key, key == "lens_top" ? 1e-4 : tolerance, c);
    }
  } else if (want.is_array()) {
    REQUIRE(got.is_array());
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
      compare(got[i], want[i], path + "[" + std::to_string(i) + "]", tolerance, c);
  } else if (want.is_number_integer()) {
    REQUIRE(got.is_number_integer());
    REQUIRE(got.get<std::int64_t>() == want.get<std::int64_t>());
    ++c.numbers;
  } else if (want.is_number()) {
    REQUIRE(got.is_number());
    const double diff = std::fabs(got.get<double>() - want.get<double>());
    const double scaled = diff / std::max(1.0, std::fabs(want.get<double>()));
    INFO("tool " << got.get<double>() << ", reference " << want.get<double>());
    REQUIRE(scaled <= tolerance);
    c.worst = std::max(c.worst, diff);
    c.worst_scaled = std::max(c.worst_scaled, scaled);
    c.above_absolute += diff > tolerance;
    ++c.numbers;
  } else {
    REQUIRE(got == want);
  }
}

TraceOptions options_of(const nlohmann::json& t) {
  TraceOptions o;
  o.position = t["position"];
  o.top = t["top"];
  o.sampler = {t["temperature"].get<float>(), t["top_k"].get<int>(), t["top_p"].get<float>()};
  o.seed = t["seed"];
  return o;
}

std::vector<std::string> trace_goldens() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(fixture("trace")))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("trace: every number equals the PyTorch reference on every fixture (1e-5, the lens 1e-4)", "[trace]") {
  const auto files = trace_goldens();
  REQUIRE(files.size() == 8);  // learned and sinusoidal, gelu/gelu_tanh/relu, tied and untied, 1 to 4 heads
  Compared c;
  int traces = 0, sampled = 0, greedy = 0;
  for (const auto& file : files) {
    const auto golden = read_json(file);
    const Model model = load_model(fixture(golden["model"].get<std::string>()));
    for (const auto& t : golden["traces"]) {
      INFO(file << " at position " << t["position"]);
      const Trace trace = trace_prediction(model, golden["prompt"].get<std::string>(), options_of(t));
      const nlohmann::json got = trace_json(trace);
      std::vector<std::int32_t> ids;
      for (const auto& k : got["tokens"]) ids.push_back(k["id"]);
      REQUIRE(nlohmann::json(ids) == golden["input_ids"]);
      compare(got, t["expected"], "trace", 1e-5, c);
      if (model.config.positional == Positional::sinusoidal)
        CHECK_THAT(got["embedding"]["formula"].get<std::string>(),
                   Contains("sin(" + std::to_string(trace.position) + " / 10000^(2i/"));
      ++traces;
      (t["expected"]["sampling"]["greedy"].get<bool>() ? greedy : sampled) += 1;
    }
  }
  CHECK(traces == 24);
  CHECK(sampled >= 8);
  CHECK(greedy >= 4);
  WARN("trace: " << c.numbers << " numbers checked against the reference; worst difference " << c.worst
                 << ", worst relative to max(1, |value|) " << c.worst_scaled << "; " << c.above_absolute
                 << " differ by more than the tolerance in absolute terms (all of them values above 1)");
}

TEST_CASE("trace: top equals generate's top log-probabilities, chosen equals generate's token", "[trace]") {
  const Model model = load_model(fixture("ref/gelu_3layer_4head.model.json"));
  for (const std::uint64_t seed : {1, 2, 3, 4, 5}) {
    TraceOptions o;
    o.seed = seed;
    o.top = 6;
    o.sampler = {1.5f, 0, 1.0f};  // wide: different seeds pick different tokens
    const Trace trace = trace_prediction(model, "hello", o);
    GenerateParams g;
    g.max_new_tokens = 1;
    g.sampler = o.sampler;
    g.seed = seed;
    g.top_logprobs = 6;
    const GenerateResult r = generate(model, "hello", g);
    REQUIRE(r.ids.size() == 1);
    CHECK(trace.sampling.chosen.id == r.ids[0]);
    REQUIRE(trace.top.size() == r.steps[0].top.size());
    for (std::size_t i = 0; i < trace.top.size(); ++i) {
      CHECK(trace.top[i].id == r.steps[0].top[i].id);
      CHECK(trace.top[i].logprob == r.steps[0].top[i].logprob);  // the same logits, bit for bit
    }
  }
}

TEST_CASE("trace: each head's weights are attention-dump's row for the position", "[trace]") {
  const Model model = load_model(fixture("ref/gelu_3layer_4head.model.json"));
  const std::string text = "hello world";
  const AttentionDump dump = capture_attention(model, text);
  for (const int position : {0, 4, dump.n_tokens() - 1}) {
    TraceOptions o;
    o.position = position;
    const Trace trace = trace_prediction(model, text, o);
    REQUIRE(trace.layers.size() == static_cast<std::size_t>(model.config.n_layer));
    for (std::size_t l = 0; l < trace.layers.size(); ++l)
      for (std::size_t h = 0; h < trace.layers[l].heads.size(); ++h) {
        const auto& weights = trace.layers[l].heads[h].weights;
        const auto row = dump.row(l, h, position);
        REQUIRE(weights.size() == static_cast<std::size_t>(position + 1));
        double sum = 0;
        for (std::size_t k = 0; k < weights.size(); ++k) {
          CHECK(std::fabs(weights[k] - row[k]) < 1e-6);
          sum += weights[k];
        }
        CHECK(std::fabs(sum - 1.0) < 1e-5);
      }
  }
}

TEST_CASE("trace: --layer and --head keep only those, and parameters out of range name themselves", "[trace]") {
  const Model model = load_model(fixture("ref/gelu_3layer_4head.model.json"));
  TraceOptions o;
  o.layers = {2, 0};
  o.heads = {3};
  const Trace trace = trace_prediction(model, "abc", o);
  REQUIRE(trace.layers.size() == 2);
  CHECK(trace.layers[0].layer == 0);
  CHECK(trace.layers[1].layer == 2);
  REQUIRE(trace.layers[0].heads.size() == 1);
  CHECK(trace.layers[0].heads[0].head == 3);
  auto parameter_of = [&](TraceOptions bad) {
    try {
      trace_prediction(model, "abc", bad);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      return e.parameter();
    }
    return std::string("(accepted)");
  };
  TraceOptions bad = {};
  bad.position = 4;  // bos + 3 characters: positions 0..3
  CHECK(parameter_of(bad) == "position");
  bad = {};
  bad.layers = {3};
  CHECK(parameter_of(bad) == "layer");
  bad = {};
  bad.heads = {-1};
  CHECK(parameter_of(bad) == "head");
  bad = {};
  bad.sampler.top_p = 0;
  CHECK(parameter_of(bad) == "top_p");
}

TEST_CASE("trace: the command line, text and JSON", "[trace][cli]") {
  const std::string model = "-m " + quote(fixture("ref/chinese_vocab.model.json"));
  const RunResult text = run_cli("trace 新年 " + model + " --seed 3");
  REQUIRE(text.exit_code == 0);
  for (const char* step : {"1. Tokens", "2. Embedding", "3. Layer 0", "4. Final layer norm", "5. Sampling"})
    CHECK_THAT(text.out, Contains(step));
  CHECK_THAT(text.out, Contains("新"));

  const RunResult json = run_cli("trace 新年 " + model + " --seed 3 --json --position 1");
  REQUIRE(json.exit_code == 0);
  const auto j = nlohmann::json::parse(json.out);
  CHECK(j["position"] == 1);
  for (const char* key : {"tokens", "embedding", "layers", "final_ln", "top", "entropy", "sampling"})
    CHECK(j.contains(key));
  for (const char* key : {"layer", "input", "ln_1", "heads", "attn_output", "residual_after_attn", "ln_2", "mlp_output",
                          "output", "lens_top"})
    CHECK(j["layers"][0].contains(key));
  for (const char* key : {"temperature", "top_k", "top_p", "seed", "draw", "chosen", "is_eos"})
    CHECK(j["sampling"].contains(key));
  // The same seed and options draw the same token in generate.
  const RunResult gen = run_cli("generate 新 " + model + " --seed 3 --json -n 1");
  REQUIRE(gen.exit_code == 0);
  CHECK(nlohmann::json::parse(gen.out)["ids"][0] == j["sampling"]["chosen"]["id"]);
}

TEST_CASE("errors: trace with a position, layer or head out of range, or nothing to predict from", "[errors]") {
  const std::string model = "-m " + quote(fixture("ref/chinese_vocab.model.json"));
  struct Case {
    std::string args, message;
    int exit_code;
  };
  const Case cases[] = {
      {"trace 新年 " + model + " --position 3", "--position 3 is outside the text: its 3 tokens are at positions 0..2",
       kExitUsage},
      {"trace 新年 " + model + " --layer 7", "--layer 7 is out of range", kExitUsage},
      {"trace 新年 " + model + " --head 9", "--head 9 is out of range", kExitUsage},
      {"trace 新年 " + model + " --top 0", "--top", kExitUsage},
      {"trace 新年 " + model + " --temperature -1", "--temperature must be", kExitUsage},
      {"trace '' -m " + quote(fixture("ref/sinusoidal_untied_relu.model.json")), "the prompt is empty", kExitBadInput},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    const RunResult r = run_cli(c.args);
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, StartsWith("tiny-gpt: error: ") && Contains(c.message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("errors: trace --format html needs a file, and --json contradicts another format", "[errors]") {
  const std::string model = "-m " + quote(fixture("ref/chinese_vocab.model.json"));
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"trace 新年 " + model + " --format html", "--format html writes a page: give a file with -o FILE.html"},
           {"trace 新年 " + model + " --format html --json", "--json contradicts --format html"}}) {
    INFO(args);
    const RunResult r = run_cli(args);
    CHECK(r.exit_code == kExitUsage);
    CHECK(r.out.empty());
    CHECK(r.err == "tiny-gpt: error: " + message + "\n");
  }
}
