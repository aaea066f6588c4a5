#pragma once
// The forward pass. `State` holds everything that changes while running (activations
// and the KV cache) so that `Model` stays read-only and shareable.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tinygpt/attention.h"
#include "tinygpt/isa.h"
#include "tinygpt/model.h"

namespace tinygpt {

class ThreadPool;  // the library's own pool (private); make one with make_thread_pool

// A pool of `threads` threads (<= 0: one per core) for ForwardOptions::pool; keep it as
// long as you call forward() with it. Throws Error(usage) for more than 256 threads.
std::shared_ptr<ThreadPool> make_thread_pool(int threads);

struct State {
  int capacity = 0;  // positions the KV cache can hold (<= n_ctx)
  int n_past = 0;    // positions already in the cache

  // KV cache: [L][H][capacity][head_dim]: each head's keys (and values) are one contiguous
  // run, so attention streams through them (AttentionEvent::kv_stride is head_dim).
  std::vector<float> key_cache, value_cache;

  // Activations for a batch of T tokens (resized as needed, never shrunk).
  std::vector<float> x;       // [T][D] residual stream
  std::vector<float> xn;      // [T][D] layer-norm output
  std::vector<float> qkv;     // [T][3D]
  std::vector<float> att;     // [T][D] heads concatenated
  std::vector<float> hidden;  // [T][F] MLP hidden
  std::vector<float> scores;  // [threads][capacity] attention weights of one head, per thread
                              // ([threads][4][capacity] when queries go in groups)
  std::vector<float> logits;  // [T][V] or [V]
  std::vector<float> packed;  // a batch as the kernels rearrange it (kernels::Ops::pack_batch)
};

// A state whose cache holds `capacity` positions (clamped to n_ctx); size it to the
// prompt plus the tokens to generate, so a huge n_ctx does not allocate a huge cache.
State make_state(const Config& config, int capacity);

// Starts a new sequence in `state`, keeping its cache and buffers: the next prompt of a
// session, the next perplexity window, the next repetition of a benchmark. Nothing at or past
// n_past is ever read, so the cache needs no clearing; and the buffers, already grown and
// touched, cost no allocation, zero-filling or page faults in the next prefill.
inline void restart(State& state) { state.n_past = 0; }

struct ForwardOptions {
  bool all_logits = false;                      // logits for every token, else only the last
  const AttentionObserver* observer = nullptr;  // called per layer, head and query; null costs nothing
  // Threads to share the work with (null: the calling thread alone). The results do not
  // depend on the thread count. With an observer, attention runs on the calling thread so
  // that the observer is called in order and never concurrently.
  ThreadPool* pool = nullptr;
  kernels::Isa isa = kernels::default_isa();  // which kernels (isa.h); same results within 1e-5
};

// Runs `tokens` at positions state.n_past, n_past+1, ... and appends their keys and values
// to the cache. Returns logits: [T][V] row-major with all_logits, else [V] for the last token.
// Throws Error(input) if the tokens do not fit in the state's capacity or an id is out of range.
std::span<const float> forward(const Model& model, State& state, std::span<const std::int32_t> tokens,
                               const ForwardOptions& options = {});

}  // namespace tinygpt
