"""Isolation: every conformance case runs in a forked child process with a deadline and a memory limit.

Theory of operation
-------------------
The pytest process (or each pytest-xdist worker) forks one child per case. The child runs pytest's own protocol for
that case (setup, call, teardown, exactly as without isolation), writes the verdict record itself, sends the
serialised test reports back through a pipe and exits with ``os._exit``. The parent reads the pipe and watches:

* **progress**: the child's harness trace writes every line into a small shared memory page (a counter and a ring
  of the last lines, no system call per line). When the counter has not moved for ``deadline`` seconds, the case
  has made no progress: the parent asks the child for a stack dump (``faulthandler`` on SIGUSR1), kills it with
  SIGKILL and records *hang* with "no progress for N s", the dump and the last trace lines.
* **death**: a child that ends without sending its reports died in the stack (a signal such as SIGSEGV, or an exit):
  the parent records *crash* with the signal or exit status, the child's ``faulthandler`` output (the Python
  stack where it died) and the last trace lines.
* **memory**: the child lowers its own ``RLIMIT_AS`` to its size at the fork plus ``memory_mib``; an allocation
  past it fails with ``MemoryError`` (verdict *error*, naming the limit), and a child that dies of it is recorded
  as *error* with the same reason. Killing the child returns every byte a leaking case kept.

Then the next case runs in a fresh child. Nothing is shared back except the reports and the records.

Why a fork per case, not pytest-timeout or pytest-xdist's worker restart alone: pytest-timeout's signal method
cannot interrupt a call blocked in C (ctypes into libssl, a lock), and its thread method ends the whole process;
pytest-xdist restarts a crashed worker only with ``-n`` and reports the crashed case as a bare failure, with no
verdict record. A child per case gives one mechanism with and without ``-n``: SIGKILL ends a child whatever it is
doing, ``waitpid`` says how it died, and the limit applies to one case only (RLIMIT_AS in the child is a hard bound
the kernel enforces at the allocation; an RSS check after the case would come too late for a case that takes
3 GiB at once). The cost is one fork of an already warmed-up process (about 4 ms on the project's machine, against
some 25 ms for an average case); the parent loads stacks, certificates and expectations before the first fork, so
children inherit them. ``--case-isolation off`` runs cases in the pytest process (for a debugger).
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import mmap
import os
import resource
import select
import signal
import struct
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from _pytest.runner import runtestprotocol

__all__ = ["Limits", "Lost", "available", "in_child", "note_progress", "run_isolated"]

_SLOTS = 24
_SLOT = 400
_HEADER = struct.Struct("<QB")  # progress counter, "record written" flag
_EXIT_MEMORY = 71
_EXIT_BROKEN = 70


@dataclass(frozen=True)
class Limits:
    deadline: float  # seconds without progress before a case is a hang; 0: none
    memory_mib: int  # address space a case may add; 0: no limit


@dataclass
class Lost:
    """A case whose child did not report: why, what it was doing, and whether it wrote its record first."""

    verdict: str  # "crash", "hang" or "error" (memory)
    reason: str
    trace: list[str]
    duration: float
    record_written: bool


_progress: mmap.mmap | None = None


def available() -> bool:
    return hasattr(os, "fork")


def in_child() -> bool:
    return _progress is not None


def note_progress(line: str) -> None:
    """A trace line of the running case (the trace's listener in a child): count it and keep it in the ring."""
    page = _progress
    if page is None:
        return
    count, _ = _HEADER.unpack_from(page, 0)
    data = line.encode("utf-8", "replace")[: _SLOT - 2]
    offset = _HEADER.size + (count % _SLOTS) * _SLOT
    struct.pack_into("<H", page, offset, len(data))
    page[offset + 2: offset + 2 + len(data)] = data
    struct.pack_into("<Q", page, 0, count + 1)


def mark_recorded() -> None:
    """The child has written its verdict record: the parent must not write a second one."""
    if _progress is not None:
        struct.pack_into("<B", _progress, 8, 1)


def _last_lines(page: mmap.mmap) -> list[str]:
    count, _ = _HEADER.unpack_from(page, 0)
    lines = []
    for index in range(max(0, count - _SLOTS), count):
        offset = _HEADER.size + (index % _SLOTS) * _SLOT
        (size,) = struct.unpack_from("<H", page, offset)
        lines.append(bytes(page[offset + 2: offset + 2 + size]).decode("utf-8", "replace"))
    if count > _SLOTS:
        lines.insert(0, f"... {count - _SLOTS} earlier trace lines not kept ...")
    return lines


def _vm_size() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _child(item: pytest.Item, write_fd: int, dump: Any, limits: Limits) -> None:
    """Runs in the forked child; never returns."""
    code = _EXIT_BROKEN
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        faulthandler.enable(file=dump, all_threads=True)
        faulthandler.register(signal.SIGUSR1, file=dump, all_threads=True, chain=False)
        if limits.memory_mib:
            budget = _vm_size() + limits.memory_mib * 1024 * 1024
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard == resource.RLIM_INFINITY or hard > budget:
                resource.setrlimit(resource.RLIMIT_AS, (budget, hard))
        # Tear down only what belongs to the case: its module's and the session's fixtures stay (this child ends
        # after the case; the parent never set them up).
        reports = runtestprotocol(item, log=False, nextitem=cast(pytest.Item, item.parent))
        hook = item.config.hook
        payload = json.dumps([hook.pytest_report_to_serializable(config=item.config, report=r) for r in reports],
                             default=str).encode("utf-8")
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view):]
        code = 0
    except MemoryError:
        code = _EXIT_MEMORY
    except BaseException:
        with contextlib.suppress(BaseException):
            dump.write(traceback.format_exc().encode("utf-8", "replace"))
            dump.flush()
    finally:
        os._exit(code)


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
            text = signal.strsignal(number) or name
        except ValueError:
            name, text = str(number), "unknown signal"
        return f"the process running the case was killed by signal {number} ({name}: {text})"
    return f"the process running the case exited with status {os.WEXITSTATUS(status)} before reporting"


def _read_dump(dump: Any, limit: int = 6000) -> str:
    with contextlib.suppress(OSError, ValueError):
        dump.flush()
        dump.seek(0)
        text: str = dump.read().decode("utf-8", "replace")
        text = text.strip()
        return text if len(text) <= limit else "...\n" + text[-limit:]
    return ""


def run_isolated(item: pytest.Item, limits: Limits, on_lost: Callable[[pytest.Item, Lost], None]) -> bool:
    """pytest's runtest protocol for ``item`` in a forked child (see the module's theory of operation)."""
    global _progress
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    page = mmap.mmap(-1, _HEADER.size + _SLOTS * _SLOT)
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    with tempfile.TemporaryFile(prefix="conformance-case-") as dump:
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _progress = page
            _child(item, write_fd, dump, limits)
        os.close(write_fd)
        payload = bytearray()
        lost: Lost | None = None
        try:
            lost = _watch(pid, read_fd, page, payload, limits, started, dump)
        except BaseException:  # Ctrl-C: the case is left unrecorded and the run reports itself incomplete
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            raise
        finally:
            os.close(read_fd)
        if lost is not None:
            on_lost(item, lost)
            reports = _lost_reports(item, lost)
        else:
            data = json.loads(payload.decode("utf-8"))
            reports = [item.config.hook.pytest_report_from_serializable(config=item.config, data=d) for d in data]
    page.close()
    for report in reports:
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _watch(pid: int, read_fd: int, page: mmap.mmap, payload: bytearray, limits: Limits, started: float,
           dump: Any) -> Lost | None:
    last_count = -1
    last_change = time.monotonic()
    tick = 1.0 if not limits.deadline else max(0.05, min(1.0, limits.deadline / 10))
    while True:
        ready, _, _ = select.select([read_fd], [], [], tick)
        now = time.monotonic()
        if ready:
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            payload += chunk
            last_change = now
            continue
        count, _ = _HEADER.unpack_from(page, 0)
        if count != last_count:
            last_count, last_change = count, now
        elif limits.deadline and now - last_change >= limits.deadline:
            os.kill(pid, signal.SIGUSR1)  # faulthandler: where every thread of the child is stuck
            _settle(dump)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            where = _read_dump(dump)
            reason = (f"no progress for {limits.deadline:g} s (the case deadline, --case-deadline): no trace line "
                      f"and no result; the process was killed" + (f"\nwhere it was stuck:\n{where}" if where else ""))
            return Lost("hang", reason, _last_lines(page), now - started, _recorded(page))
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and payload:
        return None
    duration = time.monotonic() - started
    dumped = _read_dump(dump)
    if (os.WIFEXITED(status) and os.WEXITSTATUS(status) == _EXIT_MEMORY) or "MemoryError" in dumped:
        reason = (f"MemoryError: the case exceeded its memory limit of {limits.memory_mib} MiB (--case-memory) "
                  "and its process could not go on")
        return Lost("error", reason + (f"\n{dumped}" if dumped else ""), _last_lines(page), duration,
                    _recorded(page))
    reason = _describe_status(status) + (f"\n{dumped}" if dumped else "")
    return Lost("crash", reason, _last_lines(page), duration, _recorded(page))


def _recorded(page: mmap.mmap) -> bool:
    return bool(_HEADER.unpack_from(page, 0)[1])


def _settle(dump: Any, wait: float = 1.0) -> None:
    """Give the child's faulthandler a moment to write its dump (it is written from the signal handler)."""
    end = time.monotonic() + wait
    size = -1
    while time.monotonic() < end:
        time.sleep(0.05)
        current = os.fstat(dump.fileno()).st_size
        if current and current == size:
            return
        size = current


def _lost_reports(item: pytest.Item, lost: Lost) -> list[pytest.TestReport]:
    text = f"{lost.verdict}: {lost.reason}"
    if lost.trace:
        text += "\nlast trace lines:\n" + "\n".join(lost.trace)
    common: dict[str, Any] = {"nodeid": item.nodeid, "location": item.location,
                              "keywords": {k: 1 for k in item.keywords}}
    return [
        pytest.TestReport(outcome="passed", longrepr=None, when="setup", duration=0.0, **common),
        pytest.TestReport(outcome="failed", longrepr=text, when="call", duration=lost.duration,
                          user_properties=[("verdict", lost.verdict)], **common),
        pytest.TestReport(outcome="passed", longrepr=None, when="teardown", duration=0.0, **common),
    ]
