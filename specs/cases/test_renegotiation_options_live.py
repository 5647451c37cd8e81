"""C-API cases for the renegotiation options of SSL_CTX_set_options.pod changed on an established TLS 1.2
connection (SSL_set_options / SSL_clear_options after the handshake). The page's NOTES: during a handshake the SSL
object's options are used, and a renegotiation is a new handshake (SSL_key_update.pod), so what counts is what the
object holds when a renegotiation is asked for or offered, not what it held at its first handshake.

Each case makes a TLS 1.2 pair of the stack under test on BIO pairs, completes the handshake, changes one option on
one side, and then has one side start a renegotiation while the other only reads, as an application would. The
binding-tier case does the same through the normalised endpoint (Endpoint.set_options / renegotiate / read), so a
binding that offers SSL_set_options and renegotiation (pyOpenSSL) is observed too."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness, Pair
from conformance.outcome import Outcome, Role, SslError
from conformance.stacks.base import Endpoint
from specs.cases._renegotiation import RenegotiationEnd, link_ccs, new_handshake_on_link
from specs.cases._ssl_objects import WANT, Mem, error, handshake, move, note
from specs.cases._tls12wire import tapped

C_API = ("c_api", "client_role", "server_role", "tls1_2", "renegotiation")

ALLOW = K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION
NO_RENEG = K.SSL_OP_NO_RENEGOTIATION

# (options of the object at its handshake, SSL_set_options / SSL_clear_options after it, bits, renegotiation done)
SERVER_CHANGES = {
    "gains-NO_RENEGOTIATION": (ALLOW, "SSL_set_options", NO_RENEG, False),
    "loses-ALLOW_CLIENT_RENEGOTIATION": (ALLOW, "SSL_clear_options", ALLOW, False),
    "gains-ALLOW_CLIENT_RENEGOTIATION": (0, "SSL_set_options", ALLOW, True),
    "loses-NO_RENEGOTIATION": (ALLOW | NO_RENEG, "SSL_clear_options", NO_RENEG, True),
}
CLIENT_CHANGES = {
    "gains-NO_RENEGOTIATION": (0, "SSL_set_options", NO_RENEG, False),
    "loses-NO_RENEGOTIATION": (NO_RENEG, "SSL_clear_options", NO_RENEG, True),
}


def _tls12_pair(h: Harness, client_options: int, server_options: int) -> tuple[Mem, Mem]:
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    server = Mem(h, Role.SERVER)
    api.SSL_set_options(client.ssl, client_options)
    api.SSL_set_options(server.ssl, server_options)
    handshake(h, client, server)
    return client, server


def _change(h: Harness, side: Mem, fn: str, bits: int) -> None:
    api = h.capi
    getattr(api, fn)(side.ssl, bits)
    held = api.SSL_get_options(side.ssl) & bits
    note(h, f"{side.label}: {fn}(0x{bits:x}) on the established connection; SSL_get_options & 0x{bits:x} = "
            f"0x{held:x}")
    assert bool(held) == (fn == "SSL_set_options"), f"{fn}(0x{bits:x}) left SSL_get_options & bits = 0x{held:x}"


def _renegotiation(h: Harness, starter: Mem, other: Mem, rounds: int = 40) -> tuple[str, SslError | int | None]:
    """``starter`` has scheduled a renegotiation: it acts on it with SSL_do_handshake, then both sides call
    SSL_read as an application would. ("completed", None) once nothing moves and nothing is pending, ("failed",
    code) for the side whose call failed (its name first), ("pending", None) if it stalled unfinished. "completed"
    also needs the new handshake on the link (:func:`new_handshake_on_link`); a flag that disagrees with the link
    gives an outcome naming the disagreement."""
    api = h.capi
    before = link_ccs(h, starter, other)
    for _ in range(rounds):
        ret = api.SSL_do_handshake(starter.ssl)
        if ret <= 0 and error(api, starter.ssl, ret) not in WANT:
            return f"{starter.label} failed", error(api, starter.ssl, ret)
        moved = move(starter, other)
        for s in (other, starter):
            r, _ = api.SSL_read(s.ssl, 10)
            if r <= 0 and error(api, s.ssl, r) not in WANT:
                return f"{s.label} failed", error(api, s.ssl, r)
        moved += move(starter, other)
        if not moved:
            pending = bool(api.SSL_renegotiate_pending(starter.ssl))
            if new_handshake_on_link(h, starter, other, before) != pending:
                return ("pending", None) if pending else ("completed", None)
            return (f"{'pending' if pending else 'over'} by SSL_renegotiate_pending, but "
                    f"{'a' if pending else 'no'} new handshake on the wire"), None
    return "pending", None


def _still_carries_data(h: Harness, client: Mem, server: Mem) -> None:
    api = h.capi
    assert api.SSL_write(client.ssl, b"after") == 5
    move(client, server)
    got = api.SSL_read(server.ssl, 10)
    assert got == (5, b"after"), f"after the renegotiation the server read {got}"


@pytest.mark.needs(*C_API)
@pytest.mark.clauses("SSL_CTX_set_options/NOTES/renegotiation-options-when-used")
@pytest.mark.states("established")
@pytest.mark.parametrize("change", list(SERVER_CHANGES))
def test_server_options_changed_after_the_handshake(h: Harness, change: str) -> None:
    """The client starts a renegotiation after the server changed a renegotiation option on the established
    connection. A server that now holds SSL_OP_NO_RENEGOTIATION, or no longer SSL_OP_ALLOW_CLIENT_RENEGOTIATION,
    refuses it, and the client fails the connection with SSL_ERROR_SSL and an entry on the error queue
    (SSL_key_update.pod: a client whose renegotiation the server refuses fails at once; SSL_get_error.pod: the
    queue holds the details); a server that gained SSL_OP_ALLOW_CLIENT_RENEGOTIATION, or
    lost SSL_OP_NO_RENEGOTIATION, takes part in the new handshake, which completes, and data flows after it."""
    api = h.capi
    before, fn, bits, done = SERVER_CHANGES[change]
    client, server = _tls12_pair(h, 0, before)
    _change(h, server, fn, bits)
    assert api.SSL_renegotiate(client.ssl) == 1, "the client's SSL_renegotiate (its own options allow it) failed"
    api.ERR_clear_error()
    outcome, code = _renegotiation(h, client, server)
    queue = api.ERR_peek_error()
    note(h, f"client renegotiation, server {change}: {outcome} ({code}), error queue 0x{queue:x}")
    if done:
        assert outcome == "completed", f"the server {change}, yet the client's renegotiation ended {outcome} ({code})"
        _still_carries_data(h, client, server)
    else:
        assert outcome == f"{client.label} failed" and code is SslError.SSL_ERROR_SSL, \
            f"the server {change}: the client's renegotiation ended {outcome} ({code}), not the client failing " \
            "with SSL_ERROR_SSL"
        assert queue != 0, f"the server {change}: the client failed with SSL_ERROR_SSL and an empty error queue"


@pytest.mark.needs(*C_API)
@pytest.mark.clauses("SSL_CTX_set_options/NOTES/renegotiation-options-when-used")
@pytest.mark.states("established")
@pytest.mark.parametrize("change", list(CLIENT_CHANGES))
def test_client_options_changed_after_the_handshake(h: Harness, change: str) -> None:
    """The server asks for a renegotiation (HelloRequest) after the client changed SSL_OP_NO_RENEGOTIATION on the
    established connection: a client that now holds the option does not renegotiate (the server's request never
    completes: it stalls or the server fails), a client that lost it renegotiates and the new handshake
    completes."""
    api = h.capi
    before, fn, bits, done = CLIENT_CHANGES[change]
    client, server = _tls12_pair(h, before, ALLOW)
    _change(h, client, fn, bits)
    assert api.SSL_renegotiate(server.ssl) == 1, "the server's SSL_renegotiate (its own options allow it) failed"
    outcome, code = _renegotiation(h, server, client)
    note(h, f"server renegotiation, client {change}: {outcome} ({code})")
    if done:
        assert outcome == "completed", f"the client {change}, yet the server's renegotiation ended {outcome} ({code})"
        _still_carries_data(h, client, server)
    else:
        assert outcome in ("pending", f"{server.label} failed"), \
            f"the client {change}: the server's renegotiation ended {outcome} ({code})"


@pytest.mark.needs(*C_API)
@pytest.mark.clauses("SSL_CTX_set_options/NOTES/renegotiation-options-when-used")
@pytest.mark.states("established")
@pytest.mark.parametrize("starter", ["client", "server"])
def test_no_renegotiation_set_after_the_handshake_starts_nothing(h: Harness, starter: str) -> None:
    """SSL_OP_NO_RENEGOTIATION set on the established connection of the side about to renegotiate: it starts
    none (page: no HelloRequest; all renegotiation off). SSL_renegotiate schedules nothing it acts on:
    SSL_do_handshake writes nothing, and the connection still carries data."""
    api = h.capi
    client, server = _tls12_pair(h, 0, ALLOW)
    side = client if starter == "client" else server
    _change(h, side, "SSL_set_options", NO_RENEG)
    ret = api.SSL_renegotiate(side.ssl)
    api.ERR_clear_error()
    hs = api.SSL_do_handshake(side.ssl)
    api.ERR_clear_error()
    sent = side.take()
    note(h, f"{side.label}: SSL_renegotiate -> {ret}, SSL_do_handshake -> {hs}; {len(sent)} bytes written")
    assert not sent, f"the {starter} wrote {len(sent)} bytes (a renegotiation) after SSL_OP_NO_RENEGOTIATION was set"
    _still_carries_data(h, client, server)


def _binding_renegotiation(h: Harness, pair: Pair, starter: Endpoint, other: Endpoint,
                           rounds: int = 40) -> tuple[str, Outcome | None]:
    """The binding-tier :func:`_renegotiation`: ``starter`` requests and starts a renegotiation, then both sides
    read (single calls, the link settled after each round) until one fails or nothing moves; whether it completed
    is :class:`RenegotiationEnd`'s answer (SSL_renegotiate_pending, or a client starter's SSL_do_handshake, and the
    wire): "completed" when both say so, "pending" when neither does, and an outcome naming the disagreement."""
    end = RenegotiationEnd(h, pair, starter)
    started = pair.call(starter, lambda e: e.renegotiate())
    if not started.ok and not started.retry:
        return f"{starter.label} failed", started
    end.started(started)
    for _ in range(rounds):
        for e in (other, starter):
            got = pair.call(e, lambda e: e.read(100))
            if not got.ok and not got.retry:
                return f"{e.label} failed", got
        if not pair.settle():
            says, wire = end.says_over(), end.on_wire()
            if says == wire:
                return ("completed", None) if says else ("pending", None)
            return (f"{'over' if says else 'pending'} by {starter.label}'s word, but "
                    f"{'no' if says else 'a'} new handshake on the wire"), None
    return "pending", None


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/renegotiation-options-when-used")
@pytest.mark.states("established")
@pytest.mark.needs("client_role", "server_role", "tls1_2", "renegotiate", "connection_options")
@pytest.mark.parametrize("set_it", [False, True], ids=["unchanged", "NO_RENEGOTIATION-set"])
@pytest.mark.parametrize("side", ["server", "client"])
def test_binding_no_renegotiation_set_after_the_handshake(h: Harness, side: str, set_it: bool) -> None:
    """Through the binding: after a TLS 1.2 handshake ``side`` gains SSL_OP_NO_RENEGOTIATION (SSL_set_options on
    the connection) and its peer starts a renegotiation. A server with the option refuses its client's (which
    fails with SSL_ERROR_SSL, SSL_key_update.pod); a client with it declines the server's HelloRequest (the
    server's renegotiation does not complete). Unchanged, the same renegotiation completes (the server allows
    client-initiated renegotiation from its context), so the check is not empty."""
    allow = ("SSL_OP_ALLOW_CLIENT_RENEGOTIATION",) if side == "server" else ()
    pair = h.pair(client=lambda c: c.with_(max_version="TLSv1.2"), server=lambda c: c.with_(options=allow),
                  link=tapped()[0])
    pair.handshake()
    target, starter = (pair.server, pair.client) if side == "server" else (pair.client, pair.server)
    if set_it:
        mask = target.set_options(("SSL_OP_NO_RENEGOTIATION",))
        note(h, f"{target.label}: SSL_set_options(SSL_OP_NO_RENEGOTIATION) after the handshake -> {mask}")
    outcome, seen = _binding_renegotiation(h, pair, starter, target)
    note(h, f"{starter.label} renegotiates, {target.label} {'gained' if set_it else 'kept'} its options: {outcome} "
            f"({seen})")
    if not set_it:
        assert outcome == "completed", f"the renegotiation of {starter.label} ended {outcome} ({seen})"
    elif side == "server":
        assert outcome == f"{starter.label} failed" and seen is not None and seen.error is SslError.SSL_ERROR_SSL, \
            f"the server gained SSL_OP_NO_RENEGOTIATION: the client's renegotiation ended {outcome} ({seen}), not " \
            "the client failing with SSL_ERROR_SSL"
        if h.has("error_queue"):
            assert seen.reason, f"the server gained SSL_OP_NO_RENEGOTIATION: the client failed with SSL_ERROR_SSL " \
                f"and nothing on the error queue: {seen}"
    else:
        assert outcome in ("pending", f"{starter.label} failed"), \
            f"the client gained SSL_OP_NO_RENEGOTIATION: the server's renegotiation ended {outcome} ({seen})"
