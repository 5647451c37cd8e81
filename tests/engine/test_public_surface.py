"""The engine's public surface against the catalogue: every function a clause names is offered by the engine, or is
listed as deliberately absent with the reason in ``conformance.stacks.engine.ABSENT`` (the one list; its cases then
say *not applicable* on the engine with that reason)."""

from __future__ import annotations

from conformance.capi.libssl import LibsslApi, MissingSymbol
from conformance.catalogue import load_catalogue
from conformance.stacks.engine import ABSENT, EngineApi


def _named_by_clauses() -> set[str]:
    return {name for clause in load_catalogue() for name in clause.functions}


def test_every_function_a_clause_names_is_offered_or_listed_as_absent() -> None:
    api = EngineApi()
    missing = sorted(n for n in _named_by_clauses() if not api.has(n) and n not in ABSENT)
    assert not missing, f"named by clauses but neither in the engine nor in ABSENT: {missing}"


def test_absent_list_has_no_stale_entries() -> None:
    api = EngineApi()
    named = _named_by_clauses()
    # A name no clause names is still listed when a case calls it (the libssl binding declares it), so its
    # not-applicable reason on the engine is the true one.
    stale = sorted(n for n in ABSENT if api.has(n) or (n not in named and not hasattr(LibsslApi, n)))
    assert not stale, f"ABSENT lists names the engine now has, or that neither a clause nor the binding names: {stale}"


def test_an_absent_function_is_not_applicable_with_its_reason() -> None:
    api = EngineApi()
    for name, reason in ABSENT.items():
        try:
            getattr(api, name)
        except MissingSymbol as exc:
            assert reason in str(exc), (name, str(exc))
        else:
            raise AssertionError(f"{name} is listed as absent but the engine's API object has it")
