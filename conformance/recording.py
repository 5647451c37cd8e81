"""From a case's outcome to its verdict record: classification, expectations, the record itself.

The plugin calls these from its hooks; the isolated runner calls :func:`lost_record` for a case whose process died
or hung. Both build the same :class:`~conformance.verdicts.VerdictRecord`, so a crash reads like any other verdict.
"""

from __future__ import annotations

import linecache
import re
import struct
import traceback
import types
import weakref
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _pytest.outcomes import Skipped

from conformance.expectations import Deviation, judge, load_expectations
from conformance.harness import CloseError, NotApplicable
from conformance.pump import Deadlock
from conformance.stacks import StackAdapter
from conformance.stacks.base import Unsupported
from conformance.verdicts import Verdict, VerdictRecord

__all__ = ["CaseFacts", "apply_expectations", "classify", "node_seed", "safe_version", "teardown_verdict"]

STACKS_PARAM = "_conformance_stacks"


def node_seed(nodeid: str, run_seed: int) -> int:
    """The case's own seed: the run seed mixed with the node id, so every case on every stack differs."""
    return zlib.crc32(nodeid.encode()) ^ run_seed


# Keyed by the adapter object itself (held weakly): an id() can be reused by another adapter once the first is freed,
# which gave one stack another's version when tests made and dropped adapters in one process.
_versions: weakref.WeakKeyDictionary[StackAdapter, str] = weakref.WeakKeyDictionary()


def safe_version(stack: StackAdapter) -> str:
    """The stack's version, asked once per adapter; an adapter that raises gets a version saying so."""
    key = stack
    if key not in _versions:
        try:
            _versions[key] = str(stack.version())
        except Exception as exc:
            _versions[key] = f"? (version() raised {type(exc).__name__}: {exc})"
    return _versions[key]


def _run_states(item: pytest.Item, params: dict[str, Any]) -> list[str]:
    """The states a case declares (marker ``states``); for a case parametrised by ``state``, the one of this run."""
    declared = [str(s) for marker in item.iter_markers("states") for s in marker.args]
    state = params.get("state")
    return [str(state)] if state is not None and str(state) in declared else declared


@dataclass
class CaseFacts:
    """What the record of one case says besides its verdict: which stacks, which case, which parameters."""

    stack: StackAdapter
    client_stack: StackAdapter
    server_stack: StackAdapter
    interop: bool
    case: str
    nodeid: str
    clauses: list[str]
    params: dict[str, Any]
    seed: int
    states: list[str] = field(default_factory=list)  # the connection states the case declares (marker ``states``)
    _chosen: list[Deviation | None] = field(default_factory=list, init=False, repr=False)  # see deviation()

    @classmethod
    def of(cls, item: pytest.Item, run_seed: int) -> CaseFacts:
        callspec = getattr(item, "callspec", None)
        params = dict(callspec.params) if callspec is not None else {}
        first, second = params.pop(STACKS_PARAM)
        # the case's clauses, and those a parameter adds (pytest.param(..., marks=pytest.mark.clauses(...)))
        clauses = list(dict.fromkeys(str(c) for marker in item.iter_markers("clauses") for c in marker.args))
        return cls(stack=first, client_stack=first, server_stack=second or first, interop=second is not None,
                   case=getattr(item, "originalname", item.name), nodeid=item.nodeid,
                   clauses=clauses, params=params,
                   seed=node_seed(item.nodeid, run_seed), states=_run_states(item, params))

    @property
    def peer(self) -> StackAdapter:
        return self.server_stack if self.client_stack is self.stack else self.client_stack

    def deviation(self, verdict: Verdict | None = None, reason: str = "") -> Deviation | None:
        """The expectations entry covering this run: of the stack under test, or in a case between two stacks, of
        either stack in the role it played against the other; entries may be limited to parameter values. Given the
        run's verdict and reason, an applicable entry that pins that very failure wins over the first applicable one
        (both stacks of a pair may have an entry for the case, e.g. the observer's with cause = "peer"); the choice
        is kept, so a later call without them returns the same entry."""
        if verdict is None and self._chosen:
            return self._chosen[0]
        applicable = []
        roles = [(self.client_stack, "client", self.server_stack), (self.server_stack, "server", self.client_stack)]
        for stack, role, other in roles:
            path = getattr(stack, "expectations_path", None)
            for entry in load_expectations(stack.name, path).get(self.case, []):
                if entry.applies(role if self.interop else None, other.name if self.interop else None, self.params):
                    applicable.append(entry)
        chosen = next((e for e in applicable if verdict is not None and e.matches(verdict, reason)),
                      applicable[0] if applicable else None)
        if verdict is not None:
            self._chosen[:] = [chosen]
        return chosen

    def record(self, verdict: Verdict, reason: str, *, trace: list[str], duration: float, phase: str, run: str,
               expectation: Deviation | None) -> VerdictRecord:
        peer = self.peer
        record = VerdictRecord(
            stack=self.stack.name, version=safe_version(self.stack), case=self.case, verdict=verdict,
            reason=reason, clauses=self.clauses, trace=trace, duration=round(duration, 6), seed=self.seed,
            run=run, nodeid=self.nodeid, phase=phase, params=self.params, client=self.client_stack.name,
            interop=self.interop, states=self.states)
        if self.interop or peer is not self.stack:
            record.peer = peer.name
            record.peer_version = safe_version(peer)
        if expectation is not None:
            record.expectation = {"stack": expectation.stack, "verdict": str(expectation.verdict),
                                  "reason": expectation.reason, "evidence": expectation.evidence,
                                  "observed": list(expectation.observed), "cause": expectation.cause,
                                  "clauses": list(expectation.clauses)}
        return record


_ODD_OUTPUT = (IndexError, KeyError, ValueError, struct.error, EOFError)
_SEEN_REPR = 80  # characters of each value shown


def _odd_output(exc: BaseException) -> bool:
    """Whether ``exc`` is what reading output that is not there raises: an index, key or value the output lacks,
    or a NULL (None) the case went on to read as a value."""
    if isinstance(exc, _ODD_OUTPUT):
        return True
    return isinstance(exc, (TypeError, AttributeError)) and "'NoneType' object" in str(exc)


def _raised_in_a_case(exc: BaseException) -> str:
    """Where the innermost frame is, if it is a conformance case's own code (specs/cases), else ``""``:
    ``file:line``, the statement, and the values of the names it reads (what the case saw)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return ""
    path = Path(tb.tb_frame.f_code.co_filename)
    if not (path.parent.name == "cases" and path.parent.parent.name == "specs"):
        return ""
    where = f"{path.name}:{tb.tb_lineno}"
    line = linecache.getline(str(path), tb.tb_lineno).strip()
    if not line:
        return where
    names = dict.fromkeys(re.findall(r"(?<![.\w])[A-Za-z_]\w*", line))
    seen = []
    for name in names:
        if name in tb.tb_frame.f_locals and not callable(value := tb.tb_frame.f_locals[name]) \
                and not isinstance(value, types.ModuleType):
            shown = repr(value)
            seen.append(f"{name}={shown[:_SEEN_REPR]}{'...' if len(shown) > _SEEN_REPR else ''}")
    return f"{where}: {line}" + (f"; seen: {', '.join(seen)}" if seen else "")


def classify(excinfo: pytest.ExceptionInfo[BaseException] | None, memory_mib: int = 0) -> tuple[Verdict, str]:
    """The verdict of one phase from what it raised (nothing: passed)."""
    if excinfo is None:
        return Verdict.PASSED, ""
    exc = excinfo.value
    if isinstance(exc, NotApplicable):
        return Verdict.NOT_APPLICABLE, exc.reason
    if isinstance(exc, Skipped):
        return Verdict.NOT_APPLICABLE, str(exc.msg)
    if isinstance(exc, Deadlock):
        return Verdict.HANG, str(exc)
    if type(exc).__name__ == "MissingSymbol" or isinstance(exc, Unsupported):
        return Verdict.NOT_APPLICABLE, str(exc)  # the library lacks the function, or refuses the configuration
    if isinstance(exc, AssertionError):
        return Verdict.FAILED, str(exc).strip() or "assertion failed"
    where = _raised_in_a_case(exc)
    if where and _odd_output(exc):
        # The case met output it could not read (e.g. indexed a ClientHello that never came): the stack's failure.
        return Verdict.FAILED, (f"the case could not read what the stack produced: {type(exc).__name__}: {exc} "
                                f"(at {where})")
    if isinstance(exc, MemoryError) and memory_mib:
        return Verdict.ERROR, (f"MemoryError: the case exceeded its memory limit of {memory_mib} MiB "
                               "(--case-memory)")
    if isinstance(exc, CloseError):
        return Verdict.ERROR, f"CloseError: {exc}"
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6))
    return Verdict.ERROR, f"{type(exc).__name__}: {exc}\n{tb}"


def apply_expectations(verdict: Verdict, reason: str, deviation: Deviation | None) -> tuple[Verdict, str]:
    """The verdict once the stack's expectations file is taken into account: an entry absorbs only the failure it
    pins (:func:`conformance.expectations.judge`)."""
    if deviation is None:
        return verdict, reason
    return judge(deviation, verdict, reason)


def teardown_verdict(verdict: Verdict, reason: str, teardown: tuple[Verdict, str]) -> tuple[Verdict, str]:
    """A failure while tearing the case down (an endpoint's close() raised) is never lost: it turns a good
    verdict into *error*, and is added to the reason of a bad one."""
    t_verdict, t_reason = teardown
    if t_verdict is Verdict.PASSED:
        return verdict, reason
    if verdict.bad:
        return verdict, f"{reason}\n(teardown also went wrong: {t_reason})"
    return Verdict.ERROR, f"teardown: {t_reason}" + (f"\n(the case itself: {verdict}: {reason})" if reason else "")
