"""``conformance differential``: the subcommand, its records and its exit status.

Records (``kind = "differential"``, documented in ``docs/results-schema.md``) are appended to
``REPORT/differential.jsonl``; the HTML report of ``REPORT`` is rebuilt from that file and ``REPORT/results.jsonl``
(when a conformance run wrote one), so findings appear in their own section next to the verdicts.

Exit status: 0 when every divergence was explained, 1 for an unexplained one (a finding), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from conformance.results import SCHEMA, append_record

__all__ = ["add_parser", "records"]

RESULTS = "differential.jsonl"


def add_parser(sub: Any) -> None:
    """Register the subcommand on the ``conformance`` command's subparsers."""
    p = sub.add_parser(
        "differential", help="run random C-API programs on several stacks at once and compare them",
        description="Generate random programs of C-API calls (hypothesis) and run each on every selected C-API "
                    "stack in lock step, comparing after every call what a program can see. A difference is "
                    "explained by an entry of conformance/expectations/divergences.toml or it is a finding, "
                    "printed as the shrunk program. Exit status 0 when every divergence was explained, 1 for a "
                    "finding, 2 for a usage error.")
    p.add_argument("--stack", action="append", default=[], metavar="NAME",
                   help="a C-API stack (repeatable, at least two; the first is the reference; default: engine, "
                        "libssl)")
    p.add_argument("--examples", type=int, default=200, metavar="N", help="programs to generate (default 200)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed (default: random, printed)")
    p.add_argument("--transport", action="append", default=[], metavar="KIND",
                   choices=["pair", "mem", "socket", "fd"],
                   help="how each SSL meets the link: pair (BIO pair), mem (memory BIOs), socket (a 127.0.0.1 TCP "
                        "socket as a socket BIO), fd (the same socket given with SSL_set_fd); repeatable; default: "
                        "every one the stacks can use, drawn at random per program")
    p.add_argument("--max-steps", type=int, default=30, metavar="N", help="steps per program (default 30)")
    p.add_argument("--report", default="reports", metavar="DIR", help="report directory (default: reports)")
    p.set_defaults(func=cmd_differential)


def records(result: Any, versions: dict[str, str], run_id: str) -> list[dict[str, Any]]:
    """The records of one run: a summary, one per explained table entry, one for a finding."""
    from conformance.differential.runner import RunResult

    assert isinstance(result, RunResult)
    base = {"schema": SCHEMA, "kind": "differential", "run": run_id, "stacks": result.stacks,
            "versions": versions, "seed": result.seed}
    out = [{**base, "status": "summary", "examples": result.examples, "steps": result.steps,
            "ok": result.finding is None and not result.error, "reason": result.error}]
    for hit in result.hits.values():
        rec = {**base, "status": "explained", "entry": hit.entry.record(), "count": hit.count}
        if hit.shortest is not None:
            rec.update(stack=hit.shortest.stack, reason=hit.shortest.describe(), script=hit.shortest.script(),
                       c=hit.shortest.program.render_c())
        out.append(rec)
    if result.finding is not None:
        f = result.finding
        out.append({**base, "status": "finding", "stack": f.stack, "reason": f.describe(), "step": f.step,
                    "diffs": {k: list(v) for k, v in f.diffs.items()}, "script": f.script(),
                    "c": f.program.render_c()})
    return out


def cmd_differential(args: argparse.Namespace) -> int:
    from conformance.differential.runner import run
    from conformance.differential.table import TableError, load_table
    from conformance.differential.world import api_of
    from conformance.report import write_reports

    names = args.stack or ["engine", "libssl"]
    try:
        apis = {name: api_of(name) for name in names}
        table = load_table()
    except (LookupError, TableError) as exc:
        print(f"conformance differential: {exc}", file=sys.stderr)
        return 2
    if len(apis) < 2:
        print("conformance differential: name at least two different stacks", file=sys.stderr)
        return 2
    started = time.time()
    try:
        result = run(apis, table, examples=args.examples, seed=args.seed, max_steps=args.max_steps,
                     transports=args.transport)
    except ValueError as exc:
        print(f"conformance differential: {exc}", file=sys.stderr)
        return 2
    run_id = f"{int(started)}-{result.seed}"
    report = Path(args.report)
    for record in records(result, {n: a.version for n, a in apis.items()}, run_id):
        append_record(report / RESULTS, record)
    print(f"differential {' vs '.join(names)}: {result.examples} programs, {result.steps} steps, seed {result.seed}, "
          f"{time.time() - started:.1f} s")
    for hit in sorted(result.hits.values(), key=lambda h: -h.count):
        print(f"  explained {hit.count:5d}x {hit.entry.id} ({hit.entry.clause}; blame {hit.entry.blame})")
    if result.finding is not None:
        f = result.finding
        print(f"\nFINDING: {f.describe()}\n\nshrunk program (Python, replays on {f.stack}):\n{f.script()}\n\n"
              f"as C:\n{f.program.render_c()}\n\nreplay: conformance differential "
              f"{' '.join('--stack ' + n for n in names)} --seed {result.seed} --examples {args.examples}"
              + "".join(f" --transport {t}" for t in args.transport))
    sources = [path for path in (report / "results.jsonl", report / RESULTS) if path.exists()]
    write_reports(report, sources)
    print(f"report: {report / 'index.html'}  records: {report / RESULTS}")
    return 0 if result.finding is None and not result.error else 1
