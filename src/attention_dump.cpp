#include "tinygpt/attention_dump.h"

#include <algorithm>

#include "index_selection.h"
#include "tinygpt/decoder.h"
#include "tinygpt/error.h"
#include "tinygpt/generate.h"
#include "utf8.h"

namespace tinygpt {

// Capture: one forward pass with an observer that copies the selected heads' weights.
// The ways to show a dump live next door: attention_table.cpp (text), attention_export.cpp
// (JSON, CSV, .npy), attention_svg.cpp and attention_html.cpp.

std::span<const float> AttentionDump::row(std::size_t layer_slot, std::size_t head_slot, int query) const {
  const auto T = static_cast<std::size_t>(n_tokens());
  const std::size_t at = ((layer_slot * heads.size() + head_slot) * T + static_cast<std::size_t>(query)) * T;
  return {weights.data() + at, T};
}

int AttentionDump::strongest_key(std::size_t layer_slot, std::size_t head_slot, int query) const {
  const auto r = row(layer_slot, head_slot, query);
  // Only keys up to the query: the masked zeros can never win, even against an all-zero row.
  return static_cast<int>(std::max_element(r.begin(), r.begin() + query + 1) - r.begin());
}

namespace {

// Refuses a dump larger than selection.max_values before any of it is allocated. In 128
// bits: layers x heads x T^2 can pass 2^64 for a model that raises every limit.
void check_size(const AttentionDump& d, const AttentionSelection& selection) {
  using u128 = unsigned __int128;
  const u128 T = static_cast<u128>(d.n_tokens()), heads = static_cast<u128>(d.layers.size()) * d.heads.size();
  const u128 values = heads * T * (T + (selection.qkv ? 3 * static_cast<u128>(d.head_dim) : 0));
  if (values <= selection.max_values) return;
  const std::string count = values > UINT64_MAX ? "more than 2^64" : std::to_string(static_cast<std::uint64_t>(values));
  throw Error(ErrorKind::input,
              "the dump would hold " + count + " values (" + std::to_string(d.layers.size()) + " layers x " +
                  std::to_string(d.heads.size()) + " heads x " + std::to_string(d.n_tokens()) + "^2 tokens" +
                  (selection.qkv ? ", with q, k and v" : "") + "), more than the limit of " +
                  std::to_string(selection.max_values) +
                  ": pick fewer layers or heads, a shorter sentence, or raise max_values",
              "max_values");
}

}  // namespace

AttentionDump capture_attention(const Model& model, std::string_view sentence, const AttentionSelection& selection) {
  const Config& c = model.config;
  const Tokenizer& tok = model.tokenizer;
  AttentionDump d;
  d.n_layer = c.n_layer;
  d.n_head = c.n_head;
  d.head_dim = c.head_dim();
  d.layers = resolve_indices(selection.layers, c.n_layer, "layer");
  d.heads = resolve_indices(selection.heads, c.n_head, "head");
  d.ids = prompt_ids(model, sentence);
  d.sentence = utf8::sanitize(sentence);
  for (const auto id : d.ids) {
    d.tokens.push_back(tok.token_text(id));
    d.pieces.push_back(tok.piece(id));
  }

  const auto T = static_cast<std::size_t>(d.n_tokens());
  const auto hd = static_cast<std::size_t>(d.head_dim);
  const std::size_t n_heads = d.layers.size() * d.heads.size();
  check_size(d, selection);
  d.weights.assign(n_heads * T * T, 0.0f);  // the masked upper triangle stays exactly 0
  if (selection.qkv) {
    d.q.assign(n_heads * T * hd, 0.0f);
    d.k.assign(n_heads * T * hd, 0.0f);
    d.v.assign(n_heads * T * hd, 0.0f);
  }
  std::vector<int> layer_slot(static_cast<std::size_t>(c.n_layer), -1),
      head_slot(static_cast<std::size_t>(c.n_head), -1);
  for (std::size_t i = 0; i < d.layers.size(); ++i)
    layer_slot[static_cast<std::size_t>(d.layers[i])] = static_cast<int>(i);
  for (std::size_t i = 0; i < d.heads.size(); ++i)
    head_slot[static_cast<std::size_t>(d.heads[i])] = static_cast<int>(i);

  const AttentionObserver observer = [&](const AttentionEvent& e) {
    const int ls = layer_slot[static_cast<std::size_t>(e.layer)], hs = head_slot[static_cast<std::size_t>(e.head)];
    if (ls < 0 || hs < 0) return;
    const std::size_t slot = static_cast<std::size_t>(ls) * d.heads.size() + static_cast<std::size_t>(hs);
    const auto pos = static_cast<std::size_t>(e.query_pos);
    std::copy(e.weights.begin(), e.weights.end(),
              d.weights.begin() + static_cast<std::ptrdiff_t>((slot * T + pos) * T));
    if (selection.qkv) {
      // Position p's own key and value are in the cache by the time p is the query.
      const std::size_t at = (slot * T + pos) * hd;
      const float* key = e.keys + pos * static_cast<std::size_t>(e.kv_stride);
      const float* value = e.values + pos * static_cast<std::size_t>(e.kv_stride);
      std::copy(e.q.begin(), e.q.end(), d.q.begin() + static_cast<std::ptrdiff_t>(at));
      std::copy(key, key + hd, d.k.begin() + static_cast<std::ptrdiff_t>(at));
      std::copy(value, value + hd, d.v.begin() + static_cast<std::ptrdiff_t>(at));
    }
  };
  State state = make_state(c, d.n_tokens());
  ForwardOptions options;
  options.observer = &observer;
  forward(model, state, d.ids, options);
  return d;
}

}  // namespace tinygpt
