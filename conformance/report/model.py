"""The report's data, aggregated from a stream of records without keeping them.

Theory of operation. Records are read as a stream (:class:`Stream`): each record is checked
(:func:`conformance.results.read_records`) and merged as it passes, with the rules of
:func:`conformance.results.merge_records` (a duplicate in one run is dropped, two different verdicts for one key in
one run are refused, a later run's verdict replaces an earlier run's), keeping only a 12-byte digest of each key.
Each kept verdict goes at once to :class:`Aggregate` and to the *sinks* (the JUnit writer, the per-case page
buckets), which write what they need: nothing keeps every record or every trace. Everything is written to a staging
directory, so an error found late leaves the report as it was. When a later run replaced a verdict that was already
passed on (several runs' files merged), the staged output is thrown away and a second pass leaves those out.

:class:`Aggregate` keeps counters and small per-stack, per-clause and per-case summaries; its memory grows with the
number of stacks, clauses, cases and distinct reasons, not with the number of records (only the non-passed
single-stack verdicts are kept, as short tuples, for the "passes on libssl but not here" list).

Clauses judged. A verdict is the case's; the clause cells say what each clause was judged. A case stops at its
first failed assertion, so when an expected deviation's entry names the clauses it concerns (the record's
``expectation["clauses"]``, :func:`pinned_clauses`), only those clauses take the deviation: the case's other
clauses are :data:`NOT_JUDGED` on that stack (the case never reached them), counted neither as passed, failed nor
deviated, and left out of the "applicable clauses" figures. A record without that key (written before it existed),
an entry naming no clause, or one whose clauses are none of the record's, marks every clause as before. A *failed*
(or error, hang, crash) verdict still marks every clause the case claims: the record does not say which clause the
failing assertion concerns, and a clause-level view must not hide a failure (docs/results-schema.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from conformance.catalogue import Catalogue, load_catalogue
from conformance.results import Results, ResultsError, _lines, completeness_line
from conformance.verdicts import (
    _VERDICT_FIELDS,
    BAD_VERDICTS,
    READABLE_SCHEMAS,
    SEVERITY,
    PlanRecord,
    RecordError,
    RunRecord,
    Verdict,
    VerdictRecord,
    parse_record,
)

__all__ = ["CELL_SEVERITY", "NOT_JUDGED", "OPENSSL_STACKS", "Aggregate", "Item", "NothingToReport", "Stream",
           "case_file", "make_item", "not_judged_reason", "pinned_clauses", "stream_of", "worst"]

# The stacks that *are* OpenSSL: where one of them differs from an OpenSSL page, the page is wrong (an erratum).
OPENSSL_STACKS = frozenset({"libssl"})
REFERENCE_STACK = "libssl"  # "passes on libssl but not on this stack"

# DIFFERENTIAL_HOOK: records of this kind (``conformance differential``, docs/results-schema.md) reach the model
# through :attr:`Stream.others` once :func:`conformance.verdicts.parse_record` returns them (any record type with a
# ``to_json``); the overview's "Differential findings" section shows them and a ``finding`` makes the report not ok.
DIFFERENTIAL_KIND = "differential"

# The state of a clause cell whose case stopped, at a pinned deviation of its other clauses, before reaching it.
NOT_JUDGED = "not-judged"
# Worst first, for clause cells: a clause some case judged shows that case's verdict; "not judged" only where no
# case judged it, but above "not applicable" (the case ran on the stack; it stopped before this clause).
CELL_SEVERITY: tuple[str, ...] = (*(str(v) for v in SEVERITY if v != Verdict.NOT_APPLICABLE), NOT_JUDGED,
                                  str(Verdict.NOT_APPLICABLE))
_RANK = {v: i for i, v in enumerate(CELL_SEVERITY)}
_VALUES = {v: v.value for v in Verdict}
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def worst(verdicts: Iterable[str]) -> str:
    """The worst of ``verdicts`` (:data:`conformance.verdicts.SEVERITY`), or "none"."""
    best = "none"
    rank = len(CELL_SEVERITY)
    for verdict in verdicts:
        r = _RANK.get(str(verdict), rank)
        if r < rank:
            best, rank = str(verdict), r
    return best


def pinned_clauses(verdict: str, clauses: tuple[str, ...],
                   expectation: dict[str, Any] | None) -> tuple[str, ...] | None:
    """The clauses an expected deviation was judged on: those of ``clauses`` its entry names
    (``expectation["clauses"]``); ``None`` when every clause takes the verdict (another verdict, an older record
    without the key, an entry naming no clause or none of these)."""
    if verdict != "expected-deviation" or not expectation:
        return None
    named = expectation.get("clauses")
    if not isinstance(named, list) or not named:
        return None
    pinned = tuple(c for c in clauses if c in named)
    return pinned or None


def not_judged_reason(case: str, pinned: Iterable[str]) -> str:
    """Why a clause of ``case`` was not judged: the case stopped at the pinned deviation of ``pinned``."""
    return f"not judged on this stack: {case} stopped at the pinned deviation of {', '.join(pinned)}"


def _worse(a: str | None, b: str) -> str:
    return b if a is None or _RANK.get(b, 99) < _RANK.get(a, 99) else a


def safe_name(name: str) -> str:
    """A file name part for ``name``: itself when it is safe, else a cleaned form with a short digest."""
    cleaned = _SAFE.sub("_", name)[:80]
    if cleaned == name:
        return name
    return f"{cleaned}-{hashlib.blake2b(name.encode(), digest_size=4).hexdigest()}"


def case_file(case: str) -> str:
    return f"case-{safe_name(case)}.html"


def params_text(params: dict[str, Any] | str) -> str:
    if isinstance(params, str):
        params = json.loads(params) if params else {}
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items()))


def server_of(record: VerdictRecord) -> str:
    """The server's stack of a record (the stack itself for a single-stack case)."""
    if record.peer is None:
        return record.stack
    return record.peer if record.client == record.stack else record.stack


# --- reading: a fast path for the common verdict line ------------------------------------------------------------
#
# :func:`conformance.verdicts.parse_record` checks every field of every record; a report of a large run reads
# 100,000 of them. Records written by one run have the same few shapes (the same keys in the same order, values of
# the same types), so the shape's check is done once: :func:`_quick_verdict` looks up the record's shape (its keys
# and the exact types of its values) and, for a shape whose every key is a verdict field of an accepted type, builds
# the :class:`VerdictRecord` directly with what ``parse_record`` would give. Anything else (another kind, a wrong
# type, an unknown verdict, a list holding a non-string, an odd key) goes to ``parse_record``, which accepts it or
# says what is wrong, so the fast path never accepts what ``parse_record`` refuses nor changes what it builds
# (tests/conformance/test_report.py compares the two on records of every shape).

_SHAPES: dict[tuple[tuple[str, ...], tuple[type, ...]], tuple[str, ...] | None] = {}
_VERDICT_VALUES = {v.value: v for v in Verdict}
_ALLOWED = {name: types for name, (types, _) in _VERDICT_FIELDS.items()}
_REQUIRED_FIELDS = frozenset(name for name, (_, required) in _VERDICT_FIELDS.items() if required)
_LIST_FIELDS = ("clauses", "trace", "functions", "states")
_SCALARS = (int, float, str, bool, type(None))
_PLAIN_DEFAULTS = {f.name: f.default for f in fields(VerdictRecord) if f.default is not MISSING}
_FACTORY_DEFAULTS = tuple((f.name, f.default_factory) for f in fields(VerdictRecord)
                          if f.default_factory is not MISSING)


def _shape(keys: tuple[str, ...], types: tuple[type, ...]) -> tuple[str, ...] | None:
    """The list fields of a verdict record of this shape, or None when the shape is not one for the fast path."""
    if "schema" not in keys or not set(keys) >= _REQUIRED_FIELDS:
        return None
    for name, kind in zip(keys, types, strict=True):
        if (name == "schema" and kind is int) or (name == "kind" and kind is str):
            continue
        allowed = _ALLOWED.get(name)
        if allowed is None or kind not in allowed:
            return None
    return tuple(name for name in _LIST_FIELDS if name in keys)


def _quick_verdict(data: Any) -> VerdictRecord | None:
    """``parse_record(data)`` for a verdict record of a known good shape; None for anything else."""
    if data.__class__ is not dict:
        return None
    keys = tuple(data)
    signature = (keys, tuple(map(type, data.values())))
    try:
        lists = _SHAPES[signature]
    except KeyError:
        lists = _SHAPES[signature] = _shape(*signature) if len(_SHAPES) < 1000 else None
    if lists is None or data.get("kind", "verdict") != "verdict" or data["schema"] not in READABLE_SCHEMAS:
        return None
    verdict = _VERDICT_VALUES.get(data["verdict"])
    if verdict is None:
        return None
    try:
        for name in lists:
            "".join(data[name])  # TypeError unless every item is a string
    except TypeError:
        return None
    params = data.get("params")
    if params and not all(isinstance(v, _SCALARS) for v in params.values()):
        return None  # parse_record turns other values into strings
    record: VerdictRecord = object.__new__(VerdictRecord)
    values = record.__dict__
    values.update(_PLAIN_DEFAULTS)
    for name, factory in _FACTORY_DEFAULTS:
        values[name] = factory()
    values.update(data)
    values["verdict"] = verdict
    values["kind"] = "verdict"
    if not values["client"]:
        values["client"] = values["stack"]
    if values["interop"] is None:
        values["interop"] = values["peer"] is not None and values["peer"] != values["stack"]
    if params:
        values["params"] = dict(params)
    return record


def read_verdicts(paths: Iterable[Path]) -> Iterator[RunRecord | PlanRecord | VerdictRecord | Any]:
    """:func:`conformance.results.read_records`, with verdict lines of a known good shape built directly."""
    loads = json.loads
    for path in paths:
        for number, line, last in _lines(path):
            if not line.strip():
                continue
            try:
                data = loads(line)
            except json.JSONDecodeError as exc:
                if last:
                    continue
                raise ResultsError(f"{path}:{number}: not JSON: {exc}") from None
            record = _quick_verdict(data)
            if record is not None:
                yield record
                continue
            try:
                yield parse_record(data)
            except RecordError as exc:
                raise ResultsError(f"{path}:{number}: {exc}") from None


class NothingToReport(ResultsError):
    """The records hold no verdict and no plan: nothing is written."""


@dataclass
class Item:
    """A kept verdict with what every consumer needs, computed once."""

    record: VerdictRecord
    digest: bytes  # of the record's key (:attr:`VerdictRecord.key`)
    params: str  # the parameters as sorted JSON, "" when there are none

    @property
    def anchor(self) -> str:
        """The id of the record's row on its case page (stable across runs: it comes from the key)."""
        return "r-" + self.digest[:6].hex()


_PARAMS_JSON: dict[str, str] = {}  # repr(params) -> json.dumps(params, sort_keys=True); repr tells 1, 1.0, True apart


def _params_json(params: dict[str, Any]) -> str:
    shown = repr(params)
    done = _PARAMS_JSON.get(shown)
    if done is None:
        if len(_PARAMS_JSON) > 20_000:
            _PARAMS_JSON.clear()
        done = _PARAMS_JSON[shown] = json.dumps(params, sort_keys=True)
    return done


def make_item(record: VerdictRecord) -> Item:
    params = _params_json(record.params) if record.params else ""
    key = f"{record.stack}\0{record.client}\0{record.peer or ''}\0{record.case}\0{params}"
    return Item(record, hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=12).digest(), params)


class Stream:
    """The records of some files (or of records in memory), checked and merged while they stream past.

    Merging follows :func:`conformance.results.merge_records`. A duplicate in one run is dropped as it arrives; a
    record replaced by a later run's was already passed on, so it is *retracted*: the caller then makes a second
    pass with ``drop`` set to :attr:`dropped` (a run file on its own never needs one). Only a 12-byte digest of
    each key is kept.
    """

    def __init__(self, paths: list[Path] | None = None, drop: frozenset[int] = frozenset(),
                 records: Iterable[RunRecord | PlanRecord | VerdictRecord | dict[str, Any]] | None = None) -> None:
        self.paths = paths or []
        self.records = records
        self.drop = drop
        seen: dict[Path, Path] = {}
        for path in self.paths:
            resolved = path.resolve()
            if resolved in seen:
                raise ResultsError(f"{path}: given twice (also as {seen[resolved]}); give each results file once")
            seen[resolved] = path
        self.runs: list[RunRecord] = []
        self.plans: dict[str, set[str]] = {}
        self.uncollected: list[str] = []
        self.others: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.dropped: set[int] = set()
        self.retracted: set[int] = set()
        self.kept = 0

    @property
    def planned(self) -> set[str] | None:
        return set().union(*self.plans.values()) if self.plans else None

    def _source(self) -> Iterator[Any]:
        if self.records is None:
            yield from read_verdicts(self.paths)
            return
        for item in self.records:
            try:
                yield parse_record(item) if isinstance(item, dict) else item
            except RecordError as exc:
                raise ResultsError(str(exc)) from None

    def verdicts(self) -> Iterator[Item]:
        by_key: dict[bytes, tuple[int, str, str]] = {}  # digest -> (ordinal of the kept record, run, verdict)
        duplicates = 0
        replaced: Counter[tuple[str, str]] = Counter()
        ordinal = 0
        for record in self._source():
            if isinstance(record, VerdictRecord):
                item = make_item(record)
                earlier = by_key.get(item.digest)
                verdict = str(record.verdict)
                if earlier is None:
                    by_key[item.digest] = (ordinal, record.run, verdict)
                elif earlier[1] == record.run:
                    if earlier[2] != verdict:
                        raise ResultsError(
                            f"run {record.run or '?'} has two different verdicts for {record.case} on "
                            f"{record.stack} ({earlier[2]} and {verdict}): the records are mixed up; give each "
                            "run's results once")
                    duplicates += 1
                    self.dropped.add(ordinal)
                    ordinal += 1
                    continue
                else:
                    self.dropped.add(earlier[0])
                    if earlier[0] not in self.drop:
                        self.retracted.add(earlier[0])
                    by_key[item.digest] = (ordinal, record.run, verdict)
                    replaced[(earlier[1], record.run)] += 1
                if ordinal not in self.drop:
                    yield item
                ordinal += 1
            elif isinstance(record, RunRecord):
                self.runs.append(record)
            elif isinstance(record, PlanRecord):
                self.plans.setdefault(record.run, set()).update(record.nodeids)
                self.uncollected.extend(u for u in record.uncollected if u not in self.uncollected)
            else:  # DIFFERENTIAL_HOOK: a record kind added later (differential findings), kept whole: they are few
                to_json = getattr(record, "to_json", None)
                self.others.append(to_json() if callable(to_json) else dict(vars(record)))
        if duplicates:
            self.notes.append(f"{duplicates} duplicate verdict record(s) dropped (same run, same case and stack)")
        for (old, new), count in replaced.items():
            self.notes.append(f"{count} verdict(s) of run {old or '?'} replaced by the later run {new or '?'}")
        self.kept = len(by_key)

    def again(self) -> Stream:
        """A second pass that leaves out every record this pass found superseded."""
        return Stream(self.paths or None, frozenset(self.dropped), self.records)


def stream_of(source: Results | Iterable[dict[str, Any]]) -> Stream:
    """A :class:`Stream` over records in memory (merged :class:`Results`, or JSON objects merged here)."""
    if isinstance(source, Results):
        items: list[Any] = [*source.runs, *source.verdicts]
        stream = Stream(records=items)
        if source.planned is not None:
            stream.plans["*"] = set(source.planned)
        stream.uncollected.extend(source.uncollected)
        stream.notes.extend(source.notes)
        stream.others.extend(d.to_json() for d in source.differential)
        return stream
    items = list(source)
    others = [i for i in items if isinstance(i, dict) and i.get("kind") not in (None, "run", "plan", "verdict")]
    stream = Stream(records=[i for i in items if not (isinstance(i, dict) and i in others)])
    stream.others.extend(others)
    return stream


@dataclass
class CaseRow:
    """A non-passed verdict, short: what the stack pages and the headline lists show."""

    stack: str
    client: str
    server: str
    case: str
    params: str
    verdict: str
    reason: str
    clauses: tuple[str, ...]
    anchor: str
    interop: bool

    @property
    def link(self) -> str:
        return f"{case_file(self.case)}#{self.anchor}"

    @property
    def pair(self) -> str:
        return f"{self.client} → {self.server}" if self.interop else ""

    @property
    def params_text(self) -> str:
        return params_text(self.params)


@dataclass
class Erratum:
    """Expected deviations of one stack for one case (every parameter and peer), with the expectation's words."""

    stack: str
    case: str
    reason: str
    evidence: str
    clauses: set[str] = field(default_factory=set)  # the clauses it deviates on
    not_judged: set[str] = field(default_factory=set)  # the case's other clauses, never reached (see NOT_JUDGED)
    count: int = 0
    first: CaseRow | None = None


@dataclass
class StackData:
    name: str
    version: str = "?"
    counts: dict[str, int] = field(default_factory=dict)  # every verdict the stack took part in (both sides)
    own: dict[str, int] = field(default_factory=dict)  # its single-stack verdicts
    bad: dict[tuple[str, str], list[CaseRow]] = field(default_factory=lambda: defaultdict(list))  # (verdict, reason)
    na: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # reason -> case -> count
    deviations: dict[str, Erratum] = field(default_factory=dict)  # case -> erratum
    not_passed: dict[tuple[str, str], CaseRow] = field(default_factory=dict)  # (case, params) single-stack
    clauses_applicable: int = 0  # clauses some case judged on the stack (not only not-applicable or not-judged)
    clauses_passed: int = 0
    clauses_not_judged: int = 0  # clauses whose cases ran but stopped before them, and no case judged them


_INTERN: dict[str, str] = {}


def _intern(text: str) -> str:
    if len(_INTERN) > 200_000:
        _INTERN.clear()
    return _INTERN.setdefault(text, text)


class Aggregate:
    """Counters and summaries of a stream of kept verdicts (:meth:`add`), turned into the report model."""

    MAX_REASON = 4000  # characters of a reason kept for the lists (the case page shows it whole)

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue or load_catalogue()
        self.clause_page = {c.id: p.name for p in self.catalogue.pages.values() for c in p.clauses}
        self.stacks: dict[str, StackData] = {}
        self.totals: dict[str, int] = {}
        self.total = 0
        # (clause, stack) -> case -> worst verdict; and the verdict counts of the cell
        self.cells: dict[tuple[str, str], dict[str, str]] = {}
        self.cell_counts: dict[tuple[str, str], dict[str, int]] = {}
        self.cell_reasons: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (verdict, reason)
        # (client, server) -> counts; non-passed rows; passed case names
        self.pairs: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        self.pair_rows: dict[tuple[str, str], list[CaseRow]] = defaultdict(list)
        self.pair_passed: dict[tuple[str, str], set[str]] = defaultdict(set)
        # case -> stack -> verdict counts; case -> clauses
        self.cases: dict[str, dict[str, dict[str, int]]] = {}
        self.case_clauses: dict[str, set[str]] = {}
        self.problems: list[CaseRow] = []
        self.reference_passed: set[tuple[str, str]] = set()
        self.nodeids: set[str] = set()
        self.pages_seen: set[str] = set()
        self.seeds: set[int] = set()
        self._tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._cell_lists: dict[tuple[tuple[str, ...], str],
                               list[tuple[dict[str, str], dict[str, int], list[tuple[str, str]]]]] = {}
        self._last_clauses: dict[str, tuple[str, ...]] = {}  # case -> the clauses its last record named

    def stack(self, name: str) -> StackData:
        data = self.stacks.get(name)
        if data is None:
            data = self.stacks[name] = StackData(name)
        return data

    def _cells_of(self, clauses: tuple[str, ...], stack: str) -> list[tuple[dict[str, str], dict[str, int],
                                                                              list[tuple[str, str]]]]:
        """The (worst verdict per case, verdict counts, reasons) of each clause's cell on ``stack``, made once per
        list of clauses and stack: a record then updates its cells without building keys."""
        key = (clauses, stack)
        done = self._cell_lists.get(key)
        if done is None:
            done = self._cell_lists[key] = [
                (self.cells.setdefault((clause, stack), {}), self.cell_counts.setdefault((clause, stack), {}),
                 self.cell_reasons.setdefault((clause, stack), [])) for clause in clauses]
        return done

    def add(self, item: Item) -> None:
        record = item.record
        verdict = _VALUES[record.verdict]
        case = _intern(record.case)
        name, client, peer = record.stack, record.client, record.peer
        server = name if peer is None else peer if client == name else name  # server_of(record)
        interop = bool(record.interop) and server != client
        params = item.params
        clauses = tuple(record.clauses)
        clauses = self._tuples.setdefault(clauses, clauses)  # one copy per distinct list
        self.total += 1
        totals = self.totals
        totals[verdict] = totals.get(verdict, 0) + 1
        if record.nodeid:
            self.nodeids.add(record.nodeid)
        stacks = self.stacks
        me = stacks.get(name) or self.stack(name)
        me.version = record.version or me.version
        if peer and record.peer_version:
            self.stack(peer).version = record.peer_version
        counts = me.counts
        counts[verdict] = counts.get(verdict, 0) + 1
        if client != name:
            counts = self.stack(client).counts
            counts[verdict] = counts.get(verdict, 0) + 1
        if server != name and server != client:
            counts = self.stack(server).counts
            counts[verdict] = counts.get(verdict, 0) + 1
        per_stack = self.cases.get(case)
        if per_stack is None:
            per_stack = self.cases[case] = {}
        in_case = per_stack.get(name)
        if in_case is None:
            in_case = per_stack[name] = {}
        in_case[verdict] = in_case.get(verdict, 0) + 1
        seen = self.case_clauses.get(case)
        if seen is None:
            seen = self.case_clauses[case] = set()
            for clause in clauses:
                page = self.clause_page.get(clause)
                if page:
                    self.pages_seen.add(page)
        if self._last_clauses.get(case) is not clauses:
            seen.update(clauses)
            self._last_clauses[case] = clauses
        row: CaseRow | None = None
        if verdict != "passed":
            reason = record.reason if len(record.reason) <= self.MAX_REASON else \
                record.reason[:self.MAX_REASON] + " …"
            row = CaseRow(name, client, server, case, params, verdict, _intern(reason), clauses,
                          "r-" + item.digest[:6].hex(), interop)
        if record.interop:  # every client/server pair, a stack with itself included
            pair = (client, server)
            counts = self.pairs[pair]
            counts[verdict] = counts.get(verdict, 0) + 1
            if row is not None:
                self.pair_rows[pair].append(row)
            else:
                self.pair_passed[pair].add(case)
        pinned = pinned_clauses(verdict, clauses, record.expectation) if row is not None else None
        if not interop:  # single-stack cases, and interoperability cases of a stack with itself
            counts = me.own
            counts[verdict] = counts.get(verdict, 0) + 1
            rank = _RANK.get(verdict, 99)
            unjudged = not_judged_reason(case, pinned) if pinned is not None else ""
            for clause, (cell, counts, reasons) in zip(clauses, self._cells_of(clauses, name), strict=True):
                if pinned is not None and clause not in pinned:  # the case stopped before this clause
                    earlier = cell.get(case)
                    if earlier is None or _RANK[NOT_JUDGED] < _RANK.get(earlier, 99):
                        cell[case] = NOT_JUDGED
                    counts[NOT_JUDGED] = counts.get(NOT_JUDGED, 0) + 1
                    if len(reasons) < 3 and (NOT_JUDGED, unjudged) not in reasons:
                        reasons.append((NOT_JUDGED, unjudged))
                    continue
                earlier = cell.get(case)
                if earlier is None or rank < _RANK.get(earlier, 99):  # _worse(earlier, verdict)
                    cell[case] = verdict
                counts[verdict] = counts.get(verdict, 0) + 1
                if row is not None and verdict != "not-applicable" and len(reasons) < 3 \
                        and (verdict, row.reason) not in reasons:
                    reasons.append((verdict, row.reason))
            if row is None:
                if name == REFERENCE_STACK:
                    self.reference_passed.add((case, params))
            else:
                me.not_passed[(case, params)] = row
        if row is None:
            return
        if verdict in BAD_VERDICTS:
            me.bad[(verdict, row.reason)].append(row)
            self.problems.append(row)
        elif verdict == Verdict.NOT_APPLICABLE:
            me.na[row.reason][case] += 1
        elif verdict == Verdict.EXPECTED_DEVIATION:
            expectation = record.expectation or {}
            erratum = me.deviations.get(case)
            if erratum is None:
                erratum = me.deviations[case] = Erratum(
                    record.stack, case, _intern(str(expectation.get("reason") or record.reason)),
                    _intern(str(expectation.get("evidence", ""))), first=row)
            if pinned is None:
                erratum.clauses.update(clauses)
            else:
                erratum.clauses.update(pinned)
                erratum.not_judged.update(c for c in clauses if c not in pinned)
            erratum.count += 1

    # --- the model ------------------------------------------------------------------------------------------------

    def model(self, scan: Stream) -> dict[str, Any]:
        planned = scan.planned
        stacks = sorted(self.stacks)
        for run in scan.runs:
            for name, meta in run.stacks.items():
                if name in self.stacks and self.stacks[name].version == "?" and meta.get("version"):
                    self.stacks[name].version = str(meta["version"])
            self.seeds.add(run.seed)
        pages = []
        for page in self.catalogue.pages.values():
            if self.pages_seen and page.name not in self.pages_seen:
                continue
            rows = []
            # passed, applicable (judged), clauses with cases, not judged (cases ran but stopped before them)
            heat: dict[str, list[int]] = {s: [0, 0, 0, 0] for s in stacks}
            for clause in page.clauses:
                cells: list[dict[str, Any]] = []
                for s in stacks:
                    in_cell = self.cells.get((clause.id, s), {})
                    counts = self.cell_counts.get((clause.id, s), Counter())
                    verdict = worst(in_cell.values()) if in_cell else "unobservable" if clause.unobservable else "none"
                    judged = [v for v in in_cell.values() if v != Verdict.NOT_APPLICABLE and v != NOT_JUDGED]
                    if in_cell:
                        heat[s][2] += 1
                    if judged:
                        heat[s][1] += 1
                        if worst(judged) == Verdict.PASSED:
                            heat[s][0] += 1
                    elif verdict == NOT_JUDGED:
                        heat[s][3] += 1
                    cells.append({"stack": s, "verdict": verdict, "cases": sorted(in_cell.items()),
                                  "counts": dict(counts), "reasons": self.cell_reasons.get((clause.id, s), [])})
                rows.append({"clause": clause, "cells": cells})
            for s in stacks:
                self.stacks[s].clauses_passed += heat[s][0]
                self.stacks[s].clauses_applicable += heat[s][1]
                self.stacks[s].clauses_not_judged += heat[s][3]
            pages.append({"page": page, "rows": rows,
                          "heat": [{"stack": s, "passed": heat[s][0], "applicable": heat[s][1],
                                    "checked": heat[s][2], "not_judged": heat[s][3]} for s in stacks]})
        interop_stacks = sorted({p[0] for p in self.pairs} | {p[1] for p in self.pairs})
        interop_matrix = []
        for client in interop_stacks:
            pair_cells: list[dict[str, Any]] = []
            for server in interop_stacks:
                counts = self.pairs.get((client, server), Counter())
                pair_cells.append({"server": server, "verdict": worst(counts), "counts": dict(counts),
                              "total": sum(counts.values()), "passed": counts.get(Verdict.PASSED, 0)})
            interop_matrix.append({"client": client, "cells": pair_cells})
        problems = sorted(self.problems, key=lambda r: (_RANK.get(r.verdict, 99), r.stack, r.case, r.params))
        errata = [e for s in stacks if s in OPENSSL_STACKS for e in self.stacks[s].deviations.values()]
        deviations = [e for s in stacks if s not in OPENSSL_STACKS for e in self.stacks[s].deviations.values()]
        missing = sorted(planned - self.nodeids) if planned is not None else []
        complete = not missing and not scan.uncollected
        finding = any(o.get("kind") == DIFFERENTIAL_KIND and o.get("status") == "finding" for o in scan.others)
        bad = sum(self.totals.get(str(v), 0) for v in BAD_VERDICTS)
        ok = complete and not bad and (self.total > 0 or bool(scan.others)) and not finding
        stack_rows = []
        for s in stacks:
            data = self.stacks[s]
            below_reference = sorted(
                (row for key, row in data.not_passed.items() if key in self.reference_passed),
                key=lambda r: (r.case, r.params)) if s != REFERENCE_STACK else []
            stack_rows.append({
                "name": s, "version": data.version, "counts": dict(data.counts), "own": dict(data.own),
                "total": sum(data.counts.values()),
                "applicable": data.clauses_applicable, "passed_clauses": data.clauses_passed,
                "not_judged_clauses": data.clauses_not_judged,
                "share": (data.clauses_passed / data.clauses_applicable) if data.clauses_applicable else None,
                "bad": [{"verdict": v, "reason": r, "rows": rows} for (v, r), rows in
                        sorted(data.bad.items(), key=lambda kv: (_RANK.get(kv[0][0], 99), -len(kv[1])))],
                "na": [{"reason": r, "cases": sorted(c.items()), "count": sum(c.values())} for r, c in
                       sorted(data.na.items(), key=lambda kv: -sum(kv[1].values()))],
                "deviations": sorted(data.deviations.values(), key=lambda e: e.case),
                "below_reference": below_reference,
                "pairs": [{"client": c, "server": sv, "counts": dict(self.pairs[(c, sv)]),
                           "verdict": worst(self.pairs[(c, sv)]), "rows": self.pair_rows.get((c, sv), []),
                           "passed": sorted(self.pair_passed.get((c, sv), set()))}
                          for (c, sv) in sorted(self.pairs) if s in (c, sv)],
            })
        cases: list[dict[str, Any]] = []
        for name in sorted(self.cases):
            per_stack = self.cases[name]
            cases.append({"name": name, "file": case_file(name), "clauses": sorted(self.case_clauses[name]),
                          "pages": sorted({self.clause_page.get(c, c.split("/", 1)[0])
                                           for c in self.case_clauses[name]}),
                          "stacks": {s: {"verdict": worst(per_stack[s]), "counts": dict(per_stack[s])}
                                     for s in per_stack}})
        if planned is None:
            completeness = f"{self.total} verdicts; plan unknown (records without a plan)"
        else:
            completeness = completeness_line(len(planned), missing, scan.uncollected)
        return {
            "runs": [r.to_json() for r in scan.runs],
            "seeds": sorted(self.seeds),
            "stacks": stack_rows,
            "stack_names": stacks,
            "verdict_names": [str(v) for v in Verdict],
            "totals": dict(self.totals),
            "total": self.total,
            "expected": None if planned is None else len(planned),
            "complete": complete,
            "completeness": completeness,
            "missing": missing,
            "uncollected": list(scan.uncollected),
            "notes": scan.notes,
            "ok": ok,
            "bad": bad,
            "matrix": pages,
            "interop_stacks": interop_stacks,
            "interop_matrix": interop_matrix,
            "problems": problems,
            "errata": errata,
            "deviations": deviations,
            "not_applicable": self.totals.get(str(Verdict.NOT_APPLICABLE), 0),
            "differential": [o for o in scan.others if o.get("kind") == DIFFERENTIAL_KIND],
            "differential_findings": [o for o in scan.others
                                      if o.get("kind") == DIFFERENTIAL_KIND and o.get("status") == "finding"],
            "cases": cases,
            "pages_seen": sorted(self.pages_seen),
        }

