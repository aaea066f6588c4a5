#pragma once
// One prediction, step by step, with the real numbers: what `tiny-gpt trace` shows.
//
// The tutorials' chain for the token predicted after position P: the tokens -> the
// embedding (one-hot x wte = a row, plus the positional vector) -> in each layer: layer
// norm, Q/K/V for each head, scores q.k, the causal mask, softmax, the weighted sum of V,
// the heads joined and projected, the residual, the MLP, the residual -> the final layer
// norm -> logits -> softmax -> the sampler's choice. The logit lens adds, for every layer,
// what the model would predict if the residual stream went straight to the output there.
//
// Data first, views after (as attention_dump.h): trace_prediction() computes a Trace, and
// trace_text() / trace_json() show it. Every vector is a plain std::vector<float> of the
// sizes in the comments: D = n_embd, hd = head_dim, P = the position.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tinygpt/model.h"
#include "tinygpt/sampler.h"

namespace tinygpt {

struct TraceOptions {
  int position = -1;        // the position whose next token is predicted; -1: the last token
  std::vector<int> layers;  // layers to keep (empty: all); every layer is computed either way
  std::vector<int> heads;   // heads to keep (empty: all)
  int top = 10;             // how many tokens the top lists hold
  bool lens = true;         // compute the logit lens
  SamplerParams sampler;    // the sampling step, as generate would draw it
  std::uint64_t seed = 0;
};

struct TraceToken {
  std::int32_t id = 0;
  std::string text;   // Tokenizer::token_text: valid UTF-8, special tokens by name
  std::string piece;  // Tokenizer::piece: printable in a table (a space shown as ·)
};

struct TraceTop {
  std::int32_t id = 0;
  std::string token;
  std::string piece;
  float logit = 0;
  double logprob = 0;  // log_softmax of the logits, in double precision
};

struct TraceCandidate {
  std::int32_t id = 0;
  std::string token, piece;
  double prob = 0;
};

struct TraceHead {
  int head = 0;
  std::vector<float> q;               // [hd] the query of position P
  std::vector<std::vector<float>> k;  // [P+1][hd] the keys of positions 0..P
  std::vector<std::vector<float>> v;  // [P+1][hd] the values
  std::vector<float> scores;          // [P+1] q.k before scaling; later positions are masked (never read)
  float scale = 0;                    // 1 / sqrt(hd)
  std::vector<float> weights;         // [P+1] softmax(scores * scale): they sum to 1
  std::vector<float> output;          // [hd] sum_j weights[j] * v[j]
};

struct TraceLayer {
  int layer = 0;
  std::vector<float> input;                // [D] the residual stream entering the layer
  std::vector<float> ln_1;                 // [D]
  std::vector<TraceHead> heads;            // the kept heads
  std::vector<float> attn_output;          // [D] heads joined, times c_proj, plus its bias
  std::vector<float> residual_after_attn;  // [D] input + attn_output
  std::vector<float> ln_2;                 // [D]
  std::vector<float> mlp_output;           // [D] c_proj(act(c_fc(ln_2)))
  std::vector<float> output;               // [D] residual_after_attn + mlp_output: the stream leaving the layer
  std::vector<TraceTop> lens_top;          // [top] ln_f(output) x W_out^T, its best tokens (with TraceOptions::lens)
};

struct TraceSampling {
  SamplerParams params;
  std::uint64_t seed = 0;
  // The distribution at each stage, most likely first (at most `top` entries shown each):
  std::vector<TraceCandidate> after_temperature;  // softmax(logits / T) over the whole vocabulary
  std::vector<TraceCandidate> after_top_k;        // the k best, renormalised (all when top_k is 0)
  std::vector<TraceCandidate> after_top_p;        // the nucleus, renormalised: what the draw picks from
  std::size_t candidates = 0;                     // how many tokens the draw picks from in all
  double draw = 0;                                // the uniform number in [0, 1) (not drawn when greedy)
  bool greedy = false;                            // temperature 0 or top_k 1: the argmax, no draw
  TraceToken chosen;
  bool is_eos = false;
};

struct Trace {
  std::string text;                // the text as given (invalid UTF-8 shown as U+FFFD)
  std::vector<TraceToken> tokens;  // bos (when the model has one) + the text's tokens
  int position = 0;                // P
  int n_layer = 0, n_head = 0, head_dim = 0;
  // The embedding of the token at P: one-hot(id) x wte picks row `id`.
  std::int32_t token_id = 0;
  std::vector<float> token_row;     // [D] wte[id]
  std::vector<float> position_row;  // [D] wpe[P], learned or the sin/cos table
  std::vector<float> sum;           // [D] their sum: the input of layer 0
  Positional positional = Positional::learned;
  std::vector<TraceLayer> layers;  // the kept layers
  std::vector<float> final_ln;     // [D] ln_f(the last layer's output)
  std::vector<TraceTop> top;       // [top] the best logits
  double entropy = 0;              // of softmax(logits), in nats
  TraceSampling sampling;
};

// Runs bos + encode(text) and records the prediction made at `options.position`. Throws
// Error(usage) naming the parameter for a position, layer or head out of range, and
// Error(input) as prompt_ids() does (an empty text on a model without bos, too long).
Trace trace_prediction(const Model& model, std::string_view text, const TraceOptions& options = {});

// For a terminal: each step with a one-line explanation, vectors abbreviated (their first
// values and their norm).
std::string trace_text(const Trace& trace);

// Every number in full: {"tokens", "position", "embedding", "layers": [...], "final_ln",
// "top", "entropy", "sampling"} (docs/how-it-works.md shows the shape).
nlohmann::json trace_json(const Trace& trace);

// One self-contained page (no network) that walks through the same steps: heatmaps of the
// heads' weights, bar charts of the top tokens, the lens and the sampler, numbers on hover.
std::string trace_html(const Trace& trace);

}  // namespace tinygpt
