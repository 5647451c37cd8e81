"""pyOpenSSL: ``OpenSSL.SSL.Connection(ctx, None)`` over its two memory BIOs.

What the binding lets us observe: pyOpenSSL raises one exception class per ``SSL_get_error`` code (WantReadError,
WantWriteError, ZeroReturnError, SysCallError, Error), so the error code is observed; the raw C return value is not
(success returns the byte count or ``None``). Its memory BIOs grow without bound, so ``SSL_ERROR_WANT_WRITE`` cannot
occur on them; over a socket (``Connection(ctx, sock)``, SSL_set_fd, capability socket_transport) a full non-blocking
socket gives it. pyOpenSSL runs on the OpenSSL that the ``cryptography`` wheel bundles, whose version is reported.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from types import MappingProxyType
from typing import Any

from conformance.capi import constants as _ssl_h  # the ssl.h (OpenSSL 3.0) values
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

__all__ = ["PyOpenSSLStack"]

_MODE_ENABLE_PARTIAL_WRITE = 0x1
_OP_ALLOW_CLIENT_RENEGOTIATION = 1 << 8  # ssl.h (3.0); pyOpenSSL has no name for it

try:  # the import is checked in check_available()
    from OpenSSL import SSL
except ImportError:  # pragma: no cover - reported by check_available
    SSL = None  # type: ignore[assignment]


def _proto(name: str | None) -> int:
    assert SSL is not None
    return {"TLSv1.2": SSL.TLS1_2_VERSION, "TLSv1.3": SSL.TLS1_3_VERSION}[name] if name else 0


def _reason(exc: BaseException) -> str:
    if SSL is not None and isinstance(exc, SSL.Error) and exc.args and isinstance(exc.args[0], list):
        return "; ".join(str(part[-1]) for part in exc.args[0] if part) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def _verify_callback(accept: Callable[[bool, int, int], bool] | None) -> Any:
    """pyOpenSSL's verify callback, (connection, x509, errnum, errdepth, ok) -> bool, asking
    ``accept(preverify_ok, depth, error)``."""
    if accept is None:
        return None

    def callback(_conn: Any, _cert: Any, errnum: int, depth: int, ok: int) -> bool:
        return bool(accept(bool(ok), depth, errnum))
    return callback


def _set_groups(ctx: Any, groups: tuple[str, ...]) -> None:
    """Context.set_tmp_ecdh (SSL_CTX_set_tmp_ecdh, which in OpenSSL 3.0 makes that curve the only group): one
    elliptic curve of ``cryptography``; pyOpenSSL binds no group-list setter (SSL_CTX_set1_groups_list) and takes
    no X25519 / X448 there."""
    from cryptography.hazmat.primitives.asymmetric import ec

    curves: dict[str, ec.EllipticCurve] = {"secp256r1": ec.SECP256R1(), "secp384r1": ec.SECP384R1(),
                                           "secp521r1": ec.SECP521R1()}
    curve = curves.get(groups[0])
    if len(groups) != 1 or curve is None:
        raise Unsupported(f"pyopenssl: Context.set_tmp_ecdh selects exactly one NIST elliptic curve and pyOpenSSL "
                          f"binds no other group setter (SSL_CTX_set1_groups_list), so {':'.join(groups)} cannot "
                          "be offered (capability group_selection)")
    ctx.set_tmp_ecdh(curve)


def _option(name: str, call: str, capability: str) -> int:
    """pyOpenSSL's OP_ constant for the SSL_OP_ name, or, for a name pyOpenSSL has no constant for (such as
    SSL_OP_ALLOW_CLIENT_RENEGOTIATION), the ssl.h value: Context.set_options and Connection.set_options take any
    int and hand it to SSL_CTX_set_options / SSL_set_options. Only a name unknown to ssl.h is refused."""
    value = getattr(SSL, name.removeprefix("SSL_"), None)
    if isinstance(value, int):
        return value
    raw = getattr(_ssl_h, name, None) if name.startswith("SSL_OP_") else None
    if not isinstance(raw, int):
        raise Unsupported(f"pyopenssl: {name} is no SSL_OP_ option of ssl.h for {call} (capability {capability})")
    return raw


def _context(config: EndpointConfig) -> Any:
    """The SSL.Context an endpoint of ``config`` uses (shareable between endpoints of one config)."""
    assert SSL is not None
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD if config.role is Role.CLIENT else SSL.TLS_SERVER_METHOD)
    if config.min_version:
        ctx.set_min_proto_version(_proto(config.min_version))
    if config.max_version:
        ctx.set_max_proto_version(_proto(config.max_version))
    if config.ciphersuites is not None:
        ctx.set_tls13_ciphersuites(":".join(config.ciphersuites).encode())
    if config.cipher_list is not None:
        ctx.set_cipher_list(":".join(config.cipher_list).encode())
    if config.allow_client_renegotiation:
        ctx.set_options(_OP_ALLOW_CLIENT_RENEGOTIATION)
    pki = config.pki
    ctx.load_verify_locations(str(pki.other_ca_path if config.trust_other_ca else pki.ca_path))
    mode = SSL.VERIFY_NONE
    if config.role is Role.CLIENT:
        if config.verify_peer:
            mode = SSL.VERIFY_PEER
        if config.present_certificate:
            ctx.use_certificate_file(str(pki.client.cert_path))
            ctx.use_privatekey_file(str(pki.client.key_path))
    else:
        identity = pki.server_identity(config.server_key)
        if identity.chain:  # SSL_CTX_use_certificate_chain_file: the intermediate is sent too
            ctx.use_certificate_chain_file(str(identity.cert_path))
        else:
            ctx.use_certificate_file(str(identity.cert_path))
        ctx.use_privatekey_file(str(identity.key_path))
        if config.verify_peer:
            mode = SSL.VERIFY_PEER | (SSL.VERIFY_FAIL_IF_NO_PEER_CERT if config.require_client_certificate else 0)
    ctx.set_verify(mode, _verify_callback(config.verify_callback))
    if config.verify_depth is not None:
        ctx.set_verify_depth(config.verify_depth)  # SSL_CTX_set_verify_depth
    for name in config.options:  # Context.set_options with pyOpenSSL's OP_ constant of that name
        ctx.set_options(_option(name, "Context.set_options", "ssl_options"))
    # pyOpenSSL's Context() already sets ENABLE_PARTIAL_WRITE (and ACCEPT_MOVING_WRITE_BUFFER); None keeps that.
    if config.partial_write is True:
        ctx.set_mode(_MODE_ENABLE_PARTIAL_WRITE)
    elif config.partial_write is False:
        ctx.clear_mode(_MODE_ENABLE_PARTIAL_WRITE)
    if config.ignore_unexpected_eof:
        ctx.set_options(SSL.OP_IGNORE_UNEXPECTED_EOF)
    if config.groups is not None:
        _set_groups(ctx, config.groups)
    if config.write_buffer is not None:
        raise Unsupported("pyopenssl cannot bound its outgoing memory BIO (capability bounded_write_buffer)")
    if config.alpn is not None:
        _set_alpn(ctx, config)
    return ctx


def _set_alpn(ctx: Any, config: EndpointConfig) -> None:
    """Client: Context.set_alpn_protos. Server: a select callback taking the first protocol of the server's list the
    client offered; on no overlap it raises (pyOpenSSL answers SSL_TLSEXT_ERR_ALERT_FATAL: no_application_protocol)
    or, for alpn_no_overlap "ignore", returns NO_OVERLAPPING_PROTOCOLS (SSL_TLSEXT_ERR_NOACK). Returning b"", which
    pyOpenSSL documents as ending the connection, makes OpenSSL send internal_error instead."""
    assert SSL is not None
    ours = [p.encode() for p in config.alpn or ()]
    if config.role is Role.CLIENT:
        ctx.set_alpn_protos(ours)
        return
    ignore = config.alpn_no_overlap == "ignore"

    def select(conn: Any, offered: list[bytes]) -> Any:
        for p in ours:
            if p in offered:
                return p
        if ignore:
            return SSL.NO_OVERLAPPING_PROTOCOLS
        raise _NoApplicationProtocol(f"no protocol of {ours} among the client's {offered}")

    ctx.set_alpn_select_callback(select)


class _NoApplicationProtocol(SSL.Error if SSL is not None else Exception):  # type: ignore[misc]
    """Raised by the ALPN select callback; pyOpenSSL re-raises it from do_handshake as the SSL.Error it is."""


@dataclass(frozen=True)
class _Session:
    """What PyOpenSSLEndpoint.session() hands out: the SSL.Session and the Context of the Connection it came from."""

    context: Any
    session: Any


class PyOpenSSLEndpoint(Endpoint):
    def __init__(self, config: EndpointConfig, label: str, ctx: Any = None, sock: socket.socket | None = None) -> None:
        assert SSL is not None
        self.role = config.role
        self.label = label
        self.config = config
        resume = config.resume if config.role is Role.CLIENT else None
        if resume is not None:
            if not isinstance(resume, _Session):
                raise TypeError(f"{label}: EndpointConfig.resume is {type(resume).__name__}, not what an earlier "
                                "pyopenssl client's Endpoint.session() returned")
            # Connection.set_session refuses a session made under another Context: reuse the one it came from
            ctx = resume.context
        if ctx is None:
            ctx = _context(config)
        # Connection(ctx, sock): SSL_set_fd on the socket (its blocking mode is the connection's); None: two memory
        # BIOs whose network side the link drives
        self.sock = sock
        self.conn = SSL.Connection(ctx, sock)
        self._out = bytearray()
        if config.role is Role.CLIENT:
            if config.send_sni:
                self.conn.set_tlsext_host_name(config.server_name.encode())
            if resume is not None:  # Connection.set_session: SSL_set_session before the handshake
                self.conn.set_session(resume.session)
            self.conn.set_connect_state()
        else:
            self.conn.set_accept_state()

    def _run(self, op: str, args: str, fn: Any, success_ret: Any) -> Outcome:
        assert SSL is not None
        try:
            value = fn()
        except SSL.WantReadError:
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_READ, args=args)
        except SSL.WantWriteError:
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_WRITE, args=args)
        except SSL.WantX509LookupError:
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_X509_LOOKUP, args=args)
        except SSL.ZeroReturnError:
            return Outcome(op, 0, SslError.SSL_ERROR_ZERO_RETURN, args=args)
        except SSL.SysCallError as exc:
            return Outcome(op, -1, SslError.SSL_ERROR_SYSCALL, reason=_reason(exc), args=args)
        except SSL.Error as exc:
            return Outcome(op, -1, SslError.SSL_ERROR_SSL, reason=_reason(exc), args=args)
        ret, data = success_ret(value)
        return Outcome(op, ret, SslError.SSL_ERROR_NONE, data=data, args=args)

    def do_handshake(self) -> Outcome:
        return self._run("SSL_do_handshake", "", self.conn.do_handshake, lambda _v: (1, b""))

    def alpn_selected(self) -> str | None:
        return self.conn.get_alpn_proto_negotiated().decode(errors="replace") or None

    def server_name_seen(self) -> str | None:
        name = self.conn.get_servername()  # SSL_get_servername
        return None if name is None else name.decode(errors="replace")

    def read(self, size: int) -> Outcome:
        return self._run("SSL_read", str(size), lambda: self.conn.recv(size), lambda v: (len(v), bytes(v)))

    def peek(self, size: int) -> Outcome:
        return self._run("SSL_peek", str(size), lambda: self.conn.recv(size, socket.MSG_PEEK),
                         lambda v: (len(v), bytes(v)))

    def write(self, data: bytes) -> Outcome:
        return self._run("SSL_write", str(len(data)), lambda: self.conn.send(data), lambda v: (int(v), b""))

    def shutdown(self) -> Outcome:
        return self._run("SSL_shutdown", "", self.conn.shutdown, lambda v: (1 if v else 0, b""))

    def renegotiate(self) -> Outcome:
        """Connection.renegotiate(), then Connection.do_handshake(). pyOpenSSL calls SSL_renegotiate only when no
        renegotiation is pending (else it returns False and calls nothing); it passes the result to
        ``_openssl_assert(ret == 1)``, so a refusal (SSL_renegotiate returns 1 or 0, 0 on refusal) is observed as
        an ``SSL.Error`` whose args[0] is the error queue, drained as (library, function, reason) entries. The 0
        itself is not handed out: ``ret`` 0 is the value synthesised for that exception (Outcome), and the reason
        lists the queue's reasons; no SSL_get_error is involved (the page lists it for I/O calls only), the
        SSL_ERROR_SSL is the adapter's mark of a failed call, as on the C-API stacks."""
        assert SSL is not None
        try:
            requested = self.conn.renegotiate()
        except SSL.Error as exc:
            return Outcome("SSL_renegotiate", 0, SslError.SSL_ERROR_SSL, reason=_reason(exc))
        if not requested:
            return Outcome("SSL_renegotiate", 0, SslError.SSL_ERROR_SSL,
                           reason="pyOpenSSL's Connection.renegotiate() returned False without calling "
                                  "SSL_renegotiate: a renegotiation is already pending (SSL_renegotiate_pending)")
        return self._run("SSL_do_handshake", "", self.conn.do_handshake, lambda _v: (1, b""))

    def renegotiation_pending(self) -> bool:
        return bool(self.conn.renegotiate_pending())

    def get_shutdown(self) -> int:
        return int(self.conn.get_shutdown())  # SSL_get_shutdown

    def set_shutdown(self, state: int) -> None:
        self.conn.set_shutdown(state)  # SSL_set_shutdown

    def set_verify(self, mode: int, callback: Callable[[bool, int, int], bool] | None) -> None:
        self.conn.set_verify(mode, _verify_callback(callback))  # SSL_set_verify (None: NULL)

    def set_options(self, names: tuple[str, ...]) -> int | None:
        mask = None
        for name in names:  # SSL_set_options; pyOpenSSL returns the new mask
            mask = int(self.conn.set_options(_option(name, "Connection.set_options", "connection_options")))
        return mask

    def want_read(self) -> bool:
        return bool(self.conn.want_read())  # SSL_want_read

    def want_write(self) -> bool:
        return bool(self.conn.want_write())  # SSL_want_write

    def pending(self) -> int:
        return int(self.conn.pending())

    def negotiated_version(self) -> str | None:
        name = self.conn.get_protocol_version_name()
        return str(name) if name and name != "Unknown" else None

    def negotiated_cipher(self) -> str | None:
        name = self.conn.get_cipher_name()
        return str(name) if name else None

    def session(self) -> object | None:
        # Connection.get_session: SSL_get1_session (None before a session exists). pyOpenSSL binds no
        # SSL_session_reused, so session_reused() stays the base class's (capability 'session_reused')
        session = self.conn.get_session()
        return None if session is None else _Session(self.conn.get_context(), session)

    def _drain(self) -> None:
        assert SSL is not None
        if self.sock is not None:  # the kernel moves the bytes: there is no memory BIO to drain
            return
        while True:
            try:
                chunk = self.conn.bio_read(1 << 16)
            except SSL.WantReadError:
                return
            if not chunk:
                return
            self._out += chunk

    def take_outgoing(self, limit: int | None = None) -> bytes:
        self._drain()
        return bounded_take(self._out, limit)

    def outgoing_pending(self) -> int:
        self._drain()
        return len(self._out)

    def put_incoming(self, data: bytes) -> int:
        return int(self.conn.bio_write(data))

    def put_eof(self) -> None:
        self.conn.bio_shutdown()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


class PyOpenSSLStack(StackAdapter):
    name = "pyopenssl"
    library = "pyOpenSSL"
    tier = "binding"
    capabilities = capability_set(
        "client_role", "server_role", "tls1_2", "tls1_3", "error_codes", "partial_write", "peek", "pending",
        "implicit_handshake", "shutdown_return_values", "ignore_unexpected_eof", "client_certificates",
        "peer_verification",
        "cipher_selection", "cipher_list", "zero_length_write", "renegotiation", "group_selection",
        "verify_callback", "ssl_options",
        # SSL.Error's args[0] is the thread's error queue, drained in order as (library, function, reason) entries;
        # an outcome's reason lists their reasons
        "error_queue", "socket_transport", "shutdown_state", "want_state",
        "optional_client_certificate",
        "alpn", "server_name_seen",
        # Connection.set_verify / set_options / set_shutdown (SSL_set_verify, SSL_set_options, SSL_set_shutdown) and
        # Context.set_verify_depth with use_certificate_chain_file
        "connection_verify", "connection_options", "set_shutdown", "verify_depth",
        # Connection.get_session / set_session (SSL_get1_session, SSL_set_session); the Connections of one Context
        # (endpoint_factory) share its server session cache and ticket keys
        "session_resumption",
    )
    missing_reasons = MappingProxyType({
        "session_reused": "pyOpenSSL does not bind SSL_session_reused (Connection has get_session / set_session, "
                          "no session_reused)",
        "raw_return_values": "pyOpenSSL raises an exception instead of returning the C value",
        "bounded_write_buffer": "Connection(ctx, None) writes into an unbounded BIO_s_mem, and over a socket the bound "
                                "is the kernel's socket buffer, not a byte count (see socket_transport)",
        "key_update": "pyOpenSSL does not expose SSL_key_update",
        "host_name_check": "pyOpenSSL exposes neither SSL_set1_host nor X509_VERIFY_PARAM_set1_host, so a verifying "
                           "client checks the chain only",
    })

    def version(self) -> str:
        assert SSL is not None
        backend = SSL.OpenSSL_version(SSL.OPENSSL_VERSION).decode()
        return f"pyOpenSSL {dist_version('pyOpenSSL')} ({backend})"

    def check_available(self) -> None:
        if SSL is None:
            raise StackUnavailable("pyOpenSSL is not importable: pip install pyOpenSSL")

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        return PyOpenSSLEndpoint(config, label)

    def socket_endpoint(self, config: EndpointConfig, label: str, sock: socket.socket) -> Endpoint:
        return PyOpenSSLEndpoint(config, label, sock=sock)

    def endpoint_factory(self, config: EndpointConfig) -> Callable[[str], Endpoint]:
        ctx = _context(config)
        return lambda label: PyOpenSSLEndpoint(config, label, ctx)
