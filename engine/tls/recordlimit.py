"""record_size_limit (RFC 8449), TLS 1.3: each endpoint says how large a record it is willing to receive.

../shared holds no copy of RFC 8449; this follows its published definition:

* the extension body is one uint16, the largest TLSInnerPlaintext (content, content type byte and padding) the
  sender of the extension accepts; a value below 64 is illegal_parameter. In TLS 1.3 values above 2^14 + 1 are
  allowed (a larger future limit) and mean 2^14 + 1 here;
* a client offers it in its ClientHello; a server that supports it answers in EncryptedExtensions with its own
  limit, and from then on each side keeps the records it sends within the other side's limit (the server from its
  EncryptedExtensions on, as it learned the client's limit first);
* a protected record larger than the limit the receiver announced is record_overflow.

TLS 1.2 (same RFC, sections 4 and 5): the extension goes in the ClientHello and the ServerHello; the limit counts the
plaintext of a protected record (all input to its protection, no content type byte), so its protocol maximum is
2^14, and unprotected records (the hellos before ChangeCipherSpec) are not subject to it. The record layer keeps one
notion, the TLS 1.3 inner plaintext, so a TLS 1.2 limit travels to it as limit + 1 (:func:`tls12`).

Limits are handed to the record layer as a :class:`SetRecordSizeLimit` instruction, in wire order, like keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from .alerts import decode_error, illegal_parameter
from .record import MAX_PLAINTEXT
from .wire import u16

MINIMUM = 64
TLS13_MAXIMUM = MAX_PLAINTEXT + 1  # the inner plaintext: 2^14 bytes of content and the content type byte
TLS12_MAXIMUM = MAX_PLAINTEXT  # the plaintext of a TLS 1.2 record


@dataclass(frozen=True, slots=True)
class SetRecordSizeLimit:
    """Instruction: ``send`` is the largest inner plaintext we may send from now on, ``receive`` the largest we
    accept (None: no limit of our own announced)."""

    send: int
    receive: int | None


def encode(limit: int) -> bytes:
    if not MINIMUM <= limit <= 0xFFFF:
        raise ValueError(f"record_size_limit {limit} outside 64..65535")
    return u16(limit)


def decode(body: bytes) -> int:
    """The peer's limit, capped at the TLS 1.3 maximum: decode_error if malformed, illegal_parameter below 64."""
    if len(body) != 2:
        raise decode_error("record_size_limit must be two bytes")
    value = int.from_bytes(body, "big")
    if value < MINIMUM:
        raise illegal_parameter(f"record_size_limit {value} below 64")
    return min(value, TLS13_MAXIMUM)


def own(limit: int | None) -> int | None:
    """Our configured limit as we enforce it (capped at the TLS 1.3 maximum)."""
    return None if limit is None else min(limit, TLS13_MAXIMUM)


def own12(limit: int) -> int:
    """Our configured limit as a TLS 1.2 endpoint announces and enforces it (at most 2^14, RFC 8449 section 4)."""
    return min(limit, TLS12_MAXIMUM)


def tls12(peer: int, ours: int | None) -> SetRecordSizeLimit:
    """The instruction for a TLS 1.2 connection: the peer's limit (decoded; larger values mean 2^14 here) and ours,
    each counted as the record layer counts (one byte more than the TLS 1.2 plaintext)."""
    return SetRecordSizeLimit(min(peer, TLS12_MAXIMUM) + 1, None if ours is None else own12(ours) + 1)


__all__ = ["MINIMUM", "TLS12_MAXIMUM", "TLS13_MAXIMUM", "SetRecordSizeLimit", "decode", "encode", "own", "own12",
           "tls12"]
