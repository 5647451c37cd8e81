"""Named groups and (EC)DHE / hybrid KEM key exchange (RFC 9846 sections 4.3.7, 4.3.8, 7.4).

The client generates a private key per offered group (:func:`generate_private_key`, replaceable through the context
so tests can fix it), sends :func:`public_share`, and later calls :func:`client_shared_secret` with the server's
share. The server calls :func:`server_exchange`, which returns its own share and the shared secret; for a KEM the
server "share" is the ciphertext, so the server side never needs a key pair of its own for that part.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.asymmetric import mlkem as _mlkem

from .alerts import AlertDescription, TLSAlertError


def _probe_mlkem() -> bool:
    # ML-KEM needs a cryptography build whose backend provides it
    try:
        _mlkem.MLKEM768PrivateKey.generate()
    except Exception:  # pragma: no cover - depends on the cryptography build
        return False
    return True


HAVE_MLKEM = _probe_mlkem()


class NamedGroup(IntEnum):
    secp256r1 = 0x0017
    secp384r1 = 0x0018
    secp521r1 = 0x0019
    x25519 = 0x001D
    x448 = 0x001E
    ffdhe2048 = 0x0100
    ffdhe3072 = 0x0101
    ffdhe4096 = 0x0102
    ffdhe6144 = 0x0103
    ffdhe8192 = 0x0104
    X25519MLKEM768 = 0x11EC


_CURVES: dict[int, ec.EllipticCurve] = {
    NamedGroup.secp256r1: ec.SECP256R1(),
    NamedGroup.secp384r1: ec.SECP384R1(),
    NamedGroup.secp521r1: ec.SECP521R1(),
}
# RFC 9846 section 4.3.8.2: UncompressedPointRepresentation, 1 + 2 * coordinate length
_POINT_LEN: dict[int, int] = {NamedGroup.secp256r1: 65, NamedGroup.secp384r1: 97, NamedGroup.secp521r1: 133}
_X448_LEN = 56  # RFC 7748 section 6.2
_MLKEM768_EK = 1184
_MLKEM768_CT = 1088

SUPPORTED_GROUPS: tuple[int, ...] = (
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
    NamedGroup.x448,
    NamedGroup.secp521r1,
) + ((NamedGroup.X25519MLKEM768,) if HAVE_MLKEM else ())

# A private key for one group: an X25519, X448 or EC key, or for the hybrid a (ML-KEM, X25519) pair.
PrivateKeyShare: TypeAlias = (
    x25519.X25519PrivateKey
    | x448.X448PrivateKey
    | ec.EllipticCurvePrivateKey
    | tuple[_mlkem.MLKEM768PrivateKey, x25519.X25519PrivateKey]
)
KeyGenerator = Callable[[int], PrivateKeyShare]


def generate_private_key(group: int) -> PrivateKeyShare:
    if group == NamedGroup.x25519:
        return x25519.X25519PrivateKey.generate()
    if group == NamedGroup.x448:
        return x448.X448PrivateKey.generate()
    if group in _CURVES:
        return ec.generate_private_key(_CURVES[group])
    if group == NamedGroup.X25519MLKEM768 and HAVE_MLKEM:
        return (_mlkem.MLKEM768PrivateKey.generate(), x25519.X25519PrivateKey.generate())
    raise ValueError(f"unsupported group {group:#06x}")


def public_share(group: int, key: PrivateKeyShare) -> bytes:
    """KeyShareEntry.key_exchange for our private key (RFC 9846 section 4.3.8.2: uncompressed points)."""
    if isinstance(key, x25519.X25519PrivateKey | x448.X448PrivateKey):
        return key.public_key().public_bytes_raw()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    kem, xkey = key
    # draft-ietf-tls-ecdhe-mlkem: client share is the ML-KEM encapsulation key followed by the X25519 share
    return kem.public_key().public_bytes_raw() + xkey.public_key().public_bytes_raw()


def _bad_share(message: str) -> TLSAlertError:
    return TLSAlertError(AlertDescription.illegal_parameter, message)


def _x25519(priv: x25519.X25519PrivateKey, peer: bytes) -> bytes:
    if len(peer) != 32:
        raise _bad_share("x25519 share length")
    try:
        # RFC 9846 section 7.4.2 / RFC 7748: an all-zero result must be rejected; cryptography raises for it
        return priv.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
    except ValueError as exc:
        raise _bad_share("x25519 exchange failed") from exc


def _x448(priv: x448.X448PrivateKey, peer: bytes) -> bytes:
    if len(peer) != _X448_LEN:
        raise _bad_share("x448 share length")
    try:
        # RFC 9846 section 7.4.2 / RFC 7748 section 6.2: an all-zero result must be rejected; cryptography raises
        return priv.exchange(x448.X448PublicKey.from_public_bytes(peer))
    except ValueError as exc:
        raise _bad_share("x448 exchange failed") from exc


def _ecdh(group: int, priv: ec.EllipticCurvePrivateKey, peer: bytes) -> bytes:
    if len(peer) != _POINT_LEN[group] or peer[0] != 4:
        raise _bad_share("EC share must be an uncompressed point")
    try:
        pub = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[group], peer)
        return priv.exchange(ec.ECDH(), pub)
    except ValueError as exc:
        raise _bad_share("invalid EC point") from exc


def client_shared_secret(group: int, key: PrivateKeyShare, server_share: bytes) -> bytes:
    if group == NamedGroup.x25519 and isinstance(key, x25519.X25519PrivateKey):
        return _x25519(key, server_share)
    if group == NamedGroup.x448 and isinstance(key, x448.X448PrivateKey):
        return _x448(key, server_share)
    if group in _CURVES and isinstance(key, ec.EllipticCurvePrivateKey):
        return _ecdh(group, key, server_share)
    if group == NamedGroup.X25519MLKEM768 and isinstance(key, tuple):
        kem, xkey = key
        if len(server_share) != _MLKEM768_CT + 32:
            raise _bad_share("hybrid share length")
        try:
            kem_secret = kem.decapsulate(server_share[:_MLKEM768_CT])
        except ValueError as exc:
            raise _bad_share("ML-KEM decapsulation failed") from exc
        return kem_secret + _x25519(xkey, server_share[_MLKEM768_CT:])
    raise TLSAlertError(AlertDescription.internal_error, "key share does not match group")


def server_exchange(group: int, client_share: bytes, generate: KeyGenerator) -> tuple[bytes, bytes]:
    """``(server key_exchange, shared secret)`` for the client's share in ``group``."""
    if group == NamedGroup.X25519MLKEM768 and HAVE_MLKEM:
        if len(client_share) != _MLKEM768_EK + 32:
            raise _bad_share("hybrid share length")
        try:
            ek = _mlkem.MLKEM768PublicKey.from_public_bytes(client_share[:_MLKEM768_EK])
            kem_secret, ciphertext = ek.encapsulate()
        except ValueError as exc:
            raise _bad_share("bad ML-KEM encapsulation key") from exc
        generated = generate(group)  # the injected generator (style: no hidden randomness); its X25519 half is used
        xkey = generated[1] if isinstance(generated, tuple) else generated
        if not isinstance(xkey, x25519.X25519PrivateKey):
            raise TLSAlertError(AlertDescription.internal_error, "hybrid key generator gave no X25519 key")
        return ciphertext + xkey.public_key().public_bytes_raw(), kem_secret + _x25519(xkey, client_share[-32:])
    key = generate(group)
    if isinstance(key, x25519.X25519PrivateKey):
        return public_share(group, key), _x25519(key, client_share)
    if isinstance(key, x448.X448PrivateKey):
        return public_share(group, key), _x448(key, client_share)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return public_share(group, key), _ecdh(group, key, client_share)
    raise TLSAlertError(AlertDescription.internal_error, "unsupported group")
