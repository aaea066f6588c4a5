// Hugging Face checkpoints: the safetensors reader, the GPT-2 conventions and the folder
// layout. Checkpoints are written at test time (checkpoint_writer.h); each corrupt one is
// a good one with one deliberate change.
#include <catch2/catch.hpp>

#include <bit>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "checkpoint_writer.h"
#include "helpers.h"
#include "safetensors.h"
#include "tinygpt/error.h"
#include "tinygpt/load.h"

using namespace tinygpt;
using namespace tinygpt::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/tinygpt-st-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

// Every weight of a model in a fixed order, as values; matrices output by output
// ([out][in]) whatever their layout.
std::vector<float> all_weights(const Model& m) {
  std::vector<float> out;
  auto add = [&](std::span<const float> s) { out.insert(out.end(), s.begin(), s.end()); };
  auto add_matrix = [&](const Matrix& t) {
    for (int r = 0; r < t.rows; ++r)
      for (int c = 0; c < t.cols; ++c) out.push_back(t.at(r, c));
  };
  const Weights& w = m.weights;
  add(w.wte.data);
  add(w.wpe.data);
  for (const auto& l : w.layers) {
    for (auto s : {l.ln_1_weight, l.ln_1_bias, l.attn_bias, l.attn_proj_bias, l.ln_2_weight, l.ln_2_bias, l.fc_bias,
                   l.mlp_proj_bias})
      add(s);
    for (const Matrix* t : {&l.attn_weight, &l.attn_proj_weight, &l.fc_weight, &l.mlp_proj_weight}) add_matrix(*t);
  }
  add(w.ln_f_weight);
  add(w.ln_f_bias);
  add(w.lm_head.data);
  return out;
}

// The message of the model error loading the checkpoint at `path` raises ("" if it loads).
std::string load_error(const std::string& path) {
  try {
    load_model(path);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::model);
    return e.what();
  }
  return "";
}

std::string parse_error(const std::string& bytes) {
  try {
    parse_safetensors(std::as_bytes(std::span(bytes.data(), bytes.size())), "t.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

StTensor renamed(StTensor t, const std::string& name) {
  t.name = name;
  return t;
}

std::vector<StTensor> with_prefix(std::vector<StTensor> ts) {
  for (auto& t : ts) t.name = "transformer." + t.name;
  return ts;
}

// The old causal-mask buffers as transformers before 4.x saved them.
std::vector<StTensor> with_mask_buffers(std::vector<StTensor> ts) {
  for (int i = 0; i < 2; ++i) {
    const std::string p = "h." + std::to_string(i) + ".attn.";
    std::vector<float> mask(64);
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c <= r; ++c) mask[static_cast<std::size_t>(r * 8 + c)] = 1.0f;
    ts.push_back({p + "bias", "F32", {1, 1, 8, 8}, f32_bytes(mask)});
    ts.push_back({p + "masked_bias", "F32", {}, f32_bytes({-1e4f})});
  }
  return ts;
}

const StTensor& find(const std::vector<StTensor>& ts, const std::string& name) {
  for (const auto& t : ts)
    if (t.name == name) return t;
  FAIL("no tensor " << name);
  return ts.front();
}

}  // namespace

TEST_CASE("safetensors: a checkpoint folder loads the same weights as the weights JSON", "[safetensors]") {
  TempDir tmp;
  const auto tensors = tiny_gpt2_tensors();
  const Model expected = load_model_from_text(weights_json_of(tensors), "same.json");
  const std::vector<std::pair<std::string, std::vector<StTensor>>> variants = {
      {"plain", tensors},
      {"prefixed", with_prefix(tensors)},
      {"masks", with_mask_buffers(tensors)},
      {"prefixed-masks", with_prefix(with_mask_buffers(tensors))},
      {"tied-lm-head", [&] {  // lm_head.weight saved as a copy of wte: still tied
         auto ts = tensors;
         ts.push_back(renamed(find(tensors, "wte.weight"), "lm_head.weight"));
         return ts;
       }()}};
  for (const auto& [name, ts] : variants) {
    INFO(name);
    write_checkpoint(tmp.path(name), tiny_gpt2_config(), ts);
    const Model m = load_model(tmp.path(name));
    CHECK(m.config.n_ctx == 8);
    CHECK(m.config.n_inner == 12);
    CHECK(m.config.activation == Activation::gelu_tanh);
    CHECK(m.config.tie_word_embeddings);
    CHECK(m.tokenizer.size() == 259);
    CHECK(m.tokenizer.bos_id() == 258);
    CHECK(all_weights(m) == all_weights(expected));
  }
  // The .safetensors file itself, with the config and tokenizer beside it.
  const Model m = load_model(tmp.path("plain/model.safetensors"));
  CHECK(all_weights(m) == all_weights(expected));
}

TEST_CASE("safetensors: aligned F32 weights are used in place, the rest go to the store", "[safetensors]") {
  TempDir tmp;
  write_checkpoint(tmp.path("c"), tiny_gpt2_config(), tiny_gpt2_tensors());
  const Model m = load_model(tmp.path("c"));
  // Nothing is copied: the Conv1D weights run in the file's [in][out] layout.
  CHECK(m.store.size() == 0);
  CHECK(m.in_place_bytes == m.parameter_count() * 4);
  CHECK(m.file_bytes == fs::file_size(tmp.path("c/model.safetensors")));
  for (const auto& l : m.weights.layers)
    for (const Matrix* t : {&l.attn_weight, &l.attn_proj_weight, &l.fc_weight, &l.mlp_proj_weight})
      CHECK(t->layout == Layout::in_out);
  const auto bytes_of = [](std::span<const float> s) { return reinterpret_cast<const char*>(s.data()); };
  const auto mapped_begin = bytes_of(m.weights.wte.data);  // in the mapping, as everything else
  CHECK(std::abs(bytes_of(m.weights.layers[1].fc_weight.data) - mapped_begin) <
        static_cast<std::ptrdiff_t>(m.file_bytes));
  CHECK(m.weights.layers[0].attn_weight.rows == 12);  // outputs: 3 x n_embd
  CHECK(m.weights.layers[0].attn_weight.cols == 4);

  // A tensor the file misaligns (after a 2-byte one) is copied, with the same values; a
  // copied Conv1D weight is turned [out][in].
  auto ts = tiny_gpt2_tensors();
  ts.insert(ts.begin(), StTensor{"h.0.attn.masked_bias", "F16", {}, std::string("\x00\x3c", 2)});
  write_checkpoint(tmp.path("odd"), tiny_gpt2_config(), ts);
  const Model odd = load_model(tmp.path("odd"));
  CHECK(odd.store.size() > 2 * (48 + 16 + 48 + 48));
  CHECK(odd.weights.layers[0].fc_weight.layout == Layout::out_in);
  CHECK(all_weights(odd) == all_weights(m));
}

TEST_CASE("safetensors: F16 and BF16 are widened to float32 exactly", "[safetensors]") {
  TempDir tmp;
  // wte as half precision bit patterns: 1, -2.5, 65504 (largest half), 2^-24 (smallest
  // subnormal), -0, 0.333251953125 (0x3555), then zeros.
  const std::vector<std::uint16_t> half = {0x3c00, 0xc100, 0x7bff, 0x0001, 0x8000, 0x3555};
  const std::vector<float> half_values = {1.0f, -2.5f, 65504.0f, 0x1p-24f, -0.0f, 0.333251953125f};
  // bf16: the top 16 bits of a float.
  const std::vector<std::uint16_t> bf = {0x3f80, 0xc020, 0x7f7f, 0x0001, 0x8000, 0x3eab};
  for (const auto& [dtype, bits] : {std::pair{std::string("F16"), half}, std::pair{std::string("BF16"), bf}}) {
    INFO(dtype);
    auto ts = tiny_gpt2_tensors();
    for (auto& t : ts) {
      // Every tensor in this dtype: the first values of wte get the patterns above.
      std::vector<std::uint16_t> h(t.bytes.size() / 4, 0);
      if (t.name == "wte.weight") std::copy(bits.begin(), bits.end(), h.begin());
      else
        for (std::size_t i = 0; i < h.size(); ++i) h[i] = dtype == "F16" ? 0x3c00 : 0x3f80;  // 1.0
      t.dtype = dtype;
      t.bytes.assign(reinterpret_cast<const char*>(h.data()), h.size() * 2);
    }
    write_checkpoint(tmp.path(dtype), tiny_gpt2_config(), ts);
    const Model m = load_model(tmp.path(dtype));
    for (std::size_t i = 0; i < bits.size(); ++i) {
      const float want = dtype == "F16" ? half_values[i] : std::bit_cast<float>(std::uint32_t{bits[i]} << 16);
      CHECK(std::bit_cast<std::uint32_t>(m.weights.wte.data[i]) == std::bit_cast<std::uint32_t>(want));
    }
    CHECK(m.weights.layers[1].mlp_proj_weight.data[5] == 1.0f);
    CHECK(m.store.size() == 259 * 4 + 8 * 4 + 2 * (4 * 4 + 48 + 12 + 16 + 4 + 48 + 12 + 48 + 4) + 8);
  }
}

TEST_CASE("safetensors: lm_head different from wte means untied", "[safetensors]") {
  TempDir tmp;
  auto ts = tiny_gpt2_tensors();
  auto head = floats_of(find(ts, "wte.weight"));
  head[7] += 1.0f;
  ts.push_back({"lm_head.weight", "F32", {259, 4}, f32_bytes(head)});
  write_checkpoint(tmp.path("untied"), tiny_gpt2_config(), ts);
  const Model m = load_model(tmp.path("untied"));
  CHECK_FALSE(m.config.tie_word_embeddings);
  REQUIRE(m.weights.lm_head.rows == 259);
  CHECK(m.weights.lm_head.data[7] == head[7]);

  // A config that says tied while the file's head differs describes two different models.
  auto config = tiny_gpt2_config();
  config["tie_word_embeddings"] = true;
  write_checkpoint(tmp.path("contradicts"), config, ts);
  CHECK_THAT(load_error(tmp.path("contradicts")),
             Contains("tie_word_embeddings is true but the weights' lm_head.weight differs"));
  // Untied by the config with no lm_head in the file.
  config["tie_word_embeddings"] = false;
  write_checkpoint(tmp.path("no-head"), config, tiny_gpt2_tensors());
  CHECK_THAT(load_error(tmp.path("no-head")), Contains("missing tensor lm_head.weight"));
}

TEST_CASE("safetensors: config.json fields map to ours or are refused by name", "[safetensors]") {
  TempDir tmp;
  const auto ts = tiny_gpt2_tensors();
  auto config_with = [&](const std::string& key, const nlohmann::json& value) {
    auto c = tiny_gpt2_config();
    if (value.is_discarded()) c.erase(key);
    else c[key] = value;
    return c;
  };
  int n = 0;
  auto load_with = [&](const nlohmann::json& config) {
    const std::string dir = tmp.path("c" + std::to_string(n++));
    write_checkpoint(dir, config, ts);
    return dir;
  };
  // n_inner null is 4 x n_embd = 16, which these [4, 12] tensors are not (the reference
  // checkpoints of test_hf_reference.cpp load with null).
  CHECK_THAT(load_error(load_with(config_with("n_inner", nullptr))),
             Contains("wrong shape for h.0.mlp.c_fc.weight: got [4, 12], expected [4, 16]"));
  CHECK(load_model(load_with(config_with("activation_function", "gelu"))).config.activation == Activation::gelu);
  CHECK(load_model(load_with(config_with("activation_function", "relu"))).config.activation == Activation::relu);
  CHECK(load_model(load_with(config_with("layer_norm_epsilon", 0.25))).config.layer_norm_epsilon == 0.25f);
  CHECK(load_model(load_with(config_with("reorder_and_upcast_attn", true))).config.n_layer == 2);

  const std::vector<std::pair<nlohmann::json, std::string>> refused = {
      {config_with("model_type", "llama"), "model_type \"llama\" is not supported"},
      {config_with("scale_attn_by_inverse_layer_idx", true), "scale_attn_by_inverse_layer_idx = true is not supported"},
      {config_with("scale_attn_weights", false), "scale_attn_weights = false is not supported"},
      {config_with("add_cross_attention", true), "add_cross_attention = true is not supported"},
      {config_with("activation_function", "swish"), "activation_function \"swish\" is not supported"},
      {config_with("n_positions", nlohmann::json::value_t::discarded), "n_positions is missing"},
      {config_with("n_embd", 5), "not divisible"},
      {config_with("vocab_size", 100), "has 259 entries but"},
      {config_with("bos_token_id", 3), "bos_token_id 3 disagrees with the tokenizer"},
      {config_with("tie_word_embeddings", "yes"), "tie_word_embeddings must be true or false"},
  };
  for (const auto& [config, says] : refused) {
    INFO(config.dump());
    CHECK_THAT(load_error(load_with(config)), Contains(says) && Contains("config.json"));
  }
  // The config and the tensors disagree: the tensor is named.
  CHECK_THAT(load_error(load_with(config_with("n_positions", 16))),
             Contains("model.safetensors: wrong shape for wpe.weight: got [8, 4], expected [16, 4]"));
  // A field that may change the model and that we do not know is reported.
  std::vector<std::string> warnings;
  LoadOptions options;
  options.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  load_model(load_with(config_with("rotary_dim", 64)), options);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Contains("ignoring config field \"rotary_dim\""));
}

TEST_CASE("safetensors: the folder must hold config.json, the weights and a tokenizer", "[safetensors]") {
  TempDir tmp;
  write_checkpoint(tmp.path("c"), tiny_gpt2_config(), tiny_gpt2_tensors());
  fs::create_directories(tmp.path("empty"));
  CHECK_THAT(load_error(tmp.path("empty")), Contains("is a directory, not a model file") && Contains("no config.json"));
  fs::remove(tmp.path("c/merges.txt"));
  CHECK_THAT(load_error(tmp.path("c")), Contains("has no tokenizer: it needs vocab.json and merges.txt"));
  CHECK_THAT(load_error(tmp.path("c")), Contains("or tokenizer.json"));
  write_text(tmp.path("c/tokenizer.json"), "{}");
  CHECK_THAT(load_error(tmp.path("c")), Contains("tokenizer.json: \"model\" is missing"));
  fs::remove(tmp.path("c/model.safetensors"));
  CHECK_THAT(load_error(tmp.path("c")), Contains("no model.safetensors"));
  write_text(tmp.path("c/model.safetensors.index.json"), "{}");
  CHECK_THAT(load_error(tmp.path("c")), Contains("sharded"));
  fs::remove(tmp.path("c/config.json"));
  write_text(tmp.path("lone.safetensors"), safetensors_file(tiny_gpt2_tensors()));
  CHECK_THAT(load_error(tmp.path("lone.safetensors")), Contains("no config.json beside it"));
}

TEST_CASE("safetensors: corrupt files are refused before use, each with its own message", "[safetensors]") {
  const auto ts = tiny_gpt2_tensors();
  const std::string good = safetensors_file(ts);
  REQUIRE(parse_error(good).empty());
  const std::uint64_t header_length = good.size() - [&] {
    std::uint64_t n = 0;
    for (const auto& t : ts) n += t.bytes.size();
    return n;
  }() - 8;
  auto header = safetensors_header(ts);
  std::string data;
  for (const auto& t : ts) data += t.bytes;
  auto with_header = [&](const nlohmann::json& h) { return safetensors_bytes(h.dump(), data); };
  auto changed = [&](const std::string& name, const std::string& field, const nlohmann::json& value) {
    auto h = header;
    h[name][field] = value;
    return with_header(h);
  };
  const auto wte_end = header["wte.weight"]["data_offsets"][1].get<std::uint64_t>();

  CHECK_THAT(parse_error("abc"), Contains("too short for a safetensors file"));
  CHECK_THAT(parse_error(le64(good.size()) + good.substr(8)),
             Contains("the header length") && Contains("runs past the end of the file"));
  CHECK_THAT(parse_error(good.substr(0, good.size() - 1)),
             Contains("run past the end of the file") && Contains("truncated"));
  CHECK_THAT(parse_error(changed("ln_f.bias", "data_offsets", {data.size(), data.size() + 16})),
             Contains("tensor ln_f.bias: data_offsets") && Contains("run past the end of the file"));
  CHECK_THAT(parse_error(changed("wpe.weight", "data_offsets", {wte_end - 4, wte_end - 4 + 128})),
             Contains("tensors wte.weight and wpe.weight overlap"));
  CHECK_THAT(parse_error(changed("wpe.weight", "dtype", "Q4")),
             Contains("tensor wpe.weight has an unknown dtype \"Q4\""));
  CHECK_THAT(
      parse_error(changed("wpe.weight", "shape", {8, 5})),
      Contains("tensor wpe.weight: data_offsets") && Contains("hold 128 bytes, but shape [8, 5] of F32 needs 160"));
  CHECK_THAT(parse_error(changed("wpe.weight", "shape", {-8, 4})), Contains("must hold non-negative integers"));
  CHECK_THAT(parse_error(changed("wpe.weight", "shape", {1u << 31, 1u << 31, 1u << 31, 1u << 31, 1u << 31})),
             Contains("needs more than 2^64"));
  CHECK_THAT(parse_error(changed("wpe.weight", "data_offsets", {200, 100})), Contains("end before they begin"));
  CHECK_THAT(parse_error(le64(header_length) + std::string(header_length, 'x') + data),
             Contains("the header is not JSON"));
  CHECK_THAT(parse_error(safetensors_bytes("[1, 2]", data)), Contains("the header is not a JSON object"));
  CHECK_THAT(
      parse_error(safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}, "a": 1})", data)),
      Contains("twice"));
  CHECK_THAT(parse_error(with_header(safetensors_header(ts, {{"format", 1}}))),
             Contains("\"__metadata__\" field \"format\" must be a string"));
  REQUIRE(parse_error(with_header(safetensors_header(ts, {{"format", "pt"}}))).empty());
}

TEST_CASE("safetensors: tensors the model cannot use are refused by name", "[safetensors]") {
  TempDir tmp;
  auto make = [&](const std::string& name, std::vector<StTensor> ts) {
    write_checkpoint(tmp.path(name), tiny_gpt2_config(), ts);
    return load_error(tmp.path(name));
  };
  auto ts = tiny_gpt2_tensors();
  auto without = [&](const std::string& name) {
    auto out = ts;
    std::erase_if(out, [&](const StTensor& t) { return t.name == name; });
    return out;
  };
  CHECK_THAT(make("missing", without("h.1.mlp.c_fc.bias")), Contains("missing tensor h.1.mlp.c_fc.bias (shape [12])"));
  auto wrong = without("ln_f.bias");
  wrong.push_back({"ln_f.bias", "F32", {2, 2}, f32_bytes({1, 2, 3, 4})});
  CHECK_THAT(make("shape", wrong), Contains("wrong shape for ln_f.bias: got [2, 2], expected [4]"));
  auto ints = without("ln_f.bias");
  ints.push_back({"ln_f.bias", "I32", {4}, f32_bytes({1, 2, 3, 4})});
  CHECK_THAT(make("int", ints), Contains("tensor ln_f.bias has dtype I32; tiny-gpt reads F32, F16 and BF16 weights"));
  auto twice = ts;
  twice.push_back(renamed(find(ts, "ln_f.bias"), "transformer.ln_f.bias"));
  CHECK_THAT(make("twice", twice), Contains("tensor ln_f.bias appears twice"));
  auto extra = ts;
  extra.push_back({"score.weight", "F32", {1}, f32_bytes({1})});
  CHECK_THAT(make("extra", extra), Contains("unknown tensor score.weight"));
  auto inf = without("ln_f.bias");
  inf.push_back({"ln_f.bias", "F16", {4}, std::string("\x00\x3c\x00\x7c\x00\x3c\x00\x3c", 8)});
  CHECK_THAT(make("inf", inf), Contains("tensor ln_f.bias: value 1 is not finite"));
}

TEST_CASE("safetensors: tokenizer.json, with either merge spelling, is the same tokenizer as vocab.json + merges.txt",
          "[safetensors]") {
  TempDir tmp;
  write_checkpoint(tmp.path("files"), tiny_gpt2_config(), tiny_gpt2_tensors());
  const Model files = load_model(tmp.path("files"));
  for (bool pairs : {false, true}) {
    INFO("pairs " << pairs);
    const std::string dir = tmp.path(pairs ? "pairs" : "strings");
    write_checkpoint(dir, tiny_gpt2_config(), tiny_gpt2_tensors());
    fs::remove(dir + "/vocab.json");
    write_text(dir + "/tokenizer.json", tokenizer_json(pairs).dump());
    const Model m = load_model(dir);
    CHECK(m.tokenizer.size() == files.tokenizer.size());
    CHECK(m.tokenizer.bos_id() == 258);
    CHECK(m.tokenizer.eos_id() == 258);
    CHECK(m.tokenizer.is_special(258));
    for (const char* text : {"ab a ab", " a  b\n", "xyz <|endoftext|> ab"})
      CHECK(m.tokenizer.encode(text) == files.tokenizer.encode(text));
  }

  // What would encode text differently is refused by name.
  auto refused = [&](nlohmann::json j) {
    const std::string dir = tmp.path("bad");
    write_checkpoint(dir, tiny_gpt2_config(), tiny_gpt2_tensors());
    fs::remove(dir + "/merges.txt");
    write_text(dir + "/tokenizer.json", j.dump());
    return load_error(dir);
  };
  auto j = tokenizer_json(false);
  j["model"]["type"] = "Unigram";
  CHECK_THAT(refused(j), Contains("tokenizer.json: model.type \"Unigram\" is not supported"));
  j = tokenizer_json(false);
  j["pre_tokenizer"]["add_prefix_space"] = true;
  CHECK_THAT(refused(j), Contains("pre_tokenizer.add_prefix_space = true is not supported"));
  j = tokenizer_json(false);
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  CHECK_THAT(refused(j), Contains("pre_tokenizer {\"type\":\"Whitespace\"} is not supported"));
  j = tokenizer_json(false);
  j["normalizer"] = {{"type", "NFC"}};
  CHECK_THAT(refused(j), Contains("normalizer = {\"type\":\"NFC\"} is not supported"));
  j = tokenizer_json(true);
  j["model"]["merges"][0] = {"a b", "c"};
  CHECK_THAT(refused(j), Contains("model.merges[0] [\"a b\",\"c\"] holds a space"));
  j = tokenizer_json(false);
  j["added_tokens"][0]["content"] = "ab";
  CHECK_THAT(refused(j), Contains("added_tokens[0] gives \"ab\" the id 258 but model.vocab gives it 256"));
}
