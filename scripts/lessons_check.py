#!/usr/bin/env python3
"""Checks that every command in docs/lessons/*.md still prints what the lesson shows.

Convention (docs/lessons/README.md): a fenced block opened with ```console holds one or more
commands, each on a line starting with "$ ", followed by its output, verbatim. To show an excerpt,
the command itself selects it (`| grep ...`, `| sed -n 3,5p`, `| head`), so the block is still the
command's whole output. `tilesim` (and `tilesim-gui`) in a command mean the binaries of the build
directory given as the first argument.

    scripts/lessons_check.py build                 # check: fails naming lesson, command, first differing line
    scripts/lessons_check.py build --write         # regenerate every block from its command
    scripts/lessons_check.py build --only 05       # lessons whose file name contains "05"

A command's exit status must be 0 (write `; echo "exit status $?"` after one that is meant to fail).
Commands run in a scratch directory holding links to the repository's scenarios/, scripts/, docs/validation/
(read-only by convention: copy before writing) and the scenario files in docs/lessons/, and an empty docs/lessons/img/ (so a command may write files, such as
a trace, without touching the worktree). With --write the figures the commands drew there
(`tilesim plot ... -o docs/lessons/img/...`) are copied into docs/lessons/img/; in check mode a figure
that differs from the committed one is reported, not failed (fonts differ between machines).
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSONS = ROOT / "docs" / "lessons"
FENCE_OPEN = re.compile(r"^([\s>]*)```console\s*$")  # indented (a list item) or quoted (a box)
FENCE_CLOSE = re.compile(r"^[\s>]*```\s*$")


def blocks(text):
    """Yields (first line index, last line index exclusive, indent, [(command, [expected], line no)]).

    A block may be indented (a list item) or quoted (a box): its lines lose the fence's prefix."""
    raw = text.split("\n")
    i = 0
    while i < len(raw):
        fence = FENCE_OPEN.match(raw[i])
        if not fence:
            i += 1
            continue
        indent = fence.group(1)
        lines = ["" if x.rstrip() == indent.rstrip() else x[len(indent):] if x.startswith(indent) else x.lstrip()
                 for x in raw]
        start = i + 1
        end = start
        while end < len(lines) and not FENCE_CLOSE.match(lines[end]):
            end += 1
        cmds = []
        for k in range(start, end):
            if lines[k].startswith("$ "):
                cmds.append([lines[k][2:], [], k + 1])
            elif cmds:
                cmds[-1][1].append(lines[k])
            elif lines[k].strip():
                raise SystemExit(f"line {k + 1}: a console block must start with a '$ ' command line")
        for c in cmds:
            while c[1] and not c[1][-1].strip():
                c[1].pop()
        yield start, end, indent, cmds
        i = end + 1


def run(command, cwd, env):
    proc = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120)
    out = [line.rstrip() for line in proc.stdout.split("\n")]
    while out and not out[-1]:
        out.pop()
    return proc.returncode, out


def scratch_dir():
    d = pathlib.Path(tempfile.mkdtemp(prefix="tilesim-lessons-"))
    for name in ("scenarios", "scripts"):
        os.symlink(ROOT / name, d / name)
    (d / "docs" / "lessons" / "img").mkdir(parents=True)
    os.symlink(ROOT / "docs" / "validation", d / "docs" / "validation")  # measured data: copy before writing
    for f in LESSONS.glob("*.toml"):
        os.symlink(f, d / "docs" / "lessons" / f.name)
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", help="build directory holding tilesim")
    ap.add_argument("--write", action="store_true", help="regenerate every block from its command")
    ap.add_argument("--only", default="", help="check only lessons whose file name contains this")
    args = ap.parse_args()

    build = pathlib.Path(args.build).resolve()
    if not (build / "tilesim").exists():
        raise SystemExit(f"error: {build}/tilesim not found (build it first)")
    bindir = pathlib.Path(tempfile.mkdtemp(prefix="tilesim-bin-"))
    for exe in ("tilesim", "tilesim-gui"):
        if (build / exe).exists():
            os.symlink(build / exe, bindir / exe)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}", LC_ALL="C.UTF-8",
               COLUMNS="200")
    cwd = scratch_dir()

    files = sorted(p for p in LESSONS.glob("[0-9][0-9]-*.md") if args.only in p.name)
    if not files:
        raise SystemExit("error: no lessons found in docs/lessons/")
    failures, commands, t0 = [], 0, time.time()
    for path in files:
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        replacements = []
        for start, end, indent, cmds in blocks(text):
            new_body = []
            for command, expected, lineno in cmds:
                commands += 1
                rc, got = run(command, cwd, env)
                where = f"{path.relative_to(ROOT)}:{lineno}: `{command}`"
                if rc != 0:
                    failures.append(f"{where}: exit status {rc}:\n    " + "\n    ".join(got[-5:]))
                new_body += ["$ " + command] + got
                if args.write or rc != 0:
                    continue
                for n in range(max(len(expected), len(got))):
                    e = expected[n].rstrip() if n < len(expected) else "<end of output>"
                    g = got[n] if n < len(got) else "<end of output>"
                    if e != g:
                        failures.append(f"{where}: output line {n + 1} differs\n"
                                        f"    lesson: {e}\n    now:    {g}")
                        break
            replacements.append((start, end, [(indent + x).rstrip() for x in new_body]))
        if args.write:
            for start, end, body in reversed(replacements):
                lines[start:end] = body
            new_text = "\n".join(lines)
            if new_text != text:
                path.write_text(new_text, encoding="utf-8")
                print(f"rewrote {path.relative_to(ROOT)}")

    drawn = sorted((cwd / "docs" / "lessons" / "img").glob("*"))
    if args.write and drawn:
        (LESSONS / "img").mkdir(exist_ok=True)
        for fig in drawn:
            shutil.copyfile(fig, LESSONS / "img" / fig.name)
            print(f"drew docs/lessons/img/{fig.name}")
    if not args.write:
        for fig in drawn:
            committed = LESSONS / "img" / fig.name
            if not committed.exists():
                print(f"note: {fig.name} is drawn by a lesson but not committed (run with --write)")
            elif committed.read_bytes() != fig.read_bytes():
                print(f"note: docs/lessons/img/{fig.name} differs from what the command draws now "
                      "(fonts, or the model changed: run with --write)")
    shutil.rmtree(cwd)
    shutil.rmtree(bindir)

    took = time.time() - t0
    if failures:
        print(f"{len(failures)} of {commands} lesson commands do not print what their lesson shows:")
        for f in failures:
            print("  " + f)
        print("(regenerate with scripts/lessons_check.py BUILD --write, then reread the prose around them)")
        return 1
    print(f"ok: {commands} commands in {len(files)} lessons print what their lessons show ({took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
