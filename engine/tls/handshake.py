"""What every handshake state machine shares, whatever the protocol version: instructions, dispatch, hand-off.

A state machine never touches the record layer. Handling a message appends *instructions* to ``out`` in wire order:
:class:`SendHandshake` (bytes of one handshake message), :class:`SendChangeCipherSpec`, :class:`InstallKey` (a new
record protection for one direction and epoch), or a user-facing event. The connection applies them in that order,
so "ServerHello in the clear, then switch keys, then EncryptedExtensions" falls out of the list order.

Dispatch is one table lookup, ``TRANSITIONS[(state, handshake type)]`` -> :class:`Transition` (handler and the states
it may leave the machine in); a pair that is not in the table is the single place where unexpected_message is
raised (RFC 9846 section 4 and appendix A, RFC 5246 section 7.4). :meth:`HandshakeMachine._set_state` is the only
writer of ``state``; after each handler the landing state is checked against the table, so the tables are also the
state diagrams (:func:`diagram`).

Version negotiation is a hand-off: the machine that saw the hello decides the version, builds the machine of that
version (``successor``) and stops (state ``HANDED_OFF``); the connection then feeds the successor. The version-
specific parts live in ``client13``/``server13`` (with :class:`KeyUpdate13`) and ``client12``/``server12``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Literal

from cryptography import x509

from .alerts import AlertDescription, TLSAlertError
from .config import TLSConfig, TLSContext
from .events import Event, KeyUpdateReceived
from .keyschedule import CipherSuite, KeySchedule, Transcript, next_traffic_secret, resumption_psk
from .maxfraglen import SetMaxFragmentLength
from .messages import Extension, ExtensionType, HandshakeBody, KeyUpdate, Message, build_handshake
from .record import AEAD13, Epoch, RecordLayer, RecordProtection
from .recordlimit import SetRecordSizeLimit
from .signatures import PrivateKey


@dataclass(frozen=True, slots=True)
class SendHandshake:
    data: bytes
    initial_client_hello: bool = False


@dataclass(frozen=True, slots=True)
class SendChangeCipherSpec:
    pass


@dataclass(frozen=True, slots=True)
class SendAlert:
    """A non-fatal alert the handshake sends itself (TLS 1.2 no_renegotiation warning, RFC 5246 section 7.2.2)."""

    level: int
    description: int


@dataclass(frozen=True, slots=True)
class SendRecord:
    """Test-only: no state machine makes one; :mod:`engine.tls.misbehave` puts one into a flight to send a record of
    another type between two handshake messages. The connection sends the bytes ``make`` returns for its record
    layer at that point, after the messages before it, so under the write keys installed by then."""

    make: Callable[[RecordLayer], bytes]


@dataclass(frozen=True, slots=True)
class InstallKey:
    direction: Literal["read", "write"]
    epoch: Epoch
    protection: RecordProtection


@dataclass(frozen=True, slots=True)
class SkipEarlyData:
    """RFC 9846 section 4.3.10, a server that does not take the client's early data: from now on drop up to
    ``limit`` bytes of it: records that do not decrypt under the new read key (``undecryptable``), or, after a
    HelloRetryRequest, application_data records (``application_data``)."""

    kind: Literal["undecryptable", "application_data"]
    limit: int


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of a transition table: the handler and every state it may leave the machine in."""

    handler: Callable[[Any, bytes, bytes], None]
    targets: frozenset[Enum]


def transition(handler: Callable[[Any, bytes, bytes], None], *targets: Enum) -> Transition:
    return Transition(handler, frozenset(targets))


TransitionTable = Mapping[tuple[Enum, int], Transition]


def diagram(table: TransitionTable) -> list[str]:
    """The state diagram of a table, one ``STATE --message--> TARGET | TARGET`` line per row."""
    from .messages import HandshakeType

    lines = []
    for (state, msg_type), row in table.items():
        try:
            name = "ChangeCipherSpec" if msg_type == CHANGE_CIPHER_SPEC else HandshakeType(msg_type).name
        except ValueError:
            name = str(msg_type)
        targets = " | ".join(sorted(t.name for t in row.targets))
        lines.append(f"{state.name} --{name}--> {targets}")
    return lines


_KNOWN_EXTENSIONS = frozenset(int(e) for e in ExtensionType)

Instruction = (
    SendHandshake | SendChangeCipherSpec | SendAlert | InstallKey | SkipEarlyData | SetRecordSizeLimit
    | SetMaxFragmentLength | SendRecord | Event
)

CHANGE_CIPHER_SPEC = 0x100 + 20
"""Pseudo message type of a TLS 1.2 change_cipher_spec record in the transition tables (outside the u8 range of
handshake types, so it never collides with one)."""


class HandshakeMachine:
    """The version-neutral part of every client and server state machine."""

    is_server: ClassVar[bool]
    version: ClassVar[int]
    CONNECTED: ClassVar[Enum]
    TRANSITIONS: ClassVar[TransitionTable]
    renegotiations_started: int = 0  # TLS 1.2: renegotiation handshakes begun on this connection (Handshake12)
    we_closed: bool = False  # our close_notify is queued (TLSConnection.close): no handshake message may follow

    def __init__(self, config: TLSConfig, context: TLSContext, initial: Enum) -> None:
        self.config = config
        self.ctx = context
        self.out: list[Instruction] = []
        self.state: Enum = initial
        self.successor: HandshakeMachine | None = None
        self.transcript = Transcript()
        self.peer_finished = False
        self.key_update_owed = False
        self.max_fragment_mode = 0  # RFC 6066 section 4: the negotiated max_fragment_length mode (0: none)

    # -- dispatch ------------------------------------------------------------------------------------------------

    def handle(self, msg_type: int, body: bytes, raw: bytes) -> None:
        row = self.TRANSITIONS.get((self.state, msg_type))
        if row is None:
            raise TLSAlertError(
                AlertDescription.unexpected_message, f"handshake type {msg_type} in state {self.state.name}"
            )
        row.handler(self, body, raw)
        if self.state not in row.targets:
            raise TLSAlertError(AlertDescription.internal_error, f"handler left the machine in {self.state.name}")

    def _set_state(self, state: Enum) -> None:
        """The only writer of ``state``."""
        self.state = state

    def _hand_off(self, successor: HandshakeMachine, handed_off: Enum) -> None:
        """The hello picked another version: ``successor`` takes over from here (see the module docstring)."""
        self.successor = successor
        self._set_state(handed_off)

    @property
    def paused(self) -> bool:
        """Waiting for the application (no further message may be processed until it answers)."""
        return False

    @property
    def connected(self) -> bool:
        return self.state is self.CONNECTED

    @property
    def established(self) -> bool:
        """A handshake has completed on this connection (application data may flow, also during a renegotiation)."""
        return self.connected

    @property
    def version_known(self) -> bool:
        """The hello that picks the protocol version has been processed (a server: the ClientHello; a client: the
        ServerHello), so ``version`` is this connection's. A machine made by a hand-off knows it from the start."""
        return True

    def start(self) -> None:
        """Client: send the first ClientHello. A server starts by receiving one."""

    @property
    def ccs_may_arrive(self) -> bool:
        """RFC 9846 section 5: a compatibility change_cipher_spec may arrive (after the first ClientHello, before
        the peer's Finished)."""
        return not self.peer_finished

    def send_client_certificate(self, chain: list[x509.Certificate], key: PrivateKey | None) -> None:
        raise RuntimeError("no client certificate is awaited")

    def finish_certificate_check(self, accepted: bool) -> None:
        raise RuntimeError("no certificate check is awaited")

    def on_change_cipher_spec(self) -> bool:
        """A change_cipher_spec record arrived; True if this version's machine consumed it (TLS 1.2), False if it
        is for the connection's TLS 1.3 compatibility rule."""
        return False

    def send_key_update(self, request: bool) -> None:
        raise TLSAlertError(AlertDescription.internal_error, "KeyUpdate needs TLS 1.3")

    def renegotiate(self, resume: bool = False) -> None:
        """Start a renegotiation (TLS 1.2 only): a client sends a ClientHello (offering the current session when
        ``resume``), a server a HelloRequest."""
        raise RuntimeError("renegotiation needs TLS 1.2")

    @property
    def renegotiating(self) -> bool:
        return False

    def take_output(self) -> list[Instruction]:
        out, self.out = self.out, []
        return out

    # -- helpers -------------------------------------------------------------------------------------------------

    def _send(self, msg: Message | HandshakeBody, *, initial_client_hello: bool = False) -> bytes:
        raw = build_handshake(msg)
        if self.ctx.edit_handshake is not None:  # test-only: engine.tls.misbehave
            raw = self.ctx.edit_handshake(raw)
        self.transcript.update(raw)
        self.out.append(SendHandshake(raw, initial_client_hello))
        return raw

    def _install_protection(self, direction: Literal["read", "write"], epoch: Epoch, prot: RecordProtection) -> None:
        self.out.append(InstallKey(direction, epoch, prot))

    def _order(self, exts: list[Extension]) -> list[Extension]:
        order = self.config.extension_order
        if not order:
            return exts
        rank = {t: i for i, t in enumerate(order)}
        return sorted(exts, key=lambda e: rank.get(e[0], len(order)))


class Handshake13(HandshakeMachine):
    """What the TLS 1.3 client and server share: the key schedule state and KeyUpdate (RFC 9846 section 4.7.3)."""

    version = 0x0304

    def __init__(self, config: TLSConfig, context: TLSContext, initial: Enum) -> None:
        super().__init__(config, context, initial)
        self.suite: CipherSuite | None = None
        self.schedule: KeySchedule | None = None
        self.client_app_secret = b""
        self.server_app_secret = b""
        self.exporter_secret = b""
        self.resumption_secret = b""
        self.key_update_requested_pending = False

    def _install(self, direction: Literal["read", "write"], epoch: Epoch, secret: bytes) -> None:
        assert self.suite is not None
        self._install_protection(direction, epoch, AEAD13(self.suite, secret))

    def _ticket_psk(self, nonce: bytes) -> bytes:
        """The PSK of a NewSessionTicket (RFC 9846 section 4.7.1) from this handshake's resumption secret."""
        assert self.suite is not None
        if self.schedule is None:
            return resumption_psk(self.suite, self.resumption_secret, nonce)
        return self.schedule.resumption_psk(self.resumption_secret, nonce)

    @property
    def _own_app_secret(self) -> bytes:
        return self.server_app_secret if self.is_server else self.client_app_secret

    # -- KeyUpdate (RFC 9846 section 4.7.3) ------------------------------------------------------------------------

    def _on_key_update(self, body: bytes, raw: bytes) -> None:
        msg = KeyUpdate.parse(body)
        assert self.suite is not None
        if self.is_server:
            self.client_app_secret = next_traffic_secret(self.suite, self.client_app_secret)
            self._install("read", Epoch.application, self.client_app_secret)
        else:
            self.server_app_secret = next_traffic_secret(self.suite, self.server_app_secret)
            self._install("read", Epoch.application, self.server_app_secret)
        # The peer's KeyUpdate answers any request we had outstanding.
        self.key_update_requested_pending = False
        if msg.request_update:
            self.key_update_owed = True
        self.out.append(KeyUpdateReceived(msg.request_update))

    def send_key_update(self, request: bool) -> None:
        """Send KeyUpdate under the current keys, then switch our write keys to the next generation.

        RFC 9846 section 4.7.3 forbids a second update_requested before the peer answered the first; such a
        request is sent as update_not_requested.
        """
        assert self.suite is not None
        request = request and not self.key_update_requested_pending
        raw = build_handshake(KeyUpdate(request))
        self.out.append(SendHandshake(raw))
        if request:
            self.key_update_requested_pending = True
        self.key_update_owed = False
        if self.is_server:
            self.server_app_secret = next_traffic_secret(self.suite, self.server_app_secret)
            self._install("write", Epoch.application, self.server_app_secret)
        else:
            self.client_app_secret = next_traffic_secret(self.suite, self.client_app_secret)
            self._install("write", Epoch.application, self.client_app_secret)


def check_extension_types(
    exts: list[Extension], offered: set[int], allowed: frozenset[int], where: str, *, may_be_unsolicited: int = -1
) -> None:
    """RFC 9846 section 4.3: an answer to an extension we did not offer is unsupported_extension; a known extension
    in a message it does not belong to is illegal_parameter."""
    for etype, _ in exts:
        if etype not in offered and etype != may_be_unsolicited:
            raise TLSAlertError(AlertDescription.unsupported_extension, f"unsolicited extension {etype} in {where}")
        if etype in _KNOWN_EXTENSIONS and etype not in allowed:
            raise TLSAlertError(AlertDescription.illegal_parameter, f"extension {etype} not allowed in {where}")
