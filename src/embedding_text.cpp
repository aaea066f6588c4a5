// A report as the terminal shows it: the word's tokens, rows and norms, then each part
// that was asked for, separated by blank lines.
#include <algorithm>
#include <cstdio>

#include "embedding_format.h"
#include "tinygpt/embedding.h"
#include "utf8.h"

namespace tinygpt {

using namespace embedding_format;

namespace {

// Eight values a line, four decimals, each line led by the index of its first value.
std::string vector_text(std::span<const float> v, const std::string& indent) {
  std::string out;
  const int width = static_cast<int>(std::to_string(v.size() > 0 ? v.size() - 1 : 0).size());
  for (std::size_t i = 0; i < v.size(); i += 8) {
    char head[32];
    std::snprintf(head, sizeof head, "[%*zu]", width, i);
    out += indent + head;
    for (std::size_t j = i; j < std::min(v.size(), i + 8); ++j) out += fixed(" %8.4f", v[j]);
    out += "\n";
  }
  return out;
}

std::string pad_to(const std::string& s, int columns) {
  return s + std::string(static_cast<std::size_t>(std::max(0, columns - utf8::display_width(s))), ' ');
}

std::string ranking_text(const std::vector<RankedToken>& ns) {
  int w = 5;
  for (const RankedToken& n : ns) w = std::max(w, utf8::display_width(n.piece));
  const int rank_w = static_cast<int>(std::to_string(ns.size()).size());
  std::string out;
  for (std::size_t i = 0; i < ns.size(); ++i) {
    char rank[16];
    std::snprintf(rank, sizeof rank, "%*zu. ", rank_w, i + 1);
    out += std::string("  ") + rank + pad_to(ns[i].piece, w) + fixed("  %7.4f", ns[i].cosine) + "  (id " +
           std::to_string(ns[i].id) + ")\n";
  }
  return out;
}

std::string word_text(const EmbeddingReport& r, const EmbeddedWord& w, bool vectors) {
  std::string out = quoted(w.word) + " is " + std::to_string(w.ids.size()) + (w.ids.size() == 1 ? " token" : " tokens");
  if (w.ids.size() > 1)
    out += r.tokenizer == TokenizerType::byte_bpe ? " (not one vocabulary entry: BPE splits it into pieces)"
                                                  : " (one per character)";
  out += ":\n";
  for (std::size_t i = 0; i < w.ids.size(); ++i) {
    const std::string id = std::to_string(w.ids[i]);
    out += "  id " + id + "  " + w.pieces[i] + "  norm " + fixed("%.4f", norm(w.rows[i])) + "   (row " + id +
           " of wte: one-hot(" + id + ") x wte)\n";
    if (vectors) out += vector_text(w.rows[i], "    ");
  }
  if (w.ids.size() > 1) {
    out += "  mean of the " + std::to_string(w.ids.size()) +
           " rows (what --neighbors, --similarity and --analogy use)  norm " + fixed("%.4f", norm(w.mean)) + "\n";
    if (vectors) out += vector_text(w.mean, "    ");
  }
  return out;
}

std::string position_text(const EmbeddedWord& w, const EmbeddedPosition& p) {
  std::string out;
  for (std::size_t i = 0; i < p.positions.size(); ++i) {
    const std::string pos = std::to_string(p.positions[i]);
    out += "\nposition " + pos + ": " + (p.learned ? "row " + pos + " of wpe (learned)" : "sinusoid PE[" + pos + "]") +
           "  norm " + fixed("%.4f", norm(p.vectors[i])) + "\n" + vector_text(p.vectors[i], "    ");
    out += "input to block 0 = wte[" + std::to_string(w.ids[i]) + "] + " + (p.learned ? "wpe[" : "PE[") + pos + "]  (" +
           w.pieces[i] + " at position " + pos + ")  norm " + fixed("%.4f", norm(p.inputs[i])) + "\n" +
           vector_text(p.inputs[i], "    ");
  }
  if (!p.bos_piece.empty())
    out += "(prompts start with " + p.bos_piece + " at position 0, so a prompt's first word sits at position 1)\n";
  return out;
}

std::string similarity_text(const EmbeddedWord& w, const EmbeddedSimilarity& s) {
  std::string out = "\ncosine(" + quoted(w.word) + ", " + quoted(s.other.word) + ") = " + fixed("%.4f", s.cosine);
  if (s.other.ids.size() > 1) out += "  (" + quoted(s.other.word) + " is the mean of " + joined(s.other.pieces) + ")";
  return out + "\n";
}

// Everything about the one word asked for.
std::string one_word_text(const EmbeddingReport& r, bool vectors) {
  const EmbeddedWord& w = r.words[0];
  std::string out = word_text(r, w, vectors);
  if (r.position) out += position_text(w, *r.position);
  if (r.neighbors)
    out += "\n" + std::to_string(r.neighbors->size()) + " nearest tokens to " + quoted(w.word) +
           " by cosine similarity (the word's own tokens and special tokens left out):\n" + ranking_text(*r.neighbors);
  if (r.similarity) out += similarity_text(w, *r.similarity);
  return out;
}

std::string analogy_text(const EmbeddedAnalogy& a) {
  return quoted(a.expression) +
         ": nearest tokens to the sum of the unit vectors (3CosAdd, as gensim's most_similar), the terms' own "
         "tokens left out:\n" +
         ranking_text(a.results);
}

std::string plot_text(const EmbeddingReport& r, const std::string& file) {
  const EmbeddedPlot& p = *r.plot;
  int w = 5;
  for (const PlotPoint& pt : p.points) w = std::max(w, utf8::display_width(pt.label));
  std::string out = "PCA map of " + std::to_string(p.points.size()) + " points in " + file + " (PC1 " +
                    fixed("%.1f%%", p.explained[0] * 100) + ", PC2 " + fixed("%.1f%%", p.explained[1] * 100) +
                    " of their variance):\n";
  for (const PlotPoint& pt : p.points) {
    out += "  " + pad_to(pt.label, w) + fixed("  x %8.4f", pt.x) + fixed("  y %8.4f", pt.y) +
           (pt.neighbor ? "  (near " + quoted(r.words[static_cast<std::size_t>(pt.word)].word) + ")" : "") + "\n";
  }
  return out;
}

std::string export_text(const EmbeddedTable& t, const std::string& dir) {
  return "exported " + std::to_string(t.rows) + " tokens x " + std::to_string(t.dim) +
         " dims: " + export_path(dir, kVectorsFile) + " + " + export_path(dir, kMetadataFile) +
         " (Embedding Projector), " + export_path(dir, kWord2vecFile) + " (word2vec text)\n";
}

// Parts after the first are set off by a blank line.
void append_part(std::string& text, const std::string& part) { text += (text.empty() ? "" : "\n") + part; }

}  // namespace

std::string embedding_text(const EmbeddingReport& r, const EmbeddingOutputs& outputs, bool vectors) {
  std::string text;
  if (r.one_word) text += one_word_text(r, vectors);
  if (r.analogy) append_part(text, analogy_text(*r.analogy));
  if (r.plot) append_part(text, plot_text(r, outputs.plot_file));
  if (r.table) append_part(text, export_text(*r.table, outputs.export_dir));
  return text;
}

}  // namespace tinygpt
