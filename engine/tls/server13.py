"""TLS 1.3 server state machine (RFC 9846 appendix A.2).

::

    START --ClientHello--> RECVD_CH --(select)--> NEGOTIATED --send SH..Finished--> WAIT_FLIGHT2
    RECVD_CH --send HelloRetryRequest--> START                              (at most once)
    WAIT_FLIGHT2 --(client certificate requested)--> WAIT_CERT, else WAIT_FINISHED
    WAIT_CERT --Certificate (non-empty)--> WAIT_CV --CertificateVerify--> WAIT_FINISHED
    WAIT_CERT --Certificate (empty)--> WAIT_FINISHED
    WAIT_FINISHED --Finished / send NewSessionTicket*--> CONNECTED
    CONNECTED --KeyUpdate--> CONNECTED

RECVD_CH, NEGOTIATED and WAIT_FLIGHT2 are passed through inside one call (no 0-RTT, so no WAIT_EOED), and the
table only holds states where the server waits for a message.

Group selection follows the server's preference strictly: the first group in ``config.groups`` the client supports
is chosen, and if the client sent no share for it the server asks for one with a HelloRetryRequest (as in the RFC
8448 HelloRetryRequest trace, where the server prefers P-256 over the client's X25519 share).
"""

from __future__ import annotations

import hmac
from enum import Enum, auto
from typing import Literal

from cryptography import x509

from . import alpn, certificates, keyexchange, maxfraglen, recordlimit, signatures
from .alerts import AlertDescription, TLSAlertError, decode_error, illegal_parameter
from .certselect import choose_certificate13, server_name_answer
from .config import TLSConfig, TLSContext, suite_order
from .events import HandshakeComplete, PostHandshakeAuthDone
from .handshake import Handshake13, SendChangeCipherSpec, SendHandshake, SkipEarlyData, Transition, transition
from .keyschedule import CIPHER_SUITES, CipherSuite, KeySchedule, Transcript, finished_verify_data
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
    HelloRetryRequest,
    KeyShareEntry,
    NewSessionTicket,
    ServerHello,
    build_cookie,
    build_handshake,
    build_key_share_hrr,
    build_key_share_sh,
    build_named_group_list,
    build_signature_schemes,
    build_supported_versions_sh,
    certificate_authorities,
    find_extension,
    parse_cookie,
    parse_key_share_ch,
    parse_named_group_list,
    parse_psk_key_exchange_modes,
    parse_signature_schemes,
    parse_supported_versions_ch,
)
from .messages import ExtensionType as X
from .messages12 import TLS_FALLBACK_SCSV
from .record import Epoch
from .session13 import (
    PSK_DHE_KE,
    OfferedPsks,
    TicketState13,
    binder_hash_input,
    binder_matches,
    build_selected_identity,
    epoch_ms,
)
from .signatures import PrivateKey

H = HandshakeType


class ServerState(Enum):
    START = auto()
    RECVD_CH = auto()
    NEGOTIATED = auto()
    WAIT_EOED = auto()
    WAIT_FLIGHT2 = auto()
    WAIT_CERT = auto()
    WAIT_CV = auto()
    WAIT_FINISHED = auto()
    CONNECTED = auto()
    # not in RFC 9846's diagram: a post-handshake CertificateRequest was sent (section 4.6.2)
    PHA_WAIT_CERT = auto()
    PHA_WAIT_CV = auto()
    PHA_WAIT_FINISHED = auto()
    HANDED_OFF = auto()  # not in RFC 9846: the client hello picked TLS 1.2; server12 goes on from it


class Server13Handshake(Handshake13):
    is_server = True
    CONNECTED = ServerState.CONNECTED

    @property
    def version_known(self) -> bool:
        # after a HelloRetryRequest the machine waits in START again, but TLS 1.3 was chosen with the first hello
        return self.state is not ServerState.START or self.hrr_sent

    def __init__(self, config: TLSConfig, context: TLSContext) -> None:
        super().__init__(config, context, ServerState.START)
        self.client_hello_received = False
        self.hrr_sent = False
        self.hrr_group: int | None = None
        self.hrr_cookie: bytes | None = None
        self.first_hello: ClientHello | None = None
        self.ccs_sent = False
        self.group = 0
        self.alpn: bytes | None = None
        self.server_name: str | None = None
        self.sni_ack = False
        self.chain: list[x509.Certificate] = []
        self.key: PrivateKey | None = None
        self.scheme: int | None = None
        self.client_hs_secret = b""
        self.server_hs_secret = b""
        self.peer_chain: list[x509.Certificate] = []
        self.peer_scheme: int | None = None
        self.cr_schemes: tuple[int, ...] = ()
        self.resumed: TicketState13 | None = None  # the ticket this handshake resumes (PSK accepted)
        self.tickets_sent = 0
        self.client_pha = False  # the ClientHello offered post_handshake_auth (RFC 9846 section 4.2.6)
        self.pha_base: Transcript | None = None
        self.pha_transcript: Transcript | None = None
        self.pha_context = b""
        self.pha_chain: list[x509.Certificate] = []

    @property
    def ccs_may_arrive(self) -> bool:
        return self.client_hello_received and not self.peer_finished

    # -- START: ClientHello ----------------------------------------------------------------------------------------

    def _on_client_hello(self, body: bytes, raw: bytes) -> None:
        ch = ClientHello.parse(body)
        self.client_hello_received = True
        self._set_state(ServerState.RECVD_CH)
        cfg = self.config
        version = self._choose_version(ch)
        if version == TLS12:
            from .server12 import Server12Handshake

            successor = Server12Handshake(cfg, self.ctx)
            self._hand_off(successor, ServerState.HANDED_OFF)
            successor.handle(H.client_hello, body, raw)
            return
        if ch.legacy_compression_methods != b"\x00":
            raise illegal_parameter("legacy_compression_methods must be the single null method")
        _check_psk_extension_place(ch)
        if self.hrr_sent:
            self._check_second_hello(ch)

        # SSL_CTX_set_options: SSL_OP_CIPHER_SERVER_PREFERENCE picks by our order, else the client's decides
        order = suite_order(cfg, cfg.cipher_suites, ch.cipher_suites)
        suite_code = next((s for s in order if s in CIPHER_SUITES), None)
        if suite_code is None:
            raise TLSAlertError(AlertDescription.handshake_failure, "no common cipher suite")
        suite = CIPHER_SUITES[suite_code]

        sig_ext = find_extension(ch.extensions, X.signature_algorithms)
        if sig_ext is None:
            raise TLSAlertError(AlertDescription.missing_extension, "signature_algorithms missing")
        client_schemes = parse_signature_schemes(sig_ext)
        groups_ext = find_extension(ch.extensions, X.supported_groups)
        share_ext = find_extension(ch.extensions, X.key_share)
        if groups_ext is None or share_ext is None:
            # RFC 9846 section 9.2: without PSK both are mandatory
            raise TLSAlertError(AlertDescription.missing_extension, "supported_groups / key_share missing")
        client_groups = parse_named_group_list(groups_ext)
        shares = parse_key_share_ch(share_ext)
        seen: set[int] = set()
        for entry in shares:
            if entry.group in seen or entry.group not in client_groups:
                raise illegal_parameter("key_share entry duplicated or not in supported_groups")
            seen.add(entry.group)

        self.server_name, self.sni_ack, _ = server_name_answer(cfg, find_extension(ch.extensions, X.server_name))
        alpn_ext = find_extension(ch.extensions, X.application_layer_protocol_negotiation)
        self.alpn = alpn.server_choice(alpn_ext, cfg.alpn_protocols, cfg.alpn_select)  # RFC 7301 section 3.2
        mfl = find_extension(ch.extensions, X.max_fragment_length)
        self.max_fragment_mode = maxfraglen.decode(mfl) if mfl is not None else 0  # RFC 6066 section 4

        self.chain, self.key, self.scheme = choose_certificate13(cfg, client_schemes)

        group = next((g for g in cfg.groups if g in client_groups and g in keyexchange.SUPPORTED_GROUPS), None)
        if group is None:
            raise TLSAlertError(AlertDescription.handshake_failure, "no common group")
        client_share = next((e for e in shares if e.group == group), None)
        self.suite = suite
        if client_share is None:
            if self.hrr_sent:
                raise illegal_parameter("second ClientHello still lacks the requested key share")
            self._send_hello_retry_request(ch, raw, group)
            return
        self._set_state(ServerState.NEGOTIATED)
        self._negotiate(ch, raw, client_share)

    def _choose_version(self, ch: ClientHello) -> int:
        """RFC 9846 section 4.2.1 and appendix E: the highest version both sides have; supported_versions if the
        client sent it, else legacy_version. TLS_FALLBACK_SCSV from a client below our best is a downgrade
        (RFC 7507 section 3)."""
        if ch.legacy_version < TLS12:
            # RFC 9846 section 4.1.2 (a legacy_version other than 0x0303 is refused) and appendix E.2 (nothing
            # below TLS 1.2 is negotiated): only hellos below 1.2 are refused, TLS 1.2 hellos are served
            raise TLSAlertError(AlertDescription.protocol_version, "ClientHello legacy_version below TLS 1.2")
        ours = self.config.supported_versions
        versions_ext = find_extension(ch.extensions, X.supported_versions)
        if versions_ext is not None:
            offered = parse_supported_versions_ch(versions_ext)
        else:
            offered = [TLS12] if ch.legacy_version >= TLS12 else []
        if self.hrr_sent:
            offered = [v for v in offered if v == TLS13]  # the second hello must stay with TLS 1.3
        common = [v for v in (TLS13, TLS12) if v in offered and v in ours]
        if not common:
            raise TLSAlertError(AlertDescription.protocol_version, "no protocol version in common")
        if TLS_FALLBACK_SCSV in ch.cipher_suites and max(offered) < max(v for v in ours if v in (TLS13, TLS12)):
            raise TLSAlertError(AlertDescription.inappropriate_fallback, "TLS_FALLBACK_SCSV below our best version")
        return common[0]

    def _check_second_hello(self, ch: ClientHello) -> None:
        # RFC 9846 section 4.1.4: the second ClientHello answers the HelloRetryRequest exactly
        first = self.first_hello
        assert first is not None and self.suite is not None
        if ch.random != first.random or ch.legacy_session_id != first.legacy_session_id:
            raise illegal_parameter("second ClientHello changed random or session id")
        if ch.cipher_suites != first.cipher_suites or self.suite.code not in ch.cipher_suites:
            raise illegal_parameter("second ClientHello changed cipher suites")
        share_ext = find_extension(ch.extensions, X.key_share)
        shares = parse_key_share_ch(share_ext) if share_ext is not None else []
        if [e.group for e in shares] != [self.hrr_group]:
            raise illegal_parameter("second ClientHello must carry exactly the requested key share")
        if self.hrr_cookie is not None:
            cookie_ext = find_extension(ch.extensions, X.cookie)
            if cookie_ext is None or parse_cookie(cookie_ext) != self.hrr_cookie:
                raise illegal_parameter("cookie not echoed")
        if find_extension(ch.extensions, X.early_data) is not None:
            raise illegal_parameter("early_data after HelloRetryRequest")

    def _send_hello_retry_request(self, ch: ClientHello, raw: bytes, group: int) -> None:
        assert self.suite is not None
        self.transcript.start(self.suite)
        self.transcript.update(raw)
        self.transcript.replace_with_message_hash(self.suite)
        exts: list[Extension] = [(X.key_share, build_key_share_hrr(group))]
        if self.config.hrr_cookie is not None:
            self.hrr_cookie = self.config.hrr_cookie(self.transcript.digest())
            exts.append((X.cookie, build_cookie(self.hrr_cookie)))
        exts.append((X.supported_versions, build_supported_versions_sh(TLS13)))
        hrr = HelloRetryRequest(ch.legacy_session_id, self.suite.code, self._order(exts))
        self._send(hrr)
        if self.config.middlebox_compat and ch.legacy_session_id and not self.ccs_sent:
            # RFC 9846 appendix E.4: the dummy change_cipher_spec follows the first handshake message we send, in
            # middlebox compatibility mode (SSL_OP_ENABLE_MIDDLEBOX_COMPAT: cleared, none is sent)
            self.out.append(SendChangeCipherSpec())
            self.ccs_sent = True
        self.hrr_sent = True
        self.hrr_group = group
        self.first_hello = ch
        self._set_state(ServerState.START)
        self._skip_early_data(ch, "application_data")

    def _skip_early_data(self, ch: ClientHello, kind: Literal["undecryptable", "application_data"]) -> None:
        """RFC 9846 section 4.3.10: this server takes no early data; if the client sends some, skip it (records it
        cannot decrypt, or after a HelloRetryRequest application_data records) up to the configured limit."""
        if find_extension(ch.extensions, X.early_data) is not None:
            self.out.append(SkipEarlyData(kind, self.config.max_early_data_skip))

    def _record_size_limit(self, ch: ClientHello) -> list[Extension]:
        """RFC 8449: with a limit of our own, answer a client's record_size_limit with it and keep the records we
        send from EncryptedExtensions on within the client's limit."""
        body = find_extension(ch.extensions, X.record_size_limit)
        if body is None or self.config.record_size_limit is None:
            return []
        self.out.append(recordlimit.SetRecordSizeLimit(recordlimit.decode(body),
                                                       recordlimit.own(self.config.record_size_limit)))
        return [(X.record_size_limit, recordlimit.encode(self.config.record_size_limit))]

    # -- NEGOTIATED: our flight ----------------------------------------------------------------------------------

    def _negotiate(self, ch: ClientHello, raw: bytes, client_share: KeyShareEntry) -> None:
        cfg = self.config
        suite = self.suite
        assert suite is not None and self.scheme is not None and self.key is not None
        self.transcript.start(suite)
        psk_index = self._accept_psk(ch, raw)  # before ClientHello is hashed: the binder covers a truncated one
        self.transcript.update(raw)
        server_share, shared = keyexchange.server_exchange(
            client_share.group, client_share.key_exchange, self.ctx.generate_key_share
        )
        self.group = client_share.group
        sh_exts: list[Extension] = [
            (X.key_share, build_key_share_sh(KeyShareEntry(client_share.group, server_share))),
            (X.supported_versions, build_supported_versions_sh(TLS13)),
        ]
        if psk_index is not None:
            sh_exts.append((X.pre_shared_key, build_selected_identity(psk_index)))
        sh = ServerHello(self.ctx.random(32), ch.legacy_session_id, suite.code, 0, self._order(sh_exts))
        self._send(sh)
        if self.config.middlebox_compat and ch.legacy_session_id and not self.ccs_sent:
            self.out.append(SendChangeCipherSpec())
            self.ccs_sent = True
        self.schedule = KeySchedule(suite, self.resumed.psk if self.resumed is not None else None)
        self.schedule.set_shared_secret(shared)
        self.client_hs_secret, self.server_hs_secret = self.schedule.handshake_traffic_secrets(self.transcript.digest())
        self._install("write", Epoch.handshake, self.server_hs_secret)
        self._install("read", Epoch.handshake, self.client_hs_secret)
        self._skip_early_data(ch, "undecryptable")

        ee_exts: list[Extension] = []
        if self.alpn is not None:
            ee_exts.append((X.application_layer_protocol_negotiation, alpn.encode_extension([self.alpn])))
        if cfg.advertise_groups:
            ee_exts.append((X.supported_groups, build_named_group_list(cfg.advertise_groups)))
        ee_exts.extend(self._record_size_limit(ch))
        if self.max_fragment_mode:
            ee_exts.append((X.max_fragment_length, maxfraglen.encode(self.max_fragment_mode)))
        offered = {t for t, _ in ch.extensions}
        ee_exts.extend(e for e in cfg.extra_extensions if e[0] in offered)
        if self.server_name is not None and self.sni_ack:
            ee_exts.append((X.server_name, b""))
        self._send(EncryptedExtensions(self._order(ee_exts)))
        if self.max_fragment_mode:  # RFC 6066 section 4: our records from here on are within the limit
            self.out.append(maxfraglen.SetMaxFragmentLength(maxfraglen.LIMITS[self.max_fragment_mode]))

        if self.resumed is not None:
            self._finish_flight(suite)  # RFC 9846 section 2.2: a PSK handshake sends no certificate
            return
        self.client_pha = find_extension(ch.extensions, X.post_handshake_auth) is not None
        if (cfg.request_client_certificate or cfg.require_client_certificate) and not cfg.post_handshake_only:
            self.cr_schemes = cfg.signature_algorithms
            cr_exts: list[Extension] = [(X.signature_algorithms, build_signature_schemes(self.cr_schemes))]
            cr_exts += certificate_authorities(cfg.client_ca_names)
            self._send(CertificateRequest(b"", cr_exts))

        entries = [CertificateEntry(der) for der in certificates.der_chain(self.chain)]
        self._send(Certificate(b"", entries))
        content = signatures.certificate_verify_input(True, self.transcript.digest())
        self._send(CertificateVerify(self.scheme, self.ctx.sign(self.key, self.scheme, content)))
        self._finish_flight(suite)

    def _finish_flight(self, suite: CipherSuite) -> None:
        assert self.schedule is not None
        self._send(Finished(finished_verify_data(suite, self.server_hs_secret, self.transcript.digest())))

        digest = self.transcript.digest()
        self.client_app_secret, self.server_app_secret = self.schedule.application_traffic_secrets(digest)
        self.exporter_secret = self.schedule.exporter_secret(digest)
        self._install("write", Epoch.application, self.server_app_secret)
        self._set_state(ServerState.WAIT_FLIGHT2)
        # No 0-RTT: WAIT_FLIGHT2 passes straight on.
        self._set_state(ServerState.WAIT_CERT if self.cr_schemes else ServerState.WAIT_FINISHED)

    # -- WAIT_CERT / WAIT_CV ---------------------------------------------------------------------------------------

    def _on_certificate(self, body: bytes, raw: bytes) -> None:
        msg = Certificate.parse(body)
        if msg.certificate_request_context:
            raise illegal_parameter("Certificate context does not match CertificateRequest")
        self.transcript.update(raw)
        chain = self._client_chain(msg)
        if chain is None:
            self._set_state(ServerState.WAIT_FINISHED)
            return
        self.peer_chain = chain
        self._set_state(ServerState.WAIT_CV)

    def _client_chain(self, msg: Certificate) -> list[x509.Certificate] | None:
        """The chain of the client's Certificate, checked; None for an empty one that the server accepts (in the
        handshake and in a post-handshake authentication alike)."""
        if not msg.certificate_list:
            if self.config.require_client_certificate:
                # RFC 9846 section 4.5.1.3
                raise TLSAlertError(AlertDescription.certificate_required, "client sent no certificate")
            return None
        chain = certificates.load_chain([e.cert_data for e in msg.certificate_list])
        if self.config.check_chain is not None:
            self.config.check_chain(chain)
        elif self.config.verify_peer:
            certificates.verify_client_chain(chain, self.config.trusted_roots, self.ctx.now())
        return chain

    def _on_certificate_verify(self, body: bytes, raw: bytes) -> None:
        cv = CertificateVerify.parse(body)
        key = certificates.leaf_public_key(self.peer_chain[0])
        content = signatures.certificate_verify_input(False, self.transcript.digest())
        signatures.verify(key, cv.algorithm, cv.signature, content, self.cr_schemes)
        self.peer_scheme = cv.algorithm
        self.transcript.update(raw)
        self._set_state(ServerState.WAIT_FINISHED)

    # -- WAIT_FINISHED ---------------------------------------------------------------------------------------------

    def _on_finished(self, body: bytes, raw: bytes) -> None:
        suite = self.suite
        assert suite is not None and self.schedule is not None
        fin = Finished.parse(body)
        if len(fin.verify_data) != suite.hash_len:
            raise decode_error("Finished length")
        expected = finished_verify_data(suite, self.client_hs_secret, self.transcript.digest())
        if not hmac.compare_digest(expected, fin.verify_data):
            raise TLSAlertError(AlertDescription.decrypt_error, "client Finished does not verify")
        self.peer_finished = True
        self.transcript.update(raw)
        self.resumption_secret = self.schedule.resumption_secret(self.transcript.digest())
        self._install("read", Epoch.application, self.client_app_secret)
        self.pha_base = self.transcript.copy()
        self._set_state(ServerState.CONNECTED)
        self.out.append(
            HandshakeComplete(
                cipher_suite=suite.code,
                group=self.group,
                signature_scheme=self.scheme,
                alpn_protocol=self.alpn,
                server_name=self.server_name,
                hello_retry_request=self.hrr_sent,
                peer_certificates=list(self.peer_chain),
                version=self.version,
                resumed=self.resumed is not None,
            )
        )
        for _ in range(self.config.session_tickets):
            self._send_ticket()

    # -- post-handshake authentication (RFC 9846 section 4.6.2) ---------------------------------------------------

    @property
    def established(self) -> bool:
        return self.state in _ESTABLISHED

    def request_post_handshake_auth(self) -> None:
        """Send a CertificateRequest with a fresh certificate_request_context; the client's answer is hashed after
        the handshake transcript and this request (section 4.5)."""
        if not self.client_pha or self.pha_base is None:
            raise RuntimeError("the client did not offer post_handshake_auth")
        if self.state is not ServerState.CONNECTED:
            raise RuntimeError("a certificate request is outstanding")
        self.pha_context = self.ctx.random(32)
        self.cr_schemes = self.config.signature_algorithms
        exts: list[Extension] = [(X.signature_algorithms, build_signature_schemes(self.cr_schemes))]
        exts += certificate_authorities(self.config.client_ca_names)
        main, self.transcript = self.transcript, self.pha_base.copy()
        try:
            self._send(CertificateRequest(self.pha_context, exts))
        finally:
            self.pha_transcript, self.transcript = self.transcript, main
        self._set_state(ServerState.PHA_WAIT_CERT)

    def _on_pha_certificate(self, body: bytes, raw: bytes) -> None:
        assert self.pha_transcript is not None
        msg = Certificate.parse(body)
        if msg.certificate_request_context != self.pha_context:
            raise illegal_parameter("Certificate context does not match CertificateRequest")
        self.pha_transcript.update(raw)
        self.pha_chain = []
        chain = self._client_chain(msg)
        if chain is None:
            self._set_state(ServerState.PHA_WAIT_FINISHED)
            return
        self.pha_chain = chain
        self._set_state(ServerState.PHA_WAIT_CV)

    def _on_pha_certificate_verify(self, body: bytes, raw: bytes) -> None:
        assert self.pha_transcript is not None
        cv = CertificateVerify.parse(body)
        key = certificates.leaf_public_key(self.pha_chain[0])
        content = signatures.certificate_verify_input(False, self.pha_transcript.digest())
        signatures.verify(key, cv.algorithm, cv.signature, content, self.cr_schemes)
        self.pha_transcript.update(raw)
        self._set_state(ServerState.PHA_WAIT_FINISHED)

    def _on_pha_finished(self, body: bytes, raw: bytes) -> None:
        suite = self.suite
        assert suite is not None and self.pha_transcript is not None
        fin = Finished.parse(body)
        if len(fin.verify_data) != suite.hash_len:
            raise decode_error("Finished length")
        expected = finished_verify_data(suite, self.client_app_secret, self.pha_transcript.digest())
        if not hmac.compare_digest(expected, fin.verify_data):
            raise TLSAlertError(AlertDescription.decrypt_error, "client Finished does not verify")
        self.pha_transcript = None
        if self.pha_chain:
            self.peer_chain = self.pha_chain
        self._set_state(ServerState.CONNECTED)
        self.out.append(PostHandshakeAuthDone(list(self.pha_chain)))
        # SSL_CTX_set_verify: NOTES a refreshed NewSessionTicket follows a post-handshake authentication
        self._send_ticket()

    def _accept_psk(self, ch: ClientHello, raw: bytes) -> int | None:
        """RFC 9846 section 4.3.11: pick the first offered ticket we sealed that is in its lifetime and made for the
        negotiated hash, and check its binder (and only its binder); None: a full handshake."""
        cfg = self.config
        ext = find_extension(ch.extensions, X.pre_shared_key)
        if ext is None:
            return None
        offered = OfferedPsks.parse(ext)
        modes_ext = find_extension(ch.extensions, X.psk_key_exchange_modes)
        if modes_ext is None:
            # RFC 9846 section 4.3.9: pre_shared_key without psk_key_exchange_modes
            raise TLSAlertError(AlertDescription.missing_extension, "pre_shared_key without psk_key_exchange_modes")
        if PSK_DHE_KE not in parse_psk_key_exchange_modes(modes_ext) or cfg.ticket_sealer is None:
            return None  # psk_ke only is not offered by this server: full handshake
        suite = self.suite
        assert suite is not None
        now = epoch_ms(self.ctx.now())
        for index, identity in enumerate(offered.identities):
            state = cfg.ticket_sealer.open(identity.identity)
            if state is None or state.expired(now) or state.cipher_suite not in CIPHER_SUITES:
                continue
            if CIPHER_SUITES[state.cipher_suite].hash_name != suite.hash_name:
                continue
            schedule = KeySchedule(suite, state.psk)
            truncated = binder_hash_input(raw, offered)
            transcript_hash = self.transcript.digest_with(truncated, suite.hash_algorithm())
            if not binder_matches(suite, schedule.binder_key(), transcript_hash, offered.binders[index]):
                raise TLSAlertError(AlertDescription.decrypt_error, "PSK binder does not verify")
            self.resumed = state
            return index
        return None

    def _send_ticket(self) -> None:
        # RFC 9846 section 4.7.1
        assert self.suite is not None
        issuer = self.config.ticket_issuer
        sealer = self.config.ticket_sealer
        self.tickets_sent += 1
        if issuer is not None:
            nst = issuer(self.suite, self.resumption_secret)
        elif sealer is not None:
            nonce = self.tickets_sent.to_bytes(8, "big")
            lifetime = min(self.config.ticket_lifetime, 604800)  # at most seven days (section 4.7.1)
            age_add = int.from_bytes(self.ctx.random(4), "big")
            state = TicketState13(
                self._ticket_psk(nonce), self.suite.code,
                epoch_ms(self.ctx.now()), age_add, lifetime, self.alpn, self.server_name,
            )  # fmt: skip
            nst = NewSessionTicket(lifetime, age_add, nonce, sealer.seal(state))
        else:
            nst = NewSessionTicket(
                7200, int.from_bytes(self.ctx.random(4), "big"), self.ctx.random(8), self.ctx.random(32)
            )
        # not part of the transcript (RFC 9846 section 4.4.1: post-handshake messages are not hashed)
        self.out.append(SendHandshake(build_handshake(nst)))


def _check_psk_extension_place(ch: ClientHello) -> None:
    # RFC 9846 section 4.3.11: pre_shared_key must be the last extension of the ClientHello
    types = [t for t, _ in ch.extensions]
    if X.pre_shared_key in types and types[-1] != X.pre_shared_key:
        raise illegal_parameter("pre_shared_key is not the last extension")


C = Server13Handshake
S = ServerState
# RFC 9846 appendix A: (state, handshake type) -> handler and landing states; anything else is unexpected_message.
TRANSITIONS: dict[tuple[Enum, int], Transition] = {
    (S.START, H.client_hello): transition(C._on_client_hello, S.START, S.WAIT_CERT, S.WAIT_FINISHED, S.HANDED_OFF),
    (S.WAIT_CERT, H.certificate): transition(C._on_certificate, S.WAIT_CV, S.WAIT_FINISHED),
    (S.WAIT_CV, H.certificate_verify): transition(C._on_certificate_verify, S.WAIT_FINISHED),
    (S.WAIT_FINISHED, H.finished): transition(C._on_finished, S.CONNECTED),
    (S.CONNECTED, H.key_update): transition(C._on_key_update, S.CONNECTED),
    (S.PHA_WAIT_CERT, H.certificate): transition(C._on_pha_certificate, S.PHA_WAIT_CV, S.PHA_WAIT_FINISHED),
    (S.PHA_WAIT_CV, H.certificate_verify): transition(C._on_pha_certificate_verify, S.PHA_WAIT_FINISHED),
    (S.PHA_WAIT_FINISHED, H.finished): transition(C._on_pha_finished, S.CONNECTED),
    (S.PHA_WAIT_CERT, H.key_update): transition(C._on_key_update, S.PHA_WAIT_CERT),
    (S.PHA_WAIT_CV, H.key_update): transition(C._on_key_update, S.PHA_WAIT_CV),
    (S.PHA_WAIT_FINISHED, H.key_update): transition(C._on_key_update, S.PHA_WAIT_FINISHED),
}
Server13Handshake.TRANSITIONS = TRANSITIONS
_ESTABLISHED = (S.CONNECTED, S.PHA_WAIT_CERT, S.PHA_WAIT_CV, S.PHA_WAIT_FINISHED)
del C, S
