"""The command line: run (exit status, records, report), stacks, clauses, report; clear usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cli import main


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], capture_output=True, text=True,
                          timeout=600)


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "stacks", "clauses", "report"):
        assert command in out


def test_stacks_lists_the_builtin_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stacks"]) == 0
    out = capsys.readouterr().out
    for name in ("pyopenssl", "stdlib", "tlslite"):
        assert name in out
    assert "capabilities:" in out and "OpenSSL 3.0" in out


def test_clauses_shows_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clauses", "--page", "SSL_read"]) == 0
    out = capsys.readouterr().out
    assert "== SSL_read" in out and "cases: test_" in out and "NO CASE" not in out


def test_unknown_stack_and_page_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--stack", "nope"]) == 2
    assert "no stack named 'nope'" in capsys.readouterr().err
    assert main(["run", "--page", "SSL_nope"]) == 2
    assert "unknown page" in capsys.readouterr().err
    assert main(["clauses", "--page", "SSL_nope"]) == 2


def test_run_one_stack_one_page_writes_records_and_report(tmp_path: Path) -> None:
    report = tmp_path / "rep"
    proc = _run("run", "--stack", "stdlib", "--page", "SSL_write", "--report", str(report), "--seed", "5")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines()]
    verdicts = [r for r in lines if r["kind"] == "verdict"]
    assert verdicts and all(r["stack"] == "stdlib" for r in verdicts)
    assert all(any(c.startswith("SSL_write/") for c in r["clauses"]) for r in verdicts)
    assert {r["verdict"] for r in verdicts} <= {"passed", "not-applicable", "expected-deviation"}
    assert (report / "index.html").exists()
    rebuilt = tmp_path / "again"
    assert main(["report", str(report / "results.jsonl"), "--report", str(rebuilt)]) == 0
    assert (rebuilt / "index.html").read_text().count("SSL_write") > 3


def test_run_exit_status_is_one_when_a_verdict_is_bad(tmp_path: Path) -> None:
    fake = tmp_path / "wrongstack.py"
    fake.write_text(
        "from conformance.outcome import Outcome, SslError\n"
        "from conformance.stacks.stdlib import StdlibEndpoint, StdlibStack\n"
        "class E(StdlibEndpoint):\n"
        "    def _run(self, op, args, fn):\n"
        "        out = super()._run(op, args, fn)\n"
        "        ret = out.ret + 1 if out.ok else out.ret\n"
        "        return Outcome(out.op, ret, out.error, out.data, out.reason, out.args)\n"
        "class Wrong(StdlibStack):\n"
        "    name = 'wrong'\n"
        "    def endpoint(self, config, label):\n"
        "        return E(config, label)\n")
    report = tmp_path / "rep"
    proc = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--stack", "wrongstack:Wrong",
                           "--page", "SSL_write", "--report", str(report)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "failed" in proc.stdout
