"""tlslite-ng: its non-blocking (generator) API over an in-memory socket-like object.

tlslite-ng drives a connection with generators that yield ``0`` when they wait to read from the socket and ``1``
when they wait to write. The adapter keeps the pending generator of an operation and resumes it on the next call
of the same operation, which is the C API's "repeat the call" rule; ``0`` is reported as
``SSL_ERROR_WANT_READ``, ``1`` as ``SSL_ERROR_WANT_WRITE``. The in-memory socket raises ``EWOULDBLOCK`` when it has
nothing to read or when its outgoing buffer is full, so bounded buffers give real WANT_WRITE outcomes.

Failures are mapped to error codes as follows: a TLS alert, sent or received, is ``SSL_ERROR_SSL`` with the alert as
reason; a transport EOF without close_notify (``TLSAbruptCloseError``) is ``SSL_ERROR_SSL`` with reason "unexpected
eof", the OpenSSL 3.0 classification; other socket errors are ``SSL_ERROR_SYSCALL``. tlslite-ng does not validate
certificate chains against trust anchors, has no peek, no partial-write mode and no pending count.

Closing: the adapter sets ``closeSocket = False``, with which ``closeAsync()`` sends close_notify and then waits for
the peer's (tlslite-ng's default, True, drops the socket at once). The first ``shutdown`` whose generator then waits
to read is reported as SSL_shutdown's 0 (sent, not yet received); repeating it resumes the same generator: -1 with
WANT_READ while the peer's close_notify is missing, 1 once it arrived. ``ignore_unexpected_eof`` maps to
``ignoreAbruptClose``: a transport EOF without close_notify then ends a read like a close_notify (an empty read,
reported as ZERO_RETURN). Sessions: a client's ``conn.session`` (with the TLS 1.3 tickets it reads later, which
tlslite-ng appends to the same list) is offered again with ``handshakeClientCert(session=...)``; the servers of one
``endpoint_factory`` share a ``SessionCache`` (TLS 1.2 session ids) and ticket keys (``HandshakeSettings.ticketKeys``,
TLS 1.3 tickets and TLS 1.2 session tickets); ``conn.resumed`` says whether a handshake resumed.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
from collections.abc import Callable, Iterator
from importlib.metadata import version as dist_version
from types import MappingProxyType
from typing import Any

from conformance.outcome import Outcome, Role, SslError
from conformance.stacks._memory import bounded_take
from conformance.stacks.base import (
    Endpoint,
    EndpointConfig,
    StackAdapter,
    StackUnavailable,
    Unsupported,
    capability_set,
)

__all__ = ["TlsliteStack"]

try:
    from tlslite import api as tl
    from tlslite import errors as tlerrors
except ImportError:  # pragma: no cover - reported by check_available
    tl = None
    tlerrors = None

_VERSIONS = {"TLSv1.2": (3, 3), "TLSv1.3": (3, 4)}
# IANA suite id -> the name the cases use (TLS 1.3: IANA; TLS 1.2: OpenSSL's)
_SUITE_NAMES = {
    0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384", 0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0xC02B: "ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02F: "ECDHE-RSA-AES128-GCM-SHA256",
    0xC02C: "ECDHE-ECDSA-AES256-GCM-SHA384", 0xC030: "ECDHE-RSA-AES256-GCM-SHA384",
    0xCCA9: "ECDHE-ECDSA-CHACHA20-POLY1305", 0xCCA8: "ECDHE-RSA-CHACHA20-POLY1305",
    0xC009: "ECDHE-ECDSA-AES128-SHA", 0xC013: "ECDHE-RSA-AES128-SHA", 0xC00A: "ECDHE-ECDSA-AES256-SHA",
    0xC014: "ECDHE-RSA-AES256-SHA", 0xC023: "ECDHE-ECDSA-AES128-SHA256", 0xC027: "ECDHE-RSA-AES128-SHA256",
}  # fmt: skip
_SUITES = {
    "TLS_AES_128_GCM_SHA256": "aes128gcm",
    "TLS_AES_256_GCM_SHA384": "aes256gcm",
    "TLS_CHACHA20_POLY1305_SHA256": "chacha20-poly1305",
}


@functools.lru_cache(maxsize=8)
def _identity(cert_pem: bytes, key_pem: bytes) -> tuple[Any, Any]:
    """The parsed certificate chain and key (parsed once per process: tlslite-ng parses in pure Python)."""
    assert tl is not None
    return tl.X509CertChain([tl.X509().parse(cert_pem.decode())]), tl.parsePEMKey(key_pem.decode(), private=True)


class _WouldBlock(OSError):
    def __init__(self) -> None:
        super().__init__(errno.EWOULDBLOCK, "operation would block")


class MemorySocket:
    """The socket tlslite-ng sees: ``recv`` from what the link delivered, ``send`` into a bounded buffer."""

    def __init__(self, capacity: int | None, read_capacity: int | None = None) -> None:
        self.read_capacity = read_capacity
        self.inbox = bytearray()
        self.pos = 0  # read offset into inbox (compacted now and then, so reads stay O(size))
        self.outbox = bytearray()
        self.eof = False
        self.capacity = capacity

    def recv(self, size: int) -> bytes:
        if self.pos < len(self.inbox):
            data = bytes(self.inbox[self.pos:self.pos + size])
            self.pos += len(data)
            if self.pos >= 65536 and self.pos * 2 >= len(self.inbox):
                del self.inbox[:self.pos]
                self.pos = 0
            return data
        if self.eof:
            return b""
        raise _WouldBlock()

    def send(self, data: bytes) -> int:
        room = len(data) if self.capacity is None else self.capacity - len(self.outbox)
        if room <= 0:
            raise _WouldBlock()
        n = min(room, len(data))
        self.outbox += data[:n]
        return n

    def sendall(self, data: bytes) -> None:  # pragma: no cover - tlslite-ng's async paths use send()
        self.outbox += data

    def getpeername(self) -> tuple[str, int]:
        return ("127.0.0.1", 0)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 0)

    def settimeout(self, value: float | None) -> None:
        pass

    def close(self) -> None:
        pass


class TlsliteEndpoint(Endpoint):
    def __init__(self, config: EndpointConfig, label: str, shared: _ServerShared | None = None,
                 sock: socket.socket | None = None) -> None:
        assert tl is not None
        if config.partial_write is True:
            raise Unsupported("tlslite has no partial-write mode (capability partial_write)")
        self.role = config.role
        self.label = label
        self.config = config
        self.sock = MemorySocket(config.write_buffer, config.read_buffer)
        # over a real socket tlslite-ng's record layer turns EWOULDBLOCK into the same 0/1 yields
        self.real_sock = sock
        self.conn = tl.TLSConnection(sock if sock is not None else self.sock)
        self.conn.closeSocket = False  # closeAsync() waits for the peer's close_notify (see the module docstring)
        self.conn.ignoreAbruptClose = config.ignore_unexpected_eof
        self._close_notify_sent = False
        settings = tl.HandshakeSettings()
        settings.minVersion = _VERSIONS[config.min_version or "TLSv1.2"]
        settings.maxVersion = _VERSIONS[config.max_version or "TLSv1.3"]
        if config.ciphersuites is not None:
            settings.cipherNames = [_SUITES[s] for s in config.ciphersuites]
        if config.cipher_list is not None:
            raise ValueError("tlslite cannot take an OpenSSL cipher list (capability cipher_list)")
        if config.groups is not None:
            settings.eccCurves = list(config.groups)
            settings.keyShares = [config.groups[0]]
        pki = config.pki
        self._handshake: Iterator[Any] | None = None
        self._handshake_done = False
        # Suspended generators by operation: like the C API, a read that wants more bytes does not stop a write.
        self._pending: dict[str, Iterator[Any]] = {}
        alpn = None if config.alpn is None else [bytearray(p.encode()) for p in config.alpn]
        if alpn is not None and config.role is Role.SERVER and config.alpn_no_overlap == "ignore" \
                and settings.minVersion < _VERSIONS["TLSv1.3"]:
            raise Unsupported("tlslite: a TLS 1.2 server with alpn= refuses a client that offers none of its "
                              "protocols with no_application_protocol (tlsconnection.py, _serverGetClientHello); "
                              "it has no setting to go on without ALPN")
        if config.role is Role.CLIENT:
            chain = key = None
            if config.present_certificate:
                chain, key = _identity(pki.client.cert_pem, pki.client.key_pem)
            session = config.resume if tl is not None and isinstance(config.resume, tl.Session) else None
            self._handshake = self.conn.handshakeClientCert(
                chain, key, session=session, settings=settings,
                serverName=config.server_name if config.send_sni else None, async_=True, alpn=alpn)
        else:
            identity = pki.server_identity(config.server_key)
            chain, key = _identity(identity.cert_pem, identity.key_pem)
            cache = None
            if shared is not None:
                settings.ticketKeys = [shared.ticket_key]
                cache = shared.cache
            self._handshake = self.conn.handshakeServerAsync(
                certChain=chain, privateKey=key, reqCert=config.verify_peer, sessionCache=cache, settings=settings,
                alpn=alpn)
        self._out = bytearray()

    # --- driving generators -------------------------------------------------------------------------------
    def _step(self, gen: Iterator[Any]) -> tuple[str, Any]:
        """Run ``gen`` until it blocks or ends: ("want", 0|1) or ("done", value)."""
        for result in gen:
            if isinstance(result, int) and result in (0, 1):
                return "want", result
            return "done", result
        return "done", None

    def _fail(self, op: str, args: str, exc: BaseException) -> Outcome:
        assert tlerrors is not None
        if isinstance(exc, tlerrors.TLSAbruptCloseError):
            return Outcome(op, -1, SslError.SSL_ERROR_SSL, reason="unexpected eof (TLSAbruptCloseError)", args=args)
        if isinstance(exc, tlerrors.TLSAlert):
            return Outcome(op, -1, SslError.SSL_ERROR_SSL, reason=f"{type(exc).__name__}: {exc}", args=args)
        if isinstance(exc, OSError):
            return Outcome(op, -1, SslError.SSL_ERROR_SYSCALL, reason=str(exc), args=args)
        if isinstance(exc, tlerrors.TLSError):
            return Outcome(op, -1, SslError.SSL_ERROR_SSL, reason=f"{type(exc).__name__}: {exc}", args=args)
        raise exc

    def _want(self, op: str, args: str, code: int) -> Outcome:
        error = SslError.SSL_ERROR_WANT_READ if code == 0 else SslError.SSL_ERROR_WANT_WRITE
        return Outcome(op, -1, error, args=args)

    def _drive_handshake(self, op: str, args: str) -> Outcome | None:
        """Advance the handshake; ``None`` once it is complete."""
        if self._handshake_done:
            return None
        assert self._handshake is not None
        try:
            state, value = self._step(self._handshake)
        except Exception as exc:
            self._handshake_done = True
            return self._fail(op, args, exc)
        if state == "want":
            return self._want(op, args, value)
        self._handshake_done = True
        return None

    def _operation(self, op: str, args: str, start: Any, finish: Any) -> Outcome:
        blocked = self._drive_handshake(op, args)
        if blocked is not None:
            return blocked
        gen = self._pending.pop(op, None) or start()
        try:
            state, value = self._step(gen)
        except Exception as exc:
            return self._fail(op, args, exc)
        if state == "want":
            self._pending[op] = gen
            return self._want(op, args, value)
        result: Outcome = finish(value)
        return result

    # --- application side ---------------------------------------------------------------------------------
    def do_handshake(self) -> Outcome:
        if self._handshake_done and self.conn.closed and not self.conn.session:
            return Outcome("SSL_do_handshake", -1, SslError.SSL_ERROR_SSL, reason="handshake failed earlier")
        blocked = self._drive_handshake("SSL_do_handshake", "")
        if blocked is not None:
            return blocked
        return Outcome("SSL_do_handshake", 1, SslError.SSL_ERROR_NONE)

    def read(self, size: int) -> Outcome:
        args = str(size)

        def finish(value: Any) -> Outcome:
            data = bytes(value or b"")
            if not data:
                return Outcome("SSL_read", 0, SslError.SSL_ERROR_ZERO_RETURN, args=args)
            return Outcome("SSL_read", len(data), SslError.SSL_ERROR_NONE, data=data, args=args)

        return self._operation("SSL_read", args, lambda: self.conn.readAsync(size), finish)

    def peek(self, size: int) -> Outcome:
        # SSL_peek as tlslite-ng's public calls give it: readAsync() as SSL_read, then TLSRecordLayer.unread() puts
        # the bytes back at the front of the plaintext buffer, so the next read returns them again
        args = str(size)

        def finish(value: Any) -> Outcome:
            data = bytes(value or b"")
            if not data:
                return Outcome("SSL_peek", 0, SslError.SSL_ERROR_ZERO_RETURN, args=args)
            self.conn.unread(bytearray(data))
            return Outcome("SSL_peek", len(data), SslError.SSL_ERROR_NONE, data=data, args=args)

        return self._operation("SSL_peek", args, lambda: self.conn.readAsync(size), finish)

    def write(self, data: bytes) -> Outcome:
        args = str(len(data))
        return self._operation(
            "SSL_write", args, lambda: self.conn.writeAsync(data),
            lambda _v: Outcome("SSL_write", len(data), SslError.SSL_ERROR_NONE, args=args))

    def shutdown(self) -> Outcome:
        # SSL_shutdown runs no handshake: before the handshake has completed, closeAsync() is called as it is
        # (tlslite then closes the connection at once, whatever the handshake's progress)
        gen = self._pending.pop("SSL_shutdown", None) or self.conn.closeAsync()
        try:
            state, value = self._step(gen)
        except Exception as exc:
            return self._fail("SSL_shutdown", "", exc)
        if state == "done":  # both close_notify alerts have crossed (or the peer's came first and was answered)
            return Outcome("SSL_shutdown", 1, SslError.SSL_ERROR_NONE)
        self._pending["SSL_shutdown"] = gen
        if value == 0 and not self._close_notify_sent:
            # closeAsync() waits to read only after its close_notify went out: SSL_shutdown's 0
            self._close_notify_sent = True
            return Outcome("SSL_shutdown", 0, SslError.SSL_ERROR_NONE,
                           reason="close_notify sent (closeAsync now waits for the peer's)")
        return self._want("SSL_shutdown", "", value)

    def key_update(self, request_peer: bool) -> Outcome:
        from tlslite.constants import KeyUpdateMessageType

        kind = KeyUpdateMessageType.update_requested if request_peer else KeyUpdateMessageType.update_not_requested
        args = "SSL_KEY_UPDATE_REQUESTED" if request_peer else "SSL_KEY_UPDATE_NOT_REQUESTED"
        return self._operation(
            "SSL_key_update", args, lambda: self.conn.send_keyupdate_request(kind),
            lambda _v: Outcome("SSL_key_update", 1, SslError.SSL_ERROR_NONE, args=args))

    def session(self) -> object | None:
        session = self.conn.session  # a tlslite Session; its ticket list grows as the client reads tickets
        return session if session and session.valid() else None

    def session_reused(self) -> bool:
        return bool(self.conn.resumed)

    def negotiated_version(self) -> str | None:
        version = getattr(self.conn, "version", None)
        return {(3, 3): "TLSv1.2", (3, 4): "TLSv1.3"}.get(version) if version else None

    def alpn_selected(self) -> str | None:
        proto = getattr(self.conn.session, "appProto", None) if self.conn.session else None
        return bytes(proto).decode(errors="replace") if proto else None

    def server_name_seen(self) -> str | None:
        name = getattr(self.conn.session, "serverName", None) if self.conn.session else None
        return str(name) if name else None

    def negotiated_cipher(self) -> str | None:
        session = self.conn.session
        if not session:
            return None
        # by suite id: getCipherName() names only the bulk cipher ("aes128gcm"), the same for TLS 1.3 and 1.2
        by_id = _SUITE_NAMES.get(int(getattr(session, "cipherSuite", 0) or 0))
        if by_id is not None:
            return by_id
        name = self.conn.getCipherName()
        return {v: k for k, v in _SUITES.items()}.get(str(name), str(name)) if name else None

    # --- network side -------------------------------------------------------------------------------------
    def take_outgoing(self, limit: int | None = None) -> bytes:
        return bounded_take(self.sock.outbox, limit)

    def outgoing_pending(self) -> int:
        return len(self.sock.outbox)

    def put_incoming(self, data: bytes) -> int:
        sock = self.sock
        if sock.read_capacity is not None:
            room = sock.read_capacity - (len(sock.inbox) - sock.pos)
            data = data[:max(0, room)]
        sock.inbox += data
        return len(data)

    def put_eof(self) -> None:
        self.sock.eof = True

    def close(self) -> None:
        if self.real_sock is not None:
            self.real_sock.close()


class _ServerShared:
    """What the servers of one endpoint_factory share, as an application shares them: tlslite-ng's session cache
    (TLS 1.2 session ids) and a ticket key (HandshakeSettings.ticketKeys)."""

    def __init__(self) -> None:
        assert tl is not None
        self.cache = tl.SessionCache()
        self.ticket_key = bytearray(os.urandom(32))


class TlsliteStack(StackAdapter):
    name = "tlslite"
    library = "tlslite-ng"
    tier = "binding"
    capabilities = capability_set(
        "client_role", "server_role", "tls1_2", "tls1_3", "error_codes", "bounded_write_buffer",
        "implicit_handshake", "cipher_selection", "group_selection", "key_update", "client_certificates",
        "shutdown_return_values", "ignore_unexpected_eof", "zero_length_write", "session_resumption",
        "session_reused",
        "socket_transport",
        # reqCert asks for a certificate and takes an empty answer (require_client_certificate=False is the same call)
        "optional_client_certificate",
        "alpn", "server_name_seen",
        "peek",  # readAsync() then TLSRecordLayer.unread() (see TlsliteEndpoint.peek)
    )
    missing_reasons = MappingProxyType({
        "raw_return_values": "tlslite-ng has no C return values; its generators yield 0/1 or finish",
        "error_queue": "tlslite-ng has no error queue",
        "partial_write": "writeAsync() always sends the whole buffer",
        "pending": "tlslite-ng has no public count of buffered plaintext",
        "peer_verification": "tlslite-ng does not validate certificate chains against trust anchors",
        "host_name_check": "tlslite-ng does not match the server certificate against a host name",
        "renegotiation": "tlslite-ng does not renegotiate",
        "shutdown_state": "tlslite-ng has no SENT / RECEIVED shutdown flags, only TLSConnection.closed",
        "want_state": "tlslite-ng has no SSL_want: what a call waits for is only the 0/1 its generator yields",
        "verify_callback": "tlslite-ng validates no chain, so it has no per-level verify callback (its Checker "
                           "only compares the peer's end-entity certificate fingerprint)",
        "ssl_options": "tlslite-ng is not OpenSSL: it has HandshakeSettings, no SSL_OP_ option bits",
        "connection_options": "tlslite-ng is not OpenSSL: a connection's handshake takes HandshakeSettings, there are "
                              "no SSL_OP_ option bits to set on it",
        "connection_verify": "tlslite-ng validates no chain (see peer_verification), so a connection has no verify "
                             "mode to set",
        "verify_depth": "tlslite-ng validates no chain (see peer_verification), so there is no depth to limit",
        "set_shutdown": "tlslite-ng has no SENT / RECEIVED shutdown flags to set, only TLSConnection.closed",
        "cipher_list": "tlslite-ng has no suite list: HandshakeSettings allows every suite its key-exchange, cipher "
                       "and MAC name lists combine into, and cipherNames governs TLS 1.3 as well, so an OpenSSL TLS "
                       "1.2 cipher list cannot be set as such (a GCM suite cannot be allowed alone while TLS 1.3 "
                       "keeps its ciphers)",
    })

    def version(self) -> str:
        return f"tlslite-ng {dist_version('tlslite-ng')}"

    def check_available(self) -> None:
        if tl is None:
            raise StackUnavailable("tlslite-ng is not importable: pip install tlslite-ng")

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        return TlsliteEndpoint(config, label)

    def socket_endpoint(self, config: EndpointConfig, label: str, sock: socket.socket) -> Endpoint:
        return TlsliteEndpoint(config, label, sock=sock)

    def endpoint_factory(self, config: EndpointConfig) -> Callable[[str], Endpoint]:
        if config.role is not Role.SERVER:
            return super().endpoint_factory(config)
        shared = _ServerShared()
        return lambda label: TlsliteEndpoint(config, label, shared)


