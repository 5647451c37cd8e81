"""A TLS 1.2 renegotiation driven the way an application drives one (SSL_key_update.pod: SSL_renegotiate() and
SSL_renegotiate_abbreviated() only schedule it; the next I/O call acts on it). Shared by the cases that claim
SSL_key_update.pod's renegotiation clauses and those that count renegotiations (SSL_CTX_sess_number.pod)."""

from __future__ import annotations

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._ssl_objects import WANT, Mem, error, handshake, move

__all__ = ["renegotiate", "tls12_pair"]


def tls12_pair(h: Harness, server_options: int = K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION) -> tuple[Mem, Mem]:
    """A client limited to TLS 1.2 and a server with ``server_options`` set on its context before its SSL is made
    (by default it lets the client renegotiate), after a completed handshake: (client, server)."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    server = Mem(h, Role.SERVER, before_new=lambda ctx: api.SSL_CTX_set_options(ctx, server_options))
    handshake(h, client, server)
    return client, server


def renegotiate(h: Harness, starter: Mem, other: Mem, rounds: int = 50) -> None:
    """The starter runs SSL_do_handshake once (sending its ClientHello or HelloRequest), then both sides only call
    SSL_read, as an application would, until the renegotiation is no longer pending and nothing moves."""
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
