"""TLS 1.2 key derivation: the PRF (RFC 5246 section 5) and what is built from it.

* :func:`prf` is ``PRF(secret, label, seed) = P_<hash>(secret, label + seed)``; P_hash chains HMAC from
  ``cryptography`` (``A(0) = seed``, ``A(i) = HMAC(secret, A(i-1))``, output ``HMAC(secret, A(i) + seed)``...).
* :func:`master_secret` (RFC 5246 section 8.1) and :func:`extended_master_secret` (RFC 7627 section 4, over the
  session hash: the handshake hash up to and including ClientKeyExchange) give the 48-byte master secret.
* :func:`key_block` expands it with ``server_random + client_random`` (note the order, RFC 5246 section 6.3) and
  :func:`derive_keys` splits it for a suite into :class:`KeyBlock`.
* :func:`finished_verify_data` is Finished.verify_data (RFC 5246 section 7.4.9): 12 bytes over the handshake hash,
  labelled "client finished" or "server finished" by the sender.
* :func:`export_keying_material` is the TLS 1.2 exporter (RFC 5705 section 4).

The hash is always passed explicitly (``suite.hash_algorithm()``), so nothing here knows about suites except
:func:`derive_keys`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac

from .suites12 import VERIFY_DATA_LEN, Suite12

MASTER_SECRET_LEN = 48
RANDOM_LEN = 32

LABEL_MASTER_SECRET = b"master secret"
LABEL_EXTENDED_MASTER_SECRET = b"extended master secret"
LABEL_KEY_EXPANSION = b"key expansion"
LABEL_CLIENT_FINISHED = b"client finished"
LABEL_SERVER_FINISHED = b"server finished"


def p_hash(hash_algorithm: hashes.HashAlgorithm, secret: bytes, seed: bytes, length: int) -> bytes:
    """P_hash(secret, seed) truncated to ``length`` bytes (RFC 5246 section 5)."""
    if length < 0:
        raise ValueError("negative PRF output length")
    return _p_hash(_hmac.HMAC(secret, hash_algorithm), seed, length)


def _p_hash(keyed: _hmac.HMAC, seed: bytes, length: int) -> bytes:
    # ``keyed``: HMAC keyed with the secret, never finalized; each HMAC below is a copy of its state
    out = bytearray()
    a = seed
    while len(out) < length:
        h = keyed.copy()
        h.update(a)
        a = h.finalize()
        h = keyed.copy()
        h.update(a)
        h.update(seed)
        out += h.finalize()
    return bytes(out[:length])


def prf(hash_algorithm: hashes.HashAlgorithm, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """PRF(secret, label, seed) = P_<hash>(secret, label + seed) (RFC 5246 section 5)."""
    return p_hash(hash_algorithm, secret, label + seed, length)


class KeyedPRF:
    """PRF(secret, label, seed) of one secret with its HMAC keyed once: a handshake's master secret gives the key
    block and both Finished messages."""

    __slots__ = ("_keyed", "secret")

    def __init__(self, hash_algorithm: hashes.HashAlgorithm, secret: bytes) -> None:
        self.secret = secret
        self._keyed = _hmac.HMAC(secret, hash_algorithm)

    def __call__(self, label: bytes, seed: bytes, length: int) -> bytes:
        if length < 0:
            raise ValueError("negative PRF output length")
        return _p_hash(self._keyed, label + seed, length)


def _check_randoms(client_random: bytes, server_random: bytes) -> None:
    if len(client_random) != RANDOM_LEN or len(server_random) != RANDOM_LEN:
        raise ValueError("client and server randoms are 32 bytes each")


def master_secret(
    hash_algorithm: hashes.HashAlgorithm, pre_master_secret: bytes, client_random: bytes, server_random: bytes
) -> bytes:
    """master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47]."""
    _check_randoms(client_random, server_random)
    return prf(hash_algorithm, pre_master_secret, LABEL_MASTER_SECRET, client_random + server_random, MASTER_SECRET_LEN)


def extended_master_secret(
    hash_algorithm: hashes.HashAlgorithm, pre_master_secret: bytes, session_hash: bytes
) -> bytes:
    """RFC 7627 section 4: PRF(pre_master_secret, "extended master secret", session_hash)[0..47].

    ``session_hash`` is the hash (the suite's PRF hash) of the handshake messages from ClientHello up to and
    including ClientKeyExchange (RFC 7627 section 3).
    """
    return prf(hash_algorithm, pre_master_secret, LABEL_EXTENDED_MASTER_SECRET, session_hash, MASTER_SECRET_LEN)


def key_block(
    hash_algorithm: hashes.HashAlgorithm,
    master: bytes,
    client_random: bytes,
    server_random: bytes,
    length: int,
) -> bytes:
    """key_block = PRF(master_secret, "key expansion", server_random + client_random) (RFC 5246 section 6.3)."""
    _check_randoms(client_random, server_random)
    return prf(hash_algorithm, master, LABEL_KEY_EXPANSION, server_random + client_random, length)


@dataclass(frozen=True, slots=True)
class KeyBlock:
    """The key block split in RFC 5246 section 6.3 order. MAC keys are empty for AEAD suites, IVs for CBC ones."""

    client_write_mac_key: bytes
    server_write_mac_key: bytes
    client_write_key: bytes
    server_write_key: bytes
    client_write_iv: bytes
    server_write_iv: bytes

    def __repr__(self) -> str:  # keys stay out of tracebacks and logs
        return f"KeyBlock(<{len(self.client_write_key)}-byte keys>)"


def split_key_block(suite: Suite12, block: bytes) -> KeyBlock:
    """Cut ``block`` (at least ``suite.key_block_len`` bytes) into the six parts for ``suite``."""
    if len(block) < suite.key_block_len:
        raise ValueError(f"key block of {len(block)} bytes, {suite.openssl_name} needs {suite.key_block_len}")
    parts: list[bytes] = []
    pos = 0
    for n in (suite.mac_key_len,) * 2 + (suite.enc_key_len,) * 2 + (suite.fixed_iv_len,) * 2:
        parts.append(block[pos : pos + n])
        pos += n
    return KeyBlock(*parts)


def derive_keys(suite: Suite12, master: bytes, client_random: bytes, server_random: bytes,
                prf_of_master: KeyedPRF | None = None) -> KeyBlock:  # fmt: skip
    """The key block for ``suite`` from the master secret, split (RFC 5246 section 6.3); ``prf_of_master`` (a
    :class:`KeyedPRF` of ``master``) saves keying the HMAC again."""
    if prf_of_master is None:
        block = key_block(suite.hash_algorithm(), master, client_random, server_random, suite.key_block_len)
    else:
        _check_randoms(client_random, server_random)
        block = prf_of_master(LABEL_KEY_EXPANSION, server_random + client_random, suite.key_block_len)
    return split_key_block(suite, block)


def finished_verify_data(
    hash_algorithm: hashes.HashAlgorithm, master: bytes, handshake_hash: bytes, *, client: bool,
    prf_of_master: KeyedPRF | None = None,
) -> bytes:
    """Finished.verify_data (RFC 5246 section 7.4.9).

    ``PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]`` where the label is "client finished"
    when ``client`` (the client sends this Finished) and "server finished" otherwise. ``handshake_hash`` covers all
    handshake messages of this handshake up to, not including, the Finished being computed.
    """
    label = LABEL_CLIENT_FINISHED if client else LABEL_SERVER_FINISHED
    if prf_of_master is not None:
        return prf_of_master(label, handshake_hash, VERIFY_DATA_LEN)
    return prf(hash_algorithm, master, label, handshake_hash, VERIFY_DATA_LEN)


RESERVED_EXPORTER_LABELS = frozenset(
    {LABEL_CLIENT_FINISHED, LABEL_SERVER_FINISHED, LABEL_MASTER_SECRET, LABEL_KEY_EXPANSION}
    | {LABEL_EXTENDED_MASTER_SECRET}
)
"""Labels the handshake itself uses (RFC 5705 section 4; RFC 7627 adds its own): an exporter must not reuse them."""


def export_keying_material(
    hash_algorithm: hashes.HashAlgorithm,
    master: bytes,
    client_random: bytes,
    server_random: bytes,
    label: bytes,
    length: int,
    context: bytes | None = None,
) -> bytes:
    """RFC 5705 section 4: ``PRF(master_secret, label, client_random + server_random [+ context_length + context])``.

    ``context=None`` (no context) and ``context=b""`` (an empty one) give different output, as the RFC says.
    ValueError for a reserved label or a context of 2^16 bytes or more.
    """
    _check_randoms(client_random, server_random)
    if label in RESERVED_EXPORTER_LABELS:
        raise ValueError(f"exporter label {label!r} is reserved by the handshake")
    seed = client_random + server_random
    if context is not None:
        if len(context) >= 1 << 16:
            raise ValueError("exporter context of 2^16 bytes or more")
        seed += len(context).to_bytes(2, "big") + context
    return prf(hash_algorithm, master, label, seed, length)
