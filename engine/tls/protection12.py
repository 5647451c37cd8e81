"""TLS 1.2 record protection (RFC 5246 section 6.2.3), one object per direction.

A protection object owns one direction's keys and its 64-bit sequence number. :meth:`RecordProtection12.seal`
turns a plaintext fragment into the TLSCiphertext fragment (the bytes after the 5-byte record header) and
:meth:`RecordProtection12.open` does the reverse; both take the record's content type, which is authenticated but
not encrypted in TLS 1.2. Every record sealed or opened uses up one sequence number (RFC 5246 section 6.1), so the
framing layer must call ``open`` for every protected record in order. Framing, the header and the choice of
content type stay with the record layer.

Three shapes (chosen by :func:`protection_for` from the suite and the negotiated extensions):

* :class:`AEADProtection12` -- AES-GCM (RFC 5288): nonce = 4-byte fixed IV (salt) + 8-byte explicit nonce carried
  at the start of the fragment (we send the sequence number, which never repeats under one key);
  ChaCha20-Poly1305 (RFC 7905 section 2): nonce = 12-byte fixed IV XOR the left-padded sequence number, nothing
  explicit. Additional data: ``seq_num(8) || type(1) || version(2) || plaintext length(2)``.
* :class:`CBCProtection12` with ``encrypt_then_mac=False`` -- MAC-then-encrypt (RFC 5246 section 6.2.3.2): HMAC
  over ``seq || type || version || length || content``, then content + MAC + padding encrypted in AES-CBC under a
  fresh random IV sent in front.
* :class:`CBCProtection12` with ``encrypt_then_mac=True`` -- RFC 7366: encrypt content + padding, then HMAC over
  ``seq || type || version || length(IV + ciphertext) || IV || ciphertext`` appended in the clear.

Failures: every authentication or padding failure is ``bad_record_mac`` (RFC 5246 section 7.2.2 -- the alert must
not tell a padding error from a MAC error); a fragment over 2^14 + 2048 bytes, or an authenticated plaintext over
2^14 bytes, is ``record_overflow``. A fragment whose length cannot be a valid record for the cipher (shorter than
the minimum or, for CBC, not a whole number of blocks) is ``bad_record_mac`` too: its length is public anyway.

Timing (MAC-then-encrypt only; the AEADs and encrypt-then-MAC authenticate before looking at any plaintext): the
padding check reads the same number of bytes (up to 256, the largest padding) whatever the padding byte says and
computes a flag without branching (integer operations of one fixed size and a constant-time comparison); the MAC is
then always computed and compared with :func:`hmac.compare_digest`. An invalid padding is treated as no padding (RFC
5246 section 6.2.3.2), and a dummy HMAC over whole zero blocks makes up the compression-function calls that a
stripped padding saved, so the hash work inside ``cryptography`` is the same number of SHA-1/SHA-256 blocks whatever
the padding (the Lucky Thirteen countermeasure). What is *not* constant-time in Python: slicing and copying at a
secret offset, the interpreter's int and bool operations (small ints are cached, comparisons short-circuit in C),
the per-call overhead of the two HMAC computations, and the single branch that raises the alert at the end. This
closes the padding oracle as an alert or an early return and removes the gross timing difference; it does not close
a fine timing channel measurable on the same machine.
Prefer the AEAD suites or encrypt-then-MAC.
"""

from __future__ import annotations

import hmac as _stdhmac
import os
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import Enum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from .alerts import AlertDescription, TLSAlertError
from .prf12 import KeyBlock
from .suites12 import BulkCipher, Suite12

MAX_PLAINTEXT = 1 << 14
MAX_CIPHERTEXT = (1 << 14) + 2048  # RFC 5246 section 6.2.3: TLSCiphertext.length limit
TLS12_VERSION = 0x0303
TAG_LEN = 16
BLOCK_LEN = 16  # AES
_SEQ_LIMIT = (1 << 64) - 1

_MAC_PREFIX_LEN = 13  # seq_num(8) + type(1) + version(2) + length(2)
_HASH_BLOCK = 64  # SHA-1 and SHA-256 block size, the two record MAC hashes
_ZERO_BLOCKS = memoryview(bytes(_HASH_BLOCK * 8))  # slices are views: no allocation that depends on the padding
# MAC-then-encrypt padding check (see _open_mte): the last 256 bytes (the largest padding) as one integer
_PAD_WINDOW = 256
_WINDOW_TOP = b"\x01" + bytes(_PAD_WINDOW)  # a 0x01 top byte, then zeros for a body shorter than the window
_REPEAT_TOP = b"\x02"
_MASK_TOP = b"\x03"
_MASK_SOURCE = bytes(_PAD_WINDOW - 1) + b"\xff" * _PAD_WINDOW  # [pad : pad + 256]: 0xff on the last pad + 1 bytes
_PAD_GOOD = b"\x03" + bytes(_PAD_WINDOW)
_pack_record_header = struct.Struct(">BHH").pack  # type || version || length of the TLSCiphertext
_pack_aad = struct.Struct(">QBHH").pack  # seq_num || type || version || length: _header in one C call


def _hash_blocks(message_len: int) -> int:
    """Compression-function calls of the inner HMAC hash over ``message_len`` bytes (after the key block): the
    message plus the 0x80 byte and the 8-byte length, rounded up to whole 64-byte blocks."""
    return (message_len + 9 + _HASH_BLOCK - 1) // _HASH_BLOCK


RandomSource = Callable[[int], bytes]
"""``n -> n random bytes``; injected so a test can fix the CBC IVs (default :func:`os.urandom`)."""


class Direction(Enum):
    """Which write keys protect the traffic: the client's (client seals, server opens) or the server's."""

    client_to_server = "client_to_server"
    server_to_client = "server_to_client"


def _bad_mac(message: str) -> TLSAlertError:
    return TLSAlertError(AlertDescription.bad_record_mac, message)


def _overflow(message: str) -> TLSAlertError:
    return TLSAlertError(AlertDescription.record_overflow, message)


class RecordProtection12(ABC):
    """One direction of TLS 1.2 record protection with its own 64-bit sequence number (starts at 0).

    Also the record layer's protection strategy as it is (``record.RecordProtection``): the content type stays
    visible and a peer's fragment may be up to 2^14 + 2048 bytes. No wrapper, so no extra call per record.
    """

    conceals_type = False
    max_fragment = MAX_CIPHERTEXT

    def __init__(self, suite: Suite12, *, version: int = TLS12_VERSION) -> None:
        self.suite = suite
        self.seq = 0
        self._version = version.to_bytes(2, "big")
        self._version_int = version

    def _next_seq(self) -> int:
        seq = self.seq
        if seq >= _SEQ_LIMIT:
            # RFC 5246 section 6.1: sequence numbers must not wrap; renegotiate (or close) before that
            raise TLSAlertError(AlertDescription.internal_error, "sequence number exhausted")
        self.seq = seq + 1
        return seq

    def _header(self, seq: int, content_type: int, length: int) -> bytes:
        """``seq_num || type || version || length``, the prefix of the MAC input and the AEAD additional data."""
        return seq.to_bytes(8, "big") + bytes((content_type,)) + self._version + length.to_bytes(2, "big")

    @staticmethod
    def _check_seal_input(content_type: int, plaintext: bytes | memoryview) -> None:
        if not 0 <= content_type <= 255:
            raise ValueError(f"content type {content_type} out of range")
        if len(plaintext) > MAX_PLAINTEXT:
            raise ValueError(f"record plaintext of {len(plaintext)} bytes exceeds 2^14")

    @abstractmethod
    def seal(self, content_type: int, plaintext: bytes | memoryview) -> bytes:
        """The TLSCiphertext fragment carrying ``plaintext`` (at most 2^14 bytes); uses one sequence number."""

    def seal_record(self, content_type: int, plaintext: bytes | memoryview) -> bytes:
        """The whole record on the wire: the 5-byte header and :meth:`seal`'s fragment."""
        sealed = self.seal(content_type, plaintext)
        return _pack_record_header(content_type, TLS12_VERSION, len(sealed)) + sealed

    @abstractmethod
    def open(self, content_type: int, fragment: bytes | memoryview) -> bytes:
        """The plaintext of a TLSCiphertext fragment; uses one sequence number.

        Raises :class:`TLSAlertError` with ``bad_record_mac`` on any authentication, padding or length failure and
        ``record_overflow`` for a fragment over 2^14 + 2048 bytes or an authenticated plaintext over 2^14 bytes.
        """


class AEADProtection12(RecordProtection12):
    """AES-GCM (RFC 5288) or ChaCha20-Poly1305 (RFC 7905) record protection."""

    def __init__(self, suite: Suite12, key: bytes, fixed_iv: bytes, *, version: int = TLS12_VERSION) -> None:
        super().__init__(suite, version=version)
        if not suite.is_aead:
            raise ValueError(f"{suite.openssl_name} is not an AEAD suite")
        if len(key) != suite.enc_key_len or len(fixed_iv) != suite.fixed_iv_len:
            raise ValueError("key or fixed IV length does not match the suite")
        self._chacha = suite.cipher is BulkCipher.CHACHA20_POLY1305
        self._aead: AESGCM | ChaCha20Poly1305 = ChaCha20Poly1305(key) if self._chacha else AESGCM(key)
        self._fixed_iv = fixed_iv
        self._iv_int = int.from_bytes(fixed_iv, "big")
        self._explicit_len = suite.record_iv_len  # 8 for GCM, 0 for ChaCha20

    def _nonce(self, seq: int, explicit: bytes | memoryview) -> bytes:
        if self._chacha:
            return (self._iv_int ^ seq).to_bytes(12, "big")  # RFC 7905 section 2
        return self._fixed_iv + explicit  # RFC 5288 section 3: salt || nonce_explicit

    def seal(self, content_type: int, plaintext: bytes | memoryview) -> bytes:
        self._check_seal_input(content_type, plaintext)
        seq = self._next_seq()
        explicit = b"" if self._chacha else seq.to_bytes(8, "big")
        aad = self._header(seq, content_type, len(plaintext))
        return explicit + self._aead.encrypt(self._nonce(seq, explicit), plaintext, aad)

    def seal_record(self, content_type: int, plaintext: bytes | memoryview) -> bytes:
        """:meth:`seal` with the record header, joined once (the bulk path); the explicit nonce is the sequence
        number, the first 8 bytes of the additional data. (_check_seal_input, _next_seq, _header and _nonce
        inline: this is every record's path.)"""
        length = len(plaintext)
        if length > MAX_PLAINTEXT or not 0 <= content_type <= 255:
            self._check_seal_input(content_type, plaintext)  # raises
        seq = self.seq
        if seq >= _SEQ_LIMIT:
            self._next_seq()  # raises: RFC 5246 section 6.1
        self.seq = seq + 1
        aad = _pack_aad(seq, content_type, self._version_int, length)
        if self._chacha:
            sealed = self._aead.encrypt((self._iv_int ^ seq).to_bytes(12, "big"), plaintext, aad)
            return _pack_record_header(content_type, TLS12_VERSION, len(sealed)) + sealed
        explicit = aad[:8]
        sealed = self._aead.encrypt(self._fixed_iv + explicit, plaintext, aad)
        return b"".join((_pack_record_header(content_type, TLS12_VERSION, 8 + len(sealed)), explicit, sealed))

    def open(self, content_type: int, fragment: bytes | memoryview) -> bytes:
        seq = self.seq  # _next_seq, inline
        if seq >= _SEQ_LIMIT:
            self._next_seq()  # raises
        self.seq = seq + 1
        size = len(fragment)
        if size > MAX_CIPHERTEXT:
            raise _overflow(f"record fragment of {size} bytes")
        explicit_len = self._explicit_len
        if size < explicit_len + TAG_LEN:
            raise _bad_mac("record too short for the AEAD")
        length = size - explicit_len - TAG_LEN
        aad = _pack_aad(seq, content_type, self._version_int, length)
        if self._chacha:
            nonce, sealed = (self._iv_int ^ seq).to_bytes(12, "big"), fragment  # RFC 7905 section 2
        else:
            nonce, sealed = self._fixed_iv + fragment[:explicit_len], fragment[explicit_len:]  # RFC 5288 section 3
        try:
            plaintext = self._aead.decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise _bad_mac("record authentication failed") from None
        if length > MAX_PLAINTEXT:
            raise _overflow(f"record plaintext of {length} bytes")
        return plaintext


class CBCProtection12(RecordProtection12):
    """AES-CBC with HMAC, MAC-then-encrypt (RFC 5246 section 6.2.3.2) or encrypt-then-MAC (RFC 7366)."""

    def __init__(
        self,
        suite: Suite12,
        mac_key: bytes,
        enc_key: bytes,
        *,
        encrypt_then_mac: bool,
        version: int = TLS12_VERSION,
        random: RandomSource = os.urandom,
    ) -> None:
        super().__init__(suite, version=version)
        if suite.is_aead:
            raise ValueError(f"{suite.openssl_name} is not a CBC suite")
        if len(mac_key) != suite.mac_key_len or len(enc_key) != suite.enc_key_len:
            raise ValueError("MAC or encryption key length does not match the suite")
        self.encrypt_then_mac = encrypt_then_mac
        self._mac_len = suite.mac_len
        self._keyed_mac = _hmac.HMAC(mac_key, suite.mac_algorithm())  # copied per record, keyed once
        self._aes = algorithms.AES(enc_key)
        self._random = random
        # One AES-CBC decryptor for the whole epoch (the key schedule and cipher context set up once, not per
        # record). Each record is fed whole, explicit IV first: CBC decryption of block i only needs ciphertext
        # block i - 1, so every block after the IV decrypts exactly as under a fresh context started from that IV;
        # the first output block (the IV decrypted against whatever came before) is dropped. Every feed is whole
        # blocks, so nothing is ever held back between records.
        self._decryptor = Cipher(self._aes, modes.CBC(bytes(BLOCK_LEN))).decryptor()
        # Likewise one encryptor. Its chaining value is the last ciphertext block it produced (`_chain`, the zero IV
        # at first); XOR-ing `_chain ^ iv` into the first plaintext block turns E(P1 ^ _chain) into E(P1 ^ iv), so
        # every record is bit for bit AES-CBC under its own fresh explicit IV, as a new encryptor would give.
        self._encryptor = Cipher(self._aes, modes.CBC(bytes(BLOCK_LEN))).encryptor()
        self._chain = 0

    # -- helpers -------------------------------------------------------------------------------------------------

    def _mac(self, *parts: bytes | memoryview) -> bytes:
        h = self._keyed_mac.copy()
        for part in parts:
            h.update(part)
        return h.finalize()

    @staticmethod
    def _padding(length: int) -> bytes:
        # RFC 5246 section 6.2.3.2: padding_length + 1 bytes, each holding padding_length; the minimum that makes a
        # whole number of blocks (any longer valid padding is accepted on open)
        pad = BLOCK_LEN - 1 - length % BLOCK_LEN
        return bytes((pad,)) * (pad + 1)

    def _encrypt(self, iv: bytes, data: bytes) -> bytes:
        """``iv || AES-CBC(iv, data)`` for whole blocks ``data`` (see ``_chain`` in ``__init__``)."""
        enc = self._encryptor
        mask = int.from_bytes(iv, "big") ^ self._chain
        first = (int.from_bytes(data[:BLOCK_LEN], "big") ^ mask).to_bytes(BLOCK_LEN, "big")
        out = b"".join((iv, enc.update(first), enc.update(memoryview(data)[BLOCK_LEN:])))
        self._chain = int.from_bytes(out[-BLOCK_LEN:], "big")
        return out

    def _decrypt(self, iv_and_ciphertext: bytes | memoryview) -> memoryview:
        """The plaintext of ``IV || whole blocks``, as a view (no copy) over the blocks after the IV."""
        return memoryview(self._decryptor.update(iv_and_ciphertext))[BLOCK_LEN:]

    def _new_iv(self) -> bytes:
        iv = self._random(BLOCK_LEN)
        if len(iv) != BLOCK_LEN:
            raise TLSAlertError(AlertDescription.internal_error, "random source gave a short IV")
        return iv

    # -- seal ----------------------------------------------------------------------------------------------------

    def seal(self, content_type: int, plaintext: bytes | memoryview) -> bytes:
        self._check_seal_input(content_type, plaintext)
        seq = self._next_seq()
        iv = self._new_iv()
        if self.encrypt_then_mac:
            ciphertext = self._encrypt(iv, b"".join((plaintext, self._padding(len(plaintext)))))
            return ciphertext + self._mac(self._header(seq, content_type, len(ciphertext)), ciphertext)
        mac = self._mac(self._header(seq, content_type, len(plaintext)), plaintext)
        inner_len = len(plaintext) + len(mac)
        return self._encrypt(iv, b"".join((plaintext, mac, self._padding(inner_len))))

    def seal_record(self, content_type: int, plaintext: bytes | memoryview) -> bytes:
        """:meth:`seal` with the record header, the bulk path: the same bytes (the same IV from the random source,
        the same MAC input, the same padding) without joining plaintext, padding, ciphertext and MAC on the way. The
        encryptor takes the parts one after another (it keeps a partial block between calls, and every record ends
        on a whole block), the MAC the header and the parts, and one join makes the record. Records shorter than a
        block, whose first block would include the padding or the MAC, go through :meth:`seal`."""
        length = len(plaintext)
        if length < BLOCK_LEN or length > MAX_PLAINTEXT or not 0 <= content_type <= 255:
            return super().seal_record(content_type, plaintext)  # (raises for the last two)
        seq = self._next_seq()
        iv = self._new_iv()
        view = memoryview(plaintext)
        enc = self._encryptor
        # the first block masked as _encrypt does: E(P1 ^ chain ^ iv) is P1's block under a fresh CBC from iv
        first = enc.update((int.from_bytes(view[:BLOCK_LEN], "big") ^ int.from_bytes(iv, "big")
                            ^ self._chain).to_bytes(BLOCK_LEN, "big"))
        middle = enc.update(view[BLOCK_LEN:])
        mac = self._keyed_mac.copy()
        if self.encrypt_then_mac:
            last = enc.update(self._padding(length))  # completes the final block
            ct_len = BLOCK_LEN + len(first) + len(middle) + len(last)  # IV + whole blocks
            mac.update(_pack_aad(seq, content_type, self._version_int, ct_len))
            mac.update(iv)
            mac.update(first)
            mac.update(middle)
            mac.update(last)
            tag = mac.finalize()
            self._chain = int.from_bytes(last[-BLOCK_LEN:], "big")
            return b"".join((_pack_record_header(content_type, TLS12_VERSION, ct_len + len(tag)), iv, first, middle,
                             last, tag))
        mac.update(_pack_aad(seq, content_type, self._version_int, length))
        mac.update(plaintext)
        tag = mac.finalize()
        last = enc.update(tag + self._padding(length + len(tag)))  # MAC and padding complete the final block
        self._chain = int.from_bytes(last[-BLOCK_LEN:], "big")
        size = BLOCK_LEN + len(first) + len(middle) + len(last)
        return b"".join((_pack_record_header(content_type, TLS12_VERSION, size), iv, first, middle, last))

    # -- open ----------------------------------------------------------------------------------------------------

    def open(self, content_type: int, fragment: bytes | memoryview) -> bytes:
        seq = self._next_seq()
        if len(fragment) > MAX_CIPHERTEXT:
            raise _overflow(f"record fragment of {len(fragment)} bytes")
        if self.encrypt_then_mac:
            return self._open_etm(seq, content_type, fragment)
        return self._open_mte(seq, content_type, fragment)

    def _open_etm(self, seq: int, content_type: int, fragment: bytes | memoryview) -> bytes:
        # RFC 7366 section 3: IV + at least one block + MAC; check the MAC before decrypting anything
        ct_len = len(fragment) - self._mac_len
        if ct_len < 2 * BLOCK_LEN or ct_len % BLOCK_LEN:
            raise _bad_mac("record length is not IV + whole blocks + MAC")
        ciphertext = fragment[:ct_len]
        expected = self._mac(self._header(seq, content_type, ct_len), ciphertext)
        if not _stdhmac.compare_digest(expected, fragment[ct_len:]):
            raise _bad_mac("record MAC check failed")
        body = self._decrypt(ciphertext)
        pad = body[-1]
        # authenticated already, so a padding error here is no oracle; still the same alert (RFC 7366 section 3)
        if pad + 1 > len(body) or body[-pad - 1 :] != bytes((pad,)) * (pad + 1):
            raise _bad_mac("record padding invalid")
        content_len = len(body) - pad - 1
        if content_len > MAX_PLAINTEXT:
            raise _overflow(f"record plaintext of {content_len} bytes")
        return bytes(body[:content_len])

    def _open_mte(self, seq: int, content_type: int, fragment: bytes | memoryview) -> bytes:
        mac_len = self._mac_len
        body_len = len(fragment) - BLOCK_LEN
        # public-length checks: whole blocks, and room for the MAC plus the padding_length byte
        if body_len < mac_len + 1 or body_len % BLOCK_LEN:
            raise _bad_mac("record length is not IV + whole blocks holding a MAC")
        body = self._decrypt(fragment)
        pad = body[-1]
        # Padding check without an early exit and without a loop: the last min(256, body_len) bytes whatever `pad`
        # says, as one 257-byte integer (a 0x01 byte on top, zeros where the body is shorter), XORed with `pad`
        # repeated (0x02 on top) and masked to the claimed padding's pad + 1 bytes (0x03 on top): every byte of the
        # result below the top is zero exactly when every padding byte equals `pad`. Every operand has the same
        # size whatever the data and `pad` (the top bytes keep the integers from shrinking), so the integer work,
        # the conversion and hmac.compare_digest's constant-time comparison do not depend on them; the padding
        # bytes read are the same as the byte loop this replaces read (tests/engine/tls/test_protection12.py
        # compares the two flags).
        window = min(_PAD_WINDOW, body_len)
        diff = ((int.from_bytes(_WINDOW_TOP[: _PAD_WINDOW + 1 - window] + body[-window:], "big")
                 ^ int.from_bytes(_REPEAT_TOP + bytes((pad,)) * _PAD_WINDOW, "big"))
                & int.from_bytes(_MASK_TOP + _MASK_SOURCE[pad : pad + _PAD_WINDOW], "big"))
        good = int(_stdhmac.compare_digest(diff.to_bytes(_PAD_WINDOW + 1, "big"), _PAD_GOOD)) \
            & int(pad + 1 + mac_len <= body_len)  # fmt: skip
        # RFC 5246 section 6.2.3.2: with a bad padding, compute the MAC as if there were no padding
        strip = good * (pad + 1)
        content_len = body_len - mac_len - strip
        received = body[content_len : content_len + mac_len]
        expected = self._mac(self._header(seq, content_type, content_len), body[:content_len])
        # Lucky Thirteen: a dummy HMAC over whole zero blocks makes up the compression-function calls that the MAC
        # over a shorter (padding-stripped) record saved, so real + dummy is the same for every padding length.
        saved = _hash_blocks(_MAC_PREFIX_LEN + body_len - mac_len) - _hash_blocks(_MAC_PREFIX_LEN + content_len)
        self._mac(_ZERO_BLOCKS[: _HASH_BLOCK * saved])
        mac_ok = _stdhmac.compare_digest(expected, received)
        if not (mac_ok & bool(good)):
            raise _bad_mac("record MAC or padding check failed")
        if content_len > MAX_PLAINTEXT:
            raise _overflow(f"record plaintext of {content_len} bytes")
        return bytes(body[:content_len])


def protection_for(
    suite: Suite12,
    keys: KeyBlock,
    direction: Direction,
    encrypt_then_mac: bool = False,
    *,
    version: int = TLS12_VERSION,
    random: RandomSource = os.urandom,
) -> RecordProtection12:
    """The protection for one direction from the key block (RFC 5246 section 6.3).

    ``direction`` picks the client's or the server's write keys; the endpoint that writes with them seals and its
    peer opens. ``encrypt_then_mac`` (RFC 7366, negotiated by the encrypt_then_mac extension) applies to CBC suites
    only and is ignored for AEAD suites, as RFC 7366 section 3 says.
    """
    if direction is Direction.client_to_server:
        mac_key, enc_key, iv = keys.client_write_mac_key, keys.client_write_key, keys.client_write_iv
    else:
        mac_key, enc_key, iv = keys.server_write_mac_key, keys.server_write_key, keys.server_write_iv
    if suite.is_aead:
        return AEADProtection12(suite, enc_key, iv, version=version)
    return CBCProtection12(suite, mac_key, enc_key, encrypt_then_mac=encrypt_then_mac, version=version, random=random)
