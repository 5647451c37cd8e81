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
from pathlib import Path
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


# --- peers -------------------------------------------------------------------------------------------------------------


@dataclass
class Program:
    """A peer program on loopback: its process, its port and everything it printed (read by a thread)."""

    proc: subprocess.Popen[bytes]
    port: int = 0
    output: bytearray = field(default_factory=bytearray)
    lock: threading.Lock = field(default_factory=threading.Lock)

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


def _pump_output(program: Program) -> None:
    assert program.proc.stdout is not None
    fd = program.proc.stdout.fileno()
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        with program.lock:
            program.output += chunk


@contextlib.contextmanager
def s_server(pki: TestPKI, *args: str, key: str = "ecdsa") -> Iterator[Program]:
    """``openssl s_server`` on 127.0.0.1 and a port the system chose (its ACCEPT line says which)."""
    assert OPENSSL is not None
    identity = pki.server_identity(key)
    argv = [OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-cert", str(identity.cert_path),
            "-key", str(identity.key_path), *args]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    program = Program(proc)
    reader = threading.Thread(target=_pump_output, args=(program,), daemon=True)
    reader.start()
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
        reader.join(timeout=DEADLINE)
        if proc.stdin is not None:
            proc.stdin.close()
        if proc.stdout is not None:
            proc.stdout.close()


def run_client(argv: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=DEADLINE, check=False)


# --- small helpers an application would have -------------------------------------------------------------------------


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


# --- 1. blocking client ------------------------------------------------------------------------------------------------


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


class EngineServer:
    """A small blocking HTTPS-ish server on the engine (SSL_set_fd on accepted sockets), serving ``count``
    connections in a thread; ``problems`` collects what went wrong on its side."""

    def __init__(self, ctx: Any, count: int = 1) -> None:
        self.ctx = ctx
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(DEADLINE)
        self.port = int(self.listener.getsockname()[1])
        self.count = count
        self.problems: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for _ in range(self.count):
            try:
                conn, _addr = self.listener.accept()
            except OSError as exc:
                self.problems.append(f"accept: {exc}")
                return
            with conn:
                blocking_with_deadline(conn)
                ssl = S.SSL_new(self.ctx)
                S.SSL_set_fd(ssl, conn.fileno())
                ret = S.SSL_accept(ssl)
                if ret != 1:
                    self.problems.append(f"SSL_accept -> {ret}, {S.SSL_get_error(ssl, ret)}")
                    S.SSL_free(ssl)
                    continue
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
                S.SSL_free(ssl)

    def close(self) -> list[str]:
        self.thread.join(timeout=DEADLINE)
        self.listener.close()
        return self.problems


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
