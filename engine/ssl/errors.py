"""How the SSL layer reports failures: SSL reason codes on the per-thread error queue, and the mapping from the TLS
core's alerts to OpenSSL 3.0's reason numbers.

The TLS core raises :class:`~engine.tls.TLSAlertError` carrying an alert and its direction; only this layer turns that
into OpenSSL's language (style item 2). A received fatal alert ``d`` is reported as reason ``1000 + d``
(``SSL_AD_REASON_OFFSET``), as libssl does; an alert we detected ourselves maps to the reason libssl 3.0 uses for the
same situation. The reason texts are this project's own short wording (OpenSSL's tables are not copied); they are
registered in :data:`engine.err.REASON_TEXTS` so ``ERR_error_string`` can show them.
"""

from __future__ import annotations

from engine import err
from engine.ssl import constants as K
from engine.tls import AlertDescription, TLSAlertError

__all__ = ["alert_reason", "raise_ssl", "verify_error_for"]

A = AlertDescription

_TEXTS: dict[int, str] = {
    K.SSL_R_APPLICATION_DATA_AFTER_CLOSE_NOTIFY: "application data after close notify",
    K.SSL_R_BAD_EXTENSION: "bad extension",
    K.SSL_R_BAD_KEY_UPDATE: "bad key update",
    K.SSL_R_BAD_LENGTH: "bad length",
    K.SSL_R_BAD_PACKET: "bad packet",
    K.SSL_R_BAD_SIGNATURE: "bad signature",
    K.SSL_R_BAD_SSL_FILETYPE: "bad ssl filetype",
    K.SSL_R_BAD_VALUE: "bad value",
    K.SSL_R_SSL3_EXT_INVALID_MAX_FRAGMENT_LENGTH: "ssl3 ext invalid max fragment length",
    K.SSL_R_BAD_WRITE_RETRY: "bad write retry",
    K.SSL_R_CALLBACK_FAILED: "callback failed",
    K.SSL_R_CERTIFICATE_VERIFY_FAILED: "certificate verify failed",
    K.SSL_R_CONNECTION_TYPE_NOT_SET: "connection type not set",
    K.SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC: "decryption failed or bad record mac",
    K.SSL_R_DIGEST_CHECK_FAILED: "digest check failed",
    K.SSL_R_HTTP_REQUEST: "http request",
    K.SSL_R_INVALID_COMMAND: "invalid command",
    K.SSL_R_INVALID_KEY_UPDATE_TYPE: "invalid key update type",
    K.SSL_R_LENGTH_MISMATCH: "length mismatch",
    K.SSL_R_NO_APPLICATION_PROTOCOL: "no application protocol",
    K.SSL_R_NO_CERTIFICATE_ASSIGNED: "no certificate assigned",
    K.SSL_R_NO_CIPHER_MATCH: "no cipher match",
    K.SSL_R_NO_PRIVATE_KEY_ASSIGNED: "no private key assigned",
    K.SSL_R_NO_PROTOCOLS_AVAILABLE: "no protocols available",
    K.SSL_R_NO_RENEGOTIATION: "no renegotiation",
    K.SSL_R_NO_SHARED_CIPHER: "no shared cipher",
    K.SSL_R_NO_SHARED_GROUPS: "no shared groups",
    K.SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM: "no suitable signature algorithm",
    K.SSL_R_NULL_SSL_CTX: "null ssl ctx",
    K.SSL_R_NULL_SSL_METHOD_PASSED: "null ssl method passed",
    K.SSL_R_PACKET_LENGTH_TOO_LONG: "packet length too long",
    K.SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: "peer did not return a certificate",
    K.SSL_R_PROTOCOL_IS_SHUTDOWN: "protocol is shutdown",
    K.SSL_R_READ_BIO_NOT_SET: "read bio not set",
    K.SSL_R_SHUTDOWN_WHILE_IN_INIT: "shutdown while in init",
    K.SSL_R_SSL_HANDSHAKE_FAILURE: "ssl handshake failure",
    K.SSL_R_SSL_NEGATIVE_LENGTH: "ssl negative length",
    K.SSL_R_STILL_IN_INIT: "still in init",
    K.SSL_R_EXTENSION_NOT_RECEIVED: "extension not received",
    K.SSL_R_INVALID_CONFIG: "invalid config",
    K.SSL_R_NOT_SERVER: "not server",
    K.SSL_R_REQUEST_PENDING: "request pending",
    K.SSL_R_REQUEST_SENT: "request sent",
    K.SSL_R_UNEXPECTED_EOF_WHILE_READING: "unexpected eof while reading",
    K.SSL_R_UNEXPECTED_MESSAGE: "unexpected message",
    K.SSL_R_UNEXPECTED_CCS_MESSAGE: "unexpected ccs message",
    K.SSL_R_TOO_MANY_KEY_UPDATES: "too many key updates",
    K.SSL_R_TOO_MANY_WARN_ALERTS: "too many warn alerts",
    K.SSL_R_RECORD_TOO_SMALL: "record too small",
    K.SSL_R_UNEXPECTED_RECORD: "unexpected record",
    K.SSL_R_UNINITIALIZED: "uninitialized",
    K.SSL_R_UNKNOWN_CMD_NAME: "unknown command name",
    K.SSL_R_UNSUPPORTED_PROTOCOL: "unsupported protocol",
    K.SSL_R_WRONG_SSL_VERSION: "wrong ssl version",
    K.SSL_R_WRONG_VERSION_NUMBER: "wrong version number",
    K.SSL_R_X509_LIB: "X509 lib",
    K.SSL_R_BAD_DATA_RETURNED_BY_CALLBACK: "bad data returned by callback",
}
for _alert in AlertDescription:
    # sslerr.h: SSL_R_SSLV3_ALERT_* / SSL_R_TLSV1_ALERT_* / SSL_R_TLSV13_ALERT_* = 1000 + alert description
    _TEXTS.setdefault(K.SSL_AD_REASON_OFFSET + int(_alert), f"alert {_alert.name.replace('_', ' ')}")
err.REASON_TEXTS[err.ERR_LIB_SSL] = _TEXTS

# Alerts we detect ourselves -> libssl 3.0's reason for the same situation.
_SENT: dict[int, int] = {
    A.unexpected_message: K.SSL_R_UNEXPECTED_MESSAGE,
    A.bad_record_mac: K.SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC,
    A.record_overflow: K.SSL_R_PACKET_LENGTH_TOO_LONG,
    A.handshake_failure: K.SSL_R_SSL_HANDSHAKE_FAILURE,
    A.bad_certificate: K.SSL_R_CERTIFICATE_VERIFY_FAILED,
    A.unsupported_certificate: K.SSL_R_CERTIFICATE_VERIFY_FAILED,
    A.certificate_revoked: K.SSL_R_CERTIFICATE_VERIFY_FAILED,
    A.certificate_expired: K.SSL_R_CERTIFICATE_VERIFY_FAILED,
    A.certificate_unknown: K.SSL_R_CERTIFICATE_VERIFY_FAILED,
    A.unknown_ca: K.SSL_R_CERTIFICATE_VERIFY_FAILED,
    A.illegal_parameter: K.SSL_R_BAD_PACKET,
    A.decode_error: K.SSL_R_LENGTH_MISMATCH,
    A.decrypt_error: K.SSL_R_BAD_SIGNATURE,
    A.protocol_version: K.SSL_R_UNSUPPORTED_PROTOCOL,
    A.missing_extension: K.SSL_R_BAD_EXTENSION,
    A.unsupported_extension: K.SSL_R_BAD_EXTENSION,
    A.certificate_required: K.SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE,
    A.no_application_protocol: K.SSL_R_NO_APPLICATION_PROTOCOL,
}
_FLOODS = {
    "change_cipher_spec": K.SSL_R_UNEXPECTED_CCS_MESSAGE,
    "warning alerts": K.SSL_R_TOO_MANY_WARN_ALERTS,
    "empty records": K.SSL_R_RECORD_TOO_SMALL,
    "keyupdate": K.SSL_R_TOO_MANY_KEY_UPDATES,
}
_CERTIFICATE_ALERTS = frozenset({
    A.bad_certificate, A.unsupported_certificate, A.certificate_revoked, A.certificate_expired,
    A.certificate_unknown, A.unknown_ca,
})  # fmt: skip


def alert_reason(exc: TLSAlertError, version_known: bool = False) -> int:
    """The SSL reason code (``ERR_LIB_SSL``) for a fatal error of the TLS core. ``version_known``: the hello that
    picks the protocol version had been processed when the error came."""
    if not exc.sent_by_us:
        return K.SSL_AD_REASON_OFFSET + int(exc.alert)
    text = exc.message.lower()
    if exc.alert == A.unexpected_message and text == "application data before keys" and version_known:
        # libssl 3.0: a record of application data in the handshake is SSL_R_UNEXPECTED_RECORD, except as the very
        # first record, before any hello (SSL_R_UNEXPECTED_MESSAGE); the pages give no reason codes
        return K.SSL_R_UNEXPECTED_RECORD
    if exc.alert == A.handshake_failure:
        if "sent no certificate" in text:
            return K.SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE  # a TLS 1.2 server requiring one (as TLS 1.3's alert)
        if "no_renegotiation" in text:
            return K.SSL_R_NO_RENEGOTIATION
        if "cipher" in text:
            return K.SSL_R_NO_SHARED_CIPHER
        if "group" in text:
            return K.SSL_R_NO_SHARED_GROUPS
        if "signature" in text:
            return K.SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM
    if exc.alert == A.decrypt_error and "finished" in text:
        return K.SSL_R_DIGEST_CHECK_FAILED
    if exc.alert == A.unexpected_message and text.startswith("too many "):
        # the core's flood limits (engine.tls.connection.FLOOD_LIMITS) -> OpenSSL 3.0's reasons for its own
        for word, reason in _FLOODS.items():
            if word in text:
                return reason
    if exc.alert == A.unexpected_message and "record" in text:
        return K.SSL_R_UNEXPECTED_RECORD
    if exc.alert == A.internal_error:
        return err.ERR_R_INTERNAL_ERROR
    return _SENT.get(exc.alert, K.SSL_R_SSL_HANDSHAKE_FAILURE)


def verify_error_for(exc: TLSAlertError) -> int | None:
    """The X509_V_ERR_* code for a certificate we rejected ourselves, None if the error is no verification failure."""
    if not exc.sent_by_us or exc.alert not in _CERTIFICATE_ALERTS:
        return None
    text = exc.message.lower()
    if exc.alert == A.unknown_ca:
        return K.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    if exc.alert == A.certificate_expired:
        return K.X509_V_ERR_CERT_HAS_EXPIRED
    if "not yet valid" in text:
        return K.X509_V_ERR_CERT_NOT_YET_VALID
    if "name" in text or "subjectaltname" in text:
        return K.X509_V_ERR_HOSTNAME_MISMATCH
    return K.X509_V_ERR_CERT_REJECTED


def raise_ssl(reason: int, func: str, data: str = "") -> int:
    """Push one ``ERR_LIB_SSL`` entry; returns the packed code."""
    return err.ERR_raise_data(err.ERR_LIB_SSL, reason, data, func=func)
