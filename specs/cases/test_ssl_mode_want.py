"""Cases for SSL_CTX_set_mode and friends (the mode bits and what each mode does) and for SSL_want and its
shortcuts. The partial-write cases use the normalised endpoint; the rest need the C API."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from conformance.pump import writes
from specs.cases._capi import Background, side, tcp_pair
from specs.cases._renegotiation import tls12_pair
from specs.cases._ssl_objects import (
    WANT,
    Mem,
    corrupt_record,
    error,
    handshake,
    handshake_until,
    move,
    ssl_ctx,
    ssl_obj,
)

C_API = ("c_api", "client_role", "server_role")
AUTO_RETRY = K.SSL_MODE_AUTO_RETRY
PARTIAL = K.SSL_MODE_ENABLE_PARTIAL_WRITE
MOVING = K.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
WANT_READ, WANT_WRITE = SslError.SSL_ERROR_WANT_READ, SslError.SSL_ERROR_WANT_WRITE
TLS_FALLBACK_SCSV = b"\x56\x00"


# --- the mode bits --------------------------------------------------------------------------------------------

@pytest.mark.clauses(
    "SSL_CTX_set_mode/DESCRIPTION/set-adds-bits",
    "SSL_CTX_set_mode/DESCRIPTION/clear-removes-bits",
    "SSL_CTX_set_mode/DESCRIPTION/get-reports-mode",
    "SSL_CTX_set_mode/NOTES/defaults",
    "SSL_CTX_set_mode/RETURN VALUES/set-returns-new-mask",
    "SSL_CTX_set_mode/RETURN VALUES/get-returns-mask",
)
@pytest.mark.needs(*C_API)
def test_mode_bits(h: Harness) -> None:
    """Defaults (AUTO_RETRY only), set adds and returns the new mask, clear removes only the bits given, get
    reports; on the context and on an object alike."""
    api = h.capi
    with ssl_ctx(h, api.TLS_method()) as ctx, ssl_obj(h, ctx) as ssl:
        for name, obj, set_, clear, get in (
            ("SSL_CTX", ctx, api.SSL_CTX_set_mode, api.SSL_CTX_clear_mode, api.SSL_CTX_get_mode),
            ("SSL", ssl, api.SSL_set_mode, api.SSL_clear_mode, api.SSL_get_mode),
        ):
            assert get(obj) == AUTO_RETRY, f"{name}: default mode {get(obj):#x}, expected AUTO_RETRY only"
            assert set_(obj, PARTIAL) == AUTO_RETRY | PARTIAL
            assert set_(obj, MOVING) == AUTO_RETRY | PARTIAL | MOVING, "bits set before must stay set"
            assert get(obj) == AUTO_RETRY | PARTIAL | MOVING
            clear(obj, PARTIAL | AUTO_RETRY)
            assert get(obj) == MOVING, f"{name}: after clearing PARTIAL|AUTO_RETRY the mode is {get(obj):#x}"


@pytest.mark.clauses("SSL_CTX_set_mode/NOTES/partial-write")
@pytest.mark.needs("partial_write")
def test_partial_write_mode_succeeds_after_one_record(h: Harness) -> None:
    """With SSL_MODE_ENABLE_PARTIAL_WRITE a 40000-byte write succeeds with 0 < r < 40000 (one record); writing
    the rest from offset r delivers every byte once, in order."""
    pair = h.pair(client=lambda c: c.with_(partial_write=True))
    pair.handshake()
    data = h.rng.randbytes(40000)
    first = pair.call(pair.client, lambda e: e.write(data))
    assert first.ok and 0 < first.ret < len(data), f"expected a partial success: {first}"
    assert first.ret <= 16384, f"one record carries at most 16384 bytes: {first}"
    sent = first.ret
    while sent < len(data):
        out = pair.drive(client=writes(data[sent:])).client
        assert out is not None and out.ok and out.ret > 0, out
        sent += out.ret
    pair.settle()
    got = bytearray()
    while len(got) < len(data):
        out = pair.drive(server=lambda e: e.read(65536)).server
        assert out is not None and out.ok, out
        got += out.data
    assert bytes(got) == data


@pytest.mark.clauses("SSL_CTX_set_mode/NOTES/whole-write-by-default")
def test_default_mode_writes_the_whole_buffer(h: Harness) -> None:
    """Without SSL_MODE_ENABLE_PARTIAL_WRITE (the library default) a 40000-byte write reports 40000."""
    pair = h.pair()
    pair.handshake()
    out = pair.drive(client=lambda e: e.write(b"w" * 40000)).client
    assert out is not None and out.ok and out.ret == 40000, f"the default must write the whole buffer: {out}"


def _moved_retry(h: Harness, with_mode: bool) -> tuple[int, Any]:
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(write_buffer=4096))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    if with_mode:
        api.SSL_set_mode(client.ssl, MOVING)
    data = b"m" * 40000
    ret = api.SSL_write(client.ssl, data)
    assert ret <= 0 and error(api, client.ssl, ret) is WANT_WRITE, ret
    for _ in range(100):
        move(client, server)
        while api.SSL_read(server.ssl, 65536)[0] > 0:
            pass
        api.ERR_clear_error()
        ret = api.SSL_write(client.ssl, data, moved=True)
        if ret > 0 or error(api, client.ssl, ret) not in WANT:
            break
    return ret, error(api, client.ssl, ret) if ret <= 0 else SslError.SSL_ERROR_NONE


@pytest.mark.clauses("SSL_CTX_set_mode/NOTES/moving-write-buffer")
@pytest.mark.needs(*C_API, "bounded_write_buffer")
def test_moved_write_buffer_needs_the_mode(h: Harness) -> None:
    """A write stuck on WANT_WRITE, repeated with the same bytes from another address: completes with
    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, does not complete without it (the default)."""
    ret, code = _moved_retry(h, with_mode=True)
    assert ret == 40000, f"with the mode the moved retry must complete: {ret} ({code})"
    ret, code = _moved_retry(h, with_mode=False)
    h.trace.note(f"moved retry without the mode -> {ret} ({code})")
    assert ret <= 0, "without the mode a retry from a moved buffer must not succeed"
    h.capi.ERR_clear_error()


def _ticket_then_data(h: Harness, auto_retry: bool, data: bytes) -> tuple[Mem, Mem]:
    """TLS 1.3: the client's handshake ends before the server's tickets arrive; the server then writes ``data``
    (if any); everything is moved to the client, whose AUTO_RETRY is set as asked."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version="TLSv1.3"))
    server = Mem(h, Role.SERVER)
    (api.SSL_set_mode if auto_retry else api.SSL_clear_mode)(client.ssl, AUTO_RETRY)
    handshake(h, client, server)  # the tickets now wait, unread, in the client's BIO
    if data:
        assert api.SSL_write(server.ssl, data) == len(data)
    move(client, server)
    return client, server


@pytest.mark.clauses(
    "SSL_CTX_set_mode/NOTES/no-auto-retry-want-read",
    "SSL_CTX_set_mode/NOTES/auto-retry-next-record",
    "SSL_CTX_set_mode/NOTES/auto-retry-non-blocking",
)
@pytest.mark.needs(*C_API, "tls1_3")
def test_auto_retry_on_a_non_blocking_transport(h: Harness) -> None:
    """Ticket records followed by application data: without AUTO_RETRY the first read returns WANT_READ after a
    ticket; with it the read returns the data at once. With only tickets waiting, AUTO_RETRY processes all of them
    and then reports WANT_READ with the transport drained."""
    api = h.capi
    client, _ = _ticket_then_data(h, auto_retry=False, data=b"hello")
    ret, _ = api.SSL_read(client.ssl, 100)
    h.trace.note(f"without AUTO_RETRY: first SSL_read -> {ret}")
    assert ret <= 0 and error(api, client.ssl, ret) is WANT_READ, "without AUTO_RETRY a ticket must end the read"
    for _ in range(5):
        ret, got = api.SSL_read(client.ssl, 100)
        if ret > 0:
            break
    assert got == b"hello", "the data must follow on a later read"
    client, _ = _ticket_then_data(h, auto_retry=True, data=b"hello")
    ret, got = api.SSL_read(client.ssl, 100)
    assert ret == 5 and got == b"hello", f"with AUTO_RETRY the read must go on to the data: {ret}"
    client, _ = _ticket_then_data(h, auto_retry=True, data=b"")
    ret, _ = api.SSL_read(client.ssl, 100)
    assert ret <= 0 and error(api, client.ssl, ret) is WANT_READ
    assert api.BIO_ctrl_pending(api.SSL_get_rbio(client.ssl)) == 0, "every ticket record must have been processed"


@pytest.mark.clauses("SSL_CTX_set_mode/NOTES/no-auto-retry-renegotiation-reads-on")
@pytest.mark.states("established")
@pytest.mark.needs(*C_API, "tls1_2", "renegotiation")
def test_no_auto_retry_reads_past_a_hello_request(h: Harness) -> None:
    """TLS 1.2, the client without AUTO_RETRY: the server's HelloRequest and application data behind it arrive
    together; the client's first SSL_read answers the request and returns the data."""
    api = h.capi
    client, server = tls12_pair(h)
    api.SSL_clear_mode(client.ssl, K.SSL_MODE_AUTO_RETRY)
    assert api.SSL_renegotiate(server.ssl) == 1
    ret = api.SSL_do_handshake(server.ssl)
    assert ret == 1 or error(api, server.ssl, ret) in WANT, f"the server's HelloRequest: {ret}"
    assert api.SSL_write(server.ssl, b"behind the request") == 18
    move(client, server)
    ret, got = api.SSL_read(client.ssl, 100)
    h.trace.note(f"client SSL_read without AUTO_RETRY after HelloRequest + data -> {ret} "
                 f"({error(api, client.ssl, ret) if ret <= 0 else got!r})")
    assert (ret, got) == (18, b"behind the request"), (
        f"the first read must answer the request and return the data: {ret} ({error(api, client.ssl, ret)})")
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_CTX_set_mode/NOTES/no-auto-retry-server-stops-after-client-hello")
@pytest.mark.states("established")
@pytest.mark.needs(*C_API, "tls1_2", "renegotiation")
def test_no_auto_retry_server_stops_after_a_declined_client_hello(h: Harness) -> None:
    """TLS 1.2, the server without AUTO_RETRY and without SSL_OP_ALLOW_CLIENT_RENEGOTIATION: the client's
    renegotiating ClientHello arrives with a record behind it (the client met the end of its input and sent a
    fatal alert). The server's SSL_read declines the ClientHello and stops there: SSL_ERROR_WANT_READ, the alert
    still in the read BIO."""
    api = h.capi
    client, server = tls12_pair(h, server_options=0)
    api.SSL_clear_mode(server.ssl, K.SSL_MODE_AUTO_RETRY)
    assert api.SSL_renegotiate(client.ssl) == 1
    client.put_eof()
    ret = api.SSL_write(client.ssl, b"x")
    assert ret <= 0, f"the client met the end of its input: {ret}"
    api.ERR_clear_error()
    flight = client.take()
    assert flight[:1] == b"\x16" and len(flight) > 5 + int.from_bytes(flight[3:5], "big"), (
        "the ClientHello and a record behind it")
    server.give(flight)
    ret, got = api.SSL_read(server.ssl, 100)
    h.trace.note(f"server SSL_read without AUTO_RETRY after a declined ClientHello + alert -> {ret} "
                 f"({error(api, server.ssl, ret) if ret <= 0 else got!r})")
    assert ret <= 0 and error(api, server.ssl, ret) is WANT_READ, (
        f"the read must stop after the ClientHello: {ret} ({error(api, server.ssl, ret) if ret <= 0 else got!r})")
    assert api.BIO_ctrl_pending(api.SSL_get_rbio(server.ssl)) > 0, "the alert must wait in the read BIO"
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_CTX_set_mode/NOTES/auto-retry-blocking")
@pytest.mark.needs(*C_API, "tls1_3")
def test_auto_retry_on_a_blocking_socket_returns_with_data(h: Harness) -> None:
    """Blocking sockets, AUTO_RETRY on (default): the server's tickets arrive, its data only 0.3 s later; the
    client's single SSL_read returns that data, not a retry."""
    api = h.capi
    csock, ssock = tcp_pair()
    with (
        side(api, Role.CLIENT, sock=csock, adjust=lambda c: c.with_(min_version="TLSv1.3")) as client,
        side(api, Role.SERVER, sock=ssock) as server,
    ):
        def serve() -> int:
            assert api.SSL_accept(server.ssl) == 1
            time.sleep(0.3)
            return int(api.SSL_write(server.ssl, b"late"))

        background = Background(serve)
        assert api.SSL_connect(client.ssl) == 1
        ret, got = api.SSL_read(client.ssl, 100)
        assert background.join() == 4
        assert ret == 4 and got == b"late", f"SSL_read -> {ret} ({error(api, client.ssl, ret) if ret <= 0 else ''})"


@pytest.mark.clauses("SSL_CTX_set_mode/NOTES/no-auto-retry-with-select")
@pytest.mark.needs(*C_API, "tls1_3")
def test_no_auto_retry_on_a_blocking_socket_returns_after_tickets(h: Harness) -> None:
    """Blocking sockets, AUTO_RETRY off, the server sends only its tickets: the client's SSL_read returns a retry
    (WANT_READ) instead of waiting for application data that never comes."""
    api = h.capi
    csock, ssock = tcp_pair()
    client = side(api, Role.CLIENT, sock=csock, adjust=lambda c: c.with_(min_version="TLSv1.3"))
    server = side(api, Role.SERVER, sock=ssock)
    api.SSL_clear_mode(client.ssl, AUTO_RETRY)
    release = threading.Event()
    try:
        def serve() -> None:
            assert api.SSL_accept(server.ssl) == 1
            release.wait(5.0)

        background = Background(serve)
        assert api.SSL_connect(client.ssl) == 1
        started = time.monotonic()
        ret, _ = api.SSL_read(client.ssl, 100)
        waited = time.monotonic() - started
        code = error(api, client.ssl, ret)
        release.set()
        background.join()
        h.trace.note(f"SSL_read -> {ret} ({code}) after {waited:.2f} s")
        assert ret <= 0 and code is WANT_READ and waited < 2.0, (ret, code, waited)
    finally:
        release.set()
        client.close()
        server.close()


@pytest.mark.clauses("SSL_CTX_set_mode/NOTES/release-buffers-works")
@pytest.mark.needs(*C_API)
def test_release_buffers_mode_keeps_the_connection_working(h: Harness) -> None:
    api = h.capi
    client = Mem(h, Role.CLIENT, before_new=lambda ctx: api.SSL_CTX_set_mode(ctx, K.SSL_MODE_RELEASE_BUFFERS))
    server = Mem(h, Role.SERVER, before_new=lambda ctx: api.SSL_CTX_set_mode(ctx, K.SSL_MODE_RELEASE_BUFFERS))
    h.trace.note(f"client mode {api.SSL_get_mode(client.ssl):#x}")
    handshake(h, client, server)
    for i in range(3):
        for a, b in ((client, server), (server, client)):
            message = f"idle and busy {i}".encode()
            assert api.SSL_write(a.ssl, message) == len(message)
            move(client, server)
            assert api.SSL_read(b.ssl, 100) == (len(message), message)


def _cipher_suites(hello: bytes) -> list[bytes]:
    """The cipher suites of a ClientHello record (one record, one handshake message)."""
    assert hello[0] == 0x16 and hello[5] == 0x01, "not a ClientHello record"
    at = 5 + 4 + 2 + 32
    at += 1 + hello[at]  # session id
    length = int.from_bytes(hello[at:at + 2], "big")
    body = hello[at + 2:at + 2 + length]
    return [body[i:i + 2] for i in range(0, len(body), 2)]


@pytest.mark.clauses("SSL_CTX_set_mode/NOTES/send-fallback-scsv")
@pytest.mark.needs(*C_API)
def test_fallback_scsv_in_the_client_hello(h: Harness) -> None:
    api = h.capi
    seen = {}
    for mode in (False, True):
        client = Mem(h, Role.CLIENT)
        if mode:
            api.SSL_set_mode(client.ssl, K.SSL_MODE_SEND_FALLBACK_SCSV)
        api.SSL_do_handshake(client.ssl)
        seen[mode] = TLS_FALLBACK_SCSV in _cipher_suites(client.take())
    assert seen == {False: False, True: True}, f"TLS_FALLBACK_SCSV in the ClientHello (without, with): {seen}"


def _tls12_client_handshake(h: Harness, scsv: bool) -> tuple[str, bytes]:
    """A client limited to TLS 1.2 (signalling fallback if ``scsv``) against a server that supports TLS 1.3, both
    stepped with SSL_do_handshake: ("", b"") when both complete, else the side whose call failed for good and what
    that failing call wrote (its alert), or ("stalled", b"")."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    if scsv:
        api.SSL_set_mode(client.ssl, K.SSL_MODE_SEND_FALLBACK_SCSV)
    server = Mem(h, Role.SERVER)
    done = {"client": False, "server": False}
    for _ in range(20):
        for name, s in (("client", client), ("server", server)):
            ret = api.SSL_do_handshake(s.ssl)
            if ret == 1:
                done[name] = True
            elif error(api, s.ssl, ret) not in WANT:
                return name, s.take()
        if all(done.values()):
            return "", b""
        if not move(client, server):
            break
    return "stalled", b""


@pytest.mark.clauses("SSL_CTX_set_mode/NOTES/fallback-scsv-only-for-retries")
@pytest.mark.needs(*C_API, "tls1_2", "tls1_3")
def test_fallback_scsv_breaks_a_normal_handshake(h: Harness) -> None:
    """A client limited to TLS 1.2 completes a handshake with a server that supports TLS 1.3; the same client
    signalling fallback is refused by that server, which sends a fatal inappropriate_fallback alert (86; RFC 7507
    section 3, the value is in RFC 9846's AlertDescription) instead of a ServerHello."""
    api = h.capi
    failed, _ = _tls12_client_handshake(h, scsv=False)
    api.ERR_clear_error()
    assert failed == "", f"without the mode the TLS 1.2 handshake must complete: {failed or 'ok'}"
    failed, wire = _tls12_client_handshake(h, scsv=True)
    api.ERR_clear_error()
    h.trace.note(f"with the fallback signal: {failed or 'completed'} failed, wrote {wire.hex()}")
    assert failed == "server", f"the server must refuse a fallback signal when it supports a higher version: " \
        f"{failed or 'both completed'}"
    assert wire[:1] == b"\x15" and wire[5:7] == b"\x02\x56", \
        f"the refusing server's output is not a fatal inappropriate_fallback alert: {wire[:8].hex()}"


# --- SSL_want -------------------------------------------------------------------------------------------------

_SHORTCUTS = {
    K.SSL_NOTHING: "SSL_want_nothing", K.SSL_READING: "SSL_want_read", K.SSL_WRITING: "SSL_want_write",
    K.SSL_X509_LOOKUP: "SSL_want_x509_lookup", K.SSL_RETRY_VERIFY: "SSL_want_retry_verify",
    K.SSL_ASYNC_PAUSED: "SSL_want_async", K.SSL_ASYNC_NO_JOBS: "SSL_want_async_job",
    K.SSL_CLIENT_HELLO_CB: "SSL_want_client_hello_cb",
}


def _expect_want(h: Harness, ssl: Any, state: int, code: SslError | None = None, ret: int | None = None) -> None:
    api = h.capi
    got = api.SSL_want(ssl)
    assert got == state, f"SSL_want -> {got}, expected {state}"
    flags = {name: getattr(api, name)(ssl) for name in _SHORTCUTS.values()}
    wanted = {name: int(value == state) for value, name in _SHORTCUTS.items()}
    assert flags == wanted, f"shortcuts {flags}, expected {wanted}"
    if code is not None and ret is not None:
        assert error(api, ssl, ret) is code, f"SSL_get_error disagrees with SSL_want {state}"


@pytest.mark.clauses(
    "SSL_want/DESCRIPTION/state-information",
    "SSL_want/DESCRIPTION/shortcuts",
    "SSL_want/NOTES/consistent-with-get-error",
    "SSL_want/RETURN VALUES/SSL_NOTHING",
    "SSL_want/RETURN VALUES/SSL_WRITING",
    "SSL_want/RETURN VALUES/SSL_READING",
    "SSL_want/RETURN VALUES/shortcut-1-or-0",
)
@pytest.mark.needs(*C_API)
def test_want_reading_writing_nothing(h: Harness) -> None:
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(write_buffer=4096))
    server = Mem(h, Role.SERVER)
    _expect_want(h, client.ssl, K.SSL_NOTHING)
    handshake(h, client, server)
    ret, _ = api.SSL_read(server.ssl, 10)
    _expect_want(h, server.ssl, K.SSL_READING, WANT_READ, ret)
    data = b"f" * 40000
    ret = api.SSL_write(client.ssl, data)
    _expect_want(h, client.ssl, K.SSL_WRITING, WANT_WRITE, ret)
    for _ in range(50):
        move(client, server)
        ret, _ = api.SSL_read(server.ssl, 100)
        if ret > 0:
            break
        api.SSL_write(client.ssl, data)
    assert ret > 0
    _expect_want(h, server.ssl, K.SSL_NOTHING, SslError.SSL_ERROR_NONE, ret)


@pytest.mark.clauses("SSL_want/NOTES/state-flag-not-error-queue")
@pytest.mark.needs(*C_API)
def test_want_ignores_the_error_queue(h: Harness) -> None:
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    api.SSL_read(server.ssl, 10)
    assert api.SSL_want(server.ssl) == K.SSL_READING
    api.SSL_CTX_use_certificate_file(server.ctx, b"/nonexistent/cert.pem", K.SSL_FILETYPE_PEM)
    h.trace.note(f"error queue now holds {api.ERR_peek_error():#x}")
    assert api.SSL_want(server.ssl) == K.SSL_READING, "an entry on the error queue changed SSL_want"
    api.ERR_clear_error()
    assert api.SSL_want(server.ssl) == K.SSL_READING, "clearing the error queue changed SSL_want"


@pytest.mark.clauses("SSL_want/RETURN VALUES/SSL_X509_LOOKUP")
@pytest.mark.needs(*C_API, "client_certificates")
def test_want_x509_lookup(h: Harness) -> None:
    api = h.capi
    client = Mem(h, Role.CLIENT)
    server = Mem(h, Role.SERVER, adjust=lambda c: c.with_(verify_peer=True))
    api.SSL_CTX_set_client_cert_cb(client.ctx, lambda ssl: -1)
    for _ in range(20):
        ret = api.SSL_do_handshake(client.ssl)
        if error(api, client.ssl, ret) is not WANT_READ:
            break
        move(client, server)
        api.SSL_do_handshake(server.ssl)
        move(client, server)
    _expect_want(h, client.ssl, K.SSL_X509_LOOKUP, SslError.SSL_ERROR_WANT_X509_LOOKUP, ret)


@pytest.mark.clauses("SSL_want/RETURN VALUES/SSL_CLIENT_HELLO_CB")
@pytest.mark.needs(*C_API)
def test_want_client_hello_cb(h: Harness) -> None:
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    api.SSL_CTX_set_client_hello_cb(server.ctx, lambda ssl: -1)
    handshake_until(h, client, server, "client-hello-received")
    ret = api.SSL_do_handshake(server.ssl)
    _expect_want(h, server.ssl, K.SSL_CLIENT_HELLO_CB, SslError.SSL_ERROR_WANT_CLIENT_HELLO_CB, ret)


@pytest.mark.clauses("SSL_want/RETURN VALUES/SSL_RETRY_VERIFY")
@pytest.mark.needs(*C_API)
def test_want_retry_verify(h: Harness) -> None:
    """A certificate verification callback that asks for a retry once (SSL_set_retry_verify): the client's
    handshake pauses with SSL_RETRY_VERIFY / SSL_ERROR_WANT_RETRY_VERIFY, and the repeated call completes."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    calls: list[int] = []

    def verify() -> int:
        calls.append(1)
        if len(calls) == 1:
            assert api.SSL_set_retry_verify(client.ssl) == 1
        return 1  # OpenSSL 3.0 pauses only when the callback succeeds with the retry flag set

    api.SSL_CTX_set_cert_verify_callback(client.ctx, verify)
    ret = None
    for _ in range(20):
        ret = api.SSL_do_handshake(client.ssl)
        if error(api, client.ssl, ret) is not WANT_READ:
            break
        move(client, server)
        api.SSL_do_handshake(server.ssl)
        move(client, server)
    assert ret is not None
    _expect_want(h, client.ssl, K.SSL_RETRY_VERIFY, SslError.SSL_ERROR_WANT_RETRY_VERIFY, ret)
    handshake(h, client, server)
    assert len(calls) == 2


@pytest.mark.clauses("SSL_want/NOTES/only-for-non-blocking-normal-operation")
@pytest.mark.needs(*C_API)
def test_want_does_not_report_errors(h: Harness) -> None:
    """After a fatal error SSL_get_error says SSL_ERROR_SSL; SSL_want has no value for errors (it reports one of
    its ordinary states), so only SSL_get_error tells the caller about the failure."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    corrupt_record(h, client, server)
    api.ERR_clear_error()
    ret, _ = api.SSL_read(server.ssl, 100)
    code = error(api, server.ssl, ret)
    state = api.SSL_want(server.ssl)
    h.trace.note(f"SSL_read -> {ret}, SSL_get_error {code}, SSL_want {state}")
    assert code is SslError.SSL_ERROR_SSL
    assert state in _SHORTCUTS, f"SSL_want returned {state}, which is none of its documented values"
    api.ERR_clear_error()
