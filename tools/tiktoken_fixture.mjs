#!/usr/bin/env node
// Makes tests/fixtures/tokenizer/gpt2_cases.json: thousands of varied strings and the ids
// tiktoken's "gpt2" encoding gives them (encode_ordinary, so "<|endoftext|>" in a string is
// ordinary text). tiny-gpt's byte_bpe tokenizer must reproduce every one exactly
// (tests/test_tokenizer_gpt2.cpp).
//
// Deterministic: a seeded PRNG, fixed inputs (strings written here, data/english_train.txt,
// data/tang_train.txt, and source files of the npm packages pinned in
// tools/tiktoken/package-lock.json). Same inputs, same output, byte for byte.
//
//   (cd tools/tiktoken && npm ci)
//   node tools/tiktoken_fixture.mjs [--out FILE] [--check] [--data DIR [--prepare]]
//
// --check regenerates in memory and exits 1 unless the committed fixture is identical.
// --data reads the two training texts from DIR instead of data/; --prepare first builds
// them there when they are missing (tools/prepare_data.py --train-text-only: Debian's
// bible-kjv and npm's chinese-poetry), as they are not committed. The test does that.
//
// The reference is npm "tiktoken" (OpenAI's Rust core compiled to WASM: Unicode 16.0 classes,
// \s = White_Space). js-tiktoken (pure JS) runs too; it uses the JS engine's regex, whose \s
// differs (U+FEFF is a space, U+0085 is not) and whose Unicode version is Node's, so the few
// strings where the two disagree are listed in "js_tiktoken_disagrees" rather than hidden.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const require = createRequire(join(HERE, "tiktoken", "package.json"));
let get_encoding, getEncoding;
try {
  ({ get_encoding } = require("tiktoken"));
  ({ getEncoding } = require("js-tiktoken"));
} catch {
  console.error("skipped: the npm packages are not installed (run: cd tools/tiktoken && npm ci)");
  process.exit(77);
}
const pkgVersion = (name) =>
  JSON.parse(readFileSync(join(HERE, "tiktoken", "node_modules", name, "package.json"), "utf8")).version;

const args = process.argv.slice(2);
const outPath = args.includes("--out") ? args[args.indexOf("--out") + 1]
                                       : join(ROOT, "tests", "fixtures", "tokenizer", "gpt2_cases.json");
const SEED = 20250601;

// ---------------------------------------------------------------- deterministic randomness
let state = SEED >>> 0;
function rand() {  // mulberry32
  state = (state + 0x6D2B79F5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));  // inclusive
const pick = (arr) => arr[Math.floor(rand() * arr.length)];
const chance = (p) => rand() < p;
const times = (n, f) => Array.from({ length: n }, (_, i) => f(i));
const cp = (c) => String.fromCodePoint(c);

// ---------------------------------------------------------------- inputs
// The training texts are named data/... in the fixture's "inputs" wherever they are read from.
const dataDir = args.includes("--data") ? args[args.indexOf("--data") + 1] : join(ROOT, "data");
const where = (rel) => (rel.startsWith("data/") ? join(dataDir, rel.slice(5)) : join(ROOT, rel));
function prepare(rel) {
  if (!args.includes("--prepare") || existsSync(where(rel))) return;
  console.error(`building ${where(rel)} with tools/prepare_data.py --train-text-only`);
  const run = spawnSync("/usr/bin/python3", [join(ROOT, "tools", "prepare_data.py"), "--train-text-only", "--out-dir", dataDir],
                        { stdio: ["ignore", "inherit", "inherit"] });
  if (run.status !== 0) {
    console.error("skipped: the training text could not be rebuilt (it needs bible-kjv and npm's chinese-poetry)");
    process.exit(77);
  }
}
const read = (rel) => {
  prepare(rel);
  try {
    return readFileSync(where(rel), "utf8");
  } catch {
    // The prepared training text is not committed (data/README.md); without it the
    // fixture cannot be rebuilt, so the check is skipped, not failed.
    console.error(`skipped: ${rel} is missing (rebuild it with /usr/bin/python3 tools/prepare_data.py)`);
    process.exit(77);
  }
};
const inputs = {};
function input(rel) {
  const text = read(rel);
  inputs[rel] = createHash("sha256").update(text, "utf8").digest("hex");
  return text;
}
const english = input("data/english_train.txt");
const tang = input("data/tang_train.txt");
const codeFiles = [
  "tiktoken/node_modules/gpt-3-encoder/Encoder.js",
  "tiktoken/node_modules/tiktoken/tiktoken_bg.cjs",
  "tiktoken/node_modules/tiktoken/README.md",
  "tiktoken/node_modules/js-tiktoken/README.md",
  "tiktoken/node_modules/regenerate/README.md",
].map((rel) => input(join("tools", rel)));

// A slice of `text` of about `len` code units that does not cut a surrogate pair.
function slice(text, len) {
  let start = int(0, Math.max(0, text.length - len));
  if (start > 0 && /[\uDC00-\uDFFF]/.test(text[start])) start++;
  let end = Math.min(text.length, start + len);
  if (end < text.length && /[\uDC00-\uDFFF]/.test(text[end])) end++;
  return text.slice(start, end);
}

// ---------------------------------------------------------------- material
const words = `the of and to in is was for that it with as on be at by this had not are but from or have an they
which one you were her all she there would their we him been has when who will more no if out so said what up its
about into than them can only other new some could time these two may then do first any my now such like our over
man me even most made after also did many before must through back years where much your way well down should because
each just those people how too little state good very make world still own see men work long get here between both
life being under never day same another know while last might us great old year off come since against go came right
used take three Tokenizer BPE byte-level GPT-2 encoder decoder attention transformer embedding gradient LayerNorm
naïve café résumé jalapeño façade coöperate Zürich São Paulo Kraków Dvořák Ærøskøbing Þórsmörk Ελλάδα Москва`.split(/\s+/);
const contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];
const contractionWords = ["it's", "don't", "we're", "they've", "I'm", "we'll", "he'd", "she's", "can't", "won't",
  "you're", "I've", "they'll", "we'd", "that's", "isn't", "ain't", "y'all", "o'clock", "'tis", "rock'n'roll",
  "Jones's", "students'", "'90s", "ma'am", "shouldn't've", "I'd've", "let's", "O'Reilly", "d'Artagnan"];
const caseVariants = (w) => [w, w.toUpperCase(), w[0].toUpperCase() + w.slice(1),
  [...w].map((c) => (chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join("")];
const codeSnippets = [
  `#include <vector>\nint main(int argc, char** argv) {\n    std::vector<int> v{1, 2, 3};\n    for (auto& x : v) x *= 2;\n    return v.size() > 2 ? 0 : 1;\n}\n`,
  `def bpe(token):\n    word = tuple(token)\n    while len(word) > 1:\n        pairs = get_pairs(word)\n        if not pairs:\n            break\n    return ' '.join(word)\n`,
  `const re = /'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+/gu;\nexport function f(x) { return x?.y ?? null; }\n`,
  `fn main() {\n\tlet mut s = String::new();\n\tfor i in 0..10 {\n\t\ts.push_str(&format!("{i:>4}\\n"));\n\t}\n\tprintln!("{s}");\n}\n`,
  `package main\n\nimport "fmt"\n\nfunc main() {\n\tm := map[string]int{"a": 1, "b": 2}\n\tfmt.Println(m["a"] + m["b"])\n}\n`,
  `#!/bin/sh\nset -eu\nfor f in *.json; do\n  jq -r '.ids | length' "$f" 2>/dev/null || echo "bad: $f" >&2\ndone\n`,
  `SELECT id, name, COUNT(*) AS n\nFROM   users u\nJOIN   orders o ON o.user_id = u.id\nWHERE  u.created_at >= '2024-01-01'\nGROUP  BY 1, 2\nHAVING n > 10;\n`,
  `<!DOCTYPE html>\n<html lang="en">\n  <head><meta charset="utf-8"><title>Test &amp; check</title></head>\n  <body><p class="x">Hello,&nbsp;world!</p></body>\n</html>\n`,
  `{\n  "name": "tiny-gpt",\n  "version": "0.1.0",\n  "ids": [15496, 995, 0],\n  "nested": {"a": null, "b": true, "c": -1.5e-3}\n}\n`,
  `all: build\n\nbuild:\n\tcmake -S . -B build -DCMAKE_BUILD_TYPE=Release\n\tcmake --build build -j2\n\n.PHONY: all build\n`,
  `server:\n  port: 8080\n  hosts:\n    - name: "a.example"\n      weight: 0.75\n    - name: 'b.example'\n      weight: 0.25\n`,
  `    if (x == 0) {\r\n        return;\r\n    }\r\n    // CRLF line endings\r\n`,
  `x = [i**2 for i in range(10) if i % 2 == 0]  # squares\nprint(f"{x!r:>40}")\nassert x[-1] == 64, "oops"\n`,
  `template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>\nconstexpr T gcd(T a, T b) noexcept { return b ? gcd(b, a % b) : a; }\n`,
  `\\documentclass{article}\n\\begin{document}\n$\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}$\n\\end{document}\n`,
  `diff --git a/src/x.cpp b/src/x.cpp\n@@ -1,3 +1,4 @@\n-int a = 1;\n+int a = 2;\n+int b = a << 3;\n`,
];
const punctuation = ["!", "?", ".", ",", ";", ":", "-", "--", "---", "...", "…", "—", "–", "(", ")", "[", "]", "{", "}",
  "<", ">", "/", "\\", "|", "@", "#", "$", "%", "^", "&", "*", "_", "+", "=", "~", "`", "\"", "'", "''", "\"\"\"",
  "«", "»", "“", "”", "‘", "’", "¿", "¡", "§", "¶", "•", "©", "®", "™", "°", "±", "×", "÷", "€", "£", "¥", "₹", "¢",
  "<|endoftext|>", "<|endoftext|", "|>", "<|", "=>", "->", "::", "!=", "===", "&&", "||", "?.", "**", "//", "/*", "*/"];
const accented = `À la française, l'élève a reçu un prix pour son œuvre. Das Mädchen aß Brötchen mit Käse.
El niño pidió jalapeños y piñatas en la ciudad de México. A ação do coração não é vã. Zażółć gęślą jaźń.
Příliš žluťoučký kůň úpěl ďábelské ódy. Tiếng Việt có nhiều dấu thanh: à á ả ã ạ. Þetta er íslenska með ð og þ.
Ångström Øresund Ærø Åland Ÿvelines Œuvre naïveté déjà vu crème brûlée São Tomé Nguyễn Đặng Ştefan Çağlar İstanbul`;
const decomposed = accented.normalize("NFD");
const chinesePhrases = ["新年快樂", "機器學習", "早上好", "你好，世界！", "我爱自然语言处理。", "人工智能（AI）正在改变世界：",
  "「引號」『書名號』", "中文標點：，。！？；、…—「」（）【】《》", "北京欢迎你", "謝謝你的幫助", "深度學習模型",
  "今天天气很好，我们去公园散步吧。", "一二三四五六七八九十百千万亿", "２０２４年１月１日", "ＡＢＣ全角字母", "蟒蛇　全角空格"];
const japanese = ["こんにちは、世界！", "私は東京に住んでいます。", "カタカナのテキスト", "ｶﾀｶﾅ半角", "ラーメンを食べたい",
  "日本語の文章には句読点があります。", "々〆ヶ", "ひらがな・カタカナ・漢字", "「吾輩は猫である。名前はまだ無い。」",
  "東京タワー（３３３ｍ）", "ＪＲ山手線", "ポケモン ゲットだぜ！"];
const korean = ["안녕하세요, 세계!", "한국어 텍스트입니다.", "저는 서울에 살아요.", "ㄱㄴㄷㄹ ㅏㅑㅓㅕ", "\u1100\u1161\u11A8",
  "대한민국 만세!", "기계 학습과 자연어 처리", "한글은 1443년에 만들어졌다.", "빨리빨리 ㅋㅋㅋ"];
const emoji = ["😀", "😂", "🤖", "🚀", "👍", "👍🏻", "👍🏽", "👍🏿", "👋🏾", "👨‍👩‍👧‍👦", "👩‍💻", "👩🏾‍💻", "🧑‍🤝‍🧑",
  "🏳️‍🌈", "🏴‍☠️", "❤️", "❤", "☺︎", "☺️", "🇯🇵", "🇺🇸", "🇩🇪🇫🇷", "1️⃣", "#️⃣", "*️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🫠", "🥲",
  "🧑🏻‍❤️‍💋‍🧑🏼", "👁️‍🗨️", "🐈‍⬛", "🙂‍↔️", "©️", "™️", "🀄", "🃏", "🎉🎊", "💯", "🔥🔥🔥"];
const scripts = ["Привет, мир! Съешь же ещё этих мягких французских булок.", "Γειά σου Κόσμε· αβγδε ΑΒΓΔΕ",
  "مرحبا بالعالم! هذا نص عربي.", "שלום עולם, זה טקסט בעברית.", "สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่าง",
  "नमस्ते दुनिया, यह हिन्दी है।", "வணக்கம் உலகம்", "გამარჯობა მსოფლიო", "Բարեւ աշխարհ", "ሰላም ለዓለም",
  "∑ᵢ xᵢ² ≤ ∫₀^∞ e^{-x} dx ≈ √2 ∀x∈ℝ ∃y: x≠y ⇒ ∞", "┌──┬──┐│ab│cd│└──┴──┘", "←↑→↓↔ ⇐⇒ ★☆♠♣♥♦ ♪♫",
  "x² + y³ = z⁴ ½ ¾ ⅓ Ⅻ ⅻ ① ② ⑩", "٠١٢٣٤٥٦٧٨٩ ०१२३ ໐໑໒ ༠༡ 〇〡〢", "ℌ𝔢𝔩𝔩𝔬 𝐁𝐨𝐥𝐝 𝓢𝓬𝓻𝓲𝓹𝓽 𝟘𝟙𝟚"];
// Every White_Space character, and some look-alikes that are not White_Space.
const spaces = [" ", "\t", "\n", "\r", "\r\n", "\v", "\f", "\u0085", "\u00A0", "\u1680", "\u2000", "\u2003", "\u2009",
  "\u200A", "\u2028", "\u2029", "\u202F", "\u205F", "\u3000"];
const notSpaces = ["\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u180E", "\u00AD", "\u001C", "\u001F", "\u0000"];
// Code points whose class changed in recent Unicode versions (15.0, 15.1, 16.0, 17.0).
const recent = [0x31350, 0x323AF, 0x2EBF0, 0x2EE5D, 0x13460, 0x143FA, 0x10D4A, 0x10D40, 0x11F04, 0x11F50, 0x1D2C0,
  0x1E030, 0x1E4D0, 0x1E4F0, 0x116D0, 0x1E5D0, 0x1E5F1, 0x323B0, 0x10940, 0x11DB0, 0x16EA0, 0x1E6C0, 0x1E6F0];

const word = () => pick(words);
const sentence = (n = int(3, 12)) => times(n, word).join(" ");

// ---------------------------------------------------------------- generators
const cases = [];
const seen = new Set();
function add(category, text) {
  if (seen.has(text)) return;
  seen.add(text);
  cases.push({ category, text });
}

// Fixed edge cases first.
add("edge", "");
for (let c = 0; c < 256; ++c) add("edge", cp(c));
for (let c = 0x20; c < 0x7F; ++c) add("edge", " " + cp(c));
for (const s of [...spaces, ...notSpaces]) {
  add("edge", s);
  add("edge", s + s);
  add("edge", "a" + s + "b");
  add("edge", "a" + s + s + "b");
  add("edge", "a " + s + "b");
  add("edge", "a" + s + " b");
  add("edge", "x" + s);
  add("edge", s + "'s");
}
for (const c of recent) {
  add("edge", cp(c) + "'s");
  add("edge", "a" + cp(c) + "1 " + cp(c) + cp(c));
}
add("edge", "<|endoftext|>");
add("edge", "Hello<|endoftext|>world <|endoftext|> <|endoftext|><|endoftext|>");
add("edge", cp(0x10FFFF) + cp(0xFFFF) + cp(0xFFFE) + cp(0xE000) + cp(0xF0000) + cp(0x100000));

// English prose.
for (let i = 0; i < 1100; ++i) {
  let s = slice(english, int(1, 400));
  if (chance(0.1)) s = s.toUpperCase();
  else if (chance(0.05)) s = s.toLowerCase();
  add("english", s);
}
for (let i = 0; i < 150; ++i) add("english", sentence(int(1, 30)) + pick(["", ".", "!", "?", "\n", " ", "  "]));

// Code.
for (let i = 0; i < 300; ++i) {
  const src = chance(0.4) ? pick(codeSnippets) : pick(codeFiles);
  add("code", chance(0.3) ? src : slice(src, int(5, 600)));
}
for (const s of codeSnippets) {
  add("code", s);
  add("code", s.replace(/ {4}/g, "\t"));
  add("code", s.replace(/\n/g, "\r\n"));
}

// Contractions, every case variant.
for (const c of contractions) {
  for (const v of caseVariants(c.slice(1))) {
    add("contractions", "'" + v);
    add("contractions", "it'" + v);
    add("contractions", " '" + v + " ");
    add("contractions", "x'" + v + "y");
  }
}
for (let i = 0; i < 450; ++i) {
  const parts = times(int(1, 8), () => (chance(0.5) ? pick(caseVariants(pick(contractionWords))) : word()));
  let s = parts.join(pick([" ", " ", "  ", "\n", ", "]));
  if (chance(0.2)) s = s.replace(/'/g, "’");
  if (chance(0.1)) s = "'" + s;
  if (chance(0.1)) s += "'" + pick(["s", "S", "re", "RE", "ll", "", "'"]);
  add("contractions", s);
}

// Whitespace: runs of spaces, tabs, newlines; leading and trailing; before every kind of character.
const afterSpace = () => pick([word(), pick(punctuation), String(int(0, 999)), pick(chinesePhrases), pick(emoji),
  pick(notSpaces), ""]);
for (let i = 0; i < 750; ++i) {
  let s = "";
  for (let k = int(1, 6); k > 0; --k) {
    const run = times(int(1, 6), () => (chance(0.6) ? pick([" ", " ", "\t", "\n", "\n\n"]) : pick(spaces))).join("");
    s += run + afterSpace();
  }
  if (chance(0.3)) s += times(int(1, 5), () => pick(spaces)).join("");
  add("whitespace", s);
}
for (let n = 1; n <= 40; ++n) {
  add("whitespace", " ".repeat(n));
  add("whitespace", "a" + " ".repeat(n) + "b");
  add("whitespace", "\n".repeat(n));
  add("whitespace", "x" + "\t".repeat(n));
  add("whitespace", "end" + " ".repeat(n));
}

// Numbers.
const numberish = () => pick([
  () => String(int(0, 9)), () => String(int(0, 1e6)), () => String(int(-1e9, 1e9)), () => (rand() * 1000).toFixed(int(0, 6)),
  () => (rand() * 1e-3).toExponential(3), () => int(1, 1e6).toLocaleString("en-US"), () => int(1, 1e6).toLocaleString("de-DE"),
  () => times(int(10, 60), () => int(0, 9)).join(""), () => "0x" + int(0, 0xFFFFFF).toString(16).toUpperCase(),
  () => `v${int(0, 9)}.${int(0, 30)}.${int(0, 99)}`, () => `${int(1900, 2100)}-${String(int(1, 12)).padStart(2, "0")}-${String(int(1, 28)).padStart(2, "0")}`,
  () => `+1 (${int(200, 999)}) ${int(200, 999)}-${int(1000, 9999)}`, () => `${int(1, 31)}${pick(["st", "nd", "rd", "th"])}`,
  () => `${int(0, 100)}%`, () => `$${(rand() * 1e4).toFixed(2)}`, () => word() + int(0, 999) + word(),
  () => pick(["٣٤٥", "१२३", "１２３", "²³", "½", "Ⅻ", "①②", "𝟗𝟖", "߁߂", "፩፪", "〇", "三百"]) + (chance(0.5) ? String(int(0, 99)) : ""),
])();
for (let i = 0; i < 550; ++i) add("numbers", times(int(1, 6), numberish).join(pick([" ", "", ", ", "\n", " + ", "/"])));

// Punctuation runs.
for (let i = 0; i < 450; ++i) {
  const s = times(int(1, 10), () => (chance(0.7) ? pick(punctuation).repeat(int(1, 4)) : word())).join(chance(0.5) ? "" : " ");
  add("punctuation", s);
}

// Accented Latin, precomposed and decomposed.
for (let i = 0; i < 400; ++i) add("accented", slice(chance(0.7) ? accented : decomposed, int(1, 120)));

// Chinese.
for (const p of chinesePhrases) add("chinese", p);
for (let i = 0; i < 450; ++i) add("chinese", slice(tang, int(1, 200)));
for (let i = 0; i < 250; ++i) {
  add("chinese", times(int(1, 5), () => pick([pick(chinesePhrases), word(), String(int(0, 2024)), pick(["，", "。", "！", "？", "：", "、", "　", " "])]))
    .join(chance(0.5) ? "" : " "));
}

// Japanese and Korean.
for (const p of japanese) add("japanese", p);
for (let i = 0; i < 330; ++i) add("japanese", times(int(1, 5), () => (chance(0.85) ? pick(japanese) : word())).join(chance(0.7) ? "" : " "));
for (const p of korean) add("korean", p);
for (let i = 0; i < 330; ++i) add("korean", times(int(1, 5), () => (chance(0.85) ? pick(korean) : word())).join(chance(0.3) ? "" : " "));

// Emoji with modifiers and ZWJ sequences.
for (const e of emoji) {
  add("emoji", e);
  add("emoji", " " + e);
  add("emoji", "a" + e + "b");
}
for (let i = 0; i < 400; ++i) {
  add("emoji", times(int(1, 8), () => (chance(0.6) ? pick(emoji) : word())).join(pick(["", " ", "  ", "\n"])));
}

// Other scripts and symbols.
for (const s of scripts) add("scripts", s);
for (let i = 0; i < 300; ++i) add("scripts", slice(pick(scripts), int(1, 60)) + (chance(0.3) ? " " + word() : ""));

// Random valid UTF-8: (a) random bytes that happen to be valid, (b) random code points.
let tries = 0;
for (let made = 0; made < 600; ++tries) {
  const len = int(1, 24);
  const bytes = Buffer.from(times(len, () => (chance(0.75) ? int(0, 0x7F) : int(0x80, 0xFF))));
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    continue;
  }
  add("random_bytes", text);
  ++made;
}
const randomCodePoint = () => {
  const r = rand();
  let c;
  if (r < 0.25) c = int(0, 0x7F);
  else if (r < 0.40) c = int(0x80, 0x7FF);
  else if (r < 0.75) c = int(0x800, 0xFFFF);
  else c = int(0x10000, 0x10FFFF);
  return c >= 0xD800 && c <= 0xDFFF ? 0x20 : c;
};
for (let i = 0; i < 700; ++i) {
  const n = int(1, 30);
  let s = "";
  if (chance(0.4)) {  // a cluster from one random block, sprinkled with spaces and punctuation
    const base = randomCodePoint() & ~0xFF;
    for (let k = 0; k < n; ++k) {
      const c = chance(0.15) ? pick([0x20, 0x20, 0x0A, 0x27, 0x2E, 0x31]) : base + int(0, 255);
      s += cp(c >= 0xD800 && c <= 0xDFFF ? 0x41 : c);
    }
  } else {
    for (let k = 0; k < n; ++k) s += cp(randomCodePoint());
  }
  add("random_codepoints", s);
}

// Long texts (the cache across repeated pre-tokens) and very long pre-tokens.
const pool = cases.filter((c) => c.category !== "edge").map((c) => c.text);
for (let i = 0; i < 40; ++i) add("long", times(int(20, 120), () => pick(pool)).join(pick(["", " ", "\n"])));
add("long", "a".repeat(3000));
add("long", " " + "ab".repeat(1500) + " ");
add("long", "新年快樂機器學習早上好".repeat(200));
add("long", " ".repeat(5000) + "x");
add("long", "1234567890".repeat(300));
add("long", "!?".repeat(1000));
add("long", "\n".repeat(2000) + "x" + "\t".repeat(100));
add("long", "👍🏽".repeat(500));
add("long", slice(english, 20000));

// ---------------------------------------------------------------- reference ids
const ref = get_encoding("gpt2");
const js = getEncoding("gpt2");
const disagree = [];
for (let i = 0; i < cases.length; ++i) {
  const c = cases[i];
  c.ids = Array.from(ref.encode_ordinary(c.text));
  const back = new TextDecoder("utf-8", { ignoreBOM: true }).decode(ref.decode(Uint32Array.from(c.ids)));
  if (back !== c.text) throw new Error(`tiktoken does not round-trip case ${i}`);
  const j = js.encode(c.text, [], []);
  if (j.length !== c.ids.length || j.some((x, k) => x !== c.ids[k])) disagree.push(i);
}
ref.free();

const byCategory = {};
for (const c of cases) byCategory[c.category] = (byCategory[c.category] || 0) + 1;
const header = {
  about: "GPT-2 byte-level BPE test cases: text and the ids tiktoken's gpt2 encoding gives it (encode_ordinary).",
  generator: "tools/tiktoken_fixture.mjs",
  reference: `npm tiktoken ${pkgVersion("tiktoken")} get_encoding("gpt2").encode_ordinary`,
  also_compared: `npm js-tiktoken ${pkgVersion("js-tiktoken")} (its JS-regex \\s and Node's Unicode version differ; see js_tiktoken_disagrees)`,
  seed: SEED,
  inputs,
  count: cases.length,
  categories: byCategory,
  js_tiktoken_disagrees: disagree,
};
// One case per line keeps diffs readable.
const lines = cases.map((c) => JSON.stringify({ category: c.category, text: c.text, ids: c.ids }));
const out = JSON.stringify(header, null, 1).replace(/\n}$/, ",\n \"cases\": [\n") + lines.join(",\n") + "\n]}\n";

if (args.includes("--check")) {
  let old = "";
  try { old = readFileSync(outPath, "utf8"); } catch {}
  let oldInputs = {};
  try { oldInputs = JSON.parse(old).inputs || {}; } catch {}
  const changed = Object.keys(inputs).filter((k) => oldInputs[k] !== inputs[k]);
  if (changed.length) {
    // The committed ids are still tiktoken's for the committed texts; only regeneration changed.
    console.error(`skipped: inputs changed since the fixture was made (${changed.join(", ")}); ` +
                  "regenerate it with node tools/tiktoken_fixture.mjs");
    process.exit(77);
  }
  if (old !== out) {
    console.error(`${relative(process.cwd(), outPath)} differs from what ${relative(process.cwd(), fileURLToPath(import.meta.url))} makes now`);
    process.exit(1);
  }
  console.log(`${cases.length} cases: the fixture is what the generator makes`);
} else {
  writeFileSync(outPath, out);
  console.log(`wrote ${cases.length} cases (${(out.length / 1e6).toFixed(2)} MB) to ${outPath}`);
  console.log("categories:", JSON.stringify(byCategory));
  console.log(`js-tiktoken disagrees with tiktoken on ${disagree.length} cases`);
}
