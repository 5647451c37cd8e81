"""SSL_ERROR_ZERO_RETURN through the normalised endpoint when the application, not the peer, set the received
shutdown state. The C-API case (test_ssl_get_error_sources.test_received_shutdown_set_by_the_application_is_not_zero_
return) also reads the raw return value, which a binding that raises instead of returning it (pyOpenSSL) does not
hand out; the SSL_get_error code it asks about is observed on such a binding through the exception class, so this
case checks the code on every stack that can set the shutdown state (Endpoint.set_shutdown), and the value <= 0
only where the stack shows C return values."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import SslError


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_ZERO_RETURN")
@pytest.mark.states("established")
@pytest.mark.needs("set_shutdown", "error_codes")
@pytest.mark.parametrize("side", ["client", "server"])
def test_binding_received_shutdown_set_by_the_application_is_not_zero_return(h: Harness, side: str) -> None:
    """After the handshake ``side`` sets SSL_RECEIVED_SHUTDOWN itself (SSL_set_shutdown sends and reads nothing),
    then reads with nothing to read: the read returns no data, and its SSL_get_error code is not
    SSL_ERROR_ZERO_RETURN, which says the peer's close_notify arrived (it never was sent); where the stack shows C
    return values, the read returned <= 0."""
    pair = h.pair()
    pair.handshake()
    stack = pair.client if side == "client" else pair.server
    stack.set_shutdown(K.SSL_RECEIVED_SHUTDOWN)
    got = pair.call(stack, lambda e: e.read(10))
    h.trace.note(f"{stack.label}: SSL_set_shutdown(SSL_RECEIVED_SHUTDOWN), then a read: {got}")
    assert not got.ok, f"with SSL_RECEIVED_SHUTDOWN set by the application and nothing sent, {stack.label} read {got}"
    assert got.error is not SslError.SSL_ERROR_ZERO_RETURN, \
        f"{stack.label}'s read reported SSL_ERROR_ZERO_RETURN, a close_notify its peer never sent: {got}"
    if h.has("raw_return_values"):
        assert got.ret <= 0, f"{stack.label}'s failed read returned {got.ret}"
