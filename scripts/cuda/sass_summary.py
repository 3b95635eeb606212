#!/usr/bin/env python3
"""Summarises `cuobjdump --dump-sass` output (read on stdin): one line per kernel function and
architecture with the counts of the instructions that say which path a kernel takes: HGMMA (Hopper
warpgroup MMA), QGMMA (its fp8 form), HMMA (mma.sync), LDSM, LDGSTS (cp.async), UTMALDG (TMA loads),
SYNCS (mbarrier operations), and LDL/STL (local memory: spills or dynamically indexed arrays).
"""
import re
import sys

OPS = ["HGMMA", "QGMMA", "HMMA", "LDSM", "LDGSTS", "UTMALDG", "SYNCS", "LDL", "STL"]


def main():
    arch = "?"
    func = None
    counts = {}
    order = []
    for line in sys.stdin:
        m = re.search(r"arch = (sm_\w+)", line)
        if m:
            arch = m.group(1)
        m = re.search(r"Function : (\S+)", line)
        if m:
            func = (m.group(1), arch)
            if func not in counts:
                counts[func] = dict.fromkeys(OPS, 0)
                order.append(func)
            continue
        if func is None:
            continue
        m = re.search(r"/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_]*)", line)
        if m:
            op = m.group(1)
            for k in OPS:
                if op == k or op.startswith(k + "_") or (k in ("LDL", "STL") and op == k):
                    counts[func][k] += 1
    print("arch     " + " ".join(f"{k:>7}" for k in OPS) + "  kernel")
    for f in order:
        c = counts[f]
        name = f[0]
        for short in ("flash_fwd_kernel", "flash_bwd_kernel", "bwd_preprocess", "bwd_convert", "decode_split",
                      "decode_combine", "hopper_fwd_tma_wgmma", "hopper_fwd_warpspec", "hopper_fwd_pingpong",
                      "hopper_fwd_intrawg", "probe_kernel", "softmax", "dsoftmax", "eager", "fill"):
            if short in name:
                name = short + " " + name[name.find(short) + len(short):][:60]
                break
        print(f"{f[1]:8} " + " ".join(f"{c[k]:7d}" for k in OPS) + "  " + name[:110])
    spills = [f for f in order if counts[f]["LDL"] or counts[f]["STL"]]
    print(f"kernels with local-memory accesses (LDL/STL): {len(spills)} of {len(order)}")
    print(f"kernels with HGMMA: {sum(1 for f in order if counts[f]['HGMMA'])}")


if __name__ == "__main__":
    main()
