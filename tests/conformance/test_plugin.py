"""The pytest plugin, run with pytester: verdicts, records, expectations, deadlocks, a deliberately wrong adapter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import specs
from conformance.results import load_results

CASES_DIR = Path(specs.__file__).parent / "cases"

FAKE_STACKS = '''
from pathlib import Path

from conformance.outcome import Outcome, SslError
from conformance.stacks.base import Endpoint, EndpointConfig, StackAdapter
from conformance.stacks.stdlib import StdlibEndpoint, StdlibStack


class WithExpectations(StdlibStack):
    """stdlib under another name, with an expectations file of its own."""
    name = "stdlib-expect"
    expectations_path = Path(__file__).parent / "expect.toml"


class SwappingEndpoint(StdlibEndpoint):
    def _run(self, op, args, fn):
        out = super()._run(op, args, fn)
        if out.error is SslError.SSL_ERROR_WANT_READ:
            return Outcome(out.op, out.ret, SslError.SSL_ERROR_WANT_WRITE, out.data, out.reason, out.args)
        return out


class WrongStack(StdlibStack):
    """Reports WANT_WRITE where the library said WANT_READ: the cases must catch it."""
    name = "wrong"

    def endpoint(self, config, label):
        return SwappingEndpoint(config, label)


class StuckEndpoint(Endpoint):
    """Never progresses: every call wants to read, nothing is ever written."""
    def __init__(self, config, label):
        self.role = config.role
        self.label = label

    def do_handshake(self):
        return Outcome("SSL_do_handshake", -1, SslError.SSL_ERROR_WANT_READ)

    def read(self, size):
        return Outcome("SSL_read", -1, SslError.SSL_ERROR_WANT_READ)

    def write(self, data):
        return Outcome("SSL_write", -1, SslError.SSL_ERROR_WANT_READ)

    def shutdown(self):
        return Outcome("SSL_shutdown", -1, SslError.SSL_ERROR_WANT_READ)

    def take_outgoing(self, limit=None):
        return b""

    def outgoing_pending(self):
        return 0

    def put_incoming(self, data):
        return len(data)

    def put_eof(self):
        pass


class StuckStack(StackAdapter):
    name = "stuck"
    library = "nothing"
    capabilities = frozenset({"client_role", "server_role", "error_codes"})

    def version(self):
        return "stuck 0"

    def endpoint(self, config, label):
        return StuckEndpoint(config, label)
'''

CASES = '''
import pytest


@pytest.mark.clauses("SSL_read/RETURN VALUES/>0")
def test_pass(h):
    pair = h.pair()
    pair.handshake()
    pair.send(b"hi")


@pytest.mark.clauses("SSL_read/RETURN VALUES/>0")
def test_fail(h):
    assert 1 == 2, "deliberate failure"


@pytest.mark.needs("raw_return_values")
def test_not_applicable(h):
    raise AssertionError("must not run")


def test_error(h):
    raise RuntimeError("the harness broke")


def test_hang(h):
    pair = h.pair()
    pair.drive(server=lambda e: e.read(10))
'''


def _records(directory: Path) -> list[dict[str, Any]]:
    lines = (directory / "results.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _verdicts(directory: Path) -> dict[str, str]:
    return {r["case"]: r["verdict"] for r in _records(directory) if r["kind"] == "verdict"}


def test_every_verdict_kind_is_recorded(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_inner=CASES)
    report = tmp_path / "report"
    result = pytester.runpytest_inprocess("--stack", "stdlib", "--conformance-report", str(report),
                                          "-p", "no:cacheprovider", "--conformance-seed", "7")
    verdicts = _verdicts(report)
    assert verdicts == {"test_pass": "passed", "test_fail": "failed", "test_not_applicable": "not-applicable",
                        "test_error": "error", "test_hang": "hang"}
    result.assert_outcomes(passed=1, failed=3, skipped=1)
    records = _records(report)
    assert records[0]["kind"] == "run" and records[0]["seed"] == 7
    assert records[1]["kind"] == "plan" and records[1]["planned"] == 5
    for record in records[2:]:
        for key in ("schema", "stack", "version", "case", "clauses", "verdict", "reason", "trace", "duration",
                    "seed", "client"):
            assert key in record, key
        assert record["stack"] == "stdlib" and "OpenSSL" in record["version"]
    by_case = {r["case"]: r for r in records[2:]}
    assert by_case["test_pass"]["clauses"] == ["SSL_read/RETURN VALUES/>0"]
    assert any("SSL_do_handshake" in line for line in by_case["test_pass"]["trace"])
    assert "raw_return_values" in by_case["test_not_applicable"]["reason"]
    assert "deadlock" in by_case["test_hang"]["reason"]
    assert any("deadlock" in line for line in by_case["test_hang"]["trace"])
    assert "RuntimeError" in by_case["test_error"]["reason"]
    assert (report / "index.html").exists() and (report / "junit.xml").exists()


def test_deadlock_with_an_endpoint_that_never_progresses(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.syspathinsert()
    pytester.makepyfile(fakestacks=FAKE_STACKS)
    pytester.makepyfile(test_inner='''
def test_handshake(h):
    h.pair().handshake()
''')
    report = tmp_path / "r"
    pytester.runpytest_inprocess("--stack", "fakestacks:StuckStack", "--conformance-report", str(report),
                                 "-p", "no:cacheprovider")
    (record,) = [r for r in _records(report) if r["kind"] == "verdict"]
    assert record["verdict"] == "hang"
    assert record["stack"] == "stuck"
    assert "nothing can move" in record["reason"]


def test_expectations_give_expected_deviation_and_unexpected_pass(pytester: pytest.Pytester, tmp_path: Path
                                                                  ) -> None:
    pytester.syspathinsert()
    pytester.makepyfile(fakestacks=FAKE_STACKS)
    pytester.makefile(".toml", expect='''
schema = 1

[[deviation]]
case = "test_fail"
observed = "deliberate failure"
reason = "it always fails"
evidence = "see the deliberate assertion"

[[deviation]]
case = "test_pass"
observed = "handshake did not complete"
reason = "was broken once"
evidence = "now fixed"
''')
    pytester.makepyfile(test_inner=CASES)
    report = tmp_path / "r"
    result = pytester.runpytest_inprocess("--stack", "fakestacks:WithExpectations", "--conformance-report",
                                          str(report), "-p", "no:cacheprovider", "-k", "pass or fail")
    verdicts = _verdicts(report)
    assert verdicts == {"test_pass": "unexpected-pass", "test_fail": "expected-deviation"}
    result.assert_outcomes(failed=1, xfailed=1)


def test_wrong_adapter_is_caught_by_the_cases(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """An adapter that reports WANT_WRITE for WANT_READ fails the WANT_READ cases."""
    pytester.syspathinsert()
    pytester.makepyfile(fakestacks=FAKE_STACKS)
    report = tmp_path / "r"
    pytester.runpytest_inprocess(str(CASES_DIR), "--stack", "fakestacks:WrongStack", "--conformance-report",
                                 str(report), "-p", "no:cacheprovider", "-k", "wants_read")
    verdicts = _verdicts(report)
    assert verdicts, "no case ran"
    assert verdicts["test_read_wants_read_with_nothing_to_read"] == "failed"
    assert verdicts["test_handshake_wants_read_with_nothing_to_read"] == "failed"


def test_unknown_stack_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=CASES)
    result = pytester.runpytest_inprocess("--stack", "no-such-stack", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no stack named 'no-such-stack'*"])


def test_page_selection_keeps_only_that_page(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_inner=CASES)
    result = pytester.runpytest_inprocess("--stack", "stdlib", "--page", "SSL_read", "-p", "no:cacheprovider",
                                          "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*test_pass*", "*test_fail*"])
    assert "test_error" not in result.stdout.str()


def test_plain_tests_are_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(("statement", "raised", "seen"), [
    ("assert hello[5] == 1", "IndexError", "hello=b''"),
    ("assert certificate[0] == 0x30", "TypeError", "certificate=None"),
    ("assert certificate.decode()", "AttributeError", "certificate=None"),
])
def test_a_case_that_cannot_read_odd_output_reports_failed(pytester: pytest.Pytester, tmp_path: Path,
                                                           statement: str, raised: str, seen: str) -> None:
    """A case that reads output the stack never produced (indexes a ClientHello that never came, reads a NULL as a
    value) in its own code is *failed*, with the statement and the values it saw; the same error inside the
    harness or an adapter stays *error*."""
    cases_dir = pytester.mkdir("specs").joinpath("cases")
    cases_dir.mkdir()
    cases_dir.joinpath("test_odd.py").write_text(f'''
import pytest


@pytest.mark.clauses("SSL_read/RETURN VALUES/>0")
def test_reads_a_hello_that_never_came(h):
    pair = h.pair()
    hello = pair.client.take_outgoing()
    certificate = None
    {statement}
''')
    report = tmp_path / "r"
    pytester.runpytest_inprocess(str(cases_dir / "test_odd.py"), "--stack", "stdlib", "--conformance-report",
                                 str(report), "-p", "no:cacheprovider")
    records = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines()]
    (record,) = [r for r in records if r.get("kind") == "verdict"]
    assert record["verdict"] == "failed", record["reason"]
    assert f"could not read what the stack produced: {raised}" in record["reason"]
    assert f"test_odd.py:10: {statement}" in record["reason"], record["reason"]
    assert seen in record["reason"], record["reason"]


def test_a_case_not_applicable_during_its_call_is_skipped_even_when_its_stack_lists_it(
        pytester: pytest.Pytester, tmp_path: Path) -> None:
    # An expectations entry names the case (for other parameters, say); the parameter that finds a missing function
    # only during the call is not applicable; pytest must not count it as failed (a green run once ended "1 failed").
    pytester.syspathinsert()
    pytester.makepyfile(fakestacks=FAKE_STACKS)
    pytester.makefile(".toml", expect='''
schema = 1

[[deviation]]
case = "test_missing_in_call"
observed = "deliberate failure"
reason = "fails for the other parameter"
evidence = "see the deliberate assertion"
''')
    pytester.makepyfile(test_inner='''
import pytest

from conformance.stacks.base import Unsupported


@pytest.mark.clauses("SSL_read/RETURN VALUES/>0")
@pytest.mark.parametrize("which", ["present", "absent"])
def test_missing_in_call(h, which):
    if which == "absent":  # as a missing symbol or a refused configuration is found: an exception, not a skip
        raise Unsupported("the library does not export SSL_read_ex")
    assert 1 == 2, "deliberate failure"
''')
    report = tmp_path / "r"
    result = pytester.runpytest_inprocess("--stack", "fakestacks:WithExpectations", "--conformance-report",
                                          str(report), "-p", "no:cacheprovider")
    verdicts = [r["verdict"] for r in _records(report) if r["kind"] == "verdict"]
    assert sorted(verdicts) == ["expected-deviation", "not-applicable"], verdicts
    result.assert_outcomes(xfailed=1, skipped=1)
    assert result.ret == pytest.ExitCode.OK


def test_a_case_bug_that_is_no_odd_output_stays_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """A TypeError that is no NULL read as a value (a bug of the case itself) is the harness's *error*."""
    cases_dir = pytester.mkdir("specs").joinpath("cases")
    cases_dir.mkdir()
    cases_dir.joinpath("test_bug.py").write_text('''
import pytest


@pytest.mark.clauses("SSL_read/RETURN VALUES/>0")
def test_miscounts(h):
    assert len(5) == 1
''')
    report = tmp_path / "r"
    pytester.runpytest_inprocess(str(cases_dir / "test_bug.py"), "--stack", "stdlib", "--conformance-report",
                                 str(report), "-p", "no:cacheprovider")
    records = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines()]
    (record,) = [r for r in records if r.get("kind") == "verdict"]
    assert record["verdict"] == "error", record["reason"]


def test_a_case_module_that_cannot_be_collected_makes_the_run_incomplete(pytester: pytest.Pytester,
                                                                         tmp_path: Path) -> None:
    """A case module that fails to import holds cases no plan can list; with ``--continue-on-collection-errors``
    (as pytest-xdist workers behave) the other cases run, and the run must still say it is incomplete and why (a
    broken import once left a ``-k`` run "complete: N of N")."""
    cases_dir = pytester.mkdir("specs").joinpath("cases")
    cases_dir.mkdir()
    cases_dir.joinpath("test_fine.py").write_text('''
import pytest


@pytest.mark.clauses("SSL_read/RETURN VALUES/>0")
def test_fine(h):
    pass
''')
    cases_dir.joinpath("test_broken.py").write_text("import specs.cases._no_such_helper\n")
    report = tmp_path / "r"
    pytester.runpytest_inprocess(str(cases_dir), "--stack", "stdlib", "--conformance-report", str(report),
                                 "-p", "no:cacheprovider", "--continue-on-collection-errors")
    results = load_results([report / "results.jsonl"])
    assert [v.verdict for v in results.verdicts] == ["passed"]
    assert not results.complete and not results.ok
    line = results.completeness()
    assert line.startswith("incomplete: 1 case module(s) could not be collected"), line
    assert "test_broken.py" in line and "ModuleNotFoundError" in line, line
    assert "could not be collected" in (report / "index.html").read_text()
    junit = (report / "junit.xml").read_text()
    assert 'classname="uncollected"' in junit and "ModuleNotFoundError" in junit
