"""What the TLS 1.2 client and server machines share (RFC 5246, RFC 7627, RFC 5746, RFC 7366).

* The transcript: TLS 1.2 signs the handshake messages themselves (CertificateVerify) and hashes them with the PRF
  hash of the suite (Finished, the extended master secret), so the raw messages of the current handshake are kept
  and hashed when needed. HelloRequest is never part of it (RFC 5246 section 7.4.1.1).
* Keys: master secret (extended when both sides agreed, RFC 7627), key block, and one record protection object per
  direction from ``protection12``, installed at the change_cipher_spec of that direction.
* change_cipher_spec is a record, not a handshake message, but it is a step of the state machine: it is dispatched
  through the same transition table under the pseudo type :data:`~engine.tls.handshake.CHANGE_CIPHER_SPEC`, so a
  CCS out of place is unexpected_message from the one place that raises it.
* Secure renegotiation (RFC 5746): the verify_data of the last Finished of each side is kept for the
  renegotiation_info of the next handshake; a connection without secure renegotiation never renegotiates.
"""

from __future__ import annotations

import hmac
from enum import Enum
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from . import certificates, prf12
from .alerts import AlertDescription, TLSAlertError, decode_error
from .config import TLSConfig, TLSContext
from .events import HandshakeComplete
from .handshake import CHANGE_CIPHER_SPEC, HandshakeMachine, SendChangeCipherSpec, SendHandshake
from .keyexchange import NamedGroup
from .messages import Extension, Finished, HandshakeBody, Message, build_handshake
from .messages import ExtensionType as X
from .messages12 import build_ec_point_formats
from .protection12 import Direction, RecordProtection12, protection_for
from .record import Epoch
from .session12 import Session12
from .suites12 import SUITES12, Suite12

TLS12 = 0x0303
TLS13 = 0x0304
GROUPS12 = frozenset(
    {NamedGroup.x25519, NamedGroup.x448, NamedGroup.secp256r1, NamedGroup.secp384r1, NamedGroup.secp521r1}
)
"""ECDHE groups of the TLS 1.2 suites here (RFC 8422 curves and RFC 7748 X25519/X448); no FFDHE, no hybrids."""


def offers_cbc(suites: tuple[int, ...]) -> bool:
    return any(s in SUITES12 and not SUITES12[s].is_aead for s in suites)


def session_to_offer12(config: TLSConfig, session: Session12 | None) -> Session12 | None:
    """``session`` if a client may offer it in a ClientHello listing ``config.cipher_suites12``: RFC 5246 section
    7.4.1.2 has a client that offers a session list at least that session's suite, so a session whose suite we no
    longer list is not offered at all (a full handshake)."""
    if session is None or session.cipher_suite not in config.cipher_suites12:
        return None
    return session


def client_hello_extensions12(config: TLSConfig, resume: Session12 | None = None) -> list[Extension]:
    """The extensions a client adds when it offers TLS 1.2 (RFC 8422 section 5.1, RFC 7627, RFC 7366, RFC 5077:
    the SessionTicket extension, holding the ticket of ``resume`` if it has one)."""
    exts: list[Extension] = [(X.ec_point_formats, build_ec_point_formats())]
    if config.extended_master_secret:
        exts.append((X.extended_main_secret, b""))
    if config.encrypt_then_mac and offers_cbc(config.cipher_suites12):
        exts.append((X.encrypt_then_mac, b""))
    if config.session_tickets12:
        ticket = resume.ticket if resume is not None and resume.ticket is not None else b""
        exts.append((X.session_ticket, ticket))
    return exts


class Handshake12(HandshakeMachine):
    """State shared by the TLS 1.2 client and server machines; see the module docstring."""

    version = TLS12
    WAIT_CCS: Enum
    WAIT_FINISHED: Enum

    def __init__(self, config: TLSConfig, context: TLSContext, initial: Enum) -> None:
        super().__init__(config, context, initial)
        self.messages: list[bytes] = []
        self.suite12: Suite12 | None = None
        self.client_random = b""
        self.server_random = b""
        self.session_id = b""
        self.master_secret = b""
        self.keys: prf12.KeyBlock | None = None
        self._mprf: tuple[Suite12, prf12.KeyedPRF] | None = None
        self.ems = False
        self.etm = False
        self.group = 0
        self.alpn: bytes | None = None
        self.server_name: str | None = None
        self.peer_chain: list[x509.Certificate] = []
        self.peer_scheme: int | None = None
        self.own_scheme: int | None = None
        # RFC 5746: the verify_data of the last completed handshake, and whether the peer supports the extension
        self.client_verify_data = b""
        self.server_verify_data = b""
        self.secure_renegotiation = False
        self.handshakes_done = 0
        self.in_renegotiation = False
        self.renegotiations_started = 0
        self.session: Session12 | None = None  # of the last completed handshake
        self.resumed = False

    # -- transcript ----------------------------------------------------------------------------------------------

    def _renegotiation_allowed(self) -> bool:
        """Whether to take the renegotiation the peer offers now (secure renegotiation is checked by the caller)."""
        ask = self.config.renegotiation_allowed
        return self.config.allow_renegotiation if ask is None else ask()

    def _send(self, msg: Message | HandshakeBody, *, initial_client_hello: bool = False) -> bytes:
        raw = super()._send(msg, initial_client_hello=initial_client_hello)
        self.messages.append(raw)
        return raw

    def _hash(self, algorithm: hashes.HashAlgorithm | None = None) -> bytes:
        assert self.suite12 is not None
        h = hashes.Hash(algorithm or self.suite12.hash_algorithm())
        for m in self.messages:
            h.update(m)
        return h.finalize()

    def _new_handshake(self) -> None:
        self.messages = []
        self.transcript = type(self.transcript)()
        self.peer_finished = False
        self.suite12 = None
        self.master_secret = b""
        self.keys = None
        self.ems = self.etm = False
        self.peer_chain = []
        self.peer_scheme = None
        self.resumed = False

    # -- state -----------------------------------------------------------------------------------------------------

    @property
    def established(self) -> bool:
        return self.handshakes_done > 0

    @property
    def renegotiating(self) -> bool:
        # (connected, inline: SSL_write's bulk path asks this once per TLS 1.2 record)
        return self.in_renegotiation or self.state is not self.CONNECTED

    @property
    def ccs_may_arrive(self) -> bool:
        return True  # consumed by on_change_cipher_spec, which checks the state through the table

    def on_change_cipher_spec(self) -> bool:
        self.handle(CHANGE_CIPHER_SPEC, b"", b"")
        return True

    def _on_change_cipher_spec(self, body: bytes, raw: bytes) -> None:
        """RFC 5246 section 7.1: the peer's next records use the pending keys."""
        self._install_protection("read", Epoch.application, self._protection(peer=True))
        self._set_state(self.WAIT_FINISHED)

    # -- keys ----------------------------------------------------------------------------------------------------

    def _derive(self, pre_master: bytes) -> None:
        """Master secret (RFC 5246 section 8.1 or RFC 7627 section 4) and the key block; call after the
        ClientKeyExchange is in ``messages``."""
        suite = self.suite12
        assert suite is not None
        h = suite.hash_algorithm()
        if self.ems:
            self.master_secret = prf12.extended_master_secret(h, pre_master, self._hash())
        else:
            self.master_secret = prf12.master_secret(h, pre_master, self.client_random, self.server_random)
        self.keys = prf12.derive_keys(suite, self.master_secret, self.client_random, self.server_random,
                                      self._master_prf())  # fmt: skip

    def _master_prf(self) -> prf12.KeyedPRF:
        """The PRF of the current master secret, its HMAC keyed once for the key block and both Finished."""
        assert self.suite12 is not None
        held = self._mprf
        if held is not None and held[0] is self.suite12 and held[1].secret == self.master_secret:
            return held[1]
        mprf = prf12.KeyedPRF(self.suite12.hash_algorithm(), self.master_secret)
        self._mprf = (self.suite12, mprf)
        return mprf

    def _resume(self, session: Session12) -> None:
        """An abbreviated handshake: the session's master secret with this handshake's randoms."""
        self.resumed = True
        self.suite12 = SUITES12[session.cipher_suite]
        self.ems = session.extended_master_secret
        self.master_secret = session.master_secret
        self.peer_chain = list(session.peer_chain)
        # ALPN is negotiated in each handshake (RFC 7301 section 3.1): the session's protocol is not this one's, and a
        # server must not answer ALPN to a resuming client that did not offer it (found by the mutation sweep)
        self.keys = prf12.derive_keys(self.suite12, self.master_secret, self.client_random, self.server_random,
                                      self._master_prf())  # fmt: skip

    def _protection(self, *, peer: bool) -> RecordProtection12:
        assert self.suite12 is not None and self.keys is not None
        client_side = self.is_server == peer
        direction = Direction.client_to_server if client_side else Direction.server_to_client
        # the protection object is the record layer's strategy itself (conceals_type False): no wrapper call
        return protection_for(self.suite12, self.keys, direction, self.etm, random=self.ctx.random)

    def _verify_data(self, *, client: bool) -> bytes:
        assert self.suite12 is not None
        return prf12.finished_verify_data(
            self.suite12.hash_algorithm(), self.master_secret, self._hash(), client=client,
            prf_of_master=self._master_prf(),
        )

    def _send_ccs_and_finished(self) -> bytes:
        """Our ChangeCipherSpec, the switch to our pending write keys, then our Finished under them."""
        self._before_change_cipher_spec()
        self.out.append(SendChangeCipherSpec())
        self._install_protection("write", Epoch.application, self._protection(peer=False))
        verify_data = self._verify_data(client=not self.is_server)
        self._send(Finished(verify_data))
        return verify_data

    def _before_change_cipher_spec(self) -> None:
        """What goes before our ChangeCipherSpec (a server's NewSessionTicket, RFC 5077 section 3.3)."""

    def _new_session(self) -> Session12:
        """The session a full handshake made."""
        assert self.suite12 is not None
        return Session12(
            self.session_id, self.master_secret, self.suite12.id, self.ems, tuple(self.peer_chain), self.server_name,
            self.alpn,
        )  # fmt: skip

    def _check_finished(self, body: bytes, raw: bytes) -> bytes:
        """The peer's Finished (RFC 5246 section 7.4.9): decode_error for a wrong length, decrypt_error if it
        does not verify. Adds it to the transcript and returns its verify_data."""
        fin = Finished.parse(body)
        if len(fin.verify_data) != 12:
            raise decode_error("Finished length")
        expected = self._verify_data(client=self.is_server)
        if not hmac.compare_digest(expected, fin.verify_data):
            raise TLSAlertError(AlertDescription.decrypt_error, "Finished does not verify")
        self.peer_finished = True
        self.messages.append(raw)
        return fin.verify_data

    def _on_finished(self, body: bytes, raw: bytes) -> None:
        """The peer's Finished (RFC 5246 section 7.3). The side whose Finished goes second answers with its own: the
        server in a full handshake, the client in an abbreviated one. A server then caches the new session."""
        peer = self._check_finished(body, raw)
        if self.is_server:
            self.client_verify_data = peer
        else:
            self.server_verify_data = peer
        if self.is_server != self.resumed:
            ours = self._send_ccs_and_finished()
            if self.is_server:
                self.server_verify_data = ours
            else:
                self.client_verify_data = ours
        self._set_state(self.CONNECTED)
        self._complete()
        cache = self.config.session_cache12
        if self.is_server and cache is not None and self.session is not None and not self.resumed \
                and self.session.session_id:
            cache[self.session.session_id] = self.session

    def _complete(self) -> None:
        assert self.suite12 is not None
        renegotiation = self.handshakes_done > 0
        self.handshakes_done += 1
        self.in_renegotiation = False
        if not self.resumed:
            self.session = self._new_session()
        self.out.append(
            HandshakeComplete(
                cipher_suite=self.suite12.id,
                group=self.group,
                signature_scheme=self.peer_scheme if not self.is_server else self.own_scheme,
                alpn_protocol=self.alpn,
                server_name=self.server_name,
                hello_retry_request=False,
                peer_certificates=list(self.peer_chain),
                version=TLS12,
                resumed=self.resumed,
                renegotiation=renegotiation,
                session12=self.session,
            )
        )

    def _untracked(self, msg: HandshakeBody) -> None:
        """A handshake message outside the transcript (HelloRequest)."""
        self.out.append(SendHandshake(build_handshake(msg)))

    def _peer_certificate_check(self, chain: list[x509.Certificate], role: Literal["server", "client"]) -> None:
        cfg = self.config
        if cfg.check_chain is not None:
            cfg.check_chain(chain)
            return
        if not cfg.verify_peer:
            return
        if role == "server":
            # the name to match is verify_host (None: the chain alone), kept apart from the SNI as in client13
            certificates.verify_server_chain(chain, cfg.trusted_roots, cfg.verify_host, self.ctx.now())
        else:
            certificates.verify_client_chain(chain, cfg.trusted_roots, self.ctx.now())
