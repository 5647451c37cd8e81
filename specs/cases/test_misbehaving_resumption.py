"""Negative resumption cases: every stack, in the role that meets the fault, against the misbehaving reference peer
resuming a session the stack made with it in a first, correct connection.

TLS 1.3 (RFC 9846 section 4.3.11): a PSK binder that does not verify, a pre_shared_key that is not the last
extension, a server selecting a PSK identity the client did not offer. TLS 1.2 (RFC 7627 section 5.3): a resumption
across a change of the extended master secret, in both directions and both roles.

As in test_misbehaving_peer.py, the stack must refuse: the call that meets the fault returns < 0 with SSL_ERROR_SSL,
with an error-queue entry where the stack has one, and the stack sends the alert the RFC names (RFC 7627 names none:
any fatal alert)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import pytest

from conformance.harness import Harness, Pair
from conformance.outcome import Role
from conformance.stacks.base import EndpointConfig
from engine.tls.alerts import AlertDescription as A
from engine.tls.misbehave import (
    Misbehaviour,
    PreSharedKeyNotLast,
    ResumptionEmsMismatch,
    UnofferedPskIdentity,
    WrongPskBinder,
)
from engine.tls.session12 import Session12
from engine.tls.session13 import TicketSealer
from specs.cases._misbehaving import MisbehavingPeer, pair_with_misbehaving_peer
from specs.cases._resumed import tapped
from specs.cases._tls12wire import flight, hello
from specs.cases.test_misbehaving_peer import _handshake_fault

pytestmark = pytest.mark.needs("error_codes", "session_resumption")

TLS12_ONLY: dict[str, Any] = {"supported_versions": (0x0303,)}
EXTENDED_MASTER_SECRET = 23  # RFC 7627 section 5.1
NOT_OFFERED = ("the stack's client, given the session of its first connection (Endpoint.session, then "
               "EndpointConfig.resume: SSL_set_session), offered nothing the peer's server could resume, although "
               "the stack declares session_resumption; the handshake went on as a full one")


def _version(version: str) -> Callable[[EndpointConfig], EndpointConfig]:
    return lambda c: c.with_(min_version=version, max_version=version)


def _first_connection_to_stack_server(h: Harness, version: str, tls: dict[str, Any]) -> MisbehavingPeer:
    """The peer connects, correctly, to a server of the stack from the case's one server context, and reads what
    the server sends after the handshake (TLS 1.3 tickets, then data); it keeps the tickets and its TLS 1.2
    session."""
    config = _version(version)(EndpointConfig(role=Role.SERVER, verify_peer=False))
    pair, _, peer = pair_with_misbehaving_peer(h, Role.SERVER, Misbehaviour(), config, tls=tls, shared_server=True)
    pair.handshake()
    pair.drive(server=lambda e: e.write(b"first connection"))
    got = pair.drive(client=lambda e: e.read(100))
    assert got.client is not None and got.client.ok, f"the peer did not read the server's data: {got.client}"
    return peer


def _first_connection_from_stack_client(h: Harness, version: str, tls: dict[str, Any],
                                        client_hello: bytearray | None = None) -> object:
    """A client of the stack connects, correctly, to the peer and reads its data (and TLS 1.3 tickets); its
    session (Endpoint.session). ``client_hello``: receives the bytes the client sent (its ClientHello first)."""
    config = _version(version)(EndpointConfig(role=Role.CLIENT, verify_peer=True))
    pair, stack, _ = pair_with_misbehaving_peer(h, Role.CLIENT, Misbehaviour(), config, tls=tls)
    if client_hello is not None:
        link, c2s, _ = tapped()
        pair = Pair(pair.client, pair.server, link, h.trace)
        c2s.seen = client_hello  # the tap appends to the caller's buffer
    pair.handshake()
    pair.drive(server=lambda e: e.write(b"first connection"))
    got = pair.drive(client=lambda e: e.read(100))
    assert got.client is not None and got.client.ok, f"{stack.label} did not read the peer's data: {got.client}"
    session = stack.session()
    assert session is not None, f"{stack.label} has no session after the first connection"
    return session


def _peer_server_tls(version: str, *, ems: bool = True) -> dict[str, Any]:
    """The peer's server settings for resumption: a ticket key (TLS 1.3) or a session cache (TLS 1.2)."""
    if version == "TLSv1.3":
        return {"ticket_sealer": TicketSealer(os.urandom(32), os.urandom), "session_tickets": 2}
    return {**TLS12_ONLY, "session_cache12": {}, "extended_master_secret": ems}


# -- TLS 1.3 -------------------------------------------------------------------------------------------------------


def _ticket_from_stack_server(h: Harness) -> Any:
    h.need("tls1_3")
    peer = _first_connection_to_stack_server(h, "TLSv1.3", {})
    # session_resumption + tls1_3 (SSL_CTX_set_num_tickets: two tickets by default): no ticket is a failure
    assert peer.tickets, ("the stack's TLS 1.3 server sent no NewSessionTicket after the handshake in its default "
                          "configuration, although the stack declares session_resumption")
    return peer.tickets[-1]


@pytest.mark.clauses("RFC9846/4.3.11/psk-binder")
def test_psk_binder_that_does_not_verify_is_refused(h: Harness) -> None:
    """The peer offers the stack server's own ticket with a binder whose last byte is flipped (the peer's
    transcript holds the ClientHello as sent): decrypt_error."""
    ticket = _ticket_from_stack_server(h)
    _handshake_fault(h, Role.SERVER, WrongPskBinder(), A.decrypt_error, _version("TLSv1.3"),
                     tls={"resume_ticket13": ticket}, shared_server=True, then_data=True)


@pytest.mark.clauses("RFC9846/4.3.11/pre-shared-key-last")
def test_pre_shared_key_that_is_not_the_last_extension_is_refused(h: Harness) -> None:
    """The peer offers the stack server's own ticket in a pre_shared_key that is not the last extension of its
    ClientHello (binder computed over the hello up to the binders where they stand): illegal_parameter."""
    ticket = _ticket_from_stack_server(h)
    _handshake_fault(h, Role.SERVER, PreSharedKeyNotLast(ticket=ticket), A.illegal_parameter, _version("TLSv1.3"),
                     tls={"resume_ticket13": ticket}, shared_server=True, then_data=True)


@pytest.mark.clauses("RFC9846/4.3.11/selected-identity-offered")
def test_server_selecting_a_psk_identity_not_offered_is_refused(h: Harness) -> None:
    """The stack's client offers the peer's ticket (one identity); the peer's ServerHello selects identity 1:
    illegal_parameter."""
    h.need("tls1_3")
    tls = _peer_server_tls("TLSv1.3")
    session = _first_connection_from_stack_client(h, "TLSv1.3", tls)
    _handshake_fault(h, Role.CLIENT, UnofferedPskIdentity(msg_type=2), A.illegal_parameter,
                     lambda c: _version("TLSv1.3")(c).with_(resume=session), tls=tls, then_data=True,
                     unreached=NOT_OFFERED)


# -- TLS 1.2: extended master secret (RFC 7627 section 5.3) -----------------------------------------------------------


def _session12(peer: MisbehavingPeer) -> Session12:
    session = next((c.session12 for c in peer.completed if c.session12 is not None), None)
    assert session is not None and session.session_id, "the stack's server gave the first session no session id"
    return session


@pytest.mark.clauses("RFC5246/7.4.1.2/resumption-ems-server")
def test_resumption_without_ems_of_an_ems_session_is_refused_by_the_server(h: Harness) -> None:
    """The first connection used the extended master secret; the peer offers its session id again without
    extended_master_secret: the stack's server must abort (RFC 7627 names no alert)."""
    h.need("tls1_2")
    session = _session12(_first_connection_to_stack_server(h, "TLSv1.2", TLS12_ONLY))
    assert session.extended_master_secret, "the stack's server did not negotiate the extended master secret"
    _handshake_fault(h, Role.SERVER, ResumptionEmsMismatch(), None, _version("TLSv1.2"),
                     tls={**TLS12_ONLY, "resume_session12": session}, shared_server=True, then_data=True)


@pytest.mark.clauses("RFC5246/7.4.1.2/resumption-ems-server")
def test_resumption_with_ems_of_a_session_without_is_a_full_handshake(h: Harness) -> None:
    """The first connection went without the extended master secret (the peer did not offer it); the peer offers
    the session again, now with extended_master_secret: the stack's server must not resume it (RFC 7627 section
    5.3), so the handshake is a full one, and it completes."""
    h.need("tls1_2")
    peer = _first_connection_to_stack_server(h, "TLSv1.2", {**TLS12_ONLY, "extended_master_secret": False})
    session = _session12(peer)
    assert not session.extended_master_secret
    config = _version("TLSv1.2")(EndpointConfig(role=Role.SERVER, verify_peer=False))
    pair, stack, second = pair_with_misbehaving_peer(h, Role.SERVER, Misbehaviour(), config,
                                                     tls={**TLS12_ONLY, "resume_session12": session},
                                                     shared_server=True)
    pair.handshake()
    pair.drive(server=lambda e: e.write(b"second connection"))
    got = pair.drive(client=lambda e: e.read(100))
    assert got.client is not None and got.client.ok, f"the peer did not read the server's data: {got.client}"
    done = second.completed[-1] if second.completed else None
    assert done is not None, "the peer saw no completed handshake"
    assert not done.resumed, f"{stack.label} resumed a session without extended master secret for a hello with it"
    assert done.session12 is not None and done.session12.extended_master_secret, (
        f"{stack.label}'s full handshake did not use the extended master secret the hello offered")


@pytest.mark.clauses("RFC5246/7.4.1.2/resumption-ems-client")
@pytest.mark.parametrize("first_ems", [True, False], ids=["ems-dropped", "ems-added"])
def test_resumption_with_a_changed_ems_is_refused_by_the_client(h: Harness, first_ems: bool) -> None:
    """The stack's client resumes the peer's session; the peer's abbreviated-handshake ServerHello leaves
    extended_master_secret out although the session has it, or puts it in although the session has none (its first
    connection went without it): the client must abort (RFC 7627 names no alert)."""
    h.need("tls1_2")
    tls = _peer_server_tls("TLSv1.2", ems=first_ems)
    sent = bytearray()
    stack_session = _first_connection_from_stack_client(h, "TLSv1.2", tls, client_hello=sent)
    ch = flight(bytes(sent)).first(1)
    # a hello the tap did not catch must not turn into "offers no extended_master_secret" (not applicable)
    assert ch is not None, f"no ClientHello of the stack's first connection on the tapped link ({len(sent)} bytes)"
    offers_ems = EXTENDED_MASTER_SECRET in hello(ch, client=True).extensions
    h.trace.note(f"the stack's ClientHello {'offers' if offers_ems else 'does not offer'} extended_master_secret")
    if first_ems and not offers_ems:  # RFC 7627 is an extension a client may leave out
        h.not_applicable(f"{h.stack.name}'s client offers no extended_master_secret (RFC 7627), so its session has "
                         "none that the ServerHello could leave out")
    cache = tls["session_cache12"]
    assert len(cache) == 1, f"the peer's server cached {len(cache)} sessions"
    (session_id, cached), = cache.items()
    assert cached.extended_master_secret is first_ems
    # the peer's server resumes the session only for a hello whose extended_master_secret state matches its own
    # record of it; a stack's client that offers the extension gets a record saying "with" (the master secret
    # stays); one that offers none keeps the record "without", and the ServerHello's extension is then unsolicited
    # as well (RFC 5246 section 7.4.1.4)
    cache[session_id] = dataclasses.replace(cached, extended_master_secret=offers_ems)
    fault = ResumptionEmsMismatch(msg_type=2, add=not first_ems, resuming=session_id)
    _handshake_fault(h, Role.CLIENT, fault, None, lambda c: _version("TLSv1.2")(c).with_(resume=stack_session),
                     tls={**tls, "extended_master_secret": True}, then_data=True, unreached=NOT_OFFERED)
