"""BIO_ADDRINFO and BIO_lookup (BIO_ADDRINFO.pod): name lookup through the platform's getaddrinfo().

BIO_lookup_ex() asks getaddrinfo() (Python's ``socket.getaddrinfo``, the same C function) for ``host`` and
``service`` with ``family`` / ``socktype`` / ``protocol`` as hints (0 and AF_UNSPEC: any) and AI_PASSIVE for
BIO_LOOKUP_SERVER, so a NULL host gives the wildcard address for a server and loopback for a client. The results
become a chain of BIO_ADDRINFO entries in getaddrinfo()'s order. AF_UNIX is not looked up: the one entry carries
``host`` as the socket path and the service is ignored (DESCRIPTION). A family outside AF_INET, AF_INET6, AF_UNIX
and AF_UNSPEC, or a lookup that fails, returns 0 with an error entry (RETURN VALUES).

The accessors answer 0 or NULL for a NULL entry, and BIO_ADDRINFO_free() frees from the entry given to the end of
the chain, NULL doing nothing. As in OpenSSL 3.0 the protocol of an entry is IPPROTO_TCP for SOCK_STREAM and
IPPROTO_UDP for SOCK_DGRAM when getaddrinfo() leaves it 0, and 0 for AF_UNIX. The page limits an entry's socket
type to SOCK_STREAM and SOCK_DGRAM and its protocol to TCP and UDP, so the SOCK_RAW entries glibc adds when the
socket type is 0 are left out (libcrypto 3.0 passes them on: an erratum in conformance/expectations/libssl.toml).
"""

from __future__ import annotations

import socket

from engine import err
from engine.bio.addr import BIO_ADDR, addr_from_sockaddr
from engine.bio.constants import AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, BIO_R_UNSUPPORTED_PROTOCOL_FAMILY

__all__ = [
    "BIO_ADDRINFO",
    "BIO_LOOKUP_CLIENT",
    "BIO_LOOKUP_SERVER",
    "BIO_ADDRINFO_address",
    "BIO_ADDRINFO_family",
    "BIO_ADDRINFO_free",
    "BIO_ADDRINFO_next",
    "BIO_ADDRINFO_protocol",
    "BIO_ADDRINFO_socktype",
    "BIO_lookup",
    "BIO_lookup_ex",
]  # fmt: skip

BIO_LOOKUP_CLIENT = 0
BIO_LOOKUP_SERVER = 1
BIO_R_LOOKUP_RETURNED_NOTHING = 142  # openssl/bioerr.h (3.0)


class BIO_ADDRINFO:
    """One entry of a lookup result; ``next`` links the chain."""

    __slots__ = ("addr", "family", "freed", "next", "protocol", "socktype")

    def __init__(self, family: int, socktype: int, protocol: int, addr: BIO_ADDR) -> None:
        self.family = family
        self.socktype = socktype
        self.protocol = protocol
        self.addr = addr
        self.next: BIO_ADDRINFO | None = None
        self.freed = False

    def __repr__(self) -> str:
        return f"<BIO_ADDRINFO family={self.family} type={self.socktype}{' freed' if self.freed else ''}>"


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return value if isinstance(value, str) else None


def _default_protocol(socktype: int, protocol: int) -> int:
    if protocol:
        return protocol
    if socktype == socket.SOCK_STREAM:
        return socket.IPPROTO_TCP
    if socktype == socket.SOCK_DGRAM:
        return socket.IPPROTO_UDP
    return 0


def BIO_lookup_ex(host: str | bytes | None, service: str | bytes | None, lookup_type: int, family: int,
                  socktype: int, protocol: int) -> tuple[int, BIO_ADDRINFO | None]:
    """``BIO_lookup_ex(...) -> (ret, res)``: ``res`` is the head of the chain (None when ret is 0)."""
    func = "BIO_lookup_ex"
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (lookup_type, family, socktype, protocol)):
        err.ERR_raise(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, func=func)
        return (0, None)
    if family not in (AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC):
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_UNSUPPORTED_PROTOCOL_FAMILY, func=func)
        return (0, None)
    h, s = _text(host), _text(service)
    if (host is not None and h is None) or (service is not None and s is None):
        err.ERR_raise(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, func=func)
        return (0, None)
    if family == AF_UNIX:
        if h is None:
            err.ERR_raise(err.ERR_LIB_BIO, err.ERR_R_PASSED_NULL_PARAMETER, func=func)
            return (0, None)
        a = BIO_ADDR()
        addr_from_sockaddr(a, AF_UNIX, h)
        return (1, BIO_ADDRINFO(AF_UNIX, socktype, 0, a))
    flags = socket.AI_PASSIVE if lookup_type == BIO_LOOKUP_SERVER else 0
    try:
        found = socket.getaddrinfo(h, s, family, socktype, protocol, flags)
    except (OSError, UnicodeError) as e:
        err.ERR_raise_data(err.ERR_LIB_BIO, BIO_R_LOOKUP_RETURNED_NOTHING, f"getaddrinfo: {e}", func=func)
        return (0, None)
    head: BIO_ADDRINFO | None = None
    tail: BIO_ADDRINFO | None = None
    for fam, typ, proto, _canon, sockaddr in found:
        if int(fam) not in (AF_INET, AF_INET6) or int(typ) not in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            continue  # DESCRIPTION: an entry's socket type is SOCK_STREAM or SOCK_DGRAM (glibc adds SOCK_RAW)
        a = BIO_ADDR()
        addr_from_sockaddr(a, int(fam), sockaddr)
        entry = BIO_ADDRINFO(int(fam), int(typ), _default_protocol(int(typ), int(proto)), a)
        if tail is None:
            head = entry
        else:
            tail.next = entry
        tail = entry
    if head is None:
        err.ERR_raise(err.ERR_LIB_BIO, BIO_R_LOOKUP_RETURNED_NOTHING, func=func)
        return (0, None)
    return (1, head)


def BIO_lookup(host: str | bytes | None, service: str | bytes | None, lookup_type: int, family: int,
               socktype: int) -> tuple[int, BIO_ADDRINFO | None]:
    # BIO_ADDRINFO: DESCRIPTION "does the same as BIO_lookup_ex() but ... any protocol may be returned"
    return BIO_lookup_ex(host, service, lookup_type, family, socktype, 0)


def _live(bai: object) -> BIO_ADDRINFO | None:
    if isinstance(bai, BIO_ADDRINFO) and not bai.freed:
        return bai
    if bai is not None:
        err.ERR_raise_data(err.ERR_LIB_BIO, err.ERR_R_PASSED_INVALID_ARGUMENT, "not a live BIO_ADDRINFO",
                           func="BIO_ADDRINFO")
    return None


def BIO_ADDRINFO_next(bai: BIO_ADDRINFO | None) -> BIO_ADDRINFO | None:
    b = _live(bai)
    return None if b is None else b.next


def BIO_ADDRINFO_family(bai: BIO_ADDRINFO | None) -> int:
    b = _live(bai)
    return 0 if b is None else b.family


def BIO_ADDRINFO_socktype(bai: BIO_ADDRINFO | None) -> int:
    b = _live(bai)
    return 0 if b is None else b.socktype


def BIO_ADDRINFO_protocol(bai: BIO_ADDRINFO | None) -> int:
    b = _live(bai)
    return 0 if b is None else b.protocol


def BIO_ADDRINFO_address(bai: BIO_ADDRINFO | None) -> BIO_ADDR | None:
    b = _live(bai)
    return None if b is None else b.addr


def BIO_ADDRINFO_free(bai: BIO_ADDRINFO | None) -> None:
    # BIO_ADDRINFO: DESCRIPTION "If the argument is NULL, nothing is done"; frees from bai to the end of the chain
    b = _live(bai) if bai is not None else None
    while b is not None and not b.freed:
        b.freed = True
        b.addr.freed = True
        b = b.next
