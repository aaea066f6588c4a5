// `tiny-gpt positions` through the real binary: the similarity matrix, the learned rows,
// the heatmaps, the refusals. tests/positions_sinusoid.py checks the sin/cos table against
// the PyTorch reference.
#include <catch2/catch.hpp>

#include <cmath>

#include "helpers.h"

using namespace tinygpt::test;
using Catch::Matchers::Contains;

namespace {

std::string ref_model(const std::string& name) { return quote(fixture("ref/" + name + ".model.json")); }

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("positions --json: the similarity matrix is symmetric with ones on the diagonal", "[cli][positions]") {
  for (const std::string& m :
       {std::string("tang-poems"), std::string("english-kjv"), ref_model("sinusoidal_untied_relu")}) {
    INFO(m);
    const RunResult r = run_cli("positions -m " + m + " --json --count 20 --compare");
    REQUIRE(r.exit_code == kExitOk);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["count"] == 20);
    for (const auto& t : {j, j["compare"]}) {
      const auto& s = t["similarity"];
      REQUIRE(s.size() == 20);
      for (std::size_t a = 0; a < 20; ++a) {
        CHECK(s[a][a].get<double>() == 1.0);
        for (std::size_t b = 0; b < 20; ++b) CHECK(s[a][b].get<double>() == s[b][a].get<double>());
      }
      for (std::size_t a = 0; a < 20; ++a) {
        double sq = 0;
        for (const auto& v : t["vectors"][a]) sq += v.get<double>() * v.get<double>();
        CHECK(t["norms"][a].get<double>() == Approx(std::sqrt(sq)).epsilon(1e-9));
      }
    }
  }
}

TEST_CASE("positions: a learned model's rows are its wpe; a sinusoidal one's the formula", "[cli][positions]") {
  const auto file = read_json(std::string(TINYGPT_SOURCE_DIR) + "/models/demo-tiny.json");
  const auto& wpe = file["tensors"]["wpe.weight"];
  const RunResult r = run_cli("positions -m demo-tiny --json");
  REQUIRE(r.exit_code == kExitOk);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["kind"] == "learned");
  CHECK(j["count"] == 32);  // the default 64 is more than its context
  const int d = wpe["shape"][1];
  for (int p = 0; p < 32; ++p)
    for (int i = 0; i < d; ++i) CHECK(j["vectors"][p][i].get<float>() == wpe["data"][p * d + i].get<float>());
  const auto s = nlohmann::json::parse(run_cli("positions -m " + ref_model("sinusoidal_untied_relu") + " --json").out);
  CHECK(s["kind"] == "sinusoidal");
  const int n = s["dim"];
  for (int p = 0; p < s["count"].get<int>(); ++p)
    for (int i = 0; i < n; ++i) {
      const double angle = p / std::pow(10000.0, (i - i % 2) / static_cast<double>(n));
      CHECK(s["vectors"][p][i].get<double>() == Approx(i % 2 ? std::cos(angle) : std::sin(angle)).margin(1e-6));
    }
}

TEST_CASE("positions text and --plot heatmaps", "[cli][positions][svg]") {
  const std::string dir = "/tmp/tinygpt-positions-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const RunResult r = run_cli("positions -m demo-tiny --count 8 --compare --plot " + quote(dir + "/p.svg"));
  REQUIRE(r.exit_code == kExitOk);
  CHECK_THAT(r.out, Contains("positions 0..7 of 32, 16 dimensions, learned"));
  CHECK(count_of(r.out, "\n") == 2 + 2 + 8);
  const std::string svg = read_file(dir + "/p.svg");
  CHECK(svg.rfind("<svg ", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
  // Two tables, each a vectors panel (8 x 16) and a similarity panel (8 x 8), and the background.
  CHECK(count_of(svg, "<rect ") == 2 * (8 * 16 + 8 * 8) + 1);
  CHECK_THAT(r.err, Contains("wrote " + dir + "/p.svg"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("errors: positions --count beyond the context, --plot over the model", "[cli][positions][errors]") {
  RunResult r = run_cli("positions -m demo-tiny --count 33");
  CHECK(r.exit_code == kExitUsage);
  CHECK(r.out.empty());
  CHECK(r.err == "tiny-gpt: error: --count 33: the model has positions 0..31, so count must be 1..32\n");
  r = run_cli("positions -m demo-tiny --count 0");
  CHECK(r.exit_code == kExitUsage);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  r = run_cli("positions -m demo-tiny --plot " + quote(std::string(TINYGPT_SOURCE_DIR) + "/models/demo-tiny.json"));
  CHECK(r.exit_code == kExitUsage);
  CHECK_THAT(r.err, Contains("refusing to write over it"));
}
