"""ALPN and SNI through the SSL API (SSL_CTX_set_alpn_select_cb.pod, SSL_CTX_set_tlsext_servername_callback.pod).

The client's ALPN offer is a protocol list in wire format (length-prefixed names) kept on the SSL_CTX / SSL; the
server's choice is the application's select callback. The servername callback runs on the server once the
ClientHello's server_name has been read, before the ALPN callback (both pages, NOTES); the callbacks themselves
are wrapped for the core in :mod:`engine.ssl.hooks`. Calling convention: ``conformance/capi/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.ssl import constants as K
from engine.ssl.connection import SSL, live_ssl
from engine.ssl.context import SSL_CTX, live_ctx
from engine.tls.alpn import parse_protocol_names

__all__ = [
    "SSL_CTX_set_alpn_protos",
    "SSL_CTX_set_alpn_select_cb",
    "SSL_CTX_set_tlsext_servername_arg",
    "SSL_CTX_set_tlsext_servername_callback",
    "SSL_get0_alpn_selected",
    "SSL_get_servername",
    "SSL_get_servername_type",
    "SSL_select_next_proto",
    "SSL_set_alpn_protos",
]

AlpnSelectCallback = Callable[[SSL, bytes], tuple[int, bytes]]
ServernameCallback = Callable[[SSL, int, Any], "int | tuple[int, int]"]

OPENSSL_NPN_NEGOTIATED = 1
OPENSSL_NPN_NO_OVERLAP = 2


def _alpn_list(protos: object) -> bytes | None:
    """``protos`` if it is a valid protocol list (NOTES: non-empty names of at most 255 bytes, none truncated)."""
    if not isinstance(protos, bytes | bytearray):
        return None
    try:
        parse_protocol_names(bytes(protos))
    except ValueError:
        return None
    return bytes(protos)


def SSL_CTX_set_alpn_protos(ctx: SSL_CTX | None, protos: bytes | None) -> int:
    """The client's offer for every SSL made from ``ctx`` afterwards.

    SSL_CTX_set_alpn_select_cb: RETURN VALUES 0 on success, non-0 on failure (the reversed convention). An empty
    list (or NULL) switches ALPN off and succeeds (OpenSSL 3.0; the page is silent); a malformed one fails with 1
    and, as in OpenSSL 3.0, no error-queue entry."""
    c = live_ctx(ctx, "SSL_CTX_set_alpn_protos")
    if c is None:
        return 1
    if not protos:
        c.alpn_protos = b""
        return 0
    checked = _alpn_list(protos)
    if checked is None:
        return 1
    c.alpn_protos = checked
    return 0


def SSL_set_alpn_protos(ssl: SSL | None, protos: bytes | None) -> int:
    """As :func:`SSL_CTX_set_alpn_protos`, for this SSL only (0 on success, non-0 on failure)."""
    s = live_ssl(ssl, "SSL_set_alpn_protos")
    if s is None:
        return 1
    if not protos:
        s.alpn_protos = b""
        return 0
    checked = _alpn_list(protos)
    if checked is None:
        return 1
    s.alpn_protos = checked
    return 0


def SSL_CTX_set_alpn_select_cb(ctx: SSL_CTX | None, cb: AlpnSelectCallback | None, arg: Any = None) -> None:
    """``cb(ssl, offered) -> (ret, selected)``: ``offered`` is the client's list in wire format; ret
    SSL_TLSEXT_ERR_OK with one protocol, _NOACK (no ALPN in the answer) or _ALERT_FATAL (the handshake ends with a
    no_application_protocol alert). NULL: the server does not use ALPN (DESCRIPTION)."""
    c = live_ctx(ctx, "SSL_CTX_set_alpn_select_cb")
    if c is not None:
        c.alpn_select_cb = cb


def SSL_get0_alpn_selected(ssl: SSL | None) -> bytes:
    """The protocol the handshake agreed on, ``b""`` when none was (DESCRIPTION: NULL and 0)."""
    s = live_ssl(ssl, "SSL_get0_alpn_selected")
    return b"" if s is None else s.alpn_selected


def SSL_select_next_proto(server: bytes, client: bytes) -> tuple[int, bytes]:
    """``(OPENSSL_NPN_NEGOTIATED, protocol)`` for the first of ``server`` also in ``client``; without a match
    ``(OPENSSL_NPN_NO_OVERLAP, first of client)`` (DESCRIPTION). Malformed lists: no overlap, ``b""``."""
    try:
        ours = parse_protocol_names(bytes(server))
        theirs = parse_protocol_names(bytes(client))
    except (TypeError, ValueError):
        return OPENSSL_NPN_NO_OVERLAP, b""
    match = next((p for p in ours if p in theirs), None)
    if match is not None:
        return OPENSSL_NPN_NEGOTIATED, match
    return OPENSSL_NPN_NO_OVERLAP, theirs[0]


def SSL_CTX_set_tlsext_servername_callback(ctx: SSL_CTX | None, cb: ServernameCallback | None) -> int:
    """``cb(ssl, al, arg) -> ret`` or ``(ret, al)``: ``al`` comes in as SSL_AD_UNRECOGNIZED_NAME, the alert for
    SSL_TLSEXT_ERR_ALERT_FATAL / _WARNING. RETURN VALUES: always 1."""
    c = live_ctx(ctx, "SSL_CTX_set_tlsext_servername_callback")
    if c is not None:
        c.servername_cb = cb
    return 1


def SSL_CTX_set_tlsext_servername_arg(ctx: SSL_CTX | None, arg: Any) -> int:
    """The ``arg`` the servername callback gets. RETURN VALUES: always 1."""
    c = live_ctx(ctx, "SSL_CTX_set_tlsext_servername_arg")
    if c is not None:
        c.servername_arg = arg
    return 1


def SSL_get_servername(ssl: SSL | None, type: int) -> str | None:
    """DESCRIPTION: a client answers the name it set (SSL_set_tlsext_host_name); a server answers NULL before the
    handshake, then the name the client requested in this handshake (from inside the servername callback on)."""
    s = live_ssl(ssl, "SSL_get_servername")
    if s is None or type != K.TLSEXT_NAMETYPE_host_name:
        return None
    if s.server:
        return s.peer_servername
    return s.sni


def SSL_get_servername_type(ssl: SSL | None) -> int:
    """TLSEXT_NAMETYPE_host_name when SSL_get_servername has a name, else -1 (DESCRIPTION)."""
    return K.TLSEXT_NAMETYPE_host_name if SSL_get_servername(ssl, K.TLSEXT_NAMETYPE_host_name) is not None else -1
