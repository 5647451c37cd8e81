"""TLS 1.2 PRF and derivations (engine/tls/prf12.py) against published vectors and tlslite-ng as an oracle.

Oracles, none of them this module:

* the P_SHA256 / P_SHA384 "test label" vectors posted to the IETF TLS list
  (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html), which the OpenSSL 3.0 CLI reproduces:
  ``openssl kdf -keylen 100 -kdfopt digest:SHA256 -kdfopt hexsecret:... -kdfopt hexseed:<label><seed> TLS1-PRF``;
  the CLI itself is also run here on random inputs when it is installed;
* tlslite-ng's ``mathtls.calc_key`` (its own PRF, label handling, seed order and transcript hashing) and its record
  layer's per-suite key block lengths.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from hypothesis import given, settings
from hypothesis import strategies as st
from tls13_testlib import make_ca, make_leaf

from engine.tls.prf12 import (
    MASTER_SECRET_LEN,
    KeyBlock,
    KeyedPRF,
    derive_keys,
    export_keying_material,
    extended_master_secret,
    finished_verify_data,
    key_block,
    master_secret,
    p_hash,
    prf,
    split_key_block,
)
from engine.tls.suites12 import SUITES12, Suite12

mathtls = pytest.importorskip("tlslite.mathtls")
HandshakeHashes = pytest.importorskip("tlslite.handshakehashes").HandshakeHashes
TlsliteRecordLayer = pytest.importorskip("tlslite.recordlayer").RecordLayer

TLS12 = (3, 3)
SUITE_LIST = list(SUITES12.values())

# IETF TLS list, msg03416 (see the module docstring)
IETF_VECTORS = [
    (
        hashes.SHA256(),
        "9bbe436ba940f017b17652849a71db35",
        "a0ba9f936cda311827a6f796ffd5198c",
        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af"
        "0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
        "87347b66",
    ),
    (
        hashes.SHA384(),
        "b80b733d6ceefcdc71566ea48e5567df",
        "cd665cf6a8447dd6ff8b27555edb7465",
        "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0"
        "e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
        "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f",
    ),
]


@pytest.mark.parametrize(("algorithm", "secret", "seed", "expected"), IETF_VECTORS, ids=["sha256", "sha384"])
def test_prf_matches_the_ietf_vectors(algorithm: hashes.HashAlgorithm, secret: str, seed: str, expected: str) -> None:
    out = bytes.fromhex(expected)
    assert prf(algorithm, bytes.fromhex(secret), b"test label", bytes.fromhex(seed), len(out)) == out
    # every prefix is the PRF at that length (P_hash is a stream, truncated)
    for n in (0, 1, 31, 32, 33, 47, 48, 49):
        assert prf(algorithm, bytes.fromhex(secret), b"test label", bytes.fromhex(seed), n) == out[:n]


def test_p_hash_is_prf_without_the_label() -> None:
    assert p_hash(hashes.SHA256(), b"k", b"labelseed", 70) == prf(hashes.SHA256(), b"k", b"label", b"seed", 70)
    with pytest.raises(ValueError):
        p_hash(hashes.SHA256(), b"k", b"s", -1)


def _openssl_prf(digest: str, secret: bytes, label_seed: bytes, length: int) -> bytes:
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("openssl CLI not installed")
    args = [exe, "kdf", "-keylen", str(length), "-kdfopt", f"digest:{digest}", "-kdfopt", f"hexsecret:{secret.hex()}"]
    args += ["-kdfopt", f"hexseed:{label_seed.hex()}", "TLS1-PRF"]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=30).stdout
    return bytes.fromhex(out.strip().replace(":", ""))


@pytest.mark.parametrize("digest", ["SHA256", "SHA384"])
@pytest.mark.parametrize("length", [12, 48, 104, 200])
def test_prf_matches_the_openssl_cli(digest: str, length: int) -> None:
    secret = bytes(range(48))
    seed = b"\xa5" * 64
    algorithm = hashes.SHA256() if digest == "SHA256" else hashes.SHA384()
    assert prf(algorithm, secret, b"key expansion", seed, length) == _openssl_prf(
        digest, secret, b"key expansion" + seed, length
    )


_bytes = st.binary(min_size=0, max_size=80)
_random = st.binary(min_size=32, max_size=32)


@settings(max_examples=60, deadline=None)
@given(secret=_bytes, label=st.binary(max_size=20), seed=_bytes, length=st.integers(0, 300))
def test_prf_sha256_and_sha384_match_tlslite(secret: bytes, label: bytes, seed: bytes, length: int) -> None:
    assert prf(hashes.SHA256(), secret, label, seed, length) == bytes(
        mathtls.PRF_1_2(bytearray(secret), label, bytearray(seed), length)
    )
    assert prf(hashes.SHA384(), secret, label, seed, length) == bytes(
        mathtls.PRF_1_2_SHA384(bytearray(secret), label, bytearray(seed), length)
    )


def _transcript(messages: list[bytes]) -> HandshakeHashes:
    hh = HandshakeHashes()
    for m in messages:
        hh.update(bytearray(m))
    return hh


def _digest(suite: Suite12, messages: list[bytes]) -> bytes:
    h = hashes.Hash(suite.hash_algorithm())
    for m in messages:
        h.update(m)
    return h.finalize()


@settings(max_examples=30, deadline=None)
@given(
    suite=st.sampled_from(SUITE_LIST),
    pms=st.binary(min_size=1, max_size=66),
    client_random=_random,
    server_random=_random,
    messages=st.lists(st.binary(min_size=4, max_size=200), min_size=1, max_size=6),
)
def test_master_secrets_match_tlslite(
    suite: Suite12, pms: bytes, client_random: bytes, server_random: bytes, messages: list[bytes]
) -> None:
    theirs = mathtls.calc_key(
        TLS12,
        bytearray(pms),
        suite.id,
        b"master secret",
        client_random=bytearray(client_random),
        server_random=bytearray(server_random),
        output_length=48,
    )
    ours = master_secret(suite.hash_algorithm(), pms, client_random, server_random)
    assert ours == bytes(theirs)
    assert len(ours) == MASTER_SECRET_LEN
    # RFC 7627: tlslite hashes the messages itself with the suite's PRF hash; we are given the session hash
    theirs_ems = mathtls.calc_key(
        TLS12,
        bytearray(pms),
        suite.id,
        b"extended master secret",
        handshake_hashes=_transcript(messages),
        output_length=48,
    )
    assert extended_master_secret(suite.hash_algorithm(), pms, _digest(suite, messages)) == bytes(theirs_ems)


@settings(max_examples=30, deadline=None)
@given(
    suite=st.sampled_from(SUITE_LIST),
    master=st.binary(min_size=48, max_size=48),
    client_random=_random,
    server_random=_random,
)
def test_key_block_and_split_match_tlslite(
    suite: Suite12, master: bytes, client_random: bytes, server_random: bytes
) -> None:
    # tlslite's own per-suite lengths; for CBC it also derives 16-byte IVs (the TLS 1.0 layout) after the keys,
    # which TLS 1.2 does not use (RFC 5246 section 6.3) and which cannot move the MAC keys or encryption keys
    key_len, iv_len, _ = TlsliteRecordLayer._getCipherSettings(suite.id)
    mac_len, _ = TlsliteRecordLayer._getMacSettings(suite.id)
    total = 2 * (mac_len + key_len + iv_len)
    theirs = bytes(
        mathtls.calc_key(
            TLS12,
            bytearray(master),
            suite.id,
            b"key expansion",
            client_random=bytearray(client_random),
            server_random=bytearray(server_random),
            output_length=total,
        )
    )
    keys = derive_keys(suite, master, client_random, server_random)
    pos = 0
    expected = []
    for n in (mac_len, mac_len, key_len, key_len):
        expected.append(theirs[pos : pos + n])
        pos += n
    assert [keys.client_write_mac_key, keys.server_write_mac_key, keys.client_write_key, keys.server_write_key] == (
        expected
    )
    if suite.is_aead:
        assert keys.client_write_iv == theirs[pos : pos + iv_len]
        assert keys.server_write_iv == theirs[pos + iv_len : pos + 2 * iv_len]
    else:
        assert keys.client_write_iv == keys.server_write_iv == b""
    assert key_block(suite.hash_algorithm(), master, client_random, server_random, total) == theirs


@settings(max_examples=30, deadline=None)
@given(
    suite=st.sampled_from(SUITE_LIST),
    master=st.binary(min_size=48, max_size=48),
    messages=st.lists(st.binary(min_size=4, max_size=300), min_size=1, max_size=8),
)
def test_finished_verify_data_matches_tlslite(suite: Suite12, master: bytes, messages: list[bytes]) -> None:
    digest = _digest(suite, messages)
    for client, label in ((True, b"client finished"), (False, b"server finished")):
        theirs = mathtls.calc_key(
            TLS12, bytearray(master), suite.id, label, handshake_hashes=_transcript(messages), output_length=12
        )
        ours = finished_verify_data(suite.hash_algorithm(), master, digest, client=client)
        assert ours == bytes(theirs)
        assert len(ours) == 12


def test_client_and_server_finished_differ() -> None:
    h = bytes(32)
    suite = SUITES12[0xC02F]
    a = finished_verify_data(suite.hash_algorithm(), bytes(48), h, client=True)
    b = finished_verify_data(suite.hash_algorithm(), bytes(48), h, client=False)
    assert a != b


@pytest.mark.parametrize("code", [0xC02F, 0xC030])
def test_keyed_prf_gives_what_the_plain_functions_give(code: int) -> None:
    # the handshake keys the master secret's HMAC once (KeyedPRF) for the key block and both Finished
    suite = SUITES12[code]
    master, cr, sr = bytes(range(48)), bytes(range(32)), bytes(range(32, 64))
    h = bytes(range(suite.hash_algorithm().digest_size))
    keyed = KeyedPRF(suite.hash_algorithm(), master)
    assert derive_keys(suite, master, cr, sr, keyed) == derive_keys(suite, master, cr, sr)
    for client in (True, False):  # each call copies the keyed state: the order of use does not matter
        assert finished_verify_data(suite.hash_algorithm(), master, h, client=client, prf_of_master=keyed) \
            == finished_verify_data(suite.hash_algorithm(), master, h, client=client)  # fmt: skip
    assert keyed(b"label", b"seed", 100) == prf(suite.hash_algorithm(), master, b"label", b"seed", 100)
    with pytest.raises(ValueError, match="32 bytes"):
        derive_keys(suite, master, cr[:31], sr, keyed)


def test_bad_inputs_are_clear_errors() -> None:
    suite = SUITES12[0xC013]
    with pytest.raises(ValueError, match="32 bytes"):
        master_secret(hashes.SHA256(), b"x", bytes(31), bytes(32))
    with pytest.raises(ValueError, match="needs"):
        split_key_block(suite, bytes(suite.key_block_len - 1))
    keys = split_key_block(suite, bytes(range(suite.key_block_len)))
    assert isinstance(keys, KeyBlock)
    assert "00" not in repr(keys) and "keys" in repr(keys)


# -- the exporter (RFC 5705) against OpenSSL's SSL_export_keying_material, through pyOpenSSL ----------------------


def _openssl_tls12_pair(suite: Suite12) -> tuple[Any, Any]:
    """A TLS 1.2 client and server of the system OpenSSL (pyOpenSSL), handshaken over memory BIOs."""
    SSL = pytest.importorskip("OpenSSL.SSL")
    ca = make_ca()
    leaf = make_leaf(ca, key_type="ec256" if suite.auth.value == "ECDSA" else "rsa")
    server_ctx = SSL.Context(SSL.TLS_METHOD)
    server_ctx.set_max_proto_version(SSL.TLS1_2_VERSION)
    server_ctx.use_certificate(leaf.cert)
    server_ctx.use_privatekey(leaf.key)
    server_ctx.set_cipher_list(suite.openssl_name.encode())
    client_ctx = SSL.Context(SSL.TLS_METHOD)
    client_ctx.set_max_proto_version(SSL.TLS1_2_VERSION)
    client_ctx.set_cipher_list(suite.openssl_name.encode())
    server, client = SSL.Connection(server_ctx, None), SSL.Connection(client_ctx, None)
    server.set_accept_state()
    client.set_connect_state()
    for _ in range(10):
        for conn in (client, server):
            with contextlib.suppress(SSL.WantReadError):
                conn.do_handshake()
        for src, dst in ((client, server), (server, client)):
            with contextlib.suppress(SSL.WantReadError):
                dst.bio_write(src.bio_read(1 << 16))
    assert client.get_cipher_name() == suite.openssl_name and client.get_protocol_version_name() == "TLSv1.2"
    return client, server


@pytest.mark.parametrize("code", [0xC02F, 0xC030, 0xCCA9, 0xC009], ids=lambda c: SUITES12[c].openssl_name)
def test_exporter_matches_openssl(code: int) -> None:
    suite = SUITES12[code]
    client, server = _openssl_tls12_pair(suite)
    master, cr, sr = client.master_key(), client.client_random(), client.server_random()
    for label, length, context in (
        (b"EXPERIMENTAL my label", 32, None),
        (b"EXPERIMENTAL my label", 32, b""),
        (b"EXPERIMENTAL my label", 100, b"some context"),
        (b"EXTRACTOR-dtls_srtp", 60, None),
    ):
        ours = export_keying_material(suite.hash_algorithm(), master, cr, sr, label, length, context)
        assert ours == client.export_keying_material(label, length, context)
        assert ours == server.export_keying_material(label, length, context)
    # no context and an empty context are different inputs (RFC 5705 section 4)
    no_context = export_keying_material(suite.hash_algorithm(), master, cr, sr, b"EXPERIMENTAL x", 16)
    assert no_context != export_keying_material(suite.hash_algorithm(), master, cr, sr, b"EXPERIMENTAL x", 16, b"")


@pytest.mark.parametrize(
    "label", [b"client finished", b"server finished", b"master secret", b"key expansion", b"extended master secret"]
)
def test_exporter_refuses_handshake_labels(label: bytes) -> None:
    with pytest.raises(ValueError, match="reserved"):
        export_keying_material(hashes.SHA256(), bytes(48), bytes(32), bytes(32), label, 16)


def test_exporter_context_length_limit() -> None:
    with pytest.raises(ValueError, match="context"):
        export_keying_material(hashes.SHA256(), bytes(48), bytes(32), bytes(32), b"EXPERIMENTAL x", 16, bytes(1 << 16))
    assert len(export_keying_material(hashes.SHA256(), bytes(48), bytes(32), bytes(32), b"E", 16, bytes(65535))) == 16
