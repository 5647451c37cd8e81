"""Pull/push primitives for the TLS presentation language (RFC 9846 section 3).

:class:`Reader` walks a byte string; every read past the end, and every length-prefixed block with bytes left over,
raises :class:`~engine.tls.alerts.TLSAlertError` with decode_error. Writers are plain functions returning bytes
so messages can be built by concatenation.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from .alerts import decode_error

T = TypeVar("T")


class Reader:
    __slots__ = ("_data", "_end", "_pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self._data = data
        self._pos = pos
        self._end = len(data) if end is None else end

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    def eof(self) -> bool:
        return self._pos >= self._end

    def _take(self, n: int) -> int:
        pos = self._pos
        if n > self._end - pos:
            raise decode_error("message truncated")
        self._pos = pos + n
        return pos

    def uint8(self) -> int:
        p = self._take(1)
        return self._data[p]

    def uint16(self) -> int:
        p = self._pos  # _take inlined: every extension, suite and group is a uint16
        if p + 2 > self._end:
            raise decode_error("message truncated")
        self._pos = p + 2
        data = self._data
        return (data[p] << 8) | data[p + 1]

    def uint24(self) -> int:
        p = self._take(3)
        return int.from_bytes(self._data[p : p + 3], "big")

    def uint32(self) -> int:
        p = self._take(4)
        return int.from_bytes(self._data[p : p + 4], "big")

    def raw(self, n: int) -> bytes:
        p = self._take(n)
        return bytes(self._data[p : p + n])

    def rest(self) -> bytes:
        return self.raw(self.remaining)

    def _length(self, size: int) -> int:
        if size == 1:
            return self.uint8()
        if size == 2:
            return self.uint16()
        if size == 3:
            return self.uint24()
        raise ValueError(size)

    def opaque(self, size: int, minimum: int = 0, maximum: int | None = None) -> bytes:
        """``opaque x<minimum..maximum>`` with a ``size``-byte length prefix."""
        if size not in (1, 2, 3):
            raise ValueError(size)
        data, p, end = self._data, self._pos, self._end  # _length and raw inlined: the codec's commonest read
        if p + size > end:
            raise decode_error("message truncated")
        if size == 2:
            n = (data[p] << 8) | data[p + 1]
        elif size == 1:
            n = data[p]
        else:
            n = int.from_bytes(data[p : p + 3], "big")
        p += size
        self._pos = p
        if n < minimum or (maximum is not None and n > maximum):
            raise decode_error(f"vector length {n} out of range")
        if n > end - p:
            raise decode_error("message truncated")
        self._pos = p + n
        return bytes(data[p : p + n])

    @contextmanager
    def block(self, size: int, minimum: int = 0) -> Iterator[Reader]:
        """A length-prefixed block read by a sub-reader that must be consumed exactly."""
        n = self._length(size)
        if n < minimum:
            raise decode_error(f"vector length {n} below minimum {minimum}")
        start = self._take(n)
        sub = Reader(self._data, start, start + n)
        yield sub
        if not sub.eof():
            raise decode_error("trailing bytes in vector")

    def vector(self, size: int, item: Callable[[Reader], T], minimum: int = 0) -> list[T]:
        """Items read by ``item`` until a length-prefixed block is used up (:meth:`block` without the context
        manager, which costs more than the items of a short vector)."""
        n = self._length(size)
        if n < minimum:
            raise decode_error(f"vector length {n} below minimum {minimum}")
        start = self._take(n)
        sub = Reader(self._data, start, start + n)
        out: list[T] = []
        while sub._pos < sub._end:
            out.append(item(sub))
        return out

    def uint16_vector(self, size: int, minimum: int = 0) -> list[int]:
        """``uint16 x<minimum..>`` with a ``size``-byte length prefix: :meth:`vector` with :meth:`uint16` items, read
        in one unpack (suites, groups, signature schemes); an odd length is a truncated last item, as there."""
        n = self._length(size)
        if n < minimum:
            raise decode_error(f"vector length {n} below minimum {minimum}")
        start = self._take(n)
        if n & 1:
            raise decode_error("message truncated")
        return list(_u16s(n >> 1).unpack_from(self._data, start))

    def extension_list(self) -> list[tuple[int, bytes]]:
        """``Extension extensions<0..2^16-1>`` (RFC 9846 section 4.2) in one loop: :meth:`vector` of ``(uint16 type,
        opaque<2>)`` items without a call per item, with the same checks (a header or body past the block is a
        truncated message). A repeated type is the caller's to refuse."""
        n = self.uint16()
        start = self._take(n)
        data, p, end = self._data, start, start + n
        out = []
        while p < end:
            if p + 4 > end:
                raise decode_error("message truncated")
            etype = (data[p] << 8) | data[p + 1]
            m = (data[p + 2] << 8) | data[p + 3]
            p += 4
            if m > end - p:
                raise decode_error("message truncated")
            out.append((etype, bytes(data[p : p + m])))
            p += m
        return out

    def done(self) -> None:
        if not self.eof():
            raise decode_error("trailing bytes after message")


_U16S: dict[int, struct.Struct] = {}


def _u16s(count: int) -> struct.Struct:
    """The precompiled format of ``count`` big-endian uint16 values (kept for the short lists a handshake has)."""
    fmt = _U16S.get(count)
    if fmt is None:
        fmt = struct.Struct(f">{count}H")
        if count <= 64:
            _U16S[count] = fmt
    return fmt


def pack_u16s(values: list[int] | tuple[int, ...]) -> bytes:
    """The values as consecutive uint16s; one that does not fit raises OverflowError, as :func:`u16` does."""
    try:
        return _u16s(len(values)).pack(*values)
    except struct.error:
        return b"".join(u16(v) for v in values)  # the slow way gives the error of u16


def u8(v: int) -> bytes:
    return v.to_bytes(1, "big")


def u16(v: int) -> bytes:
    return v.to_bytes(2, "big")


def u24(v: int) -> bytes:
    return v.to_bytes(3, "big")


def u32(v: int) -> bytes:
    return v.to_bytes(4, "big")


def opaque8(data: bytes) -> bytes:
    return u8(len(data)) + data


def opaque16(data: bytes) -> bytes:
    return u16(len(data)) + data


def opaque24(data: bytes) -> bytes:
    return u24(len(data)) + data
