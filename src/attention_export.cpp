// A dump as data for scripts: JSON, CSV and NumPy .npy.
#include "tinygpt/attention_dump.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "attention_format.h"

namespace tinygpt {

using namespace attention_format;

namespace {

// [layers][heads][T][width] floats as nested arrays.
nlohmann::json nested(const std::vector<float>& values, std::size_t n_layers, std::size_t n_heads, std::size_t T,
                      std::size_t width) {
  nlohmann::json out = nlohmann::json::array();
  std::size_t at = 0;
  for (std::size_t l = 0; l < n_layers; ++l) {
    nlohmann::json layer = nlohmann::json::array();
    for (std::size_t h = 0; h < n_heads; ++h) {
      nlohmann::json head = nlohmann::json::array();
      for (std::size_t t = 0; t < T; ++t) {
        nlohmann::json row = nlohmann::json::array();
        for (std::size_t i = 0; i < width; ++i) row.push_back(float_value(values[at++]));
        head.push_back(std::move(row));
      }
      layer.push_back(std::move(head));
    }
    out.push_back(std::move(layer));
  }
  return out;
}

}  // namespace

nlohmann::json attention_json(const AttentionDump& d) {
  const auto T = static_cast<std::size_t>(d.n_tokens());
  nlohmann::json j = {{"sentence", d.sentence}, {"tokens", d.tokens},   {"pieces", d.pieces},
                      {"ids", d.ids},           {"n_layer", d.n_layer}, {"n_head", d.n_head},
                      {"head_dim", d.head_dim}, {"layers", d.layers},   {"heads", d.heads}};
  j["attention"] = nested(d.weights, d.layers.size(), d.heads.size(), T, T);
  if (!d.q.empty()) {
    // What attend_head computes: weights[q] = softmax_k(q . k * scale).
    j["scale"] = float_value(1.0f / std::sqrt(static_cast<float>(d.head_dim)));
    const auto hd = static_cast<std::size_t>(d.head_dim);
    j["q"] = nested(d.q, d.layers.size(), d.heads.size(), T, hd);
    j["k"] = nested(d.k, d.layers.size(), d.heads.size(), T, hd);
    j["v"] = nested(d.v, d.layers.size(), d.heads.size(), T, hd);
  }
  return j;
}

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string attention_csv(const AttentionDump& d) {
  const int T = d.n_tokens();
  std::string out = "layer,head,query,key,query_token,key_token,weight\n";
  for (std::size_t ls = 0; ls < d.layers.size(); ++ls)
    for (std::size_t hs = 0; hs < d.heads.size(); ++hs)
      for (int q = 0; q < T; ++q) {
        const auto r = d.row(ls, hs, q);
        const std::string prefix =
            std::to_string(d.layers[ls]) + "," + std::to_string(d.heads[hs]) + "," + std::to_string(q) + ",";
        const std::string query = csv_field(d.pieces[static_cast<std::size_t>(q)]);
        for (int k = 0; k < T; ++k)
          out += prefix + std::to_string(k) + "," + query + "," + csv_field(d.pieces[static_cast<std::size_t>(k)]) +
                 "," + float_text(r[static_cast<std::size_t>(k)]) + "\n";
      }
  return out;
}

std::string attention_npy(const AttentionDump& d) {
  const int T = d.n_tokens();
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(d.layers.size()) + ", " +
                       std::to_string(d.heads.size()) + ", " + std::to_string(T) + ", " + std::to_string(T) + "), }";
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64 and ending in '\n'.
  const std::size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  const std::size_t at = out.size();
  out.resize(at + d.weights.size() * sizeof(float));
  for (std::size_t i = 0; i < d.weights.size(); ++i) {
    auto bits = std::bit_cast<std::uint32_t>(d.weights[i]);
    if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
    std::memcpy(out.data() + at + i * sizeof(float), &bits, sizeof bits);
  }
  return out;
}

}  // namespace tinygpt
