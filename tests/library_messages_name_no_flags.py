#!/usr/bin/python3
"""The libraries speak parameters, the command line speaks flags: no error message thrown
by library code (src/ and src/kernels/, not src/cli/) may name a flag ("--temperature").
Reads every throw statement and Error(...) construction in the library sources and checks
the string literals in it. Prints what it checked; exits 1 naming each offending line."""

import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
sources = sorted(p for p in (root / "src").rglob("*.cpp") if "cli" not in p.parts) + \
          sorted((root / "src").glob("*.h")) + sorted((root / "include").rglob("*.h"))
throw = re.compile(r"\b(throw_\w+_error|throw_limit_error|throw\s+Error|Error)\s*\(")
literal = re.compile(r'"((?:[^"\\]|\\.)*)"')
statements = bad = 0
for path in sources:
    text = path.read_text(encoding="utf-8")
    for m in throw.finditer(text):
        end = text.find(";", m.end())
        statement = text[m.start():end]
        statements += 1
        for s in literal.findall(statement):
            if re.search(r"--[a-z]", s):
                line = text.count("\n", 0, m.start()) + 1
                print(f"{path.relative_to(root)}:{line}: a library error names a flag: \"{s}\"")
                bad += 1
print(f"{statements} throw statements in {len(sources)} library files read; {bad} name a flag")
sys.exit(1 if bad or statements < 100 else 0)
