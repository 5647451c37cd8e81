"""Each I/O function of the seed pages in each connection state its pages name (issue 10, item 1).

The state comes first (``_states.reach``), then one call of the function under test, then what the pages promise
for that state: the return value, SSL_get_error's code, the error-queue entry (library and reason) where the page
promises one, the shutdown state where the page names it, and what reached the wire. Functions that share a
behaviour are parametrised (SSL_read / SSL_read_ex / SSL_peek / SSL_peek_ex; SSL_write / SSL_write_ex;
SSL_do_handshake / SSL_connect / SSL_accept). Every case declares its state with ``@pytest.mark.states``; the
clause-coverage test (tests/specs/test_states.py) checks that a clause naming a state has a case in it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from specs.cases._ssl_objects import WANT, Mem, error
from specs.cases._states import Staged, State, error_entry, fatal, reach

C_API = ("c_api", "client_role", "server_role")
pytestmark = pytest.mark.needs(*C_API)

READS = ("SSL_read", "SSL_read_ex", "SSL_peek", "SSL_peek_ex")
WRITES = ("SSL_write", "SSL_write_ex")


def with_failure_clause(names: tuple[str, ...], page: str) -> list[Any]:
    """The functions as parameters, each claiming the failure return clause of its own kind: ``RETURN VALUES/0``
    for the _ex functions, ``RETURN VALUES/<=0`` for the others (a clause is claimed only where it is called)."""
    return [pytest.param(fn, marks=pytest.mark.clauses(f"{page}/RETURN VALUES/{'0' if fn.endswith('_ex') else '<=0'}"))
            for fn in names]
SENT, RECEIVED = K.SSL_SENT_SHUTDOWN, K.SSL_RECEIVED_SHUTDOWN
HANDSHAKE_RECORD = 0x16
NONE, ZERO_RETURN, SSL = SslError.SSL_ERROR_NONE, SslError.SSL_ERROR_ZERO_RETURN, SslError.SSL_ERROR_SSL


# a fresh object, or one reset with SSL_clear (whose clause only that parameter claims)
FRESH_STATES = [State.BEFORE_HANDSHAKE, pytest.param(
    State.AFTER_CLEAR, marks=pytest.mark.clauses("SSL_clear/DESCRIPTION/ready-for-another-connection"))]


# --- the calls, each returning (C return value, bytes delivered) ---------------------------------------------

def read_call(api: Any, fn: str, ssl: Any, size: int = 100) -> tuple[int, bytes]:
    ret, data = getattr(api, fn)(ssl, size)
    return int(ret), bytes(data)


def write_call(api: Any, fn: str, ssl: Any, data: bytes) -> tuple[int, int]:
    """(return value, bytes written as the function reports them)."""
    if fn == "SSL_write_ex":
        ret, written = api.SSL_write_ex(ssl, data)
        return int(ret), int(written)
    ret = int(api.SSL_write(ssl, data))
    return ret, max(ret, 0)


def failed(fn: str, ret: int) -> bool:
    """The failure return of ``fn``: 0 for the _ex functions, <= 0 for the others (their pages' RETURN VALUES)."""
    return ret == 0 if fn.endswith("_ex") else ret <= 0


def until(staged: Staged, call: Callable[[], tuple[int, Any]], peer_step: Callable[[], None], rounds: int = 50
          ) -> tuple[int, Any]:
    """Repeat ``call`` on the subject while it asks for a retry, moving bytes and letting the peer act in
    between (the repeat-call obligation of the pages); returns the last result."""
    result: tuple[int, Any] = (0, None)
    for _ in range(rounds):
        staged.api.ERR_clear_error()
        result = call()
        if result[0] > 0 or staged.error(result[0]) not in WANT:
            return result
        staged.move()
        peer_step()
        staged.move()
    return result


def peer_handshake(staged: Staged) -> Callable[[], None]:
    def step() -> None:
        staged.api.SSL_do_handshake(staged.peer.ssl)
    return step


def peer_sends(staged: Staged, data: bytes) -> Callable[[], None]:
    """The peer finishes its handshake and, once finished, sends ``data`` (once)."""
    sent = [False]

    def step() -> None:
        api = staged.api
        if api.SSL_do_handshake(staged.peer.ssl) == 1 and not sent[0]:
            assert api.SSL_write(staged.peer.ssl, data) == len(data)
            sent[0] = True
    return step


def assert_handshake_flight(staged: Staged, what: str) -> None:
    out = staged.subject.outgoing()
    assert out > 0, f"{what}: nothing was written (the implicit handshake did not start)"
    wire = staged.subject.take()
    staged.peer.give(wire)
    assert wire[0] == HANDSHAKE_RECORD, f"{what}: the first record is of type {wire[0]}, not a handshake record"


# --- reads --------------------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_read/NOTES/implicit-handshake", "SSL_get_error/RETURN VALUES/io-handles-pending-handshake")
@pytest.mark.states("before-handshake", "after-clear")
@pytest.mark.parametrize("state", FRESH_STATES)
@pytest.mark.parametrize("fn", READS)
def test_read_runs_the_handshake_first(h: Harness, fn: str, state: State) -> None:
    """A client that has not run a handshake (a fresh object, or one reset with SSL_clear after a clean close):
    the read function starts the handshake itself (a ClientHello goes out, WANT_READ comes back) and, repeated
    while the peer answers, delivers the peer's data."""
    staged = reach(h, state)
    api = staged.api
    ret, data = read_call(api, fn, staged.ssl)
    assert failed(fn, ret) and staged.error(ret) is SslError.SSL_ERROR_WANT_READ and not data, \
        f"{fn} {state}: {ret} {data!r} ({staged.error(ret)})"
    assert_handshake_flight(staged, f"{fn} {state}")
    ret, data = until(staged, lambda: read_call(api, fn, staged.ssl), peer_sends(staged, b"after the handshake"))
    assert ret > 0 and data == b"after the handshake", f"{fn} {state}: {ret} {data!r} ({staged.error(ret)})"


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/io-handles-pending-handshake",
    "SSL_read/NOTES/repeat-call",
)
@pytest.mark.states("mid-handshake")
@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
@pytest.mark.parametrize("fn", READS)
def test_read_continues_a_handshake_under_way(h: Harness, fn: str, role: Role) -> None:
    """A handshake stopped at WANT_READ (client: ClientHello sent; server: its flight sent): the read function
    carries it on, asks again for a retry while the peer has not answered, and then delivers the peer's data."""
    staged = reach(h, State.MID_HANDSHAKE, role)
    api = staged.api
    ret, data = read_call(api, fn, staged.ssl)
    assert failed(fn, ret) and staged.error(ret) in WANT and not data, f"{fn} {role}: {ret} {data!r}"
    ret, data = until(staged, lambda: read_call(api, fn, staged.ssl), peer_sends(staged, b"done"))
    assert ret > 0 and data == b"done", f"{fn} {role}: {ret} {data!r} ({staged.error(ret)})"


@pytest.mark.clauses("SSL_read/NOTES/non-blocking-retry", "SSL_want/NOTES/consistent-with-get-error")
@pytest.mark.states("established")
@pytest.mark.parametrize("fn", with_failure_clause(READS, "SSL_read"))
def test_read_with_nothing_waiting_on_an_established_connection(h: Harness, fn: str) -> None:
    """Established, nothing sent by the peer: the failure return of the function (0 for the _ex variants, <= 0
    for the others), WANT_READ, SSL_want says SSL_READING, no error-queue entry, nothing written."""
    staged = reach(h, State.ESTABLISHED)
    api = staged.api
    ret, data = read_call(api, fn, staged.ssl)
    assert failed(fn, ret) and staged.error(ret) is SslError.SSL_ERROR_WANT_READ and not data, \
        f"{fn}: {ret} {data!r} ({staged.error(ret)})"
    assert api.SSL_want(staged.ssl) == K.SSL_READING, f"SSL_want {api.SSL_want(staged.ssl)} after WANT_READ"
    assert error_entry(api) == (0, 0), f"a retry is not an error, yet the queue holds {error_entry(api)}"
    assert staged.subject.outgoing() == 0, "a read with nothing to do wrote something"


@pytest.mark.clauses(
    "SSL_shutdown/DESCRIPTION/read-closed-by-peer",
    "SSL_shutdown/DESCRIPTION/peer-may-send-after-close-notify",
)
@pytest.mark.states("close-notify-sent")
@pytest.mark.parametrize("fn", READS)
def test_read_after_our_close_notify_still_delivers(h: Harness, fn: str) -> None:
    """Our close_notify is out; the peer still sends: the read function delivers it, and then, once the peer's
    own close_notify has come, reports the end with ZERO_RETURN."""
    staged = reach(h, State.CLOSE_NOTIFY_SENT)
    api = staged.api
    staged.move()
    seen, _ = read_call(api, "SSL_read", staged.peer.ssl)
    assert error(api, staged.peer.ssl, seen) is ZERO_RETURN
    assert api.SSL_write(staged.peer.ssl, b"still talking") == 13
    staged.move()
    ret, data = read_call(api, fn, staged.ssl)
    assert ret > 0 and data == b"still talking", f"{fn} after our close_notify: {ret} {data!r}"
    if fn.startswith("SSL_peek"):
        read_call(api, "SSL_read", staged.ssl)
    assert api.SSL_shutdown(staged.peer.ssl) == 1
    staged.move()
    ret, data = read_call(api, fn, staged.ssl)
    assert failed(fn, ret) and staged.error(ret) is ZERO_RETURN, f"{fn}: {ret} {data!r} ({staged.error(ret)})"


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/SSL_ERROR_ZERO_RETURN",
    "SSL_shutdown/DESCRIPTION/received-flag-after-peer-alert",
    "SSL_set_shutdown/NOTES/received-close-notify",
)
@pytest.mark.states("close-notify-received")
@pytest.mark.parametrize("fn", with_failure_clause(READS, "SSL_read"))
def test_read_after_the_peers_close_notify(h: Harness, fn: str) -> None:
    """The peer's close_notify has been read: every further read fails with ZERO_RETURN again (nothing more can
    be read), leaves no error-queue entry, writes nothing, and SSL_get_shutdown shows SSL_RECEIVED_SHUTDOWN."""
    staged = reach(h, State.CLOSE_NOTIFY_RECEIVED)
    api = staged.api
    for attempt in (1, 2):
        ret, data = read_call(api, fn, staged.ssl)
        assert failed(fn, ret) and not data and staged.error(ret) is ZERO_RETURN, \
            f"{fn} #{attempt} after close_notify: {ret} {data!r} ({staged.error(ret)})"
    assert error_entry(api) == (0, 0), f"an orderly close is not an error, yet the queue holds {error_entry(api)}"
    assert staged.subject.outgoing() == 0, "reading after close_notify wrote something"
    assert api.SSL_get_shutdown(staged.ssl) & RECEIVED, f"SSL_get_shutdown {api.SSL_get_shutdown(staged.ssl)}"


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
    "SSL_get_error/RETURN VALUES/read-after-fatal-alert-is-ssl-error",
    "SSL_set_shutdown/NOTES/received-fatal-alert",
    "RFC9846/6.2/fatal-alert-closes",
)
@pytest.mark.states("fatal-alert")
@pytest.mark.parametrize("fn", READS)
def test_read_after_a_fatal_alert(h: Harness, fn: str) -> None:
    """The peer found our record corrupted and sent a fatal alert, which our read processed (SSL_ERROR_SSL with
    an SSL-library entry on the queue, SSL_RECEIVED_SHUTDOWN set). Data the peer would still send is never
    delivered: a further read fails with SSL_ERROR_SSL and an entry on the queue (the connection failed; no
    close_notify came, so not SSL_ERROR_ZERO_RETURN), and writes nothing."""
    staged = reach(h, State.FATAL_ALERT)
    api = staged.api
    assert api.SSL_get_shutdown(staged.ssl) & RECEIVED, \
        f"a received fatal alert must set SSL_RECEIVED_SHUTDOWN: {api.SSL_get_shutdown(staged.ssl)}"
    ret, data = read_call(api, fn, staged.ssl)
    code = staged.error(ret)
    queue = error_entry(api)
    h.trace.note(f"{fn} after a fatal alert -> {ret} {data!r} ({code}), queue {queue}")
    assert failed(fn, ret) and not data and code is SSL, f"{fn} after a fatal alert: {ret} {data!r} ({code}), " \
        "not SSL_ERROR_SSL"
    assert queue[0] != 0, f"{fn} after a fatal alert reported SSL_ERROR_SSL with an empty error queue"
    assert staged.subject.outgoing() == 0, "a read after a fatal alert wrote something"


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_SSL", "RFC9846/6.2/fatal-alert-closes")
@pytest.mark.states("fatal-alert")
def test_receiving_a_fatal_alert_queues_an_ssl_error(h: Harness) -> None:
    """The read that processes the peer's fatal alert reports SSL_ERROR_SSL and leaves an entry of the SSL
    library on the error queue (the page: the queue holds the details)."""
    staged = reach(h, State.ESTABLISHED)
    api = staged.api
    assert api.SSL_write(staged.ssl, b"tampered") == 8
    wire = staged.subject.take()
    staged.peer.give(wire[:-1] + bytes([wire[-1] ^ 1]))
    ret, _ = read_call(api, "SSL_read", staged.peer.ssl)
    assert fatal(error(api, staged.peer.ssl, ret)), f"the peer's read of a corrupted record: {ret}"
    alert = staged.peer.take()
    assert alert, "the peer that found a bad record sent no alert"
    staged.subject.give(alert)
    api.ERR_clear_error()
    ret, data = read_call(api, "SSL_read", staged.ssl)
    code = staged.error(ret)
    lib, reason = error_entry(api)
    h.trace.note(f"fatal alert read -> {ret} ({code}), queue lib {lib} reason {reason}")
    assert ret <= 0 and not data and code is SSL, f"reading a fatal alert: {ret} {data!r} ({code})"
    assert lib == K.ERR_LIB_SSL and reason != 0, f"error queue after a fatal alert: lib {lib} reason {reason}"
    assert staged.subject.outgoing() == 0, "the receiver of a fatal alert answered it"


# --- writes -------------------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_write/NOTES/implicit-handshake", "SSL_write/NOTES/write-may-read",
                     "SSL_get_error/RETURN VALUES/io-handles-pending-handshake")
@pytest.mark.states("before-handshake", "after-clear")
@pytest.mark.parametrize("state", FRESH_STATES)
@pytest.mark.parametrize("fn", WRITES)
def test_write_runs_the_handshake_first(h: Harness, fn: str, state: State) -> None:
    """A client without a handshake: the write function sends a ClientHello and wants to read; repeated with the
    same arguments while the peer answers, it completes and the peer reads exactly the bytes written."""
    staged = reach(h, state)
    api = staged.api
    ret, written = write_call(api, fn, staged.ssl, b"first words")
    assert failed(fn, ret) and staged.error(ret) is SslError.SSL_ERROR_WANT_READ, \
        f"{fn} {state}: {ret} ({staged.error(ret)})"
    assert_handshake_flight(staged, f"{fn} {state}")
    ret, written = until(staged, lambda: write_call(api, fn, staged.ssl, b"first words"), peer_handshake(staged))
    assert ret > 0 and written == 11, f"{fn} {state}: {ret} written {written} ({staged.error(ret)})"
    staged.move()
    got, data = read_call(api, "SSL_read", staged.peer.ssl)
    assert data == b"first words", f"the peer read {got} {data!r}"


@pytest.mark.clauses("SSL_write/NOTES/write-may-read", "SSL_get_error/RETURN VALUES/io-handles-pending-handshake")
@pytest.mark.states("mid-handshake")
@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
@pytest.mark.parametrize("fn", WRITES)
def test_write_continues_a_handshake_under_way(h: Harness, fn: str, role: Role) -> None:
    """A handshake stopped at WANT_READ: the write function carries it on (asking to read while the peer is
    silent) and then sends the data."""
    staged = reach(h, State.MID_HANDSHAKE, role)
    api = staged.api
    ret, _ = write_call(api, fn, staged.ssl, b"midway")
    assert failed(fn, ret) and staged.error(ret) in WANT, f"{fn} {role}: {ret} ({staged.error(ret)})"
    ret, written = until(staged, lambda: write_call(api, fn, staged.ssl, b"midway"), peer_handshake(staged))
    assert ret > 0 and written == 6, f"{fn} {role}: {ret} written {written} ({staged.error(ret)})"
    staged.move()
    _, data = until(staged, lambda: read_call(api, "SSL_read", staged.peer.ssl), lambda: None)
    assert data == b"midway", data


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/closes-write-direction", "SSL_shutdown/DESCRIPTION/read-closed-by-peer")
@pytest.mark.states("close-notify-sent")
@pytest.mark.parametrize("fn", with_failure_clause(WRITES, "SSL_write"))
def test_write_after_our_close_notify_fails(h: Harness, fn: str) -> None:
    """Our close_notify is out: the write function fails (SSL_ERROR_SSL, an SSL-library entry on the queue:
    SSL_R_PROTOCOL_IS_SHUTDOWN in OpenSSL 3.0), reports nothing written and puts nothing on the wire. The failure
    closes nothing more: the receiving direction, which only the peer's close_notify closes, still delivers what the
    peer sends."""
    staged = reach(h, State.CLOSE_NOTIFY_SENT)
    api = staged.api
    staged.subject.take()
    ret, written = write_call(api, fn, staged.ssl, b"too late")
    lib, reason = error_entry(api)
    h.trace.note(f"{fn} after close_notify -> {ret} ({staged.error(ret)}), queue lib {lib} reason {reason}")
    assert failed(fn, ret) and written == 0 and staged.error(ret) is SSL, f"{fn}: {ret} ({staged.error(ret)})"
    assert (lib, reason) == (K.ERR_LIB_SSL, K.SSL_R_PROTOCOL_IS_SHUTDOWN), f"queue: lib {lib} reason {reason}"
    assert staged.subject.outgoing() == 0, "a write after close_notify put bytes on the wire"
    api.ERR_clear_error()
    staged.move()
    assert api.SSL_write(staged.peer.ssl, b"still open") == 10
    staged.move()
    ret, data = read_call(api, "SSL_read", staged.ssl)
    assert ret == 10 and data == b"still open", \
        f"after the failed {fn} the peer's data was not delivered: {ret} {data!r} ({staged.error(ret)})"


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/zero-return-transport-open",
    "SSL_shutdown/DESCRIPTION/peer-may-send-after-close-notify",
    "SSL_write/DESCRIPTION/writes-num-bytes",
)
@pytest.mark.states("close-notify-received")
@pytest.mark.parametrize("fn", WRITES)
def test_write_after_the_peers_close_notify_still_sends(h: Harness, fn: str) -> None:
    """ZERO_RETURN closed only the peer's direction: the write function still sends, and the peer (which
    closed first) reads the data."""
    staged = reach(h, State.CLOSE_NOTIFY_RECEIVED)
    api = staged.api
    ret, written = write_call(api, fn, staged.ssl, b"a last word")
    assert ret > 0 and written == 11, f"{fn} after the peer's close_notify: {ret} ({staged.error(ret)})"
    staged.move()
    _, data = read_call(api, "SSL_read", staged.peer.ssl)
    assert data == b"a last word", data


@pytest.mark.clauses("RFC9846/6.2/fatal-alert-closes",
                     "SSL_get_error/RETURN VALUES/write-after-fatal-alert-is-ssl-error")
@pytest.mark.states("fatal-alert")
@pytest.mark.parametrize("sent", [False, True], ids=["alert-received", "alert-sent"])
@pytest.mark.parametrize("fn", with_failure_clause(WRITES, "SSL_write"))
def test_write_after_a_fatal_alert_sends_nothing(h: Harness, fn: str, sent: bool) -> None:
    """After a fatal alert (received from the peer, or sent by us on a corrupted record) the write function
    fails with SSL_ERROR_SSL and an entry on the queue (the connection failed in the library: no close_notify
    came, no I/O failed), reports nothing written and puts nothing on the wire."""
    staged = reach(h, State.FATAL_ALERT, alert_sent=sent)
    api = staged.api
    ret, written = write_call(api, fn, staged.ssl, b"after the end")
    code = staged.error(ret)
    queue = error_entry(api)
    h.trace.note(f"{fn} after a fatal alert -> {ret} ({code}), queue {queue}")
    assert failed(fn, ret) and written == 0 and code not in (NONE, *WANT), \
        f"{fn} after a fatal alert: {ret} ({code}), {staged.subject.outgoing()} bytes written to the transport"
    assert staged.subject.outgoing() == 0, "a write after a fatal alert put bytes on the wire"
    assert code is SSL, f"{fn} after a fatal alert: {ret} ({code}), not SSL_ERROR_SSL; queue {queue}"
    assert queue[0] != 0, f"{fn} after a fatal alert reported SSL_ERROR_SSL with an empty error queue"


# --- the handshake functions ---------------------------------------------------------------------------------

HANDSHAKES = [("SSL_do_handshake", Role.CLIENT), ("SSL_connect", Role.CLIENT), ("SSL_do_handshake", Role.SERVER),
              ("SSL_accept", Role.SERVER)]


def handshakes(*tags: str, extra: dict[tuple[str, Role], tuple[str, ...]] | None = None) -> list[Any]:
    """(function, role) parameters; each claims ``<its page>/<tag>`` for every tag (its own page only), and the
    clauses ``extra`` lists for it."""
    return [pytest.param(fn, role, id=f"{fn}-{role.value}", marks=pytest.mark.clauses(
        *(f"{fn}/{tag}" for tag in tags), *(extra or {}).get((fn, role), ()))) for fn, role in HANDSHAKES]


def hs(api: Any, fn: str, ssl: Any) -> tuple[int, None]:
    return int(getattr(api, fn)(ssl)), None


@pytest.mark.states("before-handshake")
@pytest.mark.parametrize(("fn", "role"), handshakes("RETURN VALUES/<0", "RETURN VALUES/1", extra={
    ("SSL_do_handshake", Role.CLIENT): ("SSL_do_handshake/DESCRIPTION/client-starts",),
    ("SSL_do_handshake", Role.SERVER): ("SSL_do_handshake/DESCRIPTION/client-starts",),
    ("SSL_accept", Role.SERVER): ("SSL_accept/DESCRIPTION/waits-for-client",)}))
def test_handshake_function_before_the_handshake(h: Harness, fn: str, role: Role) -> None:
    """Nothing done yet: a client's first call writes a ClientHello and wants to read (< 0, WANT_READ); a
    server's first call writes nothing and wants to read. Repeated while the peer plays its part, it returns 1."""
    staged = reach(h, State.BEFORE_HANDSHAKE, role)
    api = staged.api
    ret, _ = hs(api, fn, staged.ssl)
    assert ret < 0 and staged.error(ret) is SslError.SSL_ERROR_WANT_READ, f"{fn} {role}: {ret} ({staged.error(ret)})"
    if role is Role.CLIENT:
        assert_handshake_flight(staged, fn)
    else:
        assert staged.subject.outgoing() == 0, f"the server's {fn} spoke before the client"
    ret, _ = until(staged, lambda: hs(api, fn, staged.ssl), peer_handshake(staged))
    assert ret == 1, f"{fn} {role}: {ret} ({staged.error(ret)})"


@pytest.mark.states("mid-handshake")
@pytest.mark.parametrize(("fn", "role"), handshakes("NOTES/repeat-call", "NOTES/non-blocking-retry"))
def test_handshake_function_in_the_middle(h: Harness, fn: str, role: Role) -> None:
    """Stopped at WANT_READ with the peer not yet answered: the repeated call wants to read again (-1) and
    writes nothing new; once the peer's bytes arrive the repeated call completes with 1."""
    staged = reach(h, State.MID_HANDSHAKE, role)
    api = staged.api
    if role is Role.CLIENT:  # the server has not answered yet
        before = staged.subject.outgoing()
        ret, _ = hs(api, fn, staged.ssl)
        assert ret < 0 and staged.error(ret) is SslError.SSL_ERROR_WANT_READ, f"{fn}: {ret} ({staged.error(ret)})"
        assert staged.subject.outgoing() == before, f"the repeated {fn} wrote again while waiting"
    ret, _ = until(staged, lambda: hs(api, fn, staged.ssl), peer_handshake(staged))
    assert ret == 1, f"{fn} {role}: {ret} ({staged.error(ret)})"


@pytest.mark.states("established", "close-notify-sent")
@pytest.mark.parametrize("state", [State.ESTABLISHED, State.CLOSE_NOTIFY_SENT])
@pytest.mark.parametrize(("fn", "role"), handshakes("RETURN VALUES/1"))
def test_handshake_function_once_established(h: Harness, fn: str, role: Role, state: State) -> None:
    """The handshake has completed (and, in the second state, our close_notify is out): the call reports the
    completed handshake, 1, and writes nothing."""
    staged = reach(h, state, role)
    api = staged.api
    staged.subject.take()
    ret, _ = hs(api, fn, staged.ssl)
    assert ret == 1, f"{fn} {role} {state}: {ret} ({staged.error(ret)})"
    assert staged.subject.outgoing() == 0, f"{fn} on a finished handshake wrote something"


@pytest.mark.clauses("SSL_clear/DESCRIPTION/ready-for-another-connection", "SSL_set_shutdown/NOTES/zero-nothing-yet")
@pytest.mark.states("after-clear")
@pytest.mark.parametrize(("fn", "role"), handshakes("RETURN VALUES/<0", "RETURN VALUES/1"))
def test_handshake_function_after_clear(h: Harness, fn: str, role: Role) -> None:
    """After a clean two-way close and SSL_clear, the object starts over: shutdown state 0, a client's call
    writes a new ClientHello, a server's waits; with a new peer the handshake completes."""
    staged = reach(h, State.AFTER_CLEAR, role)
    api = staged.api
    assert api.SSL_get_shutdown(staged.ssl) == 0, f"shutdown state after SSL_clear: {api.SSL_get_shutdown(staged.ssl)}"
    ret, _ = hs(api, fn, staged.ssl)
    assert ret < 0 and staged.error(ret) is SslError.SSL_ERROR_WANT_READ, f"{fn} {role}: {ret} ({staged.error(ret)})"
    if role is Role.CLIENT:
        assert_handshake_flight(staged, fn)
    else:
        assert staged.subject.outgoing() == 0, f"the server's {fn} spoke before the client"
    ret, _ = until(staged, lambda: hs(api, fn, staged.ssl), peer_handshake(staged))
    assert ret == 1, f"{fn} {role} after SSL_clear: {ret} ({staged.error(ret)})"


@pytest.mark.clauses("RFC9846/6.2/fatal-alert-closes")
@pytest.mark.states("fatal-alert")
@pytest.mark.parametrize(("fn", "role"), handshakes("RETURN VALUES/<0"))
def test_handshake_function_after_a_failed_handshake(h: Harness, fn: str, role: Role) -> None:
    """The handshake failed fatally (the peer's first flight arrived as garbage, the object sent a fatal alert):
    calling the function again fails again (< 0, not a retry) and writes nothing more. (The code and the queue
    entry of the first failure are checked by the garbage cases of test_handshake.py.)"""
    subject = Mem(h, role)
    api = h.capi
    if role is Role.SERVER:
        subject.give(b"\x16\x03\x01\x00\x05garbage-not-a-client-hello")
    else:
        assert api.SSL_do_handshake(subject.ssl) < 0
        subject.take()
        subject.give(b"\x16\x03\x03\x00\x05garbage-not-a-server-hello")
    ret = int(getattr(api, fn)(subject.ssl))
    assert ret < 0 and fatal(error(api, subject.ssl, ret)), f"{fn} on garbage: {ret} ({error(api, subject.ssl, ret)})"
    subject.take()
    api.ERR_clear_error()
    ret = int(getattr(api, fn)(subject.ssl))
    code = error(api, subject.ssl, ret)
    h.trace.note(f"{fn} again after the failure -> {ret} ({code}), queue {error_entry(api)}")
    assert ret < 0 and code not in (NONE, *WANT), f"{fn} after a fatal failure: {ret} ({code})"
    assert subject.outgoing() == 0, f"{fn} after a fatal failure wrote something"


# --- SSL_shutdown -------------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/not-before-handshake-done", "SSL_shutdown/RETURN VALUES/<0",
                     "SSL_set_shutdown/NOTES/zero-nothing-yet")
@pytest.mark.states("before-handshake", "mid-handshake", "after-clear")
@pytest.mark.parametrize("state", [State.BEFORE_HANDSHAKE, State.MID_HANDSHAKE, State.AFTER_CLEAR])
@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
def test_shutdown_without_a_finished_handshake(h: Harness, role: Role, state: State) -> None:
    """No finished handshake (not started, under way, or reset by SSL_clear): SSL_shutdown fails with < 0,
    SSL_ERROR_SSL and an SSL-library entry (SSL_R_SHUTDOWN_WHILE_IN_INIT in OpenSSL 3.0), sends nothing, and
    the shutdown state stays 0."""
    staged = reach(h, state, role)
    api = staged.api
    staged.subject.take()
    ret = int(api.SSL_shutdown(staged.ssl))
    lib, reason = error_entry(api)
    h.trace.note(f"SSL_shutdown {state} -> {ret} ({staged.error(ret) if ret < 0 else '-'}), lib {lib} reason {reason}")
    assert ret < 0 and staged.error(ret) is SSL, f"SSL_shutdown {state}: {ret}"
    assert (lib, reason) == (K.ERR_LIB_SSL, K.SSL_R_SHUTDOWN_WHILE_IN_INIT), f"queue: lib {lib} reason {reason}"
    assert staged.subject.outgoing() == 0, "SSL_shutdown without a finished handshake sent something"
    assert api.SSL_get_shutdown(staged.ssl) == 0, f"shutdown state {api.SSL_get_shutdown(staged.ssl)}"


@pytest.mark.clauses(
    "SSL_shutdown/DESCRIPTION/sends-close-notify",
    "SSL_shutdown/DESCRIPTION/first-to-close-returns-0",
    "SSL_shutdown/RETURN VALUES/0",
    "SSL_set_shutdown/NOTES/zero-nothing-yet",
    "SSL_set_shutdown/NOTES/sent-shutdown",
)
@pytest.mark.states("established")
@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
def test_shutdown_on_an_established_connection(h: Harness, role: Role) -> None:
    """Established (shutdown state 0): SSL_shutdown sends close_notify, returns 0 and sets SSL_SENT_SHUTDOWN;
    the peer reads the end of the data with ZERO_RETURN."""
    staged = reach(h, State.ESTABLISHED, role)
    api = staged.api
    assert api.SSL_get_shutdown(staged.ssl) == 0
    assert api.SSL_shutdown(staged.ssl) == 0
    assert api.SSL_get_shutdown(staged.ssl) == SENT, f"shutdown state {api.SSL_get_shutdown(staged.ssl)}"
    assert staged.subject.outgoing() > 0, "no close_notify was sent"
    staged.move()
    ret, _ = read_call(api, "SSL_read", staged.peer.ssl)
    assert error(api, staged.peer.ssl, ret) is ZERO_RETURN


@pytest.mark.clauses(
    "SSL_shutdown/DESCRIPTION/second-call-waits-for-peer",
    "SSL_shutdown/DESCRIPTION/non-blocking-retry",
    "SSL_shutdown/RETURN VALUES/1",
    "SSL_set_shutdown/NOTES/sent-shutdown",
    "SSL_set_shutdown/NOTES/both-flags",
)
@pytest.mark.states("close-notify-sent")
def test_second_shutdown_waits_for_the_peer(h: Harness) -> None:
    """Our close_notify is out, the peer has not answered: the second SSL_shutdown wants to read (< 0,
    WANT_READ) and sends no second close_notify; when the peer's close_notify arrives it returns 1 and both
    shutdown flags are set."""
    staged = reach(h, State.CLOSE_NOTIFY_SENT)
    api = staged.api
    staged.move()
    ret = int(api.SSL_shutdown(staged.ssl))
    assert ret < 0 and staged.error(ret) is SslError.SSL_ERROR_WANT_READ, f"second SSL_shutdown: {ret}"
    assert staged.subject.outgoing() == 0, "the waiting SSL_shutdown sent another close_notify"
    assert api.SSL_get_shutdown(staged.ssl) == SENT
    read_call(api, "SSL_read", staged.peer.ssl)
    assert api.SSL_shutdown(staged.peer.ssl) == 1
    staged.move()
    assert api.SSL_shutdown(staged.ssl) == 1
    assert api.SSL_get_shutdown(staged.ssl) == SENT | RECEIVED, f"shutdown state {api.SSL_get_shutdown(staged.ssl)}"


@pytest.mark.clauses(
    "SSL_shutdown/DESCRIPTION/peer-closed-shutdown-returns-1",
    "SSL_shutdown/DESCRIPTION/get-shutdown-shows-received",
    "SSL_set_shutdown/NOTES/received-close-notify",
    "SSL_set_shutdown/NOTES/received-automatic-sent-explicit",
    "SSL_set_shutdown/NOTES/both-flags",
)
@pytest.mark.states("close-notify-received")
def test_shutdown_after_the_peers_close_notify(h: Harness) -> None:
    """The peer closed first and we read its close_notify: SSL_get_shutdown shows SSL_RECEIVED_SHUTDOWN only;
    SSL_shutdown sends our close_notify, returns 1 and sets SSL_SENT_SHUTDOWN too."""
    staged = reach(h, State.CLOSE_NOTIFY_RECEIVED)
    api = staged.api
    assert api.SSL_get_shutdown(staged.ssl) == RECEIVED, f"shutdown state {api.SSL_get_shutdown(staged.ssl)}"
    assert api.SSL_shutdown(staged.ssl) == 1
    assert api.SSL_get_shutdown(staged.ssl) == SENT | RECEIVED
    assert staged.subject.outgoing() > 0, "no close_notify answered the peer's"


@pytest.mark.clauses("SSL_shutdown/RETURN VALUES/<0", "RFC9846/6.2/fatal-alert-closes")
@pytest.mark.states("fatal-alert")
def test_shutdown_after_a_fatal_alert_sends_nothing(h: Harness) -> None:
    """The page forbids SSL_shutdown after a fatal error; a stack that is called anyway must not send a
    close_notify behind the fatal alert (RFC 9846 6.2: the connection is closed at once): nothing reaches the
    wire and the call does not report a successful shutdown step (0 or 1)."""
    staged = reach(h, State.FATAL_ALERT)
    api = staged.api
    ret = int(api.SSL_shutdown(staged.ssl))
    sent = staged.subject.take()
    h.trace.note(f"SSL_shutdown after a fatal alert -> {ret}, queue {error_entry(api)}, wrote {sent.hex()}")
    assert not sent, f"SSL_shutdown after a fatal alert -> {ret} and sent {len(sent)} bytes ({sent[:5].hex()}...)"
    assert ret < 0, f"SSL_shutdown after a fatal alert reported a shutdown step: {ret}"


# --- every state: SSL_get_error on success, SSL_pending, SSL_want ------------------------------------------

LIVE_STATES = [State.BEFORE_HANDSHAKE, State.MID_HANDSHAKE, State.ESTABLISHED, State.CLOSE_NOTIFY_SENT,
               State.CLOSE_NOTIFY_RECEIVED, State.FATAL_ALERT, State.AFTER_CLEAR]


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_NONE", "SSL_pending/RETURN VALUES/pending-count",
                     "SSL_want/RETURN VALUES/SSL_NOTHING", "SSL_want/NOTES/consistent-with-get-error")
@pytest.mark.states(*LIVE_STATES)
@pytest.mark.parametrize("state", LIVE_STATES)
def test_get_error_pending_and_want_in_every_state(h: Harness, state: State) -> None:
    """In every state: SSL_get_error with a positive return value is SSL_ERROR_NONE (even with an entry on the
    error queue), SSL_pending is 0 with no application data buffered, and SSL_want agrees with the last call that
    reached the state: SSL_READING after the handshake's WANT_READ, SSL_NOTHING otherwise (before any call, after
    SSL_clear, after calls that completed or failed for good)."""
    staged = reach(h, state)
    api = staged.api
    assert api.SSL_pending(staged.ssl) == 0, f"SSL_pending {api.SSL_pending(staged.ssl)} with nothing buffered"
    # the last call that reached the state wanted to read only in mid-handshake (SSL_do_handshake: WANT_READ)
    want = K.SSL_READING if state is State.MID_HANDSHAKE else K.SSL_NOTHING
    assert api.SSL_want(staged.ssl) == want, f"SSL_want {api.SSL_want(staged.ssl)} {state}, expected {want}"
    for ret in (1, 5):
        assert staged.error(ret) is NONE, f"SSL_get_error(ssl, {ret}) {state}: {staged.error(ret)}"
    if state is State.FATAL_ALERT:  # with the failure's entry still on the queue
        api.SSL_write(staged.ssl, b"x")
        assert staged.error(1) is NONE, f"SSL_get_error(ssl, 1) with an error queued: {staged.error(1)}"
    api.ERR_clear_error()


@pytest.mark.clauses(
    "SSL_key_update/DESCRIPTION/tls13-after-handshake",
    "SSL_key_update/RETURN VALUES/0",
    "SSL_key_update/RETURN VALUES/1",
    "SSL_key_update/RETURN VALUES/after-shutdown",
)
@pytest.mark.states("before-handshake", "mid-handshake", "established", "close-notify-sent")
@pytest.mark.parametrize("state", [State.BEFORE_HANDSHAKE, State.MID_HANDSHAKE, State.ESTABLISHED,
                                   State.CLOSE_NOTIFY_SENT])
@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
@pytest.mark.needs("key_update", "tls1_3")
def test_key_update_in_each_state(h: Harness, state: State, role: Role) -> None:
    """SSL_key_update(NOT_REQUESTED) is refused (0) before the handshake has completed (also by a server that has
    already chosen TLS 1.3 and sent its flight), accepted (1) once established and after our close_notify (the
    update is then never sent: nothing follows the close_notify)."""
    staged = reach(h, state, role)
    api = staged.api
    staged.subject.take()
    ret = int(api.SSL_key_update(staged.ssl, K.SSL_KEY_UPDATE_NOT_REQUESTED))
    h.trace.note(f"SSL_key_update {state} -> {ret}, queue {error_entry(api)}")
    if state in (State.BEFORE_HANDSHAKE, State.MID_HANDSHAKE):
        assert ret == 0, f"SSL_key_update {state}: {ret}"
    else:
        assert ret == 1, f"SSL_key_update {state}: {ret}"
    assert staged.subject.outgoing() == 0, "SSL_key_update itself sent something"
    api.ERR_clear_error()
    if state is State.CLOSE_NOTIFY_SENT:
        assert api.SSL_do_handshake(staged.ssl) == 1
        assert staged.subject.outgoing() == 0, "a record followed our close_notify"


@pytest.mark.clauses("SSL_want/NOTES/consistent-with-get-error", "SSL_want/RETURN VALUES/SSL_READING",
                     "SSL_want/RETURN VALUES/SSL_NOTHING")
@pytest.mark.states("mid-handshake", "established", "close-notify-received", "fatal-alert")
@pytest.mark.parametrize("state", [State.MID_HANDSHAKE, State.ESTABLISHED, State.CLOSE_NOTIFY_RECEIVED,
                                   State.FATAL_ALERT])
def test_want_agrees_with_get_error_in_each_state(h: Harness, state: State) -> None:
    """After an SSL_read in each state, SSL_want agrees with SSL_get_error on that read: SSL_READING for
    WANT_READ (a handshake under way, nothing sent yet), SSL_NOTHING for results that are not retries
    (ZERO_RETURN after the peer's close_notify, the failure after a fatal alert)."""
    staged = reach(h, state)
    api = staged.api
    ret, _ = read_call(api, "SSL_read", staged.ssl)
    code, want = staged.error(ret), int(api.SSL_want(staged.ssl))
    h.trace.note(f"SSL_read {state} -> {ret} ({code}), SSL_want {want}")
    if code is SslError.SSL_ERROR_WANT_READ:
        assert want == K.SSL_READING, f"{state}: SSL_get_error WANT_READ but SSL_want {want}"
    elif code is SslError.SSL_ERROR_WANT_WRITE:
        assert want == K.SSL_WRITING, f"{state}: SSL_get_error WANT_WRITE but SSL_want {want}"
    else:
        assert want == K.SSL_NOTHING, f"{state}: SSL_get_error {code} but SSL_want {want}"
    expected = SslError.SSL_ERROR_WANT_READ if state in (State.MID_HANDSHAKE, State.ESTABLISHED) else None
    if expected is not None:
        assert code is expected, f"SSL_read {state}: {ret} ({code})"
