#!/usr/bin/python3
"""Train a small GPT-2-style decoder (pre-LN, learned positions, gelu_tanh, tied
embeddings) on the prepared text in data/ and write tiny-gpt weights JSON v1.

Examples (the exact commands used for the shipped models are in models/README.md):
  /usr/bin/python3 tools/train.py --name tang-poems --data-format lines \
      --train data/tang_train.txt --val data/tang_val.txt --tokenizer char --char-min-freq 8 \
      --n-embd 256 --n-layer 4 --n-head 8 --n-ctx 128 --align-bos --time-budget 60
  /usr/bin/python3 tools/train.py --name english-kjv --data-format eot \
      --train data/english_train.txt --val data/english_val.txt \
      --tokenizer data/english_bpe.json --n-embd 256 --n-layer 4 --n-head 8 --n-ctx 128

Data formats: "lines" = one example per line; "eot" = examples separated by a line
holding only <|endoftext|>. Each example becomes [bos] + tokens + [eos] in one long
token stream (for byte_bpe bos = eos = <|endoftext|>, so one token separates
examples). Training windows of n_ctx+1 tokens start at random stream positions,
or at random example starts with --align-bos.

Continuing a model (more compute on a shipped model):
  /usr/bin/python3 tools/train.py --name tang-poems --init-from models/tang-poems.json \
      --data-format lines --train data/tang_train_dedup.txt --val data/tang_val_dedup.txt \
      --align-bos --warmup 50 --max-tokens 20000000
--init-from takes the config, the tokenizer and the weights from the file (the shape and
tokenizer options are then ignored), starts a fresh AdamW with a short warm-up (--warmup),
and, when NAME.train.json lies beside the file, carries its totals on: the new summary's
"cumulative" block adds this run's steps, tokens and seconds to the earlier runs', "runs"
lists every run, and the loss history continues at the cumulative step count.

Outputs: models/<name>.json (weights; rewritten at every checkpoint so that a cut-short
run still leaves a model), models/<name>.train.json (summary), docs/loss-<name>.png.
"""
import argparse, base64, collections, json, math, os, sys, time


def _early_threads():
    # torch.set_num_threads() does not reach OpenBLAS's own thread pool (Debian's torch
    # calls libopenblas0-pthread); oversubscribed BLAS threads spin and crawl on a shared
    # machine, so pin every pool before numpy/torch load.
    n = "1"
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            n = sys.argv[i + 1]
        elif a.startswith("--threads="):
            n = a.split("=", 1)[1]
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(v, n)


_early_threads()
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
EOT = "<|endoftext|>"


# ---------------------------------------------------------------- tokenizers
class CharTokenizer:
    UNK, BOS, EOS = "<unk>", "<bos>", "<eos>"

    def __init__(self, vocab):
        self.vocab = vocab
        self.stoi = {s: i for i, s in enumerate(vocab)}
        self.unk, self.bos, self.eos = (self.stoi[self.UNK], self.stoi[self.BOS],
                                        self.stoi[self.EOS])

    @classmethod
    def build(cls, examples, min_freq):
        c = collections.Counter()
        for e in examples:
            c.update(e)
        chars = sorted(ch for ch, n in c.items() if n >= min_freq)
        return cls([cls.UNK, cls.BOS, cls.EOS] + chars)

    def encode(self, text):
        return [self.stoi.get(ch, self.unk) for ch in text]

    def decode(self, ids):
        return "".join(self.vocab[i] for i in ids if i not in (self.bos, self.eos))

    def text_len(self, ids):  # characters of text covered by these ids
        return sum(1 for i in ids if i not in (self.bos, self.eos))

    def to_json(self):
        return {"type": "char", "vocab": self.vocab, "bos_token": self.BOS,
                "eos_token": self.EOS, "unk_token": self.UNK}


class BpeTokenizer:
    def __init__(self, tok):
        from bpe_train import Encoder
        self.tok = tok
        self.enc = Encoder(tok)
        self.vocab = tok["vocab"]
        self.bos = self.vocab[tok["bos_token"]]
        self.eos = self.vocab[tok["eos_token"]]
        self.nbytes = {i: (0 if t == EOT else len(t)) for t, i in self.vocab.items()}

    def encode(self, text):
        return self.enc.encode(text)

    def decode(self, ids):
        return self.enc.decode(ids)

    def text_len(self, ids):  # bytes of text covered by these ids
        return sum(self.nbytes[i] for i in ids)

    def to_json(self):
        return self.tok


def read_examples(path, fmt):
    text = open(path, encoding="utf-8").read()
    if fmt == "lines":
        return [l for l in text.split("\n") if l]
    return [d.strip("\n") for d in text.split("\n" + EOT + "\n") if d.strip("\n")]


def build_stream(tok, examples):
    ids, starts = [], []
    for e in examples:
        if not ids or tok.bos != tok.eos:
            starts.append(len(ids))
            ids.append(tok.bos)
        else:
            starts.append(len(ids) - 1)  # shared <|endoftext|>: the previous eos is this bos
        ids.extend(tok.encode(e))
        ids.append(tok.eos)
    return np.array(ids, dtype=np.int64), np.array(starts, dtype=np.int64)


# ---------------------------------------------------------------- model
class Conv1D(nn.Module):
    """HF GPT-2 layout: y = x W + b, W is [in, out]."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out).normal_(0, 0.02))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(
            *x.shape[:-1], -1)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["n_embd"]
        self.n_head = cfg["n_head"]
        self.ln_1 = nn.LayerNorm(d, eps=cfg["layer_norm_epsilon"])
        self.attn = nn.Module()
        self.attn.c_attn = Conv1D(d, 3 * d)
        self.attn.c_proj = Conv1D(d, d)
        self.ln_2 = nn.LayerNorm(d, eps=cfg["layer_norm_epsilon"])
        self.mlp = nn.Module()
        self.mlp.c_fc = Conv1D(d, cfg["n_inner"])
        self.mlp.c_proj = Conv1D(cfg["n_inner"], d)
        self.drop = nn.Dropout(cfg["dropout"])
        n = cfg["n_ctx"]
        self.register_buffer("mask", torch.tril(torch.ones(n, n, dtype=torch.bool)), persistent=False)

    def forward(self, x):
        B, T, D = x.shape
        H = self.n_head
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(D, dim=2)
        q, k, v = (t.view(B, T, H, D // H).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D // H))
        att = att.masked_fill(~self.mask[:T, :T], float("-inf")).softmax(-1)
        y = (self.drop(att) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.drop(self.attn.c_proj(y))
        h = F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh")
        return x + self.drop(self.mlp.c_proj(h))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg["vocab_size"], cfg["n_embd"])
        self.wpe = nn.Embedding(cfg["n_ctx"], cfg["n_embd"])
        nn.init.normal_(self.wte.weight, 0, 0.02)
        nn.init.normal_(self.wpe.weight, 0, 0.01)
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg["n_layer"]))
        self.ln_f = nn.LayerNorm(cfg["n_embd"], eps=cfg["layer_norm_epsilon"])
        self.drop = nn.Dropout(cfg["dropout"])
        for b in self.h:  # GPT-2's scaled init of the residual projections
            for p in (b.attn.c_proj.weight, b.mlp.c_proj.weight):
                nn.init.normal_(p, 0, 0.02 / math.sqrt(2 * cfg["n_layer"]))

    def forward(self, idx):
        T = idx.shape[1]
        x = self.drop(self.wte(idx) + self.wpe(torch.arange(T)))
        for b in self.h:
            x = b(x)
        return self.ln_f(x) @ self.wte.weight.t()

    def export_tensors(self):
        out = {}
        for name, p in self.named_parameters():
            out[name] = p.detach().cpu().float().numpy()
        return out


# ---------------------------------------------------------------- output
def write_weights(path, model, tok, cfg_out, plain=False):
    tensors = {}
    for name, a in model.export_tensors().items():
        a = np.ascontiguousarray(a, dtype="<f4")
        if plain:
            tensors[name] = {"shape": list(a.shape),
                             "data": [float(f"{x:.6g}") for x in a.reshape(-1).tolist()]}
        else:
            tensors[name] = {"shape": list(a.shape), "dtype": "f32",
                             "b64": base64.b64encode(a.tobytes()).decode("ascii")}
    doc = {"format": "tiny-gpt", "version": 1, "config": cfg_out,
           "tokenizer": tok.to_json(), "tensors": tensors}
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        if plain:  # one tensor per line so that it reads well
            head = dict(doc)
            del head["tensors"]
            s = json.dumps(head, ensure_ascii=False)[:-1]
            f.write(s + ',\n "tensors": {\n')
            items = list(tensors.items())
            for i, (k, v) in enumerate(items):
                f.write("  " + json.dumps(k) + ": " + json.dumps(v) +
                        (",\n" if i + 1 < len(items) else "\n"))
            f.write(" }\n}\n")
        else:
            json.dump(doc, f, ensure_ascii=False)
            f.write("\n")
    os.replace(tmp, path)


def plot(path, hist, name):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    if hist["train"]:
        s, l = zip(*hist["train"])
        ax.plot(s, l, label="train (batch mean, smoothed)", lw=1)
    if hist["val"]:
        s, l = zip(*hist["val"])
        ax.plot(s, l, "o-", label="validation (sample of windows)", ms=3)
    if hist.get("val_full"):
        s, l = zip(*hist["val_full"])
        ax.plot(s, l, "*", color="C3", ms=12, label=f"validation, full set: {l[-1]:.3f}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats / token)")
    ax.set_title(f"{name}: training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------- eval
@torch.no_grad()
def eval_stream(model, stream, n_ctx, tok, max_windows=None, batch=32):
    """Non-overlapping windows: window i feeds stream[i*n_ctx : i*n_ctx+n_ctx] and predicts
    the next token at each position. Returns (nats/token, nats/text unit, tokens, units)."""
    model.eval()
    n = (len(stream) - 1) // n_ctx
    wins = np.arange(n)
    if max_windows and max_windows < n:  # evenly spread over the whole stream
        wins = np.unique(np.linspace(0, n - 1, max_windows).round().astype(np.int64))
    tot, ntok, units = 0.0, 0, 0
    for s in range(0, len(wins), batch):
        idx = [np.arange(i * n_ctx, (i + 1) * n_ctx) for i in wins[s:s + batch]]
        x = torch.from_numpy(np.stack([stream[i] for i in idx]))
        y = torch.from_numpy(np.stack([stream[i + 1] for i in idx]))
        logits = model(x)
        tot += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                               reduction="sum").item()
        ntok += y.numel()
        units += tok.text_len(y.reshape(-1).tolist())
    model.train()
    return tot / ntok, tot / max(units, 1), ntok, units


@torch.no_grad()
def eval_examples(model, tok, examples, n_ctx):
    """Each example scored on its own as [bos] + tokens (+ [eos]), fresh context per
    n_ctx window; returns (nats/token, nats/text unit, tokens, units)."""
    model.eval()
    tot, ntok, units = 0.0, 0, 0
    for e in examples:
        ids = [tok.bos] + tok.encode(e) + [tok.eos]
        for s in range(0, len(ids) - 1, n_ctx):
            x = torch.tensor([ids[s:s + n_ctx]])
            y = torch.tensor([ids[s + 1:s + n_ctx + 1]])
            x = x[:, :y.shape[1]]
            logits = model(x)
            tot += F.cross_entropy(logits[0], y[0], reduction="sum").item()
            ntok += y.shape[1]
            units += tok.text_len(y[0].tolist())
    model.train()
    return tot / ntok, tot / max(units, 1), ntok, units


@torch.no_grad()
def generate(model, tok, prompt_ids, n, temperature=1.0, top_k=None, greedy=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    model.eval()
    ids = list(prompt_ids)
    out = []
    while len(out) < n and len(ids) < model.cfg["n_ctx"]:
        logits = model(torch.tensor([ids]))[0, -1]
        if greedy:
            nxt = int(torch.argmax(logits))
        else:
            logits = logits / temperature
            if top_k:
                v, _ = torch.topk(logits, top_k)
                logits[logits < v[-1]] = float("-inf")
            nxt = int(torch.multinomial(logits.softmax(-1), 1, generator=g))
        ids.append(nxt)
        out.append(nxt)
        if nxt == tok.eos:
            break
    model.train()
    return out


# ---------------------------------------------------------------- main
def replot(summary_path, plot_dir):
    """Redraw docs/loss-<name>.png from a models/<name>.train.json summary."""
    d = json.load(open(summary_path, encoding="utf-8"))
    hist = d["history"]
    if "val_full" not in hist and "final" in d:  # summaries written before val_full existed
        vl = d["final"]["val_loss_per_token"]
        if hist["val"] and abs(hist["val"][-1][1] - vl) < 1e-4:
            hist["val"] = hist["val"][:-1]
        hist["val_full"] = [(d["training"]["steps"], vl)]
    plot(os.path.join(plot_dir, f"loss-{d['name']}.png"), hist, d["name"])


def previous_runs(weights_path):
    """The earlier runs of the weights in weights_path, from the NAME.train.json beside it:
    {"cumulative": totals, "runs": [...], "history": ..., "tokenizer": ...}, or None if there
    is no summary. Summaries written before resumable training (no "runs") count as one run
    made of their "training" block."""
    base = weights_path[:-5] if weights_path.endswith(".json") else weights_path
    path = base + ".train.json"
    if not os.path.exists(path):
        return None
    d = json.load(open(path, encoding="utf-8"))
    if "runs" in d:
        runs = d["runs"]
    else:
        t = d["training"]
        runs = [{"steps": t["steps"], "tokens": t["tokens_seen"],
                 "train_seconds": t["train_seconds"],
                 # older summaries kept no wall time; their training loop time stands in
                 "wall_seconds": t["train_seconds"], "train": d["data"]["train"],
                 "init_from": None, "finished": t.get("finished", True),
                 "command": t.get("command", "")}]
    hist = dict(d.get("history", {}))
    if "val_full" not in hist and "final" in d:  # as replot() does for old summaries
        vl = d["final"]["val_loss_per_token"]
        if hist.get("val") and abs(hist["val"][-1][1] - vl) < 1e-4:
            hist["val"] = hist["val"][:-1]
        hist["val_full"] = [(d["training"]["steps"], vl)]
    return {"runs": runs, "history": hist, "tokenizer": d.get("tokenizer", {}),
            "cumulative": {"steps": sum(r["steps"] for r in runs)}}


def load_model(path, dropout=0.0):
    """Load a tiny-gpt weights JSON (either tensor form) into a GPT and its tokenizer."""
    d = json.load(open(path, encoding="utf-8"))
    c = d["config"]
    cfg = dict(vocab_size=c["vocab_size"], n_ctx=c["n_ctx"], n_embd=c["n_embd"],
               n_head=c["n_head"], n_layer=c["n_layer"],
               n_inner=c.get("n_inner", 4 * c["n_embd"]),
               layer_norm_epsilon=c.get("layer_norm_epsilon", 1e-5), dropout=dropout)
    model = GPT(cfg)
    state = {}
    for k, v in d["tensors"].items():
        if "b64" in v:
            a = np.frombuffer(base64.b64decode(v["b64"]), dtype="<f4")
        else:
            a = np.array(v["data"], dtype=np.float32)
        state[k] = torch.from_numpy(a.reshape(v["shape"]).copy())
    model.load_state_dict(state)
    t = d["tokenizer"]
    tok = CharTokenizer(t["vocab"]) if t["type"] == "char" else BpeTokenizer(t)
    return model, tok


def score(model_path, text_path, fmt=None):
    """Score a text file exactly as the val_slice entry of the training summary does, or,
    with fmt ("lines" or "eot"), each example of the file as the validation loss does."""
    model, tok = load_model(model_path)
    if fmt:
        ex = read_examples(text_path, fmt)
    elif isinstance(tok, CharTokenizer):
        ex = read_examples(text_path, "lines")
    else:
        ex = [open(text_path, encoding="utf-8").read()]
    a, b, c, d = eval_examples(model, tok, ex, model.cfg["n_ctx"])
    unit = "char" if isinstance(tok, CharTokenizer) else "byte"
    print(json.dumps({"model": model_path, "file": text_path, "loss_per_token": round(a, 5),
                      f"loss_per_{unit}": round(b, 5), "tokens_scored": c,
                      f"{unit}s_scored": d}))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--replot":
        return replot(sys.argv[2], os.path.join(ROOT, "docs"))
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--score":
        torch.set_num_threads(1)
        return score(*sys.argv[2:])
    ap = argparse.ArgumentParser(description="train a tiny-gpt model "
                                 "(or: train.py --replot models/NAME.train.json, "
                                 "or: train.py --score MODEL.json TEXT_FILE [lines|eot])")
    ap.add_argument("--name", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--data-format", choices=["lines", "eot"], required=True)
    ap.add_argument("--tokenizer", default="char", help='"char" or a byte_bpe tokenizer JSON')
    ap.add_argument("--char-min-freq", type=int, default=1)
    ap.add_argument("--train-limit-chars", type=int, default=0,
                    help="use only the first N characters of the training text (demo)")
    ap.add_argument("--n-embd", type=int, default=256)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=8)
    ap.add_argument("--n-ctx", type=int, default=128)
    ap.add_argument("--n-inner", type=int, default=0, help="default 4*n_embd")
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--max-steps", type=int, default=100000)
    ap.add_argument("--max-tokens", type=int, default=0,
                    help="this run's budget in training tokens (steps x batch x n_ctx); "
                         "sets --max-steps, so the cosine schedule spans the budget")
    ap.add_argument("--init-from", help="continue from this tiny-gpt JSON (its config, "
                    "tokenizer and weights; a fresh optimizer and --warmup steps of warm-up)")
    ap.add_argument("--time-budget", type=float, default=0,
                    help="minutes of training; the cosine schedule is stretched over the "
                         "budget and training stops gracefully when it is used up")
    ap.add_argument("--eval-interval", type=int, default=250)
    ap.add_argument("--eval-windows", type=int, default=64)
    ap.add_argument("--ckpt-minutes", type=float, default=10)
    ap.add_argument("--align-bos", action="store_true", help="windows start at example starts")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--plain", action="store_true", help="write tensors as rounded numbers")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "models"))
    ap.add_argument("--plot-dir", default=os.path.join(ROOT, "docs"))
    ap.add_argument("--val-slice", help="also score this text file (each line an example "
                                        "for 'lines', the whole file for 'eot')")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t_start = time.time()

    train_ex = read_examples(args.train, args.data_format)
    if args.train_limit_chars:
        kept, n = [], 0
        for e in train_ex:
            if n >= args.train_limit_chars:
                break
            kept.append(e)
            n += len(e)
        train_ex = kept
    val_ex = read_examples(args.val, args.data_format)
    init_model, prev = None, None
    if args.init_from:
        # the shipped weights fix the shape and the tokenizer: a char vocab rebuilt from new
        # training text would renumber the characters under the trained embeddings
        init_model, tok = load_model(args.init_from, dropout=args.dropout)
        c = init_model.cfg
        args.n_ctx, args.n_embd, args.n_head, args.n_layer, args.n_inner = (
            c["n_ctx"], c["n_embd"], c["n_head"], c["n_layer"], c["n_inner"])
        args.tokenizer = "char" if isinstance(tok, CharTokenizer) else "byte_bpe (from --init-from)"
        prev = previous_runs(args.init_from)
    elif args.tokenizer == "char":
        tok = CharTokenizer.build(train_ex, args.char_min_freq)
    else:
        tok = BpeTokenizer(json.load(open(args.tokenizer, encoding="utf-8")))
    vocab_size = len(tok.vocab)
    train_s, train_starts = build_stream(tok, train_ex)
    val_s, _ = build_stream(tok, val_ex)
    print(f"vocab {vocab_size}; train {len(train_ex)} examples {len(train_s)} tokens; "
          f"val {len(val_ex)} examples {len(val_s)} tokens; prep {time.time()-t_start:.1f}s",
          flush=True)

    cfg = dict(vocab_size=vocab_size, n_ctx=args.n_ctx, n_embd=args.n_embd,
               n_head=args.n_head, n_layer=args.n_layer,
               n_inner=args.n_inner or 4 * args.n_embd, layer_norm_epsilon=1e-5,
               dropout=args.dropout)
    cfg_out = {k: cfg[k] for k in ("vocab_size", "n_ctx", "n_embd", "n_head", "n_layer",
                                   "n_inner")}
    cfg_out.update(positional="learned", activation="gelu_tanh", layer_norm_epsilon=1e-5,
                   tie_word_embeddings=True)
    model = init_model if init_model is not None else GPT(cfg)
    if args.max_tokens:
        args.max_steps = math.ceil(args.max_tokens / (args.batch_size * args.n_ctx))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params:,}", flush=True)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    budget = args.time_budget * 60

    def lr_at(step, elapsed):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        prog = (step - args.warmup) / max(1, args.max_steps - args.warmup)
        if budget:
            prog = max(prog, elapsed / budget)
        prog = min(1.0, prog)
        mn = args.lr * args.min_lr_frac
        return mn + 0.5 * (args.lr - mn) * (1 + math.cos(math.pi * prog))

    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(args.plot_dir, exist_ok=True)
    w_path = os.path.join(args.out_dir, args.name + ".json")
    s_path = os.path.join(args.out_dir, args.name + ".train.json")
    p_path = os.path.join(args.plot_dir, f"loss-{args.name}.png")
    hist = {"train": [], "val": []}
    T = args.n_ctx
    char_tok = isinstance(tok, CharTokenizer)
    unit = "char" if char_tok else "byte"
    # a continued run's curve goes on where the earlier runs' stopped
    step0 = prev["cumulative"]["steps"] if prev else 0
    if prev:
        for k in ("train", "val", "val_full"):
            hist[k] = [list(x) for x in prev["history"].get(k, [])]

    def save(final):
        t = time.time() - t_train0
        this_run = {"steps": step, "tokens": step * args.batch_size * T,
                    "train_seconds": round(t, 1), "wall_seconds": round(time.time() - t_start, 1),
                    "train": os.path.relpath(args.train, ROOT), "init_from": args.init_from,
                    "finished": final,
                    "command": " ".join(["/usr/bin/python3"] + [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])}
        runs = (prev["runs"] if prev else []) + [this_run]
        if prev:
            tok_source = prev.get("tokenizer", {}).get("source", args.init_from)
        else:
            tok_source = (args.tokenizer if not char_tok else
                          f"characters of the training text with frequency >= {args.char_min_freq}")
        summary = {
            "name": args.name, "params": n_params, "config": cfg_out,
            "tokenizer": {"type": "char" if char_tok else "byte_bpe",
                          "vocab_size": vocab_size, "source": tok_source},
            "data": {"train": os.path.relpath(args.train, ROOT), "val": os.path.relpath(args.val, ROOT),
                     "train_examples": len(train_ex), "train_tokens": int(len(train_s)),
                     "val_examples": len(val_ex), "val_tokens": int(len(val_s)),
                     "align_bos": args.align_bos},
            "training": {"steps": step, "batch_size": args.batch_size, "lr": args.lr,
                         "min_lr_frac": args.min_lr_frac, "warmup": args.warmup,
                         "weight_decay": args.weight_decay, "dropout": args.dropout,
                         "seed": args.seed, "threads": args.threads,
                         "time_budget_min": args.time_budget, "train_seconds": round(t, 1),
                         "tokens_seen": step * args.batch_size * T, "finished": final,
                         "init_from": args.init_from, "max_tokens": args.max_tokens,
                         "max_steps": args.max_steps,
                         "command": " ".join(["/usr/bin/python3"] + [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])},
            # "training" above is this run alone; these add up every run of these weights
            "cumulative": {"runs": len(runs), "steps": sum(r["steps"] for r in runs),
                           "tokens": sum(r["tokens"] for r in runs),
                           "train_seconds": round(sum(r["train_seconds"] for r in runs), 1),
                           "wall_seconds": round(sum(r["wall_seconds"] for r in runs), 1)},
            "runs": runs,
            "history": hist,
        }
        summary.update(final_metrics)
        write_weights(w_path, model, tok, cfg_out, plain=args.plain)
        with open(s_path, "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False, indent=1)
            f.write("\n")
        plot(p_path, hist, args.name)
        print(f"saved {w_path} ({os.path.getsize(w_path):,} bytes), {s_path}, {p_path}", flush=True)

    final_metrics = {}
    step = 0
    t_train0 = time.time()
    last_ckpt = t_train0
    ema = None
    model.train()
    while step < args.max_steps:
        elapsed = time.time() - t_train0
        if budget and elapsed >= budget:
            print(f"time budget reached at step {step}", flush=True)
            break
        lr = lr_at(step, elapsed)
        for g in opt.param_groups:
            g["lr"] = lr
        if args.align_bos:
            st = train_starts[rng.integers(0, len(train_starts), args.batch_size)]
            st = np.minimum(st, len(train_s) - T - 1)
        else:
            st = rng.integers(0, len(train_s) - T - 1, args.batch_size)
        idx = st[:, None] + np.arange(T + 1)[None, :]
        xy = torch.from_numpy(train_s[idx])
        x, y = xy[:, :-1], xy[:, 1:]
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab_size), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if step % 25 == 0:
            hist["train"].append((step0 + step, round(ema, 4)))
        if step % args.eval_interval == 0 or step == 1:
            vl = eval_stream(model, val_s, T, tok, args.eval_windows)[0]
            hist["val"].append((step0 + step, round(vl, 4)))
            el = time.time() - t_train0
            print(f"step {step} lr {lr:.2e} train {ema:.4f} val {vl:.4f} "
                  f"{el:.0f}s {step/el:.2f} steps/s", flush=True)
        if time.time() - last_ckpt > args.ckpt_minutes * 60:
            save(False)
            last_ckpt = time.time()

    # final evaluation: full validation stream, and an equally sized train sample
    t_eval = time.time()
    vl, vu, vt, vn = eval_stream(model, val_s, T, tok)
    n_val_windows = (len(val_s) - 1) // T
    off = int(len(train_s) * 0.37)  # a fixed slice of the training stream
    tl, tu, tt, tn = eval_stream(model, train_s[off:off + n_val_windows * T + 1], T, tok)
    hist.setdefault("val_full", []).append((step0 + step, round(vl, 4)))
    final_metrics = {"final": {
        "train_loss_per_token": round(tl, 4), f"train_loss_per_{unit}": round(tu, 4),
        "val_loss_per_token": round(vl, 4), f"val_loss_per_{unit}": round(vu, 4),
        "val_tokens_scored": vt, f"val_{unit}s_scored": vn,
        "definition": "mean cross-entropy in nats; the stream ([bos] ex [eos] ...) cut into "
                      "non-overlapping n_ctx windows, every position predicting its next "
                      f"token; per-{unit} = total nats / {unit}s of the predicted tokens' text "
                      "(special tokens count 0)"}}
    if args.val_slice:
        if args.data_format == "lines":
            sl = read_examples(args.val_slice, "lines")
        else:
            sl = [open(args.val_slice, encoding="utf-8").read()]
        a, b, c, d = eval_examples(model, tok, sl, T)
        final_metrics["val_slice"] = {
            "file": os.path.relpath(args.val_slice, ROOT), "loss_per_token": round(a, 5),
            f"loss_per_{unit}": round(b, 5), "tokens_scored": c, f"{unit}s_scored": d,
            "definition": ("each line scored on its own as [bos] + chars + [eos]"
                           if args.data_format == "lines" else
                           "the whole file as [bos] + encode(text) + [eos]") +
                          "; windows of n_ctx tokens with a fresh context each "
                          "(tokens s..s+n_ctx-1 predict s+1..s+n_ctx, s = 0, n_ctx, ...)"}
    print(f"final: train {tl:.4f}/tok {tu:.4f}/{unit}; val {vl:.4f}/tok {vu:.4f}/{unit} "
          f"(eval {time.time()-t_eval:.0f}s)", flush=True)
    save(True)

    # sanity-check generations
    for i in range(3):
        ids = generate(model, tok, [tok.bos], T - 1, temperature=0.8, top_k=40, seed=i)
        print(f"sample {i}: {tok.decode(ids)!r} {'<eos>' if ids and ids[-1]==tok.eos else ''}")
    ids = generate(model, tok, [tok.bos], T - 1, greedy=True)
    print(f"greedy: {tok.decode(ids)!r} {'<eos>' if ids and ids[-1]==tok.eos else ''}", flush=True)


if __name__ == "__main__":
    main()
