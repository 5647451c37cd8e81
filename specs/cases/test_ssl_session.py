"""C-API cases for sessions: SSL_get_session / SSL_get1_session, SSL_set_session, SSL_session_reused,
SSL_SESSION_is_resumable, SSL_CTX_set_timeout, SSL_CTX_set_session_cache_mode and the SSL_CTX_sess_* counters.

Every connection here is between two SSL objects of the stack under test on BIO pairs; a second connection reuses
the first one's contexts (SSL_CTX_up_ref), as the pages ask (a session belongs to one SSL_CTX). TLS 1.3 tickets
arrive after the handshake, so a client reads once (SSL_read -> WANT_READ) to take them in before asking for its
session. Expiry is shown without waiting: SSL_SESSION_set_time moves a session's creation time into the past."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._ssl_objects import WANT, Mem, error, handshake, move, note

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")

V12, V13 = "TLSv1.2", "TLSv1.3"
BOTH = pytest.mark.parametrize("version", [V12, V13])


class _Held:
    """A session reference the case took (SSL_get1_session); freed at the end of the case."""

    def __init__(self, h: Harness, session: Any) -> None:
        self.api = h.capi
        self.session = session
        h.endpoints.append(self)  # type: ignore[arg-type]  # only close() is used

    def close(self) -> None:
        if self.session is not None:
            self.api.SSL_SESSION_free(self.session)
            self.session = None


def _need(h: Harness, version: str) -> None:
    h.need("tls1_2" if version == V12 else "tls1_3", stacks=(h.stack,))


def _connect(h: Harness, version: str, *, client_ctx: Any = None, server_ctx: Any = None, session: Any = None,
             server_options: int = 0, server_setup: Any = None, read_tickets: bool = True) -> tuple[Mem, Mem]:
    """One handshake between a new client and a new server of the stack (on the contexts given, else new ones)."""
    api = h.capi

    def pinned(c: Any) -> Any:
        return c.with_(min_version=version, max_version=version)

    def server_before(ctx: Any) -> None:
        if server_options:
            api.SSL_CTX_set_options(ctx, server_options)
        if server_setup is not None:
            server_setup(ctx)

    for ctx in (client_ctx, server_ctx):
        if ctx is not None:
            assert api.SSL_CTX_up_ref(ctx) == 1
    client = Mem(h, Role.CLIENT, adjust=pinned, ctx=client_ctx)
    server = Mem(h, Role.SERVER, adjust=pinned, ctx=server_ctx,
                 before_new=server_before if server_ctx is None else None)  # fmt: skip
    if session is not None:
        assert api.SSL_set_session(client.ssl, session) == 1, "SSL_set_session failed"
    handshake(h, client, server)
    if read_tickets:
        take_tickets(h, client, server)
    return client, server


def take_tickets(h: Harness, client: Mem, server: Mem) -> None:
    """Let the client process what the server sent after the handshake (TLS 1.3 NewSessionTickets)."""
    api = h.capi
    move(client, server)
    api.ERR_clear_error()
    ret, _ = api.SSL_read(client.ssl, 1)
    assert ret <= 0 and error(api, client.ssl, ret) in WANT, f"SSL_read after the handshake -> {ret}"


def held_session(h: Harness, mem: Mem) -> Any:
    session = h.capi.SSL_get1_session(mem.ssl)
    assert session is not None, "SSL_get1_session returned NULL after a handshake"
    return _Held(h, session).session


def offering_pair13(h: Harness, client_ctx: Any, server_ctx: Any, session: Any) -> tuple[Mem, Mem]:
    """New SSL objects of the stack on these contexts (each context up-referenced for its new SSL), both limited
    to TLS 1.3, the client given ``session`` with SSL_set_session; no handshake step taken yet."""
    api = h.capi
    for ctx in (client_ctx, server_ctx):
        assert api.SSL_CTX_up_ref(ctx) == 1

    def pinned(c: Any) -> Any:
        return c.with_(min_version=V13, max_version=V13)

    client = Mem(h, Role.CLIENT, adjust=pinned, ctx=client_ctx)
    server = Mem(h, Role.SERVER, adjust=pinned, ctx=server_ctx)
    assert api.SSL_set_session(client.ssl, session) == 1, "SSL_set_session failed"
    return client, server


def _reused(h: Harness, client: Mem, server: Mem) -> tuple[int, int]:
    api = h.capi
    pair = (int(api.SSL_session_reused(client.ssl)), int(api.SSL_session_reused(server.ssl)))
    note(h, f"SSL_session_reused: client {pair[0]}, server {pair[1]}")
    return pair


def _resume(h: Harness, version: str, **kw: Any) -> tuple[Mem, Mem, Any]:
    """A full handshake, then a second connection on the same contexts offering the first one's session."""
    first_client, first_server = _connect(h, version, **kw)
    session = held_session(h, first_client)
    client, server = _connect(h, version, client_ctx=first_client.ctx, server_ctx=first_server.ctx, session=session)
    return client, server, session


# --- SSL_session_reused / SSL_set_session ---------------------------------------------------------------------

@pytest.mark.clauses("SSL_session_reused/RETURN VALUES/0")
@BOTH
def test_first_handshake_is_not_reused(h: Harness, version: str) -> None:
    """A connection without a session to offer negotiates a new one: SSL_session_reused is 0 on both sides."""
    _need(h, version)
    client, server = _connect(h, version)
    assert _reused(h, client, server) == (0, 0)


@pytest.mark.clauses("SSL_set_session/RETURN VALUES/1", "SSL_set_session/DESCRIPTION/used-when-connecting",
                     "SSL_session_reused/RETURN VALUES/1")
@BOTH
def test_session_set_on_the_client_is_resumed(h: Harness, version: str) -> None:
    """The client's session from a first connection, set with SSL_set_session on a second one to the same
    server context, is resumed: SSL_session_reused is 1 on both sides."""
    _need(h, version)
    client, server, _ = _resume(h, version)
    assert _reused(h, client, server) == (1, 1)


@pytest.mark.clauses("SSL_set_session/DESCRIPTION/not-reused-full-handshake",
                     "SSL_CTX_set_session_cache_mode/NOTES/per-context")
@BOTH
def test_session_unknown_to_the_server_gives_a_full_handshake(h: Harness, version: str) -> None:
    """A session the server cannot resume (made with another server context) still connects, with a full
    handshake: SSL_session_reused is 0."""
    _need(h, version)
    first_client, _ = _connect(h, version)
    session = held_session(h, first_client)
    client, server = _connect(h, version, client_ctx=first_client.ctx, session=session)
    assert _reused(h, client, server) == (0, 0), "a session made with another server context was resumed"


@pytest.mark.clauses("SSL_set_session/DESCRIPTION/replaces-and-null")
def test_set_session_null_clears_the_session(h: Harness) -> None:
    """SSL_set_session(ssl, NULL) drops the session the object held (SSL_get_session then gives NULL) and
    succeeds."""
    api = h.capi
    first_client, _ = _connect(h, V12 if h.stack.lacks("tls1_3") else V13)
    session = held_session(h, first_client)
    assert api.SSL_CTX_up_ref(first_client.ctx) == 1
    client = Mem(h, Role.CLIENT, ctx=first_client.ctx)
    assert api.SSL_set_session(client.ssl, session) == 1
    assert api.SSL_get_session(client.ssl) == session, "SSL_get_session does not give the session just set"
    assert api.SSL_set_session(client.ssl, None) == 1, "SSL_set_session(ssl, NULL) failed"
    assert api.SSL_get_session(client.ssl) is None, "the session is still set after SSL_set_session(ssl, NULL)"


@pytest.mark.clauses("SSL_set_session/DESCRIPTION/open-session-bad")
@BOTH
def test_replacing_an_open_session_makes_it_bad(h: Harness, version: str) -> None:
    """SSL_set_session on a connection that is still open (no SSL_shutdown) replaces a session that is then
    bad: it no longer resumes."""
    _need(h, version)
    api = h.capi
    first_client, first_server = _connect(h, version)
    session = held_session(h, first_client)
    assert api.SSL_set_session(first_client.ssl, None) == 1, "SSL_set_session(ssl, NULL) on an open connection failed"
    note(h, f"SSL_SESSION_is_resumable of the replaced open session: {api.SSL_SESSION_is_resumable(session)}")
    client, server = _connect(h, version, client_ctx=first_client.ctx, server_ctx=first_server.ctx, session=session)
    assert _reused(h, client, server) == (0, 0), "a session replaced while its connection was open was resumed"


# --- SSL_get_session ------------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_get_session/RETURN VALUES/NULL")
def test_no_session_before_a_handshake(h: Harness) -> None:
    """A new client object has no session: SSL_get_session and SSL_get1_session return NULL."""
    api = h.capi
    client = Mem(h, Role.CLIENT)
    assert api.SSL_get_session(client.ssl) is None, "SSL_get_session of a new client object is not NULL"
    assert api.SSL_get1_session(client.ssl) is None, "SSL_get1_session of a new client object is not NULL"


@pytest.mark.clauses("SSL_get_session/RETURN VALUES/pointer", "SSL_get_session/DESCRIPTION/get1-reference")
@BOTH
def test_get1_session_outlives_the_connection(h: Harness, version: str) -> None:
    """After a handshake both sides have a session; the reference SSL_get1_session takes keeps the client's
    session usable after SSL_free (of a cleanly closed connection, SSL_free: NOTES): a later connection resumes
    it."""
    _need(h, version)
    api = h.capi
    first_client, first_server = _connect(h, version)
    assert api.SSL_get_session(first_server.ssl) is not None, "the server has no session after its handshake"
    session = held_session(h, first_client)
    assert api.SSL_shutdown(first_client.ssl) == 0
    api.SSL_free(first_client.ssl)
    first_client.ssl = None
    client, server = _connect(h, version, client_ctx=first_client.ctx, server_ctx=first_server.ctx, session=session)
    assert _reused(h, client, server) == (1, 1), "the session kept by SSL_get1_session did not resume"


@pytest.mark.clauses("SSL_get_session/NOTES/tls13-not-resumable-until-ticket",
                     "SSL_SESSION_is_resumable/RETURN VALUES/0", "SSL_SESSION_is_resumable/RETURN VALUES/1")
@pytest.mark.needs("tls1_3")
def test_tls13_session_becomes_resumable_with_a_ticket(h: Harness) -> None:
    """In TLS 1.3 the client's session right after the handshake exists but cannot resume (0); once the server's
    tickets are read the session is resumable (1)."""
    api = h.capi
    client, server = _connect(h, V13, read_tickets=False)
    early = api.SSL_get_session(client.ssl)
    assert early is not None, "TLS 1.3 client has no session after the handshake"
    assert api.SSL_SESSION_is_resumable(early) == 0, "a TLS 1.3 session without a ticket is called resumable"
    take_tickets(h, client, server)
    later = api.SSL_get_session(client.ssl)
    assert later is not None and api.SSL_SESSION_is_resumable(later) == 1, "no resumable session after the tickets"


@pytest.mark.clauses("SSL_SESSION_is_resumable/RETURN VALUES/1")
@pytest.mark.needs("tls1_2")
def test_tls12_session_is_resumable(h: Harness) -> None:
    """A TLS 1.2 client's session is resumable as soon as the handshake is done."""
    client, _ = _connect(h, V12, read_tickets=False)
    assert h.capi.SSL_SESSION_is_resumable(h.capi.SSL_get_session(client.ssl)) == 1


@pytest.mark.clauses("SSL_SESSION_is_resumable/DESCRIPTION/non-resumable-full-handshake")
@pytest.mark.needs("tls1_3")
def test_non_resumable_session_gives_a_full_handshake(h: Harness) -> None:
    """A session that is not resumable (TLS 1.3, server sends no tickets) may still be set: the next handshake
    is a full one."""
    api = h.capi
    first_client, first_server = _connect(h, V13, server_setup=lambda ctx: api.SSL_CTX_set_num_tickets(ctx, 0))
    session = held_session(h, first_client)
    assert api.SSL_SESSION_is_resumable(session) == 0, "a TLS 1.3 session without tickets is called resumable"
    client, server = _connect(h, V13, client_ctx=first_client.ctx, server_ctx=first_server.ctx, session=session)
    assert _reused(h, client, server) == (0, 0)


@pytest.mark.clauses("SSL_get_session/NOTES/tls13-last-ticket")
@pytest.mark.needs("tls1_3")
def test_tls13_session_is_the_last_ticket_received(h: Harness) -> None:
    """With two tickets, the client's session after the second differs from the one after the first, and both
    resume."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version=V13))
    server = Mem(h, Role.SERVER, adjust=lambda c: c.with_(min_version=V13),
                 before_new=lambda ctx: api.SSL_CTX_set_num_tickets(ctx, 2))
    _handshake_keeping_tickets(h, client, server)
    records = _records(server.take())
    if not records:  # the tickets may have left with the server's handshake flight (half-RTT): the client has them
        ret, _ = api.SSL_read(client.ssl, 1)
        assert ret <= 0 and error(api, client.ssl, ret) in WANT
        resumable = api.SSL_SESSION_is_resumable(held_session(h, client))
        assert resumable == 1, (
            "SSL_CTX_set_num_tickets(ctx, 2), yet the server wrote nothing after the handshake and the client's "
            f"session is not resumable (SSL_SESSION_is_resumable -> {resumable}): no ticket reached the client")
    if len(records) == 1:  # two tickets in one record, or only one ticket: the size of one ticket tells
        one = _one_ticket_record(h)
        assert one == 0 or len(records[0]) > one * 3 // 2, (
            f"SSL_CTX_set_num_tickets(ctx, 2), yet the server wrote one record of {len(records[0])} bytes after the "
            f"handshake, the size of the record that carries one ticket ({one} bytes with SSL_CTX_set_num_tickets 1)")
    if len(records) != 2:
        h.not_applicable(f"the server sent its two tickets in {len(records)} record(s); one record per ticket is "
                         "needed to read them one at a time")
    sessions = []
    for record in records:
        client.give(record)
        ret, _ = api.SSL_read(client.ssl, 1)
        assert ret <= 0 and error(api, client.ssl, ret) in WANT
        sessions.append(held_session(h, client))
    assert sessions[0] != sessions[1], "the session did not change with the second ticket"
    for session in sessions:
        again, again_server = _connect(h, V13, client_ctx=client.ctx, server_ctx=server.ctx, session=session)
        assert _reused(h, again, again_server) == (1, 1)


def _one_ticket_record(h: Harness) -> int:
    """The length of what the stack's TLS 1.3 server writes after the handshake with one ticket (0: nothing)."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version=V13))
    server = Mem(h, Role.SERVER, adjust=lambda c: c.with_(min_version=V13),
                 before_new=lambda ctx: api.SSL_CTX_set_num_tickets(ctx, 1))
    _handshake_keeping_tickets(h, client, server)
    records = _records(server.take())
    return len(records[0]) if len(records) == 1 else 0


def _handshake_keeping_tickets(h: Harness, client: Mem, server: Mem) -> None:
    """Both handshakes to completion, leaving what the server writes last (its tickets) in its BIO."""
    api = h.capi
    done = {"client": False, "server": False}
    for _ in range(100):
        for name, side in (("client", client), ("server", server)):
            if not done[name]:
                ret = api.SSL_do_handshake(side.ssl)
                done[name] = ret == 1
                assert ret == 1 or error(api, side.ssl, ret) in WANT, f"{name} SSL_do_handshake -> {ret}"
        if all(done.values()):
            return
        move(client, server)
    raise AssertionError(f"handshake did not complete: {done}")


def _records(data: bytes) -> list[bytes]:
    out = []
    while len(data) >= 5:
        n = 5 + int.from_bytes(data[3:5], "big")
        out.append(data[:n])
        data = data[n:]
    return out


# --- SSL_CTX_set_timeout --------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_timeout/RETURN VALUES/previous", "SSL_CTX_set_timeout/RETURN VALUES/get-current")
def test_set_timeout_returns_the_previous_value(h: Harness) -> None:
    api = h.capi
    ctx = Mem(h, Role.SERVER).ctx
    before = api.SSL_CTX_get_timeout(ctx)
    assert api.SSL_CTX_set_timeout(ctx, 77) == before
    assert api.SSL_CTX_get_timeout(ctx) == 77
    assert api.SSL_CTX_set_timeout(ctx, 99) == 77


@pytest.mark.clauses("SSL_CTX_set_timeout/NOTES/established-keep-timeout")
def test_timeout_change_leaves_existing_sessions(h: Harness) -> None:
    """A session keeps the timeout of its context at the time it was made."""
    api = h.capi
    version = V12 if h.stack.lacks("tls1_3") else V13
    _, server = _connect(h, version, server_setup=lambda ctx: api.SSL_CTX_set_timeout(ctx, 500))
    session = api.SSL_get_session(server.ssl)
    assert api.SSL_SESSION_get_timeout(session) == 500
    api.SSL_CTX_set_timeout(server.ctx, 900)
    assert api.SSL_SESSION_get_timeout(session) == 500, "a later SSL_CTX_set_timeout changed a made session"


@pytest.mark.clauses("SSL_CTX_set_timeout/NOTES/expired-not-reused", "SSL_CTX_sess_number/DESCRIPTION/timeouts")
@pytest.mark.needs("tls1_2")
def test_expired_cached_session_is_not_reused(h: Harness) -> None:
    """A TLS 1.2 session cached by the server (tickets off) whose creation time plus timeout has passed is not
    resumed, and SSL_CTX_sess_timeouts counts it."""
    api = h.capi
    first_client, first_server = _connect(h, V12, server_options=K.SSL_OP_NO_TICKET,
                                          server_setup=lambda ctx: api.SSL_CTX_set_timeout(ctx, 100))  # fmt: skip
    session = held_session(h, first_client)
    cached = api.SSL_get_session(first_server.ssl)
    now = api.SSL_SESSION_get_time(cached)
    assert api.SSL_SESSION_set_time(cached, now - 1000) != 0
    client, server = _connect(h, V12, client_ctx=first_client.ctx, server_ctx=first_server.ctx, session=session)
    assert _reused(h, client, server) == (0, 0), "an expired session was resumed"
    assert api.SSL_CTX_sess_timeouts(first_server.ctx) == 1
    assert api.SSL_CTX_sess_hits(first_server.ctx) == 0


@pytest.mark.clauses("SSL_CTX_set_timeout/NOTES/expired-not-reused")
@pytest.mark.needs("tls1_2")
def test_resumption_does_not_renew_the_cached_session(h: Harness) -> None:
    """The deadline counts from the session's creation: resuming a cached TLS 1.2 session (tickets off) does not
    make it new. After one resumption the first server's session (the cached one) is moved 1000 s into the past
    with SSL_SESSION_set_time; a third connection offering it gets a full handshake. (A server that made a fresh
    session object with the current time at the resumption would resume a session past its creation plus its
    timeout, as often as a client keeps resuming it.)"""
    api = h.capi
    first_client, first_server = _connect(h, V12, server_options=K.SSL_OP_NO_TICKET,
                                          server_setup=lambda ctx: api.SSL_CTX_set_timeout(ctx, 100))  # fmt: skip
    session = held_session(h, first_client)
    client, server = _connect(h, V12, client_ctx=first_client.ctx, server_ctx=first_server.ctx, session=session)
    assert _reused(h, client, server) == (1, 1), "the second connection did not resume the cached session"
    cached = api.SSL_get_session(first_server.ssl)
    now = api.SSL_SESSION_get_time(cached)
    assert api.SSL_SESSION_set_time(cached, now - 1000) != 0
    client, server = _connect(h, V12, client_ctx=first_client.ctx, server_ctx=first_server.ctx, session=session)
    assert _reused(h, client, server) == (0, 0), (
        "a session created more than its timeout ago was resumed: the resumption in between renewed it")


@pytest.mark.clauses("SSL_CTX_set_timeout/NOTES/expired-not-reused")
@pytest.mark.needs("tls1_3")
def test_expired_tls13_session_is_not_offered(h: Harness) -> None:
    """A TLS 1.3 client session older than its timeout is not resumed: the handshake is a full one."""
    api = h.capi
    first_client, first_server = _connect(h, V13, server_setup=lambda ctx: api.SSL_CTX_set_timeout(ctx, 100))
    session = held_session(h, first_client)
    now = api.SSL_SESSION_get_time(session)
    assert api.SSL_SESSION_set_time(session, now - 1000) != 0
    client, server = _connect(h, V13, client_ctx=first_client.ctx, server_ctx=first_server.ctx, session=session)
    assert _reused(h, client, server) == (0, 0), "an expired TLS 1.3 session was resumed"


# --- SSL_CTX_set_session_cache_mode ---------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_session_cache_mode/NOTES/default-server",
                     "SSL_CTX_set_session_cache_mode/RETURN VALUES/previous",
                     "SSL_CTX_set_session_cache_mode/RETURN VALUES/current")
def test_cache_mode_default_and_returns(h: Harness) -> None:
    api = h.capi
    ctx = Mem(h, Role.SERVER).ctx
    got = api.SSL_CTX_get_session_cache_mode(ctx)
    assert got == K.SSL_SESS_CACHE_SERVER, f"default mode {got:#x}, not SSL_SESS_CACHE_SERVER"
    got = api.SSL_CTX_set_session_cache_mode(ctx, K.SSL_SESS_CACHE_BOTH)
    assert got == K.SSL_SESS_CACHE_SERVER, f"setting the mode returned {got:#x}, not the previous mode 0x2"
    got = api.SSL_CTX_get_session_cache_mode(ctx)
    assert got == K.SSL_SESS_CACHE_BOTH, f"the mode read back is {got:#x}, not 0x3"
    got = api.SSL_CTX_set_session_cache_mode(ctx, K.SSL_SESS_CACHE_OFF)
    assert got == K.SSL_SESS_CACHE_BOTH, f"setting the mode returned {got:#x}, not the previous mode 0x3"


@pytest.mark.clauses("SSL_CTX_set_session_cache_mode/NOTES/off",
                     "SSL_CTX_set_session_cache_mode/NOTES/no-internal-lookup",
                     "SSL_CTX_set_session_cache_mode/NOTES/no-internal-store")
@pytest.mark.needs("tls1_2")
@pytest.mark.parametrize("mode", ["OFF", "NO_INTERNAL_LOOKUP", "NO_INTERNAL_STORE"])
def test_cache_mode_stops_session_id_resumption(h: Harness, mode: str) -> None:
    """TLS 1.2 with tickets off, so a resumption needs the server's internal cache: caching off, lookups off or
    stores off each give a full handshake; only with lookups off is the session still stored."""
    api = h.capi
    value = {"OFF": K.SSL_SESS_CACHE_OFF,
             "NO_INTERNAL_LOOKUP": K.SSL_SESS_CACHE_SERVER | K.SSL_SESS_CACHE_NO_INTERNAL_LOOKUP,
             "NO_INTERNAL_STORE": K.SSL_SESS_CACHE_SERVER | K.SSL_SESS_CACHE_NO_INTERNAL_STORE}[mode]  # fmt: skip
    client, server, _ = _resume(h, V12, server_options=K.SSL_OP_NO_TICKET,
                                server_setup=lambda ctx: api.SSL_CTX_set_session_cache_mode(ctx, value))
    stored = api.SSL_CTX_sess_number(server.ctx)
    note(h, f"mode {mode}: {stored} session(s) in the server cache")
    assert _reused(h, client, server) == (0, 0), f"resumed with cache mode {mode}"
    assert stored == (2 if mode == "NO_INTERNAL_LOOKUP" else 0), f"SSL_CTX_sess_number {stored} with mode {mode}"


# --- SSL_CTX_sess_number and the counters ---------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_sess_number/DESCRIPTION/number", "SSL_CTX_sess_number/DESCRIPTION/connect",
                     "SSL_CTX_sess_number/DESCRIPTION/connect-good", "SSL_CTX_sess_number/DESCRIPTION/accept",
                     "SSL_CTX_sess_number/DESCRIPTION/accept-good", "SSL_CTX_sess_number/DESCRIPTION/hits")
@pytest.mark.needs("tls1_2")
def test_counters_after_a_full_and_a_resumed_handshake(h: Harness) -> None:
    """Two TLS 1.2 connections (tickets off), the second resuming the first: each side counts two handshakes
    started and two completed, one hit; the server cache holds one session."""
    api = h.capi
    client, server, _ = _resume(h, V12, server_options=K.SSL_OP_NO_TICKET)
    assert _reused(h, client, server) == (1, 1)
    seen = {name: getattr(api, f"SSL_CTX_sess_{name}")(ctx) for name, ctx in (
        ("connect", client.ctx), ("connect_good", client.ctx), ("accept", server.ctx), ("accept_good", server.ctx),
        ("number", server.ctx))}  # fmt: skip
    seen["hits(server)"] = api.SSL_CTX_sess_hits(server.ctx)
    seen["hits(client)"] = api.SSL_CTX_sess_hits(client.ctx)
    note(h, f"counters: {seen}")
    want = {"connect": 2, "connect_good": 2, "accept": 2, "accept_good": 2, "number": 1, "hits(server)": 1,
            "hits(client)": 1}
    assert seen == want, f"counters {seen}"


@pytest.mark.clauses("SSL_CTX_sess_number/DESCRIPTION/misses")
@pytest.mark.needs("tls1_2")
def test_unknown_session_id_is_a_miss(h: Harness) -> None:
    """A client offers a session id the server's cache does not hold (made by another server context): the
    server counts a miss."""
    api = h.capi
    first_client, _ = _connect(h, V12, server_options=K.SSL_OP_NO_TICKET)
    session = held_session(h, first_client)
    _, server = _connect(h, V12, client_ctx=first_client.ctx, session=session, server_options=K.SSL_OP_NO_TICKET)
    misses, hits = api.SSL_CTX_sess_misses(server.ctx), api.SSL_CTX_sess_hits(server.ctx)
    assert (misses, hits) == (1, 0), f"SSL_CTX_sess_misses {misses}, SSL_CTX_sess_hits {hits}"


@pytest.mark.clauses("SSL_CTX_sess_number/DESCRIPTION/cache-full")
@pytest.mark.needs("tls1_2")
def test_full_cache_counts_removals(h: Harness) -> None:
    """With room for one session, a second full handshake pushes the first session out: SSL_CTX_sess_cache_full
    counts it and the cache still holds one."""
    api = h.capi
    _, server = _connect(h, V12, server_options=K.SSL_OP_NO_TICKET,
                         server_setup=lambda ctx: api.SSL_CTX_sess_set_cache_size(ctx, 1))
    _connect(h, V12, server_ctx=server.ctx)
    number, full = api.SSL_CTX_sess_number(server.ctx), api.SSL_CTX_sess_cache_full(server.ctx)
    assert (number, full) == (1, 1), f"SSL_CTX_sess_number {number}, SSL_CTX_sess_cache_full {full}"
