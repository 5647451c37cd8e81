"""C-API cases for BIO_s_fd.pod (file descriptor BIOs) and the file-BIO clauses of BIO_ctrl.pod (BIO_reset,
BIO_seek, BIO_tell), on pipes and temporary files."""

from __future__ import annotations

import fcntl
import os
import tempfile
from typing import Any

import pytest

from conformance.harness import Harness
from specs.cases._bio import call, is_open, owned

pytestmark = pytest.mark.needs("c_api")

BIO_NOCLOSE, BIO_CLOSE = 0, 1


def pipe(o: Any, nonblocking: bool = False) -> tuple[int, int]:
    r, w = os.pipe()
    o.fd(r)
    o.fd(w)
    if nonblocking:
        for fd in (r, w):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    return r, w


def temp_file(o: Any, data: bytes) -> int:
    with tempfile.TemporaryFile() as f:
        fd = o.fd(os.dup(f.fileno()))
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return int(fd)


def fd_bio(h: Harness, o: Any, fd: int, close_flag: int = BIO_NOCLOSE) -> Any:
    b = o.bio(call(h, "BIO_new_fd", fd, close_flag))
    assert b is not None, f"BIO_new_fd({fd}, {close_flag}) returned NULL"
    return b


@pytest.mark.clauses("BIO_s_fd/DESCRIPTION/read-write-descriptor", "BIO_s_fd/DESCRIPTION/new-fd",
                     "BIO_s_fd/RETURN VALUES/new-fd")
def test_fd_bio_reads_and_writes_its_descriptor(h: Harness) -> None:
    """A BIO_new_fd BIO on a pipe's write end puts bytes on the pipe at once; one on the read end returns them."""
    with owned(h) as o:
        r, w = pipe(o)
        out, inp = fd_bio(h, o, w), fd_bio(h, o, r)
        assert call(h, "BIO_write", out, b"through the pipe") == 16
        assert os.read(r, 100) == b"through the pipe", "the write did not reach the descriptor"
        assert call(h, "BIO_write_ex", out, b"second") == (1, 6)
        assert call(h, "BIO_read_ex", inp, 100) == (1, b"second")
        os.write(w, b"raw")
        assert call(h, "BIO_read", inp, 100) == (3, b"raw")


@pytest.mark.clauses("BIO_s_fd/DESCRIPTION/puts-not-gets")
def test_fd_bio_has_puts_but_not_gets(h: Harness) -> None:
    """BIO_puts writes the string; BIO_gets is not supported (-2) and takes nothing from the descriptor."""
    with owned(h) as o:
        r, w = pipe(o)
        out, inp = fd_bio(h, o, w), fd_bio(h, o, r)
        assert call(h, "BIO_puts", out, b"line one\nline two\n") == 18
        ret, _line = call(h, "BIO_gets", inp, 100)
        assert ret == -2, f"BIO_gets on a file descriptor BIO returned {ret}, not -2 (unsupported)"
        assert os.read(r, 100) == b"line one\nline two\n"


@pytest.mark.clauses("BIO_s_fd/DESCRIPTION/close-on-free")
def test_close_flag_decides_whether_free_closes(h: Harness) -> None:
    """BIO_free of a BIO_NOCLOSE BIO leaves the descriptor open; of a BIO_CLOSE BIO closes it."""
    with owned(h) as o:
        _r, w = pipe(o)
        b = call(h, "BIO_new_fd", w, BIO_NOCLOSE)
        assert b is not None
        assert call(h, "BIO_free", b) == 1
        assert is_open(w), "BIO_free closed a BIO_NOCLOSE descriptor"
        b = call(h, "BIO_new_fd", w, BIO_CLOSE)
        assert b is not None
        o.forget(w)
        assert call(h, "BIO_free", b) == 1
        assert not is_open(w), "BIO_free did not close a BIO_CLOSE descriptor"


@pytest.mark.clauses("BIO_s_fd/DESCRIPTION/reset-seek-tell", "BIO_ctrl/DESCRIPTION/seek-tell",
                     "BIO_ctrl/RETURN VALUES/seek-tell", "BIO_ctrl/RETURN VALUES/reset-file",
                     "BIO_ctrl/DESCRIPTION/reset")
def test_reset_seek_and_tell_move_the_file_position(h: Harness) -> None:
    """On a temporary file holding 0..9: BIO_tell is 0, after reading 4 bytes 4; BIO_seek(7) returns the position
    7 and the next read starts there; BIO_reset returns 0 and reading starts over."""
    with owned(h) as o:
        fd = temp_file(o, b"0123456789")
        b = fd_bio(h, o, fd)
        assert call(h, "BIO_tell", b) == 0
        assert call(h, "BIO_read", b, 4) == (4, b"0123")
        assert call(h, "BIO_tell", b) == 4, "BIO_tell did not report the file position"
        assert call(h, "BIO_seek", b, 7) == 7, "BIO_seek on a file descriptor BIO did not return the position"
        assert call(h, "BIO_tell", b) == 7
        assert call(h, "BIO_read", b, 10) == (3, b"789")
        assert call(h, "BIO_reset", b) == 0, "BIO_reset on a file BIO did not return 0 for success"
        assert call(h, "BIO_read", b, 10) == (10, b"0123456789"), "BIO_reset did not rewind the file"


@pytest.mark.clauses("BIO_ctrl/RETURN VALUES/seek-tell", "BIO_ctrl/RETURN VALUES/reset-file")
def test_seek_tell_reset_fail_on_a_pipe(h: Harness) -> None:
    """A pipe has no file position: BIO_seek, BIO_tell and BIO_reset return -1."""
    with owned(h) as o:
        r, _w = pipe(o)
        b = fd_bio(h, o, r)
        assert call(h, "BIO_seek", b, 3) == -1
        assert call(h, "BIO_tell", b) == -1
        assert call(h, "BIO_reset", b) == -1


@pytest.mark.clauses("BIO_s_fd/RETURN VALUES/method", "BIO_s_fd/DESCRIPTION/set-fd", "BIO_s_fd/RETURN VALUES/set-fd",
                     "BIO_s_fd/DESCRIPTION/get-fd", "BIO_s_fd/RETURN VALUES/get-fd")
def test_set_fd_and_get_fd(h: Harness) -> None:
    """BIO_new(BIO_s_fd()) has no descriptor: BIO_get_fd returns -1. BIO_set_fd(b, fd, BIO_CLOSE) returns 1, then
    BIO_get_fd returns fd and stores it, BIO_get_close says BIO_CLOSE, and the BIO writes to fd."""
    with owned(h) as o:
        method = call(h, "BIO_s_fd")
        assert method is not None, "BIO_s_fd() returned NULL"
        b = o.bio(call(h, "BIO_new", method))
        assert b is not None
        assert call(h, "BIO_get_fd", b)[0] == -1, "BIO_get_fd on a BIO without a descriptor did not return -1"
        r, w = pipe(o)
        assert call(h, "BIO_set_fd", b, w, BIO_CLOSE) == 1
        o.forget(w)  # the BIO closes it
        assert call(h, "BIO_get_fd", b) == (w, w), "BIO_get_fd did not return and store the descriptor"
        assert call(h, "BIO_get_close", b) == BIO_CLOSE
        assert call(h, "BIO_write", b, b"set") == 3
        assert os.read(r, 10) == b"set"


@pytest.mark.clauses("BIO_s_fd/NOTES/non-blocking")
def test_non_blocking_descriptor_retries(h: Harness) -> None:
    """Non-blocking pipe: reading it empty gives -1 with BIO_should_retry and BIO_should_read; filling it until a
    write fails gives -1 with BIO_should_retry and BIO_should_write."""
    with owned(h) as o:
        r, w = pipe(o, nonblocking=True)
        inp, out = fd_bio(h, o, r), fd_bio(h, o, w)
        assert call(h, "BIO_read", inp, 10) == (-1, b"")
        assert call(h, "BIO_should_retry", inp) and call(h, "BIO_should_read", inp), \
            "an empty non-blocking descriptor did not set the read-retry flags"
        chunk = b"\0" * 65536
        for _ in range(64):
            ret = call(h, "BIO_write", out, chunk)
            if ret <= 0:
                break
        else:
            raise AssertionError("the pipe never filled up")
        assert ret == -1
        assert call(h, "BIO_should_retry", out) and call(h, "BIO_should_write", out), \
            "a full non-blocking descriptor did not set the write-retry flags"
