"""A TLS 1.2 session offered without its cipher suite, against every stack's server: the misbehaving reference peer
as client (engine.tls.misbehave SessionWithoutSuite) resumes the session it made with the stack's server, its
ClientHello offering the session (by id, or by ticket) but no longer listing the session's suite.

RFC 5246 section 7.4.1.3: the ServerHello's suite is one the ClientHello lists, so the server cannot resume the
session. Either it goes on with a full handshake under a listed suite (nothing resumed), or it refuses the hello:
its SSL_accept < 0 with SSL_ERROR_SSL (an error-queue entry where it has one) and a fatal alert that section 7.2.2
names for it (illegal_parameter or handshake_failure). Since the engine's own client no longer offers such a session
(RFC5246/7.4.1.2/resumed-suite-offered), a same-stack pair cannot show its server this hello; this peer can."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from conformance.outcome import Role
from conformance.stacks.base import EndpointConfig
from engine.tls.alerts import AlertDescription as A
from engine.tls.misbehave import SessionWithoutSuite
from specs.cases._misbehaving import alert_name, pair_with_misbehaving_peer
from specs.cases.test_misbehaving_peer import _refuses, _take_alert
from specs.cases.test_misbehaving_resumption import TLS12_ONLY, _first_connection_to_stack_server, _session12, _version

pytestmark = pytest.mark.needs("error_codes", "session_resumption", "tls1_2", "server_role")

SUITE_A = 0xC02B  # ECDHE-ECDSA-AES128-GCM-SHA256: the session's suite
SUITE_B = 0xC02C  # ECDHE-ECDSA-AES256-GCM-SHA384: the suite the second hello still lists
REFUSALS = (A.illegal_parameter, A.handshake_failure)  # RFC 5246 section 7.2.2


@pytest.mark.clauses("RFC5246/7.4.1.3/suite-from-client-list")
@pytest.mark.parametrize("mechanism", ["session-id", "ticket"])
def test_a_session_offered_without_its_suite_is_not_resumed(h: Harness, mechanism: str) -> None:
    """The peer's first connection to the stack's server lists only ECDHE-ECDSA-AES128-GCM-SHA256; its second
    ClientHello offers that session and lists only ECDHE-ECDSA-AES256-GCM-SHA384. The stack's server completes a
    full handshake under the listed suite, or refuses the hello with illegal_parameter or handshake_failure."""
    tickets = mechanism == "ticket"
    first_tls = {**TLS12_ONLY, "cipher_suites12": (SUITE_A,), "session_tickets12": tickets}
    session = _session12(_first_connection_to_stack_server(h, "TLSv1.2", first_tls))
    assert session.cipher_suite == SUITE_A, f"the first connection used suite {session.cipher_suite:#06x}"
    if tickets and not session.ticket:
        h.not_applicable("the stack's TLS 1.2 server issued no ticket to a client that asked for one (RFC 5077 "
                         "section 3.2 lets it)")
    fault = SessionWithoutSuite(suite=SUITE_A)
    config = _version("TLSv1.2")(EndpointConfig(role=Role.SERVER, verify_peer=False))
    tls = {**TLS12_ONLY, "cipher_suites12": (SUITE_A, SUITE_B), "resume_session12": session,
           "session_tickets12": tickets}
    pair, stack, peer = pair_with_misbehaving_peer(h, Role.SERVER, fault, config, tls=tls, shared_server=True)
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    assert fault.done, "the peer's ClientHello did not offer the session (nothing to judge)"
    out = result.server
    if out is None or not out.ok or peer.error is not None:
        _take_alert(pair, peer)
        _refuses(h, stack, out, peer, None)
        assert peer.received_alert in REFUSALS, (
            f"{stack.label} refused the hello with {alert_name(peer.received_alert)}, not illegal_parameter or "
            f"handshake_failure (RFC 5246 section 7.2.2)")
        return
    pair.drive(server=lambda e: e.write(b"full handshake"))
    got = pair.drive(client=lambda e: e.read(100))
    assert got.client is not None and got.client.ok, f"the peer did not read the server's data: {got.client}"
    done = peer.completed[-1] if peer.completed else None
    assert done is not None, "the peer saw no completed handshake"
    assert not done.resumed, (f"{stack.label} resumed a session made under {SUITE_A:#06x} for a ClientHello that "
                              f"lists only {SUITE_B:#06x}")
    assert done.cipher_suite == SUITE_B, (f"{stack.label}'s full handshake used suite {done.cipher_suite:#06x}, not "
                                          f"the one the ClientHello lists ({SUITE_B:#06x})")
