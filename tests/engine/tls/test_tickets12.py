"""TLS 1.2 session tickets (RFC 5077) in the core: offered, issued, resumed from, renewed, refused.

The wire is read here with the cases' small parser of plaintext handshake records (``specs/cases/_tls12wire.py``:
in TLS 1.2 the hellos and the NewSessionTicket travel before ChangeCipherSpec), so the checks do not trust the
machines' own bookkeeping."""

from __future__ import annotations

import os

import pytest
from tls13_testlib import PKI, pair, pump

from engine.tls import AlertDescription, ApplicationData, HandshakeComplete, TLSAlertError, TLSConnection
from engine.tls.session12 import NewSessionTicket12, TicketState12, open12, seal12, ticket_session_id
from engine.tls.session13 import TicketSealer
from specs.cases._tls12wire import flight, hello

V12: dict[str, object] = {"supported_versions": (0x0303,)}
TICKET_EXT = 35
NST = 4


def _sealer() -> TicketSealer:
    return TicketSealer(os.urandom(32), os.urandom)


def _hello_parts(body: bytes, client: bool) -> tuple[bytes, dict[int, bytes]]:
    """(session id, extensions) of a ClientHello / ServerHello body."""
    parts = hello(body, client=client)
    return parts.session_id, parts.extensions


def _run(c: TLSConnection, s: TLSConnection) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """Pump to the end, returning the plaintext handshake messages each side sent."""
    c2s, s2c = b"", b""
    for _ in range(20):
        a = c.data_to_send()
        c2s += a
        if a:
            s.receive_bytes(a)
        b = s.data_to_send()
        s2c += b
        if b:
            c.receive_bytes(b)
        if not a and not b:
            break
    return flight(c2s).messages, flight(s2c).messages


def _done(conn: TLSConnection) -> HandshakeComplete:
    [done] = [e for e in conn.events() if isinstance(e, HandshakeComplete)]
    return done


def _first(pki: PKI, sealer: TicketSealer, **server: object) -> HandshakeComplete:
    c, s = pair(pki, V12, {**V12, "ticket_sealer": sealer, **server})
    sent_c, _sent_s = _run(c, s)
    assert TICKET_EXT in _hello_parts(sent_c[0][1], True)[1]
    done = _done(c)
    assert done.session12 is not None
    return done


def test_full_handshake_issues_a_ticket_and_an_empty_session_id(pki: PKI) -> None:
    sealer = _sealer()
    c, s = pair(pki, V12, {**V12, "ticket_sealer": sealer, "session_cache12": {}})
    sent_c, sent_s = _run(c, s)
    _sid, exts = _hello_parts(sent_c[0][1], True)
    assert exts[TICKET_EXT] == b""  # RFC 5077 section 3.2: an empty extension asks for a ticket
    sh_sid, sh_exts = _hello_parts(sent_s[0][1], False)
    assert sh_exts.get(TICKET_EXT) == b"" and sh_sid == b""
    assert [t for t, _ in sent_s][-1] == NST  # the last message before the server's ChangeCipherSpec
    nst = NewSessionTicket12.parse(sent_s[-1][1])
    state = open12(sealer, nst.ticket)
    assert state is not None and state.extended_master_secret and nst.lifetime_hint == 7200
    done = _done(c)
    assert done.session12 is not None and done.session12.ticket == nst.ticket
    assert done.session12.session_id == ticket_session_id(nst.ticket)
    assert not _done(s).resumed


def test_resumption_from_the_ticket_is_abbreviated(pki: PKI) -> None:
    sealer = _sealer()
    first = _first(pki, sealer)
    c, s = pair(pki, {**V12, "resume_session12": first.session12}, {**V12, "ticket_sealer": sealer})
    sent_c, sent_s = _run(c, s)
    assert first.session12 is not None
    sid, exts = _hello_parts(sent_c[0][1], True)
    assert exts[TICKET_EXT] == first.session12.ticket and sid == first.session12.session_id
    assert [t for t, _ in sent_s] == [2]  # ServerHello only: no Certificate, no new ticket (not renewed)
    assert _hello_parts(sent_s[0][1], False)[0] == sid  # RFC 5077 section 3.4: the id echoed
    cd, sd = _done(c), _done(s)
    assert cd.resumed and sd.resumed and cd.session12 == first.session12
    c.send_application_data(b"resumed")
    pump(c, s)
    assert ApplicationData(b"resumed") in s.events()


def test_a_renewed_ticket_comes_in_the_abbreviated_handshake(pki: PKI) -> None:
    sealer = _sealer()
    first = _first(pki, sealer)
    assert first.session12 is not None
    c, s = pair(pki, {**V12, "resume_session12": first.session12},
                {**V12, "ticket_sealer": sealer, "ticket_renew_after12": 0})  # fmt: skip
    _sent_c, sent_s = _run(c, s)
    assert [t for t, _ in sent_s] == [2, NST]
    assert _hello_parts(sent_s[0][1], False)[1].get(TICKET_EXT) == b""
    cd = _done(c)
    assert cd.resumed and cd.session12 is not None and cd.session12.ticket not in (None, first.session12.ticket)
    assert cd.session12.master_secret == first.session12.master_secret
    # the renewed ticket resumes too
    c, s = pair(pki, {**V12, "resume_session12": cd.session12}, {**V12, "ticket_sealer": sealer})
    pump(c, s)
    assert _done(c).resumed and _done(s).resumed


@pytest.mark.parametrize("damage", ["other-key", "flipped", "tls13-kind", "expired"])
def test_a_ticket_that_does_not_open_means_a_full_handshake(pki: PKI, damage: str) -> None:
    sealer = _sealer()
    first = _first(pki, sealer)
    assert first.session12 is not None and first.session12.ticket is not None
    session = first.session12
    server_sealer = sealer
    if damage == "other-key":
        server_sealer = _sealer()
    elif damage == "flipped":
        t = bytearray(session.ticket)  # type: ignore[arg-type]
        t[-1] ^= 1
        session = type(session)(**{**{f: getattr(session, f) for f in session.__slots__}, "ticket": bytes(t)})
    elif damage == "tls13-kind":
        state = open12(sealer, session.ticket)  # type: ignore[arg-type]
        assert state is not None
        session = type(session)(**{**{f: getattr(session, f) for f in session.__slots__},
                                   "ticket": sealer.seal_raw(state.build(), b"engine tls13 ticket v1")})
    server_kw: dict[str, object] = {**V12, "ticket_sealer": server_sealer}
    if damage == "expired":
        server_kw["ticket_lifetime"] = 0
        state = open12(sealer, session.ticket)  # type: ignore[arg-type]
        assert state is not None
        old = TicketState12(state.master_secret, state.cipher_suite, state.extended_master_secret,
                            state.issued_ms - 10_000, 1, state.server_name, state.alpn)  # fmt: skip
        session = type(session)(**{**{f: getattr(session, f) for f in session.__slots__},
                                   "ticket": seal12(sealer, old)})
    c, s = pair(pki, {**V12, "resume_session12": session}, server_kw)
    _sent_c, sent_s = _run(c, s)
    assert 11 in [t for t, _ in sent_s] and [t for t, _ in sent_s][-1] == NST  # full flight and a new ticket
    cd, sd = _done(c), _done(s)
    assert not cd.resumed and not sd.resumed


def test_tickets_off_on_either_side(pki: PKI) -> None:
    sealer = _sealer()
    c, s = pair(pki, {**V12, "session_tickets12": False}, {**V12, "ticket_sealer": sealer})
    sent_c, sent_s = _run(c, s)
    assert TICKET_EXT not in _hello_parts(sent_c[0][1], True)[1] and NST not in [t for t, _ in sent_s]
    cache: dict[bytes, object] = {}
    c, s = pair(pki, V12, {**V12, "ticket_sealer": sealer, "session_tickets12": False, "session_cache12": cache})
    sent_c, sent_s = _run(c, s)
    sid, exts = _hello_parts(sent_s[0][1], False)
    assert TICKET_EXT not in exts and NST not in [t for t, _ in sent_s] and sid in cache
    done = _done(c)
    assert done.session12 is not None and done.session12.ticket is None and done.session12.session_id == sid
    # resumption by session id only
    c, s = pair(pki, {**V12, "resume_session12": done.session12},
                {**V12, "ticket_sealer": sealer, "session_tickets12": False, "session_cache12": cache})  # fmt: skip
    pump(c, s)
    assert _done(c).resumed and _done(s).resumed


def test_ems_rules_of_rfc7627_on_ticket_resumption(pki: PKI) -> None:
    sealer = _sealer()
    first = _first(pki, sealer)
    c, s = pair(pki, {**V12, "resume_session12": first.session12, "extended_master_secret": False},
                {**V12, "ticket_sealer": sealer})  # fmt: skip
    with pytest.raises(TLSAlertError):
        pump(c, s)
    assert s.error is not None and s.error.alert == AlertDescription.handshake_failure and s.error.sent_by_us
    # a session without EMS offered by a client that now offers EMS: a full handshake
    first = _first(pki, sealer, extended_master_secret=False)
    assert first.session12 is not None and not first.session12.extended_master_secret
    c, s = pair(pki, {**V12, "resume_session12": first.session12}, {**V12, "ticket_sealer": sealer})
    pump(c, s)
    assert not _done(c).resumed and not _done(s).resumed


def test_ticket_state_codec_round_trips() -> None:
    state = TicketState12(bytes(range(48)), 0xC02F, True, 123456, 7200, "server.example", b"h2", (b"\x30\x00",))
    assert TicketState12.parse(state.build()) == state
    nst = NewSessionTicket12(300, b"ticket")
    assert NewSessionTicket12.parse(nst.build_body()) == nst


def test_server_name_after_resumption_is_the_original_accepted_one(pki: PKI) -> None:
    sealer = _sealer()
    c, s = pair(pki, {**V12, "server_name": "a.example"}, {**V12, "ticket_sealer": sealer})
    pump(c, s)
    first = _done(c)
    assert _done(s).server_name == "a.example"
    c, s = pair(pki, {**V12, "server_name": "b.example", "resume_session12": first.session12},
                {**V12, "ticket_sealer": sealer})  # fmt: skip
    pump(c, s)
    sd = _done(s)
    assert sd.resumed and sd.server_name == "a.example"


def test_a_session_whose_suite_is_no_longer_listed_is_not_offered(pki: PKI) -> None:
    """RFC 5246 section 7.4.1.2: a client offering a session lists its suite; a client that no longer lists it
    offers neither the session id nor the ticket, and the handshake is a full one."""
    sealer = _sealer()
    first = _first(pki, sealer)
    assert first.session12 is not None
    others = tuple(s for s in (0xC02B, 0xC02C, 0xCCA9) if s != first.session12.cipher_suite)
    c, s = pair(pki, {**V12, "resume_session12": first.session12, "cipher_suites12": others},
                {**V12, "ticket_sealer": sealer})
    sent_c, sent_s = _run(c, s)
    sid, exts = _hello_parts(sent_c[0][1], True)
    assert sid == b"" and exts[TICKET_EXT] == b""
    assert 11 in [t for t, _ in sent_s]  # the server's Certificate: a full handshake
    assert not _done(c).resumed and not _done(s).resumed
