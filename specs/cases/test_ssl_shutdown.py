"""Cases for SSL_shutdown, SSL_set_shutdown/SSL_get_shutdown and the quiet-shutdown flag.

The first cases use the normalised endpoint (every stack); the rest need the C API (flags, raw returns, sockets)."""

from __future__ import annotations

import select
import time
from functools import partial
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from conformance.stacks.base import EndpointConfig
from specs.cases._capi import Background, side, tcp_pair
from specs.cases._ssl_objects import WANT, Mem, corrupt_record, error, handshake, move, ssl_ctx
from specs.cases._wire import assert_fatal

ZERO_RETURN = SslError.SSL_ERROR_ZERO_RETURN
SENT, RECEIVED = K.SSL_SENT_SHUTDOWN, K.SSL_RECEIVED_SHUTDOWN
C_API = ("c_api", "client_role", "server_role")


# --- the normalised endpoint ----------------------------------------------------------------------------------

@pytest.mark.clauses(
    "SSL_shutdown/DESCRIPTION/sends-close-notify",
    "SSL_shutdown/DESCRIPTION/first-to-close-returns-0",
    "SSL_shutdown/DESCRIPTION/second-call-waits-for-peer",
    "SSL_shutdown/DESCRIPTION/peer-closed-read-sets-received",
    "SSL_shutdown/DESCRIPTION/peer-closed-shutdown-returns-1",
    "SSL_shutdown/DESCRIPTION/two-steps-any-order",
    "SSL_shutdown/RETURN VALUES/0",
    "SSL_shutdown/RETURN VALUES/0-no-get-error",
    "SSL_shutdown/RETURN VALUES/1",
)
@pytest.mark.needs("shutdown_return_values", "error_codes")
def test_shutdown_returns_zero_then_one(h: Harness) -> None:
    """The client closes first: 0. The server sees ZERO_RETURN, answers with its own SSL_shutdown: 1 (it received
    first, then sent). The client's second SSL_shutdown, once the answer arrived: 1 (it sent first, then
    received)."""
    pair = h.pair()
    pair.handshake()
    first = pair.drive(client=lambda e: e.shutdown()).client
    assert first is not None and first.ok and first.ret == 0, f"the first SSL_shutdown must return 0: {first}"
    seen = pair.drive(server=lambda e: e.read(10)).server
    assert seen is not None and seen.error is ZERO_RETURN and seen.ret <= 0, seen
    answer = pair.drive(server=lambda e: e.shutdown()).server
    assert answer is not None and answer.ok and answer.ret == 1, f"peer closed first: 1 expected: {answer}"
    second = pair.drive(client=lambda e: e.shutdown()).client
    assert second is not None and second.ok and second.ret == 1, f"the waiting SSL_shutdown must give 1: {second}"


@pytest.mark.clauses(
    "SSL_shutdown/DESCRIPTION/peer-may-send-after-close-notify",
    "SSL_shutdown/DESCRIPTION/read-closed-by-peer",
    "SSL_shutdown/DESCRIPTION/prefer-read-to-wait",
    "SSL_shutdown/DESCRIPTION/unidirectional-only-when-peer-done",
)
@pytest.mark.needs("error_codes")
def test_peer_may_send_after_our_close_notify(h: Harness) -> None:
    """After the client's close_notify the server still sends data; the client's reads deliver it and then end
    with ZERO_RETURN when the server's close_notify arrives."""
    pair = h.pair()
    pair.handshake()
    pair.drive(client=lambda e: e.shutdown())
    seen = pair.drive(server=lambda e: e.read(10)).server
    assert seen is not None and seen.error is ZERO_RETURN, seen
    wrote = pair.drive(server=lambda e: e.write(b"after your close_notify")).server
    assert wrote is not None and wrote.ok, f"the peer may still write after receiving close_notify: {wrote}"
    pair.drive(server=lambda e: e.shutdown())
    got = pair.drive(client=lambda e: e.read(100)).client
    assert got is not None and got.ok and got.data == b"after your close_notify", \
        f"data sent after our close_notify must still be readable: {got}"
    end = pair.drive(client=lambda e: e.read(100)).client
    assert end is not None and end.error is ZERO_RETURN, f"then the peer's close_notify ends the reading: {end}"


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/closes-write-direction", "SSL_shutdown/DESCRIPTION/read-closed-by-peer")
def test_no_write_after_shutdown(h: Harness) -> None:
    """After SSL_shutdown a write fails and sends nothing; only the sending direction is closed, so the peer's data
    still reaches the client's reads."""
    pair = h.pair()
    pair.handshake()
    pair.drive(client=lambda e: e.shutdown())
    before = pair.client.outgoing_pending()
    out = pair.call(pair.client, lambda e: e.write(b"too late"))
    assert not out.ok, f"SSL_write after SSL_shutdown must fail: {out}"
    assert pair.client.outgoing_pending() == before, "the refused SSL_write put bytes on the wire"
    wrote = pair.drive(server=lambda e: e.write(b"still open")).server
    assert wrote is not None and wrote.ok, wrote
    got = pair.drive(client=lambda e: e.read(100)).client
    assert got is not None and got.ok and got.data == b"still open", (
        f"the failed write must leave the receiving direction open: {got}")


@pytest.mark.clauses(
    "SSL_shutdown/DESCRIPTION/unidirectional-acceptable",
    "SSL_shutdown/DESCRIPTION/first-call-enough-one-way",
)
@pytest.mark.needs("error_codes")
def test_one_way_close_is_a_proper_close(h: Harness) -> None:
    """One SSL_shutdown, then the client closes its transport without waiting: the server sees ZERO_RETURN (a
    proper close), not an unexpected EOF."""
    pair = h.pair()
    pair.handshake()
    pair.send(b"all the data")
    pair.drive(client=lambda e: e.shutdown())
    pair.link.c2s.closed = True
    pair.settle()
    out = pair.call(pair.server, lambda e: e.read(10))
    assert out.error is ZERO_RETURN, f"a close_notify followed by EOF is a proper close: {out}"


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/missing-close-notify-error")
@pytest.mark.needs("error_codes")
def test_waiting_for_a_close_notify_that_never_comes(h: Harness) -> None:
    """The server closes first; the client just closes its transport. The server, waiting for the close_notify,
    gets an error. With SSL_OP_IGNORE_UNEXPECTED_EOF (where the stack can set it) it gets ZERO_RETURN instead."""
    variants = [False] + ([True] if h.has("ignore_unexpected_eof") else [])
    for ignore in variants:
        pair = h.pair(server=partial(EndpointConfig.with_, ignore_unexpected_eof=ignore))
        pair.handshake()
        pair.drive(server=lambda e: e.shutdown())
        pair.link.c2s.closed = True
        pair.settle()
        out = pair.call(pair.server, lambda e: e.read(10))
        h.trace.note(f"ignore_unexpected_eof={ignore}: {out}")
        if ignore:
            assert out.error is ZERO_RETURN, f"with SSL_OP_IGNORE_UNEXPECTED_EOF the bare EOF is no error: {out}"
        else:
            assert out.fatal, f"a missing close_notify must be reported as an error: {out}"


# --- the C API: flags -----------------------------------------------------------------------------------------

@pytest.mark.clauses(
    "SSL_set_shutdown/NOTES/zero-nothing-yet",
    "SSL_set_shutdown/NOTES/sent-shutdown",
    "SSL_set_shutdown/NOTES/received-close-notify",
    "SSL_set_shutdown/NOTES/both-flags",
    "SSL_set_shutdown/NOTES/received-automatic-sent-explicit",
    "SSL_set_shutdown/DESCRIPTION/get-returns-state",
    "SSL_set_shutdown/RETURN VALUES/get-current",
    "SSL_shutdown/DESCRIPTION/received-flag-after-peer-alert",
    "SSL_shutdown/DESCRIPTION/get-shutdown-shows-received",
    "SSL_shutdown/DESCRIPTION/peer-closed-read-sets-received",
    "SSL_shutdown/DESCRIPTION/first-to-close-returns-0",
)
@pytest.mark.needs(*C_API)
def test_shutdown_flags_through_a_two_way_close(h: Harness) -> None:
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    assert api.SSL_get_shutdown(client.ssl) == 0
    handshake(h, client, server)
    assert api.SSL_get_shutdown(client.ssl) == 0 and api.SSL_get_shutdown(server.ssl) == 0
    assert api.SSL_shutdown(client.ssl) == 0
    assert api.SSL_get_shutdown(client.ssl) == SENT, api.SSL_get_shutdown(client.ssl)
    move(client, server)
    ret, _ = api.SSL_read(server.ssl, 10)
    assert ret <= 0 and error(api, server.ssl, ret) is ZERO_RETURN
    assert api.SSL_get_shutdown(server.ssl) == RECEIVED, \
        f"receiving close_notify sets RECEIVED only, not SENT: {api.SSL_get_shutdown(server.ssl)}"
    assert api.SSL_shutdown(server.ssl) == 1
    assert api.SSL_get_shutdown(server.ssl) == SENT | RECEIVED
    move(client, server)
    assert api.SSL_shutdown(client.ssl) == 1
    assert api.SSL_get_shutdown(client.ssl) == SENT | RECEIVED


@pytest.mark.clauses(
    "SSL_set_shutdown/DESCRIPTION/set-replaces-state",
    "SSL_set_shutdown/NOTES/set-without-alert",
    "SSL_set_shutdown/RETURN VALUES/set-void",
)
@pytest.mark.needs(*C_API)
def test_set_shutdown_sets_the_state_without_an_alert(h: Harness) -> None:
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    for mode in (SENT, RECEIVED, SENT | RECEIVED, 0, RECEIVED):
        assert api.SSL_set_shutdown(client.ssl, mode) is None
        got = api.SSL_get_shutdown(client.ssl)
        assert got == mode, f"SSL_set_shutdown({mode}) then SSL_get_shutdown -> {got}"
    assert client.outgoing() == 0, "SSL_set_shutdown must not send anything"


def _server_fails_on_a_corrupted_record(h: Harness, client: Mem, server: Mem) -> bytes:
    """The client's record reaches the server corrupted; the server's SSL_read fails fatally (not a retry) and it
    sends a fatal alert, which is returned (not yet given to the client)."""
    api = h.capi
    corrupt_record(h, client, server)
    api.ERR_clear_error()
    ret, _ = api.SSL_read(server.ssl, 100)
    assert ret <= 0 and error(api, server.ssl, ret) not in WANT, "the corrupted record must fail the server"
    alert = server.take()
    assert alert, "the server must send a fatal alert"
    return alert


@pytest.mark.clauses(
    "SSL_set_shutdown/NOTES/received-fatal-alert",
    "SSL_shutdown/DESCRIPTION/not-after-fatal-error",
)
@pytest.mark.needs(*C_API)
def test_fatal_alert_sets_received_and_ends_clean_closing(h: Harness) -> None:
    """A corrupted record: the server fails fatally and sends an alert; the client, reading that fatal alert, has
    RECEIVED set. The failed server's SSL_shutdown sends no close_notify."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    alert = _server_fails_on_a_corrupted_record(h, client, server)
    client.give(alert)
    ret, _ = api.SSL_read(client.ssl, 100)
    h.trace.note(f"client read after the fatal alert -> {ret}, SSL_get_error {error(api, client.ssl, ret)}")
    assert api.SSL_get_shutdown(client.ssl) & RECEIVED, "a fatal alert from the peer must set RECEIVED"
    api.ERR_clear_error()
    ret = api.SSL_shutdown(server.ssl)
    h.trace.note(f"SSL_shutdown after the fatal error -> {ret}")
    assert server.outgoing() == 0, "no close_notify may follow a fatal error"
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_ZERO_RETURN")
@pytest.mark.states("close-notify-received")
@pytest.mark.needs(*C_API)
def test_read_after_a_completed_shutdown_is_zero_return(h: Harness) -> None:
    """Both sides sent close_notify and the client's second SSL_shutdown read the server's: a following SSL_read
    on the client returns <= 0 and SSL_get_error says SSL_ERROR_ZERO_RETURN."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    move(client, server)
    api.SSL_read(client.ssl, 1)  # take TLS 1.3 tickets in, so that only the close_notify waits below
    api.ERR_clear_error()
    assert api.SSL_shutdown(client.ssl) == 0
    assert api.SSL_shutdown(server.ssl) == 0
    client.give(server.take())
    ret = api.SSL_shutdown(client.ssl)  # 1 by the page (RETURN VALUES/1; wolfSSL's 0 is pinned elsewhere)
    h.trace.note(f"the client's second SSL_shutdown, the server's close_notify delivered -> {ret}")
    api.ERR_clear_error()
    ret, _ = api.SSL_read(client.ssl, 1)
    code = error(api, client.ssl, ret)
    h.trace.note(f"SSL_read after the completed shutdown -> {ret}, SSL_get_error {code}")
    assert ret <= 0 and code == SslError.SSL_ERROR_ZERO_RETURN, (
        f"the peer's close_notify was received: expected <= 0 and SSL_ERROR_ZERO_RETURN, got {ret}, {code}")
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_shutdown/RETURN VALUES/1", "SSL_shutdown/RETURN VALUES/<0")
@pytest.mark.states("close-notify-sent")
@pytest.mark.needs(*C_API)
def test_shutdown_waiting_gets_a_fatal_alert_not_1(h: Harness) -> None:
    """The client has sent close_notify (SSL_shutdown 0); the peer's answer is a fatal alert, not a close_notify:
    the waiting SSL_shutdown must not report a completed shutdown (1); it fails (< 0, SSL_ERROR_SSL)."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    alert = _server_fails_on_a_corrupted_record(h, client, server)
    assert api.SSL_shutdown(client.ssl) == 0, "the first SSL_shutdown sends close_notify"
    client.give(alert)
    api.ERR_clear_error()
    ret = api.SSL_shutdown(client.ssl)
    code = error(api, client.ssl, ret)
    h.trace.note(f"waiting SSL_shutdown after the peer's fatal alert -> {ret}, SSL_get_error {code}")
    assert ret != 1, "SSL_shutdown returned 1 (shutdown complete) though the peer sent a fatal alert, no close_notify"
    assert ret < 0 and code == SslError.SSL_ERROR_SSL, f"expected < 0 and SSL_ERROR_SSL: {ret}, {code}"
    api.ERR_clear_error()


@pytest.mark.clauses(
    "SSL_shutdown/DESCRIPTION/sent-flag-even-on-failure",
    "SSL_shutdown/DESCRIPTION/non-blocking-retry",
    "SSL_shutdown/DESCRIPTION/bio-pair-move-data",
    "SSL_shutdown/RETURN VALUES/<0",
)
@pytest.mark.needs(*C_API)
def test_shutdown_on_a_full_transport_wants_write(h: Harness) -> None:
    """The client's BIO pair is filled with complete records until not even an alert record fits: SSL_shutdown
    cannot send and returns < 0 with WANT_WRITE, yet SENT is set. Moving the bytes out and repeating completes the
    first step (0)."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(write_buffer=4096, min_version="TLSv1.3"))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    wbio = api.SSL_get_wbio(client.ssl)
    overhead = 22  # TLS 1.3 record: 5 header + 1 content type + 16 AEAD tag
    while (room := api.BIO_ctrl_get_write_guarantee(wbio)) >= 2 + overhead:
        size = min(100, room - overhead)
        assert api.SSL_write(client.ssl, b"y" * size) == size
    h.trace.note(f"room left in the BIO pair: {room} bytes")
    api.ERR_clear_error()
    ret = api.SSL_shutdown(client.ssl)
    code = error(api, client.ssl, ret)
    h.trace.note(f"SSL_shutdown on a full transport -> {ret}, SSL_get_error {code}")
    assert ret < 0 and code is SslError.SSL_ERROR_WANT_WRITE, (ret, code)
    assert api.SSL_get_shutdown(client.ssl) & SENT, "SENT must be set even though the alert could not go out"
    for _ in range(20):
        move(client, server)
        while api.SSL_read(server.ssl, 65536)[0] > 0:
            pass
        api.ERR_clear_error()
        ret = api.SSL_shutdown(client.ssl)
        if ret >= 0 or error(api, client.ssl, ret) not in WANT:
            break
    assert ret == 0, f"after moving the bytes out the repeated SSL_shutdown must complete its first step: {ret}"
    move(client, server)
    ret, _ = api.SSL_read(server.ssl, 10)
    assert error(api, server.ssl, ret) is ZERO_RETURN, "the close_notify must reach the peer"


@pytest.mark.clauses(
    "SSL_shutdown/DESCRIPTION/non-blocking-retry",
    "SSL_shutdown/DESCRIPTION/second-call-waits-for-peer",
    "SSL_shutdown/RETURN VALUES/<0",
)
@pytest.mark.needs(*C_API)
def test_waiting_shutdown_wants_read(h: Harness) -> None:
    """After 0, a second SSL_shutdown with nothing arrived yet: < 0 and WANT_READ; after the peer's answer: 1."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    assert api.SSL_shutdown(client.ssl) == 0
    api.ERR_clear_error()
    ret = api.SSL_shutdown(client.ssl)
    assert ret < 0 and error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_READ, (ret, error(api, client.ssl, ret))
    move(client, server)
    api.SSL_read(server.ssl, 10)
    assert api.SSL_shutdown(server.ssl) == 1
    move(client, server)
    assert api.SSL_shutdown(client.ssl) == 1


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/not-before-handshake-done", "SSL_shutdown/RETURN VALUES/<0")
@pytest.mark.needs(*C_API)
@pytest.mark.parametrize("when", ["before", "during"])
def test_shutdown_before_the_handshake_is_done(h: Harness, when: str) -> None:
    """A client whose handshake has not started, or has sent its ClientHello and waits: SSL_shutdown fails with
    SSL_ERROR_SSL and an error-queue entry, writes nothing and leaves SSL_get_shutdown at 0."""
    api = h.capi
    client = Mem(h, Role.CLIENT)
    if when == "during":
        ret = api.SSL_do_handshake(client.ssl)
        assert ret < 0 and error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_READ
        client.take()
    api.ERR_clear_error()
    ret = api.SSL_shutdown(client.ssl)
    code = error(api, client.ssl, ret) if ret < 0 else None
    h.trace.note(f"SSL_shutdown {when} the handshake -> {ret} ({code}), queue {api.ERR_peek_error():#x}")
    assert ret < 0 and code is SslError.SSL_ERROR_SSL, f"SSL_shutdown {when} the handshake -> {ret} ({code})"
    assert api.ERR_peek_error() != 0, "no error-queue entry says why"
    assert client.outgoing() == 0, "nothing may be sent"
    assert api.SSL_get_shutdown(client.ssl) == 0
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_shutdown/RETURN VALUES/<0-unread-data")
@pytest.mark.needs("shutdown_return_values", "error_codes")
def test_waiting_shutdown_with_unread_data(h: Harness) -> None:
    """The server sends data and then its close_notify after our close_notify; our waiting SSL_shutdown, called
    without reading that data first, is not successful: < 0 with SSL_ERROR_SSL and a reason, never 0 again and
    never 1 (which would mean the data was thrown away unreported)."""
    pair = h.pair()
    pair.handshake()
    first = pair.drive(client=lambda e: e.shutdown()).client
    assert first is not None and first.ok and first.ret == 0, first
    seen = pair.drive(server=lambda e: e.read(10)).server
    assert seen is not None and seen.error is ZERO_RETURN, seen
    wrote = pair.drive(server=lambda e: e.write(b"unread data")).server
    assert wrote is not None and wrote.ok, wrote
    answer = pair.drive(server=lambda e: e.shutdown()).server
    assert answer is not None and answer.ok and answer.ret == 1, answer
    pair.settle()
    out = pair.call(pair.client, lambda e: e.shutdown())
    h.trace.note(f"waiting SSL_shutdown with unread data -> {out}")
    assert out.ret != 1, "SSL_shutdown returned 1: the peer's unread application data was discarded unreported"
    assert out.ret != 0, "SSL_shutdown returned 0 again although the peer's close_notify has arrived"
    assert out.error is SslError.SSL_ERROR_SSL, f"unread data must be reported as an error: {out}"
    if h.has("raw_return_values"):
        assert out.ret < 0, out
    if h.has("error_queue"):
        assert out.reason, f"SSL_ERROR_SSL without an error-queue entry: {out}"


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/write-only-client-may-miss-ticket")
@pytest.mark.needs(*C_API, "tls1_3")
def test_write_only_client_may_miss_the_ticket(h: Harness) -> None:
    """TLS 1.3 sends the ticket after the handshake. A client that writes and closes without reading has no
    resumable session; one that reads (and completes the two-way close) has."""
    api = h.capi
    resumable = {}
    for reads in (False, True):
        client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version="TLSv1.3"))
        server = Mem(h, Role.SERVER)
        handshake(h, client, server)  # the server's tickets now wait in the client's BIO, unread
        assert api.SSL_write(client.ssl, b"request") > 0
        if reads:
            api.SSL_read(client.ssl, 100)  # WANT_READ, but the tickets are processed
        assert api.SSL_shutdown(client.ssl) == 0
        move(client, server)
        api.SSL_read(server.ssl, 100)
        api.SSL_read(server.ssl, 100)
        api.SSL_shutdown(server.ssl)
        move(client, server)
        if reads:
            api.SSL_shutdown(client.ssl)
        resumable[reads] = api.SSL_SESSION_is_resumable(api.SSL_get_session(client.ssl))
    h.trace.note(f"session resumable: write-only {resumable[False]}, reading {resumable[True]}")
    assert resumable == {False: 0, True: 1}, resumable


# --- blocking and non-blocking sockets ------------------------------------------------------------------------

@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/blocking-returns-when-step-done")
@pytest.mark.needs(*C_API)
def test_shutdown_on_blocking_sockets(h: Harness) -> None:
    """Blocking sockets: the first SSL_shutdown returns 0 at once; the second blocks until the server's
    close_notify (sent 0.2 s later) arrives and then returns 1."""
    api = h.capi
    csock, ssock = tcp_pair()
    with side(api, Role.CLIENT, sock=csock) as client, side(api, Role.SERVER, sock=ssock) as server:
        def serve() -> tuple[int, int, int]:
            assert api.SSL_accept(server.ssl) == 1
            ret, _ = api.SSL_read(server.ssl, 10)
            code = api.SSL_get_error(server.ssl, ret)
            time.sleep(0.2)
            return ret, code, api.SSL_shutdown(server.ssl)

        background = Background(serve)
        assert api.SSL_connect(client.ssl) == 1
        assert api.SSL_shutdown(client.ssl) == 0
        started = time.monotonic()
        second = api.SSL_shutdown(client.ssl)
        waited = time.monotonic() - started
        ret, code, answer = background.join()
        h.trace.note(f"server read -> {ret} ({code}), server SSL_shutdown -> {answer}; client waited {waited:.2f} s")
        assert code == ZERO_RETURN and answer == 1
        assert second == 1, f"the blocking second SSL_shutdown returned {second}"
        assert waited >= 0.15, f"it returned after {waited:.2f} s, before the peer's close_notify was sent"


def _until(h: Harness, sides: dict[str, tuple[Any, Any]], rounds: int = 500) -> dict[str, int]:
    """Call each function until it returns >= 0 (or a non-retry failure), waiting in select() in between."""
    results: dict[str, int] = {}
    for _ in range(rounds):
        readers, writers = [], []
        for name, (s, fn) in sides.items():
            if name in results:
                continue
            ret = fn()
            ret = ret[0] if isinstance(ret, tuple) else ret
            code = error(h.capi, s.ssl, ret) if ret <= 0 else None
            if code is SslError.SSL_ERROR_WANT_READ:
                readers.append(s.sock)
            elif code is SslError.SSL_ERROR_WANT_WRITE:
                writers.append(s.sock)
            else:
                results[name] = ret
        if len(results) == len(sides):
            return results
        r, w, _ = select.select(readers, writers, [], 5.0)
        assert r or w, f"select() timed out waiting for {set(sides) - set(results)}"
    raise AssertionError(f"not done after {rounds} rounds: {results}")


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/socket-select")
@pytest.mark.needs(*C_API)
def test_shutdown_on_non_blocking_sockets_with_select(h: Harness) -> None:
    api = h.capi
    csock, ssock = tcp_pair()
    for s in (csock, ssock):
        s.setblocking(False)
    with side(api, Role.CLIENT, sock=csock) as client, side(api, Role.SERVER, sock=ssock) as server:
        _until(h, {"connect": (client, lambda: api.SSL_connect(client.ssl)),
                   "accept": (server, lambda: api.SSL_accept(server.ssl))})
        assert api.SSL_shutdown(client.ssl) == 0
        got = _until(h, {"read": (server, lambda: api.SSL_read(server.ssl, 10))})
        assert got["read"] <= 0 and error(api, server.ssl, got["read"]) is ZERO_RETURN
        assert api.SSL_shutdown(server.ssl) == 1
        done = _until(h, {"shutdown": (client, lambda: api.SSL_shutdown(client.ssl))})
        assert done["shutdown"] == 1, done


# --- quiet shutdown -------------------------------------------------------------------------------------------

@pytest.mark.clauses(
    "SSL_CTX_set_quiet_shutdown/DESCRIPTION/ctx-set-inherited-at-new",
    "SSL_CTX_set_quiet_shutdown/DESCRIPTION/mode-0-or-1",
    "SSL_CTX_set_quiet_shutdown/DESCRIPTION/ctx-get",
    "SSL_CTX_set_quiet_shutdown/DESCRIPTION/ssl-set-persists",
    "SSL_CTX_set_quiet_shutdown/DESCRIPTION/ssl-get",
    "SSL_CTX_set_quiet_shutdown/NOTES/default-normal",
    "SSL_CTX_set_quiet_shutdown/RETURN VALUES/setters-void",
    "SSL_CTX_set_quiet_shutdown/RETURN VALUES/getters-current",
)
@pytest.mark.needs(*C_API)
def test_quiet_shutdown_flag(h: Harness) -> None:
    api = h.capi
    with ssl_ctx(h, api.TLS_method()) as ctx:
        assert api.SSL_CTX_get_quiet_shutdown(ctx) == 0, "the default must be normal shutdown (0)"
        old = api.SSL_new(ctx)
        assert api.SSL_get_quiet_shutdown(old) == 0
        assert api.SSL_CTX_set_quiet_shutdown(ctx, 1) is None and api.SSL_CTX_get_quiet_shutdown(ctx) == 1
        new = api.SSL_new(ctx)
        assert api.SSL_get_quiet_shutdown(new) == 1, "an object made now must take the context's 1"
        assert api.SSL_get_quiet_shutdown(old) == 0, "an existing object must keep the value it was made with"
        api.SSL_CTX_set_quiet_shutdown(ctx, 0)
        assert api.SSL_get_quiet_shutdown(new) == 1
        assert api.SSL_set_quiet_shutdown(old, 1) is None and api.SSL_get_quiet_shutdown(old) == 1
        assert api.SSL_clear(old) == 1 and api.SSL_get_quiet_shutdown(old) == 1, "SSL_clear must keep the flag"
        api.SSL_set_quiet_shutdown(old, 0)
        assert api.SSL_get_quiet_shutdown(old) == 0
        api.SSL_free(old)
        api.SSL_free(new)


@pytest.mark.clauses(
    "SSL_CTX_set_quiet_shutdown/NOTES/quiet-sets-both-no-alert",
    "SSL_shutdown/DESCRIPTION/quiet-returns-one",
)
@pytest.mark.needs(*C_API)
def test_quiet_shutdown_sends_nothing(h: Harness) -> None:
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    api.SSL_set_quiet_shutdown(client.ssl, 1)
    assert api.SSL_shutdown(client.ssl) == 1, "quiet shutdown always returns 1"
    assert api.SSL_get_shutdown(client.ssl) == SENT | RECEIVED
    assert client.outgoing() == 0, "quiet shutdown must not send a close_notify"
    assert api.SSL_shutdown(client.ssl) == 1


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/quiet-peer-sees-eof")
@pytest.mark.needs(*C_API, "error_codes")
def test_quiet_shutdown_peer_sees_unexpected_eof(h: Harness) -> None:
    """After a quiet shutdown the client closes the transport; the server waiting for close_notify reports an
    unexpected EOF (SSL_ERROR_SSL in OpenSSL 3.0)."""
    pair = h.capi_pair()
    pair.handshake()
    h.capi.SSL_set_quiet_shutdown(pair.client.ssl, 1)
    assert h.capi.SSL_shutdown(pair.client.ssl) == 1
    pair.link.c2s.closed = True
    pair.settle()
    out = pair.call(pair.server, lambda e: e.read(10))
    assert_fatal(out, h.stack, "the peer must see an unexpected EOF")
