"""Cases for SSL_connect, SSL_accept and SSL_do_handshake (and the SSL_get_error codes they produce)."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from conformance.link import Link
from conformance.outcome import SslError

WANT_READ = SslError.SSL_ERROR_WANT_READ


@pytest.mark.clauses(
    "SSL_do_handshake/NOTES/non-blocking-retry",
    "SSL_connect/NOTES/non-blocking-retry",
    "SSL_accept/NOTES/non-blocking-retry",
    "SSL_accept/DESCRIPTION/waits-for-client",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_READ",
)
@pytest.mark.needs("error_codes")
def test_handshake_wants_read_with_nothing_to_read(h: Harness) -> None:
    """Both roles, with nothing from the peer yet, stop with WANT_READ instead of blocking or failing."""
    pair = h.pair()
    client = pair.call(pair.client, lambda e: e.do_handshake())
    assert client.error is WANT_READ, f"client handshake before any reply: {client}"
    assert pair.client.outgoing_pending() > 0, "the client should have written its ClientHello before waiting"
    server = pair.call(pair.server, lambda e: e.do_handshake())
    assert server.error is WANT_READ, f"server handshake before any ClientHello: {server}"
    assert pair.server.outgoing_pending() == 0, "a server with no ClientHello has nothing to send"


@pytest.mark.clauses(
    "SSL_do_handshake/RETURN VALUES/<0",
    "SSL_connect/RETURN VALUES/<0",
    "SSL_accept/RETURN VALUES/<0",
)
@pytest.mark.needs("raw_return_values")
def test_handshake_retry_returns_negative(h: Harness) -> None:
    """A handshake call that must wait returns a value below zero (raw C return value)."""
    pair = h.pair()
    client = pair.call(pair.client, lambda e: e.do_handshake())
    server = pair.call(pair.server, lambda e: e.do_handshake())
    assert client.ret < 0 and client.error is WANT_READ, client
    assert server.ret < 0 and server.error is WANT_READ, server


@pytest.mark.clauses(
    "SSL_do_handshake/RETURN VALUES/1",
    "SSL_connect/RETURN VALUES/1",
    "SSL_accept/RETURN VALUES/1",
    "SSL_do_handshake/NOTES/bio-pair-move-data",
    "SSL_connect/NOTES/bio-pair-move-data",
    "SSL_accept/NOTES/bio-pair-move-data",
    "SSL_do_handshake/NOTES/repeat-call",
    "SSL_connect/NOTES/repeat-call",
    "SSL_accept/NOTES/repeat-call",
    "SSL_do_handshake/DESCRIPTION/drives-handshake",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_NONE",
    "SSL_get_error/DESCRIPTION/classifies-io-result",
)
def test_handshake_completes_after_bytes_arrive(h: Harness) -> None:
    """After each WANT_READ the bytes are moved and the call repeated; both sides end with 1."""
    pair = h.pair()
    result = pair.handshake()
    assert result.client is not None and result.client.ret == 1, result.client
    assert result.server is not None and result.server.ret == 1, result.server
    assert result.client_seen and set(result.client_seen) <= {WANT_READ, SslError.SSL_ERROR_WANT_WRITE}
    # The connection is usable afterwards.
    pair.send(b"ping")


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/retry-unbounded",
    "SSL_do_handshake/NOTES/non-blocking-retry",
)
@pytest.mark.parametrize("direction", ["both", "client->server", "server->client"])
def test_handshake_over_byte_at_a_time_link(h: Harness, direction: str) -> None:
    """One byte per round: many WANT_READs in a row are normal and the handshake still completes."""
    from conformance.link import Channel

    link = Link(Channel(chunk=1) if direction != "server->client" else Channel(),
                Channel(chunk=1) if direction != "client->server" else Channel())
    pair = h.pair(link=link)
    result = pair.handshake()
    assert len(result.client_seen) + len(result.server_seen) > 20, "expected many retries on a byte link"
    pair.send(b"x" * 3000)


@pytest.mark.clauses(
    "SSL_do_handshake/DESCRIPTION/client-starts",
    "SSL_connect/DESCRIPTION/client-starts",
    "SSL_do_handshake/DESCRIPTION/set-role-first",
)
def test_do_handshake_client_starts(h: Harness) -> None:
    """In the client role the first SSL_do_handshake call sends the ClientHello (a TLS handshake record)."""
    pair = h.pair()
    pair.call(pair.client, lambda e: e.do_handshake())
    data = pair.client.take_outgoing()
    assert data[:1] == b"\x16", f"first byte {data[:1]!r} is not a handshake record"
    assert data[5:6] == b"\x01", "the first handshake message is not a ClientHello"
    pair.server.put_incoming(data)
    pair.handshake()


@pytest.mark.clauses(
    "SSL_connect/RETURN VALUES/<0",
    "SSL_accept/RETURN VALUES/<0",
    "SSL_do_handshake/RETURN VALUES/<0",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
)
@pytest.mark.needs("error_codes", "tls1_2", "tls1_3")
def test_handshake_fatal_on_version_mismatch(h: Harness) -> None:
    """Client limited to TLS 1.2, server requiring TLS 1.3: a fatal protocol error on both sides."""
    pair = h.pair(client=lambda c: c.with_(max_version="TLSv1.2"), server=lambda c: c.with_(min_version="TLSv1.3"))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert result.server is not None and result.server.error is SslError.SSL_ERROR_SSL, result.server
    assert result.client is not None and result.client.error is SslError.SSL_ERROR_SSL, result.client
    if h.has("raw_return_values"):
        assert result.server.ret < 0 and result.client.ret < 0


@pytest.mark.clauses(
    "SSL_connect/RETURN VALUES/<0",
    "SSL_accept/RETURN VALUES/<0",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
)
@pytest.mark.needs("error_codes", "cipher_selection")
def test_handshake_fatal_on_cipher_mismatch(h: Harness) -> None:
    """No TLS 1.3 cipher suite in common: the server fails the handshake, the client learns it by alert."""
    pair = h.pair(client=lambda c: c.with_(ciphersuites=("TLS_AES_128_GCM_SHA256",), min_version="TLSv1.3"),
                  server=lambda c: c.with_(ciphersuites=("TLS_CHACHA20_POLY1305_SHA256",), min_version="TLSv1.3"))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert result.server is not None and result.server.error is SslError.SSL_ERROR_SSL, result.server
    assert result.client is not None and result.client.error is SslError.SSL_ERROR_SSL, result.client


@pytest.mark.clauses(
    "SSL_connect/RETURN VALUES/<0",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
)
@pytest.mark.needs("error_codes", "peer_verification")
def test_handshake_fatal_on_untrusted_certificate(h: Harness) -> None:
    """A client that does not trust the server's CA fails the handshake with SSL_ERROR_SSL."""
    pair = h.pair(client=lambda c: c.with_(trust_other_ca=True))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert result.client is not None and result.client.error is SslError.SSL_ERROR_SSL, result.client
    assert result.server is not None and not result.server.ok, result.server


@pytest.mark.clauses(
    "SSL_accept/RETURN VALUES/<0",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
)
@pytest.mark.needs("error_codes")
def test_accept_fatal_on_garbage(h: Harness) -> None:
    """Bytes that are not a TLS record make the server fail with SSL_ERROR_SSL, not hang or crash."""
    pair = h.pair()
    pair.server.put_incoming(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    out = pair.call(pair.server, lambda e: e.do_handshake())
    assert out.error is SslError.SSL_ERROR_SSL, out


@pytest.mark.clauses(
    "SSL_do_handshake/RETURN VALUES/<0",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
)
@pytest.mark.needs("error_codes")
def test_handshake_eof_from_peer_is_an_error(h: Harness) -> None:
    """The transport closes in the middle of the handshake: the client fails instead of waiting forever."""
    from conformance.link import Channel

    pair = h.pair(link=Link(Channel(), Channel(close_after=40)))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake(), until="client")
    assert result.client is not None and result.client.fatal, result.client
