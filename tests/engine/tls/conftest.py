"""Fixtures for tests/engine/tls; helpers live in tls13_testlib (put on sys.path here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tls13_testlib import PKI, Step, load_rfc8448, make_pki


@pytest.fixture(scope="session")
def rfc8448() -> dict[str, list[Step]]:
    return load_rfc8448()


@pytest.fixture(scope="session")
def pki() -> PKI:
    return make_pki()
