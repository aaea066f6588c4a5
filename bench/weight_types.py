#!/usr/bin/python3
"""Decode and prefill speed of the weight types against float32, in the same run:

  bench/weight_types.py [--binary build/tiny-gpt] [--models S,M,english-kjv,tang-poems]
                        [--threads 1,2] [--rounds 5] [-p 128] [-n 128]

For each model and thread count, `tiny-gpt bench --json --weights-type T` for T = f32, f16,
q8_0 in turn, round after round (f32/f16/q8_0/f32/...), so that whatever else the machine
does hits all alike. Prints a Markdown table of medians across rounds (each round's value is
that run's median over its repetitions), the ratio to f32, the weight bytes one decoded
token reads and the bandwidth that implies, and the load average before and after.
CFG-S and CFG-M are bench/make_models.py's random GPT-2-shaped models (written to --out).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_models  # noqa: E402

TYPES = ["f32", "f16", "q8_0"]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "tiny-gpt"))
    ap.add_argument("--out", default="/tmp/tinygpt-bench")
    ap.add_argument("--models", default="S,M")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("-p", "--prompt-tokens", type=int, default=128)
    ap.add_argument("-n", "--decode-tokens", type=int, default=128)
    ap.add_argument("--json", help="also write every measurement here")
    a = ap.parse_args()
    rows = ["| model | threads | weights | decode tokens/s | × f32 | MB read per token | GB/s | prefill tokens/s | × f32 | greedy ids = f32 |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    raw = []
    print(f"load average before: {loadavg()}", file=sys.stderr)
    for name in a.models.split(","):
        if name in ("S", "M"):
            make_models.make(a.out, name, ["b64"])
            model = make_models.path_for(a.out, name, "b64")
            label = f"CFG-{name}"
        else:
            model, label = name, name
        for threads in [int(t) for t in a.threads.split(",")]:
            got = {t: [] for t in TYPES}
            la0 = loadavg()
            for _ in range(a.rounds):
                for t in TYPES:
                    out = subprocess.run([a.binary, "bench", "-m", model, "-t", str(threads), "-p", str(a.prompt_tokens),
                                          "-n", str(a.decode_tokens), "-r", str(a.reps), "--weights-type", t, "--json"],
                                         check=True, capture_output=True, text=True)
                    got[t].append(json.loads(out.stdout))
            la1 = loadavg()
            med = {t: {k: statistics.median(r[f"{k}_tokens_per_s"]["median"] for r in got[t])
                       for k in ("decode", "prefill")} for t in TYPES}
            for t in TYPES:
                per_token = got[t][0]["weight_bytes_per_token"]
                same = got[t][0]["greedy_ids"] == got["f32"][0]["greedy_ids"]
                rows.append(f"| {label} | {threads} | {t} | {med[t]['decode']:.0f} | "
                            f"{med[t]['decode'] / med['f32']['decode']:.2f} | {per_token / 1e6:.2f} | "
                            f"{per_token * med[t]['decode'] / 1e9:.1f} | {med[t]['prefill']:.0f} | "
                            f"{med[t]['prefill'] / med['f32']['prefill']:.2f} | {'yes' if same else 'no'} |")
            raw.append({"model": label, "threads": threads, "load_before": la0, "load_after": la1,
                        "runs": {t: got[t] for t in TYPES}})
            print(f"{label} {threads} thread(s): load average {la0} -> {la1}", file=sys.stderr)
    print("\n".join(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(raw, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
