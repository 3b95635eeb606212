#!/usr/bin/env python3
"""Rewrites the key table and the built-in scenario table in docs/scenarios.md from `tilesim keys` (the
key table in scenarios/keys.cpp) and `tilesim list` (the files in scenarios/), so the documentation
cannot drift from the binary (tests/scenarios/test_scenario.cpp checks it).

    scripts/keys_table.py [path/to/tilesim]        # default: build/tilesim
"""
import re
import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
tilesim = sys.argv[1] if len(sys.argv) > 1 else str(root / "build" / "tilesim")
out = subprocess.run([tilesim, "keys"], capture_output=True, text=True, check=True).stdout
rows = []
for line in out.splitlines():
    m = re.match(r"\s+(\S+)\s+(integer|string|number|true/false|list of strings)\s+(.*)", line)
    if not m:
        sys.exit(f"keys_table.py: cannot read line {line!r}")
    rows.append(f"| `{m.group(1)}` | {m.group(2)} | {m.group(3)} |")
doc = root / "docs" / "scenarios.md"
text = doc.read_text()
start = text.index("| key | type | meaning |")
end = text.index("\n\n", start)
text = text[:start] + "| key | type | meaning |\n|---|---|---|\n" + "\n".join(rows) + text[end:]
listing = subprocess.run([tilesim, "list"], capture_output=True, text=True, check=True).stdout
builtins = []
section = None
for line in listing.splitlines():
    if not line.startswith(" "):
        section = line.strip()
        continue
    if section == "scenarios:":
        ident, _, summary = line.strip().partition(" ")
        builtins.append(f"| `{ident}` | {summary.strip()} |")
start = text.index("| id | what it shows |")
end = text.index("\n\n", start)
text = text[:start] + "| id | what it shows |\n|---|---|\n" + "\n".join(builtins) + text[end:]
doc.write_text(text)
print(f"docs/scenarios.md: {len(rows)} keys, {len(builtins)} built-in scenarios")
