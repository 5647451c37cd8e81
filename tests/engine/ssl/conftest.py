"""Fixtures for tests/engine/ssl."""

from __future__ import annotations

import pytest

from conformance.capi.libssl import LibsslApi


@pytest.fixture(scope="module")
def libssl() -> LibsslApi:
    """The system's libssl through ctypes, for tests that run the engine against it; skips where there is none."""
    try:
        return LibsslApi()
    except OSError as exc:  # pragma: no cover - the CI image has libssl 3
        pytest.skip(f"no system libssl: {exc}")
