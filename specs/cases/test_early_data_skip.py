"""RFC 9846 section 4.3.10 on every server stack: a client resuming with a ticket offers early_data and sends 0-RTT
records after its ClientHello; a server that does not accept early data (the default of every stack here) skips
them (records it cannot decrypt; after a HelloRetryRequest, application_data records) and the handshake goes on as
a 1-RTT one.

The client is the engine's TLS core (the misbehaving peer, with no fault): a first connection takes a ticket from
the server, a second offers it in pre_shared_key together with early_data (section 4.3.10 asks for both) and sends
records that look like 0-RTT data (random bytes under the application_data type)."""

from __future__ import annotations

import os

import pytest

from conformance.harness import Harness
from conformance.outcome import Role
from conformance.stacks.base import EndpointConfig
from engine.tls.events import NewSessionTicketReceived
from engine.tls.messages import ExtensionType
from engine.tls.misbehave import Misbehaviour
from engine.tls.session13 import Ticket13
from specs.cases._misbehaving import MisbehavingPeer, pair_with_misbehaving_peer
from specs.cases.test_interop import _exchange

pytestmark = pytest.mark.needs("tls1_3")

EARLY_RECORDS = (1000, 3000)  # 4000 bytes of "early data", well below 16384 (OpenSSL's default limit)


@pytest.mark.clauses("RFC9846/4.3.10/skip-early-data")
@pytest.mark.parametrize("hrr", [False, True], ids=["1-rtt", "after-hrr"])
def test_server_skips_early_data_it_does_not_accept(h: Harness, hrr: bool) -> None:
    h.need("session_resumption", stacks=(h.stack,))
    ticket = _ticket(h)
    server_config = EndpointConfig(role=Role.SERVER, verify_peer=False)
    pair, _, peer = pair_with_misbehaving_peer(h, Role.SERVER, Misbehaviour(), server_config, shared_server=True)
    cfg = peer.conn.config
    cfg.resume_ticket13 = ticket
    cfg.extra_extensions = (*cfg.extra_extensions, (ExtensionType.early_data, b""))
    if hrr:
        cfg.key_share_groups = ()  # no key share at all: every server must ask for one
    peer.conn.start_handshake()
    peer.outbox += peer.conn.data_to_send()
    peer.outbox += b"".join(b"\x17\x03\x03" + n.to_bytes(2, "big") + os.urandom(n) for n in EARLY_RECORDS)
    pair.handshake()
    h.trace.note(f"the server skipped {sum(EARLY_RECORDS)} bytes of early data"
                 f"{' sent before its HelloRetryRequest' if hrr else ''}")
    _exchange(pair, b"after the early data")
    _exchange(pair, b"reply", to_server=False)


def _ticket(h: Harness) -> Ticket13:
    """A first connection to the server, for a ticket."""
    pair, _, peer = pair_with_misbehaving_peer(h, Role.SERVER, Misbehaviour(), shared_server=True)
    pair.handshake()
    _exchange(pair, b"for a ticket", to_server=False)
    pair.settle()
    tickets = _tickets(peer)
    # a stack that declares session_resumption and tls1_3 must give TLS 1.3 clients something to resume with
    # (SSL_CTX_set_num_tickets: two tickets by default); none is the stack's failure, not "not applicable"
    assert tickets, (f"{h.stack.name}'s TLS 1.3 server sent no NewSessionTicket after the handshake in its default "
                     "configuration, although the stack declares session_resumption")
    return tickets[0]


def _tickets(peer: MisbehavingPeer) -> list[Ticket13]:
    if peer.inbox:
        data, peer.inbox = bytes(peer.inbox), bytearray()
        peer.conn.receive_bytes(data)
    return [e.session13 for e in peer.conn.events()
            if isinstance(e, NewSessionTicketReceived) and e.session13 is not None] + peer.tickets
