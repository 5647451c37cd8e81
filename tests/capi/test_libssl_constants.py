"""Every constant of the C-API tier has the value of the OpenSSL 3 headers: checked by compiling the headers.

Needs a C compiler and the OpenSSL development headers (Debian: ``apt-get install libssl-dev``); skipped otherwise.
"""

from __future__ import annotations

import enum
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

import engine.ssl.constants as ssl_constants

HEADERS = ("ssl.h", "tls1.h", "err.h", "x509.h", "x509_vfy.h", "bio.h", "sslerr.h", "bioerr.h")


def _header_values(names: list[str], tmp_path: Path) -> dict[str, int]:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to read the OpenSSL headers with")
    if not Path("/usr/include/openssl/ssl.h").exists():
        pytest.skip("OpenSSL headers not installed (apt-get install libssl-dev)")
    lines = [f"#include <openssl/{h}>" for h in HEADERS] + ["#include <stdio.h>", "int main(void) {"]
    lines += [f'    printf("%s %lld\\n", "{n}", (long long)({n}));' for n in names]
    lines += ["    return 0;", "}"]
    source, binary = tmp_path / "values.c", tmp_path / "values"
    source.write_text("\n".join(lines))
    built = subprocess.run([compiler, str(source), "-o", str(binary)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr  # an undeclared name: a constant the 3.0 headers do not have
    output = subprocess.run([str(binary)], check=True, capture_output=True, text=True).stdout
    return {name: int(value) for name, value in (line.split() for line in output.splitlines())}


def _constants(module: ModuleType) -> dict[str, int]:
    found = {}
    for name in getattr(module, "__all__", []):
        value = getattr(module, name)
        if isinstance(value, int) and not isinstance(value, type) and not isinstance(value, bool):
            found[name] = int(value)
        elif isinstance(value, type) and issubclass(value, enum.Enum):
            continue
    return found


def test_ssl_constants_match_the_headers(tmp_path: Path) -> None:
    ours = _constants(ssl_constants)
    assert len(ours) > 150
    theirs = _header_values(sorted(ours), tmp_path)
    assert {n: v for n, v in ours.items() if theirs[n] != v} == {}


def test_bio_constants_match_the_headers(tmp_path: Path) -> None:
    """The other engineer's ``engine.bio.constants``: names the headers define must have the header's value."""
    bio_constants = pytest.importorskip("engine.bio.constants")
    ours = {n: v for n, v in _constants(bio_constants).items() if n.startswith("BIO_")}
    if not ours:
        pytest.skip("engine.bio.constants has no BIO_* names yet")
    names = sorted(ours)
    for _ in range(10):  # drop the names the headers do not declare (engine-only names), then compare
        try:
            theirs = _header_values(names, tmp_path)
            break
        except AssertionError as exc:
            undeclared = set(re.findall(r"[‘'](\w+)[’'] undeclared", str(exc)))
            assert undeclared, exc
            names = [n for n in names if n not in undeclared]
    else:
        raise AssertionError("too many undeclared names")
    assert {n: ours[n] for n in names if theirs[n] != ours[n]} == {}
