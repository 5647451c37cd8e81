"""Clauses about memory that no function of the API reports, observed where the memory is (issue 10, item 5).

On a C-API stack that is a real C library reached through ctypes, the library allocates with the C heap's malloc,
so glibc's ``mallinfo2()`` (``c_heap_in_use``: bytes handed out by malloc) measured around its calls shows what it
takes and gives back: the buffers SSL_MODE_RELEASE_BUFFERS releases, the BUF_MEM that BIO_free releases with
BIO_CLOSE. Many objects are measured at once to stand above the interpreter's own allocations. The reference engine
is Python: it has no C heap of its own (its objects are the interpreter's), so those two cases do not apply to it.

That BIO_new_mem_buf does not copy is seen without any measurement: the caller changes a byte of its buffer after
the call and reads through the BIO; every stack that takes a caller's writable buffer (the ctypes binding passes a
``bytearray``'s own memory, the engine keeps a view of it) runs that case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._bio import call
from specs.cases._ssl_objects import Mem, handshake, move

C_API = ("c_api", "client_role", "server_role")
BIO_NOCLOSE, BIO_CLOSE = 0, 1
PAIRS = 20  # idle connection pairs per measurement: 40 SSL objects, over a megabyte of buffers on libssl
BUF_MEM_SIZE = 4 << 20  # the memory BIO's contents: far above any noise of the interpreter


def _heap(h: Harness) -> Any:
    api = h.capi
    if not hasattr(api, "c_heap_in_use"):
        h.not_applicable(f"{h.stack.name} is not a C library: its objects live in the Python interpreter, with no C "
                         "heap of the library's own to measure")
    return api


def _idle_pairs_heap(h: Harness, api: Any, prepare: Callable[[Mem, Mem], object] | None = None) -> int:
    """C-heap bytes held by PAIRS established, idle pairs (every record read), each pair given to ``prepare`` (when
    there is one) before its handshake."""
    before = api.c_heap_in_use()
    pairs: list[tuple[Mem, Mem]] = []
    try:
        for _ in range(PAIRS):
            client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
            pairs.append((client, server))
            if prepare is not None:
                prepare(client, server)
            handshake(h, client, server)
            for a, b in ((client, server), (server, client)):
                assert api.SSL_write(a.ssl, b"ping") == 4
                move(client, server)
                assert api.SSL_read(b.ssl, 100) == (4, b"ping")
        return int(api.c_heap_in_use() - before)
    finally:
        for client, server in pairs:
            client.close()
            server.close()


@pytest.mark.clauses("SSL_CTX_set_mode/NOTES/release-buffers-saving")
@pytest.mark.needs(*C_API)
def test_release_buffers_saves_about_34_kb_per_idle_connection(h: Harness) -> None:
    """20 idle TLS pairs (40 SSL objects) with and without SSL_MODE_RELEASE_BUFFERS: with the mode they hold less
    of the C heap, by at least half of the page's "around 34kB" per SSL object (17 kB each)."""
    api = _heap(h)

    def release_buffers(client: Mem, server: Mem) -> None:
        for side in (client, server):
            api.SSL_set_mode(side.ssl, K.SSL_MODE_RELEASE_BUFFERS)

    _idle_pairs_heap(h, api)  # warm up: one-time allocations of the library (tables, caches) happen here
    held = {release: _idle_pairs_heap(h, api, release_buffers if release else None) for release in (False, True)}
    saving = (held[False] - held[True]) / (2 * PAIRS)
    h.trace.note(f"C heap held by {PAIRS} idle pairs: without the mode {held[False]} B, with it {held[True]} B; "
                 f"saving {saving:.0f} B per SSL object")
    assert saving >= 17_000, (f"SSL_MODE_RELEASE_BUFFERS saves {saving:.0f} B of C heap per idle SSL object "
                              f"(without {held[False]} B, with {held[True]} B for {2 * PAIRS}); the page says about "
                              "34 kB")


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/close-frees-buf-mem")
@pytest.mark.needs("c_api")
def test_bio_free_with_bio_close_frees_the_buf_mem(h: Harness) -> None:
    """A memory BIO holding 4 MiB is freed, once with BIO_CLOSE (the default) and once with BIO_NOCLOSE: with
    BIO_CLOSE the C heap drops by at least the 4 MiB of its BUF_MEM; with BIO_NOCLOSE it does not (the BUF_MEM,
    kept with BIO_get_mem_ptr, is freed afterwards by a second BIO that takes it over with BIO_CLOSE)."""
    api = _heap(h)
    if not hasattr(api, "BIO_get_mem_ptr"):
        h.not_applicable(f"{h.stack.name} has no BUF_MEM type: no BIO_get_mem_ptr or BIO_set_mem_buf")
    freed: dict[int, int] = {}
    for close in (BIO_CLOSE, BIO_NOCLOSE):
        b = api.BIO_new(api.BIO_s_mem())
        assert b is not None
        orphan = None
        try:
            assert api.BIO_write(b, b"\x5a" * BUF_MEM_SIZE) == BUF_MEM_SIZE
            ret, bm = call(h, "BIO_get_mem_ptr", b)
            assert ret == 1 and bm is not None
            assert call(h, "BIO_set_close", b, close) == 1
            before = api.c_heap_in_use()
            assert api.BIO_free(b) == 1
            b = None
            freed[close] = before - int(api.c_heap_in_use())
            orphan = bm if close == BIO_NOCLOSE else None
        finally:
            if b is not None:
                api.BIO_free(b)
            if orphan is not None:  # the BUF_MEM a BIO_NOCLOSE free left behind: give it to a BIO that frees it
                owner = api.BIO_new(api.BIO_s_mem())
                assert owner is not None and call(h, "BIO_set_mem_buf", owner, orphan, BIO_CLOSE) == 1
                api.BIO_free(owner)
    h.trace.note(f"C heap released by BIO_free of a {BUF_MEM_SIZE} B memory BIO: BIO_CLOSE {freed[BIO_CLOSE]} B, "
                 f"BIO_NOCLOSE {freed[BIO_NOCLOSE]} B")
    assert freed[BIO_CLOSE] >= BUF_MEM_SIZE, f"BIO_free with BIO_CLOSE released only {freed[BIO_CLOSE]} B"
    assert freed[BIO_NOCLOSE] < BUF_MEM_SIZE // 2, f"BIO_free with BIO_NOCLOSE released {freed[BIO_NOCLOSE]} B"


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/new-mem-buf-not-copied")
@pytest.mark.needs("c_api")
def test_new_mem_buf_reads_the_callers_buffer_in_place(h: Harness) -> None:
    """BIO_new_mem_buf over the caller's writable buffer "hello world"; the caller then changes its first byte to
    "J" and reads 5 bytes, then changes a later byte and reads the rest: the BIO reads "Jello" and the changed rest,
    because it reads the caller's memory rather than a copy."""
    api = h.capi
    buf = bytearray(b"hello world")
    b = call(h, "BIO_new_mem_buf", buf)
    assert b is not None
    try:
        buf[0] = ord("J")
        assert api.BIO_read(b, 5) == (5, b"Jello"), "the BIO read a copy made before the caller's change"
        buf[6] = ord("W")
        assert api.BIO_read(b, 100) == (6, b" World"), "the BIO read a copy made before the caller's change"
    finally:
        api.BIO_free(b)


SSL_BIOS = 40  # SSL BIOs freed per measurement: tens of kilobytes of SSL objects on every C library here


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/close-flag-frees-ssl")
@pytest.mark.needs("c_api")
def test_freeing_an_ssl_bio_with_bio_close_frees_its_ssl(h: Harness) -> None:
    """40 SSL BIOs, each holding a fresh SSL (BIO_set_ssl), are freed with BIO_free, once set with BIO_CLOSE and once
    with BIO_NOCLOSE (each round twice, the first a warm-up): with BIO_CLOSE the C heap drops by at least 1 KiB per
    SSL more than with BIO_NOCLOSE, whose SSLs stay allocated until the case's own SSL_free (done afterwards)."""
    api = _heap(h)
    ctx = api.SSL_CTX_new(api.TLS_method())
    assert ctx is not None
    freed: dict[int, int] = {}
    try:
        for close in (BIO_CLOSE, BIO_NOCLOSE, BIO_CLOSE, BIO_NOCLOSE):
            made: list[tuple[Any, Any]] = []
            try:
                for _ in range(SSL_BIOS):
                    ssl = api.SSL_new(ctx)
                    b = call(h, "BIO_new", call(h, "BIO_f_ssl")) if not made else api.BIO_new(api.BIO_f_ssl())
                    assert ssl is not None and b is not None
                    made.append((b, ssl))
                    assert api.BIO_set_ssl(b, ssl, close) == 1
                before = api.c_heap_in_use()
                for b, _ssl in made:
                    api.BIO_free(b)
                freed[close] = before - int(api.c_heap_in_use())
            finally:
                if close == BIO_NOCLOSE:
                    for _b, ssl in made:
                        api.SSL_free(ssl)
    finally:
        api.SSL_CTX_free(ctx)
    h.trace.note(f"C heap released by BIO_free of {SSL_BIOS} SSL BIOs: BIO_CLOSE {freed[BIO_CLOSE]} B, BIO_NOCLOSE "
                 f"{freed[BIO_NOCLOSE]} B")
    per_ssl = (freed[BIO_CLOSE] - freed[BIO_NOCLOSE]) / SSL_BIOS
    assert per_ssl >= 1024, (f"BIO_free with BIO_CLOSE released only {per_ssl:.0f} B per SSL BIO more than with "
                             f"BIO_NOCLOSE ({freed[BIO_CLOSE]} B against {freed[BIO_NOCLOSE]} B): the SSL stayed")


ADDR_STRINGS = 300  # strings of each kind taken before any is freed


@pytest.mark.clauses("BIO_ADDR/DESCRIPTION/strings-freed-with-openssl-free")
@pytest.mark.needs("c_api")
def test_bio_addr_strings_are_fresh_heap_allocations_freed_with_openssl_free(h: Harness) -> None:
    """A BIO_ADDR made with BIO_ADDR_rawmake (127.0.0.1, port 4433); BIO_ADDR_hostname_string(a, 1) and
    BIO_ADDR_service_string(a, 1) are each called 300 times, keeping every returned pointer: all 600 are distinct
    and read "127.0.0.1" / "4433", the C heap has grown by at least their 300 * 10 + 300 * 5 bytes, and releasing
    each with OPENSSL_free gives at least as much back: each string is the caller's own allocation."""
    import socket

    api = _heap(h)
    a = call(h, "BIO_ADDR_new")
    assert a is not None
    taken: list[int] = []
    try:
        assert api.BIO_ADDR_rawmake(a, K.AF_INET, socket.inet_aton("127.0.0.1"), socket.htons(4433)) == 1
        before = api.c_heap_in_use()
        for name, want in (("BIO_ADDR_hostname_string", b"127.0.0.1"), ("BIO_ADDR_service_string", b"4433")):
            for _ in range(ADDR_STRINGS):
                pointer = api.BIO_ADDR_string_unfreed(name, a, 1)
                assert pointer, f"{name}(a, 1) returned NULL"
                taken.append(pointer)
                got = api.c_string_at(pointer)
                assert got == want, f"{name}(a, 1) gave {got!r}, not {want!r}"
        held = int(api.c_heap_in_use()) - before
        assert call(h, "BIO_ADDR_hostname_string", a, 1) == "127.0.0.1"  # the binding's own call, freed by it
        assert call(h, "BIO_ADDR_service_string", a, 1) == "4433"
        size = ADDR_STRINGS * (len("127.0.0.1") + 1 + len("4433") + 1)
        distinct = len(set(taken))
        before_free = api.c_heap_in_use()
        while taken:
            api.OPENSSL_free(taken.pop())
        released = before_free - int(api.c_heap_in_use())
        h.trace.note(f"{2 * ADDR_STRINGS} strings: {distinct} distinct pointers, C heap +{held} B while held "
                     f"(the strings' bytes: {size}), -{released} B after OPENSSL_free")
        assert distinct == 2 * ADDR_STRINGS, f"only {distinct} distinct pointers for {2 * ADDR_STRINGS} calls: the " \
            "strings are not fresh allocations"
        assert held >= size, f"the C heap grew by {held} B for strings of {size} B: they are not heap allocations"
        assert released >= size, f"OPENSSL_free of the strings gave back {released} B, less than their {size} B"
    finally:
        for pointer in taken:
            api.OPENSSL_free(pointer)
        api.BIO_ADDR_free(a)


READ_HINT = 256 << 10  # a read buffer hint far above the built-in default (one record and its overhead, ~17 KiB)


def _idle_clients_heap(h: Harness, api: Any, hint: int | None) -> int:
    """C-heap bytes held by PAIRS established, idle pairs, each client given SSL_set_default_read_buffer_len(hint)
    before its handshake (none when ``hint`` is None)."""
    if hint is None:
        return _idle_pairs_heap(h, api)
    return _idle_pairs_heap(h, api, lambda client, _server: api.SSL_set_default_read_buffer_len(client.ssl, hint))


@pytest.mark.clauses("SSL_CTX_set_split_send_fragment/DESCRIPTION/default-read-buffer-len")
@pytest.mark.needs(*C_API)
def test_a_large_read_buffer_hint_enlarges_the_read_buffer_and_a_small_one_is_ignored(h: Harness) -> None:
    """20 idle TLS pairs (PAIRS) whose clients were given SSL_set_default_read_buffer_len(256 KiB), (512 B) or
    nothing before the handshake: with 256 KiB the pairs hold at least half of 20 * (256 KiB - 17 KiB) more C heap
    than without a hint (the record buffer was made that large); with 512 B, below the built-in default, they hold
    less than 4 KiB per client more than without (the hint is not used)."""
    api = _heap(h)
    if not api.has("SSL_set_default_read_buffer_len"):
        call(h, "SSL_set_default_read_buffer_len", None, 0)  # not applicable: the library lacks it
    _idle_clients_heap(h, api, None)  # warm up
    held = {hint: _idle_clients_heap(h, api, hint) for hint in (None, READ_HINT, 512)}
    h.trace.note(f"C heap held by {PAIRS} idle pairs: no hint {held[None]} B, hint {READ_HINT} B {held[READ_HINT]} B, "
                 f"hint 512 B {held[512]} B")
    larger = (held[READ_HINT] - held[None]) / PAIRS
    smaller = (held[512] - held[None]) / PAIRS
    assert larger >= (READ_HINT - 17 * 1024) // 2, (f"a {READ_HINT} B hint made each client hold only {larger:.0f} B "
                                                    "more: the read buffer was not enlarged")
    assert abs(smaller) < 4096, f"a 512 B hint (below the default) changed each client's heap by {smaller:.0f} B"


PAIR_BUFFER = 1 << 20  # each half's write buffer in the pair the output locations hold before the call


@pytest.mark.clauses("BIO_s_bio/DESCRIPTION/new-bio-pair-overwrites")
@pytest.mark.needs("c_api")
def test_new_bio_pair_stores_new_pointers_without_freeing_what_was_there(h: Harness) -> None:
    """A BIO pair with 1 MiB write buffers (one byte in it) is in the two output locations when BIO_new_bio_pair()
    is called again (default sizes): it returns 1 and stores two new BIOs, the C heap does not drop by the old
    pair's 2 MiB (it grows by the new pair only), and the old pair still carries its byte: nothing was freed."""
    api = _heap(h)
    ret, old1, old2 = api.BIO_new_bio_pair(PAIR_BUFFER, PAIR_BUFFER)
    assert ret == 1 and old1 is not None and old2 is not None
    new1 = new2 = None
    try:
        assert api.BIO_write(old1, b"x") == 1
        before = api.c_heap_in_use()
        ret, new1, new2 = api.BIO_new_bio_pair_over(old1, old2)
        change = int(api.c_heap_in_use()) - before
        h.trace.note(f"BIO_new_bio_pair over the old pair's locations -> {ret}, new BIOs {new1!r} / {new2!r}; C heap "
                     f"{change:+d} B (the old pair holds {2 * PAIR_BUFFER} B of buffers)")
        assert ret == 1, f"BIO_new_bio_pair returned {ret}"
        assert new1 is not None and new2 is not None and {new1, new2}.isdisjoint({old1, old2}), \
            "BIO_new_bio_pair did not store two new BIOs"
        assert change > -PAIR_BUFFER, f"the C heap dropped by {-change} B: the BIOs the locations held were freed"
        assert api.BIO_read(old2, 10) == (1, b"x"), "the old pair lost its byte"
    finally:
        for b in (new1, new2, old1, old2):
            if b is not None:
                api.BIO_free(b)
