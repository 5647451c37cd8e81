"""A misbehaving reference peer: exactly one wrong thing, at a chosen point, for negative conformance cases.

Test-only. A :class:`Misbehaviour` reaches a :class:`~engine.tls.connection.TLSConnection` only through its
``misbehaviour`` constructor argument, which ``engine.ssl`` never passes: nothing of this module is reachable through
the engine's C API. The connection calls :meth:`Misbehaviour.attach` once (handing over its record layer) and
:meth:`Misbehaviour.rewrite` on every list of instructions a state machine produced, before applying it. Everything
else about the connection stays correct, so the peer under test meets one fault and its answer (return value, error
code, error queue, alert on the wire) can be judged against the RFC.

Two kinds of fault:

* handshake faults rewrite the instruction list (:class:`WrongFinished`, :class:`WrongCertificateVerify`,
  :class:`UnexpectedMessage`, :class:`RepeatedMessage`): the bytes sent change, our own transcript and keys do not;
* record faults are sent on demand after the handshake with :meth:`Misbehaviour.wrong_record`
  (:class:`BadInnerType`, :class:`OversizedRecord`, :class:`BadKeyUpdate`), sealed with the connection's own write
  keys, so they decrypt correctly and are wrong only in the way named; or :class:`PlaintextAlert`, an alert in the
  clear where only protected records may come.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .handshake import HandshakeMachine, Instruction, SendHandshake
from .messages import CertificateVerify
from .record import ContentType, RecordLayer
from .signatures import certificate_verify_input

__all__ = [
    "BadInnerType",
    "BadKeyUpdate",
    "Misbehaviour",
    "OversizedRecord",
    "PlaintextAlert",
    "RepeatedMessage",
    "UnexpectedMessage",
    "WrongCertificateVerify",
    "WrongFinished",
]

FINISHED = 20
CERTIFICATE_VERIFY = 15
END_OF_EARLY_DATA = 5
KEY_UPDATE = 24


@dataclass
class Misbehaviour:
    """Behaves correctly; subclasses change one thing. ``done`` says whether the fault was sent."""

    done: bool = field(default=False, init=False)
    record_layer: RecordLayer | None = field(default=None, init=False, repr=False)

    def attach(self, record_layer: RecordLayer) -> None:
        self.record_layer = record_layer

    def rewrite(self, machine: HandshakeMachine, instructions: list[Instruction]) -> list[Instruction]:
        return instructions

    def wrong_record(self) -> bytes:
        """The wrong record(s) of a record fault, sealed under the current write keys (empty for other faults)."""
        return b""

    # -- helpers -------------------------------------------------------------------------------------------------

    def _replace_first(self, instructions: list[Instruction], msg_type: int, new: list[bytes]) -> list[Instruction]:
        """``instructions`` with the first handshake message of ``msg_type`` replaced by ``new`` (once per
        connection)."""
        if self.done:
            return instructions
        out: list[Instruction] = []
        for item in instructions:
            if not self.done and isinstance(item, SendHandshake) and item.data[:1] == bytes((msg_type,)):
                out += [SendHandshake(data, item.initial_client_hello) for data in new]
                self.done = True
            else:
                out.append(item)
        return out

    def _seal(self, content_type: int, data: bytes, max_fragment: int = 1 << 14) -> bytes:
        if self.record_layer is None:
            raise RuntimeError("the misbehaviour was never attached to a connection")
        self.done = True
        return self.record_layer.seal(content_type, data, max_fragment)


@dataclass
class WrongFinished(Misbehaviour):
    """Our Finished carries verify_data with its last byte flipped (RFC 9846 section 4.4.4: decrypt_error)."""

    def rewrite(self, machine: HandshakeMachine, instructions: list[Instruction]) -> list[Instruction]:
        def flipped(raw: bytes) -> list[bytes]:
            return [raw[:-1] + bytes((raw[-1] ^ 0x01,))]

        found = next((i.data for i in instructions if isinstance(i, SendHandshake) and i.data[:1] == b"\x14"), None)
        return instructions if found is None else self._replace_first(instructions, FINISHED, flipped(found))


@dataclass
class WrongCertificateVerify(Misbehaviour):
    """Our CertificateVerify is a valid signature with our key, but over the wrong transcript hash (the one that
    already includes the CertificateVerify and anything after it): RFC 9846 section 4.4.3, decrypt_error."""

    def rewrite(self, machine: HandshakeMachine, instructions: list[Instruction]) -> list[Instruction]:
        found = next((i.data for i in instructions if isinstance(i, SendHandshake)
                      and i.data[:1] == bytes((CERTIFICATE_VERIFY,))), None)
        key = machine.config.private_key
        if found is None or key is None:
            return instructions
        original = CertificateVerify.parse(found[4:])
        content = certificate_verify_input(machine.is_server, machine.transcript.digest())
        body = CertificateVerify(original.algorithm, machine.ctx.sign(key, original.algorithm, content)).build_body()
        raw = bytes((CERTIFICATE_VERIFY,)) + len(body).to_bytes(3, "big") + body
        return self._replace_first(instructions, CERTIFICATE_VERIFY, [raw])


@dataclass
class UnexpectedMessage(Misbehaviour):
    """An EndOfEarlyData (which no peer can expect: no early data was offered) just before our Finished
    (RFC 9846 section 4: unexpected_message)."""

    def rewrite(self, machine: HandshakeMachine, instructions: list[Instruction]) -> list[Instruction]:
        found = next((i.data for i in instructions if isinstance(i, SendHandshake) and i.data[:1] == b"\x14"), None)
        if found is None:
            return instructions
        return self._replace_first(instructions, FINISHED, [bytes((END_OF_EARLY_DATA, 0, 0, 0)), found])


@dataclass
class RepeatedMessage(Misbehaviour):
    """Our Finished, sent twice (the second arrives when the handshake is over: unexpected_message)."""

    def rewrite(self, machine: HandshakeMachine, instructions: list[Instruction]) -> list[Instruction]:
        found = next((i.data for i in instructions if isinstance(i, SendHandshake) and i.data[:1] == b"\x14"), None)
        return instructions if found is None else self._replace_first(instructions, FINISHED, [found, found])


@dataclass
class BadInnerType(Misbehaviour):
    """A protected record that decrypts correctly but whose inner content type is 99, which TLS does not define
    (RFC 9846 section 5: unexpected_message)."""

    def wrong_record(self) -> bytes:
        return self._seal(99, b"not a known content type")


@dataclass
class OversizedRecord(Misbehaviour):
    """A protected application-data record whose plaintext is 2^14 + 1 bytes (RFC 9846 section 5.2:
    record_overflow)."""

    def wrong_record(self) -> bytes:
        size = (1 << 14) + 1
        return self._seal(ContentType.application_data, b"\x00" * size, max_fragment=size)


@dataclass
class BadKeyUpdate(Misbehaviour):
    """A KeyUpdate whose request_update is 2, neither of the two defined values (RFC 9846 section 4.7.3:
    illegal_parameter)."""

    def wrong_record(self) -> bytes:
        return self._seal(ContentType.handshake, bytes((KEY_UPDATE, 0, 0, 1, 2)))


@dataclass
class PlaintextAlert(Misbehaviour):
    """A fatal handshake_failure alert sent in the clear after the handshake, where every record but a
    compatibility change_cipher_spec is protected: an unexpected record (RFC 9846 section 5: unexpected_message)."""

    def wrong_record(self) -> bytes:
        self.done = True
        return bytes((ContentType.alert, 3, 3, 0, 2, 2, 40))
