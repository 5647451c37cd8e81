"""The case helpers that read a handshake off the wire without keys (specs.cases._resumed.on_wire,
specs.cases._tls12wire.change_cipher_specs), on hand-built TLS 1.2 record streams: what decides, and what must
decide nothing."""

from __future__ import annotations

from specs.cases._resumed import on_wire
from specs.cases._tls12wire import change_cipher_specs

SID = bytes(range(1, 33))
OTHER_SID = bytes(range(2, 34))


def _record(ctype: int, fragment: bytes) -> bytes:
    return bytes([ctype, 3, 3]) + len(fragment).to_bytes(2, "big") + fragment


def _hs(msg_type: int, body: bytes) -> bytes:
    return _record(22, bytes([msg_type]) + len(body).to_bytes(3, "big") + body)


def _client_hello(sid: bytes) -> bytes:
    return _hs(1, b"\x03\x03" + bytes(32) + bytes([len(sid)]) + sid + b"\x00\x02\xc0\x2f" + b"\x01\x00")


def _server_hello(sid: bytes) -> bytes:
    return _hs(2, b"\x03\x03" + bytes(32) + bytes([len(sid)]) + sid + b"\xc0\x2f\x00")


CCS = _record(20, b"\x01")
WARNING = _record(21, b"\x01\x70")  # unrecognized_name, warning level
FATAL = _record(21, b"\x02\x28")  # handshake_failure
FULL_REST = _hs(11, b"\x00\x00\x00") + _hs(12, b"") + _hs(14, b"") + _hs(4, bytes(6)) + CCS


def test_a_full_handshake_with_a_warning_after_the_server_hello_is_full() -> None:
    wire, why = on_wire(_client_hello(b""), _server_hello(SID) + WARNING + FULL_REST)
    assert wire is False, why


def test_an_abbreviated_flight_ending_at_the_ccs_is_resumed() -> None:
    for between in (b"", _hs(4, bytes(6)), WARNING):
        wire, why = on_wire(_client_hello(SID), _server_hello(SID) + between + CCS)
        assert wire is True, why


def test_a_flight_that_does_not_reach_the_ccs_decides_nothing() -> None:
    for rest in (b"", WARNING, FATAL, _record(23, bytes(40))):
        wire, why = on_wire(_client_hello(SID), _server_hello(SID) + rest)
        assert wire is None, why


def test_a_session_id_echo_that_contradicts_the_flight_decides_nothing() -> None:
    assert on_wire(_client_hello(SID), _server_hello(OTHER_SID) + CCS)[0] is None
    assert on_wire(_client_hello(SID), _server_hello(SID) + FULL_REST)[0] is None
    assert on_wire(_client_hello(b""), _server_hello(OTHER_SID) + CCS)[0] is True  # nothing offered to echo


def test_change_cipher_specs_counts_whole_ccs_records() -> None:
    assert change_cipher_specs(_server_hello(SID) + CCS + _record(22, bytes(40)) + CCS) == 2
    assert change_cipher_specs(CCS[:-1]) == 0


def _server_hello13(random: bytes, *extensions: tuple[int, bytes]) -> bytes:
    exts = b"".join(t.to_bytes(2, "big") + len(v).to_bytes(2, "big") + v for t, v in extensions)
    body = b"\x03\x03" + random + b"\x00" + b"\x13\x01\x00" + len(exts).to_bytes(2, "big") + exts
    return _hs(2, body)


def test_tls13_reads_the_server_hello_after_a_hello_retry_request() -> None:
    from specs.cases._resumed import HRR_RANDOM, PRE_SHARED_KEY, SUPPORTED_VERSIONS

    version = (SUPPORTED_VERSIONS, b"\x03\x04")
    hrr = _server_hello13(HRR_RANDOM, version, (51, b"\x00\x17"))  # key_share: the group asked for
    resumed = _server_hello13(bytes(32), version, (PRE_SHARED_KEY, b"\x00\x00"))
    full = _server_hello13(bytes(32), version)
    encrypted = _record(23, bytes(40))
    assert on_wire(b"", hrr + CCS + resumed + encrypted)[0] is True
    assert on_wire(b"", hrr + CCS + full + encrypted)[0] is False
    assert on_wire(b"", hrr + CCS)[0] is None  # an HelloRetryRequest is not the ServerHello
