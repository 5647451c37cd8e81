"""The pytest plugin: parametrises the cases over stacks, turns outcomes into verdicts, streams the records.

Registered through the ``pytest11`` entry point, so it is active in every pytest run of an environment where the
suite is installed; it only acts on tests that take the ``h`` fixture (the conformance cases).

Verdicts (see ``docs/results-schema.md``): *passed*; *failed* (an assertion about the stack's behaviour did not
hold); *not-applicable* (a needed capability is missing, with the reason); *expected-deviation* / *unexpected-pass*
(the stack's expectations file lists the case); *error* (the harness or the stack broke: an exception other than a
failed assertion); *hang* (the pump proved a deadlock or the round budget ran out).
"""

from __future__ import annotations

import os
import random
import time
import traceback
import zlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.outcomes import Skipped

from conformance.catalogue import load_catalogue
from conformance.expectations import Deviation, load_expectations
from conformance.harness import Harness, NotApplicable
from conformance.pump import Deadlock
from conformance.results import SCHEMA, append_record
from conformance.stacks import StackAdapter, StackUnavailable, discover, load_stack
from conformance.stacks.base import Unsupported

__all__ = ["CaseInfo"]

SEED_ENV = "CONFORMANCE_RUN_SEED"
RUN_ENV = "CONFORMANCE_RUN_ID"
RESULTS = "results.jsonl"

_info_key = pytest.StashKey["CaseInfo"]()


class CaseInfo:
    def __init__(self) -> None:
        self.harness: Harness | None = None
        self.recorded = False
        self.started = time.time()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "SSL/BIO conformance suite")
    group.addoption("--stack", action="append", default=[], metavar="NAME",
                    help="run the cases on this stack (repeatable; default: every installed stack)")
    group.addoption("--page", action="append", default=[], metavar="PAGE",
                    help="only the cases that check a clause of this man page, e.g. SSL_read (repeatable)")
    group.addoption("--conformance-report", default=None, metavar="DIR",
                    help="stream verdict records to DIR/results.jsonl and write DIR/index.html at the end")
    group.addoption("--conformance-seed", type=int, default=None, metavar="N",
                    help="seed of the run (default: random, recorded in every verdict record)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clauses(*ids): the catalogue clauses a conformance case checks")
    config.addinivalue_line("markers", "needs(*capabilities): adapter capabilities a conformance case requires")
    config.addinivalue_line("markers", "interop: a case run on every (client stack, server stack) pair")
    worker = hasattr(config, "workerinput")
    if config.getoption("--stack"):
        _selected_stacks(config)  # an unknown or unusable stack is a usage error before anything runs
    pages: list[str] = config.getoption("--page")
    if pages:
        known = load_catalogue().pages
        unknown = [p for p in pages if p not in known]
        if unknown:
            raise pytest.UsageError(
                f"unknown page(s) {', '.join(unknown)}; known pages: {', '.join(sorted(known)) or 'none'}")
    seed = config.getoption("--conformance-seed")
    if seed is None:
        seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(1 << 31))
    os.environ[SEED_ENV] = str(seed)  # inherited by pytest-xdist workers started after this
    os.environ.setdefault(RUN_ENV, f"{time.strftime('%Y%m%dT%H%M%S')}-{seed}")
    config.stash[_seed_key] = seed
    report = config.getoption("--conformance-report")
    if report and not worker:
        directory = Path(report)
        directory.mkdir(parents=True, exist_ok=True)
        results = directory / RESULTS
        if results.exists():
            results.replace(directory / (RESULTS + ".previous"))
        append_record(results, {
            "schema": SCHEMA, "kind": "run", "run": os.environ[RUN_ENV], "seed": seed, "started": time.time(),
            "stacks": {name: {"version": info.adapter.version() if info.adapter else None,
                              "installed": info.installed, "problem": info.problem}
                       for name, info in discover().items()},
            "selected_stacks": config.getoption("--stack"), "pages": config.getoption("--page"),
        })


_seed_key = pytest.StashKey[int]()
_stacks_key = pytest.StashKey[list[StackAdapter]]()


def _selected_stacks(config: pytest.Config) -> list[StackAdapter]:
    if _stacks_key in config.stash:
        return config.stash[_stacks_key]
    names: list[str] = config.getoption("--stack")
    if names:
        try:
            stacks = [load_stack(n) for n in dict.fromkeys(names)]
        except StackUnavailable as exc:
            raise pytest.UsageError(str(exc)) from exc
    else:
        stacks = [info.adapter for info in discover().values() if info.installed and info.adapter]
    config.stash[_stacks_key] = stacks
    return stacks


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "h" not in metafunc.fixturenames:
        return
    stacks = _selected_stacks(metafunc.config)
    if metafunc.definition.get_closest_marker("interop"):
        pairs = [(c, s) for c in stacks for s in stacks]
        metafunc.parametrize("_conformance_stacks", pairs, ids=[f"{c.name}->{s.name}" for c, s in pairs],
                             indirect=False)
    else:
        metafunc.parametrize("_conformance_stacks", [(s, None) for s in stacks], ids=[s.name for s in stacks])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    pages: list[str] = config.getoption("--page")
    if not pages:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("clauses")
        ids = marker.args if marker else ()
        (keep if any(str(i).split("/", 1)[0] in pages for i in ids) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def h(request: pytest.FixtureRequest, _conformance_stacks: tuple[StackAdapter, StackAdapter | None]
      ) -> Iterator[Harness]:
    """The harness of one conformance case on one stack (or one client/server pair of stacks)."""
    first, second = _conformance_stacks
    node_seed = zlib.crc32(request.node.nodeid.encode()) ^ request.config.stash[_seed_key]
    if second is None:
        harness = Harness(first, seed=node_seed)
    else:
        harness = Harness(first, client_stack=first, server_stack=second, seed=node_seed)
    request.node.stash.setdefault(_info_key, CaseInfo()).harness = harness
    for marker in request.node.iter_markers("needs"):  # module-level and function-level marks add up
        harness.need(*marker.args)
    try:
        yield harness
    finally:
        harness.close()


def _classify(call: pytest.CallInfo[None]) -> tuple[str, str]:
    if call.excinfo is None:
        return "passed", ""
    exc = call.excinfo.value
    if isinstance(exc, NotApplicable):
        return "not-applicable", exc.reason
    if isinstance(exc, Skipped):
        return "not-applicable", str(exc.msg)
    if isinstance(exc, Deadlock):
        return "hang", str(exc)
    if type(exc).__name__ == "MissingSymbol" or isinstance(exc, Unsupported):
        return "not-applicable", str(exc)  # the library lacks the function, or refuses the configuration
    if isinstance(exc, AssertionError):
        return "failed", str(exc).strip() or "assertion failed"
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6))
    return "error", f"{type(exc).__name__}: {exc}\n{tb}"


def _deviation(harness: Harness, case: str, params: dict[str, Any]) -> Deviation | None:
    """The expectations entry covering this run: of the stack under test, or in a case between two stacks, of
    either stack in the role it played against the other; entries may be limited to parameter values."""
    roles = [(harness.client_stack, "client", harness.server_stack), (harness.server_stack, "server",
                                                                       harness.client_stack)]
    for stack, role, other in roles:
        path = getattr(stack, "expectations_path", None)
        for entry in load_expectations(stack.name, path).get(case, []):
            if entry.applies(role if harness.interop else None, other.name if harness.interop else None, params):
                return entry
    return None


def _params(item: pytest.Item) -> dict[str, Any]:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return {}
    return {k: v for k, v in callspec.params.items() if k != "_conformance_stacks"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    info = item.stash.get(_info_key, None)
    if info is None or info.recorded or info.harness is None:
        return
    if report.when == "setup" and report.passed:
        return
    if report.when == "teardown" and report.passed:
        return
    info.recorded = True
    harness = info.harness
    verdict, reason = _classify(call)
    case = getattr(item, "originalname", item.name)
    params = _params(item)
    deviation = _deviation(harness, case, params)
    record_extra: dict[str, Any] = {}
    if deviation is not None:
        record_extra["expectation"] = {"stack": deviation.stack, "verdict": deviation.verdict,
                                       "reason": deviation.reason, "evidence": deviation.evidence}
        if verdict == deviation.verdict:
            verdict = "expected-deviation"
            reason = f"{deviation.stack}: {deviation.reason} (observed: {reason})"
            report.outcome = "skipped"
            report.wasxfail = reason
        elif verdict == "passed":
            verdict = "unexpected-pass"
            reason = (f"{deviation.stack} expectations list this case as {deviation.verdict} "
                      f"({deviation.reason}), but it passed: remove or update the entry")
            report.outcome = "failed"
            report.longrepr = reason
    if verdict == "not-applicable" and report.failed:  # raised during the call (e.g. a missing library symbol)
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.reportinfo()[1] or 0, f"not applicable: {reason}")
    marker = item.get_closest_marker("clauses")
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "kind": "verdict",
        "run": os.environ.get(RUN_ENV, ""),
        "stack": harness.stack.name,
        "version": harness.stack.version(),
        "case": case,
        "nodeid": item.nodeid,
        "clauses": list(marker.args) if marker else [],
        "verdict": verdict,
        "reason": reason,
        "trace": harness.trace.as_list(),
        "duration": round(time.time() - info.started, 6),
        "seed": harness.seed,
        "phase": report.when,
        "params": {k: v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for k, v in params.items()},
        **record_extra,
    }
    if harness.interop or harness.peer is not harness.stack:
        record["peer"] = harness.peer.name
        record["peer_version"] = harness.peer.version()
    record["client"] = harness.client_stack.name
    record["interop"] = harness.interop
    directory = item.config.getoption("--conformance-report")
    if directory:
        append_record(Path(directory) / RESULTS, record)
    item.user_properties.append(("verdict", verdict))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if "h" in getattr(item, "fixturenames", ()):
        item.stash[_info_key] = CaseInfo()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    directory = config.getoption("--conformance-report")
    if not directory or hasattr(config, "workerinput"):
        return
    from conformance.report import write_reports

    write_reports(Path(directory), [Path(directory) / RESULTS])
