"""BIO_pop and an SSL BIO (BIO_f_ssl.pod, HISTORY; BIO_push.pod): popping the SSL BIO itself gives its transport
back to the application, popping a BIO above it changes nothing below.

An SSL BIO of the stack under test holds an SSL (BIO_NOCLOSE) with a BIO pushed behind it: a memory BIO, or one half
of a BIO pair whose other half serves a second SSL BIO of the same stack (the helpers of test_bio_f_ssl.py).

Ownership follows C, and a library that breaks the clause must not make the case free anything twice: where the SSL
still names the transport after the pop, the SSL's SSL_free is its one release and the case forgets it (as
test_bio_f_ssl.drop_ssl_bio does)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._bio import call, is_open, mem, owned
from specs.cases._capi import side
from specs.cases.test_bio_f_ssl import handshake, send, ssl_bio, ssl_bio_pair

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")

KEPT = b"the caller's bytes"


@pytest.mark.clauses("BIO_f_ssl/HISTORY/pop-releases-transport")
def test_popping_the_ssl_bio_gives_the_transport_back(h: Harness) -> None:
    """A memory BIO pushed behind the SSL BIO is the SSL's read and write BIO; BIO_pop on the SSL BIO returns it,
    and then the SSL has no read or write BIO and the SSL BIO no next BIO. After the SSL BIO and the SSL are freed,
    the memory BIO still works for the application, which frees it once (its owner, at the end of the case)."""
    with owned(h) as o:
        transport = mem(h, o)
        c = side(h.capi, Role.CLIENT)
        b: Any = None
        try:
            b = ssl_bio(h, c, transport)
            rbio, wbio = call(h, "SSL_get_rbio", c.ssl), call(h, "SSL_get_wbio", c.ssl)
            assert rbio == wbio == transport, "the BIO pushed behind the SSL BIO is not the SSL's read and write BIO"
            assert call(h, "BIO_pop", b) == transport, "BIO_pop on the SSL BIO did not return the BIO behind it"
            rbio, wbio = call(h, "SSL_get_rbio", c.ssl), call(h, "SSL_get_wbio", c.ssl)
            if transport in (rbio, wbio):
                o.forget(transport)  # the SSL still holds it: its SSL_free releases it, the case must not
            assert rbio is None and wbio is None, (
                f"after BIO_pop on the SSL BIO its SSL still uses the popped BIO: SSL_get_rbio is "
                f"{'the popped BIO' if rbio == transport else rbio!r}, SSL_get_wbio "
                f"{'the popped BIO' if wbio == transport else wbio!r}, not NULL")
            assert call(h, "BIO_next", b) is None, "the popped SSL BIO still has a next BIO"
            call(h, "BIO_free", b)
            b = None
            c.close()  # SSL_free: it holds no reference to the transport any more
            assert call(h, "BIO_write", transport, KEPT) == len(KEPT), "the popped BIO no longer takes writes"
            got = call(h, "BIO_read", transport, 64)
            assert got == (len(KEPT), KEPT), f"the popped BIO, after SSL_free, read back {got!r}"
        finally:
            if b is not None:
                call(h, "BIO_pop", b)
                call(h, "BIO_free", b)
            c.close()


@pytest.mark.clauses("BIO_f_ssl/HISTORY/pop-releases-transport")
def test_the_popped_transport_is_freed_by_the_applications_one_free(h: Harness) -> None:
    """The reference the push took is given back by the pop: a socket BIO that owns its descriptor (BIO_CLOSE)
    is pushed behind the SSL BIO and popped again; after the SSL BIO and the SSL are freed the descriptor is still
    open (nothing freed the application's reference), and the application's one BIO_free closes it (that was the
    last reference). A library that kept the push's reference leaves the descriptor open."""
    left, right = socket.socketpair()
    right.close()
    fd = left.detach()
    transport = call(h, "BIO_new_socket", fd, 1)  # BIO_CLOSE
    assert transport is not None, "BIO_new_socket returned NULL"
    c = side(h.capi, Role.CLIENT)
    b: Any = None
    ours = True  # whether the case holds the one reference left to free
    try:
        b = ssl_bio(h, c, transport)
        rbio, wbio = call(h, "SSL_get_rbio", c.ssl), call(h, "SSL_get_wbio", c.ssl)
        assert rbio == wbio == transport, "the BIO pushed behind the SSL BIO is not the SSL's read and write BIO"
        assert call(h, "BIO_pop", b) == transport, "BIO_pop on the SSL BIO did not return the BIO behind it"
        if transport in (call(h, "SSL_get_rbio", c.ssl), call(h, "SSL_get_wbio", c.ssl)):
            ours = False  # the SSL still holds it: its SSL_free releases it, the case must not
            raise AssertionError("after BIO_pop on the SSL BIO its SSL still uses the popped BIO")
        call(h, "BIO_free", b)
        b = None
        c.close()  # SSL_free
        ours = is_open(fd)  # closed: something freed the BIO already, and the case must not free it again
        assert ours, "freeing the popped SSL BIO and its SSL closed the transport the application still holds"
        ours = False
        assert call(h, "BIO_free", transport) == 1
        assert not is_open(fd), ("the application's one BIO_free of the popped transport did not free it: a "
                                 "reference taken when it was pushed behind the SSL BIO was not given back")
    finally:
        if b is not None:
            call(h, "BIO_pop", b)
            call(h, "BIO_free", b)
        c.close()
        if ours:
            call(h, "BIO_free", transport)


@pytest.mark.clauses("BIO_f_ssl/HISTORY/pop-above-keeps-transport")
def test_popping_a_bio_above_the_ssl_bio_keeps_the_transport(h: Harness) -> None:
    """A buffering BIO pushed in front of the client's SSL BIO is popped again (BIO_pop returns the SSL BIO): the
    SSL BIO's next BIO and its SSL's read and write BIO are still the pair half pushed behind it, and the handshake
    and data then go through the SSL BIO."""
    with ssl_bio_pair(h) as (cb, sb, c, _):
        transport = call(h, "BIO_next", cb)
        assert transport is not None, "the client's SSL BIO has no next BIO"
        buf = call(h, "BIO_new", call(h, "BIO_f_buffer"))
        assert buf is not None, "BIO_new(BIO_f_buffer()) returned NULL"
        popped = False
        try:
            assert call(h, "BIO_push", buf, cb) == buf
            assert call(h, "BIO_pop", buf) == cb, "BIO_pop on the buffering BIO did not return the SSL BIO"
            popped = True
        finally:
            if not popped:
                call(h, "BIO_pop", buf)
            call(h, "BIO_free", buf)
        rbio, wbio = call(h, "SSL_get_rbio", c.ssl), call(h, "SSL_get_wbio", c.ssl)
        assert call(h, "BIO_next", cb) == transport, "popping the BIO above took the SSL BIO's next BIO away"
        assert rbio == wbio == transport, (
            f"popping the BIO above the SSL BIO changed its SSL's BIOs: SSL_get_rbio {rbio!r}, SSL_get_wbio "
            f"{wbio!r}, where both were the pair half behind the SSL BIO")
        handshake(h, cb, sb)
        assert send(h, cb, sb, b"ping") == b"ping"
        assert send(h, sb, cb, b"pong") == b"pong"
