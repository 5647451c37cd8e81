"""The interoperability read loops' "call again" (conformance/harness.Pair.wants_again, specs/cases/_wire
.assert_retries_reported): a retry code, or the harness's own signal ``pump_again`` (which only the gnutls layer
sets), lets the loop go on; the latter is noted in the trace and kept on the pair, so a case claiming a clause on
retry codes can still fail on it at its end, with one fixed message. Real stacks (engine, gnutls layer, libssl)."""

from __future__ import annotations

import os

import pytest

from conformance.harness import Harness
from conformance.outcome import Outcome, SslError
from conformance.pump import calls_again
from conformance.stacks import load_stack
from conformance.stacks.gnutls_layer import GNUTLS_E_AGAIN, LayerOutcome
from specs.cases._wire import assert_retries_reported
from specs.cases.test_interop import _exchange

ZERO_RETURN = SslError.SSL_ERROR_ZERO_RETURN
HAVE_LAYER = os.path.exists("/usr/lib/x86_64-linux-gnu/libgnutls-openssl.so.27")


def test_wants_again_takes_retry_codes_and_the_harness_signal_only() -> None:
    h = Harness(load_stack("engine"))
    try:
        pair = h.pair()
        want_read = Outcome("SSL_read", -1, SslError.SSL_ERROR_WANT_READ)
        assert pair.wants_again(want_read) and calls_again(want_read)
        assert pair.misreported_retries == []
        assert_retries_reported(pair)  # a real retry code is no misreport
        closed = LayerOutcome("SSL_read", 0, ZERO_RETURN, reason="ERR_get_error 0")
        assert not pair.wants_again(closed) and not calls_again(closed)
        again = LayerOutcome("SSL_read", 0, ZERO_RETURN, reason=f"ERR_get_error {GNUTLS_E_AGAIN}", pump_again=True)
        assert pair.wants_again(again) and calls_again(again)
        assert not again.retry  # the code a case judges stays raw
        assert pair.misreported_retries == [again]
        assert any("pump_again" in line for line in h.trace.as_list())
        with pytest.raises(AssertionError) as failed:
            assert_retries_reported(pair)
        assert str(failed.value) == ("the stack answered a retry with SSL_read() -> 0 / SSL_ERROR_ZERO_RETURN (the "
                                     "harness's own signal was needed to go on)")
    finally:
        h.close()


@pytest.mark.skipif(not HAVE_LAYER, reason="libgnutls-openssl27 is not installed (scripts/bootstrap as root)")
@pytest.mark.parametrize("layer_is", ["client", "server"])
def test_exchange_with_the_gnutls_layer_reading_checks_the_bytes(layer_is: str) -> None:
    """The interop helper gets every byte across both ways with the layer as one side (its retries are 0 /
    ZERO_RETURN with ERR_get_error 28); each retry taken by the harness's signal, the pump's (handshake) and the
    helper's (reads), is kept on the pair."""
    gnutls, libssl = load_stack("gnutls"), load_stack("libssl")
    client, server = (gnutls, libssl) if layer_is == "client" else (libssl, gnutls)
    h = Harness(gnutls, client_stack=client, server_stack=server)
    try:
        pair = h.pair()
        pair.handshake()
        handshake = {o.op for o in pair.misreported_retries}  # the pump's own drives are kept too
        assert handshake == {"SSL_connect" if layer_is == "client" else "SSL_accept"}, handshake
        with pytest.raises(AssertionError, match=r"the stack answered a retry with SSL_(connect|accept)\(\) -> 0 /"):
            assert_retries_reported(pair)
        kept = len(pair.misreported_retries)
        _exchange(pair, b"to the server " * 3000)
        _exchange(pair, b"to the client " * 3000, to_server=False)
        reads = pair.misreported_retries[kept:]
        assert reads and {o.op for o in reads} == {"SSL_read"}, "the layer read with nothing there: a retry each time"
        assert all(o.error is ZERO_RETURN and o.ret == 0 for o in pair.misreported_retries)
    finally:
        h.close()
