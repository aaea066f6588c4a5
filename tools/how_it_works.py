#!/usr/bin/python3
"""Writes docs/how-it-works.md: each step of the decoder as the tutorials tell it, where the
code computes it, and the section of `tiny-gpt trace` that shows it, with real output from
the shipped models (one Chinese example, one English).

  /usr/bin/python3 tools/how_it_works.py --binary build/tiny-gpt           rewrite the page
  /usr/bin/python3 tools/how_it_works.py --binary build/tiny-gpt --check   fail when the page is
                                                                           not what the binary prints
"""

import argparse
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

STEPS = [
    ("Text to token ids", "src/tokenizer.cpp `Tokenizer::encode`, `encode_with_bos`; byte-level BPE in "
     "src/tokenizer_bpe.cpp and src/pretokenize.cpp", "1. Tokens"),
    ("One-hot x embedding table = a row of wte", "src/decoder.cpp `forward` (x[t] = wte[token] + wpe[t]); "
     "`Matrix::row` in include/tinygpt/model.h", "2. Embedding: `wte[id]`"),
    ("Plus the positional vector (learned, or sin/cos)", "learned: the rows of `wpe`; sinusoidal: "
     "src/positional.cpp `sinusoidal_table`, computed once at load", "2. Embedding: `wpe[P]` or `PE[P]`, `sum`"),
    ("Layer norm", "src/kernels/kernels.cpp `layer_norm`", "3. Layer: `ln_1`, `ln_2`"),
    ("Q = xW_Q, K = xW_K, V = xW_V", "src/decoder.cpp `forward` (one matrix `c_attn` makes q, k and v for every head)",
     "3. Layer: `head h: q = ...`"),
    ("Scores QK^T / sqrt(d), the causal mask, softmax, the weighted sum of V",
     "src/attention.cpp and src/kernels/ `attend_head` (positions after the query are never read: that is the mask)",
     "3. Layer: the weights (and raw scores) per position, `output`"),
    ("Heads concatenated, projected by W_O, plus the residual", "src/decoder.cpp `forward` (`attn_proj_weight`, `x += ...`)",
     "3. Layer: `attn_output`, `+ residual`"),
    ("The MLP and its residual", "src/decoder.cpp `forward` (`c_fc`, the activation in src/kernels/, `c_proj`)",
     "3. Layer: `mlp_output`, `output`"),
    ("Final layer norm, logits over the vocabulary, softmax", "src/decoder.cpp `forward` (the end); "
     "`log_softmax` in src/sampler.cpp", "4. Final layer norm"),
    ("The sampler picks a token", "src/sampler.cpp `filter`, `sample` (temperature, top-k, top-p, one draw)",
     "5. Sampling"),
    ("Append it and go on until the end token", "src/generate.cpp `generate`", "5. Sampling: `chosen` ... the end token"),
]

EXAMPLES = [
    ("Chinese: 床前明月光 (tang-poems)", ["trace", "床前明月光", "-m", "tang-poems", "--seed", "1", "--layer", "0",
                                            "--head", "0", "--top", "5"]),
    ("English: The LORD is my shepherd (english-kjv)", ["trace", "The LORD is my shepherd", "-m", "english-kjv",
                                                        "--seed", "1", "--layer", "0", "--head", "0", "--top", "5"]),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tiny-gpt"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "how-it-works.md"))
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 when --out differs")
    args = ap.parse_args()
    env = dict(os.environ, TINYGPT_MODEL_DIR=os.path.join(ROOT, "models"))
    lines = ["# How it works: one prediction, step by step", "",
             "The steps of a GPT-style decoder as tutorials teach them, where tiny-gpt computes each one,",
             "and where `tiny-gpt trace` shows it with the model's real numbers. `trace --json` has every",
             "number in full (the shape is in include/tinygpt/trace.h); each one is checked against the PyTorch",
             "reference (`tools/reference.py`, `tests/test_trace.cpp`).",
             "", "| step | code | `trace` section |", "|---|---|---|"]
    lines += [f"| {step} | {code} | {section} |" for step, code, section in STEPS]
    lines += ["", "`trace` computes the prediction with the same kernels, in the same order, as the forward pass",
              "that `generate` runs (src/trace.cpp), so its logits, top tokens and sampled token are the ones",
              "`generate` gets with the same seed and options. The logit lens (one line per layer) reads each",
              "layer's output as if it were the last: final layer norm, then the output matrix.", ""]
    for title, cmd in EXAMPLES:
        out = subprocess.run([args.binary] + cmd, check=True, capture_output=True, text=True, env=env).stdout
        shown = " ".join(f"'{a}'" if " " in a else a for a in cmd)
        lines += [f"## {title}", "", "```", f"$ tiny-gpt {shown}", out.rstrip("\n"), "```", ""]
    lines += ["Made by `tools/how_it_works.py` from the commands above; run it again after the models change.", ""]
    text = "\n".join(lines)
    if args.check:
        with open(args.out, encoding="utf-8") as f:
            page = f.read().splitlines()
        want = text.splitlines()
        i = next((i for i, (a, b) in enumerate(zip(page, want)) if a != b), None)
        if i is not None or len(page) != len(want):
            i = min(len(page), len(want)) if i is None else i
            raise SystemExit(f"{os.path.relpath(args.out, ROOT)} is out of date (run /usr/bin/python3 "
                             f"tools/how_it_works.py --binary BINARY): its line {i + 1} is "
                             f"{(page[i] if i < len(page) else '(missing)')!r}, the binary gives "
                             f"{(want[i] if i < len(want) else '(nothing)')!r}")
        print(f"{os.path.relpath(args.out, ROOT)}: every command gives the output on the page")
        return
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
