"""Cases for SSL_write / SSL_write_ex (and the SSL_get_error codes a write produces)."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from conformance.outcome import SslError
from conformance.pump import reads, writes
from conformance.stacks.capi_endpoint import as_capi_endpoint


def _read_all(pair: object, size: int) -> bytes:
    from conformance.harness import Pair

    assert isinstance(pair, Pair)
    received = bytearray()
    while len(received) < size:
        missing = size - len(received)
        out = pair.drive(server=reads(missing)).server
        assert out is not None and out.ok, f"server read failed after {len(received)} bytes: {out}"
        received += out.data
    return bytes(received)


@pytest.mark.clauses(
    "SSL_write/RETURN VALUES/>0",
    "SSL_write/DESCRIPTION/writes-num-bytes",
)
def test_write_returns_bytes_written(h: Harness) -> None:
    """A successful write returns the number of bytes written, and the peer receives exactly those bytes."""
    pair = h.pair()
    pair.handshake()
    data = bytes(h.rng.randrange(256) for _ in range(1000))
    out = pair.drive(client=lambda e: e.write(data)).client
    assert out is not None and out.ok and out.ret == len(data), out
    assert _read_all(pair, len(data)) == data


@pytest.mark.clauses("SSL_write/NOTES/complete-by-default")
def test_large_write_completes_whole_buffer(h: Harness) -> None:
    """Without partial writes, a write of several records reports success only for the whole buffer."""
    pair = h.pair()
    pair.handshake()
    data = h.rng.randbytes(100_000)
    out = pair.drive(client=lambda e: e.write(data)).client
    assert out is not None and out.ok and out.ret == len(data), out
    assert _read_all(pair, len(data)) == data


@pytest.mark.clauses(
    "SSL_write/NOTES/partial-write-mode",
    "SSL_write/NOTES/partial-write-one-record",
    "SSL_write/NOTES/partial-write-continue-with-rest",
)
@pytest.mark.needs("partial_write")
def test_partial_write_returns_after_one_record(h: Harness) -> None:
    """With SSL_MODE_ENABLE_PARTIAL_WRITE a large write may report success for part of the buffer, one 16 KiB record
    at a time (the default maximum fragment); the rest is written by new calls, and the peer receives everything in
    order."""
    pair = h.pair(client=lambda c: c.with_(partial_write=True))
    pair.handshake()
    data = h.rng.randbytes(100_000)
    sent = 0
    sizes = []
    while sent < len(data):
        out = pair.drive(client=writes(data[sent:])).client
        assert out is not None and out.ok and 0 < out.ret <= len(data) - sent, out
        sizes.append(out.ret)
        sent += out.ret
    assert len(sizes) > 1, f"partial-write mode wrote all {len(data)} bytes in one call"
    assert max(sizes) <= 16384, f"a partial write covers at most one record of 16 KiB: {sizes}"
    # "performed with the size of a message block, which is 16kB": with the default maximum fragment every partial
    # success but the last covers a whole 16 KiB record, not a smaller piece
    assert all(size == 16384 for size in sizes[:-1]), f"a partial write short of a 16 KiB record: {sizes}"
    assert _read_all(pair, len(data)) == data


@pytest.mark.clauses(
    "SSL_write/NOTES/non-blocking-retry",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_WRITE",
    "SSL_write/WARNINGS/retry-same-arguments",
    "SSL_write/NOTES/repeat-call",
    "SSL_write/NOTES/bio-pair-move-data",
    "SSL_write/RETURN VALUES/retryable-via-get-error",
    "SSL_get_error/RETURN VALUES/want-write-only-repeat-write",
)
@pytest.mark.needs("error_codes", "bounded_write_buffer")
def test_write_wants_write_on_full_transport(h: Harness) -> None:
    """A transport buffer smaller than the record: the write reports WANT_WRITE, and repeating the same call
    after the buffer drained completes it."""
    pair = h.pair(client=lambda c: c.with_(write_buffer=512))
    pair.handshake()
    data = h.rng.randbytes(20_000)
    first = pair.call(pair.client, lambda e: e.write(data))
    assert first.error is SslError.SSL_ERROR_WANT_WRITE, first
    # Drain the transport and repeat the call with the same arguments until it completes.
    out = first
    received = bytearray()
    for _ in range(10_000):
        pair.pump.step_link()
        got = pair.call(pair.server, lambda e: e.read(65536))
        assert got.ok or got.retry, f"the peer's read failed while the write was repeated: {got}"
        received += got.data
        out = pair.call(pair.client, lambda e: e.write(data))
        if not out.retry:
            break
    assert out.ok and out.ret == len(data), out
    # the repeated call finishes the one write: the peer receives the buffer once, whole and in order
    received += _read_all(pair, len(data) - len(received))
    assert bytes(received) == data, "the peer did not receive exactly the bytes of the repeated write"


@pytest.mark.clauses("SSL_write/WARNINGS/zero-length-write")
@pytest.mark.needs("zero_length_write", "error_codes")
def test_zero_length_write_is_an_error(h: Harness) -> None:
    """SSL_write with num = 0 is documented to fail."""
    pair = h.pair()
    pair.handshake()
    if pair.client.write_function != "SSL_write":
        h.not_applicable(f"{h.stack.name} writes through {pair.client.write_function}, not SSL_write")
    out = pair.call(pair.client, lambda e: e.write(b""))
    assert not out.ok, f"a zero-length SSL_write must fail: {out}"


@pytest.mark.clauses("SSL_write/WARNINGS/zero-length-write-ex")
@pytest.mark.needs("zero_length_write", "error_codes")
def test_zero_length_write_ex_sends_nothing(h: Harness) -> None:
    """SSL_write_ex with num = 0 is allowed and puts no application data on the wire. A C-API stack is asked
    through SSL_write_ex itself (its endpoint's write is SSL_write); a binding whose write is not SSL_write_ex has no
    way to make that call."""
    pair = h.pair()
    pair.handshake()
    if pair.client.write_function != "SSL_write_ex":
        if not h.has("c_api"):
            h.not_applicable(f"{h.stack.name}'s write is its {pair.client.write_function} (or the nearest call it "
                             "has) and it offers no SSL_write_ex to call with num = 0")
        client = as_capi_endpoint(pair.client)
        before = client.outgoing_pending()
        ret, written = h.capi.SSL_write_ex(client.ssl, b"")
        assert (ret, written) == (1, 0), f"a zero-length SSL_write_ex should succeed writing nothing: {ret}, {written}"
        assert client.outgoing_pending() == before, "a zero-length SSL_write_ex must not send a record"
        return
    before = pair.client.outgoing_pending()
    out = pair.call(pair.client, lambda e: e.write(b""))
    assert out.ok and out.ret == 0, f"a zero-length SSL_write_ex should succeed writing nothing: {out}"
    assert pair.client.outgoing_pending() == before, "a zero-length SSL_write_ex must not send a record"


@pytest.mark.clauses(
    "SSL_write/NOTES/implicit-handshake",
    "SSL_write/NOTES/set-role-first",
    "SSL_get_error/RETURN VALUES/io-handles-pending-handshake",
)
@pytest.mark.needs("implicit_handshake_on_write")
def test_write_performs_implicit_handshake(h: Harness) -> None:
    """A client that calls SSL_write without SSL_connect performs the handshake inside the write."""
    pair = h.pair()
    result = pair.drive(client=lambda e: e.write(b"first words"), server=lambda e: e.do_handshake())
    assert result.client is not None and result.client.ok and result.client.ret == 11, result.client
    assert _read_all(pair, 11) == b"first words"
