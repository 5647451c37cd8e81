"""Cases for SSL_CTX_set_options.pod on whose order of cipher suites a server follows (SSL_OP_CIPHER_SERVER_PREFERENCE,
SSL_OP_PRIORITIZE_CHACHA), at the C-API tier: both sides list the same two suites in opposite orders and
SSL_get_current_cipher names the one taken."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role
from conformance.stacks.base import EndpointConfig
from specs.cases._ssl_objects import Mem, handshake

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")

# (AES-GCM, ChaCha20-Poly1305) per version, in the names the configuration calls take; SSL_CIPHER_get_name's
# answer is read for the bulk cipher only (wolfSSL names TLS 1.3 suites "TLS13-AES128-GCM-SHA256")
AES13, CHACHA13 = "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"
AES12, CHACHA12 = "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"
SUITES = {"TLSv1.3": (AES13, CHACHA13), "TLSv1.2": (AES12, CHACHA12)}
NEEDS = {"TLSv1.3": ("tls1_3", "cipher_selection"), "TLSv1.2": ("tls1_2", "cipher_list")}


def _listing(version: str, order: tuple[str, str]) -> Any:
    def adjust(c: EndpointConfig) -> EndpointConfig:
        if version == "TLSv1.3":
            return c.with_(min_version="TLSv1.3", ciphersuites=order)
        return c.with_(max_version="TLSv1.2", cipher_list=order)
    return adjust


def _chosen(h: Harness, version: str, client_order: tuple[str, str], server_order: tuple[str, str],
            options: int) -> str:
    """The suite a server listing ``server_order`` with ``options`` set on its SSL takes from a client listing
    ``client_order``."""
    h.need(*NEEDS[version])
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=_listing(version, client_order))
    server = Mem(h, Role.SERVER, adjust=_listing(version, server_order))
    api.SSL_set_options(server.ssl, options)  # 0: the server's default options
    handshake(h, client, server)
    names = [api.SSL_CIPHER_get_name(api.SSL_get_current_cipher(side.ssl)) for side in (client, server)]
    h.trace.note(f"{version} client {client_order} server {server_order} options {options:#x}: {names}")
    assert names[0] == names[1], f"the two sides name different suites: {names}"
    name = str(names[0])
    bulk = "CHACHA20" in name.upper(), "AES128" in name.upper().replace("_", "")
    assert bulk in ((True, False), (False, True)), f"{name} is neither of the two suites listed"
    return SUITES[version][1] if bulk[0] else SUITES[version][0]


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/cipher-server-preference")
@pytest.mark.parametrize("version", ["TLSv1.3", "TLSv1.2"])
@pytest.mark.parametrize("server_preference", [False, True], ids=["client-order", "server-preference"])
def test_cipher_order_follows_client_unless_server_preference(h: Harness, version: str,
                                                              server_preference: bool) -> None:
    """The client lists ChaCha20-Poly1305 first, the server AES-GCM first: without SSL_OP_CIPHER_SERVER_PREFERENCE
    the connection uses the client's first choice, with it the server's."""
    aes, chacha = SUITES[version]
    got = _chosen(h, version, (chacha, aes), (aes, chacha),
                  K.SSL_OP_CIPHER_SERVER_PREFERENCE if server_preference else 0)
    want = aes if server_preference else chacha
    assert got == want, f"{version}: the server took {got}, not {want} " \
                        f"({'its own' if server_preference else 'the client' + chr(39) + 's'} first choice)"


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/prioritize-chacha")
@pytest.mark.parametrize("version", ["TLSv1.3", "TLSv1.2"])
@pytest.mark.parametrize("client_first", ["chacha", "aes"])
def test_prioritize_chacha_with_server_preference(h: Harness, version: str, client_first: str) -> None:
    """The server lists AES-GCM before ChaCha20-Poly1305 and sets SSL_OP_CIPHER_SERVER_PREFERENCE and
    SSL_OP_PRIORITIZE_CHACHA: a client listing ChaCha20-Poly1305 first gets it, one listing AES-GCM first gets
    AES-GCM."""
    aes, chacha = SUITES[version]
    client_order = (chacha, aes) if client_first == "chacha" else (aes, chacha)
    got = _chosen(h, version, client_order, (aes, chacha),
                  K.SSL_OP_CIPHER_SERVER_PREFERENCE | K.SSL_OP_PRIORITIZE_CHACHA)
    want = chacha if client_first == "chacha" else aes
    assert got == want, f"{version}: the server took {got}, not {want}"
