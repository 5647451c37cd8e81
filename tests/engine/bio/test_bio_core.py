"""engine.bio.core: life cycle, reference counts, retry flags and bad handles, through the public functions."""

from __future__ import annotations

from engine import err
from engine.bio import (
    BIO_clear_flags,
    BIO_ctrl,
    BIO_ctrl_pending,
    BIO_eof,
    BIO_flush,
    BIO_free,
    BIO_free_all,
    BIO_get_close,
    BIO_get_retry_BIO,
    BIO_get_retry_reason,
    BIO_gets,
    BIO_method_type,
    BIO_new,
    BIO_new_bio_pair,
    BIO_pending,
    BIO_puts,
    BIO_read,
    BIO_read_ex,
    BIO_reset,
    BIO_retry_type,
    BIO_s_bio,
    BIO_s_mem,
    BIO_set_close,
    BIO_set_flags,
    BIO_set_retry_reason,
    BIO_should_io_special,
    BIO_should_read,
    BIO_should_retry,
    BIO_should_write,
    BIO_test_flags,
    BIO_up_ref,
    BIO_vfree,
    BIO_write,
    BIO_write_ex,
)
from engine.bio.constants import (
    BIO_CLOSE,
    BIO_FLAGS_READ,
    BIO_FLAGS_SHOULD_RETRY,
    BIO_NOCLOSE,
    BIO_R_UNSUPPORTED_METHOD,
    BIO_RR_CONNECT,
    BIO_TYPE_BIO,
    BIO_TYPE_MEM,
)


def setup_function() -> None:
    err.ERR_clear_error()


def test_new_and_free() -> None:
    b = BIO_new(BIO_s_mem())
    assert b is not None and BIO_method_type(b) == BIO_TYPE_MEM
    assert BIO_method_type(BIO_new(BIO_s_bio())) == BIO_TYPE_BIO
    assert BIO_free(b) == 1
    assert BIO_free(None) == 0 and err.ERR_peek_error() == 0  # BIO_new: "If a is NULL nothing is done"
    BIO_vfree(None)
    BIO_free_all(None)


def test_new_with_bad_method() -> None:
    assert BIO_new(None) is None
    assert err.ERR_GET_REASON(err.ERR_get_error()) == err.ERR_R_PASSED_NULL_PARAMETER
    assert BIO_new("mem") is None
    assert err.ERR_GET_REASON(err.ERR_get_error()) == err.ERR_R_PASSED_INVALID_ARGUMENT


def test_reference_counts() -> None:
    b = BIO_new(BIO_s_mem())
    assert BIO_up_ref(b) == 1
    assert BIO_free(b) == 1
    assert BIO_write(b, b"still alive") == 11  # one reference left
    assert BIO_free(b) == 1
    assert BIO_free(b) == 0 and err.ERR_get_error() != 0
    assert BIO_up_ref(b) == 0 and err.ERR_get_error() != 0


def test_freed_handle_never_raises() -> None:
    b = BIO_new(BIO_s_mem())
    BIO_free_all(b)
    assert BIO_read(b, 4) == (-1, b"")
    assert BIO_read_ex(b, 4) == (0, b"")
    assert BIO_write(b, b"x") == -1
    assert BIO_write_ex(b, b"x") == (0, 0)
    assert BIO_gets(b, 10) == (-1, b"")
    assert BIO_puts(b, b"x") == -1
    assert BIO_ctrl(b, 10) == -1
    assert BIO_ctrl_pending(b) == 0
    assert BIO_should_retry(b) == 0
    assert BIO_get_retry_BIO(b) == (None, 0)
    n = 0
    while err.ERR_get_error():
        n += 1
    assert n >= 8


def test_null_handles_follow_libcrypto() -> None:
    assert BIO_read(None, 5) == (-1, b"")
    assert err.ERR_GET_REASON(err.ERR_get_error()) == err.ERR_R_PASSED_NULL_PARAMETER
    assert BIO_write(None, b"ab") == 0  # BIO_read.pod: "may be 0 if the BIO b is NULL"
    assert BIO_ctrl(None, 10) == -1
    assert BIO_ctrl_pending(None) == 0
    assert BIO_gets(None, 5) == (-1, b"") and BIO_puts(None, b"x") == -1


def test_bad_argument_types_never_raise() -> None:
    b = BIO_new(BIO_s_mem())
    assert BIO_read(b, "5") == (-1, b"")  # type: ignore[arg-type]
    assert BIO_write(b, "text") == -1  # type: ignore[arg-type]
    assert BIO_write_ex(b, 12) == (0, 0)  # type: ignore[arg-type]
    assert BIO_ctrl(b, "x") == -1  # type: ignore[arg-type]
    assert BIO_read(42, 5) == (-1, b"")  # type: ignore[arg-type]
    assert err.ERR_get_error() != 0


def test_retry_flags_are_one_or_zero() -> None:
    _, b1, _b2 = BIO_new_bio_pair(0, 0)
    BIO_read(b1, 1)
    # BIO_should_retry RETURN VALUES: 1 or 0 (libcrypto's macros return the bit values 8/1, an erratum)
    assert (BIO_should_retry(b1), BIO_should_read(b1), BIO_should_write(b1), BIO_should_io_special(b1)) == (1, 1, 0, 0)
    assert BIO_retry_type(b1) == BIO_FLAGS_READ
    assert BIO_test_flags(b1, BIO_FLAGS_SHOULD_RETRY) == BIO_FLAGS_SHOULD_RETRY
    retry_bio, reason = BIO_get_retry_BIO(b1)
    assert retry_bio is b1 and reason == 0
    BIO_clear_flags(b1, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY)
    assert BIO_should_retry(b1) == 0 and BIO_retry_type(b1) == 0
    BIO_set_flags(b1, BIO_FLAGS_SHOULD_RETRY)
    assert BIO_should_retry(b1) == 1
    BIO_set_retry_reason(b1, BIO_RR_CONNECT)
    assert BIO_get_retry_reason(b1) == BIO_RR_CONNECT


def test_generic_ctrl_macros() -> None:
    b = BIO_new(BIO_s_mem())
    assert BIO_get_close(b) == BIO_CLOSE
    assert BIO_set_close(b, BIO_NOCLOSE) == 1 and BIO_get_close(b) == BIO_NOCLOSE
    assert BIO_flush(b) == 1
    assert BIO_pending(b) == 0 and BIO_eof(b) == 1
    assert BIO_reset(b) == 1
    assert BIO_ctrl(b, 9999) == 0  # BIO_ctrl NOTES: unknown ctrl on a source/sink is 0


def test_gets_unsupported_on_pair() -> None:
    _, b1, _b2 = BIO_new_bio_pair(0, 0)
    assert BIO_gets(b1, 10) == (-2, b"")
    assert err.ERR_GET_REASON(err.ERR_get_error()) == BIO_R_UNSUPPORTED_METHOD
