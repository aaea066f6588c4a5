#pragma once
// The token embedding table (wte) as geometry: a word's rows, cosine similarity, nearest
// neighbours, 3CosAdd analogies, a 2-D PCA map (SVG) and exports for the tools people
// already use (TensorFlow's Embedding Projector, word2vec's text format).
//
// `embedding_report` computes everything one look at the table asks for into a value
// (EmbeddingReport); the renderers at the end of this file turn that value into text, JSON,
// the SVG map and the export files, and write nothing themselves.
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
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

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

// ---- words in a byte-level BPE vocabulary ---------------------------------------------
//
// GPT-2-style vocabularies store a word as it appears inside a sentence, with its leading
// space (" king"); the bare "king" is often split into pieces. A char vocabulary needs
// none of this: a character is a word.

// The text to look `word` up as: " " + word when that is one token (byte-level BPE only,
// for a word without a leading space); otherwise the word as given.
std::string word_form(const Tokenizer& tokenizer, std::string_view word);

// A whole-word token of a byte-level BPE vocabulary: a space, then letters only (ASCII
// letters and any other complete UTF-8 character outside ASCII's and Unicode's general
// punctuation). Every ordinary token of a char vocabulary counts as one.
bool is_whole_word(const Tokenizer& tokenizer, std::int32_t id);

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
// Leaves only whole-word tokens (is_whole_word) as candidates.
void keep_whole_words(UnitTable& table, const Tokenizer& tokenizer);

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
// The first term is added. Throws a parameter error for "analogy" quoting the expression.
std::vector<AnalogyTerm> parse_analogy(std::string_view expression);

struct Analogy {
  std::vector<WordVector> terms;  // in the order written
  std::vector<float> query;       // [D] unit vector searched for (zero when `length` is 0)
  double length = 0;              // of the sum of the terms' signed unit vectors: about 0 when they cancel out
  std::vector<Neighbor> results;
};

// 3CosAdd exactly as gensim's KeyedVectors.most_similar(positive=[A, C], negative=[B]):
// each term's vector is scaled to unit length, the terms are averaged with weights +1/-1,
// the average is scaled to unit length and ranked by cosine against the unit table;
// every token of every term is excluded from the results. Terms that cancel out ("A - A")
// leave a zero query that scores 0 against everything: `length` tells (embedding_report
// refuses such an analogy).
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
  std::string label;      // shown next to the point (valid UTF-8)
  std::string title;      // tooltip: ids, tokens
  double x = 0, y = 0;    // PCA coordinates
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

// ---- one look at the table: the request and its report ------------------------------

// What to compute. Every part but the words is optional.
struct EmbeddingRequest {
  // The words to look at, each encoded without bos. Exactly one word is described in full
  // (its rows, and position, neighbors and similarity, which need exactly one); several
  // are for the plot. A word given twice counts once.
  std::vector<std::string> words{};
  std::optional<int> position{};            // the word's first token sits here (0..n_ctx-1)
  std::optional<std::size_t> neighbors{};   // how many nearest tokens; also how many analogy results
  std::optional<std::string> similarity{};  // a second word to compare the word with
  std::optional<std::string> analogy{};     // "A - B + C" (parse_analogy)
  bool plot = false;                        // a 2-D PCA map of the words
  std::size_t plot_neighbors = 0;           // with plot: add each word's nearest tokens to the map
  bool export_table = false;                // keep the whole table for the export files
  // Words (and analogy terms) as typed; otherwise a byte-level BPE model looks each up as
  // word_form() says.
  bool exact = false;
  // Neighbours, analogy results and the map's neighbours among every token; otherwise a
  // byte-level BPE model's are whole-word tokens only (is_whole_word).
  bool all_tokens = false;
};

// How many analogy results a request without `neighbors` gets.
inline constexpr std::size_t kDefaultAnalogyResults = 10;

// A word as the reports show it.
struct EmbeddedWord {
  std::string word;                      // as given
  std::vector<std::int32_t> ids;         // [n] encode(word), no bos
  std::vector<std::string> tokens;       // [n] each token's text, valid UTF-8 (special tokens by name)
  std::vector<std::string> pieces;       // [n] printable labels (Tokenizer::piece: space as ·)
  std::vector<std::vector<float>> rows;  // [n][D] its rows of wte
  std::vector<float> mean;               // [D] the query vector: the mean of the rows
  bool has_unknown = false;              // a character the vocabulary lacks became the unk token
  // Byte-level BPE only, for a word without a leading space that " " + word encodes into
  // fewer tokens: the pieces of " " + word (running text holds words after a space).
  std::vector<std::string> spaced_pieces;
  std::string looked_up;  // the text encoded: the word, or its word_form() (" king")
};

// A token found by cosine similarity.
struct RankedToken {
  std::int32_t id = 0;
  std::string token;  // its text, valid UTF-8 (special tokens by name)
  std::string piece;  // printable label
  double cosine = 0;
};

// The word at a position: what the first block receives for each of its tokens.
struct EmbeddedPosition {
  int start = 0;
  bool learned = true;                      // rows of wpe; false: the sinusoid table
  std::vector<int> positions;               // [n] start .. start + n - 1
  std::vector<std::vector<float>> vectors;  // [n][D] the positional vectors
  std::vector<std::vector<float>> inputs;   // [n][D] wte[id] + wpe[position], as the forward pass adds them
  std::string bos_piece;                    // the bos token's label (empty without one): prompts start with it
};

struct EmbeddedSimilarity {
  EmbeddedWord other;
  double cosine = 0;  // of the two words' means
};

struct EmbeddedAnalogy {
  std::string expression;
  std::vector<int> signs;            // [terms] +1 added, -1 subtracted
  std::vector<EmbeddedWord> terms;   // in the order written
  std::vector<float> query;          // [D] the unit vector searched for
  std::vector<RankedToken> results;  // best first, the terms' own tokens left out
};

// One point of the map: a word asked for, or a token near one of them.
struct PlotPoint {
  std::string label;              // the word (valid UTF-8), or the token's piece
  std::vector<std::int32_t> ids;  // the word's tokens, or the token's id
  bool neighbor = false;          // a nearest token added to the map
  int word = 0;                   // index into EmbeddingReport::words: this word, or the word a token is near
  double cosine = 0;              // a neighbour's cosine with that word
  double x = 0, y = 0;            // along the first two principal axes
};

struct EmbeddedPlot {
  std::size_t neighbors_per_word = 0;
  std::vector<PlotPoint> points;      // the words in order, then the neighbours (each token once)
  std::array<double, 2> explained{};  // share of the points' variance along each axis
};

// The real rows of wte (padded rows left out; special tokens kept, labelled by name).
struct EmbeddedTable {
  std::int32_t rows = 0;
  int dim = 0;
  std::vector<std::string> labels;  // [rows] export_labels
  std::vector<float> values;        // [rows][dim]
};

struct EmbeddingReport {
  std::string model_name;  // the model file's name, for the map's title
  TokenizerType tokenizer = TokenizerType::char_level;
  std::optional<std::int32_t> unk_id;  // the token unknown characters become
  std::string unk_piece;
  std::vector<EmbeddedWord> words;  // as asked, a repeated word once
  bool one_word = false;            // exactly one word was asked for: the outputs describe it
  std::optional<EmbeddedPosition> position;
  std::optional<std::vector<RankedToken>> neighbors;  // the word's own tokens and special tokens left out
  std::optional<EmbeddedSimilarity> similarity;
  std::optional<EmbeddedAnalogy> analogy;
  std::optional<EmbeddedPlot> plot;
  std::optional<EmbeddedTable> table;  // with export_table
};

// Computes everything the request asks for. Throws Error(input) for a word that cannot be
// encoded (word_vector), and parameter errors for "position" (outside the context, for any
// of the word's tokens), "analogy" (malformed, or terms whose unit vectors sum to zero: no
// direction to search) and "words" (several, with position, neighbors or similarity). A
// plot needs at least two points (pca_2d).
EmbeddingReport embedding_report(const Model& model, const EmbeddingRequest& request);

// ---- views of a report ------------------------------------------------------------

// Where a front end writes the map and the export (empty: not written); the text and the
// JSON name them.
struct EmbeddingOutputs {
  std::string plot_file;
  std::string export_dir;
};

// What a terminal shows: the word's tokens, rows and norms (rows only with `vectors`), then
// each part that was asked for.
std::string embedding_text(const EmbeddingReport& report, const EmbeddingOutputs& outputs, bool vectors);
// {"word", "ids", "tokens", "vectors", "norms", "mean" (several tokens), "position",
//  "neighbors", "similarity", "analogy", "plot", "export"}: each part when asked for.
nlohmann::json embedding_json(const EmbeddingReport& report, const EmbeddingOutputs& outputs);
// The report's plot as an SVG map (map_svg). Throws a parameter error for "plot" when it has none.
std::string embedding_map_svg(const EmbeddingReport& report);

// A file to be written: its name and its whole content.
struct NamedFile {
  std::string name;
  std::string content;
};

// vectors.tsv + metadata.tsv (Embedding Projector) and word2vec.txt, in that order, from
// the report's table. Throws a parameter error for "export_table" when it has none.
std::vector<NamedFile> embedding_export_files(const EmbeddingReport& report);

}  // namespace tinygpt
