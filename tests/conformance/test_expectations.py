"""Expectations files: schema errors are clear; entries can be limited to a role, peers and parameter values."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.expectations import ExpectationsError, load_expectations


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "x.toml"
    path.write_text("schema = 1\n" + body)
    return path


def test_entries_by_case_with_limits(tmp_path: Path) -> None:
    path = _write(tmp_path, '''
[[deviation]]
case = "test_a"
reason = "r1"
evidence = "e1"
params = { size = 7 }

[[deviation]]
case = "test_a"
reason = "r2"
evidence = "e2"
verdict = "hang"
role = "client"
not_peers = ["tlslite"]
''')
    entries = load_expectations("x", path)["test_a"]
    assert [e.reason for e in entries] == ["r1", "r2"]
    sized, interop = entries
    assert sized.applies(None, None, {"size": 7, "amount": 1})
    assert not sized.applies(None, None, {"size": 512})
    assert interop.applies("client", "libssl", {}) and not interop.applies("server", "libssl", {})
    assert not interop.applies("client", "tlslite", {})
    assert interop.verdict == "hang"


@pytest.mark.parametrize(("body", "message"), [
    ('[[deviation]]\ncase = "t"\nevidence = "e"\n', "'reason' is required"),
    ('[[deviation]]\ncase = "t"\nreason = "r"\nevidence = "e"\nverdict = "passed"\n', "verdict 'passed'"),
    ('[[deviation]]\ncase = "t"\nreason = "r"\nevidence = "e"\nrole = "peer"\n', "role must be"),
    ('[[deviation]]\ncase = "t"\nreason = "r"\nevidence = "e"\nparams = 3\n', "'params' must be a table"),
])
def test_schema_errors_name_the_entry(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ExpectationsError, match=message):
        load_expectations("x", _write(tmp_path, body))


def test_missing_file_means_no_deviation(tmp_path: Path) -> None:
    assert load_expectations("x", tmp_path / "absent.toml") == {}
