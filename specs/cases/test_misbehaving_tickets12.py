"""TLS 1.2 tickets and resumption against the misbehaving reference peer as server (engine.tls.misbehave
Resumption12Fault), the stack as client. Added by the mutation sweep (docs/mutation-sweep.md): an engine client that
took a non-empty SessionTicket extension, kept an empty NewSessionTicket as a ticket, or resumed a session under
another cipher suite passed every other case.

As in test_misbehaving_resumption.py the stack must refuse where the peer is wrong (its handshake call returns < 0
with SSL_ERROR_SSL and it sends a fatal alert; the RFCs name none here, so any fatal alert will do); an empty ticket
is no fault, and the case checks only what the client keeps."""

from __future__ import annotations

import os
from typing import Any, cast

import pytest

from conformance.harness import Harness
from conformance.outcome import Role
from conformance.stacks.base import EndpointConfig
from engine.tls.misbehave import Resumption12Fault
from engine.tls.session13 import TicketSealer
from specs.cases._misbehaving import pair_with_misbehaving_peer
from specs.cases.test_misbehaving_peer import _handshake_fault
from specs.cases.test_misbehaving_resumption import (
    NOT_OFFERED,
    TLS12_ONLY,
    _first_connection_from_stack_client,
    _peer_server_tls,
    _version,
)

pytestmark = pytest.mark.needs("error_codes", "tls1_2")


def _tickets() -> dict[str, Any]:
    return {**TLS12_ONLY, "ticket_sealer": TicketSealer(os.urandom(32), os.urandom)}


@pytest.mark.clauses("RFC5077/3.2/empty-ticket-echo")
def test_non_empty_session_ticket_echo_is_refused(h: Harness) -> None:
    """The peer answers the client's SessionTicket extension with one that carries two bytes: the client aborts."""
    _handshake_fault(h, Role.CLIENT, Resumption12Fault(kind="ticket-echo-not-empty", msg_type=2), None,
                     _version("TLSv1.2"), tls=_tickets(), then_data=True,
                     optional="the stack's client sends no SessionTicket extension in its default configuration "
                              "(RFC 5077 section 3.2: a client that wants a ticket includes it; none must), so the "
                              "peer had nothing to echo")


@pytest.mark.clauses("RFC5077/3.3/empty-ticket-is-no-ticket")
@pytest.mark.needs("c_api")
def test_an_empty_new_session_ticket_gives_no_ticket(h: Harness) -> None:
    """The peer says it will send a ticket (empty SessionTicket echo, empty session id) and then sends an empty
    NewSessionTicket: the client's session holds no ticket and no session id, so it is not resumable."""
    fault = Resumption12Fault(kind="empty-ticket")
    config = _version("TLSv1.2")(EndpointConfig(role=Role.CLIENT, verify_peer=True))
    pair, stack, _ = pair_with_misbehaving_peer(h, Role.CLIENT, fault, config, tls=_tickets())
    pair.handshake()
    if not fault.done:
        h.not_applicable("the stack's client asked for no ticket, so the peer sent no NewSessionTicket")
    session = stack.session()
    assert session is not None, "no session after the handshake"
    resumable = h.capi.SSL_SESSION_is_resumable(cast(Any, session))  # Endpoint.session: the SSL_SESSION handle
    assert resumable == 0, ("SSL_SESSION_is_resumable is 1 for a session whose server sent an empty ticket and an "
                            "empty session id: the client kept something to resume with")


@pytest.mark.clauses("RFC5246/7.4.1.3/resumed-suite-kept")
@pytest.mark.needs("session_resumption")
def test_resumption_under_another_suite_is_refused(h: Harness) -> None:
    """The stack's client resumes the peer's session (by session id); the peer's abbreviated-handshake ServerHello
    names another cipher suite than the session's: the client aborts."""
    tls = _peer_server_tls("TLSv1.2")
    stack_session = _first_connection_from_stack_client(h, "TLSv1.2", tls)
    cache = tls["session_cache12"]
    assert len(cache) == 1, f"the peer's server cached {len(cache)} sessions"
    (session_id, cached), = cache.items()
    other = 0xC02C if cached.cipher_suite != 0xC02C else 0xC02B
    fault = Resumption12Fault(kind="other-suite", resuming=session_id, other_suite=other)
    _handshake_fault(h, Role.CLIENT, fault, None, lambda c: _version("TLSv1.2")(c).with_(resume=stack_session),
                     tls=tls, then_data=True, unreached=NOT_OFFERED)
