"""Clause coverage that knows connection states: a clause whose text names a state (its ``states`` list, from the
vocabulary ``conformance.catalogue.STATES``) needs a case that claims it *and* declares that state with
``@pytest.mark.states``; every state a case declares is in the vocabulary."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from conformance.catalogue import STATES, CatalogueError, load_catalogue, load_page
from conformance.coverage import CaseRef, case_clauses


def uncovered_states(clauses: Mapping[str, tuple[str, ...]], refs: list[CaseRef]) -> list[str]:
    """``clause @ state`` for every state a clause names that no case claiming the clause declares."""
    seen = {(cid, state) for ref in refs for cid in ref.clauses for state in ref.states}
    return sorted(f"{cid} @ {state}" for cid, states in clauses.items() for state in states
                  if (cid, state) not in seen)


def test_a_state_without_a_case_in_it_is_found() -> None:
    clauses = {"SSL_read/NOTES/x": ("before-handshake", "established")}
    refs = [CaseRef("m", "test_a", ("SSL_read/NOTES/x",), (), ("established",)),
            CaseRef("m", "test_b", ("SSL_read/NOTES/y",), (), ("before-handshake",))]
    assert uncovered_states(clauses, refs) == ["SSL_read/NOTES/x @ before-handshake"]
    refs.append(CaseRef("m", "test_c", ("SSL_read/NOTES/x",), (), ("before-handshake",)))
    assert uncovered_states(clauses, refs) == []


def test_every_state_a_clause_names_has_a_case_in_that_state() -> None:
    catalogue = load_catalogue()
    named = {c.id: c.states for c in catalogue if c.states and not c.unobservable}
    missing = uncovered_states(named, case_clauses())
    assert not missing, "clauses naming a state with no case in it:\n  " + "\n  ".join(missing)


def test_cases_declare_only_known_states() -> None:
    unknown = [(f"{ref.module}.{ref.name}", s) for ref in case_clauses() for s in ref.states if s not in STATES]
    assert not unknown, f"cases declaring states outside the vocabulary {sorted(STATES)}: {unknown}"


def test_seed_pages_name_states() -> None:
    """The seed pages' clauses that talk about a state say so (a guard against the tags being dropped)."""
    catalogue = load_catalogue()
    for page in ("SSL_read", "SSL_write", "SSL_get_error", "SSL_shutdown", "SSL_do_handshake", "SSL_connect",
                 "SSL_accept"):
        assert any(c.states for c in catalogue.pages[page].clauses), f"{page}: no clause names a state"


def test_unknown_state_in_a_clause_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "X.toml"
    path.write_text("schema = 1\n[page]\nname='X'\npod='X.pod'\nfunctions=['X']\n[[clause]]\nid='X/NOTES/a'\n"
                    "section='NOTES'\nkind='behaviour'\nstatement='s'\nfunctions=['X']\nstates=['half-open']")
    with pytest.raises(CatalogueError, match="state\\(s\\) 'half-open' not one of"):
        load_page(path)


def test_known_states_are_read(tmp_path: Path) -> None:
    path = tmp_path / "X.toml"
    path.write_text("schema = 1\n[page]\nname='X'\npod='X.pod'\nfunctions=['X']\n[[clause]]\nid='X/NOTES/a'\n"
                    "section='NOTES'\nkind='behaviour'\nstatement='s'\nfunctions=['X']\n"
                    "states=['established', 'close-notify-sent']")
    assert load_page(path).clauses[0].states == ("established", "close-notify-sent")
