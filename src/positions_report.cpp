// The positional vectors of a model and, for comparison, the sin/cos table (positions.h).
#include <cmath>
#include <filesystem>
#include <span>

#include "positional.h"
#include "tinygpt/embedding.h"
#include "tinygpt/error.h"
#include "tinygpt/positions.h"

namespace tinygpt {
namespace {

// Norms and every pair's cosine, from the vectors already in the table.
void measure(PositionTable& t) {
  const std::size_t n = t.vectors.size();
  t.norms.resize(n);
  t.similarity.assign(n, std::vector<double>(n, 0.0));
  for (std::size_t i = 0; i < n; ++i) {
    t.norms[i] = norm(t.vectors[i]);
    for (std::size_t j = 0; j <= i; ++j) {
      // cosine() of a vector with itself rounds to within an ulp of 1: a zero vector is 0,
      // any other is exactly 1, as the definition says.
      const double c = i == j ? (t.norms[i] > 0 ? 1.0 : 0.0) : cosine(t.vectors[i], t.vectors[j]);
      t.similarity[i][j] = t.similarity[j][i] = c;
    }
  }
}

}  // namespace

PositionTable sinusoid_table(int count, int dim) {
  std::vector<float> flat(static_cast<std::size_t>(count) * static_cast<std::size_t>(dim));
  sinusoidal_table(flat, count, dim);  // the very table the forward pass adds
  PositionTable t;
  t.learned = false;
  for (int p = 0; p < count; ++p) {
    const auto row = std::span<const float>(flat).subspan(static_cast<std::size_t>(p) * static_cast<std::size_t>(dim),
                                                          static_cast<std::size_t>(dim));
    t.vectors.emplace_back(row.begin(), row.end());
  }
  measure(t);
  return t;
}

PositionsReport positions_report(const Model& model, int count, bool compare) {
  const int n_ctx = model.config.n_ctx;
  if (count < 1 || count > n_ctx)
    throw_parameter_error("count", "count " + std::to_string(count) + ": the model has positions 0.." +
                                       std::to_string(n_ctx - 1) + ", so count must be 1.." + std::to_string(n_ctx));
  PositionsReport r;
  r.model_name = std::filesystem::path(model.path).filename().string();
  r.n_ctx = n_ctx;
  r.model.learned = model.config.positional == Positional::learned;
  for (int p = 0; p < count; ++p) {
    const auto row = model.weights.wpe.row(p);
    r.model.vectors.emplace_back(row.begin(), row.end());
  }
  measure(r.model);
  if (compare) r.sinusoid = sinusoid_table(count, model.config.n_embd);
  return r;
}

}  // namespace tinygpt
