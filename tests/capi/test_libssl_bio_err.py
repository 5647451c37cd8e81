"""The ctypes binding's functions of the BIO_new, BIO_ctrl, BIO_should_retry, BIO_s_mem, BIO_ADDR, ERR_get_error and
ERR_GET_LIB pages that map to BIO_new_ex, the close and flag macros, BIO_s_secmem, BIO_ADDR_path_string, the _all /
_line / _func / _data error-queue variants and ERR_FATAL_ERROR: against the system OpenSSL 3.x and, when installed,
wolfSSL's compatibility layer."""

from __future__ import annotations

import errno as errno_module
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from conformance.capi import constants as C
from conformance.capi.libssl import WOLFSSL, WOLFSSL_LIBRARY, LibsslApi, MissingSymbol

ERR_TXT_STRING = 0x02  # openssl/err.h
ERR_TXT_MALLOCED = 0x01
T = TypeVar("T")


def _wolfssl() -> LibsslApi:
    try:
        return LibsslApi.wolfssl()
    except OSError as exc:
        pytest.skip(f"wolfSSL ({WOLFSSL_LIBRARY}) is not installed: {exc} (apt-get install libwolfssl35)")


@pytest.fixture(scope="module")
def openssl() -> LibsslApi:
    return LibsslApi()


@pytest.fixture(scope="module")
def wolfssl() -> LibsslApi:
    return _wolfssl()


def _in_a_new_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` on a thread of its own: a fresh error queue, whatever earlier tests left on this thread's."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(fn())
        except BaseException as exc:  # handed back to the test thread
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    if errors:
        raise errors[0]
    return results[0]


def _read_only_write(api: LibsslApi) -> None:
    r = api.BIO_new_mem_buf(b"ro")
    assert api.BIO_write(r, b"x") == -1
    api.BIO_free(r)


# ---------------------------------------------------------------------------------------------- BIO objects


def test_new_ex_and_secmem(openssl: LibsslApi) -> None:
    api = openssl
    b = api.BIO_new_ex(None, api.BIO_s_mem())
    assert b is not None and b.kind == "BIO"
    assert api.BIO_write(b, b"ctx") == 3
    assert api.BIO_read(b, 5) == (3, b"ctx")
    api.BIO_free(b)
    method = api.BIO_s_secmem()
    assert method is not None and method.kind == "BIO_METHOD"
    assert method != api.BIO_s_mem()
    s = api.BIO_new(method)
    assert api.BIO_write(s, b"secret") == 6
    assert api.BIO_read(s, 10) == (6, b"secret")
    api.BIO_free(s)


def test_new_ex_takes_only_the_default_context(openssl: LibsslApi) -> None:
    with pytest.raises(TypeError):
        openssl.BIO_new_ex(object(), openssl.BIO_s_mem())  # type: ignore[arg-type]


def test_close_flag_through_bio_ctrl(openssl: LibsslApi) -> None:
    api = openssl
    m = api.BIO_new(api.BIO_s_mem())
    assert api.BIO_get_close(m) == C.BIO_CLOSE  # a memory BIO owns its buffer by default
    assert api.BIO_set_close(m, C.BIO_NOCLOSE) == 1
    assert api.BIO_get_close(m) == C.BIO_NOCLOSE
    assert api.BIO_ctrl(m, C.BIO_CTRL_GET_CLOSE, 0, None) == C.BIO_NOCLOSE  # the same ctrl as the macro
    assert api.BIO_set_close(m, C.BIO_CLOSE) == 1
    assert api.BIO_get_close(m) == C.BIO_CLOSE
    api.BIO_free(m)


def test_flags_and_retry_macros_expand_to_the_30_bits(openssl: LibsslApi) -> None:
    api = openssl
    m = api.BIO_new(api.BIO_s_mem())
    base = api.BIO_get_flags(m)
    assert base & C.BIO_FLAGS_RWS == 0
    api.BIO_set_retry_special(m)
    assert api.BIO_get_flags(m) == base | C.BIO_FLAGS_IO_SPECIAL | C.BIO_FLAGS_SHOULD_RETRY
    assert api.BIO_retry_type(m) == C.BIO_FLAGS_IO_SPECIAL
    assert api.BIO_should_retry(m) == C.BIO_FLAGS_SHOULD_RETRY  # the 3.0 macro returns the bit (8), not 1
    api.BIO_clear_retry_flags(m)
    assert api.BIO_get_flags(m) == base
    api.BIO_set_retry_read(m)
    assert api.BIO_get_flags(m) == base | C.BIO_FLAGS_READ | C.BIO_FLAGS_SHOULD_RETRY
    api.BIO_clear_retry_flags(m)
    api.BIO_set_retry_write(m)
    assert api.BIO_get_flags(m) == base | C.BIO_FLAGS_WRITE | C.BIO_FLAGS_SHOULD_RETRY
    api.BIO_clear_retry_flags(m)
    api.BIO_set_flags(m, C.BIO_FLAGS_NONCLEAR_RST)
    assert api.BIO_test_flags(m, C.BIO_FLAGS_NONCLEAR_RST) == C.BIO_FLAGS_NONCLEAR_RST
    api.BIO_clear_flags(m, C.BIO_FLAGS_NONCLEAR_RST)
    assert api.BIO_get_flags(m) == base
    api.BIO_set_retry_reason(m, C.BIO_RR_CONNECT)
    assert api.BIO_get_retry_reason(m) == C.BIO_RR_CONNECT
    api.BIO_free(m)


def test_nonclear_reset_through_bio_set_flags(openssl: LibsslApi) -> None:
    api = openssl
    m = api.BIO_new(api.BIO_s_mem())
    api.BIO_set_flags(m, C.BIO_FLAGS_NONCLEAR_RST)
    assert api.BIO_write(m, b"abcdef") == 6
    assert api.BIO_read(m, 2) == (2, b"ab")
    assert api.BIO_reset(m) == 1
    assert api.BIO_read(m, 10) == (6, b"abcdef")
    api.BIO_free(m)


def test_addr_path_string(openssl: LibsslApi) -> None:
    api = openssl
    a = api.BIO_ADDR_new()
    assert api.BIO_ADDR_rawmake(a, socket.AF_UNIX, b"/tmp/binding.sock", 0) == 1
    assert api.BIO_ADDR_path_string(a) == "/tmp/binding.sock"
    assert api.BIO_ADDR_rawmake(a, socket.AF_INET, socket.inet_aton("127.0.0.1"), socket.htons(443)) == 1
    api.ERR_clear_error()
    assert api.BIO_ADDR_path_string(a) is None  # only AF_UNIX has a path
    api.ERR_clear_error()
    api.BIO_ADDR_free(a)


# ---------------------------------------------------------------------------------------------- the error queue


def test_all_variants_on_an_empty_queue(openssl: LibsslApi) -> None:
    api = openssl
    api.ERR_clear_error()
    assert api.ERR_get_error_all() == (0, "", 0, "", "", 0)
    assert api.ERR_peek_error_all() == (0, "", 0, "", "", 0)
    assert api.ERR_peek_last_error_all() == (0, "", 0, "", "", 0)
    assert api.ERR_peek_error_line() == (0, "", 0)
    assert api.ERR_peek_error_func() == (0, "")
    assert api.ERR_peek_error_data() == (0, "", 0)


def test_all_variants_give_the_entry_and_its_details(openssl: LibsslApi) -> None:
    api = openssl

    def run() -> tuple[int, int, tuple[int, str, int, str, str, int], tuple[int, str, int, str, str, int],
                       tuple[int, str, int], tuple[int, str], tuple[int, str, int],
                       tuple[int, str, int, str, str, int], int]:
        api.ERR_clear_error()
        _read_only_write(api)
        assert api.BIO_new_mem_buf(None, 5) is None
        oldest, newest = api.ERR_peek_error(), api.ERR_peek_last_error()
        peek, last = api.ERR_peek_error_all(), api.ERR_peek_last_error_all()
        line, func, data = api.ERR_peek_error_line(), api.ERR_peek_error_func(), api.ERR_peek_error_data()
        got = api.ERR_get_error_all()
        after = api.ERR_peek_error()
        api.ERR_clear_error()
        return oldest, newest, peek, last, line, func, data, got, after

    oldest, newest, peek, last, line, func, data, got, after = _in_a_new_thread(run)
    code, file, lineno, function, text, flags = peek
    assert code == oldest and last[0] == newest and oldest != newest
    assert file.endswith("bss_mem.c") and lineno > 0 and function == "mem_write"
    assert (text, flags) == ("", 0)
    assert last[3] == "BIO_new_mem_buf"
    assert line == (code, file, lineno)
    assert func == (code, function)
    assert data == (code, "", 0)
    assert got == peek
    assert after == newest  # ERR_get_error_all removed the oldest entry


def test_data_variant_with_text(openssl: LibsslApi) -> None:
    api = openssl
    api.ERR_clear_error()
    assert api.BIO_socket(12345, socket.SOCK_STREAM, 0, 0) == -1
    code, data, flags = api.ERR_peek_error_data()
    assert code == api.ERR_peek_error() != 0
    assert flags & ERR_TXT_STRING and data != ""
    assert api.ERR_peek_error_all()[4:] == (data, flags)
    api.ERR_clear_error()


def test_slot_that_held_data_keeps_malloced_flag(openssl: LibsslApi) -> None:
    """What the libssl expectation for test_all_variants_return_the_entry_and_its_details records: after an entry
    with data in a slot, a later entry without data in the same slot has data "" and flags ERR_TXT_MALLOCED."""
    api = openssl

    def run() -> tuple[int, str, int]:
        api.ERR_clear_error()
        assert api.BIO_socket(12345, socket.SOCK_STREAM, 0, 0) == -1
        api.ERR_clear_error()
        _read_only_write(api)
        result = api.ERR_peek_error_data()
        api.ERR_clear_error()
        return result

    code, data, flags = _in_a_new_thread(run)
    assert code != 0 and data == "" and flags == ERR_TXT_MALLOCED


def test_fatal_error_is_computed_with_the_30_layout(openssl: LibsslApi) -> None:
    api = openssl
    assert api.ERR_FATAL_ERROR((C.ERR_LIB_BIO << C.ERR_LIB_OFFSET) | C.ERR_R_PASSED_NULL_PARAMETER) == 1
    assert api.ERR_FATAL_ERROR((C.ERR_LIB_BIO << C.ERR_LIB_OFFSET) | C.BIO_R_WRITE_TO_READ_ONLY_BIO) == 0
    assert api.ERR_FATAL_ERROR((C.ERR_LIB_SSL << C.ERR_LIB_OFFSET) | C.ERR_R_PASSED_INVALID_ARGUMENT) == 0
    assert api.ERR_FATAL_ERROR(C.ERR_SYSTEM_FLAG | errno_module.ECONNREFUSED) == 0
    assert api.ERR_FATAL_ERROR(C.ERR_SYSTEM_FLAG | C.ERR_SYSTEM_MASK) == 0  # every bit set, still a system error
    assert api.has("ERR_FATAL_ERROR")


def test_new_functions_are_exported_by_openssl(openssl: LibsslApi) -> None:
    table = openssl.symbol_table()
    for name in ("BIO_new_ex", "BIO_set_flags", "BIO_clear_flags", "BIO_set_retry_reason", "BIO_s_secmem",
                 "BIO_ADDR_path_string", "ERR_get_error_all", "ERR_peek_error_all", "ERR_peek_last_error_all",
                 "ERR_peek_error_line", "ERR_peek_error_func", "ERR_peek_error_data"):
        assert table[name] == name


# ---------------------------------------------------------------------------------------------- wolfSSL


def test_wolfssl_maps_set_close_and_retry_macros(wolfssl: LibsslApi) -> None:
    api = wolfssl
    table = api.symbol_table()
    assert table["BIO_set_close"] == "wolfSSL_BIO_set_close"
    assert table["BIO_clear_retry_flags"] == "wolfSSL_BIO_clear_retry_flags"
    assert table["BIO_set_flags"] == "wolfSSL_BIO_set_flags"
    assert table["BIO_clear_flags"] == "wolfSSL_BIO_clear_flags"
    m = api.BIO_new(api.BIO_s_mem())
    assert api.BIO_set_close(m, C.BIO_NOCLOSE) == 1
    assert api.BIO_set_close(m, C.BIO_CLOSE) == 1
    api.BIO_set_retry_read(m)  # wolfSSL's bio.h: wolfSSL_BIO_set_flags(b, WOLFSSL_BIO_FLAG_RETRY | _READ)
    assert api.BIO_should_retry(m) != 0
    api.BIO_clear_retry_flags(m)
    assert api.BIO_should_retry(m) == 0
    api.BIO_set_retry_write(m)
    assert api.BIO_should_retry(m) != 0
    api.BIO_clear_flags(m, WOLFSSL.bio_flags[C.BIO_FLAGS_SHOULD_RETRY])
    assert api.BIO_should_retry(m) == 0
    api.BIO_free(m)


def test_wolfssl_bio_flags_are_one_bit_higher() -> None:
    assert dict(WOLFSSL.bio_flags) == {C.BIO_FLAGS_READ: 0x02, C.BIO_FLAGS_WRITE: 0x04, C.BIO_FLAGS_IO_SPECIAL: 0x08,
                                       C.BIO_FLAGS_SHOULD_RETRY: 0x10}


@pytest.mark.parametrize(
    ("name", "args", "why"),
    [
        ("BIO_get_close", (None,), "do not define this macro"),
        ("BIO_get_flags", (None,), "do not define this macro"),
        ("BIO_set_retry_special", (None,), "do not define this macro"),
        ("BIO_new_ex", (None, None), "does not export wolfSSL_BIO_new_ex"),
        ("BIO_s_secmem", (), "does not export wolfSSL_BIO_s_secmem"),
        ("BIO_set_retry_reason", (None, 1), "does not export wolfSSL_BIO_set_retry_reason"),
        ("BIO_ADDR_path_string", (None,), "does not export wolfSSL_BIO_ADDR_path_string"),
        ("ERR_get_error_all", (), "does not export wolfSSL_ERR_get_error_all"),
        ("ERR_peek_error_all", (), "does not export wolfSSL_ERR_peek_error_all"),
        ("ERR_peek_last_error_all", (), "does not export wolfSSL_ERR_peek_last_error_all"),
        ("ERR_peek_error_line", (), "does not export wolfSSL_ERR_peek_error_line"),
        ("ERR_peek_error_func", (), "does not export wolfSSL_ERR_peek_error_func"),
        ("ERR_peek_error_data", (), "does not export wolfSSL_ERR_peek_error_data"),
    ],
)
def test_wolfssl_missing_names(wolfssl: LibsslApi, name: str, args: tuple[object, ...], why: str) -> None:
    assert not wolfssl.has(name)
    with pytest.raises(MissingSymbol, match=why):
        getattr(wolfssl, name)(*args)


def test_wolfssl_fatal_error_is_missing_at_lookup(wolfssl: LibsslApi) -> None:
    """The lookup itself raises, so a case asking for the function first is not applicable before it runs."""
    assert not wolfssl.has("ERR_FATAL_ERROR")
    with pytest.raises(MissingSymbol, match="do not define this macro"):
        _ = wolfssl.ERR_FATAL_ERROR
