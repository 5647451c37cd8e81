"""The trace's record of called functions: TracedApi notes OpenSSL-named calls only and changes nothing else; a
C-API endpoint hands its setup calls over to the case's trace."""

from __future__ import annotations

from typing import Any

from conformance.outcome import Role
from conformance.stacks.base import EndpointConfig
from conformance.stacks.engine import EngineStack
from conformance.trace import Trace, TracedApi


class _Api:
    library = "fake"

    def SSL_read(self, ssl: Any, size: int) -> tuple[int, bytes]:
        return 3, b"abc"

    def errno(self) -> int:
        return 0


def test_traced_api_notes_library_functions_and_passes_results() -> None:
    sink: set[str] = set()
    api = TracedApi(_Api(), sink)
    assert api.SSL_read(None, 3) == (3, b"abc")
    assert api.library == "fake" and api.errno() == 0
    assert sink == {"SSL_read"}
    other: set[str] = set()
    api.sink = other
    api.SSL_read(None, 3)  # the cached wrapper follows the new sink
    assert other == {"SSL_read"}


def test_an_endpoint_hands_its_calls_to_the_trace() -> None:
    endpoint = EngineStack().endpoint(EndpointConfig(role=Role.CLIENT), "client(engine)")
    try:
        trace = Trace()
        endpoint.attach_trace(trace)  # type: ignore[attr-defined]
        assert {"SSL_CTX_new", "SSL_new", "BIO_new_bio_pair", "SSL_set_connect_state"} <= trace.functions
        endpoint.do_handshake()
        assert {"SSL_do_handshake", "SSL_get_error"} <= trace.functions
    finally:
        endpoint.close()
