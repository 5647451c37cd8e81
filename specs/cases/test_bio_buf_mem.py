"""BIO_s_mem's BUF_MEM clauses (issue 10, item 5): once marked unobservable, they show on every library that exposes
BIO_get_mem_ptr / BIO_set_mem_buf (OpenSSL 3.0 through its BIO_ctrl macros, BoringSSL and wolfSSL through their
functions). The BUF_MEM fields are read as C reads them (``BUF_MEM_fields``: length, data, max). The reference
engine has no BUF_MEM type at all, so these cases are not applicable to it (a fact of the engine)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness import Harness
from engine.bio.constants import BIO_FLAGS_NONCLEAR_RST
from specs.cases._bio import call

pytestmark = pytest.mark.needs("c_api")

BIO_NOCLOSE, BIO_CLOSE = 0, 1


def _api(h: Harness) -> Any:
    api = h.capi
    if not hasattr(api, "BIO_get_mem_ptr"):
        h.not_applicable(f"{h.stack.name} has no BUF_MEM type: no BIO_get_mem_ptr or BIO_set_mem_buf")
    return api


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/get-mem-ptr", "BIO_s_mem/RETURN VALUES/set-mem-buf-get-mem-ptr")
def test_get_mem_ptr_hands_out_the_buffer(h: Harness) -> None:
    """A memory BIO holding "hello world": BIO_get_mem_ptr returns 1 and a BUF_MEM whose length and data are the
    BIO's contents. (What that BUF_MEM shows after reads from a writable BIO the page does not say: not checked.)"""
    api = _api(h)
    b = api.BIO_new(api.BIO_s_mem())
    assert b is not None
    try:
        assert api.BIO_write(b, b"hello world") == 11
        ret, bm = call(h, "BIO_get_mem_ptr", b)
        assert ret == 1 and bm is not None, f"BIO_get_mem_ptr -> {ret}, {bm}"
        length, data, size = call(h, "BUF_MEM_fields", bm)
        assert (length, data) == (11, b"hello world") and size >= length, f"BUF_MEM {length}, {data!r}, max {size}"
    finally:
        api.BIO_free(b)


@pytest.mark.clauses("BIO_s_mem/NOTES/get-mem-ptr-read-only")
def test_get_mem_ptr_of_a_read_only_bio_covers_the_unread_data(h: Harness) -> None:
    """A read-only BIO over "hello", 2 bytes read: BIO_get_mem_ptr's BUF_MEM covers exactly the 3 unread bytes."""
    api = _api(h)
    b = call(h, "BIO_new_mem_buf", b"hello")
    assert b is not None
    try:
        assert api.BIO_read(b, 2) == (2, b"he")
        ret, bm = call(h, "BIO_get_mem_ptr", b)
        assert ret == 1 and bm is not None
        length, data, _ = call(h, "BUF_MEM_fields", bm)
        assert (length, data) == (3, b"llo"), f"the read-only BUF_MEM covers {length}, {data!r}"
    finally:
        api.BIO_free(b)


@pytest.mark.clauses(
    "BIO_s_mem/NOTES/noclose-orphans-buf-mem",
    "BIO_s_mem/DESCRIPTION/set-mem-buf",
    "BIO_s_mem/RETURN VALUES/set-mem-buf-get-mem-ptr",
)
def test_a_buf_mem_outlives_its_noclose_bio_and_moves_to_another(h: Harness) -> None:
    """BIO a holds "abcde"; its BUF_MEM is taken with BIO_get_mem_ptr, a is set to BIO_NOCLOSE and freed: the
    BUF_MEM stays alive with its data. BIO_set_mem_buf installs it in a new memory BIO b with BIO_CLOSE (returns 1,
    b's close flag is then BIO_CLOSE) and b reads "abcde" from it; freeing b frees it."""
    api = _api(h)
    a = api.BIO_new(api.BIO_s_mem())
    b = api.BIO_new(api.BIO_s_mem())
    assert a is not None and b is not None
    try:
        assert api.BIO_write(a, b"abcde") == 5
        ret, bm = call(h, "BIO_get_mem_ptr", a)
        assert ret == 1 and bm is not None
        assert call(h, "BIO_set_close", a, BIO_NOCLOSE) == 1
        assert api.BIO_free(a) == 1
        a = None
        length, data, _ = call(h, "BUF_MEM_fields", bm)
        assert (length, data) == (5, b"abcde"), f"the orphaned BUF_MEM holds {length}, {data!r}"
        assert call(h, "BIO_set_mem_buf", b, bm, BIO_CLOSE) == 1, "BIO_set_mem_buf did not return 1"
        assert call(h, "BIO_get_close", b) == BIO_CLOSE, "BIO_set_mem_buf must set the close flag it is given"
        assert api.BIO_read(b, 100) == (5, b"abcde"), "the installed BUF_MEM is not the BIO's storage"
    finally:
        if a is not None:
            api.BIO_free(a)
        api.BIO_free(b)


@pytest.mark.clauses("BIO_s_mem/NOTES/get-mem-ptr-before-reset")
def test_get_mem_ptr_counts_as_a_write_for_a_nonclear_reset(h: Harness) -> None:
    """With BIO_FLAGS_NONCLEAR_RST a reset rewinds to just after the last write. "abcdef" written, "ab" read,
    then BIO_get_mem_ptr: like a write, it fixes that point, so after BIO_reset the BIO reads "cdef", not
    "abcdef" (which it reads when the same steps run without BIO_get_mem_ptr)."""
    api = _api(h)
    seen: dict[bool, tuple[int, bytes]] = {}
    for take_pointer in (False, True):
        b = api.BIO_new(api.BIO_s_mem())
        assert b is not None
        try:
            call(h, "BIO_set_flags", b, BIO_FLAGS_NONCLEAR_RST)
            assert api.BIO_write(b, b"abcdef") == 6
            assert api.BIO_read(b, 2) == (2, b"ab")
            if take_pointer:
                assert call(h, "BIO_get_mem_ptr", b)[0] == 1
            assert call(h, "BIO_reset", b) == 1
            seen[take_pointer] = api.BIO_read(b, 100)
        finally:
            api.BIO_free(b)
    assert seen[False] == (6, b"abcdef"), f"without BIO_get_mem_ptr the reset must rewind to the write: {seen}"
    assert seen[True] == (4, b"cdef"), f"BIO_get_mem_ptr before the reset must count as a write: {seen}"
