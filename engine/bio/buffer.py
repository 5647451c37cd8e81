"""Buffering filter BIOs (BIO_f_buffer.pod): a read buffer filled from the next BIO, a write buffer emptied into it.

Reads are served from the read buffer; when it runs dry the filter reads from the next BIO (a whole buffer's worth,
or straight into the caller's request when that is larger than the buffer) and keeps going until the request is
met, the next BIO reports end of data, or it cannot make progress (BIO_f_buffer: NOTES "exact size BIO_read_ex()").
Writes go into the write buffer; only when it is full, or on BIO_flush, are its bytes written to the next BIO
(NOTES "Data is only written to the next BIO ... when the write buffer fills or when BIO_flush() is called").

Whenever the next BIO cannot make progress the filter returns what it has done so far (or the next BIO's result
when that is nothing) and takes over the next BIO's retry flags and reason, so BIO_should_retry() and friends on
the head of the chain tell the caller what to wait for. Control calls the filter does not handle itself go to the
next BIO (BIO_ctrl: NOTES "filters pass ctrl on"); without a next BIO they answer 0.

Buffer sizes follow the page: 4096 to start with, smaller requests ignored, a size change clears what was
buffered in that direction. The ctrl numbers are those of OpenSSL 3.0's bio.h.
"""

from __future__ import annotations

from typing import Any

from engine.bio.constants import (
    BIO_CTRL_EOF,
    BIO_CTRL_FLUSH,
    BIO_CTRL_INFO,
    BIO_CTRL_PENDING,
    BIO_CTRL_RESET,
    BIO_CTRL_WPENDING,
    BIO_FLAGS_RWS,
    BIO_FLAGS_SHOULD_RETRY,
    BIO_TYPE_BUFFER,
)
from engine.bio.core import BIO, BIO_METHOD, BIO_clear_retry_flags, BIO_ctrl, BIO_int_ctrl, BIO_read, BIO_write, BioImpl

__all__ = [
    "BIO_f_buffer", "BIO_get_buffer_num_lines", "BIO_set_buffer_read_data", "BIO_set_buffer_size",
    "BIO_set_read_buffer_size", "BIO_set_write_buffer_size",
]  # fmt: skip

DEFAULT_BUFFER_SIZE = 4096
BIO_C_GET_BUFF_NUM_LINES = 116
BIO_C_SET_BUFF_SIZE = 117
BIO_C_SET_BUFF_READ_DATA = 122


def _take_retry_from_next(bio: BIO, nxt: BIO) -> None:
    """BIO_copy_next_retry: the filter's retry state becomes the next BIO's."""
    BIO_clear_retry_flags(bio)
    bio.flags |= nxt.flags & (BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY)
    bio.retry_reason = nxt.retry_reason


def _next(bio: BIO) -> BIO | None:
    nxt = bio.next_bio
    return None if nxt is None or nxt.freed else nxt


class _Buffer(BioImpl):
    __slots__ = ("ibuf", "ibuf_size", "obuf", "obuf_size")

    def __init__(self) -> None:
        self.ibuf = bytearray()
        self.obuf = bytearray()
        self.ibuf_size = DEFAULT_BUFFER_SIZE
        self.obuf_size = DEFAULT_BUFFER_SIZE

    # --- reading -----------------------------------------------------------------------------------------------
    def _fill(self, bio: BIO, nxt: BIO, want: int) -> int:
        """Read up to ``want`` bytes from the next BIO into the read buffer; the next BIO's result."""
        n, data = BIO_read(nxt, want)
        if n > 0:
            self.ibuf += data
        else:
            _take_retry_from_next(bio, nxt)
        return n

    def read(self, bio: BIO, n: int) -> tuple[int, bytes]:
        BIO_clear_retry_flags(bio)
        out = bytearray()
        while True:
            take = min(n - len(out), len(self.ibuf))
            if take:
                out += self.ibuf[:take]
                del self.ibuf[:take]
            if len(out) >= n:
                return (len(out), bytes(out))
            nxt = _next(bio)
            if nxt is None:
                return (len(out), bytes(out)) if out else (0, b"")
            rest = n - len(out)
            if rest > self.ibuf_size:
                r, data = BIO_read(nxt, rest)  # a large request goes straight to the caller
                if r > 0:
                    out += data
                    continue
                _take_retry_from_next(bio, nxt)
            else:
                r = self._fill(bio, nxt, self.ibuf_size)
                if r > 0:
                    continue
            return (len(out), bytes(out)) if out else (r, b"")

    def gets(self, bio: BIO, size: int) -> tuple[int, bytes] | None:
        BIO_clear_retry_flags(bio)
        limit = size - 1
        if limit <= 0:
            return (0, b"")
        while True:
            nl = self.ibuf.find(b"\n", 0, limit)
            if nl >= 0 or len(self.ibuf) >= limit:
                end = nl + 1 if nl >= 0 else limit
                line = bytes(self.ibuf[:end])
                del self.ibuf[:end]
                return (len(line), line)
            nxt = _next(bio)
            r = 0 if nxt is None else self._fill(bio, nxt, self.ibuf_size)
            if r <= 0:
                if self.ibuf:  # end of data or no progress: what there is, as the last (partial) line
                    line = bytes(self.ibuf)
                    self.ibuf.clear()
                    return (len(line), line)
                return (r, b"")

    # --- writing -----------------------------------------------------------------------------------------------
    def _drain(self, bio: BIO, nxt: BIO) -> int:
        """Write the write buffer to the next BIO; 1 when empty, else the next BIO's failing result."""
        while self.obuf:
            r = BIO_write(nxt, bytes(self.obuf))
            if r <= 0:
                _take_retry_from_next(bio, nxt)
                return r
            del self.obuf[:r]
        return 1

    def write(self, bio: BIO, data: memoryview) -> int:
        BIO_clear_retry_flags(bio)
        nxt = _next(bio)
        if nxt is None:
            return 0
        done = 0
        rest = data
        while True:
            space = self.obuf_size - len(self.obuf)
            if len(rest) <= space:
                self.obuf += rest
                return done + len(rest)
            if self.obuf:
                self.obuf += rest[:space]  # top the buffer up, then empty it into the next BIO
                done += space
                rest = rest[space:]
                r = self._drain(bio, nxt)
                if r <= 0:
                    return done
                continue
            while len(rest) >= self.obuf_size:  # the buffer is empty: whole buffers' worth go straight on
                r = BIO_write(nxt, bytes(rest))
                if r <= 0:
                    _take_retry_from_next(bio, nxt)
                    return done if done else r
                done += r
                rest = rest[r:]

    def puts(self, bio: BIO, data: bytes) -> int | None:
        return self.write(bio, memoryview(data))

    # --- control -----------------------------------------------------------------------------------------------
    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        nxt = _next(bio)

        def on(c: int = cmd) -> int:
            return 0 if nxt is None else BIO_ctrl(nxt, c, larg, parg)

        if cmd == BIO_CTRL_RESET:
            self.ibuf.clear()
            self.obuf.clear()
            return on()
        if cmd == BIO_CTRL_EOF:
            return 0 if self.ibuf else on()
        if cmd == BIO_CTRL_INFO:
            return len(self.obuf)
        if cmd == BIO_C_GET_BUFF_NUM_LINES:
            return self.ibuf.count(b"\n")
        if cmd == BIO_CTRL_PENDING:
            return len(self.ibuf) if self.ibuf else on()
        if cmd == BIO_CTRL_WPENDING:
            return len(self.obuf) if self.obuf else on()
        if cmd == BIO_C_SET_BUFF_SIZE:
            if parg is None:
                ibs, obs = larg, larg
            elif parg == 0:
                ibs, obs = larg, self.obuf_size
            else:
                ibs, obs = self.ibuf_size, larg
            if ibs > DEFAULT_BUFFER_SIZE and ibs != self.ibuf_size:
                self.ibuf_size = ibs
                self.ibuf.clear()
            if obs > DEFAULT_BUFFER_SIZE and obs != self.obuf_size:
                self.obuf_size = obs
                self.obuf.clear()
            return 1
        if cmd == BIO_C_SET_BUFF_READ_DATA:
            if not isinstance(parg, bytes | bytearray) or larg < 0 or larg > len(parg):
                return 0
            self.ibuf = bytearray(parg[:larg])
            self.ibuf_size = max(self.ibuf_size, larg)
            return 1
        if cmd == BIO_CTRL_FLUSH:
            if nxt is None:
                return 0
            BIO_clear_retry_flags(bio)
            r = self._drain(bio, nxt)
            if r <= 0:
                return r
            return on()
        return on()


BIO_F_BUFFER = BIO_METHOD(BIO_TYPE_BUFFER, "buffer", lambda: (_Buffer(), True))


def BIO_f_buffer() -> BIO_METHOD:
    return BIO_F_BUFFER


# --- the page's macros (OpenSSL 3.0 bio.h spells each as a BIO_ctrl / BIO_int_ctrl) ------------------------------
def BIO_get_buffer_num_lines(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_GET_BUFF_NUM_LINES, 0, None)


def BIO_set_read_buffer_size(b: BIO | None, size: int) -> int:
    return BIO_int_ctrl(b, BIO_C_SET_BUFF_SIZE, size, 0)


def BIO_set_write_buffer_size(b: BIO | None, size: int) -> int:
    return BIO_int_ctrl(b, BIO_C_SET_BUFF_SIZE, size, 1)


def BIO_set_buffer_size(b: BIO | None, size: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_BUFF_SIZE, size, None)


def BIO_set_buffer_read_data(b: BIO | None, buf: bytes, num: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_BUFF_READ_DATA, num, buf)
