"""Streamed records (append, read back, damaged files, shards) and the reports built from them."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from conformance.cli import main
from conformance.report import build_model, worst, write_reports
from conformance.results import SCHEMA, ReportDir, ResultsError, append_record, load_results, read_records
from conformance.verdicts import Verdict


def _verdict(stack: str, case: str, verdict: str, clauses: list[str], **extra: Any) -> dict[str, Any]:
    return {"schema": SCHEMA, "kind": "verdict", "stack": stack, "version": f"{stack} 1.0", "case": case,
            "clauses": clauses, "verdict": verdict, "reason": "because <b>", "trace": ["client: SSL_read(5) -> -1"],
            "duration": 0.01, "seed": 1, "client": stack, **extra}


def test_append_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    append_record(path, {"schema": SCHEMA, "kind": "run", "seed": 1})
    append_record(path, _verdict("a", "test_x", "passed", []))
    records = list(read_records([path]))
    assert [r.kind for r in records] == ["run", "verdict"]


def test_truncated_last_line_is_skipped_but_other_damage_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    append_record(path, _verdict("a", "test_x", "passed", []))
    with path.open("a") as fh:
        fh.write('{"schema": 1, "kind": "verd')  # the run was killed mid-write
    assert len(list(read_records([path]))) == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('not json\n' + json.dumps(_verdict("a", "t", "passed", [])) + "\n")
    with pytest.raises(ResultsError, match=r"bad\.jsonl:1"):
        list(read_records([bad]))


def test_unknown_verdict_and_missing_keys_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(_verdict("a", "t", "great", [])) + "\n" + "\n")
    with pytest.raises(ResultsError, match="unknown verdict"):
        list(read_records([path]))
    record = _verdict("a", "t", "passed", [])
    del record["trace"]
    path.write_text(json.dumps(record) + "\n\n")
    with pytest.raises(ResultsError, match="missing keys trace"):
        list(read_records([path]))


def test_worst_verdict_order() -> None:
    assert worst(["passed", "not-applicable"]) == "passed"
    assert worst(["passed", "expected-deviation"]) == "expected-deviation"
    assert worst(["passed", "failed", "hang"]) == "hang"
    assert worst([]) == "none"


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.classes: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "class" and value:
                self.classes.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_reports_from_shards(tmp_path: Path) -> None:
    shard1, shard2 = tmp_path / "s1.jsonl", tmp_path / "s2.jsonl"
    append_record(shard1, _verdict("alpha", "test_one", "passed", ["SSL_read/RETURN VALUES/>0"]))
    append_record(shard2, _verdict("beta", "test_one", "failed", ["SSL_read/RETURN VALUES/>0"]))
    append_record(shard2, _verdict("alpha", "test_interop", "passed", [], peer="beta"))
    append_record(shard2, _verdict("beta", "test_dev", "expected-deviation", [],
                                   expectation={"reason": "r", "evidence": "e", "stack": "beta",
                                                "verdict": "failed"}))
    model = write_reports(tmp_path / "out", [shard1, shard2])
    assert not model["ok"] and [p.stack for p in model["problems"]] == ["beta"]
    assert model["interop_matrix"][0]["cells"][1]["verdict"] == "passed"
    html = (tmp_path / "out" / "index.html").read_text()
    parser = _Cells()
    parser.feed(html)
    assert "because &lt;b&gt;" in html  # autoescaped
    assert "because <b>" in "".join(parser.text)
    assert "v failed" in parser.classes and "v passed f" in parser.classes  # the failure; the interop cell
    page = _Cells()
    page.feed((tmp_path / "out" / "pages" / "page-SSL_read.html").read_text())
    assert {"v passed f", "v failed f"} <= set(page.classes)
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert suite.get("tests") == "4" and suite.get("failures") == "1"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["total"] == 4 and summary["ok"] is False


def test_model_marks_clauses_without_cases() -> None:
    model = build_model([_verdict("alpha", "test_one", "passed", ["SSL_read/RETURN VALUES/>0"])])
    verdicts = {row["clause"].id: row["cells"][0]["verdict"] for block in model["matrix"] for row in block["rows"]}
    assert verdicts.get("SSL_read/RETURN VALUES/>0") == "passed"
    assert "none" in verdicts.values() or "unobservable" in verdicts.values()


def test_interop_matrix_includes_a_stack_with_itself() -> None:
    records = [
        _verdict("alpha", "test_x", "passed", [], peer="alpha", interop=True),
        _verdict("alpha", "test_x", "failed", [], peer="beta", interop=True),
        _verdict("beta", "test_x", "passed", [], peer="alpha", client="beta", interop=True),
    ]
    model = build_model(records)
    cells = {(row["client"], c["server"]): c["verdict"] for row in model["interop_matrix"] for c in row["cells"]}
    assert cells == {("alpha", "alpha"): "passed", ("alpha", "beta"): "failed", ("beta", "alpha"): "passed",
                     ("beta", "beta"): "none"}


# --- completeness, merging, damaged files, nothing overwritten ----------------------------------------------------

def _plan(run: str, *nodeids: str) -> dict[str, Any]:
    return {"schema": SCHEMA, "kind": "plan", "run": run, "nodeids": list(nodeids)}


def _run_verdict(run: str, stack: str, case: str, verdict: str) -> dict[str, Any]:
    return _verdict(stack, case, verdict, [], run=run, nodeid=f"t.py::{case}[{stack}]")


def test_a_run_that_did_not_record_its_plan_is_incomplete_and_not_ok(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    append_record(path, _plan("A", "t.py::test_x[s]", "t.py::test_y[s]", "t.py::test_z[s]"))
    append_record(path, _run_verdict("A", "s", "test_x", "passed"))
    results = load_results([path])
    assert not results.ok and not results.complete and results.expected == 3
    assert results.completeness().startswith("incomplete: 1 of 3 planned verdicts recorded; missing: t.py::test_y[s]")
    model = write_reports(tmp_path / "out", results)
    assert model["ok"] is False
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["complete"] is False and summary["missing"] == ["t.py::test_y[s]", "t.py::test_z[s]"]
    assert "incomplete: 1 of 3" in (tmp_path / "out" / "index.html").read_text()
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert suite.get("tests") == "3" and suite.get("errors") == "2"


def test_crash_is_a_bad_verdict_and_the_worst() -> None:
    assert Verdict.CRASH.bad and worst(["hang", "crash", "error"]) == "crash"
    model = build_model([_verdict("s", "t", "crash", [])])
    assert model["ok"] is False and model["problems"][0].verdict == "crash"


def test_duplicates_in_one_run_are_dropped_and_conflicts_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    append_record(path, _run_verdict("A", "s", "test_x", "passed"))
    append_record(path, _run_verdict("A", "s", "test_x", "passed"))
    results = load_results([path])
    assert len(results.verdicts) == 1 and "1 duplicate verdict record(s) dropped" in results.notes[0]
    append_record(path, _run_verdict("A", "s", "test_x", "failed"))
    with pytest.raises(ResultsError, match="run A has two different verdicts for test_x on s"):
        load_results([path])
    with pytest.raises(ResultsError, match="given twice"):
        load_results([path, tmp_path / "." / "r.jsonl"])


def test_a_later_run_replaces_an_earlier_runs_verdict(tmp_path: Path) -> None:
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    append_record(first, _run_verdict("A", "s", "test_x", "failed"))
    append_record(first, _run_verdict("A", "s", "test_y", "passed"))
    append_record(second, _run_verdict("B", "s", "test_x", "passed"))
    results = load_results([first, second])
    assert {v.case: str(v.verdict) for v in results.verdicts} == {"test_x": "passed", "test_y": "passed"}
    assert results.notes == ["1 verdict(s) of run A replaced by the later run B"]


@pytest.mark.parametrize(("change", "message"), [
    ({"duration": "slow"}, "field 'duration' must be an integer or a number"),
    ({"clauses": "SSL_read"}, "field 'clauses' must be a list"),
    ({"trace": [1, 2]}, "field 'trace' must be a list of strings"),
    ({"interop": "yes"}, "field 'interop' must be true or false"),
    ({"seed": True}, "field 'seed' must be an integer"),
    ({"kind": "verdicts"}, "unknown kind 'verdicts'"),
    ({"schema": 7}, "schema 7 is not one this version reads"),
])
def test_wrong_typed_fields_are_one_line_errors(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({**_verdict("s", "t", "passed", []), **change}) + "\n\n")
    with pytest.raises(ResultsError, match=rf"r\.jsonl:1: {message}"):
        list(read_records([path]))


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_report_command_never_replaces_a_good_report_with_nothing(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.jsonl"
    append_record(good, _plan("A", "t.py::test_x[s]"))
    append_record(good, _run_verdict("A", "s", "test_x", "passed"))
    out = tmp_path / "out"
    assert main(["report", str(good), "--report", str(out)]) == 0
    assert "complete: 1 of 1" in capsys.readouterr().out
    before = _snapshot(out)
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b'{"schema": 2}\n\xff\xfe\n')
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    bad_type = tmp_path / "bad.jsonl"
    bad_type.write_text(json.dumps({**_verdict("s", "t", "passed", []), "duration": "x"}) + "\n\n")
    for args, message in [
        ([str(tmp_path / "resluts.jsonl")], "resluts.jsonl: no such file"),
        ([str(binary)], "binary.jsonl: not UTF-8 text (byte 0xff at offset 14)"),
        ([str(empty)], "nothing to report"),
        ([str(bad_type)], "bad.jsonl:1: field 'duration'"),
        ([str(good), str(good)], "given twice"),
        ([str(tmp_path)], "is a directory"),
    ]:
        assert main(["report", *args, "--report", str(out)]) == 2, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
        assert err.strip().splitlines()[-1].endswith("left unchanged")
        assert _snapshot(out) == before


def test_report_files_are_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    append_record(path, _run_verdict("A", "s", "test_x", "passed"))
    out = tmp_path / "out"
    write_reports(out, [path])
    write_reports(out, [path])
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "junit.xml", "pages", "summary.json",
                                                     "verdicts.jsonl"], "no temp files"


def test_report_dir_rotation_keeps_the_newest_complete_run(tmp_path: Path) -> None:
    directory = ReportDir(tmp_path / "rep")
    complete = directory.stream("complete")
    append_record(complete, _plan("complete", "t.py::test_x[s]"))
    append_record(complete, _run_verdict("complete", "s", "test_x", "passed"))
    os.utime(complete, (1, 1))  # the oldest
    for index in range(ReportDir.KEEP_RUNS + 2):
        stream = directory.stream(f"partial{index}")
        append_record(stream, _plan(f"partial{index}", "t.py::test_x[s]"))
        os.utime(stream, (100 + index, 100 + index))
    directory.publish("partial0")
    left = {p.stem for p in directory.runs.glob("*.jsonl")}
    assert "complete" in left and "partial0" in left
    assert len(left) == ReportDir.KEEP_RUNS + 2
    assert directory.results.read_bytes() == directory.stream("partial0").read_bytes()


def test_a_run_with_nothing_to_report_changes_nothing(tmp_path: Path, pytester: pytest.Pytester) -> None:
    report = tmp_path / "rep"
    report.mkdir()
    (report / "index.html").write_text("earlier")
    before = _snapshot(report)
    pytester.makepyfile(test_inner="def test_case(h):\n    pass\n")
    result = pytester.runpytest_inprocess("--stack", "stdlib", "--conformance-report", str(report),
                                          "-p", "no:cacheprovider", "-k", "no_case_has_this_name")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*nothing to report: no conformance case was selected or run*left unchanged"])
    assert _snapshot(report) == before and sorted(p.name for p in report.iterdir()) == ["index.html"]
    fresh = tmp_path / "fresh"
    pytester.runpytest_inprocess("--stack", "stdlib", "--conformance-report", str(fresh), "-p", "no:cacheprovider",
                                 "-k", "no_case_has_this_name")
    assert not fresh.exists(), "a directory made for the run is removed again"
