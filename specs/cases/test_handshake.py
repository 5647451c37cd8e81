"""Cases for SSL_connect, SSL_accept and SSL_do_handshake (and the SSL_get_error codes they produce).

The SSL_do_handshake cases run on every stack (a binding's handshake call is SSL_do_handshake). Each clause of
SSL_connect.pod and SSL_accept.pod is checked by calling that function: those cases need the C API and drive the
endpoints' handshakes with SSL_connect (client) and SSL_accept (server)."""

from __future__ import annotations

import pytest

from conformance.harness import Harness, Pair
from conformance.link import Link
from conformance.outcome import SslError
from conformance.stacks.capi_endpoint import as_capi_endpoint
from specs.cases._wire import assert_fatal

WANT_READ = SslError.SSL_ERROR_WANT_READ


def by_name(pair: Pair, client: str = "SSL_connect", server: str = "SSL_accept") -> Pair:
    """Make the pair's endpoints drive their handshakes with ``client`` / ``server`` (C-API stacks only)."""
    as_capi_endpoint(pair.client).handshake_function = client
    as_capi_endpoint(pair.server).handshake_function = server
    return pair


@pytest.mark.clauses(
    "SSL_do_handshake/NOTES/non-blocking-retry",
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
    "SSL_do_handshake/NOTES/bio-pair-move-data",
    "SSL_do_handshake/NOTES/repeat-call",
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
    "SSL_do_handshake/RETURN VALUES/<0",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
)
@pytest.mark.needs("error_codes", "tls1_2", "tls1_3")
def test_handshake_fatal_on_version_mismatch(h: Harness) -> None:
    """Client limited to TLS 1.2, server requiring TLS 1.3: a fatal protocol error on both sides."""
    pair = h.pair(client=lambda c: c.with_(max_version="TLSv1.2"), server=lambda c: c.with_(min_version="TLSv1.3"))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert_fatal(result.server, h.server_stack, "the server must refuse a TLS 1.2-only client")
    assert_fatal(result.client, h.client_stack, "the client must fail against a TLS 1.3-only server")
    assert result.server is not None and result.client is not None
    if h.has("raw_return_values"):
        assert result.server.ret < 0 and result.client.ret < 0


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
)
@pytest.mark.needs("error_codes", "cipher_selection")
def test_handshake_fatal_on_cipher_mismatch(h: Harness) -> None:
    """No TLS 1.3 cipher suite in common: the server fails the handshake, the client learns it by alert."""
    pair = h.pair(client=lambda c: c.with_(ciphersuites=("TLS_AES_128_GCM_SHA256",), min_version="TLSv1.3"),
                  server=lambda c: c.with_(ciphersuites=("TLS_CHACHA20_POLY1305_SHA256",), min_version="TLSv1.3"))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert_fatal(result.server, h.server_stack, "the server must fail without a common cipher suite")
    assert_fatal(result.client, h.client_stack, "the client must fail on the server's alert")


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
    "SSL_CTX_set_verify/NOTES/default-callback",
)
@pytest.mark.needs("error_codes", "peer_verification")
def test_handshake_fatal_on_untrusted_certificate(h: Harness) -> None:
    """A client that does not trust the server's CA fails the handshake with SSL_ERROR_SSL."""
    pair = h.pair(client=lambda c: c.with_(trust_other_ca=True))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert_fatal(result.client, h.client_stack, "the client must refuse an untrusted certificate")
    assert result.server is not None and not result.server.ok, result.server


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
)
@pytest.mark.needs("error_codes")
def test_accept_fatal_on_garbage(h: Harness) -> None:
    """Bytes that are not a TLS record make the server fail with SSL_ERROR_SSL, not hang or crash."""
    pair = h.pair()
    pair.server.put_incoming(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    out = pair.call(pair.server, lambda e: e.do_handshake())
    assert_fatal(out, h.server_stack, "the server must refuse bytes that are no TLS record")


@pytest.mark.clauses(
    "SSL_do_handshake/RETURN VALUES/<0",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
    "SSL_get_error/NOTES/unexpected-eof-is-ssl-error",
)
@pytest.mark.needs("error_codes")
def test_handshake_eof_from_peer_is_an_error(h: Harness) -> None:
    """The transport closes in the middle of the handshake: the client fails instead of waiting forever, and (the
    transport ended without close_notify) the failure is SSL_ERROR_SSL with its error-queue entry, as SSL_get_error.pod
    says for 3.0, not the SSL_ERROR_SYSCALL of earlier versions."""
    from conformance.link import Channel

    pair = h.pair(link=Link(Channel(), Channel(close_after=40)))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake(), until="client")
    assert result.client is not None and result.client.fatal, result.client
    assert_fatal(result.client, h.client_stack, "a handshake cut by the end of the transport")


# --- SSL_connect and SSL_accept, each called by name ----------------------------------------------------------

@pytest.mark.clauses(
    "SSL_connect/NOTES/non-blocking-retry",
    "SSL_accept/NOTES/non-blocking-retry",
    "SSL_accept/DESCRIPTION/waits-for-client",
    "SSL_connect/RETURN VALUES/<0",
    "SSL_accept/RETURN VALUES/<0",
)
@pytest.mark.needs("c_api")
def test_connect_and_accept_want_read_with_nothing_to_read(h: Harness) -> None:
    """SSL_connect sends its ClientHello and returns < 0 with WANT_READ; SSL_accept with no ClientHello yet
    returns < 0 with WANT_READ and sends nothing."""
    pair = by_name(h.pair())
    client = pair.call(pair.client, lambda e: e.do_handshake())
    assert client.op == "SSL_connect" and client.ret < 0 and client.error is WANT_READ, client
    assert pair.client.outgoing_pending() > 0, "SSL_connect should have written its ClientHello before waiting"
    server = pair.call(pair.server, lambda e: e.do_handshake())
    assert server.op == "SSL_accept" and server.ret < 0 and server.error is WANT_READ, server
    assert pair.server.outgoing_pending() == 0, "SSL_accept with no ClientHello has nothing to send"


@pytest.mark.clauses(
    "SSL_connect/RETURN VALUES/1",
    "SSL_accept/RETURN VALUES/1",
    "SSL_connect/NOTES/bio-pair-move-data",
    "SSL_accept/NOTES/bio-pair-move-data",
    "SSL_connect/NOTES/repeat-call",
    "SSL_accept/NOTES/repeat-call",
)
@pytest.mark.needs("c_api")
def test_connect_and_accept_complete_after_bytes_arrive(h: Harness) -> None:
    """SSL_connect and SSL_accept, repeated after each WANT_READ once the bytes are moved, both end with 1 and
    the connection carries data."""
    pair = by_name(h.pair())
    result = pair.handshake()
    assert result.client is not None and (result.client.op, result.client.ret) == ("SSL_connect", 1), result.client
    assert result.server is not None and (result.server.op, result.server.ret) == ("SSL_accept", 1), result.server
    assert result.client_seen and set(result.client_seen) <= {WANT_READ, SslError.SSL_ERROR_WANT_WRITE}
    assert result.server_seen, "SSL_accept never had to wait for the client, although it was called first"
    pair.send(b"ping")


@pytest.mark.clauses("SSL_connect/DESCRIPTION/client-starts")
@pytest.mark.needs("c_api")
def test_connect_sends_the_client_hello(h: Harness) -> None:
    """The first SSL_connect call writes a ClientHello (a handshake record whose first message has type 1)."""
    pair = by_name(h.pair())
    pair.call(pair.client, lambda e: e.do_handshake())
    data = pair.client.take_outgoing()
    assert data[:1] == b"\x16", f"first byte {data[:1]!r} is not a handshake record"
    assert data[5:6] == b"\x01", "the first handshake message is not a ClientHello"
    pair.server.put_incoming(data)
    pair.handshake()


@pytest.mark.clauses("SSL_connect/RETURN VALUES/<0", "SSL_accept/RETURN VALUES/<0")
@pytest.mark.needs("c_api", "error_codes", "cipher_selection")
def test_connect_and_accept_fatal_on_cipher_mismatch(h: Harness) -> None:
    """No TLS 1.3 suite in common: SSL_accept fails with < 0 and SSL_ERROR_SSL, and so does SSL_connect once the
    server's alert arrives."""
    pair = by_name(h.pair(
        client=lambda c: c.with_(ciphersuites=("TLS_AES_128_GCM_SHA256",), min_version="TLSv1.3"),
        server=lambda c: c.with_(ciphersuites=("TLS_CHACHA20_POLY1305_SHA256",), min_version="TLSv1.3")))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    for out, name in ((result.server, "SSL_accept"), (result.client, "SSL_connect")):
        assert out is not None and out.op == name, out
        assert out.ret < 0 and out.error is SslError.SSL_ERROR_SSL, out


@pytest.mark.clauses("SSL_connect/RETURN VALUES/<0")
@pytest.mark.needs("c_api", "error_codes", "peer_verification")
def test_connect_fatal_on_untrusted_certificate(h: Harness) -> None:
    """SSL_connect of a client that does not trust the server's CA returns < 0 with SSL_ERROR_SSL."""
    pair = by_name(h.pair(client=lambda c: c.with_(trust_other_ca=True)))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert result.client is not None and result.client.op == "SSL_connect", result.client
    assert result.client.ret < 0 and result.client.error is SslError.SSL_ERROR_SSL, result.client


@pytest.mark.clauses("SSL_accept/RETURN VALUES/<0")
@pytest.mark.needs("c_api", "error_codes")
def test_accept_fatal_on_garbage_by_name(h: Harness) -> None:
    """SSL_accept on bytes that are not a TLS record returns < 0 with SSL_ERROR_SSL, and does not hang."""
    pair = by_name(h.pair())
    pair.server.put_incoming(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    out = pair.call(pair.server, lambda e: e.do_handshake())
    assert out.op == "SSL_accept" and out.ret < 0 and out.error is SslError.SSL_ERROR_SSL, out


@pytest.mark.clauses("RFC9846/F.1/peer-authentication", "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL")
@pytest.mark.needs("error_codes", "peer_verification")
def test_handshake_fatal_on_wrong_host_name(h: Harness) -> None:
    """A verifying client that expects another host name than the one in the server's (otherwise trusted)
    certificate fails its handshake with SSL_ERROR_SSL and tells the server, whose handshake fails too."""
    pair = h.pair(client=lambda c: c.with_(server_name="not-the-server.test"))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert result.client is not None and result.client.error is SslError.SSL_ERROR_SSL, (
        f"the client accepted a certificate for another host: {result.client}")
    if h.has("raw_return_values"):
        assert result.client.ret < 0, result.client
    if h.has("error_queue"):
        assert result.client.reason, f"SSL_ERROR_SSL without an error-queue entry: {result.client}"
    assert result.server is not None and not result.server.ok, (
        f"the server completed a handshake its client rejected: {result.server}")
