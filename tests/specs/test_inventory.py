"""The inventory cross-check: every line of ../shared/spec-inventory.md (a documented return value or behaviour of
one of the 50 pages) is covered by some clause's ``inventory`` list, or is listed in specs/inventory_exclusions.toml
with the reason it is not (yet)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from conformance.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT.parent / "shared" / "spec-inventory.md"
EXCLUSIONS = ROOT / "specs" / "inventory_exclusions.toml"
_LINE = re.compile(r"^\| ([A-Za-z0-9_]+:(?:RV|B)\d+) \|")


def _inventory() -> list[str]:
    if not INVENTORY.is_file():
        pytest.skip(f"the inventory is not beside the checkout ({INVENTORY})")
    return [m.group(1) for line in INVENTORY.read_text(encoding="utf-8").splitlines() if (m := _LINE.match(line))]


def _exclusions() -> dict[str, str]:
    data = tomllib.loads(EXCLUSIONS.read_text(encoding="utf-8"))
    assert data.get("schema") == 1, "specs/inventory_exclusions.toml: 'schema' must be 1"
    lines = data.get("lines", {})
    assert isinstance(lines, dict)
    return {str(k): str(v) for k, v in lines.items()}


def _covered() -> set[str]:
    return {ref for clause in load_catalogue() for ref in clause.inventory}


def test_every_inventory_line_is_covered_or_excluded_with_a_reason() -> None:
    excluded = _exclusions()
    covered = _covered()
    missing = [i for i in _inventory() if i not in covered and i not in excluded]
    assert not missing, "inventory lines no clause covers and no exclusion explains:\n  " + "\n  ".join(missing)


def test_exclusions_are_real_reasoned_and_not_stale() -> None:
    lines = set(_inventory())
    excluded = _exclusions()
    unknown = sorted(set(excluded) - lines)
    assert not unknown, f"exclusions naming lines the inventory does not have: {unknown}"
    blank = sorted(i for i, why in excluded.items() if len(why.split()) < 3)
    assert not blank, f"exclusions without a reason: {blank}"
    stale = sorted(set(excluded) & _covered())
    assert not stale, f"exclusions for lines a clause now covers (remove them): {stale}"


def test_clause_inventory_references_exist() -> None:
    lines = set(_inventory())
    unknown = sorted((c.id, ref) for c in load_catalogue() for ref in c.inventory if ref not in lines)
    assert not unknown, f"clauses citing inventory lines that do not exist: {unknown}"
