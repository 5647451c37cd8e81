"""A verifying client meets a server certificate that chains to its trust anchor and names the right host, but has
expired: every stack's client must refuse it (SSL_CTX_set_verify NOTES: the handshake ends at once with an alert; RFC
9846 section 6.2: certificate_expired). The server is the engine's TLS core presenting the certificate (a correct
peer in every other respect), so the case runs on every stack that has a client, in TLS 1.3 and in TLS 1.2."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from conformance.certs import default_pki
from conformance.harness import Harness
from conformance.outcome import Role
from engine.tls.alerts import AlertDescription as A
from engine.tls.misbehave import Misbehaviour
from specs.cases.test_misbehaving_peer import _handshake_fault

pytestmark = pytest.mark.needs("peer_verification", "error_codes")


class PresentsExpiredCertificate(Misbehaviour):
    """Nothing wrong in the protocol: the peer's configuration carries a certificate that expired yesterday."""

    def attach(self, record_layer: Any) -> None:
        super().attach(record_layer)
        self.done = True


def _expired_identity() -> dict[str, Any]:
    identity = default_pki().server_expired
    return {"certificate_chain": [x509.load_pem_x509_certificate(identity.cert_pem)],
            "private_key": load_pem_private_key(identity.key_pem, None)}


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/peer-client-verifies-chain", "RFC9846/6.2/certificate-expired")
@pytest.mark.parametrize("version", ["TLSv1.3", "TLSv1.2"])
def test_verifying_client_refuses_an_expired_server_certificate(h: Harness, version: str) -> None:
    h.need("tls1_3" if version == "TLSv1.3" else "tls1_2")
    tls: dict[str, Any] = _expired_identity()
    if version == "TLSv1.2":
        tls["supported_versions"] = (0x0303,)
    _handshake_fault(h, Role.CLIENT, PresentsExpiredCertificate(), A.certificate_expired,
                     lambda c: c.with_(max_version=version), tls=tls)
