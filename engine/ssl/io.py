"""The SSL I/O functions (SSL_connect.pod, SSL_accept.pod, SSL_do_handshake.pod, SSL_read.pod, SSL_write.pod,
SSL_shutdown.pod, SSL_get_error.pod, SSL_want.pod, SSL_key_update.pod, SSL_pending.pod): argument checks, then the
retry logic of :class:`~engine.ssl.connection.SSL` (its module opens with the theory of operation).
"""

from __future__ import annotations

from engine import err
from engine.bio import (
    BIO,
    BIO_should_io_special,
    BIO_should_read,
    BIO_should_write,
)
from engine.bio.constants import BIO_RR_ACCEPT, BIO_RR_CONNECT
from engine.ssl import constants as K
from engine.ssl.connection import (
    SSL,
    SSL_CIPHER,
    is_int,
    live_ssl,
    shutdown_error,
)
from engine.ssl.errors import raise_ssl
from engine.tls import TLSAlertError

__all__ = [
    "SSL_CIPHER_get_name",
    "SSL_accept",
    "SSL_connect",
    "SSL_do_handshake",
    "SSL_get_current_cipher",
    "SSL_get_error",
    "SSL_get_key_update_type",
    "SSL_get_secure_renegotiation_support",
    "SSL_get_shutdown",
    "SSL_get_verify_result",
    "SSL_get_version",
    "SSL_has_pending",
    "SSL_in_before",
    "SSL_in_init",
    "SSL_is_init_finished",
    "SSL_key_update",
    "SSL_peek",
    "SSL_peek_ex",
    "SSL_pending",
    "SSL_read",
    "SSL_read_ex",
    "SSL_renegotiate",
    "SSL_renegotiate_abbreviated",
    "SSL_renegotiate_pending",
    "SSL_sendfile",
    "SSL_session_reused",
    "SSL_set_post_handshake_auth",
    "SSL_set_retry_verify",
    "SSL_set_shutdown",
    "SSL_shutdown",
    "SSL_verify_client_post_handshake",
    "SSL_version",
    "SSL_want",
    "SSL_want_async",
    "SSL_want_async_job",
    "SSL_want_client_hello_cb",
    "SSL_want_nothing",
    "SSL_want_read",
    "SSL_want_retry_verify",
    "SSL_want_write",
    "SSL_want_x509_lookup",
    "SSL_write",
    "SSL_write_ex",
]


# --- handshake (SSL_connect.pod, SSL_accept.pod, SSL_do_handshake.pod) ----------------------------------------------
def _io_entry(ssl: object, func: str) -> SSL | None:
    """Common checks of the I/O functions: a live SSL with a role that has not failed."""
    s = live_ssl(ssl, func)
    if s is None:
        return None
    s.rwstate = K.SSL_NOTHING
    if not s.role_set:
        # SSL_set_connect_state: NOTES the role must be set first (libssl 3.0: SSL_R_CONNECTION_TYPE_NOT_SET from
        # the handshake functions, SSL_R_UNINITIALIZED from read, write and shutdown)
        handshake = func in ("SSL_do_handshake", "SSL_connect", "SSL_accept")
        raise_ssl(K.SSL_R_CONNECTION_TYPE_NOT_SET if handshake else K.SSL_R_UNINITIALIZED, func)
        return None
    if s._check_failed():
        return None
    return s


def SSL_do_handshake(ssl: SSL | None) -> int:
    s = _io_entry(ssl, "SSL_do_handshake")
    if s is None:
        return -1
    if s.init_finished:
        renegotiation = s.reneg_scheduled is not None or s._in_renegotiation_handshake()
        if s.key_update == K.SSL_KEY_UPDATE_NONE and not renegotiation and s.pha_state != "pending":
            # SSL_do_handshake: RETURN VALUES 1, the handshake is complete; output of an unfinished SSL_write waits
            # for that write to be repeated (libssl 3.0 alike; the engine used to flush it here and answer
            # SSL_ERROR_WANT_WRITE when the BIO was full: found by the differential runner)
            return 1
        # SSL_key_update: DESCRIPTION the update is sent by the next SSL_do_handshake or write
        try:
            if s.key_update != K.SSL_KEY_UPDATE_NONE:
                s._send_key_update()
            s._send_pha_request()  # SSL_CTX_set_verify: NOTES SSL_do_handshake sends the CertificateRequest
        except TLSAlertError as exc:
            return s._fail_alert(exc)
        if renegotiation:
            # SSL_key_update: DESCRIPTION a scheduled renegotiation starts at the next I/O call, this one included
            return s.handshake()
        return 1 if s._flush() > 0 else -1
    return s.handshake()


def SSL_connect(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_connect")
    if s is None:
        return -1
    if not s.role_set:
        # SSL_set_connect_state: NOTES SSL_connect sets the client role itself when none is set (as libssl 3.0 does,
        # a role set before is kept)
        s.server = False
        s.role_set = True
    return SSL_do_handshake(s)


def SSL_accept(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_accept")
    if s is None:
        return -1
    if not s.role_set:
        s.server = True
        s.role_set = True
    return SSL_do_handshake(s)


def SSL_in_init(s: SSL | None) -> int:
    ssl = live_ssl(s, "SSL_in_init")
    return 0 if ssl is None or ssl.init_finished else 1


def SSL_in_before(s: SSL | None) -> int:
    ssl = live_ssl(s, "SSL_in_before")
    return 1 if ssl is not None and ssl.in_before else 0


def SSL_is_init_finished(s: SSL | None) -> int:
    ssl = live_ssl(s, "SSL_is_init_finished")
    return 1 if ssl is not None and ssl.init_finished else 0


# --- reading (SSL_read.pod, SSL_pending.pod) -------------------------------------------------------------------------
def _read(ssl: object, num: object, peek: bool, func: str) -> tuple[int, bytes]:
    s = _io_entry(ssl, func)
    if s is None:
        return (-1, b"")
    if not is_int(num) or num < 0:  # type: ignore[operator]
        raise_ssl(K.SSL_R_BAD_LENGTH, func)
        return (-1, b"")
    assert isinstance(num, int)
    # num == 0: SSL_read.pod is silent; libssl 3.0 still carries out a pending handshake and reads a record into
    # its buffer before returning 0 (found by the differential runner), and so does the engine.
    ret = s.read(num, peek, func)
    if s.mode & K.SSL_MODE_RELEASE_BUFFERS:
        s._idle()  # SSL_CTX_set_mode: a read buffer no longer needed is released
    return ret


def SSL_read(ssl: SSL | None, num: int) -> tuple[int, bytes]:
    """``SSL_read(ssl, num) -> (ret, data)``."""
    if type(ssl) is SSL and type(num) is int and num >= 0 and not ssl.freed and ssl.role_set and ssl._failed is None:
        # the bulk path: the checks of _io_entry and _read, inline, when every one of them passes
        ssl.rwstate = K.SSL_NOTHING
        ret = ssl.read(num, False, "SSL_read")
        if ssl.mode & K.SSL_MODE_RELEASE_BUFFERS:
            ssl._idle()  # SSL_CTX_set_mode: a read buffer no longer needed is released
        return ret
    return _read(ssl, num, False, "SSL_read")


def SSL_peek(ssl: SSL | None, num: int) -> tuple[int, bytes]:
    return _read(ssl, num, True, "SSL_peek")


def SSL_read_ex(ssl: SSL | None, num: int) -> tuple[int, bytes]:
    # SSL_read: RETURN VALUES SSL_read_ex "1 for success, 0 for failure"
    ret, data = _read(ssl, num, False, "SSL_read_ex")
    return (1, data) if ret > 0 else (0, b"")


def SSL_peek_ex(ssl: SSL | None, num: int) -> tuple[int, bytes]:
    ret, data = _read(ssl, num, True, "SSL_peek_ex")
    return (1, data) if ret > 0 else (0, b"")


def SSL_pending(ssl: SSL | None) -> int:
    # SSL_pending: processed application data that can be read without touching the transport
    s = live_ssl(ssl, "SSL_pending")
    return 0 if s is None else s._plain_len


def SSL_has_pending(s: SSL | None) -> int:
    # SSL_pending: SSL_has_pending also counts unprocessed bytes of a record already read from the BIO (the record
    # reader's `buffered`, which SSL_read asks too)
    ssl = live_ssl(s, "SSL_has_pending")
    if ssl is None:
        return 0
    return 1 if ssl._plain_len or ssl._reader.buffered else 0


# --- writing (SSL_write.pod) ------------------------------------------------------------------------------------------
def _write(ssl: object, buf: object, num: int | None, moved: bool, func: str) -> int:
    s = _io_entry(ssl, func)
    if s is None:
        return -1
    if not isinstance(buf, bytes | bytearray | memoryview):
        raise_ssl(err.ERR_R_PASSED_INVALID_ARGUMENT, func)
        return -1
    n = len(buf) if num is None else num
    if not is_int(n) or n < 0 or n > len(buf):
        raise_ssl(K.SSL_R_BAD_LENGTH, func)
        return -1
    if n == 0:
        # SSL_write: WARNINGS num = 0 fails (libssl 3.0: 0, empty queue, SSL_ERROR_SYSCALL)
        return _write_nothing(s, func)
    return s.write(bytes(buf) if not isinstance(buf, bytes) else buf, n, moved, func)


def _write_nothing(s: SSL, func: str) -> int:
    """A write of 0 bytes: 0, or -1 when it cannot get that far. SSL_write: NOTES a write carries out the pending
    handshake first, and a write after SSL_shutdown fails, whatever the length (libssl 3.0 alike; the engine
    returned at once before the differential runner found the difference)."""
    if s.shutdown & K.SSL_SENT_SHUTDOWN:
        return shutdown_error(s, func)
    if s._wnum or (s._wpend and s._flushed < s._wpend_end):
        # SSL_write: WARNINGS a write that asked for a retry must be repeated with the same arguments; a repeat of
        # 0 bytes is shorter, and fails as any shorter repeat does (libssl 3.0: SSL_R_BAD_LENGTH, fatal; found by
        # the differential runner)
        return s._fail_ssl(K.SSL_R_BAD_LENGTH, func=func)
    if not s.init_finished and s.handshake() <= 0:
        return -1
    conn = s.conn
    if s.reneg_scheduled is not None and conn is not None:
        # SSL_key_update: DESCRIPTION a scheduled renegotiation starts at the next I/O call, a write of 0 bytes
        # too (libssl 3.0 alike: its write carries the renegotiation on before it looks at the length; found by the
        # differential runner, seed 404)
        try:
            s.start_renegotiation()
            if s._in_renegotiation_handshake() and s._handshake_steps(conn) <= 0:
                return -1
        except TLSAlertError as exc:
            return s._fail_alert(exc)
    return 0


def SSL_write(ssl: SSL | None, buf: bytes, num: int | None = None, *, moved: bool = False) -> int:
    if num is None and type(buf) is bytes and buf and type(ssl) is SSL and not ssl.freed and ssl.role_set \
            and ssl._failed is None:  # fmt: skip
        # the bulk path: the checks of _io_entry and _write, inline, when every one of them passes
        ssl.rwstate = K.SSL_NOTHING
        return ssl.write(buf, len(buf), moved, "SSL_write")
    return _write(ssl, buf, num, moved, "SSL_write")


def SSL_write_ex(ssl: SSL | None, buf: bytes, num: int | None = None, *, moved: bool = False) -> tuple[int, int]:
    """``SSL_write_ex(ssl, buf, num=None) -> (ret, written)``."""
    n = len(buf) if num is None and isinstance(buf, bytes | bytearray | memoryview) else num
    if n == 0:
        # SSL_write: WARNINGS SSL_write_ex with num = 0 is allowed and writes nothing (libssl 3.0: 1, written 0)
        s = _io_entry(ssl, "SSL_write_ex")
        return (0, 0) if s is None or _write_nothing(s, "SSL_write_ex") < 0 else (1, 0)
    ret = _write(ssl, buf, num, moved, "SSL_write_ex")
    return (1, ret) if ret > 0 else (0, 0)


def SSL_sendfile(s: SSL | None, fd: int, offset: int, size: int, flags: int) -> int:
    # SSL_write: DESCRIPTION SSL_sendfile needs kernel TLS, which the engine never has (libssl 3.0: -1,
    # SSL_R_UNINITIALIZED)
    ssl = _io_entry(s, "SSL_sendfile")
    if ssl is None:
        return -1
    if ssl.shutdown & K.SSL_SENT_SHUTDOWN:
        return shutdown_error(ssl, "SSL_sendfile")
    raise_ssl(K.SSL_R_UNINITIALIZED, "SSL_sendfile", "kernel TLS is not available")
    return -1


# --- shutdown (SSL_shutdown.pod, SSL_set_shutdown.pod) -------------------------------------------------------------
def SSL_shutdown(s: SSL | None) -> int:
    ssl = _io_entry(s, "SSL_shutdown")  # the guard of every I/O function: a live SSL, a role, not failed
    if ssl is None:
        return -1
    if not ssl.init_finished:
        # SSL_shutdown: the page is silent on a handshake that has not finished (or not started); as libssl 3.0,
        # the call is refused (SSL_R_SHUTDOWN_WHILE_IN_INIT) and nothing is sent
        raise_ssl(K.SSL_R_SHUTDOWN_WHILE_IN_INIT, "SSL_shutdown")
        return -1
    return ssl.do_shutdown()


def SSL_set_shutdown(ssl: SSL | None, mode: int) -> None:
    s = live_ssl(ssl, "SSL_set_shutdown")
    if s is not None:
        s.shutdown = mode & (K.SSL_SENT_SHUTDOWN | K.SSL_RECEIVED_SHUTDOWN)


def SSL_get_shutdown(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_get_shutdown")
    return 0 if s is None else s.shutdown


# --- SSL_get_error.pod, SSL_want.pod ----------------------------------------------------------------------------------
def _retry_code(bio: BIO | None, primary: int) -> int | None:
    if bio is None:
        return None
    if primary == K.SSL_ERROR_WANT_READ and BIO_should_read(bio):
        return K.SSL_ERROR_WANT_READ
    if BIO_should_write(bio):
        return K.SSL_ERROR_WANT_WRITE
    if BIO_should_read(bio):
        return K.SSL_ERROR_WANT_READ
    if BIO_should_io_special(bio):
        reason = bio.retry_reason
        if reason == BIO_RR_CONNECT:
            return K.SSL_ERROR_WANT_CONNECT
        if reason == BIO_RR_ACCEPT:
            return K.SSL_ERROR_WANT_ACCEPT
        return K.SSL_ERROR_SYSCALL
    return None


def SSL_get_error(ssl: SSL | None, ret: int) -> int:
    # SSL_get_error: RETURN VALUES, in libssl's order: ret > 0, the error queue, the retry state, the shutdown state
    if is_int(ret) and ret > 0:
        return K.SSL_ERROR_NONE
    code = err.ERR_peek_error()
    if code:
        return K.SSL_ERROR_SYSCALL if err.ERR_GET_LIB(code) == err.ERR_LIB_SYS else K.SSL_ERROR_SSL
    s = ssl if isinstance(ssl, SSL) and not ssl.freed else None
    if s is None:
        return K.SSL_ERROR_SSL
    if s.rwstate == K.SSL_READING:
        found = _retry_code(s.rbio, K.SSL_ERROR_WANT_READ)
        if found is not None:
            return found
    if s.rwstate == K.SSL_WRITING:
        found = _retry_code(s.wbio, K.SSL_ERROR_WANT_WRITE)
        if found is not None:
            return found
    if s.rwstate == K.SSL_X509_LOOKUP:
        return K.SSL_ERROR_WANT_X509_LOOKUP
    if s.rwstate == K.SSL_RETRY_VERIFY:
        return K.SSL_ERROR_WANT_RETRY_VERIFY
    if s.rwstate == K.SSL_CLIENT_HELLO_CB:
        return K.SSL_ERROR_WANT_CLIENT_HELLO_CB
    if s.shutdown & K.SSL_RECEIVED_SHUTDOWN and s.close_notify:
        return K.SSL_ERROR_ZERO_RETURN
    return K.SSL_ERROR_SYSCALL


def SSL_set_retry_verify(ssl: SSL | None) -> int:
    """From inside the certificate verify callback: suspend the handshake (SSL_want: SSL_RETRY_VERIFY)."""
    s = live_ssl(ssl, "SSL_set_retry_verify")
    if s is None or not s._verify_wait:
        return 0
    s.rwstate = K.SSL_RETRY_VERIFY
    return 1


def SSL_want(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_want")
    return K.SSL_NOTHING if s is None else s.rwstate


def SSL_want_nothing(ssl: SSL | None) -> int:
    return int(SSL_want(ssl) == K.SSL_NOTHING)


def SSL_want_read(ssl: SSL | None) -> int:
    return int(SSL_want(ssl) == K.SSL_READING)


def SSL_want_write(ssl: SSL | None) -> int:
    return int(SSL_want(ssl) == K.SSL_WRITING)


def SSL_want_x509_lookup(ssl: SSL | None) -> int:
    return int(SSL_want(ssl) == K.SSL_X509_LOOKUP)


def SSL_want_retry_verify(ssl: SSL | None) -> int:
    return int(SSL_want(ssl) == K.SSL_RETRY_VERIFY)


def SSL_want_async(ssl: SSL | None) -> int:
    return int(SSL_want(ssl) == K.SSL_ASYNC_PAUSED)


def SSL_want_async_job(ssl: SSL | None) -> int:
    return int(SSL_want(ssl) == K.SSL_ASYNC_NO_JOBS)


def SSL_want_client_hello_cb(ssl: SSL | None) -> int:
    return int(SSL_want(ssl) == K.SSL_CLIENT_HELLO_CB)


# --- KeyUpdate, renegotiation (SSL_key_update.pod) --------------------------------------------------------------------
def SSL_set_post_handshake_auth(s: SSL | None, val: int) -> None:
    """SSL_CTX_set_verify: DESCRIPTION a client offers the post-handshake authentication extension when val != 0
    (NOTES: before SSL_connect, which builds the ClientHello)."""
    ssl = live_ssl(s, "SSL_set_post_handshake_auth")
    if ssl is not None:
        ssl.post_handshake_auth = bool(val)


def SSL_verify_client_post_handshake(s: SSL | None) -> int:
    """SSL_CTX_set_verify: RETURN VALUES 1 when the CertificateRequest is queued (sent at the next I/O, NOTES), 0
    with the reason on the error queue. The page names the conditions (TLS 1.3, verify flags, the client's
    extension, one request at a time); the reason codes are libssl 3.0's, checked in its order."""
    ssl = live_ssl(s, "SSL_verify_client_post_handshake")
    if ssl is None:
        return 0
    func = "SSL_verify_client_post_handshake"
    hs = ssl.conn.handshake if ssl.conn is not None else None
    if ssl.version != K.TLS1_3_VERSION:
        raise_ssl(K.SSL_R_WRONG_SSL_VERSION, func)
        return 0
    if not ssl.server:
        raise_ssl(K.SSL_R_NOT_SERVER, func)
        return 0
    if not ssl.init_finished:
        raise_ssl(K.SSL_R_STILL_IN_INIT, func)
        return 0
    if not getattr(hs, "client_pha", False):
        raise_ssl(K.SSL_R_EXTENSION_NOT_RECEIVED, func)
        return 0
    if ssl.pha_state == "pending":
        raise_ssl(K.SSL_R_REQUEST_PENDING, func)
        return 0
    if ssl.pha_state == "sent":
        raise_ssl(K.SSL_R_REQUEST_SENT, func)
        return 0
    if not ssl.verify_mode & K.SSL_VERIFY_PEER:
        # DESCRIPTION: SSL_VERIFY_PEER must be set (libssl 3.0: SSL_R_INVALID_CONFIG)
        raise_ssl(K.SSL_R_INVALID_CONFIG, func)
        return 0
    ssl.pha_state = "pending"
    return 1


def SSL_key_update(s: SSL | None, updatetype: int) -> int:
    ssl = live_ssl(s, "SSL_key_update")
    if ssl is None:
        return 0
    conn = ssl.conn
    known = ssl.version if ssl.init_finished or conn is None else conn.negotiated_version
    if known != K.TLS1_3_VERSION:
        # SSL_key_update.pod: TLS 1.3 only; the page gives no reason code, libssl 3.0 checks the version first, so
        # before the hello that picks the version is processed the reason is SSL_R_WRONG_SSL_VERSION, after it
        # (TLS 1.3 chosen, handshake unfinished) SSL_R_STILL_IN_INIT (both found by the differential runner)
        raise_ssl(K.SSL_R_WRONG_SSL_VERSION, "SSL_key_update")
        return 0
    if updatetype not in (K.SSL_KEY_UPDATE_NOT_REQUESTED, K.SSL_KEY_UPDATE_REQUESTED):
        raise_ssl(K.SSL_R_INVALID_KEY_UPDATE_TYPE, "SSL_key_update")
        return 0
    if not ssl.init_finished or ssl.key_update != K.SSL_KEY_UPDATE_NONE:
        # page silent; libssl 3.0: an update not yet sent keeps the SSL "in init", so a second call before the next
        # I/O operation fails with SSL_R_STILL_IN_INIT (found by the differential runner)
        raise_ssl(K.SSL_R_STILL_IN_INIT, "SSL_key_update")
        return 0
    if ssl.version != K.TLS1_3_VERSION:
        # SSL_key_update: DESCRIPTION only after TLSv1.3 has been negotiated (libssl 3.0: SSL_R_WRONG_SSL_VERSION)
        raise_ssl(K.SSL_R_WRONG_SSL_VERSION, "SSL_key_update")
        return 0
    if ssl._wpend and ssl._flushed < ssl._wpend_end:
        raise_ssl(K.SSL_R_BAD_WRITE_RETRY, "SSL_key_update")
        return 0
    ssl.key_update = updatetype
    return 1


def SSL_get_key_update_type(s: SSL | None) -> int:
    ssl = live_ssl(s, "SSL_get_key_update_type")
    if ssl is None:
        return K.SSL_KEY_UPDATE_NONE
    if ssl.key_update == K.SSL_KEY_UPDATE_NONE and ssl.conn is not None and ssl.conn.key_update_owed:
        # SSL_key_update: DESCRIPTION the type of an update scheduled but not yet performed; the answer to the
        # peer's request is one, sent with the next write (libssl 3.0 alike)
        return K.SSL_KEY_UPDATE_NOT_REQUESTED
    return ssl.key_update


def _schedule_renegotiation(s: SSL | None, func: str, kind: str) -> int:
    ssl = live_ssl(s, func)
    if ssl is None:
        return 0
    conn = ssl.conn
    if ssl.version != K.TLS1_2_VERSION or conn is None or not ssl.init_finished:
        # SSL_key_update: DESCRIPTION only for connections that negotiated TLSv1.2 or less
        raise_ssl(K.SSL_R_WRONG_SSL_VERSION, func)
        return 0
    if ssl.options & K.SSL_OP_NO_RENEGOTIATION:
        # SSL_CTX_set_options: SSL_OP_NO_RENEGOTIATION disables all renegotiation (no HelloRequest either)
        raise_ssl(K.SSL_R_NO_RENEGOTIATION, func)
        return 0
    if not conn.secure_renegotiation:
        # RFC 5746: never with a peer that lacks secure renegotiation (libssl: unsafe legacy renegotiation)
        raise_ssl(K.SSL_R_UNSAFE_LEGACY_RENEGOTIATION_DISABLED, func)
        return 0
    if ssl.reneg_scheduled is None:
        # SSL_key_update: DESCRIPTION on a server both functions send the same request
        ssl.reneg_scheduled = "full" if ssl.server else kind
    return 1


def SSL_renegotiate(s: SSL | None) -> int:
    # SSL_key_update: DESCRIPTION schedules a new full handshake, started at the next I/O call (1, or 0 on error)
    return _schedule_renegotiation(s, "SSL_renegotiate", "full")


def SSL_renegotiate_abbreviated(s: SSL | None) -> int:
    # SSL_key_update: DESCRIPTION like SSL_renegotiate, but a client tries to resume its session
    return _schedule_renegotiation(s, "SSL_renegotiate_abbreviated", "abbreviated")


def SSL_renegotiate_pending(s: SSL | None) -> int:
    # SSL_key_update: RETURN VALUES 1 while a renegotiation (request) is scheduled and not yet carried out
    ssl = live_ssl(s, "SSL_renegotiate_pending")
    return 1 if ssl is not None and ssl.renegotiation_pending else 0


def SSL_get_secure_renegotiation_support(s: SSL | None) -> int:
    # SSL_CTX_set_options: "Secure Renegotiation" the peer supports RFC 5746 (the SSL_CTRL_GET_RI_SUPPORT macro)
    ssl = live_ssl(s, "SSL_get_secure_renegotiation_support")
    return 1 if ssl is not None and ssl.conn is not None and ssl.conn.secure_renegotiation else 0


def SSL_session_reused(s: SSL | None) -> int:
    # SSL_session_reused: 1 if the last handshake resumed a session, else 0
    ssl = live_ssl(s, "SSL_session_reused")
    return 1 if ssl is not None and ssl.reused else 0


# --- connection information -------------------------------------------------------------------------------------
def SSL_version(s: SSL | None) -> int:
    ssl = live_ssl(s, "SSL_version")
    return 0 if ssl is None else ssl.version


def SSL_get_version(ssl: SSL | None) -> str:
    s = live_ssl(ssl, "SSL_get_version")
    names = {K.TLS1_3_VERSION: "TLSv1.3", K.TLS1_2_VERSION: "TLSv1.2"}
    return "unknown" if s is None else names.get(s.version, "unknown")


def SSL_get_current_cipher(ssl: SSL | None) -> SSL_CIPHER | None:
    s = live_ssl(ssl, "SSL_get_current_cipher")
    return None if s is None else s.cipher


def SSL_CIPHER_get_name(cipher: SSL_CIPHER | None) -> str:
    # SSL_CIPHER_get_name: "(NONE)" for NULL; TLS 1.3 suites under their IANA names
    return "(NONE)" if not isinstance(cipher, SSL_CIPHER) else cipher.name


def SSL_get_verify_result(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_get_verify_result")
    if s is None:
        return K.X509_V_ERR_UNSPECIFIED
    # SSL_CTX_set_verify: NOTES every chain the peer sent went through the verification procedure
    # (engine/ssl/verify.py), also when its failure did not end the handshake, so the result is always recorded
    return s.verify_result

