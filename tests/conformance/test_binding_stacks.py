"""Binding stacks added for issue 13: python-mbedtls over its sans-I/O wrapped buffers."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from conformance.outcome import SslError
from conformance.stacks import load_stack

mbedtls = pytest.importorskip("mbedtls", reason="python-mbedtls is not installed")
# Not registered yet (see the module docstring of conformance/stacks/mbedtls.py): loaded by its import path.
MBEDTLS = "conformance.stacks.mbedtls:MbedtlsStack"


@pytest.mark.parametrize("mbedtls_is", ["client", "server"])
def test_mbedtls_exchanges_data_with_libssl_over_tls_1_2(mbedtls_is: str) -> None:
    m, libssl = load_stack(MBEDTLS), load_stack("libssl")
    client, server = (m, libssl) if mbedtls_is == "client" else (libssl, m)
    h = Harness(client, client_stack=client, server_stack=server)
    try:
        pair = h.pair()
        pair.handshake()
        assert pair.client.negotiated_version() == "TLSv1.2"
        pair.send(b"x" * 10000)  # one record: the adapter writes at most 16 KiB per call
        pair.drive(client=lambda e: e.shutdown())
        out = pair.drive(server=lambda e: e.read(10)).server
        assert out is not None and out.error is SslError.SSL_ERROR_ZERO_RETURN, out
    finally:
        h.close()


def test_mbedtls_read_with_nothing_there_wants_to_read() -> None:
    h = Harness(load_stack(MBEDTLS))
    try:
        pair = h.pair()
        pair.handshake()
        out = pair.call(pair.server, lambda e: e.read(10))
        assert out.error is SslError.SSL_ERROR_WANT_READ, out
    finally:
        h.close()
