"""Cases for SSL_get_error's codes and the retry rules around them, as far as a normalised endpoint shows them."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from conformance.outcome import SslError
from conformance.stacks.capi_endpoint import as_capi_endpoint

WANT_READ = SslError.SSL_ERROR_WANT_READ
WANT_WRITE = SslError.SSL_ERROR_WANT_WRITE


@pytest.mark.clauses("SSL_connect/NOTES/client-speaks-last")
@pytest.mark.needs("tls1_3", "c_api")
def test_tls13_client_completes_before_the_server(h: Harness) -> None:
    """In a full TLS 1.3 handshake the client's Finished is the last handshake message: SSL_connect returns 1
    while the server (in SSL_accept) still waits for that message."""
    pair = h.pair(client=lambda c: c.with_(min_version="TLSv1.3"))
    as_capi_endpoint(pair.client).handshake_function = "SSL_connect"
    as_capi_endpoint(pair.server).handshake_function = "SSL_accept"
    client_done = server_done = None
    for round_no in range(1, 200):
        if client_done is None and pair.call(pair.client, lambda e: e.do_handshake()).ok:
            client_done = round_no
            assert pair.client.outgoing_pending() > 0, "the client must still have its Finished to send"
        if server_done is None:
            out = pair.call(pair.server, lambda e: e.do_handshake())
            if out.ok:
                server_done = round_no
            else:
                assert out.retry, out
        if client_done and server_done:
            break
        pair.pump.step_link()
    assert client_done is not None and server_done is not None, (client_done, server_done)
    assert client_done < server_done, f"client done in round {client_done}, server in round {server_done}"


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/zero-return-transport-open")
@pytest.mark.needs("error_codes")
def test_zero_return_leaves_the_transport_usable(h: Harness) -> None:
    """After ZERO_RETURN the reader can still use the transport: its own close_notify reaches the peer."""
    pair = h.pair()
    pair.handshake()
    pair.drive(client=lambda e: e.shutdown())
    out = pair.drive(server=lambda e: e.read(10)).server
    assert out is not None and out.error is SslError.SSL_ERROR_ZERO_RETURN, out
    closed = pair.drive(server=lambda e: e.shutdown()).server
    assert closed is not None and closed.ok, f"sending close_notify after ZERO_RETURN failed: {closed}"
    seen = pair.drive(client=lambda e: e.read(10)).client
    assert seen is not None and seen.error is SslError.SSL_ERROR_ZERO_RETURN, seen


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/read-after-write-want-safe",
    "SSL_get_error/RETURN VALUES/repeat-write-to-finish",
    "SSL_write/WARNINGS/partially-processed",
)
@pytest.mark.needs("error_codes", "bounded_write_buffer")
def test_read_while_a_write_waits(h: Harness) -> None:
    """A write stuck on WANT_WRITE: reading in the meantime delivers the peer's data; the write still has to be
    repeated, and only then does the peer have every byte."""
    pair = h.pair(client=lambda c: c.with_(write_buffer=512))
    pair.handshake()
    data = h.rng.randbytes(20_000)
    before = pair.link.c2s.delivered
    first = pair.call(pair.client, lambda e: e.write(data))
    assert first.error is WANT_WRITE, first
    pair.drive(server=lambda e: e.write(b"meanwhile"))
    assert pair.link.c2s.delivered > before, "part of the buffer was already processed and sent before WANT_WRITE"
    got = pair.drive(client=lambda e: e.read(100)).client
    assert got is not None and got.ok and got.data == b"meanwhile", got
    received = bytearray()
    while True:
        out = pair.call(pair.server, lambda e: e.read(65536))
        if not out.ok:
            break
        received += out.data
    assert len(received) < len(data), "the peer cannot have the whole buffer before the write is repeated"
    out = first
    for _ in range(10_000):
        out = pair.call(pair.client, lambda e: e.write(data))
        pair.pump.step_link()
        while (more := pair.call(pair.server, lambda e: e.read(65536))).ok:
            received += more.data
        if not out.retry:
            break
    assert out.ok and out.ret == len(data), out
    pair.settle()
    while (more := pair.call(pair.server, lambda e: e.read(65536))).ok:
        received += more.data
    assert bytes(received) == data


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/any-call-either-want", "SSL_write/NOTES/write-may-read")
@pytest.mark.needs("error_codes", "implicit_handshake_on_write")
def test_write_can_want_read(h: Harness) -> None:
    """A client's first SSL_write starts the handshake and then has to wait for the server: WANT_READ."""
    pair = h.pair()
    out = pair.call(pair.client, lambda e: e.write(b"too early"))
    assert out.error is WANT_READ, out


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/any-call-either-want")
@pytest.mark.needs("error_codes", "implicit_handshake_on_read", "bounded_write_buffer")
def test_read_can_want_write(h: Harness) -> None:
    """A server whose first call is SSL_read answers the ClientHello inside it; with a transport buffer too small
    for its flight the read reports WANT_WRITE."""
    pair = h.pair(server=lambda c: c.with_(write_buffer=64))
    pair.call(pair.client, lambda e: e.do_handshake())
    pair.pump.step_link()
    out = pair.call(pair.server, lambda e: e.read(100))
    assert out.error is WANT_WRITE, out
