"""Record layer (RFC 9846 section 5): framing, limits, AEAD, nonces, padding, need-more-data."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tls13_testlib import Step, Trace

from engine.tls.alerts import AlertDescription, TLSAlertError
from engine.tls.keyschedule import CIPHER_SUITES, traffic_keys
from engine.tls.record import AEAD13, MAX_PLAINTEXT, ContentType, Epoch, RecordLayer

SECRET = bytes(range(32))


def _pair(code: int = 0x1301, padding: int = 0) -> tuple[RecordLayer, RecordLayer]:
    suite = CIPHER_SUITES[code]
    w = RecordLayer((lambda t, n: padding) if padding else None)
    r = RecordLayer()
    w.install_write_key(AEAD13(suite, SECRET), Epoch.application)
    r.install_read_key(AEAD13(suite, SECRET), Epoch.application)
    return w, r


@pytest.mark.parametrize("code", [0x1301, 0x1302, 0x1303])
def test_protected_round_trip_each_suite(code: int) -> None:
    w, r = _pair(code)
    wire = w.seal(ContentType.application_data, b"hello") + w.seal(ContentType.handshake, b"\x18\x00\x00\x01\x00")
    r.feed(wire)
    assert r.next_record() == (ContentType.application_data, b"hello")
    assert r.next_record() == (ContentType.handshake, b"\x18\x00\x00\x01\x00")
    assert r.next_record() is None


def test_decrypts_rfc8448_server_flight(rfc8448: dict[str, list[Step]]) -> None:
    t = Trace(rfc8448["Simple 1-RTT Handshake"])
    r = RecordLayer()
    secret = t.get("server", 'derive secret "tls13 s hs traffic"', "expanded")
    r.install_read_key(AEAD13(CIPHER_SUITES[0x1301], secret), Epoch.handshake)
    records = [s.fields for s in t.steps if s.role == "server" and "complete record" in s.fields]
    r.feed(records[1]["complete record"])
    assert r.next_record() == (ContentType.handshake, records[1]["payload"])


def test_traffic_key_and_iv_match_rfc8448(rfc8448: dict[str, list[Step]]) -> None:
    t = Trace(rfc8448["Simple 1-RTT Handshake"])
    secret = t.get("server", "derive write traffic keys for handshake data", "PRK")
    key, iv = traffic_keys(CIPHER_SUITES[0x1301], secret)
    assert key == t.get("server", "derive write traffic keys for handshake data", "key expanded")
    assert iv == t.get("server", "derive write traffic keys for handshake data", "iv expanded")


def test_need_data_byte_at_a_time() -> None:
    w, r = _pair()
    wire = w.seal(ContentType.application_data, b"x" * 100)
    for i, b in enumerate(wire):
        assert r.next_record() is None
        r.feed(bytes((b,)))
        assert r.buffered == i + 1 or i == len(wire) - 1
    assert r.next_record() == (ContentType.application_data, b"x" * 100)


def test_fragmentation_at_2_14() -> None:
    w, r = _pair()
    data = bytes(40000)
    wire = w.seal(ContentType.application_data, data)
    r.feed(wire)
    parts = []
    while (rec := r.next_record()) is not None:
        assert len(rec[1]) <= MAX_PLAINTEXT
        parts.append(rec[1])
    assert len(parts) == 3 and b"".join(parts) == data


def test_padding_is_stripped() -> None:
    w, r = _pair(padding=100)
    wire = w.seal(ContentType.application_data, b"abc")
    assert len(wire) == 5 + 3 + 1 + 100 + 16
    r.feed(wire)
    assert r.next_record() == (ContentType.application_data, b"abc")


def _raw_protected(inner: bytes, seq: int = 0) -> bytes:
    suite = CIPHER_SUITES[0x1301]
    key, iv = traffic_keys(suite, SECRET)
    nonce = (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")
    header = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big")
    return header + AESGCM(key).encrypt(nonce, inner, header)


def _expect(r: RecordLayer, wire: bytes, alert: AlertDescription) -> None:
    r.feed(wire)
    with pytest.raises(TLSAlertError) as info:
        r.next_record()
    assert info.value.alert == alert and info.value.sent_by_us


def test_all_zero_inner_plaintext_is_unexpected_message() -> None:
    _, r = _pair()
    _expect(r, _raw_protected(bytes(10)), AlertDescription.unexpected_message)


def test_inner_plaintext_overflow() -> None:
    _, r = _pair()
    _expect(r, _raw_protected(bytes(MAX_PLAINTEXT + 1) + b"\x17"), AlertDescription.record_overflow)


def test_ciphertext_length_overflow() -> None:
    _, r = _pair()
    _expect(r, b"\x17\x03\x03" + (MAX_PLAINTEXT + 257).to_bytes(2, "big"), AlertDescription.record_overflow)


def test_plaintext_length_overflow() -> None:
    _expect(RecordLayer(), b"\x16\x03\x03" + (MAX_PLAINTEXT + 1).to_bytes(2, "big"), AlertDescription.record_overflow)


def test_tampered_record_is_bad_record_mac() -> None:
    w, r = _pair()
    wire = bytearray(w.seal(ContentType.application_data, b"secret"))
    wire[-1] ^= 1
    _expect(r, bytes(wire), AlertDescription.bad_record_mac)


def test_wrong_sequence_number_is_bad_record_mac() -> None:
    _, r = _pair()
    _expect(r, _raw_protected(b"data\x17", seq=1), AlertDescription.bad_record_mac)


def test_unknown_content_type() -> None:
    _expect(RecordLayer(), b"\x63\x03\x03\x00\x01\x00", AlertDescription.unexpected_message)


def test_empty_plaintext_handshake_record() -> None:
    _expect(RecordLayer(), b"\x16\x03\x03\x00\x00", AlertDescription.unexpected_message)


def test_plaintext_handshake_after_keys() -> None:
    _, r = _pair()
    _expect(r, b"\x16\x03\x03\x00\x01\x01", AlertDescription.unexpected_message)


def test_change_cipher_spec_passes_in_clear_under_keys() -> None:
    _, r = _pair()
    r.feed(b"\x14\x03\x03\x00\x01\x01")
    assert r.next_record() == (ContentType.change_cipher_spec, b"\x01")


def test_sequence_numbers_advance_nonce() -> None:
    w, r = _pair()
    a = w.seal(ContentType.application_data, b"same")
    b = w.seal(ContentType.application_data, b"same")
    assert a != b
    r.feed(a + b)
    assert r.next_record() == r.next_record() == (ContentType.application_data, b"same")
