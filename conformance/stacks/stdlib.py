"""Python's ``ssl`` module: ``ssl.SSLObject`` over two ``ssl.MemoryBIO`` objects.

What the binding lets us observe: one exception class per ``SSL_get_error`` code, except that Python
reports OpenSSL 3.0's "unexpected EOF" (``SSL_ERROR_SSL`` with reason ``SSL_R_UNEXPECTED_EOF_WHILE_READING``) as its own
``SSLEOFError``; the adapter maps it back to ``SSL_ERROR_SSL`` with that reason, which is what ``_ssl.c`` derives it
from on OpenSSL 3.0. ``SSLObject.unwrap()`` calls ``SSL_shutdown`` a second time when the first returns 0; the
adapter reports the first unwrap() that ends in WANT_READ as that 0 (see ``shutdown``). An empty ``read()`` is
Python's rendering of ``SSL_ERROR_ZERO_RETURN`` and is reported as such. TLS 1.3 cipher suites cannot be
chosen, there is no ``SSL_peek``, and no partial-write mode. ``MemoryBIO`` grows without bound, so WANT_WRITE
cannot occur on it; over a socket (``SSLContext.wrap_socket`` on a non-blocking socket, capability socket_transport)
a full socket gives ``SSLWantWriteError``.
"""

from __future__ import annotations

import socket
import ssl
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from conformance.outcome import Outcome, Role, SslError
from conformance.stacks._memory import bounded_take
from conformance.stacks.base import Endpoint, EndpointConfig, StackAdapter, Unsupported, capability_set

__all__ = ["StdlibStack"]

_OP_ALLOW_CLIENT_RENEGOTIATION = 1 << 8  # ssl.h (3.0); the ssl module has no name for it

_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


def _reason(exc: ssl.SSLError) -> str:
    parts = [p for p in (getattr(exc, "library", None), getattr(exc, "reason", None)) if p]
    if getattr(exc, "reason", None) is None and len(exc.args) > 1:
        # a reason code missing from CPython's table (3.11: tlsv1 alert no application protocol): only the
        # message names it
        parts.append(str(exc.args[1]))
    return ":".join(str(p) for p in parts) or str(exc)


# the curve names SSLContext.set_ecdh_curve knows (OpenSSL short names) for the group names the cases use
_CURVES = {"x25519": "X25519", "x448": "X448", "secp256r1": "prime256v1", "secp384r1": "secp384r1",
           "secp521r1": "secp521r1"}


def _set_groups(ctx: ssl.SSLContext, groups: tuple[str, ...]) -> None:
    """SSLContext.set_ecdh_curve: the one group offered and accepted (SSL_CTX_set1_groups with one entry)."""
    if len(groups) != 1:
        raise Unsupported(f"stdlib: SSLContext.set_ecdh_curve chooses exactly one group and ssl binds no other "
                          f"group setter (SSL_CTX_set1_groups_list), so {':'.join(groups)} cannot be offered "
                          "(capability group_selection)")
    try:
        ctx.set_ecdh_curve(_CURVES.get(groups[0], groups[0]))
    except (ValueError, ssl.SSLError) as exc:
        raise Unsupported(f"stdlib: SSLContext.set_ecdh_curve({groups[0]!r}) raised {exc}") from exc


def _context(config: EndpointConfig) -> ssl.SSLContext:
    """The SSLContext an endpoint of ``config`` uses (shareable between endpoints of one config)."""
    server = config.role is Role.SERVER
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    if config.groups is not None:
        _set_groups(ctx, config.groups)
    if config.min_version:
        ctx.minimum_version = _VERSIONS[config.min_version]
    if config.max_version:
        ctx.maximum_version = _VERSIONS[config.max_version]
    if config.cipher_list is not None:
        ctx.set_ciphers(":".join(config.cipher_list))
    pki = config.pki
    ctx.load_verify_locations(cafile=str(pki.other_ca_path if config.trust_other_ca else pki.ca_path))
    if server:
        identity = pki.server_identity(config.server_key)
        ctx.load_cert_chain(str(identity.cert_path), str(identity.key_path))
        if config.allow_client_renegotiation:
            ctx.options |= _OP_ALLOW_CLIENT_RENEGOTIATION
        required = ssl.CERT_REQUIRED if config.require_client_certificate else ssl.CERT_OPTIONAL
        ctx.verify_mode = required if config.verify_peer else ssl.CERT_NONE
    else:
        if config.present_certificate:
            ctx.load_cert_chain(str(pki.client.cert_path), str(pki.client.key_path))
        if not config.verify_peer or not config.check_host:
            ctx.check_hostname = False  # CERT_REQUIRED stays: the chain alone is verified
        if not config.verify_peer:
            ctx.verify_mode = ssl.CERT_NONE
    if config.ignore_unexpected_eof:
        ctx.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
    if config.verify_callback is not None:
        raise Unsupported("stdlib: ssl has no verify callback (capability verify_callback)")
    for name in config.options:  # SSLContext.options with ssl's OP_ constant of that name
        value = getattr(ssl, name.removeprefix("SSL_"), None)
        if not isinstance(value, int):
            raise Unsupported(f"stdlib: ssl has no constant {name.removeprefix('SSL_')} for SSLContext.options "
                              "(capability ssl_options)")
        ctx.options |= value
    if config.alpn is not None:
        if server and config.alpn_no_overlap == "alert":
            raise Unsupported("stdlib: a server's ALPN cannot refuse a client that offers none of its protocols: "
                              "CPython's select callback (Modules/_ssl.c, _selectALPN_cb) answers such an offer "
                              "with SSL_TLSEXT_ERR_NOACK, and ssl has no other way to set an ALPN callback")
        # server: CPython selects with SSL_select_next_proto, the first of the server's list the client offered
        ctx.set_alpn_protocols(list(config.alpn))
    if server:  # the name of the client's SNI, as SSLContext.sni_callback sees it during the handshake
        ctx.sni_callback = _note_server_name
    return ctx


# what SSLContext.sni_callback saw, by the SSLObject (memory BIOs) or SSLSocket (socket transport) it was called for
_SERVER_NAME_SEEN: weakref.WeakKeyDictionary[ssl.SSLObject | ssl.SSLSocket, str | None] = weakref.WeakKeyDictionary()


def _note_server_name(obj: ssl.SSLObject | ssl.SSLSocket, name: str | None, ctx: ssl.SSLContext) -> None:
    _SERVER_NAME_SEEN[obj] = name


@dataclass(frozen=True, slots=True)
class _Session:
    """What StdlibEndpoint.session() hands out: the session and the SSLContext it belongs to."""

    context: ssl.SSLContext
    session: ssl.SSLSession


class StdlibEndpoint(Endpoint):
    read_function = "SSL_read_ex"  # _ssl.c calls the _ex forms
    write_function = "SSL_write_ex"

    def __init__(self, config: EndpointConfig, label: str, ctx: ssl.SSLContext | None = None,
                 sock: socket.socket | None = None) -> None:
        if config.write_buffer is not None:
            raise Unsupported("stdlib cannot bound ssl.MemoryBIO (capability bounded_write_buffer)")
        if config.partial_write is True:
            raise Unsupported("stdlib cannot enable SSL_MODE_ENABLE_PARTIAL_WRITE (capability partial_write)")
        if config.ciphersuites is not None:
            raise Unsupported("stdlib cannot choose TLS 1.3 cipher suites (capability cipher_selection)")
        self.role = config.role
        self.label = label
        server = config.role is Role.SERVER
        resume = config.resume if isinstance(config.resume, _Session) and not server else None
        # ssl refuses a session made under another SSLContext, so a resuming client reuses the one it came from
        ctx = resume.context if resume is not None else ctx or _context(config)
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        if not server and config.verify_peer and config.check_host and not config.send_sni:
            raise Unsupported("stdlib: server_hostname is both the SNI and the name to verify, so ssl cannot check a "
                              "host name without sending it as SNI")
        hostname = None if server or not config.send_sni else config.server_name
        session = resume.session if resume is not None else None
        self.sock: ssl.SSLSocket | None = None
        self.obj: ssl.SSLObject | ssl.SSLSocket
        if sock is not None:  # SSLSocket: SSL_set_fd on the socket, non-blocking if the socket is
            self.obj = self.sock = ctx.wrap_socket(sock, server_side=server, server_hostname=hostname,
                                                   do_handshake_on_connect=False, session=session)
        else:
            self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_side=server, server_hostname=hostname,
                                    session=session)
        self._out = bytearray()
        self._shutdown_called = False

    def _run(self, op: str, args: str, fn: Callable[[], tuple[int, bytes]]) -> Outcome:
        try:
            ret, data = fn()
        except ssl.SSLWantReadError:
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_READ, args=args)
        except ssl.SSLWantWriteError:
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_WRITE, args=args)
        except ssl.SSLZeroReturnError:
            return Outcome(op, 0, SslError.SSL_ERROR_ZERO_RETURN, args=args)
        except ssl.SSLEOFError as exc:
            return Outcome(op, -1, SslError.SSL_ERROR_SSL,
                           reason=f"unexpected eof while reading (reported as ssl.SSLEOFError: {exc})", args=args)
        except ssl.SSLSyscallError as exc:
            return Outcome(op, -1, SslError.SSL_ERROR_SYSCALL, reason=str(exc), args=args)
        except ssl.SSLError as exc:
            return Outcome(op, -1, SslError.SSL_ERROR_SSL, reason=_reason(exc), args=args)
        return Outcome(op, ret, SslError.SSL_ERROR_NONE, data=data, args=args)

    def do_handshake(self) -> Outcome:
        def go() -> tuple[int, bytes]:
            self.obj.do_handshake()
            return 1, b""
        return self._run("SSL_do_handshake", "", go)

    def read(self, size: int) -> Outcome:
        def go() -> tuple[int, bytes]:
            data = self.obj.read(size)
            return len(data), data
        outcome = self._run("SSL_read_ex", str(size), go)
        if outcome.ok and outcome.ret == 0 and size > 0:
            # _ssl.c turns SSL_ERROR_ZERO_RETURN after a received close_notify into an empty read.
            return Outcome("SSL_read_ex", 0, SslError.SSL_ERROR_ZERO_RETURN, args=str(size),
                           reason="close_notify received (reported by ssl as an empty read)")
        return outcome

    def write(self, data: bytes) -> Outcome:
        return self._run("SSL_write_ex", str(len(data)), lambda: (self.obj.write(data), b""))

    def shutdown(self) -> Outcome:
        def go() -> tuple[int, bytes]:
            self.obj.unwrap()
            return 1, b""
        outcome = self._run("SSL_shutdown", "", go)
        first = not self._shutdown_called
        self._shutdown_called = True
        if first and outcome.error is SslError.SSL_ERROR_WANT_READ:
            # unwrap() only retries SSL_shutdown after a 0 return, and a memory BIO never blocks the first call's
            # close_notify: WANT_READ on the first unwrap() therefore means the first SSL_shutdown returned 0.
            return Outcome("SSL_shutdown", 0, SslError.SSL_ERROR_NONE,
                           reason="close_notify sent (unwrap's repeated SSL_shutdown then wanted to read)")
        return outcome

    def pending(self) -> int:
        return self.obj.pending()

    def negotiated_version(self) -> str | None:
        return self.obj.version()

    def session(self) -> object | None:
        session = self.obj.session  # SSLObject.session: SSL_get1_session
        return None if session is None else _Session(self.obj.context, session)

    def session_reused(self) -> bool:
        return bool(self.obj.session_reused)  # SSL_session_reused

    def negotiated_cipher(self) -> str | None:
        cipher = self.obj.cipher()
        return cipher[0] if cipher else None

    def take_outgoing(self, limit: int | None = None) -> bytes:
        if self.outgoing.pending:
            self._out += self.outgoing.read()
        return bounded_take(self._out, limit)

    def outgoing_pending(self) -> int:
        return len(self._out) + self.outgoing.pending

    def alpn_selected(self) -> str | None:
        return self.obj.selected_alpn_protocol()

    def server_name_seen(self) -> str | None:
        return _SERVER_NAME_SEEN.get(self.obj)

    def put_incoming(self, data: bytes) -> int:
        return self.incoming.write(data)

    def put_eof(self) -> None:
        self.incoming.write_eof()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


class StdlibStack(StackAdapter):
    name = "stdlib"
    library = "Python ssl"
    tier = "binding"
    capabilities = capability_set(
        "client_role", "server_role", "tls1_2", "tls1_3", "error_codes", "pending", "implicit_handshake",
        "shutdown_return_values",
        "ignore_unexpected_eof", "client_certificates", "peer_verification", "zero_length_write", "cipher_list",
        "host_name_check", "session_resumption", "group_selection",
        "ssl_options", "socket_transport", "optional_client_certificate",
        "alpn", "server_name_seen",
    )
    missing_reasons = MappingProxyType({
        "shutdown_state": "ssl binds no SSL_get_shutdown",
        "want_state": "ssl binds neither SSL_want nor SSL_want_read / SSL_want_write (the exception class says "
                      "which retry the last call wants)",
        "verify_callback": "ssl binds SSL_CTX_set_verify without a callback: SSLContext has verify_mode and "
                           "verify_flags, no per-certificate verify callback",
        "raw_return_values": "ssl raises an exception instead of returning the C value",
        "error_queue": "ssl keeps one entry of the error queue (library and reason of the last error) in the "
                       "SSLError it raises and clears the rest",
        "bounded_write_buffer": "ssl.MemoryBIO is unbounded, and over a socket (SSLSocket) the bound is the "
                                "kernel's socket buffer, not a byte count (see socket_transport)",
        "partial_write": "ssl offers no way to set SSL_MODE_ENABLE_PARTIAL_WRITE",
        "peek": "SSLObject has no peek",
        "cipher_selection": "SSLContext.set_ciphers() does not reach TLS 1.3 cipher suites",
        "key_update": "ssl does not expose SSL_key_update",
        "renegotiation": "ssl does not expose renegotiation",
    })

    def version(self) -> str:
        return f"Python {'.'.join(map(str, __import__('sys').version_info[:3]))} ssl ({ssl.OPENSSL_VERSION})"

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        return StdlibEndpoint(config, label)

    def socket_endpoint(self, config: EndpointConfig, label: str, sock: socket.socket) -> Endpoint:
        return StdlibEndpoint(config, label, sock=sock)

    def endpoint_factory(self, config: EndpointConfig) -> Callable[[str], Endpoint]:
        ctx = _context(config)
        return lambda label: StdlibEndpoint(config, label, ctx)
