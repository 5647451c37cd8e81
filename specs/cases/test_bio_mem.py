"""C-API cases for BIO_s_mem.pod (memory BIOs) and the BIO_read.pod I/O functions as seen on memory BIOs."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from specs.cases._bio import call, clear, drain, has_entry, mem, owned, pair

pytestmark = pytest.mark.needs("c_api")


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/grows-as-needed", "BIO_s_mem/RETURN VALUES/methods",
                     "BIO_s_mem/DESCRIPTION/read-back-and-consume", "BIO_s_mem/DESCRIPTION/pending",
                     "BIO_s_mem/NOTES/writes-always-succeed")
def test_mem_bio_keeps_everything_written(h: Harness) -> None:
    """1 MiB written in pieces is all stored (no retry ever), counted by BIO_ctrl_pending and read back in order;
    reading removes what was read."""
    with owned(h) as o:
        assert call(h, "BIO_s_mem") is not None
        m = mem(h, o)
        data = h.rng.randbytes(1 << 20)
        for i in range(0, len(data), 65536):
            assert call(h, "BIO_write", m, data[i:i + 65536]) == 65536, "a memory BIO refused part of a write"
        assert not call(h, "BIO_should_retry", m)
        assert call(h, "BIO_ctrl_pending", m) == len(data)
        n, first = call(h, "BIO_read", m, 1000)
        assert (n, first) == (1000, data[:1000])
        assert call(h, "BIO_ctrl_pending", m) == len(data) - 1000, "reading did not remove the bytes read"
        rest = bytearray()
        while True:
            n, chunk = call(h, "BIO_read", m, 300000)
            if n <= 0:
                break
            rest += chunk
        assert bytes(rest) == data[1000:], "the memory BIO gave back other bytes"


@pytest.mark.clauses("BIO_s_mem/NOTES/writes-always-succeed")
def test_mem_bio_takes_a_large_write_at_once(h: Harness) -> None:
    """A single 4 MiB write is accepted whole: memory BIOs have no size limit."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_write", m, b"\x5a" * (4 << 20)) == 4 << 20
        assert call(h, "BIO_ctrl_pending", m) == 4 << 20


@pytest.mark.clauses("BIO_s_mem/NOTES/write-after-partial-read")
def test_mem_bio_interleaved_reads_and_writes_keep_order(h: Harness) -> None:
    """Small reads between writes: the unread bytes stay ahead of newly written ones, nothing lost or doubled."""
    with owned(h) as o:
        m = mem(h, o)
        sent, got = bytearray(), bytearray()
        for i in range(200):
            chunk = bytes([i % 251]) * (i % 17 + 5)
            assert call(h, "BIO_write", m, chunk) == len(chunk)
            sent += chunk
            n, data = call(h, "BIO_read", m, 7)
            if n > 0:
                got += data
        n, data = call(h, "BIO_read", m, len(sent))
        if n > 0:
            got += data
        assert bytes(got) == bytes(sent), "interleaved reads and writes reordered or lost bytes"


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/secmem", "BIO_s_mem/RETURN VALUES/methods")
def test_secmem_bio_behaves_like_a_memory_bio(h: Harness) -> None:
    """A BIO_s_secmem BIO stores, counts and returns data like a BIO_s_mem BIO."""
    with owned(h) as o:
        method = call(h, "BIO_s_secmem")
        assert method is not None, "BIO_s_secmem() returned NULL"
        b = o.bio(call(h, "BIO_new", method))
        assert b is not None
        assert call(h, "BIO_write", b, b"secret") == 6
        assert call(h, "BIO_ctrl_pending", b) == 6
        assert call(h, "BIO_read", b, 10) == (6, b"secret")


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/gets-puts", "BIO_read/DESCRIPTION/gets-one-line",
                     "BIO_read/RETURN VALUES/gets-count", "BIO_read/DESCRIPTION/puts",
                     "BIO_read/RETURN VALUES/positive-count")
def test_mem_bio_gets_and_puts(h: Harness) -> None:
    """BIO_puts writes the string (returning its length); BIO_gets reads one line with its newline, or size-1
    bytes of a longer line."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_puts", m, b"first line\nsecond\nlast") == 22
        assert call(h, "BIO_gets", m, 100) == (11, b"first line\n")
        assert call(h, "BIO_gets", m, 4) == (3, b"sec"), "BIO_gets did not stop at size-1 bytes"
        assert call(h, "BIO_gets", m, 100) == (4, b"ond\n")
        assert call(h, "BIO_gets", m, 100) == (4, b"last"), "the last line without a newline"


@pytest.mark.clauses("BIO_read/DESCRIPTION/gets-binary", "BIO_read/RETURN VALUES/gets-count")
def test_mem_bio_gets_with_a_nul_byte(h: Harness) -> None:
    """A line with a NUL in it: the length may be the whole line or stop at the NUL, and the bytes up to it are
    the input's."""
    with owned(h) as o:
        m = mem(h, o)
        line = b"ab\x00cd\n"
        assert call(h, "BIO_write", m, line) == len(line)
        n, data = call(h, "BIO_gets", m, 100)
        assert n in (2, len(line)), f"BIO_gets returned {n} for a line with a NUL at offset 2"
        assert data == line[:n]


@pytest.mark.clauses("BIO_read/RETURN VALUES/gets-error")
def test_gets_with_a_negative_size_fails(h: Harness) -> None:
    """BIO_gets with a negative buffer size is an error: -1."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_write", m, b"line\n") == 5
        clear(h)
        n, data = call(h, "BIO_gets", m, -1)
        drain(h)
        assert (n, data) == (-1, b""), f"BIO_gets(size -1) returned {n}"


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/reset-read-write", "BIO_ctrl/DESCRIPTION/reset")
def test_mem_reset_empties_a_read_write_bio(h: Harness) -> None:
    """BIO_reset on a read-write memory BIO discards its contents."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_write", m, b"abcdef") == 6
        assert call(h, "BIO_read", m, 2)[0] == 2
        call(h, "BIO_reset", m)
        assert call(h, "BIO_ctrl_pending", m) == 0, "BIO_reset left data in a read-write memory BIO"
        assert call(h, "BIO_eof", m) == 1


@pytest.mark.clauses("BIO_ctrl/RETURN VALUES/reset")
def test_mem_reset_returns_one(h: Harness) -> None:
    """BIO_reset that emptied a memory BIO returns 1."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_write", m, b"abcdef") == 6
        ret = call(h, "BIO_reset", m)
        assert call(h, "BIO_ctrl_pending", m) == 0
        assert ret == 1, f"BIO_reset emptied the memory BIO but returned {ret}"


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/reset-read-write", "BIO_s_mem/NOTES/nonclear-reset-interleaved")
def test_mem_nonclear_reset_rewinds_to_the_last_write(h: Harness) -> None:
    """With BIO_FLAGS_NONCLEAR_RST, BIO_reset rewinds to just after the last write: reads after it are undone,
    reads before it are not."""
    with owned(h) as o:
        m = mem(h, o)
        call(h, "BIO_set_flags", m, K.BIO_FLAGS_NONCLEAR_RST)
        assert call(h, "BIO_write", m, b"abcdef") == 6
        assert call(h, "BIO_read", m, 2) == (2, b"ab")
        assert call(h, "BIO_reset", m) == 1
        assert call(h, "BIO_read", m, 10) == (6, b"abcdef"), "the reset did not rewind to the last write"
        call(h, "BIO_reset", m)
        assert call(h, "BIO_read", m, 1) == (1, b"a")
        assert call(h, "BIO_write", m, b"XY") == 2
        assert call(h, "BIO_read", m, 3) == (3, b"bcd")
        call(h, "BIO_reset", m)
        assert call(h, "BIO_read", m, 20) == (7, b"bcdefXY"), "reads before the last write should stay done"


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/reset-read-only", "BIO_s_mem/DESCRIPTION/new-mem-buf")
def test_mem_reset_restores_a_read_only_bio(h: Harness) -> None:
    """BIO_reset on a BIO_new_mem_buf BIO makes all of its data readable again."""
    with owned(h) as o:
        r = o.bio(call(h, "BIO_new_mem_buf", b"hello world"))
        assert r is not None
        assert call(h, "BIO_read", r, 5) == (5, b"hello")
        call(h, "BIO_reset", r)
        assert call(h, "BIO_read", r, 100) == (11, b"hello world"), "the reset did not restore the original data"


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/new-mem-buf", "BIO_s_mem/RETURN VALUES/new-mem-buf",
                     "BIO_s_mem/DESCRIPTION/read-back-and-consume")
def test_new_mem_buf_serves_the_given_bytes(h: Harness) -> None:
    """BIO_new_mem_buf serves 'len' bytes, or with len -1 the bytes up to the first NUL, then end of file."""
    with owned(h) as o:
        r = o.bio(call(h, "BIO_new_mem_buf", b"abc\x00def"))
        assert call(h, "BIO_read", r, 100) == (7, b"abc\x00def")
        n, _ = call(h, "BIO_read", r, 100)
        assert n <= 0
        s = o.bio(call(h, "BIO_new_mem_buf", b"abc\x00def", -1))
        assert s is not None
        assert call(h, "BIO_read", s, 100) == (3, b"abc"), "len -1 did not stop at the NUL"


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/new-mem-buf-end-is-eof")
def test_new_mem_buf_ends_with_end_of_file(h: Harness) -> None:
    """Once a BIO_new_mem_buf BIO has handed out its data, a read is end of file: 0 and no retry (nothing more can
    come), read after read."""
    with owned(h) as o:
        r = o.bio(call(h, "BIO_new_mem_buf", b"fixed data"))
        assert call(h, "BIO_read", r, 100) == (10, b"fixed data")
        for attempt in (1, 2):
            n, data = call(h, "BIO_read", r, 100)
            retry = call(h, "BIO_should_retry", r)
            assert (n, data, retry) == (0, b"", 0), (
                f"read #{attempt} past the end of a BIO_new_mem_buf BIO: {n} {data!r}, BIO_should_retry {retry}; "
                "end of file is 0 with no retry")


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/new-mem-buf", "BIO_read/RETURN VALUES/write-error")
def test_new_mem_buf_refuses_writes(h: Harness) -> None:
    """A write to a BIO_new_mem_buf BIO fails with -1 and an error entry, and its data is unchanged."""
    with owned(h) as o:
        r = o.bio(call(h, "BIO_new_mem_buf", b"fixed"))
        clear(h)
        assert call(h, "BIO_write", r, b"x") == -1, "a write to a read-only memory BIO did not fail with -1"
        assert has_entry(h), "the refused write left no error entry"
        assert call(h, "BIO_read", r, 100) == (5, b"fixed")


@pytest.mark.clauses("BIO_s_mem/RETURN VALUES/new-mem-buf")
def test_new_mem_buf_without_a_buffer_returns_null(h: Harness) -> None:
    """BIO_new_mem_buf(NULL, 5) fails: NULL."""
    clear(h)
    b = call(h, "BIO_new_mem_buf", None, 5)
    if b is not None:
        h.capi.BIO_free(b)
    drain(h)
    assert b is None, "BIO_new_mem_buf(NULL, 5) returned a BIO"


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/eof-when-empty", "BIO_ctrl/RETURN VALUES/eof", "BIO_ctrl/DESCRIPTION/eof")
def test_mem_eof_when_empty(h: Harness) -> None:
    """BIO_eof is 1 for an empty memory BIO, 0 while it holds data."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_eof", m) == 1
        assert call(h, "BIO_write", m, b"x") == 1
        assert call(h, "BIO_eof", m) == 0
        assert call(h, "BIO_read", m, 5) == (1, b"x")
        assert call(h, "BIO_eof", m) == 1


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/eof-return-zero", "BIO_s_mem/RETURN VALUES/set-mem-eof-return",
                     "BIO_should_retry/DESCRIPTION/should-retry")
def test_mem_eof_return_zero_means_end_of_file(h: Harness) -> None:
    """After BIO_set_mem_eof_return(b, 0) an empty memory BIO reads as end of file: 0 and no retry."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_set_mem_eof_return", m, 0) == 1
        n, data = call(h, "BIO_read", m, 10)
        assert (n, data) == (0, b""), f"an empty memory BIO with eof return 0 read {n}"
        assert not call(h, "BIO_should_retry", m), "end of file was marked for retry"


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/eof-return-nonzero", "BIO_s_mem/RETURN VALUES/set-mem-eof-return",
                     "BIO_read/NOTES/zero-or-minus-one-may-be-retry", "BIO_should_retry/DESCRIPTION/should-retry",
                     "BIO_should_retry/DESCRIPTION/should-read")
def test_mem_eof_return_nonzero_means_retry(h: Harness) -> None:
    """An empty memory BIO returns its eof value (-1 by default, or the value set) and is marked for a read
    retry."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_read", m, 10) == (-1, b""), "a new empty memory BIO did not return -1"
        assert call(h, "BIO_should_retry", m), "the default -1 is not marked for retry"
        assert call(h, "BIO_set_mem_eof_return", m, -7) == 1
        assert call(h, "BIO_read", m, 10) == (-7, b""), "the empty BIO did not return the value set"
        assert call(h, "BIO_should_retry", m), "a non-zero eof value is not marked for retry"
        assert call(h, "BIO_should_read", m), "the retry is not marked as a read retry"


@pytest.mark.clauses("BIO_s_mem/RETURN VALUES/set-mem-eof-return")
def test_set_mem_eof_return_on_a_pair_half_fails(h: Harness) -> None:
    """BIO_set_mem_eof_return on a BIO that is not a memory BIO does not succeed (0 or less)."""
    with owned(h) as o:
        b1, _ = pair(h, o)
        ret = call(h, "BIO_set_mem_eof_return", b1, -1)
        drain(h)
        assert ret <= 0, f"BIO_set_mem_eof_return on a pair half returned {ret}"
        ret = call(h, "BIO_set_mem_eof_return", None, -1)
        drain(h)
        assert ret <= 0, f"BIO_set_mem_eof_return on NULL returned {ret}"


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/get-mem-data", "BIO_s_mem/RETURN VALUES/get-mem-data")
def test_get_mem_data_shows_without_consuming(h: Harness) -> None:
    """BIO_get_mem_data gives the length and the bytes still in the BIO and does not consume them."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_get_mem_data", m)[0] == 0
        assert call(h, "BIO_write", m, b"hello") == 5
        assert call(h, "BIO_get_mem_data", m) == (5, b"hello")
        assert call(h, "BIO_ctrl_pending", m) == 5, "BIO_get_mem_data consumed data"
        assert call(h, "BIO_read", m, 2) == (2, b"he")
        assert call(h, "BIO_get_mem_data", m) == (3, b"llo")


@pytest.mark.clauses("BIO_read/RETURN VALUES/write-count")
@pytest.mark.states("null-handle")
def test_write_of_nothing_returns_zero(h: Harness) -> None:
    """BIO_write with length 0, or a negative length, writes nothing and returns 0; so does BIO_write on NULL."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_write", None, b"x") == 0, "BIO_write on a NULL BIO did not return 0"
        assert call(h, "BIO_write", m, b"abc", -5) == 0, "BIO_write with a negative length did not return 0"
        assert call(h, "BIO_write", m, b"") == 0, "BIO_write of 0 bytes did not return 0"
        assert call(h, "BIO_ctrl_pending", m) == 0


@pytest.mark.clauses("BIO_read/RETURN VALUES/write-ex", "BIO_read/DESCRIPTION/write-ex", "BIO_read/DESCRIPTION/read-ex",
                     "BIO_read/RETURN VALUES/read-ex")
def test_write_ex_and_read_ex_on_memory(h: Harness) -> None:
    """BIO_write_ex: 1 and the count written, also for 0 bytes; 0 on a read-only BIO. BIO_read_ex: 1 with data,
    0 on an empty BIO and for a 0-byte read."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_write_ex", m, b"") == (1, 0), "a 0-byte BIO_write_ex is not an error"
        assert call(h, "BIO_write_ex", m, b"abcdef") == (1, 6)
        assert call(h, "BIO_read_ex", m, 4) == (1, b"abcd")
        assert call(h, "BIO_read_ex", m, 0) == (0, b""), "a 0-byte BIO_read_ex read nothing and must return 0"
        assert call(h, "BIO_read_ex", m, 10) == (1, b"ef")
        assert call(h, "BIO_read_ex", m, 10) == (0, b"")
        r = o.bio(call(h, "BIO_new_mem_buf", b"ro"))
        clear(h)
        assert call(h, "BIO_write_ex", r, b"x")[0] == 0, "BIO_write_ex to a read-only BIO did not return 0"
        drain(h)


@pytest.mark.clauses("BIO_s_mem/RETURN VALUES/get-mem-data")
@pytest.mark.states("null-handle")
def test_get_mem_data_of_null_returns_zero(h: Harness) -> None:
    """BIO_get_mem_data with a NULL BIO returns 0, the value the page gives for that case."""
    clear(h)
    ret, data = call(h, "BIO_get_mem_data", None)
    drain(h)
    assert (ret, data) == (0, b""), f"BIO_get_mem_data(NULL) returned {ret}"
