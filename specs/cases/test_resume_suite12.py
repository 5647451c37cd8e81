"""A client that offers a session lists its suite (RFC 5246 section 7.4.1.2, the ClientHello's cipher_suites).

Two SSL objects of the stack under test on BIO pairs (the helpers of test_ssl_tickets12.py, which keep the bytes each
side sent). The first connection makes a TLS 1.2 session under one suite; the client's context then lists only
another suite, and a new client is given the session with SSL_set_session. Its ClientHello is read off the wire:
either it does not offer the session (neither its session id nor its ticket), or it lists the session's suite.
A session is offered by id (the server issues no tickets) or by ticket (the server issues one; its session id may
be offered beside it)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from specs.cases._tls12wire import SESSION_TICKET, Hello, chosen_suite, hello, offered_suites
from specs.cases.test_ssl_tickets12 import _connect, _ctxs, _issued, _reused, _session

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role", "tls1_2")

SUITE_A = b"ECDHE-ECDSA-AES128-GCM-SHA256"  # the session's suite
SUITE_B = b"ECDHE-ECDSA-AES256-GCM-SHA384"  # the only suite the resuming client lists


@pytest.mark.clauses("RFC5246/7.4.1.2/resumed-suite-offered")
@pytest.mark.parametrize("mechanism", ["session-id", "ticket"])
def test_a_session_is_offered_only_with_its_suite(h: Harness, mechanism: str) -> None:
    """The session was made under ECDHE-ECDSA-AES128-GCM-SHA256; the resuming client's cipher list holds only
    ECDHE-ECDSA-AES256-GCM-SHA384. Its ClientHello either leaves the session out (then the handshake is a full one
    and completes) or lists the session's suite."""
    api = h.capi

    def server_setup(ctx: Any) -> None:
        api.SSL_CTX_set_cipher_list(ctx, SUITE_A + b":" + SUITE_B)
        if mechanism == "session-id":
            api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET)

    first = _connect(h, server_setup=server_setup,
                     client_setup=lambda ctx: api.SSL_CTX_set_cipher_list(ctx, SUITE_A))  # fmt: skip
    assert first.done, "the first handshake did not complete"
    suite = chosen_suite(first.server_hello)
    first_id = hello(first.server_hello, client=False).session_id
    ticket = _issued(first.s2c) or b""
    if mechanism == "session-id":
        assert first_id, "the server (no tickets, its session cache on) gave the session no id"
    elif not ticket:
        if SESSION_TICKET not in hello(first.client_hello, client=True).extensions:
            h.not_applicable("the stack's client asks for no TLS 1.2 session ticket (no SessionTicket extension)")
        raise AssertionError("the server (tickets on) issued no ticket to a client that asked for one")
    session = _session(h, first)
    # the check can fail: with its suite still listed, the session is offered (and resumed)
    def offers(ch: Hello) -> tuple[bool, bool]:
        """Whether a ClientHello offers the session by its id, by its ticket."""
        by_ticket = bool(ticket) and ch.extensions.get(SESSION_TICKET) == ticket
        return bool(first_id) and ch.session_id == first_id, by_ticket

    same = _connect(h, session=session, **_ctxs(first))
    assert any(offers(hello(same.client_hello, client=True))), (
        "the client did not offer the session while it still listed the session's suite")

    assert api.SSL_CTX_set_cipher_list(first.client.ctx, SUITE_B) == 1
    second = _connect(h, session=session, **_ctxs(first))
    ch = hello(second.client_hello, client=True)
    listed = offered_suites(second.client_hello)
    by_id, by_ticket = offers(ch)
    h.trace.note(f"session suite {suite:#06x}; second ClientHello lists {[hex(s) for s in listed]}, offers the "
                 f"session by id: {by_id}, by ticket: {by_ticket}")
    if by_id or by_ticket:
        how = "session id" if by_id else "ticket"
        assert suite in listed, (f"the ClientHello offers the session (its {how}) made under suite {suite:#06x} "
                                 f"but lists only {[hex(s) for s in listed]}")
        return
    assert second.done, "the handshake of the client that left the session out did not complete"
    assert _reused(h, second) == (0, 0), f"a session the client did not offer was resumed: {_reused(h, second)}"
