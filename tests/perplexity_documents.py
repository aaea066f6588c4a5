#!/usr/bin/python3
"""`perplexity --separator-line` against PyTorch, live.

  perplexity_documents.py BINARY SOURCE_DIR

The English validation split (23 chapters separated by lines holding <|endoftext|>) is
scored by the C++ engine with `--separator-line '<|endoftext|>'` and by tools/train.py's
PyTorch model (`--score ... eot`, each chapter on its own, as the validation loss and the
Kneser-Ney baselines are scored). Same token and byte counts, loss within 1e-4 nats/token
(train.py prints 5 decimals). Also: a document the vocabulary cannot encode is named by
the line it starts on, and --per-line with --separator-line is a usage error.
"""
import json
import os
import subprocess
import sys
import tempfile

BIN, SRC = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


model = os.path.join(SRC, "models", "english-kjv.json")
text = os.path.join(SRC, "data", "english_val.txt")
ours = json.loads(subprocess.run([BIN, "perplexity", "-m", model, "-f", text, "--separator-line", "<|endoftext|>",
                                  "--json"], check=True, capture_output=True, text=True).stdout)
ref = json.loads(subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tools", "train.py"), "--score", model, text,
                                 "eot"], check=True, capture_output=True, text=True, cwd=SRC).stdout)
print(f"C++ {ours['loss_per_token']:.6f} nats/token over {ours['tokens']} tokens in {ours['examples']} documents; "
      f"PyTorch {ref['loss_per_token']} over {ref['tokens_scored']}")
check(ours["examples"] == 23, f"documents: {ours['examples']}")
check(ours["tokens"] == ref["tokens_scored"], "token counts differ")
check(ours["bytes"] == ref["bytes_scored"], "byte counts differ")
check(abs(ours["loss_per_token"] - ref["loss_per_token"]) < 1e-4, "loss per token differs by 1e-4 or more")
check(abs(ours["loss_per_byte"] - ref["loss_per_byte"]) < 1e-4, "loss per byte differs by 1e-4 or more")

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "docs.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("春風\n--\n\n明月\n光\n--\n山x水\n")
    tang = os.path.join(SRC, "models", "tang-poems.json")
    r = subprocess.run([BIN, "perplexity", "-m", tang, "-f", path, "--separator-line", "--", "--json"],
                       capture_output=True, text=True)
    check(r.returncode == 0 and json.loads(r.stdout)["examples"] == 3, f"three documents: {r.returncode} {r.stderr}")
    # Without <unk> in the way: a model whose vocabulary lacks a character names it.
    ref_model = os.path.join(SRC, "tests", "fixtures", "ref", "chinese_vocab.model.json")
    r = subprocess.run([BIN, "perplexity", "-m", ref_model, "-f", path, "--separator-line", "--"],
                       capture_output=True, text=True)
    check(r.returncode == 1 and r.stderr.count("\n") == 1 and "the document starting at line 1:" in r.stderr,
          f"a bad document is named by its first line: {r.returncode} {r.stderr!r}")
    r = subprocess.run([BIN, "perplexity", "-m", tang, "-f", path, "--separator-line", "--", "--per-line"],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "give one" in r.stderr, f"--per-line with --separator-line: {r.returncode}")

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
