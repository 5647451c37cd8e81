"""Interoperability cases: run on every (client stack, server stack) pair over the harness link."""

from __future__ import annotations

import pytest

from conformance.harness import Harness, Pair
from conformance.link import Link
from conformance.outcome import SslError
from conformance.pump import Goal, writes
from specs.cases._wire import assert_fatal, words

pytestmark = pytest.mark.interop

SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
GROUPS = ("x25519", "secp256r1", "secp384r1")
LINKS = {"whole": Link.whole, "byte-at-a-time": Link.byte_at_a_time}


def _exchange(pair: Pair, data: bytes, *, to_server: bool = True) -> None:
    """One side writes ``data`` (looping over partial writes), the other reads all of it."""
    writer = "client" if to_server else "server"
    reader = "server" if to_server else "client"
    sent = 0
    received = bytearray()
    while sent < len(data) or len(received) < len(data):
        goals: dict[str, Goal] = {}
        if sent < len(data):
            goals[writer] = writes(data[sent:sent + 65536])
        result = pair.drive_sides(goals) if goals else None
        if result is not None:
            out = getattr(result, writer)
            assert out is not None and out.ok, f"{writer} write failed: {out}"
            sent += out.ret
        while True:
            got = pair.call(getattr(pair, reader), lambda e: e.read(65536))
            if got.ok:
                received += got.data
                continue
            # the harness's "call again" (pump_again) counts here too: this loop checks the bytes, not retry codes
            assert pair.wants_again(got), f"{reader} read failed after {len(received)} bytes: {got}"
            break
        pair.settle()
    assert bytes(received) == data, f"{reader} received other bytes than {writer} sent"


@pytest.mark.clauses("RFC9846/2/full-handshake")
def test_handshake_and_data_both_ways(h: Harness) -> None:
    pair = h.pair()
    pair.handshake()
    if h.has("tls1_3"):  # TLS 1.3 when both stacks speak it; a pair with a TLS 1.2-only stack speaks TLS 1.2
        assert pair.client.negotiated_version() in (None, "TLSv1.3")
    _exchange(pair, b"hello from the client")
    _exchange(pair, b"hello from the server", to_server=False)


@pytest.mark.clauses("RFC9846/9.1/cipher-suites")
@pytest.mark.parametrize("link", list(LINKS))
@pytest.mark.parametrize("suite", SUITES)
def test_each_cipher_suite(h: Harness, suite: str, link: str) -> None:
    h.need("cipher_selection", stacks=(h.client_stack,))
    pair = h.pair(client=lambda c: c.with_(ciphersuites=(suite,), min_version="TLSv1.3"), link=LINKS[link]())
    pair.handshake()
    for endpoint in (pair.client, pair.server):
        name = endpoint.negotiated_cipher()
        assert name in (None, suite), f"{endpoint.label} negotiated {name}, the client offered only {suite}"
    _exchange(pair, b"x" * 1000)
    _exchange(pair, b"y" * 1000, to_server=False)


@pytest.mark.clauses("RFC9846/4.3.8/key-share-groups")
@pytest.mark.parametrize("link", list(LINKS))
@pytest.mark.parametrize("group", GROUPS)
def test_each_group(h: Harness, group: str, link: str) -> None:
    """The client offers a single group (and its key share); the server accepts it and the handshake completes."""
    h.need("group_selection", stacks=(h.client_stack,))
    pair = h.pair(client=lambda c: c.with_(groups=(group,), min_version="TLSv1.3"), link=LINKS[link]())
    pair.handshake()
    _exchange(pair, b"g" * 1000)
    _exchange(pair, b"h" * 1000, to_server=False)


@pytest.mark.clauses("RFC9846/4.2.4/hello-retry-request")
def test_hello_retry_request(h: Harness) -> None:
    """The server accepts only secp256r1; the client leads with another key share (secp384r1 where the client's
    groups can be chosen, else its default, x25519), so a HelloRetryRequest follows."""
    h.need("group_selection", stacks=(h.server_stack,))
    client = (lambda c: c.with_(groups=("secp384r1", "secp256r1"))) if h.client_stack.lacks("group_selection") is None \
        else None
    pair = h.pair(client=client, server=lambda c: c.with_(groups=("secp256r1",)))
    pair.handshake()
    _exchange(pair, b"after HRR")


@pytest.mark.clauses("RFC9846/5.1/fragmentation")
def test_byte_at_a_time(h: Harness) -> None:
    pair = h.pair(link=Link.byte_at_a_time())
    pair.handshake()
    _exchange(pair, b"z" * 2000)
    _exchange(pair, b"w" * 2000, to_server=False)


@pytest.mark.clauses("RFC9846/5.1/bulk-data")
def test_one_mebibyte_each_way(h: Harness) -> None:
    pair = h.pair()
    pair.handshake()
    data = h.rng.randbytes(1 << 20)
    _exchange(pair, data)
    _exchange(pair, data[::-1], to_server=False)


@pytest.mark.clauses("RFC9846/4.7.3/key-update")
@pytest.mark.parametrize("sender", ["client", "server"])
def test_key_update(h: Harness, sender: str) -> None:
    stack = h.client_stack if sender == "client" else h.server_stack
    h.need("key_update", stacks=(stack,))
    h.need("tls1_3")  # a KeyUpdate exists only in TLS 1.3: the receiver must speak it too
    pair = h.pair()
    pair.handshake()
    _exchange(pair, b"before")
    endpoint = pair.client if sender == "client" else pair.server
    out = pair.drive_sides({sender: lambda e: e.key_update(True)})
    assert getattr(out, sender).ok, getattr(out, sender)
    _exchange(pair, b"after one" * 100, to_server=sender == "client")
    _exchange(pair, b"after two" * 100, to_server=sender != "client")
    _exchange(pair, b"after three" * 100, to_server=sender == "client")
    del endpoint


@pytest.mark.clauses("RFC9846/6.1/close-notify")
@pytest.mark.parametrize("closer", ["client", "server"])
def test_close_notify(h: Harness, closer: str) -> None:
    pair = h.pair()
    pair.handshake()
    to_server = closer == "client"
    _exchange(pair, b"last words", to_server=to_server)
    pair.drive_sides({closer: lambda e: e.shutdown()})
    other = "server" if closer == "client" else "client"
    out = getattr(pair.drive_sides({other: lambda e: e.read(100)}), other)
    assert out is not None and out.error is SslError.SSL_ERROR_ZERO_RETURN, out


@pytest.mark.clauses("RFC9846/4.4.2/client-certificate")
def test_client_certificate(h: Harness) -> None:
    h.need("present_client_certificate", stacks=(h.client_stack,))
    h.need("request_client_certificate", stacks=(h.server_stack,))
    pair = h.pair(client=lambda c: c.with_(present_certificate=True), server=lambda c: c.with_(verify_peer=True))
    pair.handshake()
    _exchange(pair, b"authenticated")
    _exchange(pair, b"welcome", to_server=False)


CERTIFICATE_ALERTS = ("bad certificate", "unsupported certificate", "certificate unknown", "unknown ca")


def _refused_client(h: Harness, pair: Pair, alerts: tuple[str, ...]) -> None:
    """The server's handshake fails fatally; the client's handshake, or its first read after it, fails with one
    of ``alerts`` as its reason; and nothing the client writes reaches the server's application."""
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert_fatal(result.server, h.server_stack, "the server must refuse the client")
    client = result.client
    assert client is not None and (client.ok or client.error is SslError.SSL_ERROR_SSL), client
    if client.ok:  # TLS 1.3: the client finished first; the server's alert comes after
        client = pair.drive(client=lambda e: e.read(100)).client
        assert client is not None and client.error is SslError.SSL_ERROR_SSL, (
            f"the client must learn that the server refused it: {client}")
    assert any(alert in words(client.reason) for alert in alerts), (
        f"the client must be told by a {' / '.join(alerts)} alert: {client}")


@pytest.mark.clauses("RFC9846/4.5.1.3/certificate-required", "RFC9846/4.4.2/client-certificate",
                     "SSL_CTX_set_verify/NOTES/fail-if-no-peer-cert")
def test_required_client_certificate_missing(h: Harness) -> None:
    """A server that requires a client certificate, and a client that has none: the server asks (the client's
    stack answers with an empty Certificate) and refuses the client with certificate_required."""
    h.need("present_client_certificate", stacks=(h.client_stack,))
    h.need("request_client_certificate", stacks=(h.server_stack,))
    h.need("tls1_3")  # the certificate_required alert exists only in TLS 1.3
    pair = h.pair(client=lambda c: c.with_(present_certificate=False), server=lambda c: c.with_(verify_peer=True))
    _refused_client(h, pair, ("certificate required",))


@pytest.mark.clauses("RFC9846/4.5.1.3/untrusted-client-certificate",
                     "SSL_CTX_set_verify/NOTES/peer-server-requests-and-checks")
def test_required_client_certificate_untrusted(h: Harness) -> None:
    """A server that requires a client certificate and trusts only an unrelated CA: the client's certificate does
    not chain to the server's anchors, and the server refuses it with a certificate-related alert."""
    h.need("present_client_certificate", stacks=(h.client_stack,))
    h.need("request_client_certificate", stacks=(h.server_stack,))
    h.need("peer_verification")
    pair = h.pair(client=lambda c: c.with_(present_certificate=True),
                  server=lambda c: c.with_(verify_peer=True, trust_other_ca=True))
    _refused_client(h, pair, CERTIFICATE_ALERTS)


@pytest.mark.clauses("RFC9846/4.3.1/version-negotiation")
@pytest.mark.parametrize("limited", ["none", "client", "server"])
def test_version_negotiation(h: Harness, limited: str) -> None:
    h.need("tls1_2", "tls1_3")
    client = (lambda c: c.with_(max_version="TLSv1.2")) if limited == "client" else None
    server = (lambda c: c.with_(max_version="TLSv1.2")) if limited == "server" else None
    pair = h.pair(client=client, server=server)
    pair.handshake()
    expected = "TLSv1.3" if limited == "none" else "TLSv1.2"
    for endpoint in (pair.client, pair.server):
        version = endpoint.negotiated_version()
        assert version in (None, expected), f"{endpoint.label} negotiated {version}, expected {expected}"
    _exchange(pair, b"versioned")
