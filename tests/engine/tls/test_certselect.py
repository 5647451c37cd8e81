"""The SNI answer and the choice among several certificates (engine/tls/certselect.py), through real handshakes."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tls13_testlib import PKI, make_leaf, pair, pump

from engine.tls import AlertDescription, AlertReceived, HandshakeComplete, TLSAlertError, TLSConnection
from engine.tls.config import DeclineWithWarning
from engine.tls.messages import ExtensionType, ServerHello, find_extension
from engine.tls.signatures import SignatureScheme as S

VERSIONS = pytest.mark.parametrize("versions", [(0x0304,), (0x0303,)], ids=["tls13", "tls12"])


def _done(conn: TLSConnection) -> HandshakeComplete:
    [done] = [e for e in conn.events() if isinstance(e, HandshakeComplete)]
    return done


def _first_server_hello(c: TLSConnection, s: TLSConnection) -> bytes:
    """The ServerHello body of a fresh TLS 1.2 handshake between new copies of ``c`` and ``s``'s configs."""
    client = TLSConnection(c.config, "client")
    server = TLSConnection(s.config, "server")
    server.receive_bytes(client.data_to_send())
    flight = server.data_to_send()
    assert flight[0] == 22 and flight[5] == 2  # a handshake record holding a ServerHello first
    size = int.from_bytes(flight[6:9], "big")
    return flight[9 : 9 + size]


@VERSIONS
def test_callback_sees_the_name_and_decides_the_acknowledgement(pki: PKI, versions: tuple[int, ...]) -> None:
    for ack in (True, False):
        seen: list[str | None] = []

        def callback(name: str | None, ack: bool = ack, seen: list[str | None] = seen) -> bool:
            seen.append(name)
            return ack

        c, s = pair(pki, {"server_name": "server.example", "supported_versions": versions},
                    {"server_name_callback": callback, "supported_versions": versions})
        pump(c, s)
        assert seen == ["server.example"] and _done(s).server_name == "server.example"
        if versions == (0x0303,):
            # the TLS 1.2 ServerHello is in the clear: an empty server_name extension acknowledges the name
            hello = ServerHello.parse(_first_server_hello(c, s))
            assert (find_extension(hello.extensions, ExtensionType.server_name) == b"") is ack


@VERSIONS
def test_callback_without_a_name_and_its_fatal_answer(pki: PKI, versions: tuple[int, ...]) -> None:
    seen: list[str | None] = []

    def record(name: str | None) -> bool:
        seen.append(name)
        return True

    c, s = pair(pki, {"server_name": None, "supported_versions": versions},
                {"server_name_callback": record, "supported_versions": versions})
    pump(c, s)
    assert seen == [None] and _done(s).server_name is None

    def refuse(name: str | None) -> bool:
        raise TLSAlertError(AlertDescription.unrecognized_name, f"no such name {name}")

    c, s = pair(pki, {"supported_versions": versions}, {"server_name_callback": refuse, "supported_versions": versions})
    with pytest.raises(TLSAlertError):
        pump(c, s)
    assert s.error is not None and s.error.alert == AlertDescription.unrecognized_name
    with pytest.raises(TLSAlertError) as info:
        c.receive_bytes(s.data_to_send())
    assert info.value.alert == AlertDescription.unrecognized_name and not info.value.sent_by_us


def _two_certificates(pki: PKI) -> dict[str, object]:
    rsa_leaf = make_leaf(pki.ca, "server.example", key_type="rsa")
    return {"certificates": [([rsa_leaf.cert], rsa_leaf.key)]}  # the ECDSA P-256 one is the main certificate


@pytest.mark.parametrize(
    ("client_schemes", "key_type", "scheme"),
    [
        ((S.ecdsa_secp256r1_sha256, S.rsa_pss_rsae_sha256), ec.EllipticCurvePublicKey, S.ecdsa_secp256r1_sha256),
        ((S.rsa_pss_rsae_sha384, S.ecdsa_secp256r1_sha256), rsa.RSAPublicKey, S.rsa_pss_rsae_sha384),
        ((S.rsa_pss_rsae_sha256,), rsa.RSAPublicKey, S.rsa_pss_rsae_sha256),
        ((S.ecdsa_secp384r1_sha384, S.ecdsa_secp256r1_sha256), ec.EllipticCurvePublicKey, S.ecdsa_secp256r1_sha256),
    ],
)
def test_tls13_certificate_follows_the_client_order(
    pki: PKI, client_schemes: tuple[int, ...], key_type: type, scheme: int
) -> None:
    c, s = pair(pki, {"signature_algorithms": client_schemes}, _two_certificates(pki))
    pump(c, s)
    done = _done(c)
    assert isinstance(done.peer_certificates[0].public_key(), key_type) and done.signature_scheme == scheme


def test_tls13_no_certificate_for_the_client_schemes(pki: PKI) -> None:
    c, s = pair(pki, {"signature_algorithms": (S.ed25519,)}, _two_certificates(pki))
    with pytest.raises(TLSAlertError):
        pump(c, s)
    assert s.error is not None and s.error.alert == AlertDescription.handshake_failure


@VERSIONS
def test_decline_with_a_warning(pki: PKI, versions: tuple[int, ...]) -> None:
    """A TLS 1.2 server warns (unrecognized_name) and goes on; TLS 1.3 has no warning alerts: the name is just not
    acknowledged."""
    c, s = pair(pki, {"supported_versions": versions},
                {"server_name_callback": lambda name: DeclineWithWarning(AlertDescription.unrecognized_name),
                 "supported_versions": versions})
    pump(c, s)
    events = c.events()
    assert any(isinstance(e, HandshakeComplete) for e in events)
    warnings = [e for e in events if isinstance(e, AlertReceived)]
    assert warnings == ([AlertReceived(AlertDescription.unrecognized_name, 1)] if versions == (0x0303,) else [])


@pytest.mark.parametrize(("suite", "key_type"), [(0xC02F, rsa.RSAPublicKey), (0xC02B, ec.EllipticCurvePublicKey)],
                         ids=["ecdhe-rsa", "ecdhe-ecdsa"])
def test_tls12_certificate_follows_the_suite(pki: PKI, suite: int, key_type: type) -> None:
    """TLS 1.2: the suite's authentication picks the certificate among an RSA and an ECDSA one."""
    c, s = pair(pki, {"supported_versions": (0x0303,), "cipher_suites12": (suite,)},
                {"supported_versions": (0x0303,), **_two_certificates(pki)})
    pump(c, s)
    done = _done(c)
    assert done.cipher_suite == suite and isinstance(done.peer_certificates[0].public_key(), key_type)
