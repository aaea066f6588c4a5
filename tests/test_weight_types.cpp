// Reduced weights (tinygpt/weight_type.h): binary16 conversion against the CPU's own (F16C),
// the q8_0 quantiser on hand-worked blocks, each kernel on every ISA against a scalar
// definition written here in double precision, and whole models run reduced.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <vector>

#include <unistd.h>

#include "architecture.h"
#include "half.h"
#include "helpers.h"
#include "kernels.h"
#include "quantize.h"
#include "random_model.h"
#include "thread_pool.h"
#include "tinygpt/decoder.h"
#include "tinygpt/error.h"
#include "tinygpt/generate.h"
#include "tinygpt/load.h"
#include "tinygpt/save.h"
#include "tinygpt/weight_type.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

using namespace tinygpt;
using tinygpt::test::all_isas;
using tinygpt::test::random_model;
using tinygpt::test::random_vector;
using tinygpt::test::relative_diff;
using tinygpt::test::run_forward;

namespace {

#if defined(__x86_64__)
// The CPU's conversions, rounding to nearest even: an implementation independent of half.h.
__attribute__((target("f16c"))) float f16c_to_float(std::uint16_t h) { return _cvtsh_ss(h); }
__attribute__((target("f16c"))) std::uint16_t f16c_from_float(float f) {
  return static_cast<std::uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
#endif

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// A reduced matrix of random values, and the float32 values it stands for.
struct Reduced {
  std::vector<std::uint8_t> bytes;
  std::vector<float> values;  // rows x cols, dequantised
  Matrix matrix;
};

Reduced make_reduced(WeightType t, int rows, int cols, std::mt19937& rng) {
  const std::vector<float> w = random_vector(static_cast<std::size_t>(rows) * cols, rng);
  Reduced r;
  const std::size_t per_row = row_bytes(t, static_cast<std::size_t>(cols));
  r.bytes.resize(per_row * static_cast<std::size_t>(rows));
  r.values.resize(w.size());
  for (int i = 0; i < rows; ++i) {
    REQUIRE(quantize_row(t, w.data() + static_cast<std::size_t>(i) * cols, cols, r.bytes.data() + per_row * i));
    dequantize_row(t, r.bytes.data() + per_row * i, cols, r.values.data() + static_cast<std::size_t>(i) * cols);
  }
  r.matrix.rows = rows;
  r.matrix.cols = cols;
  r.matrix.type = t;
  r.matrix.packed = r.bytes;
  return r;
}

// The definition, in double: f16 is the widened weights times x; q8_0 is the quantised
// weights times x quantised per block (quantize_block_q8), block by block.
std::vector<double> definition(const Reduced& w, const std::vector<float>& x, int T, const std::vector<float>& bias) {
  const int R = w.matrix.rows, K = w.matrix.cols;
  std::vector<double> out(static_cast<std::size_t>(T) * R);
  for (int t = 0; t < T; ++t) {
    std::vector<float> xd(x.begin() + static_cast<std::ptrdiff_t>(t) * K,
                          x.begin() + static_cast<std::ptrdiff_t>(t + 1) * K);
    if (w.matrix.type == WeightType::q8_0)
      for (int b = 0; b * kQ8Block < K; ++b) {
        std::int8_t q[kQ8Block];
        const int n = std::min(kQ8Block, K - b * kQ8Block);
        const float scale = quantize_block_q8(xd.data() + b * kQ8Block, n, q);
        for (int i = 0; i < n; ++i) xd[static_cast<std::size_t>(b * kQ8Block + i)] = scale * q[i];
      }
    for (int r = 0; r < R; ++r) {
      double s = bias.empty() ? 0.0 : bias[static_cast<std::size_t>(r)];
      for (int k = 0; k < K; ++k)
        s += static_cast<double>(w.values[static_cast<std::size_t>(r) * K + k]) * xd[static_cast<std::size_t>(k)];
      out[static_cast<std::size_t>(t) * R + r] = s;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("half.h converts like the CPU's F16C: every half, and floats of every range", "[weight_types]") {
#if defined(__x86_64__)
  if (!kernels::cpu_supports(kernels::Isa::avx2)) {
    tinygpt::test::skip_test("this CPU has no F16C to compare with");
    return;
  }
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float want = f16c_to_float(static_cast<std::uint16_t>(h));
    const float got = half_to_float(static_cast<std::uint16_t>(h));
    if (std::isnan(want)) {
      REQUIRE(std::isnan(got));
    } else {
      INFO("half 0x" << std::hex << h);
      REQUIRE(same_bits(got, want));
    }
  }
  // Every float32 bit pattern in steps that visit all exponents and, near the edges (the
  // subnormal halves, 65504 -> 65520 -> inf), each neighbour.
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::uint32_t> bits;
  std::size_t checked = 0;
  auto check = [&](std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    const std::uint16_t want = f16c_from_float(f), got = float_to_half(f);
    if (std::isnan(f)) {
      REQUIRE((got & 0x7c00) == 0x7c00);
      REQUIRE((got & 0x3ff) != 0);
    } else {
      INFO("float bits 0x" << std::hex << u);
      REQUIRE(got == want);
    }
    ++checked;
  };
  for (int i = 0; i < 2'000'000; ++i) check(bits(rng));
  for (std::uint32_t edge : {0x33000000u, 0x33800000u, 0x38800000u, 0x477fe000u, 0x477ff000u, 0x7f800000u})
    for (std::uint32_t d = 0; d < 20000; ++d) {
      check(edge - 10000 + d);
      check((edge - 10000 + d) | 0x80000000u);
    }
  CHECK(checked == 2'240'000);
#else
  tinygpt::test::skip_test("F16C is an x86-64 instruction set");
#endif
}

TEST_CASE("q8_0 quantises a block as weight_type.h says, worked by hand", "[weight_types]") {
  // amax 2 -> scale 2/127, 1/scale = 63.5: 1 -> 63.5 -> 64 (ties to even), -2 -> -127,
  // 0.5 -> 31.75 -> 32, 0.9842519 -> 62.5 -> 62 (ties to even), 0 -> 0.
  float x[5] = {1.0f, -2.0f, 0.5f, 62.5f / 63.5f, 0.0f};
  std::int8_t q[kQ8Block];
  const float scale = quantize_block_q8(x, 5, q);
  CHECK(scale == 2.0f / 127.0f);
  CHECK(q[0] == 64);
  CHECK(q[1] == -127);
  CHECK(q[2] == 32);
  CHECK(q[3] == 62);
  for (int i = 4; i < kQ8Block; ++i) CHECK(q[i] == 0);  // the zero and the padding

  // A whole row: 33 values are two blocks (the second padded), 68 bytes; the scale is
  // stored as binary16 and the values follow it.
  std::vector<float> row(33, 0.25f);
  row[32] = -3.0f;
  std::vector<std::uint8_t> bytes(row_bytes(WeightType::q8_0, 33));
  REQUIRE(bytes.size() == 68);
  REQUIRE(quantize_row(WeightType::q8_0, row.data(), 33, bytes.data()));
  std::uint16_t d0, d1;
  std::memcpy(&d0, bytes.data(), 2);
  std::memcpy(&d1, bytes.data() + 34, 2);
  CHECK(d0 == float_to_half(0.25f / 127.0f));
  CHECK(static_cast<std::int8_t>(bytes[2]) == 127);
  CHECK(d1 == float_to_half(3.0f / 127.0f));
  CHECK(static_cast<std::int8_t>(bytes[36]) == -127);
  for (int i = 37; i < 68; ++i) CHECK(bytes[static_cast<std::size_t>(i)] == 0);
  std::vector<float> back(33);
  dequantize_row(WeightType::q8_0, bytes.data(), 33, back.data());
  CHECK(back[0] == half_to_float(d0) * 127.0f);
  CHECK(back[32] == half_to_float(d1) * -127.0f);

  // All zeros, and a block too small for a float32 reciprocal, quantise to zero.
  float zeros[3] = {0, 0, 0};
  CHECK(quantize_block_q8(zeros, 3, q) == 0.0f);
  float tiny[2] = {1e-37f, -1e-38f};
  CHECK(quantize_block_q8(tiny, 2, q) == 0.0f);
  CHECK((q[0] == 0 && q[1] == 0));
  // Beyond binary16: refused, not made infinite.
  float big = 70000.0f;
  std::uint8_t out[kQ8BlockBytes];
  CHECK_FALSE(quantize_row(WeightType::f16, &big, 1, out));
  CHECK(quantize_row(WeightType::q8_0, &big, 1, out));  // its scale 551 fits
  float huge = 1e7f;
  CHECK_FALSE(quantize_row(WeightType::q8_0, &huge, 1, out));  // scale 78740 does not
}

TEST_CASE("f16 and q8_0 kernels match their definition on odd shapes, on every ISA and row split",
          "[weight_types][kernels]") {
  std::mt19937 rng(21);
  for (const WeightType type : {WeightType::f16, WeightType::q8_0}) {
    for (const auto isa : all_isas()) {
      const auto& ops = kernels::ops(isa);
      for (int K : {1, 7, 8, 31, 32, 33, 64, 100, 193}) {
        for (int R : {1, 3, 4, 5, 13, 50}) {
          for (int T : {1, 2, 5}) {
            INFO(to_string(type) << " " << kernels::to_string(isa) << " K=" << K << " rows=" << R << " T=" << T);
            const Reduced w = make_reduced(type, R, K, rng);
            const std::vector<float> x = random_vector(static_cast<std::size_t>(T) * K, rng);
            const std::vector<float> bias = random_vector(static_cast<std::size_t>(R), rng);
            const std::vector<double> want = definition(w, x, T, bias);
            kernels::QuantizedInput xq;
            kernels::quantize_input(xq, x.data(), T, K);
            // A sentinel column on each side of the output rows catches stray writes.
            const int ldo = R + 2;
            auto run = [&](std::vector<float>& out, int r0, int r1) {
              if (type == WeightType::f16)
                ops.linear_rows_f16(out.data() + 1, ldo, x.data(), T, w.matrix, bias.data(), r0, r1);
              else ops.linear_rows_q8_0(out.data() + 1, ldo, xq, T, w.matrix, bias.data(), r0, r1);
            };
            std::vector<float> got(static_cast<std::size_t>(T) * ldo, -7.0f);
            run(got, 0, R);
            for (int t = 0; t < T; ++t) {
              CHECK(got[static_cast<std::size_t>(t * ldo)] == -7.0f);
              CHECK(got[static_cast<std::size_t>(t * ldo + R + 1)] == -7.0f);
              for (int r = 0; r < R; ++r) {
                // float32 sums of K terms of about unit size: a few ulps of sqrt(K) and more.
                const double d = want[static_cast<std::size_t>(t * R + r)];
                REQUIRE(std::fabs(got[static_cast<std::size_t>(t * ldo + r + 1)] - d) <=
                        2e-6 * (K + 1) + 1e-6 * std::fabs(d));
              }
            }
            std::vector<float> split(got.size(), -7.0f);
            run(split, R / 2, R);
            run(split, 0, R / 2);
            REQUIRE(split == got);
          }
        }
      }
    }
  }
}

TEST_CASE("the AVX-512 f16 batch product sums as the AVX2 one, bit for bit, packed once and split",
          "[weight_types][kernels]") {
  // Both widen the rows and run their float32 tiles, which give the same bits; the AVX-512
  // one through the batch packed once, as the threaded layer (kernels::linear) uses it.
  if (!kernels::cpu_supports(kernels::Isa::avx512)) {
    WARN("no AVX-512 on this CPU: nothing to compare");
    return;
  }
  const auto& avx2 = kernels::ops(kernels::Isa::avx2);
  const auto& avx512 = kernels::ops(kernels::Isa::avx512);
  REQUIRE(avx512.linear_rows_f16_packed != nullptr);
  REQUIRE(avx2.linear_rows_f16_packed == nullptr);
  std::mt19937 rng(23);
  // K: under one 16-half widening step, ragged, a ragged 8-block; R: under and over the
  // 48-row widening block, every 6-row tile remainder; T: one short tile, several.
  for (int K : {1, 7, 15, 16, 17, 64, 100, 257}) {
    for (int R : {1, 5, 6, 13, 47, 48, 49, 100}) {
      for (int T : {2, 3, 9, 17, 40}) {
        INFO("K=" << K << " rows=" << R << " T=" << T);
        const Reduced w = make_reduced(WeightType::f16, R, K, rng);
        const std::vector<float> x = random_vector(static_cast<std::size_t>(T) * K, rng);
        const std::vector<float> bias = random_vector(static_cast<std::size_t>(R), rng);
        const int ldo = R + 2;  // sentinels on each side
        for (const float* b : {bias.data(), static_cast<const float*>(nullptr)}) {
          std::vector<float> want(static_cast<std::size_t>(T) * ldo, -7.0f), got(want.size(), -7.0f);
          avx2.linear_rows_f16(want.data() + 1, ldo, x.data(), T, w.matrix, b, 0, R);
          std::vector<float> packed;
          avx512.pack_batch(packed, x.data(), T, K);
          const int cut = std::min(R, 13);
          avx512.linear_rows_f16_packed(got.data() + 1, ldo, packed, T, w.matrix, b, cut, R);
          avx512.linear_rows_f16_packed(got.data() + 1, ldo, packed, T, w.matrix, b, 0, cut);
          REQUIRE(got == want);
          // And against the definition, so that the two cannot agree on a wrong answer.
          const std::vector<double> def = definition(w, x, T, b ? bias : std::vector<float>{});
          for (int t = 0; t < T; ++t)
            for (int r = 0; r < R; ++r) {
              const double d = def[static_cast<std::size_t>(t * R + r)];
              REQUIRE(std::fabs(got[static_cast<std::size_t>(t * ldo + r + 1)] - d) <=
                      2e-6 * (K + 1) + 1e-6 * std::fabs(d));
            }
        }
      }
    }
  }
}

TEST_CASE("the AVX-512 q8_0 batch gives each input what decoding it alone gives, bit for bit",
          "[weight_types][kernels]") {
  // The batch tile and the decoding kernel compute the same integers in two ways and then
  // the same float operations in the same order (reduced_avx512.cpp).
  if (!kernels::cpu_supports(kernels::Isa::avx512)) {
    WARN("no AVX-512 on this CPU: nothing to compare");
    return;
  }
  const auto& avx512 = kernels::ops(kernels::Isa::avx512);
  std::mt19937 rng(29);
  // K: one block, a ragged one, odd and even block counts; R: every remainder of 4-row
  // groups; T: every remainder of 4-input tiles, one tile, several.
  for (int K : {1, 31, 32, 33, 64, 96, 100, 257}) {
    for (int R : {1, 3, 4, 5, 13}) {
      for (int T : {2, 3, 4, 5, 9, 14}) {
        INFO("K=" << K << " rows=" << R << " T=" << T);
        const Reduced w = make_reduced(WeightType::q8_0, R, K, rng);
        std::vector<float> x = random_vector(static_cast<std::size_t>(T) * K, rng);
        if (K > 3) x[3] = 40.0f;  // a block whose largest value quantises to +-127 exactly, and its negative
        if (static_cast<std::size_t>(K) + 3 < x.size()) x[static_cast<std::size_t>(K) + 3] = -40.0f;
        const std::vector<float> bias = random_vector(static_cast<std::size_t>(R), rng);
        kernels::QuantizedInput xq;
        kernels::quantize_input(xq, x.data(), T, K);
        const int ldo = R + 2;
        std::vector<float> batch(static_cast<std::size_t>(T) * ldo, -7.0f);
        avx512.linear_rows_q8_0(batch.data() + 1, ldo, xq, T, w.matrix, bias.data(), 0, R);
        const std::vector<double> def = definition(w, x, T, bias);
        for (int t = 0; t < T; ++t) {
          kernels::QuantizedInput one;
          kernels::quantize_input(one, x.data() + static_cast<std::size_t>(t) * K, 1, K);
          std::vector<float> alone(static_cast<std::size_t>(R) + 2, -7.0f);
          avx512.linear_rows_q8_0(alone.data() + 1, ldo, one, 1, w.matrix, bias.data(), 0, R);
          const auto row = batch.begin() + static_cast<std::ptrdiff_t>(t) * ldo;
          REQUIRE(std::vector<float>(row, row + ldo) == alone);
          for (int r = 0; r < R; ++r) {
            const double d = def[static_cast<std::size_t>(t * R + r)];
            REQUIRE(std::fabs(alone[static_cast<std::size_t>(r) + 1] - d) <= 2e-6 * (K + 1) + 1e-6 * std::fabs(d));
          }
        }
      }
    }
  }
}

TEST_CASE("a reduced model: every ISA and thread count agree, threads bit for bit", "[weight_types][threads]") {
  for (const WeightType type : {WeightType::f16, WeightType::q8_0}) {
    for (const bool tied : {true, false}) {
      INFO(to_string(type) << (tied ? " tied" : " untied"));
      Model m = random_model(45, 3, 2, 70, 97, 16, Activation::gelu_tanh, tied, 5);
      const Model f32 = random_model(45, 3, 2, 70, 97, 16, Activation::gelu_tanh, tied, 5);
      reduce_weights(m, type);
      CHECK(m.weight_type == type);
      CHECK(m.weights.output().type == type);
      CHECK(m.weights.wte.type == WeightType::f32);  // the embedding table stays float32
      const std::vector<std::int32_t> ids = {1, 5, 9, 2, 60, 33, 7};
      const auto portable = run_forward(m, ids, kernels::Isa::portable, nullptr);
      const auto want = run_forward(f32, ids, kernels::Isa::portable, nullptr);
      // Reduced is not float32 (the point) but close to it: q8_0 about 1 %, f16 about 0.1 %.
      const double cost = relative_diff(portable, want);
      CHECK(cost > 0);
      CHECK(cost < (type == WeightType::f16 ? 2e-3 : 3e-2));
      for (const auto isa : all_isas()) {
        const auto one = run_forward(m, ids, isa, nullptr);
        CHECK(relative_diff(one, portable) < 1e-5);
        for (int threads : {2, 3}) {
          ThreadPool pool(threads);
          REQUIRE(run_forward(m, ids, isa, &pool) == one);
        }
        // Decoding token by token agrees with the batch to rounding.
        State s = make_state(m.config, static_cast<int>(ids.size()));
        ForwardOptions o;
        o.isa = isa;
        std::vector<float> last;
        for (const std::int32_t id : ids) {
          const auto l = forward(m, s, std::span<const std::int32_t>(&id, 1), o);
          last.assign(l.begin(), l.end());
        }
        const std::size_t V = static_cast<std::size_t>(m.config.vocab_size);
        CHECK(relative_diff(last, std::span<const float>(one).subspan(one.size() - V)) < 1e-5);
      }
      // Written out (convert), a reduced matrix is the float32 values it stands for.
      for_each_tensor(m,
                      [&](const std::string& name, const std::vector<std::int64_t>& shape, std::span<const float> v) {
                        if (name != "h.1.mlp.c_fc.weight") return;
                        REQUIRE(shape == std::vector<std::int64_t>{45, 70});
                        const Matrix& fc = m.weights.layers[1].fc_weight;
                        std::vector<float> row(45);
                        dequantize_row(type, fc.packed.data() + 5 * row_bytes(type, 45), 45, row.data());
                        for (int i = 0; i < 45; ++i)
                          REQUIRE(v[static_cast<std::size_t>(i) * 70 + 5] == row[static_cast<std::size_t>(i)]);
                      });
      CHECK_THROWS_AS(reduce_weights(m, WeightType::q8_0 == type ? WeightType::f16 : WeightType::q8_0), Error);
    }
  }
}

TEST_CASE("a weight beyond binary16's range is refused, naming the tensor", "[weight_types]") {
  Model m = random_model(8, 2, 1, 16, 20, 4, Activation::gelu, true, 9);
  std::span<float> fc(const_cast<float*>(m.weights.layers[0].fc_weight.data.data()), 16 * 8);
  fc[3] = 1e5f;
  try {
    reduce_weights(m, WeightType::f16);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::model);
    CHECK_THAT(e.what(), Catch::Contains("h.0.mlp.c_fc.weight") && Catch::Contains("f16"));
  }
}

TEST_CASE("reduced fixtures: logits and greedy ids match tools/reference.py's f16 and q8_0",
          "[weight_types][reference]") {
  const auto golden = tinygpt::test::read_json(tinygpt::test::fixture("reduced/reduced.golden.json"));
  double worst[2] = {0, 0};
  int runs[2] = {0, 0};
  for (const auto& c : golden["cases"]) {
    const WeightType type = *parse_weight_type(c["weight_type"].get<std::string>());
    LoadOptions options;
    options.weight_type = type;
    const Model model = load_model(tinygpt::test::fixture("ref/" + c["model"].get<std::string>()), options);
    REQUIRE(model.weight_type == type);
    const auto V = static_cast<std::size_t>(model.config.vocab_size);
    for (const auto& run : c["runs"]) {
      INFO(c["name"].get<std::string>() << " " << to_string(type) << " prompt \"" << run["prompt"].get<std::string>()
                                        << "\"");
      const auto ids = run["input_ids"].get<std::vector<std::int32_t>>();
      for (const auto isa : all_isas()) {
        const auto logits = run_forward(model, ids, isa, nullptr);
        REQUIRE(logits.size() == ids.size() * V);
        double diff = 0;
        for (std::size_t t = 0; t < ids.size(); ++t)
          for (std::size_t v = 0; v < V; ++v)
            diff = std::max(diff, std::fabs(logits[t * V + v] - run["logits"][t][v].get<double>()));
        worst[type == WeightType::q8_0] = std::max(worst[type == WeightType::q8_0], diff);
        CHECK(diff < 1e-4);
      }
      GenerateParams params;
      params.max_new_tokens = run["greedy"]["max_new_tokens"];
      params.sampler.temperature = 0;
      const GenerateResult r = generate(model, run["prompt"].get<std::string>(), params);
      CHECK(r.ids == run["greedy"]["ids"].get<std::vector<std::int32_t>>());
      CHECK(std::string(to_string(r.stop)) == run["greedy"]["stop_reason"].get<std::string>());
      ++runs[type == WeightType::q8_0];
    }
  }
  // Enough of each type is checked for this to mean something.
  CHECK(runs[0] >= 15);
  CHECK(runs[1] >= 10);
  WARN("reduced fixtures: worst |logit - reference| f16 " << worst[0] << " over " << runs[0] << " runs, q8_0 "
                                                          << worst[1] << " over " << runs[1] << " runs");
}

namespace {

// A fresh folder for one test's files.
std::string scratch_dir(const std::string& name) {
  const std::string dir = "/tmp/tinygpt-weight-types-" + std::to_string(::getpid()) + "-" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// One line on stderr, nothing on stdout, the exit code, and the line contains `what`.
void check_refused(const tinygpt::test::RunResult& r, int code, const std::string& what) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == code);
  CHECK(r.out.empty());
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_THAT(r.err, Catch::Contains(what));
}

}  // namespace

TEST_CASE("cli quantize: the file runs as --weights-type does, and info names its type", "[weight_types][cli]") {
  using tinygpt::test::quote;
  using tinygpt::test::run_cli;
  const std::string dir = scratch_dir("quantize");
  const std::string src = tinygpt::test::fixture("ref/gelu_3layer_4head.model.json");
  for (const char* type : {"f16", "q8_0"}) {
    INFO(type);
    const std::string out = dir + "/m." + type + ".json";
    const auto q = run_cli("quantize " + quote(src) + " " + quote(out) + " --type " + type);
    REQUIRE(q.exit_code == 0);
    CHECK(q.out.empty());
    // The quantized file and the float32 file reduced at load are the same model: identical
    // log-probabilities, printed to the last digit.
    const std::string gen = " generate 'once upon' -n 12 --temperature 0 --seed 1 --json";
    const auto from_file = run_cli(gen.substr(1) + " -m " + quote(out));
    const auto in_memory = run_cli(gen.substr(1) + " -m " + quote(src) + " --weights-type " + type);
    const auto f32 = run_cli(gen.substr(1) + " -m " + quote(src));
    REQUIRE(from_file.exit_code == 0);
    REQUIRE(in_memory.exit_code == 0);
    CHECK(from_file.out == in_memory.out);
    CHECK(from_file.out != f32.out);  // reduced really runs reduced
    const auto info = run_cli("info --json -m " + quote(out));
    REQUIRE(info.exit_code == 0);
    const auto j = nlohmann::json::parse(info.out);
    CHECK(j["weight_type"] == type);
    const std::string upper = std::string(type) == "f16" ? "F16" : "Q8_0";
    // 3 layers x (3D x D + D x D + F x D + D x F) with D = 32, F = 128
    CHECK(j["stored_dtypes"][upper] == 3 * (3 * 32 * 32 + 32 * 32 + 2 * 32 * 128));
    CHECK(j["stored_dtypes"]["F32"].get<std::uint64_t>() + j["stored_dtypes"][upper].get<std::uint64_t>() ==
          j["parameters"].get<std::uint64_t>());
    // The file holds the type it was written in: another is refused, f32 too.
    check_refused(run_cli("generate hi -n 2 -m " + quote(out) + " --weights-type " +
                          (std::string(type) == "f16" ? "q8_0" : "f16")),
                  2, std::string("holds ") + type + " weights");
    check_refused(run_cli("generate hi -n 2 -m " + quote(out) + " --weights-type f32"), 2, "float32 values are gone");
    // A checkpoint folder holds float32: converting a reduced model there is refused.
    check_refused(run_cli("convert " + quote(out) + " " + quote(dir + "/folder")), 2, "float32");
    CHECK_FALSE(std::filesystem::exists(dir + "/folder"));
  }
  // Refusals: an existing OUT, the input itself, OUT not .json, no --type or a bad one.
  const std::string existing = dir + "/m.q8_0.json";
  const std::string before = tinygpt::test::read_file(existing);
  check_refused(run_cli("quantize " + quote(src) + " " + quote(existing) + " --type q8_0"), 2, "already exists");
  CHECK(tinygpt::test::read_file(existing) == before);
  CHECK(run_cli("quantize " + quote(src) + " " + quote(existing) + " --type f16 --force").exit_code == 0);
  CHECK(tinygpt::test::read_file(existing) != before);
  check_refused(run_cli("quantize " + quote(existing) + " " + quote(existing) + " --type f16 --force"), 2,
                "refusing to write over it");
  check_refused(run_cli("quantize " + quote(src) + " " + quote(dir + "/m.bin") + " --type f16"), 2, ".json");
  check_refused(run_cli("quantize " + quote(src) + " " + quote(dir + "/n.json")), 2, "--type");
  check_refused(run_cli("quantize " + quote(src) + " " + quote(dir + "/n.json") + " --type q4"), 2, "q4");
  check_refused(run_cli("generate hi -m " + quote(src) + " --weights-type bf16"), 2, "bf16");
  CHECK_FALSE(std::filesystem::exists(dir + "/n.json"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("weights JSON version 2: what a reduced tensor may be, each refusal named", "[weight_types][loader]") {
  const std::string src = tinygpt::test::fixture("ref/odd_single_layer.model.json");
  LoadOptions q8;
  q8.weight_type = WeightType::q8_0;
  const Model m = load_model(src, q8);
  const std::string text = weights_json_text(m);
  REQUIRE(text.find("\"version\": 2") != std::string::npos);
  const Model back = load_model_from_text(text, "q.json");
  CHECK(back.weight_type == WeightType::q8_0);
  CHECK(back.weights.layers[0].fc_weight.type == WeightType::q8_0);
  CHECK(back.weights.output().type == WeightType::q8_0);  // tied: reduced from wte at load
  CHECK(back.weights.wte.type == WeightType::f32);
  // The same bytes, so the same logits, bit for bit.
  const std::vector<std::int32_t> ids = {1, 2, 3};
  CHECK(run_forward(back, ids, kernels::Isa::portable, nullptr) ==
        run_forward(m, ids, kernels::Isa::portable, nullptr));

  auto refused = [&](const std::string& bad, const std::string& what) {
    INFO(what);
    try {
      load_model_from_text(bad, "bad.json");
      FAIL("loaded");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::model);
      CHECK_THAT(e.what(), Catch::Contains(what));
    }
  };
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = text;
    const std::size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  refused(replaced("\"version\": 2", "\"version\": 1"), "needs \"version\": 2");
  refused(replaced("\"version\": 2", "\"version\": 3"), "unsupported version 3");
  // A layer norm cannot be reduced.
  const std::size_t ln = text.find("\"h.0.ln_1.weight\"");
  REQUIRE(ln != std::string::npos);
  {
    std::string s = text;
    const std::size_t d = s.find("\"dtype\": \"f32\"", ln);
    s.replace(d, 14, "\"dtype\": \"q8_0\"");
    refused(s, "only for the linear weights");
  }
  // A linear weight left float32 among q8_0 ones, or of another reduced type, is refused.
  auto entry = [](const std::string& json, const std::string& name) {
    const std::size_t a = json.find("\"" + name + "\": {");
    return json.substr(a, json.find("\"}", a) + 2 - a);
  };
  const std::string f32_text = weights_json_text(load_model(src));
  {
    std::string s = text;
    const std::string q = entry(text, "h.0.mlp.c_fc.weight");
    s.replace(s.find(q), q.size(), entry(f32_text, "h.0.mlp.c_fc.weight"));
    refused(s, "is f32 but the other linear weights are q8_0");
  }
  {
    LoadOptions f16;
    f16.weight_type = WeightType::f16;
    const std::string f16_text = weights_json_text(load_model(src, f16));
    std::string s = text;
    const std::string q = entry(text, "h.0.mlp.c_fc.weight");
    s.replace(s.find(q), q.size(), entry(f16_text, "h.0.mlp.c_fc.weight"));
    refused(s, "a model runs in one weight type");
  }
  refused(replaced("\"dtype\": \"q8_0\"", "\"dtype\": \"q4_0\""), "dtype \"q4_0\" is not supported");
  // A reduced tensor's rows are a matrix's: a shape of another rank is refused before any row
  // is read (fuzz_loader found a one-dimensional shape read past its end).
  refused(replaced("\"h.0.mlp.c_fc.weight\": {\"shape\": [13,7]", "\"h.0.mlp.c_fc.weight\": {\"shape\": [91]"),
          "tensor h.0.mlp.c_fc.weight: a q8_0 tensor is a matrix, but its shape is [91]");
  refused(replaced("\"h.0.mlp.c_fc.weight\": {\"shape\": [13,7]", "\"h.0.mlp.c_fc.weight\": {\"shape\": [13,7,1]"),
          "shape [13,7,1] must have 1 or 2 dimensions");
  // A q8_0 value of -128 (0x80): the base64 of a block's first value byte, rewritten.
  {
    const std::size_t t = text.find("\"h.0.attn.c_proj.weight\"");
    const std::size_t b = text.find("\"b64\": \"", t) + 8;
    std::string s = text;
    // bytes 0..2 of the block are the scale (2) and the first value: characters 0..3
    std::string block = s.substr(b, 4);
    unsigned char raw[3];
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::uint32_t v = 0;
    for (char c : block) v = (v << 6) | static_cast<std::uint32_t>(alphabet.find(c));
    raw[0] = static_cast<unsigned char>(v >> 16);
    raw[1] = static_cast<unsigned char>(v >> 8);
    raw[2] = 0x80;
    v = (std::uint32_t{raw[0]} << 16) | (std::uint32_t{raw[1]} << 8) | raw[2];
    for (int i = 0; i < 4; ++i) block[static_cast<std::size_t>(i)] = alphabet[(v >> (18 - 6 * i)) & 63];
    s.replace(b, 4, block);
    refused(s, "holds -128");
  }
  // Truncated bytes.
  {
    const std::size_t t = text.find("\"h.0.mlp.c_proj.weight\"");
    const std::size_t b = text.find("\"b64\": \"", t) + 8;
    std::string s = text;
    s.erase(b, 4);
    refused(s, "b64 holds");
  }
}
