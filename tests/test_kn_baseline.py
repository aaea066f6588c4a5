#!/usr/bin/python3
"""Checks of tools/kn_baseline.py (run by CTest as kn_baseline_toy; a few seconds).

1. Hand-computed toy case: three examples, probabilities worked out on paper below.
2. Discounts from count-of-counts against the Chen & Goodman formulas, by hand.
3. A slow reference written straight from the definitions (tuples, sets, loops; no numpy
   keys, no shared code) agrees with KneserNey on a random corpus for orders 1-5, with the
   discounts estimated from the data, and on the windowed scoring of whole examples.
4. Every context's distribution sums to 1 over the vocabulary: seen contexts at every order,
   unseen contexts, tokens never seen in training, and histories cut short.
"""
import collections, math, os, random, sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from kn_baseline import KneserNey, estimate_discounts, predictions, score  # noqa: E402

failures = []


def check(name, got, want, tol=1e-12):
    if abs(got - want) > tol:
        failures.append(f"{name}: got {got!r}, want {want!r}")


def probs(m, hist, targets):
    """p(w | hist) for each w in targets; hist a tuple of at most N-1 ids."""
    H = max(m.N - 1, 1)
    row = [0] * (H - len(hist)) + list(hist) if m.N > 1 else [0]
    Q = len(targets)
    return m.prob(np.array([row] * Q, dtype=np.int64), np.full(Q, len(hist) if m.N > 1 else 0),
                  np.array(targets, dtype=np.int64))


# ---------------------------------------------------------------- 1. by hand
# ids: 0 <unk>, 1 <bos>, 2 <eos>, 3 a, 4 b; V = 5; discounts D1, D2, D3+ = 0.5, 1.0, 1.5.
BOS, EOS, A, B, V = 1, 2, 3, 4, 5
toy = [[BOS, A, B, EOS], [BOS, A, A, EOS], [BOS, B, EOS]]
D = (0.5, 1.0, 1.5)

# Order 1 (raw counts of the predicted tokens; the <bos>s are never predicted):
#   a 3, b 2, eos 3; total 8; N1 = 0, N2 = 1 (b), N3+ = 2 (a, eos)
#   gamma = (1.0 * 1 + 1.5 * 2) / 8 = 0.5
#   p(a) = (3 - 1.5)/8 + 0.5/5 = 0.2875 = p(eos);  p(b) = (2 - 1)/8 + 0.1 = 0.225
#   p(unk) = p(bos) = 0.1;  sum = 1
m1 = KneserNey(toy, V, 1, discounts=[D])
for w, want in [(0, 0.1), (BOS, 0.1), (EOS, 0.2875), (A, 0.2875), (B, 0.225)]:
    check(f"order 1 p({w})", float(probs(m1, (), [w])[0]), want)

# Order 3. Trigrams (raw): (bos a b) (a b eos) (bos a a) (a a eos) (bos b eos), 1 each.
# Bigrams (continuation = distinct left neighbours, + raw count at an example's start):
#   (bos a) 0 + 2 starts = 2; (bos b) 0 + 1 = 1; (a b) {bos} = 1; (a a) {bos} = 1;
#   (a eos) {a} = 1; (b eos) {a, bos} = 2.
# Unigrams (continuation): a {bos, a} = 2; b {a, bos} = 2; eos {b, a} = 2; total 6,
#   N2 = 3: gamma = 1.0 * 3 / 6 = 0.5;  p1(a) = p1(b) = p1(eos) = (2-1)/6 + 0.1 = 4/15.
# p(b | bos a): trigram context (bos a): total 2, N1 = 2, gamma = 0.5 * 2/2 = 0.5;
#   bigram context (a): (a b) 1, (a a) 1, (a eos) 1; total 3, N1 = 3, gamma = 0.5;
#   p2(b | a) = 0.5/3 + 0.5 * 4/15 = 0.3;  p = (1 - 0.5)/2 + 0.5 * 0.3 = 0.4
# p(eos | a b): trigram context (a b): total 1, gamma = 0.5; bigram context (b): (b eos) 2,
#   total 2, N2 = 1, gamma = 0.5; p2(eos | b) = (2-1)/2 + 0.5 * 4/15 = 19/30;
#   p = 0.5/1 + 0.5 * 19/30 = 49/60
# p(a | bos), history cut to one token (the second token of an example): bigram context
#   (bos): (bos a) 2, (bos b) 1; total 3, N1 = 1, N2 = 1, gamma = (0.5 + 1.0)/3 = 0.5;
#   p = (2-1)/3 + 0.5 * 4/15 = 7/15
# p(a | eos b): trigram context (eos b) never seen -> the bigram p2(a | b): context (b) has
#   only (b eos) 2, so p2(a | b) = 0 + 0.5 * 4/15 = 2/15
m3 = KneserNey(toy, V, 3, discounts=[D, D, D])
check("order 3 p(b | bos a)", float(probs(m3, (BOS, A), [B])[0]), 0.4)
check("order 3 p(eos | a b)", float(probs(m3, (A, B), [EOS])[0]), 49 / 60)
check("order 3 p(a | bos)", float(probs(m3, (BOS,), [A])[0]), 7 / 15)
check("order 3 p(a | eos b)", float(probs(m3, (EOS, B), [A])[0]), 2 / 15)
check("order 3 p(unk | <empty>)", float(probs(m3, (), [0])[0]), 0.1)

# ---------------------------------------------------------------- 2. discounts
# count-of-counts n1..n4 = 10, 4, 2, 1: Y = 10/18; D1 = 1 - 2Y*4/10 = 5/9;
# D2 = 2 - 3Y*2/4 = 7/6; D3+ = 3 - 4Y*1/2 = 17/9
cc = np.array([1] * 10 + [2] * 4 + [3] * 2 + [4] * 1 + [7] * 5)
d, estimated = estimate_discounts(cc)
for got, want in zip(d, (5 / 9, 7 / 6, 17 / 9)):
    check("discount", got, want)
# no count of 4 at all: no estimate, the fallback (0.5, 1.0, 1.5)
d, estimated = estimate_discounts(np.array([1, 1, 2, 3, 9]))
if estimated or tuple(d) != (0.5, 1.0, 1.5):
    failures.append(f"fallback discounts: {d} {estimated}")


# ---------------------------------------------------------------- 3. slow reference
class Reference:
    """Interpolated modified KN straight from the definitions."""

    def __init__(self, seqs, V, N):
        self.V, self.N = V, N
        raw = [collections.Counter() for _ in range(N + 1)]
        start = [collections.Counter() for _ in range(N + 1)]
        left = [collections.defaultdict(set) for _ in range(N + 1)]
        for s in seqs:
            for k in range(1, N + 1):
                for i in range(len(s) - k + 1):
                    if k == 1 and i == 0:
                        continue  # <bos> is never predicted
                    g = tuple(s[i:i + k])
                    raw[k][g] += 1
                    if i == 0:
                        start[k][g] += 1
                    else:
                        left[k][g].add(s[i - 1])
        self.c = [None]
        for k in range(1, N + 1):
            if k == N:
                self.c.append(dict(raw[k]))
            else:
                self.c.append({g: len(left[k][g]) + start[k][g] for g in raw[k]})
        self.D = [None]
        for k in range(1, N + 1):
            n = [sum(1 for v in self.c[k].values() if v == j) for j in (1, 2, 3, 4)]
            Y = n[0] / (n[0] + 2 * n[1])  # the test's corpus is made so that no n_j is 0
            self.D.append((0.0, 1 - 2 * Y * n[1] / n[0], 2 - 3 * Y * n[2] / n[1],
                           3 - 4 * Y * n[3] / n[2]))
        self.ctx = [None] + [collections.defaultdict(dict) for _ in range(N)]
        for k in range(1, N + 1):
            for g, v in self.c[k].items():
                self.ctx[k][g[:-1]][g[-1]] = v

    def p(self, w, h):
        k = len(h) + 1
        lower = 1.0 / self.V if k == 1 else self.p(w, h[1:])
        follow = self.ctx[k].get(tuple(h))
        if not follow:
            return lower
        total = sum(follow.values())
        Dk = self.D[k]
        gamma = sum(Dk[min(v, 3)] for v in follow.values()) / total
        c = follow.get(w, 0)
        return max(c - Dk[min(c, 3)], 0) / total + gamma * lower

    def score(self, examples, n_ctx):
        nll, n = 0.0, 0
        for ids in examples:
            for j in range(1, len(ids)):
                s = (j - 1) // n_ctx * n_ctx
                h = tuple(ids[max(s, j - self.N + 1):j])
                nll -= math.log(self.p(ids[j], h))
                n += 1
        return nll, n


rng = random.Random(14)
V = 104  # 0 unk, 1 bos, 2 eos, 3..102 text; token 103 never occurs in training
TEXT = list(range(3, 103))
zipf = [1 / (r + 1) ** 1.3 for r in range(len(TEXT))]  # rare tokens: unigram counts 1..4
follow = {t: rng.choices(TEXT, weights=zipf, k=2) for t in TEXT}  # a skewed Markov chain,
train = []                                                         # so that n-grams repeat
for _ in range(500):
    t, s = rng.choices(TEXT, weights=zipf)[0], [BOS]
    for _ in range(rng.randrange(1, 14)):
        s.append(t)
        t = rng.choice(follow[t]) if rng.random() < 0.8 else rng.choices(TEXT, weights=zipf)[0]
    train.append(s + [EOS])
val = []
for _ in range(30):
    val.append([BOS] + [rng.randrange(3, 104) for _ in range(rng.randrange(0, 14))] + [EOS])

for N in range(1, 6):
    fast, ref = KneserNey(train, V, N), Reference(train, V, N)
    if not all(lv["estimated"] for lv in fast.levels):
        failures.append(f"order {N}: discounts not estimated: {fast.discounts()}")
    for k in range(1, N + 1):
        for a, b in zip(fast.levels[k - 1]["D"][1:], ref.D[k][1:]):
            check(f"order {N} level {k} discount", float(a), b)
    for n_ctx in (4, 128):
        got, n = score(fast, val, n_ctx)
        want, n2 = ref.score(val, n_ctx)
        check(f"order {N} n_ctx {n_ctx} total nats", got, want, 1e-9)
        if n != n2 or n != sum(len(e) - 1 for e in val):
            failures.append(f"order {N}: {n} / {n2} predictions")
    # 4. every context sums to 1: all seen contexts of each order, plus unseen ones
    ctxs = set()
    for k in range(1, N + 1):
        ctxs |= set(ref.ctx[k])
    ctxs |= {(103,) * (N - 1), (EOS, 103)[:N - 1], (103, BOS, 3, 3)[:N - 1]}
    for h in sorted(ctxs):
        tot = float(probs(fast, h, list(range(V))).sum())
        check(f"order {N} sum over vocab given {h}", tot, 1.0, 1e-12)
        w = rng.randrange(V)
        check(f"order {N} p({w} | {h}) vs reference", float(probs(fast, h, [w])[0]),
              ref.p(w, h), 1e-12)

# windows: with n_ctx 4 the 6th target of an example sees only the window's tokens
hist, hlen, tgt, _ = predictions([[BOS, 3, 4, 5, 3, 4, 5, EOS]], 4, 5)
if hlen.tolist() != [1, 2, 3, 4, 1, 2, 3] or hist[4].tolist()[-1:] != [3]:
    failures.append(f"window histories: {hlen.tolist()} {hist.tolist()}")

if failures:
    print("\n".join(failures))
    print(f"0 passed, {len(failures)} failed")
    sys.exit(1)
print("kn_baseline: hand-computed toy, discounts, reference on orders 1-5, normalization: all ok")
