"""Input of an SSL: TLS records cut out of the read BIO's byte stream, one at a time.

:class:`RecordReader` owns every byte an SSL has taken from its read BIO and not yet given to the TLS core: bytes
read ahead (SSL_CTX_set_read_ahead), a partial 5-byte header, a partial body, and a first record a server holds
back for the ClientHello callback. :attr:`RecordReader.buffered` says whether any such byte exists; SSL_has_pending
(SSL_pending.pod: "unprocessed data") and SSL_read (which ends a non-application record with a retry only when
nothing is buffered) both ask it, so they cannot disagree.

A step of input (:meth:`RecordReader.next_record`) ends in one of four ways, the :class:`Input` values:

* ``RECORD``: a whole record is at hand (its header may already be in the core, see below); for the SSL's own step
  (``SSL._feed``), the record went into the core;
* ``RETRY``: the BIO asked to be called again (retry flags set by the BIO);
* ``EOF``: the BIO reported the end of the transport (``BIO_read`` returned 0);
* ``FAILED``: the BIO failed without asking for a retry;
* ``HTTP_REQUEST``: a server's first record starts like an HTTP request (OpenSSL 3.0: SSL_R_HTTP_REQUEST, no alert).

Invariants: without read-ahead, exactly what the current record still needs is asked of the BIO, so the next
record stays in the BIO; the header goes into the core on its own as soon as its body has to be waited for, so a
header the core rejects (bad type or length) fails at once rather than after a body that never comes, and the
record returned then holds the body only.
"""

from __future__ import annotations

import enum

from engine.bio import BIO, BIO_read, BIO_should_retry
from engine.bio.pair import _PairHalf
from engine.tls import TLSConnection

__all__ = ["EOF", "FAILED", "HTTP_REQUEST", "READ_AHEAD_SIZE", "RECORD", "RETRY", "Input", "RecordReader"]

READ_AHEAD_SIZE = 5 + (1 << 14) + 256  # one whole protected record: what libssl's read buffer holds
_HTTP_METHODS = (b"GET ", b"POST", b"HEAD", b"PUT ", b"PATC", b"DELE", b"OPTI", b"CONN")


class Input(enum.Enum):
    """How a step of input ended (see the module's description)."""

    RECORD = "record"
    RETRY = "retry"
    EOF = "eof"
    FAILED = "failed"
    HTTP_REQUEST = "http-request"


# The members as module globals: looking an Enum member up on its class costs about 0.25 us in Python 3.11, and a
# record's way through the reader and engine.ssl meets several
RECORD, RETRY, EOF, FAILED, HTTP_REQUEST = Input.RECORD, Input.RETRY, Input.EOF, Input.FAILED, Input.HTTP_REQUEST


class RecordReader:
    """The bytes between the read BIO and the TLS core."""

    __slots__ = ("_body", "_body_left", "_hdr", "_hdr_fed", "_rbuf", "held")

    def __init__(self) -> None:
        self._rbuf = bytearray()  # read ahead from the BIO, not yet part of a record
        self._hdr = bytearray()
        self._hdr_fed = False  # the header went into the core on its own
        self._body = bytearray()
        self._body_left: int | None = None  # None: reading a header
        self.held: bytes | None = None  # a first ClientHello record held back for the callback

    @property
    def buffered(self) -> bool:
        """Bytes taken from the BIO that the core has not processed (SSL_pending: SSL_has_pending)."""
        return bool(self._rbuf or self._hdr or self._body_left is not None or self.held)

    @property
    def read_ahead_empty(self) -> bool:
        """Nothing read ahead (SSL_MODE_RELEASE_BUFFERS may then release the core's buffers)."""
        return not self._rbuf

    def next_record(self, rbio: BIO, conn: TLSConnection, read_ahead: int,
                    first: bool) -> tuple[Input, bytes, bytes | memoryview]:
        """Read until a whole record is at hand: (``RECORD``, its header, its body) or (another :class:`Input`,
        ``b""``, ``b""``). The header is ``b""`` when the core already has it (fed early, see below); returning it apart
        lets the core open the body without joining the two (a 16 KiB copy per record). The body may be a read-only
        view (of a BIO pair's kept record).
        ``first``: a server's first record, refused when it starts like an HTTP request. A
        :class:`~engine.tls.TLSAlertError` of the core (an early header) passes through."""
        if not read_ahead and not first and self._body_left is None and not self._hdr and not self._rbuf \
                and rbio.init and not rbio.freed:  # fmt: skip
            # the bulk path: nothing held here, so the header and then exactly the body straight from the BIO kind
            # (the same two reads as the loop below); anything short of a whole record is kept as the loop keeps it
            # and the loop goes on from there
            impl = rbio.impl
            if type(impl) is _PairHalf:
                whole = impl.read_record(rbio)  # both reads at once, the body not copied (None: read as below)
                if whole is not None:
                    return (RECORD, whole[0], whole[1])
            n, head = impl.read(rbio, 5)
            if n <= 0:
                if n < 0 and BIO_should_retry(rbio):
                    return (RETRY, b"", b"")
                return (EOF if n == 0 else FAILED, b"", b"")
            if n == 5:
                length = (head[3] << 8) | head[4]
                if not length:
                    return (RECORD, head, b"")  # an empty record: the core decides whether it is allowed
                m, body = impl.read(rbio, length)
                if m == length:
                    return (RECORD, head, body)
                self._hdr_fed = False
                self._body_left = length
                if m <= 0:
                    self._hdr += head
                    self._hdr_fed = True
                    conn.receive_bytes(head)  # the core checks type and length now (may raise)
                    if m < 0 and BIO_should_retry(rbio):
                        return (RETRY, b"", b"")
                    return (EOF if m == 0 else FAILED, b"", b"")
                self._body += body
                self._body_left = length - m
            self._hdr += head
        while True:
            left = self._body_left
            n, data = self._input(rbio, 5 - len(self._hdr) if left is None else left, read_ahead)
            if n <= 0:
                if left is not None and not self._hdr_fed:
                    self._hdr_fed = True
                    conn.receive_bytes(bytes(self._hdr))  # the core checks type and length now (may raise)
                if n < 0 and BIO_should_retry(rbio):
                    return (RETRY, b"", b"")
                return (EOF if n == 0 else FAILED, b"", b"")
            if left is None:
                hdr = self._hdr
                hdr += data
                if len(hdr) < 5:
                    continue
                if first and hdr[:4] in _HTTP_METHODS:
                    return (HTTP_REQUEST, b"", b"")
                self._hdr_fed = False
                self._body_left = (hdr[3] << 8) | hdr[4]
                if self._body_left:
                    continue
                data = b""  # an empty record: the core decides whether it is allowed
            elif n < left or self._body:
                self._body += data
                if n < left:
                    self._body_left = left - n
                    continue
                data = bytes(self._body)
                self._body.clear()
            self._body_left = None
            header = b"" if self._hdr_fed else bytes(self._hdr)
            self._hdr.clear()
            return (RECORD, header, data)

    def _input(self, rbio: BIO, want: int, read_ahead: int) -> tuple[int, bytes]:
        """Up to ``want`` bytes: from what read-ahead buffered, else from the BIO. Without read-ahead exactly what
        the record needs is asked for, so the rest stays in the BIO (SSL_CTX_set_read_ahead.pod)."""
        buf = self._rbuf
        if buf:
            take = min(want, len(buf))
            data = bytes(buf[:take])
            del buf[:take]
            return take, data
        if not read_ahead:
            if rbio.init and not rbio.freed:  # (the bulk path: straight to the BIO kind, one call less)
                n, data = rbio.impl.read(rbio, want)
                return (n, data) if n > 0 else (n, b"")
            return BIO_read(rbio, want)
        n, data = _bio_read(rbio, max(want, READ_AHEAD_SIZE))
        if n > want:
            buf += memoryview(data)[want:]
            return want, data[:want]
        return n, data


def _bio_read(bio: BIO, n: int) -> tuple[int, bytes]:
    """BIO_read for the SSL's own use: straight to the BIO kind when the BIO is usable (the checks of the public
    BIO_read are the SSL's own here), else through BIO_read for its documented failure."""
    if bio.init and not bio.freed:
        ret, data = bio.impl.read(bio, n)
        return (ret, data) if ret > 0 else (ret, b"")
    return BIO_read(bio, n)
