#pragma once
// Masked (causal) multi-head self-attention for one query position, reading keys and
// values from the KV cache. Positions after the query are never read, which is the
// causal mask: their weight is exactly zero.
#include <functional>
#include <span>

namespace tinygpt {

// What the forward pass shows an observer, once per (layer, head, query position).
// Spans are only valid during the call.
struct AttentionEvent {
  int layer = 0;
  int head = 0;
  int query_pos = 0;               // absolute position of the query token
  std::span<const float> weights;  // [query_pos + 1]: softmax(q k^T / sqrt(d)) over keys 0..query_pos
  std::span<const float> q;        // [head_dim]
  const float* keys = nullptr;     // key j of this head: keys + j * kv_stride, [head_dim]
  const float* values = nullptr;   // same layout as keys
  int kv_stride = 0;
};
using AttentionObserver = std::function<void(const AttentionEvent&)>;

// One head, one query: out[head_dim] = sum_j softmax_j(q . k_j * scale) v_j for j <= n_keys-1.
// `scores` is scratch of at least n_keys floats and holds the weights afterwards.
void attend_head(float* out, const float* q, const float* keys, const float* values, int kv_stride, int n_keys,
                 int head_dim, float scale, float* scores);

}  // namespace tinygpt
