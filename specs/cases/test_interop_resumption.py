"""Session resumption between two stacks: a client of one stack resumes, with a second connection, the session a
server of another stack made in the first (TLS 1.2: session id or ticket; TLS 1.3: a ticket, psk_dhe_ke).

The servers of both connections come from one server context (``Harness.pair_factory``); the client takes its
session (``Endpoint.session``) after data went both ways, so a TLS 1.3 client has read the server's tickets."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from specs.cases.test_interop import _exchange

pytestmark = pytest.mark.interop


@pytest.mark.clauses("RFC5246/7.3/resumption", "RFC9846/2.2/resumption")
@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
def test_resumption(h: Harness, version: str) -> None:
    h.need("tls1_2" if version == "TLSv1.2" else "tls1_3")
    make = h.pair_factory(client=lambda c: c.with_(min_version=version, max_version=version),
                          server=lambda c: c.with_(min_version=version, max_version=version))
    first = make()
    first.handshake()
    _exchange(first, b"first connection")
    _exchange(first, b"reply", to_server=False)
    session = first.client.session()
    assert session is not None, "the client has no session after the first connection"
    assert not first.client.session_reused(), "the first handshake claims to have resumed a session"
    # the first connection ends cleanly: a server may drop a session whose connection ended without close_notify
    # (RFC 2246 section 7.2.1 required it; OpenSSL still does, through its fatal alert on an unexpected EOF)
    first.drive_sides({"client": lambda e: e.shutdown()})
    first.drive_sides({"server": lambda e: e.read(100)})
    second = make(resume=session)
    second.handshake()
    reused = (second.client.session_reused(), second.server.session_reused())
    h.trace.note(f"second connection: session reused by client {reused[0]}, server {reused[1]}")
    assert reused == (True, True), f"the second connection did not resume the session: {reused}"
    for endpoint in (second.client, second.server):
        got = endpoint.negotiated_version()
        assert got in (None, version), f"{endpoint.label} resumed with {got}"
    _exchange(second, b"resumed connection")
    _exchange(second, b"reply", to_server=False)
