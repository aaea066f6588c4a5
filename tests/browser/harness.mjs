// What the browser tests share: Debian's /usr/bin/chromium driven by playwright-core, a
// watchdog, failures counted (every check runs and reports) rather than thrown, a page's
// errors and outside requests collected, and the (page, JSON) pairs from the command line.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps trying to reach Google's services.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TIME_LIMIT_MS = 90_000;

let failures = 0;
export function check(ok, message) {
  if (ok) return;
  failures += 1;
  console.error('FAIL: ' + message);
}
export const failureCount = () => failures;

// Collects the page's errors and every request that leaves its file.
export function watchPage(page) {
  const seen = { errors: [], outside: [] };
  page.on('pageerror', e => seen.errors.push(String(e)));
  page.on('console', m => { if (m.type() === 'error') seen.errors.push(m.text()); });
  page.on('request', r => { if (!/^(file|data|blob):/.test(r.url())) seen.outside.push(r.url()); });
  return seen;
}

// Runs checkPage(context, page.html, data.json) for each pair on the command line, then exits
// 0 when every check passed.
export async function runPages(title, usage, checkPage) {
  const watchdog = setTimeout(() => {
    console.error(`FAIL: the browser test took more than ${TIME_LIMIT_MS / 1000} s`);
    process.exit(1);
  }, TIME_LIMIT_MS);
  const args = process.argv.slice(2);
  if (args.length === 0 || args.length % 2 !== 0) {
    console.error('usage: ' + usage);
    process.exit(2);
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'tinygpt-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1200, height: 900 }, timeout: 30_000,
    });
    for (let i = 0; i < args.length; i += 2) await checkPage(context, args[i], args[i + 1]);
  } catch (e) {
    failures += 1;
    console.error('FAIL: ' + (e && e.stack ? e.stack : e));
  } finally {
    if (context) await context.close();
    rmSync(profile, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
  console.log(failures === 0 ? `${title}: all checks passed` : `${title}: ${failures} check(s) failed`);
  process.exit(failures === 0 ? 0 : 1);
}
