"""TLS 1.2 interop against the system OpenSSL through the stdlib ``ssl`` module (SSLObject over MemoryBIO), in
memory: both roles, every suite (ECDSA and RSA certificates), every group, encrypt-then-MAC on and off, version
negotiation between 1.2 and 1.3 in both roles, renegotiation started by OpenSSL, bulk data and close_notify."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from test_interop_stdlib import Peer, _pem_files, pump
from tls13_testlib import PKI, Identity, client_config, make_leaf, server_config

from engine.tls import AlertDescription, ApplicationData, HandshakeComplete, TLSAlertError, TLSConnection
from engine.tls.events import Event
from engine.tls.suites12 import SUITES12, Authentication

V12 = (0x0303,)
BOTH = (0x0304, 0x0303)
GROUPS = {0x1D: "X25519", 0x17: "prime256v1", 0x18: "secp384r1", 0x19: "secp521r1"}
# every suite with encrypt-then-MAC offered; the CBC suites also without it (MAC-then-encrypt)
CASES = [(s, True) for s in SUITES12] + [(s, False) for s in SUITES12 if not SUITES12[s].is_aead]
CASE_IDS = [f"{SUITES12[s].openssl_name}{'' if etm else '-mte'}" for s, etm in CASES]


@pytest.fixture(scope="module")
def rsa_server(pki: PKI) -> Identity:
    return make_leaf(pki.ca, key_type="rsa")


def _identity(pki: PKI, rsa_server: Identity, suite: int) -> Identity:
    return rsa_server if SUITES12[suite].auth is Authentication.RSA else pki.server


def _ca_pem(pki: PKI) -> str:
    return pki.ca.cert.public_bytes(serialization.Encoding.PEM).decode()


def openssl_server12(ident: Identity, tmp: Path, *, ciphers: str | None = None, max13: bool = False) -> Peer:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3 if max13 else ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(*_pem_files(tmp, ident, "server"))
    if ciphers:
        ctx.set_ciphers(ciphers)
    return Peer(ctx, server_side=True)


def openssl_client12(pki: PKI, *, ciphers: str | None = None, curve: str | None = None, max13: bool = False) -> Peer:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3 if max13 else ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cadata=_ca_pem(pki))
    if ciphers:
        ctx.set_ciphers(ciphers)
    if curve:
        ctx.set_ecdh_curve(curve)
    return Peer(ctx, server_side=False, hostname="server.example")


def _done(events: list[Event]) -> HandshakeComplete:
    done = [e for e in events if isinstance(e, HandshakeComplete)]
    assert len(done) == 1, events
    return done[0]


@pytest.mark.parametrize(("suite", "etm"), CASES, ids=CASE_IDS)
def test_our_client_each_suite(pki: PKI, rsa_server: Identity, tmp_path: Path, suite: int, etm: bool) -> None:
    peer = openssl_server12(_identity(pki, rsa_server, suite), tmp_path, ciphers=SUITES12[suite].openssl_name)
    ours = TLSConnection(
        client_config(pki, supported_versions=V12, cipher_suites12=(suite,), encrypt_then_mac=etm), "client"
    )
    done = _done(pump(ours, peer))
    assert done.version == 0x0303 and done.cipher_suite == suite
    cipher = peer.obj.cipher()
    assert cipher is not None and cipher[0] == SUITES12[suite].openssl_name and peer.obj.version() == "TLSv1.2"
    ours.send_application_data(b"ping" * 5000)
    peer.obj.write(b"pong")
    events = pump(ours, peer)
    assert bytes(peer.received) == b"ping" * 5000
    assert ApplicationData(b"pong") in events


@pytest.mark.parametrize(("suite", "etm"), CASES, ids=CASE_IDS)
def test_our_server_each_suite(pki: PKI, rsa_server: Identity, suite: int, etm: bool) -> None:
    ident = _identity(pki, rsa_server, suite)
    peer = openssl_client12(pki, ciphers=SUITES12[suite].openssl_name)
    cfg = server_config(
        pki, supported_versions=V12, cipher_suites12=(suite,), encrypt_then_mac=etm,
        certificate_chain=[ident.cert], private_key=ident.key,
    )  # fmt: skip
    ours = TLSConnection(cfg, "server")
    done = _done(pump(ours, peer))
    assert done.version == 0x0303 and done.cipher_suite == suite
    peer.obj.write(b"x" * 40000)
    ours.send_application_data(b"pong")
    events = pump(ours, peer)
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == b"x" * 40000
    assert bytes(peer.received) == b"pong"


def test_x448_both_roles(pki: PKI, rsa_server: Identity, tmp_path: Path) -> None:
    # the ssl module cannot limit a context to X448 (set_ecdh_curve takes EC curves only); OpenSSL's default group
    # lists include it, so limiting our side is enough
    peer = openssl_server12(rsa_server, tmp_path)
    ours = TLSConnection(client_config(pki, supported_versions=V12, groups=(0x1E,)), "client")
    assert _done(pump(ours, peer)).group == 0x1E
    cfg = server_config(pki, supported_versions=V12, groups=(0x1E,))
    cfg.certificate_chain, cfg.private_key = [rsa_server.cert], rsa_server.key
    assert _done(pump(TLSConnection(cfg, "server"), openssl_client12(pki))).group == 0x1E


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_each_group_both_roles(pki: PKI, rsa_server: Identity, tmp_path: Path, group: int) -> None:
    # RSA certificate: with ECDSA, OpenSSL also wants the certificate's curve among the client's groups (RFC 8422
    # section 5.1), so a client limited to one other group would get no suite at all
    peer = openssl_server12(rsa_server, tmp_path)
    ours = TLSConnection(client_config(pki, supported_versions=V12, groups=(group,)), "client")
    assert _done(pump(ours, peer)).group == group
    peer = openssl_client12(pki, curve=GROUPS[group])
    cfg = server_config(pki, supported_versions=V12, groups=(group,))
    cfg.certificate_chain, cfg.private_key = [rsa_server.cert], rsa_server.key
    assert _done(pump(TLSConnection(cfg, "server"), peer)).group == group


def test_our_server_keeps_ecdsa_certificates_to_the_clients_curves(pki: PKI) -> None:
    # RFC 8422 section 5.1: the client's supported_groups also limits the curve of an ECDSA certificate; a P-256
    # certificate for a client that only names P-384 leaves no suite
    peer = openssl_client12(pki, curve="secp384r1")
    ours = TLSConnection(server_config(pki, supported_versions=V12), "server")
    with pytest.raises(TLSAlertError) as info:
        pump(ours, peer)
    assert info.value.alert == AlertDescription.handshake_failure


def test_version_negotiation_client_offers_both(pki: PKI, tmp_path: Path) -> None:
    # a 1.2-only OpenSSL server: our 1.3+1.2 client goes down to 1.2 (no downgrade sentinel from a 1.2-only server)
    ours = TLSConnection(client_config(pki, supported_versions=BOTH), "client")
    assert _done(pump(ours, openssl_server12(pki.server, tmp_path))).version == 0x0303
    # a 1.3-capable OpenSSL server picks 1.3
    ours = TLSConnection(client_config(pki, supported_versions=BOTH), "client")
    assert _done(pump(ours, openssl_server12(pki.server, tmp_path, max13=True))).version == 0x0304


def test_version_negotiation_server_accepts_both(pki: PKI) -> None:
    ours = TLSConnection(server_config(pki, supported_versions=BOTH), "server")
    peer = openssl_client12(pki)
    assert _done(pump(ours, peer)).version == 0x0303
    assert peer.obj.version() == "TLSv1.2"
    ours = TLSConnection(server_config(pki, supported_versions=BOTH), "server")
    peer = openssl_client12(pki, max13=True)
    assert _done(pump(ours, peer)).version == 0x0304


def test_close_notify_both_ways(pki: PKI, tmp_path: Path) -> None:
    peer = openssl_server12(pki.server, tmp_path)
    ours = TLSConnection(client_config(pki, supported_versions=V12), "client")
    pump(ours, peer)
    ours.close()
    pump(ours, peer)
    assert peer.closed


def test_openssl_client_resumes_with_our_server(pki: PKI) -> None:
    cache: dict[bytes, object] = {}
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cadata=_ca_pem(pki))
    first = Peer(ctx, server_side=False, hostname="server.example")
    pump(TLSConnection(server_config(pki, supported_versions=V12, session_cache12=cache), "server"), first)
    session = first.obj.session
    assert session is not None and not first.obj.session_reused
    again = Peer.__new__(Peer)
    again.incoming, again.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    again.obj = ctx.wrap_bio(again.incoming, again.outgoing, server_hostname="server.example", session=session)
    again.received, again.closed, again.done = bytearray(), False, False
    ours = TLSConnection(server_config(pki, supported_versions=V12, session_cache12=cache), "server")
    done = _done(pump(ours, again))
    assert done.resumed and again.obj.session_reused


def test_our_client_resumes_with_openssl(pki: PKI, tmp_path: Path) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(*_pem_files(tmp_path, pki.server, "server"))
    ctx.options |= ssl.OP_NO_TICKET  # session ids, not RFC 5077 tickets
    ours = TLSConnection(client_config(pki, supported_versions=V12), "client")
    # kept alive: OpenSSL drops the session of an SSL freed without a shutdown from its cache
    first_peer = Peer(ctx, server_side=True)
    first = _done(pump(ours, first_peer))
    assert not first.resumed and first.session12 is not None
    # offering TLS 1.3 too: the hello carries the 1.2 session id, the 1.2-only server resumes it
    ours = TLSConnection(client_config(pki, supported_versions=BOTH, resume_session12=first.session12), "client")
    peer = Peer(ctx, server_side=True)
    again = _done(pump(ours, peer))
    assert again.resumed and peer.obj.session_reused
    ours.send_application_data(b"after resumption")
    pump(ours, peer)
    assert bytes(peer.received) == b"after resumption"
