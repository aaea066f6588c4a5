#pragma once
// A few helpers for writing SVG by hand: escaping, numbers, and a font stack that
// renders CJK labels (Noto CJK / WenQuanYi / system fallbacks).
#include <cstdio>
#include <string>
#include <string_view>

namespace tinygpt::svg {

inline constexpr const char* kFontFamily =
    "'DejaVu Sans', 'Noto Sans CJK SC', 'Noto Sans CJK TC', 'WenQuanYi Zen Hei', 'Droid Sans Fallback', sans-serif";

// Escapes text for element content and attribute values (valid UTF-8 expected). XML 1.0
// forbids some characters even when escaped: the control characters other than tab and
// newlines, and the noncharacters U+FFFE and U+FFFF. Each becomes U+FFFD, so any text
// (a token, a file name) still makes a well-formed document.
inline std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += "\xEF\xBF\xBD";
        } else if (s.substr(i, 3) == "\xEF\xBF\xBE" || s.substr(i, 3) == "\xEF\xBF\xBF") {
          out += "\xEF\xBF\xBD";
          i += 2;
        } else {
          out += c;
        }
    }
  }
  return out;
}

// Short, locale-independent number formatting for coordinates.
inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace tinygpt::svg
