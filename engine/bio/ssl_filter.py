"""SSL filter BIOs (BIO_f_ssl.pod): an SSL object behind the BIO interface, over any chain of BIOs.

Theory of operation
===================

An SSL BIO holds one SSL object (BIO_set_ssl, BIO_new_ssl). Whatever is pushed behind it with BIO_push becomes the
SSL's read and write BIO (BIO_f_ssl: DESCRIPTION), so the TLS records travel through the rest of the chain: a
memory BIO, one half of a BIO pair, a socket, fd, connect or accept BIO, or further filters. BIO_read / BIO_write /
BIO_puts on the SSL BIO are SSL_read / SSL_write; the first of them runs the handshake if there is none yet
(DESCRIPTION), and BIO_do_handshake runs it on its own (NOTES).

When an SSL call cannot finish, its SSL_get_error result becomes the SSL BIO's retry state, so BIO_should_retry()
and friends on the head of the chain tell the caller what to wait for:

=========================  ==============================================================================
SSL_get_error              SSL BIO
=========================  ==============================================================================
SSL_ERROR_WANT_READ        BIO_should_read (retry)
SSL_ERROR_WANT_WRITE       BIO_should_write (retry)
SSL_ERROR_WANT_CONNECT     BIO_should_io_special, reason BIO_RR_CONNECT (from the connect BIO behind)
SSL_ERROR_WANT_ACCEPT      BIO_should_io_special, reason BIO_RR_ACCEPT
SSL_ERROR_WANT_X509_LOOKUP BIO_should_io_special, reason BIO_RR_SSL_X509_LOOKUP
anything else              no retry (the error queue says why)
=========================  ==============================================================================

Control calls the SSL BIO does not handle itself go to the SSL's read BIO (NOTES: e.g. BIO_set_conn_hostname on the
head of BIO_new_ssl_connect reaches the connect BIO). The automatic renegotiation of BIO_set_ssl_renegotiate_bytes /
_timeout asks the SSL for a renegotiation (SSL_renegotiate) after that many bytes or seconds of successful I/O; a
TLS 1.3 connection has no renegotiation, so nothing is counted there.

Where the page is silent the engine does what OpenSSL 3.0's bio_ssl.c does (ctrl numbers of 3.0's bio.h; freeing
an SSL BIO with the close flag set calls SSL_shutdown before SSL_free; BIO_ssl_shutdown shuts down every SSL BIO of
the chain). The page's RETURN VALUES for BIO_set_ssl_renegotiate_bytes / _timeout (1 on success) are followed;
libssl returns the previous setting instead (an erratum recorded in its expectations). For
BIO_get_num_renegotiates the page contradicts itself (RETURN VALUES: 1 on success; DESCRIPTION: the count); the
engine returns the count, as DESCRIPTION says.
"""

from __future__ import annotations

import time
from typing import Any

from engine.bio.buffer import BIO_f_buffer
from engine.bio.chain import BIO_push, BIO_set_next
from engine.bio.conn import BIO_s_connect
from engine.bio.constants import (
    BIO_C_DO_STATE_MACHINE,
    BIO_CLOSE,
    BIO_CTRL_DUP,
    BIO_CTRL_FLUSH,
    BIO_CTRL_GET_CLOSE,
    BIO_CTRL_INFO,
    BIO_CTRL_PENDING,
    BIO_CTRL_POP,
    BIO_CTRL_PUSH,
    BIO_CTRL_RESET,
    BIO_CTRL_SET_CLOSE,
    BIO_CTRL_WPENDING,
    BIO_FLAGS_RWS,
    BIO_FLAGS_SHOULD_RETRY,
    BIO_RR_ACCEPT,
    BIO_RR_CONNECT,
    BIO_RR_SSL_X509_LOOKUP,
    BIO_TYPE_SSL,
)
from engine.bio.core import (
    BIO,
    BIO_METHOD,
    BIO_clear_retry_flags,
    BIO_ctrl,
    BIO_free,
    BIO_free_all,
    BIO_new,
    BIO_pending,
    BIO_set_retry_read,
    BIO_set_retry_special,
    BIO_set_retry_write,
    BIO_up_ref,
    BioImpl,
    live_bio,
)
from engine.ssl import constants as K
from engine.ssl.connection import SSL, live_ssl
from engine.ssl.io import (
    SSL_do_handshake,
    SSL_get_error,
    SSL_pending,
    SSL_read,
    SSL_renegotiate,
    SSL_shutdown,
    SSL_version,
)
from engine.ssl.io import SSL_write as _SSL_write
from engine.ssl.objects import (
    SSL_clear,
    SSL_dup,
    SSL_free,
    SSL_get_rbio,
    SSL_get_session,
    SSL_new,
    SSL_set_accept_state,
    SSL_set_bio,
    SSL_set_connect_state,
    SSL_set_session,
)

__all__ = [
    "BIO_f_ssl", "BIO_get_num_renegotiates", "BIO_get_ssl", "BIO_new_buffer_ssl_connect", "BIO_new_ssl",
    "BIO_new_ssl_connect", "BIO_set_ssl", "BIO_set_ssl_mode", "BIO_set_ssl_renegotiate_bytes",
    "BIO_set_ssl_renegotiate_timeout", "BIO_ssl_copy_session_id", "BIO_ssl_shutdown",
]  # fmt: skip

# bio.h 3.0
BIO_C_SET_SSL = 109
BIO_C_GET_SSL = 110
BIO_C_SSL_MODE = 119
BIO_C_SET_SSL_RENEGOTIATE_BYTES = 125
BIO_C_GET_SSL_NUM_RENEGOTIATES = 126
BIO_C_SET_SSL_RENEGOTIATE_TIMEOUT = 127
MIN_RENEGOTIATE_BYTES = 512  # BIO_f_ssl: DESCRIPTION "num must be at least 512 bytes"


class _SslFilter(BioImpl):
    def __init__(self) -> None:
        self.ssl: SSL | None = None
        self.renegotiate_bytes = 0
        self.renegotiate_timeout = 0
        self.byte_count = 0
        self.num_renegotiates = 0
        self.last_time = time.monotonic()

    # --- retry state from SSL_get_error (the table in the module docstring) -----------------------------------
    def _retry_from(self, bio: BIO, ssl: SSL, ret: int) -> None:
        BIO_clear_retry_flags(bio)
        bio.retry_reason = 0
        code = SSL_get_error(ssl, ret)
        if code == K.SSL_ERROR_WANT_READ:
            BIO_set_retry_read(bio)
        elif code == K.SSL_ERROR_WANT_WRITE:
            BIO_set_retry_write(bio)
        elif code == K.SSL_ERROR_WANT_X509_LOOKUP:
            BIO_set_retry_special(bio)
            bio.retry_reason = BIO_RR_SSL_X509_LOOKUP
        elif code == K.SSL_ERROR_WANT_ACCEPT:
            BIO_set_retry_special(bio)
            bio.retry_reason = BIO_RR_ACCEPT
        elif code == K.SSL_ERROR_WANT_CONNECT:
            BIO_set_retry_special(bio)
            bio.retry_reason = BIO_RR_CONNECT

    def _count(self, ssl: SSL, n: int) -> None:
        # BIO_f_ssl: DESCRIPTION renegotiate after every num bytes of I/O, or when the timeout has elapsed
        asked = False
        if self.renegotiate_bytes > 0:
            self.byte_count += n
            if self.byte_count > self.renegotiate_bytes:
                self.byte_count = 0
                asked = True
        if not asked and self.renegotiate_timeout > 0:
            now = time.monotonic()
            if now > self.last_time + self.renegotiate_timeout:
                self.last_time = now
                asked = True
        # a TLS 1.3 connection has no renegotiation: nothing is asked for, nothing counted
        if asked and SSL_version(ssl) != K.TLS1_3_VERSION and SSL_renegotiate(ssl) == 1:
            self.num_renegotiates += 1

    # --- I/O ----------------------------------------------------------------------------------------------------
    def read(self, bio: BIO, n: int) -> tuple[int, bytes]:
        ssl = self.ssl
        if ssl is None:
            return (0, b"")
        ret, data = SSL_read(ssl, n)
        self._retry_from(bio, ssl, ret)
        if ret > 0:
            self._count(ssl, ret)
        return (ret, data)

    def write(self, bio: BIO, data: memoryview) -> int:
        ssl = self.ssl
        if ssl is None:
            return 0
        ret = _SSL_write(ssl, bytes(data))
        self._retry_from(bio, ssl, ret)
        if ret > 0:
            self._count(ssl, ret)
        return ret

    def puts(self, bio: BIO, data: bytes) -> int | None:
        return self.write(bio, memoryview(data))

    # --- control ------------------------------------------------------------------------------------------------
    def _set_ssl(self, bio: BIO, ssl: Any, close: int) -> int:
        s = live_ssl(ssl, "BIO_set_ssl")
        if s is None:
            return 0
        if self.ssl is not None:
            self.destroy(bio)
        bio.shutdown = close
        self.ssl = s
        # OpenSSL 3.0: an SSL that already has a read BIO brings it along as the next BIO of the chain
        rbio = SSL_get_rbio(s)
        if rbio is not None:
            nxt = bio.next_bio
            if nxt is not None:
                BIO_push(rbio, nxt)
            BIO_set_next(bio, rbio)
            rbio.prev_bio = bio
            BIO_up_ref(rbio)
        bio.init = True
        return 1

    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        if cmd == BIO_C_SET_SSL:
            return self._set_ssl(bio, parg, larg)
        ssl = self.ssl
        if ssl is None or ssl.freed:
            return 0
        if cmd == BIO_CTRL_RESET:
            # BIO_f_ssl: DESCRIPTION shut the connection down, pass the reset on, back to the initial state
            SSL_shutdown(ssl)
            server = ssl.server
            if not SSL_clear(ssl):
                return 0
            SSL_set_accept_state(ssl) if server else SSL_set_connect_state(ssl)
            nxt = bio.next_bio
            if nxt is not None:
                return BIO_ctrl(nxt, cmd, larg, parg)
            return BIO_ctrl(ssl.rbio, cmd, larg, parg) if ssl.rbio is not None else 1
        if cmd == BIO_CTRL_INFO:
            return 0
        if cmd == BIO_C_SSL_MODE:
            # BIO_f_ssl: DESCRIPTION 1 client mode, 0 server mode
            SSL_set_connect_state(ssl) if larg else SSL_set_accept_state(ssl)
            return 1
        if cmd == BIO_C_SET_SSL_RENEGOTIATE_BYTES:
            if larg < MIN_RENEGOTIATE_BYTES:
                return 0
            self.renegotiate_bytes = larg
            return 1
        if cmd == BIO_C_SET_SSL_RENEGOTIATE_TIMEOUT:
            if larg <= 0:
                return 0
            self.renegotiate_timeout = larg
            self.last_time = time.monotonic()
            return 1
        if cmd == BIO_C_GET_SSL_NUM_RENEGOTIATES:
            return self.num_renegotiates
        if cmd == BIO_C_GET_SSL:
            if isinstance(parg, list):
                parg[:1] = [ssl]
                return 1
            return 0
        if cmd == BIO_CTRL_GET_CLOSE:
            return bio.shutdown
        if cmd == BIO_CTRL_SET_CLOSE:
            bio.shutdown = larg
            return 1
        if cmd == BIO_CTRL_WPENDING:
            return BIO_ctrl(ssl.wbio, cmd, larg, parg) if ssl.wbio is not None else 0
        if cmd == BIO_CTRL_PENDING:
            ret = SSL_pending(ssl)
            return ret if ret or ssl.rbio is None else BIO_pending(ssl.rbio)
        if cmd == BIO_CTRL_FLUSH:
            BIO_clear_retry_flags(bio)
            ret = BIO_ctrl(ssl.wbio, cmd, larg, parg) if ssl.wbio is not None else 0
            nxt = bio.next_bio
            if nxt is not None:
                bio.flags |= nxt.flags & (BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY)
                bio.retry_reason = nxt.retry_reason
            return ret
        if cmd == BIO_CTRL_PUSH:
            # BIO_f_ssl: DESCRIPTION a BIO pushed behind the SSL BIO becomes the SSL's read and write BIO
            nxt = bio.next_bio
            if nxt is not None and nxt is not ssl.rbio:
                BIO_up_ref(nxt)
                SSL_set_bio(ssl, nxt, nxt)
            return 1
        if cmd == BIO_CTRL_POP:
            if parg is bio:  # this BIO leaves its chain: the SSL lets go of the rest of it
                SSL_set_bio(ssl, None, None)
            return 1
        if cmd == BIO_C_DO_STATE_MACHINE:
            BIO_clear_retry_flags(bio)
            bio.retry_reason = 0
            ret = SSL_do_handshake(ssl)
            self._retry_from(bio, ssl, ret)
            if bio.retry_reason == BIO_RR_CONNECT and bio.next_bio is not None:
                bio.retry_reason = bio.next_bio.retry_reason
            return ret
        if cmd == BIO_CTRL_DUP:
            if isinstance(parg, BIO) and isinstance(parg.impl, _SslFilter):
                copy = SSL_dup(ssl)
                if copy is None:
                    return 0
                other = parg.impl
                if other.ssl is not None:
                    SSL_free(other.ssl)
                other.ssl = copy
                other.renegotiate_bytes, other.renegotiate_timeout = self.renegotiate_bytes, self.renegotiate_timeout
                parg.init = True
                return 1
            return 0
        # BIO_f_ssl: NOTES other ctrls go on through the filter (to the SSL's read BIO)
        return BIO_ctrl(ssl.rbio, cmd, larg, parg) if ssl.rbio is not None else 0

    def destroy(self, bio: BIO) -> None:
        ssl, self.ssl = self.ssl, None
        if ssl is None or ssl.freed or not bio.shutdown:
            return
        # BIO_f_ssl: DESCRIPTION with the close flag set the SSL is freed (OpenSSL 3.0 shuts it down first)
        SSL_shutdown(ssl)
        SSL_free(ssl)


BIO_F_SSL = BIO_METHOD(BIO_TYPE_SSL, "ssl", lambda: (_SslFilter(), False))


def BIO_f_ssl() -> BIO_METHOD:
    return BIO_F_SSL


def BIO_set_ssl(b: BIO | None, ssl: SSL | None, c: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_SSL, c, ssl)


def BIO_get_ssl(b: BIO | None) -> tuple[int, SSL | None]:
    """``BIO_get_ssl(b) -> (ret, ssl)``: the SSL object of an SSL BIO (ret 1), else (ret <= 0, None)."""
    box: list[Any] = [None]
    ret = BIO_ctrl(b, BIO_C_GET_SSL, 0, box)
    found = box[0] if isinstance(box[0], SSL) else None
    return (ret, found)


def BIO_set_ssl_mode(b: BIO | None, client: int) -> int:
    return BIO_ctrl(b, BIO_C_SSL_MODE, client, None)


def BIO_set_ssl_renegotiate_bytes(b: BIO | None, num: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_SSL_RENEGOTIATE_BYTES, num, None)


def BIO_set_ssl_renegotiate_timeout(b: BIO | None, seconds: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_SSL_RENEGOTIATE_TIMEOUT, seconds, None)


def BIO_get_num_renegotiates(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_GET_SSL_NUM_RENEGOTIATES, 0, None)


def BIO_new_ssl(ctx: Any, client: int) -> BIO | None:
    # BIO_f_ssl: DESCRIPTION an SSL BIO with a new SSL for ctx, client mode when client is non-zero
    ssl = SSL_new(ctx)
    if ssl is None:
        return None
    SSL_set_connect_state(ssl) if client else SSL_set_accept_state(ssl)
    bio = BIO_new(BIO_f_ssl())
    if bio is None or BIO_set_ssl(bio, ssl, BIO_CLOSE) != 1:
        SSL_free(ssl)
        BIO_free(bio)
        return None
    return bio


def BIO_new_ssl_connect(ctx: Any) -> BIO | None:
    # BIO_f_ssl: DESCRIPTION the chain SSL BIO -> connect BIO
    con = BIO_new(BIO_s_connect())
    if con is None:
        return None
    ssl = BIO_new_ssl(ctx, 1)
    if ssl is None:
        BIO_free(con)
        return None
    return BIO_push(ssl, con)


def BIO_new_buffer_ssl_connect(ctx: Any) -> BIO | None:
    # BIO_f_ssl: DESCRIPTION the chain buffering BIO -> SSL BIO -> connect BIO
    buf = BIO_new(BIO_f_buffer())
    if buf is None:
        return None
    chain = BIO_new_ssl_connect(ctx)
    if chain is None:
        BIO_free(buf)
        return None
    head = BIO_push(buf, chain)
    if head is None:
        BIO_free(buf)
        BIO_free_all(chain)
    return head


def _find_ssl(b: BIO | None, func: str) -> SSL | None:
    bio = live_bio(b, func)
    while bio is not None and not bio.freed:
        if isinstance(bio.impl, _SslFilter):
            return bio.impl.ssl
        bio = bio.next_bio
    return None


def BIO_ssl_copy_session_id(to: BIO | None, from_: BIO | None) -> int:
    # BIO_f_ssl: RETURN VALUES 1 on success, 0 on error (a chain without an SSL BIO, or one without an SSL)
    t = _find_ssl(to, "BIO_ssl_copy_session_id")
    f = _find_ssl(from_, "BIO_ssl_copy_session_id")
    if t is None or f is None:
        return 0
    # SSL_copy_session_id: the session of one SSL becomes the other's
    return 1 if SSL_set_session(t, SSL_get_session(f)) == 1 else 0


def BIO_ssl_shutdown(bio: BIO | None) -> None:
    # BIO_f_ssl: DESCRIPTION SSL_shutdown on the SSL of the chain's SSL BIO (OpenSSL 3.0: on every SSL BIO of it)
    b = live_bio(bio, "BIO_ssl_shutdown")
    while b is not None and not b.freed:
        if isinstance(b.impl, _SslFilter) and b.impl.ssl is not None and not b.impl.ssl.freed:
            SSL_shutdown(b.impl.ssl)
        b = b.next_bio
