"""The wire tier: TLS stacks that are programs, run on loopback as a peer of the other stacks.

An endpoint of this tier starts one program (``openssl s_server`` / ``s_client``, ``gnutls-cli``) connected to a
TCP socket on 127.0.0.1 that the endpoint holds. The socket is the endpoint's *network side*: what the program
sends is what the link takes, what the link delivers is written to the program. The *application side* is the
program's standard streams: ``write`` feeds its standard input (which the program sends as application data),
``read`` returns what it printed on standard output (the application data it received), and the handshake state
comes from its protocol message log (``-msg``): the handshake is complete once the program has both sent and
received a Finished message. Only interoperability cases apply to such a stack (the harness gives every other case
*not applicable*): a program exposes no return values, no SSL_get_error codes and no error queue.

Determinism. The pump proves a deadlock when a round moves nothing; a program works concurrently, so before the
endpoint says "nothing there" it waits until the program is *quiescent*: every byte sent to it has been
acknowledged by its TCP stack (so it sits in its receive queue, and its wake-up has happened), the process is asleep
again, its standard input is empty, and what it wrote has been collected. That makes each observation a function of
the input, as for the in-process stacks. Bytes that leave a TLS record unfinished cannot make a TLS program act, so
they need no wait.

Evidence: each endpoint notes its command line in the trace; a failure's reason carries the tail of the program's
log.
"""

from __future__ import annotations

import array
import contextlib
import errno
import fcntl
import os
import re
import shutil
import socket
import subprocess
import tempfile
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import NoReturn

from conformance.outcome import Outcome, Role, SslError
from conformance.stacks.base import (
    Endpoint,
    EndpointConfig,
    StackAdapter,
    StackUnavailable,
    Unsupported,
    capability_set,
)
from engine.tls.alerts import AlertDescription

__all__ = ["GNUTLS_DEBUG", "OPENSSL_MSG", "GnutlsProgramsStack", "LogSyntax", "OpensslProgramsStack", "ProgramEndpoint"]

@dataclass(frozen=True)
class LogSyntax:
    """How a program's log says what its SSL did: every pattern of ``handshake_done`` matches once the handshake is
    complete; ``close_notify`` once it received the peer's close_notify; ``fatal`` (its first match is quoted) once
    the connection failed."""

    handshake_done: tuple[re.Pattern[bytes], ...]
    close_notify: re.Pattern[bytes]
    fatal: re.Pattern[bytes]
    # the log shows work begun and not finished (e.g. a message queued and not yet sent): not quiescent yet
    busy: Callable[[bytes], bool] | None = None
    # one match per record the program says it sent: until that many records have arrived on the socket, it is busy
    sent_record: re.Pattern[bytes] | None = None


# openssl s_client / s_server -msg: ">>>" for a message sent, "<<<" for one received.
OPENSSL_MSG = LogSyntax(
    handshake_done=(re.compile(rb"^>>> [^\n]*Handshake[^\n]*, Finished", re.M),
                    re.compile(rb"^<<< [^\n]*Handshake[^\n]*, Finished", re.M)),
    close_notify=re.compile(rb"^<<< [^\n]*Alert[^\n]*close_notify", re.M),
    fatal=re.compile(rb"^(>>>|<<<) [^\n]*Alert[^\n]*fatal[^\n]*", re.M),
)
_QUIESCENCE_LIMIT = 10.0  # seconds a program may stay busy before the endpoint reports what it has
_START_LIMIT = 10.0


def _fionread(fd: int) -> int:
    buf = array.array("i", [0])
    try:
        fcntl.ioctl(fd, termios.FIONREAD, buf)
    except OSError:
        return 0
    return int(buf[0])


class _RecordFraming:
    """Where the byte stream sent to the program stands in TLS record framing (5-byte header with a 2-byte
    length): a TLS implementation acts only on whole records, so bytes that leave a record unfinished cannot make the
    program do anything, and the endpoint need not wait for it (this keeps byte-at-a-time links fast)."""

    def __init__(self) -> None:
        self.header = bytearray()
        self.body_left = 0
        self.records = 0  # records completed so far

    def feed(self, data: bytes) -> bool:
        """Account for ``data``; ``True`` if it completed at least one record."""
        completed = False
        view = memoryview(data)
        while view:
            if self.body_left:
                take = min(self.body_left, len(view))
                self.body_left -= take
                view = view[take:]
                if self.body_left == 0:
                    completed = True
                    self.records += 1
                continue
            take = min(5 - len(self.header), len(view))
            self.header += view[:take]
            view = view[take:]
            if len(self.header) == 5:
                self.body_left = int.from_bytes(self.header[3:5], "big")
                self.header.clear()
                if self.body_left == 0:
                    completed = True
                    self.records += 1
        return completed


def _unacknowledged(fd: int) -> int:
    """Bytes sent on the socket and not yet acknowledged (TIOCOUTQ), i.e. not yet in the peer's receive queue."""
    buf = array.array("i", [0])
    try:
        fcntl.ioctl(fd, termios.TIOCOUTQ, buf)
    except OSError:
        return 0
    return int(buf[0])


def _process_states(pid: int) -> set[str]:
    """The scheduler states of every thread of the process (``{"X"}`` once it is gone)."""
    states = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return {"X"}
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat", encoding="ascii") as stat:
                states.add(stat.read().rsplit(")", 1)[1].split()[0])
        except OSError:
            continue
    return states or {"X"}


_FACTORY_CONNECTIONS = 16  # connections one s_server of an endpoint factory accepts


def _temp_path(kind: str) -> str:
    fd, path = tempfile.mkstemp(prefix=f"conformance-{kind}-", suffix=".pem")
    os.close(fd)
    os.unlink(path)  # s_client creates it (-sess_out) or the endpoint writes it (-sess_in)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# openssl -msg: a handshake message's header line, then its bytes as indented hex lines
_MSG_MESSAGE = re.compile(rb"^(?:<<<|>>>) [^\n]*Handshake \[length [0-9a-f]+\], (\w+)\n((?:    [0-9a-f ]+\n)*)", re.M)
_EXT_SERVER_NAME = 0
_EXT_ALPN = 16


def _msg_extensions(log: bytes, message: str) -> list[dict[int, bytes]]:
    """The extensions (type -> body) of each ``message`` (ClientHello, ServerHello, EncryptedExtensions) that an
    openssl -msg log shows with its bytes, in log order; a message cut short is skipped."""
    found = []
    for match in _MSG_MESSAGE.finditer(log):
        if match.group(1).decode() != message:
            continue
        body = bytes.fromhex(match.group(2).decode().replace("\n", " "))[4:]  # after type and 3-byte length
        try:
            if message == "EncryptedExtensions":
                at = 0
            elif message == "ServerHello":
                at = 2 + 32 + 1 + body[34] + 2 + 1
            else:  # ClientHello
                at = 2 + 32 + 1 + body[34]
                at += 2 + int.from_bytes(body[at:at + 2], "big")
                at += 1 + body[at]
            end = at + 2 + int.from_bytes(body[at:at + 2], "big")
            at += 2
            extensions = {}
            while at + 4 <= end:
                kind, size = int.from_bytes(body[at:at + 2], "big"), int.from_bytes(body[at + 2:at + 4], "big")
                extensions[kind] = body[at + 4:at + 4 + size]
                at += 4 + size
        except IndexError:
            continue
        found.append(extensions)
    return found


class ProgramEndpoint(Endpoint):
    """One program as one side of a connection (see the module docstring)."""

    def __init__(self, argv: Sequence[str], config: EndpointConfig, label: str, *, listen: socket.socket | None,
                 port: int, close_by_stdin: bool, syntax: LogSyntax, after: ProgramEndpoint | None = None,
                 session_out: str | None = None, session_in: str | None = None) -> None:
        """``after``: a server endpoint whose program (still running, told to accept more connections) this one takes
        over for its next connection (``endpoint_factory``); ``session_out`` / ``session_in``: the program's
        session files (s_client -sess_out / -sess_in)."""
        self.role = config.role
        self.label = label
        self.argv = list(argv)
        self.command = " ".join(self.argv)
        self._close_by_stdin = close_by_stdin
        self._syntax = syntax
        self._stdout = bytearray()
        self._log = bytearray()
        self._net = bytearray()
        self._stdout_eof = False
        self._net_eof = False
        self._stdin_closed = False
        self._dirty = True  # input given since the program was last seen quiescent
        self._framing = _RecordFraming()
        self._received = _RecordFraming()  # records the program sent that arrived on our socket
        self._detached = False  # a later endpoint took the program over (its streams are no longer ours)
        self._skip_to_hello = after is not None  # the program's log still ends the previous connection
        self._pending_log = bytearray()
        self.session_out = session_out
        self._session_in = session_in
        self._port = port  # the program's (server) or ours (client)
        if after is not None:
            self.proc = after._hand_over()
        else:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None and self.proc.stderr is not None
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            os.set_blocking(stream.fileno(), False)
        try:
            self.sock = self._connect(listen, port)
        except Exception:
            self.close()
            raise
        self.sock.setblocking(False)
        self._local_port = int(self.sock.getsockname()[1])
        self._remote_port = int(self.sock.getpeername()[1])

    def _connect(self, listen: socket.socket | None, port: int) -> socket.socket:
        deadline = time.monotonic() + _START_LIMIT
        if listen is not None:  # the program is the client: it connects to us
            listen.settimeout(_START_LIMIT)
            try:
                conn, _ = listen.accept()
            except TimeoutError:
                self._start_failed(f"did not connect within {_START_LIMIT} s")
            finally:
                listen.close()
            return conn
        while True:  # the program is the server: connect once it listens
            try:
                return socket.create_connection(("127.0.0.1", port), timeout=1.0)
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self._start_failed(f"not listening on 127.0.0.1:{port}")
                time.sleep(0.01)

    def _start_failed(self, what: str) -> NoReturn:
        """The program never reached the TCP connection. Only a program that exited by itself with a status (it
        refused its command line: an option, group or cipher it does not know) is *not applicable*; one killed by a
        signal crashed, and one still running after the start limit hangs: both are the program's breakdown."""
        status = self.proc.poll()
        if status is not None and status > 0:
            raise Unsupported(f"{self.command}: {what} (exit {status}, the program refused its command line): "
                              f"{self._tail()}")
        why = ("still running" if status is None else "exited with status 0" if status == 0
               else f"killed by signal {-status}")
        raise RuntimeError(f"{self.command}: {what} ({why}, not a refusal of the configuration): {self._tail()}")

    def _hand_over(self) -> subprocess.Popen[bytes]:
        """Give the program to the next endpoint of the factory: end our connection (the program, told to accept
        more than one, goes back to accepting) and stop reading its streams."""
        self._drain()
        self._detached = True
        self.sock.close()
        return self.proc

    # --- collecting what the program wrote -----------------------------------------------------------------
    def _drain(self) -> None:
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, sink in ((self.proc.stdout, self._stdout), (self.proc.stderr, self._log)):
            if stream.closed or self._detached:
                continue
            while True:
                try:
                    chunk = os.read(stream.fileno(), 65536)
                except BlockingIOError:
                    break
                if not chunk:
                    if stream is self.proc.stdout:
                        self._stdout_eof = True
                    stream.close()
                    break
                if self._skip_to_hello:
                    # a program taken over: what it logs before our ClientHello ends the previous connection
                    if stream is self.proc.stdout:
                        continue
                    self._pending_log += chunk
                    hello = _HELLO_RECEIVED.search(bytes(self._pending_log))
                    if hello is None:
                        continue
                    chunk = bytes(self._pending_log[hello.start():])
                    self._skip_to_hello = False
                sink += chunk
        while not self._net_eof and not self._detached:
            try:
                chunk = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self._net_eof = True
                break
            if not chunk:
                self._net_eof = True
                break
            self._net += chunk
            self._received.feed(chunk)

    def _quiescent(self) -> bool:
        if self._detached:
            return True
        if _unacknowledged(self.sock.fileno()):
            return False  # bytes we sent have not reached the program's receive queue yet
        if self.proc.poll() is not None:
            return True
        if self._syntax.busy is not None and self._syntax.busy(bytes(self._log[-4096:])):
            return False
        if self._syntax.sent_record is not None and not self._net_eof and \
                len(self._syntax.sent_record.findall(bytes(self._log))) > self._received.records:
            return False  # its log says it sent a record that has not arrived yet
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed and _fionread(stream.fileno()):
                return False  # unread output: the program may be asleep only because its pipe is full
        if not _process_states(self.proc.pid) <= {"S", "Z", "X", "I"}:
            return False
        stdin = self.proc.stdin
        return stdin is None or stdin.closed or _fionread(stdin.fileno()) == 0

    def _settle(self) -> None:
        """Wait until the program has done everything it can with the input it has, and collect its output."""
        if not self._dirty:
            self._drain()
            return
        deadline = time.monotonic() + _QUIESCENCE_LIMIT
        pause = 0.0
        calm = 0  # consecutive checks that found the program asleep with nothing new written
        while time.monotonic() < deadline:
            before = (len(self._log), len(self._stdout), len(self._net))
            self._drain()
            if self._quiescent() and before == (len(self._log), len(self._stdout), len(self._net)):
                calm += 1
                # twice, a pause apart: a program woken by the pipe we just drained (a chatty debug log fills it)
                # may still look asleep at the first look
                if calm >= 2:
                    break
            else:
                calm = 0
            time.sleep(pause)
            pause = min(0.002, pause + 0.0002)
        # Asleep with nothing left to read: whatever it wrote before it slept is in our buffers (loopback and pipes
        # deliver within the writing call).
        self._drain()
        self._dirty = False

    def _tail(self, size: int = 600) -> str:
        self._drain() if hasattr(self, "sock") else None
        text = bytes(self._log[-size:]).decode("utf-8", "replace").strip()
        return f"[{self.command}] log: {text}" if text else f"[{self.command}] (nothing logged)"

    def _handshake_done(self) -> bool:
        """The program logged a Finished message it sent and one it received (``-msg``: ``>>>`` / ``<<<``)."""
        log = bytes(self._log)
        return all(p.search(log) is not None for p in self._syntax.handshake_done)

    def _closed_by_peer(self) -> bool:
        return self._syntax.close_notify.search(bytes(self._log)) is not None

    # --- sessions (s_client -sess_out / -sess_in; one s_server serving the endpoints of a factory) -----------
    def session(self) -> object | None:
        if self.session_out is None:
            return super().session()
        self._settle()
        try:
            with open(self.session_out, "rb") as f:
                pem = f.read()
        except FileNotFoundError:
            return None
        return _SessionPem(pem) if pem else None

    def session_reused(self) -> bool:
        """A completed handshake in which the server sent no Certificate: an abbreviated (TLS 1.2) or PSK (TLS 1.3)
        handshake, as the program's message log shows it."""
        self._settle()
        sent_by_server = "<<<" if self.role is Role.CLIENT else ">>>"
        certificate = re.compile(rf"^{sent_by_server} [^\n]*Handshake[^\n]*, Certificate$".encode(), re.M)
        return self._handshake_done() and certificate.search(bytes(self._log)) is None

    # --- application side ---------------------------------------------------------------------------------
    def _failure(self, op: str, args: str = "") -> Outcome | None:
        alert = self._syntax.fatal.search(bytes(self._log))
        if alert is not None:  # the connection is over: the program sent or received a fatal alert
            what = alert.group(0).decode("utf-8", "replace")
            number = re.search(r"Alert\[2\|(\d+)\]", what)  # GnuTLS logs the alert's number: add its RFC name
            if number is not None:
                with contextlib.suppress(ValueError):
                    what += f" (alert {number.group(1)}: {AlertDescription(int(number.group(1))).name})"
            return Outcome(op, -1, SslError.SSL_ERROR_SSL, reason=f"{what}: {self._tail()}", args=args)
        if self.proc.poll() is not None and not self._handshake_done():
            return Outcome(op, -1, SslError.SSL_ERROR_SSL, reason=f"exited with {self.proc.returncode}: "
                                                                  f"{self._tail()}", args=args)
        return None

    def do_handshake(self) -> Outcome:
        self._settle()
        if self._handshake_done():
            return Outcome("handshake", 1, SslError.SSL_ERROR_NONE, args="program")
        return self._failure("handshake", "program") or Outcome("handshake", -1, SslError.SSL_ERROR_WANT_READ,
                                                               args="program")

    def read(self, size: int) -> Outcome:
        self._settle()
        if self._stdout:
            data = bytes(self._stdout[:size])
            del self._stdout[:size]
            return Outcome("read", len(data), SslError.SSL_ERROR_NONE, data, args=str(size))
        if self._closed_by_peer():  # everything before the close_notify has been printed and collected
            return Outcome("read", 0, SslError.SSL_ERROR_ZERO_RETURN, args=str(size))
        failure = self._failure("read", str(size))  # a fatal alert explains an ended program best
        if failure is not None:
            return failure
        if self._stdout_eof or self.proc.poll() is not None:
            return Outcome("read", 0, SslError.SSL_ERROR_SYSCALL, reason=f"the program ended: {self._tail()}",
                           args=str(size))
        return self._failure("read", str(size)) or Outcome("read", -1, SslError.SSL_ERROR_WANT_READ, args=str(size))

    def write(self, data: bytes) -> Outcome:
        stdin = self.proc.stdin
        if stdin is None or stdin.closed or self.proc.poll() is not None:
            return Outcome("write", -1, SslError.SSL_ERROR_SYSCALL, reason=f"the program ended: {self._tail()}",
                           args=str(len(data)))
        if not data:
            return Outcome("write", 0, SslError.SSL_ERROR_NONE, args="0")
        try:
            written = os.write(stdin.fileno(), data)
        except BlockingIOError:
            written = 0
        except BrokenPipeError:
            return Outcome("write", -1, SslError.SSL_ERROR_SYSCALL, reason=f"the program ended: {self._tail()}",
                           args=str(len(data)))
        self._dirty = True
        if written == 0:  # its input pipe is full until it can send what it has
            return Outcome("write", -1, SslError.SSL_ERROR_WANT_WRITE, args=str(len(data)))
        return Outcome("write", written, SslError.SSL_ERROR_NONE, args=str(len(data)))

    def shutdown(self) -> Outcome:
        if not self._close_by_stdin:
            raise Unsupported(f"{self.label}: the program has no way to be told to send close_notify while its "
                              f"standard input carries raw application data ({self.command})")
        stdin = self.proc.stdin
        if stdin is not None and not stdin.closed:
            stdin.close()  # end of input: the program sends close_notify and ends
            self._stdin_closed = True
        self._dirty = True
        self._settle()
        return Outcome("shutdown", 0, SslError.SSL_ERROR_NONE, args="end of standard input")

    # --- network side -------------------------------------------------------------------------------------
    def alpn_selected(self) -> str | None:
        """openssl: the protocol in the ALPN extension of the ServerHello (TLS 1.2) or EncryptedExtensions (TLS 1.3)
        that the program's -msg log shows it sent (server) or received (client); None: there was none."""
        self._drain()
        for message in ("ServerHello", "EncryptedExtensions"):
            for extensions in _msg_extensions(bytes(self._log), message):
                body = extensions.get(_EXT_ALPN)
                if body is not None and len(body) >= 3:
                    return body[3:3 + body[2]].decode(errors="replace")  # list length (2), name length (1), name
        return None

    def server_name_seen(self) -> str | None:
        """openssl s_server: the host name in the server_name extension of the ClientHello its -msg log shows it
        received; None: there was none."""
        self._drain()
        for extensions in _msg_extensions(bytes(self._log), "ClientHello"):
            body = extensions.get(_EXT_SERVER_NAME)
            if body is not None and len(body) >= 5:  # list length (2), name type (1), name length (2), name
                return body[5:5 + int.from_bytes(body[3:5], "big")].decode(errors="replace")
            return None
        return None

    def take_outgoing(self, limit: int | None = None) -> bytes:
        self._settle()
        n = len(self._net) if limit is None else min(limit, len(self._net))
        data = bytes(self._net[:n])
        del self._net[:n]
        return data

    def outgoing_pending(self) -> int:
        self._settle()
        return len(self._net)

    def put_incoming(self, data: bytes) -> int:
        try:
            sent = self.sock.send(data)
        except BlockingIOError:
            return 0
        except OSError as exc:
            if exc.errno in (errno.EPIPE, errno.ECONNRESET):
                return 0
            raise
        if self._framing.feed(data[:sent]):
            self._dirty = True
        return sent

    def put_eof(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
        self._dirty = True

    def close(self) -> None:
        for path in (self.session_out, self._session_in):
            if path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        if self._detached:  # the program went on with a later endpoint, which ends it
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()
        sock = getattr(self, "sock", None)
        if sock is not None:
            sock.close()


_HELLO_RECEIVED = re.compile(rb"^<<< [^\n]*Handshake[^\n]*, ClientHello$", re.M)


@dataclass(frozen=True)
class _SessionPem:
    """A session as s_client -sess_out wrote it (PEM SSL_SESSION), for a later s_client's -sess_in."""

    pem: bytes


_OPENSSL_GROUPS = MappingProxyType({"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521",
                                    "x25519": "X25519"})


class OpensslProgramsStack(StackAdapter):
    """``openssl s_server`` / ``openssl s_client`` of the system's OpenSSL, as programs on loopback."""

    name = "openssl-programs"
    library = "openssl s_server / s_client (programs on 127.0.0.1)"
    tier = "wire"
    capabilities = capability_set("client_role", "server_role", "tls1_2", "tls1_3", "implicit_handshake",
                                  "client_certificates", "peer_verification", "cipher_selection",
                                  "group_selection", "session_resumption", "session_reused", "alpn",
                                  "server_name_seen")
    missing_reasons = MappingProxyType({
        "raw_return_values": "a program shows no return values",
        "error_codes": "a program shows no SSL_get_error codes",
        "error_queue": "a program's error queue is only its printed log",
        "bounded_write_buffer": "the program's socket buffers are the kernel's",
        "partial_write": "not an option of s_client / s_server",
        "peek": "a program has no peek",
        "pending": "a program has no pending count",
        "shutdown_return_values": "s_client sends close_notify when its input ends; no return value is shown",
        "ignore_unexpected_eof": "not mapped to the programs' options",
        "key_update": "s_client / s_server send a KeyUpdate only on a command letter, which the raw data on their "
                      "standard input turns off",
        "renegotiation": "only on a command letter, which the raw data on the standard input turns off",
        "zero_length_write": "an empty write to a program's standard input sends nothing",
        "c_api": "a program has no C API",
    })

    def __init__(self) -> None:
        self._program = shutil.which("openssl")

    def check_available(self) -> None:
        if self._program is None:
            raise StackUnavailable("the openssl program is not on PATH: install Debian's openssl "
                                   "(scripts/bootstrap does when run as root)")

    def version(self) -> str:
        if self._program is None:
            return "-"
        out = subprocess.run([self._program, "version"], capture_output=True, text=True, timeout=10, check=False)
        return out.stdout.strip() or out.stderr.strip()

    def _argv(self, config: EndpointConfig, port: int, *, connections: int = 1, session_out: str | None = None,
              session_in: str | None = None) -> list[str]:
        assert self._program is not None
        pki = config.pki
        ca = pki.other_ca_path if config.trust_other_ca else pki.ca_path
        server = config.role is Role.SERVER
        if server:
            identity = pki.server_identity(config.server_key)
            argv = [self._program, "s_server", "-accept", f"127.0.0.1:{port}", "-naccept", str(connections), "-quiet",
                    "-cert", str(identity.cert_path), "-key", str(identity.key_path), "-CAfile", str(ca)]
            if config.verify_peer:
                argv += ["-Verify", "1", "-verify_return_error"]
        else:
            sni = ["-servername", config.server_name] if config.send_sni else ["-noservername"]
            argv = [self._program, "s_client", "-connect", f"127.0.0.1:{port}", *sni,
                    "-quiet", "-no_ign_eof", "-nocommands", "-CAfile", str(ca)]
            if config.verify_peer:
                argv += ["-verify_return_error"]
                if config.check_host:
                    argv += ["-verify_hostname", config.server_name]
            if config.present_certificate:
                argv += ["-cert", str(pki.client.cert_path), "-key", str(pki.client.key_path)]
            if session_out is not None:
                argv += ["-sess_out", session_out]
            if session_in is not None:
                argv += ["-sess_in", session_in]
        if config.min_version:
            argv += ["-min_protocol", config.min_version]
        if config.max_version:
            argv += ["-max_protocol", config.max_version]
        if config.ciphersuites is not None:
            argv += ["-ciphersuites", ":".join(config.ciphersuites)]
        if config.cipher_list is not None:
            argv += ["-cipher", ":".join(config.cipher_list)]
        if config.groups is not None:
            argv += ["-groups", ":".join(_OPENSSL_GROUPS.get(g, g) for g in config.groups)]
        if config.alpn is not None:  # s_server selects with SSL_select_next_proto: its own order decides
            argv += ["-alpn", ",".join(config.alpn)]
        return [*argv, "-msg", "-msgfile", "/dev/stderr"]

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        return self._endpoint(config, label)

    def _endpoint(self, config: EndpointConfig, label: str, *, connections: int = 1,
                  after: ProgramEndpoint | None = None) -> ProgramEndpoint:
        self.check_available()
        for name in ("write_buffer", "read_buffer", "partial_write"):
            if getattr(config, name) is not None:
                raise Unsupported(f"{self.name}: {name} cannot be set on a program")
        if config.allow_client_renegotiation:
            raise Unsupported(f"{self.name}: client renegotiation is not mapped to the programs' options")
        if config.resume is not None and not isinstance(config.resume, _SessionPem):
            raise Unsupported(f"{self.name}: the session to resume is not one an s_client of this stack wrote")
        if config.alpn is not None and config.role is Role.SERVER and config.alpn_no_overlap == "ignore":
            raise Unsupported(f"{self.name}: s_server -alpn refuses a client that offers none of its protocols "
                              "(its select callback answers SSL_TLSEXT_ERR_ALERT_FATAL: no_application_protocol) and "
                              "has no option to go on without ALPN")
        listen: socket.socket | None = None
        session_out = session_in = None
        if config.role is Role.SERVER:
            port = after._port if after is not None else _free_port()
        else:
            listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listen.bind(("127.0.0.1", 0))
            listen.listen(1)
            port = int(listen.getsockname()[1])
            # every client writes its session (s_client -sess_out, on each new session) for Endpoint.session
            session_out = _temp_path("session-out")
            if isinstance(config.resume, _SessionPem):
                session_in = _temp_path("session-in")
                with open(session_in, "wb") as f:
                    f.write(config.resume.pem)
        argv = self._argv(config, port, connections=connections, session_out=session_out, session_in=session_in)
        endpoint = ProgramEndpoint(argv, config, label, listen=listen, port=port,
                                   close_by_stdin=config.role is Role.CLIENT, syntax=OPENSSL_MSG, after=after,
                                   session_out=session_out, session_in=session_in)
        return endpoint

    def endpoint_factory(self, config: EndpointConfig) -> Callable[[str], Endpoint]:
        """Servers of one s_server (one session cache and ticket key), which serves their connections one after
        another: each new endpoint ends the connection of the one before it (s_server takes the next connection
        only when the current one is over)."""
        if config.role is not Role.SERVER:
            return super().endpoint_factory(config)
        last: list[ProgramEndpoint] = []

        def make(label: str) -> Endpoint:
            endpoint = self._endpoint(config, label, connections=_FACTORY_CONNECTIONS,
                                      after=last[-1] if last else None)
            last.append(endpoint)
            return endpoint

        return make



# gnutls-cli -d 5 on standard error: "HSK[..]: FINISHED was queued" / "FINISHED (20) was received" for the Finished
# messages, "Alert[1|0] - Close notify - was received", "Sending Alert[2|n] - ..." / "Alert[2|n] - ... - was
# received" for fatal alerts, and "*** ..." lines when the program gives up (e.g. a certificate it does not trust).
GNUTLS_DEBUG = LogSyntax(
    handshake_done=(re.compile(rb"HSK\[[^\]]*\]: FINISHED was queued[^\n]*\n(?:[^\n]*\n)*?[^\n]*: Sent Packet\["),
                    re.compile(rb"HSK\[[^\]]*\]: FINISHED \(20\) was received")),
    close_notify=re.compile(rb"Alert\[1\|0\] - Close notify - was received"),
    fatal=re.compile(rb"Alert\[2\|\d+\] - [^\n]*|^\*\*\* [^\n]*(?:failed|[Ff]atal)[^\n]*", re.M),
    busy=lambda log: log.rfind(b" was queued") > log.rfind(b": Sent Packet["),
    sent_record=re.compile(rb": Sent Packet\["),
)

_GNUTLS_GROUPS = MappingProxyType({"secp256r1": "GROUP-SECP256R1", "secp384r1": "GROUP-SECP384R1",
                                   "secp521r1": "GROUP-SECP521R1", "x25519": "GROUP-X25519", "x448": "GROUP-X448"})
_GNUTLS_TLS13_CIPHERS = MappingProxyType({"TLS_AES_128_GCM_SHA256": "AES-128-GCM",
                                          "TLS_AES_256_GCM_SHA384": "AES-256-GCM",
                                          "TLS_CHACHA20_POLY1305_SHA256": "CHACHA20-POLY1305",
                                          "TLS_AES_128_CCM_SHA256": "AES-128-CCM"})


class GnutlsProgramsStack(StackAdapter):
    """``gnutls-cli`` of Debian's gnutls-bin as a client on loopback. Its handshake state and the alerts come from its
    debug log (``-d 5`` on standard error), which it writes as things happen; the data it receives is its standard
    output (informational messages go to ``--logfile``), and the end of its standard input makes it send close_notify.

    ``gnutls-serv`` cannot be a server here: it never reads its standard input, so the application data a server
    sends cannot be chosen; it only echoes what it receives (``--echo``) or answers an HTTP GET (``--http``), and the
    cases' servers send their own data."""

    name = "gnutls-programs"
    library = "gnutls-cli (a program on 127.0.0.1)"
    tier = "wire"
    capabilities = capability_set("client_role", "tls1_2", "tls1_3", "implicit_handshake",
                                  "present_client_certificate", "peer_verification", "cipher_selection",
                                  "group_selection")
    missing_reasons = MappingProxyType({
        "server_role": "gnutls-serv never reads its standard input: it can only echo what it receives (--echo) or "
                       "answer an HTTP GET (--http), so a server's own application data cannot be sent",
        "request_client_certificate": "a server feature (gnutls-serv cannot play the server, see server_role)",
        "raw_return_values": "a program shows no return values",
        "error_codes": "a program shows no SSL_get_error codes",
        "error_queue": "a program's error queue is only its printed log",
        "bounded_write_buffer": "the program's socket buffers are the kernel's",
        "partial_write": "not an option of gnutls-cli",
        "peek": "a program has no peek",
        "pending": "a program has no pending count",
        "shutdown_return_values": "gnutls-cli sends close_notify when its input ends; no return value is shown",
        "ignore_unexpected_eof": "not an option of gnutls-cli",
        "host_name_check": "gnutls-cli always checks the server's name (--verify-hostname) when it verifies",
        "cipher_list": "OpenSSL cipher-list names are not mapped to GnuTLS priority strings",
        "key_update": "gnutls-cli sends a KeyUpdate only on an inline command (^rekey^), which would turn the raw "
                      "data on its standard input into commands",
        "renegotiation": "only with --rehandshake at connection time, not on request",
        "zero_length_write": "an empty write to a program's standard input sends nothing",
        "c_api": "a program has no C API",
        "alpn": "gnutls-cli offers ALPN (--alpn) but reports the protocol negotiated only among its informational "
                "messages (\"- Application protocol: NAME\", on standard output, which carries the application data, "
                "or in --logfile, which it writes block-buffered: seen empty while connected); its -d log names the "
                "ALPN extension, not the protocol",
    })

    def __init__(self) -> None:
        self._program = shutil.which("gnutls-cli")

    def check_available(self) -> None:
        if self._program is None:
            raise StackUnavailable("gnutls-cli is not on PATH: install Debian's gnutls-bin "
                                   "(scripts/bootstrap does when run as root)")

    def version(self) -> str:
        if self._program is None:
            return "-"
        out = subprocess.run([self._program, "--version"], capture_output=True, text=True, timeout=10, check=False)
        return (out.stdout.strip() or out.stderr.strip()).splitlines()[0]

    def _priority(self, config: EndpointConfig) -> str:
        parts = ["NORMAL"]
        if config.max_version == "TLSv1.2":
            parts.append("-VERS-TLS1.3")
        if config.min_version == "TLSv1.3":
            parts += ["-VERS-TLS1.2", "-VERS-TLS1.1", "-VERS-TLS1.0"]
        if config.ciphersuites is not None:
            unknown = [c for c in config.ciphersuites if c not in _GNUTLS_TLS13_CIPHERS]
            if unknown:
                raise Unsupported(f"{self.name}: no GnuTLS cipher for {', '.join(unknown)}")
            parts += ["-CIPHER-ALL", *(f"+{_GNUTLS_TLS13_CIPHERS[c]}" for c in config.ciphersuites)]
        if config.groups is not None:
            unknown = [g for g in config.groups if g not in _GNUTLS_GROUPS]
            if unknown:
                raise Unsupported(f"{self.name}: no GnuTLS group for {', '.join(unknown)}")
            parts += ["-GROUP-ALL", *(f"+{_GNUTLS_GROUPS[g]}" for g in config.groups)]
        return ":".join(parts)

    def _argv(self, config: EndpointConfig, port: int) -> list[str]:
        assert self._program is not None
        pki = config.pki
        ca = pki.other_ca_path if config.trust_other_ca else pki.ca_path
        argv = [self._program, "-p", str(port), "127.0.0.1", "-d", "5", "--logfile=/dev/null",
                f"--x509cafile={ca}", f"--priority={self._priority(config)}"]
        if config.send_sni:  # without it, no SNI: the host connected to is an IP address (RFC 6066 section 3)
            argv.append(f"--sni-hostname={config.server_name}")
        if config.verify_peer:
            argv.append(f"--verify-hostname={config.server_name}")
        else:
            argv.append("--insecure")
        if config.present_certificate:
            argv += [f"--x509certfile={pki.client.cert_path}", f"--x509keyfile={pki.client.key_path}"]
        return argv

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        self.check_available()
        if config.role is not Role.CLIENT:
            raise Unsupported(f"{self.name}: gnutls-serv cannot send a server's own application data "
                              "(capability server_role)")
        for name in ("write_buffer", "read_buffer", "partial_write"):
            if getattr(config, name) is not None:
                raise Unsupported(f"{self.name}: {name} cannot be set on a program")
        if config.cipher_list is not None:
            raise Unsupported(f"{self.name}: OpenSSL cipher lists are not mapped (capability cipher_list)")
        if config.alpn is not None:
            raise Unsupported(f"{self.name}: the protocol gnutls-cli negotiates cannot be observed (capability alpn)")
        if config.verify_peer and not config.check_host:
            raise Unsupported(f"{self.name}: gnutls-cli always checks the server's name when it verifies "
                              "(capability host_name_check)")
        listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listen.bind(("127.0.0.1", 0))
        listen.listen(1)
        port = int(listen.getsockname()[1])
        return ProgramEndpoint(self._argv(config, port), config, label, listen=listen, port=port,
                               close_by_stdin=True, syntax=GNUTLS_DEBUG)
