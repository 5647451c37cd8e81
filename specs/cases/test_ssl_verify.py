"""Cases for SSL_CTX_set_verify.pod, client mode: what SSL_VERIFY_PEER asks of the application (trust anchors, and no
host name), and how the name to verify (SSL_set1_host) and the SNI sent (SSL_set_tlsext_host_name) differ.

Every case runs through the normalised endpoint, so the bindings take part as far as they can set these things up;
on the C-API stacks the verification result is read as well."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.certs import SERVER_NAME
from conformance.harness import Harness, Pair
from conformance.outcome import Role, SslError
from conformance.stacks.capi_endpoint import CApiEndpoint
from specs.cases._ssl_objects import Mem, attempt_handshake, error, move

OTHER_NAME = "other.example"  # not among the names of the test PKI's server certificate


def _verify_result(h: Harness, pair: Pair) -> None:
    """On a C-API client: the chain was verified and found good (X509_V_OK)."""
    client = pair.client
    if isinstance(client, CApiEndpoint):
        result = client.api.SSL_get_verify_result(client.ssl)
        h.trace.note(f"SSL_get_verify_result(client) -> {result}")
        assert result == K.X509_V_OK, f"the chain was not verified as good: SSL_get_verify_result -> {result}"


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/peer-client-verifies-chain")
@pytest.mark.needs("peer_verification")
def test_verifying_client_needs_no_host_name(h: Harness) -> None:
    """SSL_VERIFY_PEER with the right trust anchor, no SNI and no name to verify: the chain is verified and the
    handshake completes (the most common client set-up)."""
    pair = h.pair(client=lambda c: c.with_(send_sni=False, check_host=False))
    pair.handshake()
    _verify_result(h, pair)
    pair.send(b"verified without a name")


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/peer-client-verifies-chain")
@pytest.mark.needs("peer_verification", "error_codes")
def test_verifying_client_without_host_name_still_checks_the_chain(h: Harness) -> None:
    """The same client trusting an unrelated CA: no name to check, but the chain fails, so the handshake does."""
    pair = h.pair(client=lambda c: c.with_(send_sni=False, check_host=False, trust_other_ca=True))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert result.client is not None and result.client.error is SslError.SSL_ERROR_SSL, result.client
    assert result.server is not None and not result.server.ok, result.server


@pytest.mark.clauses(
    "SSL_CTX_set_verify/NOTES/peer-client-verifies-chain",
    "SSL_CTX_set_verify/NOTES/peer-client-host-name",
)
@pytest.mark.needs("peer_verification")
def test_sni_is_not_the_name_verified(h: Harness) -> None:
    """SNI naming another host, no name to verify: the chain is good, so the handshake completes."""
    pair = h.pair(client=lambda c: c.with_(server_name=OTHER_NAME, check_host=False))
    pair.handshake()
    _verify_result(h, pair)


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/peer-client-host-name")
@pytest.mark.needs("peer_verification", "host_name_check", "error_codes")
@pytest.mark.parametrize("sni", [True, False], ids=["with-sni", "without-sni"])
def test_wrong_host_name_fails_the_handshake(h: Harness, sni: bool) -> None:
    """A name to verify that the certificate does not carry: the client fails the handshake with SSL_ERROR_SSL
    (the chain itself is good), whether or not the name was also sent as SNI. A binding that cannot check a name
    without sending it (stdlib: server_hostname is both) refuses that configuration (Unsupported: not
    applicable, with the binding's reason)."""
    pair = h.pair(client=lambda c: c.with_(server_name=OTHER_NAME, send_sni=sni))
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert result.client is not None and result.client.error is SslError.SSL_ERROR_SSL, result.client
    if h.has("raw_return_values"):
        assert result.client.ret < 0, result.client
    assert result.server is not None and not result.server.ok, result.server


def _attempt(h: Harness, client: Mem, server: Mem) -> SslError | int | None:
    """Drive both handshakes; None when both complete, else the client's (or server's) failing SSL_get_error."""
    failed = attempt_handshake(h, client, server)
    return None if failed is None else failed[1].error


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/peer-client-host-name")
@pytest.mark.needs("c_api", "client_role", "server_role", "error_codes")
@pytest.mark.parametrize("how", ["SSL_set1_host", "SSL_get0_param", "SSL_CTX_get0_param"])
def test_name_to_verify_through_the_c_api(h: Harness, how: str) -> None:
    """The name to verify set the three ways the C API offers (the SNI stays the right name): a name the
    certificate does not carry fails the handshake with SSL_ERROR_SSL, the right name completes it."""
    api = h.capi
    for name, good in ((OTHER_NAME, False), (SERVER_NAME, True)):
        def on_ctx(ctx: Any, name: str = name) -> None:
            if how == "SSL_CTX_get0_param":
                assert api.X509_VERIFY_PARAM_set1_host(api.SSL_CTX_get0_param(ctx), name.encode(), 0) == 1

        client = Mem(h, Role.CLIENT, before_new=on_ctx)
        if how == "SSL_set1_host":
            assert api.SSL_set1_host(client.ssl, name.encode()) == 1
        elif how == "SSL_get0_param":
            assert api.X509_VERIFY_PARAM_set1_host(api.SSL_get0_param(client.ssl), name.encode(), 0) == 1
        server = Mem(h, Role.SERVER)
        api.ERR_clear_error()
        failure = _attempt(h, client, server)
        h.trace.note(f"name to verify {name!r} set with {how}: {failure or 'handshake complete'}")
        if good:
            assert failure is None, f"the right name must pass: {failure}"
        else:
            assert failure is SslError.SSL_ERROR_SSL, f"a name the certificate lacks must fail the handshake: {failure}"
        api.ERR_clear_error()


def _client_with_mode(h: Harness, mode: int) -> tuple[Mem, Mem]:
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(trust_other_ca=True, verify_peer=False))
    api.SSL_set_verify(client.ssl, mode, None)
    return client, Mem(h, Role.SERVER)


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/none-client-continues")
@pytest.mark.needs("c_api", "client_role", "server_role")
def test_verify_none_client_continues_and_records_the_result(h: Harness) -> None:
    api = h.capi
    client, server = _client_with_mode(h, K.SSL_VERIFY_NONE)
    failure = _attempt(h, client, server)
    result = api.SSL_get_verify_result(client.ssl)
    h.trace.note(f"SSL_VERIFY_NONE, untrusted server: {failure or 'handshake complete'}; verify result {result}")
    assert failure is None, f"SSL_VERIFY_NONE must go on whatever the verification says: {failure}"
    assert result != K.X509_V_OK, "the failed verification must be readable with SSL_get_verify_result"


@pytest.mark.clauses("SSL_CTX_set_verify/BUGS/client-any-flag-verifies")
@pytest.mark.needs("c_api", "client_role", "server_role", "error_codes")
@pytest.mark.parametrize("flag", ["SSL_VERIFY_FAIL_IF_NO_PEER_CERT", "SSL_VERIFY_CLIENT_ONCE",
                                  "SSL_VERIFY_POST_HANDSHAKE"])
def test_client_verifies_with_any_flag(h: Harness, flag: str) -> None:
    api = h.capi
    client, server = _client_with_mode(h, getattr(K, flag))
    api.ERR_clear_error()
    failure = _attempt(h, client, server)
    h.trace.note(f"client mode {flag} alone, untrusted server: {failure or 'handshake complete'}")
    assert failure is SslError.SSL_ERROR_SSL, f"{flag} alone must make the client verify (BUGS): {failure}"
    api.ERR_clear_error()


@pytest.mark.clauses("RFC9846/6.2/unknown-ca", "SSL_CTX_set_verify/NOTES/peer-client-verifies-chain")
@pytest.mark.needs("c_api", "client_role", "server_role", "error_codes")
@pytest.mark.parametrize("name", [SERVER_NAME, OTHER_NAME], ids=["right-name", "wrong-name"])
def test_missing_issuer_is_unknown_ca_whatever_the_name(h: Harness, name: str) -> None:
    """A client trusting an unrelated CA, with the right or a wrong name to verify: the chain leads to no known
    CA, so the client's verification result says so and the server reads the alert unknown_ca (the name check
    does not decide the alert)."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(trust_other_ca=True, server_name=name), host_check=True)
    server = Mem(h, Role.SERVER)
    api.ERR_clear_error()
    failure = _attempt(h, client, server)
    result = api.SSL_get_verify_result(client.ssl)
    h.trace.note(f"name {name!r}, untrusted chain: client {failure}, SSL_get_verify_result -> {result}")
    assert failure is SslError.SSL_ERROR_SSL, f"the client must fail the handshake: {failure}"
    # 20 (issuer not found locally) for a server that sends its certificate alone, 19 (self-signed certificate in
    # the chain) for one that also sends the untrusted root: both say the chain has no known CA, not the name
    assert result in (K.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, K.X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN), (
        f"verify result {result}: the missing CA must decide, not the name")
    api.ERR_clear_error()
    move(client, server)
    ret = api.SSL_do_handshake(server.ssl)
    code = api.ERR_peek_error()
    h.trace.note(f"server SSL_do_handshake -> {ret}, queue: {api.ERR_error_string_n(code) if code else 'empty'}")
    assert ret < 0 and error(api, server.ssl, ret) is SslError.SSL_ERROR_SSL, ret
    assert api.ERR_GET_REASON(code) == K.SSL_R_TLSV1_ALERT_UNKNOWN_CA, (
        f"the server must read unknown_ca, its queue says {api.ERR_error_string_n(code) if code else 'nothing'}")
    api.ERR_clear_error()
