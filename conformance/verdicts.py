"""The verdict vocabulary and the typed records a run streams: one owner for both.

Every module that speaks of verdicts imports :class:`Verdict` from here; every record is built through
:class:`RunRecord`, :class:`PlanRecord` or :class:`VerdictRecord`, and every record read back from a file is checked
by :func:`parse_record`, field by field, so a damaged or hand-edited file gives one line naming the field, never a
``KeyError`` deep inside the report.

Record kinds (schema 2, ``docs/results-schema.md``):

* ``run``: opens a run (seed, stacks and their versions, the selection);
* ``plan``: the verdicts the run intends to record (one per collected case and stack), written by every process
  that collected the cases (the controller, or each pytest-xdist worker): the union per run is the plan;
* ``verdict``: one (case, stack) verdict.

Schema 1 files (before ``plan`` and ``crash`` existed) are still read; they carry no plan, so their completeness
cannot be judged and the report says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from itertools import repeat
from typing import Any

__all__ = [
    "BAD_VERDICTS",
    "READABLE_SCHEMAS",
    "SCHEMA",
    "SEVERITY",
    "DifferentialRecord",
    "PlanRecord",
    "RecordError",
    "RunRecord",
    "Verdict",
    "VerdictRecord",
    "parse_record",
]

SCHEMA = 2
READABLE_SCHEMAS = frozenset({1, 2})


class Verdict(StrEnum):
    """What one case says about one stack (or one client/server pair of stacks)."""

    PASSED = "passed"  # every assertion about the documented behaviour held
    FAILED = "failed"  # the stack did not do what the page documents
    NOT_APPLICABLE = "not-applicable"  # a capability the case needs is missing (the reason names it)
    EXPECTED_DEVIATION = "expected-deviation"  # failed exactly as the stack's expectations file says
    UNEXPECTED_PASS = "unexpected-pass"  # the expectations file says it fails, but it passed
    ERROR = "error"  # the harness or the stack raised (an exception other than a failed assertion)
    HANG = "hang"  # no progress: a deadlock the pump proved, or no progress within the case deadline
    CRASH = "crash"  # the process running the case died (a signal or an exit), killed by the stack

    @property
    def bad(self) -> bool:
        return self in BAD_VERDICTS


BAD_VERDICTS = frozenset({Verdict.FAILED, Verdict.UNEXPECTED_PASS, Verdict.ERROR, Verdict.HANG, Verdict.CRASH})

# Worst first: the verdict a matrix cell shows when several records meet there.
SEVERITY: tuple[Verdict, ...] = (Verdict.CRASH, Verdict.ERROR, Verdict.HANG, Verdict.FAILED, Verdict.UNEXPECTED_PASS,
                                 Verdict.EXPECTED_DEVIATION, Verdict.PASSED, Verdict.NOT_APPLICABLE)


class RecordError(ValueError):
    """A record does not have the shape of its kind; the message names the field."""


Scalar = int | float | str | bool | None


def _scalar(value: object) -> Scalar:
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


@dataclass
class RunRecord:
    run: str
    seed: int
    started: float
    stacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    selected_stacks: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # deadline, memory limit, isolation
    schema: int = SCHEMA
    kind: str = "run"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DifferentialRecord:
    """A record of ``conformance differential`` (docs/results-schema.md, "Differential records"): the run's
    summary, a divergence-table entry it met, or its finding. ``data`` is the JSON object as written."""

    data: dict[str, Any]
    kind: str = "differential"

    STATUSES = ("summary", "explained", "finding")

    @property
    def status(self) -> str:
        return str(self.data["status"])

    def to_json(self) -> dict[str, Any]:
        return dict(self.data)


@dataclass
class PlanRecord:
    run: str
    nodeids: list[str]
    worker: str = "main"
    # case modules this process could not collect ("path: error"): whatever cases they hold are in no plan
    uncollected: list[str] = field(default_factory=list)
    schema: int = SCHEMA
    kind: str = "plan"

    @property
    def planned(self) -> int:
        return len(self.nodeids)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["planned"] = self.planned
        return data


@dataclass
class VerdictRecord:
    stack: str
    version: str
    case: str
    verdict: Verdict
    reason: str
    clauses: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    duration: float = 0.0
    seed: int = 0
    run: str = ""
    nodeid: str = ""
    phase: str = "call"
    params: dict[str, Scalar] = field(default_factory=dict)
    client: str = ""
    interop: bool | None = None  # None (schema 1 records without it): true when a peer other than the stack is named
    peer: str | None = None
    peer_version: str | None = None
    expectation: dict[str, Any] | None = None
    observed: str | None = None  # with an expectation: the run's own reason, before the entry judged it
    functions: list[str] = field(default_factory=list)  # the library functions the case called, sorted
    states: list[str] = field(default_factory=list)  # the connection states the case declares (catalogue STATES)
    schema: int = SCHEMA
    kind: str = "verdict"

    def __post_init__(self) -> None:
        self.client = self.client or self.stack
        if self.interop is None:
            self.interop = self.peer is not None and self.peer != self.stack
        self.params = {k: _scalar(v) for k, v in self.params.items()}

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """What makes two records the same verdict: stack, client, peer, case and parameters."""
        return (self.stack, self.client, self.peer or "", self.case, json.dumps(self.params, sort_keys=True))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = str(self.verdict)
        for optional in ("peer", "peer_version", "expectation", "observed"):
            if data[optional] is None:
                del data[optional]
        return data


# field -> (accepted types, required)
_VERDICT_FIELDS: Mapping[str, tuple[tuple[type, ...], bool]] = {
    "stack": ((str,), True), "version": ((str,), True), "case": ((str,), True), "verdict": ((str,), True),
    "reason": ((str,), True), "clauses": ((list,), True), "trace": ((list,), True),
    "duration": ((int, float), True), "seed": ((int,), True), "run": ((str,), False), "nodeid": ((str,), False),
    "phase": ((str,), False), "params": ((dict,), False), "client": ((str,), False), "interop": ((bool,), False),
    "peer": ((str,), False), "peer_version": ((str,), False), "expectation": ((dict,), False),
    "observed": ((str,), False), "functions": ((list,), False), "states": ((list,), False),
}
_RUN_FIELDS: Mapping[str, tuple[tuple[type, ...], bool]] = {
    "run": ((str,), False), "seed": ((int,), False), "started": ((int, float), False), "stacks": ((dict,), False),
    "selected_stacks": ((list,), False), "pages": ((list,), False), "options": ((dict,), False),
}
_PLAN_FIELDS: Mapping[str, tuple[tuple[type, ...], bool]] = {
    "run": ((str,), True), "nodeids": ((list,), True), "worker": ((str,), False), "uncollected": ((list,), False),
}
_TYPE_NAMES = {str: "a string", list: "a list", dict: "an object", int: "an integer", float: "a number",
               bool: "true or false"}


def _check_fields(data: Mapping[str, Any], fields: Mapping[str, tuple[tuple[type, ...], bool]]) -> None:
    # Called for every record a report reads (100,000 in a large run), so the common case is kept cheap: one pass
    # over the fields, the list checks as C-level loops; the messages are built only on the error path.
    required = _REQUIRED.get(id(fields))
    if required is None:
        required = _REQUIRED[id(fields)] = frozenset(n for n, (_, req) in fields.items() if req)
    if not required <= data.keys():
        missing = [n for n, (_, req) in fields.items() if req and n not in data]
        raise RecordError(f"missing keys {', '.join(missing)}")
    for name, (types, _) in fields.items():
        value: Any = data.get(name, _ABSENT)
        if value is _ABSENT:
            continue
        if not isinstance(value, types) or (value.__class__ is bool and bool not in types):
            expected = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
            raise RecordError(f"field '{name}' must be {expected}, not {json.dumps(value)[:60]}")
        if name in _STRING_LISTS:
            items: list[Any] = data[name]
            if not all(map(isinstance, items, repeat(str))):
                raise RecordError(f"field '{name}' must be a list of strings")


_ABSENT = object()
_REQUIRED: dict[int, frozenset[str]] = {}  # id of a fields table (the module's three) -> its required names
_STRING_LISTS = frozenset({"clauses", "trace", "nodeids", "functions", "states"})


def parse_record(data: object) -> RunRecord | PlanRecord | VerdictRecord | DifferentialRecord:
    """A record read back from a file, checked field by field; :class:`RecordError` names the first bad field."""
    if not isinstance(data, dict):
        raise RecordError("not a JSON object")
    schema = data.get("schema")
    if schema not in READABLE_SCHEMAS or isinstance(schema, bool):
        readable = ", ".join(map(str, sorted(READABLE_SCHEMAS)))
        raise RecordError(f"schema {schema!r} is not one this version reads ({readable})")
    kind = data.get("kind", "verdict")
    if kind == "run":
        _check_fields(data, _RUN_FIELDS)
        return RunRecord(run=data.get("run", ""), seed=data.get("seed", 0), started=data.get("started", 0.0),
                         stacks=data.get("stacks", {}), selected_stacks=data.get("selected_stacks", []),
                         pages=data.get("pages", []), options=data.get("options", {}), schema=schema)
    if kind == "plan":
        _check_fields(data, _PLAN_FIELDS)
        return PlanRecord(run=data["run"], nodeids=list(data["nodeids"]), worker=data.get("worker", "main"),
                          uncollected=[str(u) for u in data.get("uncollected", [])], schema=schema)
    if kind == "differential":
        for name, kinds in (("run", str), ("stacks", list), ("seed", int), ("status", str)):
            if not isinstance(data.get(name), kinds):
                raise RecordError(f"differential record: field {name!r} missing or not a {kinds.__name__}")
        if data["status"] not in DifferentialRecord.STATUSES:
            raise RecordError(f"differential record: unknown status {data['status']!r}")
        return DifferentialRecord(dict(data))
    if kind != "verdict":
        raise RecordError(f"unknown kind {kind!r} (run, plan, verdict or differential)")
    _check_fields(data, _VERDICT_FIELDS)
    try:
        verdict = Verdict(data["verdict"])
    except ValueError:
        raise RecordError(f"unknown verdict {data['verdict']!r} (one of {', '.join(Verdict)})") from None
    known = {name: data[name] for name in _VERDICT_FIELDS if name in data and name != "verdict"}
    return VerdictRecord(verdict=verdict, schema=schema, **known)
