#!/usr/bin/env python3
"""Times PyTorch's flash attention forward and backward (scaled_dot_product_attention with the flash
backend forced) the way `tilesim-cuda backward` times its own kernels: random inputs (never zeros),
warm-up, CUDA events, the L2 flushed before every run, the median. The backward is timed alone
(out.backward(dO) on a saved graph) and forward + backward together. FLOPs: forward 4 B H N^2 d,
backward 2.5x that (halved for causal). Also: a float64 check of dQ, dK, dV on head (0, 0).

usage: bwd_bench.py --shape B H N d [--shape ...] [--dtype fp16|bf16] [--causal] [--runs 30] [--csv FILE]
"""
import argparse
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def timed(fn, flush, warmup, runs):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for r in range(runs):
        flush.fill_(r & 0xFF)
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    return statistics.median(times)


def bench(b, h, n, d, dtype, causal, warmup, runs):
    gen = torch.Generator(device="cuda").manual_seed(3)
    mk = lambda: torch.randn((b, h, n, d), device="cuda", dtype=dtype, generator=gen)
    q, k, v, do = mk(), mk(), mk(), mk()
    for x in (q, k, v):
        x.requires_grad_(True)
    flush = torch.empty(2 * torch.cuda.get_device_properties(0).L2_cache_size, dtype=torch.uint8, device="cuda")
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        out.backward(do)
        # float64 check on head (0, 0)
        qd, kd, vd, dod = (x[0, 0].detach().double().requires_grad_(True) for x in (q, k, v, do))
        s = (qd @ kd.T) / d**0.5
        if causal:
            s = s.masked_fill(torch.ones(n, n, device="cuda", dtype=torch.bool).triu(1), float("-inf"))
        ref = torch.softmax(s, -1) @ vd
        ref.backward(dod.detach())
        rel = max(((g[0, 0].double() - r.grad).norm() / r.grad.norm()).item() for g, r in
                  ((q.grad, qd), (k.grad, kd), (v.grad, vd)))

        def fwd():
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

        def fwd_bwd():
            q.grad = k.grad = v.grad = None
            fwd().backward(do)

        t_fwd = timed(fwd, flush, warmup, runs)
        t_fb = timed(fwd_bwd, flush, warmup, runs)
        # backward alone: retain the graph of one forward and replay its backward
        o = fwd()

        def bwd():
            q.grad = k.grad = v.grad = None
            o.backward(do, retain_graph=True)

        t_bwd = timed(bwd, flush, warmup, runs)
    fl = 4.0 * b * h * n * n * d / (2 if causal else 1)
    return t_fwd, t_bwd, t_fb, fl, rel


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", nargs=4, type=int, action="append", required=True, metavar=("B", "H", "N", "d"))
    ap.add_argument("--dtype", default="fp16", choices=["fp16", "bf16"])
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--csv")
    a = ap.parse_args()
    if a.runs < 20:
        sys.exit("bwd_bench.py: --runs must be >= 20")
    dtype = torch.float16 if a.dtype == "fp16" else torch.bfloat16
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
    rows = []
    for b, h, n, d in a.shape:
        tf, tb, tfb, fl, rel = bench(b, h, n, d, dtype, a.causal, a.warmup, a.runs)
        print(f"sdpa-flash B={b} H={h} N={n} d={d} {a.dtype}{' causal' if a.causal else ''}: fwd {tf:.4f} ms "
              f"({fl / tf / 1e9:.1f} TFLOP/s), bwd {tb:.4f} ms ({2.5 * fl / tb / 1e9:.1f}), fwd+bwd {tfb:.4f} ms "
              f"({3.5 * fl / tfb / 1e9:.1f}); grads rel_fro {rel:.2e}")
        rows.append((b, h, n, d, a.dtype, int(a.causal), tf, tb, tfb, fl / tf / 1e9, 2.5 * fl / tb / 1e9, rel))
    if a.csv:
        import os
        fresh = not os.path.exists(a.csv) or os.path.getsize(a.csv) == 0
        with open(a.csv, "a") as f:
            if fresh:
                f.write("batch,heads,N,d,dtype,causal,fwd_ms,bwd_ms,fwd_bwd_ms,fwd_tflops,bwd_tflops,rel_fro\n")
            for r in rows:
                f.write(",".join(str(x) for x in r) + "\n")


if __name__ == "__main__":
    main()
