"""SSL_CTX_set_options.pod at the wire tier: a server left with its default options takes the suite by the
client's order, whichever stack the client is (any stack whose suites can be listed in order)."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from conformance.stacks.base import EndpointConfig
from specs.cases.test_ssl_cipher_preference import NEEDS, SUITES

pytestmark = pytest.mark.interop


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/cipher-server-preference")
@pytest.mark.parametrize("version", ["TLSv1.3", "TLSv1.2"])
def test_server_default_follows_client_order(h: Harness, version: str) -> None:
    """The client lists ChaCha20-Poly1305 before AES-GCM, the server (default options, so no
    SSL_OP_CIPHER_SERVER_PREFERENCE) the other way round: the connection uses ChaCha20-Poly1305."""
    h.need(*NEEDS[version])
    aes, chacha = SUITES[version]
    pair = h.pair(client=lambda c: _tls(c, version, (chacha, aes)), server=lambda c: _tls(c, version, (aes, chacha)))
    pair.handshake()
    names = {e.label: e.negotiated_cipher() for e in (pair.client, pair.server)}
    h.trace.note(f"{version}: negotiated {names}")
    seen = [n for n in names.values() if n is not None]
    assert seen, "neither side tells its negotiated suite"
    for label, name in names.items():
        if name is not None:
            assert "CHACHA20" in name.upper(), f"{label}: {name}, not the client's first choice {chacha}"


def _tls(c: EndpointConfig, version: str, order: tuple[str, str]) -> EndpointConfig:
    if version == "TLSv1.3":
        return c.with_(min_version="TLSv1.3", ciphersuites=order)
    return c.with_(max_version="TLSv1.2", cipher_list=order)
