"""C-API cases for where SSL_get_error's fatal codes come from: a system error on the error queue is
SSL_ERROR_SYSCALL, and SSL_ERROR_ZERO_RETURN needs a close_notify from the peer, not merely the "received shutdown"
state a fatal alert from the peer leaves too."""

from __future__ import annotations

import socket

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from engine.tls.alerts import AlertDescription
from engine.tls.misbehave import Misbehaviour
from specs.cases._capi import side
from specs.cases._misbehaving import pair_with_misbehaving_peer
from specs.cases.test_capi import call, get_error

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")

SYSCALL = SslError.SSL_ERROR_SYSCALL
ZERO_RETURN = SslError.SSL_ERROR_ZERO_RETURN
SSL_ERR = SslError.SSL_ERROR_SSL


def _dead_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_SYSCALL")
def test_refused_connection_under_ssl_connect_is_syscall(h: Harness) -> None:
    """SSL_connect over a connect BIO (BIO_new_connect) to a loopback port nobody listens on: connect() is refused,
    which puts a system-library (ERR_LIB_SYS) entry on the queue; SSL_connect fails and SSL_get_error says
    SSL_ERROR_SYSCALL, a fatal I/O error, not SSL_ERROR_SSL."""
    api = h.capi
    with side(api, Role.CLIENT) as client:
        bio = call(h, "BIO_new_connect", f"127.0.0.1:{_dead_port()}".encode())
        assert bio is not None, "BIO_new_connect failed"
        call(h, "SSL_set_bio", client.ssl, bio, bio)  # the SSL owns the BIO from here
        call(h, "ERR_clear_error")
        ret = call(h, "SSL_connect", client.ssl)
        assert ret < 0, f"SSL_connect to a refused port returned {ret}"
        code = call(h, "ERR_peek_error")
        assert code and call(h, "ERR_GET_LIB", code) == K.ERR_LIB_SYS, (
            f"the refused connect() left no system entry first on the queue: {code:#x}")
        got = get_error(h, client.ssl, ret)
        assert got is SYSCALL, f"a refused connection gave SSL_get_error {got} (queue {code:#x})"
        call(h, "ERR_clear_error")


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_ZERO_RETURN", "SSL_set_shutdown/NOTES/received-fatal-alert",
                     "SSL_get_error/RETURN VALUES/SSL_ERROR_SSL")
@pytest.mark.needs("tls1_3", "error_queue", "raw_return_values")
def test_fatal_alert_received_is_not_zero_return(h: Harness) -> None:
    """The peer ends the connection with a fatal alert: SSL_read fails with SSL_ERROR_SSL and an entry of the SSL
    library first on the error queue (the queue holds the details, SSL_get_error RETURN VALUES). A second SSL_read, on a
    cleared queue, may return 0, but SSL_get_error must not call it SSL_ERROR_ZERO_RETURN: the peer never sent a
    close_notify (a fatal alert also marks the shutdown state as received, SSL_set_shutdown NOTES)."""
    pair, stack, peer = pair_with_misbehaving_peer(h, Role.CLIENT, Misbehaviour())
    pair.handshake()
    peer.conn.abort(AlertDescription.internal_error, "the peer gives up")
    peer.outbox += peer.conn.data_to_send()
    pair.settle()
    ssl = stack.ssl  # type: ignore[attr-defined]
    call(h, "ERR_clear_error")
    ret, _ = call(h, "SSL_read", ssl, 10)
    got = get_error(h, ssl, ret)
    assert ret <= 0 and got is SSL_ERR, f"the peer's fatal alert gave SSL_read {ret} with SSL_get_error {got}"
    # SSL_get_error: RETURN VALUES SSL_ERROR_SSL, the error queue holds more information: an entry of the SSL library
    code = call(h, "ERR_peek_error")
    assert code and call(h, "ERR_GET_LIB", code) == K.ERR_LIB_SSL, (
        f"SSL_ERROR_SSL for the peer's fatal alert, but the first error-queue entry is {code:#x}, not one of "
        "ERR_LIB_SSL")
    assert call(h, "SSL_get_shutdown", ssl) & K.SSL_RECEIVED_SHUTDOWN, "a fatal alert left SSL_RECEIVED_SHUTDOWN unset"
    call(h, "ERR_clear_error")
    ret, _ = call(h, "SSL_read", ssl, 10)
    got = get_error(h, ssl, ret)
    assert ret <= 0, f"SSL_read after the fatal alert returned {ret}"
    assert got is not ZERO_RETURN, (
        f"SSL_read after the peer's fatal alert returned {ret} with SSL_ERROR_ZERO_RETURN: a close_notify the peer "
        "never sent")
    call(h, "ERR_clear_error")


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_ZERO_RETURN")
@pytest.mark.needs("error_queue", "raw_return_values")
def test_received_shutdown_set_by_the_application_is_not_zero_return(h: Harness) -> None:
    """On an established connection the application sets SSL_RECEIVED_SHUTDOWN itself (SSL_set_shutdown, which
    sends and receives no alert): SSL_read then reads nothing, but SSL_get_error must not report
    SSL_ERROR_ZERO_RETURN, the peer's close_notify, which never came."""
    pair = h.capi_pair()
    pair.handshake()
    ssl = pair.server.ssl
    call(h, "SSL_set_shutdown", ssl, K.SSL_RECEIVED_SHUTDOWN)
    call(h, "ERR_clear_error")
    ret, _ = call(h, "SSL_read", ssl, 10)
    got = get_error(h, ssl, ret)
    assert ret <= 0, f"SSL_read with SSL_RECEIVED_SHUTDOWN set returned {ret}"
    assert got is not ZERO_RETURN, (
        f"SSL_read with SSL_RECEIVED_SHUTDOWN set by SSL_set_shutdown returned {ret} with SSL_ERROR_ZERO_RETURN: a "
        "close_notify the peer never sent")
    call(h, "ERR_clear_error")
