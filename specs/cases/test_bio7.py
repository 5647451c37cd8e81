"""C-API cases for bio(7), the BIO overview page: source/sink and filter BIOs, chains, BIOs that need setting up,
and what BIO_free / BIO_free_all free. Memory BIOs, buffering filters and socket BIOs on a socketpair."""

from __future__ import annotations

import socket

import pytest

from conformance.harness import Harness
from specs.cases._bio import call, clear, drain, is_open, mem, owned

pytestmark = pytest.mark.needs("c_api")


def buffering(h: Harness) -> object:
    b = call(h, "BIO_new", call(h, "BIO_f_buffer"))
    assert b is not None, "BIO_new(BIO_f_buffer()) returned NULL"
    return b


@pytest.mark.clauses("bio/DESCRIPTION/source-sink-and-filter", "bio/DESCRIPTION/chain-traversal")
def test_filter_passes_data_to_the_source_sink(h: Harness) -> None:
    """A memory BIO (source/sink) keeps what is written to it. A buffering filter in front of it keeps nothing
    for itself: written to the head of the chain (and flushed) the bytes end in the memory BIO; written into the
    memory BIO, they are read from the head."""
    with owned(h) as o:
        m = mem(h, o)
        f = buffering(h)
        try:
            assert call(h, "BIO_push", f, m) == f
            assert call(h, "BIO_write", f, b"down") == 4
            assert call(h, "BIO_flush", f) == 1
            assert call(h, "BIO_read", m, 16) == (4, b"down"), "written to the head, the bytes did not reach the end"
            assert call(h, "BIO_write", m, b"up") == 2
            assert call(h, "BIO_read", f, 16) == (2, b"up"), "read from the head, the bytes of the end did not come"
        finally:
            call(h, "BIO_pop", f)
            call(h, "BIO_free", f)


@pytest.mark.clauses("bio/DESCRIPTION/initialisation")
def test_some_bios_work_at_once_others_need_setting_up(h: Harness) -> None:
    """A new memory BIO reads back what is written at once; a new socket BIO without a descriptor cannot be
    written to (<= 0, an error queue entry) until BIO_set_fd gives it one."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_write", m, b"now") == 3 and call(h, "BIO_read", m, 8) == (3, b"now")
        s = o.bio(call(h, "BIO_new", call(h, "BIO_s_socket")))
        assert s is not None
        clear(h)
        assert call(h, "BIO_write", s, b"x") <= 0, "a socket BIO without a descriptor accepted a write"
        assert drain(h), "the failed write left no error queue entry"
        left, right = socket.socketpair()
        with left, right:
            assert call(h, "BIO_set_fd", s, left.fileno(), 0) == 1  # BIO_NOCLOSE: the socket object closes it
            assert call(h, "BIO_write", s, b"x") == 1, "set up with a descriptor, the socket BIO still cannot write"
            assert right.recv(4) == b"x"


@pytest.mark.clauses("bio/DESCRIPTION/free-one")
def test_free_frees_one_bio_and_free_all_on_one_is_free(h: Harness) -> None:
    """A buffering BIO in front of a socket BIO that owns its descriptor: BIO_free on the head leaves the
    descriptor open (the socket BIO lives on). BIO_free_all on that socket BIO, now alone, closes it, as BIO_free
    would."""
    left, right = socket.socketpair()
    right.close()
    fd = left.detach()
    s = call(h, "BIO_new_socket", fd, 1)  # BIO_CLOSE
    assert s is not None, "BIO_new_socket returned NULL"
    f = buffering(h)
    call(h, "BIO_push", f, s)
    assert call(h, "BIO_free", f) == 1
    if not is_open(fd):
        raise AssertionError("BIO_free on the head of a chain freed the BIO behind it as well")
    call(h, "BIO_free_all", s)
    assert not is_open(fd), "BIO_free_all on a single BIO did not free it"
