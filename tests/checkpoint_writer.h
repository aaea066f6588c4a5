#pragma once
// Writes Hugging Face-style GPT-2 checkpoints for the tests: safetensors files laid out the
// way the format's own writer lays them out (header padded with spaces to 8 bytes, tensors
// back to back), and small checkpoint folders (config.json, model.safetensors, vocab.json,
// merges.txt) whose tokenizer is the 259-entry byte BPE of tests/fixtures/broken. Written
// from the format's description, independently of src/safetensors.cpp; corrupt files are
// made from these with one deliberate change.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helpers.h"

namespace tinygpt::test {

struct StTensor {
  std::string name, dtype;
  std::vector<std::int64_t> shape;
  std::string bytes;  // raw little-endian data
};

inline std::string f32_bytes(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

inline std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// The header as JSON (data_offsets filled in, tensors back to back in the given order).
inline nlohmann::json safetensors_header(const std::vector<StTensor>& ts, const nlohmann::json& metadata = nullptr) {
  nlohmann::json h = nlohmann::json::object();
  if (!metadata.is_null()) h["__metadata__"] = metadata;
  std::uint64_t at = 0;
  for (const auto& t : ts) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {at, at + t.bytes.size()}}};
    at += t.bytes.size();
  }
  return h;
}

// A whole file from a header text (padded with spaces to a multiple of 8) and the data.
inline std::string safetensors_bytes(std::string header, const std::string& data) {
  while (header.size() % 8 != 0) header += ' ';
  return le64(header.size()) + header + data;
}

inline std::string safetensors_file(const std::vector<StTensor>& ts, const nlohmann::json& metadata = nullptr) {
  std::string data;
  for (const auto& t : ts) data += t.bytes;
  return safetensors_bytes(safetensors_header(ts, metadata).dump(), data);
}

// A tiny GPT-2: vocab 259 (the byte BPE below), n_positions 8, n_embd 4, 2 heads, 2 layers,
// n_inner 12, in the hub's config.json spelling.
inline nlohmann::json tiny_gpt2_config() {
  return {{"model_type", "gpt2"},
          {"architectures", {"GPT2LMHeadModel"}},
          {"vocab_size", 259},
          {"n_positions", 8},
          {"n_ctx", 8},
          {"n_embd", 4},
          {"n_head", 2},
          {"n_layer", 2},
          {"n_inner", 12},
          {"activation_function", "gelu_new"},
          {"layer_norm_epsilon", 1e-5},
          {"bos_token_id", 258},
          {"eos_token_id", 258},
          {"attn_pdrop", 0.1},
          {"resid_pdrop", 0.1}};
}

// Every tensor of that model, with GPT-2's names (no prefix) and shapes, random f32 values.
inline std::vector<StTensor> tiny_gpt2_tensors(unsigned seed = 1) {
  const std::int64_t V = 259, C = 8, D = 4, F = 12;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> shapes = {{"wte.weight", {V, D}},
                                                                           {"wpe.weight", {C, D}}};
  for (int i = 0; i < 2; ++i) {
    const std::string p = "h." + std::to_string(i) + ".";
    for (const auto& [n, s] :
         std::vector<std::pair<std::string, std::vector<std::int64_t>>>{{"ln_1.weight", {D}},
                                                                        {"ln_1.bias", {D}},
                                                                        {"attn.c_attn.weight", {D, 3 * D}},
                                                                        {"attn.c_attn.bias", {3 * D}},
                                                                        {"attn.c_proj.weight", {D, D}},
                                                                        {"attn.c_proj.bias", {D}},
                                                                        {"ln_2.weight", {D}},
                                                                        {"ln_2.bias", {D}},
                                                                        {"mlp.c_fc.weight", {D, F}},
                                                                        {"mlp.c_fc.bias", {F}},
                                                                        {"mlp.c_proj.weight", {F, D}},
                                                                        {"mlp.c_proj.bias", {D}}})
      shapes.emplace_back(p + n, s);
  }
  shapes.push_back({"ln_f.weight", {D}});
  shapes.push_back({"ln_f.bias", {D}});
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  std::vector<StTensor> out;
  for (const auto& [name, shape] : shapes) {
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    std::vector<float> v(n);
    for (auto& x : v) x = normal(rng);
    out.push_back({name, "F32", shape, f32_bytes(v)});
  }
  return out;
}

inline std::vector<float> floats_of(const StTensor& t) {
  std::vector<float> v(t.bytes.size() / 4);
  std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
  return v;
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// vocab.json + merges.txt: the byte BPE of tests/fixtures/broken/base_bpe.model.json.
inline void write_tokenizer(const std::string& dir) {
  const auto tok = read_json(fixture("broken/base_bpe.model.json"))["tokenizer"];
  write_text(dir + "/vocab.json", tok["vocab"].dump());
  std::string merges = "#version: 0.2\n";
  for (const auto& m : tok["merges"]) merges += m.get<std::string>() + "\n";
  write_text(dir + "/merges.txt", merges);
}

// The same tokenizer as a Hugging Face tokenizer.json (GPT-2's layout), with its merges as
// "a b" strings or as ["a", "b"] pairs.
inline nlohmann::json tokenizer_json(bool pairs) {
  const auto tok = read_json(fixture("broken/base_bpe.model.json"))["tokenizer"];
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& m : tok["merges"]) {
    const std::string s = m.get<std::string>();
    const auto space = s.find(' ');
    if (pairs) merges.push_back({s.substr(0, space), s.substr(space + 1)});
    else merges.push_back(s);
  }
  nlohmann::json vocab = tok["vocab"];
  vocab.erase("<|endoftext|>");  // as an added token instead
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens",
           {{{"id", 258},
             {"content", "<|endoftext|>"},
             {"single_word", false},
             {"lstrip", false},
             {"rstrip", false},
             {"normalized", true},
             {"special", true}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
          {"post_processor",
           {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}}},
          {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"continuing_subword_prefix", ""},
            {"end_of_word_suffix", ""},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"vocab", vocab},
            {"merges", merges}}}};
}

// A checkpoint folder at `dir` (created).
inline void write_checkpoint(const std::string& dir, const nlohmann::json& config,
                             const std::vector<StTensor>& tensors) {
  std::filesystem::create_directories(dir);
  write_text(dir + "/config.json", config.dump(2));
  write_text(dir + "/model.safetensors", safetensors_file(tensors));
  write_tokenizer(dir);
}

// The same model as our weights JSON (tied, learned positions), to compare against.
inline std::string weights_json_of(const std::vector<StTensor>& tensors) {
  nlohmann::json j = {
      {"format", "tiny-gpt"},
      {"version", 1},
      {"config", {{"vocab_size", 259}, {"n_ctx", 8}, {"n_embd", 4}, {"n_head", 2}, {"n_layer", 2}, {"n_inner", 12}}},
      {"tokenizer", read_json(fixture("broken/base_bpe.model.json"))["tokenizer"]}};
  for (const auto& t : tensors) j["tensors"][t.name] = {{"shape", t.shape}, {"data", floats_of(t)}};
  return j.dump();
}

}  // namespace tinygpt::test
