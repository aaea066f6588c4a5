// The `trace --format html` page in a real browser: Debian's /usr/bin/chromium driven by
// playwright-core. For each (page.html, trace.json) pair, made by the real binary from the
// same model, text and seed, it checks that every section is drawn, that the heads' heatmap
// and the selected head's bars carry the JSON's weights, that switching head and layer
// redraws them, that the lens, the top tokens and the sampler's stages are all there, that
// the title shows the text as typed (Chinese included), and that the page loads without
// errors and makes no request outside its file.
//   node trace_viewer.test.mjs PAGE.html TRACE.json [PAGE.html TRACE.json ...]
// SCREENSHOT_DIR=dir also saves a PNG of each page.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { check, runPages, watchPage } from './harness.mjs';

// What the layer view shows, read back from the DOM.
const layerState = page => page.evaluate(() => {
  const table = document.getElementById('heads');
  const rows = {};
  for (const td of table.querySelectorAll('td.cell')) (rows[td.dataset.head] ||= []).push(Number(td.dataset.w));
  const detail = document.getElementById('head-detail');
  return {
    layer: table.dataset.layer, rows,
    detailHead: detail.dataset.head,
    bars: [...detail.querySelectorAll('.bar')].map(b => Number(b.dataset.value)),
    strips: [...document.querySelectorAll('#layer-view .strip-row')].map(r => r.dataset.name),
  };
});

function expectLayer(state, trace, layerIndex, headIndex, what) {
  const L = trace.layers[layerIndex], H = L.heads[headIndex];
  check(state.layer === String(L.layer), `${what}: the heatmap shows layer ${state.layer}, expected ${L.layer}`);
  check(Object.keys(state.rows).length === L.heads.length, `${what}: ${Object.keys(state.rows).length} head rows, expected ${L.heads.length}`);
  let worst = 0;
  for (const h of L.heads) {
    const drawn = state.rows[h.head] || [];
    check(drawn.length === trace.position + 1, `${what}: head ${h.head} has ${drawn.length} cells, expected ${trace.position + 1}`);
    drawn.forEach((w, j) => { worst = Math.max(worst, Math.abs(w - h.weights[j])); });
  }
  check(worst < 1e-6, `${what}: drawn weights differ from the JSON by ${worst}`);
  check(state.detailHead === String(H.head), `${what}: the detail shows head ${state.detailHead}, expected ${H.head}`);
  check(state.bars.length === H.weights.length && state.bars.every((b, j) => Math.abs(b - H.weights[j]) < 1e-6),
        `${what}: the head's bars are not its weights`);
  for (const name of ['input', 'ln_1', 'attn_output', '+ residual', 'ln_2', 'mlp_output', 'output'])
    check(state.strips.includes(name), `${what}: no ${name} strip`);
}

async function checkPage(context, htmlPath, jsonPath) {
  const trace = JSON.parse(readFileSync(jsonPath, 'utf8'));
  const name = path.basename(htmlPath);
  const page = await context.newPage();
  const { errors, outside } = watchPage(page);
  await page.goto(pathToFileURL(path.resolve(htmlPath)).href);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });

  const text = trace.tokens.filter(t => !/^<.*>$/.test(t.text)).map(t => t.text).join('');
  const shown = await page.evaluate(() => ({
    title: document.title,
    tokens: document.querySelectorAll('#tokens .token').length,
    at: document.querySelector('#tokens .token.at').textContent,
    embedding: document.querySelectorAll('#embedding .strip-row').length,
    lens: [...document.querySelectorAll('#lens .lens-row')].map(r => r.querySelectorAll('.lens-token').length),
    top: [...document.querySelectorAll('#final .top .bar-row')].map(r => Number(r.dataset.id)),
    stages: document.querySelectorAll('#sampling .stages .bars').length,
    chosen: document.querySelector('#sampling .chosen').textContent,
  }));
  check(shown.title.includes(text.trim()), `${name}: title "${shown.title}" does not show the text "${text}"`);
  check(shown.tokens === trace.tokens.length, `${name}: ${shown.tokens} token chips, expected ${trace.tokens.length}`);
  check(shown.at.startsWith(trace.tokens[trace.position].text.replace(/ /g, '\u00b7')), `${name}: highlighted token "${shown.at}"`);
  check(shown.embedding === 3, `${name}: ${shown.embedding} embedding strips, expected 3`);
  check(shown.lens.length === trace.layers.length && shown.lens.every((n, i) => n === trace.layers[i].lens_top.length),
        `${name}: lens rows ${JSON.stringify(shown.lens)}`);
  check(JSON.stringify(shown.top) === JSON.stringify(trace.top.map(t => t.id)), `${name}: top tokens ${shown.top}`);
  check(shown.stages === (trace.sampling.greedy ? 0 : 3), `${name}: ${shown.stages} sampling stages`);
  check(shown.chosen.includes(`(id ${trace.sampling.chosen.id})`), `${name}: chosen "${shown.chosen}"`);

  expectLayer(await layerState(page), trace, 0, 0, `${name} at start`);
  const lastHead = trace.layers[0].heads.length - 1, lastLayer = trace.layers.length - 1;
  await page.selectOption('#head', String(lastHead));
  expectLayer(await layerState(page), trace, 0, lastHead, `${name} head ${lastHead}`);
  await page.selectOption('#layer', String(lastLayer));
  expectLayer(await layerState(page), trace, lastLayer, lastHead, `${name} layer ${lastLayer}`);
  await page.click('#heads tr:nth-child(2)');  // the first head's row picks it
  expectLayer(await layerState(page), trace, lastLayer, 0, `${name} click on head row`);

  if (process.env.SCREENSHOT_DIR)
    await page.screenshot({ path: path.join(process.env.SCREENSHOT_DIR, name.replace(/\.html$/, '.png')), fullPage: true });
  check(errors.length === 0, `${name}: errors in the page: ${errors.join(' | ')}`);
  check(outside.length === 0, `${name}: requests outside the file: ${outside.join(' ')}`);
  await page.close();
  console.log(`checked: ${name} (${trace.tokens.length} tokens, ${trace.layers.length} layers)`);
}

await runPages('trace viewer', 'node trace_viewer.test.mjs PAGE.html TRACE.json [PAGE.html TRACE.json ...]', checkPage);
