// The loader validates everything and names what is wrong. Each broken model is made
// from a good fixture with one deliberate change.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <span>
#include <vector>

#include "helpers.h"
#include "tinygpt/error.h"
#include "tinygpt/load.h"
#include "tinygpt/weight_store.h"

using namespace tinygpt;
using tinygpt::test::fixture;
using tinygpt::test::read_file;

namespace {

nlohmann::json good() { return nlohmann::json::parse(read_file(fixture("ref/odd_single_layer.model.json"))); }

// The message of the model error loading `text` raises ("" if it loads).
std::string load_error(const std::string& text, const LoadOptions& limits = {}) {
  try {
    load_model_from_text(text, "broken.json", limits);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::model);
    return e.what();
  }
  return "";
}

std::string load_error(const nlohmann::json& j) { return load_error(j.dump()); }

}  // namespace

using Catch::Matchers::Contains;

TEST_CASE("the good fixture loads, in both tensor forms", "[loader]") {
  CHECK(load_error(good()).empty());
  const Model m = load_model(fixture("ref/sinusoidal_untied_relu.model.json"));
  CHECK(m.config.positional == Positional::sinusoidal);
  CHECK(m.weights.lm_head.rows == m.config.vocab_size);
}

TEST_CASE("Conv1D weights are transposed to [out][in] at load", "[loader]") {
  auto j = good();
  const Model m = load_model_from_text(j.dump(), "m");
  const auto& file = j["tensors"]["h.0.mlp.c_fc.weight"];  // [D=13][F=7] in the file
  const int D = m.config.n_embd, F = m.config.n_inner;
  REQUIRE(file["shape"] == nlohmann::json({D, F}));
  const auto& w = m.weights.layers[0].fc_weight;
  REQUIRE(w.rows == F);
  REQUIRE(w.cols == D);
  for (int i = 0; i < D; ++i)
    for (int o = 0; o < F; ++o)
      REQUIRE(w.data[static_cast<std::size_t>(o * D + i)] == file["data"][i * F + o].get<float>());
}

TEST_CASE("a loaded model's floats are one block in the file's order", "[loader][store]") {
  // Decoding streams through every weight: one block with no gaps between tensors (and on
  // huge pages) is what the loader promises. Both tensor forms, data and b64.
  for (const char* name : {"ref/odd_single_layer.model.json", "ref/learned_tied_gelutanh.model.json",
                           "ref/gelu_3layer_4head.model.json", "ref/sinusoidal_untied_relu.model.json"}) {
    INFO(name);
    const auto j = nlohmann::json::parse(read_file(fixture(name)));
    const Model m = load_model(fixture(name));
    std::map<std::string, std::span<const float>> by_name = {
        {"wte.weight", m.weights.wte.data}, {"ln_f.weight", m.weights.ln_f_weight}, {"ln_f.bias", m.weights.ln_f_bias}};
    const bool learned = m.config.positional == Positional::learned;
    if (learned) by_name["wpe.weight"] = m.weights.wpe.data;
    for (int l = 0; l < m.config.n_layer; ++l) {
      const auto& lw = m.weights.layers[static_cast<std::size_t>(l)];
      const std::string p = "h." + std::to_string(l) + ".";
      const std::pair<const char*, std::span<const float>> parts[] = {{"ln_1.weight", lw.ln_1_weight},
                                                                      {"ln_1.bias", lw.ln_1_bias},
                                                                      {"attn.c_attn.weight", lw.attn_weight.data},
                                                                      {"attn.c_attn.bias", lw.attn_bias},
                                                                      {"attn.c_proj.weight", lw.attn_proj_weight.data},
                                                                      {"attn.c_proj.bias", lw.attn_proj_bias},
                                                                      {"ln_2.weight", lw.ln_2_weight},
                                                                      {"ln_2.bias", lw.ln_2_bias},
                                                                      {"mlp.c_fc.weight", lw.fc_weight.data},
                                                                      {"mlp.c_fc.bias", lw.fc_bias},
                                                                      {"mlp.c_proj.weight", lw.mlp_proj_weight.data},
                                                                      {"mlp.c_proj.bias", lw.mlp_proj_bias}};
      for (const auto& [suffix, values] : parts) by_name[p + suffix] = values;
    }
    if (m.weights.lm_head.rows > 0) by_name["lm_head.weight"] = m.weights.lm_head.data;
    REQUIRE(by_name.size() == j["tensors"].size());
    for (const auto& item : j["tensors"].items()) REQUIRE(by_name.contains(item.key()));
    // The store follows the order the file lists the tensors in (nlohmann sorts keys, so
    // the order comes from the text).
    const std::string text = read_file(fixture(name));
    const float* next = nullptr;
    std::vector<std::pair<std::size_t, std::string>> order;
    for (const auto& [tensor, _] : by_name) order.emplace_back(text.find("\"" + tensor + "\""), tensor);
    std::sort(order.begin(), order.end());
    std::size_t total = 0;
    for (const auto& [at, tensor] : order) {
      INFO(tensor);
      const auto span = by_name[tensor];
      if (next) CHECK(span.data() == next);
      next = span.data() + span.size();
      total += span.size();
    }
    CHECK(total == m.parameter_count());
    // A sinusoidal table is computed, not read: it is stored after the file's tensors.
    CHECK(m.store.size() == total + (learned ? 0 : m.weights.wpe.data.size()));
    if (!learned) CHECK(m.weights.wpe.data.size() == static_cast<std::size_t>(m.config.n_ctx) * m.config.n_embd);
  }
}

TEST_CASE("WeightStore hands out adjacent spans from its block, and more when it runs out", "[store]") {
  WeightStore store;
  store.reserve(10);
  const auto a = store.take(4), b = store.take(6);
  CHECK(b.data() == a.data() + 4);
  const auto c = store.take(3);  // past the reservation: a block of its own
  REQUIRE(c.size() == 3);
  CHECK((c.data() < a.data() || c.data() >= a.data() + 10));
  for (float& x : c) x = 1.0f;  // writable
  CHECK(store.size() == 13);
  WeightStore moved = std::move(store);  // the floats stay where they are
  CHECK(moved.size() == 13);
  CHECK(c[2] == 1.0f);
}

TEST_CASE("format, version and config are checked", "[loader]") {
  auto j = good();
  j["format"] = "gguf";
  CHECK_THAT(load_error(j), Contains("not a tiny-gpt weights file"));
  j = good();
  j["version"] = 3;
  CHECK_THAT(load_error(j), Contains("unsupported version 3"));
  j = good();
  j["config"].erase("n_layer");
  CHECK_THAT(load_error(j), Contains("config.n_layer is missing"));
  j = good();
  j["config"]["n_embd"] = "13";
  CHECK_THAT(load_error(j), Contains("config.n_embd must be an integer"));
  j = good();
  j["config"]["n_head"] = 2;  // 13 is odd
  CHECK_THAT(load_error(j), Contains("not divisible by config.n_head"));
  j = good();
  j["config"]["vocab_size"] = -3;
  CHECK_THAT(load_error(j), Contains("config.vocab_size = -3 is out of range"));
  j = good();
  j["config"]["activation"] = "swish";
  CHECK_THAT(load_error(j), Contains("config.activation = \"swish\""));
}

TEST_CASE("absurd sizes are refused before any allocation", "[loader]") {
  auto j = good();
  j["config"]["vocab_size"] = 2000000000;
  j["config"]["n_embd"] = 2000000000;
  j["config"]["n_head"] = 1;
  CHECK_THAT(load_error(j), Contains("larger than the limit"));
  j = good();
  j["config"]["n_ctx"] = 1000000000;
  CHECK_THAT(load_error(j), Contains("exceeds the limit"));
  LoadOptions small;
  small.max_parameters = 100;
  CHECK_THAT(load_error(good().dump(), small), Contains("limit of 100 parameters"));
}

TEST_CASE("tensors: missing, wrong shape, unknown, uncalled for, wrong length, non-finite", "[loader]") {
  auto j = good();
  j["tensors"].erase("ln_f.bias");
  CHECK_THAT(load_error(j), Contains("missing tensor ln_f.bias"));
  j = good();
  j["tensors"]["ln_f.bias"]["shape"] = {12};
  CHECK_THAT(load_error(j), Contains("ln_f.bias"));
  j = good();
  auto& w = j["tensors"]["h.0.attn.c_proj.weight"];
  w["shape"] = {1, 169};
  CHECK_THAT(load_error(j), Contains("wrong shape for h.0.attn.c_proj.weight: got [1, 169], expected [13, 13]"));
  j = good();
  j["tensors"]["h.7.ln_1.bias"] = j["tensors"]["ln_f.bias"];
  CHECK_THAT(load_error(j), Contains("unknown tensor h.7.ln_1.bias"));
  j = good();
  j["tensors"]["lm_head.weight"] = {{"shape", {1, 1}}, {"data", {0.0}}};
  CHECK_THAT(load_error(j), Contains("lm_head.weight"));
  j = good();
  j["tensors"]["ln_f.bias"]["data"].push_back(1.0);  // nlohmann writes "data" before "shape"
  CHECK_THAT(load_error(j), Contains("tensor ln_f.bias: data has 14 values but shape [13] needs 13"));
  // With the shape first, the loader stops at the first value too many.
  CHECK_THAT(load_error(std::string(R"({"tensors": {"ln_f.bias": {"shape": [2], "data": [1, 2, 3]}}})")),
             Contains("tensor ln_f.bias: data has more values than shape [2] holds"));
  j = good();
  j["tensors"]["ln_f.bias"]["data"].erase(0);
  CHECK_THAT(load_error(j), Contains("data has 12 values but shape [13] needs 13"));

  std::string text = good().dump();
  const auto at = text.find("\"ln_f.bias\"");
  const auto data = text.find("\"data\":[", at) + 8;
  CHECK_THAT(load_error(text.substr(0, data) + "NaN" + text.substr(text.find(',', data))), Contains("not finite"));
  CHECK_THAT(load_error(text.substr(0, data) + "1e39" + text.substr(text.find(',', data))), Contains("too large"));
  CHECK_THAT(load_error(text.substr(0, data) + "\"x\"" + text.substr(text.find(',', data))), Contains("is a string"));
  CHECK_THAT(load_error(text.substr(0, data) + "[1]" + text.substr(text.find(',', data))), Contains("nested array"));
}

TEST_CASE("bad base64 is named", "[loader]") {
  const std::string text = read_file(fixture("ref/padded_vocab.model.json"));
  const auto b64 = text.find("\"b64\"");
  REQUIRE(b64 != std::string::npos);
  const auto start = text.find('"', b64 + 5) + 1;
  std::string broken = text;
  broken[start + 2] = '*';
  CHECK_THAT(load_error(broken), Contains("bad base64 character"));
  broken = text;
  broken.erase(start, 1);
  CHECK_THAT(load_error(broken), Contains("bad base64"));
}

TEST_CASE("truncated and empty files are malformed JSON, not crashes", "[loader]") {
  const std::string text = good().dump();
  for (std::size_t cut : {std::size_t(1), std::size_t(10), text.size() / 3, text.size() / 2, text.size() - 1}) {
    INFO("cut at " << cut);
    CHECK_FALSE(load_error(text.substr(0, cut)).empty());
  }
  CHECK_THAT(load_error(std::string("")), Contains("empty"));
  CHECK_THAT(load_error(std::string("[1,2]")), Contains("JSON object"));
}

TEST_CASE("the tokenizer must fit the vocabulary and name real tokens", "[loader]") {
  auto j = good();
  j["config"]["vocab_size"] = 3;
  CHECK_THAT(load_error(j), Contains("config.vocab_size is 3"));
  j = good();
  j["tokenizer"]["eos_token"] = "<nope>";
  CHECK_THAT(load_error(j), Contains("eos_token \"<nope>\" is not in the vocabulary"));
  j = good();
  j["tokenizer"]["vocab"][1] = j["tokenizer"]["vocab"][2];
  CHECK_THAT(load_error(j), Contains("twice"));
  j = good();
  j["tokenizer"]["vocab"][3] = "ab";
  CHECK_THAT(load_error(j), Contains("more than one character"));
}

TEST_CASE("missing files and directories are named", "[loader]") {
  auto message = [](const std::string& path) {
    try {
      load_model(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(message("/nonexistent/model.json"), Contains("cannot open model file /nonexistent/model.json"));
  CHECK_THAT(message("/tmp"), Contains("is a directory"));
}
