"""Session resumption edges that a one-line engine change got past (branch `mutants`, docs/mutation-sweep.md): the
lifetime of a TLS 1.2 ticket, a session id offered beside an empty SessionTicket extension, a hello that proposes
no session, and a resumed session whose cipher suite the client no longer offers.

Two SSL objects of the stack under test on BIO pairs (the helpers of test_ssl_tickets12.py, which keep the bytes
each side sent, so the ServerHello and the server's flight are read from the plaintext TLS 1.2 handshake)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._ssl_objects import Mem, handshake
from specs.cases._tls12wire import CERTIFICATE, SESSION_TICKET, chosen_suite, flight, hello, offered_suites
from specs.cases._wire import records
from specs.cases.test_ssl_session import V13, held_session, offering_pair13
from specs.cases.test_ssl_session import _connect as _connect13
from specs.cases.test_ssl_session import _reused as _reused13
from specs.cases.test_ssl_tickets12 import Conn, _connect, _ctxs, _issued, _pinned, _reused, _session

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role", "tls1_2")

SUITE_A = b"ECDHE-ECDSA-AES128-GCM-SHA256"
SUITE_B = b"ECDHE-ECDSA-AES256-GCM-SHA384"


@pytest.mark.clauses("SSL_CTX_set_timeout/NOTES/expired-not-reused", "RFC5077/3.3/ticket-resumes")
def test_tls12_ticket_older_than_the_timeout_is_not_reused(h: Harness) -> None:
    """A server with a 2-second session timeout and no session cache: its ticket resumes at once, and no longer
    once 3 seconds have passed (the ticket's session is past its creation time plus its timeout)."""
    api = h.capi

    def setup(ctx: Any) -> None:
        api.SSL_CTX_set_timeout(ctx, 2)
        api.SSL_CTX_set_session_cache_mode(ctx, K.SSL_SESS_CACHE_OFF)  # only the ticket can resume

    first = _connect(h, server_setup=setup)
    assert first.done, "the first handshake did not complete"
    if SESSION_TICKET not in hello(first.client_hello, client=True).extensions:
        h.not_applicable("the stack's client asks for no TLS 1.2 session ticket (no SessionTicket extension)")
    assert _issued(first.s2c), "the first handshake issued no ticket"
    session = _session(h, first)
    soon = _connect(h, session=session, **_ctxs(first))
    assert soon.done and _reused(h, soon) == (1, 1), f"the fresh ticket did not resume: {_reused(h, soon)}"
    time.sleep(3.2)
    late = _connect(h, session=session, **_ctxs(first))
    assert hello(late.client_hello, client=True).extensions.get(SESSION_TICKET), "the client did not offer its ticket"
    assert late.done, "the handshake with an expired ticket did not complete (a full handshake was expected)"
    assert _reused(h, late) == (0, 0), f"a ticket 3 s old resumed with a 2 s session timeout: {_reused(h, late)}"
    assert CERTIFICATE in late.s2c.types(), "no full handshake (no server Certificate) for the expired ticket"


@pytest.mark.clauses("RFC5077/3.4/session-id-beside-empty-ticket")
def test_session_id_with_an_empty_session_ticket_resumes_from_the_cache(h: Harness) -> None:
    """A session made while the server issued no tickets (SSL_OP_NO_TICKET, so it has a session id and no ticket) is
    offered after the server turned tickets back on: the client's hello carries the id and an empty SessionTicket
    extension, and the server resumes by id from its cache."""
    api = h.capi
    first = _connect(h, server_setup=lambda ctx: api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET))
    assert first.done and not _issued(first.s2c), "the server with SSL_OP_NO_TICKET issued a ticket"
    sid = hello(first.server_hello, client=False).session_id
    assert sid, "the server sent no session id, so nothing can be resumed by id"
    session = _session(h, first)
    api.SSL_CTX_clear_options(first.server.ctx, K.SSL_OP_NO_TICKET)
    second = _connect(h, session=session, **_ctxs(first))
    ch = hello(second.client_hello, client=True)
    assert ch.session_id == sid, "the client did not offer the session id"
    if SESSION_TICKET not in ch.extensions:
        h.not_applicable("the stack's client asks for no TLS 1.2 session ticket (no SessionTicket extension)")
    assert ch.extensions.get(SESSION_TICKET) == b"", "the client's hello has a non-empty SessionTicket extension"
    assert second.done, "the handshake did not complete"
    assert _reused(h, second) == (1, 1), (f"a cached session offered by id beside an empty SessionTicket extension "
                                         f"was not resumed: {_reused(h, second)}")
    assert CERTIFICATE not in second.s2c.types(), "the server sent its Certificate: a full handshake"


@pytest.mark.clauses("SSL_CTX_sess_number/DESCRIPTION/misses")
@pytest.mark.parametrize("tickets", ["tickets-on", "tickets-off"])
def test_a_hello_without_a_session_is_no_miss(h: Harness, tickets: str) -> None:
    """A client with no session to offer: the server counts a cache miss only if the ClientHello still proposed a
    session id (none in an empty SessionTicket extension)."""
    api = h.capi

    def setup(ctx: Any) -> None:
        if tickets == "tickets-off":
            api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET)

    first = _connect(h, server_setup=setup)
    assert first.done, "the handshake did not complete"
    proposed = bool(hello(first.client_hello, client=True).session_id)
    misses = api.SSL_CTX_sess_misses(first.server.ctx)
    assert misses == int(proposed), (f"SSL_CTX_sess_misses {misses} after a handshake whose ClientHello proposed "
                                     f"{'a session id' if proposed else 'no session'}")


@pytest.mark.clauses("RFC5246/7.4.1.2/no-session-empty-id")
def test_tls12_client_without_a_session_sends_an_empty_session_id(h: Harness) -> None:
    """A client limited to TLS 1.2 with no session to resume sends an empty session_id (RFC 5246 section 7.4.1.2;
    the random id of TLS 1.3's middlebox compatibility mode belongs to a hello that offers TLS 1.3)."""
    first = _connect(h)
    sid = hello(first.client_hello, client=True).session_id
    assert not sid, f"a TLS 1.2-only ClientHello without a session carries a {len(sid)}-byte session id"


@dataclass
class _Side:
    """One side's SSL and its last handshake step: the return, SSL_get_error, the oldest error-queue entry left."""

    ssl: Any
    ret: int = 0
    code: int = 0
    entry: int = 0

    def show(self) -> str:
        return f"{self.ret} (SSL_get_error {self.code}, error entry {self.entry:#x})"


def _attempt(h: Harness, first: Conn, session: Any) -> tuple[bytes, bytes, _Side, _Side]:
    """A TLS 1.2 handshake of new SSL objects on ``first``'s contexts, the client offering ``session``, driven to its
    end; the bytes each side sent and each side's last step, the error queue read per side (cleared before each
    call, so an entry is the one that side's call left)."""
    api = h.capi
    for ctx in (first.client.ctx, first.server.ctx):
        assert api.SSL_CTX_up_ref(ctx) == 1
    client = Mem(h, Role.CLIENT, adjust=_pinned, ctx=first.client.ctx)
    server = Mem(h, Role.SERVER, adjust=_pinned, ctx=first.server.ctx)
    assert api.SSL_set_session(client.ssl, session) == 1, "SSL_set_session failed"
    c2s, s2c = b"", b""
    sides = {"client": _Side(client.ssl), "server": _Side(server.ssl)}
    for _ in range(40):
        for name, end in (("client", client), ("server", server)):
            side = sides[name]
            if side.ret == 1 or side.code == K.SSL_ERROR_SSL:
                continue  # done, or failed for good: its first failure is the one kept
            api.ERR_clear_error()
            side.ret = int(api.SSL_do_handshake(end.ssl))
            side.code = int(api.SSL_get_error(end.ssl, side.ret)) if side.ret != 1 else 0
            side.entry = int(api.ERR_peek_error())
        a, b = client.take(), server.take()
        c2s, s2c = c2s + a, s2c + b
        server.give(a)
        client.give(b)
        if not a and not b and all(s.ret == 1 or s.code == K.SSL_ERROR_SSL for s in sides.values()):
            break
    api.ERR_clear_error()
    h.trace.note(f"second handshake: client {sides['client'].show()}, server {sides['server'].show()}")
    return c2s, s2c, sides["client"], sides["server"]


# RFC 5246 section 7.2.2 (and RFC 9846 section 6.2): illegal_parameter, a handshake field inconsistent with the
# others (a session offered without its suite); handshake_failure, no acceptable set of security parameters
REFUSALS = {47: "illegal_parameter", 40: "handshake_failure"}


@pytest.mark.clauses("RFC5246/7.4.1.3/suite-from-client-list")
@pytest.mark.parametrize("mechanism", ["ticket", "session-id"])
def test_resumption_keeps_to_the_client_suites(h: Harness, mechanism: str) -> None:
    """The client offers a session made with one suite while offering only another. The suite of a ServerHello is
    one the ClientHello lists (RFC 5246 section 7.4.1.3), so the session cannot be resumed. Either the server goes
    on with a full handshake (its Certificate is sent, nothing resumed, the handshake completes), or it refuses the
    hello before any ServerHello: SSL_do_handshake < 0 with SSL_ERROR_SSL and an error-queue entry, a fatal alert
    that RFC 5246 section 7.2.2 names for it (illegal_parameter or handshake_failure) as the only thing it sends,
    and the client fails with SSL_ERROR_SSL on that alert."""
    api = h.capi

    def server_setup(ctx: Any) -> None:
        api.SSL_CTX_set_cipher_list(ctx, SUITE_A + b":" + SUITE_B)
        if mechanism == "session-id":
            api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET)

    first = _connect(h, server_setup=server_setup,
                     client_setup=lambda ctx: api.SSL_CTX_set_cipher_list(ctx, SUITE_A))  # fmt: skip
    assert first.done, "the first handshake did not complete"
    session = _session(h, first)
    api.SSL_CTX_set_cipher_list(first.client.ctx, SUITE_B)
    c2s, s2c, client, server = _attempt(h, first, session)
    sent = flight(c2s).first(1)
    assert sent is not None, f"the client sent no ClientHello ({c2s[:16].hex()})"
    offered = offered_suites(sent)
    sh = flight(s2c).first(2)
    chosen = "absent" if sh is None else hex(chosen_suite(sh))
    h.trace.note(f"offered suites {[hex(s) for s in offered]}; ServerHello suite {chosen}")
    if sh is not None:
        assert chosen_suite(sh) in offered, (f"the ServerHello's suite {chosen_suite(sh):#06x} is not in the "
                                             f"ClientHello's list {[hex(s) for s in offered]}")
        assert client.ret == 1 and server.ret == 1, (
            f"a full handshake with an offered suite did not complete: client {client.show()}, server "
            f"{server.show()}")
        reused = (api.SSL_session_reused(client.ssl), api.SSL_session_reused(server.ssl))
        assert reused == (0, 0), f"the session was resumed with a suite the client did not offer: {reused}"
        assert CERTIFICATE in flight(s2c).types(), "no full handshake (no server Certificate) although not resumed"
        return
    # refused before any ServerHello: on the wire, nothing but one fatal alert the RFC names
    sent_back = records(s2c)
    shown = [(r.type, r.body.hex()) for r in sent_back]
    assert server.ret < 0 and server.code == K.SSL_ERROR_SSL, (
        f"no ServerHello, yet the server's SSL_do_handshake is {server.show()}, not < 0 with SSL_ERROR_SSL; it "
        f"sent {shown}")
    assert server.entry != 0, f"the server refused the hello ({server.show()}) with an empty error queue"
    assert len(sent_back) == 1 and sent_back[0].type == 21 and len(sent_back[0].body) == 2, (
        f"the server refused the hello but did not send one alert record: {shown}")
    level, description = sent_back[0].body
    assert level == 2 and description in REFUSALS, (
        f"the server's alert is level {level}, description {description}: not a fatal "
        f"{' or '.join(REFUSALS.values())} (RFC 5246 section 7.2.2)")
    assert client.ret < 0 and client.code == K.SSL_ERROR_SSL and client.entry != 0, (
        f"the client that received the fatal {REFUSALS[description]} did not fail with SSL_ERROR_SSL and an "
        f"error-queue entry: {client.show()}")


@pytest.mark.clauses("SSL_CTX_set_alpn_select_cb/DESCRIPTION/get0-none")
@pytest.mark.parametrize("mechanism", ["ticket", "session-id"])
def test_no_alpn_selected_in_a_resumption_without_alpn(h: Harness, mechanism: str) -> None:
    """The first connection selects h2; the client then resumes its session offering no ALPN: nothing is selected in
    that handshake, so SSL_get0_alpn_selected reports nothing on either side."""
    api = h.capi

    def server_setup(ctx: Any) -> None:
        api.SSL_CTX_set_alpn_select_cb(ctx, lambda ssl, offered: (K.SSL_TLSEXT_ERR_OK, b"h2"))
        if mechanism == "session-id":
            api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET)

    first = _connect(h, server_setup=server_setup,
                     client_setup=lambda ctx: api.SSL_CTX_set_alpn_protos(ctx, b"\x02h2"))  # fmt: skip
    assert first.done, "the first handshake did not complete"
    got = (api.SSL_get0_alpn_selected(first.client.ssl), api.SSL_get0_alpn_selected(first.server.ssl))
    assert got == (b"h2", b"h2"), f"the first handshake did not select h2: {got}"
    session = _session(h, first)
    api.SSL_CTX_set_alpn_protos(first.client.ctx, b"")
    second = _connect(h, session=session, **_ctxs(first))
    assert second.done and _reused(h, second) == (1, 1), f"no resumption: {_reused(h, second)}"
    assert 16 not in hello(second.client_hello, client=True).extensions, "the second ClientHello still offers ALPN"
    got = (api.SSL_get0_alpn_selected(second.client.ssl), api.SSL_get0_alpn_selected(second.server.ssl))
    assert got == (b"", b""), f"SSL_get0_alpn_selected (client, server) after a resumption without ALPN: {got}"


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/no-ticket-server-side-only")
def test_no_ticket_on_a_client_changes_nothing(h: Harness) -> None:
    """SSL_OP_NO_TICKET set on a TLS 1.2 client (the page calls it a server-side option and says nothing of a client
    that sets it; OpenSSL 3.0's client honours it): the client asks for no ticket, its ClientHello has no
    SessionTicket extension, the server (tickets on, no session cache) issues none, and the session cannot be
    resumed: the next connection offering it is a full handshake. The same client without the option asks for a
    ticket (the check is not empty); a stack whose client never asks for one is not applicable. (The name is the
    one the expectations files know the case by.)"""
    api = h.capi

    def cache_off(ctx: Any) -> None:
        api.SSL_CTX_set_session_cache_mode(ctx, K.SSL_SESS_CACHE_OFF)

    plain = _connect(h, server_setup=cache_off)
    assert plain.done, "the handshake without SSL_OP_NO_TICKET did not complete"
    if SESSION_TICKET not in hello(plain.client_hello, client=True).extensions:
        h.not_applicable("the stack's client asks for no TLS 1.2 session ticket (no SessionTicket extension)")
    first = _connect(h, client_setup=lambda ctx: api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET),
                     server_setup=cache_off)
    assert first.done, "the first handshake did not complete"
    ch = hello(first.client_hello, client=True)
    assert SESSION_TICKET not in ch.extensions, (
        f"a client with SSL_OP_NO_TICKET asked for a ticket: its ClientHello has a SessionTicket extension of "
        f"{len(ch.extensions[SESSION_TICKET])} bytes")
    assert not _issued(first.s2c), "the server issued a ticket to a client that asked for none"
    session = _session(h, first)
    second = _connect(h, session=session, **_ctxs(first))
    assert second.done and _reused(h, second) == (0, 0), \
        f"a session without a ticket, from a server without a cache, was resumed: {_reused(h, second)}"
    assert SESSION_TICKET not in hello(second.client_hello, client=True).extensions, \
        "the client with SSL_OP_NO_TICKET asked for a ticket in its second connection"


@pytest.mark.clauses("SSL_CTX_set_timeout/NOTES/expired-not-reused")
def test_a_session_one_second_past_its_timeout_is_not_reused(h: Harness) -> None:
    """A TLS 1.2 session cached by the server (tickets off, timeout 100 s) whose creation time is moved back by 101
    s: the current time is past creation time plus timeout, so it is not resumed; one moved back by 50 s still is.
    (The boundary run was added by the mutation sweep, docs/mutation-sweep.md.)"""
    api = h.capi

    def setup(ctx: Any) -> None:
        api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET)
        api.SSL_CTX_set_timeout(ctx, 100)

    first = _connect(h, server_setup=setup)
    assert first.done, "the first handshake did not complete"
    session = _session(h, first)
    cached = api.SSL_get_session(first.server.ssl)
    made = api.SSL_SESSION_get_time(cached)
    assert api.SSL_SESSION_set_time(cached, made - 50) != 0
    inside = _connect(h, session=session, **_ctxs(first))
    assert inside.done and _reused(h, inside) == (1, 1), f"a session 50 s into a 100 s timeout: {_reused(h, inside)}"
    cached = api.SSL_get_session(inside.server.ssl)  # the cache's session as the resuming server holds it
    assert api.SSL_SESSION_get_time(cached) == made - 50, "the resumption changed the cached session's time"
    assert api.SSL_SESSION_set_time(cached, made - 101) != 0  # one second past creation plus timeout
    past = _connect(h, session=session, **_ctxs(first))
    assert past.done, "the handshake after the timeout did not complete"
    assert _reused(h, past) == (0, 0), f"a session 101 s old with a 100 s timeout was resumed: {_reused(h, past)}"


PRE_SHARED_KEY = 41  # RFC 9846 section 4.2.11


def _offer13(h: Harness, client_ctx: Any, server_ctx: Any, session: Any) -> tuple[Mem, Mem, dict[int, bytes]]:
    """A TLS 1.3 handshake of new SSL objects on these contexts, the client given ``session``: its ClientHello's
    extensions read off the wire on the way (the first flight is plaintext), then the handshake completed."""
    api = h.capi
    client, server = offering_pair13(h, client_ctx, server_ctx, session)
    ret = int(api.SSL_do_handshake(client.ssl))
    sent = client.take()
    body = flight(sent).first(1)
    assert body is not None, f"the client's first handshake step ({ret}) sent no ClientHello: {sent[:16].hex()}"
    extensions = hello(body, client=True).extensions
    server.give(sent)
    api.SSL_do_handshake(server.ssl)
    answer = server.take()
    server_hello = flight(answer).first(2)
    chosen = [] if server_hello is None else sorted(hello(server_hello, client=False).extensions)
    h.trace.note(f"ClientHello extensions {sorted(extensions)}; ServerHello extensions {chosen}")
    client.give(answer)
    handshake(h, client, server)
    return client, server, extensions


@pytest.mark.clauses("SSL_CTX_set_timeout/NOTES/expired-not-reused")
@pytest.mark.needs("tls1_3")
def test_a_tls13_session_past_its_own_timeout_is_not_offered(h: Harness) -> None:
    """A TLS 1.3 client session whose own timeout (100 s, its client context's SSL_CTX_set_timeout when it was made)
    has passed (its time moved back by 1000 s) is not resumed and not offered: the client's ClientHello has no
    pre_shared_key extension (the same session 50 s into its timeout is offered, so the check can fail),
    although the server's ticket lifetime (its default timeout, 7200 s) would still allow the ticket. Added by the
    mutation sweep (docs/mutation-sweep.md): the existing case gave the server a 100 s timeout, whose ticket
    lifetime alone kept the ticket out."""
    api = h.capi
    probe = Mem(h, Role.CLIENT)  # a client context configured as the case's clients are
    api.SSL_CTX_set_timeout(probe.ctx, 100)
    first_client, first_server = _connect13(h, V13, client_ctx=probe.ctx)
    session = held_session(h, first_client)
    assert api.SSL_SESSION_get_timeout(session) == 100, "the client session did not take its context's timeout"
    now = api.SSL_SESSION_get_time(session)
    assert api.SSL_SESSION_set_time(session, now - 50) != 0
    _, _, inside = _offer13(h, first_client.ctx, first_server.ctx, session)
    assert PRE_SHARED_KEY in inside, "a session 50 s into its 100 s timeout was not offered (no pre_shared_key)"
    assert api.SSL_SESSION_set_time(session, now - 1000) != 0
    client, server, late = _offer13(h, first_client.ctx, first_server.ctx, session)
    assert _reused13(h, client, server) == (0, 0), "a TLS 1.3 session past its own timeout was resumed"
    # the timeout is the client's own, which the server cannot know: only a client that keeps the session to itself
    # makes sure it is not reused
    assert PRE_SHARED_KEY not in late, (f"a session 1000 s old with a 100 s timeout was offered: the ClientHello "
                                        f"carries a pre_shared_key extension of {len(late[PRE_SHARED_KEY])} bytes")
