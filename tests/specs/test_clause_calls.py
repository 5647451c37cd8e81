"""No clause is claimed by a case that never calls a function the clause is about.

The cases run on the two C-API stacks whose every call is traced (``engine`` and ``libssl``); each verdict record
lists the functions the case called (through an endpoint or directly through ``h.capi``). A case that passed
while claiming, say, ``SSL_accept/RETURN VALUES/1`` must have called ``SSL_accept``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[2]


def hollow_claims(records: list[dict[str, object]]) -> list[str]:
    """``case [stack]: clause (calls none of f, g)`` for every passed verdict claiming a clause none of whose
    functions the case called."""
    clauses = load_catalogue().clauses
    problems = []
    for record in records:
        if record.get("kind") != "verdict" or record.get("verdict") != "passed":
            continue
        called = set(record.get("functions", ()))  # type: ignore[arg-type]
        for cid in record["clauses"]:  # type: ignore[attr-defined]
            functions = set(clauses[cid].functions)
            if functions and not functions & called:
                problems.append(f"{record['nodeid']}: {cid} (calls none of {', '.join(sorted(functions))})")
    return sorted(set(problems))


def test_hollow_claims_are_found() -> None:
    record = {"kind": "verdict", "verdict": "passed", "nodeid": "x[engine]", "clauses": ["SSL_accept/RETURN VALUES/1"],
              "functions": ["SSL_do_handshake", "SSL_get_error"]}
    assert hollow_claims([record]) == ["x[engine]: SSL_accept/RETURN VALUES/1 (calls none of SSL_accept)"]
    record["functions"] = ["SSL_accept", "SSL_get_error"]
    assert hollow_claims([record]) == []


def test_no_case_claims_a_clause_of_a_function_it_never_calls(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pytest", "specs/cases", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--stack", "engine", "--stack", "libssl", "--conformance-report", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines() if line.strip()]
    assert sum(r.get("kind") == "verdict" for r in records) > 300, "the run recorded too few verdicts"
    problems = hollow_claims(records)
    assert not problems, "clauses claimed by cases that never call their function:\n  " + "\n  ".join(problems)
