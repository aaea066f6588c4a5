#include "hf_checkpoint.h"

#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <system_error>

#include "architecture.h"
#include "hf_gpt2.h"
#include "hf_tokenizer_json.h"
#include "input_file.h"
#include "json_scan.h"
#include "mapped_file.h"
#include "safetensors.h"
#include "tinygpt/error.h"

namespace tinygpt {
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxConfigBytes = std::uint64_t{1} << 20;       // config.json is a few hundred bytes
constexpr std::uint64_t kMaxTokenizerBytes = std::uint64_t{256} << 20;  // GPT-2's is 1.4 MB, large vocabularies' 20 MB

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

nlohmann::json read_json_file(const std::string& path, std::uint64_t max_bytes) {
  try {
    return parse_json_unique_keys(read_input_file(path, max_bytes, ErrorKind::model), path);
  } catch (const nlohmann::json::exception& e) {
    throw_model_error(path + ": not valid JSON (" + e.what() + ")");
  }
}

Tokenizer read_tokenizer_json(const std::string& path, const HfGpt2Config& config) {
  const nlohmann::json j = read_json_file(path, kMaxTokenizerBytes);
  return Tokenizer::from_json(byte_bpe_from_tokenizer_json(j, config.bos_token_id, config.eos_token_id, path), path);
}

bool same_tensor(const SafetensorsTensor& a, const SafetensorsTensor& b) {
  return a.dtype == b.dtype && a.shape == b.shape &&
         (a.bytes.empty() || std::memcmp(a.bytes.data(), b.bytes.data(), a.bytes.size()) == 0);
}

}  // namespace

bool is_hf_checkpoint_path(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) || path.ends_with(".safetensors");
}

HfCheckpointFiles find_hf_checkpoint(const std::string& path) {
  std::error_code ec;
  const bool folder = fs::is_directory(path, ec);
  const fs::path dir = folder                                 ? fs::path(path)
                       : fs::path(path).parent_path().empty() ? fs::path(".")
                                                              : fs::path(path).parent_path();
  HfCheckpointFiles f;
  f.config = (dir / "config.json").string();
  f.weights = folder ? (dir / "model.safetensors").string() : path;
  f.vocab = (dir / "vocab.json").string();
  f.merges = (dir / "merges.txt").string();
  if (!is_file(f.config)) {
    if (folder)
      throw_model_error(
          path +
          " is a directory, not a model file, and not a checkpoint folder either: it has no "
          "config.json (a checkpoint folder holds config.json, model.safetensors, vocab.json and merges.txt)");
    throw_model_error(path +
                      ": no config.json beside it (a .safetensors file is read with the config.json, vocab.json "
                      "and merges.txt of its folder)");
  }
  if (folder && !is_file(f.weights)) {
    if (is_file(dir / "model.safetensors.index.json"))
      throw_model_error(
          path + ": the weights are sharded (model.safetensors.index.json); tiny-gpt reads one model.safetensors");
    throw_model_error(path + ": no model.safetensors in the checkpoint folder");
  }
  if (!is_file(f.vocab) || !is_file(f.merges)) {
    f.vocab.clear();
    f.merges.clear();
    f.tokenizer_json = (dir / "tokenizer.json").string();
    if (!is_file(f.tokenizer_json)) {
      f.tokenizer_json.clear();
      f.tinygpt_tokenizer = (dir / "tinygpt_tokenizer.json").string();
      if (!is_file(f.tinygpt_tokenizer))
        throw_model_error(dir.string() +
                          " has no tokenizer: it needs vocab.json and merges.txt, or tokenizer.json (or the "
                          "tinygpt_tokenizer.json that tiny-gpt convert writes)");
    }
  }
  return f;
}

Model load_hf_checkpoint(const HfCheckpointFiles& files, const LoadOptions& options) {
  const std::string& where = files.weights;
  // Shared with the Model's store: float32 tensors are used in place from the mapping.
  const auto file = std::make_shared<MappedFile>(where);
  const std::string_view text = file->text();
  const Safetensors st = parse_safetensors(std::as_bytes(std::span(text.data(), text.size())), where);

  std::map<std::string, const SafetensorsTensor*> chosen;  // our name -> the file's tensor
  for (const auto& [name, t] : st.tensors) {
    const auto ours = gpt2_tensor_name(name);
    if (!ours) continue;
    if (!chosen.emplace(*ours, &t).second)
      throw_model_error(where + ": tensor " + *ours + " appears twice (with and without \"transformer.\")");
  }
  LmHead lm_head = LmHead::absent;
  if (const auto lm = chosen.find("lm_head.weight"); lm != chosen.end()) {
    const auto wte = chosen.find("wte.weight");
    lm_head = wte != chosen.end() && same_tensor(*lm->second, *wte->second) ? LmHead::same_as_wte : LmHead::different;
  }
  const HfGpt2Config hf =
      config_from_hf_gpt2(read_json_file(files.config, kMaxConfigBytes), lm_head, files.config, options);
  const Config& config = hf.config;
  // A tied model's lm_head.weight is a copy of wte.weight that the engine does not need.
  if (config.tie_word_embeddings) chosen.erase("lm_head.weight");
  // A sinusoidal model (tinygpt_positional) recomputes its table; the file's copy, there for
  // other GPT-2 code, must be that table, or the two would run different models.
  const SafetensorsTensor* sinusoid_copy = nullptr;
  if (config.positional == Positional::sinusoidal) {
    if (const auto wpe = chosen.find("wpe.weight"); wpe != chosen.end()) {
      sinusoid_copy = wpe->second;
      chosen.erase(wpe);
    }
  }

  const std::string& tokenizer_file = !files.vocab.empty()            ? files.vocab
                                      : !files.tokenizer_json.empty() ? files.tokenizer_json
                                                                      : files.tinygpt_tokenizer;
  Tokenizer tokenizer =
      !files.vocab.empty() ? Tokenizer::from_gpt2_files(files.vocab, files.merges)
      : !files.tokenizer_json.empty()
          ? read_tokenizer_json(files.tokenizer_json, hf)
          : Tokenizer::from_json(read_json_file(files.tinygpt_tokenizer, kMaxTokenizerBytes), files.tinygpt_tokenizer);
  if (tokenizer.size() > config.vocab_size)
    throw_model_error(tokenizer_file + " has " + std::to_string(tokenizer.size()) + " entries but " + files.config +
                      " says vocab_size " + std::to_string(config.vocab_size));
  auto check_special = [&](const char* field, std::optional<int> id, std::optional<std::int32_t> tokenizer_id) {
    if (id && id != tokenizer_id)
      throw_model_error(files.config + ": " + field + " " + std::to_string(*id) +
                        " disagrees with the tokenizer, whose " +
                        (tokenizer_id ? "id for <|endoftext|> is " + std::to_string(*tokenizer_id)
                                      : "vocabulary has no <|endoftext|>"));
  };
  check_special("bos_token_id", hf.bos_token_id, tokenizer.bos_id());
  check_special("eos_token_id", hf.eos_token_id, tokenizer.eos_id());

  WeightStore store;
  std::uint64_t to_store = 0;
  // A Conv1D weight ([in][out]) in aligned F32 runs where it lies (Layout::in_out); one that
  // must be copied anyway (F16, BF16, unaligned) is turned [out][in] on the way.
  auto conv1d = [](const std::string& name, const SafetensorsTensor& t) {
    return is_conv1d(name) && t.shape.size() == 2;
  };
  auto transposed = [&](const std::string& name, const SafetensorsTensor& t) {
    return conv1d(name, t) && !safetensors_f32_in_place(t);
  };
  for (const auto& [name, t] : chosen) to_store += safetensors_floats_to_store(*t, transposed(name, *t));
  store.reserve(static_cast<std::size_t>(to_store));  // bounded by the file's size: the header was checked
  NamedTensors named;
  for (const auto& [name, t] : chosen) {
    const bool transpose = transposed(name, *t);
    named.emplace(name, NamedTensor{t->shape,
                                    safetensors_values(*t, name, transpose, store, where),
                                    WeightType::f32,
                                    {},
                                    conv1d(name, *t) && !transpose ? Layout::in_out : Layout::out_in});
    // Copied into the store: the file's pages for it are not read again.
    if (safetensors_floats_to_store(*t, transpose) > 0) file->release_range(t->offset, t->bytes.size());
  }
  file->advise_reuse();
  store.keep_alive(file);
  Model m = assemble_model(config, std::move(tokenizer), named, std::move(store), where);
  if (sinusoid_copy) {
    const std::span<const float> table = m.weights.wpe.data;
    const bool same = sinusoid_copy->dtype == "F32" && sinusoid_copy->bytes.size() == table.size_bytes() &&
                      std::memcmp(sinusoid_copy->bytes.data(), table.data(), table.size_bytes()) == 0;
    if (!same)
      throw_model_error(where + ": wpe.weight is not the sinusoid table that " + files.config +
                        " asks for with tinygpt_positional \"sinusoidal\"");
  }
  m.file_bytes = text.size();
  m.format = "safetensors (Hugging Face checkpoint)";
  for (const auto& [name, t] : chosen) {
    m.stored_dtypes[t->dtype] += t->element_count();
    if (safetensors_floats_to_store(*t, transposed(name, *t)) == 0) m.in_place_bytes += t->bytes.size();
  }
  return m;
}

}  // namespace tinygpt
