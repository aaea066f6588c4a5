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
