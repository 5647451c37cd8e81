"""The shared part of the state machines (engine/tls/handshake.py): instructions in wire order, dispatch through
the transition table (the single place unexpected_message is raised, RFC 9846 section 4 and appendix A), KeyUpdate
(section 4.7.3) and the extension placement check (section 4.3).

The two machines are driven against each other directly, without a record layer: the handshake messages of one
side's ``SendHandshake`` instructions are handed to the other side's ``handle``.
"""

from __future__ import annotations

from enum import Enum

import pytest
from tls13_testlib import PKI, client_config, server_config

from engine.tls import AlertDescription, KeyUpdateReceived, TLSAlertError, TLSContext
from engine.tls.client13 import TRANSITIONS as CLIENT_TRANSITIONS
from engine.tls.client13 import Client13Handshake, ClientState
from engine.tls.handshake import (
    HandshakeMachine,
    InstallKey,
    Instruction,
    SendHandshake,
    check_extension_types,
    diagram,
    transition,
)
from engine.tls.messages import HandshakeType, KeyUpdate, build_handshake, parse_handshake
from engine.tls.record import AEAD13, Epoch
from engine.tls.server13 import TRANSITIONS as SERVER_TRANSITIONS
from engine.tls.server13 import Server13Handshake, ServerState

A = AlertDescription
H = HandshakeType
# every assigned handshake type, plus unassigned ones (RFC 9846 section 4: also unexpected_message)
ALL_TYPES = sorted({int(t) for t in HandshakeType} | {0, 3, 6, 99, 255})


def _messages(out: list[Instruction]) -> list[bytes]:
    """The complete handshake messages in ``out``, in order."""
    msgs: list[bytes] = []
    for item in out:
        if isinstance(item, SendHandshake):
            data = item.data
            while data:
                n = 4 + int.from_bytes(data[1:4], "big")
                msgs.append(data[:n])
                data = data[n:]
    return msgs


def _table(machine: HandshakeMachine) -> dict[tuple[Enum, int], object]:
    return dict(CLIENT_TRANSITIONS if isinstance(machine, Client13Handshake) else SERVER_TRANSITIONS)


def _rejects_everything_unexpected(machine: HandshakeMachine, raw: bytes) -> None:
    """Every type not in the table for the current state is unexpected_message, before the body is looked at, and
    leaves the machine as it was."""
    state = machine.state
    table = _table(machine)
    for msg_type in ALL_TYPES:
        if (state, msg_type) in table:
            continue
        for body in (raw[4:], b"", b"\xff" * 3):
            with pytest.raises(TLSAlertError) as info:
                machine.handle(msg_type, body, bytes([msg_type]) + raw[1:])
            assert info.value.alert == A.unexpected_message and info.value.sent_by_us, (state, msg_type)
            assert machine.state is state
            assert machine.take_output() == []


def _deliver(machine: HandshakeMachine, msgs: list[bytes], seen: set[Enum]) -> list[Instruction]:
    out: list[Instruction] = []
    for raw in msgs:
        seen.add(machine.state)
        _rejects_everything_unexpected(machine, raw)
        machine.handle(raw[0], raw[4:], raw)
        out += machine.take_output()
    return out


def _connect(
    pki: PKI, *, client_cert: bool = False, seen: set[Enum] | None = None
) -> tuple[Client13Handshake, Server13Handshake]:
    seen = set() if seen is None else seen
    ckw: dict[str, object] = {"certificate_chain": [pki.client.cert], "private_key": pki.client.key}
    client = Client13Handshake(client_config(pki, **(ckw if client_cert else {})), TLSContext())
    server = Server13Handshake(server_config(pki, request_client_certificate=client_cert), TLSContext())
    client.start()
    flight1 = _messages(client.take_output())
    flight2 = _messages(_deliver(server, flight1, seen))
    flight3 = _messages(_deliver(client, flight2, seen))
    _deliver(server, flight3, seen)
    assert client.connected and server.connected
    return client, server


# -- dispatch: (state, type) -> handler, anything else unexpected_message ----------------------------------------


def _post_handshake_auth(pki: PKI, seen: set[Enum], *, deferred: bool) -> None:
    """RFC 9846 section 4.6.2 between the machines: the server's CertificateRequest after the handshake, the
    client's Certificate / CertificateVerify / Finished (chosen by the application when ``deferred``)."""
    ckw: dict[str, object] = {} if deferred else {"certificate_chain": [pki.client.cert], "private_key": pki.client.key}
    client = Client13Handshake(
        client_config(pki, post_handshake_auth=True, defer_client_certificate=deferred, **ckw), TLSContext()
    )
    server = Server13Handshake(
        server_config(pki, request_client_certificate=True, post_handshake_only=True), TLSContext()
    )
    client.start()
    flight2 = _messages(_deliver(server, _messages(client.take_output()), seen))
    _deliver(server, _messages(_deliver(client, flight2, seen)), seen)
    assert client.connected and server.connected
    server.request_post_handshake_auth()
    answer = _deliver(client, _messages(server.take_output()), seen)
    if deferred:
        seen.add(client.state)
        assert client.state is ClientState.PHA_WAIT_APP_CERT
        _rejects_everything_unexpected(client, b"\x0d\x00\x00\x00")
        client.send_client_certificate([pki.client.cert], pki.client.key)
        answer = client.take_output()
    _deliver(server, _messages(answer), seen)
    assert server.connected and server.peer_chain == [pki.client.cert]


def test_every_pair_outside_the_tables_is_unexpected_message(pki: PKI) -> None:
    seen: set[Enum] = set()
    _connect(pki, client_cert=True, seen=seen)
    _post_handshake_auth(pki, seen, deferred=False)
    _post_handshake_auth(pki, seen, deferred=True)
    # every state that has an entry in a table was visited with every other type thrown at it
    table_states = {state for state, _ in CLIENT_TRANSITIONS} | {state for state, _ in SERVER_TRANSITIONS}
    assert table_states - {ClientState.CONNECTED, ServerState.CONNECTED} <= seen


def test_connected_states_reject_everything_but_tickets_and_key_updates(pki: PKI) -> None:
    client, server = _connect(pki)
    for machine in (client, server):
        _rejects_everything_unexpected(machine, build_handshake(KeyUpdate(False)))


def test_a_server_does_not_accept_a_new_session_ticket(pki: PKI) -> None:
    # RFC 9846 section 4.7.1: only servers send NewSessionTicket
    _, server = _connect(pki)
    assert (ServerState.CONNECTED, H.new_session_ticket) not in SERVER_TRANSITIONS
    with pytest.raises(TLSAlertError) as info:
        server.handle(H.new_session_ticket, b"", b"\x04\x00\x00\x00")
    assert info.value.alert == A.unexpected_message


def test_client_before_start_accepts_nothing(pki: PKI) -> None:
    client = Client13Handshake(client_config(pki), TLSContext())
    assert client.state is ClientState.START
    _rejects_everything_unexpected(client, b"\x02\x00\x00\x00")


def test_tables_name_rfc_states() -> None:
    # RFC 9846 appendix A state names
    client_states = {s.name for s, _ in CLIENT_TRANSITIONS}
    server_states = {s.name for s, _ in SERVER_TRANSITIONS}
    assert client_states == {"WAIT_SH", "WAIT_EE", "WAIT_CERT_CR", "WAIT_CERT", "WAIT_CV", "WAIT_FINISHED", "CONNECTED"}
    assert server_states <= {s.name for s in ServerState}
    assert {"START", "WAIT_FINISHED", "CONNECTED"} <= server_states


# -- instructions: wire order ------------------------------------------------------------------------------------


def test_first_client_hello_is_marked_and_alone(pki: PKI) -> None:
    client = Client13Handshake(client_config(pki), TLSContext())
    client.start()
    out = client.take_output()
    assert len(out) == 1 and isinstance(out[0], SendHandshake) and out[0].initial_client_hello
    assert out[0].data[0] == H.client_hello
    assert client.take_output() == []  # taking empties


def test_server_hello_in_the_clear_then_keys_then_encrypted_extensions(pki: PKI) -> None:
    client = Client13Handshake(client_config(pki), TLSContext())
    server = Server13Handshake(server_config(pki), TLSContext())
    client.start()
    [ch] = _messages(client.take_output())
    server.handle(ch[0], ch[4:], ch)
    out = server.take_output()
    kinds = [_kind(item) for item in out]
    sh = kinds.index("ServerHello")
    write_hs = kinds.index("write:handshake")
    ee = kinds.index("EncryptedExtensions")
    assert sh < write_hs < ee
    # RFC 9846 appendix E.4: the client offered a session id, so a dummy change_cipher_spec follows the ServerHello
    assert sh < kinds.index("SendChangeCipherSpec") < write_hs
    # the server's Finished goes under handshake keys; its application write keys come after it
    assert ee < kinds.index("Finished") < kinds.index("write:application")


def _kind(item: Instruction) -> str:
    if isinstance(item, InstallKey):
        return f"{item.direction}:{item.epoch.name}"
    if isinstance(item, SendHandshake):
        return type(parse_handshake(item.data)).__name__
    return type(item).__name__


def test_install_key_carries_epoch_suite_and_secret(pki: PKI) -> None:
    client, _ = _connect(pki)
    client.send_key_update(False)
    install = [i for i in client.take_output() if isinstance(i, InstallKey)]
    assert len(install) == 1
    assert install[0].direction == "write" and install[0].epoch is Epoch.application
    assert isinstance(install[0].protection, AEAD13)
    assert install[0].protection.suite.code == 0x1301 and len(install[0].protection.secret) == 32


# -- KeyUpdate (RFC 9846 section 4.7.3) --------------------------------------------------------------------------


def _key_updates(out: list[Instruction]) -> list[bool]:
    msgs = [parse_handshake(m) for m in _messages(out)]
    return [m.request_update for m in msgs if isinstance(m, KeyUpdate)]


def test_send_key_update_then_switch_write_keys(pki: PKI) -> None:
    client, _ = _connect(pki)
    client.send_key_update(True)
    out = client.take_output()
    assert isinstance(out[0], SendHandshake) and isinstance(out[1], InstallKey)  # sent under the old keys
    assert _key_updates(out) == [True]


def test_second_request_before_an_answer_is_sent_as_not_requested(pki: PKI) -> None:
    client, server = _connect(pki)
    client.send_key_update(True)
    first = client.take_output()
    client.send_key_update(True)
    assert _key_updates(first + client.take_output()) == [True, False]
    # the peer's answer clears the pending request
    [ku] = _messages(first)
    server.handle(ku[0], ku[4:], ku)
    out = server.take_output()
    assert KeyUpdateReceived(True) in out
    assert [i.direction for i in out if isinstance(i, InstallKey)] == ["read"]
    assert server.key_update_owed
    server.send_key_update(False)
    [answer] = _messages(server.take_output())
    client.handle(answer[0], answer[4:], answer)
    assert KeyUpdateReceived(False) in client.take_output()
    client.send_key_update(True)
    assert _key_updates(client.take_output()) == [True]


def test_successive_key_updates_give_new_secrets(pki: PKI) -> None:
    client, _ = _connect(pki)
    secrets = []
    for _ in range(3):
        client.send_key_update(False)
        secrets += [
            i.protection.secret
            for i in client.take_output()
            if isinstance(i, InstallKey) and isinstance(i.protection, AEAD13)
        ]
    assert len(set(secrets)) == 3


def test_key_update_with_a_bad_value_is_illegal_parameter(pki: PKI) -> None:
    client, _ = _connect(pki)
    with pytest.raises(TLSAlertError) as info:
        client.handle(H.key_update, b"\x02", b"\x18\x00\x00\x01\x02")
    assert info.value.alert == A.illegal_parameter


def test_key_update_with_trailing_bytes_is_decode_error(pki: PKI) -> None:
    client, _ = _connect(pki)
    with pytest.raises(TLSAlertError) as info:
        client.handle(H.key_update, b"\x00\x00", b"\x18\x00\x00\x02\x00\x00")
    assert info.value.alert == A.decode_error


# -- extension placement (RFC 9846 section 4.3) ------------------------------------------------------------------


def test_extensions_we_offered_and_that_belong_are_accepted() -> None:
    check_extension_types([(16, b""), (0, b"")], {0, 16, 43}, frozenset({0, 16}), "EncryptedExtensions")


def test_unsolicited_extension_is_unsupported_extension() -> None:
    with pytest.raises(TLSAlertError) as info:
        check_extension_types([(16, b"")], {0}, frozenset({0, 16}), "EncryptedExtensions")
    assert info.value.alert == A.unsupported_extension


def test_known_extension_in_the_wrong_message_is_illegal_parameter() -> None:
    # supported_versions (43) offered in ClientHello, but it does not belong in EncryptedExtensions
    with pytest.raises(TLSAlertError) as info:
        check_extension_types([(43, b"")], {43}, frozenset({0, 16}), "EncryptedExtensions")
    assert info.value.alert == A.illegal_parameter


def test_unknown_offered_extension_is_not_judged_by_placement() -> None:
    check_extension_types([(0xFAFA, b"")], {0xFAFA}, frozenset(), "EncryptedExtensions")


def test_one_extension_may_be_allowed_unsolicited() -> None:
    # e.g. a server's supported_groups in EncryptedExtensions
    check_extension_types([(10, b"")], set(), frozenset({10}), "EncryptedExtensions", may_be_unsolicited=10)


# -- the tables are the state diagrams: every handler lands where its row says -----------------------------------


def test_transition_targets_are_states_of_the_same_machine() -> None:
    for table in (CLIENT_TRANSITIONS, SERVER_TRANSITIONS):
        for (state, _), row in table.items():
            assert row.targets, state
            assert all(type(t) is type(state) for t in row.targets), (state, row.targets)


def test_every_handler_lands_in_a_legal_state(pki: PKI, monkeypatch: pytest.MonkeyPatch) -> None:
    landed: list[tuple[Enum, int, Enum]] = []
    original = HandshakeMachine.handle

    def watching(self: HandshakeMachine, msg_type: int, body: bytes, raw: bytes) -> None:
        before = self.state
        original(self, msg_type, body, raw)
        landed.append((before, msg_type, self.state))

    monkeypatch.setattr(HandshakeMachine, "handle", watching)
    _connect(pki)
    _connect(pki, client_cert=True)
    assert landed
    for before, msg_type, after in landed:
        table = CLIENT_TRANSITIONS if isinstance(before, ClientState) else SERVER_TRANSITIONS
        assert after in table[(before, msg_type)].targets


def test_a_handler_that_lands_outside_its_row_is_an_internal_error(pki: PKI, monkeypatch: pytest.MonkeyPatch) -> None:
    row = SERVER_TRANSITIONS[(ServerState.START, H.client_hello)]
    monkeypatch.setitem(
        SERVER_TRANSITIONS, (ServerState.START, H.client_hello), transition(row.handler, ServerState.START)
    )
    client = Client13Handshake(client_config(pki), TLSContext())
    server = Server13Handshake(server_config(pki), TLSContext())
    client.start()
    [ch] = _messages(client.take_output())
    with pytest.raises(TLSAlertError) as info:
        server.handle(ch[0], ch[4:], ch)
    assert info.value.alert == A.internal_error


def test_diagram_comes_from_the_table() -> None:
    lines = diagram(CLIENT_TRANSITIONS)
    assert "WAIT_SH --server_hello--> HANDED_OFF | WAIT_EE | WAIT_SH" in lines
    assert len(lines) == len(CLIENT_TRANSITIONS)
