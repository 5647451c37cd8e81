"""The benchmark script runs end to end on a real stack and writes its JSON (tiny sizes: a smoke test, no timing
assertion)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def test_benchmark_writes_figures(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--stack", "stdlib", "--stack", "pyopenssl", "--rounds", "1",
                           "--handshakes", "2", "--bulk-mib", "1", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert set(data["stacks"]) == {"stdlib", "pyopenssl"}
    for figures in data["stacks"].values():
        assert figures["handshakes_per_s"] > 0 and figures["bulk_mib_per_s"] > 0
    assert data["stacks"]["pyopenssl"]["handshake_ratio_to_pyopenssl"] == 1.0
    assert "handshakes/s" in proc.stdout


def test_benchmark_unknown_stack_is_reported(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--stack", "nope"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "skipping nope" in proc.stderr
