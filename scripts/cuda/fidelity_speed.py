#!/usr/bin/env python3
"""The forward / backward speed table of docs/cuda.md (issue 10) from the fidelity run's CUDA-event
timings: tilesim's progression (hopper_speed*.csv: N 512, 1024, and causal 512 ... 4096 in the second
run; the final issue-10 run's bench.csv for N >= 2048, which wins where both have a shape), PyTorch eager, SDPA flash and SDPA cuDNN (torch_speed*.csv). TFLOP/s = 4 B H N^2 d / t
(halved for causal); backward 2.5x the forward's FLOPs.

usage: fidelity_speed.py FIDELITY_DIR FINAL_BENCH_CSV
"""
import csv
import glob
import re
import sys


def flops(b, h, n, d, c):
    return 4.0 * b * h * n * n * d / (2 if c else 1)


def main():
    fid, final = sys.argv[1], sys.argv[2]
    ours = {}  # (d, N, causal) -> {step: tflops}
    for path in sorted(glob.glob(f"{fid}/hopper_speed*.csv")) + [final]:
        with open(path) as f:
            for r in csv.reader(f):
                if len(r) < 12 or r[0] == "gpu" or not r[7].startswith("("):
                    continue
                if r[5] != "fp16":
                    continue
                key = (int(r[4]), int(r[3]), int(r[6]))
                ours.setdefault(key, {})[r[7][:3]] = float(r[11])
    torch = {}
    for path in sorted(glob.glob(f"{fid}/torch_speed*.csv")):
        with open(path) as f:
            for r in csv.DictReader(f):
                m = re.match(r"(\S+) (fwd|bwd) B=(\d+) H=(\d+) N=(\d+) d=(\d+) causal=(\d)", r["label"])
                if not m:
                    continue
                impl, op, b, h, n, d, c = m.group(1), m.group(2), *map(int, m.groups()[2:])
                fl = flops(b, h, n, d, c) * (2.5 if op == "bwd" else 1)
                torch[(d, n, c, impl, op)] = fl / (float(r["median_ms"]) * 1e-3) / 1e12
    print("| d | N | causal | tilesim best fp16 step | (a) mma.sync | (f) fp8 + pre-pass | SDPA flash fwd | SDPA cuDNN fwd | eager fwd | "
          "SDPA flash bwd | SDPA cuDNN bwd | eager bwd |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    keys = sorted({(d, n, c) for (d, n, c, _, _) in torch} | set(ours))
    for d, n, c in keys:
        o = ours.get((d, n, c), {})
        fp16 = {k: v for k, v in o.items() if k != "(f)"}
        best = max(fp16.items(), key=lambda kv: kv[1]) if fp16 else None
        t = lambda impl, op: (f"{torch[(d, n, c, impl, op)]:.0f}" if (d, n, c, impl, op) in torch else "–")  # noqa
        print(f"| {d} | {n} | {'yes' if c else 'no'} | {f'{best[1]:.0f} {best[0]}' if best else '–'} | "
              f"{f'{o[chr(40) + chr(97) + chr(41)]:.0f}' if '(a)' in o else '–'} | "
              f"{f'{o[chr(40) + chr(102) + chr(41)]:.0f}' if '(f)' in o else '–'} | {t('sdpa-flash', 'fwd')} | "
              f"{t('sdpa-cudnn', 'fwd')} | {t('torch-eager', 'fwd')} | {t('sdpa-flash', 'bwd')} | "
              f"{t('sdpa-cudnn', 'bwd')} | {t('torch-eager', 'bwd')} |")


if __name__ == "__main__":
    main()
