// `attention-dump`: the captured weights against tools/reference.py's golden attention (through
// the library and through the real binary), the selection flags, the table's alignment and
// marks, and the JSON / SVG / HTML / CSV / NPY outputs. The HTML page in a real browser is
// tests/browser/attention_viewer.test.mjs.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "helpers.h"
#include "tinygpt/attention_dump.h"
#include "tinygpt/error.h"
#include "tinygpt/load.h"
#include "utf8.h"

using namespace tinygpt;
using namespace tinygpt::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

std::string model_arg(const std::string& name) { return quote(fixture("ref/" + name + ".model.json")); }

// Golden [L][H][T][T] against a capture of every layer and head: 1e-5, rows sum to 1 within
// 1e-6, the upper triangle exactly 0. Returns the largest difference.
double compare_all(const AttentionDump& d, const nlohmann::json& golden) {
  const int T = d.n_tokens();
  REQUIRE(d.layers.size() == golden.size());
  double worst = 0;
  for (std::size_t l = 0; l < d.layers.size(); ++l) {
    REQUIRE(d.heads.size() == golden[l].size());
    for (std::size_t h = 0; h < d.heads.size(); ++h)
      for (int q = 0; q < T; ++q) {
        const auto row = d.row(l, h, q);
        double sum = 0;
        for (int k = 0; k < T; ++k) {
          const float got = row[static_cast<std::size_t>(k)];
          const double diff = std::fabs(got - golden[l][h][q][k].get<double>());
          worst = std::max(worst, diff);
          REQUIRE(diff < 1e-5);
          if (k > q) REQUIRE(got == 0.0f);
          sum += got;
        }
        REQUIRE(std::fabs(sum - 1.0) < 1e-6);
      }
  }
  return worst;
}

// The same checks on the JSON the binary printed.
void compare_json(const nlohmann::json& att, const nlohmann::json& golden) {
  REQUIRE(att.size() == golden.size());
  for (std::size_t l = 0; l < att.size(); ++l) {
    REQUIRE(att[l].size() == golden[l].size());
    for (std::size_t h = 0; h < att[l].size(); ++h) {
      REQUIRE(att[l][h].size() == golden[l][h].size());
      for (std::size_t q = 0; q < att[l][h].size(); ++q) {
        double sum = 0;
        REQUIRE(att[l][h][q].size() == golden[l][h][q].size());
        for (std::size_t k = 0; k < att[l][h][q].size(); ++k) {
          const double got = att[l][h][q][k];
          REQUIRE(std::fabs(got - golden[l][h][q][k].get<double>()) < 1e-5);
          if (k > q) REQUIRE(got == 0.0);
          sum += got;
        }
        REQUIRE(std::fabs(sum - 1.0) < 1e-6);
      }
    }
  }
}

int argmax(const nlohmann::json& row, int query) {
  int best = 0;
  for (int k = 1; k <= query; ++k)
    if (row[k].get<double>() > row[best].get<double>()) best = k;
  return best;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The space-separated fields of a line with the terminal column at which each one ends.
std::vector<std::pair<std::string, int>> fields(const std::string& line) {
  std::vector<std::pair<std::string, int>> out;
  int col = 0;
  std::string field;
  for (std::size_t i = 0; i < line.size();) {
    const std::size_t n = std::max<std::size_t>(1, utf8::sequence_length(line, i));
    const std::string ch = line.substr(i, n);
    if (ch == " ") {
      if (!field.empty()) out.emplace_back(field, col);
      field.clear();
    } else {
      field += ch;
    }
    col += utf8::display_width(ch);
    i += n;
  }
  if (!field.empty()) out.emplace_back(field, col);
  return out;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("captured attention matches the PyTorch reference for every fixture run", "[attention-dump][reference]") {
  const auto index = read_json(fixture("ref/index.json"));
  REQUIRE(index["cases"].size() >= 8);
  double worst = 0;
  int runs = 0;
  for (const auto& c : index["cases"]) {
    const Model model = load_model(fixture("ref/" + c["model"].get<std::string>()));
    const auto golden = read_json(fixture("ref/" + c["golden"].get<std::string>()));
    for (const auto& run : golden["runs"]) {
      INFO("case " << c["name"].get<std::string>() << ", sentence \"" << run["prompt"].get<std::string>() << "\"");
      const AttentionDump d = capture_attention(model, run["prompt"].get<std::string>());
      REQUIRE(d.ids == run["input_ids"].get<std::vector<std::int32_t>>());
      CHECK(d.n_layer == model.config.n_layer);
      CHECK(d.n_head == model.config.n_head);
      CHECK(d.tokens.size() == d.ids.size());
      if (const auto bos = model.tokenizer.bos_id()) {
        CHECK(d.ids[0] == *bos);  // the model sees bos, so the dump shows it at position 0
        CHECK(d.tokens[0] == model.tokenizer.token_bytes(*bos));
      }
      worst = std::max(worst, compare_all(d, run["attention"]));
      ++runs;
    }
  }
  CHECK(runs >= 20);
  WARN("largest attention difference vs reference over " << runs << " runs: " << worst);
}

TEST_CASE("a selection keeps exactly the chosen layers and heads", "[attention-dump]") {
  const Model model = load_model(fixture("ref/gelu_3layer_4head.model.json"));
  const AttentionDump all = capture_attention(model, "once upon");
  const AttentionDump some = capture_attention(model, "once upon", {{2, 0, 2}, {3, 1}, false});
  CHECK(some.layers == std::vector<int>{0, 2});
  CHECK(some.heads == std::vector<int>{1, 3});
  REQUIRE(some.weights.size() == 4 * static_cast<std::size_t>(all.n_tokens() * all.n_tokens()));
  for (std::size_t ls = 0; ls < 2; ++ls)
    for (std::size_t hs = 0; hs < 2; ++hs)
      for (int q = 0; q < all.n_tokens(); ++q) {
        const auto a = all.row(static_cast<std::size_t>(some.layers[ls]), static_cast<std::size_t>(some.heads[hs]), q);
        const auto b = some.row(ls, hs, q);
        REQUIRE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
      }
  CHECK(some.q.empty());

  try {
    capture_attention(model, "x", {{3}, {}, false});
    FAIL("layer 3 accepted");
  } catch (const Error& e) {
    // The library names its parameter; the CLI turns it into --layer (tested through the binary).
    CHECK(e.kind() == ErrorKind::usage);
    CHECK(e.parameter() == "layer");
    CHECK_THAT(e.what(), StartsWith("layer 3 ") && Contains("0..2"));
  }
  try {
    capture_attention(model, "x", {{}, {-1}, false});
    FAIL("head -1 accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK(e.parameter() == "head");
    CHECK_THAT(e.what(), StartsWith("head -1 ") && Contains("0..3"));
  }
}

TEST_CASE("attention-dump --json through the binary matches the reference", "[attention-dump][cli][reference]") {
  const auto index = read_json(fixture("ref/index.json"));
  for (const auto& c : index["cases"]) {
    const std::string name = c["name"];
    const auto golden = read_json(fixture("ref/" + c["golden"].get<std::string>()));
    const auto& run = golden["runs"][0];
    const auto r = run_cli("attention-dump " + quote(run["prompt"]) + " -m " + model_arg(name) + " --json");
    INFO(name << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["ids"] == run["input_ids"]);
    CHECK(j["tokens"].size() == run["input_ids"].size());
    CHECK(j["n_layer"] == run["attention"].size());
    CHECK(j["n_head"] == run["attention"][0].size());
    CHECK(j["layers"].size() == j["n_layer"].get<std::size_t>());
    CHECK(j["heads"].size() == j["n_head"].get<std::size_t>());
    CHECK_FALSE(j.contains("q"));
    compare_json(j["attention"], run["attention"]);
  }
}

TEST_CASE("attention-dump --layer/--head pick heads in the JSON and name the range when wrong",
          "[attention-dump][cli]") {
  const auto golden = read_json(fixture("ref/gelu_3layer_4head.golden.json"))["runs"][1];
  const std::string base = "attention-dump " + quote(golden["prompt"]) + " -m " + model_arg("gelu_3layer_4head");
  const auto r = run_cli(base + " --layer 2 --head 1,3 --json");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["layers"] == nlohmann::json::array({2}));
  CHECK(j["heads"] == nlohmann::json::array({1, 3}));
  CHECK(j["n_layer"] == 3);
  CHECK(j["n_head"] == 4);
  compare_json(j["attention"],
               nlohmann::json::array({nlohmann::json::array({golden["attention"][2][1], golden["attention"][2][3]})}));

  // The flag may come before the sentence without swallowing it.
  const auto before = run_cli("attention-dump --layer 0 --head 0 " + quote(golden["prompt"]) + " -m " +
                              model_arg("gelu_3layer_4head") + " --json");
  REQUIRE(before.exit_code == 0);
  compare_json(nlohmann::json::parse(before.out)["attention"],
               nlohmann::json::array({nlohmann::json::array({golden["attention"][0][0]})}));

  for (const auto& [flag, range] :
       {std::pair{"--layer 3", "0..2"}, std::pair{"--head 4", "0..3"}, std::pair{"--head -1", "0..3"}}) {
    const auto bad = run_cli(base + " " + flag);
    INFO(flag << ": " << bad.err);
    CHECK(bad.exit_code == kExitUsage);
    CHECK_THAT(bad.err, Contains(flag) && Contains(range));
    CHECK(bad.out.empty());
  }
}

TEST_CASE("attention-dump refuses what prompt_ids refuses and contradictory flags", "[attention-dump][cli]") {
  const auto no_bos = run_cli("attention-dump '' -m " + model_arg("sinusoidal_untied_relu"));
  CHECK(no_bos.exit_code == kExitBadInput);
  CHECK_THAT(no_bos.err, Contains("empty"));
  const auto too_long = run_cli("attention-dump abcdefgh -m " + model_arg("odd_single_layer"));  // bos + 8 > n_ctx 8
  CHECK(too_long.exit_code == kExitBadInput);
  CHECK_THAT(too_long.err, Contains("9 tokens") && Contains("8"));
  // bos alone is a sentence the model can see.
  const auto only_bos = run_cli("attention-dump '' --json -m " + model_arg("gelu_3layer_4head"));
  REQUIRE(only_bos.exit_code == 0);
  CHECK(nlohmann::json::parse(only_bos.out)["attention"][0][0] == nlohmann::json::parse("[[1.0]]"));

  const std::string base = "attention-dump hi -m " + model_arg("gelu_3layer_4head");
  for (const std::string flags : {"--format npy", "--include-qkv", "--format svg --include-qkv", "--json --format svg",
                                  "--format bogus", "--summary --json", "--layer x"}) {
    const auto r = run_cli(base + " " + flags);
    INFO(flags << ": " << r.err);
    CHECK(r.exit_code == kExitUsage);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("the table aligns CJK columns, marks each row's strongest key and ends with a summary",
          "[attention-dump][cli][table]") {
  const auto golden = read_json(fixture("ref/chinese_vocab.golden.json"))["runs"][2];  // 早上好，AI
  const auto att = golden["attention"];
  const int T = static_cast<int>(golden["input_ids"].size());
  const auto r = run_cli("attention-dump " + quote(golden["prompt"]) + " -m " + model_arg("chinese_vocab"));
  REQUIRE(r.exit_code == 0);
  const auto lines = lines_of(r.out);
  int blocks = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("L", 0) != 0 || lines[i].find("(layer ") == std::string::npos) continue;
    const int l = std::stoi(lines[i].substr(1)), h = std::stoi(lines[i].substr(lines[i].find(" H") + 2));
    INFO(lines[i]);
    REQUIRE(i + 3 + static_cast<std::size_t>(T) < lines.size());
    const auto numbers = fields(lines[i + 1]), names = fields(lines[i + 2]);
    REQUIRE(static_cast<int>(numbers.size()) == T);
    REQUIRE(static_cast<int>(names.size()) == T);
    CHECK(names[0].first == "<bos>");
    CHECK(names[3].first == "好");
    std::string summary = "L" + std::to_string(l) + " H" + std::to_string(h) + ":";
    for (int q = 0; q < T; ++q) {
      const auto row = fields(lines[i + 3 + static_cast<std::size_t>(q)]);
      INFO(lines[i + 3 + static_cast<std::size_t>(q)]);
      REQUIRE(static_cast<int>(row.size()) == 2 + q + 1);  // index, token, keys 0..q; masked keys blank
      CHECK(row[1].first == names[static_cast<std::size_t>(q)].first);
      int marked = -1;
      for (int k = 0; k <= q; ++k) {
        const auto& [text, end] = row[static_cast<std::size_t>(2 + k)];
        CHECK(end == names[static_cast<std::size_t>(k)].second);  // under its key, whatever the label's width
        CHECK(end == numbers[static_cast<std::size_t>(k)].second);
        const bool star = text[0] == '*';
        if (star) marked = k;
        CHECK(std::fabs(std::stod(text.substr(star ? 1 : 0)) - att[l][h][q][k].get<double>()) <= 0.0005 + 1e-9);
      }
      const int best = argmax(att[l][h][q], q);
      CHECK(marked == best);
      summary +=
          " " + names[static_cast<std::size_t>(q)].first + "\xE2\x86\x92" + names[static_cast<std::size_t>(best)].first;
    }
    CHECK(lines[i + 3 + static_cast<std::size_t>(T)] == summary);
    ++blocks;
  }
  CHECK(blocks == 8);  // 2 layers x 4 heads

  const auto s = run_cli("attention-dump " + quote(golden["prompt"]) + " -m " + model_arg("chinese_vocab") +
                         " --summary --layer 1 --head 2");
  REQUIRE(s.exit_code == 0);
  std::string want = "L1 H2:";
  const std::vector<std::string> pieces = {"<bos>", "早", "上", "好", "，", "A", "I"};
  for (int q = 0; q < T; ++q)
    want += " " + pieces[static_cast<std::size_t>(q)] + "\xE2\x86\x92" +
            pieces[static_cast<std::size_t>(argmax(att[1][2][q], q))];
  CHECK(s.out == want + "\n");
}

TEST_CASE("attention-dump --include-qkv gives the vectors to recompute every weight by hand", "[attention-dump][cli]") {
  const auto r =
      run_cli("attention-dump 'what is this?' -m " + model_arg("gelu_3layer_4head") + " --json --include-qkv");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  const int T = static_cast<int>(j["ids"].size()), hd = j["head_dim"];
  CHECK(hd == 8);
  const double scale = j["scale"];
  CHECK(std::fabs(scale - 1 / std::sqrt(8.0)) < 1e-7);
  for (int l = 0; l < 3; ++l)
    for (int h = 0; h < 4; ++h)
      for (int q = 0; q < T; ++q) {
        std::vector<double> s;
        for (int k = 0; k <= q; ++k) {
          double dot = 0;
          for (int d = 0; d < hd; ++d) dot += j["q"][l][h][q][d].get<double>() * j["k"][l][h][k][d].get<double>();
          s.push_back(dot * scale);
        }
        const double m = *std::max_element(s.begin(), s.end());
        double z = 0;
        for (double& x : s) z += (x = std::exp(x - m));
        for (int k = 0; k <= q; ++k)
          REQUIRE(std::fabs(s[static_cast<std::size_t>(k)] / z - j["attention"][l][h][q][k].get<double>()) < 1e-5);
      }
  CHECK(j["v"][2][3].size() == static_cast<std::size_t>(T));
  CHECK(j["v"][2][3][0].size() == static_cast<std::size_t>(hd));
}

TEST_CASE("attention-dump -o writes the file only, atomically, in the format its extension names",
          "[attention-dump][cli][files]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tinygpt-attention-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto golden = read_json(fixture("ref/learned_tied_gelutanh.golden.json"))["runs"][2];  // "a <eos> b"
  const int T = static_cast<int>(golden["input_ids"].size());
  const std::string base = "attention-dump " + quote(golden["prompt"]) + " -m " + model_arg("learned_tied_gelutanh");
  const std::size_t L = golden["attention"].size(), H = golden["attention"][0].size();
  const std::size_t heads = L * H, cells = heads * static_cast<std::size_t>(T * T);

  SECTION("json") {
    const auto r = run_cli(base + " -o " + quote((dir / "a.json").string()));
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.empty());
    compare_json(read_json((dir / "a.json").string())["attention"], golden["attention"]);
  }
  SECTION("svg: a heatmap per head, one rect per visible weight, labels escaped") {
    const auto r = run_cli(base + " -o " + quote((dir / "a.svg").string()));
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.empty());
    const std::string svg = read_file((dir / "a.svg").string());
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(svg.find("</svg>") != std::string::npos);
    CHECK(count(svg, "<g class=\"head\"") == heads);
    CHECK(count(svg, "class=\"cell\"") == heads * static_cast<std::size_t>(T * (T + 1) / 2));
    CHECK(svg.find("&lt;bos&gt;") != std::string::npos);
    CHECK(svg.find(">a <eos>") == std::string::npos);  // the sentence's own '<' is escaped
    // Also to stdout when asked.
    const auto out = run_cli(base + " --format svg");
    CHECK(out.out == svg);
  }
  SECTION("html: self-contained, its data the same weights, no token can end the script") {
    const auto r = run_cli(base + " -o " + quote((dir / "a.html").string()));
    REQUIRE(r.exit_code == 0);
    const std::string html = read_file((dir / "a.html").string());
    CHECK(html.find("Content-Security-Policy") != std::string::npos);
    for (const char* external : {" src=", " href=", "<link", "@import", "url(", "fetch(", "XMLHttpRequest"})
      CHECK(html.find(external) == std::string::npos);
    const std::string open = "<script id=\"attention-data\" type=\"application/json\">";
    const auto begin = html.find(open);
    REQUIRE(begin != std::string::npos);
    const auto end = html.find("</script>", begin);
    const std::string text = html.substr(begin + open.size(), end - begin - open.size());
    CHECK(text.find('<') == std::string::npos);
    const auto data = nlohmann::json::parse(text);
    CHECK(data["pieces"][0] == "<bos>");
    for (std::size_t l = 0; l < L; ++l)
      for (std::size_t h = 0; h < H; ++h)
        for (int q = 0; q < T; ++q) {
          REQUIRE(data["attention"][l][h][q].size() == static_cast<std::size_t>(q + 1));  // the mask is implied
          for (int k = 0; k <= q; ++k)
            REQUIRE(std::fabs(data["attention"][l][h][q][k].get<double>() -
                              golden["attention"][l][h][q][k].get<double>()) < 1e-5);
        }
  }
  SECTION("csv: one row per cell") {
    const auto r = run_cli(base + " -o " + quote((dir / "a.csv").string()));
    REQUIRE(r.exit_code == 0);
    const auto lines = lines_of(read_file((dir / "a.csv").string()));
    REQUIRE(lines.size() == cells + 1);
    CHECK(lines[0] == "layer,head,query,key,query_token,key_token,weight");
    CHECK(lines[1] == "0,0,0,0,<bos>,<bos>,1");
    CHECK(lines[2] == "0,0,0,1,<bos>,a,0");  // masked
  }
  SECTION("npy: float32 [layer][head][query][key]") {
    const auto r = run_cli(base + " -o " + quote((dir / "a.npy").string()));
    REQUIRE(r.exit_code == 0);
    const std::string npy = read_file((dir / "a.npy").string());
    REQUIRE(npy.size() > 10);
    CHECK(npy.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    const std::size_t header =
        static_cast<unsigned char>(npy[8]) | static_cast<std::size_t>(static_cast<unsigned char>(npy[9])) << 8;
    CHECK((10 + header) % 64 == 0);
    const std::string dict = npy.substr(10, header);
    CHECK_THAT(dict, Contains("'descr': '<f4'") && Contains("'fortran_order': False"));
    CHECK_THAT(dict, Contains("'shape': (" + std::to_string(L) + ", " + std::to_string(H) + ", " + std::to_string(T) +
                              ", " + std::to_string(T) + ")"));
    REQUIRE(npy.size() == 10 + header + cells * 4);
    std::size_t at = 10 + header;
    for (std::size_t l = 0; l < L; ++l)
      for (std::size_t h = 0; h < H; ++h)
        for (int q = 0; q < T; ++q)
          for (int k = 0; k < T; ++k, at += 4) {
            float f;
            std::memcpy(&f, npy.data() + at, 4);
            REQUIRE(std::fabs(f - golden["attention"][l][h][q][k].get<double>()) < 1e-5);
          }
  }
  SECTION("an unwritable path is an error naming it, and leaves nothing behind") {
    const auto r = run_cli(base + " --json -o " + quote((dir / "missing" / "a.json").string()));
    CHECK(r.exit_code == kExitBadInput);
    CHECK_THAT(r.err, Contains("missing/a.json"));
  }
  std::size_t stray = 0;
  for (const auto& e : fs::directory_iterator(dir))
    stray += e.path().filename().string().find(".tmp-") != std::string::npos;
  CHECK(stray == 0);
  fs::remove_all(dir);
}
