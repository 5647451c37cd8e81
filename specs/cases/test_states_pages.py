"""Functions of the non-seed SSL pages in the connection states their pages name (issue 10, item 1; the seed
pages' I/O functions are in ``test_states_ssl_io.py``).

As there, the state comes first (``_states.reach``), then one call of the function under test, then what the page
promises in that state: the return value, the shutdown state, the session kept or dropped, the buffered counts,
and an empty error queue where the call succeeds. Every case declares its state with ``@pytest.mark.states``; the
clause-coverage test (tests/specs/test_states.py) checks that each state a clause names has a case in it.
"""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from specs.cases._bio import call
from specs.cases._ssl_objects import Mem, handshake, move, note
from specs.cases._states import State, error_entry, reach

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")

SENT, RECEIVED = K.SSL_SENT_SHUTDOWN, K.SSL_RECEIVED_SHUTDOWN
ROLES = [Role.CLIENT, Role.SERVER]
BIO_NOCLOSE = 0x00


# --- SSL_pending / SSL_has_pending ----------------------------------------------------------------------------

@pytest.mark.clauses("SSL_pending/RETURN VALUES/pending-count", "SSL_pending/RETURN VALUES/has-pending-0")
@pytest.mark.states("before-handshake", "close-notify-received")
@pytest.mark.parametrize("state", [State.BEFORE_HANDSHAKE, State.CLOSE_NOTIFY_RECEIVED])
@pytest.mark.parametrize("role", ROLES)
def test_nothing_pending_before_the_handshake_or_after_close_notify(h: Harness, role: Role, state: State) -> None:
    """No record has arrived yet (before the handshake), or the last one was the peer's close_notify, read whole:
    SSL_pending() is 0, SSL_has_pending() is 0, and neither puts anything on the error queue."""
    staged = reach(h, state, role)
    api = staged.api
    pending, has = int(api.SSL_pending(staged.ssl)), int(api.SSL_has_pending(staged.ssl))
    note(h, f"{state}: SSL_pending -> {pending}, SSL_has_pending -> {has}")
    assert pending == 0, f"SSL_pending {state}: {pending}, not 0"
    assert has == 0, f"SSL_has_pending {state}: {has}, not 0"
    assert error_entry(api) == (0, 0), f"an error entry {error_entry(api)} after SSL_pending / SSL_has_pending"


@pytest.mark.clauses("SSL_pending/RETURN VALUES/pending-count", "SSL_pending/RETURN VALUES/has-pending-1",
                     "SSL_pending/DESCRIPTION/counts-processed-bytes")
@pytest.mark.states("established")
@pytest.mark.parametrize("role", ROLES)
def test_pending_counts_the_rest_of_a_record_read_in_part(h: Harness, role: Role) -> None:
    """Established: the peer sends 12 bytes in one record, the subject reads 5; the other 7 are processed and
    buffered: SSL_pending() is 7, SSL_has_pending() is 1; reading them empties both."""
    staged = reach(h, State.ESTABLISHED, role)
    api = staged.api
    assert api.SSL_write(staged.peer.ssl, b"twelve bytes") == 12
    staged.move()
    assert api.SSL_read(staged.ssl, 5) == (5, b"twelv")
    pending, has = int(api.SSL_pending(staged.ssl)), int(api.SSL_has_pending(staged.ssl))
    note(h, f"after reading 5 of 12: SSL_pending -> {pending}, SSL_has_pending -> {has}")
    assert pending == 7, f"SSL_pending after reading 5 of a 12-byte record: {pending}, not 7"
    assert has == 1, f"SSL_has_pending with 7 bytes buffered: {has}, not 1"
    assert api.SSL_read(staged.ssl, 100) == (7, b"e bytes")
    pending = int(api.SSL_pending(staged.ssl))
    assert pending == 0, f"SSL_pending after reading everything: {pending}, not 0"


# --- SSL_get_shutdown: both flags -----------------------------------------------------------------------------

@pytest.mark.clauses("SSL_set_shutdown/NOTES/both-flags")
@pytest.mark.states("close-notify-sent", "close-notify-received")
@pytest.mark.parametrize("state", [State.CLOSE_NOTIFY_SENT, State.CLOSE_NOTIFY_RECEIVED])
@pytest.mark.parametrize("role", ROLES)
def test_both_shutdown_flags_once_the_close_is_complete(h: Harness, role: Role, state: State) -> None:
    """From either half of a close, completing it the way the page describes (the sender reads the answer; the
    receiver answers with SSL_shutdown, which then returns 1) leaves SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN."""
    staged = reach(h, state, role)
    api = staged.api
    half = int(api.SSL_get_shutdown(staged.ssl))
    assert half == (SENT if state is State.CLOSE_NOTIFY_SENT else RECEIVED), f"SSL_get_shutdown {state}: {half}"
    if state is State.CLOSE_NOTIFY_SENT:
        staged.move()
        ret, _ = api.SSL_read(staged.peer.ssl, 10)
        assert ret <= 0 and api.SSL_get_error(staged.peer.ssl, ret) == SslError.SSL_ERROR_ZERO_RETURN
        assert api.SSL_shutdown(staged.peer.ssl) == 1, "the peer's answering SSL_shutdown"
        staged.move()
        ret, _ = api.SSL_read(staged.ssl, 10)
        assert ret <= 0 and staged.error(ret) is SslError.SSL_ERROR_ZERO_RETURN, \
            f"reading the peer's answer: {ret} ({staged.error(ret)})"
    else:
        ret = int(api.SSL_shutdown(staged.ssl))
        assert ret == 1, f"SSL_shutdown after the peer's close_notify was read: {ret}, not 1"
    flags = int(api.SSL_get_shutdown(staged.ssl))
    note(h, f"{state}, close completed: SSL_get_shutdown -> {flags}")
    assert flags == SENT | RECEIVED, f"SSL_get_shutdown after a complete close: {flags}, not {SENT | RECEIVED}"


# --- SSL_clear ------------------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_clear/NOTES/closed-session-kept", "SSL_clear/RETURN VALUES/1")
@pytest.mark.states("established", "close-notify-sent", "close-notify-received")
@pytest.mark.parametrize("state", [State.ESTABLISHED, State.CLOSE_NOTIFY_SENT, State.CLOSE_NOTIFY_RECEIVED])
def test_ssl_clear_keeps_only_a_closed_session(h: Harness, state: State) -> None:
    """A session counts as closed once SSL_SENT_SHUTDOWN is set (SSL_set_shutdown.pod, SSL_free.pod): SSL_clear
    keeps the client's session after its own close_notify went out, and drops it while the connection is
    established or when only the peer's close_notify was read."""
    staged = reach(h, state, Role.CLIENT)
    api = staged.api
    session = api.SSL_get_session(staged.ssl)
    assert session is not None, f"the client has no session {state}"
    ret = int(api.SSL_clear(staged.ssl))
    assert ret == 1, f"SSL_clear {state}: {ret} (error entry {error_entry(api)})"
    kept = api.SSL_get_session(staged.ssl)
    note(h, f"{state}: session before SSL_clear {session}, after {kept}")
    if state is State.CLOSE_NOTIFY_SENT:
        assert kept == session, "SSL_clear dropped a session whose close_notify was sent"
    else:
        assert kept != session, f"SSL_clear kept a session still open ({state}: SSL_SENT_SHUTDOWN not set)"


@pytest.mark.clauses("SSL_clear/DESCRIPTION/ready-for-another-connection", "SSL_clear/RETURN VALUES/1")
@pytest.mark.states("established", "fatal-alert")
@pytest.mark.parametrize("state", [State.ESTABLISHED, State.FATAL_ALERT])
@pytest.mark.parametrize("role", ROLES)
def test_ssl_clear_readies_a_used_object_for_a_new_connection(h: Harness, role: Role, state: State) -> None:
    """An object used for a connection that is still up, or that a fatal alert ended: SSL_clear returns 1 with an
    empty error queue, the shutdown state is 0 again, and the object runs a new handshake with a new peer and
    carries data."""
    staged = reach(h, state, role)
    api = staged.api
    ret = int(api.SSL_clear(staged.ssl))
    assert ret == 1, f"SSL_clear {state}: {ret} (error entry {error_entry(api)})"
    assert error_entry(api) == (0, 0), f"SSL_clear {state} returned 1 but left {error_entry(api)} on the queue"
    flags = int(api.SSL_get_shutdown(staged.ssl))
    assert flags == 0, f"SSL_get_shutdown after SSL_clear {state}: {flags}, not 0"
    # the old connection's unread records (a TLS 1.3 client's session tickets) belong to no new connection: an
    # application would have a new transport; here the bytes still queued for the subject are dropped
    rbio = api.SSL_get_rbio(staged.ssl)
    while int(api.BIO_ctrl_pending(rbio)) > 0:
        api.BIO_read(rbio, 16384)
    fresh = Mem(h, Role.SERVER if role is Role.CLIENT else Role.CLIENT)
    client, server = (staged.subject, fresh) if role is Role.CLIENT else (fresh, staged.subject)
    handshake(h, client, server)
    assert api.SSL_write(staged.ssl, b"again") == 5, "the cleared object's write on its new connection"
    move(staged.subject, fresh)
    assert api.SSL_read(fresh.ssl, 10) == (5, b"again"), "the new peer's read"


# --- BIO_do_handshake on an SSL BIO -----------------------------------------------------------------------------

@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/do-handshake")
@pytest.mark.states("before-handshake", "mid-handshake", "established")
@pytest.mark.parametrize("state", [State.BEFORE_HANDSHAKE, State.MID_HANDSHAKE, State.ESTABLISHED])
@pytest.mark.parametrize("role", ROLES)
def test_bio_do_handshake_in_each_state(h: Harness, role: Role, state: State) -> None:
    """The subject's SSL in an SSL BIO (BIO_set_ssl, BIO_NOCLOSE; the SSL keeps its own transport). Before or in
    the middle of the handshake BIO_do_handshake returns <= 0 with a retry request, and called again while the
    peer answers it returns 1; on a connected SSL it returns 1 at once and sends nothing."""
    staged = reach(h, state, role)
    api = staged.api
    b = call(h, "BIO_new", call(h, "BIO_f_ssl"))
    assert b is not None, "BIO_new(BIO_f_ssl()) returned NULL"
    try:
        assert call(h, "BIO_set_ssl", b, staged.ssl, BIO_NOCLOSE) == 1, "BIO_set_ssl did not return 1"
        ret = int(call(h, "BIO_do_handshake", b))
        if state is State.ESTABLISHED:
            assert ret == 1, f"BIO_do_handshake on a connected SSL BIO: {ret}, not 1"
            assert staged.subject.outgoing() == 0, "BIO_do_handshake on a connected SSL BIO sent bytes"
            return
        assert ret <= 0, f"BIO_do_handshake {state} returned {ret} before the peer answered"
        assert call(h, "BIO_should_retry", b), f"BIO_do_handshake {state}: <= 0 without a retry request"
        for _ in range(20):
            staged.move()
            api.SSL_do_handshake(staged.peer.ssl)
            staged.move()
            ret = int(call(h, "BIO_do_handshake", b))
            if ret == 1 or not call(h, "BIO_should_retry", b):
                break
        assert ret == 1, f"BIO_do_handshake {state} did not finish the handshake: {ret}"
        # connected indeed: the peer completes its side and reads what the subject's SSL writes
        staged.move()
        assert api.SSL_do_handshake(staged.peer.ssl) == 1, "the peer's handshake did not complete"
        assert api.SSL_write(staged.ssl, b"done") == 4, "the subject cannot write after BIO_do_handshake -> 1"
        staged.move()
        assert api.SSL_read(staged.peer.ssl, 10) == (4, b"done"), "the peer's read after the handshake"
    finally:
        call(h, "BIO_free", b)
