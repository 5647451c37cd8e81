"""The per-thread error queue (ERR_get_error.pod, ERR_GET_LIB.pod), packed exactly like OpenSSL 3.0.

An error code is an ``unsigned long``: the library number in bits 23..30, reason flags in bits 18..22 and the
reason in the low 23 bits (``ERR_PACK``). A system error (``ERR_LIB_SYS``) is packed differently: the
``ERR_SYSTEM_FLAG`` bit (``INT_MAX + 1``) plus the ``errno`` value, and ``ERR_GET_LIB`` answers ``ERR_LIB_SYS`` for
it. Each thread has its own queue of at most ``ERR_NUM_ERRORS - 1`` (15) entries; a new entry on a full queue drops
the oldest, as OpenSSL's ring buffer does. The calling thread's last ``errno`` is kept next to the queue
(:func:`errno`), because the socket pages say a failure "leaves data on the error stack and errno has the system
error".
"""

from __future__ import annotations

import os
import threading
from collections import deque
from dataclasses import dataclass

__all__ = [
    "BIO_R_ACCEPT_ERROR",
    "BIO_R_BROKEN_PIPE",
    "BIO_R_CONNECT_ERROR",
    "BIO_R_GETTING_SOCKTYPE",
    "BIO_R_INVALID_ARGUMENT",
    "BIO_R_INVALID_SOCKET",
    "BIO_R_IN_USE",
    "BIO_R_LENGTH_TOO_LONG",
    "BIO_R_LISTEN_V6_ONLY",
    "BIO_R_NBIO_CONNECT_ERROR",
    "BIO_R_NULL_PARAMETER",
    "BIO_R_TFO_DISABLED",
    "BIO_R_TFO_NO_KERNEL_SUPPORT",
    "BIO_R_UNABLE_TO_BIND_SOCKET",
    "BIO_R_UNABLE_TO_CREATE_SOCKET",
    "BIO_R_UNABLE_TO_KEEPALIVE",
    "BIO_R_UNABLE_TO_LISTEN_SOCKET",
    "BIO_R_UNABLE_TO_NODELAY",
    "BIO_R_UNABLE_TO_REUSEADDR",
    "BIO_R_UNABLE_TO_TFO",
    "BIO_R_UNINITIALIZED",
    "BIO_R_UNSUPPORTED_METHOD",
    "BIO_R_UNSUPPORTED_PROTOCOL_FAMILY",
    "BIO_R_WRITE_TO_READ_ONLY_BIO",
    "ERR_FATAL_ERROR",
    "ERR_GET_LIB",
    "ERR_GET_REASON",
    "ERR_GET_RFLAGS",
    "ERR_LIB_ASN1",
    "ERR_LIB_BIO",
    "ERR_LIB_BN",
    "ERR_LIB_BUF",
    "ERR_LIB_CRYPTO",
    "ERR_LIB_EVP",
    "ERR_LIB_MASK",
    "ERR_LIB_NONE",
    "ERR_LIB_OFFSET",
    "ERR_LIB_PEM",
    "ERR_LIB_PROV",
    "ERR_LIB_RSA",
    "ERR_LIB_SSL",
    "ERR_LIB_SYS",
    "ERR_LIB_USER",
    "ERR_LIB_X509",
    "ERR_LIB_X509V3",
    "ERR_NUM_ERRORS",
    "ERR_PACK",
    "ERR_REASON_MASK",
    "ERR_RFLAGS_MASK",
    "ERR_RFLAGS_OFFSET",
    "ERR_RFLAG_COMMON",
    "ERR_RFLAG_FATAL",
    "ERR_R_FATAL",
    "ERR_R_INTERNAL_ERROR",
    "ERR_R_MALLOC_FAILURE",
    "ERR_R_OPERATION_FAIL",
    "ERR_R_PASSED_INVALID_ARGUMENT",
    "ERR_R_PASSED_NULL_PARAMETER",
    "ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED",
    "ERR_R_SYS_LIB",
    "ERR_R_UNSUPPORTED",
    "ERR_SYSTEM_ERROR",
    "ERR_SYSTEM_FLAG",
    "ERR_SYSTEM_MASK",
    "ERR_TXT_STRING",
    "ERR_clear_error",
    "ERR_error_string",
    "ERR_error_string_n",
    "ERR_get_error",
    "ERR_get_error_all",
    "ERR_get_error_line",
    "ERR_get_error_line_data",
    "ERR_lib_error_string",
    "ERR_peek_error",
    "ERR_peek_error_all",
    "ERR_peek_error_data",
    "ERR_peek_error_func",
    "ERR_peek_error_line",
    "ERR_peek_error_line_data",
    "ERR_peek_last_error",
    "ERR_peek_last_error_all",
    "ERR_peek_last_error_data",
    "ERR_peek_last_error_func",
    "ERR_peek_last_error_line",
    "ERR_peek_last_error_line_data",
    "ERR_raise",
    "ERR_raise_data",
    "ERR_reason_error_string",
    "ErrorEntry",
    "errno",
    "raise_sys",
    "set_errno",
]  # fmt: skip

# --- packing (openssl/err.h, 3.0) -------------------------------------------------------------------------------
ERR_NUM_ERRORS = 16
ERR_TXT_STRING = 0x02
ERR_SYSTEM_FLAG = 0x7FFFFFFF + 1  # (unsigned int)INT_MAX + 1
ERR_SYSTEM_MASK = 0x7FFFFFFF
ERR_LIB_OFFSET = 23
ERR_LIB_MASK = 0xFF
ERR_RFLAGS_OFFSET = 18
ERR_RFLAGS_MASK = 0x1F
ERR_REASON_MASK = 0x7FFFFF
ERR_RFLAG_FATAL = 0x1 << ERR_RFLAGS_OFFSET
ERR_RFLAG_COMMON = 0x2 << ERR_RFLAGS_OFFSET

# --- library numbers ----------------------------------------------------------------------------------------------
ERR_LIB_NONE = 1
ERR_LIB_SYS = 2
ERR_LIB_BN = 3
ERR_LIB_RSA = 4
ERR_LIB_EVP = 6
ERR_LIB_BUF = 7
ERR_LIB_PEM = 9
ERR_LIB_X509 = 11
ERR_LIB_ASN1 = 13
ERR_LIB_CRYPTO = 15
ERR_LIB_SSL = 20
ERR_LIB_BIO = 32
ERR_LIB_X509V3 = 34
ERR_LIB_PROV = 57
ERR_LIB_USER = 128

# --- common reasons (ERR_R_*) -------------------------------------------------------------------------------------
ERR_R_FATAL = ERR_RFLAG_FATAL | ERR_RFLAG_COMMON
ERR_R_SYS_LIB = ERR_LIB_SYS | ERR_RFLAG_COMMON
ERR_R_MALLOC_FAILURE = 256 | ERR_R_FATAL
ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED = 257 | ERR_R_FATAL
ERR_R_PASSED_NULL_PARAMETER = 258 | ERR_R_FATAL
ERR_R_INTERNAL_ERROR = 259 | ERR_R_FATAL
ERR_R_PASSED_INVALID_ARGUMENT = 262 | ERR_RFLAG_COMMON
ERR_R_OPERATION_FAIL = 263 | ERR_R_FATAL
ERR_R_UNSUPPORTED = 268 | ERR_RFLAG_COMMON

# --- BIO reasons (openssl/bioerr.h, 3.0; the TFO ones from 3.2) ---------------------------------------------------
BIO_R_ACCEPT_ERROR = 100
BIO_R_LENGTH_TOO_LONG = 102
BIO_R_CONNECT_ERROR = 103
BIO_R_TFO_DISABLED = 106
BIO_R_TFO_NO_KERNEL_SUPPORT = 108
BIO_R_UNABLE_TO_TFO = 109
BIO_R_NBIO_CONNECT_ERROR = 110
BIO_R_NULL_PARAMETER = 115
BIO_R_UNABLE_TO_BIND_SOCKET = 117
BIO_R_UNABLE_TO_CREATE_SOCKET = 118
BIO_R_UNABLE_TO_LISTEN_SOCKET = 119
BIO_R_UNINITIALIZED = 120
BIO_R_UNSUPPORTED_METHOD = 121
BIO_R_IN_USE = 123
BIO_R_BROKEN_PIPE = 124
BIO_R_INVALID_ARGUMENT = 125
BIO_R_WRITE_TO_READ_ONLY_BIO = 126
BIO_R_UNSUPPORTED_PROTOCOL_FAMILY = 131
BIO_R_GETTING_SOCKTYPE = 134
BIO_R_INVALID_SOCKET = 135
BIO_R_LISTEN_V6_ONLY = 136
BIO_R_UNABLE_TO_KEEPALIVE = 137
BIO_R_UNABLE_TO_NODELAY = 138
BIO_R_UNABLE_TO_REUSEADDR = 139

_LIB_NAMES: dict[int, str] = {
    ERR_LIB_NONE: "unknown library", ERR_LIB_SYS: "system library", ERR_LIB_BN: "bignum routines",
    ERR_LIB_RSA: "rsa routines", ERR_LIB_EVP: "digital envelope routines", ERR_LIB_BUF: "memory buffer routines",
    ERR_LIB_PEM: "PEM routines", ERR_LIB_X509: "x509 certificate routines", ERR_LIB_ASN1: "asn1 encoding routines",
    ERR_LIB_CRYPTO: "common libcrypto routines", ERR_LIB_SSL: "SSL routines", ERR_LIB_BIO: "BIO routines",
    ERR_LIB_X509V3: "X509 V3 routines", ERR_LIB_PROV: "Provider routines",
}  # fmt: skip

# Short texts of our own; OpenSSL's tables are not copied.
_COMMON_REASONS: dict[int, str] = {
    ERR_R_MALLOC_FAILURE: "out of memory", ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED: "called at the wrong time",
    ERR_R_PASSED_NULL_PARAMETER: "NULL argument", ERR_R_INTERNAL_ERROR: "internal error",
    ERR_R_PASSED_INVALID_ARGUMENT: "invalid argument", ERR_R_OPERATION_FAIL: "operation failed",
    ERR_R_UNSUPPORTED: "not supported", ERR_R_SYS_LIB: "system call failed",
}  # fmt: skip

_BIO_REASONS: dict[int, str] = {
    BIO_R_ACCEPT_ERROR: "accept failed", BIO_R_LENGTH_TOO_LONG: "length too long",
    BIO_R_CONNECT_ERROR: "connect failed", BIO_R_TFO_DISABLED: "TCP Fast Open disabled by the kernel",
    BIO_R_TFO_NO_KERNEL_SUPPORT: "no kernel support for TCP Fast Open",
    BIO_R_UNABLE_TO_TFO: "cannot enable TCP Fast Open", BIO_R_NBIO_CONNECT_ERROR: "non-blocking connect failed",
    BIO_R_NULL_PARAMETER: "NULL parameter", BIO_R_UNABLE_TO_BIND_SOCKET: "bind failed",
    BIO_R_UNABLE_TO_CREATE_SOCKET: "socket creation failed", BIO_R_UNABLE_TO_LISTEN_SOCKET: "listen failed",
    BIO_R_UNINITIALIZED: "BIO not initialised", BIO_R_UNSUPPORTED_METHOD: "operation not supported by this BIO",
    BIO_R_IN_USE: "BIO already in use", BIO_R_BROKEN_PIPE: "writing side shut down",
    BIO_R_INVALID_ARGUMENT: "bad argument", BIO_R_WRITE_TO_READ_ONLY_BIO: "BIO is read-only",
    BIO_R_UNSUPPORTED_PROTOCOL_FAMILY: "address family not supported here",
    BIO_R_GETTING_SOCKTYPE: "cannot get socket type", BIO_R_INVALID_SOCKET: "invalid socket",
    BIO_R_LISTEN_V6_ONLY: "cannot set IPv6-only", BIO_R_UNABLE_TO_KEEPALIVE: "cannot enable keep-alive",
    BIO_R_UNABLE_TO_NODELAY: "cannot disable Nagle", BIO_R_UNABLE_TO_REUSEADDR: "cannot reuse address",
}  # fmt: skip

# Other layers (engine/ssl) register their reason texts here: {lib: {reason: text}}.
REASON_TEXTS: dict[int, dict[int, str]] = {ERR_LIB_BIO: _BIO_REASONS}


# --- code arithmetic (ERR_GET_LIB.pod; macros of err.h) -------------------------------------------------------------
def ERR_PACK(lib: int, func: int, reason: int) -> int:
    """Pack a library number and reason (flags included); ``func`` is ignored as in 3.0."""
    return ((lib & ERR_LIB_MASK) << ERR_LIB_OFFSET) | (reason & ERR_REASON_MASK)


def ERR_SYSTEM_ERROR(e: int) -> bool:
    return (e & ERR_SYSTEM_FLAG) != 0


def ERR_GET_LIB(e: int) -> int:
    # ERR_GET_LIB: system errors report ERR_LIB_SYS
    if ERR_SYSTEM_ERROR(e):
        return ERR_LIB_SYS
    return (e >> ERR_LIB_OFFSET) & ERR_LIB_MASK


def ERR_GET_RFLAGS(e: int) -> int:
    if ERR_SYSTEM_ERROR(e):
        return 0
    return e & (ERR_RFLAGS_MASK << ERR_RFLAGS_OFFSET)


def ERR_GET_REASON(e: int) -> int:
    if ERR_SYSTEM_ERROR(e):
        return e & ERR_SYSTEM_MASK
    return e & ERR_REASON_MASK


def ERR_FATAL_ERROR(e: int) -> int:
    return 1 if ERR_GET_RFLAGS(e) & ERR_RFLAG_FATAL else 0


# --- the queue ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ErrorEntry:
    """One queue entry: the packed code and the debug information ``ERR_get_error_all`` returns."""

    code: int
    file: str = ""
    line: int = 0
    func: str = ""
    data: str = ""
    flags: int = 0


class _ThreadState(threading.local):
    def __init__(self) -> None:
        # ERR_NUM_ERRORS slots in a ring, one always free: 15 entries survive (checked against libcrypto 3.0.19).
        self.queue: deque[ErrorEntry] = deque(maxlen=ERR_NUM_ERRORS - 1)
        self.errno = 0


_state = _ThreadState()


def _pack(lib: int, reason: int) -> int:
    if lib == ERR_LIB_SYS:
        return ERR_SYSTEM_FLAG | (reason & ERR_SYSTEM_MASK)
    return ERR_PACK(lib, 0, reason)


def ERR_raise_data(lib: int, reason: int, data: str = "", *, func: str = "") -> int:
    """Push one entry (``ERR_raise_data``); returns the packed code."""
    code = _pack(lib, reason)
    _state.queue.append(ErrorEntry(code, "", 0, func, data, ERR_TXT_STRING if data else 0))
    return code


def ERR_raise(lib: int, reason: int, *, func: str = "") -> int:
    """Push one entry (``ERR_raise``); returns the packed code."""
    return ERR_raise_data(lib, reason, func=func)


def raise_sys(err: int, data: str = "", *, func: str = "") -> int:
    """Record a failed system call: set the thread's errno and push an ERR_LIB_SYS entry."""
    _state.errno = err
    return ERR_raise_data(ERR_LIB_SYS, err, data, func=func)


def errno() -> int:
    """The calling thread's errno as last set by an engine call (the C API convention's ``api.errno()``)."""
    return _state.errno


def set_errno(value: int) -> None:
    _state.errno = value


def ERR_get_error() -> int:
    # ERR_get_error: earliest code, removed; 0 when empty
    q = _state.queue
    return q.popleft().code if q else 0


def ERR_peek_error() -> int:
    q = _state.queue
    return q[0].code if q else 0


def ERR_peek_last_error() -> int:
    q = _state.queue
    return q[-1].code if q else 0


def ERR_clear_error() -> None:
    _state.queue.clear()


def ERR_get_error_all() -> tuple[int, str, int, str, str, int]:
    """``ERR_get_error_all`` -> (code, file, line, func, data, flags); unset values are "" / 0."""
    q = _state.queue
    if not q:
        return (0, "", 0, "", "", 0)
    e = q.popleft()
    return (e.code, e.file, e.line, e.func, e.data, e.flags)


def ERR_peek_error_all() -> tuple[int, str, int, str, str, int]:
    q = _state.queue
    if not q:
        return (0, "", 0, "", "", 0)
    e = q[0]
    return (e.code, e.file, e.line, e.func, e.data, e.flags)


def ERR_peek_error_line() -> tuple[int, str, int]:
    """``ERR_peek_error_line`` -> (code, file, line) of the earliest entry, left on the queue (ERR_get_error.pod)."""
    code, file, line, _func, _data, _flags = ERR_peek_error_all()
    return code, file, line


def ERR_peek_error_func() -> tuple[int, str]:
    """``ERR_peek_error_func`` -> (code, func) of the earliest entry, left on the queue (ERR_get_error.pod)."""
    code, _file, _line, func, _data, _flags = ERR_peek_error_all()
    return code, func


def ERR_peek_last_error_line() -> tuple[int, str, int]:
    """(code, file, line) of the newest entry, left on the queue."""
    code, file, line, _func, _data, _flags = ERR_peek_last_error_all()
    return code, file, line


def ERR_peek_last_error_func() -> tuple[int, str]:
    """(code, func) of the newest entry, left on the queue."""
    code, _file, _line, func, _data, _flags = ERR_peek_last_error_all()
    return code, func


def ERR_peek_last_error_data() -> tuple[int, str, int]:
    """(code, data, flags) of the newest entry, left on the queue."""
    code, _file, _line, _func, data, flags = ERR_peek_last_error_all()
    return code, data, flags


def ERR_get_error_line() -> tuple[int, str, int]:
    """Deprecated form (ERR_get_error.pod): (code, file, line) of the earliest entry, which is removed."""
    code, file, line, _func, _data, _flags = ERR_get_error_all()
    return code, file, line


def ERR_get_error_line_data() -> tuple[int, str, int, str, int]:
    """Deprecated form: (code, file, line, data, flags) of the earliest entry, which is removed."""
    code, file, line, _func, data, flags = ERR_get_error_all()
    return code, file, line, data, flags


def ERR_peek_error_line_data() -> tuple[int, str, int, str, int]:
    """Deprecated form: (code, file, line, data, flags) of the earliest entry, left on the queue."""
    code, file, line, _func, data, flags = ERR_peek_error_all()
    return code, file, line, data, flags


def ERR_peek_last_error_line_data() -> tuple[int, str, int, str, int]:
    """Deprecated form: (code, file, line, data, flags) of the newest entry, left on the queue."""
    code, file, line, _func, data, flags = ERR_peek_last_error_all()
    return code, file, line, data, flags


def ERR_peek_last_error_all() -> tuple[int, str, int, str, str, int]:
    q = _state.queue
    if not q:
        return (0, "", 0, "", "", 0)
    e = q[-1]
    return (e.code, e.file, e.line, e.func, e.data, e.flags)


def ERR_peek_error_data() -> tuple[int, str, int]:
    """``ERR_peek_error_data`` -> (code, data, flags)."""
    code, _f, _l, _fn, data, flags = ERR_peek_error_all()
    return (code, data, flags)


# --- texts ----------------------------------------------------------------------------------------------------------
def ERR_lib_error_string(e: int) -> str | None:
    return _LIB_NAMES.get(ERR_GET_LIB(e))


def ERR_reason_error_string(e: int) -> str | None:
    if ERR_SYSTEM_ERROR(e):
        r = ERR_GET_REASON(e)
        try:
            return os.strerror(r)
        except ValueError:
            return None
    lib, reason = ERR_GET_LIB(e), ERR_GET_REASON(e)
    text = REASON_TEXTS.get(lib, {}).get(reason)
    return text if text is not None else _COMMON_REASONS.get(reason)


def ERR_error_string(e: int) -> str:
    """``error:<code>:<lib>:<func>:<reason>``, the 3.0 layout (function always empty)."""
    lib = ERR_lib_error_string(e) or f"lib({ERR_GET_LIB(e)})"
    reason = ERR_reason_error_string(e) or f"reason({ERR_GET_REASON(e)})"
    return f"error:{e & 0xFFFFFFFF:08X}:{lib}::{reason}"


def ERR_error_string_n(e: int, len: int = 256) -> str:
    """The text of :func:`ERR_error_string` cut to fit a buffer of ``len`` bytes (NUL included); void in C."""
    if len <= 0:
        return ""
    return ERR_error_string(e).encode()[: len - 1].decode(errors="ignore")
