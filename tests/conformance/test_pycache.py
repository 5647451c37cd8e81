"""conformance.pycache: where PYTHONDONTWRITEBYTECODE is set, bytecode goes to a cache outside the source tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conformance.pycache import cache_dir

PROBE = ("import json, os, sys; import conformance.pycache; "
         "print(json.dumps([sys.pycache_prefix, sys.dont_write_bytecode, os.environ.get('PYTHONPYCACHEPREFIX'), "
         "os.environ.get('PYTHONDONTWRITEBYTECODE')]))")


def _probe(**env: str) -> list[object]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE", "CONFORMANCE_BYTECODE_CACHE")}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**base, **env}, capture_output=True, text=True,
                         check=True, timeout=60)
    result: list[object] = json.loads(out.stdout)
    return result


def test_no_bytecode_becomes_a_cache_outside_the_tree() -> None:
    prefix = str(cache_dir())
    assert _probe(PYTHONDONTWRITEBYTECODE="1") == [prefix, False, prefix, None]


def test_a_prefix_of_ones_own_or_the_opt_out_is_left_alone() -> None:
    assert _probe(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX="/tmp/mine") == ["/tmp/mine", True, "/tmp/mine", "1"]
    assert _probe(PYTHONDONTWRITEBYTECODE="1", CONFORMANCE_BYTECODE_CACHE="0") == [None, True, None, "1"]


def test_python_writing_bytecode_anyway_is_left_alone() -> None:
    assert _probe() == [None, False, None, None]
