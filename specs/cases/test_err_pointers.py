"""ERR_get_error.pod: the file, function and data pointers that ERR_get_error_all(), ERR_peek_error_all() and
ERR_peek_last_error_all() store stay valid until their queue entry is overwritten.

Seen through the ctypes binding on a C library, which hands the case the addresses themselves
(``ERR_error_all_pointers``): two failing SSL_CTX_use_certificate_file() calls on paths that do not exist queue
entries whose data names the path ("calling fopen(...)"); the case peeks at the first, then takes every entry, and
only afterwards, with no new error raised (so no entry overwritten), reads every string again through the pointers
it kept: each still says what it said when it was handed out. A library that built the strings in one buffer per
thread, reused by the next call, would show the last entry's text everywhere.

The reference engine hands out Python strings, valid as long as they are referenced, and no pointers: the case does
not apply to it.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness import Harness
from specs.cases._bio import call

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
