"""``conformance serve`` and ``conformance connect``: a TLS server and client on real sockets, for any stack of the
C API tier (``engine``, ``libssl``, ``wolfssl``, or a third party's C-API adapter).

Both are written only against the calling convention of :mod:`conformance.capi`: ``SSL_CTX_new``, ``SSL_set_fd``,
``SSL_accept`` / ``SSL_connect``, ``SSL_read`` / ``SSL_write``, ``SSL_get_error``, ``SSL_shutdown`` and the error
queue, on non-blocking sockets driven by one selector loop. ``SSL_ERROR_WANT_READ`` waits until the socket is
readable and ``SSL_ERROR_WANT_WRITE`` until it is writable, then the same call is repeated with the same arguments,
as SSL_get_error.pod asks. So they show that a stack's public API is enough to write a real server and client.

The server answers like ``openssl s_server -www``: a ``GET`` gets a small HTML page describing the connection
(protocol, cipher, the client's certificate subject, the server name it sent, the ALPN protocol). A connection that
fails is logged with the function, its return value, ``SSL_get_error``'s code and the whole error queue; the server
goes on with the next one. Connections are served one after another, or all at once with ``--concurrent``.

Where a stack lacks a function an option needs (``--alpn`` without ``SSL_CTX_set_alpn_select_cb``, ...), the option
is refused before anything starts, with a one-line message naming the missing functions; where it lacks one that
only adds detail to the page (``SSL_get_servername``), the page says "not available" and names it.
"""

from __future__ import annotations

import codecs
import errno
import html
import ipaddress
import os
import selectors
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from conformance.capi.libssl import MissingSymbol
from conformance.outcome import SslError, error_code
from conformance.stacks.capi_endpoint import SslObjects
from engine.ssl import constants as K

__all__ = [
    "ClientOptions",
    "Server",
    "ServerOptions",
    "UsageError",
    "capi_stack",
    "connect",
    "parse_address",
    "serve",
]

PROTOCOLS = {"TLSv1.2": K.TLS1_2_VERSION, "TLSv1.3": K.TLS1_3_VERSION}
SSL_TLSEXT_ERR_OK = 0
SSL_TLSEXT_ERR_NOACK = 3
MAX_REQUEST = 64 * 1024  # request bytes read before the server answers anyway
_VERIFY_NAMES = {getattr(K, n): n for n in dir(K) if n.startswith("X509_V_")}


class UsageError(Exception):
    """A request this stack or these arguments cannot fulfil; the message is one line for the user."""


# --------------------------------------------------------------------------------------------- the C API helpers


def capi_stack(name: str) -> tuple[str, Any]:
    """``(name, api)`` of the C-API stack ``name`` (registered name or ``module:Class``). Only that stack's adapter
    is loaded (``conformance stacks`` loads them all, which costs a second at start-up)."""
    from importlib.metadata import entry_points

    from conformance.stacks import GROUP, StackAdapter, StackUnavailable, load_stack

    try:
        found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
        if found:
            adapter = found[0].load()()
            if not isinstance(adapter, StackAdapter):
                raise StackUnavailable(f"{found[0].value} is not a conformance.stacks.StackAdapter")
            adapter.check_available()
        else:
            adapter = load_stack(name)  # module:Class, or the error that lists the registered names
    except StackUnavailable as exc:
        raise UsageError(f"stack {name!r} cannot be used: {exc}") from None
    api = getattr(adapter, "capi", None) if adapter.tier == "c-api" else None
    if api is None:
        raise UsageError(f"stack {adapter.name!r} is a {adapter.tier} stack; serve and connect need a stack of the "
                         "C API tier (conformance stacks lists them)")
    return adapter.name, api


def _has(api: Any, name: str) -> bool:
    has = getattr(api, "has", None)
    if has is not None:
        return bool(has(name))
    try:
        return callable(getattr(api, name))
    except (MissingSymbol, AttributeError):
        return False


def require(api: Any, stack: str, option: str, names: Sequence[str]) -> None:
    """Refuse ``option`` in one line when the stack lacks any of the functions ``names``."""
    missing = [n for n in names if not _has(api, n)]
    if missing:
        reasons = sorted({_why_missing(api, n) for n in missing} - {""})
        raise UsageError(f"{option}: stack {stack!r} lacks {', '.join(missing)}"
                         + (f" ({'; '.join(reasons)})" if reasons else ""))


def _why_missing(api: Any, name: str) -> str:
    """The binding's own reason for a missing name, where looking the name up raises MissingSymbol (the engine)."""
    try:
        getattr(api, name)
    except MissingSymbol as exc:
        return exc.reason
    except AttributeError:
        pass
    return ""


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def error_queue(api: Any) -> list[str]:
    """The whole error queue as text, oldest first; the queue is empty afterwards."""
    entries = []
    for _ in range(64):  # ERR_NUM_ERRORS is 16; a bound in case a library keeps returning the same code
        code = api.ERR_get_error()
        if not code:
            break
        entries.append(_text(api.ERR_error_string_n(code, 256)))
    return entries


def _error_name(code: int) -> str:
    known = error_code(code)
    return known.name if isinstance(known, SslError) else f"unknown code {code}"


@dataclass
class Failure:
    """What a failing call left behind: enough to log it and to compare it across stacks."""

    call: str
    ret: int
    error: int
    queue: list[str]
    errno: int = 0
    reason: str = ""  # set when no call failed: the connection was given up (a timeout)

    def __str__(self) -> str:
        if self.reason:
            return self.reason
        text = f"{self.call} returned {self.ret}, SSL_get_error {self.error} ({_error_name(self.error)})"
        if self.errno and self.error == SslError.SSL_ERROR_SYSCALL:
            text += f", errno {self.errno} ({os.strerror(self.errno)})"
        return text + "; error queue: " + ("; ".join(self.queue) if self.queue else "empty")


def _outcome(api: Any, ssl: Any, call: str, ret: int) -> int | Failure:
    """After a call returned ``ret`` <= 0: the selector event to wait for (WANT_READ / WANT_WRITE) or a Failure."""
    code = int(api.SSL_get_error(ssl, ret))
    if code == SslError.SSL_ERROR_WANT_READ:
        return selectors.EVENT_READ
    if code == SslError.SSL_ERROR_WANT_WRITE:
        return selectors.EVENT_WRITE
    err = int(api.errno()) if code == SslError.SSL_ERROR_SYSCALL and hasattr(api, "errno") else 0
    return Failure(call, ret, code, error_queue(api), err)


def _check(api: Any, ok: bool, call: str) -> None:
    if not ok:
        queue = error_queue(api)
        raise UsageError(f"{call} failed: {'; '.join(queue) if queue else 'no error queue entry'}")


def _alpn_wire(protocols: Sequence[str]) -> bytes:
    wire = b""
    for name in protocols:
        raw = name.encode()
        if not 0 < len(raw) < 256:
            raise UsageError(f"--alpn: protocol name {name!r} must be 1 to 255 bytes")
        wire += bytes([len(raw)]) + raw
    return wire


def _alpn_names(wire: bytes) -> list[bytes]:
    names, at = [], 0
    while at < len(wire):
        size = wire[at]
        names.append(wire[at + 1 : at + 1 + size])
        at += 1 + size
    return names


def _configure_versions(api: Any, ctx: Any, stack: str, low: str | None, high: str | None) -> None:
    if low is not None:
        require(api, stack, "--min-protocol", ["SSL_CTX_set_min_proto_version"])
        _check(api, api.SSL_CTX_set_min_proto_version(ctx, PROTOCOLS[low]) == 1,
               f"SSL_CTX_set_min_proto_version({low})")
    if high is not None:
        require(api, stack, "--max-protocol", ["SSL_CTX_set_max_proto_version"])
        _check(api, api.SSL_CTX_set_max_proto_version(ctx, PROTOCOLS[high]) == 1,
               f"SSL_CTX_set_max_proto_version({high})")


@dataclass(frozen=True)
class Details:
    """What either side can say about an established connection (None: the stack lacks the function, named in
    ``missing``)."""

    protocol: str
    cipher: str
    peer_subject: str | None
    server_name: str | None
    alpn: str | None
    missing: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[tuple[str, str]]:
        def show(key: str, value: str | None, absent: str) -> str:
            if key in self.missing:
                return f"not available: the stack lacks {self.missing[key]}"
            return value if value else absent

        return [
            ("protocol", self.protocol),
            ("cipher", self.cipher),
            ("peer certificate", show("peer", self.peer_subject, "none")),
            ("server name (SNI)", show("sni", self.server_name, "none")),
            ("ALPN protocol", show("alpn", self.alpn, "none")),
        ]


def connection_details(api: Any, ssl: Any, *, server: bool) -> Details:
    missing: dict[str, str] = {}
    protocol = _text(api.SSL_get_version(ssl) or "unknown")
    cipher_handle = api.SSL_get_current_cipher(ssl)
    cipher = _text(api.SSL_CIPHER_get_name(cipher_handle)) if cipher_handle is not None else "(NONE)"
    subject = None
    peer_calls = ("SSL_get1_peer_certificate", "X509_get_subject_name", "X509_NAME_oneline", "X509_free")
    if all(_has(api, n) for n in peer_calls):
        cert = api.SSL_get1_peer_certificate(ssl)
        if cert is not None:
            name = api.X509_get_subject_name(cert)
            subject = _text(api.X509_NAME_oneline(name)) if name is not None else None
            api.X509_free(cert)
    else:
        missing["peer"] = ", ".join(n for n in peer_calls if not _has(api, n))
    server_name = None
    if server:
        if _has(api, "SSL_get_servername"):
            value = api.SSL_get_servername(ssl, K.TLSEXT_NAMETYPE_host_name)
            server_name = _text(value) if value else None
        else:
            missing["sni"] = "SSL_get_servername"
    alpn = None
    if _has(api, "SSL_get0_alpn_selected"):
        alpn = _text(api.SSL_get0_alpn_selected(ssl)) or None
    else:
        missing["alpn"] = "SSL_get0_alpn_selected"
    return Details(protocol, cipher, subject, server_name, alpn, missing)


# --------------------------------------------------------------------------------------------- the server


@dataclass
class ServerOptions:
    stack: str = "engine"
    host: str = "127.0.0.1"
    port: int = 4433  # openssl s_server's default; 0 picks a free port
    certs: list[tuple[Path, Path]] = field(default_factory=list)  # (certificate chain, key); none: the test PKI
    verify: Path | None = None  # ask for a client certificate and check it against this CA file
    alpn: list[str] = field(default_factory=list)  # in the server's order of preference
    min_protocol: str | None = None
    max_protocol: str | None = None
    concurrent: bool = False
    count: int | None = None  # stop after this many connections (served or failed)
    timeout: float = 10.0  # a connection that makes no progress for this long is dropped


class _Connection:
    """One accepted connection: accept, read the request, answer, shut down; each step repeated on WANT_*."""

    def __init__(self, server: Server, number: int, sock: socket.socket, peer: str) -> None:
        self.server = server
        self.api = server.api
        self.number = number
        self.sock = sock
        self.peer = peer
        self.ssl: Any = None
        self.state = "SSL_accept"
        self.request = b""
        self.response = b""
        self.details: Details | None = None
        self.deadline = time.monotonic() + server.options.timeout
        self.first_line = ""

    def start(self) -> int | Failure | None:
        api = self.api
        api.ERR_clear_error()
        self.ssl = api.SSL_new(self.server.ctx)
        if self.ssl is None:
            return Failure("SSL_new", 0, int(SslError.SSL_ERROR_SSL), error_queue(api))
        if api.SSL_set_fd(self.ssl, self.sock.fileno()) != 1:
            return Failure("SSL_set_fd", 0, int(SslError.SSL_ERROR_SSL), error_queue(api))
        return self.step()

    def step(self) -> int | Failure | None:
        """Run until the connection must wait (returns the selector event), fails (a Failure) or is done (None)."""
        api, ssl = self.api, self.ssl
        self.deadline = time.monotonic() + self.server.options.timeout
        while True:
            api.ERR_clear_error()  # SSL_get_error.pod: the queue must be empty before the call
            if self.state == "SSL_accept":
                ret = api.SSL_accept(ssl)
                if ret != 1:
                    return _outcome(api, ssl, "SSL_accept", ret)
                self.details = connection_details(api, ssl, server=True)
                self.state = "SSL_read"
            elif self.state == "SSL_read":
                ret, data = api.SSL_read(ssl, 16384)
                if ret <= 0:
                    code = int(api.SSL_get_error(ssl, ret))
                    if code == SslError.SSL_ERROR_ZERO_RETURN and not self.request:
                        self.first_line = "(closed by the client before a request)"
                        self.state = "SSL_shutdown"
                        continue
                    return _outcome(api, ssl, "SSL_read", ret)
                self.request += bytes(data)
                if self._request_complete():
                    self.response = self.server.page(self)
                    self.state = "SSL_write"
            elif self.state == "SSL_write":
                # Retried with the same bytes after WANT_WRITE, as SSL_write.pod requires.
                ret = api.SSL_write(ssl, self.response)
                if ret <= 0:
                    return _outcome(api, ssl, "SSL_write", ret)
                self.state = "SSL_shutdown"
            elif self.state == "SSL_shutdown":
                ret = api.SSL_shutdown(ssl)
                if ret >= 0:  # 0: our close_notify is sent; HTTP/1.0 closes the connection now
                    return None
                return _outcome(api, ssl, "SSL_shutdown", ret)
            else:  # pragma: no cover - the states above are the only ones set
                raise AssertionError(self.state)

    def _request_complete(self) -> bool:
        head = self.request
        line_end = head.find(b"\n")
        if line_end < 0:
            return len(head) >= MAX_REQUEST
        self.first_line = head[:line_end].rstrip(b"\r").decode("latin-1")
        # HTTP/1.x: headers end with an empty line; a bare "GET /" (HTTP/0.9 style, s_server accepts it) is whole.
        return (b"\r\n\r\n" in head or b"\n\n" in head or " HTTP/" not in self.first_line
                or len(head) >= MAX_REQUEST)

    def close(self) -> None:
        if self.ssl is not None:
            self.api.SSL_free(self.ssl)
            self.ssl = None
        self.sock.close()


def _guarded(conn: _Connection, step: Callable[[], int | Failure | None]) -> int | Failure | None:
    """``step()``; a Python exception escaping the stack's C API ends this connection, logged, not the server."""
    try:
        return step()
    except Exception as exc:
        return Failure(conn.state, 0, 0, [], reason=f"{conn.state} raised {type(exc).__name__}: {exc} (an exception "
                                                    "escaping the C API: a bug of the stack)")


SERVER_CALLS = ("TLS_server_method", "SSL_CTX_new", "SSL_CTX_free", "SSL_CTX_use_certificate_chain_file",
                "SSL_CTX_use_PrivateKey_file", "SSL_new", "SSL_free", "SSL_set_fd", "SSL_accept", "SSL_read",
                "SSL_write", "SSL_shutdown", "SSL_get_error", "SSL_get_version", "SSL_get_current_cipher",
                "SSL_CIPHER_get_name", "ERR_get_error", "ERR_error_string_n", "ERR_clear_error")
CLIENT_CALLS = ("TLS_client_method", "SSL_CTX_new", "SSL_CTX_free", "SSL_CTX_set_verify", "SSL_new", "SSL_free",
                "SSL_set_fd", "SSL_set_tlsext_host_name", "SSL_connect", "SSL_read", "SSL_write", "SSL_shutdown",
                "SSL_get_error", "SSL_get_version", "SSL_get_current_cipher", "SSL_CIPHER_get_name",
                "ERR_get_error", "ERR_error_string_n", "ERR_clear_error")


class Server:
    """A listening socket and the ``SSL_CTX`` every connection shares. ``serve()`` runs the loop."""

    def __init__(self, options: ServerOptions, log: TextIO | None = None) -> None:
        self.options = options
        self.log = log if log is not None else sys.stdout
        self.stack, self.api = capi_stack(options.stack)
        self.version = _text(getattr(self.api, "version", self.stack))
        self.served = 0
        self.failed = 0
        self.started = 0
        self.signalled = ""  # the name of the signal that stopped the loop
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self.ctx: Any = None
        self.listener: socket.socket | None = None
        try:
            self.ctx = self._context()
            family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
            self.listener = socket.create_server((options.host, options.port), family=family, backlog=64)
            self.listener.setblocking(False)
        except BaseException:
            self.close()
            raise
        self.port = int(self.listener.getsockname()[1])

    def _context(self) -> Any:
        api, o, stack = self.api, self.options, self.stack
        require(api, stack, "serve", SERVER_CALLS)
        if o.verify is not None:
            require(api, stack, "--verify", ["SSL_CTX_load_verify_locations", "SSL_CTX_set_verify"])
        if o.alpn:
            require(api, stack, "--alpn", ["SSL_CTX_set_alpn_select_cb", "SSL_get0_alpn_selected"])
        api.ERR_clear_error()
        ctx = api.SSL_CTX_new(api.TLS_server_method())
        _check(api, ctx is not None, "SSL_CTX_new")
        try:
            _configure_versions(api, ctx, stack, o.min_protocol, o.max_protocol)
            certs = o.certs
            if not certs:
                from conformance.certs import SERVER_NAME, default_pki

                pki = default_pki()
                certs = [(pki.server.cert_path, pki.server.key_path)]
                self.note(f"certificate: {pki.server.cert_path} (for the name {SERVER_NAME}; made for this run)")
                self.note(f"key: {pki.server.key_path}")
                self.note(f"CA: {pki.ca_path} (clients verify with --verify / -CAfile this file)")
            for cert, key in certs:
                _check(api, api.SSL_CTX_use_certificate_chain_file(ctx, str(cert).encode()) == 1,
                       f"SSL_CTX_use_certificate_chain_file({cert})")
                _check(api, api.SSL_CTX_use_PrivateKey_file(ctx, str(key).encode(), K.SSL_FILETYPE_PEM) == 1,
                       f"SSL_CTX_use_PrivateKey_file({key})")
            if o.verify is not None:
                _check(api, api.SSL_CTX_load_verify_locations(ctx, str(o.verify).encode(), None) == 1,
                       f"SSL_CTX_load_verify_locations({o.verify})")
                api.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER, None)  # ask; a client without one is served too
            if o.alpn:
                api.SSL_CTX_set_alpn_select_cb(ctx, self._select_alpn)
        except BaseException:
            api.SSL_CTX_free(ctx)
            raise
        return ctx

    def _select_alpn(self, ssl: Any, offered: bytes) -> tuple[int, bytes]:
        """The server's first preference the client offered; no overlap: no ALPN (as s_server does)."""
        names = _alpn_names(offered)
        for name in self.options.alpn:
            if name.encode() in names:
                return SSL_TLSEXT_ERR_OK, name.encode()
        return SSL_TLSEXT_ERR_NOACK, b""

    def note(self, text: str) -> None:
        print(text, file=self.log, flush=True)

    def page(self, conn: _Connection) -> bytes:
        if not conn.first_line.startswith("GET "):
            body = "<html><body><p>conformance serve answers GET requests only.</p></body></html>\n"
            status = "400 Bad Request"
        else:
            rows = [("stack", f"{self.stack} ({self.version})"), ("client", conn.peer)]
            rows += conn.details.lines() if conn.details else []
            rows.append(("request", conn.first_line))
            cells = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
            body = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>conformance serve</title></head>\n"
                    f"<body><h1>conformance serve: {html.escape(self.stack)}</h1>\n<table>\n{cells}\n</table>\n"
                    "</body></html>\n")
            status = "200 OK"
        data = body.encode()
        head = (f"HTTP/1.0 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(data)}\r\n"
                "Connection: close\r\n\r\n")
        return head.encode() + data

    def stop(self) -> None:
        """Ask the loop to end (from any thread or a signal handler)."""
        self._stop.set()
        with suppress(OSError):
            self._wake_w.send(b"\0")

    def _finish(self, conn: _Connection, result: Failure | None, sel: selectors.BaseSelector) -> None:
        with suppress(KeyError, ValueError):
            sel.unregister(conn.sock)
        if result is None:
            self.served += 1
            d = conn.details
            summary = " ".join(f"{key}={'n/a' if key in d.missing else value or '-'}" for key, value in (
                ("sni", d.server_name), ("alpn", d.alpn), ("peer", d.peer_subject))) if d else ""
            protocol = f"{d.protocol} {d.cipher} " if d else ""
            self.note(f"[{conn.number}] {conn.peer}: {protocol}{summary} {conn.first_line!r} answered")
        else:
            self.failed += 1
            self.note(f"[{conn.number}] {conn.peer}: failed in {result.call}: {result}")
        conn.close()

    def serve(self) -> int:
        """Serve until stopped (``stop()``, SIGINT, SIGTERM) or ``count`` connections ended. Returns the number of
        connections that failed."""
        o = self.options
        assert self.listener is not None
        self.note(f"listening on {_join(o.host, self.port)} (stack {self.stack}, {self.version}); "
                  f"{'concurrent' if o.concurrent else 'one connection at a time'}"
                  + (f"; stopping after {o.count} connection(s)" if o.count is not None else ""))
        active: dict[socket.socket, _Connection] = {}
        with selectors.DefaultSelector() as sel, self._signals():
            sel.register(self._wake_r, selectors.EVENT_READ, "wake")
            listening = False
            try:
                while not self._stop.is_set() and (o.count is None or self.served + self.failed < o.count):
                    want_listen = (o.count is None or self.started < o.count) and (o.concurrent or not active)
                    if want_listen != listening:
                        if want_listen:
                            sel.register(self.listener, selectors.EVENT_READ, "listen")
                        else:
                            sel.unregister(self.listener)
                        listening = want_listen
                    timeout = min((c.deadline for c in active.values()), default=time.monotonic() + 1.0)
                    events = sel.select(max(0.0, min(1.0, timeout - time.monotonic())))
                    for key, _mask in events:
                        if key.data == "wake":
                            self._wake_r.recv(64)
                        elif key.data == "listen":
                            self._accept(sel, active)
                        elif isinstance(key.data, _Connection) and active.get(key.data.sock) is key.data:
                            # (a connection that ended earlier in this batch is skipped: its descriptor may
                            # already belong to a connection accepted since)
                            self._advance(key.data, _guarded(key.data, key.data.step), sel, active)
                    now = time.monotonic()
                    for conn in [c for c in active.values() if c.deadline <= now]:
                        del active[conn.sock]
                        reason = f"no progress for {o.timeout:g} s while {conn.state} waited for the peer; dropped"
                        self._finish(conn, Failure(conn.state, 0, 0, [], reason=reason), sel)
            finally:
                for conn in active.values():
                    conn.close()
                if active:
                    self.note(f"stopped with {len(active)} connection(s) still open; they were closed")
        if self.signalled:
            self.note(f"{self.signalled} received, stopping")
        self.note(f"stopped: {self.served} connection(s) served, {self.failed} failed")
        return self.failed

    def _accept(self, sel: selectors.BaseSelector, active: dict[socket.socket, _Connection]) -> None:
        assert self.listener is not None
        try:
            sock, addr = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # e.g. EMFILE: log it and keep listening
            self.note(f"accept failed: {exc}")
            return
        sock.setblocking(False)
        self.started += 1
        conn = _Connection(self, self.started, sock, _join(addr[0], addr[1]))
        self._advance(conn, _guarded(conn, conn.start), sel, active)

    def _advance(self, conn: _Connection, result: int | Failure | None, sel: selectors.BaseSelector,
                 active: dict[socket.socket, _Connection]) -> None:
        if isinstance(result, int):  # wait for the socket; re-register for the direction asked for
            if conn.sock in active:
                sel.modify(conn.sock, result, conn)
            else:
                sel.register(conn.sock, result, conn)
                active[conn.sock] = conn
            return
        active.pop(conn.sock, None)
        self._finish(conn, result, sel)

    @contextmanager
    def _signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM end the loop cleanly (only where Python lets us: the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: Any) -> None:  # no printing here: it may interrupt a print
            self.signalled = signal.Signals(signum).name
            self.stop()

        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, h in previous.items():
                signal.signal(s, h)

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        if self.ctx is not None:
            self.api.SSL_CTX_free(self.ctx)
            self.ctx = None
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve(options: ServerOptions, log: TextIO | None = None) -> int:
    """``conformance serve``: exit status 0 when no connection failed, 1 otherwise."""
    with Server(options, log) as server:
        return 1 if server.serve() else 0


# --------------------------------------------------------------------------------------------- the client


@dataclass
class ClientOptions:
    stack: str = "engine"
    host: str = "127.0.0.1"
    port: int = 4433
    servername: str | None = None  # default: the host when it is a name (not an address)
    verify: Path | None = None  # check the server's certificate (and the name) against this CA file
    cert: tuple[Path, Path] | None = None  # client certificate chain and key, for a server that asks
    alpn: list[str] = field(default_factory=list)
    min_protocol: str | None = None
    max_protocol: str | None = None
    send: bytes | None = None  # sent instead of relaying stdin
    timeout: float = 10.0  # connect, handshake, and silence after the request before giving up


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[V6ADDR]:PORT``."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"expected HOST:PORT (or [::1]:PORT), got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def decode_send(text: str) -> bytes:
    """``--send`` data with backslash escapes (``\\r\\n``) turned into the bytes they name."""
    return bytes(codecs.escape_decode(text.encode())[0])


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _Client(SslObjects):
    """The client's SSL, its SSL_CTX and its socket (freed by SslObjects.close, as every C-API SSL holder is)."""

    def __init__(self, options: ClientOptions, out: Callable[[bytes], None], info: TextIO) -> None:
        stack, api = capi_stack(options.stack)
        super().__init__(api)
        self.options = options
        self.out = out
        self.info = info
        self.stack = stack

    def say(self, text: str) -> None:
        print(text, file=self.info, flush=True)

    def setup(self) -> None:
        api, o, stack = self.api, self.options, self.stack
        require(api, stack, "connect", CLIENT_CALLS)
        if o.verify is not None:
            require(api, stack, "--verify", ["SSL_CTX_load_verify_locations", "SSL_set1_host", "SSL_get_verify_result"])
        if o.cert is not None:
            require(api, stack, "--cert", ["SSL_CTX_use_certificate_chain_file", "SSL_CTX_use_PrivateKey_file"])
        if o.alpn:
            require(api, stack, "--alpn", ["SSL_set_alpn_protos", "SSL_get0_alpn_selected"])
        api.ERR_clear_error()
        self.ctx = api.SSL_CTX_new(api.TLS_client_method())
        _check(api, self.ctx is not None, "SSL_CTX_new")
        _configure_versions(api, self.ctx, stack, o.min_protocol, o.max_protocol)
        if o.verify is not None:
            _check(api, api.SSL_CTX_load_verify_locations(self.ctx, str(o.verify).encode(), None) == 1,
                   f"SSL_CTX_load_verify_locations({o.verify})")
            api.SSL_CTX_set_verify(self.ctx, K.SSL_VERIFY_PEER, None)
        else:
            api.SSL_CTX_set_verify(self.ctx, K.SSL_VERIFY_NONE, None)
        if o.cert is not None:
            cert, key = o.cert
            _check(api, api.SSL_CTX_use_certificate_chain_file(self.ctx, str(cert).encode()) == 1,
                   f"SSL_CTX_use_certificate_chain_file({cert})")
            _check(api, api.SSL_CTX_use_PrivateKey_file(self.ctx, str(key).encode(), K.SSL_FILETYPE_PEM) == 1,
                   f"SSL_CTX_use_PrivateKey_file({key})")
        self.ssl = api.SSL_new(self.ctx)
        _check(api, self.ssl is not None, "SSL_new")
        name = o.servername if o.servername is not None else (None if _is_address(o.host) else o.host)
        if name:
            _check(api, api.SSL_set_tlsext_host_name(self.ssl, name.encode()) == 1, "SSL_set_tlsext_host_name")
            if o.verify is not None:
                _check(api, api.SSL_set1_host(self.ssl, name.encode()) == 1, "SSL_set1_host")
        if o.alpn:
            _check(api, api.SSL_set_alpn_protos(self.ssl, _alpn_wire(o.alpn)) == 0, "SSL_set_alpn_protos")

    def _wait(self, event: int, deadline: float) -> bool:
        """Wait for the socket alone (not stdin) to be ready for ``event``; False on timeout."""
        assert self.sock is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.sock, event)
            return bool(sel.select(max(0.0, deadline - time.monotonic())))

    def _call(self, name: str, call: Callable[[], Any], deadline: float) -> tuple[Any, Failure | None]:
        """Repeat ``call`` (returning ret or (ret, data)) while it asks for the socket; ``(result, failure)``."""
        api = self.api
        while True:
            api.ERR_clear_error()
            result = call()
            ret = result[0] if isinstance(result, tuple) else result
            if ret > 0:
                return result, None
            outcome = _outcome(api, self.ssl, name, ret)
            if isinstance(outcome, Failure):
                return result, outcome
            if not self._wait(outcome, deadline):
                return result, Failure(name, ret, 0, [], reason=f"{name}: no answer within {self.options.timeout:g} s")

    def run(self, stdin: int | None) -> int:
        api, o = self.api, self.options
        try:
            self.sock = socket.create_connection((o.host, o.port), timeout=o.timeout)
        except OSError as exc:
            self.say(f"connect to {_join(o.host, o.port)} failed: {exc}")
            return 1
        self.sock.setblocking(False)
        _check(api, api.SSL_set_fd(self.ssl, self.sock.fileno()) == 1, "SSL_set_fd")
        with selectors.DefaultSelector() as sel:
            sel.register(self.sock, selectors.EVENT_READ)
            _, failure = self._call("SSL_connect", lambda: api.SSL_connect(self.ssl),
                                    time.monotonic() + o.timeout)
            self._report_verification()
            if failure is not None:
                self.say(f"handshake failed: {failure}")
                return 1
            details = connection_details(api, self.ssl, server=False)
            self.say(f"connected to {_join(o.host, o.port)} with stack {self.stack}")
            for key, value in details.lines():
                if key != "server name (SNI)":
                    self.say(f"{key}: {value}")
            self.say("---")
            status = self._exchange(sel, stdin)
            if status == 0:
                api.ERR_clear_error()
                api.SSL_shutdown(self.ssl)  # one call: our close_notify; the peer's was read or never comes
        return status

    def _report_verification(self) -> None:
        if self.options.verify is None:
            self.say("verification: not requested (no --verify)")
            return
        result = int(self.api.SSL_get_verify_result(self.ssl))
        text = _VERIFY_NAMES.get(result, "")
        if _has(self.api, "X509_verify_cert_error_string"):
            text = _text(self.api.X509_verify_cert_error_string(result))
        verdict = "OK" if result == K.X509_V_OK else "FAILED"
        self.say(f"verification: {verdict} (code {result}{', ' + text if text else ''})")

    def _write(self, data: bytes) -> Failure | None:
        # Without SSL_MODE_ENABLE_PARTIAL_WRITE one successful SSL_write sends everything (SSL_write.pod).
        _, failure = self._call("SSL_write", lambda: self.api.SSL_write(self.ssl, data),
                                time.monotonic() + self.options.timeout)
        return failure

    def _exchange(self, sel: selectors.BaseSelector, stdin: int | None) -> int:
        """Send ``--send`` (or relay ``stdin`` until its end) and print what the server sends until it closes."""
        api, o = self.api, self.options
        assert self.sock is not None
        if o.send is not None:
            failure = self._write(o.send)
            if failure is not None:
                self.say(f"write failed: {failure}")
                return 1
        source = None if o.send is not None else stdin
        if source is not None:
            sel.register(source, selectors.EVENT_READ, "stdin")
        deadline = time.monotonic() + o.timeout
        want = selectors.EVENT_READ
        try:
            while True:
                # Whatever the SSL already holds is read before waiting on the socket.
                api.ERR_clear_error()
                ret, data = api.SSL_read(self.ssl, 16384)
                if ret > 0:
                    self.out(bytes(data))
                    deadline = time.monotonic() + o.timeout
                    continue
                code = int(api.SSL_get_error(self.ssl, ret))
                if code == SslError.SSL_ERROR_ZERO_RETURN:
                    self.say("--- the server closed the connection (close_notify)")
                    return 0
                outcome = _outcome(api, self.ssl, "SSL_read", ret)
                if isinstance(outcome, Failure):
                    if code == SslError.SSL_ERROR_SYSCALL and not outcome.queue and not outcome.errno:
                        self.say("--- the server closed the connection without close_notify")
                        return 1
                    self.say(f"read failed: {outcome}")
                    return 1
                want = outcome
                sel.modify(self.sock, want)
                events = sel.select(max(0.0, deadline - time.monotonic()))
                if not events:
                    self.say(f"--- nothing from the server for {o.timeout:g} s; closing")
                    return 0
                for key, _ in events:
                    if key.data == "stdin":
                        chunk = os.read(key.fd, 16384)
                        if not chunk:
                            sel.unregister(key.fd)
                            continue
                        failure = self._write(chunk)
                        if failure is not None:
                            self.say(f"write failed: {failure}")
                            return 1
                        deadline = time.monotonic() + o.timeout
        finally:
            if source is not None and source in sel.get_map():
                sel.unregister(source)



def connect(options: ClientOptions, stdin: int | None = None, out: Callable[[bytes], None] | None = None,
            info: TextIO | None = None) -> int:
    """``conformance connect``: 0 when the handshake succeeded and the exchange ended without an error."""
    write = out if out is not None else _stdout_writer()
    client = _Client(options, write, info if info is not None else sys.stderr)
    try:
        client.setup()
        try:
            return client.run(stdin)
        except UsageError:
            raise
        except Exception as exc:  # an exception escaping the stack's C API: report it, do not hide it in a traceback
            client.say(f"the stack raised {type(exc).__name__}: {exc} (an exception escaping the C API: a bug of "
                       "the stack)")
            return 1
    finally:
        client.close()


def _stdout_writer() -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    return write


# --------------------------------------------------------------------------------------------- the command line


def add_arguments(sub: Any) -> None:
    """The ``serve`` and ``connect`` subcommands (``sub``: the parser's subparsers)."""
    protocols = sorted(PROTOCOLS)
    s = sub.add_parser("serve", help="run a C-API stack as a TLS server on loopback (like openssl s_server -www)",
                       description="Serve TLS with any C-API stack; a GET is answered with an HTML page describing "
                                   "the connection. Exit status: 0 when no connection failed, 1 otherwise, 2 for a "
                                   "usage error (an option the stack cannot honour).")
    s.add_argument("--stack", default="engine", help="C-API stack: engine, libssl, wolfssl (default: engine)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1; ::1 for IPv6)")
    s.add_argument("--port", type=int, default=4433, help="port (default: 4433; 0 picks a free one, printed)")
    s.add_argument("--cert", action="append", default=[], type=Path, help="certificate chain file (PEM; repeatable, "
                   "each with a --key; default: the suite's test certificate for server.test, made on the fly)")
    s.add_argument("--key", action="append", default=[], type=Path, help="private key file for the --cert at the "
                   "same position")
    s.add_argument("--verify", type=Path, metavar="CAFILE", help="ask clients for a certificate and check it")
    s.add_argument("--alpn", default="", help="comma-separated ALPN protocols in order of preference")
    s.add_argument("--min-protocol", choices=protocols)
    s.add_argument("--max-protocol", choices=protocols)
    s.add_argument("--concurrent", action="store_true", help="serve connections at the same time (default: one "
                   "after another)")
    s.add_argument("--count", type=int, metavar="N", help="stop after N connections (served or failed)")
    s.add_argument("--timeout", type=float, default=10.0, help="drop a connection silent for this many seconds")
    s.set_defaults(func=cmd_serve)
    c = sub.add_parser("connect", help="connect to a TLS server with a C-API stack (like openssl s_client)",
                       description="Connect, print the protocol, cipher and verification result to stderr, then send "
                                   "--send (or relay stdin) and write what the server sends to stdout. Exit status: 0 "
                                   "when the handshake and the exchange succeeded, 1 otherwise, 2 for a usage error.")
    c.add_argument("address", metavar="HOST:PORT")
    c.add_argument("--stack", default="engine", help="C-API stack: engine, libssl, wolfssl (default: engine)")
    c.add_argument("--servername", help="SNI name to send (default: HOST when it is a name)")
    c.add_argument("--verify", type=Path, metavar="CAFILE", help="verify the server's certificate and name against "
                   "CAFILE; the handshake fails if they do not verify")
    c.add_argument("--cert", type=Path, help="client certificate chain (PEM), sent when the server asks")
    c.add_argument("--key", type=Path, help="private key of --cert")
    c.add_argument("--alpn", default="", help="comma-separated ALPN protocols to offer")
    c.add_argument("--min-protocol", choices=protocols)
    c.add_argument("--max-protocol", choices=protocols)
    c.add_argument("--send", help="data to send instead of stdin; backslash escapes such as \\r\\n are decoded")
    c.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the connection, the handshake "
                   "and each reply (default: 10)")
    c.set_defaults(func=cmd_connect)


def _alpn_list(text: str) -> list[str]:
    return [p for p in text.split(",") if p]


def cmd_serve(args: Any) -> int:
    if len(args.cert) != len(args.key):
        return _usage(UsageError("give one --key for every --cert"))
    certs = list(zip(args.cert, args.key, strict=True))
    options = ServerOptions(stack=args.stack, host=args.host, port=args.port, certs=certs,
                            verify=args.verify, alpn=_alpn_list(args.alpn), min_protocol=args.min_protocol,
                            max_protocol=args.max_protocol, concurrent=args.concurrent, count=args.count,
                            timeout=args.timeout)
    try:
        return serve(options)
    except UsageError as exc:
        return _usage(exc)
    except OSError as exc:
        return _usage(UsageError(f"cannot listen on {_join(args.host, args.port)}: {exc.strerror or exc}"
                                 + (" (port in use)" if exc.errno == errno.EADDRINUSE else "")))


def cmd_connect(args: Any) -> int:
    try:
        if (args.cert is None) != (args.key is None):
            raise UsageError("give --cert and --key together")
        host, port = parse_address(args.address)
        options = ClientOptions(stack=args.stack, host=host, port=port, servername=args.servername,
                                verify=args.verify, cert=(args.cert, args.key) if args.cert else None,
                                alpn=_alpn_list(args.alpn), min_protocol=args.min_protocol,
                                max_protocol=args.max_protocol, timeout=args.timeout,
                                send=decode_send(args.send) if args.send is not None else None)
        return connect(options, stdin=None if args.send is not None else _stdin_fd())
    except UsageError as exc:
        return _usage(exc)


def _stdin_fd() -> int | None:
    try:
        return sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdin (io.UnsupportedOperation is an OSError)
        return None


def _usage(exc: UsageError) -> int:
    print(f"conformance: {exc}", file=sys.stderr)
    return 2
