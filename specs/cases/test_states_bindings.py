"""The I/O functions in the connection states their pages name, through the normalised endpoint (issue 10, item 1),
so that the binding stacks (pyOpenSSL, stdlib ssl, tlslite-ng, nassl, rustls, Mbed TLS) are checked in each state
as far as their public API reaches, and not only the C-API stacks (test_states_ssl_io.py, whose cases these
mirror).

A state is reached as :func:`specs.cases._states.reach` reaches it, with the endpoint's calls instead of the C
functions: ``do_handshake`` / ``read`` / ``write`` / ``shutdown`` and the network side of the endpoint's transport
(``take_outgoing`` / ``put_incoming``), each checked on the way. What a binding does not show is checked where the
stack has the capability that shows it (``raw_return_values`` for the C return value, ``error_codes`` for the
SSL_get_error code, ``shutdown_state`` for SSL_get_shutdown, ``shutdown_return_values`` for SSL_shutdown's 0 and 1,
``pending`` for SSL_pending); a case that needs one to say anything declares it. Every case declares its states.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness, Pair
from conformance.link import Link
from conformance.outcome import Outcome, Role, SslError
from conformance.pump import writes
from conformance.stacks.base import Endpoint, EndpointConfig
from conformance.stacks.engine import EngineStack
from specs.cases._states import State

pytestmark = pytest.mark.needs("client_role")

# a server subject needs the stack's server role; a client subject of a client-only stack meets the engine
ROLES = [Role.CLIENT, pytest.param(Role.SERVER, marks=pytest.mark.needs("server_role"))]
SENT, RECEIVED = K.SSL_SENT_SHUTDOWN, K.SSL_RECEIVED_SHUTDOWN
HANDSHAKE_RECORD = 0x16
WANT_READ, ZERO_RETURN = SslError.SSL_ERROR_WANT_READ, SslError.SSL_ERROR_ZERO_RETURN


@dataclass
class Staged:
    """The subject endpoint in its state, its peer (the other role, same stack), and their pair."""

    h: Harness
    state: State
    pair: Pair
    subject: Endpoint
    peer: Endpoint

    def call(self, endpoint: Endpoint, goal: Callable[[Endpoint], Outcome]) -> Outcome:
        return self.pair.call(endpoint, goal)

    def move(self) -> None:
        self.pair.settle()


def _ended(out: Outcome) -> bool:
    """A failure that ends the connection: not success, not a retry, not an orderly close."""
    return not out.ok and not out.retry and out.error is not ZERO_RETURN


def _corrupt_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _pair(h: Harness, role: Role) -> Pair:
    """A client and a server of the stack under test; for a client subject of a stack that cannot be a server
    (nassl drives a client only), the reference engine is the server, so the client still reaches every state."""
    if role is Role.SERVER or h.stack.lacks("server_role") is None:
        return h.pair()
    h.need("client_role")
    client = h.stack.endpoint(EndpointConfig(role=Role.CLIENT, verify_peer=True), f"client({h.stack.name})")
    server = EngineStack().endpoint(EndpointConfig(role=Role.SERVER, verify_peer=False),
                                    "server(engine, the reference peer)")
    h.endpoints += [client, server]
    for endpoint in (client, server):
        attach = getattr(endpoint, "attach_trace", None)
        if attach is not None:
            attach(h.trace)
    h.trace.note(f"pair: client {h.stack.name}, server engine (the reference: {h.stack.name} has no server role)")
    return Pair(client, server, Link.whole(), h.trace)


def reach(h: Harness, state: State, role: Role = Role.CLIENT, *, alert_sent: bool = False) -> Staged:
    """A subject endpoint of ``role`` in ``state`` (``before-handshake`` to ``fatal-alert``; ``after-clear`` and
    ``null-handle`` have no endpoint form). In ``close-notify-sent`` the close_notify waits in the subject's
    transport, unread; in ``fatal-alert`` the subject received the fatal alert, or sent it when ``alert_sent``."""
    pair = _pair(h, role)
    subject, peer = (pair.client, pair.server) if role is Role.CLIENT else (pair.server, pair.client)
    staged = Staged(h, state, pair, subject, peer)
    if state is State.BEFORE_HANDSHAKE:
        pass
    elif state is State.MID_HANDSHAKE:
        # the client's first flight is out; a server subject has read it and sent its own: both wait to read
        first = pair.call(pair.client, lambda e: e.do_handshake())
        assert first.retry, f"the client's first handshake step must wait for the server: {first}"
        staged.move()
        if role is Role.SERVER:
            step = pair.call(pair.server, lambda e: e.do_handshake())
            assert step.retry, f"the server's first handshake step must wait for the client: {step}"
            staged.move()
    else:
        pair.handshake()
        staged.move()
        if state is State.CLOSE_NOTIFY_SENT:
            out = pair.call(subject, lambda e: e.shutdown())
            assert out.ok, f"the first shutdown of an established connection: {out}"
        elif state is State.CLOSE_NOTIFY_RECEIVED:
            out = pair.call(peer, lambda e: e.shutdown())
            assert out.ok, f"the peer's first shutdown: {out}"
            staged.move()
            seen = pair.call(subject, lambda e: e.read(10))
            assert seen.error is ZERO_RETURN, f"reading the peer's close_notify: {seen}"
        elif state is State.FATAL_ALERT:
            # one record with one bit flipped: its receiver's read fails and sends a fatal alert (bad_record_mac)
            victim, sender = (subject, peer) if alert_sent else (peer, subject)
            wrote = pair.call(sender, lambda e: e.write(b"tampered"))
            assert wrote.ok, f"the write whose record is corrupted: {wrote}"
            victim.put_incoming(_corrupt_last_byte(sender.take_outgoing()))
            failed = pair.call(victim, lambda e: e.read(100))
            assert _ended(failed) and not failed.data, f"a corrupted record must fail the read for good: {failed}"
            alert = victim.take_outgoing()
            assert alert, "no alert was sent for a corrupted record"
            if not alert_sent:
                subject.put_incoming(alert)
                got = pair.call(subject, lambda e: e.read(100))
                assert _ended(got) and not got.data, f"reading the peer's fatal alert: {got}"
        else:
            assert state is State.ESTABLISHED, f"no endpoint is built for {state}"
    h.trace.note(f"{role.value} subject is {state}")
    return staged


def _shutdown_state_is(staged: Staged, want: int, message: str) -> None:
    """Where SSL_get_shutdown is bound (``shutdown_state``): the subject's shutdown flags are ``want``; ``message``
    names them with ``{}``."""
    if staged.h.has("shutdown_state"):
        flags = staged.subject.get_shutdown()
        assert flags == want, message.format(flags)


def _peer_reads_our_close_notify(staged: Staged) -> None:
    seen = staged.call(staged.peer, lambda e: e.read(10))
    assert seen.error is ZERO_RETURN, f"the peer's read of our close_notify: {seen}"


def _first_record_is_handshake(staged: Staged, what: str) -> None:
    wire = staged.subject.take_outgoing()
    assert wire, f"{what}: nothing was written (the implicit handshake did not start)"
    assert wire[0] == HANDSHAKE_RECORD, f"{what}: the first record is of type {wire[0]}, not a handshake record"
    staged.peer.put_incoming(wire)


# --- before the handshake, and in the middle of it ----------------------------------------------------------

@pytest.mark.clauses("SSL_read/NOTES/implicit-handshake", "SSL_get_error/RETURN VALUES/io-handles-pending-handshake")
@pytest.mark.states("before-handshake")
@pytest.mark.needs("implicit_handshake_on_read", "error_codes")
def test_binding_read_runs_the_handshake_first(h: Harness) -> None:
    """A client that has run no handshake step: its read starts the handshake (a handshake record goes out) and
    asks to be called again (WANT_READ) without data; repeated while the server answers, it delivers the server's
    data."""
    staged = reach(h, State.BEFORE_HANDSHAKE)
    out = staged.call(staged.subject, lambda e: e.read(100))
    assert out.error is WANT_READ and not out.data, f"the first read before the handshake: {out}"
    _first_record_is_handshake(staged, "a read before the handshake")
    staged.pair.drive(client=lambda e: e.read(100), server=lambda e: e.do_handshake(), until="server")
    staged.pair.drive(server=writes(b"after the handshake"))
    got = staged.pair.drive(client=lambda e: e.read(100)).client
    assert got is not None and got.ok and got.data == b"after the handshake", f"the client's read: {got}"


@pytest.mark.clauses("SSL_write/NOTES/implicit-handshake", "SSL_get_error/RETURN VALUES/io-handles-pending-handshake")
@pytest.mark.states("before-handshake")
@pytest.mark.needs("implicit_handshake_on_write", "error_codes")
def test_binding_write_runs_the_handshake_first(h: Harness) -> None:
    """A client that has run no handshake step: its write starts the handshake (a handshake record goes out) and
    asks to be called again (WANT_READ); repeated with the same data while the server answers, it completes with
    every byte written, and the server reads exactly those bytes."""
    staged = reach(h, State.BEFORE_HANDSHAKE)
    out = staged.call(staged.subject, lambda e: e.write(b"first words"))
    assert out.error is WANT_READ, f"the first write before the handshake: {out}"
    _first_record_is_handshake(staged, "a write before the handshake")
    done = staged.pair.drive(client=writes(b"first words"), server=lambda e: e.do_handshake()).client
    assert done is not None and done.ok, f"the repeated write: {done}"
    if h.has("raw_return_values"):
        assert done.ret == 11, f"the repeated write returned {done.ret}, not the 11 bytes written"
    got = staged.pair.drive(server=lambda e: e.read(100)).server
    assert got is not None and got.data == b"first words", f"the server's read: {got}"


def _continues(fn: str) -> list[str]:
    return {"read": ["implicit_handshake_on_read"], "write": ["implicit_handshake_on_write"],
            "do_handshake": []}[fn]


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/io-handles-pending-handshake")
@pytest.mark.states("mid-handshake")
@pytest.mark.needs("error_codes")
@pytest.mark.parametrize("fn", [
    "read",
    pytest.param("write", marks=pytest.mark.clauses("SSL_write/NOTES/write-may-read")),
    pytest.param("do_handshake", marks=pytest.mark.clauses("SSL_do_handshake/NOTES/repeat-call")),
])
@pytest.mark.parametrize("role", ROLES)
def test_binding_io_continues_a_handshake_under_way(h: Harness, role: Role, fn: str) -> None:
    """A handshake stopped where the subject waits to read (client: first flight sent; server: its flight sent):
    the same kind of call carries it on, asks again while the peer is silent, and completes once the peer
    answers; then data flows from the peer to the subject."""
    h.need(*_continues(fn), stacks=(h.stack,))
    staged = reach(h, State.MID_HANDSHAKE, role)
    calls: dict[str, Callable[[Endpoint], Outcome]] = {
        "read": lambda e: e.read(100), "write": lambda e: e.write(b"midway"),
        "do_handshake": lambda e: e.do_handshake()}
    again = staged.call(staged.subject, calls[fn])
    assert again.retry and not again.data, f"{fn} with the peer silent must ask again: {again}"
    # the peer completes its side; a read goes on waiting (for data), a write or a handshake step completes
    goals: dict[str, Callable[[Endpoint], Outcome]] = {role.value: calls[fn], role.other.value: _handshake_step}
    result = staged.pair.pump.drive(goals.get("client"), goals.get("server"),
                                    until=role.other.value if fn == "read" else "all")
    ended = getattr(result, role.value)
    if fn != "read":
        assert ended is not None and ended.ok, f"{fn} once the peer answered: {ended}"
    staged.pair.drive_sides({role.other.value: writes(b"done")})
    got = getattr(staged.pair.drive_sides({role.value: lambda e: e.read(100)}), role.value)
    assert got is not None and got.data == b"done", f"the subject's read of the peer's data: {got}"
    if fn == "write":
        seen = getattr(staged.pair.drive_sides({role.other.value: lambda e: e.read(100)}), role.other.value)
        assert seen is not None and seen.data == b"midway", f"the peer's read of the subject's write: {seen}"


def _handshake_step(e: Endpoint) -> Outcome:
    return e.do_handshake()


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/not-before-handshake-done")
@pytest.mark.states("before-handshake", "mid-handshake")
@pytest.mark.needs("error_codes")
@pytest.mark.parametrize("state", [State.BEFORE_HANDSHAKE, State.MID_HANDSHAKE])
@pytest.mark.parametrize("role", ROLES)
def test_binding_shutdown_without_a_finished_handshake(h: Harness, role: Role, state: State) -> None:
    """No finished handshake: shutdown fails with SSL_ERROR_SSL (< 0 where the C value is seen, with a reason where
    the stack keeps the error queue), sends nothing, and sets no shutdown flag (where SSL_get_shutdown is bound)."""
    staged = reach(h, state, role)
    before = staged.subject.outgoing_pending()
    out = staged.call(staged.subject, lambda e: e.shutdown())
    sent = staged.subject.outgoing_pending() - before
    h.trace.note(f"shutdown {state} ({role.value}): {out}; {sent} bytes written")
    assert out.error is SslError.SSL_ERROR_SSL, f"shutdown {state}: {out}"
    if h.has("raw_return_values"):
        assert out.ret < 0, f"shutdown {state} returned {out.ret}, not < 0"
    if h.has("error_queue"):
        assert out.reason, f"shutdown {state}: SSL_ERROR_SSL with nothing on the error queue: {out}"
    assert sent == 0, f"shutdown {state} wrote {sent} bytes"
    _shutdown_state_is(staged, 0, f"shutdown state {{}} {state}")


# --- established ---------------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/sends-close-notify")
@pytest.mark.states("established")
@pytest.mark.needs("error_codes")
@pytest.mark.parametrize("role", ROLES)
def test_binding_shutdown_on_an_established_connection(h: Harness, role: Role) -> None:
    """Established: shutdown succeeds (0 where SSL_shutdown's values are seen: close_notify sent, the peer's not
    yet received), a close_notify goes out, SSL_SENT_SHUTDOWN is set where SSL_get_shutdown is bound (nothing
    before), and the peer's read ends with ZERO_RETURN."""
    staged = reach(h, State.ESTABLISHED, role)
    _shutdown_state_is(staged, 0, "established: shutdown state {}")
    out = staged.call(staged.subject, lambda e: e.shutdown())
    assert out.ok, f"the first shutdown of an established connection: {out}"
    if h.has("shutdown_return_values"):
        assert out.ret == 0, f"the first shutdown returned {out.ret}: close_notify sent, the peer's not received"
    assert staged.subject.outgoing_pending() > 0, "no close_notify was written"
    _shutdown_state_is(staged, SENT, "after shutdown: shutdown state {}")
    staged.move()
    seen = staged.call(staged.peer, lambda e: e.read(10))
    assert seen.error is ZERO_RETURN and not seen.data, f"the peer's read of the close_notify: {seen}"


@pytest.mark.clauses("SSL_pending/RETURN VALUES/pending-count")
@pytest.mark.states("before-handshake", "established", "close-notify-received")
@pytest.mark.needs("pending")
@pytest.mark.parametrize("state", [State.BEFORE_HANDSHAKE, State.ESTABLISHED, State.CLOSE_NOTIFY_RECEIVED])
def test_binding_pending_counts_only_what_is_buffered(h: Harness, state: State) -> None:
    """Nothing buffered: pending is 0 before the handshake, once established, and after the peer's close_notify.
    Established, with 3 of 10 bytes of a record read: 7."""
    staged = reach(h, state)
    assert staged.subject.pending() == 0, f"pending {staged.subject.pending()} {state} with nothing buffered"
    if state is State.ESTABLISHED:
        staged.pair.drive_sides({"server": writes(b"0123456789")})
        part = staged.call(staged.subject, lambda e: e.read(3))
        assert part.ok and part.data == b"012", f"a 3-byte read of a 10-byte record: {part}"
        assert staged.subject.pending() == 7, f"pending {staged.subject.pending()} with 7 bytes of a record left"
        rest = staged.call(staged.subject, lambda e: e.read(100))
        assert rest.data == b"3456789" and staged.subject.pending() == 0, f"the rest: {rest}"


# --- after our close_notify ----------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/closes-write-direction")
@pytest.mark.states("close-notify-sent")
@pytest.mark.parametrize("role", ROLES)
def test_binding_write_after_our_close_notify_fails(h: Harness, role: Role) -> None:
    """Our close_notify is out: a write fails (not a retry; SSL_ERROR_SSL where the code is seen), and nothing
    follows the close_notify on the wire."""
    staged = reach(h, State.CLOSE_NOTIFY_SENT, role)
    staged.subject.take_outgoing()
    out = staged.call(staged.subject, lambda e: e.write(b"too late"))
    h.trace.note(f"write after close_notify: {out}")
    assert not out.ok and not out.retry, f"a write after our close_notify must fail: {out}"
    if h.has("error_codes"):
        assert out.error is SslError.SSL_ERROR_SSL, f"a write after our close_notify: {out}"
    assert staged.subject.outgoing_pending() == 0, "a write after close_notify put bytes on the wire"


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/second-call-waits-for-peer", "SSL_shutdown/RETURN VALUES/1",
                     "SSL_set_shutdown/NOTES/both-flags", "SSL_set_shutdown/NOTES/sent-shutdown")
@pytest.mark.states("close-notify-sent")
@pytest.mark.needs("shutdown_return_values", "error_codes")
@pytest.mark.parametrize("role", ROLES)
def test_binding_second_shutdown_waits_for_the_peer(h: Harness, role: Role) -> None:
    """Our close_notify is out and the peer has not answered: a second shutdown wants to read (WANT_READ) and sends
    no second close_notify; once the peer's close_notify arrives, it returns 1 (and both shutdown flags are set
    where SSL_get_shutdown is bound)."""
    staged = reach(h, State.CLOSE_NOTIFY_SENT, role)
    staged.move()
    second = staged.call(staged.subject, lambda e: e.shutdown())
    assert second.error is WANT_READ, f"the second shutdown before the peer answered: {second}"
    assert staged.subject.outgoing_pending() == 0, "the waiting shutdown sent something"
    _shutdown_state_is(staged, SENT, "shutdown state while waiting: {}")
    _peer_reads_our_close_notify(staged)
    answer = staged.call(staged.peer, lambda e: e.shutdown())
    assert answer.ok and answer.ret == 1, f"the peer's answering shutdown: {answer}"
    staged.move()
    last = staged.call(staged.subject, lambda e: e.shutdown())
    assert last.ok and last.ret == 1, f"the second shutdown once the peer's close_notify arrived: {last}"
    _shutdown_state_is(staged, SENT | RECEIVED, "shutdown state {}")


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/read-closed-by-peer",
                     "SSL_shutdown/DESCRIPTION/peer-may-send-after-close-notify")
@pytest.mark.states("close-notify-sent")
@pytest.mark.needs("error_codes")
@pytest.mark.parametrize("role", ROLES)
def test_binding_read_after_our_close_notify_still_delivers(h: Harness, role: Role) -> None:
    """Our close_notify is out; the peer reads it and still sends: our read delivers the data, and then, once the
    peer's own close_notify has come, ends with ZERO_RETURN."""
    staged = reach(h, State.CLOSE_NOTIFY_SENT, role)
    staged.move()
    _peer_reads_our_close_notify(staged)
    wrote = staged.call(staged.peer, lambda e: e.write(b"still talking"))
    assert wrote.ok, f"the peer's write after our close_notify: {wrote}"
    staged.move()
    got = staged.call(staged.subject, lambda e: e.read(100))
    assert got.ok and got.data == b"still talking", f"our read after our close_notify: {got}"
    closed = staged.call(staged.peer, lambda e: e.shutdown())
    assert closed.ok, f"the peer's shutdown: {closed}"
    staged.move()
    end = staged.call(staged.subject, lambda e: e.read(100))
    assert end.error is ZERO_RETURN and not end.data, f"our read after the peer's close_notify: {end}"


# --- after the peer's close_notify ---------------------------------------------------------------------------

@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_ZERO_RETURN")
@pytest.mark.states("close-notify-received")
@pytest.mark.needs("error_codes")
@pytest.mark.parametrize("role", ROLES)
def test_binding_read_after_the_peers_close_notify(h: Harness, role: Role) -> None:
    """The peer's close_notify has been read: every further read reports ZERO_RETURN again (<= 0 where the C value
    is seen), delivers nothing and writes nothing; SSL_RECEIVED_SHUTDOWN is set where SSL_get_shutdown is bound."""
    staged = reach(h, State.CLOSE_NOTIFY_RECEIVED, role)
    for attempt in (1, 2):
        out = staged.call(staged.subject, lambda e: e.read(100))
        assert out.error is ZERO_RETURN and not out.data, f"read #{attempt} after the peer's close_notify: {out}"
        if h.has("raw_return_values"):
            assert out.ret <= 0, f"read #{attempt} after the peer's close_notify returned {out.ret}, not <= 0"
    assert staged.subject.outgoing_pending() == 0, "reading after close_notify wrote something"
    _shutdown_state_is(staged, RECEIVED, "shutdown state after the peer's close_notify: {}, not RECEIVED only")


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/zero-return-transport-open",
                     "SSL_shutdown/DESCRIPTION/peer-may-send-after-close-notify")
@pytest.mark.states("close-notify-received")
@pytest.mark.needs("error_codes")
@pytest.mark.parametrize("role", ROLES)
def test_binding_write_after_the_peers_close_notify_still_sends(h: Harness, role: Role) -> None:
    """ZERO_RETURN closed only the peer's direction: a write still sends, and the peer, which closed first, reads
    the data."""
    staged = reach(h, State.CLOSE_NOTIFY_RECEIVED, role)
    out = staged.call(staged.subject, lambda e: e.write(b"a last word"))
    assert out.ok, f"a write after the peer's close_notify: {out}"
    staged.move()
    got = staged.call(staged.peer, lambda e: e.read(100))
    assert got.ok and got.data == b"a last word", f"the peer's read after it closed: {got}"


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/peer-closed-shutdown-returns-1", "SSL_set_shutdown/NOTES/both-flags")
@pytest.mark.states("close-notify-received")
@pytest.mark.needs("shutdown_return_values", "error_codes")
@pytest.mark.parametrize("role", ROLES)
def test_binding_shutdown_after_the_peers_close_notify(h: Harness, role: Role) -> None:
    """The peer closed first and we read its close_notify: our shutdown sends our close_notify and returns 1 (both
    directions closed; both flags set where SSL_get_shutdown is bound)."""
    staged = reach(h, State.CLOSE_NOTIFY_RECEIVED, role)
    out = staged.call(staged.subject, lambda e: e.shutdown())
    assert out.ok and out.ret == 1, f"shutdown after the peer's close_notify: {out}"
    assert staged.subject.outgoing_pending() > 0, "no close_notify answered the peer's"
    _shutdown_state_is(staged, SENT | RECEIVED, "shutdown state {}")


# --- after a fatal alert -------------------------------------------------------------------------------------

@pytest.mark.clauses("RFC9846/6.2/fatal-alert-closes",
                     "SSL_get_error/RETURN VALUES/write-after-fatal-alert-is-ssl-error")
@pytest.mark.states("fatal-alert")
@pytest.mark.parametrize("sent", [
    pytest.param(False, id="alert-received", marks=pytest.mark.clauses(
        "SSL_set_shutdown/NOTES/received-fatal-alert",
        "SSL_get_error/RETURN VALUES/read-after-fatal-alert-is-ssl-error")),
    pytest.param(True, id="alert-sent")])
@pytest.mark.parametrize("role", ROLES)
def test_binding_io_after_a_fatal_alert(h: Harness, role: Role, sent: bool) -> None:
    """After a fatal alert (received from the peer, or sent on a corrupted record) the connection is over: a read
    delivers nothing and is not a retry, a write fails and is not a retry, shutdown does not report a shutdown step,
    and nothing reaches the wire. A received fatal alert sets SSL_RECEIVED_SHUTDOWN where SSL_get_shutdown is
    bound. Where the stack reports SSL_get_error codes the write fails with SSL_ERROR_SSL, and with a reason where
    it keeps the error queue (the connection failed in the library: no close_notify came, no I/O failed); after a
    received alert so does the read (not SSL_ERROR_SYSCALL, not SSL_ERROR_ZERO_RETURN)."""
    staged = reach(h, State.FATAL_ALERT, role, alert_sent=sent)
    if not sent and h.has("shutdown_state"):
        flags = staged.subject.get_shutdown()
        assert flags & RECEIVED, f"a received fatal alert must set SSL_RECEIVED_SHUTDOWN: shutdown state {flags}"
    calls: list[tuple[str, Callable[[Endpoint], Outcome]]] = [
        ("read", lambda e: e.read(100)), ("write", lambda e: e.write(b"after the end")),
        ("shutdown", lambda e: e.shutdown())]
    seen = {name: staged.call(staged.subject, call) for name, call in calls}
    wire = staged.subject.take_outgoing()
    h.trace.note(f"after a fatal alert ({'sent' if sent else 'received'}): "
                 + "; ".join(f"{k}: {v}" for k, v in seen.items()) + f"; {len(wire)} bytes written")
    assert _ended(seen["read"]) and not seen["read"].data, f"a read after a fatal alert: {seen['read']}"
    assert _ended(seen["write"]), f"a write after a fatal alert: {seen['write']}"
    assert not seen["shutdown"].ok, f"shutdown after a fatal alert reported a shutdown step: {seen['shutdown']}"
    assert not wire, f"{len(wire)} bytes reached the wire after a fatal alert ({wire[:5].hex()}...)"
    if h.has("error_codes"):
        write = seen["write"]
        assert write.error is SslError.SSL_ERROR_SSL, f"a write after a fatal alert: {write}, not SSL_ERROR_SSL"
        if h.has("error_queue"):
            assert write.reason, f"a write after a fatal alert: SSL_ERROR_SSL with nothing on the error queue: {write}"
        if not sent:
            read = seen["read"]
            assert read.error is SslError.SSL_ERROR_SSL, f"a read after a fatal alert: {read}, not SSL_ERROR_SSL"
            if h.has("error_queue"):
                assert read.reason, f"a read after a fatal alert: SSL_ERROR_SSL with nothing on the error queue: {read}"
