// The fast paths against the simple ones: the AVX2 kernels against the portable kernels
// on odd shapes, the threaded forward pass against the single-threaded one, and every
// reference fixture through every path. Both kernel paths run in the same test run
// whatever TINYGPT_KERNELS says (the AVX2 ones only where the CPU has AVX2 and FMA).
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <random>
#include <tuple>
#include <vector>

#include "helpers.h"
#include "kernels.h"
#include "random_model.h"
#include "thread_pool.h"
#include "tinygpt/attention.h"
#include "tinygpt/decoder.h"
#include "tinygpt/error.h"
#include "tinygpt/generate.h"
#include "tinygpt/load.h"

using namespace tinygpt;
using tinygpt::test::fixture;
using tinygpt::test::read_json;

using tinygpt::test::all_isas;
using tinygpt::test::random_model;
using tinygpt::test::random_vector;
using tinygpt::test::relative_diff;
using tinygpt::test::run_forward;

TEST_CASE("the ISA choice: portable always works, AVX2 and AVX-512 only where supported", "[kernels][fast]") {
  CHECK(kernels::cpu_supports(kernels::Isa::portable));
  CHECK(kernels::ops(kernels::Isa::portable).isa == kernels::Isa::portable);
  CHECK(kernels::cpu_supports(kernels::default_isa()));
  for (const auto isa : {kernels::Isa::avx2, kernels::Isa::avx512}) {
    if (kernels::cpu_supports(isa)) CHECK(kernels::ops(isa).isa == isa);
    else CHECK_THROWS_AS(kernels::ops(isa), tinygpt::Error);
  }
  // AVX-512 builds on AVX2: a CPU with the one has the other.
  if (kernels::cpu_supports(kernels::Isa::avx512)) CHECK(kernels::cpu_supports(kernels::Isa::avx2));
  // Without TINYGPT_KERNELS the best the CPU has is chosen.
  if (!std::getenv("TINYGPT_KERNELS"))
    CHECK(kernels::default_isa() == (kernels::cpu_supports(kernels::Isa::avx512) ? kernels::Isa::avx512
                                     : kernels::cpu_supports(kernels::Isa::avx2) ? kernels::Isa::avx2
                                                                                 : kernels::Isa::portable));
}

TEST_CASE("fast linear layers match the portable ones on odd shapes, for any row split", "[kernels][fast]") {
  std::mt19937 rng(7);
  const auto& ref = kernels::ops(kernels::Isa::portable);
  for (const auto isa : all_isas()) {
    const auto& ops = kernels::ops(isa);
    for (int K : {1, 3, 7, 8, 9, 13, 16, 31, 32, 33, 67, 100}) {
      for (int R : {1, 2, 3, 4, 5, 7, 13, 25}) {
        // Batches past the 4-input tiles, several tiles and a ragged last one.
        for (int T : {1, 2, 3, 4, 5, 8, 9, 16, 17, 33, 40}) {
          INFO(kernels::to_string(isa) << " K=" << K << " rows=" << R << " T=" << T);
          const std::vector<float> w_values = random_vector(static_cast<std::size_t>(R) * K, rng);
          const Matrix w{R, K, w_values};
          const std::vector<float> x = random_vector(static_cast<std::size_t>(T) * K, rng);
          const std::vector<float> bias = random_vector(static_cast<std::size_t>(R), rng);
          // A sentinel column on each side of the output rows catches stray writes.
          const int ldo = R + 2;
          std::vector<float> want(static_cast<std::size_t>(T) * ldo, 0.0f), got(want.size(), -7.0f);
          ref.linear_rows(want.data() + 1, ldo, x.data(), T, w, bias.data(), 0, R);
          ops.linear_rows(got.data() + 1, ldo, x.data(), T, w, bias.data(), 0, R);
          for (int t = 0; t < T; ++t) {
            CHECK(got[static_cast<std::size_t>(t * ldo)] == -7.0f);
            CHECK(got[static_cast<std::size_t>(t * ldo + R + 1)] == -7.0f);
            for (int r = 0; r < R; ++r) {
              double mag = std::fabs(bias[static_cast<std::size_t>(r)]);
              for (int k = 0; k < K; ++k)
                mag += std::fabs(x[static_cast<std::size_t>(t * K + k)] * w.data[static_cast<std::size_t>(r * K + k)]);
              const auto i = static_cast<std::size_t>(t * ldo + r + 1);
              REQUIRE(std::fabs(got[i] - want[i]) <= 1e-6 * mag + 1e-7);
            }
          }
          // Rows computed in two pieces are the rows computed at once, bit for bit.
          std::vector<float> split(got.size(), -7.0f);
          const int cut = R / 2;
          ops.linear_rows(split.data() + 1, ldo, x.data(), T, w, bias.data(), cut, R);
          ops.linear_rows(split.data() + 1, ldo, x.data(), T, w, bias.data(), 0, cut);
          REQUIRE(split == got);
          // No bias.
          ops.linear_rows(got.data() + 1, ldo, x.data(), T, w, nullptr, 0, R);
          ref.linear_rows(want.data() + 1, ldo, x.data(), T, w, nullptr, 0, R);
          for (std::size_t i = 0; i < got.size(); ++i)
            if (i % static_cast<std::size_t>(ldo) != 0 &&
                i % static_cast<std::size_t>(ldo) != static_cast<std::size_t>(R + 1))
              REQUIRE(std::fabs(got[i] - want[i]) <= 1e-4);
        }
      }
    }
  }
}

TEST_CASE("every ISA's layer_norm is the portable one to a unit in the last place", "[kernels][fast]") {
  // The vector kernels add the mean's and variance's double terms in another order than the
  // portable loop; the double sums differ by ~1e-16 relative, far below a float's rounding,
  // so a result may at most land on the neighbouring float. Checked too against a long double
  // computation, and on rows offset far from zero (where a float sum would lose the variance).
  std::mt19937 rng(23);
  for (const auto isa : all_isas()) {
    const auto& ops = kernels::ops(isa);
    int differ = 0, total = 0;
    for (int n : {1, 2, 7, 8, 9, 15, 16, 17, 33, 256, 511, 512, 768, 1030}) {
      for (const float offset : {0.0f, 1000.0f, -3e4f}) {
        for (const float eps : {1e-5f, 1.0f}) {
          INFO(kernels::to_string(isa) << " n=" << n << " offset=" << offset << " eps=" << eps);
          std::vector<float> x = random_vector(static_cast<std::size_t>(n), rng, 3.0f);
          for (float& v : x) v += offset;
          const std::vector<float> w = random_vector(static_cast<std::size_t>(n), rng);
          const std::vector<float> b = random_vector(static_cast<std::size_t>(n), rng);
          std::vector<float> want(static_cast<std::size_t>(n) + 1, -7.0f), got(want.size(), -7.0f);
          kernels::layer_norm(want.data(), x.data(), w.data(), b.data(), n, eps);
          ops.layer_norm(got.data(), x.data(), 1, w.data(), b.data(), n, eps);
          CHECK(got[static_cast<std::size_t>(n)] == -7.0f);  // nothing written past n
          long double mean = 0, var = 0;
          for (const float v : x) mean += v;
          mean /= n;
          for (const float v : x) var += (v - mean) * (v - mean);
          var /= n;
          const long double inv = 1.0L / std::sqrt(var + eps);
          for (int i = 0; i < n; ++i) {
            const auto u = static_cast<std::size_t>(i);
            const float g = got[u], p = want[u];
            REQUIRE((g == p || g == std::nextafter(p, INFINITY) || g == std::nextafter(p, -INFINITY)));
            differ += g != p;
            ++total;
            const long double exact = (x[u] - mean) * inv * w[u] + b[u];
            REQUIRE(std::fabs(static_cast<double>(g - exact)) <=
                    1e-6 * std::max(1.0, std::fabs(static_cast<double>(exact))));
          }
        }
      }
    }
    WARN(kernels::to_string(isa) << ": " << differ << " of " << total
                                 << " layer_norm outputs one ulp from the portable ones");
  }
}

TEST_CASE("layer_norm over many rows gives each row the AVX2 kernel's bits for it alone", "[kernels][fast]") {
  // The AVX-512 kernel interleaves up to 8 rows' sums (layer_norm_avx512.cpp); every table
  // must give a row the bits it gives that row alone, and AVX-512 the AVX2 kernel's.
  std::mt19937 rng(29);
  for (const auto isa : all_isas()) {
    const auto& ops = kernels::ops(isa);
    for (int n : {1, 7, 8, 9, 16, 23, 256, 257, 768}) {
      for (int rows : {1, 2, 5, 8, 9, 17}) {
        INFO(kernels::to_string(isa) << " n=" << n << " rows=" << rows);
        const auto size = static_cast<std::size_t>(rows) * n;
        std::vector<float> x = random_vector(size, rng, 3.0f);
        for (std::size_t i = 0; i < size; ++i) x[i] += static_cast<float>(i % 5) * 100.0f - 200.0f;
        const std::vector<float> w = random_vector(static_cast<std::size_t>(n), rng);
        const std::vector<float> b = random_vector(static_cast<std::size_t>(n), rng);
        std::vector<float> got(size + 1, -7.0f);
        ops.layer_norm(got.data(), x.data(), rows, w.data(), b.data(), n, 1e-5f);
        REQUIRE(got[size] == -7.0f);  // nothing written past the last row
        for (int r = 0; r < rows; ++r) {
          const std::size_t at = static_cast<std::size_t>(r) * n;
          std::vector<float> alone(static_cast<std::size_t>(n)), reference(alone.size());
          ops.layer_norm(alone.data(), x.data() + at, 1, w.data(), b.data(), n, 1e-5f);
          const std::vector<float> row(got.begin() + static_cast<std::ptrdiff_t>(at),
                                       got.begin() + static_cast<std::ptrdiff_t>(at + static_cast<std::size_t>(n)));
          REQUIRE(row == alone);
          if (isa == kernels::Isa::avx512) {
            kernels::ops(kernels::Isa::avx2)
                .layer_norm(reference.data(), x.data() + at, 1, w.data(), b.data(), n, 1e-5f);
            REQUIRE(row == reference);
          }
        }
      }
    }
  }
}

TEST_CASE("the AVX-512 linear layer sums as the AVX2 one, bit for bit", "[kernels][fast]") {
  // Both orders are the AVX2 tiles' (kernels_avx2.cpp); the trace fixtures' 1e-5 bar was
  // measured with it, so the AVX-512 batch product must not change a bit.
  if (!kernels::cpu_supports(kernels::Isa::avx512)) {
    WARN("no AVX-512 on this CPU: nothing to compare");
    return;
  }
  std::mt19937 rng(41);
  const auto& avx2 = kernels::ops(kernels::Isa::avx2);
  const auto& avx512 = kernels::ops(kernels::Isa::avx512);
  for (int K : {1, 5, 8, 9, 16, 23, 64, 100, 769}) {
    // Rows go six to a tile: every remainder (R mod 6 = 0 .. 5), one tile, several.
    for (int R : {1, 2, 6, 7, 8, 9, 10, 11, 12, 13, 24, 25, 50}) {
      // Inputs go in pairs, at most four pairs to a tile, the pairs spread evenly over the
      // tiles: odd counts, one short tile, several (13 = 7 pairs: 4 + 3; 15 = 4 + 4; 33 =
      // 17 pairs: 4 + 4 + 3 + 3 + 3), many (128).
      for (int T : {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 33, 128}) {
        INFO("K=" << K << " rows=" << R << " T=" << T);
        const std::vector<float> w_values = random_vector(static_cast<std::size_t>(R) * K, rng);
        const Matrix w{R, K, w_values};
        const std::vector<float> x = random_vector(static_cast<std::size_t>(T) * K, rng);
        const std::vector<float> bias = random_vector(static_cast<std::size_t>(R), rng);
        const int ldo = R + 2;  // sentinels on each side
        for (const float* b : {bias.data(), static_cast<const float*>(nullptr)}) {
          std::vector<float> want(static_cast<std::size_t>(T) * ldo, -7.0f), got(want.size(), -7.0f);
          avx2.linear_rows(want.data() + 1, ldo, x.data(), T, w, b, 0, R);
          avx512.linear_rows(got.data() + 1, ldo, x.data(), T, w, b, 0, R);
          REQUIRE(got == want);
          // Any row split too.
          std::vector<float> split(want.size(), -7.0f);
          const int cut = std::min(R, 13);
          avx512.linear_rows(split.data() + 1, ldo, x.data(), T, w, b, cut, R);
          avx512.linear_rows(split.data() + 1, ldo, x.data(), T, w, b, 0, cut);
          REQUIRE(split == want);
          // And through the batch packed once, as the threaded layer uses it.
          if (T > 1) {
            std::vector<float> packed, shared(want.size(), -7.0f);
            avx512.pack_batch(packed, x.data(), T, K);
            avx512.linear_rows_packed(shared.data() + 1, ldo, packed, T, w, b, cut, R);
            avx512.linear_rows_packed(shared.data() + 1, ldo, packed, T, w, b, 0, cut);
            REQUIRE(shared == want);
          }
        }
      }
    }
  }
}

TEST_CASE("batched linear layers stay within the rounding bound of their summation order", "[kernels][fast]") {
  // Long rows and larger batches, checked against double sums: any order of summing n
  // products is within (n - 1) u sum|terms| (u = 2^-24), here n = K + 1 with the bias.
  std::mt19937 rng(19);
  const double u = std::ldexp(1.0, -24);
  for (const auto isa : all_isas()) {
    const auto& ops = kernels::ops(isa);
    for (auto [R, K, T] : {std::tuple{13, 4100, 70}, std::tuple{30, 300, 8}, std::tuple{25, 129, 64}}) {
      INFO(kernels::to_string(isa) << " K=" << K << " rows=" << R << " T=" << T);
      const std::vector<float> w_values = random_vector(static_cast<std::size_t>(R) * K, rng);
      const Matrix w{R, K, w_values};
      const std::vector<float> x = random_vector(static_cast<std::size_t>(T) * K, rng);
      const std::vector<float> bias = random_vector(static_cast<std::size_t>(R), rng);
      std::vector<float> got(static_cast<std::size_t>(T) * R);
      ops.linear_rows(got.data(), R, x.data(), T, w, bias.data(), 0, R);
      const double n = K + 2.0;
      for (int t = 0; t < T; ++t)
        for (int r = 0; r < R; ++r) {
          double exact = bias[static_cast<std::size_t>(r)], mag = std::fabs(exact);
          for (int k = 0; k < K; ++k) {
            const double p = static_cast<double>(x[static_cast<std::size_t>(t) * K + k]) *
                             w.data[static_cast<std::size_t>(r) * K + k];
            exact += p;
            mag += std::fabs(p);
          }
          REQUIRE(std::fabs(got[static_cast<std::size_t>(t) * R + r] - exact) <= n * u * mag);
        }
      // Split rows give the same bits.
      std::vector<float> split(got.size());
      ops.linear_rows(split.data(), R, x.data(), T, w, bias.data(), 0, 5);
      ops.linear_rows(split.data(), R, x.data(), T, w, bias.data(), 5, R);
      REQUIRE(split == got);
    }
  }
}

TEST_CASE("the threaded linear layer gives the single-threaded result bit for bit", "[kernels][fast][threads]") {
  std::mt19937 rng(11);
  for (const auto isa : all_isas()) {
    for (int threads : {2, 3}) {
      ThreadPool pool(threads);
      for (int T : {1, 4, 7, 40}) {
        for (auto [R, K] : {std::pair{301, 117}, std::pair{1000, 61}, std::pair{64, 1029}}) {
          INFO(kernels::to_string(isa) << " threads=" << threads << " T=" << T << " " << R << "x" << K);
          const std::vector<float> w_values = random_vector(static_cast<std::size_t>(R) * K, rng);
          const Matrix w{R, K, w_values};
          const std::vector<float> x = random_vector(static_cast<std::size_t>(T) * K, rng);
          const std::vector<float> bias = random_vector(static_cast<std::size_t>(R), rng);
          std::vector<float> one(static_cast<std::size_t>(T) * R), many(one.size());
          kernels::linear(kernels::Compute{&kernels::ops(isa), nullptr}, one.data(), x.data(), T, w, bias.data());
          kernels::linear(kernels::Compute{&kernels::ops(isa), &pool}, many.data(), x.data(), T, w, bias.data());
          REQUIRE(many == one);
          // The layer gives the table's rows bit for bit.
          std::vector<float> rows(one.size());
          kernels::ops(isa).linear_rows(rows.data(), R, x.data(), T, w, bias.data(), 0, R);
          REQUIRE(rows == one);
          // A range of the outputs (decoder.cpp: a last layer's keys and values alone): those
          // bits, and nothing written outside it, on one thread and on the pool.
          for (auto [first, end] : {std::pair{R / 3, R}, std::pair{7, R / 2 + 1}}) {
            for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
              std::vector<float> part(one.size(), -7.0f);
              kernels::linear(kernels::Compute{&kernels::ops(isa), p}, part.data(), x.data(), T, w, bias.data(), first,
                              end);
              for (int t = 0; t < T; ++t)
                for (int r = 0; r < R; ++r) {
                  const std::size_t i = static_cast<std::size_t>(t) * R + r;
                  REQUIRE(part[i] == (r >= first && r < end ? one[i] : -7.0f));
                }
            }
          }
        }
      }
    }
  }
}

// A copy of `m` whose four linear matrices per layer are laid out in_out ([in][out], as a
// Conv1D weight used in place from a safetensors file), held in `storage`.
static Model with_in_out_layout(const Model& m, std::vector<std::vector<float>>& storage) {
  Model out;
  out.path = m.path;
  out.config = m.config;
  out.tokenizer = m.tokenizer;
  out.weights = m.weights;
  for (LayerWeights& l : out.weights.layers)
    for (Matrix* t : {&l.attn_weight, &l.attn_proj_weight, &l.fc_weight, &l.mlp_proj_weight}) {
      std::vector<float>& v = storage.emplace_back(t->data.size());
      for (int r = 0; r < t->rows; ++r)
        for (int c = 0; c < t->cols; ++c)
          v[static_cast<std::size_t>(c) * t->rows + r] = t->data[static_cast<std::size_t>(r) * t->cols + c];
      t->data = v;
      t->layout = Layout::in_out;
    }
  return out;
}

TEST_CASE("in_out linear layers sum each output in input order, on every ISA, batch and row split", "[kernels][fast]") {
  // The contract (kernels.h): out = (((0 + x0 w0) + x1 w1) + ...) + bias, one product at a
  // time, with fused multiply-adds on the AVX2/AVX-512 paths. Checked bit for bit against
  // that order written out here, and against double sums within its rounding bound.
  std::mt19937 rng(29);
  const double u = std::ldexp(1.0, -24);
  for (const auto isa : all_isas()) {
    const auto& ops = kernels::ops(isa);
    // K past one 256-input panel and ragged; R past one 24-output panel and ragged.
    for (int K : {1, 3, 8, 13, 33, 256, 257, 600}) {
      for (int R : {1, 5, 8, 9, 23, 24, 25, 49, 77}) {
        for (int T : {1, 2, 3, 4, 5, 9, 17}) {
          INFO(kernels::to_string(isa) << " K=" << K << " rows=" << R << " T=" << T);
          const std::vector<float> w_values = random_vector(static_cast<std::size_t>(R) * K, rng);
          Matrix w{R, K, w_values};  // [K][R]
          w.layout = Layout::in_out;
          const std::vector<float> x = random_vector(static_cast<std::size_t>(T) * K, rng);
          const std::vector<float> bias = random_vector(static_cast<std::size_t>(R), rng);
          const int ldo = R + 2;  // sentinels on each side catch stray writes
          std::vector<float> got(static_cast<std::size_t>(T) * ldo, -7.0f);
          ops.linear_rows_in_out(got.data() + 1, ldo, x.data(), T, w, bias.data(), 0, R);
          for (int t = 0; t < T; ++t) {
            CHECK(got[static_cast<std::size_t>(t * ldo)] == -7.0f);
            CHECK(got[static_cast<std::size_t>(t * ldo + R + 1)] == -7.0f);
            for (int r = 0; r < R; ++r) {
              float chain = 0.0f;
              double exact = bias[static_cast<std::size_t>(r)], mag = std::fabs(exact);
              for (int k = 0; k < K; ++k) {
                const float xv = x[static_cast<std::size_t>(t) * K + k], wv = w.at(r, k);
                chain = std::fma(xv, wv, chain);
                exact += static_cast<double>(xv) * wv;
                mag += std::fabs(static_cast<double>(xv) * wv);
              }
              chain += bias[static_cast<std::size_t>(r)];
              const float g = got[static_cast<std::size_t>(t * ldo + r + 1)];
              if (isa != kernels::Isa::portable) REQUIRE(g == chain);
              REQUIRE(std::fabs(g - exact) <= (K + 2.0) * u * mag);
            }
          }
          // Rows in two pieces, and each input alone, give the same bits.
          std::vector<float> split(got.size(), -7.0f);
          const int cut = R / 2;
          ops.linear_rows_in_out(split.data() + 1, ldo, x.data(), T, w, bias.data(), cut, R);
          ops.linear_rows_in_out(split.data() + 1, ldo, x.data(), T, w, bias.data(), 0, cut);
          REQUIRE(split == got);
          std::vector<float> alone(got.size(), -7.0f);
          for (int t = 0; t < T; ++t)
            ops.linear_rows_in_out(alone.data() + 1 + static_cast<std::size_t>(t) * ldo, ldo,
                                   x.data() + static_cast<std::size_t>(t) * K, 1, w, bias.data(), 0, R);
          REQUIRE(alone == got);
          // No bias: the chain alone.
          std::vector<float> plain(got.size(), -7.0f);
          ops.linear_rows_in_out(plain.data() + 1, ldo, x.data(), T, w, nullptr, 0, R);
          for (int t = 0; t < T; ++t)
            for (int r = 0; r < R; ++r) {
              const std::size_t i = static_cast<std::size_t>(t * ldo + r + 1);
              REQUIRE(plain[i] + bias[static_cast<std::size_t>(r)] == got[i]);
            }
        }
      }
    }
  }
  // The portable one-call linear() and the threaded one take the in_out path too.
  for (const auto isa : all_isas()) {
    ThreadPool pool(2);
    const int R = 301, K = 517;
    for (int T : {1, 6}) {
      INFO(kernels::to_string(isa) << " T=" << T);
      const std::vector<float> w_values = random_vector(static_cast<std::size_t>(R) * K, rng);
      Matrix w{R, K, w_values};
      w.layout = Layout::in_out;
      const std::vector<float> x = random_vector(static_cast<std::size_t>(T) * K, rng);
      const std::vector<float> bias = random_vector(static_cast<std::size_t>(R), rng);
      std::vector<float> table(static_cast<std::size_t>(T) * R), one(table.size()), many(table.size());
      kernels::ops(isa).linear_rows_in_out(table.data(), R, x.data(), T, w, bias.data(), 0, R);
      kernels::linear(kernels::Compute{&kernels::ops(isa), nullptr}, one.data(), x.data(), T, w, bias.data());
      kernels::linear(kernels::Compute{&kernels::ops(isa), &pool}, many.data(), x.data(), T, w, bias.data());
      REQUIRE(one == table);
      REQUIRE(many == table);
      if (isa == kernels::Isa::portable) {
        std::vector<float> plain(table.size());
        kernels::linear(plain.data(), x.data(), T, w, bias.data());
        REQUIRE(plain == table);
      }
    }
  }
}

TEST_CASE("a model with in_out linear weights computes the same logits as with out_in", "[kernels][fast][threads]") {
  const Model m = random_model(48, 4, 2, 200, 90, 32, Activation::gelu_tanh, true, 31);
  std::vector<std::vector<float>> storage;
  const Model in_out = with_in_out_layout(m, storage);
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back((i * 37 + 5) % 90);
  ThreadPool pool(2);
  for (const auto isa : all_isas()) {
    INFO(kernels::to_string(isa));
    const std::vector<float> want = run_forward(m, ids, isa, nullptr);
    const std::vector<float> got = run_forward(in_out, ids, isa, nullptr);
    CHECK(relative_diff(got, want) < 1e-5);
    // Its own results do not depend on the thread count.
    CHECK(run_forward(in_out, ids, isa, &pool) == got);
  }
}

TEST_CASE("fast softmax and activations match the portable ones", "[kernels][fast]") {
  std::mt19937 rng(3);
  const auto& ref = kernels::ops(kernels::Isa::portable);
  for (const auto isa : all_isas()) {
    const auto& ops = kernels::ops(isa);
    for (int n : {1, 2, 7, 8, 9, 17, 64, 215, 1000}) {
      INFO(kernels::to_string(isa) << " n=" << n);
      std::vector<float> a = random_vector(static_cast<std::size_t>(n), rng, 4.0f);
      a[0] = 60.0f;  // a large logit: the max is subtracted first
      std::vector<float> b = a;
      ref.softmax(a.data(), n);
      ops.softmax(b.data(), n);
      double sum = 0;
      for (int i = 0; i < n; ++i) {
        REQUIRE(std::fabs(a[static_cast<std::size_t>(i)] - b[static_cast<std::size_t>(i)]) <= 1e-6);
        sum += b[static_cast<std::size_t>(i)];
      }
      REQUIRE(std::fabs(sum - 1.0) < 1e-6);
      // A NaN anywhere (a NaN weight's attention score) makes every probability NaN, on
      // every path, so that the forward pass's finiteness check sees it.
      for (int at : {0, n / 2, n - 1}) {
        std::vector<float> nan_in = random_vector(static_cast<std::size_t>(n), rng, 4.0f);
        nan_in[static_cast<std::size_t>(at)] = std::nanf("");
        ops.softmax(nan_in.data(), n);
        for (const float p : nan_in) REQUIRE(std::isnan(p));
      }

      for (const auto act : {Activation::gelu_tanh, Activation::gelu, Activation::relu}) {
        std::vector<float> x = random_vector(static_cast<std::size_t>(n), rng, 3.0f);
        if (n > 3) {
          x[1] = -30.0f;  // far tails: exactly 0 and exactly x in the reference
          x[2] = 30.0f;
          x[3] = 0.0f;
        }
        std::vector<float> y = x;
        ref.activate(act, x.data(), n);
        ops.activate(act, y.data(), n);
        for (int i = 0; i < n; ++i) {
          const float want = x[static_cast<std::size_t>(i)];
          REQUIRE(std::fabs(y[static_cast<std::size_t>(i)] - want) <= 1e-6 * std::max(1.0f, std::fabs(want)));
        }
      }
    }
  }
}

TEST_CASE("fast attention matches the portable one and reads only the causal prefix", "[kernels][fast][mask]") {
  std::mt19937 rng(5);
  for (const auto isa : all_isas()) {
    const auto& ops = kernels::ops(isa);
    for (int hd : {1, 5, 8, 13, 16, 29, 32, 33, 64}) {
      for (int n_keys : {1, 2, 3, 4, 5, 9, 40}) {
        INFO(kernels::to_string(isa) << " head_dim=" << hd << " keys=" << n_keys);
        const int stride = hd * 3 + 1;  // heads interleaved in a wider row, as in the cache
        const int n_mem = n_keys + 3;   // keys after the query hold huge values: must be ignored
        std::vector<float> keys = random_vector(static_cast<std::size_t>(n_mem) * stride, rng);
        std::vector<float> values = random_vector(static_cast<std::size_t>(n_mem) * stride, rng);
        for (std::size_t i = static_cast<std::size_t>(n_keys) * stride; i < keys.size(); ++i)
          keys[i] = values[i] = 1e6f;
        const std::vector<float> q = random_vector(static_cast<std::size_t>(hd), rng);
        const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
        std::vector<float> want(static_cast<std::size_t>(hd) + 1, -3.0f), got(want),
            sw(static_cast<std::size_t>(n_mem), -1.0f), sg(sw);
        attend_head(want.data(), q.data(), keys.data(), values.data(), stride, n_keys, hd, scale, sw.data());
        ops.attend_head(got.data(), q.data(), keys.data(), values.data(), stride, n_keys, hd, scale, sg.data());
        for (int d = 0; d < hd; ++d)
          REQUIRE(std::fabs(got[static_cast<std::size_t>(d)] - want[static_cast<std::size_t>(d)]) <= 1e-5);
        CHECK(got[static_cast<std::size_t>(hd)] == -3.0f);  // nothing written past the head
        for (int j = 0; j < n_keys; ++j)
          REQUIRE(std::fabs(sg[static_cast<std::size_t>(j)] - sw[static_cast<std::size_t>(j)]) <= 1e-6);
        for (int j = n_keys; j < n_mem; ++j) CHECK(sg[static_cast<std::size_t>(j)] == -1.0f);
      }
    }
  }
}

TEST_CASE("AVX-512 attention for 2 or 4 queries gives the AVX2 attend_head calls' bits", "[kernels][fast][mask]") {
  // The avx512 table's attend_head_group must give exactly what the AVX2 attend_head gives
  // (which the avx512 table also uses for one query): prefill groups its queries, decoding
  // does not, and a prompt's logits must not depend on that.
  if (!kernels::cpu_supports(kernels::Isa::avx512)) {
    WARN("no AVX-512 on this CPU: nothing to compare");
    return;
  }
  const auto& avx2 = kernels::ops(kernels::Isa::avx2);
  const auto& avx512 = kernels::ops(kernels::Isa::avx512);
  REQUIRE(avx512.attend_head_group != nullptr);
  std::mt19937 rng(29);
  // Heads of 8 to 64 lanes run the group kernels (head dims up to 32 four queries at once,
  // wider ones in pairs; 32 / 64 with the two ways of splitting the value sums); 12 and 72
  // fall back to one query at a time.
  for (int count : {2, 4}) {
    for (int hd : {8, 12, 16, 24, 32, 40, 64, 72}) {
      for (int n_keys : {1, 2, 3, 4, 5, 7, 8, 9, 12, 14, 15, 16, 17, 31, 32, 40, 100, 255}) {
        for (int stride : {hd, hd + 5}) {
          INFO("count=" << count << " head_dim=" << hd << " n_keys=" << n_keys << " stride=" << stride);
          const int n_all = n_keys + count - 1;  // the last query's keys
          const auto rows = static_cast<std::size_t>(n_all) * static_cast<std::size_t>(stride);
          const std::vector<float> keys = random_vector(rows, rng, 2.0f), values = random_vector(rows, rng);
          // Queries and outputs at strides of their own, as in a prefill's [T][3D] and [T][D].
          const std::size_t q_stride = static_cast<std::size_t>(3 * hd + 1),
                            out_stride = static_cast<std::size_t>(hd + 3);
          const std::size_t s_stride = static_cast<std::size_t>(n_all + 2);
          const std::vector<float> q = random_vector(q_stride * static_cast<std::size_t>(count), rng, 2.0f);
          std::vector<float> got(out_stride * static_cast<std::size_t>(count), -7.0f), sg(s_stride * count, -7.0f);
          avx512.attend_head_group(got.data(), out_stride, q.data(), q_stride, keys.data(), values.data(), stride,
                                   n_keys, hd, 1.0f / std::sqrt(static_cast<float>(hd)), sg.data(), s_stride, count);
          for (int i = 0; i < count; ++i) {
            INFO("query " << i);
            const auto ui = static_cast<std::size_t>(i);
            std::vector<float> want(static_cast<std::size_t>(hd)), sw(static_cast<std::size_t>(n_keys + i));
            avx2.attend_head(want.data(), q.data() + ui * q_stride, keys.data(), values.data(), stride, n_keys + i, hd,
                             1.0f / std::sqrt(static_cast<float>(hd)), sw.data());
            const auto out = got.begin() + static_cast<std::ptrdiff_t>(ui * out_stride);
            REQUIRE(std::vector<float>(out, out + hd) == want);
            REQUIRE(out[hd] == -7.0f);  // nothing written between the outputs
            // The attention weights too (the scratch places past the query's keys excepted).
            const auto sc = sg.begin() + static_cast<std::ptrdiff_t>(ui * s_stride);
            REQUIRE(std::vector<float>(sc, sc + n_keys + i) == sw);
          }
        }
      }
    }
  }
}

TEST_CASE("AVX-512 softmax and gelu give the AVX2 kernels' bits", "[kernels][fast]") {
  // Same arithmetic on 16 lanes (activation_avx512.cpp); the softmax's sum keeps AVX2's
  // 8-lane order. Lengths around 8 and 16, long rows, values spread past exp's clamp.
  if (!kernels::cpu_supports(kernels::Isa::avx512)) {
    WARN("no AVX-512 on this CPU: nothing to compare");
    return;
  }
  const auto& avx2 = kernels::ops(kernels::Isa::avx2);
  const auto& avx512 = kernels::ops(kernels::Isa::avx512);
  std::mt19937 rng(31);
  for (int n : {1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 100, 1000, 3072}) {
    for (const float spread : {0.5f, 8.0f, 200.0f}) {
      INFO("n=" << n << " spread=" << spread);
      const std::vector<float> x = random_vector(static_cast<std::size_t>(n), rng, spread);
      std::vector<float> want = x, got = x;
      want.push_back(-7.0f);
      got.push_back(-7.0f);
      avx2.softmax(want.data(), n);
      avx512.softmax(got.data(), n);
      REQUIRE(got == want);  // the sentinel past n too
      for (const auto a : {Activation::gelu_tanh, Activation::gelu, Activation::relu}) {
        std::vector<float> w2 = x, w5 = x;
        w2.push_back(-7.0f);
        w5.push_back(-7.0f);
        avx2.activate(a, w2.data(), n);
        avx512.activate(a, w5.data(), n);
        REQUIRE(w5 == w2);
      }
    }
  }
  // A NaN stays NaN in both.
  std::vector<float> v = {1.0f, std::nanf(""), 3.0f}, g = v;
  avx512.softmax(v.data(), 3);
  for (const float f : v) CHECK(std::isnan(f));
  avx512.activate(Activation::gelu_tanh, g.data(), 3);
  CHECK(std::isnan(g[1]));
  CHECK(g[0] == Approx(0.8412).epsilon(1e-3));
}

TEST_CASE("every reference fixture through every kernel path and thread count", "[reference][fast][threads]") {
  const auto index = read_json(fixture("ref/index.json"));
  ThreadPool pool(3);
  for (const auto& c : index["cases"]) {
    const Model model = load_model(fixture("ref/" + c["model"].get<std::string>()));
    const auto golden = read_json(fixture("ref/" + c["golden"].get<std::string>()));
    const int V = model.config.vocab_size;
    for (const auto& run : golden["runs"]) {
      const auto input = run["input_ids"].get<std::vector<std::int32_t>>();
      const int T = static_cast<int>(input.size());
      for (const auto isa : all_isas()) {
        for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
          INFO("case " << c["name"].get<std::string>() << ", " << kernels::to_string(isa) << ", "
                       << (p ? "3 threads" : "1 thread"));
          // Batched, all positions.
          const auto logits = run_forward(model, input, isa, p);
          for (int t = 0; t < T; ++t)
            for (int v = 0; v < V; ++v)
              REQUIRE(std::fabs(logits[static_cast<std::size_t>(t * V + v)] - run["logits"][t][v].get<double>()) <
                      1e-4);
          // One token at a time through the cache.
          State s = make_state(model.config, T);
          ForwardOptions o;
          o.isa = isa;
          o.pool = p;
          for (int t = 0; t < T; ++t) {
            const std::int32_t one[1] = {input[static_cast<std::size_t>(t)]};
            const auto step = forward(model, s, one, o);
            for (int v = 0; v < V; ++v)
              REQUIRE(std::fabs(step[static_cast<std::size_t>(v)] - run["logits"][t][v].get<double>()) < 1e-4);
          }
        }
      }
      // Greedy generation with threads gives the reference's tokens.
      GenerateParams params;
      params.max_new_tokens = run["greedy"]["max_new_tokens"];
      params.sampler.temperature = 0;
      params.threads = 2;
      const GenerateResult r = generate(model, run["prompt"].get<std::string>(), params);
      CHECK(r.ids == run["greedy"]["ids"].get<std::vector<std::int32_t>>());
    }
  }
}

TEST_CASE("odd-shaped models: fast, threaded and portable forward passes agree", "[fast][threads]") {
  struct Shape {
    int D, H, L, F, V, C;
    Activation act;
    bool tied;
  };
  // n_embd 116 with 4 heads of 29; one head, one layer, n_embd 13; big enough to split
  // across threads (rows and attention) in prefill and in decoding.
  const Shape shapes[] = {{116, 4, 2, 464, 1001, 96, Activation::gelu_tanh, true},
                          {13, 1, 1, 7, 20, 24, Activation::gelu, false},
                          {52, 2, 1, 200, 300, 64, Activation::relu, false}};
  ThreadPool two(2), three(3);
  std::uint32_t seed = 1;
  for (const Shape& sh : shapes) {
    const Model m = random_model(sh.D, sh.H, sh.L, sh.F, sh.V, sh.C, sh.act, sh.tied, seed++);
    std::vector<std::int32_t> ids;
    for (int i = 0; i < sh.C - 2; ++i) ids.push_back(static_cast<std::int32_t>((i * 37 + 5) % sh.V));
    INFO("n_embd " << sh.D << ", heads " << sh.H);
    const auto reference = run_forward(m, ids, kernels::Isa::portable, nullptr);
    for (const auto isa : all_isas()) {
      INFO(kernels::to_string(isa));
      const auto serial = run_forward(m, ids, isa, nullptr);
      CHECK(relative_diff(serial, reference) < 1e-5);
      // Threads never change a result.
      CHECK(run_forward(m, ids, isa, &two) == serial);
      CHECK(run_forward(m, ids, isa, &three) == serial);
      // Prefill half, then decode the rest one token at a time, with threads.
      State s = make_state(m.config, static_cast<int>(ids.size()));
      ForwardOptions o;
      o.isa = isa;
      o.pool = &two;
      const int half = static_cast<int>(ids.size()) / 2;
      forward(m, s, std::span(ids).first(static_cast<std::size_t>(half)), o);
      for (std::size_t t = static_cast<std::size_t>(half); t < ids.size(); ++t) {
        const auto step = forward(m, s, std::span(ids).subspan(t, 1), o);
        const auto V = static_cast<std::size_t>(sh.V);
        CHECK(relative_diff(step, std::span<const float>(serial).subspan(t * V, V)) < 1e-5);
      }
    }
  }
}

TEST_CASE("the thread pool runs every chunk exactly once, job after job", "[threads]") {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    REQUIRE(pool.size() == threads);
    for (int job = 0; job < 300; ++job) {
      const int n = job % 17;
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      std::atomic<bool> bad_thread{false};
      pool.parallel_for(n, [&](int chunk, int thread) {
        hits[static_cast<std::size_t>(chunk)].fetch_add(1);
        if (thread < 0 || thread >= threads) bad_thread = true;
      });
      for (const auto& h : hits) REQUIRE(h.load() == 1);
      REQUIRE_FALSE(bad_thread.load());
    }
  }
  CHECK(ThreadPool::resolve(0) >= 1);
  CHECK(ThreadPool::resolve(5) == 5);
}

TEST_CASE("the thread pool survives jobs of alternating sizes", "[threads]") {
  // A worker that had seen "job G, every chunk claimed" and then read the next, larger job's
  // chunk count once claimed a chunk of the finished job: a chunk ran twice, the done
  // count overshot, and parallel_for waited forever. Alternating 9 and 2 chunks hit it
  // within seconds; the pool test above only about once in 40 runs.
  auto stress = [] {
    int bad = 0;
    for (int threads : {2, 3, 4}) {
      ThreadPool pool(threads);
      for (int job = 0; job < 100000; ++job) {
        const int n = job % 2 ? 2 : 9;
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
        pool.parallel_for(n, [&](int chunk, int) { hits[static_cast<std::size_t>(chunk)].fetch_add(1); });
        for (const auto& h : hits) bad += h.load() != 1;
      }
    }
    return bad;
  };
  auto result = std::async(std::launch::async, stress);
  if (result.wait_for(std::chrono::seconds(120)) != std::future_status::ready) {
    // A hung pool cannot be joined: report and leave without unwinding.
    std::fprintf(stderr, "the thread pool hung (parallel_for never returned)\n");
    std::_Exit(1);
  }
  CHECK(result.get() == 0);
}

TEST_CASE("the pool sleeps when idle and wakes for the next job", "[threads]") {
  ThreadPool pool(2, /*spin_us=*/0);  // no spinning: every job has to wake a sleeping worker
  for (int job = 0; job < 50; ++job) {
    if (job % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::atomic<int> sum{0};
    pool.parallel_for(64, [&](int chunk, int) { sum += chunk; });
    REQUIRE(sum.load() == 64 * 63 / 2);
  }
}

TEST_CASE("tiny-gpt bench prints its measurements as JSON", "[cli][bench]") {
  const std::string model = tinygpt::test::quote(fixture("ref/learned_tied_gelutanh.model.json"));
  const auto r = tinygpt::test::run_cli("bench -m " + model + " -p 3 -n 2 -r 2 -t 2 --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["threads"] == 2);
  CHECK(j["prompt_tokens"] == 3);
  CHECK(j["decode_tokens"] == 2);
  CHECK(j["prefill_tokens_per_s"]["median"].get<double>() > 0);
  CHECK(j["decode_tokens_per_s"]["median"].get<double>() > 0);
  CHECK(j["load"]["seconds"].get<double>() > 0);
  CHECK(j["memory"]["peak_rss_mb"].get<double>() > 0);
  CHECK(j["greedy_ids"].size() == 3);

  const auto portable = tinygpt::test::run_cli("bench -m " + model + " -p 2 -n 1 -r 1 --kernels portable --json");
  REQUIRE(portable.exit_code == 0);
  CHECK(nlohmann::json::parse(portable.out)["kernels"] == "portable");

  const auto too_long = tinygpt::test::run_cli("bench -m " + model + " -p 30 -n 30");
  CHECK(too_long.exit_code == 2);
  CHECK(too_long.err.find("n_ctx") != std::string::npos);
  CHECK(tinygpt::test::run_cli("bench -m " + model + " --kernels sse9").exit_code == 2);
}

TEST_CASE("generate gives the same text with one thread or several", "[cli][threads]") {
  const std::string model = tinygpt::test::quote(fixture("ref/gelu_3layer_4head.model.json"));
  const auto one = tinygpt::test::run_cli("generate -m " + model + " 'once' -n 6 --temperature 0 --json -t 1");
  const auto two = tinygpt::test::run_cli("generate -m " + model + " 'once' -n 6 --temperature 0 --json -t 2");
  INFO(one.err << two.err);
  REQUIRE(one.exit_code == 0);
  REQUIRE(two.exit_code == 0);
  CHECK(nlohmann::json::parse(one.out)["ids"] == nlohmann::json::parse(two.out)["ids"]);
}

// ---- The loader's fast paths ----

namespace {

std::string base64(const unsigned char* p, std::size_t n) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  for (std::size_t i = 0; i < n; i += 3) {
    const std::uint32_t v = (std::uint32_t(p[i]) << 16) | (i + 1 < n ? std::uint32_t(p[i + 1]) << 8 : 0) |
                            (i + 2 < n ? std::uint32_t(p[i + 2]) : 0);
    s += a[v >> 18];
    s += a[(v >> 12) & 63];
    s += i + 1 < n ? a[(v >> 6) & 63] : '=';
    s += i + 2 < n ? a[v & 63] : '=';
  }
  return s;
}

}  // namespace

TEST_CASE("SIMD base64 decoding takes exactly the clean 32-character blocks", "[loader][fast]") {
  std::mt19937 rng(9);
  for (std::size_t n_bytes : {std::size_t{0}, std::size_t{24}, std::size_t{25}, std::size_t{96}, std::size_t{3000}}) {
    std::vector<unsigned char> bytes(n_bytes);
    for (auto& b : bytes) b = static_cast<unsigned char>(rng());
    const std::string text = base64(bytes.data(), bytes.size());
    const std::size_t clean = text.size() - (text.size() >= 4 ? 4 : text.size());  // the last quad may be padded
    std::vector<unsigned char> out(bytes.size() + 32, 0xEE);
    const std::size_t used = kernels::decode_base64_prefix(text.data(), clean, out.data());
    INFO("bytes " << n_bytes << ", decoded " << used);
    REQUIRE(used % 32 == 0);
    REQUIRE(used <= clean);
    if (kernels::default_isa() != kernels::Isa::portable) REQUIRE(used == clean / 32 * 32);
    for (std::size_t i = 0; i < used / 4 * 3; ++i) REQUIRE(out[i] == bytes[i]);
    CHECK(out[used / 4 * 3] == 0xEE);  // nothing written past what it decoded
    // A character outside the alphabet stops it at the block that holds it.
    for (const char bad : {'=', '"', '-', '_', ' ', '\xC3', '\0'}) {
      if (text.size() < 100) break;
      std::string broken = text;
      const std::size_t at = 70 + rng() % (broken.size() - 80);
      broken[at] = bad;
      REQUIRE(kernels::decode_base64_prefix(broken.data(), clean, out.data()) <= at / 32 * 32);
    }
  }
}

TEST_CASE("transposing Conv1D weights matches the definition on odd shapes", "[loader][fast]") {
  std::mt19937 rng(4);
  for (auto [rows, cols] : {std::pair{1, 1}, std::pair{7, 9}, std::pair{8, 8}, std::pair{13, 64}, std::pair{67, 129}}) {
    const std::vector<float> src = random_vector(static_cast<std::size_t>(rows) * cols, rng);
    std::vector<float> dst(src.size(), -1.0f);
    kernels::transpose(dst.data(), src.data(), static_cast<std::size_t>(rows), static_cast<std::size_t>(cols));
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c)
        REQUIRE(dst[static_cast<std::size_t>(c * rows + r)] == src[static_cast<std::size_t>(r * cols + c)]);
  }
}

TEST_CASE("large tensors load the same from b64 and from data, and a bad character is found", "[loader][fast]") {
  // The odd fixture grown so that tensors span many of the loader's 64 KB pieces.
  auto j = nlohmann::json::parse(tinygpt::test::read_file(fixture("ref/odd_single_layer.model.json")));
  const int V = 4001, D = j["config"]["n_embd"], F = 5003;
  j["config"]["vocab_size"] = V;
  j["config"]["n_inner"] = F;
  std::mt19937 rng(2);
  auto data_form = j, b64_form = j;
  for (auto& [name, t] : j["tensors"].items()) {
    std::vector<std::int64_t> shape = t["shape"].get<std::vector<std::int64_t>>();
    if (name == "wte.weight" || name == "lm_head.weight") shape = {V, D};
    if (name == "h.0.mlp.c_fc.weight") shape = {D, F};
    if (name == "h.0.mlp.c_fc.bias") shape = {F};
    if (name == "h.0.mlp.c_proj.weight") shape = {F, D};
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    const std::vector<float> values = random_vector(n, rng);
    data_form["tensors"][name] = {{"shape", shape}, {"data", values}};
    b64_form["tensors"][name] = {
        {"shape", shape},
        {"dtype", "f32"},
        {"b64", base64(reinterpret_cast<const unsigned char*>(values.data()), values.size() * sizeof(float))}};
  }
  const Model a = load_model_from_text(data_form.dump(), "data.json");
  const std::string b64_text = b64_form.dump();
  const Model b = load_model_from_text(b64_text, "b64.json");
  CHECK(std::ranges::equal(a.weights.wte.data, b.weights.wte.data));
  CHECK(std::ranges::equal(a.weights.layers[0].fc_weight.data, b.weights.layers[0].fc_weight.data));
  CHECK(std::ranges::equal(a.weights.layers[0].mlp_proj_weight.data, b.weights.layers[0].mlp_proj_weight.data));
  CHECK(std::ranges::equal(a.weights.layers[0].attn_weight.data, b.weights.layers[0].attn_weight.data));
  CHECK(std::ranges::equal(a.weights.layers[0].fc_bias, b.weights.layers[0].fc_bias));
  REQUIRE(a.weights.layers[0].fc_weight.rows == F);

  // A bad character deep inside the big c_fc tensor: the message gives its byte offset.
  const std::string& fc = b64_form["tensors"]["h.0.mlp.c_fc.weight"]["b64"].get_ref<const std::string&>();
  const std::size_t start = b64_text.find(fc);
  REQUIRE(start != std::string::npos);
  std::string broken = b64_text;
  broken[start + 150001] = '*';
  try {
    load_model_from_text(broken, "broken.json");
    FAIL("loaded a broken file");
  } catch (const tinygpt::Error& e) {
    CHECK(std::string(e.what()).find("bad base64 character at byte " + std::to_string(start + 150001)) !=
          std::string::npos);
  }
  // A string that ends early (a quote inside): the length is reported, as without the fast path.
  broken = b64_text;
  broken.replace(start + 1000, 2, "\",");
  try {
    load_model_from_text(broken, "broken.json");
    FAIL("loaded a broken file");
  } catch (const tinygpt::Error& e) {
    INFO(e.what());
    CHECK((std::string(e.what()).find("h.0.mlp.c_fc.weight") != std::string::npos ||
           std::string(e.what()).find("malformed JSON") != std::string::npos));
  }
}
