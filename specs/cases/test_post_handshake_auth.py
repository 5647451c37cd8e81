"""Cases for TLS 1.3 post-handshake client authentication (SSL_CTX_set_verify.pod: SSL_CTX_set_post_handshake_auth,
SSL_set_post_handshake_auth, SSL_verify_client_post_handshake, SSL_VERIFY_POST_HANDSHAKE; RFC 9846 sections 4.2.6
and 4.6.2), through the C API on memory BIOs."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.certs import default_pki
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from specs.cases._ssl_objects import WANT, Mem, error, move
from specs.cases._verify import client_ctx, drive, new_pair, server_ctx

C_API = ("c_api", "client_role", "server_role", "tls1_3")
POST_HANDSHAKE_AUTH = 49  # RFC 9846 section 4.2: the extension's code point
CLIENT_SUBJECT = "client.test"


def _hello_extensions(wire: bytes) -> list[int]:
    """The extension types of the ClientHello that opens ``wire`` (one plaintext record, RFC 9846 section 4.1.2)."""
    assert wire[:1] == b"\x16" and wire[5:6] == b"\x01", f"not a ClientHello record: {wire[:8].hex()}"
    at = 5 + 4 + 2 + 32
    at += 1 + wire[at]  # legacy_session_id
    at += 2 + int.from_bytes(wire[at : at + 2], "big")  # cipher_suites
    at += 1 + wire[at]  # legacy_compression_methods
    end = at + 2 + int.from_bytes(wire[at : at + 2], "big")
    at += 2
    types = []
    while at + 4 <= end:
        types.append(int.from_bytes(wire[at : at + 2], "big"))
        at += 4 + int.from_bytes(wire[at + 2 : at + 4], "big")
    return types


class Subjects:
    """A server verify callback that accepts what the built-in check decided and records the leaf subjects."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.seen: list[str | None] = []

    def __call__(self, preverify_ok: int, store_ctx: Any) -> int:
        api = self.api
        if api.X509_STORE_CTX_get_error_depth(store_ctx) == 0:
            cert = api.X509_STORE_CTX_get_current_cert(store_ctx)
            self.seen.append(None if cert is None else api.X509_NAME_oneline(api.X509_get_subject_name(cert)))
        return preverify_ok


def _pair(h: Harness, mode: int, *, pha: bool, cert: bool = True, cert_cb: Any = None,
          tls13: bool = True) -> tuple[Mem, Mem, Subjects]:
    """A TLS 1.3 client (the test client certificate when ``cert``; post-handshake auth offered when ``pha``) and a
    server in ``mode`` whose verify callback records the client leaf it is shown."""
    api = h.capi
    pki = default_pki()
    cctx = client_ctx(h)
    if cert:
        assert api.SSL_CTX_use_certificate_file(cctx, str(pki.client.cert_path).encode(), K.SSL_FILETYPE_PEM) == 1
        assert api.SSL_CTX_use_PrivateKey_file(cctx, str(pki.client.key_path).encode(), K.SSL_FILETYPE_PEM) == 1
    if cert_cb is not None:
        api.SSL_CTX_set_client_cert_cb(cctx, cert_cb)
    if pha:
        api.SSL_CTX_set_post_handshake_auth(cctx, 1)
    sctx = server_ctx(h)
    subjects = Subjects(api)
    api.SSL_CTX_set_verify(sctx, mode, subjects)
    if not tls13:
        assert api.SSL_CTX_set_max_proto_version(sctx, K.TLS1_2_VERSION) == 1
    client, server = new_pair(h, cctx, sctx)
    failure = drive(h, client, server)
    assert failure is None, f"the handshake must complete: {failure}"
    api.SSL_read(client.ssl, 10)  # take the server's tickets in
    return client, server, subjects


def _reason(h: Harness) -> str:
    api = h.capi
    code = api.ERR_peek_error()
    return f"error {code:#x} (reason {api.ERR_GET_REASON(code)})" if code else "empty error queue"


def _request(h: Harness, client: Mem, server: Mem, *, ask: bool = True) -> tuple[int, SslError | int]:
    """SSL_verify_client_post_handshake, SSL_do_handshake to send the request, the client reading it (and
    answering), the server reading the answer: (the server's SSL_read return, its SSL_get_error)."""
    api = h.capi
    if ask:
        assert api.SSL_verify_client_post_handshake(server.ssl) == 1, f"the request must be accepted: {_reason(h)}"
    assert api.SSL_do_handshake(server.ssl) == 1
    move(server, client)
    ret, _ = api.SSL_read(client.ssl, 10)
    assert ret <= 0 and error(api, client.ssl, ret) in WANT, f"the client only answers the request: {ret}"
    move(client, server)
    api.ERR_clear_error()
    ret, _ = api.SSL_read(server.ssl, 10)
    return ret, error(api, server.ssl, ret) if ret <= 0 else SslError.SSL_ERROR_NONE


# --- the client's extension -----------------------------------------------------------------------------------

def _first_flight(h: Harness, cctx: Any, setup: Any = None) -> list[int]:
    api = h.capi
    client = Mem(h, Role.CLIENT, ctx=cctx)
    if setup is not None:
        setup(client.ssl)
    ret = api.SSL_do_handshake(client.ssl)
    assert ret <= 0 and error(api, client.ssl, ret) in WANT
    return _hello_extensions(client.take())


@pytest.mark.clauses("SSL_CTX_set_verify/DESCRIPTION/pha-extension")
@pytest.mark.needs("c_api", "client_role", "tls1_3")
@pytest.mark.parametrize("how", ["SSL_CTX_set_post_handshake_auth", "SSL_set_post_handshake_auth",
                                 "set-then-cleared"])
def test_post_handshake_auth_extension_only_when_enabled(h: Harness, how: str) -> None:
    """A client left at the default sends no post_handshake_auth extension; one whose context or SSL enabled it
    (val != 0) sends it, and one that set 1 then 0 does not."""
    api = h.capi
    default = _first_flight(h, client_ctx(h))
    cctx = client_ctx(h)
    if how == "SSL_CTX_set_post_handshake_auth":
        api.SSL_CTX_set_post_handshake_auth(cctx, 1)

    def setup(ssl: Any) -> None:
        if how != "SSL_CTX_set_post_handshake_auth":
            api.SSL_set_post_handshake_auth(ssl, 1)
        if how == "set-then-cleared":
            api.SSL_set_post_handshake_auth(ssl, 0)

    types = _first_flight(h, cctx, setup)
    h.trace.note(f"default: ClientHello extension types {default}; {how}: {types}")
    assert POST_HANDSHAKE_AUTH not in default, "by default the extension must not be sent"
    expected = how != "set-then-cleared"
    assert (POST_HANDSHAKE_AUTH in types) is expected, f"{how}: post_handshake_auth present must be {expected}"


# --- the request and its answer -------------------------------------------------------------------------------

@pytest.mark.clauses(
    "SSL_CTX_set_verify/RETURN VALUES/pha-1",
    "SSL_CTX_set_verify/DESCRIPTION/pha-request",
    "SSL_CTX_set_verify/NOTES/post-handshake-flag",
    "SSL_CTX_set_verify/NOTES/pha-verify-callback",
    "SSL_CTX_set_verify/NOTES/pha-sent-by-write",
    "SSL_CTX_set_verify/NOTES/pha-new-ticket",
)
@pytest.mark.needs(*C_API, "client_certificates")
def test_post_handshake_request_is_answered_with_the_certificate(h: Harness) -> None:
    """A server in SSL_VERIFY_PEER | SSL_VERIFY_POST_HANDSHAKE mode asks for no certificate in the handshake (its
    verify callback sees none); SSL_verify_client_post_handshake returns 1 and sends nothing by itself;
    SSL_do_handshake sends the request; the client answers with its certificate, which the server's verify callback
    is shown, with X509_V_OK; the server then sends a new ticket; data still flows both ways."""
    api = h.capi
    client, server, subjects = _pair(h, K.SSL_VERIFY_PEER | K.SSL_VERIFY_POST_HANDSHAKE, pha=True)
    assert not subjects.seen, f"a certificate was asked for in the handshake: {subjects.seen}"
    assert api.SSL_verify_client_post_handshake(server.ssl) == 1, f"the request must succeed: {_reason(h)}"
    assert server.outgoing() == 0, "SSL_verify_client_post_handshake must only queue the CertificateRequest"
    ret, code = _request(h, client, server, ask=False)
    h.trace.note(f"server read after the answer: {ret} {code}; callback saw {subjects.seen}")
    assert ret <= 0 and code in WANT, f"the server must take the answer and wait for data: {ret} {code}"
    assert any(s is not None and CLIENT_SUBJECT in s for s in subjects.seen), \
        f"the server's verify callback was not shown the client certificate: {subjects.seen}"
    assert api.SSL_get_verify_result(server.ssl) == K.X509_V_OK
    ticket = server.outgoing()
    h.trace.note(f"server output after the authentication: {ticket} bytes")
    assert ticket > 0, "the server must send a refreshed NewSessionTicket after the authentication"
    move(server, client)
    assert api.SSL_write(client.ssl, b"ping") == 4
    move(client, server)
    assert api.SSL_read(server.ssl, 10) == (4, b"ping")
    assert api.SSL_write(server.ssl, b"pong") == 4
    move(server, client)
    assert api.SSL_read(client.ssl, 10) == (4, b"pong")


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/pha-sent-by-write")
@pytest.mark.needs(*C_API, "client_certificates")
def test_post_handshake_request_goes_out_with_a_write(h: Harness) -> None:
    """SSL_write_ex (here SSL_write) after SSL_verify_client_post_handshake sends the CertificateRequest with the
    data: the client reads the data and answers; the server's verify callback sees the certificate."""
    api = h.capi
    client, server, subjects = _pair(h, K.SSL_VERIFY_PEER | K.SSL_VERIFY_POST_HANDSHAKE, pha=True)
    assert api.SSL_verify_client_post_handshake(server.ssl) == 1, _reason(h)
    assert server.outgoing() == 0
    assert api.SSL_write(server.ssl, b"data") == 4
    move(server, client)
    assert api.SSL_read(client.ssl, 10) == (4, b"data")
    api.SSL_read(client.ssl, 10)  # nothing more to read; the answer is already written
    move(client, server)
    ret, _ = api.SSL_read(server.ssl, 10)
    h.trace.note(f"server read after the answer: {ret}; callback saw {subjects.seen}")
    assert any(s is not None and CLIENT_SUBJECT in s for s in subjects.seen), \
        f"the request sent with the write was not answered with the certificate: {subjects.seen}"


@pytest.mark.clauses("SSL_CTX_set_verify/RETURN VALUES/pha-0", "SSL_CTX_set_verify/NOTES/pha-one-outstanding")
@pytest.mark.needs(*C_API, "client_certificates", "error_codes")
def test_only_one_request_outstanding(h: Harness) -> None:
    """A second SSL_verify_client_post_handshake before the first request was sent, and another after it was sent
    but before the answer, return 0 with an error on the queue; once the answer is in, a new request succeeds."""
    api = h.capi
    client, server, _ = _pair(h, K.SSL_VERIFY_PEER | K.SSL_VERIFY_POST_HANDSHAKE, pha=True)
    assert api.SSL_verify_client_post_handshake(server.ssl) == 1, _reason(h)
    api.ERR_clear_error()
    pending = api.SSL_verify_client_post_handshake(server.ssl)
    pending_error = _reason(h)
    assert api.SSL_do_handshake(server.ssl) == 1
    api.ERR_clear_error()
    sent = api.SSL_verify_client_post_handshake(server.ssl)
    sent_error = _reason(h)
    h.trace.note(f"second request while pending: {pending} ({pending_error}); while sent: {sent} ({sent_error})")
    assert pending == 0 and pending_error != "empty error queue", \
        f"a second request before the first was sent must fail with an error: {pending} ({pending_error})"
    assert sent == 0 and sent_error != "empty error queue", \
        f"a request while one is unanswered must fail with an error: {sent} ({sent_error})"
    move(server, client)
    api.SSL_read(client.ssl, 10)
    move(client, server)
    api.SSL_read(server.ssl, 10)
    api.ERR_clear_error()
    again = api.SSL_verify_client_post_handshake(server.ssl)
    assert again == 1, f"after the answer a new request must be accepted: {again} ({_reason(h)})"


@pytest.mark.clauses("SSL_CTX_set_verify/RETURN VALUES/pha-0", "SSL_CTX_set_verify/NOTES/pha-needs-extension")
@pytest.mark.needs(*C_API, "error_codes")
@pytest.mark.parametrize("why", ["no-extension", "on-the-client", "tls1.2", "before-handshake", "no-verify-peer"])
def test_request_refused(h: Harness, why: str) -> None:
    """SSL_verify_client_post_handshake returns 0 with an error on the queue when the client did not send the
    extension, on a client, on a TLS 1.2 connection, before the handshake, and on a server without SSL_VERIFY_PEER
    (DESCRIPTION: the flag must be set; this run was added by the mutation sweep, docs/mutation-sweep.md)."""
    api = h.capi
    mode = K.SSL_VERIFY_PEER | K.SSL_VERIFY_POST_HANDSHAKE
    if why == "no-verify-peer":
        client, server, _ = _pair(h, K.SSL_VERIFY_NONE, pha=True)
        target = server
    elif why == "before-handshake":
        sctx = server_ctx(h)
        api.SSL_CTX_set_verify(sctx, mode, None)
        _, server = new_pair(h, client_ctx(h), sctx)
        target = server
    else:
        client, server, _ = _pair(h, mode, pha=why != "no-extension", tls13=why != "tls1.2")
        target = client if why == "on-the-client" else server
    api.ERR_clear_error()
    ret = api.SSL_verify_client_post_handshake(target.ssl)
    reason = _reason(h)
    h.trace.note(f"{why}: SSL_verify_client_post_handshake {ret}, {reason}")
    assert ret == 0, f"{why}: the request must fail"
    assert api.ERR_peek_error() != 0, f"{why}: the failure must leave an error on the queue"
    assert target.outgoing() == 0, f"{why}: a refused request sent something"


# --- the client's side ----------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/pha-client-needs-certificate")
@pytest.mark.needs(*C_API)
def test_client_certificate_callback_runs_for_the_request(h: Harness) -> None:
    """A client with no certificate configured and a client-certificate callback: the callback does not run in the
    handshake (nothing was requested) but runs for the post-handshake request; answering 0 sends no certificate,
    and a server in SSL_VERIFY_PEER | SSL_VERIFY_POST_HANDSHAKE mode goes on without one. (A certificate returned
    by the callback: test_client_cert_pair.py.)"""
    calls: list[object] = []

    def cert_cb(ssl: Any) -> int:
        calls.append(ssl)
        return 0

    client, server, subjects = _pair(h, K.SSL_VERIFY_PEER | K.SSL_VERIFY_POST_HANDSHAKE, pha=True, cert=False,
                                     cert_cb=cert_cb)
    assert not calls, "the callback ran although no certificate was requested in the handshake"
    ret, code = _request(h, client, server)
    h.trace.note(f"callback calls {len(calls)}; server read {ret} {code}; callback saw {subjects.seen}")
    assert len(calls) == 1, f"the client-certificate callback must run once for the request, not {len(calls)} times"
    assert ret <= 0 and code in WANT, f"an empty answer to a server not insisting goes on: {ret} {code}"


@pytest.mark.clauses("SSL_CTX_set_verify/NOTES/pha-verify-callback", "SSL_CTX_set_verify/NOTES/fail-if-no-peer-cert")
@pytest.mark.needs(*C_API)
@pytest.mark.parametrize("insist", [True, False], ids=["FAIL_IF_NO_PEER_CERT", "PEER-only"])
def test_client_without_certificate(h: Harness, insist: bool) -> None:
    """A client that offered post-handshake auth but has no certificate answers with an empty Certificate: a server
    with SSL_VERIFY_FAIL_IF_NO_PEER_CERT fails the connection (RFC 9846 section 4.5.1.3: certificate_required);
    with SSL_VERIFY_PEER alone the connection goes on and no certificate was shown to the verify callback."""
    api = h.capi
    mode = K.SSL_VERIFY_PEER | K.SSL_VERIFY_POST_HANDSHAKE | (K.SSL_VERIFY_FAIL_IF_NO_PEER_CERT if insist else 0)
    client, server, subjects = _pair(h, mode, pha=True, cert=False)
    ret, code = _request(h, client, server)
    h.trace.note(f"insist={insist}: server read {ret} {code} ({_reason(h)}); callback saw {subjects.seen}")
    assert not subjects.seen, f"no certificate was sent, yet the verify callback saw {subjects.seen}"
    if insist:
        assert ret <= 0 and code is SslError.SSL_ERROR_SSL, f"an empty answer must fail the server: {ret} {code}"
    else:
        assert ret <= 0 and code in WANT, f"without FAIL_IF_NO_PEER_CERT the connection goes on: {ret} {code}"
        assert api.SSL_write(server.ssl, b"on") == 2
        move(server, client)
        assert api.SSL_read(client.ssl, 10) == (2, b"on")


@pytest.mark.clauses("SSL_get_peer_certificate/RETURN VALUES/peer-leaf")
@pytest.mark.needs(*C_API, "client_certificates")
def test_peer_certificate_after_post_handshake_auth(h: Harness) -> None:
    """The server asked for no certificate in the handshake (SSL_VERIFY_POST_HANDSHAKE), so it has no peer
    certificate; after the client answered its post-handshake request with its certificate, SSL_get1_peer_certificate
    on the server returns it. Added by the mutation sweep (docs/mutation-sweep.md): an engine that kept the
    handshake's (empty) peer certificate after the authentication passed every other case."""
    api = h.capi
    client, server, _ = _pair(h, K.SSL_VERIFY_PEER | K.SSL_VERIFY_POST_HANDSHAKE, pha=True)
    before = api.SSL_get1_peer_certificate(server.ssl)
    if before is not None:
        api.X509_free(before)
    assert before is None, "the server has a peer certificate although it asked for none in the handshake"
    ret, code = _request(h, client, server)
    assert ret <= 0 and code in WANT, f"the server must take the answer and wait for data: {ret} {code}"
    cert = api.SSL_get1_peer_certificate(server.ssl)
    assert cert is not None, "SSL_get1_peer_certificate is NULL after the client authenticated after the handshake"
    try:
        name = api.X509_NAME_oneline(api.X509_get_subject_name(cert))
    finally:
        api.X509_free(cert)
    assert name is not None and CLIENT_SUBJECT in name, f"the server's peer certificate is {name!r}"
