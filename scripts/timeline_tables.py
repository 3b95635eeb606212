#!/usr/bin/env python3
"""Prints the tables of docs/timeline.md from the model (the tilesim CLI), so they can be regenerated.

Usage: scripts/timeline_tables.py [path/to/tilesim]   (default: build/tilesim)
Every figure is the model's; the published and measured figures beside them are quoted from
../shared/reference/ and docs/validation/, with their sources in docs/timeline.md.
"""
import json
import subprocess
import sys

TILESIM = sys.argv[1] if len(sys.argv) > 1 else "build/tilesim"


def run(*settings):
    args = [TILESIM, "run", "--format", "json", "--set", "numerics=false"]
    for s in settings:
        args += ["--set", s]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["runs"]


def fa3_ablation():
    print("| FA3 configuration (paper, Table 2) | paper TFLOP/s | model schedule | model TFLOP/s | model bound |")
    print("|---|---|---|---|---|")
    rows = [("both (warp specialisation + pipelining)", 661, "pingpong+pipelined"),
            ("warp specialisation, no pipelining", 582, "pingpong"),
            ("pipelining, no warp specialisation", 570, "pipelined"),
            ("(producer + one consumer group)", None, "producer-consumer"),
            ("(FA2's synchronous kernel, mma.sync)", None, "sync")]
    for name, paper, sched in rows:
        r = run("hardware=H100-SXM", "algorithms=flash2", "head_dim=128", "seq_len=8448", "batch=4", "heads=16",
                "block_rows=128", "block_cols=176", "schedule=" + sched)[0]
        print("| %s | %s | %s | %.0f | %s |" % (name, paper if paper else "-", sched, r["tflops"],
                                                r["timeline"]["bound"]))


def fa2_anchors():
    print("| GPU, d, N (B, H) | measured TFLOP/s | model TFLOP/s | model / measured |")
    print("|---|---|---|---|")
    rows = [("H200", 128, 8192, 2, 16, 338), ("H200", 64, 8192, 2, 32, 290), ("H200", 128, 2048, 8, 16, 320),
            ("H200", 64, 2048, 8, 32, 280), ("H200", 128, 512, 32, 16, 222), ("H200", 64, 512, 32, 32, 194)]
    for hw, d, n, b, h, meas in rows:
        r = run("hardware=" + hw, "algorithms=flash2", "head_dim=%d" % d, "seq_len=%d" % n, "batch=%d" % b,
                "heads=%d" % h)[0]
        print("| %s, %d, %d (%d, %d) | %d | %.0f | %.2f |" % (hw, d, n, b, h, meas, r["tflops"], r["tflops"] / meas))
    r = run("hardware=H100-SXM", "algorithms=flash2", "head_dim=64", "seq_len=4096", "batch=4", "heads=16",
            "block_rows=128", "block_cols=64")[0]
    print("| H100, 64, 4096 (4, 16), tilesim's own kernel 128 x 64 | 316.7 | %.0f | %.2f |" % (
        r["tflops"], r["tflops"] / 316.7))


def standard_stages():
    print("| stage (H100, N 4096, B 4, H 16, d 64) | measured ms | model ms | model bound |")
    print("|---|---|---|---|")
    measured = [0.810, 1.546, 0.791]
    r = run("hardware=H100-SXM", "algorithms=standard", "seq_len=4096", "batch=4", "heads=16")[0]
    for ph, m in zip(r["timeline"]["phases"], measured):
        print("| %s | %.3f | %.3f | %s |" % (ph["name"], m, ph["predicted_ms"], ph["bound"]))


def l2_capacity():
    print("| B, H, N (H200, FA2, d 128) | per-head K+V | measured DRAM / compulsory | model | model TFLOP/s |")
    print("|---|---|---|---|---|")
    for h, n, meas in [(32, 8192, "+8.6 %"), (16, 16384, "+21.7 %"), (16, 32768, "+59 %")]:
        r = run("hardware=H200", "algorithms=flash2", "head_dim=128", "batch=1", "heads=%d" % h, "seq_len=%d" % n,
                "l2=true")[0]
        comp = 3 * h * n * 128 * 2
        print("| 1, %d, %d | %.1f MB | %s | %+.1f %% | %.0f |" % (
            h, n, 2 * n * 128 * 2 / 1e6, meas, 100 * (r["traffic"]["dram_read_bytes"] / comp - 1), r["tflops"]))


def grid_order():
    print("| grid order (H100, FA2, B 4, H 16, N 8192, d 128) | DRAM GB | DRAM GB/s | TFLOP/s |")
    print("|---|---|---|---|")
    for order in ["head-major", "sequence-major"]:
        r = run("hardware=H100-SXM", "algorithms=flash2", "head_dim=128", "batch=4", "heads=16", "seq_len=8192",
                "l2=true", "grid_order=" + order)[0]
        t = r["traffic"]
        dram = t["dram_read_bytes"] + t["dram_write_bytes"]
        print("| %s | %.3f | %.0f | %.0f |" % (order, dram / 1e9, dram / 1e9 / (r["predicted_ms"] / 1e3), r["tflops"]))


def fa1_fa2():
    print("| scenario | FA1 ms | FA2 ms | FA1 / FA2 | FA1 blocks | FA2 blocks |")
    print("|---|---|---|---|---|---|")
    for name, sets in [("default (A100, B 64, H 16, N 1024, d 64)", []),
                       ("A100, B 1, H 16, N 8192", ["batch=1", "seq_len=8192"]),
                       ("A100, B 1, H 1, N 4096", ["batch=1", "heads=1", "seq_len=4096"]),
                       ("H100, B 64, H 16, N 1024", ["hardware=H100-SXM"])]:
        runs = run("algorithms=flash,flash2", *sets)
        a, b = runs[0], runs[1]
        print("| %s | %.3f | %.3f | %.2f | %d | %d |" % (name, a["predicted_ms"], b["predicted_ms"],
                                                         a["predicted_ms"] / b["predicted_ms"],
                                                         a["timeline"]["phases"][0]["blocks"],
                                                         b["timeline"]["phases"][0]["blocks"]))


if __name__ == "__main__":
    for title, f in [("FA3 ablation", fa3_ablation), ("FA2 anchors", fa2_anchors),
                     ("standard attention's stages", standard_stages), ("L2 capacity effect", l2_capacity),
                     ("grid order", grid_order), ("FA1 and FA2", fa1_fa2)]:
        print("\n### " + title + "\n")
        f()
