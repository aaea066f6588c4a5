#!/usr/bin/python3
"""Small GPT-2 checkpoints in the Hugging Face hub's layout, and their PyTorch goldens.

Each variant is a folder exactly as the hub lays a GPT-2 checkpoint out: config.json (the
fields transformers writes for gpt2), model.safetensors, vocab.json + merges.txt (GPT-2's
real 50,257-token vocabulary: tests/fixtures/tokenizer/gpt2/encoder.json and vocab.bpe
under the hub's names, or tokenizer.json alone). The variants cover F32, F16 and BF16 tensors, names with and
without "transformer.", with and without the old causal-mask buffers (h.N.attn.bias,
h.N.attn.masked_bias), lm_head.weight absent, saved as a copy of wte (tied) or different
(untied), gelu_new and gelu, tokenizer.json with merges as "a b" and as ["a", "b"].

The weights are random from a fixed seed (numpy's PCG64, the same on every machine), so
the checkpoints (3-7 MB each, mostly the 50,257 x 16 embedding) are made at test time
and never committed; only the goldens are. A golden holds the sha256 of the
model.safetensors it was computed from, and `checkpoints` refuses to write a checkpoint
whose bytes differ from it.

The goldens are computed by tools/reference.py's model (float64 from the weights as
stored: F16/BF16 rounded first) on prompts whose ids come from tiktoken
(tests/fixtures/tokenizer/gpt2_cases.json), with <|endoftext|> (50256) in front, as
tiny-gpt's generate does for a model whose bos is <|endoftext|>.

  /usr/bin/python3 tools/reference_hf.py goldens --out tests/fixtures/hf       (needs torch)
  /usr/bin/python3 tools/reference_hf.py checkpoints --goldens tests/fixtures/hf --out DIR   (numpy only)
  /usr/bin/python3 tools/reference_hf.py gpt2-124m --out DIR [--dtype F16]   (GPT-2 small's shapes, for bench)

The safetensors writer here is written from the format's description (8-byte little-endian
header length, JSON header padded with spaces to 8 bytes, data back to back), sharing no
code with the engine's reader.
"""

import argparse
import hashlib
import json
import os
import shutil
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GPT2_DIR = os.path.join(ROOT, "tests", "fixtures", "tokenizer", "gpt2")
CASES_FILE = os.path.join(ROOT, "tests", "fixtures", "tokenizer", "gpt2_cases.json")
EOT = 50256

BASE = dict(vocab_size=50257, n_positions=32, n_embd=16, n_head=2, n_layer=2)
GPT2_124M = dict(vocab_size=50257, n_positions=1024, n_embd=768, n_head=12, n_layer=12)

# name, dtype, "transformer." prefix, mask buffers, lm_head (None | "copy" | "untied"),
# tokenizer ("files": vocab.json + merges.txt; "json-strings" / "json-pairs": tokenizer.json
# alone, its merges spelled "a b" or ["a", "b"]), config overrides, seed (found with --search: every greedy choice wins by MIN_MARGIN).
VARIANTS = [
    dict(name="f32_tied", dtype="F32", prefix=False, masks=False, lm_head=None, tokenizer="files", config={}, seed=101),
    dict(name="f32_prefixed_masks_headcopy", dtype="F32", prefix=True, masks=True, lm_head="copy", tokenizer="files",
         config={}, seed=201),
    dict(name="f16_prefixed", dtype="F16", prefix=True, masks=False, lm_head=None, tokenizer="json-strings", config={},
         seed=302),
    dict(name="bf16_masks_untied_gelu", dtype="BF16", prefix=False, masks=True, lm_head="untied", tokenizer="json-pairs",
         config={"activation_function": "gelu", "tie_word_embeddings": False}, seed=401),
]
MIN_MARGIN = 1e-3
NEW_TOKENS = 8


def hub_config(overrides, base=BASE):
    """config.json as transformers writes it for GPT-2 (n_inner null: 4 x n_embd)."""
    c = {
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
        "bos_token_id": EOT, "embd_pdrop": 0.1, "eos_token_id": EOT, "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": base["n_positions"], "n_embd": base["n_embd"],
        "n_head": base["n_head"], "n_inner": None, "n_layer": base["n_layer"], "n_positions": base["n_positions"],
        "reorder_and_upcast_attn": False, "resid_pdrop": 0.1, "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True, "summary_activation": None, "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True, "summary_type": "cls_index", "summary_use_proj": True,
        "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
        "transformers_version": "4.26.0", "use_cache": True, "vocab_size": base["vocab_size"],
    }
    c.update(overrides)
    return c


def shapes(base=BASE):
    V, C, D = base["vocab_size"], base["n_positions"], base["n_embd"]
    F = 4 * D
    out = {"wte.weight": [V, D], "wpe.weight": [C, D]}
    for i in range(base["n_layer"]):
        p = f"h.{i}."
        out.update({p + "ln_1.weight": [D], p + "ln_1.bias": [D], p + "attn.c_attn.weight": [D, 3 * D],
                    p + "attn.c_attn.bias": [3 * D], p + "attn.c_proj.weight": [D, D], p + "attn.c_proj.bias": [D],
                    p + "ln_2.weight": [D], p + "ln_2.bias": [D], p + "mlp.c_fc.weight": [D, F],
                    p + "mlp.c_fc.bias": [F], p + "mlp.c_proj.weight": [F, D], p + "mlp.c_proj.bias": [D]})
    out.update({"ln_f.weight": [D], "ln_f.bias": [D]})
    return out


def round_to(arr, dtype):
    """float32 values as the checkpoint stores them (F16: IEEE half, BF16: rounded to
    nearest even on the top 16 bits), back as float32, plus the raw bytes."""
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if dtype == "F32":
        return arr, arr.astype("<f4").tobytes()
    if dtype == "F16":
        h = arr.astype("<f2")
        return h.astype(np.float32), h.tobytes()
    bits = arr.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
    return (rounded.astype(np.uint32) << 16).view(np.float32), rounded.tobytes()


def make_weights(variant, seed, base=BASE, std=0.3):
    """{our name: float32 array as stored}, {checkpoint name: (dtype, shape, bytes)}."""
    rng = np.random.Generator(np.random.PCG64(seed))
    values, stored = {}, {}
    prefix = "transformer." if variant["prefix"] else ""
    for name, shape in shapes(base).items():
        ln = name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight"))
        arr = (1.0 if ln else 0.0) + std * rng.standard_normal(shape)
        values[name], raw = round_to(arr, variant["dtype"])
        stored[prefix + name] = (variant["dtype"], shape, raw)
    if variant["lm_head"] == "copy":  # as transformers before safetensors' dedup saved a tied head
        stored["lm_head.weight"] = (variant["dtype"], shapes(base)["wte.weight"], stored[prefix + "wte.weight"][2])
    elif variant["lm_head"] == "untied":
        head = 0.3 * rng.standard_normal(shapes(base)["wte.weight"])
        values["lm_head.weight"], raw = round_to(head, variant["dtype"])
        stored["lm_head.weight"] = (variant["dtype"], shapes(base)["wte.weight"], raw)
    if variant["masks"]:  # the old buffers: a float lower-triangular mask and a scalar
        C = base["n_positions"]
        mask = np.tril(np.ones((C, C), dtype=np.float32)).reshape(1, 1, C, C)
        for i in range(base["n_layer"]):
            stored[f"{prefix}h.{i}.attn.bias"] = ("F32", [1, 1, C, C], mask.astype("<f4").tobytes())
            stored[f"{prefix}h.{i}.attn.masked_bias"] = ("F32", [], np.array(-1e4, dtype="<f4").tobytes())
    return values, stored


def safetensors_bytes(stored, metadata):
    """Tensors sorted by name, back to back; the header padded with spaces to 8 bytes."""
    header, data, at = {"__metadata__": metadata}, [], 0
    for name in sorted(stored):
        dtype, shape, raw = stored[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [at, at + len(raw)]}
        data.append(raw)
        at += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(data)


def write_checkpoint(folder, variant, seed, base=BASE, std=0.3):
    """Writes the folder; returns (values, sha256 of model.safetensors)."""
    values, stored = make_weights(variant, seed, base, std)
    blob = safetensors_bytes(stored, {"format": "pt"})
    shutil.rmtree(folder, ignore_errors=True)  # no file of an earlier layout may stay behind
    os.makedirs(folder)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(blob)
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
        json.dump(hub_config(variant["config"], base), f, indent=2)
        f.write("\n")
    if variant.get("tokenizer", "files") == "files":
        shutil.copyfile(os.path.join(GPT2_DIR, "encoder.json"), os.path.join(folder, "vocab.json"))
        shutil.copyfile(os.path.join(GPT2_DIR, "vocab.bpe"), os.path.join(folder, "merges.txt"))
    else:
        with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer_json(pairs=variant["tokenizer"] == "json-pairs"), f, ensure_ascii=False)
    return values, hashlib.sha256(blob).hexdigest()


def tokenizer_json(pairs):
    """GPT-2's tokenizer as the hub's tokenizer.json lays it out (tokenizers' BPE model with
    the ByteLevel pre-tokenizer; <|endoftext|> also listed as an added token)."""
    with open(os.path.join(GPT2_DIR, "encoder.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(GPT2_DIR, "vocab.bpe"), encoding="utf-8") as f:
        lines = [ln.rstrip("\n") for ln in f if not ln.startswith("#version")]
    merges = [ln.split(" ") if pairs else ln for ln in lines if ln]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": EOT, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": True, "special": True}],
        "normalizer": None, "pre_tokenizer": byte_level, "post_processor": dict(byte_level, trim_offsets=False),
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": merges},
    }


def prompts():
    """(text, tiktoken ids): the empty prompt and two English lines from the tokenizer fixture."""
    with open(CASES_FILE, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    english = [c for c in cases if c["category"] == "english" and 5 <= len(c["ids"]) <= 10]
    return [("", [])] + [(c["text"], c["ids"]) for c in english[:2]]


def goldens(out, search):
    sys.path.insert(0, HERE)
    import torch
    import bpe_train  # GPT-2's byte <-> printable character table
    import reference

    torch.set_num_threads(1)
    with open(os.path.join(GPT2_DIR, "encoder.json"), encoding="utf-8") as f:
        encoder = json.load(f)
    id_to_token = {i: t for t, i in encoder.items()}
    to_byte = {ch: b for b, ch in bpe_train.bytes_to_unicode().items()}
    tokenizer = {"type": "byte_bpe", "vocab": encoder, "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}

    def text_of(ids):
        return bytes(to_byte[ch] for i in ids if i != EOT for ch in id_to_token[i]).decode("utf-8", "replace")

    class Gpt2Model(reference.Model):
        def decode(self, ids):  # the reference decodes char vocabularies only
            return text_of(ids)

    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, ".checkpoint-tmp")
    for variant in VARIANTS:
        seed = variant["seed"]
        while True:
            values, digest = write_checkpoint(tmp, variant, seed)
            cfg = hub_config(variant["config"])
            ours = {"vocab_size": cfg["vocab_size"], "n_ctx": cfg["n_positions"], "n_embd": cfg["n_embd"],
                    "n_head": cfg["n_head"], "n_layer": cfg["n_layer"],
                    "activation": "gelu_tanh" if cfg["activation_function"] == "gelu_new" else cfg["activation_function"],
                    "layer_norm_epsilon": cfg["layer_norm_epsilon"],
                    "tie_word_embeddings": variant["lm_head"] != "untied"}
            model = Gpt2Model(ours, tokenizer, values)
            runs, worst = [], float("inf")
            for text, ids in prompts():
                g = model.greedy([EOT] + ids, NEW_TOKENS)
                worst = min([worst] + g["margins"])
                runs.append({"prompt": text, "input_ids": [EOT] + ids, "max_new_tokens": NEW_TOKENS, "ids": g["ids"],
                             "stop_reason": g["stop_reason"], "logprobs": g["logprobs"], "text": text_of(g["ids"])})
            if worst >= MIN_MARGIN:
                break
            if not search:
                raise SystemExit(f"{variant['name']} (seed {seed}): greedy margin {worst:.2e} < {MIN_MARGIN}; "
                                 "re-run with --search and update VARIANTS")
            seed += 1
        golden = {"generator": "tools/reference_hf.py goldens", "name": variant["name"], "seed": seed,
                  "dtype": variant["dtype"], "transformer_prefix": variant["prefix"], "mask_buffers": variant["masks"],
                  "lm_head": variant["lm_head"] or "absent", "tokenizer": variant["tokenizer"], "config": variant["config"],
                  "model_safetensors_sha256": digest, "min_margin": worst, "runs": runs}
        with open(os.path.join(out, variant["name"] + ".golden.json"), "w", encoding="utf-8") as f:
            json.dump(golden, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(f"{variant['name']}: seed {seed}{' (CHANGED)' if seed != variant['seed'] else ''}, "
              f"min margin {worst:.3g}", file=sys.stderr)
    shutil.rmtree(tmp)


def checkpoints(golden_dir, out):
    for variant in VARIANTS:
        with open(os.path.join(golden_dir, variant["name"] + ".golden.json"), encoding="utf-8") as f:
            golden = json.load(f)
        _, digest = write_checkpoint(os.path.join(out, variant["name"]), variant, golden["seed"])
        if digest != golden["model_safetensors_sha256"]:
            raise SystemExit(f"{variant['name']}: model.safetensors differs from the one the golden was computed on "
                             f"({digest} != {golden['model_safetensors_sha256']})")
    print(f"wrote {len(VARIANTS)} checkpoints to {out}", file=sys.stderr)


def gpt2_124m(out, dtype):
    """GPT-2 small's shapes with random weights (std 0.02, as its initialisation), tied, for
    timing loads and decoding; about 500 MB in F32."""
    variant = dict(name="gpt2-124m", dtype=dtype, prefix=False, masks=False, lm_head=None, config={})
    write_checkpoint(out, variant, 124, GPT2_124M, std=0.02)
    print(f"wrote {out}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("goldens", help="compute the goldens (needs torch)")
    g.add_argument("--out", required=True)
    g.add_argument("--search", action="store_true", help="try following seeds until the margins hold")
    c = sub.add_parser("checkpoints", help="write the checkpoint folders the goldens were computed on")
    c.add_argument("--goldens", required=True)
    c.add_argument("--out", required=True)
    b = sub.add_parser("gpt2-124m", help="write a checkpoint with GPT-2 small's shapes (random weights)")
    b.add_argument("--out", required=True)
    b.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    args = ap.parse_args()
    if args.cmd == "gpt2-124m":
        gpt2_124m(args.out, args.dtype)
    elif args.cmd == "goldens":
        goldens(args.out, args.search)
    else:
        checkpoints(args.goldens, args.out)


if __name__ == "__main__":
    main()
