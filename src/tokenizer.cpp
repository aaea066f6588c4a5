#include "tinygpt/tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "pretokenize.h"
#include "tinygpt/error.h"
#include "utf8.h"

namespace tinygpt {
namespace {

std::string describe_char(std::string_view text, std::size_t offset) {
  const std::size_t n = utf8::sequence_length(text, offset);
  char code[16];
  std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(utf8::decode_at(text, offset)));
  const bool printable = static_cast<unsigned char>(text[offset]) >= 0x20 && text[offset] != 0x7F;
  return printable ? "'" + std::string(text.substr(offset, n)) + "' (" + code + ")" : std::string(code);
}

// Characters that show nothing themselves but change how a line is shown: the bidi
// controls (U+202E turns the rest of a table row around), zero-width ones, the BOM.
bool is_invisible_format(char32_t cp) {
  return cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

}  // namespace

void Tokenizer::throw_invalid_utf8(std::string_view text, std::size_t offset) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[offset]));
  throw_input_error("invalid UTF-8 in the input at byte offset " + std::to_string(offset) + " (byte " + hex +
                    "); the text must be UTF-8");
}

Tokenizer Tokenizer::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw_model_error(where + ": \"tokenizer\" must be an object");
  const auto type = j.find("type");
  if (type == j.end() || !type->is_string())
    throw_model_error(where + ": tokenizer.type is missing (expected \"char\" or \"byte_bpe\")");
  const auto& name = type->get_ref<const std::string&>();
  if (name == "char") return char_from_json(j, where);
  if (name == "byte_bpe") return bpe_from_json(j, where);
  throw_model_error(where + ": unknown tokenizer.type \"" + name + "\" (expected \"char\" or \"byte_bpe\")");
}

void Tokenizer::set_specials(const nlohmann::json& j, const std::string& where) {
  auto special = [&](const char* key, std::optional<std::int32_t>& slot) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_string()) throw_model_error(where + ": tokenizer." + key + " must be a string");
    const auto& token = it->get_ref<const std::string&>();
    const auto id = index_.find(token);
    if (id == index_.end())
      throw_model_error(where + ": tokenizer." + key + " \"" + token + "\" is not in the vocabulary");
    slot = id->second;
    add_special(id->second);
  };
  special("bos_token", bos_);
  special("eos_token", eos_);
  special("unk_token", unk_);
}

Tokenizer Tokenizer::char_from_json(const nlohmann::json& j, const std::string& where) {
  Tokenizer t;
  t.type_ = TokenizerType::char_level;
  const auto vocab = j.find("vocab");
  if (vocab == j.end() || !vocab->is_array())
    throw_model_error(where + ": tokenizer.vocab must be a list of strings for a char tokenizer");
  if (j.contains("merges")) throw_model_error(where + ": tokenizer.merges is only for byte_bpe tokenizers");
  t.bytes_.reserve(vocab->size());
  for (std::size_t id = 0; id < vocab->size(); ++id) {
    const auto& entry = (*vocab)[id];
    if (!entry.is_string()) throw_model_error(where + ": tokenizer.vocab[" + std::to_string(id) + "] is not a string");
    const auto& s = entry.get_ref<const std::string&>();
    if (s.empty()) throw_model_error(where + ": tokenizer.vocab[" + std::to_string(id) + "] is empty");
    if (const auto bad = utf8::first_invalid(s))
      throw_model_error(where + ": tokenizer.vocab[" + std::to_string(id) + "] is not valid UTF-8");
    if (!t.index_.emplace(s, static_cast<std::int32_t>(id)).second)
      throw_model_error(where + ": tokenizer.vocab has \"" + s + "\" twice (ids " + std::to_string(t.index_[s]) +
                        " and " + std::to_string(id) + ")");
    t.bytes_.push_back(s);
  }
  t.set_specials(j, where);
  // Only the named special tokens may span several code points: anything else could never
  // be produced by the one-code-point-per-token encoder and would silently be dead weight.
  for (std::size_t id = 0; id < t.bytes_.size(); ++id) {
    const auto& s = t.bytes_[id];
    if (utf8::sequence_length(s, 0) == s.size() || t.is_special(static_cast<std::int32_t>(id))) continue;
    throw_model_error(where + ": tokenizer.vocab[" + std::to_string(id) + "] \"" + s +
                      "\" is more than one character and is not a named special token");
  }
  return t;
}

void Tokenizer::add_special(std::int32_t id) {
  if (std::find(specials_.begin(), specials_.end(), id) == specials_.end()) specials_.push_back(id);
}

std::vector<std::int32_t> Tokenizer::encode_with_bos(std::string_view text) const {
  std::vector<std::int32_t> ids;
  if (bos_) ids.push_back(*bos_);
  const std::vector<std::int32_t> body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

std::string Tokenizer::token_text(std::int32_t id) const {
  return is_special(id) ? token_bytes(id) : utf8::sanitize(token_bytes(id));
}

bool Tokenizer::is_special(std::int32_t id) const {
  return std::find(specials_.begin(), specials_.end(), id) != specials_.end();
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const {
  return type_ == TokenizerType::char_level ? encode_chars(text) : encode_bpe(text);
}

std::vector<std::int32_t> Tokenizer::encode_chars(std::string_view text) const {
  std::vector<std::int32_t> ids;
  ids.reserve(text.size());
  std::string key;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8::sequence_length(text, i);
    if (n == 0) throw_invalid_utf8(text, i);
    key.assign(text.substr(i, n));
    const auto it = index_.find(key);
    // A special token's own entry is not an ordinary character, even if it is one code point long.
    if (it != index_.end() && !is_special(it->second)) {
      ids.push_back(it->second);
    } else if (unk_) {
      ids.push_back(*unk_);
    } else {
      throw_input_error("character " + describe_char(text, i) + " at byte offset " + std::to_string(i) +
                        " is not in the model's vocabulary");
    }
    i += n;
  }
  return ids;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids) const {
  std::string out;
  for (const auto id : ids) {
    if (id < 0 || id >= size() || is_special(id)) continue;
    out += bytes_[static_cast<std::size_t>(id)];
  }
  return out;
}

std::string Tokenizer::decode_text(std::span<const std::int32_t> ids) const { return utf8::sanitize(decode(ids)); }

std::optional<std::int32_t> Tokenizer::lookup(std::string_view token) const {
  const auto it = index_.find(std::string(token));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::string Tokenizer::piece(std::int32_t id) const {
  if (id < 0 || id >= size()) return "<pad " + std::to_string(id) + ">";
  // A special token's name is text from the model file too: it gets the same escapes, so
  // that one holding ESC, a newline or U+202E cannot drive the terminal or reorder a line.
  const std::string bytes =
      is_special(id) ? utf8::sanitize(bytes_[static_cast<std::size_t>(id)]) : bytes_[static_cast<std::size_t>(id)];
  std::string out;
  char buf[16];
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t n = utf8::sequence_length(bytes, i);
    if (n == 0) {  // a byte of a character this token holds only part of
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(bytes[i]));
      out += buf;
      ++i;
      continue;
    }
    const char32_t cp = utf8::decode_at(bytes, i);
    switch (cp) {
      case U' ':
        out += "\xC2\xB7";
        break;  // ·
      case U'\n':
        out += "\xE2\x86\xB5";
        break;  // ↵
      case U'\t':
        out += "\xE2\x86\x92";
        break;  // →
      case U'\r':
        out += "\\r";
        break;
      default:
        if (cp < 0x20 || cp == 0x7F) {
          std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
          out += buf;
        } else if ((cp >= 0x80 && cp < 0xA0) || (cp > 0x7F && pretok::char_class(cp) == pretok::CharClass::space) ||
                   is_invisible_format(cp)) {
          std::snprintf(buf, sizeof buf, "[U+%04X]", static_cast<unsigned>(cp));  // other spaces, C1 controls, bidi
          out += buf;
        } else {
          out.append(bytes, i, n);
        }
    }
    i += n;
  }
  return out;
}

}  // namespace tinygpt
