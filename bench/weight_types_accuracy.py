#!/usr/bin/python3
"""What the reduced weight types cost in accuracy, on the shipped models (issue #18):

  bench/weight_types_accuracy.py BINARY [--prompts 100] [--tokens 50]

1. `tiny-gpt perplexity` on each model's validation file (per example, as the model card
   scores it) with --weights-type f32, f16 and q8_0: loss, perplexity, change from f32.
2. Greedy agreement with f32: the first words of `--prompts` validation examples, each
   continued for `--tokens` tokens at temperature 0 (`generate --batch`) in every type;
   how many continuations are identical to f32's, and how many tokens agree before the
   first difference (mean).
3. Determinism: q8_0 and f16 greedy ids with 1 thread and with 2 are identical.
Prints a Markdown table (docs/performance.md) and the raw numbers as JSON on stderr.
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {
    "english-kjv": {"val": "data/english_val.txt", "flags": ["--separator-line", "<|endoftext|>"], "words": 6},
    "tang-poems": {"val": "data/tang_val_dedup.txt", "flags": ["--per-line"], "chars": 5},
}
TYPES = ["f32", "f16", "q8_0"]


def perplexity(binary, model, spec, weight_type):
    r = subprocess.run([binary, "perplexity", "-m", model, "-f", os.path.join(ROOT, spec["val"]), *spec["flags"],
                        "--weights-type", weight_type], capture_output=True, text=True, check=True)
    loss = float(re.search(r"loss per token\s+([0-9.]+) nats", r.stdout).group(1))
    tokens = int(re.search(r"tokens scored\s+([0-9]+)", r.stdout).group(1))
    return loss, tokens


def prompts(spec, n):
    text = open(os.path.join(ROOT, spec["val"]), encoding="utf-8").read()
    out = []
    if "words" in spec:  # English: verses of the chapters, their first words
        for line in text.splitlines():
            words = line.split()
            if len(words) >= spec["words"] + 2 and "<|endoftext|>" not in line:
                out.append(" ".join(words[:spec["words"]]))
    else:  # Tang: the first characters of each poem
        out = [line[:spec["chars"]] for line in text.splitlines() if len(line) > spec["chars"]]
    step = max(1, len(out) // n)
    return out[::step][:n]


def greedy(binary, model, batch, weight_type, tokens, threads):
    r = subprocess.run([binary, "generate", "-m", model, "--batch", "-", "--temperature", "0", "-n", str(tokens),
                        "--weights-type", weight_type, "-t", str(threads)],
                       input=batch, capture_output=True, text=True, check=True)
    return [json.loads(line)["ids"] for line in r.stdout.splitlines()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--prompts", type=int, default=100)
    ap.add_argument("--tokens", type=int, default=50)
    a = ap.parse_args()
    raw = {}
    rows = ["| model | weights | loss (nats/token) | perplexity | vs f32 | greedy identical to f32 | tokens before the first difference, of f32's (means; a continuation ends at the end token or after --tokens) |",
            "|---|---|---|---|---|---|---|"]
    for name, spec in MODELS.items():
        ps = prompts(spec, a.prompts)
        batch = "".join(json.dumps({"id": i, "prompt": p}, ensure_ascii=False) + "\n" for i, p in enumerate(ps))
        base_loss, _ = perplexity(a.binary, name, spec, "f32")
        base_ids = greedy(a.binary, name, batch, "f32", a.tokens, 1)
        for t in TYPES:
            loss, tokens = perplexity(a.binary, name, spec, t)
            ids = greedy(a.binary, name, batch, t, a.tokens, 1)
            same = sum(x == y for x, y in zip(ids, base_ids))
            agree = []
            for x, y in zip(ids, base_ids):
                k = 0
                while k < min(len(x), len(y)) and x[k] == y[k]:
                    k += 1
                agree.append(k)
            two = greedy(a.binary, name, batch, t, a.tokens, 2)
            ppl, base_ppl = 2.718281828459045 ** loss, 2.718281828459045 ** base_loss
            raw[f"{name} {t}"] = {"loss": loss, "tokens_scored": tokens, "perplexity": ppl,
                                  "perplexity_change": ppl / base_ppl - 1, "greedy_identical": same,
                                  "prompts": len(ps), "mean_agreeing_tokens": sum(agree) / len(agree),
                                  "same_with_2_threads": two == ids}
            rows.append(f"| {name} | {t} | {loss:.5f} | {ppl:.3f} | {100 * (ppl / base_ppl - 1):+.3f} % | "
                        f"{same}/{len(ps)} | {sum(agree) / len(agree):.1f} of {sum(map(len, base_ids)) / len(base_ids):.1f} |")
            if two != ids:
                print(f"{name} {t}: greedy ids differ between 1 and 2 threads", file=sys.stderr)
    print("\n".join(rows))
    print(json.dumps(raw, indent=1), file=sys.stderr)
    return 0 if all(v["same_with_2_threads"] for v in raw.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
