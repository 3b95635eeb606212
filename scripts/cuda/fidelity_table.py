#!/usr/bin/env python3
"""Joins the fidelity run's Nsight Compute CSVs (scripts/cuda/fidelity.sh) with the model's prediction.

usage: fidelity_table.py DATA_DIR TILESIM [--cache MODEL_CSV] [--out JOINED_CSV] [--jobs 2]

DATA_DIR holds ours_d{d}_N{N}_c{c}.csv, torch_d{d}.csv + .manifest (and a later run's torch_d{d}_*.csv
+ .manifest), decode_*.csv and torch_decode.csv.

For every operation (tilesim's kernels, PyTorch's eager / SDPA flash / SDPA cuDNN, decode) it runs
`TILESIM run gpt2-medium --set hardware=H200 --set l2=true ... --format json` (the scenario runner with
the H200 preset and the L2 model; the settings that match each kernel are in `model_settings`), and
prints a Markdown table: measured (ncu) against predicted DRAM bytes (dram__bytes_read + write vs
traffic.dram_read + dram_write), SM-side load bytes (L2 -> SM: l1tex__m_xbar2l1tex_read_bytes, else
lts__t_sectors_srcunit_tex_op_read x 32, vs traffic.sm_load_bytes), L2 bytes (lts__t_sectors_srcunit_tex
read + write x 32 vs traffic.l2_read + l2_write) and time (sum of gpu__time_duration vs predicted_ms),
with ratios and whether each is inside its target (DRAM +-10 %, SM +-15 %, time +-25 %).

Time is checked twice: with the preset's rates, and calibrated: for each kernel family, the binding
rate of the model at ONE shape (CALIBRATION below: d 128, N 8192, not causal; decode: batch 1, the
heuristic's split) is set so that the model matches that shape's measured time, and that rate is then
used for every other shape of the family (a check, not a fit). The cache file keeps the model's answers
(one row per settings string), so a second run costs nothing.
"""
import concurrent.futures
import csv
import glob
import json
import os
import re
import statistics
import subprocess
import sys

NS = [512, 1024, 2048, 4096, 8192, 16384]  # an N not measured gives no rows
SCALE = {"byte": 1, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1,
         "nsecond": 1e-9, "usecond": 1e-6, "msecond": 1e-3, "second": 1, "sector": 1, "": 1}
# H200 preset rates (docs/timeline.md), the base a calibration scales.
PRESET = {"wgmma_tflops": 788.0, "mma_sync_tflops": 520.0, "dram_achieved": 0.896, "sfu_tops": 4.17}
MARKERS = ("fidelity_marker", "spin_kernel")


# ---------------------------------------------------------------- ncu side
def read_ncu(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        lines = [l for l in f if l.startswith('"')]
    rows = list(csv.reader(lines))
    if len(rows) < 3:
        return []
    header, units, data = rows[0], rows[1], rows[2:]
    col = {n: i for i, n in enumerate(header)}
    out = []
    for r in data:
        rec = {"name": r[col["Kernel Name"]]}
        for m, i in col.items():
            if "__" not in m:
                continue
            try:
                v = float(r[i].replace(",", ""))
            except ValueError:
                continue
            rec[m] = v * SCALE.get(units[i], 1)
        out.append(rec)
    return out


def metric_sum(kernels, key):
    vals = [k[key] for k in kernels if key in k]
    return sum(vals) if len(vals) == len(kernels) and kernels else None


def measured(kernels):
    """Totals over the kernels of one operation."""
    m = {"kernels": len(kernels)}
    rd, wr = metric_sum(kernels, "dram__bytes_read.sum"), metric_sum(kernels, "dram__bytes_write.sum")
    m["dram"] = rd + wr if rd is not None and wr is not None else None
    x = metric_sum(kernels, "l1tex__m_xbar2l1tex_read_bytes.sum")
    tex_rd = metric_sum(kernels, "lts__t_sectors_srcunit_tex_op_read.sum")
    tex_wr = metric_sum(kernels, "lts__t_sectors_srcunit_tex_op_write.sum")
    m["sm_load"] = x if x is not None else (tex_rd * 32 if tex_rd is not None else None)
    m["sm_from"] = "xbar2l1tex" if x is not None else "lts tex read"
    m["l2"] = (tex_rd + tex_wr) * 32 if tex_rd is not None and tex_wr is not None else None
    m["lts_bytes"] = metric_sum(kernels, "lts__t_bytes.sum")
    t = metric_sum(kernels, "gpu__time_duration.sum")
    m["ms"] = t * 1e3 if t is not None else None
    return m


def per_name_median(kernels):
    """Decode: several launches of each kernel; the median launch of each name, in first-seen order."""
    names = []
    for k in kernels:
        if k["name"] not in names:
            names.append(k["name"])
    out = []
    for n in names:
        ks = [k for k in kernels if k["name"] == n]
        rec = {"name": n}
        for key in ks[0]:
            if key != "name":
                rec[key] = statistics.median(k.get(key, 0) for k in ks)
        out.append(rec)
    return out


OURS_RANGE = [("flash_fwd_kernel", "flash"), ("hopper_fwd_tma_wgmma", "b"), ("hopper_fwd_warpspec", "c"),
              ("hopper_fwd_pingpong", "d"), ("hopper_fwd_intrawg", "e"), ("hopper_fwd_fp8", "f"),
              ("fp8_quantize", "f-pre"), ("bwd_preprocess", "flash-bwd"), ("flash_bwd_kernel", "flash-bwd"),
              ("bwd_convert_dq", "flash-bwd"), ("dsoftmax_rows", "standard-bwd"), ("softmax_rows", "standard"),
              ("eager_pass", "standard")]


def split_ours(kernels):
    """tilesim-cuda profile --kernels ...: ranges by kernel name; cuBLAS kernels (any other name) belong
    to standard before any flash kernel, to standard-bwd after."""
    groups, cur = {}, None
    for k in kernels:
        g = next((r for key, r in OURS_RANGE if key in k["name"]), None)
        if g is None:
            g = "standard" if cur in (None, "standard") else "standard-bwd"
        cur = g
        groups.setdefault(g, []).append(k)
    return groups


def split_torch(kernels, manifest):
    labels = [l.strip() for l in open(manifest)] if os.path.exists(manifest) else []
    groups, i = {}, -1
    for k in kernels:
        if any(m in k["name"] for m in MARKERS):
            i += 1
            continue
        if 0 <= i < len(labels):
            groups.setdefault(labels[i], []).append(k)
    return groups


# ---------------------------------------------------------------- model side
def shape_sets(b, h, n, d, causal):
    s = {"seq_len": n, "batch": b, "heads": h, "head_dim": d}
    if causal:
        s["mask"] = "causal"
    return s


def hopper_sets(step, d):
    if step == "flash":
        return {"algorithms": "flash2", "schedule": "sync", "mma": "mma.sync", "block_rows": 128, "block_cols": 64}
    s = {"algorithms": "flash2", "block_rows": 128, "block_cols": 128}
    if step == "b":
        s.update({"schedule": "sync", "mma": "wgmma"})
    else:
        s["schedule"] = {"c": "producer-consumer", "d": "pingpong"}.get(step, "pingpong+pipelined")
        s["pipeline_stages"] = 4 if (d == 64 or step == "f") else 3
    if step == "f":
        s["dtype"] = "fp8e4m3"
    return s


def model_settings(impl, op, shape):
    """The model for one measured operation: (family, settings dict, note)."""
    if impl == "decode":
        b, splits = shape[0], shape[1]
        s = {"batch": b, "heads": 32, "kv_heads": 32, "seq_len": 32768, "seq_len_q": 1, "head_dim": 128}
        if op == "eager":
            s["algorithms"] = "standard"
        elif splits == 1:
            s["algorithms"] = "decode"
        else:
            s.update({"algorithms": "flash-decoding", "kv_splits": splits})
        return s
    b, h, n, d, c = shape
    s = shape_sets(b, h, n, d, c)
    if impl == "ours":
        if op in ("flash", "b", "c", "d", "e", "f"):
            s.update(hopper_sets(op, d))
        elif op == "flash-bwd":
            s.update({"algorithms": "flash2", "pass": "backward", "schedule": "sync", "block_cols": 128,
                      "block_rows": 64 if d == 64 else 32})
        elif op == "standard":
            s["algorithms"] = "standard"
        elif op == "standard-bwd":
            s.update({"algorithms": "standard", "pass": "backward"})
    else:  # torch-eager, sdpa-flash, sdpa-cudnn; op fwd / bwd
        if impl == "torch-eager":
            s.update({"algorithms": "standard", "extra_passes": 2 if c else 1})
        elif impl == "sdpa-flash":
            s.update({"algorithms": "flash2", "schedule": "sync", "mma": "mma.sync"})
        else:  # cuDNN: its kernel's tiles and schedule are not published; FA3's schedule as the model
            s.update({"algorithms": "flash2"} if op == "bwd" else
                     {"algorithms": "flash2", "schedule": "pingpong+pipelined", "block_rows": 128,
                      "block_cols": 128})
        if op == "bwd":
            s["pass"] = "backward"
            if impl == "sdpa-flash":  # FA2's backward traits: kBlockM x kBlockN = 128 x 128 (d 64), 64 x 128 (d 128)
                s.update({"schedule": "sync", "block_rows": 128 if d == 64 else 64, "block_cols": 128})
    return s


def settings_key(s):
    return " ".join(f"{k}={v}" for k, v in s.items())


def run_model(tilesim, s):
    cmd = [tilesim, "run", "gpt2-medium", "--set", "hardware=H200", "--set", "numerics=false", "--set", "l2=true"]
    order = ["algorithms"] + [k for k in s if k != "algorithms"]  # algorithms before kv_splits
    for k in order:
        if k in s:
            cmd += ["--set", f"{k}={s[k]}"]
    cmd += ["--format", "json"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    runs = json.loads(out.stdout)["runs"]
    tr = lambda key: sum(r.get("traffic", {}).get(key, 0) for r in runs)  # noqa: E731
    bounds = []
    for r in runs:
        for p in r.get("phases", []):
            bounds.append((p.get("predicted_ms", 0), p.get("bound", "")))
    bound = max(bounds)[1] if bounds else ""
    return {"ms": sum(r["predicted_ms"] for r in runs), "dram": tr("dram_read_bytes") + tr("dram_write_bytes"),
            "sm_load": tr("sm_load_bytes"), "l2": tr("l2_read_bytes") + tr("l2_write_bytes"), "bound": bound,
            "dram_estimate": sum(r["dram_estimate"]["read_bytes"] + r["dram_estimate"]["write_bytes"] for r in runs)}


class Model:
    def __init__(self, tilesim, cache, jobs):
        self.tilesim, self.cache_path, self.jobs = tilesim, cache, jobs
        self.cache = {}
        if cache and os.path.exists(cache):
            with open(cache) as f:
                for r in csv.DictReader(f):
                    self.cache[r["settings"]] = {k: (v if k in ("bound", "error") else float(v))
                                                 for k, v in r.items() if k != "settings" and v != ""}

    def many(self, settings_list):
        todo = [s for s in {settings_key(s): s for s in settings_list}.values() if settings_key(s) not in self.cache]
        if todo:
            with concurrent.futures.ThreadPoolExecutor(self.jobs) as ex:
                for s, res in zip(todo, ex.map(lambda s: run_model(self.tilesim, s), todo)):
                    self.cache[settings_key(s)] = res
            self.save()
        return [self.cache[settings_key(s)] for s in settings_list]

    def save(self):
        if not self.cache_path:
            return
        keys = ["ms", "dram", "sm_load", "l2", "dram_estimate", "bound", "error"]
        with open(self.cache_path, "w") as f:
            w = csv.writer(f)
            w.writerow(["settings"] + keys)
            for k in sorted(self.cache):
                w.writerow([k] + [self.cache[k].get(x, "") for x in keys])


# ---------------------------------------------------------------- rows
def all_rows(data):
    """(family, impl, op, shape, label, measured or None)."""
    rows = []
    for d in (64, 128):
        for c in (0, 1):
            for n in NS:
                shape = (16384 // n, 16, n, d, c)
                tag = f"d{d}_N{n}_c{c}"
                ks = read_ncu(os.path.join(data, f"ours_{tag}.csv"))
                groups = split_ours(ks) if ks else {}
                for op in ("standard", "flash", "b", "c", "d", "e", "f", "flash-bwd", "standard-bwd"):
                    if op == "f" and d != 128:
                        continue
                    g = groups.get(op)
                    rows.append((f"ours {op}", "ours", op, shape, f"tilesim {op}", measured(g) if g else None))
                for impl in ("torch-eager", "sdpa-flash", "sdpa-cudnn"):
                    for op in ("fwd", "bwd"):
                        rows.append((f"{impl} {op}", impl, op, shape, f"{impl} {op}", None))
        groups = {}  # torch_d{d}.csv and later runs' torch_d{d}_*.csv, each with its manifest
        for path in sorted(glob.glob(os.path.join(data, f"torch_d{d}.csv")) +
                           glob.glob(os.path.join(data, f"torch_d{d}_*.csv"))):
            ks = read_ncu(path)
            if ks:
                for key, g in split_torch(ks, path[:-4] + ".manifest").items():
                    groups.setdefault(key, g)  # the first run that measured an operation
        if groups:
            for i, r in enumerate(rows):
                fam, impl, op, shape, label, m = r
                if impl.startswith(("torch", "sdpa")) and shape[3] == d:
                    b, h, n, dd, c = shape
                    key = f"{impl} {op} B={b} H={h} N={n} d={dd} causal={c}"
                    if key in groups:
                        rows[i] = (fam, impl, op, shape, label, measured(groups[key]))
    for b in (1, 8):
        for sp in (1, 0):
            ks = read_ncu(os.path.join(data, f"decode_B{b}_s{sp}.csv"))
            used = sp
            log = os.path.join(data, f"decode_B{b}_s{sp}.log")
            if os.path.exists(log):
                mm = re.search(r"^\s+(\d+)( \(h\))?\s+\S+\s+\S+", open(log).read(), re.M)
                if mm:
                    used = int(mm.group(1))
            if sp == 0 and used == 0:
                used = 7 if b == 1 else 1  # FA2's heuristic (split_heuristic.h), until the log says
            rows.append(("decode ours", "decode", "ours", (b, used), f"tilesim decode, {used} split(s)",
                         measured(per_name_median(ks)) if ks else None))
        ks = read_ncu(os.path.join(data, "torch_decode.csv"))
        groups = split_torch(ks, os.path.join(data, "torch_decode.manifest")) if ks else {}
        for impl in ("torch-eager", "sdpa-flash", "sdpa-cudnn"):
            g = groups.get(f"{impl} decode B={b} H=32 N=32768 d=128")
            splits = (7 if b == 1 else 1) if impl != "torch-eager" else 1
            rows.append((f"decode {impl}", "decode", "eager" if impl == "torch-eager" else "split",
                         (b, splits) + (("eager",) if impl == "torch-eager" else ()),
                         f"{impl} decode", measured(g) if g else None))
    return rows


CALIBRATION = {"shape": (2, 16, 8192, 128, 0), "decode": (1,)}


def is_calibration(impl, shape):
    if impl == "decode":  # batch 1 with the heuristic's split (7; eager: its only form)
        return shape[0] == 1 and (shape[1] != 1 or shape[2:] == ("eager",))
    return shape == CALIBRATION["shape"]


FA3_SCHEDULES = ("producer-consumer", "pingpong", "pipelined", "pingpong+pipelined")


def rate_key(s, bound):
    if bound in ("tensor",):
        if s.get("mma") == "wgmma" or s.get("schedule") in FA3_SCHEDULES or s.get("algorithms") == "standard":
            return "wgmma_tflops"
        return "mma_sync_tflops"  # flash2's own instruction under sync (forward and backward)
    if bound in ("dram", "HBM", "copy", "l2"):
        return "dram_achieved"
    if bound == "sfu":
        return "sfu_tops"
    return None


def fmt_b(x):
    return f"{x / 1e9:.3f}" if x is not None else "–"


def ratio(a, b):
    return a / b if a is not None and b else None


def mark(r, tol):
    if r is None:
        return "–"
    return f"{r:.2f}" + ("" if abs(r - 1) <= tol else " ✗")


def main():
    a = sys.argv[1:]
    if len(a) < 2:
        sys.exit(__doc__)
    data, tilesim = a[0], a[1]
    opt = {a[i]: a[i + 1] for i in range(2, len(a) - 1, 2)}
    model = Model(tilesim, opt.get("--cache"), int(opt.get("--jobs", 2)))
    rows = all_rows(data)
    settings = [model_settings(impl, op, shape) for _, impl, op, shape, _, _ in rows]
    preds = model.many(settings)
    # Calibration: per family, the binding rate at the calibration shape.
    cal = {}
    for (fam, impl, op, shape, label, m), s, p in zip(rows, settings, preds):
        if m and m.get("ms") and is_calibration(impl, shape) and "ms" in p:
            key = rate_key(s, p.get("bound", ""))
            if key:
                cal[fam] = (key, PRESET[key] * p["ms"] / m["ms"], p["bound"])
    cal_settings = []
    for (fam, impl, op, shape, label, m), s in zip(rows, settings):
        if fam in cal:
            cs = dict(s)
            cs[cal[fam][0]] = round(cal[fam][1], 4) if cal[fam][0] == "dram_achieved" else round(cal[fam][1], 1)
            if cal[fam][0] == "dram_achieved":
                cs[cal[fam][0]] = min(1.0, cs[cal[fam][0]])
            cal_settings.append(cs)
        else:
            cal_settings.append(None)
    cal_preds = model.many([c for c in cal_settings if c])
    it = iter(cal_preds)
    cal_preds = [next(it) if c else None for c in cal_settings]

    print("| operation | B, H, N, d, causal | DRAM GB meas / model | ratio | SM load GB meas / model | ratio | "
          "L2 GB meas / model | ratio | ms meas / model | ratio | calibrated model ms | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    count = {"dram": [0, 0], "sm": [0, 0], "time": [0, 0], "time_cal": [0, 0]}
    joined = []
    for (fam, impl, op, shape, label, m), s, p, cp in zip(rows, settings, preds, cal_preds):
        if not m:
            continue
        if "error" in p:
            print(f"| {label} | {shape} | model: {p['error']} |")
            continue
        rd, rs, rl, rt = ratio(m["dram"], p["dram"]), ratio(m["sm_load"], p["sm_load"]), ratio(m["l2"], p["l2"]), \
            ratio(m["ms"], p["ms"])
        rc = ratio(m["ms"], cp["ms"]) if cp and "ms" in cp else None
        for k, r, tol in (("dram", rd, 0.10), ("sm", rs, 0.15), ("time", rt, 0.25), ("time_cal", rc, 0.25)):
            if r is not None:
                count[k][1] += 1
                count[k][0] += abs(r - 1) <= tol
        shp = ", ".join(str(x) for x in shape) if impl != "decode" else f"{shape[0]}, 32, 32768, 128 (splits {shape[1]})"
        calmark = " (cal.)" if fam in cal and is_calibration(impl, shape) else ""
        print(f"| {label} | {shp} | {fmt_b(m['dram'])} / {fmt_b(p['dram'])} | {mark(rd, .10)} | "
              f"{fmt_b(m['sm_load'])} / {fmt_b(p['sm_load'])} | {mark(rs, .15)} | {fmt_b(m['l2'])} / {fmt_b(p['l2'])} | "
              f"{mark(rl, .15)} | {m['ms']:.3f} / {p['ms']:.3f} | {mark(rt, .25)} | "
              f"{(f'{cp[chr(109) + chr(115)]:.3f}' if cp and 'ms' in cp else '–')}{calmark} | {mark(rc, .25)} |")
        joined.append({"family": fam, "label": label, "shape": shp, "kernels": m["kernels"], "dram_meas": m["dram"],
                       "dram_model": p["dram"], "sm_load_meas": m["sm_load"], "sm_from": m["sm_from"],
                       "sm_load_model": p["sm_load"], "l2_meas": m["l2"], "lts_bytes": m["lts_bytes"],
                       "l2_model": p["l2"], "ms_meas": m["ms"], "ms_model": p["ms"], "bound": p.get("bound"),
                       "ms_model_calibrated": cp.get("ms") if cp else None, "settings": settings_key(s)})
    # forward + backward: the sums of the two operations' bytes and times
    pairs = {("ours", "standard"): "standard-bwd", ("ours", "flash"): "flash-bwd"}
    by = {(r[1], r[2], r[3]): (r, p, cp) for r, p, cp in zip(rows, preds, cal_preds)}
    fb_rows, fb_count = [], {"dram": [0, 0], "sm": [0, 0], "time": [0, 0], "time_cal": [0, 0]}
    for (impl, op, shape), (r, p, cp) in by.items():
        if impl == "decode":
            continue
        bop = pairs.get((impl, op)) or ("bwd" if op == "fwd" else None)
        if not bop or (impl, bop, shape) not in by:
            continue
        r2, p2, cp2 = by[(impl, bop, shape)]
        if not r[5] or not r2[5] or "error" in p or "error" in p2:
            continue
        add = lambda x, y: x + y if x is not None and y is not None else None  # noqa: E731
        m = {k: add(r[5][k], r2[5][k]) for k in ("dram", "sm_load", "ms")}
        q = {k: p[k] + p2[k] for k in ("dram", "sm_load", "ms")}
        qc = cp["ms"] + cp2["ms"] if cp and cp2 and "ms" in cp and "ms" in cp2 else None
        rr = {"dram": ratio(m["dram"], q["dram"]), "sm": ratio(m["sm_load"], q["sm_load"]),
              "time": ratio(m["ms"], q["ms"]), "time_cal": ratio(m["ms"], qc)}
        for k, tol in (("dram", .10), ("sm", .15), ("time", .25), ("time_cal", .25)):
            if rr[k] is not None:
                fb_count[k][1] += 1
                fb_count[k][0] += abs(rr[k] - 1) <= tol
        fb_rows.append(f"| {impl} {op}+{bop} | {', '.join(str(x) for x in shape)} | {fmt_b(m['dram'])} / "
                       f"{fmt_b(q['dram'])} | {mark(rr['dram'], .10)} | {fmt_b(m['sm_load'])} / {fmt_b(q['sm_load'])} | "
                       f"{mark(rr['sm'], .15)} | {m['ms']:.3f} / {q['ms']:.3f} | {mark(rr['time'], .25)} | "
                       f"{(f'{qc:.3f}' if qc else '–')} | {mark(rr['time_cal'], .25)} |")
    print("\nforward + backward (sums of the two rows above):\n")
    print("| operation | B, H, N, d, causal | DRAM GB meas / model | ratio | SM load GB meas / model | ratio | "
          "ms meas / model | ratio | calibrated model ms | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for l in fb_rows:
        print(l)
    print()
    for k, (ok, n) in fb_count.items():
        print(f"fwd+bwd {k}: {ok} of {n} rows within target")
    print()
    for k, (ok, n) in count.items():
        print(f"{k}: {ok} of {n} rows within target")
    fam_count = {}
    for j in joined:
        f = fam_count.setdefault(j["family"], [0, 0, 0, 0, 0])
        f[0] += 1
        for i, (a_, b_, tol) in enumerate((("dram_meas", "dram_model", .10), ("sm_load_meas", "sm_load_model", .15),
                                            ("ms_meas", "ms_model", .25), ("ms_meas", "ms_model_calibrated", .25))):
            r_ = ratio(j[a_], j[b_])
            f[i + 1] += r_ is not None and abs(r_ - 1) <= tol
    print("\n| family | rows | DRAM ±10 % | SM load ±15 % | time ±25 % (preset) | time ±25 % (calibrated) |")
    print("|---|---|---|---|---|---|")
    for fam, f in fam_count.items():
        print(f"| {fam} | {f[0]} | {f[1]} | {f[2]} | {f[3]} | {f[4]} |")
    print("\ncalibrated rates (family: key = value, at d 128, N 8192, B 2, not causal; decode: batch 1):")
    for fam, (key, v, bound) in sorted(cal.items()):
        print(f"  {fam}: {key} = {v:.4g} (preset {PRESET[key]}; model bound there: {bound})")
    if "--out" in opt and joined:
        with open(opt["--out"], "w") as f:
            w = csv.DictWriter(f, fieldnames=list(joined[0]))
            w.writeheader()
            w.writerows(joined)


if __name__ == "__main__":
    main()
