"""Alert codes (RFC 9846 section 6) and the exception that carries one: which alert, and who sent it."""

from __future__ import annotations

import pytest

from engine.tls import AlertDescription, TLSAlertError
from engine.tls.alerts import AlertLevel, decode_error, describe, illegal_parameter, unexpected_message

# RFC 9846 section 6, the AlertDescription enum, copied from the text
RFC9846_ALERTS = {
    "close_notify": 0,
    "unexpected_message": 10,
    "bad_record_mac": 20,
    "record_overflow": 22,
    "handshake_failure": 40,
    "bad_certificate": 42,
    "unsupported_certificate": 43,
    "certificate_revoked": 44,
    "certificate_expired": 45,
    "certificate_unknown": 46,
    "illegal_parameter": 47,
    "unknown_ca": 48,
    "access_denied": 49,
    "decode_error": 50,
    "decrypt_error": 51,
    "protocol_version": 70,
    "insufficient_security": 71,
    "internal_error": 80,
    "inappropriate_fallback": 86,
    "user_canceled": 90,
    "missing_extension": 109,
    "unsupported_extension": 110,
    "unrecognized_name": 112,
    "bad_certificate_status_response": 113,
    "unknown_psk_identity": 115,
    "certificate_required": 116,
    "general_error": 117,
    "no_application_protocol": 120,
}


def test_alert_descriptions_match_rfc9846_exactly() -> None:
    # plus no_renegotiation(100), which only TLS 1.2 uses (RFC 5246 section 7.2)
    assert {a.name: a.value for a in AlertDescription} == RFC9846_ALERTS | {"no_renegotiation": 100}


def test_alert_levels() -> None:
    # RFC 9846 section 6: enum { warning(1), fatal(2), (255) } AlertLevel
    assert (AlertLevel.WARNING, AlertLevel.FATAL) == (1, 2)


def test_describe_names_known_codes_and_numbers_unknown_ones() -> None:
    assert describe(48) == "unknown_ca"
    assert describe(AlertDescription.general_error) == "general_error"
    assert describe(200) == "alert_200"


def test_error_carries_alert_and_defaults_to_sent_by_us() -> None:
    exc = TLSAlertError(AlertDescription.unknown_ca, "no path to a root")
    assert exc.alert is AlertDescription.unknown_ca
    assert exc.sent_by_us is True
    assert exc.message == "no path to a root"
    assert str(exc) == "unknown_ca (sent): no path to a root"


def test_received_alert_says_so() -> None:
    exc = TLSAlertError(40, sent_by_us=False)
    assert exc.alert is AlertDescription.handshake_failure  # a plain int is turned into the enum member
    assert exc.sent_by_us is False
    assert str(exc) == "handshake_failure (received)"


def test_unassigned_code_from_the_peer_stays_a_plain_int() -> None:
    # RFC 9846 section 6: unknown alerts are fatal too, so they must be representable
    exc = TLSAlertError(201, "alert from peer", sent_by_us=False)
    assert exc.alert == 201 and not isinstance(exc.alert, AlertDescription)
    assert "alert_201 (received)" in str(exc)


def test_is_an_exception_and_can_be_raised_and_caught() -> None:
    with pytest.raises(TLSAlertError) as info:
        raise TLSAlertError(AlertDescription.internal_error, "boom")
    assert isinstance(info.value, Exception)
    assert info.value.alert == 80


@pytest.mark.parametrize(
    ("make", "alert"),
    [
        (decode_error, AlertDescription.decode_error),
        (illegal_parameter, AlertDescription.illegal_parameter),
        (unexpected_message, AlertDescription.unexpected_message),
    ],
)
def test_helpers_build_errors_we_send(make: object, alert: AlertDescription) -> None:
    assert callable(make)
    exc = make("why")
    assert isinstance(exc, TLSAlertError)
    assert exc.alert is alert and exc.sent_by_us and exc.message == "why"
