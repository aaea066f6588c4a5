// positions as heatmaps (positions.h): per table, the vectors (a row per position, a column
// per dimension) beside the similarity of every pair of positions. One colour scale for
// all: blue -1, white 0, red +1, values beyond +-1 clamped, so panels compare at a glance.
#include <algorithm>
#include <cmath>
#include <string>

#include "svg.h"
#include "tinygpt/positions.h"

namespace tinygpt {
namespace {

constexpr double kMargin = 40, kGap = 40, kPanel = 320, kTitle = 24;

std::string colour(double v) {
  const double t = std::clamp(v, -1.0, 1.0);
  // White to red above 0, white to blue below: the other channels fade with |t|.
  const int fade = static_cast<int>(std::lround(255 * (1 - std::abs(t))));
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", t > 0 ? 255 : fade, fade, t < 0 ? 255 : fade);
  return buf;
}

// A rows x cols grid of unit cells scaled to a kPanel x kPanel square at (x, y): positions
// run down both panels at the same height. Cells are 1 x 1 in the group's own units, so each
// is a few dozen bytes (a long context makes tens of thousands of them).
template <typename Value>
std::string heatmap(double x, double y, const std::string& title, std::size_t rows, std::size_t cols, Value value) {
  const double sx = kPanel / static_cast<double>(cols), sy = kPanel / static_cast<double>(rows);
  std::string out = "<text x=\"" + svg::num(x) + "\" y=\"" + svg::num(y - 8) + "\" font-size=\"13\">" +
                    svg::escape(title) + "</text>\n<g transform=\"translate(" + svg::num(x) + " " + svg::num(y) +
                    ") scale(" + std::to_string(sx) + " " + std::to_string(sy) +
                    ")\" shape-rendering=\"crispEdges\">\n";
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c)
      out += "<rect x=\"" + std::to_string(c) + "\" y=\"" + std::to_string(r) + "\" width=\"1\" height=\"1\" fill=\"" +
             colour(value(r, c)) + "\"/>\n";
  out += "</g>\n";
  return out;
}

std::string panels(const PositionTable& t, const std::string& name, double y) {
  const std::size_t n = t.vectors.size(), d = n ? t.vectors[0].size() : 0;
  const std::string kind = t.learned ? "learned" : "sin/cos";
  return heatmap(kMargin, y, name + " (" + kind + "): position x dimension", n, d,
                 [&](std::size_t r, std::size_t c) { return static_cast<double>(t.vectors[r][c]); }) +
         heatmap(kMargin + kPanel + kGap, y, name + " (" + kind + "): cosine of positions", n, n,
                 [&](std::size_t r, std::size_t c) { return t.similarity[r][c]; });
}

}  // namespace

std::string positions_svg(const PositionsReport& r) {
  const int rows = r.sinusoid ? 2 : 1;
  const double width = 2 * kMargin + 2 * kPanel + kGap;
  const double height = kMargin + rows * (kPanel + kTitle + kGap) + 20;
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + svg::num(width) + "\" height=\"" +
                    svg::num(height) + "\" font-family=\"" + svg::kFontFamily + "\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += panels(r.model, r.model_name, kMargin);
  if (r.sinusoid) out += panels(*r.sinusoid, "sinusoid", kMargin + kPanel + kTitle + kGap);
  out += "<text x=\"" + svg::num(kMargin) + "\" y=\"" + svg::num(height - 12) +
         "\" font-size=\"11\">colour: blue -1, white 0, red +1 (values beyond are shown as +-1)</text>\n";
  out += "</svg>\n";
  return out;
}

}  // namespace tinygpt
