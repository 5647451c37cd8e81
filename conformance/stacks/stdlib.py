"""Python's ``ssl`` module: ``ssl.SSLObject`` over two ``ssl.MemoryBIO`` objects, driven by the ssl-like adapter
(:class:`~conformance.stacks.ssl_like.SslLikeStack`, ``module_name = "ssl"``) plus what only ``ssl`` offers: a group
chosen with ``SSLContext.set_ecdh_curve``, sessions handed to a later client, the name ``SSLContext.sni_callback``
saw.

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
from typing import Any

from conformance.outcome import Role
from conformance.stacks.base import Endpoint, EndpointConfig, Unsupported, capability_set
from conformance.stacks.ssl_like import SslLikeEndpoint, SslLikeStack

__all__ = ["StdlibStack"]


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


# what SSLContext.sni_callback saw, by the SSLObject (memory BIOs) or SSLSocket (socket transport) it was called for
_SERVER_NAME_SEEN: weakref.WeakKeyDictionary[ssl.SSLObject | ssl.SSLSocket, str | None] = weakref.WeakKeyDictionary()


def _note_server_name(obj: ssl.SSLObject | ssl.SSLSocket, name: str | None, ctx: ssl.SSLContext) -> None:
    _SERVER_NAME_SEEN[obj] = name


@dataclass(frozen=True, slots=True)
class _Session:
    """What StdlibEndpoint.session() hands out: the session and the SSLContext it belongs to."""

    context: ssl.SSLContext
    session: ssl.SSLSession


class StdlibEndpoint(SslLikeEndpoint):
    """SslLikeEndpoint with what only ``ssl`` adds: a resuming client's session (``wrap_bio(session=)``), the
    session getters, the name SSLContext.sni_callback saw, and the texts the stdlib adapter always reported."""

    empty_read_reason = "close_notify received (reported by ssl as an empty read)"

    def __init__(self, config: EndpointConfig, label: str, ctx: ssl.SSLContext | None = None,
                 sock: socket.socket | None = None, *, stack: StdlibStack | None = None) -> None:
        super().__init__(stack or StdlibStack(), config, label, ctx, sock)

    def _wrap(self, config: EndpointConfig, ctx: Any, sock: socket.socket | None, hostname: str | None) -> Any:
        server = config.role is Role.SERVER
        resume = config.resume if isinstance(config.resume, _Session) and not server else None
        session = None
        if resume is not None:  # ssl refuses a session made under another SSLContext: reuse the one it came from
            ctx, session = resume.context, resume.session
        if sock is not None:  # SSLSocket: SSL_set_fd on the socket, non-blocking if the socket is
            self.sock = ctx.wrap_socket(sock, server_side=server, server_hostname=hostname,
                                        do_handshake_on_connect=False, session=session)
            return self.sock
        return ctx.wrap_bio(self.incoming, self.outgoing, server_side=server, server_hostname=hostname,
                            session=session)

    def error_reason(self, exc: BaseException) -> str:
        return _reason(exc) if isinstance(exc, ssl.SSLError) else super().error_reason(exc)

    def zero_return_reason(self, exc: BaseException) -> str:
        return ""

    def session(self) -> object | None:
        session = self.obj.session  # SSLObject.session: SSL_get1_session
        return None if session is None else _Session(self.obj.context, session)

    def session_reused(self) -> bool:
        return bool(self.obj.session_reused)  # SSL_session_reused

    def server_name_seen(self) -> str | None:
        return _SERVER_NAME_SEEN.get(self.obj)


class StdlibStack(SslLikeStack):
    name = "stdlib"
    library = "Python ssl"
    module_name = "ssl"
    read_function = "SSL_read_ex"  # _ssl.c calls the _ex forms
    write_function = "SSL_write_ex"
    unwrap_repeats_shutdown = True
    alpn_no_overlap = "ignore"
    alpn_no_overlap_reason = ("stdlib: a server's ALPN cannot refuse a client that offers none of its protocols: "
                              "CPython's select callback (Modules/_ssl.c, _selectALPN_cb) answers such an offer with "
                              "SSL_TLSEXT_ERR_NOACK, and ssl has no other way to set an ALPN callback")
    capabilities = capability_set(
        "client_role", "server_role", "tls1_2", "tls1_3", "error_codes", "pending", "implicit_handshake",
        "shutdown_return_values",
        "ignore_unexpected_eof", "client_certificates", "peer_verification", "zero_length_write", "cipher_list",
        "host_name_check", "session_resumption", "session_reused", "group_selection",
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
        "connection_verify": "ssl sets the verify mode on the SSLContext only (SSLContext.verify_mode, "
                             "SSL_CTX_set_verify); SSLObject and SSLSocket have no verify setting of their own (no "
                             "SSL_set_verify)",
        "connection_options": "ssl sets options on the SSLContext only (SSLContext.options, SSL_CTX_set_options); "
                              "SSLObject and SSLSocket have none (no SSL_set_options)",
        "set_shutdown": "ssl binds no SSL_set_shutdown (SSLObject.unwrap() is SSL_shutdown)",
        "verify_depth": "ssl binds no SSL_CTX_set_verify_depth: SSLContext has verify_mode and verify_flags, no "
                        "depth",
    })

    def version(self) -> str:
        return f"Python {'.'.join(map(str, __import__('sys').version_info[:3]))} ssl ({ssl.OPENSSL_VERSION})"

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        return StdlibEndpoint(config, label, stack=self)

    def socket_endpoint(self, config: EndpointConfig, label: str, sock: socket.socket) -> Endpoint:
        return StdlibEndpoint(config, label, sock=sock, stack=self)

    def endpoint_factory(self, config: EndpointConfig) -> Callable[[str], Endpoint]:
        self.refuse_unsupported(config)
        ctx = self.context(config)
        return lambda label: StdlibEndpoint(config, label, ctx, stack=self)

    def context(self, config: EndpointConfig) -> Any:
        """SslLikeStack's SSLContext, with a group chosen by set_ecdh_curve and, for a server, the SNI callback that
        notes the name a client sent."""
        ctx = super().context(config)
        if config.groups is not None:
            _set_groups(ctx, config.groups)
        if config.role is Role.SERVER:  # the name of the client's SNI, as SSLContext.sni_callback sees it
            ctx.sni_callback = _note_server_name
        return ctx
