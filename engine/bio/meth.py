"""Application-defined BIO methods (BIO_meth_new.pod): a BIO_METHOD whose read, write and ctrl are Python callables.

A callback absent from the method makes the matching call fail as in libcrypto 3.0: BIO_read / BIO_write answer
-2 with ``BIO_R_UNSUPPORTED_METHOD`` on the queue, and BIO_ctrl answers -2 as well (so BIO_flush fails); BIO_gets
and BIO_puts, which this API cannot set, always answer -2. A missing operation gives -2 even before BIO_set_init
(libcrypto 3.0 looks at the method first). A BIO of such a method starts uninitialised (no create callback), so the
operations it has fail (-1, BIO_R_UNINITIALIZED) until BIO_set_init(b, 1).

Callbacks follow the conformance.capi convention: ``write(data) -> int``, ``read(size) -> bytes`` (b"" is 0),
``ctrl(cmd, larg) -> int``; the BIO handle is not passed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine import err
from engine.bio.constants import BIO_R_UNSUPPORTED_METHOD
from engine.bio.core import BIO, BIO_METHOD, BioImpl, live_bio

__all__ = [
    "BIO_get_init", "BIO_meth_free", "BIO_meth_new", "BIO_meth_set_ctrl", "BIO_meth_set_read",
    "BIO_meth_set_write", "BIO_set_init",
]  # fmt: skip

WriteCallback = Callable[[bytes], int]
ReadCallback = Callable[[int], bytes]
CtrlCallback = Callable[[int, int], int]


class _Callbacks:
    __slots__ = ("ctrl", "freed", "read", "write")

    def __init__(self) -> None:
        self.write: WriteCallback | None = None
        self.read: ReadCallback | None = None
        self.ctrl: CtrlCallback | None = None
        self.freed = False


class _AppMethod(BIO_METHOD):
    __slots__ = ("callbacks",)

    def __init__(self, type_: int, name: str) -> None:
        self.callbacks = _Callbacks()
        callbacks = self.callbacks
        super().__init__(type_, name, lambda: (_AppBio(callbacks), False))


class _AppBio(BioImpl):
    def __init__(self, callbacks: _Callbacks) -> None:
        self.cb = callbacks

    def lacks(self, operation: str) -> bool:
        # BIO_meth_new: a method has only the callbacks set on it; gets and puts cannot be set through this API
        if operation == "read":
            return self.cb.read is None
        if operation == "write":
            return self.cb.write is None
        return operation in ("gets", "puts")

    def read(self, bio: BIO, n: int) -> tuple[int, bytes]:
        if self.cb.read is None:
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_METHOD, func="BIO_read")
            return (-2, b"")
        data = bytes(self.cb.read(n))[:n]
        return (len(data), data)

    def write(self, bio: BIO, data: memoryview) -> int:
        if self.cb.write is None:
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_METHOD, func="BIO_write")
            return -2
        return int(self.cb.write(bytes(data)))

    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        if self.cb.ctrl is None:
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_METHOD, func="BIO_ctrl")
            return -2
        return int(self.cb.ctrl(cmd, larg))


def _method(biom: object) -> _AppMethod | None:
    return biom if isinstance(biom, _AppMethod) and not biom.callbacks.freed else None


def BIO_meth_new(type: int | object, name: bytes | str | object) -> BIO_METHOD | None:
    # BIO_meth_new: RETURN VALUES "a valid BIO_METHOD or NULL if an error occurred"
    text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
    if not isinstance(type, int) or isinstance(type, bool) or not isinstance(text, str):
        err.ERR_raise(err.ERR_LIB_BIO, err.BIO_R_INVALID_ARGUMENT, func="BIO_meth_new")
        return None
    return _AppMethod(type, text)


def BIO_meth_free(biom: BIO_METHOD | None) -> None:
    m = _method(biom)
    if m is not None:
        m.callbacks.freed = True


def BIO_meth_set_write(biom: BIO_METHOD | None, write: WriteCallback | None) -> int:
    m = _method(biom)
    if m is None:
        return 0
    m.callbacks.write = write
    return 1


def BIO_meth_set_read(biom: BIO_METHOD | None, read: ReadCallback | None) -> int:
    m = _method(biom)
    if m is None:
        return 0
    m.callbacks.read = read
    return 1


def BIO_meth_set_ctrl(biom: BIO_METHOD | None, ctrl: CtrlCallback | None) -> int:
    m = _method(biom)
    if m is None:
        return 0
    m.callbacks.ctrl = ctrl
    return 1


def BIO_set_init(a: BIO | None, init: int) -> None:
    b = live_bio(a, "BIO_set_init")
    if b is not None:
        b.init = bool(init)


def BIO_get_init(a: BIO | None) -> int:
    b = live_bio(a, "BIO_get_init")
    return 1 if b is not None and b.init else 0
