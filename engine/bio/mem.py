"""Memory BIOs (BIO_s_mem.pod): a growable FIFO; read-only when made by BIO_new_mem_buf.

Data lives in a ``bytearray`` with a read offset. Reads advance the offset; a write first drops what was already
read (BIO_s_mem: NOTES "every write after partial read ... will have to move the unread data"), so the buffer never
holds consumed bytes across a write. BIO_reset on a read-write BIO clears everything, unless
``BIO_FLAGS_NONCLEAR_RST`` is set, in which case the offset goes back to the start: the state right after the last
write. On a read-only BIO the offset goes back to the start of the original data.

An empty BIO answers a read with its "EOF return" value: -1 by default with the read-retry flag (BIO_s_mem:
DESCRIPTION BIO_set_mem_eof_return), 0 for BIO_new_mem_buf BIOs (a plain end of file, as libcrypto does).
"""

from __future__ import annotations

from typing import Any

from engine import err
from engine.bio.constants import (
    BIO_C_SET_BUF_MEM_EOF_RETURN,
    BIO_CTRL_DUP,
    BIO_CTRL_EOF,
    BIO_CTRL_FLUSH,
    BIO_CTRL_INFO,
    BIO_CTRL_PENDING,
    BIO_CTRL_RESET,
    BIO_CTRL_WPENDING,
    BIO_FLAGS_MEM_RDONLY,
    BIO_FLAGS_NONCLEAR_RST,
    BIO_R_WRITE_TO_READ_ONLY_BIO,
    BIO_TYPE_MEM,
)
from engine.bio.core import BIO, BIO_METHOD, BIO_clear_retry_flags, BIO_ctrl, BIO_set_retry_read, BioImpl, live_bio

__all__ = [
    "BIO_get_mem_data", "BIO_new_mem_buf", "BIO_s_mem", "BIO_s_secmem", "BIO_set_mem_eof_return",
]  # fmt: skip


class _Mem(BioImpl):
    __slots__ = ("buf", "eof_return", "off")

    def __init__(self, data: bytes | memoryview = b"", eof_return: int = -1) -> None:
        # a memoryview is the caller's buffer of a BIO_new_mem_buf BIO, read in place (BIO_s_mem: DESCRIPTION "it is
        # not copied first"); everything else is the BIO's own bytearray
        self.buf: bytearray | memoryview = data if isinstance(data, memoryview) else bytearray(data)
        self.off = 0
        self.eof_return = eof_return

    def _owned(self) -> bytearray:
        """The storage as a bytearray of the BIO's own, for a change to it (a caller's buffer is copied first: only
        reached when BIO_FLAGS_MEM_RDONLY was cleared, which the page leaves undefined)."""
        if isinstance(self.buf, memoryview):
            owned = bytearray(self.buf)
            self.buf.release()
            self.buf = owned
        return self.buf

    def length(self) -> int:
        return len(self.buf) - self.off

    def _take(self, n: int) -> bytes:
        with memoryview(self.buf) as mv:
            data = mv[self.off : self.off + n].tobytes()
        self.off += n
        return data

    def read(self, bio: BIO, n: int) -> tuple[int, bytes]:
        BIO_clear_retry_flags(bio)
        avail = self.length()
        if n > 0 and avail > 0:
            take = min(n, avail)
            return (take, self._take(take))
        if avail == 0:
            # BIO_s_mem: DESCRIPTION BIO_set_mem_eof_return: 0 = EOF; non-zero v = return v with the read-retry flag
            ret = self.eof_return
            if ret != 0:
                BIO_set_retry_read(bio)
            return (ret, b"")
        return (0, b"")

    def write(self, bio: BIO, data: memoryview) -> int:
        BIO_clear_retry_flags(bio)
        if bio.flags & BIO_FLAGS_MEM_RDONLY:
            # BIO_s_mem: DESCRIPTION BIO_new_mem_buf "The BIO is set to a read only state ... cannot be written to"
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_WRITE_TO_READ_ONLY_BIO, func="BIO_write")
            return -1
        if not data:
            return 0
        buf = self._owned()
        if self.off:
            del buf[: self.off]
            self.off = 0
        buf += data
        return len(data)

    def gets(self, bio: BIO, size: int) -> tuple[int, bytes] | None:
        # BIO_s_mem: DESCRIPTION "Memory BIOs support BIO_gets() and BIO_puts()"; empty: 0, no retry (libcrypto 3.0)
        BIO_clear_retry_flags(bio)
        limit = min(size - 1, self.length())
        if limit <= 0:
            return (0, b"")
        with memoryview(self.buf) as mv:
            nl = mv[self.off : self.off + limit].tobytes().find(b"\n")
        nl = nl if nl < 0 else nl + self.off
        take = limit if nl < 0 else nl - self.off + 1
        return (take, self._take(take))

    def puts(self, bio: BIO, data: bytes) -> int | None:
        return self.write(bio, memoryview(data))

    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        if cmd == BIO_CTRL_RESET:
            # BIO_s_mem: DESCRIPTION BIO_reset: read-write clears unless NONCLEAR_RST; read-only rewinds
            if bio.flags & (BIO_FLAGS_MEM_RDONLY | BIO_FLAGS_NONCLEAR_RST):
                self.off = 0
            else:
                self._owned().clear()
                self.off = 0
            return 1
        if cmd == BIO_CTRL_EOF:
            return 1 if self.length() == 0 else 0  # BIO_s_mem: DESCRIPTION "BIO_eof() is true if no data is in the BIO"
        if cmd == BIO_CTRL_PENDING:
            return self.length()  # BIO_s_mem: DESCRIPTION "number of bytes currently stored"
        if cmd == BIO_CTRL_WPENDING:
            return 0
        if cmd == BIO_C_SET_BUF_MEM_EOF_RETURN:
            self.eof_return = larg
            return 1
        if cmd == BIO_CTRL_INFO:
            return self.length()
        if cmd in (BIO_CTRL_FLUSH, BIO_CTRL_DUP):
            return 1
        return super().ctrl(bio, cmd, larg, parg)

    def destroy(self, bio: BIO) -> None:
        if isinstance(self.buf, memoryview):
            self.buf.release()  # the caller's buffer is theirs again (a bytearray can be resized once more)
        self.buf = bytearray()
        self.off = 0


_BIO_METHOD_MEM = BIO_METHOD(BIO_TYPE_MEM, "memory buffer", lambda: (_Mem(), True))
_BIO_METHOD_SECMEM = BIO_METHOD(BIO_TYPE_MEM, "secure memory buffer", lambda: (_Mem(), True))


def BIO_s_mem() -> BIO_METHOD:
    return _BIO_METHOD_MEM


def BIO_s_secmem() -> BIO_METHOD:
    return _BIO_METHOD_SECMEM


def BIO_set_mem_eof_return(b: BIO | None, v: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_BUF_MEM_EOF_RETURN, v, None)


def BIO_get_mem_data(b: BIO | None) -> tuple[int, bytes]:
    """``BIO_get_mem_data(b) -> (ret, data)``: the bytes available (a copy) and their number."""
    # BIO_s_mem: RETURN VALUES "the total number of bytes available on success, 0 if b is NULL"
    if b is None:
        return (0, b"")
    ret = BIO_ctrl(b, BIO_CTRL_INFO, 0, None)
    bio = live_bio(b, "BIO_get_mem_data", null_reason=None)
    if bio is None or not isinstance(bio.impl, _Mem) or ret <= 0:
        return (ret, b"")
    return (ret, bytes(bio.impl.buf[bio.impl.off :]))


def BIO_new_mem_buf(buf: bytes | None, len: int | None = None) -> BIO | None:
    """A read-only memory BIO over ``buf[:len]``; ``len`` -1 (any negative) means up to the first NUL."""
    # BIO_s_mem: RETURN VALUES "a valid BIO structure on success or NULL on error"
    if buf is None:
        err.ERR_raise(err.ERR_LIB_BIO, err.ERR_R_PASSED_NULL_PARAMETER, func="BIO_new_mem_buf")
        return None
    if not isinstance(buf, bytes | bytearray | memoryview) or (
        len is not None and (not isinstance(len, int) or isinstance(len, bool))
    ):
        err.ERR_raise(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, func="BIO_new_mem_buf")
        return None
    # BIO_s_mem: DESCRIPTION "The supplied data is read directly from the supplied buffer: it is not copied first":
    # the BIO keeps a view of the caller's buffer, so a change the caller makes to it shows in what the BIO reads
    try:
        data = memoryview(buf).cast("B")
    except (TypeError, ValueError):  # a view that is not one contiguous run of bytes
        err.ERR_raise(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, func="BIO_new_mem_buf")
        return None
    if len is not None and len < 0:
        # BIO_s_mem: DESCRIPTION "if len is -1 then the buf is assumed to be nul terminated"
        nul = data.tobytes().find(0)
        data = data if nul < 0 else data[:nul]
    elif len is not None:
        if len > data.nbytes:
            err.ERR_raise_data(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, "len beyond the buffer",
                               func="BIO_new_mem_buf")  # fmt: skip
            return None
        data = data[:len]
    bio = BIO(_BIO_METHOD_MEM, _Mem(data, eof_return=0), True)
    bio.flags |= BIO_FLAGS_MEM_RDONLY
    return bio
