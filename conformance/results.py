"""Streamed results: one JSON record per line, appended the moment it exists; and the report directory's files.

Schema 2 (``docs/results-schema.md``; schema 1 files are still read). Appends are single ``write`` calls under an
exclusive ``flock``, so several processes (pytest-xdist workers, the isolated child running a case, the parent
recording that child's crash) share one file and an interrupted run keeps every line written.

The report directory (:class:`ReportDir`) keeps every run's stream under ``runs/<run id>.jsonl``; only when a run
ends with something to report is its stream published as ``results.jsonl`` (written to a temporary name, then
renamed), and only then are old streams rotated away, never the newest complete one. A run that recorded nothing
leaves the directory as it found it.

Reading (:func:`load_results`) checks every record's fields, refuses a file given twice or two different verdicts
for the same (stack, client, peer, case, params) in one run, lets a later run's verdict replace an earlier run's
(with a note saying so), and compares what was recorded with what was planned: a run that did not record every
verdict it planned is *incomplete*.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from conformance.verdicts import (
    BAD_VERDICTS,
    SCHEMA,
    DifferentialRecord,
    PlanRecord,
    RecordError,
    RunRecord,
    VerdictRecord,
    parse_record,
)

__all__ = [
    "BAD_VERDICTS",
    "RESULTS",
    "SCHEMA",
    "ReportDir",
    "Results",
    "ResultsError",
    "append_record",
    "load_results",
    "merge_records",
    "read_records",
    "write_atomically",
]

RESULTS = "results.jsonl"
Record = RunRecord | PlanRecord | VerdictRecord | DifferentialRecord


class ResultsError(ValueError):
    """A results file cannot be used; the message names the file (and line) and what to do."""


def append_record(path: Path, record: Record | dict[str, Any]) -> None:
    data = record if isinstance(record, dict) else record.to_json()
    line = (json.dumps(data, sort_keys=True, default=str) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            os.write(fd, line)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """``path`` holds either its old contents or ``data``, never a part: write a temporary file beside it, then
    rename it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """``(number, text, is_last)`` for each line of ``path``, read as a stream (never the whole file at once)."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file; give the results.jsonl of a run") from None
    except IsADirectoryError:
        raise ResultsError(f"{path}: is a directory; give its results.jsonl") from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot be read: {exc.strerror}") from None
    with fh:
        _check_utf8(path, fh)  # the whole file first: a binary file is one message, not a record error
        fh.seek(0)
        number = 0
        try:
            previous: bytes | None = None
            for raw in fh:  # one line behind, to know which line is the last
                if previous is not None:
                    number += 1
                    yield number, previous.decode("utf-8"), False
                previous = raw
            if previous is not None:
                yield number + 1, previous.decode("utf-8"), True
        except IsADirectoryError:
            raise ResultsError(f"{path}: is a directory; give its results.jsonl") from None


def _check_utf8(path: Path, fh: BinaryIO) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        chunk = fh.read(1 << 20)
    except IsADirectoryError:
        raise ResultsError(f"{path}: is a directory; give its results.jsonl") from None
    while True:
        pending = len(decoder.getstate()[0])  # bytes of a character split across chunks
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            position = offset - pending + exc.start
            fh.seek(position)
            byte = fh.read(1)[0]
            raise ResultsError(f"{path}: not UTF-8 text (byte {byte:#04x} at offset {position}); "
                               "is it a results.jsonl written by a run?") from None
        if not chunk:
            return
        offset += len(chunk)
        chunk = fh.read(1 << 20)


def read_records(paths: Iterable[Path]) -> Iterator[Record]:
    """Every record of the given files, checked field by field, read line by line.

    A truncated last line (the run was killed mid-write) is skipped; any other malformed line is an error.
    """
    for path in paths:
        for number, line, last in _lines(path):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                if last:
                    continue
                raise ResultsError(f"{path}:{number}: not JSON: {exc}") from None
            try:
                yield parse_record(data)
            except RecordError as exc:
                raise ResultsError(f"{path}:{number}: {exc}") from None


@dataclass
class Results:
    """The records of one or more files, merged, with what the plan says is missing."""

    runs: list[RunRecord] = field(default_factory=list)
    verdicts: list[VerdictRecord] = field(default_factory=list)
    planned: set[str] | None = None  # node ids of the planned verdicts; None: no plan recorded (schema 1)
    missing: list[str] = field(default_factory=list)  # planned node ids without a verdict
    uncollected: list[str] = field(default_factory=list)  # case modules a process could not collect ("path: error")
    notes: list[str] = field(default_factory=list)  # what merging did (duplicates dropped, verdicts replaced)
    differential: list[DifferentialRecord] = field(default_factory=list)  # conformance differential's records

    @property
    def expected(self) -> int | None:
        return None if self.planned is None else len(self.planned)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.uncollected

    @property
    def bad(self) -> list[VerdictRecord]:
        return [v for v in self.verdicts if v.verdict in BAD_VERDICTS]

    @property
    def ok(self) -> bool:
        return self.complete and not self.bad and bool(self.verdicts)

    def completeness(self) -> str:
        """One line: "complete: N of N", "incomplete: N of M (...)" or "plan unknown"."""
        if self.planned is None:
            return f"{len(self.verdicts)} verdicts; plan unknown (records without a plan)"
        return completeness_line(len(self.planned), self.missing, self.uncollected)


def completeness_line(planned: int, missing: list[str], uncollected: list[str]) -> str:
    """"complete: N of N planned verdicts", or "incomplete: ..." naming what is missing and, first, any case module
    that could not be collected (its cases were never planned, so only this line shows they did not run)."""
    recorded = planned - len(missing)
    if not missing and not uncollected:
        return f"complete: {recorded} of {planned} planned verdicts"
    parts = []
    if uncollected:
        parts.append(f"{len(uncollected)} case module(s) could not be collected, so none of their cases ran: "
                     + "; ".join(uncollected[:3]) + (f" and {len(uncollected) - 3} more" if len(uncollected) > 3
                                                     else ""))
    parts.append(f"{recorded} of {planned} planned verdicts recorded")
    if missing:
        parts.append("missing: " + ", ".join(missing[:5])
                     + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
    return "incomplete: " + "; ".join(parts)


def load_results(paths: list[Path]) -> Results:
    """The merged records of ``paths`` (shards of one run, or several runs: a later run's verdict for the same
    stack, client, peer, case and parameters replaces an earlier run's)."""
    seen: dict[Path, Path] = {}
    for path in paths:
        resolved = path.resolve()
        if resolved in seen:
            raise ResultsError(f"{path}: given twice (also as {seen[resolved]}); give each results file once")
        seen[resolved] = path
    return merge_records(read_records(paths))


def merge_records(records: Iterable[Record | dict[str, Any]]) -> Results:
    """Records (typed, or JSON objects checked here) merged as :func:`load_results` describes."""
    results = Results()
    plans: dict[str, set[str]] = {}
    by_key: dict[tuple[str, ...], VerdictRecord] = {}
    duplicates = 0
    replaced: dict[tuple[str, str], int] = {}
    for item in records:
        try:
            record = parse_record(item) if isinstance(item, dict) else item
        except RecordError as exc:
            raise ResultsError(str(exc)) from None
        if isinstance(record, RunRecord):
            results.runs.append(record)
        elif isinstance(record, DifferentialRecord):
            results.differential.append(record)
        elif isinstance(record, PlanRecord):
            plans.setdefault(record.run, set()).update(record.nodeids)
            results.uncollected.extend(u for u in record.uncollected if u not in results.uncollected)
        else:
            key = record.key
            earlier = by_key.get(key)
            if earlier is None:
                by_key[key] = record
            elif earlier.run == record.run:
                if earlier.to_json() != record.to_json() and earlier.verdict != record.verdict:
                    raise ResultsError(
                        f"run {record.run or '?'} has two different verdicts for {record.case} on {record.stack} "
                        f"({earlier.verdict} and {record.verdict}): the records are mixed up; give each run's "
                        "results once")
                duplicates += 1
            else:
                by_key[key] = record
                replaced[(earlier.run, record.run)] = replaced.get((earlier.run, record.run), 0) + 1
    results.verdicts = list(by_key.values())
    if duplicates:
        results.notes.append(f"{duplicates} duplicate verdict record(s) dropped (same run, same case and stack)")
    for (old, new), count in replaced.items():
        results.notes.append(f"{count} verdict(s) of run {old or '?'} replaced by the later run {new or '?'}")
    if plans:
        results.planned = set().union(*plans.values())
        recorded = {v.nodeid for v in results.verdicts}
        results.missing = sorted(results.planned - recorded)
    return results


class ReportDir:
    """A report directory: ``runs/<run id>.jsonl`` (each run's stream), ``results.jsonl`` (the latest run's
    records) and the reports built from them."""

    KEEP_RUNS = 10

    def __init__(self, path: Path) -> None:
        self.path = path
        self.runs = path / "runs"

    def stream(self, run_id: str) -> Path:
        return self.runs / f"{run_id}.jsonl"

    @property
    def results(self) -> Path:
        return self.path / RESULTS

    def check_writable(self) -> str | None:
        """``None``, or one line saying why reports cannot be written here."""
        probe = self.path
        while not probe.exists():
            if probe.parent == probe:
                break
            probe = probe.parent
        if probe.exists() and not probe.is_dir():
            return f"report directory {self.path}: {probe} is a file, not a directory; choose another --report"
        if not os.access(probe, os.W_OK | os.X_OK):
            return f"report directory {self.path}: {probe} is not writable; choose another --report"
        for name in (RESULTS, "index.html", "summary.json", "junit.xml", "runs"):
            existing = self.path / name
            if existing.exists() and (existing.is_dir() != (name == "runs")):
                return f"report directory {self.path}: {existing} is in the way; move it or choose another --report"
        return None

    def discard_stream(self, run_id: str) -> None:
        """Remove a run's stream that recorded nothing, and the directories made for it if they are empty."""
        with contextlib.suppress(FileNotFoundError):
            self.stream(run_id).unlink()
        for directory in (self.runs, self.path):
            with contextlib.suppress(OSError):
                directory.rmdir()  # only succeeds when empty

    def publish(self, run_id: str) -> None:
        """Make the run's stream the directory's ``results.jsonl``, then rotate old streams."""
        write_atomically(self.results, self.stream(run_id).read_bytes())
        self.rotate(keep=run_id)

    def rotate(self, keep: str) -> None:
        """Keep the ``KEEP_RUNS`` newest streams, and beyond them the newest complete one; never ``keep``."""
        streams = sorted(self.runs.glob("*.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True)
        newest_complete: Path | None = None
        for stream in streams:
            try:
                loaded = load_results([stream])
            except ResultsError:
                continue
            if loaded.planned is not None and loaded.complete and loaded.verdicts:
                newest_complete = stream
                break
        for stream in streams[self.KEEP_RUNS:]:
            if stream.stem != keep and stream != newest_complete:
                with contextlib.suppress(OSError):
                    stream.unlink()

