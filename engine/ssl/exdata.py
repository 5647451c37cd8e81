"""Application data of SSL and SSL_CTX objects (CRYPTO_get_ex_new_index, as reached through the SSL_get_ex_new_index /
SSL_CTX_get_ex_new_index macros of ssl.h).

An index is registered per class with optional callbacks, called as OpenSSL calls them: ``new_func(parent, ptr,
ad, idx, argl, argp)`` when an object of the class is made, ``free_func(parent, ptr, ad, idx, argl, argp)`` when
reference counting frees it (for every index of the class, with the stored value or None), and
``dup_func(to, from_, from_d, idx, argl, argp)`` when SSL_dup copies the data (its return value is ignored, as
the copy is a reference). ``ad`` (the C ``CRYPTO_EX_DATA *``) is always None here. A callback that raises is the
application's bug; the exception is not let out of the C API (OpenSSL's callbacks cannot raise either).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["SSL_CLASS", "SSL_CTX_CLASS", "ExDataClass"]

ExCallback = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class _Index:
    argl: int
    argp: Any
    new_func: ExCallback | None
    dup_func: ExCallback | None
    free_func: ExCallback | None


class ExDataClass:
    """The indexes of one class of object (CRYPTO_EX_INDEX_SSL, CRYPTO_EX_INDEX_SSL_CTX)."""

    def __init__(self) -> None:
        self._indexes: dict[int, _Index] = {}
        self._next = itertools.count(1)  # index 0 is ssl.h's SSL_set_app_data / SSL_CTX_set_app_data

    def new_index(self, argl: int, argp: Any, new_func: ExCallback | None, dup_func: ExCallback | None,
                  free_func: ExCallback | None) -> int:
        idx = next(self._next)
        self._indexes[idx] = _Index(argl, argp, new_func, dup_func, free_func)
        return idx

    def on_new(self, parent: object) -> None:
        for idx, entry in list(self._indexes.items()):
            if entry.new_func is not None:
                _call(entry.new_func, parent, None, None, idx, entry.argl, entry.argp)

    def on_dup(self, to: object, from_: object, data: dict[int, Any]) -> None:
        for idx, entry in list(self._indexes.items()):
            if entry.dup_func is not None:
                _call(entry.dup_func, to, from_, data.get(idx), idx, entry.argl, entry.argp)

    def on_free(self, parent: object, data: dict[int, Any]) -> None:
        for idx, entry in list(self._indexes.items()):
            if entry.free_func is not None:
                _call(entry.free_func, parent, data.get(idx), None, idx, entry.argl, entry.argp)


def _call(fn: ExCallback, *args: Any) -> None:
    # an application callback's failure stays inside it, as it must in C
    with contextlib.suppress(Exception):
        fn(*args)


SSL_CLASS = ExDataClass()
SSL_CTX_CLASS = ExDataClass()
