"""engine.bio.mem: BIO_s_mem.pod behaviour (values checked against libcrypto 3.0.19 by hand)."""

from __future__ import annotations

from engine import err
from engine.bio import (
    BIO_ctrl_pending,
    BIO_ctrl_wpending,
    BIO_eof,
    BIO_get_mem_data,
    BIO_gets,
    BIO_new,
    BIO_new_mem_buf,
    BIO_puts,
    BIO_read,
    BIO_reset,
    BIO_s_mem,
    BIO_set_flags,
    BIO_set_mem_eof_return,
    BIO_should_read,
    BIO_should_retry,
    BIO_write,
)
from engine.bio.constants import BIO_FLAGS_NONCLEAR_RST, BIO_R_WRITE_TO_READ_ONLY_BIO


def setup_function() -> None:
    err.ERR_clear_error()


def test_empty_read_default_is_retry() -> None:
    b = BIO_new(BIO_s_mem())
    assert BIO_read(b, 5) == (-1, b"")
    assert BIO_should_retry(b) == 1 and BIO_should_read(b) == 1
    assert BIO_eof(b) == 1
    assert err.ERR_peek_error() == 0


def test_eof_return_values() -> None:
    b = BIO_new(BIO_s_mem())
    assert BIO_set_mem_eof_return(b, 0) == 1
    assert BIO_read(b, 5) == (0, b"") and BIO_should_retry(b) == 0
    assert BIO_set_mem_eof_return(b, -7) == 1
    assert BIO_read(b, 5) == (-7, b"") and BIO_should_read(b) == 1


def test_fifo_growth_pending_and_mem_data() -> None:
    b = BIO_new(BIO_s_mem())
    assert BIO_write(b, b"abc") == 3
    assert BIO_write(b, b"x" * 100_000) == 100_000
    assert BIO_ctrl_pending(b) == 100_003 and BIO_ctrl_wpending(b) == 0
    assert BIO_read(b, 2) == (2, b"ab")
    ret, data = BIO_get_mem_data(b)
    assert ret == 100_001 and data[:2] == b"cx"
    assert BIO_get_mem_data(None) == (0, b"")


def test_gets_and_puts() -> None:
    b = BIO_new(BIO_s_mem())
    assert BIO_puts(b, b"line1\nline2\nx\0ignored") == 13
    assert BIO_gets(b, 100) == (6, b"line1\n")
    assert BIO_gets(b, 3) == (2, b"li")
    assert BIO_gets(b, 100) == (4, b"ne2\n")
    assert BIO_gets(b, 100) == (1, b"x")
    assert BIO_gets(b, 100) == (0, b"")
    assert BIO_gets(b, -1) == (-1, b"")


def test_reset_clears_or_rewinds() -> None:
    b = BIO_new(BIO_s_mem())
    BIO_write(b, b"hello")
    BIO_read(b, 2)
    assert BIO_reset(b) == 1 and BIO_ctrl_pending(b) == 0
    nc = BIO_new(BIO_s_mem())
    BIO_set_flags(nc, BIO_FLAGS_NONCLEAR_RST)
    BIO_write(nc, b"hello")
    BIO_read(nc, 5)
    assert BIO_reset(nc) == 1 and BIO_read(nc, 10) == (5, b"hello")


def test_read_only_buffer() -> None:
    ro = BIO_new_mem_buf(b"abcdef\0tail", -1)
    assert ro is not None and BIO_ctrl_pending(ro) == 6
    assert BIO_write(ro, b"x") == -1
    assert err.ERR_GET_REASON(err.ERR_get_error()) == BIO_R_WRITE_TO_READ_ONLY_BIO
    assert BIO_read(ro, 3) == (3, b"abc")
    assert BIO_reset(ro) == 1 and BIO_ctrl_pending(ro) == 6
    assert BIO_read(ro, 100) == (6, b"abcdef")
    assert BIO_read(ro, 100) == (0, b"") and BIO_should_retry(ro) == 0  # read-only: plain EOF
    assert BIO_ctrl_pending(BIO_new_mem_buf(b"abcdef", 2)) == 2
    assert BIO_ctrl_pending(BIO_new_mem_buf(b"abc")) == 3


def test_new_mem_buf_bad_input() -> None:
    assert BIO_new_mem_buf(None, 5) is None
    assert err.ERR_GET_REASON(err.ERR_get_error()) == err.ERR_R_PASSED_NULL_PARAMETER
    assert BIO_new_mem_buf(b"ab", 10) is None
    assert BIO_new_mem_buf("text", 2) is None  # type: ignore[arg-type]
    assert err.ERR_get_error() != 0
