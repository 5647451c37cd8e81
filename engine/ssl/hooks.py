"""The SSL layer's callbacks handed to the TLS core for one handshake: ALPN select, servername, certificates.

The core speaks no OpenSSL: it gets plain functions (``TLSConfig.alpn_select``, ``server_name_callback``) and a
list of certificates. This module wraps the application's C-style callbacks (``cb(ssl, ...) -> SSL_TLSEXT_ERR_*``)
into those functions, for :meth:`engine.ssl.connection.SSL._config`. A callback that raises (a bug of the
application, which C could not express) ends the handshake with internal_error instead of escaping the C API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.ssl import constants as K
from engine.tls.alerts import AlertDescription, TLSAlertError
from engine.tls.alpn import encode_protocol_names, parse_protocol_names
from engine.tls.config import DeclineWithWarning, TLSConfig

if TYPE_CHECKING:
    from engine.ssl.connection import SSL


def _callback_failed(name: str, exc: Exception) -> TLSAlertError:
    return TLSAlertError(AlertDescription.internal_error, f"{name} callback raised {type(exc).__name__}")


def configure(ssl: SSL, cfg: TLSConfig) -> None:
    """Put the SSL's extension settings into the core's configuration for the next handshake."""
    if not ssl.server:
        if ssl.alpn_protos:
            cfg.alpn_protocols = tuple(parse_protocol_names(ssl.alpn_protos))
        return
    cfg.certificates = list(ssl.other_certs)
    if ssl.ctx.alpn_select_cb is not None:
        cfg.alpn_select = lambda offer: _select_alpn(ssl, offer)
    cfg.server_name_callback = lambda name: _servername(ssl, name)


def _select_alpn(ssl: SSL, offer: list[bytes]) -> bytes | None:
    """SSL_CTX_set_alpn_select_cb: OK with a protocol answers it, NOACK answers without ALPN, anything else is a
    fatal no_application_protocol alert (OpenSSL 3.0; the page names ALERT_FATAL)."""
    cb = ssl.ctx.alpn_select_cb
    assert cb is not None
    try:
        result: Any = cb(ssl, encode_protocol_names(offer))
        ret, selected = result
    except Exception as exc:
        raise _callback_failed("ALPN select", exc) from exc
    if ret == K.SSL_TLSEXT_ERR_OK and isinstance(selected, bytes | bytearray) and selected:
        return bytes(selected)
    if ret == K.SSL_TLSEXT_ERR_NOACK:
        return None
    raise TLSAlertError(AlertDescription.no_application_protocol, "ALPN select callback refused the offer")


def _servername(ssl: SSL, name: str | None) -> bool | DeclineWithWarning:
    """SSL_CTX_set_tlsext_servername_callback: DESCRIPTION. The name is kept first, so SSL_get_servername answers
    inside the callback. Without a callback SNI is not used (no acknowledgement); OK acknowledges; NOACK does not;
    ALERT_WARNING does not and warns in TLS 1.2 (TLS 1.3: as NOACK); ALERT_FATAL ends the handshake with the alert
    the callback stored in ``al`` (default unrecognized_name)."""
    ssl.peer_servername = name
    cb = ssl.ctx.servername_cb
    if cb is None:
        return False
    try:
        result: Any = cb(ssl, K.SSL_AD_UNRECOGNIZED_NAME, ssl.ctx.servername_arg)
        ret, alert = result if isinstance(result, tuple) else (result, K.SSL_AD_UNRECOGNIZED_NAME)
        ret, alert = int(ret), int(alert)
    except Exception as exc:
        raise _callback_failed("servername", exc) from exc
    if ret == K.SSL_TLSEXT_ERR_ALERT_FATAL:
        raise TLSAlertError(_alert(alert), "servername callback failed")
    if ret == K.SSL_TLSEXT_ERR_ALERT_WARNING:
        return DeclineWithWarning(_alert(alert))
    # OpenSSL 3.0 (final_server_name): any other answer than the three above counts as OK
    return ret != K.SSL_TLSEXT_ERR_NOACK


def _alert(value: int) -> AlertDescription:
    try:
        return AlertDescription(value)
    except ValueError:
        return AlertDescription.internal_error
