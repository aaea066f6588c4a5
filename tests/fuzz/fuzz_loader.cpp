// libFuzzer target: the weights loader on arbitrary bytes.
//
// Every way to fail must be a tinygpt::Error of kind `model`; any other exception
// escaping, a crash, a leak or a sanitizer report is a finding. Small limits keep a
// claimed size from allocating much (the loader must refuse it, not try). A file that
// loads is checked against its config and run through the decoder for a few tokens, so
// odd but valid shapes (one head, head_dim 1, padded vocabularies) reach the forward pass,
// whose logits must be finite (or the pass refuses the model: huge weights overflow).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "tinygpt/decoder.h"
#include "tinygpt/error.h"
#include "tinygpt/load.h"
#include "tinygpt/weight_type.h"

namespace {

void check_model(const tinygpt::Model& m, const tinygpt::LoadOptions& limits) {
  const tinygpt::Config& c = m.config;
  const auto D = static_cast<std::size_t>(c.n_embd), V = static_cast<std::size_t>(c.vocab_size);
  FUZZ_CHECK(c.n_embd % c.n_head == 0);
  FUZZ_CHECK(c.n_ctx <= limits.max_ctx);
  FUZZ_CHECK(m.parameter_count() <= limits.max_parameters);
  FUZZ_CHECK(m.tokenizer.size() <= c.vocab_size);
  FUZZ_CHECK(m.weights.wte.data.size() == V * D);
  FUZZ_CHECK(m.weights.wpe.data.size() == static_cast<std::size_t>(c.n_ctx) * D);
  FUZZ_CHECK(m.weights.layers.size() == static_cast<std::size_t>(c.n_layer));
  // A version 2 file may hold the linear weights reduced (weight_type.h): then its bytes.
  const tinygpt::Matrix& head = m.weights.output();
  if (head.type == tinygpt::WeightType::f32) FUZZ_CHECK(head.data.size() == V * D);
  else FUZZ_CHECK(head.packed.size() == V * tinygpt::row_bytes(head.type, D) && head.type == m.weight_type);
  for (const float v : m.weights.wte.data) FUZZ_CHECK(v == v && v - v == 0);  // finite
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tinygpt::LoadOptions limits;
  limits.max_parameters = 1 << 18;  // 1 MB of float32
  limits.max_ctx = 512;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const tinygpt::Model model = tinygpt::load_model_from_text(text, "fuzz.json", limits);
    check_model(model, limits);
    // A few tokens through the decoder: the first id, the last real one, a padded one.
    std::vector<std::int32_t> ids = {0, model.tokenizer.size() - 1, model.config.vocab_size - 1};
    ids.resize(std::min<std::size_t>(ids.size(), static_cast<std::size_t>(model.config.n_ctx)));
    tinygpt::State state = tinygpt::make_state(model.config, static_cast<int>(ids.size()));
    const auto logits = tinygpt::forward(model, state, ids);
    FUZZ_CHECK(logits.size() == static_cast<std::size_t>(model.config.vocab_size));
    // Weights that overflow float32 on the way are a model error; what comes back is finite.
    for (const float v : logits) FUZZ_CHECK(v == v && v - v == 0);
  } catch (const tinygpt::Error& e) {
    FUZZ_CHECK(e.kind() == tinygpt::ErrorKind::model);
  }
  return 0;
}
