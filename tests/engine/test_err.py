"""engine.err: packing like OpenSSL 3.0, per-thread queue, texts."""

from __future__ import annotations

import errno as errno_mod
import threading

from engine import err


def setup_function() -> None:
    err.ERR_clear_error()


def test_pack_and_unpack_library_errors() -> None:
    code = err.ERR_PACK(err.ERR_LIB_BIO, 0, err.BIO_R_BROKEN_PIPE)
    assert code == 0x1000007C  # what libcrypto 3.0.19 reports for BIO_R_BROKEN_PIPE
    assert err.ERR_GET_LIB(code) == err.ERR_LIB_BIO
    assert err.ERR_GET_REASON(code) == err.BIO_R_BROKEN_PIPE
    assert err.ERR_FATAL_ERROR(code) == 0
    null = err.ERR_PACK(err.ERR_LIB_BIO, 0, err.ERR_R_PASSED_NULL_PARAMETER)
    assert null == 0x100C0102 and err.ERR_FATAL_ERROR(null) == 1


def test_system_errors_use_the_system_flag() -> None:
    code = err.raise_sys(errno_mod.ECONNREFUSED)
    assert code == err.ERR_SYSTEM_FLAG | errno_mod.ECONNREFUSED == 0x8000006F
    assert err.ERR_GET_LIB(code) == err.ERR_LIB_SYS
    assert err.ERR_GET_REASON(code) == errno_mod.ECONNREFUSED
    assert err.errno() == errno_mod.ECONNREFUSED
    assert err.ERR_error_string(code).startswith("error:8000006F:system library::")


def test_queue_order_peek_and_clear() -> None:
    assert err.ERR_get_error() == 0 and err.ERR_peek_error() == 0 and err.ERR_peek_last_error() == 0
    a = err.ERR_raise(err.ERR_LIB_BIO, err.BIO_R_IN_USE)
    b = err.ERR_raise(err.ERR_LIB_SSL, 100)
    assert err.ERR_peek_error() == a and err.ERR_peek_last_error() == b
    assert err.ERR_get_error() == a and err.ERR_get_error() == b and err.ERR_get_error() == 0
    err.ERR_raise(err.ERR_LIB_BIO, err.BIO_R_IN_USE)
    err.ERR_clear_error()
    assert err.ERR_peek_error() == 0


def test_queue_keeps_the_newest_fifteen() -> None:
    for i in range(20):
        err.ERR_raise(err.ERR_LIB_BIO, 100 + i)
    codes = []
    while (c := err.ERR_get_error()) != 0:
        codes.append(err.ERR_GET_REASON(c))
    assert codes == list(range(105, 120))  # same as libcrypto 3.0.19


def test_queue_is_per_thread() -> None:
    err.ERR_raise(err.ERR_LIB_BIO, err.BIO_R_IN_USE)
    seen: list[int] = []
    t = threading.Thread(target=lambda: seen.append(err.ERR_peek_error()))
    t.start()
    t.join()
    assert seen == [0]
    assert err.ERR_peek_error() != 0


def test_texts() -> None:
    code = err.ERR_PACK(err.ERR_LIB_BIO, 0, err.BIO_R_BROKEN_PIPE)
    text = err.ERR_error_string(code)
    assert text.startswith("error:1000007C:BIO routines::")
    assert err.ERR_reason_error_string(code)
    assert err.ERR_error_string_n(code, 10) == text[:9]
    assert err.ERR_error_string_n(code, 0) == ""
    unknown = err.ERR_PACK(99, 0, 4242)
    assert "lib(99)" in err.ERR_error_string(unknown) and "reason(4242)" in err.ERR_error_string(unknown)


def test_get_error_all_carries_data() -> None:
    err.ERR_raise_data(err.ERR_LIB_BIO, err.BIO_R_CONNECT_ERROR, "calling connect()")
    code, _file, _line, _func, data, flags = err.ERR_peek_error_all()
    assert data == "calling connect()" and flags & err.ERR_TXT_STRING
    assert err.ERR_get_error_all()[0] == code
    assert err.ERR_get_error_all() == (0, "", 0, "", "", 0)


def test_peek_error_line_and_func_leave_the_entry() -> None:
    from engine import err

    err.ERR_clear_error()
    err.ERR_raise(err.ERR_LIB_BIO, err.BIO_R_BROKEN_PIPE)
    code, file, line = err.ERR_peek_error_line()
    code2, func = err.ERR_peek_error_func()
    assert code == code2 == err.ERR_peek_error() != 0
    assert isinstance(file, str) and isinstance(line, int) and isinstance(func, str)
    assert err.ERR_get_error() == code and err.ERR_get_error() == 0
    assert err.ERR_error_string_n(code)  # the buffer size defaults to 256 bytes
