#!/usr/bin/python3
"""Writes the benchmark models CFG-S and CFG-M (random GPT-2-shaped weights) with
tools/reference.py's save(), in both tensor forms.  They are large (CFG-M is 117 MB of
float32; its `data` form is several hundred MB of text), so they go to /tmp, never
into the repository.

  /usr/bin/python3 bench/make_models.py [--out /tmp/tinygpt-bench] [--only S] [--forms b64,data]
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import reference  # noqa: E402

CONFIGS = {
    "S": {"vocab_size": 2048, "n_ctx": 256, "n_embd": 256, "n_head": 8, "n_layer": 6},
    "M": {"vocab_size": 8192, "n_ctx": 512, "n_embd": 512, "n_head": 8, "n_layer": 8},
}


def path_for(out, name, form):
    return os.path.join(out, f"cfg-{name.lower()}.{form}.json")


def make(out, name, forms, seed=1234):
    cfg = CONFIGS[name]
    rng = np.random.default_rng(seed)
    # GPT-2's initialisation scale keeps activations in a realistic range.
    tensors = reference.random_tensors(cfg, rng, std=0.02)
    # One code point per id (CJK block): a char tokenizer as large as the vocabulary.
    tok = reference.char_tok([chr(0x4E00 + i) for i in range(cfg["vocab_size"])])
    paths = []
    for form in forms:
        p = path_for(out, name, form)
        if not os.path.exists(p):
            tmp = p + ".tmp"
            reference.save(tmp, cfg, tok, tensors, form=form)
            os.replace(tmp, p)
        paths.append(p)
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/tinygpt-bench")
    ap.add_argument("--only", choices=sorted(CONFIGS), action="append")
    ap.add_argument("--forms", default="b64,data")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.only or sorted(CONFIGS, key=lambda n: "SM".index(n)):
        for p in make(args.out, name, args.forms.split(",")):
            print(f"{p}\t{os.path.getsize(p) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
