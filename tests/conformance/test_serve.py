"""``conformance serve`` / ``conformance connect`` on loopback against real peers: ``openssl s_client``,
``curl``, ``openssl s_server -www``, and each other.

Every subprocess has a timeout and is killed if it outlives it; every socket is closed. The engine's TLS 1.2 tests
are skipped, with the stack's own reason, only while the engine stack lacks the ``tls1_2`` capability.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conformance.certs import default_pki
from conformance.cli import main
from conformance.serve import ClientOptions, Server, ServerOptions, UsageError, decode_send, parse_address
from conformance.serve import connect as connect_in_process
from conformance.stacks.engine import EngineStack

OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
needs_curl = pytest.mark.skipif(CURL is None, reason="the curl command is not installed")
REQUEST = b"GET / HTTP/1.0\r\n\r\n"
TIMEOUT = 15.0  # upper bound for any one process; the tests take well under a second each
PARTIAL_RECORD = b"\x16\x03\x01\x00\x10"  # the header of a handshake record whose 16 bytes never come

_ENGINE = EngineStack()
engine_tls12 = pytest.mark.skipif(
    "tls1_2" not in _ENGINE.capabilities,
    reason=f"the engine stack lacks the tls1_2 capability: {_ENGINE.missing_reasons.get('tls1_2', '')}")


class Process:
    """A subprocess whose output (stdout and stderr together) a thread collects line by line, so a test can wait
    for a line with a deadline; killed at the end if it is still running."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    found = re.search(pattern, line)
                    if found:
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line matching {pattern!r} from {self.argv}:\n" + "\n".join(self.lines))
                self._changed.wait(min(left, 0.1))

    def finish(self, timeout: float = TIMEOUT) -> int:
        """The exit status once the process ends by itself (it is killed, and the test fails, if it does not)."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.argv} still running after {timeout} s:\n{self.output}") from None
        self._reader.join(timeout)
        return code

    def signal(self, signum: int) -> int:
        self.proc.send_signal(signum)
        return self.finish()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
        if self.proc.stdout is not None:
            self._reader.join(TIMEOUT)
            self.proc.stdout.close()


class Served(Process):
    """``conformance serve`` on a free loopback port."""

    def __init__(self, stack: str, *options: str) -> None:
        super().__init__([sys.executable, "-m", "conformance.cli", "serve", "--stack", stack, "--port", "0",
                          "--timeout", "5", *options])
        self.port = int(self.wait_for(r"^listening on 127\.0\.0\.1:(\d+) ").group(1))
        ca = re.search(r"^CA: (\S+)", self.output, re.M)
        self.ca = ca.group(1) if ca else ""


def _run(argv: list[str], data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, input=data, capture_output=True, timeout=TIMEOUT)


def s_client(port: int, ca: str, *options: str) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL is not None
    return _run([OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "server.test", "-CAfile", ca,
                 "-verify_return_error", "-ign_eof", *options], REQUEST)


def curl(port: int, *options: str) -> subprocess.CompletedProcess[bytes]:
    assert CURL is not None
    return _run([CURL, "--silent", "--show-error", "--insecure", "--max-time", "10", *options,
                 f"https://127.0.0.1:{port}/"])


class Connected:
    """What ``conformance connect`` produced: exit status, the server's bytes (stdout), the details (stderr)."""

    def __init__(self, returncode: int, stdout: bytes, info: str) -> None:
        self.returncode, self.stdout, self.info = returncode, stdout, info


def connect(stack: str, port: int, host: str = "127.0.0.1", **options: Any) -> Connected:
    """The client in this process (the command line itself is run once, against s_server)."""
    received: list[bytes] = []
    info = io.StringIO()
    code = connect_in_process(ClientOptions(stack=stack, host=host, port=port, servername="server.test", timeout=5,
                                            **options), out=received.append, info=info)
    return Connected(code, b"".join(received), info.getvalue())


@contextmanager
def serving(wrap: Any = None, **options: Any) -> Iterator[tuple[Server, io.StringIO]]:
    """A server in a thread of this process (``conformance serve`` itself runs as a command elsewhere); ``wrap``
    instruments its api before the first connection."""
    log = io.StringIO()
    server = Server(ServerOptions(port=0, **options), log)
    if wrap is not None:
        server.api = wrap(server.api)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server, log
    finally:
        server.stop()
        thread.join(TIMEOUT)
        server.close()
        assert not thread.is_alive(), log.getvalue()


def drain(sock: socket.socket) -> bytes:
    """What the peer sends until it closes (a reset, when it closed with our bytes unread, ends it too)."""
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def page_row(page: bytes, key: str) -> str:
    found = re.search(rf"<tr><th>{re.escape(key)}</th><td>([^<]*)</td></tr>", page.decode())
    assert found, f"no {key!r} row in the page:\n{page.decode()}"
    return found.group(1)


@pytest.fixture(scope="module")
def engine_server() -> Iterator[Served]:
    """One concurrent engine server for the module; SIGTERM must end it cleanly."""
    server = Served("engine", "--concurrent")
    try:
        yield server
        assert server.signal(signal.SIGTERM) in (0, 1), server.output  # 1: some test's connection failed on purpose
        assert "SIGTERM received, stopping" in server.output
        assert re.search(r"^stopped: \d+ connection\(s\) served", server.output, re.M), server.output
    finally:
        server.kill()


@pytest.fixture
def s_server() -> Iterator[Process]:
    """``openssl s_server -www`` for one connection, with the suite's test certificate."""
    assert OPENSSL is not None
    pki = default_pki()
    server = Process([OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-cert", str(pki.server.cert_path), "-key",
                      str(pki.server.key_path), "-www", "-naccept", "1", "-tls1_3"])
    try:
        server.wait_for(r"^ACCEPT 127\.0\.0\.1:\d+")
        yield server
        assert server.finish() == 0, server.output
    finally:
        server.kill()


def s_client_saw(output: bytes) -> tuple[str, str]:
    """(protocol, cipher) as s_client reports them ("New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384")."""
    found = re.search(rb"^New, (\S+), Cipher is (\S+)$", output, re.M)
    assert found, output.decode()
    return found.group(1).decode(), found.group(2).decode()


def _s_server_port(server: Process) -> int:
    return int(server.wait_for(r"^ACCEPT 127\.0\.0\.1:(\d+)").group(1))


# --- the engine serving other programs ---------------------------------------------------------------------------


@needs_openssl
def test_engine_serves_openssl_s_client_tls13(engine_server: Served) -> None:
    done = s_client(engine_server.port, engine_server.ca, "-tls1_3")
    assert done.returncode == 0, done.stderr.decode()
    assert b"HTTP/1.0 200 OK" in done.stdout
    assert (page_row(done.stdout, "protocol"), page_row(done.stdout, "cipher")) == s_client_saw(done.stdout)
    assert page_row(done.stdout, "protocol") == "TLSv1.3"
    assert b"Verify return code: 0 (ok)" in done.stdout


@needs_openssl
@engine_tls12
def test_engine_serves_openssl_s_client_tls12(engine_server: Served) -> None:
    done = s_client(engine_server.port, engine_server.ca, "-tls1_2")
    assert done.returncode == 0, done.stderr.decode()
    assert (page_row(done.stdout, "protocol"), page_row(done.stdout, "cipher")) == s_client_saw(done.stdout)
    assert page_row(done.stdout, "protocol") == "TLSv1.2"


@needs_curl
def test_engine_serves_curl(engine_server: Served) -> None:
    done = curl(engine_server.port, "--tlsv1.3")
    assert done.returncode == 0, done.stderr.decode()
    assert page_row(done.stdout, "protocol") == "TLSv1.3"
    assert page_row(done.stdout, "request") == "GET / HTTP/1.1"


@needs_curl
@engine_tls12
def test_engine_serves_curl_tls12(engine_server: Served) -> None:
    done = curl(engine_server.port, "--tlsv1.2", "--tls-max", "1.2")
    assert done.returncode == 0, done.stderr.decode()
    assert page_row(done.stdout, "protocol") == "TLSv1.2"


def test_engine_client_to_engine_server(engine_server: Served) -> None:
    done = connect("engine", engine_server.port, verify=Path(engine_server.ca), send=b"GET /engine HTTP/1.0\r\n\r\n")
    assert done.returncode == 0, done.info
    assert "verification: OK (code 0" in done.info and "protocol: TLSv1.3" in done.info
    assert "the server closed the connection (close_notify)" in done.info
    assert page_row(done.stdout, "request") == "GET /engine HTTP/1.0"
    # the engine server reports the name its client sent (SSL_get_servername)
    assert page_row(done.stdout, "server name (SNI)") == "server.test"


def test_engine_client_relays_stdin(engine_server: Served) -> None:
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"GET /piped HTTP/1.0\r\n")
        os.write(write_end, b"\r\n")
        os.close(write_end)
        write_end = -1
        received: list[bytes] = []
        options = ClientOptions(stack="engine", port=engine_server.port, servername="server.test", timeout=5)
        assert connect_in_process(options, stdin=read_end, out=received.append, info=io.StringIO()) == 0
        assert page_row(b"".join(received), "request") == "GET /piped HTTP/1.0"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_engine_client_refuses_a_server_it_cannot_verify(engine_server: Served) -> None:
    done = connect("engine", engine_server.port, verify=default_pki().other_ca_path, send=b"x")
    assert done.returncode == 1
    assert "verification: FAILED" in done.info and "handshake failed: SSL_connect returned" in done.info
    assert done.stdout == b""


@needs_curl
def test_concurrent_server_answers_while_another_client_is_silent(engine_server: Served) -> None:
    with socket.create_connection(("127.0.0.1", engine_server.port), timeout=TIMEOUT) as silent:
        silent.sendall(PARTIAL_RECORD)
        done = curl(engine_server.port)
        assert done.returncode == 0, done.stderr.decode()
        assert page_row(done.stdout, "protocol") == "TLSv1.3"


class CountingApi:
    """The stack's real api, counting the calls of one function (an instrument, not a stand-in)."""

    def __init__(self, api: Any, name: str) -> None:
        self._api, self._name, self.calls = api, name, 0

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._api, name)
        if name != self._name:
            return value

        def counted(*args: Any) -> Any:
            self.calls += 1
            return value(*args)

        return counted


@pytest.mark.parametrize("stack", ["engine", "libssl"])
def test_want_read_sleeps_until_the_socket_is_readable(stack: str) -> None:
    """SSL_accept answers WANT_READ for a partial record; the loop then waits in select() for "readable" and calls
    SSL_accept again only when bytes arrive, instead of spinning."""
    counting = serving(stack=stack, count=1, timeout=5, wrap=lambda api: CountingApi(api, "SSL_accept"))
    with counting as (server, log), socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as silent:
        silent.sendall(PARTIAL_RECORD)
        deadline = time.monotonic() + TIMEOUT
        while server.api.calls < 1 and time.monotonic() < deadline:  # accepted
            time.sleep(0.01)
        time.sleep(0.1)  # the 5 bytes are seen by now (with the accept or by a second SSL_accept)
        before = server.api.calls
        time.sleep(0.2)
        calls = server.api.calls - before
    assert before >= 1 and calls <= 1, f"SSL_accept called {calls} more times in 0.2 s of silence\n{log.getvalue()}"


@pytest.mark.parametrize("stack", ["engine", "libssl"])
def test_want_write_waits_for_a_slow_reader_and_the_page_arrives_whole(stack: str) -> None:
    """A client that reads late, small socket buffers, a page of about 60 KB (it repeats the long request line):
    SSL_write answers WANT_WRITE, the loop waits for "writable" and repeats the same SSL_write."""
    path = "/" + "w" * 60000
    with serving(stack=stack, count=1, timeout=2, wrap=lambda api: CountingApi(api, "SSL_write")) as (server, log):
        # Accepted sockets inherit the listener's buffer sizes; Linux doubles the value and keeps a minimum.
        assert server.listener is not None
        server.listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        context = ssl.create_default_context(cafile=str(default_pki().ca_path))
        with socket.socket() as raw:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.settimeout(TIMEOUT)
            raw.connect(("127.0.0.1", server.port))
            with context.wrap_socket(raw, server_hostname="server.test") as tls:
                tls.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
                time.sleep(0.2)  # the server fills both buffers meanwhile
                page = b""
                while chunk := tls.recv(65536):
                    page += chunk
                calls = server.api.calls
    assert page_row(page, "request") == f"GET {path} HTTP/1.0", log.getvalue()
    assert calls >= 2, f"SSL_write never had to wait (called {calls} times): the test did not reach WANT_WRITE"


# --- failures are logged and the next connection is served; --count; SIGINT ---------------------------------------


def test_garbage_is_logged_and_the_next_connection_is_served() -> None:
    server = Served("engine", "--count", "2")  # one connection at a time
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as raw:
            raw.sendall(b"this is not TLS\r\n\r\n")
            drain(raw)  # the server answers with an alert (or nothing) and closes
        failure = server.wait_for(r"^\[1\] 127\.0\.0\.1:\d+: failed in SSL_accept: .*").group(0)
        assert re.search(r"SSL_accept returned -?\d+, SSL_get_error 1 \(SSL_ERROR_SSL\); error queue: error:", failure)
        done = connect("engine", server.port, verify=Path(server.ca), send=b"GET / HTTP/1.0\r\n\r\n")
        assert done.returncode == 0, done.info
        assert server.finish() == 1, server.output  # ends by itself after two connections; one failed
        assert re.search(r"^\[2\] .* 'GET / HTTP/1\.0' answered$", server.output, re.M), server.output
        assert "stopped: 1 connection(s) served, 1 failed" in server.output
    finally:
        server.kill()


def _usable(stack: str) -> bool:
    from conformance.serve import capi_stack

    try:
        capi_stack(stack)
    except UsageError:
        return False
    return True


@pytest.mark.parametrize("stack", ["libssl", "wolfssl"])
def test_garbage_is_logged_on_the_ctypes_stacks_too(stack: str) -> None:
    if not _usable(stack):
        pytest.skip(f"the {stack} stack is not usable here")
    with serving(stack=stack, count=2) as (server, log):
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as raw:
            raw.sendall(b"this is not TLS\r\n\r\n")
            drain(raw)
        done = connect("engine", server.port, verify=default_pki().ca_path, send=b"GET /\r\n")
    assert done.returncode == 0, done.info + log.getvalue()
    # wolfSSL's SSL_get_error answers with its own negative numbers here; the log shows them as they are.
    assert re.search(r"^\[1\] .*failed in SSL_accept: SSL_accept returned -1, SSL_get_error -?\d+ \(.*\); "
                     r"error queue: (?!empty)", log.getvalue(), re.M), log.getvalue()
    assert re.search(r"^\[2\] .*'GET /' answered$", log.getvalue(), re.M), log.getvalue()


class RaisingOnceApi(CountingApi):
    """The real api whose first call of one function raises, as a stack with a bug would."""

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._api, name)
        if name != self._name:
            return value

        def once(*args: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("injected")
            return value(*args)

        return once


def test_an_exception_escaping_the_stack_ends_one_connection_not_the_server() -> None:
    with serving(stack="engine", count=2, wrap=lambda api: RaisingOnceApi(api, "SSL_accept")) as (server, log):
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as first:
            first.sendall(b"x")
            drain(first)
        done = connect("engine", server.port, send=b"GET /\r\n")
    assert done.returncode == 0, done.info + log.getvalue()
    assert re.search(r"^\[1\] .*failed in SSL_accept: SSL_accept raised RuntimeError: injected", log.getvalue(), re.M)
    assert server.served == 1 and server.failed == 1


def test_a_silent_client_is_dropped_after_the_timeout_and_gets_no_page() -> None:
    with serving(stack="engine", count=1, timeout=0.3) as (server, log):
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as raw:
            raw.sendall(PARTIAL_RECORD)
            received = drain(raw)
        assert b"HTTP/" not in received
    assert re.search(r"^\[1\] .*failed in SSL_accept: no progress for 0\.3 s", log.getvalue(), re.M), log.getvalue()
    assert server.failed == 1 and server.served == 0


# --- the command-line client against openssl s_server -------------------------------------------------------------


@needs_openssl
def test_connect_command_with_the_engine_reaches_openssl_s_server(s_server: Process) -> None:
    done = _run([sys.executable, "-m", "conformance.cli", "connect", "--stack", "engine",
                 f"127.0.0.1:{_s_server_port(s_server)}", "--servername", "server.test", "--verify",
                 str(default_pki().ca_path), "--send", r"GET / HTTP/1.0\r\n\r\n"])
    info = done.stderr.decode()
    assert done.returncode == 0, info
    assert "verification: OK (code 0" in info and "protocol: TLSv1.3" in info
    assert b"HTTP/1.0 200 ok" in done.stdout and b"TLSv1.3" in done.stdout


# --- the same on libssl through ctypes, with what the engine lacks (ALPN, SNI, peer certificates) ----------------


@needs_openssl
def test_libssl_serves_s_client_and_its_own_client_with_alpn_and_client_certificates() -> None:
    pki = default_pki()
    server = Served("libssl", "--alpn", "h2,http/1.1", "--verify", str(pki.ca_path))
    try:
        done = s_client(server.port, server.ca, "-tls1_3", "-alpn", "http/1.1")
        assert done.returncode == 0, done.stderr.decode()
        assert page_row(done.stdout, "protocol") == "TLSv1.3"
        assert page_row(done.stdout, "ALPN protocol") == "http/1.1"
        assert page_row(done.stdout, "server name (SNI)") == "server.test"
        assert page_row(done.stdout, "peer certificate") == "none"
        client = connect("libssl", server.port, verify=Path(server.ca), alpn=["h2"],
                         cert=(pki.client.cert_path, pki.client.key_path), send=b"GET /\r\n")
        assert client.returncode == 0, client.info
        assert "ALPN protocol: h2" in client.info and "peer certificate: /CN=server.test" in client.info
        assert page_row(client.stdout, "peer certificate") == "/CN=client.test"
        assert page_row(client.stdout, "request") == "GET /"
        assert server.signal(signal.SIGINT) == 0, server.output  # Ctrl-C ends it cleanly
        assert "SIGINT received, stopping" in server.output
    finally:
        server.kill()


def _self_signed_rsa(directory: Path, name: str) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "rsa.crt", directory / "rsa.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@needs_openssl
def test_several_certificates_the_client_picks_by_signature_algorithm(tmp_path: Path) -> None:
    """--cert/--key twice (ECDSA and RSA) on libssl: the certificate follows the client's signature_algorithms."""
    pki = default_pki()
    rsa_cert, rsa_key = _self_signed_rsa(tmp_path, "rsa.test")
    certs = [(pki.server.cert_path, pki.server.key_path), (rsa_cert, rsa_key)]
    expected = (("ecdsa_secp256r1_sha256", b"CN = server.test"), ("rsa_pss_rsae_sha256", b"CN = rsa.test"))
    assert OPENSSL is not None
    with serving(stack="libssl", count=2, certs=certs) as (server, log):
        for sigalg, subject in expected:
            done = _run([OPENSSL, "s_client", "-connect", f"127.0.0.1:{server.port}", "-sigalgs", sigalg,
                         "-ign_eof"], REQUEST)
            assert done.returncode == 0, done.stderr.decode() + log.getvalue()
            assert b"subject=" + subject in done.stdout
            assert page_row(done.stdout, "protocol") == "TLSv1.3"


@needs_openssl
def test_libssl_client_reaches_openssl_s_server(s_server: Process) -> None:
    done = connect("libssl", _s_server_port(s_server), verify=default_pki().ca_path,
                   send=b"GET / HTTP/1.0\r\n\r\n")
    assert done.returncode == 0, done.info
    assert "verification: OK (code 0" in done.info and "peer certificate: /CN=server.test" in done.info
    assert b"HTTP/1.0 200 ok" in done.stdout


def test_wolfssl_server_and_engine_client() -> None:
    if not _usable("wolfssl"):
        pytest.skip("the wolfssl stack is not usable here")
    with serving(stack="wolfssl", count=1) as (server, log):
        done = connect("engine", server.port, verify=default_pki().ca_path, send=b"GET /\r\n")
    assert done.returncode == 0, done.info + log.getvalue()
    assert page_row(done.stdout, "protocol") == "TLSv1.3"
    assert page_row(done.stdout, "server name (SNI)") == "server.test"


# --- options a stack cannot honour are refused in one line ------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "connect"])
def test_alpn_on_a_stack_without_it_is_refused_in_one_line(command: str, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    needed = "SSL_CTX_set_alpn_select_cb" if command == "serve" else "SSL_set_alpn_protos"
    if _ENGINE.capi.has(needed):
        pytest.skip(f"the engine has {needed} now; nothing to refuse")
    argv = [command, "--stack", "engine", "--alpn", "h2"] + (["--port", "0"] if command == "serve" else
                                                            ["127.0.0.1:9"])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--alpn: stack 'engine' lacks {needed}" in err


ENGINE_ALPN = ("SSL_CTX_set_alpn_select_cb", "SSL_set_alpn_protos", "SSL_get0_alpn_selected")


@needs_openssl
@pytest.mark.skipif(not all(_ENGINE.capi.has(n) for n in ENGINE_ALPN),
                    reason="the engine lacks " + ", ".join(n for n in ENGINE_ALPN if not _ENGINE.capi.has(n)))
def test_engine_alpn_both_ways() -> None:
    """Runs once the engine has ALPN: its server picks its first preference the client offers, its client shows it."""
    with serving(stack="engine", count=2, alpn=["h2", "http/1.1"]) as (server, log):
        done = s_client(server.port, str(default_pki().ca_path), "-alpn", "http/1.1,h2")
        assert done.returncode == 0, done.stderr.decode() + log.getvalue()
        assert page_row(done.stdout, "ALPN protocol") == "h2"
        client = connect("engine", server.port, alpn=["http/1.1"], send=b"GET /\r\n")
        assert client.returncode == 0, client.info
        assert "ALPN protocol: http/1.1" in client.info


def test_a_binding_stack_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connect", "--stack", "stdlib", "127.0.0.1:9"]) == 2
    assert "stack 'stdlib' is a binding stack" in capsys.readouterr().err


def test_addresses_and_send_escapes() -> None:
    assert parse_address("127.0.0.1:4433") == ("127.0.0.1", 4433)
    assert parse_address("[::1]:443") == ("::1", 443)
    for bad in ("127.0.0.1", ":80", "host:0", "host:x"):
        with pytest.raises(UsageError):
            parse_address(bad)
    assert decode_send(r"GET /\r\n") == b"GET /\r\n"


def test_ipv6_loopback() -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with serving(stack="engine", host="::1", count=1) as (server, log):
        done = connect("engine", server.port, host="::1", verify=default_pki().ca_path, send=b"GET /\r\n")
    assert done.returncode == 0, done.info + log.getvalue()
    assert re.search(r"^\[1\] \[::1\]:\d+: TLSv1\.3 ", log.getvalue(), re.M), log.getvalue()
