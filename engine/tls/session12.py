"""A TLS 1.2 session as the core keeps it for resumption: session IDs (RFC 5246 sections 7.3, 7.4.1.2, F.1.4) and
session tickets (RFC 5077).

What an abbreviated handshake needs from the full one: the id, the master secret, the cipher suite, whether the
master secret is an extended one (RFC 7627 section 5.3 forbids resuming across that difference), and what the
application may ask about afterwards (peer certificates, server name, ALPN).

Tickets (RFC 5077), theory of operation:

- A client offers the SessionTicket extension in its ClientHello: empty to ask for a ticket, or holding the ticket
  of the session it resumes (``Session12.ticket``), together with that session's id so that the server's echo of the
  id tells it the server resumed (section 3.4).
- A server that issues tickets answers with an empty SessionTicket extension in its ServerHello and sends a
  :class:`NewSessionTicket12` before its ChangeCipherSpec (section 3.3), in a full handshake and in an abbreviated
  one when it renews the ticket. Like OpenSSL 3.0 (the pages are silent) a server that issues a ticket in a full
  handshake sends an empty session id, and a client names a session it got a ticket for by the SHA-256 of the ticket.
- The ticket is the session state of :class:`TicketState12` sealed with the server's ticket key (the same
  :class:`~engine.tls.session13.TicketSealer` as TLS 1.3 tickets, one per SSL_CTX, under its own associated data so
  a TLS 1.3 ticket never opens as a TLS 1.2 one). A ticket that does not open, is expired, or does not fit the
  ClientHello leads to a full handshake (section 3.4), never to an error, except the one RFC 7627 section 5.3
  requires: a ticket with an extended master secret offered without extended_master_secret is handshake_failure.

Time comes from the caller (the TLS context's clock), so tests fix it.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import ClassVar

from cryptography import x509

from .alerts import TLSAlertError
from .messages import HandshakeType
from .session13 import TicketSealer
from .wire import Reader, opaque8, opaque16, opaque24, u32

_AAD12 = b"engine tls12 ticket v1"


@dataclass(frozen=True, slots=True)
class Session12:
    session_id: bytes
    master_secret: bytes = field(repr=False)
    cipher_suite: int
    extended_master_secret: bool
    peer_chain: tuple[x509.Certificate, ...] = ()
    server_name: str | None = None
    """Client: the name it sent. Server: the name it accepted (acknowledged) in the full handshake, else None."""
    alpn: bytes | None = None
    ticket: bytes | None = field(default=None, repr=False)
    """Client: the RFC 5077 ticket the server sent for this session (offered when the session is resumed)."""
    ticket_lifetime: int = 0
    """Client: ticket_lifetime_hint of that ticket, in seconds (0: unspecified)."""


SessionCache12 = MutableMapping[bytes, Session12]
"""A server's session cache: session id -> session (the engine's SSL_CTX keeps one)."""


def ticket_session_id(ticket: bytes) -> bytes:
    """The id a client gives a session it holds a ticket for (OpenSSL 3.0: SHA-256 of the ticket)."""
    return hashlib.sha256(ticket).digest()


@dataclass(slots=True)
class NewSessionTicket12:
    """RFC 5077 section 3.3: ``uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>``."""

    handshake_type: ClassVar[int] = HandshakeType.new_session_ticket
    lifetime_hint: int
    ticket: bytes

    @classmethod
    def parse(cls, body: bytes) -> NewSessionTicket12:
        r = Reader(body)
        hint = r.uint32()
        ticket = r.opaque(2)
        r.done()
        return cls(hint, ticket)

    def build_body(self) -> bytes:
        return u32(self.lifetime_hint) + opaque16(self.ticket)


@dataclass(frozen=True, slots=True)
class TicketState12:
    """What a server needs back from a TLS 1.2 ticket, sealed into the ticket itself."""

    master_secret: bytes = field(repr=False)
    cipher_suite: int
    extended_master_secret: bool
    issued_ms: int
    """Milliseconds since the epoch, from the server's clock."""
    lifetime: int
    """Seconds."""
    server_name: str | None = None
    alpn: bytes | None = None
    peer_chain: tuple[bytes, ...] = ()
    """The client's certificates (DER), if it authenticated."""

    def build(self) -> bytes:
        sni = b"\x00" if self.server_name is None else b"\x01" + opaque16(self.server_name.encode())
        alpn = b"\x00" if self.alpn is None else b"\x01" + opaque8(self.alpn)
        chain = opaque24(b"".join(opaque24(c) for c in self.peer_chain))
        return (
            self.cipher_suite.to_bytes(2, "big") + bytes((int(self.extended_master_secret),))
            + self.issued_ms.to_bytes(8, "big") + u32(self.lifetime) + opaque8(self.master_secret) + sni + alpn
            + chain
        )  # fmt: skip

    @classmethod
    def parse(cls, data: bytes) -> TicketState12:
        r = Reader(data)
        suite = r.uint16()
        ems = r.uint8()
        issued = int.from_bytes(r.raw(8), "big")
        lifetime = r.uint32()
        secret = r.opaque(1, 48, 48)
        sni = r.opaque(2).decode() if r.uint8() else None
        alpn = r.opaque(1) if r.uint8() else None
        chain = r.vector(3, lambda s: s.opaque(3, 1))
        r.done()
        return cls(secret, suite, bool(ems), issued, lifetime, sni, alpn, tuple(chain))

    def expired(self, now_ms: int) -> bool:
        return now_ms < self.issued_ms or now_ms - self.issued_ms > self.lifetime * 1000

    def session(self, session_id: bytes) -> Session12:
        """The session this state stands for, under the id the client sent with the ticket."""
        chain = tuple(x509.load_der_x509_certificate(c) for c in self.peer_chain)
        return Session12(session_id, self.master_secret, self.cipher_suite, self.extended_master_secret, chain,
                         self.server_name, self.alpn)  # fmt: skip


def seal12(sealer: TicketSealer, state: TicketState12) -> bytes:
    return sealer.seal_raw(state.build(), _AAD12)


def open12(sealer: TicketSealer, ticket: bytes) -> TicketState12 | None:
    """The state inside ``ticket``, or None for a ticket this key did not seal as a TLS 1.2 ticket (or a damaged
    one)."""
    plain = sealer.open_raw(ticket, _AAD12)
    if plain is None:
        return None
    try:
        return TicketState12.parse(plain)
    except (TLSAlertError, UnicodeDecodeError, ValueError):
        return None
