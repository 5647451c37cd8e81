"""Helpers for the BIO and error-queue cases: recorded calls by OpenSSL name, the error queue, owned BIOs, sockets
and BIO_ADDRs that are always released, and a toy request/response application over a BIO pair for the pump.

Nothing here calls a library in a way C would not allow (no NULL where C dereferences, no double free): every
handle a case hands to :class:`Owned` is freed exactly once, and a case that frees one itself says so with
:meth:`Owned.forget`.
"""

from __future__ import annotations

import errno as _errno
import fcntl
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from conformance.capi import constants as K
from conformance.capi.libssl import MissingSymbol
from conformance.harness import Harness
from conformance.link import Channel, Link
from conformance.outcome import Outcome, SslError
from conformance.stacks.base import Endpoint
from conformance.trace import Trace

ERR_TXT_STRING = 0x02  # openssl/err.h


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return repr(value) if len(value) <= 24 else f"<{len(value)} bytes>"
    if isinstance(value, (int, str)) or value is None:
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return type(value).__name__


def function(h: Harness, name: str) -> Any:
    """The stack's C function ``name``; a name the library does not provide makes the case *not applicable*
    (MissingSymbol, raised by the binding). A name our C-API binding does not declare at all is a gap of the
    harness, not a fact of the library, so it is an *error*, never *not applicable*."""
    api = h.capi
    try:
        return getattr(api, name)
    except AttributeError:
        raise LookupError(f"harness gap: the C-API binding of {h.stack.name} does not declare {name} "
                          "(conformance/capi/libssl.py has no method for it)") from None


def needs(h: Harness, *names: str) -> None:
    """Decide *not applicable* before any set-up: the first of ``names`` the stack cannot call raises the same
    MissingSymbol a call would (so a case that would stop at a missing getter binds no socket first)."""
    api = h.capi
    for name in names:
        if not api.has(name):
            function(h, name)  # a name the binding does not declare at all
            table = getattr(api, "symbol_table", None)
            why = table().get(name, "") if table is not None else ""
            raise MissingSymbol(name, str(getattr(api, "library", h.stack.name)),
                                why.removeprefix("missing: ") or "the stack cannot call this function")


def call(h: Harness, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``name`` by its OpenSSL name and note the call and its result in the trace."""
    result = function(h, name)(*args, **kwargs)
    shown = ", ".join([_show(a) for a in args] + [f"{k}={_show(v)}" for k, v in kwargs.items()])
    h.trace.note(f"{name}({shown}) -> {_show(result)}")
    return result


def clear(h: Harness) -> None:
    call(h, "ERR_clear_error")


def drain(h: Harness) -> list[int]:
    """Take every entry off the calling thread's queue (oldest first) and return the codes."""
    codes: list[int] = []
    for _ in range(64):
        code = h.capi.ERR_get_error()
        if not code:
            break
        codes.append(int(code))
    h.trace.note(f"error queue: {[hex(c) for c in codes]}")
    return codes


def has_entry(h: Harness) -> bool:
    code = call(h, "ERR_peek_error")
    return bool(code)


class Owned:
    """BIOs, BIO_ADDRs and socket descriptors a case made; released in reverse order when the case ends."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.items: list[tuple[str, Any]] = []

    def bio(self, b: Any) -> Any:
        if b is not None:
            self.items.append(("bio", b))
        return b

    def addr(self, a: Any) -> Any:
        if a is not None:
            self.items.append(("addr", a))
        return a

    def fd(self, fd: int) -> int:
        if isinstance(fd, int) and fd >= 0:
            self.items.append(("fd", fd))
        return fd

    def forget(self, thing: Any) -> None:
        """The case released ``thing`` itself (or a library did, e.g. SSL_free on its BIO)."""
        for i, (_, value) in enumerate(self.items):
            if value is thing or (isinstance(thing, int) and value == thing and not isinstance(value, bool)):
                del self.items[i]
                return
        raise AssertionError(f"{thing!r} is not owned by the case")

    def release(self) -> None:
        api = self.h.capi
        while self.items:
            kind, value = self.items.pop()
            if kind == "bio":
                api.BIO_free(value)
            elif kind == "addr":
                api.BIO_ADDR_free(value)
            else:
                with suppress(OSError):
                    os.close(value)


@contextmanager
def owned(h: Harness) -> Iterator[Owned]:
    o = Owned(h)
    try:
        yield o
    finally:
        o.release()


# --- BIOs -------------------------------------------------------------------------------------------------------

def mem(h: Harness, o: Owned) -> Any:
    b = o.bio(call(h, "BIO_new", call(h, "BIO_s_mem")))
    assert b is not None, "BIO_new(BIO_s_mem()) returned NULL"
    return b


def pair(h: Harness, o: Owned, size1: int = 0, size2: int = 0) -> tuple[Any, Any]:
    ret, b1, b2 = call(h, "BIO_new_bio_pair", size1, size2)
    assert ret == 1 and b1 is not None and b2 is not None, f"BIO_new_bio_pair({size1}, {size2}) returned {ret}"
    o.bio(b1)
    o.bio(b2)
    return b1, b2


# --- sockets and addresses ----------------------------------------------------------------------------------------

def addr(h: Harness, o: Owned, host: str, port: int) -> Any:
    """A BIO_ADDR for ``host`` (IPv4 or IPv6 literal) and ``port`` (host byte order)."""
    family = K.AF_INET6 if ":" in host else K.AF_INET
    raw = socket.inet_pton(socket.AF_INET6 if family == K.AF_INET6 else socket.AF_INET, host)
    a = o.addr(call(h, "BIO_ADDR_new"))
    assert a is not None, "BIO_ADDR_new returned NULL"
    assert call(h, "BIO_ADDR_rawmake", a, family, raw, port=socket.htons(port)) == 1, f"rawmake {host}:{port}"
    return a


def view(fd: int) -> socket.socket:
    """A Python socket over a duplicate of ``fd`` (to inspect it without owning the descriptor)."""
    return socket.socket(fileno=os.dup(fd))


def sockopt(fd: int, level: int, option: int) -> int:
    with view(fd) as s:
        return s.getsockopt(level, option)


def port_of(fd: int) -> int:
    with view(fd) as s:
        return int(s.getsockname()[1])


def has_peer(fd: int) -> bool:
    """Whether the socket ``fd`` is really connected (the kernel's word against a stack's "connected")."""
    with view(fd) as s:
        try:
            s.getpeername()
        except OSError:
            return False
    return True


def nonblocking(fd: int) -> bool:
    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK)


def is_open(fd: int) -> bool:
    try:
        fcntl.fcntl(fd, fcntl.F_GETFD)
    except OSError as exc:
        if exc.errno == _errno.EBADF:
            return False
        raise
    return True


def listener(h: Harness, o: Owned, host: str = "127.0.0.1", options: int = 0) -> tuple[int, int]:
    """A listening socket made with BIO_socket + BIO_listen on ``host`` port 0: (descriptor, port)."""
    family = K.AF_INET6 if ":" in host else K.AF_INET
    fd = o.fd(call(h, "BIO_socket", family, socket.SOCK_STREAM, 0, 0))
    assert fd >= 0, f"BIO_socket returned {fd}"
    assert call(h, "BIO_listen", fd, addr(h, o, host, 0), options) == 1, "BIO_listen failed"
    return fd, port_of(fd)


def errno_of(h: Harness) -> int:
    value = int(call(h, "errno"))
    return value


# --- a TCP connect that cannot finish yet ---------------------------------------------------------------------------

class FullListener:
    """A listening socket on 127.0.0.1 whose accept queue is full (listen(0) and four unaccepted non-blocking
    connects), so the kernel drops further SYNs and a new connect stays in progress.

    A helper thread accepts every connection from ``release_after`` seconds on (or at once after :meth:`release`)
    until the owner is done, keeping the accepted sockets open until then; it keeps on accepting because the
    fillers' own SYN retries would otherwise take the freed places again. So a stack whose connect blocks although it
    was asked not to returns once the kernel retries its SYN (1 s, then 3 s after the first), and its case fails on
    the time the call took instead of waiting for the harness's deadline."""

    def __init__(self, release_after: float) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._fillers: list[socket.socket] = []
        self._accepted: list[socket.socket] = []
        self._go = threading.Event()
        self._stop = threading.Event()
        self._release_after = release_after
        self._thread = threading.Thread(target=self._accept_all, daemon=True)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = int(self.sock.getsockname()[1])
        for _ in range(4):  # fill the accept queue: further SYNs are dropped and connects stay in progress
            f = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            f.setblocking(False)
            f.connect_ex(("127.0.0.1", self.port))
            self._fillers.append(f)
        self._thread.start()

    def release(self) -> None:
        """Start accepting now."""
        self._go.set()

    def _accept_all(self) -> None:
        self._go.wait(self._release_after)
        while not self._stop.is_set():
            readable, _, _ = select.select([self.sock], [], [], 0.05)
            if readable:
                with suppress(OSError):
                    self._accepted.append(self.sock.accept()[0])

    def close(self) -> None:
        self._stop.set()
        self._go.set()
        self._thread.join()
        for s in self._fillers + self._accepted:
            s.close()
        self.sock.close()


@contextmanager
def full_listener(release_after: float = 2.0) -> Iterator[FullListener]:
    lst = FullListener(release_after)
    try:
        yield lst
    finally:
        lst.close()


def kernel_connect(port: int) -> str:
    """What the kernel does now with a non-blocking connect to 127.0.0.1:``port`` (its word against a stack's
    "the connect failed"): "in progress" when it is still pending after 50 ms, else how it ended."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setblocking(False)
        code = probe.connect_ex(("127.0.0.1", port))
        if code not in (_errno.EINPROGRESS, _errno.EALREADY, _errno.EAGAIN):
            return f"connect: {_errno.errorcode.get(code, code)}"
        _, writable, _ = select.select([], [probe], [], 0.05)
        if not writable:
            return "in progress"
        code = probe.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return f"SO_ERROR {_errno.errorcode.get(code, code)}" if code else "connected"


BLOCKED_AFTER = 1.5  # seconds: a non-blocking BIO_do_connect that took this long waited for the TCP connect


@contextmanager
def connect_in_progress(h: Harness, o: Owned) -> Iterator[tuple[Any, FullListener]]:
    """A non-blocking connect BIO (BIO_new_connect, BIO_set_nbio(b, 1), BIO_do_connect) to a :class:`FullListener`,
    whose TCP connect cannot finish yet; BIO_do_connect must have returned at once (a stack whose connect blocks
    returns when the helper thread lets the kernel's SYN retry through, two to three seconds later, and fails here).
    Not applicable where the kernel completes or refuses the connect anyway (checked with the socket's peer and
    a probe connect of our own)."""
    with full_listener() as lst:
        b = o.bio(call(h, "BIO_new_connect", f"127.0.0.1:{lst.port}".encode()))
        assert call(h, "BIO_set_nbio", b, 1) == 1
        clear(h)
        started = time.monotonic()
        ret = call(h, "BIO_do_connect", b)
        took = time.monotonic() - started
        queue = drain(h)
        assert took < BLOCKED_AFTER, f"BIO_do_connect blocked for {took:.1f} s although BIO_set_nbio(b, 1) was called"
        if ret > 0:
            assert has_peer(call(h, "BIO_get_fd", b)[1]), (
                "BIO_do_connect returned 1 on a non-blocking connect to a listener whose queue is full, but its "
                "socket is not connected (getpeername: ENOTCONN)")
            h.not_applicable("the kernel completed the connect at once although the backlog was full")
        if queue:
            kernel = kernel_connect(lst.port)
            assert kernel != "in progress", (
                f"BIO_do_connect failed outright (returned {ret}, error queue {[hex(c) for c in queue]}) on a "
                "non-blocking connect, but the kernel keeps a connect to the same full listener in progress (a "
                "probe socket's connect is still pending after 50 ms)")
            h.not_applicable(f"the connect failed outright (queue {[hex(c) for c in queue]}), and so does the "
                             f"kernel's for a probe socket ({kernel}); no special retry to observe")
        yield b, lst


# --- a toy application over a BIO pair, for the pump ---------------------------------------------------------------

class RequestResponseApp(Endpoint):
    """One side of a request/response exchange over a BIO pair, as BIO_s_bio.pod NOTES tell it: the client writes
    a request into its internal half and reads the response; the server reads the request and writes the response.

    ``do_handshake`` is the exchange: it returns WANT_READ while a read finds nothing (BIO_should_retry true) and
    ``SSL_ERROR_SYSCALL`` if a read fails without a retry flag, so the pump drives it like an SSL endpoint. The
    network half is what the link reads from and writes to.
    """

    def __init__(self, h: Harness, o: Owned, label: str, *, client: bool, request: bytes, response: bytes) -> None:
        self.h = h
        self.label = label
        self.client = client
        self.request = request
        self.response = response
        self.internal, self.network = pair(h, o)
        self.sent = False
        self.received = bytearray()

    def _outcome(self, ret: int, error: SslError, data: bytes = b"") -> Outcome:
        return Outcome("exchange", ret, error, data, "", "client" if self.client else "server")

    def _write(self, data: bytes) -> None:
        n = call(self.h, "BIO_write", self.internal, data)
        assert n == len(data), f"{self.label}: BIO_write of {len(data)} bytes into an empty pair returned {n}"

    def do_handshake(self) -> Outcome:
        if self.client and not self.sent:
            self._write(self.request)
            self.sent = True
        want = len(self.response if self.client else self.request)
        while len(self.received) < want:
            n, data = call(self.h, "BIO_read", self.internal, want - len(self.received))
            if n <= 0:
                if call(self.h, "BIO_should_retry", self.internal):
                    return self._outcome(n, SslError.SSL_ERROR_WANT_READ)
                return self._outcome(n, SslError.SSL_ERROR_SYSCALL)
            self.received += data
        if not self.client and not self.sent:
            self._write(self.response)
            self.sent = True
        return self._outcome(1, SslError.SSL_ERROR_NONE, bytes(self.received))

    def read(self, size: int) -> Outcome:
        raise NotImplementedError("the toy application only exchanges one request and one response")

    def write(self, data: bytes) -> Outcome:
        raise NotImplementedError("the toy application only exchanges one request and one response")

    def shutdown(self) -> Outcome:
        raise NotImplementedError("the toy application has no shutdown")

    def take_outgoing(self, limit: int | None = None) -> bytes:
        size = self.outgoing_pending() if limit is None else min(limit, self.outgoing_pending())
        if size <= 0:
            return b""
        n, data = self.h.capi.BIO_read(self.network, size)
        return bytes(data) if n > 0 else b""

    def outgoing_pending(self) -> int:
        return int(self.h.capi.BIO_ctrl_pending(self.network))

    def put_incoming(self, data: bytes) -> int:
        n = int(self.h.capi.BIO_write(self.network, data))
        return max(n, 0)

    def put_eof(self) -> None:
        self.h.capi.BIO_shutdown_wr(self.network)


class _WaitFirstChannel(Channel):
    """A direction of the wire driven by an application that waits for the peer before it flushes: it delivers
    whatever is already on the wire, but takes the sender's pending output only after the sender has itself
    received something (``other.delivered > 0``)."""

    def bind(self, other: Channel) -> None:
        self.other = other

    def step(self, src: Endpoint, dst: Endpoint, trace: Trace, name: str) -> bool:
        if self.other.delivered == 0 and not self.in_flight:
            pending = src.outgoing_pending()
            if pending:
                trace.link(f"{name}: {pending} bytes pending in the sender's BIO pair, not flushed (the "
                           f"application waits for the peer first)")
            return False
        return super().step(src, dst, trace, name)


def wait_before_flushing_link() -> Link:
    """Both applications wait for incoming data before flushing their own pending output."""
    c2s, s2c = _WaitFirstChannel(), _WaitFirstChannel()
    c2s.bind(s2c)
    s2c.bind(c2s)
    return Link(c2s, s2c)
