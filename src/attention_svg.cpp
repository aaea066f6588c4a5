// A dump as a picture: one heatmap per head, layers down and heads across.
#include "tinygpt/attention_dump.h"

#include <algorithm>
#include <cmath>

#include "attention_format.h"
#include "svg.h"
#include "utf8.h"

namespace tinygpt {

using namespace attention_format;

std::string attention_svg(const AttentionDump& d) {
  using svg::num;
  const int T = d.n_tokens();
  // Cells shrink with the sentence so a head stays about 300 px wide; labels follow the cells.
  const double cell = std::clamp(std::floor(300.0 / T), 4.0, 22.0);
  const double font = std::clamp(cell * 0.7, 3.0, 12.0);
  int label_cols = 1;
  std::vector<std::string> labels;
  for (const auto& p : d.pieces) {
    labels.push_back(fit(p, kMaxLabelWidth));
    label_cols = std::max(label_cols, utf8::display_width(labels.back()));
  }
  // Labels of one or two columns (a letter, a CJK character) stand upright above their
  // column; longer ones are turned to read upwards, and the band above grows to fit them.
  constexpr int kUprightCols = 2;
  const bool upright = label_cols <= kUprightCols;
  const double label_len = label_cols * font * 0.62 + 4;
  const double side = T * cell;                            // a heatmap's width and height
  const double band_left = label_len;                      // query labels
  const double band_top = upright ? font + 4 : label_len;  // key labels
  const double title_h = 18, gap = 22;
  const double panel_w = band_left + side + gap, panel_h = title_h + band_top + side + gap;
  const double margin = 12, header_h = 58;
  const double width = std::max(2 * margin + d.heads.size() * panel_w, 420.0);
  const double height = header_h + margin + d.layers.size() * panel_h;

  std::string o;
  o += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" + num(height) +
       "\" viewBox=\"0 0 " + num(width) + " " + num(height) + "\" font-family=\"" + svg::kFontFamily + "\">\n";
  o += "<title>Attention: " + svg::escape(d.sentence) + "</title>\n";
  o += "<defs><linearGradient id=\"scale\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\"><stop offset=\"0\" stop-color=\"" +
       weight_color(0) + "\"/><stop offset=\"1\" stop-color=\"" + weight_color(1) + "\"/></linearGradient></defs>\n";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  o += "<text x=\"" + num(margin) +
       "\" y=\"22\" font-size=\"15\" font-weight=\"bold\">Attention: " + svg::escape(d.sentence) + "</text>\n";
  o += "<text x=\"" + num(margin) + "\" y=\"42\" font-size=\"11\" fill=\"#444\">" + std::to_string(T) +
       " tokens; rows: query, columns: key; layers down, heads across; grey: masked</text>\n";
  const double legend_x = width - margin - 150;
  o += "<text x=\"" + num(legend_x - 6) + "\" y=\"42\" font-size=\"11\" text-anchor=\"end\">0</text>";
  o += "<rect x=\"" + num(legend_x) + "\" y=\"32\" width=\"120\" height=\"12\" fill=\"url(#scale)\" stroke=\"#999\"/>";
  o += "<text x=\"" + num(legend_x + 126) + "\" y=\"42\" font-size=\"11\">1</text>\n";

  for (std::size_t ls = 0; ls < d.layers.size(); ++ls)
    for (std::size_t hs = 0; hs < d.heads.size(); ++hs) {
      const double px = margin + hs * panel_w, py = header_h + ls * panel_h;
      const double x0 = px + band_left, y0 = py + title_h + band_top;  // heatmap corner
      o += "<g class=\"head\" data-layer=\"" + std::to_string(d.layers[ls]) + "\" data-head=\"" +
           std::to_string(d.heads[hs]) + "\">\n";
      o += "<text x=\"" + num(x0) + "\" y=\"" + num(py + 13) + "\" font-size=\"12\" font-weight=\"bold\">" +
           head_name(d, ls, hs) + "</text>\n";
      for (int t = 0; t < T; ++t) {
        const std::string label = svg::escape(labels[static_cast<std::size_t>(t)]);
        const double mid = (t + 0.5) * cell;
        o += "<text x=\"" + num(x0 - 3) + "\" y=\"" + num(y0 + mid + font * 0.35) + "\" font-size=\"" + num(font) +
             "\" text-anchor=\"end\">" + label + "</text>";
        if (utf8::display_width(labels[static_cast<std::size_t>(t)]) <= kUprightCols)
          o += "<text x=\"" + num(x0 + mid) + "\" y=\"" + num(y0 - 3) + "\" font-size=\"" + num(font) +
               "\" text-anchor=\"middle\">" + label + "</text>\n";
        else
          o += "<text transform=\"translate(" + num(x0 + mid + font * 0.35) + "," + num(y0 - 3) +
               ") rotate(-90)\" font-size=\"" + num(font) + "\">" + label + "</text>\n";
      }
      o += "<rect x=\"" + num(x0) + "\" y=\"" + num(y0) + "\" width=\"" + num(side) + "\" height=\"" + num(side) +
           "\" fill=\"#ececec\" stroke=\"#bbbbbb\" stroke-width=\"0.5\"/>\n";
      for (int q = 0; q < T; ++q) {
        const auto r = d.row(ls, hs, q);
        for (int k = 0; k <= q; ++k) {
          const float w = r[static_cast<std::size_t>(k)];
          o += "<rect class=\"cell\" x=\"" + num(x0 + k * cell) + "\" y=\"" + num(y0 + q * cell) + "\" width=\"" +
               num(cell) + "\" height=\"" + num(cell) + "\" fill=\"" + weight_color(w) + "\"><title>" +
               svg::escape(d.pieces[static_cast<std::size_t>(q)]) + " \xE2\x86\x92 " +
               svg::escape(d.pieces[static_cast<std::size_t>(k)]) + ": " + fixed(w, 3) + "</title></rect>";
        }
        o += "\n";
      }
      o += "</g>\n";
    }
  o += "</svg>\n";
  return o;
}

}  // namespace tinygpt
