"""Session resumption between two stacks: a client of one stack resumes, with a second connection, the session a
server of another stack made in the first (TLS 1.2: session id or ticket; TLS 1.3: a ticket, psk_dhe_ke).

The servers of both connections come from one server context (``Harness.pair_factory``); the client takes its
session (``Endpoint.session``) after data went both ways, so a TLS 1.3 client has read the server's tickets. Whether
a handshake resumed is each side's SSL_session_reused where its stack reports it (capability 'session_reused'), else
what the wire shows (``specs.cases._resumed``)."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from specs.cases._resumed import resumed, tapped
from specs.cases._tls12wire import CERTIFICATE, NEW_SESSION_TICKET, SERVER_HELLO, SESSION_TICKET, flight, hello
from specs.cases.test_interop import _exchange

pytestmark = pytest.mark.interop


@pytest.mark.clauses("RFC5246/7.3/resumption", "RFC9846/2.2/resumption")
@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
def test_resumption(h: Harness, version: str) -> None:
    h.need("tls1_2" if version == "TLSv1.2" else "tls1_3")
    make = h.pair_factory(client=lambda c: c.with_(min_version=version, max_version=version),
                          server=lambda c: c.with_(min_version=version, max_version=version))
    link, c2s, s2c = tapped()
    first = make(link=link)
    first.handshake()
    _exchange(first, b"first connection")
    _exchange(first, b"reply", to_server=False)
    session = first.client.session()
    assert session is not None, "the client has no session after the first connection"
    assert not resumed(h, first, c2s, s2c)[0], "the first handshake claims to have resumed a session"
    # the first connection ends cleanly: a server may drop a session whose connection ended without close_notify
    # (RFC 2246 section 7.2.1 required it; OpenSSL still does, through its fatal alert on an unexpected EOF)
    first.drive_sides({"client": lambda e: e.shutdown()})
    first.drive_sides({"server": lambda e: e.read(100)})
    link, c2s, s2c = tapped()
    second = make(resume=session, link=link)
    second.handshake()
    reused = resumed(h, second, c2s, s2c)
    h.trace.note(f"second connection: session reused by client {reused[0]}, server {reused[1]}")
    assert reused == (True, True), f"the second connection did not resume the session: {reused}"
    for endpoint in (second.client, second.server):
        got = endpoint.negotiated_version()
        assert got in (None, version), f"{endpoint.label} resumed with {got}"
    _exchange(second, b"resumed connection")
    _exchange(second, b"reply", to_server=False)


# --- TLS 1.2 session tickets (RFC 5077) between stacks -------------------------------------------------------------


@pytest.mark.clauses("RFC5077/3.3/ticket-resumes", "RFC5246/7.3/resumption")
def test_tls12_ticket_resumption(h: Harness) -> None:
    h.need("tls1_2")
    pinned = {"min_version": "TLSv1.2", "max_version": "TLSv1.2"}
    make = h.pair_factory(client=lambda c: c.with_(**pinned), server=lambda c: c.with_(**pinned))
    link, c2s, s2c = tapped()
    first = make(link=link)
    first.handshake()
    _exchange(first, b"first connection")
    _exchange(first, b"reply", to_server=False)
    ch = hello(flight(bytes(c2s.seen)).first(1) or b"", client=True)
    server_flight = flight(bytes(s2c.seen))
    sh = hello(server_flight.first(SERVER_HELLO) or b"", client=False)
    offered, answered = SESSION_TICKET in ch.extensions, SESSION_TICKET in sh.extensions
    h.trace.note(f"first connection: client offered SessionTicket {offered}, server answered {answered}; server "
                 f"sent {server_flight.types()} before its CCS")
    if answered:
        assert offered, "the server answered a SessionTicket extension the client did not send"
        assert sh.extensions[SESSION_TICKET] == b"", "the ServerHello's SessionTicket extension is not empty"
        # RFC 5077 section 3.3: the server MUST send a NewSessionTicket after answering the extension
        assert NEW_SESSION_TICKET in server_flight.types(), "the server answered SessionTicket but sent no ticket"
    # what a stack does by default (ask for a ticket, answer the request) is its own choice, observed here; the
    # reference's defaults are checked in tests/engine/ssl/test_ssl_ticket_defaults.py
    if offered:
        assert ch.extensions[SESSION_TICKET] == b"", "the client's first hello carries a non-empty SessionTicket"
    nst = server_flight.first(NEW_SESSION_TICKET)
    ticket = nst[6:] if nst is not None else b""
    if not ticket:
        if not offered:
            h.not_applicable(f"no TLS 1.2 ticket to resume with: client {h.client_stack.name} sends no SessionTicket "
                             "extension in its default configuration, so no server may issue one")
        h.not_applicable(f"no TLS 1.2 ticket to resume with: server {h.server_stack.name} "
                         f"{'sent an empty ticket' if answered else 'did not answer the SessionTicket extension'} "
                         "in its default configuration")
    session = first.client.session()
    assert session is not None, "the client has no session after the first connection"
    link, c2s, s2c = tapped()
    second = make(resume=session, link=link)
    second.handshake()
    ch2 = hello(flight(bytes(c2s.seen)).first(1) or b"", client=True)
    server_flight2 = flight(bytes(s2c.seen))
    h.trace.note(f"second connection: server sent {server_flight2.types()} before its CCS")
    assert ch2.extensions.get(SESSION_TICKET) == ticket, "the client did not offer the ticket it received"
    assert CERTIFICATE not in server_flight2.types(), "the server did a full handshake instead of using the ticket"
    reused = resumed(h, second, c2s, s2c)
    assert reused == (True, True), f"the ticket did not resume the session: reused {reused}"
    _exchange(second, b"resumed from a ticket")
    _exchange(second, b"reply", to_server=False)
