#include "utf8.h"

#include <cstdint>

namespace tinygpt::utf8 {
namespace {

struct Lead {
  std::size_t length;    // bytes in the whole sequence, 0 for an invalid lead byte
  unsigned char lo, hi;  // allowed range of the second byte (rules out overlongs and surrogates)
};

Lead classify(unsigned char b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// How many bytes from s[i] form a valid start of a sequence (the "maximal subpart"),
// and how long the complete sequence would be.
std::size_t valid_prefix(std::string_view s, std::size_t i, std::size_t& expected) {
  const Lead lead = classify(static_cast<unsigned char>(s[i]));
  expected = lead.length;
  if (lead.length <= 1) return lead.length;
  std::size_t n = 1;
  while (n < lead.length && i + n < s.size()) {
    const auto c = static_cast<unsigned char>(s[i + n]);
    const bool ok = (n == 1) ? (c >= lead.lo && c <= lead.hi) : (c >= 0x80 && c <= 0xBF);
    if (!ok) break;
    ++n;
  }
  return n;
}

}  // namespace

std::size_t sequence_length(std::string_view s, std::size_t i) {
  std::size_t expected = 0;
  const std::size_t n = valid_prefix(s, i, expected);
  return (expected != 0 && n == expected) ? n : 0;
}

std::optional<std::size_t> first_invalid(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = sequence_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t expected = 0;
    const std::size_t n = valid_prefix(s, i, expected);
    if (expected != 0 && n == expected) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append(kReplacement);
      i += (n == 0 ? 1 : n);
    }
  }
  return out;
}

char32_t decode_at(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  const std::size_t n = sequence_length(s, i);
  if (n <= 1) return b0;
  char32_t cp = b0 & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

std::string encode(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

static int code_point_width(char32_t cp) {
  if (cp == 0) return 0;
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
      (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0xE0100 && cp <= 0xE01EF))
    return 0;
  const bool wide =
      (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0x33FF) ||
      (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
      (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
      (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
  return wide ? 2 : 1;
}

int display_width(std::string_view s) {
  int width = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = sequence_length(s, i);
    if (n == 0) {  // shown as U+FFFD
      width += 1;
      ++i;
      continue;
    }
    width += code_point_width(decode_at(s, i));
    i += n;
  }
  return width;
}

std::string StreamDecoder::push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  std::size_t i = 0;
  while (i < pending_.size()) {
    std::size_t expected = 0;
    const std::size_t n = valid_prefix(pending_, i, expected);
    if (expected != 0 && n == expected) {
      out.append(pending_, i, n);
      i += n;
    } else if (expected != 0 && i + n == pending_.size()) {
      break;  // a character still arriving: wait for the next token
    } else {
      out.append(kReplacement);
      i += (n == 0 ? 1 : n);
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::finish() {
  std::string out = pending_.empty() ? std::string() : std::string(kReplacement);
  pending_.clear();
  return out;
}

}  // namespace tinygpt::utf8
