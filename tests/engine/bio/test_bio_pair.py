"""engine.bio.pair: BIO_s_bio.pod behaviour, and the same call sequences on libcrypto.so.3 where available."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from engine import err
from engine.bio import (
    BIO_ctrl_get_read_request,
    BIO_ctrl_get_write_guarantee,
    BIO_ctrl_pending,
    BIO_ctrl_reset_read_request,
    BIO_ctrl_wpending,
    BIO_destroy_bio_pair,
    BIO_eof,
    BIO_free,
    BIO_get_read_request,
    BIO_get_write_buf_size,
    BIO_get_write_guarantee,
    BIO_make_bio_pair,
    BIO_new,
    BIO_new_bio_pair,
    BIO_read,
    BIO_read_ex,
    BIO_reset,
    BIO_s_bio,
    BIO_s_mem,
    BIO_set_write_buf_size,
    BIO_should_read,
    BIO_should_retry,
    BIO_should_write,
    BIO_shutdown_wr,
    BIO_test_flags,
    BIO_write,
    BIO_write_ex,
)
from engine.bio.constants import BIO_R_BROKEN_PIPE, BIO_R_IN_USE, BIO_R_INVALID_ARGUMENT, BIO_R_UNINITIALIZED


def setup_function() -> None:
    err.ERR_clear_error()


def _reason() -> int:
    return err.ERR_GET_REASON(err.ERR_get_error())


def test_default_size_is_17k() -> None:
    ret, b1, b2 = BIO_new_bio_pair(0, 0)
    assert ret == 1
    assert BIO_get_write_buf_size(b1) == BIO_get_write_buf_size(b2) == 17 * 1024
    assert BIO_ctrl_get_write_guarantee(b1) == 17 * 1024


def test_empty_read_requests_retry_and_records_read_request() -> None:
    _, b1, b2 = BIO_new_bio_pair(100, 100)
    assert BIO_read(b1, 50) == (-1, b"")
    assert BIO_should_retry(b1) == 1 and BIO_should_read(b1) == 1 and BIO_should_write(b1) == 0
    assert BIO_get_read_request(b2) == 50 and BIO_ctrl_get_read_request(b2) == 50
    assert BIO_read(b1, 1000) == (-1, b"")
    assert BIO_get_read_request(b2) == 100  # capped at the write guarantee
    assert BIO_write(b2, b"ab") == 2
    assert BIO_get_read_request(b2) == 0  # satisfied by a write
    assert BIO_read(b1, 10) == (2, b"ab") and BIO_should_retry(b1) == 0
    assert err.ERR_peek_error() == 0


def test_reset_read_request() -> None:
    _, b1, b2 = BIO_new_bio_pair(0, 0)
    BIO_read(b1, 7)
    assert BIO_ctrl_get_read_request(b2) == 7
    assert BIO_ctrl_reset_read_request(b2) == 1
    assert BIO_ctrl_get_read_request(b2) == 0


def test_full_buffer_short_write_then_retry() -> None:
    _, b1, b2 = BIO_new_bio_pair(10, 7)
    assert BIO_write(b1, b"x" * 15) == 10
    assert BIO_get_write_guarantee(b1) == 0
    assert BIO_write(b1, b"y") == -1
    assert BIO_should_retry(b1) == 1 and BIO_should_write(b1) == 1 and BIO_should_read(b1) == 0
    assert BIO_ctrl_wpending(b1) == 10 and BIO_ctrl_pending(b2) == 10 and BIO_ctrl_pending(b1) == 0
    assert BIO_read(b2, 4) == (4, b"xxxx")
    assert BIO_write_ex(b1, b"abcdef") == (1, 4)
    assert err.ERR_peek_error() == 0


def test_shutdown_wr_gives_eof_and_broken_pipe() -> None:
    _, b1, b2 = BIO_new_bio_pair(0, 0)
    BIO_write(b2, b"hi")
    assert BIO_shutdown_wr(b2) == 1
    assert BIO_eof(b1) == 0
    assert BIO_read(b1, 10) == (2, b"hi")
    assert BIO_eof(b1) == 1
    assert BIO_read(b1, 10) == (0, b"") and BIO_should_retry(b1) == 0
    assert BIO_read_ex(b1, 10) == (0, b"")
    assert BIO_write(b2, b"x") == -1 and BIO_should_retry(b2) == 0
    assert _reason() == BIO_R_BROKEN_PIPE
    assert BIO_get_write_guarantee(b2) == 0


def test_read_request_never_exceeds_guarantee_after_shutdown() -> None:
    # BIO_s_bio DESCRIPTION; libcrypto 3.0 still reports 50 here (documentation erratum)
    _, b1, b2 = BIO_new_bio_pair(100, 100)
    BIO_read(b1, 50)
    BIO_shutdown_wr(b2)
    assert BIO_get_read_request(b2) == 0


def test_set_write_buf_size_rules() -> None:
    _, b1, _b2 = BIO_new_bio_pair(0, 0)
    assert BIO_set_write_buf_size(b1, 100) == 0 and _reason() == BIO_R_IN_USE
    b = BIO_new(BIO_s_bio())
    assert BIO_set_write_buf_size(b, 0) == 0 and _reason() == BIO_R_INVALID_ARGUMENT
    assert BIO_set_write_buf_size(b, -5) == 0 and _reason() == BIO_R_INVALID_ARGUMENT
    assert BIO_set_write_buf_size(b, 33) == 1 and BIO_get_write_buf_size(b) == 33


def test_new_bio_pair_rejects_bad_sizes() -> None:
    assert BIO_new_bio_pair(-1, 0) == (0, None, None)
    assert err.ERR_peek_error() != 0
    assert BIO_new_bio_pair(0, 2**64) == (0, None, None)
    assert BIO_new_bio_pair("x", 0) == (0, None, None)  # type: ignore[arg-type]


def test_unpaired_and_destroyed() -> None:
    b = BIO_new(BIO_s_bio())
    assert BIO_read(b, 5) == (-1, b"") and _reason() == BIO_R_UNINITIALIZED
    assert BIO_write(b, b"abc") == -1 and _reason() == BIO_R_UNINITIALIZED
    assert BIO_eof(b) == 1 and BIO_ctrl_pending(b) == 0 and BIO_get_write_guarantee(b) == 0
    _, b1, b2 = BIO_new_bio_pair(0, 0)
    BIO_write(b1, b"data")
    assert BIO_destroy_bio_pair(b1) == 1
    assert BIO_read(b2, 5) == (-1, b"") and _reason() == BIO_R_UNINITIALIZED
    assert BIO_make_bio_pair(b1, b2) == 1
    assert BIO_ctrl_pending(b2) == 0  # pairing starts empty
    assert BIO_make_bio_pair(b1, b2) == 0 and _reason() == BIO_R_IN_USE
    assert BIO_make_bio_pair(b, b1) == 0 and _reason() == BIO_R_IN_USE
    assert BIO_make_bio_pair(b, BIO_new(BIO_s_mem())) == 0
    assert BIO_make_bio_pair(b, None) == 0
    err.ERR_clear_error()


def test_free_one_half_unpairs_the_other() -> None:
    _, b1, b2 = BIO_new_bio_pair(0, 0)
    assert BIO_free(b1) == 1
    assert BIO_write(b2, b"x") == -1 and _reason() == BIO_R_UNINITIALIZED
    assert BIO_read(b1, 1) == (-1, b"") and err.ERR_get_error() != 0  # use after free is detected
    assert BIO_free(b1) == 0
    assert BIO_free(b2) == 1


def test_reset_clears_write_buffer() -> None:
    _, b1, b2 = BIO_new_bio_pair(0, 0)
    BIO_write(b1, b"abc")
    assert BIO_reset(b1) == 1  # BIO_ctrl RETURN VALUES; libcrypto 3.0 returns 0 (erratum)
    assert BIO_ctrl_pending(b2) == 0


def test_zero_and_negative_lengths() -> None:
    _, b1, _b2 = BIO_new_bio_pair(0, 0)
    assert BIO_read(b1, 0) == (0, b"") and BIO_read(b1, -1) == (0, b"")
    assert BIO_write(b1, b"") == 0 and BIO_write(b1, b"x", -1) == 0
    assert BIO_write_ex(b1, b"") == (1, 0)
    assert BIO_write(b1, b"ab", 5) == -1  # dlen beyond the data
    assert err.ERR_get_error() != 0


def test_bulk_transfer_keeps_order() -> None:
    _, b1, b2 = BIO_new_bio_pair(0, 0)
    payload = bytes(range(256)) * 4000
    out = bytearray()
    pos = 0
    while len(out) < len(payload):
        if pos < len(payload):
            n = BIO_write(b1, payload[pos : pos + 16384])
            if n > 0:
                pos += n
        ret, data = BIO_read(b2, 5000)
        if ret > 0:
            out += data
    assert bytes(out) == payload


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_a_kept_buffer_reads_as_a_copied_one(kind: Any) -> None:
    """A whole bytes object written into an empty buffer is kept without a copy (engine.bio.pair); every sequence of
    reads, writes, short writes and resets reads exactly as with a copied one, and a caller's later change to a
    mutable buffer it wrote is never seen."""
    _, b1, b2 = BIO_new_bio_pair(100, 0)
    first = bytearray(b"0123456789" * 3)
    assert BIO_write(b1, kind(first)) == 30
    first[0:1] = b"X"  # the caller's buffer changes after the write
    assert BIO_ctrl_pending(b2) == 30 and BIO_ctrl_wpending(b1) == 30 and BIO_ctrl_get_write_guarantee(b1) == 70
    assert BIO_read(b2, 4) == (4, b"0123")
    assert BIO_write(b1, kind(b"abc")) == 3  # appended to the rest of the kept object
    assert BIO_read(b2, 100) == (29, b"456789" + b"0123456789" * 2 + b"abc")
    assert BIO_write(b1, kind(b"z" * 60)) == 60
    assert BIO_write(b1, kind(b"y" * 60)) == 40  # a short write after a kept object: what fits
    assert BIO_read(b2, 100) == (100, b"z" * 60 + b"y" * 40)
    assert BIO_write(b1, kind(b"kept")) == 4
    assert BIO_reset(b1) == 1 and BIO_ctrl_pending(b2) == 0
    assert BIO_read(b2, 10) == (-1, b"") and BIO_should_read(b2)
    assert BIO_write(b1, kind(b"w" * 10)[2:]) == 8  # a view of part of an object: copied
    assert BIO_read(b2, 3) == (3, b"www") and BIO_read(b2, 10) == (5, b"wwwww")


def test_self_pair_is_a_loopback() -> None:
    b = BIO_new(BIO_s_bio())
    assert BIO_make_bio_pair(b, b) == 1  # libcrypto allows it too
    assert BIO_write(b, b"echo") == 4
    assert BIO_read(b, 10) == (4, b"echo")


# --- the same sequence on libcrypto.so.3 ------------------------------------------------------------------------
def _libcrypto() -> Any:
    try:
        lib = ctypes.CDLL("libcrypto.so.3")
    except OSError:
        pytest.skip("libcrypto.so.3 not available for comparison")
    vp = ctypes.c_void_p
    lib.BIO_new_bio_pair.argtypes = [ctypes.POINTER(vp), ctypes.c_size_t, ctypes.POINTER(vp), ctypes.c_size_t]
    lib.BIO_ctrl.restype = ctypes.c_long
    lib.BIO_ctrl.argtypes = [vp, ctypes.c_int, ctypes.c_long, vp]
    lib.BIO_read.argtypes = [vp, ctypes.c_char_p, ctypes.c_int]
    lib.BIO_write.argtypes = [vp, ctypes.c_char_p, ctypes.c_int]
    lib.BIO_test_flags.argtypes = [vp, ctypes.c_int]
    lib.BIO_free.argtypes = [vp]
    lib.ERR_get_error.restype = ctypes.c_ulong
    return lib


def test_same_returns_and_flags_as_libcrypto() -> None:
    lib = _libcrypto()
    c1, c2 = ctypes.c_void_p(), ctypes.c_void_p()
    assert lib.BIO_new_bio_pair(ctypes.byref(c1), 10, ctypes.byref(c2), 0) == 1
    _, e1, e2 = BIO_new_bio_pair(10, 0)
    lib.ERR_clear_error()

    def c_read(b: Any, n: int) -> tuple[int, int, int]:
        buf = ctypes.create_string_buffer(max(n, 1))
        r = lib.BIO_read(b, buf, n)
        return (r, 1 if lib.BIO_test_flags(b, 0x8) else 0, lib.BIO_test_flags(b, 0x7))

    def c_write(b: Any, d: bytes) -> tuple[int, int, int]:
        r = lib.BIO_write(b, d, len(d))
        return (r, 1 if lib.BIO_test_flags(b, 0x8) else 0, lib.BIO_test_flags(b, 0x7))

    def e_read(b: Any, n: int) -> tuple[int, int, int]:
        r, _ = BIO_read(b, n)
        return (r, BIO_should_retry(b), BIO_test_flags(b, 0x7))

    def e_write(b: Any, d: bytes) -> tuple[int, int, int]:
        return (BIO_write(b, d), BIO_should_retry(b), BIO_test_flags(b, 0x7))

    steps: list[tuple[str, int, Any]] = [
        ("r", 1, 5), ("w", 1, b"x" * 15), ("w", 1, b"y"), ("r", 2, 3), ("r", 2, 100), ("r", 2, 100),
        ("w", 2, b"abc"), ("r", 1, 2), ("s", 2, None), ("r", 1, 5), ("r", 1, 5), ("w", 2, b"z"),
    ]  # fmt: skip
    cb = {1: c1, 2: c2}
    eb = {1: e1, 2: e2}
    for op, which, arg in steps:
        if op == "r":
            c, e = c_read(cb[which], arg), e_read(eb[which], arg)
        elif op == "w":
            c, e = c_write(cb[which], arg), e_write(eb[which], arg)
        else:
            c = (lib.BIO_ctrl(cb[which], 142, 0, None), 0, 0)
            e = (BIO_shutdown_wr(eb[which]), 0, 0)
        assert c == e, (op, which, arg)
        for b_c, b_e in ((c1, e1), (c2, e2)):
            assert lib.BIO_ctrl(b_c, 10, 0, None) == BIO_ctrl_pending(b_e)
            assert lib.BIO_ctrl(b_c, 13, 0, None) == BIO_ctrl_wpending(b_e)
            assert lib.BIO_ctrl(b_c, 140, 0, None) == BIO_get_write_guarantee(b_e)
            assert lib.BIO_ctrl(b_c, 2, 0, None) == BIO_eof(b_e)
        assert err.ERR_GET_REASON(lib.ERR_get_error()) == err.ERR_GET_REASON(err.ERR_get_error())
    lib.BIO_free(c1)
    lib.BIO_free(c2)


def test_read_record_is_the_two_reads_of_one_whole_record() -> None:
    """engine.ssl's record reader asks a pair half for a whole record at once (_PairHalf.read_record): only when the
    peer's buffer is a kept bytes object holding exactly one non-empty record, and then the pair ends as the two
    reads (the 5-byte header, then the body) leave it; otherwise nothing is read and nothing changes."""
    record = b"\x17\x03\x03\x00\x04body"
    _, b1, b2 = BIO_new_bio_pair(0, 0)
    impl = b2.impl
    assert BIO_read(b2, 5) == (-1, b"") and BIO_should_retry(b2) and BIO_get_read_request(b1) == 5
    assert BIO_write(b1, record) == 9
    assert BIO_should_retry(b2) == 1  # still set from the empty read: read_record clears it, as a read does
    got = impl.read_record(b2)
    assert got is not None
    assert got[0] == record[:5] and bytes(got[1]) == record[5:] and isinstance(got[1], memoryview)
    assert BIO_should_retry(b2) == 0 and BIO_get_read_request(b1) == 0
    assert BIO_ctrl_pending(b2) == 0 and BIO_ctrl_get_write_guarantee(b1) == 17 * 1024
    assert impl.read_record(b2) is None and BIO_read(b2, 5) == (-1, b"")  # nothing left
    # not exactly one whole record: None, and the bytes read as before
    for data in (record + record, record[:8], b"\x17\x03\x03\x00\x00", b"\x17\x03\x03\x00\x05body"):
        assert BIO_write(b1, data) == len(data)
        assert impl.read_record(b2) is None
        assert BIO_ctrl_pending(b2) == len(data)
        assert BIO_read(b2, 100) == (len(data), data)
    assert BIO_write(b1, bytearray(record)) == 9  # copied into the buffer, not kept: read the usual way
    assert impl.read_record(b2) is None and BIO_read(b2, 100) == (9, record)
