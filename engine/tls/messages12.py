"""TLS 1.2 handshake message codecs (RFC 5246 section 7.4, RFC 8422 section 5 for ECDHE, RFC 5746, RFC 7627).

The hellos, CertificateVerify and Finished share their codecs with TLS 1.3 (``messages``); this module holds the
messages only TLS 1.2 has, or whose layout differs: HelloRequest, Certificate (no request context, no per-entry
extensions), ServerKeyExchange for ECDHE, CertificateRequest, ServerHelloDone and ClientKeyExchange. As in
``messages``, every parse consumes its bytes exactly (decode_error otherwise) and ``build(parse(b)) == b``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .alerts import decode_error, illegal_parameter
from .messages import HandshakeType
from .wire import Reader, opaque8, opaque16, opaque24, u8, u16

NAMED_CURVE = 3  # ECCurveType.named_curve (RFC 8422 section 5.4); explicit curves are deprecated and refused
UNCOMPRESSED = 0  # ECPointFormat.uncompressed (RFC 8422 section 5.1.2)
DOWNGRADE_TLS12 = b"DOWNGRD\x01"  # RFC 9846 section 4.1.3: last 8 bytes of a 1.3-capable server's 1.2 random
TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF  # RFC 5746 section 3.3
TLS_FALLBACK_SCSV = 0x5600  # RFC 7507 section 2

# ClientCertificateType (RFC 5246 section 7.4.4, RFC 8422 section 5.5)
RSA_SIGN = 1
ECDSA_SIGN = 64


@dataclass(slots=True)
class HelloRequest:
    handshake_type: ClassVar[int] = HandshakeType.hello_request

    @classmethod
    def parse(cls, body: bytes) -> HelloRequest:
        Reader(body).done()
        return cls()

    def build_body(self) -> bytes:
        return b""


@dataclass(slots=True)
class Certificate12:
    handshake_type: ClassVar[int] = HandshakeType.certificate
    certificate_list: list[bytes] = field(default_factory=list)

    @classmethod
    def parse(cls, body: bytes) -> Certificate12:
        r = Reader(body)
        certs = r.vector(3, lambda s: s.opaque(3, 1))
        r.done()
        return cls(certs)

    def build_body(self) -> bytes:
        return opaque24(b"".join(opaque24(c) for c in self.certificate_list))


@dataclass(slots=True)
class ServerKeyExchangeECDHE:
    """ServerECDHParams plus the signature over ``client_random + server_random + params`` (RFC 8422 5.4)."""

    handshake_type: ClassVar[int] = HandshakeType.server_key_exchange
    named_curve: int
    public: bytes
    algorithm: int
    signature: bytes

    @property
    def params(self) -> bytes:
        return u8(NAMED_CURVE) + u16(self.named_curve) + opaque8(self.public)

    @classmethod
    def parse(cls, body: bytes) -> ServerKeyExchangeECDHE:
        r = Reader(body)
        curve_type = r.uint8()
        if curve_type != NAMED_CURVE:
            raise illegal_parameter("ServerKeyExchange: only named curves are allowed")
        curve = r.uint16()
        public = r.opaque(1, 1)
        algorithm = r.uint16()
        signature = r.opaque(2)
        r.done()
        return cls(curve, public, algorithm, signature)

    def build_body(self) -> bytes:
        return self.params + u16(self.algorithm) + opaque16(self.signature)


@dataclass(slots=True)
class CertificateRequest12:
    handshake_type: ClassVar[int] = HandshakeType.certificate_request
    certificate_types: bytes
    signature_algorithms: list[int]
    certificate_authorities: list[bytes] = field(default_factory=list)

    @classmethod
    def parse(cls, body: bytes) -> CertificateRequest12:
        r = Reader(body)
        types = r.opaque(1, 1)
        algorithms = r.uint16_vector(2, minimum=2)
        cas = r.vector(2, lambda s: s.opaque(2, 1))
        r.done()
        return cls(types, algorithms, cas)

    def build_body(self) -> bytes:
        return (
            opaque8(self.certificate_types)
            + opaque16(b"".join(u16(a) for a in self.signature_algorithms))
            + opaque16(b"".join(opaque16(c) for c in self.certificate_authorities))
        )


@dataclass(slots=True)
class ServerHelloDone:
    handshake_type: ClassVar[int] = HandshakeType.server_hello_done

    @classmethod
    def parse(cls, body: bytes) -> ServerHelloDone:
        Reader(body).done()
        return cls()

    def build_body(self) -> bytes:
        return b""


@dataclass(slots=True)
class ClientKeyExchangeECDHE:
    """ClientECDiffieHellmanPublic with an explicit point (RFC 8422 section 5.7)."""

    handshake_type: ClassVar[int] = HandshakeType.client_key_exchange
    public: bytes

    @classmethod
    def parse(cls, body: bytes) -> ClientKeyExchangeECDHE:
        r = Reader(body)
        public = r.opaque(1, 1)
        r.done()
        return cls(public)

    def build_body(self) -> bytes:
        return opaque8(self.public)


# -- extension bodies -------------------------------------------------------------------------------------------


def parse_renegotiation_info(data: bytes) -> bytes:
    """``opaque renegotiated_connection<0..255>`` (RFC 5746 section 3.2)."""
    r = Reader(data)
    value = r.opaque(1)
    r.done()
    return value


def build_renegotiation_info(value: bytes) -> bytes:
    return opaque8(value)


def parse_ec_point_formats(data: bytes) -> bytes:
    r = Reader(data)
    formats = r.opaque(1, 1)
    r.done()
    return formats


def build_ec_point_formats() -> bytes:
    return opaque8(bytes((UNCOMPRESSED,)))


def parse_empty(data: bytes, name: str) -> None:
    """extended_master_secret and encrypt_then_mac have an empty body (RFC 7627 section 5.1, RFC 7366 section 2)."""
    if data:
        raise decode_error(f"{name} extension must be empty")


__all__ = [
    "DOWNGRADE_TLS12",
    "ECDSA_SIGN",
    "NAMED_CURVE",
    "RSA_SIGN",
    "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
    "TLS_FALLBACK_SCSV",
    "UNCOMPRESSED",
    "Certificate12",
    "CertificateRequest12",
    "ClientKeyExchangeECDHE",
    "HelloRequest",
    "ServerHelloDone",
    "ServerKeyExchangeECDHE",
    "build_ec_point_formats",
    "build_renegotiation_info",
    "parse_ec_point_formats",
    "parse_empty",
    "parse_renegotiation_info",
]
