#pragma once
// Hugging Face tokenizers' tokenizer.json, for the GPT-2 kind of tokenizer: model.type
// "BPE" over GPT-2's byte-level alphabet with its ByteLevel pre-tokenizer. Read into our
// byte_bpe tokenizer JSON (docs/weights-format.md), which Tokenizer::from_json then checks
// like any other; anything that would make the text encode differently is refused here.
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace tinygpt {

// model.vocab, model.merges (as "a b" strings or ["a", "b"] pairs), added_tokens (put in
// the vocabulary with their ids). bos and eos are the tokens with those ids (config.json's
// bos/eos_token_id), or <|endoftext|> when the config names none. Throws Error(model)
// naming `where` and the field: another model.type, a normalizer, a pre-tokenizer other
// than ByteLevel without a prefix space, dropout, a subword prefix or suffix, byte fallback.
nlohmann::json byte_bpe_from_tokenizer_json(const nlohmann::json& j, std::optional<int> bos_id,
                                            std::optional<int> eos_id, const std::string& where);

}  // namespace tinygpt
