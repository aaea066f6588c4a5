// The embedding table in the formats other tools read: the TensorFlow Embedding
// Projector's two TSV files and word2vec's text format (gensim, fastText tools).
#include <charconv>
#include <unordered_set>

#include "embedding_format.h"
#include "tinygpt/embedding.h"
#include "tinygpt/error.h"

namespace tinygpt {

std::string float_text(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that reads back exactly
  return std::string(buf, r.ptr);
}

std::vector<std::string> export_labels(const Tokenizer& tok) {
  std::vector<std::string> labels;
  labels.reserve(static_cast<std::size_t>(tok.size()));
  std::unordered_set<std::string> seen;
  for (std::int32_t id = 0; id < tok.size(); ++id) {
    std::string label = tok.piece(id);
    // piece() leaves a special token's name as written; a name could hold spaces.
    for (char& c : label)
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = '_';
    if (label.empty()) label = "#" + std::to_string(id);
    if (!seen.insert(label).second) {
      label += "#" + std::to_string(id);
      seen.insert(label);
    }
    labels.push_back(std::move(label));
  }
  return labels;
}

namespace {

void append_row(std::string& out, std::span<const float> row, char sep) {
  for (std::size_t j = 0; j < row.size(); ++j) {
    if (j) out += sep;
    out += float_text(row[j]);
  }
  out += '\n';
}

}  // namespace

std::string projector_vectors_tsv(const Matrix& wte, std::int32_t rows) {
  std::string out;
  for (std::int32_t id = 0; id < rows; ++id) append_row(out, wte.row(id), '\t');
  return out;
}

std::string projector_metadata_tsv(std::span<const std::string> labels) {
  std::string out;
  for (const std::string& l : labels) out += l + "\n";
  return out;
}

std::string word2vec_text(const Matrix& wte, std::span<const std::string> labels) {
  std::string out = std::to_string(labels.size()) + " " + std::to_string(wte.cols) + "\n";
  for (std::size_t id = 0; id < labels.size(); ++id) {
    out += labels[id];
    out += ' ';
    append_row(out, wte.row(static_cast<int>(id)), ' ');
  }
  return out;
}

std::vector<NamedFile> embedding_export_files(const EmbeddingReport& report) {
  using namespace embedding_format;
  if (!report.table) throw_parameter_error("export_table", "the report holds no table: ask for it with export_table");
  const EmbeddedTable& t = *report.table;
  const Matrix table(t.rows, t.dim, t.values);
  return {{std::string(kVectorsFile), projector_vectors_tsv(table, t.rows)},
          {std::string(kMetadataFile), projector_metadata_tsv(t.labels)},
          {std::string(kWord2vecFile), word2vec_text(table, t.labels)}};
}

}  // namespace tinygpt
