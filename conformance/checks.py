"""Checks made before the first case runs: options, the report directory, the stack adapters and their
expectations files.

Each problem is one line that names the option, file or field and says what to do; :func:`preflight` collects them
all, so a user fixes everything in one go. The pytest plugin turns them into one usage error (nothing is collected,
no record is written); ``conformance run`` calls the same function and exits with status 2 before starting pytest.
Nothing here raises for a broken adapter: whatever it raises becomes a problem line.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from conformance.catalogue import Catalogue, CatalogueError, load_catalogue
from conformance.expectations import OPEN_CASE, check_expectations, expectations_file
from conformance.results import ReportDir
from conformance.stacks import CAPABILITIES, StackAdapter, StackUnavailable, discover, load_stack

__all__ = ["OPEN_CASE", "SEED_ENV", "Settings", "case_names", "check_adapter", "parse_seed", "preflight"]

SEED_ENV = "CONFORMANCE_RUN_SEED"


@dataclass
class Settings:
    """What a run was asked to do, from the command line or pytest's options."""

    stacks: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    report: Path | None = None
    seed: int | None = None
    workers: object = 0  # pytest-xdist's -n: an int, "auto" or "logical"
    deadline: float = 0.0
    memory_mib: int = 0
    case_paths: list[Path] = field(default_factory=list)  # where the cases are (for the expectations check)


def parse_seed(environ: Mapping[str, str]) -> tuple[int | None, str | None]:
    """The seed from ``CONFORMANCE_RUN_SEED`` (None when unset) and a problem line when it is not a number."""
    raw = environ.get(SEED_ENV, "").strip()
    if not raw:
        return None, None
    try:
        return int(raw), None
    except ValueError:
        return None, f"{SEED_ENV}={raw!r} is not an integer: set it to a number or unset it"


def check_adapter(adapter: StackAdapter, label: str) -> list[str]:
    """Whether an adapter answers what the harness asks before running cases: name, version, capabilities and
    expectations path."""
    problems: list[str] = []
    where = f"stack {label} ({type(adapter).__module__}.{type(adapter).__qualname__})"
    if not isinstance(getattr(adapter, "name", None), str) or not adapter.name:
        problems.append(f"{where}: 'name' must be a non-empty string; set the class attribute")
    try:
        version = adapter.version()
    except Exception as exc:
        problems.append(f"{where}: version() raised {type(exc).__name__}: {_one_line(exc)}; fix the adapter or "
                        "leave the stack out with --stack")
    else:
        if not isinstance(version, str) or not version.strip():
            problems.append(f"{where}: version() returned {version!r}; it must return the library version as a "
                            "non-empty string")
    try:
        capabilities = set(adapter.capabilities)
    except Exception as exc:
        problems.append(f"{where}: 'capabilities' cannot be read ({type(exc).__name__}: {_one_line(exc)})")
    else:
        unknown = sorted(str(c) for c in capabilities if c not in CAPABILITIES)
        if unknown:
            problems.append(f"{where}: unknown capabilities {', '.join(unknown)}; see 'conformance stacks -v' for "
                            "the known ones")
    path = getattr(adapter, "expectations_path", None)
    if path is not None and not isinstance(path, (str, os.PathLike)):
        problems.append(f"{where}: 'expectations_path' must be a path or None, not {type(path).__name__}")
    return problems


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or "(no message)"


def _load_stacks(names: list[str]) -> tuple[list[StackAdapter], list[str]]:
    problems: list[str] = []
    adapters: list[StackAdapter] = []
    if names:
        for name in dict.fromkeys(names):
            try:
                adapters.append(load_stack(name))
            except StackUnavailable as exc:
                problems.append(f"--stack {name}: {_one_line(exc)}")
            except Exception as exc:  # a module:Class adapter under development may raise anything
                problems.append(f"--stack {name}: loading the adapter raised {type(exc).__name__}: "
                                f"{_one_line(exc)}; fix the adapter")
    else:
        adapters = [info.adapter for info in discover().values() if info.installed and info.adapter]
        if not adapters:
            problems.append("no stack is installed here: see 'conformance stacks'")
    return adapters, problems


def case_names(paths: Iterable[Path]) -> dict[str, set[str]] | None:
    """Case function names -> the clause ids their marks name, read from the test files under ``paths`` without
    importing them; ``None`` when no test file is found (then entries cannot be checked against cases). A case
    some of whose clause ids cannot be read without running the file (an id built from a loop variable, parameters
    made by a function) has :data:`conformance.expectations.OPEN_CASE` among them; its entries' clauses are checked
    against the collected case by tests/conformance/test_checks.py instead."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("test_*.py") if ".venv" not in p.parts)
        elif path.suffix == ".py" and path.exists():
            files.append(path)
    if not files:
        return None
    names: dict[str, set[str]] = {}
    for file in files:
        for name, clauses in _file_cases(file).items():
            names.setdefault(name, set()).update(clauses)
    return names


def _suite_cases() -> Path:
    import specs

    return Path(specs.__file__).parent / "cases"


@functools.cache
def _catalogue() -> Catalogue:
    """The catalogue, read once per process (the checks run in the CLI and again in the plugin)."""
    return load_catalogue()


_parsed: dict[tuple[Path, int, int], dict[str, set[str]]] = {}

class _Clauses:
    """The clause ids a case function's marks name, read from its module's syntax tree: literal strings, module
    constants (``CLAUSE = "..."``, tuples of them, ``*NAMES``), f-strings of module constants, and the marks of
    ``pytest.param(..., marks=pytest.mark.clauses(...))`` in its parametrize decorators (inline, or a module-level
    name or function they name). Anything else makes the case open (:data:`OPEN_CASE`)."""

    def __init__(self, tree: ast.Module) -> None:
        self.names: dict[str, ast.AST] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.names[node.targets[0].id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                self.names[node.target.id] = node.value
            elif isinstance(node, ast.FunctionDef):
                self.names.setdefault(node.name, node)

    def strings(self, node: ast.AST, depth: int = 0) -> set[str] | None:
        """The strings ``node`` stands for (one, or the items of a sequence), or None when they cannot be read."""
        if depth > 8:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.Name) and isinstance(self.names.get(node.id), ast.expr):
            return self.strings(self.names[node.id], depth + 1)
        if isinstance(node, ast.Starred):
            return self.strings(node.value, depth + 1)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            found: set[str] = set()
            for item in node.elts:
                got = self.strings(item, depth + 1)
                if got is None:
                    return None
                found |= got
            return found
        if isinstance(node, ast.JoinedStr):
            text = ""
            for part in node.values:
                got = self.strings(part.value if isinstance(part, ast.FormattedValue) else part, depth + 1)
                if isinstance(part, ast.FormattedValue) and (part.conversion != -1 or part.format_spec):
                    return None
                if got is None or len(got) != 1:
                    return None
                text += next(iter(got))
            return {text}
        return None

    def marks(self, node: ast.AST, clauses: set[str], seen: set[str], depth: int = 0) -> bool:
        """Add the clause ids of every ``*.clauses(...)`` call in ``node`` (following module-level names and functions
        it uses) to ``clauses``; False when one of them cannot be read."""
        known = True
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and getattr(sub.func, "attr", "") == "clauses":
                for arg in sub.args:
                    got = self.strings(arg)
                    if got is None:
                        known = False
                    else:
                        clauses |= got
            elif isinstance(sub, ast.Name) and sub.id in self.names and sub.id not in seen and depth < 4:
                seen.add(sub.id)
                known &= self.marks(self.names[sub.id], clauses, seen, depth + 1)
        return known

    def of(self, function: ast.FunctionDef) -> set[str]:
        clauses: set[str] = set()
        known = True
        for deco in function.decorator_list:
            known &= self.marks(deco, clauses, {function.name})
        if not known:
            clauses.add(OPEN_CASE)
        return clauses


def _file_cases(file: Path) -> dict[str, set[str]]:
    """The case functions of one file (parsed once per content version: the suite's files are big)."""
    try:
        stat = file.stat()
        key = (file.resolve(), stat.st_mtime_ns, stat.st_size)
        if key in _parsed:
            return _parsed[key]
        tree = ast.parse(file.read_bytes(), filename=str(file))
    except (SyntaxError, ValueError, OSError):
        return {}  # pytest reports it as a collection error with the details
    names: dict[str, set[str]] = {}
    reader = _Clauses(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            names.setdefault(node.name, set()).update(reader.of(node))
    _parsed[key] = names
    return names


def preflight(settings: Settings) -> tuple[list[StackAdapter], list[str]]:
    """The selected adapters and every problem found; cases may run only when the list of problems is empty."""
    problems: list[str] = []
    workers = settings.workers
    if isinstance(workers, int) and workers < 0:
        problems.append(f"-n {workers}: the number of worker processes must be 0 (none) or more, or 'auto'")
    if settings.deadline < 0:
        problems.append(f"--case-deadline {settings.deadline:g}: must be 0 (no deadline) or a number of seconds")
    if settings.memory_mib < 0:
        problems.append(f"--case-memory {settings.memory_mib}: must be 0 (no limit) or a number of MiB")
    if settings.report is not None:
        why = ReportDir(settings.report).check_writable()
        if why:
            problems.append(why)
    try:
        catalogue = _catalogue()
    except CatalogueError as exc:
        return [], [*problems, f"catalogue: {_one_line(exc)}"]
    unknown = [p for p in settings.pages if p not in catalogue.pages]
    if unknown:
        problems.append(f"--page {', '.join(unknown)}: unknown page; known pages: {', '.join(sorted(catalogue.pages))}")
    adapters, stack_problems = _load_stacks(settings.stacks)
    problems += stack_problems
    cases = case_names([_suite_cases(), *settings.case_paths])
    clause_ids = {c.id for page in catalogue.pages.values() for c in page.clauses}
    for adapter in adapters:
        adapter_problems = check_adapter(adapter, getattr(adapter, "name", "?") or "?")
        problems += adapter_problems
        if adapter_problems:
            continue
        path = expectations_file(adapter.name, getattr(adapter, "expectations_path", None))
        problems += check_expectations(adapter.name, path, cases, clause_ids)
    return adapters, problems
