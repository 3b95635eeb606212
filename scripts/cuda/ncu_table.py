#!/usr/bin/env python3
"""Joins Nsight Compute's per-kernel DRAM/L2 bytes with the model's per-phase HBM prediction.

usage: ncu_table.py OUTDIR EXTRA_PASSES N [N ...]
       ncu_table.py --breakdown L2_CSV      (the L2 breakdown run of scripts/cuda/run_all.sh)
Reads OUTDIR/ncu_N{N}_p{EXTRA}.csv (ncu --csv --page raw --print-units base) and
OUTDIR/model_N{N}_p{EXTRA}.csv (tilesim-cuda profile --model-csv), prints a Markdown table per N
and a summary table, and writes OUTDIR/ncu_summary_p{EXTRA}.csv.

Kernels are matched to the model's phases by launch order and name: tilesim's own kernels are
recognised by name (flash_fwd_kernel, softmax_rows*, eager_pass_kernel); every other kernel is
cuBLAS, and belongs to S = QK^T before the softmax and to O = PV after it.
"""
import csv
import sys
from collections import OrderedDict

GB = 1e9


def read_ncu(path):
    with open(path) as f:
        lines = [l for l in f if l.startswith('"')]  # skip ==PROF== lines
    rows = list(csv.reader(lines))
    if len(rows) < 3:
        sys.exit(f"ncu_table.py: no kernels in {path}: did the profiled range run?")
    header, units, data = rows[0], rows[1], rows[2:]
    col = {name: i for i, name in enumerate(header)}
    scale = {"byte": 1, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1,
             "nsecond": 1e-9, "usecond": 1e-6, "msecond": 1e-3, "second": 1}
    out = []
    for r in data:
        rec = {"name": r[col["Kernel Name"]]}
        for m in ("dram__bytes_read.sum", "dram__bytes_write.sum", "lts__t_bytes.sum", "gpu__time_duration.sum"):
            v = float(r[col[m]].replace(",", ""))
            if units[col[m]] not in scale:
                sys.exit(f"ncu_table.py: unknown unit '{units[col[m]]}' for {m} in {path}")
            rec[m] = v * scale[units[col[m]]]
        out.append(rec)
    return out


def read_model(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def stage_of(name, seen_softmax, eager_index):
    if "flash_fwd_kernel" in name:
        return "flash", "flash forward"
    if "softmax_rows" in name:
        return "standard", "P = softmax(S)"
    if "eager_pass_kernel" in name:
        return "standard", ["eager: scale S", "eager: mask S", "eager: dropout S"][eager_index]
    return "standard", ("O = PV (cuBLAS)" if seen_softmax else "S = QK^T (cuBLAS)")


MODEL_PHASE = {  # our stage -> the model's phase name
    "S = QK^T (cuBLAS)": "standard: S = QK^T",
    "eager: scale S": "eager: scale S",
    "eager: mask S": "eager: mask S",
    "eager: dropout S": "eager: dropout S",
    "P = softmax(S)": "standard: P = softmax(S)",
    "O = PV (cuBLAS)": "standard: O = PV",
    "flash forward": "flash2 forward",
}


def table_for(outdir, extra, n):
    tag = f"N{n}_p{extra}"
    kernels = read_ncu(f"{outdir}/ncu_{tag}.csv")
    model = {(m["kernel"], m["phase"]): m for m in read_model(f"{outdir}/model_{tag}.csv")}
    stages = OrderedDict()
    seen_softmax, eager_index, launches = False, 0, 0
    for k in kernels:
        alg, stage = stage_of(k["name"], seen_softmax, eager_index)
        if "softmax_rows" in k["name"]:
            seen_softmax = True
        if "eager_pass_kernel" in k["name"]:
            eager_index += 1
        s = stages.setdefault((alg, stage), {"kernels": 0, "rd": 0.0, "wr": 0.0, "lts": 0.0, "t": 0.0})
        s["kernels"] += 1
        s["rd"] += k["dram__bytes_read.sum"]
        s["wr"] += k["dram__bytes_write.sum"]
        s["lts"] += k["lts__t_bytes.sum"]
        s["t"] += k["gpu__time_duration.sum"]
        launches += 1
    rows = []
    totals = {}
    for (alg, stage), s in stages.items():
        m = model.get((alg, MODEL_PHASE[stage]))
        if m is None:
            sys.exit(f"ncu_table.py: no model phase '{MODEL_PHASE[stage]}' for {alg} in {outdir}/model_{tag}.csv")
        hbm = float(m["model_hbm_read_bytes"]) + float(m["model_hbm_write_bytes"])
        l2 = float(m["model_l2_bytes"])
        est = float(m["model_dram_bytes"])  # the model's DRAM estimate (L2 serving re-reads)
        row = dict(alg=alg, stage=stage, kernels=s["kernels"], rd=s["rd"], wr=s["wr"], dram=s["rd"] + s["wr"],
                   lts=s["lts"], t=s["t"], hbm=hbm, l2=l2, est=est, B_r=m["B_r"], B_c=m["B_c"])
        rows.append(row)
        t = totals.setdefault(alg, dict(alg=alg, stage="total", kernels=0, rd=0.0, wr=0.0, dram=0.0, lts=0.0, t=0.0,
                                        hbm=0.0, l2=0.0, est=0.0, B_r=m["B_r"], B_c=m["B_c"]))
        for key in ("kernels", "rd", "wr", "dram", "lts", "t", "hbm", "l2", "est"):
            t[key] += row[key]
    return rows, totals


def fmt_row(n, batch, r):
    ratio = r["dram"] / r["hbm"] if r["hbm"] else float("nan")
    lts_ratio = r["lts"] / (r["hbm"] + r["l2"]) if r["hbm"] + r["l2"] else float("nan")
    est_ratio = r["dram"] / r["est"] if r["est"] else float("nan")
    return (f"| {n} | {batch} | {r['alg']} | {r['stage']} | {r['kernels']} | {r['rd'] / GB:.3f} | {r['wr'] / GB:.3f} | "
            f"{r['dram'] / GB:.3f} | {r['lts'] / GB:.3f} | {r['hbm'] / GB:.3f} | {(r['hbm'] + r['l2']) / GB:.3f} | "
            f"{ratio:.2f} | {lts_ratio:.2f} | {r['est'] / GB:.3f} | {est_ratio:.2f} | {r['t'] * 1e3:.3f} |")


def breakdown(path):
    """Where each kernel's L2 sectors come from: the SMs' L1TEX units (reads, writes) or elsewhere."""
    with open(path) as f:
        rows = list(csv.reader([l for l in f if l.startswith('"')]))
    header, units, data = rows[0], rows[1], rows[2:]
    col = {name: i for i, name in enumerate(header)}

    def gb(r, m):
        v = float(r[col[m]].replace(",", ""))
        return v * (32 if "sectors" in m else 1) / GB  # sectors are 32 bytes

    print("| kernel | DRAM read GB | DRAM write GB | lts__t_bytes GB | from SMs (srcunit_tex) GB | of which reads | "
          "of which writes | SM requests that hit GB | not from SMs GB |")
    print("|---|---|---|---|---|---|---|---|---|")
    seen_softmax = False
    for r in data:
        name = r[col["Kernel Name"]]
        alg, stage = stage_of(name, seen_softmax, 0)
        seen_softmax = seen_softmax or "softmax_rows" in name
        tex = gb(r, "lts__t_sectors_srcunit_tex.sum")
        print(f"| {alg}: {stage} | {gb(r, 'dram__bytes_read.sum'):.3f} | {gb(r, 'dram__bytes_write.sum'):.3f} | "
              f"{gb(r, 'lts__t_bytes.sum'):.3f} | {tex:.3f} | {gb(r, 'lts__t_sectors_srcunit_tex_op_read.sum'):.3f} | "
              f"{gb(r, 'lts__t_sectors_srcunit_tex_op_write.sum'):.3f} | "
              f"{gb(r, 'lts__t_sectors_srcunit_tex_lookup_hit.sum'):.3f} | {gb(r, 'lts__t_sectors.sum') - tex:.3f} |")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--breakdown":
        breakdown(sys.argv[2])
        return
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    outdir, extra, ns = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]]
    head = ("| N | batch | kernel | stage | launches | DRAM read GB | DRAM write GB | DRAM GB | L2 (lts) GB | "
            "model HBM GB | model HBM+L2 GB | DRAM / model HBM | L2 / model HBM+L2 | model DRAM est GB | "
            "DRAM / model DRAM est | ncu time ms |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = []
    print(f"### Per kernel (extra_passes = {extra})\n")
    print(head)
    for n in ns:
        batch = max(1, 16384 // n)
        rows, totals = table_for(outdir, extra, n)
        for r in rows:
            print(fmt_row(n, batch, r))
        for t in totals.values():
            print(fmt_row(n, batch, t).replace(f"| {t['alg']} | total |", f"| **{t['alg']}** | **total** |"))
            summary.append((n, batch, t))
    print(f"\n### Totals (extra_passes = {extra})\n")
    print(head)
    for n, batch, t in summary:
        print(fmt_row(n, batch, t))
    with open(f"{outdir}/ncu_summary_p{extra}.csv", "w") as f:
        w = csv.writer(f)
        w.writerow(["N", "batch", "kernel", "launches", "dram_read_bytes", "dram_write_bytes", "lts_bytes",
                    "ncu_time_s", "model_hbm_bytes", "model_l2_bytes", "B_r", "B_c", "model_dram_est_bytes"])
        for n, batch, t in summary:
            w.writerow([n, batch, t["alg"], t["kernels"], t["rd"], t["wr"], t["lts"], t["t"], t["hbm"], t["l2"],
                        t["B_r"], t["B_c"], t["est"]])


if __name__ == "__main__":
    main()
