"""The verdict vocabulary and the typed record model (conformance/verdicts.py)."""

from __future__ import annotations

import json

import pytest

from conformance.expectations import _VERDICTS as EXPECTABLE
from conformance.verdicts import (
    BAD_VERDICTS,
    SEVERITY,
    PlanRecord,
    RecordError,
    RunRecord,
    Verdict,
    VerdictRecord,
    parse_record,
)


def test_every_verdict_has_a_severity_and_the_bad_ones_are_named() -> None:
    assert set(SEVERITY) == set(Verdict)
    assert {str(v) for v in BAD_VERDICTS} == {"failed", "unexpected-pass", "error", "hang", "crash"}
    assert set(EXPECTABLE) <= BAD_VERDICTS, "only a bad verdict can be an expected deviation"


def test_records_survive_a_round_trip_through_json() -> None:
    record = VerdictRecord(stack="s", version="1", case="test_x", verdict=Verdict.CRASH, reason="signal 11",
                           params={"size": 7, "obj": object()}, peer="t", peer_version="2")
    data = json.loads(json.dumps(record.to_json()))
    assert data["verdict"] == "crash" and data["kind"] == "verdict" and data["interop"] is True
    assert isinstance(data["params"]["obj"], str)
    again = parse_record(data)
    assert isinstance(again, VerdictRecord) and again.to_json() == data
    plan = PlanRecord(run="r", nodeids=["a", "b"])
    assert plan.to_json()["planned"] == 2 and isinstance(parse_record(plan.to_json()), PlanRecord)
    assert isinstance(parse_record(RunRecord(run="r", seed=1, started=0.0).to_json()), RunRecord)


def test_schema_1_records_are_still_read() -> None:
    old = {"schema": 1, "stack": "s", "version": "1", "case": "t", "clauses": [], "verdict": "passed", "reason": "",
           "trace": [], "duration": 0.1, "seed": 3, "peer": "u"}
    record = parse_record(old)
    assert isinstance(record, VerdictRecord) and record.kind == "verdict" and record.interop is True


@pytest.mark.parametrize(("data", "message"), [
    ([], "not a JSON object"),
    ({"schema": "2"}, "schema '2'"),
    ({"schema": 2, "kind": "plan", "run": "r"}, "missing keys nodeids"),
    ({"schema": 2, "kind": "plan", "run": "r", "nodeids": [1]}, "'nodeids' must be a list of strings"),
    ({"schema": 2, "kind": "run", "seed": "x"}, "field 'seed' must be an integer"),
])
def test_bad_records_name_the_field(data: object, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        parse_record(data)
