"""Before/after CPU time of one engine change on the bulk path, interleaved in two long-lived processes.

One child process runs a git revision's ``engine/`` package (extracted with ``git archive``), the other the working
tree's; each makes one engine connection pair (benchmarks/run.py's driver: the same contexts, suite and BIO pair)
and then, on each request, moves a burst of 16 KiB records from client to server and reports the CPU time it took.
The parent alternates the two children burst by burst (the order swapped every round), so both see the same load;
the figures are the median CPU time per record of each side and the median of the per-burst ratios (after /
before) with their spread. Optionally a third child runs stdlib ssl on the same suite, for the ratio that the
benchmark's target is about.

    python benchmarks/ab_bulk.py --base HEAD --versions 1.3,1.2,1.2cbc --bursts 30 --records 1000
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(stack: str, version: str) -> int:
    """Serve bursts on stdin/stdout: a line with a record count in, a line with the CPU seconds out."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run  # benchmarks/run.py

    driver = run.make_driver(stack, version)
    pair = driver.new_pair()
    pair.handshake()
    got = pair.describe()
    chunk = bytes(range(256)) * (run.CHUNK // 256)
    pair.transfer(chunk, 50)  # warm-up
    print(f"ready {got[0]} {got[1]}", flush=True)
    for line in sys.stdin:
        count = int(line)
        cpu = time.process_time()
        received = pair.transfer(chunk, count)
        cpu = time.process_time() - cpu
        if received != count * run.CHUNK:
            raise RuntimeError("short transfer")
        print(f"{cpu!r}", flush=True)
    return 0


def _spawn(engine_root: Path | None, stack: str, version: str) -> subprocess.Popen[str]:
    script = Path(__file__).resolve()
    pre = "import importlib.machinery, runpy, sys; "
    if engine_root is not None:
        # the editable install's finder would always give the working tree's engine: a PathFinder put first on the
        # meta path makes engine_root (first on sys.path) win
        pre += (f"sys.meta_path.insert(0, importlib.machinery.PathFinder); sys.path.insert(0, {str(engine_root)!r}); "
                f"import engine; assert engine.__file__.startswith({str(engine_root)!r}), engine.__file__; ")
    boot = pre + (f"sys.argv = [{str(script)!r}, '--child', {stack!r}, '--versions', {version!r}]; "
                  f"runpy.run_path({str(script)!r}, run_name='__main__')")
    proc = subprocess.Popen([sys.executable, "-c", boot], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)
    assert proc.stdout is not None
    ready = proc.stdout.readline()
    if not ready.startswith("ready"):
        raise RuntimeError(f"child {stack} {version} did not start: {ready!r}")
    return proc


def _burst(proc: subprocess.Popen[str], count: int) -> float:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{count}\n")
    proc.stdin.flush()
    return float(proc.stdout.readline())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="git revision measured as 'before' (default HEAD)")
    parser.add_argument("--versions", default="1.3,1.2", help="1.3, 1.2, 1.2cbc (comma separated)")
    parser.add_argument("--bursts", type=int, default=30)
    parser.add_argument("--records", type=int, default=1000, help="16 KiB records per burst")
    parser.add_argument("--stdlib", action="store_true", help="also measure stdlib ssl in the same rounds")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.versions)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "base.tar"
        subprocess.run(["git", "archive", "-o", str(archive), args.base, "engine"], cwd=ROOT, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        for version in [v.strip() for v in args.versions.split(",") if v.strip()]:
            procs = {"before": _spawn(Path(tmp), "engine", version), "after": _spawn(ROOT, "engine", version)}
            if args.stdlib:
                procs["stdlib"] = _spawn(None, "stdlib", version)
            times: dict[str, list[float]] = {name: [] for name in procs}
            for i in range(args.bursts):
                order = list(procs) if i % 2 == 0 else list(reversed(procs))
                for name in order:
                    times[name].append(_burst(procs[name], args.records) / args.records)
            for proc in procs.values():
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait()
            b, a = times["before"], times["after"]
            ratios = [x / y for x, y in zip(a, b, strict=True)]
            line = (f"TLS {version}: before {statistics.median(b) * 1e6:.2f} us, after {statistics.median(a) * 1e6:.2f}"
                    f" us CPU per 16 KiB record; after/before {statistics.median(ratios):.3f} "
                    f"({min(ratios):.2f}-{max(ratios):.2f})")
            if args.stdlib:
                s = times["stdlib"]
                for name in ("before", "after"):
                    r = [y / x for x, y in zip(times[name], s, strict=True)]
                    line += f"; {name} x stdlib {statistics.median(r):.3f} ({min(r):.2f}-{max(r):.2f})"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
