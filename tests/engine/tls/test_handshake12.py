"""TLS 1.2 in the core (client12, server12, handshake12): negotiation, the alert every failure ends in, secure
renegotiation and the transition tables. Both machines run against each other in memory through TLSConnection;
the wrong things are put on the wire by overriding one method of one side (a test-only misbehaving peer)."""

from __future__ import annotations

from enum import Enum

import pytest
from tls13_testlib import PKI, client_config, make_leaf, pair, pump, server_config

from engine.tls import (
    AlertDescription,
    AlertReceived,
    ApplicationData,
    HandshakeComplete,
    TLSAlertError,
    TLSConnection,
    TLSContext,
)
from engine.tls.client12 import TRANSITIONS as CLIENT12
from engine.tls.client12 import Client12Handshake, Client12State
from engine.tls.handshake import HandshakeMachine, diagram
from engine.tls.server12 import TRANSITIONS as SERVER12
from engine.tls.server12 import Server12Handshake, Server12State
from engine.tls.suites12 import SUITES12

DOWNGRADE_TLS12 = b"DOWNGRD\x01"  # RFC 9846 section 4.1.3, spelled out so the test does not trust the module
A = AlertDescription
V12 = {"supported_versions": (0x0303,)}
BOTH = {"supported_versions": (0x0304, 0x0303)}


def _done(conn: TLSConnection) -> list[HandshakeComplete]:
    return [e for e in conn.events() if isinstance(e, HandshakeComplete)]


def _fails(client: TLSConnection, server: TLSConnection, alert: AlertDescription, side: str) -> TLSAlertError:
    with pytest.raises(TLSAlertError) as info:
        pump(client, server)
    err = (client if side == "client" else server).error
    assert err is not None and err.alert == alert and err.sent_by_us, (err, info.value)
    # the peer learns of it through the alert on the wire
    other = server if side == "client" else client
    with pytest.raises(TLSAlertError) as seen:
        other.receive_bytes((client if side == "client" else server).data_to_send())
    assert seen.value.alert == alert and not seen.value.sent_by_us
    return err


# -- negotiation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_kw", "server_kw", "version"),
    [(V12, V12, 0x0303), (BOTH, V12, 0x0303), (V12, BOTH, 0x0303), (BOTH, BOTH, 0x0304)],
)
def test_version_negotiation(
    pki: PKI, client_kw: dict[str, object], server_kw: dict[str, object], version: int
) -> None:
    c, s = pair(pki, client_kw, server_kw)
    pump(c, s)
    [cd], [sd] = _done(c), _done(s)
    assert cd.version == sd.version == version == c.version == s.version
    assert cd.cipher_suite == sd.cipher_suite


def test_no_common_version_is_protocol_version(pki: PKI) -> None:
    c, s = pair(pki, V12, {})  # the server accepts TLS 1.3 only
    _fails(c, s, A.protocol_version, "server")


def test_a_client_without_tls12_refuses_a_tls12_server_hello(pki: PKI) -> None:
    c, s = pair(pki, {}, V12)
    _fails(c, s, A.protocol_version, "server")  # the 1.3-only hello has nothing the 1.2 server accepts


def test_downgrade_sentinel_is_illegal_parameter(pki: PKI) -> None:
    # a server that answers a 1.3-capable client with TLS 1.2 and the RFC 9846 section 4.1.3 sentinel
    random = TLSContext(random=lambda n: bytes(n - 8) + DOWNGRADE_TLS12 if n == 32 else bytes(n))
    c = TLSConnection(client_config(pki, **BOTH), "client")
    s = TLSConnection(server_config(pki, **V12), "server", random)
    _fails(c, s, A.illegal_parameter, "client")


def test_sentinel_from_a_server_that_also_speaks_tls13(pki: PKI) -> None:
    c, s = pair(pki, V12, BOTH)
    pump(c, s)
    assert c.handshake_complete  # a 1.2-only client does not look at it
    assert s.handshake.server_random[-8:] == DOWNGRADE_TLS12  # type: ignore[attr-defined]


def test_fallback_scsv_below_our_best_is_inappropriate_fallback(pki: PKI) -> None:
    c, s = pair(pki, {**V12, "send_fallback_scsv": True}, BOTH)
    _fails(c, s, A.inappropriate_fallback, "server")
    c, s = pair(pki, {**V12, "send_fallback_scsv": True}, V12)  # our best is 1.2 too: no downgrade
    pump(c, s)
    assert c.handshake_complete and s.handshake_complete


def test_server_prefers_its_own_suite_order(pki: PKI) -> None:
    c, s = pair(pki, V12, {**V12, "cipher_suites12": (0xCCA9, 0xC02B)})
    pump(c, s)
    assert _done(c)[0].cipher_suite == 0xCCA9


def test_no_common_suite_is_handshake_failure(pki: PKI) -> None:
    c, s = pair(pki, {**V12, "cipher_suites12": (0xC02F,)}, V12)  # RSA suite, ECDSA certificate
    _fails(c, s, A.handshake_failure, "server")


def test_extended_master_secret_and_encrypt_then_mac_are_negotiated(pki: PKI) -> None:
    c, s = pair(pki, {**V12, "cipher_suites12": (0xC009,)}, V12)
    pump(c, s)
    hc, hs = c.handshake, s.handshake
    assert isinstance(hc, Client12Handshake) and isinstance(hs, Server12Handshake)
    assert hc.ems and hs.ems and hc.etm and hs.etm and hc.master_secret == hs.master_secret
    c, s = pair(pki, {**V12, "cipher_suites12": (0xC009,), "extended_master_secret": False}, V12)
    pump(c, s)
    assert not c.handshake.ems and not s.handshake.ems and s.handshake_complete  # type: ignore[attr-defined]
    c, s = pair(pki, {**V12, "cipher_suites12": (0xC02B,)}, V12)
    pump(c, s)
    assert not c.handshake.etm  # type: ignore[attr-defined]  # RFC 7366 section 3: not for AEAD suites


def test_client_certificate(pki: PKI) -> None:
    ckw = {**V12, "certificate_chain": [pki.client.cert], "private_key": pki.client.key}
    c, s = pair(pki, ckw, {**V12, "require_client_certificate": True})
    pump(c, s)
    [done] = _done(s)
    assert done.peer_certificates == [pki.client.cert] and done.signature_scheme is not None


def test_required_client_certificate_missing_is_handshake_failure(pki: PKI) -> None:
    c, s = pair(pki, V12, {**V12, "require_client_certificate": True})
    _fails(c, s, A.handshake_failure, "server")


def test_rsa_certificate(pki: PKI) -> None:
    rsa = make_leaf(pki.ca, key_type="rsa")
    c, s = pair(pki, V12, {**V12, "certificate_chain": [rsa.cert], "private_key": rsa.key})
    pump(c, s)
    assert SUITES12[_done(c)[0].cipher_suite].auth.value == "RSA"


def test_unknown_ca_is_refused(pki: PKI) -> None:
    other = make_leaf(pki.other_ca)
    c, s = pair(pki, V12, {**V12, "certificate_chain": [other.cert], "private_key": other.key})
    _fails(c, s, A.unknown_ca, "client")


# -- one wrong thing from one side ---------------------------------------------------------------------------------


def test_wrong_server_finished_is_decrypt_error(pki: PKI, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Server12Handshake._verify_data

    def wrong(self: Server12Handshake, *, client: bool) -> bytes:
        data = original(self, client=client)
        return data if client else bytes(12)  # only the server's own Finished is wrong

    monkeypatch.setattr(Server12Handshake, "_verify_data", wrong)
    c, s = pair(pki, V12, V12)
    _fails(c, s, A.decrypt_error, "client")


def test_wrong_client_finished_is_decrypt_error(pki: PKI, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Client12Handshake._verify_data

    def wrong(self: Client12Handshake, *, client: bool) -> bytes:
        data = original(self, client=client)
        return bytes(12) if client else data

    monkeypatch.setattr(Client12Handshake, "_verify_data", wrong)
    c, s = pair(pki, V12, V12)
    _fails(c, s, A.decrypt_error, "server")


def test_bad_server_key_exchange_signature_is_decrypt_error(pki: PKI) -> None:
    def bad_sign(key: object, scheme: int, data: bytes) -> bytes:
        from engine.tls.signatures import sign12

        return sign12(key, scheme, data + b"!")  # type: ignore[arg-type]

    c = TLSConnection(client_config(pki, **V12), "client")
    s = TLSConnection(server_config(pki, **V12), "server", TLSContext(sign12=bad_sign))
    _fails(c, s, A.decrypt_error, "client")


def test_tampered_record_is_bad_record_mac(pki: PKI) -> None:
    for suite in (0xC02B, 0xC009):
        for etm in (True, False):
            c, s = pair(pki, {**V12, "cipher_suites12": (suite,), "encrypt_then_mac": etm}, V12)
            pump(c, s)
            c.send_application_data(b"hello")
            data = bytearray(c.data_to_send())
            data[-1] ^= 1
            with pytest.raises(TLSAlertError) as info:
                s.receive_bytes(bytes(data))
            assert info.value.alert == A.bad_record_mac


def test_missing_renegotiation_info_is_handshake_failure(pki: PKI, monkeypatch: pytest.MonkeyPatch) -> None:
    # a server without RFC 5746 support: OpenSSL 3.0 clients refuse it by default, and so does the engine
    monkeypatch.setattr(
        Server12Handshake, "secure_renegotiation", property(lambda self: False, lambda self, v: None), raising=False
    )
    c, s = pair(pki, V12, V12)
    _fails(c, s, A.handshake_failure, "client")


def test_change_cipher_spec_out_of_place_is_unexpected_message(pki: PKI) -> None:
    c, s = pair(pki, V12, V12)
    s.receive_bytes(c.data_to_send())  # ClientHello; the server waits for the ClientKeyExchange now
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(b"\x14\x03\x03\x00\x01\x01")
    assert info.value.alert == A.unexpected_message


def test_message_out_of_order_is_unexpected_message(pki: PKI) -> None:
    c, s = pair(pki, V12, V12)
    s.receive_bytes(c.data_to_send())
    flight = s.data_to_send()
    # drop the Certificate message: the ServerKeyExchange comes where the Certificate was due
    first = 5 + int.from_bytes(flight[3:5], "big")
    record = flight[:first]
    body = record[5:]
    sh_len = 4 + int.from_bytes(body[1:4], "big")
    cert_len = 4 + int.from_bytes(body[sh_len + 1 : sh_len + 4], "big")
    rest = body[:sh_len] + body[sh_len + cert_len :]
    with pytest.raises(TLSAlertError) as info:
        c.receive_bytes(b"\x16\x03\x03" + len(rest).to_bytes(2, "big") + rest + flight[first:])
    assert info.value.alert == A.unexpected_message


# -- renegotiation (RFC 5746) --------------------------------------------------------------------------------------


def _connected(
    pki: PKI, ckw: dict[str, object] | None = None, skw: dict[str, object] | None = None
) -> tuple[TLSConnection, TLSConnection]:
    c, s = pair(pki, {**V12, **(ckw or {})}, {**V12, **(skw or {})})
    pump(c, s)
    assert _done(c) and _done(s)
    return c, s


@pytest.mark.parametrize("starter", ["client", "server"])
def test_renegotiation_with_data_interleaved(pki: PKI, starter: str) -> None:
    c, s = _connected(pki)
    first = c.handshake.client_verify_data  # type: ignore[attr-defined]
    (c if starter == "client" else s).renegotiate()
    assert (c if starter == "client" else s).renegotiating
    # application data still flows under the old keys while the new handshake runs
    c.send_application_data(b"during")
    s.send_application_data(b"also during")
    pump(c, s)
    cev, sev = c.events(), s.events()
    assert ApplicationData(b"during") in sev and ApplicationData(b"also during") in cev
    [cd] = [e for e in cev if isinstance(e, HandshakeComplete)]
    [sd] = [e for e in sev if isinstance(e, HandshakeComplete)]
    assert cd.renegotiation and sd.renegotiation and not c.renegotiating and not s.renegotiating
    assert c.handshake.client_verify_data != first  # type: ignore[attr-defined]
    c.send_application_data(b"after")
    pump(c, s)
    assert ApplicationData(b"after") in s.events()


def test_refused_renegotiation_is_a_no_renegotiation_warning(pki: PKI) -> None:
    c, s = _connected(pki, {"allow_renegotiation": False})
    s.renegotiate()
    pump(c, s)
    assert AlertReceived(A.no_renegotiation, 1) in s.events()
    s.send_application_data(b"still up")
    pump(c, s)
    assert ApplicationData(b"still up") in c.events()

    c, s = _connected(pki, skw={"allow_renegotiation": False})
    c.renegotiate()
    pump(c, s)
    assert AlertReceived(A.no_renegotiation, 1) in c.events() and c.renegotiating


@pytest.mark.parametrize("after", [False, True], ids=["withdrawn", "granted"])
@pytest.mark.parametrize("role", ["client", "server"])
def test_renegotiation_allowed_is_asked_when_the_peer_offers_one(pki: PKI, role: str, after: bool) -> None:
    """``renegotiation_allowed`` is asked when a HelloRequest / renegotiating ClientHello arrives, not when the
    handshake starts (engine.ssl passes the SSL's current options: SSL_set_options after the handshake counts)."""
    allowed = [not after]
    kw: dict[str, object] = {"renegotiation_allowed": lambda: allowed[0]}
    c, s = _connected(pki, kw if role == "client" else None, kw if role == "server" else None)
    starter = s if role == "client" else c
    allowed[0] = after
    starter.renegotiate()
    pump(c, s)
    events = starter.events()
    if after:
        assert any(isinstance(e, HandshakeComplete) and e.renegotiation for e in events), events
    else:
        assert AlertReceived(A.no_renegotiation, 1) in events, events


def test_renegotiation_info_must_carry_the_last_verify_data(pki: PKI, monkeypatch: pytest.MonkeyPatch) -> None:
    c, s = _connected(pki)
    c.handshake.client_verify_data = bytes(12)  # type: ignore[attr-defined]
    c.renegotiate()
    _fails(c, s, A.handshake_failure, "server")


def test_renegotiation_is_tls12_only(pki: PKI) -> None:
    c, s = pair(pki, BOTH, BOTH)
    pump(c, s)
    with pytest.raises(RuntimeError):
        c.renegotiate()


def test_hello_request_during_a_handshake_is_ignored(pki: PKI) -> None:
    c, s = pair(pki, V12, V12)
    s.receive_bytes(c.data_to_send())
    hello_request = b"\x16\x03\x03\x00\x04\x00\x00\x00\x00"
    c.receive_bytes(hello_request)  # before the ServerHello (the hello machine)
    c.receive_bytes(s.data_to_send())
    c.receive_bytes(hello_request)  # in the middle of the 1.2 handshake
    assert c.error is None
    pump(c, s)
    assert c.handshake_complete and s.handshake_complete


# -- tables --------------------------------------------------------------------------------------------------------


def test_tls12_tables_land_in_their_own_states(pki: PKI, monkeypatch: pytest.MonkeyPatch) -> None:
    for table, states in ((CLIENT12, Client12State), (SERVER12, Server12State)):
        for (state, _), row in table.items():
            assert isinstance(state, states) and row.targets and all(isinstance(t, states) for t in row.targets)
    landed: list[tuple[Enum, int, Enum]] = []
    original = HandshakeMachine.handle

    def watching(self: HandshakeMachine, msg_type: int, body: bytes, raw: bytes) -> None:
        before = self.state
        original(self, msg_type, body, raw)
        landed.append((before, msg_type, self.state))

    monkeypatch.setattr(HandshakeMachine, "handle", watching)
    ckw = {"certificate_chain": [pki.client.cert], "private_key": pki.client.key}
    c, s = _connected(pki, ckw, {"request_client_certificate": True})
    c.renegotiate()
    pump(c, s)
    s.renegotiate()
    pump(c, s)
    seen = set()
    for before, msg_type, after in landed:
        if isinstance(before, Client12State | Server12State):
            table = CLIENT12 if isinstance(before, Client12State) else SERVER12
            assert after in table[(before, msg_type)].targets
            seen.add((before, msg_type))
    assert len(seen) >= 14
    assert "WAIT_CCS --ChangeCipherSpec--> WAIT_FINISHED" in diagram(SERVER12)


# -- session-ID resumption (RFC 5246 section 7.3, RFC 7627 section 5.3) --------------------------------------------


def _first_session(pki: PKI, cache: dict[bytes, object]) -> HandshakeComplete:
    c, s = pair(pki, V12, {**V12, "session_cache12": cache})
    pump(c, s)
    [done] = _done(c)
    assert not done.resumed and done.session12 is not None and done.session12.session_id in cache
    return done


def test_resumption_with_a_cached_session(pki: PKI) -> None:
    cache: dict[bytes, object] = {}
    first = _first_session(pki, cache)
    c, s = pair(pki, {**V12, "resume_session12": first.session12}, {**V12, "session_cache12": cache})
    pump(c, s)
    [cd], [sd] = _done(c), _done(s)
    assert cd.resumed and sd.resumed and cd.session12 == first.session12
    assert cd.peer_certificates == first.peer_certificates  # the session remembers the server's chain
    c.send_application_data(b"resumed")
    pump(c, s)
    assert ApplicationData(b"resumed") in s.events()


def test_unknown_session_id_gets_a_full_handshake(pki: PKI) -> None:
    first = _first_session(pki, {})
    c, s = pair(pki, {**V12, "resume_session12": first.session12}, {**V12, "session_cache12": {}})
    pump(c, s)
    [cd] = _done(c)
    assert not cd.resumed and cd.session12 != first.session12


def test_resuming_an_extended_master_secret_session_without_it_is_handshake_failure(pki: PKI) -> None:
    cache: dict[bytes, object] = {}
    first = _first_session(pki, cache)
    ckw = {**V12, "resume_session12": first.session12, "extended_master_secret": False}
    c, s = pair(pki, ckw, {**V12, "session_cache12": cache})
    _fails(c, s, A.handshake_failure, "server")


def test_wrong_finished_in_an_abbreviated_handshake_is_decrypt_error(pki: PKI, monkeypatch: pytest.MonkeyPatch) -> None:
    cache: dict[bytes, object] = {}
    first = _first_session(pki, cache)
    original = Server12Handshake._verify_data
    monkeypatch.setattr(
        Server12Handshake,
        "_verify_data",
        lambda self, *, client: bytes(12) if not client else original(self, client=client),
    )
    c, s = pair(pki, {**V12, "resume_session12": first.session12}, {**V12, "session_cache12": cache})
    _fails(c, s, A.decrypt_error, "client")


@pytest.mark.parametrize("starter", ["client", "server"])
def test_abbreviated_renegotiation(pki: PKI, starter: str) -> None:
    c, s = _connected(pki, skw={"session_cache12": {}})
    if starter == "client":
        c.renegotiate(resume=True)
    else:
        s.renegotiate()  # the client answers a HelloRequest by offering its session
    pump(c, s)
    [cd], [sd] = _done(c), _done(s)
    assert cd.renegotiation and cd.resumed and sd.resumed


def test_full_renegotiation_does_not_resume(pki: PKI) -> None:
    c, s = _connected(pki, skw={"session_cache12": {}})
    c.renegotiate()
    pump(c, s)
    [cd] = _done(c)
    assert cd.renegotiation and not cd.resumed


def test_wrong_host_name_is_refused_and_no_name_checks_the_chain_only(pki: PKI) -> None:
    c, s = pair(pki, {**V12, "verify_host": "other.example"}, V12)
    _fails(c, s, A.bad_certificate, "client")
    c, s = pair(pki, {**V12, "verify_host": None}, V12)  # SSL_set1_host never called: the chain alone
    pump(c, s)
    assert c.handshake_complete
