"""Handshake message and extension codecs: exact round trips, decode_error on short/long/trailing bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tls13_testlib import Step

from engine.tls.alerts import AlertDescription, TLSAlertError
from engine.tls.messages import (
    Certificate,
    CertificateEntry,
    CertificateRequest,
    ClientHello,
    EncryptedExtensions,
    HandshakeType,
    HelloRetryRequest,
    KeyShareEntry,
    KeyUpdate,
    NewSessionTicket,
    ServerHello,
    build_alpn,
    build_cookie,
    build_handshake,
    build_key_share_ch,
    build_key_share_sh,
    build_server_name,
    find_extension,
    parse_alpn,
    parse_cookie,
    parse_handshake,
    parse_key_share_ch,
    parse_key_share_sh,
    parse_named_group_list,
    parse_server_name,
    parse_supported_versions_ch,
)

MESSAGE_FIELDS = (
    "ClientHello",
    "ServerHello",
    "EncryptedExtensions",
    "Certificate",
    "CertificateVerify",
    "Finished",
    "NewSessionTicket",
    "CertificateRequest",
)


def _rfc_messages(rfc8448: dict[str, list[Step]]) -> list[bytes]:
    out = []
    for steps in rfc8448.values():
        for s in steps:
            if s.title.startswith("construct a"):
                for name in MESSAGE_FIELDS:
                    raw = s.fields.get(name)
                    # the 0-RTT section also shows a ClientHello prefix without its binders; skip it
                    if raw is not None and int.from_bytes(raw[1:4], "big") == len(raw) - 4:
                        out.append(raw)
    return out


def test_every_rfc8448_message_round_trips(rfc8448: dict[str, list[Step]]) -> None:
    msgs = _rfc_messages(rfc8448)
    assert len(msgs) > 30
    for raw in msgs:
        assert build_handshake(parse_handshake(raw)) == raw


def test_rfc8448_client_hello_fields(rfc8448: dict[str, list[Step]]) -> None:
    raw = next(s.fields["ClientHello"] for s in rfc8448["Simple 1-RTT Handshake"] if "ClientHello" in s.fields)
    ch = parse_handshake(raw)
    assert isinstance(ch, ClientHello)
    assert ch.cipher_suites == [0x1301, 0x1303, 0x1302]
    sni = find_extension(ch.extensions, 0)
    assert sni is not None and parse_server_name(sni) == "server"
    groups = find_extension(ch.extensions, 10)
    assert groups is not None and parse_named_group_list(groups)[:3] == [0x1D, 0x17, 0x18]
    versions = find_extension(ch.extensions, 43)
    assert versions is not None and parse_supported_versions_ch(versions) == [0x0304]
    shares = find_extension(ch.extensions, 51)
    assert shares is not None and parse_key_share_ch(shares)[0].group == 0x1D


def test_hello_retry_request_is_recognised(rfc8448: dict[str, list[Step]]) -> None:
    raw = next(s.fields["ServerHello"] for s in rfc8448["HelloRetryRequest"] if "ServerHello" in s.fields)
    msg = parse_handshake(raw)
    assert isinstance(msg, ServerHello) and msg.is_hello_retry_request
    rebuilt = HelloRetryRequest(msg.legacy_session_id_echo, msg.cipher_suite, msg.extensions)
    assert build_handshake(rebuilt) == raw


@pytest.mark.parametrize("cut", [1, 5, 40])
def test_truncated_message_is_decode_error(rfc8448: dict[str, list[Step]], cut: int) -> None:
    for raw in _rfc_messages(rfc8448)[:12]:
        if raw[0] == HandshakeType.finished:
            continue  # opaque body: its length is checked by the state machine
        body = raw[4:-cut]
        with pytest.raises(TLSAlertError) as info:
            parse_handshake(raw[:1] + len(body).to_bytes(3, "big") + body)
        assert info.value.alert in (AlertDescription.decode_error, AlertDescription.illegal_parameter)


def test_trailing_bytes_are_decode_error(rfc8448: dict[str, list[Step]]) -> None:
    for raw in _rfc_messages(rfc8448):
        if raw[0] == HandshakeType.finished:
            continue  # Finished is opaque; its length is checked against the hash by the state machine
        body = raw[4:] + b"\x00"
        with pytest.raises(TLSAlertError) as info:
            parse_handshake(raw[:1] + len(body).to_bytes(3, "big") + body)
        assert info.value.alert == AlertDescription.decode_error


def test_header_length_mismatch_is_decode_error() -> None:
    with pytest.raises(TLSAlertError) as info:
        parse_handshake(b"\x18\x00\x00\x02\x00")
    assert info.value.alert == AlertDescription.decode_error


def test_duplicate_extension_is_illegal_parameter() -> None:
    ee = EncryptedExtensions([(0, b""), (0, b"")]).build_body()
    with pytest.raises(TLSAlertError) as info:
        EncryptedExtensions.parse(ee)
    assert info.value.alert == AlertDescription.illegal_parameter


def test_key_update_values() -> None:
    assert KeyUpdate.parse(b"\x01").request_update
    assert not KeyUpdate.parse(b"\x00").request_update
    with pytest.raises(TLSAlertError) as info:
        KeyUpdate.parse(b"\x02")
    assert info.value.alert == AlertDescription.illegal_parameter


def test_unknown_handshake_type_is_unexpected_message() -> None:
    with pytest.raises(TLSAlertError) as info:
        parse_handshake(b"\x63\x00\x00\x00")
    assert info.value.alert == AlertDescription.unexpected_message


def test_unknown_extensions_kept_opaque_and_in_order() -> None:
    exts = [(0xABCD, b"\x01\x02"), (0, build_server_name("a.example")), (0xFFFF, b"")]
    ch = ClientHello(bytes(32), b"", [0x1301], b"\x00", exts)
    back = parse_handshake(build_handshake(ch))
    assert isinstance(back, ClientHello) and back.extensions == exts


_u16 = st.integers(0, 0xFFFF)
_ext = st.tuples(_u16, st.binary(max_size=40))


@st.composite
def _unique_exts(draw: st.DrawFn) -> list[tuple[int, bytes]]:
    exts = draw(st.lists(_ext, max_size=6, unique_by=lambda e: e[0]))
    return exts


@given(
    random=st.binary(min_size=32, max_size=32),
    sid=st.binary(max_size=32),
    suites=st.lists(_u16, min_size=1, max_size=10),
    exts=_unique_exts(),
)
def test_client_hello_round_trip(random: bytes, sid: bytes, suites: list[int], exts: list[tuple[int, bytes]]) -> None:
    ch = ClientHello(random, sid, suites, b"\x00", exts)
    raw = build_handshake(ch)
    assert parse_handshake(raw) == ch
    assert build_handshake(parse_handshake(raw)) == raw


@given(
    ctx=st.binary(max_size=255),
    certs=st.lists(st.tuples(st.binary(min_size=1, max_size=60), _unique_exts()), max_size=4),
)
def test_certificate_round_trip(ctx: bytes, certs: list[tuple[bytes, list[tuple[int, bytes]]]]) -> None:
    msg = Certificate(ctx, [CertificateEntry(d, e) for d, e in certs])
    assert parse_handshake(build_handshake(msg)) == msg


@given(
    lifetime=st.integers(0, 2**32 - 1),
    age=st.integers(0, 2**32 - 1),
    nonce=st.binary(max_size=255),
    ticket=st.binary(min_size=1, max_size=300),
    exts=_unique_exts(),
)
def test_new_session_ticket_round_trip(
    lifetime: int, age: int, nonce: bytes, ticket: bytes, exts: list[tuple[int, bytes]]
) -> None:
    msg = NewSessionTicket(lifetime, age, nonce, ticket, exts)
    assert parse_handshake(build_handshake(msg)) == msg


@given(ctx=st.binary(max_size=255), exts=_unique_exts())
def test_certificate_request_round_trip(ctx: bytes, exts: list[tuple[int, bytes]]) -> None:
    msg = CertificateRequest(ctx, exts)
    assert parse_handshake(build_handshake(msg)) == msg


@given(st.lists(st.tuples(_u16, st.binary(min_size=1, max_size=80)), max_size=4))
def test_key_share_round_trip(entries: list[tuple[int, bytes]]) -> None:
    shares = [KeyShareEntry(g, k) for g, k in entries]
    assert parse_key_share_ch(build_key_share_ch(shares)) == shares
    for s in shares:
        assert parse_key_share_sh(build_key_share_sh(s)) == s


@given(st.lists(st.binary(min_size=1, max_size=20), min_size=1, max_size=5))
def test_alpn_round_trip(protocols: list[bytes]) -> None:
    assert parse_alpn(build_alpn(protocols)) == protocols


@given(st.binary(min_size=1, max_size=300))
def test_cookie_round_trip(cookie: bytes) -> None:
    assert parse_cookie(build_cookie(cookie)) == cookie


def test_empty_key_share_entry_is_decode_error() -> None:
    with pytest.raises(TLSAlertError):
        parse_key_share_ch(b"\x00\x04\x00\x1d\x00\x00")
