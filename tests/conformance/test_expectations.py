"""Expectations files: schema errors are clear; entries can be limited to a role, peers and parameter values; each
entry is pinned to the failure observed, so a different failure of a listed case is *failed*."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.expectations import Deviation, ExpectationsError, judge, load_expectations
from conformance.verdicts import Verdict


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "x.toml"
    path.write_text("schema = 1\n" + body)
    return path


def test_entries_by_case_with_limits(tmp_path: Path) -> None:
    path = _write(tmp_path, '''
[[deviation]]
case = "test_a"
observed = "x"
reason = "r1"
evidence = "e1"
params = { size = 7 }

[[deviation]]
case = "test_a"
observed = ["y", "z"]
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
    assert sized.observed == ("x",) and interop.observed == ("y", "z")


@pytest.mark.parametrize(("body", "message"), [
    ('[[deviation]]\ncase = "t"\nobserved = "o"\nevidence = "e"\n', "'reason' is required"),
    ('[[deviation]]\ncase = "t"\nobserved = "o"\nreason = "r"\nevidence = "e"\nverdict = "passed"\n',
     "verdict 'passed'"),
    ('[[deviation]]\ncase = "t"\nobserved = "o"\nreason = "r"\nevidence = "e"\nrole = "peer"\n', "role must be"),
    ('[[deviation]]\ncase = "t"\nobserved = "o"\nreason = "r"\nevidence = "e"\nparams = 3\n',
     "'params' must be a table"),
    ('[[deviation]]\ncase = "t"\nreason = "r"\nevidence = "e"\n', "'observed' is required"),
    ('[[deviation]]\ncase = "t"\nobserved = []\nreason = "r"\nevidence = "e"\n', "'observed' is required"),
    ('[[deviation]]\ncase = "t"\nobserved = "o"\nreason = "r"\nevidence = "e"\ncause = "them"\n', "cause must be"),
    ('[[deviation]]\ncase = "t"\nobserved = "o"\nreason = "r"\nevidence = "e"\ncause = "peer"\n', "needs peers"),
])
def test_schema_errors_name_the_entry(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ExpectationsError, match=message):
        load_expectations("x", _write(tmp_path, body))


def test_a_peer_caused_deviation_is_recorded_by_the_observer(tmp_path: Path) -> None:
    """The observing stack's file holds a deviation its peer causes, limited to that peer; the verdict says whose."""
    entry = load_expectations("observer", _write(tmp_path, '''
[[deviation]]
case = "t"
observed = "x"
reason = "the peer never answers"
evidence = "e"
peers = ["culprit"]
cause = "peer"
'''))["t"][0]
    assert entry.applies("client", "culprit", {}) and not entry.applies("client", "libssl", {})
    verdict, reason = judge(entry, Verdict.FAILED, "x")
    assert verdict is Verdict.EXPECTED_DEVIATION and reason.startswith("observer (caused by its peer):")


def test_missing_file_means_no_deviation(tmp_path: Path) -> None:
    assert load_expectations("x", tmp_path / "absent.toml") == {}


def _entry(tmp_path: Path, observed: str) -> Deviation:
    body = f'[[deviation]]\ncase = "t"\nobserved = {observed}\nreason = "r"\nevidence = "e"\n'
    return load_expectations("x", _write(tmp_path, body))["t"][0]


def test_only_the_pinned_failure_is_an_expected_deviation(tmp_path: Path) -> None:
    entry = _entry(tmp_path, "'''SSL_read(10) -> -1,\nSSL_get_error -> SSL_ERROR_SYSCALL'''")
    seen = "the read must be 0: SSL_read(10) -> -1, SSL_get_error ->   SSL_ERROR_SYSCALL [errno 0]\nassert ..."
    assert judge(entry, Verdict.FAILED, seen)[0] is Verdict.EXPECTED_DEVIATION
    other = "the read must be 0: SSL_read(10) -> -1, SSL_get_error -> SSL_ERROR_SSL"
    verdict, reason = judge(entry, Verdict.FAILED, other)
    assert verdict is Verdict.FAILED
    assert "not the failure pinned" in reason and "SSL_ERROR_SYSCALL" in reason
    assert judge(entry, Verdict.HANG, seen)[0] is Verdict.HANG
    assert judge(entry, Verdict.ERROR, "TypeError: x")[0] is Verdict.ERROR
    assert judge(entry, Verdict.PASSED, "")[0] is Verdict.UNEXPECTED_PASS
    assert judge(entry, Verdict.NOT_APPLICABLE, "no peek")[0] is Verdict.NOT_APPLICABLE


def test_every_piece_of_a_list_must_be_seen(tmp_path: Path) -> None:
    entry = _entry(tmp_path, '["SSL_ERROR_SSL", "unexpected message"]')
    assert judge(entry, Verdict.FAILED, "x SSL_ERROR_SSL [unexpected message]")[0] is Verdict.EXPECTED_DEVIATION
    assert judge(entry, Verdict.FAILED, "x SSL_ERROR_SSL [bad record mac]")[0] is Verdict.FAILED


PINNED_STACK = '''
from pathlib import Path

from conformance.stacks.stdlib import StdlibStack


class Pinned(StdlibStack):
    """stdlib with an expectations file of the test's choosing."""
    name = "stdlib-pinned"
    expectations_path = Path(__file__).parent / "pinned.toml"
'''

LISTED_CASE = '''
import pytest

from conformance.outcome import SslError


@pytest.mark.clauses("SSL_read/RETURN VALUES/<=0")
def test_listed(h):
    pair = h.pair()
    pair.handshake()
    out = pair.call(pair.server, lambda e: e.read(10))
    assert out.error is SslError.SSL_ERROR_ZERO_RETURN, f"deliberately wrong expectation: {out}"
'''

ENTRY = '''schema = 1
[[deviation]]
case = "test_listed"
clauses = ["SSL_read/RETURN VALUES/<=0"]
observed = "{observed}"
reason = "r"
evidence = "e"
'''


@pytest.mark.parametrize(("observed", "verdict"), [
    ("SSL_get_error -> SSL_ERROR_SYSCALL", "failed"),
    ("SSL_read_ex(10) -> -1, SSL_get_error -> SSL_ERROR_WANT_READ", "expected-deviation"),
])
def test_a_different_failure_of_a_listed_case_is_failed(pytester: pytest.Pytester, tmp_path: Path, observed: str,
                                                         verdict: str) -> None:
    """An entry pinned to 'SSL_ERROR_SYSCALL' does not absorb the case's real failure (WANT_READ): *failed*, with
    both named in the reason. Pinned to what the case really reports, it is an expected deviation."""
    pytester.syspathinsert()
    pytester.makepyfile(pinnedstack=PINNED_STACK, test_inner=LISTED_CASE)
    pytester.makefile(".toml", pinned=ENTRY.format(observed=observed))
    report = tmp_path / "r"
    pytester.runpytest_inprocess("--stack", "pinnedstack:Pinned", "--conformance-report", str(report),
                                 "-p", "no:cacheprovider")
    records = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines()]
    (record,) = [r for r in records if r.get("kind") == "verdict"]
    assert record["verdict"] == verdict, record["reason"]
    assert "SSL_ERROR_WANT_READ" in record["observed"]
    assert record["expectation"]["clauses"] == ["SSL_read/RETURN VALUES/<=0"], "the entry's clauses reach the record"
    if verdict == "failed":
        assert "not the failure pinned" in record["reason"] and "SSL_ERROR_SYSCALL" in record["reason"]


def test_a_file_is_parsed_once_per_version_and_an_edit_is_seen(tmp_path: Path) -> None:
    """Parsed once while the file is unchanged (every verdict looks entries up); an edit, even one that keeps the
    size, is read at the next look-up; what a caller does to the result does not reach the next caller."""
    entry = '[[deviation]]\ncase = "test_{}"\nobserved = "x"\nreason = "r"\nevidence = "e"\n'
    path = _write(tmp_path, entry.format("a"))
    first = load_expectations("x", path)
    first["test_a"].clear()
    first["test_b"] = []
    assert set(load_expectations("x", path)) == {"test_a"} and len(load_expectations("x", path)["test_a"]) == 1
    replaced = tmp_path / "new.toml"
    replaced.write_text("schema = 1\n" + entry.format("c"))
    replaced.replace(path)  # same size, another file (inode) in its place
    assert set(load_expectations("x", path)) == {"test_c"}
    path.write_text(path.read_text() + entry.format("d"))
    assert set(load_expectations("x", path)) == {"test_c", "test_d"}
    path.unlink()
    assert load_expectations("x", path) == {}
