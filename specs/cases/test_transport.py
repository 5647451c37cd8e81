"""The retry rules hold on every transport buffer size, down to a BIO pair of one byte."""

from __future__ import annotations

import pytest

from conformance.harness import Harness, Pair
from conformance.pump import writes

SIZES = [(1, 1500), (7, 4000), (512, 40_000), (4096, 100_000)]


def _transfer(pair: Pair, data: bytes, *, to_server: bool, max_rounds: int = 2_000_000) -> None:
    """The writer repeats its write while it is asked to retry, the reader reads whatever is there, and the link
    moves bytes, until every byte has arrived; a round in which nothing at all happens is a failure."""
    writer, reader = (pair.client, pair.server) if to_server else (pair.server, pair.client)
    sent = 0
    received = bytearray()
    for _ in range(max_rounds):
        progress = False
        if sent < len(data):
            out = pair.call(writer, writes(data[sent:sent + 16384]))
            if out.ok:
                sent += out.ret
                progress = True
            else:
                assert out.retry, f"write failed after {sent} bytes: {out}"
        got = pair.call(reader, lambda e: e.read(65536))
        if got.ok:
            received += got.data
            progress = True
        else:
            assert got.retry, f"read failed after {len(received)} bytes: {got}"
        progress = pair.pump.step_link() or progress
        if len(received) >= len(data):
            break
        assert progress, f"nothing moved with {sent} bytes sent and {len(received)} received"
    assert bytes(received) == data


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/retry-unbounded",
    "SSL_write/NOTES/non-blocking-retry",
    "SSL_read/NOTES/non-blocking-retry",
    "SSL_do_handshake/NOTES/non-blocking-retry",
)
@pytest.mark.needs("bounded_write_buffer")
@pytest.mark.parametrize(("size", "amount"), SIZES, ids=[f"{s}-byte-buffers" for s, _ in SIZES])
def test_small_transport_buffers(h: Harness, size: int, amount: int) -> None:
    """Both directions bounded to ``size`` bytes (outgoing and incoming): the handshake and data in both directions
    complete through WANT_READ/WANT_WRITE retries alone."""
    pair = h.pair(client=lambda c: c.with_(write_buffer=size, read_buffer=size),
                  server=lambda c: c.with_(write_buffer=size, read_buffer=size))
    pair.handshake()
    data = h.rng.randbytes(amount)
    _transfer(pair, data, to_server=True)
    _transfer(pair, data[::-1], to_server=False)
