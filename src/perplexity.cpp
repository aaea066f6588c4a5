#include "tinygpt/perplexity.h"

#include <algorithm>
#include <cmath>

#include "tinygpt/decoder.h"
#include "tinygpt/sampler.h"

namespace tinygpt {

static std::int64_t code_points(const std::string& bytes) {
  std::int64_t n = 0;
  for (const char c : bytes) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

Perplexity evaluate(const Model& model, const std::vector<std::string>& examples) {
  const Tokenizer& tok = model.tokenizer;
  const int n_ctx = model.config.n_ctx;
  const int V = model.config.vocab_size;
  Perplexity p;
  ForwardOptions all;
  all.all_logits = true;
  State state;  // one for every window: restarted, remade only when a window needs more room
  for (const auto& text : examples) {
    std::vector<std::int32_t> ids = tok.encode_with_bos(text);
    if (tok.eos_id()) ids.push_back(*tok.eos_id());
    for (std::size_t s = 0; s + 1 < ids.size(); s += static_cast<std::size_t>(n_ctx)) {
      const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(n_ctx), ids.size() - 1 - s);
      if (state.capacity < static_cast<int>(n)) state = make_state(model.config, static_cast<int>(n));
      else restart(state);
      const auto logits = forward(model, state, std::span(ids).subspan(s, n), all);
      for (std::size_t t = 0; t < n; ++t) {
        // Cross-entropy over all vocab_size logits, as torch's cross_entropy sees them.
        const auto row = logits.subspan(t * static_cast<std::size_t>(V), static_cast<std::size_t>(V));
        const std::int32_t target = ids[s + t + 1];
        p.nll -= log_softmax(row, V)[static_cast<std::size_t>(target)];
        p.tokens += 1;
        if (!tok.is_special(target) || target == tok.unk_id()) {
          const std::string& bytes = tok.token_bytes(target);
          p.bytes += target == tok.unk_id() ? 1 : static_cast<std::int64_t>(bytes.size());
          p.characters += target == tok.unk_id() ? 1 : code_points(bytes);
        }
      }
    }
  }
  return p;
}

}  // namespace tinygpt
