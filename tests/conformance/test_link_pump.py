"""The link's disturbances and the pump's deadlock detection, with two in-memory byte-shuffling endpoints."""

from __future__ import annotations

import pytest

from conformance.link import Channel, Link
from conformance.outcome import Outcome, Role, SslError
from conformance.pump import Deadlock, Pump
from conformance.stacks.base import Endpoint
from conformance.trace import Trace


class Pipe(Endpoint):
    """A trivial endpoint: write() queues bytes for the wire, read() returns what arrived (WANT_READ if none)."""

    def __init__(self, role: Role, accept_limit: int | None = None) -> None:
        self.role = role
        self.label = role.value
        self.out = bytearray()
        self.inbox = bytearray()
        self.eof = False
        self.accept_limit = accept_limit

    def do_handshake(self) -> Outcome:
        return Outcome("SSL_do_handshake", 1, SslError.SSL_ERROR_NONE)

    def read(self, size: int) -> Outcome:
        if self.inbox:
            data = bytes(self.inbox[:size])
            del self.inbox[:size]
            return Outcome("SSL_read", len(data), SslError.SSL_ERROR_NONE, data)
        if self.eof:
            return Outcome("SSL_read", 0, SslError.SSL_ERROR_ZERO_RETURN)
        return Outcome("SSL_read", -1, SslError.SSL_ERROR_WANT_READ)

    def write(self, data: bytes) -> Outcome:
        self.out += data
        return Outcome("SSL_write", len(data), SslError.SSL_ERROR_NONE)

    def shutdown(self) -> Outcome:
        return Outcome("SSL_shutdown", 1, SslError.SSL_ERROR_NONE)

    def take_outgoing(self, limit: int | None = None) -> bytes:
        n = len(self.out) if limit is None else min(limit, len(self.out))
        data = bytes(self.out[:n])
        del self.out[:n]
        return data

    def outgoing_pending(self) -> int:
        return len(self.out)

    def put_incoming(self, data: bytes) -> int:
        n = len(data) if self.accept_limit is None else min(len(data), self.accept_limit)
        self.inbox += data[:n]
        return n

    def put_eof(self) -> None:
        self.eof = True


def _pump(link: Link, server_limit: int | None = None) -> tuple[Pipe, Pipe, Pump, Trace]:
    c, s = Pipe(Role.CLIENT), Pipe(Role.SERVER, server_limit)
    trace = Trace()
    return c, s, Pump(c, s, link, trace), trace


def test_whole_link_moves_everything_in_one_step() -> None:
    c, s, pump, _ = _pump(Link.whole())
    c.write(b"x" * 1000)
    assert pump.step_link()
    assert bytes(s.inbox) == b"x" * 1000


def test_byte_link_moves_one_byte_per_step() -> None:
    c, s, pump, _ = _pump(Link.byte_at_a_time())
    c.write(b"abc")
    pump.step_link()
    assert bytes(s.inbox) == b"a"
    pump.settle()
    assert bytes(s.inbox) == b"abc"


def test_bytes_not_accepted_stay_in_flight() -> None:
    c, s, pump, _ = _pump(Link.whole(), server_limit=2)
    c.write(b"abcdef")
    pump.step_link()
    assert bytes(s.inbox) == b"ab" and bytes(pump.link.c2s.in_flight) == b"cdef"
    pump.settle()
    assert bytes(s.inbox) == b"abcdef"


def test_truncate_drops_the_rest_silently_and_counts_it() -> None:
    c, s, pump, _ = _pump(Link(Channel(truncate_after=3)))
    c.write(b"abcdef")
    pump.settle()
    assert bytes(s.inbox) == b"abc" and not s.eof and pump.link.c2s.dropped == 3


def test_close_after_delivers_then_signals_eof() -> None:
    c, s, pump, _ = _pump(Link(Channel(close_after=4)))
    c.write(b"abcdef")
    pump.settle()
    assert bytes(s.inbox) == b"abcd" and s.eof


def test_corrupt_flips_exactly_one_byte_at_the_stream_offset() -> None:
    c, s, pump, _ = _pump(Link(Channel(corrupt_at=5, chunk=2)))
    c.write(b"\x00" * 10)
    pump.settle()
    assert bytes(s.inbox) == b"\x00" * 5 + b"\x01" + b"\x00" * 4


def test_invalid_channel_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="chunk"):
        Channel(chunk=0)
    with pytest.raises(ValueError, match="corrupt_at"):
        Channel(corrupt_at=-1)


def test_drive_reaches_goals_across_the_link() -> None:
    c, _, pump, trace = _pump(Link.byte_at_a_time())
    c.write(b"hello")
    result = pump.drive(server=lambda e: e.read(5) if len(getattr(e, "inbox", b"")) >= 5 else
                        Outcome("SSL_read", -1, SslError.SSL_ERROR_WANT_READ))
    assert result.server is not None and result.server.data == b"hello"
    assert result.server_seen.count(SslError.SSL_ERROR_WANT_READ) >= 4
    assert any("SSL_read" in line for line in trace.as_list())


def test_a_round_where_nothing_moves_is_a_deadlock() -> None:
    _, _, pump, trace = _pump(Link.whole())
    with pytest.raises(Deadlock, match="nothing can move") as info:
        pump.drive(lambda e: e.read(1), lambda e: e.read(1))
    assert info.value.trace is trace
    assert "deadlock" in trace.as_list()[-1]


def test_the_round_budget_ends_a_livelock() -> None:
    _, _, pump, _ = _pump(Link.whole())

    def chatty(e: Endpoint) -> Outcome:
        e.write(b".")  # moves a byte every round but never finishes
        return Outcome("SSL_read", -1, SslError.SSL_ERROR_WANT_READ)

    with pytest.raises(Deadlock, match="budget of 50"):
        pump.drive(client=chatty, budget=50)


def test_drive_until_one_side_leaves_the_other_waiting() -> None:
    _, _, pump, _ = _pump(Link.whole())
    result = pump.drive(client=lambda e: e.write(b"x"), server=lambda e: e.read(5), until="client")
    assert result.client is not None and result.client.ok


def test_trace_is_capped() -> None:
    trace = Trace()
    for i in range(Trace.MAX_LINES + 10):
        trace.note(str(i))
    lines = trace.as_list()
    assert len(lines) == Trace.MAX_LINES + 1
    assert lines[0] == "-- 0" and lines[Trace.HEAD] == "... 10 lines omitted ..."
    assert lines[-1] == f"-- {Trace.MAX_LINES + 9}", "the most recent lines are kept"
