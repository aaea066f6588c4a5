#!/usr/bin/python3
"""GPT-2-style byte-level BPE: trainer and encoder.

* Alphabet: GPT-2's bytes_to_unicode() (256 printable stand-ins for the bytes).
* Pre-tokenizer: GPT-2's regex (needs python3-regex for \\p{L} / \\p{N}).
* Training: merges learned greedily by pair frequency over the pre-token counts;
  rank = learning order; ties go to the smallest pair, comparing (left, right)
  as Python tuples of str (code-point order of the stand-in strings).
  Training stops at the requested vocabulary size or when no pair occurs twice.
* Vocabulary: ids 0..255 the byte tokens in byte order (id b = bytes_to_unicode()[b]),
  then one id per merge in rank order, then the special token "<|endoftext|>".
* Encoding: exactly GPT-2's encoder.py: per pre-token, repeatedly merge the
  lowest-rank adjacent pair present (all its non-overlapping occurrences, left to
  right) until no ranked pair remains. Special-token strings inside text are
  encoded as ordinary text (like tiktoken's encode_ordinary).

Usage:
  /usr/bin/python3 tools/bpe_train.py --input data/english_train.txt \
      --vocab-size 3000 --out data/english_bpe.json
  /usr/bin/python3 tools/bpe_train.py --tokenizer data/english_bpe.json \
      --encode data/english_val_slice.txt --out data/english_val_slice.ids.json
The first writes the "tokenizer" object of the tiny-gpt weights format; the second
writes the reference ids of a text file (no bos/eos) for checking other encoders.
"""
import argparse, collections, heapq, json, sys, time

import regex as re

EOT = "<|endoftext|>"
PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_ENC = bytes_to_unicode()
BYTE_DEC = {v: k for k, v in BYTE_ENC.items()}


def pretokenize(text):
    return PAT.findall(text)


def to_symbols(pretoken):
    return "".join(BYTE_ENC[b] for b in pretoken.encode("utf-8"))


def train(texts, vocab_size, verbose=True):
    """texts: iterable of documents (special tokens already removed)."""
    counts = collections.Counter()
    for t in texts:
        counts.update(pretokenize(t))
    words = [list(to_symbols(w)) for w in counts]
    freqs = list(counts.values())
    n_merges = vocab_size - 256 - 1
    pair_count = collections.Counter()
    where = collections.defaultdict(set)  # pair -> word indices containing it
    for i, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += f
            where[(a, b)].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    t0 = time.time()
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc:
            continue  # stale entry
        if -negc < 2:
            break
        merges.append(pair)
        a, b = pair
        new = a + b
        changed = set()
        for i in list(where[pair]):
            w, f = words[i], freqs[i]
            # remove old pairs of this word
            for p in zip(w, w[1:]):
                pair_count[p] -= f
                changed.add(p)
            j, out = 0, []
            while j < len(w):
                if j < len(w) - 1 and w[j] == a and w[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for p in zip(out, out[1:]):
                pair_count[p] += f
                where[p].add(i)
                changed.add(p)
        del pair_count[pair]
        where.pop(pair, None)
        changed.discard(pair)
        for p in changed:
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            else:
                pair_count.pop(p, None)
        if verbose and len(merges) % 500 == 0:
            print(f"  {len(merges)} merges, last {pair} x{-negc}, {time.time()-t0:.1f}s",
                  file=sys.stderr)
    vocab = {BYTE_ENC[b]: b for b in range(256)}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    vocab[EOT] = len(vocab)
    return {"type": "byte_bpe", "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges],
            "bos_token": EOT, "eos_token": EOT}


class Encoder:
    def __init__(self, tok):
        self.vocab = tok["vocab"]
        self.inv = {i: t for t, i in self.vocab.items()}
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(tok["merges"])}
        self.eot = self.vocab.get(tok.get("eos_token") or EOT)
        self.cache = {}

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = list(token)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            a, b = best
            out, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == a and word[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = out
        self.cache[token] = word
        return word

    def encode(self, text):
        ids = []
        for pt in pretokenize(text):
            ids.extend(self.vocab[s] for s in self.bpe(to_symbols(pt)))
        return ids

    def decode_bytes(self, ids):
        out = bytearray()
        for i in ids:
            t = self.inv[i]
            if t == EOT:
                continue
            out.extend(BYTE_DEC[c] for c in t)
        return bytes(out)

    def decode(self, ids):
        return self.decode_bytes(ids).decode("utf-8", errors="replace")


def read_docs(path):
    text = open(path, encoding="utf-8").read()
    return [d.strip("\n") for d in text.split("\n" + EOT + "\n")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", help="text; documents separated by a line <|endoftext|>")
    ap.add_argument("--vocab-size", type=int, default=3000)
    ap.add_argument("--tokenizer", help="with --encode: tokenizer JSON to use")
    ap.add_argument("--encode", help="text file to encode (whole file, ordinary text)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.encode:
        enc = Encoder(json.load(open(args.tokenizer, encoding="utf-8")))
        text = open(args.encode, encoding="utf-8").read()
        ids = enc.encode(text)
        assert enc.decode(ids) == text
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump({"file": args.encode, "bytes": len(text.encode("utf-8")),
                       "n_tokens": len(ids), "ids": ids}, f)
            f.write("\n")
        print(f"{len(ids)} tokens", file=sys.stderr)
        return
    if not args.input:
        ap.error("--input is required for training")
    docs = read_docs(args.input)
    t0 = time.time()
    tok = train(docs, args.vocab_size)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=0)
        f.write("\n")
    enc = Encoder(tok)
    sample = docs[0][:2000]
    ids = enc.encode(sample)
    assert enc.decode(ids) == sample, "round trip failed"
    print(f"vocab {len(tok['vocab'])} ({len(tok['merges'])} merges) in {time.time()-t0:.1f}s; "
          f"{len(sample.encode())/len(ids):.2f} bytes/token on a sample", file=sys.stderr)


if __name__ == "__main__":
    main()
