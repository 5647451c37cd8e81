"""BIO chains (BIO_push.pod): BIO_push, BIO_pop, BIO_next, BIO_set_next.

A chain is a doubly linked list through ``BIO.next_bio`` / ``BIO.prev_bio``: data written to the head travels down
through the filters to the source/sink at the end, reads come back up. Linking and unlinking tell the BIO concerned
with a control call (``BIO_CTRL_PUSH`` on the head after a push, ``BIO_CTRL_POP`` on the removed BIO before it is
unlinked), as libcrypto 3.0 does, so a kind with something to do on those events (an SSL BIO adopting its new
transport) can do it; the value of that call is not used.

Chains do not own references: pushing neither takes nor gives one, and BIO_free_all (in :mod:`.core`) walks the
chain. A filter's implementation reaches the next BIO through ``bio.next_bio``.
"""

from __future__ import annotations

from engine import err
from engine.bio.constants import BIO_CTRL_POP, BIO_CTRL_PUSH
from engine.bio.core import BIO, BIO_ctrl, live_bio

__all__ = ["BIO_next", "BIO_pop", "BIO_push", "BIO_set_next"]


def _in_chain(start: BIO, target: BIO) -> bool:
    b: BIO | None = start
    while b is not None:
        if b is target:
            return True
        b = b.next_bio
    return False


def BIO_push(b: BIO | None, next: BIO | None) -> BIO | None:
    # BIO_push: DESCRIPTION "If b is NULL the function does nothing and returns next"
    if b is None:
        return next
    head = live_bio(b, "BIO_push")
    if head is None:
        return None
    if next is not None:
        tail_target = live_bio(next, "BIO_push")
        if tail_target is None:
            return None
        if _in_chain(tail_target, head):
            # a cycle would make every chain walk endless; C would loop forever, the engine refuses
            err.ERR_raise_data(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, "would make a cycle",
                               func="BIO_push")
            return None
    last = head
    while last.next_bio is not None:
        last = last.next_bio
    last.next_bio = next
    if next is not None:
        next.prev_bio = last
    BIO_ctrl(head, BIO_CTRL_PUSH, 0, last)
    return head


def BIO_pop(b: BIO | None) -> BIO | None:
    # BIO_push: DESCRIPTION "If b is NULL the function does nothing and returns NULL"
    if b is None:
        return None
    bio = live_bio(b, "BIO_pop")
    if bio is None:
        return None
    ret = bio.next_bio
    BIO_ctrl(bio, BIO_CTRL_POP, 0, bio)
    if bio.prev_bio is not None:
        bio.prev_bio.next_bio = bio.next_bio
    if bio.next_bio is not None:
        bio.next_bio.prev_bio = bio.prev_bio
    bio.next_bio = None
    bio.prev_bio = None
    return ret


def BIO_next(b: BIO | None) -> BIO | None:
    # bio(7) / BIO_find_type.pod: the next BIO in the chain, NULL at its end or for NULL
    if b is None:
        return None
    bio = live_bio(b, "BIO_next")
    return None if bio is None else bio.next_bio


def BIO_set_next(b: BIO | None, next: BIO | None) -> None:
    # BIO_push: DESCRIPTION replaces b's next BIO (libcrypto sets only that link; so does the engine)
    bio = live_bio(b, "BIO_set_next")
    if bio is None:
        return
    if next is not None:
        target = live_bio(next, "BIO_set_next")
        if target is None or _in_chain(target, bio):
            if target is not None:
                err.ERR_raise_data(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, "would make a cycle",
                                   func="BIO_set_next")
            return
    bio.next_bio = next

