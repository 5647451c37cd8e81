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
