"""ALPN (RFC 7301) and SNI (RFC 6066) between two stacks: a client of one stack, a server of another, over the
harness link, in TLS 1.3 and TLS 1.2.

A client offers ``EndpointConfig.alpn`` in its order; a server supports its own ``alpn`` list and picks the first
protocol of that list the client offered (RFC 7301 section 3.2: the server's preference decides; the OpenSSL API's
SSL_select_next_proto does the same). What each side then reports is ``Endpoint.alpn_selected``. Where the client
offers nothing the server supports, the server either refuses the handshake with no_application_protocol (what
RFC 7301 asks) or, as SSL_TLSEXT_ERR_NOACK does in the OpenSSL API, goes on without ALPN; a server that cannot be
configured one of these ways is *not applicable* for that case, with its library's reason.

The SNI case checks what a server observes (``Endpoint.server_name_seen``: SSL_get_servername, a servername
callback) against the host name the client put in its ClientHello."""

from __future__ import annotations

import pytest

from conformance.certs import SERVER_NAME
from conformance.harness import Harness, Pair
from conformance.outcome import SslError
from conformance.stacks.base import EndpointConfig
from specs.cases._wire import assert_fatal, words
from specs.cases.test_interop import _exchange

pytestmark = pytest.mark.interop

VERSIONS = pytest.mark.parametrize("version", [
    pytest.param("TLSv1.3", id="tls13"),
    pytest.param("TLSv1.2", id="tls12"),
])


def _pair(h: Harness, version: str, *, client: dict[str, object], server: dict[str, object],
          need_alpn: tuple[str, ...] = ("client", "server")) -> Pair:
    """A pair limited to ``version``, each side configured with ``client`` / ``server``; the sides named in
    ``need_alpn`` must have capability 'alpn' (roles and version first, so their reasons come first)."""
    h.need("client_role", stacks=(h.client_stack,))
    h.need("server_role", stacks=(h.server_stack,))
    h.need("tls1_2" if version == "TLSv1.2" else "tls1_3")
    for side in need_alpn:
        h.need("alpn", stacks=(h.client_stack if side == "client" else h.server_stack,))

    def adjust(changes: dict[str, object]) -> object:
        return lambda c: c.with_(min_version=version, max_version=version, **changes)

    return h.pair(client=adjust(client), server=adjust(server))  # type: ignore[arg-type]


def _selected(h: Harness, pair: Pair, *sides: str) -> dict[str, str | None]:
    got = {side: getattr(pair, side).alpn_selected() for side in sides}
    h.trace.note(f"ALPN selected: {got}")
    return got


@pytest.mark.clauses("RFC7301/3.2/server-selects", "RFC7301/3.2/server-preference")
@VERSIONS
def test_alpn_overlap_server_preference(h: Harness, version: str) -> None:
    """The client offers three protocols, the server supports two of them in the other order: the server's first
    choice is selected, both sides report it, and data flows."""
    pair = _pair(h, version, client={"alpn": ("spdy/3", "http/1.1", "h2")},
                 server={"alpn": ("h2", "http/1.1")})
    pair.handshake()
    got = _selected(h, pair, "client", "server")
    assert got == {"client": "h2", "server": "h2"}, (
        f"client offered spdy/3, http/1.1, h2; the server prefers h2 over http/1.1: expected h2 on both sides, "
        f"got {got}")
    _exchange(pair, b"GET / HTTP/2")


@pytest.mark.clauses("RFC7301/3.2/server-selects")
@VERSIONS
def test_alpn_single_common_protocol(h: Harness, version: str) -> None:
    """Exactly one protocol in common, placed last in the client's list and first in the server's."""
    pair = _pair(h, version, client={"alpn": ("h2", "http/1.1")}, server={"alpn": ("http/1.1", "spdy/3")})
    pair.handshake()
    got = _selected(h, pair, "client", "server")
    assert got == {"client": "http/1.1", "server": "http/1.1"}, f"the one common protocol is http/1.1: {got}"


@pytest.mark.clauses("RFC7301/3.2/no-overlap-alert")
@VERSIONS
def test_alpn_no_overlap_alert(h: Harness, version: str) -> None:
    """A server that insists on ALPN and shares no protocol with the client refuses the handshake with a fatal
    no_application_protocol alert; the client's handshake fails and names that alert."""
    pair = _pair(h, version, client={"alpn": ("http/1.1",)}, server={"alpn": ("h2",), "alpn_no_overlap": "alert"})
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert_fatal(result.server, h.server_stack, "the server must refuse a client that offers none of its protocols")
    client = result.client
    assert client is not None and client.error is SslError.SSL_ERROR_SSL, (
        f"the client's handshake must fail: {client}")
    # the alert's name as libraries spell it: no_application_protocol, NO_APPLICATION_PROTOCOL, NoApplicationProtocol
    assert "noapplicationprotocol" in words(client.reason).replace(" ", ""), (
        f"the client must be told by a no_application_protocol alert: {client}")


@pytest.mark.clauses("RFC7301/3.1/no-alpn-in-server-hello")
@VERSIONS
def test_alpn_no_overlap_ignored(h: Harness, version: str) -> None:
    """A server that goes on without ALPN when nothing overlaps (SSL_TLSEXT_ERR_NOACK): the handshake completes and
    neither side reports a protocol."""
    pair = _pair(h, version, client={"alpn": ("http/1.1",)}, server={"alpn": ("h2",), "alpn_no_overlap": "ignore"})
    pair.handshake()
    got = _selected(h, pair, "client", "server")
    assert got == {"client": None, "server": None}, f"nothing overlapped and the server went on: {got}"
    _exchange(pair, b"no protocol")


@pytest.mark.clauses("RFC7301/3.1/no-alpn-in-server-hello")
@VERSIONS
def test_alpn_server_without_alpn(h: Harness, version: str) -> None:
    """The client offers ALPN, the server is not configured for it: the handshake completes, nothing selected."""
    pair = _pair(h, version, client={"alpn": ("h2", "http/1.1")}, server={}, need_alpn=("client",))
    pair.handshake()
    got = _selected(h, pair, "client")
    assert got == {"client": None}, f"the server does not use ALPN, yet the client reports {got}"
    _exchange(pair, b"no protocol")


@pytest.mark.clauses("RFC7301/3.1/no-offer-no-answer")
@VERSIONS
def test_alpn_client_without_offer(h: Harness, version: str) -> None:
    """The server supports ALPN, the client offers none: the handshake completes and no protocol is selected."""
    pair = _pair(h, version, client={}, server={"alpn": ("h2", "http/1.1")}, need_alpn=("server",))
    pair.handshake()
    got = _selected(h, pair, "server")
    assert got == {"server": None}, f"the client offered no ALPN, yet the server reports {got}"
    _exchange(pair, b"no protocol")


@pytest.mark.clauses("RFC6066/3/server-sees-host-name")
@VERSIONS
@pytest.mark.parametrize("sni", ["sent", "not-sent"])
def test_sni_seen_by_server(h: Harness, version: str, sni: str) -> None:
    """The server observes the host name the client sent in its server_name extension, and none when the client
    sent none."""
    h.need("client_role", stacks=(h.client_stack,))
    h.need("server_role", stacks=(h.server_stack,))
    h.need("tls1_2" if version == "TLSv1.2" else "tls1_3")
    h.need("server_name_seen", stacks=(h.server_stack,))

    def client(c: EndpointConfig) -> EndpointConfig:
        # without SNI, the client verifies the chain only (Python's ssl checks a host name only if it sends it)
        return c.with_(min_version=version, max_version=version, send_sni=sni == "sent", check_host=sni == "sent")

    pair = h.pair(client=client, server=lambda c: c.with_(min_version=version, max_version=version))
    pair.handshake()
    seen = pair.server.server_name_seen()
    expected = SERVER_NAME if sni == "sent" else None
    h.trace.note(f"server saw server name {seen!r}")
    assert seen == expected, f"the client {'sent ' + repr(expected) if expected else 'sent no SNI'}; " \
                             f"the server observed {seen!r}"
    _exchange(pair, b"named")
