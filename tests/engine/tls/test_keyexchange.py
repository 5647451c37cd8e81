"""Named groups and key exchange (RFC 9846 sections 4.3.7, 4.3.8, 7.4; draft-ietf-tls-ecdhe-mlkem for the hybrid).

For every supported group the two sides agree on the shared secret; a share that is malformed or semantically
invalid is illegal_parameter (RFC 9846 section 4.3.8: "MUST ... abort ... with an illegal_parameter alert").
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from engine.tls import AlertDescription, TLSAlertError
from engine.tls.keyexchange import (
    HAVE_MLKEM,
    SUPPORTED_GROUPS,
    NamedGroup,
    PrivateKeyShare,
    client_shared_secret,
    generate_private_key,
    public_share,
    server_exchange,
)

A = AlertDescription
G = NamedGroup
GROUPS = [pytest.param(g, id=G(g).name) for g in SUPPORTED_GROUPS]
needs_mlkem = pytest.mark.skipif(not HAVE_MLKEM, reason="cryptography build without ML-KEM")

# key_exchange sizes: RFC 9846 section 4.3.8.2 (uncompressed points), RFC 7748 (X25519), draft-ietf-tls-ecdhe-mlkem
_CLASSIC_LEN = {G.x25519: 32, G.secp256r1: 65, G.secp384r1: 97, G.x448: 56, G.secp521r1: 133}
CLIENT_SHARE_LEN: dict[int, int] = _CLASSIC_LEN | {G.X25519MLKEM768: 1184 + 32}
SERVER_SHARE_LEN: dict[int, int] = _CLASSIC_LEN | {G.X25519MLKEM768: 1088 + 32}
SECRET_LEN: dict[int, int] = {
    G.x25519: 32,
    G.secp256r1: 32,
    G.secp384r1: 48,
    G.x448: 56,  # RFC 7748 section 6.2
    G.secp521r1: 66,  # RFC 9846 section 7.4.2: the x-coordinate, padded to the field size
    G.X25519MLKEM768: 32 + 32,
}
EC_GROUPS = [pytest.param(g, id=G(g).name) for g in (G.secp256r1, G.secp384r1, G.secp521r1)]


def _illegal(action: object) -> None:
    assert callable(action)
    with pytest.raises(TLSAlertError) as info:
        action()
    assert info.value.alert == A.illegal_parameter and info.value.sent_by_us, info.value


def test_group_code_points() -> None:
    # RFC 9846 section 4.3.7 and the IANA registry entry for X25519MLKEM768
    assert (G.secp256r1, G.secp384r1, G.x25519, G.X25519MLKEM768) == (0x17, 0x18, 0x1D, 0x11EC)
    assert (G.secp521r1, G.x448) == (0x19, 0x1E)


def test_x448_and_secp521r1_are_supported() -> None:
    assert G.x448 in SUPPORTED_GROUPS and G.secp521r1 in SUPPORTED_GROUPS


def test_supported_groups_include_the_mandatory_ones() -> None:
    # RFC 9846 section 9.1: secp256r1 MUST, X25519 SHOULD
    assert G.secp256r1 in SUPPORTED_GROUPS and G.x25519 in SUPPORTED_GROUPS
    assert (G.X25519MLKEM768 in SUPPORTED_GROUPS) == HAVE_MLKEM


@pytest.mark.parametrize("group", GROUPS)
def test_both_sides_agree(group: int) -> None:
    client_key = generate_private_key(group)
    share = public_share(group, client_key)
    assert len(share) == CLIENT_SHARE_LEN[group]
    server_share, server_secret = server_exchange(group, share, generate_private_key)
    assert len(server_share) == SERVER_SHARE_LEN[group]
    assert client_shared_secret(group, client_key, server_share) == server_secret
    assert len(server_secret) == SECRET_LEN[group]


@pytest.mark.parametrize("group", GROUPS)
def test_fresh_keys_give_fresh_secrets(group: int) -> None:
    key = generate_private_key(group)
    share = public_share(group, key)
    assert (
        server_exchange(group, share, generate_private_key)[1] != server_exchange(group, share, generate_private_key)[1]
    )


def test_server_uses_the_injected_key_generator() -> None:
    fixed = x25519.X25519PrivateKey.from_private_bytes(bytes(range(32)))
    client = generate_private_key(G.x25519)
    assert isinstance(client, x25519.X25519PrivateKey)
    seen: list[int] = []

    def gen(group: int) -> x25519.X25519PrivateKey:
        seen.append(group)
        return fixed

    server_share, secret = server_exchange(G.x25519, public_share(G.x25519, client), gen)
    assert seen == [G.x25519]
    assert server_share == fixed.public_key().public_bytes_raw()
    assert secret == fixed.exchange(client.public_key())


@needs_mlkem
def test_server_uses_the_injected_key_generator_for_the_hybrid_too() -> None:
    fixed = x25519.X25519PrivateKey.from_private_bytes(bytes(range(32)))
    seen: list[int] = []

    def gen(group: int) -> PrivateKeyShare:
        seen.append(group)
        if group == G.X25519MLKEM768:
            kem, _ = generate_private_key(group)  # type: ignore[misc]
            return (kem, fixed)
        return fixed

    client = generate_private_key(G.X25519MLKEM768)
    server_share, _ = server_exchange(G.X25519MLKEM768, public_share(G.X25519MLKEM768, client), gen)
    assert seen
    assert server_share[1088:] == fixed.public_key().public_bytes_raw()


def test_ec_share_is_an_uncompressed_point() -> None:
    for group in (G.secp256r1, G.secp384r1, G.secp521r1):
        assert public_share(group, generate_private_key(group))[0] == 4


# -- malformed peer shares ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("cut", [1, -1], ids=["short", "long"])
def test_wrong_length_share_is_illegal_parameter(group: int, cut: int) -> None:
    key = generate_private_key(group)
    share = public_share(group, key)
    bad = share[:-1] if cut == 1 else share + b"\x00"
    _illegal(lambda: server_exchange(group, bad, generate_private_key))
    server_share, _ = server_exchange(group, share, generate_private_key)
    bad_reply = server_share[:-1] if cut == 1 else server_share + b"\x00"
    _illegal(lambda: client_shared_secret(group, key, bad_reply))


@pytest.mark.parametrize("group", GROUPS)
def test_empty_share_is_illegal_parameter(group: int) -> None:
    _illegal(lambda: server_exchange(group, b"", generate_private_key))
    _illegal(lambda: client_shared_secret(group, generate_private_key(group), b""))


def test_x25519_low_order_point_is_illegal_parameter() -> None:
    # RFC 9846 section 7.4.2: an all-zero shared secret MUST be rejected; the zero point always produces one
    _illegal(lambda: server_exchange(G.x25519, bytes(32), generate_private_key))
    _illegal(lambda: client_shared_secret(G.x25519, generate_private_key(G.x25519), bytes(32)))


@pytest.mark.parametrize("group", EC_GROUPS)
def test_compressed_ec_point_is_illegal_parameter(group: int) -> None:
    # RFC 9846 section 4.3.8.2: only the uncompressed form is used in TLS 1.3
    share = public_share(group, generate_private_key(group))
    coordinate = share[1 : 1 + (len(share) - 1) // 2]
    compressed = bytes([2 + (share[-1] & 1)]) + coordinate
    padded = compressed + bytes(len(share) - len(compressed))  # right length, wrong form
    _illegal(lambda: server_exchange(group, compressed, generate_private_key))
    _illegal(lambda: server_exchange(group, padded, generate_private_key))


@pytest.mark.parametrize("group", EC_GROUPS)
def test_point_not_on_the_curve_is_illegal_parameter(group: int) -> None:
    # RFC 9846 section 4.3.8.2: peers MUST validate each other's public key
    share = bytearray(public_share(group, generate_private_key(group)))
    share[-1] ^= 1
    _illegal(lambda: server_exchange(group, bytes(share), generate_private_key))
    _illegal(lambda: client_shared_secret(group, generate_private_key(group), bytes(share)))


def test_point_for_another_curve_is_illegal_parameter() -> None:
    p384_share = public_share(G.secp384r1, generate_private_key(G.secp384r1))
    _illegal(lambda: server_exchange(G.secp256r1, p384_share, generate_private_key))
    p521_share = public_share(G.secp521r1, generate_private_key(G.secp521r1))
    _illegal(lambda: server_exchange(G.secp384r1, p521_share, generate_private_key))
    x448_share = public_share(G.x448, generate_private_key(G.x448))
    _illegal(lambda: server_exchange(G.x25519, x448_share, generate_private_key))


# RFC 7748 section 5: the u-coordinates of small order for Curve448 (0, 1 and p - 1); each gives an all-zero
# shared secret, which RFC 9846 section 7.4.2 requires us to refuse
_X448_P = (1 << 448) - (1 << 224) - 1
X448_LOW_ORDER = [
    pytest.param(u.to_bytes(56, "little"), id=name) for name, u in (("0", 0), ("1", 1), ("p-1", _X448_P - 1))
]


@pytest.mark.parametrize("share", X448_LOW_ORDER)
def test_x448_low_order_points_are_illegal_parameter(share: bytes) -> None:
    _illegal(lambda: server_exchange(G.x448, share, generate_private_key))
    _illegal(lambda: client_shared_secret(G.x448, generate_private_key(G.x448), share))


# -- independent implementations as oracles: tlslite-ng's pure-Python X448, python-ecdsa's ECDH ---------------------


@pytest.mark.parametrize("seed", range(3))
def test_x448_agrees_with_tlslite(seed: int) -> None:
    tlslite_x = pytest.importorskip("tlslite.utils.x25519")
    peer_private = bytes((seed * 31 + i) % 256 for i in range(56))
    peer_public = bytes(tlslite_x.x448(bytearray(peer_private), tlslite_x.X448_G))
    # the server side against the oracle's public key, and the oracle against the server's share
    server_share, secret = server_exchange(G.x448, peer_public, generate_private_key)
    assert bytes(tlslite_x.x448(bytearray(peer_private), bytearray(server_share))) == secret
    # the client side with a fixed key
    ours = x448.X448PrivateKey.from_private_bytes(bytes(range(56)))
    assert bytes(tlslite_x.x448(bytearray(bytes(range(56))), tlslite_x.X448_G)) == public_share(G.x448, ours)
    assert client_shared_secret(G.x448, ours, peer_public) == bytes(
        tlslite_x.x448(bytearray(bytes(range(56))), bytearray(peer_public))
    )


@pytest.mark.parametrize("seed", range(3))
def test_secp521r1_agrees_with_python_ecdsa(seed: int) -> None:
    ecdsa = pytest.importorskip("ecdsa")
    oracle = ecdsa.ECDH(curve=ecdsa.NIST521p)
    oracle.generate_private_key()
    peer_public = oracle.get_public_key().to_string("uncompressed")
    server_share, secret = server_exchange(G.secp521r1, peer_public, generate_private_key)
    oracle.load_received_public_key_bytes(server_share)
    assert oracle.generate_sharedsecret_bytes() == secret
    key = generate_private_key(G.secp521r1)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    mirror = ecdsa.ECDH(curve=ecdsa.NIST521p, private_key=ecdsa.SigningKey.from_der(der))
    mirror.load_received_public_key_bytes(peer_public)
    assert client_shared_secret(G.secp521r1, key, peer_public) == mirror.generate_sharedsecret_bytes()
    assert key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint) == public_share(
        G.secp521r1, key
    )


@needs_mlkem
def test_hybrid_with_invalid_encapsulation_key_is_illegal_parameter() -> None:
    # FIPS 203 modulus check: coefficients encoded as 0xfff are >= q
    x_share = public_share(G.x25519, generate_private_key(G.x25519))
    _illegal(lambda: server_exchange(G.X25519MLKEM768, b"\xff" * 1184 + x_share, generate_private_key))


@needs_mlkem
def test_hybrid_with_bad_x25519_part_is_illegal_parameter() -> None:
    key = generate_private_key(G.X25519MLKEM768)
    share = public_share(G.X25519MLKEM768, key)
    _illegal(lambda: server_exchange(G.X25519MLKEM768, share[:-32] + bytes(32), generate_private_key))
    server_share, _ = server_exchange(G.X25519MLKEM768, share, generate_private_key)
    _illegal(lambda: client_shared_secret(G.X25519MLKEM768, key, server_share[:-32] + bytes(32)))


@needs_mlkem
def test_hybrid_secret_is_mlkem_then_x25519() -> None:
    # draft-ietf-tls-ecdhe-mlkem: shared secret = ML-KEM shared secret || X25519 shared secret
    kem, xkey = generate_private_key(G.X25519MLKEM768)  # type: ignore[misc]
    share = public_share(G.X25519MLKEM768, (kem, xkey))
    assert share[:1184] == kem.public_key().public_bytes_raw()
    assert share[1184:] == xkey.public_key().public_bytes_raw()
    server_share, secret = server_exchange(G.X25519MLKEM768, share, generate_private_key)
    assert secret[:32] == kem.decapsulate(server_share[:1088])
    peer_x = x25519.X25519PublicKey.from_public_bytes(server_share[1088:])
    assert secret[32:] == xkey.exchange(peer_x)


# -- our own mistakes --------------------------------------------------------------------------------------------


def test_unsupported_group_cannot_be_generated() -> None:
    with pytest.raises(ValueError):
        generate_private_key(G.ffdhe2048)


def test_key_for_another_group_is_internal_error() -> None:
    key = generate_private_key(G.x25519)
    with pytest.raises(TLSAlertError) as info:
        client_shared_secret(G.secp256r1, key, public_share(G.secp256r1, generate_private_key(G.secp256r1)))
    assert info.value.alert == A.internal_error
