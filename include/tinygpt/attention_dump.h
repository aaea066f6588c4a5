#pragma once
// Every layer's and head's attention for one sentence, captured from a single forward pass
// through the observer hook (decoder.h), and the ways to show it: a text table, JSON, an
// SVG grid of heatmaps, a self-contained HTML viewer, CSV and NumPy .npy.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tinygpt/model.h"

namespace tinygpt {

// Which layers and heads to keep (empty: all). Keeping fewer saves memory on long inputs;
// the forward pass itself always runs every layer.
struct AttentionSelection {
  std::vector<int> layers;
  std::vector<int> heads;
  bool qkv = false;  // also keep each head's q, k and v vectors
  // The most values (layers x heads x T x T weights, plus T x head_dim each for q, k and v)
  // a dump may hold. Each takes 4 bytes here and about 10 in JSON, more while the JSON is
  // built: 64 layers x 64 heads over 101 tokens would be 42 million, 1.5 GB of memory.
  std::uint64_t max_values = std::uint64_t{1} << 22;
};

// "Slot" below means an index into `layers` / `heads`, not a layer or head number.
struct AttentionDump {
  std::string sentence;
  std::vector<std::int32_t> ids;    // [T] bos (when the model has one) + encode(sentence)
  std::vector<std::string> tokens;  // [T] each token's text, valid UTF-8 (special tokens by name)
  std::vector<std::string> pieces;  // [T] printable labels (Tokenizer::piece: spaces shown as ·)
  int n_layer = 0, n_head = 0;      // the model's
  int head_dim = 0;
  std::vector<int> layers, heads;  // captured layer and head numbers, ascending
  // [layers][heads][T query][T key]: softmax(q k^T / sqrt(d)) after the causal mask;
  // every key after the query holds exactly 0.
  std::vector<float> weights;
  // Only with AttentionSelection::qkv: [layers][heads][T][head_dim] each.
  std::vector<float> q, k, v;

  int n_tokens() const { return static_cast<int>(ids.size()); }
  // The T weights of one query row.
  std::span<const float> row(std::size_t layer_slot, std::size_t head_slot, int query) const;
  // The key a query attends to most (the first one on a tie).
  int strongest_key(std::size_t layer_slot, std::size_t head_slot, int query) const;
};

// Runs bos + encode(sentence) through the model once. Throws Error(input) as prompt_ids()
// does (empty sentence without bos, longer than n_ctx), Error(input) with parameter
// "max_values" when the dump would hold more values than that (checked before anything is
// computed), and Error(usage) naming --layer or --head with the valid range when a
// selected index does not exist.
AttentionDump capture_attention(const Model& model, std::string_view sentence,
                                const AttentionSelection& selection = {});

// One matrix per captured head (query tokens down, key tokens across, padded by display
// width, the strongest weight of each row marked with '*', the masked triangle left blank),
// each followed by its summary line.
std::string attention_table(const AttentionDump& dump);
// "L0 H1: 床→<bos> 前→床 ..." for every captured head: each query's strongest key.
std::string attention_summary(const AttentionDump& dump);

// {"sentence", "tokens", "pieces", "ids", "n_layer", "n_head", "head_dim", "layers", "heads",
//  "attention": [layer][head][query][key]} and with qkv "scale", "q", "k", "v" [layer][head][T][head_dim].
nlohmann::json attention_json(const AttentionDump& dump);

// Heatmaps, layers down and heads across, with token labels and a colour scale.
std::string attention_svg(const AttentionDump& dump);
// One page with its data, script and styles inline (no network): pick a layer and head,
// hover a token to see what it attends to.
std::string attention_html(const AttentionDump& dump);
// layer,head,query,key,query_token,key_token,weight: one row per cell, masked ones as 0.
std::string attention_csv(const AttentionDump& dump);
// NumPy .npy (version 1.0), little-endian float32, shape (layers, heads, T, T).
std::string attention_npy(const AttentionDump& dump);

}  // namespace tinygpt
