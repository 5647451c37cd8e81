"""C-API cases for BIO_s_connect.pod: connect BIOs reaching a listening socket of the case on 127.0.0.1 / ::1.

The peer is a plain TCP socket of Python's socket module with kernel timeouts, so a case never waits longer than a
few seconds; what is checked is the stack's connect BIO only.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest

from conformance.harness import Harness
from specs.cases._bio import BLOCKED_AFTER, addr, call, clear, connect_in_progress, drain, has_peer, owned

pytestmark = pytest.mark.needs("c_api")

BIO_TYPE_CONNECT = 12 | 0x0400 | 0x0100  # bio.h 3.0
BIO_FAMILY_IPV4 = 4
BIO_RR_CONNECT = 0x02
BIO_NOCLOSE = 0x00
TIMEOUT = struct.pack("ll", 3, 0)


def _timeouts(s: socket.socket) -> socket.socket:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, TIMEOUT)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, TIMEOUT)
    return s


@contextmanager
def listening(host: str = "127.0.0.1", port: int = 0) -> Iterator[socket.socket]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        s.listen(8)
        _timeouts(s)
        yield s
    finally:
        s.close()


def accept(listener: socket.socket) -> socket.socket:
    conn, _ = listener.accept()
    return _timeouts(conn)


def port_of(listener: socket.socket) -> int:
    return int(listener.getsockname()[1])


def peer_sees_eof(conn: socket.socket) -> bool:
    try:
        return conn.recv(16) == b""
    except (TimeoutError, BlockingIOError, OSError):
        return False


@pytest.mark.clauses("BIO_s_connect/RETURN VALUES/method", "BIO_s_connect/RETURN VALUES/setters")
def test_method_and_setters(h: Harness) -> None:
    """BIO_new(BIO_s_connect()) has type BIO_TYPE_CONNECT; setting its host and its port returns 1 each, and it
    then connects to them."""
    with listening() as lst, owned(h) as o:
        b = o.bio(call(h, "BIO_new", call(h, "BIO_s_connect")))
        assert b is not None
        assert call(h, "BIO_method_type", b) == BIO_TYPE_CONNECT
        assert call(h, "BIO_set_conn_hostname", b, b"127.0.0.1") == 1
        assert call(h, "BIO_set_conn_port", b, str(port_of(lst)).encode()) == 1
        assert call(h, "BIO_do_connect", b) == 1
        accept(lst).close()


@pytest.mark.clauses("BIO_s_connect/DESCRIPTION/io-connects-first", "BIO_s_connect/DESCRIPTION/puts-not-gets")
def test_first_io_connects_and_carries_the_bytes(h: Harness) -> None:
    """Without BIO_do_connect, the first BIO_write on BIO_new_connect("127.0.0.1:PORT") connects by itself and its
    bytes arrive; BIO_puts works, BIO_gets is not offered (-2); the peer's bytes come back through BIO_read."""
    with listening() as lst, owned(h) as o:
        b = o.bio(call(h, "BIO_new_connect", f"127.0.0.1:{port_of(lst)}".encode()))
        assert b is not None
        assert call(h, "BIO_write", b, b"first") == 5, "the first write did not connect and send"
        conn = accept(lst)
        with conn:
            assert conn.recv(16) == b"first"
            assert call(h, "BIO_puts", b, b"line\n") == 5
            assert conn.recv(16) == b"line\n"
            conn.sendall(b"back")
            assert call(h, "BIO_read", b, 16) == (4, b"back")
            assert call(h, "BIO_gets", b, 16)[0] == -2, "BIO_gets on a connect BIO is documented as unsupported"
            clear(h)


@pytest.mark.clauses("BIO_s_connect/DESCRIPTION/new-connect", "BIO_s_connect/DESCRIPTION/hostname-forms",
                     "BIO_s_connect/NOTES/getters-before-attempt")
def test_new_connect_is_new_plus_hostname(h: Harness) -> None:
    """BIO_new_connect("127.0.0.1:PORT") and BIO_new + BIO_set_conn_hostname give the same host and port strings;
    the name can also be "[::1]:PORT", which reaches a listener on ::1."""
    with listening() as lst, owned(h) as o:
        port = str(port_of(lst))
        a = o.bio(call(h, "BIO_new_connect", f"127.0.0.1:{port}".encode()))
        b = o.bio(call(h, "BIO_new", call(h, "BIO_s_connect")))
        assert a is not None and call(h, "BIO_set_conn_hostname", b, f"127.0.0.1:{port}".encode()) == 1
        for bio in (a, b):
            assert call(h, "BIO_get_conn_hostname", bio) == "127.0.0.1"
            assert call(h, "BIO_get_conn_port", bio) == port
        assert call(h, "BIO_do_connect", a) == 1
        accept(lst).close()
    try:
        v6 = listening("::1")
        lst6 = v6.__enter__()
    except OSError:
        h.not_applicable("this machine has no IPv6 loopback")
    try:
        with owned(h) as o:
            c = o.bio(call(h, "BIO_new_connect", f"[::1]:{port_of(lst6)}".encode()))
            assert c is not None
            assert call(h, "BIO_get_conn_hostname", c) == "::1", "the brackets of an IPv6 host were not removed"
            assert call(h, "BIO_do_connect", c) == 1, "no connection to [::1]"
            accept(lst6).close()
    finally:
        v6.__exit__(None, None, None)


@pytest.mark.clauses("BIO_s_connect/NOTES/port-in-hostname-wins")
def test_port_in_hostname_replaces_conn_port(h: Harness) -> None:
    """BIO_set_conn_port(wrong) then BIO_set_conn_hostname("127.0.0.1:right"): the port is 'right' and the BIO
    connects there."""
    with listening() as lst, listening() as other, owned(h) as o:
        b = o.bio(call(h, "BIO_new", call(h, "BIO_s_connect")))
        assert call(h, "BIO_set_conn_port", b, str(port_of(other)).encode()) == 1
        assert call(h, "BIO_set_conn_hostname", b, f"127.0.0.1:{port_of(lst)}".encode()) == 1
        assert call(h, "BIO_get_conn_port", b) == str(port_of(lst))
        assert call(h, "BIO_do_connect", b) == 1
        accept(lst).close()


SERVICES = ("socks", "openvpn", "rmiregistry", "proofd", "rootd", "nfs", "svn", "cvspserver", "postgresql", "mysql")


@pytest.mark.clauses("BIO_s_connect/DESCRIPTION/port-forms")
def test_port_as_service_name(h: Harness) -> None:
    """BIO_set_conn_port(name of a service) connects to the port the services database gives that name, where the
    case listens (the first service of a short list whose port is free here)."""
    found: tuple[str, socket.socket] | None = None
    for name in SERVICES:
        try:
            number = socket.getservbyname(name, "tcp")
            lst = socket.socket()
            try:
                lst.bind(("127.0.0.1", number))
            except OSError:
                lst.close()
                continue
            lst.listen(4)
            found = (name, _timeouts(lst))
            break
        except OSError:
            continue
    if found is None:
        h.not_applicable(f"none of the services {SERVICES} is known here with a free port")
    assert found is not None
    name, lst = found
    with lst, owned(h) as o:
        b = o.bio(call(h, "BIO_new", call(h, "BIO_s_connect")))
        assert call(h, "BIO_set_conn_hostname", b, b"127.0.0.1") == 1
        assert call(h, "BIO_set_conn_port", b, name.encode()) == 1
        assert call(h, "BIO_get_conn_port", b) == name
        assert call(h, "BIO_do_connect", b) == 1, f"the service name {name!r} as port did not lead to its port"
        accept(lst).close()


@pytest.mark.clauses("BIO_s_connect/DESCRIPTION/conn-address", "BIO_s_connect/NOTES/getters-before-attempt",
                     "BIO_s_connect/RETURN VALUES/setters")
def test_conn_address(h: Harness) -> None:
    """BIO_set_conn_address from a BIO_ADDR of 127.0.0.1:PORT returns 1; before connecting BIO_get_conn_address
    already gives an address (what was set), the BIO connects to it, and afterwards the address has that port."""
    with listening() as lst, owned(h) as o:
        a = addr(h, o, "127.0.0.1", port_of(lst))
        b = o.bio(call(h, "BIO_new", call(h, "BIO_s_connect")))
        assert call(h, "BIO_set_conn_address", b, a) == 1
        assert call(h, "BIO_get_conn_address", b) is not None, "the address set is not returned before connecting"
        assert call(h, "BIO_do_connect", b) == 1
        accept(lst).close()
        got = call(h, "BIO_get_conn_address", b)
        assert got is not None
        assert socket.ntohs(call(h, "BIO_ADDR_rawport", got)) == port_of(lst)


@pytest.mark.clauses("BIO_s_connect/DESCRIPTION/ip-family", "BIO_s_connect/RETURN VALUES/ip-family",
                     "BIO_s_connect/RETURN VALUES/unset-getters")
def test_ip_family_and_unset_getters(h: Harness) -> None:
    """A new connect BIO: host, port and address are NULL and the family -1. BIO_set_conn_ip_family(IPV4) returns
    1 and is given back; such a BIO does not connect to "[::1]:PORT" even though something listens there."""
    with owned(h) as o:
        b = o.bio(call(h, "BIO_new", call(h, "BIO_s_connect")))
        assert call(h, "BIO_get_conn_hostname", b) is None
        assert call(h, "BIO_get_conn_port", b) is None
        assert call(h, "BIO_get_conn_address", b) is None
        assert call(h, "BIO_get_conn_ip_family", b) == -1, "no family set: the page promises -1"
        assert call(h, "BIO_set_conn_ip_family", b, BIO_FAMILY_IPV4) == 1
        assert call(h, "BIO_get_conn_ip_family", b) == BIO_FAMILY_IPV4
        try:
            cm = listening("::1")
            lst = cm.__enter__()
        except OSError:
            h.not_applicable("this machine has no IPv6 loopback")
        try:
            assert call(h, "BIO_set_conn_hostname", b, f"[::1]:{port_of(lst)}".encode()) == 1
            clear(h)
            assert call(h, "BIO_do_connect", b) <= 0, "an IPv4-only connect BIO connected to ::1"
            drain(h)
        finally:
            cm.__exit__(None, None, None)


@pytest.mark.clauses("BIO_s_connect/RETURN VALUES/do-connect", "BIO_s_connect/DESCRIPTION/connected-no-effect",
                     "BIO_s_connect/NOTES/blocking-zero-is-closed")
def test_do_connect_results(h: Harness) -> None:
    """Nobody listening: BIO_do_connect <= 0 without a retry request. Listening: 1, and a second call is 1 again
    without a second connection. When the peer closes, a blocking read returns 0 without a retry request."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    dead = probe.getsockname()[1]
    probe.close()
    with owned(h) as o:
        b = o.bio(call(h, "BIO_new_connect", f"127.0.0.1:{dead}".encode()))
        clear(h)
        assert call(h, "BIO_do_connect", b) <= 0, "a refused connection was reported as made"
        assert not call(h, "BIO_should_retry", b), "a refused connection asked for a retry"
        drain(h)
    with listening() as lst, owned(h) as o:
        b = o.bio(call(h, "BIO_new_connect", f"127.0.0.1:{port_of(lst)}".encode()))
        assert call(h, "BIO_do_connect", b) == 1
        conn = accept(lst)
        assert call(h, "BIO_do_connect", b) == 1, "BIO_do_connect on a connected BIO did not return 1"
        lst.setblocking(False)
        try:
            lst.accept()[0].close()
            second = True
        except BlockingIOError:
            second = False
        assert not second, "BIO_do_connect on a connected BIO made a second connection"
        conn.close()
        assert call(h, "BIO_read", b, 16)[0] == 0, "a closed connection did not read as 0"
        assert not call(h, "BIO_should_retry", b)


@pytest.mark.clauses("BIO_s_connect/DESCRIPTION/close-flag")
def test_free_closes_with_close_flag(h: Harness) -> None:
    """BIO_free of a connected BIO with BIO_CLOSE: the peer reads end of file. With BIO_NOCLOSE: the peer does
    not (the case then closes the descriptor from BIO_get_fd itself)."""
    with listening() as lst:
        b = call(h, "BIO_new_connect", f"127.0.0.1:{port_of(lst)}".encode())
        assert call(h, "BIO_do_connect", b) == 1
        conn = accept(lst)
        assert call(h, "BIO_free", b) == 1
        with conn:
            assert peer_sees_eof(conn), "freeing a connect BIO with the close flag left the connection open"
        b = call(h, "BIO_new_connect", f"127.0.0.1:{port_of(lst)}".encode())
        assert call(h, "BIO_do_connect", b) == 1
        conn = accept(lst)
        call(h, "BIO_set_close", b, BIO_NOCLOSE)
        _, fd = call(h, "BIO_get_fd", b)
        assert call(h, "BIO_free", b) == 1
        try:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 300_000))
            assert not peer_sees_eof(conn), "BIO_NOCLOSE: freeing the BIO closed the connection"
        finally:
            conn.close()
            if fd >= 0:
                with suppress(OSError):
                    socket.socket(fileno=fd).close()


@pytest.mark.clauses("BIO_s_connect/DESCRIPTION/reset-reconnects")
def test_reset_closes_and_reconnects(h: Harness) -> None:
    """BIO_reset on a connected BIO: the peer reads end of file; BIO_do_connect then makes a new connection to the
    same port and written bytes arrive there."""
    with listening() as lst, owned(h) as o:
        b = o.bio(call(h, "BIO_new_connect", f"127.0.0.1:{port_of(lst)}".encode()))
        assert call(h, "BIO_do_connect", b) == 1
        assert call(h, "BIO_write", b, b"one") == 3
        first = accept(lst)
        with first:
            assert first.recv(8) == b"one"
            call(h, "BIO_reset", b)
            assert peer_sees_eof(first), "BIO_reset did not close the connection"
        assert call(h, "BIO_do_connect", b) == 1, "no new connection after BIO_reset"
        assert call(h, "BIO_write", b, b"two") == 3
        with accept(lst) as second:
            assert second.recv(8) == b"two"


@pytest.mark.clauses("BIO_s_connect/DESCRIPTION/all-addresses-tried")
def test_every_resolved_address_is_tried(h: Harness) -> None:
    """A name with an IPv6 and an IPv4 loopback address: only the second one listens; BIO_do_connect still
    connects."""
    name = "localhost"
    try:
        infos = socket.getaddrinfo(name, None, socket.AF_UNSPEC, socket.SOCK_STREAM)
    except OSError:
        infos = []
    hosts = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if len(hosts) < 2:
        h.not_applicable(f"{name!r} resolves to {hosts} here: no name with two loopback addresses to try")
    # listen on the last address only, on a port free on every one of them
    with listening(hosts[-1]) as lst, owned(h) as o:
        b = o.bio(call(h, "BIO_new_connect", f"{name}:{port_of(lst)}".encode()))
        assert call(h, "BIO_do_connect", b) == 1, "the address that listens was not tried"
        accept(lst).close()


@pytest.mark.clauses("BIO_s_connect/DESCRIPTION/nbio", "BIO_s_connect/NOTES/io-special-connect")
def test_nonblocking_connect_asked_again_still_returns_at_once(h: Harness) -> None:
    """The page's "returns at once ... while the TCP connection is not yet made" holds for every call, not only
    the first: calling BIO_do_connect again while the listener's queue is still full returns <= 0 with the special
    retry at once. (A stack that waits inside for the socket to become writable returns only when the helper
    thread empties the queue after two seconds and the kernel's SYN retry gets through.)"""
    with owned(h) as o, connect_in_progress(h, o) as (b, _lst):
        started = time.monotonic()
        ret = call(h, "BIO_do_connect", b)
        took = time.monotonic() - started
        assert took < BLOCKED_AFTER, (f"the second BIO_do_connect blocked for {took:.1f} s (returned {ret}) while the "
                                      "connect was still in progress, although BIO_set_nbio(b, 1) was called")
        if ret > 0:
            assert has_peer(call(h, "BIO_get_fd", b)[1]), (
                "the second BIO_do_connect returned 1 while the listener's queue was full, but its socket is not "
                "connected (getpeername: ENOTCONN)")
            h.not_applicable("the kernel completed the connect between the two calls although the backlog was full")
        assert call(h, "BIO_should_retry", b) and call(h, "BIO_should_io_special", b), \
            "the second call of a connect in progress did not ask for a special retry"
        assert call(h, "BIO_get_retry_reason", b) == BIO_RR_CONNECT


@pytest.mark.clauses("BIO_s_connect/DESCRIPTION/nbio", "BIO_s_connect/NOTES/io-special-connect")
def test_nonblocking_connect_is_a_special_retry(h: Harness) -> None:
    """Non-blocking, connect in progress: BIO_do_connect <= 0, BIO_should_retry, BIO_should_io_special, reason
    BIO_RR_CONNECT; once the listener takes the connection, calling again returns 1."""
    with owned(h) as o, connect_in_progress(h, o) as (b, lst):
        assert call(h, "BIO_should_retry", b), "a connect in progress did not ask for a retry"
        assert call(h, "BIO_should_io_special", b), "the retry of a connect in progress is not a special one"
        assert call(h, "BIO_get_retry_reason", b) == BIO_RR_CONNECT
        lst.release()  # the listener takes every connection from now on: the kernel's SYN retry gets through
        ret = 0
        until = time.monotonic() + 8.0  # the kernel retries the SYN 1 s, then 3 s after the first
        while time.monotonic() < until:
            ret = call(h, "BIO_do_connect", b)
            if ret == 1 or not call(h, "BIO_should_retry", b):
                break
            select.select([], [], [], 0.01)
        assert ret == 1, "calling again after the socket connected did not complete the connection"
