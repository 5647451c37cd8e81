"""Streamed results: one JSON object per line in ``results.jsonl``, appended the moment a verdict exists.

Schema version 1 (documented in ``docs/results-schema.md``). A line with ``"kind": "run"`` opens a run; each
``"kind": "verdict"`` line is one (case, stack) verdict. Appends are single ``write`` calls under an exclusive
``flock``, so several pytest-xdist workers can share the file and an interrupted run keeps every line written.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "BAD_VERDICTS",
    "SCHEMA",
    "VERDICTS",
    "ResultsError",
    "append_record",
    "read_records",
]

SCHEMA = 1
VERDICTS = ("passed", "failed", "not-applicable", "expected-deviation", "unexpected-pass", "error", "hang")
BAD_VERDICTS = frozenset({"failed", "unexpected-pass", "error", "hang"})
REQUIRED = ("schema", "stack", "version", "case", "clauses", "verdict", "reason", "trace", "duration", "seed")


class ResultsError(ValueError):
    """A results file cannot be read; the message names the file and line."""


def append_record(path: Path, record: dict[str, Any]) -> None:
    line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode("utf-8")
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


def validate(record: dict[str, Any], where: str) -> None:
    if record.get("schema") != SCHEMA:
        raise ResultsError(f"{where}: schema {record.get('schema')!r} is not {SCHEMA}")
    if record.get("kind") == "run":
        return
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise ResultsError(f"{where}: missing keys {', '.join(missing)}")
    if record["verdict"] not in VERDICTS:
        raise ResultsError(f"{where}: unknown verdict {record['verdict']!r}")


def read_records(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Every record of the given files (shards of one run may be several files), validated.

    A truncated last line (the run was killed mid-write) is skipped; any other malformed line is an error.
    """
    for path in paths:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                if number == len(lines):
                    continue
                raise ResultsError(f"{path}:{number}: not JSON: {exc}") from exc
            if not isinstance(record, dict):
                raise ResultsError(f"{path}:{number}: not a JSON object")
            validate(record, f"{path}:{number}")
            yield record
