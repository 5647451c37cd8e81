"""TLS 1.3 key schedule (RFC 9846 section 7).

:class:`KeySchedule` walks Early Secret -> Handshake Secret -> Main Secret as the handshake feeds it the shared
secret and transcript hashes; :class:`Transcript` keeps the running hash. The record layer never sees this object:
the state machines hand it ``(suite, secret)`` pairs and it derives the key and IV itself (:func:`traffic_keys`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from .messages import HandshakeType
from .wire import opaque8, u16


class CipherSuiteCode(IntEnum):
    TLS_AES_128_GCM_SHA256 = 0x1301
    TLS_AES_256_GCM_SHA384 = 0x1302
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303


@dataclass(frozen=True, slots=True)
class CipherSuite:
    """One TLS 1.3 cipher suite (RFC 9846 appendix B.4): AEAD and HKDF hash."""

    code: int
    name: str
    hash_name: str  # hashlib / hmac name
    hash_len: int
    key_len: int
    aead: type[AESGCM] | type[ChaCha20Poly1305]

    def hash_algorithm(self) -> hashes.HashAlgorithm:
        return _SHA384 if self.hash_len == 48 else _SHA256


# Hash algorithm objects carry no state: one of each serves every call.
_SHA256 = hashes.SHA256()
_SHA384 = hashes.SHA384()


CIPHER_SUITES: dict[int, CipherSuite] = {
    0x1301: CipherSuite(0x1301, "TLS_AES_128_GCM_SHA256", "sha256", 32, 16, AESGCM),
    0x1302: CipherSuite(0x1302, "TLS_AES_256_GCM_SHA384", "sha384", 48, 32, AESGCM),
    0x1303: CipherSuite(0x1303, "TLS_CHACHA20_POLY1305_SHA256", "sha256", 32, 32, ChaCha20Poly1305),
}

IV_LEN = 12


def _hmac_digest(suite: CipherSuite, key: bytes, data: bytes) -> bytes:
    mac = _HMAC(key, _SHA384 if suite.hash_len == 48 else _SHA256)
    mac.update(data)
    return mac.finalize()


_HMAC = _hmac.HMAC


def hkdf_extract(suite: CipherSuite, salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract (RFC 5869 section 2.2) is HMAC(salt, IKM); salt defaults to zeros. HMAC from cryptography."""
    return _hmac_digest(suite, salt or bytes(suite.hash_len), ikm)


def hkdf_expand(suite: CipherSuite, prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand (RFC 5869 section 2.3). Every output of the TLS 1.3 schedule fits in one block,
    T(1) = HMAC(PRK, info | 0x01), which is one HMAC call; longer outputs go through cryptography's HKDFExpand."""
    if 0 < length <= suite.hash_len:
        return _hmac_digest(suite, prk, info + b"\x01")[:length]
    return HKDFExpand(suite.hash_algorithm(), length, info).derive(prk)


_PREFIXES: dict[tuple[bytes, int], bytes] = {}
"""The labels are a handful of constants: the encoding of ``length`` and ``"tls13 " + label`` is made once each."""


def _label_prefix(label: bytes, length: int) -> bytes:
    prefix = _PREFIXES.get((label, length))
    if prefix is None:
        prefix = u16(length) + opaque8(b"tls13 " + label)
        if len(_PREFIXES) < 256:  # the schedule's labels; an application's exporter labels are not kept
            _PREFIXES[(label, length)] = prefix
    return prefix


def hkdf_label(label: bytes, context: bytes, length: int) -> bytes:
    """The HkdfLabel structure (RFC 9846 section 7.1)."""
    if len(context) > 255:
        return _label_prefix(label, length) + opaque8(context)  # opaque8 reports the bad length
    return _label_prefix(label, length) + bytes((len(context),)) + context


def hkdf_expand_label(suite: CipherSuite, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """HKDF-Expand-Label (RFC 9846 section 7.1): an output of at most one hash block is one HMAC over the
    precomputed label prefix, the context and the block counter 0x01."""
    n = len(context)
    if 0 < length <= suite.hash_len and n <= 255:
        prefix = _PREFIXES.get((label, length)) or _label_prefix(label, length)
        mac = _HMAC(secret, _SHA384 if suite.hash_len == 48 else _SHA256)
        mac.update(prefix + _CONTEXT_LENGTH[n] + context + b"\x01" if n else prefix + b"\x00\x01")
        return mac.finalize()[:length]
    return hkdf_expand(suite, secret, hkdf_label(label, context, length), length)


_CONTEXT_LENGTH = [bytes((n,)) for n in range(256)]


def derive_secret(suite: CipherSuite, secret: bytes, label: bytes, transcript_hash: bytes) -> bytes:
    """Derive-Secret with the transcript already hashed (RFC 9846 section 7.1)."""
    return hkdf_expand_label(suite, secret, label, transcript_hash, suite.hash_len)


_TRAFFIC_INFO: dict[int, tuple[bytes, bytes]] = {}
"""HKDF-Expand-Label's input (label structure and block counter) for "key" of each key length and for "iv"."""


def traffic_keys(suite: CipherSuite, secret: bytes) -> tuple[bytes, bytes]:
    """``(key, iv)`` for a traffic secret (RFC 9846 section 7.3): the secret's HMAC keyed once, copied for the key
    and used itself for the IV, over inputs made once per key length."""
    key_len = suite.key_len
    info = _TRAFFIC_INFO.get(key_len)
    if info is None:
        info = _TRAFFIC_INFO[key_len] = (hkdf_label(b"key", b"", key_len) + b"\x01",
                                         hkdf_label(b"iv", b"", IV_LEN) + b"\x01")
    keyed = _HMAC(secret, _SHA384 if suite.hash_len == 48 else _SHA256)
    mac = keyed.copy()
    mac.update(info[0])
    keyed.update(info[1])
    return mac.finalize()[:key_len], keyed.finalize()[:IV_LEN]


def next_traffic_secret(suite: CipherSuite, secret: bytes) -> bytes:
    """application_traffic_secret_N+1 (RFC 9846 section 7.2)."""
    return hkdf_expand_label(suite, secret, b"traffic upd", b"", suite.hash_len)


def finished_key(suite: CipherSuite, base_key: bytes) -> bytes:
    return hkdf_expand_label(suite, base_key, b"finished", b"", suite.hash_len)


def finished_verify_data(suite: CipherSuite, base_key: bytes, transcript_hash: bytes) -> bytes:
    """Finished.verify_data (RFC 9846 section 4.5.3)."""
    return _hmac_digest(suite, finished_key(suite, base_key), transcript_hash)


def resumption_psk(suite: CipherSuite, resumption_secret: bytes, ticket_nonce: bytes) -> bytes:
    """The PSK a NewSessionTicket stands for (RFC 9846 section 4.7.1)."""
    return hkdf_expand_label(suite, resumption_secret, b"resumption", ticket_nonce, suite.hash_len)


class Transcript:
    """The running transcript hash (RFC 9846 section 4.1).

    Before the cipher suite is known the messages are buffered; :meth:`start` picks the hash. After a
    HelloRetryRequest, :meth:`replace_with_message_hash` folds ClientHello1 into a synthetic message_hash message.
    """

    def __init__(self) -> None:
        self._buffer: list[bytes] = []
        self._hash: hashes.Hash | None = None
        self._hash_algorithm: hashes.HashAlgorithm | None = None

    def start(self, suite: CipherSuite) -> None:
        self.start_hash(suite.hash_algorithm())

    def start_hash(self, algorithm: hashes.HashAlgorithm) -> None:
        """Pick the hash (TLS 1.2: the PRF hash of the suite) and hash what was buffered."""
        if self._hash is not None:
            return
        self._hash_algorithm = algorithm
        self._hash = hashes.Hash(self._hash_algorithm)
        for data in self._buffer:
            self._hash.update(data)
        self._buffer.clear()

    def update(self, data: bytes) -> None:
        if self._hash is None:
            self._buffer.append(data)
        else:
            self._hash.update(data)

    def copy(self) -> Transcript:
        """An independent transcript that goes on from this one's state (post-handshake authentication hashes the
        handshake plus its own messages, RFC 9846 section 4.5)."""
        other = Transcript()
        other._buffer = list(self._buffer)
        other._hash_algorithm = self._hash_algorithm
        other._hash = self._hash.copy() if self._hash is not None else None
        return other

    def digest(self) -> bytes:
        if self._hash is None:
            raise RuntimeError("transcript hash not started")
        return self._hash.copy().finalize()

    def digest_with(self, data: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
        """The hash of the transcript so far followed by ``data``, without adding ``data`` (PSK binders, RFC 9846
        section 4.3.11.2); ``algorithm`` is used when the hash is not started yet."""
        h = self._hash.copy() if self._hash is not None else hashes.Hash(algorithm)
        if self._hash is None:
            for part in self._buffer:
                h.update(part)
        h.update(data)
        return h.finalize()

    def replace_with_message_hash(self, suite: CipherSuite) -> None:
        """Transcript-Hash(ClientHello1, HRR, ...) rule of RFC 9846 section 4.4.1 / 4.1."""
        self.start(suite)
        ch1_hash = self.digest()
        self._hash = hashes.Hash(suite.hash_algorithm())
        self._hash.update(bytes((HandshakeType.message_hash, 0, 0, len(ch1_hash))) + ch1_hash)


class KeySchedule:
    """The secrets of one handshake (RFC 9846 section 7.1, figure 5); ``psk`` for a resumption (no 0-RTT).

    Each secret that feeds several Derive-Secret / HKDF-Expand-Label outputs keys its HMAC once (``_keyed``); every
    output is a copy of that state. Without a PSK the Early Secret and the salt derived from it are constants of the
    suite, computed once."""

    def __init__(self, suite: CipherSuite, psk: bytes | None = None) -> None:
        self.suite = suite
        self._empty_hash = _hash_empty(suite)
        self._keyed: dict[bytes, _hmac.HMAC] = {}
        if psk:
            self.early_secret = hkdf_extract(suite, bytes(suite.hash_len), psk)
            self._derived_early = b""
        else:
            self.early_secret, self._derived_early = _no_psk_secrets(suite)
        self.handshake_secret = b""
        self.main_secret = b""

    def _expand(self, secret: bytes, label: bytes, context: bytes) -> bytes:
        """Derive-Secret(secret, label, context) with ``secret``'s HMAC keyed once per schedule."""
        keyed = self._keyed.get(secret)
        if keyed is None:
            keyed = self._keyed[secret] = _HMAC(secret, _SHA384 if self.suite.hash_len == 48 else _SHA256)
        mac = keyed.copy()
        mac.update(hkdf_label(label, context, self.suite.hash_len) + b"\x01")
        return mac.finalize()

    def binder_key(self) -> bytes:
        """The resumption binder key (RFC 9846 section 7.1: "res binder" over the empty transcript)."""
        return self._expand(self.early_secret, b"res binder", self._empty_hash)

    def _derived(self, secret: bytes) -> bytes:
        return self._expand(secret, b"derived", self._empty_hash)

    def set_shared_secret(self, shared: bytes) -> None:
        salt = self._derived_early or self._derived(self.early_secret)
        self.handshake_secret = hkdf_extract(self.suite, salt, shared)
        self.main_secret = hkdf_extract(self.suite, self._derived(self.handshake_secret), bytes(self.suite.hash_len))

    def handshake_traffic_secrets(self, transcript_hash: bytes) -> tuple[bytes, bytes]:
        """``(client, server)`` handshake traffic secrets over ClientHello..ServerHello."""
        secret = self.handshake_secret
        return (self._expand(secret, b"c hs traffic", transcript_hash),
                self._expand(secret, b"s hs traffic", transcript_hash))  # fmt: skip

    def application_traffic_secrets(self, transcript_hash: bytes) -> tuple[bytes, bytes]:
        """``(client, server)`` application traffic secrets over ClientHello..server Finished."""
        secret = self.main_secret
        return (self._expand(secret, b"c ap traffic", transcript_hash),
                self._expand(secret, b"s ap traffic", transcript_hash))  # fmt: skip

    def exporter_secret(self, transcript_hash: bytes) -> bytes:
        return self._expand(self.main_secret, b"exp master", transcript_hash)

    def resumption_secret(self, transcript_hash: bytes) -> bytes:
        return self._expand(self.main_secret, b"res master", transcript_hash)

    def resumption_psk(self, resumption_secret: bytes, ticket_nonce: bytes) -> bytes:
        """:func:`resumption_psk` with the resumption secret's HMAC keyed once for all the tickets of a connection."""
        return self._expand(resumption_secret, b"resumption", ticket_nonce)


@lru_cache(maxsize=8)
def _no_psk_secrets(suite: CipherSuite) -> tuple[bytes, bytes]:
    """The Early Secret without a PSK (HKDF-Extract of zeros with zeros) and Derive-Secret(., "derived", "")."""
    zeros = bytes(suite.hash_len)
    early = hkdf_extract(suite, zeros, zeros)
    return early, derive_secret(suite, early, b"derived", _hash_empty(suite))


@lru_cache(maxsize=4)
def _hash_empty(suite: CipherSuite) -> bytes:
    h = hashes.Hash(suite.hash_algorithm())
    return h.finalize()
