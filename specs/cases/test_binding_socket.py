"""The connection over a real non-blocking TCP socket on 127.0.0.1 (SSL_set_fd, or the binding's socket wrapper:
pyOpenSSL's ``Connection(ctx, sock)``, ``SSLContext.wrap_socket``, tlslite-ng's ``TLSConnection(sock)``), through the
normalised endpoint, so that bindings are checked as well as the C-API stacks (whose own SSL_set_fd cases are in
test_ssl_bio_fd.py).

The kernel moves the bytes, so the pump cannot drive these endpoints: the case calls them in turns and waits with
select() (SSL_write.pod / SSL_read.pod NOTES: on a socket, select() says when to repeat the call). Both sockets get
the smallest send and receive buffers the kernel allows, so a writer whose peer does not read fills them quickly."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable

import pytest

from conformance.harness import Harness
from conformance.outcome import Outcome, Role, SslError
from conformance.stacks.base import Endpoint, EndpointConfig

pytestmark = pytest.mark.needs("socket_transport", "client_role", "server_role", "error_codes")

DEADLINE = 20.0  # seconds for one drive: far more than a loopback handshake needs
# Seconds in which no byte arrives for any endpoint whose call keeps wanting to read before a drive calls it a
# deadlock: every such endpoint waits for its peer, and every other one has finished its goal and is not called
# again, so nothing can change. On loopback the kernel has put what send() accepted into the peer's receive queue
# by the time send() returns, so this is ample even on a loaded machine.
QUIET = 2.0
Goal = Callable[[Endpoint], Outcome]


def _small_tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A connected TCP pair on 127.0.0.1 (client, server), both non-blocking, with minimal kernel buffers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)  # inherited by the accepted socket
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
    finally:
        listener.close()
    for s in (client, server):
        s.setblocking(False)
    return client, server


class SocketPair:
    def __init__(self, h: Harness, client: Callable[[EndpointConfig], EndpointConfig] | None = None) -> None:
        csock, ssock = _small_tcp_pair()
        # descriptors, for select(): a wrapper may take the socket object over (wrap_socket detaches it)
        self.socks = (csock.fileno(), ssock.fileno())
        self.h = h
        ccfg = EndpointConfig(role=Role.CLIENT, verify_peer=True)
        self.client = h.client_stack.socket_endpoint(client(ccfg) if client else ccfg,
                                                     f"client({h.client_stack.name}, socket)", csock)
        h.endpoints.append(self.client)
        self.server = h.server_stack.socket_endpoint(EndpointConfig(role=Role.SERVER, verify_peer=False),
                                                     f"server({h.server_stack.name}, socket)", ssock)
        h.endpoints.append(self.server)
        for endpoint in (self.client, self.server):  # C-API endpoints report the library functions they call
            attach = getattr(endpoint, "attach_trace", None)
            if attach is not None:
                attach(h.trace)

    def call(self, endpoint: Endpoint, goal: Goal) -> Outcome:
        out = goal(endpoint)
        self.h.trace.note(f"{endpoint.label}: {out}")
        return out

    def drive(self, goals: list[tuple[Endpoint, Goal]]) -> list[Outcome]:
        """Call each goal in turn, waiting with select() between rounds, until none asks to be repeated."""
        results: dict[int, Outcome] = {}
        started = moved = time.monotonic()
        while len(results) < len(goals):
            reading: list[int] = []  # descriptors of the endpoints whose call wants to read
            for i, (endpoint, goal) in enumerate(goals):
                if i in results:
                    continue
                out = goal(endpoint)
                if not out.retry:
                    results[i] = out
                    moved = time.monotonic()
                    self.h.trace.note(f"{endpoint.label}: {out}")
                elif out.error is SslError.SSL_ERROR_WANT_READ:
                    reading.append(self.socks[0] if endpoint is self.client else self.socks[1])
                else:
                    moved = time.monotonic()
            now = time.monotonic()
            assert now - started < DEADLINE, f"no end after {DEADLINE} s: {results}"
            assert now - moved < QUIET, (f"no end: nothing to read for {QUIET} s while every unfinished call wanted "
                                         f"to read (a deadlock): {results}")
            if len(results) < len(goals):
                readable, _, _ = select.select(self.socks, [], [], 0.05)
                if set(readable) & set(reading) or len(reading) < len(goals) - len(results):
                    moved = time.monotonic()
        return [results[i] for i in range(len(goals))]

    def handshake(self) -> None:
        client, server = self.drive([(self.client, lambda e: e.do_handshake()),
                                     (self.server, lambda e: e.do_handshake())])
        assert client.ok and server.ok, f"the handshake over the socket did not complete: {client}, {server}"

    def read_exactly(self, size: int) -> bytes:
        received = bytearray()
        while len(received) < size:
            want = size - len(received)
            out, = self.drive([(self.server, lambda e, n=want: e.read(n))])  # type: ignore[misc]
            assert out.ok and out.ret > 0, f"reading over the socket failed after {len(received)} bytes: {out}"
            received += out.data
        return bytes(received)


@pytest.mark.clauses(
    "SSL_set_fd/DESCRIPTION/fd-is-transport",
    "SSL_set_fd/DESCRIPTION/inherits-fd-blocking",
    "SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_READ",
    "SSL_read/NOTES/non-blocking-retry",
    "SSL_read/NOTES/socket-select",
)
def test_binding_connection_over_a_non_blocking_socket(h: Harness) -> None:
    """On a non-blocking socket whose peer has said nothing, the client's handshake call returns WANT_READ at once;
    repeated when select() says the socket is readable, the handshake completes over the socket. The server's
    read with nothing sent yet is WANT_READ too; the client's data then arrives."""
    pair = SocketPair(h)
    started = time.monotonic()
    first = pair.call(pair.client, lambda e: e.do_handshake())
    elapsed = time.monotonic() - started
    assert first.error is SslError.SSL_ERROR_WANT_READ, f"the first handshake call must want to read: {first}"
    assert elapsed < 1.0, f"the handshake call on a non-blocking socket waited {elapsed:.2f} s"
    pair.handshake()
    quiet = pair.call(pair.server, lambda e: e.read(100))
    assert quiet.error is SslError.SSL_ERROR_WANT_READ, f"a read with nothing sent must want to read: {quiet}"
    wrote, = pair.drive([(pair.client, lambda e: e.write(b"over the socket"))])
    assert wrote.ok and wrote.ret == 15, wrote
    assert pair.read_exactly(15) == b"over the socket"


@pytest.mark.clauses(
    "SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_WRITE",
    "SSL_get_error/RETURN VALUES/want-write-only-repeat-write",
    "SSL_write/NOTES/non-blocking-retry",
    "SSL_write/NOTES/socket-select",
    "SSL_write/WARNINGS/retry-same-arguments",
)
def test_binding_full_socket_wants_write(h: Harness) -> None:
    """The client writes 16 KiB records while the server reads nothing: once the socket buffers are full a write
    reports WANT_WRITE. The server then reads; the client repeats the same write when select() says the socket is
    writable, and it completes; the server receives every byte, in order."""
    pair = SocketPair(h, client=lambda c: c.with_(partial_write=False))
    pair.handshake()
    chunk = h.rng.randbytes(16384)
    written = 0
    blocked = None
    for _ in range(4096):  # at most 64 MiB: minimal loopback buffers hold a few KiB
        out = pair.client.write(chunk)
        if out.error is SslError.SSL_ERROR_WANT_WRITE:
            blocked = out
            break
        assert out.ok and out.ret == len(chunk), f"write {written} on a socket nobody reads: {out}"
        written += 1
    h.trace.note(f"{written} writes of {len(chunk)} bytes completed before: {blocked}")
    assert blocked is not None, f"{written} writes of {len(chunk)} bytes never filled the socket"
    total = (written + 1) * len(chunk)
    received = bytearray()
    started = time.monotonic()
    done = None
    while done is None or len(received) < total:
        assert time.monotonic() - started < DEADLINE, f"no end after {DEADLINE} s: {len(received)} of {total} bytes"
        got = pair.server.read(65536)
        if got.ok:
            received += got.data
        else:
            assert got.error is SslError.SSL_ERROR_WANT_READ, f"the server's read failed: {got}"
        if done is None:
            out = pair.client.write(chunk)  # the same arguments as the write that wanted to write
            if out.error is SslError.SSL_ERROR_WANT_WRITE:
                select.select([pair.socks[1]], [pair.socks[0]], [], 0.05)
                continue
            assert out.ok and out.ret == len(chunk), f"the repeated write must complete: {out}"
            done = out
            h.trace.note(f"repeated write: {out}")
        elif not got.ok:
            select.select([pair.socks[1]], [], [], 0.05)
    assert bytes(received) == chunk * (written + 1), "the server received other bytes than the client wrote"
