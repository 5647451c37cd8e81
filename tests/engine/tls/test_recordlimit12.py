"""record_size_limit (RFC 8449) in TLS 1.2: negotiated in the hellos, the limit counts the plaintext of protected
records (no content type byte, at most 2^14), unprotected records are not subject to it.

Oracle beyond our own core: tlslite-ng, which implements RFC 8449 for TLS 1.2 too and refuses records above its
announced limit."""

from __future__ import annotations

import socket

import pytest
from test_interop_tlslite import _drive, _run, _settings
from tls13_testlib import PKI, pair, pump, server_config

from engine.tls import AlertDescription, ApplicationData, HandshakeComplete, TLSAlertError, TLSConnection

V12: dict[str, object] = {"supported_versions": (0x0303,)}
BOTH: dict[str, object] = {"supported_versions": (0x0304, 0x0303)}
RSL = 28


def _records(data: bytes) -> list[tuple[int, int]]:
    out, at = [], 0
    while at < len(data):
        out.append((data[at], int.from_bytes(data[at + 3 : at + 5], "big")))
        at += 5 + out[-1][1]
    return out


def _data(conn: TLSConnection) -> bytes:
    return b"".join(e.data for e in conn.events() if isinstance(e, ApplicationData))


def _sealed_sizes(conn: TLSConnection, payload: bytes) -> tuple[list[int], bytes]:
    """Plaintext sizes of the application data records ``conn`` writes for ``payload`` (AES-GCM in TLS 1.2: 8 bytes of
    explicit nonce and a 16-byte tag around each plaintext)."""
    conn.send_application_data(payload)
    wire = conn.data_to_send()
    return [n - 24 for t, n in _records(wire) if t == 23], wire


def _aes_gcm_pair(pki: PKI, ckw: dict[str, object], skw: dict[str, object]) -> tuple[TLSConnection, TLSConnection]:
    suites = {"cipher_suites12": (0xC02B, 0xC02F)}
    return pair(pki, {**ckw, **suites}, {**skw, **suites})


@pytest.mark.parametrize("client_versions", [V12, BOTH], ids=["tls12-only", "tls13-and-12"])
def test_each_side_keeps_to_the_other_sides_limit(pki: PKI, client_versions: dict[str, object]) -> None:
    c, s = _aes_gcm_pair(pki, {**client_versions, "record_size_limit": 100}, {**V12, "record_size_limit": 200})
    pump(c, s)
    assert next(e for e in c.events() if isinstance(e, HandshakeComplete)).version == 0x0303
    s.events()
    payload = bytes(range(256)) * 4
    sizes, wire = _sealed_sizes(s, payload)
    assert max(sizes) == 100 and len(sizes) == -(-len(payload) // 100)  # the whole limit: no content type byte
    c.receive_bytes(wire)
    assert _data(c) == payload
    sizes, wire = _sealed_sizes(c, payload)
    assert max(sizes) == 200
    s.receive_bytes(wire)
    assert _data(s) == payload


def test_the_hellos_carry_it_and_a_tls12_limit_is_at_most_2_14(pki: PKI) -> None:
    c, s = pair(pki, {**V12, "record_size_limit": 20000}, {**V12, "record_size_limit": 30000})
    hello = c.data_to_send()
    assert (RSL.to_bytes(2, "big") + b"\x00\x02\x40\x00") in hello  # 16384 in the ClientHello
    s.receive_bytes(hello)
    flight = s.data_to_send()
    assert (RSL.to_bytes(2, "big") + b"\x00\x02\x40\x00") in flight  # and in the ServerHello
    c.receive_bytes(flight)
    pump(c, s)
    assert any(isinstance(e, HandshakeComplete) for e in c.events())


def test_no_limit_without_both_sides(pki: PKI) -> None:
    for client_limit, server_limit in ((None, 100), (100, None)):
        c, s = _aes_gcm_pair(pki, {**V12, "record_size_limit": client_limit},
                             {**V12, "record_size_limit": server_limit})
        pump(c, s)
        assert _sealed_sizes(s, bytes(5000))[0] == [5000] and _sealed_sizes(c, bytes(5000))[0] == [5000]


def test_a_record_above_our_limit_is_record_overflow(pki: PKI) -> None:
    c, s = pair(pki, {**V12, "record_size_limit": 1000}, {**V12, "record_size_limit": 100})
    pump(c, s)
    c._record.send_limit = 16385  # a peer that ignores our limit
    c.send_application_data(bytes(101))
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(c.data_to_send())
    assert info.value.alert == AlertDescription.record_overflow and info.value.sent_by_us


def test_the_limit_holds_for_a_record_handed_over_whole(pki: PKI) -> None:
    """receive_record (engine.ssl's bulk read path, header and body apart) keeps the same limit: the limit itself
    comes back as the data, one byte more is record_overflow."""
    c, s = pair(pki, {**V12, "record_size_limit": 1000}, {**V12, "record_size_limit": 100})
    pump(c, s)
    s.events()
    c.send_application_data(bytes(100))
    wire = c.data_to_send()
    assert s.receive_record(wire[:5], wire[5:], direct=True) == bytes(100)
    c._record.send_limit = 16385
    c.send_application_data(bytes(101))
    wire = c.data_to_send()
    with pytest.raises(TLSAlertError) as info:
        s.receive_record(wire[:5], wire[5:], direct=True)
    assert info.value.alert == AlertDescription.record_overflow and info.value.sent_by_us


def test_exactly_the_limit_is_accepted(pki: PKI) -> None:
    c, s = pair(pki, {**V12, "record_size_limit": 1000}, {**V12, "record_size_limit": 100})
    pump(c, s)
    s.events()
    c.send_application_data(bytes(100))
    s.receive_bytes(c.data_to_send())
    assert _data(s) == bytes(100)


@pytest.mark.parametrize("limit", [64, 1000])
def test_tlslite_tls12_client_and_our_server_keep_each_others_limits(pki: PKI, limit: int) -> None:
    a, b = socket.socketpair()
    payload = bytes(range(256)) * 20
    got: list[bytes] = []
    versions: list[tuple[int, int]] = []

    def client() -> None:
        from tlslite.api import TLSConnection as TlsliteConnection

        settings = _settings()
        settings.minVersion = (3, 3)  # type: ignore[attr-defined]
        settings.maxVersion = (3, 3)  # type: ignore[attr-defined]
        settings.record_size_limit = limit  # type: ignore[attr-defined]
        conn = TlsliteConnection(b)
        conn.handshakeClientCert(settings=settings, serverName="server.example")
        versions.append(conn.version)
        conn.write(payload)
        got.append(bytes(conn.read(max=len(payload), min=len(payload))))
        conn.close()

    thread, errors = _run(client)
    ours = TLSConnection(server_config(pki, record_size_limit=100, supported_versions=(0x0303,)), "server")
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
    assert versions == [(3, 3)] and got == [payload]
    a.close()
    b.close()
