"""What the client and server state machines share: the output instructions, dispatch, KeyUpdate.

A state machine never touches the record layer. Handling a message appends *instructions* to ``out`` in wire order:
:class:`SendHandshake` (bytes of one handshake message), :class:`SendChangeCipherSpec`, :class:`InstallKey` (a new
traffic secret for one direction and epoch), or a user-facing event. The connection applies them in that order, so
"ServerHello in the clear, then switch keys, then EncryptedExtensions" falls out of the list order.

Dispatch is one table lookup, ``TRANSITIONS[(state, handshake type)]``; a pair that is not in the table is the
single place where unexpected_message is raised (RFC 9846 section 4 and appendix A).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, Literal

from .alerts import AlertDescription, TLSAlertError
from .config import TLSConfig, TLSContext
from .events import Event, KeyUpdateReceived
from .keyschedule import CipherSuite, KeySchedule, Transcript, next_traffic_secret
from .messages import Extension, ExtensionType, KeyUpdate, Message, build_handshake
from .record import Epoch


@dataclass(frozen=True, slots=True)
class SendHandshake:
    data: bytes
    initial_client_hello: bool = False


@dataclass(frozen=True, slots=True)
class SendChangeCipherSpec:
    pass


@dataclass(frozen=True, slots=True)
class InstallKey:
    direction: Literal["read", "write"]
    epoch: Epoch
    suite: CipherSuite
    secret: bytes


_KNOWN_EXTENSIONS = frozenset(int(e) for e in ExtensionType)

Instruction = SendHandshake | SendChangeCipherSpec | InstallKey | Event


class HandshakeMachine:
    """Common part of :class:`~engine.tls.client13.ClientHandshake` and ``ServerHandshake``."""

    is_server: ClassVar[bool]
    CONNECTED: ClassVar[Enum]

    def __init__(self, config: TLSConfig, context: TLSContext) -> None:
        self.config = config
        self.ctx = context
        self.out: list[Instruction] = []
        self.transcript = Transcript()
        self.suite: CipherSuite | None = None
        self.schedule: KeySchedule | None = None
        self.client_app_secret = b""
        self.server_app_secret = b""
        self.exporter_secret = b""
        self.resumption_secret = b""
        self.peer_finished = False
        self.key_update_owed = False
        self.key_update_requested_pending = False
        self.state: Enum

    # -- dispatch ------------------------------------------------------------------------------------------------

    def handle(self, msg_type: int, body: bytes, raw: bytes) -> None:
        handler = self._handler(msg_type)
        if handler is None:
            raise TLSAlertError(
                AlertDescription.unexpected_message, f"handshake type {msg_type} in state {self.state.name}"
            )
        handler(body, raw)

    def _handler(self, msg_type: int) -> Callable[[bytes, bytes], None] | None:
        """The bound handler for ``(self.state, msg_type)`` from the role's transition table, if any."""
        raise NotImplementedError

    @property
    def paused(self) -> bool:
        """Waiting for the application (no further message may be processed until it answers)."""
        return False

    @property
    def connected(self) -> bool:
        return self.state is self.CONNECTED

    def take_output(self) -> list[Instruction]:
        out, self.out = self.out, []
        return out

    # -- helpers -------------------------------------------------------------------------------------------------

    def _send(self, msg: Message, *, initial_client_hello: bool = False) -> bytes:
        raw = build_handshake(msg)
        self.transcript.update(raw)
        self.out.append(SendHandshake(raw, initial_client_hello))
        return raw

    def _install(self, direction: Literal["read", "write"], epoch: Epoch, secret: bytes) -> None:
        assert self.suite is not None
        self.out.append(InstallKey(direction, epoch, self.suite, secret))

    def _order(self, exts: list[Extension]) -> list[Extension]:
        order = self.config.extension_order
        if not order:
            return exts
        rank = {t: i for i, t in enumerate(order)}
        return sorted(exts, key=lambda e: rank.get(e[0], len(order)))

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
