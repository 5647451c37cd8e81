"""TLS 1.2 client state machine (RFC 5246 section 7.3, ECDHE of RFC 8422), with secure renegotiation (RFC 5746).

The first ClientHello belongs to the hello machine (``client13``), which offers both versions; when the ServerHello
picks TLS 1.2 it hands off here (:meth:`Client12Handshake.from_server_hello`). States after RFC 5246's full
handshake flow::

    WAIT_SH --ServerHello--> WAIT_CERT                             (a renegotiation's ServerHello)
    WAIT_SH --ServerHello echoing our session id--> WAIT_CCS      (abbreviated: resumption, RFC 5246 7.3)
    WAIT_CERT --Certificate--> WAIT_SKE                            (WAIT_APP_VERIFY while the application checks)
    WAIT_SKE --ServerKeyExchange--> WAIT_CR_DONE
    WAIT_CR_DONE --CertificateRequest--> WAIT_DONE
    WAIT_CR_DONE | WAIT_DONE --ServerHelloDone / send [Certificate], ClientKeyExchange, [CertificateVerify],
                               ChangeCipherSpec, Finished--> WAIT_CCS (WAIT_APP_CERT while the application picks)
    WAIT_CCS --ChangeCipherSpec--> WAIT_FINISHED --Finished [/ send ChangeCipherSpec, Finished]--> CONNECTED
    (a ServerHello with SessionTicket: WAIT_NST --NewSessionTicket--> WAIT_CCS instead of WAIT_CCS, RFC 5077 3.3)
    CONNECTED --HelloRequest / send ClientHello--> WAIT_SH        (renegotiation; refused: no_renegotiation)
    any other state --HelloRequest--> same state                   (ignored while negotiating, section 7.4.1.1)

Session-ID resumption: the first ClientHello offers ``config.resume_session12``; a renegotiation offers the current
session when asked to (SSL_renegotiate_abbreviated, or a server's HelloRequest).
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum, auto
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from . import certificates, keyexchange, maxfraglen, recordlimit, signatures
from .alerts import AlertDescription, AlertLevel, TLSAlertError, illegal_parameter
from .alpn import decode_server_extension, encode_extension
from .client13 import _is_ip
from .config import TLSConfig, TLSContext
from .events import CertificateReceived, CertificateRequested, RenegotiationRefused
from .handshake import CHANGE_CIPHER_SPEC, SendAlert, Transition, transition
from .handshake12 import GROUPS12, TLS12, TLS13, Handshake12, client_hello_extensions12, session_to_offer12
from .messages import (
    CertificateVerify,
    ClientHello,
    Extension,
    HandshakeType,
    ServerHello,
    build_named_group_list,
    build_server_name,
    build_signature_schemes,
    find_extension,
)
from .messages import ExtensionType as X
from .messages12 import (
    DOWNGRADE_TLS12,
    ECDSA_SIGN,
    RSA_SIGN,
    UNCOMPRESSED,
    Certificate12,
    CertificateRequest12,
    ClientKeyExchangeECDHE,
    HelloRequest,
    ServerHelloDone,
    ServerKeyExchangeECDHE,
    build_renegotiation_info,
    parse_ec_point_formats,
    parse_empty,
    parse_renegotiation_info,
)
from .session12 import NewSessionTicket12, Session12, ticket_session_id
from .suites12 import SUITES12, Authentication

if TYPE_CHECKING:
    from .client13 import Client13Handshake

H = HandshakeType

# RFC 5246 section 7.4.1.4 and the extensions' RFCs: what a TLS 1.2 ServerHello may answer
_SH12_ALLOWED = frozenset(
    {
        X.server_name,
        X.ec_point_formats,
        X.application_layer_protocol_negotiation,
        X.extended_main_secret,
        X.encrypt_then_mac,
        X.renegotiation_info,
        X.session_ticket,
        X.status_request,
        X.signed_certificate_timestamp,
        X.max_fragment_length,
        X.record_size_limit,
    }
)


class Client12State(Enum):
    WAIT_SH = auto()
    WAIT_CERT = auto()
    WAIT_APP_VERIFY = auto()  # not in RFC 5246: the application is checking the server's chain (deferred)
    WAIT_SKE = auto()
    WAIT_CR_DONE = auto()
    WAIT_DONE = auto()
    WAIT_APP_CERT = auto()  # not in RFC 5246: the application is choosing a client certificate (deferred)
    WAIT_NST = auto()  # RFC 5077 section 3.3: the server said it sends a NewSessionTicket
    WAIT_CCS = auto()
    WAIT_FINISHED = auto()
    CONNECTED = auto()


S = Client12State


class Client12Handshake(Handshake12):
    is_server = False
    CONNECTED = S.CONNECTED
    WAIT_CCS = S.WAIT_CCS
    WAIT_FINISHED = S.WAIT_FINISHED

    def __init__(self, config: TLSConfig, context: TLSContext) -> None:
        super().__init__(config, context, S.WAIT_SH)
        self.offered_extensions: set[int] = set()
        self.offered_suites: list[int] = []
        self.offered_schemes: tuple[int, ...] = ()
        self.offered_tls13 = False
        self.ske: ServerKeyExchangeECDHE | None = None
        self.cert_request: CertificateRequest12 | None = None
        # the certificate_authorities of the server's last CertificateRequest (RFC 5246 7.4.4); None: no request
        self.peer_ca_names: list[bytes] | None = None
        self.offered_session: Session12 | None = None
        self.ticket_expected = False  # RFC 5077: the ServerHello had a SessionTicket extension
        self.new_ticket: NewSessionTicket12 | None = None

    @classmethod
    def from_server_hello(cls, hello: Client13Handshake, sh: ServerHello, raw: bytes) -> Client12Handshake:
        """Take over from the hello machine whose ClientHello the server answered with TLS 1.2."""
        ch = hello.client_hello
        assert ch is not None
        machine = cls(hello.config, hello.ctx)
        machine.messages = [hello.client_hello_raw]
        machine.client_random = ch.random
        machine.offered_extensions = set(hello.offered_extensions)
        machine.offered_suites = list(ch.cipher_suites)
        machine.offered_schemes = hello.offered_schemes
        machine.offered_tls13 = TLS13 in hello.config.supported_versions
        offered = hello.resume12
        if offered is not None and offered.session_id and ch.legacy_session_id == offered.session_id:
            machine.offered_session = offered
        machine._accept_server_hello(sh, raw)
        return machine

    # -- ClientHello of a renegotiation ------------------------------------------------------------------------

    def renegotiate(self, resume: bool = False) -> None:
        if self.state is not S.CONNECTED:
            raise RuntimeError("a handshake is already in progress")
        if not self.secure_renegotiation:
            raise RuntimeError("the server does not support secure renegotiation (RFC 5746)")
        self._send_client_hello(resume)

    def _send_client_hello(self, resume: bool) -> None:
        """A TLS 1.2 ClientHello for a renegotiation: renegotiation_info carries our last verify_data and the
        SCSV is not sent (RFC 5746 section 3.5)."""
        cfg = self.config
        # RFC 5246 section 7.4.1.2: the current session, if we still list its suite
        current = session_to_offer12(cfg, self.session) if resume else None
        offered = current if current is not None and current.session_id else None
        self._new_handshake()
        self.offered_session = offered
        self.in_renegotiation = True
        self.renegotiations_started += 1
        self.client_random = self.ctx.random(32)
        exts: list[Extension] = []
        if cfg.server_name is not None and not _is_ip(cfg.server_name):
            exts.append((X.server_name, build_server_name(cfg.server_name)))
        groups = [g for g in cfg.groups if g in GROUPS12]
        exts.append((X.supported_groups, build_named_group_list(groups)))
        exts.append((X.signature_algorithms, build_signature_schemes(cfg.signature_algorithms12)))
        if cfg.alpn_protocols:
            exts.append((X.application_layer_protocol_negotiation, encode_extension(cfg.alpn_protocols)))
        exts.append((X.renegotiation_info, build_renegotiation_info(self.client_verify_data)))
        if cfg.record_size_limit is not None:
            exts.append((X.record_size_limit, recordlimit.encode(recordlimit.own12(cfg.record_size_limit))))
        exts += client_hello_extensions12(cfg, offered)
        suites = [s for s in cfg.cipher_suites12 if s in SUITES12]
        session_id = offered.session_id if offered is not None else b""
        hello = ClientHello(self.client_random, session_id, suites, b"\x00", self._order(exts))
        self.offered_extensions = {t for t, _ in hello.extensions}
        self.offered_suites = suites
        self.offered_schemes = cfg.signature_algorithms12
        self._send(hello)
        self._set_state(S.WAIT_SH)

    def _on_hello_request(self, body: bytes, raw: bytes) -> None:
        HelloRequest.parse(body)
        if self.state is not S.CONNECTED:
            return  # RFC 5246 section 7.4.1.1: ignored while a handshake is under way
        if self.we_closed:
            # RFC 5246 section 7.2.1: nothing follows our close_notify, so the request goes unanswered (libssl 3.0
            # alike: no ClientHello; the engine sent one, found by the differential runner, branch diff404, seed 404)
            self.out.append(RenegotiationRefused())
            return
        if not self.secure_renegotiation or not self._renegotiation_allowed():
            # RFC 5746 section 4.2 / RFC 5246 section 7.2.2: decline with a warning and carry on
            self.out.append(SendAlert(AlertLevel.WARNING, AlertDescription.no_renegotiation))
            return
        # SSL_key_update: DESCRIPTION a TLS client asked to renegotiate tries to resume the current session
        self._send_client_hello(resume=True)

    # -- WAIT_SH -------------------------------------------------------------------------------------------------

    def _on_server_hello(self, body: bytes, raw: bytes) -> None:
        sh = ServerHello.parse(body)
        if find_extension(sh.extensions, X.supported_versions) is not None or sh.legacy_version != TLS12:
            # RFC 5246 section 7.4.1.3 / RFC 5746: a renegotiation keeps the version
            raise TLSAlertError(AlertDescription.protocol_version, "renegotiation changed the version")
        self._accept_server_hello(sh, raw)

    def _accept_server_hello(self, sh: ServerHello, raw: bytes) -> None:
        cfg = self.config
        if self.offered_tls13 and sh.random[-8:] == DOWNGRADE_TLS12:
            # RFC 9846 section 4.1.3: a TLS 1.3 server negotiated 1.2 with us although we offered 1.3
            raise illegal_parameter("downgrade sentinel in the ServerHello random")
        if sh.cipher_suite not in self.offered_suites or sh.cipher_suite not in SUITES12:
            raise illegal_parameter("cipher suite not offered")
        if sh.legacy_compression_method != 0:
            raise illegal_parameter("compression method not offered")
        for etype, _ in sh.extensions:
            if etype not in self.offered_extensions:
                raise TLSAlertError(AlertDescription.unsupported_extension, f"unsolicited extension {etype}")
            if etype not in _SH12_ALLOWED:
                raise illegal_parameter(f"extension {etype} not allowed in a TLS 1.2 ServerHello")
        mfl = find_extension(sh.extensions, X.max_fragment_length)
        if mfl is not None:  # RFC 6066 section 4: the same value we asked for, limiting records from here on
            self.out.append(maxfraglen.check_echo(mfl, cfg.max_fragment_length))
            self.max_fragment_mode = cfg.max_fragment_length
        reneg = find_extension(sh.extensions, X.renegotiation_info)
        if reneg is None:
            # RFC 5746 section 3.4: the client may go on without it; like OpenSSL 3.0 (no
            # SSL_OP_LEGACY_SERVER_CONNECT by default) the engine refuses a server that lacks it
            raise TLSAlertError(AlertDescription.handshake_failure, "server does not support secure renegotiation")
        expected = self.client_verify_data + self.server_verify_data
        if parse_renegotiation_info(reneg) != expected:
            raise TLSAlertError(AlertDescription.handshake_failure, "renegotiation_info does not match")
        self.secure_renegotiation = True
        self.suite12 = SUITES12[sh.cipher_suite]
        ems = find_extension(sh.extensions, X.extended_main_secret)
        if ems is not None:
            parse_empty(ems, "extended_master_secret")
        etm = find_extension(sh.extensions, X.encrypt_then_mac)
        if etm is not None:
            parse_empty(etm, "encrypt_then_mac")
            if self.suite12.is_aead:
                # RFC 7366 section 3: a server must not answer it for an AEAD suite
                raise illegal_parameter("encrypt_then_mac with an AEAD suite")
        points = find_extension(sh.extensions, X.ec_point_formats)
        if points is not None and UNCOMPRESSED not in parse_ec_point_formats(points):
            raise illegal_parameter("server does not accept uncompressed points")
        alpn = find_extension(sh.extensions, X.application_layer_protocol_negotiation)
        if alpn is not None:
            self.alpn = decode_server_extension(alpn, cfg.alpn_protocols)  # RFC 7301 section 3.1
        limit = find_extension(sh.extensions, X.record_size_limit)
        if limit is not None:
            # RFC 8449 section 4: from our ChangeCipherSpec on, records to the server stay within its limit
            self.out.append(recordlimit.tls12(recordlimit.decode(limit), cfg.record_size_limit))
        ticket_ext = find_extension(sh.extensions, X.session_ticket)
        if ticket_ext is not None:
            parse_empty(ticket_ext, "session_ticket")  # RFC 5077 section 3.2: empty in a ServerHello
        self.ticket_expected = ticket_ext is not None
        self.new_ticket = None
        self.ems = ems is not None
        self.etm = etm is not None
        self.server_random = sh.random
        self.session_id = sh.legacy_session_id_echo
        self.server_name = cfg.server_name
        self.messages.append(raw)
        offered = self.offered_session
        if offered is not None and sh.legacy_session_id_echo == offered.session_id:
            # RFC 5246 section 7.4.1.3: the server resumes; same suite, and RFC 7627 section 5.3: same EMS state
            if sh.cipher_suite != offered.cipher_suite:
                raise illegal_parameter("resumed session with another cipher suite")
            if self.ems != offered.extended_master_secret:
                raise TLSAlertError(AlertDescription.handshake_failure, "extended_master_secret differs on resumption")
            self._resume(offered)
            self.session = offered
            self._set_state(S.WAIT_NST if self.ticket_expected else S.WAIT_CCS)
            return
        self._set_state(S.WAIT_CERT)

    # -- WAIT_CERT -----------------------------------------------------------------------------------------------

    def _on_certificate(self, body: bytes, raw: bytes) -> None:
        msg = Certificate12.parse(body)
        if not msg.certificate_list:
            raise TLSAlertError(AlertDescription.decode_error, "empty server Certificate")
        chain = certificates.load_chain(msg.certificate_list)
        self.messages.append(raw)
        self.peer_chain = chain
        if self.config.defer_certificate_check:
            self._set_state(S.WAIT_APP_VERIFY)
            self.out.append(CertificateReceived(list(chain)))
            return
        self._peer_certificate_check(chain, "server")
        self._set_state(S.WAIT_SKE)

    @property
    def paused(self) -> bool:
        return self.state is S.WAIT_APP_VERIFY

    def finish_certificate_check(self, accepted: bool) -> None:
        if self.state is not S.WAIT_APP_VERIFY:
            raise RuntimeError("no certificate check is awaited")
        if not accepted:
            raise TLSAlertError(AlertDescription.bad_certificate, "certificate rejected by the application")
        self._set_state(S.WAIT_SKE)

    # -- WAIT_SKE ------------------------------------------------------------------------------------------------

    def _on_server_key_exchange(self, body: bytes, raw: bytes) -> None:
        suite = self.suite12
        assert suite is not None
        ske = ServerKeyExchangeECDHE.parse(body)
        if ske.named_curve not in self.config.groups or ske.named_curve not in GROUPS12:
            raise illegal_parameter("server chose a curve we did not offer")
        key = certificates.leaf_public_key(self.peer_chain[0])
        wanted = ec.EllipticCurvePublicKey if suite.auth is Authentication.ECDSA else rsa.RSAPublicKey
        if not isinstance(key, wanted):
            raise TLSAlertError(AlertDescription.unsupported_certificate, "certificate key does not fit the suite")
        signed = self.client_random + self.server_random + ske.params
        signatures.verify12(key, ske.algorithm, ske.signature, signed, self.offered_schemes)
        self.peer_scheme = ske.algorithm
        self.group = ske.named_curve
        self.ske = ske
        self.messages.append(raw)
        self._set_state(S.WAIT_CR_DONE)

    # -- WAIT_CR_DONE / WAIT_DONE --------------------------------------------------------------------------------

    def _on_certificate_request(self, body: bytes, raw: bytes) -> None:
        self.cert_request = CertificateRequest12.parse(body)
        self.peer_ca_names = list(self.cert_request.certificate_authorities)
        self.messages.append(raw)
        self._set_state(S.WAIT_DONE)

    def _on_server_hello_done(self, body: bytes, raw: bytes) -> None:
        ServerHelloDone.parse(body)
        self.messages.append(raw)
        if self.cert_request is not None and self.config.defer_client_certificate:
            self._set_state(S.WAIT_APP_CERT)
            self.out.append(CertificateRequested())
            return
        self._send_flight(self.config.certificate_chain, self.config.private_key)

    def send_client_certificate(self, chain: list[x509.Certificate], key: signatures.PrivateKey | None) -> None:
        if self.state is not S.WAIT_APP_CERT:
            raise RuntimeError("no client certificate is awaited")
        self._send_flight(chain, key)

    def _send_flight(self, chain: list[x509.Certificate], key: signatures.PrivateKey | None) -> None:
        """[Certificate], ClientKeyExchange, [CertificateVerify], ChangeCipherSpec, Finished (RFC 5246 7.3)."""
        ske = self.ske
        assert ske is not None
        scheme = None
        if self.cert_request is not None:
            scheme = self._client_scheme(self.cert_request, chain, key)
            ders = certificates.der_chain(chain) if scheme is not None else []
            self._send(Certificate12(ders))
        private = self.ctx.generate_key_share(ske.named_curve)
        pre_master = keyexchange.client_shared_secret(ske.named_curve, private, ske.public)
        self._send(ClientKeyExchangeECDHE(keyexchange.public_share(ske.named_curve, private)))
        self._derive(pre_master)
        if scheme is not None and key is not None:
            signed = b"".join(self.messages)
            self._send(CertificateVerify(scheme, self.ctx.sign12(key, scheme, signed)))
            self.own_scheme = scheme
        self.client_verify_data = self._send_ccs_and_finished()
        self.cert_request = None
        self.ske = None
        self._set_state(S.WAIT_NST if self.ticket_expected else S.WAIT_CCS)

    # -- WAIT_NST ------------------------------------------------------------------------------------------------

    def _on_new_session_ticket(self, body: bytes, raw: bytes) -> None:
        """RFC 5077 section 3.3: the ticket for the session of this handshake (an empty one: none after all)."""
        self.new_ticket = NewSessionTicket12.parse(body)
        self.messages.append(raw)
        self._set_state(S.WAIT_CCS)

    def _new_session(self) -> Session12:
        return self._with_ticket(super()._new_session())

    def _complete(self) -> None:
        if self.resumed and self.session is not None and self.new_ticket is not None:
            self.session = self._with_ticket(self.session)  # the server renewed the ticket
        super()._complete()

    def _with_ticket(self, session: Session12) -> Session12:
        """``session`` holding the ticket the server sent in this handshake, named after it (OpenSSL 3.0)."""
        nst = self.new_ticket
        if nst is None or not nst.ticket:
            return session
        return replace(session, session_id=ticket_session_id(nst.ticket), ticket=nst.ticket,
                       ticket_lifetime=nst.lifetime_hint)  # fmt: skip

    def _client_scheme(
        self, cr: CertificateRequest12, chain: list[x509.Certificate], key: signatures.PrivateKey | None
    ) -> int | None:
        """A scheme for our certificate that the server's request allows, or None (send an empty Certificate)."""
        if not chain or key is None:
            return None
        kind = ECDSA_SIGN if isinstance(key, ec.EllipticCurvePrivateKey) else RSA_SIGN
        if kind not in cr.certificate_types:
            return None
        return signatures.choose_scheme12(key, self.config.signature_algorithms12, cr.signature_algorithms)


C = Client12Handshake
# RFC 5246 section 7.3: (state, handshake type) -> handler and landing states; anything else is unexpected_message.
TRANSITIONS: dict[tuple[Enum, int], Transition] = {
    (S.WAIT_SH, H.server_hello): transition(C._on_server_hello, S.WAIT_CERT, S.WAIT_CCS, S.WAIT_NST),
    (S.WAIT_CERT, H.certificate): transition(C._on_certificate, S.WAIT_SKE, S.WAIT_APP_VERIFY),
    (S.WAIT_SKE, H.server_key_exchange): transition(C._on_server_key_exchange, S.WAIT_CR_DONE),
    (S.WAIT_CR_DONE, H.certificate_request): transition(C._on_certificate_request, S.WAIT_DONE),
    (S.WAIT_CR_DONE, H.server_hello_done): transition(
        C._on_server_hello_done, S.WAIT_CCS, S.WAIT_NST, S.WAIT_APP_CERT
    ),
    (S.WAIT_DONE, H.server_hello_done): transition(C._on_server_hello_done, S.WAIT_CCS, S.WAIT_NST, S.WAIT_APP_CERT),
    (S.WAIT_NST, H.new_session_ticket): transition(C._on_new_session_ticket, S.WAIT_CCS),
    (S.WAIT_CCS, CHANGE_CIPHER_SPEC): transition(C._on_change_cipher_spec, S.WAIT_FINISHED),
    (S.WAIT_FINISHED, H.finished): transition(C._on_finished, S.CONNECTED),
    (S.CONNECTED, H.hello_request): transition(C._on_hello_request, S.CONNECTED, S.WAIT_SH),
}
# RFC 5246 section 7.4.1.1: a HelloRequest in the middle of a handshake is ignored (the application-paused states
# see no messages at all)
for _state in (S.WAIT_SH, S.WAIT_CERT, S.WAIT_SKE, S.WAIT_CR_DONE, S.WAIT_DONE, S.WAIT_NST, S.WAIT_CCS):
    TRANSITIONS[(_state, H.hello_request)] = transition(C._on_hello_request, _state)
Client12Handshake.TRANSITIONS = TRANSITIONS
del C
