"""max_fragment_length (RFC 6066 section 4, engine/tls/maxfraglen.py) in TLS 1.3 and TLS 1.2: asked, echoed, kept."""

from __future__ import annotations

import pytest
from tls13_testlib import PKI, pair, pump

from engine.tls import AlertDescription, ApplicationData, TLSAlertError, TLSConnection, maxfraglen
from engine.tls.handshake12 import TLS12
from engine.tls.handshake12 import TLS13 as V13

TAG = 16
CBC_OVERHEAD = 64  # the largest TLS 1.2 expansion of a record (IV, MAC, padding)


def _sizes(data: bytes) -> list[int]:
    sizes, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at + 3 : at + 5], "big")
        sizes.append(size)
        at += 5 + size
    return sizes


def _data(conn: TLSConnection) -> bytes:
    return b"".join(e.data for e in conn.events() if isinstance(e, ApplicationData))


@pytest.mark.parametrize("version", [V13, TLS12])
@pytest.mark.parametrize("mode,limit", [(1, 512), (4, 4096)])
def test_both_sides_keep_to_the_limit(pki: PKI, version: int, mode: int, limit: int) -> None:
    c, s = pair(pki, {"max_fragment_length": mode, "supported_versions": (version,)},
                {"supported_versions": (version,)})
    c.receive_bytes(b"")
    s.receive_bytes(c.data_to_send())
    flight = s.data_to_send()
    c.receive_bytes(flight)
    pump(c, s)
    c.events()
    s.events()
    assert c.max_fragment_mode == s.max_fragment_mode == mode
    payload = bytes(range(256)) * 40
    for a, b in ((s, c), (c, s)):
        a.send_application_data(payload)
        wire = a.data_to_send()
        assert max(_sizes(wire)) <= limit + CBC_OVERHEAD and len(_sizes(wire)) == -(-len(payload) // limit)
        b.receive_bytes(wire)
        assert _data(b) == payload


def test_no_request_no_limit(pki: PKI) -> None:
    c, s = pair(pki)
    pump(c, s)
    assert c.max_fragment_mode == s.max_fragment_mode == 0


@pytest.mark.parametrize("version", [V13, TLS12])
def test_a_larger_record_is_record_overflow(pki: PKI, version: int) -> None:
    c, s = pair(pki, {"max_fragment_length": 1, "supported_versions": (version,)}, {"supported_versions": (version,)})
    pump(c, s)
    c.events()
    s.events()
    s._record.max_fragment_length = None  # the server breaks the limit
    s.send_application_data(b"x" * 513)
    with pytest.raises(TLSAlertError) as info:
        c.receive_bytes(s.data_to_send())
    assert info.value.alert == AlertDescription.record_overflow


@pytest.mark.parametrize("version", [V13, TLS12])
def test_a_larger_record_handed_over_whole_is_record_overflow(pki: PKI, version: int) -> None:
    """The same through receive_record (engine.ssl's bulk read path: header and body apart, opened from the body)."""
    c, s = pair(pki, {"max_fragment_length": 1, "supported_versions": (version,)}, {"supported_versions": (version,)})
    pump(c, s)
    c.events()
    s.events()
    s._record.max_fragment_length = None
    s.send_application_data(b"x" * 513)
    wire = s.data_to_send()
    with pytest.raises(TLSAlertError) as info:
        c.receive_record(wire[:5], wire[5:], direct=True)
    assert info.value.alert == AlertDescription.record_overflow


@pytest.mark.parametrize("version", [V13, TLS12])
def test_an_illegal_value_is_illegal_parameter(pki: PKI, version: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maxfraglen, "encode", lambda mode: b"\x05")
    c, s = pair(pki, {"max_fragment_length": 1, "supported_versions": (version,)}, {"supported_versions": (version,)})
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(c.data_to_send())
    assert info.value.alert == AlertDescription.illegal_parameter


@pytest.mark.parametrize("version", [V13, TLS12])
def test_another_echo_is_illegal_parameter(pki: PKI, version: int, monkeypatch: pytest.MonkeyPatch) -> None:
    c, s = pair(pki, {"max_fragment_length": 1, "supported_versions": (version,)}, {"supported_versions": (version,)})
    hello = c.data_to_send()
    monkeypatch.setattr(maxfraglen, "encode", lambda mode: b"\x02")
    s.receive_bytes(hello)
    with pytest.raises(TLSAlertError) as info:
        c.receive_bytes(s.data_to_send())
    assert info.value.alert == AlertDescription.illegal_parameter
