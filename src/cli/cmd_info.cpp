// tiny-gpt info -m MODEL: what a model file holds, without running it: format, config,
// parameters, bytes on disk and in memory, dtypes, tokenizer, load time.
#include <chrono>

#include "common.h"

namespace tinygpt::cli {
namespace {

struct InfoOptions {
  ModelOptions model;
  bool json = false;
};

const char* activation_name(Activation a) {
  return a == Activation::gelu_tanh ? "gelu_tanh" : a == Activation::gelu ? "gelu" : "relu";
}

std::string special_text(const Tokenizer& tok, std::optional<std::int32_t> id) {
  return id ? tok.token_text(*id) + " (" + std::to_string(*id) + ")" : "none";
}

void run(const InfoOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const Model m = load(o.model);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Config& c = m.config;
  const Tokenizer& tok = m.tokenizer;
  // The weight store holds what was parsed, widened or transposed; the rest is read in place
  // from the file's memory map (resident once touched).
  const std::uint64_t store_bytes = static_cast<std::uint64_t>(m.store.size()) * sizeof(float);
  const char* tokenizer_kind = tok.type() == TokenizerType::byte_bpe ? "byte_bpe" : "char";
  auto special_id = [](std::optional<std::int32_t> id) { return id ? nlohmann::json(*id) : nlohmann::json(nullptr); };
  if (o.json) {
    nlohmann::json dtypes = nlohmann::json::object();
    for (const auto& [dtype, n] : m.stored_dtypes) dtypes[dtype] = n;
    std::puts(dump_json({{"model", m.path},
                         {"format", m.format},
                         {"config",
                          {{"vocab_size", c.vocab_size},
                           {"n_ctx", c.n_ctx},
                           {"n_embd", c.n_embd},
                           {"n_head", c.n_head},
                           {"n_layer", c.n_layer},
                           {"n_inner", c.n_inner},
                           {"positional", c.positional == Positional::learned ? "learned" : "sinusoidal"},
                           {"activation", activation_name(c.activation)},
                           {"layer_norm_epsilon", c.layer_norm_epsilon},
                           {"tie_word_embeddings", c.tie_word_embeddings}}},
                         {"parameters", m.parameter_count()},
                         {"stored_dtypes", dtypes},
                         {"file_bytes", m.file_bytes},
                         {"weight_type", to_string(m.weight_type)},
                         {"memory_bytes",
                          {{"weight_store", store_bytes},
                           {"reduced_weights", m.store.byte_size()},
                           {"in_place_from_file", m.in_place_bytes}}},
                         {"tokenizer",
                          {{"type", tokenizer_kind},
                           {"size", tok.size()},
                           {"bos_id", special_id(tok.bos_id())},
                           {"eos_id", special_id(tok.eos_id())},
                           {"unk_id", special_id(tok.unk_id())}}},
                         {"load_seconds", load_s}})
                  .c_str());
    return;
  }
  std::string dtypes;
  for (const auto& [dtype, n] : m.stored_dtypes)
    dtypes += (dtypes.empty() ? "" : ", ") + dtype + " " + std::to_string(n);
  std::printf("model        %s\n", m.path.c_str());
  std::printf("format       %s\n", m.format.c_str());
  std::printf("config       vocab_size %d, n_ctx %d, n_embd %d, n_head %d, n_layer %d, n_inner %d\n", c.vocab_size,
              c.n_ctx, c.n_embd, c.n_head, c.n_layer, c.n_inner);
  std::printf("             %s positions, %s, layer_norm_epsilon %g, output %s\n",
              c.positional == Positional::learned ? "learned" : "sinusoidal", activation_name(c.activation),
              static_cast<double>(c.layer_norm_epsilon), c.tie_word_embeddings ? "tied to wte" : "untied (lm_head)");
  std::printf("parameters   %llu (stored as %s)\n", static_cast<unsigned long long>(m.parameter_count()),
              dtypes.c_str());
  if (m.weight_type == WeightType::f32) std::printf("runs in      f32\n");
  else
    std::printf(
        "runs in      %s for the linear layers and the output projection (reduced at load); embeddings, "
        "layer norms and biases f32\n",
        to_string(m.weight_type));
  std::printf("on disk      %.1f MB\n", static_cast<double>(m.file_bytes) / 1e6);
  std::printf("in memory    %.1f MB in the weight store, %.1f MB read in place from the file",
              static_cast<double>(store_bytes) / 1e6, static_cast<double>(m.in_place_bytes) / 1e6);
  if (m.store.byte_size() > 0)
    std::printf(", %.1f MB of %s weights", static_cast<double>(m.store.byte_size()) / 1e6, to_string(m.weight_type));
  std::printf("\n");
  std::printf("tokenizer    %s, %d entries; bos %s, eos %s, unk %s\n", tokenizer_kind, tok.size(),
              special_text(tok, tok.bos_id()).c_str(), special_text(tok, tok.eos_id()).c_str(),
              special_text(tok, tok.unk_id()).c_str());
  std::printf("load time    %.3f s\n", load_s);
}

}  // namespace

void register_info(CLI::App& app) {
  auto o = std::make_shared<InfoOptions>();
  CLI::App* cmd =
      app.add_subcommand("info", "What a model holds: format, config, parameters, dtypes, tokenizer, load time");
  add_model_options(*cmd, o->model);
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] { run(*o); });
}

}  // namespace tinygpt::cli
