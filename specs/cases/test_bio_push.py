"""C-API cases for BIO_push.pod: building and taking apart BIO chains (BIO_push, BIO_pop, BIO_set_next), seen
through BIO_next; the control calls they make, seen through an application-defined BIO that records its ctrls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance.harness import Harness
from specs.cases._bio import call, mem, owned

pytestmark = pytest.mark.needs("c_api")

BIO_CTRL_PUSH = 6  # openssl/bio.h (3.0)
BIO_CTRL_POP = 7


def chain_of(h: Harness, b: Any, limit: int = 16) -> list[Any]:
    """The BIOs from ``b`` down, following BIO_next."""
    out: list[Any] = []
    while b is not None and len(out) < limit:
        out.append(b)
        b = call(h, "BIO_next", b)
    return out


@contextmanager
def recording_bio(h: Harness) -> Iterator[tuple[Any, list[tuple[int, int]]]]:
    """A BIO of an application-defined method whose ctrl callback records (cmd, larg) and answers 0; freed (with
    its method) when the block ends; the case must have taken it out of every chain by then."""
    api = h.capi
    seen: list[tuple[int, int]] = []
    method = call(h, "BIO_meth_new", 0x0200 | 101, b"recording filter")  # BIO_TYPE_FILTER | an unused index
    assert method is not None, "BIO_meth_new returned NULL"

    def ctrl(cmd: int, larg: int) -> int:
        seen.append((cmd, larg))
        return 0

    try:
        assert call(h, "BIO_meth_set_ctrl", method, ctrl) == 1
        b = call(h, "BIO_new", method)
        assert b is not None, "BIO_new(application method) returned NULL"
        try:
            call(h, "BIO_set_init", b, 1)
            yield b, seen
        finally:
            api.BIO_free(b)
    finally:
        api.BIO_meth_free(method)


@pytest.mark.clauses("BIO_push/DESCRIPTION/push-null-b", "BIO_push/RETURN VALUES/push")
def test_push_null_returns_next(h: Harness) -> None:
    """BIO_push(NULL, next) returns next and leaves next's chain as it was."""
    with owned(h) as o:
        a, m = mem(h, o), mem(h, o)
        assert call(h, "BIO_push", a, m) == a
        assert call(h, "BIO_push", None, a) == a, "BIO_push(NULL, next) did not return next"
        assert chain_of(h, a) == [a, m], "BIO_push(NULL, next) changed next's chain"
        call(h, "BIO_pop", a)


@pytest.mark.clauses("BIO_push/DESCRIPTION/push-prepends", "BIO_push/RETURN VALUES/push",
                     "BIO_push/DESCRIPTION/push-chain-on-chain")
def test_push_builds_chains_in_order(h: Harness) -> None:
    """BIO_push(b, c) then BIO_push(a, b) gives a-b-c; pushing the chain x-y onto a-b-c gives x-y-a-b-c."""
    with owned(h) as o:
        a, b, c, x, y = (mem(h, o) for _ in range(5))
        assert call(h, "BIO_push", b, c) == b
        assert chain_of(h, b) == [b, c]
        assert call(h, "BIO_push", a, b) == a
        assert chain_of(h, a) == [a, b, c], "pushing a BIO onto a chain did not put it in front"
        assert call(h, "BIO_push", x, y) == x
        assert call(h, "BIO_push", x, a) == x, "BIO_push did not return b"
        assert chain_of(h, x) == [x, y, a, b, c], "a pushed chain was not put whole in front of next"
        for bio in (x, y, a, b):
            call(h, "BIO_pop", bio)


@pytest.mark.clauses("BIO_push/DESCRIPTION/push-next-null", "BIO_push/RETURN VALUES/push")
def test_push_onto_null_changes_nothing(h: Harness) -> None:
    """BIO_push(b, NULL) returns b; a single BIO stays single, a chain stays the same chain."""
    with owned(h) as o:
        a, m = mem(h, o), mem(h, o)
        assert call(h, "BIO_push", m, None) == m
        assert call(h, "BIO_next", m) is None
        assert call(h, "BIO_push", a, m) == a
        assert call(h, "BIO_push", a, None) == a
        assert chain_of(h, a) == [a, m], "BIO_push(b, NULL) changed b's chain"
        call(h, "BIO_pop", a)


@pytest.mark.clauses("BIO_push/DESCRIPTION/pop-null", "BIO_push/RETURN VALUES/pop")
def test_pop_null_and_single(h: Harness) -> None:
    """BIO_pop(NULL) is NULL; popping a BIO that is alone gives NULL and leaves it usable."""
    with owned(h) as o:
        assert call(h, "BIO_pop", None) is None
        m = mem(h, o)
        assert call(h, "BIO_pop", m) is None, "BIO_pop of a BIO without a next BIO did not return NULL"
        assert call(h, "BIO_write", m, b"still here") == 10
        assert call(h, "BIO_read", m, 64) == (10, b"still here")


@pytest.mark.clauses("BIO_push/DESCRIPTION/pop-detaches", "BIO_push/RETURN VALUES/pop",
                     "BIO_push/NOTES/pop-anywhere")
def test_pop_from_the_middle_joins_the_neighbours(h: Harness) -> None:
    """In a-b-c, BIO_pop(b) returns c, leaves a-c and b alone; b can then be freed and a-c still works, or b
    pushed onto another chain. Popping the head a of a-c returns c and leaves both single."""
    with owned(h) as o:
        a, b, c, d = (mem(h, o) for _ in range(4))
        call(h, "BIO_push", b, c)
        call(h, "BIO_push", a, b)
        assert call(h, "BIO_pop", b) == c, "BIO_pop did not return the BIO that followed"
        assert call(h, "BIO_next", b) is None, "a popped BIO still has a next BIO"
        assert chain_of(h, a) == [a, c], "popping a BIO from the middle did not join its neighbours"
        assert call(h, "BIO_push", b, d) == b, "a popped BIO could not be pushed onto another chain"
        assert chain_of(h, b) == [b, d]
        assert chain_of(h, a) == [a, c], "pushing the popped BIO elsewhere changed its old chain"
        call(h, "BIO_pop", b)
        o.forget(b)
        assert call(h, "BIO_free", b) == 1
        assert chain_of(h, a) == [a, c], "freeing a popped BIO changed its old chain"
        assert call(h, "BIO_pop", a) == c
        assert chain_of(h, a) == [a] and chain_of(h, c) == [c]


@pytest.mark.clauses("BIO_push/DESCRIPTION/pop-detaches", "BIO_push/RETURN VALUES/pop")
def test_pop_the_last_bio(h: Harness) -> None:
    """In a-b, BIO_pop(b) returns NULL and leaves a alone."""
    with owned(h) as o:
        a, b = mem(h, o), mem(h, o)
        call(h, "BIO_push", a, b)
        assert call(h, "BIO_pop", b) is None, "popping the last BIO of a chain did not return NULL"
        assert chain_of(h, a) == [a], "popping the last BIO did not unlink it from the one before"


@pytest.mark.clauses("BIO_push/DESCRIPTION/set-next")
def test_set_next_replaces_the_link(h: Harness) -> None:
    """BIO_set_next(a, c) on a-b makes a-c (returning nothing); BIO_set_next(a, NULL) ends the chain at a."""
    with owned(h) as o:
        a, b, c = (mem(h, o) for _ in range(3))
        call(h, "BIO_push", a, b)
        assert call(h, "BIO_set_next", a, c) is None
        assert chain_of(h, a) == [a, c], "BIO_set_next did not replace the next BIO"
        assert call(h, "BIO_set_next", a, None) is None
        assert chain_of(h, a) == [a], "BIO_set_next(b, NULL) did not end the chain"
        call(h, "BIO_pop", b)  # b still believes a is before it (BIO_set_next sets one link only)


@pytest.mark.clauses("BIO_push/DESCRIPTION/push-control-call")
def test_push_sends_a_control_call_to_b(h: Harness) -> None:
    """Pushing a recording BIO onto a memory BIO makes one BIO_CTRL_PUSH call on it; nothing else."""
    with owned(h) as o, recording_bio(h) as (r, seen):
        m = mem(h, o)
        assert call(h, "BIO_push", r, m) == r
        h.trace.note(f"ctrl calls seen: {seen}")
        assert [cmd for cmd, _ in seen] == [BIO_CTRL_PUSH], f"BIO_push made the control calls {seen}"
        call(h, "BIO_pop", r)


@pytest.mark.clauses("BIO_push/DESCRIPTION/pop-control-call")
def test_pop_sends_a_control_call_to_b(h: Harness) -> None:
    """Popping a recording BIO off a chain makes one BIO_CTRL_POP call on it."""
    with owned(h) as o, recording_bio(h) as (r, seen):
        m = mem(h, o)
        call(h, "BIO_push", r, m)
        seen.clear()
        assert call(h, "BIO_pop", r) == m
        h.trace.note(f"ctrl calls seen: {seen}")
        assert [cmd for cmd, _ in seen] == [BIO_CTRL_POP], f"BIO_pop made the control calls {seen}"


@pytest.mark.clauses("BIO_push/NOTES/type-specific-effects")
def test_memory_bio_is_unchanged_by_push_and_pop(h: Harness) -> None:
    """A memory BIO holding data keeps it, and its pending count, across being pushed on and popped off."""
    with owned(h) as o:
        a, m = mem(h, o), mem(h, o)
        assert call(h, "BIO_write", m, b"0123456789") == 10
        call(h, "BIO_push", a, m)
        assert call(h, "BIO_ctrl_pending", m) == 10
        assert call(h, "BIO_read", m, 4) == (4, b"0123")
        assert call(h, "BIO_pop", a) == m
        assert call(h, "BIO_ctrl_pending", m) == 6, "popping the BIO before a memory BIO changed its contents"
        assert call(h, "BIO_read", m, 64) == (6, b"456789")


@pytest.mark.clauses("BIO_new/NOTES/free-on-chain-frees-one")
def test_free_on_the_head_leaves_the_rest(h: Harness) -> None:
    """BIO_free on the head of a-m frees a only: m still holds and returns its data afterwards."""
    with owned(h) as o:
        a, m = mem(h, o), mem(h, o)
        assert call(h, "BIO_write", m, b"kept") == 4
        call(h, "BIO_push", a, m)
        o.forget(a)
        assert call(h, "BIO_free", a) == 1
        assert call(h, "BIO_ctrl_pending", m) == 4, "BIO_free on the head touched the next BIO"
        assert call(h, "BIO_read", m, 16) == (4, b"kept")


@pytest.mark.clauses("BIO_new/DESCRIPTION/free-all", "BIO_new/NOTES/free-on-chain-frees-one")
def test_free_all_frees_the_whole_chain(h: Harness) -> None:
    """A chain of a memory BIO in front of a socket BIO that owns its descriptor (BIO_CLOSE): BIO_free on the head
    leaves the descriptor open (the socket BIO lives on); BIO_free_all on the head closes it (the socket BIO was
    freed too)."""
    import socket

    from specs.cases._bio import is_open

    for free_all in (False, True):
        with owned(h) as o:
            left, right = socket.socketpair()
            right.close()
            fd = left.detach()
            s = call(h, "BIO_new_socket", fd, 1)  # BIO_CLOSE
            assert s is not None, "BIO_new_socket returned NULL"
            a = mem(h, o)
            o.forget(a)
            call(h, "BIO_push", a, s)
            if free_all:
                assert call(h, "BIO_free_all", a) is None
                assert not is_open(fd), "BIO_free_all on the head did not free the socket BIO behind it"
            else:
                assert call(h, "BIO_free", a) == 1
                assert is_open(fd), "BIO_free on the head of a chain freed the BIO behind it as well"
                assert call(h, "BIO_free", s) == 1
                assert not is_open(fd)
