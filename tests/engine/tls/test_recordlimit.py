"""record_size_limit (RFC 8449, engine/tls/recordlimit.py): announced, honoured and enforced in TLS 1.3.

Oracle beyond our own core: tlslite-ng, which implements RFC 8449 and refuses records above its announced limit."""

from __future__ import annotations

import socket

import pytest
from test_interop_tlslite import _drive, _run, _settings
from tls13_testlib import PKI, pair, pump

from engine.tls import AlertDescription, ApplicationData, HandshakeComplete, TLSAlertError, TLSConnection
from engine.tls.recordlimit import decode, encode

TAG = 16


def _sizes(data: bytes) -> list[int]:
    sizes, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at + 3 : at + 5], "big")
        sizes.append(size)
        at += 5 + size
    return sizes


def _data(conn: TLSConnection) -> bytes:
    return b"".join(e.data for e in conn.events() if isinstance(e, ApplicationData))


def test_codec() -> None:
    assert encode(64) == b"\x00\x40" and decode(b"\x40\x01") == 16385  # a larger limit means the protocol maximum
    for bad, alert in ((b"\x00\x3f", AlertDescription.illegal_parameter), (b"\x00", AlertDescription.decode_error)):
        with pytest.raises(TLSAlertError) as info:
            decode(bad)
        assert info.value.alert == alert
    with pytest.raises(ValueError):
        encode(63)


def test_each_side_keeps_to_the_other_sides_limit(pki: PKI) -> None:
    c, s = pair(pki, {"record_size_limit": 100}, {"record_size_limit": 200})
    pump(c, s)
    c.events()
    s.events()
    payload = bytes(range(256)) * 4
    s.send_application_data(payload)
    wire = s.data_to_send()
    assert max(_sizes(wire)) <= 100 + TAG and len(_sizes(wire)) == -(-len(payload) // 99)
    c.receive_bytes(wire)
    assert _data(c) == payload
    c.send_application_data(payload)
    wire = c.data_to_send()
    assert max(_sizes(wire)) <= 200 + TAG
    s.receive_bytes(wire)
    assert _data(s) == payload


def test_the_server_flight_already_keeps_to_the_clients_limit(pki: PKI) -> None:
    c, s = pair(pki, {"record_size_limit": 64}, {"record_size_limit": 16385})
    s.receive_bytes(c.data_to_send())
    flight = s.data_to_send()
    encrypted = _sizes(flight)[1:]  # after the ServerHello (and the compatibility change_cipher_spec)
    assert encrypted and all(size <= 64 + TAG for size in encrypted if size > 1)
    c.receive_bytes(flight)
    assert any(isinstance(e, HandshakeComplete) for e in c.events())


def test_no_limit_without_both_sides(pki: PKI) -> None:
    for client_limit, server_limit in ((None, 100), (100, None)):
        c, s = pair(pki, {"record_size_limit": client_limit}, {"record_size_limit": server_limit})
        pump(c, s)
        s.send_application_data(bytes(5000))
        c.send_application_data(bytes(5000))
        assert _sizes(s.data_to_send()) == [5000 + 1 + TAG] and _sizes(c.data_to_send()) == [5000 + 1 + TAG]


def test_a_record_above_our_limit_is_record_overflow(pki: PKI) -> None:
    c, s = pair(pki, {"record_size_limit": 1000}, {"record_size_limit": 100})
    pump(c, s)
    c._record.send_limit = 16385  # a peer that ignores our limit
    c.send_application_data(bytes(500))
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(c.data_to_send())
    assert info.value.alert == AlertDescription.record_overflow and info.value.sent_by_us


def test_the_limit_counts_the_content_type_byte_exactly(pki: PKI) -> None:
    """RFC 8449 section 4: in TLS 1.3 the limit bounds the inner plaintext, content type byte included. With a limit
    of 100, a record of 99 bytes of data (100 with the type byte) is taken; one of 100 (101) is record_overflow."""
    c, s = pair(pki, {"record_size_limit": 1000}, {"record_size_limit": 100})
    pump(c, s)
    c._record.send_limit = 16385  # a peer that ignores our limit
    c.send_application_data(bytes(99))
    s.receive_bytes(c.data_to_send())
    assert _data(s) == bytes(99)
    c.send_application_data(bytes(100))
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(c.data_to_send())
    assert info.value.alert == AlertDescription.record_overflow and info.value.sent_by_us


def test_a_limit_below_64_is_illegal_parameter(pki: PKI) -> None:
    c, s = pair(pki, {"extra_extensions": ((28, b"\x00\x10"),)}, {"record_size_limit": 100})
    with pytest.raises(TLSAlertError) as info:
        pump(c, s)
    assert s.error is not None and s.error.alert == AlertDescription.illegal_parameter, info.value


@pytest.mark.parametrize("limit", [64, 1000])
def test_tlslite_client_and_our_server_keep_each_others_limits(pki: PKI, limit: int) -> None:
    a, b = socket.socketpair()
    payload = bytes(range(256)) * 20
    got: list[bytes] = []

    def client() -> None:
        from tlslite.api import TLSConnection as TlsliteConnection

        settings = _settings()
        settings.record_size_limit = limit  # type: ignore[attr-defined]
        conn = TlsliteConnection(b)
        conn.handshakeClientCert(settings=settings, serverName="server.example")
        conn.write(payload)
        got.append(bytes(conn.read(max=len(payload), min=len(payload))))
        conn.close()

    thread, errors = _run(client)
    ours = TLSConnection(__import__("tls13_testlib").server_config(pki, record_size_limit=100), "server")
    received = bytearray()

    def until(events: list[object]) -> bool:
        received.extend(b"".join(e.data for e in events if isinstance(e, ApplicationData)))
        events.clear()
        return len(received) >= len(payload)

    _drive(ours, a, until)  # type: ignore[arg-type]
    assert bytes(received) == payload
    ours.send_application_data(payload)
    a.sendall(ours.data_to_send())
    thread.join(10)
    assert not errors, errors
    assert got == [payload]
    a.close()
    b.close()
