// Quality bars for the shipped, trained models (models/README.md quotes these numbers).
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "helpers.h"
#include "tinygpt/generate.h"
#include "tinygpt/load.h"
#include "tinygpt/perplexity.h"
#include "utf8.h"

using namespace tinygpt;
using tinygpt::test::read_file;
using tinygpt::test::read_json;

namespace {

std::string repo(const std::string& rel) { return std::string(TINYGPT_SOURCE_DIR) + "/" + rel; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// Clauses are the runs of characters between ， 。 ？ ！ (and line ends).
struct ClauseStats {
  int clauses = 0, five_or_seven = 0;
  double share() const { return clauses ? double(five_or_seven) / clauses : 0.0; }
};

void count_clauses(const std::string& text, ClauseStats& s) {
  int length = 0;
  auto close = [&] {
    if (length > 0) {
      s.clauses += 1;
      s.five_or_seven += (length == 5 || length == 7);
    }
    length = 0;
  };
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8::sequence_length(text, i);
    const std::string ch = text.substr(i, n ? n : 1);
    if (ch == "，" || ch == "。" || ch == "？" || ch == "！" || ch == "\n") close();
    else length += 1;
    i += n ? n : 1;
  }
  close();
}

// The C++ engine and PyTorch (numbers written by tools/train.py) on the same held-out slice.
void check_val_slice(const std::string& name, bool per_line) {
  const Model model = load_model(repo("models/" + name + ".json"));
  const auto summary = read_json(repo("models/" + name + ".train.json"))["val_slice"];
  const std::string text = read_file(repo(summary["file"].get<std::string>()));
  const Perplexity p = evaluate(model, per_line ? lines_of(text) : std::vector<std::string>{text});
  INFO(name << ": C++ " << p.per_token() << " nats/token, PyTorch " << summary["loss_per_token"].get<double>());
  CHECK(p.tokens == summary["tokens_scored"].get<std::int64_t>());
  CHECK(std::fabs(p.per_token() - summary["loss_per_token"].get<double>()) < 1e-3);
  WARN(name << " held-out slice: C++ " << p.per_token() << " vs PyTorch " << summary["loss_per_token"].get<double>()
            << " nats/token");
}

}  // namespace

TEST_CASE("tang-poems: the C++ loss on the held-out slice equals PyTorch's to 1e-3", "[models]") {
  check_val_slice("tang-poems", true);
}

TEST_CASE("english-kjv: the C++ loss on the held-out slice equals PyTorch's to 1e-3", "[models]") {
  check_val_slice("english-kjv", false);
}

TEST_CASE("english-kjv: the C++ BPE encodes the held-out slice exactly as the Python trainer did", "[models]") {
  const Model model = load_model(repo("models/english-kjv.json"));
  const auto expected = read_json(repo("data/english_val_slice.ids.json"));
  const auto ids = model.tokenizer.encode(read_file(repo("data/english_val_slice.txt")));
  const auto& want = expected.is_object() ? expected["ids"] : expected;
  CHECK(nlohmann::json(ids) == want);
}

TEST_CASE("tang-poems: 100 seeded poems at temperature 0.8 end by themselves and keep 5/7-character clauses",
          "[models]") {
  const Model model = load_model(repo("models/tang-poems.json"));
  ClauseStats corpus;
  count_clauses(read_file(repo("data/tang_val.txt")), corpus);
  GenerateParams params;
  params.max_new_tokens = 200;
  params.sampler = {0.8f, 0, 1.0f};  // plain temperature sampling, no truncation
  int ended = 0;
  ClauseStats samples;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    params.seed = seed;
    const GenerateResult r = generate(model, "", params);
    ended += r.stop == StopReason::eos;
    count_clauses(model.tokenizer.decode(r.ids), samples);
  }
  WARN("tang-poems: " << ended << "/100 ended with <eos>; 5/7-character clauses: samples " << 100 * samples.share()
                      << " %, corpus (validation split) " << 100 * corpus.share() << " %");
  CHECK(ended >= 90);
  CHECK(std::fabs(samples.share() - corpus.share()) <= 0.05);
}

TEST_CASE("english-kjv: samples are mostly words of the corpus", "[models]") {
  const Model model = load_model(repo("models/english-kjv.json"));
  std::set<std::string> vocabulary;
  for (const auto& w : lines_of(read_file(repo("data/kjv_words.txt")))) vocabulary.insert(w);
  GenerateParams params;
  params.max_new_tokens = 120;
  params.sampler = {0.8f, 0, 1.0f};
  int words = 0, known = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    params.seed = seed;
    const std::string text = model.tokenizer.decode(generate(model, "", params).ids);
    std::string word;
    auto flush = [&] {
      if (word.empty()) return;
      words += 1;
      known += vocabulary.contains(word);
      word.clear();
    };
    for (char c : text) {
      if (std::isalpha(static_cast<unsigned char>(c)))
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      else flush();
    }
    flush();
  }
  WARN("english-kjv: " << known << " of " << words << " sampled words are in the corpus vocabulary");
  REQUIRE(words > 200);
  CHECK(known >= 0.9 * words);
}
