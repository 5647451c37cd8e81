"""Engine-only checks of the new BIO kinds' bad-input handling: clear failures, never an exception or a hang."""

from __future__ import annotations

from engine import bio as B
from engine import err


def test_push_refuses_a_cycle_and_set_next_too() -> None:
    a, b = B.BIO_new(B.BIO_s_mem()), B.BIO_new(B.BIO_s_mem())
    assert B.BIO_push(a, b) is a
    err.ERR_clear_error()
    assert B.BIO_push(b, a) is None, "a push that closes a cycle was accepted"
    assert err.ERR_get_error() != 0
    B.BIO_set_next(b, a)
    assert B.BIO_next(b) is None, "BIO_set_next made a cycle"
    B.BIO_free_all(a)
    assert a.freed and b.freed


def test_free_all_stops_at_a_shared_bio() -> None:
    a, b, c = (B.BIO_new(B.BIO_s_mem()) for _ in range(3))
    B.BIO_push(b, c)
    B.BIO_push(a, b)
    assert B.BIO_up_ref(b) == 1
    B.BIO_free_all(a)
    assert a.freed and not b.freed and not c.freed
    B.BIO_free_all(b)
    assert b.freed and c.freed


def test_bad_arguments_fail_cleanly() -> None:
    assert B.BIO_push("not a bio", None) is None  # type: ignore[arg-type]
    assert B.BIO_pop(123) is None  # type: ignore[arg-type]
    f = B.BIO_new(B.BIO_f_buffer())
    assert B.BIO_write(f, b"x") == 0  # no next BIO
    assert B.BIO_read(f, 5) == (0, b"")
    assert B.BIO_set_buffer_read_data(f, b"abc", 10) == 0
    assert B.BIO_new_fd(-1, 0) is None
    assert B.BIO_parse_hostserv(None, 0)[0] == 0
    assert B.BIO_lookup_ex("127.0.0.1", "80", 0, 99999, 0, 0) == (0, None)
    assert B.BIO_ADDRINFO_next(None) is None and B.BIO_ADDRINFO_family(None) == 0
    B.BIO_free(f)
    err.ERR_clear_error()
