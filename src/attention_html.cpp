// A dump as one self-contained page: pick a layer and head, hover a token.
#include "tinygpt/attention_dump.h"

#include <nlohmann/json.hpp>

#include "attention_format.h"
#include "tinygpt/svg.h"

namespace tinygpt {

using namespace attention_format;

namespace {

// The page's data, safe inside <script>: every '<' (only ever inside JSON strings) is escaped
// so no token can close the element, and so are the noncharacters U+FFFE and U+FFFF, which
// an HTML parser reports as errors; JSON.parse reads all three back unchanged.
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
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::string_view rest = std::string_view(text).substr(i, 3);
    if (text[i] == '<') {
      out += "\\u003c";
    } else if (rest == "\xEF\xBF\xBE" || rest == "\xEF\xBF\xBF") {
      out += rest.back() == '\xBE' ? "\\ufffe" : "\\uffff";
      i += 2;
    } else {
      out += text[i];
    }
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

}  // namespace tinygpt
