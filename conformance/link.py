"""The link: the wire between two endpoints, under the harness's control.

Each direction is a :class:`Channel` with its own behaviour:

* ``whole``: everything the sender has written moves at once;
* ``chunk=n``: at most ``n`` bytes move per step (``chunk=1`` is the byte-at-a-time link);
* ``truncate_after=n``: the first ``n`` bytes are delivered, the rest vanishes (the receiver never hears more);
* ``close_after=n``: the first ``n`` bytes are delivered, then the receiver sees end of file;
* ``corrupt_at=k``: the byte at stream offset ``k`` is flipped (XOR 0x01) on its way.

Nothing is lost silently: bytes the receiver does not accept yet stay in flight and are offered again; bytes a
truncating channel drops are counted in ``dropped``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.stacks.base import Endpoint
from conformance.trace import Trace

__all__ = ["Channel", "Link"]


@dataclass
class Channel:
    chunk: int | None = None
    truncate_after: int | None = None
    close_after: int | None = None
    corrupt_at: int | None = None
    # state
    in_flight: bytearray = field(default_factory=bytearray)
    offset: int = 0  # stream offset of the next byte taken from the sender
    delivered: int = 0
    dropped: int = 0
    eof_sent: bool = False
    closed: bool = False  # the sender closed its side (harness-driven)

    def __post_init__(self) -> None:
        for name in ("chunk", "truncate_after", "close_after", "corrupt_at"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < (1 if name == "chunk" else 0)):
                raise ValueError(f"Channel {name} must be a non-negative int (chunk >= 1), got {value!r}")

    @property
    def limit(self) -> int | None:
        """Stream offset after which bytes are no longer delivered."""
        cuts = [v for v in (self.truncate_after, self.close_after) if v is not None]
        return min(cuts) if cuts else None

    def step(self, src: Endpoint, dst: Endpoint, trace: Trace, name: str) -> bool:
        """Move bytes from ``src`` towards ``dst``; ``True`` if anything moved or changed."""
        moved = False
        want = self.chunk if self.chunk is not None else None
        if want is None or len(self.in_flight) < want:
            take = None if want is None else want - len(self.in_flight)
            data = src.take_outgoing(take)
            if data:
                moved = True
                self.in_flight += self._disturb(bytearray(data))
        if self.in_flight:
            batch = bytes(self.in_flight if want is None else self.in_flight[:want])
            accepted = dst.put_incoming(batch)
            if accepted:
                del self.in_flight[:accepted]
                self.delivered += accepted
                moved = True
                flight = f" ({len(self.in_flight)} in flight)" if self.in_flight else ""
                trace.link(f"{name}: {accepted} bytes{flight}")
        limit = self.limit
        if (
            not self.eof_sent
            and not self.in_flight
            and ((self.close_after is not None and limit is not None and self.offset >= limit) or self.closed)
        ):
            dst.put_eof()
            self.eof_sent = True
            moved = True
            trace.link(f"{name}: end of file")
        return moved

    def _disturb(self, data: bytearray) -> bytearray:
        start = self.offset
        self.offset += len(data)
        if self.corrupt_at is not None and start <= self.corrupt_at < self.offset:
            data[self.corrupt_at - start] ^= 0x01
        limit = self.limit
        if limit is not None and self.offset > limit:
            keep = max(0, limit - start)
            self.dropped += len(data) - keep
            del data[keep:]
        return data


class Link:
    """Two channels: client to server and server to client."""

    def __init__(self, c2s: Channel | None = None, s2c: Channel | None = None) -> None:
        self.c2s = c2s or Channel()
        self.s2c = s2c or Channel()

    @classmethod
    def whole(cls) -> Link:
        return cls()

    @classmethod
    def byte_at_a_time(cls) -> Link:
        return cls(Channel(chunk=1), Channel(chunk=1))

    def describe(self) -> str:
        def one(ch: Channel) -> str:
            parts = [f"{k}={getattr(ch, k)}" for k in ("chunk", "truncate_after", "close_after", "corrupt_at")
                     if getattr(ch, k) is not None]
            return ",".join(parts) or "whole"
        return f"c->s[{one(self.c2s)}] s->c[{one(self.s2c)}]"
