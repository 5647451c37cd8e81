"""Connect and accept BIOs (BIO_s_connect.pod, BIO_s_accept.pod): socket BIOs that make their own connection.

Theory of operation
===================

A **connect BIO** holds a host name and a service (set as ``host:port``, separately, or from a BIO_ADDR) and an IP
family. Its state machine (BIO_do_connect, or the first read/write/puts) resolves them, tries each address in turn
until one connects (BIO_s_connect: DESCRIPTION "all of them are tried after connect() failures") and then carries
the connection itself: reads and writes are socket I/O with the retry rules of BIO_s_socket. In non-blocking mode
(BIO_set_nbio before connecting) a connect still in progress returns -1 with BIO_should_io_special() and retry
reason BIO_RR_CONNECT; calling again finishes it (NOTES). Until a connection attempt is made the getters return what
the application set; afterwards they describe the address in use (NOTES).

An **accept BIO** holds the name to listen on. Its first BIO_do_accept creates, binds and listens; later calls wait
for a connection, or in non-blocking accept mode ask for a special retry with BIO_RR_ACCEPT (NOTES). An accepted
connection becomes a socket BIO appended to the chain behind the accept BIO, after copies of the chain given with
BIO_set_accept_bios (NOTES: accept->otherbios->socket). I/O on the accept BIO goes to the next BIO of the chain
once there is one, and waits for (accepts) a connection while there is none; BIO_pop(accept) hands the connection
chain to the application and leaves the accept BIO ready for the next one.

Where the pages are silent the engine does what OpenSSL 3.0 does: BIO_gets is not offered (-2), the return value of
a failed connect is 0 (an unresolvable name, a refused connection) and -1 for a retry; command numbers are those of
3.0's bio.h. Where OpenSSL 3.0 differs from the pages (the getters before a connection, BIO_reset and freeing an
accept BIO with a connection) the engine follows the pages; libssl's differences are recorded as errata.
"""

from __future__ import annotations

import errno as _errno
import os
import select
import socket
from typing import Any

from engine import err
from engine.bio.addr import BIO_ADDR, addr_from_sockaddr, addr_to_sockaddr, live_addr
from engine.bio.chain import BIO_pop, BIO_push
from engine.bio.constants import (
    BIO_C_DO_STATE_MACHINE,
    BIO_C_GET_FD,
    BIO_C_SET_CONNECT,
    BIO_C_SET_FD,
    BIO_C_SET_NBIO,
    BIO_CLOSE,
    BIO_CTRL_DUP,
    BIO_CTRL_EOF,
    BIO_CTRL_FLUSH,
    BIO_CTRL_PENDING,
    BIO_CTRL_RESET,
    BIO_CTRL_WPENDING,
    BIO_FLAGS_IN_EOF,
    BIO_FLAGS_RWS,
    BIO_FLAGS_SHOULD_RETRY,
    BIO_R_ACCEPT_ERROR,
    BIO_R_CONNECT_ERROR,
    BIO_R_INVALID_ARGUMENT,
    BIO_R_UNABLE_TO_BIND_SOCKET,
    BIO_R_UNABLE_TO_CREATE_SOCKET,
    BIO_R_UNABLE_TO_LISTEN_SOCKET,
    BIO_RR_ACCEPT,
    BIO_RR_CONNECT,
    BIO_TYPE_ACCEPT,
    BIO_TYPE_CONNECT,
    BIO_TYPE_SOCKET,
)
from engine.bio.core import (
    BIO,
    BIO_METHOD,
    BIO_clear_retry_flags,
    BIO_ctrl,
    BIO_free,
    BIO_free_all,
    BIO_int_ctrl,
    BIO_new,
    BIO_read,
    BIO_set_retry_read,
    BIO_set_retry_special,
    BIO_set_retry_write,
    BIO_write,
    BioImpl,
    live_bio,
)
from engine.bio.hostserv import BIO_PARSE_PRIO_HOST, BIO_PARSE_PRIO_SERV, BIO_parse_hostserv
from engine.bio.sock import BIO_new_socket

__all__ = [
    "BIO_BIND_NORMAL", "BIO_BIND_REUSEADDR", "BIO_BIND_REUSEADDR_IF_UNUSED", "BIO_FAMILY_IPANY", "BIO_FAMILY_IPV4",
    "BIO_FAMILY_IPV6", "BIO_do_accept", "BIO_do_connect", "BIO_do_handshake", "BIO_get_accept_ip_family",
    "BIO_get_accept_name", "BIO_get_accept_port", "BIO_get_bind_mode", "BIO_get_conn_address",
    "BIO_get_conn_hostname", "BIO_get_conn_ip_family", "BIO_get_conn_port", "BIO_get_peer_name",
    "BIO_get_peer_port", "BIO_new_accept", "BIO_new_connect", "BIO_s_accept", "BIO_s_connect",
    "BIO_set_accept_bios", "BIO_set_accept_ip_family", "BIO_set_accept_name", "BIO_set_accept_port",
    "BIO_set_bind_mode", "BIO_set_conn_address", "BIO_set_conn_hostname", "BIO_set_conn_ip_family",
    "BIO_set_conn_port", "BIO_set_nbio", "BIO_set_nbio_accept",
]  # fmt: skip

# bio.h 3.0
BIO_C_SET_ACCEPT = 118
BIO_C_GET_CONNECT = 123
BIO_C_GET_ACCEPT = 124
BIO_C_SET_BIND_MODE = 131
BIO_C_GET_BIND_MODE = 132
BIO_FAMILY_IPV4 = 4
BIO_FAMILY_IPV6 = 6
BIO_FAMILY_IPANY = 256
BIO_BIND_NORMAL = 0
BIO_BIND_REUSEADDR = 0x01  # BIO_SOCK_REUSEADDR
BIO_BIND_REUSEADDR_IF_UNUSED = 0x01
# bioerr.h 3.0
BIO_R_NO_HOSTNAME_OR_SERVICE_SPECIFIED = 144
BIO_R_NO_ACCEPT_ADDR_OR_SERVICE_SPECIFIED = 143
BIO_R_UNSUPPORTED_IP_FAMILY = 146
BIO_R_LOOKUP_RETURNED_NOTHING = 142

_RETRY = frozenset({_errno.EAGAIN, _errno.EWOULDBLOCK, _errno.EINTR})
_IN_PROGRESS = frozenset({_errno.EINPROGRESS, _errno.EALREADY, _errno.EWOULDBLOCK, _errno.EAGAIN})
_FAMILIES: dict[int, int] = {BIO_FAMILY_IPV4: int(socket.AF_INET), BIO_FAMILY_IPV6: int(socket.AF_INET6),
                             BIO_FAMILY_IPANY: int(socket.AF_UNSPEC)}
_FAMILY_OF: dict[int, int] = {int(socket.AF_INET): BIO_FAMILY_IPV4, int(socket.AF_INET6): BIO_FAMILY_IPV6}
err.REASON_TEXTS[err.ERR_LIB_BIO].update({
    BIO_R_NO_HOSTNAME_OR_SERVICE_SPECIFIED: "no host name or service given",
    BIO_R_NO_ACCEPT_ADDR_OR_SERVICE_SPECIFIED: "no accept address or service given",
    BIO_R_UNSUPPORTED_IP_FAMILY: "IP family not supported", BIO_R_LOOKUP_RETURNED_NOTHING: "no address found",
})  # fmt: skip

_Info = tuple[int, int, int, Any]  # family, socktype, protocol, sockaddr


def _text(v: object) -> str | None:
    if isinstance(v, bytes):
        return v.decode("ascii", "replace")
    return v if isinstance(v, str) else None


def _lookup(host: str | None, port: str | None, family: int, passive: bool, func: str) -> list[_Info] | None:
    """getaddrinfo for the BIO's name; None (entries pushed) when nothing usable comes back."""
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE if passive else 0)
    except (OSError, UnicodeError) as e:
        err.ERR_raise_data(err.ERR_LIB_SYS, getattr(e, "errno", None) or _errno.EINVAL,
                           f"calling getaddrinfo({host}, {port})", func=func)  # fmt: skip
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_LOOKUP_RETURNED_NOTHING, func=func)
        return None
    if not infos:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_LOOKUP_RETURNED_NOTHING, func=func)
        return None
    return [(int(f), int(t), p, a) for f, t, p, _, a in infos]


def _addr_of(family: int, sockaddr: Any) -> BIO_ADDR:
    a = BIO_ADDR()
    addr_from_sockaddr(a, family, sockaddr)
    return a


def _numeric(family: int, sockaddr: Any) -> tuple[str, str]:
    host, serv = socket.getnameinfo(sockaddr, socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)
    return host.split("%")[0], serv


def _sock_error(fd: int) -> int:
    probe = socket.socket(fileno=fd)
    try:
        return int(probe.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    finally:
        probe.detach()


def _close(fd: int, shut: bool) -> None:
    if fd < 0:
        return
    if shut:
        s = socket.socket(fileno=fd)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            s.detach()
    try:
        os.close(fd)
    except OSError as e:
        err.set_errno(e.errno or _errno.EIO)


def _socket_io_read(bio: BIO, fd: int, n: int) -> tuple[int, bytes]:
    try:
        data = os.read(fd, min(n, 1 << 20))
    except OSError as e:
        err.set_errno(e.errno or _errno.EIO)
        if e.errno in _RETRY:
            BIO_set_retry_read(bio)
        return (-1, b"")
    if not data:
        bio.flags |= BIO_FLAGS_IN_EOF
        return (0, b"")
    return (len(data), data)


def _socket_io_write(bio: BIO, fd: int, data: memoryview) -> int:
    if not data:
        return 0
    try:
        return os.write(fd, data)
    except OSError as e:
        err.set_errno(e.errno or _errno.EIO)
        if e.errno in _RETRY:
            BIO_set_retry_write(bio)
        return -1


# --- connect BIOs (BIO_s_connect.pod) ---------------------------------------------------------------------------
class _Connect(BioImpl):
    """States: no socket (before), connecting (a non-blocking connect in progress), connected, failed."""

    def __init__(self) -> None:
        self.host: str | None = None
        self.port: str | None = None
        self.family: int | None = None  # BIO_FAMILY_* the application set, None: none set
        self.addr: BIO_ADDR | None = None  # what BIO_get_conn_address returns
        self.nbio = False
        self.fd = -1
        self.connecting = False
        self.connected = False
        self.failed = False
        self.infos: list[_Info] = []

    # -- the state machine ----------------------------------------------------------------------------------------
    def _fail(self, bio: BIO, code: int, reason: int) -> int:
        err.ERR_raise_data(err.ERR_LIB_SYS, code or _errno.EIO, f"calling connect({self.host}, {self.port})",
                           func="BIO_do_connect")  # fmt: skip
        err.ERR_raise(err.ERR_LIB_BIO, reason, func="BIO_do_connect")
        self.failed = True
        return 0

    def _note_address(self, info: _Info) -> None:
        # BIO_s_connect: NOTES the getters describe the connection attempt once one is made
        family, _, _, sockaddr = info
        self.addr = _addr_of(family, sockaddr)

    def _start_next(self, bio: BIO) -> int:
        """Create a socket for the next address and start connecting; 1 connected, -1 in progress, 0 failed."""
        last = _errno.ECONNREFUSED
        while self.infos:
            info = self.infos.pop(0)
            family, kind, proto, sockaddr = info
            try:
                s = socket.socket(family, kind, proto)
            except OSError as e:
                err.ERR_raise_data(err.ERR_LIB_SYS, e.errno or _errno.EIO, "calling socket()", func="BIO_do_connect")
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNABLE_TO_CREATE_SOCKET, func="BIO_do_connect")
                self.failed = True
                return 0
            s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            s.setblocking(not self.nbio)
            code = s.connect_ex(sockaddr)
            self.fd = s.detach()
            bio.num = self.fd
            self._note_address(info)
            if code in (0, _errno.EISCONN):
                self.connected = True
                return 1
            if self.nbio and code in _IN_PROGRESS:
                self.connecting = True
                return -1
            last = code
            _close(self.fd, False)
            self.fd = bio.num = -1
        return self._fail(bio, last, BIO_R_CONNECT_ERROR)

    def state(self, bio: BIO) -> int:
        if self.connected:
            return 1
        BIO_clear_retry_flags(bio)
        bio.retry_reason = 0
        if self.failed:
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_CONNECT_ERROR, func="BIO_do_connect")
            return 0
        if not self.connecting:
            if self.host is None and self.port is None:
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_NO_HOSTNAME_OR_SERVICE_SPECIFIED, func="BIO_do_connect")
                return -1
            family = _FAMILIES.get(self.family if self.family is not None else BIO_FAMILY_IPANY)
            if family is None:
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_IP_FAMILY, func="BIO_do_connect")
                return -1
            infos = _lookup(self.host, self.port, family, False, "BIO_do_connect")
            if infos is None:
                return -1
            self.infos = infos
            ret = self._start_next(bio)
        else:
            ret = -1
        while self.connecting:
            # BIO_s_connect: NOTES a connect still in progress is a special retry with reason BIO_RR_CONNECT
            _, writable, _ = select.select([], [self.fd], [], 0)
            if not writable:
                bio.retry_reason = BIO_RR_CONNECT
                BIO_set_retry_special(bio)
                return -1
            self.connecting = False
            code = _sock_error(self.fd)
            if code == 0:
                self.connected = True
                return 1
            _close(self.fd, False)
            self.fd = bio.num = -1
            if not self.infos:  # BIO_s_connect: DESCRIPTION every resolved address is tried
                return self._fail(bio, code, err.BIO_R_NBIO_CONNECT_ERROR)
            ret = self._start_next(bio)
        return ret

    # -- I/O --------------------------------------------------------------------------------------------------
    def read(self, bio: BIO, n: int) -> tuple[int, bytes]:
        if not self.connected:
            ret = self.state(bio)
            if ret <= 0:
                return (ret, b"")
        BIO_clear_retry_flags(bio)
        return _socket_io_read(bio, self.fd, n)

    def write(self, bio: BIO, data: memoryview) -> int:
        if not self.connected:
            ret = self.state(bio)
            if ret <= 0:
                return ret
        BIO_clear_retry_flags(bio)
        return _socket_io_write(bio, self.fd, data)

    def puts(self, bio: BIO, data: bytes) -> int | None:
        # BIO_s_connect: DESCRIPTION BIO_puts() is supported (BIO_gets() is not: the default None)
        return self.write(bio, memoryview(data))

    # -- control ----------------------------------------------------------------------------------------------
    def _set(self, bio: BIO, which: int, parg: Any) -> int:
        if which == 2:
            a = live_addr(parg, "BIO_set_conn_address")
            pair = None if a is None else addr_to_sockaddr(a)
            if a is None or pair is None or pair[0] not in _FAMILY_OF:
                if a is not None:
                    err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_set_conn_address")
                return 0
            self.host, self.port = _numeric(pair[0], pair[1])
            self.addr = _addr_of(pair[0], pair[1])
            return 1
        if which == 3:
            if not isinstance(parg, int) or isinstance(parg, bool):
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_set_conn_ip_family")
                return 0
            self.family = parg
            return 1
        text = _text(parg)
        if text is None:
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_set_conn_hostname")
            return 0
        if which == 0:
            # BIO_s_connect: DESCRIPTION host[:port] as BIO_parse_hostserv reads it; NOTES a port in the name wins
            ok, host, port = BIO_parse_hostserv(text, BIO_PARSE_PRIO_HOST, None, self.port)
            if not ok:
                return 0
            self.host, self.port = host, port
            return 1
        if which == 1:
            self.port = text
            return 1
        return 0

    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        if cmd == BIO_C_SET_CONNECT:
            bio.init = True
            return self._set(bio, larg, parg)
        if cmd == BIO_C_GET_CONNECT and larg in (0, 1, 2) and isinstance(parg, list):
            parg[:1] = [(self.host, self.port, self.addr)[larg]]
            return 1
        if cmd == BIO_C_GET_CONNECT and larg == 3:
            # BIO_s_connect: RETURN VALUES the address family, or -1 if none was set
            if self.connected or self.connecting:
                return _FAMILY_OF.get(self.addr.family if self.addr else -1, -1)
            return -1 if self.family is None else self.family
        if cmd == BIO_C_DO_STATE_MACHINE:
            return self.state(bio)
        if cmd == BIO_C_SET_NBIO:
            self.nbio = bool(larg)
            return 1
        if cmd == BIO_C_GET_FD:
            return self.fd if bio.init else -1
        if cmd == BIO_CTRL_RESET:
            # BIO_s_connect: DESCRIPTION close any connection; the next I/O connects to the same host again
            _close(self.fd, self.connected)
            self.fd = bio.num = -1
            self.connected = self.connecting = self.failed = False
            bio.flags &= ~(BIO_FLAGS_IN_EOF | BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY)
            return 1
        if cmd == BIO_CTRL_EOF:
            return 1 if bio.flags & BIO_FLAGS_IN_EOF else 0
        if cmd in (BIO_CTRL_PENDING, BIO_CTRL_WPENDING):
            return 0
        if cmd in (BIO_CTRL_FLUSH, BIO_CTRL_DUP):
            if cmd == BIO_CTRL_DUP and isinstance(parg, BIO) and isinstance(parg.impl, _Connect):
                other = parg.impl
                other.host, other.port, other.family, other.nbio = self.host, self.port, self.family, self.nbio
                parg.init = True
            return 1
        return super().ctrl(bio, cmd, larg, parg)

    def destroy(self, bio: BIO) -> None:
        # BIO_s_connect: DESCRIPTION with the close flag set the connection is shut down and the socket closed
        if bio.shutdown:
            _close(self.fd, self.connected)
        self.fd = bio.num = -1


# --- accept BIOs (BIO_s_accept.pod) -----------------------------------------------------------------------------
def _dup_chain(template: BIO | None) -> tuple[BIO | None, BIO | None]:
    """Copies of the BIOs of ``template`` (BIO_set_accept_bios), linked: (head, last), or (None, None)."""
    head: BIO | None = None
    last: BIO | None = None
    b = template
    while b is not None and not b.freed:
        new = BIO_new(b.method)
        if new is None:
            break
        new.shutdown = b.shutdown
        BIO_ctrl(b, BIO_CTRL_DUP, 0, new)
        if last is None:
            head = new
        else:
            BIO_push(last, new)
        last = new
        b = b.next_bio
    return head, last


class _Accept(BioImpl):
    def __init__(self) -> None:
        self.host: str | None = None
        self.port: str | None = None
        self.family = BIO_FAMILY_IPANY
        self.bind_mode = BIO_BIND_NORMAL
        self.nbio_accept = False
        self.nbio = False  # mode of accepted sockets (BIO_set_nbio)
        self.listen_fd = -1
        self.accept_bios: BIO | None = None
        self.accepting_name: str | None = None
        self.accepting_serv: str | None = None
        self.peer_name: str | None = None
        self.peer_serv: str | None = None

    # -- the state machine ----------------------------------------------------------------------------------------
    def _listen(self, bio: BIO) -> int:
        if self.host is None and self.port is None:
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_NO_ACCEPT_ADDR_OR_SERVICE_SPECIFIED, func="BIO_do_accept")
            return -1
        family = _FAMILIES.get(self.family)
        if family is None:
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_IP_FAMILY, func="BIO_do_accept")
            return -1
        infos = _lookup(self.host, self.port or "0", family, True, "BIO_do_accept")
        if infos is None:
            return -1
        fam, kind, proto, sockaddr = infos[0]
        try:
            s = socket.socket(fam, kind, proto)
        except OSError as e:
            err.ERR_raise_data(err.ERR_LIB_SYS, e.errno or _errno.EIO, "calling socket()", func="BIO_do_accept")
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNABLE_TO_CREATE_SOCKET, func="BIO_do_accept")
            return -1
        try:
            if self.bind_mode & BIO_BIND_REUSEADDR:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(sockaddr)
        except OSError as e:
            s.close()
            err.ERR_raise_data(err.ERR_LIB_SYS, e.errno or _errno.EIO, "calling bind()", func="BIO_do_accept")
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNABLE_TO_BIND_SOCKET, func="BIO_do_accept")
            return -1
        try:
            s.listen(128)
        except OSError as e:
            s.close()
            err.ERR_raise_data(err.ERR_LIB_SYS, e.errno or _errno.EIO, "calling listen()", func="BIO_do_accept")
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNABLE_TO_LISTEN_SOCKET, func="BIO_do_accept")
            return -1
        s.setblocking(not self.nbio_accept)
        # BIO_s_accept: DESCRIPTION port 0 picks a free port; the name and port getters tell which
        self.accepting_name, self.accepting_serv = _numeric(fam, s.getsockname())
        self.listen_fd = bio.num = s.detach()
        return 1

    def _accept(self, bio: BIO) -> int:
        BIO_clear_retry_flags(bio)
        bio.retry_reason = 0
        lst = socket.socket(fileno=self.listen_fd)
        try:
            conn, peer = lst.accept()
        except OSError as e:
            if e.errno in _RETRY:
                # BIO_s_accept: NOTES a non-blocking accept with nobody waiting is a special retry (BIO_RR_ACCEPT)
                bio.retry_reason = BIO_RR_ACCEPT
                BIO_set_retry_special(bio)
                return -1
            err.ERR_raise_data(err.ERR_LIB_SYS, e.errno or _errno.EIO, "calling accept()", func="BIO_do_accept")
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_ACCEPT_ERROR, func="BIO_do_accept")
            return -1
        finally:
            lst.detach()
        conn.setblocking(not self.nbio)
        self.peer_name, self.peer_serv = _numeric(conn.family, peer)
        sock = BIO_new_socket(conn.detach(), BIO_CLOSE)
        if sock is None:
            return -1
        # BIO_s_accept: NOTES the connection is a socket BIO appended to the chain, after copies of accept_bios
        head, last = _dup_chain(self.accept_bios)
        if head is not None and last is not None:
            BIO_push(last, sock)
            BIO_push(bio, head)
        else:
            BIO_push(bio, sock)
        return 1

    def state(self, bio: BIO) -> int:
        # BIO_s_accept: DESCRIPTION the first call listens, later calls wait for a connection
        if self.listen_fd < 0:
            BIO_clear_retry_flags(bio)
            return self._listen(bio)
        if bio.next_bio is not None:
            return 1
        return self._accept(bio)

    # -- I/O: passed to the next BIO, accepting one first when there is none (NOTES) -------------------------------
    def _ready(self, bio: BIO) -> int:
        while bio.next_bio is None:
            ret = self.state(bio)
            if ret <= 0:
                return ret
        return 1

    def _copy_retry(self, bio: BIO) -> None:
        nxt = bio.next_bio
        BIO_clear_retry_flags(bio)
        if nxt is not None:
            bio.flags |= nxt.flags & (BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY)
            bio.retry_reason = nxt.retry_reason

    def read(self, bio: BIO, n: int) -> tuple[int, bytes]:
        ret = self._ready(bio)
        if ret <= 0 or bio.next_bio is None:
            return (ret, b"")
        r, data = BIO_read(bio.next_bio, n)
        self._copy_retry(bio)
        return (r, data)

    def write(self, bio: BIO, data: memoryview) -> int:
        ret = self._ready(bio)
        if ret <= 0 or bio.next_bio is None:
            return ret
        r = BIO_write(bio.next_bio, bytes(data))
        self._copy_retry(bio)
        return r

    def puts(self, bio: BIO, data: bytes) -> int | None:
        # BIO_s_accept: DESCRIPTION BIO_puts() is supported, BIO_gets() is not
        return self.write(bio, memoryview(data))

    # -- control ----------------------------------------------------------------------------------------------
    def _shut_connections(self, bio: BIO) -> None:
        """Shut down the sockets of the connection chain behind the accept BIO (the peer sees end of file)."""
        b = bio.next_bio
        while b is not None and not b.freed:
            if b.method.type == BIO_TYPE_SOCKET and b.init and b.num >= 0:
                s = socket.socket(fileno=b.num)
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                finally:
                    s.detach()
            b = b.next_bio

    def _set(self, bio: BIO, which: int, parg: Any) -> int:
        if which == 2:  # BIO_set_nbio_accept
            self.nbio_accept = parg is not None
            if self.listen_fd >= 0:
                os.set_blocking(self.listen_fd, not self.nbio_accept)
            return 1
        if which == 3:  # BIO_set_accept_bios
            b = live_bio(parg, "BIO_set_accept_bios")
            if b is None:
                return 0
            if self.accept_bios is not None and self.accept_bios is not b:
                BIO_free_all(self.accept_bios)
            self.accept_bios = b
            return 1
        if which == 4:  # BIO_set_accept_ip_family
            if parg not in _FAMILIES:
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_IP_FAMILY, func="BIO_set_accept_ip_family")
                return 0
            self.family = parg
            return 1
        text = _text(parg)
        if text is None:
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_set_accept_name")
            return 0
        if which == 0:
            # BIO_s_accept: DESCRIPTION "host:port"; "*" or an empty host is any interface; IPv6 in brackets
            ok, host, port = BIO_parse_hostserv(text, BIO_PARSE_PRIO_SERV, self.host, self.port)
            if not ok:
                return 0
            self.host, self.port = host, port
            return 1
        if which == 1:
            self.port = text
            return 1
        return 0

    def ctrl(self, bio: BIO, cmd: int, larg: int, parg: Any) -> int:
        if cmd == BIO_C_SET_ACCEPT:
            bio.init = True
            return self._set(bio, larg, parg)
        if cmd == BIO_C_GET_ACCEPT and larg in (0, 1, 2, 3) and isinstance(parg, list):
            parg[:1] = [(self.accepting_name, self.accepting_serv, self.peer_name, self.peer_serv)[larg]]
            return 1
        if cmd == BIO_C_GET_ACCEPT and larg == 4:
            return self.family
        if cmd == BIO_C_DO_STATE_MACHINE:
            return self.state(bio)
        if cmd == BIO_C_SET_NBIO:
            self.nbio = bool(larg)
            return 1
        if cmd == BIO_C_SET_FD:
            if not isinstance(parg, int) or isinstance(parg, bool) or parg < 0:
                err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_set_fd")
                return 0
            self.listen_fd = bio.num = parg
            bio.shutdown = larg
            bio.init = True
            return 1
        if cmd == BIO_C_GET_FD:
            # BIO_s_accept: DESCRIPTION BIO_get_fd() is the accept socket
            return self.listen_fd if bio.init else -1
        if cmd == BIO_C_SET_BIND_MODE:
            self.bind_mode = larg
            return 1
        if cmd == BIO_C_GET_BIND_MODE:
            return self.bind_mode
        if cmd == BIO_CTRL_RESET:
            # BIO_s_accept: DESCRIPTION close the active connection and wait for another one
            self._shut_connections(bio)
            nxt = bio.next_bio
            if nxt is not None:
                BIO_pop(bio)
                BIO_free_all(nxt)
            bio.flags &= ~(BIO_FLAGS_IN_EOF | BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY)
            return 1
        if cmd == BIO_CTRL_EOF:
            return 0 if bio.next_bio is None else BIO_ctrl(bio.next_bio, cmd, larg, parg)
        if cmd in (BIO_CTRL_PENDING, BIO_CTRL_WPENDING):
            return 0
        if cmd in (BIO_CTRL_FLUSH, BIO_CTRL_DUP):
            return 1
        return super().ctrl(bio, cmd, larg, parg)

    def destroy(self, bio: BIO) -> None:
        if bio.shutdown:
            # BIO_s_accept: DESCRIPTION with the close flag set the connections of the chain are shut down too
            self._shut_connections(bio)
            _close(self.listen_fd, False)
        self.listen_fd = bio.num = -1
        if self.accept_bios is not None:
            BIO_free_all(self.accept_bios)  # BIO_s_accept: DESCRIPTION freed with the accept BIO
            self.accept_bios = None


_METHOD_CONNECT = BIO_METHOD(BIO_TYPE_CONNECT, "socket connect", lambda: (_Connect(), False))
_METHOD_ACCEPT = BIO_METHOD(BIO_TYPE_ACCEPT, "socket accept", lambda: (_Accept(), False))


def BIO_s_connect() -> BIO_METHOD:
    return _METHOD_CONNECT


def BIO_s_accept() -> BIO_METHOD:
    return _METHOD_ACCEPT


def _pointer(b: BIO | None, cmd: int, which: int) -> Any:
    """A ``BIO_ptr_ctrl`` macro: the ctrl fills a one-element box; filters pass it along their chain."""
    box: list[Any] = [None]
    if BIO_ctrl(b, cmd, which, box) <= 0:
        return None
    return box[0]


# --- BIO_s_connect.pod: functions and macros --------------------------------------------------------------------
def BIO_new_connect(host_port: bytes | str) -> BIO | None:
    # BIO_s_connect: DESCRIPTION BIO_new() and BIO_set_conn_hostname() in one call
    bio = BIO_new(BIO_s_connect())
    if bio is None:
        return None
    if BIO_set_conn_hostname(bio, host_port) != 1:
        BIO_free(bio)
        return None
    return bio


def BIO_set_conn_hostname(b: BIO | None, name: bytes | str) -> int:
    return BIO_ctrl(b, BIO_C_SET_CONNECT, 0, name)


def BIO_set_conn_port(b: BIO | None, port: bytes | str) -> int:
    return BIO_ctrl(b, BIO_C_SET_CONNECT, 1, port)


def BIO_set_conn_address(b: BIO | None, addr: BIO_ADDR | None) -> int:
    return BIO_ctrl(b, BIO_C_SET_CONNECT, 2, addr)


def BIO_set_conn_ip_family(b: BIO | None, family: int) -> int:
    return BIO_int_ctrl(b, BIO_C_SET_CONNECT, 3, family)


def BIO_get_conn_hostname(b: BIO | None) -> str | None:
    found = _pointer(b, BIO_C_GET_CONNECT, 0)
    return found if isinstance(found, str) else None


def BIO_get_conn_port(b: BIO | None) -> str | None:
    found = _pointer(b, BIO_C_GET_CONNECT, 1)
    return found if isinstance(found, str) else None


def BIO_get_conn_address(b: BIO | None) -> BIO_ADDR | None:
    found = _pointer(b, BIO_C_GET_CONNECT, 2)
    return found if isinstance(found, BIO_ADDR) else None


def BIO_get_conn_ip_family(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_GET_CONNECT, 3, None)


def BIO_set_nbio(b: BIO | None, n: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_NBIO, n, None)


def BIO_do_handshake(b: BIO | None) -> int:
    # BIO_f_ssl / BIO_s_connect / BIO_s_accept: one ctrl runs each BIO's state machine
    return BIO_ctrl(b, BIO_C_DO_STATE_MACHINE, 0, None)


def BIO_do_connect(b: BIO | None) -> int:
    return BIO_do_handshake(b)


# --- BIO_s_accept.pod: functions and macros ---------------------------------------------------------------------
def BIO_new_accept(host_port: bytes | str) -> BIO | None:
    # BIO_s_accept: DESCRIPTION BIO_new() and BIO_set_accept_name() in one call
    bio = BIO_new(BIO_s_accept())
    if bio is None:
        return None
    if BIO_set_accept_name(bio, host_port) != 1:
        BIO_free(bio)
        return None
    return bio


def BIO_set_accept_name(b: BIO | None, name: bytes | str) -> int:
    return BIO_ctrl(b, BIO_C_SET_ACCEPT, 0, name)


def BIO_set_accept_port(b: BIO | None, port: bytes | str) -> int:
    return BIO_ctrl(b, BIO_C_SET_ACCEPT, 1, port)


def BIO_set_nbio_accept(b: BIO | None, n: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_ACCEPT, 2, "a" if n else None)


def BIO_set_accept_bios(b: BIO | None, bio: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_SET_ACCEPT, 3, bio)


def BIO_set_accept_ip_family(b: BIO | None, family: int) -> int:
    return BIO_int_ctrl(b, BIO_C_SET_ACCEPT, 4, family)


def BIO_get_accept_ip_family(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_GET_ACCEPT, 4, None)


def BIO_set_bind_mode(b: BIO | None, mode: int) -> int:
    return BIO_ctrl(b, BIO_C_SET_BIND_MODE, mode, None)


def BIO_get_bind_mode(b: BIO | None) -> int:
    return BIO_ctrl(b, BIO_C_GET_BIND_MODE, 0, None)


def BIO_do_accept(b: BIO | None) -> int:
    return BIO_do_handshake(b)


def BIO_get_accept_name(b: BIO | None) -> str | None:
    """The name the accept BIO listens on, numeric, once it listens (None before, or for another BIO)."""
    found = _pointer(b, BIO_C_GET_ACCEPT, 0)
    return found if isinstance(found, str) else None


def BIO_get_accept_port(b: BIO | None) -> str | None:
    """The port the accept BIO listens on (after the first BIO_do_accept), None if it is no accept BIO."""
    found = _pointer(b, BIO_C_GET_ACCEPT, 1)
    return found if isinstance(found, str) else None


def BIO_get_peer_name(b: BIO | None) -> str | None:
    found = _pointer(b, BIO_C_GET_ACCEPT, 2)
    return found if isinstance(found, str) else None


def BIO_get_peer_port(b: BIO | None) -> str | None:
    found = _pointer(b, BIO_C_GET_ACCEPT, 3)
    return found if isinstance(found, str) else None
