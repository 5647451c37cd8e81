"""Socket BIOs (BIO_s_socket.pod) and the socket set-up functions (BIO_connect.pod), on real OS sockets.

Descriptors are plain ints (-1 is INVALID_SOCKET). Each set-up function works on a temporary ``socket.socket``
view of the descriptor that is detached again before returning, so the caller keeps ownership of the descriptor.
A failure sets the thread's errno and leaves two entries on the error queue, the system error then the BIO reason
(BIO_connect: RETURN VALUES "the OpenSSL error stack will hold the error data and errno has the system error").
A non-blocking connect still in progress and a non-blocking accept with nothing pending return 0 / -1 with errno
EINPROGRESS / EAGAIN and no entry, as libcrypto 3.0 does: they are not errors but "try later".

BIO_SOCK_TFO (3.2+, not in 3.0): ``TCP_FASTOPEN`` on the listening socket, ``TCP_FASTOPEN_CONNECT`` on the
connecting one (Linux). Where the kernel lacks it the call fails with ``BIO_R_TFO_NO_KERNEL_SUPPORT`` (option
unknown) or ``BIO_R_TFO_DISABLED`` (``net.ipv4.tcp_fastopen`` has the needed bit off).

Socket BIO I/O: EAGAIN gives -1 with the retry flag for the direction; end of file gives 0 and marks the BIO
(``BIO_eof`` 1); any other failure gives -1 without retry and sets errno (libcrypto puts nothing on the queue
there, and neither does the engine).
"""

from __future__ import annotations

import errno as _errno
import os
import socket
from collections.abc import Callable
from typing import Any

from engine import err
from engine.bio.addr import BIO_ADDR, SockAddr, addr_from_sockaddr, addr_to_sockaddr, live_addr
from engine.bio.constants import (
    AF_INET6,
    BIO_C_GET_FD,
    BIO_C_SET_FD,
    BIO_C_SET_NBIO,
    BIO_CLOSE,
    BIO_CTRL_DUP,
    BIO_CTRL_EOF,
    BIO_CTRL_FLUSH,
    BIO_CTRL_PENDING,
    BIO_CTRL_WPENDING,
    BIO_FLAGS_IN_EOF,
    BIO_R_ACCEPT_ERROR,
    BIO_R_CONNECT_ERROR,
    BIO_R_GETTING_SOCKTYPE,
    BIO_R_INVALID_ARGUMENT,
    BIO_R_INVALID_SOCKET,
    BIO_R_LISTEN_V6_ONLY,
    BIO_R_TFO_DISABLED,
    BIO_R_TFO_NO_KERNEL_SUPPORT,
    BIO_R_UNABLE_TO_BIND_SOCKET,
    BIO_R_UNABLE_TO_CREATE_SOCKET,
    BIO_R_UNABLE_TO_KEEPALIVE,
    BIO_R_UNABLE_TO_LISTEN_SOCKET,
    BIO_R_UNABLE_TO_NODELAY,
    BIO_R_UNABLE_TO_REUSEADDR,
    BIO_R_UNABLE_TO_TFO,
    BIO_SOCK_KEEPALIVE,
    BIO_SOCK_NODELAY,
    BIO_SOCK_NONBLOCK,
    BIO_SOCK_REUSEADDR,
    BIO_SOCK_TFO,
    BIO_SOCK_V6_ONLY,
    BIO_TYPE_SOCKET,
    INVALID_SOCKET,
)
from engine.bio.core import (
    BIO,
    BIO_METHOD,
    BIO_clear_retry_flags,
    BIO_ctrl,
    BIO_set_retry_read,
    BIO_set_retry_write,
    BioImpl,
    live_bio,
)

__all__ = [
    "BIO_accept_ex", "BIO_bind", "BIO_closesocket", "BIO_connect", "BIO_get_fd", "BIO_listen", "BIO_new_socket",
    "BIO_s_socket", "BIO_set_fd", "BIO_socket", "BIO_socket_nbio", "tfo_available",
]  # fmt: skip

_TCP_FASTOPEN = getattr(socket, "TCP_FASTOPEN", 23)
_TCP_FASTOPEN_CONNECT = getattr(socket, "TCP_FASTOPEN_CONNECT", 30)
_MAX_READ = 1 << 20  # one OS read is capped; callers loop as with any short read
_RETRY_ERRNOS = frozenset({_errno.EAGAIN, _errno.EWOULDBLOCK, _errno.EINTR, _errno.EINPROGRESS, _errno.EALREADY})


def _oserr(e: BaseException) -> int:
    if isinstance(e, OSError) and e.errno:
        return e.errno
    return _errno.EINVAL


def _fail(e: BaseException | int, reason: int, what: str, func: str) -> None:
    """A system failure: errno + SYS entry + BIO entry."""
    code = e if isinstance(e, int) else _oserr(e)
    err.raise_sys(code, what, func=func)
    err.ERR_raise(err.ERR_LIB_BIO, reason, func=func)


def _valid_fd(sock: object, func: str) -> int | None:
    if not isinstance(sock, int) or isinstance(sock, bool) or sock < 0:
        err.set_errno(_errno.EBADF)
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_SOCKET, func=func)
        return None
    return sock


def _with_socket(fd: int, fn: Callable[[socket.socket], Any]) -> Any:
    """Run fn on a temporary socket object over fd; fd stays open and owned by the caller."""
    s = socket.socket(fileno=fd)
    try:
        return fn(s)
    finally:
        s.detach()


def tfo_available(server: bool) -> tuple[bool, int]:
    """Whether the kernel offers TCP Fast Open for that side: (ok, reason if not)."""
    try:
        with open("/proc/sys/net/ipv4/tcp_fastopen") as f:
            mode = int(f.read().strip() or "0")
    except (OSError, ValueError):
        return (False, BIO_R_TFO_NO_KERNEL_SUPPORT)
    need = 0x2 if server else 0x1
    return (True, 0) if mode & need else (False, BIO_R_TFO_DISABLED)


def BIO_socket_nbio(s: int, mode: int) -> int:
    """Set (mode != 0) or clear O_NONBLOCK; 1 on success, 0 with a SYS entry on failure."""
    fd = _valid_fd(s, "BIO_socket_nbio")
    if fd is None:
        return 0
    try:
        os.set_blocking(fd, not mode)
    except (OSError, ValueError, OverflowError) as e:
        err.raise_sys(_oserr(e), "calling ioctlsocket()", func="BIO_socket_nbio")
        return 0
    return 1


def _setopt(s: socket.socket, level: int, opt: int, value: int, reason: int, func: str) -> bool:
    try:
        s.setsockopt(level, opt, value)
    except OSError as e:
        _fail(e, reason, "calling setsockopt()", func)
        return False
    return True


def _apply_common(s: socket.socket, options: int, func: str, *, server: bool) -> bool:
    """KEEPALIVE, NODELAY and TFO options shared by connect and listen (BIO_connect: FLAGS)."""
    if options & BIO_SOCK_KEEPALIVE and not _setopt(s, socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1,
                                                     BIO_R_UNABLE_TO_KEEPALIVE, func):  # fmt: skip
        return False
    if options & BIO_SOCK_NODELAY and not _setopt(s, socket.IPPROTO_TCP, socket.TCP_NODELAY, 1,
                                                  BIO_R_UNABLE_TO_NODELAY, func):  # fmt: skip
        return False
    if options & BIO_SOCK_TFO:
        ok, why = tfo_available(server)
        if not ok:
            _fail(_errno.EOPNOTSUPP, why, "TCP Fast Open", func)
            return False
        opt, value = (_TCP_FASTOPEN, 5) if server else (_TCP_FASTOPEN_CONNECT, 1)
        try:
            s.setsockopt(socket.IPPROTO_TCP, opt, value)
        except OSError as e:
            no_support = e.errno in (_errno.ENOPROTOOPT, _errno.EOPNOTSUPP)
            _fail(e, BIO_R_TFO_NO_KERNEL_SUPPORT if no_support else BIO_R_UNABLE_TO_TFO, "calling setsockopt()", func)
            return False
    return True


def _sockaddr(addr: object, func: str, reason: int) -> tuple[int, SockAddr] | None:
    a = live_addr(addr, func)
    if a is None:
        err.set_errno(_errno.EINVAL)
        return None
    sa = addr_to_sockaddr(a)
    if sa is None:
        _fail(_errno.EAFNOSUPPORT, reason, "BIO_ADDR not filled", func)
    return sa


# --- set-up functions (BIO_connect.pod) -------------------------------------------------------------------------
def BIO_socket(domain: int, socktype: int, protocol: int, options: int) -> int:
    # BIO_connect: RETURN VALUES "BIO_socket() returns the socket number on success or INVALID_SOCKET (-1)"
    try:
        s = socket.socket(domain, socktype, protocol)
    except (OSError, ValueError, OverflowError, TypeError) as e:
        _fail(e, BIO_R_UNABLE_TO_CREATE_SOCKET, "calling socket()", "BIO_socket")
        return INVALID_SOCKET
    return s.detach()


def BIO_connect(sock: int, addr: BIO_ADDR | None, options: int) -> int:
    # BIO_connect: RETURN VALUES "BIO_bind(), BIO_connect() and BIO_listen() return 1 on success or 0 on error"
    fd = _valid_fd(sock, "BIO_connect")
    if fd is None:
        return 0
    sa = _sockaddr(addr, "BIO_connect", BIO_R_CONNECT_ERROR)
    if sa is None:
        return 0
    if not BIO_socket_nbio(fd, options & BIO_SOCK_NONBLOCK):  # BIO_connect: FLAGS BIO_SOCK_NONBLOCK
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_CONNECT_ERROR, func="BIO_connect")
        return 0

    def run(s: socket.socket) -> int:
        if not _apply_common(s, options, "BIO_connect", server=False):
            return 0
        try:
            s.connect(sa[1])
        except OSError as e:
            if e.errno in _RETRY_ERRNOS:
                err.set_errno(e.errno or 0)  # in progress: 0, errno set, no entry (libcrypto 3.0)
                return 0
            _fail(e, BIO_R_CONNECT_ERROR, "calling connect()", "BIO_connect")
            return 0
        return 1

    return _guarded(fd, run, BIO_R_CONNECT_ERROR, "BIO_connect", 0)


def _guarded(fd: int, fn: Callable[[socket.socket], int], reason: int, func: str, fail: int) -> int:
    try:
        ret: int = _with_socket(fd, fn)
    except (OSError, ValueError, OverflowError, TypeError) as e:  # fd is not a socket, or is closed
        _fail(e, reason, "inspecting the socket", func)
        return fail
    return ret


def BIO_bind(sock: int, addr: BIO_ADDR | None, options: int) -> int:
    fd = _valid_fd(sock, "BIO_bind")
    if fd is None:
        return 0
    sa = _sockaddr(addr, "BIO_bind", BIO_R_UNABLE_TO_BIND_SOCKET)
    if sa is None:
        return 0

    def run(s: socket.socket) -> int:
        # BIO_connect: DESCRIPTION BIO_bind "The options may include BIO_SOCK_REUSEADDR"
        if options & BIO_SOCK_REUSEADDR and not _setopt(s, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1,
                                                        BIO_R_UNABLE_TO_REUSEADDR, "BIO_bind"):  # fmt: skip
            return 0
        try:
            s.bind(sa[1])
        except OSError as e:
            _fail(e, BIO_R_UNABLE_TO_BIND_SOCKET, "calling bind()", "BIO_bind")
            return 0
        return 1

    return _guarded(fd, run, BIO_R_UNABLE_TO_BIND_SOCKET, "BIO_bind", 0)


def BIO_listen(sock: int, addr: BIO_ADDR | None, options: int) -> int:
    fd = _valid_fd(sock, "BIO_listen")
    if fd is None:
        return 0
    sa = _sockaddr(addr, "BIO_listen", BIO_R_UNABLE_TO_LISTEN_SOCKET)
    if sa is None:
        return 0

    def run(s: socket.socket) -> int:
        try:
            socktype = s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
        except OSError as e:
            _fail(e, BIO_R_GETTING_SOCKTYPE, "calling getsockopt()", "BIO_listen")
            return 0
        if not BIO_socket_nbio(fd, options & BIO_SOCK_NONBLOCK):
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNABLE_TO_LISTEN_SOCKET, func="BIO_listen")
            return 0
        if not _apply_common(s, options, "BIO_listen", server=True):
            return 0
        # BIO_connect: FLAGS BIO_SOCK_V6_ONLY "When creating an IPv6 socket, make it only listen for IPv6"
        if sa[0] == AF_INET6 and not _setopt(s, socket.IPPROTO_IPV6, socket.IPV6_V6ONLY,
                                             1 if options & BIO_SOCK_V6_ONLY else 0, BIO_R_LISTEN_V6_ONLY,
                                             "BIO_listen"):  # fmt: skip
            return 0
        if options & BIO_SOCK_REUSEADDR and not _setopt(s, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1,
                                                        BIO_R_UNABLE_TO_REUSEADDR, "BIO_listen"):  # fmt: skip
            return 0
        try:
            s.bind(sa[1])
        except OSError as e:
            _fail(e, BIO_R_UNABLE_TO_BIND_SOCKET, "calling bind()", "BIO_listen")
            return 0
        if socktype != socket.SOCK_DGRAM:
            try:
                s.listen(socket.SOMAXCONN)
            except OSError as e:
                _fail(e, BIO_R_UNABLE_TO_LISTEN_SOCKET, "calling listen()", "BIO_listen")
                return 0
        return 1

    return _guarded(fd, run, BIO_R_GETTING_SOCKTYPE, "BIO_listen", 0)


def BIO_accept_ex(accept_sock: int, peer: BIO_ADDR | None, options: int) -> int:
    # BIO_connect: RETURN VALUES "BIO_accept_ex() returns the accepted socket on success or INVALID_SOCKET (-1)"
    fd = _valid_fd(accept_sock, "BIO_accept_ex")
    if fd is None:
        return INVALID_SOCKET
    target = None
    if peer is not None:
        target = live_addr(peer, "BIO_accept_ex")
        if target is None:
            err.set_errno(_errno.EINVAL)
            return INVALID_SOCKET

    def run(s: socket.socket) -> int:
        try:
            conn, sockaddr = s.accept()
            new_fd = conn.detach()
        except OSError as e:
            if e.errno in _RETRY_ERRNOS:
                err.set_errno(e.errno or 0)  # nothing pending on a non-blocking socket: -1, no entry
                return INVALID_SOCKET
            _fail(e, BIO_R_ACCEPT_ERROR, "calling accept()", "BIO_accept_ex")
            return INVALID_SOCKET
        # BIO_connect: DESCRIPTION BIO_accept_ex "Accept options may be zero or BIO_SOCK_NONBLOCK"
        if not BIO_socket_nbio(new_fd, options & BIO_SOCK_NONBLOCK):
            os.close(new_fd)  # never leak the accepted socket
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_ACCEPT_ERROR, func="BIO_accept_ex")
            return INVALID_SOCKET
        if target is not None:
            addr_from_sockaddr(target, s.family, sockaddr)
        return int(new_fd)

    return _guarded(fd, run, BIO_R_ACCEPT_ERROR, "BIO_accept_ex", INVALID_SOCKET)


def BIO_closesocket(sock: int) -> int:
    """1 on success, 0 on failure (the page documents no return value; libcrypto 3.0 returns 1/0)."""
    if not isinstance(sock, int) or isinstance(sock, bool) or sock < 0:
        err.set_errno(_errno.EBADF)
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_SOCKET, func="BIO_closesocket")
        return 0
    try:
        os.close(sock)
    except OSError as e:
        err.raise_sys(_oserr(e), "calling close()", func="BIO_closesocket")
        return 0
    return 1


# --- socket BIO (BIO_s_socket.pod) ------------------------------------------------------------------------------
class _Socket(BioImpl):
    __slots__ = ()

    def lacks(self, operation: str) -> bool:
        # BIO_s_socket: DESCRIPTION "BIO_gets() is not" supported, so BIO_gets is -2 (not implemented) whatever the
        # BIO's state, before a socket is set too (BIO_read: RETURN VALUES; libcrypto 3.0 tests the method first)
        return operation == "gets"

    def read(self, bio: BIO, n: int) -> tuple[int, bytes]:
        BIO_clear_retry_flags(bio)
        if n == 0:
            return (0, b"")
        try:
            data = os.read(bio.num, min(n, _MAX_READ))
        except OSError as e:
            err.set_errno(_oserr(e))
            if e.errno in _RETRY_ERRNOS:
                BIO_set_retry_read(bio)
            return (-1, b"")
        if not data:
            bio.flags |= BIO_FLAGS_IN_EOF  # the peer closed: 0 and no retry (BIO_should_retry: NOTES)
            return (0, b"")
        return (len(data), data)

    def write(self, bio: BIO, data: memoryview) -> int:
        BIO_clear_retry_flags(bio)
        if not data:
            return 0
        try:
            return os.write(bio.num, data)
        except OSError as e:
            err.set_errno(_oserr(e))
            if e.errno in _RETRY_ERRNOS:
                BIO_set_retry_write(bio)
            return -1

    def puts(self, bio: BIO, data: bytes) -> int | None:
        # BIO_s_socket: DESCRIPTION "BIO_puts() is supported but BIO_gets() is not"
        return self.write(bio, memoryview(data))

    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        if cmd == BIO_C_SET_FD:
            if not isinstance(parg, int) or isinstance(parg, bool) or parg < 0:
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_set_fd")
                return 0
            self.destroy(bio)
            bio.num, bio.shutdown, bio.init = parg, larg, True
            bio.flags &= ~BIO_FLAGS_IN_EOF
            return 1
        if cmd == BIO_C_GET_FD:
            return bio.num if bio.init else -1
        if cmd == BIO_C_SET_NBIO:
            return BIO_socket_nbio(bio.num, larg) if bio.init else 0
        if cmd == BIO_CTRL_EOF:
            return 1 if bio.flags & BIO_FLAGS_IN_EOF else 0
        if cmd in (BIO_CTRL_PENDING, BIO_CTRL_WPENDING):
            return 0
        if cmd in (BIO_CTRL_DUP, BIO_CTRL_FLUSH):
            return 1
        return super().ctrl(bio, cmd, larg, parg)

    def destroy(self, bio: BIO) -> None:
        # BIO_s_socket: DESCRIPTION "If the close flag is set then the socket is shut down and closed when freed"
        if bio.init and bio.shutdown:
            try:
                os.close(bio.num)
            except OSError as e:
                err.set_errno(_oserr(e))
        bio.init = False
        bio.num = -1


_BIO_METHOD_SOCKET = BIO_METHOD(BIO_TYPE_SOCKET, "socket", lambda: (_Socket(), False))


def BIO_s_socket() -> BIO_METHOD:
    return _BIO_METHOD_SOCKET


def BIO_new_socket(sock: int, close_flag: int) -> BIO | None:
    # BIO_s_socket: RETURN VALUES "the newly allocated BIO or NULL is an error occurred"
    if not isinstance(sock, int) or isinstance(sock, bool) or sock < 0:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_SOCKET, func="BIO_new_socket")
        return None
    bio = BIO(_BIO_METHOD_SOCKET, _Socket(), False)
    BIO_set_fd(bio, sock, BIO_CLOSE if close_flag else 0)
    return bio


def BIO_set_fd(b: BIO | None, fd: int, c: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_FD, c, fd)


def BIO_get_fd(b: BIO | None) -> tuple[int, int]:
    """``BIO_get_fd(b) -> (ret, fd)``: the descriptor, -1 if not initialised (BIO_s_fd.pod)."""
    if live_bio(b, "BIO_get_fd", null_reason=None) is None and b is not None:
        return (-1, -1)
    ret = BIO_ctrl(b, BIO_C_GET_FD, 0, None)
    return (ret, ret)
