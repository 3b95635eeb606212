#!/usr/bin/env python3
"""Times PyTorch's scaled_dot_product_attention with the flash backend forced, the way
`tilesim-cuda validate` times its own kernels: random fp16 inputs (never zeros), warm-up, CUDA events
around each run, the L2 flushed before each run by writing a buffer twice its size, the median of the
runs. Prints one line per shape with the median time and TFLOP/s (4 B H N^2 d FLOPs, halved for causal),
and checks the output against a float64 reference on one head.

usage: sdpa_bench.py [--batch 4] [--heads 16] [--seq-len 4096 ...] [--head-dim 64] [--runs 30]
                     [--warmup 5] [--causal] [--csv FILE]
"""
import argparse
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def kernel_names(fn):
    """Names of the CUDA kernels one call of fn launches (to record which kernel PyTorch ran)."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    return sorted({e.name for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA})


def bench(batch, heads, n, d, causal, warmup, runs):
    gen = torch.Generator(device="cuda").manual_seed(1)
    shape = (batch, heads, n, d)
    q, k, v = (torch.randn(shape, device="cuda", dtype=torch.float16, generator=gen) for _ in range(3))
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    flush = torch.empty(2 * l2, dtype=torch.uint8, device="cuda")

    def call():
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):  # raises if the flash backend cannot run this shape
        out = call()
        # Correctness on head (0, 0) against float64 math.
        qd, kd, vd = (x[0, 0].double() for x in (q, k, v))
        s = (qd @ kd.T) / d**0.5
        if causal:
            s = s.masked_fill(torch.ones(n, n, device="cuda", dtype=torch.bool).triu(1), float("-inf"))
        ref = torch.softmax(s, dim=-1) @ vd
        rel = ((out[0, 0].double() - ref).norm() / ref.norm()).item()
        names = kernel_names(call)
        for _ in range(warmup):
            call()
        torch.cuda.synchronize()
        start = [torch.cuda.Event(enable_timing=True) for _ in range(runs)]
        end = [torch.cuda.Event(enable_timing=True) for _ in range(runs)]
        times = []
        for r in range(runs):
            flush.fill_(r & 0xFF)  # evict the L2 (outside the timed region)
            start[r].record()
            call()
            end[r].record()
            end[r].synchronize()
            times.append(start[r].elapsed_time(end[r]))
    med = statistics.median(times)
    flops = 4.0 * batch * heads * n * n * d / (2 if causal else 1)
    return med, min(times), max(times), flops / (med * 1e-3) / 1e12, rel, names


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=0, help="0: 16384 // seq_len (B N = 16384)")
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--seq-len", type=int, nargs="+", default=[4096])
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--csv", help="append one row per shape")
    a = ap.parse_args()
    if a.runs < 20:
        sys.exit("sdpa_bench.py: --runs must be >= 20 (the median of at least 20 runs)")
    if not torch.cuda.is_available():
        sys.exit("sdpa_bench.py: no CUDA device")
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
    rows = []
    for n in a.seq_len:
        batch = a.batch or max(1, 16384 // n)
        med, lo, hi, tflops, rel, names = bench(batch, a.heads, n, a.head_dim, a.causal, a.warmup, a.runs)
        print(f"sdpa-flash B={batch} H={a.heads} N={n} d={a.head_dim}{' causal' if a.causal else ''}: "
              f"median {med:.4f} ms (min {lo:.4f}, max {hi:.4f}, {a.runs} runs), {tflops:.1f} TFLOP/s, "
              f"rel_fro {rel:.2e}")
        for name in names:
            print(f"  kernel: {name[:160]}")
        rows.append((batch, a.heads, n, a.head_dim, int(a.causal), med, tflops, rel))
    if a.csv:
        import os
        fresh = not os.path.exists(a.csv) or os.path.getsize(a.csv) == 0
        with open(a.csv, "a") as f:
            if fresh:
                f.write("batch,heads,N,d,causal,median_ms,tflops,rel_fro\n")
            for r in rows:
                f.write(",".join(str(x) for x in r) + "\n")


if __name__ == "__main__":
    main()
