"""C-API cases for BIO_f_buffer.pod (buffering filter BIOs) and the chain behaviour of filters (BIO_push.pod
EXAMPLES, BIO_ctrl.pod NOTES, BIO_read.pod NOTES): a buffering BIO pushed in front of a memory BIO or of one half of
a BIO pair, watched from both ends of the chain."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness import Harness
from specs.cases._bio import call, mem, owned, pair

pytestmark = pytest.mark.needs("c_api")


def buffered(h: Harness, o: Any, sink: Any) -> Any:
    """A buffering BIO pushed onto ``sink``; popped before it is freed (the Owned list frees in reverse order)."""
    method = call(h, "BIO_f_buffer")
    assert method is not None, "BIO_f_buffer() returned NULL"
    f = o.bio(call(h, "BIO_new", method))
    assert f is not None, "BIO_new(BIO_f_buffer()) returned NULL"
    assert call(h, "BIO_push", f, sink) == f
    return f


def eof_mem(h: Harness, o: Any, data: bytes = b"") -> Any:
    """A memory BIO holding ``data`` whose empty reads are a plain end of file (0, no retry)."""
    m = mem(h, o)
    call(h, "BIO_set_mem_eof_return", m, 0)
    if data:
        assert call(h, "BIO_write", m, data) == len(data)
    return m


@pytest.mark.clauses("BIO_f_buffer/RETURN VALUES/method", "BIO_f_buffer/DESCRIPTION/writes-buffered",
                     "BIO_f_buffer/NOTES/written-on-full-or-flush", "BIO_push/EXAMPLES/data-flows-down-and-up")
def test_writes_wait_for_a_flush(h: Harness) -> None:
    """Writes to the buffering BIO are all accepted but do not reach the memory BIO behind it until BIO_flush;
    then the memory BIO holds exactly what was written, in order."""
    with owned(h) as o:
        m = mem(h, o)
        f = buffered(h, o, m)
        assert call(h, "BIO_write", f, b"first ") == 6
        assert call(h, "BIO_puts", f, b"second\n") == 7
        assert call(h, "BIO_ctrl_pending", m) == 0, "a write went through the buffering BIO without a flush"
        assert call(h, "BIO_flush", f) == 1
        assert call(h, "BIO_ctrl_pending", m) == 13, "BIO_flush did not write the buffered bytes to the next BIO"
        assert call(h, "BIO_read", m, 64) == (13, b"first second\n")
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/NOTES/written-on-full-or-flush")
def test_a_full_write_buffer_goes_on_by_itself(h: Harness) -> None:
    """With the initial 4096-byte write buffer, 4096 bytes stay buffered; the next byte sends them on."""
    with owned(h) as o:
        m = mem(h, o)
        f = buffered(h, o, m)
        data = h.rng.randbytes(4097)
        assert call(h, "BIO_write", f, data[:4096]) == 4096
        assert call(h, "BIO_ctrl_pending", m) == 0, "4096 bytes did not fit the initial write buffer"
        assert call(h, "BIO_write", f, data[4096:]) == 1
        assert call(h, "BIO_ctrl_pending", m) >= 4096, "a full write buffer was not passed on"
        assert call(h, "BIO_flush", f) == 1
        n, out = call(h, "BIO_read", m, 8192)
        assert (n, out) == (4097, data)
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/NOTES/written-on-full-or-flush")
def test_pop_without_flush_keeps_the_bytes_in_the_filter(h: Harness) -> None:
    """Popping a buffering BIO that still holds output leaves the bytes in it: the sink gets nothing."""
    with owned(h) as o:
        m = mem(h, o)
        f = buffered(h, o, m)
        assert call(h, "BIO_write", f, b"unflushed") == 9
        assert call(h, "BIO_pop", f) == m
        assert call(h, "BIO_ctrl_pending", m) == 0, "popping the buffering BIO flushed it"


@pytest.mark.clauses("BIO_f_buffer/DESCRIPTION/reads-through-buffer", "BIO_push/EXAMPLES/data-flows-down-and-up")
def test_reads_fill_the_buffer_from_the_next_bio(h: Harness) -> None:
    """A 3-byte read from the buffering BIO takes all 100 bytes of the memory BIO behind it into its buffer; the
    following reads return the rest in order without the memory BIO."""
    with owned(h) as o:
        data = h.rng.randbytes(100)
        m = eof_mem(h, o, data)
        f = buffered(h, o, m)
        assert call(h, "BIO_read", f, 3) == (3, data[:3])
        assert call(h, "BIO_ctrl_pending", m) == 0, "the buffering BIO read only what was asked from the next BIO"
        assert call(h, "BIO_read", f, 200) == (97, data[3:]), "the buffered rest did not come out in order"
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/NOTES/whole-reads-and-lines", "BIO_f_buffer/DESCRIPTION/gets-puts")
def test_reads_are_whole_until_the_end(h: Harness) -> None:
    """A 10000-byte read (more than the buffer) returns all 10000 bytes of the memory BIO; a read past the end
    returns what is left; BIO_gets returns one whole line at a time, the last one without its newline."""
    with owned(h) as o:
        data = h.rng.randbytes(10000)
        f = buffered(h, o, eof_mem(h, o, data))
        assert call(h, "BIO_read", f, 10000) == (10000, data), "a large read was not served whole"
        g = buffered(h, o, eof_mem(h, o, b"one\ntwo\nend"))
        assert call(h, "BIO_gets", g, 100) == (4, b"one\n")
        assert call(h, "BIO_gets", g, 100) == (4, b"two\n")
        assert call(h, "BIO_gets", g, 100) == (3, b"end"), "the last, unterminated line was not returned"
        call(h, "BIO_pop", g)
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/NOTES/whole-reads-and-lines", "BIO_read/NOTES/get-line-instead-of-gets")
def test_buffer_gives_gets_to_a_bio_pair(h: Harness) -> None:
    """A BIO pair half has no BIO_gets; with a buffering BIO in front, BIO_gets returns whole lines of what the
    other half wrote."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        assert call(h, "BIO_write", b1, b"GET / HTTP/1.0\r\nHost: x\r\n") == 25
        f = buffered(h, o, b2)
        assert call(h, "BIO_gets", f, 256) == (16, b"GET / HTTP/1.0\r\n")
        assert call(h, "BIO_gets", f, 256) == (9, b"Host: x\r\n")
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/DESCRIPTION/num-lines", "BIO_f_buffer/RETURN VALUES/num-lines")
def test_num_lines_counts_buffered_lines(h: Harness) -> None:
    """Nothing buffered: 0 lines; after a short read pulls 'a\\nb\\nc' into the buffer: 2 lines, then 1, then 0
    as BIO_gets takes them."""
    with owned(h) as o:
        f = buffered(h, o, eof_mem(h, o, b"xa\nb\nc"))
        assert call(h, "BIO_get_buffer_num_lines", f) == 0
        assert call(h, "BIO_read", f, 1) == (1, b"x")
        assert call(h, "BIO_get_buffer_num_lines", f) == 2
        assert call(h, "BIO_gets", f, 16) == (2, b"a\n")
        assert call(h, "BIO_get_buffer_num_lines", f) == 1
        assert call(h, "BIO_gets", f, 16) == (2, b"b\n")
        assert call(h, "BIO_get_buffer_num_lines", f) == 0
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/DESCRIPTION/reset-clears")
def test_reset_drops_buffered_data(h: Harness) -> None:
    """BIO_reset on the buffering BIO: buffered output is gone (a flush writes nothing) and buffered input is gone
    (the next read finds the end)."""
    with owned(h) as o:
        m = eof_mem(h, o, b"abcdef")
        f = buffered(h, o, m)
        assert call(h, "BIO_read", f, 1) == (1, b"a")
        assert call(h, "BIO_write", f, b"out") == 3
        assert call(h, "BIO_reset", f) == 1
        assert call(h, "BIO_read", f, 16)[0] <= 0, "buffered input survived BIO_reset"
        assert call(h, "BIO_flush", f) == 1
        assert call(h, "BIO_ctrl_pending", m) == 0, "buffered output survived BIO_reset"
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/DESCRIPTION/buffer-sizes", "BIO_f_buffer/RETURN VALUES/resize")
def test_write_buffer_size(h: Harness) -> None:
    """A request below 4096 is ignored (still 4096 bytes fit, returns 1); 8192 makes room for 8192 bytes; resizing
    drops buffered output; BIO_set_buffer_size sets both."""
    with owned(h) as o:
        m = mem(h, o)
        f = buffered(h, o, m)
        assert call(h, "BIO_set_write_buffer_size", f, 100) == 1
        assert call(h, "BIO_write", f, b"w" * 4096) == 4096
        assert call(h, "BIO_ctrl_pending", m) == 0, "a size below 4096 was not ignored"
        assert call(h, "BIO_set_write_buffer_size", f, 8192) == 1
        assert call(h, "BIO_flush", f) == 1
        assert call(h, "BIO_ctrl_pending", m) == 0, "resizing the write buffer kept its data"
        assert call(h, "BIO_write", f, b"x" * 8192) == 8192
        assert call(h, "BIO_ctrl_pending", m) == 0, "the write buffer was not enlarged to 8192"
        assert call(h, "BIO_set_buffer_size", f, 16384) == 1
        assert call(h, "BIO_write", f, b"y" * 16384) == 16384
        assert call(h, "BIO_ctrl_pending", m) == 0, "BIO_set_buffer_size did not enlarge the write buffer"
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/DESCRIPTION/buffer-sizes", "BIO_f_buffer/RETURN VALUES/resize")
def test_read_buffer_size(h: Harness) -> None:
    """The read buffer takes 4096 bytes from the next BIO at a time; after BIO_set_read_buffer_size(8192), 8192."""
    with owned(h) as o:
        data = h.rng.randbytes(20000)
        m = eof_mem(h, o, data)
        f = buffered(h, o, m)
        assert call(h, "BIO_read", f, 1) == (1, data[:1])
        assert call(h, "BIO_ctrl_pending", m) == 20000 - 4096, "the read buffer did not start at 4096 bytes"
        assert call(h, "BIO_set_read_buffer_size", f, 8192) == 1
        assert call(h, "BIO_read", f, 1) == (1, data[4096:4097]), "resizing the read buffer kept its data"
        assert call(h, "BIO_ctrl_pending", m) == 20000 - 4096 - 8192
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/DESCRIPTION/set-read-data", "BIO_f_buffer/RETURN VALUES/set-read-data")
def test_set_buffer_read_data(h: Harness) -> None:
    """BIO_set_buffer_read_data puts 5000 bytes (more than the buffer) in front of what the next BIO holds."""
    with owned(h) as o:
        f = buffered(h, o, eof_mem(h, o, b"after"))
        preset = h.rng.randbytes(5000)
        assert call(h, "BIO_set_buffer_read_data", f, preset, 5000) == 1
        assert call(h, "BIO_ctrl_pending", f) == 5000
        assert call(h, "BIO_read", f, 6000) == (5005, preset + b"after")
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_ctrl/NOTES/filters-pass-ctrl-on")
def test_filter_passes_ctrls_on(h: Harness) -> None:
    """With nothing buffered, BIO_ctrl_pending and BIO_eof on the buffering BIO answer for the memory BIO behind
    it; BIO_set_mem_eof_return sent to the filter reaches the memory BIO."""
    with owned(h) as o:
        m = mem(h, o)
        f = buffered(h, o, m)
        assert call(h, "BIO_write", m, b"12345") == 5
        assert call(h, "BIO_ctrl_pending", f) == 5, "BIO_ctrl_pending did not reach the next BIO"
        assert call(h, "BIO_eof", f) == 0
        assert call(h, "BIO_read", m, 5) == (5, b"12345")
        assert call(h, "BIO_eof", f) == 1, "BIO_eof did not reach the next BIO"
        call(h, "BIO_set_mem_eof_return", f, 0)
        assert call(h, "BIO_read", m, 5)[0] == 0, "BIO_set_mem_eof_return on the filter did not reach the memory BIO"
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/NOTES/flush-may-retry", "BIO_ctrl/NOTES/flush-may-retry")
def test_flush_into_a_full_pair_retries(h: Harness) -> None:
    """A buffering BIO over a BIO pair half with a 100-byte buffer: 1000 buffered bytes cannot all be flushed,
    BIO_flush fails with BIO_should_retry and BIO_should_write on the buffering BIO; each time the other half is
    drained, flushing again makes progress, and at last succeeds with all 1000 bytes delivered in order."""
    with owned(h) as o:
        b1, b2 = pair(h, o, 100, 100)
        f = buffered(h, o, b1)
        data = h.rng.randbytes(1000)
        assert call(h, "BIO_write", f, data) == 1000
        got = bytearray()
        for _ in range(20):
            ret = call(h, "BIO_flush", f)
            if ret == 1:
                break
            assert ret <= 0, f"BIO_flush returned {ret}"
            assert call(h, "BIO_should_retry", f) and call(h, "BIO_should_write", f), \
                "a flush that could not finish did not set the write-retry flags on the buffering BIO"
            n, chunk = call(h, "BIO_read", b2, 1000)
            assert n > 0, "the flush made no progress"
            got += chunk
        else:
            raise AssertionError("BIO_flush never succeeded")
        while True:
            n, chunk = call(h, "BIO_read", b2, 1000)
            if n <= 0:
                break
            got += chunk
        assert bytes(got) == data
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_push/EXAMPLES/data-flows-down-and-up")
def test_read_retry_comes_up_the_chain(h: Harness) -> None:
    """Reading through a buffering BIO from an empty BIO pair half: -1 with the read-retry flags on the buffering
    BIO (taken from the pair half), and BIO_get_retry_BIO names the pair half."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        f = buffered(h, o, b2)
        assert call(h, "BIO_read", f, 10) == (-1, b"")
        assert call(h, "BIO_should_retry", f) and call(h, "BIO_should_read", f), \
            "the next BIO's read-retry condition did not come up to the buffering BIO"
        retry_bio, _reason = call(h, "BIO_get_retry_BIO", f)
        assert retry_bio == b2, "BIO_get_retry_BIO did not find the BIO at the end of the chain"
        assert call(h, "BIO_write", b1, b"late") == 4
        assert call(h, "BIO_read", f, 4) == (4, b"late")
        call(h, "BIO_pop", f)


# --- added by the mutation sweep (docs/mutation-sweep.md): one-line engine changes these catch passed before ---------

@pytest.mark.clauses("BIO_ctrl/DESCRIPTION/pending")
def test_wpending_counts_the_write_buffer(h: Harness) -> None:
    """Ten bytes written to a buffering BIO wait in its write buffer: BIO_ctrl_wpending on it reports 10 while the
    next BIO has nothing; after BIO_flush it reports 0."""
    with owned(h) as o:
        m = mem(h, o)
        f = buffered(h, o, m)
        assert call(h, "BIO_write", f, b"0123456789") == 10
        got = call(h, "BIO_ctrl_wpending", f)
        assert got == 10, f"BIO_ctrl_wpending {got} with 10 bytes in the write buffer"
        assert call(h, "BIO_flush", f) == 1
        assert call(h, "BIO_ctrl_wpending", f) == 0
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/DESCRIPTION/buffer-sizes")
def test_a_smaller_read_buffer_is_ignored_and_keeps_the_data(h: Harness) -> None:
    """A read fills the 4096-byte read buffer; BIO_set_read_buffer_size(100) is ignored (below the default), so the
    buffer is not resized and what it holds is still read next (a resize would have cleared it)."""
    with owned(h) as o:
        data = h.rng.randbytes(10000)
        m = eof_mem(h, o, data)
        f = buffered(h, o, m)
        assert call(h, "BIO_read", f, 1) == (1, data[:1])
        assert call(h, "BIO_set_read_buffer_size", f, 100) == 1
        got = call(h, "BIO_read", f, 1)
        assert got == (1, data[1:2]), f"after an ignored resize the next byte read is {got!r}, not the buffered one"
        assert call(h, "BIO_ctrl_pending", m) == 10000 - 4096, "the ignored resize changed what was taken"
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_read/DESCRIPTION/gets-one-line", "BIO_f_buffer/DESCRIPTION/gets-puts")
def test_gets_stops_at_size_minus_one(h: Harness) -> None:
    """Nine bytes and a newline buffered: BIO_gets with size 10 gives the nine bytes (at most size-1), and the next
    BIO_gets the newline."""
    with owned(h) as o:
        m = eof_mem(h, o, b"aaaaaaaaa\nrest\n")
        f = buffered(h, o, m)
        got = call(h, "BIO_gets", f, 10)
        assert got == (9, b"aaaaaaaaa"), f"BIO_gets(size 10) -> {got!r}: more than size-1 bytes or not the line"
        assert call(h, "BIO_gets", f, 10) == (1, b"\n")
        call(h, "BIO_pop", f)


@pytest.mark.clauses("BIO_f_buffer/DESCRIPTION/set-read-data")
def test_set_buffer_read_data_takes_num_bytes(h: Harness) -> None:
    """BIO_set_buffer_read_data(b, buf, 3) with a 10-byte buf fills the read buffer with the first 3 bytes only."""
    with owned(h) as o:
        f = buffered(h, o, eof_mem(h, o, b"after"))
        assert call(h, "BIO_set_buffer_read_data", f, b"0123456789", 3) == 1
        got = call(h, "BIO_ctrl_pending", f)
        assert got == 3, f"BIO_ctrl_pending {got} after BIO_set_buffer_read_data of num=3"
        assert call(h, "BIO_read", f, 100) == (8, b"012after")
        call(h, "BIO_pop", f)
