"""Clauses once marked unobservable that a real stack can show (issue 10, item 5): BIO_get_line (OpenSSL 3.0 and the
engine), and the -2 "not implemented" results of a BIO type made with BIO_meth_new() without callbacks."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role
from engine.bio.constants import BIO_CTRL_SET_CALLBACK, BIO_R_UNSUPPORTED_METHOD
from specs.cases._bio import call
from specs.cases._capi import Background, side, tcp_pair

pytestmark = pytest.mark.needs("c_api")

BIO_TYPE_SOURCE_SINK = 0x0400
BIO_NOCLOSE = 0
BIO_C_GET_CONNECT = 123  # bio.h: BIO_get_conn_hostname(b) is BIO_ptr_ctrl(b, BIO_C_GET_CONNECT, 0)


def _entry(api: Any) -> tuple[int, int]:
    code = int(api.ERR_peek_error())
    return (int(api.ERR_GET_LIB(code)), int(api.ERR_GET_REASON(code))) if code else (0, 0)


@pytest.mark.clauses("BIO_read/DESCRIPTION/get-line", "BIO_read/RETURN VALUES/positive-count")
def test_get_line_reads_one_line_byte_by_byte(h: Harness) -> None:
    """A memory BIO holding "ab\\0cd\\nrest\\n": BIO_get_line returns the first line with its '\\n' and its NUL, and
    the exact length 6 although a NUL comes first; it took nothing past the '\\n' (5 bytes still pending); with size
    3 it returns 2 bytes (size-1); then the rest of the line."""
    api = h.capi
    b = api.BIO_new(api.BIO_s_mem())
    assert b is not None
    try:
        assert api.BIO_write(b, b"ab\0cd\nrest\n") == 11
        assert call(h, "BIO_get_line", b, 100) == (6, b"ab\0cd\n")
        assert api.BIO_ctrl_pending(b) == 5, "BIO_get_line read past the end of the line"
        assert call(h, "BIO_get_line", b, 3) == (2, b"re"), "size 3 must give at most 2 bytes"
        assert call(h, "BIO_get_line", b, 100) == (3, b"st\n")
    finally:
        api.BIO_free(b)


@pytest.mark.clauses("BIO_read/DESCRIPTION/get-line")
def test_get_line_gives_a_last_line_without_newline(h: Harness) -> None:
    """A memory BIO holding "abc" and no '\\n': BIO_get_line returns the 3 bytes (the data ended before a newline),
    not a failure. Added by the mutation sweep (docs/mutation-sweep.md)."""
    api = h.capi
    b = api.BIO_new(api.BIO_s_mem())
    assert b is not None
    try:
        assert api.BIO_write(b, b"abc") == 3
        got = call(h, "BIO_get_line", b, 100)
        assert got == (3, b"abc"), f"BIO_get_line on a last line without newline -> {got!r}"
    finally:
        api.BIO_free(b)


@pytest.mark.clauses("BIO_read/DESCRIPTION/get-line")
def test_get_line_works_where_gets_does_not(h: Harness) -> None:
    """A BIO pair half has no "gets" operation (BIO_gets -2), yet BIO_get_line reads its lines one by one,
    leaving the next line in the pair."""
    api = h.capi
    ret, x, y = api.BIO_new_bio_pair(0, 0)
    assert ret == 1
    try:
        assert api.BIO_write(x, b"one\ntwo\n") == 8
        api.ERR_clear_error()
        gets = call(h, "BIO_gets", y, 100)
        h.trace.note(f"BIO_gets on a pair half -> {gets}")
        assert call(h, "BIO_get_line", y, 100) == (4, b"one\n")
        assert api.BIO_ctrl_pending(y) == 4, "BIO_get_line took more than its line"
        assert call(h, "BIO_get_line", y, 100) == (4, b"two\n")
        api.ERR_clear_error()
    finally:
        api.BIO_free(x)
        api.BIO_free(y)


@pytest.mark.clauses("BIO_read/RETURN VALUES/not-implemented", "BIO_read/RETURN VALUES/write-not-implemented")
@pytest.mark.parametrize("init", [False, True], ids=["uninitialised", "initialised"])
def test_a_type_without_operations_answers_minus_two(h: Harness, init: bool) -> None:
    """A BIO of a method made with BIO_meth_new() and no callbacks: BIO_read, BIO_write, BIO_puts and BIO_gets
    return -2 ("not implemented"), each with a BIO-library entry on the queue (BIO_R_UNSUPPORTED_METHOD in OpenSSL
    3.0), whether or not the BIO was marked initialised."""
    api = h.capi
    method = call(h, "BIO_meth_new", BIO_TYPE_SOURCE_SINK | 101, b"nothing implemented")
    assert method is not None
    b = api.BIO_new(method)
    try:
        assert b is not None
        if init:
            call(h, "BIO_set_init", b, 1)
        results: dict[str, int] = {}
        entries: dict[str, tuple[int, int]] = {}
        operations: list[tuple[str, Callable[[], int]]] = [
            ("BIO_read", lambda: int(api.BIO_read(b, 10)[0])), ("BIO_write", lambda: int(api.BIO_write(b, b"x"))),
            ("BIO_puts", lambda: int(api.BIO_puts(b, b"x"))), ("BIO_gets", lambda: int(api.BIO_gets(b, 10)[0]))]
        for name, fn in operations:
            api.ERR_clear_error()
            results[name] = int(fn())
            entries[name] = _entry(api)
        h.trace.note(f"results {results}, queue entries {entries}")
        assert results == dict.fromkeys(results, -2), f"not-implemented operations must give -2: {results}"
        wanted = (K.ERR_LIB_BIO, BIO_R_UNSUPPORTED_METHOD)
        assert all(e == wanted for e in entries.values()), f"queue entries {entries}, expected {wanted} each"
    finally:
        api.ERR_clear_error()
        if b is not None:
            api.BIO_free(b)
        api.BIO_meth_free(method)


@pytest.mark.clauses("BIO_ctrl/DESCRIPTION/callback-and-ptr-ctrl")
def test_ptr_ctrl_returns_and_callback_ctrl_passes_through_the_ctrl(h: Harness) -> None:
    """A connect BIO for 127.0.0.1:<port of a listening socket>: BIO_ptr_ctrl(b, BIO_C_GET_CONNECT, 0) returns the
    host name it holds (a pointer through the control mechanism); BIO_callback_ctrl(b, BIO_CTRL_SET_CALLBACK, cb)
    installs cb, which BIO_do_connect then calls with the connection's state changes."""
    api = h.capi
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    b: Any = None
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        b = call(h, "BIO_new_connect", f"127.0.0.1:{port}".encode())
        assert b is not None
        host = call(h, "BIO_ptr_ctrl", b, BIO_C_GET_CONNECT, 0)
        assert host == "127.0.0.1", f"BIO_ptr_ctrl(BIO_C_GET_CONNECT, 0) -> {host!r}"
        states: list[tuple[int, int]] = []

        def info(bio: Any, state: int, res: int) -> int:
            states.append((state, res))
            return 1

        call(h, "BIO_callback_ctrl", b, BIO_CTRL_SET_CALLBACK, info)
        assert call(h, "BIO_do_connect", b) == 1, "BIO_do_connect to a listening socket failed"
        h.trace.note(f"info callback states {states}")
        assert states, "the callback passed with BIO_callback_ctrl was never called"
    finally:
        if b is not None:
            api.BIO_free(b)
        listener.close()


def _ssl_bio_first_reads(h: Harness, auto_retry: bool) -> list[tuple[int, bytes, int]]:
    """A TLS 1.3 client on a blocking loopback socket, its handshake done with SSL_connect, wrapped in an SSL BIO;
    the server's tickets and then b"payload" are on the way. Returns (BIO_read result, data, BIO_should_retry)
    for each BIO_read until the payload arrives (at most 5)."""
    api = h.capi
    client_sock, server_sock = tcp_pair()
    mode = (lambda ctx: None) if auto_retry else (lambda ctx: api.SSL_CTX_clear_mode(ctx, K.SSL_MODE_AUTO_RETRY))
    client = side(api, Role.CLIENT, sock=client_sock, before_new=mode)
    server = side(api, Role.SERVER, sock=server_sock)
    sbio: Any = None
    try:
        accepting = Background(lambda: api.SSL_accept(server.ssl))
        assert api.SSL_connect(client.ssl) == 1, "the handshake failed"
        assert accepting.join() == 1
        assert api.SSL_write(server.ssl, b"payload") == 7
        sbio = call(h, "BIO_new", call(h, "BIO_f_ssl"))
        assert sbio is not None
        assert call(h, "BIO_set_ssl", sbio, client.ssl, BIO_NOCLOSE) == 1
        reads: list[tuple[int, bytes, int]] = []
        for _ in range(5):
            ret, data = call(h, "BIO_read", sbio, 100)
            reads.append((int(ret), bytes(data), int(bool(call(h, "BIO_should_retry", sbio)))))
            if ret > 0:
                break
        return reads
    finally:
        api.ERR_clear_error()
        if sbio is not None:
            api.BIO_free(sbio)
        client.close()
        server.close()


@pytest.mark.clauses("BIO_should_retry/NOTES/ssl-bio-exception")
@pytest.mark.needs("client_role", "server_role", "tls1_3")
def test_ssl_bio_asks_for_a_retry_over_a_blocking_socket(h: Harness) -> None:
    """An SSL BIO over a blocking socket, SSL_MODE_AUTO_RETRY cleared: the BIO_read that processes the server's
    post-handshake messages (its session tickets) returns -1 with BIO_should_retry set, although the socket blocks;
    the payload follows on a later read. With AUTO_RETRY set the first BIO_read returns the payload."""
    without = _ssl_bio_first_reads(h, auto_retry=False)
    with_retry = _ssl_bio_first_reads(h, auto_retry=True)
    h.trace.note(f"reads without AUTO_RETRY {without}; with it {with_retry}")
    assert without[0][0] <= 0 and without[0][2] == 1, f"without AUTO_RETRY the first BIO_read (ret, data, should " \
        f"retry): {without[0]}"
    assert without[-1][:2] == (7, b"payload"), f"the payload never came: {without}"
    assert with_retry[0][:2] == (7, b"payload"), f"with AUTO_RETRY the first BIO_read must give the data: {with_retry}"
