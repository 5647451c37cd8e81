"""An interoperability case whose loops may go on by the harness's own "call again" (Pair.wants_again, used by
test_interop._exchange) and that claims a clause on retry codes must end with assert_retries_reported, so a stack
that answered a retry with another code (the gnutls layer: 0 / SSL_ERROR_ZERO_RETURN) still fails that clause."""

from __future__ import annotations

import ast
from pathlib import Path

from specs.cases._wire import RETRY_CODE_CLAUSES

CASES = Path(__file__).resolve().parents[2] / "specs" / "cases"
USES_SIGNAL = ("_exchange", "wants_again")


def _clauses(function: ast.FunctionDef) -> list[str]:
    found = []
    for decorator in function.decorator_list:
        if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "clauses"):
            found += [a.value for a in decorator.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return found


def _names(function: ast.FunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


def test_interop_cases_claiming_retry_codes_check_them_at_the_end() -> None:
    checked = 0
    missing = []
    for path in sorted(CASES.glob("test_interop*.py")):
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            names = _names(node)
            if not names & set(USES_SIGNAL):
                continue
            checked += 1
            retry_clauses = [c for c in _clauses(node) if c.startswith(RETRY_CODE_CLAUSES)]
            if retry_clauses and "assert_retries_reported" not in names:
                missing.append(f"{path.name}::{node.name} ({', '.join(retry_clauses)})")
    assert checked > 20, f"only {checked} interop cases found using the harness's call-again: the scan is broken"
    assert not missing, f"claims a retry-code clause but never calls assert_retries_reported: {missing}"
