"""Cases for SSL_CTX_new's version-flexible methods and the limits put on them, through the normalised endpoint
(whose contexts use TLS_client_method()/TLS_server_method() or the binding's equivalent)."""

from __future__ import annotations

import pytest

from conformance.harness import Harness


@pytest.mark.clauses("SSL_CTX_new/NOTES/version-flexible-methods", "SSL_CTX_new/NOTES/limit-versions")
@pytest.mark.needs("tls1_2", "tls1_3")
def test_version_flexible_methods_agree_on_the_highest_version(h: Harness) -> None:
    """Unlimited: TLS 1.3. Client limited to TLS 1.2 (max version): TLS 1.2. Server requiring TLS 1.3 (min version)
    against that client: no connection."""
    pair = h.pair()
    pair.handshake()
    assert pair.client.negotiated_version() in (None, "TLSv1.3") and pair.server.negotiated_version() in (
        None, "TLSv1.3"), (pair.client.negotiated_version(), pair.server.negotiated_version())
    assert "TLSv1.3" in (pair.client.negotiated_version(), pair.server.negotiated_version())
    limited = h.pair(client=lambda c: c.with_(max_version="TLSv1.2"))
    limited.handshake()
    versions = {limited.client.negotiated_version(), limited.server.negotiated_version()} - {None}
    assert versions == {"TLSv1.2"}, versions
    apart = h.pair(client=lambda c: c.with_(max_version="TLSv1.2"), server=lambda c: c.with_(min_version="TLSv1.3"))
    result = apart.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake(), until="server")
    assert not (result.client is not None and result.client.ok and result.server is not None and result.server.ok), \
        "a TLS 1.2-only client and a TLS 1.3-only server must not connect"
