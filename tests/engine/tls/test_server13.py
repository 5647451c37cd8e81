"""Server state machine: ClientHello validation, HelloRetryRequest, client authentication, alerts."""

from __future__ import annotations

import pytest
from tls13_testlib import PKI, make_leaf, pair, pump, server_config

from engine.tls import AlertDescription, CloseNotifyReceived, HandshakeComplete, TLSAlertError, TLSConnection
from engine.tls.messages import (
    ClientHello,
    KeyShareEntry,
    build_handshake,
    build_key_share_ch,
    build_named_group_list,
    build_signature_schemes,
    build_supported_versions_ch,
)

A = AlertDescription
SHARE = KeyShareEntry(0x1D, bytes(range(1, 33)))


def _ch(**over: object) -> bytes:
    exts = {
        10: build_named_group_list([0x1D, 0x17]),
        51: build_key_share_ch([SHARE]),
        43: build_supported_versions_ch([0x0304]),
        13: build_signature_schemes([0x0403, 0x0804]),
    }
    for k, v in over.items():
        code = int(k[1:])
        if v is None:
            exts.pop(code, None)
        else:
            assert isinstance(v, bytes)
            exts[code] = v
    msg = build_handshake(ClientHello(bytes(32), b"", [0x1301], b"\x00", list(exts.items())))
    return b"\x16\x03\x01" + len(msg).to_bytes(2, "big") + msg


def _fails(pki: PKI, data: bytes, alert: AlertDescription, **kw: object) -> None:
    s = TLSConnection(server_config(pki, **kw), "server")
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(data)
    assert info.value.alert == alert, info.value
    assert s.data_to_send() == b"\x15\x03\x03\x00\x02\x02" + bytes((alert,))


def test_valid_hello_is_answered(pki: PKI) -> None:
    s = TLSConnection(server_config(pki), "server")
    s.receive_bytes(_ch())
    out = s.data_to_send()
    assert out[:1] == b"\x16" and s.state == "WAIT_FINISHED"


def test_no_supported_versions(pki: PKI) -> None:
    _fails(pki, _ch(x43=None), A.protocol_version)


def test_tls12_only(pki: PKI) -> None:
    _fails(pki, _ch(x43=build_supported_versions_ch([0x0303])), A.protocol_version)


def test_missing_signature_algorithms(pki: PKI) -> None:
    _fails(pki, _ch(x13=None), A.missing_extension)


def test_missing_key_share(pki: PKI) -> None:
    _fails(pki, _ch(x51=None), A.missing_extension)


def test_share_for_group_not_in_supported_groups(pki: PKI) -> None:
    _fails(pki, _ch(x10=build_named_group_list([0x17])), A.illegal_parameter)


def test_no_common_cipher_suite(pki: PKI) -> None:
    _fails(pki, _ch(), A.handshake_failure, cipher_suites=(0x1302,))


def test_no_common_signature_scheme(pki: PKI) -> None:
    _fails(pki, _ch(x13=build_signature_schemes([0x0807])), A.handshake_failure)


def test_no_common_group(pki: PKI) -> None:
    _fails(pki, _ch(), A.handshake_failure, groups=(0x18,))


def test_bad_x25519_share(pki: PKI) -> None:
    _fails(pki, _ch(x51=build_key_share_ch([KeyShareEntry(0x1D, b"\x01" * 31)])), A.illegal_parameter)


def test_second_hello_without_requested_share(pki: PKI) -> None:
    s = TLSConnection(server_config(pki, groups=(0x17, 0x1D)), "server")
    s.receive_bytes(_ch())
    assert s.data_to_send()[5 + 6 : 5 + 38].hex().startswith("cf21ad74")  # HelloRetryRequest random
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(_ch())
    assert info.value.alert == A.illegal_parameter


def test_ccs_before_client_hello_is_unexpected(pki: PKI) -> None:
    _fails(pki, b"\x14\x03\x03\x00\x01\x01", A.unexpected_message)


def test_application_data_before_handshake(pki: PKI) -> None:
    _fails(pki, b"\x17\x03\x03\x00\x01\x00", A.unexpected_message)


def test_hrr_with_compat_ccs_and_cookie(pki: PKI) -> None:
    c, s = pair(pki, {"key_share_groups": (0x1D,)}, {"groups": (0x18, 0x1D), "hrr_cookie": lambda h: b"c" + h})
    pump(c, s)
    done = s.next_event()
    assert isinstance(done, HandshakeComplete) and done.hello_retry_request and done.group == 0x18


def test_client_certificate_required_but_missing(pki: PKI) -> None:
    c, s = pair(pki, None, {"require_client_certificate": True})
    with pytest.raises(TLSAlertError) as info:
        pump(c, s)
    assert info.value.alert == A.certificate_required and info.value.sent_by_us


def test_client_certificate_from_unknown_ca(pki: PKI) -> None:
    stranger = make_leaf(pki.other_ca, "client.example", client=True)
    c, s = pair(
        pki, {"certificate_chain": [stranger.cert], "private_key": stranger.key}, {"require_client_certificate": True}
    )
    with pytest.raises(TLSAlertError) as info:
        pump(c, s)
    assert info.value.alert == A.unknown_ca


def test_close_notify_both_ways(pki: PKI) -> None:
    c, s = pair(pki)
    pump(c, s)
    c.close()
    pump(c, s)
    assert CloseNotifyReceived() in s.events()
    s.close()
    pump(c, s)
    assert CloseNotifyReceived() in c.events()
    with pytest.raises(RuntimeError):
        c.send_application_data(b"late")


# -- hellos from before TLS 1.2 (RFC 9846 section 4.1.2, appendices E.2 and E.5) ----------------------------------


def _with_legacy_version(hello: bytes, version: int) -> bytes:
    # record header (5) + handshake header (4), then ClientHello.legacy_version
    return hello[:9] + version.to_bytes(2, "big") + hello[11:]


@pytest.mark.parametrize("version", [0x0300, 0x0301, 0x0302, 0x0002])
@pytest.mark.parametrize("both", [False, True], ids=["tls13-only", "tls12-too"])
def test_legacy_version_below_tls12_is_refused(pki: PKI, version: int, both: bool) -> None:
    versions = {"supported_versions": (0x0304, 0x0303)} if both else {}
    _fails(pki, _with_legacy_version(_ch(), version), A.protocol_version, **versions)
    _fails(pki, _with_legacy_version(_ch(e43=None), version), A.protocol_version, **versions)


def test_legacy_version_tls12_is_served(pki: PKI) -> None:
    s = TLSConnection(server_config(pki, supported_versions=(0x0304, 0x0303)), "server")
    s.receive_bytes(_with_legacy_version(_ch(), 0x0303))
    assert s.data_to_send()[:1] == b"\x16"


SSL2_HELLO = bytes.fromhex(
    "802e"  # SSL 2.0 record header: high bit set, 46 bytes follow
    "01" "0303" "0015" "0000" "0010"  # CLIENT-HELLO, version, cipher specs / session id / challenge lengths
    "00c02f00c03000009c00009d00002f000035000033"  # seven 3-byte cipher specs
    "000102030405060708090a0b0c0d0e0f"  # challenge
)


@pytest.mark.parametrize("cut", [len(SSL2_HELLO), 5])
def test_ssl2_client_hello_gets_a_prompt_alert(pki: PKI, cut: int) -> None:
    """RFC 9846 appendix E.5: not accepted; answered with an alert as soon as its first bytes show what it is."""
    s = TLSConnection(server_config(pki, supported_versions=(0x0304, 0x0303)), "server")
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(SSL2_HELLO[:cut])
    assert info.value.sent_by_us and s.data_to_send()[:1] == b"\x15"
