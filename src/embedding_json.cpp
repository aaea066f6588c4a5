// A report as one JSON object for scripts: the raw rows as numbers that read back as the
// very same floats, each part under its own key.
#include <nlohmann/json.hpp>

#include "embedding_format.h"
#include "tinygpt/embedding.h"
#include "utf8.h"

namespace tinygpt {

using namespace embedding_format;

namespace {

nlohmann::json ranking_json(const std::vector<RankedToken>& ns) {
  nlohmann::json a = nlohmann::json::array();
  for (const RankedToken& n : ns) a.push_back({{"id", n.id}, {"token", n.token}, {"cosine", n.cosine}});
  return a;
}

nlohmann::json word_json(const EmbeddedWord& w) {
  nlohmann::json norms = nlohmann::json::array();
  for (const auto& row : w.rows) norms.push_back(norm(row));
  nlohmann::json j = {
      {"word", utf8::sanitize(w.word)}, {"ids", w.ids}, {"tokens", w.tokens}, {"vectors", w.rows}, {"norms", norms}};
  if (w.ids.size() > 1) j["mean"] = w.mean;
  if (w.looked_up != w.word) j["looked_up_as"] = utf8::sanitize(w.looked_up);  // its leading-space form
  return j;
}

nlohmann::json position_json(const EmbeddedPosition& p) {
  return {{"start", p.start},
          {"kind", p.learned ? "learned" : "sinusoidal"},
          {"positions", p.positions},
          {"vectors", p.vectors},
          {"inputs", p.inputs}};
}

nlohmann::json similarity_json(const EmbeddedSimilarity& s) {
  return {
      {"other", utf8::sanitize(s.other.word)}, {"ids", s.other.ids}, {"tokens", s.other.tokens}, {"cosine", s.cosine}};
}

// The JSON of the part that describes one word.
nlohmann::json one_word_json(const EmbeddingReport& r) {
  nlohmann::json j = word_json(r.words[0]);
  if (r.position) j["position"] = position_json(*r.position);
  if (r.neighbors) j["neighbors"] = ranking_json(*r.neighbors);
  if (r.similarity) j["similarity"] = similarity_json(*r.similarity);
  return j;
}

nlohmann::json analogy_json(const EmbeddedAnalogy& a) {
  nlohmann::json pos = nlohmann::json::array(), neg = nlohmann::json::array(), ids = nlohmann::json::array();
  for (std::size_t i = 0; i < a.terms.size(); ++i) {
    (a.signs[i] > 0 ? pos : neg).push_back(utf8::sanitize(a.terms[i].word));
    ids.push_back(a.terms[i].ids);
  }
  return {{"expression", utf8::sanitize(a.expression)},
          {"positive", pos},
          {"negative", neg},
          {"ids", ids},
          {"method", "3CosAdd"},
          {"results", ranking_json(a.results)}};
}

nlohmann::json plot_json(const EmbeddingReport& r, const std::string& file) {
  nlohmann::json points = nlohmann::json::array();
  for (const PlotPoint& p : r.plot->points) {
    nlohmann::json pj = {
        {"label", p.label}, {"kind", p.neighbor ? "neighbor" : "word"}, {"ids", p.ids}, {"x", p.x}, {"y", p.y}};
    if (p.neighbor) pj["neighbor_of"] = utf8::sanitize(r.words[static_cast<std::size_t>(p.word)].word);
    points.push_back(std::move(pj));
  }
  return {{"file", file}, {"explained_variance_ratio", r.plot->explained}, {"points", std::move(points)}};
}

nlohmann::json export_json(const EmbeddedTable& t, const std::string& dir) {
  return {{"dir", dir},
          {"vectors", export_path(dir, kVectorsFile)},
          {"metadata", export_path(dir, kMetadataFile)},
          {"word2vec", export_path(dir, kWord2vecFile)},
          {"rows", t.rows},
          {"dim", t.dim}};
}

}  // namespace

nlohmann::json embedding_json(const EmbeddingReport& r, const EmbeddingOutputs& outputs) {
  nlohmann::json j = r.one_word ? one_word_json(r) : nlohmann::json::object();
  if (r.analogy) j["analogy"] = analogy_json(*r.analogy);
  if (r.plot) j["plot"] = plot_json(r, outputs.plot_file);
  if (r.table) j["export"] = export_json(*r.table, outputs.export_dir);
  return j;
}

}  // namespace tinygpt
