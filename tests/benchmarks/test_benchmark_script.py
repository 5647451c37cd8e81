"""The benchmark script runs end to end on real stacks and writes its JSON (tiny budgets: a smoke test, no timing
assertion). What is checked is that the fairness rules hold: every stack measured negotiated the same version and
suite, the ceiling is measured in the same run, every ratio has its spread, and memory is measured per pair."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def _run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)


def test_benchmark_writes_fair_figures(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = _run("--stack", "engine", "--stack", "stdlib", "--stack", "pyopenssl", "--versions", "1.3",
                "--rounds", "2", "--seconds", "0.01", "--pairs", "3", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["group"] == "x25519" and data["suite13"] == "TLS_AES_256_GCM_SHA384"
    stacks = data["versions"]["1.3"]
    assert set(stacks) == {"engine", "stdlib", "pyopenssl", "ceiling"}
    for name, figures in stacks.items():
        assert figures["handshakes_per_cpu_s"] > 0 and figures["bulk_mib_per_cpu_s"] > 0, name
        assert figures["handshakes_per_wall_s"] > 0 and figures["bulk_mib_per_wall_s"] > 0, name
        assert len(figures["rounds"]["handshakes_per_cpu_s"]) == 2, name
        spread = figures["handshake_x_ceiling"]
        assert spread["min"] <= spread["median"] <= spread["max"], name
    assert stacks["pyopenssl"]["handshake_x_pyopenssl"]["median"] == 1.0
    assert stacks["stdlib"]["bulk_x_stdlib"]["median"] == 1.0
    assert stacks["ceiling"]["handshake_x_ceiling"]["median"] == 1.0
    assert stacks["engine"]["host_name_checked"] is True
    assert stacks["engine"]["memory_bytes_per_idle_pair"]["python_bytes_per_pair"] > 0
    assert stacks["ceiling"]["memory_bytes_per_idle_pair"] is None
    assert "x pyOpenSSL" in proc.stdout and "x ceiling" in proc.stdout


def test_benchmark_unknown_stack_is_reported(tmp_path: Path) -> None:
    proc = _run("--stack", "nope", "--versions", "1.3", "--rounds", "1", "--seconds", "0.01", "--pairs", "0",
                timeout=120)
    assert proc.returncode == 2 and "skipping nope" in proc.stderr


def test_benchmark_rejects_unknown_version() -> None:
    proc = _run("--versions", "1.1", timeout=60)
    assert proc.returncode == 2 and "--versions" in proc.stderr
