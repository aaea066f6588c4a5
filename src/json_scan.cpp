#include "json_scan.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "tinygpt/error.h"
#include "utf8.h"

namespace tinygpt {

void throw_nested_too_deep(const std::string& where) {
  throw_model_error(where + ": malformed JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
}

void throw_duplicate_key(const std::string& where, const std::string& key) {
  throw_model_error(where + " has the key " + nlohmann::json(key).dump() + " twice");
}

nlohmann::json parse_json_unique_keys(std::string_view text, const std::string& where) {
  std::vector<std::set<std::string>> keys;  // one per open object
  auto no_duplicates = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    // The same limit as model files: 8 MB of "[[[[..." would otherwise build millions of
    // nested values (and take hundreds of MB) before anything else is checked.
    if ((event == E::object_start || event == E::array_start) && depth >= kMaxJsonDepth) throw_nested_too_deep(where);
    if (event == E::object_start) keys.emplace_back();
    else if (event == E::object_end) keys.pop_back();
    else if (event == E::key && !keys.back().insert(parsed.get<std::string>()).second)
      throw_duplicate_key(where, parsed.get<std::string>());
    return true;
  };
  return nlohmann::json::parse(text, no_duplicates);
}

void refuse_byte_order_mark(std::string_view text, const std::string& where) {
  if (text.starts_with("\xEF\xBB\xBF"))
    throw_model_error(where + " starts with a byte-order mark (bytes EF BB BF): save it as UTF-8 without one");
}

std::string unknown_fields_warning(const std::string& where, const std::string& section,
                                   const std::vector<std::string>& keys) {
  // A few names, as JSON strings (so a control character shows as \u001b) cut to a sane
  // length, then a count: one line however many fields a file has.
  constexpr std::size_t kShown = 3, kMaxName = 40;
  std::string names;
  for (std::size_t i = 0; i < keys.size() && i < kShown; ++i) {
    std::string name = keys[i];
    if (name.size() > kMaxName) {
      std::size_t cut = kMaxName;
      while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
      name = name.substr(0, cut) + "\xE2\x80\xA6";  // …
    }
    names += (i ? ", " : "") + nlohmann::json(name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (keys.size() > kShown) names += " and " + std::to_string(keys.size() - kShown) + " more";
  const std::string what = keys.size() == 1 ? "an unknown " + section + " field "
                                            : std::to_string(keys.size()) + " unknown " + section + " fields: ";
  return where + ": ignoring " + what + names;
}

void JsonScanner::fail(const std::string& message) const {
  if (pos_ >= text_.size()) throw_model_error(where_ + ": malformed JSON: unexpected end of file (" + message + ")");
  throw_model_error(where_ + ": malformed JSON at byte " + std::to_string(pos_) + ": " + message);
}

void JsonScanner::expect(char c, const char* context) {
  if (peek() != c) {
    const char got = pos_ < text_.size() ? text_[pos_] : '\0';
    std::string seen = got == '\0' ? "end of file" : std::string("'") + got + "'";
    fail(std::string("expected '") + c + "' in " + context + ", found " + seen);
  }
  ++pos_;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string JsonScanner::read_string() {
  expect('"', "a string");
  std::string out;
  while (true) {
    if (pos_ >= text_.size()) fail("unterminated string");
    const char c = text_[pos_];
    if (c == '"') {
      ++pos_;
      break;
    }
    if (static_cast<unsigned char>(c) < 0x20) fail("control character inside a string");
    if (c != '\\') {
      const std::size_t n = utf8::sequence_length(text_, pos_);
      if (n == 0) fail("invalid UTF-8 inside a string");
      out.append(text_.substr(pos_, n));
      pos_ += n;
      continue;
    }
    if (++pos_ >= text_.size()) fail("unterminated escape");
    const char e = text_[pos_++];
    switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        auto read4 = [&]() -> char32_t {
          if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
          char32_t v = 0;
          for (int k = 0; k < 4; ++k) {
            const int d = hex_digit(text_[pos_ + k]);
            if (d < 0) fail("bad \\u escape");
            v = v * 16 + static_cast<char32_t>(d);
          }
          pos_ += 4;
          return v;
        };
        char32_t cp = read4();
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (pos_ + 2 > text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') fail("unpaired surrogate");
          pos_ += 2;
          const char32_t lo = read4();
          if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          fail("unpaired surrogate");
        }
        out += utf8::encode(cp);
        break;
      }
      default:
        fail(std::string("bad escape '\\") + e + "'");
    }
  }
  return out;
}

std::string_view JsonScanner::read_raw_string() {
  expect('"', "a string");
  const std::size_t start = pos_;
  const std::size_t end = text_.find('"', pos_);
  if (end == std::string_view::npos) {
    pos_ = text_.size();
    fail("unterminated string");
  }
  pos_ = end + 1;
  return text_.substr(start, end - start);
}

std::string_view JsonScanner::number_span() {
  const std::size_t start = pos_;
  auto digits = [&] {
    const std::size_t s = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    return pos_ - s;
  };
  if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
  if (pos_ < text_.size() && text_[pos_] == '0') {
    ++pos_;
  } else if (digits() == 0) {
    pos_ = start;
    return {};
  }
  if (pos_ < text_.size() && text_[pos_] == '.') {
    ++pos_;
    if (digits() == 0) fail("digits expected after '.'");
  }
  if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (digits() == 0) fail("digits expected in exponent");
  }
  return text_.substr(start, pos_ - start);
}

// Whether a JSON number (as number_span() found it, not zero) is at least 1 in magnitude:
// the position of its first significant digit plus its exponent, added up without
// overflowing however many digits either has.
static bool magnitude_at_least_one(std::string_view num) {
  std::size_t i = num.starts_with('-') ? 1 : 0;
  const std::size_t e = std::min(num.find_first_of("eE"), num.size());
  const std::size_t dot = std::min(num.find('.'), e);
  const std::size_t first = num.find_first_not_of("0.", i);
  if (first == std::string_view::npos || first >= e) return false;  // all zeros
  // Decimal exponent of the first significant digit: 1.5 -> 0, 15 -> 1, 0.015 -> -2.
  std::int64_t lead =
      first < dot ? static_cast<std::int64_t>(dot - first) - 1 : -static_cast<std::int64_t>(first - dot);
  std::int64_t exponent = 0;
  if (e < num.size()) {
    i = e + 1;
    const bool negative = num[i] == '-';
    if (num[i] == '-' || num[i] == '+') ++i;
    for (; i < num.size(); ++i) exponent = std::min<std::int64_t>(exponent * 10 + (num[i] - '0'), 1'000'000'000);
    if (negative) exponent = -exponent;
  }
  return lead + exponent >= 0;
}

float JsonScanner::read_float(const std::string& what) {
  skip_ws();
  const std::string_view num = number_span();
  if (num.empty()) {
    const std::string_view rest = text_.substr(pos_, 9);
    if (rest.starts_with("NaN") || rest.starts_with("Infinity") || rest.starts_with("-Infinity") ||
        rest.starts_with("nan") || rest.starts_with("inf") || rest.starts_with("-inf"))
      throw_model_error(where_ + ": " + what + " is not finite (NaN/Infinity are not allowed in weights)");
    if (pos_ < text_.size() && text_[pos_] == '"')
      throw_model_error(where_ + ": " + what + " is a string, expected a number");
    if (pos_ < text_.size() && (text_[pos_] == '[' || text_[pos_] == '{'))
      throw_model_error(where_ + ": " + what + " is a nested " + (text_[pos_] == '[' ? "array" : "object") +
                        ", expected a number (tensor data is one flat row-major list)");
    fail("expected a number for " + what);
  }
  float value = 0;
  const char* first = num.data();
  // from_chars does not take the leading '+' JSON forbids anyway, but it does take '-'.
  const auto result = std::from_chars(first, first + num.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    // Underflow to zero is harmless; overflow is a value float32 cannot hold. Which one it
    // is comes from the text: a double cannot tell either (1e309 and 1e-400 fail it too).
    if (!magnitude_at_least_one(num)) return 0.0f;
    throw_model_error(where_ + ": " + what + " = " + std::string(num.substr(0, 40)) + (num.size() > 40 ? "..." : "") +
                      " is too large for float32");
  }
  if (result.ec != std::errc() || result.ptr != first + num.size()) fail("bad number for " + what);
  if (!std::isfinite(value)) throw_model_error(where_ + ": " + what + " is not finite");
  return value;
}

bool JsonScanner::try_read_float(float& value) {
  skip_ws();
  const std::size_t start = pos_;
  const std::string_view num = number_span();
  if (num.empty()) return false;
  const auto result = std::from_chars(num.data(), num.data() + num.size(), value);
  if (result.ec != std::errc() || result.ptr != num.data() + num.size() || !std::isfinite(value)) {
    pos_ = start;
    return false;
  }
  return true;
}

bool JsonScanner::read_raw_string_of(std::size_t length, std::string_view& out) {
  if (peek() != '"' || text_.size() - pos_ < length + 2 || text_[pos_ + 1 + length] != '"') return false;
  out = text_.substr(pos_ + 1, length);
  pos_ += length + 2;
  return true;
}

void JsonScanner::skip_literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) fail("unexpected token");
  pos_ += word.size();
}

std::string_view JsonScanner::skip_value() {
  const char c = peek();
  const std::size_t start = pos_;
  switch (c) {
    case '{':
    case '[': {
      if (++depth_ > kMaxJsonDepth) fail("nesting too deep");
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      if (!consume_if(close)) {
        do {
          if (c == '{') {
            if (peek() != '"') fail("expected a member name");
            read_string();
            expect(':', "an object");
          }
          skip_value();
        } while (consume_if(','));
        expect(close, c == '{' ? "an object" : "an array");
      }
      --depth_;
      break;
    }
    case '"':
      read_string();
      break;
    case 't':
      skip_literal("true");
      break;
    case 'f':
      skip_literal("false");
      break;
    case 'n':
      skip_literal("null");
      break;
    case '\0':
      fail("a value was expected");
    default:
      if (number_span().empty()) fail(std::string("unexpected character '") + c + "'");
  }
  return text_.substr(start, pos_ - start);
}

}  // namespace tinygpt
