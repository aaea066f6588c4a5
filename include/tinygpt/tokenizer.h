#pragma once
// Text <-> token ids. Two kinds, chosen by the weights file:
//   char      one Unicode code point per token (plus named special tokens);
//   byte_bpe  GPT-2's byte-level BPE (bytes -> printable stand-ins, pre-tokenizer, ranked merges).
// Special tokens are never produced by encode(): text that spells "<|endoftext|>" is ordinary text.
// byte_bpe matches tiktoken's "gpt2" encoding (encode_ordinary) exactly; invalid UTF-8 input is
// an input error naming the byte offset (see src/tokenizer_bpe.cpp, src/pretokenize.cpp).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tinygpt {

struct BpeTables;  // merge ranks, pre-tokenizer and cache; defined in tokenizer_bpe.cpp

enum class TokenizerType { char_level, byte_bpe };

class Tokenizer {
 public:
  // `where` names the source (file path) in error messages.
  static Tokenizer from_json(const nlohmann::json& j, const std::string& where);
  // GPT-2's own encoder.json + vocab.bpe (<|endoftext|> is its bos and eos).
  static Tokenizer from_gpt2_files(const std::string& encoder_json_path, const std::string& vocab_bpe_path);

  // The weights file's "tokenizer" object (docs/weights-format.md) that from_json() reads
  // back into this same tokenizer: type, vocab (char: a list; byte_bpe: {token: id} in id
  // order), merges in rank order, and the special tokens by name.
  nlohmann::ordered_json to_json() const;

  TokenizerType type() const { return type_; }
  // Number of entries in the vocabulary (the model's vocab_size may be larger: padding).
  std::int32_t size() const { return static_cast<std::int32_t>(bytes_.size()); }

  // Ordinary text to ids. Throws Error(input) naming the character and byte offset
  // for a character a char vocabulary lacks (without unk), or for invalid UTF-8
  // where the tokenizer does not accept raw bytes.
  std::vector<std::int32_t> encode(std::string_view text) const;
  // What the model reads for a text: bos (when the vocabulary has one), then encode(text).
  std::vector<std::int32_t> encode_with_bos(std::string_view text) const;

  // Raw bytes of the ids, special tokens left out. May end inside a UTF-8 sequence.
  std::string decode(std::span<const std::int32_t> ids) const;
  // decode() as text to show: valid UTF-8, each invalid or unfinished sequence as U+FFFD.
  std::string decode_text(std::span<const std::int32_t> ids) const;

  // The bytes one token stands for (a special token: its own name).
  const std::string& token_bytes(std::int32_t id) const { return bytes_.at(static_cast<std::size_t>(id)); }
  // A token as text for output such as JSON: valid UTF-8 (each invalid or partial
  // sequence as U+FFFD), a special token by its name.
  std::string token_text(std::int32_t id) const;
  // A printable form of a token for tables: valid UTF-8, spaces/newlines/tabs made visible.
  std::string piece(std::int32_t id) const;
  // The id of a vocabulary entry spelled exactly `token` (char: the character; byte_bpe:
  // the entry in GPT-2's printable alphabet, e.g. "Ġthe"), special tokens included.
  std::optional<std::int32_t> lookup(std::string_view token) const;

  std::optional<std::int32_t> bos_id() const { return bos_; }
  std::optional<std::int32_t> eos_id() const { return eos_; }
  std::optional<std::int32_t> unk_id() const { return unk_; }
  bool is_special(std::int32_t id) const;

 private:
  TokenizerType type_ = TokenizerType::char_level;
  std::vector<std::string> bytes_;                       // id -> raw bytes (specials: their name)
  std::unordered_map<std::string, std::int32_t> index_;  // vocabulary entry as written -> id
  std::optional<std::int32_t> bos_, eos_, unk_;
  std::vector<std::int32_t> specials_;    // every special id: bos, eos, unk, GPT-2's <|endoftext|>
  std::shared_ptr<const BpeTables> bpe_;  // byte_bpe only; shared so copies stay cheap

  std::vector<std::int32_t> encode_chars(std::string_view text) const;
  std::vector<std::int32_t> encode_bpe(std::string_view text) const;
  static Tokenizer char_from_json(const nlohmann::json& j, const std::string& where);
  static Tokenizer bpe_from_json(const nlohmann::json& j, const std::string& where);
  void set_specials(const nlohmann::json& j, const std::string& where);
  void add_special(std::int32_t id);
  [[noreturn]] static void throw_invalid_utf8(std::string_view text, std::size_t offset);
  // Completes a byte_bpe tokenizer once index_ and the specials are set: bytes of every
  // entry, the byte tokens, the merge table. `merge_ctx(rank)` names a merge in messages.
  void finish_bpe(std::vector<std::string> written, std::vector<std::pair<std::string, std::string>> merges,
                  const std::string& vocab_ctx, const std::function<std::string(std::size_t)>& merge_ctx);
};

}  // namespace tinygpt
