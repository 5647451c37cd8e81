"""What a case can read of TLS 1.3 on the wire without the keys: the record headers, and the sizes that tell a
protected record's content apart (RFC 9846 section 5.2: the ciphertext is the content, one byte of inner content
type, any padding, and the AEAD tag; every TLS 1.3 suite a stack offers by default has a 16-byte tag)."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.harness import Pair
from conformance.outcome import Outcome, SslError
from conformance.stacks.base import StackAdapter

__all__ = ["ALERT_CIPHERTEXT", "KEY_UPDATE_CIPHERTEXT", "MISREPORTED_RETRY", "RETRY_CODE_CLAUSES", "Record",
           "assert_fatal", "assert_retries_reported", "records", "words"]

TAG = 16
KEY_UPDATE_CIPHERTEXT = 4 + 1 + 1 + TAG  # handshake header, request_update, inner type, tag: 22 bytes
ALERT_CIPHERTEXT = 2 + 1 + TAG  # level, description, inner type, tag: 19 bytes


# clauses on retry codes: an interoperability case claiming one of these (an id starting so) and using the
# harness's "call again" (Pair.wants_again, e.g. through test_interop._exchange) ends with assert_retries_reported
# (checked by tests/specs/test_interop_retry_clauses.py)
RETRY_CODE_CLAUSES = ("SSL_get_error/", "SSL_read/RETURN VALUES/", "SSL_write/RETURN VALUES/",
                      "SSL_do_handshake/RETURN VALUES/", "SSL_connect/RETURN VALUES/", "SSL_accept/RETURN VALUES/")
MISREPORTED_RETRY = ("the stack answered a retry with {op} -> {ret} / {error} (the harness's own signal was needed to "
                     "go on)")


def assert_retries_reported(pair: Pair) -> None:
    """The end of an interoperability case that claims a clause on retry codes (SSL_get_error's WANT_READ /
    WANT_WRITE, SSL_read's return value <= 0): fails, with one fixed message, if a loop of the case went on only by
    the harness's signal (:meth:`Pair.wants_again`). Called after every wire check, so a data or close_notify failure
    is reported by its own assertion first. A case that claims no such clause does not call it."""
    if pair.misreported_retries:
        first = pair.misreported_retries[0]
        error = first.error.name if isinstance(first.error, SslError) else str(first.error)
        raise AssertionError(MISREPORTED_RETRY.format(op=f"{first.op}()", ret=first.ret, error=error))


@dataclass(frozen=True)
class Record:
    type: int
    length: int
    body: bytes


def records(data: bytes) -> list[Record]:
    """The records of ``data`` (whole records only; a truncated tail is an AssertionError naming the bytes)."""
    out = []
    at = 0
    while at < len(data):
        assert len(data) - at >= 5, f"a record header was cut short: {data[at:].hex()}"
        length = int.from_bytes(data[at + 3:at + 5], "big")
        assert len(data) - at - 5 >= length, f"a record of {length} bytes was cut short at {len(data) - at - 5}"
        out.append(Record(data[at], length, data[at + 5:at + 5 + length]))
        at += 5 + length
    return out


def words(reason: str) -> str:
    """A reason in comparable form: lower case, ``_`` and ``-`` as spaces (``SSLV3_ALERT_BAD_RECORD_MAC``,
    ``bad_record_mac`` and ``sslv3 alert bad record mac`` all contain ``bad record mac``)."""
    return " ".join(reason.lower().replace("_", " ").replace("-", " ").split())


def assert_fatal(out: Outcome | None, stack: StackAdapter, what: str) -> Outcome:
    """SSL_get_error.pod: SSL_ERROR_SSL is a fatal error and the error queue holds more about it. ``out`` must be
    SSL_ERROR_SSL, with a return value <= 0 where the stack shows C return values and an error-queue entry (the
    outcome's reason) where the stack has an error queue."""
    assert out is not None and out.error is SslError.SSL_ERROR_SSL, f"{what}: {out}"
    if stack.lacks("raw_return_values") is None:
        assert out.ret <= 0, f"{what}: SSL_ERROR_SSL after a return value of {out.ret}: {out}"
    if stack.lacks("error_queue") is None:
        assert out.reason, f"{what}: SSL_ERROR_SSL with nothing on the error queue: {out}"
    return out
