"""Connect and accept BIOs (BIO_s_connect.pod, BIO_s_accept.pod): a socket BIO that makes its own connection.

A connect BIO holds ``host:port``; its first I/O (or BIO_do_connect) creates the socket and connects. In
non-blocking mode (BIO_set_nbio) a connect still in progress returns -1 with ``BIO_should_io_special`` and retry
reason ``BIO_RR_CONNECT``, which SSL_get_error reports as SSL_ERROR_WANT_CONNECT.

An accept BIO holds ``host:port`` to listen on; the first BIO_do_accept binds and listens (port 0: the kernel picks
one, BIO_get_accept_port tells which). The next I/O (or BIO_do_accept) accepts one connection; with
BIO_set_nbio_accept and nobody waiting, that is -1 with ``BIO_RR_ACCEPT`` (SSL_ERROR_WANT_ACCEPT). Unlike libcrypto,
which chains a new socket BIO behind the accept BIO, the engine's accept BIO carries the accepted connection itself.

Once connected, reads and writes behave as on BIO_s_socket: EAGAIN is a retry for the direction, 0 is end of file,
other failures set errno and return -1 without retry.
"""

from __future__ import annotations

import errno as _errno
import os
import select
import socket
from typing import Any

from engine import err
from engine.bio.constants import (
    BIO_C_DO_STATE_MACHINE,
    BIO_C_GET_FD,
    BIO_C_SET_CONNECT,
    BIO_C_SET_NBIO,
    BIO_CTRL_DUP,
    BIO_CTRL_EOF,
    BIO_CTRL_FLUSH,
    BIO_CTRL_PENDING,
    BIO_CTRL_WPENDING,
    BIO_FLAGS_IN_EOF,
    BIO_R_ACCEPT_ERROR,
    BIO_R_CONNECT_ERROR,
    BIO_R_INVALID_ARGUMENT,
    BIO_R_UNABLE_TO_BIND_SOCKET,
    BIO_RR_ACCEPT,
    BIO_RR_CONNECT,
    BIO_TYPE_ACCEPT,
    BIO_TYPE_CONNECT,
)
from engine.bio.core import (
    BIO,
    BIO_METHOD,
    BIO_clear_retry_flags,
    BIO_ctrl,
    BIO_new,
    BIO_set_retry_read,
    BIO_set_retry_special,
    BIO_set_retry_write,
    BIO_should_retry,
    BioImpl,
)

__all__ = [
    "BIO_do_accept", "BIO_do_connect", "BIO_get_accept_port", "BIO_new_accept", "BIO_new_connect",
    "BIO_s_accept", "BIO_s_connect", "BIO_set_nbio", "BIO_set_nbio_accept",
]  # fmt: skip

BIO_C_SET_ACCEPT = 118  # bio.h 3.0
BIO_C_GET_ACCEPT = 124
_RETRY = frozenset({_errno.EAGAIN, _errno.EWOULDBLOCK, _errno.EINTR})


def _split(host_port: str) -> tuple[str, str]:
    if host_port.startswith("["):
        host, _, rest = host_port[1:].partition("]")
        return host, rest.lstrip(":")
    host, sep, port = host_port.rpartition(":")
    return (host, port) if sep else (host_port, "")


def _text(v: object) -> str | None:
    if isinstance(v, bytes):
        return v.decode("ascii", "replace")
    return v if isinstance(v, str) else None


class _Stream(BioImpl):
    """What connect and accept BIOs share once a connection exists: socket I/O on ``fd``."""

    def __init__(self) -> None:
        self.host = ""
        self.port = ""
        self.nbio = False
        self.fd = -1

    def _ready(self, bio: BIO) -> int:
        """1 when a connection exists, else -1 with the retry state set (or a failure)."""
        raise NotImplementedError

    def read(self, bio: BIO, n: int) -> tuple[int, bytes]:
        BIO_clear_retry_flags(bio)
        if self._ready(bio) <= 0:
            return (-1, b"")
        try:
            data = os.read(self.fd, min(n, 1 << 20))
        except OSError as e:
            err.set_errno(e.errno or _errno.EIO)
            if e.errno in _RETRY:
                BIO_set_retry_read(bio)
            return (-1, b"")
        if not data:
            bio.flags |= BIO_FLAGS_IN_EOF
            return (0, b"")
        return (len(data), data)

    def write(self, bio: BIO, data: memoryview) -> int:
        BIO_clear_retry_flags(bio)
        if self._ready(bio) <= 0:
            return -1
        try:
            return os.write(self.fd, data)
        except OSError as e:
            err.set_errno(e.errno or _errno.EIO)
            if e.errno in _RETRY:
                BIO_set_retry_write(bio)
            return -1

    def _common_ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int | None:
        if cmd == BIO_C_SET_NBIO:
            self.nbio = bool(larg)
            if self.fd >= 0:
                os.set_blocking(self.fd, not self.nbio)
            return 1
        if cmd == BIO_C_GET_FD:
            return self.fd
        if cmd == BIO_CTRL_EOF:
            return 1 if bio.flags & BIO_FLAGS_IN_EOF else 0
        if cmd in (BIO_CTRL_PENDING, BIO_CTRL_WPENDING):
            return 0
        if cmd in (BIO_CTRL_FLUSH, BIO_CTRL_DUP):
            return 1
        return None

    def destroy(self, bio: BIO) -> None:
        if self.fd >= 0 and bio.shutdown:
            try:
                os.close(self.fd)
            except OSError as e:
                err.set_errno(e.errno or _errno.EIO)
        self.fd = -1


class _Connect(_Stream):
    def __init__(self) -> None:
        super().__init__()
        self.connecting = False

    def _ready(self, bio: BIO) -> int:
        if self.fd >= 0 and not self.connecting:
            return 1
        if self.fd < 0:
            try:
                infos = socket.getaddrinfo(self.host or None, self.port or None, type=socket.SOCK_STREAM)
                family, kind, proto, _, addr = infos[0]
                s = socket.socket(family, kind, proto)
            except (OSError, UnicodeError) as e:
                err.raise_sys(getattr(e, "errno", None) or _errno.EINVAL, "calling socket()", func="BIO_do_connect")
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_CONNECT_ERROR, func="BIO_do_connect")
                return -1
            s.setblocking(not self.nbio)
            code = s.connect_ex(addr)
            self.fd = s.detach()
            if code in (0, _errno.EISCONN):
                return 1
            if code not in (_errno.EINPROGRESS, _errno.EALREADY, _errno.EWOULDBLOCK):
                return self._failed(bio, code)
            self.connecting = True
        # BIO_s_connect: DESCRIPTION a non-blocking connect in progress asks for a retry (BIO_RR_CONNECT)
        _, writable, _ = select.select([], [self.fd], [], 0)
        if not writable:
            bio.retry_reason = BIO_RR_CONNECT
            BIO_set_retry_special(bio)
            return -1
        probe = socket.socket(fileno=self.fd)
        try:
            code = probe.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        finally:
            probe.detach()
        if code:
            return self._failed(bio, code)
        self.connecting = False
        return 1

    def _failed(self, bio: BIO, code: int) -> int:
        err.raise_sys(code, "calling connect()", func="BIO_do_connect")
        err.ERR_raise(err.ERR_LIB_BIO, err.BIO_R_NBIO_CONNECT_ERROR if self.nbio else BIO_R_CONNECT_ERROR,
                      func="BIO_do_connect")  # fmt: skip
        self.destroy(bio)
        self.connecting = False
        return -1

    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        common = self._common_ctrl(bio, cmd, larg, parg)
        if common is not None:
            return common
        if cmd == BIO_C_SET_CONNECT:
            text = _text(parg)
            if text is None:
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_set_conn_hostname")
                return 0
            if larg == 0:
                self.host, port = _split(text)
                self.port = port or self.port
            elif larg == 1:
                self.port = text
            bio.init = True
            return 1
        if cmd == BIO_C_DO_STATE_MACHINE:
            BIO_clear_retry_flags(bio)
            return 1 if self._ready(bio) > 0 else -1 if BIO_should_retry(bio) else 0
        return super().ctrl(bio, cmd, larg, parg)


class _Accept(_Stream):
    def __init__(self) -> None:
        super().__init__()
        self.listen_fd = -1
        self.nbio_accept = False

    def _listen(self) -> int:
        try:
            infos = socket.getaddrinfo(self.host if self.host not in ("", "*") else None, self.port or "0",
                                       type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)  # fmt: skip
            family, kind, proto, _, addr = infos[0]
            s = socket.socket(family, kind, proto)
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(addr)
                s.listen(128)
            except OSError:
                s.close()
                raise
        except (OSError, UnicodeError) as e:
            err.raise_sys(getattr(e, "errno", None) or _errno.EINVAL, "calling bind()", func="BIO_do_accept")
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNABLE_TO_BIND_SOCKET, func="BIO_do_accept")
            return 0
        s.setblocking(not self.nbio_accept)
        self.port = str(s.getsockname()[1])
        self.listen_fd = s.detach()
        return 1

    def _ready(self, bio: BIO) -> int:
        if self.fd >= 0:
            return 1
        if self.listen_fd < 0 and not self._listen():
            return -1
        lst = socket.socket(fileno=self.listen_fd)
        try:
            conn, _ = lst.accept()
        except OSError as e:
            if e.errno in _RETRY:
                # BIO_s_accept: DESCRIPTION non-blocking accept with nobody waiting asks for a retry (BIO_RR_ACCEPT)
                bio.retry_reason = BIO_RR_ACCEPT
                BIO_set_retry_special(bio)
                return -1
            err.raise_sys(e.errno or _errno.EIO, "calling accept()", func="BIO_do_accept")
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_ACCEPT_ERROR, func="BIO_do_accept")
            return -1
        finally:
            lst.detach()
        conn.setblocking(not self.nbio)
        self.fd = conn.detach()
        return 1

    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        common = self._common_ctrl(bio, cmd, larg, parg)
        if common is not None:
            return common
        if cmd == BIO_C_SET_ACCEPT:
            if larg == 2:  # BIO_set_nbio_accept
                self.nbio_accept = parg is not None
                if self.listen_fd >= 0:
                    os.set_blocking(self.listen_fd, not self.nbio_accept)
                return 1
            text = _text(parg)
            if text is None:
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_set_accept_name")
                return 0
            if larg == 0:
                self.host, self.port = _split(text)
            elif larg == 1:
                self.port = text
            bio.init = True
            return 1
        if cmd == BIO_C_GET_ACCEPT:
            return 0  # the port string itself comes from BIO_get_accept_port
        if cmd == BIO_C_DO_STATE_MACHINE:
            BIO_clear_retry_flags(bio)
            # BIO_s_accept: DESCRIPTION the first call sets up the listening socket, the next ones accept
            if self.listen_fd < 0:
                return self._listen()
            if self.fd >= 0:
                return 1
            return 1 if self._ready(bio) > 0 else -1
        return super().ctrl(bio, cmd, larg, parg)

    def destroy(self, bio: BIO) -> None:
        super().destroy(bio)
        if self.listen_fd >= 0 and bio.shutdown:
            os.close(self.listen_fd)
        self.listen_fd = -1


_METHOD_CONNECT = BIO_METHOD(BIO_TYPE_CONNECT, "socket connect", lambda: (_Connect(), False))
_METHOD_ACCEPT = BIO_METHOD(BIO_TYPE_ACCEPT, "socket accept", lambda: (_Accept(), False))


def BIO_s_connect() -> BIO_METHOD:
    return _METHOD_CONNECT


def BIO_s_accept() -> BIO_METHOD:
    return _METHOD_ACCEPT


def BIO_new_connect(host_port: bytes | str) -> BIO | None:
    # BIO_s_connect: RETURN VALUES BIO_new_connect "returns a BIO or NULL if an error occurred"
    bio = BIO_new(BIO_s_connect())
    if bio is None or BIO_ctrl(bio, BIO_C_SET_CONNECT, 0, host_port) != 1:
        return None
    return bio


def BIO_new_accept(host_port: bytes | str) -> BIO | None:
    bio = BIO_new(BIO_s_accept())
    if bio is None or BIO_ctrl(bio, BIO_C_SET_ACCEPT, 0, host_port) != 1:
        return None
    return bio


def BIO_set_nbio(b: BIO | None, n: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_NBIO, n, None)


def BIO_set_nbio_accept(b: BIO | None, n: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_ACCEPT, 2, "a" if n else None)


def BIO_do_connect(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_DO_STATE_MACHINE, 0, None)


def BIO_do_accept(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_DO_STATE_MACHINE, 0, None)


def BIO_get_accept_port(b: BIO | None) -> str | None:
    """The port an accept BIO listens on (after the first BIO_do_accept), None if it is no accept BIO."""
    if not isinstance(b, BIO) or b.freed or not isinstance(b.impl, _Accept):
        return None
    return b.impl.port or None
