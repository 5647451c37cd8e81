"""engine.ssl.errors: the TLS core's alerts as OpenSSL 3.0 reason codes, and their texts on the error queue."""

from __future__ import annotations

import pytest

from engine import err
from engine.ssl import constants as K
from engine.ssl.errors import alert_reason, raise_ssl, verify_error_for
from engine.tls import AlertDescription, TLSAlertError


def test_received_alerts_are_offset_by_1000() -> None:
    exc = TLSAlertError(AlertDescription.protocol_version, sent_by_us=False)
    assert alert_reason(exc) == K.SSL_R_TLSV1_ALERT_PROTOCOL_VERSION
    assert alert_reason(TLSAlertError(AlertDescription.handshake_failure, sent_by_us=False)) == 1040


def test_our_own_alerts_map_to_libssl_reasons() -> None:
    assert alert_reason(TLSAlertError(AlertDescription.bad_record_mac)) == K.SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC
    assert alert_reason(TLSAlertError(AlertDescription.handshake_failure, "no common cipher suite")) \
        == K.SSL_R_NO_SHARED_CIPHER
    assert alert_reason(TLSAlertError(AlertDescription.protocol_version)) == K.SSL_R_UNSUPPORTED_PROTOCOL
    assert alert_reason(TLSAlertError(AlertDescription.unknown_ca)) == K.SSL_R_CERTIFICATE_VERIFY_FAILED
    assert alert_reason(TLSAlertError(AlertDescription.certificate_required)) \
        == K.SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE


def test_verify_results() -> None:
    unknown = K.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    assert verify_error_for(TLSAlertError(AlertDescription.unknown_ca)) == unknown
    assert verify_error_for(TLSAlertError(AlertDescription.certificate_expired)) == K.X509_V_ERR_CERT_HAS_EXPIRED
    assert verify_error_for(TLSAlertError(AlertDescription.unknown_ca, sent_by_us=False)) is None
    assert verify_error_for(TLSAlertError(AlertDescription.decode_error)) is None


def test_reason_texts_are_registered() -> None:
    err.ERR_clear_error()
    code = raise_ssl(K.SSL_R_UNEXPECTED_EOF_WHILE_READING, "SSL_read")
    assert err.ERR_GET_LIB(code) == err.ERR_LIB_SSL
    assert err.ERR_GET_REASON(code) == K.SSL_R_UNEXPECTED_EOF_WHILE_READING
    assert "unexpected eof" in err.ERR_error_string(code)
    assert err.ERR_reason_error_string(err.ERR_PACK(err.ERR_LIB_SSL, 0, 1040)) == "alert handshake failure"
    err.ERR_clear_error()


@pytest.mark.parametrize(("kind", "reason"), [
    ("change_cipher_spec records", K.SSL_R_UNEXPECTED_CCS_MESSAGE),
    ("warning alerts", K.SSL_R_TOO_MANY_WARN_ALERTS),
    ("empty records", K.SSL_R_RECORD_TOO_SMALL),
    ("KeyUpdate messages", K.SSL_R_TOO_MANY_KEY_UPDATES),
])
def test_flood_limits_map_to_openssl_reasons(kind: str, reason: int) -> None:
    """Every flood the core bounds (FLOOD_LIMITS) gets OpenSSL 3.0's reason for it on the error queue."""
    from engine.tls.connection import FLOOD_LIMITS

    assert kind in FLOOD_LIMITS
    exc = TLSAlertError(AlertDescription.unexpected_message, f"too many {kind} in a row")
    assert alert_reason(exc) == reason
