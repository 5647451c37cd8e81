"""The SSL object and OpenSSL's retry rules: the one layer that speaks OpenSSL's language to the TLS core.

Theory of operation
===================

An ``SSL`` owns a sans-IO :class:`~engine.tls.TLSConnection` (made at the first handshake step from the settings of
the SSL) and sits between it and two BIOs. It never blocks by itself: it calls ``BIO_read`` / ``BIO_write`` and a
BIO either moves bytes, asks for a retry (retry flags set by the BIO), reports end of file, or fails.

Input, one record at a time (no read-ahead, as libssl by default): :class:`~engine.ssl.records.RecordReader` cuts
records out of the read BIO's bytes (the 5-byte header first, handed to the core at once when the body has to be
waited for, so a bad type or length fails without waiting for a body that never comes; then exactly the body). Bytes
of the next record stay in the BIO. Its ``buffered`` property is the one answer to "are bytes of a record held
here?" (SSL_has_pending, and SSL_read's retry after a non-application record). Each complete record goes into the
core, whose events are then applied: application data to the plaintext buffer, close_notify to the shutdown state,
a deferred certificate request to the client-certificate callback.

One drive loop (:meth:`SSL._drive`) runs every operation that waits for input: the handshake, SSL_read / SSL_peek
and the second SSL_shutdown. Each operation gives it three small functions: what to do before input (finish, or go
on), what to do after a record was applied, and what a step of input that brought no record means (an
:class:`~engine.ssl.records.Input` value: RETRY, EOF, FAILED). The loop states the invariants once (see there).

Output: whatever the core queues goes into ``_out`` and is written to the write BIO before anything else is tried;
application data is sealed one record (at most 16384 bytes) at a time, and the next record is only made once the
previous one is wholly in the BIO.

Return values (SSL_get_error.pod): a call that cannot go on returns -1 (0 for the _ex forms) and leaves the reason
where SSL_get_error looks for it, in this order:

1. the calling thread's error queue: a fatal protocol error pushed an ``ERR_LIB_SSL`` entry (SSL_ERROR_SSL); a
   system error an ``ERR_LIB_SYS`` one (SSL_ERROR_SYSCALL);
2. ``rwstate`` (SSL_want.pod) plus the retry flags of the BIO that stopped us: ``SSL_READING`` and a read BIO that
   should be read again is SSL_ERROR_WANT_READ, ``SSL_WRITING`` and a write BIO that should be written again is
   SSL_ERROR_WANT_WRITE (retry-special reasons give WANT_CONNECT / WANT_ACCEPT);
3. a callback that asked to be called again (X509_LOOKUP, CLIENT_HELLO_CB);
4. the shutdown state: close_notify received is SSL_ERROR_ZERO_RETURN;
5. otherwise SSL_ERROR_SYSCALL (transport failure, errno says which).

Invariants:

* ``rwstate`` is reset to ``SSL_NOTHING`` on entry to every I/O call and set only on the way out of a retry, after
  the last BIO call of that I/O call (so the BIO's retry flags are those of the call that stopped us).
* After a fatal error (``_failed``, a :class:`Failure`, written only by ``_fail``) every I/O entry point fails at
  once with the same reason (h11's ERROR state), through one guard (``io._io_entry``, SSL_shutdown included);
  nothing more is read or written.
* A write that returned a retry must be repeated with the same arguments (SSL_write.pod WARNINGS): ``_wnum`` bytes
  of it are already sealed and sent, ``_wpend`` bytes sit in the last record, which is not yet wholly in the BIO.
  A repeat with fewer bytes is SSL_R_BAD_LENGTH; from another address without SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
  it is SSL_R_BAD_WRITE_RETRY (both fatal, as in OpenSSL 3.0).
* SSL_read returns data of at most one record per call (SSL_read.pod NOTES).

Where the page and libssl 3.0 differ, the engine follows the page: a handshake ended by the peer's close_notify
returns 0 (SSL_connect.pod, SSL_accept.pod, SSL_do_handshake.pod RETURN VALUES), and a partial write (SSL_write.pod
NOTES) covers at most one record.
"""

from __future__ import annotations

import datetime
import enum
import errno as _errno
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from cryptography import x509

from engine import err
from engine.bio import (
    BIO,
    BIO_clear_retry_flags,
    BIO_flush,
    BIO_set_retry_read,
    BIO_should_retry,
    BIO_write,
)
from engine.ssl import constants as K
from engine.ssl import hooks
from engine.ssl.cache import ServerCacheView
from engine.ssl.context import SSL_CTX
from engine.ssl.errors import alert_reason, raise_ssl, verify_error_for
from engine.ssl.handles import install_callback_pair
from engine.ssl.records import FAILED, READ_AHEAD_SIZE, RECORD, RETRY, Input, RecordReader
from engine.ssl.session import SSL_SESSION, SSL_SESSION_free
from engine.ssl.verify import verify_chain
from engine.tls import (
    AlertDescription,
    AlertReceived,
    ApplicationData,
    CertificateReceived,
    CertificateRequested,
    CloseNotifyReceived,
    Event,
    HandshakeComplete,
    NewSessionTicketReceived,
    PostHandshakeAuthDone,
    TLSAlertError,
    TLSConfig,
    TLSConnection,
    TLSContext,
)
from engine.tls.keyschedule import CIPHER_SUITES
from engine.tls.signatures import PrivateKey
from engine.tls.suites12 import SUITES12

__all__ = ["MAX_RECORD", "READ_AHEAD_SIZE", "SSL", "SSL_CIPHER", "is_int", "live_ssl", "shutdown_error"]

MAX_RECORD = 16384  # SSL_write.pod NOTES: records (and partial writes) of at most 16 kB
TLS_ANY_VERSION = 0x10000
SSL_CB_EXIT = 0x02  # ssl.h: the info callback's "where" values
SSL_CB_HANDSHAKE_START = 0x10
SSL_CB_HANDSHAKE_DONE = 0x20
SSL_ST_CONNECT = 0x1000
SSL_ST_ACCEPT = 0x2000

T = TypeVar("T")


class FailureKind(enum.Enum):
    SSL = "ssl"  # a protocol or usage error: ERR_LIB_SSL entry, SSL_ERROR_SSL
    SYSCALL = "syscall"  # the transport failed: errno, SSL_ERROR_SYSCALL


@dataclass(frozen=True, slots=True)
class Failure:
    """Why an SSL failed for good (SSL_get_error.pod: after SSL_ERROR_SSL / SSL_ERROR_SYSCALL nothing more works):
    the reason code of the entry pushed then, or the errno of the transport failure; repeated at every entry."""

    kind: FailureKind
    code: int


class SSL_CIPHER:
    """An opaque cipher handle (SSL_get_current_cipher)."""

    __slots__ = ("code", "name")

    def __init__(self, code: int, name: str) -> None:
        self.code = code
        self.name = name


# SSL_CIPHER_get_name: TLS 1.3 suites under their IANA names, TLS 1.2 ones under OpenSSL's
_CIPHERS = {code: SSL_CIPHER(code, suite.name) for code, suite in CIPHER_SUITES.items()} | {
    code: SSL_CIPHER(code, suite.openssl_name) for code, suite in SUITES12.items()
}


class SSL:
    """An opaque SSL handle. Callers never look inside. Slots keep an idle connection small."""

    __slots__ = (
        "_cert_wait",
        "_established",
        "_failed",
        "_flushed",
        "_hello_cb_done",
        "_out",
        "_plain",
        "_plain_len",
        "_queued",
        "_reader",
        "_renegs_counted",
        "_unflushed",
        "_verify_chain",
        "_verify_wait",
        "_wbuf",
        "_wnum",
        "_wpend",
        "_wpend_end",
        "alpn_protos",
        "alpn_selected",
        "cert_chain",
        "cipher",
        "cipher_list",
        "ciphersuites",
        "close_notify",
        "conn",
        "ctx",
        "default_read_buffer_len",
        "ex_data",
        "freed",
        "groups",
        "host",
        "info_callback",
        "key_update",
        "max_cert_list",
        "max_fragment_mode",
        "max_pipelines",
        "max_send_fragment",
        "max_version",
        "min_version",
        "mode",
        "options",
        "other_certs",
        "peer_chain",
        "peer_servername",
        "pha_state",
        "post_handshake_auth",
        "private_key",
        "quiet_shutdown",
        "rbio",
        "read_ahead",
        "references",
        "reneg_scheduled",
        "reused",
        "role_set",
        "rwstate",
        "security_level",
        "server",
        "session",
        "session_method",
        "shutdown",
        "sni",
        "split_send_fragment",
        "verify_callback",
        "verify_depth",
        "verify_mode",
        "verify_result",
        "version",
        "wbio",
    )

    def __init__(self, ctx: SSL_CTX) -> None:
        # SSL_new: DESCRIPTION the new structure inherits method, options, verification settings from ctx
        self.ctx = ctx
        self.references = 1
        self.freed = False
        # ssl_lib.c: an SSL of a method that can accept counts as a server (SSL_is_server) until a role is set;
        # the role itself (the handshake function) is set only by SSL_set_connect_state / _accept_state
        self.server: bool = ctx.method.server is not False
        self.role_set = False
        self.options = ctx.options
        self.mode = ctx.mode
        self.min_version = ctx.min_version
        self.max_version = ctx.max_version
        self.verify_mode = ctx.verify_mode
        self.verify_callback = ctx.verify_callback
        self.post_handshake_auth = ctx.post_handshake_auth
        self.cert_chain: list[x509.Certificate] = list(ctx.cert_chain)
        self.private_key: PrivateKey | None = ctx.private_key
        self.other_certs = list(ctx.other_certs)  # certificates of other key types (engine/ssl/hooks.py)
        self.alpn_protos = ctx.alpn_protos  # SSL_CTX_set_alpn_protos: the client's offer, wire format
        self.ciphersuites = ctx.ciphersuites
        self.cipher_list = ctx.cipher_list
        self.groups = ctx.groups
        self.quiet_shutdown = ctx.quiet_shutdown
        self.verify_depth = ctx.verify_depth
        self.read_ahead = ctx.read_ahead
        self.max_cert_list = ctx.max_cert_list
        self.max_send_fragment = ctx.max_send_fragment
        self.split_send_fragment = ctx.split_send_fragment
        self.max_pipelines = ctx.max_pipelines
        self.default_read_buffer_len = ctx.default_read_buffer_len
        self.max_fragment_mode = ctx.max_fragment_mode
        self.security_level = ctx.security_level
        self.ex_data: dict[int, Any] = {}
        self.info_callback = ctx.info_callback
        self.sni: str | None = None
        self.host: str | None = ctx.host  # the name to verify (SSL_set1_host), apart from the SNI
        self.rbio: BIO | None = None
        self.wbio: BIO | None = None
        self.session: SSL_SESSION | None = None
        self.session_method = 0  # SSL_clear: NOTES the version of a cleanly closed session, kept for the next one
        self._reset()

    def _reset(self) -> None:
        """Connection state back to 'before the handshake' (SSL_new, SSL_clear)."""
        self.conn: TLSConnection | None = None
        self._established = False  # handshake complete (set once by handshake())
        self.rwstate = K.SSL_NOTHING
        self.shutdown = 0
        self.close_notify = False
        self.version = TLS_ANY_VERSION
        self.cipher: SSL_CIPHER | None = None
        self.reneg_scheduled: str | None = None  # SSL_renegotiate ("full") / _abbreviated ("abbreviated")
        self._renegs_counted = 0  # the core's renegotiations_started already added to the context's counter
        self.reused = False
        self.peer_chain: list[x509.Certificate] = []
        self.alpn_selected = b""  # SSL_get0_alpn_selected
        self.peer_servername: str | None = None  # server: the name the client sent (SSL_get_servername)
        self.verify_result = K.X509_V_OK
        self.key_update = K.SSL_KEY_UPDATE_NONE
        # SSL_verify_client_post_handshake: None, "pending" (sent at the next I/O) or "sent" (answer outstanding)
        self.pha_state: str | None = None
        self._failed: Failure | None = None  # set only by _fail
        self._out = bytearray()
        self._queued = 0  # bytes ever put into _out
        self._flushed = 0  # bytes ever written to the BIO
        self._unflushed = False  # written to the BIO since the last BIO_flush
        self._reader = RecordReader()
        self._hello_cb_done = False
        self._cert_wait = False
        self._verify_wait = False
        self._verify_chain: list[x509.Certificate] = []
        self._plain: deque[bytes] = deque()
        self._plain_len = 0
        self._wnum = 0
        self._wpend = 0
        self._wpend_end = 0
        self._wbuf: object = None

    def __repr__(self) -> str:
        role = "server" if self.server else "client" if self.server is False else "no role"
        return f"<SSL {role} {'freed' if self.freed else f'refs={self.references}'}>"

    # -- plumbing --------------------------------------------------------------------------------------------------

    @property
    def in_before(self) -> bool:
        return self.conn is None

    @property
    def init_finished(self) -> bool:
        return self._established

    @property
    def verifies_peer(self) -> bool:
        """Whether a failed verification ends the handshake. SSL_CTX_set_verify: BUGS a client checks for any flag
        other than SSL_VERIFY_NONE, not for SSL_VERIFY_PEER; a server needs SSL_VERIFY_PEER."""
        if self.server:
            return bool(self.verify_mode & K.SSL_VERIFY_PEER)
        return self.verify_mode != K.SSL_VERIFY_NONE

    def _config(self) -> TLSConfig | None:
        """The core's configuration from this SSL's settings; None (entry pushed) if nothing can be negotiated."""
        top = self.max_version or K.TLS1_3_VERSION
        bottom = self.min_version or K.TLS1_VERSION
        # SSL_CTX_set_min_proto_version / SSL_CTX_set_options (SSL_OP_NO_TLSv1_x): the versions left in range that
        # the engine implements (TLS 1.3 and 1.2), best first
        disabled = {K.TLS1_3_VERSION: K.SSL_OP_NO_TLSv1_3, K.TLS1_2_VERSION: K.SSL_OP_NO_TLSv1_2}
        versions = tuple(v for v, op in disabled.items() if bottom <= v <= top and not self.options & op)
        if not self.server:
            # SSL_CTX_new: NOTES in a client, a version switched off above an enabled lower one also switches off
            # every higher version (no holes)
            lower = (K.TLS1_VERSION, K.TLS1_1_VERSION, K.TLS1_2_VERSION)
            holes = {K.TLS1_VERSION: K.SSL_OP_NO_TLSv1, K.TLS1_1_VERSION: K.SSL_OP_NO_TLSv1_1, **disabled}
            enabled = [v for v in (*lower, K.TLS1_3_VERSION) if bottom <= v <= top and not self.options & holes[v]]
            if enabled:
                last = enabled[0]
                for v in enabled[1:]:
                    if v != last + 1:
                        break
                    last = v
                versions = tuple(v for v in versions if v <= last)
        fixed = self.ctx.method.version or self.session_method
        if fixed:
            # TLSv1_2_method(), or SSL_clear after a cleanly closed session (SSL_clear: NOTES the method used
            # during the session is kept for the next handshake)
            versions = tuple(v for v in versions if v == fixed)
        if not versions:
            raise_ssl(K.SSL_R_NO_PROTOCOLS_AVAILABLE, "ssl_handshake")
            return None
        verify = self.verifies_peer
        cfg = TLSConfig(
            supported_versions=versions,
            cipher_suites12=self.cipher_list,
            extended_master_secret=not self.options & K.SSL_OP_NO_EXTENDED_MASTER_SECRET,
            encrypt_then_mac=not self.options & K.SSL_OP_NO_ENCRYPT_THEN_MAC,
            # SSL_CTX_set_options: SSL_OP_NO_TICKET, a server issues no TLS 1.2 ticket; of a client the page says
            # nothing (openssl-3.0, page silent): like libssl 3.0's, it asks for none (no SessionTicket extension)
            session_tickets12=not self.options & K.SSL_OP_NO_TICKET,
            # SSL_CTX_set_options: NOTES the object's options when the renegotiation is offered (set after the
            # handshake too)
            renegotiation_allowed=self._renegotiation_allowed,
            cipher_suites=self.ciphersuites,
            groups=self.groups,
            certificate_chain=list(self.cert_chain),
            private_key=self.private_key,
            trusted_roots=list(self.ctx.trusted),
            verify_peer=verify,
            middlebox_compat=bool(self.options & K.SSL_OP_ENABLE_MIDDLEBOX_COMPAT),
            max_certificate_message=max(0, self.max_cert_list),
            # The pages are silent on record packing; libssl 3.0 writes one record per handshake message, and the
            # difference is observable: a client that rejects the server's Certificate fails as soon as that record
            # has arrived (found by the differential runner)
            record_per_message=True,
            check_chain=self._check_chain,
            # SSL_CTX_set_split_send_fragment: DESCRIPTION the mode is the client's request; a server answers any
            max_fragment_length=0 if self.server else self.max_fragment_mode,
        )
        if self.server:
            # SSL_CTX_set_session_cache_mode, SSL_CTX_sess_number: the cache under its mode, with its counters
            cfg.session_cache12 = ServerCacheView(self.ctx)
            cfg.ticket_sealer = self.ctx.ticket_sealer
            cfg.ticket_lifetime = self.ctx.session_timeout  # SSL_CTX_set_timeout: NOTES the ticket lifetime hint
            # SSL_CTX_set_options: the client's suite order decides unless SSL_OP_CIPHER_SERVER_PREFERENCE
            cfg.server_cipher_preference = bool(self.options & K.SSL_OP_CIPHER_SERVER_PREFERENCE)
            cfg.prioritize_chacha = bool(self.options & K.SSL_OP_PRIORITIZE_CHACHA)
            cfg.request_client_certificate = verify
            cfg.require_client_certificate = verify and bool(self.verify_mode & K.SSL_VERIFY_FAIL_IF_NO_PEER_CERT)
            cfg.client_ca_names = tuple(self.ctx.client_ca_names)  # SSL_CTX_add_client_CA
            cfg.session_tickets = self.ctx.num_tickets
            # SSL_CTX_set_verify: NOTES SSL_VERIFY_POST_HANDSHAKE, no CertificateRequest in a TLS 1.3 handshake
            cfg.post_handshake_only = bool(self.verify_mode & K.SSL_VERIFY_POST_HANDSHAKE)
        else:
            # SSL_CTX_set_mode: SSL_MODE_SEND_FALLBACK_SCSV adds TLS_FALLBACK_SCSV (RFC 7507) to the hello
            cfg.send_fallback_scsv = bool(self.mode & K.SSL_MODE_SEND_FALLBACK_SCSV)
            # SSL_CTX_set_options: SSL_OP_TLSEXT_PADDING (part of SSL_OP_ALL) keeps the ClientHello out of 256..511
            cfg.pad_client_hello = bool(self.options & K.SSL_OP_TLSEXT_PADDING)
            # SNI and the verified name are separate settings (SSL_set_tlsext_host_name / SSL_set1_host); without
            # SSL_set1_host a verifying client checks the chain only, as OpenSSL 3.0 does (the pages are silent)
            cfg.server_name = self.sni
            cfg.verify_host = self.host if verify else None
            if self.session is not None and self.session.state is not None and not self.session.bad:
                cfg.resume_session12 = self.session.state  # SSL_set_session: offered for resumption
            if self.session is not None:
                cfg.resume_ticket13 = self.session.ticket_to_offer()  # a TLS 1.3 session holding a ticket
            cfg.post_handshake_auth = self.post_handshake_auth  # SSL_set_post_handshake_auth
            cfg.defer_client_certificate = self.ctx.client_cert_cb is not None and not self.cert_chain
            # a verify callback may also suspend the handshake (SSL_CTX_set_verify: SSL_set_retry_verify), so its
            # check runs at the same deferred point as the certificate verify callback's
            cfg.defer_certificate_check = self.ctx.cert_verify_callback is not None or self.verify_callback is not None
        hooks.configure(self, cfg)  # ALPN, SNI callback, certificates of other key types
        return cfg

    def _renegotiation_allowed(self) -> bool:
        # SSL_CTX_set_options: client-initiated renegotiation is refused unless ALLOW_CLIENT_RENEGOTIATION;
        # SSL_OP_NO_RENEGOTIATION refuses all of it (a no_renegotiation warning, as libssl 3.0 sends)
        if self.options & K.SSL_OP_NO_RENEGOTIATION:
            return False
        return not self.server or bool(self.options & K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)

    def _now(self) -> datetime.datetime:
        return _time_of(self.ctx)

    def _check_chain(self, chain: list[x509.Certificate]) -> None:
        """The core's check of the peer's chain: the built-in procedure of SSL_CTX_set_verify.pod with its callback
        and depth (engine/ssl/verify.py); the result is recorded, and a failure ends the handshake only when this SSL
        verifies its peer."""
        result, alert = verify_chain(
            self, chain, roots=list(self.ctx.trusted), host=None if self.server else self.host,
            server_cert=not self.server, depth_limit=self.verify_depth, callback=self.verify_callback,
            now=self._now(),
        )  # fmt: skip
        self.verify_result = result
        if alert is not None and self.verifies_peer:
            raise alert

    def _start(self) -> bool:
        if self.conn is not None:
            return True
        cfg = self._config()
        if cfg is None:
            self._fail_ssl(K.SSL_R_NO_PROTOCOLS_AVAILABLE, push=False)
            return False
        ctx = self.ctx
        clock = TLSContext(now=lambda: _time_of(ctx))  # (the context, not the SSL: no reference cycle)
        self.conn = TLSConnection(cfg, "server" if self.server else "client", clock)
        self._renegs_counted = 0
        # SSL_CTX_sess_number: SSL_CTX_sess_accept / SSL_CTX_sess_connect count the handshakes started
        if self.server:
            ctx.stats.accept += 1
        else:
            ctx.stats.connect += 1
        return True

    def _pull(self) -> None:
        assert self.conn is not None
        data = self.conn.data_to_send()
        if data:
            self._out += data
            self._queued += len(data)

    def _flush(self) -> int:
        """Write ``_out`` to the write BIO: 1 when all is out, -1 when the BIO wants a retry or failed."""
        out = self._out
        if not out:
            return 1
        wbio = self.wbio
        if wbio is None:
            return self._fail_ssl(K.SSL_R_BIO_NOT_SET, func="ssl3_write_pending")
        while out:
            with memoryview(out) as mv:
                n = _bio_write(wbio, mv)
            if n > 0:
                del out[:n]
                self._flushed += n
                self._unflushed = True
                continue
            if BIO_should_retry(wbio):
                self.rwstate = K.SSL_WRITING
                return -1
            self._fail_transport()
            return -1
        return 1

    def _emit(self, data: bytes) -> int:
        """Queue ``data`` for the wire and flush; with nothing queued before, it goes to the BIO without a copy."""
        self._queued += len(data)
        wbio = self.wbio
        if self._out or wbio is None or not data:
            self._out += data
            return self._flush()
        # _bio_write, inline (the bulk path's one BIO call per record)
        n = wbio.impl.write(wbio, memoryview(data)) if wbio.init and not wbio.freed else BIO_write(wbio, data)
        if n > 0:
            self._unflushed = True
        if n == len(data):
            self._flushed += n
            return 1
        if n > 0:
            self._flushed += n
            data = data[n:]
        self._out += data
        return self._flush()

    def _bio_flush(self) -> int:
        """BIO_flush after a handshake flight went out (SSL_set_bio: a write BIO must implement BIO_flush); a BIO
        that cannot flush stops the handshake with -1 (libssl 3.0: statem_flush, rwstate SSL_WRITING)."""
        if not self._unflushed or self.wbio is None:
            return 1
        if BIO_flush(self.wbio) <= 0:
            self.rwstate = K.SSL_WRITING
            return -1
        self._unflushed = False
        return 1

    def _fail(self, failure: Failure) -> int:
        """The one setter of the failed state: from now on every I/O entry point fails with ``failure``."""
        self._failed = failure
        self.rwstate = K.SSL_NOTHING
        return -1

    def _fail_transport(self) -> int:
        """The BIO failed without asking for a retry: SSL_ERROR_SYSCALL (or the BIO's own queue entry)."""
        return self._fail(Failure(FailureKind.SYSCALL, err.errno() or _errno.EIO))

    def _fail_ssl(self, reason: int, *, push: bool = True, func: str = "ssl") -> int:
        if push:
            raise_ssl(reason, func)
        return self._fail(Failure(FailureKind.SSL, reason))

    def _fail_alert(self, exc: TLSAlertError) -> int:
        """A fatal error of the core: send its alert if it is ours (best effort) and stay failed."""
        verify = verify_error_for(exc)
        if verify is not None and self.verify_result == K.X509_V_OK:
            self.verify_result = verify
        if not exc.sent_by_us:
            self.shutdown |= K.SSL_RECEIVED_SHUTDOWN  # SSL_set_shutdown: NOTES a fatal alert received sets it too
        if self.conn is not None:
            self._pull()
            wbio = self.wbio
            if wbio is not None and self._out:
                with memoryview(self._out) as mv:
                    n = BIO_write(wbio, cast(bytes, mv))  # BIO_write takes any buffer; no copy
                if n > 0:
                    del self._out[:n]
        known = self.conn is not None and self.conn.negotiated_version is not None
        return self._fail_ssl(alert_reason(exc, known), func="ssl3_read_bytes" if not exc.sent_by_us else "tls_process")

    def _check_failed(self) -> bool:
        """The guard of every I/O entry point: a failed SSL fails again with the same reason."""
        failed = self._failed
        if failed is None:
            return False
        if failed.kind is FailureKind.SSL:
            raise_ssl(failed.code, "ssl")
        else:
            err.set_errno(failed.code)
        self.rwstate = K.SSL_NOTHING
        return True

    def _feed(self) -> Input:
        """One step of input: read one record from the read BIO (:class:`~engine.ssl.records.RecordReader`) and
        give it to the core. ``Input.RECORD``: the record went in; ``RETRY``: rwstate says what to wait for;
        ``EOF``; ``FAILED``: the failure is recorded (``_fail``)."""
        conn = self.conn
        assert conn is not None
        rbio = self.rbio
        if rbio is None:
            self._fail_ssl(K.SSL_R_READ_BIO_NOT_SET, func="ssl3_read_n")
            return Input.FAILED
        reader = self._reader
        if reader.held is not None:
            return self._release_held()
        first = self.server and not self._hello_cb_done
        got, header, body = reader.next_record(rbio, conn, self.read_ahead, first)
        if got is RECORD:
            if first:
                reader.held = header + body
                return self._release_held()
            if header:
                conn.receive_record(header, body)
            else:
                conn.receive_bytes(body)
        elif got is RETRY:
            self.rwstate = K.SSL_READING
        elif got is Input.FAILED:
            self._fail_transport()
        elif got is Input.HTTP_REQUEST:
            self._fail_ssl(K.SSL_R_HTTP_REQUEST, func="ssl3_get_record")  # OpenSSL 3.0: without an alert
            return Input.FAILED
        return got

    def _release_held(self) -> Input:
        """The first record of a server goes into the core only once the ClientHello callback agrees."""
        conn, reader = self.conn, self._reader
        body = reader.held
        assert conn is not None and body is not None
        cb = self.ctx.client_hello_cb
        if cb is not None:
            ret = cb(self)
            if ret < 0:
                self.rwstate = K.SSL_CLIENT_HELLO_CB
                return Input.RETRY
            if ret == 0:
                reader.held = None
                self._fail_ssl(K.SSL_R_CALLBACK_FAILED, func="tls_early_post_process_client_hello")
                return Input.FAILED
        self._hello_cb_done = True
        reader.held = None
        conn.receive_bytes(body)
        return Input.RECORD

    def _apply_events(self, events: list[Event] | None = None) -> bool:
        """Apply the core's events (``events``: taken from it already); True if a record other than application
        data was processed."""
        conn = self.conn
        assert conn is not None
        other = False
        if events is None:
            events = conn.events()
        if len(events) == 1 and type(events[0]) is ApplicationData:  # the bulk case
            data = events[0].data
            self._plain.append(data)
            self._plain_len += len(data)
            return False
        for ev in events:
            if isinstance(ev, ApplicationData):
                self._plain.append(ev.data)
                self._plain_len += len(ev.data)
            elif isinstance(ev, CloseNotifyReceived):
                self.shutdown |= K.SSL_RECEIVED_SHUTDOWN
                self.close_notify = True
            elif isinstance(ev, HandshakeComplete):
                # the version comes from the handshake that completed (SSL_version, SSL_get_version)
                self.version = ev.version
                self.cipher = _CIPHERS.get(ev.cipher_suite)
                self.peer_chain = list(ev.peer_certificates)
                self.alpn_selected = ev.alpn_protocol or b""
                if self.server:
                    self.peer_servername = ev.server_name
                self.reused = ev.resumed
                if ev.renegotiation:
                    self.reneg_scheduled = None
                elif self.server and ev.version == K.TLS1_2_VERSION \
                        and self.options & K.SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION:  # fmt: skip
                    # SSL_CTX_set_options: a renegotiating server with this option always makes a new session
                    # (no session is looked up, and no ticket opened, in the new handshake; new ones are stored)
                    conn.config.session_cache12 = ServerCacheView(self.ctx, lookups=False)
                    conn.config.ticket_sealer = None
                if not ev.renegotiation and self.server and self.verify_mode & K.SSL_VERIFY_CLIENT_ONCE:
                    # SSL_CTX_set_verify: NOTES SSL_VERIFY_CLIENT_ONCE asks for a client certificate in the first
                    # handshake only, not again when the connection renegotiates
                    conn.config.request_client_certificate = conn.config.require_client_certificate = False
                self._count_handshake(ev)
                cached = (self.ctx.session_times.get(ev.session12.session_id)
                          if ev.resumed and ev.session12 is not None and ev.session12.session_id else None)
                if isinstance(cached, SSL_SESSION) and not cached.freed and self.session is not cached:
                    # a server resuming a cached session holds that session, not a new one: its creation time and
                    # timeout stay the session's (SSL_CTX_set_timeout: NOTES the deadline is creation plus timeout)
                    SSL_SESSION_free(self.session)
                    cached.references += 1
                    self.session = cached
                elif not (ev.resumed and self.session is not None and self.session.state == ev.session12):
                    # a full handshake makes a new session; a resumed one keeps the session it resumed (made
                    # anew from the cache's creation time and timeout when the cached handle was freed)
                    SSL_SESSION_free(self.session)
                    timeout = cached.timeout if cached is not None else self.ctx.session_timeout
                    self.session = SSL_SESSION(ev.version, ev.cipher_suite, timeout, ev.session12,
                                               now=cached.time if cached is not None else self.ctx.clock())
                    self.session.max_fragment_mode = conn.max_fragment_mode
                    if ev.session12 is not None and ev.session12.session_id in self.ctx.session_times:
                        # the cached session's time and timeout are this SSL_SESSION's (SSL_SESSION_set_time)
                        self.ctx.session_times[ev.session12.session_id] = self.session
            elif isinstance(ev, NewSessionTicketReceived) and ev.session13 is not None:
                # SSL_get_session: NOTES in TLS 1.3 each ticket makes a new session; the last one received is the
                # connection's session
                SSL_SESSION_free(self.session)
                self.session = SSL_SESSION(self.version, ev.cipher_suite, self.ctx.session_timeout,
                                           ticket=ev.session13, now=self.ctx.clock())  # fmt: skip
                self.session.max_fragment_mode = conn.max_fragment_mode
                other = True
            elif isinstance(ev, AlertReceived) and ev.description == AlertDescription.no_renegotiation:
                self._refused_renegotiation(conn)
            elif isinstance(ev, CertificateRequested):
                self._cert_wait = True
            elif isinstance(ev, PostHandshakeAuthDone):
                # SSL_CTX_set_verify: NOTES the request is answered; the certificate (if any) is the peer's now
                self.pha_state = None
                if ev.peer_certificates:
                    self.peer_chain = list(ev.peer_certificates)
            elif isinstance(ev, CertificateReceived):
                self._verify_wait = True
                self._verify_chain = list(ev.chain)
            else:
                other = True
        started = conn.renegotiations_started
        if started != self._renegs_counted:
            # SSL_CTX_sess_number: connect_renegotiate / accept_renegotiate count the renegotiations started
            if self.server:
                self.ctx.stats.accept_renegotiate += started - self._renegs_counted
            else:
                self.ctx.stats.connect_renegotiate += started - self._renegs_counted
            self._renegs_counted = started
        return other

    def _count_handshake(self, ev: HandshakeComplete) -> None:
        # SSL_CTX_sess_number: connect_good / accept_good count completed handshakes, hits the resumed ones
        stats = self.ctx.stats
        if ev.renegotiation:
            return
        if self.server:
            stats.accept_good += 1
        else:
            stats.connect_good += 1
        if ev.resumed:
            stats.hits += 1

    def drop_unclosed_session(self) -> None:
        """SSL_free / SSL_clear: NOTES (SSL_set_shutdown: NOTES) a session whose connection was not closed with
        SSL_SENT_SHUTDOWN set is bad: it leaves the context's session cache."""
        session = self.session
        if session is None or self.shutdown & K.SSL_SENT_SHUTDOWN or not self._established:
            return
        # the pages say only "bad"; as OpenSSL 3.0 does, a bad session no longer resumes (SSL_SESSION_is_resumable)
        session.bad = True
        if session.state is None:
            return
        if self.ctx.sessions.get(session.state.session_id) == session.state:
            self.ctx.remove_session(session.state)

    def _refused_renegotiation(self, conn: TLSConnection) -> None:
        # SSL_key_update: DESCRIPTION an OpenSSL client answered with no_renegotiation fails the connection at once;
        # for a server the page is silent and libssl 3.0 does the same (a fatal handshake_failure)
        raise conn.abort(AlertDescription.handshake_failure, "peer sent no_renegotiation")

    def start_renegotiation(self) -> None:
        """Act on a scheduled SSL_renegotiate(_abbreviated): a client sends its ClientHello (offering the current
        session for the abbreviated form), a server its HelloRequest."""
        conn = self.conn
        kind = self.reneg_scheduled
        if conn is None or kind not in ("full", "abbreviated") or conn.renegotiating:
            return
        if self.shutdown & K.SSL_SENT_SHUTDOWN or conn.closed_for_writing:
            # SSL_key_update: DESCRIPTION the I/O call first checks "that it is a suitable time"; after our
            # close_notify it never is (RFC 5246 section 7.2.1: no more messages follow it), so nothing is sent
            # and the renegotiation stays scheduled, never acted on (found by the differential runner)
            return
        conn.renegotiate(resume=kind == "abbreviated")
        self.reneg_scheduled = "started"
        self._pull()

    @property
    def renegotiation_pending(self) -> bool:
        """SSL_renegotiate_pending: scheduled, or started and not yet completed."""
        conn = self.conn
        return self.reneg_scheduled is not None or (self._established and conn is not None and conn.renegotiating)

    def _in_renegotiation_handshake(self) -> bool:
        conn = self.conn
        return self._established and conn is not None and conn.renegotiating and not conn.handshake_complete

    def _input_ended(self, got: Input, func: str) -> int:
        """The return value when a step of input brought no record: -1, or 0 for a controlled end."""
        if got is Input.RETRY:
            return -1
        if got is Input.EOF:
            # SSL_get_error: NOTES an EOF without close_notify is SSL_ERROR_SSL / SSL_R_UNEXPECTED_EOF_WHILE_READING;
            # RETURN VALUES with SSL_OP_IGNORE_UNEXPECTED_EOF it reads like a close_notify (ZERO_RETURN)
            if self.options & K.SSL_OP_IGNORE_UNEXPECTED_EOF:
                self.shutdown |= K.SSL_RECEIVED_SHUTDOWN
                self.close_notify = True
                return 0
            if self.conn is not None:
                # RFC 8446 section 6.2: a fatal error SHOULD be answered with a fatal alert; libssl 3.0 sends
                # decode_error here and the pages are silent (found by the differential runner)
                eof = TLSAlertError(AlertDescription.decode_error, "unexpected EOF while reading")
                self.conn.abort_from_outside(eof)
                self._pull()
                wbio = self.wbio
                if wbio is not None and self._out:
                    n = BIO_write(wbio, bytes(self._out))
                    if n > 0:
                        del self._out[:n]
            return self._fail_ssl(K.SSL_R_UNEXPECTED_EOF_WHILE_READING, func=func)
        return -1

    # -- the handshake ---------------------------------------------------------------------------------------------

    def handshake(self) -> int:
        """Drive the handshake: 1 done, 0 ended by the peer's close_notify, -1 retry or failure."""
        # libssl 3.0 (statem.c, state_machine) empties the thread's error queue and errno whenever the handshake
        # state machine is entered; the pages are silent, so the engine does the same
        err.ERR_clear_error()
        err.set_errno(0)
        first = self.conn is None
        if not self._start():
            return -1
        conn = self.conn
        assert conn is not None
        if first:
            self._info(SSL_CB_HANDSHAKE_START, 1)
        if self._established and self.reneg_scheduled is not None:
            try:
                self.start_renegotiation()
            except TLSAlertError as exc:
                return self._fail_alert(exc)
        ret = self._handshake_steps(conn)
        if ret == 1:
            self._info(SSL_CB_HANDSHAKE_DONE, 1)
        self._info((SSL_ST_ACCEPT if self.server else SSL_ST_CONNECT) | SSL_CB_EXIT, ret)
        return ret

    def _info(self, where: int, ret: int) -> None:
        # SSL_CTX_set_info_callback: the callback hears of the handshake's start, end and exits
        cb = self.info_callback
        if cb is not None:
            cb(where, ret)

    # -- the drive loop --------------------------------------------------------------------------------------------

    def _drive(
        self,
        turn: Callable[[], T | None],
        after: Callable[[bool], T | None],
        ended: Callable[[Input], T],
        failed: Callable[[int], T],
    ) -> T:
        """The one input loop of the SSL, shared by the handshake, SSL_read / SSL_peek and the second SSL_shutdown.

        Each turn: ``turn()`` looks at the state (writing queued output first where the operation wants to) and
        returns the call's result when the operation is finished or cannot go on; otherwise exactly one record is
        read and given to the core (:meth:`_feed`). No record: ``ended(input)`` gives the result of the call (a
        retry, with rwstate naming the BIO; the end of the transport; a failure already recorded). A record: the
        core's events are applied and ``after(other)`` (``other``: a record other than application data was
        processed) may give the result. A fatal error of the core ends the call with ``failed(_fail_alert(exc))``.

        Invariants: at most one record enters the core between two looks of the operation at the state, so the
        operation sees every event (close_notify, a certificate request, application data) before more input
        comes; the loop leaves only with a result, and a retry result always follows the BIO call that asked for
        it (its retry flags are the ones SSL_get_error reads).
        """
        try:
            while True:
                result = turn()
                if result is not None:
                    return result
                got = self._feed()
                if got is not Input.RECORD:
                    return ended(got)
                result = after(self._apply_events())
                if result is not None:
                    return result
        except TLSAlertError as exc:
            return failed(self._fail_alert(exc))

    def _handshake_steps(self, conn: TLSConnection) -> int:
        """Drive the handshake: 1 complete, 0 ended by the peer's close_notify, -1 retry or failure."""

        def turn() -> int | None:
            while True:
                self._pull()
                if self._flush() < 0 or self._bio_flush() < 0:
                    return -1
                if self._verify_wait:
                    if self._certificate_check() < 0:
                        return -1
                    continue
                if self._cert_wait:
                    if self._client_certificate() < 0:
                        return -1
                    continue
                if conn.handshake_complete:
                    self._established = True
                    return 1
                if self.shutdown & K.SSL_RECEIVED_SHUTDOWN:
                    # SSL_do_handshake: RETURN VALUES 0 "not successful but was shut down controlled and by the
                    # specifications of the TLS/SSL protocol" (libssl 3.0 returns -1 here; the engine follows the page)
                    return 0
                return None

        return self._drive(turn, _continue, lambda got: self._input_ended(got, "ssl3_read_n"), _same)

    def _certificate_check(self) -> int:
        # SSL_CTX_set_cert_verify_callback: the application's callback decides instead of the built-in check; 1
        # with SSL_set_retry_verify() suspends the handshake (libssl 3.0: rwstate SSL_RETRY_VERIFY)
        conn = self.conn
        cb = self.ctx.cert_verify_callback
        assert conn is not None
        self.rwstate = K.SSL_NOTHING
        if cb is None:
            return self._verify_callback_check(conn)
        ret = cb()
        if ret > 0 and self.rwstate == K.SSL_RETRY_VERIFY:
            return -1
        self.rwstate = K.SSL_NOTHING
        self._verify_wait = False
        accepted = ret > 0 or not self.verifies_peer  # VERIFY_NONE: a failed check is no error
        self.verify_result = K.X509_V_OK if ret > 0 else K.X509_V_ERR_APPLICATION_VERIFICATION
        conn.resume_certificate_check(accepted)
        return 1

    def _verify_callback_check(self, conn: TLSConnection) -> int:
        # SSL_CTX_set_verify: DESCRIPTION a client's verify callback that calls SSL_set_retry_verify() and returns 1
        # suspends the handshake (SSL_ERROR_WANT_RETRY_VERIFY); the next call verifies the chain again, and a
        # callback that returns 0 still ends the handshake
        result, alert = verify_chain(
            self, self._verify_chain, roots=list(self.ctx.trusted), host=self.host, server_cert=True,
            depth_limit=self.verify_depth, callback=self.verify_callback, now=_time_of(self.ctx),
        )  # fmt: skip
        self.verify_result = result
        failure = alert if self.verifies_peer else None
        if failure is None and self.rwstate == K.SSL_RETRY_VERIFY:
            return -1
        self.rwstate = K.SSL_NOTHING
        self._verify_wait = False
        conn.resume_certificate_check(True, failure)
        return 1

    def _client_certificate(self) -> int:
        # SSL_CTX_set_client_cert_cb: the callback is consulted when the server asks and no certificate is set;
        # a negative value suspends the handshake (SSL_ERROR_WANT_X509_LOOKUP)
        conn = self.conn
        assert conn is not None
        cb = self.ctx.client_cert_cb
        send = True
        if not self.cert_chain and cb is not None:
            # SSL_CTX_set_client_cert_cb: DESCRIPTION 1 with a certificate / key pair (the callback's out parameters)
            # installs the pair on the SSL, where it stays (NOTES, BUGS), and sends it; 0 sends no certificate
            ret = install_callback_pair(self, cb(self))
            if ret < 0:
                self.rwstate = K.SSL_X509_LOOKUP
                return -1
            send = ret == 1
        chain, key = (self.cert_chain, self.private_key) if send else ([], None)
        self._cert_wait = False
        conn.send_client_certificate(chain, key)
        return 1

    # -- reading ---------------------------------------------------------------------------------------------------

    def read(self, num: int, peek: bool, func: str) -> tuple[int, bytes]:
        """SSL_read's logic: (bytes, data) of at most one record, or (<= 0, b"") with the reason where
        SSL_get_error finds it."""
        core = self.conn
        first: Input | None = None  # the first step of input, when the bulk path below took it
        other = False
        # whether a renegotiation handshake was under way before the record the loop reads next (see after())
        midway = [self._in_renegotiation_handshake()]
        if (self._established and not self._plain_len and not self._out and not self.shutdown
                and self.key_update == K.SSL_KEY_UPDATE_NONE and self.pha_state != "pending"
                and self.reneg_scheduled is None and core is not None):  # fmt: skip
            # The bulk path: nothing is buffered and nothing is scheduled, so the checks below and turn() have
            # nothing to do; the first record is read at once. The plain case (application data, no callback
            # waiting) returns here, as turn() would after after() (which, with plaintext there, goes on to turn()
            # whether a renegotiation is under way or not); anything else goes on where the loop would (after(),
            # then _drive).
            try:
                rbio, reader = self.rbio, self._reader
                if rbio is not None and reader.held is None and (self._hello_cb_done or not self.server):
                    # _feed, inline for an established SSL (no ClientHello held or checked), with the record's
                    # application data handed back by the core instead of queued as an event when nothing else is
                    first, header, body = reader.next_record(rbio, core, self.read_ahead, False)
                    if first is RECORD and header:
                        data = core.receive_record(header, body, direct=True)
                        if data is not None:
                            if num >= len(data) and not peek and not self._cert_wait and not self._verify_wait:
                                return (len(data), data)  # what _apply_events then _take would give
                            self._plain.append(data)
                            self._plain_len += len(data)
                    elif first is RECORD:
                        core.receive_bytes(body)
                    elif first is RETRY:
                        self.rwstate = K.SSL_READING
                    elif first is FAILED:
                        self._fail_transport()
                else:
                    first = self._feed()
                if first is RECORD:
                    # (after() would also _pull(): an application data record has no answer, and the core's output
                    # was taken when the previous call left)
                    events = core.events()
                    if len(events) == 1 and type(events[0]) is ApplicationData and not self._plain \
                            and not self._cert_wait and not self._verify_wait:  # fmt: skip
                        data = events[0].data
                        if data and num >= len(data) and not peek:
                            return (len(data), data)  # what _apply_events then _take would give, without the queue
                    other = self._apply_events(events)
                    if not other and self._plain_len > 0 and not self._cert_wait and not self._verify_wait:
                        return self._take(num, peek)
                elif first is RETRY:
                    self._idle()
                    return (-1, b"")
            except TLSAlertError as exc:
                return (self._fail_alert(exc), b"")
        else:
            idle = not self._plain_len and not self.shutdown & K.SSL_RECEIVED_SHUTDOWN
            if idle and not self.init_finished and self.handshake() <= 0:
                return (-1, b"")  # SSL_read: NOTES the read carries out a pending handshake first
            if self.conn is None:
                return (0, b"")  # SSL_set_shutdown set SSL_RECEIVED_SHUTDOWN before any handshake: nothing to read
            try:
                if self.key_update != K.SSL_KEY_UPDATE_NONE and self._perform_key_update() < 0:
                    return (-1, b"")
                self._send_pha_request()
                scheduled = self.reneg_scheduled
                self.start_renegotiation()
                if self._plain_len and scheduled != self.reneg_scheduled and self._flush() < 0:
                    # SSL_key_update: DESCRIPTION the renegotiation starts at this call: its first message (the
                    # server's HelloRequest, the client's ClientHello) goes out before buffered data is returned,
                    # as libssl 3.0 does; a full BIO ends the call (SSL_read: WARNINGS, SSL_ERROR_WANT_WRITE)
                    # (found by the differential runner, seed 404)
                    return (-1, b"")
            except TLSAlertError as exc:
                return (self._fail_alert(exc), b"")
            core = self.conn
        assert core is not None

        def turn() -> tuple[int, bytes] | None:
            midway[0] = self._in_renegotiation_handshake()
            if self._plain_len:
                return self._take(num, peek)
            if self.shutdown & K.SSL_RECEIVED_SHUTDOWN:
                return (0, b"")  # SSL_read: close_notify received (SSL_ERROR_ZERO_RETURN)
            if not self._out:
                return None
            renegotiating = self._in_renegotiation_handshake()
            if renegotiating or not (self._wpend and self._flushed < self._wpend_end):
                # protocol output (an alert, a renegotiation flight); a full BIO does not stop the read. The rest
                # of a record an unfinished SSL_write left waits for that write to be repeated (page silent;
                # libssl 3.0 alike, found by the differential runner)
                if self._flush() < 0 and renegotiating and self._failed is None:
                    # SSL_read: WARNINGS a renegotiation may make SSL_read write (SSL_ERROR_WANT_WRITE)
                    return (-1, b"")
                self.rwstate = K.SSL_NOTHING
            return None

        def after(other: bool) -> tuple[int, bytes] | None:
            other = other or self._in_renegotiation_handshake()
            if (self._cert_wait or self._verify_wait) and self._handshake_steps(core) <= 0:
                return (-1, b"")  # a renegotiation waits for the client-certificate or verify callback
            self._pull()  # a post-handshake message may have an answer (KeyUpdate, a renegotiation flight)
            if not other or self._plain_len or self.mode & K.SSL_MODE_AUTO_RETRY or self._reader.buffered:
                return None
            if midway[0] or (not self.server and self._in_renegotiation_handshake()):
                # SSL_CTX_set_mode: NOTES without SSL_MODE_AUTO_RETRY the call "can" end after a non-application
                # record; the page does not say after which. OpenSSL 3.0 (observed, 3.0.22): a renegotiation under
                # way reads on until it must wait or application data comes, and so does a client from the
                # HelloRequest that starts one; a server stops after the ClientHello that starts one (or that it
                # refuses: RenegotiationRefused counts as a non-application record), and other
                # records (TLS 1.3 post-handshake messages) end the call. The engine does the same (found by the
                # differential runner, seed 404).
                return None
            # SSL_read: NOTES without SSL_MODE_AUTO_RETRY a non-application record ends the call with
            # SSL_ERROR_WANT_READ when nothing else is buffered (libssl sets the read BIO's retry flags)
            if self._out:
                self._flush()
            rbio = self.rbio
            assert rbio is not None
            BIO_clear_retry_flags(rbio)
            BIO_set_retry_read(rbio)
            self.rwstate = K.SSL_READING
            return (-1, b"")

        def ended(got: Input) -> tuple[int, bytes]:
            if got is Input.RETRY:
                self._idle()
            ret = self._input_ended(got, func)
            # SSL_read: RETURN VALUES only "<= 0" for a failure; libssl 3.0 passes on the 0 of the BIO_read that met
            # the end of the transport, also for an unexpected EOF (SSL_ERROR_SSL), and so does the engine (found by
            # the differential runner)
            return (0 if got is Input.EOF else ret, b"")

        if first is RECORD:
            try:
                result = after(other)
            except TLSAlertError as exc:
                return (self._fail_alert(exc), b"")
            if result is not None:
                return result
        elif first is not None:
            return ended(first)
        return self._drive(turn, after, ended, lambda ret: (ret, b""))

    def _idle(self) -> None:
        """SSL_CTX_set_mode: with SSL_MODE_RELEASE_BUFFERS an idle connection gives its buffers back. The SSL's own
        buffers (bytearrays) shrink whenever they empty; the core keeps the last record until more input comes."""
        if self.mode & K.SSL_MODE_RELEASE_BUFFERS and self.conn is not None and self._reader.read_ahead_empty:
            self.conn.release_buffers()

    def _take(self, num: int, peek: bool) -> tuple[int, bytes]:
        head = self._plain[0]
        if num >= len(head):
            data = head
            if not peek:
                self._plain.popleft()
        else:
            data = head[:num]
            if not peek:
                self._plain[0] = head[num:]
        if not peek:
            self._plain_len -= len(data)
        return (len(data), data)

    # -- writing ---------------------------------------------------------------------------------------------------

    def write(self, data: bytes, num: int, moved: bool, func: str) -> int:
        """SSL_write's logic: bytes written (> 0), or <= 0 with the reason where SSL_get_error finds it."""
        conn = self.conn
        if (self._established and not self._wnum and not self._wpend and not self._out
                and num <= self.max_send_fragment and not self.shutdown & K.SSL_SENT_SHUTDOWN
                and self.key_update == K.SSL_KEY_UPDATE_NONE and self.reneg_scheduled is None
                and self.pha_state != "pending" and conn is not None and not conn.closed_for_writing
                and (self.version == K.TLS1_3_VERSION or not conn.renegotiating)):  # fmt: skip
            # The bulk path: one record, nothing queued, pending or scheduled, so the checks below have nothing to
            # do; the same record and the same retry state as the loop below
            try:
                conn.send_application_data(data if num == len(data) else bytes(memoryview(data)[:num]))
                out = conn.data_to_send()
                wbio = self.wbio
                if wbio is not None and wbio.init and not wbio.freed and out:
                    # _emit, inline: the record straight to the BIO kind; what did not fit is queued and flushed
                    n = wbio.impl.write(wbio, memoryview(out))
                    self._queued += len(out)
                    if n > 0:
                        self._unflushed = True
                        self._flushed += n
                    if n == len(out):
                        self._wbuf = None
                        return num
                    self._out += out[n:] if n > 0 else out
                    done = self._flush()
                else:
                    done = self._emit(out)
                if done < 0:
                    self._wnum, self._wpend, self._wpend_end, self._wbuf = 0, num, self._queued, data
                    return -1
            except TLSAlertError as exc:
                return self._fail_alert(exc)
            self._wbuf = None
            return num
        if self.shutdown & K.SSL_SENT_SHUTDOWN or (self.conn is not None and self.conn.closed_for_writing):
            # (SSL_set_shutdown can clear the flag, but our close_notify stays sent)
            return shutdown_error(self, func)
        if not self.init_finished:
            r = self.handshake()
            if r <= 0:
                return -1
        conn = self.conn
        assert conn is not None
        tot = self._wnum
        pending = self._wpend and self._flushed < self._wpend_end
        # SSL_write: WARNINGS a retry must repeat the same arguments (OpenSSL 3.0: SSL_R_BAD_LENGTH and
        # SSL_R_BAD_WRITE_RETRY, both fatal)
        if num < tot or (pending and num < tot + self._wpend):
            return self._fail_ssl(K.SSL_R_BAD_LENGTH, func=func)
        if pending:
            same = not moved and (data is self._wbuf or data == self._wbuf)
            if not same and not self.mode & K.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER:
                return self._fail_ssl(K.SSL_R_BAD_WRITE_RETRY, func=func)
        try:
            self.start_renegotiation()
            # SSL_write: NOTES a renegotiation is carried out inside SSL_write, which may then want to read
            # (SSL_ERROR_WANT_READ) until the new handshake is done
            if self._in_renegotiation_handshake() and self._handshake_steps(conn) <= 0:
                return -1
            if self.key_update != K.SSL_KEY_UPDATE_NONE:
                self._send_key_update()
            self._send_pha_request()
            if self._flush() < 0:
                self._wbuf = data
                return -1
            if self._wpend:
                tot += self._wpend
                self._wpend = 0
                if self.mode & K.SSL_MODE_ENABLE_PARTIAL_WRITE or tot >= num:
                    self._wnum = 0
                    return tot
            view = memoryview(data)
            while tot < num:
                # SSL_CTX_set_split_send_fragment: DESCRIPTION no record carries more than max_send_fragment bytes
                n = min(self.max_send_fragment, num - tot)
                chunk = data if n == len(data) else bytes(view[tot : tot + n])  # no copy for a one-record write
                conn.send_application_data(chunk)
                if self._emit(conn.data_to_send()) < 0:
                    self._wnum, self._wpend, self._wpend_end, self._wbuf = tot, n, self._queued, data
                    return -1
                tot += n
                if self.mode & K.SSL_MODE_ENABLE_PARTIAL_WRITE:
                    break
        except TLSAlertError as exc:
            return self._fail_alert(exc)
        self._wnum = 0
        self._wbuf = None
        return tot

    def _send_key_update(self) -> None:
        assert self.conn is not None
        kind, self.key_update = self.key_update, K.SSL_KEY_UPDATE_NONE
        if self.shutdown & K.SSL_SENT_SHUTDOWN or self.conn.closed_for_writing:
            # RFC 9846 section 6.1: nothing follows our close_notify; the scheduled update has nothing left to
            # protect, so it is dropped (SSL_key_update then SSL_do_handshake after SSL_shutdown still return 1)
            return
        self.conn.send_key_update(kind == K.SSL_KEY_UPDATE_REQUESTED)
        self._pull()

    def _send_pha_request(self) -> None:
        """SSL_CTX_set_verify: NOTES the CertificateRequest of SSL_verify_client_post_handshake goes out with the
        next I/O operation."""
        if self.pha_state != "pending" or self.conn is None:
            return
        if self.shutdown & K.SSL_SENT_SHUTDOWN or self.conn.closed_for_writing:
            self.pha_state = None
            return
        self.pha_state = "sent"
        self.conn.request_post_handshake_auth()
        self._pull()

    def _perform_key_update(self) -> int:
        """SSL_key_update: DESCRIPTION the next I/O operation (a read as well as a write) performs the scheduled
        update; a full write BIO leaves it queued for later calls, as other output of a read is."""
        self._send_key_update()
        if self._out and self._flush() < 0:
            if self._failed is not None:
                return -1
            self.rwstate = K.SSL_NOTHING
        return 1

    # -- shutdown --------------------------------------------------------------------------------------------------

    def do_shutdown(self) -> int:
        """ssl3_shutdown: 0 after sending close_notify, 1 once the peer's has arrived too, -1 retry/failure."""
        if self.quiet_shutdown:
            self.shutdown = K.SSL_SENT_SHUTDOWN | K.SSL_RECEIVED_SHUTDOWN
            return 1
        conn = self.conn
        assert conn is not None
        try:
            if not self.shutdown & K.SSL_SENT_SHUTDOWN:
                self.shutdown |= K.SSL_SENT_SHUTDOWN
                if self.key_update != K.SSL_KEY_UPDATE_NONE:
                    # SSL_key_update: the update happens at the next I/O operation; SSL_shutdown is one, so the
                    # KeyUpdate goes out before the close_notify (found by the differential runner)
                    self._send_key_update()
                conn.close()
                self._pull()
                return -1 if self._flush() < 0 else self._both_closed()
            if self._out:
                return -1 if self._flush() < 0 else self._both_closed()
        except TLSAlertError as exc:
            return self._fail_alert(exc)
        if self.shutdown & K.SSL_RECEIVED_SHUTDOWN:
            return self._both_closed()
        # SSL_shutdown: DESCRIPTION the second call waits for the peer's close_notify; RETURN VALUES < 0 "can also
        # occur when not all data was read using SSL_read()": application data of the peer that was not read is
        # never thrown away unreported (as libssl 3.0: SSL_R_APPLICATION_DATA_AFTER_CLOSE_NOTIFY)

        def turn() -> int | None:
            if self.shutdown & K.SSL_RECEIVED_SHUTDOWN:
                return self._shutdown_state()
            if self._plain_len:
                return self._fail_ssl(K.SSL_R_APPLICATION_DATA_AFTER_CLOSE_NOTIFY, func="ssl3_read_bytes")
            return None

        def after(other: bool) -> int | None:
            self._pull()
            if self._out:
                self._flush()  # an answer (a KeyUpdate's) is best effort: a full BIO does not stop the wait
                self.rwstate = K.SSL_NOTHING
            if other and self.version == K.TLS1_2_VERSION and not self.mode & K.SSL_MODE_AUTO_RETRY \
                    and not self._reader.buffered:  # fmt: skip
                # SSL_CTX_set_mode: NOTES without SSL_MODE_AUTO_RETRY the call "can" end after a non-application
                # record; OpenSSL 3.0's waiting SSL_shutdown stops after a TLS 1.2 HelloRequest it leaves unanswered
                # (-1, SSL_ERROR_WANT_READ; found by the differential runner, branch diff404, seed 404)
                rbio = self.rbio
                assert rbio is not None
                BIO_clear_retry_flags(rbio)
                BIO_set_retry_read(rbio)
                self.rwstate = K.SSL_READING
                return -1
            return None

        def ended(got: Input) -> int:
            return -1 if self._input_ended(got, "ssl3_shutdown") < 0 else self._shutdown_state()

        return self._drive(turn, after, ended, _same)

    def _shutdown_state(self) -> int:
        """SSL_shutdown: RETURN VALUES 1 once both close_notify alerts are through, else 0; unread application data
        of the peer is an error."""
        if self._plain_len:
            return self._fail_ssl(K.SSL_R_APPLICATION_DATA_AFTER_CLOSE_NOTIFY, func="ssl3_read_bytes")
        return self._both_closed()

    def _both_closed(self) -> int:
        both = K.SSL_SENT_SHUTDOWN | K.SSL_RECEIVED_SHUTDOWN
        return 1 if self.shutdown == both and not self._out else 0


def _time_of(ctx: SSL_CTX) -> datetime.datetime:
    """The time, from the context's clock (``SSL_CTX.clock``, injected as the TLS core's is): certificate validity,
    session lifetimes and ticket ages all read it, so a test can move it instead of sleeping."""
    return datetime.datetime.fromtimestamp(ctx.clock(), datetime.UTC)


def _continue(other: bool) -> None:
    """An ``after`` step of :meth:`SSL._drive` that never ends the call."""
    return None


def _same(ret: int) -> int:
    return ret


def shutdown_error(s: SSL, func: str) -> int:
    # SSL_write after SSL_shutdown: libssl 3.0 SSL_R_PROTOCOL_IS_SHUTDOWN, not fatal
    s.rwstate = K.SSL_NOTHING
    raise_ssl(K.SSL_R_PROTOCOL_IS_SHUTDOWN, func)
    return -1


# --- BIO access ---------------------------------------------------------------------------------------------------
def _bio_write(bio: BIO, data: memoryview) -> int:
    if bio.init and not bio.freed:
        return bio.impl.write(bio, data)
    return BIO_write(bio, cast(bytes, data))  # BIO_write takes any buffer


# --- handle checks ------------------------------------------------------------------------------------------------
def live_ssl(s: object, func: str) -> SSL | None:
    if s is None:
        raise_ssl(err.ERR_R_PASSED_NULL_PARAMETER, func)
        return None
    if not isinstance(s, SSL) or s.freed:
        raise_ssl(err.ERR_R_PASSED_INVALID_ARGUMENT, func, "not a live SSL")
        return None
    return s


def is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
