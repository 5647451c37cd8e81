"""The mypyc-compiled engine beside the pure one, pyOpenSSL and stdlib ssl, in one process (docs/compiled-core.md).

Build the compiled copy under another package name first, so both engines can be imported together::

    python benchmarks/mypyc_build.py --modules tls/ --exclude tls/signatures.py --package cengine --out /tmp/mypyc-ab
    python benchmarks/mypyc_bench.py --compiled /tmp/mypyc-ab --versions 1.3,1.2 --rounds 7

The compiled engine is the stack ``mypyc``; every other option is ``benchmarks/run.py``'s, with the same fairness
rules (same group, suite, chain and verification; CPU time; medians of per-round ratios). The memory columns are
not measured here (``--pairs 0``: run.py's memory child would not know the ``mypyc`` stack).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # benchmarks/run.py, beside this file


class CompiledEngineApi:
    """The compiled copy's C API (``<package>.bio``, ``.err``, ``.ssl``) under its OpenSSL names, as EngineApi."""

    library = "engine-mypyc"

    def __init__(self, package: str) -> None:
        for part in ("bio", "err", "ssl"):
            module = importlib.import_module(f"{package}.{part}")
            for name in getattr(module, "__all__", dir(module)):
                if not name.startswith("_"):
                    setattr(self, name, getattr(module, name))
        record = importlib.import_module(f"{package}.tls.record")
        if not str(record.__file__).endswith(".so"):
            raise run.Skip(f"{package}.tls.record is not compiled ({record.__file__})")
        self.version = f"engine, {package}.tls compiled with mypyc"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], add_help=False)
    parser.add_argument("--compiled", type=Path, default=Path("/tmp/mypyc-ab"), help="mypyc_build.py --out")
    parser.add_argument("--package", default="cengine", help="mypyc_build.py --package")
    args, rest = parser.parse_known_args(argv)
    sys.path.append(str(args.compiled.resolve()))  # after the worktree's: "engine" stays the pure one
    api: Any = None

    def driver(version: str) -> run.Driver:
        nonlocal api
        if api is None:
            api = CompiledEngineApi(args.package)
        return run._capi_driver("mypyc", version, api)

    run.EXTRA_DRIVERS["mypyc"] = driver
    if not any(a == "--stack" or a.startswith("--stack=") for a in rest):
        rest = ["--stack", "engine", "--stack", "mypyc", "--stack", "pyopenssl", "--stack", "stdlib", *rest]
    return run.main([*rest, "--pairs", "0"])


if __name__ == "__main__":
    sys.exit(main())
