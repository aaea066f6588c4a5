#!/usr/bin/python3
"""Interpolated modified Kneser-Ney n-gram baselines on a model's own tokens, scored on
exactly the validation predictions the transformer is scored on.

  /usr/bin/python3 tools/kn_baseline.py --model models/tang-poems.json \
      --train data/tang_train.txt --val data/tang_val_dedup.txt --format lines --orders 1,2,3,5
  /usr/bin/python3 tools/kn_baseline.py --card      # the table of models/README.md
                                                    # (writes docs/baselines.json)

The model (Chen & Goodman 1998, "interpolated modified Kneser-Ney"; the same count
adjustments as KenLM's lmplz):

  p_0(w)       = 1 / V                                    V = the model's vocab_size
  p_k(w | h)   = max(c_k(hw) - D_k(c_k(hw)), 0) / c_k(h.)  +  g_k(h) * p_{k-1}(w | h')
  g_k(h)       = (D_k1 N1(h.) + D_k2 N2(h.) + D_k3+ N3+(h.)) / c_k(h.)
  p_k(w | h)   = p_{k-1}(w | h')                          when c_k(h.) = 0 (h never seen)

h' is h without its first token, c_k(h.) = sum over w of c_k(hw), N_j(h.) = number of w
with c_k(hw) = j (N3+: >= 3). D_k(0) = 0, D_k(1) = D_k1, D_k(2) = D_k2, D_k(c >= 3) = D_k3+.

Counts c_k: the raw count at the highest order N; below it the "continuation" count, the
number of distinct tokens seen just before the k-gram, plus its raw count at the start of
an example (a k-gram that starts at [bos] has no token before it, so, as in KenLM, its
occurrences count as they are). Discounts per order from that order's count-of-counts
n1..n4:  Y = n1 / (n1 + 2 n2),  D1 = 1 - 2Y n2/n1,  D2 = 2 - 3Y n3/n2,  D3+ = 3 - 4Y n4/n3.

Every p_k(. | h) sums to 1 over the whole vocabulary, so an unseen token or context still
gets a proper probability (the uniform p_0 at the bottom).

Data, the same as the transformer's: every example is [bos] + tokens + [eos] with the
model's own tokenizer (tools/train.py's CharTokenizer / BpeTokenizer, built from the
model JSON's tokenizer object). Training counts only n-grams inside one example and only
predicted tokens (the [bos] at position 0 is never predicted, so it is not a unigram
event). Scoring follows src/perplexity.cpp: target j = 1 .. len-1, in windows of n_ctx
tokens with a fresh context each, so the history of target j is at most the tokens
ids[s .. j-1] with s = n_ctx * ((j-1) // n_ctx), and at most N-1 of them.
"""
import argparse, json, math, os, sys, time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


FALLBACK = (0.5, 1.0, 1.5)


def estimate_discounts(counts):
    """Modified-KN discounts (D1, D2, D3+) from the count-of-counts of one order, and
    whether they are the estimate (True) or the fallback (False).

    An order whose count-of-counts has a zero among n1..n4 (a small vocabulary's unigrams:
    every token seen many times) or whose estimate leaves 0 < Dj <= j has no usable
    estimate; like KenLM's --discount_fallback it then gets (0.5, 1.0, 1.5)."""
    n = [int(np.count_nonzero(counts == j)) for j in (1, 2, 3, 4)]
    if min(n) == 0:
        return FALLBACK, False
    y = n[0] / (n[0] + 2 * n[1])
    d = (1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2])
    if not all(0 < dj <= j + 1 for j, dj in enumerate(d)):
        return FALLBACK, False
    return d, True


class KneserNey:
    """Interpolated modified Kneser-Ney of order N over token ids 0..V-1.

    n-grams are stored as int64 keys (w1 * V + w2) * V + ... so that counting and lookup
    are numpy sorts and binary searches instead of millions of Python tuples; this needs
    V ** N < 2 ** 63 (V = 4,899 and N = 5 gives 2.8e18, just inside)."""

    def __init__(self, sequences, vocab_size, order, discounts=None):
        V, N = vocab_size, order
        if V ** N >= 2 ** 63:
            raise ValueError(f"vocab {V} ** order {N} does not fit an int64 key")
        self.V, self.N = V, N
        ids = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences])
        if ids.size and (ids.min() < 0 or ids.max() >= V):
            raise ValueError("token id outside 0..V-1")
        lens = np.array([len(s) for s in sequences], dtype=np.int64)
        first = np.repeat(np.cumsum(lens) - lens, lens)
        pos = np.arange(ids.size) - first          # position inside its example
        rem = np.repeat(lens, lens) - pos          # tokens from here to the example's end
        self.levels = []                           # per order k = 1..N, see below
        uniq = [None] * (N + 2)
        raw = [None] * (N + 2)
        start = [None] * (N + 2)
        key = np.zeros(ids.size, dtype=np.int64)
        for k in range(1, N + 1):
            # key[i] = the k-gram starting at i (valid where rem[i] >= k)
            shifted = np.zeros(ids.size, dtype=np.int64)
            shifted[:ids.size - (k - 1)] = ids[k - 1:]
            key = key * V + shifted
            ok = rem >= k
            if k == 1:
                ok &= pos > 0  # the [bos] at position 0 is never predicted
            uniq[k], raw[k] = np.unique(key[ok], return_counts=True)
            st = key[ok & (pos == 0)]
            su, sc = np.unique(st, return_counts=True)
            start[k] = np.zeros(uniq[k].size, dtype=np.int64)
            start[k][np.searchsorted(uniq[k], su)] = sc
        for k in range(1, N + 1):
            if k == N:
                c = raw[k]
            else:
                # distinct left neighbours: the (k+1)-gram types, each counted once for the
                # k-gram it ends with; plus the raw count of starts (no left neighbour)
                suf, nsuf = np.unique(uniq[k + 1] % V ** k, return_counts=True)
                c = start[k].copy()
                c[np.searchsorted(uniq[k], suf)] += nsuf
            d, est = (discounts[k - 1], False) if discounts else estimate_discounts(c)
            ctx, inv = np.unique(uniq[k] // V, return_inverse=True)
            nc = ctx.size
            self.levels.append({
                "keys": uniq[k], "counts": c, "D": np.array([0.0, d[0], d[1], d[2]]),
                "estimated": est,
                "ctx": ctx, "total": np.bincount(inv, c, nc),
                "n1": np.bincount(inv, c == 1, nc), "n2": np.bincount(inv, c == 2, nc),
                "n3": np.bincount(inv, c >= 3, nc)})

    def discounts(self):
        """Per order: [D1, D2, D3+], with "fallback" appended where not estimated."""
        return [[round(float(x), 4) for x in lv["D"][1:]] + ([] if lv["estimated"] else ["fallback"])
                for lv in self.levels]

    @staticmethod
    def _lookup(sorted_keys, q):
        i = np.searchsorted(sorted_keys, q)
        i = np.minimum(i, sorted_keys.size - 1)
        return i, sorted_keys[i] == q

    def prob(self, hist, hlen, target):
        """p(target | history) for a batch. hist: [Q, N-1] int64, the history right-aligned
        (hist[:, -1] is the token just before the target); hlen: [Q] how many of those are
        real (0 .. N-1; the rest is ignored); target: [Q]. Returns float64 [Q]."""
        V, N = self.V, self.N
        target = np.asarray(target, dtype=np.int64)
        hlen = np.asarray(hlen, dtype=np.int64)
        p = np.full(target.shape, 1.0 / V)
        ctx = np.zeros(target.shape, dtype=np.int64)  # key of the last k-1 history tokens
        for k in range(1, N + 1):
            lv = self.levels[k - 1]
            if k >= 2:  # widen the context by one more token to the left
                ctx = ctx + hist[:, N - k] * V ** (k - 2)
            active = hlen >= k - 1
            ci, cfound = self._lookup(lv["ctx"], ctx)
            total = np.where(cfound, lv["total"][ci], 0.0)
            use = active & (total > 0)
            gi, gfound = self._lookup(lv["keys"], ctx * V + target)
            c = np.where(gfound, lv["counts"][gi], 0)
            D = lv["D"][np.minimum(c, 3)]
            safe = np.where(use, total, 1.0)
            gamma = (lv["D"][1] * lv["n1"][ci] + lv["D"][2] * lv["n2"][ci]
                     + lv["D"][3] * lv["n3"][ci]) / safe
            p = np.where(use, np.maximum(c - D, 0.0) / safe + gamma * p, p)
        return p


def predictions(examples_ids, n_ctx, N):
    """The (history, history length, target) of every prediction the transformer makes on
    these examples (each already [bos] + tokens + [eos]), in windows of n_ctx tokens."""
    H = max(N - 1, 1)
    hist, hlen, tgt, ex = [], [], [], []
    for e, ids in enumerate(examples_ids):
        for j in range(1, len(ids)):
            s = n_ctx * ((j - 1) // n_ctx)  # the window's first input token
            lo = max(s, j - (N - 1))
            h = ids[lo:j]
            hist.append([0] * (H - len(h)) + list(h) if N > 1 else [0])
            hlen.append(len(h) if N > 1 else 0)
            tgt.append(ids[j])
            ex.append(e)
    return (np.array(hist, dtype=np.int64).reshape(-1, H), np.array(hlen, dtype=np.int64),
            np.array(tgt, dtype=np.int64), np.array(ex, dtype=np.int64))


def score(model, examples_ids, n_ctx):
    """Total nats and prediction count of the KN model on these examples."""
    hist, hlen, tgt, _ = predictions(examples_ids, n_ctx, model.N)
    p = model.prob(hist, hlen, tgt)
    return float(-np.log(p).sum()), int(tgt.size)


# ------------------------------------------------------------------ the model's data
def load_tokenizer(model_path):
    """The model's tokenizer, as tools/train.py builds it, and the model's config."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from train import CharTokenizer, BpeTokenizer
    d = json.load(open(model_path, encoding="utf-8"))
    t = d["tokenizer"]
    tok = CharTokenizer(t["vocab"]) if t["type"] == "char" else BpeTokenizer(t)
    return tok, d["config"]


def read_examples(path, fmt):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from train import read_examples as rd
    return rd(path, fmt)


def encode_all(tok, examples):
    return [[tok.bos] + tok.encode(e) + [tok.eos] for e in examples]


def transformer_loss(model_path, examples):
    """The transformer's per-example validation loss in PyTorch (tools/train.py
    eval_examples, the computation src/perplexity.cpp matches to 1e-3)."""
    import torch
    torch.set_num_threads(1)
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from train import load_model, eval_examples
    model, tok = load_model(model_path)
    per_tok, _, ntok, _ = eval_examples(model, tok, examples, model.cfg["n_ctx"])
    return per_tok * ntok, ntok


def run(model_path, train_path, val_path, fmt, orders, transformer=False, log=print,
        full_context=False):
    tok, cfg = load_tokenizer(model_path)
    V, n_ctx = cfg["vocab_size"], cfg["n_ctx"]
    if full_context:  # no window cuts: the n-gram history may reach back past a window start
        n_ctx = 1 << 62
    t0 = time.time()
    train_ids = encode_all(tok, read_examples(train_path, fmt))
    val_ex = read_examples(val_path, fmt)
    val_ids = encode_all(tok, val_ex)
    log(f"{os.path.basename(model_path)}: {len(train_ids)} training examples "
        f"({sum(map(len, train_ids)):,} tokens), {len(val_ids)} validation examples; "
        f"encoded in {time.time() - t0:.0f}s")
    out = {"model": os.path.relpath(model_path, ROOT), "train": os.path.relpath(train_path, ROOT),
           "val": os.path.relpath(val_path, ROOT), "vocab_size": V, "n_ctx": n_ctx,
           "val_examples": len(val_ids), "full_context": full_context, "kn": {}}
    for N in orders:
        t0 = time.time()
        m = KneserNey(train_ids, V, N)
        nll, n = score(m, val_ids, n_ctx)
        out["kn"][str(N)] = {"loss_per_token": round(nll / n, 4), "tokens": n,
                             "discounts": m.discounts()}
        log(f"  KN order {N}: {nll / n:.4f} nats/token over {n} predictions "
            f"({time.time() - t0:.0f}s; discounts {m.discounts()})")
    if transformer:
        t0 = time.time()
        nll, n = transformer_loss(model_path, val_ex)
        out["transformer"] = {"loss_per_token": round(nll / n, 4), "tokens": n}
        log(f"  transformer: {nll / n:.4f} nats/token over {n} predictions "
            f"({time.time() - t0:.0f}s)")
    return out


# The model card's table: each shipped model on the de-duplicated validation set (Tang)
# or the unchanged one (English, nothing to remove), KN trained on the text the model was
# trained on; for Tang also on the de-duplicated training text that later runs will use.
CARD = [
    ("models/tang-poems.json", "data/tang_train.txt", "data/tang_val_dedup.txt", "lines"),
    ("models/tang-poems.json", "data/tang_train_dedup.txt", "data/tang_val_dedup.txt", "lines"),
    ("models/tang-poems.json", "data/tang_train.txt", "data/tang_val.txt", "lines"),
    ("models/english-kjv.json", "data/english_train.txt", "data/english_val.txt", "eot"),
]


def card(out_path, orders):
    rows = []
    done = {}
    for m, tr, va, fmt in CARD:
        key = (m, va)
        r = run(os.path.join(ROOT, m), os.path.join(ROOT, tr), os.path.join(ROOT, va), fmt,
                orders, transformer=key not in done)
        if key in done:  # same model and validation file: the transformer number is the same
            r["transformer"] = done[key]
        done[key] = r["transformer"]
        rows.append(r)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"orders": orders, "rows": rows}, f, indent=1)
        f.write("\n")
    print("\n| model | training text (KN) | validation | predictions | " +
          " | ".join("unigram" if n == 1 else f"KN-{n}" for n in orders) + " | transformer |")
    print("|---|---|---|---|" + "---|" * (len(orders) + 1))
    for r in rows:
        print(f"| {os.path.basename(r['model'])[:-5]} | `{r['train']}` | `{r['val']}` "
              f"({r['val_examples']:,}) | {r['transformer']['tokens']:,} | " +
              " | ".join(f"{r['kn'][str(n)]['loss_per_token']:.3f}" for n in orders) +
              f" | {r['transformer']['loss_per_token']:.3f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--card", action="store_true", help="rebuild the model card's table")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "baselines.json"))
    ap.add_argument("--model")
    ap.add_argument("--train")
    ap.add_argument("--val")
    ap.add_argument("--format", choices=["lines", "eot"])
    ap.add_argument("--orders", default="1,2,3,4,5")
    ap.add_argument("--transformer", action="store_true", help="also score the model (PyTorch)")
    ap.add_argument("--full-context", action="store_true",
                    help="KN histories ignore the transformer's n_ctx windows (only matters "
                         "for examples longer than n_ctx: the English chapters)")
    a = ap.parse_args()
    orders = [int(x) for x in a.orders.split(",")]
    if a.card:
        return card(a.out, orders)
    if not (a.model and a.train and a.val and a.format):
        ap.error("--model, --train, --val and --format are needed (or --card)")
    r = run(a.model, a.train, a.val, a.format, orders, a.transformer, full_context=a.full_context)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
