#include "hf_tokenizer_json.h"

#include <nlohmann/json.hpp>

#include "tinygpt/error.h"

namespace tinygpt {

namespace {

// What a field must be for the encoding to be GPT-2's: absent or null counts as the default.
void require(const nlohmann::json& object, const char* key, const nlohmann::json& allowed_default,
             const std::string& path, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null() || *it == allowed_default) return;
  throw_model_error(where + ": " + path + key + " = " + it->dump() +
                    " is not supported (tiny-gpt reads GPT-2's byte-level BPE)");
}

}  // namespace

nlohmann::json byte_bpe_from_tokenizer_json(const nlohmann::json& j, std::optional<int> bos_id,
                                            std::optional<int> eos_id, const std::string& where) {
  if (!j.is_object()) throw_model_error(where + " is not a JSON object");
  const auto model = j.find("model");
  if (model == j.end() || !model->is_object()) throw_model_error(where + ": \"model\" is missing");
  if (const auto type = model->find("type"); type == model->end() || *type != "BPE")
    throw_model_error(where + ": model.type " +
                      (type == model->end() ? std::string("is missing") : type->dump() + " is not supported") +
                      " (tiny-gpt reads \"BPE\")");
  require(j, "normalizer", nullptr, "", where);
  const auto pre = j.find("pre_tokenizer");
  if (pre == j.end() || !pre->is_object() || pre->value("type", "") != "ByteLevel")
    throw_model_error(where + ": pre_tokenizer " + (pre == j.end() ? std::string("is missing") : pre->dump()) +
                      " is not supported (tiny-gpt reads GPT-2's ByteLevel pre-tokenizer)");
  require(*pre, "add_prefix_space", false, "pre_tokenizer.", where);
  require(*pre, "use_regex", true, "pre_tokenizer.", where);
  require(*model, "dropout", 0, "model.", where);
  require(*model, "unk_token", nullptr, "model.", where);
  require(*model, "continuing_subword_prefix", "", "model.", where);
  require(*model, "end_of_word_suffix", "", "model.", where);
  require(*model, "byte_fallback", false, "model.", where);
  require(*model, "ignore_merges", false, "model.", where);

  const auto vocab = model->find("vocab");
  if (vocab == model->end() || !vocab->is_object())
    throw_model_error(where + ": model.vocab must be an object {token: id}");
  const auto merges = model->find("merges");
  if (merges == model->end() || !merges->is_array()) throw_model_error(where + ": model.merges must be a list");

  nlohmann::json out = {{"type", "byte_bpe"}, {"vocab", *vocab}, {"merges", nlohmann::json::array()}};
  for (std::size_t i = 0; i < merges->size(); ++i) {
    const auto& m = (*merges)[i];
    const std::string at = where + ": model.merges[" + std::to_string(i) + "]";
    if (m.is_string()) {
      out["merges"].push_back(m);
      continue;
    }
    // The pair spelling exists for tokens that hold a space; GPT-2's byte alphabet has none
    // (a space is "Ġ"), so a pair joins unambiguously or is not a byte-level merge at all.
    if (!m.is_array() || m.size() != 2 || !m[0].is_string() || !m[1].is_string())
      throw_model_error(at + " must be \"a b\" or [\"a\", \"b\"], found " + m.dump());
    const auto &a = m[0].get_ref<const std::string&>(), &b = m[1].get_ref<const std::string&>();
    if (a.find(' ') != std::string::npos || b.find(' ') != std::string::npos)
      throw_model_error(at + " " + m.dump() + " holds a space, which GPT-2's byte-level alphabet does not have");
    out["merges"].push_back(a + " " + b);
  }

  if (const auto added = j.find("added_tokens"); added != j.end() && !added->is_null()) {
    if (!added->is_array()) throw_model_error(where + ": added_tokens must be a list");
    for (std::size_t i = 0; i < added->size(); ++i) {
      const auto& t = (*added)[i];
      const std::string at = where + ": added_tokens[" + std::to_string(i) + "]";
      if (!t.is_object() || !t.contains("id") || !t.contains("content") || !t["id"].is_number_unsigned() ||
          !t["content"].is_string())
        throw_model_error(at + " must have a \"content\" string and an \"id\"");
      const auto& content = t["content"].get_ref<const std::string&>();
      if (const auto known = vocab->find(content); known != vocab->end() && *known != t["id"])
        throw_model_error(at + " gives \"" + content + "\" the id " + t["id"].dump() + " but model.vocab gives it " +
                          known->dump());
      out["vocab"][content] = t["id"];
    }
  }

  auto token_with_id = [&](int id, const char* field) -> std::string {
    for (const auto& [token, value] : out["vocab"].items())
      if (value == id) return token;
    throw_model_error(where + ": the vocabulary has no token with the config's " + field + " " + std::to_string(id));
  };
  const std::string kEndOfText = "<|endoftext|>";
  const bool has_eot = out["vocab"].contains(kEndOfText);
  if (bos_id) out["bos_token"] = token_with_id(*bos_id, "bos_token_id");
  else if (has_eot) out["bos_token"] = kEndOfText;
  if (eos_id) out["eos_token"] = token_with_id(*eos_id, "eos_token_id");
  else if (has_eot) out["eos_token"] = kEndOfText;
  return out;
}

}  // namespace tinygpt
