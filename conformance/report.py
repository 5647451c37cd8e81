"""Reports built from the streamed records only: ``index.html`` (self-contained), ``summary.json``, ``junit.xml``.

The data model (:func:`build_model`) is separate from rendering; the HTML goes through one autoescaping Jinja2
template. ``conformance report`` rebuilds the reports from one or more results files (shards of one run).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from jinja2 import Environment, PackageLoader, select_autoescape

from conformance.catalogue import load_catalogue
from conformance.results import Results, ResultsError, load_results, merge_records, write_atomically
from conformance.verdicts import BAD_VERDICTS, SEVERITY, Verdict

__all__ = ["build_model", "worst", "write_reports"]


def worst(verdicts: Iterable[str]) -> str:
    """The worst of ``verdicts`` (:data:`conformance.verdicts.SEVERITY`), or "none"."""
    present = {str(v) for v in verdicts}
    for verdict in SEVERITY:
        if verdict in present:
            return str(verdict)
    return "none"


def build_model(source: Results | Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The report's data: from merged results, or from JSON records (checked and merged here)."""
    results = source if isinstance(source, Results) else merge_records(source)
    runs = [r.to_json() for r in results.runs]
    verdicts = [v.to_json() for v in results.verdicts]
    catalogue = load_catalogue()
    stack_versions: dict[str, str] = {}
    for run in runs:
        for name, meta in run.get("stacks", {}).items():
            if meta.get("version"):
                stack_versions.setdefault(name, meta["version"])
    for v in verdicts:
        stack_versions[v["stack"]] = v["version"]
    stacks = sorted({v["stack"] for v in verdicts})
    per_stack = {s: Counter(v["verdict"] for v in verdicts if v["stack"] == s) for s in stacks}
    # Interoperability records (interop cases, every client/server pair) feed the interoperability matrix; the
    # clause matrix takes the single-stack records and the interop records of a stack with itself.
    interop = [v for v in verdicts if v.get("interop", "peer" in v and v.get("peer") != v["stack"])]
    interop_ids = {id(v) for v in interop}
    single = [v for v in verdicts if id(v) not in interop_ids or v.get("peer", v["stack"]) == v["stack"]]

    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for v in single:
        for clause in v["clauses"]:
            cells[(clause, v["stack"])].append(v)
    pages_seen = {c.split("/", 1)[0] for v in verdicts for c in v["clauses"]}
    matrix = []
    for page in catalogue.pages.values():
        if pages_seen and page.name not in pages_seen:
            continue
        rows = []
        for clause in page.clauses:
            row_cells = []
            for stack in stacks:
                recs = cells.get((clause.id, stack), [])
                row_cells.append({
                    "verdict": worst(r["verdict"] for r in recs) if recs else
                    ("unobservable" if clause.unobservable else "none"),
                    "cases": sorted({r["case"] for r in recs}),
                    "counts": dict(Counter(r["verdict"] for r in recs)),
                })
            rows.append({"clause": clause, "cells": row_cells})
        matrix.append({"page": page, "rows": rows})

    pair_cells: dict[tuple[str, str], list[str]] = defaultdict(list)
    for v in interop:
        client = v.get("client", v["stack"])
        server = v["peer"] if client == v["stack"] else v["stack"]
        pair_cells[(client, server)].append(v["verdict"])
    interop_stacks = sorted({k[0] for k in pair_cells} | {k[1] for k in pair_cells})
    interop_matrix = [
        {"client": c, "cells": [{"server": s, "verdict": worst(pair_cells.get((c, s), [])),
                                  "counts": dict(Counter(pair_cells.get((c, s), [])))} for s in interop_stacks]}
        for c in interop_stacks
    ]
    problems = [v for v in verdicts if v["verdict"] in BAD_VERDICTS]
    problems.sort(key=lambda v: (SEVERITY.index(Verdict(v["verdict"])), v["stack"], v["case"]))
    errata = [v for v in verdicts if v["verdict"] == Verdict.EXPECTED_DEVIATION]
    totals = Counter(v["verdict"] for v in verdicts)
    return {
        "generated": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "runs": runs,
        "seeds": sorted({r.get("seed") for r in runs if r.get("seed") is not None}),
        "stacks": [{"name": s, "version": stack_versions.get(s, "?"), "counts": dict(per_stack[s]),
                    "total": sum(per_stack[s].values())} for s in stacks],
        "verdict_names": [str(v) for v in Verdict],
        "totals": dict(totals),
        "total": len(verdicts),
        "expected": results.expected,
        "complete": results.complete,
        "completeness": results.completeness(),
        "missing": results.missing,
        "notes": results.notes,
        "ok": results.ok,
        "matrix": matrix,
        "interop_stacks": interop_stacks,
        "interop_matrix": interop_matrix,
        "problems": problems,
        "errata": errata,
        "not_applicable": [v for v in verdicts if v["verdict"] == Verdict.NOT_APPLICABLE],
    }


_JUNIT_FAILURE = frozenset({Verdict.FAILED, Verdict.UNEXPECTED_PASS})
_JUNIT_ERROR = frozenset({Verdict.ERROR, Verdict.HANG, Verdict.CRASH})
_JUNIT_SKIPPED = frozenset({Verdict.NOT_APPLICABLE, Verdict.EXPECTED_DEVIATION})


def _junit(model: dict[str, Any], verdicts: list[dict[str, Any]]) -> bytes:
    suite = ET.Element("testsuite", name="conformance", tests=str(len(verdicts)),
                       failures=str(sum(v["verdict"] in _JUNIT_FAILURE for v in verdicts)),
                       errors=str(sum(v["verdict"] in _JUNIT_ERROR for v in verdicts)),
                       skipped=str(sum(v["verdict"] in _JUNIT_SKIPPED for v in verdicts)))
    for v in verdicts:
        name = v["case"] + (f"[{v['client']}->{v['peer']}]" if "peer" in v else "")
        case = ET.SubElement(suite, "testcase", classname=v["stack"], name=name, time=str(v["duration"]))
        text = v["reason"] + "\n" + "\n".join(v["trace"])
        if v["verdict"] in _JUNIT_FAILURE:
            ET.SubElement(case, "failure", message=v["verdict"]).text = text
        elif v["verdict"] in _JUNIT_ERROR:
            ET.SubElement(case, "error", message=v["verdict"]).text = text
        elif v["verdict"] in _JUNIT_SKIPPED:
            ET.SubElement(case, "skipped", message=f"{v['verdict']}: {v['reason']}"[:500])
    for nodeid in model["missing"]:
        case = ET.SubElement(suite, "testcase", classname="incomplete", name=nodeid, time="0")
        ET.SubElement(case, "error", message="incomplete").text = (
            "planned but never recorded: the run was interrupted, or the process running it was lost")
    suite.set("tests", str(len(verdicts) + len(model["missing"])))
    suite.set("errors", str(int(suite.get("errors", "0")) + len(model["missing"])))
    data: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return data


def write_reports(directory: Path, sources: list[Path] | Results) -> dict[str, Any]:
    """Build ``index.html``, ``summary.json`` and ``junit.xml`` in ``directory``.

    Nothing is written unless there is something to report (:class:`ResultsError` says why); each file is written
    to a temporary name and renamed into place, so a reader never sees half a report and a failure leaves the
    previous report whole.
    """
    results = sources if isinstance(sources, Results) else load_results(sources)
    if not results.verdicts and not results.planned:
        what = "these records" if isinstance(sources, Results) else ", ".join(map(str, sources)) or "no files"
        raise ResultsError(f"nothing to report: {what} hold no verdict and no plan; {directory} left unchanged")
    model = build_model(results)
    env = Environment(loader=PackageLoader("conformance", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    html = env.get_template("report.html.j2").render(**model)
    summary = {k: model[k] for k in ("generated", "seeds", "stacks", "totals", "total", "expected", "complete",
                                     "completeness", "notes", "ok")}
    summary["missing"] = model["missing"]
    summary["problems"] = [{k: p.get(k) for k in ("stack", "peer", "client", "case", "verdict", "reason")}
                           for p in model["problems"]]
    verdicts = [v.to_json() for v in results.verdicts]
    files = {"index.html": html.encode("utf-8"),
             "summary.json": json.dumps(summary, indent=2, default=str).encode("utf-8"),
             "junit.xml": _junit(model, verdicts)}
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_atomically(directory / name, data)
    return model
