"""Cases distilled from programs the differential runner (``conformance differential``) shrank: each replays the
few calls where two C-API stacks parted and asserts what the page says."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from specs.cases._ssl_objects import Mem, error, handshake

C_API = ("c_api", "client_role", "server_role")


@pytest.mark.clauses("SSL_want/NOTES/consistent-with-get-error", "SSL_want/RETURN VALUES/SSL_NOTHING")
@pytest.mark.needs(*C_API)
def test_want_agrees_with_get_error_after_a_call_that_succeeded(h: Harness) -> None:
    """SSL_read on a connected server waits (SSL_READING); then SSL_do_handshake returns 1 (the handshake is
    done). SSL_get_error says SSL_ERROR_NONE for it, so SSL_want must say SSL_NOTHING, not the stale wait."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    ret, _ = api.SSL_read(server.ssl, 10)
    assert error(api, server.ssl, ret) is SslError.SSL_ERROR_WANT_READ
    assert api.SSL_want(server.ssl) == K.SSL_READING
    ret = api.SSL_do_handshake(server.ssl)
    h.trace.note(f"SSL_do_handshake(server) -> {ret}")
    assert ret == 1
    assert error(api, server.ssl, ret) is SslError.SSL_ERROR_NONE
    want = api.SSL_want(server.ssl)
    assert want == K.SSL_NOTHING, f"SSL_want -> {want} after a call SSL_get_error calls SSL_ERROR_NONE"
