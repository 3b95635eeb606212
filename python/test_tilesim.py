"""ctest for the tilesim Python module: its dicts are the CLI's JSON, its errors the CLI's messages.

    python3 python/test_tilesim.py BUILD_DIR PATH/TO/tilesim
"""
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

build_dir, cli = sys.argv[1], sys.argv[2]
sys.path.insert(0, build_dir)
import tilesim  # noqa: E402  (the module built into the build folder)


def cli_run(args):
    p = subprocess.run([cli] + args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def sets(settings):
    out = []
    for k, v in settings.items():
        k = k.rstrip("_")
        v = "true" if v is True else "false" if v is False else str(v)
        out += ["--set", f"{k}={v}"]
    return out


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


# run(): the same dict as `tilesim run --format json`, numerics included (same seed, same code).
for scenario, settings in [("classroom", {}), ("", {"seq_len": 256}),
                           ("classroom", {"pass_": "forward+backward"}),
                           ("causal", {"seq_len": 512, "numerics": False, "hbm_gbps": 900.5})]:
    rc, out, err = cli_run(["run"] + ([scenario] if scenario else []) + sets(settings) + ["--format", "json"])
    check(rc == 0, f"cli run {scenario} {settings}: {err}")
    check(tilesim.run(scenario, **settings) == json.loads(out), f"run({scenario!r}, {settings}) == CLI JSON")

# sweep(): the same dict as `tilesim sweep --format json`, both spellings of `over`.
rc, out, _ = cli_run(["sweep", "classroom", "--over", "seq_len=16,32,64", "--format", "json"])
want = json.loads(out)
check(tilesim.sweep("classroom", over="seq_len=16,32,64") == want, "sweep(over=str) == CLI JSON")
check(tilesim.sweep("classroom", over={"seq_len": [16, 32, 64]}) == want, "sweep(over=dict) == CLI JSON")

# Errors: ValueError with the CLI's message (without its "error: " prefix).
for scenario, settings in [("classroom", {"seq_len": 0}), ("classroom", {"no_such_key": 1}),
                           ("classroom", {"block_cols": 64}), ("no-such-scenario", {})]:
    rc, out, err = cli_run(["run", scenario] + sets(settings))
    check(rc == 2 and out == "", f"cli {scenario} {settings} fails with exit 2")
    want = "\n".join(line[len("error: "):] for line in err.strip().splitlines())
    try:
        tilesim.run(scenario, **settings)
        check(False, f"run({scenario!r}, {settings}) raises")
    except ValueError as e:
        check(str(e) == want, f"ValueError {e!s} == CLI message {want}")
try:
    tilesim.run("classroom", seq_len=None)
    check(False, "seq_len=None raises")
except ValueError as e:
    check("seq_len" in str(e), "a None setting names the key")

# list() and keys() hold what the CLI lists.
rc, out, _ = cli_run(["list"])
listing = tilesim.list()
for a in listing["algorithms"]:
    check(a["name"] in out, f"list(): {a['name']} in `tilesim list`")
check(len(listing["scenarios"]) > 5 and len(listing["hardware"]) > 3, "list() has scenarios and presets")
check({k["key"] for k in tilesim.keys()} >= {"seq_len", "head_dim", "pass", "algorithms"}, "keys()")

# plot(): SVG text with one data series per algorithm; a file when output is given.
svg = tilesim.plot("io-vs-n", "classroom", over="seq_len=16..128")
root = ET.fromstring(svg)
ns = "{http://www.w3.org/2000/svg}"
data = [g for g in root.iter(ns + "g") if g.get("class") == "series data"]
check([g.get("data-key") for g in data] == ["standard", "flash", "flash2"], "plot(): a data series per algorithm")
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "fig.png")
    check(tilesim.plot("roofline", "classroom", output=path) == path, "plot(output=...) returns the path")
    with open(path, "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "plot(output=.png) writes a PNG")

# trace(): the exports of `tilesim run --trace`.
perfetto = json.loads(tilesim.trace("classroom", format="perfetto"))
check(all({"name", "ph", "ts", "pid", "tid"} <= e.keys() for e in perfetto["traceEvents"]), "trace(perfetto) schema")
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "t.din")
    rc, _, _ = cli_run(["run", "classroom", "--trace", path, "--trace-format", "dinero"])
    with open(path) as f:
        check(tilesim.trace("classroom", format="dinero") == f.read(), "trace(dinero) == the CLI's file")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("tilesim Python module: all checks passed")
