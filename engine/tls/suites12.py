"""TLS 1.2 cipher suites the engine implements (RFC 5246 appendix C, RFC 5289, RFC 7905, RFC 8422).

All of them use ECDHE key exchange; they differ in the certificate that signs it (ECDSA or RSA), the bulk cipher
(AES-GCM and ChaCha20-Poly1305 as AEADs, AES-CBC with an HMAC) and the PRF hash (SHA-256 unless the suite name ends
in SHA384; RFC 5246 section 5 and RFC 5289 section 3.2). Each :class:`Suite12` says how long each part of the key
block is (RFC 5246 section 6.3) and what the record layer carries per record:

===========================  ==========  ============  ==============  ==========
bulk cipher                  enc key      fixed IV      record IV       MAC key
===========================  ==========  ============  ==============  ==========
AES-128-GCM (RFC 5288)       16           4 (salt)      8 (explicit)    0
AES-256-GCM (RFC 5288)       32           4 (salt)      8 (explicit)    0
ChaCha20-Poly1305 (7905)     32           12            0               0
AES-128-CBC + HMAC           16           0             16 (random)     20 / 32
AES-256-CBC + HMAC-SHA1      32           0             16 (random)     20
===========================  ==========  ============  ==============  ==========

The OpenSSL names were checked against ``openssl ciphers -V`` (OpenSSL 3.0); the IANA names are the member names of
:class:`CipherSuite12` (the TLS Cipher Suites registry).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum

from cryptography.hazmat.primitives import hashes


class CipherSuite12(IntEnum):
    """Cipher suite ids (IANA TLS Cipher Suites registry); the member name is the IANA name."""

    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02B
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xC02F
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02C
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xC030
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA9
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA8
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA = 0xC009
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA = 0xC013
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA = 0xC00A
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA = 0xC014
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 = 0xC023
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 = 0xC027


class Authentication(Enum):
    """The server certificate's key type, which signs the ServerKeyExchange."""

    ECDSA = "ECDSA"
    RSA = "RSA"


class BulkCipher(Enum):
    AES_128_GCM = "AES_128_GCM"
    AES_256_GCM = "AES_256_GCM"
    CHACHA20_POLY1305 = "CHACHA20_POLY1305"
    AES_128_CBC = "AES_128_CBC"
    AES_256_CBC = "AES_256_CBC"


class MACAlgorithm(Enum):
    """The record MAC: none for an AEAD suite (the AEAD tag authenticates), else HMAC with this hash."""

    AEAD = "AEAD"
    SHA1 = "SHA1"
    SHA256 = "SHA256"


class CipherType(Enum):
    """RFC 5246 section 6.2.3: which GenericXXXCipher structure the record fragment is."""

    aead = "aead"
    block = "block"


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
}

VERIFY_DATA_LEN = 12
"""Finished.verify_data length; RFC 5246 section 7.4.9 fixes it at 12 for every suite defined so far."""


@dataclass(frozen=True, slots=True)
class Suite12:
    """One TLS 1.2 cipher suite: names, algorithms and the key block lengths (RFC 5246 section 6.3)."""

    id: CipherSuite12
    openssl_name: str
    iana_name: str
    auth: Authentication
    cipher: BulkCipher
    mac: MACAlgorithm
    prf_hash: str  # "sha256" or "sha384": the PRF and the handshake (transcript) hash
    enc_key_len: int
    fixed_iv_len: int  # key block IV: the GCM salt, the whole ChaCha20 nonce mask, nothing for CBC (RFC 5246 6.3)
    record_iv_len: int  # carried in each record: GCM explicit nonce (8), CBC IV (16), ChaCha20 none
    mac_key_len: int  # 0 for AEAD suites
    mac_len: int  # HMAC output length, 0 for AEAD suites

    @property
    def cipher_type(self) -> CipherType:
        return CipherType.block if self.mac is not MACAlgorithm.AEAD else CipherType.aead

    @property
    def is_aead(self) -> bool:
        return self.mac is MACAlgorithm.AEAD

    @property
    def key_block_len(self) -> int:
        """Bytes of key block the suite consumes: two MAC keys, two encryption keys, two fixed IVs."""
        return 2 * (self.mac_key_len + self.enc_key_len + self.fixed_iv_len)

    def hash_algorithm(self) -> hashes.HashAlgorithm:
        """The PRF hash, which is also the hash of the handshake messages for Finished and EMS (RFC 7627)."""
        return _HASHES[self.prf_hash]()

    def mac_algorithm(self) -> hashes.HashAlgorithm:
        """The record HMAC hash (CBC suites only)."""
        if self.mac is MACAlgorithm.AEAD:
            raise ValueError(f"{self.openssl_name} is an AEAD suite and has no record MAC")
        return _HASHES[self.mac.value.lower()]()


def _gcm(code: CipherSuite12, openssl: str, auth: Authentication, bits: int) -> Suite12:
    cipher = BulkCipher.AES_128_GCM if bits == 128 else BulkCipher.AES_256_GCM
    prf = "sha256" if bits == 128 else "sha384"
    return Suite12(code, openssl, code.name, auth, cipher, MACAlgorithm.AEAD, prf, bits // 8, 4, 8, 0, 0)


def _chacha(code: CipherSuite12, openssl: str, auth: Authentication) -> Suite12:
    return Suite12(
        code, openssl, code.name, auth, BulkCipher.CHACHA20_POLY1305, MACAlgorithm.AEAD, "sha256", 32, 12, 0, 0, 0
    )


def _cbc(code: CipherSuite12, openssl: str, auth: Authentication, bits: int, mac: MACAlgorithm) -> Suite12:
    cipher = BulkCipher.AES_128_CBC if bits == 128 else BulkCipher.AES_256_CBC
    mac_len = 20 if mac is MACAlgorithm.SHA1 else 32
    # RFC 5246 section 5: every suite defined for TLS 1.2 uses the SHA-256 PRF, including the *_SHA (HMAC-SHA1) ones
    return Suite12(code, openssl, code.name, auth, cipher, mac, "sha256", bits // 8, 0, 16, mac_len, mac_len)


_E = Authentication.ECDSA
_R = Authentication.RSA
_C = CipherSuite12

SUITES12: dict[int, Suite12] = {
    s.id: s
    for s in (
        _gcm(_C.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", _E, 128),
        _gcm(_C.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", _R, 128),
        _gcm(_C.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", _E, 256),
        _gcm(_C.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", _R, 256),
        _chacha(_C.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", _E),
        _chacha(_C.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", _R),
        _cbc(_C.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA", _E, 128, MACAlgorithm.SHA1),
        _cbc(_C.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA", _R, 128, MACAlgorithm.SHA1),
        _cbc(_C.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA", _E, 256, MACAlgorithm.SHA1),
        _cbc(_C.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA", _R, 256, MACAlgorithm.SHA1),
        _cbc(_C.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE-ECDSA-AES128-SHA256", _E, 128, MACAlgorithm.SHA256),
        _cbc(_C.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256", _R, 128, MACAlgorithm.SHA256),
    )
}
"""Every implemented suite by id, in the order above (AEAD suites first)."""

_BY_NAME: dict[str, Suite12] = {s.openssl_name: s for s in SUITES12.values()} | {
    s.iana_name: s for s in SUITES12.values()
}


def suite_by_name(name: str) -> Suite12:
    """The suite with this OpenSSL or IANA name (exact spelling); KeyError if none."""
    return _BY_NAME[name]
