"""Negative RFC 9846 cases: every stack, in both roles, against the misbehaving reference peer (the engine's TLS core
sending exactly one wrong thing, see engine.tls.misbehave).

The stack must refuse: the call that meets the fault (SSL_connect / SSL_accept on the C API, the binding's handshake
call, or the first SSL_read after a handshake the fault did not reach) returns < 0 with SSL_ERROR_SSL, with an
error-queue entry where the stack has a queue, and the stack sends the alert the RFC names, which the peer reads
with its own keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.harness import Harness, Pair
from conformance.outcome import Outcome, Role, SslError
from conformance.stacks.base import Endpoint, EndpointConfig
from engine.tls.alerts import AlertDescription as A
from engine.tls.misbehave import (
    BadInnerType,
    BadKeyUpdate,
    EmptyProtectedHandshake,
    InterleavedRecord,
    Misbehaviour,
    OversizedRecord,
    PlaintextAlert,
    ProtectedChangeCipherSpec,
    RepeatedMessage,
    UnexpectedMessage,
    WrongCertificateVerify,
    WrongFinished,
)
from specs.cases._misbehaving import MisbehavingPeer, alert_name, pair_with_misbehaving_peer

pytestmark = pytest.mark.needs("tls1_3", "error_codes")

ROLES = [Role.CLIENT, Role.SERVER]


def _refuses(h: Harness, stack: Endpoint, out: Outcome | None, peer: MisbehavingPeer, alert: A | None) -> None:
    assert out is not None and out.error is SslError.SSL_ERROR_SSL, (
        f"{stack.label} must refuse the peer's {type(peer.fault).__name__} with SSL_ERROR_SSL: {out}")
    if h.has("raw_return_values"):
        assert out.ret < 0, f"{stack.label}: {out.op} returned {out.ret}, not < 0"
    if h.has("error_queue"):
        assert out.reason, f"{stack.label}: SSL_ERROR_SSL without an error-queue entry: {out}"
    assert peer.fault.done, "the misbehaving peer never sent its fault"
    if alert is None:
        assert peer.received_alert is not None, f"{stack.label} must send a fatal alert, the peer received none"
        h.trace.note(f"{stack.label} sent {alert_name(peer.received_alert)}")
        return
    assert peer.received_alert == alert, (
        f"{stack.label} must answer with {alert.name} (RFC 9846), the peer received {alert_name(peer.received_alert)}")


def _handshake_fault(h: Harness, role: Role, fault: Misbehaviour, alert: A | None,
                     config: Callable[[EndpointConfig], EndpointConfig] | None = None,
                     client_certificate: bool = False, tls: dict[str, Any] | None = None,
                     shared_server: bool = False, then_data: bool = False, unreached: str | None = None,
                     optional: str | None = None) -> None:
    """Drive both handshakes; the stack fails its handshake call, or (when the fault came after the stack's last
    handshake message) its first read. ``config`` changes the stack's configuration, ``tls`` the peer's;
    ``shared_server``: the stack's server comes from the case's one server context (resumption). ``alert`` None:
    the RFC names no alert, any fatal alert will do. ``then_data``: when both handshakes complete (a stack that
    skipped the check), the peer sends data, so the stack's read reports what it did instead of waiting forever.
    ``unreached``: the failure when the handshake completed without the fault ever being made (a stack that
    declares what the fault needs, e.g. session_resumption, yet did not do it, e.g. offer its session).
    ``optional``: instead, the not-applicable reason when the fault was never made because the stack left out
    something the RFC lets it leave out (a TLS 1.2 client need not ask for a ticket)."""
    base = EndpointConfig(role=role, verify_peer=role is Role.CLIENT)
    pair, stack, peer = pair_with_misbehaving_peer(h, role, fault, config(base) if config else base,
                                                   client_certificate=client_certificate, tls=tls,
                                                   shared_server=shared_server)
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    out = result.client if role is Role.CLIENT else result.server
    if not fault.done and peer.error is None and out is not None and out.ok:
        if unreached is not None:
            raise AssertionError(unreached)  # the stack's own failure: never "not applicable"
        if optional is not None:
            h.not_applicable(optional)
    if out is not None and out.ok:
        if then_data and peer.error is None and peer.conn.handshake_complete:
            pair.drive_sides({role.other.value: lambda e: e.write(b"the handshake should have failed")})
        out = _read(pair, role)
    _take_alert(pair, peer)
    _refuses(h, stack, out, peer, alert)


def _take_alert(pair: Pair, peer: MisbehavingPeer) -> None:
    """Move what the stack sent and let the peer read it once (no waiting: a stack may have sent nothing)."""
    pair.settle()
    pair.call(peer, lambda e: e.read(100))


def _read(pair: Pair, role: Role) -> Outcome | None:
    result = pair.drive_sides({role.value: lambda e: e.read(100)})
    return result.client if role is Role.CLIENT else result.server


def _record_fault(h: Harness, role: Role, fault: Misbehaviour, alert: A,
                  config: Callable[[EndpointConfig], EndpointConfig] | None = None,
                  tls: dict[str, Any] | None = None) -> None:
    """A correct handshake, then the peer's wrong record: the stack's next read refuses it."""
    base = EndpointConfig(role=role, verify_peer=role is Role.CLIENT)
    pair, stack, peer = pair_with_misbehaving_peer(h, role, fault, config(base) if config else base, tls=tls)
    pair.handshake()
    peer.send_wrong_record()
    out = _read(pair, role)
    _take_alert(pair, peer)
    _refuses(h, stack, out, peer, alert)


@pytest.mark.clauses("RFC9846/4.4.4/finished-verify-data")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_wrong_finished_is_refused(h: Harness, role: Role) -> None:
    """The peer's Finished has one bit of verify_data flipped: decrypt_error."""
    _handshake_fault(h, role, WrongFinished(), A.decrypt_error)


@pytest.mark.clauses("RFC9846/4.4.3/certificate-verify-signature")
def test_server_certificate_verify_over_the_wrong_transcript_is_refused(h: Harness) -> None:
    """The server's CertificateVerify is a good signature over the wrong bytes (the peer's transcript and Finished
    cover it, so skipping the check would let the handshake complete): decrypt_error."""
    _handshake_fault(h, Role.CLIENT, WrongCertificateVerify(), A.decrypt_error)


@pytest.mark.clauses("RFC9846/4.4.3/certificate-verify-signature")
@pytest.mark.needs("request_client_certificate")  # the stack is the server that requires one
def test_client_certificate_verify_over_the_wrong_transcript_is_refused(h: Harness) -> None:
    """A server requiring a client certificate gets one whose CertificateVerify is a good signature over the wrong
    bytes: decrypt_error."""
    _handshake_fault(h, Role.SERVER, WrongCertificateVerify(), A.decrypt_error,
                     config=lambda c: c.with_(verify_peer=True), client_certificate=True)


@pytest.mark.clauses("RFC9846/4/unexpected-message")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_unexpected_handshake_message_is_refused(h: Harness, role: Role) -> None:
    """An EndOfEarlyData although no early data was offered, just before the peer's Finished: unexpected_message."""
    _handshake_fault(h, role, UnexpectedMessage(), A.unexpected_message)


@pytest.mark.clauses("RFC9846/4/unexpected-message")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_repeated_finished_is_refused(h: Harness, role: Role) -> None:
    """The peer sends its Finished twice; the second arrives after the handshake: unexpected_message."""
    _handshake_fault(h, role, RepeatedMessage(), A.unexpected_message)


@pytest.mark.clauses("RFC9846/5/unknown-inner-content-type")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_unknown_inner_content_type_is_refused(h: Harness, role: Role) -> None:
    """A record that decrypts correctly with inner content type 99: unexpected_message."""
    _record_fault(h, role, BadInnerType(), A.unexpected_message)


@pytest.mark.clauses("RFC9846/5.2/record-overflow")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_oversized_record_is_refused(h: Harness, role: Role) -> None:
    """A protected record with 2^14 + 1 bytes of plaintext: record_overflow."""
    _record_fault(h, role, OversizedRecord(), A.record_overflow)


@pytest.mark.clauses("RFC9846/4.7.3/key-update-bad-value")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_key_update_with_a_bad_value_is_refused(h: Harness, role: Role) -> None:
    """A KeyUpdate with request_update = 2: illegal_parameter."""
    _record_fault(h, role, BadKeyUpdate(), A.illegal_parameter)


@pytest.mark.clauses("RFC9846/5/unprotected-record-after-keys")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_plaintext_alert_after_the_handshake_is_refused(h: Harness, role: Role) -> None:
    """A fatal alert in the clear after the handshake: an unexpected record, answered with unexpected_message (not
    taken as the peer's alert)."""
    _record_fault(h, role, PlaintextAlert(), A.unexpected_message)


@pytest.mark.clauses("RFC9846/5/protected-change-cipher-spec")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_protected_change_cipher_spec_is_refused(h: Harness, role: Role) -> None:
    """After the handshake, a protected record whose inner content type is change_cipher_spec (content the byte 1):
    unexpected_message (only the clear compatibility record may be dropped)."""
    _record_fault(h, role, ProtectedChangeCipherSpec(), A.unexpected_message)


@pytest.mark.clauses("RFC9846/5.4/empty-handshake-or-alert")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_empty_protected_handshake_record_is_refused(h: Harness, role: Role) -> None:
    """After the handshake, a protected record whose inner plaintext is of type handshake with no content at all:
    unexpected_message."""
    _record_fault(h, role, EmptyProtectedHandshake(), A.unexpected_message)


@pytest.mark.clauses("RFC9846/2/application-data-before-finished")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_application_data_before_the_finished_is_refused(h: Harness, role: Role) -> None:
    """Between the peer's last handshake message before its Finished and the Finished, a protected application-data
    record under its handshake traffic keys: premature application data, unexpected_message (a stack that took it
    completes the handshake and hands the data to its reader)."""
    _handshake_fault(h, role, InterleavedRecord("application_data"), A.unexpected_message, then_data=True)


@pytest.mark.clauses("RFC9846/5/protected-change-cipher-spec")
@pytest.mark.parametrize("role", ROLES, ids=["stack-client", "stack-server"])
def test_protected_change_cipher_spec_in_the_handshake_is_refused(h: Harness, role: Role) -> None:
    """Just before the peer's Finished, a change_cipher_spec inside a protected record (under its handshake traffic
    keys), where a clear one would be dropped: unexpected_message, not dropped."""
    _handshake_fault(h, role, InterleavedRecord("change_cipher_spec"), A.unexpected_message, then_data=True)
