"""Writing the report directory: ``index.html`` (the overview), ``pages/`` (drill-down), ``summary.json``,
``junit.xml``.

Everything is written into a staging directory beside the report and moved into place at the end, so a failure
leaves the previous report whole. Traces are written only to the case pages, through hashed bucket files: each
record's row is appended to the bucket of its case during the single streaming pass, and each bucket (a small part
of the records) is then turned into its case pages.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import shutil
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from conformance.report.chart import benchmark_svg
from conformance.report.compare import Comparison
from conformance.report.junit import JunitWriter
from conformance.report.model import Aggregate, Scan, case_file, params_text, record_anchor, safe_name, server_of
from conformance.results import ResultsError
from conformance.verdicts import VerdictRecord

__all__ = ["PAGES", "write_directory"]

PAGES = "pages"
BUCKETS = 64
_SEP = "\x1f"


def _env() -> Environment:
    env = Environment(loader=PackageLoader("conformance", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["page_file"] = lambda name: f"page-{safe_name(name)}.html"
    env.filters["stack_file"] = lambda name: f"stack-{safe_name(name)}.html"
    env.filters["case_file"] = case_file
    env.filters["params"] = params_text
    env.filters["pct"] = lambda share: "–" if share is None else f"{100 * share:.0f}%"
    env.filters["heat"] = _heat_colour
    env.filters["first_line"] = lambda text: (text.splitlines() or [""])[0][:160]
    env.filters["spaced"] = lambda items: " ".join(sorted(set(items)))
    env.filters["pages_of"] = lambda clauses: " ".join(sorted({c.split("/", 1)[0] for c in clauses}))
    return env


def _heat_colour(share: float | None) -> str:
    """A background for a share of clauses passed: red (0) through yellow to green (1); grey when nothing applies."""
    if share is None:
        return "#eeeeee"
    hue = int(120 * share)
    return f"hsl({hue}, 65%, {82 - 6 * share:.0f}%)"


def _esc(text: str) -> str:
    return html.escape(text, quote=True).replace("\r", "&#13;").replace("\n", "&#10;")


def _fold(text: str, limit: int = 200) -> str:
    """Short text inline; longer text folded under its first line."""
    if "\n" not in text and len(text) <= limit:
        return _esc(text)
    first = (text.splitlines() or [""])[0]
    head = first[:limit] + (" …" if len(first) > limit or "\n" in text else "")
    return f"<details><summary>{_esc(head)}</summary><pre>{_esc(text)}</pre></details>"


def case_row(record: VerdictRecord) -> str:
    """One record's row on its case page, with its reason and its trace (one line of HTML: newlines are escaped)."""
    server = server_of(record)
    interop = bool(record.interop) and server != record.client
    verdict = str(record.verdict)
    sides = " ".join(sorted({record.stack, record.client, server}))
    who = f"{_esc(record.client)} → {_esc(server)}" if interop or record.peer else ""
    expectation = ""
    if record.expectation:
        exp = record.expectation
        expectation = (f"<div class=exp><b>Expected deviation</b>: {_esc(str(exp.get('reason', '')))}"
                       + (f"<details><summary>evidence</summary><pre>{_esc(str(exp['evidence']))}</pre></details>"
                          if exp.get("evidence") else "") + "</div>")
    trace = (f"<details><summary>trace ({len(record.trace)} lines)</summary><pre>{_esc(chr(10).join(record.trace))}"
             "</pre></details>") if record.trace else ""
    return (f'<tr id="{record_anchor(record)}" class="f" data-stack="{_esc(sides)}" data-verdict="{verdict}">'
            f"<td>{_esc(record.stack)}</td><td>{who}</td><td>{_esc(params_text(record.params))}</td>"
            f'<td class="v {verdict}">{verdict}</td>'
            f"<td>{_fold(record.reason) if verdict != 'passed' else ''}{expectation}{trace}</td>"
            f"<td class=num>{record.duration:.3f}</td></tr>")


class CaseBuckets:
    """Rows of the case pages, spread over hashed files while the records stream past."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir()
        self.files: list[IO[str]] = [open(directory / f"{i:02d}", "w", encoding="utf-8", newline="\n")  # noqa: SIM115
                                     for i in range(BUCKETS)]

    def add(self, record: VerdictRecord) -> None:
        case = record.case.replace(_SEP, " ").replace("\n", " ")
        order = f"{record.stack} {record.client} {record.peer or ''} {json.dumps(record.params, sort_keys=True)}"
        bucket = self.files[zlib.crc32(case.encode("utf-8", "surrogatepass")) % BUCKETS]
        bucket.write(f"{case}{_SEP}{order.replace(_SEP, ' ').replace(chr(10), ' ')}{_SEP}{case_row(record)}\n")

    def close(self) -> None:
        for fh in self.files:
            fh.close()

    def groups(self) -> Iterable[tuple[str, list[str]]]:
        """(case, its rows in order) for every case, one bucket in memory at a time."""
        for i in range(BUCKETS):
            rows: dict[str, list[tuple[str, str]]] = defaultdict(list)
            with open(self.directory / f"{i:02d}", encoding="utf-8", newline="\n") as fh:
                for line in fh:
                    case, order, row = line.rstrip("\n").split(_SEP, 2)
                    rows[case].append((order, row))
            for case, items in rows.items():
                items.sort()
                yield case, [row for _, row in items]


def _benchmark(directory: Path) -> dict[str, Any] | None:
    path = directory / "benchmark.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    stacks = data.get("stacks") if isinstance(data, dict) else None
    if not isinstance(stacks, dict) or not stacks:
        return None
    return {"svg": Markup(benchmark_svg(stacks)), "stacks": stacks}


def write_directory(directory: Path, scan: Scan, comparison: Comparison | None = None) -> dict[str, Any]:
    """Stream ``scan``'s verdicts into the reports of ``directory``; returns the model."""
    if scan.kept == 0 and not scan.planned:
        raise ResultsError(f"nothing to report: the records hold no verdict and no plan; {directory} left unchanged")
    directory.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".report-", dir=directory))
    try:
        model = _write_stage(stage, directory, scan, comparison)
        _publish(stage, directory)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(stage)
    return model


def _write_stage(stage: Path, directory: Path, scan: Scan, comparison: Comparison | None) -> dict[str, Any]:
    pages = stage / PAGES
    pages.mkdir()
    aggregate = Aggregate()
    buckets = CaseBuckets(stage / ".buckets")
    junit = JunitWriter(stage / ".junit-body")
    try:
        for record in scan.verdicts():
            aggregate.add(record)
            buckets.add(record)
            junit.add(record)
    finally:
        buckets.close()
        junit.close()
    model = aggregate.model(scan)
    model["generated"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    model["benchmark"] = _benchmark(directory)
    model["comparison"] = comparison
    env = _env()
    common = {"verdict_names": model["verdict_names"], "stack_names": model["stack_names"],
              "pages_seen": model["pages_seen"], "generated": model["generated"]}

    def render(name: str, path: Path, root: str, **values: Any) -> None:
        path.write_text(env.get_template(name).render(root=root, **common, **values), encoding="utf-8")

    render("overview.html.j2", stage / "index.html", "", m=model)
    for block in model["matrix"]:
        render("page.html.j2", pages / f"page-{safe_name(block['page'].name)}.html", "../", m=model, block=block)
    for stack in model["stacks"]:
        render("stack.html.j2", pages / f"stack-{safe_name(stack['name'])}.html", "../", m=model, s=stack)
    render("cases.html.j2", pages / "cases.html", "../", m=model)
    if comparison is not None:
        render("changes.html.j2", pages / "changes.html", "../", m=model, c=comparison)
    cases = {c["name"]: c for c in model["cases"]}
    for case, rows in buckets.groups():
        render("case.html.j2", pages / case_file(case), "../", m=model, case=cases.get(case, {"name": case}),
               rows=Markup("\n".join(rows)))
    shutil.rmtree(buckets.directory)
    junit.finish(stage / "junit.xml", model["missing"])
    summary = {k: model[k] for k in ("generated", "seeds", "totals", "total", "expected", "complete",
                                     "completeness", "notes", "ok", "missing")}
    summary["stacks"] = [{k: s[k] for k in ("name", "version", "counts", "own", "total", "applicable",
                                            "passed_clauses")} for s in model["stacks"]]
    summary["problems"] = [{"stack": p.stack, "client": p.client, "server": p.server, "case": p.case,
                            "params": p.params_text, "verdict": p.verdict, "reason": p.reason}
                           for p in model["problems"]]
    summary["differential_findings"] = [d.get("reason", "") for d in model["differential_findings"]]
    if comparison is not None:
        summary["comparison"] = {"baseline": comparison.old.source, "new_failures": len(comparison.new_failures),
                                 "fixed": len(comparison.fixed), "moved": len(comparison.moved),
                                 "versions": comparison.versions}
    (stage / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return model


def _publish(stage: Path, directory: Path) -> None:
    """Move the staged report into ``directory``: the ``pages`` folder swapped by two renames, each file by one."""
    target = directory / PAGES
    old = directory / f".{PAGES}-old-{stage.name}"
    if target.exists():
        os.rename(target, old)
    try:
        os.rename(stage / PAGES, target)
    except OSError:
        if old.exists():
            os.rename(old, target)
        raise
    for name in ("summary.json", "junit.xml", "index.html"):
        os.chmod(stage / name, 0o644)
        os.replace(stage / name, directory / name)
    with contextlib.suppress(OSError):
        shutil.rmtree(old)
