#pragma once
// A small pull scanner over JSON text. The weights loader walks the file with it so
// that millions of numbers go straight into float buffers (no DOM, no per-number node),
// while small sub-objects (config, tokenizer) are cut out as text and handed to
// nlohmann::json. Every error names the source and the byte offset.
#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace tinygpt {

// Nested arrays/objects deeper than this are not ours and would only risk the stack.
inline constexpr int kMaxJsonDepth = 64;

// "WHERE: malformed JSON: nested deeper than 64 levels", thrown as Error(model).
[[noreturn]] void throw_nested_too_deep(const std::string& where);
// "WHERE has the key "k" twice" (k as a JSON string), thrown as Error(model).
[[noreturn]] void throw_duplicate_key(const std::string& where, const std::string& key);

// nlohmann::json::parse, except that an object holding one key twice is refused with a
// model Error "WHERE has the key "k" twice" (nlohmann would silently keep the last, so a
// duplicated config field or vocabulary entry would be lost). Syntax errors still come
// out as nlohmann::json::exception, for the caller to name.
nlohmann::json parse_json_unique_keys(std::string_view text, const std::string& where);

// A UTF-8 byte-order mark at the start of a file is refused, with one message for every
// file we read (model, encoder.json, vocab.bpe): model files never took it, and accepting
// it in one and not another would only confuse. Throws Error(model) naming `where`.
void refuse_byte_order_mark(std::string_view text, const std::string& where);

// "WHERE: ignoring 1000 unknown config fields: "a", "b", "c" and 997 more": one warning
// line for any number of unknown fields, their names escaped and cut short.
std::string unknown_fields_warning(const std::string& where, const std::string& section,
                                   const std::vector<std::string>& keys);

class JsonScanner {
 public:
  JsonScanner(std::string_view text, std::string where) : text_(text), where_(std::move(where)) {}

  void skip_ws() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }
  // Next non-space character, or '\0' at the end of the input.
  char peek() {
    skip_ws();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  bool consume_if(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c, const char* context);
  bool at_end() {
    skip_ws();
    return pos_ >= text_.size();
  }

  std::string read_string();
  // Skips one complete value, checking its syntax, and returns its text.
  std::string_view skip_value();
  // Reads a JSON number as float32. Throws on NaN/Infinity literals, on values that
  // overflow float32 and on anything that is not a number (the message says what it saw).
  float read_float(const std::string& what);
  // The fast path of read_float for the millions of tensor values: reads a plain finite
  // number into `value`, or returns false having consumed nothing, and then read_float
  // says what is wrong. (It saves building the message's text for every value.)
  bool try_read_float(float& value);
  // The raw text of a string value without unescaping (for base64, which has no escapes).
  std::string_view read_raw_string();
  // The same when the length is known: takes the `length` characters after the opening
  // quote if a quote follows them (no search), else returns false and consumes nothing.
  // The caller still checks the characters (a quote inside them is not base64).
  bool read_raw_string_of(std::size_t length, std::string_view& out);

  std::size_t offset() const { return pos_; }
  std::string_view text() const { return text_; }
  const std::string& where() const { return where_; }
  [[noreturn]] void fail(const std::string& message) const;

  // Iterates the members of an object; `on_member(key)` must consume the value.
  template <class F>
  void for_each_member(const char* context, F&& on_member) {
    expect('{', context);
    if (consume_if('}')) return;
    do {
      if (peek() != '"') fail(std::string("expected a member name in ") + context);
      const std::string key = read_string();
      expect(':', context);
      on_member(key);
    } while (consume_if(','));
    expect('}', context);
  }

 private:
  std::string_view text_;
  std::string where_;
  std::size_t pos_ = 0;
  int depth_ = 0;

  std::string_view number_span();
  void skip_literal(std::string_view word);
};

}  // namespace tinygpt
