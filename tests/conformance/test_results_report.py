"""Streamed records (append, read back, damaged files, shards) and the reports built from them."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from conformance.report import build_model, worst, write_reports
from conformance.results import SCHEMA, ResultsError, append_record, read_records


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
    assert not model["ok"] and [p["stack"] for p in model["problems"]] == ["beta"]
    assert model["interop_matrix"][0]["cells"][1]["verdict"] == "passed"
    html = (tmp_path / "out" / "index.html").read_text()
    parser = _Cells()
    parser.feed(html)
    assert "because &lt;b&gt;" in html  # autoescaped
    assert "because <b>" in "".join(parser.text)
    assert "v failed" in parser.classes and "v passed" in parser.classes
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
