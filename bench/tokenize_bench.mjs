#!/usr/bin/env node
// Encode throughput, GPT-2 encoding, on the same texts in the same run:
//   tiny-gpt (bench/tokenize_bench.cpp), js-tiktoken (pure JS) and tiktoken (Rust core as WASM).
// Each number is the best of several full-text runs after a warm-up; 1 MB = 1e6 bytes of UTF-8.
// The ids are compared too (a 32-bit hash of the whole id sequence, and its length).
//
//   bash bench/tokenize.sh                      # builds tokenize-bench, then runs this
//   node bench/tokenize_bench.mjs --bin BUILD/tokenize-bench [FILE...]
//
// Default texts: data/english_train.txt (English) and data/tang_train.txt (Chinese).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(join(ROOT, "tools", "tiktoken", "package.json"));
const { getEncoding } = require("js-tiktoken");
const { get_encoding } = require("tiktoken");

const args = process.argv.slice(2);
const binAt = args.indexOf("--bin");
if (binAt < 0) {
  console.error("usage: node bench/tokenize_bench.mjs --bin PATH/tokenize-bench [FILE...]");
  process.exit(2);
}
const bin = args[binAt + 1];
const files = args.filter((_, i) => i !== binAt && i !== binAt + 1);
if (!files.length) files.push(join(ROOT, "data", "english_train.txt"), join(ROOT, "data", "tang_train.txt"));
const gpt2 = join(ROOT, "tests", "fixtures", "tokenizer", "gpt2");

const hash = (ids) => {
  let h = 0;
  for (const x of ids) h = (Math.imul(h, 31) + x) | 0;
  return h;
};

function measure(encode, text) {
  encode(text.slice(0, 200000));  // warm up (JIT)
  let best = Infinity, total = 0, ids;
  for (let run = 0; run < 5 && (run < 2 || total < 10); ++run) {
    const t0 = performance.now();
    ids = encode(text);
    const dt = (performance.now() - t0) / 1000;
    best = Math.min(best, dt);
    total += dt;
  }
  return { seconds: best, tokens: ids.length, hash: hash(ids) };
}

console.error(`running ${bin} ...`);
const ours = execFileSync(bin, [join(gpt2, "encoder.json"), join(gpt2, "vocab.bpe"), ...files], { encoding: "utf8" })
  .trim().split("\n").map((l) => JSON.parse(l));
const js = getEncoding("gpt2");
const wasm = get_encoding("gpt2");

const rows = [];
for (const [i, file] of files.entries()) {
  const text = readFileSync(file, "utf8");
  const bytes = Buffer.byteLength(text, "utf8");
  console.error(`js-tiktoken and tiktoken on ${file} ...`);
  const j = measure((t) => js.encode(t, [], []), text);
  const w = measure((t) => wasm.encode_ordinary(t), text);
  const o = ours[i];
  const mbps = (s) => (bytes / s / 1e6).toFixed(1);
  rows.push({
    text: file.startsWith(ROOT) ? file.slice(ROOT.length + 1) : file,
    MB: (bytes / 1e6).toFixed(2),
    tokens: o.tokens,
    "tiny-gpt MB/s": mbps(o.seconds),
    "js-tiktoken MB/s": mbps(j.seconds),
    "tiktoken (wasm) MB/s": mbps(w.seconds),
    "vs js-tiktoken": (j.seconds / o.seconds).toFixed(1) + "x",
    "same ids": o.tokens === j.tokens && o.hash === j.hash && o.tokens === w.tokens && o.hash === w.hash ? "yes" : "NO",
  });
}
wasm.free();
const version = (name) =>
  JSON.parse(readFileSync(join(ROOT, "tools", "tiktoken", "node_modules", name, "package.json"), "utf8")).version;
console.log(`node ${process.version}, js-tiktoken ${version("js-tiktoken")}, tiktoken ${version("tiktoken")}; ` +
            "best of several runs each, 1 MB = 1e6 bytes");
console.table(rows);
if (rows.some((r) => r["same ids"] !== "yes")) process.exit(1);
