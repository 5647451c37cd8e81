"""BIO pairs (BIO_s_bio.pod): two halves, each owning a bounded write buffer that the other half reads.

Theory of operation
===================

Each half ``h`` has a write buffer of ``size`` bytes (default 17 KiB). ``BIO_write(h)`` appends to ``h``'s own
buffer; ``BIO_read(h)`` takes from the *peer's* buffer. Hence ``BIO_ctrl_pending(h)`` is the peer's fill level (what
``h`` can read), ``BIO_ctrl_wpending(h)`` is ``h``'s own fill level (written, not yet read by the peer) and
``BIO_get_write_guarantee(h)`` is the free space in ``h``'s buffer. Nothing blocks: the pair only buffers.

Retry rules, per call on a paired half (every read/write first clears the retry flags):

* read, peer buffer non-empty: return up to ``dlen`` bytes.
* read, peer buffer empty, peer not shut down: return -1 with ``BIO_should_retry`` + ``BIO_should_read``, and
  record a *read request* of ``min(dlen, peer buffer size)`` on the peer (``BIO_get_read_request(peer)``).
* read, peer buffer empty, peer shut down (``BIO_shutdown_wr``): return 0 and no retry flag: end of file.
* write, own buffer full: return -1 with ``BIO_should_retry`` + ``BIO_should_write``.
* write, own buffer partly free: write what fits (a short write), never more than the write guarantee.
* write after ``BIO_shutdown_wr`` on this half: -1, no retry flag, error ``BIO_R_BROKEN_PIPE``.
* a read of 0 bytes returns 0; every read attempt on ``h`` first clears the request recorded on the peer, and
  every write on ``h`` clears the request recorded on ``h`` ("returns zero once new data has been written").

An unpaired half (never paired, after ``BIO_destroy_bio_pair``, or whose peer was freed) is not initialised: read
and write fail with -1 and ``BIO_R_UNINITIALIZED`` and leave the retry flags of the previous call untouched, as
libcrypto 3.0 does. ``BIO_eof`` is 1 there, pending/wpending/guarantee/request are 0.

Invariants: ``0 <= len(buf) <= size`` for each half; a paired half's peer has it as its peer (a half may be paired
with itself, as libcrypto allows: a loopback); ``BIO_get_read_request(h) <= BIO_get_write_guarantee(h)``.

Buffers are ``bytearray`` FIFOs: appends are amortised O(1) and CPython deletes a bytearray's head in O(1), so bulk
TLS traffic moves in slices, never byte by byte. A write of a whole immutable ``bytes`` object into an empty buffer
keeps that object as the buffer instead of copying it (an SSL's record, the bulk case); the first change to it makes
it a ``bytearray`` again. Either way the bytes a read returns are its own.
"""

from __future__ import annotations

from typing import Any

from engine import err
from engine.bio.constants import (
    BIO_C_DESTROY_BIO_PAIR,
    BIO_C_GET_READ_REQUEST,
    BIO_C_GET_WRITE_BUF_SIZE,
    BIO_C_GET_WRITE_GUARANTEE,
    BIO_C_MAKE_BIO_PAIR,
    BIO_C_RESET_READ_REQUEST,
    BIO_C_SET_WRITE_BUF_SIZE,
    BIO_C_SHUTDOWN_WR,
    BIO_CTRL_DUP,
    BIO_CTRL_EOF,
    BIO_CTRL_FLUSH,
    BIO_CTRL_PENDING,
    BIO_CTRL_RESET,
    BIO_CTRL_WPENDING,
    BIO_FLAGS_RWS,
    BIO_FLAGS_SHOULD_RETRY,
    BIO_R_BROKEN_PIPE,
    BIO_R_IN_USE,
    BIO_R_INVALID_ARGUMENT,
    BIO_TYPE_BIO,
    PAIR_DEFAULT_BUF_SIZE,
)
from engine.bio.core import (
    BIO,
    BIO_METHOD,
    INT_MAX,
    BIO_ctrl,
    BIO_free,
    BIO_new,
    BIO_set_retry_read,
    BIO_set_retry_write,
    BioImpl,
    live_bio,
)

__all__ = [
    "MAX_PAIR_BUF_SIZE",
    "BIO_ctrl_get_read_request",
    "BIO_ctrl_get_write_guarantee",
    "BIO_ctrl_reset_read_request",
    "BIO_destroy_bio_pair",
    "BIO_get_read_request",
    "BIO_get_write_buf_size",
    "BIO_get_write_guarantee",
    "BIO_make_bio_pair",
    "BIO_new_bio_pair",
    "BIO_s_bio",
    "BIO_set_write_buf_size",
    "BIO_shutdown_wr",
]  # fmt: skip

# The engine refuses buffer sizes above INT_MAX (libcrypto would take any size_t and fail later at allocation).
MAX_PAIR_BUF_SIZE = INT_MAX
_NOT_RETRY = ~(BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY)  # the mask BIO_clear_retry_flags applies


class _PairHalf(BioImpl):
    __slots__ = ("buf", "closed", "peer", "request", "size")

    def __init__(self) -> None:
        self.peer: BIO | None = None
        self.buf: bytes | bytearray = bytearray()  # bytes: a whole written object kept without a copy (see above)
        self.size = PAIR_DEFAULT_BUF_SIZE  # BIO_s_bio: DESCRIPTION default "currently 17K"
        self.closed = False
        self.request = 0

    # -- I/O -----------------------------------------------------------------------------------------------------
    def read(self, bio: BIO, n: int) -> tuple[int, bytes]:
        bio.flags &= _NOT_RETRY  # BIO_clear_retry_flags, inline: this is the hot path of every SSL read
        peer = self.peer
        if peer is None:  # not reachable through BIO_read (init is checked first); kept as a guard
            return (-1, b"")
        src: _PairHalf = peer.impl  # type: ignore[assignment]  # a half's peer is always a half (_make_pair)
        src.request = 0  # BIO_s_bio: DESCRIPTION read request "After a successful read this call will return zero"
        if n == 0:
            return (0, b"")
        buf = src.buf
        have = len(buf)
        if not have:
            if src.closed:
                return (0, b"")  # BIO_s_bio: DESCRIPTION BIO_shutdown_wr "... or EOF"
            # BIO_s_bio: DESCRIPTION "Calls to BIO_read_ex() will ... request a retry if no data is available"
            BIO_set_retry_read(bio)
            src.request = n if n < src.size else src.size
            return (-1, b"")
        if n >= have:  # everything buffered: one copy (none for a kept bytes object), the buffer is emptied
            data = bytes(buf)
            src.buf = bytearray()
            return (have, data)
        if n <= 256:  # a small read (an SSL's record header): a slice costs less than a memoryview, twice copied
            data = bytes(buf[:n])
        else:
            with memoryview(buf) as mv:
                data = mv[:n].tobytes()
        if isinstance(buf, bytearray):
            del buf[:n]
        else:
            src.buf = buf[n:]  # a kept bytes object: the rest, copied once (the copy its write saved)
        return (n, data)

    def read_record(self, bio: BIO) -> tuple[bytes, memoryview] | None:
        """An SSL's two reads of one TLS record (its 5-byte header, then exactly the body the header announces) in
        one, for engine.ssl's record reader: when the peer's buffer is a kept bytes object holding exactly one whole
        non-empty record (what a single SSL_write into an empty pair leaves), ``(header, body)`` with the body a view
        of that immutable object, so it is not copied; the pair ends as the two reads leave it (retry flags cleared,
        no read request, empty buffer). None in every other case, with nothing read and nothing changed."""
        peer = self.peer
        if peer is None:
            return None
        src: _PairHalf = peer.impl  # type: ignore[assignment]  # a half's peer is always a half (_make_pair)
        buf = src.buf
        if type(buf) is not bytes or len(buf) <= 5 or ((buf[3] << 8) | buf[4]) + 5 != len(buf):
            return None
        bio.flags &= _NOT_RETRY
        src.request = 0
        src.buf = bytearray()
        return buf[:5], memoryview(buf)[5:]

    def write(self, bio: BIO, data: memoryview) -> int:
        bio.flags &= _NOT_RETRY  # BIO_clear_retry_flags, inline: the hot path of every SSL write
        if self.peer is None:
            return -1
        if self.closed:
            # BIO_s_bio: DESCRIPTION BIO_shutdown_wr "no further writes ... allowed (they will return an error)"
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_BROKEN_PIPE, func="BIO_write")
            return -1
        self.request = 0
        n = len(data)
        if not n:
            return 0
        buf = self.buf
        space = self.size - len(buf)
        if n <= space:  # the whole write fits (a record into a default 17 KiB pair): no slice
            if not buf:
                whole = data.obj
                if type(whole) is bytes and data.nbytes == len(whole):
                    self.buf = whole  # an immutable object written whole: kept, not copied
                    return n
            if type(buf) is bytes:
                self.buf = buf = bytearray(buf)
            buf += data
            return n
        if space <= 0:
            # BIO_s_bio: DESCRIPTION "Calls to BIO_write_ex() will ... request a retry if the buffer is full"
            BIO_set_retry_write(bio)
            return -1
        # BIO_s_bio: DESCRIPTION "Writes larger than this value will return a value ... less than the amount requested"
        if type(buf) is bytes:
            self.buf = buf = bytearray(buf)
        buf += data[:space]
        return space

    def puts(self, bio: BIO, data: bytes) -> int | None:
        return self.write(bio, memoryview(data))

    # -- ctrl ----------------------------------------------------------------------------------------------------
    def guarantee(self) -> int:
        if self.peer is None or self.closed:
            return 0
        return self.size - len(self.buf)

    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        if cmd == BIO_C_SET_WRITE_BUF_SIZE:
            if self.peer is not None:
                # BIO_s_bio: the size can only be set on an unpaired half (libcrypto: BIO_R_IN_USE)
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_IN_USE, func="BIO_set_write_buf_size")
                return 0
            if larg <= 0 or larg > MAX_PAIR_BUF_SIZE:
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_set_write_buf_size")
                return 0
            self.size = larg
            return 1
        if cmd == BIO_C_GET_WRITE_BUF_SIZE:
            return self.size
        if cmd == BIO_C_MAKE_BIO_PAIR:
            return _make_pair(bio, parg)
        if cmd == BIO_C_DESTROY_BIO_PAIR:
            _unpair(bio)
            return 1
        if cmd == BIO_C_GET_WRITE_GUARANTEE:
            return self.guarantee()
        if cmd == BIO_C_GET_READ_REQUEST:
            # BIO_s_bio: DESCRIPTION "BIO_get_read_request() never returns an amount larger than ...
            # BIO_get_write_guarantee()" (libcrypto 3.0 keeps the stale request after BIO_shutdown_wr; we cap)
            return min(self.request, self.guarantee())
        if cmd == BIO_C_RESET_READ_REQUEST:
            self.request = 0  # BIO_s_bio: DESCRIPTION BIO_ctrl_reset_read_request
            return 1
        if cmd == BIO_C_SHUTDOWN_WR:
            self.closed = True
            return 1
        if cmd == BIO_CTRL_RESET:
            # BIO_s_bio: DESCRIPTION "BIO_reset() clears any data in the write buffer"; BIO_ctrl: RETURN VALUES 1
            # (libcrypto 3.0 clears the buffer but returns 0)
            self.buf = bytearray()
            return 1
        if cmd == BIO_CTRL_PENDING:
            # BIO_s_bio: DESCRIPTION BIO_ctrl_pending: what this half can read = the peer's buffer
            return 0 if self.peer is None else len(_half(self.peer).buf)
        if cmd == BIO_CTRL_WPENDING:
            return len(self.buf) if self.peer is not None else 0
        if cmd == BIO_CTRL_EOF:
            # BIO_s_bio: NOTES "BIO_eof() is true if no data is in the peer BIO and the peer BIO has been shutdown"
            if self.peer is None:
                return 1
            src = _half(self.peer)
            return 1 if (src.closed and not src.buf) else 0
        if cmd in (BIO_CTRL_FLUSH, BIO_CTRL_DUP):
            return 1
        return super().ctrl(bio, cmd, larg, parg)

    def destroy(self, bio: BIO) -> None:
        # BIO_s_bio: DESCRIPTION "Freeing up any half of the pair will automatically destroy the association"
        _unpair(bio)


def _half(b: BIO) -> _PairHalf:
    impl = b.impl
    assert isinstance(impl, _PairHalf)
    return impl


def _make_pair(b1: BIO, b2: object) -> int:
    other = live_bio(b2, "BIO_make_bio_pair")
    if other is None:
        return 0
    if not isinstance(other.impl, _PairHalf):
        err.ERR_raise_data(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, "peer is not a BIO_s_bio BIO",
                           func="BIO_make_bio_pair")  # fmt: skip
        return 0
    h1, h2 = _half(b1), _half(other)
    if h1.peer is not None or h2.peer is not None:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_IN_USE, func="BIO_make_bio_pair")
        return 0
    for b, h, peer in ((b1, h1, other), (other, h2, b1)):
        h.peer = peer
        h.buf = bytearray()
        h.closed = False
        h.request = 0
        b.init = True
    return 1


def _unpair(b: BIO) -> None:
    h = _half(b)
    peer = h.peer
    if peer is None:
        return
    for x in (b, peer):
        hx = _half(x)
        hx.peer = None
        hx.buf = bytearray()
        hx.request = 0
        x.init = False


_BIO_METHOD_PAIR = BIO_METHOD(BIO_TYPE_BIO, "BIO pair", lambda: (_PairHalf(), False))


def BIO_s_bio() -> BIO_METHOD:
    return _BIO_METHOD_PAIR


def BIO_make_bio_pair(b1: BIO | None, b2: BIO | None) -> int:
    return BIO_ctrl(b1, BIO_C_MAKE_BIO_PAIR, 0, b2)


def BIO_destroy_bio_pair(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_DESTROY_BIO_PAIR, 0, None)


def BIO_shutdown_wr(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_SHUTDOWN_WR, 0, None)


def BIO_set_write_buf_size(b: BIO | None, size: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_WRITE_BUF_SIZE, size, None)


def BIO_get_write_buf_size(b: BIO | None, size: int = 0) -> int:
    return BIO_ctrl(b, BIO_C_GET_WRITE_BUF_SIZE, size, None)


def BIO_get_write_guarantee(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_GET_WRITE_GUARANTEE, 0, None)


def BIO_ctrl_get_write_guarantee(b: BIO | None) -> int:
    return max(BIO_ctrl(b, BIO_C_GET_WRITE_GUARANTEE, 0, None), 0)


def BIO_get_read_request(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_GET_READ_REQUEST, 0, None)


def BIO_ctrl_get_read_request(b: BIO | None) -> int:
    return max(BIO_ctrl(b, BIO_C_GET_READ_REQUEST, 0, None), 0)


def BIO_ctrl_reset_read_request(b: BIO | None) -> int:
    return 1 if BIO_ctrl(b, BIO_C_RESET_READ_REQUEST, 0, None) > 0 else 0


def BIO_new_bio_pair(writebuf1: int, writebuf2: int) -> tuple[int, BIO | None, BIO | None]:
    """``BIO_new_bio_pair(writebuf1, writebuf2) -> (ret, bio1, bio2)``; a size of 0 selects the default."""
    # BIO_s_bio: RETURN VALUES "1 on success ... or 0 on failure, with NULL pointers stored"
    for size in (writebuf1, writebuf2):
        if not isinstance(size, int) or isinstance(size, bool) or size < 0 or size > MAX_PAIR_BUF_SIZE:
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_new_bio_pair")
            return (0, None, None)
    b1, b2 = BIO_new(BIO_s_bio()), BIO_new(BIO_s_bio())
    ok = b1 is not None and b2 is not None
    # BIO_s_bio: DESCRIPTION "If either size is zero then the default size is used"
    if ok and writebuf1:
        ok = BIO_set_write_buf_size(b1, writebuf1) == 1
    if ok and writebuf2:
        ok = BIO_set_write_buf_size(b2, writebuf2) == 1
    if ok:
        ok = BIO_make_bio_pair(b1, b2) == 1
    if not ok:
        BIO_free(b1)
        BIO_free(b2)
        return (0, None, None)
    return (1, b1, b2)
