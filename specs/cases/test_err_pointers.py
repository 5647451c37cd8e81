"""ERR_get_error.pod: the file, function and data pointers that ERR_get_error_all(), ERR_peek_error_all() and
ERR_peek_last_error_all() store stay valid until their queue entry is overwritten.

Seen through the ctypes binding on a C library, which hands the case the addresses themselves
(``ERR_error_all_pointers``): two failing SSL_CTX_use_certificate_file() calls on paths that do not exist queue
entries whose data names the path ("calling fopen(...)"); the case peeks at the first, then takes every entry, and
only afterwards, with no new error raised (so no entry overwritten), reads every string again through the pointers
it kept: each still says what it said when it was handed out. A library that built the strings in one buffer per
thread, reused by the next call, would show the last entry's text everywhere.

The same page says the application must never free those strings: the error library does. The second case sees it
do so on the C heap: the strings a thread's failed calls queued stay allocated after the thread has taken every
entry (the application frees nothing), and are gone once the thread ends.

The reference engine hands out Python strings, valid as long as they are referenced, and no pointers or C heap of
its own: the cases do not apply to it.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness import Harness
from specs.cases._bio import call
from specs.cases._capi import Background

pytestmark = pytest.mark.needs("c_api")

SSL_FILETYPE_PEM = 1


@pytest.mark.clauses("ERR_get_error/DESCRIPTION/pointer-lifetime")
def test_error_strings_stay_valid_until_their_entry_is_overwritten(h: Harness) -> None:
    """Entries from two failed loads (paths /nonexistent/AAA...pem and /nonexistent/BBB...pem): the pointers of
    ERR_peek_error_all and of every ERR_get_error_all, read again after the queue is empty, give the same text as
    when they were handed out, and the data of the two fopen entries names each its own path."""
    api: Any = h.capi  # the C library binding: ERR_error_all_pointers, c_string_at
    if not hasattr(api, "ERR_error_all_pointers"):
        h.not_applicable(f"{h.stack.name} hands out Python strings, not pointers into its error queue")
    call(h, "ERR_get_error_all")  # not applicable where the library has no ERR_get_error_all
    ctx = api.SSL_CTX_new(api.TLS_method())
    assert ctx is not None
    try:
        api.ERR_clear_error()
        paths = {tag: f"/nonexistent/{tag * 200}.pem" for tag in ("A", "B")}
        for path in paths.values():
            assert api.SSL_CTX_use_certificate_file(ctx, path, SSL_FILETYPE_PEM) != 1
        kept: list[tuple[str, int, bytes]] = []  # (what, pointer, text when handed out)

        def keep(what: str, pointer: int | None) -> None:
            if pointer:
                kept.append((what, pointer, api.c_string_at(pointer)))

        code, file, _line, func, data, _flags = api.ERR_error_all_pointers("ERR_peek_error_all")
        assert code != 0, "the failed loads queued no error"
        for what, pointer in (("peek file", file), ("peek func", func), ("peek data", data)):
            keep(what, pointer)
        entries = 0
        while True:
            code, file, _line, func, data, _flags = api.ERR_error_all_pointers("ERR_get_error_all")
            if code == 0:
                break
            entries += 1
            for what, pointer in ((f"entry {entries} file", file), (f"entry {entries} func", func),
                                  (f"entry {entries} data", data)):
                keep(what, pointer)
        datas = [text for what, _p, text in kept if what.endswith("data") and text]
        h.trace.note(f"{entries} entries, {len(kept)} pointers kept; data texts: {[t[:40] for t in datas]}")
        for tag, path in paths.items():
            assert any(path.encode() in text for text in datas), f"no entry's data names {path} (tag {tag})"
        changed = [(what, text[:60], api.c_string_at(pointer)[:60]) for what, pointer, text in kept
                   if api.c_string_at(pointer) != text]
        assert not changed, f"strings changed although no entry was overwritten (what, then, now): {changed}"
    finally:
        api.ERR_clear_error()
        api.SSL_CTX_free(ctx)


DATA_HELD = 4000  # bytes of queued data strings the case needs to see (five fopen entries hold about 9 KB)


@pytest.mark.clauses("ERR_get_error/DESCRIPTION/do-not-free")
def test_the_error_library_frees_the_strings_it_handed_out(h: Harness) -> None:
    """In a fresh thread, five failed loads of long nonexistent paths queue entries whose data strings ("calling
    fopen(...)") take several kilobytes of C heap; the thread takes every entry with ERR_get_error and frees
    nothing. The strings stay allocated while the thread lives (the library owns them), and when the thread ends,
    the C heap is back below where the thread started, at least 4 KB lower than with the strings held: the error
    library released them itself."""
    api: Any = h.capi  # a C library: c_heap_in_use
    if not hasattr(api, "c_heap_in_use"):
        h.not_applicable(f"{h.stack.name} is not a C library: its error strings are Python objects, with no C heap "
                         "of the library's own to measure")
    ctx = api.SSL_CTX_new(api.TLS_method())
    assert ctx is not None
    seen: dict[str, int] = {}

    def in_fresh_thread() -> None:
        api.ERR_clear_error()
        seen["start"] = api.c_heap_in_use()
        for tag in "ABCDE":
            api.SSL_CTX_use_certificate_file(ctx, f"/nonexistent/{tag * 900}.pem", SSL_FILETYPE_PEM)
        # ERR_get_error_all where the library has it (its strings are what the page speaks of), else ERR_get_error
        take = (lambda: api.ERR_get_error_all()[0]) if api.has("ERR_get_error_all") else api.ERR_get_error
        while take() != 0:
            seen["entries"] = seen.get("entries", 0) + 1
        seen["taken"] = api.c_heap_in_use()

    try:
        Background(in_fresh_thread).join()
        ended = int(api.c_heap_in_use())
    finally:
        api.SSL_CTX_free(ctx)
    held, after = seen["taken"] - seen["start"], ended - seen["start"]
    h.trace.note(f"{seen.get('entries', 0)} entries taken; C heap while the thread held them {held:+d} B, after the "
                 f"thread ended {after:+d} B (relative to the thread's start)")
    if held < DATA_HELD:
        h.not_applicable(f"the failed loads left only {held} B of error data on the heap: too little to measure")
    assert after <= held - DATA_HELD, (f"after the thread ended the C heap is {after:+d} B from its start, with "
                                       f"{held:+d} B held before: the error strings were not released")
