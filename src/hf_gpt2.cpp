#include "hf_gpt2.h"

#include <nlohmann/json.hpp>
#include <set>

#include "architecture.h"
#include "tinygpt/error.h"

namespace tinygpt {

namespace {

// config.json fields that do not change what inference computes: dropout and other training
// settings, task heads GPT2LMHeadModel does not use, bookkeeping. reorder_and_upcast_attn
// only changes the order and precision of a half-precision attention product; tiny-gpt
// computes it in float32 anyway, so the result is the one the flag asks for.
bool irrelevant_to_inference(const std::string& key) {
  static const std::set<std::string> kFields = {"_name_or_path",
                                                "architectures",
                                                "attn_pdrop",
                                                "embd_pdrop",
                                                "resid_pdrop",
                                                "summary_first_dropout",
                                                "initializer_range",
                                                "task_specific_params",
                                                "transformers_version",
                                                "use_cache",
                                                "torch_dtype",
                                                "output_past",
                                                "gradient_checkpointing",
                                                "id2label",
                                                "label2id",
                                                "model_type",
                                                "n_ctx",
                                                "pad_token_id",
                                                "tokenizer_class",
                                                "problem_type",
                                                "_num_labels",
                                                "use_return_dict",
                                                "return_dict",
                                                "reorder_and_upcast_attn"};
  return kFields.contains(key) || key.starts_with("summary_");
}

}  // namespace

HfGpt2Config config_from_hf_gpt2(const nlohmann::json& j, LmHead lm_head, const std::string& where,
                                 const LoadOptions& options) {
  if (!j.is_object()) throw_model_error(where + " is not a JSON object");
  auto value = [&](const char* key) -> const nlohmann::json* {
    const auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  };
  if (const auto* type = value("model_type"); type && (!type->is_string() || *type != "gpt2"))
    throw_model_error(where + ": model_type " + type->dump() + " is not supported (tiny-gpt runs \"gpt2\")");
  // Variants of the architecture this engine does not compute; each is named so that the
  // user knows exactly what the checkpoint asks for.
  auto require_flag = [&](const char* key, bool runnable, const char* why) {
    const auto* v = value(key);
    if (!v) return;
    if (!v->is_boolean()) throw_model_error(where + ": " + key + " must be true or false, found " + v->dump());
    if (v->get<bool>() != runnable)
      throw_model_error(where + ": " + key + " = " + v->dump() + " is not supported (" + why + ")");
  };
  require_flag("scale_attn_by_inverse_layer_idx", false, "attention scores are scaled by 1/sqrt(head size) only");
  require_flag("scale_attn_weights", true, "attention scores are always scaled by 1/sqrt(head size)");
  require_flag("add_cross_attention", false, "tiny-gpt runs decoder-only models");

  nlohmann::json ours = nlohmann::json::object();
  for (const char* key : {"vocab_size", "n_embd", "n_head", "n_layer", "n_inner", "layer_norm_epsilon"})
    if (const auto* v = value(key)) ours[key] = *v;
  const auto* positions = value("n_positions");
  if (!positions) throw_model_error(where + ": n_positions is missing");
  ours["n_ctx"] = *positions;

  // Not a transformers field: `tiny-gpt convert` writes it for a model with sinusoidal
  // positions, whose table it also stores as wpe.weight for other GPT-2 code.
  if (const auto* pos = value("tinygpt_positional")) ours["positional"] = *pos;

  if (const auto* act = value("activation_function")) {
    const std::string name = act->is_string() ? act->get<std::string>() : act->dump();
    if (name == "gelu_new" || name == "gelu_pytorch_tanh") ours["activation"] = "gelu_tanh";
    else if (name == "gelu" || name == "relu") ours["activation"] = name;
    else
      throw_model_error(where + ": activation_function \"" + name +
                        "\" is not supported (gelu_new, gelu_pytorch_tanh, gelu or relu)");
  } else {
    ours["activation"] = "gelu_tanh";  // transformers' default for GPT-2
  }

  // transformers ties the output to wte unless told otherwise (it then ignores any
  // lm_head.weight in the file); a file whose lm_head differs from wte without a word in
  // the config is taken as untied, as the issue asks; an explicit "true" with a different
  // lm_head would run a different model than the file describes, so it is refused.
  bool tied = lm_head != LmHead::different;
  if (const auto* tie = value("tie_word_embeddings")) {
    if (!tie->is_boolean())
      throw_model_error(where + ": tie_word_embeddings must be true or false, found " + tie->dump());
    if (tie->get<bool>() && lm_head == LmHead::different)
      throw_model_error(where +
                        ": tie_word_embeddings is true but the weights' lm_head.weight differs from wte.weight");
    tied = tie->get<bool>();
  }
  ours["tie_word_embeddings"] = tied;

  HfGpt2Config out;
  for (const auto& [key, v] : j.items()) {
    if (v.is_null()) continue;  // null is transformers' "the default" (n_inner, summary_activation, ...)
    if (key == "bos_token_id" || key == "eos_token_id") {
      if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 0x7fffffff)
        throw_model_error(where + ": " + key + " must be a token id, found " + v.dump());
      (key == "bos_token_id" ? out.bos_token_id : out.eos_token_id) = v.get<int>();
    } else if (!ours.contains(key) && key != "n_positions" && key != "activation_function" &&
               key != "tie_word_embeddings" && key != "tinygpt_positional" && !key.starts_with("scale_attn") &&
               key != "add_cross_attention" && !irrelevant_to_inference(key) && options.on_warning) {
      options.on_warning(where + ": ignoring config field \"" + key + "\"");
    }
  }
  out.config = parse_config(ours, where, options);
  return out;
}

std::optional<std::string> gpt2_tensor_name(std::string_view checkpoint_name) {
  std::string_view name = checkpoint_name;
  if (name.starts_with("transformer.")) name.remove_prefix(std::string_view("transformer.").size());
  if (name.starts_with("h.") && (name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias")))
    return std::nullopt;
  return std::string(name);
}

}  // namespace tinygpt
