"""What a case can read of a TLS 1.2 handshake on the wire without keys: the hellos, the NewSessionTicket (RFC 5077
section 3.3) and every other handshake message travel in plaintext before the sender's ChangeCipherSpec."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.link import Channel, Link

__all__ = ["APPLICATION_DATA", "CERTIFICATE", "CHANGE_CIPHER_SPEC", "NEW_SESSION_TICKET", "SERVER_HELLO",
           "SESSION_TICKET", "Flight", "Hello", "WireTap", "change_cipher_specs", "chosen_suite", "flight", "hello",
           "offered_suites", "records", "tapped"]

CHANGE_CIPHER_SPEC = 20  # the record content type (RFC 5246 section 6.2.1)

SERVER_HELLO = 2
NEW_SESSION_TICKET = 4
CERTIFICATE = 11
SESSION_TICKET = 35  # the SessionTicket extension (RFC 5077 section 3.2)
RECORD_SIZE_LIMIT = 28  # RFC 8449


APPLICATION_DATA = 23


@dataclass
class WireTap(Channel):
    """A whole channel that keeps a copy of every record it carries, except the fragments of application-data
    records (TLS 1.2 application data, every protected TLS 1.3 record): those are kept as a header with length 0,
    so a case's memory does not grow with the data it moves while every record's type and order stay readable. A
    record still arriving is held apart (at most one record: 5 + 65535 bytes) until it is whole."""

    seen: bytearray = field(default_factory=bytearray)
    _arriving: bytearray = field(default_factory=bytearray)

    def _disturb(self, data: bytearray) -> bytearray:
        buf = self._arriving
        buf += data
        at = 0
        while len(buf) - at >= 5:
            end = at + 5 + int.from_bytes(buf[at + 3:at + 5], "big")
            if end > len(buf):
                break
            if buf[at] == APPLICATION_DATA:
                self.seen += buf[at:at + 3] + b"\x00\x00"
            else:
                self.seen += buf[at:end]
            at = end
        del buf[:at]
        return super()._disturb(data)


def tapped() -> tuple[Link, WireTap, WireTap]:
    """A whole link whose two channels (client to server, server to client) keep what they carried."""
    c2s, s2c = WireTap(), WireTap()
    return Link(c2s, s2c), c2s, s2c


def records(wire: bytes) -> list[tuple[int, bytes]]:
    """The records of one direction, from its start, as (content type, fragment); a partial last record is left
    out. In TLS 1.2 the header, content type included, is sent in clear whatever protects the fragment (RFC 5246
    section 6.2.1), so a protected handshake's records still show their types."""
    out, at = [], 0
    while at + 5 <= len(wire):
        length = int.from_bytes(wire[at + 3:at + 5], "big")
        if at + 5 + length > len(wire):
            break
        out.append((wire[at], wire[at + 5:at + 5 + length]))
        at += 5 + length
    return out


def change_cipher_specs(wire: bytes) -> int:
    """How many ChangeCipherSpec records one direction carried: in TLS 1.2 a side sends one in every handshake it
    completes, full or abbreviated, the first one included (RFC 5246 sections 7.1 and 7.3)."""
    return sum(1 for ctype, _ in records(wire) if ctype == CHANGE_CIPHER_SPEC)


@dataclass
class Hello:
    session_id: bytes
    extensions: dict[int, bytes] = field(default_factory=dict)


@dataclass
class Flight:
    """The plaintext handshake messages one side sent before its first ChangeCipherSpec, as (type, body)."""

    messages: list[tuple[int, bytes]]

    def types(self) -> list[int]:
        return [t for t, _ in self.messages]

    def first(self, msg_type: int) -> bytes | None:
        return next((body for t, body in self.messages if t == msg_type), None)


def flight(wire: bytes) -> Flight:
    """The plaintext handshake messages of ``wire`` (one direction, from its start) before a change_cipher_spec."""
    buf, at = b"", 0
    while at + 5 <= len(wire):
        ctype, length = wire[at], int.from_bytes(wire[at + 3:at + 5], "big")
        if ctype == 20:
            break
        if ctype == 22:
            buf += wire[at + 5:at + 5 + length]
        at += 5 + length
    out, i = [], 0
    while i + 4 <= len(buf):
        n = int.from_bytes(buf[i + 1:i + 4], "big")
        out.append((buf[i], buf[i + 4:i + 4 + n]))
        i += 4 + n
    return Flight(out)


def hello(body: bytes, *, client: bool) -> Hello:
    """Session id and extensions of a ClientHello (``client``) or ServerHello body."""
    at = 2 + 32
    sid = body[at + 1:at + 1 + body[at]]
    at += 1 + body[at]
    if client:
        at += 2 + int.from_bytes(body[at:at + 2], "big")  # cipher suites
        at += 1 + body[at]  # compression methods
    else:
        at += 3  # cipher suite, compression method
    out = Hello(sid)
    if at + 2 > len(body):
        return out
    end = at + 2 + int.from_bytes(body[at:at + 2], "big")
    at += 2
    while at + 4 <= end:
        t, n = int.from_bytes(body[at:at + 2], "big"), int.from_bytes(body[at + 2:at + 4], "big")
        out.extensions[t] = body[at + 4:at + 4 + n]
        at += 4 + n
    return out


def offered_suites(client_hello: bytes) -> list[int]:
    """The cipher_suites list of a ClientHello body (the same layout in TLS 1.2 and TLS 1.3)."""
    at = 2 + 32
    at += 1 + client_hello[at]
    n = int.from_bytes(client_hello[at : at + 2], "big")
    raw = client_hello[at + 2 : at + 2 + n]
    return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]


def chosen_suite(server_hello: bytes) -> int:
    """The cipher suite of a ServerHello body."""
    at = 2 + 32
    at += 1 + server_hello[at]
    return int.from_bytes(server_hello[at : at + 2], "big")
