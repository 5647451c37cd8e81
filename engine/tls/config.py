"""Configuration and the injected environment of a TLS connection.

:class:`TLSConfig` is what the application chooses (suites, groups, certificates, names). :class:`TLSContext` is
everything that would otherwise be a global: randomness, the clock, ephemeral key generation and signing. Tests
replace those to reproduce RFC 8448 byte for byte; nothing in the core reads ``os.urandom`` or the clock directly.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography import x509

from .alpn import AlpnSelector
from .keyexchange import KeyGenerator, NamedGroup, generate_private_key
from .keyschedule import CipherSuite
from .messages import Extension, NewSessionTicket
from .record import PaddingPolicy
from .session12 import Session12, SessionCache12
from .session13 import Ticket13, TicketSealer
from .signatures import SUPPORTED_SIGNATURE_SCHEMES, TLS12_SIGNATURE_SCHEMES, PrivateKey, Signer, sign, sign12
from .suites12 import SUITES12


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(slots=True)
class TLSContext:
    random: Callable[[int], bytes] = os.urandom
    now: Callable[[], datetime.datetime] = _utcnow
    generate_key_share: KeyGenerator = generate_private_key
    sign: Signer = sign
    sign12: Signer = sign12
    """TLS 1.2 signatures (ServerKeyExchange, CertificateVerify)."""
    record_padding: PaddingPolicy | None = None
    edit_handshake: Callable[[bytes], bytes] | None = None
    """Test-only (engine.tls.misbehave, never set by engine.ssl): changes each handshake message we build before it
    enters our transcript and goes out, so our keys and Finished cover what was sent."""


TicketIssuer = Callable[[CipherSuite, bytes], NewSessionTicket]
"""``(suite, resumption_secret) -> NewSessionTicket`` for a server that issues tickets."""

@dataclass(frozen=True, slots=True)
class DeclineWithWarning:
    """A server name callback's answer: the name is not acknowledged and, in TLS 1.2, a warning alert says so."""

    alert: int


ServerNameCallback = Callable[["str | None"], "bool | DeclineWithWarning"]
"""Server: ``(host name the client sent, or None) -> acknowledge it`` (the application's SNI callback); it raises
:class:`TLSAlertError` to end the handshake. It runs once per ClientHello, before ALPN and the certificate choice,
and may change ``TLSConfig.certificates`` (the application switching certificates by name)."""

CookieMaker = Callable[[bytes], bytes]
"""``(hash of ClientHello1) -> cookie`` for a server that puts a cookie in its HelloRetryRequest."""


@dataclass(slots=True)
class TLSConfig:
    # -- both roles --------------------------------------------------------------------------------------------
    cipher_suites: tuple[int, ...] = (0x1301, 0x1302, 0x1303)
    """TLS 1.3 cipher suites in preference order (a server's order decides only with
    ``server_cipher_preference``)."""
    cipher_suites12: tuple[int, ...] = tuple(SUITES12)
    """TLS 1.2 cipher suites in preference order (``engine.tls.suites12``); also sent by a client offering 1.2."""
    groups: tuple[int, ...] = (NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1)
    """Key exchange groups in preference order (the server's order decides, see server13)."""
    signature_algorithms: tuple[int, ...] = SUPPORTED_SIGNATURE_SCHEMES
    signature_algorithms12: tuple[int, ...] = TLS12_SIGNATURE_SCHEMES
    """What we sign and accept in TLS 1.2 (a client offering both versions sends the union)."""
    certificate_chain: list[x509.Certificate] = field(default_factory=list)
    private_key: PrivateKey | None = None
    trusted_roots: list[x509.Certificate] = field(default_factory=list)
    verify_peer: bool = True
    """Client: verify the server chain and name. Server: verify a client chain if one is sent."""
    check_chain: Callable[[list[x509.Certificate]], None] | None = None
    """When set, it replaces the built-in check of the peer's chain (leaf first) and is called for every chain the
    peer sends, whatever ``verify_peer`` says: it raises :class:`~engine.tls.alerts.TLSAlertError` to reject the
    chain and returns to accept it (the layer above runs its own verification procedure and callbacks)."""
    alpn_protocols: tuple[bytes, ...] = ()
    middlebox_compat: bool = True
    """RFC 9846 appendix E.4: non-empty legacy_session_id and dummy change_cipher_spec records."""
    record_per_message: bool = False
    """Seal every handshake message in a record of its own (as libssl does) instead of packing a flight's messages
    of one epoch into as few records as they fit (as the RFC 8448 traces do). RFC 9846 section 5.1 allows both."""
    extension_order: tuple[int, ...] = ()
    """Extension types in the order they should appear in the messages we build; others follow."""
    record_size_limit: int | None = None
    """The largest record we accept, announced with record_size_limit (RFC 8449, ``engine.tls.recordlimit``): in
    TLS 1.3 the inner plaintext, in TLS 1.2 the plaintext (at most 2^14); a server with it answers a client that
    sent one. None: not supported."""
    max_fragment_length: int = 0
    """Client: the max_fragment_length mode to ask for (RFC 6066 section 4, ``engine.tls.maxfraglen``; 1..4 for
    2^9..2^12 bytes, 0 asks for nothing). A server always answers a valid request."""
    key_usage_limit: int | None = None
    """TLS 1.3: records one write key may protect before a KeyUpdate replaces it (RFC 9846 section 5.5). None: the
    section's AES-GCM limit (2^24 records, under its 2^24.5) and none for ChaCha20-Poly1305, whose sequence
    number wraps first; tests inject a small value."""
    max_handshake_message: int = 1 << 18
    max_certificate_message: int = 100 * 1024
    """The largest Certificate message taken from the peer (SSL_set_max_cert_list; OpenSSL's default 100 KiB)."""
    supported_versions: tuple[int, ...] = (0x0304,)
    """Versions we offer (client, in ClientHello) or accept (server), in preference order: 0x0304 TLS 1.3,
    0x0303 TLS 1.2. A client without TLS 1.3 sends no supported_versions extension (RFC 9846 section 4.3.1)."""

    # -- TLS 1.2 -----------------------------------------------------------------------------------------------
    extended_master_secret: bool = True
    """Offer (client) / accept (server) the extended master secret (RFC 7627)."""
    encrypt_then_mac: bool = True
    """Offer / accept encrypt-then-MAC for CBC suites (RFC 7366)."""
    allow_renegotiation: bool = True
    """Client: answer a HelloRequest with a new handshake (else a no_renegotiation warning). Server: accept a
    renegotiating ClientHello (else a no_renegotiation warning). Always only with secure renegotiation (RFC 5746)."""
    renegotiation_allowed: Callable[[], bool] | None = None
    """If set, asked instead of ``allow_renegotiation`` each time the peer offers a renegotiation (a HelloRequest
    or a renegotiating ClientHello arrives): the application's setting as it is then, not at the first handshake."""
    session_cache12: SessionCache12 | None = None
    """Server: where full TLS 1.2 handshakes store their session and resumption looks it up (None: no cache)."""
    resume_session12: Session12 | None = None
    """Client: a TLS 1.2 session to offer for resumption in the first ClientHello."""
    session_tickets12: bool = True
    """RFC 5077 session tickets. Client: offer the SessionTicket extension (with the ticket of
    ``resume_session12``, if it holds one). Server: with a ``ticket_sealer``, issue tickets to a client that offered
    the extension and resume from the tickets it sends back (``engine.tls.session12``). SSL_OP_NO_TICKET clears it."""
    ticket_renew_after12: int | None = None
    """Server: renew a TLS 1.2 ticket (a NewSessionTicket in the abbreviated handshake) once it is this many
    seconds old; None never renews one that still opens (OpenSSL 3.0 renews only when its ticket callback asks)."""
    send_fallback_scsv: bool = False
    """Client: put TLS_FALLBACK_SCSV in the ClientHello (RFC 7507), for a retry with a lower version."""

    # -- client ------------------------------------------------------------------------------------------------
    defer_client_certificate: bool = False
    """On a CertificateRequest, stop after the server's Finished with a :class:`CertificateRequested` event until
    the user calls ``TLSConnection.send_client_certificate`` (the application picks the certificate late)."""
    defer_certificate_check: bool = False
    """After the server's Certificate, stop with a :class:`CertificateReceived` event (and process nothing more)
    until ``TLSConnection.resume_certificate_check`` says whether the application accepts the chain; the built-in
    verification is then skipped (the application decides)."""
    server_name: str | None = None
    """SNI to send (None: no server_name extension)."""
    verify_host: str | None = None
    """With ``verify_peer``, the name the server certificate must match (a DNS name or an IP address); None checks
    the chain only. Kept apart from ``server_name``, as OpenSSL keeps SSL_set_tlsext_host_name (SNI) apart from
    SSL_set1_host (the name to verify)."""
    key_share_groups: tuple[int, ...] | None = None
    """Groups to send key shares for in the first ClientHello (default: the first of ``groups``)."""
    advertised_groups: tuple[int, ...] | None = None
    """supported_groups as sent (default ``groups``); may list groups we cannot use, as RFC 8448 clients do."""
    psk_key_exchange_modes: tuple[int, ...] = (1,)
    resume_ticket13: Ticket13 | None = None
    """A TLS 1.3 ticket to offer in pre_shared_key (psk_dhe_ke), if it is still within its lifetime."""
    extra_extensions: tuple[Extension, ...] = ()
    """Extra opaque extensions for ClientHello (client) or EncryptedExtensions (server)."""
    pad_client_hello: bool = False
    """Pad a ClientHello of 256..511 bytes to 512 with the padding extension (RFC 7685)."""

    # -- server ------------------------------------------------------------------------------------------------
    server_cipher_preference: bool = True
    """Choose the cipher suite (both versions) by our order; False: by the order of the client's list
    (``suite_order``)."""
    prioritize_chacha: bool = False
    """With ``server_cipher_preference``: when the client lists a ChaCha20-Poly1305 suite first, our
    ChaCha20-Poly1305 suites move to the front of our order."""
    request_client_certificate: bool = False
    require_client_certificate: bool = False
    client_ca_names: tuple[bytes, ...] = ()
    """DER distinguished names a CertificateRequest lists as acceptable certificate authorities (TLS 1.3: the
    certificate_authorities extension, RFC 9846 section 4.3.4; TLS 1.2: its certificate_authorities field)."""
    advertise_groups: tuple[int, ...] | None = None
    """supported_groups to announce in EncryptedExtensions (RFC 9846 section 4.3.7), if any."""
    hrr_cookie: CookieMaker | None = None
    session_tickets: int = 0
    # TLS 1.3 post-handshake client authentication (RFC 9846 section 4.2.6 / 4.6.2): a client offers the
    # post_handshake_auth extension; a server with post_handshake_only sends no CertificateRequest in the handshake
    post_handshake_auth: bool = False
    post_handshake_only: bool = False
    """NewSessionTickets to send after the handshake."""
    ticket_issuer: TicketIssuer | None = None
    ticket_sealer: TicketSealer | None = None
    """Issue resumable tickets sealed with this key, and accept them back (RFC 9846 section 4.3.11); None: the
    tickets sent cannot be resumed and every pre_shared_key offer is ignored."""
    ticket_lifetime: int = 7200
    max_early_data_skip: int = 16384
    """RFC 9846 section 4.3.10: how much of a client's early data (which this server never accepts) it skips; as
    OpenSSL 3.0's default recv_max_early_data (SSL3_RT_MAX_PLAIN_LENGTH)."""
    """ticket_lifetime of the tickets issued, in seconds (the engine passes SSL_CTX_get_timeout)."""
    alpn_select: AlpnSelector | None = None
    """The application's ALPN choice (``engine.tls.alpn.server_choice``); None: ``alpn_protocols`` decides."""
    server_name_callback: ServerNameCallback | None = None
    certificates: list[tuple[list[x509.Certificate], PrivateKey]] = field(default_factory=list)
    """Further certificate chains with their keys besides ``certificate_chain`` / ``private_key``; the server
    picks one from the client's signature_algorithms (``engine.tls.certselect``)."""


CHACHA_SUITES = frozenset({0x1303, 0xCCA8, 0xCCA9})
"""TLS_CHACHA20_POLY1305_SHA256 and the two TLS 1.2 ECDHE ChaCha20-Poly1305 suites."""


def suite_order(config: TLSConfig, ours: tuple[int, ...], offered: Sequence[int]) -> list[int]:
    """The suites both sides have, best first: in the client's order unless ``server_cipher_preference``, then in
    ours (ChaCha20-Poly1305 first when ``prioritize_chacha`` and the client put one first)."""
    if not config.server_cipher_preference:
        mine = set(ours)
        return [code for code in offered if code in mine]
    theirs = set(offered)
    order = [code for code in ours if code in theirs]
    if config.prioritize_chacha and offered and offered[0] in CHACHA_SUITES:
        order.sort(key=lambda code: code not in CHACHA_SUITES)  # stable: each group keeps our order
    return order
