"""BIO_ADDR (BIO_ADDR.pod): an opaque holder for an AF_INET, AF_INET6 or AF_UNIX socket address.

Raw addresses are network-order bytes (4 for AF_INET, 16 for AF_INET6, the path for AF_UNIX); the raw port is the
16-bit port in network byte order, as the page says, so ``BIO_ADDR_rawport`` of port 443 on a little-endian host is
``socket.htons(443)``. String results are Python ``str`` (the C ``char *``), NULL is None.
"""

from __future__ import annotations

import socket

from engine import err
from engine.bio.constants import AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, BIO_R_INVALID_ARGUMENT
from engine.bio.constants import BIO_R_UNSUPPORTED_PROTOCOL_FAMILY as _UNSUPPORTED

__all__ = [
    "BIO_ADDR", "BIO_ADDR_clear", "BIO_ADDR_family", "BIO_ADDR_free", "BIO_ADDR_hostname_string", "BIO_ADDR_new",
    "BIO_ADDR_path_string", "BIO_ADDR_rawaddress", "BIO_ADDR_rawmake", "BIO_ADDR_rawport", "BIO_ADDR_service_string",
    "addr_from_sockaddr", "addr_to_sockaddr", "live_addr",
]  # fmt: skip

SockAddr = tuple[str, int] | tuple[str, int, int, int] | bytes
_SUN_PATH_MAX = 108  # sizeof(struct sockaddr_un.sun_path) on Linux, NUL included


class BIO_ADDR:
    """Opaque address handle."""

    __slots__ = ("family", "freed", "port", "raw")

    def __init__(self) -> None:
        self.family = AF_UNSPEC
        self.raw = b""
        self.port = 0  # network byte order, as BIO_ADDR_rawport returns it
        self.freed = False

    def __repr__(self) -> str:
        return f"<BIO_ADDR family={self.family} {'freed' if self.freed else ''}>"


def live_addr(ap: object, func: str) -> BIO_ADDR | None:
    if ap is None:
        err.ERR_raise(err.ERR_LIB_BIO, err.ERR_R_PASSED_NULL_PARAMETER, func=func)
        return None
    if not isinstance(ap, BIO_ADDR) or ap.freed:
        what = "BIO_ADDR already freed" if isinstance(ap, BIO_ADDR) else "not a BIO_ADDR"
        err.ERR_raise_data(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, what, func=func)
        return None
    return ap


def BIO_ADDR_new() -> BIO_ADDR:
    return BIO_ADDR()


def BIO_ADDR_free(ap: BIO_ADDR | None) -> None:
    # BIO_ADDR: DESCRIPTION "If the argument is NULL, nothing is done"
    if ap is None:
        return
    a = live_addr(ap, "BIO_ADDR_free")
    if a is not None:
        a.freed = True


def BIO_ADDR_clear(ap: BIO_ADDR | None) -> None:
    a = live_addr(ap, "BIO_ADDR_clear")
    if a is not None:
        a.family, a.raw, a.port = AF_UNSPEC, b"", 0


def BIO_ADDR_rawmake(ap: BIO_ADDR | None, family: int, where: bytes, wherelen: int | None = None,
                     port: int = 0) -> int:  # fmt: skip
    """``BIO_ADDR_rawmake(ap, family, where, wherelen=None, port=0) -> 1/0``; port in network byte order."""
    a = live_addr(ap, "BIO_ADDR_rawmake")
    if a is None:
        return 0
    if not isinstance(where, bytes | bytearray) or not isinstance(port, int) or not 0 <= port <= 0xFFFF:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_ADDR_rawmake")
        return 0
    n = len(where) if wherelen is None else wherelen
    if not isinstance(n, int) or n < 0 or n > len(where):
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_ADDR_rawmake")
        return 0
    raw = bytes(where[:n])
    if family == AF_UNIX:
        # BIO_ADDR: DESCRIPTION rawmake "wherelen is expected to be the length of the path string"
        if n >= _SUN_PATH_MAX:
            err.ERR_raise(err.ERR_LIB_BIO, BIO_R_INVALID_ARGUMENT, func="BIO_ADDR_rawmake")
            return 0
        a.family, a.raw, a.port = AF_UNIX, raw, 0
        return 1
    if (family == AF_INET and n == 4) or (family == AF_INET6 and n == 16):
        a.family, a.raw, a.port = family, raw, port
        return 1
    # libcrypto 3.0 returns 0 here without an entry; the engine adds one
    err.ERR_raise(err.ERR_LIB_BIO, _UNSUPPORTED if family not in (AF_INET, AF_INET6) else BIO_R_INVALID_ARGUMENT,
                  func="BIO_ADDR_rawmake")  # fmt: skip
    return 0


def BIO_ADDR_family(ap: BIO_ADDR | None) -> int:
    # BIO_ADDR: DESCRIPTION "It will also return AF_UNSPEC if the BIO_ADDR has not been initialised"
    a = live_addr(ap, "BIO_ADDR_family")
    return AF_UNSPEC if a is None else a.family


def BIO_ADDR_rawaddress(ap: BIO_ADDR | None) -> tuple[int, bytes, int]:
    """``BIO_ADDR_rawaddress(ap) -> (ret, raw, len)``; (0, b"", 0) when there is no address."""
    a = live_addr(ap, "BIO_ADDR_rawaddress")
    if a is None or a.family == AF_UNSPEC:
        return (0, b"", 0)
    return (1, a.raw, len(a.raw))


def BIO_ADDR_rawport(ap: BIO_ADDR | None) -> int:
    a = live_addr(ap, "BIO_ADDR_rawport")
    if a is None or a.family not in (AF_INET, AF_INET6):
        return 0
    return a.port


def _inet_text(a: BIO_ADDR) -> str:
    return socket.inet_ntop(a.family, a.raw)


def _nameinfo(a: BIO_ADDR, numeric: int, func: str) -> tuple[str, str] | None:
    # BIO_ADDR: DESCRIPTION "This only works for BIO_ADDR of the protocol families AF_INET and AF_INET6"
    if a.family not in (AF_INET, AF_INET6):
        err.ERR_raise(err.ERR_LIB_BIO, _UNSUPPORTED, func=func)
        return None
    host, port = _inet_text(a), socket.ntohs(a.port)
    if numeric:
        return (host, str(port))
    try:
        name, serv = socket.getnameinfo((host, port), 0)
    except OSError as e:
        err.raise_sys(e.errno or 0, "calling getnameinfo()", func=func)
        return None
    return (name, serv)


def BIO_ADDR_hostname_string(ap: BIO_ADDR | None, numeric: int) -> str | None:
    # BIO_ADDR: RETURN VALUES "return NULL on error and leave an error indication on the OpenSSL error stack"
    a = live_addr(ap, "BIO_ADDR_hostname_string")
    if a is None:
        return None
    res = _nameinfo(a, numeric, "BIO_ADDR_hostname_string")
    return None if res is None else res[0]


def BIO_ADDR_service_string(ap: BIO_ADDR | None, numeric: int) -> str | None:
    a = live_addr(ap, "BIO_ADDR_service_string")
    if a is None:
        return None
    res = _nameinfo(a, numeric, "BIO_ADDR_service_string")
    return None if res is None else res[1]


def BIO_ADDR_path_string(ap: BIO_ADDR | None) -> str | None:
    # BIO_ADDR: DESCRIPTION "This only works for BIO_ADDR of the protocol family AF_UNIX"
    a = live_addr(ap, "BIO_ADDR_path_string")
    if a is None:
        return None
    if a.family != AF_UNIX:
        err.ERR_raise(err.ERR_LIB_BIO, _UNSUPPORTED, func="BIO_ADDR_path_string")
        return None
    return a.raw.decode(errors="surrogateescape")


# --- helpers for the socket functions ---------------------------------------------------------------------------
def addr_to_sockaddr(a: BIO_ADDR) -> tuple[int, SockAddr] | None:
    """The (family, Python sockaddr) pair for ``socket`` calls, or None for an unfilled address."""
    if a.family == AF_INET:
        return (AF_INET, (_inet_text(a), socket.ntohs(a.port)))
    if a.family == AF_INET6:
        return (AF_INET6, (_inet_text(a), socket.ntohs(a.port), 0, 0))
    if a.family == AF_UNIX:
        return (AF_UNIX, a.raw)
    return None


def addr_from_sockaddr(a: BIO_ADDR, family: int, sockaddr: object) -> None:
    if family in (AF_INET, AF_INET6) and isinstance(sockaddr, tuple):
        a.family = family
        a.raw = socket.inet_pton(family, sockaddr[0].split("%")[0])
        a.port = socket.htons(sockaddr[1])
    elif family == AF_UNIX:
        a.family = AF_UNIX
        if isinstance(sockaddr, str):
            a.raw = sockaddr.encode(errors="surrogateescape")
        elif isinstance(sockaddr, bytes | bytearray):
            a.raw = bytes(sockaddr)
        else:
            a.raw = b""
        a.port = 0
