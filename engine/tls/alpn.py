"""Application-Layer Protocol Negotiation (RFC 7301): the extension codec and the server's choice.

Two byte forms of a protocol list, both built from ``opaque ProtocolName<1..2^8-1>`` entries:

* the **extension body** (RFC 7301 section 3.1), ``ProtocolName protocol_name_list<2..2^16-1>``: a 2-byte length,
  then the entries. The client sends one or more names; the server answers with exactly one.
* the **bare list**: the same entries without the 2-byte length, the form in which applications usually hand their
  protocol list to a TLS library's configuration.

Errors follow where the bytes came from: a malformed list from the peer is :class:`TLSAlertError` (decode_error;
a server answer naming a protocol the client never offered is illegal_parameter), while a bad list from the local
configuration is :class:`ValueError`, since no alert goes on the wire for our own mistake. :func:`negotiate` is the
server's rule of RFC 7301 section 3.2: the first protocol in the *server's* preference order that the client
offered, or a fatal no_application_protocol alert when there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .alerts import AlertDescription, TLSAlertError, decode_error
from .wire import Reader, opaque8, opaque16

MAX_NAME_LEN = 255
MAX_LIST_LEN = (1 << 16) - 1


def _check_names(protocols: Sequence[bytes]) -> None:
    if not protocols:
        raise ValueError("an ALPN protocol list needs at least one protocol")
    for p in protocols:
        if not isinstance(p, bytes | bytearray):
            raise ValueError(f"ALPN protocol names are bytes, not {type(p).__name__}")
        if not 1 <= len(p) <= MAX_NAME_LEN:
            raise ValueError(f"ALPN protocol name of {len(p)} bytes (1 to 255 allowed)")


def encode_protocol_names(protocols: Sequence[bytes]) -> bytes:
    """The bare list: each name with its 1-byte length, concatenated. ValueError for an invalid name or list."""
    _check_names(protocols)
    out = b"".join(opaque8(bytes(p)) for p in protocols)
    if len(out) > MAX_LIST_LEN:
        raise ValueError("ALPN protocol list longer than 65535 bytes")
    return out


def parse_protocol_names(data: bytes) -> list[bytes]:
    """The names in a bare list (local configuration): ValueError if it is empty, truncated or has an empty name."""
    names: list[bytes] = []
    pos = 0
    while pos < len(data):
        n = data[pos]
        if n == 0 or pos + 1 + n > len(data):
            raise ValueError("malformed ALPN protocol list")
        names.append(bytes(data[pos + 1 : pos + 1 + n]))
        pos += 1 + n
    if not names:
        raise ValueError("empty ALPN protocol list")
    return names


def encode_extension(protocols: Sequence[bytes]) -> bytes:
    """The extension body for ``protocols`` (a client's offer, or a server's single choice as a 1-element list)."""
    return opaque16(encode_protocol_names(protocols))


def _parse_list(body: bytes) -> list[bytes]:
    r = Reader(body)
    names = r.vector(2, lambda s: s.opaque(1, 1), minimum=2)
    r.done()
    return names


def decode_client_extension(body: bytes) -> list[bytes]:
    """The protocols a ClientHello offers, in the client's order. decode_error if the body is malformed."""
    return _parse_list(body)


def decode_server_extension(body: bytes, offered: Iterable[bytes] | None = None) -> bytes:
    """The one protocol a server selected (RFC 7301 section 3.1).

    decode_error if the body is malformed or names other than exactly one protocol; with ``offered`` (what this
    client sent), illegal_parameter if the server picked something else.
    """
    names = _parse_list(body)
    if len(names) != 1:
        raise decode_error(f"the server's ALPN extension names {len(names)} protocols, not one")
    chosen = names[0]
    if offered is not None and chosen not in set(offered):
        raise TLSAlertError(AlertDescription.illegal_parameter, "server selected an ALPN protocol we did not offer")
    return chosen


def select(server_preference: Sequence[bytes], client_offer: Sequence[bytes]) -> bytes | None:
    """The first protocol in the server's preference order that the client offered, or None."""
    offered = set(client_offer)
    return next((p for p in server_preference if p in offered), None)


def negotiate(server_preference: Sequence[bytes], client_offer: Sequence[bytes]) -> bytes:
    """:func:`select`, with RFC 7301 section 3.2's fatal no_application_protocol alert when nothing matches."""
    chosen = select(server_preference, client_offer)
    if chosen is None:
        raise TLSAlertError(AlertDescription.no_application_protocol, "no ALPN protocol in common")
    return chosen


AlpnSelector = Callable[[list[bytes]], "bytes | None"]
"""The application's choice (a server's select callback): the client's offer in its order -> the protocol to
answer, or None to answer without ALPN; it raises :class:`TLSAlertError` to end the handshake (RFC 7301 section 3.2:
no_application_protocol)."""


def server_choice(
    body: bytes | None, preference: Sequence[bytes], selector: AlpnSelector | None = None
) -> bytes | None:
    """What a server answers to a ClientHello's ALPN extension ``body`` (None: the client sent none).

    With ``selector`` the application decides; else :func:`negotiate` over ``preference`` (no preference: no
    answer, the server ignores the extension, RFC 7301 section 3.2)."""
    if body is None:
        return None
    offered = decode_client_extension(body)
    if selector is not None:
        chosen = selector(offered)
        if chosen is not None and not 1 <= len(chosen) <= MAX_NAME_LEN:
            raise TLSAlertError(AlertDescription.internal_error, "ALPN callback chose an invalid protocol name")
        return chosen
    if not preference:
        return None
    return negotiate(preference, offered)
