"""C-API cases: the clauses only the C tier can observe (raw return values, the error queue, real sockets,
callbacks, BIO types). They run on every stack with capability ``c_api`` (libssl, wolfssl, later the engine)."""

from __future__ import annotations

import errno
import select
import socket
import struct
import time
from functools import partial
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import CApiPair, Harness
from conformance.outcome import Role, SslError
from specs.cases._bio import full_listener, has_peer
from specs.cases._capi import Background, side, tcp_pair

NONE = SslError.SSL_ERROR_NONE
WANT_READ = SslError.SSL_ERROR_WANT_READ
WANT_WRITE = SslError.SSL_ERROR_WANT_WRITE
SSL_ERR = SslError.SSL_ERROR_SSL
SYSCALL = SslError.SSL_ERROR_SYSCALL
CLOSE_NOTIFY_RECORD = bytes([21, 3, 3, 0, 2, 1, 0])  # a plaintext warning alert: close_notify

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")


def call(h: Harness, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``name`` on the stack's C API and note the call and its result in the trace."""
    result = getattr(h.capi, name)(*args, **kwargs)
    shown = ", ".join(repr(a) if isinstance(a, (int, str)) else type(a).__name__ for a in args)
    h.trace.note(f"{name}({shown}) -> {result if not isinstance(result, bytes) else f'{len(result)} bytes'}")
    return result


def get_error(h: Harness, ssl: Any, ret: int) -> SslError | int:
    code = call(h, "SSL_get_error", ssl, ret)
    try:
        return SslError(code)
    except ValueError:
        return int(code)


# --- handshake functions --------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_connect/DESCRIPTION/bio-must-be-set")
def test_connect_without_a_bio_fails(h: Harness) -> None:
    """SSL_connect on an SSL with no BIO attached fails with a negative value and a fatal code."""
    _handshake_without_a_bio(h, Role.CLIENT)


@pytest.mark.clauses("SSL_accept/DESCRIPTION/bio-must-be-set")
def test_accept_without_a_bio_fails(h: Harness) -> None:
    """SSL_accept on an SSL with no BIO attached fails with a negative value and a fatal code."""
    _handshake_without_a_bio(h, Role.SERVER)


def _handshake_without_a_bio(h: Harness, role: Role) -> None:
    api = h.capi
    with side(api, role) as s:
        call(h, "ERR_clear_error")
        ret = call(h, "SSL_connect" if role is Role.CLIENT else "SSL_accept", s.ssl)
        assert ret < 0, f"a handshake without a BIO returned {ret}"
        assert get_error(h, s.ssl, ret) in (SSL_ERR, SYSCALL)


@pytest.mark.clauses("SSL_connect/RETURN VALUES/0")
def test_connect_ended_by_close_notify_returns_zero(h: Harness) -> None:
    """The server answers the ClientHello with a close_notify: SSL_connect did not succeed but was shut down in
    the protocol's own way, which the page documents as return value 0."""
    _client_handshake_ended_by_close_notify(h, "SSL_connect")


@pytest.mark.clauses("SSL_do_handshake/RETURN VALUES/0")
def test_do_handshake_ended_by_close_notify_returns_zero(h: Harness) -> None:
    """As above, with SSL_do_handshake on the client."""
    _client_handshake_ended_by_close_notify(h, "SSL_do_handshake")


def _client_handshake_ended_by_close_notify(h: Harness, function: str) -> None:
    pair = h.capi_pair()
    first = call(h, function, pair.client.ssl)
    assert first < 0 and get_error(h, pair.client.ssl, first) is WANT_READ
    pair.client.take_outgoing()  # the ClientHello goes nowhere
    pair.client.put_incoming(CLOSE_NOTIFY_RECORD)
    call(h, "ERR_clear_error")
    ret = call(h, function, pair.client.ssl)
    code = get_error(h, pair.client.ssl, ret)
    assert ret == 0, f"{function} after the peer's close_notify returned {ret} (SSL_get_error {code}), not 0"


@pytest.mark.clauses("SSL_accept/RETURN VALUES/0")
def test_server_handshake_ended_by_close_notify_returns_zero(h: Harness) -> None:
    """The client sends a close_notify instead of a ClientHello: documented as return value 0 of SSL_accept."""
    pair = h.capi_pair()
    pair.server.put_incoming(CLOSE_NOTIFY_RECORD)
    call(h, "ERR_clear_error")
    ret = call(h, "SSL_accept", pair.server.ssl)
    code = get_error(h, pair.server.ssl, ret)
    assert ret == 0, f"SSL_accept after a close_notify returned {ret} (SSL_get_error {code}), not 0"


@pytest.mark.clauses(
    "SSL_connect/NOTES/blocking-returns-when-done",
    "SSL_accept/NOTES/blocking-returns-when-done",
    "SSL_read/NOTES/blocking-returns-when-done",
    "SSL_write/NOTES/blocking-returns-when-done",
)
def test_blocking_socket_calls_return_only_when_done(h: Harness) -> None:
    """On blocking sockets SSL_connect and SSL_accept return 1 without ever asking to retry, a 200 000-byte
    SSL_write returns only when every byte is written, and SSL_read returns data."""
    _blocking_socket_calls(h, "SSL_connect")


@pytest.mark.clauses("SSL_do_handshake/NOTES/blocking-returns-when-done")
def test_blocking_socket_do_handshake_returns_only_when_done(h: Harness) -> None:
    """As above, with SSL_do_handshake on both sides."""
    _blocking_socket_calls(h, "SSL_do_handshake")


def _blocking_socket_calls(h: Harness, function: str) -> None:
    api = h.capi
    csock, ssock = tcp_pair()
    data = h.rng.randbytes(200_000)
    with side(api, Role.CLIENT, sock=csock) as client, side(api, Role.SERVER, sock=ssock) as server:
        def serve() -> bytes:
            ret = api.SSL_accept(server.ssl) if function == "SSL_connect" else api.SSL_do_handshake(server.ssl)
            assert ret == 1, f"server handshake returned {ret} (SSL_get_error {api.SSL_get_error(server.ssl, ret)})"
            got = bytearray()
            while len(got) < len(data):
                n, chunk = api.SSL_read(server.ssl, 65536)
                assert n > 0, f"blocking SSL_read returned {n} (SSL_get_error {api.SSL_get_error(server.ssl, n)})"
                got += chunk
            return bytes(got)

        background = Background(serve)
        ret = call(h, function, client.ssl)
        assert ret == 1, f"blocking {function} returned {ret} (SSL_get_error {get_error(h, client.ssl, ret)})"
        written = call(h, "SSL_write", client.ssl, data)
        assert written == len(data), f"a blocking SSL_write returned {written}, not the whole {len(data)} bytes"
        assert background.join() == data


def _select_loop(h: Harness, steps: dict[str, Any], rounds: int = 2000) -> dict[str, int]:
    """Drive non-blocking calls: on WANT_READ wait until the socket is readable, on WANT_WRITE until writable."""
    results: dict[str, int] = {}
    codes_seen: set[SslError | int] = set()
    pending = dict(steps)
    for _ in range(rounds):
        if not pending:
            return results
        readers, writers = [], []
        for name, (side_, fn) in list(pending.items()):
            ret = fn()
            if ret > 0:
                results[name] = ret
                del pending[name]
                continue
            code = get_error(h, side_.ssl, ret)
            codes_seen.add(code)
            if code is WANT_READ:
                readers.append(side_.sock)
            elif code is WANT_WRITE:
                writers.append(side_.sock)
            else:
                raise AssertionError(f"{name} failed: {ret}, SSL_get_error {code}")
        if pending:
            r, w, _ = select.select(readers, writers, [], 5.0)
            assert r or w, f"select() timed out with {', '.join(pending)} still waiting"
    h.trace.note(f"codes seen: {sorted(str(c) for c in codes_seen)}")
    raise AssertionError(f"{', '.join(pending)} did not finish in {rounds} rounds")


@pytest.mark.clauses(
    "SSL_connect/NOTES/socket-select",
    "SSL_accept/NOTES/socket-select",
    "SSL_read/NOTES/socket-select",
    "SSL_write/NOTES/socket-select",
    "SSL_get_error/RETURN VALUES/socket-select-retry",
    "SSL_get_error/RETURN VALUES/want-connect-accept-only-those-bios",
)
def test_nonblocking_sockets_with_select(h: Harness) -> None:
    """Non-blocking sockets: every WANT_READ/WANT_WRITE is answered by waiting in select() on the descriptor and
    calling again; SSL_connect / SSL_accept, a 1 MiB write and the reads all complete, and WANT_CONNECT/WANT_ACCEPT
    never occur on socket BIOs."""
    _nonblocking_sockets_with_select(h, "SSL_connect", "SSL_accept")


@pytest.mark.clauses("SSL_do_handshake/NOTES/socket-select")
def test_nonblocking_sockets_with_select_do_handshake(h: Harness) -> None:
    """As above, with SSL_do_handshake driving both sides of the handshake."""
    _nonblocking_sockets_with_select(h, "SSL_do_handshake", "SSL_do_handshake")


def _nonblocking_sockets_with_select(h: Harness, connect: str, accept: str) -> None:
    api = h.capi
    csock, ssock = tcp_pair()
    for s in (csock, ssock):
        s.setblocking(False)
    with side(api, Role.CLIENT, sock=csock) as client, side(api, Role.SERVER, sock=ssock) as server:
        _select_loop(h, {f"client {connect}": (client, lambda: getattr(api, connect)(client.ssl)),
                         f"server {accept}": (server, lambda: getattr(api, accept)(server.ssl))})
        data = h.rng.randbytes(1 << 20)
        sent = 0
        got = bytearray()

        def write() -> int:
            return int(api.SSL_write(client.ssl, data[sent:sent + 65536]))

        def read() -> int:
            n, chunk = api.SSL_read(server.ssl, 65536)
            if n > 0:
                got.extend(chunk)
            return int(n)

        while sent < len(data) or len(got) < len(data):
            steps: dict[str, Any] = {}
            if sent < len(data):
                steps["SSL_write"] = (client, write)
            steps["SSL_read"] = (server, read)
            done = _select_loop(h, steps)
            sent += done.get("SSL_write", 0)
        assert bytes(got) == data


@pytest.mark.clauses("SSL_connect/NOTES/tcp-nodelay-helper")
def test_bio_set_tcp_ndelay_switches_nagle(h: Harness) -> None:
    """BIO_set_tcp_ndelay() sets and clears TCP_NODELAY on a real socket."""
    csock, ssock = tcp_pair()
    try:
        assert call(h, "BIO_set_tcp_ndelay", csock.fileno(), 1) == 1
        assert csock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert call(h, "BIO_set_tcp_ndelay", csock.fileno(), 0) == 1
        assert csock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        csock.close()
        ssock.close()


# --- SSL_get_error and the error queue ------------------------------------------------------------------------

def _failed_handshake(h: Harness) -> tuple[CApiPair, int]:
    """A pair whose server fails the handshake fatally (the client allows only TLS 1.2, the server only 1.3)."""
    pair = h.capi_pair(client=lambda c: c.with_(max_version="TLSv1.2"), server=lambda c: c.with_(min_version="TLSv1.3"))
    call(h, "SSL_do_handshake", pair.client.ssl)
    pair.pump.step_link()
    call(h, "ERR_clear_error")
    ret = call(h, "SSL_do_handshake", pair.server.ssl)
    assert ret < 0
    return pair, ret


@pytest.mark.clauses("SSL_get_error/DESCRIPTION/same-thread")
def test_get_error_belongs_on_the_calling_thread(h: Harness) -> None:
    """The classification reads the calling thread's error queue: on the thread of the failed call it is
    SSL_ERROR_SSL; asked from another thread, whose queue is empty, the answer is different."""
    pair, ret = _failed_handshake(h)
    elsewhere = Background(lambda: h.capi.SSL_get_error(pair.server.ssl, ret)).join()
    here = get_error(h, pair.server.ssl, ret)
    h.trace.note(f"SSL_get_error on another thread -> {elsewhere}")
    assert here is SSL_ERR, here
    assert elsewhere != SSL_ERR, "another thread cannot see this thread's error queue"


@pytest.mark.clauses("SSL_get_error/DESCRIPTION/no-calls-between")
def test_get_error_after_other_calls_is_unreliable(h: Harness) -> None:
    """An OpenSSL call between the failed call and SSL_get_error that empties the queue changes the answer."""
    pair, ret = _failed_handshake(h)
    call(h, "ERR_clear_error")
    after = get_error(h, pair.server.ssl, ret)
    assert after != SSL_ERR, f"SSL_get_error still said SSL_ERROR_SSL after the queue was emptied: {after}"


@pytest.mark.clauses("SSL_get_error/DESCRIPTION/empty-queue-before-io")
def test_stale_error_queue_misleads_get_error(h: Harness) -> None:
    """An error left on the queue before an SSL_read that merely has to wait makes SSL_get_error report a fatal
    code (SSL_ERROR_SSL, or SSL_ERROR_SYSCALL for a system error entry); with the queue emptied first, the same read
    reports WANT_READ."""
    pair = h.capi_pair()
    pair.handshake()
    call(h, "ERR_clear_error")
    stale_ctx = call(h, "SSL_CTX_new", call(h, "TLS_method"))
    try:
        assert call(h, "SSL_CTX_use_certificate_file", stale_ctx, b"/nonexistent/cert.pem", 1) != 1
        assert call(h, "ERR_peek_error") != 0, "expected the failed call to leave an error on the queue"
        ret, _ = call(h, "SSL_read", pair.server.ssl, 10)
        misled = get_error(h, pair.server.ssl, ret)
        call(h, "ERR_clear_error")
        ret, _ = call(h, "SSL_read", pair.server.ssl, 10)
        clean = get_error(h, pair.server.ssl, ret)
    finally:
        call(h, "SSL_CTX_free", stale_ctx)
    assert clean is WANT_READ, clean
    assert misled in (SSL_ERR, SYSCALL), f"with a stale queue entry SSL_get_error said {misled}"


@pytest.mark.clauses("SSL_get_error/DESCRIPTION/pass-return-value")
def test_get_error_depends_on_the_return_value_passed(h: Harness) -> None:
    """SSL_get_error classifies the value it is given: the -1 of a read that must wait is WANT_READ, while any
    value > 0 is SSL_ERROR_NONE."""
    pair = h.capi_pair()
    pair.handshake()
    ret, _ = call(h, "SSL_read", pair.server.ssl, 10)
    assert ret <= 0
    assert get_error(h, pair.server.ssl, ret) is WANT_READ
    assert get_error(h, pair.server.ssl, 1) is NONE


@pytest.mark.clauses("SSL_get_error/NOTES/eof-reason-for-control-flow")
def test_unexpected_eof_reason_on_the_queue(h: Harness) -> None:
    """After an EOF without close_notify the queue's first entry is ERR_LIB_SSL /
    SSL_R_UNEXPECTED_EOF_WHILE_READING, which an application may test for."""
    pair = h.capi_pair()
    pair.handshake()
    pair.link.c2s.closed = True
    pair.settle()
    call(h, "ERR_clear_error")
    ret, _ = call(h, "SSL_read", pair.server.ssl, 10)
    assert get_error(h, pair.server.ssl, ret) is SSL_ERR
    code = call(h, "ERR_peek_error")
    assert call(h, "ERR_GET_LIB", code) == K.ERR_LIB_SSL, f"library of {code:#x}"
    assert call(h, "ERR_GET_REASON", code) == K.SSL_R_UNEXPECTED_EOF_WHILE_READING, f"reason of {code:#x}"


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_SYSCALL")
def test_connection_reset_is_syscall(h: Harness) -> None:
    """The peer resets the TCP connection (RST): the next read fails with SSL_ERROR_SYSCALL and errno set."""
    api = h.capi
    csock, ssock = tcp_pair()
    with side(api, Role.CLIENT, sock=csock) as client, side(api, Role.SERVER, sock=ssock) as server:
        background = Background(lambda: api.SSL_accept(server.ssl))
        assert call(h, "SSL_connect", client.ssl) == 1
        assert background.join() == 1
        assert call(h, "SSL_write", client.ssl, b"x") == 1
        ssock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        server.close()  # frees the SSL and closes the socket with an RST
        call(h, "ERR_clear_error")
        ret, _ = call(h, "SSL_read", client.ssl, 10)
        code = get_error(h, client.ssl, ret)
        assert code is SYSCALL, f"a reset connection gave SSL_get_error {code} (ret {ret})"
        assert call(h, "errno") in (errno.ECONNRESET, errno.EPIPE), "errno should say what the system reported"


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_X509_LOOKUP",
                     "SSL_CTX_set_client_cert_cb/DESCRIPTION/negative-suspends")
def test_client_cert_callback_asks_to_be_called_again(h: Harness) -> None:
    """A client-certificate callback returning -1 suspends the handshake with WANT_X509_LOOKUP; once it returns 0
    (no certificate), calling SSL_connect again continues the handshake."""
    answers = [-1]

    def callback(ssl: Any) -> int:
        return answers[0]

    pair = h.capi_pair(server=lambda c: c.with_(verify_peer=False))
    # A server that asks for a certificate but does not insist on one.
    call(h, "SSL_set_verify", pair.server.ssl, K.SSL_VERIFY_PEER, None)
    call(h, "SSL_CTX_set_client_cert_cb", pair.client.ctx, callback)
    seen = []
    for _ in range(50):
        ret = call(h, "SSL_connect", pair.client.ssl)
        if ret == 1:
            break
        code = get_error(h, pair.client.ssl, ret)
        seen.append(code)
        if code is SslError.SSL_ERROR_WANT_X509_LOOKUP:
            answers[0] = 0
            continue
        assert code in (WANT_READ, WANT_WRITE), code
        pair.pump.step_link()
        pair.server.do_handshake()
        pair.pump.step_link()
    assert SslError.SSL_ERROR_WANT_X509_LOOKUP in seen, f"codes seen: {seen}"
    assert ret == 1, "the handshake did not continue after the callback gave its answer"


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_CLIENT_HELLO_CB")
def test_client_hello_callback_asks_to_be_called_again(h: Harness) -> None:
    """A ClientHello callback returning SSL_CLIENT_HELLO_RETRY (-1) suspends SSL_accept with
    WANT_CLIENT_HELLO_CB; when it then returns success (1) the handshake completes."""
    answers = [-1]
    pair = h.capi_pair()
    call(h, "SSL_CTX_set_client_hello_cb", pair.server.ctx, lambda ssl: answers[0])
    pair.call(pair.client, lambda e: e.do_handshake())
    pair.pump.step_link()
    ret = call(h, "SSL_accept", pair.server.ssl)
    code = get_error(h, pair.server.ssl, ret)
    assert ret < 0 and code is SslError.SSL_ERROR_WANT_CLIENT_HELLO_CB, f"{ret}, {code}"
    answers[0] = 1
    pair.handshake()


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_ACCEPT",
    "SSL_get_error/RETURN VALUES/want-connect-accept-retry",
)
def test_accept_bio_without_a_client_wants_accept(h: Harness) -> None:
    """An SSL on a non-blocking BIO_s_accept() with no incoming connection yet reports WANT_ACCEPT; once a TLS
    client has connected, calling SSL_accept again accepts it and completes the handshake."""
    api = h.capi
    s = side(api, Role.SERVER)
    client = None
    try:
        bio = call(h, "BIO_new_accept", b"127.0.0.1:0")
        assert bio is not None
        call(h, "BIO_set_nbio_accept", bio, 1)
        assert call(h, "BIO_do_accept", bio) == 1, "setting up the listening socket failed"
        port = int(call(h, "BIO_get_accept_port", bio))
        call(h, "SSL_set_bio", s.ssl, bio, bio)
        ret = call(h, "SSL_accept", s.ssl)
        assert ret < 0 and get_error(h, s.ssl, ret) is SslError.SSL_ERROR_WANT_ACCEPT
        csock = socket.create_connection(("127.0.0.1", port))
        csock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 5, 0))
        client = side(api, Role.CLIENT, sock=csock)
        connecting = Background(partial(api.SSL_connect, client.ssl))
        codes: list[SslError | int] = []
        for _ in range(200):
            ret = call(h, "SSL_accept", s.ssl)
            if ret == 1:
                break
            codes.append(get_error(h, s.ssl, ret))
            assert codes[-1] in (SslError.SSL_ERROR_WANT_ACCEPT, WANT_READ, WANT_WRITE), codes
            select.select([], [], [], 0.01)
        assert ret == 1, f"SSL_accept never completed after the client connected: {codes}"
        assert connecting.join() == 1
    finally:
        s.close()
        if client is not None:
            client.close()


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_CONNECT",
    "SSL_get_error/RETURN VALUES/want-connect-accept-retry",
)
def test_connect_bio_in_progress_wants_connect(h: Harness) -> None:
    """An SSL on a non-blocking BIO_s_connect() whose TCP connect cannot complete yet (the listener's backlog is
    full) reports WANT_CONNECT; once the listener accepts, calling SSL_connect again moves on. From the first
    WANT_CONNECT on (at the latest from two seconds on: _bio.FullListener) a helper thread accepts every connection,
    so a stack whose call waits inside for the TCP connect (libssl 3.0's connect BIO spins until the socket is
    writable, see test_bio_s_connect) returns once the kernel retries the SYN instead of hanging; that wait is judged
    by the BIO_s_connect cases, not here."""
    api = h.capi
    s = side(api, Role.CLIENT)
    try:
        with full_listener() as lst:
            bio = call(h, "BIO_new_connect", f"127.0.0.1:{lst.port}".encode())
            call(h, "BIO_set_nbio", bio, 1)
            call(h, "SSL_set_bio", s.ssl, bio, bio)
            ret = call(h, "SSL_connect", s.ssl)
            first = get_error(h, s.ssl, ret)
            if first in (WANT_READ, WANT_WRITE):
                assert has_peer(call(h, "BIO_get_fd", bio)[1]), (
                    f"SSL_connect went on (SSL_get_error {first}) on a non-blocking connect BIO whose TCP connect "
                    "cannot complete (the listener's queue is full): its socket is not connected (getpeername: "
                    "ENOTCONN)")
                h.not_applicable(f"the kernel completed the TCP connect at once (SSL_get_error {first}); "
                                 "WANT_CONNECT cannot be provoked here")
            assert first is SslError.SSL_ERROR_WANT_CONNECT, f"a connect in progress gave {ret}, SSL_get_error {first}"
            codes: list[SslError | int] = [first]
            lst.release()
            until = time.monotonic() + 12.0  # the kernel retries the SYN 1 s, then 3 s after the first
            while time.monotonic() < until:
                ret = call(h, "SSL_connect", s.ssl)
                codes.append(get_error(h, s.ssl, ret))
                if codes[-1] is not SslError.SSL_ERROR_WANT_CONNECT:
                    break
                select.select([], [], [], 0.02)
            assert codes[-1] in (WANT_READ, WANT_WRITE), f"codes: {codes}"
    finally:
        s.close()


# --- SSL_read / SSL_write: the _ex forms, AUTO_RETRY, write retries ------------------------------------------

@pytest.mark.clauses("SSL_read/RETURN VALUES/1", "SSL_read/RETURN VALUES/0")
def test_read_ex_returns_one_or_zero(h: Harness) -> None:
    """SSL_read_ex returns 1 with the bytes read, and 0 (nothing read) when it has to wait."""
    pair = h.capi_pair()
    pair.handshake()
    ret, data = call(h, "SSL_read_ex", pair.server.ssl, 10)
    assert ret == 0 and data == b"" and get_error(h, pair.server.ssl, ret) is WANT_READ
    pair.drive(client=lambda e: e.write(b"hello"))
    ret, data = call(h, "SSL_read_ex", pair.server.ssl, 10)
    assert ret == 1 and data == b"hello"


@pytest.mark.clauses("SSL_write/RETURN VALUES/1", "SSL_write/RETURN VALUES/0", "SSL_write/RETURN VALUES/<=0")
def test_write_ex_and_write_return_values(h: Harness) -> None:
    """SSL_write_ex returns 1 and the count when everything was written, 0 when it has to wait; SSL_write
    returns a value <= 0 in the same situation."""
    pair = h.capi_pair(client=lambda c: c.with_(write_buffer=512))
    pair.handshake()
    ret, written = call(h, "SSL_write_ex", pair.client.ssl, b"small")
    assert ret == 1 and written == 5
    pair.settle()
    big = h.rng.randbytes(20_000)
    ret, written = call(h, "SSL_write_ex", pair.client.ssl, big)
    assert ret == 0 and get_error(h, pair.client.ssl, ret) is WANT_WRITE, (ret, written)
    other = h.capi_pair(client=lambda c: c.with_(write_buffer=512))
    other.handshake()
    ret = call(h, "SSL_write", other.client.ssl, big)
    assert ret <= 0 and get_error(h, other.client.ssl, ret) is WANT_WRITE


@pytest.mark.clauses("SSL_write/WARNINGS/moving-buffer")
def test_retry_from_a_moved_buffer_with_the_mode(h: Harness) -> None:
    """With SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER a write that must be retried may be retried with the same bytes at
    another address, and it completes. (What happens without the mode is not documented and not asserted.)"""
    pair = h.capi_pair(client=lambda c: c.with_(write_buffer=512))
    pair.handshake()
    call(h, "SSL_set_mode", pair.client.ssl, K.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
    data = h.rng.randbytes(20_000)
    ret = call(h, "SSL_write", pair.client.ssl, data)
    assert ret <= 0 and get_error(h, pair.client.ssl, ret) is WANT_WRITE
    for _ in range(1000):
        pair.pump.step_link()
        pair.call(pair.server, lambda e: e.read(65536))
        call(h, "ERR_clear_error")
        ret = call(h, "SSL_write", pair.client.ssl, data, moved=True)
        if ret > 0 or get_error(h, pair.client.ssl, ret) is not WANT_WRITE:
            break
    assert ret == len(data), f"the retried write from a moved buffer ended with {ret}"


def _with_ticket_then_data(h: Harness, auto_retry: bool) -> tuple[CApiPair, list[Any]]:
    pair = h.capi_pair(client=lambda c: c.with_(min_version="TLSv1.3"))
    name = "SSL_set_mode" if auto_retry else "SSL_clear_mode"
    call(h, name, pair.client.ssl, K.SSL_MODE_AUTO_RETRY)
    pair.handshake()  # the server's session tickets are now in the client's BIO
    pair.drive(server=lambda e: e.write(b"after the tickets"))
    results = []
    for _ in range(3):
        ret, data = call(h, "SSL_read", pair.client.ssl, 100)
        results.append((ret, data, get_error(h, pair.client.ssl, ret)))
        if ret > 0:
            break
    return pair, results


@pytest.mark.clauses("SSL_read/NOTES/auto-retry-off-want-read")
def test_auto_retry_off_returns_after_a_non_application_record(h: Harness) -> None:
    """With SSL_MODE_AUTO_RETRY cleared, a read that processes a NewSessionTicket returns WANT_READ although
    application data follows in the BIO; the next read returns it. With the mode set the first read does."""
    _, off = _with_ticket_then_data(h, auto_retry=False)
    _, on = _with_ticket_then_data(h, auto_retry=True)
    assert on[0][0] > 0 and on[0][1] == b"after the tickets", f"with AUTO_RETRY: {on}"
    assert off[0][0] <= 0 and off[0][2] is WANT_READ, f"without AUTO_RETRY the first read: {off[0]}"
    assert off[-1][1] == b"after the tickets", f"the data must follow on a later read: {off}"


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/want-read-blocking-unprocessed",
    "SSL_read/NOTES/blocking-auto-retry-hang",
)
def test_blocking_read_and_non_application_records(h: Harness) -> None:
    """On a blocking socket, a TLS 1.3 client reading right after the handshake first meets the server's session
    tickets. With AUTO_RETRY cleared the read returns WANT_READ even though the socket blocks; with AUTO_RETRY set
    the read keeps waiting past the tickets until application data comes."""
    api = h.capi
    for auto_retry in (False, True):
        csock, ssock = tcp_pair()
        with (
            side(api, Role.CLIENT, sock=csock, adjust=lambda c: c.with_(min_version="TLSv1.3")) as client,
            side(api, Role.SERVER, sock=ssock) as server,
        ):
            (api.SSL_set_mode if auto_retry else api.SSL_clear_mode)(client.ssl, K.SSL_MODE_AUTO_RETRY)
            background = Background(partial(api.SSL_accept, server.ssl))
            assert call(h, "SSL_connect", client.ssl) == 1
            assert background.join() == 1  # the server has sent its tickets
            reader = Background(partial(api.SSL_read, client.ssl, 100))
            reader.thread.join(0.5)
            if not auto_retry:
                ret, _ = reader.join()
                assert ret <= 0 and get_error(h, client.ssl, ret) is WANT_READ, ret
            else:
                assert reader.thread.is_alive(), "with AUTO_RETRY the read returned while only tickets had come"
                assert call(h, "SSL_write", server.ssl, b"wake up") == 7
                ret, data = reader.join()
                assert ret == 7 and data == b"wake up"


@pytest.mark.clauses("SSL_write/DESCRIPTION/sendfile-needs-ktls", "SSL_write/RETURN VALUES/<0")
def test_sendfile_without_kernel_tls_fails(h: Harness, tmp_path: Any) -> None:
    """SSL_sendfile needs kernel TLS for sending; on a connection without it the call fails (< 0)."""
    pair = h.capi_pair()
    pair.handshake()
    path = tmp_path / "payload"
    path.write_bytes(b"x" * 1000)
    with path.open("rb") as fh:
        call(h, "ERR_clear_error")
        ret = call(h, "SSL_sendfile", pair.client.ssl, fh.fileno(), 0, 1000, 0)
    assert ret < 0, f"SSL_sendfile without kernel TLS returned {ret}"
    assert get_error(h, pair.client.ssl, ret) in (SSL_ERR, SYSCALL)


@pytest.mark.clauses("SSL_write/RETURN VALUES/1", "SSL_write/NOTES/partial-write-mode",
                     "SSL_write/NOTES/partial-write-one-record")
@pytest.mark.needs("partial_write")
def test_write_ex_in_partial_write_mode_reports_what_it_wrote(h: Harness) -> None:
    """With SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write_ex of 100 000 bytes returns 1 with ``written`` between 1 and one
    record (16 KiB) and short of the whole; the peer then reads exactly the first ``written`` bytes, and further
    calls with the rest deliver everything, each reporting the count that really arrived."""
    pair = h.capi_pair(client=lambda c: c.with_(partial_write=True))
    pair.handshake()
    data = h.rng.randbytes(100_000)
    sent = calls = 0
    while sent < len(data):
        ret, written = call(h, "SSL_write_ex", pair.client.ssl, data[sent:])
        assert ret == 1 and 0 < written <= min(16384, len(data) - sent), (
            f"SSL_write_ex of {len(data) - sent} bytes in partial-write mode -> ({ret}, written {written})")
        pair.settle()
        got = bytearray()
        while len(got) < written:
            n, chunk = call(h, "SSL_read_ex", pair.server.ssl, written - len(got))
            assert n == 1, f"the peer read {len(got)} of the {written} bytes SSL_write_ex reported, then {n}"
            got += chunk
        assert bytes(got) == data[sent:sent + written], "the peer received other bytes than SSL_write_ex reported"
        n, extra = call(h, "SSL_read_ex", pair.server.ssl, 1)
        assert n == 0 and get_error(h, pair.server.ssl, n) is WANT_READ, (
            f"more arrived than the {written} bytes SSL_write_ex reported: {extra!r}")
        sent += written
        calls += 1
    assert calls > 1, f"partial-write mode wrote all {len(data)} bytes in one call"
