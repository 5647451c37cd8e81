"""TLS 1.2 server state machine (RFC 5246 section 7.3, ECDHE of RFC 8422), with secure renegotiation (RFC 5746).

The hello machine (``server13``) reads the first ClientHello; when it picks TLS 1.2 it hands that hello to a new
:class:`Server12Handshake`. States after RFC 5246's full handshake flow::

    START --ClientHello / send ServerHello, Certificate, ServerKeyExchange, [CertificateRequest],
            ServerHelloDone--> WAIT_CERT (certificate requested) | WAIT_CKE
    WAIT_CERT --Certificate--> WAIT_CKE
    WAIT_CKE --ClientKeyExchange--> WAIT_CV (client sent a certificate) | WAIT_CCS
    WAIT_CV --CertificateVerify--> WAIT_CCS
    WAIT_CCS --ChangeCipherSpec--> WAIT_FINISHED
    WAIT_FINISHED --Finished / send ChangeCipherSpec, Finished--> CONNECTED
    START --ClientHello with a cached session id / send ServerHello, ChangeCipherSpec, Finished--> WAIT_CCS
    WAIT_CCS --ChangeCipherSpec--> WAIT_FINISHED --Finished--> CONNECTED    (abbreviated handshake, RFC 5246 7.3)
    CONNECTED --ClientHello--> as from START                          (renegotiation)
    CONNECTED --ClientHello, renegotiation refused--> CONNECTED      (no_renegotiation warning)

Session tickets (RFC 5077, ``engine.tls.session12``): to a client that offers the SessionTicket extension a server
with ``config.session_tickets12`` and a ticket key answers with an empty one and sends a NewSessionTicket before its
ChangeCipherSpec; a ClientHello whose ticket opens and fits takes the abbreviated flow (with a NewSessionTicket only
when the ticket is renewed).

``renegotiate()`` sends a HelloRequest and stays CONNECTED until the client's ClientHello. Full handshakes put
their session into ``config.session_cache12`` (if any), where a later ClientHello's session id finds it.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from enum import Enum, auto

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from . import alpn, certificates, keyexchange, maxfraglen, recordlimit, signatures
from .alerts import AlertDescription, AlertLevel, TLSAlertError, illegal_parameter
from .certselect import candidates, server_name_answer
from .config import TLSConfig, TLSContext, suite_order
from .events import RenegotiationRefused
from .handshake import CHANGE_CIPHER_SPEC, SendAlert, Transition, transition
from .handshake12 import GROUPS12, TLS12, TLS13, Handshake12
from .messages import (
    CertificateVerify,
    ClientHello,
    Extension,
    HandshakeType,
    ServerHello,
    find_extension,
    parse_named_group_list,
    parse_signature_schemes,
)
from .messages import ExtensionType as X
from .messages12 import (
    DOWNGRADE_TLS12,
    ECDSA_SIGN,
    RSA_SIGN,
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
    UNCOMPRESSED,
    Certificate12,
    CertificateRequest12,
    ClientKeyExchangeECDHE,
    HelloRequest,
    ServerHelloDone,
    ServerKeyExchangeECDHE,
    build_ec_point_formats,
    build_renegotiation_info,
    parse_ec_point_formats,
    parse_empty,
    parse_renegotiation_info,
)
from .session12 import NewSessionTicket12, Session12, TicketState12, open12, seal12
from .session13 import epoch_ms
from .signatures import TLS12_DEFAULT_PEER_SCHEMES, PrivateKey
from .suites12 import SUITES12, Authentication, Suite12

H = HandshakeType
_CURVE_GROUPS = {"secp256r1": 0x0017, "secp384r1": 0x0018, "secp521r1": 0x0019}


class Server12State(Enum):
    START = auto()
    WAIT_CERT = auto()
    WAIT_CKE = auto()
    WAIT_CV = auto()
    WAIT_CCS = auto()
    WAIT_FINISHED = auto()
    CONNECTED = auto()


S = Server12State


def _auth(key: PrivateKey) -> Authentication | None:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return Authentication.ECDSA
    if isinstance(key, rsa.RSAPrivateKey):
        return Authentication.RSA
    return None


class Server12Handshake(Handshake12):
    is_server = True
    CONNECTED = S.CONNECTED
    WAIT_CCS = S.WAIT_CCS
    WAIT_FINISHED = S.WAIT_FINISHED

    def __init__(self, config: TLSConfig, context: TLSContext) -> None:
        super().__init__(config, context, S.START)
        self.ecdhe_key: keyexchange.PrivateKeyShare | None = None
        self.cert_requested = False
        self.cr_schemes: tuple[int, ...] = ()
        self.hello_request_sent = False
        self.etm_offered = False
        self.sni_ack = False
        self.sni_warning: int | None = None
        self.chain: list[x509.Certificate] = []
        self.key: PrivateKey | None = None
        self.issue_ticket = False  # RFC 5077: a NewSessionTicket goes before our ChangeCipherSpec
        self.record_limit_answer: int | None = None  # RFC 8449: our limit, for the ServerHello

    # -- renegotiation -------------------------------------------------------------------------------------------

    def renegotiate(self, resume: bool = False) -> None:
        """Send a HelloRequest (RFC 5246 section 7.4.1.1); the client answers with a ClientHello, or declines."""
        if self.state is not S.CONNECTED:
            raise RuntimeError("a handshake is already in progress")
        if not self.secure_renegotiation:
            raise RuntimeError("the client does not support secure renegotiation (RFC 5746)")
        self._untracked(HelloRequest())
        self.hello_request_sent = True
        self.in_renegotiation = True

    def _on_renegotiating_hello(self, body: bytes, raw: bytes) -> None:
        if not self.secure_renegotiation or not (self.hello_request_sent or self._renegotiation_allowed()):
            # RFC 5746 section 4.4 / RFC 5246 section 7.2.2: decline with a warning, the connection stays up
            ClientHello.parse(body)
            self.in_renegotiation = False
            self.out.append(SendAlert(AlertLevel.WARNING, AlertDescription.no_renegotiation))
            self.out.append(RenegotiationRefused())
            return
        self._on_client_hello(body, raw)

    # -- START: ClientHello ----------------------------------------------------------------------------------------

    def _on_client_hello(self, body: bytes, raw: bytes) -> None:
        cfg = self.config
        ch = ClientHello.parse(body)
        renegotiation = self.handshakes_done > 0
        self.hello_request_sent = False
        if renegotiation:
            self._new_handshake()
            self.in_renegotiation = True
            self.renegotiations_started += 1
            if ch.legacy_version < TLS12:
                raise TLSAlertError(AlertDescription.protocol_version, "renegotiation below TLS 1.2")
        if 0 not in ch.legacy_compression_methods:
            # RFC 5246 section 7.4.1.2: the null method must be offered
            raise illegal_parameter("no null compression method")
        self._check_renegotiation_info(ch, renegotiation)

        suite, scheme = self._choose_suite(ch)
        self.suite12 = suite
        self.own_scheme = scheme
        groups_ext = find_extension(ch.extensions, X.supported_groups)
        client_groups = parse_named_group_list(groups_ext) if groups_ext is not None else list(GROUPS12)
        group = next((g for g in cfg.groups if g in client_groups and g in GROUPS12), None)
        if group is None:
            raise TLSAlertError(AlertDescription.handshake_failure, "no common group")
        points = find_extension(ch.extensions, X.ec_point_formats)
        if points is not None and UNCOMPRESSED not in parse_ec_point_formats(points):
            # RFC 8422 section 5.1.2: uncompressed points are mandatory
            raise illegal_parameter("client does not accept uncompressed points")
        self.group = group

        self.server_name, self.sni_ack, self.sni_warning = server_name_answer(
            cfg, find_extension(ch.extensions, X.server_name)
        )
        alpn_ext = find_extension(ch.extensions, X.application_layer_protocol_negotiation)
        self.alpn = alpn.server_choice(alpn_ext, cfg.alpn_protocols, cfg.alpn_select)  # RFC 7301 section 3.2
        ems = find_extension(ch.extensions, X.extended_main_secret)
        if ems is not None:
            parse_empty(ems, "extended_master_secret")
        etm = find_extension(ch.extensions, X.encrypt_then_mac)
        if etm is not None:
            parse_empty(etm, "encrypt_then_mac")
        self.ems = ems is not None and cfg.extended_master_secret
        # RFC 7366 section 3: only for a block cipher suite
        self.etm_offered = etm is not None and cfg.encrypt_then_mac
        mfl = find_extension(ch.extensions, X.max_fragment_length)
        self.max_fragment_mode = maxfraglen.decode(mfl) if mfl is not None else 0  # RFC 6066 section 4
        self.etm = self.etm_offered and not suite.is_aead

        self.client_random = ch.random
        self.messages.append(raw)
        self._record_size_limit(ch)
        # RFC 5077: a ticket first; as in OpenSSL 3.0, a ticket that does not resume means a full handshake, and
        # only a hello without one (or with an empty one) is looked up in the session cache
        ticket = find_extension(ch.extensions, X.session_ticket)
        tickets = ticket is not None and cfg.session_tickets12 and cfg.ticket_sealer is not None
        self.issue_ticket = tickets
        if tickets and ticket:
            resumed = self._ticket_session(ch, ticket, ems is not None)
            if resumed is not None:
                self._send_abbreviated_flight(resumed, points is not None)
                return
        else:
            cached = self._cached_session(ch, ems is not None)
            if cached is not None:
                self._send_abbreviated_flight(cached, points is not None)
                return
        self._send_first_flight(ch, points is not None)

    def _record_size_limit(self, ch: ClientHello) -> None:
        """RFC 8449: with a limit of our own, answer a client's record_size_limit in the ServerHello and keep our
        protected records within the client's limit (TLS 1.2: the plaintext, at most 2^14)."""
        body = find_extension(ch.extensions, X.record_size_limit)
        ours = self.config.record_size_limit
        self.record_limit_answer = None
        if body is None or ours is None:
            return
        self.out.append(recordlimit.tls12(recordlimit.decode(body), ours))
        self.record_limit_answer = recordlimit.own12(ours)

    def _ticket_session(self, ch: ClientHello, ticket: bytes, client_ems: bool) -> Session12 | None:
        """The session inside the client's ticket if it opens, is within its lifetime and fits this hello (RFC 5077
        section 3.4, RFC 7627 section 5.3); None: a full handshake with a new ticket."""
        cfg = self.config
        assert cfg.ticket_sealer is not None
        state = open12(cfg.ticket_sealer, ticket)
        now = epoch_ms(self.ctx.now())
        if state is None or state.expired(now):
            return None
        if state.cipher_suite not in ch.cipher_suites or state.cipher_suite not in cfg.cipher_suites12:
            return None
        if state.extended_master_secret and not client_ems:
            raise TLSAlertError(AlertDescription.handshake_failure, "resumption without extended_master_secret")
        if not state.extended_master_secret and client_ems:
            return None  # RFC 7627 section 5.3: a full handshake instead
        renew = cfg.ticket_renew_after12
        self.issue_ticket = renew is not None and now - state.issued_ms >= renew * 1000
        try:
            return state.session(ch.legacy_session_id)
        except ValueError:
            return None  # a certificate in the state that does not load: not a ticket we can use

    def _cached_session(self, ch: ClientHello, client_ems: bool) -> Session12 | None:
        """The session the client asks to resume, if the cache has it and it fits this hello (RFC 5246 7.4.1.2)."""
        cache = self.config.session_cache12
        if cache is None or not ch.legacy_session_id:
            return None
        cached = cache.get(ch.legacy_session_id)
        if cached is None or cached.cipher_suite not in ch.cipher_suites:
            return None
        if cached.cipher_suite not in self.config.cipher_suites12:
            return None
        if cached.extended_master_secret and not client_ems:
            # RFC 7627 section 5.3: a session with an extended master secret resumes only with one
            raise TLSAlertError(AlertDescription.handshake_failure, "resumption without extended_master_secret")
        if not cached.extended_master_secret and client_ems:
            return None  # RFC 7627 section 5.3: a full handshake instead
        return cached

    def _send_abbreviated_flight(self, session: Session12, echo_points: bool) -> None:
        """ServerHello with the client's session id, ChangeCipherSpec, Finished (RFC 5246 section 7.3)."""
        self.session_id = session.session_id
        self.server_random = self._server_random()
        self.etm = self.etm_offered and not SUITES12[session.cipher_suite].is_aead
        self._resume(session)
        self.session = session
        exts = self._server_hello_extensions(echo_points)
        # SSL_get_servername: after a TLS 1.2 resumption the server reports the name of the original handshake
        self.server_name = session.server_name
        self._send(ServerHello(self.server_random, session.session_id, session.cipher_suite, 0, exts))
        self._limit_fragments()
        self._send_sni_warning()
        self.server_verify_data = self._send_ccs_and_finished()
        self._set_state(S.WAIT_CCS)

    def _server_random(self) -> bytes:
        random = self.ctx.random(32)
        if TLS13 in self.config.supported_versions:
            random = random[:24] + DOWNGRADE_TLS12  # RFC 9846 section 4.1.3
        return random

    def _send_sni_warning(self) -> None:
        """The server name callback declined the name with a warning: sent right after the ServerHello, where a
        client already knows it speaks TLS 1.2 (a warning before it would meet a client still open to TLS 1.3)."""
        if self.sni_warning is not None:
            self.out.append(SendAlert(AlertLevel.WARNING, self.sni_warning))

    def _server_hello_extensions(self, echo_points: bool) -> list[Extension]:
        exts: list[Extension] = []
        if self.secure_renegotiation:
            value = self.client_verify_data + self.server_verify_data
            exts.append((X.renegotiation_info, build_renegotiation_info(value)))
        if self.ems:
            exts.append((X.extended_main_secret, b""))
        if self.etm:
            exts.append((X.encrypt_then_mac, b""))
        if echo_points:
            exts.append((X.ec_point_formats, build_ec_point_formats()))
        if self.alpn is not None:
            exts.append((X.application_layer_protocol_negotiation, alpn.encode_extension([self.alpn])))
        if self.server_name is not None and self.sni_ack and self.handshakes_done == 0 and not self.resumed:
            exts.append((X.server_name, b""))
        if self.record_limit_answer is not None:
            exts.append((X.record_size_limit, recordlimit.encode(self.record_limit_answer)))
        if self.issue_ticket:
            exts.append((X.session_ticket, b""))  # RFC 5077 section 3.2: a NewSessionTicket follows
        if self.max_fragment_mode:
            exts.append((X.max_fragment_length, maxfraglen.encode(self.max_fragment_mode)))
        return self._order(exts)

    def _new_session(self) -> Session12:
        # the name in the session is the one this server accepted (SSL_get_servername after a resumption)
        return replace(super()._new_session(), server_name=self.server_name if self.sni_ack else None)

    def _before_change_cipher_spec(self) -> None:
        """RFC 5077 section 3.3: NewSessionTicket right before our ChangeCipherSpec, its ticket the sealed state of
        this handshake's session."""
        if not self.issue_ticket:
            return
        cfg = self.config
        assert cfg.ticket_sealer is not None and self.suite12 is not None
        name = self.session.server_name if self.resumed and self.session is not None else (
            self.server_name if self.sni_ack else None)  # fmt: skip
        state = TicketState12(
            self.master_secret, self.suite12.id, self.ems, epoch_ms(self.ctx.now()), cfg.ticket_lifetime, name,
            self.alpn, tuple(c.public_bytes(Encoding.DER) for c in self.peer_chain),
        )  # fmt: skip
        self._send(NewSessionTicket12(cfg.ticket_lifetime, seal12(cfg.ticket_sealer, state)))

    def _limit_fragments(self) -> None:
        """RFC 6066 section 4: once our ServerHello has echoed max_fragment_length, our records keep to it."""
        if self.max_fragment_mode:
            self.out.append(maxfraglen.SetMaxFragmentLength(maxfraglen.LIMITS[self.max_fragment_mode]))

    def _check_renegotiation_info(self, ch: ClientHello, renegotiation: bool) -> None:
        """RFC 5746 sections 3.6 and 3.7."""
        ext = find_extension(ch.extensions, X.renegotiation_info)
        scsv = TLS_EMPTY_RENEGOTIATION_INFO_SCSV in ch.cipher_suites
        if not renegotiation:
            if ext is not None and parse_renegotiation_info(ext) != b"":
                raise TLSAlertError(AlertDescription.handshake_failure, "renegotiation_info not empty")
            self.secure_renegotiation = scsv or ext is not None
            return
        if scsv:
            raise TLSAlertError(AlertDescription.handshake_failure, "SCSV in a renegotiation")
        if ext is None or parse_renegotiation_info(ext) != self.client_verify_data:
            raise TLSAlertError(AlertDescription.handshake_failure, "renegotiation_info does not match")

    def _choose_suite(self, ch: ClientHello) -> tuple[Suite12, int]:
        """The first suite both sides have (by ``suite_order``) that our certificate can sign for (RFC 5246 7.4.1.3,
        7.4.1.4.1: the signature scheme from the client's signature_algorithms, SHA-1 if it sent none)."""
        cfg = self.config
        found = candidates(cfg)
        if not found:
            raise TLSAlertError(AlertDescription.internal_error, "server has no certificate")
        if len(found) > 1:
            # several certificates (engine/tls/certselect.py): the first common suite (suite_order) whose
            # key type we hold a certificate of, that certificate's key able to sign for the client
            for code in suite_order(cfg, cfg.cipher_suites12, ch.cipher_suites):
                suite = SUITES12.get(code)
                if suite is None:
                    continue
                for chain, key in found:
                    if _auth(key) is suite.auth:
                        with contextlib.suppress(TLSAlertError):
                            scheme = self._check_certificate(ch, key)
                            self.chain, self.key = chain, key
                            return suite, scheme
        chain, key = found[0]
        auth = _auth(key)
        if auth is None:
            raise TLSAlertError(AlertDescription.handshake_failure, "certificate key cannot sign TLS 1.2 suites")
        for code in suite_order(cfg, cfg.cipher_suites12, ch.cipher_suites):
            suite = SUITES12.get(code)
            if suite is not None and suite.auth is auth:
                scheme = self._check_certificate(ch, key)
                self.chain, self.key = chain, key
                return suite, scheme
        raise TLSAlertError(AlertDescription.handshake_failure, "no common cipher suite")

    def _check_certificate(self, ch: ClientHello, key: PrivateKey) -> int:
        """The scheme ``key`` signs with for this client; handshake_failure when it cannot (RFC 5246 7.4.1.4.1,
        RFC 8422 section 5.1: the client's curves also bound the curve of an ECDSA certificate)."""
        sig_ext = find_extension(ch.extensions, X.signature_algorithms)
        peer_schemes = parse_signature_schemes(sig_ext) if sig_ext is not None else list(TLS12_DEFAULT_PEER_SCHEMES)
        groups_ext = find_extension(ch.extensions, X.supported_groups)
        if isinstance(key, ec.EllipticCurvePrivateKey) and groups_ext is not None:
            curve = _CURVE_GROUPS.get(key.curve.name)
            if curve not in parse_named_group_list(groups_ext):
                raise TLSAlertError(AlertDescription.handshake_failure, "certificate curve not among the client's")
        scheme = signatures.choose_scheme12(key, self.config.signature_algorithms12, peer_schemes)
        if scheme is None:
            raise TLSAlertError(AlertDescription.handshake_failure, "no common signature scheme")
        return scheme

    def _send_first_flight(self, ch: ClientHello, echo_points: bool) -> None:
        cfg = self.config
        suite = self.suite12
        key = self.key
        assert suite is not None and self.own_scheme is not None and key is not None
        self.server_random = self._server_random()
        # OpenSSL 3.0 (the pages are silent): a server that will issue a ticket sends an empty session id
        self.session_id = b"" if self.issue_ticket else self.ctx.random(32)
        exts = self._server_hello_extensions(echo_points)
        self._send(ServerHello(self.server_random, self.session_id, suite.id, 0, exts, legacy_version=TLS12))
        self._limit_fragments()
        self._send_sni_warning()
        self._send(Certificate12(certificates.der_chain(self.chain)))
        self.ecdhe_key = self.ctx.generate_key_share(self.group)
        public = keyexchange.public_share(self.group, self.ecdhe_key)
        params = ServerKeyExchangeECDHE(self.group, public, self.own_scheme, b"").params
        signature = self.ctx.sign12(key, self.own_scheme, self.client_random + self.server_random + params)
        self._send(ServerKeyExchangeECDHE(self.group, public, self.own_scheme, signature))
        self.cert_requested = cfg.request_client_certificate or cfg.require_client_certificate
        if self.cert_requested:
            self.cr_schemes = cfg.signature_algorithms12
            self._send(CertificateRequest12(bytes((RSA_SIGN, ECDSA_SIGN)), list(self.cr_schemes),
                                            list(cfg.client_ca_names)))
        self._send(ServerHelloDone())
        self._set_state(S.WAIT_CERT if self.cert_requested else S.WAIT_CKE)

    # -- WAIT_CERT / WAIT_CKE / WAIT_CV --------------------------------------------------------------------------

    def _on_certificate(self, body: bytes, raw: bytes) -> None:
        msg = Certificate12.parse(body)
        self.messages.append(raw)
        if not msg.certificate_list:
            if self.config.require_client_certificate:
                # RFC 5246 section 7.4.6: a server that requires one may answer with handshake_failure
                raise TLSAlertError(AlertDescription.handshake_failure, "client sent no certificate")
            self._set_state(S.WAIT_CKE)
            return
        chain = certificates.load_chain(msg.certificate_list)
        self._peer_certificate_check(chain, "client")
        self.peer_chain = chain
        self._set_state(S.WAIT_CKE)

    def _on_client_key_exchange(self, body: bytes, raw: bytes) -> None:
        cke = ClientKeyExchangeECDHE.parse(body)
        assert self.ecdhe_key is not None
        pre_master = keyexchange.client_shared_secret(self.group, self.ecdhe_key, cke.public)
        self.ecdhe_key = None
        self.messages.append(raw)
        self._derive(pre_master)
        self._set_state(S.WAIT_CV if self.peer_chain else S.WAIT_CCS)

    def _on_certificate_verify(self, body: bytes, raw: bytes) -> None:
        cv = CertificateVerify.parse(body)
        key = certificates.leaf_public_key(self.peer_chain[0])
        signatures.verify12(key, cv.algorithm, cv.signature, b"".join(self.messages), self.cr_schemes)
        self.peer_scheme = cv.algorithm
        self.messages.append(raw)
        self._set_state(S.WAIT_CCS)


C = Server12Handshake
# RFC 5246 section 7.3: (state, handshake type) -> handler and landing states; anything else is unexpected_message.
TRANSITIONS: dict[tuple[Enum, int], Transition] = {
    (S.START, H.client_hello): transition(C._on_client_hello, S.WAIT_CERT, S.WAIT_CKE, S.WAIT_CCS),
    (S.WAIT_CERT, H.certificate): transition(C._on_certificate, S.WAIT_CKE),
    (S.WAIT_CKE, H.client_key_exchange): transition(C._on_client_key_exchange, S.WAIT_CV, S.WAIT_CCS),
    (S.WAIT_CV, H.certificate_verify): transition(C._on_certificate_verify, S.WAIT_CCS),
    (S.WAIT_CCS, CHANGE_CIPHER_SPEC): transition(C._on_change_cipher_spec, S.WAIT_FINISHED),
    (S.WAIT_FINISHED, H.finished): transition(C._on_finished, S.CONNECTED),
    (S.CONNECTED, H.client_hello): transition(
        C._on_renegotiating_hello, S.WAIT_CERT, S.WAIT_CKE, S.WAIT_CCS, S.CONNECTED
    ),
}
Server12Handshake.TRANSITIONS = TRANSITIONS
del C
