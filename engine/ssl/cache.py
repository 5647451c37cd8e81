"""The SSL_CTX session cache as the TLS core sees it, with its mode and statistics.

Pages: SSL_CTX_set_session_cache_mode (modes), SSL_CTX_sess_number (counters), SSL_CTX_set_timeout (expiry),
SSL_CTX_sess_set_cache_size (the bound and SSL_CTX_sess_cache_full).

Theory of operation: the context keeps its cached TLS 1.2 sessions in ``ctx.sessions`` (session id -> Session12)
and, per id, when the session was made and its timeout (``ctx.session_times``). The TLS 1.2 server core only sees a
:class:`ServerCacheView` of it, a mapping whose lookups and stores apply the cache mode, expiry and the size bound,
and count hits... as the pages define them. Counters that are not about the cache (handshakes started and
completed, hits of either role) are counted by the SSL object when its handshake starts and completes.

Time comes from ``ctx.clock`` (seconds since the epoch), so tests move it instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.ssl import constants as K
from engine.tls.session12 import Session12

if TYPE_CHECKING:
    from engine.ssl.context import SSL_CTX

__all__ = ["Lifetime", "ServerCacheView", "SessionStats"]


@dataclass(slots=True)
class Lifetime:
    """When a cached session was made and how long it lives (the server's SSL_SESSION replaces it once the
    handshake has made one, so SSL_SESSION_set_time / set_timeout on it count)."""

    time: int
    timeout: int


@dataclass(slots=True)
class SessionStats:
    """The counters of SSL_CTX_sess_number.pod (SSL_CTX_sess_number itself is the size of the cache)."""

    connect: int = 0
    connect_good: int = 0
    connect_renegotiate: int = 0
    accept: int = 0
    accept_good: int = 0
    accept_renegotiate: int = 0
    hits: int = 0
    cb_hits: int = 0
    misses: int = 0
    timeouts: int = 0
    cache_full: int = 0


class ServerCacheView(MutableMapping[bytes, Session12]):
    """``config.session_cache12`` of a server: the context's cache under its mode."""

    def __init__(self, ctx: SSL_CTX, *, lookups: bool = True) -> None:
        self._ctx = ctx
        self._lookups = lookups  # False: stores only (SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION)

    def __getitem__(self, session_id: bytes) -> Session12:
        ctx = self._ctx
        if not self._lookups:
            raise KeyError(session_id)
        mode = ctx.session_cache_mode
        # SSL_CTX_set_session_cache_mode: NOTES a server looks sessions up only with SSL_SESS_CACHE_SERVER and
        # without SSL_SESS_CACHE_NO_INTERNAL_LOOKUP
        if not mode & K.SSL_SESS_CACHE_SERVER or mode & K.SSL_SESS_CACHE_NO_INTERNAL_LOOKUP:
            raise KeyError(session_id)
        state = ctx.sessions.get(session_id)
        if state is None:
            ctx.stats.misses += 1  # SSL_CTX_sess_misses: proposed, not in the internal cache
            raise KeyError(session_id)
        life = ctx.session_times.get(session_id)
        if life is not None and ctx.clock() > life.time + life.timeout:
            # SSL_CTX_set_timeout: NOTES past creation time plus timeout the session is not reused;
            # SSL_CTX_sess_timeouts counts it (and not as a hit)
            ctx.stats.timeouts += 1
            ctx.remove_session(state)
            raise KeyError(session_id)
        return state

    def __setitem__(self, session_id: bytes, state: Session12) -> None:
        ctx = self._ctx
        mode = ctx.session_cache_mode
        if not mode & K.SSL_SESS_CACHE_SERVER or mode & K.SSL_SESS_CACHE_NO_INTERNAL_STORE:
            return
        size = ctx.session_cache_size
        # SSL_CTX_sess_set_cache_size: a full cache drops its oldest sessions (SSL_CTX_sess_cache_full counts them)
        while size > 0 and len(ctx.sessions) >= size and ctx.sessions:
            oldest = next(iter(ctx.sessions.values()))
            ctx.remove_session(oldest)
            ctx.stats.cache_full += 1
        ctx.sessions[session_id] = state
        ctx.session_times[session_id] = Lifetime(int(ctx.clock()), ctx.session_timeout)

    def __delitem__(self, session_id: bytes) -> None:
        state = self._ctx.sessions.get(session_id)
        if state is None:
            raise KeyError(session_id)
        self._ctx.remove_session(state)

    def __iter__(self) -> Iterator[bytes]:
        return iter(list(self._ctx.sessions))

    def __len__(self) -> int:
        return len(self._ctx.sessions)
