#!/usr/bin/python3
"""The PyTorch side of the benchmark: the same GPT, on the same weights, with a KV cache,
float32, under torch.inference_mode(), timed the way `tiny-gpt bench` times itself (a
warm-up, then repetitions; prefill of a synthetic prompt, then greedy decoding).

  /usr/bin/python3 bench/torch_gpt.py MODEL.json [-t THREADS] [-p 16] [-n 199] [-r 5]

Prints one JSON object like `tiny-gpt bench --json` (the fields bench.py compares).
The prompt ids are (3 + 7 i) mod the tokenizer's size, as in tiny-gpt bench.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import reference  # noqa: E402


class KVCacheGPT:
    """GPT-2's forward pass over a key/value cache, in float32."""

    def __init__(self, cfg, tok, tensors):
        self.cfg = cfg
        self.n_valid = len(tok["vocab"])
        t = {k: torch.from_numpy(v.copy()).float() for k, v in tensors.items()}
        self.t = t
        self.wte = t["wte.weight"]
        if cfg["positional"] == "learned":
            self.wpe = t["wpe.weight"]
        else:
            self.wpe = reference.sinusoidal_table(cfg["n_ctx"], cfg["n_embd"]).float()
        self.head = self.wte if cfg["tie_word_embeddings"] else t["lm_head.weight"]
        act = cfg["activation"]
        self.act = {"gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "gelu": F.gelu, "relu": F.relu}[act]

    def new_cache(self, capacity):
        c = self.cfg
        shape = (c["n_layer"], capacity, c["n_embd"])
        return torch.zeros(shape), torch.zeros(shape)

    def forward(self, ids, pos0, cache):
        c, t = self.cfg, self.t
        D, H = c["n_embd"], c["n_head"]
        hd = D // H
        T = len(ids)
        k_cache, v_cache = cache
        x = self.wte[ids] + self.wpe[pos0:pos0 + T]
        S = pos0 + T
        mask = None
        if T > 1:  # query t sees keys 0 .. pos0 + t
            mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=pos0).logical_not()
        for i in range(c["n_layer"]):
            p = f"h.{i}."
            h = F.layer_norm(x, (D,), t[p + "ln_1.weight"], t[p + "ln_1.bias"], c["layer_norm_epsilon"])
            qkv = torch.addmm(t[p + "attn.c_attn.bias"], h, t[p + "attn.c_attn.weight"])
            q, k, v = qkv.split(D, dim=1)
            k_cache[i, pos0:S] = k
            v_cache[i, pos0:S] = v
            q = q.view(T, H, hd).transpose(0, 1)
            keys = k_cache[i, :S].view(S, H, hd).transpose(0, 1)
            values = v_cache[i, :S].view(S, H, hd).transpose(0, 1)
            att = torch.matmul(q, keys.transpose(1, 2)) * (1.0 / math.sqrt(hd))
            if mask is not None:
                att = att.masked_fill(mask, float("-inf"))
            y = torch.matmul(torch.softmax(att, dim=-1), values).transpose(0, 1).reshape(T, D)
            x = x + torch.addmm(t[p + "attn.c_proj.bias"], y, t[p + "attn.c_proj.weight"])
            h = F.layer_norm(x, (D,), t[p + "ln_2.weight"], t[p + "ln_2.bias"], c["layer_norm_epsilon"])
            h = self.act(torch.addmm(t[p + "mlp.c_fc.bias"], h, t[p + "mlp.c_fc.weight"]))
            x = x + torch.addmm(t[p + "mlp.c_proj.bias"], h, t[p + "mlp.c_proj.weight"])
        last = F.layer_norm(x[-1:], (D,), t["ln_f.weight"], t["ln_f.bias"], c["layer_norm_epsilon"])
        return torch.matmul(last, self.head.t())[0]


def run_once(model, prompt, n_decode):
    cache = model.new_cache(len(prompt) + n_decode)
    c0 = time.process_time()  # CPU seconds of every thread of the process (BLAS's too)
    t0 = time.perf_counter()
    logits = model.forward(torch.tensor(prompt), 0, cache)
    t1 = time.perf_counter()
    c1 = time.process_time()
    ids = []
    pos = len(prompt)
    for _ in range(n_decode):
        nxt = int(torch.argmax(logits[:model.n_valid]))
        ids.append(nxt)
        logits = model.forward(torch.tensor([nxt]), pos, cache)
        pos += 1
    t2 = time.perf_counter()
    c2 = time.process_time()
    ids.append(int(torch.argmax(logits[:model.n_valid])))
    return t1 - t0, t2 - t1, ids, (c1 - c0) / max(t1 - t0, 1e-9), (c2 - c1) / max(t2 - t1, 1e-9)


def stats(v):
    return {"median": statistics.median(v), "min": min(v), "max": max(v)} if v else {"median": 0, "min": 0, "max": 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("-t", "--threads", type=int, default=os.cpu_count())
    ap.add_argument("-p", "--prompt-tokens", type=int, default=16)
    ap.add_argument("-n", "--decode-tokens", type=int, default=199)
    ap.add_argument("-r", "--reps", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    cfg, tok, tensors = reference.load(args.model)
    load_s = time.perf_counter() - t0
    model = KVCacheGPT(cfg, tok, tensors)
    prompt = [(3 + 7 * i) % model.n_valid for i in range(args.prompt_tokens)]
    with torch.inference_mode():
        run_once(model, prompt, min(args.decode_tokens, 8))  # warm-up
        prefill, decode, ids, pf_cpu, dc_cpu = [], [], None, [], []
        for r in range(args.reps):
            pf, dc, got, pf_use, dc_use = run_once(model, prompt, args.decode_tokens)
            pf_cpu.append(pf_use)
            dc_cpu.append(dc_use)
            prefill.append(args.prompt_tokens / pf)
            if args.decode_tokens:
                decode.append(args.decode_tokens / dc)
            ids = ids or got
    print(json.dumps({
        "model": args.model,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "reps": args.reps,
        "load": {"seconds": load_s},
        "prompt_tokens": args.prompt_tokens,
        "decode_tokens": args.decode_tokens,
        "prefill_tokens_per_s": stats(prefill),
        "decode_tokens_per_s": stats(decode),
        # CPU seconds per wall second (medians): how many cores the run really used
        "prefill_cpu_use": statistics.median(pf_cpu),
        "decode_cpu_use": statistics.median(dc_cpu) if args.decode_tokens else 0.0,
        "prompt_ids": prompt,
        "greedy_ids": ids,
    }))


if __name__ == "__main__":
    main()
