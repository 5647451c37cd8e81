"""Which X509_V_ERR_* code a verifying client records (SSL_get_verify_result, the verify callback's
X509_STORE_CTX_get_error) for five kinds of bad server certificate, each code as openssl-verify(1) DIAGNOSTICS
defines it. Added by the mutation sweep (docs/mutation-sweep.md): an engine that recorded another code for any of
these passed every other case, which only looked at the handshake failing.

Each case makes its certificates with `cryptography` (written to a temporary directory once per process) and runs a
client and a server of the stack under test on memory BIOs."""

from __future__ import annotations

import atexit
import datetime
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conformance.capi import constants as K
from conformance.certs import SERVER_NAME, default_pki
from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._ssl_objects import Mem, ssl_ctx
from specs.cases._verify import chained_pki, drive, is_ssl_error

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role", "error_codes")

PAGE = "openssl-verify/DIAGNOSTICS"
PEM = serialization.Encoding.PEM


@dataclass(frozen=True)
class Files:
    root: Path  # what the client trusts
    chain: Path  # what the server sends, leaf first
    key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _leaf(key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey,
          start: datetime.datetime, *, self_signed: bool = False) -> x509.Certificate:
    usage = x509.KeyUsage(True, False, False, False, False, self_signed, False, False, False)
    return (
        x509.CertificateBuilder().subject_name(_name(SERVER_NAME)).issuer_name(issuer).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(signer, hashes.SHA256())
    )  # fmt: skip


def _write(directory: Path, stem: str, certs: list[x509.Certificate], key: ec.EllipticCurvePrivateKey) -> Path:
    (directory / f"{stem}.key").write_bytes(
        key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    path = directory / f"{stem}.crt"
    path.write_bytes(b"".join(c.public_bytes(PEM) for c in certs))
    return path


@cache
def _files(kind: str) -> Files:
    directory = Path(tempfile.mkdtemp(prefix=f"conformance-{kind}-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    pki = default_pki()
    if kind == "self-signed-leaf":  # trusted: the usual test CA, which did not issue it
        leaf = _leaf(key, _name(SERVER_NAME), key, now - datetime.timedelta(days=1), self_signed=True)
        return Files(pki.ca_path, _write(directory, "leaf", [leaf], key), directory / "leaf.key")
    if kind == "root-in-chain":  # leaf, intermediate and its root sent; trusted: the usual test CA
        chained = chained_pki()
        chain = directory / "chain.crt"
        chain.write_bytes(chained.chain_path.read_bytes() + chained.root_path.read_bytes())
        return Files(pki.ca_path, chain, chained.key_path)
    assert kind == "not-yet-valid"  # issued by a root the client trusts, valid from tomorrow
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder().subject_name(_name("Not Yet Valid Root")).issuer_name(_name("Not Yet Valid Root"))
        .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(root_key, hashes.SHA256())
    )  # fmt: skip
    leaf = _leaf(key, root.subject, root_key, now + datetime.timedelta(days=1))
    root_path = directory / "root.crt"
    root_path.write_bytes(root.public_bytes(PEM))
    return Files(root_path, _write(directory, "leaf", [leaf], key), directory / "leaf.key")


class Seen:
    """A verify callback that records (preverify_ok, depth, error) and answers ``answer`` (None: preverify_ok)."""

    def __init__(self, api: Any, answer: int | None = None) -> None:
        self.api = api
        self.answer = answer
        self.calls: list[tuple[int, int, int]] = []

    def __call__(self, preverify_ok: int, store_ctx: Any) -> int:
        api = self.api
        self.calls.append((preverify_ok, api.X509_STORE_CTX_get_error_depth(store_ctx),
                           api.X509_STORE_CTX_get_error(store_ctx)))
        return preverify_ok if self.answer is None else self.answer


def _trust(h: Harness, ctx: Any, ca: Path) -> None:
    assert h.capi.SSL_CTX_load_verify_locations(ctx, str(ca).encode(), None) == 1, "load_verify_locations failed"


def _serve(h: Harness, ctx: Any, chain: Path | None, key: Path | None) -> None:
    """The server's certificate: ``chain`` and ``key``, else the test server certificate."""
    api = h.capi
    if chain is not None and key is not None:
        assert api.SSL_CTX_use_certificate_chain_file(ctx, str(chain).encode()) == 1, "chain file refused"
        assert api.SSL_CTX_use_PrivateKey_file(ctx, str(key).encode(), K.SSL_FILETYPE_PEM) == 1, "key refused"
        return
    server = default_pki().server
    assert api.SSL_CTX_use_certificate_file(ctx, str(server.cert_path).encode(), K.SSL_FILETYPE_PEM) == 1
    assert api.SSL_CTX_use_PrivateKey_file(ctx, str(server.key_path).encode(), K.SSL_FILETYPE_PEM) == 1


def _pair(h: Harness, cctx: Any, sctx: Any) -> tuple[Mem, Mem]:
    """A client and a server on contexts a ``with ssl_ctx`` block owns: each endpoint takes a reference of its own
    (freed with it), so every context is freed on every path, a set-up that fails half-way included."""
    api = h.capi
    assert api.SSL_CTX_up_ref(cctx) == 1
    client = Mem(h, Role.CLIENT, ctx=cctx)
    assert api.SSL_CTX_up_ref(sctx) == 1
    server = Mem(h, Role.SERVER, ctx=sctx)
    return client, server


def _verify(h: Harness, files: Files | None, seen: Seen, host: bytes | None = None) -> tuple[Any, int]:
    """A verifying client (trusting ``files.root``) against a server sending ``files.chain``: (failure, result)."""
    api = h.capi
    with ssl_ctx(h, api.TLS_client_method()) as cctx, ssl_ctx(h, api.TLS_server_method()) as sctx:
        _trust(h, cctx, files.root if files else default_pki().ca_path)
        api.SSL_CTX_set_verify(cctx, K.SSL_VERIFY_PEER, seen)
        _serve(h, sctx, files.chain if files else None, files.key if files else None)
        _trust(h, sctx, default_pki().ca_path)  # for client certificates, as the other verification cases' servers
        client, server = _pair(h, cctx, sctx)
    if host is not None:
        assert api.SSL_set1_host(client.ssl, host) == 1
    failure = drive(h, client, server)
    result = api.SSL_get_verify_result(client.ssl)
    h.trace.note(f"callback calls (preverify_ok, depth, error): {seen.calls}; handshake {failure or 'complete'}; "
                 f"verify result {result}")
    return failure, result


@pytest.mark.clauses(f"{PAGE}/depth-zero-self-signed", f"{PAGE}/self-signed-in-chain", f"{PAGE}/not-yet-valid",
                     f"{PAGE}/hostname-mismatch")
@pytest.mark.parametrize(("kind", "code", "depth"), [
    ("self-signed-leaf", K.X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 0),
    ("root-in-chain", K.X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, 2),
    ("not-yet-valid", K.X509_V_ERR_CERT_NOT_YET_VALID, 0),
    ("hostname", K.X509_V_ERR_HOSTNAME_MISMATCH, 0),
])
def test_verify_result_names_the_fault(h: Harness, kind: str, code: int, depth: int) -> None:
    """A self-signed server certificate the client does not trust; a chain whose self-signed root the client does not
    trust; a certificate not valid until tomorrow; a good certificate for another host name (SSL_set1_host): the
    handshake fails on the client, the callback is told the code at its depth, and SSL_get_verify_result is it."""
    api = h.capi
    seen = Seen(api)
    if kind == "hostname":
        failure, result = _verify(h, None, seen, host=b"other.example")
    else:
        failure, result = _verify(h, _files(kind), seen)
    assert is_ssl_error(failure), f"{kind}: the verifying client did not fail the handshake: {failure or 'complete'}"
    assert result == code, f"{kind}: SSL_get_verify_result {result}, not {code}"
    bad = [(d, e) for ok, d, e in seen.calls if not ok]
    assert bad == [(depth, code)], f"{kind}: the callback was told {bad}, not [({depth}, {code})]"


@pytest.mark.clauses(f"{PAGE}/leaf-signature")
def test_lone_certificate_of_an_unknown_issuer(h: Harness) -> None:
    """The server sends its certificate alone and the client trusts another CA; a verify callback that returns 1
    lets the verification go on: at depth 0 it is told X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE (one certificate,
    not self-signed, its issuer not trusted: no signature could be checked), and the handshake completes."""
    api = h.capi
    seen = Seen(api, answer=1)
    pki = default_pki()
    with ssl_ctx(h, api.TLS_client_method()) as cctx, ssl_ctx(h, api.TLS_server_method()) as sctx:
        _trust(h, cctx, pki.other_ca_path)
        api.SSL_CTX_set_verify(cctx, K.SSL_VERIFY_PEER, seen)
        _serve(h, sctx, None, None)  # no trust store: nothing to build a longer chain from
        client, server = _pair(h, cctx, sctx)
    failure = drive(h, client, server)
    h.trace.note(f"callback calls (preverify_ok, depth, error): {seen.calls}; handshake {failure or 'complete'}")
    assert failure is None, f"a callback that returns 1 did not let the handshake complete: {failure}"
    errors = [(d, e) for ok, d, e in seen.calls if not ok]
    assert (0, K.X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE) in errors, \
        f"the callback was told {errors}, without UNABLE_TO_VERIFY_LEAF_SIGNATURE (21) at depth 0"
