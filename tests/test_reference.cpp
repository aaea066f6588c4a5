// The engine against tools/reference.py (PyTorch, float64): logits, attention,
// greedy ids, log-probabilities and stop reasons, for every fixture case.
#include <catch2/catch.hpp>
#include <cmath>

#include "helpers.h"
#include "random_model.h"
#include "thread_pool.h"
#include "tinygpt/decoder.h"
#include "tinygpt/generate.h"
#include "tinygpt/load.h"
#include "tinygpt/weight_type.h"

using namespace tinygpt;
using tinygpt::test::fixture;
using tinygpt::test::read_json;

namespace {

struct Worst {
  double logits = 0, attention = 0, logprob = 0;
};

std::vector<std::int32_t> ids_of(const nlohmann::json& j) { return j.get<std::vector<std::int32_t>>(); }

void check_case(const nlohmann::json& c, Worst& worst) {
  const Model model = load_model(fixture("ref/" + c["model"].get<std::string>()));
  const auto golden = read_json(fixture("ref/" + c["golden"].get<std::string>()));
  const int V = model.config.vocab_size;
  for (const auto& run : golden["runs"]) {
    const std::string prompt = run["prompt"];
    INFO("case " << c["name"].get<std::string>() << ", prompt \"" << prompt << "\"");
    const auto input = ids_of(run["input_ids"]);
    REQUIRE(prompt_ids(model, prompt) == input);

    // All-position logits and attention from one batched pass, with an observer.
    const int T = static_cast<int>(input.size());
    std::vector<float> att(static_cast<std::size_t>(model.config.n_layer * model.config.n_head * T * T), -1.0f);
    AttentionObserver observer = [&](const AttentionEvent& e) {
      for (int k = 0; k < T; ++k)
        att[static_cast<std::size_t>(((e.layer * model.config.n_head + e.head) * T + e.query_pos) * T + k)] =
            k < static_cast<int>(e.weights.size()) ? e.weights[static_cast<std::size_t>(k)] : 0.0f;
    };
    State state = make_state(model.config, T);
    ForwardOptions opts;
    opts.all_logits = true;
    opts.observer = &observer;
    const auto logits = forward(model, state, input, opts);
    REQUIRE(logits.size() == static_cast<std::size_t>(T * V));
    for (int t = 0; t < T; ++t)
      for (int v = 0; v < V; ++v) {
        const double want = run["logits"][t][v];
        const double diff = std::fabs(logits[static_cast<std::size_t>(t * V + v)] - want);
        worst.logits = std::max(worst.logits, diff);
        REQUIRE(diff < 1e-4);
      }
    for (int l = 0; l < model.config.n_layer; ++l)
      for (int h = 0; h < model.config.n_head; ++h)
        for (int q = 0; q < T; ++q) {
          double row_sum = 0;
          for (int k = 0; k < T; ++k) {
            const float got = att[static_cast<std::size_t>(((l * model.config.n_head + h) * T + q) * T + k)];
            const double want = run["attention"][l][h][q][k];
            worst.attention = std::max(worst.attention, std::fabs(got - want));
            REQUIRE(std::fabs(got - want) < 1e-5);
            if (k > q) REQUIRE(got == 0.0f);  // causal mask: exactly zero
            row_sum += got;
          }
          REQUIRE(std::fabs(row_sum - 1.0) < 1e-6);
        }

    // Greedy generation through the real decode loop (prefill + KV cache).
    GenerateParams params;
    params.max_new_tokens = run["greedy"]["max_new_tokens"];
    params.sampler.temperature = 0;
    const GenerateResult r = generate(model, prompt, params);
    CHECK(r.ids == ids_of(run["greedy"]["ids"]));
    CHECK(std::string(to_string(r.stop)) == run["greedy"]["stop_reason"].get<std::string>());
    CHECK(model.tokenizer.decode(r.ids) == run["greedy"]["text"].get<std::string>());
    REQUIRE(r.steps.size() == run["greedy"]["logprobs"].size());
    for (std::size_t i = 0; i < r.steps.size(); ++i) {
      const double diff = std::fabs(r.steps[i].logprob - run["greedy"]["logprobs"][i].get<double>());
      worst.logprob = std::max(worst.logprob, diff);
      CHECK(diff < 1e-4);
    }
  }
}

}  // namespace

TEST_CASE("forward pass, attention and greedy decoding match the PyTorch reference", "[reference]") {
  const auto index = read_json(fixture("ref/index.json"));
  REQUIRE(index["cases"].size() >= 8);
  Worst worst;
  for (const auto& c : index["cases"]) {
    DYNAMIC_SECTION(c["name"].get<std::string>()) { check_case(c, worst); }
  }
  WARN("largest differences vs reference: logits " << worst.logits << ", attention " << worst.attention << ", logprob "
                                                   << worst.logprob);
}

TEST_CASE("decoding with the KV cache gives the logits of recomputing the whole sequence", "[reference][kv]") {
  const auto index = read_json(fixture("ref/index.json"));
  for (const auto& c : index["cases"]) {
    const Model model = load_model(fixture("ref/" + c["model"].get<std::string>()));
    const auto golden = read_json(fixture("ref/" + c["golden"].get<std::string>()));
    for (const auto& run : golden["runs"]) {
      const auto input = ids_of(run["input_ids"]);
      const int T = static_cast<int>(input.size());
      const int V = model.config.vocab_size;
      State full = make_state(model.config, T);
      ForwardOptions all;
      all.all_logits = true;
      const auto batched = forward(model, full, input, all);
      const std::vector<float> expected(batched.begin(), batched.end());
      State step = make_state(model.config, T);
      for (int t = 0; t < T; ++t) {
        const std::int32_t one[1] = {input[static_cast<std::size_t>(t)]};
        const auto logits = forward(model, step, one);
        for (int v = 0; v < V; ++v)
          REQUIRE(std::fabs(logits[static_cast<std::size_t>(v)] - expected[static_cast<std::size_t>(t * V + v)]) <
                  1e-5);
      }
    }
  }
}

TEST_CASE("a later token never changes the logits of an earlier one (causal mask)", "[reference][mask]") {
  const Model model = load_model(fixture("ref/gelu_3layer_4head.model.json"));
  const int V = model.config.vocab_size;
  std::vector<std::int32_t> a = {1, 2, 3, 4, 5}, b = {1, 2, 3, 9, 7};
  ForwardOptions all;
  all.all_logits = true;
  State sa = make_state(model.config, 5), sb = make_state(model.config, 5);
  const auto la = forward(model, sa, a, all);
  const std::vector<float> first(la.begin(), la.end());
  const auto lb = forward(model, sb, b, all);
  for (int i = 0; i < 3 * V; ++i) REQUIRE(first[static_cast<std::size_t>(i)] == lb[static_cast<std::size_t>(i)]);
  bool later_differs = false;
  for (int i = 3 * V; i < 5 * V; ++i)
    later_differs |= first[static_cast<std::size_t>(i)] != lb[static_cast<std::size_t>(i)];
  REQUIRE(later_differs);
}

TEST_CASE("a restarted state gives a fresh state's logits, bit for bit", "[reference][restart]") {
  const Model model = load_model(fixture("ref/gelu_3layer_4head.model.json"));
  ForwardOptions all;
  all.all_logits = true;
  // A long first sequence (the cache holds 7 positions of it), then a shorter, different one
  // in the same state: nothing of the first may leak into the second.
  const std::vector<std::int32_t> first = {9, 8, 7, 6, 5, 4, 3}, second = {1, 2, 3, 4};
  State fresh = make_state(model.config, 7);
  const auto expected_span = forward(model, fresh, second, all);
  const std::vector<float> expected(expected_span.begin(), expected_span.end());

  State reused = make_state(model.config, 7);
  forward(model, reused, first, all);
  REQUIRE(reused.n_past == 7);
  restart(reused);
  REQUIRE(reused.n_past == 0);
  const auto got = forward(model, reused, second, all);
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) REQUIRE(got[i] == expected[i]);
  // And decoding on from there matches the fresh state's next step.
  const std::int32_t next[1] = {5};
  const auto a = forward(model, fresh, next);
  const std::vector<float> fresh_next(a.begin(), a.end());
  const auto b = forward(model, reused, next);
  for (std::size_t i = 0; i < fresh_next.size(); ++i) REQUIRE(b[i] == fresh_next[i]);
}

TEST_CASE("a prompt's last logits and its cache are the same bits when the last layer skips the other rows",
          "[reference][tail]") {
  // Without all_logits and without an observer, forward() runs the last layer past its
  // keys and values on the last two rows only (decoder.cpp). That may change nothing: not the
  // logits, in any type, ISA or thread count, nor the cache the next token reads.
  using tinygpt::test::all_isas;
  using tinygpt::test::random_model;
  ThreadPool two(2);
  // head_dim 16 (queries in pairs on AVX-512) and 15 (one at a time); 3 layers.
  for (const int D : {48, 45}) {
    for (const WeightType type : {WeightType::f32, WeightType::f16, WeightType::q8_0}) {
      Model m = random_model(D, 3, 3, 70, 97, 16, Activation::gelu_tanh, true, 7);
      if (type != WeightType::f32) reduce_weights(m, type);
      for (const auto isa : all_isas()) {
        for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &two}) {
          for (const int T : {3, 4, 5, 8, 13}) {
            INFO("D=" << D << " " << to_string(type) << " " << kernels::to_string(isa) << (pool ? " 2 threads" : "")
                      << " T=" << T);
            std::vector<std::int32_t> ids;
            for (int t = 0; t < T; ++t) ids.push_back((5 + 11 * t) % 97);
            // With an observer the whole last layer runs (it sees every query), so that is the
            // result to keep. (all_logits is not: its last row goes through the batch kernels
            // of the output layer, one row alone through the decoding ones.)
            ForwardOptions last, watched;
            last.isa = watched.isa = isa;
            last.pool = watched.pool = pool;
            const AttentionObserver nothing = [](const AttentionEvent&) {};
            watched.observer = &nothing;
            State sw = make_state(m.config, T + 1), sl = make_state(m.config, T + 1);
            const auto lw = forward(m, sw, ids, watched);
            const std::vector<float> want(lw.begin(), lw.end());
            REQUIRE(want.size() == static_cast<std::size_t>(m.config.vocab_size));
            const auto ll = forward(m, sl, ids, last);
            REQUIRE(std::vector<float>(ll.begin(), ll.end()) == want);
            // The next token reads every layer's cache, the last one's included.
            const std::int32_t next[1] = {42};
            const auto nw = forward(m, sw, next, last);
            const std::vector<float> want_next(nw.begin(), nw.end());
            const auto nl = forward(m, sl, next, last);
            REQUIRE(std::vector<float>(nl.begin(), nl.end()) == want_next);
          }
        }
      }
    }
  }
}
