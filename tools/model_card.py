#!/usr/bin/python3
"""The numbers of models/README.md that come from a model file: its training runs, losses,
what its embedding table learned and samples, rebuilt from the committed model files and
the tiny-gpt binary, so that a new model changes the card by rerunning this, not by hand.

  /usr/bin/python3 tools/model_card.py build/tiny-gpt            rewrite the generated parts
  /usr/bin/python3 tools/model_card.py build/tiny-gpt --print     print them instead
  /usr/bin/python3 tools/model_card.py build/tiny-gpt --check     fail when the card is not what
                                                                   the model files give (a test)

The generated part of model NAME sits between the lines
`<!-- model_card.py NAME begin -->` and `<!-- model_card.py NAME end -->`; the rest of the
card is prose and is left alone. Samples and embedding queries run the C++ tool on the
committed model (seeded: the same on any machine).
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CARD = os.path.join(ROOT, "models", "README.md")

# What each card shows. Embedding: words whose nearest tokens are listed, and analogies
# "A - B + C" with the answer a reader expects (its rank among all whole-word results is
# reported, good or bad: chosen before looking at the model, not tuned to it).
MODELS = {
    "tang-poems": {
        "unit": "char",
        "neighbors": ["月", "山", "春", "酒", "君"],
        "analogies": [("天 - 上 + 下", "地"), ("東 - 西 + 南", "北"), ("日 - 晝 + 夜", "月"), ("男 - 兒 + 女", "娘")],
        "samples": [
            "generate '' -m tang-poems --seed 1 --temperature 0.8 --top-k 0 --top-p 1",
            "generate '' -m tang-poems --seed 2 --temperature 0.8 --top-k 0 --top-p 1",
            "generate '' -m tang-poems --seed 3 --temperature 0.8 --top-k 0 --top-p 1",
            "generate 床前明月光 --seed 7",
            "generate 春 --temperature 0",
        ],
    },
    "english-kjv": {
        "unit": "byte",
        "target": 3.15,  # issue #14: nats/token, each validation example scored on its own
        "neighbors": ["king", "LORD", "water", "Jerusalem", "said"],
        "analogies": [("king - man + woman", " queen"), ("father - man + woman", " mother"),
                      ("brother - man + woman", " sister"), ("Egypt - Pharaoh + Babylon", " Nebuchadnezzar")],
        "samples": [
            "generate 'And God said' -m english-kjv --seed 1 -n 60 --temperature 0.8",
            "generate 'And God said' -m english-kjv --seed 2 -n 60 --temperature 0.8",
            "generate 'The LORD is my shepherd' -m english-kjv --temperature 0 -n 30",
            "generate 'The LORD is my shepherd' -m english-kjv --temperature 0 -n 60 --repeat-penalty 1.3",
        ],
    },
}


def run(binary, args):
    r = subprocess.run([binary] + shlex.split(args), capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"tiny-gpt {args}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout, r.stderr


def minutes(seconds):
    return f"{seconds / 60:.1f} min"


def training_part(s):
    runs = s.get("runs") or []
    cum = s.get("cumulative", {})
    out = [f"- **Parameters**: {s['params']:,}. **Training**: {cum.get('runs', len(runs))} run(s), "
           f"{cum.get('steps', 0):,} steps, **{cum.get('tokens', 0):,} training tokens** in all "
           f"({minutes(cum.get('train_seconds', 0))} of training on one CPU thread); every run's command:", ""]
    out.append("| run | data | steps | tokens | training time | continued from |")
    out.append("|---|---|---|---|---|---|")
    for i, r in enumerate(runs, 1):
        out.append(f"| {i} | `{r.get('train', '?')}` | {r['steps']:,} | {r['tokens']:,} | "
                   f"{minutes(r['train_seconds'])} | {('`' + r['init_from'] + '`') if r.get('init_from') else 'scratch'} |")
    out.append("")
    out.append("  ```")
    for r in runs:
        out.append("  " + r["command"])
    out.append("  ```")
    return out


def loss_part(s, unit):
    f, v = s["final"], s["val_slice"]
    d = s["data"]
    out = [f"- **Loss** after the last run (nats; per {unit}: the same total over the {unit}s of the "
           "predicted text):", "",
           f"| | nats / token | nats / {unit} | bits / {unit} |", "|---|---|---|---|"]
    ln2 = 0.6931471805599453
    out.append(f"| train (a fixed slice of `{d['train']}`, {f['val_tokens_scored']:,} tokens) | "
               f"{f['train_loss_per_token']:.4f} | {f[f'train_loss_per_{unit}']:.4f} | "
               f"{f[f'train_loss_per_{unit}'] / ln2:.3f} |")
    out.append(f"| validation (`{d['val']}` as one stream, {f['val_tokens_scored']:,} tokens) | "
               f"{f['val_loss_per_token']:.4f} | {f[f'val_loss_per_{unit}']:.4f} | "
               f"{f[f'val_loss_per_{unit}'] / ln2:.3f} |")
    out.append(f"| `{v['file']}` ({v['tokens_scored']:,} tokens, the C++ check's slice) | "
               f"{v['loss_per_token']:.5f} | {v[f'loss_per_{unit}']:.5f} | {v[f'loss_per_{unit}'] / ln2:.3f} |")
    return out


def fit_power_law(points):
    """Least-squares fit of L(T) = a + b * T^-c (b, c > 0) to (tokens, loss) points: for each c
    on a grid the best a and b are a linear problem; the grid's best c is then refined by golden
    section. Three points are fitted exactly (residual ~0) when a curve of this shape passes
    through them; the card says "exactly" only when the residual says so."""
    import numpy as np
    t = np.array([p[0] for p in points], dtype=np.float64) / 1e6
    y = np.array([p[1] for p in points], dtype=np.float64)

    def solve(c):
        x = t ** -c
        a_mat = np.stack([np.ones_like(x), x], axis=1)
        (a, b), *_ = np.linalg.lstsq(a_mat, y, rcond=None)
        return float(np.sum((a + b * x - y) ** 2)), float(a), float(b)

    grid = np.exp(np.linspace(np.log(0.02), np.log(8.0), 4000))
    i = int(np.argmin([solve(c)[0] for c in grid]))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    g = (5 ** 0.5 - 1) / 2
    for _ in range(200):
        m1, m2 = hi - g * (hi - lo), lo + g * (hi - lo)
        if solve(m1)[0] < solve(m2)[0]:
            hi = m2
        else:
            lo = m1
    c = (lo + hi) / 2
    sse, a, b = solve(c)
    return a, b, c, sse


def curve_part(s, spec):
    """The validation loss at the end of each finished run against the cumulative training
    tokens, and where a power law through those points goes (the issue asks for the curve and
    an extrapolation when a target is out of reach)."""
    val = s["data"]["val"]
    runs, steps, tokens, at = s.get("runs") or [], 0, 0, {}
    for r in runs:
        steps += r["steps"]
        tokens += r["tokens"]
        args = shlex.split(r["command"])
        at[steps] = (tokens, args[args.index("--val") + 1] if "--val" in args else val)
    ends = [(at[step][0], loss, at[step][1]) for step, loss in s["history"].get("val_full", []) if step in at]
    points = [(t, l) for t, l, v in ends if v == val]
    other = [f"`{v}`" for t, l, v in ends if v != val]
    out = ["- **Learning curve**: the validation loss (`" + val + "` as one stream) at the end of each "
           "finished run, against the training tokens seen so far:", "",
           "| training tokens | " + " | ".join(f"{t:,}" for t, _, _ in ends) + " |",
           "|---|" + "---|" * len(ends),
           "| validation nats / token | " + " | ".join(f"{l:.4f}" + ("*" if v != val else "")
                                                      for _, l, v in ends) + " |"]
    if other:
        out += ["", f"  \\* measured on {', '.join(sorted(set(other)))}, the validation file of that run, "
                "so not a point of this curve."]
    if len(points) < 3:
        return out
    a, b, c, sse = fit_power_law(points)
    fit = lambda tok: a + b * (tok / 1e6) ** -c  # noqa: E731
    last = points[-1][0]
    more = ", ".join(f"{k}× ({k * last / 1e6:.0f} M tokens) {fit(k * last):.3f}" for k in (2, 4, 8))
    out += ["", f"  A power law L(T) = a + b·T^-c (T in millions of tokens) fitted to these points "
            f"({'exactly' if sse < 1e-12 else 'least squares'}; residual sum of squares {sse:.1e}): "
            f"a = {a:.3f}, b = {b:.3g}, c = {c:.3f}. Extrapolated validation loss at "
            f"{more}; the curve levels off at {a:.3f}. Rough: the runs differ in learning rate, dropout "
            "and schedule, and each point ends an annealed run, so more tokens under one schedule could "
            "do somewhat better or worse than this."]
    target = spec.get("target")
    if target is not None:
        if target > a:
            need_m = ((target - a) / b) ** (-1 / c)  # millions of tokens, as T in the fit
            out[-1] += f" Issue #14's target, {target}, is reached at about {need_m:,.0f} M tokens on this curve."
        else:
            out[-1] += (f" Issue #14's target, {target}, lies below where the curve levels off: more tokens "
                        "alone, on this model and this training text, do not reach it on this curve.")
    return out


def embedding_part(binary, name, spec):
    out = [f"- **What the embedding table learned** (`tiny-gpt embed`, cosine similarity of `wte` rows):", ""]
    out.append("| word | nearest tokens (cosine) |")
    out.append("|---|---|")
    for w in spec["neighbors"]:
        j = json.loads(run(binary, f"embed {shlex.quote(w)} -m {name} --neighbors 5 --json")[0])
        near = ", ".join(f"`{n['token']}` {n['cosine']:.2f}" for n in j["neighbors"])
        out.append(f"| `{w}` | {near} |")
    out.append("")
    out.append("| analogy (3CosAdd) | expected | its rank | top 3 |")
    out.append("|---|---|---|---|")
    for expr, want in spec["analogies"]:
        j = json.loads(run(binary, f"embed --analogy {shlex.quote(expr)} -m {name} --neighbors 100000 --json")[0])
        results = j["analogy"]["results"]
        ranks = [i for i, r in enumerate(results, 1) if r["token"] == want]
        rank = f"{ranks[0]} of {len(results)}" if ranks else f"not among the {len(results)}"
        top = ", ".join(f"`{r['token']}`" for r in results[:3])
        out.append(f"| `{expr}` | `{want}` | {rank} | {top} |")
    return out


def samples_part(binary, name, spec):
    out = ["- **Samples**, made by the C++ tool from this commit's model file (the same command and seed "
           "give the same text on any machine):", ""]
    for cmd in spec["samples"]:
        stdout, stderr = run(binary, cmd)
        info = [l for l in stderr.splitlines() if l.startswith("info: stop")]
        out += ["```", f"$ tiny-gpt {cmd}", stdout.rstrip("\n")]
        out += [f"# stderr: {l}" for l in info]
        out += ["```", ""]
    return out[:-1]


def part(binary, name):
    spec = MODELS[name]
    with open(os.path.join(ROOT, "models", name + ".train.json"), encoding="utf-8") as f:
        s = json.load(f)
    lines = training_part(s) + [""] + loss_part(s, spec["unit"]) + [""] + curve_part(s, spec) + [""]
    lines += embedding_part(binary, name, spec) + [""] + samples_part(binary, name, spec)
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--print", action="store_true", help="print the generated parts, change nothing")
    ap.add_argument("--check", action="store_true",
                    help="change nothing; exit 1 naming the first line where the card differs")
    ap.add_argument("--model", action="append", choices=sorted(MODELS))
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    names = args.model or list(MODELS)
    with open(CARD, encoding="utf-8") as f:
        card = f.read()
    for name in names:
        text = part(binary, name)
        if args.print:
            print(f"## {name}\n\n{text}")
            continue
        begin, end = f"<!-- model_card.py {name} begin -->\n", f"<!-- model_card.py {name} end -->\n"
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        if not pattern.search(card):
            raise SystemExit(f"{CARD}: no '{begin.strip()}' ... '{end.strip()}' lines for {name}")
        if args.check:
            committed = pattern.search(card).group(0)[len(begin):-len(end)]
            if committed != text:
                mine, want = committed.splitlines(), text.splitlines()
                i = next((i for i, (a, b) in enumerate(zip(mine, want)) if a != b), min(len(mine), len(want)))
                raise SystemExit(f"{os.path.relpath(CARD, ROOT)}: {name}'s generated part is out of date "
                                 f"(run /usr/bin/python3 tools/model_card.py BINARY); its line {i + 1} is "
                                 f"{(mine[i] if i < len(mine) else '(missing)')!r}, the model gives "
                                 f"{(want[i] if i < len(want) else '(nothing)')!r}")
            continue
        card = pattern.sub(lambda _: begin + text + end, card)
    if args.check:
        print(f"{os.path.relpath(CARD, ROOT)}: the generated parts of {', '.join(names)} are what the model files give")
    elif not args.print:
        with open(CARD + ".tmp", "w", encoding="utf-8") as f:
            f.write(card)
        os.replace(CARD + ".tmp", CARD)
        print(f"rewrote the generated parts of {os.path.relpath(CARD, ROOT)}: {', '.join(names)}", file=sys.stderr)


if __name__ == "__main__":
    main()
