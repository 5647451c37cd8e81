"""Inputs the long fuzz run (tests/engine/tls/test_fuzz.py at ENGINE_FUZZ_EXAMPLES=20000) found, kept as tests."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key

import engine.ssl as ssl
from conformance.certs import SERVER_NAME, default_pki
from engine import err
from engine.ssl import constants as K
from engine.tls import certificates
from engine.tls.alerts import AlertDescription as A
from engine.tls.alerts import TLSAlertError
from engine.tls.config import TLSConfig
from engine.tls.connection import TLSConnection
from engine.tls.misbehave import HelloFault

CERTIFICATE = 11
V3 = bytes.fromhex("a003020102")  # [0] EXPLICIT INTEGER 2: X.509 v3
UNKNOWN_VERSION = bytes.fromhex("a003020103")  # INTEGER 3: a version X.509 does not define


def _der_with_unknown_version() -> bytes:
    der = x509.load_pem_x509_certificate(default_pki().server.cert_pem).public_bytes(Encoding.DER)
    assert der.count(V3) == 1
    return der.replace(V3, UNKNOWN_VERSION)


def test_a_certificate_of_an_unknown_x509_version_is_bad_certificate() -> None:
    """Found at the long budget (test_mutated_tls12_server_flights_to_client): cryptography raises InvalidVersion,
    which is no ValueError, for a certificate whose version is 3, and it escaped the core."""
    with pytest.raises(TLSAlertError) as caught:
        certificates.load_chain([_der_with_unknown_version()])
    assert caught.value.alert == A.bad_certificate


@dataclass
class _UnknownVersionCertificate(HelloFault):
    """The server's Certificate message with its leaf's X.509 version changed to 3 (the sender's transcript covers
    it)."""

    msg_type: int = CERTIFICATE

    def change(self, raw: bytes) -> bytes:
        assert raw.count(V3) >= 1
        return raw.replace(V3, UNKNOWN_VERSION, 1)


@pytest.mark.parametrize("version", [0x0303, 0x0304])
def test_a_server_certificate_of_an_unknown_version_ends_in_bad_certificate(version: int) -> None:
    pki = default_pki()
    key = load_pem_private_key(pki.server.key_pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    roots = [x509.load_pem_x509_certificate(pki.ca_pem)]
    client = TLSConnection(TLSConfig(trusted_roots=roots, server_name=SERVER_NAME, supported_versions=(version,)),
                           "client")
    server = TLSConnection(TLSConfig(certificate_chain=[x509.load_pem_x509_certificate(pki.server.cert_pem)],
                                     private_key=key, supported_versions=(version,)), "server",
                           misbehaviour=_UnknownVersionCertificate())
    with pytest.raises(TLSAlertError) as caught:
        for _ in range(10):
            server.receive_bytes(client.data_to_send())
            client.receive_bytes(server.data_to_send())
    assert caught.value.alert == A.bad_certificate and caught.value.sent_by_us
    assert client.error is caught.value


@pytest.mark.parametrize("filetype", ["asn1", "pem"])
def test_a_certificate_file_of_an_unknown_x509_version_fails_without_an_exception(
        tmp_path: Path, filetype: str) -> None:
    """The same InvalidVersion through the C API: SSL_CTX_use_certificate_file returns 0 with an error entry."""
    der = _der_with_unknown_version()
    path = tmp_path / f"v4.{filetype}"
    if filetype == "asn1":
        path.write_bytes(der)
    else:
        body = base64.encodebytes(der).decode().replace("\n", "")
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        path.write_text("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n")
    ctx = ssl.SSL_CTX_new(ssl.TLS_method())
    err.ERR_clear_error()
    kind = K.SSL_FILETYPE_ASN1 if filetype == "asn1" else K.SSL_FILETYPE_PEM
    assert ssl.SSL_CTX_use_certificate_file(ctx, str(path), kind) == 0
    assert err.ERR_peek_error() != 0
    err.ERR_clear_error()
    ssl.SSL_CTX_free(ctx)


def _tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of the content, end) of the DER element at ``offset`` (definite lengths only)."""
    tag, first = data[offset], data[offset + 1]
    if first < 0x80:
        return tag, offset + 2, offset + 2 + first
    size = first & 0x7F
    length = int.from_bytes(data[offset + 2:offset + 2 + size], "big")
    return tag, offset + 2 + size, offset + 2 + size + length


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = (n.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + n.to_bytes(size, "big") + content


def _children(data: bytes, start: int, end: int) -> list[bytes]:
    out = []
    while start < end:
        _, _, stop = _tlv(data, start)
        out.append(data[start:stop])
        start = stop
    return out


def _der_with_a_duplicate_extension() -> bytes:
    """The server certificate with its basicConstraints extension listed twice (the signature no longer matches,
    which does not matter: the extensions are read before the path is built)."""
    der = x509.load_pem_x509_certificate(default_pki().server.cert_pem).public_bytes(Encoding.DER)
    _, cstart, cend = _tlv(der, 0)
    tbs, *rest = _children(der, cstart, cend)
    _, tstart, tend = _tlv(tbs, 0)
    fields = _children(tbs, tstart, tend)
    _, xstart, _ = _tlv(fields[-1], 0)  # [3] EXPLICIT Extensions
    _, sstart, send = _tlv(fields[-1], xstart)
    extensions = _children(fields[-1], sstart, send)
    basic = next(e for e in extensions if bytes.fromhex("0603551d13") in e)  # OID 2.5.29.19
    fields[-1] = _der(0xA3, _der(0x30, b"".join([*extensions, basic])))
    return _der(0x30, _der(0x30, b"".join(fields)) + b"".join(rest))


@pytest.mark.parametrize("version", [0x0303, 0x0304])
@pytest.mark.parametrize("host", [SERVER_NAME, None])
def test_a_server_certificate_with_a_duplicate_extension_ends_in_bad_certificate(version: int, host: str | None
                                                                                 ) -> None:
    """Found at the long budget on the rerun of test_mutated_tls12_server_flights_to_client: a leaf with a duplicate
    extension made cryptography raise DuplicateExtension, which is no ValueError, out of the chain check (through
    the name taken from the leaf's subjectAltName)."""
    pki = default_pki()
    key = load_pem_private_key(pki.server.key_pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    roots = [x509.load_pem_x509_certificate(pki.ca_pem)]
    client = TLSConnection(TLSConfig(trusted_roots=roots, server_name=SERVER_NAME, verify_host=host,
                                     supported_versions=(version,)), "client")
    leaf = x509.load_der_x509_certificate(_der_with_a_duplicate_extension())
    server = TLSConnection(TLSConfig(certificate_chain=[leaf], private_key=key, supported_versions=(version,)),
                           "server")
    with pytest.raises(TLSAlertError) as caught:
        for _ in range(10):
            server.receive_bytes(client.data_to_send())
            client.receive_bytes(server.data_to_send())
    assert caught.value.sent_by_us and client.error is caught.value
    assert caught.value.alert == A.bad_certificate
