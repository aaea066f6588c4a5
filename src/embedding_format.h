#pragma once
// Formatting shared by the embedding renderers (text, JSON, SVG map, export files);
// private to src/, not part of the public headers.
#include <string>
#include <string_view>
#include <vector>

namespace tinygpt::embedding_format {

// The files of an export, in the order they are written.
inline constexpr std::string_view kVectorsFile = "vectors.tsv";
inline constexpr std::string_view kMetadataFile = "metadata.tsv";
inline constexpr std::string_view kWord2vecFile = "word2vec.txt";

// printf with one number: fixed("%.4f", v).
std::string fixed(const char* format, double v);
// "word" in double quotes, made valid UTF-8.
std::string quoted(const std::string& s);
// Token pieces separated by spaces.
std::string joined(const std::vector<std::string>& pieces);
// Where an export file lands: `dir` joined with `name`.
std::string export_path(const std::string& dir, std::string_view name);

}  // namespace tinygpt::embedding_format
