"""Profile the engine's handshakes and bulk path with cProfile (both peers in one process, as benchmarks/run.py drives
them: the same contexts, group, suite and BIO pair).

    python benchmarks/profile_engine.py --versions 1.3 --handshakes 200 --records 2000 --top 30

Prints, per version, the CPU time per handshake pair and per 16 KiB record without the profiler, then the profile's
top functions by their own time (``tottime``) and by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # benchmarks/run.py, beside this file


def _handshakes(version: str, count: int) -> None:
    driver = run.make_driver("engine", version)
    for _ in range(count):
        pair = driver.new_pair()
        pair.handshake()
        pair.close()


def _bulk(version: str, count: int) -> None:
    driver = run.make_driver("engine", version)
    pair = driver.new_pair()
    pair.handshake()
    pair.transfer(bytes(range(256)) * (run.CHUNK // 256), count)
    pair.close()


def _report(title: str, prof: cProfile.Profile, top: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(f"=== {title}\n{out.getvalue()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", default="1.3,1.2")
    parser.add_argument("--handshakes", type=int, default=200)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true", help="only the CPU times")
    args = parser.parse_args(argv)
    for version in [v.strip() for v in args.versions.split(",") if v.strip()]:
        _handshakes(version, 3)  # warm-up: imports, key loading, caches
        cpu = time.process_time()
        _handshakes(version, args.handshakes)
        hs = (time.process_time() - cpu) / args.handshakes
        cpu = time.process_time()
        _bulk(version, args.records)
        rec = (time.process_time() - cpu) / args.records
        print(f"TLS {version}: {hs * 1e3:.3f} ms CPU per handshake pair, {rec * 1e6:.1f} us CPU per 16 KiB record "
              "(write + read, one handshake included)")
        if args.no_profile:
            continue
        prof = cProfile.Profile()
        prof.runcall(_handshakes, version, args.handshakes)
        _report(f"TLS {version} handshakes ({args.handshakes})", prof, args.top)
        prof = cProfile.Profile()
        prof.runcall(_bulk, version, args.records)
        _report(f"TLS {version} bulk ({args.records} records of 16 KiB)", prof, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
