"""A published TLS 1.2 connection, byte for byte: "The Illustrated TLS 1.2 Connection" (https://tls12.xargs.org).

Its captures (tests/engine/tls/illustrated_tls12.txt, with the source and licence) give every record of an
ECDHE-RSA-AES128-SHA connection over X25519 with fixed ephemeral keys, randoms and CBC IVs, and the site states the
pre-master secret, the key block and the handshake hash. From the ephemeral keys alone we rebuild the pre-master
secret, master secret, keys and both Finished messages, open every protected record, and, given the same IVs, seal
records identical to the captured ones (MAC-then-encrypt, RFC 5246 section 6.2.3.2).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import x25519

from engine.tls.keyexchange import NamedGroup, client_shared_secret
from engine.tls.prf12 import derive_keys, finished_verify_data, master_secret
from engine.tls.protection12 import CBCProtection12, Direction, protection_for
from engine.tls.suites12 import SUITES12, CipherSuite12

SUITE = SUITES12[CipherSuite12.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]
HANDSHAKE, ALERT, APPLICATION_DATA = 22, 21, 23


def _load() -> dict[str, bytes]:
    text = (Path(__file__).parent / "illustrated_tls12.txt").read_text()
    pairs = (line.split() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {name: bytes.fromhex(value) for name, value in pairs}


V = _load()


def _fragment(record: bytes) -> bytes:
    assert int.from_bytes(record[3:5], "big") == len(record) - 5
    return record[5:]


CLIENT_RANDOM = _fragment(V["clienthello"])[6:38]
SERVER_RANDOM = _fragment(V["serverhello"])[6:38]
HANDSHAKE_MESSAGES = b"".join(
    _fragment(V[n])
    for n in ("clienthello", "serverhello", "servercert", "serverkeyexchange", "serverhellodone", "clientkeyexchange")
)


def test_the_capture_negotiated_the_suite_we_test() -> None:
    assert _fragment(V["serverhello"])[4 + 2 + 32 + 1 : 4 + 2 + 32 + 3] == b"\xc0\x13"
    assert bytes(range(32)) == CLIENT_RANDOM
    assert bytes(range(0x70, 0x90)) == SERVER_RANDOM


def test_pre_master_and_master_secret() -> None:
    server_share = _fragment(V["serverkeyexchange"])[4 + 4 : 4 + 4 + 32]  # curve_type 3, named_curve 0x001d, len 32
    client_share = _fragment(V["clientkeyexchange"])[4 + 1 :]
    client_key = x25519.X25519PrivateKey.from_private_bytes(V["client_ephemeral_private"])
    server_key = x25519.X25519PrivateKey.from_private_bytes(V["server_ephemeral_private"])
    assert client_shared_secret(NamedGroup.x25519, client_key, server_share) == V["pre_master_secret"]
    assert client_shared_secret(NamedGroup.x25519, server_key, client_share) == V["pre_master_secret"]
    derived = master_secret(SUITE.hash_algorithm(), V["pre_master_secret"], CLIENT_RANDOM, SERVER_RANDOM)
    assert derived == V["master_secret"]  # the NSS key log of the capture


def test_key_block_split() -> None:
    keys = derive_keys(SUITE, V["master_secret"], CLIENT_RANDOM, SERVER_RANDOM)
    assert keys.client_write_mac_key == V["client_write_mac_key"]
    assert keys.server_write_mac_key == V["server_write_mac_key"]
    assert keys.client_write_key == V["client_write_key"]
    assert keys.server_write_key == V["server_write_key"]
    # the site also derives 16-byte IVs after the keys (the TLS 1.0 layout); TLS 1.2 CBC records carry their own
    assert keys.client_write_iv == keys.server_write_iv == b""


def test_finished_messages() -> None:
    h = hashes.Hash(hashes.SHA256())
    h.update(HANDSHAKE_MESSAGES)
    handshake_hash = h.finalize()
    assert handshake_hash == V["client_finished_handshake_hash"]
    keys = derive_keys(SUITE, V["master_secret"], CLIENT_RANDOM, SERVER_RANDOM)
    client_finished = protection_for(SUITE, keys, Direction.client_to_server).open(
        HANDSHAKE, _fragment(V["clientfinished"])
    )
    assert client_finished == b"\x14\x00\x00\x0c" + finished_verify_data(
        SUITE.hash_algorithm(), V["master_secret"], handshake_hash, client=True
    )
    h = hashes.Hash(hashes.SHA256())
    h.update(HANDSHAKE_MESSAGES + client_finished)
    server_finished = protection_for(SUITE, keys, Direction.server_to_client).open(
        HANDSHAKE, _fragment(V["serverfinished"])
    )
    assert server_finished == b"\x14\x00\x00\x0c" + finished_verify_data(
        SUITE.hash_algorithm(), V["master_secret"], h.finalize(), client=False
    )


CLIENT_RECORDS = [("clientfinished", HANDSHAKE), ("clientdata", APPLICATION_DATA), ("clientalert", ALERT)]
SERVER_RECORDS = [("serverfinished", HANDSHAKE), ("serverdata", APPLICATION_DATA)]


@pytest.mark.parametrize(
    ("direction", "records"),
    [(Direction.client_to_server, CLIENT_RECORDS), (Direction.server_to_client, SERVER_RECORDS)],
    ids=["client", "server"],
)
def test_every_record_opens_and_seals_to_the_same_bytes(direction: Direction, records: list[tuple[str, int]]) -> None:
    keys = derive_keys(SUITE, V["master_secret"], CLIENT_RANDOM, SERVER_RANDOM)
    reader = protection_for(SUITE, keys, direction)
    plaintexts = []
    for name, ctype in records:
        assert V[name][0] == ctype
        plaintexts.append(reader.open(ctype, _fragment(V[name])))
    assert plaintexts[1] == (b"ping" if direction is Direction.client_to_server else b"pong")
    if len(plaintexts) > 2:
        assert plaintexts[2] == b"\x01\x00"  # warning close_notify
    # the captured IVs, replayed through the injected random source
    ivs = iter(_fragment(V[name])[:16] for name, _ in records)
    writer = protection_for(SUITE, keys, direction, random=lambda n: next(ivs))
    assert isinstance(writer, CBCProtection12)
    for (name, ctype), plaintext in zip(records, plaintexts, strict=True):
        assert writer.seal(ctype, plaintext) == _fragment(V[name])
