"""max_fragment_length (RFC 6066 section 4), TLS 1.2 and TLS 1.3: a client asks for smaller records.

* the extension body is one byte, the code of a limit: 1 = 2^9, 2 = 2^10, 3 = 2^11, 4 = 2^12 bytes of plaintext;
  any other value is illegal_parameter at the server;
* a server that accepts the request echoes the same value (TLS 1.2: in its ServerHello; TLS 1.3: in
  EncryptedExtensions); an echo of another value is illegal_parameter at the client;
* once it is negotiated, both sides keep every record they send within the limit (handshake records too, so a
  server applies it right after its echo, a client once it has read it), and a record whose plaintext is larger
  than the limit is record_overflow. The plaintext counts the content only: not the TLS 1.3 content type byte
  or padding (as OpenSSL 3.0 counts).

The limit travels to the record layer as a :class:`SetMaxFragmentLength` instruction, in wire order, like keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from .alerts import decode_error, illegal_parameter

# mode codes (RFC 6066 section 4; OpenSSL's TLSEXT_max_fragment_length_*): 0 is OpenSSL's "disabled", never sent
DISABLED = 0
LIMITS = {1: 512, 2: 1024, 3: 2048, 4: 4096}


@dataclass(frozen=True, slots=True)
class SetMaxFragmentLength:
    """Instruction: records we send and receive from now on carry at most ``limit`` plaintext bytes."""

    limit: int


def valid(mode: int) -> bool:
    """A mode a client may ask for (DISABLED means not asking)."""
    return mode == DISABLED or mode in LIMITS


def encode(mode: int) -> bytes:
    if mode not in LIMITS:
        raise ValueError(f"max_fragment_length mode {mode} outside 1..4")
    return bytes((mode,))


def decode(body: bytes) -> int:
    """The mode a ClientHello asks for: decode_error if malformed, illegal_parameter if not 1..4."""
    if len(body) != 1:
        raise decode_error("max_fragment_length must be one byte")
    if body[0] not in LIMITS:
        raise illegal_parameter(f"max_fragment_length value {body[0]} not 1..4")
    return body[0]


def check_echo(body: bytes, offered: int) -> SetMaxFragmentLength:
    """The server's echo: exactly the value we asked for, else illegal_parameter (RFC 6066 section 4)."""
    if len(body) != 1:
        raise decode_error("max_fragment_length must be one byte")
    if body[0] != offered:
        raise illegal_parameter(f"max_fragment_length echo {body[0]} differs from our request {offered}")
    return SetMaxFragmentLength(LIMITS[offered])


__all__ = ["DISABLED", "LIMITS", "SetMaxFragmentLength", "check_echo", "decode", "encode", "valid"]
