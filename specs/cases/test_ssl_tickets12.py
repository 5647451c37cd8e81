"""TLS 1.2 session tickets (RFC 5077) through the C API: SSL_OP_NO_TICKET on a server, stateless resumption without a
session cache, a ticket the server cannot use, the extended master secret on resumption (RFC 7627 section 5.3), and
SSL_get_servername on a server after a TLS 1.2 resumption.

Two SSL objects of the stack under test on BIO pairs; the case carries the bytes itself and keeps them, so what went
over the wire (the SessionTicket extension, the NewSessionTicket, whether the server sent its Certificate, the session
id echo) is read from the plaintext TLS 1.2 handshake rather than taken from the library's word. A second connection
reuses the first one's contexts (SSL_CTX_up_ref), as a session belongs to one SSL_CTX."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._ssl_objects import Mem
from specs.cases._tls12wire import CERTIFICATE, NEW_SESSION_TICKET, SESSION_TICKET, Flight, flight, hello
from specs.cases._wire import records

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role", "tls1_2")

V12 = "TLSv1.2"
SNI = "SSL_CTX_set_tlsext_servername_callback"
SERVER_NAME = 0  # the extension's code point (RFC 6066 section 3)


class _Held:
    def __init__(self, h: Harness, session: Any) -> None:
        self.api = h.capi
        self.session = session
        h.endpoints.append(self)  # type: ignore[arg-type]  # only close() is used

    def close(self) -> None:
        if self.session is not None:
            self.api.SSL_SESSION_free(self.session)
            self.session = None


class Conn:
    def __init__(self, client: Mem, server: Mem, c2s: bytes, s2c: bytes, done: bool) -> None:
        self.client, self.server = client, server
        self.c2s, self.s2c = flight(c2s), flight(s2c)
        self.done = done

    @property
    def client_hello(self) -> bytes:
        body = self.c2s.first(1)
        assert body is not None, "no ClientHello on the wire"
        return body

    @property
    def server_hello(self) -> bytes:
        body = self.s2c.first(2)
        assert body is not None, "no ServerHello on the wire"
        return body


def _pinned(c: Any) -> Any:
    return c.with_(min_version=V12, max_version=V12)


def _connect(h: Harness, *, client_ctx: Any = None, server_ctx: Any = None, session: Any = None,
             server_setup: Callable[[Any], object] | None = None, client_setup: Callable[[Any], object] | None = None,
             sni: str | None = None) -> Conn:
    api = h.capi
    for ctx in (client_ctx, server_ctx):
        if ctx is not None:
            assert api.SSL_CTX_up_ref(ctx) == 1

    def client_adjust(c: Any) -> Any:
        c = _pinned(c)
        return c if sni is None else c.with_(server_name=sni)

    client = Mem(h, Role.CLIENT, adjust=client_adjust, ctx=client_ctx,
                 before_new=client_setup if client_ctx is None else None)  # fmt: skip
    server = Mem(h, Role.SERVER, adjust=_pinned, ctx=server_ctx,
                 before_new=server_setup if server_ctx is None else None)  # fmt: skip
    if session is not None:
        assert api.SSL_set_session(client.ssl, session) == 1, "SSL_set_session failed"
    c2s, s2c = b"", b""
    done = False
    for _ in range(40):
        rc = api.SSL_do_handshake(client.ssl)
        rs = api.SSL_do_handshake(server.ssl)
        a, b = client.take(), server.take()
        c2s += a
        s2c += b
        server.give(a)
        client.give(b)
        if rc == 1 and rs == 1 and not a and not b:
            done = True
            break
        if not a and not b and ((rc <= 0 and api.SSL_get_error(client.ssl, rc) == K.SSL_ERROR_SSL)
                                or (rs <= 0 and api.SSL_get_error(server.ssl, rs) == K.SSL_ERROR_SSL)):
            break
    h.trace.note(f"client sent {flight(c2s).types()}, server sent {flight(s2c).types()} before their CCS")
    return Conn(client, server, c2s, s2c, done)


def _session(h: Harness, conn: Conn) -> Any:
    session = h.capi.SSL_get1_session(conn.client.ssl)
    assert session is not None, "SSL_get1_session gave NULL after the handshake"
    _Held(h, session)
    return session


def _reused(h: Harness, conn: Conn) -> tuple[int, int]:
    return h.capi.SSL_session_reused(conn.client.ssl), h.capi.SSL_session_reused(conn.server.ssl)


def _ctxs(conn: Conn) -> dict[str, Any]:
    return {"client_ctx": conn.client.ctx, "server_ctx": conn.server.ctx}


def _issued(f: Flight) -> bytes | None:
    body = f.first(NEW_SESSION_TICKET)
    return None if body is None else body[6:]  # lifetime hint (4), ticket length (2)


# --- SSL_OP_NO_TICKET ---------------------------------------------------------------------------------------------


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/no-ticket")
@pytest.mark.parametrize("cache", ["server-cache", "cache-off"])
def test_no_ticket_server(h: Harness, cache: str) -> None:
    api = h.capi

    def setup(ctx: Any) -> None:
        api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET)
        if cache == "cache-off":
            api.SSL_CTX_set_session_cache_mode(ctx, K.SSL_SESS_CACHE_OFF)

    first = _connect(h, server_setup=setup)
    assert first.done, "the first handshake did not complete"
    sh = hello(first.server_hello, client=False)
    assert SESSION_TICKET not in sh.extensions, "a server with SSL_OP_NO_TICKET answered the SessionTicket extension"
    assert NEW_SESSION_TICKET not in first.s2c.types(), "a server with SSL_OP_NO_TICKET sent a NewSessionTicket"
    session = _session(h, first)
    second = _connect(h, session=session, **_ctxs(first))
    assert second.done, "the second handshake did not complete"
    reused = _reused(h, second)
    if cache == "server-cache":
        # resumption by session id only: the id echoed, no Certificate, no ticket
        assert reused == (1, 1), f"no resumption by session id with the server cache on: reused {reused}"
        assert sh.session_id and hello(second.server_hello, client=False).session_id == sh.session_id
        assert CERTIFICATE not in second.s2c.types() and NEW_SESSION_TICKET not in second.s2c.types()
    else:
        assert reused == (0, 0), f"resumed without a ticket and without a session cache: reused {reused}"
        assert CERTIFICATE in second.s2c.types(), "no full handshake on the second connection"


# --- RFC 5077 ---------------------------------------------------------------------------------------------------


@pytest.mark.clauses("RFC5077/3.3/ticket-resumes", "SSL_CTX_set_options/NOTES/no-ticket")
def test_ticket_resumes_without_a_session_cache(h: Harness) -> None:
    api = h.capi
    first = _connect(h, server_setup=lambda ctx: api.SSL_CTX_set_session_cache_mode(ctx, K.SSL_SESS_CACHE_OFF))
    assert first.done, "the first handshake did not complete"
    assert hello(first.client_hello, client=True).extensions.get(SESSION_TICKET) == b"", \
        "the client's first ClientHello has no empty SessionTicket extension"
    assert hello(first.server_hello, client=False).extensions.get(SESSION_TICKET) == b"", \
        "the server (tickets on by default) did not answer the SessionTicket extension"
    ticket = _issued(first.s2c)
    assert ticket, f"no NewSessionTicket (or an empty one) before the server's CCS: {first.s2c.types()}"
    session = _session(h, first)
    assert api.SSL_SESSION_is_resumable(session) == 1, "a session with a ticket is not resumable"
    second = _connect(h, session=session, **_ctxs(first))
    assert second.done, "the second handshake did not complete"
    ch = hello(second.client_hello, client=True)
    assert ch.extensions.get(SESSION_TICKET) == ticket, "the second ClientHello does not carry the ticket"
    assert CERTIFICATE not in second.s2c.types(), "the server sent its Certificate: a full handshake"
    if ch.session_id:  # RFC 5077 section 3.4: an accepted ticket's session id is echoed
        assert hello(second.server_hello, client=False).session_id == ch.session_id
    assert _reused(h, second) == (1, 1), f"the ticket did not resume the session: {_reused(h, second)}"


@pytest.mark.clauses("RFC5077/3.4/unusable-ticket")
def test_a_ticket_of_another_context_means_a_full_handshake(h: Harness) -> None:
    first = _connect(h)
    assert first.done and _issued(first.s2c), "the first handshake issued no ticket"
    session = _session(h, first)
    second = _connect(h, session=session, client_ctx=first.client.ctx)  # a new server context: another ticket key
    assert hello(second.client_hello, client=True).extensions.get(SESSION_TICKET), "the ticket was not offered"
    assert second.done, "a ticket the server cannot decrypt failed the handshake instead of a full one"
    assert CERTIFICATE in second.s2c.types() and _reused(h, second) == (0, 0)
    assert _issued(second.s2c), "the full handshake after an unusable ticket issued no new ticket"


@pytest.mark.clauses("RFC5077/3.4/ems-on-resumption")
def test_ems_ticket_offered_without_ems(h: Harness) -> None:
    api = h.capi
    first = _connect(h)
    assert first.done and _issued(first.s2c), "the first handshake issued no ticket"
    assert 23 in hello(first.server_hello, client=False).extensions, "no extended master secret negotiated"
    session = _session(h, first)
    client = Mem(h, Role.CLIENT, adjust=_pinned,
                 before_new=lambda ctx: api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_EXTENDED_MASTER_SECRET))
    api.SSL_CTX_up_ref(first.server.ctx)
    server = Mem(h, Role.SERVER, adjust=_pinned, ctx=first.server.ctx)
    assert api.SSL_set_session(client.ssl, session) == 1
    s2c = b""
    rs = 1
    for _ in range(20):
        api.SSL_do_handshake(client.ssl)
        rs = api.SSL_do_handshake(server.ssl)
        a, b = client.take(), server.take()
        s2c += b
        server.give(a)
        client.give(b)
        if not a and not b:
            break
    assert rs <= 0 and api.SSL_get_error(server.ssl, rs) == K.SSL_ERROR_SSL, \
        f"the server resumed (or went on with) an extended-master-secret session without the extension: {rs}"
    alerts = [r.body for r in records(s2c) if r.type == 21]
    assert b"\x02\x28" in alerts, f"no fatal handshake_failure alert in plaintext from the server (alerts {alerts})"


# --- SSL_get_servername after a TLS 1.2 resumption ---------------------------------------------------------------


@pytest.mark.clauses(f"{SNI}/DESCRIPTION/get-servername-server-resumed", f"{SNI}/DESCRIPTION/null-callback-no-sni",
                     "RFC6066/3/no-server-name-on-resumption")
@pytest.mark.parametrize("answer", ["ok", "noack", "no-callback"])
@pytest.mark.parametrize("mechanism", ["ticket", "session-id"])
def test_servername_after_resumption(h: Harness, answer: str, mechanism: str) -> None:
    """The name a server accepted in a TLS 1.2 handshake, seen after a resumption; without a servername callback it
    accepted none. The no-callback runs and the resumed ServerHello's extensions were added by the mutation sweep
    (docs/mutation-sweep.md)."""
    api = h.capi
    ret = K.SSL_TLSEXT_ERR_OK if answer == "ok" else K.SSL_TLSEXT_ERR_NOACK

    def setup(ctx: Any) -> None:
        if answer != "no-callback":
            api.SSL_CTX_set_tlsext_servername_callback(ctx, lambda ssl, al, arg: ret)
        if mechanism == "session-id":
            api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET)

    first = _connect(h, server_setup=setup, sni="first.example")
    assert first.done
    assert api.SSL_get_servername(first.server.ssl, K.TLSEXT_NAMETYPE_host_name) == "first.example"
    session = _session(h, first)
    second = _connect(h, session=session, sni="second.example", **_ctxs(first))
    assert second.done and _reused(h, second) == (1, 1), f"no resumption: {_reused(h, second)}"
    # RFC 6066 section 3: a server resuming a session does not include server_name in its ServerHello
    assert SERVER_NAME not in hello(second.server_hello, client=False).extensions, \
        "the ServerHello of a resumed session carries a server_name extension"
    got = api.SSL_get_servername(second.server.ssl, K.TLSEXT_NAMETYPE_host_name)
    want = "first.example" if answer == "ok" else None
    assert got == want, (f"server's SSL_get_servername after a TLS 1.2 resumption: {got!r}; the page: the name "
                         f"accepted in the original handshake ({want!r})")
