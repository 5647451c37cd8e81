"""The report package: the model's findings, the drill-down pages, streaming, JUnit, compare and --baseline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from conformance.cli import main
from conformance.report import build_model, write_reports
from conformance.report.chart import benchmark_svg
from conformance.results import SCHEMA, append_record

READ = "SSL_read/DESCRIPTION/reads-up-to-num"
MEM = "BIO_s_mem/DESCRIPTION/grows-as-needed"


def _v(stack: str, case: str, verdict: str, clauses: list[str] | None = None, run: str = "A",
       **extra: Any) -> dict[str, Any]:
    return {"schema": SCHEMA, "kind": "verdict", "run": run, "stack": stack, "version": extra.pop("version", "1.0"),
            "case": case, "clauses": clauses or [READ], "verdict": verdict, "reason": extra.pop("reason", "r"),
            "trace": extra.pop("trace", ["client: SSL_read(5) -> -1"]), "duration": 0.01, "seed": 1,
            "client": stack, **extra}


def test_openssl_errata_are_apart_from_other_stacks_deviations() -> None:
    expectation = {"stack": "x", "verdict": "failed", "reason": "the page says -1", "evidence": "BIO_read -> 0"}
    model = build_model([_v("libssl", "test_mem", "expected-deviation", [MEM], expectation=expectation),
                         _v("wolfssl", "test_mem", "expected-deviation", [MEM], expectation=expectation),
                         _v("wolfssl", "test_other", "expected-deviation", [MEM], params={"n": 1}),
                         _v("wolfssl", "test_other", "expected-deviation", [MEM], params={"n": 2})])
    assert [(e.stack, e.case, e.evidence) for e in model["errata"]] == [("libssl", "test_mem", "BIO_read -> 0")]
    deviations = {(e.stack, e.case): e.count for e in model["deviations"]}
    assert deviations == {("wolfssl", "test_mem"): 1, ("wolfssl", "test_other"): 2}


def test_stack_view_groups_and_the_libssl_comparison() -> None:
    model = build_model([
        _v("libssl", "test_a", "passed"), _v("libssl", "test_b", "passed"), _v("libssl", "test_c", "failed"),
        _v("tls", "test_a", "failed", reason="returned 0"), _v("tls", "test_b", "not-applicable", reason="lacks peek"),
        _v("tls", "test_c", "failed", reason="returned 0"), _v("tls", "test_d", "not-applicable", reason="lacks peek"),
        _v("tls", "test_e", "passed"),
    ])
    tls = next(s for s in model["stacks"] if s["name"] == "tls")
    assert [(g["verdict"], g["reason"], [r.case for r in g["rows"]]) for g in tls["bad"]] == [
        ("failed", "returned 0", ["test_a", "test_c"])]
    assert tls["na"] == [{"reason": "lacks peek", "cases": [("test_b", 1), ("test_d", 1)], "count": 2}]
    assert [r.case for r in tls["below_reference"]] == ["test_a", "test_b"], "test_c fails on libssl too"
    assert tls["applicable"] == 1 and tls["passed_clauses"] == 0, "one clause, and a case failed it"


def test_interop_verdicts_count_for_client_and_server() -> None:
    model = build_model([_v("a", "test_x", "failed", peer="b", interop=True),
                         _v("b", "test_x", "passed", peer="a", interop=True),
                         _v("a", "test_x", "passed", peer="a", interop=True)])
    counts = {s["name"]: s["counts"] for s in model["stacks"]}
    assert counts == {"a": {"failed": 1, "passed": 2}, "b": {"failed": 1, "passed": 1}}
    pairs = {(p["client"], p["server"]): p["counts"] for p in model["stacks"][0]["pairs"]}
    assert pairs == {("a", "a"): {"passed": 1}, ("a", "b"): {"failed": 1}, ("b", "a"): {"passed": 1}}


def test_a_later_runs_verdict_is_reported_even_after_it_was_streamed(tmp_path: Path) -> None:
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    append_record(first, _v("s", "test_x", "failed", run="A", reason="old failure"))
    append_record(second, _v("s", "test_x", "passed", run="B"))
    model = write_reports(tmp_path / "out", [first, second])
    assert model["ok"] and model["total"] == 1 and model["totals"] == {"passed": 1}
    assert model["notes"] == ["1 verdict(s) of run A replaced by the later run B"]
    assert "old failure" not in (tmp_path / "out" / "pages" / "case-test_x.html").read_text()
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert suite.get("tests") == "1" and suite.get("failures") == "0"


def test_pages_hold_the_traces_and_junit_is_well_formed(tmp_path: Path) -> None:
    records = tmp_path / "r.jsonl"
    append_record(records, _v("s", "test_x", "failed", reason="bad \x01 <b>", trace=["a <i>", "TRACE-LINE-42"]))
    append_record(records, _v("s", "test_y", "passed", trace=["PASSED-TRACE"]))
    out = tmp_path / "out"
    write_reports(out, [records])
    assert "TRACE-LINE-42" not in (out / "index.html").read_text(), "the overview holds no trace"
    case_page = (out / "pages" / "case-test_x.html").read_text()
    assert "TRACE-LINE-42" in case_page and "a &lt;i&gt;" in case_page
    assert "PASSED-TRACE" in (out / "pages" / "case-test_y.html").read_text()
    assert {p.name for p in (out / "pages").iterdir()} >= {"cases.html", "stack-s.html", "page-SSL_read.html"}
    suite = ET.parse(out / "junit.xml").getroot()  # the control character was replaced: the XML parses
    assert [c.get("name") for c in suite] == ["test_x", "test_y"]
    assert "bad \ufffd <b>" in (suite[0].find("failure").text or "")  # type: ignore[union-attr]


def test_benchmark_chart_from_the_report_folder(tmp_path: Path) -> None:
    svg = benchmark_svg({"a": {"handshakes_per_s": 700.0, "bulk_mib_per_s": 270.5}, "b": {"bulk_mib_per_s": 1}})
    assert svg.startswith("<svg") and "270.5" in svg and "handshakes/s" in svg
    ET.fromstring(svg)  # well-formed
    records = tmp_path / "r.jsonl"
    append_record(records, _v("a", "test_x", "passed"))
    out = tmp_path / "out"
    out.mkdir()
    write_reports(out, [records])
    assert "<svg" not in (out / "index.html").read_text()
    (out / "benchmark.json").write_text(json.dumps({"stacks": {"a": {"handshakes_per_s": 1.5}}}))
    write_reports(out, [records])
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in (out / "index.html").read_text()


def _run(path: Path, verdicts: dict[str, str], version: str = "1.0") -> None:
    for case, verdict in verdicts.items():
        append_record(path, _v("s", case, verdict, version=version))


def test_compare_two_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    _run(old, {"test_a": "passed", "test_b": "failed", "test_c": "passed", "test_gone": "passed"})
    _run(new, {"test_a": "failed", "test_b": "passed", "test_c": "not-applicable", "test_new": "crash"},
         version="2.0")
    assert main(["compare", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "s: 1.0 -> 2.0" in out
    assert "new failures (2):\n  passed -> failed  test_a on s\n  (none) -> crash  test_new on s" in out
    assert "fixed (1):\n  failed -> passed  test_b on s" in out
    assert "verdicts that moved (1):\n  passed -> not-applicable  test_c on s" in out
    assert "verdicts only in new: 1; only in old: 1" in out
    report = tmp_path / "rep"  # a report directory of 'conformance run': its records are results.jsonl
    report.mkdir()
    (report / "results.jsonl").write_bytes(old.read_bytes())
    assert main(["compare", str(report), str(old)]) == 0, "a report folder stands for its results.jsonl"
    assert main(["compare", str(tmp_path / "nope.jsonl"), str(old)]) == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err
    assert main(["compare", str(tmp_path), str(old)]) == 2
    assert "a directory without results.jsonl or verdicts.jsonl" in capsys.readouterr().err


def test_compare_two_report_folders_made_by_conformance_report(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # 'conformance report' keeps no records file: its folder is compared through the verdict digest it writes
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    _run(old, {"test_a": "passed", "test_b": "failed", "test_gone": "passed"})
    _run(new, {"test_a": "failed", "test_b": "passed", "test_new": "passed"}, version="2.0")
    for records, folder in ((old, "rold"), (new, "rnew")):
        main(["report", str(records), "--report", str(tmp_path / folder)])
        assert not (tmp_path / folder / "results.jsonl").exists()
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "rold"), str(tmp_path / "rnew")]) == 1
    from_folders = capsys.readouterr().out
    assert main(["compare", str(old), str(new)]) == 1
    from_records = capsys.readouterr().out
    assert from_folders.splitlines()[2:] == from_records.splitlines()[2:], "the same changes either way"
    assert "new failures (1):\n  passed -> failed  test_a on s" in from_folders and "s: 1.0 -> 2.0" in from_folders
    (tmp_path / "rold" / "verdicts.jsonl").write_text("{}\n")
    assert main(["compare", str(tmp_path / "rold"), str(tmp_path / "rnew")]) == 2
    assert "verdicts.jsonl:1: not a line of a verdict digest" in capsys.readouterr().err


def test_a_new_report_replaces_every_page_of_the_old(tmp_path: Path) -> None:
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    _run(old, {"test_only_old": "failed"})
    _run(new, {"test_only_new": "failed"})
    out = tmp_path / "out"
    main(["report", str(old), "--report", str(out)])
    assert (out / "pages" / "case-test_only_old.html").exists()
    main(["report", str(new), "--report", str(out)])
    pages = sorted(p.name for p in (out / "pages").iterdir())
    assert "case-test_only_new.html" in pages and "case-test_only_old.html" not in pages
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "junit.xml", "pages", "summary.json",
                                                     "verdicts.jsonl"], "nothing staged or old is left behind"


def test_the_pages_folder_is_swapped_in_one_step_where_linux_offers_it(tmp_path: Path) -> None:
    from conformance.report.write import _exchange
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("from a")
    if not _exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not offered here; the report falls back to two renames")
    assert (b / "x").read_text() == "from a" and not (a / "x").exists()


def test_report_with_a_baseline(tmp_path: Path) -> None:
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    _run(old, {"test_a": "passed", "test_b": "failed"})
    _run(new, {"test_a": "failed", "test_b": "passed"}, version="2.0")
    out = tmp_path / "out"
    assert main(["report", str(new), "--report", str(out), "--baseline", str(old)]) == 1
    overview = (out / "index.html").read_text()
    assert "Changes since the baseline" in overview and "1 new failures, 1 fixed, 0 moved" in overview
    changes = (out / "pages" / "changes.html").read_text()
    assert "test_a on s" in changes and "test_b on s" in changes and "1.0" in changes and "2.0" in changes
    summary = json.loads((out / "summary.json").read_text())
    assert summary["comparison"]["new_failures"] == 1 and summary["comparison"]["fixed"] == 1


def test_any_number_of_stacks(tmp_path: Path) -> None:
    records = tmp_path / "r.jsonl"
    stacks = [f"stack{i:02d}" for i in range(12)]
    for stack in stacks:
        append_record(records, _v(stack, "test_x", "passed"))
        append_record(records, _v(stack, "test_i", "passed", peer=stacks[0], interop=True))
    model = write_reports(tmp_path / "out", [records])
    assert model["stack_names"] == stacks and len(model["interop_stacks"]) == 12
    assert all((tmp_path / "out" / "pages" / f"stack-{s}.html").exists() for s in stacks)


def test_scale_benchmark_script_runs(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "report_scale", Path(__file__).parents[2] / "benchmarks" / "report_scale.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    records = tmp_path / "r.jsonl"
    assert module.generate(records, 600) == 600
    model = write_reports(tmp_path / "out", [records])
    assert model["total"] == 600 and model["complete"]
    assert {"passed", "not-applicable"} <= set(model["totals"])


def test_differential_records_reach_the_overview_and_a_finding_is_not_ok() -> None:
    finding = {"schema": SCHEMA, "kind": "differential", "status": "finding", "stacks": ["libssl", "engine"],
               "seed": 3, "reason": "SSL_read returned 0 on engine, -1 on libssl", "script": "ssl.read(5)"}
    model = build_model([_v("s", "test_x", "passed"), finding])
    assert model["differential_findings"] == [finding] and model["ok"] is False
    assert build_model([_v("s", "test_x", "passed"), {**finding, "status": "summary"}])["ok"] is True


def test_the_fast_verdict_path_builds_what_parse_record_builds_and_refuses_nothing_itself(tmp_path: Path) -> None:
    """The report reads verdict lines of a known good shape without parse_record's per-field loop; for every shape it
    must give the same record, and leave every line parse_record refuses (or changes) to parse_record."""
    from conformance.report.model import _quick_verdict, read_verdicts
    from conformance.results import ResultsError, read_records
    from conformance.verdicts import RecordError, parse_record

    good = [_v("s", "t", "passed"), _v("s", "t", "failed", params={"size": 7, "mode": "x", "on": True, "f": 1.5}),
            _v("c", "t", "passed", peer="d", peer_version="2", interop=True),
            {k: v for k, v in _v("s", "t", "passed").items() if k not in ("client", "kind", "run")},
            _v("s", "t", "expected-deviation", expectation={"reason": "x"}, observed="o", functions=["SSL_read"],
               states=["connected"], nodeid="n", phase="call", duration=3),
            {**_v("s", "t", "passed"), "schema": 1}, _v("s", "t", "passed", client="", params={})]
    for data in good:
        assert _quick_verdict(json.loads(json.dumps(data))) == parse_record(json.loads(json.dumps(data))), data
    odd = [_v("s", "t", "passed", params={"nested": [1, 2]}), _v("s", "t", "passed", unknown_key=1)]
    for data in odd:  # accepted, but left to parse_record (which changes or drops something)
        assert _quick_verdict(data) is None
        parse_record(data)
    bad = [_v("s", "t", "maybe"), _v("s", "t", "passed", trace=["a", 3]), _v("s", "t", "passed", seed=True),
           _v("s", "t", "passed", duration="1"), {**_v("s", "t", "passed"), "schema": True},
           {**_v("s", "t", "passed"), "schema": 9}, {**_v("s", "t", "passed"), "kind": "plan"},
           {k: v for k, v in _v("s", "t", "passed").items() if k != "reason"}, _v("s", "t", "passed", peer=5)]
    for data in bad:
        assert _quick_verdict(data) is None
        with pytest.raises(RecordError):
            parse_record(data)
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in good + odd))
    assert list(read_verdicts([path])) == list(read_records([path]))
    path.write_text("".join(json.dumps(d) + "\n" for d in [*good, bad[1], *good]))
    with pytest.raises(ResultsError) as fast:
        list(read_verdicts([path]))
    with pytest.raises(ResultsError) as slow:
        list(read_records([path]))
    assert str(fast.value) == str(slow.value)


# --- clauses judged: an expected deviation pinned to some of its case's clauses ------------------------------------

PEEK = "SSL_read/DESCRIPTION/peek-keeps-data"
IMPLICIT = "SSL_read/NOTES/implicit-handshake"
THREE = [READ, PEEK, IMPLICIT]


def _pinned(stack: str, case: str, clauses: list[str], pinned: list[str] | None, **extra: Any) -> dict[str, Any]:
    """An expected deviation of ``case`` whose entry names ``pinned`` (None: a record written before the key)."""
    expectation: dict[str, Any] = {"stack": stack, "verdict": "failed", "reason": "reads 0", "evidence": "run X",
                                   "observed": ["SSL_read"]}
    if pinned is not None:
        expectation["clauses"] = pinned
    return _v(stack, case, "expected-deviation", clauses, expectation=expectation,
              reason=f"{stack}: reads 0 (observed: SSL_read -> 0)", **extra)


def _cells(model: dict[str, Any], page: str, stack: str) -> dict[str, dict[str, Any]]:
    block = next(b for b in model["matrix"] if b["page"].name == page)
    return {row["clause"].id: next(c for c in row["cells"] if c["stack"] == stack) for row in block["rows"]}


def test_a_pinned_case_deviates_on_its_pinned_clause_only_and_its_other_clauses_are_not_judged(tmp_path: Path) -> None:
    """A case of three clauses stops at its assertion about the first, pinned in the stack's expectations: the
    clause view shows one deviation and two clauses not judged (not passed, failed or deviated); the case's verdict
    and the verdict counts stay what they were."""
    records = tmp_path / "r.jsonl"
    append_record(records, _pinned("wolf", "test_three", THREE, [READ]))
    model = write_reports(tmp_path / "out", [records])
    assert model["totals"] == {"expected-deviation": 1} and model["total"] == 1
    cells = _cells(model, "SSL_read", "wolf")
    assert {c: cells[c]["verdict"] for c in THREE} == {READ: "expected-deviation", PEEK: "not-judged",
                                                      IMPLICIT: "not-judged"}
    assert cells[PEEK]["cases"] == [("test_three", "not-judged")]
    assert cells[PEEK]["reasons"] == [("not-judged", f"not judged on this stack: test_three stopped at the pinned "
                                                     f"deviation of {READ}")]
    (wolf,) = model["stacks"]
    assert (wolf["applicable"], wolf["passed_clauses"], wolf["not_judged_clauses"]) == (1, 0, 2)
    assert wolf["counts"] == {"expected-deviation": 1}, "the case-level counts do not change"
    (erratum,) = wolf["deviations"]
    assert erratum.clauses == {READ} and erratum.not_judged == {PEEK, IMPLICIT}
    heat = next(b for b in model["matrix"] if b["page"].name == "SSL_read")["heat"]
    assert heat == [{"stack": "wolf", "passed": 0, "applicable": 1, "checked": 3, "not_judged": 2}]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["totals"] == {"expected-deviation": 1}
    assert {k: summary["stacks"][0][k] for k in ("applicable", "passed_clauses", "not_judged_clauses")} == {
        "applicable": 1, "passed_clauses": 0, "not_judged_clauses": 2}

    pages = tmp_path / "out" / "pages"
    page = (pages / "page-SSL_read.html").read_text()
    for clause, state in ((READ, "expected-deviation"), (PEEK, "not-judged"), (IMPLICIT, "not-judged")):
        row = page.split(f'<tr id="{clause}"', 1)[1].split("</tr>", 1)[0]
        assert f'<td class="v {state} f" data-stack="wolf"' in row, (clause, row)
        assert 'href="case-test_three.html#stack=wolf"' in row, "the cell lists the case it drills down to"
    peek_row = page.split(f'<tr id="{PEEK}"', 1)[1].split("</tr>", 1)[0]
    assert "stopped at the pinned deviation of" in peek_row and "not judged on wolf" in peek_row
    assert "<option>not-judged</option>" in page, "the page's verdict filter offers the clause state"
    stack_page = (pages / "stack-wolf.html").read_text()
    assert "2 clauses not judged" in stack_page
    deviations = stack_page.split('id="deviations"', 1)[1].split('id="na"', 1)[0]
    assert READ in deviations and f"the case stopped at the pinned deviation): {PEEK}, {IMPLICIT}" in deviations
    case_page = (pages / "case-test_three.html").read_text()
    assert f"Deviates on {READ}" in case_page and f"not judged on this stack: {PEEK}, {IMPLICIT}" in case_page
    overview = (tmp_path / "out" / "index.html").read_text()
    assert "; 2 not judged" in overview and "2 not judged: their cases stopped" in overview
    heat_cell = overview.split('title="SSL_read on wolf:', 1)[1].split("</td>", 1)[0]
    assert ">0%</a>" in heat_cell, "one clause judged (deviated), none passed"


def test_a_page_whose_clauses_were_only_not_judged_says_so_in_the_heat_map(tmp_path: Path) -> None:
    records = tmp_path / "r.jsonl"
    append_record(records, _pinned("wolf", "test_mixed", [MEM, READ, PEEK], [MEM]))
    model = write_reports(tmp_path / "out", [records])
    heat = next(b for b in model["matrix"] if b["page"].name == "SSL_read")["heat"]
    assert heat == [{"stack": "wolf", "passed": 0, "applicable": 0, "checked": 2, "not_judged": 2}]
    overview = (tmp_path / "out" / "index.html").read_text()
    heat_cell = overview.split('title="SSL_read on wolf:', 1)[1].split("</td>", 1)[0]
    assert ">not judged</a>" in heat_cell and "2 not judged: their cases stopped" in heat_cell


def test_an_openssl_erratum_names_the_clauses_it_deviates_on_and_those_left_unjudged(tmp_path: Path) -> None:
    records = tmp_path / "r.jsonl"
    append_record(records, _pinned("libssl", "test_three", THREE, [PEEK]))
    model = write_reports(tmp_path / "out", [records])
    (erratum,) = model["errata"]
    assert erratum.clauses == {PEEK} and erratum.not_judged == {READ, IMPLICIT}
    errata = (tmp_path / "out" / "index.html").read_text().split('id="errata"', 1)[1].split('id="deviations"', 1)[0]
    assert f'#{PEEK}">{PEEK}</a>' in errata and f'#{READ}"' not in errata
    assert f"not judged (the case stopped at the pinned deviation): {READ}, {IMPLICIT}" in errata


def test_a_clause_another_case_judged_shows_that_verdict_not_not_judged() -> None:
    """Where another case of the same stack checked the clause, the cell shows that case's verdict; a clause left
    only not-judged does not lower the share of clauses passed."""
    model = build_model([_pinned("wolf", "test_three", THREE, [READ]), _v("wolf", "test_peek", "passed", [PEEK])])
    cells = _cells(model, "SSL_read", "wolf")
    assert cells[PEEK]["verdict"] == "passed"
    assert sorted(cells[PEEK]["cases"]) == [("test_peek", "passed"), ("test_three", "not-judged")]
    assert cells[IMPLICIT]["verdict"] == "not-judged"
    (wolf,) = model["stacks"]
    assert (wolf["applicable"], wolf["passed_clauses"], wolf["not_judged_clauses"]) == (2, 1, 1)


@pytest.mark.parametrize("pinned", [None, [], ["SSL_write/RETURN VALUES/>0"]],
                         ids=["record-without-the-key", "entry-without-clauses", "entry-clauses-not-the-records"])
def test_without_usable_entry_clauses_every_clause_takes_the_deviation(pinned: list[str] | None) -> None:
    """Records written before the key existed (and entries naming no clause of the record) read as before."""
    model = build_model([_pinned("wolf", "test_three", THREE, pinned)])
    cells = _cells(model, "SSL_read", "wolf")
    assert {cells[c]["verdict"] for c in THREE} == {"expected-deviation"}
    (wolf,) = model["stacks"]
    assert (wolf["applicable"], wolf["not_judged_clauses"]) == (3, 0)
    assert wolf["deviations"][0].clauses == set(THREE) and not wolf["deviations"][0].not_judged


def test_a_failed_case_still_marks_every_clause_it_claims() -> None:
    """The record of a failed case does not say which clause the failing assertion concerns: every clause shows
    failed (docs/results-schema.md), even when the record carries an expectation (a different failure than pinned)."""
    model = build_model([_v("wolf", "test_three", "failed", THREE, reason="not the failure pinned ...",
                            expectation={"stack": "wolf", "verdict": "failed", "reason": "r", "evidence": "e",
                                         "observed": ["x"], "clauses": [READ]})])
    cells = _cells(model, "SSL_read", "wolf")
    assert {cells[c]["verdict"] for c in THREE} == {"failed"}
    (wolf,) = model["stacks"]
    assert (wolf["applicable"], wolf["passed_clauses"], wolf["not_judged_clauses"]) == (3, 0, 0)
