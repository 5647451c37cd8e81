"""C-API cases for ERR_get_error.pod (the per-thread error queue) and ERR_GET_LIB.pod (decoding error codes).

Entries come from documented failures of the BIO pages: a write to a read-only memory BIO and BIO_new_mem_buf with
a NULL buffer. A library that records nothing for those (wolfSSL) is given a server handshake fed garbage instead,
where it does record entries; a stack with neither fails (a protocol error is SSL_ERROR_SSL, whose details the
queue holds).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from specs.cases._bio import ERR_TXT_STRING, call, clear, drain, function, has_entry

pytestmark = pytest.mark.needs("c_api")

GARBAGE = bytes([22, 3, 1, 0, 5]) + b"\xff" * 5  # a handshake record whose message is nonsense


_QUEUE_PLACES = 16  # OpenSSL 3.0's ERR_NUM_ERRORS; more places than that only cost calls


def _read_only_write(h: Harness) -> None:
    api = h.capi
    r = api.BIO_new_mem_buf(b"ro")
    call(h, "BIO_write", r, b"x")
    api.BIO_free(r)


def _null_mem_buf(h: Harness) -> None:
    b = call(h, "BIO_new_mem_buf", None, 5)
    if b is not None:
        h.capi.BIO_free(b)


def _bad_handshake(h: Harness, server: Any) -> None:
    server.put_incoming(GARBAGE)
    call(h, "SSL_accept", server.ssl)


def failures(h: Harness) -> tuple[Any, Any, str]:
    """Two actions that each leave at least one entry on the calling thread's queue, and the library the first
    one's entry should name ("BIO" or "SSL")."""
    clear(h)
    _read_only_write(h)
    if has_entry(h):
        clear(h)
        return (lambda: _read_only_write(h)), (lambda: _null_mem_buf(h)), "BIO"
    h.need("server_role")
    servers = [h.pair().server, h.pair().server]
    clear(h)
    probe: Any = servers[0]
    probe.put_incoming(GARBAGE)
    ret = call(h, "SSL_accept", probe.ssl)
    # a garbage ClientHello is a protocol error: SSL_ERROR_SSL, whose details the queue holds (SSL_get_error,
    # RETURN VALUES); a stack that leaves no entry fails here, it is not "not applicable"
    assert has_entry(h), (f"SSL_accept on a garbage ClientHello returned {ret} (SSL_get_error "
                          f"{call(h, 'SSL_get_error', probe.ssl, ret)}) and left the error queue empty")
    clear(h)
    servers[0] = h.pair().server
    clear(h)
    return (lambda: _bad_handshake(h, servers[0])), (lambda: _bad_handshake(h, servers[1])), "SSL"


# --- ERR_get_error.pod ------------------------------------------------------------------------------------------

@pytest.mark.clauses("ERR_get_error/DESCRIPTION/get-earliest-and-remove", "ERR_get_error/DESCRIPTION/peek-earliest",
                     "ERR_get_error/DESCRIPTION/peek-latest", "ERR_get_error/RETURN VALUES/code",
                     "ERR_get_error/RETURN VALUES/zero-when-empty")
def test_queue_order_of_get_and_peek(h: Harness) -> None:
    """Peek gives the oldest entry, peek_last the newest, both without removing; get removes oldest first until
    the queue is empty, after which all three return 0."""
    first, second, _ = failures(h)
    assert (call(h, "ERR_get_error"), call(h, "ERR_peek_error"), call(h, "ERR_peek_last_error")) == (0, 0, 0)
    first()
    oldest = call(h, "ERR_peek_error")
    assert oldest != 0, "the first failure left no entry"
    assert call(h, "ERR_peek_error") == oldest, "ERR_peek_error changed the queue"
    second()
    newest = call(h, "ERR_peek_last_error")
    assert newest != 0
    assert call(h, "ERR_peek_error") == oldest, "the oldest entry changed when a newer one was added"
    assert call(h, "ERR_peek_last_error") == newest, "ERR_peek_last_error changed the queue"
    codes = drain(h)
    assert len(codes) >= 2, f"two failures left {len(codes)} entries"
    assert codes[0] == oldest, "ERR_get_error did not start with the oldest entry"
    assert codes[-1] == newest, "ERR_get_error did not end with the newest entry"
    assert (call(h, "ERR_get_error"), call(h, "ERR_peek_error"), call(h, "ERR_peek_last_error")) == (0, 0, 0)


@pytest.mark.clauses("ERR_get_error/DESCRIPTION/per-thread")
def test_queue_belongs_to_the_thread(h: Harness) -> None:
    """An entry recorded on another thread is on that thread's queue, not on the caller's."""
    first, _, _ = failures(h)
    seen: dict[str, int] = {}

    def other() -> None:
        h.capi.ERR_clear_error()
        first()
        seen["other"] = int(h.capi.ERR_peek_error())
        h.capi.ERR_clear_error()

    clear(h)
    t = threading.Thread(target=other)
    t.start()
    t.join(30)
    assert seen.get("other", 0) != 0, "the failure on the other thread left no entry there"
    assert call(h, "ERR_peek_error") == 0, "an entry made on another thread appeared on this thread's queue"


@pytest.mark.clauses("ERR_get_error/DESCRIPTION/all-variants", "ERR_get_error/DESCRIPTION/unset-values")
def test_all_variants_return_the_entry_and_its_details(h: Harness) -> None:
    """ERR_peek_error_all / ERR_peek_last_error_all / ERR_get_error_all give the same codes as the plain functions
    plus file, line, function, data and flags; what was not recorded is "" or 0 — also on a thread whose queue held
    an entry with data before (staged first, so the outcome does not depend on which cases ran earlier)."""
    first, second, _ = failures(h)
    clear(h)
    call(h, "BIO_socket", 12345, 1, 0, 0)  # a failing socket() call records an entry with data
    clear(h)
    first()
    second()
    oldest, newest = call(h, "ERR_peek_error"), call(h, "ERR_peek_last_error")
    assert oldest != 0 and newest != 0, "two failures that each record an entry left the queue empty"
    peek = call(h, "ERR_peek_error_all")
    last = call(h, "ERR_peek_last_error_all")
    assert peek[0] == oldest and last[0] == newest
    for entry in (peek, last):
        _, file, line, func, data, flags = entry
        assert isinstance(file, str) and isinstance(func, str) and isinstance(data, str)
        assert (file == "") == (line == 0), f"file {file!r} and line {line} disagree about being set"
        if data == "":
            assert flags == 0, f"no data but flags {flags}"
    got = call(h, "ERR_get_error_all")
    assert got == peek, "ERR_get_error_all did not return the oldest entry"
    assert call(h, "ERR_peek_error") != oldest or oldest == newest, "ERR_get_error_all did not remove the entry"
    drain(h)
    assert call(h, "ERR_get_error_all")[0] == 0


@pytest.mark.clauses("ERR_get_error/DESCRIPTION/line-func-data-variants", "ERR_get_error/DESCRIPTION/unset-values")
def test_line_and_func_peek_variants(h: Harness) -> None:
    """ERR_peek_error_line / ERR_peek_error_func return the oldest code plus its file and line / function."""
    first, _, _ = failures(h)
    clear(h)
    first()
    oldest = call(h, "ERR_peek_error")
    assert oldest != 0, "a failure that records an entry left the queue empty"
    code, file, line = call(h, "ERR_peek_error_line")
    assert code == oldest and isinstance(file, str) and (file == "") == (line == 0)
    code, func = call(h, "ERR_peek_error_func")
    assert code == oldest and isinstance(func, str)
    drain(h)


@pytest.mark.clauses("ERR_get_error/DESCRIPTION/line-func-data-variants", "ERR_get_error/DESCRIPTION/data-is-string",
                     "ERR_get_error/DESCRIPTION/unset-values")
def test_data_peek_variant(h: Harness) -> None:
    """ERR_peek_error_data returns the oldest code and its data; with ERR_TXT_STRING in the flags the data is a
    text (a failed socket() call records what it was doing), without data the flags are 0."""
    clear(h)
    fd = call(h, "BIO_socket", 12345, 1, 0, 0)
    assert fd == -1
    oldest = call(h, "ERR_peek_error")
    code, data, flags = call(h, "ERR_peek_error_data")
    assert code == oldest != 0
    if flags & ERR_TXT_STRING:
        assert isinstance(data, str) and data != "", "ERR_TXT_STRING set but no text"
    else:
        assert data == ""
    drain(h)
    # every place of the queue once held an entry with text (a library may keep such places' buffers when the entry
    # is taken): an entry without data must still read as "" with flags 0 wherever it lands
    for _ in range(2):
        for _ in range(_QUEUE_PLACES):
            call(h, "BIO_socket", 12345, 1, 0, 0)
        _read_only_write(h)  # one entry: the next round's entries with text land on the other places
    drain(h)
    _read_only_write(h)
    code, data, flags = call(h, "ERR_peek_error_data")
    assert code != 0, "a failed BIO_write left no entry"
    assert data != "" or flags == 0, f"unset data, yet flags {flags:#x} (the page: the flag equals 0)"
    drain(h)


# --- ERR_GET_LIB.pod --------------------------------------------------------------------------------------------

@pytest.mark.clauses("ERR_GET_LIB/DESCRIPTION/lib-and-reason")
def test_code_names_library_and_reason(h: Harness) -> None:
    """A failure of known origin decodes to its library and reason: a read-only BIO write to ERR_LIB_BIO /
    BIO_R_WRITE_TO_READ_ONLY_BIO, a handshake failing on garbage (where no BIO entry exists) to ERR_LIB_SSL."""
    first, _, library = failures(h)
    first()
    code = call(h, "ERR_peek_error")
    drain(h)
    assert code != 0
    if library == "BIO":
        assert call(h, "ERR_GET_LIB", code) == K.ERR_LIB_BIO, f"library of {code:#x}"
        assert call(h, "ERR_GET_REASON", code) == K.BIO_R_WRITE_TO_READ_ONLY_BIO, f"reason of {code:#x}"
    else:
        assert call(h, "ERR_GET_LIB", code) == K.ERR_LIB_SSL, f"a handshake failure {code:#x} is not an SSL error"
        assert call(h, "ERR_GET_REASON", code) != 0


@pytest.mark.clauses("ERR_GET_LIB/DESCRIPTION/reasons-per-library")
def test_common_reason_is_the_same_in_any_library(h: Harness) -> None:
    """A NULL argument reported by the BIO library carries the global reason ERR_R_PASSED_NULL_PARAMETER."""
    clear(h)
    _null_mem_buf(h)
    code = call(h, "ERR_peek_error")
    drain(h)
    if not code:
        h.not_applicable("the library records no entry for BIO_new_mem_buf(NULL, 5) (the page does not require one)")
    assert call(h, "ERR_GET_REASON", code) == K.ERR_R_PASSED_NULL_PARAMETER, f"reason of {code:#x}"
    assert call(h, "ERR_GET_LIB", code) == K.ERR_LIB_BIO


@pytest.mark.clauses("ERR_GET_LIB/RETURN VALUES/no-function-code")
def test_code_holds_only_library_and_reason(h: Harness) -> None:
    """Since 3.0 there is no function part: a (non-system) code is exactly (library << 23) | reason."""
    first, second, _ = failures(h)
    first()
    second()
    codes = drain(h)
    for code in codes:
        if code & K.ERR_SYSTEM_FLAG:
            continue
        lib, reason = call(h, "ERR_GET_LIB", code), call(h, "ERR_GET_REASON", code)
        assert code == (lib << K.ERR_LIB_OFFSET) | reason, f"{code:#x} is not lib {lib} << 23 | reason {reason:#x}"


@pytest.mark.clauses("ERR_GET_LIB/DESCRIPTION/fatal")
def test_fatal_error_flag(h: Harness) -> None:
    """ERR_FATAL_ERROR is true for ERR_R_PASSED_NULL_PARAMETER (fatal) and false for
    BIO_R_WRITE_TO_READ_ONLY_BIO."""
    function(h, "ERR_FATAL_ERROR")  # not applicable before anything runs where the stack has no ERR_FATAL_ERROR
    clear(h)
    _null_mem_buf(h)
    _read_only_write(h)
    codes = drain(h)
    assert len(codes) == 2, f"expected two entries, got {[hex(c) for c in codes]}"
    assert call(h, "ERR_FATAL_ERROR", codes[0]) == 1
    assert call(h, "ERR_FATAL_ERROR", codes[1]) == 0
