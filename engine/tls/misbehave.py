"""A misbehaving reference peer: exactly one wrong thing, at a chosen point, for negative conformance cases.

Test-only. A :class:`Misbehaviour` reaches a :class:`~engine.tls.connection.TLSConnection` only through its
``misbehaviour`` constructor argument, which ``engine.ssl`` never passes: nothing of this module is reachable through
the engine's C API. The connection calls :meth:`Misbehaviour.attach` once (handing over its record layer) and
:meth:`Misbehaviour.rewrite` on every list of instructions a state machine produced, before applying it. Everything
else about the connection stays correct, so the peer under test meets one fault and its answer (return value, error
code, error queue, alert on the wire) can be judged against the RFC.

Three kinds of fault:

* handshake faults rewrite the instruction list (:class:`WrongFinished`,
  :class:`UnexpectedMessage`, :class:`RepeatedMessage`): the bytes sent change, our own transcript and keys do not;
* record faults are sent on demand after the handshake with :meth:`Misbehaviour.wrong_record`
  (:class:`BadInnerType`, :class:`OversizedRecord`, :class:`BadKeyUpdate`), sealed with the connection's own write
  keys, so they decrypt correctly and are wrong only in the way named; or :class:`PlaintextAlert`, an alert in the
  clear where only protected records may come; or :class:`CorruptedRecord`, a sealed record with one ciphertext
  byte flipped.

Signature faults (:class:`WrongCertificateVerify`, :class:`WrongSignature12`) change the signer of the connection's
context (:meth:`Misbehaviour.context`), and :class:`DowngradeSentinel` changes our own random with the message, so
our transcript and keys cover what was sent and the only wrong thing is the one named: a peer that skipped the check
in question would complete the handshake, instead of failing later at the Finished for another reason.
:class:`WrongFinished` and :class:`CorruptedRecord` serve both versions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .config import TLSContext
from .handshake import HandshakeMachine, Instruction, SendHandshake
from .handshake12 import Handshake12
from .messages12 import DOWNGRADE_TLS12
from .record import HEADER_LEN, ContentType, RecordLayer
from .signatures import PrivateKey, Signer

__all__ = [
    "BadInnerType",
    "BadKeyUpdate",
    "CorruptedRecord",
    "DowngradeSentinel",
    "Misbehaviour",
    "OversizedRecord",
    "PlaintextAlert",
    "RepeatedMessage",
    "UnexpectedMessage",
    "WrongCertificateVerify",
    "WrongFinished",
    "WrongSignature12",
]

SERVER_HELLO = 2
SERVER_KEY_EXCHANGE = 12
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

    def context(self, context: TLSContext) -> TLSContext:
        """The context the connection is to use (signature faults change its signer); called once, first."""
        return context

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

    def _wrong(self, signer: Signer) -> Signer:
        """``signer``, signing the wrong bytes: the content with a zero byte appended (the first time only)."""
        def wrong(key: PrivateKey, scheme: int, data: bytes) -> bytes:
            if self.done:
                return signer(key, scheme, data)
            self.done = True
            return signer(key, scheme, data + b"\x00")

        return wrong

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
    """Our TLS 1.3 CertificateVerify is a valid signature with our key over the wrong bytes (the signed content with
    one zero byte appended): RFC 9846 section 4.4.3, decrypt_error. Our state machine makes the message as usual, so
    our transcript and Finished cover it: a peer that skipped the check would complete the handshake."""

    def context(self, context: TLSContext) -> TLSContext:
        return dataclasses.replace(context, sign=self._wrong(context.sign))


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


@dataclass
class CorruptedRecord(Misbehaviour):
    """A protected application-data record sealed under our write keys, then one byte of its ciphertext flipped (in
    the first block after a CBC record's explicit IV; inside the ciphertext of an AEAD record, before the tag): the
    MAC, tag or padding check must refuse it with bad_record_mac (RFC 5246 section 6.2.3, RFC 7366 section 3,
    RFC 9846 section 5.2), whatever the suite."""

    def wrong_record(self) -> bytes:
        record = bytearray(self._seal(ContentType.application_data, bytes(64)))
        record[HEADER_LEN + 16 + 2] ^= 0x01
        return bytes(record)


def _handshake_message(msg_type: int, body: bytes) -> bytes:
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body


def _first(instructions: list[Instruction], msg_type: int) -> bytes | None:
    return next((i.data for i in instructions if isinstance(i, SendHandshake) and i.data[:1] == bytes((msg_type,))),
                None)


def _swap(instructions: list[Instruction], old: bytes, new: bytes) -> list[Instruction]:
    return [SendHandshake(new, i.initial_client_hello) if isinstance(i, SendHandshake) and i.data == old else i
            for i in instructions]


@dataclass
class DowngradeSentinel(Misbehaviour):
    """A server that negotiates TLS 1.2 with a client that offered TLS 1.3, and ends its ServerHello.random with the
    TLS 1.2 downgrade sentinel, as a 1.3-capable server does when an attacker took TLS 1.3 out of the ClientHello:
    a client that offered TLS 1.3 must refuse with illegal_parameter (RFC 9846 section 4.1.3). Our own random changes
    with the message, so keys and transcript stay consistent."""

    def rewrite(self, machine: HandshakeMachine, instructions: list[Instruction]) -> list[Instruction]:
        found = _first(instructions, SERVER_HELLO)
        if self.done or found is None or not isinstance(machine, Handshake12):
            return instructions
        random = found[6:30] + DOWNGRADE_TLS12  # after type, length and legacy_version
        raw = found[:6] + random + found[38:]
        machine.server_random = random
        machine.messages[machine.messages.index(found)] = raw
        self.done = True
        return _swap(instructions, found, raw)


@dataclass
class WrongSignature12(Misbehaviour):
    """TLS 1.2: our signature is a valid one with our key over the wrong bytes (the signed content with one zero byte
    appended): the server's ServerKeyExchange (RFC 5246 section 7.4.3, RFC 8422 section 5.4) or the client's
    CertificateVerify (section 7.4.8), decrypt_error. Our state machine makes the message as usual, so our transcript
    and Finished cover it."""

    def context(self, context: TLSContext) -> TLSContext:
        return dataclasses.replace(context, sign12=self._wrong(context.sign12))
