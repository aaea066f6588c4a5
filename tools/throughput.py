#!/usr/bin/python3
"""Training throughput of tools/train.py's model on this machine, in tokens per second:
forward, backward, gradient clipping and AdamW step on batch x n_ctx windows, as in
training (the batches are random token ids: the arithmetic does not depend on them).

  nice -n 19 /usr/bin/python3 tools/throughput.py --model models/tang-poems.json \
      --batch-size 32 --threads 1 --seconds 25
  nice -n 19 /usr/bin/python3 tools/throughput.py --n-embd 256 --n-layer 6 --n-head 8 \
      --n-ctx 128 --vocab 4899 --batch-size 32 --threads 2

One process per thread count: the BLAS thread pool is fixed when numpy/torch load, which
train.py's _early_threads() does from --threads (imported below, before torch). Prints one
JSON line with the load average (/proc/loadavg) before and after, so that a number
measured on a shared machine says how shared it was, and the CPU seconds the process got
(tokens_per_cpu_s: with 1 thread, roughly what an idle core would give; with 2 threads it
measures the cost of the second thread, not the wall-clock speed).
"""
import argparse, json, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402  (sets the BLAS thread count from --threads before torch loads)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="take the config from this tiny-gpt JSON")
    ap.add_argument("--vocab", type=int, default=4899)
    ap.add_argument("--n-embd", type=int, default=192)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=6)
    ap.add_argument("--n-ctx", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=25)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    if a.model:
        c = json.load(open(a.model, encoding="utf-8"))["config"]
        a.vocab, a.n_embd, a.n_layer, a.n_head, a.n_ctx = (
            c["vocab_size"], c["n_embd"], c["n_layer"], c["n_head"], c["n_ctx"])
    cfg = dict(vocab_size=a.vocab, n_ctx=a.n_ctx, n_embd=a.n_embd, n_head=a.n_head,
               n_layer=a.n_layer, n_inner=4 * a.n_embd, layer_norm_epsilon=1e-5,
               dropout=a.dropout)
    model = train.GPT(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95))
    B, T = a.batch_size, a.n_ctx
    g = torch.Generator().manual_seed(0)

    def step():
        xy = torch.randint(0, a.vocab, (B, T + 1), generator=g)
        logits = model(xy[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, a.vocab), xy[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for _ in range(2):  # warm-up: allocations, thread pools
        step()
    la0 = loadavg()
    c0 = time.process_time()
    t0 = time.time()
    n = 0
    while time.time() - t0 < a.seconds:
        step()
        n += 1
    dt = time.time() - t0
    cpu = time.process_time() - c0  # all threads of this process
    print(json.dumps({"config": {k: cfg[k] for k in ("vocab_size", "n_ctx", "n_embd", "n_head",
                                                     "n_layer", "dropout")},
                      "params": sum(p.numel() for p in model.parameters()),
                      "batch_size": B, "threads": a.threads, "steps": n,
                      "seconds": round(dt, 1), "steps_per_s": round(n / dt, 3),
                      "tokens_per_s": round(n * B * T / dt),
                      "cpu_seconds": round(cpu, 1),
                      "tokens_per_cpu_s": round(n * B * T / max(cpu, 1e-9)),
                      "loadavg_before": la0,
                      "loadavg_after": loadavg(), "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
