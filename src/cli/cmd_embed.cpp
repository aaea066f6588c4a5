// tiny-gpt embed WORD: the word's rows of the embedding table, its nearest tokens, cosine
// similarity, analogies, a 2-D PCA map (SVG) and exports for the Embedding Projector and
// word2vec tools. The geometry lives in the library (tinygpt/embedding.h); this file
// parses flags and prints.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common.h"
#include "tinygpt/embedding.h"
#include "tinygpt/error.h"
#include "output_file.h"
#include "utf8.h"

namespace tinygpt::cli {
namespace {

constexpr std::size_t kDefaultAnalogyResults = 10;

struct EmbedOptions {
  ModelOptions model;
  std::vector<std::string> words;
  std::optional<int> position;
  std::optional<std::size_t> neighbors;
  std::optional<std::string> similarity;
  std::optional<std::string> analogy;
  std::string plot;
  std::size_t plot_neighbors = 0;
  std::string export_dir;
  bool json = false;
  bool no_vectors = false;
};

// ---- text output ------------------------------------------------------------------

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string quoted(const std::string& s) { return "\"" + utf8::sanitize(s) + "\""; }

// Eight values a line, four decimals, each line led by the index of its first value.
std::string vector_text(std::span<const float> v, const std::string& indent) {
  std::string out;
  const int width = static_cast<int>(std::to_string(v.size() > 0 ? v.size() - 1 : 0).size());
  for (std::size_t i = 0; i < v.size(); i += 8) {
    char head[32];
    std::snprintf(head, sizeof head, "[%*zu]", width, i);
    out += indent + head;
    for (std::size_t j = i; j < std::min(v.size(), i + 8); ++j) out += fmt(" %8.4f", v[j]);
    out += "\n";
  }
  return out;
}

std::string pad_to(const std::string& s, int columns) {
  return s + std::string(static_cast<std::size_t>(std::max(0, columns - utf8::display_width(s))), ' ');
}

std::string neighbors_text(const Tokenizer& tok, const std::vector<Neighbor>& ns) {
  int w = 5;
  for (const Neighbor& n : ns) w = std::max(w, utf8::display_width(tok.piece(n.id)));
  const int rank_w = static_cast<int>(std::to_string(ns.size()).size());
  std::string out;
  for (std::size_t i = 0; i < ns.size(); ++i) {
    char rank[16];
    std::snprintf(rank, sizeof rank, "%*zu. ", rank_w, i + 1);
    out += std::string("  ") + rank + pad_to(tok.piece(ns[i].id), w) + fmt("  %7.4f", ns[i].cosine) +
           "  (id " + std::to_string(ns[i].id) + ")\n";
  }
  return out;
}

std::string pieces_text(const Tokenizer& tok, const std::vector<std::int32_t>& ids) {
  std::string s;
  for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + tok.piece(ids[i]);
  return s;
}

// ---- JSON ---------------------------------------------------------------------------

std::string token_text(const Tokenizer& tok, std::int32_t id) {
  return tok.is_special(id) ? tok.token_bytes(id) : utf8::sanitize(tok.token_bytes(id));
}

nlohmann::json tokens_json(const Tokenizer& tok, const std::vector<std::int32_t>& ids) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto id : ids) a.push_back(token_text(tok, id));
  return a;
}

nlohmann::json neighbors_json(const Tokenizer& tok, const std::vector<Neighbor>& ns) {
  nlohmann::json a = nlohmann::json::array();
  for (const Neighbor& n : ns) a.push_back({{"id", n.id}, {"token", token_text(tok, n.id)}, {"cosine", n.cosine}});
  return a;
}

nlohmann::json vector_json(std::span<const float> v) { return std::vector<float>(v.begin(), v.end()); }

// ---- the parts ----------------------------------------------------------------------

void note_unknown(const Model& model, const WordVector& w) {
  const auto unk = model.tokenizer.unk_id();
  if (unk && std::find(w.ids.begin(), w.ids.end(), *unk) != w.ids.end())
    spdlog::warn("{} holds characters the vocabulary lacks: they became {} (id {})", quoted(w.word),
                 model.tokenizer.piece(*unk), *unk);
}

// GPT-2-style vocabularies hold most words with their leading space (" king" is one
// token where "king" may be two); say so when that is the case for this word.
void hint_leading_space(const Model& model, const WordVector& w) {
  const Tokenizer& tok = model.tokenizer;
  if (tok.type() != TokenizerType::byte_bpe || w.word.empty() || w.word[0] == ' ') return;
  const auto spaced = tok.encode(" " + w.word);
  if (spaced.size() < w.ids.size())
    spdlog::info("in running text a word usually follows a space: \" {}\" is {} token{} ({}); try embed \" {}\"",
                 utf8::sanitize(w.word), spaced.size(), spaced.size() == 1 ? "" : "s", pieces_text(tok, spaced),
                 utf8::sanitize(w.word));
}

std::string word_text(const Model& model, const WordVector& w, bool vectors) {
  const Tokenizer& tok = model.tokenizer;
  std::string out = quoted(w.word) + " is " + std::to_string(w.ids.size()) +
                    (w.ids.size() == 1 ? " token" : " tokens");
  if (w.ids.size() > 1)
    out += tok.type() == TokenizerType::byte_bpe ? " (not one vocabulary entry: BPE splits it into pieces)"
                                                 : " (one per character)";
  out += ":\n";
  for (std::size_t i = 0; i < w.ids.size(); ++i) {
    const auto id = w.ids[i];
    const auto row = model.weights.wte.row(id);
    out += "  id " + std::to_string(id) + "  " + tok.piece(id) + "  norm " + fmt("%.4f", norm(row)) +
           "   (row " + std::to_string(id) + " of wte: one-hot(" + std::to_string(id) + ") x wte)\n";
    if (vectors) out += vector_text(row, "    ");
  }
  if (w.ids.size() > 1) {
    out += "  mean of the " + std::to_string(w.ids.size()) +
           " rows (what --neighbors, --similarity and --analogy use)  norm " + fmt("%.4f", norm(w.mean)) + "\n";
    if (vectors) out += vector_text(w.mean, "    ");
  }
  return out;
}

nlohmann::json position_part(const Model& model, const WordVector& w, int p, std::string& text) {
  const Weights& wt = model.weights;
  const int n_ctx = model.config.n_ctx;
  const int last = p + static_cast<int>(w.ids.size()) - 1;
  if (p < 0 || last >= n_ctx)
    throw_usage_error("--position " + std::to_string(p) + ": the model has positions 0.." + std::to_string(n_ctx - 1) +
                      (w.ids.size() > 1 ? " and the word's " + std::to_string(w.ids.size()) + " tokens need " +
                                              std::to_string(p) + ".." + std::to_string(last)
                                        : ""));
  const bool learned = model.config.positional == Positional::learned;
  nlohmann::json positions = nlohmann::json::array(), vectors = nlohmann::json::array(), inputs = nlohmann::json::array();
  for (std::size_t i = 0; i < w.ids.size(); ++i) {
    const int pos = p + static_cast<int>(i);
    const auto e = wt.wte.row(w.ids[i]);
    const auto pe = wt.wpe.row(pos);
    std::vector<float> x(e.size());
    for (std::size_t j = 0; j < x.size(); ++j) x[j] = e[j] + pe[j];  // as the forward pass adds them
    text += "\nposition " + std::to_string(pos) + ": " +
            (learned ? "row " + std::to_string(pos) + " of wpe (learned)" : std::string("sinusoid PE[") + std::to_string(pos) + "]") +
            "  norm " + fmt("%.4f", norm(pe)) + "\n" + vector_text(pe, "    ");
    text += "input to block 0 = wte[" + std::to_string(w.ids[i]) + "] + " + (learned ? "wpe[" : "PE[") +
            std::to_string(pos) + "]  (" + model.tokenizer.piece(w.ids[i]) + " at position " + std::to_string(pos) +
            ")  norm " + fmt("%.4f", norm(x)) + "\n" + vector_text(x, "    ");
    positions.push_back(pos);
    vectors.push_back(vector_json(pe));
    inputs.push_back(vector_json(x));
  }
  if (model.tokenizer.bos_id())
    text += "(prompts start with " + model.tokenizer.piece(*model.tokenizer.bos_id()) +
            " at position 0, so a prompt's first word sits at position 1)\n";
  return {{"start", p},
          {"kind", learned ? "learned" : "sinusoidal"},
          {"positions", positions},
          {"vectors", vectors},
          {"inputs", inputs}};
}

struct PlotResult {
  nlohmann::json json;
  std::string text;
};

PlotResult plot_part(const Model& model, const UnitTable& table, const std::vector<WordVector>& words,
                     const EmbedOptions& o) {
  const Tokenizer& tok = model.tokenizer;
  std::vector<MapPoint> points;
  std::vector<std::vector<float>> vectors;
  std::vector<std::vector<std::int32_t>> point_ids;
  std::map<std::int32_t, int> single;  // token id -> its point, so a neighbour is drawn once
  for (const WordVector& w : words) {
    if (w.ids.size() == 1) single.emplace(w.ids[0], static_cast<int>(points.size()));
    points.push_back({utf8::sanitize(w.word), quoted(w.word) + ": ids " + nlohmann::json(w.ids).dump() + ", tokens " +
                                                  pieces_text(tok, w.ids),
                      0, 0, false, -1});
    vectors.push_back(w.mean);
    point_ids.push_back(w.ids);
  }
  if (o.plot_neighbors > 0) {
    const std::size_t n_words = words.size();
    for (std::size_t i = 0; i < n_words; ++i) {
      for (const Neighbor& n : nearest(table, words[i].mean, o.plot_neighbors, words[i].ids)) {
        if (single.count(n.id)) continue;
        single.emplace(n.id, static_cast<int>(points.size()));
        points.push_back({tok.piece(n.id),
                          tok.piece(n.id) + " (id " + std::to_string(n.id) + "): cosine " + fmt("%.4f", n.cosine) +
                              " with " + quoted(words[i].word),
                          0, 0, true, static_cast<int>(i)});
        const auto row = model.weights.wte.row(n.id);
        vectors.emplace_back(row.begin(), row.end());
        point_ids.push_back({n.id});
      }
    }
  }
  if (points.size() < 2)
    throw_usage_error("--plot needs at least 2 points: give several words, or add --plot-neighbors K");

  const Pca2 pca = pca_2d(vectors);
  for (std::size_t i = 0; i < points.size(); ++i) {
    points[i].x = pca.points[i][0];
    points[i].y = pca.points[i][1];
  }
  const std::string name = std::filesystem::path(model.path).filename().string();
  std::string title = name + ": " + std::to_string(words.size()) + (words.size() == 1 ? " word" : " words");
  if (o.plot_neighbors > 0)
    title += " and their " + std::to_string(o.plot_neighbors) + " nearest tokens";
  write_file_atomically(o.plot, map_svg(points, title, pca.explained));
  spdlog::info("wrote {} ({} points)", o.plot, points.size());

  PlotResult r;
  nlohmann::json pts = nlohmann::json::array();
  int w = 5;
  for (const MapPoint& p : points) w = std::max(w, utf8::display_width(p.label));
  r.text = "\nPCA map of " + std::to_string(points.size()) + " points in " + o.plot + " (PC1 " +
           fmt("%.1f%%", pca.explained[0] * 100) + ", PC2 " + fmt("%.1f%%", pca.explained[1] * 100) +
           " of their variance):\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const MapPoint& p = points[i];
    nlohmann::json pj = {{"label", p.label},
                         {"kind", p.neighbor ? "neighbor" : "word"},
                         {"ids", point_ids[i]},
                         {"x", p.x},
                         {"y", p.y}};
    if (p.neighbor) pj["neighbor_of"] = utf8::sanitize(words[static_cast<std::size_t>(p.parent)].word);
    pts.push_back(std::move(pj));
    r.text += "  " + pad_to(p.label, w) + fmt("  x %8.4f", p.x) + fmt("  y %8.4f", p.y) +
              (p.neighbor ? "  (near " + quoted(words[static_cast<std::size_t>(p.parent)].word) + ")" : "") + "\n";
  }
  r.json = {{"file", o.plot}, {"explained_variance_ratio", pca.explained}, {"points", std::move(pts)}};
  return r;
}

void run(const EmbedOptions& o) {
  // Flags that contradict each other are usage errors before the model is read.
  const bool plotting = !o.plot.empty();
  if (o.words.empty() && !o.analogy && o.export_dir.empty())
    throw_usage_error("embed: give a WORD (or --analogy \"A - B + C\", or --export DIR)");
  if (o.words.size() > 1 && !plotting)
    throw_usage_error("embed: " + std::to_string(o.words.size()) +
                      " words given; only --plot takes several (the other flags describe one WORD)");
  if (o.words.size() > 1 && (o.position || o.neighbors || o.similarity))
    throw_usage_error("embed: --position, --neighbors and --similarity describe one WORD; with --plot and several "
                      "words, use --plot-neighbors K");
  if (plotting && o.words.empty()) throw_usage_error("--plot: give the words to map");
  if (o.plot_neighbors > 0 && !plotting) throw_usage_error("--plot-neighbors: only with --plot FILE.svg");
  std::vector<AnalogyTerm> terms;
  if (o.analogy) terms = parse_analogy(*o.analogy);

  const Model model = load(o.model);
  const Tokenizer& tok = model.tokenizer;
  std::vector<WordVector> words;
  for (const std::string& s : o.words) {
    if (std::any_of(words.begin(), words.end(), [&](const WordVector& w) { return w.word == s; })) continue;
    words.push_back(word_vector(model, s));
    note_unknown(model, words.back());
  }
  const bool one_word = o.words.size() == 1;
  const bool need_table = o.neighbors || o.analogy || o.plot_neighbors > 0;
  const UnitTable table = need_table ? unit_table(model) : UnitTable{};

  nlohmann::json j = nlohmann::json::object();
  std::string text;
  if (one_word) {
    const WordVector& w = words[0];
    nlohmann::json vectors = nlohmann::json::array(), norms = nlohmann::json::array();
    for (const auto id : w.ids) {
      vectors.push_back(vector_json(model.weights.wte.row(id)));
      norms.push_back(norm(model.weights.wte.row(id)));
    }
    j = {{"word", utf8::sanitize(w.word)}, {"ids", w.ids}, {"tokens", tokens_json(tok, w.ids)},
         {"vectors", vectors},             {"norms", norms}};
    if (w.ids.size() > 1) j["mean"] = vector_json(w.mean);
    text += word_text(model, w, !o.no_vectors);
    hint_leading_space(model, w);
    if (o.position) j["position"] = position_part(model, w, *o.position, text);
    if (o.neighbors) {
      const auto ns = nearest(table, w.mean, *o.neighbors, w.ids);
      j["neighbors"] = neighbors_json(tok, ns);
      text += "\n" + std::to_string(ns.size()) + " nearest tokens to " + quoted(w.word) +
              " by cosine similarity (the word's own tokens and special tokens left out):\n" + neighbors_text(tok, ns);
    }
    if (o.similarity) {
      const WordVector other = word_vector(model, *o.similarity);
      note_unknown(model, other);
      const double c = cosine(w.mean, other.mean);
      j["similarity"] = {{"other", utf8::sanitize(other.word)},
                         {"ids", other.ids},
                         {"tokens", tokens_json(tok, other.ids)},
                         {"cosine", c}};
      text += "\ncosine(" + quoted(w.word) + ", " + quoted(other.word) + ") = " + fmt("%.4f", c);
      if (other.ids.size() > 1) text += "  (" + quoted(other.word) + " is the mean of " + pieces_text(tok, other.ids) + ")";
      text += "\n";
    }
  }
  if (o.analogy) {
    const Analogy a = analogy(model, table, terms, o.neighbors.value_or(kDefaultAnalogyResults));
    nlohmann::json pos = nlohmann::json::array(), neg = nlohmann::json::array(), term_ids = nlohmann::json::array();
    for (std::size_t i = 0; i < terms.size(); ++i) {
      (terms[i].sign > 0 ? pos : neg).push_back(utf8::sanitize(terms[i].word));
      term_ids.push_back(a.terms[i].ids);
      note_unknown(model, a.terms[i]);
    }
    j["analogy"] = {{"expression", utf8::sanitize(*o.analogy)},
                    {"positive", pos},
                    {"negative", neg},
                    {"ids", term_ids},
                    {"method", "3CosAdd"},
                    {"results", neighbors_json(tok, a.results)}};
    text += (text.empty() ? "" : "\n") + quoted(*o.analogy) +
            ": nearest tokens to the sum of the unit vectors (3CosAdd, as gensim's most_similar), the terms' own "
            "tokens left out:\n" +
            neighbors_text(tok, a.results);
  }
  if (plotting) {
    PlotResult p = plot_part(model, table, words, o);
    j["plot"] = std::move(p.json);
    text += (text.empty() ? p.text.substr(1) : p.text);
  }
  if (!o.export_dir.empty()) {
    const ExportedFiles f = export_embeddings(model, o.export_dir);
    j["export"] = {{"dir", o.export_dir},
                   {"vectors", f.vectors},
                   {"metadata", f.metadata},
                   {"word2vec", f.word2vec},
                   {"rows", f.rows},
                   {"dim", f.dim}};
    text += (text.empty() ? "" : "\n") + std::string("exported ") + std::to_string(f.rows) + " tokens x " +
            std::to_string(f.dim) + " dims: " + f.vectors + " + " + f.metadata + " (Embedding Projector), " +
            f.word2vec + " (word2vec text)\n";
  }

  if (o.json) {
    std::puts(dump_json(j).c_str());
  } else {
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  std::fflush(stdout);
}

}  // namespace

void register_embed(CLI::App& app) {
  auto o = std::make_shared<EmbedOptions>();
  CLI::App* cmd = app.add_subcommand(
      "embed", "Look at the embedding table: a word's vectors, nearest tokens, similarity, analogies, a PCA map");
  cmd->add_option("word", o->words,
                  "The word to look at (several with --plot). Its tokens are the text's own, no bos; a word of "
                  "several tokens is queried with the mean of their rows")
      ->type_name("WORD");
  add_model_options(*cmd, o->model);
  cmd->add_option("--position", o->position,
                  "Also show the positional vector at position P (learned row of wpe, or the sinusoid) and the sum "
                  "wte + wpe the first block receives; a word of n tokens occupies P..P+n-1")
      ->type_name("P")
      ->check(whole_number(0, INT32_MAX));
  cmd->add_option("--neighbors", o->neighbors,
                  "The K nearest tokens by cosine similarity (ties: lower id first), leaving out the word's own "
                  "tokens and special tokens; also the number of --analogy results (default 10)")
      ->type_name("K")
      ->check(whole_number(1));
  cmd->add_option("--similarity", o->similarity, "Cosine similarity of WORD with OTHER (0 when either is a zero vector)")
      ->type_name("OTHER");
  cmd->add_option("--analogy", o->analogy,
                  "Nearest tokens to A - B + C by 3CosAdd as gensim's most_similar(positive=[A, C], "
                  "negative=[B]), leaving out A, B and C; quote a word holding spaces: '\" king\" - \" man\" + \" woman\"'")
      ->type_name("\"A - B + C\"");
  cmd->add_option("--plot", o->plot, "Write a 2-D PCA map of the words as an SVG scatter plot to FILE.svg")
      ->type_name("FILE.svg")
      ->check(non_empty_path());
  cmd->add_option("--plot-neighbors", o->plot_neighbors, "With --plot: add each word's K nearest tokens to the map")
      ->type_name("K")
      ->check(whole_number(1));
  cmd->add_option("--export", o->export_dir,
                  "Write the whole table to DIR: vectors.tsv + metadata.tsv (TensorFlow Embedding Projector) and "
                  "word2vec.txt (word2vec text format; tokens as shown by `tokenize`, e.g. space as ·). DIR is "
                  "created if missing (its parent must exist)")
      ->type_name("DIR")
      ->check(non_empty_path());
  cmd->add_flag("--no-vectors", o->no_vectors,
                "Text output without the rows of numbers (ids, tokens and norms stay; --json always has them)");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] { run(*o); });
}

}  // namespace tinygpt::cli
