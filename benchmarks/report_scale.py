"""How long ``conformance report`` takes, and how much memory, for a large run.

    python benchmarks/report_scale.py                      # 100,000 records (target: < 10 s, < 300 MB peak)
    python benchmarks/report_scale.py --records 20000 --keep /tmp/scale
    python benchmarks/report_scale.py --rounds 5                               # five reports of the same records

Generates a records file shaped like a real run's, on the real clause catalogue: a run record, a plan, and verdicts
of about 3,600 cases (for 100,000) on 8 stacks (single-stack cases with parameters, and interoperability cases on
every client and server pair), mostly passed, with not-applicable reasons naming missing capabilities, expected
deviations with evidence, failures with multi-line reasons, a few errors, hangs and crashes, and a trace of 5 to 15
call lines on every verdict. Then runs ``conformance report`` on it in a child process and reports its wall time,
CPU time and peak resident memory (``wait4``'s rusage). The figures are measured, not asserted: exit status 0
whatever they are, 1 only if the report command failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conformance.catalogue import load_catalogue
from conformance.verdicts import SCHEMA

STACKS = ["engine", "libssl", "wolfssl", "pyopenssl", "stdlib", "tlslite", "boringssl", "gnutls"]
NA_REASONS = [f"stack '{{stack}}' lacks capability '{cap}': {why}" for cap, why in [
    ("raw_return_values", "the binding raises exceptions instead of returning -1"),
    ("error_queue", "the binding does not expose ERR_get_error"),
    ("sockets", "the binding only works over memory BIOs"),
    ("callbacks", "no info callback"), ("key_update", "SSL_key_update is not offered"),
    ("tls1_2", "TLS 1.2 is not implemented"), ("peek", "no SSL_peek"), ("session_resumption", "no tickets"),
]]
CALLS = ["SSL_read_ex(16)", "SSL_write_ex(5)", "SSL_do_handshake()", "SSL_shutdown()", "SSL_pending()",
         "SSL_peek_ex(4)", "SSL_get_error(-1)"]
RESULTS = ["-> 1", "-> -1, SSL_get_error -> SSL_ERROR_WANT_READ", "-> 0, SSL_get_error -> SSL_ERROR_ZERO_RETURN",
           "-> 5", "-> -1, SSL_get_error -> SSL_ERROR_WANT_WRITE"]


def _trace(rng: random.Random, stack: str) -> list[str]:
    lines = []
    for _ in range(rng.randint(5, 15)):
        if rng.random() < 0.3:
            lines.append(f"link: client -> server {rng.randint(1, 4000)} bytes (record {rng.randint(1, 9)})")
        else:
            side = rng.choice(["client", "server"])
            lines.append(f"{side}({stack}): {rng.choice(CALLS)} {rng.choice(RESULTS)}")
    return lines


def generate(path: Path, count: int, seed: int = 1) -> int:
    """Write about ``count`` verdict records (and a run and a plan record) to ``path``; return how many."""
    rng = random.Random(seed)
    clauses = [c.id for p in load_catalogue().pages.values() for c in p.clauses]
    cases = [(f"test_case_{i:04d}_{rng.choice(['read', 'write', 'shutdown', 'pending', 'error'])}",
              rng.sample(clauses, rng.randint(1, 3)), i % 10 == 0) for i in range(count // 28 + 1)]
    run = "20261203T000000-1-1"
    records: list[dict[str, object]] = []
    written = 0
    nodeids: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"schema": SCHEMA, "kind": "run", "run": run, "seed": seed, "started": time.time(),
                              "stacks": {s: {"version": f"{s} 1.{seed}", "installed": True, "problem": ""}
                                         for s in STACKS}}) + "\n")
        for name, case_clauses, interop in cases:
            pairs = ([(c, s) for c in STACKS for s in STACKS] if interop else [(s, s) for s in STACKS])
            sizes = [None] if interop else [1, 7, 16384]
            for client, server in pairs:
                for size in sizes:
                    if written >= count:
                        break
                    roll = rng.random()
                    stack = client
                    expectation = None
                    if roll < 0.70:
                        verdict, reason = "passed", ""
                    elif roll < 0.90:
                        verdict, reason = "not-applicable", rng.choice(NA_REASONS).format(stack=stack)
                    elif roll < 0.95:
                        verdict, reason = "expected-deviation", "returns 0 where the page says -1"
                        expectation = {"stack": stack, "verdict": "failed", "reason": reason,
                                       "evidence": "SSL_read_ex(16) -> 0\nSSL_get_error -> SSL_ERROR_SYSCALL"}
                    elif roll < 0.98:
                        verdict = "failed"
                        reason = (f"AssertionError: SSL_read_ex returned {rng.randint(-1, 1)}\n"
                                  "assert -1 == 0\n +  where -1 = Outcome(op='SSL_read_ex', ret=-1).ret")
                    else:
                        verdict = rng.choice(["error", "hang", "crash"])
                        reason = {"error": "RuntimeError: boom\nTraceback (most recent call last):\n  ...",
                                  "hang": "no progress for 60 s; stuck in SSL_read",
                                  "crash": "signal 11 (SIGSEGV) in the process running the case"}[verdict]
                    params = {} if size is None else {"size": size}
                    nodeid = f"specs/cases/test_x.py::{name}[{client}-{server}-{size}]"
                    nodeids.append(nodeid)
                    record: dict[str, object] = {
                        "schema": SCHEMA, "kind": "verdict", "run": run, "stack": stack,
                        "version": f"{stack} 1.{seed}", "case": name, "nodeid": nodeid, "clauses": case_clauses,
                        "verdict": verdict, "reason": reason, "trace": _trace(rng, stack),
                        "duration": round(rng.random() / 10, 4), "seed": rng.randint(0, 1 << 30),
                        "params": params, "client": client, "interop": interop}
                    if interop:
                        record["peer"], record["peer_version"] = server, f"{server} 1.{seed}"
                    if expectation:
                        record["expectation"] = expectation
                    records.append(record)
                    written += 1
                    if len(records) >= 1000:
                        out.writelines(json.dumps(r) + "\n" for r in records)
                        records.clear()
        out.writelines(json.dumps(r) + "\n" for r in records)
        out.write(json.dumps({"schema": SCHEMA, "kind": "plan", "run": run, "nodeids": nodeids}) + "\n")
    return written


def measure(records: Path, report: Path) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, peak RSS in bytes, exit status) of ``conformance report records --report
    report``."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "conformance.cli", "report", str(records), "--report", str(report)],
                            stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="verdict records to generate (default 100000)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the records and the report in this directory")
    parser.add_argument("--rounds", type=int, default=1, help="run the report this many times (default 1); on a "
                        "shared machine the least CPU time of several rounds is the closest to the report's own cost")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="report-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        records = work / "results.jsonl"
        count = generate(records, args.records)
        size = records.stat().st_size
        print(f"records: {count} verdicts, {size / 2**20:.1f} MiB")
        rounds = []
        for _ in range(max(1, args.rounds)):
            shutil.rmtree(work / "report", ignore_errors=True)
            seconds, cpu, peak, status = measure(records, work / "report")
            rounds.append((cpu, seconds, peak))
            load = os.getloadavg()[0]
            print(f"conformance report: {seconds:.2f} s wall, {cpu:.2f} s CPU, peak RSS {peak / 2**20:.0f} MiB, "
                  f"exit status {status} (load average {load:.1f} on {os.cpu_count()} cores)", flush=True)
            if status not in (0, 1):
                return 1
        if len(rounds) > 1:
            cpus, walls = sorted(r[0] for r in rounds), sorted(r[1] for r in rounds)
            peak = max(r[2] for r in rounds)
            print(f"{len(rounds)} rounds: CPU {cpus[0]:.2f} to {cpus[-1]:.2f} s (median {cpus[len(cpus) // 2]:.2f}), "
                  f"wall {walls[0]:.2f} to {walls[-1]:.2f} s, peak RSS up to {peak / 2**20:.0f} MiB")
        report_size = sum(p.stat().st_size for p in (work / "report").rglob("*") if p.is_file())
        files = sum(1 for p in (work / "report").rglob("*") if p.is_file())
        overview = (work / "report" / "index.html").stat().st_size if (work / "report" / "index.html").exists() else 0
        print(f"report: {files} files, {report_size / 2**20:.1f} MiB (overview {overview / 2**10:.0f} KiB)")
        print("targets: < 10 s, < 300 MB")
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
