"""SSL_SESSION (SSL_get_session.pod, SSL_SESSION_free.pod, SSL_CTX_set_timeout.pod): what a connection negotiated.

The engine records a session when a handshake completes (version, cipher suite, timeout taken from the context).
TLS 1.2 sessions resume by session id: a server keeps its full handshakes' sessions in its SSL_CTX's cache, a client
offers the session set with SSL_set_session. TLS 1.3 sessions are not resumed (tickets are parsed and kept only).
"""

from __future__ import annotations

import time

from engine import err
from engine.ssl.errors import raise_ssl
from engine.tls.session12 import Session12

__all__ = ["SSL_SESSION", "SSL_SESSION_free", "SSL_SESSION_get_protocol_version", "SSL_SESSION_get_time",
           "SSL_SESSION_get_timeout", "SSL_SESSION_up_ref", "live_session"]  # fmt: skip


class SSL_SESSION:
    """An opaque session handle."""

    def __init__(self, version: int, cipher: int, timeout: int, state: Session12 | None = None) -> None:
        self.version = version
        self.state = state  # what a TLS 1.2 resumption needs (engine.tls.session12), None for TLS 1.3 sessions
        self.cipher = cipher
        self.timeout = timeout
        self.time = int(time.time())
        self.references = 1
        self.freed = False

    def __repr__(self) -> str:
        return f"<SSL_SESSION {'freed' if self.freed else f'refs={self.references}'}>"


def live_session(s: object, func: str) -> SSL_SESSION | None:
    if s is None:
        raise_ssl(err.ERR_R_PASSED_NULL_PARAMETER, func)
        return None
    if not isinstance(s, SSL_SESSION) or s.freed:
        raise_ssl(err.ERR_R_PASSED_INVALID_ARGUMENT, func, "not a live SSL_SESSION")
        return None
    return s


def SSL_SESSION_up_ref(ses: SSL_SESSION | None) -> int:
    s = live_session(ses, "SSL_SESSION_up_ref")
    if s is None:
        return 0
    s.references += 1
    return 1


def SSL_SESSION_free(session: SSL_SESSION | None) -> None:
    # SSL_SESSION_free: "If session is NULL nothing is done"
    if session is None:
        return
    s = live_session(session, "SSL_SESSION_free")
    if s is not None:
        s.references -= 1
        s.freed = s.references <= 0


def SSL_SESSION_get_timeout(s: SSL_SESSION | None) -> int:
    ses = live_session(s, "SSL_SESSION_get_timeout")
    return 0 if ses is None else ses.timeout


def SSL_SESSION_get_time(s: SSL_SESSION | None) -> int:
    ses = live_session(s, "SSL_SESSION_get_time")
    return 0 if ses is None else ses.time


def SSL_SESSION_get_protocol_version(s: SSL_SESSION | None) -> int:
    # SSL_SESSION_get_protocol_version: the version the session was negotiated with (TLS1_2_VERSION, ...)
    ses = live_session(s, "SSL_SESSION_get_protocol_version")
    return 0 if ses is None else ses.version
