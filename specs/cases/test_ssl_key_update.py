"""Cases for SSL_key_update/SSL_get_key_update_type, SSL_renegotiate(_abbreviated)/SSL_renegotiate_pending and
SSL_pending/SSL_has_pending. Key update and SSL_pending are observed through the normalised endpoint where it
offers them; scheduling, renegotiation and SSL_has_pending need the C API."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness, Pair
from conformance.outcome import Role, SslError
from conformance.pump import writes
from specs.cases._renegotiation import renegotiate, tls12_pair
from specs.cases._ssl_objects import WANT, Mem, error, handshake, move, session_reused
from specs.cases._wire import KEY_UPDATE_CIPHERTEXT, records

C_API = ("c_api", "client_role", "server_role")
WANT_READ = SslError.SSL_ERROR_WANT_READ


def _exchange(h: Harness, pair: Pair, tag: str) -> None:
    """Data both ways over a normalised pair."""
    for writer, reader, text in (("client", "server", f"c2s {tag}"), ("server", "client", f"s2c {tag}")):
        pair.drive_sides({writer: writes(text.encode())})
        out = getattr(pair.drive_sides({reader: lambda e: e.read(100)}), reader)
        assert out is not None and out.ok and out.data == text.encode(), f"{writer} -> {reader} after {tag}: {out}"


# --- key update through the normalised endpoint ---------------------------------------------------------------

@pytest.mark.clauses("SSL_key_update/DESCRIPTION/not-requested", "SSL_key_update/RETURN VALUES/1")
@pytest.mark.needs("key_update", "tls1_3")
def test_key_update_not_requested(h: Harness) -> None:
    """The update travels as one KeyUpdate record; the peer, once it has read it, does not renew its own keys: its
    next 1-byte write is one application-data record and no KeyUpdate; data keeps flowing both ways."""
    pair = h.pair(client=lambda c: c.with_(min_version="TLSv1.3"))
    pair.handshake()
    _exchange(h, pair, "before the update")  # tickets and everything else of the handshake are taken in
    pair.settle()
    out = pair.call(pair.client, lambda e: e.key_update(False))
    assert out.ok, f"the key update must succeed: {out}"
    update = pair.client.take_outgoing()
    if not update:  # a stack whose update waits for the next I/O call (SSL_key_update schedules it)
        wrote = pair.call(pair.client, lambda e: e.write(b"u"))
        assert wrote.ok, wrote
        update = pair.client.take_outgoing()
    h.trace.note(f"the updating side sent records of {_records(update)} bytes")
    assert _records(update)[:1] == [KEY_UPDATE_RECORD], f"no KeyUpdate record was sent: {_records(update)}"
    assert pair.server.put_incoming(update) == len(update)
    got = pair.call(pair.server, lambda e: e.read(100))
    assert got.ok or got.error is WANT_READ, f"the peer's read of the update: {got}"
    wrote = pair.call(pair.server, lambda e: e.write(b"x"))
    assert wrote.ok, wrote
    answer = pair.server.take_outgoing()
    h.trace.note(f"after reading the update and writing 1 byte the peer sent records of {_records(answer)} bytes")
    assert _records(answer) == [1 + 1 + 16], (
        f"a not-requested update must not make the peer renew its keys; it sent records of {_records(answer)} bytes")
    assert pair.client.put_incoming(answer) == len(answer)
    data = pair.call(pair.client, lambda e: e.read(100))
    assert data.ok and data.data == b"x", f"the updating side must read the peer's byte: {data}"
    _exchange(h, pair, "a key update (not requested)")


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/requested", "SSL_key_update/RETURN VALUES/1")
@pytest.mark.needs("key_update", "tls1_3")
def test_key_update_requested(h: Harness) -> None:
    """After a requested update the peer sends a KeyUpdate of its own: besides the record of its next 1-byte write,
    it sends a protected record of exactly a KeyUpdate's size (RFC 9846 section 4.7.3); data flows both ways
    under the new keys."""
    pair = h.pair(client=lambda c: c.with_(min_version="TLSv1.3"))
    pair.handshake()
    out = pair.drive(client=lambda e: e.key_update(True)).client
    assert out is not None and out.ok, f"the key update must succeed: {out}"
    assert pair.server.outgoing_pending() == 0, "the server has not read the KeyUpdate yet and has nothing to send"
    read = pair.call(pair.server, lambda e: e.read(100))
    assert read.retry, f"the server reads only the KeyUpdate: it must wait for data, not {read}"
    wrote = pair.call(pair.server, lambda e: e.write(b"x"))
    assert wrote.ret == 1, f"the server's 1-byte write: {wrote}"
    sent = pair.server.take_outgoing()
    seen = [(r.type, r.length) for r in records(sent)]
    h.trace.note(f"server records after the requested update and a 1-byte write: {seen}")
    assert (23, KEY_UPDATE_CIPHERTEXT) in seen, f"no KeyUpdate-sized record from the peer, only {seen}"
    assert (23, 1 + 1 + 16) in seen, f"no 1-byte application-data record from the peer in {seen}"
    assert pair.client.put_incoming(sent) == len(sent)
    got = pair.drive(client=lambda e: e.read(100)).client
    assert got is not None and got.data == b"x", f"the client must read the byte sent under the new keys: {got}"
    _exchange(h, pair, "a key update (requested)")
    _exchange(h, pair, "the peer's own key update")


# A protected TLS 1.3 record carrying only a KeyUpdate: 4-byte handshake header, 1-byte request_update, the inner
# content type and a 16-byte AEAD tag (RFC 9846 sections 4.6.3 and 5.2; none of the stacks pads by default).
KEY_UPDATE_RECORD = 4 + 1 + 1 + 16


def _records(wire: bytes) -> list[int]:
    """The payload lengths of the whole records in ``wire`` (the record layer's framing is in the clear)."""
    lengths, at = [], 0
    while at + 5 <= len(wire):
        length = int.from_bytes(wire[at + 3 : at + 5], "big")
        lengths.append(length)
        at += 5 + length
    assert at == len(wire), f"the bytes do not end on a record boundary: {at} of {len(wire)}"
    return lengths


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/requested")
@pytest.mark.needs("key_update", "tls1_3")
def test_requested_key_update_is_answered_by_the_peer(h: Harness) -> None:
    """The bytes on the wire, not only the data flow: the request travels as one KeyUpdate record; the peer, once it
    has read it, puts its own KeyUpdate on the wire before its next application data (RFC 9846 section 4.6.3)."""
    pair = h.pair(client=lambda c: c.with_(min_version="TLSv1.3"))
    pair.handshake()
    _exchange(h, pair, "before the update")  # tickets and everything else of the handshake are taken in
    pair.settle()
    out = pair.call(pair.client, lambda e: e.key_update(True))
    assert out.ok, f"the key update must succeed: {out}"
    request = pair.client.take_outgoing()
    h.trace.note(f"the requesting side sent records of {_records(request)} bytes")
    assert _records(request) == [KEY_UPDATE_RECORD], "the request must be one KeyUpdate record"
    assert pair.server.put_incoming(request) == len(request)
    got = pair.call(pair.server, lambda e: e.read(100))
    assert not got.ok and got.error is WANT_READ, f"no application data was sent: {got}"
    wrote = pair.call(pair.server, lambda e: e.write(b"x"))
    assert wrote.ok, wrote
    answer = pair.server.take_outgoing()
    records = _records(answer)
    h.trace.note(f"after reading the request and writing 1 byte the peer sent records of {records} bytes")
    assert len(records) >= 2 and records[0] == KEY_UPDATE_RECORD, (
        f"the peer must send its own KeyUpdate before its next application data; it sent records of {records} bytes")
    assert pair.client.put_incoming(answer) == len(answer)
    data = pair.call(pair.client, lambda e: e.read(100))
    assert data.ok and data.data == b"x", f"the requesting side must read the data under the peer's new keys: {data}"


# --- key update through the C API -----------------------------------------------------------------------------

@pytest.mark.clauses(
    "SSL_key_update/DESCRIPTION/performed-at-next-io",
    "SSL_key_update/DESCRIPTION/get-key-update-type",
    "SSL_key_update/DESCRIPTION/requested",
)
@pytest.mark.needs(*C_API, "tls1_3")
@pytest.mark.parametrize("reader", ["SSL_read", "SSL_read_ex", "SSL_peek"])
def test_key_update_is_performed_by_the_next_read(h: Harness, reader: str) -> None:
    """SSL_key_update, then a read with nothing to read: the read is the next I/O operation, so it sends the
    KeyUpdate (and then wants to read). A requested update is answered by the peer's own KeyUpdate."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version="TLSv1.3"))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    move(client, server)
    api.SSL_read(client.ssl, 10)  # take the tickets in
    assert api.SSL_key_update(client.ssl, K.SSL_KEY_UPDATE_REQUESTED) == 1
    assert client.outgoing() == 0, "SSL_key_update itself must send nothing"
    ret, _ = getattr(api, reader)(client.ssl, 10)
    assert ret <= 0 and error(api, client.ssl, ret if reader != "SSL_read_ex" else -1) is WANT_READ, ret
    request = client.take()
    h.trace.note(f"{reader} after SSL_key_update sent records of {_records(request)} bytes")
    assert _records(request) == [KEY_UPDATE_RECORD], f"{reader} must send the scheduled KeyUpdate"
    assert api.SSL_get_key_update_type(client.ssl) == K.SSL_KEY_UPDATE_NONE, "the update was performed"
    server.give(request)
    ret, _ = api.SSL_read(server.ssl, 10)
    assert ret <= 0 and error(api, server.ssl, ret) is WANT_READ
    assert api.SSL_write(server.ssl, b"y") == 1
    answer = server.take()
    records = _records(answer)
    h.trace.note(f"the peer answered the request with records of {records} bytes")
    assert len(records) >= 2 and records[0] == KEY_UPDATE_RECORD, (
        f"the peer must send its own KeyUpdate before its next application data: records of {records} bytes")
    client.give(answer)
    assert api.SSL_read(client.ssl, 10) == (1, b"y")


@pytest.mark.clauses(
    "SSL_key_update/DESCRIPTION/performed-at-next-io",
    "SSL_key_update/DESCRIPTION/get-key-update-type",
    "SSL_key_update/RETURN VALUES/key-update-type",
    "SSL_key_update/DESCRIPTION/requested",
)
@pytest.mark.needs(*C_API, "tls1_3")
def test_key_update_is_scheduled_until_the_next_io(h: Harness) -> None:
    """SSL_key_update only schedules: nothing is sent and the type is pending; SSL_do_handshake (or the next
    write) sends it. A requested update makes the peer send a KeyUpdate of its own without any application data; a
    second request after that answer is answered again."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version="TLSv1.3"))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    move(client, server)
    api.SSL_read(client.ssl, 10)  # take the tickets in
    assert api.SSL_get_key_update_type(client.ssl) == K.SSL_KEY_UPDATE_NONE
    assert api.SSL_key_update(client.ssl, K.SSL_KEY_UPDATE_REQUESTED) == 1
    assert api.SSL_get_key_update_type(client.ssl) == K.SSL_KEY_UPDATE_REQUESTED
    assert client.outgoing() == 0, "SSL_key_update itself must send nothing"
    assert api.SSL_do_handshake(client.ssl) == 1
    assert client.outgoing() > 0, "SSL_do_handshake must send the KeyUpdate"
    assert api.SSL_get_key_update_type(client.ssl) == K.SSL_KEY_UPDATE_NONE
    move(client, server)
    ret, _ = api.SSL_read(server.ssl, 10)
    assert ret <= 0 and error(api, server.ssl, ret) is WANT_READ
    assert api.SSL_write(server.ssl, b"x") == 1
    sent = server.take()
    seen = [(r.type, r.length) for r in records(sent)]
    h.trace.note(f"the peer's records for a 1-byte write after the request: {seen}")
    assert (23, KEY_UPDATE_CIPHERTEXT) in seen, f"the peer must send a KeyUpdate of its own, not only {seen}"
    client.give(sent)
    assert api.SSL_read(client.ssl, 10) == (1, b"x")
    # once the peer has answered, a new request is a request again (RFC 9846, KeyUpdate: only a request not yet
    # answered holds the next one back): the peer answers it with another KeyUpdate
    assert api.SSL_key_update(client.ssl, K.SSL_KEY_UPDATE_REQUESTED) == 1
    assert api.SSL_do_handshake(client.ssl) == 1
    move(client, server)
    ret, _ = api.SSL_read(server.ssl, 10)
    assert ret <= 0 and error(api, server.ssl, ret) is WANT_READ
    assert api.SSL_write(server.ssl, b"z") == 1
    sent = server.take()
    seen = [(r.type, r.length) for r in records(sent)]
    h.trace.note(f"the peer's records for a 1-byte write after the second request: {seen}")
    assert (23, KEY_UPDATE_CIPHERTEXT) in seen, f"the second request was not answered with a KeyUpdate: {seen}"
    client.give(sent)
    assert api.SSL_read(client.ssl, 10) == (1, b"z")
    assert api.SSL_key_update(client.ssl, K.SSL_KEY_UPDATE_NOT_REQUESTED) == 1
    assert client.outgoing() == 0
    assert api.SSL_write(client.ssl, b"after") == 5, "the next write performs the scheduled update"
    assert api.SSL_get_key_update_type(client.ssl) == K.SSL_KEY_UPDATE_NONE
    move(client, server)
    assert api.SSL_read(server.ssl, 10) == (5, b"after")


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/request-answered-at-next-write",
                     "SSL_key_update/DESCRIPTION/get-key-update-type", "SSL_key_update/RETURN VALUES/key-update-type")
@pytest.mark.needs(*C_API, "tls1_3")
@pytest.mark.parametrize("reader", ["SSL_read", "SSL_peek_ex"])
def test_requested_key_update_is_answered_by_the_next_write(h: Harness, reader: str) -> None:
    """The peer's update_requested arrives: the read that takes it in writes nothing, the answer is scheduled
    (SSL_get_key_update_type: SSL_KEY_UPDATE_NOT_REQUESTED), SSL_do_handshake sends nothing either, and the next
    SSL_write sends the KeyUpdate, then its data."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version="TLSv1.3"))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    move(client, server)
    api.SSL_read(client.ssl, 10)  # take the tickets in
    assert api.SSL_key_update(client.ssl, K.SSL_KEY_UPDATE_REQUESTED) == 1
    assert api.SSL_do_handshake(client.ssl) == 1
    server.give(client.take())
    ret, _ = getattr(api, reader)(server.ssl, 10)
    assert ret <= 0 and error(api, server.ssl, ret if reader == "SSL_read" else -1) is WANT_READ, ret
    after_read = server.outgoing()
    scheduled = api.SSL_get_key_update_type(server.ssl)
    assert api.SSL_do_handshake(server.ssl) == 1
    after_handshake = server.outgoing()
    h.trace.note(f"after {reader} took the request in: {after_read} bytes out, SSL_get_key_update_type -> "
                 f"{scheduled}; after SSL_do_handshake: {after_handshake} bytes out")
    assert after_read == 0, f"{reader} sent {after_read} bytes: the answer must wait for the next write"
    assert scheduled == K.SSL_KEY_UPDATE_NOT_REQUESTED, f"the answer is scheduled, its type: {scheduled}"
    assert after_handshake == 0, f"SSL_do_handshake sent {after_handshake} bytes; the answer waits for a write"
    assert api.SSL_write(server.ssl, b"y") == 1
    answer = server.take()
    records = _records(answer)
    h.trace.note(f"the next SSL_write sent records of {records} bytes")
    assert records == [KEY_UPDATE_RECORD, 1 + 1 + 16], f"expected the KeyUpdate, then 1 byte of data: {records}"
    assert api.SSL_get_key_update_type(server.ssl) == K.SSL_KEY_UPDATE_NONE, "the answer was sent"
    client.give(answer)
    assert api.SSL_read(client.ssl, 10) == (1, b"y")


@pytest.mark.clauses("SSL_key_update/RETURN VALUES/after-shutdown")
@pytest.mark.needs(*C_API, "tls1_3")
def test_key_update_after_shutdown(h: Harness) -> None:
    """After SSL_shutdown sent close_notify: SSL_key_update returns 1, SSL_do_handshake returns 1 (the handshake is
    complete), and nothing follows the close_notify on the wire (RFC 9846 section 6.1)."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version="TLSv1.3"))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    move(client, server)
    api.SSL_read(client.ssl, 10)  # take the tickets in
    assert api.SSL_shutdown(client.ssl) == 0
    closing = client.take()
    assert _records(closing) == [2 + 1 + 16], f"the close_notify record: {_records(closing)}"
    api.ERR_clear_error()
    assert api.SSL_key_update(client.ssl, K.SSL_KEY_UPDATE_REQUESTED) == 1
    ret = api.SSL_do_handshake(client.ssl)
    after = client.take()
    h.trace.note(f"SSL_do_handshake after SSL_shutdown and SSL_key_update -> {ret}; then {_records(after)} on the wire")
    assert ret == 1, f"SSL_do_handshake on a completed handshake must return 1: {ret} ({error(api, client.ssl, ret)})"
    assert after == b"", f"records of {_records(after)} bytes followed the close_notify"
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/renegotiate-not-after-close-notify")
@pytest.mark.states("close-notify-sent")
@pytest.mark.needs(*C_API, "renegotiation", "tls1_2")
@pytest.mark.parametrize("starter_role", ["client", "server"])
def test_renegotiate_after_close_notify_is_not_started(h: Harness, starter_role: str) -> None:
    """After SSL_shutdown sent close_notify on TLS 1.2: SSL_renegotiate returns 1, SSL_do_handshake returns 1 and
    sends nothing, the write direction stays shut, and the renegotiation stays scheduled (pending 1)."""
    api = h.capi
    client, server = tls12_pair(h)
    starter = client if starter_role == "client" else server
    assert api.SSL_shutdown(starter.ssl) == 0
    closing = starter.take()
    assert closing, "SSL_shutdown sent no close_notify"
    api.ERR_clear_error()
    assert api.SSL_renegotiate(starter.ssl) == 1, "SSL_renegotiate on an established TLS 1.2 connection"
    ret = api.SSL_do_handshake(starter.ssl)
    after = starter.take()
    shutdown = api.SSL_get_shutdown(starter.ssl)
    h.trace.note(f"{starter_role}: SSL_do_handshake after close_notify and SSL_renegotiate -> {ret}; "
                 f"{len(after)} bytes followed; SSL_get_shutdown {shutdown}")
    assert after == b"", f"{len(after)} bytes followed the close_notify (a {starter_role} renegotiation was started)"
    assert shutdown & K.SSL_SENT_SHUTDOWN, f"SSL_get_shutdown lost SSL_SENT_SHUTDOWN: {shutdown}"
    assert ret == 1, f"SSL_do_handshake on a completed handshake must return 1: {ret} ({error(api, starter.ssl, ret)})"
    # SSL_key_update: DESCRIPTION SSL_renegotiate_pending() is 1 while scheduled and not acted on: not started
    # means kept, not dropped (reviewdiff hole: an engine that forgot the request passed)
    pending = api.SSL_renegotiate_pending(starter.ssl)
    assert pending == 1, f"the renegotiation must stay scheduled (SSL_renegotiate_pending 1): {pending}"
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/client-handles-request",
                     "SSL_get_error/RETURN VALUES/SSL_ERROR_SYSCALL")
@pytest.mark.states("established")
@pytest.mark.needs(*C_API, "renegotiation", "tls1_2")
@pytest.mark.parametrize("auto_retry", [True, False])
def test_handshake_call_with_unread_data_during_a_renegotiation(h: Harness, auto_retry: bool) -> None:
    """The server's HelloRequest and two bytes behind it; the client reads one byte (answering the request), so one
    byte stays unread; the server answers the ClientHello. The client's SSL_do_handshake then carries the
    renegotiation on (1 or a retry); it is no fatal I/O error (SSL_ERROR_SYSCALL) or failure."""
    api = h.capi
    client, server = tls12_pair(h)
    if not auto_retry:
        api.SSL_clear_mode(client.ssl, K.SSL_MODE_AUTO_RETRY)
    assert api.SSL_renegotiate(server.ssl) == 1
    ret = api.SSL_do_handshake(server.ssl)
    assert ret == 1 or error(api, server.ssl, ret) in WANT, f"the server's HelloRequest: {ret}"
    assert api.SSL_write(server.ssl, b"ab") == 2
    move(client, server)
    for _ in range(3):  # one byte out, whether or not the request ended an earlier read
        ret, got = api.SSL_read(client.ssl, 1)
        if ret > 0:
            break
        assert error(api, client.ssl, ret) in WANT, f"client SSL_read: {ret} ({error(api, client.ssl, ret)})"
    assert (ret, got) == (1, b"a"), f"the first byte behind the request: {ret}, {got!r}"
    move(client, server)
    ret, _ = api.SSL_read(server.ssl, 10)
    assert ret > 0 or error(api, server.ssl, ret) in WANT, f"server SSL_read: {ret} ({error(api, server.ssl, ret)})"
    move(client, server)
    api.ERR_clear_error()
    ret = api.SSL_do_handshake(client.ssl)
    code = error(api, client.ssl, ret)
    h.trace.note(f"client SSL_do_handshake with one byte unread -> {ret}, SSL_get_error {code}")
    assert ret == 1 or code in WANT, f"SSL_do_handshake in the renegotiation failed: {ret}, {code}"
    api.ERR_clear_error()


@pytest.mark.clauses("RFC5246/6.2.1/application-data-during-renegotiation")
@pytest.mark.states("established")
@pytest.mark.needs(*C_API, "renegotiation", "tls1_2")
@pytest.mark.parametrize("first", ["SSL_write", "SSL_do_handshake"])
def test_write_carrying_out_a_renegotiation_keeps_the_peers_data(h: Harness, first: str) -> None:
    """The server's one byte of data waits, unread, in the client's transport; the client renegotiates and calls
    ``first`` (then SSL_write): the call meets the data record inside the renegotiation and must not fail; the byte
    comes out of a later SSL_read once the renegotiation is done."""
    api = h.capi
    client, server = tls12_pair(h)
    assert api.SSL_write(server.ssl, b"d") == 1
    move(client, server)
    assert api.SSL_renegotiate(client.ssl) == 1
    api.ERR_clear_error()
    if first == "SSL_do_handshake":
        ret = api.SSL_do_handshake(client.ssl)
        code = error(api, client.ssl, ret)
        h.trace.note(f"client SSL_do_handshake starting its renegotiation -> {ret} ({code})")
        assert ret == 1 or code in WANT, f"SSL_do_handshake failed on the peer's data record: {ret}, {code}"
    written = api.SSL_write(client.ssl, b"x")
    for _ in range(10):
        wcode = error(api, client.ssl, written) if written <= 0 else None
        h.trace.note(f"client SSL_write during its renegotiation -> {written} ({wcode})")
        assert written > 0 or wcode in WANT, f"SSL_write failed on the peer's data record: {written}, {wcode}"
        if written > 0:
            break
        move(client, server)
        ret, _ = api.SSL_read(server.ssl, 10)
        assert ret > 0 or error(api, server.ssl, ret) in WANT, (ret, error(api, server.ssl, ret))
        move(client, server)
        written = api.SSL_write(client.ssl, b"x")
    assert written == 1, f"the write did not complete: {written}"
    ret, got = api.SSL_read(client.ssl, 10)
    assert (ret, got) == (1, b"d"), f"the server's byte must still be read: {ret}, {got!r}"
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/tls13-after-handshake", "SSL_key_update/RETURN VALUES/0")
@pytest.mark.needs("key_update")
@pytest.mark.parametrize("request_peer", [False, True])
def test_key_update_refused_before_the_handshake(h: Harness, request_peer: bool) -> None:
    """Before the handshake a key update is refused (0 where the C return value is observed) and nothing is sent;
    the handshake afterwards is unaffected."""
    pair = h.pair()
    before = pair.client.outgoing_pending()
    out = pair.call(pair.client, lambda e: e.key_update(request_peer))
    assert not out.ok and not out.retry and out.op == "SSL_key_update", (
        f"a key update before the handshake must be refused (not started, not waiting): {out}")
    if h.has("raw_return_values"):
        assert out.ret == 0, f"SSL_key_update before the handshake returned {out.ret}, not 0"
    assert pair.client.outgoing_pending() == before, "a refused key update must not put anything on the wire"
    pair.handshake()


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/none-is-error", "SSL_key_update/RETURN VALUES/0")
@pytest.mark.needs(*C_API, "tls1_3")
def test_key_update_none_refused(h: Harness) -> None:
    """0 for SSL_KEY_UPDATE_NONE on an established TLS 1.3 connection, before and after a valid update."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    api.ERR_clear_error()
    assert api.SSL_key_update(client.ssl, K.SSL_KEY_UPDATE_NONE) == 0, "SSL_KEY_UPDATE_NONE must be an error"
    assert api.SSL_get_key_update_type(client.ssl) == K.SSL_KEY_UPDATE_NONE, "a refused update must not be scheduled"
    assert client.outgoing() == 0
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/tls13-after-handshake", "SSL_key_update/RETURN VALUES/0")
@pytest.mark.needs(*C_API, "tls1_2")
def test_key_update_refused_on_tls12(h: Harness) -> None:
    """0 on a TLS 1.2 connection."""
    api = h.capi
    api.ERR_clear_error()
    old = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    peer = Mem(h, Role.SERVER)
    handshake(h, old, peer)
    assert api.SSL_key_update(old.ssl, K.SSL_KEY_UPDATE_NOT_REQUESTED) == 0, "refused on TLS 1.2"
    api.ERR_clear_error()


# --- renegotiation --------------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_key_update/DESCRIPTION/renegotiate-tls12-only", "SSL_key_update/RETURN VALUES/0",
                     "SSL_key_update/RETURN VALUES/renegotiate-pending-0")
@pytest.mark.needs(*C_API)
@pytest.mark.parametrize("function", ["SSL_renegotiate", "SSL_renegotiate_abbreviated"])
def test_renegotiate_refused_before_the_handshake(h: Harness, function: str) -> None:
    """Before any handshake no connection has negotiated TLS 1.2 or lower: the page makes the call an error (0),
    so nothing is scheduled (SSL_renegotiate_pending 0), and the handshake afterwards is an ordinary one.
    (Found by the differential runner.)"""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    results = {}
    for name, side in (("client", client), ("server", server)):
        api.ERR_clear_error()
        results[name] = (getattr(api, function)(side.ssl), api.SSL_renegotiate_pending(side.ssl))
    api.ERR_clear_error()
    h.trace.note(f"{function} before the handshake -> (return value, SSL_renegotiate_pending): {results}")
    assert results == {"client": (0, 0), "server": (0, 0)}, (
        f"{function} before the handshake must fail and schedule nothing: (ret, pending) {results}")
    handshake(h, client, server)


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/renegotiate-tls12-only", "SSL_key_update/RETURN VALUES/0")
@pytest.mark.needs(*C_API, "tls1_3")
def test_renegotiate_refused_on_tls13(h: Harness) -> None:
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version="TLSv1.3"))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    api.ERR_clear_error()
    assert api.SSL_renegotiate(client.ssl) == 0
    assert api.SSL_renegotiate_abbreviated(client.ssl) == 0
    assert api.SSL_renegotiate(server.ssl) == 0
    api.ERR_clear_error()


@pytest.mark.clauses(
    "SSL_key_update/DESCRIPTION/client-renegotiate-full",
    "SSL_key_update/DESCRIPTION/renegotiate-pending",
    "SSL_key_update/RETURN VALUES/renegotiate-pending-1",
    "SSL_key_update/RETURN VALUES/renegotiate-pending-0",
    "SSL_key_update/RETURN VALUES/1",
)
@pytest.mark.needs(*C_API, "tls1_2", "renegotiation")
def test_client_renegotiate_is_a_full_handshake(h: Harness) -> None:
    api = h.capi
    client, server = tls12_pair(h)
    assert api.SSL_renegotiate_pending(client.ssl) == 0
    assert api.SSL_renegotiate(client.ssl) == 1
    assert api.SSL_renegotiate_pending(client.ssl) == 1
    assert client.outgoing() == 0, "SSL_renegotiate only schedules"
    renegotiate(h, client, server)
    assert api.SSL_renegotiate_pending(client.ssl) == 0
    assert session_reused(api, client.ssl) == 0, "SSL_renegotiate must not resume the session"


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/client-renegotiate-abbreviated")
@pytest.mark.needs(*C_API, "tls1_2", "renegotiation")
def test_client_renegotiate_abbreviated_resumes(h: Harness) -> None:
    api = h.capi
    client, server = tls12_pair(h)
    assert api.SSL_renegotiate_abbreviated(client.ssl) == 1
    renegotiate(h, client, server)
    assert session_reused(api, client.ssl) == 1, "SSL_renegotiate_abbreviated must resume the session"


@pytest.mark.clauses(
    "SSL_key_update/DESCRIPTION/server-sends-hello-request",
    "SSL_key_update/DESCRIPTION/client-handles-request",
)
@pytest.mark.needs(*C_API, "tls1_2", "renegotiation")
@pytest.mark.parametrize("function", ["SSL_renegotiate", "SSL_renegotiate_abbreviated"])
def test_server_renegotiate_requests_a_handshake(h: Harness, function: str) -> None:
    """Either function on a server schedules a request; the client handles it inside SSL_read and, being a TLS
    client, resumes its session in the new handshake."""
    api = h.capi
    client, server = tls12_pair(h)
    assert getattr(api, function)(server.ssl) == 1
    assert api.SSL_renegotiate_pending(server.ssl) == 1
    assert server.outgoing() == 0
    renegotiate(h, server, client)
    assert session_reused(api, client.ssl) == 1, "the client must try to resume (and the server lets it)"
    assert api.SSL_write(client.ssl, b"still fine") == 10
    move(client, server)
    assert api.SSL_read(server.ssl, 100) == (10, b"still fine")


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/server-sends-hello-request")
@pytest.mark.needs(*C_API, "tls1_2", "renegotiation")
def test_server_read_of_buffered_data_sends_the_hello_request(h: Harness) -> None:
    """The next I/O call after SSL_renegotiate on a server is an SSL_read that returns application data already
    buffered: it sends the HelloRequest too (found by the differential runner, seed 404: the engine kept it
    back until a later call)."""
    api = h.capi
    client, server = tls12_pair(h)
    assert api.SSL_write(client.ssl, b"ab") == 2
    move(client, server)
    assert api.SSL_read(server.ssl, 1) == (1, b"a")
    assert api.SSL_renegotiate(server.ssl) == 1
    assert server.outgoing() == 0
    assert api.SSL_read(server.ssl, 1) == (1, b"b")
    assert server.outgoing() > 0, "the read was the next I/O call: the HelloRequest must have gone out"


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/no-renegotiation-alert-fails")
@pytest.mark.needs(*C_API, "tls1_2", "renegotiation")
def test_no_renegotiation_alert_fails_the_client(h: Harness) -> None:
    api = h.capi
    client, server = tls12_pair(h, server_options=K.SSL_OP_NO_RENEGOTIATION)
    assert api.SSL_renegotiate(client.ssl) == 1
    failed = None
    for _ in range(20):
        ret = api.SSL_do_handshake(client.ssl)
        if ret <= 0 and error(api, client.ssl, ret) not in WANT:
            failed = error(api, client.ssl, ret)
            break
        move(client, server)
        api.SSL_read(server.ssl, 10)
        move(client, server)
    h.trace.note(f"client after the no_renegotiation alert: {failed}")
    assert failed is SslError.SSL_ERROR_SSL, f"the client must fail the connection: {failed}"
    api.ERR_clear_error()


# --- SSL_pending / SSL_has_pending ----------------------------------------------------------------------------

@pytest.mark.clauses(
    "SSL_pending/DESCRIPTION/whole-records-buffered",
    "SSL_pending/DESCRIPTION/counts-processed-bytes",
    "SSL_pending/RETURN VALUES/pending-count",
)
@pytest.mark.needs("pending")
def test_pending_counts_the_rest_of_the_record(h: Harness) -> None:
    pair = h.pair()
    pair.handshake()
    assert pair.server.pending() == 0
    pair.drive(client=lambda e: e.write(b"0123456789"))
    first = pair.drive(server=lambda e: e.read(3)).server
    assert first is not None and first.data == b"012", first
    assert pair.server.pending() == 7, f"the rest of the decrypted record must be counted: {pair.server.pending()}"
    pair.link.c2s.closed = True  # the rest must come from the object, not the transport
    rest = pair.call(pair.server, lambda e: e.read(7))
    assert rest.ok and rest.data == b"3456789", rest
    assert pair.server.pending() == 0


@pytest.mark.clauses(
    "SSL_pending/DESCRIPTION/has-pending-any-buffered",
    "SSL_pending/DESCRIPTION/has-pending-partial-record",
    "SSL_pending/RETURN VALUES/has-pending-1",
    "SSL_pending/RETURN VALUES/has-pending-0",
)
@pytest.mark.needs(*C_API)
def test_has_pending(h: Harness) -> None:
    """Nothing buffered: 0. Half a record buffered (not processable yet): 1 even after the read that wants more.
    Processed data left: 1. All read: 0."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    move(client, server)
    api.SSL_read(client.ssl, 10)
    api.SSL_read(server.ssl, 10)
    assert api.SSL_has_pending(server.ssl) == 0
    assert api.SSL_write(client.ssl, b"abcdef") == 6
    record = client.take()
    server.give(record[: len(record) // 2])
    ret, _ = api.SSL_read(server.ssl, 100)
    assert ret <= 0 and error(api, server.ssl, ret) is WANT_READ
    assert api.SSL_has_pending(server.ssl) == 1, "half a record is buffered record data"
    server.give(record[len(record) // 2:])
    assert api.SSL_read(server.ssl, 2) == (2, b"ab")
    assert api.SSL_has_pending(server.ssl) == 1 and api.SSL_pending(server.ssl) == 4
    assert api.SSL_read(server.ssl, 100) == (4, b"cdef")
    assert api.SSL_has_pending(server.ssl) == 0 and api.SSL_pending(server.ssl) == 0


@pytest.mark.clauses("SSL_pending/DESCRIPTION/has-pending-partial-record", "SSL_pending/RETURN VALUES/has-pending-1")
@pytest.mark.needs(*C_API)
def test_has_pending_counts_part_of_a_record_header(h: Harness) -> None:
    """Three bytes of a record's 5-byte header are record data too: once a read has taken them from the transport
    (and wants the rest), SSL_has_pending() is 1; with the rest delivered, the record reads whole."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    move(client, server)
    api.SSL_read(client.ssl, 10)
    api.SSL_read(server.ssl, 10)
    assert api.SSL_write(client.ssl, b"abcdef") == 6
    record = client.take()
    server.give(record[:3])
    ret, _ = api.SSL_read(server.ssl, 100)
    assert ret <= 0 and error(api, server.ssl, ret) is WANT_READ
    has = api.SSL_has_pending(server.ssl)
    h.trace.note(f"3 header bytes taken by SSL_read: SSL_has_pending -> {has}")
    assert has == 1, "part of a record header is buffered record data"
    server.give(record[3:])
    assert api.SSL_read(server.ssl, 100) == (6, b"abcdef")
    assert api.SSL_has_pending(server.ssl) == 0


def _read_ahead_on(h: Harness, ssl: Any) -> None:
    """SSL_set_read_ahead(ssl, 1), checked with SSL_get_read_ahead: a stack that ignores the setting fails (the
    page: SSL_get_read_ahead says whether reading ahead was set; only DTLS is exempt), it is not "not applicable"."""
    api = h.capi
    api.SSL_set_read_ahead(ssl, 1)
    got = api.SSL_get_read_ahead(ssl)
    assert got == 1, f"SSL_get_read_ahead -> {got} after SSL_set_read_ahead(ssl, 1) on a TLS connection"


@pytest.mark.clauses("SSL_pending/DESCRIPTION/ignores-unprocessed")
@pytest.mark.needs(*C_API)
def test_pending_ignores_read_ahead_records(h: Harness) -> None:
    """read_ahead on: two records arrive together and both leave the transport at the first read. After the first
    record is read, SSL_pending is 0 and the transport is empty, yet the second record is readable."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    move(client, server)
    api.SSL_read(client.ssl, 10)
    _read_ahead_on(h, server.ssl)
    assert api.SSL_write(client.ssl, b"first") == 5 and api.SSL_write(client.ssl, b"second") == 6
    move(client, server)
    assert api.SSL_read(server.ssl, 100) == (5, b"first")
    assert api.BIO_ctrl_pending(api.SSL_get_rbio(server.ssl)) == 0, "read-ahead must have emptied the transport"
    assert api.SSL_pending(server.ssl) == 0, "unprocessed records must not be counted"
    assert api.SSL_has_pending(server.ssl) == 1
    assert api.SSL_read(server.ssl, 100) == (6, b"second")


@pytest.mark.clauses("SSL_pending/DESCRIPTION/has-pending-no-app-data")
@pytest.mark.needs(*C_API, "tls1_3")
def test_has_pending_for_a_record_without_application_data(h: Harness) -> None:
    """read_ahead on: an application record followed by a KeyUpdate. After the data is read SSL_has_pending is 1
    (the KeyUpdate is buffered), but the next read returns no data."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version="TLSv1.3"))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    move(client, server)
    api.SSL_read(client.ssl, 10)
    _read_ahead_on(h, client.ssl)
    assert api.SSL_write(server.ssl, b"data") == 4
    assert api.SSL_key_update(server.ssl, K.SSL_KEY_UPDATE_NOT_REQUESTED) == 1
    assert api.SSL_do_handshake(server.ssl) == 1
    move(client, server)
    assert api.SSL_read(client.ssl, 100) == (4, b"data")
    assert api.SSL_has_pending(client.ssl) == 1, "the KeyUpdate record is buffered"
    ret, got = api.SSL_read(client.ssl, 100)
    assert ret <= 0 and got == b"", f"the buffered record holds no application data: {ret}, {got!r}"


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/client-renegotiate-full")
@pytest.mark.states("established")
@pytest.mark.needs(*C_API, "renegotiation", "tls1_2")
@pytest.mark.parametrize("function", [
    pytest.param("SSL_write", marks=pytest.mark.clauses("SSL_write/WARNINGS/zero-length-write")),
    pytest.param("SSL_write_ex", marks=pytest.mark.clauses("SSL_write/WARNINGS/zero-length-write-ex")),
])
def test_zero_length_write_starts_a_scheduled_renegotiation(h: Harness, function: str) -> None:
    """TLS 1.2 client: SSL_renegotiate, then a write of 0 bytes. It is the next I/O call, so the ClientHello goes
    out (handshake records only, no application data: SSL_write.pod NOTES) and the call does not report data
    written; the renegotiation then completes and data still flows both ways."""
    api = h.capi
    client, server = tls12_pair(h)
    assert api.SSL_renegotiate(client.ssl) == 1
    api.ERR_clear_error()
    if function == "SSL_write":
        ret = api.SSL_write(client.ssl, b"")
        assert ret <= 0, f"SSL_write with 0 bytes must fail: {ret}"
    else:
        ret, written = api.SSL_write_ex(client.ssl, b"")
        assert written == 0, f"SSL_write_ex with 0 bytes wrote {written}"
    out = client.take()
    kinds = [r.type for r in records(out)]
    h.trace.note(f"{function}(client, 0 bytes) after SSL_renegotiate -> {ret}; record types on the wire {kinds}")
    assert out, f"{function} of 0 bytes did not start the scheduled renegotiation (nothing sent)"
    assert all(kind == 22 for kind in kinds), f"only handshake records may go out, not {kinds}"
    api.ERR_clear_error()
    server.give(out)
    for _ in range(6):  # finish the renegotiation with reads; the client's first data record is read after it
        ret, _ = api.SSL_read(server.ssl, 10)
        assert ret <= 0 and error(api, server.ssl, ret) in WANT, f"server SSL_read: {ret}"
        move(client, server)
        ret, _ = api.SSL_read(client.ssl, 10)
        assert ret <= 0 and error(api, client.ssl, ret) in WANT, f"client SSL_read: {ret}"
        move(client, server)
        if api.SSL_renegotiate_pending(client.ssl) == 0:
            break
    assert api.SSL_renegotiate_pending(client.ssl) == 0, "the renegotiation the 0-byte write started did not finish"
    assert api.SSL_write(client.ssl, b"after") == 5
    move(client, server)
    ret, got = api.SSL_read(server.ssl, 10)
    assert (ret, got) == (5, b"after"), f"data after the renegotiation: {ret}, {got!r}"
    api.ERR_clear_error()
