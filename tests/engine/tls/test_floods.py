"""engine.tls.connection's flood bounds: content-free records and KeyUpdates in a row end in unexpected_message at
the limit of FLOOD_LIMITS, and anything that carries content starts the count again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tls13_testlib import PKI, pair, pump

from engine.tls import ApplicationData, TLSAlertError, TLSConnection
from engine.tls.alerts import AlertDescription as A
from engine.tls.connection import FLOOD_LIMITS

CCS = bytes.fromhex("140303000101")
USER_CANCELED = bytes.fromhex("1503030002015a")


def _connected(pki: PKI) -> tuple[TLSConnection, TLSConnection]:
    c, s = pair(pki)
    pump(c, s)
    assert c.handshake_complete and s.handshake_complete
    c.events()
    s.events()
    return c, s


def _flood(receiver: TLSConnection, record: Callable[[], bytes], limit: int) -> TLSAlertError:
    for _ in range(limit):
        receiver.receive_bytes(record())
    with pytest.raises(TLSAlertError) as info:
        receiver.receive_bytes(record())
    assert info.value.alert == A.unexpected_message and info.value.sent_by_us
    return info.value


@pytest.mark.parametrize(("kind", "record"), [("change_cipher_spec records", CCS), ("warning alerts", USER_CANCELED)])
def test_handshake_floods_end_at_the_limit(pki: PKI, kind: str, record: bytes) -> None:
    c, s = pair(pki)
    s.receive_bytes(c.data_to_send())  # the ClientHello
    exc = _flood(s, lambda: record, FLOOD_LIMITS[kind])
    assert kind in exc.message


def test_empty_records_end_at_the_limit(pki: PKI) -> None:
    c, s = _connected(pki)

    def empty() -> bytes:
        c.send_application_data(b"")
        return c.data_to_send()

    _flood(s, empty, FLOOD_LIMITS["empty records"])


@pytest.mark.parametrize("requested", [False, True])
def test_key_updates_end_at_the_limit(pki: PKI, requested: bool) -> None:
    """Bounded by the engine although OpenSSL 3.0 is not (it took 300 in a row): the answers to requested updates
    would otherwise grow without limit."""
    c, s = _connected(pki)

    def update() -> bytes:
        c.send_key_update(requested)
        return c.data_to_send()

    _flood(s, update, FLOOD_LIMITS["KeyUpdate messages"])


def test_content_starts_the_count_again(pki: PKI) -> None:
    c, s = _connected(pki)
    for _ in range(3):
        for _ in range(FLOOD_LIMITS["KeyUpdate messages"]):
            c.send_key_update(False)
        for _ in range(FLOOD_LIMITS["empty records"]):
            c.send_application_data(b"")
        c.send_application_data(b"data")
        s.receive_bytes(c.data_to_send())
        assert [e.data for e in s.events() if isinstance(e, ApplicationData)] == [b"data"]
    pump(c, s)
    assert s.error is None
