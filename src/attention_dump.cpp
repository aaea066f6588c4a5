#include "tinygpt/attention_dump.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tinygpt/decoder.h"
#include "tinygpt/error.h"
#include "tinygpt/generate.h"
#include "tinygpt/svg.h"
#include "tinygpt/utf8.h"

namespace tinygpt {

// ---------------------------------------------------------------------------------------
// Capture

std::span<const float> AttentionDump::row(std::size_t layer_slot, std::size_t head_slot, int query) const {
  const auto T = static_cast<std::size_t>(n_tokens());
  const std::size_t at = ((layer_slot * heads.size() + head_slot) * T + static_cast<std::size_t>(query)) * T;
  return {weights.data() + at, T};
}

int AttentionDump::strongest_key(std::size_t layer_slot, std::size_t head_slot, int query) const {
  const auto r = row(layer_slot, head_slot, query);
  // Only keys up to the query: the masked zeros can never win, even against an all-zero row.
  return static_cast<int>(std::max_element(r.begin(), r.begin() + query + 1) - r.begin());
}

namespace {

std::vector<int> resolve_indices(const std::vector<int>& wanted, int count, const char* flag, const char* noun) {
  std::vector<int> out;
  if (wanted.empty()) {
    for (int i = 0; i < count; ++i) out.push_back(i);
    return out;
  }
  for (const int i : wanted) {
    if (i < 0 || i >= count)
      throw_usage_error(std::string(flag) + " " + std::to_string(i) + " is out of range: the model has " +
                        std::to_string(count) + " " + noun + (count == 1 ? "" : "s") + ", numbered 0.." +
                        std::to_string(count - 1));
    out.push_back(i);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

AttentionDump capture_attention(const Model& model, std::string_view sentence, const AttentionSelection& selection) {
  const Config& c = model.config;
  const Tokenizer& tok = model.tokenizer;
  AttentionDump d;
  d.n_layer = c.n_layer;
  d.n_head = c.n_head;
  d.head_dim = c.head_dim();
  d.layers = resolve_indices(selection.layers, c.n_layer, "--layer", "layer");
  d.heads = resolve_indices(selection.heads, c.n_head, "--head", "head");
  d.ids = prompt_ids(model, sentence);
  d.sentence = utf8::sanitize(sentence);
  for (const auto id : d.ids) {
    d.tokens.push_back(tok.is_special(id) ? tok.token_bytes(id) : utf8::sanitize(tok.token_bytes(id)));
    d.pieces.push_back(tok.piece(id));
  }

  const auto T = static_cast<std::size_t>(d.n_tokens());
  const auto hd = static_cast<std::size_t>(d.head_dim);
  const std::size_t n_heads = d.layers.size() * d.heads.size();
  d.weights.assign(n_heads * T * T, 0.0f);  // the masked upper triangle stays exactly 0
  if (selection.qkv) {
    d.q.assign(n_heads * T * hd, 0.0f);
    d.k.assign(n_heads * T * hd, 0.0f);
    d.v.assign(n_heads * T * hd, 0.0f);
  }
  std::vector<int> layer_slot(static_cast<std::size_t>(c.n_layer), -1), head_slot(static_cast<std::size_t>(c.n_head), -1);
  for (std::size_t i = 0; i < d.layers.size(); ++i) layer_slot[static_cast<std::size_t>(d.layers[i])] = static_cast<int>(i);
  for (std::size_t i = 0; i < d.heads.size(); ++i) head_slot[static_cast<std::size_t>(d.heads[i])] = static_cast<int>(i);

  const AttentionObserver observer = [&](const AttentionEvent& e) {
    const int ls = layer_slot[static_cast<std::size_t>(e.layer)], hs = head_slot[static_cast<std::size_t>(e.head)];
    if (ls < 0 || hs < 0) return;
    const std::size_t slot = static_cast<std::size_t>(ls) * d.heads.size() + static_cast<std::size_t>(hs);
    const auto pos = static_cast<std::size_t>(e.query_pos);
    std::copy(e.weights.begin(), e.weights.end(), d.weights.begin() + static_cast<std::ptrdiff_t>((slot * T + pos) * T));
    if (selection.qkv) {
      // Position p's own key and value are in the cache by the time p is the query.
      const std::size_t at = (slot * T + pos) * hd;
      const float* key = e.keys + pos * static_cast<std::size_t>(e.kv_stride);
      const float* value = e.values + pos * static_cast<std::size_t>(e.kv_stride);
      std::copy(e.q.begin(), e.q.end(), d.q.begin() + static_cast<std::ptrdiff_t>(at));
      std::copy(key, key + hd, d.k.begin() + static_cast<std::ptrdiff_t>(at));
      std::copy(value, value + hd, d.v.begin() + static_cast<std::ptrdiff_t>(at));
    }
  };
  State state = make_state(c, d.n_tokens());
  ForwardOptions options;
  options.observer = &observer;
  forward(model, state, d.ids, options);
  return d;
}

// ---------------------------------------------------------------------------------------
// Shared formatting

namespace {

// The shortest decimal that reads back as the same float, as a double: JSON and CSV then
// carry 0.41234568 rather than float-to-double noise like 0.41234567761421204.
std::string float_text(float f) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, f);
  return {buf, r.ptr};
}

double float_value(float f) {
  const std::string s = float_text(f);
  double d = 0;
  std::from_chars(s.data(), s.data() + s.size(), d);
  return d;
}

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string head_name(const AttentionDump& d, std::size_t ls, std::size_t hs) {
  return "L" + std::to_string(d.layers[ls]) + " H" + std::to_string(d.heads[hs]);
}

// Cuts a label to `max_width` terminal columns, ending it with … when something was cut.
std::string fit(const std::string& s, int max_width) {
  if (utf8::display_width(s) <= max_width) return s;
  std::string out;
  int width = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = std::max<std::size_t>(1, utf8::sequence_length(s, i));
    const std::string ch = s.substr(i, n);
    const int w = utf8::display_width(ch);
    if (width + w > max_width - 1) break;
    out += ch;
    width += w;
    i += n;
  }
  return out + "\xE2\x80\xA6";  // …
}

std::string pad_left(const std::string& s, int width) {
  return std::string(static_cast<std::size_t>(std::max(0, width - utf8::display_width(s))), ' ') + s;
}

std::string pad_right(const std::string& s, int width) {
  return s + std::string(static_cast<std::size_t>(std::max(0, width - utf8::display_width(s))), ' ');
}

// Light to dark blue as the weight goes from 0 to 1.
void weight_rgb(float w, int rgb[3]) {
  static constexpr int lo[3] = {247, 251, 255}, hi[3] = {8, 48, 107};
  const float t = std::clamp(w, 0.0f, 1.0f);
  for (int i = 0; i < 3; ++i) rgb[i] = static_cast<int>(std::lround(lo[i] + (hi[i] - lo[i]) * t));
}

std::string weight_color(float w) {
  int rgb[3];
  weight_rgb(w, rgb);
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Text table

namespace {

// Longer tokens are cut with …: query labels get a little more room than key columns.
constexpr int kMaxLabelWidth = 10;  // SVG labels and table rows
constexpr int kMaxColumnWidth = 8;  // table columns

std::string summary_line(const AttentionDump& d, std::size_t ls, std::size_t hs) {
  std::string line = head_name(d, ls, hs) + ":";
  for (int q = 0; q < d.n_tokens(); ++q)
    line += " " + d.pieces[static_cast<std::size_t>(q)] + "\xE2\x86\x92" +  // →
            d.pieces[static_cast<std::size_t>(d.strongest_key(ls, hs, q))];
  return line + "\n";
}

}  // namespace

std::string attention_summary(const AttentionDump& d) {
  std::string out;
  for (std::size_t ls = 0; ls < d.layers.size(); ++ls)
    for (std::size_t hs = 0; hs < d.heads.size(); ++hs) out += summary_line(d, ls, hs);
  return out;
}

std::string attention_table(const AttentionDump& d) {
  const int T = d.n_tokens();
  std::vector<std::string> labels, columns;
  int label_width = 1, cell_width = 6;  // "*0.412"
  for (const auto& p : d.pieces) {
    labels.push_back(fit(p, kMaxLabelWidth));
    columns.push_back(fit(p, kMaxColumnWidth));
    label_width = std::max(label_width, utf8::display_width(labels.back()));
    cell_width = std::max(cell_width, utf8::display_width(columns.back()));
  }
  const int index_width = static_cast<int>(std::to_string(T - 1).size());
  const std::string margin(static_cast<std::size_t>(index_width + 1 + label_width), ' ');

  std::string out = "\"" + d.sentence + "\": " + std::to_string(T) + " tokens; rows: query, columns: key; " +
                    "* marks each row's strongest key; blank: masked (later tokens are not visible)\n";
  for (std::size_t ls = 0; ls < d.layers.size(); ++ls)
    for (std::size_t hs = 0; hs < d.heads.size(); ++hs) {
      out += "\n" + head_name(d, ls, hs) + " (layer " + std::to_string(d.layers[ls]) + ", head " +
             std::to_string(d.heads[hs]) + ")\n";
      std::string numbers = margin, names = margin;
      for (int k = 0; k < T; ++k) {
        numbers += " " + pad_left(std::to_string(k), cell_width);
        names += " " + pad_left(columns[static_cast<std::size_t>(k)], cell_width);
      }
      out += numbers + "\n" + names + "\n";
      for (int q = 0; q < T; ++q) {
        const auto r = d.row(ls, hs, q);
        const int best = d.strongest_key(ls, hs, q);
        out += pad_left(std::to_string(q), index_width) + " " + pad_right(labels[static_cast<std::size_t>(q)], label_width);
        for (int k = 0; k <= q; ++k)
          out += " " + pad_left((k == best ? "*" : "") + fixed(r[static_cast<std::size_t>(k)], 3), cell_width);
        out += "\n";
      }
      out += summary_line(d, ls, hs);
    }
  return out;
}

// ---------------------------------------------------------------------------------------
// JSON

namespace {

// [layers][heads][T][width] floats as nested arrays.
nlohmann::json nested(const std::vector<float>& values, std::size_t n_layers, std::size_t n_heads, std::size_t T,
                      std::size_t width) {
  nlohmann::json out = nlohmann::json::array();
  std::size_t at = 0;
  for (std::size_t l = 0; l < n_layers; ++l) {
    nlohmann::json layer = nlohmann::json::array();
    for (std::size_t h = 0; h < n_heads; ++h) {
      nlohmann::json head = nlohmann::json::array();
      for (std::size_t t = 0; t < T; ++t) {
        nlohmann::json row = nlohmann::json::array();
        for (std::size_t i = 0; i < width; ++i) row.push_back(float_value(values[at++]));
        head.push_back(std::move(row));
      }
      layer.push_back(std::move(head));
    }
    out.push_back(std::move(layer));
  }
  return out;
}

}  // namespace

nlohmann::json attention_json(const AttentionDump& d) {
  const auto T = static_cast<std::size_t>(d.n_tokens());
  nlohmann::json j = {{"sentence", d.sentence}, {"tokens", d.tokens},     {"pieces", d.pieces},
                      {"ids", d.ids},           {"n_layer", d.n_layer},   {"n_head", d.n_head},
                      {"head_dim", d.head_dim}, {"layers", d.layers},     {"heads", d.heads}};
  j["attention"] = nested(d.weights, d.layers.size(), d.heads.size(), T, T);
  if (!d.q.empty()) {
    // What attend_head computes: weights[q] = softmax_k(q . k * scale).
    j["scale"] = float_value(1.0f / std::sqrt(static_cast<float>(d.head_dim)));
    const auto hd = static_cast<std::size_t>(d.head_dim);
    j["q"] = nested(d.q, d.layers.size(), d.heads.size(), T, hd);
    j["k"] = nested(d.k, d.layers.size(), d.heads.size(), T, hd);
    j["v"] = nested(d.v, d.layers.size(), d.heads.size(), T, hd);
  }
  return j;
}

// ---------------------------------------------------------------------------------------
// SVG

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
  const double side = T * cell;                         // a heatmap's width and height
  const double band_left = label_len;                   // query labels
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
  o += "<text x=\"" + num(margin) + "\" y=\"22\" font-size=\"15\" font-weight=\"bold\">Attention: " +
       svg::escape(d.sentence) + "</text>\n";
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

// ---------------------------------------------------------------------------------------
// HTML viewer

namespace {

// The page's data, safe inside <script>: every '<' (only ever inside JSON strings) is escaped
// so no token can close the element.
std::string page_data(const AttentionDump& d) {
  nlohmann::json attention = nlohmann::json::array();
  for (std::size_t ls = 0; ls < d.layers.size(); ++ls) {
    nlohmann::json layer = nlohmann::json::array();
    for (std::size_t hs = 0; hs < d.heads.size(); ++hs) {
      nlohmann::json head = nlohmann::json::array();
      for (int q = 0; q < d.n_tokens(); ++q) {
        const auto r = d.row(ls, hs, q);
        nlohmann::json row = nlohmann::json::array();  // keys 0..q: the mask is implied
        for (int k = 0; k <= q; ++k) row.push_back(float_value(r[static_cast<std::size_t>(k)]));
        head.push_back(std::move(row));
      }
      layer.push_back(std::move(head));
    }
    attention.push_back(std::move(layer));
  }
  const nlohmann::json j = {{"sentence", d.sentence}, {"pieces", d.pieces},   {"ids", d.ids},
                            {"n_layer", d.n_layer},   {"n_head", d.n_head},   {"layers", d.layers},
                            {"heads", d.heads},       {"attention", std::move(attention)}};
  const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

constexpr const char* kPageHead = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
)HTML";

constexpr const char* kPageStyle = R"HTML(<style>
body { margin: 16px 20px; color: #222; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; font-weight: 600; }
.meta { color: #555; font-size: 13px; }
.controls { display: flex; gap: 18px; align-items: center; flex-wrap: wrap; margin: 12px 0 8px; font-size: 14px; }
select { font: inherit; padding: 2px 4px; }
#info { color: #08306b; min-height: 1.3em; }
#thumbs { display: flex; gap: 6px; flex-wrap: wrap; margin-bottom: 12px; }
.thumb { display: flex; flex-direction: column; align-items: center; font-size: 11px; color: #555; cursor: pointer; }
.thumb canvas { border: 2px solid #ddd; image-rendering: pixelated; }
.thumb.selected canvas { border-color: #e6550d; }
.thumb.selected { color: #e6550d; font-weight: 600; }
#views { display: flex; gap: 36px; align-items: flex-start; flex-wrap: wrap; }
h2 { font-size: 13px; font-weight: 600; color: #444; margin: 0 0 6px; }
#headview .token { cursor: default; }
#headview .token text { font-size: var(--font, 13px); dominant-baseline: middle; }
#headview .token rect { fill: #08306b; }
#headview .token.focus text { font-weight: 700; fill: #e6550d; }
#headview line { stroke: #2171b5; stroke-width: 2; }
#heatmap { display: grid; gap: 0; font-size: var(--font, 12px); }
#heatmap .cell { box-sizing: border-box; border: 0.5px solid rgba(255,255,255,0.35); font-size: 9px;
  display: flex; align-items: center; justify-content: center; overflow: hidden; }
#heatmap .cell.masked { background: repeating-linear-gradient(45deg, #f3f3f3 0 3px, #e6e6e6 3px 6px); }
#heatmap .cell.focus { outline: 1.5px solid #e6550d; outline-offset: -1.5px; }
#heatmap .qlabel { text-align: right; padding-right: 6px; white-space: nowrap; overflow: hidden; align-self: center; }
#heatmap .klabel { white-space: nowrap; overflow: hidden; justify-self: center; align-self: end; padding-bottom: 4px; }
#heatmap .klabel.turned { writing-mode: vertical-rl; transform: rotate(180deg); }
#heatmap .label.focus { color: #e6550d; font-weight: 700; }
.scale { display: flex; align-items: center; gap: 6px; font-size: 11px; color: #555; margin-top: 8px; }
.scale span.bar { width: 120px; height: 10px; border: 1px solid #aaa; }
.help { color: #777; font-size: 12px; margin-top: 16px; }
</style>
</head>
<body>
)HTML";

constexpr const char* kPageBody = R"HTML(<div class="controls">
  <label>Layer <select id="layer"></select></label>
  <label>Head <select id="head"></select></label>
  <span id="info"></span>
</div>
<div id="thumbs"></div>
<div id="views">
  <div><h2>Head view: hover a token</h2><svg id="headview"></svg></div>
  <div><h2>Heatmap: rows query, columns key</h2><div id="heatmap"></div>
    <div class="scale">0 <span class="bar"></span> 1 &nbsp; hatched: masked (a token cannot see later tokens)</div></div>
</div>
<p class="help">Keys: &larr; &rarr; change head, &uarr; &darr; change layer. Lines and cells are darker the more attention flows.</p>
)HTML";

// Draws everything from the embedded data. Stable hooks for tests: #heatmap[data-layer][data-head],
// .cell[data-q][data-k][data-w] (.masked above the diagonal), #headview .token.query/.key[data-pos],
// #headview line[data-q][data-k][data-w], .thumb[data-head].
constexpr const char* kPageScript = R"JS(<script>
'use strict';
(function () {
  const data = JSON.parse(document.getElementById('attention-data').textContent);
  const T = data.pieces.length;
  const SVGNS = 'http://www.w3.org/2000/svg';
  const layerSel = document.getElementById('layer');
  const headSel = document.getElementById('head');
  const info = document.getElementById('info');
  const heatmap = document.getElementById('heatmap');
  const headview = document.getElementById('headview');
  const thumbs = document.getElementById('thumbs');
  const lo = [247, 251, 255], hi = [8, 48, 107];

  function rgb(w) {
    const t = Math.min(1, Math.max(0, w));
    return 'rgb(' + lo.map((a, i) => Math.round(a + (hi[i] - a) * t)).join(',') + ')';
  }
  function el(ns, tag, attrs, text) {
    const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function slots() {
    return [data.layers.indexOf(Number(layerSel.value)), data.heads.indexOf(Number(headSel.value))];
  }
  function rows() { const [l, h] = slots(); return data.attention[l][h]; }
  function strongest(row) {
    let best = 0;
    for (let k = 1; k < row.length; ++k) if (row[k] > row[best]) best = k;
    return best;
  }

  data.layers.forEach(l => layerSel.add(new Option('Layer ' + l, String(l))));
  data.heads.forEach(h => headSel.add(new Option('Head ' + h, String(h))));
  document.querySelector('.scale .bar').style.background = 'linear-gradient(to right, ' + rgb(0) + ', ' + rgb(1) + ')';

  // Cells, rows and fonts shrink with the sentence so that long inputs still fit a screen.
  const cellSize = Math.max(6, Math.min(36, Math.floor(560 / T)));
  // A letter or a CJK character stands upright above its column; longer labels turn.
  const long = p => [...p].length > 2;
  const turned = data.pieces.some(long);
  let cells = [];  // [q][k]

  function buildHeatmap() {
    heatmap.textContent = '';
    heatmap.style.gridTemplateColumns = 'max-content repeat(' + T + ', ' + cellSize + 'px)';
    heatmap.style.gridAutoRows = cellSize + 'px';
    heatmap.dataset.tokens = String(T);
    heatmap.style.setProperty('--font', Math.max(6, Math.min(12, cellSize - 1)) + 'px');
    heatmap.appendChild(el(null, 'div'));
    const labelRow = turned ? 'minmax(' + cellSize + 'px, max-content)' : cellSize + 'px';
    heatmap.style.gridTemplateRows = labelRow;
    data.pieces.forEach((p, k) =>
      heatmap.appendChild(el(null, 'div', {class: long(p) ? 'label klabel turned' : 'label klabel', 'data-pos': k, title: k + ': ' + p}, p)));
    cells = [];
    for (let q = 0; q < T; ++q) {
      heatmap.appendChild(el(null, 'div', {class: 'label qlabel', 'data-pos': q, title: q + ': ' + data.pieces[q]}, data.pieces[q]));
      const row = [];
      for (let k = 0; k < T; ++k) {
        const c = el(null, 'div', {class: k > q ? 'cell masked' : 'cell', 'data-q': q, 'data-k': k});
        if (k <= q) {
          c.addEventListener('mouseenter', () => focusQuery(q, k));
          c.addEventListener('mouseleave', () => focusQuery(-1));
        }
        heatmap.appendChild(c);
        row.push(c);
      }
      cells.push(row);
    }
  }

  function paintHeatmap() {
    const r = rows();
    heatmap.dataset.layer = layerSel.value;
    heatmap.dataset.head = headSel.value;
    const numbers = cellSize >= 30;
    for (let q = 0; q < T; ++q)
      for (let k = 0; k <= q; ++k) {
        const w = r[q][k], c = cells[q][k];
        c.dataset.w = String(w);
        c.style.background = rgb(w);
        c.style.color = w > 0.5 ? '#fff' : '#333';
        c.title = data.pieces[q] + ' \u2192 ' + data.pieces[k] + ': ' + w.toFixed(3);
        c.textContent = numbers ? w.toFixed(2).replace(/^0/, '') : '';
      }
  }

  const rowH = Math.max(8, Math.min(22, Math.floor(640 / T)));
  const headFont = Math.min(13, rowH - 1);
  const colW = Math.max(40, 14 + Math.ceil(headFont * 0.65) * Math.max(...data.pieces.map(p => [...p].length)));
  const gapW = 150;
  let links = null;

  function buildHeadview() {
    headview.textContent = '';
    const width = 2 * colW + gapW, height = T * rowH + 8;
    headview.setAttribute('width', width);
    headview.setAttribute('height', height);
    headview.style.setProperty('--font', headFont + 'px');
    links = el(SVGNS, 'g', {class: 'links'});
    headview.appendChild(links);
    for (const side of ['query', 'key']) {
      data.pieces.forEach((p, t) => {
        const y = 4 + t * rowH;
        const g = el(SVGNS, 'g', {class: 'token ' + side, 'data-pos': t});
        const x = side === 'query' ? 0 : colW + gapW;
        const bg = el(SVGNS, 'rect', {x: x, y: y, width: colW, height: rowH - 2, rx: 3, 'fill-opacity': 0});
        const label = el(SVGNS, 'text', {x: side === 'query' ? colW - 6 : x + 6, y: y + rowH / 2 - 1,
                                         'text-anchor': side === 'query' ? 'end' : 'start'}, p);
        g.appendChild(bg);
        g.appendChild(label);
        g.addEventListener('mouseenter', () => side === 'query' ? focusQuery(t) : focusKey(t));
        g.addEventListener('mouseleave', () => focusQuery(-1));
        headview.appendChild(g);
      });
    }
  }

  function drawLinks(pairs) {
    links.textContent = '';
    const x1 = colW, x2 = colW + gapW;
    for (const [q, k, w] of pairs) {
        links.appendChild(el(SVGNS, 'line', {x1: x1, y1: 4 + q * rowH + rowH / 2 - 1, x2: x2, y2: 4 + k * rowH + rowH / 2 - 1,
                                            'stroke-opacity': Math.min(1, w), 'data-q': q, 'data-k': k, 'data-w': w}));
    }
  }

  function shade(side, weights) {
    headview.querySelectorAll('.token.' + side).forEach(g => {
      const w = weights ? (weights[Number(g.dataset.pos)] || 0) : 0;
      g.querySelector('rect').setAttribute('fill-opacity', (0.6 * w).toFixed(3));
    });
  }

  function clearFocus() {
    document.querySelectorAll('.focus').forEach(e => e.classList.remove('focus'));
    shade('query', null);
    shade('key', null);
  }

  function focusQuery(q, k) {
    clearFocus();
    const r = rows();
    headview.dataset.focus = q >= 0 ? 'query:' + q : '';
    if (q < 0) {
      const all = [];
      for (let i = 0; i < T; ++i) for (let j = 0; j <= i; ++j) all.push([i, j, r[i][j]]);
      drawLinks(all);
      info.textContent = 'Hover a token to see what it attends to.';
      return;
    }
    drawLinks(r[q].map((w, j) => [q, j, w]));
    shade('key', r[q]);
    headview.querySelector('.token.query[data-pos="' + q + '"]').classList.add('focus');
    heatmap.querySelector('.qlabel[data-pos="' + q + '"]').classList.add('focus');
    for (let j = 0; j <= q; ++j) cells[q][j].classList.add('focus');
    const best = strongest(r[q]);
    let text = '\u201c' + data.pieces[q] + '\u201d (' + q + ') attends most to \u201c' + data.pieces[best] + '\u201d (' + best +
               '): ' + r[q][best].toFixed(3);
    if (k !== undefined) text += ' \u2014 to \u201c' + data.pieces[k] + '\u201d (' + k + '): ' + r[q][k].toFixed(3);
    info.textContent = text;
  }

  function focusKey(k) {
    clearFocus();
    const r = rows();
    headview.dataset.focus = 'key:' + k;
    const pairs = [], col = [];
    for (let q = 0; q < T; ++q) { col.push(q >= k ? r[q][k] : 0); if (q >= k) pairs.push([q, k, r[q][k]]); }
    drawLinks(pairs);
    shade('query', col);
    headview.querySelector('.token.key[data-pos="' + k + '"]').classList.add('focus');
    heatmap.querySelector('.klabel[data-pos="' + k + '"]').classList.add('focus');
    for (let q = k; q < T; ++q) cells[q][k].classList.add('focus');
    info.textContent = 'Attention paid to \u201c' + data.pieces[k] + '\u201d (' + k + ') by each later token';
  }

  function drawThumbs() {
    thumbs.textContent = '';
    const l = slots()[0];
    const px = Math.max(1, Math.floor(64 / T)), size = px * T;
    data.heads.forEach((h, hs) => {
      const box = el(null, 'div', {class: 'thumb', 'data-head': h, title: 'Layer ' + layerSel.value + ', head ' + h});
      const canvas = el(null, 'canvas', {width: size, height: size});
      const shown = Math.min(96, Math.max(size, 64)) + 'px';
      canvas.style.width = shown;
      canvas.style.height = shown;
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#ececec';
      ctx.fillRect(0, 0, size, size);
      const r = data.attention[l][hs];
      for (let q = 0; q < T; ++q) for (let k = 0; k <= q; ++k) { ctx.fillStyle = rgb(r[q][k]); ctx.fillRect(k * px, q * px, px, px); }
      box.appendChild(canvas);
      box.appendChild(el(null, 'span', {}, 'H' + h));
      box.addEventListener('click', () => { headSel.value = String(h); update(); });
      thumbs.appendChild(box);
    });
  }

  function update() {
    paintHeatmap();
    drawThumbs();
    thumbs.querySelectorAll('.thumb').forEach(t => t.classList.toggle('selected', t.dataset.head === headSel.value));
    focusQuery(-1);
  }

  function step(sel, delta) {
    const i = sel.selectedIndex + delta;
    if (i >= 0 && i < sel.options.length) { sel.selectedIndex = i; update(); }
  }

  layerSel.addEventListener('change', update);
  headSel.addEventListener('change', update);
  document.addEventListener('keydown', e => {
    if (e.target.tagName === 'SELECT') return;
    if (e.key === 'ArrowRight') step(headSel, 1);
    else if (e.key === 'ArrowLeft') step(headSel, -1);
    else if (e.key === 'ArrowDown') step(layerSel, 1);
    else if (e.key === 'ArrowUp') step(layerSel, -1);
  });

  buildHeatmap();
  buildHeadview();
  update();
  document.body.dataset.ready = 'true';
})();
</script>
)JS";

}  // namespace

std::string attention_html(const AttentionDump& d) {
  const std::string title = "Attention: " + svg::escape(d.sentence);
  std::string o = kPageHead;
  o += "<title>" + title + "</title>\n";
  o += "<style>body { font-family: " + std::string(svg::kFontFamily) + "; }</style>\n";
  o += kPageStyle;
  o += "<h1>" + title + "</h1>\n";
  o += "<div class=\"meta\">" + std::to_string(d.n_tokens()) + " tokens; model with " + std::to_string(d.n_layer) +
       " layers &times; " + std::to_string(d.n_head) + " heads";
  if (d.layers.size() != static_cast<std::size_t>(d.n_layer) || d.heads.size() != static_cast<std::size_t>(d.n_head))
    o += " (" + std::to_string(d.layers.size()) + " layers &times; " + std::to_string(d.heads.size()) + " heads included)";
  o += "</div>\n";
  o += kPageBody;
  o += "<script id=\"attention-data\" type=\"application/json\">" + page_data(d) + "</script>\n";
  o += kPageScript;
  o += "</body>\n</html>\n";
  return o;
}

// ---------------------------------------------------------------------------------------
// CSV and NPY

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string attention_csv(const AttentionDump& d) {
  const int T = d.n_tokens();
  std::string out = "layer,head,query,key,query_token,key_token,weight\n";
  for (std::size_t ls = 0; ls < d.layers.size(); ++ls)
    for (std::size_t hs = 0; hs < d.heads.size(); ++hs)
      for (int q = 0; q < T; ++q) {
        const auto r = d.row(ls, hs, q);
        const std::string prefix = std::to_string(d.layers[ls]) + "," + std::to_string(d.heads[hs]) + "," +
                                   std::to_string(q) + ",";
        const std::string query = csv_field(d.pieces[static_cast<std::size_t>(q)]);
        for (int k = 0; k < T; ++k)
          out += prefix + std::to_string(k) + "," + query + "," + csv_field(d.pieces[static_cast<std::size_t>(k)]) + "," +
                 float_text(r[static_cast<std::size_t>(k)]) + "\n";
      }
  return out;
}

std::string attention_npy(const AttentionDump& d) {
  const int T = d.n_tokens();
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(d.layers.size()) + ", " +
                       std::to_string(d.heads.size()) + ", " + std::to_string(T) + ", " + std::to_string(T) + "), }";
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64 and ending in '\n'.
  const std::size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  const std::size_t at = out.size();
  out.resize(at + d.weights.size() * sizeof(float));
  for (std::size_t i = 0; i < d.weights.size(); ++i) {
    auto bits = std::bit_cast<std::uint32_t>(d.weights[i]);
    if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
    std::memcpy(out.data() + at + i * sizeof(float), &bits, sizeof bits);
  }
  return out;
}

}  // namespace tinygpt
