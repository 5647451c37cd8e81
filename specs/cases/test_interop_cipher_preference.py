"""SSL_CTX_set_options.pod at the wire tier: a server of the C-API tier left with its default options takes the
suite by the client's order, whichever stack the client is (any stack whose suites can be listed in order).

The two suites differ only in key size (AES-128-GCM and AES-256-GCM), which every stack here has in both versions;
the server side is a C-API stack because the clause is about the SSL_CTX of an OpenSSL-style server (a binding's
own server default, such as Python's ssl setting SSL_OP_CIPHER_SERVER_PREFERENCE, is that binding's choice)."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from conformance.stacks.base import EndpointConfig
from specs.cases.test_ssl_cipher_preference import NEEDS

SUITES = {"TLSv1.3": ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"),
          "TLSv1.2": ("ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256")}

pytestmark = pytest.mark.interop


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/cipher-server-preference")
@pytest.mark.parametrize("version", ["TLSv1.3", "TLSv1.2"])
def test_server_default_follows_client_order(h: Harness, version: str) -> None:
    """The client lists AES-128-GCM before AES-256-GCM, the server (default options, so no
    SSL_OP_CIPHER_SERVER_PREFERENCE) the other way round: the connection uses AES-128-GCM."""
    h.need(*NEEDS[version])
    h.need("c_api", stacks=(h.server_stack,))
    aes256, aes128 = SUITES[version]
    pair = h.pair(client=lambda c: _tls(c, version, (aes128, aes256)),
                  server=lambda c: _tls(c, version, (aes256, aes128)))
    pair.handshake()
    names = {e.label: e.negotiated_cipher() for e in (pair.client, pair.server)}
    h.trace.note(f"{version}: negotiated {names}")
    seen = [n for n in names.values() if n is not None]
    assert seen, "neither side tells its negotiated suite"
    for label, name in names.items():
        if name is not None:
            bulk = name.upper().replace("_", "").replace("-", "")
            assert "AES128" in bulk, f"{label}: {name}, not the client's first choice {aes128}"


def _tls(c: EndpointConfig, version: str, order: tuple[str, str]) -> EndpointConfig:
    if version == "TLSv1.3":
        return c.with_(min_version="TLSv1.3", ciphersuites=order)
    return c.with_(max_version="TLSv1.2", cipher_list=order)
