"""Small OpenSSL-style programs written from the man pages alone, run against real peers on 127.0.0.1.

Each test is what an application author would write after reading the OpenSSL 3.0 pages (``../shared/openssl-docs``
and ``../shared/seeds``): the engine's C-API surface (``engine.ssl``, ``engine.bio``, ``engine.err``) used through
sockets, select(), memory BIOs and the accept BIO, with ``openssl s_server`` / ``s_client`` and ``curl`` as the peers.
The programs know nothing of the engine's insides: a failure here is either an engine fault (fixed, with a case in
``specs/cases``) or a misreading of a page (fixed here).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.certs import SERVER_NAME, TestPKI, default_pki
from engine import bio as B
from engine import err as E
from engine import ssl as S
from engine.bio import constants as BC
from engine.ssl import constants as C

OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl program is not installed")
needs_curl = pytest.mark.skipif(CURL is None, reason="the curl program is not installed")

DEADLINE = 20.0  # seconds any one program may take before the test calls it a hang


# --- peers ------------------------------------------------------------------------------------------------------------


@dataclass
class Program:
    """A peer program on loopback: its process, its port and everything it printed (read by a thread)."""

    proc: subprocess.Popen[bytes]
    port: int = 0
    output: bytearray = field(default_factory=bytearray)
    lock: threading.Lock = field(default_factory=threading.Lock)
    reader: threading.Thread | None = None

    def text(self) -> bytes:
        with self.lock:
            return bytes(self.output)

    def wait_for(self, needle: bytes, *, start: int = 0, timeout: float = DEADLINE) -> int:
        """Wait until ``needle`` appears in the output after offset ``start``; returns the offset after it."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = self.text().find(needle, start)
            if found >= 0:
                return found + len(needle)
            if self.proc.poll() is not None and self.text().find(needle, start) < 0:
                break
            time.sleep(0.01)
        raise AssertionError(f"{needle!r} never appeared in the peer's output: {self.text()[-2000:]!r}")

    def send(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def join_reader(self) -> None:
        if self.reader is not None:
            self.reader.join(timeout=DEADLINE)

    @contextlib.contextmanager
    def stopped(self, seconds: float = 0.3) -> Iterator[None]:
        """The program stopped (SIGSTOP: it reads nothing, so the socket buffers fill up) and continued after
        ``seconds`` while the block runs; the block ends only after it was continued."""
        self.proc.send_signal(signal.SIGSTOP)
        resume = threading.Timer(seconds, self.proc.send_signal, args=(signal.SIGCONT,))
        resume.start()
        try:
            yield
        finally:
            resume.join()


def _pump_output(program: Program) -> None:
    assert program.proc.stdout is not None
    fd = program.proc.stdout.fileno()
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        with program.lock:
            program.output += chunk


def spawn(argv: list[str]) -> Program:
    """Start ``argv`` with its stdin a pipe and its output collected by a thread."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    program = Program(proc)
    program.reader = start_thread(lambda: _pump_output(program))
    return program


def start_thread(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def loopback_listener() -> socket.socket:
    """A listening socket on 127.0.0.1 and a port the system chose, whose accept() gives up after DEADLINE."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(DEADLINE)
    return listener


def port_of(fd: int) -> int:
    """The local port of the socket behind descriptor ``fd`` (looked at through a duplicate)."""
    with socket.socket(fileno=os.dup(fd)) as probe:
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def s_server(pki: TestPKI, *args: str, key: str = "ecdsa") -> Iterator[Program]:
    """``openssl s_server`` on 127.0.0.1 and a port the system chose (its ACCEPT line says which)."""
    assert OPENSSL is not None
    identity = pki.server_identity(key)
    program = spawn([OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-cert", str(identity.cert_path),
                     "-key", str(identity.key_path), *args])
    proc = program.proc
    try:
        program.wait_for(b"ACCEPT")
        match = re.search(rb"ACCEPT [^\n]*:(\d+)", program.text())
        assert match is not None, program.text()
        program.port = int(match.group(1))
        yield program
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGCONT)
            proc.kill()
        proc.wait(timeout=DEADLINE)
        program.join_reader()
        if proc.stdin is not None:
            proc.stdin.close()
        if proc.stdout is not None:
            proc.stdout.close()


def run_client(argv: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=DEADLINE, check=False)


# --- small helpers an application would have --------------------------------------------------------------------------


def errors() -> list[str]:
    """Empty the error queue (ERR_get_error.pod) into readable strings."""
    found = []
    while (code := E.ERR_get_error()) != 0:
        found.append(E.ERR_error_string(code))
    return found


def blocking_with_deadline(sock: socket.socket) -> socket.socket:
    """A truly blocking descriptor (a Python timeout would make it non-blocking underneath) whose reads and writes
    give up after DEADLINE (SO_RCVTIMEO / SO_SNDTIMEO), so a stuck peer fails the test instead of hanging it."""
    sock.settimeout(None)
    timeval = struct.pack("ll", int(DEADLINE), 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
    return sock


def connected_socket(port: int) -> socket.socket:
    return blocking_with_deadline(socket.create_connection(("127.0.0.1", port), timeout=DEADLINE))


def client_ctx(pki: TestPKI, *, verify: int = C.SSL_VERIFY_PEER, max_version: int = 0) -> Any:
    """SSL_CTX_new(TLS_client_method()) trusting the test CA (SSL_CTX_load_verify_locations)."""
    ctx = S.SSL_CTX_new(S.TLS_client_method())
    assert ctx is not None, errors()
    assert S.SSL_CTX_load_verify_locations(ctx, str(pki.ca_path), None) == 1, errors()
    S.SSL_CTX_set_verify(ctx, verify, None)
    if max_version:
        assert S.SSL_CTX_set_max_proto_version(ctx, max_version) == 1
    return ctx


def server_ctx(pki: TestPKI) -> Any:
    ctx = S.SSL_CTX_new(S.TLS_server_method())
    assert ctx is not None, errors()
    assert S.SSL_CTX_use_certificate_file(ctx, str(pki.server.cert_path), C.SSL_FILETYPE_PEM) == 1, errors()
    assert S.SSL_CTX_use_PrivateKey_file(ctx, str(pki.server.key_path), C.SSL_FILETYPE_PEM) == 1, errors()
    return ctx


def new_client(ctx: Any, host: str, sock: socket.socket) -> Any:
    """SSL_new + SSL_set1_host + SSL_set_tlsext_host_name + SSL_set_fd: the client set-up of the pages."""
    ssl = S.SSL_new(ctx)
    assert ssl is not None, errors()
    assert S.SSL_set1_host(ssl, host) == 1
    assert S.SSL_set_tlsext_host_name(ssl, host) == 1
    assert S.SSL_set_fd(ssl, sock.fileno()) == 1
    return ssl


def use_client_certificate(ctx: Any, pki: TestPKI) -> None:
    """SSL_CTX_use_certificate_file + SSL_CTX_use_PrivateKey_file with the test CA's client identity."""
    assert S.SSL_CTX_use_certificate_file(ctx, str(pki.client.cert_path), C.SSL_FILETYPE_PEM) == 1
    assert S.SSL_CTX_use_PrivateKey_file(ctx, str(pki.client.key_path), C.SSL_FILETYPE_PEM) == 1


@contextlib.contextmanager
def connected_client(ctx: Any, port: int) -> Iterator[Any]:
    """Program 1's set-up: a blocking socket to 127.0.0.1:``port``, an SSL on it (new_client, SERVER_NAME) that
    completed SSL_connect; the SSL is freed and the socket closed when the block ends."""
    sock = connected_socket(port)
    ssl = new_client(ctx, SERVER_NAME, sock)
    try:
        assert S.SSL_connect(ssl) == 1, errors()
        yield ssl
    finally:
        S.SSL_free(ssl)
        sock.close()


def reader(ssl: Any, size: int, into: bytearray) -> Callable[[], int]:
    """An SSL_read(``size``) call for a retry loop that keeps what it delivers in ``into``."""

    def read_once() -> int:
        ret, data = S.SSL_read(ssl, size)
        into.extend(data)
        return ret

    return read_once


def read_to_close(ssl: Any) -> bytes:
    """SSL_read until SSL_ERROR_ZERO_RETURN (the peer's close_notify), on a blocking socket."""
    body = bytearray()
    while True:
        ret, data = S.SSL_read(ssl, 16384)
        if ret > 0:
            body += data
            continue
        err = S.SSL_get_error(ssl, ret)
        if err == C.SSL_ERROR_ZERO_RETURN:
            return bytes(body)
        raise AssertionError(f"SSL_read -> {ret}, SSL_get_error -> {err}, {errors()}, after {bytes(body)[:200]!r}")


def blocking_get(ctx: Any, port: int, host: str = SERVER_NAME, *, session: Any = None) -> tuple[Any, bytes]:
    """Program 1: a blocking HTTPS-ish GET. Returns the SSL (still allocated, for the caller's checks) and the
    response."""
    sock = connected_socket(port)
    ssl = new_client(ctx, host, sock)
    if session is not None:
        assert S.SSL_set_session(ssl, session) == 1
    try:
        ret = S.SSL_connect(ssl)
        assert ret == 1, (ret, S.SSL_get_error(ssl, ret), errors(), S.SSL_get_verify_result(ssl))
        request = b"GET / HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n"
        assert S.SSL_write(ssl, request) == len(request), errors()
        body = read_to_close(ssl)
        assert S.SSL_shutdown(ssl) == 1  # close_notify received already: the shutdown is complete
        return ssl, body
    finally:
        sock.close()


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return default_pki()


# --- 1. blocking client -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_blocking_client_against_s_server_www(pki: TestPKI, version: str) -> None:
    with s_server(pki, "-www", version) as server:
        ctx = client_ctx(pki)
        ssl, body = blocking_get(ctx, server.port)
        assert body.startswith(b"HTTP/1.0 200 ok"), body[:200]
        assert S.SSL_get_verify_result(ssl) == C.X509_V_OK
        assert S.SSL_version(ssl) == (C.TLS1_3_VERSION if version == "-tls1_3" else C.TLS1_2_VERSION)
        S.SSL_free(ssl)
        S.SSL_CTX_free(ctx)


@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_blocking_client_wrong_host_name(pki: TestPKI, version: str) -> None:
    """SSL_set1_host with a name the certificate does not carry: with SSL_VERIFY_PEER the handshake fails and
    SSL_get_verify_result says X509_V_ERR_HOSTNAME_MISMATCH; with SSL_VERIFY_NONE it completes and the result says
    the same."""
    with s_server(pki, "-www", version) as server:
        ctx = client_ctx(pki)
        sock = connected_socket(server.port)
        ssl = new_client(ctx, "wrong.test", sock)
        ret = S.SSL_connect(ssl)
        assert ret <= 0
        assert S.SSL_get_error(ssl, ret) == C.SSL_ERROR_SSL
        assert S.SSL_get_verify_result(ssl) == C.X509_V_ERR_HOSTNAME_MISMATCH
        assert errors(), "a failed verification leaves an entry in the error queue"
        S.SSL_free(ssl)
        sock.close()

        S.SSL_CTX_set_verify(ctx, C.SSL_VERIFY_NONE, None)
        ssl, body = blocking_get(ctx, server.port, "wrong.test")
        assert body.startswith(b"HTTP/1.0 200 ok")
        assert S.SSL_get_verify_result(ssl) == C.X509_V_ERR_HOSTNAME_MISMATCH
        S.SSL_free(ssl)
        S.SSL_CTX_free(ctx)


class EngineSocketServer:
    """The engine as a blocking server on 127.0.0.1 (SSL_set_fd on accepted sockets, SSL_accept), serving
    ``count`` connections in a thread: ``handle`` runs on each SSL that completed its handshake, and ``problems``
    collects what went wrong on the server's side."""

    def __init__(self, ctx: Any, count: int = 1) -> None:
        self.ctx = ctx
        self.listener = loopback_listener()
        self.port = int(self.listener.getsockname()[1])
        self.count = count
        self.problems: list[str] = []
        self.thread = start_thread(self._serve)

    def handle(self, ssl: Any) -> None:
        raise NotImplementedError

    def _serve(self) -> None:
        for _ in range(self.count):
            try:
                conn, _addr = self.listener.accept()
            except OSError as exc:
                self.problems.append(f"accept: {exc}")
                return
            with blocking_with_deadline(conn):
                ssl = S.SSL_new(self.ctx)
                S.SSL_set_fd(ssl, conn.fileno())
                ret = S.SSL_accept(ssl)
                if ret == 1:
                    self.handle(ssl)
                else:
                    self.problems.append(f"SSL_accept -> {ret}, {S.SSL_get_error(ssl, ret)}")
                S.SSL_free(ssl)

    def stop(self) -> list[str]:
        self.thread.join(timeout=DEADLINE)
        self.listener.close()
        return self.problems


class EngineServer(EngineSocketServer):
    """A small HTTPS-ish server: reads a request, answers with a fixed page, shuts down."""

    def handle(self, ssl: Any) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            ret, data = S.SSL_read(ssl, 4096)
            if ret <= 0:
                self.problems.append(f"SSL_read -> {ret}, {S.SSL_get_error(ssl, ret)}")
                break
            request += data
        reply = b"HTTP/1.0 200 ok\r\nContent-Type: text/plain\r\n\r\nhello from the engine\n"
        if S.SSL_write(ssl, reply) != len(reply):
            self.problems.append("SSL_write")
        if S.SSL_shutdown(ssl) < 0:
            self.problems.append("SSL_shutdown")

    def close(self) -> list[str]:
        return self.stop()


@pytest.mark.parametrize("max_version", [C.TLS1_3_VERSION, C.TLS1_2_VERSION])
def test_blocking_client_against_engine_server(pki: TestPKI, max_version: int) -> None:
    sctx = server_ctx(pki)
    server = EngineServer(sctx, count=2)
    ctx = client_ctx(pki, max_version=max_version)
    ssl, body = blocking_get(ctx, server.port)
    assert body.endswith(b"hello from the engine\n"), body
    assert S.SSL_version(ssl) == max_version
    S.SSL_free(ssl)
    # the wrong name fails against the engine's server as well
    sock = connected_socket(server.port)
    ssl = new_client(ctx, "wrong.test", sock)
    assert S.SSL_connect(ssl) <= 0
    assert S.SSL_get_verify_result(ssl) == C.X509_V_ERR_HOSTNAME_MISMATCH
    errors()
    S.SSL_free(ssl)
    sock.close()
    problems = server.close()
    assert len(problems) == 1 and problems[0].startswith("SSL_accept"), problems  # the refused client's connection
    S.SSL_CTX_free(ctx)
    S.SSL_CTX_free(sctx)


# --- 2. non-blocking client with select() -----------------------------------------------------------------------------


@dataclass
class Waits:
    """How often SSL_get_error sent the program to select() for reading / writing."""

    read: int = 0
    write: int = 0


def drive(ssl: Any, sock: socket.socket, op: Callable[[], int], waits: Waits) -> int:
    """Repeat ``op`` (the same call, the same arguments) until it returns > 0 or a result other than WANT_READ /
    WANT_WRITE; between tries wait in select() for what SSL_get_error asked for (SSL_get_error.pod, SSL_write
    seed: 'select() can be used to check for the required condition')."""
    end = time.monotonic() + DEADLINE
    while True:
        ret = op()
        if ret > 0:
            return ret
        err = S.SSL_get_error(ssl, ret)
        left = end - time.monotonic()
        assert left > 0, f"no progress within {DEADLINE}s; last SSL_get_error {err}"
        if err == C.SSL_ERROR_WANT_READ:
            waits.read += 1
            select.select([sock], [], [], left)
        elif err == C.SSL_ERROR_WANT_WRITE:
            waits.write += 1
            select.select([], [sock], [], left)
        else:
            return ret


def nonblocking_socket(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)  # a small send buffer: WANT_WRITE comes sooner
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def nonblocking_client(ctx: Any, port: int) -> Iterator[tuple[Any, socket.socket, Waits]]:
    """Program 2's set-up: a non-blocking socket to 127.0.0.1:``port``, an SSL on it (new_client, SERVER_NAME) whose
    SSL_connect was driven to completion with select(); the SSL is freed and the socket closed when the block ends."""
    sock = nonblocking_socket(port)
    ssl = new_client(ctx, SERVER_NAME, sock)
    try:
        waits = Waits()
        assert drive(ssl, sock, lambda: S.SSL_connect(ssl), waits) == 1, errors()
        yield ssl, sock, waits
    finally:
        S.SSL_free(ssl)
        sock.close()


@pytest.mark.parametrize("attach", ["BIO_new_socket", "SSL_set_fd"])
@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_nonblocking_client_large_write(pki: TestPKI, attach: str, version: str) -> None:
    """Several MB through SSL_write on a non-blocking socket while the peer is stopped: SSL_write returns -1 with
    SSL_ERROR_WANT_WRITE, the program waits in select() and repeats the call with the same arguments until it
    reports every byte written (SSL_write seed, WARNING; no SSL_MODE_ENABLE_PARTIAL_WRITE)."""
    payload = os.urandom(4 << 20)
    with s_server(pki, version, "-naccept", "1") as server:
        ctx = client_ctx(pki)
        sock = nonblocking_socket(server.port)
        ssl = S.SSL_new(ctx)
        assert S.SSL_set1_host(ssl, SERVER_NAME) == 1
        if attach == "BIO_new_socket":
            sbio = B.BIO_new_socket(sock.fileno(), BC.BIO_NOCLOSE)
            S.SSL_set_bio(ssl, sbio, sbio)
        else:
            assert S.SSL_set_fd(ssl, sock.fileno()) == 1
        waits = Waits()
        assert drive(ssl, sock, lambda: S.SSL_connect(ssl), waits) == 1, errors()
        # No wait is asserted for the handshake: on an idle machine s_server can answer before the engine reads, so
        # SSL_connect may finish in one call (CI saw it); the write below is what must wait.

        with server.stopped():  # the peer stops reading: the socket buffers fill up
            before = waits.write
            assert drive(ssl, sock, lambda: S.SSL_write(ssl, payload), waits) == len(payload), errors()
            assert waits.write > before, "the stopped peer never made SSL_write return SSL_ERROR_WANT_WRITE"
        server.wait_for(payload[-64:], timeout=DEADLINE)
        assert payload in server.text()

        # a two-way shutdown on the non-blocking socket: 0 (sent), then 1 once the peer's close_notify is read; the
        # first call too may find the socket full and answer -1 / SSL_ERROR_WANT_WRITE (SSL_shutdown.pod: call it
        # again when the socket is ready), as a loaded CI machine showed while s_server still drained the payload
        ret = drive(ssl, sock, lambda: S.SSL_shutdown(ssl), waits)
        if ret == 0:
            ret = drive(ssl, sock, lambda: S.SSL_shutdown(ssl), waits)
        assert ret == 1, (ret, S.SSL_get_error(ssl, ret), errors(), S.SSL_get_shutdown(ssl), server.text()[-300:])
        S.SSL_free(ssl)
        sock.close()
        S.SSL_CTX_free(ctx)


# --- 3. a server on the accept BIO and BIO_f_ssl ----------------------------------------------------------------------


class AcceptServer:
    """BIO_new_accept + BIO_set_accept_bios(BIO_new_ssl(ctx, 0)) (BIO_s_accept.pod, BIO_f_ssl.pod): each
    BIO_do_accept after the first hands over a connection BIO already chained under an SSL BIO."""

    reply = b"HTTP/1.0 200 ok\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nhello via BIO\n"

    def __init__(self, ctx: Any, count: int) -> None:
        self.abio = B.BIO_new_accept("127.0.0.1:0")
        assert self.abio is not None, errors()
        ssl_bio = S.BIO_new_ssl(ctx, 0)
        assert ssl_bio is not None, errors()
        assert B.BIO_set_accept_bios(self.abio, ssl_bio) == 1
        assert B.BIO_do_accept(self.abio) == 1, errors()  # the first call binds and listens
        ret, fd = B.BIO_get_fd(self.abio)
        assert ret >= 0 and fd >= 0
        self.port = port_of(fd)
        self.count = count
        self.outcomes: list[str] = []
        self.thread = start_thread(self._serve)

    def _serve(self) -> None:
        for _ in range(self.count):
            if B.BIO_do_accept(self.abio) <= 0:
                self.outcomes.append(f"BIO_do_accept failed {errors()}")
                return
            conn = B.BIO_pop(self.abio)
            assert conn is not None
            ret, ssl = S.BIO_get_ssl(conn)
            assert ssl is not None
            sock_fd = B.BIO_get_fd(conn)[1]
            with contextlib.suppress(OSError), socket.socket(fileno=os.dup(sock_fd)) as dup:
                blocking_with_deadline(dup)  # the options belong to the shared socket, so the deadline holds
            if B.BIO_do_handshake(conn) <= 0:
                self.outcomes.append(f"handshake failed: {S.SSL_get_verify_result(ssl)} {errors()}")
                B.BIO_free_all(conn)
                continue
            request = b""
            while b"\r\n\r\n" not in request:
                ret, data = B.BIO_read(conn, 4096)
                if ret <= 0:
                    break
                request += data
            if b"\r\n\r\n" not in request:
                self.outcomes.append(f"no request: {request!r} {errors()}")
                B.BIO_free_all(conn)
                continue
            peer = S.SSL_get1_peer_certificate(ssl)
            subject = "-" if peer is None else S.X509_NAME_oneline(S.X509_get_subject_name(peer))
            if peer is not None:
                S.X509_free(peer)
            assert B.BIO_write(conn, self.reply) == len(self.reply)
            S.BIO_ssl_shutdown(conn)
            B.BIO_free_all(conn)
            self.outcomes.append(f"served {subject}")

    def close(self) -> list[str]:
        self.thread.join(timeout=DEADLINE)
        assert not self.thread.is_alive(), "the accept server is still waiting"
        B.BIO_free_all(self.abio)
        return self.outcomes


def curl(pki: TestPKI, port: int, *extra: str) -> subprocess.CompletedProcess[bytes]:
    assert CURL is not None
    return run_client([CURL, "-sS", "--max-time", str(int(DEADLINE)), "--cacert", str(pki.ca_path),
                       "--resolve", f"{SERVER_NAME}:{port}:127.0.0.1", *extra, f"https://{SERVER_NAME}:{port}/"])


def s_client(pki: TestPKI, port: int, *extra: str) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL is not None
    return run_client([OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-servername", SERVER_NAME,
                       "-CAfile", str(pki.ca_path), "-verify_return_error", "-verify_hostname", SERVER_NAME,
                       "-quiet", *extra], stdin=b"GET / HTTP/1.0\r\n\r\n")


@needs_curl
def test_accept_bio_server_serves_curl_and_s_client(pki: TestPKI) -> None:
    ctx = server_ctx(pki)
    server = AcceptServer(ctx, count=3)
    done = curl(pki, server.port)
    assert done.returncode == 0 and done.stdout == b"hello via BIO\n", done
    done = curl(pki, server.port, "--tlsv1.2", "--tls-max", "1.2")
    assert done.returncode == 0 and done.stdout == b"hello via BIO\n", done
    done = s_client(pki, server.port)
    assert done.returncode == 0 and done.stdout.endswith(b"hello via BIO\n"), done
    assert server.close() == ["served -"] * 3
    S.SSL_CTX_free(ctx)


@needs_curl
@pytest.mark.parametrize("tls_max", ["1.3", "1.2"])
def test_accept_bio_server_requires_client_certificate(pki: TestPKI, tls_max: str) -> None:
    """SSL_CTX_set_verify(PEER | FAIL_IF_NO_PEER_CERT) (SSL_CTX_set_verify.pod): curl without a certificate is
    refused, curl and s_client with the CA's client certificate are served."""
    ctx = server_ctx(pki)
    assert S.SSL_CTX_load_verify_locations(ctx, str(pki.ca_path), None) == 1
    S.SSL_CTX_set_verify(ctx, C.SSL_VERIFY_PEER | C.SSL_VERIFY_FAIL_IF_NO_PEER_CERT, None)
    server = AcceptServer(ctx, count=3)
    limit = ("--tls-max", tls_max)
    refused = curl(pki, server.port, *limit)
    assert refused.returncode != 0, refused
    cert = ("--cert", str(pki.client.cert_path), "--key", str(pki.client.key_path))
    done = curl(pki, server.port, *limit, *cert)
    assert done.returncode == 0 and done.stdout == b"hello via BIO\n", done
    done = s_client(pki, server.port, "-cert", str(pki.client.cert_path), "-key", str(pki.client.key_path),
                    "-tls1_3" if tls_max == "1.3" else "-tls1_2")
    assert done.returncode == 0 and done.stdout.endswith(b"hello via BIO\n"), done
    outcomes = server.close()
    assert outcomes[0].startswith("handshake failed") or outcomes[0].startswith("no request"), outcomes
    assert outcomes[1:] == ["served /CN=client.test"] * 2, outcomes
    S.SSL_CTX_free(ctx)


# --- 4. an event loop over memory BIOs --------------------------------------------------------------------------------


class MemoryTransport:
    """The program owns the socket; the SSL object only sees memory BIOs. ``kind`` is "pair" (BIO_new_bio_pair,
    seed 000) or "mem" (two BIO_s_mem, one for each direction)."""

    def __init__(self, ssl: Any, sock: socket.socket, kind: str) -> None:
        self.sock = sock
        self.kind = kind
        if kind == "pair":
            ret, internal, self.network = B.BIO_new_bio_pair(0, 0)
            assert ret == 1
            S.SSL_set_bio(ssl, internal, internal)
            self.inbound = self.outbound = self.network
        else:
            self.inbound = B.BIO_new(B.BIO_s_mem())
            self.outbound = B.BIO_new(B.BIO_s_mem())
            S.SSL_set_bio(ssl, self.inbound, self.outbound)
        self.sent = 0
        self.received = 0

    def flush(self) -> None:
        """Everything the SSL object wrote goes to the socket first (seed 000, IMPORTANT)."""
        while (pending := B.BIO_ctrl_pending(self.outbound)) > 0:
            ret, data = B.BIO_read(self.outbound, pending)
            assert ret > 0
            self.sock.sendall(data)
            self.sent += len(data)

    def fill(self) -> bool:
        """Move what the socket has (as much as the BIO takes) into the SSL object's read side; False at EOF."""
        room = B.BIO_ctrl_get_write_guarantee(self.network) if self.kind == "pair" else 65536
        if room <= 0:
            return True
        data = self.sock.recv(room)
        if not data:
            return False
        assert B.BIO_write(self.inbound, data) == len(data)
        self.received += len(data)
        return True

    def run(self, ssl: Any, op: Callable[[], int]) -> int:
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            ret = op()
            self.flush()
            if ret > 0:
                return ret
            err = S.SSL_get_error(ssl, ret)
            if err == C.SSL_ERROR_WANT_READ:
                if not self.fill():
                    return ret
            elif err != C.SSL_ERROR_WANT_WRITE:
                return ret
        raise AssertionError("the event loop made no progress")

    def close(self) -> None:
        if self.kind == "pair":
            B.BIO_free(self.network)


@pytest.mark.parametrize("kind", ["pair", "mem"])
@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_memory_bio_event_loop_client(pki: TestPKI, kind: str, version: str) -> None:
    with s_server(pki, "-www", version) as server:
        ctx = client_ctx(pki)
        sock = connected_socket(server.port)
        ssl = S.SSL_new(ctx)
        assert S.SSL_set1_host(ssl, SERVER_NAME) == 1
        assert S.SSL_set_tlsext_host_name(ssl, SERVER_NAME) == 1
        S.SSL_set_connect_state(ssl)
        loop = MemoryTransport(ssl, sock, kind)
        assert loop.run(ssl, lambda: S.SSL_do_handshake(ssl)) == 1, errors()
        assert S.SSL_get_verify_result(ssl) == C.X509_V_OK
        request = b"GET / HTTP/1.0\r\n\r\n"
        assert loop.run(ssl, lambda: S.SSL_write(ssl, request)) == len(request)
        body = bytearray()
        while (ret := loop.run(ssl, reader(ssl, 16384, body))) > 0:
            pass
        assert S.SSL_get_error(ssl, ret) == C.SSL_ERROR_ZERO_RETURN, errors()
        assert bytes(body).startswith(b"HTTP/1.0 200 ok")
        assert loop.run(ssl, lambda: S.SSL_shutdown(ssl)) == 1
        assert loop.sent > 0 and loop.received > 0
        S.SSL_free(ssl)
        loop.close()
        sock.close()
        S.SSL_CTX_free(ctx)


# --- 5. TLS 1.2 renegotiation -----------------------------------------------------------------------------------------


def read_until(ssl: Any, needle: bytes, errors_seen: list[int]) -> bytes:
    """Blocking SSL_read until ``needle`` arrived; a WANT_READ (allowed during a renegotiation without
    SSL_MODE_AUTO_RETRY, SSL_read.pod) is noted and the call repeated."""
    got = bytearray()
    end = time.monotonic() + DEADLINE
    while needle not in got:
        assert time.monotonic() < end, f"{needle!r} never came: {bytes(got)!r}"
        ret, data = S.SSL_read(ssl, 16384)
        if ret > 0:
            got += data
            continue
        err = S.SSL_get_error(ssl, ret)
        assert err == C.SSL_ERROR_WANT_READ, (ret, err, errors())
        errors_seen.append(err)
    return bytes(got)


@pytest.mark.parametrize("auto_retry", [True, False])
def test_server_initiated_renegotiation_while_reading(pki: TestPKI, auto_retry: bool) -> None:
    """s_server's 'r' command renegotiates (HelloRequest); the engine's client, blocked in SSL_read, takes part
    transparently (SSL_read/SSL_write seeds: 'performed transparently') and keeps delivering application data."""
    with s_server(pki, "-tls1_2", "-msg") as server:
        ctx = client_ctx(pki, max_version=C.TLS1_2_VERSION)
        if not auto_retry:
            S.SSL_CTX_clear_mode(ctx, C.SSL_MODE_AUTO_RETRY)
        with connected_client(ctx, server.port) as ssl:
            assert S.SSL_get_secure_renegotiation_support(ssl) == 1
            assert S.SSL_CTX_sess_connect_renegotiate(ctx) == 0
            seen: list[int] = []
            server.send(b"r\n")
            # s_server reads its commands a line at a time only when they come one at a time: a command and the
            # next line read together lose the line, so the line waits for the HelloRequest (-msg) to have gone out
            server.wait_for(b"HelloRequest")
            server.send(b"first line\n")
            read_until(ssl, b"first line\n", seen)
            # the client's Finished precedes this line on the wire: once s_server prints it, its own Finished is out
            assert S.SSL_write(ssl, b"client ack\n") == 11, errors()
            server.wait_for(b"client ack\n")
            server.send(b"second line\n")
            read_until(ssl, b"second line\n", seen)
            assert S.SSL_CTX_sess_connect_renegotiate(ctx) == 1
            assert S.SSL_renegotiate_pending(ssl) == 0
            if auto_retry:
                assert seen == [], "with SSL_MODE_AUTO_RETRY a blocking SSL_read does not return WANT_READ"
            assert S.SSL_shutdown(ssl) >= 0
        S.SSL_CTX_free(ctx)


def test_client_initiated_renegotiation(pki: TestPKI) -> None:
    """SSL_renegotiate from the engine's client against s_server -tls1_2 (SSL_key_update.pod): 1, pending until the
    next I/O call acts on it, then a new handshake; on TLS 1.3 the call is an error (0). OpenSSL 3.0's s_server
    refuses client renegotiation unless -client_renegotiation: then the client fails at once (the page: 'some
    servers will respond ... with a "no_renegotiation" alert. An OpenSSL will immediately fail the connection')."""
    with s_server(pki, "-tls1_2") as server:
        ctx = client_ctx(pki, max_version=C.TLS1_2_VERSION)
        with connected_client(ctx, server.port) as ssl:
            assert S.SSL_renegotiate(ssl) == 1
            ret = S.SSL_do_handshake(ssl)
            assert ret <= 0 and S.SSL_get_error(ssl, ret) == C.SSL_ERROR_SSL, ret
            assert any("no renegotiation" in e for e in errors())
            ret, _ = S.SSL_read(ssl, 10)
            assert ret <= 0 and S.SSL_get_error(ssl, ret) == C.SSL_ERROR_SSL, "the connection stays failed"
        S.SSL_CTX_free(ctx)
    with s_server(pki, "-tls1_2", "-client_renegotiation") as server:
        ctx = client_ctx(pki, max_version=C.TLS1_2_VERSION)
        with connected_client(ctx, server.port) as ssl:
            assert S.SSL_renegotiate_pending(ssl) == 0
            assert S.SSL_renegotiate(ssl) == 1
            assert S.SSL_renegotiate_pending(ssl) == 1
            assert S.SSL_do_handshake(ssl) == 1, errors()
            assert S.SSL_renegotiate_pending(ssl) == 0
            assert S.SSL_CTX_sess_connect_renegotiate(ctx) == 1
            assert S.SSL_write(ssl, b"after renegotiation\n") == 20
            server.wait_for(b"after renegotiation\n")
            # the data keeps flowing both ways on the new keys
            server.send(b"reply\n")
            read_until(ssl, b"reply\n", [])
            # and once more, this time acted on by SSL_write rather than SSL_do_handshake
            assert S.SSL_renegotiate(ssl) == 1
            assert S.SSL_write(ssl, b"second renegotiation\n") == 21, errors()
            server.wait_for(b"second renegotiation\n")
            server.send(b"reply 2\n")
            read_until(ssl, b"reply 2\n", [])
            assert S.SSL_renegotiate_pending(ssl) == 0
            assert S.SSL_CTX_sess_connect_renegotiate(ctx) == 2
            S.SSL_shutdown(ssl)
    with s_server(pki, "-www", "-tls1_3") as server:
        ctx13 = client_ctx(pki)
        with connected_client(ctx13, server.port) as ssl:
            errors()
            assert S.SSL_renegotiate(ssl) == 0
            assert errors(), "SSL_renegotiate on TLS 1.3 leaves an error"
            assert S.SSL_renegotiate_pending(ssl) == 0
        S.SSL_CTX_free(ctx13)
    S.SSL_CTX_free(ctx)


# --- 6. session resumption --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_session_resumption_against_s_server(pki: TestPKI, version: str) -> None:
    with s_server(pki, "-www", version) as server:
        ctx = client_ctx(pki)
        first, body = blocking_get(ctx, server.port)
        assert body.startswith(b"HTTP/1.0 200 ok")
        assert S.SSL_session_reused(first) == 0
        session = S.SSL_get1_session(first)
        assert session is not None
        assert S.SSL_SESSION_is_resumable(session) == 1
        S.SSL_free(first)
        second, body = blocking_get(ctx, server.port, session=session)
        assert body.startswith(b"HTTP/1.0 200 ok")
        assert S.SSL_session_reused(second) == 1
        assert b"Reused" in body or version == "-tls1_3" or b"reused" in body.lower(), body[:600]
        S.SSL_free(second)
        S.SSL_SESSION_free(session)
        S.SSL_CTX_free(ctx)


# --- 5b. renegotiation asked for by openssl s_client, against the engine's server -------------------------------------


class EchoServer(EngineSocketServer):
    """The engine's server echoing what it reads until the client's close_notify; ``close`` says how the
    connection ended ("closed": by the client's close_notify)."""

    def handle(self, ssl: Any) -> None:
        while True:
            ret, data = S.SSL_read(ssl, 4096)
            if ret <= 0:
                err = S.SSL_get_error(ssl, ret)
                self.problems.append("closed" if err == C.SSL_ERROR_ZERO_RETURN else f"SSL_read error {err} {errors()}")
                break
            if S.SSL_write(ssl, b"echo: " + data) <= 0:
                self.problems.append(f"SSL_write failed {errors()}")
                break
        S.SSL_shutdown(ssl)

    def close(self) -> str:
        return "; ".join(self.stop())


@contextlib.contextmanager
def s_client_program(pki: TestPKI, port: int, *extra: str) -> Iterator[Program]:
    """``openssl s_client`` to 127.0.0.1:``port``, fed line by line; at the end its stdin is closed and it is waited
    for (killed after DEADLINE)."""
    assert OPENSSL is not None
    program = spawn([OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-servername", SERVER_NAME, "-CAfile",
                     str(pki.ca_path), "-verify_return_error", *extra])
    proc = program.proc
    try:
        yield program
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        try:
            proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        program.join_reader()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.parametrize("allowed", [True, False])
def test_s_client_renegotiates_with_the_engine_server(pki: TestPKI, allowed: bool) -> None:
    """openssl s_client -tls1_2 and its 'R' command (a client-initiated renegotiation) against the engine's server.
    With SSL_OP_ALLOW_CLIENT_RENEGOTIATION the server takes part and counts it (SSL_CTX_sess_accept_renegotiate),
    and the echo goes on; without it (OpenSSL 3.0's default) the server declines with no_renegotiation and the
    OpenSSL client fails the connection (SSL_key_update.pod)."""
    ctx = server_ctx(pki)
    if allowed:
        S.SSL_CTX_set_options(ctx, C.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
    server = EchoServer(ctx)
    with s_client_program(pki, server.port, "-tls1_2") as client:
        client.wait_for(b"Verify return code: 0 (ok)")
        client.send(b"before\n")
        at = client.wait_for(b"echo: before\n")
        client.send(b"R\n")
        at = client.wait_for(b"RENEGOTIATING", start=at)
        if allowed:
            client.send(b"after\n")
            client.wait_for(b"echo: after\n", start=at)
            client.send(b"Q\n")
        client.proc.wait(timeout=DEADLINE)
    outcome = server.close()
    if allowed:
        assert outcome == "closed", outcome
        assert S.SSL_CTX_sess_accept_renegotiate(ctx) == 1
    else:
        assert b"no renegotiation" in client.text(), client.text()[-1500:]
        assert S.SSL_CTX_sess_accept_renegotiate(ctx) == 0
    S.SSL_CTX_free(ctx)


@pytest.mark.parametrize("with_certificate", [False, True])
def test_server_renegotiation_asking_for_a_client_certificate(pki: TestPKI, with_certificate: bool) -> None:
    """s_server's 'R' command: a renegotiation in which the server asks for a client certificate
    (SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, without FAIL_IF_NO_PEER_CERT). The engine's client, blocked in
    SSL_read on a non-blocking socket driven by select(), answers with its certificate or with none, and the data
    keeps flowing; the server then knows the client's certificate (s_server prints its subject)."""
    # (-no_resumption_on_reneg: the client offers its session, as the page says, and a resumed handshake asks for no
    # certificate)
    with s_server(pki, "-tls1_2", "-msg", "-no_resumption_on_reneg", "-CAfile", str(pki.ca_path)) as server:
        ctx = client_ctx(pki, max_version=C.TLS1_2_VERSION)
        if with_certificate:
            use_client_certificate(ctx, pki)
        with nonblocking_client(ctx, server.port) as (ssl, sock, waits):
            server.send(b"R\n")
            at = server.wait_for(b"HelloRequest")
            server.send(b"one\n")
            got = bytearray()
            read_once = reader(ssl, 100, got)
            while b"one\n" not in got:
                assert drive(ssl, sock, read_once, waits) > 0, errors()
            assert drive(ssl, sock, lambda: S.SSL_write(ssl, b"ack\n"), waits) == 4
            at = server.wait_for(b"ack\n", start=at)
            server.send(b"two\n")
            while b"two\n" not in got:
                assert drive(ssl, sock, read_once, waits) > 0, errors()
            assert S.SSL_CTX_sess_connect_renegotiate(ctx) == 1
            log = server.text()
            assert b"CertificateRequest" in log
            if with_certificate:
                assert b"CN = client.test" in log or b"CN=client.test" in log, log[-3000:]
            ret = S.SSL_shutdown(ssl)
            if ret == 0:
                drive(ssl, sock, lambda: S.SSL_shutdown(ssl), waits)
        S.SSL_CTX_free(ctx)


# --- 7. the two examples of BIO_f_ssl.pod, as written there -----------------------------------------------------------


@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_bio_f_ssl_client_example(pki: TestPKI, version: str) -> None:
    """BIO_f_ssl.pod EXAMPLES, the client: BIO_new_ssl_connect, BIO_get_ssl, BIO_set_conn_hostname, BIO_do_connect,
    BIO_puts a request, BIO_read until it returns <= 0, BIO_free_all."""
    with s_server(pki, "-www", version) as server:
        ctx = client_ctx(pki)
        sbio = S.BIO_new_ssl_connect(ctx)
        assert sbio is not None, errors()
        _ret, ssl = S.BIO_get_ssl(sbio)
        assert ssl is not None, "Can't locate SSL pointer"
        assert S.SSL_set1_host(ssl, SERVER_NAME) == 1
        assert S.SSL_set_tlsext_host_name(ssl, SERVER_NAME) == 1
        assert B.BIO_set_conn_hostname(sbio, f"127.0.0.1:{server.port}") == 1
        assert B.BIO_do_connect(sbio) > 0, errors()
        assert S.SSL_get_verify_result(ssl) == C.X509_V_OK
        assert B.BIO_puts(sbio, b"GET / HTTP/1.0\n\n") == 16
        page = bytearray()
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            n, data = B.BIO_read(sbio, 1024)
            if n <= 0:
                break
            page += data
        assert bytes(page).startswith(b"HTTP/1.0 200 ok"), bytes(page[:200])
        assert b"</HTML>" in page or b"</html>" in page.lower(), bytes(page[-200:])
        B.BIO_free_all(sbio)
        S.SSL_CTX_free(ctx)


@needs_curl
@pytest.mark.parametrize("client", ["curl", "s_client"])
def test_bio_f_ssl_server_example(pki: TestPKI, client: str) -> None:
    """BIO_f_ssl.pod EXAMPLES, the server: BIO_new_ssl(ctx, 0) under a BIO_f_buffer, handed to an accept BIO
    (BIO_set_accept_bios); the first BIO_do_accept sets up, the second waits; BIO_pop the connection, BIO_free_all
    the accept BIO, BIO_do_handshake, BIO_puts the headers, echo the request lines read with BIO_gets until the
    blank line, BIO_flush, BIO_free_all."""
    ctx = server_ctx(pki)
    sbio = S.BIO_new_ssl(ctx, 0)
    _ret, ssl = S.BIO_get_ssl(sbio)
    assert ssl is not None
    bbio = B.BIO_new(B.BIO_f_buffer())
    sbio = B.BIO_push(bbio, sbio)
    acpt = B.BIO_new_accept("127.0.0.1:0")
    B.BIO_set_accept_bios(acpt, sbio)
    assert B.BIO_do_accept(acpt) > 0, errors()
    port = port_of(B.BIO_get_fd(acpt)[1])
    echoed: list[bytes] = []
    problems: list[str] = []

    def serve() -> None:
        if B.BIO_do_accept(acpt) <= 0:
            problems.append(f"Error accepting connection {errors()}")
            return
        conn = B.BIO_pop(acpt)
        B.BIO_free_all(acpt)
        if B.BIO_do_handshake(conn) <= 0:
            problems.append(f"Error in SSL handshake {errors()}")
            B.BIO_free_all(conn)
            return
        B.BIO_puts(conn, b"HTTP/1.0 200 OK\r\nContent-type: text/plain\r\n\r\n")
        B.BIO_puts(conn, b"\r\nConnection Established\r\nRequest headers:\r\n")
        B.BIO_puts(conn, b"--------------------------------------------------\r\n")
        while True:
            n, line = B.BIO_gets(conn, 1024)
            if n <= 0:
                problems.append(f"BIO_gets -> {n}")
                break
            B.BIO_write(conn, line)
            echoed.append(line)
            if line[:1] in (b"\r", b"\n"):
                break
        B.BIO_puts(conn, b"--------------------------------------------------\r\n")
        B.BIO_puts(conn, b"\r\n")
        if B.BIO_flush(conn) <= 0:
            problems.append("BIO_flush")
        B.BIO_free_all(conn)

    thread = start_thread(serve)
    done = curl(pki, port) if client == "curl" else s_client(pki, port)
    thread.join(timeout=DEADLINE)
    assert not thread.is_alive()
    assert problems == [], (problems, done)
    assert echoed and echoed[0].startswith(b"GET / HTTP/1."), echoed
    assert done.returncode == 0, done
    assert b"Connection Established" in done.stdout and b"GET / HTTP/1." in done.stdout, done.stdout
    S.SSL_CTX_free(ctx)


# --- 8. small reads on a non-blocking socket: SSL_pending before select() ---------------------------------------------


@pytest.mark.parametrize("read_ahead", [0, 1])
def test_small_reads_drain_ssl_pending_before_select(pki: TestPKI, read_ahead: int) -> None:
    """SSL_pending.pod: what SSL_read already decrypted and holds is counted by SSL_pending and SSL_has_pending, so
    a select() loop reads that first (select() on the socket would not wake for it). Two lines from s_server, read 4
    bytes at a time on a non-blocking socket, with and without read-ahead."""
    with s_server(pki, "-tls1_3") as server:
        ctx = client_ctx(pki)
        S.SSL_CTX_set_read_ahead(ctx, read_ahead)
        with nonblocking_client(ctx, server.port) as (ssl, sock, waits):
            line = b"0123456789abcdef\n"
            server.send(line)
            got = bytearray()
            pendings = []
            read4 = reader(ssl, 4, got)
            while len(got) < len(line):
                before = waits.read
                assert drive(ssl, sock, read4, waits) > 0, errors()
                pendings.append((S.SSL_pending(ssl), S.SSL_has_pending(ssl)))
                if len(got) > 4:
                    assert waits.read == before, "bytes SSL_pending counted were there without waiting"
            assert bytes(got) == line
            # the record was opened by the first read: the rest is pending, 4 bytes fewer each time
            assert [p for p, _ in pendings] == [13, 9, 5, 1, 0], pendings
            assert all(h == 1 for p, h in pendings if p > 0), pendings
            ret, _ = S.SSL_read(ssl, 4)
            assert ret <= 0 and S.SSL_get_error(ssl, ret) == C.SSL_ERROR_WANT_READ
            assert S.SSL_pending(ssl) == 0
        S.SSL_CTX_free(ctx)


# --- 9. TLS 1.3 post-handshake messages from s_server while the engine reads ------------------------------------------


def post_handshake_exchange(server: Program, ssl: Any, command: bytes, message: bytes, line: bytes,
                            answer: bytes) -> bytes:
    """s_server's ``command`` to the engine's client: once s_server printed ``message`` (-msg), a ``line`` from
    s_server is read by the client (SSL_read takes the post-handshake message in on the way) and an ``answer``
    written back; returns s_server's output once the answer arrived."""
    server.send(command + b"\n")
    at = server.wait_for(message)
    server.send(line)
    read_until(ssl, line, [])
    assert S.SSL_write(ssl, answer) == len(answer), errors()
    server.wait_for(answer, start=at)
    return server.text()


@pytest.mark.parametrize("command", [b"k", b"K"])
def test_key_update_from_s_server_while_reading(pki: TestPKI, command: bytes) -> None:
    """s_server's 'k' (KeyUpdate, update_not_requested) and 'K' (update_requested) commands: the engine's client
    reading takes the new keys, answers a request with its own KeyUpdate (SSL_key_update.pod: the peer 'additionally
    update[s] its sending keys'), and data flows both ways afterwards."""
    with s_server(pki, "-tls1_3", "-msg") as server:
        ctx = client_ctx(pki)
        with connected_client(ctx, server.port) as ssl:
            log = post_handshake_exchange(server, ssl, command, b"KeyUpdate", b"after key update\n",
                                          b"client after key update\n")
            answered = log.count(b"<<< TLS 1.3, Handshake [length 0005], KeyUpdate")
            assert answered == (1 if command == b"K" else 0), log[-3000:]
            S.SSL_shutdown(ssl)
        S.SSL_CTX_free(ctx)


@pytest.mark.parametrize("with_certificate", [True, False])
def test_post_handshake_authentication_from_s_server(pki: TestPKI, with_certificate: bool) -> None:
    """s_server's 'c' command (SSL_verify_client_post_handshake) against an engine client that offered
    post-handshake authentication (SSL_CTX_set_post_handshake_auth): inside SSL_read the client answers the
    CertificateRequest with its certificate (or an empty one), then data flows on."""
    with s_server(pki, "-tls1_3", "-msg", "-CAfile", str(pki.ca_path)) as server:
        ctx = client_ctx(pki)
        S.SSL_CTX_set_post_handshake_auth(ctx, 1)
        if with_certificate:
            use_client_certificate(ctx, pki)
        with connected_client(ctx, server.port) as ssl:
            log = post_handshake_exchange(server, ssl, b"c", b"CertificateRequest", b"after the request\n",
                                          b"client data\n")
            assert b"<<< TLS 1.3, Handshake [length" in log and b"], Certificate\n" in log, log[-3000:]
            if with_certificate:
                assert b"CertificateVerify" in log, log[-3000:]
            S.SSL_shutdown(ssl)
        S.SSL_CTX_free(ctx)


# --- 10. a client-initiated renegotiation carried out by a large non-blocking SSL_write -------------------------------


def test_renegotiation_inside_a_large_nonblocking_write(pki: TestPKI) -> None:
    """SSL_renegotiate, then a 2 MiB SSL_write on a non-blocking socket while s_server is stopped: the write first
    carries out the new handshake (SSL_write seed: 'a call to SSL_write() can also cause read operations', so
    WANT_READ as well as WANT_WRITE), repeated with the same arguments until every byte is written."""
    payload = os.urandom(2 << 20)
    with s_server(pki, "-tls1_2", "-client_renegotiation", "-naccept", "1") as server:
        ctx = client_ctx(pki, max_version=C.TLS1_2_VERSION)
        with nonblocking_client(ctx, server.port) as (ssl, sock, waits):
            assert S.SSL_renegotiate(ssl) == 1
            with server.stopped():
                reads, writes = waits.read, waits.write
                assert drive(ssl, sock, lambda: S.SSL_write(ssl, payload), waits) == len(payload), errors()
            assert waits.read > reads, "the renegotiation inside SSL_write never waited to read"
            assert waits.write > writes, "the stopped peer never made SSL_write want to write"
            assert S.SSL_renegotiate_pending(ssl) == 0
            assert S.SSL_CTX_sess_connect_renegotiate(ctx) == 1
            server.wait_for(payload[-64:])
            assert payload in server.text()
        S.SSL_CTX_free(ctx)


# --- 11. a non-blocking SSL connect BIO driven by BIO_should_retry ----------------------------------------------------


def ssl_connect_bio(ctx: Any, port: int) -> tuple[Any, Any]:
    """BIO_new_ssl_connect(ctx) set to connect to 127.0.0.1:``port``, its SSL expecting SERVER_NAME (SSL_set1_host):
    (the BIO chain, its SSL)."""
    sbio = S.BIO_new_ssl_connect(ctx)
    _, ssl = S.BIO_get_ssl(sbio)
    assert ssl is not None
    assert S.SSL_set1_host(ssl, SERVER_NAME) == 1
    assert B.BIO_set_conn_hostname(sbio, f"127.0.0.1:{port}") == 1
    return sbio, ssl


def bio_retry(bio: Any, call: Callable[[], int]) -> int:
    """Repeat ``call`` while BIO_should_retry says so (BIO_should_retry.pod), waiting in select() on the BIO's
    descriptor for what BIO_should_read / BIO_should_write / BIO_should_io_special (a connect in progress) ask."""
    end = time.monotonic() + DEADLINE
    while True:
        ret = call()
        if ret > 0 or not B.BIO_should_retry(bio):
            return ret
        left = end - time.monotonic()
        assert left > 0, "no progress"
        fd = B.BIO_get_fd(bio)[1]
        assert fd >= 0
        if B.BIO_should_read(bio):
            select.select([fd], [], [], left)
        else:  # BIO_should_write, or a connect in progress (BIO_should_io_special, BIO_RR_CONNECT)
            select.select([], [fd], [], left)


@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_nonblocking_ssl_connect_bio(pki: TestPKI, version: str) -> None:
    """BIO_new_ssl_connect with BIO_set_nbio(1) (BIO_s_connect.pod): BIO_do_connect, BIO_write and BIO_read are
    retried while BIO_should_retry, as the page says, until the whole page from s_server -www has been read."""
    with s_server(pki, "-www", version) as server:
        ctx = client_ctx(pki)
        sbio, ssl = ssl_connect_bio(ctx, server.port)
        assert B.BIO_set_nbio(sbio, 1) == 1
        assert bio_retry(sbio, lambda: B.BIO_do_connect(sbio)) == 1, errors()
        assert S.SSL_get_verify_result(ssl) == C.X509_V_OK
        request = b"GET / HTTP/1.0\r\n\r\n"
        assert bio_retry(sbio, lambda: B.BIO_write(sbio, request)) == len(request), errors()
        page = bytearray()
        while True:
            got: list[bytes] = []

            def read_some(got: list[bytes] = got) -> int:
                n, data = B.BIO_read(sbio, 4096)
                got.append(data)
                return n

            if bio_retry(sbio, read_some) <= 0:
                break
            page += got[-1]
        assert bytes(page).startswith(b"HTTP/1.0 200 ok"), bytes(page[:200])
        assert b"</HTML>" in page or b"</html>" in page.lower()
        B.BIO_free_all(sbio)
        S.SSL_CTX_free(ctx)


# --- 12. BIO_f_ssl's automatic renegotiation against s_server ---------------------------------------------------------


def test_ssl_bio_renegotiates_every_n_bytes(pki: TestPKI) -> None:
    """BIO_set_ssl_renegotiate_bytes (BIO_f_ssl.pod): after every num bytes of I/O the session is renegotiated;
    BIO_get_num_renegotiates counts them. 64 writes of 1 KiB with num = 16 KiB through an SSL BIO to s_server -tls1_2
    -client_renegotiation: a renegotiation once more than num bytes went through since the last (after 17, 34 and
    51 KiB, as libssl 3.0 counts too), each a real handshake (SSL_CTX_sess_connect_renegotiate agrees), and every
    byte arrives."""
    with s_server(pki, "-tls1_2", "-client_renegotiation") as server:
        ctx = client_ctx(pki, max_version=C.TLS1_2_VERSION)
        sbio, ssl = ssl_connect_bio(ctx, server.port)
        assert B.BIO_do_connect(sbio) == 1, errors()
        with socket.socket(fileno=os.dup(S.SSL_get_fd(ssl))) as dup:
            blocking_with_deadline(dup)
        assert S.BIO_set_ssl_renegotiate_bytes(sbio, 16 * 1024) == 1
        chunks = [bytes([0x41 + i % 26]) * 1023 + b"\n" for i in range(64)]
        for chunk in chunks:
            assert B.BIO_write(sbio, chunk) == len(chunk), errors()
        assert B.BIO_write(sbio, b"the end\n") == 8
        server.wait_for(b"the end\n")
        count = S.BIO_get_num_renegotiates(sbio)
        assert count == 3, count
        assert S.SSL_CTX_sess_connect_renegotiate(ctx) == count
        text, at = server.text(), 0
        for chunk in chunks:  # in order (s_server prints its own lines about each new handshake in between)
            at = text.find(chunk, at)
            assert at >= 0, f"chunk {chunk[:1]!r} missing"
            at += len(chunk)
        B.BIO_free_all(sbio)
        S.SSL_CTX_free(ctx)
