"""The mutation sweep's lists (tools/mutants*.toml) still point at the engine's code: every entry's ``find`` text is
where the entry says, once (or at its ``nth`` occurrence). A change that moves or copies a mutated line makes the
list stale, and the sweep then refuses to run; this catches it when the change lands, not at the next sweep."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["mutants.toml", "mutants2.toml"])
def test_every_mutant_is_found_in_its_file(name: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "mutate.py"), "--check", "--list",
                           str(ROOT / "tools" / name)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, f"tools/{name} is stale:\n{done.stdout}{done.stderr}"
    assert "each found in its file" in done.stdout
