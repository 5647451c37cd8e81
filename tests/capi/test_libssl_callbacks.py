"""Python callbacks behind C: an exception raised in one is not lost but re-raised when the C call returns."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.outcome import Role
from conformance.stacks.base import EndpointConfig
from conformance.stacks.capi_endpoint import new_context

libssl = pytest.importorskip("conformance.stacks.libssl")


def _api() -> Any:
    try:
        return libssl.LibsslStack().capi
    except Exception as exc:  # pragma: no cover - no libssl.so.3 here
        pytest.skip(f"libssl not loadable: {exc}")


def test_assertion_in_a_callback_reaches_the_caller() -> None:
    api = _api()
    server_ctx = new_context(api, EndpointConfig(role=Role.SERVER, verify_peer=False))
    client_ctx = new_context(api, EndpointConfig(role=Role.CLIENT))

    def hello(ssl: Any) -> int:
        raise AssertionError("checked inside the ClientHello callback")

    api.SSL_CTX_set_client_hello_cb(server_ctx, hello)
    client, server = api.SSL_new(client_ctx), api.SSL_new(server_ctx)
    try:
        _, c_int, c_net = api.BIO_new_bio_pair(0, 0)
        _, s_int, s_net = api.BIO_new_bio_pair(0, 0)
        api.SSL_set_bio(client, c_int, c_int)
        api.SSL_set_bio(server, s_int, s_int)
        api.SSL_set_connect_state(client)
        api.SSL_set_accept_state(server)
        api.SSL_do_handshake(client)
        _, hello_bytes = api.BIO_read(c_net, 65536)
        api.BIO_write(s_net, hello_bytes)
        with pytest.raises(AssertionError, match="inside the ClientHello callback"):
            api.SSL_do_handshake(server)
        api.ERR_clear_error()
        assert api.SSL_get_error(server, 1) == 0, "the binding stays usable after re-raising"
    finally:
        api.SSL_free(client)
        api.SSL_free(server)
        api.BIO_free(c_net)
        api.BIO_free(s_net)
        api.SSL_CTX_free(client_ctx)
        api.SSL_CTX_free(server_ctx)
