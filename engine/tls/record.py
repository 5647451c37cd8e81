"""Record layer for TLS 1.3 (RFC 9846 section 5) and TLS 1.2 (RFC 5246 section 6.2).

Sans-IO: :meth:`RecordLayer.feed` takes bytes from the wire, :meth:`RecordLayer.next_record` returns one decoded
``(content_type, payload)`` or ``None`` when more bytes are needed, and :meth:`RecordLayer.seal` turns content into
wire bytes. Protection arrives per direction and epoch through :meth:`install_read_key` / :meth:`install_write_key`
(called by the connection when the handshake emits a key-change instruction) as a *protection strategy*, one object
per direction that owns its keys and sequence number:

* TLS 1.3 (:class:`AEAD13`, ``conceals_type``): every protected record is application_data on the wire; the real
  content type and the padding live in the inner plaintext, which this layer builds and strips (section 5.2, 5.4).
* TLS 1.2 (``engine.tls.protection12``): every record after ChangeCipherSpec is protected under its own content type;
  the strategy builds the fragment (explicit nonce or IV, MAC, padding) and this layer only frames it.

Invariants:

* With no read protection, records are TLSPlaintext (length <= 2^14). Under TLS 1.3 protection only application_data
  records (length <= 2^14 + 256) are decrypted; change_cipher_spec is passed up in the clear for the compatibility
  rule of RFC 9846 section 5, and a plaintext alert is accepted only while the read epoch is the handshake epoch (a
  peer that failed before it had keys can only send one in the clear). Under TLS 1.2 protection every record is
  opened (length <= 2^14 + 2048, RFC 5246 section 6.2.3).
* A failed open is bad_record_mac; a plaintext over 2^14 bytes (2^14 + 1 for a 1.3 inner plaintext) is
  record_overflow; an all-zero 1.3 inner plaintext (no content type) is unexpected_message.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from enum import IntEnum
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from .alerts import AlertDescription, TLSAlertError
from .keyschedule import CipherSuite, traffic_keys

MAX_PLAINTEXT = 1 << 14
MAX_CIPHERTEXT = (1 << 14) + 256
MAX_CIPHERTEXT12 = (1 << 14) + 2048
TAG_LEN = 16
HEADER_LEN = 5

CCS_RECORD = b"\x14\x03\x03\x00\x01\x01"

_pack_header = struct.Struct(">BHH").pack  # type(1) || legacy_record_version(2) || length(2), one C call
_TYPE_BYTE = tuple(bytes((t,)) for t in range(256))  # the inner content type byte, made once


class ContentType(IntEnum):
    invalid = 0
    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23


class Epoch(IntEnum):
    """Which keys protect a direction (RFC 9846 section 5: initial, handshake, application)."""

    initial = 0
    handshake = 2
    application = 3


_KNOWN_TYPES = frozenset(int(t) for t in ContentType if t != ContentType.invalid)

PaddingPolicy = Callable[[int, int], int]
"""``(content_type, length) -> number of zero bytes to add`` to a protected record (RFC 9846 section 5.4)."""


class RecordProtection(Protocol):
    """One direction's record protection for one epoch: keys and the 64-bit sequence number it owns.

    ``conceals_type`` (TLS 1.3): the outer type is application_data and ``seal``/``open`` take and give the inner
    plaintext. Otherwise (TLS 1.2) the record keeps its content type and ``seal``/``open`` take and give the content.
    ``max_fragment`` is the largest protected fragment a peer may send.
    """

    @property
    def conceals_type(self) -> bool: ...

    @property
    def max_fragment(self) -> int: ...

    def seal(self, content_type: int, plaintext: bytes) -> bytes: ...

    def seal_record(self, content_type: int, plaintext: bytes) -> bytes:
        """The whole wire record: header and sealed fragment (TLS 1.3: ``plaintext`` is the inner plaintext)."""
        ...

    def open(self, content_type: int, fragment: bytes | memoryview) -> bytes: ...


class AEAD13:
    """TLS 1.3 protection of one direction: key and static IV from the traffic secret, per-record nonce."""

    __slots__ = ("aead", "iv_int", "secret", "seq", "suite")
    conceals_type = True
    max_fragment = MAX_CIPHERTEXT

    def __init__(self, suite: CipherSuite, secret: bytes) -> None:
        key, iv = traffic_keys(suite, secret)
        self.suite = suite
        self.secret = secret
        self.aead: AESGCM | ChaCha20Poly1305 = suite.aead(key)
        self.iv_int = int.from_bytes(iv, "big")
        self.seq = 0

    def nonce(self) -> bytes:
        # RFC 9846 section 5.3: the sequence number, left-padded to iv_length, XORed with the static IV
        seq = self.seq
        if seq >= (1 << 64) - 1:
            raise TLSAlertError(AlertDescription.internal_error, "sequence number exhausted")
        self.seq = seq + 1
        return (self.iv_int ^ seq).to_bytes(12, "big")

    def seal(self, content_type: int, plaintext: bytes) -> bytes:
        return self.aead.encrypt(self.nonce(), plaintext, _pack_header(23, 0x0303, len(plaintext) + TAG_LEN))

    def seal_record(self, content_type: int, inner: bytes) -> bytes:
        """The whole wire record (header and sealed ``inner`` plaintext): the bulk path's one call per record."""
        seq = self.seq
        if seq >= (1 << 64) - 1:
            raise TLSAlertError(AlertDescription.internal_error, "sequence number exhausted")
        self.seq = seq + 1
        header = _pack_header(23, 0x0303, len(inner) + TAG_LEN)
        return header + self.aead.encrypt((self.iv_int ^ seq).to_bytes(12, "big"), inner, header)

    def open(self, content_type: int, fragment: bytes | memoryview) -> bytes:
        """The inner plaintext of ``fragment`` (any buffer: the record layer passes a view, no copy)."""
        if len(fragment) < TAG_LEN + 1:
            raise TLSAlertError(AlertDescription.bad_record_mac, "record too short")
        header = _pack_header(content_type, 0x0303, len(fragment))
        seq = self.seq  # nonce(), inline
        if seq >= (1 << 64) - 1:
            raise TLSAlertError(AlertDescription.internal_error, "sequence number exhausted")
        self.seq = seq + 1
        try:
            return self.aead.decrypt((self.iv_int ^ seq).to_bytes(12, "big"), fragment, header)
        except InvalidTag:
            # a record that does not open does not use up a sequence number: a server skipping early data it
            # cannot decrypt (RFC 9846 section 4.3.10) goes on with the next record under the same number
            self.seq = seq
            raise TLSAlertError(AlertDescription.bad_record_mac, "record authentication failed") from None


_SKIPPED = object()  # a record dropped as early data (RecordLayer.skip_early_data)


class RecordLayer:
    def __init__(self, padding: PaddingPolicy | None = None) -> None:
        # bytes received, not yet returned as records: the caller's own bytes object while it holds whole records
        # (no copy), a bytearray once a partial record has to be kept and appended to
        self._buf: bytes | bytearray = b""
        self._pos = 0
        self._read: RecordProtection | None = None
        self._write: RecordProtection | None = None
        # the write key when it counts its records (TLS 1.3's AEAD13, see write_key_usage), else None (TLS 1.2)
        self.counted_write_key: AEAD13 | None = None
        self.read_epoch = Epoch.initial
        self.write_epoch = Epoch.initial
        self._padding = padding
        # RFC 9846 section 5.1: legacy_record_version 0x0301 is allowed for an initial ClientHello only
        self.plaintext_version = b"\x03\x03"
        # RFC 9846 section 4.3.10: early data a server skips (see skip_early_data)
        self._skip_kind = ""
        self._skip_left = 0
        # record_size_limit (RFC 8449, engine/tls/recordlimit.py): the largest TLS 1.3 inner plaintext we send and
        # the largest we accept; set by the handshake once both sides know them
        self.send_limit = MAX_PLAINTEXT + 1
        self.receive_limit: int | None = None
        # max_fragment_length (RFC 6066, engine/tls/maxfraglen.py): the negotiated plaintext limit, both directions
        self.max_fragment_length: int | None = None

    # -- keys ----------------------------------------------------------------------------------------------------

    def install_read_key(self, protection: RecordProtection, epoch: Epoch) -> None:
        self._read = protection
        self.read_epoch = epoch
        self._skip_kind = ""  # a new key ends skipping application_data records (section 4.3.10)

    def skip_early_data(self, kind: str, limit: int) -> None:
        """RFC 9846 section 4.3.10: drop the client's early data, up to ``limit`` bytes of it: ``undecryptable``
        records that fail to open under the (handshake) read key, until one opens; or ``application_data``
        records that arrive before the next read key (after a HelloRetryRequest). Past the limit the record is an
        error as usual (bad_record_mac, unexpected_message)."""
        self._skip_kind = kind
        self._skip_left = limit

    def _skippable(self, ctype: int, length: int) -> bool:
        # as OpenSSL counts: the record's length less the AEAD tag and the inner content type
        size = max(1, length - 17)
        if ctype != ContentType.application_data or size > self._skip_left:
            return False
        self._skip_left -= size
        return True

    def install_write_key(self, protection: RecordProtection, epoch: Epoch) -> None:
        self._write = protection
        self.write_epoch = epoch
        self.counted_write_key = protection if type(protection) is AEAD13 else None

    @property
    def read_protected(self) -> bool:
        return self._read is not None

    # -- input ---------------------------------------------------------------------------------------------------

    def feed(self, data: bytes | memoryview) -> None:
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            # nothing buffered (the usual case: engine.ssl feeds one whole record at a time): keep the caller's
            # bytes as the buffer, no copy; records are then opened from views of it
            self._buf = data if type(data) is bytes else bytearray(data)
            self._pos = 0
            return
        if isinstance(buf, bytes):
            self._buf = buf = bytearray(memoryview(buf)[pos:])
            self._pos = 0
        elif pos and pos >= len(buf) // 2:
            del buf[:pos]
            self._pos = 0
        buf += data

    def open_whole_record(self, header: bytes, body: bytes | memoryview) -> tuple[int, bytes] | None:
        """The bulk case of ``feed(header + body)`` followed by :meth:`next_record`, without joining the two: when
        nothing is buffered and ``header`` announces exactly ``body`` as a protected application_data record within
        the read protection's length limit (TLS 1.3 or 1.2; no early data being skipped), the record is opened from
        ``body`` itself, as :meth:`_next_record` would open it. None when that does not apply: the caller then feeds
        both parts the usual way (nothing has been consumed)."""
        prot = self._read
        if prot is None or self._pos < len(self._buf) or len(header) != HEADER_LEN or header[0] != 23 \
                or self._skip_kind:  # fmt: skip
            return None
        length = (header[3] << 8) | header[4]
        if length != len(body) or length > prot.max_fragment:
            return None
        if prot.conceals_type:
            return self._open(23, body)
        # _open12, inline (the TLS 1.2 bulk path's one call less per record): the same checks in the same order
        content = prot.open(23, body)
        if len(content) > MAX_PLAINTEXT:
            raise TLSAlertError(AlertDescription.record_overflow, "plaintext too long")
        if self.receive_limit is not None and len(content) >= self.receive_limit:
            raise TLSAlertError(AlertDescription.record_overflow, "record larger than our record_size_limit")
        if self.max_fragment_length is not None:
            self._check_max_fragment(content)
        return 23, content

    def release(self) -> None:
        """Give back the memory of records already returned (the rest stays); feed() otherwise keeps it until the
        next call."""
        buf = self._buf
        if self._pos:
            if isinstance(buf, bytes):
                self._buf = buf[self._pos :]
            else:
                del buf[: self._pos]
            self._pos = 0

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as records."""
        return len(self._buf) - self._pos

    def next_record(self) -> tuple[int, bytes] | None:
        """One record's ``(content_type, plaintext)``, or None if a full record has not arrived yet."""
        buf = self._buf
        pos = self._pos
        if len(buf) - pos < HEADER_LEN:
            return None  # checked here too: every feed ends with this call
        if type(self._read) is AEAD13 and buf[pos] == 23 and type(buf) is bytes and not self._skip_kind:
            # the TLS 1.3 bulk path, the same checks as _next_record's in the order they apply to it: a whole
            # application_data record within the length limit, opened from a view of the fed bytes
            length = (buf[pos + 3] << 8) | buf[pos + 4]
            end = pos + HEADER_LEN + length
            if length <= MAX_CIPHERTEXT and end <= len(buf):
                self._pos = end
                return self._open(23, memoryview(buf)[pos + HEADER_LEN : end])
        while True:
            rec = self._next_record()
            if rec is not _SKIPPED:
                return rec  # type: ignore[return-value]

    def _next_record(self) -> tuple[int, bytes] | object | None:
        buf = self._buf
        pos = self._pos
        if len(buf) - pos < HEADER_LEN:
            return None
        ctype = buf[pos]
        length = (buf[pos + 3] << 8) | buf[pos + 4]
        if ctype not in _KNOWN_TYPES:
            raise TLSAlertError(AlertDescription.unexpected_message, f"unknown record type {ctype}")
        prot = self._read
        conceals = prot is not None and prot.conceals_type
        protected = prot is not None and (ctype == ContentType.application_data or not conceals)
        if length > (prot.max_fragment if prot is not None and protected else MAX_PLAINTEXT):
            raise TLSAlertError(AlertDescription.record_overflow, f"record length {length}")
        end = pos + HEADER_LEN + length
        if len(buf) < end:
            return None
        self._pos = end
        if protected and type(buf) is bytes and not self._skip_kind:
            # the bulk path: open straight from a view of the fed bytes (immutable, so the view can never pin a
            # buffer that is resized later); no copy of the fragment
            assert prot is not None
            fragment_view = memoryview(buf)[pos + HEADER_LEN : end]
            if conceals:
                return self._open(ctype, fragment_view)
            return self._open12(prot, ctype, fragment_view)
        with memoryview(buf) as mv:  # one copy per slice (bytes(buf[a:b]) would copy twice)
            fragment = mv[pos + HEADER_LEN : end].tobytes()
        if self._skip_kind == "application_data" and self._skippable(ctype, length):
            return _SKIPPED  # RFC 9846 section 4.3.10: early data after a HelloRetryRequest
        if protected:
            assert prot is not None
            if not conceals:
                return self._open12(prot, ctype, fragment)
            if self._skip_kind == "undecryptable":
                try:
                    opened = self._open(ctype, fragment)
                except TLSAlertError as exc:
                    if exc.alert != AlertDescription.bad_record_mac or not self._skippable(ctype, length):
                        raise
                    return _SKIPPED  # RFC 9846 section 4.3.10: early data we cannot decrypt
                self._skip_kind = ""  # the first record that opens starts the client's second flight
                return opened
            return self._open(ctype, fragment)
        if length == 0 and ctype != ContentType.application_data:
            # RFC 9846 section 5.1: zero-length handshake/alert fragments are forbidden
            raise TLSAlertError(AlertDescription.unexpected_message, "empty record")
        if self._read is not None and ctype == ContentType.handshake:
            raise TLSAlertError(AlertDescription.unexpected_message, "plaintext handshake record after keys")
        if self._read is not None and ctype == ContentType.alert and self.read_epoch != Epoch.handshake:
            raise TLSAlertError(AlertDescription.unexpected_message, "plaintext alert under application keys")
        if ctype == ContentType.application_data:
            raise TLSAlertError(AlertDescription.unexpected_message, "application data before keys")
        self._check_max_fragment(fragment)
        return ctype, fragment

    def _check_max_fragment(self, content: bytes | memoryview) -> None:
        if self.max_fragment_length is not None and len(content) > self.max_fragment_length:
            raise TLSAlertError(AlertDescription.record_overflow, "record larger than the max_fragment_length")

    def _open12(self, prot: RecordProtection, ctype: int, fragment: bytes | memoryview) -> tuple[int, bytes]:
        content = prot.open(ctype, fragment)
        if len(content) > MAX_PLAINTEXT:
            raise TLSAlertError(AlertDescription.record_overflow, "plaintext too long")
        if self.receive_limit is not None and len(content) >= self.receive_limit:
            # RFC 8449 in TLS 1.2: the limit (receive_limit - 1) counts the plaintext
            raise TLSAlertError(AlertDescription.record_overflow, "record larger than our record_size_limit")
        if self.max_fragment_length is not None:  # (the call only when a limit was negotiated, as in _open)
            self._check_max_fragment(content)
        if not content and ctype != ContentType.application_data:
            raise TLSAlertError(AlertDescription.unexpected_message, "empty record")
        return ctype, content

    def _open(self, outer_type: int, fragment: bytes | memoryview) -> tuple[int, bytes]:
        prot = self._read
        assert prot is not None
        inner = prot.open(outer_type, fragment)
        if len(inner) > MAX_PLAINTEXT + 1:
            raise TLSAlertError(AlertDescription.record_overflow, "inner plaintext too long")
        if self.receive_limit is not None and len(inner) > self.receive_limit:
            raise TLSAlertError(AlertDescription.record_overflow, "record larger than our record_size_limit")
        # RFC 9846 section 5.4: strip zero padding; the last non-zero byte is the real content type
        if inner and inner[-1]:  # no padding (the usual case): one copy instead of two
            ctype, content = inner[-1], inner[:-1]
        else:
            stripped = inner.rstrip(b"\x00")
            if not stripped:
                raise TLSAlertError(AlertDescription.unexpected_message, "no content type in inner plaintext")
            ctype, content = stripped[-1], stripped[:-1]
        if ctype not in _KNOWN_TYPES or ctype == 20:  # change_cipher_spec (a literal: Enum lookups are slow in 3.11)
            raise TLSAlertError(AlertDescription.unexpected_message, f"bad inner content type {ctype}")
        if not content and ctype != 23:
            raise TLSAlertError(AlertDescription.unexpected_message, "empty protected record")
        if self.max_fragment_length is not None:
            self._check_max_fragment(content)
        return ctype, content

    # -- output --------------------------------------------------------------------------------------------------

    def write_key_usage(self) -> tuple[int, int] | None:
        """``(records sealed under the current TLS 1.3 write key, its cipher suite)``; None without one."""
        prot = self._write
        if type(prot) is AEAD13:  # (AEAD13 has no subclasses; the exact type is the cheaper test, asked per write)
            return prot.seq, prot.suite.code
        return None

    def seal(self, content_type: int, data: bytes, max_fragment: int = MAX_PLAINTEXT) -> bytes:
        """Wire bytes carrying ``data`` in records of at most ``max_fragment`` plaintext bytes each."""
        prot = self._write
        if content_type == 23 and prot is not None and 0 < len(data) <= max_fragment \
                and self.send_limit > MAX_PLAINTEXT and self.max_fragment_length is None:  # fmt: skip
            # the bulk path: one application_data record under a key, no record size or fragment limit (the same
            # record _seal_one makes)
            if not prot.conceals_type:
                return prot.seal_record(23, data)
            if self._padding is None:
                return prot.seal_record(23, data + b"\x17")
        if not data:
            if content_type != ContentType.application_data:
                raise ValueError("empty non-application record")
            return self._seal_one(content_type, b"")
        prot = self._write
        if prot is not None and self.send_limit <= MAX_PLAINTEXT:
            # RFC 8449: in TLS 1.3 the content type byte counts (TLS 1.2 limits arrive as limit + 1)
            max_fragment = min(max_fragment, self.send_limit - 1)
        if self.max_fragment_length is not None:
            max_fragment = min(max_fragment, self.max_fragment_length)
        if len(data) <= max_fragment:
            return self._seal_one(content_type, data)
        return b"".join(
            self._seal_one(content_type, data[i : i + max_fragment]) for i in range(0, len(data), max_fragment)
        )

    def _seal_one(self, content_type: int, fragment: bytes) -> bytes:
        prot = self._write
        if prot is None or (prot.conceals_type and content_type == ContentType.change_cipher_spec):
            # RFC 9846 section 5: the compatibility change_cipher_spec always goes in the clear
            return bytes((content_type,)) + self.plaintext_version + len(fragment).to_bytes(2, "big") + fragment
        if not prot.conceals_type:
            return prot.seal_record(content_type, fragment)
        pad = self._padding(content_type, len(fragment)) if self._padding else 0
        if pad:
            pad = max(0, min(pad, min(MAX_PLAINTEXT, self.send_limit - 1) - len(fragment)))
        # one copy for the inner plaintext (content, type byte, padding) and one for header + ciphertext
        inner = fragment + _TYPE_BYTE[content_type] + bytes(pad) if pad else fragment + _TYPE_BYTE[content_type]
        return prot.seal_record(ContentType.application_data, inner)
