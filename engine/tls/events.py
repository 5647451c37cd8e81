"""Events the connection reports to its user (see :mod:`engine.tls.connection`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509

from .messages import NewSessionTicket
from .session12 import Session12
from .session13 import Ticket13


class _NeedData:
    """Sentinel: no event is ready; feed more bytes with ``receive_bytes``."""

    _instance: _NeedData | None = None

    def __new__(cls) -> _NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()


@dataclass(frozen=True, slots=True)
class HandshakeComplete:
    cipher_suite: int
    group: int
    signature_scheme: int | None
    alpn_protocol: bytes | None
    server_name: str | None
    hello_retry_request: bool
    peer_certificates: list[x509.Certificate] = field(default_factory=list)
    version: int = 0x0304
    """The negotiated protocol version (0x0304 TLS 1.3, 0x0303 TLS 1.2)."""
    resumed: bool = False
    renegotiation: bool = False
    """TLS 1.2: this completion ends a renegotiation (not the first handshake of the connection)."""
    session12: Session12 | None = None
    """TLS 1.2: the session of this handshake (new, or the one resumed)."""


@dataclass(frozen=True, slots=True)
class ApplicationData:
    data: bytes


@dataclass(frozen=True, slots=True)
class CloseNotifyReceived:
    pass


@dataclass(frozen=True, slots=True)
class KeyUpdateReceived:
    update_requested: bool


@dataclass(frozen=True, slots=True)
class AlertReceived:
    """A non-fatal alert other than close_notify: in TLS 1.3 only user_canceled (otherwise ignored), in TLS 1.2 any
    warning alert, such as no_renegotiation."""

    description: int
    level: int


@dataclass(frozen=True, slots=True)
class RenegotiationRefused:
    """TLS 1.2 server: a renegotiating ClientHello was declined with a no_renegotiation warning (RFC 5746 section
    4.4); the record leaves no other trace, and SSL_read needs to know a non-application record came."""


@dataclass(frozen=True, slots=True)
class NewSessionTicketReceived:
    """A ticket was parsed and stored; ``psk`` is the derived PSK, ``session13`` what a later ClientHello offers."""

    ticket: NewSessionTicket
    psk: bytes
    cipher_suite: int
    session13: Ticket13 | None = None


@dataclass(frozen=True, slots=True)
class CertificateRequested:
    """The server asked for a client certificate and ``defer_client_certificate`` is set: the handshake waits for
    ``TLSConnection.send_client_certificate``."""


@dataclass(frozen=True, slots=True)
class PostHandshakeAuthDone:
    """A post-handshake authentication (RFC 9846 section 4.6.2) completed: on a server, the client's chain (empty:
    the client sent none); on a client, the answer was sent."""

    peer_certificates: list[x509.Certificate]


@dataclass(frozen=True, slots=True)
class CertificateReceived:
    """The server's chain arrived and ``defer_certificate_check`` is set: the handshake waits for
    ``TLSConnection.resume_certificate_check``."""

    chain: list[x509.Certificate] = field(default_factory=list)


Event = (
    HandshakeComplete
    | CertificateRequested
    | CertificateReceived
    | ApplicationData
    | CloseNotifyReceived
    | KeyUpdateReceived
    | AlertReceived
    | RenegotiationRefused
    | NewSessionTicketReceived
    | PostHandshakeAuthDone
)
