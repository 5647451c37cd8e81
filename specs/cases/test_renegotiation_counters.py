"""C-API cases for the renegotiation counters of SSL_CTX_sess_number.pod (SSL_CTX_sess_connect_renegotiate,
SSL_CTX_sess_accept_renegotiate): one TLS 1.2 renegotiation, started by either side, is one started renegotiation
in each role. Found by the newuser branch's programs (tests/engine/test_pod_programs.py), where the engine's client
renegotiated with openssl s_server and its counter stayed 0."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from specs.cases._renegotiation import renegotiate, tls12_pair
from specs.cases._ssl_objects import Mem, note

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role", "tls1_2", "renegotiation")


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
    client, server = tls12_pair(h)
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
    client, server = tls12_pair(h)
    for round_ in (1, 2):
        first, second = (client, server) if starter == "client" else (server, client)
        assert api.SSL_renegotiate(first.ssl) == 1
        renegotiate(h, first, second)
        seen, want = _counters(h, client, server), {"connect_renegotiate": round_, "accept_renegotiate": round_}
        assert seen == want, f"after {round_} renegotiation(s) started by the {starter}: counters {seen}, not {want}"
