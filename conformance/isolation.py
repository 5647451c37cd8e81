"""Isolation: every conformance case runs in a forked child process with a deadline and a memory limit.

Theory of operation
-------------------
The pytest process (or each pytest-xdist worker) forks a child (a :class:`Sandbox`) when its first case is due, and
sends it cases by their index in the collected items (the child has the same list: it is a fork). For each case the
child runs pytest's own protocol (setup, call, teardown, exactly as without isolation), writes the verdict record
itself and sends the serialised test reports back through a pipe. The parent reads the pipe and watches:

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

After a crash or a hang the next case runs in a fresh child; so it does after a case that left the child more than
a quarter of the memory limit bigger than it started (256 MiB without a limit), so that a leak is charged to the
case that made it, never to a later one: every case starts with at least three quarters of the limit free.
Nothing is shared back except the reports and the records.

A child also serves one *group* of cases only: the plugin names the stacks a case runs on (one stack, or the two of
an interop pair) and orders the cases so that each group's cases run one after another. When the group changes, the
child ends and the next case gets a fresh one, so a library that corrupts the C heap of its process (a double free
in wolfSSL once cost a verdict of another case much later in the same child) can cost only verdicts of its own
stack. Measured on wolfssl + libssl (2224 cases, one process, same seed, verdicts identical): 40.5 s of CPU with one
child for all, 39.7 s grouped (three groups: each stack, the pair); retiring at every stack change in pytest's own
order (case-major, so a child per case) cost 87.4 s, 31 s of it system time (docs/status.md, section "malloc").

A crash or hang cannot always be blamed on the case that was running: heap corruption left by an earlier case in the
same child shows only when the damaged memory is next used. So the reason of a lost case says how many cases its
child had run before it and names the last of them (``HISTORY`` node ids), and that it was the first case of a
fresh child when it was: a crash of a fresh child's first case is that case's own.

Why a fork per case, not pytest-timeout or pytest-xdist's worker restart alone: pytest-timeout's signal method
cannot interrupt a call blocked in C (ctypes into libssl, a lock), and its thread method ends the whole process;
pytest-xdist restarts a crashed worker only with ``-n`` and reports the crashed case as a bare failure, with no
verdict record. A child per case gives one mechanism with and without ``-n``: SIGKILL ends a child whatever it is
doing, and ``waitpid`` says how it died. RLIMIT_AS in the child is a bound the kernel enforces at the allocation;
an RSS check after the case alone would come too late for a case that takes 3 GiB at once (it is used only to
decide when to replace a child that grew). One long-lived child per process rather than a fork per case: a fork
per case cost some 14 ms of system time each (copy-on-write faults of a big pytest process), a third of the run;
the parent loads stacks, certificates and expectations before the first fork, so every child starts warm.
``--case-isolation off`` runs cases in the pytest process (for a debugger).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
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
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from conformance.verdicts import Verdict

__all__ = ["Limits", "Lost", "Sandbox", "abandoned", "available", "in_child", "mark_recorded", "note_progress"]

_SLOTS = 24
_SLOT = 400
_HEADER = struct.Struct("<QBB")  # progress counter, "record written" flag, "abandoned" flag
_RECORDED = 8  # offsets of the two flags in the shared page
_ABANDONED = 9
_EXIT_MEMORY = 71
_EXIT_BROKEN = 70
_PR_SET_PDEATHSIG = 1
_COMMAND = struct.Struct("<qq")  # index of the case in session.items, index of the next case (-1: none)
_RETIRE_UNLIMITED = 256 * 1024 * 1024  # growth that retires a child when no memory limit is set
HISTORY = 8  # earlier cases of the same child named in the reason of a crash or hang


@dataclass(frozen=True)
class Limits:
    deadline: float  # seconds without progress before a case is a hang; 0: none
    memory_mib: int  # address space a case may add; 0: no limit


@dataclass
class Lost:
    """A case whose child did not report: why, what it was doing, and whether it wrote its record first."""

    verdict: Verdict  # crash, hang, or error (the memory limit)
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
    count = _HEADER.unpack_from(page, 0)[0]
    data = line.encode("utf-8", "replace")[: _SLOT - 2]
    offset = _HEADER.size + (count % _SLOTS) * _SLOT
    struct.pack_into("<H", page, offset, len(data))
    page[offset + 2: offset + 2 + len(data)] = data
    struct.pack_into("<Q", page, 0, count + 1)


def mark_recorded() -> None:
    """The child has written its verdict record: the parent must not write a second one."""
    if _progress is not None:
        struct.pack_into("<B", _progress, _RECORDED, 1)


def abandoned() -> bool:
    """The parent has given up on the running case (its deadline passed): the child must not record a verdict.
    The parent sets the flag before its signal, so a case that the signal frees from a blocked call (and that
    then finishes, maybe "passing") cannot turn the hang into a recorded pass."""
    return _progress is not None and bool(_progress[_ABANDONED])


def _last_lines(page: mmap.mmap, first: int) -> list[str]:
    """The case's last trace lines (from counter value ``first`` on) kept in the shared ring."""
    count = _HEADER.unpack_from(page, 0)[0]
    lines = []
    for index in range(max(first, count - _SLOTS), count):
        offset = _HEADER.size + (index % _SLOTS) * _SLOT
        (size,) = struct.unpack_from("<H", page, offset)
        lines.append(bytes(page[offset + 2: offset + 2 + size]).decode("utf-8", "replace"))
    if count - first > _SLOTS:
        lines.insert(0, f"... {count - first - _SLOTS} earlier trace lines not kept ...")
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


def _read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return b""
        data += chunk
    return data


def _rss() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _die_with_parent() -> None:
    """Linux: the kernel kills the child when the parent dies (a run ended by SIGTERM or SIGKILL must not leave a
    stuck case running); elsewhere the child still ends at its next command, when the pipe is closed."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before the line above
            os._exit(_EXIT_BROKEN)


def _serve(items: list[pytest.Item], command_fd: int, result_fd: int, dump: Any, limits: Limits) -> None:
    """The child's loop: run the case each command names, answer with its reports; never returns."""
    code = _EXIT_BROKEN
    try:
        # The parent's exit handlers are the parent's (one removes the certificates every child uses); the child's
        # own (a case's temporary directory, e.g. specs/cases/_verify.py) run when it ends cleanly, below.
        atexit._clear()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        _die_with_parent()
        faulthandler.enable(file=dump, all_threads=True)
        faulthandler.register(signal.SIGUSR1, file=dump, all_threads=True, chain=False)
        if limits.memory_mib:
            budget = _vm_size() + limits.memory_mib * 1024 * 1024
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard == resource.RLIM_INFINITY or hard > budget:
                resource.setrlimit(resource.RLIMIT_AS, (budget, hard))
        baseline = _rss()
        retire_at = limits.memory_mib * 1024 * 1024 // 4 if limits.memory_mib else _RETIRE_UNLIMITED
        while True:
            command = _read_exact(command_fd, _COMMAND.size)
            if not command:
                code = 0
                break
            index, next_index = _COMMAND.unpack(command)
            item = items[index]
            nextitem = items[next_index] if next_index >= 0 else None
            reports = runtestprotocol(item, log=False, nextitem=nextitem)
            hook = item.config.hook
            # A child that grew (a case kept memory) ends after this case: the next one starts from a clean fork.
            retire = _rss() - baseline > retire_at
            payload = json.dumps({"reports": [hook.pytest_report_to_serializable(config=item.config, report=r)
                                              for r in reports], "retire": retire}, default=str).encode("utf-8")
            frame = memoryview(struct.pack("<I", len(payload)) + payload)
            while frame:
                frame = frame[os.write(result_fd, frame):]
            if retire:
                code = 0
                break
    except MemoryError:
        code = _EXIT_MEMORY
    except BaseException:
        with contextlib.suppress(BaseException):
            dump.write(traceback.format_exc().encode("utf-8", "replace"))
            dump.flush()
    finally:
        if code == 0:
            with contextlib.suppress(BaseException):
                atexit._run_exitfuncs()
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


def _read_dump(dump: Any, start: int, limit: int = 6000) -> str:
    with contextlib.suppress(OSError, ValueError):
        dump.flush()
        dump.seek(start)
        text: str = dump.read().decode("utf-8", "replace")
        kept: list[str] = []
        for line in text.strip().splitlines():  # the frames of pytest and pluggy say nothing about the stack
            if "/_pytest/" in line or "/pluggy/" in line:
                if kept and kept[-1] != "  ... (pytest's own frames)":
                    kept.append("  ... (pytest's own frames)")
                continue
            kept.append(line)
        text = "\n".join(kept)
        return text if len(text) <= limit else "...\n" + text[-limit:]
    return ""


class Sandbox:
    """The child process of one pytest process (or xdist worker), forked on demand and replaced after a crash, a
    hang, or when it has grown."""

    def __init__(self, session: pytest.Session, limits: Limits) -> None:
        self.items = session.items
        self.index = {item.nodeid: i for i, item in enumerate(self.items)}
        self.limits = limits
        self.pid = 0
        self.command_fd = self.result_fd = -1
        self.page: mmap.mmap | None = None
        self.dump: Any = None
        self.group: object = None  # the group of cases the running child serves
        self.served: list[str] = []  # node ids of the cases the running child ran, oldest first (last HISTORY kept)
        self.count = 0  # how many cases the running child ran

    def _start(self) -> None:
        global _progress
        page = mmap.mmap(-1, _HEADER.size + _SLOTS * _SLOT)
        dump = tempfile.TemporaryFile(prefix="conformance-case-")  # noqa: SIM115 - closed in _release
        command_r, command_w = os.pipe()
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(command_w)
            os.close(result_r)
            _progress = page
            _serve(self.items, command_r, result_w, dump, self.limits)
        os.close(command_r)
        os.close(result_w)
        self.pid, self.command_fd, self.result_fd, self.page, self.dump = pid, command_w, result_r, page, dump
        self.served, self.count = [], 0

    def stop(self, kill: bool = False) -> None:
        """End the child (an idle child ends when its command pipe closes; ``kill`` for one that is stuck) and
        release the pipes, the page and the dump file."""
        if not self.pid:
            return
        self._close_fds()
        if kill:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self._release()

    def run(self, item: pytest.Item, nextitem: pytest.Item | None,
            on_lost: Callable[[pytest.Item, Lost], tuple[Verdict, str]], group: object = None) -> bool:
        """pytest's runtest protocol for ``item`` in the child (see the module's theory of operation); ``group``:
        the cases a child serves (a child that served another group ends first)."""
        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        if self.pid and os.waitpid(self.pid, os.WNOHANG)[0]:  # died while idle: not this case's doing
            self._close_fds()
            self._release()
        if self.pid and group != self.group:
            self.stop()
        if not self.pid:
            self._start()
            self.group = group
        earlier = self._earlier()
        self.served = [*self.served[-(HISTORY - 1):], item.nodeid]
        self.count += 1
        assert self.page is not None
        struct.pack_into("<BB", self.page, _RECORDED, 0, 0)
        first_line = _HEADER.unpack_from(self.page, 0)[0]
        dump_start = os.fstat(self.dump.fileno()).st_size
        next_index = self.index.get(nextitem.nodeid, -1) if nextitem is not None else -1
        started = time.monotonic()
        try:
            os.write(self.command_fd, _COMMAND.pack(self.index[item.nodeid], next_index))
            outcome = self._watch(started, first_line, dump_start, earlier)
        except BrokenPipeError:
            outcome = self._lost_after_exit(started, first_line, dump_start, earlier)
        except BaseException:  # Ctrl-C: the case is left unrecorded and the run reports itself incomplete
            self.stop(kill=True)
            raise
        if isinstance(outcome, Lost):
            reports = _lost_reports(item, outcome, *on_lost(item, outcome))
        else:
            reports = [item.config.hook.pytest_report_from_serializable(config=item.config, data=d)
                       for d in outcome["reports"]]
            for report in reports:  # JSON made a skip's (path, line, message) a list; pytest's -rs wants a tuple
                longrepr: object = report.longrepr
                if isinstance(longrepr, list):
                    report.longrepr = (str(longrepr[0]), int(longrepr[1]), str(longrepr[2]))
            if outcome.get("retire"):
                self.stop()
        for report in reports:
            ihook.pytest_runtest_logreport(report=report)
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    def _earlier(self) -> str:
        """What the child ran before the case about to run (for the reason of a crash or hang)."""
        if not self.count:
            return "it was the first case of a fresh process (no earlier case ran there)"
        kept = len(self.served)
        head = (f"its process had run {self.count} earlier case{'s' if self.count > 1 else ''}"
                + (f", the last {kept}" if kept < self.count else "") + " (oldest first; heap damage left by one "
                "of them shows only when the memory is next used):")
        return "\n".join([head, *(f"  {nodeid}" for nodeid in self.served)])

    def _watch(self, started: float, first_line: int, dump_start: int, earlier: str) -> dict[str, Any] | Lost:
        assert self.page is not None
        limits = self.limits
        buffer = bytearray()
        last_count = -1
        last_change = time.monotonic()
        tick = 1.0 if not limits.deadline else max(0.05, min(1.0, limits.deadline / 10))
        while True:
            if len(buffer) >= 4:
                (size,) = struct.unpack_from("<I", buffer, 0)
                if len(buffer) >= 4 + size:
                    result: dict[str, Any] = json.loads(bytes(buffer[4: 4 + size]).decode("utf-8"))
                    return result
            ready, _, _ = select.select([self.result_fd], [], [], tick)
            now = time.monotonic()
            if ready:
                chunk = os.read(self.result_fd, 1 << 16)
                if not chunk:
                    return self._lost_after_exit(started, first_line, dump_start, earlier)
                buffer += chunk
                last_change = now
                continue
            count = _HEADER.unpack_from(self.page, 0)[0]
            if count != last_count:
                last_count, last_change = count, now
            elif limits.deadline and now - last_change >= limits.deadline:
                self.page[_ABANDONED] = 1  # before the signal, which may free the case from a blocked call
                os.kill(self.pid, signal.SIGUSR1)  # faulthandler: where every thread of the child is stuck
                _settle(self.dump, dump_start)
                where = _read_dump(self.dump, dump_start)
                lines, recorded = _last_lines(self.page, first_line), _recorded(self.page)
                self.stop(kill=True)
                reason = (f"no progress for {limits.deadline:g} s (the case deadline, --case-deadline): no trace "
                          "line and no result; its process was killed"
                          + (f"\nwhere it was stuck:\n{where}" if where else "") + f"\n{earlier}")
                return Lost(Verdict.HANG, reason, lines, now - started, recorded)

    def _lost_after_exit(self, started: float, first_line: int, dump_start: int, earlier: str) -> Lost:
        assert self.page is not None
        _, status = os.waitpid(self.pid, 0)
        lines, recorded = _last_lines(self.page, first_line), _recorded(self.page)
        dumped = _read_dump(self.dump, dump_start)
        self._close_fds()
        self._release()
        duration = time.monotonic() - started
        memory = (os.WIFEXITED(status) and os.WEXITSTATUS(status) == _EXIT_MEMORY) or "MemoryError" in dumped
        if memory:
            reason = (f"MemoryError: the case exceeded its memory limit of {self.limits.memory_mib} MiB "
                      "(--case-memory) and its process could not go on")
            return Lost(Verdict.ERROR, reason + (f"\n{dumped}" if dumped else ""), lines, duration, recorded)
        reason = _describe_status(status) + (f"\n{dumped}" if dumped else "") + f"\n{earlier}"
        return Lost(Verdict.CRASH, reason, lines, duration, recorded)

    def _close_fds(self) -> None:
        for fd in (self.command_fd, self.result_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.command_fd = self.result_fd = -1

    def _release(self) -> None:
        if self.page is not None:
            self.page.close()
            self.page = None
        if self.dump is not None:
            self.dump.close()
            self.dump = None
        self.pid = 0


def _recorded(page: mmap.mmap) -> bool:
    return bool(page[_RECORDED])


def _settle(dump: Any, start: int, wait: float = 1.0) -> None:
    """Give the child's faulthandler a moment to write its dump (it is written from the signal handler)."""
    end = time.monotonic() + wait
    size = -1
    while time.monotonic() < end:
        time.sleep(0.05)
        current = os.fstat(dump.fileno()).st_size
        if current > start and current == size:
            return
        size = current


def _lost_reports(item: pytest.Item, lost: Lost, verdict: Verdict, reason: str) -> list[pytest.TestReport]:
    """pytest's reports of a lost case. ``verdict`` is the recorded one: a crash or hang that the stack's
    expectations pin is an expected deviation, shown like the other expected deviations (xfailed), not as failed."""
    text = f"{lost.verdict}: {lost.reason}"
    if lost.trace:
        text += "\nlast trace lines:\n" + "\n".join(lost.trace)
    common: dict[str, Any] = {"nodeid": item.nodeid, "location": item.location,
                              "keywords": {k: 1 for k in item.keywords}}
    if verdict is Verdict.EXPECTED_DEVIATION:
        call = pytest.TestReport(outcome="skipped", longrepr=(str(item.path), item.location[1] or 0, text),
                                 when="call", duration=lost.duration, user_properties=[("verdict", str(verdict))],
                                 **common)
        call.wasxfail = reason  # how pytest marks an xfailed report
    else:
        call = pytest.TestReport(outcome="failed", longrepr=text, when="call", duration=lost.duration,
                                 user_properties=[("verdict", str(verdict))], **common)
    return [
        pytest.TestReport(outcome="passed", longrepr=None, when="setup", duration=0.0, **common),
        call,
        pytest.TestReport(outcome="passed", longrepr=None, when="teardown", duration=0.0, **common),
    ]
