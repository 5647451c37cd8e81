"""The gnutls stack's C-API surface (conformance/stacks/gnutls_layer.LayerEndpoint): the layer's SSL on a
non-blocking socketpair, every outcome the layer's raw answer. Real library, real TLS against libssl; no mocks.

What is pinned here was observed on GnuTLS 3.7.9 (Debian libgnutls-openssl27 3.7.9-2+deb12u7):

- the endpoint is a CApiEndpoint (``as_capi_endpoint`` hands it to the C-API cases) that drives the handshake with
  SSL_connect / SSL_accept; SSL_do_handshake is missing (MissingSymbol, so a case calling it is not applicable);
- a retry is SSL_ERROR_ZERO_RETURN with ret 0, as every ret <= 0 of the layer; only ERR_get_error 28 says "again",
  and the outcome carries that as ``pump_again`` (for the pump), never as ``retry`` (which the cases read);
- SSL_read / SSL_write before SSL_connect never start the handshake: 0, ZERO_RETURN, ERR_get_error 408;
- SSL_pending counts the bytes of a record a short SSL_read left; SSL_want answers SSL_NOTHING (1) when idle;
- SSL_CTX_set_options takes the two bits gnutls/openssl.h defines and returns the new mask; other names are refused;
- SSL_shutdown returns 1 at once, after sending its own close_notify only.
"""

from __future__ import annotations

import os

import pytest

from conformance.capi.libssl import MissingSymbol
from conformance.harness import Harness, Pair
from conformance.outcome import SslError
from conformance.stacks import load_stack
from conformance.stacks.base import Unsupported
from conformance.stacks.capi_endpoint import as_capi_endpoint
from conformance.stacks.gnutls_layer import GNUTLS_E_AGAIN, LAYER_OPTIONS, LayerEndpoint, LayerOutcome

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/lib/x86_64-linux-gnu/libgnutls-openssl.so.27"),
                                reason="libgnutls-openssl27 is not installed (scripts/bootstrap as root)")

ZERO_RETURN = SslError.SSL_ERROR_ZERO_RETURN
GNUTLS_E_UNAVAILABLE_DURING_HANDSHAKE = 408


def _harness(layer_is: str) -> Harness:
    gnutls, libssl = load_stack("gnutls"), load_stack("libssl")
    client, server = (gnutls, libssl) if layer_is == "client" else (libssl, gnutls)
    return Harness(gnutls, client_stack=client, server_stack=server)


def _layer(pair: Pair, layer_is: str) -> LayerEndpoint:
    endpoint = pair.client if layer_is == "client" else pair.server
    assert isinstance(endpoint, LayerEndpoint)
    return endpoint


@pytest.mark.parametrize("layer_is", ["client", "server"])
def test_handshake_retries_are_the_layers_zero_return(layer_is: str) -> None:
    """The pump gets through the handshake on ERR_get_error 28 alone; each retry the layer answered is recorded as
    its own code, 0 / SSL_ERROR_ZERO_RETURN, and the finishing call is SSL_connect / SSL_accept -> 1."""
    h = _harness(layer_is)
    try:
        pair = h.pair(client=lambda c: c.with_(verify_peer=layer_is == "server"))
        layer = _layer(pair, layer_is)
        assert as_capi_endpoint(layer) is layer
        result = pair.handshake()
        done = result.client if layer_is == "client" else result.server
        seen = result.client_seen if layer_is == "client" else result.server_seen
        assert done is not None and done.op == ("SSL_connect" if layer_is == "client" else "SSL_accept")
        assert done.ret == 1 and done.error is SslError.SSL_ERROR_NONE, done
        assert seen and set(seen) == {ZERO_RETURN}, seen
        first = pair.call(layer, lambda e: e.read(10))  # nothing sent yet: the layer's "again"
        assert isinstance(first, LayerOutcome) and first.pump_again and not first.retry, first
        assert (first.ret, first.error) == (0, ZERO_RETURN) and first.reason.startswith(f"ERR_get_error "
                                                                                         f"{GNUTLS_E_AGAIN}:"), first
    finally:
        h.close()


@pytest.mark.parametrize("layer_is", ["client", "server"])
def test_data_pending_and_shutdown_raw(layer_is: str) -> None:
    """SSL_pending after a short read is the rest of the record; SSL_shutdown says 1 at once; the peer's
    close_notify reads as 0 / ZERO_RETURN with ERR_get_error 0 (no pump_again)."""
    h = _harness(layer_is)
    try:
        pair = h.pair(client=lambda c: c.with_(verify_peer=layer_is == "server"))
        pair.handshake()
        layer = _layer(pair, layer_is)
        other = pair.server if layer is pair.client else pair.client
        pair.drive_sides({"server" if other is pair.server else "client": lambda e: e.write(b"0123456789")})
        side = "client" if layer is pair.client else "server"
        got = getattr(pair.drive_sides({side: lambda e: e.read(4)}), side)
        assert got.ret == 4 and got.data == b"0123", got
        assert layer.pending() == 6
        assert layer.want_read() is False and layer.want_write() is False  # SSL_want: SSL_NOTHING
        rest = pair.call(layer, lambda e: e.read(100))
        assert rest.data == b"456789", rest
        closed = pair.call(layer, lambda e: e.shutdown())
        assert (closed.op, closed.ret) == ("SSL_shutdown", 1), closed
        other_side = "server" if side == "client" else "client"
        seen = getattr(pair.drive_sides({other_side: lambda e: e.read(10)}), other_side)
        assert seen.error is ZERO_RETURN, seen
        pair.drive_sides({other_side: lambda e: e.shutdown()})
        end = getattr(pair.drive_sides({side: lambda e: e.read(10)}), side)
        assert isinstance(end, LayerOutcome) and (end.ret, end.error, end.pump_again) == (0, ZERO_RETURN, False), end
    finally:
        h.close()


def test_no_implicit_handshake_and_no_ssl_do_handshake() -> None:
    """SSL_read before SSL_connect: 0, ZERO_RETURN, ERR_get_error 408 (GNUTLS_E_UNAVAILABLE_DURING_HANDSHAKE), and
    nothing goes on the wire; SSL_do_handshake is not in the library (the stack's implicit_handshake reason)."""
    h = _harness("client")
    try:
        pair = h.pair()
        layer = _layer(pair, "client")
        out = pair.call(layer, lambda e: e.read(10))
        assert (out.ret, out.error) == (0, ZERO_RETURN), out
        assert out.reason.startswith(f"ERR_get_error {GNUTLS_E_UNAVAILABLE_DURING_HANDSHAKE}:"), out
        assert layer.outgoing_pending() == 0
        with pytest.raises(MissingSymbol, match="SSL_do_handshake"):
            layer.handshake_with("SSL_do_handshake")
        assert "408" in str(h.stack.lacks("implicit_handshake_on_read"))
    finally:
        h.close()


def test_ssl_ctx_set_options_takes_the_headers_bits() -> None:
    """config.options: the bits gnutls/openssl.h defines reach SSL_CTX_set_options (which returns the new mask);
    a name the header lacks is refused with Unsupported, naming it."""
    h = _harness("client")
    try:
        pair = h.pair(client=lambda c: c.with_(options=("SSL_OP_ALL",)))
        layer = _layer(pair, "client")
        mask = layer.api.SSL_CTX_set_options(layer.ctx, LAYER_OPTIONS["SSL_OP_NO_TLSv1"])
        assert mask == LAYER_OPTIONS["SSL_OP_ALL"] | LAYER_OPTIONS["SSL_OP_NO_TLSv1"]
        pair.handshake()
        with pytest.raises(Unsupported, match="SSL_OP_NO_TICKET"):
            h.pair(client=lambda c: c.with_(options=("SSL_OP_NO_TICKET",)))
    finally:
        h.close()
