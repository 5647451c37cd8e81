"""A small mutation sweep of the engine: one-line mutants from a TOML list, each run against the tests that should
kill it.

Theory of operation:

- ``tools/mutants.toml`` lists the mutants. Each names a ``file`` under the repository, an exact ``find`` text that
  occurs once in it (``nth`` picks one of several occurrences, counted from 0), its ``replace`` text, and a
  ``suite`` of the ``[suites]`` table (pytest paths or node ids, engine tests and conformance cases); a mutant may
  add its own ``tests``. ``verdict`` / ``case`` record what the sweep decided for a survivor (``equivalent``:
  why it cannot change behaviour; ``case``: the case written to kill it).
- A mutant is applied by rewriting the file in place, in this worktree only; the original bytes are written back
  in a ``finally`` (also on SIGTERM / Ctrl-C), and the run refuses to start while ``engine/`` has uncommitted
  changes, so ``git diff`` shows any leftover at once.
- Its suite runs as pytest processes (conformance cases with ``--stack engine``), ``-x``: the first failure kills
  the mutant and is recorded. A mutated file that does not compile is ``invalid``, never ``killed``. A run past its
  time limit is ``timeout`` (counted as killed: the suite noticed, by hanging).
- Results stream to a JSON file (one object per mutant id), so a sweep can be resumed with ``--only`` / ``--skip-done``;
  ``--markdown`` writes the table of docs/mutation-sweep.md from the list and the results.

Usage::

    .venv/bin/python tools/mutate.py [--only ID ...] [--skip-done] [--markdown docs/mutation-table.md]
    .venv/bin/python tools/mutate.py --list tools/mutants2.toml --check   # is every entry still in its file?
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


@dataclass(frozen=True, slots=True)
class Mutant:
    id: str
    file: str
    find: str
    replace: str
    suite: str
    tests: tuple[str, ...] = ()
    nth: int | None = None  # None: ``find`` must occur exactly once
    verdict: str = ""  # for a survivor: "equivalent", "case" or "open"
    note: str = ""  # the reason (equivalent, open) or the case that kills it now (case)


@dataclass(slots=True)
class Result:
    id: str
    status: str  # killed | survived | timeout | invalid
    line: int
    killed_by: str = ""
    seconds: float = 0.0
    output_tail: list[str] = field(default_factory=list)


def load(path: Path) -> tuple[dict[str, list[str]], list[Mutant]]:
    data = tomllib.loads(path.read_text())
    suites: dict[str, list[str]] = {k: list(v) for k, v in data.get("suites", {}).items()}
    mutants = []
    seen: set[str] = set()
    for entry in data.get("mutant", []):
        m = Mutant(
            id=entry["id"], file=entry["file"], find=entry["find"], replace=entry["replace"], suite=entry["suite"],
            tests=tuple(entry.get("tests", ())), nth=entry.get("nth"), verdict=entry.get("verdict", ""),
            note=entry.get("note", ""),
        )  # fmt: skip
        if m.id in seen:
            raise SystemExit(f"duplicate mutant id {m.id}")
        if m.suite not in suites:
            raise SystemExit(f"{m.id}: unknown suite {m.suite}")
        seen.add(m.id)
        mutants.append(m)
    return suites, mutants


def locate(m: Mutant, text: str) -> int:
    """The offset of the ``nth`` occurrence of ``m.find``; SystemExit if it is not there (the list is stale) or, with
    no ``nth``, if it is there more than once (the mutant would be ambiguous)."""
    if m.nth is None and text.count(m.find) != 1:
        raise SystemExit(f"{m.id}: {m.find!r} occurs {text.count(m.find)} times in {m.file}; give nth")
    pos = -1
    for _ in range((m.nth or 0) + 1):
        pos = text.find(m.find, pos + 1)
        if pos < 0:
            raise SystemExit(f"{m.id}: {m.find!r} (occurrence {m.nth}) not found in {m.file}")
    return pos


def stale_entries(mutants: list[Mutant]) -> list[str]:
    """One message per entry whose ``find`` is not (or not unambiguously) in its file: all of them, not the first."""
    stale = []
    for m in mutants:
        try:
            locate(m, (ROOT / m.file).read_text())
        except SystemExit as exc:
            stale.append(str(exc))
    return stale


def _pytest_groups(paths: list[str]) -> list[list[str]]:
    """Conformance cases and the project's own tests run in separate processes (the cases need ``--stack``)."""
    cases = [p for p in paths if p.startswith("specs/")]
    own = [p for p in paths if not p.startswith("specs/")]
    groups = []
    if own:
        groups.append([str(PYTHON), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-rf", *own])
    if cases:
        groups.append([str(PYTHON), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-rf", "--stack",
                       "engine", "--case-deadline", "30", *cases])  # fmt: skip
    return groups


def _first_failure(output: str) -> str:
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0]
    return ""


def run_one(m: Mutant, paths: list[str], timeout: float) -> Result:
    target = ROOT / m.file
    original = target.read_bytes()
    text = original.decode()
    pos = locate(m, text)
    line = text.count("\n", 0, pos) + 1
    mutated = text[:pos] + m.replace + text[pos + len(m.find) :]
    try:
        compile(mutated, str(target), "exec")
    except SyntaxError as exc:
        return Result(m.id, "invalid", line, output_tail=[str(exc)])
    start = time.monotonic()
    try:
        target.write_text(mutated)
        for argv in _pytest_groups(paths):
            proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    start_new_session=True)  # fmt: skip
            try:
                out, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the group this run started, and nothing else
                proc.communicate()
                return Result(m.id, "timeout", line, " ".join(argv[-1:]), time.monotonic() - start)
            if proc.returncode == 1:
                return Result(m.id, "killed", line, _first_failure(out), time.monotonic() - start,
                              out.splitlines()[-3:])  # fmt: skip
            if proc.returncode != 0:
                return Result(m.id, "invalid", line, "", time.monotonic() - start, out.splitlines()[-8:])
        return Result(m.id, "survived", line, "", time.monotonic() - start)
    finally:
        target.write_bytes(original)


def _table_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _short(killed_by: str) -> str:
    return killed_by.removeprefix("FAILED ").removeprefix("ERROR ")


def markdown(mutants: list[Mutant], results: dict[str, Result], after: dict[str, Result]) -> str:
    """The table of docs/mutation-sweep.md: the first sweep's result, and for a survivor what was decided (an
    equivalent mutant's reason, or the new case and the re-run in which it killed the mutant)."""
    rows = ["| id | file:line | mutant | first sweep | killed by / why it survived |", "|---|---|---|---|---|"]
    for m in mutants:
        r = results.get(m.id)
        if r is None:
            continue
        change = f"`{_table_cell(m.find.strip())}` -> `{_table_cell(m.replace.strip())}`"
        status = r.status
        if r.status in ("killed", "timeout"):
            why = _short(r.killed_by) or "(suite hung)"
        elif m.verdict == "equivalent":
            why = f"equivalent: {m.note}"
        elif m.verdict == "case":
            again = after.get(m.id)
            rerun = f"re-run: {again.status} by {_short(again.killed_by)}" if again else "re-run: not yet"
            why = f"real hole -> {m.note}; {rerun}"
        elif m.verdict == "open":
            why = f"open: {m.note}"
        else:
            why = "(not yet judged)"
        rows.append(f"| {m.id} | {m.file}:{r.line} | {change} | {status} | {_table_cell(why)} |")
    return "\n".join(rows) + "\n"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so the finally of run_one restores the file


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--list", type=Path, default=ROOT / "tools" / "mutants.toml")
    ap.add_argument("--results", type=Path, default=ROOT / "tools" / "mutation-results.json")
    ap.add_argument("--only", nargs="*", default=[], help="mutant ids (default: all)")
    ap.add_argument("--skip-done", action="store_true", help="skip mutants that already have a result")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds for one pytest process")
    ap.add_argument("--markdown", type=Path, help="write the results table here and exit")
    ap.add_argument("--after", type=Path, default=ROOT / "tools" / "mutation-results-after.json",
                    help="results of re-running survivors against their new cases (for --markdown)")
    ap.add_argument("--baseline", action="store_true", help="run each suite on the unmutated engine and exit")
    ap.add_argument("--check", action="store_true", help="only check that every entry's find text is in its file")
    args = ap.parse_args(argv)
    suites, mutants = load(args.list)
    stored: dict[str, Result] = {}
    if args.results.exists():
        stored = {k: Result(**v) for k, v in json.loads(args.results.read_text()).items()}
    if args.markdown:
        after: dict[str, Result] = {}
        if args.after.exists():
            after = {k: Result(**v) for k, v in json.loads(args.after.read_text()).items()}
        args.markdown.write_text(markdown(mutants, stored, after))
        return 0
    if args.check:
        stale = stale_entries(mutants)
        print("\n".join(stale) if stale else f"{len(mutants)} mutants, each found in its file")
        return 2 if stale else 0
    if args.baseline:
        bad = 0
        for name, paths in suites.items():
            for argv in _pytest_groups(paths):
                start = time.monotonic()
                code = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True).returncode
                print(f"{name:10} exit {code} ({time.monotonic() - start:.0f}s) {' '.join(argv[-len(paths):])}",
                      flush=True)  # fmt: skip
                bad += code != 0
        return 1 if bad else 0
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "engine"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    if dirty.strip():
        print(f"engine/ has uncommitted changes; commit or restore them first:\n{dirty}", file=sys.stderr)
        return 2
    if stale := stale_entries(mutants):  # a stale entry fails before anything is changed
        print("the list is stale (the code moved; point each entry at its current line):\n  " + "\n  ".join(stale),
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    chosen = [m for m in mutants if not args.only or m.id in args.only]
    for m in chosen:
        if args.skip_done and m.id in stored:
            continue
        r = run_one(m, suites[m.suite] + list(m.tests), args.timeout)
        stored[m.id] = r
        args.results.write_text(json.dumps({k: asdict(v) for k, v in stored.items()}, indent=1) + "\n")
        print(f"{r.status:9} {m.id:28} {m.file}:{r.line} {r.killed_by} ({r.seconds:.0f}s)", flush=True)
    left = subprocess.run(["git", "status", "--porcelain", "--", "engine"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    if left.strip():
        print(f"WARNING: engine/ differs from HEAD after the sweep:\n{left}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
