// The embedding table in the formats other tools read: the TensorFlow Embedding
// Projector's two TSV files and word2vec's text format (gensim, fastText tools).
#include <charconv>
#include <filesystem>
#include <system_error>
#include <unordered_set>

#include "tinygpt/embedding.h"
#include "tinygpt/error.h"
#include "output_file.h"

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

ExportedFiles export_embeddings(const Model& model, const std::string& dir) {
  namespace fs = std::filesystem;
  if (dir.empty()) throw_io_error("--export: the directory name is empty");
  const fs::path d(dir);
  std::error_code ec;
  if (!fs::is_directory(d, ec)) {
    if (fs::exists(d, ec)) throw_io_error("cannot export to " + dir + ": it exists and is not a directory");
    // Create the directory itself (as mkdir does) but not its parents, so a mistyped
    // path fails instead of growing a tree somewhere unexpected.
    const fs::path parent = d.has_parent_path() ? d.parent_path() : fs::path(".");
    if (!fs::is_directory(parent, ec))
      throw_io_error("cannot export to " + dir + ": the directory " + parent.string() + " does not exist");
    if (!fs::create_directory(d, ec) && ec)
      throw_io_error("cannot create the directory " + dir + ": " + ec.message());
  }
  const std::vector<std::string> labels = export_labels(model.tokenizer);
  ExportedFiles f;
  f.rows = model.tokenizer.size();
  f.dim = model.weights.wte.cols;
  f.vectors = (d / "vectors.tsv").string();
  f.metadata = (d / "metadata.tsv").string();
  f.word2vec = (d / "word2vec.txt").string();
  write_file_atomically(f.vectors, projector_vectors_tsv(model.weights.wte, f.rows));
  write_file_atomically(f.metadata, projector_metadata_tsv(labels));
  write_file_atomically(f.word2vec, word2vec_text(model.weights.wte, labels));
  return f;
}

}  // namespace tinygpt
