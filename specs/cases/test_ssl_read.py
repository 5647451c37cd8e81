"""Cases for SSL_read / SSL_read_ex / SSL_peek (and the SSL_get_error codes a read produces)."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import SslError
from conformance.pump import writes
from specs.cases._wire import ALERT_CIPHERTEXT, records, words


@pytest.mark.clauses(
    "SSL_read/RETURN VALUES/>0",
    "SSL_read/DESCRIPTION/reads-up-to-num",
    "SSL_read/NOTES/returns-buffered-without-waiting",
)
def test_read_returns_bytes_read(h: Harness) -> None:
    """A read asking for more than arrived returns what arrived, with its length as return value."""
    pair = h.pair()
    pair.handshake()
    pair.drive(client=lambda e: e.write(b"hello"))
    out = pair.drive(server=lambda e: e.read(100)).server
    assert out is not None and out.ok and out.ret == 5 and out.data == b"hello", out


@pytest.mark.clauses(
    "SSL_read/NOTES/leftover-stays-buffered",
    "SSL_read/RETURN VALUES/>0",
)
def test_read_leftover_stays_buffered(h: Harness) -> None:
    """Bytes of a record not taken by one read are returned by the next, in order."""
    pair = h.pair()
    pair.handshake()
    pair.drive(client=lambda e: e.write(b"0123456789"))
    first = pair.drive(server=lambda e: e.read(4)).server
    assert first is not None and first.data == b"0123", first
    second = pair.call(pair.server, lambda e: e.read(100))
    assert second.ok and second.data == b"456789", f"the rest of the record must be readable at once: {second}"


@pytest.mark.clauses("SSL_read/NOTES/pending-tells-buffered")
@pytest.mark.needs("pending")
def test_pending_counts_buffered_plaintext(h: Harness) -> None:
    """After a short read, SSL_pending reports the bytes that can be read without touching the transport."""
    pair = h.pair()
    pair.handshake()
    pair.drive(client=lambda e: e.write(b"0123456789"))
    pair.drive(server=lambda e: e.read(4))
    assert pair.server.pending() == 6
    out = pair.call(pair.server, lambda e: e.read(6))
    assert out.data == b"456789" and pair.server.pending() == 0, out


@pytest.mark.clauses("SSL_read/NOTES/one-record-per-call")
def test_read_returns_at_most_one_record(h: Harness) -> None:
    """Two records waiting: one read returns the contents of the first only."""
    pair = h.pair()
    pair.handshake()
    pair.drive(client=lambda e: e.write(b"A" * 10))
    pair.drive(client=lambda e: e.write(b"B" * 10))
    out = pair.drive(server=lambda e: e.read(100)).server
    assert out is not None and out.data == b"A" * 10, f"expected only the first record: {out}"
    rest = pair.drive(server=lambda e: e.read(100)).server
    assert rest is not None and rest.data == b"B" * 10, rest


@pytest.mark.clauses(
    "SSL_read/NOTES/record-needs-several-reads",
    "SSL_read/NOTES/whole-record-before-success",
)
@pytest.mark.needs("error_codes")
def test_read_waits_for_the_whole_record(h: Harness) -> None:
    """A record arriving byte by byte is delivered only once complete; until then the read wants more."""
    pair = h.pair()
    pair.handshake()
    pair.call(pair.client, lambda e: e.write(b"z" * 200))  # no link movement: the case moves the bytes
    wire = pair.client.take_outgoing()
    assert len(wire) > 200
    for i in range(len(wire) - 1):
        pair.server.put_incoming(wire[i:i + 1])
        out = pair.call(pair.server, lambda e: e.read(1000))
        if out.ok:
            raise AssertionError(f"data delivered after {i + 1} of {len(wire)} bytes of the record: {out}")
        assert out.error is SslError.SSL_ERROR_WANT_READ, out
    pair.server.put_incoming(wire[-1:])
    out = pair.call(pair.server, lambda e: e.read(1000))
    assert out.ok and out.data == b"z" * 200, out


@pytest.mark.clauses(
    "SSL_read/NOTES/non-blocking-retry",
    "SSL_read/NOTES/repeat-call",
    "SSL_read/NOTES/bio-pair-move-data",
    "SSL_read/RETURN VALUES/retryable-via-get-error",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_READ",
)
@pytest.mark.needs("error_codes")
def test_read_wants_read_with_nothing_to_read(h: Harness) -> None:
    """A read on an established connection with no data waiting reports WANT_READ; it works once data arrives."""
    pair = h.pair()
    pair.handshake()
    out = pair.call(pair.server, lambda e: e.read(10))
    assert out.error is SslError.SSL_ERROR_WANT_READ, out
    pair.drive(client=lambda e: e.write(b"late"))
    again = pair.call(pair.server, lambda e: e.read(10))
    assert again.ok and again.data == b"late", again


@pytest.mark.clauses("SSL_read/RETURN VALUES/<=0")
@pytest.mark.needs("raw_return_values")
def test_read_failure_returns_nonpositive(h: Harness) -> None:
    """A read that cannot deliver data returns <= 0 (raw C return value)."""
    pair = h.pair()
    pair.handshake()
    out = pair.call(pair.server, lambda e: e.read(10))
    assert out.ret <= 0 and out.error is SslError.SSL_ERROR_WANT_READ, out


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/SSL_ERROR_ZERO_RETURN",
    "SSL_read/RETURN VALUES/<=0",
)
@pytest.mark.needs("error_codes")
def test_read_after_close_notify_is_zero_return(h: Harness) -> None:
    """Once the peer's close_notify has arrived, a read reports ZERO_RETURN, and keeps doing so."""
    pair = h.pair()
    pair.handshake()
    pair.send(b"before close")
    pair.drive(client=lambda e: e.shutdown())
    out = pair.drive(server=lambda e: e.read(10)).server
    assert out is not None and out.error is SslError.SSL_ERROR_ZERO_RETURN, out
    assert out.data == b""
    if h.has("raw_return_values"):
        assert out.ret <= 0, out
    # "No more data can be read" (SSL_get_error.pod): the next read reports the same, not an error or a wait
    again = pair.call(pair.server, lambda e: e.read(10))
    assert again.error is SslError.SSL_ERROR_ZERO_RETURN and again.data == b"", (
        f"a second read after the peer's close_notify must report ZERO_RETURN again: {again}")
    if h.has("raw_return_values"):
        assert again.ret <= 0, again


@pytest.mark.clauses(
    "SSL_get_error/NOTES/unexpected-eof-is-ssl-error",
    "SSL_get_error/NOTES/peer-without-close-notify",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
)
@pytest.mark.needs("error_codes")
def test_read_unexpected_eof_is_ssl_error(h: Harness) -> None:
    """The transport ends without close_notify: SSL_ERROR_SSL with an entry on the error queue that names the
    unexpected EOF (SSL_get_error.pod: SSL_R_UNEXPECTED_EOF_WHILE_READING of the SSL library). On the C API the
    entry's library and reason codes are checked; a binding must at least hand the entry's text on."""
    pair = h.pair()
    pair.handshake()
    pair.send(b"data")
    pair.link.c2s.closed = True
    pair.settle()
    out = pair.call(pair.server, lambda e: e.read(10))
    assert out.error is SslError.SSL_ERROR_SSL, out
    assert out.reason, f"SSL_ERROR_SSL for an unexpected EOF must come with an error-queue entry: {out}"
    assert "eof" in out.reason.lower(), f"the error-queue entry should name the unexpected EOF: {out}"
    if h.stack.lacks("c_api") is None:
        api = h.capi
        code = api.ERR_peek_error()
        lib, reason = api.ERR_GET_LIB(code), api.ERR_GET_REASON(code)
        assert (lib, reason) == (K.ERR_LIB_SSL, K.SSL_R_UNEXPECTED_EOF_WHILE_READING), (
            f"the first error-queue entry is library {lib}, reason {reason} ({out.reason}); the page names "
            f"SSL_R_UNEXPECTED_EOF_WHILE_READING ({K.SSL_R_UNEXPECTED_EOF_WHILE_READING}) of ERR_LIB_SSL "
            f"({K.ERR_LIB_SSL})")


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/zero-return-on-ignored-eof",
                     "SSL_CTX_set_options/NOTES/ignore-unexpected-eof")
@pytest.mark.needs("error_codes", "ignore_unexpected_eof")
def test_read_unexpected_eof_ignored_is_zero_return(h: Harness) -> None:
    """With SSL_OP_IGNORE_UNEXPECTED_EOF a bare EOF reads like a close_notify: ZERO_RETURN."""
    pair = h.pair(server=lambda c: c.with_(ignore_unexpected_eof=True))
    pair.handshake()
    pair.send(b"data")
    pair.link.c2s.closed = True
    pair.settle()
    out = pair.call(pair.server, lambda e: e.read(10))
    assert out.error is SslError.SSL_ERROR_ZERO_RETURN, out


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL",
    "SSL_get_error/RETURN VALUES/fatal-no-further-io",
    "SSL_read/NOTES/record-integrity-checked",
)
@pytest.mark.needs("error_codes")
def test_read_corrupted_record_is_ssl_error(h: Harness) -> None:
    """One flipped bit in an application-data record: SSL_ERROR_SSL with a reason naming the failed deprotection,
    not a byte of it delivered, the connection failed for good, and one fatal alert sent: bad_record_mac (RFC 9846
    section 5.2), which the peer's next read reports as its reason."""
    pair = h.pair()
    pair.handshake()
    pair.link.c2s.corrupt_at = pair.link.c2s.offset + 10
    pair.drive(client=lambda e: e.write(b"secret payload"))  # the corrupted record now waits at the server
    out = pair.call(pair.server, lambda e: e.read(100))
    assert out.error is SslError.SSL_ERROR_SSL, out
    assert out.data == b"", "no data may be delivered from a record that failed its integrity check"
    assert "bad record mac" in words(out.reason) or "decrypt" in words(out.reason), (
        f"the reason should name the failed record deprotection: {out}")
    again = pair.call(pair.server, lambda e: e.read(100))
    assert not again.ok and again.data == b"", f"the connection must stay failed: {again}"
    sent = pair.server.take_outgoing()
    seen = [(r.type, r.length) for r in records(sent)]
    assert seen == [(23, ALERT_CIPHERTEXT)], f"the server must answer with one protected alert record, not {seen}"
    pair.client.put_incoming(sent)
    peer = pair.call(pair.client, lambda e: e.read(100))
    assert peer.error is SslError.SSL_ERROR_SSL and "bad record mac" in words(peer.reason), (
        f"the alert the server sent must be bad_record_mac: the client's read gave {peer}")
    # After SSL_ERROR_SSL no further I/O: a write and SSL_shutdown fail too, and nothing more goes on the wire.
    wrote = pair.call(pair.server, lambda e: e.write(b"after the failure"))
    assert wrote.fatal, f"a write on the failed connection must fail: {wrote}"
    closed = pair.call(pair.server, lambda e: e.shutdown())
    assert not closed.ok, f"SSL_shutdown on the failed connection must not report success: {closed}"
    if h.has("raw_return_values"):
        assert closed.ret < 0, f"SSL_shutdown on the failed connection returned {closed.ret}, not < 0"
    assert pair.server.outgoing_pending() == 0, "the failed connection must not write anything more"


@pytest.mark.clauses(
    "SSL_read/NOTES/implicit-handshake",
    "SSL_read/NOTES/set-role-first",
    "SSL_get_error/RETURN VALUES/io-handles-pending-handshake",
)
@pytest.mark.needs("implicit_handshake_on_read")
def test_read_performs_implicit_handshake(h: Harness) -> None:
    """A server that only ever calls SSL_read still completes the handshake inside those reads."""
    pair = h.pair()
    client = None
    for _ in range(50):
        client = pair.call(pair.client, lambda e: e.do_handshake())
        server = pair.call(pair.server, lambda e: e.read(100))
        assert server.retry, f"the server's read must wait (handshake, then data), not fail: {server}"
        pair.pump.step_link()
        if client.ok:
            break
    assert client is not None and client.ok, f"the client handshake never completed: {client}"
    pair.drive(client=lambda e: e.write(b"via implicit handshake"))
    out = pair.drive(server=lambda e: e.read(100)).server
    assert out is not None and out.data == b"via implicit handshake", out


@pytest.mark.clauses("SSL_read/DESCRIPTION/peek-keeps-data")
@pytest.mark.needs("peek")
def test_peek_leaves_data_for_read(h: Harness) -> None:
    """SSL_peek returns data without consuming it; the next SSL_read returns the same bytes."""
    pair = h.pair()
    pair.handshake()
    pair.drive(client=lambda e: e.write(b"look but don't take"))
    peeked = pair.drive(server=lambda e: e.peek(100)).server
    assert peeked is not None and peeked.data == b"look but don't take", peeked
    read = pair.call(pair.server, lambda e: e.read(100))
    assert read.data == peeked.data, read


@pytest.mark.clauses("SSL_read/NOTES/read-may-write")
@pytest.mark.needs("implicit_handshake_on_read")
def test_read_can_write(h: Harness) -> None:
    """A server's first SSL_read, given the ClientHello, answers it: the read puts bytes on the transport."""
    pair = h.pair()
    pair.call(pair.client, lambda e: e.do_handshake())
    pair.pump.step_link()
    assert pair.server.outgoing_pending() == 0
    out = pair.call(pair.server, lambda e: e.read(100))
    assert out.retry, f"there is no application data yet, the read must wait: {out}"
    assert pair.server.outgoing_pending() > 0, "the read should have written the server's handshake flight"


@pytest.mark.clauses("SSL_read/NOTES/max-record-16k")
def test_reads_return_at_most_one_record_of_16k(h: Harness) -> None:
    """A 100 000-byte write arrives as records of at most 16 KiB: no read returns more than 16384 bytes."""
    pair = h.pair()
    pair.handshake()
    data = h.rng.randbytes(100_000)
    sent = 0
    while sent < len(data):
        out = pair.drive(client=writes(data[sent:])).client
        assert out is not None and out.ok, out
        sent += out.ret
    received = bytearray()
    sizes = []
    while len(received) < len(data):
        got = pair.drive(server=lambda e: e.read(1 << 20)).server
        assert got is not None and got.ok, got
        sizes.append(len(got.data))
        received += got.data
    assert bytes(received) == data
    assert max(sizes) <= 16384, f"a read returned more than one record: {max(sizes)} bytes"


@pytest.mark.clauses("SSL_read/NOTES/renegotiation-transparent", "SSL_write/NOTES/renegotiation-transparent")
@pytest.mark.needs("renegotiation", "tls1_2")
def test_renegotiation_inside_read_and_write(h: Harness) -> None:
    """A TLS 1.2 server asks for renegotiation; the client only reads and writes application data, and the new
    handshake is carried out inside those calls."""
    pair = h.pair(client=lambda c: c.with_(max_version="TLSv1.2"))
    pair.handshake()
    started = pair.drive(server=lambda e: e.renegotiate()).server
    assert started is not None and started.ok, started
    assert pair.server.renegotiation_pending()
    for i in range(3):
        got = pair.drive(server=writes(b"to client %d" % i), client=lambda e: e.read(100))
        assert got.client is not None and got.client.data == b"to client %d" % i, got.client
        back = pair.drive(client=writes(b"to server %d" % i), server=lambda e: e.read(100))
        assert back.server is not None and back.server.data == b"to server %d" % i, back.server
    assert not pair.server.renegotiation_pending(), "the renegotiation never completed"
