"""TLS 1.2 interoperability cases: run on every (client stack, server stack) pair that speaks TLS 1.2."""

from __future__ import annotations

import pytest

from conformance.harness import Harness, Pair
from conformance.link import Link
from conformance.outcome import SslError
from conformance.stacks.base import EndpointConfig
from specs.cases._renegotiation import RenegotiationEnd
from specs.cases._tls12wire import tapped
from specs.cases.test_interop import _exchange

pytestmark = pytest.mark.interop

# suite -> the server certificate's key type
SUITES = {
    "ECDHE-ECDSA-AES128-GCM-SHA256": "ecdsa",
    "ECDHE-RSA-AES128-GCM-SHA256": "rsa",
    "ECDHE-ECDSA-AES256-GCM-SHA384": "ecdsa",
    "ECDHE-RSA-AES256-GCM-SHA384": "rsa",
    "ECDHE-ECDSA-CHACHA20-POLY1305": "ecdsa",
    "ECDHE-RSA-CHACHA20-POLY1305": "rsa",
    "ECDHE-ECDSA-AES128-SHA": "ecdsa",
    "ECDHE-RSA-AES128-SHA": "rsa",
    "ECDHE-ECDSA-AES256-SHA": "ecdsa",
    "ECDHE-RSA-AES256-SHA": "rsa",
    "ECDHE-ECDSA-AES128-SHA256": "ecdsa",
    "ECDHE-RSA-AES128-SHA256": "rsa",
}
GROUPS = ("x25519", "secp256r1", "secp384r1")
LINKS = {"whole": Link.whole, "byte-at-a-time": Link.byte_at_a_time}


def _tls12(c: EndpointConfig) -> EndpointConfig:
    return c.with_(max_version="TLSv1.2")


def _pair12(h: Harness, link: Link | None = None) -> Pair:
    h.need("tls1_2")
    return h.pair(client=_tls12, link=link)


def _is_tls12(pair: Pair) -> None:
    for endpoint in (pair.client, pair.server):
        version = endpoint.negotiated_version()
        assert version in (None, "TLSv1.2"), f"{endpoint.label} negotiated {version}, the client allowed TLS 1.2 only"


@pytest.mark.clauses("RFC5246/7.3/full-handshake")
def test_tls12_handshake_and_data_both_ways(h: Harness) -> None:
    pair = _pair12(h)
    pair.handshake()
    _is_tls12(pair)
    _exchange(pair, b"hello over TLS 1.2")
    _exchange(pair, b"and back", to_server=False)


@pytest.mark.clauses("RFC5246/A.5/cipher-suites")
@pytest.mark.parametrize("link", list(LINKS))
@pytest.mark.parametrize("suite", list(SUITES))
def test_tls12_each_cipher_suite(h: Harness, suite: str, link: str) -> None:
    h.need("tls1_2")
    h.need("cipher_list", stacks=(h.client_stack,))
    # a server whose list can be set offers the suite too (a library default may leave out the SHA-1 suites)
    server_list = (suite,) if h.server_stack.lacks("cipher_list") is None else None
    pair = h.pair(
        client=lambda c: c.with_(max_version="TLSv1.2", cipher_list=(suite,)),
        server=lambda c: c.with_(server_key=SUITES[suite], cipher_list=server_list),
        link=LINKS[link](),
    )
    pair.handshake()
    _is_tls12(pair)
    for endpoint in (pair.client, pair.server):
        name = endpoint.negotiated_cipher()
        assert name in (None, suite), f"{endpoint.label} negotiated {name}, the client offered only {suite}"
    _exchange(pair, b"x" * 3000)
    _exchange(pair, b"y" * 3000, to_server=False)


@pytest.mark.clauses("RFC5246/7.4.3/ecdhe-groups")
@pytest.mark.parametrize("group", GROUPS)
def test_tls12_each_group(h: Harness, group: str) -> None:
    """An RSA server certificate: with ECDSA the certificate's curve would have to be among the client's groups too
    (RFC 8422 section 5.1), which a client listing only x25519 or secp384r1 does not allow."""
    h.need("tls1_2")
    h.need("group_selection", stacks=(h.client_stack,))
    pair = h.pair(
        client=lambda c: c.with_(max_version="TLSv1.2", groups=(group,)),
        server=lambda c: c.with_(server_key="rsa"),
    )
    pair.handshake()
    _is_tls12(pair)
    _exchange(pair, b"g" * 1000)
    _exchange(pair, b"h" * 1000, to_server=False)


@pytest.mark.clauses("RFC5246/6.2.1/fragmentation")
def test_tls12_byte_at_a_time(h: Harness) -> None:
    pair = _pair12(h, link=Link.byte_at_a_time())
    pair.handshake()
    _is_tls12(pair)
    _exchange(pair, b"z" * 2000)
    _exchange(pair, b"w" * 2000, to_server=False)


@pytest.mark.clauses("RFC5246/6.2/bulk-data")
def test_tls12_one_mebibyte_each_way(h: Harness) -> None:
    pair = _pair12(h)
    pair.handshake()
    data = h.rng.randbytes(1 << 20)
    _exchange(pair, data)
    _exchange(pair, data[::-1], to_server=False)


@pytest.mark.clauses("RFC5246/7.4.1.1/renegotiation")
@pytest.mark.parametrize("starter", ["client", "server"])
def test_tls12_renegotiation(h: Harness, starter: str) -> None:
    """The starter renegotiates (SSL_renegotiate + SSL_do_handshake); both sides then only read and write, and the
    new handshake happens inside those calls. A server lets clients renegotiate (SSL_OP_ALLOW_CLIENT_RENEGOTIATION).
    Both stacks must be able to renegotiate: the peer carries out the new handshake. The end of the renegotiation
    is the starter's SSL_renegotiate_pending, or, on a client without it, its SSL_do_handshake returning 1, together
    with a ChangeCipherSpec record each way on the tapped link (:class:`RenegotiationEnd`): a renegotiation the
    server declined with a warning, after which the client carried on, does not count."""
    h.need("tls1_2", "renegotiate")
    pair = h.pair(client=_tls12, server=lambda c: c.with_(allow_client_renegotiation=True), link=tapped()[0])
    pair.handshake()
    _exchange(pair, b"before")
    endpoint = pair.client if starter == "client" else pair.server
    end = RenegotiationEnd(h, pair, endpoint)
    out = pair.call(endpoint, lambda e: e.renegotiate())  # once: a retry would ask for a second renegotiation
    end.started(out)
    # both sides read, as an application waiting for data would, until the new handshake is through
    for _ in range(50):
        for side in (pair.client, pair.server):
            got = pair.call(side, lambda e: e.read(100))
            assert pair.wants_again(got), f"{side.label} read during the renegotiation: {got}"
        if not pair.settle() and end.over():
            break
    assert end.over(), "the renegotiation never completed"
    for i in range(3):
        _exchange(pair, b"during and after %d" % i, to_server=starter == "client")
        _exchange(pair, b"the other way %d" % i, to_server=starter != "client")
    assert end.over(), "the renegotiation never completed"
    if starter == "server":
        # the server's flag says its side is over; the client's side is over when its SSL_do_handshake returns 1
        # (SSL_do_handshake.pod: the handshake was completed), not still waiting for the server's Finished
        done = pair.call(pair.client, lambda e: e.do_handshake())
        assert done.ok, f"the server's renegotiation is not over on {pair.client.label}: {done}"


@pytest.mark.clauses("RFC5246/7.2.1/close-notify")
@pytest.mark.parametrize("closer", ["client", "server"])
def test_tls12_close_notify(h: Harness, closer: str) -> None:
    pair = _pair12(h)
    pair.handshake()
    _exchange(pair, b"last words", to_server=closer == "client")
    pair.drive_sides({closer: lambda e: e.shutdown()})
    other = "server" if closer == "client" else "client"
    out = getattr(pair.drive_sides({other: lambda e: e.read(100)}), other)
    assert out is not None and out.error is SslError.SSL_ERROR_ZERO_RETURN, out


@pytest.mark.clauses("RFC5246/7.4.6/client-certificate")
def test_tls12_client_certificate(h: Harness) -> None:
    h.need("tls1_2")
    h.need("present_client_certificate", stacks=(h.client_stack,))
    h.need("request_client_certificate", stacks=(h.server_stack,))
    pair = h.pair(
        client=lambda c: c.with_(max_version="TLSv1.2", present_certificate=True),
        server=lambda c: c.with_(verify_peer=True),
    )
    pair.handshake()
    _is_tls12(pair)
    _exchange(pair, b"authenticated over TLS 1.2")
    _exchange(pair, b"welcome", to_server=False)
