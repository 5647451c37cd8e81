"""Binding stacks added for issue 13: python-mbedtls over its sans-I/O wrapped buffers, rustls through rtls (the
reusable ssl-like adapter), nassl's OpenSSL 1.1.1 and 1.0.2."""

from __future__ import annotations

import importlib.util

import pytest

from conformance.harness import Harness
from conformance.outcome import SslError
from conformance.stacks import load_stack

MBEDTLS = "mbedtls"
_needs_mbedtls = pytest.mark.skipif(importlib.util.find_spec("mbedtls") is None,
                                    reason="python-mbedtls is not installed")


@_needs_mbedtls
@pytest.mark.parametrize("mbedtls_is", ["client", "server"])
@pytest.mark.parametrize("server_key", ["ecdsa", "rsa"])
def test_mbedtls_exchanges_data_with_libssl_over_tls_1_2(mbedtls_is: str, server_key: str) -> None:
    """Both server keys: an Mbed TLS server that ignored ``server_key`` failed every ECDHE-RSA suite."""
    m, libssl = load_stack(MBEDTLS), load_stack("libssl")
    client, server = (m, libssl) if mbedtls_is == "client" else (libssl, m)
    h = Harness(client, client_stack=client, server_stack=server)
    try:
        pair = h.pair(server=lambda c: c.with_(server_key=server_key),
                      client=lambda c: c.with_(cipher_list=("ECDHE-RSA-AES128-GCM-SHA256",))
                      if server_key == "rsa" and client is libssl else c)
        pair.handshake()
        assert pair.client.negotiated_version() == "TLSv1.2"
        pair.send(b"x" * 10000)  # one record: the adapter writes at most 16 KiB per call
        pair.drive(client=lambda e: e.shutdown())
        out = pair.drive(server=lambda e: e.read(10)).server
        assert out is not None and out.error is SslError.SSL_ERROR_ZERO_RETURN, out
    finally:
        h.close()


@_needs_mbedtls
def test_mbedtls_read_with_nothing_there_wants_to_read() -> None:
    h = Harness(load_stack(MBEDTLS))
    try:
        pair = h.pair()
        pair.handshake()
        out = pair.call(pair.server, lambda e: e.read(10))
        assert out.error is SslError.SSL_ERROR_WANT_READ, out
    finally:
        h.close()


def _exchange_with_libssl(stack: str, role: str) -> None:
    other, libssl = load_stack(stack), load_stack("libssl")
    client, server = (other, libssl) if role == "client" else (libssl, other)
    h = Harness(client, client_stack=client, server_stack=server)
    try:
        pair = h.pair()
        pair.handshake()
        pair.send(b"to the server")
        assert pair.drive(server=lambda e: e.write(b"to the client")).server.ok  # type: ignore[union-attr]
        got = pair.drive(client=lambda e: e.read(100)).client
        assert got is not None and got.data == b"to the client", got
    finally:
        h.close()


@pytest.mark.skipif(importlib.util.find_spec("rtls") is None, reason="rtls is not installed")
@pytest.mark.parametrize("role", ["client", "server"])
def test_rustls_exchanges_data_with_libssl(role: str) -> None:
    _exchange_with_libssl("rustls", role)


@pytest.mark.skipif(importlib.util.find_spec("nassl") is None, reason="nassl is not installed")
@pytest.mark.parametrize("stack", ["nassl", "nassl-legacy"])
def test_nassl_clients_exchange_data_with_libssl(stack: str) -> None:
    _exchange_with_libssl(stack, "client")


@pytest.mark.skipif(importlib.util.find_spec("nassl") is None, reason="nassl is not installed")
def test_nassl_versions_are_read_from_the_modules() -> None:
    assert load_stack("nassl").version().startswith("OpenSSL 1.1.1")
    assert load_stack("nassl-legacy").version().startswith("OpenSSL 1.0.2")


def test_an_ssl_like_stack_refuses_what_it_does_not_declare() -> None:
    """The reusable adapter refuses a configuration whose capability the stack lacks (stdlib's ssl as the module)."""
    from conformance.outcome import Role
    from conformance.stacks.base import EndpointConfig, Unsupported, capability_set
    from conformance.stacks.ssl_like import SslLikeStack

    class Plain(SslLikeStack):
        name = "plain-ssl"
        module_name = "ssl"
        capabilities = capability_set("client_role", "server_role", "tls1_2", "tls1_3")

    with pytest.raises(Unsupported, match="cipher_list"):
        Plain().endpoint(EndpointConfig(role=Role.CLIENT, cipher_list=("ECDHE-RSA-AES128-SHA",)), "c")
    with pytest.raises(Unsupported, match="ignore_unexpected_eof"):
        Plain().endpoint(EndpointConfig(role=Role.CLIENT, ignore_unexpected_eof=True), "c")
    h = Harness(Plain())
    try:
        pair = h.pair()
        pair.handshake()
        assert pair.client.negotiated_version() == "TLSv1.3"
    finally:
        h.close()


# --- sessions handed on by bindings without SSL_session_reused (capability session_resumption, not session_reused) ---


def _resume_with_libssl(stack: str, role: str, version: str) -> tuple[bool | None, bool]:
    """A first connection between ``stack`` in ``role`` and libssl (servers from one context), then a second whose
    client offers the first one's session: (what the wire shows, libssl's own SSL_session_reused)."""
    from specs.cases._resumed import on_wire, tapped

    other, libssl = load_stack(stack), load_stack("libssl")
    client, server = (other, libssl) if role == "client" else (libssl, other)
    h = Harness(client, client_stack=client, server_stack=server)
    pinned = {"min_version": version, "max_version": version}
    try:
        make = h.pair_factory(client=lambda c: c.with_(**pinned), server=lambda c: c.with_(**pinned))
        first = make()
        first.handshake()
        assert first.drive(server=lambda e: e.write(b"tickets first")).server.ok  # type: ignore[union-attr]
        got = first.drive(client=lambda e: e.read(100)).client
        assert got is not None and got.ok, got
        session = first.client.session()
        assert session is not None
        link, c2s, s2c = tapped()
        second = make(resume=session, link=link)
        second.handshake()
        wire, _ = on_wire(bytes(c2s.seen), bytes(s2c.seen))
        peer = second.server if role == "client" else second.client
        return wire, peer.session_reused()
    finally:
        h.close()


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
@pytest.mark.parametrize("stack,role", [("pyopenssl", "client"), ("pyopenssl", "server"), ("nassl", "client"),
                                        ("nassl-legacy", "client")])
def test_a_binding_without_session_reused_hands_its_session_on(stack: str, role: str, version: str) -> None:
    if importlib.util.find_spec("OpenSSL" if stack == "pyopenssl" else "nassl") is None:
        pytest.skip(f"{stack} is not installed")
    if stack == "nassl-legacy" and version == "TLSv1.3":
        pytest.skip("OpenSSL 1.0.2 has no TLS 1.3")
    adapter = load_stack(stack)
    assert adapter.lacks("session_resumption") is None
    assert "SSL_session_reused" in (adapter.lacks("session_reused") or "")
    assert _resume_with_libssl(stack, role, version) == (True, True)


def test_the_wire_tells_a_full_handshake_from_a_resumed_one() -> None:
    """specs.cases._resumed.on_wire on a libssl pair: a first connection is full (TLS 1.2: Certificate and
    ServerHelloDone; TLS 1.3: no pre_shared_key), whatever libssl's SSL_session_reused says agrees."""
    from specs.cases._resumed import on_wire, tapped

    libssl = load_stack("libssl")
    for version in ("TLSv1.2", "TLSv1.3"):
        h = Harness(libssl)
        try:
            link, c2s, s2c = tapped()
            pair = h.pair(client=lambda c, v=version: c.with_(max_version=v), link=link)  # type: ignore[misc]
            pair.handshake()
            wire, why = on_wire(bytes(c2s.seen), bytes(s2c.seen))
            assert wire is False and why.startswith(version.replace("v", " ")), why
            assert not pair.client.session_reused()
        finally:
            h.close()
    assert on_wire(b"", b"") == (None, "no ServerHello on the wire")
