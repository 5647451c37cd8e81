"""Signature schemes and CertificateVerify (RFC 9846 sections 4.3.3 and 4.5.2).

Every supported scheme signs and verifies; a signature that does not verify is decrypt_error (section 4.5.2), a
scheme the receiver did not offer or that does not fit the certificate key is illegal_parameter.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from engine.tls import AlertDescription, TLSAlertError
from engine.tls.signatures import (
    SUPPORTED_SIGNATURE_SCHEMES,
    PrivateKey,
    SignatureScheme,
    certificate_verify_input,
    choose_scheme,
    key_matches_scheme,
    sign,
    verify,
)

A = AlertDescription
S = SignatureScheme

_RSA = rsa.generate_private_key(65537, 2048)
_RSA_OTHER = rsa.generate_private_key(65537, 2048)


def _key(scheme: int) -> PrivateKey:
    if scheme == S.ecdsa_secp256r1_sha256:
        return ec.generate_private_key(ec.SECP256R1())
    if scheme == S.ecdsa_secp384r1_sha384:
        return ec.generate_private_key(ec.SECP384R1())
    if scheme == S.ecdsa_secp521r1_sha512:
        return ec.generate_private_key(ec.SECP521R1())
    if scheme == S.ed25519:
        return ed25519.Ed25519PrivateKey.generate()
    if scheme == S.ed448:
        return ed448.Ed448PrivateKey.generate()
    return _RSA


def _other_key(scheme: int) -> PrivateKey:
    return (
        _RSA_OTHER if scheme in (S.rsa_pss_rsae_sha256, S.rsa_pss_rsae_sha384, S.rsa_pss_rsae_sha512) else _key(scheme)
    )


CONTENT = certificate_verify_input(True, bytes(range(32)))
SCHEMES = [pytest.param(s, id=S(s).name) for s in SUPPORTED_SIGNATURE_SCHEMES]


def _alert(action: object) -> TLSAlertError:
    assert callable(action)
    with pytest.raises(TLSAlertError) as info:
        action()
    assert info.value.sent_by_us
    return info.value


def test_supported_schemes_are_tls13_ones_only() -> None:
    # RFC 9846 section 4.5.2: SHA-1 and PKCS#1 v1.5 are not valid for CertificateVerify
    assert S.rsa_pkcs1_sha1 not in SUPPORTED_SIGNATURE_SCHEMES
    assert S.ecdsa_sha1 not in SUPPORTED_SIGNATURE_SCHEMES
    assert not {S.rsa_pkcs1_sha256, S.rsa_pkcs1_sha384, S.rsa_pkcs1_sha512} & set(SUPPORTED_SIGNATURE_SCHEMES)
    assert len(set(SUPPORTED_SIGNATURE_SCHEMES)) == len(SUPPORTED_SIGNATURE_SCHEMES)


def test_scheme_code_points() -> None:
    # RFC 9846 section 4.3.3
    assert (S.ecdsa_secp256r1_sha256, S.rsa_pss_rsae_sha256, S.ed25519, S.rsa_pss_pss_sha512) == (
        0x0403,
        0x0804,
        0x0807,
        0x080B,
    )


def test_certificate_verify_input_matches_the_rfc_example() -> None:
    # RFC 9846 section 4.5.2: a transcript hash of 32 bytes of 01, server side
    expected = bytes.fromhex(
        "20" * 64 + "544c5320312e332c207365727665722043657274696669636174655665726966" + "79" + "00" + "01" * 32
    )
    assert certificate_verify_input(True, b"\x01" * 32) == expected


def test_client_and_server_contexts_differ() -> None:
    client = certificate_verify_input(False, b"\x01" * 32)
    assert client == b" " * 64 + b"TLS 1.3, client CertificateVerify\x00" + b"\x01" * 32
    assert client != certificate_verify_input(True, b"\x01" * 32)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_each_supported_scheme_signs_and_verifies(scheme: int) -> None:
    key = _key(scheme)
    signature = sign(key, scheme, CONTENT)
    verify(key.public_key(), scheme, signature, CONTENT, SUPPORTED_SIGNATURE_SCHEMES)


@pytest.mark.parametrize(
    ("scheme", "digest"),
    [(S.ecdsa_secp256r1_sha256, hashes.SHA256), (S.ecdsa_secp384r1_sha384, hashes.SHA384),
     (S.ecdsa_secp521r1_sha512, hashes.SHA512)],
)
def test_ecdsa_schemes_use_their_own_hash(scheme: int, digest: type[hashes.HashAlgorithm]) -> None:
    # the ECDSA algorithm objects are shared between signatures: each scheme still signs with its own hash, as
    # cryptography checks it from outside
    key = _key(scheme)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    key.public_key().verify(sign(key, scheme, CONTENT), CONTENT, ec.ECDSA(digest()))
    verify(key.public_key(), scheme, key.sign(CONTENT, ec.ECDSA(digest())), CONTENT, (scheme,))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_wrong_key_is_decrypt_error(scheme: int) -> None:
    signature = sign(_key(scheme), scheme, CONTENT)
    other = _other_key(scheme).public_key()
    err = _alert(lambda: verify(other, scheme, signature, CONTENT, SUPPORTED_SIGNATURE_SCHEMES))
    assert err.alert == A.decrypt_error


@pytest.mark.parametrize("scheme", SCHEMES)
def test_altered_content_is_decrypt_error(scheme: int) -> None:
    key = _key(scheme)
    signature = sign(key, scheme, CONTENT)
    altered = CONTENT[:-1] + bytes([CONTENT[-1] ^ 1])
    err = _alert(lambda: verify(key.public_key(), scheme, signature, altered, SUPPORTED_SIGNATURE_SCHEMES))
    assert err.alert == A.decrypt_error


@pytest.mark.parametrize("scheme", SCHEMES)
def test_client_signature_does_not_verify_as_server_signature(scheme: int) -> None:
    key = _key(scheme)
    signature = sign(key, scheme, certificate_verify_input(False, b"\x01" * 32))
    server_content = certificate_verify_input(True, b"\x01" * 32)
    err = _alert(lambda: verify(key.public_key(), scheme, signature, server_content, SUPPORTED_SIGNATURE_SCHEMES))
    assert err.alert == A.decrypt_error


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("garbage", [b"", b"\x00" * 7, b"\x30" + b"\xff" * 600], ids=["empty", "short", "long"])
def test_malformed_signature_is_decrypt_error(scheme: int, garbage: bytes) -> None:
    key = _key(scheme)
    err = _alert(lambda: verify(key.public_key(), scheme, garbage, CONTENT, SUPPORTED_SIGNATURE_SCHEMES))
    assert err.alert == A.decrypt_error


def test_rsa_pss_uses_digest_length_salt() -> None:
    # RFC 9846 section 4.3.3: the salt length MUST equal the digest length; a PSS signature with another salt
    # length does not verify
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    h = hashes.SHA256()
    odd = _RSA.sign(CONTENT, padding.PSS(mgf=padding.MGF1(h), salt_length=20), h)
    err = _alert(lambda: verify(_RSA.public_key(), S.rsa_pss_rsae_sha256, odd, CONTENT, SUPPORTED_SIGNATURE_SCHEMES))
    assert err.alert == A.decrypt_error


def test_scheme_not_offered_is_illegal_parameter() -> None:
    key = _key(S.ecdsa_secp256r1_sha256)
    signature = sign(key, S.ecdsa_secp256r1_sha256, CONTENT)
    err = _alert(lambda: verify(key.public_key(), S.ecdsa_secp256r1_sha256, signature, CONTENT, (S.ed25519,)))
    assert err.alert == A.illegal_parameter


def test_scheme_that_does_not_fit_the_key_is_illegal_parameter() -> None:
    # RFC 9846 section 4.5.2: the algorithm MUST be compatible with the key in the end-entity certificate
    key = _key(S.ecdsa_secp256r1_sha256)
    signature = sign(key, S.ecdsa_secp256r1_sha256, CONTENT)
    for scheme in (S.ecdsa_secp384r1_sha384, S.rsa_pss_rsae_sha256, S.ed25519):
        err = _alert(lambda s=scheme: verify(key.public_key(), s, signature, CONTENT, SUPPORTED_SIGNATURE_SCHEMES))
        assert err.alert == A.illegal_parameter


def test_legacy_rsa_schemes_are_refused_for_certificate_verify() -> None:
    offered = (*SUPPORTED_SIGNATURE_SCHEMES, S.rsa_pkcs1_sha256, S.rsa_pkcs1_sha1)
    for scheme in (S.rsa_pkcs1_sha256, S.rsa_pkcs1_sha1):
        err = _alert(lambda s=scheme: verify(_RSA.public_key(), s, b"\x01" * 256, CONTENT, offered))
        assert err.alert == A.illegal_parameter


def test_signing_with_a_key_that_does_not_fit_is_internal_error() -> None:
    # our own configuration problem, not the peer's
    err = _alert(lambda: sign(_key(S.ed25519), S.ecdsa_secp256r1_sha256, CONTENT))
    assert err.alert == A.internal_error


def test_ed448_verifies_when_offered() -> None:
    key = ed448.Ed448PrivateKey.generate()
    signature = sign(key, S.ed448, CONTENT)
    verify(key.public_key(), S.ed448, signature, CONTENT, (S.ed448,))


def test_key_matches_scheme_checks_the_curve() -> None:
    p256 = _key(S.ecdsa_secp256r1_sha256)
    assert key_matches_scheme(p256, S.ecdsa_secp256r1_sha256)
    assert key_matches_scheme(p256.public_key(), S.ecdsa_secp256r1_sha256)
    assert not key_matches_scheme(p256, S.ecdsa_secp384r1_sha384)
    assert key_matches_scheme(_RSA, S.rsa_pss_rsae_sha512)
    assert not key_matches_scheme(_RSA, S.rsa_pss_pss_sha256)  # an rsaEncryption key is not an RSASSA-PSS key


def test_choose_scheme_takes_our_first_that_the_peer_accepts_and_the_key_fits() -> None:
    ours = SUPPORTED_SIGNATURE_SCHEMES
    assert choose_scheme(_RSA, ours, [S.rsa_pss_rsae_sha512, S.rsa_pss_rsae_sha256]) == S.rsa_pss_rsae_sha256
    assert choose_scheme(_RSA, ours, [S.rsa_pss_rsae_sha384]) == S.rsa_pss_rsae_sha384
    assert choose_scheme(_RSA, ours, [S.ecdsa_secp256r1_sha256, S.ed25519]) is None
    p384 = _key(S.ecdsa_secp384r1_sha384)
    assert choose_scheme(p384, ours, list(ours)) == S.ecdsa_secp384r1_sha384
