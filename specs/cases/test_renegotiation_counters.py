"""C-API cases for the renegotiation counters of SSL_CTX_sess_number.pod (SSL_CTX_sess_connect_renegotiate,
SSL_CTX_sess_accept_renegotiate): one TLS 1.2 renegotiation, started by either side, is one started renegotiation
in each role. Found by the newuser branch's programs (tests/engine/test_pod_programs.py), where the engine's client
renegotiated with openssl s_server and its counter stayed 0."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._ssl_objects import WANT, Mem, error, handshake, move, note

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role", "tls1_2", "renegotiation")


def _tls12(h: Harness) -> tuple[Mem, Mem]:
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    server = Mem(h, Role.SERVER,
                 before_new=lambda ctx: api.SSL_CTX_set_options(ctx, K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION))
    handshake(h, client, server)
    return client, server


def _renegotiate(h: Harness, starter: Mem, other: Mem, rounds: int = 50) -> None:
    """The starter acts on its scheduled renegotiation with SSL_do_handshake; then both sides call SSL_read, as an
    application would, until nothing moves and nothing is pending."""
    api = h.capi
    ret = api.SSL_do_handshake(starter.ssl)
    assert ret == 1 or error(api, starter.ssl, ret) in WANT, (ret, error(api, starter.ssl, ret))
    for _ in range(rounds):
        moved = move(starter, other)
        for s in (other, starter):
            r, _ = api.SSL_read(s.ssl, 10)
            assert r > 0 or error(api, s.ssl, r) in WANT, (s.label, r, error(api, s.ssl, r))
        moved += move(starter, other)
        if not moved and not api.SSL_renegotiate_pending(starter.ssl):
            return
    raise AssertionError("the renegotiation did not complete")


def _counters(h: Harness, client: Mem, server: Mem) -> dict[str, int]:
    api = h.capi
    seen = {"connect_renegotiate": int(api.SSL_CTX_sess_connect_renegotiate(client.ctx)),
            "accept_renegotiate": int(api.SSL_CTX_sess_accept_renegotiate(server.ctx))}
    note(h, f"counters: {seen}")
    return seen


@pytest.mark.clauses("SSL_CTX_sess_number/DESCRIPTION/connect-renegotiate",
                     "SSL_CTX_sess_number/DESCRIPTION/accept-renegotiate")
def test_renegotiation_counters_start_at_zero(h: Harness) -> None:
    """A first handshake is no renegotiation: both counters stay 0."""
    client, server = _tls12(h)
    seen = _counters(h, client, server)
    assert seen == {"connect_renegotiate": 0, "accept_renegotiate": 0}, f"after the first handshake: counters {seen}"


@pytest.mark.clauses("SSL_CTX_sess_number/DESCRIPTION/connect-renegotiate",
                     "SSL_CTX_sess_number/DESCRIPTION/accept-renegotiate")
@pytest.mark.parametrize("starter", ["client", "server"])
def test_one_renegotiation_counts_once_in_each_role(h: Harness, starter: str) -> None:
    """SSL_renegotiate on the client (a new ClientHello) or on the server (a HelloRequest the client answers):
    after the renegotiation completed, the client's context counts one started in the client role and the
    server's one in the server role; a second renegotiation makes it two."""
    api = h.capi
    client, server = _tls12(h)
    for round_ in (1, 2):
        first, second = (client, server) if starter == "client" else (server, client)
        assert api.SSL_renegotiate(first.ssl) == 1
        _renegotiate(h, first, second)
        seen, want = _counters(h, client, server), {"connect_renegotiate": round_, "accept_renegotiate": round_}
        assert seen == want, f"after {round_} renegotiation(s) started by the {starter}: counters {seen}, not {want}"
