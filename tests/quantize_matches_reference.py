#!/usr/bin/python3
"""`tiny-gpt quantize`, checked from outside the engine.

  quantize_matches_reference.py BINARY SOURCE_DIR WORK_DIR

For every weights JSON fixture and the shipped models, and both reduced types: the file
`tiny-gpt quantize` writes is read here (JSON and base64, no engine code) and every reduced
tensor's bytes must be exactly what tools/reference.py's quantiser (numpy, written from
include/tinygpt/weight_type.h) makes of the float32 tensor: f16 bit patterns as numpy's
float16 rounding gives them; q8_0 blocks of 32 along each output's inputs, the scale's
binary16 bits and the 32 signed bytes. Every other tensor must be the input's float32 bits,
the file version 2, the config and tokenizer unchanged.
"""

import base64
import json
import os
import subprocess
import sys

import numpy as np

BIN, SRC, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
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


def is_conv1d(name):
    return name.endswith(("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"))


def expected_bytes(name, w, weight_type):
    """The bytes weight_type.h defines for float32 tensor `name` (as the file's shape)."""
    rows = np.asarray(w, dtype=np.float32)
    rows = rows.T if is_conv1d(name) else rows  # [out, in]: blocks run along `in`
    if weight_type == "f16":
        return np.ascontiguousarray(rows.astype("<f2")).tobytes()
    scale, q, _ = reference.q8_blocks(rows)
    n, nb = scale.shape
    out = np.zeros((n, nb, 34), dtype=np.uint8)
    out[:, :, :2] = scale.astype("<f2").view(np.uint8).reshape(n, nb, 2)
    out[:, :, 2:] = q.astype(np.int8).view(np.uint8)
    return out.tobytes()


os.makedirs(WORK, exist_ok=True)
fixtures = os.path.join(SRC, "tests", "fixtures", "ref")
models = [os.path.join(fixtures, f) for f in sorted(os.listdir(fixtures)) if f.endswith(".model.json")]
models += [os.path.join(SRC, "models", f) for f in ("english-kjv.json", "tang-poems.json", "demo-tiny.json")]
reducible = 0
for path in models:
    src = json.load(open(path, encoding="utf-8"))
    cfg, tok, tensors = reference.load(path)
    for weight_type in ("f16", "q8_0"):
        out = os.path.join(WORK, os.path.basename(path).replace(".json", f".{weight_type}.json"))
        if os.path.exists(out):
            os.remove(out)
        r = subprocess.run([BIN, "quantize", path, out, "--type", weight_type], capture_output=True, text=True)
        check(r.returncode == 0 and r.stdout == "", f"{path} {weight_type}: exit {r.returncode} {r.stderr}")
        if r.returncode != 0:
            continue
        q = json.load(open(out, encoding="utf-8"))
        what = f"{os.path.basename(path)} {weight_type}"
        check(q["format"] == "tiny-gpt" and q["version"] == 2, f"{what}: format/version {q['format']} {q['version']}")
        check(reference.normalized_config(q["config"]) == reference.normalized_config(src["config"]), f"{what}: config")
        check(q["tokenizer"] == src["tokenizer"], f"{what}: tokenizer")
        check(set(q["tensors"]) == set(tensors), f"{what}: tensor names")
        for name, w in tensors.items():
            t = q["tensors"][name]
            raw = base64.b64decode(t["b64"])
            check(t["shape"] == list(w.shape), f"{what} {name}: shape {t['shape']}")
            if is_conv1d(name) or name == "lm_head.weight":
                reducible += 1
                check(t["dtype"] == weight_type, f"{what} {name}: dtype {t['dtype']}")
                want = expected_bytes(name, w, weight_type)
                same = raw == want
                if not same and len(raw) == len(want):
                    diff = np.nonzero(np.frombuffer(raw, np.uint8) != np.frombuffer(want, np.uint8))[0]
                    print(f"{what} {name}: {len(diff)} bytes differ, first at {diff[0]}")
                check(same, f"{what} {name}: bytes differ from the reference's {weight_type} ({len(raw)} vs {len(want)})")
            else:
                check(t["dtype"] == "f32", f"{what} {name}: dtype {t['dtype']}")
                check(raw == np.ascontiguousarray(w, dtype="<f4").tobytes(), f"{what} {name}: float32 bits changed")

check(reducible >= 100, f"only {reducible} reduced tensors compared")
print(f"{checks} checks, {reducible} reduced tensors compared byte for byte, {len(failures)} failures")
sys.exit(1 if failures else 0)
