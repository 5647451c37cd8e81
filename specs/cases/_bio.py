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
import socket
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
    """The stack's C function ``name``; a name the stack does not offer makes the case *not applicable*."""
    api = h.capi
    try:
        return getattr(api, name)
    except AttributeError:
        raise MissingSymbol(name, h.stack.name, "the stack's C-API binding does not declare this function "
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
