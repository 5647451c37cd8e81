"""SSL_CTX_set_verify and SSL_CTX_set_options through the normalised endpoint: the verify callback and options set
by name, so that bindings which expose them (pyOpenSSL's ``Context.set_verify`` callback and ``set_options``, the
``ssl`` module's ``SSLContext.options``) are checked as well as the C-API stacks, whose own cases (with the store
context and SSL_get_verify_result) are in test_ssl_verify_callback.py and test_ssl_options.py.

The callback the case installs records ``(preverify_ok, depth, error)`` for each call and answers as the case says;
the error codes are X509_V_ codes (the same numbers in every OpenSSL-derived library)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness, Pair
from conformance.outcome import Outcome, SslError
from conformance.stacks.base import EndpointConfig

pytestmark = pytest.mark.needs("client_role", "server_role")


@dataclass
class Calls:
    """A verify callback that records each call and answers ``answer`` (None: preverify_ok, as the default one)."""

    answer: bool | None = None
    seen: list[tuple[bool, int, int]] = field(default_factory=list)

    def __call__(self, preverify_ok: bool, depth: int, error: int) -> bool:
        self.seen.append((preverify_ok, depth, error))
        return preverify_ok if self.answer is None else self.answer


def _verifying_pair(h: Harness, calls: Calls, *, untrusted: bool = False) -> Pair:
    h.need("verify_callback", "peer_verification", stacks=(h.client_stack,))
    return h.pair(client=lambda c: c.with_(verify_callback=calls, trust_other_ca=untrusted))


def _failed(h: Harness, pair: Pair) -> tuple[Outcome | None, Outcome | None]:
    result = pair.pump.handshake()
    h.trace.note(f"handshake: client {result.client}, server {result.server}")
    return result.client, result.server


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/callback-per-level-from-root")
def test_binding_verify_callback_sees_each_level_from_the_root(h: Harness) -> None:
    """A good chain (server certificate, test root): the callback is called from the root (depth 1) down to the
    server's certificate (depth 0), each time with preverify_ok 1 and X509_V_OK; the handshake completes."""
    calls = Calls()
    pair = _verifying_pair(h, calls)
    pair.handshake()
    h.trace.note(f"verify callback calls (preverify_ok, depth, error): {calls.seen}")
    depths = [depth for _, depth, _ in calls.seen]
    assert depths and depths[0] >= 1 and depths[-1] == 0 and depths == sorted(depths, reverse=True), (
        f"the callback must go from the root down to depth 0: {calls.seen}")
    assert all(ok and error == K.X509_V_OK for ok, _, error in calls.seen), (
        f"a good chain: every call with preverify_ok 1 and X509_V_OK: {calls.seen}")


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/callback-per-level-from-root",
                     "SSL_CTX_set_verify/NOTES/default-callback")
@pytest.mark.needs("error_codes")
def test_binding_verify_callback_told_of_an_untrusted_chain(h: Harness) -> None:
    """A client trusting an unrelated CA: the callback is called with preverify_ok 0 and the error of that level
    in the store context (the server sends its certificate and the test root, so OpenSSL 3.0 names the root it does
    not trust, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN at depth 1; a library that stops at the leaf names
    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY at depth 0: the page names no code); answering preverify_ok ends
    the client's handshake with SSL_ERROR_SSL."""
    calls = Calls()
    pair = _verifying_pair(h, calls, untrusted=True)
    client, _server = _failed(h, pair)
    h.trace.note(f"verify callback calls (preverify_ok, depth, error): {calls.seen}")
    bad = [(depth, error) for ok, depth, error in calls.seen if not ok]
    assert bad, f"the callback was never called with preverify_ok 0: {calls.seen}"
    untrusted = {(1, K.X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN), (0, K.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)}
    assert bad[0] in untrusted, f"first failing call (depth, error) {bad[0]}, expected one of {untrusted}"
    assert client is not None and client.error is SslError.SSL_ERROR_SSL, (
        f"answering preverify_ok 0 must fail the client's handshake with SSL_ERROR_SSL: {client}")


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/callback-one-continues")
def test_binding_verify_callback_accepting_lets_an_untrusted_chain_through(h: Harness) -> None:
    """The same untrusted server, a callback that always accepts: the handshake completes and data flows."""
    calls = Calls(answer=True)
    pair = _verifying_pair(h, calls, untrusted=True)
    pair.handshake()
    h.trace.note(f"verify callback calls (preverify_ok, depth, error): {calls.seen}")
    assert any(not ok for ok, _, _ in calls.seen), f"the callback was never shown the error: {calls.seen}"
    pair.send(b"accepted by the callback")


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/callback-zero-stops")
@pytest.mark.needs("error_codes")
def test_binding_verify_callback_refusing_fails_a_good_chain(h: Harness) -> None:
    """A good chain, a callback that always refuses: verification stops at its first call and the client's
    handshake fails with SSL_ERROR_SSL; the server does not complete either."""
    calls = Calls(answer=False)
    pair = _verifying_pair(h, calls)
    client, server = _failed(h, pair)
    h.trace.note(f"verify callback calls (preverify_ok, depth, error): {calls.seen}")
    assert len(calls.seen) == 1, f"a refusing callback stops verification at its first call: {calls.seen}"
    assert client is not None and client.error is SslError.SSL_ERROR_SSL, (
        f"the refused chain must fail the client's handshake with SSL_ERROR_SSL: {client}")
    assert server is None or not server.ok, f"the server must not complete the handshake: {server}"


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/fail-if-no-peer-cert")
@pytest.mark.needs("optional_client_certificate")
def test_binding_server_asking_without_requiring_lets_a_client_without_certificate_in(h: Harness) -> None:
    """A server with SSL_VERIFY_PEER but without SSL_VERIFY_FAIL_IF_NO_PEER_CERT (ssl.CERT_OPTIONAL) and a client
    with no certificate: the handshake goes on without one and data flows. (The refusal with the flag is
    test_interop.py's test_required_client_certificate_missing.)"""
    pair = h.pair(client=lambda c: c.with_(present_certificate=False),
                  server=lambda c: c.with_(verify_peer=True, require_client_certificate=False))
    pair.handshake()
    pair.send(b"no certificate needed")


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/no-version-options")
@pytest.mark.needs("tls1_2", "tls1_3")
@pytest.mark.parametrize("side", ["client", "server"])
def test_binding_no_tls13_option_gives_tls12(h: Harness, side: str) -> None:
    """SSL_OP_NO_TLSv1_3 on one side (the other allows TLS 1.2 and 1.3): the connection is TLS 1.2 on both."""
    h.need("ssl_options", stacks=(h.client_stack if side == "client" else h.server_stack,))
    def no13(config: EndpointConfig) -> EndpointConfig:
        return config.with_(options=("SSL_OP_NO_TLSv1_3",))
    pair = h.pair(client=no13) if side == "client" else h.pair(server=no13)
    pair.handshake()
    versions = {e.label: e.negotiated_version() for e in (pair.client, pair.server)}
    h.trace.note(f"negotiated: {versions}")
    assert all(v in (None, "TLSv1.2") for v in versions.values()), (
        f"SSL_OP_NO_TLSv1_3 on the {side}: the connection must be TLS 1.2: {versions}")
    assert any(v is not None for v in versions.values()), f"no side reports its version: {versions}"
    pair.send(b"over TLS 1.2")
