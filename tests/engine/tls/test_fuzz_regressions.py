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
