"""Deliberately broken stack adapters for the isolation and validation tests (never registered as entry points).

Each runtime-broken stack is stdlib's adapter that misbehaves in exactly one situation: a ``write`` of
``TRIGGER_SIZE`` bytes (the size ``test_write_returns_bytes_written`` writes). Every other call, and so every other
case, behaves. Used as ``--stack brokenstacks:CrashStack`` with this directory on ``sys.path``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

from conformance.isolation import note_progress
from conformance.outcome import Outcome
from conformance.stacks.base import Endpoint, EndpointConfig, StackUnavailable
from conformance.stacks.stdlib import StdlibEndpoint, StdlibStack

TRIGGER_SIZE = 1000
HERE = Path(__file__).parent


def _segfault() -> None:
    ctypes.string_at(0)  # reads address 0: SIGSEGV


def _block() -> None:
    time.sleep(3600)


def _wake() -> None:
    """Blocks in a system call until any signal arrives, then goes on as if nothing happened: the harness's own
    stack-dump signal at the deadline frees it, and the case then passes (too late: it was given up as a hang)."""
    signal.pause()


def _busy() -> None:
    while True:
        pass


_kept: list[bytearray] = []


def _leak() -> None:
    for n in range(48):  # 3 GiB, kept by the module after the call
        _kept.append(bytearray(64 << 20))
        # a progress line per 64 MiB, so that on a loaded machine a slow allocation reaches the memory limit instead
        # of the (short) test deadline: the tests check the memory limit here, the deadline with the other stacks
        note_progress(f"leak: {n + 1} x 64 MiB kept")


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _plant() -> None:
    """Damage left in the process for whatever case runs there next, as a double free in a C library leaves a heap
    that aborts later: every stdlib endpoint made after this one (of any stack built on stdlib's adapter) aborts."""
    def abort(*_: object, **__: object) -> None:
        os.abort()

    StdlibEndpoint.__init__ = abort  # type: ignore[method-assign]


class _TriggerEndpoint(StdlibEndpoint):
    misbehave = staticmethod(_segfault)

    def write(self, data: bytes) -> Outcome:
        if len(data) == TRIGGER_SIZE:
            self.misbehave()
        return super().write(data)


def _stack(name: str, action: object) -> type[StdlibStack]:
    endpoint_class = type(f"{name}Endpoint", (_TriggerEndpoint,), {"misbehave": staticmethod(action)})

    def endpoint(self: StdlibStack, config: EndpointConfig, label: str) -> Endpoint:
        return endpoint_class(config, label)  # type: ignore[no-any-return]

    return type(f"{name}Stack", (StdlibStack,), {"name": name.lower(), "endpoint": endpoint,
                                                 "endpoint_factory": StdlibStack.endpoint_factory})


CrashStack = _stack("Segv", _segfault)
KillStack = _stack("Killed", _kill)
BlockStack = _stack("Block", _block)
BusyStack = _stack("Busy", _busy)
WakeStack = _stack("Wake", _wake)
LeakStack = _stack("Leak", _leak)
PlantStack = _stack("Plant", _plant)


# --- adapters that raise in one method each ----------------------------------------------------------------------

class RaisingEndpoint(StdlibEndpoint):
    broken = ""

    def _maybe(self, method: str) -> None:
        if method == self.broken:
            raise ValueError(f"deliberately broken {method}()")

    def do_handshake(self) -> Outcome:
        self._maybe("do_handshake")
        return super().do_handshake()

    def read(self, size: int) -> Outcome:
        self._maybe("read")
        return super().read(size)

    def write(self, data: bytes) -> Outcome:
        self._maybe("write")
        return super().write(data)

    def shutdown(self) -> Outcome:
        self._maybe("shutdown")
        return super().shutdown()

    def take_outgoing(self, limit: int | None = None) -> bytes:
        self._maybe("take_outgoing")
        return super().take_outgoing(limit)

    def put_incoming(self, data: bytes) -> int:
        self._maybe("put_incoming")
        return super().put_incoming(data)

    def close(self) -> None:
        self._maybe("close")
        super().close()


ENDPOINT_METHODS = ("endpoint", "do_handshake", "read", "write", "shutdown", "take_outgoing", "put_incoming", "close")


def _raising(method: str) -> type[StdlibStack]:
    endpoint_class = type(f"Raise_{method}_Endpoint", (RaisingEndpoint,), {"broken": method})

    def endpoint(self: StdlibStack, config: EndpointConfig, label: str) -> Endpoint:
        if method == "endpoint":
            raise ValueError("deliberately broken endpoint()")
        return endpoint_class(config, label)  # type: ignore[no-any-return]

    return type(f"Raise_{method}", (StdlibStack,), {"name": f"raise-{method}", "endpoint": endpoint,
                                                    "endpoint_factory": StdlibStack.endpoint_factory})


for _method in ENDPOINT_METHODS:
    globals()[f"Raise_{_method}"] = _raising(_method)


# --- adapters that cannot even start: checked before the first case -----------------------------------------------

class VersionRaises(StdlibStack):
    name = "version-raises"

    def version(self) -> str:
        raise RuntimeError("cannot find the library's version")


class ConstructorRaises(StdlibStack):
    name = "constructor-raises"

    def __init__(self) -> None:
        raise KeyError("no configuration")


class AvailabilityRaises(StdlibStack):
    name = "availability-raises"

    def check_available(self) -> None:
        raise OSError("libfoo.so: cannot open shared object file")


class Unavailable(StdlibStack):
    name = "unavailable"

    def check_available(self) -> None:
        raise StackUnavailable("libfoo is not installed: apt-get install libfoo")


class UnknownCapability(StdlibStack):
    name = "unknown-capability"
    capabilities = StdlibStack.capabilities | {"time_travel"}


class StringExpectations(StdlibStack):
    """An expectations path given as a string: accepted like a Path."""

    name = "string-expectations"
    expectations_path = str(HERE / "expectations" / "good.toml")


def _with_expectations(name: str) -> type[StdlibStack]:
    return type(f"Expect_{name}", (StdlibStack,), {"name": f"expect-{name}",
                                                   "expectations_path": HERE / "expectations" / f"{name}.toml"})


for _name in ("syntax", "schema", "unknown_case", "unknown_clause", "unknown_key", "clause_not_claimed"):
    globals()[f"Expect_{_name}"] = _with_expectations(_name)


class PinnedCrashStack(CrashStack):
    """The segfaulting stack with an expectations file that pins its crash (an expected deviation)."""

    name = "pinned-segv"
    expectations_path = HERE / "expectations" / "pinned_crash.toml"
