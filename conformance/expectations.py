"""Expected deviations: per stack, the cases where the stack differs from its documentation, with evidence.

One TOML file per stack (``conformance/expectations/<stack>.toml`` for the built-in stacks; a third-party adapter
points at its own with ``StackAdapter.expectations_path``)::

    schema = 1

    [[deviation]]
    case = "test_read_after_close_notify"     # the case function's name
    clauses = ["SSL_read/RETURN VALUES/<=0"]   # the clauses the deviation concerns
    verdict = "failed"                         # what the case yields on this stack: failed | hang | error | crash
    observed = "SSL_read(10) -> 0"             # text of the failure a real run reported (or a list: all of them)
    reason = "why the stack behaves this way"
    evidence = "the call sequence and what it returned"
    role = "client"                            # optional: only when this stack plays that role (client | server)
    not_peers = ["tlslite"]                    # optional: not against these peer stacks (or peers = [...]: only)
    params = { size = 7 }                      # optional: only the parametrized runs with these parameter values
    cause = "peer"                             # optional: the other stack of the interop case causes it ("self")

An entry is pinned to what was observed: ``observed`` is text of the failure the case reported when the entry was
written (the failed assertion with the values it saw, the deadlock, the exception), compared with the reason of each
new run after collapsing white space. A case with an entry that fails with that verdict *and* a reason containing
``observed`` is an *expected deviation*; one that fails in any other way stays *failed* (or *error* / *hang*), and its
reason says that the pinned failure was not the one seen, so a new fault and a case that now gets past the pinned
assertion are both reported; one that passes is an *unexpected pass*.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from conformance.verdicts import Verdict

__all__ = ["OPEN_CASE", "Deviation", "ExpectationsError", "check_expectations", "expectations_file", "judge",
           "load_expectations"]

_VERDICTS = frozenset({Verdict.FAILED, Verdict.HANG, Verdict.ERROR, Verdict.CRASH})


class ExpectationsError(ValueError):
    pass


@dataclass(frozen=True)
class Deviation:
    stack: str
    case: str
    clauses: tuple[str, ...]
    verdict: str
    reason: str
    evidence: str
    role: str | None = None
    peers: tuple[str, ...] | None = None
    not_peers: tuple[str, ...] = ()
    params: tuple[tuple[str, object], ...] = ()
    observed: tuple[str, ...] = ()
    # "self" (default) or "peer": the deviation is the other stack's of an interop case, recorded by the stack that
    # observes it (its file, limited with peers = [...]) so that the peer's own file need not be edited
    cause: str = "self"

    def matches(self, verdict: str, reason: str) -> bool:
        """Whether a run that ended with ``verdict`` and ``reason`` is the failure this entry pins."""
        text = _squeeze(reason)
        return verdict == self.verdict and bool(self.observed) and all(_squeeze(o) in text for o in self.observed)

    def applies(self, role: str | None, peer: str | None, params: dict[str, object] | None = None) -> bool:
        """Whether the entry covers a run where the stack played ``role`` against ``peer`` with ``params``."""
        if self.role is not None and role is not None and role != self.role:
            return False
        if self.params and any((params or {}).get(k) != v for k, v in self.params):
            return False
        if peer is not None and self.peers is not None and peer not in self.peers:
            return False
        return not (peer is not None and peer in self.not_peers)


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def judge(deviation: Deviation, verdict: Verdict, reason: str) -> tuple[Verdict, str]:
    """The verdict of a run that an expectations entry covers: *expected-deviation* only for the pinned failure;
    *unexpected-pass* when it passed; otherwise the run's own verdict, its reason prefixed with what was pinned."""
    if deviation.matches(verdict, reason):
        whose = f"{deviation.stack} (caused by its peer)" if deviation.cause == "peer" else deviation.stack
        return Verdict.EXPECTED_DEVIATION, f"{whose}: {deviation.reason} (observed: {reason})"
    if verdict is Verdict.PASSED:
        return Verdict.UNEXPECTED_PASS, (f"{deviation.stack} expectations list this case as {deviation.verdict} "
                                         f"({deviation.reason}), but it passed: remove or update the entry")
    if verdict not in _VERDICTS:  # not-applicable: the entry is not judged
        return verdict, reason
    pinned = " and ".join(repr(o) for o in deviation.observed)
    return verdict, (f"not the failure pinned in the {deviation.stack} expectations ({deviation.verdict} with "
                     f"{pinned}); this run: {reason}")


def builtin_path(stack: str) -> Path:
    return Path(__file__).parent / "expectations" / f"{stack}.toml"


def expectations_file(stack: str, path: str | os.PathLike[str] | None = None) -> Path:
    """The expectations file of a stack: the adapter's ``expectations_path`` (a path or a string) or the built-in
    one."""
    return Path(path) if path is not None else builtin_path(stack)


_loaded: dict[tuple[str, Path], tuple[tuple[int, int, int], dict[str, list[Deviation]]]] = {}


def load_expectations(stack: str, path: str | os.PathLike[str] | None = None) -> dict[str, list[Deviation]]:
    """The entries of a stack's file by case name (a case may have several, for different roles, peers or
    parameters).

    Parsed once per version of the file (its inode, size and modification time): every verdict looks up both
    stacks' entries, and parsing wolfSSL's 200 KB file took some 20 ms, more than a not-applicable case costs. A
    fresh dict and fresh lists each call (of the same frozen entries), so a caller cannot change the cached ones."""
    path = expectations_file(stack, path)
    try:
        stat = path.stat()
    except OSError:
        return {}
    version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    cached = _loaded.get((stack, path))
    if cached is None or cached[0] != version:
        cached = version, _parse(stack, path)
        _loaded[(stack, path)] = cached
    return {case: list(entries) for case, entries in cached[1].items()}


def _parse(stack: str, path: Path) -> dict[str, list[Deviation]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationsError(f"{path}: not valid TOML: {exc}") from exc
    if data.get("schema") != 1:
        raise ExpectationsError(f"{path}: 'schema' must be 1")
    result: dict[str, list[Deviation]] = {}
    for index, raw in enumerate(data.get("deviation", []), 1):
        where = f"{path} deviation #{index}"
        observed = raw.get("observed")
        if isinstance(observed, str):
            observed = [observed]
        if not isinstance(observed, list) or not observed or not all(isinstance(o, str) and o.strip()
                                                                     for o in observed):
            raise ExpectationsError(f"{where}: 'observed' is required: text of the failure a run reported (a "
                                    "non-empty string or list of strings), so a different failure is not absorbed")
        for key in ("case", "reason", "evidence"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise ExpectationsError(f"{where}: '{key}' is required (a non-empty string)")
        verdict = raw.get("verdict", "failed")
        if verdict not in _VERDICTS:
            raise ExpectationsError(f"{where}: verdict {verdict!r} is not one of {', '.join(sorted(_VERDICTS))}")
        clauses = raw.get("clauses", [])
        if not isinstance(clauses, list) or not all(isinstance(c, str) for c in clauses):
            raise ExpectationsError(f"{where}: 'clauses' must be a list of clause ids")
        role = raw.get("role")
        if role not in (None, "client", "server"):
            raise ExpectationsError(f"{where}: role must be 'client' or 'server', not {role!r}")
        peer_lists: dict[str, tuple[str, ...] | None] = {}
        for key in ("peers", "not_peers"):
            value = raw.get(key)
            if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
                raise ExpectationsError(f"{where}: '{key}' must be a list of stack names")
            peer_lists[key] = tuple(value) if value is not None else None
        params = raw.get("params", {})
        if not isinstance(params, dict):
            raise ExpectationsError(f"{where}: 'params' must be a table of parameter values")
        cause = raw.get("cause", "self")
        if cause not in ("self", "peer"):
            raise ExpectationsError(f"{where}: cause must be 'self' or 'peer', not {cause!r}")
        if cause == "peer" and peer_lists["peers"] is None:
            raise ExpectationsError(f"{where}: cause = 'peer' needs peers = [...] naming the stacks that cause it")
        deviation = Deviation(stack, raw["case"], tuple(clauses), verdict, " ".join(raw["reason"].split()),
                              raw["evidence"].strip(), role, peer_lists["peers"], peer_lists["not_peers"] or (),
                              tuple(sorted(params.items())), tuple(o.strip() for o in observed), cause)
        result.setdefault(raw["case"], []).append(deviation)
    return result


# --- checking a file before a run (loading above raises on the first problem; this lists every one) ---------------

_TOP_KEYS = frozenset({"schema", "deviation"})

# Among a case's clause ids (``cases`` of :func:`check_expectations`): the case has clauses that could not be read
# without running it (conformance.checks.case_names), so its entries' clauses are not checked against its own.
OPEN_CASE = "*"


def _entry_keys() -> frozenset[str]:
    return frozenset(f.name for f in fields(Deviation) if f.name != "stack")


def check_expectations(stack: str, path: Path, cases: Mapping[str, Collection[str]] | None,
                       clause_ids: Collection[str]) -> list[str]:
    """Problems of a stack's expectations file, one line each: syntax, schema, unknown keys, entries naming a case
    (``cases``: case name -> its clause ids; ``None`` skips that check) or a clause that does not exist, and entries
    naming a clause their case does not claim (the report marks an expected deviation on the entry's clauses only,
    and the case's other clauses as not judged: a clause outside the case would be judged by nobody)."""
    if not path.exists():
        return []
    try:
        entries = load_expectations(stack, path)
    except ExpectationsError as exc:
        return [f"{' '.join(str(exc).split())}; fix the expectations file of stack {stack}"]
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{path}: cannot be read ({exc}); fix the expectations file of stack {stack}"]
    problems: list[str] = []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(f"{path}: unknown top-level key {key!r} (known: {', '.join(sorted(_TOP_KEYS))})")
    known_keys = _entry_keys()
    for index, raw in enumerate(data.get("deviation", []), 1):
        where = f"{path} deviation #{index} (case {raw.get('case')!r})"
        for key in sorted(set(raw) - known_keys):
            problems.append(f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(known_keys))}")
    for case, deviations in entries.items():
        if cases is not None and case not in cases:
            problems.append(f"{path}: case {case!r} does not exist; fix its name or remove the entry")
        claimed = cases.get(case) if cases is not None else None
        for deviation in deviations:
            for clause in deviation.clauses:
                if clause not in clause_ids:
                    problems.append(f"{path}: case {case!r} names clause {clause!r}, which is not in the catalogue; "
                                    "fix the id or remove it")
                elif claimed is not None and OPEN_CASE not in claimed and clause not in claimed:
                    problems.append(f"{path}: case {case!r} names clause {clause!r}, which the case does not claim "
                                    f"(it claims {', '.join(sorted(claimed)) or 'none'}); name only the case's "
                                    "clauses the deviation concerns (re-read the case), or add the clause to the "
                                    "case's marks")
    return problems
