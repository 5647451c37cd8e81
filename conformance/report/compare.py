"""Two runs compared: new failures, fixed cases, verdicts that moved, stacks whose version changed.

Each side is a records file (``results.jsonl``, a ``runs/<run>.jsonl`` stream) or a report directory (its
``results.jsonl``); records are streamed and only a short row per verdict is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conformance.report.model import CaseRow, Stream, params_text, server_of
from conformance.results import RESULTS, ResultsError
from conformance.verdicts import BAD_VERDICTS

__all__ = ["Change", "Comparison", "Snapshot", "compare", "load_snapshot", "records_path", "snapshot_from"]

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
            raise ResultsError(f"{path}: a directory without {RESULTS} (a report directory of 'conformance run' "
                               "has one); give the records file the report was built from")
        return inner
    return path


def load_snapshot(path: Path) -> Snapshot:
    """The verdicts of a records file or a report directory."""
    return snapshot_from(Stream([records_path(path)]), str(path))


def snapshot_from(stream: Stream, source: str) -> Snapshot:
    """The verdicts of ``stream`` (one pass: a later run's verdict simply overwrites an earlier one's row)."""
    snap = Snapshot(source)
    for item in stream.verdicts():
        record = item.record
        server = server_of(record)
        row = CaseRow(record.stack, record.client, server, record.case, item.params, str(record.verdict),
                      record.reason.splitlines()[0][:300] if record.reason else "", tuple(record.clauses),
                      item.anchor, bool(record.interop) and server != record.client)
        snap.rows[(record.stack, record.client, record.peer or "", record.case, item.params)] = row
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
