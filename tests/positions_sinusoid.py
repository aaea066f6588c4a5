#!/usr/bin/python3
"""`tiny-gpt positions` against the PyTorch reference (tools/reference.py): the sin/cos
table it shows, for a sinusoidal model and for --compare beside a learned one, is the
reference's sinusoidal_table to float32 precision, and a learned model's rows are its wpe.

usage: positions_sinusoid.py TINY_GPT SOURCE_DIR
"""
import json
import subprocess
import sys

binary, source = sys.argv[1], sys.argv[2]
sys.path.insert(0, source + "/tools")
import reference  # noqa: E402  (tools/ is not a package)


def positions(*args):
    out = subprocess.run([binary, "positions", "--json", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def close(a, b, what):
    worst = max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))
    assert len(a) == len(b) and worst <= 1e-6, f"{what}: differs by {worst}"


for model, args in [(source + "/tests/fixtures/ref/sinusoidal_untied_relu.model.json", []),
                    ("demo-tiny", ["--compare"])]:
    j = positions("-m", model, *args)
    table = j["compare"] if args else j
    assert table["kind"] == "sinusoidal", model
    expected = reference.sinusoidal_table(j["count"], j["dim"]).tolist()
    close(table["vectors"], expected, model + " sin/cos table")
    if args:  # the learned model's own rows are its wpe, bit for bit
        wpe = reference.load(source + "/models/demo-tiny.json")[2]["wpe.weight"]
        rows = wpe[: j["count"]].tolist()
        assert j["kind"] == "learned"
        assert j["vectors"] == rows, "demo-tiny: rows differ from wpe"
print("positions: the sin/cos tables are the reference's, the learned rows are wpe")
