"""The divergence table: every known difference between the reference stack (the engine) and another C-API stack
that the differential runner may see, with the clause it concerns and who is wrong.

The data is ``conformance/expectations/divergences.toml``::

    schema = 1

    [[divergence]]
    id = "libssl-shutdown-..."           # stable name, shown in records and reports
    stack = "libssl"                     # the stack whose observation differs from the reference's
    call = "SSL_shutdown"                # optional: only after this step (an SSL function, or move/drop/corrupt/eof;
                                         # a list: any of them)
    fields = ["ret", "error"]            # the observations that may differ (every differing one must be listed;
                                         # "*": any)
    reference = { ret = 1 }              # optional: the reference stack's values of the fields that differ
    observed = { ret = -1 }              # optional: the other stack's values; a pattern instead of a value:
                                         # { any = [a, b] }, { negative = true }, { lib = n } ([lib, reason]),
                                         # { each_lib = n } (a list of [lib, reason]: every entry's library)
    continue = true                      # optional: the difference is only reported, the states did not part, so
                                         # the program goes on (otherwise it stops at an explained divergence)
    clause = "SSL_shutdown/RETURN VALUES/1"
    blame = "libssl"                     # the stack that contradicts the page; "engine": an engine bug to fix;
                                         # "unspecified": the page leaves it open (the clause says where) and
                                         # the engine follows OpenSSL 3.0 there, so nobody is wrong
    expectation = "test_..."             # blame is a library: the case whose entry in <blame>.toml records it
    reason = "what the page says and what each stack does"
    evidence = "the shrunk program"

A divergence the runner finds is *explained* when entries cover every differing field: an entry covers the
differing fields it lists (all of them for ``"*"``) when the stack and the call (if it names one) are the same and
the listed reference / observed values hold for the fields that differ (see :meth:`Entry.covers`). Several entries
may explain one step together (e.g. a reporting quirk next to a real difference); the entries that pin more of the
differing fields with values are tried first (:meth:`Entry.specificity`), so the hit is counted for the closest
explanation. Anything else is a finding and fails the run.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_TABLE", "Entry", "TableError", "load_table"]

DEFAULT_TABLE = Path(__file__).resolve().parent.parent / "expectations" / "divergences.toml"
_REQUIRED = ("id", "stack", "fields", "clause", "blame", "reason", "evidence")


class TableError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    id: str
    stack: str
    fields: frozenset[str]
    clause: str
    blame: str
    reason: str
    evidence: str
    call: tuple[str, ...] = ()
    reference: tuple[tuple[str, Any], ...] = ()
    observed: tuple[tuple[str, Any], ...] = ()
    expectation: str | None = None
    continues: bool = False

    def covers(self, stack: str, call: str, diffs: dict[str, tuple[Any, Any]],
               reference: dict[str, Any], observed: dict[str, Any]) -> frozenset[str]:
        """The differing fields this entry explains here (empty: it does not apply). Value constraints are checked
        on the fields that differ; a constrained field that does not differ is allowed only when it is one of the
        entry's own ``fields`` (e.g. the other side's state), never for a ``"*"`` entry."""
        if stack != self.stack or (self.call and call not in self.call):
            return frozenset()
        wildcard = "*" in self.fields
        covered = frozenset(diffs) if wildcard else frozenset(diffs) & self.fields
        if not covered:
            return frozenset()
        for values, wanted in ((reference, self.reference), (observed, self.observed)):
            for key, value in wanted:
                if key in diffs:
                    if not _same(values.get(key), value):
                        return frozenset()
                elif wildcard or key not in self.fields:
                    return frozenset()
        return covered

    def specificity(self, diffs: dict[str, tuple[Any, Any]]) -> int:
        """How many of the differing fields this entry pins with a value: when several entries cover the same
        fields, the one that pins more of them is the explanation (a loose entry of another cause does not take
        the credit)."""
        return sum(1 for key, _ in (*self.reference, *self.observed) if key in diffs)

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "stack": self.stack, "clause": self.clause, "blame": self.blame,
                "expectation": self.expectation, "reason": self.reason}


def _same(value: Any, wanted: Any) -> bool:
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(wanted, dict):  # a pattern: { any = [...] }, { negative = true }, { lib = n }, { each_lib = n }
        if "any" in wanted and not any(_same(value, w) for w in wanted["any"]):
            return False
        if wanted.get("negative") and not (isinstance(value, int) and value < 0):
            return False
        if "each_lib" in wanted and not (isinstance(value, list) and value and all(
                isinstance(e, list | tuple) and e and e[0] == wanted["each_lib"] for e in value)):
            return False
        return not ("lib" in wanted and not (isinstance(value, list) and value and value[0] == wanted["lib"]))
    return bool(value == wanted)


def load_table(path: Path = DEFAULT_TABLE) -> list[Entry]:
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TableError(f"{path}: not valid TOML: {exc}") from exc
    if data.get("schema") != 1:
        raise TableError(f"{path}: 'schema' must be 1")
    entries: list[Entry] = []
    seen: set[str] = set()
    for index, raw in enumerate(data.get("divergence", []), 1):
        where = f"{path} divergence #{index}"
        missing = [k for k in _REQUIRED if not raw.get(k)]
        if missing:
            raise TableError(f"{where}: missing {', '.join(missing)}")
        unknown = set(raw) - {*_REQUIRED, "call", "reference", "observed", "expectation", "continue"}
        if unknown:
            raise TableError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        if raw["id"] in seen:
            raise TableError(f"{where}: duplicate id {raw['id']!r}")
        seen.add(raw["id"])
        if raw["blame"] not in ("engine", "unspecified") and not raw.get("expectation"):
            raise TableError(f"{where}: blame {raw['blame']!r} needs the 'expectation' (case) that records it")
        entries.append(Entry(
            id=raw["id"], stack=raw["stack"], fields=frozenset(raw["fields"]), clause=raw["clause"],
            blame=raw["blame"], reason=raw["reason"].strip(), evidence=raw["evidence"].strip(),
            call=(raw["call"],) if isinstance(raw.get("call"), str) else tuple(raw.get("call", ())),
            reference=tuple(sorted(raw.get("reference", {}).items())),
            observed=tuple(sorted(raw.get("observed", {}).items())), expectation=raw.get("expectation"),
            continues=bool(raw.get("continue", False)),
        ))
    return entries
