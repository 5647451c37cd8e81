"""Put one SSL object (the *subject*) in a chosen connection state, for the cases that call each function in each
state its page names (``test_states_*.py``).

The states are the catalogue's vocabulary (``conformance.catalogue.STATES``, documented in ``specs/README.md``);
``null-handle`` needs no object and is not built here. Both objects sit on BIO pairs (:class:`Mem`) so the case
moves every byte itself and can see what the subject wrote: a state is reached by the calls a careful application
makes, each checked on the way, so a stack that cannot reach the state fails here and says where.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from conformance.stacks.base import EndpointConfig
from specs.cases._ssl_objects import Mem, error, handshake, move, note

__all__ = ["Staged", "State", "error_entry", "fatal", "reach"]


class State(StrEnum):
    BEFORE_HANDSHAKE = "before-handshake"
    MID_HANDSHAKE = "mid-handshake"
    ESTABLISHED = "established"
    CLOSE_NOTIFY_SENT = "close-notify-sent"
    CLOSE_NOTIFY_RECEIVED = "close-notify-received"
    FATAL_ALERT = "fatal-alert"
    AFTER_CLEAR = "after-clear"
    NULL_HANDLE = "null-handle"


@dataclass
class Staged:
    """The subject in its state, its peer, and the raw C API of the stack under test."""

    h: Harness
    state: State
    subject: Mem
    peer: Mem

    @property
    def api(self) -> Any:
        return self.h.capi

    @property
    def ssl(self) -> Any:
        return self.subject.ssl

    def error(self, ret: int) -> SslError | int:
        return error(self.api, self.subject.ssl, ret)

    def move(self) -> int:
        return move(self.subject, self.peer)


def _corrupt_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def fatal(code: SslError | int) -> bool:
    """Whether an SSL_get_error code ends the connection: not success, not a retry, not an orderly close. (Which
    fatal code a stack reports is checked by the cases on SSL_get_error, not while reaching a state.)"""
    return code not in (SslError.SSL_ERROR_NONE, SslError.SSL_ERROR_WANT_READ, SslError.SSL_ERROR_WANT_WRITE,
                        SslError.SSL_ERROR_ZERO_RETURN)


def _close_both_ways(h: Harness, first: Mem, second: Mem) -> None:
    """A complete two-way close as the page recommends it: ``first`` sends close_notify, ``second`` reads it and
    answers, ``first`` reads the answer with SSL_read (SSL_shutdown.pod prefers a read to a second shutdown)."""
    api = h.capi
    assert api.SSL_shutdown(first.ssl) == 0, "the first SSL_shutdown of a clean close"
    move(first, second)
    ret, _ = api.SSL_read(second.ssl, 10)
    assert error(api, second.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN, f"the peer's read of close_notify: {ret}"
    assert api.SSL_shutdown(second.ssl) == 1, "the answering SSL_shutdown"
    move(first, second)
    ret, _ = api.SSL_read(first.ssl, 10)
    assert error(api, first.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN, f"reading the answer: {ret}"
    flags = api.SSL_get_shutdown(first.ssl)
    assert flags == K.SSL_SENT_SHUTDOWN | K.SSL_RECEIVED_SHUTDOWN, f"shutdown state after a clean close: {flags}"


def reach(h: Harness, state: State, role: Role = Role.CLIENT, *, alert_sent: bool = False,
          adjust: Callable[[EndpointConfig], EndpointConfig] | None = None,
          before_new: Callable[[Any], object] | None = None) -> Staged:
    """A subject of ``role`` (and a peer of the other role, same stack) in ``state``; the error queue is empty.
    In ``fatal-alert`` the subject received the fatal alert, or sent it when ``alert_sent``. ``adjust`` and
    ``before_new`` configure the subject (as for :class:`Mem`), e.g. a TLS 1.2 server with its session cache."""
    api = h.capi
    other = Role.SERVER if role is Role.CLIENT else Role.CLIENT
    subject, peer = Mem(h, role, adjust=adjust, before_new=before_new), Mem(h, other)
    client, server = (subject, peer) if role is Role.CLIENT else (peer, subject)
    staged = Staged(h, state, subject, peer)
    if state is State.BEFORE_HANDSHAKE:
        pass
    elif state is State.MID_HANDSHAKE:
        # the client's ClientHello is out; a server subject has read it and sent its flight, a client subject
        # waits for the server's: both stop at WANT_READ
        ret = api.SSL_do_handshake(client.ssl)
        assert ret < 0 and error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_READ, \
            f"the client's first SSL_do_handshake -> {ret} ({error(api, client.ssl, ret)})"
        server.give(client.take())
        if role is Role.SERVER:
            ret = api.SSL_do_handshake(server.ssl)
            assert ret < 0 and error(api, server.ssl, ret) is SslError.SSL_ERROR_WANT_READ, \
                f"the server's first SSL_do_handshake -> {ret} ({error(api, server.ssl, ret)})"
            client.give(server.take())
    elif state is State.AFTER_CLEAR:
        handshake(h, client, server)
        _close_both_ways(h, subject, peer)
        assert api.SSL_clear(subject.ssl) == 1, "SSL_clear after a clean two-way shutdown failed"
        # a fresh peer for the next connection: the old one has closed
        fresh = Mem(h, other)
        staged.peer = fresh
    else:
        handshake(h, client, server)
        if state is State.CLOSE_NOTIFY_SENT:
            ret = api.SSL_shutdown(subject.ssl)
            assert ret == 0, f"the first SSL_shutdown on an established connection -> {ret}"
        elif state is State.CLOSE_NOTIFY_RECEIVED:
            assert api.SSL_shutdown(peer.ssl) == 0
            move(subject, peer)
            ret, _ = api.SSL_read(subject.ssl, 10)
            assert error(api, subject.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN, \
                f"reading the peer's close_notify -> {ret} ({error(api, subject.ssl, ret)})"
        elif state is State.FATAL_ALERT:
            # one record arrives with one bit flipped: its receiver's read fails with SSL_ERROR_SSL and it sends a
            # fatal bad_record_mac alert. By default the peer detects it and the subject receives the alert
            # (its read fails with SSL_ERROR_SSL too); with ``alert_sent`` the subject detects it and sends it.
            victim, sender = (subject, peer) if alert_sent else (peer, subject)
            assert api.SSL_write(sender.ssl, b"tampered") == 8
            victim.give(_corrupt_last_byte(sender.take()))
            ret, data = api.SSL_read(victim.ssl, 100)
            assert ret <= 0 and fatal(error(api, victim.ssl, ret)), \
                f"a corrupted record -> {ret} {data!r} ({error(api, victim.ssl, ret)})"
            alert = victim.take()
            assert alert, "no alert was sent for a corrupted record"
            if not alert_sent:
                subject.give(alert)
                ret, data = api.SSL_read(subject.ssl, 100)
                assert ret <= 0 and fatal(error(api, subject.ssl, ret)), \
                    f"reading the peer's fatal alert -> {ret} {data!r} ({error(api, subject.ssl, ret)})"
        else:
            assert state is State.ESTABLISHED, f"no object is built for {state}"
    api.ERR_clear_error()
    note(h, f"{role.value} subject is {state}")
    return staged


def error_entry(api: Any) -> tuple[int, int]:
    """(library, reason) of the oldest error-queue entry, (0, 0) when the queue is empty; the queue is kept."""
    code = int(api.ERR_peek_error())
    return (int(api.ERR_GET_LIB(code)), int(api.ERR_GET_REASON(code))) if code else (0, 0)


ERR_LIB_SSL: int = K.ERR_LIB_SSL
