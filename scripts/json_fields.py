#!/usr/bin/env python3
"""Prints chosen fields of `tilesim run --format json` (read from stdin), one row per run.

    tilesim run classroom --format json | python3 scripts/json_fields.py algorithm pass flops tiling.B_r

A field is a dotted path (or LABEL=PATH, to print LABEL as its column's heading) into each entry of "runs" (list items by index: timeline.phases.0.waves).
--each=PATH makes a row of each item of that list in each run instead (--each=phases: the kernel
passes), with the run's own fields still reachable as run.PATH.
Integers print as they are, other numbers with 4 significant digits; a missing field prints "-".
Used by the lessons (docs/lessons/), whose commands must print exactly what the lesson shows.
"""
import json
import sys


def get(obj, path):
    for part in path.split("."):
        if isinstance(obj, list):
            obj = obj[int(part)] if part.isdigit() and int(part) < len(obj) else None
        elif isinstance(obj, dict):
            obj = obj.get(part)
        else:
            return None
        if obj is None:
            return None
    return obj


def text(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.4g}"
    return str(v)


def main():
    fields = sys.argv[1:]
    each = None
    if fields and fields[0].startswith("--each="):
        each = fields.pop(0).split("=", 1)[1]
    if not fields:
        raise SystemExit(__doc__)
    runs = json.load(sys.stdin)["runs"]
    if each:
        runs = [dict(item, run=r) for r in runs for item in (get(r, each) or [])]
    labels = [f.split("=", 1)[0] for f in fields]
    paths = [f.split("=", 1)[-1] for f in fields]
    rows = [labels] + [[text(get(r, p)) for p in paths] for r in runs]
    widths = [max(len(row[c]) for row in rows) for c in range(len(fields))]
    for row in rows:
        print("  ".join(cell.rjust(w) if c else cell.ljust(w) for c, (cell, w) in enumerate(zip(row, widths))).rstrip())


if __name__ == "__main__":
    main()
