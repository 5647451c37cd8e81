"""Cases for SSL_CTX_set_verify.pod beyond client mode: the verify callback and its store context, the verify
depth, the server's flags, the settings themselves; and SSL_CTX_set_client_cert_cb.pod.

All run at the C-API tier (contexts built by the case from files, SSL objects on BIO pairs): the callback receives
``(preverify_ok, store_ctx)`` and reads the store context with the X509_STORE_CTX_* functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.certs import SERVER_NAME, default_pki
from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._renegotiation import renegotiate
from specs.cases._ssl_objects import Mem, move
from specs.cases._verify import chained_pki, client_ctx, drive, is_ssl_error, long_chain, new_pair, server_ctx


@dataclass(frozen=True)
class Call:
    preverify_ok: int
    depth: int
    error: int
    subject: str | None
    is_the_ssl: bool


class Recorder:
    """A verify callback that notes each call (what the store context says) and answers ``answer``; with
    ``clear`` it also clears the error it was shown (X509_STORE_CTX_set_error to X509_V_OK)."""

    def __init__(self, h: Harness, answer: int | None = None) -> None:
        self.api = h.capi
        self.answer = answer  # None: return preverify_ok
        self.calls: list[Call] = []
        self.ssl: Any = None

    def __call__(self, preverify_ok: int, store_ctx: Any) -> int:
        api = self.api
        cert = api.X509_STORE_CTX_get_current_cert(store_ctx)
        subject = None if cert is None else api.X509_NAME_oneline(api.X509_get_subject_name(cert))
        owner = api.X509_STORE_CTX_get_ex_data(store_ctx, api.SSL_get_ex_data_X509_STORE_CTX_idx())
        self.calls.append(Call(preverify_ok, api.X509_STORE_CTX_get_error_depth(store_ctx),
                               api.X509_STORE_CTX_get_error(store_ctx), subject, owner == self.ssl))
        return preverify_ok if self.answer is None else self.answer


def _verifying_client(h: Harness, recorder: Recorder | None, *, ca: Any = None, mode: int = K.SSL_VERIFY_PEER,
                      on_ssl: bool = False) -> tuple[Mem, Mem]:
    api = h.capi
    cctx = client_ctx(h, ca)
    if not on_ssl:
        api.SSL_CTX_set_verify(cctx, mode, recorder)
    # the server's own trust store holds an unrelated CA, so a server that completes its chain from that store
    # (libssl does) sends the same chain as one that does not: its certificate alone
    client, server = new_pair(h, cctx, server_ctx(h, ca=default_pki().other_ca_path))
    if on_ssl:
        api.SSL_set_verify(client.ssl, mode, recorder)
    if recorder is not None:
        recorder.ssl = client.ssl
    return client, server


# ---- the callback ------------------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/callback-per-level-from-root",
                     "SSL_CTX_set_verify/DESCRIPTION/store-ctx-names-the-ssl")
@pytest.mark.needs("c_api", "client_role", "server_role")
@pytest.mark.parametrize("where", ["SSL_CTX_set_verify", "SSL_set_verify"])
def test_callback_sees_each_level_of_a_good_chain(h: Harness, where: str) -> None:
    """A good chain (the server certificate and the test root): the callback is called at depth 1 (the root),
    then at depth 0 (the server certificate, which names the server), each time with preverify_ok 1 and
    X509_V_OK, and the store context names the client SSL as the one verifying."""
    rec = Recorder(h)
    client, server = _verifying_client(h, rec, on_ssl=where == "SSL_set_verify")
    failure = drive(h, client, server)
    h.trace.note(f"calls: {rec.calls}; handshake: {failure or 'complete'}")
    assert failure is None, f"a good chain must verify: {failure}"
    depths = [c.depth for c in rec.calls]
    assert depths and depths == sorted(depths, reverse=True) and depths[-1] == 0 and depths[0] >= 1, (
        f"the callback must go from the root down to depth 0: depths {depths}")
    assert all(c.preverify_ok == 1 and c.error == K.X509_V_OK for c in rec.calls), rec.calls
    leaf = [c for c in rec.calls if c.depth == 0][-1]
    assert leaf.subject is not None and SERVER_NAME in leaf.subject, f"current certificate at depth 0: {leaf}"
    assert all(c.is_the_ssl for c in rec.calls), "the store context's ex_data must be the verifying SSL"


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/callback-per-level-from-root",
                     "SSL_CTX_set_verify/NOTES/default-callback")
@pytest.mark.needs("c_api", "client_role", "server_role", "error_codes")
@pytest.mark.parametrize("with_callback", [True, False], ids=["returning-preverify-ok", "no-callback"])
def test_untrusted_chain_reported_with_preverify_ok_0(h: Harness, with_callback: bool) -> None:
    """A client trusting an unrelated CA: the callback is called with preverify_ok 0 and the error
    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY at depth 0; answering preverify_ok (as the default callback does)
    ends the handshake with SSL_ERROR_SSL, and the verify result is that error."""
    api = h.capi
    rec = Recorder(h) if with_callback else None
    client, server = _verifying_client(h, rec, ca=default_pki().other_ca_path)
    failure = drive(h, client, server)
    result = api.SSL_get_verify_result(client.ssl)
    h.trace.note(f"calls: {rec.calls if rec else '-'}; handshake: {failure or 'complete'}; verify result {result}")
    assert is_ssl_error(failure) and failure is not None and failure.side is Role.CLIENT, (
        f"the client must fail the handshake: {failure}")
    assert result == K.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, f"verify result {result}"
    if rec is not None:
        bad = [c for c in rec.calls if c.preverify_ok == 0]
        assert bad, f"the callback was never told of the error: {rec.calls}"
        assert (bad[0].depth, bad[0].error) == (0, K.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY), bad[0]


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/callback-one-continues")
@pytest.mark.needs("c_api", "client_role", "server_role")
def test_callback_returning_one_lets_the_handshake_through(h: Harness) -> None:
    """The same untrusted server, a callback that always returns 1: the handshake completes, and the last error
    the callback was shown (and overrode) is the verify result."""
    api = h.capi
    rec = Recorder(h, answer=1)
    client, server = _verifying_client(h, rec, ca=default_pki().other_ca_path)
    failure = drive(h, client, server)
    result = api.SSL_get_verify_result(client.ssl)
    h.trace.note(f"calls: {rec.calls}; handshake: {failure or 'complete'}; verify result {result}")
    assert failure is None, f"a callback returning 1 must not let verification end the handshake: {failure}"
    shown = [c.error for c in rec.calls if c.preverify_ok == 0]
    assert shown, f"the callback never saw an error: {rec.calls}"
    assert result == shown[-1], f"the verify result {result} is not the last error the callback saw ({shown})"


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/callback-zero-stops")
@pytest.mark.needs("c_api", "client_role", "server_role", "error_codes")
def test_callback_returning_zero_fails_a_good_chain(h: Harness) -> None:
    """A good chain, a callback that returns 0: verification stops at the first call and the client ends the
    handshake (SSL_ERROR_SSL); the server sees the handshake fail too."""
    rec = Recorder(h, answer=0)
    client, server = _verifying_client(h, rec)
    failure = drive(h, client, server)
    h.trace.note(f"calls: {rec.calls}; handshake: {failure or 'complete'}; "
                 f"verify result {h.capi.SSL_get_verify_result(client.ssl)}")
    assert is_ssl_error(failure) and failure is not None and failure.side is Role.CLIENT, failure
    assert len(rec.calls) == 1, f"verification must stop at the first 0: {rec.calls}"
    # the "verification failed" state: the recorded result is not X509_V_OK, although no check found an error
    # (added by the mutation sweep, docs/mutation-sweep.md)
    result = h.capi.SSL_get_verify_result(client.ssl)
    assert result != K.X509_V_OK, "SSL_get_verify_result is X509_V_OK after the callback stopped the verification"


@pytest.mark.clauses("SSL_CTX_set_verify/EXAMPLES/callback-sets-error")
@pytest.mark.needs("c_api", "client_role", "server_role")
@pytest.mark.parametrize("what", ["clear-every-error", "set-chain-too-long"])
def test_callback_sets_the_error(h: Harness, what: str) -> None:
    """The error the callback leaves in the store context is the verify result: clearing every error of an
    untrusted chain (X509_V_OK, return 1) gives X509_V_OK; setting X509_V_ERR_CERT_CHAIN_TOO_LONG at depth 0 of a
    good chain (return 1) gives that code. Both handshakes complete."""
    api = h.capi
    seen: list[tuple[int, int]] = []

    def callback(preverify_ok: int, store_ctx: Any) -> int:
        depth = api.X509_STORE_CTX_get_error_depth(store_ctx)
        seen.append((preverify_ok, api.X509_STORE_CTX_get_error(store_ctx)))
        if what == "clear-every-error":
            api.X509_STORE_CTX_set_error(store_ctx, K.X509_V_OK)
        elif depth == 0:
            api.X509_STORE_CTX_set_error(store_ctx, K.X509_V_ERR_CERT_CHAIN_TOO_LONG)
        return 1

    ca = default_pki().other_ca_path if what == "clear-every-error" else None
    client, server = _verifying_client(h, None, ca=ca)
    api.SSL_set_verify(client.ssl, K.SSL_VERIFY_PEER, callback)
    failure = drive(h, client, server)
    result = api.SSL_get_verify_result(client.ssl)
    h.trace.note(f"{what}: calls {seen}; handshake {failure or 'complete'}; verify result {result}")
    assert failure is None, f"a callback returning 1 must let the handshake complete: {failure}"
    wanted = K.X509_V_OK if what == "clear-every-error" else K.X509_V_ERR_CERT_CHAIN_TOO_LONG
    assert result == wanted, f"the verify result {result} is not the error the callback left ({wanted})"
    if what == "clear-every-error":
        assert any(ok == 0 for ok, _ in seen), f"the untrusted chain showed the callback no error: {seen}"


# ---- depth -------------------------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_verify/DESCRIPTION/depth-limits-chain")
@pytest.mark.needs("c_api", "client_role", "server_role", "error_codes")
@pytest.mark.parametrize("where", ["SSL_CTX_set_verify_depth", "SSL_set_verify_depth"])
@pytest.mark.parametrize("depth", [0, 1])
def test_verify_depth_counts_intermediates(h: Harness, where: str, depth: int) -> None:
    """A chain of one intermediate (server, intermediate, trust anchor): depth 1 lets it pass, depth 0 fails it
    with X509_V_ERR_CERT_CHAIN_TOO_LONG."""
    api = h.capi
    pki = chained_pki()
    cctx = client_ctx(h, pki.root_path)
    api.SSL_CTX_set_verify(cctx, K.SSL_VERIFY_PEER, None)
    if where == "SSL_CTX_set_verify_depth":
        api.SSL_CTX_set_verify_depth(cctx, depth)
    client, server = new_pair(h, cctx, server_ctx(h, chain=pki.chain_path, key=pki.key_path))
    if where == "SSL_set_verify_depth":
        api.SSL_set_verify_depth(client.ssl, depth)
    failure = drive(h, client, server)
    result = api.SSL_get_verify_result(client.ssl)
    h.trace.note(f"depth {depth} via {where}: {failure or 'complete'}; verify result {result}")
    if depth == 1:
        assert failure is None and result == K.X509_V_OK, f"one intermediate is within depth 1: {failure}, {result}"
    else:
        assert is_ssl_error(failure), f"one intermediate exceeds depth 0: {failure}"
        assert result == K.X509_V_ERR_CERT_CHAIN_TOO_LONG, f"verify result {result}, not CERT_CHAIN_TOO_LONG (22)"


# ---- the settings ------------------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_verify/DESCRIPTION/ctx-sets-mode-and-callback",
                     "SSL_CTX_set_verify/NOTES/default-mode-none")
@pytest.mark.needs("c_api")
def test_context_mode_and_callback(h: Harness) -> None:
    """A new context's mode is SSL_VERIFY_NONE and it has no callback; SSL_CTX_set_verify sets both, and NULL
    takes the callback away again."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    try:
        assert api.SSL_CTX_get_verify_mode(ctx) == K.SSL_VERIFY_NONE, api.SSL_CTX_get_verify_mode(ctx)
        ssl = api.SSL_new(ctx)
        assert api.SSL_get_verify_mode(ssl) == K.SSL_VERIFY_NONE, "an SSL of a fresh context must not verify"
        api.SSL_free(ssl)
        assert api.SSL_CTX_get_verify_callback(ctx) is None, "a new context has no callback of the application's"
        mode = K.SSL_VERIFY_PEER | K.SSL_VERIFY_FAIL_IF_NO_PEER_CERT
        api.SSL_CTX_set_verify(ctx, mode, Recorder(h))
        assert api.SSL_CTX_get_verify_mode(ctx) == mode
        assert api.SSL_CTX_get_verify_callback(ctx) is not None, "the callback just set is not shown"
        api.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER, None)
        assert api.SSL_CTX_get_verify_callback(ctx) is None, "NULL must leave the context without a callback"
    finally:
        api.SSL_CTX_free(ctx)


@pytest.mark.clauses("SSL_CTX_set_verify/DESCRIPTION/ssl-null-callback-keeps")
@pytest.mark.needs("c_api")
def test_ssl_set_verify_with_null_keeps_the_callback(h: Harness) -> None:
    """An SSL keeps the context's callback of SSL_new time when the context's changes later, and SSL_set_verify
    with NULL keeps whatever callback the SSL has (the context's, or one set on the SSL)."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    try:
        api.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER, Recorder(h))
        first = api.SSL_CTX_get_verify_callback(ctx)
        ssl = api.SSL_new(ctx)
        api.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER, Recorder(h))
        assert api.SSL_get_verify_callback(ssl) == first, "the SSL must keep the callback of SSL_new time"
        api.SSL_set_verify(ssl, K.SSL_VERIFY_NONE, None)
        assert api.SSL_get_verify_callback(ssl) == first, "NULL must keep the context's callback of SSL_new time"
        assert api.SSL_get_verify_mode(ssl) == K.SSL_VERIFY_NONE
        api.SSL_set_verify(ssl, K.SSL_VERIFY_PEER, Recorder(h))
        own = api.SSL_get_verify_callback(ssl)
        assert own is not None and own != first
        api.SSL_set_verify(ssl, K.SSL_VERIFY_PEER, None)
        assert api.SSL_get_verify_callback(ssl) == own, "NULL must keep the callback set on the SSL"
        api.SSL_free(ssl)
    finally:
        api.SSL_CTX_free(ctx)


# ---- server mode -------------------------------------------------------------------------------------------------

def _server_pair(h: Harness, mode: int, *, client_cert: bool, server_ca: Any = None,
                 cert_cb: Any = None) -> tuple[Mem, Mem]:
    api = h.capi
    pki = default_pki()
    cctx = client_ctx(h)
    if client_cert:
        assert api.SSL_CTX_use_certificate_file(cctx, str(pki.client.cert_path).encode(), K.SSL_FILETYPE_PEM) == 1
        assert api.SSL_CTX_use_PrivateKey_file(cctx, str(pki.client.key_path).encode(), K.SSL_FILETYPE_PEM) == 1
    if cert_cb is not None:
        api.SSL_CTX_set_client_cert_cb(cctx, cert_cb)
    sctx = server_ctx(h, ca=server_ca)
    api.SSL_CTX_set_verify(sctx, mode, None)
    return new_pair(h, cctx, sctx)


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/none-server-no-request",
                     "SSL_CTX_set_client_cert_cb/DESCRIPTION/called-only-when-asked")
@pytest.mark.needs("c_api", "client_role", "server_role")
@pytest.mark.parametrize("server_mode", ["SSL_VERIFY_NONE", "SSL_VERIFY_PEER"])
def test_client_cert_callback_runs_only_when_the_server_asks(h: Harness, server_mode: str) -> None:
    """A client without a certificate and with a client-certificate callback (answering 0: none): a server in
    SSL_VERIFY_NONE mode does not ask, so the callback never runs; one in SSL_VERIFY_PEER mode asks, so it runs.
    Both handshakes complete (the second server does not insist)."""
    calls: list[object] = []

    def cert_cb(ssl: object) -> int:
        calls.append(ssl)
        return 0

    client, server = _server_pair(h, getattr(K, server_mode), client_cert=False, cert_cb=cert_cb)
    failure = drive(h, client, server)
    h.trace.note(f"server {server_mode}: handshake {failure or 'complete'}; callback called {len(calls)} times")
    assert failure is None, f"the handshake must complete: {failure}"
    if server_mode == "SSL_VERIFY_NONE":
        assert not calls, "a server in SSL_VERIFY_NONE mode asked for a client certificate"
    else:
        assert calls, "a server in SSL_VERIFY_PEER mode did not ask for a client certificate"


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/peer-server-requests-and-checks")
@pytest.mark.needs("c_api", "client_role", "server_role", "client_certificates")
@pytest.mark.parametrize("trusted", [True, False], ids=["trusted-client", "untrusted-client"])
def test_verifying_server_checks_the_client_certificate(h: Harness, trusted: bool) -> None:
    """A server in SSL_VERIFY_PEER mode and a client with the test client certificate: a server trusting the test
    CA completes with verify result X509_V_OK; one trusting only an unrelated CA fails the handshake."""
    api = h.capi
    ca = None if trusted else default_pki().other_ca_path
    client, server = _server_pair(h, K.SSL_VERIFY_PEER, client_cert=True, server_ca=ca)
    failure = drive(h, client, server)
    result = api.SSL_get_verify_result(server.ssl)
    h.trace.note(f"server trusting {'the test CA' if trusted else 'another CA'}: {failure or 'complete'}; "
                 f"server's verify result {result}")
    if trusted:
        assert failure is None and result == K.X509_V_OK, f"{failure}, verify result {result}"
    else:
        assert failure is not None, "a client certificate that does not verify must end the handshake"
        assert result != K.X509_V_OK, "the server's verify result must show the failure"


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/fail-if-no-peer-cert",
                     "SSL_CTX_set_client_cert_cb/DESCRIPTION/zero-sends-none")
@pytest.mark.needs("c_api", "client_role", "server_role")
@pytest.mark.parametrize("insist", [True, False], ids=["FAIL_IF_NO_PEER_CERT", "PEER-only"])
def test_server_that_insists_on_a_certificate(h: Harness, insist: bool) -> None:
    """A client whose client-certificate callback installs the test client certificate on the SSL but answers 0
    (send none): a server with SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT fails the handshake, so no
    certificate was sent; with SSL_VERIFY_PEER alone it completes."""
    api = h.capi
    pki = default_pki()
    calls: list[int] = []

    def cert_cb(ssl: Any) -> int:
        calls.append(api.SSL_use_certificate_file(ssl, str(pki.client.cert_path).encode(), K.SSL_FILETYPE_PEM)
                     + api.SSL_use_PrivateKey_file(ssl, str(pki.client.key_path).encode(), K.SSL_FILETYPE_PEM))
        return 0

    mode = K.SSL_VERIFY_PEER | (K.SSL_VERIFY_FAIL_IF_NO_PEER_CERT if insist else 0)
    client, server = _server_pair(h, mode, client_cert=False, cert_cb=cert_cb)
    failure = drive(h, client, server)
    h.trace.note(f"server mode {mode:#x}, callback answering 0: {failure or 'complete'}; callback calls {calls}")
    assert calls, "the server asked for a certificate but the callback was not called"
    if insist:
        assert failure is not None, "a server insisting on a client certificate let a client without one in"
    else:
        assert failure is None, f"SSL_VERIFY_PEER alone must not insist on a certificate: {failure}"


# ---- SSL_CTX_set_client_cert_cb ----------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_client_cert_cb/RETURN VALUES/get-returns-callback")
@pytest.mark.needs("c_api")
def test_get_client_cert_cb(h: Harness) -> None:
    """NULL before a callback is set, the callback once set, NULL again after it is taken away."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_client_method())
    try:
        assert api.SSL_CTX_get_client_cert_cb(ctx) is None, "a new context has no client-certificate callback"
        api.SSL_CTX_set_client_cert_cb(ctx, lambda ssl: 0)
        assert api.SSL_CTX_get_client_cert_cb(ctx) is not None, "the callback just set is not returned"
        api.SSL_CTX_set_client_cert_cb(ctx, None)
        assert api.SSL_CTX_get_client_cert_cb(ctx) is None, "the callback was taken away but is still returned"
    finally:
        api.SSL_CTX_free(ctx)


# ---- retrying from the verify callback ---------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_verify/DESCRIPTION/callback-retry-verify")
@pytest.mark.needs("c_api", "client_role", "server_role")
@pytest.mark.parametrize("second_run", ["accepts", "refuses"])
def test_verify_callback_asks_for_a_retry(h: Harness, second_run: str) -> None:
    """The client's verify callback calls SSL_set_retry_verify on the SSL of the store context and returns 1 on
    its first call: the client's handshake stops with SSL_ERROR_WANT_RETRY_VERIFY. Called again, the handshake
    runs the callback again; accepting completes the handshake, returning 0 ends it with SSL_ERROR_SSL."""
    api = h.capi
    runs: list[str] = []
    depths: list[int] = []

    def callback(preverify_ok: int, store_ctx: Any) -> int:
        # a run of the verification starts at the top level: the depth of the very first call
        depths.append(api.X509_STORE_CTX_get_error_depth(store_ctx))
        if depths[-1] == depths[0]:
            runs.append("first" if not runs else "again")
        if len(runs) == 1:
            if len(depths) == 1:
                owner = api.X509_STORE_CTX_get_ex_data(store_ctx, api.SSL_get_ex_data_X509_STORE_CTX_idx())
                runs[0] = f"retry:{api.SSL_set_retry_verify(owner)}"
            return 1
        return 0 if second_run == "refuses" else preverify_ok

    client, server = _verifying_client(h, None)
    api.SSL_set_verify(client.ssl, K.SSL_VERIFY_PEER, callback)
    ret, code = 0, None
    for _ in range(50):
        api.ERR_clear_error()
        ret = api.SSL_do_handshake(client.ssl)
        code = api.SSL_get_error(client.ssl, ret)
        if code != K.SSL_ERROR_WANT_READ:
            break
        api.SSL_do_handshake(server.ssl)
        move(client, server)
    h.trace.note(f"first stop: SSL_do_handshake -> {ret}, SSL_get_error {code}; callback runs {runs}")
    assert runs and runs[0] == "retry:1", f"SSL_set_retry_verify from the verify callback: {runs}"
    assert ret == -1 and code == K.SSL_ERROR_WANT_RETRY_VERIFY, \
        f"SSL_do_handshake -> {ret}, SSL_get_error {code}, not -1 / SSL_ERROR_WANT_RETRY_VERIFY"
    failure = drive(h, client, server)
    h.trace.note(f"after the retry: {failure or 'complete'}; callback runs {runs}")
    assert "again" in runs, "the handshake went on without running the verify callback again"
    if second_run == "accepts":
        assert failure is None, f"the retried verification accepted, yet the handshake failed: {failure}"
    else:
        assert is_ssl_error(failure) and failure is not None and failure.side is Role.CLIENT, \
            f"the callback refused on the retry, yet: {failure or 'the handshake completed'}"


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/default-depth-100")
@pytest.mark.needs("c_api", "client_role", "server_role", "error_codes")
@pytest.mark.parametrize("intermediates", [100, 101])
def test_default_verify_depth_is_100(h: Harness, intermediates: int) -> None:
    """A client whose depth was never set verifies a chain of 100 intermediates (server certificate, 100 CAs, trust
    anchor) and fails one of 101 with X509_V_ERR_CERT_CHAIN_TOO_LONG."""
    api = h.capi
    pki = long_chain(intermediates)
    cctx = client_ctx(h, pki.root_path)
    api.SSL_CTX_set_verify(cctx, K.SSL_VERIFY_PEER, None)
    client, server = new_pair(h, cctx, server_ctx(h, chain=pki.chain_path, key=pki.key_path))
    failure = drive(h, client, server)
    result = api.SSL_get_verify_result(client.ssl)
    h.trace.note(f"{intermediates} intermediates, default depth: {failure or 'complete'}; verify result {result}")
    if intermediates == 100:
        assert failure is None and result == K.X509_V_OK, \
            f"100 intermediates are within the default depth: {failure or 'complete'}, verify result {result}"
    else:
        assert is_ssl_error(failure), f"101 intermediates exceed the default depth: {failure or 'complete'}"
        assert result == K.X509_V_ERR_CERT_CHAIN_TOO_LONG, f"verify result {result}, not CERT_CHAIN_TOO_LONG (22)"


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/client-once")
@pytest.mark.needs("c_api", "client_role", "server_role", "tls1_2", "renegotiation")
@pytest.mark.parametrize("once", [False, True], ids=["PEER", "PEER|CLIENT_ONCE"])
def test_verify_client_once_on_renegotiation(h: Harness, once: bool) -> None:
    """A TLS 1.2 server with SSL_VERIFY_PEER asks its client for a certificate in the first handshake and again
    when the client renegotiates; with SSL_VERIFY_CLIENT_ONCE added it asks only in the first. Seen through the
    client's certificate callback (the client has no certificate and sends none), which runs once per request."""
    api = h.capi
    calls: list[object] = []

    def cert_cb(ssl: object) -> int:
        calls.append(ssl)
        return 0

    cctx = client_ctx(h)
    api.SSL_CTX_set_max_proto_version(cctx, K.TLS1_2_VERSION)
    api.SSL_CTX_set_client_cert_cb(cctx, cert_cb)
    sctx = server_ctx(h)
    api.SSL_CTX_set_verify(sctx, K.SSL_VERIFY_PEER | (K.SSL_VERIFY_CLIENT_ONCE if once else 0), None)
    api.SSL_CTX_set_options(sctx, K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
    client, server = new_pair(h, cctx, sctx)
    assert drive(h, client, server) is None, "the first handshake failed"
    first = len(calls)
    assert api.SSL_renegotiate(client.ssl) == 1
    renegotiate(h, client, server)
    h.trace.note(f"client certificate callback runs: {first} in the handshake, {len(calls) - first} in the "
                 f"renegotiation (server mode {'PEER|CLIENT_ONCE' if once else 'PEER'})")
    assert first == 1, f"the server with SSL_VERIFY_PEER asked {first} times in the first handshake"
    if once:
        assert len(calls) == first, "the server asked for a certificate again in the renegotiation"
    else:
        assert len(calls) == first + 1, "a server without SSL_VERIFY_CLIENT_ONCE asks again in the renegotiation"
