#include "attention_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "utf8.h"

namespace tinygpt::attention_format {

std::string float_text(float f) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, f);
  return {buf, r.ptr};
}

double float_value(float f) {
  const std::string s = float_text(f);
  double d = 0;
  std::from_chars(s.data(), s.data() + s.size(), d);
  return d;
}

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string head_name(const AttentionDump& d, std::size_t ls, std::size_t hs) {
  return "L" + std::to_string(d.layers[ls]) + " H" + std::to_string(d.heads[hs]);
}

std::string fit(const std::string& s, int max_width) {
  if (utf8::display_width(s) <= max_width) return s;
  std::string out;
  int width = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = std::max<std::size_t>(1, utf8::sequence_length(s, i));
    const std::string ch = s.substr(i, n);
    const int w = utf8::display_width(ch);
    if (width + w > max_width - 1) break;
    out += ch;
    width += w;
    i += n;
  }
  return out + "\xE2\x80\xA6";  // …
}

std::string pad_left(const std::string& s, int width) {
  return std::string(static_cast<std::size_t>(std::max(0, width - utf8::display_width(s))), ' ') + s;
}

std::string pad_right(const std::string& s, int width) {
  return s + std::string(static_cast<std::size_t>(std::max(0, width - utf8::display_width(s))), ' ');
}

namespace {

void weight_rgb(float w, int rgb[3]) {
  static constexpr int lo[3] = {247, 251, 255}, hi[3] = {8, 48, 107};
  const float t = std::clamp(w, 0.0f, 1.0f);
  for (int i = 0; i < 3; ++i) rgb[i] = static_cast<int>(std::lround(lo[i] + (hi[i] - lo[i]) * t));
}

}  // namespace

std::string weight_color(float w) {
  int rgb[3];
  weight_rgb(w, rgb);
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

}  // namespace tinygpt::attention_format
