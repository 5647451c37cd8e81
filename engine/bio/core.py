"""BIO objects, BIO_METHODs, reference counts, retry flags and the generic I/O and ctrl entry points.

A ``BIO`` handle carries what every BIO kind shares (method, flags, retry reason, reference count, ``init``, close
flag, ``num``) plus one :class:`BioImpl` with the kind's own behaviour and state (pair, memory, socket). The entry
points here check the handle first (NULL, not a BIO, already freed, not initialised), answering bad input with the
documented failure value and an error-queue entry, never an exception; then they dispatch to the implementation.

Retry flags (BIO_should_retry.pod): a kind's read/write clears them at the start of every call it handles and sets
``BIO_FLAGS_SHOULD_RETRY`` plus the reason (read, write, special) when the call could not make progress. As in
OpenSSL 3.0 the generic layer rejects an uninitialised BIO before the kind is called, so the flags of the previous
call are left as they were.
"""

from __future__ import annotations

from typing import Any

from engine import err
from engine.bio.constants import (
    BIO_CLOSE,
    BIO_CTRL_EOF,
    BIO_CTRL_FLUSH,
    BIO_CTRL_GET_CLOSE,
    BIO_CTRL_GET_KTLS_RECV,
    BIO_CTRL_GET_KTLS_SEND,
    BIO_CTRL_PENDING,
    BIO_CTRL_RESET,
    BIO_CTRL_SET_CLOSE,
    BIO_CTRL_WPENDING,
    BIO_FLAGS_IO_SPECIAL,
    BIO_FLAGS_READ,
    BIO_FLAGS_RWS,
    BIO_FLAGS_SHOULD_RETRY,
    BIO_FLAGS_WRITE,
    BIO_R_INVALID_ARGUMENT,
    BIO_R_UNINITIALIZED,
    BIO_R_UNSUPPORTED_METHOD,
)

__all__ = [
    "BIO",
    "BIO_METHOD",
    "INT_MAX",
    "BIO_clear_flags",
    "BIO_clear_retry_flags",
    "BIO_ctrl",
    "BIO_ctrl_pending",
    "BIO_ctrl_wpending",
    "BIO_eof",
    "BIO_flush",
    "BIO_free",
    "BIO_free_all",
    "BIO_get_close",
    "BIO_get_flags",
    "BIO_get_ktls_recv",
    "BIO_get_ktls_send",
    "BIO_get_retry_BIO",
    "BIO_get_retry_reason",
    "BIO_gets",
    "BIO_int_ctrl",
    "BIO_method_type",
    "BIO_new",
    "BIO_new_ex",
    "BIO_pending",
    "BIO_puts",
    "BIO_read",
    "BIO_read_ex",
    "BIO_reset",
    "BIO_retry_type",
    "BIO_set_close",
    "BIO_set_flags",
    "BIO_set_retry_read",
    "BIO_set_retry_reason",
    "BIO_set_retry_special",
    "BIO_set_retry_write",
    "BIO_should_io_special",
    "BIO_should_read",
    "BIO_should_retry",
    "BIO_should_write",
    "BIO_test_flags",
    "BIO_up_ref",
    "BIO_vfree",
    "BIO_wpending",
    "BIO_write",
    "BIO_write_ex",
    "BioImpl",
    "live_bio",
]  # fmt: skip

INT_MAX = 0x7FFFFFFF


class BioImpl:
    """The behaviour of one BIO kind, one instance per BIO (it holds that BIO's private state).

    Defaults are those of a source/sink that supports nothing: read/write/gets/puts answer -2 ("not implemented",
    BIO_read.pod RETURN VALUES) and unknown ctrls 0 (BIO_ctrl.pod NOTES).
    """

    def read(self, bio: BIO, n: int) -> tuple[int, bytes]:
        return (-2, b"")

    def write(self, bio: BIO, data: memoryview) -> int:
        return -2

    def gets(self, bio: BIO, size: int) -> tuple[int, bytes] | None:
        """None = no "gets" operation."""
        return None

    def puts(self, bio: BIO, data: bytes) -> int | None:
        """None = no "puts" operation."""
        return None

    def lacks(self, operation: str) -> bool:
        """Whether the kind has no ``operation`` ("read", "write", "gets", "puts") at all: such a call fails with -2
        before anything else is looked at, also on an uninitialised BIO (libcrypto 3.0 tests the method first)."""
        return False

    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        # BIO_ctrl.pod: BIO_get_close / BIO_set_close are common to all kinds here
        if cmd == BIO_CTRL_GET_CLOSE:
            return bio.shutdown
        if cmd == BIO_CTRL_SET_CLOSE:
            bio.shutdown = larg
            return 1
        return 0

    def destroy(self, bio: BIO) -> None:
        """Release what the BIO owns (called once, when the last reference goes)."""


class BIO_METHOD:
    """An opaque method handle, as returned by ``BIO_s_mem()`` and friends."""

    __slots__ = ("factory", "name", "type")

    def __init__(self, type_: int, name: str, factory: Any) -> None:
        self.type = type_
        self.name = name
        self.factory = factory  # () -> (BioImpl, init)

    def __repr__(self) -> str:
        return f"<BIO_METHOD {self.name}>"


class BIO:
    """An opaque BIO handle. Callers never look inside; the fields are for the engine's BIO kinds."""

    __slots__ = ("flags", "freed", "impl", "init", "method", "next_bio", "num", "prev_bio", "references",
                 "retry_reason", "shutdown")

    def __init__(self, method: BIO_METHOD, impl: BioImpl, init: bool) -> None:
        self.method = method
        self.impl = impl
        self.flags = 0
        self.retry_reason = 0
        self.references = 1
        self.freed = False
        self.init = init
        self.shutdown = BIO_CLOSE
        self.num = 0
        self.next_bio: BIO | None = None  # the chain (BIO_push.pod): engine/bio/chain.py links and unlinks
        self.prev_bio: BIO | None = None

    def __repr__(self) -> str:
        state = "freed" if self.freed else f"refs={self.references}"
        return f"<BIO {self.method.name} {state} at {id(self):#x}>"


# --- handle checks ----------------------------------------------------------------------------------------------
def live_bio(b: object, func: str, *, null_reason: int | None = err.ERR_R_PASSED_NULL_PARAMETER) -> BIO | None:
    """Return ``b`` if it is a usable BIO; otherwise push an error entry (unless ``null_reason`` is None and b is
    None) and return None."""
    if b is None:
        if null_reason is not None:
            err.ERR_raise(err.ERR_LIB_BIO, null_reason, func=func)
        return None
    if not isinstance(b, BIO):
        err.ERR_raise_data(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, "not a BIO", func=func)
        return None
    if b.freed:
        err.ERR_raise_data(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, "BIO already freed", func=func)
        return None
    return b


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _as_buffer(data: object) -> memoryview | None:
    if isinstance(data, bytes | bytearray | memoryview):
        mv = memoryview(data)
        return mv.cast("B") if mv.format != "B" or mv.ndim != 1 else mv
    return None


# --- life cycle (BIO_new.pod) -----------------------------------------------------------------------------------
def BIO_new(type: BIO_METHOD | object | None) -> BIO | None:
    # BIO_new: RETURN VALUES "a newly created BIO or NULL if the call fails"
    if type is None:
        err.ERR_raise(err.ERR_LIB_BIO, err.ERR_R_PASSED_NULL_PARAMETER, func="BIO_new")
        return None
    if not isinstance(type, BIO_METHOD):
        err.ERR_raise_data(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, "not a BIO_METHOD", func="BIO_new")
        return None
    impl, init = type.factory()
    return BIO(type, impl, init)


def BIO_new_ex(libctx: object, type: BIO_METHOD | None) -> BIO | None:
    return BIO_new(type)


def BIO_up_ref(a: BIO | None) -> int:
    # BIO_new: RETURN VALUES "BIO_up_ref() and BIO_free() return 1 for success and 0 for failure"
    b = live_bio(a, "BIO_up_ref")
    if b is None:
        return 0
    b.references += 1
    return 1


def BIO_free(a: BIO | None) -> int:
    # BIO_new: DESCRIPTION "If a is NULL nothing is done" (libcrypto 3.0 returns 0 then, without an error entry)
    b = live_bio(a, "BIO_free", null_reason=None)
    if b is None:
        return 0
    b.references -= 1
    if b.references > 0:
        return 1
    b.impl.destroy(b)
    b.freed = True
    b.init = False
    return 1


def BIO_vfree(a: BIO | None) -> None:
    BIO_free(a)


def BIO_free_all(a: BIO | None) -> None:
    # BIO_new: DESCRIPTION frees the whole chain; as in libcrypto 3.0 the walk stops after a BIO that still had
    # other references (freeing it only dropped one), so a chain shared with someone else stays alive behind it
    bio = live_bio(a, "BIO_free_all", null_reason=None)
    while bio is not None and not bio.freed:
        refs, nxt = bio.references, bio.next_bio
        BIO_free(bio)
        if refs > 1:
            break
        bio = nxt


def BIO_method_type(b: BIO | None) -> int:
    bio = live_bio(b, "BIO_method_type")
    return 0 if bio is None else bio.method.type


# --- I/O (BIO_read.pod) -----------------------------------------------------------------------------------------
def BIO_read(b: BIO | None, dlen: int) -> tuple[int, bytes]:
    """``BIO_read(b, dlen) -> (ret, data)``; data is b"" when ret <= 0."""
    bio = live_bio(b, "BIO_read")
    if bio is None:
        return (-1, b"")
    if not _is_int(dlen):
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_read")
        return (-1, b"")
    if dlen < 0:
        return (0, b"")  # libcrypto 3.0: a negative length reads nothing, no error entry
    if bio.impl.lacks("read"):
        # BIO_read: RETURN VALUES -2 when the operation is not implemented by the BIO type
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_METHOD, func="BIO_read")
        return (-2, b"")
    if not bio.init:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNINITIALIZED, func="BIO_read")
        return (-1, b"")
    ret, data = bio.impl.read(bio, min(dlen, INT_MAX))
    return (ret, data) if ret > 0 else (ret, b"")


def BIO_read_ex(b: BIO | None, dlen: int) -> tuple[int, bytes]:
    """``BIO_read_ex(b, dlen) -> (ret, data)``, readbytes == len(data)."""
    # BIO_read: RETURN VALUES "BIO_read_ex() returns 1 if data was successfully read, and 0 otherwise"
    bio = live_bio(b, "BIO_read_ex")
    if bio is None:
        return (0, b"")
    if not _is_int(dlen) or dlen < 0:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_read_ex")
        return (0, b"")
    if bio.impl.lacks("read"):
        # BIO_read: RETURN VALUES -2 when the operation is not implemented by the BIO type
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_METHOD, func="BIO_read_ex")
        return (0, b"")
    if not bio.init:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNINITIALIZED, func="BIO_read_ex")
        return (0, b"")
    ret, data = bio.impl.read(bio, min(dlen, INT_MAX))
    return (1, data) if ret > 0 else (0, b"")


def _write(bio: BIO, data: object, dlen: int | None, func: str) -> int | None:
    """Shared checks of BIO_write / BIO_write_ex; None means 'rejected' (entry pushed), else the kind's result."""
    mv = _as_buffer(data)
    if mv is None or (dlen is not None and (not _is_int(dlen) or dlen > len(mv))):
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func=func)
        return None
    if dlen is not None:
        mv = mv[: max(dlen, 0)]
    if bio.impl.lacks("write"):
        # BIO_read: RETURN VALUES -2 when the operation is not implemented by the BIO type
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_METHOD, func=func)
        return -2
    if not bio.init:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNINITIALIZED, func=func)
        return None
    return bio.impl.write(bio, mv[:INT_MAX])


def BIO_write(b: BIO | None, data: bytes, dlen: int | None = None) -> int:
    # BIO_read: RETURN VALUES "This may be 0 if the BIO b is NULL or dlen <= 0"
    if b is None:
        return 0
    bio = live_bio(b, "BIO_write")
    if bio is None:
        return -1
    mv = _as_buffer(data)
    if mv is not None:
        n = len(mv) if dlen is None else dlen
        if _is_int(n) and n <= 0:
            return 0
    ret = _write(bio, data, dlen, "BIO_write")
    return -1 if ret is None else ret


def BIO_write_ex(b: BIO | None, data: bytes, dlen: int | None = None) -> tuple[int, int]:
    """``BIO_write_ex(b, data, dlen=None) -> (ret, written)``."""
    bio = live_bio(b, "BIO_write_ex")
    if bio is None:
        return (0, 0)
    mv = _as_buffer(data)
    if mv is not None and (len(mv) if dlen is None else dlen) == 0:
        return (1, 0)  # BIO_read: RETURN VALUES "Requesting to write 0 bytes is not considered an error"
    ret = _write(bio, data, dlen, "BIO_write_ex")
    if ret is None or ret <= 0:
        return (0, 0)
    return (1, ret)


def BIO_gets(b: BIO | None, size: int) -> tuple[int, bytes]:
    """``BIO_gets(b, size) -> (ret, line)``: at most size-1 bytes, the '\\n' kept; line is b"" when ret <= 0."""
    bio = live_bio(b, "BIO_gets")
    if bio is None:
        return (-1, b"")
    if not _is_int(size) or size < 0:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_gets")
        return (-1, b"")
    if bio.impl.lacks("gets"):
        # BIO_read: RETURN VALUES -2 when the operation is not implemented by the BIO type
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_METHOD, func="BIO_gets")
        return (-2, b"")
    if not bio.init:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNINITIALIZED, func="BIO_gets")
        return (-1, b"")
    res = bio.impl.gets(bio, min(size, INT_MAX))
    if res is None:
        # BIO_read: RETURN VALUES "-2 if the 'gets' operation is not implemented by the BIO"
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_METHOD, func="BIO_gets")
        return (-2, b"")
    return res if res[0] > 0 else (res[0], b"")


def BIO_get_line(b: BIO | None, size: int) -> tuple[int, bytes]:
    """``BIO_get_line(b, size) -> (ret, line)``: up to and including the next '\n', at most size-1 bytes, read one
    byte at a time with BIO_read (so nothing past the line is taken from b); ret is the exact length, NULs
    included. A read that fails before the line is complete ends it: the bytes read so far when the BIO is at its
    end, else the failed read's value (libcrypto 3.0)."""
    bio = live_bio(b, "BIO_get_line")
    if bio is None:
        return (-1, b"")
    if not _is_int(size) or size <= 0:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_get_line")
        return (-1, b"")
    if not bio.init:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNINITIALIZED, func="BIO_get_line")
        return (-1, b"")
    line = bytearray()
    ret = 0
    while len(line) < min(size, INT_MAX) - 1:
        ret, byte = BIO_read(bio, 1)
        if ret <= 0:
            break
        line += byte
        if byte == b"\n":
            break
    if ret > 0 or BIO_eof(bio):
        return (len(line), bytes(line))
    return (ret, b"")


def BIO_puts(b: BIO | None, buf: bytes | object) -> int:
    """``BIO_puts(b, buf)``: writes buf up to its first NUL (a C string)."""
    bio = live_bio(b, "BIO_puts")
    if bio is None:
        return -1
    if not isinstance(buf, bytes | bytearray):
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_puts")
        return -1
    if bio.impl.lacks("puts"):
        # BIO_read: RETURN VALUES -2 when the operation is not implemented by the BIO type
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_METHOD, func="BIO_puts")
        return -2
    if not bio.init:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNINITIALIZED, func="BIO_puts")
        return -1
    nul = buf.find(0)
    text = bytes(buf if nul < 0 else buf[:nul])
    ret = bio.impl.puts(bio, text)
    if ret is None:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_METHOD, func="BIO_puts")
        return -2
    return ret


# --- ctrl and its macros (BIO_ctrl.pod) -------------------------------------------------------------------------
def BIO_ctrl(bp: BIO | None, cmd: int, larg: int = 0, parg: Any = None) -> int:
    # libcrypto 3.0 answers a NULL BIO with -1 (no entry); a freed or foreign handle gets an entry as well
    if bp is None:
        return -1
    bio = live_bio(bp, "BIO_ctrl")
    if bio is None:
        return -1
    if not _is_int(cmd) or not _is_int(larg):
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_ctrl")
        return -1
    return bio.impl.ctrl(bio, cmd, larg, parg)


def BIO_int_ctrl(bp: BIO | None, cmd: int, larg: int, iarg: int) -> int:
    return BIO_ctrl(bp, cmd, larg, iarg)


def BIO_reset(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_CTRL_RESET, 0, None)


def BIO_eof(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_CTRL_EOF, 0, None)


def BIO_flush(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_CTRL_FLUSH, 0, None)


def BIO_get_close(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_CTRL_GET_CLOSE, 0, None)


def BIO_set_close(b: BIO | None, flag: int) -> int:
    return BIO_ctrl(b, BIO_CTRL_SET_CLOSE, flag, None)


def BIO_pending(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_CTRL_PENDING, 0, None)


def BIO_wpending(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_CTRL_WPENDING, 0, None)


def BIO_get_ktls_send(b: BIO | None) -> int:
    # BIO_ctrl: RETURN VALUES "1 if the BIO is using the Kernel TLS data-path for sending, 0 otherwise"; the engine
    # encrypts in user space and never hands a socket to kernel TLS, so no kind of BIO answers the ctrl with 1
    return 1 if BIO_ctrl(b, BIO_CTRL_GET_KTLS_SEND, 0, None) > 0 else 0


def BIO_get_ktls_recv(b: BIO | None) -> int:
    return 1 if BIO_ctrl(b, BIO_CTRL_GET_KTLS_RECV, 0, None) > 0 else 0


def BIO_ctrl_pending(b: BIO | None) -> int:
    # BIO_ctrl: RETURN VALUES "BIO_ctrl_pending() and BIO_ctrl_wpending() return 0 on error"
    return max(BIO_ctrl(b, BIO_CTRL_PENDING, 0, None), 0)


def BIO_ctrl_wpending(b: BIO | None) -> int:
    return max(BIO_ctrl(b, BIO_CTRL_WPENDING, 0, None), 0)


# --- flags and retry (BIO_should_retry.pod) ---------------------------------------------------------------------
def BIO_set_flags(b: BIO | None, flags: int) -> None:
    bio = live_bio(b, "BIO_set_flags")
    if bio is not None and _is_int(flags):
        bio.flags |= flags


def BIO_clear_flags(b: BIO | None, flags: int) -> None:
    bio = live_bio(b, "BIO_clear_flags")
    if bio is not None and _is_int(flags):
        bio.flags &= ~flags


def BIO_test_flags(b: BIO | None, flags: int) -> int:
    bio = live_bio(b, "BIO_test_flags")
    if bio is None or not _is_int(flags):
        return 0
    return bio.flags & flags


def BIO_get_flags(b: BIO | None) -> int:
    return BIO_test_flags(b, ~0)


def BIO_set_retry_read(b: BIO) -> None:
    b.flags |= BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY


def BIO_set_retry_write(b: BIO) -> None:
    b.flags |= BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY


def BIO_set_retry_special(b: BIO) -> None:
    b.flags |= BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY


_NOT_RETRY = ~(BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY)


def BIO_clear_retry_flags(b: BIO) -> None:
    b.flags &= _NOT_RETRY


# BIO_should_retry: RETURN VALUES "return either 1 or 0" (libcrypto's macros return the flag bit itself: 8, 1, 2, 4)
def BIO_should_retry(b: BIO | None) -> int:
    return 1 if BIO_test_flags(b, BIO_FLAGS_SHOULD_RETRY) else 0


def BIO_should_read(b: BIO | None) -> int:
    return 1 if BIO_test_flags(b, BIO_FLAGS_READ) else 0


def BIO_should_write(b: BIO | None) -> int:
    return 1 if BIO_test_flags(b, BIO_FLAGS_WRITE) else 0


def BIO_should_io_special(b: BIO | None) -> int:
    return 1 if BIO_test_flags(b, BIO_FLAGS_IO_SPECIAL) else 0


def BIO_retry_type(b: BIO | None) -> int:
    # BIO_should_retry: RETURN VALUES "a flag combination ... or false if there is no retry condition"
    return BIO_test_flags(b, BIO_FLAGS_RWS)


def BIO_get_retry_BIO(bio: BIO | None) -> tuple[BIO | None, int]:
    """``BIO_get_retry_BIO(bio) -> (retry_bio, reason)``: down the chain, the last BIO that still has the retry flag
    (BIO_should_retry.pod: the source/sink that caused the condition)."""
    b = live_bio(bio, "BIO_get_retry_BIO")
    if b is None:
        return (None, 0)
    last = b
    while last.flags & BIO_FLAGS_SHOULD_RETRY and last.next_bio is not None and not last.next_bio.freed:
        if not last.next_bio.flags & BIO_FLAGS_SHOULD_RETRY:
            break
        last = last.next_bio
    return (last, last.retry_reason)


def BIO_get_retry_reason(bio: BIO | None) -> int:
    b = live_bio(bio, "BIO_get_retry_reason")
    return 0 if b is None else b.retry_reason


def BIO_set_retry_reason(bio: BIO | None, reason: int) -> None:
    b = live_bio(bio, "BIO_set_retry_reason")
    if b is not None and _is_int(reason):
        b.retry_reason = reason
