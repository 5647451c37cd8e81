"""``conformance``: run the suite, list stacks and clauses, rebuild reports.

Exit status of ``run`` and ``report``: 0 when every planned verdict was recorded and none is failed,
unexpected-pass, error, hang or crash; 1 otherwise (also for an incomplete or interrupted run); 2 when nothing was
run or written: a usage error (each problem one line, from the same checks the pytest plugin makes), or nothing to
report. A subcommand is a ``cmd_<name>(args) -> int`` function and a parser in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

from conformance import pycache  # noqa: F401  # first: the bytecode cache where PYTHONDONTWRITEBYTECODE is set
from conformance.catalogue import CatalogueError, load_catalogue
from conformance.checks import Settings, parse_seed, preflight
from conformance.differential.command import add_parser as add_differential
from conformance.recording import safe_version
from conformance.results import ReportDir, ResultsError, load_results
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


def default_workers(stacks: list[str], pages: list[str]) -> int:
    """``-n`` when none is given: the faster choice measured on the project's shared 2-core machine (README, "What a
    run costs"). With the bytecode cache (conformance.pycache) a worker's start-up and collection cost about 2-4 s of
    CPU, which two workers earn back on every stack (about 1.5 times the verdicts per minute) and, at the load
    measured, on one stack too (107-124 s against 124-177 s of wall time for the engine's 1025 verdicts); a run of
    one page on one stack is a few seconds of cases and stays serial. More workers than cores never help."""
    if (os.cpu_count() or 1) < 2 or (len(set(stacks)) == 1 and pages):
        return 0
    return 2


def _settings(args: argparse.Namespace) -> Settings:
    if args.n is None:
        args.n = default_workers(args.stack, args.page)
    return Settings(stacks=args.stack, pages=args.page, report=Path(args.report), seed=args.seed, workers=args.n,
                    deadline=args.case_deadline, memory_mib=args.case_memory, case_paths=[_cases_dir()])


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    env_seed, seed_problem = parse_seed(os.environ)
    settings = _settings(args)
    _, problems = preflight(settings)  # the plugin's own checks, before pytest starts
    if seed_problem:
        problems.insert(0, seed_problem)
    if problems:
        for problem in problems:
            print(f"conformance: {problem}", file=sys.stderr)
        print(f"conformance: nothing was run; {args.report} left unchanged", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else env_seed
    if seed is None:
        seed = random.SystemRandom().randrange(1 << 31)
    run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{seed}-{os.getpid()}"
    report = ReportDir(Path(args.report))
    # no hypothesis plugin: no case uses hypothesis, and its end-of-run summary imports it (0.4 s per process)
    argv = [str(_cases_dir()), "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
            "--conformance-report", str(report.path), "-q", "-rfE",
            "--tb=short", "--conformance-seed", str(seed), "--conformance-run-id", run_id,
            "--case-deadline", str(args.case_deadline or 0), "--case-memory", str(args.case_memory)]
    for name in args.stack:
        argv += ["--stack", name]
    for page in args.page:
        argv += ["--page", page]
    if args.n:
        argv += ["-n", str(args.n)]
    argv += args.pytest_args
    code = pytest.main(argv)
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        print(f"conformance: pytest stopped (exit {int(code)}); see above", file=sys.stderr)
        return 2
    stream = report.stream(run_id)
    if not stream.exists():
        print(f"conformance: nothing to report: no case was selected or run (pytest exit {int(code)}); "
              f"{report.path} left unchanged", file=sys.stderr)
        return 2
    try:
        results = load_results([stream])
    except ResultsError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 1
    counts = Counter(str(v.verdict) for v in results.verdicts)
    print("\nverdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(results.completeness())
    for bad in results.bad:
        first = bad.reason.strip().splitlines()[0] if bad.reason.strip() else ""
        print(f"  {bad.verdict}: {bad.case} on {bad.stack}" + (f" (peer {bad.peer})" if bad.peer else "")
              + (f": {first[:160]}" if first else ""))
    print(f"report: {report.path / 'index.html'}  records: {report.results}")
    if code == pytest.ExitCode.INTERRUPTED:
        return 1
    return 0 if results.ok else 1


def cmd_stacks(args: argparse.Namespace) -> int:
    for name, info in discover().items():
        if info.adapter is not None:
            version = safe_version(info.adapter) if info.installed else "-"  # a broken adapter says so, no traceback
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
            rule = f" [rule: {clause.rule}]" if clause.rule else ""
            print(f"  {clause.id} [{clause.kind}]{rule}\n      {clause.statement}\n      {status}")
    return 1 if missing else 0


def cmd_report(args: argparse.Namespace) -> int:
    from conformance.report import write_reports

    directory = ReportDir(Path(args.report))
    problem = directory.check_writable()
    try:
        if problem:
            raise ResultsError(problem)
        model = write_reports(directory.path, [Path(p) for p in args.results],
                              baseline=Path(args.baseline) if args.baseline else None)
        for note in model["notes"]:
            print(f"conformance: {note}", file=sys.stderr)
    except ResultsError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        print(f"conformance: nothing written; {directory.path} left unchanged", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"conformance: cannot write the report in {directory.path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"report: {directory.path / 'index.html'} ({model['total']} verdicts; {model['completeness']})")
    return 0 if model["ok"] else 1


def cmd_compare(args: argparse.Namespace) -> int:
    from conformance.report import compare, load_snapshot

    try:
        result = compare(load_snapshot(Path(args.old)), load_snapshot(Path(args.new)))
    except ResultsError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 2
    print("\n".join(result.lines()))
    return 1 if result.new_failures else 0
def cmd_check_adapter(args: argparse.Namespace) -> int:
    from conformance.stacks.check import check_adapter_target

    return check_adapter_target(args.target)


def build_parser() -> argparse.ArgumentParser:
    from conformance.plugin import DEFAULT_DEADLINE, DEFAULT_MEMORY_MIB

    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Conformance and interoperability suite for OpenSSL-style SSL/BIO APIs.",
        epilog="Examples: 'conformance run -n 2' (every installed stack, every page); "
               "'conformance run --stack stdlib --page SSL_read'; 'conformance stacks'; 'conformance clauses'.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the cases and write the report",
                         description="Run the conformance cases on the selected stacks and pages. Verdict records "
                                     "stream to REPORT/results.jsonl; REPORT/index.html, summary.json and junit.xml "
                                     "are written at the end. Each case runs in its own process with a deadline "
                                     "and a memory limit. Exit status 0 when every planned verdict was recorded "
                                     "and none is failed, unexpected-pass, error, hang or crash; else 1; 2 when "
                                     "nothing was run (a usage error, or nothing selected).")
    run.add_argument("--stack", action="append", default=[], metavar="NAME",
                     help="stack to run: a registered name (see 'conformance stacks') or module:Class of an "
                          "adapter not yet registered (repeatable; default: every installed stack)")
    run.add_argument("--page", action="append", default=[], metavar="PAGE",
                     help="only cases checking clauses of this man page, e.g. SSL_read (repeatable)")
    run.add_argument("--report", default="reports", metavar="DIR", help="report directory (default: reports)")
    run.add_argument("-n", type=int, default=None, metavar="N",
                     help="run in N parallel processes (pytest-xdist); default: 2 where there are two cores or "
                          "more, except 0 (serial) for a --page selection on one --stack")
    run.add_argument("--seed", type=int, default=None,
                     help="seed of the run (default: $CONFORMANCE_RUN_SEED, else random; recorded)")
    run.add_argument("--case-deadline", type=float, default=DEFAULT_DEADLINE, metavar="SECONDS",
                     help=f"a case with no progress for this long is a hang (default {DEFAULT_DEADLINE:g}; 0: none)")
    run.add_argument("--case-memory", type=int, default=DEFAULT_MEMORY_MIB, metavar="MIB",
                     help=f"address space one case may add, in MiB (default {DEFAULT_MEMORY_MIB}; 0: no limit)")
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
    report.add_argument("results", nargs="+",
                        help="results.jsonl files (or runs/<run>.jsonl streams); shards of one run are merged, and "
                             "a later run's verdict replaces an earlier run's for the same case and stacks")
    report.add_argument("--report", default="reports", metavar="DIR", help="output directory (default: reports)")
    report.add_argument("--baseline", default=None, metavar="OLD",
                        help="an earlier run's records file or report directory: the report says what changed")
    report.set_defaults(func=cmd_report)
    compare = sub.add_parser("compare", help="what changed between two runs",
                             description="New failures, fixed cases, verdicts that moved and stacks whose version "
                                         "changed between OLD and NEW (each a records file or a report directory). "
                                         "Exit status 1 when NEW has a new failure, 0 otherwise, 2 on a usage error.")
    compare.add_argument("old", metavar="OLD", help="the earlier run: results.jsonl or its report directory")
    compare.add_argument("new", metavar="NEW", help="the later run: results.jsonl or its report directory")
    compare.set_defaults(func=cmd_compare)
    from conformance.serve import add_arguments  # serve, connect

    add_arguments(sub)
    add_differential(sub)
    check = sub.add_parser("check-adapter", help="check a stack adapter against the contract before running it")
    check.add_argument("target", metavar="MODULE:CLASS", help="the adapter class (or a registered stack name)")
    check.set_defaults(func=cmd_check_adapter)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
