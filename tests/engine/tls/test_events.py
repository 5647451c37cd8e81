"""Events a connection reports: immutable values compared by content, and the NEED_DATA sentinel compared by
identity (``conn.next_event() is NEED_DATA``)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import typing

import pytest

import engine.tls
from engine.tls import (
    NEED_DATA,
    AlertReceived,
    ApplicationData,
    CloseNotifyReceived,
    Event,
    HandshakeComplete,
    KeyUpdateReceived,
    NewSessionTicketReceived,
)
from engine.tls.messages import NewSessionTicket

EVENT_TYPES = set(typing.get_args(Event))


def _complete(**kw: object) -> HandshakeComplete:
    fields: dict[str, object] = {
        "cipher_suite": 0x1301,
        "group": 0x1D,
        "signature_scheme": 0x0403,
        "alpn_protocol": None,
        "server_name": "server.example",
        "hello_retry_request": False,
    }
    fields.update(kw)
    return HandshakeComplete(**fields)  # type: ignore[arg-type]


def test_need_data_is_one_object() -> None:
    assert repr(NEED_DATA) == "NEED_DATA"
    assert copy.copy(NEED_DATA) is NEED_DATA
    assert copy.deepcopy(NEED_DATA) is NEED_DATA
    assert pickle.loads(pickle.dumps(NEED_DATA)) is NEED_DATA


def test_need_data_is_not_an_event() -> None:
    assert type(NEED_DATA) not in EVENT_TYPES


def test_every_event_type_is_exported() -> None:
    exported = {getattr(engine.tls, name) for name in engine.tls.__all__}
    assert exported >= EVENT_TYPES
    assert NEED_DATA in [getattr(engine.tls, name) for name in engine.tls.__all__]


@pytest.mark.parametrize(
    "event",
    [
        _complete(),
        ApplicationData(b"x"),
        KeyUpdateReceived(True),
        AlertReceived(90, 1),
        NewSessionTicketReceived(NewSessionTicket(7200, 1, b"n", b"t", []), b"p" * 32, 0x1301),
    ],
    ids=lambda e: type(e).__name__,
)
def test_events_are_frozen(event: Event) -> None:
    assert type(event) in EVENT_TYPES
    for field in dataclasses.fields(event):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(event, field.name, None)


def test_close_notify_event_has_no_fields() -> None:
    assert dataclasses.fields(CloseNotifyReceived()) == ()
    assert CloseNotifyReceived in EVENT_TYPES


def test_events_compare_by_value() -> None:
    assert ApplicationData(b"abc") == ApplicationData(b"abc")
    assert ApplicationData(b"abc") != ApplicationData(b"abd")
    assert KeyUpdateReceived(True) != KeyUpdateReceived(False)
    assert CloseNotifyReceived() == CloseNotifyReceived()
    assert AlertReceived(90, 1) == AlertReceived(description=90, level=1)
    assert _complete() == _complete() and _complete() != _complete(hello_retry_request=True)


def test_events_of_different_types_are_never_equal() -> None:
    values: list[object] = [CloseNotifyReceived(), KeyUpdateReceived(False), ApplicationData(b"")]
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            assert a != b


def test_handshake_complete_has_no_peer_certificates_by_default_and_no_shared_list() -> None:
    a, b = _complete(), _complete()
    assert a.peer_certificates == [] and a.peer_certificates is not b.peer_certificates


def test_handshake_complete_fields() -> None:
    done = _complete(alpn_protocol=b"h2", signature_scheme=None)
    assert (done.cipher_suite, done.group, done.signature_scheme, done.alpn_protocol) == (0x1301, 0x1D, None, b"h2")
    assert done.server_name == "server.example" and done.hello_retry_request is False


def test_ticket_event_carries_ticket_psk_and_suite() -> None:
    ticket = NewSessionTicket(7200, 1, b"n", b"t", [])
    event = NewSessionTicketReceived(ticket, b"p" * 32, 0x1302)
    assert event.ticket is ticket and event.psk == b"p" * 32 and event.cipher_suite == 0x1302


def test_events_are_usable_in_pattern_matching() -> None:
    def describe(event: Event) -> str:
        match event:
            case ApplicationData(data=data):
                return f"data {data!r}"
            case KeyUpdateReceived(update_requested=True):
                return "update requested"
            case CloseNotifyReceived():
                return "closed"
            case _:
                return "other"

    assert describe(ApplicationData(b"hi")) == "data b'hi'"
    assert describe(KeyUpdateReceived(True)) == "update requested"
    assert describe(KeyUpdateReceived(False)) == "other"
    assert describe(CloseNotifyReceived()) == "closed"
