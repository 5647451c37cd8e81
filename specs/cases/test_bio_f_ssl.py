"""C-API cases for BIO_f_ssl.pod: SSL BIOs of the stack under test over one half of a BIO pair (the other half
serves a second SSL BIO of the same stack), over a memory BIO, or in front of a connect BIO that reaches a TLS
server of the same stack on 127.0.0.1.

Ownership follows C: an SSL BIO made with BIO_set_ssl(..., BIO_NOCLOSE) is freed before its SSL (SSL_free then
drops the SSL's references to the BIO pushed behind it), the BIOs of the case last; chains made by BIO_new_ssl*
own their SSL and are freed with BIO_free_all.
"""

from __future__ import annotations

import functools
import select
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from conformance.harness import Harness
from conformance.outcome import Role
from conformance.stacks.base import EndpointConfig
from specs.cases._bio import Owned, call, clear, mem, owned, pair
from specs.cases._capi import SOCKET_TIMEOUT, Background, Side, side, tcp_pair
from specs.cases._tls12wire import change_cipher_specs

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")

BIO_NOCLOSE = 0x00
SSL_RECEIVED_SHUTDOWN = 2
SSL_MODE_AUTO_RETRY = 0x00000004
ROUNDS = 40


def kind(h: Harness, method: str, *args: Any) -> int:
    """The BIO type of a fresh BIO of ``method`` (a BIO_s_* / BIO_f_* name) or made by ``BIO_new_connect(*args)``:
    the library's own number for that kind (not every library's headers define the BIO_TYPE_* names)."""
    b = call(h, method, *args) if method.startswith("BIO_new") else call(h, "BIO_new", call(h, method))
    assert b is not None, f"{method} gave no BIO"
    try:
        return int(call(h, "BIO_method_type", b))
    finally:
        call(h, "BIO_free", b)


def ssl_bio(h: Harness, s: Side, transport: Any) -> Any:
    """An SSL BIO holding ``s.ssl`` (BIO_NOCLOSE) with ``transport`` pushed behind it."""
    method = call(h, "BIO_f_ssl")
    assert method is not None, "BIO_f_ssl() returned NULL"
    b = call(h, "BIO_new", method)
    assert b is not None, "BIO_new(BIO_f_ssl()) returned NULL"
    assert call(h, "BIO_set_ssl", b, s.ssl, BIO_NOCLOSE) == 1, "BIO_set_ssl did not return 1"
    assert call(h, "BIO_push", b, transport) == b
    return b


def drop_ssl_bio(h: Harness, b: Any, s: Side, o: Owned, transport: Any) -> None:
    """Pop and free an SSL BIO made by :func:`ssl_bio` (BIO_NOCLOSE) before its SSL is freed. Since OpenSSL 1.0.0
    the pop dissociates the transport from the SSL (BIO_f_ssl.pod, HISTORY), so the case still owns the transport.
    A library whose SSL still uses the transport after the pop frees it in SSL_free, and the case's own BIO_free
    would free it a second time: wolfSSL 5.5.4 (wolfSSL_BIO_pop leaves the SSL's BIOs; seen as a SIGSEGV in the case's
    BIO_free under glibc's malloc perturbation, a silent double free otherwise, which can corrupt the heap of the
    process for the cases after it). Then the SSL's SSL_free is the one release of the transport."""
    h.capi.BIO_pop(b)
    h.capi.BIO_free(b)
    if s.ssl is not None and transport in (h.capi.SSL_get_rbio(s.ssl), h.capi.SSL_get_wbio(s.ssl)):
        h.trace.note("the SSL still uses the transport after BIO_pop: SSL_free releases it, not the case")
        o.forget(transport)


@contextmanager
def ssl_bio_pair(h: Harness, adjust: Any = None) -> Iterator[tuple[Any, Any, Side, Side]]:
    """Client and server SSL BIOs over the two halves of a BIO pair: (client BIO, server BIO, client, server)."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        c = side(h.capi, Role.CLIENT, adjust=adjust)
        s = side(h.capi, Role.SERVER, adjust=adjust)
        made: list[tuple[Any, Side, Any]] = []
        try:
            made.append((ssl_bio(h, c, b1), c, b1))
            made.append((ssl_bio(h, s, b2), s, b2))
            yield made[0][0], made[1][0], c, s
        finally:
            for b, owner, transport in made:  # off the chain first: some libraries' BIO_free frees the whole chain
                drop_ssl_bio(h, b, owner, o, transport)
            c.close()
            s.close()


class Shuttle:
    """The link between two BIO pairs, (a1, a2) behind the client's SSL BIO and (b1, b2) behind the server's: what
    the client writes to a1 is read from a2 and written to b1 (the server reads it from b2), and back the other way.
    Each direction keeps a copy of what it carried, so a case can read the TLS 1.2 record types off it (their headers
    are in clear, RFC 5246 section 6.2.1)."""

    def __init__(self, h: Harness, a2: Any, b1: Any) -> None:
        self.h, self.a2, self.b1 = h, a2, b1
        self.c2s, self.s2c = bytearray(), bytearray()
        self._held: dict[str, bytearray] = {"c2s": bytearray(), "s2c": bytearray()}

    def _one(self, src: Any, dst: Any, seen: bytearray, held: bytearray) -> int:
        moved = 0
        pending = int(call(self.h, "BIO_ctrl_pending", src))
        if pending > 0:
            n, data = call(self.h, "BIO_read", src, pending)
            if n > 0:
                seen += data[:n]
                held += data[:n]
                moved += n
        if held:
            n = call(self.h, "BIO_write", dst, bytes(held))
            if n > 0:
                del held[:n]
                moved += n
        return moved

    def __call__(self) -> int:
        """Move what is waiting each way; how many bytes moved (0: nothing was waiting)."""
        return self._one(self.a2, self.b1, self.c2s, self._held["c2s"]) + \
            self._one(self.b1, self.a2, self.s2c, self._held["s2c"])

    def ccs(self) -> tuple[int, int]:
        """ChangeCipherSpec records carried so far, (client to server, server to client)."""
        return change_cipher_specs(bytes(self.c2s)), change_cipher_specs(bytes(self.s2c))


class TcpTap:
    """Two TCP pairs on 127.0.0.1 joined by a relay thread that keeps a copy of each direction: the client's socket
    ``client`` and the server's ``server`` talk through it as through one connection, and ``c2s`` / ``s2c`` hold
    what each way carried (the TLS 1.2 record headers are in clear, RFC 5246 section 6.2.1)."""

    def __init__(self) -> None:
        self.client, self._near = tcp_pair()
        self._far, self.server = tcp_pair()
        self.c2s, self.s2c = bytearray(), bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ends = {self._near: (self._far, self.c2s), self._far: (self._near, self.s2c)}
        while not self._stop.is_set():
            ready, _, _ = select.select(list(ends), [], [], 0.05)
            for sock in ready:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                to, seen = ends[sock]
                with self._lock:
                    seen += data
                to.sendall(data)

    def ccs(self) -> tuple[int, int]:
        """ChangeCipherSpec records carried so far, (client to server, server to client)."""
        with self._lock:
            return change_cipher_specs(bytes(self.c2s)), change_cipher_specs(bytes(self.s2c))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(SOCKET_TIMEOUT)
        self._near.close()
        self._far.close()


@contextmanager
def tapped_ssl_bio_pair(h: Harness, adjust: Any = None) -> Iterator[tuple[Any, Any, Shuttle]]:
    """Client and server SSL BIOs each over its own BIO pair, joined by a :class:`Shuttle` that the case drives
    (handshake / send with ``move``): (client BIO, server BIO, shuttle)."""
    with owned(h) as o:
        a1, a2 = pair(h, o)
        b1, b2 = pair(h, o)
        c = side(h.capi, Role.CLIENT, adjust=adjust)
        s = side(h.capi, Role.SERVER, adjust=adjust)
        made: list[tuple[Any, Side, Any]] = []
        try:
            made.append((ssl_bio(h, c, a1), c, a1))
            made.append((ssl_bio(h, s, b2), s, b2))
            yield made[0][0], made[1][0], Shuttle(h, a2, b1)
        finally:
            for b, owner, transport in made:
                drop_ssl_bio(h, b, owner, o, transport)
            c.close()
            s.close()


def handshake(h: Harness, cb: Any, sb: Any, move: Callable[[], int] | None = None) -> None:
    done = [False, False]
    for _ in range(ROUNDS):
        if move is not None:
            move()
        for i, b in enumerate((cb, sb)):
            if not done[i]:
                done[i] = call(h, "BIO_do_handshake", b) == 1
        if all(done):
            return
    raise AssertionError(f"BIO_do_handshake did not complete on both SSL BIOs in {ROUNDS} rounds: {done}")


def send(h: Harness, writer: Any, reader: Any, data: bytes, move: Callable[[], int] | None = None) -> bytes:
    """Write ``data`` to one SSL BIO and read it from the other, retrying both while they ask for it (``move``
    carries the bytes between them where they are not on one BIO pair)."""
    got = b""
    written = 0
    for _ in range(ROUNDS):
        if written < len(data):
            n = call(h, "BIO_write", writer, data[written:])
            if n > 0:
                written += n
        if move is not None:
            move()
        n, chunk = call(h, "BIO_read", reader, len(data) - len(got))
        if n > 0:
            got += chunk
        if len(got) == len(data):
            return got
    raise AssertionError(f"only {len(got)} of {len(data)} bytes arrived through the SSL BIOs")


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/set-get-ssl", "BIO_f_ssl/DESCRIPTION/pushed-bio-is-transport")
def test_set_get_ssl_and_the_pushed_transport(h: Harness) -> None:
    """BIO_new(BIO_f_ssl()) gives an SSL BIO; BIO_get_ssl gives back the SSL set with BIO_set_ssl (both 1); the
    pair half pushed behind it is the SSL's read and write BIO."""
    with ssl_bio_pair(h) as (cb, _, c, _):
        assert call(h, "BIO_method_type", cb) == kind(h, "BIO_f_ssl")
        ret, got = call(h, "BIO_get_ssl", cb)
        assert ret == 1 and got == c.ssl, f"BIO_get_ssl gave {ret}, {got!r}"
        rbio, wbio = call(h, "SSL_get_rbio", c.ssl), call(h, "SSL_get_wbio", c.ssl)
        assert rbio is not None and rbio == wbio == call(h, "BIO_next", cb), "the pushed BIO is not the SSL's BIO"


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/first-io-handshakes", "BIO_f_ssl/DESCRIPTION/retry-flags")
def test_first_write_starts_the_handshake(h: Harness) -> None:
    """The client's first BIO_write, before any handshake, sends a TLS handshake record into the pair and, since
    the server has not answered, returns <= 0 asking for a retry with BIO_should_read."""
    with ssl_bio_pair(h) as (cb, sb, _, _):
        assert call(h, "BIO_write", cb, b"ping") <= 0, "the first write finished without a handshake"
        assert call(h, "BIO_should_retry", cb), "a write waiting for the server's handshake did not ask for a retry"
        assert call(h, "BIO_should_read", cb), "the retry request of a write waiting for the server is not a read"
        _, first = call(h, "BIO_read", call(h, "BIO_next", sb), 1)
        assert first == b"\x16", "the first write did not send a TLS handshake record"


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/io-is-tls", "BIO_f_ssl/DESCRIPTION/first-io-handshakes")
def test_ssl_bios_carry_data_both_ways(h: Harness) -> None:
    """Writing to the client SSL BIO and reading from the server's (retrying both while they ask), the bytes
    arrive, and the server's answer comes back the same way; no BIO_do_handshake is called."""
    with ssl_bio_pair(h) as (cb, sb, _, _):
        assert send(h, cb, sb, b"ping") == b"ping"
        assert send(h, sb, cb, b"pong") == b"pong"


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/do-handshake", "BIO_f_ssl/DESCRIPTION/retry-flags")
def test_do_handshake(h: Harness) -> None:
    """The client's first BIO_do_handshake returns <= 0 with a retry request; alternating the two SSL BIOs, both
    return 1; a further call on a connected BIO returns 1 again. A BIO_read on the connected server BIO with nothing
    sent returns <= 0 asking for a retry with BIO_should_read."""
    with ssl_bio_pair(h) as (cb, sb, _, _):
        assert call(h, "BIO_do_handshake", cb) <= 0
        assert call(h, "BIO_should_retry", cb), "an unfinished handshake did not ask for a retry"
        handshake(h, cb, sb)
        assert call(h, "BIO_do_handshake", cb) == 1
        assert call(h, "BIO_do_handshake", sb) == 1
        for _ in range(ROUNDS):  # the client's BIO takes in what the handshake still left for it (tickets)
            n, _ = call(h, "BIO_read", cb, 16)
            if n <= 0 and call(h, "BIO_should_retry", cb):
                break
        n, data = call(h, "BIO_read", sb, 16)
        assert n <= 0 and not data, f"BIO_read with nothing sent gave {n} {data!r}"
        assert call(h, "BIO_should_retry", sb), "a read waiting for data did not ask for a retry"
        assert call(h, "BIO_should_read", sb), "the retry request of a read waiting for data is not a read"


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/new-ssl", "BIO_f_ssl/DESCRIPTION/ssl-mode")
def test_new_ssl_and_ssl_mode(h: Harness) -> None:
    """BIO_new_ssl(ctx, 1) holds a client SSL, BIO_new_ssl(ctx, 0) a server SSL; BIO_set_ssl_mode returns 1 and
    switches the role (0: server, 1: client)."""
    c = side(h.capi, Role.CLIENT)
    try:
        for client, server in ((1, 0), (0, 1)):
            b = call(h, "BIO_new_ssl", c.ctx, client)
            assert b is not None, "BIO_new_ssl returned NULL"
            try:
                ret, ssl = call(h, "BIO_get_ssl", b)
                assert ret == 1 and ssl is not None
                assert call(h, "SSL_is_server", ssl) == server, f"BIO_new_ssl(ctx, {client}) has the wrong role"
                assert call(h, "BIO_set_ssl_mode", b, server) == 1
                assert call(h, "SSL_is_server", ssl) == client, f"BIO_set_ssl_mode(b, {server}) did not switch"
            finally:
                call(h, "BIO_free_all", b)
    finally:
        c.close()


def _serve(api: Any, lst: socket.socket) -> bytes:
    """Accept one TLS client on ``lst`` with an SSL of the same stack; return what it sent."""
    conn, _ = lst.accept()
    tv = struct.pack("ll", int(SOCKET_TIMEOUT), 0)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
    s = side(api, Role.SERVER, sock=conn)
    try:
        if api.SSL_accept(s.ssl) != 1:
            return b""
        n, data = api.SSL_read(s.ssl, 64)
        return bytes(data) if n > 0 else b""
    finally:
        s.close()


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/connect-chains", "BIO_f_ssl/NOTES/ctrl-passes-through",
                     "BIO_f_ssl/DESCRIPTION/do-handshake-connects")
def test_ssl_connect_chains_reach_a_server(h: Harness) -> None:
    """BIO_new_ssl_connect gives SSL -> connect, BIO_new_buffer_ssl_connect buffer -> SSL -> connect. The host set
    with BIO_set_conn_hostname on the head reaches the connect BIO; BIO_do_handshake on the head connects and
    completes TLS with a server of the same stack, which then reads what the chain writes."""
    c = side(h.capi, Role.CLIENT)
    try:
        ssl_t, buffer_t = kind(h, "BIO_f_ssl"), kind(h, "BIO_f_buffer")
        connect_t = kind(h, "BIO_new_connect", b"127.0.0.1:1")
        for maker, types in (("BIO_new_ssl_connect", [ssl_t, connect_t]),
                             ("BIO_new_buffer_ssl_connect", [buffer_t, ssl_t, connect_t])):
            head = call(h, maker, c.ctx)
            assert head is not None, f"{maker} returned NULL"
            lst = socket.create_server(("127.0.0.1", 0))
            try:
                b, seen = head, []
                while b is not None:
                    seen.append(call(h, "BIO_method_type", b))
                    b = call(h, "BIO_next", b)
                assert seen == types, f"{maker}: chain of types {seen}, expected {types}"
                name = f"127.0.0.1:{lst.getsockname()[1]}"
                assert call(h, "BIO_set_conn_hostname", head, name.encode()) == 1
                last = head
                while call(h, "BIO_next", last) is not None:
                    last = call(h, "BIO_next", last)
                assert call(h, "BIO_get_conn_hostname", last) == "127.0.0.1", "the host did not reach the connect BIO"
                server = Background(functools.partial(_serve, h.capi, lst))
                assert call(h, "BIO_do_handshake", head) == 1, f"{maker}: BIO_do_handshake did not connect"
                assert call(h, "BIO_write", head, b"through") == 7
                assert call(h, "BIO_flush", head) == 1
                assert server.join() == b"through", "the server did not read what the chain wrote"
            finally:
                call(h, "BIO_free_all", head)
                lst.close()
    finally:
        c.close()


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/ssl-shutdown")
def test_ssl_shutdown_finds_the_ssl_bio(h: Harness) -> None:
    """BIO_ssl_shutdown on a chain buffer -> SSL BIO (after a handshake): the peer's SSL BIO then reads 0 and its
    SSL has received close_notify."""
    with ssl_bio_pair(h) as (cb, sb, _, s):
        handshake(h, cb, sb)
        buf = call(h, "BIO_new", call(h, "BIO_f_buffer"))
        assert call(h, "BIO_push", buf, cb) == buf
        try:
            call(h, "BIO_ssl_shutdown", buf)
            ret = -1
            for _ in range(ROUNDS):
                ret, _ = call(h, "BIO_read", sb, 16)
                if ret == 0 or not call(h, "BIO_should_retry", sb):
                    break
            assert ret == 0, f"the peer read {ret} after BIO_ssl_shutdown, not the end of the connection"
            assert call(h, "SSL_get_shutdown", s.ssl) & SSL_RECEIVED_SHUTDOWN, "no close_notify arrived"
        finally:
            call(h, "BIO_pop", buf)
            call(h, "BIO_free", buf)


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/copy-session-id")
def test_copy_session_id(h: Harness) -> None:
    """After a handshake, BIO_ssl_copy_session_id(new client's SSL BIO, client's SSL BIO) returns 1 and the new
    client's SSL has the same session; from a chain without an SSL BIO it returns 0."""
    with ssl_bio_pair(h) as (cb, sb, c, _), owned(h) as o:
        handshake(h, cb, sb)
        other = side(h.capi, Role.CLIENT)
        ob = m = None
        try:
            m = mem(h, o)
            ob = ssl_bio(h, other, m)
            assert call(h, "BIO_ssl_copy_session_id", ob, cb) == 1
            session = call(h, "SSL_get_session", c.ssl)
            assert session is not None and call(h, "SSL_get_session", other.ssl) == session, \
                "the session was not copied"
            plain = mem(h, o)
            assert call(h, "BIO_ssl_copy_session_id", plain, cb) == 0, "a chain without an SSL BIO gave 1"
            clear(h)
        finally:
            if ob is not None:
                drop_ssl_bio(h, ob, other, o, m)
            other.close()


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/reset")
def test_reset_starts_over(h: Harness) -> None:
    """A client SSL BIO over one half of a BIO pair: the first write leaves a ClientHello in the pair. BIO_reset on
    the SSL BIO drops it (the reset went on to the pair half) and the next write starts a new handshake: a new
    handshake record is waiting in the pair."""
    with owned(h) as o:
        b1, b2 = pair(h, o)
        c = side(h.capi, Role.CLIENT)
        b = None
        try:
            b = ssl_bio(h, c, b1)
            assert call(h, "BIO_write", b, b"x") <= 0
            assert call(h, "BIO_ctrl_pending", b2) > 0, "no ClientHello was written"
            call(h, "BIO_reset", b)
            clear(h)
            assert call(h, "BIO_ctrl_pending", b2) == 0, "BIO_reset was not passed on to the next BIO"
            assert call(h, "BIO_write", b, b"x") <= 0
            n, first = call(h, "BIO_read", b2, 5)
            assert n == 5 and first[0] == 0x16, f"no new handshake record after BIO_reset: {first!r}"
            clear(h)
        finally:
            if b is not None:
                drop_ssl_bio(h, b, c, o, b1)
            c.close()


def _tls12(config: EndpointConfig) -> EndpointConfig:
    return replace(config, max_version="TLSv1.2", allow_client_renegotiation=True)


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/renegotiate-bytes", "BIO_f_ssl/DESCRIPTION/renegotiate-timeout")
def test_renegotiate_setters_return_one(h: Harness) -> None:
    """BIO_set_ssl_renegotiate_bytes(b, 512) and BIO_set_ssl_renegotiate_timeout(b, 300) succeed: 1, as RETURN
    VALUES says."""
    with ssl_bio_pair(h, _tls12) as (cb, _, _, _):
        assert call(h, "BIO_set_ssl_renegotiate_bytes", cb, 512) == 1
        assert call(h, "BIO_set_ssl_renegotiate_timeout", cb, 300) == 1


@pytest.mark.needs("tls1_2", "renegotiation")
@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/renegotiate-bytes")
def test_renegotiates_after_the_byte_count(h: Harness) -> None:
    """TLS 1.2: no renegotiation is counted at first; after BIO_set_ssl_renegotiate_bytes(client, 512) and 600
    bytes written, BIO_get_num_renegotiates is 1 and data still flows both ways. The clause says the BIO
    renegotiates, so the new handshake must also show on the link: one more ChangeCipherSpec record each way than
    the first handshake sent (RFC 5246 sections 7.1, 7.3), which a renegotiation only asked for, or declined by the
    server with a warning no_renegotiation after which the client carried on, does not give."""
    with tapped_ssl_bio_pair(h, _tls12) as (cb, sb, move):
        handshake(h, cb, sb, move)
        move()
        before = move.ccs()
        assert call(h, "BIO_get_num_renegotiates", cb) == 0
        call(h, "BIO_set_ssl_renegotiate_bytes", cb, 512)
        data = h.rng.randbytes(600)
        assert send(h, cb, sb, data, move) == data
        assert call(h, "BIO_get_num_renegotiates", cb) == 1, "600 bytes after a 512-byte setting: no renegotiation"
        assert send(h, sb, cb, b"after", move) == b"after"
        assert send(h, cb, sb, b"again", move) == b"again"
        assert send(h, sb, cb, b"done", move) == b"done"
        move()
        now = move.ccs()
        h.trace.note(f"ChangeCipherSpec records (client->server, server->client): {before} -> {now}")
        assert now[0] > before[0] and now[1] > before[1], \
            f"BIO_get_num_renegotiates is 1 but no new handshake completed on the link (ChangeCipherSpec records " \
            f"each way {before} -> {now})"


@pytest.mark.needs("tls1_2", "renegotiation")
@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/renegotiate-bytes")
def test_renegotiate_bytes_below_512_do_not_count(h: Harness) -> None:
    """num must be at least 512: after BIO_set_ssl_renegotiate_bytes(client, 511) and 600 bytes written, no
    renegotiation has happened (added by the mutation sweep, docs/mutation-sweep.md: an SSL BIO that took 511
    passed every other case)."""
    with ssl_bio_pair(h, _tls12) as (cb, sb, _, _):
        handshake(h, cb, sb)
        ret = call(h, "BIO_set_ssl_renegotiate_bytes", cb, 511)
        h.trace.note(f"BIO_set_ssl_renegotiate_bytes(511) -> {ret}")
        data = h.rng.randbytes(600)
        assert send(h, cb, sb, data) == data
        got = call(h, "BIO_get_num_renegotiates", cb)
        assert got == 0, f"{got} renegotiation(s) after 600 bytes with a byte count of 511, which is below 512"


@pytest.mark.needs("tls1_2", "renegotiation")
@pytest.mark.clauses("BIO_f_ssl/NOTES/auto-retry")
def test_auto_retry_reads_through_a_renegotiation(h: Harness) -> None:
    """TLS 1.2 over blocking TCP sockets on 127.0.0.1, the client's SSL (SSL_MODE_AUTO_RETRY set) in an SSL BIO:
    the server starts a renegotiation and then writes; the client's BIO_read returns that data, never a retry
    request. The bytes go through a relay that keeps a copy (:class:`TcpTap`). The renegotiation the read ran into
    must be real: after one more exchange each way (which ends it, whether or not it ended inside the read), the new
    handshake must show on the relay, one more ChangeCipherSpec record each way than the first handshake sent (RFC
    5246 sections 7.1, 7.3); a HelloRequest never sent, or a renegotiation declined and carried on from, gives
    none."""
    api = h.capi
    tap = TcpTap()
    csock, ssock = tap.client, tap.server
    c = side(api, Role.CLIENT, sock=csock, adjust=_tls12)
    s = side(api, Role.SERVER, sock=ssock, adjust=_tls12)
    cb = None
    try:
        call(h, "SSL_set_mode", c.ssl, SSL_MODE_AUTO_RETRY)
        accepting = Background(functools.partial(api.SSL_accept, s.ssl))
        cb = call(h, "BIO_new", call(h, "BIO_f_ssl"))
        assert call(h, "BIO_set_ssl", cb, c.ssl, BIO_NOCLOSE) == 1
        assert call(h, "BIO_do_handshake", cb) == 1
        assert accepting.join() == 1
        before = tap.ccs()

        def renegotiate_then_write() -> int:
            if api.SSL_renegotiate(s.ssl) != 1 or api.SSL_do_handshake(s.ssl) != 1:
                return -1
            n, _ = api.SSL_read(s.ssl, 1)  # "?": it may arrive before or after the client's new ClientHello
            return int(api.SSL_write(s.ssl, b"after")) if n == 1 else -2

        server = Background(renegotiate_then_write)
        assert call(h, "BIO_write", cb, b"?") == 1
        n, data = call(h, "BIO_read", cb, 16)
        assert (n, data) == (5, b"after"), \
            f"BIO_read during a renegotiation gave {n} (retry: {call(h, 'BIO_should_retry', cb)})"
        assert server.join() == 5

        def read_then_write() -> int:
            n, _ = api.SSL_read(s.ssl, 1)
            return int(api.SSL_write(s.ssl, b"done")) if n == 1 else -2

        # the renegotiation the read answered need not be over when "after" came: one more exchange each way ends it
        server = Background(read_then_write)
        assert call(h, "BIO_write", cb, b"!") == 1
        n, data = call(h, "BIO_read", cb, 16)
        assert (n, data) == (4, b"done"), f"BIO_read after the renegotiation gave {n}"
        assert server.join() == 4
        now = tap.ccs()
        h.trace.note(f"ChangeCipherSpec records (client->server, server->client): {before} -> {now}")
        assert now[0] > before[0] and now[1] > before[1], \
            f"BIO_read returned the data, but no renegotiation completed on the link (ChangeCipherSpec records " \
            f"each way {before} -> {now})"
    finally:
        if cb is not None:
            call(h, "BIO_pop", cb)
            call(h, "BIO_free", cb)
        c.close()
        s.close()
        tap.close()


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/noclose-keeps-ssl")
def test_freeing_a_noclose_ssl_bio_keeps_the_ssl(h: Harness) -> None:
    """An SSL BIO holding an SSL with BIO_NOCLOSE is freed: the SSL is not, and still answers (its SSL_CTX, its
    role). Added by the mutation sweep (docs/mutation-sweep.md): an SSL BIO that freed its SSL whatever the close
    flag passed every other case."""
    api = h.capi
    c = side(api, Role.CLIENT)
    try:
        b = call(h, "BIO_new", call(h, "BIO_f_ssl"))
        assert b is not None, "BIO_new(BIO_f_ssl()) returned NULL"
        assert call(h, "BIO_set_ssl", b, c.ssl, BIO_NOCLOSE) == 1
        call(h, "BIO_free", b)
        assert call(h, "SSL_get_SSL_CTX", c.ssl) is not None, "the SSL is gone after freeing its BIO_NOCLOSE SSL BIO"
        assert call(h, "SSL_is_server", c.ssl) == 0, "the SSL no longer answers after freeing its BIO_NOCLOSE SSL BIO"
    finally:
        c.close()
