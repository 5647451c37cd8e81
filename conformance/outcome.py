"""What one call on an endpoint produced: the return value, the ``SSL_get_error`` code, data and a reason."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.ssl.constants import SslError

__all__ = ["RETRY_ERRORS", "Outcome", "Role", "SslError", "error_code"]

RETRY_ERRORS = frozenset({SslError.SSL_ERROR_WANT_READ, SslError.SSL_ERROR_WANT_WRITE})


def error_code(value: int) -> SslError | int:
    """``value`` as an :class:`SslError`, or the bare int when a library returns a code the page does not define
    (a finding in itself: SSL_get_error.pod lists every value it may return)."""
    try:
        return SslError(value)
    except ValueError:
        return int(value)


class Role(StrEnum):
    CLIENT = "client"
    SERVER = "server"

    @property
    def other(self) -> Role:
        return Role.SERVER if self is Role.CLIENT else Role.CLIENT


@dataclass(frozen=True)
class Outcome:
    """The result of one operation.

    ``ret`` is the C return value where the adapter can observe it (capability ``raw_return_values``); otherwise
    the adapter synthesises the value the C function documents for that result (1 or the byte count on success,
    0 for a read that met close_notify, -1 for a retry or an error). ``error`` is the ``SSL_get_error`` code, as
    the binding reports it. ``reason`` says, in the library's words, why an error happened.
    """

    op: str
    ret: int
    error: SslError | int
    data: bytes = b""
    reason: str = ""
    args: str = ""

    @property
    def ok(self) -> bool:
        return self.error is SslError.SSL_ERROR_NONE

    @property
    def retry(self) -> bool:
        return self.error in RETRY_ERRORS

    @property
    def fatal(self) -> bool:
        return self.error in (SslError.SSL_ERROR_SSL, SslError.SSL_ERROR_SYSCALL)

    def __str__(self) -> str:
        name = self.error.name if isinstance(self.error, SslError) else f"{self.error} (not an SSL_ERROR_* code)"
        text = f"{self.op}({self.args}) -> {self.ret}, SSL_get_error -> {name}"
        if self.data:
            text += f", {len(self.data)} bytes"
        if self.reason:
            text += f" [{self.reason}]"
        return text
