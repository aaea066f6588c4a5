#!/usr/bin/python3
"""N short prompts as `generate --batch` JSONL on stdout: each the first two characters of a
line of data/tang_val_slice.txt, with "id" and "seed" both the line's index (so the results
do not depend on how the file is split or run). Used by batch_throughput.sh and shard_demo.sh."""
import json
import os
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
lines = [l.strip() for l in open(os.path.join(root, "data", "tang_val_slice.txt"), encoding="utf-8") if l.strip()]
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": i, "prompt": lines[i % len(lines)][:2], "seed": i}, ensure_ascii=False))
