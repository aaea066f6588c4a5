#pragma once
// Hugging Face's conventions for GPT-2 checkpoints (transformers' GPT2LMHeadModel), mapped
// onto ours: config.json's field names and values, and the tensor names of its state
// dict. The tensors themselves already have our names' shapes and Conv1D [in, out] layout,
// so once renamed they go to the architecture (assemble_model) unchanged.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "tinygpt/load.h"
#include "tinygpt/model.h"

namespace tinygpt {

// What the checkpoint's lm_head.weight says about tying the output to wte.
enum class LmHead { absent, same_as_wte, different };

struct HfGpt2Config {
  Config config;
  std::optional<int> bos_token_id, eos_token_id;
};

// Reads config.json: vocab_size, n_positions, n_embd, n_head, n_layer, n_inner (null is
// 4 x n_embd), activation_function (gelu_new and gelu_pytorch_tanh are our gelu_tanh;
// gelu, relu), layer_norm_epsilon, tie_word_embeddings, bos/eos_token_id. Anything the
// engine cannot run (another model_type, scale_attn_by_inverse_layer_idx, ...) is an
// Error(model) naming the field; fields that do not change inference (dropout, training
// settings) are skipped, others reported through options.on_warning. The output is tied
// to wte unless config.json says tie_word_embeddings false or the file's lm_head.weight
// differs from wte.weight. `where` names config.json in messages.
HfGpt2Config config_from_hf_gpt2(const nlohmann::json& j, LmHead lm_head, const std::string& where,
                                 const LoadOptions& options);

// Our name for a checkpoint's tensor: "transformer." taken off the front; nullopt for the
// causal-mask buffers older checkpoints saved (h.N.attn.bias, h.N.attn.masked_bias),
// which the engine does not need.
std::optional<std::string> gpt2_tensor_name(std::string_view checkpoint_name);

}  // namespace tinygpt
