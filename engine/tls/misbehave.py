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

A flight fault (:class:`InterleavedRecord`) puts one protected record of another content type into our own flight,
just before our Finished (through a :class:`~engine.tls.handshake.SendRecord` instruction, which no state machine
makes): it is sealed under the write keys of that point of the flight, so it decrypts correctly and is wrong only
in where it stands.

Hello faults (:class:`HelloFault`: :class:`WrongPskBinder`, :class:`PreSharedKeyNotLast`,
:class:`UnofferedPskIdentity`, :class:`ResumptionEmsMismatch`, :class:`BadRenegotiationInfo`) change a ClientHello or
ServerHello through the context's ``edit_handshake`` hook as the message is built, before it enters our transcript:
our keys and Finished cover what was sent, as for the signature faults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes

from .config import TLSContext
from .handshake import HandshakeMachine, Instruction, SendHandshake, SendRecord
from .handshake12 import Handshake12
from .keyschedule import CIPHER_SUITES, KeySchedule
from .messages import ClientHello, Extension, ServerHello, build_handshake, find_extension
from .messages import ExtensionType as X
from .messages12 import DOWNGRADE_TLS12, build_renegotiation_info, parse_renegotiation_info
from .record import HEADER_LEN, ContentType, RecordLayer
from .server13 import Server13Handshake
from .session13 import OfferedPsks, Ticket13, binder, build_selected_identity
from .signatures import PrivateKey, Signer

__all__ = [
    "BadInnerType",
    "BadKeyUpdate",
    "BadRenegotiationInfo",
    "CorruptedRecord",
    "DowngradeSentinel",
    "EmptyProtectedHandshake",
    "HelloFault",
    "InterleavedRecord",
    "Misbehaviour",
    "OversizedCiphertext12",
    "OversizedRecord",
    "PlaintextAlert",
    "PostHandshakeAuthFault",
    "PreSharedKeyNotLast",
    "ProtectedChangeCipherSpec",
    "RepeatedMessage",
    "Resumption12Fault",
    "ResumptionEmsMismatch",
    "SessionWithoutSuite",
    "UnexpectedMessage",
    "UnofferedPskIdentity",
    "UnsolicitedCertificateRequest",
    "WrongCertificateVerify",
    "WrongFinished",
    "WrongPskBinder",
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

    def _seal_inner(self, inner: bytes) -> bytes:
        """A TLS 1.3 protected record around ``inner`` taken as the whole TLSInnerPlaintext (content, type byte), so
        that the record layer's own rules (a clear change_cipher_spec, no empty handshake record) are not applied."""
        layer = self.record_layer
        if layer is None or layer._write is None or not layer._write.conceals_type:
            raise RuntimeError("the misbehaviour needs a TLS 1.3 connection with its write keys")
        self.done = True
        return layer._write.seal_record(ContentType.application_data, inner)

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
class InterleavedRecord(Misbehaviour):
    """One protected record of another content type between two of our handshake messages: just before our Finished,
    after the messages before it went out, under the write keys of that point (TLS 1.3: our handshake traffic keys;
    TLS 1.2: the new keys our ChangeCipherSpec switched to). ``kind``:

    * ``"application_data"``: premature application data, before our Finished (RFC 9846 section 2: application data
      must not be sent before the Finished; sections 5 and 6.2: unexpected_message. TLS 1.2: RFC 5246 section 7.4.9,
      the Finished is the first record under the new keys);
    * ``"change_cipher_spec"`` (TLS 1.3 only): a change_cipher_spec (the byte 1) inside a protected record, in the
      middle of the handshake where a clear one would be dropped (RFC 9846 section 5: unexpected_message)."""

    kind: str = "application_data"

    def rewrite(self, machine: HandshakeMachine, instructions: list[Instruction]) -> list[Instruction]:
        finished = _first(instructions, FINISHED)
        if self.done or finished is None:
            return instructions
        at = next(i for i, item in enumerate(instructions) if isinstance(item, SendHandshake) and item.data == finished)
        self.done = True
        return [*instructions[:at], SendRecord(self._record), *instructions[at:]]

    def _record(self, layer: RecordLayer) -> bytes:
        if self.kind == "change_cipher_spec":
            return self._seal_inner(bytes((1, ContentType.change_cipher_spec)))
        if layer._write is None:
            raise RuntimeError("the misbehaviour needs write keys before our Finished")
        return layer.seal(ContentType.application_data, b"application data before the Finished")


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
class ProtectedChangeCipherSpec(Misbehaviour):
    """A change_cipher_spec (the byte 1) inside a protected record, after the handshake (RFC 9846 section 5: a
    protected change_cipher_spec record is unexpected_message)."""

    def wrong_record(self) -> bytes:
        return self._seal_inner(bytes((1, ContentType.change_cipher_spec)))


@dataclass
class EmptyProtectedHandshake(Misbehaviour):
    """A protected record whose inner plaintext is a handshake record with no content (RFC 9846 section 5.4:
    zero-length Handshake or Alert content is unexpected_message)."""

    def wrong_record(self) -> bytes:
        return self._seal_inner(bytes((ContentType.handshake,)))


@dataclass
class OversizedCiphertext12(Misbehaviour):
    """A TLS 1.2 application-data record whose ciphertext is 2^14 + 2049 bytes, one more than RFC 5246 section 6.2.3
    allows (section 7.2.2: record_overflow); its contents are not a valid ciphertext, so a receiver that skips the
    length check fails on the MAC instead (bad_record_mac)."""

    def wrong_record(self) -> bytes:
        size = (1 << 14) + 2049
        self.done = True
        return bytes((ContentType.application_data, 3, 3)) + size.to_bytes(2, "big") + bytes(size)


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


# -- faults in a hello message, made as the message is built -------------------------------------------------------
#
# These use the context's ``edit_handshake`` hook (engine.tls.handshake): the message is changed before it enters our
# transcript and goes out, so our handshake keys and Finished cover the changed bytes, and a peer that skipped the
# check in question would go on with the handshake instead of failing later for another reason.

CLIENT_HELLO = 1


def _edit_extensions(raw: bytes, change: Callable[[list[Extension]], list[Extension]]) -> bytes:
    """The ClientHello or ServerHello ``raw`` with its extensions changed by ``change``."""
    hello: ClientHello | ServerHello = (ClientHello.parse(raw[4:]) if raw[0] == CLIENT_HELLO
                                        else ServerHello.parse(raw[4:]))
    hello.extensions = change(list(hello.extensions))
    return build_handshake(hello)


def _without(etype: int) -> Callable[[list[Extension]], list[Extension]]:
    return lambda exts: [e for e in exts if e[0] != etype]


def _replacing(etype: int, value: Callable[[bytes], bytes]) -> Callable[[list[Extension]], list[Extension]]:
    return lambda exts: [(t, value(v)) if t == etype else (t, v) for t, v in exts]


def _flip_last(data: bytes) -> bytes:
    return data[:-1] + bytes((data[-1] ^ 0x01,))


@dataclass
class HelloFault(Misbehaviour):
    """Changes the ``nth`` ClientHello (``msg_type`` 1) or ServerHello (2) we build, if ``applies`` says the built
    message is the one meant (e.g. it resumes a session); subclasses say how in :meth:`change`."""

    msg_type: int = CLIENT_HELLO
    nth: int = 1
    seen: int = field(default=0, init=False)

    def context(self, context: TLSContext) -> TLSContext:
        return dataclasses.replace(context, edit_handshake=self._edit)

    def _edit(self, raw: bytes) -> bytes:
        if self.done or raw[:1] != bytes((self.msg_type,)):
            return raw
        self.seen += 1
        if self.seen != self.nth or not self.applies(raw):
            return raw
        self.done = True
        return self.change(raw)

    def applies(self, raw: bytes) -> bool:
        return True

    def change(self, raw: bytes) -> bytes:
        return raw


def _has_extension(raw: bytes, etype: int) -> bool:
    hello: ClientHello | ServerHello = (ClientHello.parse(raw[4:]) if raw[0] == CLIENT_HELLO
                                        else ServerHello.parse(raw[4:]))
    return find_extension(hello.extensions, etype) is not None


@dataclass
class WrongPskBinder(HelloFault):
    """TLS 1.3 client: the binder of the ticket we offer has its last byte flipped (it ends the ClientHello, as
    pre_shared_key is the last extension): the server must abort with decrypt_error (RFC 9846 sections 4.3.11 and
    6.2)."""

    def applies(self, raw: bytes) -> bool:
        return _has_extension(raw, X.pre_shared_key)

    def change(self, raw: bytes) -> bytes:
        return _flip_last(raw)


@dataclass
class PreSharedKeyNotLast(HelloFault):
    """TLS 1.3 client: pre_shared_key moved in front of the extension before it, so it is not the last extension; its
    binder is computed again over the ClientHello up to the binders list where it now stands, with ``ticket``'s PSK.
    RFC 9846 section 4.3.11: the server must abort with illegal_parameter."""

    ticket: Ticket13 | None = None

    def applies(self, raw: bytes) -> bool:
        return self.ticket is not None and _has_extension(raw, X.pre_shared_key)

    def change(self, raw: bytes) -> bytes:
        assert self.ticket is not None
        hello = ClientHello.parse(raw[4:])
        psk = hello.extensions.pop()
        hello.extensions.insert(len(hello.extensions) - 1, psk)
        offered = OfferedPsks.parse(psk[1])
        moved = build_handshake(hello)
        truncated = moved[:moved.index(psk[1]) + len(psk[1]) - len(offered.binders_bytes())]
        suite = CIPHER_SUITES[self.ticket.cipher_suite]
        digest = hashes.Hash(suite.hash_algorithm())
        digest.update(truncated)
        new = OfferedPsks(offered.identities,
                          [binder(suite, KeySchedule(suite, self.ticket.psk).binder_key(), digest.finalize())])
        return _edit_extensions(raw, lambda exts: (
            [*exts[:-2], (X.pre_shared_key, new.build()), exts[-2]]))


@dataclass
class UnofferedPskIdentity(HelloFault):
    """TLS 1.3 server resuming a ticket: the ServerHello's pre_shared_key selects identity 1, where the client offered
    only identity 0. RFC 9846 section 4.3.11: the client must abort with illegal_parameter."""

    msg_type: int = SERVER_HELLO

    def applies(self, raw: bytes) -> bool:
        return _has_extension(raw, X.pre_shared_key)

    def change(self, raw: bytes) -> bytes:
        return _edit_extensions(raw, _replacing(X.pre_shared_key, lambda _: build_selected_identity(1)))


@dataclass
class ResumptionEmsMismatch(HelloFault):
    """TLS 1.2 resumption across a change of the extended master secret (RFC 7627 section 5.3, where the peer must
    abort). ClientHello (``msg_type`` 1): we offer a session that has an extended master secret and leave
    extended_master_secret out. ServerHello (2) of an abbreviated handshake (it echoes the client's session id):
    ``add`` False leaves the extension out although the session has one; ``add`` True puts it in although the
    session has none (the client offered it)."""

    add: bool = False

    def applies(self, raw: bytes) -> bool:
        if raw[0] == CLIENT_HELLO:
            return bool(ClientHello.parse(raw[4:]).legacy_session_id)
        return self.resuming is not None and ServerHello.parse(raw[4:]).legacy_session_id_echo == self.resuming

    resuming: bytes | None = None
    """ServerHello: the session id of the session resumed (set by the case)."""

    def change(self, raw: bytes) -> bytes:
        if self.add:
            return _edit_extensions(raw, lambda exts: [*_without(X.extended_main_secret)(exts),
                                                       (X.extended_main_secret, b"")])
        return _edit_extensions(raw, _without(X.extended_main_secret))


@dataclass
class BadRenegotiationInfo(HelloFault):
    """RFC 5746: our ``nth`` ClientHello / ServerHello with a wrong renegotiation_info. ``kind``: "flipped" (the
    renegotiated_connection value with its last byte flipped: the verify_data of the last handshake does not
    match, sections 3.5 and 3.7), "missing" (left out of a renegotiation's hello, sections 3.5 and 3.7),
    "not-empty" (in the initial handshake, 12 bytes where it must be empty, sections 3.4 and 3.6). The peer must
    abort with handshake_failure."""

    kind: str = "flipped"

    def change(self, raw: bytes) -> bytes:
        if self.kind == "missing":
            return _edit_extensions(raw, _without(X.renegotiation_info))
        if self.kind == "not-empty":
            value = build_renegotiation_info(bytes(range(1, 13)))
            return _edit_extensions(raw, lambda exts: [*_without(X.renegotiation_info)(exts),
                                                       (X.renegotiation_info, value)])
        return _edit_extensions(raw, _replacing(X.renegotiation_info, lambda v: build_renegotiation_info(
            _flip_last(parse_renegotiation_info(v)))))


# -- post-handshake client authentication (RFC 9846 section 4.7.2) ---------------------------------------------------

CERTIFICATE = 11
CERTIFICATE_REQUEST = 13
SIGNATURE_ALGORITHMS = 13


@dataclass
class PostHandshakeAuthFault(Misbehaviour):
    """One wrong thing in a post-handshake authentication (TLS 1.3), the handshake itself correct.

    Client side, in the answer to a post-handshake CertificateRequest (the only Certificate a TLS 1.3 client sends
    with a non-empty certificate_request_context):

    * ``"context"``: its Certificate carries the request's context with one byte flipped (RFC 9846 section 4.5.1),
      changed as the message is built, so our CertificateVerify and Finished cover what was sent;
    * ``"finished"``: its Finished carries verify_data with the last byte flipped (section 4.5.3).

    Server side: ``"no-signature-algorithms"``: a post-handshake CertificateRequest without the mandatory
    signature_algorithms extension (section 4.4.2), changed as it is built."""

    what: str = "context"

    def context(self, context: TLSContext) -> TLSContext:
        if self.what in ("context", "no-signature-algorithms"):
            return dataclasses.replace(context, edit_handshake=self._edit)
        return context

    def _edit(self, raw: bytes) -> bytes:
        if self.done or len(raw) < 5:
            return raw
        if self.what == "context" and raw[0] == CERTIFICATE and raw[4]:
            self.done = True
            return raw[:5] + bytes((raw[5] ^ 0x01,)) + raw[6:]
        if self.what == "no-signature-algorithms" and raw[0] == CERTIFICATE_REQUEST and raw[4]:
            self.done = True  # (a request in the handshake has an empty context)
            n = raw[4]
            head, rest = raw[5 : 5 + n], raw[5 + n + 2 :]
            kept = b""
            at = 0
            while at + 4 <= len(rest):
                size = int.from_bytes(rest[at + 2 : at + 4], "big")
                if int.from_bytes(rest[at : at + 2], "big") != SIGNATURE_ALGORITHMS:
                    kept += rest[at : at + 4 + size]
                at += 4 + size
            body = bytes((n,)) + head + len(kept).to_bytes(2, "big") + kept
            return bytes((CERTIFICATE_REQUEST,)) + len(body).to_bytes(3, "big") + body
        return raw

    def rewrite(self, machine: HandshakeMachine, instructions: list[Instruction]) -> list[Instruction]:
        if self.what != "finished":
            return instructions
        answer = any(isinstance(i, SendHandshake) and i.data[:1] == bytes((CERTIFICATE,)) and i.data[4:5] != b"\x00"
                     for i in instructions)  # fmt: skip
        found = next((i.data for i in instructions if isinstance(i, SendHandshake) and i.data[:1] == b"\x14"), None)
        if not answer or found is None:
            return instructions
        return self._replace_first(instructions, FINISHED, [found[:-1] + bytes((found[-1] ^ 0x01,))])


@dataclass
class UnsolicitedCertificateRequest(Misbehaviour):
    """A server that lets its connection send a post-handshake CertificateRequest although the client's hello had
    no post_handshake_auth extension (RFC 9846 section 4.7.2: the client must answer with unexpected_message)."""

    def rewrite(self, machine: HandshakeMachine, instructions: list[Instruction]) -> list[Instruction]:
        if isinstance(machine, Server13Handshake) and not machine.client_pha:
            machine.client_pha = True
            self.done = True
        return instructions


NEW_SESSION_TICKET = 4


@dataclass
class Resumption12Fault(HelloFault):
    """TLS 1.2 server, one wrong thing about tickets or resumption, made as the message is built (so our transcript
    and Finished cover it):

    * ``"ticket-echo-not-empty"``: our ServerHello's SessionTicket extension carries two bytes (RFC 5077 section
      3.2: it is empty);
    * ``"empty-ticket"``: our NewSessionTicket carries an empty ticket (section 3.3 allows it: "no ticket after
      all"), so the client holds no ticket for the session;
    * ``"other-suite"``: the ServerHello of an abbreviated handshake (it echoes ``resuming``, the session id) names
      another cipher suite than the session's (RFC 5246 section 7.4.1.3: a resumed session keeps its suite); our own
      keys stay those of the session's suite, as a client that skipped the check would compute them."""

    kind: str = "ticket-echo-not-empty"
    resuming: bytes | None = None
    other_suite: int = 0xC02C

    def __post_init__(self) -> None:
        self.msg_type = NEW_SESSION_TICKET if self.kind == "empty-ticket" else SERVER_HELLO

    def applies(self, raw: bytes) -> bool:
        if self.kind == "ticket-echo-not-empty":
            return _has_extension(raw, X.session_ticket)
        if self.kind == "other-suite":
            return self.resuming is not None and ServerHello.parse(raw[4:]).legacy_session_id_echo == self.resuming
        return True

    def change(self, raw: bytes) -> bytes:
        if self.kind == "ticket-echo-not-empty":
            return _edit_extensions(raw, _replacing(X.session_ticket, lambda _: b"\x01\x02"))
        if self.kind == "empty-ticket":
            body = raw[4:8] + b"\x00\x00"  # the lifetime hint kept, a ticket of length 0
            return bytes((NEW_SESSION_TICKET,)) + len(body).to_bytes(3, "big") + body
        at = 4 + 2 + 32
        at += 1 + raw[at]  # the session id echo
        return raw[:at] + self.other_suite.to_bytes(2, "big") + raw[at + 2 :]


@dataclass
class SessionWithoutSuite(HelloFault):
    """TLS 1.2 client offering a session (a session id, or a ticket in SessionTicket): ``suite``, the session's
    cipher suite, is taken out of our ClientHello's cipher_suites, so we offer the session without its suite, which
    RFC 5246 section 7.4.1.2 forbids. The server must not resume it (section 7.4.1.3: its suite comes from the
    client's list): it goes on with a full handshake under a suite still listed, or refuses the hello."""

    suite: int = 0

    def applies(self, raw: bytes) -> bool:
        hello = ClientHello.parse(raw[4:])
        ticket = find_extension(hello.extensions, X.session_ticket)
        return self.suite in hello.cipher_suites and bool(hello.legacy_session_id or ticket)

    def change(self, raw: bytes) -> bytes:
        hello = ClientHello.parse(raw[4:])
        hello.cipher_suites = [s for s in hello.cipher_suites if s != self.suite]
        return build_handshake(hello)
