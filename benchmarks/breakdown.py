"""Where the CPU time of one engine handshake pair goes: cryptography calls against the engine's Python TLS logic by
component (both peers in one process, as benchmarks/run.py drives them).

The pair's CPU time is measured without a profiler. A cProfile run (timed in CPU time) then gives each function's own
time; the calls into ``cryptography`` (its Rust/OpenSSL methods and the Python wrappers around them) form the
*crypto* share, every other function is charged to the component of its file (the table below). cProfile adds a
cost to every call it sees, Python or built-in, so the shares are of the profiled time and lean towards what makes
many calls; for the absolute split between cryptography and the interpreter, which does not depend on the load, see
instructions_split.py.

    python benchmarks/breakdown.py --versions 1.3,1.2 --handshakes 300
    python benchmarks/breakdown.py --base main      # also a revision's engine, measured alternately in this process

With ``--base REV`` the revision's ``engine/`` (from ``git archive``) is measured in a child process before and after
this tree's, and both breakdowns are printed side by side.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import profile_engine  # beside this file

# (component, path fragments); first match wins. Functions without a file (built-ins) are charged by their name.
COMPONENTS: list[tuple[str, tuple[str, ...]]] = [
    ("crypto", ("cryptography/", "cryptography.hazmat", "_rust")),
    ("benchmark driver", ("benchmarks/", "conformance/")),
    ("BIO layer", ("engine/bio/",)),
    ("SSL layer (engine.ssl, verify policy, errors)", ("engine/ssl/",)),
    ("record layer", ("engine/tls/record.py", "engine/tls/protection12.py")),
    ("connection dispatch (tls/connection.py)", ("engine/tls/connection.py", "engine/tls/events.py",
                                                 "engine/tls/alerts.py")),
    ("key schedule / PRF", ("engine/tls/keyschedule.py", "engine/tls/prf12.py")),
    ("codec (messages, wire)", ("engine/tls/messages", "engine/tls/wire.py")),
    ("state machines (client/server 1.2/1.3, handshake*)", ("engine/tls/client1", "engine/tls/server1",
                                                             "engine/tls/handshake")),
    ("keys, signatures, certificates", ("engine/tls/keyexchange.py", "engine/tls/signatures.py",
                                        "engine/tls/certificates.py", "engine/tls/certselect.py")),
    ("other engine.tls", ("engine/tls/",)),
]


def _component(key: tuple[str, int, str]) -> str:
    filename, _line, name = key
    text = filename if filename != "~" else name
    for comp, frags in COMPONENTS:
        if any(f in text for f in frags):
            return comp
    if filename == "~":  # a built-in called from Python code (len, isinstance, bytes.join, ...)
        return "Python built-ins (len, isinstance, join, struct...)"
    return "stdlib Python (enum, abc, functools...)"


def breakdown(version: str, handshakes: int) -> tuple[float, dict[str, float]]:
    profile_engine._handshakes(version, 5)
    best = float("inf")
    for _ in range(3):
        cpu = time.process_time()
        profile_engine._handshakes(version, handshakes)
        best = min(best, (time.process_time() - cpu) / handshakes)
    prof = cProfile.Profile(time.process_time)  # CPU time: the default wall clock counts other processes' load
    prof.runcall(profile_engine._handshakes, version, handshakes)
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    own: dict[str, float] = {}
    for key, (_cc, _nc, tt, _ct, _callers) in stats.items():
        comp = _component(key)
        own[comp] = own.get(comp, 0.0) + tt / handshakes
    profiled = sum(own.values())
    parts = {k: v / profiled for k, v in sorted(own.items(), key=lambda kv: (kv[0] != "crypto", -kv[1]))}
    return best, parts


def _child(engine_root: Path, versions: str, handshakes: int) -> dict[str, tuple[float, dict[str, float]]]:
    """The breakdowns of the engine found first under ``engine_root``, measured in a fresh process."""
    boot = ("import importlib.machinery, sys; sys.meta_path.insert(0, importlib.machinery.PathFinder); "
            f"sys.path.insert(0, {str(engine_root)!r}); import engine; "
            f"assert engine.__file__.startswith({str(engine_root)!r}), engine.__file__; "
            f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import breakdown, json; "
            f"print(json.dumps({{v: breakdown.breakdown(v, {handshakes}) for v in {versions.split(',')!r}}}))")
    out = subprocess.run([sys.executable, "-c", boot], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return {k: (v[0], v[1]) for k, v in json.loads(out.strip().splitlines()[-1]).items()}


ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", default="1.3,1.2")
    parser.add_argument("--handshakes", type=int, default=300)
    parser.add_argument("--base", default=None, help="also measure this git revision's engine (before, after, "
                        "before, after in fresh processes; the lower total of each side is shown)")
    args = parser.parse_args(argv)
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    if args.base is None:
        for version in versions:
            total, parts = breakdown(version, args.handshakes)
            print(f"TLS {version}: {total * 1e6:.0f} us CPU per handshake pair (best of 3 runs of {args.handshakes})")
            for comp, share in parts.items():
                print(f"  {100 * share:5.1f}%  {comp}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "base.tar"
        subprocess.run(["git", "archive", "-o", str(archive), args.base, "engine"], cwd=ROOT, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        runs: dict[str, list[dict[str, tuple[float, dict[str, float]]]]] = {"before": [], "after": []}
        for _ in range(2):
            runs["before"].append(_child(Path(tmp), ",".join(versions), args.handshakes))
            runs["after"].append(_child(ROOT, ",".join(versions), args.handshakes))
    for version in versions:
        before = min((r[version] for r in runs["before"]), key=lambda t: t[0])
        after = min((r[version] for r in runs["after"]), key=lambda t: t[0])
        print(f"TLS {version}: CPU per handshake pair, before ({args.base}) {before[0] * 1e6:.0f} us, "
              f"after {after[0] * 1e6:.0f} us; share of the profiled time before -> after")
        for comp in before[1] | after[1]:
            b, a = before[1].get(comp, 0.0), after[1].get(comp, 0.0)
            print(f"  {100 * b:5.1f}% -> {100 * a:5.1f}%  {comp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
