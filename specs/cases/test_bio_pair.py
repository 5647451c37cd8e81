"""C-API cases for BIO_s_bio.pod: BIO pairs, their buffers, retry flags, read requests and write guarantees, the
flush-before-waiting rule (with the pump's deadlock detection) and SSL objects on a pair."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.link import Link
from conformance.outcome import Role, SslError
from conformance.pump import Deadlock, Pump
from conformance.stacks.base import EndpointConfig
from conformance.stacks.capi_endpoint import new_context
from specs.cases._bio import (
    RequestResponseApp,
    call,
    clear,
    drain,
    has_entry,
    mem,
    owned,
    pair,
    wait_before_flushing_link,
)

pytestmark = pytest.mark.needs("c_api")

DEFAULT_17K = (17 * 1024, 17000)  # "17K", read either way (see the clause's note)


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/method", "BIO_s_bio/DESCRIPTION/make-bio-pair", "BIO_new/DESCRIPTION/new",
                     "BIO_new/RETURN VALUES/new")
def test_pair_from_bio_new_and_make_pair(h: Harness) -> None:
    """Two BIO_new(BIO_s_bio()) BIOs joined with BIO_make_bio_pair() form a working pair."""
    with owned(h) as o:
        method = call(h, "BIO_s_bio")
        assert method is not None, "BIO_s_bio() returned NULL"
        a, b = o.bio(call(h, "BIO_new", method)), o.bio(call(h, "BIO_new", method))
        assert a is not None and b is not None, "BIO_new(BIO_s_bio()) returned NULL"
        assert call(h, "BIO_make_bio_pair", a, b) == 1, "BIO_make_bio_pair of two fresh halves did not return 1"
        assert call(h, "BIO_write", a, b"ping") == 4
        assert call(h, "BIO_read", b, 10) == (4, b"ping"), "the other half did not read what was written"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/make-bio-pair")
def test_make_bio_pair_refuses_a_paired_bio(h: Harness) -> None:
    """Joining a half that already has a peer fails (0) and leaves the existing pair intact."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        extra = o.bio(call(h, "BIO_new", call(h, "BIO_s_bio")))
        clear(h)
        assert call(h, "BIO_make_bio_pair", extra, b1) == 0, "pairing with an already-paired half did not fail"
        assert call(h, "BIO_make_bio_pair", b1, extra) == 0, "pairing an already-paired half did not fail"
        drain(h)
        assert call(h, "BIO_write", b1, b"still") == 5
        assert call(h, "BIO_read", b2, 10) == (5, b"still"), "the first pair broke"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/write-one-read-other", "BIO_read/DESCRIPTION/read-write",
                     "BIO_read/RETURN VALUES/positive-count", "BIO_read/RETURN VALUES/write-count")
def test_pair_carries_bytes_both_ways(h: Harness) -> None:
    """Bytes written into either half come out of the other, in order, independently per direction."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        one, two = h.rng.randbytes(3000), h.rng.randbytes(1234)
        assert call(h, "BIO_write", b1, one) == len(one)
        assert call(h, "BIO_write", b2, two) == len(two)
        got = bytearray()
        while len(got) < len(one):
            n, data = call(h, "BIO_read", b2, 700)
            assert 0 < n <= 700 and len(data) == n, f"BIO_read returned {n}"
            got += data
        assert bytes(got) == one, "b2 read other bytes than b1 wrote"
        assert call(h, "BIO_read", b1, 5000) == (len(two), two), "b1 read other bytes than b2 wrote"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/read-empty-requests-retry", "BIO_s_bio/EXAMPLES/never-blocks",
                     "BIO_read/NOTES/zero-or-minus-one-may-be-retry", "BIO_read/RETURN VALUES/zero-or-minus-one",
                     "BIO_should_retry/DESCRIPTION/should-retry", "BIO_should_retry/DESCRIPTION/should-read",
                     "BIO_should_retry/DESCRIPTION/retry-type")
def test_pair_read_empty_requests_retry(h: Harness) -> None:
    """An empty half answers a read at once with no data and the read-retry condition set."""
    with owned(h) as o:
        b1, _ = pair(h, o)
        clear(h)
        n, data = call(h, "BIO_read", b1, 10)
        assert n in (0, -1) and data == b"", f"BIO_read on an empty pair half returned {n}"
        assert call(h, "BIO_should_retry", b1), "an empty pair half did not ask for a retry"
        assert not has_entry(h), "a retry condition left an error entry"
        assert call(h, "BIO_should_read", b1), "the retry of an empty read is not marked as 'read'"
        assert not call(h, "BIO_should_write", b1)
        assert not call(h, "BIO_should_io_special", b1)
        assert call(h, "BIO_retry_type", b1) == K.BIO_FLAGS_READ


@pytest.mark.clauses("BIO_read/RETURN VALUES/read-ex", "BIO_read/DESCRIPTION/read-ex")
def test_pair_read_ex_returns_one_with_data_zero_without(h: Harness) -> None:
    """BIO_read_ex gives 1 and the bytes when there is data, 0 when the half is empty."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        assert call(h, "BIO_read_ex", b2, 8) == (0, b""), "BIO_read_ex on an empty half did not return 0"
        assert call(h, "BIO_write", b1, b"abcdef") == 6
        assert call(h, "BIO_read_ex", b2, 4) == (1, b"abcd")
        assert call(h, "BIO_read_ex", b2, 4) == (1, b"ef"), "BIO_read_ex did not report the 2 remaining bytes"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/write-full-requests-retry", "BIO_s_bio/EXAMPLES/never-blocks",
                     "BIO_should_retry/DESCRIPTION/should-write", "BIO_should_retry/DESCRIPTION/retry-type",
                     "BIO_should_retry/RETURN VALUES/retry-type")
def test_pair_write_full_requests_retry(h: Harness) -> None:
    """A write stores what fits; a write into a full buffer stores nothing and asks for a write retry."""
    with owned(h) as o:
        b1, b2 = pair(h, o, 100, 0)
        assert call(h, "BIO_write", b1, b"x" * 150) == 100, "a write bigger than the free room did not store 100"
        clear(h)
        n = call(h, "BIO_write", b1, b"y")
        assert n in (0, -1), f"a write into a full half returned {n}"
        assert call(h, "BIO_should_retry", b1), "a full half did not ask for a retry"
        assert not has_entry(h), "a retry condition left an error entry"
        assert call(h, "BIO_should_write", b1), "the retry of a full half is not marked as 'write'"
        assert not call(h, "BIO_should_read", b1)
        assert call(h, "BIO_retry_type", b1) == K.BIO_FLAGS_WRITE
        assert call(h, "BIO_read", b2, 40)[0] == 40
        assert call(h, "BIO_write", b1, b"z" * 50) == 40, "after 40 bytes were read, 40 should fit again"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/pending-counts", "BIO_ctrl/DESCRIPTION/pending",
                     "BIO_ctrl/RETURN VALUES/pending-macros", "BIO_ctrl/RETURN VALUES/pending-functions")
def test_pair_pending_counts_readable_bytes(h: Harness) -> None:
    """BIO_pending / BIO_ctrl_pending of the reading half count the bytes it can read."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        assert call(h, "BIO_ctrl_pending", b2) == 0
        assert call(h, "BIO_write", b1, b"0123456789") == 10
        assert call(h, "BIO_pending", b2) == 10
        assert call(h, "BIO_ctrl_pending", b2) == 10
        assert call(h, "BIO_read", b2, 4)[0] == 4
        assert call(h, "BIO_pending", b2) == 6
        assert call(h, "BIO_ctrl_pending", b2) == 6


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/pending-counts", "BIO_ctrl/DESCRIPTION/pending",
                     "BIO_ctrl/RETURN VALUES/pending-macros", "BIO_ctrl/RETURN VALUES/pending-functions")
def test_pair_wpending_counts_unread_written_bytes(h: Harness) -> None:
    """BIO_wpending / BIO_ctrl_wpending of the writing half count the bytes the other half has not read yet."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        assert call(h, "BIO_write", b1, b"0123456789") == 10
        assert call(h, "BIO_wpending", b1) == 10, "BIO_wpending does not count the bytes waiting in the buffer"
        assert call(h, "BIO_ctrl_wpending", b1) == 10
        assert call(h, "BIO_read", b2, 4)[0] == 4
        assert call(h, "BIO_wpending", b1) == 6
        assert call(h, "BIO_ctrl_wpending", b1) == 6


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/reset-clears-write-buffer", "BIO_ctrl/DESCRIPTION/reset")
def test_pair_reset_clears_the_write_buffer(h: Harness) -> None:
    """After BIO_reset on the writing half, the bytes it held are gone for the other half; the bytes travelling the
    other way (the other half's write buffer) are not touched; the pair still works."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        assert call(h, "BIO_write", b1, b"discard me") == 10
        assert call(h, "BIO_write", b2, b"for b1") == 6
        call(h, "BIO_reset", b1)
        assert call(h, "BIO_ctrl_pending", b2) == 0, "the other half still sees the reset bytes"
        n, _ = call(h, "BIO_read", b2, 20)
        assert n <= 0, f"the other half read {n} bytes after the reset"
        assert call(h, "BIO_read", b1, 20) == (6, b"for b1"), (
            "BIO_reset of one half cleared the other half's write buffer too, not only its own")
        assert call(h, "BIO_write", b1, b"kept") == 4
        assert call(h, "BIO_read", b2, 20) == (4, b"kept"), "the pair does not work after BIO_reset"


@pytest.mark.clauses("BIO_ctrl/RETURN VALUES/reset")
def test_pair_reset_returns_one(h: Harness) -> None:
    """BIO_reset that did its job on a pair half returns 1 (BIO_ctrl.pod: 1 for success)."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        assert call(h, "BIO_write", b1, b"discard me") == 10
        ret = call(h, "BIO_reset", b1)
        assert call(h, "BIO_ctrl_pending", b2) == 0, "BIO_reset did not clear the write buffer"
        assert ret == 1, f"BIO_reset cleared the pair half's buffer but returned {ret}, not 1"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/destroy-bio-pair", "BIO_read/RETURN VALUES/write-error")
def test_destroy_bio_pair_unpairs_both_halves(h: Harness) -> None:
    """After BIO_destroy_bio_pair a write on either former half fails with -1 and an error entry."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        assert call(h, "BIO_destroy_bio_pair", b1) == 1
        for half in (b1, b2):
            clear(h)
            assert call(h, "BIO_write", half, b"x") == -1, "a write on an unpaired half did not return -1"
            assert has_entry(h), "a write on an unpaired half left no error entry"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/destroy-bio-pair", "BIO_s_bio/NOTES/free-both-halves",
                     "BIO_new/DESCRIPTION/free-all", "BIO_new/NOTES/free-all-single", "BIO_new/RETURN VALUES/void",
                     "BIO_new/RETURN VALUES/up-ref-free")
def test_freeing_one_half_leaves_the_other_to_free(h: Harness) -> None:
    """BIO_free_all on one half frees only that half: the other one is now unpaired (writes fail) and still has
    to be freed, which succeeds."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        o.forget(b1)
        assert call(h, "BIO_free_all", b1) is None
        clear(h)
        n = call(h, "BIO_write", b2, b"x")
        assert n < 0, f"the surviving half is still paired: a write returned {n}"
        drain(h)
        o.forget(b2)
        assert call(h, "BIO_free", b2) == 1, "freeing the surviving half did not return 1"


@pytest.mark.clauses("BIO_read/RETURN VALUES/write-error", "BIO_read/RETURN VALUES/zero-or-minus-one")
def test_io_on_an_unpaired_half_fails(h: Harness) -> None:
    """A BIO_s_bio BIO that was never paired refuses writes (-1 and an error entry) and reads nothing."""
    with owned(h) as o:
        lone = o.bio(call(h, "BIO_new", call(h, "BIO_s_bio")))
        clear(h)
        assert call(h, "BIO_write", lone, b"abc") == -1, "a write on an unpaired half did not return -1"
        assert has_entry(h), "a write on an unpaired half left no error entry"
        clear(h)
        n, data = call(h, "BIO_read", lone, 3)
        assert n in (0, -1) and data == b"", f"a read on an unpaired half returned {n}"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/shutdown-wr", "BIO_s_bio/NOTES/eof", "BIO_read/RETURN VALUES/write-error",
                     "BIO_ctrl/DESCRIPTION/eof", "BIO_ctrl/RETURN VALUES/eof",
                     "BIO_should_retry/DESCRIPTION/should-retry", "BIO_s_bio/DESCRIPTION/write-guarantee")
def test_shutdown_wr_delivers_the_rest_then_eof(h: Harness) -> None:
    """After BIO_shutdown_wr the half refuses writes, so its write guarantee (what can be written now) is 0; the
    other half reads the buffered bytes, then end of file (0, no retry), and only then reports BIO_eof."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        assert call(h, "BIO_write", b1, b"abc") == 3
        assert call(h, "BIO_eof", b2) == 0, "BIO_eof before any shutdown"
        assert call(h, "BIO_shutdown_wr", b1) == 1
        clear(h)
        assert call(h, "BIO_write", b1, b"d") == -1, "a write after BIO_shutdown_wr did not fail with -1"
        assert has_entry(h), "a write after BIO_shutdown_wr left no error entry"
        for fn in ("BIO_get_write_guarantee", "BIO_ctrl_get_write_guarantee"):
            guarantee = call(h, fn, b1)
            assert guarantee == 0, f"{fn} after BIO_shutdown_wr is {guarantee}, yet every write fails"
        assert call(h, "BIO_eof", b2) == 0, "BIO_eof while buffered data is still unread"
        assert call(h, "BIO_read", b2, 100) == (3, b"abc"), "the buffered bytes did not come out"
        n, _ = call(h, "BIO_read", b2, 100)
        assert n == 0, f"the read after the last byte returned {n}, not 0 (end of file)"
        assert not call(h, "BIO_should_retry", b2), "end of file was reported as a retry"
        assert call(h, "BIO_eof", b2) == 1, "BIO_eof not true after shutdown with nothing left"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/write-buf-size", "BIO_s_bio/DESCRIPTION/get-write-buf-size",
                     "BIO_s_bio/DESCRIPTION/write-guarantee")
def test_write_buf_size_is_set_before_pairing(h: Harness) -> None:
    """BIO_set_write_buf_size on an unpaired half sets the buffer that BIO_get_write_buf_size reports and that
    bounds writes once paired."""
    with owned(h) as o:
        a = o.bio(call(h, "BIO_new", call(h, "BIO_s_bio")))
        b = o.bio(call(h, "BIO_new", call(h, "BIO_s_bio")))
        assert call(h, "BIO_set_write_buf_size", a, 1000) == 1
        assert call(h, "BIO_get_write_buf_size", a) == 1000
        assert call(h, "BIO_make_bio_pair", a, b) == 1
        assert call(h, "BIO_write", a, b"q" * 5000) == 1000, "the write was not bounded by the chosen size"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/write-buf-size", "BIO_s_bio/DESCRIPTION/get-write-buf-size",
                     "BIO_s_bio/DESCRIPTION/new-bio-pair-combines")
def test_default_write_buffer_is_17k(h: Harness) -> None:
    """Size 0 means the default buffer of 17K, which holds a maximum-size TLS record."""
    with owned(h) as o:
        b1, _ = pair(h, o)
        n = call(h, "BIO_write", b1, b"r" * 40000)
        assert n in DEFAULT_17K, f"a default-size half took {n} bytes, not 17K ({DEFAULT_17K})"
        assert n >= 16384 + 256 + 5, "the default buffer does not hold a maximum-size TLS 1.3 record"
        assert call(h, "BIO_get_write_buf_size", b1) == n


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/new-bio-pair-combines", "BIO_s_bio/RETURN VALUES/new-bio-pair-1")
def test_new_bio_pair_uses_both_sizes(h: Harness) -> None:
    """BIO_new_bio_pair(300, 500) returns 1 and two connected halves with 300- and 500-byte write buffers."""
    with owned(h) as o:
        ret, b1, b2 = call(h, "BIO_new_bio_pair", 300, 500)
        o.bio(b1)
        o.bio(b2)
        assert ret == 1 and b1 is not None and b2 is not None, f"BIO_new_bio_pair returned {ret}"
        assert call(h, "BIO_write", b1, b"1" * 1000) == 300
        assert call(h, "BIO_write", b2, b"2" * 1000) == 500
        assert call(h, "BIO_read", b2, 1000) == (300, b"1" * 300)
        assert call(h, "BIO_read", b1, 1000) == (500, b"2" * 500)


@pytest.mark.clauses("BIO_s_bio/RETURN VALUES/new-bio-pair-0")
def test_new_bio_pair_failure_returns_zero_and_nulls(h: Harness) -> None:
    """A write buffer no allocation can satisfy: 0, both BIOs NULL, and the error queue says why."""
    for sizes in ((1 << 62, 0), (0, 1 << 62)):
        clear(h)
        ret, b1, b2 = call(h, "BIO_new_bio_pair", *sizes)
        for b in (b1, b2):
            if b is not None:
                h.capi.BIO_free(b)
        assert (ret, b1, b2) == (0, None, None), f"BIO_new_bio_pair{sizes} returned {ret}, {b1}, {b2}"
        assert has_entry(h), f"the failed BIO_new_bio_pair{sizes} left no error entry"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/write-guarantee")
def test_write_guarantee_bounds_writes(h: Harness) -> None:
    """The write guarantee is the free room: a bigger write stores exactly that much, none left means retry."""
    with owned(h) as o:
        b1, b2 = pair(h, o, 100, 0)
        assert call(h, "BIO_get_write_guarantee", b1) == 100
        assert call(h, "BIO_ctrl_get_write_guarantee", b1) == 100
        assert call(h, "BIO_write", b1, b"a" * 30) == 30
        assert call(h, "BIO_get_write_guarantee", b1) == 70
        assert call(h, "BIO_ctrl_get_write_guarantee", b1) == 70
        assert call(h, "BIO_write", b1, b"b" * 200) == 70, "a write over the guarantee did not store exactly 70"
        assert call(h, "BIO_get_write_guarantee", b1) == 0
        assert call(h, "BIO_write", b1, b"c") in (0, -1)
        assert call(h, "BIO_should_retry", b1) and call(h, "BIO_should_write", b1)
        assert call(h, "BIO_read", b2, 100)[0] == 100
        assert call(h, "BIO_ctrl_get_write_guarantee", b1) == 100


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/read-request", "BIO_s_bio/DESCRIPTION/reset-read-request")
def test_read_request_follows_failed_reads(h: Harness) -> None:
    """The read request is what the other half's failed read asked for (capped at the buffer size); it drops to 0
    when data is written or read, and BIO_ctrl_reset_read_request sets it to 0."""
    with owned(h) as o:
        b1, b2 = pair(h, o, 100, 100)
        assert call(h, "BIO_get_read_request", b1) == 0
        assert call(h, "BIO_read", b2, 40)[0] <= 0
        assert call(h, "BIO_get_read_request", b1) == 40
        assert call(h, "BIO_ctrl_get_read_request", b1) == 40
        assert call(h, "BIO_write", b1, b"x" * 10) == 10
        assert call(h, "BIO_get_read_request", b1) == 0, "a write that meets part of the request did not clear it"
        assert call(h, "BIO_read", b2, 10) == (10, b"x" * 10)
        assert call(h, "BIO_read", b2, 500)[0] <= 0
        assert call(h, "BIO_get_read_request", b1) == 100, "the request is not capped at the 100-byte buffer"
        call(h, "BIO_ctrl_reset_read_request", b1)
        assert call(h, "BIO_get_read_request", b1) == 0, "BIO_ctrl_reset_read_request did not clear the request"
        assert call(h, "BIO_read", b2, 7)[0] <= 0
        assert call(h, "BIO_ctrl_get_read_request", b1) == 7
        assert call(h, "BIO_write", b1, b"y" * 7) == 7
        assert call(h, "BIO_read", b2, 7) == (7, b"y" * 7)
        assert call(h, "BIO_ctrl_get_read_request", b1) == 0, "a successful read did not clear the request"


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/read-request-within-guarantee")
def test_read_request_within_write_guarantee(h: Harness) -> None:
    """In ordinary use (failed reads, partial writes, reads) the read request never exceeds the guarantee."""
    with owned(h) as o:
        b1, b2 = pair(h, o, 64, 64)

        def check(step: str) -> None:
            request = call(h, "BIO_get_read_request", b1)
            guarantee = call(h, "BIO_get_write_guarantee", b1)
            assert request <= guarantee, f"after {step}: read request {request} > write guarantee {guarantee}"

        for size in (1, 63, 64, 1000):
            call(h, "BIO_read", b2, size)
            check(f"a failed read of {size}")
        call(h, "BIO_write", b1, b"z" * 20)
        check("a 20-byte write")
        call(h, "BIO_read", b2, 20)
        call(h, "BIO_read", b2, 1000)
        check("draining and another failed read")


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/read-request-within-guarantee")
def test_read_request_within_write_guarantee_after_shutdown_wr(h: Harness) -> None:
    """A read request pending when the half is shut down for writing: the guarantee drops to 0, so the request
    must not stay above it (writing the requested amount cannot fit any more)."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        assert call(h, "BIO_read", b2, 100)[0] <= 0
        assert call(h, "BIO_get_read_request", b1) == 100
        assert call(h, "BIO_shutdown_wr", b1) == 1
        request = call(h, "BIO_get_read_request", b1)
        guarantee = call(h, "BIO_get_write_guarantee", b1)
        assert request <= guarantee, f"after BIO_shutdown_wr: read request {request} > write guarantee {guarantee}"
        assert call(h, "BIO_ctrl_get_read_request", b1) <= call(h, "BIO_ctrl_get_write_guarantee", b1)


@pytest.mark.clauses("BIO_s_bio/NOTES/flush-before-waiting")
def test_waiting_before_flushing_deadlocks(h: Harness) -> None:
    """NOTES: a request written into a pair and a response read back. If each application, seeing its read ask
    for a retry, waits for incoming data before flushing its own pending output, the request never leaves and the
    pump proves a deadlock. Flushing first completes the exchange."""
    request, response = b"GET /status\n", b"200 OK\n"
    with owned(h) as o:
        client = RequestResponseApp(h, o, f"client({h.stack.name})", client=True, request=request, response=response)
        server = RequestResponseApp(h, o, f"server({h.stack.name})", client=False, request=request,
                                    response=response)
        pump = Pump(client, server, wait_before_flushing_link(), h.trace)
        ended: object = None
        try:
            with pytest.raises(Deadlock):
                ended = pump.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake(), budget=50)
        except pytest.fail.Exception:
            raise AssertionError(f"the wait-before-flushing loop did not deadlock; it ended with {ended}") from None
        assert call(h, "BIO_ctrl_pending", client.network) == len(request), (
            "at the deadlock the client's request should still sit unflushed in its pair")

    with owned(h) as o:
        client = RequestResponseApp(h, o, f"client({h.stack.name})", client=True, request=request, response=response)
        server = RequestResponseApp(h, o, f"server({h.stack.name})", client=False, request=request,
                                    response=response)
        result = Pump(client, server, Link.whole(), h.trace).drive(lambda e: e.do_handshake(),
                                                                   lambda e: e.do_handshake(), budget=50)
        assert result.client is not None and result.client.ok and result.client.data == response
        assert result.server is not None and result.server.ok and result.server.data == request


@pytest.mark.clauses("BIO_s_bio/WARNINGS/want-read-with-output-pending", "BIO_s_bio/NOTES/flush-before-waiting",
                     "BIO_s_bio/DESCRIPTION/application-controlled-transport")
@pytest.mark.needs("client_role", "server_role")
def test_ssl_handshake_waiting_before_flushing_deadlocks(h: Harness) -> None:
    """Two SSL objects on pairs whose applications answer WANT_READ by waiting for the peer before flushing: the
    ClientHello stays in the client's pair and the handshake deadlocks. Moving pending output first completes it
    and carries application data."""
    naive = h.pair(link=wait_before_flushing_link())
    ended: object = None
    try:
        with pytest.raises(Deadlock) as stuck:
            ended = naive.pump.handshake(budget=200)
    except pytest.fail.Exception:
        raise AssertionError(f"the wait-before-flushing handshake did not deadlock; it ended with {ended}") from None
    assert "client" in str(stuck.value) and "SSL_ERROR_WANT_READ" in str(stuck.value), (
        f"the client must be stuck on WANT_READ: {stuck.value}")
    assert naive.client.outgoing_pending() > 0, "the ClientHello should still be pending at the deadlock"
    again = naive.call(naive.client, lambda e: e.do_handshake())
    assert again.error is SslError.SSL_ERROR_WANT_READ, (
        f"the waiting client must report WANT_READ while its ClientHello is pending, not {again}")
    assert naive.client.outgoing_pending() > 0, "the ClientHello must still be pending after the repeated call"
    good = h.pair()
    good.handshake()
    good.send(b"hello over an application-controlled transport")


@pytest.mark.clauses("BIO_s_bio/WARNINGS/want-read-with-output-pending",
                     "BIO_s_bio/EXAMPLES/pending-and-read-request-guide-the-application")
@pytest.mark.needs("client_role", "server_role")
def test_pending_and_read_request_drive_an_ssl_handshake(h: Harness) -> None:
    """SSL_connect reports WANT_READ while its ClientHello is pending on the network half; moving exactly what
    BIO_ctrl_pending shows, and checking BIO_ctrl_get_read_request while a side waits, completes the handshake."""
    p = h.pair()
    client: Any = p.client  # CApiEndpoint: .ssl and .network are the SSL and the application's pair half
    server: Any = p.server
    ret = call(h, "SSL_connect", client.ssl)
    assert ret < 0 and call(h, "SSL_get_error", client.ssl, ret) == SslError.SSL_ERROR_WANT_READ
    assert call(h, "BIO_ctrl_pending", client.network) > 0, (
        "WANT_READ was reported but nothing is pending: where is the ClientHello?")
    done = {"client": False, "server": False}
    for _ in range(50):
        for name, side, fn in (("client", client, "SSL_connect"), ("server", server, "SSL_accept")):
            if done[name]:
                continue
            ret = call(h, fn, side.ssl)
            if ret == 1:
                done[name] = True
                continue
            code = call(h, "SSL_get_error", side.ssl, ret)
            assert code in (SslError.SSL_ERROR_WANT_READ, SslError.SSL_ERROR_WANT_WRITE), f"{fn} failed: {code}"
            if code == SslError.SSL_ERROR_WANT_READ and not call(h, "BIO_ctrl_pending", side.network):
                other = server if side is client else client
                if not call(h, "BIO_ctrl_pending", other.network):
                    assert call(h, "BIO_ctrl_get_read_request", side.network) > 0, (
                        f"{fn} waits for data but its pair shows no read request")
        if all(done.values()):
            return
        for src, dst in ((client, server), (server, client)):
            size = call(h, "BIO_ctrl_pending", src.network)
            if size:
                n, data = call(h, "BIO_read", src.network, size)
                assert n == size, f"BIO_ctrl_pending said {size} but BIO_read gave {n}"
                assert call(h, "BIO_write", dst.network, data) == n
    raise AssertionError(f"handshake incomplete after 50 rounds: {done}")


@pytest.mark.clauses("BIO_s_bio/EXAMPLES/ssl-free-frees-internal-half", "BIO_s_bio/NOTES/free-both-halves")
@pytest.mark.needs("client_role")
def test_ssl_free_frees_the_internal_half_only(h: Harness) -> None:
    """SSL_free frees the half given with SSL_set_bio; the application's half survives, unpaired, and is freed
    with BIO_free."""
    api = h.capi
    ctx = new_context(api, EndpointConfig(role=Role.CLIENT, verify_peer=False))
    try:
        ssl = call(h, "SSL_new", ctx)
        with owned(h) as o:
            internal, network = pair(h, o)
            o.forget(internal)
            call(h, "SSL_set_bio", ssl, internal, internal)
            assert call(h, "BIO_write", network, b"x") == 1, "the pair did not work before SSL_free"
            call(h, "SSL_free", ssl)
            clear(h)
            n = call(h, "BIO_write", network, b"y")
            assert n < 0, f"the network half is still paired after SSL_free: a write returned {n}"
            drain(h)
            o.forget(network)
            assert call(h, "BIO_free", network) == 1, "freeing the surviving network half did not return 1"
    finally:
        api.SSL_CTX_free(ctx)


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/write-one-read-other")
def test_pair_and_memory_bio_differ_in_bound(h: Harness) -> None:
    """Contrast that makes the pair's buffering visible: a memory BIO takes everything, a pair half only its
    buffer's worth."""
    with owned(h) as o:
        m = mem(h, o)
        b1, _ = pair(h, o, 64, 0)
        data = b"m" * 1000
        assert call(h, "BIO_write", m, data) == 1000
        assert call(h, "BIO_write", b1, data) == 64
