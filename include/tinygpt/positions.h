#pragma once
// The positional vectors as geometry: what the first block adds to each token for its
// position (learned rows of wpe, or the sin/cos table), their norms, and how alike every
// pair of positions is. `positions_report` computes the data; the views at the end render
// it as text, JSON and an SVG of heatmaps, and write nothing themselves.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tinygpt/model.h"

namespace tinygpt {

// One table of positional vectors, positions 0..count-1.
struct PositionTable {
  bool learned = true;                          // rows of a learned wpe; false: the sin/cos table
  std::vector<std::vector<float>> vectors;      // [count][D]
  std::vector<double> norms;                    // [count]
  std::vector<std::vector<double>> similarity;  // [count][count] cosine; 0 against a zero vector
};

struct PositionsReport {
  std::string model_name;
  int n_ctx = 0;                          // the model's context: positions 0..n_ctx-1 exist
  PositionTable model;                    // the model's own positions
  std::optional<PositionTable> sinusoid;  // with compare: the sin/cos table of the same size
};

// The first `count` positions (1..n_ctx; throws a parameter error for "count" otherwise),
// and with `compare` the sin/cos table of the same count and width beside them.
PositionsReport positions_report(const Model& model, int count, bool compare);

// The sin/cos table as the model uses it: PE[p][2i] = sin(p / 10000^(2i/D)),
// PE[p][2i+1] = cos(the same), positions 0..count-1, D = dim.
PositionTable sinusoid_table(int count, int dim);

// ---- views ---------------------------------------------------------------------------

// Per position: its norm and its cosine with position 0 and with the position before.
std::string positions_text(const PositionsReport& report);
// {"model", "n_ctx", "count", "dim", "kind", "vectors", "norms", "similarity",
//  "compare": {the same for the sinusoid}} (compare only when asked for).
nlohmann::json positions_json(const PositionsReport& report);
// Heatmaps side by side: the vectors (positions x dimensions) and the similarity matrix;
// with a comparison, the sinusoid's two below the model's.
std::string positions_svg(const PositionsReport& report);

}  // namespace tinygpt
