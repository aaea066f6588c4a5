#!/usr/bin/python3
"""Decoding speed of tiny-gpt beside two peers on the same machine, in one run:

  - ggml's gpt-2 example (`gpt-2-ctx`), on the same random weights as tiny-gpt (CFG-S,
    CFG-M from bench/make_models.py), written in ggml's GPT-2 file format as float32 and
    float16, and quantised to its q8_0 by ggml's own `gpt-2-quantize`;
  - llama2.c (`run.c`), float32 only, on random weights of a Llama of the same width,
    depth, heads, vocabulary and parameter count (its SwiGLU hidden size is 8/3 n_embd).

Neither peer's code is part of tiny-gpt: point the script at checkouts of them and it
builds them in a scratch folder (`--out`), as their own build files say (ggml: CMake,
Release, native; llama2.c: the Makefile's `runomp` line, gcc -Ofast -fopenmp -march=native).
Peers not given are left out of the table.

  /usr/bin/python3 bench/peers.py --ggml ~/src/ggml --llama2c ~/src/llama2.c \\
      [--models S,M] [--threads 1,2] [--types f32,f16,q8_0] [--rounds 5] [-n 128]

Each round runs every system once per model, thread count and type, in turn (A/B/C/A/B/C),
so that whatever else the machine does hits all alike; the table gives the medians over
rounds and their ratios. Decoding only: one prompt token, then -n tokens; ggml's figure is
its "predict time" per token, llama2.c's its "achieved tok/s", tiny-gpt's `bench` decode
median. For f32 and f16 the first 32 greedy tokens of tiny-gpt and ggml are compared (same
weights, same prompt): `ids agree` in the table.
"""

import argparse
import os
import re
import statistics
import struct
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import bench  # noqa: E402
import make_models  # noqa: E402
import reference  # noqa: E402

GGML_MAGIC = 0x67676D6C  # "ggml"
GGML_F32, GGML_F16 = 0, 1  # tensor types and file types of ggml's GPT-2 format
PROMPT = chr(0x4E00)  # id 0 of bench/make_models.py's character vocabulary


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


# ---- Building the peers ----

def build_ggml(src, out):
    build = os.path.join(out, "ggml-build")
    sh(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DGGML_BUILD_TESTS=OFF",
        "-DGGML_BUILD_EXAMPLES=ON", "-DGGML_NATIVE=ON"])
    sh(["cmake", "--build", build, "-j", str(os.cpu_count() or 1), "--target", "gpt-2-ctx", "gpt-2-quantize"])
    return os.path.join(build, "bin", "gpt-2-ctx"), os.path.join(build, "bin", "gpt-2-quantize")


def build_llama2c(src, out):
    exe = os.path.join(out, "llama2c-run")
    sh(["gcc", "-Ofast", "-fopenmp", "-march=native", os.path.join(src, "run.c"), "-lm", "-o", exe])
    return exe


# ---- Weights in the peers' formats ----

def write_ggml(path, cfg, tok, tensors, ftype):
    """ggml's GPT-2 file: magic, six int32 hyper-parameters, the vocabulary (length-prefixed
    UTF-8), then each tensor: n_dims, name length, type, its dims fastest first, name, data.
    Linear weights are [out][in] rows (ne0 = in), i.e. our Conv1D [in][out] transposed."""
    D, L = cfg["n_embd"], cfg["n_layer"]
    if cfg["n_inner"] != 4 * D or cfg["positional"] != "learned" or cfg["activation"] != "gelu_tanh":
        raise SystemExit("ggml's gpt-2 example runs GPT-2's shape only (n_inner 4 n_embd, learned positions, gelu)")
    reduced = ftype == GGML_F16

    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<I6i", GGML_MAGIC, cfg["vocab_size"], cfg["n_ctx"], D, cfg["n_head"], L, ftype))
        vocab = tok["vocab"]
        f.write(struct.pack("<i", len(vocab)))
        for piece in vocab:
            b = piece.encode("utf-8")
            f.write(struct.pack("<i", len(b)) + b)

        def put(name, arr, weight=False):
            arr = np.ascontiguousarray(arr, dtype=np.float16 if weight and reduced else np.float32)
            ttype = GGML_F16 if arr.dtype == np.float16 else GGML_F32
            nb = name.encode()
            f.write(struct.pack("<3i", arr.ndim, len(nb), ttype))
            f.write(struct.pack(f"<{arr.ndim}i", *reversed(arr.shape)))
            f.write(nb)
            f.write(arr.tobytes())

        put("model/ln_f/g", tensors["ln_f.weight"])
        put("model/ln_f/b", tensors["ln_f.bias"])
        put("model/wte", tensors["wte.weight"], weight=True)
        put("model/wpe", tensors["wpe.weight"])
        if not cfg["tie_word_embeddings"]:
            put("model/lm_head", tensors["lm_head.weight"], weight=True)
        for i in range(L):
            h, g = f"h.{i}.", f"model/h{i}/"
            for ours, theirs in (("ln_1", "ln_1"), ("ln_2", "ln_2")):
                put(g + theirs + "/g", tensors[h + ours + ".weight"])
                put(g + theirs + "/b", tensors[h + ours + ".bias"])
            for ours, theirs in (("attn.c_attn", "attn/c_attn"), ("attn.c_proj", "attn/c_proj"),
                                 ("mlp.c_fc", "mlp/c_fc"), ("mlp.c_proj", "mlp/c_proj")):
                put(g + theirs + "/w", tensors[h + ours + ".weight"].T, weight=True)
                put(g + theirs + "/b", tensors[h + ours + ".bias"])
    os.replace(path + ".tmp", path)


def write_llama2c(path, tok_path, cfg, seed=1234):
    """run.c's checkpoint: Config (7 int32: dim, hidden_dim, n_layers, n_heads, n_kv_heads,
    vocab_size (> 0: shared classifier), seq_len), then the float32 weights in its order;
    and its tokenizer file (max length, then score, length, bytes per token)."""
    D, L, V, C = cfg["n_embd"], cfg["n_layer"], cfg["vocab_size"], cfg["n_ctx"]
    H = round(8 * D / 3)  # 3 D H = 8 D^2: the MLP parameters of GPT-2's 4 D
    head = D // cfg["n_head"]
    rng = np.random.default_rng(seed)

    def rand(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)

    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<7i", D, H, L, cfg["n_head"], cfg["n_head"], V, C))
        f.write(rand(V, D).tobytes())
        f.write(np.ones((L, D), np.float32).tobytes())  # rms_att
        for shape in ((D, D), (D, D), (D, D), (D, D)):  # wq, wk, wv, wo
            f.write(rand(L, *shape).tobytes())
        f.write(np.ones((L, D), np.float32).tobytes())  # rms_ffn
        f.write(rand(L, H, D).tobytes())  # w1
        f.write(rand(L, D, H).tobytes())  # w2
        f.write(rand(L, H, D).tobytes())  # w3
        f.write(np.ones(D, np.float32).tobytes())  # rms_final
        f.write(np.zeros(C * head, np.float32).tobytes())  # the old RoPE tables, skipped by run.c
    os.replace(path + ".tmp", path)
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    pieces += [chr(0x4E00 + i) for i in range(V - len(pieces))]
    with open(tok_path, "wb") as f:
        enc = [p.encode("utf-8") for p in pieces]
        f.write(struct.pack("<i", max(len(b) for b in enc)))
        for b in enc:
            f.write(struct.pack("<fi", 0.0, len(b)) + b)


# ---- Running ----

def tiny_decode(binary, model, wtype, threads, n):
    j = bench.run_json([binary, "bench", "-m", model, "--weights-type", wtype, "-t", str(threads), "-p", "1", "-n",
                        str(n), "-r", "3", "--json"])
    return j["decode_tokens_per_s"]["median"]


def ggml_decode(exe, model, threads, n):
    r = sh([exe, "-m", model, "-p", PROMPT, "-n", str(n), "-t", str(threads), "--top_k", "1", "-s", "1"])
    m = re.search(r"predict time =\s*([\d.]+) ms /\s*([\d.]+) ms per token", r.stdout + r.stderr)
    if not m:
        raise SystemExit(f"{exe}: no 'predict time' in its output:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return 1000.0 / float(m.group(2)), r.stdout


def llama2c_decode(exe, model, tok, threads, n):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    # Sampling at temperature 1 without top-p (a plain draw): greedy decoding on random weights
    # may pick <s> and stop early; the draw costs the same for every token.
    r = sh([exe, model, "-z", tok, "-t", "1.0", "-p", "1.0", "-s", "42", "-n", str(n + 1), "-i", ""], env=env)
    m = re.search(r"achieved tok/s:\s*([\d.]+)", r.stderr)
    if not m:
        raise SystemExit(f"{exe}: no 'achieved tok/s' in its output:\n{r.stderr[-2000:]}")
    return float(m.group(1))


def greedy_agreement(binary, model, wtype, ggml_stdout, k=32):
    """How many of the first k greedy tokens tiny-gpt and ggml share, from the start (each
    token of bench/make_models.py's vocabulary is one character, id = code point - 0x4E00)."""
    j = bench.run_json([binary, "generate", PROMPT, "-m", model, "--weights-type", wtype, "--temperature", "0", "-n",
                        str(k), "--json"])
    ours = j["ids"][:k]
    # ggml echoes the prompt, then prints each token as it is sampled, after this line.
    tail = ggml_stdout.split("number of tokens in prompt", 1)[-1]
    theirs = [ord(c) - 0x4E00 for c in tail if 0x4E00 <= ord(c) < 0x4E00 + 65536][1:1 + k]
    same = 0
    for a, b in zip(ours, theirs):
        if a != b:
            break
        same += 1
    return same, min(len(ours), len(theirs))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "tiny-gpt"))
    ap.add_argument("--ggml", help="a checkout of github.com/ggml-org/ggml")
    ap.add_argument("--llama2c", help="a checkout of github.com/karpathy/llama2.c")
    ap.add_argument("--out", default="/tmp/tinygpt-peers", help="scratch folder: builds and the peers' weights")
    ap.add_argument("--models-dir", default="/tmp/tinygpt-bench", help="where bench/make_models.py's models are")
    ap.add_argument("--models", default="S,M")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--types", default="f32,f16,q8_0")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-n", "--decode-tokens", type=int, default=128)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    types = args.types.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    n = args.decode_tokens

    ggml_exe = ggml_quant = llama_exe = None
    if args.ggml:
        print("building ggml's gpt-2 example ...", file=sys.stderr)
        ggml_exe, ggml_quant = build_ggml(os.path.abspath(args.ggml), args.out)
    if args.llama2c:
        print("building llama2.c ...", file=sys.stderr)
        llama_exe = build_llama2c(os.path.abspath(args.llama2c), args.out)

    files = {}
    for name in args.models.split(","):
        os.makedirs(args.models_dir, exist_ok=True)
        ours = make_models.make(args.models_dir, name, ["b64"])[0]
        cfg, tok, tensors = reference.load(ours)
        f = {"tiny": ours}
        if ggml_exe:
            base = os.path.join(args.out, f"cfg-{name.lower()}")
            write_ggml(base + ".ggml-f32.bin", cfg, tok, tensors, GGML_F32)
            if "f16" in types:
                write_ggml(base + ".ggml-f16.bin", cfg, tok, tensors, GGML_F16)
            if "q8_0" in types:
                sh([ggml_quant, base + ".ggml-f32.bin", base + ".ggml-q8_0.bin", "q8_0"])
            f["ggml"] = {t: f"{base}.ggml-{t}.bin" for t in types}
        if llama_exe:
            f["llama2c"] = (os.path.join(args.out, f"cfg-{name.lower()}.llama2c.bin"),
                            os.path.join(args.out, f"cfg-{name.lower()}.llama2c-tok.bin"))
            write_llama2c(*f["llama2c"], cfg)
        files[name] = f

    before = os.getloadavg()
    results = {}  # (model, threads, type) -> {"tiny": [...], "ggml": [...], "llama2c": [...]}
    agree = {}
    for rnd in range(args.rounds):
        for name, f in files.items():
            for t in threads:
                for wt in types:
                    r = results.setdefault((name, t, wt), {"tiny": [], "ggml": [], "llama2c": []})
                    r["tiny"].append(tiny_decode(args.binary, f["tiny"], wt, t, n))
                    if "ggml" in f:
                        speed, out = ggml_decode(ggml_exe, f["ggml"][wt], t, n)
                        r["ggml"].append(speed)
                        if rnd == 0 and t == threads[0]:
                            agree[(name, wt)] = greedy_agreement(args.binary, f["tiny"], wt, out)
                    if "llama2c" in f and wt == "f32":
                        r["llama2c"].append(llama2c_decode(llama_exe, *f["llama2c"], t, n))
        print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)
    after = os.getloadavg()

    m = bench.machine()
    print(f"{m['date']}  {m['cpu']}, {m['cores']} cores ({m['flags']}); load average before "
          f"{before[0]:.2f}, after {after[0]:.2f} (1 min)")
    print(f"decode: 1 prompt token, {n} decoded; medians of {args.rounds} alternating rounds (tokens/s)\n")
    print("| model | threads | weights | tiny-gpt | ggml gpt-2 | tiny-gpt / ggml | greedy ids agree (of 32) "
          "| llama2.c | tiny-gpt / llama2.c |")
    print("|---|---|---|---|---|---|---|---|---|")
    med = statistics.median
    for (name, t, wt), r in results.items():
        tg = med(r["tiny"])
        gg = f"{med(r['ggml']):.0f} | {tg / med(r['ggml']):.2f}x" if r["ggml"] else "| "
        ag = "{} of {}".format(*agree[(name, wt)]) if (name, wt) in agree and wt != "q8_0" else ""
        ll = f"{med(r['llama2c']):.0f} | {tg / med(r['llama2c']):.2f}x" if r["llama2c"] else "| "
        print(f"| CFG-{name} | {t} | {wt} | {tg:.0f} | {gg} | {ag} | {ll} |")


if __name__ == "__main__":
    main()
