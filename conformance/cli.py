"""``conformance``: run the suite, list stacks and clauses, rebuild reports.

Exit status of ``run``: 0 when no verdict is failed, unexpected-pass, error or hang; 1 otherwise; 2 for a usage
error (unknown stack or page, unusable stack).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from conformance.catalogue import CatalogueError, load_catalogue
from conformance.results import BAD_VERDICTS, ResultsError, read_records
from conformance.stacks import CAPABILITIES, discover

__all__ = ["main"]


def _cases_dir() -> Path:
    import specs

    return Path(specs.__file__).parent / "cases"


def _covered() -> dict[str, list[str]]:
    """clause id -> case names, from the cases' marks."""
    from conformance.coverage import case_clauses

    covered: dict[str, list[str]] = {}
    for ref in case_clauses():
        for cid in ref.clauses:
            covered.setdefault(cid, []).append(ref.name)
    return covered


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    stacks = discover()
    for name in args.stack:
        if ":" in name:  # module:Class, checked by the plugin
            continue
        if name not in stacks:
            print(f"conformance: no stack named {name!r}; registered: {', '.join(stacks)}", file=sys.stderr)
            return 2
        if not stacks[name].installed:
            print(f"conformance: stack {name!r} is not usable here: {stacks[name].problem}", file=sys.stderr)
            return 2
    if args.page:
        known = load_catalogue().pages
        unknown = [p for p in args.page if p not in known]
        if unknown:
            print(f"conformance: unknown page(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                  file=sys.stderr)
            return 2
    report = Path(args.report)
    argv = [str(_cases_dir()), "-p", "no:cacheprovider", "--conformance-report", str(report), "-q", "-rfE",
            "--tb=short"]
    for name in args.stack:
        argv += ["--stack", name]
    for page in args.page:
        argv += ["--page", page]
    if args.seed is not None:
        argv += ["--conformance-seed", str(args.seed)]
    if args.n:
        argv += ["-n", str(args.n)]
    argv += args.pytest_args
    code = pytest.main(argv)
    results = report / "results.jsonl"
    if not results.exists():
        print(f"conformance: pytest exited with {code} and wrote no results", file=sys.stderr)
        return 2 if code in (3, 4) else 1
    records = [r for r in read_records([results]) if r.get("kind") != "run"]
    counts = Counter(r["verdict"] for r in records)
    print("\nverdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"report: {report / 'index.html'}  records: {results}")
    if code in (2, 3, 4):  # interrupted, internal error, usage error
        return 2 if code == 4 else 1
    return 1 if any(counts[v] for v in BAD_VERDICTS) or not records else 0


def cmd_stacks(args: argparse.Namespace) -> int:
    for name, info in discover().items():
        if info.adapter is not None:
            version = info.adapter.version() if info.installed else "-"
            caps = ", ".join(sorted(info.adapter.capabilities))
            print(f"{name}\t{info.adapter.library} ({info.adapter.tier})\t{version}\t"
                  f"{'installed' if info.installed else 'NOT installed: ' + info.problem}")
            print(f"\tcapabilities: {caps}")
        else:
            print(f"{name}\t{info.target}\t-\tNOT installed: {info.problem}")
    if args.verbose:
        print("\nknown capabilities:")
        for cap, text in CAPABILITIES.items():
            print(f"  {cap}: {text}")
    return 0


def cmd_clauses(args: argparse.Namespace) -> int:
    try:
        catalogue = load_catalogue().select(args.page)
    except CatalogueError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 2
    covered = _covered()
    missing = 0
    for page in catalogue.pages.values():
        n_cov = sum(1 for c in page.clauses if c.id in covered)
        n_un = sum(1 for c in page.clauses if c.id not in covered and c.unobservable)
        print(f"== {page.name} ({page.pod}): {len(page.clauses)} clauses, {n_cov} with cases, {n_un} unobservable")
        for clause in page.clauses:
            if clause.id in covered:
                status = "cases: " + ", ".join(covered[clause.id])
            elif clause.unobservable:
                status = "unobservable: " + clause.unobservable
            else:
                status = "NO CASE"
                missing += 1
            print(f"  {clause.id} [{clause.kind}]\n      {clause.statement}\n      {status}")
    return 1 if missing else 0


def cmd_report(args: argparse.Namespace) -> int:
    from conformance.report import write_reports

    try:
        model = write_reports(Path(args.report), [Path(p) for p in args.results])
    except (ResultsError, OSError) as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 2
    print(f"report: {Path(args.report) / 'index.html'} ({model['total']} verdicts)")
    return 0 if model["ok"] else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Conformance and interoperability suite for OpenSSL-style SSL/BIO APIs.",
        epilog="Examples: 'conformance run -n 2' (every installed stack, every page); "
               "'conformance run --stack stdlib --page SSL_read'; 'conformance stacks'; 'conformance clauses'.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the cases and write the report",
                         description="Run the conformance cases on the selected stacks and pages. Verdict records "
                                     "stream to REPORT/results.jsonl; REPORT/index.html, summary.json and junit.xml "
                                     "are written at the end. Exit status 0 when no verdict is failed, "
                                     "unexpected-pass, error or hang, else 1; 2 for a usage error.")
    run.add_argument("--stack", action="append", default=[], metavar="NAME",
                     help="stack to run: a registered name (see 'conformance stacks') or module:Class of an "
                          "adapter not yet registered (repeatable; default: every installed stack)")
    run.add_argument("--page", action="append", default=[], metavar="PAGE",
                     help="only cases checking clauses of this man page, e.g. SSL_read (repeatable)")
    run.add_argument("--report", default="reports", metavar="DIR", help="report directory (default: reports)")
    run.add_argument("-n", type=int, default=0, metavar="N", help="run in N parallel processes (pytest-xdist)")
    run.add_argument("--seed", type=int, default=None, help="seed of the run (default: random, recorded)")
    run.add_argument("pytest_args", nargs="*", help="extra pytest arguments, after '--'")
    run.set_defaults(func=cmd_run)
    stacks = sub.add_parser("stacks", help="list the registered stacks, their versions and capabilities")
    stacks.add_argument("-v", "--verbose", action="store_true", help="also explain every capability")
    stacks.set_defaults(func=cmd_stacks)
    clauses = sub.add_parser("clauses", help="list the clause catalogue with its coverage by cases",
                             description="Exit status 1 if a clause has neither a case nor an unobservable reason.")
    clauses.add_argument("--page", action="append", default=[], metavar="PAGE", help="only this page (repeatable)")
    clauses.set_defaults(func=cmd_clauses)
    report = sub.add_parser("report", help="rebuild the reports from results files (e.g. shards of one run)")
    report.add_argument("results", nargs="+", help="results.jsonl files")
    report.add_argument("--report", default="reports", metavar="DIR", help="output directory (default: reports)")
    report.set_defaults(func=cmd_report)
    from conformance.serve import add_arguments  # serve, connect

    add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
