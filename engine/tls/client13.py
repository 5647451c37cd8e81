"""TLS 1.3 client state machine (RFC 9846 appendix A.1).

::

    START --send ClientHello--> WAIT_SH --ServerHello--> WAIT_EE --EncryptedExtensions--> WAIT_CERT_CR
    WAIT_SH --HelloRetryRequest / send ClientHello2--> WAIT_SH        (at most once)
    WAIT_CERT_CR --CertificateRequest--> WAIT_CERT --Certificate--> WAIT_CV
    WAIT_CERT_CR --Certificate--> WAIT_CV --CertificateVerify--> WAIT_FINISHED
    WAIT_CERT(_CR) --Certificate, check deferred--> WAIT_APP_VERIFY --resume_certificate_check--> WAIT_CV
    WAIT_FINISHED --Finished / send [Certificate, CertificateVerify,] Finished--> CONNECTED
    WAIT_FINISHED --Finished, certificate requested, deferred--> WAIT_APP_CERT --send_client_certificate--> CONNECTED
    CONNECTED --NewSessionTicket | KeyUpdate--> CONNECTED

    WAIT_EE --EncryptedExtensions, PSK accepted--> WAIT_FINISHED         (resumption, RFC 9846 section 2.2)

0-RTT is out of scope. A ticket (``config.resume_ticket13``) is offered in pre_shared_key with psk_dhe_ke; see
:mod:`.session13`.
"""

from __future__ import annotations

import hmac
import ipaddress
from enum import Enum, auto

from cryptography import x509

from . import certificates, keyexchange, maxfraglen, recordlimit, signatures
from .alerts import AlertDescription, TLSAlertError, decode_error, illegal_parameter
from .alpn import decode_server_extension, encode_extension
from .config import TLSConfig, TLSContext
from .events import (
    CertificateReceived,
    CertificateRequested,
    HandshakeComplete,
    NewSessionTicketReceived,
    PostHandshakeAuthDone,
)
from .handshake import Handshake13, SendChangeCipherSpec, Transition, check_extension_types, transition
from .handshake12 import client_hello_extensions12, session_to_offer12
from .keyexchange import PrivateKeyShare
from .keyschedule import CIPHER_SUITES, KeySchedule, Transcript, finished_verify_data
from .messages import (
    TLS12,
    TLS13,
    Certificate,
    CertificateEntry,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    Extension,
    Finished,
    HandshakeType,
    KeyShareEntry,
    NewSessionTicket,
    ServerHello,
    build_cookie,
    build_handshake,
    build_key_share_ch,
    build_named_group_list,
    build_psk_key_exchange_modes,
    build_server_name,
    build_signature_schemes,
    build_supported_versions_ch,
    find_extension,
    parse_certificate_authorities,
    parse_cookie,
    parse_early_data_nst,
    parse_key_share_hrr,
    parse_key_share_sh,
    parse_signature_schemes,
    parse_supported_versions_sh,
)
from .messages import ExtensionType as X
from .messages12 import TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV, HelloRequest
from .record import Epoch
from .session12 import Session12
from .session13 import OfferedPsks, Ticket13, binder, binder_hash_input, parse_selected_identity

H = HandshakeType

# RFC 9846 section 4.3 (table of extensions and where they may appear)
_SH_ALLOWED = frozenset({X.key_share, X.supported_versions, X.pre_shared_key})
_HRR_ALLOWED = frozenset({X.key_share, X.supported_versions, X.cookie})
_EE_ALLOWED = frozenset(
    {
        X.server_name,
        X.max_fragment_length,
        X.supported_groups,
        X.use_srtp,
        X.heartbeat,
        X.application_layer_protocol_negotiation,
        X.client_certificate_type,
        X.server_certificate_type,
        X.early_data,
        X.record_size_limit,
    }
)
_CR_ALLOWED = frozenset(
    {
        X.status_request,
        X.signature_algorithms,
        X.signed_certificate_timestamp,
        X.certificate_authorities,
        X.oid_filters,
        X.signature_algorithms_cert,
    }
)


class ClientState(Enum):
    START = auto()
    WAIT_SH = auto()
    WAIT_EE = auto()
    WAIT_CERT_CR = auto()
    WAIT_CERT = auto()
    WAIT_CV = auto()
    WAIT_APP_VERIFY = auto()  # not in RFC 9846: the application is checking the server's chain (deferred)
    WAIT_FINISHED = auto()
    WAIT_APP_CERT = auto()  # not in RFC 9846: the application is choosing a client certificate (deferred)
    CONNECTED = auto()
    # not in RFC 9846: a post-handshake CertificateRequest awaits the application (later records wait: paused)
    PHA_WAIT_APP_CERT = auto()
    HANDED_OFF = auto()  # not in RFC 9846: the server chose TLS 1.2; client12 goes on from its ServerHello


class Client13Handshake(Handshake13):
    is_server = False
    CONNECTED = ClientState.CONNECTED

    @property
    def version_known(self) -> bool:
        # a HelloRetryRequest keeps WAIT_SH: only the ServerHello itself settles the version
        return self.state not in _BEFORE_VERSION

    def __init__(self, config: TLSConfig, context: TLSContext) -> None:
        super().__init__(config, context, ClientState.START)
        self.random = b""
        self.session_id = b""
        self.resume12: Session12 | None = None  # the TLS 1.2 session our ClientHello offers
        self.key_shares: dict[int, PrivateKeyShare] = {}
        self.client_hello: ClientHello | None = None
        self.client_hello_raw = b""
        self.offered_schemes: tuple[int, ...] = ()
        self.offered_extensions: set[int] = set()
        self.hrr_seen = False
        self.hrr_suite: int | None = None
        self.ccs_sent = False
        self.group = 0
        self.alpn: bytes | None = None
        self.cert_request: CertificateRequest | None = None
        self.peer_chain: list[x509.Certificate] = []
        self.peer_scheme: int | None = None
        self.client_hs_secret = b""
        self.server_hs_secret = b""
        self.tickets: list[NewSessionTicketReceived] = []
        self.offered_ticket: Ticket13 | None = None  # the ticket in our pre_shared_key
        self.resumed = False
        self.pha_base: Transcript | None = None  # the transcript through our Finished (RFC 9846 section 4.5)
        self.pha_transcript: Transcript | None = None
        self.pha_request: CertificateRequest | None = None
        # the certificate_authorities of the last CertificateRequest (RFC 9846 section 4.3.4); None: no request
        self.peer_ca_names: list[bytes] | None = None

    # -- START ---------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Build and send the first ClientHello (RFC 9846 section 4.2.2)."""
        cfg = self.config
        self.random = self.ctx.random(32)
        # RFC 9846 appendix D.4: the random legacy_session_id of middlebox compatibility mode goes in a hello that
        # offers TLS 1.3; a TLS 1.2-only hello without a session has an empty one (RFC 5246 section 7.4.1.2)
        compat = cfg.middlebox_compat and TLS13 in cfg.supported_versions
        self.session_id = self.ctx.random(32) if compat else b""
        # RFC 5246 section 7.4.1.2: the session to resume, if we list its suite
        self.resume12 = session_to_offer12(cfg, cfg.resume_session12) if TLS12 in cfg.supported_versions else None
        if self.resume12 is not None:
            self.session_id = self.resume12.session_id
        share_groups = cfg.key_share_groups if cfg.key_share_groups is not None else cfg.groups[:1]
        if TLS13 not in cfg.supported_versions:
            share_groups = ()  # a TLS 1.2-only hello has no key_share
        for group in share_groups:
            self.key_shares[group] = self.ctx.generate_key_share(group)
        self.offered_ticket = self._ticket_to_offer()
        self._send_client_hello(cookie=None, initial=True)
        self._set_state(ClientState.WAIT_SH)

    def _send_client_hello(self, cookie: bytes | None, initial: bool) -> None:
        cfg = self.config
        exts: list[Extension] = []
        tls13 = TLS13 in cfg.supported_versions
        tls12 = TLS12 in cfg.supported_versions
        if cfg.server_name is not None and not _is_ip(cfg.server_name):
            exts.append((X.server_name, build_server_name(cfg.server_name)))
        groups = cfg.advertised_groups if cfg.advertised_groups is not None else cfg.groups
        exts.append((X.supported_groups, build_named_group_list(groups)))
        if tls13:
            shares = [KeyShareEntry(g, keyexchange.public_share(g, k)) for g, k in self.key_shares.items()]
            exts.append((X.key_share, build_key_share_ch(shares)))
            exts.append((X.supported_versions, build_supported_versions_ch(cfg.supported_versions)))
        schemes = cfg.signature_algorithms if tls13 else ()
        if tls12:
            # one list for both versions: the 1.3 schemes first, then what only 1.2 adds (PKCS#1 v1.5)
            schemes += tuple(s for s in cfg.signature_algorithms12 if s not in schemes)
        self.offered_schemes = schemes
        exts.append((X.signature_algorithms, build_signature_schemes(schemes)))
        if cfg.alpn_protocols:
            exts.append((X.application_layer_protocol_negotiation, encode_extension(cfg.alpn_protocols)))
        if cfg.record_size_limit is not None:  # RFC 8449 section 4: a TLS 1.2-only client announces at most 2^14
            limit = cfg.record_size_limit if tls13 else recordlimit.own12(cfg.record_size_limit)
            exts.append((X.record_size_limit, recordlimit.encode(limit)))
        if cfg.max_fragment_length:
            exts.append((X.max_fragment_length, maxfraglen.encode(cfg.max_fragment_length)))
        if cookie is not None:
            exts.append((X.cookie, build_cookie(cookie)))
        if tls13 and cfg.psk_key_exchange_modes:
            exts.append((X.psk_key_exchange_modes, build_psk_key_exchange_modes(cfg.psk_key_exchange_modes)))
        suites = list(cfg.cipher_suites) if tls13 else []
        if tls12:
            exts += client_hello_extensions12(cfg, self.resume12)  # RFC 5077: its ticket, if any
            # RFC 5746 section 3.3: the SCSV stands for an empty renegotiation_info in an initial hello
            suites += [s for s in cfg.cipher_suites12 if s not in suites] + [TLS_EMPTY_RENEGOTIATION_INFO_SCSV]
        if cfg.send_fallback_scsv:
            suites.append(TLS_FALLBACK_SCSV)  # RFC 7507 section 4
        # RFC 9846 section 4.1.2: a second ClientHello drops early_data
        if cfg.post_handshake_auth and TLS13 in cfg.supported_versions:
            exts.append((X.post_handshake_auth, b""))  # RFC 9846 section 4.2.6: empty extension_data
        exts.extend(e for e in cfg.extra_extensions if initial or e[0] != X.early_data)
        exts = self._order(exts)
        hello = ClientHello(self.random, self.session_id, suites, b"\x00", exts)
        if cfg.pad_client_hello:
            # RFC 7685 usage: hellos of 256..511 bytes upset some middleboxes; pad those to 512.
            length = len(hello.build_body()) + 4
            if 256 <= length < 512:
                hello.extensions.append((X.padding, bytes(max(0, 512 - length - 4))))
        if tls13 and self.offered_ticket is not None:
            self._add_pre_shared_key(hello, self.offered_ticket)
        self.client_hello = hello
        self.offered_extensions = {t for t, _ in hello.extensions}
        if tls12:
            self.offered_extensions.add(X.renegotiation_info)  # offered through the SCSV
        self.client_hello_raw = self._send(hello, initial_client_hello=initial)

    def _ticket_to_offer(self) -> Ticket13 | None:
        """The configured ticket, if TLS 1.3 is offered, it is in its lifetime (RFC 9846 section 4.3.11.1), we offer
        psk_dhe_ke and a suite with its hash."""
        cfg = self.config
        ticket = cfg.resume_ticket13
        if ticket is None or TLS13 not in cfg.supported_versions or 1 not in cfg.psk_key_exchange_modes:
            return None
        if not ticket.usable(self.ctx.now()):
            return None
        if not any(CIPHER_SUITES[s].hash_len == ticket.hash_len for s in cfg.cipher_suites if s in CIPHER_SUITES):
            return None
        return ticket

    def _add_pre_shared_key(self, hello: ClientHello, ticket: Ticket13) -> None:
        """Append pre_shared_key, the last extension (RFC 9846 section 4.3.11), with its binder computed over the
        truncated ClientHello (section 4.3.11.2) under the hash of the ticket's suite."""
        suite = CIPHER_SUITES[ticket.cipher_suite]
        offered = OfferedPsks([ticket.identity(self.ctx.now())], [bytes(suite.hash_len)])
        hello.extensions.append((X.pre_shared_key, offered.build()))
        truncated = binder_hash_input(build_handshake(hello), offered)
        transcript_hash = self.transcript.digest_with(truncated, suite.hash_algorithm())
        offered = OfferedPsks(offered.identities, [binder(suite, KeySchedule(suite, ticket.psk).binder_key(),
                                                          transcript_hash)])  # fmt: skip
        hello.extensions[-1] = (X.pre_shared_key, offered.build())

    def _psk_accepted(self, sh: ServerHello) -> bytes | None:
        """The PSK the ServerHello accepts (RFC 9846 section 4.3.11: selected_identity in range, the ticket's hash);
        None: a full handshake."""
        ext = find_extension(sh.extensions, X.pre_shared_key)
        if ext is None:
            return None
        ticket = self.offered_ticket
        assert self.suite is not None
        if ticket is None or parse_selected_identity(ext) != 0 or self.suite.hash_len != ticket.hash_len:
            raise illegal_parameter("server selected a PSK we did not offer")
        self.resumed = True
        self.peer_chain = list(ticket.peer_chain)
        return ticket.psk

    # -- WAIT_SH -------------------------------------------------------------------------------------------------

    def _on_server_hello(self, body: bytes, raw: bytes) -> None:
        sh = ServerHello.parse(body)
        hrr = sh.is_hello_retry_request
        version_ext = find_extension(sh.extensions, X.supported_versions)
        if version_ext is None:
            # RFC 9846 section 4.2.1: without supported_versions the server picked legacy_version (1.2 or older)
            if sh.legacy_version != TLS12 or TLS12 not in self.config.supported_versions or hrr:
                raise TLSAlertError(AlertDescription.protocol_version, "server selected a version we did not offer")
            if self.hrr_seen:
                raise illegal_parameter("TLS 1.2 ServerHello after a HelloRetryRequest")
            from .client12 import Client12Handshake

            self._hand_off(Client12Handshake.from_server_hello(self, sh, raw), ClientState.HANDED_OFF)
            return
        if TLS13 not in self.config.supported_versions:
            # RFC 9846 section 4.2.1: supported_versions in a ServerHello to a hello that did not offer it
            raise TLSAlertError(AlertDescription.unsupported_extension, "supported_versions not offered")
        if parse_supported_versions_sh(version_ext) != TLS13 or sh.legacy_version != TLS12:
            raise illegal_parameter("server selected a version we did not offer")
        if sh.legacy_session_id_echo != self.session_id:
            raise illegal_parameter("legacy_session_id_echo mismatch")
        if sh.cipher_suite not in self.config.cipher_suites or sh.cipher_suite not in CIPHER_SUITES:
            raise illegal_parameter("cipher suite not offered")
        if sh.legacy_compression_method != 0:
            raise illegal_parameter("compression method")
        if self.hrr_suite is not None and sh.cipher_suite != self.hrr_suite:
            raise illegal_parameter("cipher suite differs from HelloRetryRequest")
        self.suite = CIPHER_SUITES[sh.cipher_suite]
        if hrr:
            self._on_hello_retry_request(sh, raw)
            return
        check_extension_types(sh.extensions, self.offered_extensions, _SH_ALLOWED, "ServerHello")
        share_ext = find_extension(sh.extensions, X.key_share)
        if share_ext is None:
            raise TLSAlertError(AlertDescription.missing_extension, "ServerHello without key_share")
        share = parse_key_share_sh(share_ext)
        key = self.key_shares.get(share.group)
        if key is None:
            raise illegal_parameter("server key share for a group we did not send")
        shared = keyexchange.client_shared_secret(share.group, key, share.key_exchange)
        self.group = share.group
        self.transcript.start(self.suite)
        self.transcript.update(raw)
        self.schedule = KeySchedule(self.suite, self._psk_accepted(sh))
        self.schedule.set_shared_secret(shared)
        self.client_hs_secret, self.server_hs_secret = self.schedule.handshake_traffic_secrets(self.transcript.digest())
        self._install("read", Epoch.handshake, self.server_hs_secret)
        self.key_shares.clear()
        self._set_state(ClientState.WAIT_EE)

    def _on_hello_retry_request(self, hrr: ServerHello, raw: bytes) -> None:
        # RFC 9846 section 4.2.4 / 4.1.4
        if self.hrr_seen:
            raise TLSAlertError(AlertDescription.unexpected_message, "second HelloRetryRequest")
        assert self.suite is not None
        self.hrr_seen = True
        self.hrr_suite = hrr.cipher_suite
        check_extension_types(
            hrr.extensions, self.offered_extensions, _HRR_ALLOWED, "HelloRetryRequest", may_be_unsolicited=X.cookie
        )
        group_ext = find_extension(hrr.extensions, X.key_share)
        cookie_ext = find_extension(hrr.extensions, X.cookie)
        if group_ext is None and cookie_ext is None:
            raise illegal_parameter("HelloRetryRequest would not change the ClientHello")
        if group_ext is not None:
            group = parse_key_share_hrr(group_ext)
            advertised = self.config.advertised_groups or self.config.groups
            if group not in advertised or group in self.key_shares:
                raise illegal_parameter("HelloRetryRequest selected an unusable group")
            if group not in keyexchange.SUPPORTED_GROUPS:
                raise illegal_parameter("HelloRetryRequest selected a group we cannot use")
            self.key_shares = {group: self.ctx.generate_key_share(group)}
        cookie = parse_cookie(cookie_ext) if cookie_ext is not None else None
        if self.offered_ticket is not None and self.offered_ticket.hash_len != self.suite.hash_len:
            self.offered_ticket = None  # RFC 9846 section 4.1.4: drop a PSK the selected suite cannot use
        self.transcript.replace_with_message_hash(self.suite)
        self.transcript.update(raw)
        if self.config.middlebox_compat and not self.ccs_sent:
            self.out.append(SendChangeCipherSpec())
            self.ccs_sent = True
        self._send_client_hello(cookie=cookie, initial=False)

    def _on_hello_request(self, body: bytes, raw: bytes) -> None:
        """A TLS 1.2 server may send HelloRequest at any time; before its ServerHello it is ignored (RFC 5246
        section 7.4.1.1). A client that offers TLS 1.3 only has no such message (RFC 9846 section 4)."""
        if TLS12 not in self.config.supported_versions:
            raise TLSAlertError(AlertDescription.unexpected_message, "HelloRequest to a TLS 1.3-only client")
        HelloRequest.parse(body)

    # -- WAIT_EE -------------------------------------------------------------------------------------------------

    def _on_encrypted_extensions(self, body: bytes, raw: bytes) -> None:
        ee = EncryptedExtensions.parse(body)
        check_extension_types(ee.extensions, self.offered_extensions, _EE_ALLOWED, "EncryptedExtensions")
        alpn = find_extension(ee.extensions, X.application_layer_protocol_negotiation)
        if alpn is not None:
            # RFC 7301 section 3.1: exactly one protocol, one we offered
            self.alpn = decode_server_extension(alpn, self.config.alpn_protocols)
        self._record_size_limit(find_extension(ee.extensions, X.record_size_limit))
        mfl = find_extension(ee.extensions, X.max_fragment_length)
        if mfl is not None:  # RFC 6066 section 4: the same value we asked for (an unasked echo was refused above)
            self.out.append(maxfraglen.check_echo(mfl, self.config.max_fragment_length))
            self.max_fragment_mode = self.config.max_fragment_length
        sni = find_extension(ee.extensions, X.server_name)
        if sni is not None and sni != b"":
            raise decode_error("server_name acknowledgement must be empty")
        self.transcript.update(raw)
        # RFC 9846 section 2.2: a server authenticated by the PSK sends no certificate
        self._set_state(ClientState.WAIT_FINISHED if self.resumed else ClientState.WAIT_CERT_CR)

    def _record_size_limit(self, body: bytes | None) -> None:
        """RFC 8449: the server's answer gives its limit; ours holds from the records we send after its
        EncryptedExtensions (check_extension_types already refused an answer to an offer we did not make)."""
        if body is not None:
            self.out.append(
                recordlimit.SetRecordSizeLimit(recordlimit.decode(body), recordlimit.own(self.config.record_size_limit))
            )

    # -- WAIT_CERT_CR / WAIT_CERT --------------------------------------------------------------------------------

    def _on_certificate_request(self, body: bytes, raw: bytes) -> None:
        cr = CertificateRequest.parse(body)
        if cr.certificate_request_context:
            raise illegal_parameter("handshake CertificateRequest context must be empty")
        check_extension_types(cr.extensions, set(_CR_ALLOWED) | {t for t, _ in cr.extensions}, _CR_ALLOWED, "CR")
        if find_extension(cr.extensions, X.signature_algorithms) is None:
            raise TLSAlertError(AlertDescription.missing_extension, "CertificateRequest without signature_algorithms")
        self.peer_ca_names = _ca_names(cr)
        self.cert_request = cr
        self.transcript.update(raw)
        self._set_state(ClientState.WAIT_CERT)

    def _on_certificate(self, body: bytes, raw: bytes) -> None:
        msg = Certificate.parse(body)
        if msg.certificate_request_context:
            raise illegal_parameter("server Certificate context must be empty")
        if not msg.certificate_list:
            # RFC 9846 section 4.5.1.3
            raise decode_error("empty server Certificate")
        chain = certificates.load_chain([e.cert_data for e in msg.certificate_list])
        if self.config.defer_certificate_check:
            self.peer_chain = chain
            self.transcript.update(raw)
            self._set_state(ClientState.WAIT_APP_VERIFY)
            self.out.append(CertificateReceived(list(chain)))
            return
        if self.config.check_chain is not None:
            self.config.check_chain(chain)
        elif self.config.verify_peer:
            certificates.verify_server_chain(chain, self.config.trusted_roots, self.config.verify_host, self.ctx.now())
        self.peer_chain = chain
        self.transcript.update(raw)
        self._set_state(ClientState.WAIT_CV)

    # -- WAIT_CV -------------------------------------------------------------------------------------------------

    def _on_certificate_verify(self, body: bytes, raw: bytes) -> None:
        cv = CertificateVerify.parse(body)
        key = certificates.leaf_public_key(self.peer_chain[0])
        content = signatures.certificate_verify_input(True, self.transcript.digest())
        signatures.verify(key, cv.algorithm, cv.signature, content, self.config.signature_algorithms)
        self.peer_scheme = cv.algorithm
        self.transcript.update(raw)
        self._set_state(ClientState.WAIT_FINISHED)

    # -- WAIT_FINISHED -------------------------------------------------------------------------------------------

    def _on_finished(self, body: bytes, raw: bytes) -> None:
        assert self.suite is not None and self.schedule is not None
        fin = Finished.parse(body)
        if len(fin.verify_data) != self.suite.hash_len:
            raise decode_error("Finished length")
        expected = finished_verify_data(self.suite, self.server_hs_secret, self.transcript.digest())
        if not hmac.compare_digest(expected, fin.verify_data):
            raise TLSAlertError(AlertDescription.decrypt_error, "server Finished does not verify")
        self.peer_finished = True
        self.transcript.update(raw)
        digest = self.transcript.digest()
        self.client_app_secret, self.server_app_secret = self.schedule.application_traffic_secrets(digest)
        self.exporter_secret = self.schedule.exporter_secret(digest)
        self._install("read", Epoch.application, self.server_app_secret)
        if self.cert_request is not None and self.config.defer_client_certificate:
            self._set_state(ClientState.WAIT_APP_CERT)
            self.out.append(CertificateRequested())
            return
        self._send_second_flight(self.config.certificate_chain, self.config.private_key)

    @property
    def paused(self) -> bool:
        return self.state in _PAUSED

    def finish_certificate_check(self, accepted: bool) -> None:
        """The application's verdict on a deferred chain: go on to CertificateVerify, or bad_certificate."""
        if self.state is not ClientState.WAIT_APP_VERIFY:
            raise RuntimeError("no certificate check is awaited")
        if not accepted:
            raise TLSAlertError(AlertDescription.bad_certificate, "certificate rejected by the application")
        self._set_state(ClientState.WAIT_CV)

    def send_client_certificate(self, chain: list[x509.Certificate], key: signatures.PrivateKey | None) -> None:
        """Resume a deferred handshake with this certificate (an empty chain: no certificate)."""
        if self.state is ClientState.PHA_WAIT_APP_CERT:
            self._answer_post_handshake(chain, key)
            return
        if self.state is not ClientState.WAIT_APP_CERT:
            raise RuntimeError("no client certificate is awaited")
        self._send_second_flight(chain, key)

    def _send_second_flight(self, chain: list[x509.Certificate], key: signatures.PrivateKey | None) -> None:
        assert self.suite is not None and self.schedule is not None
        # our second flight (RFC 9846 section 4.4, appendix E.4 for the dummy change_cipher_spec)
        if self.config.middlebox_compat and not self.ccs_sent:
            self.out.append(SendChangeCipherSpec())
            self.ccs_sent = True
        self._install("write", Epoch.handshake, self.client_hs_secret)
        if self.cert_request is not None:
            self._send_client_certificate(self.cert_request, chain, key)
        verify_data = finished_verify_data(self.suite, self.client_hs_secret, self.transcript.digest())
        self._send(Finished(verify_data))
        self._install("write", Epoch.application, self.client_app_secret)
        self.resumption_secret = self.schedule.resumption_secret(self.transcript.digest())
        self.pha_base = self.transcript.copy()
        self._set_state(ClientState.CONNECTED)
        self.out.append(
            HandshakeComplete(
                cipher_suite=self.suite.code,
                group=self.group,
                signature_scheme=self.peer_scheme,
                alpn_protocol=self.alpn,
                server_name=self.config.server_name,
                hello_retry_request=self.hrr_seen,
                peer_certificates=list(self.peer_chain),
                version=self.version,
                resumed=self.resumed,
            )
        )

    def _send_client_certificate(
        self, cr: CertificateRequest, chain: list[x509.Certificate], key: signatures.PrivateKey | None
    ) -> int | None:
        cfg = self.config
        sig_ext = find_extension(cr.extensions, X.signature_algorithms)
        peer_schemes = parse_signature_schemes(sig_ext) if sig_ext is not None else []
        scheme = None
        if chain and key is not None:
            scheme = signatures.choose_scheme(key, cfg.signature_algorithms, peer_schemes)
        if scheme is None or key is None:
            # RFC 9846 section 4.4.2: no suitable certificate, send an empty Certificate message
            self._send(Certificate(cr.certificate_request_context, []))
            return None
        entries = [CertificateEntry(der) for der in certificates.der_chain(chain)]
        self._send(Certificate(cr.certificate_request_context, entries))
        content = signatures.certificate_verify_input(False, self.transcript.digest())
        self._send(CertificateVerify(scheme, self.ctx.sign(key, scheme, content)))
        return scheme

    # -- CONNECTED -----------------------------------------------------------------------------------------------

    @property
    def established(self) -> bool:
        return self.state in _ESTABLISHED

    def _on_post_handshake_request(self, body: bytes, raw: bytes) -> None:
        """RFC 9846 section 4.6.2: a CertificateRequest after the handshake, allowed only when we offered
        post_handshake_auth; answered with Certificate, CertificateVerify (with a certificate) and Finished."""
        if not self.config.post_handshake_auth or self.pha_base is None:
            raise TLSAlertError(AlertDescription.unexpected_message, "CertificateRequest without post_handshake_auth")
        cr = CertificateRequest.parse(body)
        check_extension_types(cr.extensions, set(_CR_ALLOWED) | {t for t, _ in cr.extensions}, _CR_ALLOWED, "CR")
        if find_extension(cr.extensions, X.signature_algorithms) is None:
            raise TLSAlertError(AlertDescription.missing_extension, "CertificateRequest without signature_algorithms")
        self.peer_ca_names = _ca_names(cr)
        self.pha_request = cr
        self.pha_transcript = self.pha_base.copy()
        self.pha_transcript.update(raw)
        if self.config.defer_client_certificate:
            self._set_state(ClientState.PHA_WAIT_APP_CERT)
            self.out.append(CertificateRequested())
            return
        self._answer_post_handshake(self.config.certificate_chain, self.config.private_key)

    def _answer_post_handshake(self, chain: list[x509.Certificate], key: signatures.PrivateKey | None) -> None:
        assert self.suite is not None and self.pha_request is not None and self.pha_transcript is not None
        main, self.transcript = self.transcript, self.pha_transcript
        try:
            self._send_client_certificate(self.pha_request, chain, key)
            # RFC 9846 section 4.5: the Finished key of post-handshake messages is the current application secret
            self._send(Finished(finished_verify_data(self.suite, self.client_app_secret, self.transcript.digest())))
        finally:
            self.transcript = main
        self.pha_request = self.pha_transcript = None
        self._set_state(ClientState.CONNECTED)
        self.out.append(PostHandshakeAuthDone([]))

    def _on_new_session_ticket(self, body: bytes, raw: bytes) -> None:
        # RFC 9846 section 4.7.1: kept with what a resumption needs (see session13)
        assert self.suite is not None
        nst = NewSessionTicket.parse(body)
        psk = self._ticket_psk(nst.ticket_nonce)
        early = find_extension(nst.extensions, X.early_data)
        session = Ticket13(
            nst.ticket, psk, self.suite.code, self.suite.hash_len, nst.ticket_age_add, nst.ticket_lifetime,
            self.ctx.now(), self.alpn, self.config.server_name, tuple(self.peer_chain),
            parse_early_data_nst(early) if early is not None else 0,
        )  # fmt: skip
        event = NewSessionTicketReceived(nst, psk, self.suite.code, session)
        self.tickets.append(event)
        self.out.append(event)


C = Client13Handshake
S = ClientState
# RFC 9846 appendix A: (state, handshake type) -> handler and landing states; anything else is unexpected_message.
TRANSITIONS: dict[tuple[Enum, int], Transition] = {
    (S.WAIT_SH, H.server_hello): transition(C._on_server_hello, S.WAIT_EE, S.WAIT_SH, S.HANDED_OFF),
    (S.WAIT_SH, H.hello_request): transition(C._on_hello_request, S.WAIT_SH),
    (S.WAIT_EE, H.encrypted_extensions): transition(C._on_encrypted_extensions, S.WAIT_CERT_CR, S.WAIT_FINISHED),
    (S.WAIT_CERT_CR, H.certificate_request): transition(C._on_certificate_request, S.WAIT_CERT),
    (S.WAIT_CERT_CR, H.certificate): transition(C._on_certificate, S.WAIT_CV, S.WAIT_APP_VERIFY),
    (S.WAIT_CERT, H.certificate): transition(C._on_certificate, S.WAIT_CV, S.WAIT_APP_VERIFY),
    (S.WAIT_CV, H.certificate_verify): transition(C._on_certificate_verify, S.WAIT_FINISHED),
    (S.WAIT_FINISHED, H.finished): transition(C._on_finished, S.CONNECTED, S.WAIT_APP_CERT),
    (S.CONNECTED, H.new_session_ticket): transition(C._on_new_session_ticket, S.CONNECTED),
    (S.CONNECTED, H.key_update): transition(C._on_key_update, S.CONNECTED),
    (S.CONNECTED, H.certificate_request): transition(C._on_post_handshake_request, S.CONNECTED, S.PHA_WAIT_APP_CERT),
}
Client13Handshake.TRANSITIONS = TRANSITIONS
# state sets of the properties asked on every record (module tuples: no Enum attribute lookups per call)
_BEFORE_VERSION = (S.START, S.WAIT_SH)
_PAUSED = (S.WAIT_APP_VERIFY, S.PHA_WAIT_APP_CERT)
_ESTABLISHED = (S.CONNECTED, S.PHA_WAIT_APP_CERT)
del C, S


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _ca_names(cr: CertificateRequest) -> list[bytes]:
    """The names of a CertificateRequest's certificate_authorities extension (a malformed one: decode_error)."""
    data = find_extension(cr.extensions, X.certificate_authorities)
    return [] if data is None else parse_certificate_authorities(data)
