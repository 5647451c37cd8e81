"""A bytecode cache outside the source tree, for environments that set ``PYTHONDONTWRITEBYTECODE``.

Where ``PYTHONDONTWRITEBYTECODE`` is set (the machine this project is developed on sets it for every process),
Python writes no ``.pyc`` files: every process compiles the project's modules again, and pytest assertion-rewrites
every test and case module again (its rewritten bytecode is cached only where Python may write bytecode). Each
``conformance run`` or ``pytest`` process, and each xdist worker, then spends several seconds of CPU before its
first case: collecting ``specs/cases`` took 12.9 s of CPU without a cache and 7.3 s with this one (2026-12-03).

The usual reason for the setting is to keep ``__pycache__`` directories out of the source tree. This module keeps
that and still caches: it moves the bytecode under ``.cache/pycache`` of the checkout (``PYTHONPYCACHEPREFIX``; the
directory is git-ignored), or under the user's cache directory where the package is not in a checkout. It acts
when it is imported, which the project's pytest configuration does first of all (``-p conformance.pycache`` in
pyproject.toml's addopts, before the plugins installed in the environment are imported) and ``conformance run`` does
before it starts pytest; the environment it leaves behind (``PYTHONPYCACHEPREFIX`` set,
``PYTHONDONTWRITEBYTECODE`` removed) reaches the xdist workers and every other process the run starts.

A ``PYTHONPYCACHEPREFIX`` already set is left alone, and so is everything when ``CONFORMANCE_BYTECODE_CACHE=0``.
Python ignores a cache it cannot write (a read-only disk), so the worst case is the old cost.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["cache_dir", "use_bytecode_cache"]


def cache_dir() -> Path:
    """``<checkout>/.cache/pycache`` when this package sits in a checkout (pyproject.toml beside it), else
    ``$XDG_CACHE_HOME/conformance/pycache`` (``~/.cache`` by default)."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file():
        return root / ".cache" / "pycache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "conformance" / "pycache"


def use_bytecode_cache() -> bool:
    """Write bytecode under :func:`cache_dir` instead of nowhere, in this process and the ones it starts; True if it
    changed anything."""
    if not sys.dont_write_bytecode or sys.pycache_prefix is not None:
        return False
    if os.environ.get("CONFORMANCE_BYTECODE_CACHE", "1") == "0":
        return False
    prefix = str(cache_dir())
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    return True


use_bytecode_cache()
