"""Side-by-side benchmark of the stacks: TLS 1.3 handshakes per second and bulk throughput.

Both peers of one stack run in this process over in-memory transport (each stack's own BIO pair or memory BIO),
certificate verification on (the client verifies the server's chain and name), contexts made once and shared by
all connections of a run, as an application reuses its SSL_CTX. Every stack is measured in the same run, in
alternating rounds, and the report gives medians and ratios to pyOpenSSL (handshakes) and stdlib ssl (bulk).

    python benchmarks/run.py                       # engine, pyopenssl, stdlib, tlslite
    python benchmarks/run.py --stack libssl --json reports/benchmark.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.outcome import Role
from conformance.stacks import StackUnavailable, load_stack
from conformance.stacks.base import Endpoint, EndpointConfig

DEFAULT_STACKS = ("engine", "pyopenssl", "stdlib", "tlslite")
CHUNK = 16 * 1024


class Wire:
    """Moves bytes between two endpoints, keeping what the receiver does not accept yet."""

    def __init__(self, a: Endpoint, b: Endpoint) -> None:
        self.a, self.b = a, b
        self.ab = bytearray()
        self.ba = bytearray()

    def _one(self, src: Endpoint, dst: Endpoint, buf: bytearray) -> bool:
        data = src.take_outgoing()
        if data:
            buf += data
        if not buf:
            return bool(data)
        n = dst.put_incoming(bytes(buf))
        del buf[:n]
        return bool(data) or n > 0

    def move(self) -> bool:
        x = self._one(self.a, self.b, self.ab)
        y = self._one(self.b, self.a, self.ba)
        return x or y


def _handshake(client: Endpoint, server: Endpoint, wire: Wire) -> None:
    done_c = done_s = False
    for _ in range(10_000):
        if not done_c:
            out = client.do_handshake()
            if out.fatal:
                raise RuntimeError(f"client handshake failed: {out}")
            done_c = out.ok
        if not done_s:
            out = server.do_handshake()
            if out.fatal:
                raise RuntimeError(f"server handshake failed: {out}")
            done_s = out.ok
        moved = wire.move()
        if done_c and done_s and not moved:
            return
    raise RuntimeError("handshake did not complete")


def handshakes_per_second(make_client: Callable[[str], Endpoint], make_server: Callable[[str], Endpoint],
                          count: int, max_seconds: float = 2.0) -> float:
    """``count`` handshakes, or as many as fit in ``max_seconds`` (at least one)."""
    start = time.perf_counter()
    done = 0
    while done < count:
        c, s = make_client("client"), make_server("server")
        _handshake(c, s, Wire(c, s))
        c.close()
        s.close()
        done += 1
        if time.perf_counter() - start > max_seconds:
            break
    return done / (time.perf_counter() - start)


def bulk_mib_per_second(make_client: Callable[[str], Endpoint], make_server: Callable[[str], Endpoint],
                        mib: int, max_seconds: float = 2.0) -> float:
    """Send ``mib`` MiB in 16 KiB writes, or as much as fits in ``max_seconds``; MiB received per second."""
    c, s = make_client("client"), make_server("server")
    wire = Wire(c, s)
    _handshake(c, s, wire)
    chunk = bytes(range(256)) * (CHUNK // 256)
    total = mib * 1024 * 1024
    sent = received = 0
    start = time.perf_counter()
    while received < total:
        if time.perf_counter() - start > max_seconds and received:
            total = received
            break
        if sent < total:
            out = c.write(chunk)
            if out.ok:
                sent += out.ret
            elif not out.retry:
                raise RuntimeError(f"write failed: {out}")
        wire.move()
        while True:
            got = s.read(65536)
            if not got.ok:
                if not got.retry:
                    raise RuntimeError(f"read failed: {got}")
                break
            received += got.ret
        wire.move()
    elapsed = time.perf_counter() - start
    c.close()
    s.close()
    return received / (1024 * 1024) / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--stack", action="append", default=[], help="stack to measure (repeatable; default: "
                        + ", ".join(DEFAULT_STACKS) + ")")
    parser.add_argument("--handshakes", type=int, default=50, help="handshakes per round (default 50)")
    parser.add_argument("--bulk-mib", type=int, default=16, help="MiB sent per bulk round (default 16)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; medians are reported (default 5)")
    parser.add_argument("--max-seconds", type=float, default=2.0,
                        help="cap on one measurement; slow stacks are measured on what fits (default 2)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    names = args.stack or list(DEFAULT_STACKS)
    factories: dict[str, tuple[Callable[[str], Endpoint], Callable[[str], Endpoint], str]] = {}
    for name in names:
        try:
            stack = load_stack(name)
        except StackUnavailable as exc:
            print(f"benchmark: skipping {name}: {exc}", file=sys.stderr)
            continue
        if stack.lacks("client_role") or stack.lacks("server_role") or stack.lacks("tls1_3"):
            print(f"benchmark: skipping {name}: it cannot play both TLS 1.3 roles yet", file=sys.stderr)
            continue
        client_cfg = EndpointConfig(role=Role.CLIENT, verify_peer=True, min_version="TLSv1.3")
        server_cfg = EndpointConfig(role=Role.SERVER, verify_peer=False, min_version="TLSv1.3")
        factories[name] = (stack.endpoint_factory(client_cfg), stack.endpoint_factory(server_cfg), stack.version())
    if not factories:
        print("benchmark: no stack to measure", file=sys.stderr)
        return 2
    hs: dict[str, list[float]] = {n: [] for n in factories}
    bulk: dict[str, list[float]] = {n: [] for n in factories}
    for mc, ms, _ in factories.values():  # warm-up: imports, caches, first-use costs
        handshakes_per_second(mc, ms, 3)
    for round_no in range(args.rounds):
        for name, (mc, ms, _) in factories.items():
            hs[name].append(handshakes_per_second(mc, ms, args.handshakes, args.max_seconds))
            bulk[name].append(bulk_mib_per_second(mc, ms, args.bulk_mib, args.max_seconds))
        print(f"round {round_no + 1}/{args.rounds} done", file=sys.stderr)
    result: dict[str, Any] = {"handshakes": args.handshakes, "bulk_mib": args.bulk_mib, "rounds": args.rounds,
                              "write_size": CHUNK, "stacks": {}}
    hs_ref = statistics.median(hs["pyopenssl"]) if "pyopenssl" in hs else None
    bulk_ref = statistics.median(bulk["stdlib"]) if "stdlib" in bulk else None
    print(f"\n{'stack':<10} {'handshakes/s':>13} {'x pyOpenSSL':>12} {'bulk MiB/s':>11} {'x stdlib':>9}  version")
    for name, (_, _, version) in factories.items():
        h_med = statistics.median(hs[name])
        b_med = statistics.median(bulk[name])
        h_ratio = h_med / hs_ref if hs_ref else None
        b_ratio = b_med / bulk_ref if bulk_ref else None
        result["stacks"][name] = {"version": version, "handshakes_per_s": h_med, "bulk_mib_per_s": b_med,
                                  "handshake_ratio_to_pyopenssl": h_ratio, "bulk_ratio_to_stdlib": b_ratio,
                                  "handshake_rounds": hs[name], "bulk_rounds": bulk[name]}
        print(f"{name:<10} {h_med:>13.1f} {h_ratio if h_ratio is not None else float('nan'):>12.2f} "
              f"{b_med:>11.1f} {b_ratio if b_ratio is not None else float('nan'):>9.2f}  {version}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
        print(f"\nwritten: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
