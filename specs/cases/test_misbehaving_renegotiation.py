"""Negative secure-renegotiation cases (RFC 5746): every stack, in both roles, against the misbehaving reference peer
speaking TLS 1.2 whose hello carries a wrong renegotiation_info, in the initial handshake (sections 3.4, 3.6: it must
be empty) or in a renegotiation (sections 3.5, 3.7: it must carry the last handshake's verify_data).

A renegotiation here is the server's: the server sends a HelloRequest (the stack's through Endpoint.renegotiate when
the stack is the server, the peer's when the stack is the client), and the client answers with a new ClientHello.
The stack must refuse the wrong hello: its call returns < 0 with SSL_ERROR_SSL, with an error-queue entry where the
stack has one, and it sends handshake_failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.harness import Harness
from conformance.outcome import Outcome, Role
from conformance.stacks.base import Endpoint, EndpointConfig
from engine.tls.alerts import AlertDescription as A
from engine.tls.misbehave import BadRenegotiationInfo
from specs.cases._misbehaving import pair_with_misbehaving_peer
from specs.cases.test_misbehaving_peer import ROLES, _handshake_fault, _refuses, _take_alert

pytestmark = pytest.mark.needs("tls1_2", "error_codes")

TLS12_ONLY: dict[str, Any] = {"supported_versions": (0x0303,)}
CLIENT_HELLO, SERVER_HELLO = 1, 2


def _tls12(config: EndpointConfig) -> EndpointConfig:
    return config.with_(max_version="TLSv1.2")


def _hello_of(role: Role) -> int:
    """The hello the peer sends when the stack plays ``role``."""
    return SERVER_HELLO if role is Role.CLIENT else CLIENT_HELLO


@pytest.mark.clauses("RFC5246/7.4.1.4/renegotiation-info-initial")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_non_empty_renegotiation_info_in_the_initial_handshake_is_refused(h: Harness, role: Role) -> None:
    """The peer's first hello carries renegotiation_info with 12 bytes where it must be empty: handshake_failure."""
    fault = BadRenegotiationInfo(msg_type=_hello_of(role), kind="not-empty")
    _handshake_fault(h, role, fault, A.handshake_failure, _tls12, tls=TLS12_ONLY, then_data=True)


@pytest.mark.clauses("RFC5246/7.4.1.4/renegotiation-info-renegotiation")
@pytest.mark.parametrize("kind", ["flipped", "missing"])
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_wrong_renegotiation_info_in_a_renegotiation_is_refused(h: Harness, role: Role, kind: str) -> None:
    """After a correct handshake the server asks for a renegotiation; the peer's hello of the renegotiation carries
    renegotiation_info with its last byte flipped, or none: handshake_failure."""
    h.need("renegotiate")  # the end of the renegotiation is not looked for: the stack must refuse the hello
    fault = BadRenegotiationInfo(msg_type=_hello_of(role), nth=2, kind=kind)
    config = _tls12(EndpointConfig(role=role, verify_peer=role is Role.CLIENT))
    pair, stack, peer = pair_with_misbehaving_peer(h, role, fault, config, tls=TLS12_ONLY)
    pair.handshake()
    if role is Role.SERVER:
        started = pair.call(stack, lambda e: e.renegotiate())  # once: a retry would ask for a second one
        assert started.ok or started.retry, f"{stack.label} could not start a renegotiation: {started}"
    else:
        peer.request_renegotiation()
    sent: list[Outcome] = []

    def peer_reads(e: Endpoint) -> Outcome:
        """The peer reads (carrying out its side of the renegotiation); should the renegotiation complete (a stack
        that skipped the check), it sends data, so the stack's read reports that instead of waiting forever."""
        got = e.read(100)
        if len(peer.completed) >= 2 and not sent:
            sent.append(e.write(b"the renegotiation should have failed"))
        return got

    goals: dict[str, Callable[[Endpoint], Outcome]] = {role.value: lambda e: e.read(100),
                                                       role.other.value: peer_reads}
    result = pair.drive(goals["client"], goals["server"], until=role.value)
    out = result.client if role is Role.CLIENT else result.server
    _take_alert(pair, peer)
    _refuses(h, stack, out, peer, A.handshake_failure)
