"""TLS 1.3 resumption from tickets (RFC 9846 sections 2.2, 4.3.9, 4.3.11, 4.7.1), psk_dhe_ke only.

Theory of operation:

- A server issues NewSessionTickets after the handshake. A ticket is self-contained (as OpenSSL's are): the
  resumption PSK, the cipher suite, the issue time, the age mask, the lifetime, the ALPN protocol and the server name
  of the connection, sealed with AES-256-GCM under a key the server keeps (:class:`TicketSealer`, one per SSL_CTX
  in the engine). A ticket that does not open, is expired or was made for another hash is ignored: the handshake
  goes on without PSK (RFC 9846 section 4.3.11, "Any unknown PSKs ... SHOULD simply be ignored").
- A client keeps what it needs to offer a ticket as a :class:`Ticket13` and offers at most one, in a
  ``pre_shared_key`` extension that is always the last one, with its binder computed over the truncated ClientHello
  (:func:`binder_hash_input`); a ticket older than its lifetime is not offered (section 4.3.11.1).
- The binder is the Finished computation over the binder key of the PSK (section 4.3.11.2); a server that selected a
  PSK and finds its binder wrong aborts with decrypt_error, as a wrong Finished does.

Time comes from the caller (the TLS context's clock), so tests fix it.
"""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .alerts import AlertDescription, TLSAlertError, decode_error
from .keyschedule import CipherSuite, finished_verify_data
from .wire import Reader, opaque8, opaque16, u16, u32

PSK_DHE_KE = 1
"""psk_key_exchange_modes: PSK with (EC)DHE key establishment (RFC 9846 section 4.3.9)."""

_AAD = b"engine tls13 ticket v1"


@dataclass(frozen=True, slots=True)
class PskIdentity:
    identity: bytes
    obfuscated_ticket_age: int


@dataclass(frozen=True, slots=True)
class OfferedPsks:
    """The ClientHello form of pre_shared_key (RFC 9846 section 4.3.11)."""

    identities: list[PskIdentity]
    binders: list[bytes]

    @classmethod
    def parse(cls, data: bytes) -> OfferedPsks:
        r = Reader(data)
        identities = r.vector(2, lambda s: PskIdentity(s.opaque(2, 1), s.uint32()), minimum=7)
        binders = r.vector(2, lambda s: s.opaque(1, 32), minimum=33)
        r.done()
        if len(identities) != len(binders):
            raise TLSAlertError(AlertDescription.illegal_parameter, "pre_shared_key: identities and binders differ")
        return cls(identities, binders)

    def build(self) -> bytes:
        ids = b"".join(opaque16(i.identity) + u32(i.obfuscated_ticket_age) for i in self.identities)
        return opaque16(ids) + self.binders_bytes()

    def binders_bytes(self) -> bytes:
        return opaque16(b"".join(opaque8(b) for b in self.binders))


def parse_selected_identity(data: bytes) -> int:
    r = Reader(data)
    v = r.uint16()
    r.done()
    return v


def build_selected_identity(index: int) -> bytes:
    return u16(index)


def binder_hash_input(client_hello_raw: bytes, offered: OfferedPsks) -> bytes:
    """Truncate(ClientHello): the whole handshake message up to the binders list (section 4.3.11.2); the
    ClientHello must end with the pre_shared_key extension built from ``offered``."""
    tail = len(offered.binders_bytes())
    if len(client_hello_raw) < tail:
        raise decode_error("ClientHello shorter than its binders")
    return client_hello_raw[:-tail]


def binder(suite: CipherSuite, binder_key: bytes, transcript_hash: bytes) -> bytes:
    """PskBinderEntry: Finished's HMAC with the binder key as BaseKey (section 4.3.11.2)."""
    return finished_verify_data(suite, binder_key, transcript_hash)


def binder_matches(suite: CipherSuite, binder_key: bytes, transcript_hash: bytes, received: bytes) -> bool:
    return hmac.compare_digest(binder(suite, binder_key, transcript_hash), received)


# -- the client's ticket -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ticket13:
    """What a client keeps of one NewSessionTicket to resume with it later."""

    ticket: bytes = field(repr=False)
    psk: bytes = field(repr=False)
    cipher_suite: int
    hash_len: int
    age_add: int
    lifetime: int
    """Seconds (ticket_lifetime of the NewSessionTicket)."""
    received: datetime.datetime
    alpn: bytes | None = None
    server_name: str | None = None
    peer_chain: tuple[x509.Certificate, ...] = ()
    max_early_data: int = 0

    def age_ms(self, now: datetime.datetime) -> int:
        return max(0, int((now - self.received).total_seconds() * 1000))

    def usable(self, now: datetime.datetime) -> bool:
        """RFC 9846 section 4.3.11.1: a ticket older than its lifetime is not used."""
        return self.age_ms(now) <= self.lifetime * 1000

    def identity(self, now: datetime.datetime) -> PskIdentity:
        return PskIdentity(self.ticket, (self.age_ms(now) + self.age_add) % (1 << 32))


# -- the server's sealed ticket state -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketState13:
    """What a server needs back from a ticket: sealed into the ticket itself."""

    psk: bytes = field(repr=False)
    cipher_suite: int
    issued_ms: int
    """Milliseconds since the epoch, from the server's clock."""
    age_add: int
    lifetime: int
    alpn: bytes | None = None
    server_name: str | None = None

    def build(self) -> bytes:
        alpn = b"\x00" if self.alpn is None else b"\x01" + opaque8(self.alpn)
        sni = b"\x00" if self.server_name is None else b"\x01" + opaque16(self.server_name.encode())
        return (
            u16(self.cipher_suite) + self.issued_ms.to_bytes(8, "big") + u32(self.age_add) + u32(self.lifetime)
            + opaque8(self.psk) + alpn + sni
        )  # fmt: skip

    @classmethod
    def parse(cls, data: bytes) -> TicketState13:
        r = Reader(data)
        suite = r.uint16()
        issued = int.from_bytes(r.raw(8), "big")
        age_add = r.uint32()
        lifetime = r.uint32()
        psk = r.opaque(1, 1)
        alpn = r.opaque(1) if r.uint8() else None
        sni = r.opaque(2).decode(errors="replace") if r.uint8() else None
        r.done()
        return cls(psk, suite, issued, age_add, lifetime, alpn, sni)

    def expired(self, now_ms: int) -> bool:
        return now_ms < self.issued_ms or now_ms - self.issued_ms > self.lifetime * 1000


class TicketSealer:
    """Seals and opens ticket states with one AES-256-GCM key (the server's ticket key)."""

    def __init__(self, key: bytes, random: Callable[[int], bytes]) -> None:
        self._aead = AESGCM(key)
        self._random = random

    def seal(self, state: TicketState13) -> bytes:
        return self.seal_raw(state.build(), _AAD)

    def open(self, ticket: bytes) -> TicketState13 | None:
        """The state inside ``ticket``, or None for a ticket this key did not seal (or a damaged one)."""
        plain = self.open_raw(ticket, _AAD)
        if plain is None:
            return None
        try:
            return TicketState13.parse(plain)
        except (TLSAlertError, UnicodeDecodeError):
            return None

    def seal_raw(self, plain: bytes, aad: bytes) -> bytes:
        """``plain`` sealed under the ticket key with ``aad`` (which names the kind of ticket: TLS 1.2 or 1.3)."""
        nonce = self._random(12)
        return nonce + self._aead.encrypt(nonce, plain, aad)

    def open_raw(self, ticket: bytes, aad: bytes) -> bytes | None:
        if len(ticket) < 12 + 16:
            return None
        try:
            return self._aead.decrypt(ticket[:12], ticket[12:], aad)
        except InvalidTag:
            return None


def epoch_ms(now: datetime.datetime) -> int:
    return int(now.timestamp() * 1000)
