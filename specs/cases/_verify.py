"""Helpers for the verification cases: a two-level PKI (a root, an intermediate CA and a server certificate it
issued), contexts built from files the case chooses, and one handshake driver that says who failed and how."""

from __future__ import annotations

import atexit
import datetime
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conformance.capi import constants as K
from conformance.certs import SERVER_NAME, default_pki
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from specs.cases._ssl_objects import WANT, Mem, error, move

__all__ = ["Chained", "Failure", "chained_pki", "client_ctx", "drive", "long_chain", "server_ctx"]


@dataclass(frozen=True)
class Chained:
    root_path: Path  # the trust anchor
    chain_path: Path  # the server certificate, then the intermediate that issued it
    key_path: Path


def _cert(subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey,
          now: datetime.datetime, *, ca: bool) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    else:
        builder = (
            builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
    if signer is not key:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
    return builder.sign(signer, hashes.SHA256())


@cache
def chained_pki() -> Chained:
    """Root -> "Conformance Intermediate" -> server.test, written once per process."""
    directory = Path(tempfile.mkdtemp(prefix="conformance-chain-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    now = datetime.datetime.now(datetime.UTC)
    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Conformance Chain Root")])
    root = _cert("Conformance Chain Root", root_name, root_key, root_key, now, ca=True)
    mid = _cert("Conformance Intermediate", root.subject, mid_key, root_key, now, ca=True)
    leaf = _cert(SERVER_NAME, mid.subject, leaf_key, mid_key, now, ca=False)
    pem = serialization.Encoding.PEM
    (directory / "root.crt").write_bytes(root.public_bytes(pem))
    (directory / "chain.crt").write_bytes(leaf.public_bytes(pem) + mid.public_bytes(pem))
    (directory / "leaf.key").write_bytes(leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return Chained(directory / "root.crt", directory / "chain.crt", directory / "leaf.key")


@cache
def long_chain(intermediates: int) -> Chained:
    """Root -> ``intermediates`` CAs, each issuing the next -> server.test (the chain file holds the server
    certificate and every intermediate, nearest first), written once per process and length."""
    directory = Path(tempfile.mkdtemp(prefix=f"conformance-chain{intermediates}-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Conformance Long Chain Root")])
    root = _cert("Conformance Long Chain Root", root_name, root_key, root_key, now, ca=True)
    issuer, issuer_key, cas = root, root_key, []
    for level in range(intermediates):
        key = ec.generate_private_key(ec.SECP256R1())
        issuer = _cert(f"Conformance Intermediate {level + 1}", issuer.subject, key, issuer_key, now, ca=True)
        issuer_key = key
        cas.append(issuer)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(SERVER_NAME, issuer.subject, leaf_key, issuer_key, now, ca=False)
    pem = serialization.Encoding.PEM
    (directory / "root.crt").write_bytes(root.public_bytes(pem))
    (directory / "chain.crt").write_bytes(b"".join(c.public_bytes(pem) for c in [leaf, *reversed(cas)]))
    (directory / "leaf.key").write_bytes(leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return Chained(directory / "root.crt", directory / "chain.crt", directory / "leaf.key")


def client_ctx(h: Harness, ca: Path | None = None) -> Any:
    """A client context trusting ``ca`` (default: the test CA), with no verification flags set yet."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_client_method())
    assert ctx is not None, "SSL_CTX_new failed"
    path = ca if ca is not None else default_pki().ca_path
    assert api.SSL_CTX_load_verify_locations(ctx, str(path).encode(), None) == 1, "load_verify_locations failed"
    return ctx


def server_ctx(h: Harness, *, chain: Path | None = None, key: Path | None = None, ca: Path | None = None) -> Any:
    """A server context with the test server certificate (or ``chain`` and ``key``), trusting ``ca`` (default: the
    test CA) for client certificates."""
    api = h.capi
    pki = default_pki()
    ctx = api.SSL_CTX_new(api.TLS_server_method())
    assert ctx is not None, "SSL_CTX_new failed"
    if chain is not None and key is not None:
        assert api.SSL_CTX_use_certificate_chain_file(ctx, str(chain).encode()) == 1, "chain file refused"
        assert api.SSL_CTX_use_PrivateKey_file(ctx, str(key).encode(), K.SSL_FILETYPE_PEM) == 1, "key refused"
    else:
        assert api.SSL_CTX_use_certificate_file(ctx, str(pki.server.cert_path).encode(), K.SSL_FILETYPE_PEM) == 1
        assert api.SSL_CTX_use_PrivateKey_file(ctx, str(pki.server.key_path).encode(), K.SSL_FILETYPE_PEM) == 1
    path = ca if ca is not None else pki.ca_path
    assert api.SSL_CTX_load_verify_locations(ctx, str(path).encode(), None) == 1, "load_verify_locations failed"
    return ctx


@dataclass(frozen=True)
class Failure:
    side: Role
    ret: int
    code: SslError | int

    def __str__(self) -> str:
        return f"{self.side.value} failed: {self.ret}, SSL_get_error {self.code}"


def drive(h: Harness, client: Mem, server: Mem, rounds: int = 100) -> Failure | None:
    """SSL_do_handshake on both, moving bytes, until both complete (None) or one fails for good (that one)."""
    api = h.capi
    done = {Role.CLIENT: False, Role.SERVER: False}
    for _ in range(rounds):
        for side in (client, server):
            if done[side.role]:
                continue
            api.ERR_clear_error()
            ret = api.SSL_do_handshake(side.ssl)
            if ret == 1:
                done[side.role] = True
                continue
            code = error(api, side.ssl, ret)
            if code not in WANT:
                return Failure(side.role, ret, code)
        if not move(client, server) and all(done.values()):
            return None
    raise AssertionError(f"the handshake neither completed nor failed in {rounds} rounds: {done}")


def new_pair(h: Harness, cctx: Any, sctx: Any) -> tuple[Mem, Mem]:
    """A client and a server on their own contexts (the Mems free them). No SNI or host name is set."""
    client = Mem(h, Role.CLIENT, ctx=cctx)
    server = Mem(h, Role.SERVER, ctx=sctx)
    return client, server


def is_ssl_error(failure: Failure | None) -> bool:
    return failure is not None and failure.code is SslError.SSL_ERROR_SSL


UNSPECIFIED_ISSUER = K.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
