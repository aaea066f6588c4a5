// One look at the embedding table: every part an EmbeddingRequest asks for, computed once
// into an EmbeddingReport. The renderers (embedding_text.cpp, embedding_json.cpp,
// embedding_plot.cpp, embedding_export.cpp) show it without going back to the model.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <set>

#include "tinygpt/embedding.h"
#include "tinygpt/error.h"
#include "utf8.h"

namespace tinygpt {
namespace {

// A sum of unit vectors shorter than this is rounding noise: the terms cancel out.
constexpr double kCancelled = 1e-6;

std::vector<float> copy(std::span<const float> v) { return {v.begin(), v.end()}; }

std::vector<RankedToken> ranked(const Tokenizer& tok, const std::vector<Neighbor>& ns) {
  std::vector<RankedToken> out;
  for (const Neighbor& n : ns) out.push_back({n.id, tok.token_text(n.id), tok.piece(n.id), n.cosine});
  return out;
}

// GPT-2-style vocabularies hold most words with their leading space (" king" is one
// token where "king" may be two): the pieces of " " + word when that is shorter.
std::vector<std::string> spaced_pieces(const Tokenizer& tok, const std::string& word, std::size_t n_tokens) {
  if (tok.type() != TokenizerType::byte_bpe || word.empty() || word[0] == ' ') return {};
  const auto spaced = tok.encode(" " + word);
  if (spaced.size() >= n_tokens) return {};
  std::vector<std::string> pieces;
  for (const auto id : spaced) pieces.push_back(tok.piece(id));
  return pieces;
}

// `v` is the word as looked up (its word_form), `given` as the request spelled it.
EmbeddedWord describe(const Model& model, WordVector v, const std::string& given) {
  const Tokenizer& tok = model.tokenizer;
  EmbeddedWord w{given, std::move(v.ids), {}, {}, {}, std::move(v.mean), false, {}, std::move(v.word)};
  for (const auto id : w.ids) {
    w.tokens.push_back(tok.token_text(id));
    w.pieces.push_back(tok.piece(id));
    w.rows.push_back(copy(model.weights.wte.row(id)));
  }
  w.has_unknown = tok.unk_id() && std::find(w.ids.begin(), w.ids.end(), *tok.unk_id()) != w.ids.end();
  w.spaced_pieces = spaced_pieces(tok, w.looked_up, w.ids.size());
  return w;
}

std::string looked_up(const Model& model, const std::string& word, bool exact) {
  return exact ? word : word_form(model.tokenizer, word);
}

EmbeddedWord embed_word(const Model& model, const std::string& word, bool exact) {
  return describe(model, word_vector(model, looked_up(model, word, exact)), word);
}

EmbeddedPosition embed_position(const Model& model, const EmbeddedWord& w, int start) {
  const int n_ctx = model.config.n_ctx;
  const std::int64_t n = static_cast<std::int64_t>(w.ids.size());
  // In 64 bits: near INT_MAX, start + n - 1 would overflow an int and pass the check.
  const std::int64_t last = std::int64_t{start} + n - 1;
  if (start < 0 || last >= n_ctx)
    throw_parameter_error("position", "position " + std::to_string(start) + ": the model has positions 0.." +
                                          std::to_string(n_ctx - 1) +
                                          (n > 1 ? " and the word's " + std::to_string(n) + " tokens need " +
                                                       std::to_string(start) + ".." + std::to_string(last)
                                                 : ""));
  EmbeddedPosition p;
  p.start = start;
  p.learned = model.config.positional == Positional::learned;
  for (std::size_t i = 0; i < w.ids.size(); ++i) {
    const int pos = start + static_cast<int>(i);
    const auto e = model.weights.wte.row(w.ids[i]);
    const auto pe = model.weights.wpe.row(pos);
    std::vector<float> x(e.size());
    for (std::size_t j = 0; j < x.size(); ++j) x[j] = e[j] + pe[j];  // as the forward pass adds them
    p.positions.push_back(pos);
    p.vectors.push_back(copy(pe));
    p.inputs.push_back(std::move(x));
  }
  if (const auto bos = model.tokenizer.bos_id()) p.bos_piece = model.tokenizer.piece(*bos);
  return p;
}

EmbeddedAnalogy embed_analogy(const Model& model, const UnitTable& table, const std::string& expression, std::size_t k,
                              bool exact) {
  std::vector<AnalogyTerm> terms = parse_analogy(expression);
  const std::vector<AnalogyTerm> given = terms;
  for (AnalogyTerm& t : terms) t.word = looked_up(model, t.word, exact);
  Analogy a = analogy(model, table, terms, k);
  // Otherwise the query is zero and every token scores 0: a ranking that means nothing.
  if (a.length < kCancelled)
    throw_parameter_error("analogy", "analogy \"" + expression +
                                         "\": the terms' unit vectors sum to zero, so there is no direction to search");
  EmbeddedAnalogy r;
  r.expression = expression;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    r.signs.push_back(terms[i].sign);
    r.terms.push_back(describe(model, std::move(a.terms[i]), given[i].word));
  }
  r.query = std::move(a.query);
  r.results = ranked(model.tokenizer, a.results);
  return r;
}

// The words first, then each word's nearest tokens that are not on the map yet.
EmbeddedPlot embed_plot(const Model& model, const UnitTable& table, const std::vector<EmbeddedWord>& words,
                        std::size_t k) {
  EmbeddedPlot plot;
  plot.neighbors_per_word = k;
  std::vector<std::vector<float>> vectors;
  std::set<std::int32_t> shown;  // single-token words and neighbours: each token is drawn once
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i].ids.size() == 1) shown.insert(words[i].ids[0]);
    plot.points.push_back({utf8::sanitize(words[i].word), words[i].ids, false, static_cast<int>(i), 0, 0, 0});
    vectors.push_back(words[i].mean);
  }
  for (std::size_t i = 0; i < words.size() && k > 0; ++i) {
    for (const Neighbor& n : nearest(table, words[i].mean, k, words[i].ids)) {
      if (!shown.insert(n.id).second) continue;
      plot.points.push_back({model.tokenizer.piece(n.id), {n.id}, true, static_cast<int>(i), n.cosine, 0, 0});
      vectors.push_back(copy(model.weights.wte.row(n.id)));
    }
  }
  const Pca2 pca = pca_2d(vectors);
  for (std::size_t i = 0; i < plot.points.size(); ++i) {
    plot.points[i].x = pca.points[i][0];
    plot.points[i].y = pca.points[i][1];
  }
  plot.explained = pca.explained;
  return plot;
}

EmbeddedTable embed_table(const Model& model) {
  const Matrix& wte = model.weights.wte;
  EmbeddedTable t;
  t.rows = model.tokenizer.size();
  t.dim = wte.cols;
  t.labels = export_labels(model.tokenizer);
  const auto real = wte.data.first(static_cast<std::size_t>(t.rows) * static_cast<std::size_t>(t.dim));
  t.values.assign(real.begin(), real.end());
  return t;
}

// The parts that describe one word.
void describe_word(const Model& model, const EmbeddingRequest& request, const UnitTable& table, EmbeddingReport& r) {
  const EmbeddedWord& w = r.words[0];
  if (request.position) r.position = embed_position(model, w, *request.position);
  if (request.neighbors) r.neighbors = ranked(model.tokenizer, nearest(table, w.mean, *request.neighbors, w.ids));
  if (request.similarity) {
    EmbeddedWord other = embed_word(model, *request.similarity, request.exact);
    const double c = cosine(w.mean, other.mean);
    r.similarity = EmbeddedSimilarity{std::move(other), c};
  }
}

}  // namespace

EmbeddingReport embedding_report(const Model& model, const EmbeddingRequest& request) {
  if (request.words.size() > 1 && (request.position || request.neighbors || request.similarity))
    throw_parameter_error("words", "position, neighbors and similarity describe one word; words holds " +
                                       std::to_string(request.words.size()));
  const Tokenizer& tok = model.tokenizer;
  EmbeddingReport r;
  r.model_name = std::filesystem::path(model.path).filename().string();
  r.tokenizer = tok.type();
  r.unk_id = tok.unk_id();
  if (r.unk_id) r.unk_piece = tok.piece(*r.unk_id);
  for (const std::string& s : request.words) {
    if (std::none_of(r.words.begin(), r.words.end(), [&](const EmbeddedWord& w) { return w.word == s; }))
      r.words.push_back(embed_word(model, s, request.exact));
  }
  r.one_word = request.words.size() == 1;
  const bool need_table = request.neighbors || request.analogy || (request.plot && request.plot_neighbors > 0);
  UnitTable table = need_table ? unit_table(model) : UnitTable{};
  if (need_table && !request.all_tokens) keep_whole_words(table, tok);
  if (r.one_word) describe_word(model, request, table, r);
  if (request.analogy)
    r.analogy = embed_analogy(model, table, *request.analogy, request.neighbors.value_or(kDefaultAnalogyResults),
                              request.exact);
  if (request.plot) r.plot = embed_plot(model, table, r.words, request.plot_neighbors);
  if (request.export_table) r.table = embed_table(model);
  return r;
}

}  // namespace tinygpt
