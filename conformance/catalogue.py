"""The clause catalogue: one TOML file per man page under ``specs/catalogue``.

A clause is one documented return value, behaviour or caller obligation of a page, with a stable id of the form
``page/section/tag``. The schema is described in ``specs/README.md``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

__all__ = ["KINDS", "RULES", "STATES", "Catalogue", "CatalogueError", "Clause", "Page", "load_catalogue"]

KINDS = frozenset({"return-value", "behaviour", "caller-obligation"})
# Which rule the engine follows for a clause where that needs saying: the page states the result ("page"), or the
# page is silent and OpenSSL 3.0's behaviour is followed ("openssl-3.0 (page silent)").
RULES = frozenset({"page", "openssl-3.0 (page silent)"})
# The connection states a clause's text can name (see specs/README.md, "States"): a clause lists those it names in
# ``states``; a case declares the state it puts the object in with ``@pytest.mark.states(...)``, and every state a
# clause names needs a case claiming the clause in that state.
STATES = frozenset({
    "before-handshake",       # role and transport set, no handshake step taken yet
    "mid-handshake",          # the handshake started and stopped at a WANT_READ / WANT_WRITE point
    "established",            # the handshake completed, no close_notify in either direction
    "close-notify-sent",      # our SSL_shutdown sent close_notify (SSL_SENT_SHUTDOWN), the peer's not received
    "close-notify-received",  # the peer's close_notify was read (SSL_RECEIVED_SHUTDOWN, SSL_ERROR_ZERO_RETURN)
    "fatal-alert",            # a fatal error ended the connection (a fatal alert sent or received, SSL_ERROR_SSL)
    "after-clear",            # a used object reset with SSL_clear()
    "null-handle",            # the function is given a NULL object
})
SCHEMA_VERSION = 1


class CatalogueError(ValueError):
    """A catalogue file does not follow the schema; the message names the file and the field."""


@dataclass(frozen=True)
class Clause:
    id: str
    page: str
    section: str
    kind: str
    statement: str
    functions: tuple[str, ...]
    inventory: tuple[str, ...] = ()
    unobservable: str = ""
    note: str = ""
    rule: str = ""
    states: tuple[str, ...] = ()  # the states of STATES the clause's text names


@dataclass(frozen=True)
class Page:
    name: str
    pod: str
    seed: str
    functions: tuple[str, ...]
    clauses: tuple[Clause, ...]
    source: str = ""  # for pages that are not man pages: a path under ../shared (rfcs/rfc9846.txt) or an https URL

    @property
    def document(self) -> str:
        """The file the clauses come from, relative to ../shared."""
        return self.source or f"openssl-docs/3.0/{self.pod}"


@dataclass
class Catalogue:
    pages: dict[str, Page] = field(default_factory=dict)

    @property
    def clauses(self) -> dict[str, Clause]:
        return {c.id: c for p in self.pages.values() for c in p.clauses}

    def __iter__(self) -> Iterator[Clause]:
        for page in self.pages.values():
            yield from page.clauses

    def select(self, pages: Iterable[str] | None) -> Catalogue:
        """The catalogue restricted to the named pages; an unknown page name is an error that lists the known."""
        if not pages:
            return self
        wanted = list(pages)
        unknown = [p for p in wanted if p not in self.pages]
        if unknown:
            raise CatalogueError(
                f"unknown page(s) {', '.join(unknown)}; known pages: {', '.join(sorted(self.pages))}"
            )
        return Catalogue({p: self.pages[p] for p in wanted})


def default_directory() -> Path:
    return Path(str(resources.files("specs") / "catalogue"))


def _str(table: dict[str, object], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise CatalogueError(f"{where}: '{key}' must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise CatalogueError(f"{where}: '{key}' is required and must not be empty")
    return value


def _strs(table: dict[str, object], key: str, where: str, *, required: bool = True) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogueError(f"{where}: '{key}' must be a list of strings")
    if required and not value:
        raise CatalogueError(f"{where}: '{key}' must list at least one entry")
    return tuple(value)


def load_page(path: Path) -> Page:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from exc
    if data.get("schema") != SCHEMA_VERSION:
        raise CatalogueError(f"{path}: 'schema' must be {SCHEMA_VERSION}, got {data.get('schema')!r}")
    page = data.get("page")
    if not isinstance(page, dict):
        raise CatalogueError(f"{path}: missing [page] table")
    name = _str(page, "name", f"{path} [page]")
    if name != path.stem:
        raise CatalogueError(f"{path}: [page] name {name!r} differs from the file name {path.stem!r}")
    raw_clauses = data.get("clause", [])
    if not isinstance(raw_clauses, list) or not raw_clauses:
        raise CatalogueError(f"{path}: no [[clause]] entries")
    clauses: list[Clause] = []
    for index, raw in enumerate(raw_clauses):
        where = f"{path} clause #{index + 1}"
        if not isinstance(raw, dict):
            raise CatalogueError(f"{where}: must be a table")
        cid = _str(raw, "id", where)
        where = f"{path} clause {cid!r}"
        section = _str(raw, "section", where)
        if not cid.startswith(f"{name}/{section}/") or cid.endswith("/"):
            raise CatalogueError(f"{where}: id must read '{name}/{section}/<tag>'")
        kind = _str(raw, "kind", where)
        if kind not in KINDS:
            raise CatalogueError(f"{where}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
        rule = _str(raw, "rule", where, required=False)
        if rule and rule not in RULES:
            raise CatalogueError(f"{where}: rule {rule!r} is not one of {', '.join(sorted(RULES))}")
        states = _strs(raw, "states", where, required=False)
        unknown = [state for state in states if state not in STATES]
        if unknown:
            raise CatalogueError(f"{where}: state(s) {', '.join(map(repr, unknown))} not one of "
                                 f"{', '.join(sorted(STATES))}")
        clauses.append(
            Clause(
                id=cid,
                page=name,
                section=section,
                kind=kind,
                statement=" ".join(_str(raw, "statement", where).split()),
                functions=_strs(raw, "functions", where),
                inventory=_strs(raw, "inventory", where, required=False),
                unobservable=" ".join(_str(raw, "unobservable", where, required=False).split()),
                note=" ".join(_str(raw, "note", where, required=False).split()),
                rule=rule,
                states=states,
            )
        )
    source = _str(page, "source", f"{path} [page]", required=False)
    return Page(
        name=name,
        source=source,
        pod=_str(page, "pod", f"{path} [page]", required=not source),
        seed=_str(page, "seed", f"{path} [page]", required=False),
        functions=_strs(page, "functions", f"{path} [page]"),
        clauses=tuple(clauses),
    )


def load_catalogue(directory: Path | None = None) -> Catalogue:
    directory = directory or default_directory()
    catalogue = Catalogue()
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.toml")):
        page = load_page(path)
        for clause in page.clauses:
            if clause.id in seen:
                raise CatalogueError(f"{path}: clause id {clause.id!r} already defined in {seen[clause.id]}")
            seen[clause.id] = path
        catalogue.pages[page.name] = page
    return catalogue
