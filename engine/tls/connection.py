"""TLSConnection: the sans-IO facade over records, handshake state machines and events.

Theory of operation
-------------------

A :class:`TLSConnection` owns a :class:`~engine.tls.record.RecordLayer` and one handshake state machine. It starts
with the hello machine of its role (:class:`~engine.tls.client13.Client13Handshake` or
:class:`~engine.tls.server13.Server13Handshake`), which negotiates the version; when TLS 1.2 is chosen that machine
hands off to :class:`~engine.tls.client12.Client12Handshake` / :class:`~engine.tls.server12.Server12Handshake` and
the connection feeds the successor from then on. The negotiated version is the completion event's. It never does
I/O. The user moves bytes:

* ``receive_bytes(data)`` appends wire bytes and processes every *complete* record at once: records are decrypted
  one by one, handshake records are reassembled into messages and fed to the state machine, whose instructions
  (send this message, install that key, report that event) are applied before the next record is decrypted, so a
  key change takes effect exactly at the record boundary where the RFC puts it. A partial record stays buffered.
* ``next_event()`` pops one event, or returns :data:`NEED_DATA` when nothing is queued (more bytes are needed).
* ``data_to_send()`` returns (and forgets) everything queued for the wire; it may be empty ("nothing to send").
* ``send_application_data``, ``send_key_update`` and ``close`` queue protected records.

Errors: a protocol violation raises :class:`~engine.tls.alerts.TLSAlertError`. If we detected it
(``sent_by_us``), the matching fatal alert has already been queued, so ``data_to_send()`` still returns it. A fatal
alert from the peer raises with ``sent_by_us=False``. Either way the connection is then failed for good: every entry
point except ``data_to_send`` checks that first and raises the same error again (h11's ERROR state).

Invariants:

* Handshake messages never span a key change and are never interleaved with other record types
  (RFC 9846 section 5.1): violations are unexpected_message.
* change_cipher_spec records must be the single byte 0x01. Under TLS 1.3 they are dropped only between the first
  ClientHello and the peer's Finished (RFC 9846 section 5); under TLS 1.2 each one is a step of the state machine
  (RFC 5246 section 7.1), dispatched through its table. Anything else is unexpected_message.
* Under TLS 1.2 a warning alert (no_renegotiation, ...) is reported as an event and the connection stays up
  (RFC 5246 section 7.2); under TLS 1.3 every alert but close_notify and user_canceled ends it.
* Application data may flow while a TLS 1.2 renegotiation runs (``established``), under whichever keys are
  current.
* After close_notify from the peer, further records are ignored (RFC 9846 section 6.1); after our own close, no
  more application data may be sent.
* Floods are bounded (:class:`_Floods`): records that carry nothing (change_cipher_spec, user_canceled warnings,
  empty application data) and KeyUpdate messages are counted while they come in a row; one too many is
  unexpected_message. Any record or message that carries something (application data, another handshake
  message) starts the counts again.
"""

from __future__ import annotations

import contextlib
from collections import deque
from enum import Enum
from typing import TYPE_CHECKING, Literal

from cryptography import x509

from .alerts import AlertDescription, AlertLevel, TLSAlertError
from .client13 import Client13Handshake
from .config import TLSConfig, TLSContext
from .events import NEED_DATA, AlertReceived, ApplicationData, CloseNotifyReceived, Event, _NeedData
from .handshake import (
    HandshakeMachine,
    InstallKey,
    Instruction,
    SendAlert,
    SendChangeCipherSpec,
    SendHandshake,
    SendRecord,
    SkipEarlyData,
)
from .maxfraglen import SetMaxFragmentLength
from .messages import HandshakeType
from .record import MAX_PLAINTEXT, ContentType, RecordLayer
from .recordlimit import SetRecordSizeLimit
from .server13 import Server13Handshake
from .signatures import PrivateKey

if TYPE_CHECKING:
    from .misbehave import Misbehaviour


class Role(Enum):
    CLIENT = "client"
    SERVER = "server"


# RFC 9846 section 5.5: AES-GCM keys protect up to 2^24.5 full-size records with a safe margin; we renew the write
# key (KeyUpdate) before 2^24 records.
AES_GCM_RECORD_LIMIT = 1 << 24

# How many of each in a row a peer may send before the connection fails with unexpected_message. RFC 9846 sets no
# bound (a change_cipher_spec may come "at any time" of the handshake); these are OpenSSL 3.0's where it has one
# (MAX_EMPTY_RECORDS 32 counts change_cipher_spec and empty records, MAX_WARN_ALERT_COUNT 5 fails at the fifth
# warning) and the same 32 for KeyUpdate messages, which OpenSSL 3.0 does not bound.
FLOOD_LIMITS: dict[str, int] = {
    "change_cipher_spec records": 32,
    "warning alerts": 4,
    "empty records": 32,
    "KeyUpdate messages": 32,
}


class _Floods:
    """Counters of content-free records and KeyUpdates in a row (the only place that knows the limits)."""

    __slots__ = ("counts", "dirty")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(FLOOD_LIMITS, 0)
        self.dirty = False

    def count(self, kind: str) -> None:
        n = self.counts[kind] + 1
        if n > FLOOD_LIMITS[kind]:
            raise TLSAlertError(AlertDescription.unexpected_message, f"too many {kind} in a row")
        self.counts[kind] = n
        self.dirty = True

    def progress(self) -> None:
        if self.dirty:
            self.counts = dict.fromkeys(FLOOD_LIMITS, 0)
            self.dirty = False


# ApplicationData(data) of the bulk path without the frozen dataclass's __init__ (a Python frame and
# object.__setattr__, about 0.3 us per record): the same instance, made by object.__new__ and the slot's setter, in C
_new_event = object.__new__
_APPLICATION_DATA = ContentType.application_data  # a global: an Enum member lookup costs about 0.25 us in 3.11
_HANDSHAKE = ContentType.handshake  # likewise for the handshake records' dispatch
_ALERT = ContentType.alert
_CHANGE_CIPHER_SPEC = ContentType.change_cipher_spec
_HT_CERTIFICATE = HandshakeType.certificate
_HT_KEY_UPDATE = HandshakeType.key_update
_set_data = ApplicationData.__dict__["data"].__set__  # the slot's member descriptor


class TLSConnection:
    def __init__(
        self,
        config: TLSConfig,
        role: Role | Literal["client", "server"],
        context: TLSContext | None = None,
        misbehaviour: Misbehaviour | None = None,
    ) -> None:
        """``misbehaviour``: test-only (engine.tls.misbehave), never passed by engine.ssl."""
        self.role = Role(role)
        self.config = config
        self.context = context if context is not None else TLSContext()
        if misbehaviour is not None:
            self.context = misbehaviour.context(self.context)
        self._record = RecordLayer(self.context.record_padding)
        # The hello machines: they negotiate the version and hand off to client12/server12 when 1.2 is chosen.
        self._hs: HandshakeMachine = (
            Client13Handshake(config, self.context)
            if self.role is Role.CLIENT
            else Server13Handshake(config, self.context)
        )
        self._events: deque[Event] = deque()
        self._out: list[bytes] = []  # wire bytes queued, record by record (joined once, in data_to_send)
        self._hs_buf = bytearray()
        self._error: TLSAlertError | None = None
        self._peer_closed = False
        self._we_closed = False
        self._started = self.role is not Role.CLIENT  # a server starts by receiving; only a client sends first
        self._floods = _Floods()
        # the machine last seen established: "a handshake has completed" (HandshakeMachine.established) never turns
        # false again, so the bulk path asks each machine once (client13 answers with two Enum lookups, ~0.7 us)
        self._established_hs: HandshakeMachine | None = None
        self._misbehaviour = misbehaviour
        if misbehaviour is not None:
            misbehaviour.attach(self._record)

    # -- state ---------------------------------------------------------------------------------------------------

    @property
    def handshake(self) -> HandshakeMachine:
        """The role's state machine (read-only use: ``state``, negotiated values)."""
        return self._hs

    @property
    def state(self) -> str:
        return "ERROR" if self._error is not None else self._hs.state.name

    @property
    def peer_ca_names(self) -> list[bytes] | None:
        """Client: the DER names of the acceptable certificate authorities the server's last CertificateRequest
        listed (an empty list: none listed), None before any request."""
        names = getattr(self._hs, "peer_ca_names", None)  # client13 / client12 (a server has none)
        return list(names) if isinstance(names, list) else None

    @property
    def handshake_complete(self) -> bool:
        return self._hs.connected

    @property
    def version(self) -> int | None:
        """The negotiated protocol version once known (the machine the hello handed off to), else None."""
        return self._hs.version if self._hs.established else None

    @property
    def key_update_owed(self) -> bool:
        """The peer asked for a KeyUpdate (update_requested) and ours has not been sent yet: it goes out with the
        next application data (``send_application_data``) or any ``send_key_update``."""
        return self._hs.key_update_owed

    @property
    def negotiated_version(self) -> int | None:
        """The protocol version the hellos picked, as soon as the hello that picks it has been processed (before the
        handshake completes, unlike ``version``), else None."""
        return self._hs.version if self._hs.version_known else None

    @property
    def error(self) -> TLSAlertError | None:
        return self._error

    @property
    def closed_for_writing(self) -> bool:
        """Our close_notify is queued: nothing more may be sent (RFC 9846 section 6.1)."""
        return self._we_closed

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    # -- entry points --------------------------------------------------------------------------------------------

    def start_handshake(self) -> None:
        """Client: queue the ClientHello. Called implicitly by the other entry points; idempotent."""
        self._check()
        if self._started:
            return
        self._started = True
        self._guarded(self._hs.start)

    def receive_bytes(self, data: bytes | memoryview) -> None:
        if self._error is not None:
            raise self._error
        if not self._started:
            self.start_handshake()
        if self._peer_closed:
            return
        self._record.feed(data)
        try:
            self._process_records()
            hs = self._hs
            if hs.out or hs.successor is not None:  # instructions to apply (none after application data)
                out = self._take_output()
                if out:
                    self._apply(out)
        except TLSAlertError as exc:  # as _guarded, without its call per record
            self._fail(exc)
            raise

    def receive_record(self, header: bytes, body: bytes | memoryview, *, direct: bool = False) -> bytes | None:
        """``receive_bytes(header + body)`` for a caller that read one record's header and body separately (engine.ssl
        without read-ahead): a whole application_data record is opened from ``body`` as it is, without the 16 KiB
        copy that joining them costs; anything else goes the usual way. ``direct``: when the record is application
        data and no event is queued, its data is returned instead of queued as an ApplicationData event (and no
        event is queued); otherwise None, the events queued as usual."""
        if self._error is not None:
            raise self._error
        hs = self._hs
        if self._started and not self._peer_closed and not self._hs_buf and not hs.paused \
                and (hs is self._established_hs or hs.established):  # fmt: skip
            try:
                rec = self._record.open_whole_record(header, body)
            except TLSAlertError as exc:
                self._fail(exc)
                raise
            if rec is not None:
                if rec[0] == _APPLICATION_DATA and rec[1]:
                    if self._floods.dirty:
                        self._floods.progress()
                    if direct and not self._events:
                        return rec[1]
                    ev: ApplicationData = _new_event(ApplicationData)  # ApplicationData(rec[1]), see _new_event
                    _set_data(ev, rec[1])
                    self._events.append(ev)
                    return None
                self._record_done(rec)
                return None
        self.receive_bytes(header + body)
        return None

    def _record_done(self, rec: tuple[int, bytes]) -> None:
        """A record opened by receive_record that is not plain application data (an empty one, or a handshake,
        alert record inside it): handled as _process_records would, then whatever follows is processed too."""
        try:
            self._handle_record(*rec)
            self._process_records()
            hs = self._hs
            if hs.out or hs.successor is not None:
                out = self._take_output()
                if out:
                    self._apply(out)
        except TLSAlertError as exc:
            self._fail(exc)
            raise

    def next_event(self) -> Event | _NeedData:
        self._check()
        if self._events:
            return self._events.popleft()
        return NEED_DATA

    def events(self) -> list[Event]:
        """All queued events at once."""
        if self._error is not None:
            raise self._error
        events = self._events
        if len(events) == 1:
            return [events.popleft()]
        out = list(events)
        events.clear()
        return out

    def release_buffers(self) -> None:
        """Let go of input already processed (for an idle connection; SSL_MODE_RELEASE_BUFFERS in engine.ssl)."""
        self._record.release()

    def data_to_send(self) -> bytes:
        """Everything queued for the wire (also after a failure, so the fatal alert goes out)."""
        if not self._started and self._error is None:
            self.start_handshake()
        out = self._out
        if not out:
            return b""
        self._out = []
        return out[0] if len(out) == 1 else b"".join(out)  # one record (the bulk case) goes out without a copy

    def send_application_data(self, data: bytes) -> None:
        if self._error is not None:
            raise self._error
        hs = self._hs
        if hs is not self._established_hs:
            if not hs.established:
                raise RuntimeError("handshake not complete")
            self._established_hs = hs
        if self._we_closed:
            raise RuntimeError("connection closed for writing")
        if hs.key_update_owed:
            # RFC 9846 section 4.7.3: the answer to the peer's update_requested goes out before our next
            # application data record; not earlier, as in OpenSSL 3.0, which answers at the next write
            self._guarded(lambda: self._hs.send_key_update(False))
        record = self._record
        key = record.counted_write_key  # (write_key_usage without the call and the tuple: asked per write)
        if key is None:
            limit = None
        elif self.config.key_usage_limit is None:  # _key_usage_limit, inline for the default
            limit = AES_GCM_RECORD_LIMIT if key.suite.code in (0x1301, 0x1302) else None
        else:
            limit = self._key_usage_limit(key.suite.code)
        if limit is None or key is None or key.seq + (len(data) >> 5) + 2 < limit:
            # no TLS 1.3 key, or every record of this write stays below the key's limit (records are never under
            # 64 bytes, RFC 8449, so len // 32 + 2 bounds their number): one call
            self._out.append(record.seal(_APPLICATION_DATA, data))
            return
        for at in range(0, max(len(data), 1), MAX_PLAINTEXT):
            usage = self._record.write_key_usage()
            if usage is not None and usage[0] >= limit - 1:
                # RFC 9846 section 5.5: a KeyUpdate (the last record under the old key) before the limit
                self._guarded(lambda: self._hs.send_key_update(False))
            self._out.append(self._record.seal(ContentType.application_data, data[at : at + MAX_PLAINTEXT]))

    def _key_usage_limit(self, suite: int | None = None) -> int | None:
        """Records per TLS 1.3 write key (``TLSConfig.key_usage_limit``, else RFC 9846 section 5.5 for AES-GCM);
        ``suite``: the write key's, when the caller has it already."""
        if suite is None:
            usage = self._record.write_key_usage()
            if usage is None:
                return None
            suite = usage[1]
        if self.config.key_usage_limit is not None:
            return max(2, self.config.key_usage_limit)
        return AES_GCM_RECORD_LIMIT if suite in (0x1301, 0x1302) else None

    def send_key_update(self, request: bool = False) -> None:
        self._check()
        if not self._hs.connected:
            raise RuntimeError("handshake not complete")
        if self._we_closed:
            raise RuntimeError("connection closed for writing")
        self._guarded(lambda: self._hs.send_key_update(request))

    def request_post_handshake_auth(self) -> None:
        """TLS 1.3 server: send a post-handshake CertificateRequest (RFC 9846 section 4.6.2)."""
        self._check()
        if not self._hs.connected:
            raise RuntimeError("handshake not complete")
        from .server13 import Server13Handshake

        hs = self._hs
        if not isinstance(hs, Server13Handshake):
            raise RuntimeError("post-handshake authentication needs a TLS 1.3 server")
        self._guarded(hs.request_post_handshake_auth)

    def renegotiate(self, resume: bool = False) -> None:
        """TLS 1.2: start a renegotiation (client: ClientHello, offering the current session when ``resume``;
        server: HelloRequest). RuntimeError if the version or the state does not allow it."""
        self._check()
        if self._we_closed:
            raise RuntimeError("connection closed for writing")
        self._guarded(lambda: self._hs.renegotiate(resume))

    @property
    def max_fragment_mode(self) -> int:
        """The max_fragment_length mode negotiated in the last handshake (RFC 6066 section 4; 0: none)."""
        return self._hs.max_fragment_mode

    @property
    def secure_renegotiation(self) -> bool:
        """TLS 1.2: the peer supports secure renegotiation (RFC 5746 renegotiation_info or SCSV)."""
        return bool(getattr(self._hs, "secure_renegotiation", False))

    def abort(self, alert: int, message: str) -> TLSAlertError:
        """End the connection with our fatal ``alert`` (queued for ``data_to_send``); returns the error, which every
        later entry point raises again."""
        self._check()
        exc = TLSAlertError(alert, message)
        self._fail(exc)
        return exc

    @property
    def renegotiating(self) -> bool:
        """A renegotiation was started (by either side) and has not completed yet."""
        return self._hs.renegotiating

    @property
    def renegotiations_started(self) -> int:
        """How many renegotiation handshakes began: a client's renegotiating ClientHellos, the ones a server took."""
        return self._hs.renegotiations_started

    def send_client_certificate(self, chain: list[x509.Certificate], key: PrivateKey | None) -> None:
        """Client, after a :class:`~engine.tls.events.CertificateRequested` event: send this certificate (an empty
        chain sends none) and finish the handshake."""
        self._check()
        hs = self._hs
        if not hs.paused:
            self._guarded(lambda: hs.send_client_certificate(chain, key))
            return

        def resume() -> None:
            # a post-handshake request held the records after it back (RFC 9846 section 4.6.2)
            hs.send_client_certificate(chain, key)
            self._on_handshake_data(b"")
            self._process_records()

        self._guarded(resume)

    def resume_certificate_check(self, accepted: bool, failure: TLSAlertError | None = None) -> None:
        """Client, after a :class:`~engine.tls.events.CertificateReceived` event: accept or reject the chain and go
        on with the messages that were held back; ``failure`` rejects it with that alert."""
        self._check()
        hs = self._hs

        def resume() -> None:
            if failure is not None:
                raise failure
            hs.finish_certificate_check(accepted)
            self._on_handshake_data(b"")
            self._process_records()

        self._guarded(resume)

    def close(self) -> None:
        """Send close_notify (RFC 9846 section 6.1); further writes are refused."""
        self._check()
        if self._we_closed:
            return
        self._we_closed = True
        self._hs.we_closed = True
        notify = bytes((AlertLevel.WARNING, AlertDescription.close_notify))
        self._out.append(self._record.seal(ContentType.alert, notify))

    def abort_from_outside(self, exc: TLSAlertError) -> None:
        """Fail the connection for a reason found outside the core (the transport ended without close_notify):
        the alert goes out like one the core raised itself, unless close_notify was sent already."""
        if self._error is not None:
            return
        if self._we_closed:
            self._error = exc
            return
        self._fail(exc)

    # -- internals -----------------------------------------------------------------------------------------------

    def _guarded(self, action: object) -> None:
        assert callable(action)
        try:
            action()
            out = self._take_output()
            if out:
                self._apply(out)
        except TLSAlertError as exc:
            self._fail(exc)
            raise

    def _take_output(self) -> list[Instruction]:
        """The machine's instructions; after a hand-off also the successor's, which then takes over."""
        hs = self._hs
        out = hs.take_output()
        while hs.successor is not None:
            hs = hs.successor
            out += hs.take_output()
        self._hs = hs
        return out

    def _fail(self, exc: TLSAlertError) -> None:
        self._error = exc
        if exc.sent_by_us:
            self._hs.take_output()
            with contextlib.suppress(TLSAlertError):  # sequence number exhausted: nothing can be sent
                self._out.append(self._record.seal(ContentType.alert, bytes((AlertLevel.FATAL, int(exc.alert)))))

    def _apply(self, instructions: list[Instruction]) -> None:
        if self._misbehaviour is not None:
            instructions = self._misbehaviour.rewrite(self._hs, instructions)
        pending = bytearray()
        initial = False

        def flush() -> None:
            nonlocal initial
            if pending:
                if initial:
                    self._record.plaintext_version = b"\x03\x01"
                self._out.append(self._record.seal(_HANDSHAKE, bytes(pending)))
                self._record.plaintext_version = b"\x03\x03"
                pending.clear()
                initial = False

        for item in instructions:
            if isinstance(item, SendHandshake):
                pending += item.data
                initial = initial or item.initial_client_hello
                if self.config.record_per_message:
                    flush()
            elif isinstance(item, InstallKey):
                if item.direction == "write":
                    flush()
                    self._record.install_write_key(item.protection, item.epoch)
                else:
                    if self._hs_buf:
                        # RFC 9846 section 5.1: handshake messages must not span a key change
                        raise TLSAlertError(AlertDescription.unexpected_message, "handshake message spans key change")
                    self._record.install_read_key(item.protection, item.epoch)
            elif isinstance(item, SendAlert):
                flush()
                self._out.append(self._record.seal(ContentType.alert, bytes((item.level, item.description))))
            elif isinstance(item, SetRecordSizeLimit):
                flush()
                self._record.send_limit = item.send
                self._record.receive_limit = item.receive
            elif isinstance(item, SetMaxFragmentLength):
                flush()
                self._record.max_fragment_length = item.limit
            elif isinstance(item, SendChangeCipherSpec):
                flush()
                self._out.append(self._record.seal(ContentType.change_cipher_spec, b"\x01"))
            elif isinstance(item, SkipEarlyData):
                self._record.skip_early_data(item.kind, item.limit)
            elif isinstance(item, SendRecord):  # test-only: only engine.tls.misbehave makes one
                flush()
                self._out.append(item.make(self._record))
            else:
                self._events.append(item)
        flush()

    def _process_records(self) -> None:
        record = self._record
        next_record = record.next_record
        while not self._peer_closed and not self._hs.paused:
            rec = next_record()
            if rec is None:
                return
            ctype, payload = rec
            if ctype == 23 and payload and not self._hs_buf and self._hs.established:
                # the bulk case first: application data with nothing else going on
                if self._floods.dirty:
                    self._floods.progress()
                self._events.append(ApplicationData(payload))
                continue
            self._handle_record(ctype, payload)

    def _handle_record(self, ctype: int, payload: bytes) -> None:
        """One record, as the loop of _process_records handles it (also used by receive_record)."""
        if self._hs_buf and ctype != _HANDSHAKE:
            raise TLSAlertError(AlertDescription.unexpected_message, "record interleaved with handshake message")
        if ctype == _HANDSHAKE:
            self._on_handshake_data(payload)
        elif ctype == _APPLICATION_DATA:
            if not self._hs.established:
                raise TLSAlertError(AlertDescription.unexpected_message, "application data before handshake end")
            if payload:
                self._floods.progress()
                self._events.append(ApplicationData(payload))
            else:
                self._floods.count("empty records")
        elif ctype == _ALERT:
            self._on_alert(payload)
        elif ctype == _CHANGE_CIPHER_SPEC:
            self._on_change_cipher_spec(payload)

    def _on_change_cipher_spec(self, payload: bytes) -> None:
        hs = self._hs
        if payload != b"\x01":
            # RFC 5246 section 7.1 / RFC 9846 section 5: the single byte 1
            raise TLSAlertError(AlertDescription.unexpected_message, "malformed change_cipher_spec")
        if hs.on_change_cipher_spec():
            self._apply(self._take_output())
            return
        if not hs.ccs_may_arrive:
            raise TLSAlertError(AlertDescription.unexpected_message, "change_cipher_spec not allowed here")
        self._floods.count("change_cipher_spec records")

    def _on_alert(self, payload: bytes) -> None:
        if len(payload) != 2:
            raise TLSAlertError(AlertDescription.decode_error, "alert length")
        level, description = payload[0], payload[1]
        if description == AlertDescription.close_notify:
            self._peer_closed = True
            self._events.append(CloseNotifyReceived())
        elif description == AlertDescription.user_canceled or (
            self._hs.version < 0x0304 and level == AlertLevel.WARNING
        ):
            # RFC 9846 section 6.1: user_canceled is followed by close_notify and otherwise ignored; RFC 5246
            # section 7.2: in TLS 1.2 a warning alert (no_renegotiation, ...) leaves the connection up
            self._floods.count("warning alerts")
            self._events.append(AlertReceived(description, level))
        else:
            # RFC 9846 section 6: every other alert ends the connection, whatever its level field says
            raise TLSAlertError(description, "alert from peer", sent_by_us=False)

    def _on_handshake_data(self, payload: bytes) -> None:
        buf = self._hs_buf
        buf += payload
        while len(buf) >= 4:
            length = int.from_bytes(buf[1:4], "big")
            limit = self.config.max_certificate_message if buf[0] == _HT_CERTIFICATE \
                else self.config.max_handshake_message  # fmt: skip
            if length > limit:
                raise TLSAlertError(AlertDescription.illegal_parameter, "handshake message too large")
            if len(buf) < 4 + length:
                return
            raw = bytes(buf[: 4 + length])
            del buf[: 4 + length]
            if raw[0] == _HT_KEY_UPDATE:
                self._floods.count("KeyUpdate messages")
            else:
                self._floods.progress()
            self._hs.handle(raw[0], raw[4:], raw)
            self._apply(self._take_output())
            if self._hs.paused:
                return  # the rest waits for the application (resume_certificate_check)
