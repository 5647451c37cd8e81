"""record_size_limit (RFC 8449), TLS 1.3: each endpoint says how large a record it is willing to receive.

../shared holds no copy of RFC 8449; this follows its published definition:

* the extension body is one uint16, the largest TLSInnerPlaintext (content, content type byte and padding) the
  sender of the extension accepts; a value below 64 is illegal_parameter. In TLS 1.3 values above 2^14 + 1 are
  allowed (a larger future limit) and mean 2^14 + 1 here;
* a client offers it in its ClientHello; a server that supports it answers in EncryptedExtensions with its own
  limit, and from then on each side keeps the records it sends within the other side's limit (the server from its
  EncryptedExtensions on, as it learned the client's limit first);
* a protected record larger than the limit the receiver announced is record_overflow.

Limits are handed to the record layer as a :class:`SetRecordSizeLimit` instruction, in wire order, like keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from .alerts import decode_error, illegal_parameter
from .record import MAX_PLAINTEXT
from .wire import u16

MINIMUM = 64
TLS13_MAXIMUM = MAX_PLAINTEXT + 1  # the inner plaintext: 2^14 bytes of content and the content type byte


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


__all__ = ["MINIMUM", "TLS13_MAXIMUM", "SetRecordSizeLimit", "decode", "encode", "own"]
