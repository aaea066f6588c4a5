#!/usr/bin/python3
"""Rebuild the prepared training text in data/ from registry packages.

Sources (no network except the package registries):
  * Tang poems: npm package `chinese-poetry` (MIT licence), files
    dist/quantangshi/poet.tang.*.json. Fetched with `npm pack` into a temp dir
    unless --poetry-dir points at an unpacked package.
  * King James Bible: Debian package `bible-kjv-text` (public-domain text), read
    through the `bible` program from the Debian package `bible-kjv`.

Outputs (all UTF-8, LF):
  data/tang_train.txt, data/tang_val.txt   one poem per line (no title)
  data/tang_val_slice.txt                  first ~4 KB of tang_val.txt (whole lines)
  data/english_train.txt, data/english_val.txt
                                           chapters separated by a line holding
                                           only <|endoftext|>
  data/english_val_slice.txt               first ~4 KB of the first val chapter
  data/english_bpe.json                    byte-level BPE tokenizer (tools/bpe_train.py,
                                           3000 tokens, trained on english_train.txt)
  data/english_val_slice.ids.json          reference BPE ids of english_val_slice.txt
  data/tang_train_dedup.txt, data/tang_val_dedup.txt
                                           the de-duplicated Tang split (tools/dedup.py):
                                           one poem per exact/near-duplicate cluster
  data/dedup_report.json                   what de-duplication removed and the overlap
                                           that remains, for both corpora
Split: deterministic, every 50th example (index % 50 == 49) goes to validation. The
de-duplicated split keeps that rule for whole clusters: a cluster is validation only when
all its members sit at validation positions (tools/dedup.py split_by_clusters), so
tang_val_dedup.txt is a subset of tang_val.txt with no duplicate in either training set.
The files the C++ tests read (tang_val.txt, the slices, english_val.txt) are unchanged.

Usage: /usr/bin/python3 tools/prepare_data.py [--poetry-dir DIR]
       /usr/bin/python3 tools/prepare_data.py --train-text-only --out-dir DIR
The second form writes only tang_train.txt and english_train.txt, into DIR (the test
of the tokenizer fixture rebuilds them so, as they are not committed).
"""
import argparse, collections, glob, hashlib, json, os, re, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
DATA = os.path.join(ROOT, "data")
VAL_EVERY = 50
SLICE_BYTES = 4096
EOT = "<|endoftext|>"
BPE_VOCAB = 3000

PUNCT = set("，。？！")
# annotations such as （一作…） [ ... ] 〖 ... 〗 { ... } are editorial, not poem text
ANNOT = re.compile(r"（[^（）]*）|\([^()]*\)|\[[^\[\]]*\]|〖[^〖〗]*〗|\{[^{}]*\}")


def is_cjk(ch):
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FA1F
            or 0xF900 <= o <= 0xFAFF)


def get_poetry_dir(arg):
    if arg:
        return arg
    tmp = tempfile.mkdtemp(prefix="chinese-poetry-")
    subprocess.run(["npm", "pack", "chinese-poetry@2.0.1", "--silent"], cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL)
    tgz = glob.glob(os.path.join(tmp, "chinese-poetry-*.tgz"))[0]
    subprocess.run(["tar", "xzf", tgz, "-C", tmp], check=True)
    return os.path.join(tmp, "package")


def tang_poems(pkg):
    files = sorted(glob.glob(os.path.join(pkg, "dist", "quantangshi", "poet.tang.*.json")),
                   key=lambda f: int(re.search(r"tang\.(\d+)\.json", f).group(1)))
    assert files, "no poet.tang.*.json found in " + pkg
    poems, dropped = [], 0
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for p in json.load(fh):
                t = "".join(p.get("paragraphs") or [])
                t = ANNOT.sub("", t)
                t = re.sub(r"\s+", "", t)
                # keep only poems made of CJK characters and the four clause marks,
                # ending in a clause mark, that fit a 128-token context with <bos>/<eos>
                if (10 <= len(t) <= 126 and t[-1] in PUNCT
                        and all(is_cjk(c) or c in PUNCT for c in t)):
                    poems.append(t)
                else:
                    dropped += 1
    return poems, dropped


def kjv_chapters():
    raw = subprocess.run(["bible", "-l", "100000", "gen1:1-rev22:21"], check=True,
                         capture_output=True, text=True).stdout
    chapters, cur = [], None
    for line in raw.split("\n"):
        if not line.strip():
            continue
        m = re.match(r"^\s+(\d+) (.*)$", line)
        if m:  # a verse: drop its number, one verse per line
            cur[1].append(re.sub(r"\s+", " ", m.group(2)).strip())
        else:  # a heading such as "Genesis 1"
            cur = (line.strip(), [])
            chapters.append(cur)
    return [h + "\n\n" + "\n".join(v) for h, v in chapters]


def split(examples):
    tr = [e for i, e in enumerate(examples) if i % VAL_EVERY != VAL_EVERY - 1]
    va = [e for i, e in enumerate(examples) if i % VAL_EVERY == VAL_EVERY - 1]
    return tr, va


def is_val_position(i):
    return i % VAL_EVERY == VAL_EVERY - 1


def tang_dedup(poems, old_tr, old_va):
    """De-duplicate the poems, write the de-duplicated split, and return the figures."""
    import dedup
    t0 = time.time()
    roots, stats = dedup.clusters(poems, dedup.TANG["kind"], dedup.TANG["criteria"])
    tr_i, va_i, members = dedup.split_by_clusters(poems, roots, is_val_position)
    tr = [poems[i] for i in tr_i]
    va = [poems[i] for i in va_i]
    write("tang_train_dedup.txt", "\n".join(tr) + "\n")
    write("tang_val_dedup.txt", "\n".join(va) + "\n")
    sizes = collections.Counter(len(m) for m in members.values())
    straddling = sum(1 for m in members.values()
                     if len(set(is_val_position(i) for i in m)) == 2)
    kind, crit = dedup.TANG["kind"], dedup.TANG["criteria"]
    r = {"criteria": {"unit": "character, clause marks removed",
                      "near_duplicate": [{"n": n, "containment_at_least": t} for n, t in crit]},
         "poems_before": len(poems), "clusters": len(members),
         "poems_after": len(tr) + len(va), "removed": len(poems) - len(tr) - len(va),
         **stats,
         "cluster_sizes": {str(k): v for k, v in sorted(sizes.items())},
         "clusters_with_members_on_both_sides_of_the_old_split": straddling,
         "old_split": {"train": len(old_tr), "val": len(old_va)},
         "dedup_split": {"train": len(tr), "val": len(va)},
         "overlap_old_val_vs_old_train": dedup.overlap(old_va, old_tr, kind, crit),
         "overlap_dedup_val_vs_dedup_train": dedup.overlap(va, tr, kind, crit),
         "overlap_dedup_val_vs_old_train": dedup.overlap(va, old_tr, kind, crit)}
    # the time is printed, not kept in the report, so that the report is byte-identical
    print(f"tang dedup: {len(poems)} poems -> {len(tr) + len(va)} ({stats}); "
          f"train {len(tr)} val {len(va)}; {time.time() - t0:.0f}s")
    return r


def english_check(chs, tr, va):
    """The same check on the English chapters (and verses); the English split is not changed
    (see data/README.md for why)."""
    import dedup
    kind, crit = dedup.ENGLISH["kind"], dedup.ENGLISH["criteria"]
    roots, stats = dedup.clusters(chs, kind, crit)
    members = collections.defaultdict(list)
    for i, r in enumerate(roots):
        members[r].append(i)
    groups = [[chs[i].split("\n", 1)[0] + (" (val)" if is_val_position(i) else "") for i in m]
              for m in members.values() if len(m) > 1]
    train_verses = set(v for c in tr for v in c.split("\n")[2:])
    val_verses = [v for c in va for v in c.split("\n")[2:]]
    seen = [v for v in val_verses if v in train_verses]
    return {"criteria": {"unit": "whitespace-separated word",
                         "near_duplicate": [{"n": n, "containment_at_least": t} for n, t in crit]},
            "chapters": len(chs), **stats, "near_duplicate_groups": groups,
            "overlap_val_vs_train": dedup.overlap(va, tr, kind, crit),
            "val_verses": len(val_verses), "val_verses_verbatim_in_train": len(seen),
            "val_verses_verbatim_in_train_list": seen}


def write(name, text, out_dir=DATA):
    with open(os.path.join(out_dir, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def head_lines(text, nbytes):
    out, n = [], 0
    for line in text.split("\n"):
        b = len(line.encode("utf-8")) + 1
        if n + b > nbytes and out:
            break
        out.append(line)
        n += b
    return "\n".join(out) + "\n"


def write_train_text(args):
    """The two training texts alone, exactly as main() writes them."""
    os.makedirs(args.out_dir, exist_ok=True)
    sep = "\n" + EOT + "\n"
    tr, _ = split(tang_poems(get_poetry_dir(args.poetry_dir))[0])
    write("tang_train.txt", "\n".join(tr) + "\n", args.out_dir)
    tr, _ = split(kjv_chapters())
    write("english_train.txt", sep.join(tr) + "\n", args.out_dir)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--poetry-dir", help="unpacked chinese-poetry npm package")
    ap.add_argument("--train-text-only", action="store_true",
                    help="write only tang_train.txt and english_train.txt (to --out-dir)")
    ap.add_argument("--out-dir", default=DATA, help="with --train-text-only: where to write them")
    args = ap.parse_args()
    if args.train_text_only:
        return write_train_text(args)
    os.makedirs(DATA, exist_ok=True)

    poems, dropped = tang_poems(get_poetry_dir(args.poetry_dir))
    tr, va = split(poems)
    write("tang_train.txt", "\n".join(tr) + "\n")
    write("tang_val.txt", "\n".join(va) + "\n")
    write("tang_val_slice.txt", head_lines("\n".join(va), SLICE_BYTES))
    print(f"tang: kept {len(poems)} poems, dropped {dropped}; train {len(tr)} val {len(va)}")
    report = {"tang": tang_dedup(poems, tr, va)}

    chs = kjv_chapters()
    tr, va = split(chs)
    sep = "\n" + EOT + "\n"
    write("english_train.txt", sep.join(tr) + "\n")
    write("english_val.txt", sep.join(va) + "\n")
    # the slice is plain text (no special tokens): the first val chapter's head
    write("english_val_slice.txt", head_lines(va[0], SLICE_BYTES))
    print(f"english: {len(chs)} chapters; train {len(tr)} val {len(va)}")
    report["english"] = english_check(chs, tr, va)
    with open(os.path.join(DATA, "dedup_report.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
        f.write("\n")

    import bpe_train
    tok = bpe_train.train(tr, BPE_VOCAB, verbose=False)
    with open(os.path.join(DATA, "english_bpe.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=0)
        f.write("\n")
    # the slice ids, exactly as `bpe_train.py --encode` writes them
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bpe_train.py"), "--tokenizer",
                    "data/english_bpe.json", "--encode", "data/english_val_slice.txt",
                    "--out", "data/english_val_slice.ids.json"], cwd=ROOT, check=True)

    for n in sorted(os.listdir(DATA)):
        if n.endswith(".txt") or n.endswith(".json"):
            p = os.path.join(DATA, n)
            print(hashlib.sha256(open(p, "rb").read()).hexdigest(), os.path.getsize(p), n)


if __name__ == "__main__":
    main()
