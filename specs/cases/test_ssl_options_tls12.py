"""Cases for the TLS 1.2 options of SSL_CTX_set_options.pod (encrypt-then-MAC, extended master secret, secure
renegotiation and the renegotiation switches), at the C-API tier: SSL objects on BIO pairs, the hellos read from
the bytes between them (TLS 1.2 hellos are plaintext)."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from conformance.stacks.base import EndpointConfig
from specs.cases._renegotiation import link_ccs, new_handshake_on_link, renegotiate
from specs.cases._ssl_objects import WANT, Mem, error, handshake, move
from specs.cases._wire import records

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role", "tls1_2")

HANDSHAKE = 22
CLIENT_HELLO, SERVER_HELLO = 1, 2
EXTENSIONS = {"SSL_OP_NO_ENCRYPT_THEN_MAC": 22, "SSL_OP_NO_EXTENDED_MASTER_SECRET": 23}
# a CBC suite, so that encrypt-then-MAC applies (RFC 7366 leaves AEAD suites alone)
CBC_SUITE = "ECDHE-ECDSA-AES128-SHA"


def _hello_extensions(data: bytes, msg_type: int) -> list[int]:
    """The extension types of the first ClientHello / ServerHello in ``data`` (plaintext handshake records)."""
    body = b"".join(r.body for r in records(data) if r.type == HANDSHAKE)
    while len(body) >= 4:
        kind, length = body[0], int.from_bytes(body[1:4], "big")
        msg, body = body[4:4 + length], body[4 + length:]
        if kind != msg_type:
            continue
        at = 2 + 32
        at += 1 + msg[at]  # legacy_session_id
        if msg_type == CLIENT_HELLO:
            at += 2 + int.from_bytes(msg[at:at + 2], "big")  # cipher_suites
            at += 1 + msg[at]  # compression methods
        else:
            at += 2 + 1  # cipher_suite, compression method
        end = at + 2 + int.from_bytes(msg[at:at + 2], "big") if at + 2 <= len(msg) else at
        at += 2
        found = []
        while at + 4 <= end:
            found.append(int.from_bytes(msg[at:at + 2], "big"))
            at += 4 + int.from_bytes(msg[at + 2:at + 4], "big")
        return found
    raise AssertionError(f"no handshake message of type {msg_type} in {len(data)} bytes")


def _tls12_pair(h: Harness) -> tuple[Mem, Mem]:
    def listing(c: EndpointConfig) -> EndpointConfig:
        return c.with_(max_version="TLSv1.2", cipher_list=(CBC_SUITE,))
    h.need("cipher_list")
    return Mem(h, Role.CLIENT, adjust=listing), Mem(h, Role.SERVER, adjust=listing)


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/no-encrypt-then-mac",
                     "SSL_CTX_set_options/NOTES/no-extended-master-secret")
@pytest.mark.parametrize("where", ["none", "client", "server"])
@pytest.mark.parametrize("option", list(EXTENSIONS))
def test_option_keeps_the_extension_out_of_the_hellos(h: Harness, option: str, where: str) -> None:
    """A TLS 1.2 client proposes encrypt_then_mac and extended_master_secret and a server accepts them; with the
    option on the client it does not propose that extension, with the option on the server it does not accept it
    (its ServerHello leaves it out although the client proposed it)."""
    api = h.capi
    client, server = _tls12_pair(h)
    for side, name in ((client, "client"), (server, "server")):
        api.SSL_set_options(side.ssl, getattr(K, option) if where == name else 0)
    ext = EXTENSIONS[option]
    ret = api.SSL_do_handshake(client.ssl)
    assert error(api, client.ssl, ret) in WANT, f"client SSL_do_handshake -> {ret}"
    hello = client.take()
    proposed = _hello_extensions(hello, CLIENT_HELLO)
    server.give(hello)
    ret = api.SSL_do_handshake(server.ssl)
    assert error(api, server.ssl, ret) in WANT, f"server SSL_do_handshake -> {ret}"
    flight = server.take()
    accepted = _hello_extensions(flight, SERVER_HELLO)
    h.trace.note(f"{option} on {where}: ClientHello extensions {proposed}, ServerHello extensions {accepted}")
    assert (ext in proposed) == (where != "client"), \
        f"extension {ext} {'in' if ext in proposed else 'missing from'} the ClientHello with the option on {where}"
    assert (ext in accepted) == (where == "none"), \
        f"extension {ext} {'in' if ext in accepted else 'missing from'} the ServerHello with the option on {where}"
    client.give(flight)
    handshake(h, client, server)


@pytest.mark.clauses("SSL_CTX_set_options/RETURN VALUES/secure-renegotiation-support",
                     "SSL_CTX_set_options/SECURE RENEGOTIATION/always-rfc5746",
                     "SSL_CTX_set_options/SECURE RENEGOTIATION/patched-peers-renegotiate")
@pytest.mark.needs("renegotiation")
def test_patched_peers_support_secure_renegotiation(h: Harness) -> None:
    """Two endpoints of the stack speak RFC 5746 without being told to: after a TLS 1.2 handshake
    SSL_get_secure_renegotiation_support() is 1 on both, and a renegotiation (the server allowing client-initiated
    ones) completes."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    server = Mem(h, Role.SERVER, before_new=lambda ctx: api.SSL_CTX_set_options(
        ctx, K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION))
    handshake(h, client, server)
    support = [api.SSL_get_secure_renegotiation_support(s.ssl) for s in (client, server)]
    h.trace.note(f"SSL_get_secure_renegotiation_support: client {support[0]}, server {support[1]}")
    assert support == [1, 1], f"SSL_get_secure_renegotiation_support (client, server) = {support}, not 1 on both"
    assert api.SSL_renegotiate(client.ssl) == 1
    renegotiate(h, client, server)
    assert api.SSL_write(client.ssl, b"after") == 5
    move(client, server)
    assert api.SSL_read(server.ssl, 10) == (5, b"after")


def _client_renegotiation(h: Harness, server_options: int) -> SslError | int | None:
    """A TLS 1.2 client asks to renegotiate; the server only reads. The client's failure, or None if the new
    handshake completed."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    server = Mem(h, Role.SERVER)
    api.SSL_set_options(server.ssl, server_options)  # 0: the server's default options
    handshake(h, client, server)
    assert api.SSL_renegotiate(client.ssl) == 1
    before = link_ccs(h, client, server)
    for _ in range(30):
        ret = api.SSL_do_handshake(client.ssl)
        if ret <= 0 and error(api, client.ssl, ret) not in WANT:
            api.ERR_clear_error()
            return error(api, client.ssl, ret)
        moved = move(client, server)
        r, _ = api.SSL_read(server.ssl, 10)
        assert r > 0 or error(api, server.ssl, r) in WANT, f"server SSL_read -> {r}, {error(api, server.ssl, r)}"
        moved += move(client, server)
        if ret == 1 and not moved and not api.SSL_renegotiate_pending(client.ssl):
            # a declined renegotiation the client carried on from would also end here: the link tells
            assert new_handshake_on_link(h, client, server, before), \
                "the client's renegotiation is over by SSL_do_handshake and SSL_renegotiate_pending, but no new " \
                "handshake completed on the wire"
            return None
    raise AssertionError("the renegotiation neither completed nor failed")


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/allow-client-renegotiation")
@pytest.mark.needs("renegotiation")
@pytest.mark.parametrize("allowed", [False, True], ids=["default", "allowed"])
def test_client_renegotiation_needs_the_servers_permission(h: Harness, allowed: bool) -> None:
    """A server with its default options refuses a client's renegotiation (the client's connection fails on the
    refusal); with SSL_OP_ALLOW_CLIENT_RENEGOTIATION the new handshake completes."""
    failure = _client_renegotiation(h, K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION if allowed else 0)
    h.trace.note(f"client renegotiation, server {'allows' if allowed else 'default'}: {failure or 'completed'}")
    if allowed:
        assert failure is None, f"the server allowed client renegotiation, yet the client failed: {failure}"
    else:
        assert failure is not None, "the server renegotiated with a client although it did not allow it"


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/no-renegotiation")
@pytest.mark.needs("renegotiation")
@pytest.mark.parametrize("starter", ["client", "server"])
def test_no_renegotiation_option(h: Harness, starter: str) -> None:
    """SSL_OP_NO_RENEGOTIATION on the server (together with SSL_OP_ALLOW_CLIENT_RENEGOTIATION, which it
    overrides): a client's renegotiation is refused; the server itself sends no HelloRequest (SSL_renegotiate
    schedules nothing and nothing is written)."""
    api = h.capi
    options = K.SSL_OP_NO_RENEGOTIATION | K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION
    if starter == "client":
        failure = _client_renegotiation(h, options)
        h.trace.note(f"client renegotiation against SSL_OP_NO_RENEGOTIATION: {failure or 'completed'}")
        assert failure is not None, "the server renegotiated despite SSL_OP_NO_RENEGOTIATION"
        return
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    server = Mem(h, Role.SERVER)
    api.SSL_set_options(server.ssl, options)
    handshake(h, client, server)
    ret = api.SSL_renegotiate(server.ssl)
    api.ERR_clear_error()
    api.SSL_do_handshake(server.ssl)
    api.ERR_clear_error()
    sent = server.take()
    h.trace.note(f"server SSL_renegotiate -> {ret}; {len(sent)} bytes written after SSL_do_handshake")
    assert not sent, f"the server wrote {len(sent)} bytes (a HelloRequest) despite SSL_OP_NO_RENEGOTIATION"


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/no-session-resumption-on-renegotiation")
@pytest.mark.needs("renegotiation", "session_resumption", "session_reused")
@pytest.mark.parametrize("option", [False, True], ids=["default", "NO_SESSION_RESUMPTION_ON_RENEGOTIATION"])
def test_renegotiation_resumes_unless_the_server_forbids_it(h: Harness, option: bool) -> None:
    """A TLS 1.2 client renegotiates with SSL_renegotiate_abbreviated (it offers its session): a server with its
    default options resumes it; with SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION the server makes a new session
    (SSL_session_reused is 0 on both sides)."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    server = Mem(h, Role.SERVER)
    api.SSL_set_options(server.ssl, K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION
                        | (K.SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION if option else 0))
    handshake(h, client, server)
    assert api.SSL_renegotiate_abbreviated(client.ssl) == 1
    renegotiate(h, client, server)
    reused = [api.SSL_session_reused(s.ssl) for s in (client, server)]
    h.trace.note(f"after the renegotiation: SSL_session_reused (client, server) = {reused}")
    want = [0, 0] if option else [1, 1]
    assert reused == want, f"SSL_session_reused (client, server) = {reused}, not {want}"
