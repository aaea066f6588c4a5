#!/usr/bin/python3
"""Independent PyTorch reference for tiny-gpt's weights format (JSON, version 1).

This file shares no code with the C++ engine.  It is meant to be the simple,
readable truth that the engine's golden tests are generated from:

  * load(path) / save(path, ...)   read and write model files (both tensor forms)
  * Model(...).forward(ids)        logits [T, V] and attention probabilities
                                   [L][H][T][T], computed in float64 from the
                                   float32 weights
  * Model(...).encode(text)        the `char` tokenizer (ordinary text only)
  * Model(...).greedy(ids, N)      greedy decoding with the spec's stopping rules

Command line:

  /usr/bin/python3 tools/reference.py make-fixtures --out tests/fixtures/ref
  /usr/bin/python3 tools/reference.py make-sampling-fixtures --out tests/fixtures/sampling
  /usr/bin/python3 tools/reference.py make-chain-model --out tests/fixtures/sampling/chain_bpe.model.json
  /usr/bin/python3 tools/reference.py check MODEL.json --ids 1,2,3
  /usr/bin/python3 tools/reference.py check MODEL.json --prompt "hello" [--greedy 10] [--attention]
"""

import argparse
import base64
import json
import math
import os
import sys

import numpy as np
import torch

FORMAT = "tiny-gpt"
VERSION = 1

CONFIG_DEFAULTS = {
    "positional": "learned",
    "activation": "gelu_tanh",
    "layer_norm_epsilon": 1e-5,
    "tie_word_embeddings": True,
}
REQUIRED_CONFIG = ("vocab_size", "n_ctx", "n_embd", "n_head", "n_layer")
OPTIONAL_CONFIG = ("n_inner",) + tuple(CONFIG_DEFAULTS)


class FormatError(Exception):
    pass


# ---------------------------------------------------------------------------
# Loading and saving
# ---------------------------------------------------------------------------

def normalized_config(raw):
    """The config with every default filled in (raw is the dict from the file)."""
    for key in REQUIRED_CONFIG:
        if key not in raw:
            raise FormatError(f"config.{key}: missing")
    for key in raw:
        if key not in REQUIRED_CONFIG and key not in OPTIONAL_CONFIG:
            raise FormatError(f"config.{key}: unknown field")
    cfg = dict(CONFIG_DEFAULTS)
    cfg.update(raw)
    if "n_inner" not in cfg or cfg["n_inner"] is None:
        cfg["n_inner"] = 4 * cfg["n_embd"]
    for key in ("vocab_size", "n_ctx", "n_embd", "n_head", "n_layer", "n_inner"):
        v = cfg[key]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise FormatError(f"config.{key}: expected a positive integer, found {v!r}")
    if cfg["n_embd"] % cfg["n_head"] != 0:
        raise FormatError(f"config.n_embd ({cfg['n_embd']}) is not divisible by config.n_head ({cfg['n_head']})")
    if cfg["positional"] not in ("learned", "sinusoidal"):
        raise FormatError(f"config.positional: expected learned|sinusoidal, found {cfg['positional']!r}")
    if cfg["activation"] not in ("gelu_tanh", "gelu", "relu"):
        raise FormatError(f"config.activation: expected gelu_tanh|gelu|relu, found {cfg['activation']!r}")
    eps = cfg["layer_norm_epsilon"]
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps <= 0:
        raise FormatError(f"config.layer_norm_epsilon: expected a positive number, found {eps!r}")
    if not isinstance(cfg["tie_word_embeddings"], bool):
        raise FormatError("config.tie_word_embeddings: expected true or false")
    return cfg


def expected_shapes(cfg):
    """Tensor name -> shape, in the canonical (file) order."""
    V, C, D, F = cfg["vocab_size"], cfg["n_ctx"], cfg["n_embd"], cfg["n_inner"]
    shapes = {"wte.weight": [V, D]}
    if cfg["positional"] == "learned":
        shapes["wpe.weight"] = [C, D]
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        shapes[p + "ln_1.weight"] = [D]
        shapes[p + "ln_1.bias"] = [D]
        shapes[p + "attn.c_attn.weight"] = [D, 3 * D]
        shapes[p + "attn.c_attn.bias"] = [3 * D]
        shapes[p + "attn.c_proj.weight"] = [D, D]
        shapes[p + "attn.c_proj.bias"] = [D]
        shapes[p + "ln_2.weight"] = [D]
        shapes[p + "ln_2.bias"] = [D]
        shapes[p + "mlp.c_fc.weight"] = [D, F]
        shapes[p + "mlp.c_fc.bias"] = [F]
        shapes[p + "mlp.c_proj.weight"] = [F, D]
        shapes[p + "mlp.c_proj.bias"] = [D]
    shapes["ln_f.weight"] = [D]
    shapes["ln_f.bias"] = [D]
    if not cfg["tie_word_embeddings"]:
        shapes["lm_head.weight"] = [V, D]
    return shapes


def _flatten(data):
    """Row-major flattening; accepts a flat list or nested lists."""
    out = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def decode_tensor(name, obj):
    if "shape" not in obj:
        raise FormatError(f"tensor {name}: missing shape")
    shape = list(obj["shape"])
    count = int(np.prod(shape)) if shape else 1
    if "b64" in obj:
        dtype = obj.get("dtype", "f32")
        if dtype != "f32":
            raise FormatError(f"tensor {name}: dtype: expected f32, found {dtype!r}")
        raw = base64.b64decode(obj["b64"], validate=True)
        if len(raw) != 4 * count:
            raise FormatError(f"tensor {name}: b64 holds {len(raw)} bytes, expected {4 * count}")
        arr = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    elif "data" in obj:
        flat = _flatten(obj["data"])
        if len(flat) != count:
            raise FormatError(f"tensor {name}: data holds {len(flat)} numbers, expected {count}")
        for v in flat:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise FormatError(f"tensor {name}: non-numeric element {v!r}")
        arr = np.array(flat, dtype=np.float64).astype(np.float32)
    else:
        raise FormatError(f"tensor {name}: neither data nor b64")
    if not np.all(np.isfinite(arr)):
        raise FormatError(f"tensor {name}: non-finite number")
    return arr.reshape(shape)


def check_tokenizer(tok, cfg):
    t = tok.get("type")
    if t == "char":
        vocab = tok["vocab"]
        if not isinstance(vocab, list):
            raise FormatError("tokenizer.vocab: a char vocabulary must be a list")
        special = {tok[k] for k in ("bos_token", "eos_token", "unk_token") if tok.get(k) is not None}
        for s in special:
            if s not in vocab:
                raise FormatError(f"tokenizer: special token {s!r} is not in the vocabulary")
        for i, entry in enumerate(vocab):
            if entry not in special and len(entry) != 1:
                raise FormatError(f"tokenizer.vocab[{i}]: {entry!r} is not one code point")
        n = len(vocab)
    elif t == "byte_bpe":
        vocab = tok["vocab"]
        if not isinstance(vocab, dict):
            raise FormatError("tokenizer.vocab: a byte_bpe vocabulary must be an object {token: id}")
        n = len(vocab)
    else:
        raise FormatError(f"tokenizer.type: expected char|byte_bpe, found {t!r}")
    if cfg["vocab_size"] < n:
        raise FormatError(f"config.vocab_size ({cfg['vocab_size']}) is smaller than the tokenizer vocabulary ({n})")


def load(path):
    """Returns (config with defaults filled in, tokenizer dict, {name: float32 ndarray})."""
    with open(path, "r", encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("format") != FORMAT:
        raise FormatError(f"{path}: format: expected {FORMAT!r}, found {doc.get('format')!r}")
    if doc.get("version") != VERSION:
        raise FormatError(f"{path}: version: expected {VERSION}, found {doc.get('version')!r}")
    cfg = normalized_config(doc["config"])
    tok = doc["tokenizer"]
    check_tokenizer(tok, cfg)
    shapes = expected_shapes(cfg)
    tensors = {}
    for name, obj in doc["tensors"].items():
        if name not in shapes:
            raise FormatError(f"{path}: tensor {name}: not called for by the config")
        arr = decode_tensor(name, obj)
        if list(arr.shape) != shapes[name]:
            raise FormatError(f"{path}: tensor {name}: shape {list(arr.shape)}, expected {shapes[name]}")
        tensors[name] = arr
    for name in shapes:
        if name not in tensors:
            raise FormatError(f"{path}: tensor {name}: missing")
    return cfg, tok, tensors


def encode_tensor(arr, form):
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    out = {"shape": list(arr.shape)}
    if form == "data":
        # float32 values printed as the float64 repr of their exact value: exact
        # whether the reader parses to float or to double.
        out["data"] = [float(v) for v in arr.reshape(-1)]
    elif form == "b64":
        out["dtype"] = "f32"
        out["b64"] = base64.b64encode(arr.astype("<f4").tobytes()).decode("ascii")
    elif form == "b64-nodtype":  # b64 relying on the default dtype (f32)
        out["b64"] = base64.b64encode(arr.astype("<f4").tobytes()).decode("ascii")
    else:
        raise ValueError(f"unknown tensor form {form!r}")
    return out


def save(path, config, tokenizer, tensors, form="data"):
    """Writes a model file.  `config` is written as given (omitted fields take the
    defaults); tensors are written in canonical order."""
    cfg = normalized_config(config)
    order = [n for n in expected_shapes(cfg) if n in tensors]
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "config": config,
        "tokenizer": tokenizer,
        "tensors": {n: encode_tensor(tensors[n], form) for n in order},
    }
    write_json(path, doc)


def _dump(obj, indent, level):
    """JSON with lists of scalars kept on one line (compact but diff-friendly)."""
    pad = " " * (indent * (level + 1))
    end = " " * (indent * level)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        if all(not isinstance(v, (dict, list)) or (isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v) and len(v) <= 8)
               for v in obj.values()) and len(obj) <= 8 and level > 0:
            return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))
        items = [pad + json.dumps(k, ensure_ascii=False) + ": " + _dump(v, indent, level + 1) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(obj, list):
        if all(not isinstance(x, (dict, list)) for x in obj):
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        items = [pad + _dump(x, indent, level + 1) for x in obj]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def write_json(path, obj):
    text = _dump(obj, 1, 0) + "\n"
    json.loads(text)  # self-check: valid JSON
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------

def layer_norm(x, w, b, eps):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # biased variance, as torch/HF
    return (x - mean) / torch.sqrt(var + eps) * w + b


def activation(name, x):
    if name == "gelu_tanh":
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "gelu":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name == "relu":
        return torch.clamp(x, min=0.0)
    raise ValueError(name)


def sinusoidal_table(n_ctx, d, dtype=torch.float64):
    """PE[p, 2i] = sin(p / 10000^(2i/D)), PE[p, 2i+1] = cos(same); odd D: the last
    (even) column gets sin only."""
    pe = torch.zeros(n_ctx, d, dtype=dtype)
    for p in range(n_ctx):
        for j in range(d):
            two_i = j - (j % 2)
            angle = p / (10000.0 ** (two_i / d))
            pe[p, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return pe


# ---------------------------------------------------------------------------
# Sampling, as specified (src/sampler.cpp, src/penalties.cpp): xoshiro256** seeded by
# splitmix64, one uniform draw in [0, 1) with 53 bits per sampled token. Each step: the
# penalties on the raw logits (repeat penalty over the last repeat_last_n ids of the
# context, prompt and bos included: l / R if l > 0 else l * R; then OpenAI's
# l -= count * F + (count > 0) * P over the generated ids), then softmax(logits / T),
# top-k (ties: lower id), top-p (the smallest prefix whose cumulative probability reaches
# p), min-p (keep p >= min_p * the top probability), renormalised at each cut, then the
# draw. Temperature 0 or top-k 1 is the argmax of the penalised logits.
# ---------------------------------------------------------------------------

MASK64 = (1 << 64) - 1


class Rng:
    def __init__(self, seed):
        self.s = []
        x = seed & MASK64
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK64

    def next(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53


def apply_penalties(logits, context, n_prompt, repeat_penalty=1.0, repeat_last_n=64, frequency_penalty=0.0,
                    presence_penalty=0.0):
    """The logits after the penalties (a new list). `context`: every id the model has seen,
    the prompt's n_prompt ids (bos included) first, then the generated ones."""
    out = list(logits)
    n = len(out)
    if repeat_penalty != 1 and repeat_last_n > 0:
        for i in set(context[-repeat_last_n:]):  # once per token, however often it occurs
            if i < n:
                out[i] = out[i] / repeat_penalty if out[i] > 0 else out[i] * repeat_penalty
    if frequency_penalty != 0 or presence_penalty != 0:
        counts = {}
        for i in context[n_prompt:]:
            counts[i] = counts.get(i, 0) + 1
        for i, c in counts.items():
            if i < n:
                out[i] -= c * frequency_penalty + presence_penalty
    return out


def filter_candidates(logits, temperature, top_k, top_p, min_p=0.0):
    """[(id, prob)], most likely first: what the draw picks from."""
    order = sorted(range(len(logits)), key=lambda i: (-logits[i], i))
    if temperature == 0 or top_k == 1:
        return [(order[0], 1.0)]
    if top_k > 0:
        order = order[:top_k]
    top = logits[order[0]]
    weights = [math.exp((logits[i] - top) / temperature) for i in order]
    total = sum(weights)
    cands = [(i, wt / total) for i, wt in zip(order, weights)]
    if top_p < 1:
        kept, cumulative = [], 0.0
        for c in cands:
            kept.append(c)
            cumulative += c[1]
            if cumulative >= top_p:
                break
        cands = [(i, p / cumulative) for i, p in kept]
    if min_p > 0:
        threshold = min_p * cands[0][1]
        kept = [(i, p) for i, p in cands if p >= threshold]
        total = sum(p for _, p in kept)
        cands = [(i, p / total) for i, p in kept]
    return cands


def draw(cands, u):
    """The id the uniform number u picks from the candidates (the engine's walk)."""
    cumulative = 0.0
    for i, q in cands:
        cumulative += q
        if u < cumulative:
            return i
    return cands[-1][0]


def reference_sampling(logits, temperature, top_k, top_p, seed, shown):
    """The sampling step of `tiny-gpt trace --json` for these logits (the real ids only)."""
    greedy = temperature == 0 or top_k == 1
    stage = lambda k, p: [{"id": i, "prob": q} for i, q in filter_candidates(logits, temperature, k, p)[:shown]]
    final = filter_candidates(logits, temperature, top_k, top_p)
    out = {"greedy": greedy, "after_temperature": stage(0, 1.0), "after_top_k": stage(top_k, 1.0),
           "after_top_p": [{"id": i, "prob": q} for i, q in final[:shown]], "candidates": len(final)}
    if greedy:
        out.update(draw=None, chosen={"id": final[0][0]})
        return out
    u = Rng(seed).uniform()
    out.update(draw=u, chosen={"id": draw(final, u)})
    return out


# ---------------------------------------------------------------------------
# Reduced weights (include/tinygpt/weight_type.h), from that header's definitions, in numpy
# float32 arithmetic where the definition says float32
# ---------------------------------------------------------------------------

Q8_BLOCK = 32
FLT_MIN = np.float32(np.finfo(np.float32).tiny)


def q8_blocks(rows):
    """rows [n, k] -> (scale [n, nb] float32, q [n, nb, 32] int): blocks of 32 along k,
    zero-padded; scale = amax / 127, q = round_half_even(x * (1 / scale)), 0 when
    scale < FLT_MIN.  Also returns each value's distance to a rounding boundary (a
    half-integer) as the margin [n, nb, 32]."""
    rows = np.asarray(rows, dtype=np.float32)
    n, k = rows.shape
    nb = -(-k // Q8_BLOCK)
    padded = np.zeros((n, nb * Q8_BLOCK), dtype=np.float32)
    padded[:, :k] = rows
    b = padded.reshape(n, nb, Q8_BLOCK)
    amax = np.max(np.abs(b), axis=2)
    scale = (amax / np.float32(127)).astype(np.float32)
    ok = scale >= FLT_MIN
    inv = np.where(ok, np.float32(1) / np.where(ok, scale, np.float32(1)), np.float32(0)).astype(np.float32)
    v = (b * inv[:, :, None]).astype(np.float32)
    q = np.clip(np.rint(v), -127, 127)
    margin = np.abs(np.abs(v - np.floor(v)) - np.float32(0.5))
    margin = np.where(ok[:, :, None], margin, np.inf)
    return np.where(ok, scale, np.float32(0)), q.astype(np.int64), margin


def reduced_weight(w_in_out, weight_type):
    """A linear weight [in, out] -> what it runs as: f16 -> the float64 values of its
    binary16 rounding; q8_0 -> (scale as binary16 [out, nb], q [out, nb, 32])."""
    w = np.asarray(w_in_out, dtype=np.float32).T  # [out, in]: blocks run along `in`
    if weight_type == "f16":
        if np.any(np.abs(w) >= 65520):
            raise ValueError("a weight does not fit binary16")
        return w.astype(np.float16).astype(np.float64).T
    scale, q, _ = q8_blocks(w)
    return scale.astype(np.float16).astype(np.float64), q


class Model:
    def __init__(self, config, tokenizer, tensors, weight_type="f32"):
        self.cfg = normalized_config(config)
        self.tok = tokenizer
        self.tensors = tensors
        # f32, or a reduced type: the linear layers and the output projection run in it
        self.weight_type = weight_type
        self._reduced = {}
        self.q8_margin = float("inf")  # smallest distance of a q8_0 input to a rounding boundary
        check_tokenizer(tokenizer, self.cfg)
        c = self.cfg
        self.V, self.C, self.D, self.H, self.L = c["vocab_size"], c["n_ctx"], c["n_embd"], c["n_head"], c["n_layer"]
        # Token ids the tokenizer knows; higher ids are padding and are never chosen.
        self.n_real = len(tokenizer["vocab"])
        self.bos = self._special_id("bos_token")
        self.eos = self._special_id("eos_token")
        self.unk = self._special_id("unk_token")
        self.special_ids = {i for i in (self.bos, self.eos, self.unk) if i is not None}
        if tokenizer["type"] == "char":
            self.char_to_id = {}
            for i, entry in enumerate(tokenizer["vocab"]):
                if i not in self.special_ids:
                    self.char_to_id.setdefault(entry, i)

    @classmethod
    def from_file(cls, path):
        return cls(*load(path))

    def _special_id(self, key):
        s = self.tok.get(key)
        if s is None:
            return None
        vocab = self.tok["vocab"]
        return vocab.index(s) if isinstance(vocab, list) else vocab[s]

    # -- tokenizer ---------------------------------------------------------
    def encode(self, text):
        """Ordinary text -> ids (one code point per token; never a special token)."""
        if self.tok["type"] != "char":
            raise NotImplementedError("the reference encodes char vocabularies only")
        ids = []
        for ch in text:
            if ch in self.char_to_id:
                ids.append(self.char_to_id[ch])
            elif self.unk is not None:
                ids.append(self.unk)
            else:
                raise ValueError(f"character {ch!r} (U+{ord(ch):04X}) is not in the vocabulary and there is no unk_token")
        return ids

    def input_ids(self, text):
        """What generate/attention-dump feed the model: bos (if any) + the text's ids."""
        return ([self.bos] if self.bos is not None else []) + self.encode(text)

    def decode(self, ids):
        """Generated text: special tokens (and padded ids) left out."""
        vocab = self.tok["vocab"]
        return "".join(vocab[i] for i in ids if i not in self.special_ids and i < self.n_real)

    # -- forward -----------------------------------------------------------
    def _w(self, name, dtype):
        return torch.from_numpy(self.tensors[name]).to(dtype)

    def _linear(self, h, name, dtype, transposed=False):
        """h [T, in] times the weight `name` ([in, out]; [out, in] when `transposed`, as
        the output projection), in the model's weight type."""
        w = self.tensors[name]
        if transposed:
            w = w.T
        if self.weight_type == "f32":
            return h @ torch.from_numpy(np.ascontiguousarray(w)).to(dtype)
        key = (name, transposed)
        if key not in self._reduced:
            self._reduced[key] = reduced_weight(w, self.weight_type)
        r = self._reduced[key]
        if self.weight_type == "f16":
            return h @ torch.from_numpy(r).to(dtype)
        # q8_0: the input quantised per block in float32, each block's integer dot product
        # exact, scaled by both scales
        wd, wq = r
        xd, xq, margin = q8_blocks(h.detach().numpy().astype(np.float32))
        if margin.size:
            self.q8_margin = min(self.q8_margin, float(np.min(margin)))
        isum = np.einsum("tbi,obi->tob", xq, wq).astype(np.float64)  # exact: |sum| < 2^20
        out = np.einsum("tob,ob,tb->to", isum, wd, xd.astype(np.float64))
        return torch.from_numpy(out).to(dtype)

    def forward(self, ids, dtype=torch.float64):
        """Returns (logits [T, V], attention [L][H][T][T] as a tensor [L, H, T, T])."""
        ids = list(ids)
        T = len(ids)
        if T == 0 or T > self.C:
            raise ValueError(f"forward: {T} tokens, n_ctx is {self.C}")
        if any(not (0 <= i < self.V) for i in ids):
            raise ValueError("forward: id out of range")
        D, H = self.D, self.H
        hd = D // H
        eps = float(self.cfg["layer_norm_epsilon"])
        w = lambda n: self._w(n, dtype)

        idx = torch.tensor(ids, dtype=torch.long)
        x = w("wte.weight")[idx]
        if self.cfg["positional"] == "learned":
            x = x + w("wpe.weight")[:T]
        else:
            x = x + sinusoidal_table(T, D, dtype)
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)  # True above the diagonal
        attn_all = []
        for l in range(self.L):
            p = f"h.{l}."
            h = layer_norm(x, w(p + "ln_1.weight"), w(p + "ln_1.bias"), eps)
            qkv = self._linear(h, p + "attn.c_attn.weight", dtype) + w(p + "attn.c_attn.bias")  # [T, 3D]
            q, k, v = qkv[:, :D], qkv[:, D:2 * D], qkv[:, 2 * D:]
            heads_out, heads_att = [], []
            for hh in range(H):
                cols = slice(hh * hd, (hh + 1) * hd)
                scores = (q[:, cols] @ k[:, cols].T) / math.sqrt(hd)  # [T, T]
                scores = scores.masked_fill(causal, float("-inf"))
                att = torch.softmax(scores, dim=-1)
                heads_att.append(att)
                heads_out.append(att @ v[:, cols])
            y = torch.cat(heads_out, dim=1)  # [T, D], heads concatenated in order
            x = x + self._linear(y, p + "attn.c_proj.weight", dtype) + w(p + "attn.c_proj.bias")
            h = layer_norm(x, w(p + "ln_2.weight"), w(p + "ln_2.bias"), eps)
            m = activation(self.cfg["activation"],
                           self._linear(h, p + "mlp.c_fc.weight", dtype) + w(p + "mlp.c_fc.bias"))
            x = x + self._linear(m, p + "mlp.c_proj.weight", dtype) + w(p + "mlp.c_proj.bias")
            attn_all.append(torch.stack(heads_att))
        x = layer_norm(x, w("ln_f.weight"), w("ln_f.bias"), eps)
        head = "wte.weight" if self.cfg["tie_word_embeddings"] else "lm_head.weight"
        logits = self._linear(x, head, dtype, transposed=True)  # [T, V]
        return logits, torch.stack(attn_all)

    # -- one prediction, step by step (tiny-gpt trace) ------------------------
    def trace(self, ids, position=None, top=5, sampler=(0.8, 40, 0.95), seed=0, dtype=torch.float64):
        """Every intermediate of the prediction made at `position` (default: the last id),
        in the shape of `tiny-gpt trace --json`, computed from the definitions in float64.
        Padded ids (>= the tokenizer's size) are left out of every softmax, as the engine does."""
        ids = list(ids)
        P = len(ids) - 1 if position is None else position
        x_ids = ids[:P + 1]
        T, D, H = P + 1, self.D, self.H
        hd = D // H
        eps = float(self.cfg["layer_norm_epsilon"])
        w = lambda n: self._w(n, dtype)
        vec = lambda t: [float(v) for v in t]
        pos_table = w("wpe.weight")[:T] if self.cfg["positional"] == "learned" else sinusoidal_table(T, D, dtype)
        x = w("wte.weight")[torch.tensor(x_ids, dtype=torch.long)] + pos_table
        out_head = w("wte.weight") if self.cfg["tie_word_embeddings"] else w("lm_head.weight")

        def logprobs_of(row):  # final layer norm, logits, log-softmax over the real ids
            h = layer_norm(row, w("ln_f.weight"), w("ln_f.bias"), eps)
            logits = h @ out_head.T
            return h, logits, torch.log_softmax(logits[:self.n_real], dim=-1)

        def best(lp, logits=None):
            order = sorted(range(len(lp)), key=lambda i: (-float(lp[i]), i))[:top]
            return [dict({"id": i, "logprob": float(lp[i])}, **({"logit": float(logits[i])} if logits is not None else {}))
                    for i in order]

        tr = {"position": P,
              "embedding": {"token_id": ids[P], "token_row": vec(w("wte.weight")[ids[P]]),
                            "position_row": vec(pos_table[P]), "sum": vec(x[P])},
              "layers": []}
        for l in range(self.L):
            p = f"h.{l}."
            layer = {"layer": l, "input": vec(x[P])}
            h = layer_norm(x, w(p + "ln_1.weight"), w(p + "ln_1.bias"), eps)
            qkv = h @ w(p + "attn.c_attn.weight") + w(p + "attn.c_attn.bias")
            q, k, v = qkv[:, :D], qkv[:, D:2 * D], qkv[:, 2 * D:]
            heads, outs = [], []
            for hh in range(H):
                cols = slice(hh * hd, (hh + 1) * hd)
                scores = q[:, cols] @ k[:, cols].T  # raw q.k, [T, T]
                scaled = (scores / math.sqrt(hd)).masked_fill(
                    torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1), float("-inf"))
                att = torch.softmax(scaled, dim=-1)
                outs.append(att @ v[:, cols])
                heads.append({"head": hh, "q": vec(q[P, cols]), "k": [vec(k[j, cols]) for j in range(T)],
                              "v": [vec(v[j, cols]) for j in range(T)], "scores": vec(scores[P]),
                              "scale": 1.0 / math.sqrt(hd), "weights": vec(att[P]), "output": vec(outs[-1][P])})
            attn_output = torch.cat(outs, dim=1) @ w(p + "attn.c_proj.weight") + w(p + "attn.c_proj.bias")
            x = x + attn_output
            h2 = layer_norm(x, w(p + "ln_2.weight"), w(p + "ln_2.bias"), eps)
            m = activation(self.cfg["activation"], h2 @ w(p + "mlp.c_fc.weight") + w(p + "mlp.c_fc.bias"))
            mlp = m @ w(p + "mlp.c_proj.weight") + w(p + "mlp.c_proj.bias")
            x = x + mlp
            layer.update({"ln_1": vec(h[P]), "heads": heads, "attn_output": vec(attn_output[P]),
                          "residual_after_attn": vec((x - mlp)[P]), "ln_2": vec(h2[P]), "mlp_output": vec(mlp[P]),
                          "output": vec(x[P]), "lens_top": best(logprobs_of(x[P])[2])})
            tr["layers"].append(layer)
        final_ln, logits, lp = logprobs_of(x[P])
        tr["final_ln"] = vec(final_ln)
        tr["top"] = best(lp, logits)
        tr["entropy"] = float(-(lp.exp() * lp).sum())
        tr["sampling"] = reference_sampling([float(v) for v in logits[:self.n_real]], *sampler, seed, top)
        return tr

    # -- greedy decoding ---------------------------------------------------
    def greedy(self, input_ids, max_new_tokens):
        """input_ids already hold bos (if any) + the prompt's ids.

        Returns dict(ids, stop_reason, logprobs, text, margins); margins[i] is the
        gap between the chosen logit and the runner-up's (real vocabulary)."""
        seq = list(input_ids)
        if len(seq) == 0:
            raise ValueError("empty input (an empty prompt needs a bos token)")
        if len(seq) > self.C:
            raise ValueError(f"the prompt holds {len(seq)} tokens, more than n_ctx = {self.C}")
        if max_new_tokens < 1:
            raise ValueError("max_new_tokens must be at least 1 in the reference")
        gen, logprobs, margins, raw_argmax = [], [], [], []
        if len(seq) == self.C:
            return dict(ids=gen, stop_reason="context_full", logprobs=logprobs, text="", margins=margins, raw_argmax=raw_argmax)
        while True:
            logits, _ = self.forward(seq)
            last = logits[-1]
            raw_argmax.append(int(torch.argmax(last)))
            masked = last.clone()
            masked[self.n_real:] = float("-inf")  # padded ids are never chosen
            best = masked.max()
            choice = int(torch.nonzero(masked == best)[0, 0])  # ties -> lowest id
            logprob = torch.log_softmax(masked, dim=-1)[choice]
            rest = masked.clone()
            rest[choice] = float("-inf")
            margins.append(float(best - rest.max()) if self.n_real > 1 else float("inf"))
            gen.append(choice)
            logprobs.append(float(logprob))
            seq.append(choice)
            if self.eos is not None and choice == self.eos:
                reason = "eos"
                break
            if len(gen) == max_new_tokens:
                reason = "max_new_tokens"
                break
            if len(seq) == self.C:
                reason = "context_full"
                break
        return dict(ids=gen, stop_reason=reason, logprobs=logprobs, text=self.decode(gen), margins=margins,
                    raw_argmax=raw_argmax)


    # -- decoding with the whole sampler ---------------------------------------
    def generate(self, input_ids, max_new_tokens, temperature=0.0, top_k=0, top_p=1.0, min_p=0.0,
                 penalties=None, seed=0, top_logprobs=0):
        """The engine's decode loop (src/generate.cpp): each step the penalties, the filters and
        one draw from a single Rng(seed). Returns dict(ids, stop_reason, logprobs, top_logprobs,
        margins, gaps): logprobs and top_logprobs are of the raw logits (before penalties);
        margins[i] is the penalised argmax's lead (greedy steps), gaps[i] how far the draw landed
        from the nearest bucket edge (sampled steps): how safe the golden is against float32."""
        penalties = penalties or {}
        seq = list(input_ids)
        n_prompt = len(seq)
        rng = Rng(seed)
        greedy = temperature == 0 or top_k == 1
        out = dict(ids=[], logprobs=[], top_logprobs=[], margins=[], gaps=[], stop_reason=None)
        if len(seq) == self.C:
            out["stop_reason"] = "context_full"
            return out
        while True:
            raw = [float(v) for v in self.forward(seq)[0][-1][:self.n_real]]
            scores = apply_penalties(raw, seq, n_prompt, **penalties)
            if greedy:
                order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
                choice = order[0]
                out["margins"].append(scores[order[0]] - scores[order[1]])
            else:
                cands = filter_candidates(scores, temperature, top_k, top_p, min_p)
                u = rng.uniform()
                choice = draw(cands, u)
                edges, cumulative = [0.0], 0.0
                for _, q in cands:
                    cumulative += q
                    edges.append(cumulative)
                out["gaps"].append(min(abs(u - e) for e in edges[1:-1]) if len(edges) > 2 else 1.0)
            lp = torch.log_softmax(torch.tensor(raw, dtype=torch.float64), dim=-1)
            out["ids"].append(choice)
            out["logprobs"].append(float(lp[choice]))
            if top_logprobs:
                best = sorted(range(len(raw)), key=lambda i: (-float(lp[i]), i))[:top_logprobs]
                out["top_logprobs"].append([{"id": i, "logprob": float(lp[i])} for i in best])
            seq.append(choice)
            if self.eos is not None and choice == self.eos:
                out["stop_reason"] = "eos"
            elif len(out["ids"]) == max_new_tokens:
                out["stop_reason"] = "max_new_tokens"
            elif len(seq) == self.C:
                out["stop_reason"] = "context_full"
            if out["stop_reason"]:
                return out


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

MIN_MARGIN = 1e-2  # every greedy choice must win by this much (robust against float32 engines)


def random_tensors(cfg_raw, rng, std=0.3, padded_std=None, n_real=None):
    """Random float32 weights: matrices and biases ~ N(0, std), layer-norm weights ~ 1 + N(0, std)."""
    cfg = normalized_config(cfg_raw)
    out = {}
    for name, shape in expected_shapes(cfg).items():
        if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
            arr = 1.0 + std * rng.standard_normal(shape)
        else:
            arr = std * rng.standard_normal(shape)
        if padded_std is not None and name in ("wte.weight", "lm_head.weight"):
            arr[n_real:] = padded_std * rng.standard_normal([shape[0] - n_real, shape[1]])
        out[name] = arr.astype(np.float32)
    return out


def char_tok(vocab, bos=None, eos=None, unk=None):
    tok = {"type": "char", "vocab": list(vocab)}
    if bos is not None:
        tok["bos_token"] = bos
    if eos is not None:
        tok["eos_token"] = eos
    if unk is not None:
        tok["unk_token"] = unk
    return tok


# Each case: config as written to the file, tokenizer, tensor form, seed, runs
# [(prompt, max_new_tokens)], extra generation options and a check on the result.
# Seeds were found with `make-fixtures --search` (first seed >= the base that
# satisfies every check); without --search a failing check is an error.

def _chk_eos(model, results):
    return any(r["greedy"]["stop_reason"] == "eos" for r in results)


def _chk_reasons(*reasons):
    def chk(model, results):
        return [r["greedy"]["stop_reason"] for r in results] == list(reasons)
    return chk


def _chk_padded_argmax(model, results):
    # without masking, some greedy step would have chosen a padded id
    return any(any(a >= r["_n_real"] for a in r["_raw_argmax"]) for r in results)


def _logit_change(model, results, **override):
    """Largest |logit| change over all runs if the config had `override` instead."""
    alt = Model(dict(model.cfg, **override), model.tok, model.tensors)
    return max(float((model.forward(r["input_ids"])[0] - alt.forward(r["input_ids"])[0]).abs().max())
               for r in results)


def _chk_discriminates(min_change, **override):
    """The golden logits must tell this config apart from `override` by min_change."""
    def chk(model, results):
        return _logit_change(model, results, **override) > min_change
    return chk


def _all(*checks):
    return lambda model, results: all(c(model, results) for c in checks)


CASES = [
    dict(
        name="learned_tied_gelutanh",
        description="Defaults: learned positions, tied head, gelu_tanh, eps 1e-5 (config lists only the required "
                    "fields); bos + eos; data form. A greedy run stops on eos before max_new_tokens; another "
                    "samples eos as its max_new_tokens-th token (eos is checked first); that prompt holds the literal "
                    "text '<eos>', which is encoded as ordinary characters.",
        config={"vocab_size": 27, "n_ctx": 32, "n_embd": 16, "n_head": 2, "n_layer": 2},
        tokenizer=char_tok(["<bos>", "<eos>"] + list(" abcdefghilmnoprstuw<>.,!"), bos="<bos>", eos="<eos>"),
        form="data",
        seed=1002,
        runs=[("", 12), ("hello world", 12), ("a <eos> b", 3)],
        check=_all(_chk_eos, _chk_discriminates(1e-3, activation="gelu")),
    ),
    dict(
        name="sinusoidal_untied_relu",
        description="Sinusoidal positions (no wpe), untied lm_head, relu; eos but no bos (prompts must be "
                    "non-empty); b64 form.",
        config={"vocab_size": 23, "n_ctx": 24, "n_embd": 24, "n_head": 3, "n_layer": 2,
                "positional": "sinusoidal", "activation": "relu", "tie_word_embeddings": False},
        tokenizer=char_tok(list("0123456789+-*/=() xyz.") + ["<eos>"], eos="<eos>"),
        form="b64",
        seed=2001,
        runs=[("1+2=", 10), ("(x*y)-37=", 10), ("z", 10)],
        check=_chk_discriminates(1e-2, activation="gelu_tanh"),
    ),
    dict(
        name="gelu_3layer_4head",
        description="Exact (erf) gelu, 3 layers, 4 heads, D=32, explicit learned/tied config; bos only (no eos); "
                    "b64 form WITHOUT the optional \"dtype\" field (the default is f32).",
        config={"vocab_size": 33, "n_ctx": 32, "n_embd": 32, "n_head": 4, "n_layer": 3, "n_inner": 128,
                "positional": "learned", "activation": "gelu", "layer_norm_epsilon": 1e-5,
                "tie_word_embeddings": True},
        tokenizer=char_tok(["<bos>"] + list("abcdefghijklmnopqrstuvwxyz .,'?!"), bos="<bos>"),
        form="b64-nodtype",
        seed=3001,
        runs=[("", 16), ("once upon a time", 14), ("what's this?", 8)],
        check=_chk_discriminates(1e-3, activation="gelu_tanh"),
    ),
    dict(
        name="odd_single_layer",
        description="1 layer, 1 head, odd n_embd 13, n_inner 7 (not 4*D), sinusoidal positions with odd D (the "
                    "last column is sin only), n_ctx 8; data form. Stops: context_full after generating; a prompt "
                    "that already fills n_ctx (nothing generated); max_new_tokens reached on the very token that "
                    "fills the context (max_new_tokens is checked before context_full).",
        config={"vocab_size": 20, "n_ctx": 8, "n_embd": 13, "n_head": 1, "n_layer": 1, "n_inner": 7,
                "positional": "sinusoidal"},
        tokenizer=char_tok(["<bos>", "<eos>"] + list("abcdefghijklmnopq "), bos="<bos>", eos="<eos>"),
        form="data",
        seed=4000,
        runs=[("ab", 20), ("abcdefg", 5), ("hij ", 3)],
        check=_chk_reasons("context_full", "context_full", "max_new_tokens"),
    ),
    dict(
        name="padded_vocab",
        description="vocab_size 27 with a 22-entry tokenizer: ids 22..26 are padding; their (larger) wte rows "
                    "would win the raw argmax at some greedy step, so they must be masked; logits keep all 27 "
                    "columns; logprobs are over the 22 real ids. b64 form.",
        config={"vocab_size": 27, "n_ctx": 16, "n_embd": 12, "n_head": 2, "n_layer": 2},
        tokenizer=char_tok(["<bos>", "<eos>"] + list("abcdefghijklmnopqrst"), bos="<bos>", eos="<eos>"),
        form="b64",
        seed=5003,
        padded_std=0.6,
        runs=[("", 10), ("fish", 10), ("abba", 10)],
        check=_chk_padded_argmax,
    ),
    dict(
        name="chinese_vocab",
        description="Char vocabulary with Chinese characters (3-byte UTF-8) and Chinese prompts; bos + eos; "
                    "data form.",
        config={"vocab_size": 22, "n_ctx": 16, "n_embd": 16, "n_head": 4, "n_layer": 2},
        tokenizer=char_tok(["<bos>", "<eos>"] + list("新年快樂機器學習早上好，。") + list("AI 024!"),
                           bos="<bos>", eos="<eos>"),
        form="data",
        seed=6002,
        runs=[("新年快樂", 8), ("機器學習", 8), ("早上好，AI", 8)],
        check=lambda model, res: True,
    ),
    dict(
        name="unk_token",
        description="unk_token (id 0, listed before bos and eos): characters outside the vocabulary (ö, ☃, an "
                    "emoji outside the BMP) encode as <unk>; the literal text '<unk>' encodes as ordinary "
                    "characters; b64 form.",
        config={"vocab_size": 30, "n_ctx": 24, "n_embd": 20, "n_head": 2, "n_layer": 2, "activation": "gelu_tanh"},
        tokenizer=char_tok(["<unk>"] + list("abcdehklnorsuwy <>!") + ["<bos>"] + list("fgijmptv") + ["<eos>"],
                           bos="<bos>", eos="<eos>", unk="<unk>"),
        form="b64",
        seed=7000,
        runs=[("hello wörld", 8), ("<unk> ☃ 🙂!", 8)],
        check=lambda model, res: True,
    ),
    dict(
        name="layer_norm_eps",
        description="Non-default layer_norm_epsilon 0.1 (large enough that eps 1e-5 gives clearly different "
                    "logits), untied head, learned positions, gelu (erf), n_inner 40; data form.",
        config={"vocab_size": 18, "n_ctx": 16, "n_embd": 8, "n_head": 2, "n_layer": 2, "n_inner": 40,
                "activation": "gelu", "layer_norm_epsilon": 0.1, "tie_word_embeddings": False},
        tokenizer=char_tok(["<bos>", "<eos>"] + list("the quickbrownfx"), bos="<bos>", eos="<eos>"),
        form="data",
        seed=8000,
        runs=[("the quick", 6), ("fox", 6)],
        check=_chk_discriminates(1e-1, layer_norm_epsilon=1e-5),
    ),
]


def run_case(case, seed):
    """Builds the case's model from `seed` and computes its runs.  Returns
    (tensors, results, problems)."""
    torch.manual_seed(seed)
    rng = np.random.Generator(np.random.PCG64(seed))
    n_real = len(case["tokenizer"]["vocab"])
    tensors = random_tensors(case["config"], rng, padded_std=case.get("padded_std"), n_real=n_real)
    model = Model(case["config"], case["tokenizer"], tensors)
    results, problems = [], []
    for prompt, n in case["runs"]:
        ids = model.input_ids(prompt)
        logits, att = model.forward(ids)
        g = model.greedy(ids, n)
        if g["margins"] and min(g["margins"]) < MIN_MARGIN:
            problems.append(f"prompt {prompt!r}: greedy margin {min(g['margins']):.2e} < {MIN_MARGIN}")
        bad = [i for i in g["ids"] if i in (model.bos, model.unk)]
        if bad:
            problems.append(f"prompt {prompt!r}: greedy generated bos/unk")
        results.append({
            "prompt": prompt,
            "input_ids": ids,
            "logits": [[float(v) for v in row] for row in logits],
            "attention": [[[[float(v) for v in row] for row in head] for head in layer] for layer in att],
            "greedy": {"max_new_tokens": n, "ids": g["ids"], "stop_reason": g["stop_reason"],
                       "logprobs": g["logprobs"], "text": g["text"]},
            "_raw_argmax": g["raw_argmax"], "_n_real": n_real, "_margins": g["margins"],
        })
    if not case["check"](model, results):
        problems.append("case check failed: " + ", ".join(r["greedy"]["stop_reason"] for r in results))
    return tensors, results, problems


def make_fixtures(out, search=False):
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    index = []
    for case in CASES:
        seed = case["seed"]
        while True:
            tensors, results, problems = run_case(case, seed)
            if not problems:
                break
            if not search:
                raise SystemExit(f"{case['name']} (seed {seed}): " + "; ".join(problems)
                                 + "\n(re-run with --search to find a seed, then update CASES)")
            seed += 1
            if seed > case["seed"] + 5000:
                raise SystemExit(f"{case['name']}: no seed found")
        model_file = f"{case['name']}.model.json"
        save(os.path.join(out, model_file), case["config"], case["tokenizer"], tensors, form=case["form"])
        # Round trip: the file must load back to exactly these weights.
        cfg2, tok2, t2 = load(os.path.join(out, model_file))
        assert all(np.array_equal(tensors[k], t2[k]) for k in tensors) and tok2 == case["tokenizer"]
        golden = {
            "model": model_file,
            "description": case["description"],
            "runs": [{k: v for k, v in r.items() if not k.startswith("_")} for r in results],
        }
        write_json(os.path.join(out, f"{case['name']}.golden.json"), golden)
        min_margin = min((m for r in results for m in r["_margins"]), default=float("inf"))
        index.append({"name": case["name"], "model": model_file, "golden": f"{case['name']}.golden.json",
                      "description": case["description"]})
        summary = "; ".join(f"{r['prompt']!r}: {len(r['greedy']['ids'])} -> {r['greedy']['stop_reason']}" for r in results)
        print(f"{case['name']}: seed {seed}{' (CHANGED from %d)' % case['seed'] if seed != case['seed'] else ''}, "
              f"min margin {min_margin:.3g}; {summary}", file=sys.stderr)
    write_json(os.path.join(out, "index.json"), {"generator": "tools/reference.py make-fixtures", "cases": index})


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def make_trace_fixtures(ref_dir, out):
    """Goldens for `tiny-gpt trace`: for each fixture model of `ref_dir` and its longest
    prompt, the trace at the first, a middle and the last position, sampled and greedy."""
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    f32 = lambda v: float(np.float32(v))  # the engine's SamplerParams are float32
    index = json.load(open(os.path.join(ref_dir, "index.json")))
    for case in index["cases"]:
        golden = json.load(open(os.path.join(ref_dir, case["golden"])))
        model = Model.from_file(os.path.join(ref_dir, case["model"]))
        run = max(golden["runs"], key=lambda r: len(r["input_ids"]))  # the longest prompt
        ids = run["input_ids"]
        positions = sorted({0, (len(ids) - 1) // 2, len(ids) - 1})
        settings = [(0.8, 40, 0.95, 7), (1.3, 0, 0.6, 11), (0.0, 40, 0.95, 3)]
        traces = []
        for i, position in enumerate(positions):
            temperature, top_k, top_p, seed = settings[i % len(settings)]
            tr = model.trace(ids, position, top=5, sampler=(f32(temperature), top_k, f32(top_p)), seed=seed)
            traces.append({"position": position, "temperature": temperature, "top_k": top_k, "top_p": top_p,
                           "seed": seed, "top": 5, "expected": tr})
        write_json(os.path.join(out, f"{case['name']}.trace.json"),
                   {"generator": "tools/reference.py make-trace-fixtures", "model": "ref/" + case["model"],
                    "prompt": run["prompt"], "input_ids": ids, "traces": traces})
        print(f"{case['name']}: positions {positions}", file=sys.stderr)


# Goldens for the sampler and the penalties (tests/test_sampling_reference.cpp). Float
# settings are float32 in the engine, so the reference uses their float32 values.
SAMPLING_MODELS = ["gelu_3layer_4head", "learned_tied_gelutanh", "padded_vocab"]
COMBINED = {"repeat_penalty": 1.2, "repeat_last_n": 8, "frequency_penalty": 0.4, "presence_penalty": 0.3}
GREEDY_PENALTIES = [
    ("repeat", {"repeat_penalty": 1.3}),
    ("repeat_window", {"repeat_penalty": 2.0, "repeat_last_n": 3}),
    ("frequency", {"frequency_penalty": 0.7}),
    ("presence", {"presence_penalty": 0.9}),
    ("combined", COMBINED),
]
SAMPLED = [  # (name, sampler, penalties, seed)
    ("temperature_top_k_top_p", {"temperature": 0.9, "top_k": 6, "top_p": 0.9, "min_p": 0.0}, {}, 11),
    ("with_min_p", {"temperature": 1.1, "top_k": 0, "top_p": 0.95, "min_p": 0.1}, {}, 12),
    ("whole_chain", {"temperature": 0.8, "top_k": 8, "top_p": 0.9, "min_p": 0.05}, COMBINED, 13),
]
FILTERS = [  # (name, sampler, penalties)
    ("min_p", {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.2}, {}),
    ("min_p_hot", {"temperature": 1.5, "top_k": 0, "top_p": 1.0, "min_p": 0.05}, {}),
    ("top_p", {"temperature": 0.7, "top_k": 0, "top_p": 0.8, "min_p": 0.0}, {}),
    ("top_k_then_top_p", {"temperature": 1.0, "top_k": 4, "top_p": 0.7, "min_p": 0.0}, {}),
    ("whole_chain", {"temperature": 0.9, "top_k": 10, "top_p": 0.85, "min_p": 0.1}, COMBINED),
]
MIN_GAP = 1e-6  # how near a draw or a cut may come to an edge before float32 could move it


def _f32_all(d):
    return {k: (float(np.float32(v)) if isinstance(v, float) else v) for k, v in d.items()}


def _cuts_are_clear(logits, sampler, penalties, context, n_prompt):
    """True when no top-p or min-p decision lies within MIN_GAP of its threshold."""
    sampler = _f32_all(sampler)
    scores = apply_penalties(logits, context, n_prompt, **_f32_all(penalties))
    after_k = filter_candidates(scores, sampler["temperature"], sampler["top_k"], 1.0)
    cumulative = 0.0
    for _, q in after_k:
        cumulative += q
        if sampler["top_p"] < 1 and abs(cumulative - sampler["top_p"]) < MIN_GAP:
            return False
    after_p = filter_candidates(scores, sampler["temperature"], sampler["top_k"], sampler["top_p"])
    threshold = sampler["min_p"] * after_p[0][1]
    return all(abs(q - threshold) >= MIN_GAP for _, q in after_p) if sampler["min_p"] > 0 else True


def make_sampling_fixtures(ref_dir, out):
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    runs, filters = [], []
    for name in SAMPLING_MODELS:
        golden = json.load(open(os.path.join(ref_dir, name + ".golden.json")))
        model = Model.from_file(os.path.join(ref_dir, name + ".model.json"))
        run = golden["runs"][1]
        ids, n = run["input_ids"], 16
        plain = model.generate(ids, n)["ids"]
        for case, penalties in GREEDY_PENALTIES:
            g = model.generate(ids, n, penalties=_f32_all(penalties), top_logprobs=3)
            if min(g["margins"]) < 1e-3:
                raise SystemExit(f"{name} {case}: greedy margin {min(g['margins']):.2e}")
            runs.append({"model": name + ".model.json", "name": case, "prompt": run["prompt"], "input_ids": ids,
                         "max_new_tokens": n, "sampler": {"temperature": 0.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0},
                         "penalties": penalties, "seed": 0, "top_logprobs": 3, "differs_from_plain": g["ids"] != plain,
                         "top": g["top_logprobs"], **{k: g[k] for k in ("ids", "logprobs", "stop_reason")}})
        for case, sampler, penalties, seed in SAMPLED:
            while True:
                g = model.generate(ids, n, **_f32_all(sampler), penalties=_f32_all(penalties), seed=seed,
                                   top_logprobs=3)
                if min(g["gaps"]) >= MIN_GAP:
                    break
                seed += 1
            runs.append({"model": name + ".model.json", "name": case, "prompt": run["prompt"], "input_ids": ids,
                         "max_new_tokens": n, "sampler": sampler, "penalties": penalties, "seed": seed,
                         "top_logprobs": 3, "differs_from_plain": g["ids"] != plain,
                         "top": g["top_logprobs"], **{k: g[k] for k in ("ids", "logprobs", "stop_reason")}})
        logits = [float(v) for v in model.forward(ids)[0][-1][:model.n_real]]
        context = ids + run["greedy"]["ids"][:5]
        for case, sampler, penalties in FILTERS:
            if not _cuts_are_clear(logits, sampler, penalties, context, len(ids)):
                raise SystemExit(f"{name} {case}: a cut lies within {MIN_GAP} of its threshold")
            sc = apply_penalties(logits, context, len(ids), **_f32_all(penalties))
            f = _f32_all(sampler)
            cands = filter_candidates(sc, f["temperature"], f["top_k"], f["top_p"], f["min_p"])
            filters.append({"model": name + ".model.json", "name": case, "input_ids": ids, "context": context,
                            "n_prompt": len(ids), "sampler": sampler, "penalties": penalties,
                            "candidates": [{"id": i, "prob": q} for i, q in cands]})
        print(f"{name}: " + ", ".join(f"{r['name']} {'changed' if r['differs_from_plain'] else 'same'}"
                                      for r in runs if r["model"] == name + ".model.json"), file=sys.stderr)
    write_json(os.path.join(out, "sampling.golden.json"),
               {"generator": "tools/reference.py make-sampling-fixtures", "runs": runs, "filters": filters})


# Inputs of q8_0 layers nearer than this to a rounding boundary (in units of the block's
# step) could round the other way in the engine, whose float32 activations differ from
# these float64 ones in the last bits; such runs are left out of the reduced fixtures.
Q8_MIN_MARGIN = 1e-4


def make_reduced_fixtures(ref_dir, out):
    """For every reference fixture and prompt: all-position logits and greedy ids with the
    linear weights reduced to f16 and to q8_0, plus the float32 logits' distance (the
    quantisation error the tests do not hold the engine to)."""
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    index = json.load(open(os.path.join(ref_dir, "index.json"), encoding="utf-8"))
    cases, kept, dropped = [], 0, 0
    for case in index["cases"]:
        cfg, tok, tensors = load(os.path.join(ref_dir, case["model"]))
        golden = json.load(open(os.path.join(ref_dir, case["golden"]), encoding="utf-8"))
        for weight_type in ("f16", "q8_0"):
            model = Model(cfg, tok, tensors, weight_type)
            runs = []
            for run in golden["runs"]:
                ids = run["input_ids"]
                model.q8_margin = float("inf")
                logits, _ = model.forward(ids)
                margin = model.q8_margin
                g = model.greedy(ids, run["greedy"]["max_new_tokens"])
                margin = min(margin, model.q8_margin)
                if margin < Q8_MIN_MARGIN or (g["margins"] and min(g["margins"]) < MIN_MARGIN):
                    dropped += 1
                    continue
                kept += 1
                f32 = np.array(run["logits"])
                runs.append({"prompt": run["prompt"], "input_ids": ids,
                             "logits": [[float(v) for v in row] for row in logits],
                             "max_abs_change_from_f32": float(np.max(np.abs(logits.numpy() - f32))),
                             "q8_margin": None if margin == float("inf") else margin,
                             "greedy": {"max_new_tokens": run["greedy"]["max_new_tokens"], "ids": g["ids"],
                                        "stop_reason": g["stop_reason"]}})
            cases.append({"name": case["name"], "model": case["model"], "weight_type": weight_type, "runs": runs})
    write_json(os.path.join(out, "reduced.golden.json"),
               {"generator": "tools/reference.py make-reduced-fixtures", "q8_min_margin": Q8_MIN_MARGIN,
                "cases": cases})
    print(f"reduced fixtures: {kept} runs kept, {dropped} left out (a q8_0 input within {Q8_MIN_MARGIN} of a "
          f"rounding boundary, or a greedy margin below {MIN_MARGIN})", file=sys.stderr)


def gpt2_byte_alphabet():
    """GPT-2's printable stand-in for each byte, as byte_bpe vocabularies spell tokens."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


# The chain model's tokens after the prompt's last token "a": its greedy text is
# "x新年快樂!ok" then eos, cut so that 新 is split across two tokens (its first two bytes,
# then its last byte with all of 年) and 快樂! is one token.
CHAIN = [b"a", b"x", "新".encode()[:2], "新".encode()[2:] + "年".encode(), "快樂!".encode(), b"ok"]


def make_chain_model(out):
    """A hand-built byte_bpe model whose greedy output is known (tests of stop strings).
    Every layer is zero, so the residual stream is the token's embedding; each chain token
    has its own embedding direction, and the output head maps it to the next chain token
    (the last to eos) with a lead of about 30 logits."""
    alphabet = gpt2_byte_alphabet()
    spell = lambda bs: "".join(alphabet[b] for b in bs)
    vocab = {spell([b]): b for b in range(256)}
    merges = []
    for token in CHAIN:
        for end in range(2, len(token) + 1):  # left to right: each step adds one byte
            piece = spell(token[:end])
            if piece not in vocab:
                merges.append(spell(token[:end - 1]) + " " + spell(token[end - 1:end]))
                vocab[piece] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    V, D = len(vocab), 8
    ids = [vocab[spell(t)] for t in CHAIN] + [vocab["<|endoftext|>"]]
    config = {"vocab_size": V, "n_ctx": 64, "n_embd": D, "n_head": 1, "n_layer": 1, "n_inner": D,
              "tie_word_embeddings": False}
    tensors = {name: np.zeros(shape, dtype=np.float32) for name, shape in expected_shapes(normalized_config(config)).items()}
    for name in ("h.0.ln_1.weight", "h.0.ln_2.weight", "ln_f.weight"):
        tensors[name][:] = 1
    for slot, i in enumerate(ids[:-1]):
        tensors["wte.weight"][i, slot] = 3
        tensors["lm_head.weight"][ids[slot + 1], slot] = 10
    tokenizer = {"type": "byte_bpe", "vocab": vocab, "merges": merges, "eos_token": "<|endoftext|>"}
    save(out, config, tokenizer, tensors, form="b64")
    model = Model.from_file(out)
    seq = [ids[0]]
    for _ in range(len(ids) - 1):
        seq.append(int(torch.argmax(model.forward(seq)[0][-1])))
    assert seq == ids, (seq, ids)


def cmd_check(args):
    model = Model.from_file(args.model)
    if args.ids is not None:
        ids = [int(s) for s in args.ids.split(",") if s.strip() != ""]
    else:
        ids = model.input_ids(args.prompt or "")
    if not ids:
        raise ValueError("no input ids (an empty prompt needs a model with a bos_token)")
    logits, att = model.forward(ids)
    out = {"input_ids": ids, "logits": [[float(v) for v in row] for row in logits]}
    if args.attention:
        out["attention"] = [[[[float(v) for v in row] for row in head] for head in layer] for layer in att]
    if args.greedy:
        g = model.greedy(ids, args.greedy)
        out["greedy"] = {k: g[k] for k in ("ids", "stop_reason", "logprobs", "text")}
    print(_dump(out, 1, 0))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    mf = sub.add_parser("make-fixtures", help="write the golden fixtures")
    mf.add_argument("--out", required=True)
    mf.add_argument("--search", action="store_true",
                    help="if a case's checks fail at its seed, try following seeds (then update CASES)")
    tf = sub.add_parser("make-trace-fixtures", help="write the goldens of `tiny-gpt trace`")
    tf.add_argument("--ref", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "ref"))
    tf.add_argument("--out", required=True)
    sf = sub.add_parser("make-sampling-fixtures", help="write the goldens of the sampler and the penalties")
    sf.add_argument("--ref", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "ref"))
    sf.add_argument("--out", required=True)
    rf = sub.add_parser("make-reduced-fixtures", help="write the goldens of the f16 and q8_0 weight types")
    rf.add_argument("--ref", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "ref"))
    rf.add_argument("--out", required=True)
    cm = sub.add_parser("make-chain-model", help="write the hand-built byte_bpe model of the stop-string tests")
    cm.add_argument("--out", required=True)
    ck = sub.add_parser("check", help="print logits (JSON) for a model and ids")
    ck.add_argument("model")
    g = ck.add_mutually_exclusive_group()
    g.add_argument("--ids", help="comma-separated token ids (used as given: no bos added)")
    g.add_argument("--prompt", help="text; bos is prepended when the model has one")
    ck.add_argument("--attention", action="store_true", help="also print attention [L][H][T][T]")
    ck.add_argument("--greedy", type=int, metavar="N", help="also run greedy decoding for N tokens")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.cmd == "make-fixtures":
        make_fixtures(args.out, args.search)
    elif args.cmd == "make-trace-fixtures":
        make_trace_fixtures(args.ref, args.out)
    elif args.cmd == "make-sampling-fixtures":
        make_sampling_fixtures(args.ref, args.out)
    elif args.cmd == "make-reduced-fixtures":
        make_reduced_fixtures(args.ref, args.out)
    elif args.cmd == "make-chain-model":
        make_chain_model(args.out)
    else:
        try:
            cmd_check(args)
        except (FormatError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
