"""A C-API server holding two certificates (RFC 9846 section 4.4.2.2): which one goes to which client.

The server is the stack under test on a BIO pair, with the ECDSA certificate of the test PKI loaded by the
context helper and the RSA one loaded after it with SSL_CTX_use_certificate_file / SSL_CTX_use_PrivateKey_file.
The client is the engine's sans-IO TLS core limited to one signature scheme (TLS 1.3) or one suite (TLS 1.2); it
reports the certificate it received."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conformance.capi import constants as K
from conformance.certs import SERVER_NAME, default_pki
from conformance.harness import Harness
from conformance.outcome import Role
from engine.tls.alerts import AlertDescription, TLSAlertError
from engine.tls.config import TLSConfig
from engine.tls.connection import TLSConnection
from engine.tls.events import HandshakeComplete
from specs.cases._ssl_objects import Mem, error, note

pytestmark = pytest.mark.needs("c_api", "server_role")

CLAUSE = "RFC9846/4.4.2.2/server-certificate-selection"


def _both_certificates(h: Harness) -> Any:
    api = h.capi

    def load(ctx: Any) -> None:
        identity = default_pki().server_rsa
        assert api.SSL_CTX_use_certificate_file(ctx, str(identity.cert_path).encode(), K.SSL_FILETYPE_PEM) == 1
        assert api.SSL_CTX_use_PrivateKey_file(ctx, str(identity.key_path).encode(), K.SSL_FILETYPE_PEM) == 1

    return load


def _received(h: Harness, server: Mem, client: TLSConnection) -> x509.Certificate:
    api = h.capi
    for _ in range(40):
        server.give(client.data_to_send())
        api.ERR_clear_error()
        ret = api.SSL_do_handshake(server.ssl)
        out = server.take()
        if out:
            try:
                client.receive_bytes(out)
            except TLSAlertError as exc:
                raise AssertionError(f"the handshake failed: {AlertDescription(int(exc.alert)).name} alert "
                                     f"({'from the server' if not exc.sent_by_us else 'from the client'})") from None
        done = [e for e in client.events() if isinstance(e, HandshakeComplete)]
        if done:
            note(h, f"client received a {type(done[0].peer_certificates[0].public_key()).__name__} certificate")
            return done[0].peer_certificates[0]
        if ret <= 0 and not out and not client.data_to_send():
            raise AssertionError(f"no progress: server SSL_do_handshake -> {ret}, {error(api, server.ssl, ret)}")
    raise AssertionError("the handshake did not complete")


@pytest.mark.clauses(CLAUSE)
@pytest.mark.needs("tls1_3")
@pytest.mark.parametrize(("scheme", "key_type"), [(0x0403, ec.EllipticCurvePublicKey), (0x0804, rsa.RSAPublicKey)],
                         ids=["ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256"])
def test_tls13_certificate_follows_signature_algorithms(h: Harness, scheme: int, key_type: type) -> None:
    server = Mem(h, Role.SERVER, before_new=_both_certificates(h))
    client = TLSConnection(TLSConfig(server_name=SERVER_NAME, verify_peer=False, signature_algorithms=(scheme,)),
                           "client")
    got = _received(h, server, client).public_key()
    assert isinstance(got, key_type), f"a client offering only {scheme:#06x} received a {type(got).__name__} key"


@pytest.mark.clauses(CLAUSE)
@pytest.mark.needs("tls1_2")
@pytest.mark.parametrize(("suite", "key_type"), [(0xC02B, ec.EllipticCurvePublicKey), (0xC02F, rsa.RSAPublicKey)],
                         ids=["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"])
def test_tls12_certificate_follows_the_suite(h: Harness, suite: int, key_type: type) -> None:
    server = Mem(h, Role.SERVER, before_new=_both_certificates(h))
    client = TLSConnection(TLSConfig(server_name=SERVER_NAME, verify_peer=False, supported_versions=(0x0303,),
                                     cipher_suites12=(suite,)), "client")
    got = _received(h, server, client).public_key()
    assert isinstance(got, key_type), f"a client offering only suite {suite:#06x} received a {type(got).__name__} key"
