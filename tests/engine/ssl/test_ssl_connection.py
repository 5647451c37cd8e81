"""engine.ssl.connection: SSL objects, roles, BIO ownership, handshake, data, shutdown, callbacks, information."""

from __future__ import annotations

from typing import Any

import pytest

import engine.bio as B
import engine.ssl as E
from conformance.certs import default_pki
from engine import err
from engine.ssl import constants as K

CLOSE_NOTIFY = bytes([21, 3, 3, 0, 2, 1, 0])


def _ctx(server: bool, **opts: Any) -> Any:
    pki = default_pki()
    ctx = E.SSL_CTX_new(E.TLS_server_method() if server else E.TLS_client_method())
    assert E.SSL_CTX_load_verify_locations(ctx, str(pki.ca_path).encode(), None) == 1
    if server:
        assert E.SSL_CTX_use_certificate_file(ctx, str(pki.server.cert_path).encode(), K.SSL_FILETYPE_PEM) == 1
        assert E.SSL_CTX_use_PrivateKey_file(ctx, str(pki.server.key_path).encode(), K.SSL_FILETYPE_PEM) == 1
    else:
        E.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER, None)
    if opts.get("max_version"):
        E.SSL_CTX_set_max_proto_version(ctx, opts["max_version"])
    if opts.get("min_version"):
        E.SSL_CTX_set_min_proto_version(ctx, opts["min_version"])
    return ctx


class End:
    """One SSL on the internal half of a BIO pair; ``net`` is the other half."""

    def __init__(self, server: bool, ctx: Any = None, size: int = 0) -> None:
        err.ERR_clear_error()  # SSL_get_error.pod: the queue must be empty before the I/O calls
        self.ctx = ctx if ctx is not None else _ctx(server)
        self.ssl = E.SSL_new(self.ctx)
        _, inner, self.net = B.BIO_new_bio_pair(size, 0)
        E.SSL_set_bio(self.ssl, inner, inner)
        if server:
            E.SSL_set_accept_state(self.ssl)
        else:
            E.SSL_set_connect_state(self.ssl)
            E.SSL_set_tlsext_host_name(self.ssl, b"server.test")
            E.SSL_set1_host(self.ssl, b"server.test")

    def take(self) -> bytes:
        n = B.BIO_ctrl_pending(self.net)
        return B.BIO_read(self.net, n)[1] if n else b""

    def give(self, data: bytes) -> None:
        if data:
            assert B.BIO_write(self.net, data) == len(data)


def move(a: End, b: End) -> bool:
    x, y = a.take(), b.take()
    b.give(x)
    a.give(y)
    return bool(x or y)


def handshake(c: End, s: End) -> None:
    done = [0, 0]
    for _ in range(50):
        for i, e in enumerate((c, s)):
            if done[i] != 1:
                done[i] = E.SSL_do_handshake(e.ssl)
        if not move(c, s) and done == [1, 1]:
            return
    raise AssertionError(f"handshake did not complete: {done}")


def test_handshake_and_connection_information() -> None:
    c, s = End(False), End(True)
    assert E.SSL_get_version(c.ssl) == "unknown" and E.SSL_get_current_cipher(c.ssl) is None
    handshake(c, s)
    for e in (c, s):
        assert E.SSL_get_version(e.ssl) == "TLSv1.3" and E.SSL_version(e.ssl) == K.TLS1_3_VERSION
        assert E.SSL_CIPHER_get_name(E.SSL_get_current_cipher(e.ssl)).startswith("TLS_")
        assert E.SSL_is_init_finished(e.ssl) == 1 and E.SSL_in_init(e.ssl) == 0
    assert E.SSL_get_verify_result(c.ssl) == K.X509_V_OK
    assert E.SSL_CIPHER_get_name(None) == "(NONE)"
    assert E.SSL_write(c.ssl, b"hello") == 5
    move(c, s)
    assert E.SSL_read(s.ssl, 100) == (5, b"hello")


def test_is_server_and_role() -> None:
    for method, expected in ((E.TLS_method(), 1), (E.TLS_server_method(), 1), (E.TLS_client_method(), 0)):
        ctx = E.SSL_CTX_new(method)
        ssl = E.SSL_new(ctx)
        assert E.SSL_is_server(ssl) == expected
        E.SSL_set_connect_state(ssl)
        assert E.SSL_is_server(ssl) == 0
        E.SSL_free(ssl)
        E.SSL_CTX_free(ctx)


def test_no_role_no_handshake() -> None:
    ctx = _ctx(False)
    ssl = E.SSL_new(ctx)
    _, inner, net = B.BIO_new_bio_pair(0, 0)
    E.SSL_set_bio(ssl, inner, inner)
    err.ERR_clear_error()
    assert E.SSL_do_handshake(ssl) == -1
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_CONNECTION_TYPE_NOT_SET
    assert E.SSL_get_error(ssl, -1) == K.SSL_ERROR_SSL
    err.ERR_clear_error()
    assert E.SSL_write(ssl, b"x") == -1
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_UNINITIALIZED
    assert B.BIO_ctrl_pending(net) == 0
    err.ERR_clear_error()


def test_connect_and_accept_set_the_role() -> None:
    c = End(False)
    s = End(True)
    E.SSL_clear(c.ssl)
    for _ in range(20):
        rc, rs = E.SSL_connect(c.ssl), E.SSL_accept(s.ssl)
        if not move(c, s) and rc == rs == 1:
            break
    assert E.SSL_is_server(c.ssl) == 0 and E.SSL_is_server(s.ssl) == 1


def test_set_bio_ownership_and_free() -> None:
    ssl = E.SSL_new(_ctx(False))
    _, a, a_peer = B.BIO_new_bio_pair(0, 0)
    _, b, b_peer = B.BIO_new_bio_pair(0, 0)
    B.BIO_up_ref(a)  # our own reference, to watch the SSL's
    E.SSL_set_bio(ssl, a, a)  # same BIO both ways: one reference consumed, one taken
    assert E.SSL_get_rbio(ssl) is a and E.SSL_get_wbio(ssl) is a
    E.SSL_set_bio(ssl, a, a)  # unchanged: nothing happens
    E.SSL_set_bio(ssl, a, b)  # rbio kept, wbio replaced: the old wbio reference is freed
    assert E.SSL_get_wbio(ssl) is b
    E.SSL_free(ssl)  # frees the SSL's references to a and b
    assert B.BIO_free(a) == 1  # ours was the last
    err.ERR_clear_error()
    assert B.BIO_up_ref(b) == 0, "b belonged to the SSL alone and went with it"
    err.ERR_clear_error()
    for x in (a_peer, b_peer):
        B.BIO_free(x)


def test_set0_frees_the_previous_bio_even_if_the_same() -> None:
    ssl = E.SSL_new(_ctx(False))
    _, a, _peer = B.BIO_new_bio_pair(0, 0)
    B.BIO_up_ref(a)
    B.BIO_up_ref(a)
    E.SSL_set0_rbio(ssl, a)
    E.SSL_set0_rbio(ssl, a)  # frees one reference: a has 2 left (ours + the SSL's)
    E.SSL_free(ssl)
    assert B.BIO_free(a) == 1
    err.ERR_clear_error()
    assert B.BIO_up_ref(a) == 0


def test_dup_copies_a_fresh_object_and_shares_a_started_one() -> None:
    c = End(False)
    E.SSL_set_mode(c.ssl, K.SSL_MODE_ENABLE_PARTIAL_WRITE)
    copy = E.SSL_dup(c.ssl)
    assert copy is not c.ssl and E.SSL_get_mode(copy) == E.SSL_get_mode(c.ssl) and E.SSL_is_server(copy) == 0
    assert E.SSL_get_rbio(copy) is None
    E.SSL_free(copy)
    E.SSL_do_handshake(c.ssl)
    same = E.SSL_dup(c.ssl)
    assert same is c.ssl
    E.SSL_free(same)  # one reference of two


def test_shutdown_zero_then_one() -> None:
    c, s = End(False), End(True)
    handshake(c, s)
    assert E.SSL_shutdown(c.ssl) == 0
    assert E.SSL_get_shutdown(c.ssl) == K.SSL_SENT_SHUTDOWN
    ret = E.SSL_shutdown(c.ssl)
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_WANT_READ
    move(c, s)
    ret, _ = E.SSL_read(s.ssl, 10)
    assert ret == 0 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_ZERO_RETURN
    assert E.SSL_shutdown(s.ssl) == 1
    move(c, s)
    assert E.SSL_shutdown(c.ssl) == 1
    assert E.SSL_get_shutdown(c.ssl) == K.SSL_SENT_SHUTDOWN | K.SSL_RECEIVED_SHUTDOWN
    err.ERR_clear_error()
    assert E.SSL_write(c.ssl, b"late") == -1
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_PROTOCOL_IS_SHUTDOWN
    err.ERR_clear_error()


def test_quiet_shutdown_sends_nothing() -> None:
    c, s = End(False), End(True)
    handshake(c, s)
    E.SSL_set_quiet_shutdown(c.ssl, 1)
    assert E.SSL_shutdown(c.ssl) == 1 and c.take() == b""
    assert E.SSL_get_shutdown(c.ssl) == K.SSL_SENT_SHUTDOWN | K.SSL_RECEIVED_SHUTDOWN


def test_handshake_ended_by_close_notify_returns_zero() -> None:
    # SSL_connect / SSL_accept RETURN VALUES: 0 for a controlled shutdown (libssl 3.0 returns -1)
    c, s = End(False), End(True)
    assert E.SSL_connect(c.ssl) == -1
    c.take()
    c.give(CLOSE_NOTIFY)
    ret = E.SSL_connect(c.ssl)
    assert ret == 0 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_ZERO_RETURN
    s.give(CLOSE_NOTIFY)
    assert E.SSL_accept(s.ssl) == 0


def test_key_update() -> None:
    c, s = End(False), End(True)
    assert E.SSL_key_update(c.ssl, K.SSL_KEY_UPDATE_REQUESTED) == 0  # still in the handshake
    err.ERR_clear_error()
    handshake(c, s)
    assert E.SSL_key_update(c.ssl, 7) == 0
    err.ERR_clear_error()
    assert E.SSL_key_update(c.ssl, K.SSL_KEY_UPDATE_REQUESTED) == 1
    assert E.SSL_get_key_update_type(c.ssl) == K.SSL_KEY_UPDATE_REQUESTED
    assert E.SSL_do_handshake(c.ssl) == 1
    assert E.SSL_get_key_update_type(c.ssl) == K.SSL_KEY_UPDATE_NONE
    move(c, s)
    ret, _ = E.SSL_read(s.ssl, 10)  # processes the update and answers it
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_WANT_READ
    move(c, s)
    assert E.SSL_write(s.ssl, b"after") == 5
    move(c, s)
    assert E.SSL_read(c.ssl, 10) == (5, b"after")


def test_renegotiate_and_sendfile_fail() -> None:
    c, s = End(False), End(True)
    handshake(c, s)
    err.ERR_clear_error()
    assert E.SSL_renegotiate(c.ssl) == 0 and E.SSL_renegotiate_pending(c.ssl) == 0
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_WRONG_SSL_VERSION
    err.ERR_clear_error()
    ret = E.SSL_sendfile(c.ssl, 0, 0, 10, 0)
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_SSL
    err.ERR_clear_error()


@pytest.mark.parametrize("limited", ["client", "server"])
def test_tls12_through_the_ssl_api(limited: str) -> None:
    # SSL_CTX_set_max_proto_version on either side: the handshake settles on TLS 1.2 and says so
    c = End(False, _ctx(False, max_version=K.TLS1_2_VERSION) if limited == "client" else None)
    s = End(True, _ctx(True, max_version=K.TLS1_2_VERSION) if limited == "server" else None)
    handshake(c, s)
    for e in (c, s):
        assert E.SSL_get_version(e.ssl) == "TLSv1.2" and E.SSL_version(e.ssl) == K.TLS1_2_VERSION
        assert E.SSL_CIPHER_get_name(E.SSL_get_current_cipher(e.ssl)) == "ECDHE-ECDSA-AES256-GCM-SHA384"
        assert E.SSL_SESSION_get_protocol_version(E.SSL_get_session(e.ssl)) == K.TLS1_2_VERSION
    assert E.SSL_write(c.ssl, b"hello") == 5
    move(c, s)
    assert E.SSL_read(s.ssl, 100) == (5, b"hello")


def test_client_limited_to_tls12_fails_with_protocol_version() -> None:
    c = End(False, _ctx(False, max_version=K.TLS1_2_VERSION))
    s = End(True, _ctx(True, min_version=K.TLS1_3_VERSION))
    assert E.SSL_do_handshake(c.ssl) == -1
    move(c, s)
    err.ERR_clear_error()
    ret = E.SSL_do_handshake(s.ssl)
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_SSL
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_UNSUPPORTED_PROTOCOL
    err.ERR_clear_error()
    move(c, s)
    ret = E.SSL_do_handshake(c.ssl)
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_SSL
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_TLSV1_ALERT_PROTOCOL_VERSION
    assert E.SSL_get_shutdown(c.ssl) & K.SSL_RECEIVED_SHUTDOWN
    err.ERR_clear_error()


def test_server_limited_below_tls12_has_no_protocol() -> None:
    s = End(True, _ctx(True, max_version=K.TLS1_1_VERSION))
    err.ERR_clear_error()
    ret = E.SSL_do_handshake(s.ssl)
    assert ret == -1 and err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_NO_PROTOCOLS_AVAILABLE
    err.ERR_clear_error()


def test_untrusted_server_sets_the_verify_result() -> None:
    pki = default_pki()
    ctx = E.SSL_CTX_new(E.TLS_client_method())
    E.SSL_CTX_load_verify_locations(ctx, str(pki.other_ca_path).encode(), None)
    E.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER, None)
    c, s = End(False, ctx), End(True)
    results = []
    for _ in range(10):
        results.append(E.SSL_get_error(c.ssl, E.SSL_do_handshake(c.ssl)))
        if results[-1] == K.SSL_ERROR_SSL:
            break
        E.SSL_do_handshake(s.ssl)
        move(c, s)
    assert results[-1] == K.SSL_ERROR_SSL
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_CERTIFICATE_VERIFY_FAILED
    assert E.SSL_get_verify_result(c.ssl) == K.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    err.ERR_clear_error()


def test_client_hello_callback_retry_then_success() -> None:
    answers = [-1]
    sctx = _ctx(True)
    E.SSL_CTX_set_client_hello_cb(sctx, lambda ssl: answers[0])
    c, s = End(False), End(True, sctx)
    E.SSL_do_handshake(c.ssl)
    move(c, s)
    ret = E.SSL_do_handshake(s.ssl)
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_WANT_CLIENT_HELLO_CB
    assert E.SSL_want_client_hello_cb(s.ssl) == 1
    answers[0] = 1
    handshake(c, s)


def test_client_certificate_callback_retry_then_none() -> None:
    answers = [-1]
    cctx = _ctx(False)
    E.SSL_CTX_set_client_cert_cb(cctx, lambda ssl: answers[0])
    c, s = End(False, cctx), End(True)
    E.SSL_set_verify(s.ssl, K.SSL_VERIFY_PEER, None)
    seen = []
    for _ in range(20):
        ret = E.SSL_do_handshake(c.ssl)
        if ret == 1:
            break
        seen.append(E.SSL_get_error(c.ssl, ret))
        if seen[-1] == K.SSL_ERROR_WANT_X509_LOOKUP:
            assert E.SSL_want_x509_lookup(c.ssl) == 1
            answers[0] = 0
        E.SSL_do_handshake(s.ssl)
        move(c, s)
    assert K.SSL_ERROR_WANT_X509_LOOKUP in seen
    handshake(c, s)


def test_set_fd_makes_socket_bios() -> None:
    import socket

    a, b = socket.socketpair()
    try:
        ssl = E.SSL_new(_ctx(False))
        assert E.SSL_set_fd(ssl, a.fileno()) == 1
        assert E.SSL_get_fd(ssl) == a.fileno() and E.SSL_get_wfd(ssl) == a.fileno()
        assert E.SSL_get_rbio(ssl) is E.SSL_get_wbio(ssl)
        assert E.SSL_set_rfd(ssl, b.fileno()) == 1
        assert E.SSL_get_rfd(ssl) == b.fileno() and E.SSL_get_wfd(ssl) == a.fileno()
        E.SSL_free(ssl)
        a.getsockname()  # BIO_NOCLOSE: the descriptors stay open
    finally:
        a.close()
        b.close()


def test_tcp_ndelay() -> None:
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    try:
        assert E.BIO_set_tcp_ndelay(client.fileno(), 1) == 1
        assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert E.BIO_set_tcp_ndelay(client.fileno(), 0) == 1
        assert not client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        client.close()
        listener.close()


def test_handshake_empties_a_stale_queue() -> None:
    # libssl 3.0's state machine clears the queue on entry; a stale entry cannot mislead a handshake call
    c = End(False)
    err.ERR_raise(err.ERR_LIB_SSL, K.SSL_R_BAD_VALUE)
    ret = E.SSL_do_handshake(c.ssl)
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_WANT_READ


def _bios(n: int) -> list[Any]:
    out = []
    for _ in range(n):
        _, bio, _peer = B.BIO_new_bio_pair(0, 0)
        out.append(bio)
    return out


def _alive(bio: Any) -> bool:
    err.ERR_clear_error()
    ok = B.BIO_up_ref(bio) == 1
    if ok:
        B.BIO_free(bio)
    err.ERR_clear_error()
    return ok


def test_set_bio_wbio_kept_follows_the_page() -> None:
    # SSL_set_bio: DESCRIPTION wbio kept, old BIOs the same: one reference for the rbio, none for the wbio
    ssl = E.SSL_new(_ctx(False))
    x, y = _bios(2)
    E.SSL_set_bio(ssl, x, x)
    E.SSL_set_bio(ssl, y, x)
    E.SSL_free(ssl)
    assert not _alive(x) and not _alive(y)
    # old BIOs different: one reference each, the kept wbio included
    ssl = E.SSL_new(_ctx(False))
    x, y, z = _bios(3)
    B.BIO_up_ref(y)
    E.SSL_set_bio(ssl, x, y)
    E.SSL_set_bio(ssl, z, y)
    E.SSL_free(ssl)
    assert not _alive(x) and not _alive(y) and not _alive(z)


def test_cipher_list_and_application_data() -> None:
    ssl = E.SSL_new(_ctx(False))
    names = []
    while (name := E.SSL_get_cipher_list(ssl, len(names))) is not None:
        names.append(name)
    # the TLS 1.3 suites first, then the TLS 1.2 ones in OpenSSL 3.0's DEFAULT order
    assert names[:3] == ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"]
    assert names[3] == "ECDHE-ECDSA-AES256-GCM-SHA384" and names[-1] == "ECDHE-RSA-AES128-SHA" and len(names) == 15
    err.ERR_clear_error()
    assert E.SSL_set_cipher_list(ssl, b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE+CHACHA20:!aRSA") == 1
    assert E.SSL_get_cipher_list(ssl, 3) == "ECDHE-ECDSA-AES128-GCM-SHA256"
    assert E.SSL_get_cipher_list(ssl, 4) == "ECDHE-ECDSA-CHACHA20-POLY1305" and E.SSL_get_cipher_list(ssl, 5) is None
    assert E.SSL_set_cipher_list(ssl, b"NO-SUCH-CIPHER:aNULL") == 0  # selects nothing
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_NO_CIPHER_MATCH
    err.ERR_clear_error()
    idx = E.SSL_get_ex_new_index(0)
    assert idx > 0 and E.SSL_get_ex_new_index(0) != idx
    assert E.SSL_set_ex_data(ssl, idx, 0x5EED) == 1 and E.SSL_get_ex_data(ssl, idx) == 0x5EED
    copy = E.SSL_dup(ssl)
    assert E.SSL_get_ex_data(copy, idx) == 0x5EED
    E.SSL_free(copy)
    E.SSL_free(ssl)


def test_session_after_handshake_and_ssl_clear() -> None:
    cctx = _ctx(False)
    assert E.SSL_CTX_set_timeout(cctx, 4321) == 7200
    c, s = End(False, cctx), End(True)
    assert E.SSL_get_session(c.ssl) is None
    handshake(c, s)
    session = E.SSL_get1_session(c.ssl)
    assert session is not None and E.SSL_SESSION_get_timeout(session) == 4321
    other = E.SSL_new(cctx)
    assert E.SSL_set_session(other, session) == 1
    copy = E.SSL_dup(other)
    assert E.SSL_get_session(copy) is session
    E.SSL_free(copy)
    E.SSL_free(other)
    E.SSL_clear(c.ssl)  # never closed: the session is dropped
    assert E.SSL_get_session(c.ssl) is None
    E.SSL_free(c.ssl)
    assert E.SSL_SESSION_get_timeout(session) == 4321, "the caller's reference keeps the session"
    E.SSL_SESSION_free(session)


def test_cert_verify_callback_retry_then_accept_or_reject() -> None:
    for verdict in (1, 0):
        cctx = _ctx(False)
        c, s = End(False, cctx), End(True)
        calls: list[int] = []

        def check(c: End = c, verdict: int = verdict, calls: list[int] = calls) -> int:
            calls.append(1)
            if len(calls) == 1:
                assert E.SSL_set_retry_verify(c.ssl) == 1
                return 1
            return verdict

        E.SSL_CTX_set_cert_verify_callback(cctx, check)
        codes = []
        for _ in range(10):
            ret = E.SSL_do_handshake(c.ssl)
            codes.append(E.SSL_get_error(c.ssl, ret))
            if ret == 1 or codes[-1] not in (K.SSL_ERROR_WANT_READ, K.SSL_ERROR_WANT_RETRY_VERIFY):
                break
            E.SSL_do_handshake(s.ssl)
            move(c, s)
        assert K.SSL_ERROR_WANT_RETRY_VERIFY in codes and len(calls) == 2
        if verdict:
            assert codes[-1] == K.SSL_ERROR_NONE
        else:
            assert codes[-1] == K.SSL_ERROR_SSL  # the client verifies (SSL_VERIFY_PEER) and the callback said no
            assert E.SSL_get_verify_result(c.ssl) == K.X509_V_ERR_APPLICATION_VERIFICATION
        err.ERR_clear_error()


def test_info_callback_hears_start_and_done() -> None:
    heard: list[tuple[int, int]] = []
    c, s = End(False), End(True)
    E.SSL_set_info_callback(c.ssl, lambda where, ret: heard.append((where, ret)))
    assert E.SSL_get_info_callback(c.ssl) is not None
    handshake(c, s)
    wheres = [w for w, _ in heard]
    assert wheres[0] == 0x10 and 0x20 in wheres  # SSL_CB_HANDSHAKE_START, SSL_CB_HANDSHAKE_DONE


def test_certificate_on_the_object_itself() -> None:
    pki = default_pki()
    ctx = E.SSL_CTX_new(E.TLS_server_method())
    ssl = E.SSL_new(ctx)
    assert E.SSL_get_certificate(ssl) is None
    assert E.SSL_use_certificate_file(ssl, str(pki.server.cert_path), K.SSL_FILETYPE_PEM) == 1
    assert E.SSL_use_PrivateKey_file(ssl, str(pki.server.key_path), K.SSL_FILETYPE_PEM) == 1
    assert E.SSL_get_certificate(ssl) is not None
    copy = E.SSL_dup(ssl)
    assert E.SSL_get_certificate(copy) is not None
    E.SSL_free(copy)
    E.SSL_free(ssl)
    E.SSL_CTX_free(ctx)


def test_write_bio_must_flush() -> None:
    # SSL_set_bio: DESCRIPTION a write BIO must implement BIO_flush; without it the first flight fails
    for with_flush in (False, True):
        written: list[bytes] = []
        method = B.BIO_meth_new(0x0400 | 102, b"custom")
        B.BIO_meth_set_write(method, lambda data, w=written: w.append(data) or len(data))
        if with_flush:
            B.BIO_meth_set_ctrl(method, lambda cmd, larg: 1 if cmd == 11 else 0)
        custom = B.BIO_new(method)
        B.BIO_set_init(custom, 1)
        c = End(False)
        B.BIO_up_ref(E.SSL_get_rbio(c.ssl))
        E.SSL_set_bio(c.ssl, E.SSL_get_rbio(c.ssl), custom)
        err.ERR_clear_error()
        ret = E.SSL_do_handshake(c.ssl)
        code = E.SSL_get_error(c.ssl, ret)
        assert ret == -1 and written
        assert (code == K.SSL_ERROR_WANT_READ) is with_flush, code
        err.ERR_clear_error()
        E.SSL_free(c.ssl)
        B.BIO_meth_free(method)


def test_certificate_validity_reads_the_context_clock() -> None:
    """engine/ssl takes the time from SSL_CTX.clock (injected, as the TLS core's is), never from the system clock
    directly: a client whose clock is past the server certificate's notAfter refuses it as expired."""
    import time

    cctx = _ctx(False)
    cctx.clock = lambda: time.time() + 400 * 86400  # the test PKI's server certificate is valid for 365 days
    c, s = End(False, cctx), End(True)
    with pytest.raises(AssertionError, match="did not complete"):
        handshake(c, s)
    assert E.SSL_get_verify_result(c.ssl) == K.X509_V_ERR_CERT_HAS_EXPIRED
    err.ERR_clear_error()


def _idle_after_big_record(release: bool, pairs: int = 8) -> int:
    """tracemalloc bytes held by ``pairs`` idle engine pairs after each client read one 16 KiB record that came in two
    parts (a record the core keeps until more input comes), with or without SSL_MODE_RELEASE_BUFFERS on the clients."""
    import gc
    import tracemalloc

    ends = [(End(False), End(True)) for _ in range(pairs)]
    for c, s in ends:
        handshake(c, s)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for c, s in ends:
            if release:
                E.SSL_set_mode(c.ssl, K.SSL_MODE_RELEASE_BUFFERS)
            assert E.SSL_write(s.ssl, b"x" * 16384) == 16384
            wire = s.take()
            c.give(wire[:100])  # the record arrives in two parts: SSL_read waits for the rest
            assert E.SSL_read(c.ssl, 16384) == (-1, b"")
            c.give(wire[100:])
            assert E.SSL_read(c.ssl, 16384) == (16384, b"x" * 16384)
        gc.collect()
        return int(tracemalloc.get_traced_memory()[0] - before)
    finally:
        tracemalloc.stop()
        for c, s in ends:
            E.SSL_free(c.ssl)
            E.SSL_free(s.ssl)


def test_release_buffers_gives_back_the_last_record_of_an_idle_ssl() -> None:
    """SSL_CTX_set_mode SSL_MODE_RELEASE_BUFFERS: once an SSL_read leaves nothing buffered, the record the core
    still held goes; without the mode it stays (about 16 KiB per SSL here)."""
    without, with_mode = _idle_after_big_record(False), _idle_after_big_record(True)
    assert without - with_mode >= 8 * 16000, (without, with_mode)
