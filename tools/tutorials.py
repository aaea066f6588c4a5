#!/usr/bin/python3
"""docs/tutorials.md: the examples of the usual transformer tutorials, each as a tiny-gpt
command and its real output, in English and in Chinese. The page is made from the commands
below, never edited by hand:

  /usr/bin/python3 tools/tutorials.py build/tiny-gpt            rewrite docs/tutorials.md (and its pictures)
  /usr/bin/python3 tools/tutorials.py build/tiny-gpt --check    fail when a command no longer runs, or
                                                                its output differs from the page

The --check run (a CTest test) runs every command in a scratch directory and compares the
page and the pictures it would write with the ones committed.
"""
import filecmp
import os
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = "docs/tutorials.md"
PICTURES = "docs/tutorials"

# (heading, what the tutorials say, [commands]). A command writing a picture names it under
# docs/tutorials/; the page links it.
SECTIONS = [
    ("Text into tokens",
     "A tokenizer splits text into the units the model has rows for: characters for the poetry "
     "model, byte-level BPE pieces (GPT-2 style, a word with its leading space) for the English one. "
     "Without `-m`, tiny-gpt picks the shipped model whose vocabulary knows the text, and says so on stderr.",
     ["tiny-gpt tokenize 新年快樂",
      "tiny-gpt tokenize \"Your journey starts with one step\""]),
    ("One-hot vectors and embedding rows",
     "A token id picks one row of the embedding table `wte`: multiplying its one-hot vector by the "
     "table gives exactly that row. (`--no-vectors` leaves out the 192 numbers of each row.)",
     ["tiny-gpt embed 新 --no-vectors",
      "tiny-gpt embed king --no-vectors"]),
    ("Similar words are close together",
     "Cosine similarity of the rows: words used alike end up pointing alike. For the English model "
     "a word is looked up as it stands in a sentence (\" king\", one token), and neighbours are whole "
     "words (`--all-tokens` lists sub-word pieces too).",
     ["tiny-gpt embed father --similarity mother --no-vectors",
      "tiny-gpt embed king --neighbors 8 --no-vectors",
      "tiny-gpt embed 月 --neighbors 8 --no-vectors",
      "tiny-gpt embed father mother son daughter man woman king --plot docs/tutorials/family.svg --no-vectors"]),
    ("king - man + woman",
     "3CosAdd analogies, as gensim's `most_similar(positive=[king, woman], negative=[man])`. "
     "A model this small trained on one book gets them only roughly.",
     ["tiny-gpt embed --analogy \"king - man + woman\" --no-vectors",
      "tiny-gpt embed --analogy \"王 - 男 + 女\" --no-vectors"]),
    ("Self-attention",
     "Each head's weights: how much each token takes from each earlier one (rows sum to 1; a token "
     "never sees the ones after it). `--summary` shows the strongest source of each token.",
     ["tiny-gpt attention-dump \"Your journey starts with one step\" --summary --layer 0",
      "tiny-gpt attention-dump 床前明月光 --summary --layer 0",
      "tiny-gpt attention-dump \"Your journey starts with one step\" --layer 0 -o docs/tutorials/attention.svg"]),
    ("Fixed (sin/cos) against learned positions",
     "Every position adds a vector to its token's row. The original transformer used a fixed "
     "sin/cos table; GPT-2 (and these models) learn one row per position. `positions --compare` "
     "shows both side by side: norms, and the cosine of each position with the first and the previous.",
     ["tiny-gpt positions -m english-kjv --count 16 --compare --plot docs/tutorials/positions.svg",
      "tiny-gpt positions -m tang-poems --count 8"]),
    ("A decoder from BOS to END",
     "Generation starts from the begin token, adds one token at a time, and stops at the end token "
     "(or a length limit). `--show-special` prints both; greedy decoding (`--temperature 0`) makes "
     "the output repeatable.",
     ["tiny-gpt generate 機器 --show-special --temperature 0 -n 40",
      "tiny-gpt generate \"In the beginning\" --show-special --temperature 0 -n 30"]),
]

WHERE = """## Where to look in the code

| Concept | Code |
|---------|------|
| tokenizers | `src/tokenizer.cpp` (char), `src/tokenizer_bpe.cpp`, `src/pretokenize.cpp` (byte-level BPE) |
| which model reads a text | `src/coverage.cpp` (library: how much of a text a vocabulary knows), `src/cli/model_choice.cpp` (the choice, the warning) |
| embedding rows, neighbours, analogies | `src/embedding.cpp`, `src/embedding_words.cpp` (words in a BPE vocabulary), `src/embedding_report.cpp` |
| attention | `src/attention.cpp`, `src/attention_dump.cpp` |
| positions | `src/positional.cpp` (the sin/cos table), `src/positions_report.cpp`, `src/positions_svg.cpp` |
| the decoder loop | `src/generate.cpp`, `src/decoder.cpp`, `src/sampler.cpp` |
"""


def run(binary, command, cwd):
    args = shlex.split(command)
    assert args[0] == "tiny-gpt", command
    r = subprocess.run([binary] + args[1:], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"`{command}` failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout, r.stderr


def page(binary, cwd):
    out = ["# The tutorials' examples in tiny-gpt",
           "",
           "<!-- Generated by tools/tutorials.py from its commands; do not edit by hand. -->",
           "",
           "Each example of the usual introductions to transformers, typed as they are, with the real "
           "output of the models shipped in `models/` (stdout; lines from stderr are marked `# stderr:`).",
           ""]
    for heading, text, commands in SECTIONS:
        out += [f"## {heading}", "", text, ""]
        for command in commands:
            stdout, stderr = run(binary, command, cwd)
            out += ["```console", f"$ {command}"]
            out += [f"# stderr: {line}" for line in stderr.splitlines()]
            out += stdout.rstrip("\n").splitlines()
            out += ["```", ""]
            for word in shlex.split(command):
                if word.startswith(PICTURES + "/"):
                    out += [f"![{os.path.basename(word)}]({os.path.relpath(word, 'docs')})", ""]
    out.append(WHERE)
    return "\n".join(out)


def main():
    binary = os.path.abspath(sys.argv[1])
    check = "--check" in sys.argv[2:]
    if not check:
        os.makedirs(os.path.join(ROOT, PICTURES), exist_ok=True)
        text = page(binary, ROOT)
        with open(os.path.join(ROOT, PAGE), "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {PAGE}")
        return
    with tempfile.TemporaryDirectory() as scratch:
        os.makedirs(os.path.join(scratch, PICTURES))
        text = page(binary, scratch)
        with open(os.path.join(ROOT, PAGE), encoding="utf-8") as f:
            committed = f.read()
        stale = [] if text == committed else [PAGE]
        for name in sorted(os.listdir(os.path.join(scratch, PICTURES))):
            mine = os.path.join(ROOT, PICTURES, name)
            if not os.path.exists(mine) or not filecmp.cmp(mine, os.path.join(scratch, PICTURES, name), shallow=False):
                stale.append(os.path.join(PICTURES, name))
    if stale:
        raise SystemExit("out of date (run /usr/bin/python3 tools/tutorials.py BINARY): " + ", ".join(stale))
    print(f"{PAGE}: every command runs and gives the output on the page")


if __name__ == "__main__":
    main()
