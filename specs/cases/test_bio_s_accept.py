"""C-API cases for BIO_s_accept.pod: accept BIOs listening on 127.0.0.1 / ::1 (port 0), reached by clients of
Python's socket module with kernel timeouts."""

from __future__ import annotations

import os
import select
import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest

from conformance.harness import Harness
from specs.cases._bio import call, clear, drain, needs

pytestmark = pytest.mark.needs("c_api")

BIO_TYPE_SOCKET = 5 | 0x0400 | 0x0100  # bio.h 3.0
BIO_TYPE_BUFFER = 9 | 0x0200
BIO_FAMILY_IPV4 = 4
BIO_FAMILY_IPANY = 256
BIO_BIND_NORMAL = 0
BIO_BIND_REUSEADDR = 1
BIO_RR_ACCEPT = 0x03


def client(port: int, host: str = "127.0.0.1", timeout: float = 3.0) -> socket.socket:
    s = socket.create_connection((host, port), timeout=timeout)
    tv = struct.pack("ll", int(timeout), int((timeout % 1) * 1_000_000))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
    s.setblocking(True)
    return s


def sees_eof(s: socket.socket, seconds: float = 1.0) -> bool:
    ready, _, _ = select.select([s], [], [], seconds)
    if not ready:
        return False
    try:
        return s.recv(16) == b""
    except OSError:
        return True  # reset by the peer: the connection is gone as well


@contextmanager
def accept_bio(h: Harness, name: bytes = b"127.0.0.1:0", *, nbio: bool = False) -> Iterator[tuple[Any, int]]:
    """A listening accept BIO and its port; freed with its whole chain at the end. Whether the stack has the
    getter (and the non-blocking setter) is settled first: a stack without them is not applicable before it binds
    anything (wolfSSL 5.5.4 would listen on 0.0.0.0:127 for the name 127.0.0.1:0, see its expectations)."""
    needs(h, "BIO_get_accept_port", *(["BIO_set_nbio_accept"] if nbio else []))
    b = call(h, "BIO_new_accept", name)
    assert b is not None, f"BIO_new_accept({name!r}) returned NULL"
    try:
        if nbio:
            assert call(h, "BIO_set_nbio_accept", b, 1) == 1
        assert call(h, "BIO_do_accept", b) == 1, "the first BIO_do_accept did not set up the listening socket"
        port = call(h, "BIO_get_accept_port", b)
        assert port is not None and int(port) > 0, f"BIO_get_accept_port gave {port!r} after port 0"
        yield b, int(port)
    finally:
        call(h, "BIO_free_all", b)


@pytest.mark.clauses("BIO_s_accept/DESCRIPTION/first-call-listens", "BIO_s_accept/DESCRIPTION/port-zero",
                     "BIO_s_accept/NOTES/connection-in-chain", "BIO_s_accept/NOTES/pop-connection",
                     "BIO_s_accept/RETURN VALUES/peer-name-port")
def test_listen_accept_pop_and_accept_again(h: Harness) -> None:
    """First BIO_do_accept listens (port 0: a port is chosen and reported); a client connects and the second
    BIO_do_accept returns 1 with a socket BIO behind the accept BIO, which carries the bytes both ways and knows
    the client's address and port. BIO_pop hands that BIO over; the accept BIO then accepts a second client."""
    with accept_bio(h) as (b, port):
        c1 = client(port)
        with c1:
            assert call(h, "BIO_do_accept", b) == 1, "the second BIO_do_accept did not accept the client"
            conn = call(h, "BIO_next", b)
            assert conn is not None, "no connection BIO behind the accept BIO"
            assert call(h, "BIO_method_type", conn) == BIO_TYPE_SOCKET
            assert call(h, "BIO_get_peer_name", b) == "127.0.0.1"
            assert call(h, "BIO_get_peer_port", b) == str(c1.getsockname()[1])
            assert call(h, "BIO_write", b, b"to client") == 9
            assert c1.recv(16) == b"to client"
            c1.sendall(b"to server")
            assert call(h, "BIO_read", b, 16) == (9, b"to server")
            popped = call(h, "BIO_pop", b)
            assert popped == conn, "BIO_pop did not return the connection BIO"
            try:
                assert call(h, "BIO_next", b) is None, "the accept BIO still has a chain after BIO_pop"
                with client(port) as c2:
                    assert call(h, "BIO_do_accept", b) == 1, "the accept BIO did not accept a second client"
                    second = call(h, "BIO_pop", b)
                    assert second is not None and second != conn
                    assert call(h, "BIO_write", second, b"two") == 3
                    assert c2.recv(8) == b"two"
                    call(h, "BIO_free", second)
                assert call(h, "BIO_write", conn, b"one") == 3, "the popped connection stopped working"
                assert c1.recv(8) == b"one"
            finally:
                call(h, "BIO_free", conn)


@pytest.mark.clauses("BIO_s_accept/DESCRIPTION/io-waits-for-connection", "BIO_s_accept/DESCRIPTION/puts-not-gets")
def test_io_accepts_first(h: Harness) -> None:
    """Without a second BIO_do_accept: BIO_read on the listening accept BIO accepts the waiting client and reads
    its bytes; BIO_puts reaches the client; BIO_gets is not offered (-2)."""
    with accept_bio(h) as (b, port), client(port) as c:
        c.sendall(b"hello")
        assert call(h, "BIO_read", b, 16) == (5, b"hello"), "reading did not accept the connection first"
        assert call(h, "BIO_puts", b, b"ok\n") == 3
        assert c.recv(8) == b"ok\n"
        c.sendall(b"line\n")
        assert call(h, "BIO_gets", b, 16)[0] == -2, "BIO_gets on an accept BIO is documented as unsupported"
        clear(h)


@pytest.mark.clauses("BIO_s_accept/DESCRIPTION/nbio-accept", "BIO_s_accept/NOTES/io-special-accept")
def test_nonblocking_accept_is_a_special_retry(h: Harness) -> None:
    """Non-blocking accept socket, nobody connecting: BIO_do_accept <= 0 at once, with BIO_should_retry,
    BIO_should_io_special and reason BIO_RR_ACCEPT; after a client connects, calling again returns 1."""
    with accept_bio(h, nbio=True) as (b, port):
        clear(h)
        assert call(h, "BIO_do_accept", b) <= 0, "a non-blocking accept with nobody waiting reported a connection"
        assert call(h, "BIO_should_retry", b), "no retry request"
        assert call(h, "BIO_should_io_special", b), "the retry request is not a special one"
        assert call(h, "BIO_get_retry_reason", b) == BIO_RR_ACCEPT
        with client(port):
            ret = 0
            for _ in range(200):
                ret = call(h, "BIO_do_accept", b)
                if ret == 1:
                    break
                select.select([], [], [], 0.01)
            assert ret == 1, "the waiting client was not accepted"


@pytest.mark.clauses("BIO_s_accept/DESCRIPTION/name-forms")
def test_accept_name_forms(h: Harness) -> None:
    """"127.0.0.1:0" listens on 127.0.0.1 (BIO_get_accept_name says so); "*:0" listens on every interface, so a
    client on 127.0.0.1 is accepted; "[::1]:0" listens on the IPv6 loopback."""
    with accept_bio(h) as (b, port):
        assert call(h, "BIO_get_accept_name", b) == "127.0.0.1"
    with accept_bio(h, b"*:0") as (b, port), client(port):
        assert call(h, "BIO_do_accept", b) == 1
    try:
        socket.socket(socket.AF_INET6).close()
        probe = socket.create_server(("::1", 0), family=socket.AF_INET6)
        probe.close()
    except OSError:
        h.not_applicable("this machine has no IPv6 loopback")
    with accept_bio(h, b"[::1]:0") as (b, port):
        assert call(h, "BIO_get_accept_name", b) == "::1"
        with client(port, "::1"):
            assert call(h, "BIO_do_accept", b) == 1


@pytest.mark.clauses("BIO_s_accept/DESCRIPTION/get-fd")
def test_get_fd_is_the_accept_socket(h: Harness) -> None:
    """BIO_get_fd on a listening accept BIO gives a socket that is listening (SO_ACCEPTCONN) on the port."""
    with accept_bio(h) as (b, port):
        ret, fd = call(h, "BIO_get_fd", b)
        assert fd >= 0, f"BIO_get_fd gave {ret}, {fd}"
        copy = socket.socket(fileno=os.dup(fd))
        with copy:
            assert copy.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
            assert copy.getsockname()[1] == port


@pytest.mark.clauses("BIO_s_accept/DESCRIPTION/accept-bios")
def test_accept_bios_are_copied_into_each_connection(h: Harness) -> None:
    """BIO_set_accept_bios(abio, buffering BIO) returns 1; an accepted connection's chain is accept -> a new
    buffering BIO -> socket BIO; a write through the accept BIO reaches the client once the
    buffering BIO is flushed. The accept BIO frees the
    given chain."""
    with accept_bio(h, nbio=False) as (b, port):
        buf = call(h, "BIO_new", call(h, "BIO_f_buffer"))
        assert call(h, "BIO_set_accept_bios", b, buf) == 1
        with client(port) as c:
            assert call(h, "BIO_do_accept", b) == 1
            first = call(h, "BIO_next", b)
            assert first is not None and call(h, "BIO_method_type", first) == BIO_TYPE_BUFFER
            assert first != buf, "the chain given was used itself, not a copy"
            last = call(h, "BIO_next", first)
            assert last is not None and call(h, "BIO_method_type", last) == BIO_TYPE_SOCKET
            assert call(h, "BIO_write", b, b"buffered") == 8
            assert call(h, "BIO_flush", first) == 1
            assert c.recv(16) == b"buffered"


@pytest.mark.clauses("BIO_s_accept/DESCRIPTION/ip-family", "BIO_s_accept/DESCRIPTION/bind-mode")
def test_ip_family_and_bind_mode_settings(h: Harness) -> None:
    """A new accept BIO accepts BIO_FAMILY_IPANY and binds in BIO_BIND_NORMAL mode; the setters return 1 and the
    getters give the new values back."""
    b = call(h, "BIO_new_accept", b"127.0.0.1:0")
    try:
        assert call(h, "BIO_get_accept_ip_family", b) == BIO_FAMILY_IPANY
        assert call(h, "BIO_set_accept_ip_family", b, BIO_FAMILY_IPV4) == 1
        assert call(h, "BIO_get_accept_ip_family", b) == BIO_FAMILY_IPV4
        assert call(h, "BIO_get_bind_mode", b) == BIO_BIND_NORMAL
        assert call(h, "BIO_set_bind_mode", b, BIO_BIND_REUSEADDR) == 1
        assert call(h, "BIO_get_bind_mode", b) == BIO_BIND_REUSEADDR
    finally:
        call(h, "BIO_free", b)


@pytest.mark.clauses("BIO_s_accept/DESCRIPTION/reset")
def test_reset_closes_the_connection_and_waits_for_another(h: Harness) -> None:
    """BIO_reset on an accept BIO with a connection: the client reads end of file; a second client connecting to
    the same port is accepted by the next BIO_do_accept."""
    with accept_bio(h) as (b, port):
        with client(port) as c1:
            assert call(h, "BIO_do_accept", b) == 1
            call(h, "BIO_reset", b)
            assert sees_eof(c1), "BIO_reset left the accepted connection open"
        try:
            c2 = client(port, timeout=1.0)
        except OSError as e:
            raise AssertionError(f"after BIO_reset nothing listens on port {port} any more ({e})") from None
        with c2:
            ret = 0
            for _ in range(3):  # a BIO that had to listen again would need one more call
                ret = call(h, "BIO_do_accept", b)
                if ret == 1 and call(h, "BIO_next", b) is not None:
                    break
            assert ret == 1 and call(h, "BIO_next", b) is not None, "the second client was not accepted"
        drain(h)


@pytest.mark.clauses("BIO_s_accept/DESCRIPTION/close-flag")
def test_free_with_close_flag_ends_the_connection(h: Harness) -> None:
    """BIO_free on an accept BIO (close flag set by default) that holds an accepted connection: the client reads
    end of file. (The case frees the connection BIO behind it afterwards.)"""
    needs(h, "BIO_get_accept_port")
    b = call(h, "BIO_new_accept", b"127.0.0.1:0")
    try:
        assert call(h, "BIO_do_accept", b) == 1, "the first BIO_do_accept did not set up the listening socket"
        port = int(call(h, "BIO_get_accept_port", b))
    except BaseException:
        call(h, "BIO_free", b)  # the listening socket must not outlive the case
        raise
    conn = None
    with client(port) as c:
        try:
            assert call(h, "BIO_do_accept", b) == 1
            conn = call(h, "BIO_next", b)
            assert conn is not None
        finally:
            call(h, "BIO_free", b)
        try:
            assert sees_eof(c), "freeing the accept BIO left its connection open"
        finally:
            if conn is not None:
                with suppress(Exception):
                    call(h, "BIO_free", conn)
