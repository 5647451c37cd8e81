"""A throwaway PKI for the cases: one root CA, a server certificate and a client certificate.

Keys are ECDSA P-256 (fast to make, understood by every stack); a second server certificate with an RSA-2048 key
serves the TLS 1.2 ECDHE-RSA cipher suites. The files are written once per process into a
temporary directory, so adapters that only load from files (pyOpenSSL, stdlib ssl, libssl) can use them.
"""

from __future__ import annotations

import atexit
import datetime
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["SERVER_NAME", "TestPKI", "chained_pki", "default_pki"]

SERVER_NAME = "server.test"


@dataclass(frozen=True)
class Identity:
    cert_pem: bytes
    key_pem: bytes
    cert_path: Path
    key_path: Path
    # the certificate file also holds the intermediate CA that issued it (load with a chain-file call, e.g.
    # SSL_CTX_use_certificate_chain_file, so that the server sends both)
    chain: bool = False


@dataclass(frozen=True)
class TestPKI:
    __test__ = False  # not a pytest test class

    ca_pem: bytes
    ca_path: Path
    server: Identity
    client: Identity
    other_ca_path: Path  # a CA that signed nothing here: verifying against it must fail
    server_rsa: Identity  # the same name as ``server``, with an RSA key (TLS 1.2 ECDHE-RSA suites)
    server_expired: Identity  # the same name and CA as ``server``, valid until yesterday

    def server_identity(self, key: str) -> Identity:
        """The server certificate with an ``"ecdsa"`` (P-256) or ``"rsa"`` key."""
        return self.server_rsa if key == "rsa" else self.server


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _ca(common_name: str, now: datetime.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, name: str, usage: x509.ObjectIdentifier,
    now: datetime.datetime, *, rsa_key: bool = False, expired: bool = False,
) -> tuple[ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, x509.Certificate]:
    not_before, not_after = (now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)) if expired else (
        now - datetime.timedelta(days=1), now + datetime.timedelta(days=365))
    key = rsa.generate_private_key(65537, 2048) if rsa_key else ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, rsa_key, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _write(
    directory: Path, stem: str, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, cert: x509.Certificate,
    *intermediates: x509.Certificate,
) -> Identity:
    cert_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (cert, *intermediates))
    key_pem = _key_pem(key)
    cert_path = directory / f"{stem}.crt"
    key_path = directory / f"{stem}.key"
    cert_path.write_bytes(cert_pem)
    key_path.write_bytes(key_pem)
    return Identity(cert_pem, key_pem, cert_path, key_path, chain=bool(intermediates))


def _intermediate(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, common_name: str,
                  now: datetime.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A CA certificate ``ca_cert`` issued (no path length limit)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


@cache
def default_pki() -> TestPKI:
    """The process-wide PKI (made on first use)."""
    return _pki("conformance-pki-", chained=False)


@cache
def chained_pki() -> TestPKI:
    """A PKI like :func:`default_pki` whose server certificate (ECDSA) was issued by an intermediate CA that the
    root issued: its certificate file holds the server certificate, then the intermediate (``Identity.chain``), so a
    server sends both and a client trusting the root verifies a chain with one CA between the two."""
    return _pki("conformance-chained-pki-", chained=True)


def _pki(prefix: str, *, chained: bool) -> TestPKI:
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key, ca_cert = _ca("Conformance Test Root", now)
    _, other_ca = _ca("Unrelated Root", now)
    if chained:
        mid_key, mid_cert = _intermediate(ca_key, ca_cert, "Conformance Test Intermediate", now)
        server = _write(directory, "server", *_leaf(mid_key, mid_cert, SERVER_NAME, ExtendedKeyUsageOID.SERVER_AUTH,
                                                    now), mid_cert)
    else:
        server = _write(directory, "server", *_leaf(ca_key, ca_cert, SERVER_NAME, ExtendedKeyUsageOID.SERVER_AUTH,
                                                    now))
    client = _write(directory, "client", *_leaf(ca_key, ca_cert, "client.test", ExtendedKeyUsageOID.CLIENT_AUTH, now))
    rsa_leaf = _leaf(ca_key, ca_cert, SERVER_NAME, ExtendedKeyUsageOID.SERVER_AUTH, now, rsa_key=True)
    server_rsa = _write(directory, "server-rsa", *rsa_leaf)
    expired = _leaf(ca_key, ca_cert, SERVER_NAME, ExtendedKeyUsageOID.SERVER_AUTH, now, expired=True)
    server_expired = _write(directory, "server-expired", *expired)
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    ca_path = directory / "ca.crt"
    ca_path.write_bytes(ca_pem)
    other_path = directory / "other-ca.crt"
    other_path.write_bytes(other_ca.public_bytes(serialization.Encoding.PEM))
    return TestPKI(ca_pem, ca_path, server, client, other_path, server_rsa, server_expired)
