"""Floods of records that carry nothing: change_cipher_spec records and user_canceled warnings after a ClientHello,
empty application-data records after the handshake. RFC 9846 allows each of them on its own; a receiver must still
stop a peer that sends nothing else, with a fatal unexpected_message alert and SSL_ERROR_SSL.

The flooding peer is the engine's TLS core (``engine.tls``) used directly as a misbehaving client: it completes the
parts of the handshake it needs, sends the flood record by record into the server endpoint of the stack under test,
and afterwards reads what the server sent back, so the alert on the wire is checked on every stack (its
description is decrypted by the core)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.harness import Harness, Pair
from conformance.outcome import Outcome, SslError
from conformance.stacks.base import Endpoint
from engine.tls import TLSAlertError, TLSConfig, TLSConnection
from engine.tls.alerts import AlertDescription
from specs.cases._misbehaving import alert_name

MAX_FLOOD = 1000  # records a receiver may take before it must have stopped (OpenSSL 3.0 stops within 33)
CCS_RECORD = bytes.fromhex("140303000101")
USER_CANCELED_WARNING = bytes.fromhex("150303000201" "5a")


def _peer() -> TLSConnection:
    return TLSConnection(TLSConfig(verify_peer=False, server_name="server.example"), "client")


def _flood(h: Harness, pair: Pair, next_record: Callable[[], bytes], call: Callable[[Endpoint], Outcome],
           what: str) -> tuple[int, Outcome]:
    """Feed records one at a time, calling ``call`` after each, until the server stops asking for more."""
    server = pair.server
    for sent in range(1, MAX_FLOOD + 1):
        record = next_record()
        assert server.put_incoming(record) == len(record), "the server's transport refused the record"
        out = call(server)
        if out.error is not SslError.SSL_ERROR_WANT_READ:
            pair.trace.call(server.label, out)
            h.trace.note(f"the server stopped the {what} at record {sent}")
            return sent, out
    raise AssertionError(f"the server took {MAX_FLOOD} {what} records in a row without stopping")


def _check_stop(h: Harness, pair: Pair, peer: TLSConnection, out: Outcome) -> None:
    assert out.error is SslError.SSL_ERROR_SSL, f"a flood must end in SSL_ERROR_SSL: {out}"
    if h.has("raw_return_values"):
        assert out.ret < 0, out
    if h.has("error_queue"):
        assert out.reason, f"SSL_ERROR_SSL without an error-queue entry: {out}"
    answer = pair.server.take_outgoing()
    try:
        peer.receive_bytes(answer)
    except TLSAlertError as exc:
        assert not exc.sent_by_us, f"the peer itself objected to what the server sent: {exc}"
        h.trace.note(f"alert from the server: {alert_name(exc.alert)}")
        assert exc.alert is AlertDescription.unexpected_message, f"the alert must be unexpected_message: {exc.alert}"
        return
    raise AssertionError(f"the server sent no fatal alert ({len(answer)} bytes after the flood)")


def _after_client_hello(h: Harness) -> tuple[Pair, TLSConnection]:
    pair = h.pair()
    peer = _peer()
    hello = peer.data_to_send()
    assert pair.server.put_incoming(hello) == len(hello)
    first = pair.call(pair.server, lambda e: e.do_handshake())
    assert first.error is SslError.SSL_ERROR_WANT_READ, f"the server must wait for the client's Finished: {first}"
    return pair, peer


@pytest.mark.clauses("RFC9846/5/ccs-flood-bounded")
@pytest.mark.needs("server_role", "error_codes", "tls1_3")  # the flooding core offers TLS 1.3 only
def test_change_cipher_spec_flood_after_client_hello(h: Harness) -> None:
    pair, peer = _after_client_hello(h)
    _, out = _flood(h, pair, lambda: CCS_RECORD, lambda e: e.do_handshake(), "change_cipher_spec")
    _check_stop(h, pair, peer, out)


@pytest.mark.clauses("RFC9846/6/warning-alert-flood-bounded")
@pytest.mark.needs("server_role", "error_codes", "tls1_3")  # the flooding core offers TLS 1.3 only
def test_warning_alert_flood_after_client_hello(h: Harness) -> None:
    pair, peer = _after_client_hello(h)
    _, out = _flood(h, pair, lambda: USER_CANCELED_WARNING, lambda e: e.do_handshake(), "user_canceled warning")
    _check_stop(h, pair, peer, out)


@pytest.mark.clauses("RFC9846/5/empty-record-flood-bounded")
@pytest.mark.needs("server_role", "error_codes", "tls1_3")
def test_empty_record_flood_after_the_handshake(h: Harness) -> None:
    pair = h.pair()
    peer = _peer()
    for _ in range(10):
        data = peer.data_to_send()
        if data:
            assert pair.server.put_incoming(data) == len(data)
        pair.call(pair.server, lambda e: e.do_handshake())
        peer.receive_bytes(pair.server.take_outgoing())
        if peer.handshake_complete:
            break
    assert peer.handshake_complete, "the handshake with the flooding peer did not complete"
    finished = peer.data_to_send()
    assert pair.server.put_incoming(finished) == len(finished)
    done = pair.call(pair.server, lambda e: e.do_handshake())
    assert done.ok, f"the server's handshake did not complete: {done}"
    peer.receive_bytes(pair.server.take_outgoing())  # tickets
    peer.events()

    def empty() -> bytes:
        peer.send_application_data(b"")
        return peer.data_to_send()

    _, out = _flood(h, pair, empty, lambda e: e.read(100), "empty application-data")
    _check_stop(h, pair, peer, out)


@pytest.mark.clauses("RFC9846/5/ccs-other-value")
@pytest.mark.needs("server_role", "error_codes", "tls1_3")  # the peer core offers TLS 1.3 only
def test_change_cipher_spec_with_another_value_is_refused(h: Harness) -> None:
    """After the ClientHello, a clear change_cipher_spec record whose content is not the single byte 1 but the two
    bytes 01 00: the server aborts with unexpected_message (only the one-byte record may be dropped)."""
    pair, peer = _after_client_hello(h)
    record = bytes.fromhex("14030300020100")
    assert pair.server.put_incoming(record) == len(record)
    out = pair.call(pair.server, lambda e: e.do_handshake())
    _check_stop(h, pair, peer, out)
