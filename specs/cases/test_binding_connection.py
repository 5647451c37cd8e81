"""Per-connection settings through the normalised endpoint: SSL_set_verify (``Endpoint.set_verify``), SSL_set_options
(``Endpoint.set_options``), SSL_set_shutdown (``Endpoint.set_shutdown``) and the verify depth
(``EndpointConfig.verify_depth``, SSL_CTX_set_verify_depth), so that bindings exposing them (pyOpenSSL's
``Connection.set_verify`` / ``set_options`` / ``set_shutdown`` and ``Context.set_verify_depth``) are checked as well
as the C-API stacks, whose own cases are in test_ssl_verify_callback.py, test_ssl_options.py and
test_ssl_shutdown.py.

Each case sets the connection against its context, so that a library which ignored the per-connection call would
end the handshake the other way: a context that does not verify and a connection that does, a context callback and a
connection callback that answer differently."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.certs import chained_pki
from conformance.harness import Harness, Pair
from conformance.outcome import Outcome, Role, SslError
from conformance.stacks.base import EndpointConfig
from specs.cases.test_binding_verify_options import Calls

# every case but the one on a lone client needs a pair of the stack: a client and a server
PAIR = pytest.mark.needs("client_role", "server_role")

SENT, RECEIVED = K.SSL_SENT_SHUTDOWN, K.SSL_RECEIVED_SHUTDOWN


def _handshake(h: Harness, pair: Pair) -> tuple[Outcome | None, Outcome | None]:
    result = pair.pump.handshake()
    h.trace.note(f"handshake: client {result.client}, server {result.server}")
    return result.client, result.server


def _client_verify(h: Harness) -> None:
    h.need("connection_verify", "peer_verification", stacks=(h.client_stack,))


# ---- SSL_set_verify --------------------------------------------------------------------------------------------------

@PAIR
@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/peer-client-verifies-chain")
@pytest.mark.needs("error_codes")
def test_binding_connection_verify_peer_over_a_context_that_does_not(h: Harness) -> None:
    """The client's context is SSL_VERIFY_NONE and trusts an unrelated CA; SSL_set_verify(SSL_VERIFY_PEER) on the
    connection makes it verify: the server's chain does not verify and the client's handshake fails with
    SSL_ERROR_SSL (with the context's mode it would complete)."""
    _client_verify(h)
    pair = h.pair(client=lambda c: c.with_(verify_peer=False, trust_other_ca=True, check_host=False))
    pair.client.set_verify(K.SSL_VERIFY_PEER, None)
    client, server = _handshake(h, pair)
    assert client is not None and client.error is SslError.SSL_ERROR_SSL, (
        f"SSL_VERIFY_PEER set on the connection must fail an untrusted chain with SSL_ERROR_SSL: {client}")
    assert server is None or not server.ok, f"the server must not complete the handshake: {server}"


@PAIR
@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/none-client-continues")
def test_binding_connection_verify_none_over_a_verifying_context(h: Harness) -> None:
    """The client's context is SSL_VERIFY_PEER and trusts an unrelated CA; SSL_set_verify(SSL_VERIFY_NONE) on the
    connection lets the handshake go on whatever the verification found, and data flows. (The verify result that
    SSL_get_verify_result() reads afterwards is checked by the C-API case test_verify_none_client_continues.)"""
    _client_verify(h)
    pair = h.pair(client=lambda c: c.with_(trust_other_ca=True, check_host=False))
    pair.client.set_verify(K.SSL_VERIFY_NONE, None)
    pair.handshake()
    pair.send(b"not verified, by the connection's choice")


@PAIR
@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/callback-zero-stops",
                     "SSL_CTX_set_verify/NOTES/callback-per-level-from-root")
@pytest.mark.needs("error_codes")
def test_binding_connection_callback_replaces_the_context_callback(h: Harness) -> None:
    """A good chain. The context's callback accepts; the connection's, set with SSL_set_verify, refuses: only the
    connection's is called, once (a refusing callback stops verification at its first call, the root's level), and
    the client's handshake fails with SSL_ERROR_SSL."""
    _client_verify(h)
    h.need("verify_callback", stacks=(h.client_stack,))
    context_calls, connection_calls = Calls(answer=True), Calls(answer=False)
    pair = h.pair(client=lambda c: c.with_(verify_callback=context_calls))
    pair.client.set_verify(K.SSL_VERIFY_PEER, connection_calls)
    client, server = _handshake(h, pair)
    h.trace.note(f"context callback calls {context_calls.seen}; connection callback calls {connection_calls.seen}")
    assert not context_calls.seen, f"the context's callback was replaced, yet called: {context_calls.seen}"
    assert len(connection_calls.seen) == 1, (
        f"the connection's refusing callback must be called once, then verification stops: {connection_calls.seen}")
    assert connection_calls.seen[0][1] >= 1, (
        f"the first call is for the root's level, not depth 0: {connection_calls.seen}")
    assert client is not None and client.error is SslError.SSL_ERROR_SSL, (
        f"the refused chain must fail the client's handshake with SSL_ERROR_SSL: {client}")
    assert server is None or not server.ok, f"the server must not complete the handshake: {server}"


@PAIR
@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/callback-one-continues")
def test_binding_connection_callback_accepting_an_untrusted_chain(h: Harness) -> None:
    """The client's context verifies (SSL_VERIFY_PEER, an unrelated CA, no callback); a callback set on the
    connection that always accepts lets the untrusted chain through: the handshake completes, data flows, and the
    callback was shown the error."""
    _client_verify(h)
    h.need("verify_callback", stacks=(h.client_stack,))
    calls = Calls(answer=True)
    pair = h.pair(client=lambda c: c.with_(trust_other_ca=True, check_host=False))
    pair.client.set_verify(K.SSL_VERIFY_PEER, calls)
    pair.handshake()
    h.trace.note(f"connection callback calls (preverify_ok, depth, error): {calls.seen}")
    assert any(not ok for ok, _, _ in calls.seen), f"the callback was never shown the error: {calls.seen}"
    pair.send(b"accepted by the connection's callback")


@PAIR
@pytest.mark.clauses("SSL_CTX_set_verify/DESCRIPTION/ssl-null-callback-keeps")
@pytest.mark.needs("error_codes")
def test_binding_connection_verify_without_callback_keeps_the_context_callback(h: Harness) -> None:
    """The client's context is SSL_VERIFY_NONE with a callback that refuses; SSL_set_verify(SSL_VERIFY_PEER, NULL) on
    the connection changes the mode and keeps the callback the connection got from its context: that callback is
    called and its refusal fails a good chain with SSL_ERROR_SSL."""
    _client_verify(h)
    h.need("verify_callback", stacks=(h.client_stack,))
    calls = Calls(answer=False)
    pair = h.pair(client=lambda c: c.with_(verify_peer=False, verify_callback=calls))
    pair.client.set_verify(K.SSL_VERIFY_PEER, None)
    client, _server = _handshake(h, pair)
    h.trace.note(f"context callback calls (preverify_ok, depth, error): {calls.seen}")
    assert calls.seen, "SSL_set_verify with a NULL callback must keep the context's callback, which was never called"
    assert client is not None and client.error is SslError.SSL_ERROR_SSL, (
        f"the kept callback refused: the client's handshake must fail with SSL_ERROR_SSL: {client}")


# ---- SSL_set_options -------------------------------------------------------------------------------------------------

@PAIR
@pytest.mark.clauses("SSL_CTX_set_options/NOTES/handshake-uses-object-options",
                     "SSL_CTX_set_options/NOTES/no-version-options")
@pytest.mark.needs("tls1_2", "tls1_3")
def test_binding_connection_options_govern_the_handshake(h: Harness) -> None:
    """The client's context allows TLS 1.2 and 1.3; SSL_set_options(SSL_OP_NO_TICKET), then
    SSL_set_options(SSL_OP_NO_TLSv1_3) on the connection: the connection is TLS 1.2."""
    h.need("connection_options", stacks=(h.client_stack,))
    pair = h.pair()
    first = pair.client.set_options(("SSL_OP_NO_TICKET",))
    mask = pair.client.set_options(("SSL_OP_NO_TLSv1_3",))
    h.trace.note(f"SSL_set_options returned {first!r}, then {mask!r}")
    pair.handshake()
    versions = {e.label: e.negotiated_version() for e in (pair.client, pair.server)}
    h.trace.note(f"negotiated: {versions}")
    assert all(v in (None, "TLSv1.2") for v in versions.values()), (
        f"SSL_OP_NO_TLSv1_3 on the client connection: the connection must be TLS 1.2: {versions}")
    assert any(v is not None for v in versions.values()), f"no side reports its version: {versions}"
    pair.send(b"over TLS 1.2")


@pytest.mark.clauses("SSL_CTX_set_options/RETURN VALUES/set-returns-new-mask")
def test_binding_connection_set_options_returns_the_new_mask(h: Harness) -> None:
    """SSL_set_options(SSL_OP_NO_TICKET), then SSL_set_options(SSL_OP_CIPHER_SERVER_PREFERENCE) on a new client
    connection (two options OpenSSL 1.0.2 already has, neither on by default): each call returns the mask after it,
    so the first holds SSL_OP_NO_TICKET and the second both bits (options add up).
    A binding whose set_options gives no mask back (the adapter returns None) cannot show the return value. The
    connection is a client on its own: no handshake, so a stack that cannot play the server is judged too."""
    h.need("client_role", "connection_options", stacks=(h.client_stack,))
    client = h.client_stack.endpoint(EndpointConfig(role=Role.CLIENT, verify_peer=True),
                                     f"client({h.client_stack.name})")
    h.endpoints.append(client)  # closed with the case
    attach = getattr(client, "attach_trace", None)
    if attach is not None:  # a C-API endpoint reports the library functions it calls, as in a pair
        attach(h.trace)
    first = client.set_options(("SSL_OP_NO_TICKET",))
    mask = client.set_options(("SSL_OP_CIPHER_SERVER_PREFERENCE",))
    h.trace.note(f"SSL_set_options returned {first!r}, then {mask!r}")
    if first is None or mask is None:
        h.not_applicable(f"{h.client_stack.name}: the binding's SSL_set_options wrapper returns no option mask")
        return
    assert first & K.SSL_OP_NO_TICKET, f"the mask after SSL_set_options(SSL_OP_NO_TICKET) lacks it: {first:#x}"
    want = K.SSL_OP_NO_TICKET | K.SSL_OP_CIPHER_SERVER_PREFERENCE
    assert mask & want == want, f"the mask after the second call must hold both options: {mask:#x} (first {first:#x})"


# ---- SSL_set_shutdown ------------------------------------------------------------------------------------------------

@PAIR
@pytest.mark.clauses("SSL_set_shutdown/DESCRIPTION/set-replaces-state",
                     "SSL_set_shutdown/NOTES/set-without-alert",
                     "SSL_set_shutdown/RETURN VALUES/get-current")
@pytest.mark.needs("shutdown_state", "set_shutdown", "error_codes")
def test_binding_set_shutdown_replaces_the_state_and_sends_nothing(h: Harness) -> None:
    """On an established connection SSL_set_shutdown sets SENT, RECEIVED, both, then 0: each time SSL_get_shutdown
    reads back exactly that state (set replaces, it does not add), and nothing goes on the wire: the peer, reading,
    still waits for data."""
    pair = h.pair()
    pair.handshake()
    seen = []
    for state in (SENT, RECEIVED, SENT | RECEIVED, 0):
        pair.client.set_shutdown(state)
        seen.append((state, pair.client.get_shutdown(), pair.client.outgoing_pending()))
    h.trace.note(f"(set, SSL_get_shutdown, bytes waiting to go out): {seen}")
    for state, got, pending in seen:
        assert got == state, f"SSL_set_shutdown({state}) then SSL_get_shutdown: {got}; all: {seen}"
        assert pending == 0, f"SSL_set_shutdown({state}) put {pending} bytes on the wire; all: {seen}"
    read = pair.call(pair.server, lambda e: e.read(10))
    assert read.error is SslError.SSL_ERROR_WANT_READ, f"no alert was sent, so the peer's read must wait: {read}"


# ---- SSL_CTX_set_verify_depth ----------------------------------------------------------------------------------------

@PAIR
@pytest.mark.clauses("SSL_CTX_set_verify/DESCRIPTION/depth-limits-chain")
@pytest.mark.needs("verify_depth", "peer_verification", "error_codes")
@pytest.mark.parametrize("depth", [0, 1])
def test_binding_verify_depth_counts_intermediates(h: Harness, depth: int) -> None:
    """A server certificate issued by an intermediate, which the server sends with it, and a client trusting the
    root (server, intermediate, trust anchor): with SSL_CTX_set_verify_depth 1 the chain verifies and data flows;
    with 0 the client's handshake fails with SSL_ERROR_SSL, and a verify callback, where the stack has one, is told
    X509_V_ERR_CERT_CHAIN_TOO_LONG."""
    pki = chained_pki()
    calls = Calls()
    with_callback = h.has("verify_callback")

    def client(c: EndpointConfig) -> EndpointConfig:
        return c.with_(pki=pki, verify_depth=depth, verify_callback=calls if with_callback else None)

    pair = h.pair(client=client, server=lambda c: c.with_(pki=pki))
    outcome, server = _handshake(h, pair)
    h.trace.note(f"verify depth {depth}; verify callback calls (preverify_ok, depth, error): {calls.seen}")
    if depth == 1:
        assert outcome is not None and outcome.ok, f"one intermediate is within depth 1: {outcome}"
        assert server is not None and server.ok, f"one intermediate is within depth 1: server {server}"
        pair.send(b"one intermediate")
        return
    assert outcome is not None and outcome.error is SslError.SSL_ERROR_SSL, (
        f"one intermediate exceeds depth 0: the client's handshake must fail with SSL_ERROR_SSL: {outcome}")
    if with_callback:
        errors = [error for _, _, error in calls.seen]
        assert K.X509_V_ERR_CERT_CHAIN_TOO_LONG in errors, (
            f"the verify callback must be told X509_V_ERR_CERT_CHAIN_TOO_LONG (22): {calls.seen}")
