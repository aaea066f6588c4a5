// Writes a model as the files of a Hugging Face GPT-2 checkpoint folder (see save.h).
#include <nlohmann/json.hpp>

#include "architecture.h"
#include "safetensors.h"
#include "tinygpt/save.h"

namespace tinygpt {
namespace {

constexpr const char* kEndOfText = "<|endoftext|>";

// GPT-2's vocab.json + merges.txt carry no special tokens of their own: a reader takes
// <|endoftext|> as bos and eos when the vocabulary has it (load_hf_checkpoint does). So
// they describe this tokenizer exactly only when that is what it already says.
bool fits_gpt2_files(const Tokenizer& tok) {
  if (tok.type() != TokenizerType::byte_bpe) return false;
  const auto eot = tok.lookup(kEndOfText);
  return tok.bos_id() == eot && tok.eos_id() == eot;
}

nlohmann::ordered_json hf_config(const Model& m) {
  const Config& c = m.config;
  nlohmann::ordered_json j;
  j["architectures"] = {"GPT2LMHeadModel"};
  j["model_type"] = "gpt2";
  j["vocab_size"] = c.vocab_size;
  j["n_positions"] = c.n_ctx;
  j["n_embd"] = c.n_embd;
  j["n_head"] = c.n_head;
  j["n_layer"] = c.n_layer;
  j["n_inner"] = c.n_inner;
  j["activation_function"] = c.activation == Activation::gelu_tanh ? "gelu_new"
                             : c.activation == Activation::gelu    ? "gelu"
                                                                   : "relu";
  j["layer_norm_epsilon"] = shortest_float_json(c.layer_norm_epsilon);
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  if (const auto id = m.tokenizer.bos_id()) j["bos_token_id"] = *id;
  if (const auto id = m.tokenizer.eos_id()) j["eos_token_id"] = *id;
  // GPT-2 has no sinusoidal positions; the table itself goes into wpe.weight (so any GPT-2
  // implementation computes the same function) and this field tells tiny-gpt to recompute
  // it, so that the model converts back to the same weights JSON.
  if (c.positional == Positional::sinusoidal) j["tinygpt_positional"] = "sinusoidal";
  j["torch_dtype"] = "float32";
  return j;
}

}  // namespace

std::vector<SavedFile> hf_checkpoint_files(const Model& m) {
  std::vector<SavedFile> files;
  files.push_back({"config.json", hf_config(m).dump(2) + "\n"});

  SafetensorsWriter writer;
  for_each_tensor(m,
                  [&](const std::string& name, const std::vector<std::int64_t>& shape, std::span<const float> values) {
                    // transformers' GPT2LMHeadModel names the body "transformer." and the head "lm_head".
                    writer.add_f32(name == "lm_head.weight" ? name : "transformer." + name, shape, values);
                    if (name == "wte.weight" && m.config.positional == Positional::sinusoidal)
                      writer.add_f32("transformer.wpe.weight", {m.config.n_ctx, m.config.n_embd}, m.weights.wpe.data);
                  });
  // transformers refuses a safetensors file without format metadata.
  files.push_back({"model.safetensors", writer.finish({{"format", "pt"}})});

  const nlohmann::ordered_json tok = m.tokenizer.to_json();
  if (fits_gpt2_files(m.tokenizer)) {
    files.push_back({"vocab.json", tok["vocab"].dump() + "\n"});
    std::string merges = "#version: 0.2\n";
    for (const auto& merge : tok["merges"]) merges += merge.get<std::string>() + "\n";
    files.push_back({"merges.txt", std::move(merges)});
  } else {
    files.push_back({"tinygpt_tokenizer.json", tok.dump(1) + "\n"});
  }
  return files;
}

}  // namespace tinygpt
