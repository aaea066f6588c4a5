// The attention-dump HTML viewer in a real browser: Debian's /usr/bin/chromium driven by
// playwright-core. For each (page.html, dump.json) pair given on the command line, made by the
// real binary from the same model and sentence, it checks that the heatmap for the chosen
// layer and head is drawn with T*T cells (T*(T+1)/2 weights, the rest marked masked), that the
// drawn weights are the JSON's, that switching head or layer redraws them, that hovering a
// token shows what it attends to, and that the page makes no request outside its file.
//   node attention_viewer.test.mjs PAGE.html DUMP.json [PAGE.html DUMP.json ...]
// SCREENSHOT_DIR=dir also saves a PNG of each page.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { check, failureCount, runPages, watchPage } from './harness.mjs';

// Everything the heatmap shows, read back from the DOM.
async function heatmapState(page) {
  return page.evaluate(() => {
    const h = document.getElementById('heatmap');
    return {
      layer: h.dataset.layer,
      head: h.dataset.head,
      cells: [...h.querySelectorAll('.cell')].map(c => {
        const box = c.getBoundingClientRect();
        return {
          q: Number(c.dataset.q), k: Number(c.dataset.k), masked: c.classList.contains('masked'),
          w: c.dataset.w === undefined ? null : Number(c.dataset.w),
          bg: getComputedStyle(c).backgroundColor, drawn: box.width > 0 && box.height > 0,
        };
      }),
    };
  });
}

function expectHeatmap(state, dump, layer, head, what) {
  const T = dump.tokens.length;
  const ls = dump.layers.indexOf(layer), hs = dump.heads.indexOf(head);
  check(state.layer === String(layer) && state.head === String(head),
        `${what}: heatmap shows layer ${state.layer} head ${state.head}, expected ${layer}/${head}`);
  check(state.cells.length === T * T, `${what}: ${state.cells.length} cells, expected T*T = ${T * T}`);
  const weighted = state.cells.filter(c => !c.masked), masked = state.cells.filter(c => c.masked);
  check(weighted.length === T * (T + 1) / 2, `${what}: ${weighted.length} weighted cells, expected ${T * (T + 1) / 2}`);
  check(masked.length === T * (T - 1) / 2, `${what}: ${masked.length} masked cells, expected ${T * (T - 1) / 2}`);
  check(masked.every(c => c.k > c.q && c.w === null), `${what}: a masked cell on or below the diagonal`);
  check(state.cells.every(c => c.drawn), `${what}: a cell with no size`);
  const sums = new Array(T).fill(0);
  let worst = 0;
  const above = weighted.filter(c => c.k > c.q).length;
  check(above === 0, `${what}: ${above} weighted cells above the diagonal`);
  for (const c of weighted) {
    if (c.k > c.q) continue;
    worst = Math.max(worst, Math.abs(c.w - dump.attention[ls][hs][c.q][c.k]));
    sums[c.q] += c.w;
  }
  check(worst < 1e-6, `${what}: drawn weights differ from the JSON dump by ${worst}`);
  check(sums.every(s => Math.abs(s - 1) < 1e-5), `${what}: a row does not sum to 1: ${sums}`);
  // bos (or the first token) can only see itself: weight 1, the darkest colour.
  const first = weighted.find(c => c.q === 0 && c.k === 0);
  check(first && first.bg === 'rgb(8, 48, 107)', `${what}: cell (0,0) is ${first && first.bg}, expected the darkest blue`);
  return state;
}

function differs(a, b) {
  let values = 0, colours = 0;
  for (let i = 0; i < a.cells.length; ++i) {
    if (a.cells[i].masked) continue;
    if (Math.abs(a.cells[i].w - b.cells[i].w) > 1e-3) values += 1;
    if (a.cells[i].bg !== b.cells[i].bg) colours += 1;
  }
  return { values, colours };
}

async function checkPage(context, htmlPath, jsonPath) {
  const dump = JSON.parse(readFileSync(jsonPath, 'utf8'));
  const T = dump.tokens.length;
  const name = path.basename(htmlPath);
  const page = await context.newPage();
  const { errors, outside } = watchPage(page);

  await page.goto(pathToFileURL(path.resolve(htmlPath)).href);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });

  const L0 = dump.layers[0], H0 = dump.heads[0];
  const Hn = dump.heads[dump.heads.length - 1], Ln = dump.layers[dump.layers.length - 1];
  const start = expectHeatmap(await heatmapState(page), dump, L0, H0, `${name} at start`);

  // Another head: the same grid, other weights, other colours.
  await page.selectOption('#head', String(Hn));
  const otherHead = expectHeatmap(await heatmapState(page), dump, L0, Hn, `${name} head ${Hn}`);
  const d1 = differs(start, otherHead);
  check(d1.values > 0 && d1.colours > 0, `${name}: switching head ${H0} -> ${Hn} changed ${d1.values} weights, ${d1.colours} colours`);

  await page.selectOption('#layer', String(Ln));
  const otherLayer = expectHeatmap(await heatmapState(page), dump, Ln, Hn, `${name} layer ${Ln}`);
  const d2 = differs(otherHead, otherLayer);
  check(d2.values > 0, `${name}: switching layer ${L0} -> ${Ln} changed no weight`);

  // The thumbnails pick a head too.
  await page.click(`.thumb[data-head="${H0}"]`);
  expectHeatmap(await heatmapState(page), dump, Ln, H0, `${name} thumbnail of head ${H0}`);

  // Hovering the last token shows its T lines and names the key it attends to most.
  const ls = dump.layers.indexOf(Ln), hs = dump.heads.indexOf(H0);
  const row = dump.attention[ls][hs][T - 1];
  const best = row.indexOf(Math.max(...row));
  await page.hover(`#headview .token.query[data-pos="${T - 1}"]`);
  const hover = await page.evaluate(() => ({
    lines: [...document.querySelectorAll('#headview line')].map(l => ({ q: Number(l.dataset.q), k: Number(l.dataset.k), w: Number(l.dataset.w) })),
    info: document.getElementById('info').textContent,
    focusedCells: document.querySelectorAll('#heatmap .cell.focus').length,
  }));
  check(hover.lines.length === T && hover.lines.every(l => l.q === T - 1),
        `${name}: hovering the last token drew ${hover.lines.length} lines, expected ${T} from query ${T - 1}`);
  check(hover.lines.every(l => Math.abs(l.w - row[l.k]) < 1e-6), `${name}: a hover line's weight is not the JSON's`);
  check(hover.info.includes(`\u201c${dump.pieces[best]}\u201d (${best})`),
        `${name}: hover text "${hover.info}" does not name the strongest key ${dump.pieces[best]} (${best})`);
  check(hover.focusedCells === T, `${name}: hovering highlighted ${hover.focusedCells} heatmap cells, expected ${T}`);
  await page.mouse.move(0, 0);
  const all = await page.locator('#headview line').count();
  check(all === T * (T + 1) / 2, `${name}: with nothing hovered ${all} lines, expected ${T * (T + 1) / 2}`);

  // Arrow keys step through heads.
  await page.keyboard.press('ArrowRight');
  const next = await heatmapState(page);
  check(dump.heads.length < 2 || next.head === String(dump.heads[1]), `${name}: ArrowRight went to head ${next.head}`);

  if (process.env.SCREENSHOT_DIR) {
    await page.selectOption('#layer', String(L0));
    await page.selectOption('#head', String(H0));
    await page.hover(`#headview .token.query[data-pos="${T - 1}"]`);
    await page.screenshot({ path: path.join(process.env.SCREENSHOT_DIR, name.replace(/\.html$/, '.png')), fullPage: true });
  }
  check(errors.length === 0, `${name}: errors in the page: ${errors.join(' | ')}`);
  check(outside.length === 0, `${name}: requests outside the file: ${outside.join(' ')}`);
  await page.close();
  console.log(`${failureCount() === 0 ? 'ok' : 'checked'}: ${name} (${T} tokens, ${dump.layers.length} layers x ${dump.heads.length} heads)`);
}

await runPages('attention viewer', 'node attention_viewer.test.mjs PAGE.html DUMP.json [PAGE.html DUMP.json ...]', checkPage);
