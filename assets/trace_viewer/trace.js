'use strict';
(function () {
  const data = JSON.parse(document.getElementById('trace-data').textContent);
  const P = data.position;
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const norm = v => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  // Blue for positive, red for negative, white for zero; scaled by the vector's largest |value|.
  const signed = (x, max) => {
    const t = max > 0 ? Math.min(1, Math.abs(x) / max) : 0;
    const c = Math.round(255 * (1 - t));
    return x >= 0 ? `rgb(${c}, ${c}, 255)` : `rgb(255, ${c}, ${c})`;
  };
  const weightColor = w => {
    const t = Math.max(0, Math.min(1, w));
    return `rgb(${Math.round(247 - 239 * t)}, ${Math.round(251 - 203 * t)}, ${Math.round(255 - 148 * t)})`;
  };
  const label = t => t.replace(/ /g, '\u00b7').replace(/\n/g, '\u21b5');

  function strip(name, values, note) {
    const row = el('div', 'strip-row');
    row.dataset.name = name;
    row.append(el('span', 'label', name));
    const s = el('div', 'strip');
    const max = Math.max(...values.map(Math.abs));
    values.forEach((x, i) => {
      const c = el('span');
      c.style.background = signed(x, max);
      c.title = `${name}[${i}] = ${x}`;
      s.append(c);
    });
    row.append(s, el('span', 'norm', 'norm ' + norm(values).toFixed(3)));
    if (note) row.title = note;
    return row;
  }

  function bars(items, cls) {  // items: [{name, value, title}] with value in [0, 1]
    const box = el('div', 'bars ' + (cls || ''));
    for (const it of items) {
      const row = el('div', 'bar-row');
      row.dataset.id = it.id;
      const bar = el('div', 'bar');
      bar.style.width = (300 * it.value).toFixed(1) + 'px';
      bar.dataset.value = it.value;
      row.title = it.title;
      row.append(el('span', 'name', it.name), bar, el('span', 'value', (100 * it.value).toFixed(1) + '%'));
      box.append(row);
    }
    return box;
  }

  // 1. Tokens
  const tokens = document.getElementById('tokens');
  data.tokens.forEach((t, i) => {
    const chip = el('span', 'token' + (i === P ? ' at' : ''), label(t.text));
    chip.append(el('small', null, `${i}: id ${t.id}`));
    tokens.append(chip);
  });

  // 2. Embedding
  const emb = document.getElementById('embedding');
  const e = data.embedding;
  emb.append(strip(`wte[${e.token_id}]`, e.token_row, 'one-hot x wte: the row of the token'),
             strip(e.positional === 'learned' ? `wpe[${P}]` : `PE[${P}]`, e.position_row, e.formula || 'learned'),
             strip('sum', e.sum, 'the input of layer 0'));
  if (e.formula) emb.append(el('p', 'why', e.formula));

  // 3. Layers: one at a time, chosen with the selects (or the arrow keys).
  const layerSel = document.getElementById('layer'), headSel = document.getElementById('head');
  data.layers.forEach((l, i) => layerSel.append(new Option('layer ' + l.layer, i)));
  data.layers[0].heads.forEach((h, i) => headSel.append(new Option('head ' + h.head, i)));
  const view = document.getElementById('layer-view');

  function drawLayer() {
    const L = data.layers[Number(layerSel.value)];
    const hs = Number(headSel.value);
    view.replaceChildren();
    view.dataset.layer = L.layer;
    view.append(strip('input', L.input), strip('ln_1', L.ln_1, 'layer norm'));
    const table = el('table', 'heads');
    table.id = 'heads';
    table.dataset.layer = L.layer;
    const head = el('tr');
    head.append(el('th'));
    data.tokens.slice(0, P + 1).forEach(t => head.append(el('th', null, label(t.text))));
    table.append(head);
    L.heads.forEach((h, i) => {
      const tr = el('tr', i === hs ? 'selected' : '');
      tr.append(el('th', null, 'head ' + h.head));
      h.weights.forEach((w, j) => {
        const td = el('td', 'cell');
        td.dataset.head = h.head;
        td.dataset.k = j;
        td.dataset.w = w;
        td.style.background = weightColor(w);
        td.title = `head ${h.head}: ${label(data.tokens[j].text)} (position ${j}) weight ${w.toFixed(4)}, score q.k ${h.scores[j].toFixed(4)}`;
        tr.append(td);
      });
      tr.addEventListener('click', () => { headSel.value = i; drawLayer(); });
      table.append(tr);
    });
    view.append(el('p', 'why', 'Each row: one head\u2019s softmax(q.k / sqrt(d)) over the positions up to ' + P +
                                ' (later ones are masked). Click a row to pick the head.'), table);
    const H = L.heads[hs];
    const detail = el('div');
    detail.id = 'head-detail';
    detail.dataset.head = H.head;
    detail.append(el('h2', null, `Head ${H.head}: where position ${P} looks`),
                  bars(H.weights.map((w, j) => ({ id: j, name: label(data.tokens[j].text), value: w,
                                                  title: `weight ${w}, score ${H.scores[j]}, scale ${H.scale}` }))),
                  strip('q', H.q), strip('output', H.output, 'sum of weight x v'));
    view.append(detail, strip('attn_output', L.attn_output, 'heads joined, x W_O + bias'),
                strip('+ residual', L.residual_after_attn), strip('ln_2', L.ln_2),
                strip('mlp_output', L.mlp_output), strip('output', L.output, 'what the next layer reads'));
  }
  layerSel.addEventListener('change', drawLayer);
  headSel.addEventListener('change', drawLayer);
  document.addEventListener('keydown', ev => {
    if (ev.target.tagName === 'SELECT') return;
    const step = (sel, d) => { sel.value = Math.max(0, Math.min(sel.options.length - 1, Number(sel.value) + d)); drawLayer(); };
    if (ev.key === 'ArrowRight') step(headSel, 1);
    else if (ev.key === 'ArrowLeft') step(headSel, -1);
    else if (ev.key === 'ArrowDown') step(layerSel, 1);
    else if (ev.key === 'ArrowUp') step(layerSel, -1);
  });
  drawLayer();

  // The logit lens: what each layer would predict.
  const lens = document.getElementById('lens');
  for (const L of data.layers) {
    if (!L.lens_top) continue;
    const row = el('div', 'lens-row');
    row.dataset.layer = L.layer;
    row.append(el('span', 'name', 'layer ' + L.layer));
    for (const t of L.lens_top) {
      const p = Math.exp(t.logprob);
      const chip = el('span', 'lens-token', `${label(t.token)} ${(100 * p).toFixed(1)}%`);
      chip.style.background = weightColor(p);
      chip.style.color = p > 0.5 ? '#fff' : '#222';
      chip.title = `id ${t.id}, log-probability ${t.logprob}`;
      row.append(chip);
    }
    lens.append(row);
  }

  // 4. Final layer norm, logits, softmax
  document.getElementById('final').append(
    strip('ln_f', data.final_ln),
    bars(data.top.map(t => ({ id: t.id, name: label(t.token), value: Math.exp(t.logprob),
                              title: `id ${t.id}, logit ${t.logit}, log-probability ${t.logprob}` })), 'top'),
    el('p', 'why', `entropy ${data.entropy.toFixed(3)} nats`));

  // 5. Sampling
  const s = data.sampling;
  const stages = el('div', 'stages');
  const stage = (title, list) => {
    const box = el('div');
    box.append(el('h2', null, title), bars(list.map(c => ({ id: c.id, name: label(c.token), value: c.prob,
                                                            title: `id ${c.id}, probability ${c.prob}` }))));
    return box;
  };
  if (!s.greedy) {
    stages.append(stage(`temperature ${s.temperature}`, s.after_temperature),
                  stage(s.top_k > 0 ? `top-k ${s.top_k}` : 'top-k off', s.after_top_k),
                  stage(s.top_p < 1 ? `top-p ${s.top_p}` : 'top-p off', s.after_top_p));
  }
  const sampling = document.getElementById('sampling');
  sampling.append(stages, el('p', 'chosen',
    (s.greedy ? 'greedy: the most likely token' : `draw ${s.draw.toFixed(6)} (seed ${s.seed}) \u2192 `) +
    ` chosen: ${label(s.chosen.token)} (id ${s.chosen.id})` +
    (s.is_eos ? ', the end token: generation stops' : ', appended; the loop goes on')));
  document.body.dataset.ready = 'true';
})();
