"""Instructions per handshake pair of a revision's engine and the working tree's, counted by valgrind's callgrind.

CPU time on a shared machine spreads by 10-20% between rounds, which hides a change of a few percent; the number of
instructions executed does not depend on the load (the same tree counted twice differs by about 0.1%). Each side
runs ``profile_engine.py``'s handshake loop (both peers in one process, after a warm-up) in a fresh process under
callgrind; ``os.getppid()`` calls mark the measured part (``--dump-before=os_getppid``), so interpreter start-up,
imports and the test PKI (its RSA key generation varies) are not counted. Instructions are not time (Python code has
a lower rate of instructions per cycle than the cryptography it calls), so keep CPU-time figures for the totals.

    python benchmarks/instructions.py --base main --versions 1.3,1.2 --handshakes 20
    python benchmarks/instructions.py --base HEAD --versions 1.2 --records 200     # the bulk path, per record
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _count(engine_root: Path, version: str, handshakes: int, out_dir: Path, records: int = 0) -> float:
    """Instructions per handshake pair of the engine found first under ``engine_root``; with ``records``, per 16 KiB
    record of the bulk path instead (one connection pair, written by the client and read by the server)."""
    if records:
        work = (f"import run; p = run.make_driver('engine', {version!r}).new_pair(); p.handshake(); "
                f"chunk = bytes(range(256)) * 64; p.transfer(chunk, 20); os.getppid(); p.transfer(chunk, {records}); "
                "os.getppid()")
    else:
        work = (f"import profile_engine as pe; pe._handshakes({version!r}, 3); os.getppid(); "
                f"pe._handshakes({version!r}, {handshakes}); os.getppid()")
    script = (
        "import importlib.machinery, os, sys; sys.meta_path.insert(0, importlib.machinery.PathFinder); "
        f"sys.path.insert(0, {str(engine_root)!r}); import engine; "
        f"assert engine.__file__.startswith({str(engine_root)!r}), engine.__file__; "
        f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); " + work
    )
    prefix = out_dir / "cg.out"
    done = subprocess.run(["valgrind", "--tool=callgrind", "--dump-before=os_getppid",
                           f"--callgrind-out-file={prefix}", sys.executable, "-c", script],
                          cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{engine_root}: TLS {version} run failed:\n{done.stderr[-2000:]}")
    parts = sorted(out_dir.glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
    if len(parts) < 2:
        raise RuntimeError(f"callgrind wrote {len(parts)} parts, expected the one between the two marks")
    for line in parts[1].read_text().splitlines():  # part 2: from the first mark to the second
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1]) / (records or handshakes)
    raise RuntimeError(f"no totals in {parts[1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="git revision counted as 'before' (default HEAD)")
    parser.add_argument("--versions", default="1.3,1.2")
    parser.add_argument("--handshakes", type=int, default=20)
    parser.add_argument("--records", type=int, default=0,
                        help="count the bulk path instead: instructions per 16 KiB record over this many records")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 2
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        archive = Path(tmp) / "base.tar"
        subprocess.run(["git", "archive", "-o", str(archive), args.base, "engine"], cwd=ROOT, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(base, filter="data")
        # compiled once beforehand, so neither side counts byte-compilation
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(base / "engine"), str(ROOT / "engine")],
                       check=True, capture_output=True)  # fmt: skip
        jobs = {}
        with ThreadPoolExecutor(max_workers=4) as pool:
            for version in versions:
                for side, root in (("before", base), ("after", ROOT)):
                    out_dir = Path(tmp) / f"{side}-{version}"
                    out_dir.mkdir()
                    jobs[side, version] = pool.submit(_count, root, version, args.handshakes, out_dir, args.records)
        for version in versions:
            before, after = jobs["before", version].result(), jobs["after", version].result()
            what = "16 KiB record" if args.records else "handshake pair"
            print(f"TLS {version} {what}: before {before / 1e6:.3f}M, after {after / 1e6:.3f}M instructions; "
                  f"after/before {after / before:.4f} ({after - before:+,.0f} per {what.split()[-1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
