"""Expected deviations: per stack, the cases where the stack differs from its documentation, with evidence.

One TOML file per stack (``conformance/expectations/<stack>.toml`` for the built-in stacks; a third-party adapter
points at its own with ``StackAdapter.expectations_path``)::

    schema = 1

    [[deviation]]
    case = "test_read_after_close_notify"     # the case function's name
    clauses = ["SSL_read/RETURN VALUES/<=0"]   # the clauses the deviation concerns
    verdict = "failed"                         # what the case yields on this stack: failed | hang | error
    reason = "why the stack behaves this way"
    evidence = "the call sequence and what it returned"
    role = "client"                            # optional: only when this stack plays that role (client | server)
    not_peers = ["tlslite"]                    # optional: not against these peer stacks (or peers = [...]: only)
    params = { size = 7 }                      # optional: only the parametrized runs with these parameter values

A case with an entry that fails as listed is an *expected deviation*; one that passes is an *unexpected pass*.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Deviation", "ExpectationsError", "load_expectations"]

_VERDICTS = {"failed", "hang", "error"}


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

    def applies(self, role: str | None, peer: str | None, params: dict[str, object] | None = None) -> bool:
        """Whether the entry covers a run where the stack played ``role`` against ``peer`` with ``params``."""
        if self.role is not None and role is not None and role != self.role:
            return False
        if self.params and any((params or {}).get(k) != v for k, v in self.params):
            return False
        if peer is not None and self.peers is not None and peer not in self.peers:
            return False
        return not (peer is not None and peer in self.not_peers)


def builtin_path(stack: str) -> Path:
    return Path(__file__).parent / "expectations" / f"{stack}.toml"


def load_expectations(stack: str, path: Path | None = None) -> dict[str, list[Deviation]]:
    """The entries of a stack's file by case name (a case may have several, for different roles, peers or
    parameters)."""
    path = path or builtin_path(stack)
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationsError(f"{path}: not valid TOML: {exc}") from exc
    if data.get("schema") != 1:
        raise ExpectationsError(f"{path}: 'schema' must be 1")
    result: dict[str, list[Deviation]] = {}
    for index, raw in enumerate(data.get("deviation", []), 1):
        where = f"{path} deviation #{index}"
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
        deviation = Deviation(stack, raw["case"], tuple(clauses), verdict, " ".join(raw["reason"].split()),
                              raw["evidence"].strip(), role, peer_lists["peers"], peer_lists["not_peers"] or (),
                              tuple(sorted(params.items())))
        result.setdefault(raw["case"], []).append(deviation)
    return result
