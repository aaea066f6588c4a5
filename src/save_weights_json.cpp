// Writes the weights JSON (docs/weights-format.md: version 1, or 2 for a reduced model).
#include <bit>
#include <nlohmann/json.hpp>

#include "architecture.h"
#include "tinygpt/save.h"

namespace tinygpt {

static_assert(std::endian::native == std::endian::little, "b64 tensors are little-endian float32");

namespace {

// Standard base64 with padding, as the reader (weights_json.cpp) expects.
void append_base64(std::string& out, std::span<const unsigned char> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) v |= std::uint32_t{bytes[i + 1]} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
}

std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
}

}  // namespace

std::string weights_json_text(const Model& m) {
  // Version 1 unless a tensor is reduced, so that float32 files stay readable by older builds.
  const bool reduced = m.weight_type != WeightType::f32;
  std::string out = std::string("{\"format\": \"tiny-gpt\", \"version\": ") + (reduced ? "2" : "1") +
                    ",\n\"config\": " + dump(config_json(m.config)) +
                    ",\n\"tokenizer\": " + dump(m.tokenizer.to_json()) + ",\n\"tensors\": {";
  bool first = true;
  for_each_tensor(
      m, [&](const std::string& name, const std::vector<std::int64_t>& shape, std::span<const float> values) {
        out += first ? "\n" : ",\n";
        first = false;
        const Matrix* r = reduced_tensor(m, name);
        out += dump(nlohmann::ordered_json(name)) + ": {\"shape\": " + dump(nlohmann::ordered_json(shape)) +
               ", \"dtype\": \"" + (r ? to_string(r->type) : "f32") + "\", \"b64\": \"";
        if (r) append_base64(out, r->packed);
        else append_base64(out, std::span(reinterpret_cast<const unsigned char*>(values.data()), values.size_bytes()));
        out += "\"}";
      });
  out += "\n}}\n";
  return out;
}

}  // namespace tinygpt
