#!/usr/bin/python3
"""Exact and near-duplicate detection for the prepared corpora, and the overlap between a
validation split and its training split.

Used by tools/prepare_data.py; also runnable on its own to audit two prepared files:
  /usr/bin/python3 tools/dedup.py --format lines data/tang_val_dedup.txt data/tang_train_dedup.txt

Definitions (the numbers in data/README.md use exactly these):
  * unit          Tang: one character, with the clause marks ，。？！ removed first (copies of
                  a poem that differ only in punctuation should still match); English: one
                  whitespace-separated word.
  * n-gram        n consecutive units. An example shorter than n units has one n-gram, the
                  whole example.
  * containment   c(a, b) = |grams(a) ∩ grams(b)| / |grams(a)| over distinct n-grams: the
                  share of a's n-grams that b also has.
  * near-duplicate  two examples for which, for some criterion (n, t) of the corpus,
                  max(c(a, b), c(b, a)) >= t. Tang: 8-grams with t = 0.5 ("most of its
                  8-grams") or 4-grams with t = 0.3 (variant readings, see TANG below);
                  English: word 8-grams with t = 0.5. Taking the larger direction catches an
                  excerpt (a couplet lifted out of a longer poem) as well as a copy.
  * cluster       a connected group under "exact duplicate or near-duplicate" (union-find), so
                  a chain of variants ends up in one cluster and on one side of the split.
  * overlap       the figures of overlap() below: verbatim copies, near-duplicates, and the
                  share of validation 8-gram positions found anywhere in training.

Candidate pairs come from an inverted index gram -> examples, so only examples that share a
gram are ever compared; on the 53,172 poems this takes well under a minute, not the
hours of all pairs.
"""
import argparse, collections, json, sys

N = 8
THRESHOLD = 0.5
# Character 8-grams alone miss the many copies of a Tang poem that differ by a variant
# character or reading every line or two (逈/迥, 暎/映, 一作…): one changed character spoils
# eight 8-grams. Character 4-grams (shorter than one 5-character line) catch those; in a
# sample of pairs whose 4-gram containment lay between 0.3 and 0.5, nearly all were such
# variants or a couplet lifted from a longer poem, below 0.3 unrelated poems begin to share
# a stock line. English words are not like that: word 4-grams ("and the LORD said") are
# common to unrelated chapters, so English uses word 8-grams only.
TANG = {"kind": "chars", "criteria": [(8, 0.5), (4, 0.3)]}
ENGLISH = {"kind": "words", "criteria": [(8, 0.5)]}
TANG_MARKS = "，。？！"


def units(text, kind):
    if kind == "chars":
        return [c for c in text if c not in TANG_MARKS]
    return text.split()


def grams(text, kind, n=N):
    """Distinct n-grams of the example's units, as a frozenset of strings (tuple-free so the
    index stays small). Examples shorter than n units yield their whole text as one gram."""
    u = units(text, kind)
    sep = "" if kind == "chars" else " "
    if len(u) < n:
        return frozenset([sep.join(u)]) if u else frozenset()
    return frozenset(sep.join(u[i:i + n]) for i in range(len(u) - n + 1))


class UnionFind:
    def __init__(self, n):
        self.parent = list(range(n))

    def find(self, x):
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:  # the smaller index becomes the root, so roots do not depend on order
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def _pairs(gsets, skip, threshold):
    """Pairs (j, i), j < i, whose containment either way round is >= threshold. The inverted
    index only ever holds earlier examples, so each pair is seen once, from its later member."""
    index = collections.defaultdict(list)  # gram -> earlier examples
    out = []
    for i, g in enumerate(gsets):
        if skip[i]:
            continue
        shared = collections.Counter()
        for x in g:
            post = index.get(x)
            if post:
                shared.update(post)
            index[x].append(i)
        for j, s in shared.items():
            if s >= threshold * len(g) or s >= threshold * len(gsets[j]):
                out.append((j, i))
    return out


def clusters(texts, kind, criteria):
    """Group exact and near-duplicates. criteria: [(n, threshold), ...]; a pair is a
    near-duplicate when any criterion holds. Returns (root per example, stats): root[i] is
    the smallest index of i's cluster; stats counts the linking pairs by reason."""
    uf = UnionFind(len(texts))
    first = {}
    exact = [False] * len(texts)
    for i, t in enumerate(texts):  # exact duplicates: the same cleaned text
        if t in first:
            uf.union(first[t], i)
            exact[i] = True
        else:
            first[t] = i
    stats = {"exact_duplicate_copies": sum(exact)}
    linked = set()
    for n, thr in criteria:  # exact copies are skipped: they are in their original's cluster
        pairs = _pairs([grams(t, kind, n) for t in texts], exact, thr)
        new = [p for p in pairs if p not in linked]
        stats[f"near_duplicate_pairs_{n}gram_{thr}"] = len(pairs)
        stats[f"near_duplicate_pairs_{n}gram_{thr}_not_found_before"] = len(new)
        linked.update(pairs)
        for j, i in pairs:
            uf.union(j, i)
    roots = [uf.find(i) for i in range(len(texts))]
    return roots, stats


def split_by_clusters(texts, roots, is_val_position):
    """One example per cluster, the cluster on one side of the split.

    A cluster goes to validation only when every member sits at a validation position of
    the old split (is_val_position(i)); any other cluster goes to training. So the new
    validation set is a subset of the old one and has no exact or near-duplicate anywhere in
    the old training set either: models trained on the old split can be scored on it without
    a leak. The kept member is the first one (in corpus order) on the cluster's side.
    Returns (train indices, val indices, per-cluster info)."""
    members = collections.defaultdict(list)
    for i, r in enumerate(roots):
        members[r].append(i)
    train, val = [], []
    for r in sorted(members):
        m = members[r]
        if all(is_val_position(i) for i in m):
            val.append(m[0])
        else:
            train.append(next(i for i in m if not is_val_position(i)))
    return sorted(train), sorted(val), members


def overlap(val_texts, train_texts, kind, criteria, n=N, threshold=THRESHOLD):
    """How much of the validation text the training text already holds.
    verbatim_in_train: validation examples identical to a training example;
    near_duplicates_of_a_train_example: validation examples that are a near-duplicate
      (any of `criteria`, as in clusters()) of a single training example;
    mostly_seen_in_train: validation examples with at least `threshold` of their distinct
      n-grams somewhere in training (the union of all training examples);
    val_gram_share_seen_in_train: share of the validation n-gram positions (every window of
      every example, counted with repetition) whose n-gram occurs anywhere in training."""
    train_set = set(train_texts)
    out = {"val_examples": len(val_texts),
           "verbatim_in_train": sum(1 for t in val_texts if t in train_set)}
    near = [False] * len(val_texts)
    for cn, thr in criteria:
        tg = [grams(t, kind, cn) for t in train_texts]
        index = collections.defaultdict(list)
        for j, g in enumerate(tg):
            for x in g:
                index[x].append(j)
        for k, t in enumerate(val_texts):
            g = grams(t, kind, cn)
            shared = collections.Counter()
            for x in g:
                shared.update(index.get(x, ()))
            if any(s >= thr * len(g) or s >= thr * len(tg[j]) for j, s in shared.items()):
                near[k] = True
    out["near_duplicates_of_a_train_example"] = sum(near)
    seen = set()
    for t in train_texts:
        seen |= grams(t, kind, n)
    sep = "" if kind == "chars" else " "
    pos_seen = pos_all = mostly = 0
    for t in val_texts:
        u = units(t, kind)
        ws = ([sep.join(u[i:i + n]) for i in range(len(u) - n + 1)] if len(u) >= n
              else [sep.join(u)])
        pos_all += len(ws)
        pos_seen += sum(1 for w in ws if w in seen)
        g = grams(t, kind, n)
        if sum(1 for x in g if x in seen) >= threshold * len(g):
            mostly += 1
    out.update({"mostly_seen_in_train": mostly, "val_gram_positions": pos_all,
                "val_gram_positions_seen_in_train": pos_seen,
                "val_gram_share_seen_in_train": round(pos_seen / max(pos_all, 1), 6)})
    return out


def read_examples(path, fmt):
    text = open(path, encoding="utf-8").read()
    if fmt == "lines":
        return [l for l in text.split("\n") if l]
    return [d.strip("\n") for d in text.split("\n<|endoftext|>\n") if d.strip("\n")]


def main():
    ap = argparse.ArgumentParser(description="overlap of a validation file with a training file")
    ap.add_argument("--format", choices=["lines", "eot"], required=True)
    ap.add_argument("val")
    ap.add_argument("train")
    a = ap.parse_args()
    c = TANG if a.format == "lines" else ENGLISH
    r = overlap(read_examples(a.val, a.format), read_examples(a.train, a.format), c["kind"],
                c["criteria"])
    json.dump(r, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
