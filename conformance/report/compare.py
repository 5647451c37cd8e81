"""Two runs compared: new failures, fixed cases, verdicts that moved, stacks whose version changed.

Each side is a records file (``results.jsonl``, a ``runs/<run>.jsonl`` stream) or a report directory: its
``results.jsonl`` when it has one (``conformance run`` writes it), else the ``verdicts.jsonl`` digest that every report
holds (``conformance report`` writes no records file). Records are streamed and only a short row per verdict is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from conformance.report.model import CaseRow, Item, Stream, params_text, server_of
from conformance.results import RESULTS, ResultsError
from conformance.verdicts import BAD_VERDICTS

__all__ = ["DIGEST", "Change", "Comparison", "DigestWriter", "Snapshot", "compare", "load_snapshot", "records_path",
           "snapshot_from"]

DIGEST = "verdicts.jsonl"  # in every report directory: one short row per verdict, enough to compare two reports
_DIGEST_SCHEMA = 1
# A row is a JSON list in this order (a list, not an object: a third cheaper to write, and a large run has 100,000
# rows). It keeps what a comparison reads of a baseline: which verdict each case had where, and the versions; not the
# reasons or clauses, which only the newer side's rows show.
_DIGEST_FIELDS = ("stack", "client", "server", "case", "params", "verdict", "anchor", "interop", "peer", "version",
                  "peer_version")

_BAD = {str(v) for v in BAD_VERDICTS}


@dataclass
class Snapshot:
    source: str
    rows: dict[tuple[str, str, str, str, str], CaseRow] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)


@dataclass
class Change:
    old: str  # verdict before ("" when the verdict is new)
    new: str  # verdict now ("" when it was dropped)
    row: CaseRow

    @property
    def what(self) -> str:
        row = self.row
        where = f"{row.client} → {row.server}" if row.interop else row.stack
        params = f" [{params_text(row.params)}]" if row.params else ""
        return f"{row.case}{params} on {where}"


@dataclass
class Comparison:
    old: Snapshot
    new: Snapshot
    new_failures: list[Change] = field(default_factory=list)
    fixed: list[Change] = field(default_factory=list)
    moved: list[Change] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    versions: list[tuple[str, str, str]] = field(default_factory=list)  # stack, old version, new version

    @property
    def changed(self) -> bool:
        return bool(self.new_failures or self.fixed or self.moved or self.versions or self.added or self.removed)

    def lines(self) -> list[str]:
        out = [f"old: {self.old.source} ({len(self.old.rows)} verdicts)",
               f"new: {self.new.source} ({len(self.new.rows)} verdicts)"]
        if self.versions:
            out.append(f"stacks whose version changed ({len(self.versions)}):")
            out += [f"  {s}: {a or '(absent)'} -> {b or '(absent)'}" for s, a, b in self.versions]
        for title, changes in (("new failures", self.new_failures), ("fixed", self.fixed),
                               ("verdicts that moved", self.moved)):
            out.append(f"{title} ({len(changes)}):")
            out += [f"  {c.old or '(none)'} -> {c.new or '(none)'}  {c.what}" for c in changes]
        out.append(f"verdicts only in new: {self.added}; only in old: {self.removed}")
        return out


def records_path(path: Path) -> Path:
    """The records file of ``path``: itself, or a report directory's ``results.jsonl``."""
    if path.is_dir():
        inner = path / RESULTS
        if not inner.is_file():
            raise ResultsError(f"{path}: a directory without {RESULTS} or {DIGEST} (every report directory has "
                               "one of them); give a report directory or a records file")
        return inner
    return path


def load_snapshot(path: Path) -> Snapshot:
    """The verdicts of a records file or a report directory (its records, else its digest)."""
    if path.is_dir() and not (path / RESULTS).is_file() and (path / DIGEST).is_file():
        return _load_digest(path / DIGEST, str(path))
    return snapshot_from(Stream([records_path(path)]), str(path))


def _row(item: Item) -> CaseRow:
    record = item.record
    server = server_of(record)
    return CaseRow(record.stack, record.client, server, record.case, item.params, str(record.verdict),
                   record.reason.splitlines()[0][:300] if record.reason else "", tuple(record.clauses),
                   item.anchor, bool(record.interop) and server != record.client)


class _JsonStrings(dict[str, str]):
    """``json.dumps(text, ensure_ascii=False)`` of strings that recur, made once (emptied when it grows large)."""

    def __missing__(self, text: str) -> str:
        if len(self) > 50_000:
            self.clear()
        done = self[text] = json.dumps(text, ensure_ascii=False)
        return done


class DigestWriter:
    """Writes a report's ``verdicts.jsonl`` as the verdicts stream past: a header line, then one row per verdict."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self.file.write(json.dumps({"kind": "digest", "schema": _DIGEST_SCHEMA, "fields": _DIGEST_FIELDS}) + "\n")
        self._json = _JsonStrings()

    def add(self, item: Item) -> None:
        record = item.record
        server = server_of(record)
        # json.dumps(row, ensure_ascii=False) for the row in the order of _DIGEST_FIELDS (interop as in _row), with
        # each string's JSON made once: stacks, cases, parameters and versions recur on every line
        text = self._json
        self.file.write(
            f"[{text[record.stack]}, {text[record.client]}, {text[server]}, {text[record.case]}, {text[item.params]}, "
            f'{text[record.verdict.value]}, "r-{item.digest[:6].hex()}", '
            f"{'true' if record.interop and server != record.client else 'false'}, {text[record.peer or '']}, "
            f"{text[record.version]}, {text[record.peer_version or '']}]\n")

    def versions(self, stream: Stream) -> None:
        """The installed stacks' versions from the run records (a stack may have no verdict of its own)."""
        for run in stream.runs:
            for name, meta in run.stacks.items():
                if meta.get("version") and meta.get("installed", True):
                    self.file.write(json.dumps({"kind": "version", "stack": name,
                                                "version": str(meta["version"])}) + "\n")

    def close(self) -> None:
        self.file.close()


def _load_digest(path: Path, source: str) -> Snapshot:
    snap = Snapshot(source)
    fields = set(CaseRow.__dataclass_fields__)
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            try:
                data = json.loads(line)
                if number == 1:
                    if data.get("kind") != "digest" or data.get("schema") != _DIGEST_SCHEMA:
                        raise ValueError(f"not a verdict digest of schema {_DIGEST_SCHEMA}")
                    continue
                if isinstance(data, dict):  # {"kind": "version", ...}: a stack's version from the run records
                    snap.versions.setdefault(data["stack"], data["version"])
                    continue
                values = dict(zip(_DIGEST_FIELDS, data, strict=True))
                row = CaseRow(reason="", clauses=(), **{k: v for k, v in values.items() if k in fields})
                peer = values["peer"]
                snap.rows[(row.stack, row.client, peer, row.case, row.params)] = row
                snap.versions[row.stack] = values["version"]
                if peer and values["peer_version"]:
                    snap.versions[peer] = values["peer_version"]
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise ResultsError(f"{path}:{number}: not a line of a verdict digest ({exc}); make the report again "
                                   "with 'conformance report'") from None
    return snap


def snapshot_from(stream: Stream, source: str) -> Snapshot:
    """The verdicts of ``stream`` (one pass: a later run's verdict simply overwrites an earlier one's row)."""
    snap = Snapshot(source)
    for item in stream.verdicts():
        record = item.record
        snap.rows[(record.stack, record.client, record.peer or "", record.case, item.params)] = _row(item)
        snap.versions[record.stack] = record.version
        if record.peer and record.peer_version:
            snap.versions[record.peer] = record.peer_version
    for run in stream.runs:
        for name, meta in run.stacks.items():
            if meta.get("version") and meta.get("installed", True):
                snap.versions.setdefault(name, str(meta["version"]))
    return snap


def compare(old: Snapshot, new: Snapshot) -> Comparison:
    result = Comparison(old, new)
    for key, now in new.rows.items():
        before = old.rows.get(key)
        if before is None:
            result.added += 1
            if now.verdict in _BAD:
                result.new_failures.append(Change("", now.verdict, now))
            continue
        if before.verdict == now.verdict:
            continue
        change = Change(before.verdict, now.verdict, now)
        if now.verdict in _BAD and before.verdict not in _BAD:
            result.new_failures.append(change)
        elif before.verdict in _BAD and now.verdict not in _BAD:
            result.fixed.append(change)
        else:
            result.moved.append(change)
    result.removed = sum(1 for key in old.rows if key not in new.rows)
    for stack in sorted(set(old.versions) | set(new.versions)):
        a, b = old.versions.get(stack, ""), new.versions.get(stack, "")
        if a != b:
            result.versions.append((stack, a, b))
    for changes in (result.new_failures, result.fixed, result.moved):
        changes.sort(key=lambda c: (c.row.stack, c.row.case, c.row.client, c.row.server, c.row.params))
    return result
