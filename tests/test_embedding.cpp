// `tiny-gpt embed` and tinygpt/embedding.h against NumPy goldens (tools/reference_embed.py):
// rows, neighbours, similarity, analogies, positions and PCA; the SVG map as real XML;
// the Projector and word2vec exports; errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "helpers.h"
#include "tinygpt/embedding.h"
#include "tinygpt/error.h"
#include "tinygpt/load.h"

using namespace tinygpt;
using namespace tinygpt::test;
using Catch::Matchers::Contains;

namespace {

const char* const kCases[] = {"chinese_vocab", "learned_tied_gelutanh", "padded_vocab", "unk_token",
                              "sinusoidal_untied_relu"};

nlohmann::json golden(const std::string& name) { return read_json(fixture("embed/" + name + ".json")); }
std::string model_path(const nlohmann::json& g) { return fixture(g["model"].get<std::string>()); }
std::string model_arg(const nlohmann::json& g) { return "-m " + quote(model_path(g)); }

// A fresh scratch directory for files the CLI writes.
std::string scratch(const std::string& name) {
  const std::string dir = "/tmp/tinygpt-embed-test-" + std::to_string(::getpid()) + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// The k best of a golden ranking must be our result, order included.
void check_neighbors(const std::vector<Neighbor>& got, const nlohmann::json& want, std::size_t k) {
  REQUIRE(got.size() == std::min(k, want.size()));
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("rank " << i);
    CHECK(got[i].id == want[i]["id"].get<int>());
    CHECK(got[i].cosine == Approx(want[i]["cosine"].get<double>()).margin(1e-5));
  }
}

void check_neighbors_json(const nlohmann::json& got, const nlohmann::json& want, std::size_t k) {
  REQUIRE(got.size() == std::min(k, want.size()));
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("rank " << i);
    CHECK(got[i]["id"] == want[i]["id"]);
    CHECK(got[i]["cosine"].get<double>() == Approx(want[i]["cosine"].get<double>()).margin(1e-5));
  }
}

std::vector<float> floats(const nlohmann::json& a) { return a.get<std::vector<float>>(); }

// A failed run: the exit code, one line "tiny-gpt: error: ..." on stderr, nothing on stdout.
void check_failed(const RunResult& r, int code) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == code);
  CHECK(r.err.rfind("tiny-gpt: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.out.empty());
}

// Parses an SVG with Python's XML parser (a real one: it fails on anything malformed) and
// prints "kind<TAB>circles<TAB>label" for each point group.
RunResult svg_points(const std::string& path) {
  const std::string script =
      "import sys, xml.etree.ElementTree as ET\n"
      "ns = '{http://www.w3.org/2000/svg}'\n"
      "root = ET.parse(sys.argv[1]).getroot()\n"
      "assert root.tag == ns + 'svg', root.tag\n"
      "for g in root.iter(ns + 'g'):\n"
      "    cls = g.get('class', '').split()\n"
      "    if 'point' not in cls: continue\n"
      "    kind = 'word' if 'word' in cls else 'neighbor'\n"
      "    circles = g.findall(ns + 'circle')\n"
      "    texts = g.findall(ns + 'text')\n"
      "    assert len(texts) == 1\n"
      "    sys.stdout.write(kind + '\\t' + str(len(circles)) + '\\t' + texts[0].text + '\\n')\n";
  const std::string dir = scratch("svgcheck");
  { std::ofstream(dir + "/check.py") << script; }
  RunResult r;
  const std::string out = dir + "/out", err = dir + "/err";
  const int status = std::system(
      ("/usr/bin/python3 " + quote(dir + "/check.py") + " " + quote(path) + " >" + out + " 2>" + err).c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::size_t a = 0;
  while (a < s.size()) {
    const std::size_t b = s.find('\n', a);
    v.push_back(s.substr(a, b - a));
    if (b == std::string::npos) break;
    a = b + 1;
  }
  return v;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> v;
  std::size_t a = 0;
  while (true) {
    const std::size_t b = s.find(sep, a);
    v.push_back(s.substr(a, b - a));
    if (b == std::string::npos) return v;
    a = b + 1;
  }
}

// A tiny byte-level BPE model: the 256 byte tokens (GPT-2's printable stand-ins), merges
// that make " king" one token (so "king" stays four), <|endoftext|>; learned_tied_gelutanh's
// blocks with a made-up wte of the right height.
std::string tiny_bpe_model() {
  auto j = read_json(fixture("ref/learned_tied_gelutanh.model.json"));
  nlohmann::json vocab = nlohmann::json::object();
  int next = 0, extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
    std::string utf;
    if (cp < 0x80) utf += static_cast<char>(cp);
    else {
      utf += static_cast<char>(0xC0 | (cp >> 6));
      utf += static_cast<char>(0x80 | (cp & 0x3F));
    }
    vocab[utf] = next++;
  }
  for (const char* t : {"\xC4\xA0k", "\xC4\xA0ki", "\xC4\xA0kin", "\xC4\xA0king", "<|endoftext|>"}) vocab[t] = next++;
  j["tokenizer"] = {{"type", "byte_bpe"},
                    {"vocab", vocab},
                    {"merges", {"\xC4\xA0 k", "\xC4\xA0k i", "\xC4\xA0ki n", "\xC4\xA0kin g"}},
                    {"bos_token", "<|endoftext|>"},
                    {"eos_token", "<|endoftext|>"}};
  const int d = j["config"]["n_embd"].get<int>();
  j["config"]["vocab_size"] = next;
  nlohmann::json data = nlohmann::json::array();
  for (int i = 0; i < next * d; ++i)
    data.push_back(static_cast<double>(static_cast<float>(std::sin(0.7 * i + 0.1 * (i % 7)))));
  j["tensors"]["wte.weight"] = {{"shape", {next, d}}, {"data", data}};
  const std::string path = scratch("bpe") + "/tiny_bpe.model.json";
  std::ofstream(path) << j.dump();
  return path;
}
}  // namespace

// ---- the library against the goldens --------------------------------------------------

TEST_CASE("a word's tokens and rows are the file's rows, exactly", "[embed]") {
  for (const char* name : kCases) {
    const auto g = golden(name);
    const Model m = load_model(model_path(g));
    for (const auto& w : g["words"]) {
      INFO(name << ": " << w["word"]);
      const WordVector v = word_vector(m, w["word"].get<std::string>());
      REQUIRE(v.ids == w["ids"].get<std::vector<std::int32_t>>());
      for (std::size_t i = 0; i < v.ids.size(); ++i) {
        const auto row = m.weights.wte.row(v.ids[i]);
        CHECK(std::vector<float>(row.begin(), row.end()) == floats(w["vectors"][i]));
      }
      const auto mean = floats(w["mean"]);
      for (std::size_t j = 0; j < mean.size(); ++j) CHECK(v.mean[j] == Approx(mean[j]).margin(1e-6));
    }
  }
}

TEST_CASE("nearest neighbours equal NumPy's ranking, order included, for any k", "[embed]") {
  for (const char* name : kCases) {
    const auto g = golden(name);
    const Model m = load_model(model_path(g));
    const UnitTable table = unit_table(m);
    for (const auto& w : g["words"]) {
      INFO(name << ": " << w["word"]);
      const WordVector v = word_vector(m, w["word"].get<std::string>());
      const auto& want = w["neighbors"];
      for (const std::size_t k : {std::size_t{1}, std::size_t{3}, want.size(), want.size() + 5, std::size_t{100000}})
        check_neighbors(nearest(table, v.mean, k, v.ids), want, k);
    }
  }
}

TEST_CASE("neighbours never include padded rows, special tokens or the query's own tokens", "[embed]") {
  for (const char* name : kCases) {
    const auto g = golden(name);
    const Model m = load_model(model_path(g));
    const UnitTable table = unit_table(m);
    const std::set<int> special = g["special"].get<std::set<int>>();
    for (const auto& w : g["words"]) {
      const WordVector v = word_vector(m, w["word"].get<std::string>());
      const auto all = nearest(table, v.mean, 1u << 20, v.ids);
      const std::set<std::int32_t> own(v.ids.begin(), v.ids.end());
      std::size_t expected = 0;  // every other candidate appears exactly once
      for (int id = 0; id < g["n_real"].get<int>(); ++id) expected += !special.count(id) && !own.count(id);
      CHECK(all.size() == expected);
      for (const Neighbor& n : all) {
        CHECK(n.id < g["n_real"].get<int>());
        CHECK_FALSE(special.count(n.id));
        CHECK_FALSE(own.count(n.id));
      }
    }
  }
}

TEST_CASE("cosine similarity of two words equals NumPy's", "[embed]") {
  for (const char* name : kCases) {
    const auto g = golden(name);
    const Model m = load_model(model_path(g));
    for (const auto& s : g["similarity"]) {
      INFO(name << ": " << s["a"] << " vs " << s["b"]);
      const double c =
          cosine(word_vector(m, s["a"].get<std::string>()).mean, word_vector(m, s["b"].get<std::string>()).mean);
      CHECK(c == Approx(s["cosine"].get<double>()).margin(1e-6));
    }
  }
}

TEST_CASE("analogies are gensim's 3CosAdd and equal NumPy's ranking", "[embed]") {
  for (const char* name : kCases) {
    const auto g = golden(name);
    const Model m = load_model(model_path(g));
    const UnitTable table = unit_table(m);
    for (const auto& a : g["analogy"]) {
      INFO(name << ": " << a["expression"]);
      const auto terms = parse_analogy(a["expression"].get<std::string>());
      REQUIRE(terms.size() == a["terms"].size());
      for (std::size_t i = 0; i < terms.size(); ++i) {
        CHECK(terms[i].word == a["terms"][i]["word"].get<std::string>());
        CHECK(terms[i].sign == a["terms"][i]["sign"].get<int>());
      }
      const auto& want = a["results"];
      for (const std::size_t k : {std::size_t{1}, std::size_t{4}, want.size() + 1}) {
        const Analogy r = analogy(m, table, terms, k);
        const auto q = floats(a["query"]);
        for (std::size_t j = 0; j < q.size(); ++j) CHECK(r.query[j] == Approx(q[j]).margin(1e-6));
        check_neighbors(r.results, want, k);
      }
    }
  }
}

TEST_CASE("PCA equals NumPy's SVD (up to sign) and fixes the signs", "[embed][pca]") {
  for (const char* name : kCases) {
    const auto g = golden(name);
    const Model m = load_model(model_path(g));
    const auto& p = g["pca"];
    std::vector<std::vector<float>> vectors;
    for (const auto& w : p["words"]) vectors.push_back(word_vector(m, w.get<std::string>()).mean);
    const Pca2 got = pca_2d(vectors);
    INFO(name);
    for (int a = 0; a < 2; ++a) {
      const auto& axis = got.axes[static_cast<std::size_t>(a)];
      // Our convention: the largest-magnitude component of each axis is positive.
      const auto big =
          std::max_element(axis.begin(), axis.end(), [](double x, double y) { return std::abs(x) < std::abs(y); });
      CHECK(*big > 0);
      // Either sign of NumPy's axis may be ours (a near tie in |component| could flip it).
      double same = 0, flipped = 0;
      for (std::size_t j = 0; j < axis.size(); ++j) {
        const double want = p["axes"][a][j].get<double>();
        same = std::max(same, std::abs(axis[j] - want));
        flipped = std::max(flipped, std::abs(axis[j] + want));
      }
      const double sign = same <= flipped ? 1.0 : -1.0;
      CHECK(std::min(same, flipped) < 1e-5);
      for (std::size_t i = 0; i < vectors.size(); ++i)
        CHECK(got.points[i][static_cast<std::size_t>(a)] ==
              Approx(sign * p["points"][i][a].get<double>()).margin(1e-5));
      CHECK(got.explained[static_cast<std::size_t>(a)] == Approx(p["explained"][a].get<double>()).margin(1e-7));
    }
  }
}

TEST_CASE("PCA of too few points is an input error, and two points leave the second axis empty", "[embed][pca]") {
  CHECK_THROWS_AS(pca_2d({{1.0f, 2.0f}}), Error);
  // Centred: (1.5, -0.5, 0) and (-1.5, 0.5, 0); the axis is (3, -1, 0)/sqrt 10 (largest part positive).
  const Pca2 p = pca_2d({{2.0f, 0.0f, 0.0f}, {-1.0f, 1.0f, 0.0f}});
  CHECK(p.explained[0] == Approx(1.0));
  CHECK(p.explained[1] == 0.0);
  CHECK(p.axes[0][0] == Approx(3 / std::sqrt(10.0)));
  CHECK(p.points[0][0] == Approx(std::sqrt(2.5)));
  CHECK(p.points[1][0] == Approx(-std::sqrt(2.5)));
  CHECK(p.points[0][1] == 0.0);
  const Pca2 same = pca_2d({{1.0f, 1.0f}, {1.0f, 1.0f}});  // no variance at all
  CHECK(same.points[0] == std::array<double, 2>{0.0, 0.0});
}

TEST_CASE("a zero vector has cosine 0 with everything, and equal cosines rank by lower id", "[embed]") {
  // learned_tied_gelutanh's vocabulary: <bos> <eos> ' ' a b c d e ...: make b zero and c, d copies of e.
  auto j = read_json(fixture("ref/learned_tied_gelutanh.model.json"));
  auto& data = j["tensors"]["wte.weight"]["data"];
  const int d = j["config"]["n_embd"].get<int>();
  const auto row = [&](int id, int k) -> nlohmann::json& { return data[static_cast<std::size_t>(id * d + k)]; };
  for (int k = 0; k < d; ++k) {
    row(4, k) = 0.0;
    row(5, k) = row(7, k);
    row(6, k) = row(7, k);
  }
  const Model m = load_model_from_text(j.dump(), "zero_and_ties.json");
  REQUIRE(m.tokenizer.encode("bcde") == std::vector<std::int32_t>{4, 5, 6, 7});
  const UnitTable table = unit_table(m);
  const WordVector zero = word_vector(m, "b");
  const WordVector e = word_vector(m, "e");
  CHECK(norm(zero.mean) == 0.0);
  CHECK(cosine(zero.mean, e.mean) == 0.0);
  CHECK(cosine(zero.mean, zero.mean) == 0.0);
  CHECK(cosine(e.mean, e.mean) == Approx(1.0));

  // Neighbours of e: c and d are exact copies (cosine 1, a tie: lower id first).
  const auto ns = nearest(table, e.mean, 3, e.ids);
  REQUIRE(ns.size() == 3);
  CHECK(ns[0].id == 5);
  CHECK(ns[1].id == 6);
  CHECK(ns[0].cosine == ns[1].cosine);
  CHECK(ns[0].cosine == Approx(1.0));
  // The zero row scores 0 against e; a zero query scores 0 against everything, so its
  // "neighbours" are simply the lowest candidate ids.
  const auto all = nearest(table, e.mean, 1000, e.ids);
  CHECK(std::find_if(all.begin(), all.end(), [](const Neighbor& n) { return n.id == 4 && n.cosine == 0.0; }) !=
        all.end());
  const auto from_zero = nearest(table, zero.mean, 4, zero.ids);
  REQUIRE(from_zero.size() == 4);
  CHECK(from_zero[0].id == 2);  // ' ' (0 and 1 are <bos> and <eos>)
  CHECK(from_zero[1].id == 3);
  CHECK(from_zero[2].id == 5);  // 4 is the query itself
  for (const Neighbor& n : from_zero) CHECK(n.cosine == 0.0);
}

TEST_CASE("analogy expressions: spaces around operators, Chinese words, quoted words, errors name the parameter",
          "[embed]") {
  const auto t = parse_analogy("king - man + woman");
  REQUIRE(t.size() == 3);
  CHECK((t[0].word == "king" && t[0].sign == 1 && t[1].word == "man" && t[1].sign == -1 && t[2].word == "woman" &&
         t[2].sign == 1));
  const auto zh = parse_analogy("  國王 - 男人   + 女人 ");
  REQUIRE(zh.size() == 3);
  CHECK(zh[1].word == "男人");
  const auto q = parse_analogy("\" king\" - \" man\" + \" woman\"");
  REQUIRE(q.size() == 3);
  CHECK(q[0].word == " king");
  CHECK(parse_analogy("a-b")[0].word == "a-b");  // no spaces: one word (a hyphenated word is a word)
  for (const char* bad : {"", "   ", "- a", "a -", "a b", "a + + b", "\"a - b", "\"\" + a", "a \"b\"c"}) {
    INFO(bad);
    try {
      parse_analogy(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      // The library's name for it; the command line turns it into --analogy.
      CHECK(e.kind() == ErrorKind::usage);
      CHECK(e.parameter() == "analogy");
      CHECK(std::string(e.what()).rfind("analogy \"" + std::string(bad) + "\": ", 0) == 0);
      CHECK_THAT(std::string(e.what()), !Contains("--"));
    }
  }
}

TEST_CASE("embedding_report: errors name the request's parameters, never a flag", "[embed]") {
  const Model m = load_model(model_path(golden("chinese_vocab")));  // n_ctx 16
  const auto refused = [&](const EmbeddingRequest& request, const std::string& parameter, const std::string& says) {
    INFO(says);
    try {
      embedding_report(m, request);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      CHECK(e.parameter() == parameter);
      CHECK(std::string(e.what()).rfind(says, 0) == 0);
      CHECK_THAT(std::string(e.what()), !Contains("--"));
    }
  };
  refused({.words = {"新年"}, .position = 15}, "position",
          "position 15: the model has positions 0..15 and the word's 2 tokens need 15..16");
  // Computed in 64 bits: 2147483647 + 1 does not wrap around into the table.
  refused({.words = {"新年"}, .position = 2147483647}, "position",
          "position 2147483647: the model has positions 0..15 and the word's 2 tokens need 2147483647..2147483648");
  refused({.words = {"新"}, .analogy = "新 - 新"}, "analogy",
          "analogy \"新 - 新\": the terms' unit vectors sum to zero, so there is no direction to search");
  refused({.words = {"新", "年"}, .neighbors = 3, .plot = true}, "words", "position, neighbors and similarity");
}

TEST_CASE("embedding_report: the export files are the whole table in the library's formats", "[embed][export]") {
  const Model m = load_model(fixture("ref/padded_vocab.model.json"));  // the padded rows stay out
  const EmbeddingReport r = embedding_report(m, {.export_table = true});
  const auto files = embedding_export_files(r);
  const auto labels = export_labels(m.tokenizer);
  REQUIRE(files.size() == 3);
  CHECK(files[0].name == "vectors.tsv");
  CHECK(files[0].content == projector_vectors_tsv(m.weights.wte, m.tokenizer.size()));
  CHECK(files[1].name == "metadata.tsv");
  CHECK(files[1].content == projector_metadata_tsv(labels));
  CHECK(files[2].name == "word2vec.txt");
  CHECK(files[2].content == word2vec_text(m.weights.wte, labels));
  // Without the table there is nothing to export, and the views say so rather than guess.
  const EmbeddingReport none = embedding_report(m, {.words = {"a"}});
  CHECK_THROWS_AS(embedding_export_files(none), Error);
  CHECK_THROWS_AS(embedding_map_svg(none), Error);
}

// ---- the command line ---------------------------------------------------------------

TEST_CASE("embed --json: ids, tokens, raw rows exactly, neighbours, similarity", "[embed][cli]") {
  for (const char* name : {"chinese_vocab", "padded_vocab", "unk_token"}) {
    const auto g = golden(name);
    const auto& sim = g["similarity"][0];
    for (const auto& w : g["words"]) {
      const std::string word = w["word"];
      const auto r = run_cli("embed " + quote(word) + " " + model_arg(g) + " --neighbors 3 --json");
      INFO(name << ": " << word << ": " << r.err);
      // A word of nothing but the unknown token is refused by the command line (the library
      // computes it, as the golden does): tests/test_input_defaults.cpp.
      const auto unk = load_model(model_path(g)).tokenizer.unk_id();
      if (unk && std::all_of(w["ids"].begin(), w["ids"].end(), [&](const auto& id) { return id == *unk; })) {
        CHECK(r.exit_code == kExitBadInput);
        continue;
      }
      REQUIRE(r.exit_code == 0);
      const auto j = nlohmann::json::parse(r.out);
      CHECK(j["word"] == word);
      CHECK(j["ids"] == w["ids"]);
      CHECK(j["vectors"] == w["vectors"]);  // JSON numbers that read back as the very same floats
      REQUIRE(j["tokens"].size() == w["ids"].size());
      CHECK(j.contains("mean") == (w["ids"].size() > 1));
      check_neighbors_json(j["neighbors"], w["neighbors"], 3);
      CHECK_FALSE(j.contains("similarity"));
      CHECK_FALSE(j.contains("position"));
    }
    const auto r =
        run_cli("embed " + quote(sim["a"]) + " " + model_arg(g) + " --similarity " + quote(sim["b"]) + " --json");
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["similarity"]["other"] == sim["b"]);
    CHECK(j["similarity"]["cosine"].get<double>() == Approx(sim["cosine"].get<double>()).margin(1e-6));
    CHECK_FALSE(j.contains("neighbors"));
  }
}

TEST_CASE("embed asking for more neighbours than there are tokens returns them all", "[embed][cli]") {
  const auto g = golden("chinese_vocab");
  const auto& w = g["words"][0];
  const auto r = run_cli("embed " + quote(w["word"]) + " " + model_arg(g) + " --neighbors 1000 --json");
  REQUIRE(r.exit_code == 0);
  check_neighbors_json(nlohmann::json::parse(r.out)["neighbors"], w["neighbors"], 1000);
}

TEST_CASE("embed --analogy alone and with a word", "[embed][cli]") {
  const auto g = golden("chinese_vocab");
  const auto& a = g["analogy"][0];
  auto r = run_cli("embed " + model_arg(g) + " --analogy " + quote(a["expression"]) + " --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK_FALSE(j.contains("word"));
  CHECK(j["analogy"]["positive"] == nlohmann::json({"新", "機"}));
  CHECK(j["analogy"]["negative"] == nlohmann::json({"年"}));
  check_neighbors_json(j["analogy"]["results"], a["results"], 10);
  r = run_cli("embed 新 " + model_arg(g) + " --analogy " + quote(a["expression"]) + " --neighbors 2 --json");
  REQUIRE(r.exit_code == 0);
  j = nlohmann::json::parse(r.out);
  CHECK(j["word"] == "新");
  check_neighbors_json(j["analogy"]["results"], a["results"], 2);
  check_neighbors_json(j["neighbors"], g["words"][0]["neighbors"], 2);
  // Text output names the method and lists the results.
  r = run_cli("embed " + model_arg(g) + " --analogy " + quote(a["expression"]));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("3CosAdd"));
  CHECK_THAT(r.out, Contains("快"));
}

TEST_CASE("embed --position: learned rows and sinusoids, and the sum block 0 receives", "[embed][cli]") {
  for (const char* name : {"chinese_vocab", "learned_tied_gelutanh", "sinusoidal_untied_relu"}) {
    const auto g = golden(name);
    const bool learned = std::string(name) != "sinusoidal_untied_relu";
    for (const auto& p : g["positions"]) {
      const auto r = run_cli("embed " + quote(p["word"]) + " " + model_arg(g) + " --position " +
                             std::to_string(p["start"].get<int>()) + " --json");
      INFO(name << ": " << p["word"] << " at " << p["start"] << ": " << r.err);
      REQUIRE(r.exit_code == 0);
      const auto j = nlohmann::json::parse(r.out)["position"];
      CHECK(j["kind"] == (learned ? "learned" : "sinusoidal"));
      CHECK(j["positions"] == p["positions"]);
      for (std::size_t t = 0; t < p["positions"].size(); ++t) {
        if (learned) CHECK(j["vectors"][t] == p["vectors"][t]);  // the very rows of wpe
        for (std::size_t k = 0; k < p["vectors"][t].size(); ++k) {
          CHECK(j["vectors"][t][k].get<double>() == Approx(p["vectors"][t][k].get<double>()).margin(1e-6));
          CHECK(j["inputs"][t][k].get<double>() == Approx(p["inputs"][t][k].get<double>()).margin(1e-6));
        }
      }
    }
  }
  const auto g = golden("chinese_vocab");  // n_ctx 16
  auto r = run_cli("embed 新 " + model_arg(g) + " --position 16");
  check_failed(r, kExitUsage);
  CHECK_THAT(r.err, Contains("--position 16"));
  r = run_cli("embed 新年 " + model_arg(g) + " --position 15");  // the second token would be at 16
  check_failed(r, kExitUsage);
  CHECK_THAT(r.err, Contains("2 tokens"));
  r = run_cli("embed 新年 " + model_arg(g) + " --position 1");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("wte[2] + wpe[1]"));
  CHECK_THAT(r.out, Contains("wte[3] + wpe[2]"));
}

TEST_CASE("embed text output: pieces, ids, norms, a multi-token word's mean", "[embed][cli]") {
  const auto g = golden("chinese_vocab");
  auto r = run_cli("embed 機器學習 " + model_arg(g) + " --neighbors 2");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("\"機器學習\" is 4 tokens"));
  CHECK_THAT(r.out, Contains("id 6  機  norm "));
  CHECK_THAT(r.out, Contains("mean of the 4 rows"));
  CHECK_THAT(r.out, Contains("2 nearest tokens"));
  r = run_cli("embed 新 " + model_arg(g));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("\"新\" is 1 token:"));
  CHECK_THAT(r.out, Contains("0.3117"));  // wte[2][0] = 0.31165...
  CHECK(r.out.find("mean of") == std::string::npos);
}

TEST_CASE("embed errors: unknown characters, bad flags, contradictions", "[embed][cli]") {
  const auto g = golden("chinese_vocab");  // a char vocabulary without unk
  auto r = run_cli("embed 新x " + model_arg(g));
  check_failed(r, kExitBadInput);
  CHECK_THAT(r.err, Contains("'x'"));
  r = run_cli("embed 新 " + model_arg(g) + " --similarity 貓");
  check_failed(r, kExitBadInput);
  CHECK_THAT(r.err, Contains("貓"));
  r = run_cli("embed " + model_arg(g) + " --analogy " + quote("新 年 + 機"));
  check_failed(r, kExitUsage);
  CHECK_THAT(r.err, Contains("tiny-gpt: error: --analogy \"新 年 + 機\": expected + or - between"));
  r = run_cli("embed " + model_arg(g) + " --analogy " + quote("新 - 年 +"));
  check_failed(r, kExitUsage);
  CHECK_THAT(r.err, Contains("tiny-gpt: error: --analogy \"新 - 年 +\": ends with an operator"));
  check_failed(run_cli("embed " + model_arg(g)), kExitUsage);        // no word
  check_failed(run_cli("embed 新 年 " + model_arg(g)), kExitUsage);  // two words without --plot
  check_failed(run_cli("embed 新 " + model_arg(g) + " --neighbors 0"), kExitUsage);
  check_failed(run_cli("embed 新 " + model_arg(g) + " --neighbors x"), kExitUsage);
  check_failed(run_cli("embed 新 " + model_arg(g) + " --position -1"), kExitUsage);
  check_failed(run_cli("embed 新 " + model_arg(g) + " --plot-neighbors 3"), kExitUsage);
  check_failed(run_cli("embed \"\" " + model_arg(g)), kExitBadInput);
  // With unk_token an unknown character becomes <unk>, and stderr says so; a word of
  // nothing else is refused (tests/test_input_defaults.cpp has the messages).
  const auto u = golden("unk_token");
  r = run_cli("embed aö " + model_arg(u) + " --json");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["tokens"] == nlohmann::json({"a", "<unk>"}));
  CHECK_THAT(r.err, Contains("<unk>"));
  check_failed(run_cli("embed ö " + model_arg(u) + " --json"), kExitBadInput);
}

TEST_CASE("embed --plot writes well-formed SVG with one labelled point per word", "[embed][cli][svg]") {
  const auto g = golden("chinese_vocab");
  const std::string dir = scratch("plot");
  const std::string svg = dir + "/map.svg";
  auto r = run_cli("embed 新 年 快 樂 機器 學習 早上好 AI " + model_arg(g) + " --plot " + quote(svg) + " --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK_FALSE(j.contains("word"));  // several words: the plot says it all
  const auto& pts = j["plot"]["points"];
  REQUIRE(pts.size() == 8);
  // The coordinates are the PCA of the same words (golden: up to sign per axis).
  const auto& p = g["pca"];
  for (int a = 0; a < 2; ++a) {
    const double s = pts[0][a == 0 ? "x" : "y"].get<double>() * p["points"][0][a].get<double>() >= 0 ? 1.0 : -1.0;
    for (std::size_t i = 0; i < pts.size(); ++i)
      CHECK(pts[i][a == 0 ? "x" : "y"].get<double>() == Approx(s * p["points"][i][a].get<double>()).margin(1e-5));
  }
  const auto parsed = svg_points(svg);
  INFO(parsed.err);
  REQUIRE(parsed.exit_code == 0);
  std::vector<std::string> want;
  for (const auto& w : p["words"]) want.push_back("word\t1\t" + w.get<std::string>());
  CHECK(lines(parsed.out) == want);

  // Neighbours join the map as their own points; labels needing escapes survive.
  const auto e = golden("learned_tied_gelutanh");
  r = run_cli("embed '<eos>' '<' hello " + model_arg(e) + " --plot " + quote(svg) + " --plot-neighbors 2 --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto parsed2 = svg_points(svg);
  INFO(parsed2.err);
  REQUIRE(parsed2.exit_code == 0);
  const auto rows = lines(parsed2.out);
  const auto n_points = nlohmann::json::parse(r.out)["plot"]["points"].size();
  CHECK(rows.size() == n_points);
  CHECK(std::count_if(rows.begin(), rows.end(), [](const std::string& s) { return s.rfind("word\t1\t", 0) == 0; }) ==
        3);
  CHECK(std::find(rows.begin(), rows.end(), "word\t1\t<eos>") != rows.end());
  CHECK(std::find(rows.begin(), rows.end(), "word\t1\t<") != rows.end());
  CHECK(n_points > 3);
  CHECK(n_points <= 3 + 3 * 2);
}

TEST_CASE("the SVG check itself rejects broken XML", "[embed][svg]") {
  const std::string dir = scratch("broken");
  {
    std::ofstream(dir + "/a.svg")
        << "<svg xmlns=\"http://www.w3.org/2000/svg\"><g class=\"point word\"><text>a & b</text></g></svg>";
  }
  CHECK(svg_points(dir + "/a.svg").exit_code != 0);
  {
    std::ofstream(dir + "/b.svg")
        << "<svg xmlns=\"http://www.w3.org/2000/svg\"><g class=\"point word\"><text>a</g></svg>";
  }
  CHECK(svg_points(dir + "/b.svg").exit_code != 0);
}

TEST_CASE("embed --plot errors: too few points, unwritable file", "[embed][cli][svg]") {
  const auto g = golden("chinese_vocab");
  const std::string dir = scratch("plot_errors");
  auto r = run_cli("embed 新 " + model_arg(g) + " --plot " + quote(dir + "/one.svg"));
  check_failed(r, kExitUsage);
  CHECK_THAT(r.err, Contains("--plot"));
  r = run_cli("embed 新 年 " + model_arg(g) + " --plot " + quote(dir + "/no/such/dir/map.svg"));
  check_failed(r, kExitBadInput);
  CHECK_THAT(r.err, Contains("no/such/dir/map.svg"));
  CHECK_FALSE(std::filesystem::exists(dir + "/no"));
  // One word with its neighbours is enough for a map.
  r = run_cli("embed 新 " + model_arg(g) + " --plot " + quote(dir + "/one.svg") + " --plot-neighbors 4");
  CHECK(r.exit_code == 0);
  CHECK(svg_points(dir + "/one.svg").exit_code == 0);
}

TEST_CASE("embed --export: Projector TSVs and word2vec text, exact floats", "[embed][cli][export]") {
  const auto g = golden("learned_tied_gelutanh");
  const Model m = load_model(model_path(g));
  const std::string dir = scratch("export") + "/out";  // created by --export (its parent exists)
  auto r = run_cli("embed " + model_arg(g) + " --export " + quote(dir) + " --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out)["export"];
  const int n = m.tokenizer.size(), d = m.config.n_embd;
  CHECK(j["rows"] == n);
  CHECK(j["dim"] == d);

  const auto vec_rows = lines(read_file(dir + "/vectors.tsv"));
  REQUIRE(vec_rows.size() == static_cast<std::size_t>(n));
  for (int id = 0; id < n; ++id) {
    const auto cells = split(vec_rows[static_cast<std::size_t>(id)], '\t');
    REQUIRE(cells.size() == static_cast<std::size_t>(d));
    for (int k = 0; k < d; ++k)
      CHECK(std::strtof(cells[static_cast<std::size_t>(k)].c_str(), nullptr) ==
            m.weights.wte.row(id)[static_cast<std::size_t>(k)]);
  }
  const auto meta = lines(read_file(dir + "/metadata.tsv"));
  REQUIRE(meta.size() == static_cast<std::size_t>(n));  // one column: no header row
  CHECK(meta[0] == "<bos>");
  CHECK(meta[2] == "\xC2\xB7");  // the space token, shown as ·
  CHECK(meta[3] == "a");

  const auto w2v = lines(read_file(dir + "/word2vec.txt"));
  REQUIRE(w2v.size() == static_cast<std::size_t>(n) + 1);
  CHECK(w2v[0] == std::to_string(n) + " " + std::to_string(d));
  std::set<std::string> keys;
  for (int id = 0; id < n; ++id) {
    const auto cells = split(w2v[static_cast<std::size_t>(id) + 1], ' ');
    REQUIRE(cells.size() == static_cast<std::size_t>(d) + 1);
    CHECK(cells[0] == meta[static_cast<std::size_t>(id)]);
    keys.insert(cells[0]);
    CHECK(std::strtof(cells[1].c_str(), nullptr) == m.weights.wte.row(id)[0]);
  }
  CHECK(keys.size() == static_cast<std::size_t>(n));

  // A missing parent directory is an io error naming it; nothing is created.
  r = run_cli("embed " + model_arg(g) + " --export " + quote(dir + "/missing/deeper"));
  check_failed(r, kExitBadInput);
  CHECK_THAT(r.err, Contains(dir + "/missing"));
  CHECK_FALSE(std::filesystem::exists(dir + "/missing"));
}

TEST_CASE("export labels are unique and free of whitespace", "[embed][export]") {
  // The padded fixture's 5 padded rows are left out of the export.
  const Model m = load_model(fixture("ref/padded_vocab.model.json"));
  CHECK(projector_vectors_tsv(m.weights.wte, m.tokenizer.size()).size() > 0);
  const auto labels = export_labels(m.tokenizer);
  CHECK(labels.size() == static_cast<std::size_t>(m.tokenizer.size()));
  CHECK(std::set<std::string>(labels.begin(), labels.end()).size() == labels.size());
  for (const auto& l : labels) CHECK(l.find_first_of(" \t\n\r") == std::string::npos);
  CHECK(float_text(0.1f) == "0.1");
  CHECK(std::strtof(float_text(-1.17549435e-38f).c_str(), nullptr) == -1.17549435e-38f);
}

TEST_CASE("export labels: a character that looks like an escaped one gets its id appended", "[embed][export]") {
  // Space is shown as U+00B7 (·); a vocabulary that also holds a real · must not collide.
  auto j = read_json(fixture("ref/learned_tied_gelutanh.model.json"));
  auto& vocab = j["tokenizer"]["vocab"];
  const auto dot = std::find(vocab.begin(), vocab.end(), ".");
  REQUIRE(dot != vocab.end());
  *dot = "\xC2\xB7";
  const int dot_id = static_cast<int>(dot - vocab.begin());
  const Model m = load_model_from_text(j.dump(), "middle_dot.json");
  const auto labels = export_labels(m.tokenizer);
  CHECK(labels[2] == "\xC2\xB7");
  CHECK(labels[static_cast<std::size_t>(dot_id)] == "\xC2\xB7#" + std::to_string(dot_id));
  const std::string w2v = word2vec_text(m.weights.wte, labels);
  CHECK(w2v.rfind(std::to_string(labels.size()) + " " + std::to_string(m.config.n_embd) + "\n", 0) == 0);
}

TEST_CASE("embed on a byte-level BPE model: pieces, the leading-space hint, labels", "[embed][cli][bpe]") {
  const std::string m = quote(tiny_bpe_model());
  auto r = run_cli("embed king --exact -m " + m + " --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["tokens"] == nlohmann::json({"k", "i", "n", "g"}));
  CHECK(j["vectors"].size() == 4);
  CHECK(j.contains("mean"));
  CHECK_THAT(r.err, Contains("\" king\" is 1 token"));  // the hint, on stderr
  r = run_cli("embed king --exact -m " + m + " --no-vectors");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("BPE splits it into pieces"));
  CHECK(r.out.find("[ 0]") == std::string::npos);
  r = run_cli("embed ' king' -m " + m + " --neighbors 3 --all-tokens --json");
  REQUIRE(r.exit_code == 0);
  j = nlohmann::json::parse(r.out);
  CHECK(j["tokens"] == nlohmann::json({" king"}));
  CHECK(j["neighbors"].size() == 3);
  CHECK(r.err.find("usually follows a space") == std::string::npos);
  // A character outside every merge is its UTF-8 bytes; labels show them as \xNN.
  r = run_cli("embed 月 -m " + m + " --json");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["ids"].size() == 3);
  const Model model = load_model(tiny_bpe_model());
  const auto labels = export_labels(model.tokenizer);
  CHECK(labels[static_cast<std::size_t>(*model.tokenizer.lookup("\xC4\xA0king"))] == "\xC2\xB7king");
  CHECK(std::find(labels.begin(), labels.end(), "\\xE6") != labels.end());
  CHECK(std::set<std::string>(labels.begin(), labels.end()).size() == labels.size());
}

TEST_CASE("embed on a byte-level BPE model: words as they stand in a sentence, --exact as typed", "[embed][cli][bpe]") {
  const std::string m = quote(tiny_bpe_model());
  // "king" is four byte tokens and " king" one: the word is looked up as " king", and said so.
  auto r = run_cli("embed king -m " + m + " --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["word"] == "king");
  CHECK(j["looked_up_as"] == " king");
  CHECK(j["tokens"] == nlohmann::json({" king"}));
  CHECK_THAT(r.err, Contains("\"king\" looked up as \" king\""));
  CHECK(r.err.find("usually follows a space") == std::string::npos);
  // --exact: as typed, four tokens, no note about the form.
  r = run_cli("embed king --exact -m " + m + " --json");
  REQUIRE(r.exit_code == 0);
  j = nlohmann::json::parse(r.out);
  CHECK(j["tokens"].size() == 4);
  CHECK_FALSE(j.contains("looked_up_as"));
  CHECK(r.err.find("looked up as") == std::string::npos);
  // "k" is one token, and so is " k": the word is " k" (the bare one is mostly a piece).
  r = run_cli("embed k -m " + m + " --json");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["tokens"] == nlohmann::json({" k"}));
  // Not one token with its space either ("kg"): as typed.
  r = run_cli("embed kg -m " + m + " --json");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["tokens"] == nlohmann::json({"k", "g"}));
  // --similarity's word is looked up the same way.
  r = run_cli("embed king --similarity kin -m " + m + " --json");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["similarity"]["tokens"] == nlohmann::json({" kin"}));
}

TEST_CASE("embed --analogy on a byte-level BPE model: as typed, with or without quoted spaced words",
          "[embed][cli][bpe]") {
  const std::string m = quote(tiny_bpe_model());
  const auto results = [&](const std::string& expression, const std::string& flags) {
    const RunResult r = run_cli("embed --analogy " + quote(expression) + " -m " + m + " --json " + flags);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out)["analogy"];
  };
  const auto typed = results("king - ki + kin", "--all-tokens");
  const auto quoted_form = results("\" king\" - \" ki\" + \" kin\"", "--all-tokens");
  CHECK(typed["results"] == quoted_form["results"]);
  CHECK(typed["results"].size() == 10);
  // --exact reads "king" as its four bytes: another query, other results.
  CHECK(results("king - ki + kin", "--all-tokens --exact")["results"] != typed["results"]);
}

TEST_CASE("embed on a byte-level BPE model: neighbours are whole words unless --all-tokens", "[embed][cli][bpe]") {
  const std::string m = quote(tiny_bpe_model());
  // Whole words here: " k", " ki", " kin" (and " king", the word itself, left out).
  auto r = run_cli("embed king -m " + m + " --neighbors 10 --json");
  REQUIRE(r.exit_code == 0);
  auto n = nlohmann::json::parse(r.out)["neighbors"];
  std::set<std::string> tokens;
  for (const auto& t : n) tokens.insert(t["token"].get<std::string>());
  CHECK(tokens == std::set<std::string>{" k", " ki", " kin"});
  r = run_cli("embed king -m " + m + " --neighbors 10 --all-tokens --json");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["neighbors"].size() == 10);
  // The library's rule: a space, then letters.
  const Model model = load_model(tiny_bpe_model());
  const Tokenizer& tok = model.tokenizer;
  CHECK(is_whole_word(tok, *tok.lookup("\xC4\xA0king")));
  CHECK_FALSE(is_whole_word(tok, *tok.lookup("k")));
  CHECK_FALSE(is_whole_word(tok, *tok.lookup("\xC4\xA0")));
  CHECK_FALSE(is_whole_word(tok, *tok.lookup("<|endoftext|>")));
  CHECK(word_form(tok, "king") == " king");
  CHECK(word_form(tok, "k") == " k");
  CHECK(word_form(tok, "kg") == "kg");
  CHECK(word_form(tok, " ki") == " ki");
}

TEST_CASE("embed on the shipped English model: the tutorial's words as typed", "[embed][cli][bpe][models]") {
  auto r = run_cli("embed king -m english-kjv --neighbors 10 --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["tokens"] == nlohmann::json({" king"}));
  for (const auto& t : j["neighbors"]) {
    const std::string token = t["token"];
    CHECK(token.size() > 1);
    CHECK(token[0] == ' ');
  }
  r = run_cli("embed --analogy 'king - man + woman' -m english-kjv --json");
  REQUIRE(r.exit_code == 0);
  j = nlohmann::json::parse(r.out)["analogy"];
  CHECK(j["results"].size() == 10);
}

TEST_CASE("embed on a char model: a character is a word, unchanged by the word rules", "[embed][cli]") {
  const auto g = golden("chinese_vocab");
  const RunResult plain = run_cli("embed 新 " + model_arg(g) + " --neighbors 3 --json");
  const RunResult exact = run_cli("embed 新 " + model_arg(g) + " --neighbors 3 --json --exact --all-tokens");
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.out == exact.out);
  CHECK(plain.err.find("looked up as") == std::string::npos);
}
