"""Cases for the certificate and key a client-certificate callback hands back (SSL_CTX_set_client_cert_cb.pod
DESCRIPTION, NOTES, BUGS), the server's list of acceptable CAs, and the peer's certificate (OpenSSL 3.0's
SSL_get_peer_certificate page).

All run at the C-API tier on BIO pairs. The callback follows the convention of ``conformance/capi``: it returns
``(ret, x509, pkey)``, handing one reference of each handle to the library (which releases them), so a case never
frees what its callback returned. Which side holds which certificate is checked by name: the test client
certificate is ``client.test``, the server's ``server.test``."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509

from conformance.capi import constants as K
from conformance.certs import SERVER_NAME, default_pki
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from specs.cases._ssl_objects import WANT, Mem, error, move
from specs.cases._verify import Failure, client_ctx, drive, new_pair, server_ctx

CLIENT_NAME = "client.test"
REQUIRE = K.SSL_VERIFY_PEER | K.SSL_VERIFY_FAIL_IF_NO_PEER_CERT
BAD_DATA = K.SSL_R_BAD_DATA_RETURNED_BY_CALLBACK
VERSIONS = {"TLSv1.2": K.TLS1_2_VERSION, "TLSv1.3": K.TLS1_3_VERSION}


def _read(h: Harness, reader: str, pem: bytes) -> Any:
    """``PEM_read_bio_X509`` / ``PEM_read_bio_PrivateKey`` over a memory BIO holding ``pem``."""
    api = h.capi
    bio = api.BIO_new_mem_buf(pem)
    assert bio is not None, "BIO_new_mem_buf failed"
    try:
        obj = getattr(api, reader)(bio)
    finally:
        api.BIO_free(bio)
    assert obj is not None, f"{reader} read nothing from a PEM file"
    return obj


def _client_pair(h: Harness) -> tuple[Any, Any]:
    """The test client certificate and its key as new X509 / EVP_PKEY references."""
    pki = default_pki()
    return _read(h, "PEM_read_bio_X509", pki.client.cert_pem), _read(h, "PEM_read_bio_PrivateKey", pki.client.key_pem)


def _peer_name(h: Harness, ssl: Any, getter: str = "SSL_get1_peer_certificate") -> str | None:
    """The subject of the certificate ``getter`` returns (its reference released), None for NULL."""
    api = h.capi
    cert = getattr(api, getter)(ssl)
    if cert is None:
        return None
    try:
        return api.X509_NAME_oneline(api.X509_get_subject_name(cert))
    finally:
        api.X509_free(cert)


class PairCallback:
    """A client-certificate callback answering from ``answers`` in turn (the last one repeats): an int is returned
    as is; ``"pair"`` returns 1 with a fresh reference of the test client certificate and key."""

    def __init__(self, h: Harness, *answers: int | str) -> None:
        self.h = h
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, ssl: Any) -> int | tuple[int, Any, Any]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if answer == "pair":
            cert, key = _client_pair(self.h)
            return 1, cert, key
        assert isinstance(answer, int)
        return answer


def _pair(h: Harness, version: str, mode: int, *, callback: PairCallback | None = None,
          client_cert: bool = False) -> tuple[Mem, Mem]:
    api = h.capi
    pki = default_pki()
    cctx = client_ctx(h)
    if client_cert:
        assert api.SSL_CTX_use_certificate_file(cctx, str(pki.client.cert_path).encode(), K.SSL_FILETYPE_PEM) == 1
        assert api.SSL_CTX_use_PrivateKey_file(cctx, str(pki.client.key_path).encode(), K.SSL_FILETYPE_PEM) == 1
    if callback is not None:
        api.SSL_CTX_set_client_cert_cb(cctx, callback)
    sctx = server_ctx(h)
    api.SSL_CTX_set_verify(sctx, mode, None)
    assert api.SSL_CTX_set_max_proto_version(sctx, VERSIONS[version]) == 1
    return new_pair(h, cctx, sctx)


def _drive(h: Harness, client: Mem, server: Mem, rounds: int = 100, *,
           reasons: list[int] | None = None) -> tuple[Failure | None, int]:
    """Like ``drive``, but a client that stops with SSL_ERROR_WANT_X509_LOOKUP is called again: (the failure or
    None, how many times the client stopped so). With ``reasons``, the reason of every error-queue entry a client
    call leaves is noted there, and a client SSL_ERROR_SSL whose entry has SSL_R_BAD_DATA_RETURNED_BY_CALLBACK is
    not the end (the handshake goes on)."""
    api = h.capi
    lookups = 0
    done = {Role.CLIENT: False, Role.SERVER: False}
    for _ in range(rounds):
        for side in (client, server):
            if done[side.role]:
                continue
            api.ERR_clear_error()
            ret = api.SSL_do_handshake(side.ssl)
            queued = api.ERR_peek_error() if side is client and reasons is not None else 0
            if queued:
                reasons.append(api.ERR_GET_REASON(queued))  # type: ignore[union-attr]
            if ret == 1:
                done[side.role] = True
                continue
            code = error(api, side.ssl, ret)
            if side is client and code is SslError.SSL_ERROR_WANT_X509_LOOKUP:
                lookups += 1
            elif queued and code is SslError.SSL_ERROR_SSL and reasons and reasons[-1] == BAD_DATA:
                continue
            elif code not in WANT:
                return Failure(side.role, ret, code), lookups
        if not move(client, server) and all(done.values()):
            return None, lookups
    raise AssertionError(f"the handshake neither completed nor failed in {rounds} rounds: {done}")


# ---- SSL_CTX_set_client_cert_cb: the pair the callback returns -------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_client_cert_cb/DESCRIPTION/one-with-pair-sends-it")
@pytest.mark.needs("c_api", "client_role", "server_role", "client_certificates")
@pytest.mark.parametrize("version", list(VERSIONS))
def test_callback_pair_is_installed_and_sent(h: Harness, version: str) -> None:
    """A client without a certificate whose callback returns 1 with the test client certificate and key: a server
    that insists on a certificate completes the handshake and names client.test as its peer; the pair is now the
    client SSL's own certificate (SSL_get_certificate)."""
    api = h.capi
    cb = PairCallback(h, "pair")
    client, server = _pair(h, version, REQUIRE, callback=cb)
    failure, _ = _drive(h, client, server)
    peer = _peer_name(h, server.ssl)
    h.trace.note(f"{version}: {failure or 'complete'}; callback calls {cb.calls}; server's peer {peer}")
    assert cb.calls == 1, f"the server asked once, yet the callback ran {cb.calls} times"
    assert failure is None, f"the certificate the callback returned was not accepted: {failure}"
    assert peer is not None and CLIENT_NAME in peer, f"the server's peer certificate is {peer}, not {CLIENT_NAME}"
    assert api.SSL_get_certificate(client.ssl) is not None, "the pair was not installed on the client SSL"


@pytest.mark.clauses("SSL_CTX_set_client_cert_cb/DESCRIPTION/one-with-pair-sends-it",
                     "SSL_CTX_set_client_cert_cb/DESCRIPTION/negative-suspends")
@pytest.mark.needs("c_api", "client_role", "server_role", "client_certificates")
def test_callback_pair_after_a_suspension(h: Harness) -> None:
    """The callback first returns -1 (the handshake stops with SSL_ERROR_WANT_X509_LOOKUP), then, called again by
    the next handshake call, returns 1 with the pair: that certificate is the one the server receives."""
    cb = PairCallback(h, -1, "pair")
    client, server = _pair(h, "TLSv1.3", REQUIRE, callback=cb)
    failure, lookups = _drive(h, client, server)
    peer = _peer_name(h, server.ssl)
    h.trace.note(f"{failure or 'complete'}; WANT_X509_LOOKUP stops {lookups}; callback calls {cb.calls}; peer {peer}")
    assert lookups == 1, f"the -1 answer must stop the handshake once with WANT_X509_LOOKUP, not {lookups} times"
    assert cb.calls == 2, f"the callback must run again after the stop: {cb.calls} calls"
    assert failure is None, f"the pair given on the second call was not accepted: {failure}"
    assert peer is not None and CLIENT_NAME in peer, f"the server's peer certificate is {peer}"


@pytest.mark.clauses("SSL_CTX_set_client_cert_cb/DESCRIPTION/one-without-pair-sends-none")
@pytest.mark.needs("c_api", "client_role", "server_role")
@pytest.mark.parametrize("version", list(VERSIONS))
def test_callback_one_without_pair_sends_nothing(h: Harness, version: str) -> None:
    """A callback that returns 1 but fills neither out parameter: no certificate is sent, so a server that asks
    without insisting completes the handshake with no peer certificate; the client call that ran the callback
    leaves SSL_R_BAD_DATA_RETURNED_BY_CALLBACK on the error queue (the handshake goes on: called again, it
    completes)."""
    cb = PairCallback(h, 1)
    client, server = _pair(h, version, K.SSL_VERIFY_PEER, callback=cb)
    reasons: list[int] = []
    failure, _ = _drive(h, client, server, reasons=reasons)
    peer = _peer_name(h, server.ssl)
    h.trace.note(f"{version}: {failure or 'complete'}; callback calls {cb.calls}; server's peer {peer}; "
                 f"client error reasons {reasons}")
    assert cb.calls == 1, f"the callback ran {cb.calls} times"
    assert failure is None, f"a server that does not insist must complete: {failure}"
    assert peer is None, f"no certificate was returned by the callback, yet the server's peer is {peer}"
    assert BAD_DATA in reasons, f"no SSL_R_BAD_DATA_RETURNED_BY_CALLBACK entry on the client's queue: {reasons}"


@pytest.mark.clauses("SSL_CTX_set_client_cert_cb/NOTES/pair-stays-after-clear")
@pytest.mark.needs("c_api", "client_role", "server_role", "client_certificates")
@pytest.mark.states("after-clear")
@pytest.mark.parametrize("version", list(VERSIONS))
def test_callback_pair_survives_clear(h: Harness, version: str) -> None:
    """After a connection whose certificate came from the callback, a clean two-way close and SSL_clear(): the next
    connection of the same client SSL (to a new server that insists on a certificate) sends the same certificate
    without running the callback again."""
    api = h.capi
    cb = PairCallback(h, "pair", 0)
    client, server = _pair(h, version, REQUIRE, callback=cb)
    failure, _ = _drive(h, client, server)
    assert failure is None and cb.calls == 1, f"first connection: {failure}, callback calls {cb.calls}"
    assert api.SSL_shutdown(client.ssl) == 0, "the client's close_notify"
    move(client, server)
    ret, _ = api.SSL_read(server.ssl, 10)
    assert error(api, server.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN, f"the server's read of close_notify: {ret}"
    assert api.SSL_shutdown(server.ssl) == 1
    move(client, server)
    ret, _ = api.SSL_read(client.ssl, 10)
    assert error(api, client.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN, f"the client's read of the answer: {ret}"
    assert api.SSL_clear(client.ssl) == 1, "SSL_clear after a clean two-way close"
    sctx = server_ctx(h)
    api.SSL_CTX_set_verify(sctx, REQUIRE, None)
    assert api.SSL_CTX_set_max_proto_version(sctx, VERSIONS[version]) == 1
    fresh = Mem(h, Role.SERVER, ctx=sctx)
    failure, _ = _drive(h, client, fresh)
    peer = _peer_name(h, fresh.ssl)
    h.trace.note(f"after SSL_clear: {failure or 'complete'}; callback calls {cb.calls}; new server's peer {peer}")
    assert cb.calls == 1, f"the callback ran again after SSL_clear ({cb.calls} calls): the pair was not kept"
    assert failure is None, f"the second connection failed: {failure}"
    assert peer is not None and CLIENT_NAME in peer, f"the new server's peer certificate is {peer}"


# ---- the server's list of acceptable CAs -------------------------------------------------------------------------

def _list_unrelated_ca(h: Harness, sctx: Any) -> bytes:
    """Make the unrelated test CA the one acceptable CA of ``sctx`` (SSL_CTX_add_client_CA); its DER subject."""
    api = h.capi
    path = default_pki().other_ca_path
    other = _read(h, "PEM_read_bio_X509", path.read_bytes())
    try:
        assert api.SSL_CTX_add_client_CA(sctx, other) == 1, "SSL_CTX_add_client_CA refused a CA certificate"
    finally:
        api.X509_free(other)
    return x509.load_pem_x509_certificate(path.read_bytes()).subject.public_bytes()


def _first_flights(h: Harness, client: Mem, server: Mem) -> bytes:
    """The client's first handshake call, the server's answer to it: the bytes of the server's first flight (handed
    on to the client)."""
    api = h.capi
    ret = api.SSL_do_handshake(client.ssl)
    assert error(api, client.ssl, ret) in WANT, f"the client's first SSL_do_handshake -> {ret}"
    server.give(client.take())
    ret = api.SSL_do_handshake(server.ssl)
    assert error(api, server.ssl, ret) in WANT, f"the server's first SSL_do_handshake -> {ret}"
    flight = server.take()
    client.give(flight)
    return flight


@pytest.mark.clauses("SSL_CTX_set_client_cert_cb/NOTES/set-certificate-ignores-ca-list")
@pytest.mark.needs("c_api", "client_role", "server_role", "client_certificates")
@pytest.mark.parametrize("version", list(VERSIONS))
def test_set_certificate_is_sent_whatever_the_ca_list(h: Harness, version: str) -> None:
    """A server that insists on a certificate, trusts the test CA, but lists only an unrelated CA as acceptable
    (SSL_CTX_add_client_CA); a client whose certificate (issued by the test CA) was set with
    SSL_CTX_use_certificate_file: the client sends it anyway and the handshake completes. In TLS 1.2 the
    CertificateRequest travels in the clear, and the case checks that it carries the unrelated CA's name."""
    api = h.capi
    client, server = _pair(h, version, REQUIRE, client_cert=True)
    name = _list_unrelated_ca(h, api.SSL_get_SSL_CTX(server.ssl))
    flight = _first_flights(h, client, server)
    failure = drive(h, client, server)
    peer = _peer_name(h, server.ssl)
    listed = name in flight
    h.trace.note(f"{version}: {failure or 'complete'}; server's peer {peer}; CA name in the clear flight: {listed}")
    if version == "TLSv1.2":
        assert listed, "the server's TLS 1.2 CertificateRequest does not carry the acceptable CA's name"
    assert failure is None, f"the client certificate outside the server's CA list was not sent or not taken: {failure}"
    assert peer is not None and CLIENT_NAME in peer, f"the server's peer certificate is {peer}"


@pytest.mark.clauses("SSL_CTX_set0_CA_list/RETURN VALUES/add-client-ca-returns-1")
@pytest.mark.needs("c_api", "server_role")
def test_add_client_ca_lists_the_name_on_the_server(h: Harness) -> None:
    """SSL_CTX_add_client_CA returns 1, and an SSL of that server context lists exactly that CA's name."""
    api = h.capi
    sctx = server_ctx(h)
    _list_unrelated_ca(h, sctx)
    server = Mem(h, Role.SERVER, ctx=sctx)
    names = api.SSL_get_client_CA_list(server.ssl)
    listed = None if names is None else [api.X509_NAME_oneline(n) for n in names]
    h.trace.note(f"the server's list: {listed}")
    assert listed is not None and len(listed) == 1 and "Unrelated Root" in str(listed[0]), \
        f"the server SSL should list the one CA added to its context, got {listed}"


@pytest.mark.clauses("SSL_CTX_set0_CA_list/DESCRIPTION/client-gets-server-list")
@pytest.mark.needs("c_api", "client_role", "server_role", "client_certificates")
@pytest.mark.parametrize("version", list(VERSIONS))
def test_client_reads_the_list_the_server_sent(h: Harness, version: str) -> None:
    """Before the handshake the client's SSL_get_client_CA_list is NULL (nothing was sent yet); after a handshake
    whose CertificateRequest listed the unrelated CA, it lists that one name."""
    api = h.capi
    client, server = _pair(h, version, REQUIRE, client_cert=True)
    _list_unrelated_ca(h, api.SSL_get_SSL_CTX(server.ssl))
    before = api.SSL_get_client_CA_list(client.ssl)
    failure = drive(h, client, server)
    assert failure is None, f"the handshake must complete: {failure}"
    names = api.SSL_get_client_CA_list(client.ssl)
    listed = None if names is None else [api.X509_NAME_oneline(n) for n in names]
    h.trace.note(f"{version}: client's list before the handshake {before}, after it {listed}")
    assert before is None, f"a client that received no CertificateRequest yet lists {before}"
    assert listed is not None and len(listed) == 1 and "Unrelated Root" in str(listed[0]), \
        f"the client should list the server's one acceptable CA, got {listed}"


# ---- SSL_get_peer_certificate (OpenSSL 3.0's page) ---------------------------------------------------------------

GETTERS = ["SSL_get1_peer_certificate", "SSL_get_peer_certificate"]


@pytest.mark.clauses("SSL_get_peer_certificate/RETURN VALUES/null-before-connection")
@pytest.mark.needs("c_api", "client_role", "server_role")
@pytest.mark.states("before-handshake")
@pytest.mark.parametrize("getter", GETTERS)
def test_peer_certificate_getters_null_before_the_handshake(h: Harness, getter: str) -> None:
    """A new client SSL and a new server SSL, no handshake step taken: both return NULL."""
    client, server = _pair(h, "TLSv1.3", REQUIRE, client_cert=True)
    seen = {side.role.value: _peer_name(h, side.ssl, getter) for side in (client, server)}
    h.trace.note(f"{getter} before the handshake: {seen}")
    assert seen == {"client": None, "server": None}, f"{getter} before any handshake: {seen}"


@pytest.mark.clauses("SSL_get_peer_certificate/RETURN VALUES/peer-leaf")
@pytest.mark.needs("c_api", "client_role", "server_role", "client_certificates")
@pytest.mark.states("established")
@pytest.mark.parametrize("getter", GETTERS)
@pytest.mark.parametrize("version", list(VERSIONS))
def test_peer_certificate_is_the_peers_leaf(h: Harness, getter: str, version: str) -> None:
    """A handshake with a client certificate: the client gets the server's certificate (server.test), the server
    the client's (client.test)."""
    client, server = _pair(h, version, REQUIRE, client_cert=True)
    failure = drive(h, client, server)
    assert failure is None, f"the handshake must complete: {failure}"
    on_client, on_server = _peer_name(h, client.ssl, getter), _peer_name(h, server.ssl, getter)
    h.trace.note(f"{version} {getter}: client sees {on_client}, server sees {on_server}")
    assert on_client is not None and SERVER_NAME in on_client, f"the client's peer certificate is {on_client}"
    assert on_server is not None and CLIENT_NAME in on_server, f"the server's peer certificate is {on_server}"


@pytest.mark.clauses("SSL_get_peer_certificate/NOTES/client-sends-only-when-asked")
@pytest.mark.needs("c_api", "client_role", "server_role", "client_certificates")
@pytest.mark.parametrize("version", list(VERSIONS))
def test_server_that_did_not_ask_has_no_peer_certificate(h: Harness, version: str) -> None:
    """A client with a certificate and a server in SSL_VERIFY_NONE mode (it does not ask): the server's peer
    certificate is NULL; the client's is the server's certificate."""
    client, server = _pair(h, version, K.SSL_VERIFY_NONE, client_cert=True)
    failure = drive(h, client, server)
    assert failure is None, f"the handshake must complete: {failure}"
    on_client, on_server = _peer_name(h, client.ssl), _peer_name(h, server.ssl)
    h.trace.note(f"{version}: client sees {on_client}, server sees {on_server}")
    assert on_server is None, f"a server that did not ask has the peer certificate {on_server}"
    assert on_client is not None and SERVER_NAME in on_client, f"the client's peer certificate is {on_client}"


@pytest.mark.clauses("SSL_get_peer_certificate/NOTES/not-a-verification-result")
@pytest.mark.needs("c_api", "client_role", "server_role", "error_codes")
def test_peer_certificate_returned_though_it_failed_verification(h: Harness) -> None:
    """A client in SSL_VERIFY_NONE mode that trusts only an unrelated CA: the handshake completes, the server's
    certificate is returned, and SSL_get_verify_result() shows the failed verification."""
    api = h.capi
    cctx = client_ctx(h, default_pki().other_ca_path)
    client, server = new_pair(h, cctx, server_ctx(h))
    failure = drive(h, client, server)
    assert failure is None, f"a client in SSL_VERIFY_NONE mode must complete: {failure}"
    peer = _peer_name(h, client.ssl)
    result = api.SSL_get_verify_result(client.ssl)
    h.trace.note(f"client's peer {peer}; verify result {result}")
    assert peer is not None and SERVER_NAME in peer, f"the certificate that failed verification is {peer}"
    assert result != K.X509_V_OK, "the verification failed, yet SSL_get_verify_result says X509_V_OK"


@pytest.mark.clauses("SSL_get_peer_certificate/NOTES/get1-reference-outlives-ssl")
@pytest.mark.needs("c_api", "client_role", "server_role")
@pytest.mark.parametrize("getter", GETTERS)
def test_peer_certificate_outlives_the_ssl(h: Harness, getter: str) -> None:
    """The certificate a client got stays readable after its SSL object and context are freed; the caller then
    releases it with X509_free()."""
    api = h.capi
    client, server = _pair(h, "TLSv1.3", K.SSL_VERIFY_NONE)
    failure = drive(h, client, server)
    assert failure is None, f"the handshake must complete: {failure}"
    cert = getattr(api, getter)(client.ssl)
    assert cert is not None, f"{getter} returned NULL after a handshake"
    api.SSL_free(client.ssl)
    client.ssl = None
    api.SSL_CTX_free(client.ctx)
    client.ctx = None
    try:
        name = api.X509_NAME_oneline(api.X509_get_subject_name(cert))
    finally:
        api.X509_free(cert)
    h.trace.note(f"{getter}: subject after SSL_free {name}")
    assert name is not None and SERVER_NAME in name, f"the certificate after SSL_free reads {name}"
