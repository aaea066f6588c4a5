#!/usr/bin/python3
"""NumPy goldens for `tiny-gpt embed`: neighbours, similarity, analogies, positions, PCA.

Independent of the C++ engine: the models are read with tools/reference.py's loader and
tokenizer, and everything is computed in float64 from the float32 tables. Conventions
(the same as include/tinygpt/embedding.h):

  * a word is its tokens (no bos); a word of several tokens is the mean of their rows;
  * cosine with a zero vector is 0;
  * candidates are the tokenizer's ids minus special tokens (padded rows never count);
    a query's own tokens are left out;
  * ranking: higher cosine first, equal cosines by lower id (a stable sort on -cosine);
  * analogies are 3CosAdd as gensim's most_similar(positive=[A, C], negative=[B]): each
    term unit-normalised, weighted mean (+1 / -1), unit-normalised, ranked by cosine
    against the unit table, every token of every term left out;
  * PCA: centred vectors, SVD, the top two right singular vectors with the sign that
    makes each one's largest-magnitude component positive.

  /usr/bin/python3 tools/reference_embed.py make-fixtures --out tests/fixtures/embed
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402  (the format's loader and char tokenizer)

# Rankings whose neighbouring cosines are closer than this would let float32 rounding in
# the engine swap two entries; the generator refuses such a query rather than ship a flaky golden.
MIN_GAP = 1e-6

CASES = [
    dict(
        name="chinese_vocab",
        model="ref/chinese_vocab.model.json",
        words=["新", "年", "快", "樂", "機", "器", "學", "習", "早", "上", "好", "，", "A", "I", " ", "新年", "機器學習",
               "早上好"],
        similarity=[("新", "年"), ("新年", "快樂"), ("機器", "學習"), ("A", "I"), ("早上", "早上")],
        analogy=["新 - 年 + 機", "機器 - 學習 + 早上", "快 - 樂 + A", "學 + 習", "好 - 早 - 上"],
        positions=[("新", 0), ("新年", 5), ("好", 15)],
        pca=["新", "年", "快", "樂", "機器", "學習", "早上好", "AI"],
    ),
    dict(
        name="learned_tied_gelutanh",
        model="ref/learned_tied_gelutanh.model.json",
        words=["a", "e", "o", "w", " ", "<", "hello", "world", "<eos>"],
        similarity=[("hello", "world"), ("a", "b"), ("cat", "dog")],
        analogy=["hello - world + a", "b - a + c", "\" a\" - b + \"c \""],
        positions=[("hello", 3), ("w", 31)],
        pca=["a", "b", "c", "d", "hello", "world", " "],
    ),
    dict(
        # Padded rows (ids 22..26) are drawn larger: they would win every ranking if counted.
        name="padded_vocab",
        model="ref/padded_vocab.model.json",
        words=["a", "fish", "t"],
        similarity=[("fish", "shift")],
        analogy=["f - i + s"],
        positions=[],
        pca=["a", "b", "c", "fish"],
    ),
    dict(
        # unk is special: a word that becomes <unk> is queried with unk's row, and unk is
        # never a neighbour.
        name="unk_token",
        model="ref/unk_token.model.json",
        words=["ö", "hello", "w☃"],
        similarity=[("hello", "wörld")],
        analogy=["ö - a + b"],
        positions=[],
        pca=["hello", "ö", "a", "b"],
    ),
    dict(
        name="sinusoidal_untied_relu",
        model="ref/sinusoidal_untied_relu.model.json",
        words=["1", "x", "+"],
        similarity=[("1+2", "3")],
        analogy=["1 - 2 + 3"],
        positions=[("1", 0), ("1+2=", 7), ("z", 23)],
        pca=["0", "1", "2", "3", "x", "y", "z"],
    ),
]


class Table:
    def __init__(self, path):
        self.model = reference.Model.from_file(path)
        m = self.model
        self.E = m.tensors["wte.weight"].astype(np.float64)  # [V, D]
        self.n_real = m.n_real
        self.special = m.special_ids
        norms = np.linalg.norm(self.E[: self.n_real], axis=1)
        safe = np.where(norms > 0, norms, 1.0)
        self.unit = self.E[: self.n_real] / safe[:, None]  # zero rows stay zero

    def ids(self, word):
        return self.model.encode(word)

    def vector(self, word):
        return self.E[self.ids(word)].mean(axis=0)

    def ranking(self, query, exclude):
        """Every candidate, best first: [(id, cosine)]."""
        q = unit(query)
        cos = self.unit @ q
        cands = np.array([i for i in range(self.n_real) if i not in self.special and i not in set(exclude)], dtype=int)
        order = np.argsort(-cos[cands], kind="stable")  # ties: lower id first
        ranked = [(int(cands[k]), float(cos[cands[k]])) for k in order]
        gaps = [a[1] - b[1] for a, b in zip(ranked, ranked[1:])]
        if gaps and min(gaps) < MIN_GAP:
            raise SystemExit(f"near tie ({min(gaps):.2e}) in a ranking; choose another query")
        return ranked


def unit(v):
    n = np.linalg.norm(v)
    return v / n if n > 0 else np.zeros_like(v)


def cosine(a, b):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return 0.0 if na == 0 or nb == 0 else float(a @ b / (na * nb))


def parse_analogy(expr):
    """The few expressions the cases use: words split on spaces, "quoted" words kept whole."""
    terms, sign, i = [], +1, 0
    parts = []
    while i < len(expr):
        if expr[i] == " ":
            i += 1
        elif expr[i] == '"':
            j = expr.index('"', i + 1)
            parts.append((expr[i + 1:j], True))
            i = j + 1
        else:
            j = expr.find(" ", i)
            j = len(expr) if j < 0 else j
            parts.append((expr[i:j], False))
            i = j
    for k, (text, quoted) in enumerate(parts):
        if k % 2 == 1:
            assert not quoted and text in "+-"
            sign = +1 if text == "+" else -1
        else:
            terms.append((text, sign))
    return terms


def analogy(t, expr):
    terms = parse_analogy(expr)
    acc = np.zeros(t.E.shape[1])
    exclude = []
    for word, sign in terms:
        acc += sign * unit(t.vector(word))
        exclude += t.ids(word)
    acc /= len(terms)  # as gensim; the direction is what counts
    q = unit(acc)
    return {"expression": expr, "terms": [{"word": w, "sign": s, "ids": t.ids(w)} for w, s in terms],
            "query": [float(x) for x in q], "results": [{"id": i, "cosine": c} for i, c in t.ranking(q, exclude)]}


def pca(vectors):
    X = np.array(vectors, dtype=np.float64)
    X = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    axes = vt[:2].copy()
    for a in range(2):
        if axes[a][np.argmax(np.abs(axes[a]))] < 0:
            axes[a] = -axes[a]
    coords = X @ axes.T
    total = float((s ** 2).sum())
    return {"axes": [[float(x) for x in a] for a in axes], "points": [[float(x), float(y)] for x, y in coords],
            "explained": [float(s[a] ** 2 / total) for a in range(2)]}


def make_case(case, fixtures):
    t = Table(os.path.join(fixtures, case["model"]))
    m = t.model
    out = {"model": case["model"], "n_real": t.n_real, "special": sorted(t.special), "words": [], "similarity": [],
           "analogy": [], "positions": [], "pca": None}
    for word in case["words"]:
        ids = t.ids(word)
        out["words"].append({
            "word": word, "ids": ids,
            "vectors": [[float(x) for x in m.tensors["wte.weight"][i]] for i in ids],
            "mean": [float(x) for x in t.vector(word)],
            "neighbors": [{"id": i, "cosine": c} for i, c in t.ranking(t.vector(word), ids)],
        })
    for a, b in case["similarity"]:
        out["similarity"].append({"a": a, "b": b, "cosine": cosine(t.vector(a), t.vector(b))})
    for expr in case["analogy"]:
        out["analogy"].append(analogy(t, expr))
    D, C = m.D, m.C
    if m.cfg["positional"] == "learned":
        pe_table = m.tensors["wpe.weight"].astype(np.float64)
    else:
        pe_table = reference.sinusoidal_table(C, D).numpy()
    for word, p in case["positions"]:
        ids = t.ids(word)
        rows = [p + k for k in range(len(ids))]
        out["positions"].append({
            "word": word, "start": p, "positions": rows,
            "vectors": [[float(x) for x in pe_table[r]] for r in rows],
            # float64 sums; the engine adds in float32, so compare within a tolerance
            "inputs": [[float(x) for x in t.E[i] + pe_table[r]] for i, r in zip(ids, rows)],
        })
    out["pca"] = dict(words=case["pca"], ids=[t.ids(w) for w in case["pca"]], **pca([t.vector(w) for w in case["pca"]]))
    return out


def make_fixtures(out_dir):
    fixtures = os.path.normpath(os.path.join(out_dir, ".."))
    os.makedirs(out_dir, exist_ok=True)
    for case in CASES:
        golden = make_case(case, fixtures)
        reference.write_json(os.path.join(out_dir, case["name"] + ".json"), golden)
        print(f"{case['name']}: {len(golden['words'])} words, {len(golden['analogy'])} analogies, "
              f"PCA of {len(golden['pca']['words'])}", file=sys.stderr)
    reference.write_json(os.path.join(out_dir, "index.json"),
                         {"generator": "tools/reference_embed.py make-fixtures", "cases": [c["name"] for c in CASES]})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    mf = sub.add_parser("make-fixtures", help="write the goldens (the models come from tests/fixtures/ref)")
    mf.add_argument("--out", required=True, help="tests/fixtures/embed")
    args = ap.parse_args(argv)
    if args.cmd == "make-fixtures":
        make_fixtures(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
