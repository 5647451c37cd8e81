"""Client state machine: negotiation outcomes and the alert each failure ends in."""

from __future__ import annotations

import datetime

import pytest
from tls13_testlib import NOW, PKI, client_config, make_leaf, pair, pump

from engine.tls import (
    NEED_DATA,
    AlertDescription,
    ApplicationData,
    HandshakeComplete,
    KeyUpdateReceived,
    NewSessionTicketReceived,
    TLSAlertError,
    TLSConnection,
)
from engine.tls.messages import (
    HRR_RANDOM,
    Finished,
    ServerHello,
    build_handshake,
    build_key_share_hrr,
    build_supported_versions_sh,
)

A = AlertDescription


def _record(msg: bytes) -> bytes:
    return b"\x16\x03\x03" + len(msg).to_bytes(2, "big") + msg


def _fails(conn: TLSConnection, data: bytes, alert: AlertDescription) -> TLSAlertError:
    with pytest.raises(TLSAlertError) as info:
        conn.receive_bytes(data)
    assert info.value.alert == alert, info.value
    return info.value


def _client(pki: PKI, **kw: object) -> TLSConnection:
    c = TLSConnection(client_config(pki, **kw), "client")
    c.data_to_send()
    return c


def test_full_handshake_and_data(pki: PKI) -> None:
    c, s = pair(pki, {"alpn_protocols": (b"h2", b"http/1.1")}, {"alpn_protocols": (b"http/1.1",), "session_tickets": 2})
    pump(c, s)
    events = c.events()
    done = events[0]
    assert isinstance(done, HandshakeComplete) and done.alpn_protocol == b"http/1.1"
    assert sum(isinstance(e, NewSessionTicketReceived) for e in events) == 2
    assert c.state == "CONNECTED" and s.state == "CONNECTED"
    c.send_application_data(b"x" * 70000)
    pump(c, s)
    assert b"".join(e.data for e in s.events() if isinstance(e, ApplicationData)) == b"x" * 70000
    assert c.next_event() is NEED_DATA


def test_unexpected_first_message_is_unexpected_message(pki: PKI) -> None:
    c = _client(pki)
    _fails(c, _record(build_handshake(Finished(bytes(32)))), A.unexpected_message)


def _server_hello(**kw: object) -> ServerHello:
    sh = ServerHello(bytes(32), b"", 0x1301, 0, [(43, build_supported_versions_sh(0x0304))])
    for k, v in kw.items():
        setattr(sh, k, v)
    return sh


def test_tls12_server_is_protocol_version(pki: PKI) -> None:
    c = _client(pki, middlebox_compat=False)
    _fails(c, _record(build_handshake(_server_hello(extensions=[]))), A.protocol_version)


def test_session_id_echo_mismatch(pki: PKI) -> None:
    c = _client(pki, middlebox_compat=False)
    _fails(c, _record(build_handshake(_server_hello(legacy_session_id_echo=b"x" * 32))), A.illegal_parameter)


def test_unoffered_cipher_suite(pki: PKI) -> None:
    c = _client(pki, middlebox_compat=False, cipher_suites=(0x1301,))
    _fails(c, _record(build_handshake(_server_hello(cipher_suite=0x1302))), A.illegal_parameter)


def test_missing_key_share(pki: PKI) -> None:
    c = _client(pki, middlebox_compat=False)
    _fails(c, _record(build_handshake(_server_hello())), A.missing_extension)


def test_second_hello_retry_request(pki: PKI) -> None:
    c = _client(pki, middlebox_compat=False)
    hrr = _server_hello(random=HRR_RANDOM, extensions=[(51, build_key_share_hrr(0x17)), (43, b"\x03\x04")])
    c.receive_bytes(_record(build_handshake(hrr)))
    assert c.data_to_send()[:1] == b"\x16"  # second ClientHello
    hrr2 = _server_hello(random=HRR_RANDOM, extensions=[(51, build_key_share_hrr(0x18)), (43, b"\x03\x04")])
    _fails(c, _record(build_handshake(hrr2)), A.unexpected_message)


def test_hrr_for_group_already_offered(pki: PKI) -> None:
    c = _client(pki, middlebox_compat=False)
    hrr = _server_hello(random=HRR_RANDOM, extensions=[(51, build_key_share_hrr(0x1D)), (43, b"\x03\x04")])
    _fails(c, _record(build_handshake(hrr)), A.illegal_parameter)


def test_unknown_ca(pki: PKI) -> None:
    c, s = pair(pki, {"trusted_roots": [pki.other_ca.cert]})
    with pytest.raises(TLSAlertError) as info:
        pump(c, s)
    assert info.value.alert == A.unknown_ca and info.value.sent_by_us


def test_wrong_hostname(pki: PKI) -> None:
    c, s = pair(pki, {"verify_host": "other.example"})
    with pytest.raises(TLSAlertError) as info:
        pump(c, s)
    assert info.value.alert == A.bad_certificate


def test_sni_is_not_the_name_verified(pki: PKI) -> None:
    """server_name is only the SNI sent; the certificate is matched against verify_host alone."""
    c, s = pair(pki, {"server_name": "other.example"})
    pump(c, s)
    assert c.handshake_complete


@pytest.mark.parametrize("server_name", [None, "server.example"])
def test_verifying_without_a_host_name_checks_the_chain_only(pki: PKI, server_name: str | None) -> None:
    c, s = pair(pki, {"server_name": server_name, "verify_host": None})
    pump(c, s)
    assert c.handshake_complete
    c, s = pair(pki, {"server_name": server_name, "verify_host": None, "trusted_roots": [pki.other_ca.cert]})
    with pytest.raises(TLSAlertError) as info:
        pump(c, s)
    assert info.value.alert == A.unknown_ca, "without a name the chain must still be verified"


def test_expired_certificate(pki: PKI) -> None:
    old = make_leaf(pki.ca, not_before=NOW - datetime.timedelta(days=5), not_after=NOW - datetime.timedelta(days=1))
    c, s = pair(pki, None, {"certificate_chain": [old.cert], "private_key": old.key})
    with pytest.raises(TLSAlertError) as info:
        pump(c, s)
    assert info.value.alert == A.certificate_expired


def test_failed_connection_stays_failed_and_sends_alert(pki: PKI) -> None:
    c, s = pair(pki, {"trusted_roots": [pki.other_ca.cert]})
    with pytest.raises(TLSAlertError) as first:
        pump(c, s)
    assert c.state == "ERROR"
    alert = c.data_to_send()
    assert alert  # the fatal alert (in the clear: the client has not switched its write keys yet)
    for call in (lambda: c.receive_bytes(b""), c.next_event, lambda: c.send_application_data(b"x"), c.close):
        with pytest.raises(TLSAlertError) as again:
            call()
        assert again.value is first.value
    # the server sees our alert as a received fatal alert
    with pytest.raises(TLSAlertError) as received:
        s.receive_bytes(alert)
    assert received.value.alert == A.unknown_ca and not received.value.sent_by_us


@pytest.mark.parametrize("key_type", ["ec384", "rsa", "ed25519"])
def test_server_key_types(pki: PKI, key_type: str) -> None:
    leaf = make_leaf(pki.ca, key_type=key_type)
    c, s = pair(pki, None, {"certificate_chain": [leaf.cert], "private_key": leaf.key})
    pump(c, s)
    done = c.next_event()
    assert isinstance(done, HandshakeComplete)
    expected = {"ec384": 0x0503, "rsa": 0x0804, "ed25519": 0x0807}[key_type]
    assert done.signature_scheme == expected


def test_key_update_both_directions(pki: PKI) -> None:
    c, s = pair(pki)
    pump(c, s)
    c.events()
    s.events()
    c.send_key_update(request=True)
    c.send_application_data(b"one")
    pump(c, s)
    assert s.events() == [KeyUpdateReceived(True), ApplicationData(b"one")]
    # the server's answer waits for its next application data (RFC 9846 section 4.7.3; OpenSSL 3.0 alike)
    assert c.events() == [] and s.key_update_owed
    s.send_application_data(b"two")
    pump(c, s)
    assert c.events() == [KeyUpdateReceived(False), ApplicationData(b"two")]  # the answer, then the data
    assert not s.key_update_owed
    s.send_key_update(request=False)
    s.send_application_data(b"three")
    pump(c, s)
    assert c.events() == [KeyUpdateReceived(False), ApplicationData(b"three")]
    assert s.events() == []


def test_client_certificate_optional_and_absent(pki: PKI) -> None:
    c, s = pair(pki, None, {"request_client_certificate": True})
    pump(c, s)
    done = s.next_event()
    assert isinstance(done, HandshakeComplete) and done.peer_certificates == []


def test_client_certificate_sent(pki: PKI) -> None:
    c, s = pair(
        pki,
        {"certificate_chain": [pki.client.cert], "private_key": pki.client.key},
        {"require_client_certificate": True},
    )
    pump(c, s)
    done = s.next_event()
    assert isinstance(done, HandshakeComplete) and done.peer_certificates == [pki.client.cert]


def test_hybrid_mlkem_group_between_our_roles(pki: PKI) -> None:
    from engine.tls.keyexchange import HAVE_MLKEM

    if not HAVE_MLKEM:
        pytest.skip("cryptography build without ML-KEM")
    c, s = pair(pki, {"groups": (0x11EC, 0x1D)}, {"groups": (0x11EC, 0x1D)})
    pump(c, s)
    done = c.next_event()
    assert isinstance(done, HandshakeComplete) and done.group == 0x11EC and not done.hello_retry_request
