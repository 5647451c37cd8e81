"""engine.ssl.connection's retry rules: WANT_READ / WANT_WRITE through the BIO retry flags, write retries with the
same arguments, partial writes, AUTO_RETRY, EOF handling, stale queues and the failed state."""

from __future__ import annotations

from typing import Any

import engine.bio as B
import engine.ssl as E
from conformance.certs import default_pki
from engine import err
from engine.ssl import constants as K


def _ctx(server: bool) -> Any:
    pki = default_pki()
    ctx = E.SSL_CTX_new(E.TLS_server_method() if server else E.TLS_client_method())
    E.SSL_CTX_load_verify_locations(ctx, str(pki.ca_path).encode(), None)
    if server:
        E.SSL_CTX_use_certificate_file(ctx, str(pki.server.cert_path).encode(), K.SSL_FILETYPE_PEM)
        E.SSL_CTX_use_PrivateKey_file(ctx, str(pki.server.key_path).encode(), K.SSL_FILETYPE_PEM)
    return ctx


class End:
    def __init__(self, server: bool, size: int = 0) -> None:
        err.ERR_clear_error()
        self.ssl = E.SSL_new(_ctx(server))
        _, inner, self.net = B.BIO_new_bio_pair(size, 0)
        E.SSL_set_bio(self.ssl, inner, inner)
        (E.SSL_set_accept_state if server else E.SSL_set_connect_state)(self.ssl)

    def take(self) -> bytes:
        n = B.BIO_ctrl_pending(self.net)
        return B.BIO_read(self.net, n)[1] if n else b""

    def give(self, data: bytes) -> int:
        return max(0, B.BIO_write(self.net, data)) if data else 0


def move(a: End, b: End) -> None:
    b.give(a.take())
    a.give(b.take())


def pair(client_size: int = 0, server_size: int = 0) -> tuple[End, End]:
    c, s = End(False, client_size), End(True, server_size)
    done = [0, 0]
    for _ in range(100):
        for i, e in enumerate((c, s)):
            if done[i] != 1:
                done[i] = E.SSL_do_handshake(e.ssl)
        move(c, s)
        if done == [1, 1]:
            return c, s
    raise AssertionError(done)


def drain(c: End, s: End) -> bytes:
    got = bytearray()
    move(c, s)
    while True:
        ret, data = E.SSL_read(s.ssl, 1 << 16)
        if ret <= 0:
            return bytes(got)
        got += data


def test_want_read_comes_from_the_read_bio() -> None:
    _c, s = pair()
    ret, _ = E.SSL_read(s.ssl, 10)
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_WANT_READ
    assert E.SSL_want_read(s.ssl) == 1 and B.BIO_should_read(E.SSL_get_rbio(s.ssl)) == 1
    assert E.SSL_get_error(s.ssl, 1) == K.SSL_ERROR_NONE


def test_want_write_then_same_arguments_complete() -> None:
    c, s = pair(client_size=512)
    data = bytes(range(256)) * 80
    ret = E.SSL_write(c.ssl, data)
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_WANT_WRITE and E.SSL_want_write(c.ssl)
    got = bytearray()
    for _ in range(1000):
        got += drain(c, s)
        ret = E.SSL_write(c.ssl, data)
        if ret > 0:
            break
        assert E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_WANT_WRITE
    assert ret == len(data)
    got += drain(c, s)
    assert bytes(got) == data


def test_shorter_retry_is_bad_length() -> None:
    c, _s = pair(client_size=512)
    data = b"z" * 20000
    assert E.SSL_write(c.ssl, data) == -1
    err.ERR_clear_error()
    ret = E.SSL_write(c.ssl, data[:100])
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_SSL
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_BAD_LENGTH
    err.ERR_clear_error()
    ret, _ = E.SSL_read(c.ssl, 10)  # the SSL stays failed
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_SSL
    err.ERR_clear_error()


def test_moved_buffer_needs_the_mode() -> None:
    c, s = pair(client_size=512)
    data = b"m" * 20000
    assert E.SSL_write(c.ssl, data) == -1
    err.ERR_clear_error()
    ret = E.SSL_write(c.ssl, data, moved=True)
    assert ret == -1 and err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_BAD_WRITE_RETRY
    err.ERR_clear_error()
    c, s = pair(client_size=512)
    E.SSL_set_mode(c.ssl, K.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
    assert E.SSL_write(c.ssl, data) == -1
    for _ in range(1000):
        drain(c, s)
        ret = E.SSL_write(c.ssl, data, moved=True)
        if ret > 0:
            break
    assert ret == len(data)


def test_partial_writes_cover_one_record() -> None:
    c, s = pair()
    E.SSL_set_mode(c.ssl, K.SSL_MODE_ENABLE_PARTIAL_WRITE)
    data = b"p" * 50000
    sent, sizes = 0, []
    while sent < len(data):
        ret = E.SSL_write(c.ssl, data[sent:])
        if ret > 0:
            sizes.append(ret)
            sent += ret
        drain(c, s)
    assert max(sizes) <= 16384 and len(sizes) >= 4


def test_write_ex_zero_and_write_zero() -> None:
    c, _s = pair()
    assert E.SSL_write_ex(c.ssl, b"") == (1, 0) and c.take() == b""
    ret = E.SSL_write(c.ssl, b"")
    assert ret == 0 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_SYSCALL


def test_auto_retry_off_stops_after_a_ticket() -> None:
    c, s = pair()
    E.SSL_clear_mode(c.ssl, K.SSL_MODE_AUTO_RETRY)
    assert E.SSL_write(s.ssl, b"data") == 4
    move(c, s)
    for _ in range(2):  # the two tickets come first, each in a record of its own (as libssl writes them)
        ret, _ = E.SSL_read(c.ssl, 100)
        assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_WANT_READ
    assert E.SSL_read(c.ssl, 100) == (4, b"data")


def test_auto_retry_on_reads_past_the_ticket() -> None:
    c, s = pair()
    assert E.SSL_write(s.ssl, b"data") == 4
    move(c, s)
    assert E.SSL_read(c.ssl, 100) == (4, b"data")


def test_one_record_per_read_and_pending_and_peek() -> None:
    c, s = pair()
    E.SSL_write(c.ssl, b"A" * 10)
    E.SSL_write(c.ssl, b"B" * 10)
    move(c, s)
    assert E.SSL_peek(s.ssl, 4) == (4, b"AAAA")
    assert E.SSL_pending(s.ssl) == 10 and E.SSL_has_pending(s.ssl) == 1
    assert E.SSL_read(s.ssl, 4) == (4, b"AAAA")
    assert E.SSL_read(s.ssl, 100) == (6, b"A" * 6)
    assert E.SSL_read_ex(s.ssl, 100) == (1, b"B" * 10)
    assert E.SSL_read_ex(s.ssl, 100) == (0, b"")


def test_unexpected_eof_and_ignored_eof() -> None:
    c, _s = pair()
    B.BIO_shutdown_wr(c.net)  # the client's transport ends without close_notify
    err.ERR_clear_error()
    ret, _ = E.SSL_read(c.ssl, 10)
    # 0 as in libssl 3.0 (the page says only <= 0; SSL_read/RETURN VALUES/unexpected-eof-zero)
    assert ret == 0 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_SSL
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_UNEXPECTED_EOF_WHILE_READING
    assert "eof" in (err.ERR_reason_error_string(err.ERR_peek_error()) or "")
    c, _s = pair()
    E.SSL_set_options(c.ssl, K.SSL_OP_IGNORE_UNEXPECTED_EOF)
    B.BIO_shutdown_wr(c.net)
    err.ERR_clear_error()
    ret, _ = E.SSL_read(c.ssl, 10)
    assert ret == 0 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_ZERO_RETURN


def test_stale_queue_entry_wins() -> None:
    _c, s = pair()
    err.ERR_raise(err.ERR_LIB_SSL, K.SSL_R_BAD_VALUE)
    ret, _ = E.SSL_read(s.ssl, 10)
    assert E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_SSL
    err.ERR_clear_error()
    ret, _ = E.SSL_read(s.ssl, 10)
    assert E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_WANT_READ


def test_failed_ssl_stays_failed_and_get_error_falls_back_to_syscall() -> None:
    c, s = pair()
    E.SSL_write(c.ssl, b"secret")
    wire = bytearray(c.take())
    wire[-1] ^= 1
    s.give(bytes(wire))
    err.ERR_clear_error()
    ret, data = E.SSL_read(s.ssl, 100)
    assert ret == -1 and data == b"" and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_SSL
    assert s.take(), "the fatal alert goes out"
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC
    err.ERR_clear_error()
    assert E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_SYSCALL  # queue emptied: nothing else to say
    assert E.SSL_write(s.ssl, b"x") == -1 and E.SSL_get_error(s.ssl, -1) == K.SSL_ERROR_SSL
    err.ERR_clear_error()
    assert E.SSL_shutdown(s.ssl) == -1 and s.take() == b"", "no close_notify after a fatal error"
    err.ERR_clear_error()


def test_handshake_wants_write_on_a_small_transport() -> None:
    c, s = End(False), End(True, 64)
    E.SSL_do_handshake(c.ssl)
    move(c, s)
    ret, _ = E.SSL_read(s.ssl, 100)  # the read drives the handshake and must write the flight
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_WANT_WRITE


def test_garbage_is_an_ssl_error_not_a_wait() -> None:
    s = End(True)
    s.give(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    ret = E.SSL_accept(s.ssl)
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_SSL
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_HTTP_REQUEST
    s = End(True)
    s.give(b"\x99\x03\x03\x40\x00" + b"x" * 10)
    ret = E.SSL_accept(s.ssl)
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_SSL
    err.ERR_clear_error()


def test_read_ahead_empties_the_transport_and_keeps_records_for_later() -> None:
    c, s = pair()
    E.SSL_set_read_ahead(s.ssl, 1)
    assert E.SSL_get_read_ahead(s.ssl) == 1
    E.SSL_write(c.ssl, b"first")
    E.SSL_write(c.ssl, b"second")
    move(c, s)
    assert E.SSL_read(s.ssl, 100) == (5, b"first")
    assert B.BIO_ctrl_pending(E.SSL_get_rbio(s.ssl)) == 0
    assert E.SSL_pending(s.ssl) == 0 and E.SSL_has_pending(s.ssl) == 1
    assert E.SSL_read(s.ssl, 100) == (6, b"second")
    assert E.SSL_has_pending(s.ssl) == 0


def test_release_buffers_keeps_the_connection_working() -> None:
    c, s = pair()
    for e in (c, s):
        E.SSL_set_mode(e.ssl, K.SSL_MODE_RELEASE_BUFFERS)
    data = bytes(range(256)) * 40  # fits the BIO pair: no WANT_WRITE
    for _ in range(3):
        assert E.SSL_write(c.ssl, data) == len(data)
        assert drain(c, s) == data


def test_max_cert_list_bounds_the_peer_certificate_message() -> None:
    """SSL_set_max_cert_list: a server Certificate message larger than the client's limit fails the handshake with
    SSL_ERROR_SSL (illegal_parameter, as OpenSSL's excessive message size); the default limit takes it."""
    c, s = End(False), End(True)
    assert E.SSL_set_max_cert_list(c.ssl, 100) == K.SSL_MAX_CERT_LIST_DEFAULT
    results = [0, 0]
    for _ in range(20):
        err.ERR_clear_error()
        results = [E.SSL_do_handshake(c.ssl), E.SSL_do_handshake(s.ssl)]
        if E.SSL_get_error(c.ssl, results[0]) == K.SSL_ERROR_SSL:
            break
        move(c, s)
    assert results[0] == -1 and E.SSL_get_error(c.ssl, results[0]) == K.SSL_ERROR_SSL
    err.ERR_clear_error()


def test_key_update_flood_ends_in_ssl_error_and_an_alert() -> None:
    """A peer sending KeyUpdates and nothing else: the receiver's SSL_read fails with SSL_ERROR_SSL and
    SSL_R_TOO_MANY_KEY_UPDATES on its queue, and the sender then reads the unexpected_message alert."""
    from engine.tls.connection import FLOOD_LIMITS

    c, s = pair()
    move(c, s)
    E.SSL_read(c.ssl, 10)  # the tickets
    for _ in range(FLOOD_LIMITS["KeyUpdate messages"] + 1):
        assert E.SSL_key_update(c.ssl, K.SSL_KEY_UPDATE_NOT_REQUESTED) == 1
        assert E.SSL_do_handshake(c.ssl) == 1
    s.give(c.take())
    err.ERR_clear_error()
    for _ in range(FLOOD_LIMITS["KeyUpdate messages"] + 1):
        ret, _ = E.SSL_read(s.ssl, 10)
        if E.SSL_get_error(s.ssl, ret) != K.SSL_ERROR_WANT_READ:
            break
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_SSL
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_TOO_MANY_KEY_UPDATES
    err.ERR_clear_error()
    c.give(s.take())
    ret, _ = E.SSL_read(c.ssl, 10)
    assert E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_SSL
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_AD_REASON_OFFSET + 10  # unexpected_message
    err.ERR_clear_error()
