"""engine.bio.sock: BIO_connect.pod set-up functions and BIO_s_socket.pod, on loopback sockets."""

from __future__ import annotations

import errno
import os
import socket
import time
from collections.abc import Iterator

import pytest

from engine import err
from engine.bio import (
    BIO_accept_ex,
    BIO_ADDR_family,
    BIO_ADDR_hostname_string,
    BIO_ADDR_new,
    BIO_ADDR_rawmake,
    BIO_bind,
    BIO_closesocket,
    BIO_connect,
    BIO_eof,
    BIO_free,
    BIO_get_fd,
    BIO_listen,
    BIO_new_socket,
    BIO_read,
    BIO_should_read,
    BIO_should_retry,
    BIO_should_write,
    BIO_socket,
    BIO_write,
)
from engine.bio.addr import BIO_ADDR
from engine.bio.constants import (
    AF_INET,
    BIO_CLOSE,
    BIO_NOCLOSE,
    BIO_R_CONNECT_ERROR,
    BIO_R_INVALID_SOCKET,
    BIO_R_UNABLE_TO_BIND_SOCKET,
    BIO_R_UNABLE_TO_CREATE_SOCKET,
    BIO_SOCK_KEEPALIVE,
    BIO_SOCK_NODELAY,
    BIO_SOCK_NONBLOCK,
    BIO_SOCK_REUSEADDR,
    BIO_SOCK_TFO,
)
from engine.bio.sock import tfo_available


def setup_function() -> None:
    err.ERR_clear_error()


def _loopback(port: int = 0) -> BIO_ADDR:
    a = BIO_ADDR_new()
    assert BIO_ADDR_rawmake(a, AF_INET, b"\x7f\0\0\1", 4, socket.htons(port)) == 1
    return a


def _port(fd: int) -> int:
    s = socket.socket(fileno=fd)
    try:
        return int(s.getsockname()[1])
    finally:
        s.detach()


def _entries() -> list[tuple[int, int]]:
    out = []
    while (e := err.ERR_get_error()) != 0:
        out.append((err.ERR_GET_LIB(e), err.ERR_GET_REASON(e)))
    return out


@pytest.fixture
def listener() -> Iterator[int]:
    fd = BIO_socket(AF_INET, socket.SOCK_STREAM, 0, 0)
    assert fd >= 0
    assert BIO_listen(fd, _loopback(), BIO_SOCK_REUSEADDR | BIO_SOCK_NONBLOCK) == 1
    yield fd
    BIO_closesocket(fd)


def _connected_pair(listener: int, options: int = 0) -> tuple[int, int]:
    cfd = BIO_socket(AF_INET, socket.SOCK_STREAM, 0, 0)
    assert BIO_connect(cfd, _loopback(_port(listener)), options) in (0, 1)
    deadline = time.monotonic() + 5
    while True:
        afd = BIO_accept_ex(listener, None, BIO_SOCK_NONBLOCK)
        if afd >= 0 or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert afd >= 0
    return cfd, afd


def test_socket_failure_entries_and_errno() -> None:
    assert BIO_socket(AF_INET, 999, 0, 0) == -1
    assert err.errno() != 0
    assert _entries() == [(err.ERR_LIB_SYS, err.errno()), (err.ERR_LIB_BIO, BIO_R_UNABLE_TO_CREATE_SOCKET)]


def test_connect_refused(listener: int) -> None:
    port = _port(listener)
    BIO_closesocket(listener)  # nothing listens on that port any more
    fd = BIO_socket(AF_INET, socket.SOCK_STREAM, 0, 0)
    try:
        assert BIO_connect(fd, _loopback(port), 0) == 0
        assert err.errno() == errno.ECONNREFUSED
        assert _entries() == [(err.ERR_LIB_SYS, errno.ECONNREFUSED), (err.ERR_LIB_BIO, BIO_R_CONNECT_ERROR)]
    finally:
        BIO_closesocket(fd)


def test_port_in_use(listener: int) -> None:
    fd = BIO_socket(AF_INET, socket.SOCK_STREAM, 0, 0)
    try:
        assert BIO_listen(fd, _loopback(_port(listener)), 0) == 0
        assert _entries() == [(err.ERR_LIB_SYS, errno.EADDRINUSE), (err.ERR_LIB_BIO, BIO_R_UNABLE_TO_BIND_SOCKET)]
        assert BIO_bind(fd, _loopback(_port(listener)), BIO_SOCK_REUSEADDR) == 0
        assert err.errno() == errno.EADDRINUSE
    finally:
        BIO_closesocket(fd)


def test_bad_descriptors_and_addresses() -> None:
    assert BIO_connect(-1, _loopback(1), 0) == 0
    assert _entries() == [(err.ERR_LIB_BIO, BIO_R_INVALID_SOCKET)]
    fd = BIO_socket(AF_INET, socket.SOCK_STREAM, 0, 0)
    BIO_closesocket(fd)
    assert BIO_connect(fd, _loopback(1), 0) == 0  # closed socket
    assert err.ERR_get_error() != 0
    assert BIO_accept_ex(fd, None, 0) == -1 and err.ERR_get_error() != 0
    assert BIO_listen(fd, None, 0) == 0 and err.ERR_get_error() != 0
    assert BIO_closesocket(fd) == 0 and BIO_closesocket(-1) == 0
    s = BIO_socket(AF_INET, socket.SOCK_STREAM, 0, 0)
    try:
        assert BIO_connect(s, BIO_ADDR_new(), 0) == 0  # unfilled address
        assert err.ERR_get_error() != 0
    finally:
        BIO_closesocket(s)
    err.ERR_clear_error()


def test_nonblocking_accept_with_nothing_pending(listener: int) -> None:
    assert BIO_accept_ex(listener, None, 0) == -1
    assert err.errno() in (errno.EAGAIN, errno.EWOULDBLOCK)
    assert err.ERR_peek_error() == 0


def test_accept_fills_peer_and_socket_bio_io(listener: int) -> None:
    cfd = BIO_socket(AF_INET, socket.SOCK_STREAM, 0, 0)
    options = BIO_SOCK_NONBLOCK | BIO_SOCK_NODELAY | BIO_SOCK_KEEPALIVE
    assert BIO_connect(cfd, _loopback(_port(listener)), options) in (0, 1)
    peer = BIO_ADDR_new()
    deadline = time.monotonic() + 5
    afd = -1
    while afd < 0 and time.monotonic() < deadline:
        afd = BIO_accept_ex(listener, peer, 0)
        time.sleep(0.005)
    assert afd >= 0
    assert BIO_ADDR_family(peer) == AF_INET and BIO_ADDR_hostname_string(peer, 1) == "127.0.0.1"
    client = BIO_new_socket(cfd, BIO_CLOSE)
    assert BIO_get_fd(client) == (cfd, cfd)
    assert BIO_read(client, 10) == (-1, b"")  # non-blocking, nothing yet
    assert BIO_should_retry(client) == 1 and BIO_should_read(client) == 1
    os.write(afd, b"hi")
    deadline = time.monotonic() + 5
    while (r := BIO_read(client, 10))[0] < 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert r == (2, b"hi") and BIO_should_retry(client) == 0
    os.close(afd)
    deadline = time.monotonic() + 5
    while (r := BIO_read(client, 10))[0] < 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert r == (0, b"") and BIO_should_retry(client) == 0 and BIO_eof(client) == 1
    assert BIO_free(client) == 1
    with pytest.raises(OSError):
        os.fstat(cfd)  # BIO_CLOSE closed it


def test_socket_bio_write_would_block(listener: int) -> None:
    cfd, afd = _connected_pair(listener, BIO_SOCK_NONBLOCK)
    b = BIO_new_socket(cfd, BIO_NOCLOSE)
    chunk = b"z" * 65536
    for _ in range(10_000):
        if BIO_write(b, chunk) < 0:
            break
    assert BIO_should_retry(b) == 1 and BIO_should_write(b) == 1
    BIO_free(b)
    os.fstat(cfd)  # BIO_NOCLOSE left it open
    BIO_closesocket(cfd)
    BIO_closesocket(afd)


def test_new_socket_rejects_bad_fd() -> None:
    assert BIO_new_socket(-1, BIO_CLOSE) is None
    assert err.ERR_get_error() != 0


def test_tcp_fast_open(listener: int) -> None:
    fd = BIO_socket(AF_INET, socket.SOCK_STREAM, 0, 0)
    try:
        ok, _why = tfo_available(server=True)
        ret = BIO_listen(fd, _loopback(), BIO_SOCK_TFO | BIO_SOCK_REUSEADDR)
        if ok:
            assert ret == 1 and err.ERR_peek_error() == 0
        else:
            assert ret == 0 and len(_entries()) == 2  # clean failure: SYS entry + BIO entry
    finally:
        BIO_closesocket(fd)
    cfd = BIO_socket(AF_INET, socket.SOCK_STREAM, 0, 0)
    try:
        ok, _why = tfo_available(server=False)
        ret = BIO_connect(cfd, _loopback(_port(listener)), BIO_SOCK_TFO)
        if ok:
            assert ret == 1
        else:
            assert ret == 0 and len(_entries()) == 2
    finally:
        BIO_closesocket(cfd)
