"""The pytest plugin: wires the suite into pytest's hooks, and does nothing else.

Registered through the ``pytest11`` entry point, so it is active in every pytest run of an environment where the
suite is installed; it only acts on tests that take the ``h`` fixture (the conformance cases).

Where the work is done:

* :mod:`conformance.checks`: options, report directory, adapters and expectations, checked before collection;
* :mod:`conformance.isolation`: each case in a forked child with a deadline and a memory limit;
* :mod:`conformance.recording`: verdicts (:class:`conformance.verdicts.Verdict`) and their records;
* :mod:`conformance.results` and :mod:`conformance.report`: the run's stream, its plan, the published reports.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _pytest.outcomes import Skipped

from conformance import isolation, recording
from conformance.checks import Settings, parse_seed, preflight
from conformance.harness import Harness, NotApplicable
from conformance.results import ReportDir, ResultsError, append_record
from conformance.stacks import StackAdapter, discover, load_stack
from conformance.verdicts import PlanRecord, RunRecord, Verdict

__all__ = ["DEFAULT_DEADLINE", "DEFAULT_MEMORY_MIB", "RunState"]

DEFAULT_DEADLINE = 60.0
DEFAULT_MEMORY_MIB = 1024


@dataclass
class RunState:
    """What one pytest process knows about the run it belongs to."""

    run_id: str
    seed: int
    limits: isolation.Limits
    isolate: bool
    report: ReportDir | None
    stacks: list[StackAdapter] = field(default_factory=list)
    planned: int = 0
    uncollected: list[str] = field(default_factory=list)  # case modules this process could not collect
    message: str = ""  # the completeness line, or why nothing was reported
    sandbox: isolation.Sandbox | None = None

    @property
    def stream(self) -> Path | None:
        return self.report.stream(self.run_id) if self.report else None


@dataclass
class _CaseState:
    harness: Harness | None = None
    facts: recording.CaseFacts | None = None
    verdict: Verdict | None = None
    reason: str = ""
    observed: str | None = None  # the case's own reason, when an expectations entry then judged it
    phase: str = "setup"
    quiet: bool = False  # the deciding phase's report came from pytest_runtest_makereport_quietly
    started: float = field(default_factory=time.time)


_run_key = pytest.StashKey[RunState]()
_case_key = pytest.StashKey[_CaseState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "SSL/BIO conformance suite")
    group.addoption("--stack", action="append", default=[], metavar="NAME",
                    help="run the cases on this stack (repeatable; default: every installed stack)")
    group.addoption("--page", action="append", default=[], metavar="PAGE",
                    help="only the cases that check a clause of this man page, e.g. SSL_read (repeatable)")
    group.addoption("--conformance-report", default=None, metavar="DIR",
                    help="stream verdict records to DIR/runs/<run>.jsonl; at the end write DIR/results.jsonl, "
                         "index.html, summary.json and junit.xml")
    group.addoption("--conformance-seed", type=int, default=None, metavar="N",
                    help="seed of the run (default: $CONFORMANCE_RUN_SEED, else random; recorded)")
    group.addoption("--conformance-run-id", default=None, metavar="ID", help="run id (default: time, seed, pid)")
    group.addoption("--case-deadline", type=float, default=DEFAULT_DEADLINE, metavar="SECONDS",
                    help=f"a case with no progress for this long is a hang (default {DEFAULT_DEADLINE:g}; 0: none)")
    group.addoption("--case-memory", type=int, default=DEFAULT_MEMORY_MIB, metavar="MIB",
                    help=f"address space a case may add, in MiB (default {DEFAULT_MEMORY_MIB}; 0: no limit)")
    group.addoption("--case-isolation", choices=("fork", "off"), default="fork",
                    help="run each case in a forked child (default), or in the pytest process (for a debugger)")


def settings_of(config: pytest.Config) -> Settings:
    report = config.getoption("--conformance-report")
    return Settings(stacks=config.getoption("--stack"), pages=config.getoption("--page"),
                    report=Path(report) if report else None, seed=config.getoption("--conformance-seed"),
                    workers=getattr(config.option, "numprocesses", 0) or 0,
                    deadline=config.getoption("--case-deadline"), memory_mib=config.getoption("--case-memory"),
                    case_paths=[Path(str(a).split("::", 1)[0]) for a in config.args])


def _wants_suite(config: pytest.Config) -> bool:
    """Whether this pytest run is a conformance run (then everything is checked before collection)."""
    if config.getoption("--stack") or config.getoption("--page") or config.getoption("--conformance-report"):
        return True
    import specs

    cases = (Path(specs.__file__).parent / "cases").resolve()
    return any(Path(str(a).split("::", 1)[0]).resolve().is_relative_to(cases) for a in config.args)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clauses(*ids): the catalogue clauses a conformance case checks")
    config.addinivalue_line("markers", "needs(*capabilities): adapter capabilities a conformance case requires")
    config.addinivalue_line("markers", "interop: a case run on every (client stack, server stack) pair")
    config.addinivalue_line("markers", "states(*names): the connection states (catalogue STATES) a case exercises")
    _COLLECT_ERRORS.clear()  # a process may run pytest more than once
    settings = settings_of(config)
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None and "conformance_run" in workerinput:
        seed, run_id = int(workerinput["conformance_seed"]), str(workerinput["conformance_run"])
    else:
        env_seed, seed_problem = parse_seed(os.environ)
        if seed_problem:
            raise pytest.UsageError(seed_problem)
        if _wants_suite(config):
            _, problems = preflight(settings)
            if problems:
                raise pytest.UsageError("\n".join(problems))
        chosen = settings.seed if settings.seed is not None else env_seed
        seed = chosen if chosen is not None else random.SystemRandom().randrange(1 << 31)
        run_id = config.getoption("--conformance-run-id") or f"{time.strftime('%Y%m%dT%H%M%S')}-{seed}-{os.getpid()}"
    isolate = (config.getoption("--case-isolation") == "fork" and isolation.available()
               and not config.getoption("usepdb", False))
    state = RunState(run_id=run_id, seed=seed, isolate=isolate,
                     limits=isolation.Limits(settings.deadline, settings.memory_mib),
                     report=ReportDir(settings.report) if settings.report else None)
    config.stash[_run_key] = state
    if state.report is not None and workerinput is None:
        stream = state.report.stream(run_id)
        append_record(stream, RunRecord(
            run=run_id, seed=seed, started=time.time(), stacks=_stack_table(),
            selected_stacks=settings.stacks, pages=settings.pages,
            options={"deadline": settings.deadline, "memory_mib": settings.memory_mib, "isolation": isolate}))


def _stack_table() -> dict[str, dict[str, Any]]:
    table = {}
    for name, info in discover().items():
        version = recording.safe_version(info.adapter) if info.adapter and info.installed else None
        table[name] = {"version": version, "installed": info.installed, "problem": info.problem}
    return table


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker belongs to the controller's run (same id, same seed)."""
    state = node.config.stash[_run_key]
    node.workerinput["conformance_run"] = state.run_id
    node.workerinput["conformance_seed"] = state.seed


def _selected_stacks(config: pytest.Config) -> list[StackAdapter]:
    state = config.stash[_run_key]
    if not state.stacks:
        names: list[str] = config.getoption("--stack")
        if names:
            state.stacks = [load_stack(n) for n in dict.fromkeys(names)]  # checked in pytest_configure
        else:
            state.stacks = [info.adapter for info in discover().values() if info.installed and info.adapter]
    return state.stacks


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "h" not in metafunc.fixturenames:
        return
    stacks = _selected_stacks(metafunc.config)
    if metafunc.definition.get_closest_marker("interop"):
        pairs = [(c, s) for c in stacks for s in stacks]
        metafunc.parametrize(recording.STACKS_PARAM, pairs, ids=[f"{c.name}->{s.name}" for c, s in pairs])
    else:
        metafunc.parametrize(recording.STACKS_PARAM, [(s, None) for s in stacks], ids=[s.name for s in stacks])


def _is_case(item: pytest.Item) -> bool:
    return "h" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    pages: list[str] = config.getoption("--page")
    if pages:
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            ids = [i for marker in item.iter_markers("clauses") for i in marker.args]
            (keep if any(str(i).split("/", 1)[0] in pages for i in ids) else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    if config.stash[_run_key].isolate:
        _group_cases(items)


def _group(item: pytest.Item) -> tuple[str, ...]:
    """The stacks a case runs on (one, or the client and server of an interop pair): the cases one child serves
    (see :mod:`conformance.isolation`)."""
    callspec = getattr(item, "callspec", None)
    stacks = callspec.params.get(recording.STACKS_PARAM) if callspec is not None else None
    if not stacks:
        return ()
    return tuple(sorted({s.name for s in stacks if s is not None}))


def _group_cases(items: list[pytest.Item]) -> None:
    """The cases in the order their children serve them: each group's cases one after another, in the order pytest
    collected them (stable), the first group first; other tests keep their places. Every pytest-xdist worker
    collects the same items and so computes the same order."""
    slots = [i for i, item in enumerate(items) if _is_case(item)]
    first: dict[tuple[str, ...], int] = {}
    for i in slots:
        first.setdefault(_group(items[i]), len(first))
    ordered = sorted((items[i] for i in slots), key=lambda item: first[_group(item)])
    for i, item in zip(slots, ordered, strict=True):
        items[i] = item


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A case module that cannot be collected (an ImportError, a syntax error) holds cases no plan can list: noted
    here, written with the plan, so the run is reported incomplete even when a ``-k`` left nothing else out."""
    if report.failed:
        lines = str(report.longrepr).strip().splitlines()
        error = next((ln[2:].strip() for ln in reversed(lines) if ln.startswith("E ")), lines[-1] if lines else "")
        _COLLECT_ERRORS.append(f"{report.nodeid or '?'}: {error or 'collection failed'}")


_COLLECT_ERRORS: list[str] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    """The plan: every case this process will run (with pytest-xdist each worker collects all and writes its plan;
    the union per run is what the run planned)."""
    state = session.config.stash[_run_key]
    if session.config.option.collectonly:
        return  # nothing will run: no plan, so the report directory is left alone
    cases = [item.nodeid for item in session.items if _is_case(item)]
    state.planned = len(cases)
    state.uncollected = list(dict.fromkeys(_COLLECT_ERRORS))
    if state.stream is not None and (cases or state.uncollected):
        workerinput = getattr(session.config, "workerinput", None)
        append_record(state.stream, PlanRecord(run=state.run_id, nodeids=cases, uncollected=state.uncollected,
                                               worker=str(workerinput["workerid"]) if workerinput else "main"))
    if cases and state.isolate:
        _warm_up(session.config)


def _warm_up(config: pytest.Config) -> None:
    """Load once, in this process, what every case needs, so each forked child starts with it."""
    from conformance.certs import default_pki
    from conformance.expectations import load_expectations

    default_pki()
    for stack in _selected_stacks(config):
        recording.safe_version(stack)
        load_expectations(stack.name, getattr(stack, "expectations_path", None))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    state = item.config.stash[_run_key]
    if not state.isolate or not _is_case(item) or isolation.in_child():
        return None
    if state.sandbox is None:
        state.sandbox = isolation.Sandbox(item.session, state.limits)
    if nextitem is not None and not _is_case(nextitem):
        nextitem = None  # the child tears everything down: the next test runs here, not there
    return state.sandbox.run(item, nextitem, _record_lost, _group(item))


def _record_lost(item: pytest.Item, lost: isolation.Lost) -> tuple[Verdict, str]:
    """The record of a case whose child died or hung (written by the parent, unless the child had written it);
    returns the verdict and reason recorded, for pytest's own report of the case."""
    state = item.config.stash[_run_key]
    facts = recording.CaseFacts.of(item, state.seed)
    deviation = facts.deviation(lost.verdict, lost.reason)
    verdict, reason = recording.apply_expectations(lost.verdict, lost.reason, deviation)
    if state.stream is not None and not lost.record_written:
        record = facts.record(verdict, reason, trace=lost.trace, duration=lost.duration, phase="call",
                              run=state.run_id, expectation=deviation)
        record.observed = lost.reason if deviation is not None else None
        append_record(state.stream, record)
    return verdict, reason


@pytest.fixture
def h(request: pytest.FixtureRequest, _conformance_stacks: tuple[StackAdapter, StackAdapter | None]
      ) -> Iterator[Harness]:
    """The harness of one conformance case on one stack (or one client/server pair of stacks)."""
    first, second = _conformance_stacks
    seed = recording.node_seed(request.node.nodeid, request.config.stash[_run_key].seed)
    if second is None:
        harness = Harness(first, seed=seed)
    else:
        harness = Harness(first, client_stack=first, server_stack=second, seed=seed)
    if isolation.in_child():
        harness.trace.listener = isolation.note_progress
    request.node.stash.setdefault(_case_key, _CaseState()).harness = harness
    if second is None and first.tier == "wire":  # a program is reached only on the wire
        raise NotApplicable(f"{first.name} is a wire-tier stack (a program on loopback): only interoperability "
                            "cases apply to it")
    for marker in request.node.iter_markers("needs"):  # module-level and function-level marks add up
        harness.need(*marker.args)
    try:
        yield harness
    finally:
        harness.close()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _is_case(item):
        item.stash[_case_key] = _CaseState()


def _judge(item: pytest.Item, call: pytest.CallInfo[None], case: _CaseState) -> Verdict:
    """The verdict of the setup or call phase that decides the case (kept in ``case``)."""
    state = item.config.stash[_run_key]
    phase_verdict = recording.classify(call.excinfo, state.limits.memory_mib)
    case.phase = call.when
    facts = recording.CaseFacts.of(item, state.seed)
    case.facts = facts
    deviation = facts.deviation(*phase_verdict)
    verdict, reason = recording.apply_expectations(*phase_verdict, deviation)
    case.verdict, case.reason = verdict, reason
    if deviation is not None:
        case.observed = phase_verdict[1]
    return verdict


@pytest.hookimpl(tryfirst=True, specname="pytest_runtest_makereport")
def pytest_runtest_makereport_quietly(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport | None:
    """The report of a case that raised but whose verdict is *not applicable* (a missing function found during the
    call) or an *expected deviation*, made without pytest's failure formatting: pytest parses the source of every
    module in the traceback (``ast``) to show it, some 0.1-0.7 s of CPU per report, which nobody reads for these
    verdicts (their reason is in the record and in the report's text); it was most of the run's time. Other verdicts
    keep pytest's own report."""
    case = item.stash.get(_case_key, None)
    excinfo = call.excinfo
    if (case is None or excinfo is None or call.when == "teardown" or case.verdict is not None
            or isinstance(excinfo.value, (Skipped, KeyboardInterrupt))):
        return None
    verdict = _judge(item, call, case)
    if verdict not in (Verdict.NOT_APPLICABLE, Verdict.EXPECTED_DEVIATION) or call.when == "collect":
        return None
    text = (f"not applicable: {case.reason}" if verdict is Verdict.NOT_APPLICABLE
            else f"{verdict}: {case.reason}\nobserved: {case.observed}")
    report = pytest.TestReport(
        item.nodeid, item.location, dict.fromkeys(item.keywords, 1), "skipped",
        (str(item.path), item.location[1] or 0, text), call.when,
        [(f"Captured {key} {when}", content) for when, key, content in item._report_sections],
        call.duration, call.start, call.stop, item.user_properties)
    if verdict is Verdict.EXPECTED_DEVIATION:
        report.wasxfail = case.reason  # how pytest marks an xfailed report
    item.user_properties.append(("verdict", str(verdict)))
    case.quiet = True
    return report


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    case = item.stash.get(_case_key, None)
    if case is None:
        return
    state = item.config.stash[_run_key]
    if call.when == "teardown":
        phase_verdict = recording.classify(call.excinfo, state.limits.memory_mib)
        verdict, reason = case.verdict or Verdict.PASSED, case.reason
        case.verdict, case.reason = recording.teardown_verdict(verdict, reason, phase_verdict)
        _write(item, state, case)
        return
    if case.quiet:  # pytest_runtest_makereport_quietly made this report, already as the verdict says
        return
    if case.verdict is None:
        if call.when == "setup" and call.excinfo is None:
            return
        _judge(item, call, case)
    elif case.phase != call.when:  # setup already decided (not applicable, error)
        return
    verdict, reason = case.verdict or Verdict.PASSED, case.reason
    deviation = case.facts.deviation() if case.facts else None
    # pytest's outcome follows the recorded verdict, so its closing line never contradicts the records
    if verdict is Verdict.EXPECTED_DEVIATION:
        report.outcome = "skipped"
        report.wasxfail = reason
    elif verdict is Verdict.NOT_APPLICABLE:  # also when raised during the call (e.g. a missing symbol)
        if report.failed:
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.reportinfo()[1] or 0, f"not applicable: {reason}")
    elif verdict is Verdict.UNEXPECTED_PASS:
        report.outcome = "failed"
        report.longrepr = reason
    elif deviation is not None and report.failed:  # a failure other than the pinned one: say so first
        report.longrepr = f"{reason}\n\n{report.longrepr}"
    item.user_properties.append(("verdict", str(verdict)))


def _write(item: pytest.Item, state: RunState, case: _CaseState) -> None:
    facts = case.facts or recording.CaseFacts.of(item, state.seed)
    verdict = case.verdict or Verdict.PASSED
    if state.stream is None or isolation.abandoned():  # a case given up as a hang: the parent records it
        return
    harness = case.harness
    record = facts.record(verdict, case.reason, trace=harness.trace.as_list() if harness else [],
                          duration=time.time() - case.started, phase=case.phase, run=state.run_id,
                          expectation=facts.deviation())
    record.observed = case.observed
    record.functions = sorted(harness.trace.functions) if harness else []
    append_record(state.stream, record)
    isolation.mark_recorded()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash.get(_run_key, None)
    if state is not None and state.sandbox is not None:
        state.sandbox.stop()
        state.sandbox = None
    if state is None or state.report is None or hasattr(config, "workerinput"):
        return
    from conformance.report import NothingToReport, write_reports

    directory = state.report
    stream = directory.stream(state.run_id)
    try:
        model = write_reports(directory.path, [stream])  # streamed: the records are never all in memory
    except NothingToReport:
        directory.discard_stream(state.run_id)
        state.message = (f"conformance: nothing to report: no conformance case was selected or run; "
                         f"{directory.path} left unchanged")
        return
    except ResultsError as exc:
        state.message = f"conformance: the run's records cannot be read ({exc}); {directory.path} left unchanged"
        return
    except OSError as exc:
        state.message = (f"conformance: the reports could not be written in {directory.path} ({exc}); the run's "
                         f"records are in {stream}")
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        return
    try:
        directory.publish(state.run_id)
    except OSError as exc:
        state.message = (f"conformance: the records could not be published in {directory.path} ({exc}); the "
                         f"run's records are in {stream}")
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        return
    state.message = f"conformance: {model['completeness']}; report: {directory.path / 'index.html'}"
    if not model["complete"] and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    state = terminalreporter.config.stash.get(_run_key, None)
    if state is not None and state.message:
        terminalreporter.write_line(state.message)
