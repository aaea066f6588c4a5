#pragma once
// The token embedding table (wte) as geometry: a word's rows, cosine similarity, nearest
// neighbours, 3CosAdd analogies, a 2-D PCA map (SVG) and exports for the tools people
// already use (TensorFlow's Embedding Projector, word2vec's text format).
//
// Conventions shared by every function here, and by tools/reference_embed.py:
//   * a word is tokenizer.encode(word) (no bos); a word of several tokens is queried
//     with the mean of their rows;
//   * cosine(a, b) is 0 when either vector is zero (a zero row is unlike everything,
//     rather than NaN);
//   * candidates for neighbours are the tokenizer's ids that are not special tokens;
//     padded rows (id >= tokenizer.size()) and special tokens are never returned;
//   * ranking: higher cosine first, equal cosines by lower id.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tinygpt/model.h"

namespace tinygpt {

// ---- lookup -----------------------------------------------------------------------

// What a word becomes and the vector a query uses for it.
struct WordVector {
  std::string word;
  std::vector<std::int32_t> ids;  // [n] tokenizer.encode(word), no bos
  std::vector<float> mean;        // [D] mean of the n rows of wte (the row itself when n = 1)
};

// Throws Error(input) for an empty word; encode's own errors (a character a char
// vocabulary lacks, invalid UTF-8) pass through.
WordVector word_vector(const Model& model, std::string_view word);

double norm(std::span<const float> v);
double cosine(std::span<const float> a, std::span<const float> b);

// ---- neighbours -------------------------------------------------------------------

// wte's real rows scaled to unit length (zero rows stay zero), built once so that a
// query is a single pass of dot products with no allocation proportional to the table.
struct UnitTable {
  int rows = 0, cols = 0;               // N = tokenizer.size(), D
  std::vector<float> unit;              // [N][D]
  std::vector<std::uint8_t> candidate;  // [N] 1 when the id may be returned (not special)

  std::span<const float> row(std::int32_t id) const {
    return std::span<const float>(unit).subspan(static_cast<std::size_t>(id) * static_cast<std::size_t>(cols),
                                                static_cast<std::size_t>(cols));
  }
};

UnitTable unit_table(const Model& model);

struct Neighbor {
  std::int32_t id = 0;
  double cosine = 0;
};

// The k candidates most similar to `query`, best first, never an id in `exclude`.
// k larger than the number of candidates returns them all. A zero query scores 0
// against everything (so the result is simply the lowest ids).
std::vector<Neighbor> nearest(const UnitTable& table, std::span<const float> query, std::size_t k,
                              std::span<const std::int32_t> exclude);

// ---- analogies ----------------------------------------------------------------------

struct AnalogyTerm {
  std::string word;
  int sign = +1;  // +1 added, -1 subtracted
};

// "A - B + C": words separated by standalone + and - (spaces around them); a word
// holding spaces (" king" for a byte-level BPE model) may be written in double quotes.
// The first term is added. Throws Error(usage) naming --analogy.
std::vector<AnalogyTerm> parse_analogy(std::string_view expression);

struct Analogy {
  std::vector<WordVector> terms;  // in the order written
  std::vector<float> query;       // [D] unit vector searched for
  std::vector<Neighbor> results;
};

// 3CosAdd exactly as gensim's KeyedVectors.most_similar(positive=[A, C], negative=[B]):
// each term's vector is scaled to unit length, the terms are averaged with weights +1/-1,
// the average is scaled to unit length and ranked by cosine against the unit table;
// every token of every term is excluded from the results.
Analogy analogy(const Model& model, const UnitTable& table, std::span<const AnalogyTerm> terms, std::size_t k);

// ---- PCA ------------------------------------------------------------------------

struct Pca2 {
  std::vector<std::array<double, 2>> points;  // [N] coordinates along the two principal axes
  std::array<std::vector<double>, 2> axes;    // [2][D] unit axes; each one's largest-|x| component is positive
  std::array<double, 2> explained{};          // share of the points' total variance along each axis
};

// Centres the vectors and projects them onto their top two principal axes (SVD via
// Eigen). Needs at least 2 vectors of one width; throws Error(input) otherwise. With
// fewer than two directions of variance the missing axis is zero and so are its
// coordinates.
Pca2 pca_2d(const std::vector<std::vector<float>>& vectors);

// ---- the SVG map ------------------------------------------------------------------

struct MapPoint {
  std::string label;   // shown next to the point (valid UTF-8)
  std::string title;   // tooltip: ids, tokens
  double x = 0, y = 0;  // PCA coordinates
  bool neighbor = false;  // a nearest token added to the map rather than a word asked for
  int parent = -1;        // for a neighbour: index of the word it was found for (a line joins them)
};

// A scatter plot with equal scales on both axes (distances on the page are distances in
// the projection), labels placed to avoid each other where they can, CJK-capable fonts.
std::string map_svg(std::span<const MapPoint> points, const std::string& title, std::array<double, 2> explained);

// ---- exports --------------------------------------------------------------------

// One label per real token for files that need a single whitespace-free field: the
// token's display form (Tokenizer::piece: space as ·, newline as ↵, tab as →, other
// spaces as [U+XXXX], partial UTF-8 as \xNN). A label that would repeat an earlier one
// gets "#<id>" appended, so word2vec keys stay unique.
std::vector<std::string> export_labels(const Tokenizer& tokenizer);

// The shortest decimal text that reads back as exactly this float.
std::string float_text(float v);

// TensorFlow Embedding Projector: one tab-separated row per token; metadata has one
// column, so (by the Projector's rule) no header row.
std::string projector_vectors_tsv(const Matrix& wte, std::int32_t rows);
std::string projector_metadata_tsv(std::span<const std::string> labels);
// word2vec's text format: "count dim", then "label v1 v2 ..." per token.
std::string word2vec_text(const Matrix& wte, std::span<const std::string> labels);

struct ExportedFiles {
  std::string vectors, metadata, word2vec;  // paths written
  std::int32_t rows = 0;
  int dim = 0;
};

// Writes vectors.tsv, metadata.tsv and word2vec.txt into `dir` (each atomically) for the
// tokenizer's ids (padded rows are left out; special tokens are kept, labelled by name).
// `dir` is created when missing, but not its parents: Error(io) names a missing parent.
ExportedFiles export_embeddings(const Model& model, const std::string& dir);

}  // namespace tinygpt
