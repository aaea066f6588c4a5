#pragma once
// Cross-entropy of a model on text, scored the way training scores its validation set,
// so the C++ engine and PyTorch can be compared on the same held-out slice.
#include <cstdint>
#include <string>
#include <vector>

#include "tinygpt/model.h"

namespace tinygpt {

struct Perplexity {
  double nll = 0;               // summed negative log-likelihood, nats
  std::int64_t tokens = 0;      // predicted tokens
  std::int64_t characters = 0;  // code points of the predicted text (special tokens count 0)
  std::int64_t bytes = 0;       // UTF-8 bytes of the predicted text

  double per_token() const { return tokens ? nll / static_cast<double>(tokens) : 0.0; }
  double per_character() const { return characters ? nll / static_cast<double>(characters) : 0.0; }
  double per_byte() const { return bytes ? nll / static_cast<double>(bytes) : 0.0; }
};

// Each example is scored on its own as [bos] + tokens + [eos] (each when the model has
// it), in windows of n_ctx tokens with a fresh context per window: window s predicts
// ids[s+1 .. s+n_ctx] from ids[s .. s+n_ctx-1].
Perplexity evaluate(const Model& model, const std::vector<std::string>& examples);

}  // namespace tinygpt
