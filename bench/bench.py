#!/usr/bin/python3
"""tiny-gpt against PyTorch on the same weights, in the same run, on this machine.

Makes CFG-S and CFG-M with bench/make_models.py (random GPT-2-shaped weights, in /tmp),
then, for each model and thread count, alternates `tiny-gpt bench --json` with
bench/torch_gpt.py (PyTorch, KV cache, inference_mode, float32, same threads, same
prompt ids), A/B/A/B, so that whatever else the machine is doing hits both alike. Loading
is compared the same way: tiny-gpt's loader against Python's json.load + NumPy.

Prints one Markdown table of medians (across rounds of each side's per-round median) and
their ratio; --json FILE also writes every measurement. Quote medians and ratios, not
single times: these machines are shared and noisy.

  /usr/bin/python3 bench/bench.py --binary build/tiny-gpt [--threads 1,2] [--rounds 3]
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_models  # noqa: E402

PY = "/usr/bin/python3"


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def tiny(binary, model, threads, p, n, reps):
    return run_json([binary, "bench", "-m", model, "-t", str(threads), "-p", str(p), "-n", str(n), "-r", str(reps),
                     "--json"])


def torch_side(model, threads, p, n, reps):
    # Debian's OpenBLAS ignores torch.set_num_threads and uses every core unless told here:
    # without this a "1 thread" PyTorch row ran its matrix products on two. And these
    # machines set OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE (a workaround for old
    # OpenBLAS builds), which would hold PyTorch to AVX2 kernels on an AVX-512 CPU: a user's
    # machine would not, so they are unset for this side.
    # OMP_WAIT_POLICY=PASSIVE: PyTorch's OpenMP threads otherwise spin between operations on
    # the cores OpenBLAS's own threads need; with two threads on two cores that made PyTorch's
    # CFG-M prefill 284-425 tokens/s instead of 1,206-1,267 (2026-12-03), slower than on one.
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY="PASSIVE")
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(name, None)
    out = subprocess.run([PY, os.path.join(HERE, "torch_gpt.py"), model, "-t", str(threads), "-p", str(p), "-n", str(n),
                          "-r", str(reps)], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


PY_LOAD = r"""
import json, sys, time
import numpy as np
t = time.perf_counter()
with open(sys.argv[1]) as f:
    doc = json.load(f)
arrs = {k: np.asarray(v["data"], dtype=np.float32) for k, v in doc["tensors"].items()}
seconds = time.perf_counter() - t
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(json.dumps({"seconds": seconds, "peak_rss_mb": int(hwm) * 1024 / 1e6}))
"""


def python_load(path):
    return run_json([PY, "-c", PY_LOAD, path])


def med(values):
    return statistics.median(values) if values else float("nan")


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    flags = " ".join(x for x in ("avx2", "fma", "f16c", "avx512f") if x in have)
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "flags": flags, "kernel": platform.release(),
            "load_average": os.getloadavg(), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "tiny-gpt"))
    ap.add_argument("--out", default="/tmp/tinygpt-bench", help="where the models are written")
    ap.add_argument("--models", default="S,M")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3, help="A/B alternations per model and thread count")
    ap.add_argument("--reps", type=int, default=3, help="repetitions inside each run (after a warm-up)")
    ap.add_argument("-p", "--prompt-tokens", type=int, default=16)
    ap.add_argument("-n", "--decode-tokens", type=int, default=199)
    ap.add_argument("--load-rounds", type=int, default=3)
    ap.add_argument("--no-load", action="store_true", help="skip the loading comparison")
    ap.add_argument("--json", help="also write every measurement here")
    ap.add_argument("--checkpoint", help="instead of CFG-S/M: a Hugging Face checkpoint folder (e.g. from "
                    "tools/reference_hf.py gpt2-124m); PyTorch reads the same weights from `tiny-gpt convert DIR "
                    "DIR.json` (bit for bit the same: tests/convert_roundtrip.py)")
    args = ap.parse_args()
    if args.checkpoint:
        args.no_load = True

    os.makedirs(args.out, exist_ok=True)
    names = args.models.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    info = {"machine": machine(), "args": vars(args), "speed": [], "load": []}

    if args.checkpoint:
        names = [os.path.basename(os.path.normpath(args.checkpoint))]
        as_json = os.path.normpath(args.checkpoint) + ".json"
        if not os.path.exists(as_json):
            subprocess.run([args.binary, "convert", args.checkpoint, as_json], check=True)
    else:
        for name in names:
            forms = ["b64"] if args.no_load else ["b64", "data"]
            make_models.make(args.out, name, forms)
    rows = []
    for name in names:
        model = args.checkpoint if args.checkpoint else make_models.path_for(args.out, name, "b64")
        torch_model = as_json if args.checkpoint else model
        for t in threads:
            a, b = [], []
            for r in range(args.rounds):
                a.append(tiny(args.binary, model, t, args.prompt_tokens, args.decode_tokens, args.reps))
                b.append(torch_side(torch_model, t, args.prompt_tokens, args.decode_tokens, args.reps))
                print(f"{name} t={t} round {r + 1}: tiny-gpt decode {a[-1]['decode_tokens_per_s']['median']:.1f}, "
                      f"torch {b[-1]['decode_tokens_per_s']['median']:.1f} tokens/s", file=sys.stderr)
            agree = sum(1 for x, y in zip(a[0]["greedy_ids"], b[0]["greedy_ids"]) if x == y)
            row = {
                "model": name if args.checkpoint else f"CFG-{name}", "threads": t,
                "load_s": (med([x["load"]["seconds"] for x in a]), med([x["load"]["seconds"] for x in b])),
                "prefill": (med([x["prefill_tokens_per_s"]["median"] for x in a]),
                            med([x["prefill_tokens_per_s"]["median"] for x in b])),
                "decode": (med([x["decode_tokens_per_s"]["median"] for x in a]),
                           med([x["decode_tokens_per_s"]["median"] for x in b])),
                "decode_range": (min(x["decode_tokens_per_s"]["min"] for x in a),
                                 max(x["decode_tokens_per_s"]["max"] for x in a)),
                "peak_rss_mb": med([x["memory"]["peak_rss_mb"] for x in a]),
                "weights_kv_mb": a[0]["memory"]["weights_mb"] + a[0]["memory"]["kv_cache_mb"],
                "greedy_agree": f"{agree}/{len(a[0]['greedy_ids'])}",
                # CPU seconds per wall second, tiny-gpt and PyTorch: the cores each really used
                "prefill_cpu": (med([x.get("prefill_cpu_use", float("nan")) for x in a]),
                                med([x["prefill_cpu_use"] for x in b])),
                "decode_cpu": (med([x["decode_cpu_use"] for x in a]), med([x["decode_cpu_use"] for x in b])),
            }
            rows.append(row)
            info["speed"].append({"model": name, "threads": t, "tiny_gpt": a, "torch": b})

    load_rows = []
    if not args.no_load:
        for name in names:
            for form in ("b64", "data"):
                path = make_models.path_for(args.out, name, form)
                size_mb = os.path.getsize(path) / 1e6
                a, b = [], []
                for r in range(args.load_rounds):
                    a.append(tiny(args.binary, path, 1, 1, 0, 1))
                    if form == "data":  # Python's json.load + NumPy: the plain form only
                        b.append(python_load(path))
                load_rows.append({
                    "file": os.path.basename(path), "mb": size_mb,
                    "tiny_s": med([x["load"]["seconds"] for x in a]),
                    "tiny_rss": med([x["memory"]["peak_rss_mb"] for x in a]),
                    "weights_mb": a[0]["memory"]["weights_mb"],
                    "py_s": med([x["seconds"] for x in b]) if b else None,
                    "py_rss": med([x["peak_rss_mb"] for x in b]) if b else None,
                })
                info["load"].append({"file": path, "tiny_gpt": a, "python": b})

    m = info["machine"]
    print(f"\n{m['date']}  {m['cpu']}, {m['cores']} cores ({m['flags']}), load average at the end "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"greedy, batch 1, f32, {args.prompt_tokens}-token prompt, {args.decode_tokens} decoded tokens; "
          f"median of {args.rounds} alternating rounds x {args.reps} repetitions\n")
    print("CPU use = CPU seconds per wall second (tiny-gpt / PyTorch): the cores each side really used.\n")
    print("| model | threads | prefill tok/s tiny-gpt | PyTorch | ratio | CPU use | decode tok/s tiny-gpt (range) | PyTorch "
          "| ratio | CPU use | peak RSS / (weights + KV) | greedy ids agree |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        pf, dc, pc, dcu = r["prefill"], r["decode"], r["prefill_cpu"], r["decode_cpu"]
        print(f"| {r['model']} | {r['threads']} | {pf[0]:.0f} | {pf[1]:.0f} | {pf[0] / pf[1]:.2f}x | {pc[0]:.2f} / {pc[1]:.2f} "
              f"| {dc[0]:.1f} ({r['decode_range'][0]:.0f}-{r['decode_range'][1]:.0f}) | {dc[1]:.1f} | {dc[0] / dc[1]:.2f}x "
              f"| {dcu[0]:.2f} / {dcu[1]:.2f} "
              f"| {r['peak_rss_mb']:.0f} MB / {r['weights_kv_mb']:.0f} MB = {r['peak_rss_mb'] / r['weights_kv_mb']:.2f} "
              f"| {r['greedy_agree']} |")
    if args.checkpoint:
        print("\n| model | threads | load: tiny-gpt (memory-mapped folder) | PyTorch (reference reader, weights JSON) |")
        print("|---|---|---|---|")
        for r in rows:
            print(f"| {r['model']} | {r['threads']} | {r['load_s'][0]:.3f} s | {r['load_s'][1]:.2f} s |")
    if load_rows:
        print("\n| file | size | tiny-gpt load | MB/s | peak RSS / weights | Python json.load + NumPy | ratio |")
        print("|---|---|---|---|---|---|---|")
        for r in load_rows:
            py = f"{r['py_s']:.2f} s ({r['py_rss']:.0f} MB peak)" if r["py_s"] else "-"
            ratio = f"{r['py_s'] / r['tiny_s']:.1f}x" if r["py_s"] else "-"
            print(f"| {r['file']} | {r['mb']:.0f} MB | {r['tiny_s']:.3f} s | {r['mb'] / r['tiny_s']:.0f} "
                  f"| {r['tiny_rss']:.0f} / {r['weights_mb']:.0f} MB = {r['tiny_rss'] / r['weights_mb']:.2f} | {py} | {ratio} |")
    if args.json:
        info["rows"], info["load_rows"] = rows, load_rows
        with open(args.json, "w") as f:
            json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
