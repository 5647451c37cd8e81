"""Before/after CPU time of one engine change: the engine of a git revision against the working tree's, alternating.

Each round runs ``profile_engine.py --no-profile`` once with the revision's ``engine/`` package first on the path
(extracted with ``git archive``) and once with the working tree's, in fresh processes, in alternating order; the
figures are the median CPU times and the median of the per-round ratios (after / before) with their spread. On a
shared machine only these same-run ratios mean anything.

    python benchmarks/ab.py --base HEAD --rounds 5 --versions 1.3
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_LINE = re.compile(r"TLS (\S+): ([\d.]+) ms CPU per handshake pair, ([\d.]+) us CPU per 16 KiB record")


def _measure(engine_root: Path, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    # The editable install's finder would always give the working tree's engine: a PathFinder put first on the meta
    # path makes ``engine_root`` (first on sys.path) win, for both sides alike.
    script = ROOT / "benchmarks" / "profile_engine.py"
    boot = ("import importlib.machinery, runpy, sys; sys.meta_path.insert(0, importlib.machinery.PathFinder); "
            f"sys.path.insert(0, {str(engine_root)!r}); import engine; "
            f"assert engine.__file__.startswith({str(engine_root)!r}), engine.__file__; "
            f"sys.argv = [{str(script)!r}] + sys.argv[1:]; runpy.run_path({str(script)!r}, run_name='__main__')")
    cmd = [sys.executable, "-c", boot, "--no-profile", "--versions", args.versions, "--handshakes",
           str(args.handshakes), "--records", str(args.records)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return {m[1]: (float(m[2]), float(m[3])) for m in _LINE.finditer(out)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="git revision measured as 'before' (default HEAD)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--versions", default="1.3,1.2")
    parser.add_argument("--handshakes", type=int, default=150)
    parser.add_argument("--records", type=int, default=3000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "base.tar"
        subprocess.run(["git", "archive", "-o", str(archive), args.base, "engine"], cwd=ROOT, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        before: list[dict[str, tuple[float, float]]] = []
        after: list[dict[str, tuple[float, float]]] = []
        for i in range(args.rounds):
            if i % 2 == 0:
                before.append(_measure(Path(tmp), args))
                after.append(_measure(ROOT, args))
            else:
                after.append(_measure(ROOT, args))
                before.append(_measure(Path(tmp), args))
            print(f"round {i + 1}/{args.rounds} done", file=sys.stderr)
    for version in before[0]:
        for k, what, unit in ((0, "handshake pair", "ms"), (1, "16 KiB record", "us")):
            b = [r[version][k] for r in before]
            a = [r[version][k] for r in after]
            ratios = [x / y for x, y in zip(a, b, strict=True)]
            print(f"TLS {version} {what}: before {statistics.median(b):.3f} {unit}, after {statistics.median(a):.3f} "
                  f"{unit} CPU; after/before {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
