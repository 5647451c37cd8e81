"""Instructions per handshake pair split by where they run: the Python interpreter (the TLS logic written in Python,
including the built-ins it calls) against ``cryptography``'s compiled module and the OpenSSL inside it (the
cryptography), counted by valgrind's callgrind. Load-independent, so it gives the split that cProfile cannot give on
a loaded machine (its own per-call cost lands on both sides).

    python benchmarks/instructions_split.py --handshakes 20

Measures the engine (TLS 1.3 and 1.2, the loop of profile_engine.py) and the straight-line TLS 1.3 handshake of
minimal13.py, each in a fresh process between two ``os.getppid()`` marks, as instructions.py does.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRYPTO = re.compile(r"cryptography|_rust|libcrypto|libssl", re.IGNORECASE)


def _count(body: str, handshakes: int, out_dir: Path) -> dict[str, float]:
    script = (f"import os, sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
              f"{body}; os.getppid(); run({handshakes}); os.getppid()")
    prefix = out_dir / "cg.out"
    subprocess.run(["valgrind", "--tool=callgrind", "--dump-before=os_getppid", f"--callgrind-out-file={prefix}",
                    sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    parts = sorted(out_dir.glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
    ann = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", str(parts[1])],
                         capture_output=True, text=True, check=True).stdout
    total = crypto = 0
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S.*)$", line)
        if not m:
            continue
        n = int(m[1].replace(",", ""))
        if m[2].strip() == "PROGRAM TOTALS":
            total = n
        elif m[2].endswith("]") and CRYPTO.search(m[2].rsplit("[", 1)[-1]):
            crypto += n  # a function of cryptography's compiled module (self cost)
    return {"total": total / handshakes, "crypto": crypto / handshakes}


BODIES = {
    "engine TLS 1.3": "import profile_engine as pe; pe._handshakes('1.3', 3); run = lambda n: pe._handshakes('1.3', n)",
    "engine TLS 1.2": "import profile_engine as pe; pe._handshakes('1.2', 3); run = lambda n: pe._handshakes('1.2', n)",
    "minimal TLS 1.3": "import minimal13; m = minimal13.Minimal13(); m.handshake(); "
                       "run = lambda n: [m.handshake() for _ in range(n)]",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--handshakes", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=3) as pool:
        jobs = {}
        for i, (name, body) in enumerate(BODIES.items()):
            out = Path(tmp) / str(i)
            out.mkdir()
            jobs[name] = pool.submit(_count, body, args.handshakes, out)
        for name, job in jobs.items():
            r = job.result()
            rest = (r["total"] - r["crypto"]) / 1e6
            print(f"{name}: {r['total'] / 1e6:.3f}M instructions per pair, cryptography {r['crypto'] / 1e6:.3f}M "
                  f"({100 * r['crypto'] / r['total']:.0f}%), interpreter and the rest {rest:.3f}M")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
