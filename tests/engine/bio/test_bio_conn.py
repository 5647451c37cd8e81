"""engine.bio.conn: BIO_s_connect / BIO_s_accept on loopback, and their retry reasons (BIO_RR_CONNECT/ACCEPT)."""

from __future__ import annotations

import select
import socket

import engine.bio as B
from engine.bio.constants import BIO_RR_ACCEPT, BIO_TYPE_ACCEPT, BIO_TYPE_CONNECT


def test_accept_bio_listens_then_wants_accept_then_carries_the_connection() -> None:
    bio = B.BIO_new_accept(b"127.0.0.1:0")
    assert bio is not None and B.BIO_method_type(bio) == BIO_TYPE_ACCEPT
    assert B.BIO_set_nbio_accept(bio, 1) == 1
    assert B.BIO_do_accept(bio) == 1  # the listening socket
    port = int(B.BIO_get_accept_port(bio) or "0")
    assert port > 0
    ret, _ = B.BIO_read(bio, 10)
    assert ret == -1 and B.BIO_should_io_special(bio) and B.BIO_get_retry_reason(bio) == BIO_RR_ACCEPT
    peer = socket.create_connection(("127.0.0.1", port))
    try:
        peer.sendall(b"hello")
        for _ in range(100):
            ret, data = B.BIO_read(bio, 10)
            if ret > 0:
                break
            select.select([], [], [], 0.01)
        assert (ret, data) == (5, b"hello")
        assert B.BIO_write(bio, b"back") == 4
        assert peer.recv(10) == b"back"
    finally:
        peer.close()
        B.BIO_free(bio)


def test_connect_bio_connects_on_first_io() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    bio = B.BIO_new_connect(f"127.0.0.1:{port}".encode())
    assert bio is not None and B.BIO_method_type(bio) == BIO_TYPE_CONNECT
    try:
        assert B.BIO_do_connect(bio) == 1
        conn, _ = listener.accept()
        assert B.BIO_write(bio, b"ping") == 4
        assert conn.recv(10) == b"ping"
        conn.close()
    finally:
        B.BIO_free(bio)
        listener.close()


def test_connect_bio_refused_is_an_error_without_retry() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nobody listens there now
    bio = B.BIO_new_connect(f"127.0.0.1:{port}")
    assert bio is not None
    assert B.BIO_do_connect(bio) <= 0 and not B.BIO_should_retry(bio)
    B.BIO_free(bio)
