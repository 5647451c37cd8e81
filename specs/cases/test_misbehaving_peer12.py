"""Negative TLS 1.2 cases (RFC 5246, RFC 7366, RFC 8422, and RFC 9846's downgrade sentinel): every stack, in both roles
where the fault allows, against the misbehaving reference peer speaking TLS 1.2 (engine.tls.misbehave).

As in test_misbehaving_peer.py, the stack must refuse: the call that meets the fault returns < 0 with SSL_ERROR_SSL,
with an error-queue entry where the stack has one, and the stack sends the alert the RFC names. The TLS 1.2 faults keep
the peer's own transcript consistent with what it sent (engine.tls.misbehave says how), so a stack that skipped the
check would complete the handshake instead of failing later for another reason."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness import Harness
from conformance.outcome import Role
from conformance.stacks.base import EndpointConfig
from engine.tls.alerts import AlertDescription as A
from engine.tls.misbehave import (
    CorruptedRecord,
    DowngradeSentinel,
    InterleavedRecord,
    OversizedCiphertext12,
    WrongFinished,
    WrongSignature12,
)
from engine.tls.suites12 import CipherSuite12 as S
from specs.cases.test_misbehaving_peer import ROLES, _handshake_fault, _record_fault

pytestmark = pytest.mark.needs("tls1_2", "error_codes")

TLS12_ONLY: dict[str, Any] = {"supported_versions": (0x0303,)}
# BoringSSL has only the second of the two CBC suites, stdlib ssl (no SHA-1 suites by default) only the first
CBC = (S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA)
# suites of the record cases, as the peer's TLS 1.2 settings: the peer offers (or accepts) only these, so the stack
# negotiates one of them without being told
RECORD_SUITES: dict[str, dict[str, Any]] = {
    "aes128-gcm": {"cipher_suites12": (S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,)},
    "chacha20-poly1305": {"cipher_suites12": (S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,)},
    "cbc-mac-then-encrypt": {"cipher_suites12": CBC, "encrypt_then_mac": False},
    "cbc-encrypt-then-mac": {"cipher_suites12": CBC, "encrypt_then_mac": True},
}


def _tls12(config: EndpointConfig) -> EndpointConfig:
    return config.with_(max_version="TLSv1.2")


@pytest.mark.clauses("RFC5246/7.4.9/finished-verify-data")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_tls12_wrong_finished_is_refused(h: Harness, role: Role) -> None:
    """The peer's TLS 1.2 Finished has one bit of verify_data flipped: decrypt_error."""
    _handshake_fault(h, role, WrongFinished(), A.decrypt_error, _tls12, tls=TLS12_ONLY)


@pytest.mark.clauses("RFC5246/7.4.3/server-key-exchange-signature")
def test_tls12_server_key_exchange_signed_over_the_wrong_bytes_is_refused(h: Harness) -> None:
    """The server's ServerKeyExchange is a good signature over the wrong bytes: decrypt_error."""
    _handshake_fault(h, Role.CLIENT, WrongSignature12(), A.decrypt_error, _tls12, tls=TLS12_ONLY)


@pytest.mark.clauses("RFC5246/7.4.8/certificate-verify-signature")
@pytest.mark.needs("client_certificates")
def test_tls12_client_certificate_verify_over_the_wrong_bytes_is_refused(h: Harness) -> None:
    """A server requiring a client certificate gets one whose CertificateVerify signs the wrong bytes:
    decrypt_error."""
    _handshake_fault(h, Role.SERVER, WrongSignature12(), A.decrypt_error,
                     lambda c: _tls12(c).with_(verify_peer=True), client_certificate=True, tls=TLS12_ONLY)


@pytest.mark.clauses("RFC9846/4.1.3/downgrade-sentinel")
@pytest.mark.needs("tls1_3")
def test_downgrade_sentinel_after_offering_tls13_is_refused(h: Harness) -> None:
    """The stack's client offers TLS 1.3; the server answers with TLS 1.2 and the downgrade sentinel in its random:
    illegal_parameter."""
    _handshake_fault(h, Role.CLIENT, DowngradeSentinel(), A.illegal_parameter, tls=TLS12_ONLY)


@pytest.mark.clauses("RFC5246/6.2.3/bad-record-mac")
@pytest.mark.parametrize("suite", list(RECORD_SUITES))
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_tls12_corrupted_record_is_refused_with_bad_record_mac(h: Harness, role: Role, suite: str) -> None:
    """A TLS 1.2 record with one ciphertext byte flipped (GCM, ChaCha20-Poly1305, CBC with MAC-then-encrypt and with
    encrypt-then-MAC): bad_record_mac."""
    _record_fault(h, role, CorruptedRecord(), A.bad_record_mac, _tls12, tls={**TLS12_ONLY, **RECORD_SUITES[suite]})


@pytest.mark.clauses("RFC9846/5.2/bad-record-mac")
@pytest.mark.needs("tls1_3")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_tls13_corrupted_record_is_refused_with_bad_record_mac(h: Harness, role: Role) -> None:
    """A TLS 1.3 record with one ciphertext byte flipped: bad_record_mac."""
    _record_fault(h, role, CorruptedRecord(), A.bad_record_mac)


@pytest.mark.clauses("RFC5246/6.2.3/ciphertext-length-limit")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_tls12_ciphertext_over_the_limit_is_record_overflow(h: Harness, role: Role) -> None:
    """After a TLS 1.2 handshake the peer sends an application-data record of 2^14 + 2049 bytes: record_overflow
    (the length alone decides; its bytes are no valid ciphertext, so a receiver that decrypts first would say
    bad_record_mac)."""
    _record_fault(h, role, OversizedCiphertext12(), A.record_overflow, _tls12, tls=TLS12_ONLY)


@pytest.mark.clauses("RFC5246/7.4.9/application-data-before-finished")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_tls12_application_data_before_the_finished_is_refused(h: Harness, role: Role) -> None:
    """Between the peer's ChangeCipherSpec and its Finished, a TLS 1.2 application-data record under the new keys:
    unexpected_message (a stack that took it completes the handshake and hands the data to its reader)."""
    _handshake_fault(h, role, InterleavedRecord("application_data"), A.unexpected_message, _tls12, tls=TLS12_ONLY,
                     then_data=True)
