// Each step of the forward pass on hand-checkable numbers.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "kernels.h"
#include "positional.h"
#include "tinygpt/attention.h"

using namespace tinygpt;

TEST_CASE("layer_norm normalises, scales and shifts", "[kernels]") {
  const float x[4] = {1, 2, 3, 4};
  const float w[4] = {1, 2, 1, 1};
  const float b[4] = {0, 0, 1, 0};
  float out[4];
  kernels::layer_norm(out, x, w, b, 4, 0.0f);
  // mean 2.5, biased variance 1.25
  const double s = 1.0 / std::sqrt(1.25);
  CHECK(out[0] == Approx(-1.5 * s));
  CHECK(out[1] == Approx(-0.5 * s * 2));
  CHECK(out[2] == Approx(0.5 * s + 1));
  CHECK(out[3] == Approx(1.5 * s));
  kernels::layer_norm(out, x, w, b, 4, 1.0f);  // epsilon enters under the root
  CHECK(out[3] == Approx(1.5 / std::sqrt(2.25)));
}

TEST_CASE("softmax sums to one, keeps order and survives huge logits", "[kernels]") {
  float x[3] = {1000.0f, 1001.0f, 999.0f};
  kernels::softmax(x, 3);
  CHECK(x[0] + x[1] + x[2] == Approx(1.0));
  CHECK(x[1] > x[0]);
  CHECK(x[0] > x[2]);
  CHECK(x[1] / x[0] == Approx(std::exp(1.0)));
}

TEST_CASE("activations match their formulas", "[kernels]") {
  for (float v : {-3.0f, -0.5f, 0.0f, 0.7f, 2.5f}) {
    float a = v, b = v, c = v;
    kernels::gelu_tanh(&a, 1);
    kernels::gelu_erf(&b, 1);
    kernels::relu(&c, 1);
    CHECK(a == Approx(0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)))).margin(1e-6));
    CHECK(b == Approx(0.5 * v * (1 + std::erf(v / std::sqrt(2.0)))).margin(1e-6));
    CHECK(c == (v > 0 ? v : 0.0f));
  }
  float x = 1.0f;  // the two gelus differ slightly; the test would not notice a swap otherwise
  float y = 1.0f;
  kernels::gelu_tanh(&x, 1);
  kernels::gelu_erf(&y, 1);
  CHECK(x != y);
}

TEST_CASE("linear computes x W^T + b for a batch, with odd sizes", "[kernels]") {
  std::vector<float> values;
  for (int i = 0; i < 15; ++i) values.push_back(static_cast<float>(i % 7) - 3.0f);
  const Matrix w{3, 5, values};
  const std::vector<float> x = {1, -2, 0.5f, 3, 1, 2, 0, -1, 1, 0.25f};  // two rows of 5
  const float bias[3] = {0.5f, -1, 2};
  std::vector<float> out(6);
  kernels::linear(out.data(), x.data(), 2, w, bias);
  for (int t = 0; t < 2; ++t)
    for (int r = 0; r < 3; ++r) {
      double want = bias[r];
      for (int c = 0; c < 5; ++c)
        want += x[static_cast<std::size_t>(t * 5 + c)] * w.data[static_cast<std::size_t>(r * 5 + c)];
      CHECK(out[static_cast<std::size_t>(t * 3 + r)] == Approx(want));
    }
}

TEST_CASE("attend_head weights only the keys it is given (the causal prefix)", "[kernels][mask]") {
  // Two keys, head_dim 2; a third key in memory must not influence the result.
  const float q[2] = {1, 0};
  const float keys[6] = {1, 0, 0, 1, 100, 100};
  const float values[6] = {1, 2, 3, 4, 1000, 1000};
  float out[2], scores[3] = {-1, -1, -1};
  attend_head(out, q, keys, values, 2, 2, 2, 1.0f, scores);
  const double e = std::exp(1.0);
  CHECK(scores[0] == Approx(e / (e + 1)));
  CHECK(scores[1] == Approx(1 / (e + 1)));
  CHECK(scores[2] == -1);  // untouched
  CHECK(out[0] == Approx(scores[0] * 1 + scores[1] * 3));
  CHECK(out[1] == Approx(scores[0] * 2 + scores[1] * 4));
}

TEST_CASE("sinusoidal table follows sin/cos of p / 10000^(2i/D)", "[positional]") {
  std::vector<float> values(50 * 7, -1.0f);
  sinusoidal_table(values, 50, 7);
  const Matrix pe{50, 7, values};
  for (int p : {0, 1, 13, 49})
    for (int i = 0; 2 * i < 7; ++i) {
      const double angle = p / std::pow(10000.0, 2.0 * i / 7);
      CHECK(pe.row(p)[static_cast<std::size_t>(2 * i)] == Approx(std::sin(angle)).margin(1e-7));
      if (2 * i + 1 < 7) CHECK(pe.row(p)[static_cast<std::size_t>(2 * i + 1)] == Approx(std::cos(angle)).margin(1e-7));
    }
}
