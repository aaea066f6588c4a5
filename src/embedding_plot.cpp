// The 2-D map of embeddings as an SVG scatter plot, written by hand (no plotting library):
// equal scales on both axes, labels that dodge each other, fonts that render Chinese.
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "embedding_format.h"
#include "svg.h"
#include "tinygpt/embedding.h"
#include "tinygpt/error.h"
#include "utf8.h"

namespace tinygpt {
namespace {

constexpr double kWidth = 960, kHeight = 720;
constexpr double kLeft = 50, kRight = 50, kTop = 88, kBottom = 56;  // around the plotting area
constexpr double kWordRadius = 5, kNeighborRadius = 3.5;
constexpr double kWordFont = 15, kNeighborFont = 12;

struct Box {
  double x0, y0, x1, y1;
  double overlap(const Box& o) const {
    const double w = std::min(x1, o.x1) - std::max(x0, o.x0);
    const double h = std::min(y1, o.y1) - std::max(y0, o.y0);
    return w > 0 && h > 0 ? w * h : 0.0;
  }
};

struct Label {
  double x, y;         // text anchor point
  const char* anchor;  // start | middle | end
  Box box;
};

// Rough advance of a label: wide (CJK) characters count as two columns, a column is
// about 0.6 em in the sans-serif fonts of the stack. Good enough to keep labels apart.
double text_width(const std::string& s, double font) { return utf8::display_width(s) * font * 0.6; }

Label place_label(double px, double py, double r, const std::string& text, double font, const std::vector<Box>& taken,
                  const Box& area) {
  const double w = text_width(text, font), gap = r + 3;
  const double ascent = font * 0.8, descent = font * 0.25;
  // Candidate spots in order of preference: right, left, above, below, then the diagonals.
  const struct {
    double dx, dy;
    const char* anchor;
  } spots[] = {
      {gap, font * 0.33, "start"},      {-gap, font * 0.33, "end"},
      {0, -gap - descent, "middle"},    {0, gap + ascent, "middle"},
      {gap * 0.7, -gap * 0.7, "start"}, {gap * 0.7, gap * 0.7 + ascent, "start"},
      {-gap * 0.7, -gap * 0.7, "end"},  {-gap * 0.7, gap * 0.7 + ascent, "end"},
  };
  Label best{};
  double best_cost = std::numeric_limits<double>::infinity();
  for (const auto& s : spots) {
    const double x = px + s.dx, y = py + s.dy;
    const double x0 = s.anchor[0] == 's' ? x : s.anchor[0] == 'e' ? x - w : x - w / 2;
    const Box b{x0, y - ascent, x0 + w, y + descent};
    double cost = 0;
    for (const Box& t : taken) cost += t.overlap(b);
    const double inside = b.overlap(area);
    cost += (w * (ascent + descent) - inside) * 4;  // spilling off the page is worse than touching a label
    if (cost < best_cost) {
      best_cost = cost;
      best = {x, y, s.anchor, b};
      if (cost == 0) break;
    }
  }
  return best;
}

// The tooltip: a word's ids and tokens, or a neighbour's id and cosine with its word.
std::string point_title(const EmbeddingReport& r, const PlotPoint& p) {
  using namespace embedding_format;
  const EmbeddedWord& w = r.words[static_cast<std::size_t>(p.word)];
  if (!p.neighbor) return quoted(w.word) + ": ids " + nlohmann::json(w.ids).dump() + ", tokens " + joined(w.pieces);
  return p.label + " (id " + std::to_string(p.ids[0]) + "): cosine " + fixed("%.4f", p.cosine) + " with " +
         quoted(w.word);
}

std::string map_title(const EmbeddingReport& r) {
  const std::size_t n = r.words.size();
  std::string title = r.model_name + ": " + std::to_string(n) + (n == 1 ? " word" : " words");
  if (r.plot->neighbors_per_word > 0)
    title += " and their " + std::to_string(r.plot->neighbors_per_word) + " nearest tokens";
  return title;
}

std::string percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
  return buf;
}

}  // namespace

std::string map_svg(std::span<const MapPoint> points, const std::string& title, std::array<double, 2> explained) {
  using svg::escape;
  using svg::num;
  const Box area{kLeft, kTop, kWidth - kRight, kHeight - kBottom};

  // Equal scales on both axes, fitted to the plotting area with a margin for labels.
  double xmin = 0, xmax = 0, ymin = 0, ymax = 0;  // the origin (the points' mean) always shows
  for (const MapPoint& p : points) {
    xmin = std::min(xmin, p.x);
    xmax = std::max(xmax, p.x);
    ymin = std::min(ymin, p.y);
    ymax = std::max(ymax, p.y);
  }
  const double pad = 0.08;
  const double aw = (area.x1 - area.x0) * (1 - 2 * pad), ah = (area.y1 - area.y0) * (1 - 2 * pad);
  const double rx = xmax - xmin, ry = ymax - ymin;
  double scale = 1;
  if (rx > 0 || ry > 0)
    scale = std::min(rx > 0 ? aw / rx : std::numeric_limits<double>::infinity(),
                     ry > 0 ? ah / ry : std::numeric_limits<double>::infinity());
  const double cx = (xmin + xmax) / 2, cy = (ymin + ymax) / 2;
  const double mx = (area.x0 + area.x1) / 2, my = (area.y0 + area.y1) / 2;
  auto page_x = [&](double x) { return mx + (x - cx) * scale; };
  auto page_y = [&](double y) { return my - (y - cy) * scale; };  // PC2 grows upwards

  std::string out;
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kWidth) + "\" height=\"" + num(kHeight) +
         "\" viewBox=\"0 0 " + num(kWidth) + " " + num(kHeight) + "\" font-family=\"" + escape(svg::kFontFamily) +
         "\">\n";
  out += "<title>" + escape(title) + "</title>\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  out += "<text x=\"" + num(kLeft) + "\" y=\"30\" font-size=\"18\" font-weight=\"bold\" fill=\"#222\">" +
         escape(title) + "</text>\n";
  out += "<text x=\"" + num(kLeft) + "\" y=\"52\" font-size=\"12\" fill=\"#555\">" +
         escape(
             "PCA of token embeddings (rows of wte; a word of several tokens is the mean of its rows). "
             "Both axes share one scale.") +
         "</text>\n";
  out += "<rect x=\"" + num(area.x0) + "\" y=\"" + num(area.y0) + "\" width=\"" + num(area.x1 - area.x0) +
         "\" height=\"" + num(area.y1 - area.y0) + "\" fill=\"none\" stroke=\"#ccc\"/>\n";

  // Axes through the origin, i.e. the mean of the points.
  const double ox = std::clamp(page_x(0), area.x0, area.x1), oy = std::clamp(page_y(0), area.y0, area.y1);
  out += "<g class=\"axes\" stroke=\"#bbb\" stroke-dasharray=\"4 4\">\n";
  out +=
      "<line x1=\"" + num(area.x0) + "\" y1=\"" + num(oy) + "\" x2=\"" + num(area.x1) + "\" y2=\"" + num(oy) + "\"/>\n";
  out +=
      "<line x1=\"" + num(ox) + "\" y1=\"" + num(area.y0) + "\" x2=\"" + num(ox) + "\" y2=\"" + num(area.y1) + "\"/>\n";
  out += "</g>\n";
  out += "<text x=\"" + num(area.x1) + "\" y=\"" + num(area.y1 + 22) +
         "\" font-size=\"13\" fill=\"#444\" text-anchor=\"end\">" +
         escape("PC1 → (" + percent(explained[0]) + " of the variance)") + "</text>\n";
  out += "<text x=\"" + num(area.x0 - 14) + "\" y=\"" + num(area.y0) +
         "\" font-size=\"13\" fill=\"#444\" text-anchor=\"end\" "
         "transform=\"rotate(-90 " +
         num(area.x0 - 14) + " " + num(area.y0) + ")\">" + escape("PC2 → (" + percent(explained[1]) + ")") +
         "</text>\n";

  const bool any_neighbors = std::any_of(points.begin(), points.end(), [](const MapPoint& p) { return p.neighbor; });
  if (any_neighbors) {
    const double lx = kLeft + 8, ly = 74;  // under the subtitle, above the plotting area
    out += "<g class=\"legend\" font-size=\"12\" fill=\"#444\">\n";
    out += "<circle cx=\"" + num(lx) + "\" cy=\"" + num(ly - 4) + "\" r=\"5\" fill=\"#1f5fa8\"/>";
    out += "<text x=\"" + num(lx + 9) + "\" y=\"" + num(ly) + "\">word</text>\n";
    out += "<circle cx=\"" + num(lx + 60) + "\" cy=\"" + num(ly - 4) + "\" r=\"3.5\" fill=\"#e07b1a\"/>";
    out += "<text x=\"" + num(lx + 68) + "\" y=\"" + num(ly) + "\">nearest tokens (cosine)</text>\n";
    out += "</g>\n";
  }

  // Lines from each word to its neighbours, under the points.
  out += "<g class=\"links\" stroke=\"#e9b98c\" stroke-width=\"1\">\n";
  for (const MapPoint& p : points) {
    if (p.parent < 0 || static_cast<std::size_t>(p.parent) >= points.size()) continue;
    const MapPoint& q = points[static_cast<std::size_t>(p.parent)];
    out += "<line x1=\"" + num(page_x(q.x)) + "\" y1=\"" + num(page_y(q.y)) + "\" x2=\"" + num(page_x(p.x)) +
           "\" y2=\"" + num(page_y(p.y)) + "\"/>\n";
  }
  out += "</g>\n";

  // Points first (so labels can avoid every dot), words' labels before neighbours'.
  std::vector<Box> taken;
  for (const MapPoint& p : points) {
    const double r = p.neighbor ? kNeighborRadius : kWordRadius;
    taken.push_back({page_x(p.x) - r, page_y(p.y) - r, page_x(p.x) + r, page_y(p.y) + r});
  }
  std::vector<Label> labels(points.size());
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < points.size(); ++i) {
      const MapPoint& p = points[i];
      if (p.neighbor != (pass == 1)) continue;
      const double font = p.neighbor ? kNeighborFont : kWordFont;
      labels[i] =
          place_label(page_x(p.x), page_y(p.y), p.neighbor ? kNeighborRadius : kWordRadius, p.label, font, taken, area);
      taken.push_back(labels[i].box);
    }
  }

  out += "<g class=\"points\">\n";
  for (int pass = 0; pass < 2; ++pass) {  // words drawn last, on top
    for (std::size_t i = 0; i < points.size(); ++i) {
      const MapPoint& p = points[i];
      if (p.neighbor != (pass == 0)) continue;
      const char* kind = p.neighbor ? "neighbor" : "word";
      out += "<g class=\"point " + std::string(kind) + "\"><title>" + escape(p.title) + "</title>";
      out += "<circle class=\"" + std::string(kind) + "\" cx=\"" + num(page_x(p.x)) + "\" cy=\"" + num(page_y(p.y)) +
             "\" r=\"" + num(p.neighbor ? kNeighborRadius : kWordRadius) + "\" fill=\"" +
             (p.neighbor ? "#e07b1a" : "#1f5fa8") + "\" stroke=\"#fff\" stroke-width=\"1\"/>";
      out += "<text class=\"label\" x=\"" + num(labels[i].x) + "\" y=\"" + num(labels[i].y) + "\" text-anchor=\"" +
             labels[i].anchor + "\" font-size=\"" + num(p.neighbor ? kNeighborFont : kWordFont) + "\" fill=\"" +
             (p.neighbor ? "#7a4310" : "#111") +
             "\" stroke=\"#fff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\">" +
             escape(p.label) + "</text></g>\n";
    }
  }
  out += "</g>\n</svg>\n";
  return out;
}

std::string embedding_map_svg(const EmbeddingReport& r) {
  if (!r.plot) throw_parameter_error("plot", "the report holds no plot: ask for it with plot");
  std::vector<MapPoint> points;
  for (const PlotPoint& p : r.plot->points)  // the words come first: a neighbour's word is its point too
    points.push_back({p.label, point_title(r, p), p.x, p.y, p.neighbor, p.neighbor ? p.word : -1});
  return map_svg(points, map_title(r), r.plot->explained);
}

}  // namespace tinygpt
