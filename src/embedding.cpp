// Lookup, cosine similarity, nearest neighbours, analogies and PCA over wte.
#include "tinygpt/embedding.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "tinygpt/error.h"
#include "utf8.h"

namespace tinygpt {

WordVector word_vector(const Model& model, std::string_view word) {
  if (word.empty()) throw_input_error("the word is empty");
  WordVector w;
  w.word = std::string(word);
  try {
    w.ids = model.tokenizer.encode(word);
  } catch (const Error& e) {
    // Say which word: a similarity or an analogy brings several.
    if (e.kind() != ErrorKind::input) throw;
    throw_input_error(
        "\"" + w.word + "\": " + e.what() +
        (model.tokenizer.type() == TokenizerType::char_level && !model.tokenizer.unk_id() && !utf8::first_invalid(word)
             ? " (the model has no unk_token)"
             : ""));
  }
  if (w.ids.empty()) throw_input_error("\"" + w.word + "\" encodes to no tokens");
  const Matrix& wte = model.weights.wte;
  std::vector<double> sum(static_cast<std::size_t>(wte.cols), 0.0);
  for (const auto id : w.ids) {
    const auto row = wte.row(id);
    for (std::size_t j = 0; j < sum.size(); ++j) sum[j] += row[j];
  }
  w.mean.resize(sum.size());
  const double n = static_cast<double>(w.ids.size());
  for (std::size_t j = 0; j < sum.size(); ++j) w.mean[j] = static_cast<float>(sum[j] / n);
  return w;
}

double norm(std::span<const float> v) {
  double s = 0;
  for (const float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

double cosine(std::span<const float> a, std::span<const float> b) {
  const double na = norm(a), nb = norm(b);
  if (na == 0 || nb == 0) return 0;
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += static_cast<double>(a[i]) * b[i];
  return d / (na * nb);
}

namespace {

// v / |v| in float; a zero vector stays zero.
void unit_into(std::span<const float> v, float* out) {
  const double n = norm(v);
  const double inv = n > 0 ? 1.0 / n : 0.0;
  for (std::size_t j = 0; j < v.size(); ++j) out[j] = static_cast<float>(v[j] * inv);
}

// "a ranks before b": higher cosine, then lower id.
bool ranks_before(const Neighbor& a, const Neighbor& b) {
  return a.cosine > b.cosine || (a.cosine == b.cosine && a.id < b.id);
}

}  // namespace

UnitTable unit_table(const Model& model) {
  const std::int32_t n = model.tokenizer.size();
  const Matrix& wte = model.weights.wte;
  UnitTable t;
  t.rows = n;
  t.cols = wte.cols;
  t.unit.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(wte.cols));
  t.candidate.resize(static_cast<std::size_t>(n));
  for (std::int32_t id = 0; id < n; ++id) {
    unit_into(wte.row(id), t.unit.data() + static_cast<std::size_t>(id) * static_cast<std::size_t>(wte.cols));
    t.candidate[static_cast<std::size_t>(id)] = model.tokenizer.is_special(id) ? 0 : 1;
  }
  return t;
}

std::vector<Neighbor> nearest(const UnitTable& table, std::span<const float> query, std::size_t k,
                              std::span<const std::int32_t> exclude) {
  std::vector<float> q(query.size());
  unit_into(query, q.data());
  std::size_t available = 0;
  for (std::int32_t id = 0; id < table.rows; ++id)
    if (table.candidate[static_cast<std::size_t>(id)] && std::find(exclude.begin(), exclude.end(), id) == exclude.end())
      ++available;
  k = std::min(k, available);
  std::vector<Neighbor> heap;  // the best k so far; heap.front() is the weakest of them
  heap.reserve(k);
  if (k == 0) return heap;
  const int d = table.cols;
  for (std::int32_t id = 0; id < table.rows; ++id) {
    if (!table.candidate[static_cast<std::size_t>(id)]) continue;
    if (std::find(exclude.begin(), exclude.end(), id) != exclude.end()) continue;
    const Neighbor n{id, static_cast<double>(kernels::dot(table.row(id).data(), q.data(), d))};
    if (heap.size() < k) {
      heap.push_back(n);
      std::push_heap(heap.begin(), heap.end(), ranks_before);
    } else if (ranks_before(n, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), ranks_before);
      heap.back() = n;
      std::push_heap(heap.begin(), heap.end(), ranks_before);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), ranks_before);
  return heap;
}

std::vector<AnalogyTerm> parse_analogy(std::string_view expr) {
  const std::string shown = "analogy \"" + std::string(expr) + "\": ";
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  // Split into words and operators; "..." keeps spaces inside a word.
  struct Piece {
    std::string text;
    bool quoted = false;
  };
  std::vector<Piece> pieces;
  std::size_t i = 0;
  while (i < expr.size()) {
    if (is_space(expr[i])) {
      ++i;
      continue;
    }
    if (expr[i] == '"') {
      const std::size_t end = expr.find('"', i + 1);
      if (end == std::string_view::npos) throw_parameter_error("analogy", shown + "a quote is not closed");
      pieces.push_back({std::string(expr.substr(i + 1, end - i - 1)), true});
      i = end + 1;
      if (i < expr.size() && !is_space(expr[i]))
        throw_parameter_error("analogy", shown + "expected a space after a quoted word");
      continue;
    }
    std::size_t end = i;
    while (end < expr.size() && !is_space(expr[end])) ++end;
    pieces.push_back({std::string(expr.substr(i, end - i)), false});
    i = end;
  }
  if (pieces.empty()) throw_parameter_error("analogy", shown + "expected words like \"A - B + C\"");
  auto is_op = [](const Piece& p) { return !p.quoted && (p.text == "+" || p.text == "-"); };
  std::vector<AnalogyTerm> terms;
  int sign = +1;
  bool want_word = true;
  for (const Piece& p : pieces) {
    if (want_word) {
      if (is_op(p)) {
        const std::string op = sign > 0 ? "+" : "-";
        throw_parameter_error("analogy",
                              shown + (terms.empty() ? "starts with \"" + p.text + "\"; expected a word first"
                                                     : "expected a word after \"" + op + "\""));
      }
      if (p.text.empty()) throw_parameter_error("analogy", shown + "a quoted word is empty");
      terms.push_back({p.text, sign});
      want_word = false;
    } else {
      if (!is_op(p))
        throw_parameter_error("analogy", shown + "expected + or - between \"" + terms.back().word + "\" and \"" +
                                             p.text + "\" (operators need spaces around them)");
      sign = p.text == "+" ? +1 : -1;
      want_word = true;
    }
  }
  if (want_word) throw_parameter_error("analogy", shown + "ends with an operator; expected a word after it");
  return terms;
}

Analogy analogy(const Model& model, const UnitTable& table, std::span<const AnalogyTerm> terms, std::size_t k) {
  Analogy a;
  const std::size_t d = static_cast<std::size_t>(model.weights.wte.cols);
  std::vector<double> mean(d, 0.0);
  std::vector<std::int32_t> exclude;
  std::vector<float> unit(d);
  for (const AnalogyTerm& t : terms) {
    a.terms.push_back(word_vector(model, t.word));
    const WordVector& w = a.terms.back();
    unit_into(w.mean, unit.data());
    for (std::size_t j = 0; j < d; ++j) mean[j] += t.sign * static_cast<double>(unit[j]);
    exclude.insert(exclude.end(), w.ids.begin(), w.ids.end());
  }
  // gensim divides by the number of terms before normalising; the direction is the same.
  double n = 0;
  for (const double x : mean) n += x * x;
  n = std::sqrt(n);
  a.length = n;
  a.query.resize(d);
  for (std::size_t j = 0; j < d; ++j) a.query[j] = n > 0 ? static_cast<float>(mean[j] / n) : 0.0f;
  a.results = nearest(table, a.query, k, exclude);
  return a;
}

Pca2 pca_2d(const std::vector<std::vector<float>>& vectors) {
  const Eigen::Index n = static_cast<Eigen::Index>(vectors.size());
  if (n < 2) throw_input_error("a PCA map needs at least 2 points, found " + std::to_string(n));
  const Eigen::Index d = static_cast<Eigen::Index>(vectors[0].size());
  if (d == 0) throw_input_error("a PCA map needs vectors of at least one dimension");
  Eigen::MatrixXd x(n, d);
  for (Eigen::Index i = 0; i < n; ++i) {
    if (static_cast<Eigen::Index>(vectors[static_cast<std::size_t>(i)].size()) != d)
      throw_input_error("PCA: vectors of different widths");
    for (Eigen::Index j = 0; j < d; ++j) x(i, j) = vectors[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
  }
  x.rowwise() -= x.colwise().mean();

  // The right singular vectors of the centred points are the principal axes; singular
  // values squared are proportional to the variance along them.
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(x, Eigen::ComputeThinV);
  const Eigen::VectorXd& s = svd.singularValues();
  const Eigen::MatrixXd& v = svd.matrixV();
  const double total = s.squaredNorm();

  Pca2 p;
  p.points.assign(static_cast<std::size_t>(n), {0.0, 0.0});
  // Singular values below this are rounding noise, not a direction of variance.
  const double tiny = s.size() > 0 ? s(0) * 1e-12 * static_cast<double>(std::max(n, d)) : 0.0;
  for (int a = 0; a < 2; ++a) {
    std::vector<double>& axis = p.axes[static_cast<std::size_t>(a)];
    axis.assign(static_cast<std::size_t>(d), 0.0);
    if (a >= s.size() || s(a) <= tiny || total == 0) continue;
    Eigen::VectorXd col = v.col(a);
    Eigen::Index big = 0;  // an SVD's signs are arbitrary: fix them so the map is deterministic
    col.cwiseAbs().maxCoeff(&big);
    if (col(big) < 0) col = -col;
    for (Eigen::Index j = 0; j < d; ++j) axis[static_cast<std::size_t>(j)] = col(j);
    const Eigen::VectorXd coords = x * col;
    for (Eigen::Index i = 0; i < n; ++i) p.points[static_cast<std::size_t>(i)][static_cast<std::size_t>(a)] = coords(i);
    p.explained[static_cast<std::size_t>(a)] = s(a) * s(a) / total;
  }
  return p;
}

}  // namespace tinygpt
