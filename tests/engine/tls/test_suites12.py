"""TLS 1.2 suite table (engine/tls/suites12.py) against OpenSSL's own list and the RFC key block lengths."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes

from engine.tls.suites12 import (
    SUITES12,
    Authentication,
    BulkCipher,
    CipherSuite12,
    CipherType,
    MACAlgorithm,
    Suite12,
    suite_by_name,
)


def _openssl_ciphers() -> dict[int, tuple[str, str, str, str]]:
    """``id -> (name, Au, Enc, Mac)`` from ``openssl ciphers -V`` (the installed OpenSSL 3.0 CLI)."""
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("openssl CLI not installed")
    out = subprocess.run([exe, "ciphers", "-V", "ALL"], capture_output=True, text=True, check=True, timeout=30).stdout
    table: dict[int, tuple[str, str, str, str]] = {}
    for line in out.splitlines():
        m = re.match(r"\s*0x(\w\w),0x(\w\w) - (\S+)\s+\S+\s+Kx=\S+\s+Au=(\S+)\s+Enc=(\S+)\s+Mac=(\S+)", line)
        if m:
            table[int(m[1] + m[2], 16)] = (m[3], m[4], m[5], m[6])
    return table


def test_every_required_suite_is_in_the_table() -> None:
    assert set(SUITES12) == {
        0xC02B,
        0xC02F,
        0xC02C,
        0xC030,
        0xCCA9,
        0xCCA8,
        0xC009,
        0xC013,
        0xC00A,
        0xC014,
        0xC023,
        0xC027,
    }
    assert set(SUITES12) == {int(c) for c in CipherSuite12}


@pytest.mark.parametrize("code", sorted(SUITES12))
def test_names_and_algorithms_match_openssl_ciphers_v(code: int) -> None:
    name, au, enc, mac = _openssl_ciphers()[code]
    suite = SUITES12[code]
    assert suite.openssl_name == name
    assert suite.auth.value == au
    bits = {BulkCipher.AES_128_GCM: "AESGCM(128)", BulkCipher.AES_256_GCM: "AESGCM(256)"}
    bits |= {BulkCipher.CHACHA20_POLY1305: "CHACHA20/POLY1305(256)"}
    bits |= {BulkCipher.AES_128_CBC: "AES(128)", BulkCipher.AES_256_CBC: "AES(256)"}
    assert bits[suite.cipher] == enc
    assert suite.mac.value == mac


@pytest.mark.parametrize("suite", SUITES12.values(), ids=lambda s: s.openssl_name)
def test_iana_name_spells_out_the_algorithms(suite: Suite12) -> None:
    iana = suite.iana_name
    assert iana == CipherSuite12(suite.id).name
    assert iana.startswith(f"TLS_ECDHE_{suite.auth.value}_WITH_{suite.cipher.value}_")
    assert iana.endswith({"AEAD": suite.prf_hash.upper(), "SHA1": "SHA", "SHA256": "SHA256"}[suite.mac.value])
    assert suite_by_name(iana) is suite
    assert suite_by_name(suite.openssl_name) is suite


@pytest.mark.parametrize("suite", SUITES12.values(), ids=lambda s: s.openssl_name)
def test_lengths_follow_the_rfcs(suite: Suite12) -> None:
    key_bits = 128 if "128" in suite.cipher.value else 256
    assert suite.enc_key_len * 8 == key_bits
    if suite.cipher in (BulkCipher.AES_128_GCM, BulkCipher.AES_256_GCM):
        # RFC 5288 section 3: 4-byte salt from the key block, 8-byte explicit nonce per record
        assert (suite.fixed_iv_len, suite.record_iv_len, suite.mac_key_len, suite.cipher_type) == (
            4,
            8,
            0,
            CipherType.aead,
        )
    elif suite.cipher is BulkCipher.CHACHA20_POLY1305:
        # RFC 7905 section 2: 12-byte IV from the key block, nothing explicit
        assert (suite.fixed_iv_len, suite.record_iv_len, suite.mac_key_len, suite.cipher_type) == (
            12,
            0,
            0,
            CipherType.aead,
        )
    else:
        # RFC 5246 section 6.3 / appendix C: CBC suites take no IV from the key block; the record carries 16 bytes
        mac_len = {MACAlgorithm.SHA1: 20, MACAlgorithm.SHA256: 32}[suite.mac]
        assert (suite.fixed_iv_len, suite.record_iv_len, suite.mac_key_len, suite.mac_len) == (0, 16, mac_len, mac_len)
        assert suite.cipher_type is CipherType.block
        assert suite.mac_algorithm().digest_size == mac_len
    assert suite.key_block_len == 2 * (suite.mac_key_len + suite.enc_key_len + suite.fixed_iv_len)
    # RFC 5246 section 5 / RFC 5289 section 3.2: SHA-384 PRF exactly for the *_SHA384 suites
    expected_prf = hashes.SHA384 if suite.iana_name.endswith("SHA384") else hashes.SHA256
    assert isinstance(suite.hash_algorithm(), expected_prf)


def test_aead_suite_has_no_record_mac() -> None:
    with pytest.raises(ValueError):
        SUITES12[0xC02B].mac_algorithm()


def test_unknown_name_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        suite_by_name("ECDHE-RSA-DES-CBC3-SHA")
    assert Authentication.RSA.value == "RSA"
