"""TLSConfig (what the application chooses) and TLSContext (the injected environment: randomness, clock, key
generation, signing, record padding), observed through the connections and the bytes they put on the wire."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from tls13_testlib import PKI, client_config, pump, server_config

from engine.tls import (
    AlertDescription,
    ApplicationData,
    HandshakeComplete,
    TLSAlertError,
    TLSConfig,
    TLSConnection,
    TLSContext,
)
from engine.tls.keyexchange import NamedGroup, PrivateKeyShare, generate_private_key
from engine.tls.messages import (
    ClientHello,
    ExtensionType,
    find_extension,
    parse_alpn,
    parse_handshake,
    parse_key_share_ch,
    parse_server_name,
)
from engine.tls.signatures import SUPPORTED_SIGNATURE_SCHEMES, PrivateKey, sign

A = AlertDescription


def _counter_random() -> Callable[[int], bytes]:
    counter = itertools.count()
    return lambda n: bytes((next(counter) + i) % 256 for i in range(n))


def _fixed_keys(group: int) -> PrivateKeyShare:
    if group == NamedGroup.x25519:
        return x25519.X25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    return generate_private_key(group)


def _client_hello(conn: TLSConnection) -> ClientHello:
    wire = conn.data_to_send()
    assert wire[0] == 22  # one handshake record holding the ClientHello
    msg = parse_handshake(wire[5:])
    assert isinstance(msg, ClientHello)
    return msg


def _handshake(
    pki: PKI, client_kw: dict[str, object], server_kw: dict[str, object], context: TLSContext | None = None
) -> tuple[TLSConnection, TLSConnection]:
    c = TLSConnection(client_config(pki, **client_kw), "client", context)
    s = TLSConnection(server_config(pki, **server_kw), "server")
    pump(c, s)
    return c, s


# -- defaults ----------------------------------------------------------------------------------------------------


def test_config_defaults() -> None:
    cfg = TLSConfig()
    assert cfg.cipher_suites == (0x1301, 0x1302, 0x1303)  # RFC 9846 section 9.1: AES-128-GCM is mandatory
    assert cfg.groups[:2] == (NamedGroup.x25519, NamedGroup.secp256r1)
    assert cfg.signature_algorithms == SUPPORTED_SIGNATURE_SCHEMES
    assert cfg.verify_peer is True  # verification is on unless turned off
    assert cfg.middlebox_compat is True
    assert cfg.certificate_chain == [] and cfg.private_key is None and cfg.trusted_roots == []
    assert cfg.server_name is None and cfg.alpn_protocols == ()
    assert cfg.session_tickets == 0 and not cfg.request_client_certificate and not cfg.require_client_certificate


def test_configs_do_not_share_mutable_defaults() -> None:
    a, b = TLSConfig(), TLSConfig()
    a.trusted_roots.append(object())  # type: ignore[arg-type]
    a.certificate_chain.append(object())  # type: ignore[arg-type]
    assert b.trusted_roots == [] and b.certificate_chain == []


def test_context_defaults_are_real_randomness_and_an_aware_utc_clock() -> None:
    ctx = TLSContext()
    assert len(ctx.random(32)) == 32 and ctx.random(32) != ctx.random(32)
    now = ctx.now()
    assert now.tzinfo is not None and now.utcoffset() == datetime.timedelta(0)
    assert ctx.sign is sign and ctx.generate_key_share is generate_private_key and ctx.record_padding is None


# -- TLSContext: everything that would be a global comes in from here --------------------------------------------


def test_fixed_context_makes_the_client_hello_reproducible(pki: PKI) -> None:
    def hello() -> bytes:
        ctx = TLSContext(random=_counter_random(), generate_key_share=_fixed_keys)
        return TLSConnection(client_config(pki), "client", ctx).data_to_send()

    assert hello() == hello()


def test_client_random_and_session_id_come_from_the_context(pki: PKI) -> None:
    calls: list[int] = []

    def rand(n: int) -> bytes:
        calls.append(n)
        return bytes([len(calls)]) * n

    ch = _client_hello(TLSConnection(client_config(pki), "client", TLSContext(random=rand)))
    assert ch.random == b"\x01" * 32
    assert ch.legacy_session_id == b"\x02" * 32  # RFC 9846 appendix E.4: non-empty in compatibility mode


def test_no_session_id_without_middlebox_compatibility(pki: PKI) -> None:
    ch = _client_hello(TLSConnection(client_config(pki, middlebox_compat=False), "client"))
    assert ch.legacy_session_id == b""


def test_key_share_comes_from_the_context_generator(pki: PKI) -> None:
    ctx = TLSContext(generate_key_share=_fixed_keys)
    ch = _client_hello(TLSConnection(client_config(pki), "client", ctx))
    key_share = find_extension(ch.extensions, ExtensionType.key_share)
    assert key_share is not None
    [entry] = parse_key_share_ch(key_share)
    fixed = _fixed_keys(NamedGroup.x25519)
    assert isinstance(fixed, x25519.X25519PrivateKey)
    assert entry.group == NamedGroup.x25519 and entry.key_exchange == fixed.public_key().public_bytes_raw()


def test_the_context_clock_decides_certificate_validity(pki: PKI) -> None:
    late = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=365)
    with pytest.raises(TLSAlertError) as info:
        _handshake(pki, {}, {}, TLSContext(now=lambda: late))
    assert info.value.alert == A.certificate_expired


def test_signing_goes_through_the_context(pki: PKI) -> None:
    signed: list[int] = []

    def signer(key: PrivateKey, scheme: int, data: bytes) -> bytes:
        signed.append(scheme)
        return sign(key, scheme, data)

    c = TLSConnection(client_config(pki), "client")
    s = TLSConnection(server_config(pki), "server", TLSContext(sign=signer))
    pump(c, s)
    assert signed == [0x0403] and c.handshake_complete


def test_a_bad_injected_signer_is_caught_by_the_peer(pki: PKI) -> None:
    def bad_signer(key: PrivateKey, scheme: int, data: bytes) -> bytes:
        return sign(key, scheme, data + b"!")

    c = TLSConnection(client_config(pki), "client")
    s = TLSConnection(server_config(pki), "server", TLSContext(sign=bad_signer))
    with pytest.raises(TLSAlertError) as info:
        pump(c, s)
    assert info.value.alert == A.decrypt_error


def test_record_padding_policy_lengthens_protected_records(pki: PKI) -> None:
    def sizes(padding: Callable[[int, int], int] | None) -> int:
        c = TLSConnection(client_config(pki), "client", TLSContext(record_padding=padding))
        s = TLSConnection(server_config(pki), "server")
        pump(c, s)
        c.send_application_data(b"hello")
        wire = c.data_to_send()
        s.receive_bytes(wire)
        assert ApplicationData(b"hello") in s.events()
        return len(wire)

    assert sizes(lambda ctype, length: 100) == sizes(None) + 100


# -- TLSConfig: what the application chooses ---------------------------------------------------------------------


def test_cipher_suites_are_offered_in_order(pki: PKI) -> None:
    ch = _client_hello(TLSConnection(client_config(pki, cipher_suites=(0x1303, 0x1301)), "client"))
    assert ch.cipher_suites == [0x1303, 0x1301]


def test_the_server_order_decides_the_cipher_suite(pki: PKI) -> None:
    c, _ = _handshake(pki, {"cipher_suites": (0x1301, 0x1302, 0x1303)}, {"cipher_suites": (0x1303, 0x1301)})
    done = c.next_event()
    assert isinstance(done, HandshakeComplete) and done.cipher_suite == 0x1303


def test_no_common_cipher_suite_is_handshake_failure(pki: PKI) -> None:
    with pytest.raises(TLSAlertError) as info:
        _handshake(pki, {"cipher_suites": (0x1301,)}, {"cipher_suites": (0x1302,)})
    assert info.value.alert == A.handshake_failure


def test_no_common_group_is_handshake_failure(pki: PKI) -> None:
    # RFC 9846 section 4.2.1 / 4.3.7: no acceptable parameters at all
    with pytest.raises(TLSAlertError) as info:
        _handshake(pki, {"groups": (NamedGroup.secp384r1,)}, {"groups": (NamedGroup.x25519,)})
    assert info.value.alert == A.handshake_failure


def test_key_share_groups_choose_the_shares_sent(pki: PKI) -> None:
    groups = (NamedGroup.x25519, NamedGroup.secp256r1)
    ch = _client_hello(TLSConnection(client_config(pki, groups=groups, key_share_groups=groups), "client"))
    key_share = find_extension(ch.extensions, ExtensionType.key_share)
    assert key_share is not None
    assert [e.group for e in parse_key_share_ch(key_share)] == list(groups)


def test_server_name_and_alpn_are_sent_and_negotiated(pki: PKI) -> None:
    cfg = client_config(pki, alpn_protocols=(b"h2", b"http/1.1"))
    c = TLSConnection(cfg, "client")
    ch = _client_hello(c)
    sni = find_extension(ch.extensions, ExtensionType.server_name)
    alpn = find_extension(ch.extensions, ExtensionType.application_layer_protocol_negotiation)
    assert sni is not None and parse_server_name(sni) == "server.example"
    assert alpn is not None and parse_alpn(alpn) == [b"h2", b"http/1.1"]
    _, s2 = _handshake(pki, {"alpn_protocols": (b"h2", b"http/1.1")}, {"alpn_protocols": (b"http/1.1",)})
    done = s2.next_event()
    assert isinstance(done, HandshakeComplete)
    assert done.server_name == "server.example" and done.alpn_protocol == b"http/1.1"


def test_verify_peer_false_accepts_an_unknown_ca(pki: PKI) -> None:
    c, _ = _handshake(pki, {"trusted_roots": [pki.other_ca.cert], "verify_peer": False}, {})
    assert c.handshake_complete


def test_verify_peer_true_rejects_an_unknown_ca(pki: PKI) -> None:
    with pytest.raises(TLSAlertError) as info:
        _handshake(pki, {"trusted_roots": [pki.other_ca.cert]}, {})
    assert info.value.alert == A.unknown_ca


def test_extension_order_is_followed(pki: PKI) -> None:
    order = (ExtensionType.signature_algorithms, ExtensionType.key_share)
    ch = _client_hello(TLSConnection(client_config(pki, extension_order=order), "client"))
    assert [t for t, _ in ch.extensions][:2] == list(order)


def test_server_certificate_and_key_are_used(pki: PKI) -> None:
    c, _ = _handshake(pki, {}, {})
    done = c.next_event()
    assert isinstance(done, HandshakeComplete)
    assert done.peer_certificates == [pki.server.cert] and done.signature_scheme == 0x0403
