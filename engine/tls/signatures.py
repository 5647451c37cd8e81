"""Signature schemes and CertificateVerify (RFC 9846 sections 4.3.3 and 4.5.2)."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

from .alerts import AlertDescription, TLSAlertError


class SignatureScheme(IntEnum):
    rsa_pkcs1_sha256 = 0x0401
    rsa_pkcs1_sha384 = 0x0501
    rsa_pkcs1_sha512 = 0x0601
    ecdsa_secp256r1_sha256 = 0x0403
    ecdsa_secp384r1_sha384 = 0x0503
    ecdsa_secp521r1_sha512 = 0x0603
    rsa_pss_rsae_sha256 = 0x0804
    rsa_pss_rsae_sha384 = 0x0805
    rsa_pss_rsae_sha512 = 0x0806
    ed25519 = 0x0807
    ed448 = 0x0808
    rsa_pss_pss_sha256 = 0x0809
    rsa_pss_pss_sha384 = 0x080A
    rsa_pss_pss_sha512 = 0x080B
    rsa_pkcs1_sha1 = 0x0201
    ecdsa_sha1 = 0x0203


# What this implementation signs and verifies in TLS 1.3 CertificateVerify, in preference order.
SUPPORTED_SIGNATURE_SCHEMES: tuple[int, ...] = (
    SignatureScheme.ecdsa_secp256r1_sha256,
    SignatureScheme.ecdsa_secp384r1_sha384,
    SignatureScheme.ed25519,
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pss_rsae_sha384,
    SignatureScheme.rsa_pss_rsae_sha512,
)

PrivateKey: TypeAlias = (
    rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
)
PublicKey: TypeAlias = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
Signer = Callable[[PrivateKey, int, bytes], bytes]

_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    SignatureScheme.ecdsa_secp256r1_sha256: hashes.SHA256,
    SignatureScheme.ecdsa_secp384r1_sha384: hashes.SHA384,
    SignatureScheme.ecdsa_secp521r1_sha512: hashes.SHA512,
    SignatureScheme.rsa_pss_rsae_sha256: hashes.SHA256,
    SignatureScheme.rsa_pss_rsae_sha384: hashes.SHA384,
    SignatureScheme.rsa_pss_rsae_sha512: hashes.SHA512,
}
_ECDSA_CURVE: dict[int, str] = {
    SignatureScheme.ecdsa_secp256r1_sha256: "secp256r1",
    SignatureScheme.ecdsa_secp384r1_sha384: "secp384r1",
    SignatureScheme.ecdsa_secp521r1_sha512: "secp521r1",
}
_PSS_RSAE = (
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pss_rsae_sha384,
    SignatureScheme.rsa_pss_rsae_sha512,
)


def certificate_verify_input(server: bool, transcript_hash: bytes) -> bytes:
    """The signed content of RFC 9846 section 4.5.2: 64 spaces, context string, 0x00, transcript hash."""
    label = b"TLS 1.3, server CertificateVerify" if server else b"TLS 1.3, client CertificateVerify"
    return b"\x20" * 64 + label + b"\x00" + transcript_hash


def key_matches_scheme(key: PrivateKey | PublicKey, scheme: int) -> bool:
    if scheme in _ECDSA_CURVE:
        return isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and (
            key.curve.name == _ECDSA_CURVE[scheme]
        )
    if scheme in _PSS_RSAE:
        return isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey)
    if scheme == SignatureScheme.ed25519:
        return isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey)
    if scheme == SignatureScheme.ed448:
        return isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey)
    return False


def choose_scheme(key: PrivateKey, ours: tuple[int, ...], peers: list[int]) -> int | None:
    """First scheme in our preference that the peer accepts and our key can produce."""
    for scheme in ours:
        if scheme in peers and key_matches_scheme(key, scheme):
            return scheme
    return None


_ECDSA_BY_HASH: dict[type[hashes.HashAlgorithm], ec.ECDSA] = {}


def _ecdsa(h: hashes.HashAlgorithm) -> ec.ECDSA:
    """The ECDSA algorithm object of a hash: it holds no state, so one per hash serves every signature."""
    alg = _ECDSA_BY_HASH.get(type(h))
    if alg is None:
        alg = _ECDSA_BY_HASH[type(h)] = ec.ECDSA(h)
    return alg


def _pss(h: hashes.HashAlgorithm) -> padding.PSS:
    # RFC 9846 section 4.3.3: MGF1 with the same hash, salt length equal to the digest length
    return padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)


def sign(key: PrivateKey, scheme: int, data: bytes) -> bytes:
    if not key_matches_scheme(key, scheme):
        raise TLSAlertError(AlertDescription.internal_error, "signing key does not match scheme")
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return key.sign(data)
    h = _HASHES[scheme]()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, _ecdsa(h))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, _pss(h), h)
    raise TLSAlertError(AlertDescription.internal_error, "unsupported key type")


def verify(key: PublicKey, scheme: int, signature: bytes, data: bytes, offered: tuple[int, ...]) -> None:
    """Check a CertificateVerify signature; the RFC 9846 section 4.5.2 alerts on failure."""
    if scheme not in offered:
        raise TLSAlertError(AlertDescription.illegal_parameter, f"signature scheme {scheme:#06x} not offered")
    if not key_matches_scheme(key, scheme):
        raise TLSAlertError(AlertDescription.illegal_parameter, "signature scheme does not match certificate key")
    try:
        if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
            return
        h = _HASHES[scheme]()
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, _ecdsa(h))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, _pss(h), h)
    except InvalidSignature:
        raise TLSAlertError(AlertDescription.decrypt_error, "CertificateVerify signature invalid") from None


# -- TLS 1.2 (RFC 5246 section 7.4.1.4.1, RFC 8422 section 5.10) -------------------------------------------------
#
# In TLS 1.2 the SignatureAndHashAlgorithm code names a hash and a key type only: ecdsa_secp256r1_sha256 (0x0403) is
# "ECDSA with SHA-256" on any curve, and PKCS#1 v1.5 RSA signatures are allowed. Without a signature_algorithms
# extension the peer is taken to accept SHA-1 (RFC 5246 section 7.4.1.4.1).

TLS12_SIGNATURE_SCHEMES: tuple[int, ...] = (
    SignatureScheme.ecdsa_secp256r1_sha256,
    SignatureScheme.ecdsa_secp384r1_sha384,
    SignatureScheme.ecdsa_secp521r1_sha512,
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pss_rsae_sha384,
    SignatureScheme.rsa_pss_rsae_sha512,
    SignatureScheme.rsa_pkcs1_sha256,
    SignatureScheme.rsa_pkcs1_sha384,
    SignatureScheme.rsa_pkcs1_sha512,
)
TLS12_DEFAULT_PEER_SCHEMES: tuple[int, ...] = (SignatureScheme.rsa_pkcs1_sha1, SignatureScheme.ecdsa_sha1)

_HASHES12: dict[int, type[hashes.HashAlgorithm]] = {
    **_HASHES,
    SignatureScheme.rsa_pkcs1_sha256: hashes.SHA256,
    SignatureScheme.rsa_pkcs1_sha384: hashes.SHA384,
    SignatureScheme.rsa_pkcs1_sha512: hashes.SHA512,
    SignatureScheme.rsa_pkcs1_sha1: hashes.SHA1,
    SignatureScheme.ecdsa_sha1: hashes.SHA1,
}
_PKCS1 = frozenset(
    {
        SignatureScheme.rsa_pkcs1_sha256,
        SignatureScheme.rsa_pkcs1_sha384,
        SignatureScheme.rsa_pkcs1_sha512,
        SignatureScheme.rsa_pkcs1_sha1,
    }
)
_ECDSA12 = frozenset(_ECDSA_CURVE) | {SignatureScheme.ecdsa_sha1}


def key_matches_scheme12(key: PrivateKey | PublicKey, scheme: int) -> bool:
    if scheme in _ECDSA12:
        return isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey)
    if scheme in _PKCS1 or scheme in _PSS_RSAE:
        return isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey)
    return False


def choose_scheme12(key: PrivateKey, ours: tuple[int, ...], peers: list[int] | tuple[int, ...]) -> int | None:
    """First scheme of ours (then the peer's SHA-1 defaults, if that is all it accepts) the key can make."""
    for scheme in (*ours, *TLS12_DEFAULT_PEER_SCHEMES):
        if scheme in peers and scheme in _HASHES12 and key_matches_scheme12(key, scheme):
            return scheme
    return None


def sign12(key: PrivateKey, scheme: int, data: bytes) -> bytes:
    if not key_matches_scheme12(key, scheme) or scheme not in _HASHES12:
        raise TLSAlertError(AlertDescription.internal_error, "signing key does not match scheme")
    h = _HASHES12[scheme]()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, _ecdsa(h))
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.sign(data, padding.PKCS1v15() if scheme in _PKCS1 else _pss(h), h)


def verify12(key: PublicKey, scheme: int, signature: bytes, data: bytes, offered: tuple[int, ...]) -> None:
    """Check a TLS 1.2 ServerKeyExchange or CertificateVerify signature (RFC 5246 sections 7.4.3, 7.4.8)."""
    if scheme not in offered or scheme not in _HASHES12:
        raise TLSAlertError(AlertDescription.illegal_parameter, f"signature scheme {scheme:#06x} not offered")
    if not key_matches_scheme12(key, scheme):
        raise TLSAlertError(AlertDescription.illegal_parameter, "signature scheme does not match certificate key")
    h = _HASHES12[scheme]()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, _ecdsa(h))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15() if scheme in _PKCS1 else _pss(h), h)
    except InvalidSignature:
        raise TLSAlertError(AlertDescription.decrypt_error, "signature invalid") from None
