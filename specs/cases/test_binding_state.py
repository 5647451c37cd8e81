"""SSL_get_shutdown and SSL_want_read / SSL_want_write through the normalised endpoint (``Endpoint.get_shutdown``,
``want_read``, ``want_write``), so that bindings exposing them (pyOpenSSL's ``Connection.get_shutdown``,
``want_read``, ``want_write``) are checked as well as the C-API stacks, whose own cases are in test_ssl_shutdown.py
and test_ssl_mode_want.py."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import SslError
from specs.cases.test_binding_socket import SocketPair

SENT, RECEIVED = K.SSL_SENT_SHUTDOWN, K.SSL_RECEIVED_SHUTDOWN


@pytest.mark.clauses(
    "SSL_set_shutdown/DESCRIPTION/get-returns-state",
    "SSL_set_shutdown/NOTES/zero-nothing-yet",
    "SSL_set_shutdown/NOTES/sent-shutdown",
    "SSL_set_shutdown/NOTES/received-close-notify",
    "SSL_set_shutdown/NOTES/both-flags",
)
@pytest.mark.needs("shutdown_state", "shutdown_return_values", "error_codes")
def test_binding_shutdown_flags_follow_the_close(h: Harness) -> None:
    """Established: no flag. The client's SSL_shutdown: SENT. The server, having read the close_notify: RECEIVED
    only; after its own SSL_shutdown: both. The client, once the answer arrived: both."""
    pair = h.pair()
    pair.handshake()
    flags = (pair.client.get_shutdown(), pair.server.get_shutdown())
    assert flags == (0, 0), f"no shutdown flag on an established connection: (client, server) {flags}"
    first = pair.drive(client=lambda e: e.shutdown()).client
    assert first is not None and first.ok, first
    assert pair.client.get_shutdown() == SENT, f"after sending close_notify: {pair.client.get_shutdown()}"
    seen = pair.drive(server=lambda e: e.read(10)).server
    assert seen is not None and seen.error is SslError.SSL_ERROR_ZERO_RETURN, seen
    assert pair.server.get_shutdown() == RECEIVED, (
        f"receiving close_notify sets RECEIVED only, not SENT: {pair.server.get_shutdown()}")
    pair.drive(server=lambda e: e.shutdown())
    assert pair.server.get_shutdown() == SENT | RECEIVED, (
        f"the server after its own SSL_shutdown: SSL_get_shutdown {pair.server.get_shutdown()}, expected 3")
    second = pair.drive(client=lambda e: e.shutdown()).client
    assert second is not None and second.ok, second
    assert pair.client.get_shutdown() == SENT | RECEIVED, (
        f"the client after its second SSL_shutdown ({second}): SSL_get_shutdown {pair.client.get_shutdown()}, "
        "expected 3")


@pytest.mark.clauses(
    "SSL_want/DESCRIPTION/shortcuts",
    "SSL_want/NOTES/consistent-with-get-error",
    "SSL_want/RETURN VALUES/SSL_READING",
    "SSL_want/RETURN VALUES/SSL_WRITING",
    "SSL_want/RETURN VALUES/shortcut-1-or-0",
)
@pytest.mark.needs("want_state", "socket_transport", "error_codes")
def test_binding_want_read_and_write_match_the_retry(h: Harness) -> None:
    """Over a non-blocking socket: a handshake call that wants to read leaves want_read 1 and want_write 0; a write
    on a full socket that wants to write leaves want_write 1 and want_read 0."""
    pair = SocketPair(h)
    first = pair.call(pair.client, lambda e: e.do_handshake())
    assert first.error is SslError.SSL_ERROR_WANT_READ, first
    wants = (pair.client.want_read(), pair.client.want_write())
    assert wants == (True, False), f"after WANT_READ: (want_read, want_write) {wants}"
    pair.handshake()
    chunk = h.rng.randbytes(16384)
    for _ in range(4096):
        out = pair.client.write(chunk)
        if not out.ok:
            break
    h.trace.note(f"last write on a socket nobody reads: {out}")
    assert out.error is SslError.SSL_ERROR_WANT_WRITE, out
    wants = (pair.client.want_read(), pair.client.want_write())
    assert wants == (False, True), f"after WANT_WRITE: (want_read, want_write) {wants}"
