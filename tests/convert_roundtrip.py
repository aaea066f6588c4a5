#!/usr/bin/python3
"""`tiny-gpt convert`, checked from outside the engine.

  convert_roundtrip.py BINARY SOURCE_DIR WORK_DIR [HF_CHECKPOINTS_DIR]

1. Lossless round trip. For every shipped model and every weights JSON fixture:
   JSON -> folder -> JSON. The files are read here with tools/reference.py's reader (written
   from docs/weights-format.md) and a safetensors reader written from the format's
   description (no engine code), and must agree bit for bit: the config (every default
   filled in; layer_norm_epsilon as float32 and as written), the tokenizer object, every
   tensor's float32 bits. The folder itself must be a GPT-2 checkpoint as the hub lays it
   out: config.json's GPT-2 fields, "transformer."-prefixed F32 tensors with Conv1D
   [in, out], the tokenizer files. Converting the round-tripped JSON again gives the same
   folder bytes.
2. Checkpoints made by the reference (tools/reference_hf.py, F32 and F16) -> JSON: the
   tensors are the checkpoint's values widened to float32, exactly.
3. Refusals and atomicity: an existing OUT without --force (exit 2, untouched); --force
   on a folder holding a file convert does not write (refused, untouched); --force on a
   checkpoint folder (replaced); a write that fails in the middle (a file size limit:
   model.safetensors cannot be written after config.json was) gives one stderr line and
   exit 1, and leaves no OUT (or the old OUT untouched) and no staging files.
"""

import hashlib
import json
import os
import resource
import shutil
import struct
import subprocess
import sys

import numpy as np

BIN, SRC, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
HF = sys.argv[4] if len(sys.argv) > 4 else None
sys.path.insert(0, os.path.join(SRC, "tools"))
import reference  # noqa: E402

failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args, preexec=None):
    return subprocess.run([BIN, *args], capture_output=True, text=True, preexec_fn=preexec)


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    meta = header.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        dtype = {"F32": "<f4", "F16": "<f2", "BF16": None}[t["dtype"]]
        raw = blob[base + begin : base + end]
        if dtype is None:  # bfloat16: the top half of a float32
            arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype).astype(np.float32)
        out[name] = (t["dtype"], arr.reshape(t["shape"]))
    return meta, base, out


def same_bits(a, b):
    a32 = np.ascontiguousarray(a, dtype=np.float32)
    b32 = np.ascontiguousarray(b, dtype=np.float32)
    return a32.shape == b32.shape and np.array_equal(a32.view(np.uint32), b32.view(np.uint32))


def digest(path):
    h = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(path)):
        dirs.sort()
        for name in sorted(files):
            p = os.path.join(root, name)
            h.update(os.path.relpath(p, path).encode())
            with open(p, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


HF_ACTIVATION = {"gelu_tanh": "gelu_new", "gelu": "gelu", "relu": "relu"}


def check_folder(label, folder, cfg, tok, tensors):
    """The folder is a GPT-2 checkpoint holding exactly this model."""
    with open(os.path.join(folder, "config.json")) as f:
        hub = json.load(f)
    check(hub.get("model_type") == "gpt2" and hub.get("architectures") == ["GPT2LMHeadModel"], f"{label}: model_type")
    for ours, theirs in (("vocab_size", "vocab_size"), ("n_ctx", "n_positions"), ("n_embd", "n_embd"),
                         ("n_head", "n_head"), ("n_layer", "n_layer"), ("n_inner", "n_inner"),
                         ("tie_word_embeddings", "tie_word_embeddings")):
        check(hub.get(theirs) == cfg[ours], f"{label}: config.json {theirs} {hub.get(theirs)} != {cfg[ours]}")
    check(hub.get("activation_function") == HF_ACTIVATION[cfg["activation"]], f"{label}: activation_function")
    check(np.float32(hub.get("layer_norm_epsilon")) == np.float32(cfg["layer_norm_epsilon"]), f"{label}: epsilon")
    check(("tinygpt_positional" in hub) == (cfg["positional"] == "sinusoidal"), f"{label}: tinygpt_positional")

    meta, data_start, stored = read_safetensors(os.path.join(folder, "model.safetensors"))
    check(meta == {"format": "pt"}, f"{label}: metadata {meta}")
    check(data_start % 8 == 0, f"{label}: data starts at {data_start}, not 8-byte aligned")
    expect = {("lm_head.weight" if n == "lm_head.weight" else "transformer." + n): a for n, a in tensors.items()}
    if cfg["positional"] == "sinusoidal":
        expect["transformer.wpe.weight"] = None  # the table itself; compared to the reference below
    check(set(stored) == set(expect), f"{label}: tensor names {sorted(set(stored) ^ set(expect))}")
    for name, arr in expect.items():
        if name not in stored:
            continue
        dtype, got = stored[name]
        check(dtype == "F32", f"{label}: {name} stored as {dtype}")
        if arr is None:
            table = reference.sinusoidal_table(cfg["n_ctx"], cfg["n_embd"]).numpy()
            check(got.shape == table.shape and np.abs(got - table).max() < 1e-6, f"{label}: sinusoid table")
        else:
            check(same_bits(got, arr), f"{label}: {name} differs in the safetensors file")

    names = sorted(os.listdir(folder))
    if tok["type"] == "byte_bpe" and tok.get("bos_token") == "<|endoftext|>" == tok.get("eos_token"):
        check(names == ["config.json", "merges.txt", "model.safetensors", "vocab.json"], f"{label}: files {names}")
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            check(json.load(f) == tok["vocab"], f"{label}: vocab.json")
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")
        check(lines[0].startswith("#version") and lines[1:-1] == tok["merges"] and lines[-1] == "",
              f"{label}: merges.txt")
        eot = tok["vocab"]["<|endoftext|>"]
        check(hub.get("bos_token_id") == eot and hub.get("eos_token_id") == eot, f"{label}: bos/eos ids")
    else:
        check(names == ["config.json", "model.safetensors", "tinygpt_tokenizer.json"], f"{label}: files {names}")
        with open(os.path.join(folder, "tinygpt_tokenizer.json"), encoding="utf-8") as f:
            check(json.load(f) == tok, f"{label}: tinygpt_tokenizer.json")


def roundtrip(path):
    label = os.path.relpath(path, SRC)
    stem = label.replace("/", "_")
    folder, back, again = (os.path.join(WORK, stem + s) for s in ("_folder", "_back.json", "_again"))
    for p in (folder, again):
        shutil.rmtree(p, ignore_errors=True)
    if os.path.exists(back):
        os.remove(back)
    for args in ((path, folder), (folder, back), (back, again)):
        r = run("convert", *args)
        check(r.returncode == 0, f"{label}: convert {args[0]} {args[1]} exit {r.returncode}: {r.stderr.strip()}")
        if r.returncode != 0:
            return
        check(r.stdout == "", f"{label}: convert printed on stdout")
    cfg, tok, tensors = reference.load(path)
    cfg2, tok2, tensors2 = reference.load(back)
    check(cfg == cfg2, f"{label}: config {cfg} != {cfg2}")
    check(np.float32(cfg["layer_norm_epsilon"]) == np.float32(cfg2["layer_norm_epsilon"]), f"{label}: epsilon")
    check(tok == tok2, f"{label}: tokenizer differs after the round trip")
    check(set(tensors) == set(tensors2), f"{label}: tensor names differ")
    for name in tensors:
        check(name in tensors2 and same_bits(tensors[name], tensors2[name]), f"{label}: {name} differs")
    check_folder(label, folder, cfg, tok, tensors)
    check(digest(folder) == digest(again), f"{label}: converting the round-tripped JSON gives other folder bytes")


def from_reference_checkpoints():
    for variant in ("f32_tied", "f16_prefixed"):
        folder = os.path.join(HF, variant)
        out = os.path.join(WORK, variant + ".json")
        if os.path.exists(out):
            os.remove(out)
        r = run("convert", folder, out)
        check(r.returncode == 0, f"{variant}: convert exit {r.returncode}: {r.stderr.strip()}")
        if r.returncode != 0:
            continue
        _, _, stored = read_safetensors(os.path.join(folder, "model.safetensors"))
        cfg, tok, tensors = reference.load(out)
        check(tok["type"] == "byte_bpe" and len(tok["vocab"]) == 50257, f"{variant}: tokenizer")
        for name, (dtype, arr) in stored.items():
            ours = name.removeprefix("transformer.")
            if ours.endswith(".attn.bias") or ours.endswith(".attn.masked_bias"):
                continue
            if ours == "lm_head.weight" and cfg["tie_word_embeddings"]:
                check(same_bits(arr, tensors["wte.weight"]), f"{variant}: tied lm_head is not wte")
                continue
            check(ours in tensors and same_bits(arr, tensors[ours]), f"{variant}: {ours} ({dtype}) not widened exactly")


def refusals():
    model = os.path.join(SRC, "models", "demo-tiny.json")
    folder = os.path.join(WORK, "refuse_folder")
    shutil.rmtree(folder, ignore_errors=True)
    check(run("convert", model, folder).returncode == 0, "refusals: first convert")
    before = digest(folder)

    r = run("convert", model, folder)
    check(r.returncode == 2 and "already exists" in r.stderr and r.stderr.count("\n") == 1,
          f"existing folder without --force: exit {r.returncode}, {r.stderr!r}")
    check(digest(folder) == before, "existing folder without --force was changed")

    out_json = os.path.join(WORK, "refuse.json")
    with open(out_json, "w") as f:
        f.write("precious\n")
    r = run("convert", model, out_json)
    check(r.returncode == 2 and "already exists" in r.stderr, f"existing JSON without --force: exit {r.returncode}")
    with open(out_json) as f:
        check(f.read() == "precious\n", "existing JSON without --force was changed")
    r = run("convert", model, out_json, "--force")
    check(r.returncode == 0 and reference.load(out_json)[0]["n_ctx"] == 32, "--force replaces a JSON file")

    with open(os.path.join(folder, "notes.txt"), "w") as f:
        f.write("mine\n")
    before = digest(folder)
    r = run("convert", model, folder, "--force")
    check(r.returncode == 1 and "notes.txt" in r.stderr and r.stderr.count("\n") == 1,
          f"--force over a folder with a foreign file: exit {r.returncode}, {r.stderr!r}")
    check(digest(folder) == before, "--force over a folder with a foreign file changed it")
    os.remove(os.path.join(folder, "notes.txt"))

    other = os.path.join(SRC, "tests", "fixtures", "ref", "learned_tied_gelutanh.model.json")
    r = run("convert", other, folder, "--force")
    check(r.returncode == 0, f"--force over a checkpoint folder: exit {r.returncode}, {r.stderr!r}")
    with open(os.path.join(folder, "config.json")) as f:
        check(json.load(f)["vocab_size"] == 27, "--force did not replace the folder")
    leftovers = [n for n in os.listdir(WORK) if n.startswith(".refuse_folder.tmp")]
    check(leftovers == [], f"staging folders left after --force: {leftovers}")

    r = run("convert", folder, folder, "--force")
    check(r.returncode == 2 and "refusing" in r.stderr, f"OUT = IN folder: exit {r.returncode}, {r.stderr!r}")
    r = run("convert", folder, os.path.join(folder, "config.json"), "--force")
    check(r.returncode == 2 and "refusing" in r.stderr, f"OUT = the input's config.json: exit {r.returncode}")
    r = run("convert", model, os.path.join(WORK, "x.safetensors"))
    check(r.returncode == 2 and "folder" in r.stderr, f"OUT .safetensors: exit {r.returncode}")

    # A write that fails in the middle. model.safetensors of english-kjv is 9.6 MB, the
    # config 0.4 KB: a 1 MB file size limit lets config.json through and stops the weights.
    big = os.path.join(SRC, "models", "english-kjv.json")

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    fresh = os.path.join(WORK, "midway")
    shutil.rmtree(fresh, ignore_errors=True)
    for p in os.listdir(WORK):
        if p.startswith(".midway"):
            shutil.rmtree(os.path.join(WORK, p))
    r = run("convert", big, fresh, preexec=limit)
    check(r.returncode == 1 and r.stderr.count("\n") == 1 and "model.safetensors" in r.stderr,
          f"failure midway: exit {r.returncode}, {r.stderr!r}")
    check(not os.path.exists(fresh), f"failure midway left {fresh}")
    check(not any(p.startswith(".midway") for p in os.listdir(WORK)), "staging folder left after an error")

    before = digest(folder)
    r = run("convert", big, folder, "--force", preexec=limit)
    check(r.returncode == 1, f"failure midway over an old folder: exit {r.returncode}")
    check(digest(folder) == before, "failure midway changed the old folder")

    before_json = open(out_json, "rb").read()
    r = run("convert", big, out_json, "--force", preexec=limit)
    check(r.returncode == 1, f"failure midway over a JSON file: exit {r.returncode}")
    check(open(out_json, "rb").read() == before_json, "failure midway changed the JSON file")
    check(not any(p.startswith(".refuse") for p in os.listdir(WORK)), "temporary files left beside the outputs")


def main():
    os.makedirs(WORK, exist_ok=True)
    models = sorted(os.path.join(SRC, "models", n) for n in os.listdir(os.path.join(SRC, "models"))
                    if n.endswith(".json") and not n.endswith(".train.json"))
    fixtures = []
    for d in ("tests/fixtures/ref", "tests/fixtures/broken"):
        for n in sorted(os.listdir(os.path.join(SRC, d))):
            if n.endswith(".model.json"):
                fixtures.append(os.path.join(SRC, d, n))
    check(len(models) == 3 and len(fixtures) >= 10, f"found {len(models)} models and {len(fixtures)} fixtures")
    for path in models + fixtures:
        roundtrip(path)
    if HF:
        from_reference_checkpoints()
    refusals()
    print(f"{checks} checks on {len(models)} models and {len(fixtures)} fixtures, {len(failures)} failed")
    sys.exit(1 if failures else 0)


main()
