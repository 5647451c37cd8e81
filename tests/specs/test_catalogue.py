"""The clause catalogue: schema, coverage by cases, expectations pointing at real cases and clauses."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.catalogue import CatalogueError, load_catalogue, load_page
from conformance.coverage import case_clauses
from conformance.expectations import builtin_path, load_expectations
from conformance.stacks import CAPABILITIES, discover

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
ISSUE2_PAGES = {"SSL_accept", "SSL_connect", "SSL_do_handshake", "SSL_get_error", "SSL_read", "SSL_write"}


def test_catalogue_has_the_pages() -> None:
    catalogue = load_catalogue()
    assert set(catalogue.pages) >= ISSUE2_PAGES


def test_every_clause_has_a_case_or_a_reason() -> None:
    covered = {cid for ref in case_clauses() for cid in ref.clauses}
    missing = [c.id for c in load_catalogue() if c.id not in covered and not c.unobservable]
    assert not missing, "clauses with neither a case nor an 'unobservable' reason:\n  " + "\n  ".join(missing)


def test_every_clause_a_case_names_exists() -> None:
    clauses = load_catalogue().clauses
    unknown = [(ref.name, cid) for ref in case_clauses() for cid in ref.clauses if cid not in clauses]
    assert not unknown, f"cases naming clauses that are not in the catalogue: {unknown}"


def test_every_case_names_a_clause_and_known_capabilities() -> None:
    for ref in case_clauses():
        assert ref.clauses, f"{ref.module}.{ref.name} names no clause"
        unknown = set(ref.needs) - set(CAPABILITIES)
        assert not unknown, f"{ref.name} needs unknown capabilities {unknown}"


def test_unobservable_clauses_have_no_case() -> None:
    covered = {cid for ref in case_clauses() for cid in ref.clauses}
    both = [c.id for c in load_catalogue() if c.unobservable and c.id in covered]
    assert not both, f"clauses marked unobservable although a case checks them: {both}"


def test_pages_name_existing_pod_files() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"the OpenSSL pages are not beside the checkout ({SHARED})")
    for page in load_catalogue().pages.values():
        if page.document.startswith("https://"):
            continue  # a public document that ../shared does not hold (RFC 5246)
        assert (SHARED / page.document).is_file(), f"{page.name}: {page.document} not in {SHARED}"


def test_expectations_name_existing_cases_and_clauses() -> None:
    cases = {ref.name for ref in case_clauses()}
    clauses = load_catalogue().clauses
    for name in discover():
        if not builtin_path(name).exists():
            continue
        for case, deviations in load_expectations(name).items():
            assert case in cases, f"{name}.toml lists {case!r}, which is not a case"
            for deviation in deviations:
                for cid in deviation.clauses:
                    assert cid in clauses, f"{name}.toml: {case} names unknown clause {cid!r}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema = 2", "'schema' must be 1"),
        ("schema = 1\n[page]\nname='X'\npod='X.pod'\nfunctions=['X']", "no \\[\\[clause\\]\\]"),
        ("schema = 1\n[page]\nname='X'\npod='X.pod'\nfunctions=['X']\n[[clause]]\nid='X/NOTES/a'\n"
         "section='DESCRIPTION'\nkind='behaviour'\nstatement='s'\nfunctions=['X']", "id must read"),
        ("schema = 1\n[page]\nname='X'\npod='X.pod'\nfunctions=['X']\n[[clause]]\nid='X/NOTES/a'\n"
         "section='NOTES'\nkind='rule'\nstatement='s'\nfunctions=['X']", "kind 'rule'"),
        ("schema = 1\n[page]\nname='X'\npod='X.pod'\nfunctions=['X']\n[[clause]]\nid='X/NOTES/a'\n"
         "section='NOTES'\nkind='behaviour'\nstatement='s'\nfunctions=['X']\nrule='libssl'", "rule 'libssl'"),
        ("schema = 1\n[page]\nname='Y'\npod='X.pod'\nfunctions=['X']", "differs from the file name"),
        ("schema = [", "not valid TOML"),
    ],
)
def test_schema_errors_are_clear(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "X.toml"
    path.write_text(text)
    with pytest.raises(CatalogueError, match=message):
        load_page(path)


def test_duplicate_ids_across_pages_are_rejected(tmp_path: Path) -> None:
    body = ("schema = 1\n[page]\nname='{n}'\npod='{n}.pod'\nfunctions=['f']\n[[clause]]\nid='A/NOTES/x'\n"
            "section='NOTES'\nkind='behaviour'\nstatement='s'\nfunctions=['f']\n")
    (tmp_path / "A.toml").write_text(body.format(n="A"))
    (tmp_path / "A2.toml").write_text(body.format(n="A2").replace("id='A/NOTES/x'", "id='A/NOTES/x'"))
    with pytest.raises(CatalogueError):
        load_catalogue(tmp_path)


@pytest.mark.parametrize("rule", ["page", "openssl-3.0 (page silent)"])
def test_rule_values_are_accepted(tmp_path: Path, rule: str) -> None:
    path = tmp_path / "X.toml"
    path.write_text("schema = 1\n[page]\nname='X'\npod='X.pod'\nfunctions=['X']\n[[clause]]\nid='X/NOTES/a'\n"
                    f"section='NOTES'\nkind='behaviour'\nstatement='s'\nfunctions=['X']\nrule='{rule}'")
    assert load_page(path).clauses[0].rule == rule


def test_rules_in_the_catalogue_come_with_a_note() -> None:
    """A clause that follows OpenSSL because the page is silent says in its note what OpenSSL does."""
    silent = [c.id for c in load_catalogue() if c.rule == "openssl-3.0 (page silent)" and not c.note]
    assert not silent, f"clauses following OpenSSL 3.0 without a note saying what it does: {silent}"
