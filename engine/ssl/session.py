"""SSL_SESSION (SSL_get_session.pod, SSL_SESSION_free.pod, SSL_CTX_set_timeout.pod): what a connection negotiated.

The engine records a session when a handshake completes (version, cipher suite, timeout taken from the context).
TLS 1.2 sessions resume by session id: a server keeps its full handshakes' sessions in its SSL_CTX's cache, a client
offers the session set with SSL_set_session. TLS 1.3 sessions resume from tickets: each NewSessionTicket a client
receives makes a new session that holds it (SSL_get_session: NOTES, the last one received), which SSL_set_session
offers in a pre_shared_key (engine.tls.session13).
"""

from __future__ import annotations

import datetime
import time
from dataclasses import replace

from engine import err
from engine.ssl.errors import raise_ssl
from engine.tls.session12 import Session12
from engine.tls.session13 import Ticket13

__all__ = ["SSL_SESSION", "SSL_SESSION_free", "SSL_SESSION_get_max_fragment_length",
           "SSL_SESSION_get_protocol_version", "SSL_SESSION_get_time", "SSL_SESSION_get_timeout",
           "SSL_SESSION_is_resumable", "SSL_SESSION_set_time", "SSL_SESSION_set_timeout", "SSL_SESSION_up_ref",
           "live_session"]  # fmt: skip


class SSL_SESSION:
    """An opaque session handle."""

    def __init__(self, version: int, cipher: int, timeout: int, state: Session12 | None = None,
                 ticket: Ticket13 | None = None, now: float | None = None) -> None:  # fmt: skip
        self.version = version
        self.state = state  # what a TLS 1.2 resumption needs (engine.tls.session12), None for TLS 1.3 sessions
        self.ticket = ticket  # TLS 1.3: the ticket that makes the session resumable (None: not resumable)
        self.cipher = cipher
        self.timeout = timeout
        self.time = int(time.time() if now is None else now)
        self.made = self.time
        self.bad = False  # taken from an unclosed connection (SSL_free / SSL_set_session: a bad session)
        self.references = 1
        self.freed = False
        self.max_fragment_mode = 0  # RFC 6066: the max_fragment_length mode its handshake negotiated

    def resumable(self) -> bool:
        # OpenSSL 3.0 (the page is silent on what makes a session resumable): a session id or a ticket
        if self.bad:
            return False
        state = self.state
        return self.ticket is not None or (state is not None and bool(state.session_id or state.ticket))

    def ticket_to_offer(self) -> Ticket13 | None:
        """The ticket, its receipt time moved with SSL_SESSION_set_time, and its lifetime no longer than the
        session's timeout (SSL_CTX_set_timeout: NOTES the session is not reused past time plus timeout)."""
        t = self.ticket
        if t is None or self.bad:
            return None
        moved = t.received + datetime.timedelta(seconds=self.time - self.made)
        return replace(t, received=moved, lifetime=min(t.lifetime, max(0, self.timeout)))

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


def SSL_SESSION_get_max_fragment_length(session: SSL_SESSION | None) -> int:
    """SSL_CTX_set_split_send_fragment: DESCRIPTION the negotiated mode; NOTES DISABLED when the server did not
    answer the request (its support is optional)."""
    ses = live_session(session, "SSL_SESSION_get_max_fragment_length")
    return 0 if ses is None else ses.max_fragment_mode


def SSL_SESSION_is_resumable(s: SSL_SESSION | None) -> int:
    # SSL_SESSION_is_resumable: RETURN VALUES 1 if the session can resume, else 0
    ses = live_session(s, "SSL_SESSION_is_resumable")
    return 1 if ses is not None and ses.resumable() else 0


def SSL_SESSION_set_time(s: SSL_SESSION | None, t: int) -> int:
    # SSL_SESSION_get_time: RETURN VALUES set_time returns 1 on success (0 for a NULL session)
    ses = live_session(s, "SSL_SESSION_set_time")
    if ses is None or not isinstance(t, int):
        return 0
    ses.time = t
    return 1


def SSL_SESSION_set_timeout(s: SSL_SESSION | None, t: int) -> int:
    ses = live_session(s, "SSL_SESSION_set_timeout")
    if ses is None or not isinstance(t, int):
        return 0
    ses.timeout = t
    return 1
