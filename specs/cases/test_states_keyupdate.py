"""SSL_key_update.pod's functions on an established connection, the state its DESCRIPTION speaks of (issue 10,
item 1): a key update scheduled with SSL_key_update() and performed by the next I/O call (SSL_get_key_update_type()
naming it until then), the answer to the peer's request scheduled until the next write, and SSL_renegotiate() /
SSL_renegotiate_abbreviated() on a TLS 1.2 connection, pending (SSL_renegotiate_pending()) until the new handshake
completes. The states before and during the handshake and after close_notify are in test_states_ssl_io.py and
test_states_pages2.py.

As in the other state files, the state comes first (``_states.reach``: the calls an application makes), then the
function under test, then what its page promises; the subject is a client and a server in turn. The wire is read
by record size only (``_wire``): a TLS 1.3 KeyUpdate is one protected record of 22 bytes, one byte of application
data one of 18.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from conformance.stacks.base import EndpointConfig
from specs.cases._renegotiation import link_ccs, new_handshake_on_link
from specs.cases._ssl_objects import WANT, Mem, error, handshake, note, session_reused
from specs.cases._states import Staged, State, error_entry, fatal, reach
from specs.cases._wire import KEY_UPDATE_CIPHERTEXT, records

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")

ROLES = [Role.CLIENT, Role.SERVER]
ONE_BYTE = 1 + 1 + 16  # one byte of application data, its inner content type and the AEAD tag
HANDSHAKE = 22
WANT_READ = SslError.SSL_ERROR_WANT_READ
UPDATE_TYPES = {"not-requested": K.SSL_KEY_UPDATE_NOT_REQUESTED, "requested": K.SSL_KEY_UPDATE_REQUESTED}


def _tls13(config: EndpointConfig) -> EndpointConfig:
    return config.with_(min_version="TLSv1.3", max_version="TLSv1.3")


def _tls12(config: EndpointConfig) -> EndpointConfig:
    return config.with_(min_version="TLSv1.2", max_version="TLSv1.2")


def _lengths(wire: bytes) -> list[int]:
    return [r.length for r in records(wire)]


def _reads_nothing(staged: Staged, side: Mem, codes: tuple[SslError, ...], message: str) -> None:
    """An SSL_read(100) on ``side`` that delivers nothing and asks to be called again (SSL_get_error in ``codes``).
    ``message`` names what went wrong with the fields ``ret``, ``data``, ``code`` and ``label`` (``side``'s)."""
    api = staged.api
    ret, data = api.SSL_read(side.ssl, 100)
    code = error(api, side.ssl, ret)
    assert ret <= 0 and not data and code in codes, message.format(ret=ret, data=data, code=code, label=side.label)


def _quiet(staged: Staged) -> Staged:
    """Everything of the handshake taken in on both sides (TLS 1.3 tickets included): each side reads until it
    wants more and nothing is left on the link. Returns ``staged``."""
    for _ in range(4):
        moved = staged.move()
        for side in (staged.subject, staged.peer):
            _reads_nothing(staged, side, (WANT_READ,),
                           "{label}: a read on a quiet established connection -> {ret} {data!r}")
        if not moved:
            break
    staged.api.ERR_clear_error()
    return staged


def _quiet_established13(h: Harness, role: Role) -> Staged:
    """``reach(h, State.ESTABLISHED, role)`` in TLS 1.3, quiet (:func:`_quiet`)."""
    return _quiet(reach(h, State.ESTABLISHED, role, adjust=_tls13))


def _type(staged: Staged, ssl: Any = None) -> int:
    return int(staged.api.SSL_get_key_update_type(staged.ssl if ssl is None else ssl))


# --- SSL_key_update: scheduled, then performed by the next I/O call ---------------------------------------------

PERFORMERS = ["SSL_write", "SSL_read", "SSL_do_handshake"]


@pytest.mark.clauses(
    "SSL_key_update/DESCRIPTION/performed-at-next-io",
    "SSL_key_update/DESCRIPTION/get-key-update-type",
    "SSL_key_update/RETURN VALUES/key-update-type",
    "SSL_key_update/RETURN VALUES/1",
)
@pytest.mark.states("established")
@pytest.mark.needs("key_update", "tls1_3")
@pytest.mark.parametrize("performer", PERFORMERS)
@pytest.mark.parametrize("kind", [
    pytest.param("not-requested", marks=pytest.mark.clauses("SSL_key_update/DESCRIPTION/not-requested")),
    pytest.param("requested", marks=pytest.mark.clauses("SSL_key_update/DESCRIPTION/requested")),
])
@pytest.mark.parametrize("role", ROLES)
def test_key_update_waits_for_the_next_io_call(h: Harness, role: Role, kind: str, performer: str) -> None:
    """Established in TLS 1.3 and quiet: SSL_key_update() returns 1, sends nothing, and SSL_get_key_update_type()
    names the scheduled type. The next I/O call (a write, a read with nothing to read, or SSL_do_handshake())
    sends one KeyUpdate record (before the write's data), after which the type is SSL_KEY_UPDATE_NONE. The peer
    reads it; its next 1-byte write carries a KeyUpdate of its own before the data if and only if the update was
    requested; the subject reads that byte under the peer's keys."""
    staged = _quiet_established13(h, role)
    api = staged.api
    updatetype = UPDATE_TYPES[kind]
    assert _type(staged) == K.SSL_KEY_UPDATE_NONE, f"SSL_get_key_update_type before any update: {_type(staged)}"
    ret = int(api.SSL_key_update(staged.ssl, updatetype))
    assert ret == 1, f"SSL_key_update({kind}) on an established TLS 1.3 {role.value}: {ret}, queue {error_entry(api)}"
    assert error_entry(api) == (0, 0), f"a successful SSL_key_update left {error_entry(api)} on the queue"
    scheduled = _type(staged)
    sent = staged.subject.outgoing()
    note(h, f"after SSL_key_update({kind}): SSL_get_key_update_type -> {scheduled}, {sent} bytes out")
    assert scheduled == updatetype, f"SSL_get_key_update_type names the scheduled update: {scheduled}, not {updatetype}"
    assert sent == 0, f"SSL_key_update itself sent {sent} bytes"
    if performer == "SSL_write":
        assert api.SSL_write(staged.ssl, b"z") == 1, "the write that performs the update"
    elif performer == "SSL_read":
        _reads_nothing(staged, staged.subject, (WANT_READ,), "SSL_read with nothing to read: {ret}")
    else:
        assert api.SSL_do_handshake(staged.ssl) == 1, "SSL_do_handshake on an established connection"
    wire = staged.subject.take()
    lengths = _lengths(wire)
    expected = [KEY_UPDATE_CIPHERTEXT] + ([ONE_BYTE] if performer == "SSL_write" else [])
    note(h, f"{performer} after SSL_key_update sent records of {lengths} bytes; type now {_type(staged)}")
    assert lengths == expected, f"{performer} must send the KeyUpdate (then its data): {lengths}, not {expected}"
    assert _type(staged) == K.SSL_KEY_UPDATE_NONE, f"the update was performed, yet the type is {_type(staged)}"
    staged.peer.give(wire)
    ret, data = api.SSL_read(staged.peer.ssl, 100)
    if performer == "SSL_write":
        assert (ret, data) == (1, b"z"), f"the peer's read of the byte sent under the new keys: {ret} {data!r}"
    else:
        assert ret <= 0 and error(api, staged.peer.ssl, ret) is WANT_READ, f"the peer's read of the KeyUpdate: {ret}"
    assert api.SSL_write(staged.peer.ssl, b"y") == 1
    answer_wire = staged.peer.take()
    answer = _lengths(answer_wire)
    want = [KEY_UPDATE_CIPHERTEXT, ONE_BYTE] if kind == "requested" else [ONE_BYTE]
    note(h, f"the peer's next 1-byte write: records of {answer} bytes")
    assert answer == want, f"after a {kind} update the peer's write sent records of {answer} bytes, not {want}"
    staged.subject.give(answer_wire)
    assert api.SSL_read(staged.ssl, 100) == (1, b"y"), "the subject's read of the peer's byte"


@pytest.mark.clauses(
    "SSL_key_update/DESCRIPTION/request-answered-at-next-write",
    "SSL_key_update/DESCRIPTION/get-key-update-type",
    "SSL_key_update/RETURN VALUES/key-update-type",
    "SSL_key_update/DESCRIPTION/requested",
)
@pytest.mark.states("established")
@pytest.mark.needs("key_update", "tls1_3")
@pytest.mark.parametrize("role", ROLES)
def test_the_peers_request_is_pending_until_the_next_write(h: Harness, role: Role) -> None:
    """Established in TLS 1.3: the peer's update_requested arrives. The subject's read takes it in and sends
    nothing; its own update is pending (SSL_get_key_update_type: SSL_KEY_UPDATE_NOT_REQUESTED) through that read
    and an SSL_do_handshake(), which sends nothing either; the next SSL_write sends the KeyUpdate and then the
    data, and the type is SSL_KEY_UPDATE_NONE again."""
    staged = _quiet_established13(h, role)
    api = staged.api
    assert api.SSL_key_update(staged.peer.ssl, K.SSL_KEY_UPDATE_REQUESTED) == 1
    assert api.SSL_do_handshake(staged.peer.ssl) == 1
    staged.move()
    _reads_nothing(staged, staged.subject, (WANT_READ,), "the read that takes the request in: {ret}")
    seen = [(_type(staged), staged.subject.outgoing())]
    assert api.SSL_do_handshake(staged.ssl) == 1, "SSL_do_handshake on an established connection"
    seen.append((_type(staged), staged.subject.outgoing()))
    note(h, f"(SSL_get_key_update_type, bytes out) after the read, after SSL_do_handshake: {seen}")
    pending = (K.SSL_KEY_UPDATE_NOT_REQUESTED, 0)
    assert seen == [pending, pending], \
        f"the answer must stay scheduled (type {K.SSL_KEY_UPDATE_NOT_REQUESTED}, nothing sent) until a write: {seen}"
    assert api.SSL_write(staged.ssl, b"w") == 1
    wire = staged.subject.take()
    lengths = _lengths(wire)
    note(h, f"the next SSL_write sent records of {lengths} bytes")
    assert lengths == [KEY_UPDATE_CIPHERTEXT, ONE_BYTE], f"the KeyUpdate, then the byte: records of {lengths} bytes"
    assert _type(staged) == K.SSL_KEY_UPDATE_NONE, f"the answer was sent, yet the type is {_type(staged)}"
    staged.peer.give(wire)
    assert api.SSL_read(staged.peer.ssl, 100) == (1, b"w"), "the peer's read under the subject's new keys"


# --- SSL_renegotiate / SSL_renegotiate_abbreviated on an established TLS 1.2 connection --------------------------

def _renegotiation_param(role: Role, function: str) -> Any:
    claims = ["SSL_key_update/DESCRIPTION/renegotiate-pending", "SSL_key_update/RETURN VALUES/renegotiate-pending-1",
              "SSL_key_update/RETURN VALUES/renegotiate-pending-0", "SSL_key_update/RETURN VALUES/1"]
    if role is Role.SERVER:
        claims += ["SSL_key_update/DESCRIPTION/server-sends-hello-request",
                   "SSL_key_update/DESCRIPTION/client-handles-request"]
    elif function == "SSL_renegotiate":
        claims.append("SSL_key_update/DESCRIPTION/client-renegotiate-full")
    else:
        claims.append("SSL_key_update/DESCRIPTION/client-renegotiate-abbreviated")
    return pytest.param(role, function, id=f"{function}-{role.value}", marks=pytest.mark.clauses(*claims))


def _established12(h: Harness, role: Role, server_options: int) -> Staged:
    """``reach(h, State.ESTABLISHED, role)`` in TLS 1.2, quiet (:func:`_quiet`), with ``server_options`` set on the
    server's context before its SSL is made (the renegotiation options are the server's configuration, in place
    before the handshake)."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=_tls12)
    server = Mem(h, Role.SERVER, adjust=_tls12, before_new=lambda ctx: api.SSL_CTX_set_options(ctx, server_options))
    handshake(h, client, server)
    api.ERR_clear_error()
    note(h, f"{role.value} subject is established (TLS 1.2, server options {server_options:#x})")
    subject, peer = (client, server) if role is Role.CLIENT else (server, client)
    return _quiet(Staged(h, State.ESTABLISHED, subject, peer))


@pytest.mark.states("established")
@pytest.mark.needs("tls1_2", "renegotiation")
@pytest.mark.parametrize(("role", "function"), [_renegotiation_param(r, f) for r in ROLES
                                                for f in ("SSL_renegotiate", "SSL_renegotiate_abbreviated")])
def test_renegotiation_is_pending_until_the_new_handshake_completes(h: Harness, role: Role, function: str) -> None:
    """Established in TLS 1.2 and quiet: the call returns 1, sends nothing, and SSL_renegotiate_pending() is 1.
    The subject's next I/O call (an SSL_read with nothing to read) sends the request (a client its ClientHello, a
    server its HelloRequest: a handshake record) and the renegotiation is still pending. Both sides then only
    read, as an application does, and the new handshake runs inside those reads: afterwards nothing is pending, the
    client resumed its session or not as the page says (SSL_renegotiate: a full handshake; the abbreviated form and
    a client answering a server's request: resumption), and data flows both ways."""
    staged = _established12(h, role, K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
    api = staged.api
    assert api.SSL_renegotiate_pending(staged.ssl) == 0, "pending before anything was scheduled"
    before = link_ccs(h, staged.subject, staged.peer)
    ret = int(getattr(api, function)(staged.ssl))
    pending = int(api.SSL_renegotiate_pending(staged.ssl))
    note(h, f"{function} ({role.value}) -> {ret}, SSL_renegotiate_pending -> {pending}, queue {error_entry(api)}")
    assert (ret, pending) == (1, 1), f"{function} on TLS 1.2: (return, pending) ({ret}, {pending}), not (1, 1)"
    assert staged.subject.outgoing() == 0, f"{function} itself sent something"
    _reads_nothing(staged, staged.subject, WANT, "the next SSL_read: {ret} ({code})")
    wire = staged.subject.take()
    staged.peer.give(wire)
    request = records(wire)
    after_request = int(api.SSL_renegotiate_pending(staged.ssl))
    note(h, f"the next SSL_read sent records {[(r.type, r.length) for r in request]}; pending -> {after_request}")
    assert request and request[0].type == HANDSHAKE, \
        f"the next I/O call must send the {'ClientHello' if role is Role.CLIENT else 'HelloRequest'}: {request}"
    assert after_request == 1, "the request is out, the new handshake has not completed: still pending"
    for _ in range(50):
        moved = staged.move()
        for side in (staged.peer, staged.subject):
            _reads_nothing(staged, side, WANT, "{label}: a read during the renegotiation -> {ret} {data!r} ({code})")
        if not moved and not staged.subject.outgoing() and not staged.peer.outgoing():
            break
    else:
        raise AssertionError("the renegotiation kept moving bytes after 50 rounds")
    client = staged.subject if role is Role.CLIENT else staged.peer
    reused = session_reused(api, client.ssl)
    pending = int(api.SSL_renegotiate_pending(staged.ssl))
    note(h, f"after the renegotiation: SSL_renegotiate_pending -> {pending}, client SSL_session_reused -> {reused}")
    assert pending == 0, "the new handshake completed: nothing is pending any more"
    assert new_handshake_on_link(h, staged.subject, staged.peer, before), \
        "nothing is pending and nothing moves, but no new handshake completed on the wire"
    want = 0 if (role is Role.CLIENT and function == "SSL_renegotiate") else 1
    assert reused == want, f"{function} ({role.value}): the client's SSL_session_reused is {reused}, not {want}"
    for writer, reader, text in ((staged.subject, staged.peer, b"after"), (staged.peer, staged.subject, b"again")):
        assert api.SSL_write(writer.ssl, text) == len(text)
        staged.move()
        assert api.SSL_read(reader.ssl, 100) == (len(text), text), f"{reader.label}'s read after the renegotiation"


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/no-renegotiation-alert-fails", "SSL_key_update/RETURN VALUES/1")
@pytest.mark.states("established")
@pytest.mark.needs("tls1_2", "renegotiation")
def test_a_refused_renegotiation_fails_the_established_client(h: Harness) -> None:
    """Established in TLS 1.2 with a server that refuses renegotiation (SSL_OP_NO_RENEGOTIATION): SSL_renegotiate()
    returns 1; the client's reads send the ClientHello, and the read that receives the server's no_renegotiation
    fails the connection at once: SSL_ERROR_SSL with an SSL-library entry on the queue. The connection stays
    failed: a later write fails too (not a retry) and sends nothing."""
    staged = _established12(h, Role.CLIENT, K.SSL_OP_NO_RENEGOTIATION)
    api = staged.api
    assert api.SSL_renegotiate(staged.ssl) == 1, "SSL_renegotiate on an established TLS 1.2 client"
    code: SslError | int = WANT_READ
    for _ in range(10):
        ret, data = api.SSL_read(staged.ssl, 100)
        code = staged.error(ret)
        if ret > 0 or code not in WANT:
            break
        staged.move()
        peer_ret, _ = api.SSL_read(staged.peer.ssl, 100)
        note(h, f"client SSL_read -> {ret} ({code}); server SSL_read -> {peer_ret} "
                f"({error(api, staged.peer.ssl, peer_ret)})")
        staged.move()
    lib, reason = error_entry(api)
    note(h, f"the client's read after the refusal -> {ret} {data!r} ({code}), queue lib {lib} reason {reason}")
    assert ret <= 0 and code is SslError.SSL_ERROR_SSL, f"the client must fail the connection: {ret} ({code})"
    assert lib == K.ERR_LIB_SSL and reason != 0, f"the failure's queue entry: lib {lib} reason {reason}"
    api.ERR_clear_error()
    staged.subject.take()
    ret, written = api.SSL_write(staged.ssl, b"after"), staged.subject.outgoing()
    assert ret <= 0 and fatal(staged.error(ret)) and written == 0, \
        f"a write on the failed connection -> {ret} ({staged.error(ret)}), {written} bytes sent"
