"""Cases for SSL_CTX_new's version-flexible methods and the limits put on them, through the normalised endpoint
(whose contexts use TLS_client_method()/TLS_server_method() or the binding's equivalent)."""

from __future__ import annotations

from typing import Any

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


SUPPORTED_VERSIONS = 43  # RFC 8446 section 4.2.1


@pytest.mark.clauses("SSL_CTX_new/NOTES/sslv3-methods")
@pytest.mark.needs("c_api", "client_role")
def test_sslv3_client_method_offers_nothing_above_ssl_3_0(h: Harness) -> None:
    """A client made with SSLv3_client_method() on one end of a socketpair, SSL_connect() in a thread; the case
    reads what it sends for 2 seconds. If it sends a ClientHello, the hello offers SSL 3.0 only: client_version
    0x0300 and no supported_versions extension naming a later version. If it sends nothing (a build whose SSL 3.0
    is switched off), SSL_connect() must not succeed: the method speaks no other protocol either."""
    import socket

    from specs.cases._capi import Background
    from specs.cases._tls12wire import flight, hello

    api: Any = h.capi  # the engine's SSLv3 methods are typed as absent (NoReturn)
    method = api.SSLv3_client_method()  # a library built without SSLv3 methods: not applicable (missing symbol)
    assert method is not None, "SSLv3_client_method() returned NULL"
    ctx = api.SSL_CTX_new(method)
    if ctx is None:
        api.ERR_clear_error()
        h.trace.note("SSL_CTX_new(SSLv3_client_method()) -> NULL: the method cannot be used at all")
        return
    ssl = api.SSL_new(ctx)
    a, b = socket.socketpair()
    try:
        assert ssl is not None, "SSL_new failed"
        assert api.SSL_set_fd(ssl, a.fileno()) == 1
        connecting = Background(lambda: api.SSL_connect(ssl))
        b.settimeout(2.0)
        wire = b""
        try:
            while len(wire) < 5 or len(wire) < 5 + int.from_bytes(wire[3:5], "big"):
                chunk = b.recv(65536)
                if not chunk:
                    break
                wire += chunk
        except TimeoutError:
            pass
        b.close()
        ret = connecting.join()
        h.trace.note(f"SSLv3 client sent {len(wire)} bytes {wire[:11].hex()}; SSL_connect -> {ret}")
        if not wire:
            assert ret != 1, "SSL_connect() succeeded without sending a ClientHello"
            return
        assert wire[0] == 22, f"the first record is not a handshake record: {wire[:5].hex()}"
        messages = flight(wire).messages
        assert messages and messages[0][0] == 1, "the first handshake message is not a ClientHello"
        body = messages[0][1]
        version = int.from_bytes(body[:2], "big")
        assert version == 0x0300, f"the SSLv3 client's ClientHello has client_version {version:#06x}, not 0x0300"
        offered = hello(body, client=True).extensions.get(SUPPORTED_VERSIONS, b"")
        later = [offered[i:i + 2].hex() for i in range(1, len(offered) - 1, 2) if offered[i:i + 2] > b"\x03\x00"]
        assert not later, f"the SSLv3 client offers later versions in supported_versions: {later}"
    finally:
        a.close()
        b.close()
        if ssl is not None:
            api.SSL_free(ssl)
        api.SSL_CTX_free(ctx)
