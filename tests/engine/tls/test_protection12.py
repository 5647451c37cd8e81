"""TLS 1.2 record protection (engine/tls/protection12.py).

Oracles: tlslite-ng's record layer (its own AES-GCM / ChaCha20 / CBC / HMAC code paths and record formats) in both
directions, and real OpenSSL 3.0 through the standard library's ``ssl`` module (memory BIOs, keys from its key log):
we open the Finished and application records OpenSSL wrote and OpenSSL reads a record we sealed. The malformed CBC
records of the tamper tests are built here from raw AES-CBC and the standard library's ``hmac``, not by the module.
"""

from __future__ import annotations

import contextlib
import hmac
import itertools
import os
import ssl
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from hypothesis import given, settings
from hypothesis import strategies as st
from tls13_testlib import make_ca, make_leaf

import engine.tls.protection12 as protection12
from engine.tls.alerts import AlertDescription, TLSAlertError
from engine.tls.prf12 import KeyBlock, derive_keys, finished_verify_data, split_key_block
from engine.tls.protection12 import (
    MAX_CIPHERTEXT,
    MAX_PLAINTEXT,
    AEADProtection12,
    CBCProtection12,
    Direction,
    RecordProtection12,
    protection_for,
)
from engine.tls.suites12 import SUITES12, BulkCipher, Suite12

tlslite_recordlayer = pytest.importorskip("tlslite.recordlayer")
tlslite_messages = pytest.importorskip("tlslite.messages")

APPLICATION_DATA = 23
HANDSHAKE = 22
CBC_SUITES = [s for s in SUITES12.values() if not s.is_aead]
AEAD_SUITES = [s for s in SUITES12.values() if s.is_aead]
# every suite once, and the CBC suites once more with encrypt-then-MAC
MODES = [(s, False) for s in SUITES12.values()] + [(s, True) for s in CBC_SUITES]


def _mode_id(mode: tuple[Suite12, bool]) -> str:
    return mode[0].openssl_name + ("+etm" if mode[1] else "")


def _sized_binary(max_size: int) -> st.SearchStrategy[bytes]:
    """Bytes whose length is drawn uniformly (st.binary alone stays short: the long-record paths go untested)."""
    return st.integers(0, max_size).flatmap(lambda n: st.binary(min_size=n, max_size=n))


def _keys(suite: Suite12, seed: int = 1) -> KeyBlock:
    return split_key_block(suite, bytes((seed * 7 + i) % 256 for i in range(suite.key_block_len)))


def _pair(suite: Suite12, etm: bool, keys: KeyBlock | None = None) -> tuple[RecordProtection12, RecordProtection12]:
    keys = keys or _keys(suite)
    d = Direction.client_to_server
    return protection_for(suite, keys, d, etm), protection_for(suite, keys, d, etm)


def _alert(fn: Callable[[], object]) -> AlertDescription | int:
    with pytest.raises(TLSAlertError) as info:
        fn()
    return info.value.alert


def _open_alert(reader: RecordProtection12, fragment: bytes, content_type: int = 23) -> AlertDescription | int:
    with pytest.raises(TLSAlertError) as info:
        reader.open(content_type, fragment)
    return info.value.alert


# -- round trips -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES, ids=_mode_id)
def test_round_trip_at_the_size_limits(mode: tuple[Suite12, bool]) -> None:
    w, r = _pair(*mode)
    for n in (0, 1, 15, 16, 17, 31, 32, 33, 255, 256, MAX_PLAINTEXT):
        data = os.urandom(n)
        fragment = w.seal(APPLICATION_DATA, data)
        assert len(fragment) <= MAX_CIPHERTEXT
        assert r.open(APPLICATION_DATA, fragment) == data
    assert w.seq == r.seq == 11


@settings(max_examples=40, deadline=None)
@given(
    mode=st.sampled_from(MODES),
    records=st.lists(st.tuples(st.sampled_from([21, 22, 23]), _sized_binary(600)), min_size=1, max_size=6),
    view=st.booleans(),
)
def test_round_trip_property(mode: tuple[Suite12, bool], records: list[tuple[int, bytes]], view: bool) -> None:
    w, r = _pair(*mode)
    fragments = [w.seal(t, memoryview(p) if view else p) for t, p in records]
    assert [r.open(t, f) for (t, _), f in zip(records, fragments, strict=True)] == [p for _, p in records]


def test_directions_use_different_keys() -> None:
    suite = SUITES12[0xC02F]
    keys = derive_keys(suite, bytes(48), bytes(32), bytes(range(32)))
    c2s = protection_for(suite, keys, Direction.client_to_server)
    s2c = protection_for(suite, keys, Direction.server_to_client)
    assert _open_alert(s2c, c2s.seal(APPLICATION_DATA, b"x")) == AlertDescription.bad_record_mac


def test_factory_picks_the_shape() -> None:
    gcm, cbc = SUITES12[0xC02B], SUITES12[0xC013]
    assert isinstance(protection_for(gcm, _keys(gcm), Direction.client_to_server, True), AEADProtection12)
    p = protection_for(cbc, _keys(cbc), Direction.server_to_client, True)
    assert isinstance(p, CBCProtection12) and p.encrypt_then_mac
    with pytest.raises(ValueError):
        AEADProtection12(cbc, bytes(16), b"")
    with pytest.raises(ValueError):
        CBCProtection12(gcm, b"", bytes(16), encrypt_then_mac=False)
    with pytest.raises(ValueError):
        AEADProtection12(gcm, bytes(15), bytes(4))


# -- wire format details -----------------------------------------------------------------------------------------


def test_gcm_explicit_nonce_is_the_sequence_number() -> None:
    suite = SUITES12[0xC030]
    w, _ = _pair(suite, False)
    for seq in range(3):
        frag = w.seal(APPLICATION_DATA, b"abc")
        assert frag[:8] == seq.to_bytes(8, "big")
        assert len(frag) == 8 + 3 + 16


def test_aead_records_decrypt_with_the_rfc_nonce_and_additional_data() -> None:
    """Independent construction: RFC 5288 (salt || explicit) and RFC 7905 (IV XOR seq) nonces, AAD of RFC 5246."""
    for suite in (SUITES12[0xC02B], SUITES12[0xCCA8]):
        keys = _keys(suite)
        w = protection_for(suite, keys, Direction.server_to_client)
        w.seq = 0x0102030405060708
        frag = w.seal(HANDSHAKE, b"payload")
        aad = bytes.fromhex("0102030405060708") + b"\x16\x03\x03\x00\x07"
        if suite.cipher is BulkCipher.CHACHA20_POLY1305:
            nonce = bytes(a ^ b for a, b in zip(keys.server_write_iv, bytes(4) + aad[:8], strict=True))
            assert ChaCha20Poly1305(keys.server_write_key).decrypt(nonce, frag, aad) == b"payload"
        else:
            nonce = keys.server_write_iv + frag[:8]
            assert AESGCM(keys.server_write_key).decrypt(nonce, frag[8:], aad) == b"payload"


def test_cbc_iv_comes_from_the_injected_random_source() -> None:
    suite = SUITES12[0xC014]
    ivs = iter([b"\x01" * 16, b"\x02" * 16])
    w = CBCProtection12(suite, bytes(20), bytes(32), encrypt_then_mac=False, random=lambda n: next(ivs))
    assert w.seal(APPLICATION_DATA, b"a")[:16] == b"\x01" * 16
    assert w.seal(APPLICATION_DATA, b"a")[:16] == b"\x02" * 16
    short = CBCProtection12(suite, bytes(20), bytes(32), encrypt_then_mac=False, random=lambda n: b"")
    assert _alert(lambda: short.seal(APPLICATION_DATA, b"a")) == AlertDescription.internal_error


@pytest.mark.parametrize("mode", [(s, etm) for s in CBC_SUITES for etm in (False, True)], ids=_mode_id)
def test_cbc_seal_record_is_the_independent_record(mode: tuple[Suite12, bool]) -> None:
    """The bulk path (seal_record: the parts fed one by one to one encryptor and the MAC, one join) gives the record
    an independent AES-CBC + HMAC encoder gives for the same IV, at every size around the block and limit edges, also
    when it alternates with seal (which shares the encryptor's chaining value)."""
    suite, etm = mode
    keys = _keys(suite)
    ivs = [bytes((i,)) * 16 for i in range(1, 40)]
    source = iter(ivs)
    w = protection_for(suite, keys, Direction.client_to_server, etm, random=lambda n: next(source))
    r = protection_for(suite, keys, Direction.client_to_server, etm)
    sizes = [0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 100, 1000, MAX_PLAINTEXT - 17, MAX_PLAINTEXT - 1, MAX_PLAINTEXT]
    for seq, n in enumerate(sizes + sizes[::-1]):
        data = os.urandom(n)
        if seq % 3 == 2:
            record = w.seal(APPLICATION_DATA, data)
            assert record == _cbc_record(suite, keys, seq, data, etm=etm, iv=ivs[seq])
        else:
            record = w.seal_record(APPLICATION_DATA, memoryview(data) if seq % 2 else data)
            expected = _cbc_record(suite, keys, seq, data, etm=etm, iv=ivs[seq])
            assert record == b"\x17\x03\x03" + len(expected).to_bytes(2, "big") + expected, (seq, n)
            record = record[5:]
        assert r.open(APPLICATION_DATA, record) == data


def test_default_cbc_ivs_differ_per_record() -> None:
    w, _ = _pair(SUITES12[0xC009], False)
    assert len({w.seal(APPLICATION_DATA, b"same")[:16] for _ in range(8)}) == 8


# -- sequence numbers and binding --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES, ids=_mode_id)
def test_replay_reorder_and_content_type_are_caught(mode: tuple[Suite12, bool]) -> None:
    w, r = _pair(*mode)
    a, b = w.seal(APPLICATION_DATA, b"first"), w.seal(APPLICATION_DATA, b"second")
    assert _open_alert(r, b) == AlertDescription.bad_record_mac  # reordered
    w, r = _pair(*mode)
    a = w.seal(APPLICATION_DATA, b"first")
    assert r.open(APPLICATION_DATA, a) == b"first"
    assert _open_alert(r, a) == AlertDescription.bad_record_mac  # replayed
    w, r = _pair(*mode)
    assert _open_alert(r, w.seal(APPLICATION_DATA, b"x"), HANDSHAKE) == AlertDescription.bad_record_mac


def test_version_is_authenticated() -> None:
    suite = SUITES12[0xC027]
    keys = _keys(suite)
    w = protection_for(suite, keys, Direction.client_to_server, version=0x0302)
    r = protection_for(suite, keys, Direction.client_to_server)
    assert _open_alert(r, w.seal(APPLICATION_DATA, b"x")) == AlertDescription.bad_record_mac


@pytest.mark.parametrize("mode", MODES[:1] + MODES[-1:], ids=_mode_id)
def test_sequence_number_never_wraps(mode: tuple[Suite12, bool]) -> None:
    w, _ = _pair(*mode)
    w.seq = (1 << 64) - 2
    w.seal(APPLICATION_DATA, b"last one")
    assert _alert(lambda: w.seal(APPLICATION_DATA, b"x")) == AlertDescription.internal_error


# -- limits ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES, ids=_mode_id)
def test_length_limits(mode: tuple[Suite12, bool]) -> None:
    w, r = _pair(*mode)
    with pytest.raises(ValueError):
        w.seal(APPLICATION_DATA, bytes(MAX_PLAINTEXT + 1))
    with pytest.raises(ValueError):
        w.seal(256, b"")
    assert _open_alert(r, bytes(MAX_CIPHERTEXT + 1)) == AlertDescription.record_overflow
    w, r = _pair(*mode)
    for n in range(0, 40):  # every fragment too short or of a length no record can have
        assert _open_alert(r, bytes(n)) == AlertDescription.bad_record_mac


def _cbc_record(
    suite: Suite12,
    keys: KeyBlock,
    seq: int,
    content: bytes,
    *,
    etm: bool,
    padding: bytes | None = None,
    mac_fix: Callable[[bytes], bytes] = lambda m: m,
    iv: bytes | None = None,
) -> bytes:
    """A client-to-server CBC record built independently of the module (raw AES-CBC and stdlib hmac)."""
    digest = "sha1" if suite.mac_len == 20 else "sha256"
    iv = os.urandom(16) if iv is None else iv

    def enc(data: bytes) -> bytes:
        e = Cipher(algorithms.AES(keys.client_write_key), modes.CBC(iv)).encryptor()
        return e.update(data) + e.finalize()

    def mac(length: int, data: bytes) -> bytes:
        header = seq.to_bytes(8, "big") + b"\x17\x03\x03" + length.to_bytes(2, "big")
        return mac_fix(hmac.new(keys.client_write_mac_key, header + data, digest).digest())

    def pad(n: int) -> bytes:
        if padding is not None:
            return padding
        p = 15 - n % 16
        return bytes((p,)) * (p + 1)

    if etm:
        ct = iv + enc(content + pad(len(content)))
        return ct + mac(len(ct), ct)
    inner = content + mac(len(content), content)
    return iv + enc(inner + pad(len(inner)))


@pytest.mark.parametrize("etm", [False, True], ids=["mte", "etm"])
def test_cbc_plaintext_over_2_14_is_record_overflow(etm: bool) -> None:
    suite = SUITES12[0xC027]
    keys = _keys(suite)
    record = _cbc_record(suite, keys, 0, bytes(MAX_PLAINTEXT + 1), etm=etm)
    assert len(record) <= MAX_CIPHERTEXT
    _, r = _pair(suite, etm, keys)
    assert _open_alert(r, record) == AlertDescription.record_overflow
    # and exactly 2^14 is fine
    _, r = _pair(suite, etm, keys)
    assert r.open(APPLICATION_DATA, _cbc_record(suite, keys, 0, bytes(MAX_PLAINTEXT), etm=etm)) == bytes(MAX_PLAINTEXT)


@pytest.mark.parametrize("suite", AEAD_SUITES[::2], ids=lambda s: s.openssl_name)
def test_aead_plaintext_over_2_14_is_record_overflow(suite: Suite12) -> None:
    keys = _keys(suite)
    n = MAX_PLAINTEXT + 1
    aad = bytes(8) + b"\x17\x03\x03" + n.to_bytes(2, "big")
    if suite.cipher is BulkCipher.CHACHA20_POLY1305:
        fragment = ChaCha20Poly1305(keys.client_write_key).encrypt(keys.client_write_iv, bytes(n), aad)
    else:
        fragment = bytes(8) + AESGCM(keys.client_write_key).encrypt(keys.client_write_iv + bytes(8), bytes(n), aad)
    _, r = _pair(suite, False, keys)
    assert _open_alert(r, fragment) == AlertDescription.record_overflow


# -- tampering: one alert for everything -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES, ids=_mode_id)
@pytest.mark.parametrize("size", [0, 1, 11, 12, 27, 44, 100])
def test_every_flipped_byte_is_bad_record_mac(mode: tuple[Suite12, bool], size: int) -> None:
    suite, etm = mode
    keys = _keys(suite, size)
    w, _ = _pair(suite, etm, keys)
    fragment = w.seal(APPLICATION_DATA, os.urandom(size))
    for i, bit in itertools.product(range(len(fragment)), (0x01, 0x80)):
        bad = bytearray(fragment)
        bad[i] ^= bit
        _, r = _pair(suite, etm, keys)
        with pytest.raises(TLSAlertError) as info:
            r.open(APPLICATION_DATA, bytes(bad))
        assert info.value.alert == AlertDescription.bad_record_mac, (i, bit)
    for cut in range(len(fragment)):  # every truncation, and one byte too many
        _, r = _pair(suite, etm, keys)
        assert _open_alert(r, fragment[:cut]) == AlertDescription.bad_record_mac
    _, r = _pair(suite, etm, keys)
    assert _open_alert(r, fragment + b"\x00") == AlertDescription.bad_record_mac


@settings(max_examples=200, deadline=None)
@given(mode=st.sampled_from(MODES), junk=_sized_binary(400), ctype=st.sampled_from([21, 22, 23]))
def test_random_fragments_are_bad_record_mac(mode: tuple[Suite12, bool], junk: bytes, ctype: int) -> None:
    _, r = _pair(*mode)
    assert _open_alert(r, junk, ctype) == AlertDescription.bad_record_mac


@settings(max_examples=100, deadline=None)
@given(
    mode=st.sampled_from(MODES),
    payload=_sized_binary(100),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=4),
)
def test_edited_records_are_bad_record_mac(
    mode: tuple[Suite12, bool], payload: bytes, edits: list[tuple[int, int]]
) -> None:
    w, r = _pair(*mode)
    original = w.seal(APPLICATION_DATA, payload)
    fragment = bytearray(original)
    for pos, xor in edits:
        fragment[pos % len(fragment)] ^= xor
    if bytes(fragment) == original:  # the edits cancelled out
        assert r.open(APPLICATION_DATA, original) == payload
    else:
        assert _open_alert(r, bytes(fragment)) == AlertDescription.bad_record_mac


def _padding_ok_by_byte_loop(body: bytes, mac_len: int) -> bool:
    """The MAC-then-encrypt padding rule as the module's earlier byte loop checked it (the oracle of the test below):
    the last byte is the padding length, every one of the pad + 1 bytes holds it, and MAC + padding fit the body."""
    pad = body[-1]
    bad = int(pad + 1 + mac_len > len(body))
    for i in range(1, min(256, len(body)) + 1):
        bad |= (i <= pad + 1) * (body[-i] ^ pad)
    return bad == 0


@settings(max_examples=300, deadline=None)
@given(
    suite=st.sampled_from(CBC_SUITES),
    pad=st.integers(0, 255),
    content_blocks=st.integers(0, 20),
    flip=st.one_of(st.none(), st.tuples(st.integers(0, 300), st.integers(1, 255))),
)
def test_mac_then_encrypt_padding_check_matches_the_byte_rule(
    suite: Suite12, pad: int, content_blocks: int, flip: tuple[int, int] | None
) -> None:
    """A record opens exactly when its padding is good by the byte rule (the MAC is right for the content): every
    padding length 0-255, bodies shorter and longer than the 256-byte window, one byte of the padding or of the
    bytes before it changed, or a padding length byte larger than the body."""
    keys = _keys(suite)
    content_len = (16 * content_blocks - suite.mac_len - pad - 1) % 16 + 16 * content_blocks
    content = os.urandom(content_len)
    padding = bytearray(bytes((pad,)) * (pad + 1))
    mac = hmac.new(keys.client_write_mac_key, (0).to_bytes(8, "big") + b"\x17\x03\x03"
                   + content_len.to_bytes(2, "big") + content, "sha1" if suite.mac_len == 20 else "sha256").digest()
    body = bytearray(content + mac + padding)
    if flip is not None and flip[0] > 280:
        body[-1] = 255  # a padding length larger than the body (or than the window) claims
    if flip is not None:
        body[-1 - flip[0] % len(body)] ^= flip[1]
    assert len(body) % 16 == 0
    record = _cbc_record(suite, keys, 0, bytes(body[:content_len]), etm=False,
                         padding=bytes(body[content_len + suite.mac_len :]),
                         mac_fix=lambda m: bytes(body[content_len : content_len + suite.mac_len]))
    _, r = _pair(suite, False, keys)
    # what the byte rule makes of the (possibly changed) body: the padding it claims, then the content and MAC
    claimed = len(body) - suite.mac_len - body[-1] - 1
    expected = _padding_ok_by_byte_loop(bytes(body), suite.mac_len) and bytes(body[claimed : claimed + suite.mac_len]) \
        == hmac.new(keys.client_write_mac_key, (0).to_bytes(8, "big") + b"\x17\x03\x03" + claimed.to_bytes(2, "big")
                    + bytes(body[:claimed]), "sha1" if suite.mac_len == 20 else "sha256").digest()  # fmt: skip
    try:
        opened = r.open(APPLICATION_DATA, record)
    except TLSAlertError as exc:
        assert exc.alert == AlertDescription.bad_record_mac
        assert not expected
    else:
        assert expected and opened == bytes(body[:claimed])
    if flip is None:
        assert expected


@pytest.mark.parametrize("etm", [False, True], ids=["mte", "etm"])
@pytest.mark.parametrize("suite", CBC_SUITES, ids=lambda s: s.openssl_name)
def test_cbc_padding_rules(suite: Suite12, etm: bool) -> None:
    keys = _keys(suite)

    def opened(record: bytes) -> bytes | str:
        _, r = _pair(suite, etm, keys)
        try:
            return r.open(APPLICATION_DATA, record)
        except TLSAlertError as exc:
            assert exc.alert == AlertDescription.bad_record_mac
            return exc.message

    content = b"0123456789"
    inner = len(content) + (0 if etm else suite.mac_len)
    minimal = 15 - inner % 16
    # the sender may pad more than needed, up to 255 bytes (RFC 5246 section 6.2.3.2)
    longest = minimal + 16 * ((255 - minimal) // 16)
    assert opened(_cbc_record(suite, keys, 0, content, etm=etm, padding=bytes((longest,)) * (longest + 1))) == content
    assert opened(_cbc_record(suite, keys, 0, content, etm=etm)) == content
    failures = []
    # a wrong byte anywhere inside the padding, with a correct MAC
    for pos in range(minimal + 16):
        pad = bytearray(bytes((minimal + 16,)) * (minimal + 17))
        pad[pos] ^= 0x01
        failures.append(opened(_cbc_record(suite, keys, 0, content, etm=etm, padding=bytes(pad))))
    # a padding length longer than the record
    failures.append(opened(_cbc_record(suite, keys, 0, content, etm=etm, padding=bytes((255,)) * (minimal + 1))))
    # a correct padding and a wrong MAC
    failures.append(
        opened(_cbc_record(suite, keys, 0, content, etm=etm, mac_fix=lambda m: m[:-1] + bytes((m[-1] ^ 1,))))
    )
    assert all(isinstance(f, str) for f in failures)
    if not etm:
        # MAC-then-encrypt: the message does not tell a padding failure from a MAC failure either
        assert len(set(failures)) == 1


@pytest.mark.parametrize("etm", [False, True], ids=["mte", "etm"])
@pytest.mark.parametrize("suite", CBC_SUITES, ids=lambda s: s.openssl_name)
@pytest.mark.parametrize("blocks", [2, 3, 16, 17])
def test_cbc_record_that_is_all_padding_bytes(suite: Suite12, etm: bool, blocks: int) -> None:
    """A body of 0xff bytes only: "valid" padding bytes, but a padding length longer than the record.

    Except for encrypt-then-MAC with 16 or more blocks: the last 256 bytes of 0xff are then a valid padding, of an
    empty record or of one holding the blocks before it.
    """
    keys = _keys(suite)
    iv = os.urandom(16)
    e = Cipher(algorithms.AES(keys.client_write_key), modes.CBC(iv)).encryptor()
    record = iv + e.update(b"\xff" * 16 * blocks) + e.finalize()
    if etm:
        header = bytes(8) + b"\x17\x03\x03" + len(record).to_bytes(2, "big")
        record += hmac.new(keys.client_write_mac_key, header + record, suite.mac_algorithm().name).digest()
    _, r = _pair(suite, etm, keys)
    if etm and blocks >= 16:
        assert r.open(APPLICATION_DATA, record) == b"\xff" * (16 * blocks - 256)
    else:
        assert _open_alert(r, record) == AlertDescription.bad_record_mac


@pytest.mark.parametrize("suite", CBC_SUITES[::2], ids=lambda s: s.openssl_name)
@pytest.mark.parametrize("ct_len", [0, 1, 15, 16, 17, 31, 33])
def test_etm_record_with_a_valid_mac_but_no_whole_blocks(suite: Suite12, ct_len: int) -> None:
    """A peer holding the MAC key can still send an IV + ciphertext that is not whole blocks: bad_record_mac."""
    keys = _keys(suite)
    body = os.urandom(16 + ct_len)
    header = bytes(8) + b"\x17\x03\x03" + len(body).to_bytes(2, "big")
    record = body + hmac.new(keys.client_write_mac_key, header + body, suite.mac_algorithm().name).digest()
    _, r = _pair(suite, True, keys)
    if ct_len == 16:  # one whole block is well formed; its random padding may or may not be valid
        with contextlib.suppress(TLSAlertError):
            r.open(APPLICATION_DATA, record)
        return
    assert _open_alert(r, record) == AlertDescription.bad_record_mac


class _CountingHMAC:
    """Wraps cryptography's HMAC and adds up the SHA-1/SHA-256 compression-function calls each MAC costs.

    HMAC(k, m) hashes the 64-byte inner key block and m, then the 64-byte outer key block and the inner digest; a
    hash of n bytes takes ceil((n + 9) / 64) blocks (the 0x80 byte and the 8-byte length are appended).
    """

    calls = 0

    def __init__(self, key: bytes, algorithm: hashes.HashAlgorithm, _inner: Any = None) -> None:
        self._inner = _inner or crypto_hmac.HMAC(key, algorithm)
        self._n = 0

    def copy(self) -> _CountingHMAC:
        clone = _CountingHMAC(b"", hashes.SHA256(), self._inner.copy())
        clone._n = self._n
        return clone

    def update(self, data: bytes | memoryview) -> None:
        self._n += len(data)
        self._inner.update(data)

    def finalize(self) -> bytes:
        digest: bytes = self._inner.finalize()
        _CountingHMAC.calls += (64 + self._n + 9 + 63) // 64 + (64 + len(digest) + 9 + 63) // 64
        return digest


@pytest.mark.parametrize("suite", CBC_SUITES[:1] + CBC_SUITES[-1:], ids=lambda s: s.openssl_name)
def test_mac_then_encrypt_hash_work_does_not_depend_on_the_padding(
    suite: Suite12, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The MAC is always computed, and the compression-function calls are the same for every padding length
    (0 to 255), for a broken padding and for a wrong MAC (the Lucky Thirteen countermeasure)."""
    monkeypatch.setattr(protection12, "_hmac", types.SimpleNamespace(HMAC=_CountingHMAC))
    keys = _keys(suite)
    body_len = 320  # every record below decrypts to this many bytes
    records: dict[str, bytes] = {}
    for pad in range(256):
        content_len = body_len - suite.mac_len - pad - 1
        if content_len >= 0:
            padding = bytes((pad,)) * (pad + 1)
            records[f"padding {pad}"] = _cbc_record(suite, keys, 0, bytes(content_len), etm=False, padding=padding)
    minimal = body_len - suite.mac_len - 16  # content before a 16-byte padding
    records["bad padding byte"] = _cbc_record(
        suite, keys, 0, bytes(minimal), etm=False, padding=bytes((15,)) * 15 + b"\xff"
    )
    records["bad padding value"] = _cbc_record(
        suite, keys, 0, bytes(minimal), etm=False, padding=b"\x00" + b"\x0f" * 15
    )
    records["bad MAC"] = _cbc_record(suite, keys, 0, bytes(minimal), etm=False, mac_fix=lambda m: bytes(len(m)))
    assert {len(r) for r in records.values()} == {16 + body_len}
    work: dict[str, int] = {}
    for name, record in records.items():
        _, r = _pair(suite, False, keys)
        _CountingHMAC.calls = 0
        try:
            r.open(APPLICATION_DATA, record)
            assert name.startswith("padding")
        except TLSAlertError:
            assert not name.startswith("padding")
        work[name] = _CountingHMAC.calls
    assert len(set(work.values())) == 1, work


# -- tlslite-ng as an oracle -------------------------------------------------------------------------------------


class _Pipe:
    """The smallest socket tlslite's record layer accepts: sends are collected, receives are served from a buffer."""

    def __init__(self) -> None:
        self.sent = bytearray()
        self.inbox = bytearray()

    def send(self, data: bytes) -> int:
        self.sent += data
        return len(data)

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def recv(self, n: int) -> bytes:
        data = bytes(self.inbox[:n])
        del self.inbox[:n]
        return data


def _tlslite(suite: Suite12, master: bytes, cr: bytes, sr: bytes, *, client: bool, etm: bool) -> tuple[Any, _Pipe]:
    pipe = _Pipe()
    rl = tlslite_recordlayer.RecordLayer(pipe)
    rl.version = (3, 3)
    rl.client = client
    rl.encryptThenMAC = etm
    rl.calcPendingStates(int(suite.id), bytearray(master), bytearray(cr), bytearray(sr), None)
    rl.changeWriteState()
    rl.changeReadState()
    return rl, pipe


def _records(stream: bytes) -> Iterator[tuple[int, bytes]]:
    pos = 0
    while pos < len(stream):
        n = int.from_bytes(stream[pos + 3 : pos + 5], "big")
        yield stream[pos], stream[pos + 5 : pos + 5 + n]
        pos += 5 + n


@pytest.mark.parametrize("mode", MODES, ids=_mode_id)
def test_interoperates_with_tlslite_both_ways(mode: tuple[Suite12, bool]) -> None:
    suite, etm = mode
    master, cr, sr = os.urandom(48), os.urandom(32), os.urandom(32)
    keys = derive_keys(suite, master, cr, sr)
    # tlslite is the client: it writes with the client keys and reads with the server keys
    rl, pipe = _tlslite(suite, master, cr, sr, client=True, etm=etm)
    ours_read = protection_for(suite, keys, Direction.client_to_server, etm)
    ours_write = protection_for(suite, keys, Direction.server_to_client, etm)
    for ctype, size in itertools.product((HANDSHAKE, APPLICATION_DATA), (0, 1, 16, 31, 500, MAX_PLAINTEXT)):
        if size == 0 and ctype == HANDSHAKE:
            continue
        data = os.urandom(size)
        for _ in rl.sendRecord(tlslite_messages.Message(ctype, bytearray(data))):
            pass
        [(wire_type, fragment)] = list(_records(bytes(pipe.sent)))
        pipe.sent.clear()
        assert wire_type == ctype
        assert ours_read.open(ctype, fragment) == data
        fragment = ours_write.seal(ctype, data)
        pipe.inbox += bytes((ctype, 3, 3)) + len(fragment).to_bytes(2, "big") + fragment
        result = None
        for result in rl.recvRecord():
            if result not in (0, 1):
                break
        header, parser = result
        assert header.type == ctype
        assert bytes(parser.bytes) == data


# -- real OpenSSL as an oracle -----------------------------------------------------------------------------------

SSL_OP_NO_ENCRYPT_THEN_MAC = 0x00080000  # openssl/ssl.h; not exported by the ssl module
EXT_ENCRYPT_THEN_MAC = 22


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    ca = make_ca()
    out: dict[str, tuple[str, str]] = {}
    d = tmp_path_factory.mktemp("tls12certs")
    for auth, key_type in (("ECDSA", "ec256"), ("RSA", "rsa")):
        leaf = make_leaf(ca, key_type=key_type)
        crt, key = d / f"{auth}.crt", d / f"{auth}.key"
        crt.write_bytes(leaf.cert.public_bytes(serialization.Encoding.PEM))
        key.write_bytes(
            leaf.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        out[auth] = (str(crt), str(key))
    return out


def _server_hello_has_etm(server_hello: bytes) -> bool:
    # handshake header 4, version 2, random 32, session id, suite 2, compression 1, extensions
    pos = 4 + 2 + 32
    pos += 1 + server_hello[pos] + 2 + 1
    end = pos + 2 + int.from_bytes(server_hello[pos : pos + 2], "big")
    pos += 2
    while pos < end:
        ext, n = (
            int.from_bytes(server_hello[pos : pos + 2], "big"),
            int.from_bytes(server_hello[pos + 2 : pos + 4], "big"),
        )
        if ext == EXT_ENCRYPT_THEN_MAC:
            return True
        pos += 4 + n
    return False


@pytest.mark.parametrize("mode", MODES, ids=_mode_id)
def test_openssl_records_open_and_ours_are_accepted(
    mode: tuple[Suite12, bool], cert_files: dict[str, tuple[str, str]], tmp_path: Path
) -> None:
    suite, etm = mode
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    server_ctx.set_ciphers(suite.openssl_name)
    server_ctx.load_cert_chain(*cert_files[suite.auth.value])
    server_ctx.options |= ssl.OP_NO_TICKET  # keeps NewSessionTicket out of the transcript
    if not etm:
        server_ctx.options |= SSL_OP_NO_ENCRYPT_THEN_MAC
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    client_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    client_ctx.set_ciphers(suite.openssl_name)
    client_ctx.keylog_filename = str(tmp_path / "keylog")
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_side=False)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    c2s, s2c = bytearray(), bytearray()
    done = [False, False]
    for _ in range(10):
        for i, (obj, out, peer_in, log) in enumerate(((client, c_out, s_in, c2s), (server, s_out, c_in, s2c))):
            if not done[i]:
                try:
                    obj.do_handshake()
                    done[i] = True
                except ssl.SSLWantReadError:
                    pass
            data = out.read()
            log += data
            peer_in.write(data)
        if all(done):
            break
    assert client.cipher()[0] == suite.openssl_name
    client.write(b"client says hi")
    server.write(b"server says hi")
    data = c_out.read()
    c2s += data
    s_in.write(data)
    s2c += s_out.read()
    assert server.read(100) == b"client says hi"

    client_records, server_records = list(_records(bytes(c2s))), list(_records(bytes(s2c)))
    ccs_c = [t for t, _ in client_records].index(20)
    ccs_s = [t for t, _ in server_records].index(20)
    client_random = client_records[0][1][6:38]
    server_hello = server_records[0][1]
    server_random = server_hello[6:38]
    assert _server_hello_has_etm(server_hello) == etm
    keylog = (tmp_path / "keylog").read_text().split()
    master = bytes.fromhex(keylog[keylog.index(client_random.hex()) + 1])
    keys = derive_keys(suite, master, client_random, server_random)

    # the transcript up to the client's Finished: ClientHello, the server's flight, ClientKeyExchange
    transcript = (
        client_records[0][1]
        + b"".join(f for _, f in server_records[:ccs_s])
        + b"".join(f for _, f in client_records[1:ccs_c])
    )
    h = hashes.Hash(suite.hash_algorithm())
    h.update(transcript)
    reader = protection_for(suite, keys, Direction.client_to_server, etm)
    client_finished = reader.open(HANDSHAKE, client_records[ccs_c + 1][1])
    assert client_finished[:4] == b"\x14\x00\x00\x0c"
    assert client_finished[4:] == finished_verify_data(suite.hash_algorithm(), master, h.finalize(), client=True)
    assert reader.open(APPLICATION_DATA, client_records[ccs_c + 2][1]) == b"client says hi"

    h = hashes.Hash(suite.hash_algorithm())
    h.update(transcript + client_finished)
    server_reader = protection_for(suite, keys, Direction.server_to_client, etm)
    server_finished = server_reader.open(HANDSHAKE, server_records[ccs_s + 1][1])
    assert server_finished[4:] == finished_verify_data(suite.hash_algorithm(), master, h.finalize(), client=False)
    assert server_reader.open(APPLICATION_DATA, server_records[ccs_s + 2][1]) == b"server says hi"

    # a record we seal, continuing the client's sequence numbers, is accepted by OpenSSL's server
    writer = protection_for(suite, keys, Direction.client_to_server, etm)
    writer.seq = reader.seq
    fragment = writer.seal(APPLICATION_DATA, b"sealed by the engine")
    s_in.write(b"\x17\x03\x03" + len(fragment).to_bytes(2, "big") + fragment)
    assert server.read(100) == b"sealed by the engine"
    # and a flipped bit in the next one is refused
    fragment = bytearray(writer.seal(APPLICATION_DATA, b"tampered"))
    fragment[len(fragment) // 2] ^= 1
    s_in.write(b"\x17\x03\x03" + len(fragment).to_bytes(2, "big") + bytes(fragment))
    with pytest.raises(ssl.SSLError, match=r"BAD_RECORD_MAC|DECRYPTION_FAILED"):
        server.read(100)
