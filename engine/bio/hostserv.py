"""BIO_parse_hostserv (BIO_parse_hostserv.pod): split "host:service" strings.

The grammar is the page's: ``host:service``, ``host:*``, ``host:``, ``:service``, ``*:service``, and a bare word
that is the host or the service as ``hostserv_prio`` says. An IPv6 host is written in brackets (``[::1]:443``,
``[::1]``). A host or service that is empty or ``*`` comes back as NULL; with no colon the other part is left as the
caller had it (the engine's calling convention: the caller's values go in as ``host`` / ``service`` and the
results come back in the tuple).

Where the page is silent the engine does what OpenSSL 3.0 does: an unbracketed string with more than one colon
(a bare IPv6 address, or one with a port) is refused as ambiguous, a bracket that is not closed or not followed by
the end or ':' and a colon inside the service are refused as malformed; each failure is 0 with an error entry. The
service is returned as written: names are mapped to ports later, by BIO_lookup().
"""

from __future__ import annotations

from engine import err

__all__ = ["BIO_PARSE_PRIO_HOST", "BIO_PARSE_PRIO_SERV", "BIO_parse_hostserv"]

BIO_PARSE_PRIO_HOST = 0
BIO_PARSE_PRIO_SERV = 1
BIO_R_AMBIGUOUS_HOST_OR_SERVICE = 129  # openssl/bioerr.h (3.0)
BIO_R_MALFORMED_HOST_OR_SERVICE = 130

_FUNC = "BIO_parse_hostserv"


def _part(text: str) -> str | None:
    return None if text in ("", "*") else text


def _fail(reason: int, host: str | None, service: str | None) -> tuple[int, str | None, str | None]:
    err.ERR_raise(err.ERR_LIB_BIO, reason, func=_FUNC)
    return (0, host, service)


def BIO_parse_hostserv(
    hostserv: str | bytes | None, hostserv_prio: int, host: str | None = None, service: str | None = None
) -> tuple[int, str | None, str | None]:
    """``BIO_parse_hostserv(hostserv, prio, host=None, service=None) -> (ret, host, service)``: ``host`` and
    ``service`` are what ``*host`` / ``*service`` held before the call; the tuple holds them afterwards."""
    if isinstance(hostserv, bytes):
        try:
            hostserv = hostserv.decode("ascii")
        except UnicodeDecodeError:
            return _fail(BIO_R_MALFORMED_HOST_OR_SERVICE, host, service)
    if not isinstance(hostserv, str) or "\0" in hostserv:
        err.ERR_raise(err.ERR_LIB_BIO, err.ERR_R_PASSED_NULL_PARAMETER if hostserv is None
                      else err.ERR_R_PASSED_INVALID_ARGUMENT, func=_FUNC)
        return (0, host, service)
    h: str | None
    p: str | None
    if hostserv.startswith("["):
        close = hostserv.find("]")
        if close < 0:
            return _fail(BIO_R_MALFORMED_HOST_OR_SERVICE, host, service)
        h, rest = hostserv[1:close], hostserv[close + 1 :]
        if rest == "":
            p = None
        elif rest.startswith(":"):
            p = rest[1:]
        else:
            return _fail(BIO_R_MALFORMED_HOST_OR_SERVICE, host, service)
    else:
        colons = hostserv.count(":")
        if colons > 1:
            return _fail(BIO_R_AMBIGUOUS_HOST_OR_SERVICE, host, service)
        if colons == 1:
            h, p = hostserv.split(":")
        elif hostserv_prio == BIO_PARSE_PRIO_HOST:
            h, p = hostserv, None
        else:
            h, p = None, hostserv
    if p is not None and ":" in p:
        return _fail(BIO_R_MALFORMED_HOST_OR_SERVICE, host, service)
    if h is not None:
        host = _part(h)
    if p is not None:
        service = _part(p)
    return (1, host, service)
