#!/usr/bin/python3
"""Two builds of tiny-gpt against each other, in the same run: A/B/A/B.

For a refactoring that must not cost speed: runs `tiny-gpt bench --json` of binary A and
binary B alternately on the same models and thread counts, so that whatever else the
machine is doing hits both alike, and prints the medians across rounds with the ratio
B / A, the load average before and after, and whether the greedy ids agree.

  /usr/bin/python3 bench/ab.py OLD_BINARY NEW_BINARY [--models tang-poems,english-kjv]
                               [--threads 1,2] [--rounds 5] [--decode 100]
"""

import argparse
import json
import os
import statistics
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(os.path.dirname(HERE), "models")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run(binary, model, threads, decode):
    out = subprocess.run(
        [binary, "bench", "-m", model, "-t", str(threads), "-r", "5", "-n", str(decode), "--json"],
        check=True, capture_output=True, text=True, env=dict(os.environ, TINYGPT_MODEL_DIR=MODELS)).stdout
    r = json.loads(out)
    return {"decode": r["decode_tokens_per_s"]["median"], "prefill": r["prefill_tokens_per_s"]["median"],
            "load_s": r["load"]["seconds"], "ids": r["greedy_ids"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--models", default="tang-poems,english-kjv")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--decode", type=int, default=100)
    args = ap.parse_args()
    print(f"load average before: {loadavg()}")
    print(f"A = {args.a}\nB = {args.b}\n")
    print("| model | threads | metric | A median | B median | B / A |")
    print("|---|---|---|---|---|---|")
    for model in args.models.split(","):
        for threads in [int(t) for t in args.threads.split(",")]:
            runs = {"a": [], "b": []}
            for _ in range(args.rounds):
                for side in ("a", "b"):
                    runs[side].append(run(getattr(args, side), model, threads, args.decode))
            same = all(r["ids"] == runs["a"][0]["ids"] for side in runs for r in runs[side])
            for metric, unit in (("decode", "tok/s"), ("prefill", "tok/s"), ("load_s", "s")):
                a = statistics.median(r[metric] for r in runs["a"])
                b = statistics.median(r[metric] for r in runs["b"])
                print(f"| {model} | {threads} | {metric} ({unit}) | {a:.4g} | {b:.4g} | {b / a:.3f} |")
            if not same:
                print(f"| {model} | {threads} | greedy ids DIFFER between runs | | | |")
    print(f"\nload average after: {loadavg()}")


if __name__ == "__main__":
    main()
