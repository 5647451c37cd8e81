"""The misbehaving reference peer as a harness endpoint: the engine's sans-IO TLS core
(:class:`engine.tls.TLSConnection`, TLS 1.3 or, with ``tls`` settings, TLS 1.2) with one :mod:`engine.tls.misbehave`
fault, joined to the stack under test by the harness's link. It records the alert the stack sent it, which it can
read because it holds the keys."""

from __future__ import annotations

import dataclasses
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from conformance.certs import SERVER_NAME, default_pki
from conformance.harness import Harness, Pair
from conformance.link import Link
from conformance.outcome import Outcome, Role, SslError
from conformance.stacks.base import Endpoint, EndpointConfig
from conformance.stacks.capi_endpoint import CApiEndpoint
from engine.tls.alerts import AlertDescription, TLSAlertError
from engine.tls.config import TLSConfig
from engine.tls.connection import TLSConnection
from engine.tls.events import (
    AlertReceived,
    ApplicationData,
    CloseNotifyReceived,
    HandshakeComplete,
    NewSessionTicketReceived,
)
from engine.tls.misbehave import Misbehaviour
from engine.tls.session13 import Ticket13
from engine.tls.signatures import PrivateKey

WANT_READ = SslError.SSL_ERROR_WANT_READ


def _config(role: Role, *, client_certificate: bool, tls: dict[str, Any] | None = None) -> TLSConfig:
    """The peer's configuration; ``tls``: TLSConfig fields to change (e.g. ``supported_versions=(0x0303,)``)."""
    pki = default_pki()
    identity = pki.server if role is Role.SERVER else (pki.client if client_certificate else None)
    chain = [x509.load_pem_x509_certificate(identity.cert_pem)] if identity else []
    key = load_pem_private_key(identity.key_pem, None) if identity else None
    config = TLSConfig(certificate_chain=chain, private_key=key if isinstance(key, PrivateKey) else None,
                       trusted_roots=[x509.load_pem_x509_certificate(pki.ca_pem)],
                       server_name=SERVER_NAME if role is Role.CLIENT else None)
    return dataclasses.replace(config, **(tls or {}))


class MisbehavingPeer(Endpoint):
    """One side of a connection played by the engine's TLS core with ``fault``."""

    def __init__(self, role: Role, fault: Misbehaviour, label: str, *, client_certificate: bool = False,
                 tls: dict[str, Any] | None = None) -> None:
        self.role = role
        self.label = label
        self.fault = fault
        self.conn = TLSConnection(_config(role, client_certificate=client_certificate, tls=tls), role.value,
                                  misbehaviour=fault)
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.received_alert: int | None = None  # what the stack under test told us
        self.warnings: list[tuple[int, int]] = []  # TLS 1.2 warning alerts the stack sent, (level, description)
        self.error: TLSAlertError | None = None
        self.tickets: list[Ticket13] = []  # TLS 1.3 tickets the stack sent (read() keeps them)
        self.completed: list[HandshakeComplete] = []  # the handshakes completed (read() keeps them)

    def _pump(self) -> TLSAlertError | None:
        try:
            if self.inbox:
                data, self.inbox = bytes(self.inbox), bytearray()
                self.conn.receive_bytes(data)
            else:
                self.conn.start_handshake()
        except TLSAlertError as exc:
            self.error = exc
            if not exc.sent_by_us:
                self.received_alert = int(exc.alert)
        self.outbox += self.conn.data_to_send()
        return self.error

    def _failed(self, op: str, args: str = "") -> Outcome:
        assert self.error is not None
        reason = f"{alert_name(self.error.alert)}: {self.error}"
        return Outcome(op, -1, SslError.SSL_ERROR_SSL, reason=reason, args=args)

    def do_handshake(self) -> Outcome:
        if self._pump() is not None:
            return self._failed("SSL_do_handshake")
        if self.conn.handshake_complete:
            return Outcome("SSL_do_handshake", 1, SslError.SSL_ERROR_NONE)
        return Outcome("SSL_do_handshake", -1, WANT_READ)

    def read(self, size: int) -> Outcome:
        if self._pump() is not None:
            return self._failed("SSL_read", str(size))
        data = bytearray()
        for event in self.conn.events():
            if isinstance(event, ApplicationData):
                data += event.data
            elif isinstance(event, NewSessionTicketReceived) and event.session13 is not None:
                self.tickets.append(event.session13)
            elif isinstance(event, HandshakeComplete):
                self.completed.append(event)
            elif isinstance(event, AlertReceived):
                self.warnings.append((event.level, event.description))
            elif isinstance(event, CloseNotifyReceived):
                return Outcome("SSL_read", 0, SslError.SSL_ERROR_ZERO_RETURN)
        if data:
            return Outcome("SSL_read", len(data), SslError.SSL_ERROR_NONE, bytes(data), args=str(size))
        return Outcome("SSL_read", -1, WANT_READ, args=str(size))

    def write(self, data: bytes) -> Outcome:
        self.conn.send_application_data(data)
        self.outbox += self.conn.data_to_send()
        return Outcome("SSL_write", len(data), SslError.SSL_ERROR_NONE, args=str(len(data)))

    def shutdown(self) -> Outcome:
        self.conn.close()
        self.outbox += self.conn.data_to_send()
        return Outcome("SSL_shutdown", 0, SslError.SSL_ERROR_NONE)

    def request_renegotiation(self) -> None:
        """TLS 1.2: start a renegotiation (server: HelloRequest; client: ClientHello)."""
        self.conn.renegotiate()
        self.outbox += self.conn.data_to_send()

    def send_wrong_record(self) -> None:
        """Put the fault's wrong record on the wire (record faults, after the handshake)."""
        self.outbox += self.conn.data_to_send()
        self.outbox += self.fault.wrong_record()

    # --- network side -------------------------------------------------------------------------------------
    def take_outgoing(self, limit: int | None = None) -> bytes:
        size = len(self.outbox) if limit is None else min(limit, len(self.outbox))
        data = bytes(self.outbox[:size])
        del self.outbox[:size]
        return data

    def outgoing_pending(self) -> int:
        return len(self.outbox)

    def put_incoming(self, data: bytes) -> int:
        self.inbox += data
        return len(data)

    def put_eof(self) -> None:
        pass


def pair_with_misbehaving_peer(h: Harness, stack_role: Role, fault: Misbehaviour,
                               config: EndpointConfig | None = None, *, client_certificate: bool = False,
                               tls: dict[str, Any] | None = None,
                               shared_server: bool = False) -> tuple[Pair, Endpoint, MisbehavingPeer]:
    """The stack under test in ``stack_role`` against the misbehaving peer in the other role, over a whole link.
    A C-API stack drives its handshake with SSL_connect / SSL_accept. ``tls``: the peer's TLSConfig changes.
    ``shared_server``: the stack's server comes from one context per case (``StackAdapter.endpoint_factory``), so a
    later connection can resume a session."""
    h.need("client_role" if stack_role is Role.CLIENT else "server_role", stacks=(h.stack,))
    label = f"{stack_role.value}({h.stack.name})"
    config = config or EndpointConfig(role=stack_role, verify_peer=stack_role is Role.CLIENT)
    if shared_server:
        factory = getattr(h, "_shared_server_factory", None)
        if factory is None:
            factory = h.stack.endpoint_factory(config)
            h._shared_server_factory = factory  # type: ignore[attr-defined]
        stack = factory(label)
    else:
        stack = h.stack.endpoint(config, label)
    h.endpoints.append(stack)
    if isinstance(stack, CApiEndpoint):
        stack.attach_trace(h.trace)
        stack.handshake_function = "SSL_connect" if stack_role is Role.CLIENT else "SSL_accept"
    peer = MisbehavingPeer(stack_role.other, fault, f"{stack_role.other.value}(misbehaving engine core: "
                           f"{type(fault).__name__})", client_certificate=client_certificate, tls=tls)
    h.trace.note(f"pair: {h.stack.name} as {stack_role.value} against the misbehaving peer ({type(fault).__name__})")
    client, server = (stack, peer) if stack_role is Role.CLIENT else (peer, stack)
    return Pair(client, server, Link.whole(), h.trace), stack, peer


def alert_name(alert: int | None) -> str:
    if alert is None:
        return "no alert"
    try:
        return AlertDescription(alert).name
    except ValueError:
        return f"alert {alert}"
