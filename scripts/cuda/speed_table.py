#!/usr/bin/env python3
"""Markdown speed table from bench.sh's speed.csv (tilesim-cuda validate --csv) and sdpa.csv.

usage: speed_table.py OUTDIR
One row per N: the standard kernel (scale fused, and eager with scale and mask passes), tilesim's
FlashAttention and PyTorch's SDPA flash backend, measured (median ms) and as TFLOP/s, the model's
predicted times, and the ratios the project's speed goals are stated in.
"""
import csv
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    rows = [r for r in csv.DictReader(open(f"{outdir}/speed.csv")) if r["stage"] == "total"]
    sdpa = {int(r["N"]): r for r in csv.DictReader(open(f"{outdir}/sdpa.csv"))}
    by_n = {}
    for r in rows:
        n = int(r["N"])
        key = "flash" if r["kernel"] == "flash" else f"standard_p{r['extra_passes']}"
        by_n.setdefault(n, {})[key] = r
    print("| N | batch | standard ms (model) | eager standard ms (model) | flash ms (model) | flash TFLOP/s | "
          "SDPA flash ms | SDPA TFLOP/s | flash / standard speed-up | flash / eager speed-up | "
          "flash throughput / SDPA |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sorted(by_n):
        d = by_n[n]
        s0, s2, fl = d.get("standard_p0"), d.get("standard_p2"), d.get("flash")
        sd = sdpa.get(n)

        def ms(r):
            return f"{float(r['measured_ms']):.3f} ({float(r['model_ms']):.3f})" if r else "-"

        fl_ms = float(fl["measured_ms"]) if fl else float("nan")
        cells = [str(n), fl["batch"] if fl else "-", ms(s0), ms(s2), ms(fl),
                 f"{float(fl['tflops']):.1f}" if fl else "-",
                 f"{float(sd['median_ms']):.3f}" if sd else "-", f"{float(sd['tflops']):.1f}" if sd else "-",
                 f"{float(s0['measured_ms']) / fl_ms:.2f}x" if s0 and fl else "-",
                 f"{float(s2['measured_ms']) / fl_ms:.2f}x" if s2 and fl else "-",
                 f"{float(sd['median_ms']) / fl_ms:.0%}" if sd and fl else "-"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
