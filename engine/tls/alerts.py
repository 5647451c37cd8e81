"""TLS alerts (RFC 9846 section 6) and the exception that carries one.

A protocol error anywhere in the core is raised as :class:`TLSAlertError`. The exception says which alert goes on the
wire and who sent it: ``sent_by_us=True`` means this endpoint detected the problem and will send (or has sent) the
alert; ``sent_by_us=False`` means the peer sent a fatal alert and we are reporting it.
"""

from __future__ import annotations

from enum import IntEnum


class AlertLevel(IntEnum):
    WARNING = 1
    FATAL = 2


class AlertDescription(IntEnum):
    """RFC 9846 section 6 (AlertDescription), including general_error(117) new in RFC 9846."""

    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    record_overflow = 22
    handshake_failure = 40
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86
    user_canceled = 90
    no_renegotiation = 100  # TLS 1.2 (RFC 5246 section 7.2.2), always a warning
    missing_extension = 109
    unsupported_extension = 110
    unrecognized_name = 112
    bad_certificate_status_response = 113
    unknown_psk_identity = 115
    certificate_required = 116
    general_error = 117
    no_application_protocol = 120


def describe(code: int) -> str:
    """Name of an alert description, or its number if unknown."""
    try:
        return AlertDescription(code).name
    except ValueError:
        return f"alert_{code}"


class TLSAlertError(Exception):
    """A fatal protocol error, with the alert that goes (or came) on the wire.

    ``alert`` is the description code (an :class:`AlertDescription` when known, else a plain int for a received
    alert with an unassigned code); ``sent_by_us`` tells the direction.
    """

    def __init__(self, alert: int, message: str = "", *, sent_by_us: bool = True) -> None:
        self.alert = AlertDescription(alert) if alert in AlertDescription._value2member_map_ else alert
        self.sent_by_us = sent_by_us
        self.message = message
        direction = "sent" if sent_by_us else "received"
        text = f"{describe(alert)} ({direction})"
        if message:
            text += f": {message}"
        super().__init__(text)


def decode_error(message: str) -> TLSAlertError:
    return TLSAlertError(AlertDescription.decode_error, message)


def illegal_parameter(message: str) -> TLSAlertError:
    return TLSAlertError(AlertDescription.illegal_parameter, message)


def unexpected_message(message: str) -> TLSAlertError:
    return TLSAlertError(AlertDescription.unexpected_message, message)
