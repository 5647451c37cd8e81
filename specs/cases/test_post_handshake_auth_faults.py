"""Negative cases of TLS 1.3 post-handshake client authentication (RFC 9846 section 4.7.2), with the engine's TLS core
as the misbehaving peer (engine.tls.misbehave): one wrong thing in an otherwise correct exchange, against the stack's
SSL object on memory BIOs. Added by the mutation sweep (docs/mutation-sweep.md): an engine server that skipped any
of these checks, or a client that answered an unsolicited request, passed every other case.

The stack as server (SSL_VERIFY_PEER | SSL_VERIFY_POST_HANDSHAKE, SSL_verify_client_post_handshake) meets a client
whose answer names another certificate_request_context, signs the wrong bytes, or ends with a wrong Finished; the
stack as client meets a post-handshake CertificateRequest it never offered post_handshake_auth for, or one without
signature_algorithms. The peer holds the keys, so it reads the alert the stack sent."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from engine.tls.alerts import AlertDescription, TLSAlertError
from engine.tls.config import TLSContext
from engine.tls.connection import TLSConnection
from engine.tls.misbehave import (
    Misbehaviour,
    PostHandshakeAuthFault,
    UnsolicitedCertificateRequest,
    WrongCertificateVerify,
)
from specs.cases._bio import needs
from specs.cases._misbehaving import _config
from specs.cases._ssl_objects import WANT, Mem, error
from specs.cases._verify import client_ctx, server_ctx

TLS13 = 0x0304
A = AlertDescription


class Peer:
    """The engine's core with one fault, joined to the stack's SSL object ``mem`` by the case."""

    def __init__(self, h: Harness, role: Role, fault: Misbehaviour, mem: Mem, *, pha: bool) -> None:
        tls = {"supported_versions": (TLS13,), "post_handshake_auth": pha}
        config = _config(role, client_certificate=role is Role.CLIENT, tls=tls)
        self.h = h
        self.mem = mem
        self.core = TLSConnection(config, role.value, TLSContext(), misbehaviour=fault)
        self.alert: int | None = None  # the alert the stack sent us

    def pump(self, step: str = "handshake") -> int:
        """Move bytes both ways, calling SSL_do_handshake (or SSL_read) on the stack, until nothing moves; the
        stack's last return value."""
        api = self.h.capi
        ret = 0
        for _ in range(30):
            data = self.core.data_to_send()
            self.mem.give(data)
            api.ERR_clear_error()
            ret = api.SSL_do_handshake(self.mem.ssl) if step == "handshake" else api.SSL_read(self.mem.ssl, 100)[0]
            out = self.mem.take()
            if out:
                try:
                    self.core.receive_bytes(out)
                    self.core.events()
                except TLSAlertError as exc:
                    if not exc.sent_by_us:
                        self.alert = exc.alert
                    self.h.trace.note(f"engine core: {'sent' if exc.sent_by_us else 'received'} alert {exc.alert}")
                    return ret
            if not data and not out:
                break
        return ret


def _server_pair(h: Harness, fault: Misbehaviour) -> Peer:
    api = h.capi
    needs(h, "SSL_verify_client_post_handshake")  # a library without it: not applicable, before anything
    sctx = server_ctx(h)
    api.SSL_CTX_set_verify(sctx, K.SSL_VERIFY_PEER | K.SSL_VERIFY_POST_HANDSHAKE, None)
    server = Mem(h, Role.SERVER, ctx=sctx)
    peer = Peer(h, Role.CLIENT, fault, server, pha=True)
    peer.core.start_handshake()
    assert peer.pump() == 1 and peer.core.handshake_complete, "the handshake did not complete"
    return peer


@pytest.mark.clauses("RFC9846/4.7.2/pha-answer-checked")
@pytest.mark.needs("c_api", "server_role", "tls1_3")
@pytest.mark.parametrize("fault", ["context", "certificate-verify", "finished"])
def test_server_refuses_a_wrong_answer(h: Harness, fault: str) -> None:
    """The client's answer to the server's post-handshake CertificateRequest names another
    certificate_request_context (section 4.5.1), carries a CertificateVerify over the wrong bytes (section 4.5.2) or
    a Finished that does not verify (section 4.5.3): the server's SSL_read fails with SSL_ERROR_SSL and it sends a
    fatal alert (decrypt_error for the two last, RFC 9846 sections 4.5.2 and 4.5.3)."""
    api = h.capi
    misbehaviour: Misbehaviour = WrongCertificateVerify() if fault == "certificate-verify" \
        else PostHandshakeAuthFault(fault)  # fmt: skip
    peer = _server_pair(h, misbehaviour)
    server = peer.mem
    assert api.SSL_verify_client_post_handshake(server.ssl) == 1, "SSL_verify_client_post_handshake refused"
    assert api.SSL_do_handshake(server.ssl) == 1
    ret = peer.pump("read")
    assert misbehaviour.done, "the fault was never sent (no answer to the request?)"
    code = error(api, server.ssl, ret) if ret <= 0 else SslError.SSL_ERROR_NONE
    h.trace.note(f"server SSL_read -> {ret} {code}; alert {peer.alert}")
    assert ret <= 0 and code is SslError.SSL_ERROR_SSL, \
        f"the server took a post-handshake answer with a wrong {fault}: SSL_read -> {ret} {code}"
    assert peer.alert is not None, "no fatal alert from the server"
    if fault in ("certificate-verify", "finished"):
        assert peer.alert == A.decrypt_error, f"alert {peer.alert} instead of decrypt_error (51)"


def _client_pair(h: Harness, fault: Misbehaviour, *, pha: bool) -> Peer:
    api = h.capi
    cctx = client_ctx(h)
    if pha:
        api.SSL_CTX_set_post_handshake_auth(cctx, 1)
    client = Mem(h, Role.CLIENT, ctx=cctx)
    peer = Peer(h, Role.SERVER, fault, client, pha=False)
    assert peer.pump() == 1 and peer.core.handshake_complete, "the handshake did not complete"
    return peer


@pytest.mark.clauses("RFC9846/4.7.2/unsolicited-request", "RFC9846/4.4.2/pha-request-needs-signature-algorithms")
@pytest.mark.needs("c_api", "client_role", "tls1_3")
@pytest.mark.parametrize("fault", ["unsolicited", "no-signature-algorithms"])
def test_client_refuses_a_wrong_request(h: Harness, fault: str) -> None:
    """A post-handshake CertificateRequest to a client that sent no post_handshake_auth extension: unexpected_message
    (section 4.7.2); one without signature_algorithms, to a client that offered post-handshake authentication:
    missing_extension (section 4.4.2, the extension is mandatory; section 6.2). The client's SSL_read fails with
    SSL_ERROR_SSL."""
    api = h.capi
    misbehaviour: Misbehaviour = UnsolicitedCertificateRequest() if fault == "unsolicited" \
        else PostHandshakeAuthFault("no-signature-algorithms")  # fmt: skip
    peer = _client_pair(h, misbehaviour, pha=fault != "unsolicited")
    client = peer.mem
    peer.core.request_post_handshake_auth()
    ret = peer.pump("read")
    code = error(api, client.ssl, ret) if ret <= 0 else SslError.SSL_ERROR_NONE
    h.trace.note(f"client SSL_read -> {ret} {code}; alert {peer.alert}")
    assert ret <= 0 and code not in WANT, f"the client took the request: SSL_read -> {ret} {code}"
    assert code is SslError.SSL_ERROR_SSL, f"SSL_get_error {code}, not SSL_ERROR_SSL"
    want = A.unexpected_message if fault == "unsolicited" else A.missing_extension
    assert peer.alert == want, f"alert {peer.alert} instead of {want.name} ({int(want)})"
