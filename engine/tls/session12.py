"""A TLS 1.2 session as the core keeps it for session-ID resumption (RFC 5246 sections 7.3, 7.4.1.2, F.1.4).

What an abbreviated handshake needs from the full one: the id, the master secret, the cipher suite, whether the
master secret is an extended one (RFC 7627 section 5.3 forbids resuming across that difference), and what the
application may ask about afterwards (peer certificates, server name, ALPN).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field

from cryptography import x509


@dataclass(frozen=True, slots=True)
class Session12:
    session_id: bytes
    master_secret: bytes = field(repr=False)
    cipher_suite: int
    extended_master_secret: bool
    peer_chain: tuple[x509.Certificate, ...] = ()
    server_name: str | None = None
    alpn: bytes | None = None


SessionCache12 = MutableMapping[bytes, Session12]
"""A server's session cache: session id -> session (the engine's SSL_CTX keeps one)."""
