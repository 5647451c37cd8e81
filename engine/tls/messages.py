"""Handshake message and extension codecs (RFC 9846 section 4, appendix B.3).

Every structure has a parse function that takes exactly its bytes and a build function that gives them back; for any
input that parses, ``build(parse(b)) == b``. Extensions stay as an ordered list of ``(type, opaque body)`` pairs, so
unknown ones survive untouched and order is preserved; the typed helpers below decode or encode one body.
Length-prefixed vectors must be consumed exactly: short, long or trailing bytes raise decode_error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar, Protocol

from .alerts import decode_error, illegal_parameter
from .wire import Reader, opaque8, opaque16, opaque24, pack_u16s, u8, u16, u24, u32

TLS13 = 0x0304
TLS12 = 0x0303

# RFC 9846 section 4.2.3: SHA-256("HelloRetryRequest")
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


class HandshakeType(IntEnum):
    hello_request = 0  # TLS 1.2 (RFC 5246 section 7.4)
    client_hello = 1
    server_hello = 2
    new_session_ticket = 4
    end_of_early_data = 5
    encrypted_extensions = 8
    certificate = 11
    server_key_exchange = 12  # TLS 1.2
    certificate_request = 13
    server_hello_done = 14  # TLS 1.2
    certificate_verify = 15
    client_key_exchange = 16  # TLS 1.2
    finished = 20
    key_update = 24
    message_hash = 254


class ExtensionType(IntEnum):
    server_name = 0
    max_fragment_length = 1
    status_request = 5
    supported_groups = 10
    ec_point_formats = 11
    signature_algorithms = 13
    use_srtp = 14
    heartbeat = 15
    application_layer_protocol_negotiation = 16
    signed_certificate_timestamp = 18
    client_certificate_type = 19
    server_certificate_type = 20
    padding = 21
    encrypt_then_mac = 22
    extended_main_secret = 23
    record_size_limit = 28
    session_ticket = 35
    pre_shared_key = 41
    early_data = 42
    supported_versions = 43
    cookie = 44
    psk_key_exchange_modes = 45
    certificate_authorities = 47
    oid_filters = 48
    post_handshake_auth = 49
    signature_algorithms_cert = 50
    key_share = 51
    renegotiation_info = 0xFF01


Extension = tuple[int, bytes]


# ---------------------------------------------------------------------------------------------------------------
# Extension blocks


def pull_extensions(r: Reader) -> list[Extension]:
    """``Extension extensions<0..2^16-1>``; a repeated type is illegal_parameter (RFC 9846 section 4.3)."""
    exts = r.extension_list()
    if len(exts) > 1 and len({etype for etype, _ in exts}) != len(exts):
        seen: set[int] = set()
        for etype, _ in exts:
            if etype in seen:
                raise illegal_parameter(f"duplicate extension {etype}")
            seen.add(etype)
    return exts


def push_extensions(exts: list[Extension]) -> bytes:
    return opaque16(b"".join(u16(t) + opaque16(d) for t, d in exts))


def find_extension(exts: list[Extension], etype: int) -> bytes | None:
    for t, d in exts:
        if t == etype:
            return d
    return None


# ---------------------------------------------------------------------------------------------------------------
# Messages


@dataclass(slots=True)
class ClientHello:
    handshake_type: ClassVar[int] = HandshakeType.client_hello
    random: bytes
    legacy_session_id: bytes = b""
    cipher_suites: list[int] = field(default_factory=list)
    legacy_compression_methods: bytes = b"\x00"
    extensions: list[Extension] = field(default_factory=list)
    legacy_version: int = TLS12

    @classmethod
    def parse(cls, body: bytes) -> ClientHello:
        r = Reader(body)
        version = r.uint16()
        random = r.raw(32)
        sid = r.opaque(1, 0, 32)
        suites = r.uint16_vector(2, minimum=2)
        comp = r.opaque(1, 1)
        # RFC 9846 section 4.2.2: extensions may be absent only in pre-TLS 1.2 hellos; keep that distinction loose.
        exts = pull_extensions(r) if not r.eof() else []
        r.done()
        return cls(random, sid, suites, comp, exts, version)

    def build_body(self) -> bytes:
        return b"".join(
            (
                u16(self.legacy_version),
                self.random,
                opaque8(self.legacy_session_id),
                opaque16(b"".join(u16(s) for s in self.cipher_suites)),
                opaque8(self.legacy_compression_methods),
                push_extensions(self.extensions),
            )
        )


@dataclass(slots=True)
class ServerHello:
    """ServerHello, and HelloRetryRequest when ``random == HRR_RANDOM`` (RFC 9846 section 4.2.4)."""

    handshake_type: ClassVar[int] = HandshakeType.server_hello
    random: bytes
    legacy_session_id_echo: bytes = b""
    cipher_suite: int = 0
    legacy_compression_method: int = 0
    extensions: list[Extension] = field(default_factory=list)
    legacy_version: int = TLS12

    @property
    def is_hello_retry_request(self) -> bool:
        return self.random == HRR_RANDOM

    @classmethod
    def parse(cls, body: bytes) -> ServerHello:
        r = Reader(body)
        version = r.uint16()
        random = r.raw(32)
        sid = r.opaque(1, 0, 32)
        suite = r.uint16()
        comp = r.uint8()
        exts = pull_extensions(r)
        r.done()
        return cls(random, sid, suite, comp, exts, version)

    def build_body(self) -> bytes:
        return b"".join(
            (
                u16(self.legacy_version),
                self.random,
                opaque8(self.legacy_session_id_echo),
                u16(self.cipher_suite),
                u8(self.legacy_compression_method),
                push_extensions(self.extensions),
            )
        )


def HelloRetryRequest(legacy_session_id_echo: bytes, cipher_suite: int, extensions: list[Extension]) -> ServerHello:
    """A HelloRetryRequest: a ServerHello with the special random (RFC 9846 section 4.2.4)."""
    return ServerHello(HRR_RANDOM, legacy_session_id_echo, cipher_suite, 0, extensions)


@dataclass(slots=True)
class EncryptedExtensions:
    handshake_type: ClassVar[int] = HandshakeType.encrypted_extensions
    extensions: list[Extension] = field(default_factory=list)

    @classmethod
    def parse(cls, body: bytes) -> EncryptedExtensions:
        r = Reader(body)
        exts = pull_extensions(r)
        r.done()
        return cls(exts)

    def build_body(self) -> bytes:
        return push_extensions(self.extensions)


@dataclass(slots=True)
class CertificateEntry:
    cert_data: bytes
    extensions: list[Extension] = field(default_factory=list)


def _pull_cert_entry(r: Reader) -> CertificateEntry:
    data = r.opaque(3, 1)
    return CertificateEntry(data, pull_extensions(r))


@dataclass(slots=True)
class Certificate:
    handshake_type: ClassVar[int] = HandshakeType.certificate
    certificate_request_context: bytes = b""
    certificate_list: list[CertificateEntry] = field(default_factory=list)

    @classmethod
    def parse(cls, body: bytes) -> Certificate:
        r = Reader(body)
        ctx = r.opaque(1)
        entries = r.vector(3, _pull_cert_entry)
        r.done()
        return cls(ctx, entries)

    def build_body(self) -> bytes:
        entries = b"".join(opaque24(e.cert_data) + push_extensions(e.extensions) for e in self.certificate_list)
        return opaque8(self.certificate_request_context) + opaque24(entries)


@dataclass(slots=True)
class CertificateRequest:
    handshake_type: ClassVar[int] = HandshakeType.certificate_request
    certificate_request_context: bytes = b""
    extensions: list[Extension] = field(default_factory=list)

    @classmethod
    def parse(cls, body: bytes) -> CertificateRequest:
        r = Reader(body)
        ctx = r.opaque(1)
        exts = pull_extensions(r)
        r.done()
        return cls(ctx, exts)

    def build_body(self) -> bytes:
        return opaque8(self.certificate_request_context) + push_extensions(self.extensions)


@dataclass(slots=True)
class CertificateVerify:
    handshake_type: ClassVar[int] = HandshakeType.certificate_verify
    algorithm: int
    signature: bytes

    @classmethod
    def parse(cls, body: bytes) -> CertificateVerify:
        r = Reader(body)
        alg = r.uint16()
        sig = r.opaque(2)
        r.done()
        return cls(alg, sig)

    def build_body(self) -> bytes:
        return u16(self.algorithm) + opaque16(self.signature)


@dataclass(slots=True)
class Finished:
    handshake_type: ClassVar[int] = HandshakeType.finished
    verify_data: bytes

    @classmethod
    def parse(cls, body: bytes) -> Finished:
        return cls(bytes(body))

    def build_body(self) -> bytes:
        return self.verify_data


@dataclass(slots=True)
class NewSessionTicket:
    handshake_type: ClassVar[int] = HandshakeType.new_session_ticket
    ticket_lifetime: int
    ticket_age_add: int
    ticket_nonce: bytes
    ticket: bytes
    extensions: list[Extension] = field(default_factory=list)

    @classmethod
    def parse(cls, body: bytes) -> NewSessionTicket:
        r = Reader(body)
        lifetime = r.uint32()
        age_add = r.uint32()
        nonce = r.opaque(1)
        ticket = r.opaque(2, 1)
        exts = pull_extensions(r)
        r.done()
        return cls(lifetime, age_add, nonce, ticket, exts)

    def build_body(self) -> bytes:
        return (
            u32(self.ticket_lifetime)
            + u32(self.ticket_age_add)
            + opaque8(self.ticket_nonce)
            + opaque16(self.ticket)
            + push_extensions(self.extensions)
        )


@dataclass(slots=True)
class KeyUpdate:
    handshake_type: ClassVar[int] = HandshakeType.key_update
    request_update: bool

    @classmethod
    def parse(cls, body: bytes) -> KeyUpdate:
        r = Reader(body)
        value = r.uint8()
        r.done()
        if value not in (0, 1):
            # RFC 9846 section 4.7.3: any other value is illegal_parameter
            raise illegal_parameter(f"KeyUpdate request_update {value}")
        return cls(bool(value))

    def build_body(self) -> bytes:
        return b"\x01" if self.request_update else b"\x00"


@dataclass(slots=True)
class EndOfEarlyData:
    handshake_type: ClassVar[int] = HandshakeType.end_of_early_data

    @classmethod
    def parse(cls, body: bytes) -> EndOfEarlyData:
        Reader(body).done()
        return cls()

    def build_body(self) -> bytes:
        return b""


Message = (
    ClientHello
    | ServerHello
    | EncryptedExtensions
    | Certificate
    | CertificateRequest
    | CertificateVerify
    | Finished
    | NewSessionTicket
    | KeyUpdate
    | EndOfEarlyData
)

_PARSERS: dict[int, type[Message]] = {
    cls.handshake_type: cls
    for cls in (
        ClientHello,
        ServerHello,
        EncryptedExtensions,
        Certificate,
        CertificateRequest,
        CertificateVerify,
        Finished,
        NewSessionTicket,
        KeyUpdate,
        EndOfEarlyData,
    )
}


class HandshakeBody(Protocol):
    """Any handshake message codec (also the TLS 1.2 ones of ``messages12``)."""

    handshake_type: ClassVar[int]

    def build_body(self) -> bytes: ...


def build_handshake(msg: Message | HandshakeBody) -> bytes:
    """The full handshake message: type, uint24 length, body (RFC 9846 section 4)."""
    body = msg.build_body()
    return u8(msg.handshake_type) + u24(len(body)) + body


def parse_body(msg_type: int, body: bytes) -> Message:
    cls = _PARSERS.get(msg_type)
    if cls is None:
        # RFC 9846 section 4: an unknown handshake type is unexpected_message
        from .alerts import unexpected_message

        raise unexpected_message(f"unknown handshake type {msg_type}")
    return cls.parse(body)


def parse_handshake(data: bytes) -> Message:
    """Parse exactly one complete handshake message including its 4-byte header."""
    r = Reader(data)
    msg_type = r.uint8()
    body = r.opaque(3)
    r.done()
    return parse_body(msg_type, body)


# ---------------------------------------------------------------------------------------------------------------
# Extension bodies


def parse_u16_list(data: bytes, prefix: int = 2, minimum: int = 2) -> list[int]:
    r = Reader(data)
    out = r.uint16_vector(prefix, minimum=minimum)
    r.done()
    return out


def build_u16_list(values: list[int] | tuple[int, ...], prefix: int = 2) -> bytes:
    body = pack_u16s(values)
    return (opaque8 if prefix == 1 else opaque16)(body)


# supported_versions (RFC 9846 section 4.3.1)
def parse_supported_versions_ch(data: bytes) -> list[int]:
    return parse_u16_list(data, prefix=1, minimum=2)


def build_supported_versions_ch(versions: list[int] | tuple[int, ...]) -> bytes:
    return build_u16_list(versions, prefix=1)


def parse_supported_versions_sh(data: bytes) -> int:
    r = Reader(data)
    v = r.uint16()
    r.done()
    return v


def build_supported_versions_sh(version: int) -> bytes:
    return u16(version)


# supported_groups, signature_algorithms, signature_algorithms_cert (sections 4.3.7, 4.3.3)
parse_named_group_list = parse_u16_list
build_named_group_list = build_u16_list
parse_signature_schemes = parse_u16_list
build_signature_schemes = build_u16_list


@dataclass(slots=True, frozen=True)
class KeyShareEntry:
    group: int
    key_exchange: bytes


def _pull_key_share(r: Reader) -> KeyShareEntry:
    group = r.uint16()
    return KeyShareEntry(group, r.opaque(2, 1))


def _push_key_share(e: KeyShareEntry) -> bytes:
    return u16(e.group) + opaque16(e.key_exchange)


# key_share (section 4.3.8)
def parse_key_share_ch(data: bytes) -> list[KeyShareEntry]:
    r = Reader(data)
    out = r.vector(2, _pull_key_share)
    r.done()
    return out


def build_key_share_ch(entries: list[KeyShareEntry]) -> bytes:
    return opaque16(b"".join(_push_key_share(e) for e in entries))


def parse_key_share_sh(data: bytes) -> KeyShareEntry:
    r = Reader(data)
    e = _pull_key_share(r)
    r.done()
    return e


def build_key_share_sh(entry: KeyShareEntry) -> bytes:
    return _push_key_share(entry)


def parse_key_share_hrr(data: bytes) -> int:
    r = Reader(data)
    g = r.uint16()
    r.done()
    return g


def build_key_share_hrr(group: int) -> bytes:
    return u16(group)


# server_name (RFC 6066 section 3)
def parse_server_name(data: bytes) -> str | None:
    """The host_name from a ClientHello server_name extension (None if no host_name entry)."""
    r = Reader(data)
    host: str | None = None
    with r.block(2, minimum=1) as names:
        while not names.eof():
            name_type = names.uint8()
            name = names.opaque(2, 1)
            if name_type == 0:
                if host is not None:
                    raise illegal_parameter("two host_name entries")
                try:
                    host = name.decode("ascii")
                except UnicodeDecodeError as exc:
                    raise decode_error("non-ASCII host_name") from exc
    r.done()
    return host


def build_server_name(host: str) -> bytes:
    return opaque16(u8(0) + opaque16(host.encode("ascii")))


# application_layer_protocol_negotiation (RFC 7301 section 3.1)
def parse_alpn(data: bytes) -> list[bytes]:
    r = Reader(data)
    out = r.vector(2, lambda s: s.opaque(1, 1), minimum=2)
    r.done()
    return out


def build_alpn(protocols: list[bytes] | tuple[bytes, ...]) -> bytes:
    return opaque16(b"".join(opaque8(p) for p in protocols))


# cookie (section 4.3.2)
def parse_cookie(data: bytes) -> bytes:
    r = Reader(data)
    c = r.opaque(2, 1)
    r.done()
    return c


def build_cookie(cookie: bytes) -> bytes:
    return opaque16(cookie)


# psk_key_exchange_modes (section 4.3.9)
def parse_psk_key_exchange_modes(data: bytes) -> list[int]:
    r = Reader(data)
    out = r.vector(1, Reader.uint8, minimum=1)
    r.done()
    return out


def build_psk_key_exchange_modes(modes: list[int] | tuple[int, ...]) -> bytes:
    return opaque8(bytes(modes))


# early_data in NewSessionTicket (section 4.3.10)
def parse_early_data_nst(data: bytes) -> int:
    r = Reader(data)
    v = r.uint32()
    r.done()
    return v


# certificate_authorities (section 4.3.4)
def parse_certificate_authorities(data: bytes) -> list[bytes]:
    r = Reader(data)
    out = r.vector(2, lambda s: s.opaque(2, 1), minimum=3)
    r.done()
    return out


def certificate_authorities(names: tuple[bytes, ...] | list[bytes]) -> list[Extension]:
    """The certificate_authorities extension listing ``names`` (DER distinguished names), or none for no names."""
    if not names:
        return []
    return [(ExtensionType.certificate_authorities, opaque16(b"".join(opaque16(n) for n in names)))]
