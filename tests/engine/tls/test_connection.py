"""The sans-IO facade (engine/tls/connection.py): waiting for bytes is a return value (NEED_DATA, empty
``data_to_send``), a protocol violation is a TLSAlertError after which every entry point raises it again, and
``close()`` puts close_notify on the wire (RFC 9846 section 6.1)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tls13_testlib import PKI, client_config, pair, pump, server_config

from engine.tls import (
    NEED_DATA,
    AlertDescription,
    AlertReceived,
    ApplicationData,
    CloseNotifyReceived,
    HandshakeComplete,
    Role,
    TLSAlertError,
    TLSConnection,
)

A = AlertDescription
CCS = b"\x14\x03\x03\x00\x01\x01"


def _plain_alert(level: int, description: int) -> bytes:
    return b"\x15\x03\x03\x00\x02" + bytes((level, description))


def _records(wire: bytes) -> list[bytes]:
    out = []
    while wire:
        n = 5 + int.from_bytes(wire[3:5], "big")
        out.append(wire[:n])
        wire = wire[n:]
    return out


def _connected(pki: PKI) -> tuple[TLSConnection, TLSConnection]:
    c, s = pair(pki)
    pump(c, s)
    assert isinstance(c.next_event(), HandshakeComplete) and isinstance(s.next_event(), HandshakeComplete)
    return c, s


def _entry_points(conn: TLSConnection) -> dict[str, Callable[[], object]]:
    return {
        "receive_bytes": lambda: conn.receive_bytes(b"\x17\x03\x03\x00\x00"),
        "receive_nothing": lambda: conn.receive_bytes(b""),
        "next_event": conn.next_event,
        "events": conn.events,
        "start_handshake": conn.start_handshake,
        "send_application_data": lambda: conn.send_application_data(b"x"),
        "send_key_update": lambda: conn.send_key_update(True),
        "close": conn.close,
    }


def _stays_failed(conn: TLSConnection, first: TLSAlertError) -> None:
    assert conn.state == "ERROR" and conn.error is first
    for name, call in _entry_points(conn).items():
        with pytest.raises(TLSAlertError) as again:
            call()
        assert again.value is first, name
    assert conn.data_to_send() == b""  # nothing new is queued by the failed calls


# -- construction ------------------------------------------------------------------------------------------------


def test_role_can_be_given_as_enum_or_string(pki: PKI) -> None:
    assert TLSConnection(client_config(pki), Role.CLIENT).role is Role.CLIENT
    assert TLSConnection(server_config(pki), "server").role is Role.SERVER
    with pytest.raises(ValueError):
        TLSConnection(client_config(pki), "peer")  # type: ignore[arg-type]


# -- waiting is a return value -----------------------------------------------------------------------------------


def test_fresh_connections_have_no_events(pki: PKI) -> None:
    c, s = pair(pki)
    assert c.next_event() is NEED_DATA and s.next_event() is NEED_DATA
    assert c.events() == [] and s.events() == []
    assert not c.handshake_complete and c.error is None


def test_client_hello_is_queued_once_and_data_to_send_empties(pki: PKI) -> None:
    c, s = pair(pki)
    hello = c.data_to_send()
    assert hello[:1] == b"\x16" and hello[5] == 1  # a handshake record holding a ClientHello
    assert c.data_to_send() == b""
    c.start_handshake()  # idempotent
    assert c.data_to_send() == b""
    assert s.data_to_send() == b""  # a server speaks only when spoken to


def test_partial_record_is_need_data(pki: PKI) -> None:
    c, _ = pair(pki)
    hello = c.data_to_send()
    for cut in (1, 4, 5, len(hello) - 1):
        fresh = TLSConnection(server_config(pki), "server")
        fresh.receive_bytes(hello[:cut])
        assert fresh.next_event() is NEED_DATA and fresh.data_to_send() == b""
        assert fresh.state == "START"
        fresh.receive_bytes(hello[cut:])
        assert fresh.data_to_send()[:1] == b"\x16" and fresh.state != "START"


def test_byte_at_a_time_handshake(pki: PKI) -> None:
    c, s = pair(pki)
    hello = c.data_to_send()
    for i in range(len(hello)):
        s.receive_bytes(hello[i : i + 1])
    flight = s.data_to_send()
    for i in range(len(flight) - 1):
        c.receive_bytes(flight[i : i + 1])
        assert c.next_event() is NEED_DATA
    c.receive_bytes(flight[-1:])
    assert isinstance(c.next_event(), HandshakeComplete)
    assert c.next_event() is NEED_DATA
    finished = c.data_to_send()
    for i in range(len(finished)):
        s.receive_bytes(finished[i : i + 1])
    assert isinstance(s.next_event(), HandshakeComplete)
    assert c.handshake_complete and s.handshake_complete and s.state == "CONNECTED"


def test_events_come_out_in_order_and_once(pki: PKI) -> None:
    c, s = _connected(pki)
    for chunk in (b"one", b"two", b"three"):
        c.send_application_data(chunk)
    s.receive_bytes(c.data_to_send())
    assert s.next_event() == ApplicationData(b"one")
    assert s.events() == [ApplicationData(b"two"), ApplicationData(b"three")]
    assert s.next_event() is NEED_DATA and s.events() == []


def test_empty_application_data_is_not_an_event(pki: PKI) -> None:
    c, s = _connected(pki)
    c.send_application_data(b"")
    wire = c.data_to_send()
    assert wire  # an empty application_data record is allowed on the wire (RFC 9846 section 5.1)
    s.receive_bytes(wire)
    assert s.next_event() is NEED_DATA


def test_writing_before_the_handshake_is_a_usage_error_not_a_protocol_error(pki: PKI) -> None:
    c, _ = pair(pki)
    with pytest.raises(RuntimeError):
        c.send_application_data(b"early")
    with pytest.raises(RuntimeError):
        c.send_key_update()
    assert c.error is None and c.state != "ERROR"
    assert c.data_to_send()[:1] == b"\x16"


# -- after a fatal error, every entry point raises again ---------------------------------------------------------


def test_error_we_detect_sends_the_alert_and_sticks(pki: PKI) -> None:
    c, _ = pair(pki)
    c.data_to_send()
    with pytest.raises(TLSAlertError) as info:
        c.receive_bytes(b"\x63\x03\x03\x00\x01\x00")  # unknown record content type
    assert info.value.alert == A.unexpected_message and info.value.sent_by_us
    assert c.data_to_send() == _plain_alert(2, A.unexpected_message)  # still delivered after the failure
    _stays_failed(c, info.value)


def test_fatal_alert_from_the_peer_is_not_answered_and_sticks(pki: PKI) -> None:
    c, _ = pair(pki)
    c.data_to_send()
    with pytest.raises(TLSAlertError) as info:
        c.receive_bytes(_plain_alert(2, A.handshake_failure))
    assert info.value.alert == A.handshake_failure and not info.value.sent_by_us
    assert c.data_to_send() == b""  # RFC 9846 section 6: no alert in answer to a fatal alert
    _stays_failed(c, info.value)


def test_warning_level_does_not_make_an_error_alert_harmless(pki: PKI) -> None:
    # RFC 9846 section 6: the level is ignored; every alert but close_notify and user_canceled is fatal
    c, _ = pair(pki)
    c.data_to_send()
    with pytest.raises(TLSAlertError) as info:
        c.receive_bytes(_plain_alert(1, A.unknown_ca))
    assert info.value.alert == A.unknown_ca and not info.value.sent_by_us
    _stays_failed(c, info.value)


def test_unknown_alert_code_from_the_peer_is_fatal(pki: PKI) -> None:
    c, _ = pair(pki)
    c.data_to_send()
    with pytest.raises(TLSAlertError) as info:
        c.receive_bytes(_plain_alert(1, 201))
    assert info.value.alert == 201 and not info.value.sent_by_us


def test_error_after_the_handshake_goes_out_protected(pki: PKI) -> None:
    c, s = _connected(pki)
    c.send_application_data(b"payload")
    record = bytearray(c.data_to_send())
    record[-1] ^= 1
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(bytes(record))
    assert info.value.alert == A.bad_record_mac
    alert = s.data_to_send()
    assert alert[:1] == b"\x17"  # an encrypted record, not a plaintext alert
    _stays_failed(s, info.value)
    with pytest.raises(TLSAlertError) as received:
        c.receive_bytes(alert)
    assert received.value.alert == A.bad_record_mac and not received.value.sent_by_us
    _stays_failed(c, received.value)


def test_malformed_alert_is_decode_error(pki: PKI) -> None:
    c, _ = pair(pki)
    c.data_to_send()
    with pytest.raises(TLSAlertError) as info:
        c.receive_bytes(b"\x15\x03\x03\x00\x03\x02\x28\x00")
    assert info.value.alert == A.decode_error and info.value.sent_by_us


def test_application_data_before_the_handshake_is_unexpected_message(pki: PKI) -> None:
    s = TLSConnection(server_config(pki), "server")
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(b"\x17\x03\x03\x00\x05hello")
    assert info.value.alert == A.unexpected_message


# -- record-level rules the facade enforces ----------------------------------------------------------------------


def test_change_cipher_spec_is_dropped_during_the_handshake(pki: PKI) -> None:
    c, s = pair(pki)
    s.receive_bytes(c.data_to_send() + CCS)
    flight = s.data_to_send()
    c.receive_bytes(CCS + flight)
    assert isinstance(c.next_event(), HandshakeComplete)


def test_change_cipher_spec_before_the_client_hello_is_unexpected_message(pki: PKI) -> None:
    # RFC 9846 section 5: only "after the first ClientHello message has been sent or received"
    s = TLSConnection(server_config(pki), "server")
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(CCS)
    assert info.value.alert == A.unexpected_message


def test_change_cipher_spec_with_another_value_is_unexpected_message(pki: PKI) -> None:
    c, s = pair(pki)
    s.receive_bytes(c.data_to_send())
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(b"\x14\x03\x03\x00\x01\x02")
    assert info.value.alert == A.unexpected_message


def test_change_cipher_spec_after_the_handshake_is_unexpected_message(pki: PKI) -> None:
    # RFC 9846 section 5: dropped only "before the peer's Finished message has been received"
    c, _ = _connected(pki)
    with pytest.raises(TLSAlertError) as info:
        c.receive_bytes(CCS)
    assert info.value.alert == A.unexpected_message


def test_other_record_inside_a_split_handshake_message_is_unexpected_message(pki: PKI) -> None:
    # RFC 9846 section 5.1: handshake messages must not be interleaved with other record types
    c, s = pair(pki)
    hello = c.data_to_send()[5:]
    first = b"\x16\x03\x01" + (10).to_bytes(2, "big") + hello[:10]
    s.receive_bytes(first)
    assert s.next_event() is NEED_DATA
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(CCS)
    assert info.value.alert == A.unexpected_message


def test_handshake_message_split_over_records_is_reassembled(pki: PKI) -> None:
    c, s = pair(pki)
    hello = c.data_to_send()[5:]
    records = b"".join(
        b"\x16\x03\x01" + len(part).to_bytes(2, "big") + part for part in (hello[:7], hello[7:100], hello[100:])
    )
    s.receive_bytes(records)
    assert s.data_to_send()[:1] == b"\x16"


def test_handshake_message_spanning_a_key_change_is_unexpected_message(pki: PKI) -> None:
    # RFC 9846 section 5.1: the ServerHello record must end where the handshake keys start
    c, s = pair(pki)
    s.receive_bytes(c.data_to_send())
    flight = _records(s.data_to_send())
    server_hello = flight[0]
    assert server_hello[:1] == b"\x16" and server_hello[5] == 2
    payload = server_hello[5:] + b"\x08\x00"  # the first bytes of EncryptedExtensions, in the clear
    bad = b"\x16\x03\x03" + len(payload).to_bytes(2, "big") + payload
    with pytest.raises(TLSAlertError) as info:
        c.receive_bytes(bad)
    assert info.value.alert == A.unexpected_message and info.value.sent_by_us


# -- close -------------------------------------------------------------------------------------------------------


def test_close_sends_close_notify(pki: PKI) -> None:
    c, s = _connected(pki)
    c.close()
    wire = c.data_to_send()
    assert len(_records(wire)) == 1 and wire[:1] == b"\x17"  # one protected record
    s.receive_bytes(wire)
    assert s.events() == [CloseNotifyReceived()]


def test_close_before_any_keys_is_a_plaintext_warning_close_notify(pki: PKI) -> None:
    s = TLSConnection(server_config(pki), "server")
    s.close()
    assert s.data_to_send() == _plain_alert(1, A.close_notify)


def test_close_is_idempotent_and_ends_writing_only(pki: PKI) -> None:
    c, s = _connected(pki)
    c.close()
    s.receive_bytes(c.data_to_send())
    c.close()
    assert c.data_to_send() == b""
    with pytest.raises(RuntimeError):
        c.send_application_data(b"late")
    with pytest.raises(RuntimeError):
        c.send_key_update()
    # the other direction still works (half-close) until the peer closes too
    s.send_application_data(b"reply")
    s.close()
    c.receive_bytes(s.data_to_send())
    assert c.events() == [ApplicationData(b"reply"), CloseNotifyReceived()]


def test_bytes_after_close_notify_are_ignored(pki: PKI) -> None:
    # RFC 9846 section 6.1: "Any data received after a closure alert has been received MUST be ignored."
    c, s = _connected(pki)
    c.send_application_data(b"before")
    c.close()
    wire = c.data_to_send()
    s.receive_bytes(wire + b"\x63garbage that would otherwise be fatal")
    assert s.events() == [ApplicationData(b"before"), CloseNotifyReceived()]
    s.receive_bytes(b"\x00" * 10)
    assert s.next_event() is NEED_DATA and s.error is None


def test_user_canceled_is_reported_not_fatal(pki: PKI) -> None:
    # RFC 9846 section 6.1: user_canceled is followed by close_notify and is not an error
    c, _ = pair(pki)
    c.data_to_send()
    c.receive_bytes(_plain_alert(1, A.user_canceled))
    assert c.events() == [AlertReceived(A.user_canceled, 1)]
    assert c.error is None
    c.receive_bytes(_plain_alert(1, A.close_notify))
    assert c.events() == [CloseNotifyReceived()]
    assert c.error is None


def test_negotiated_version_is_known_once_the_deciding_hello_is_processed(pki: PKI) -> None:
    """``negotiated_version``: None until the hello that picks the version is processed (the server's ClientHello,
    the client's ServerHello), 0x0304 from then on, before the handshake completes (``version`` waits for that)."""
    c, s = pair(pki)
    hello = c.data_to_send()
    assert c.negotiated_version is None and s.negotiated_version is None
    s.receive_bytes(hello)
    flight = s.data_to_send()
    assert s.negotiated_version == 0x0304 and s.version is None
    assert c.negotiated_version is None
    c.receive_bytes(_records(flight)[0])  # the ServerHello alone
    assert c.negotiated_version == 0x0304 and c.version is None


# -- RFC 9846 section 5.5: key usage limits ------------------------------------------------------------------------


def _record_sizes(data: bytes) -> list[int]:
    sizes, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at + 3 : at + 5], "big")
        sizes.append(size)
        at += 5 + size
    return sizes


@pytest.mark.parametrize("limit", [2, 3, 5])
def test_key_update_before_the_injected_record_limit(pki: PKI, limit: int) -> None:
    """With a limit of N records per key, every key protects at most N records: the writer sends a KeyUpdate as the
    N-th, and the reader follows the new keys (all data arrives)."""
    from engine.tls import ApplicationData, KeyUpdateReceived

    c, s = pair(pki, {"key_usage_limit": limit})
    pump(c, s)
    c.events()
    s.events()
    chunks = [bytes([i]) * 100 for i in range(12)]
    sent = bytearray()
    key_updates = 0
    for chunk in chunks:
        c.send_application_data(chunk)
        sent += c.data_to_send()
    s.receive_bytes(bytes(sent))
    events = s.events()
    got = b"".join(e.data for e in events if isinstance(e, ApplicationData))
    key_updates = sum(isinstance(e, KeyUpdateReceived) for e in events)
    assert got == b"".join(chunks)
    # every run of (limit - 1) data records is followed by a KeyUpdate record under the same key
    assert key_updates == (len(chunks) - 1) // (limit - 1), (limit, key_updates, _record_sizes(bytes(sent)))


def test_large_write_is_split_around_key_updates(pki: PKI) -> None:
    from engine.tls import ApplicationData, KeyUpdateReceived

    c, s = pair(pki, {"key_usage_limit": 2})
    pump(c, s)
    s.events()
    data = bytes(range(256)) * 300  # 76,800 bytes: five records
    c.send_application_data(data)
    s.receive_bytes(c.data_to_send())
    events = s.events()
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == data
    assert sum(isinstance(e, KeyUpdateReceived) for e in events) == 4


def test_default_limit_only_for_aes_gcm(pki: PKI) -> None:
    from engine.tls.connection import AES_GCM_RECORD_LIMIT

    assert AES_GCM_RECORD_LIMIT == 1 << 24 < int(2**24.5)
    for suite, limited in ((0x1301, True), (0x1302, True), (0x1303, False)):
        c, s = pair(pki, {"cipher_suites": (suite,)}, {"cipher_suites": (suite,)})
        pump(c, s)
        assert (c._key_usage_limit() == AES_GCM_RECORD_LIMIT) is limited


def test_receive_record_with_header_and_body_apart_is_receive_bytes(pki: PKI) -> None:
    """receive_record(header, body) (engine.ssl's read without read-ahead) gives the same events as
    receive_bytes(header + body): application data, an empty record, a KeyUpdate, close_notify; a tampered record is
    bad_record_mac and sticks."""
    c, s = _connected(pki)
    s.events()
    c.events()
    c.send_application_data(b"a" * 20000)  # two records
    c.send_application_data(b"")
    c.send_key_update(True)
    c.send_application_data(b"after the update")
    c.close()
    for rec in _records(c.data_to_send()):
        s.receive_record(rec[:5], rec[5:])
    got = s.events()
    data = b"".join(e.data for e in got if isinstance(e, ApplicationData))
    assert data == b"a" * 20000 + b"after the update"
    assert isinstance(got[-1], CloseNotifyReceived)
    assert s.key_update_owed  # the answer to update_requested goes out with the next write
    c2, s2 = _connected(pki)
    c2.send_application_data(b"x" * 100)
    rec = bytearray(c2.data_to_send())
    rec[-1] ^= 1
    with pytest.raises(TLSAlertError) as info:
        s2.receive_record(bytes(rec[:5]), bytes(rec[5:]))
    assert info.value.alert == A.bad_record_mac
    assert s2.data_to_send()  # the fatal alert, protected
    _stays_failed(s2, info.value)
