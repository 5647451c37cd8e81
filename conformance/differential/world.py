"""One stack's side of a differential program: a client and a server SSL over BIOs, the link between them, and what
a program can observe after each step.

:class:`World` is also the replay helper: the script printed for a shrunk program builds a ``World`` with
:meth:`World.on` and calls the C API on ``w.client`` / ``w.server`` directly.
"""

from __future__ import annotations

import fcntl
import socket
import struct
import termios
import time
import weakref
from collections.abc import Callable
from typing import Any, Protocol, cast

from conformance.capi.contract import CApi
from conformance.certs import SERVER_NAME, default_pki
from conformance.differential.program import (
    SIDES,
    Clear,
    Corrupt,
    Drop,
    Dup,
    Eof,
    Handshake,
    KeyUpdate,
    Move,
    Read,
    Rebio,
    Renegotiate,
    Setup,
    Shutdown,
    Side,
    Step,
    Write,
    payload,
)
from engine.bio.constants import BIO_NOCLOSE
from engine.ssl import constants as K

__all__ = ["Observation", "World", "api_of", "payload"]



class Api(CApi[Any, Any, Any, Any], Protocol):
    """The C-API contract plus the few functions only the differential runner calls (each stack's C API has them
    under these names; a run offers a step only when every stack has its function, see ``runner.FUNCTIONS``)."""

    def SSL_dup(self, ssl: Any, /) -> Any: ...
    def SSL_renegotiate(self, ssl: Any, /) -> int: ...
    def SSL_renegotiate_abbreviated(self, ssl: Any, /) -> int: ...
    def SSL_renegotiate_pending(self, ssl: Any, /) -> int: ...
    def SSL_CTX_set_cipher_list(self, ctx: Any, str: bytes, /) -> int: ...
    def SSL_CTX_set_options(self, ctx: Any, op: int, /) -> int: ...
    def SSL_set_fd(self, ssl: Any, fd: int, /) -> int: ...
    def BIO_new_socket(self, sock: int, close_flag: int, /) -> Any: ...


Observation = dict[str, Any]
_ERROR_NAMES = {int(e): e.name for e in K.SslError}
_WANT_NAMES = {K.SSL_NOTHING: "SSL_NOTHING", K.SSL_READING: "SSL_READING", K.SSL_WRITING: "SSL_WRITING",
               K.SSL_X509_LOOKUP: "SSL_X509_LOOKUP"}
# SSL_CTX objects are configuration only: one per (API object, role, set-up) for the whole process. Keyed by the API
# object itself, held weakly: api_of() makes a new one per call, and an id() reused by another library's API once the
# first is collected handed, say, a libssl context to the engine's SSL_new (a flaky "engine: SSL_new failed" in CI).
_CONTEXTS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()
TLS12_SUITE = b"ECDHE-ECDSA-AES128-GCM-SHA256"  # the test PKI's server key is ECDSA


def api_of(stack: str) -> Api:
    """The C API of a registered C-API stack (``engine``, ``libssl``, ``wolfssl``, ...)."""
    from conformance.stacks import discover

    info = discover().get(stack)
    if info is None or info.adapter is None:
        raise LookupError(f"no stack named {stack!r}")
    if not info.installed:
        raise LookupError(f"stack {stack!r} is not usable here: {info.problem}")
    if info.adapter.tier != "c-api":
        raise LookupError(f"stack {stack!r} is a {info.adapter.tier} stack; the differential runner needs the C API")
    return cast(Api, info.adapter.capi)  # type: ignore[attr-defined]


def _context(api: Api, role: Side, setup: Setup) -> Any:
    server = role == "server"
    verify = "-" if server else setup.verify
    partial = setup.partial_write[1 if server else 0]
    auto_retry = setup.auto_retry[1 if server else 0]
    auth = (setup.client_auth, setup.client_reneg) if server else setup.client_cert
    key = (role, verify, partial, auto_retry, setup.version, auth)
    contexts = _CONTEXTS.setdefault(api, {})
    ctx = contexts.get(key)
    if ctx is not None:
        return ctx
    pki = default_pki()
    api.ERR_clear_error()
    ctx = api.SSL_CTX_new(api.TLS_server_method() if server else api.TLS_client_method())
    problems: list[str] = []

    def check(ok: bool, call: str) -> None:
        if not ok:
            problems.append(f"{call}: {api.ERR_error_string_n(api.ERR_peek_error())}")

    check(ctx is not None, "SSL_CTX_new")
    if setup.version == "1.2":
        check(api.SSL_CTX_set_min_proto_version(ctx, K.TLS1_2_VERSION) == 1, "SSL_CTX_set_min_proto_version")
        check(api.SSL_CTX_set_max_proto_version(ctx, K.TLS1_2_VERSION) == 1, "SSL_CTX_set_max_proto_version")
        check(api.SSL_CTX_set_cipher_list(ctx, TLS12_SUITE) == 1, "SSL_CTX_set_cipher_list")
        api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET)  # no RFC 5077 tickets (not every stack has them)
    else:
        check(api.SSL_CTX_set_min_proto_version(ctx, K.TLS1_3_VERSION) == 1, "SSL_CTX_set_min_proto_version")
    if server and setup.client_reneg:
        api.SSL_CTX_set_options(ctx, K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
    if server:
        check(api.SSL_CTX_use_certificate_file(ctx, str(pki.server.cert_path).encode(), K.SSL_FILETYPE_PEM) == 1,
              "SSL_CTX_use_certificate_file")
        check(api.SSL_CTX_use_PrivateKey_file(ctx, str(pki.server.key_path).encode(), K.SSL_FILETYPE_PEM) == 1,
              "SSL_CTX_use_PrivateKey_file")
        if setup.client_auth == "none":
            api.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_NONE, None)
        else:
            check(api.SSL_CTX_load_verify_locations(ctx, str(pki.ca_path).encode(), None) == 1,
                  "SSL_CTX_load_verify_locations")
            required = K.SSL_VERIFY_FAIL_IF_NO_PEER_CERT if setup.client_auth == "required" else 0
            api.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER | required, None)
        # No session tickets: their sizes are each stack's own, and a ticket partly delivered would decide what
        # SSL_has_pending says (resumption is not exercised here anyway).
        if api.has("SSL_CTX_set_num_tickets"):
            check(api.SSL_CTX_set_num_tickets(ctx, 0) == 1, "SSL_CTX_set_num_tickets")
    else:
        ca = pki.other_ca_path if verify == "wrong-ca" else pki.ca_path
        check(api.SSL_CTX_load_verify_locations(ctx, str(ca).encode(), None) == 1, "SSL_CTX_load_verify_locations")
        api.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_NONE if verify == "none" else K.SSL_VERIFY_PEER, None)
        if setup.client_cert:
            check(api.SSL_CTX_use_certificate_file(ctx, str(pki.client.cert_path).encode(), K.SSL_FILETYPE_PEM)
                  == 1, "SSL_CTX_use_certificate_file")
            check(api.SSL_CTX_use_PrivateKey_file(ctx, str(pki.client.key_path).encode(), K.SSL_FILETYPE_PEM)
                  == 1, "SSL_CTX_use_PrivateKey_file")
    if partial:
        api.SSL_CTX_set_mode(ctx, K.SSL_MODE_ENABLE_PARTIAL_WRITE)
    else:
        api.SSL_CTX_clear_mode(ctx, K.SSL_MODE_ENABLE_PARTIAL_WRITE)
    if auto_retry:
        api.SSL_CTX_set_mode(ctx, K.SSL_MODE_AUTO_RETRY)
    else:
        api.SSL_CTX_clear_mode(ctx, K.SSL_MODE_AUTO_RETRY)
    if problems:
        raise RuntimeError(f"{api.library}: setting up the {role} context failed: {'; '.join(problems)}")
    contexts[key] = ctx
    return ctx


class _End:
    """One SSL and its transport as the link sees it: the bytes the SSL wrote (``take_output``), the bytes given to
    it (``deliver``) and, of those, the ones it has not read yet (``unread`` / ``take_unread``)."""

    def __init__(self, api: Api, ssl: Any) -> None:
        self.api = api
        self.ssl = ssl

    def take_output(self) -> bytes:
        raise NotImplementedError

    def has_output(self) -> bool:
        raise NotImplementedError

    def deliver(self, data: bytes) -> int:
        """Give ``data`` to the SSL's input; how many bytes the transport took."""
        raise NotImplementedError

    def unread(self) -> int:
        raise NotImplementedError

    def take_unread(self) -> bytes:
        raise NotImplementedError

    def eof(self) -> int:
        """The SSL's input reports end of file once the bytes delivered so far are read."""
        raise NotImplementedError

    def close(self) -> None:
        """Free what the harness owns of the transport (after the SSL that used it is gone or has new BIOs)."""


class _BioEnd(_End):
    """A BIO pair half or two memory BIOs: ``incoming`` is written by the link and read by the SSL; ``outgoing``
    is written by the SSL and read by the link; ``unread_bio``'s pending count is the delivered bytes the SSL has
    not read; ``owned``: the BIOs the harness frees (the SSL frees the others)."""

    def __init__(self, api: Api, ssl: Any, incoming: Any, outgoing: Any, unread_bio: Any, owned: list[Any],
                 mem: bool) -> None:
        super().__init__(api, ssl)
        self.incoming, self.outgoing, self.unread_bio, self.owned, self.mem = incoming, outgoing, unread_bio, owned, mem

    def _drain(self, bio: Any) -> bytes:
        pending = self.api.BIO_ctrl_pending(bio)
        if pending > 0:
            ret, data = self.api.BIO_read(bio, pending)
            if ret > 0:
                return bytes(data)
        return b""

    def take_output(self) -> bytes:
        return self._drain(self.outgoing)

    def has_output(self) -> bool:
        return self.api.BIO_ctrl_pending(self.outgoing) > 0

    def deliver(self, data: bytes) -> int:
        return max(self.api.BIO_write(self.incoming, data), 0)

    def unread(self) -> int:
        return self.api.BIO_ctrl_pending(self.unread_bio)

    def take_unread(self) -> bytes:
        return self._drain(self.unread_bio)

    def eof(self) -> int:
        if self.mem:
            return self.api.BIO_set_mem_eof_return(self.incoming, 0)
        return self.api.BIO_shutdown_wr(self.incoming)

    def close(self) -> None:
        for bio in self.owned:
            self.api.BIO_free(bio)
        self.owned = []


_SIOCOUTQNSD = 0x894B  # linux/sockios.h: bytes of the send queue not yet sent
_SETTLE = 5.0  # seconds loopback delivery may take before the harness gives up (it takes microseconds)


def _queued(sock: socket.socket, request: int) -> int:
    return int(struct.unpack("i", fcntl.ioctl(sock.fileno(), request, b"\0\0\0\0"))[0])


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + _SETTLE
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"loopback transport: {what} within {_SETTLE} s")
        time.sleep(0.0002)


class _SocketEnd(_End):
    """A TCP connection over 127.0.0.1: the SSL's end (``BIO_new_socket`` + ``SSL_set_bio``, or ``SSL_set_fd``;
    non-blocking, so an empty socket is a retry) and the link's end, read and written by the harness. Loopback
    delivery is immediate on Linux; the harness still waits until the kernel has moved the bytes (``SIOCOUTQNSD``
    of the sender, ``FIONREAD`` of the receiver), so an observation never races the kernel."""

    def __init__(self, api: Api, ssl: Any, use_fd: bool) -> None:
        super().__init__(api, ssl)
        with socket.create_server(("127.0.0.1", 0)) as listener:
            self.link_sock = socket.create_connection(listener.getsockname())
            self.ssl_sock, _ = listener.accept()
        for sock in (self.link_sock, self.ssl_sock):
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fd = self.ssl_sock.fileno()
        if use_fd:
            ok = api.SSL_set_fd(ssl, fd) == 1
        else:
            bio = api.BIO_new_socket(fd, BIO_NOCLOSE)
            ok = bio is not None
            if ok:
                api.SSL_set_bio(ssl, bio, bio)
        if not ok:
            self.close()
            raise RuntimeError(f"{api.library}: {'SSL_set_fd' if use_fd else 'BIO_new_socket'} failed")

    def _sent(self, sock: socket.socket) -> None:
        _wait(lambda: _queued(sock, _SIOCOUTQNSD) == 0, "the send queue did not empty")

    def _recv_all(self, sock: socket.socket) -> bytes:
        chunks = []
        while True:
            try:
                data = sock.recv(1 << 20)
            except BlockingIOError:
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)

    def take_output(self) -> bytes:
        self._sent(self.ssl_sock)
        return self._recv_all(self.link_sock)

    def has_output(self) -> bool:
        self._sent(self.ssl_sock)
        return _queued(self.link_sock, termios.FIONREAD) > 0

    def deliver(self, data: bytes) -> int:
        before = _queued(self.ssl_sock, termios.FIONREAD)
        try:
            sent = self.link_sock.send(data)
        except OSError:  # a full socket, or the link's end shut down by Eof
            return 0
        _wait(lambda: _queued(self.ssl_sock, termios.FIONREAD) >= before + sent, "delivered bytes did not arrive")
        return sent

    def unread(self) -> int:
        return _queued(self.ssl_sock, termios.FIONREAD)

    def take_unread(self) -> bytes:
        return self._recv_all(self.ssl_sock)

    def eof(self) -> int:
        try:
            self.link_sock.shutdown(socket.SHUT_WR)
        except OSError:
            return 0
        self._sent(self.link_sock)
        return 1

    def close(self) -> None:
        self.link_sock.close()
        self.ssl_sock.close()


class Link:
    """The bytes between the two SSLs: what each side wrote and the link has not delivered yet (``flight``)."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.flight: dict[Side, bytearray] = {"client": bytearray(), "server": bytearray()}

    def pull(self, src: Side) -> bytearray:
        """Take what ``src`` has written out of its transport into the link (undelivered)."""
        self.flight[src] += self._world.ends[src].take_output()
        return self.flight[src]

    def move(self, src: Side, keep: int = 0) -> int:
        """Deliver all but the last ``keep`` undelivered bytes of ``src``; returns how many the receiver took."""
        flight = self.pull(src)
        count = len(flight) - keep
        if count <= 0:
            return 0
        dst = self._world.ends["server" if src == "client" else "client"]
        taken = dst.deliver(bytes(flight[:count]))
        del flight[:taken]
        return taken

    def drop(self, src: Side, keep: int = 0) -> int:
        flight = self.pull(src)
        count = max(len(flight) - keep, 0)
        del flight[:count]
        return count

    def corrupt(self, src: Side, back: int = 0) -> int:
        flight = self.pull(src)
        if len(flight) <= back:
            return 0
        flight[len(flight) - 1 - back] ^= 0x01
        return 1

    def reset(self) -> None:
        """Throw away every byte between the two SSLs: undelivered, delivered but unread, written but untaken."""
        for side, end in self._world.ends.items():
            self.flight[side].clear()
            end.take_unread()
            end.take_output()

    def eof(self, dst: Side) -> int:
        world = self._world
        world.eof.add(dst)
        return world.ends[dst].eof()


class World:
    """A client and a server SSL of one stack, set up as ``setup`` says, with the link between them."""

    def __init__(self, api: Api, setup: Setup, *, renegotiation: bool = False) -> None:
        self.api = api
        self.setup = setup
        self.renegotiation = renegotiation  # observe SSL_renegotiate_pending too
        self.ends: dict[Side, _End] = {}
        # Sides whose transport reported end of file (Eof): new BIOs (Rebio, Dup) report it too.
        self.eof: set[Side] = set()
        # Sides that reported a fatal error (SSL_ERROR_SSL / SSL_ERROR_SYSCALL): where in a flight a stack stopped
        # reading depends on how it packs handshake messages into records, so their BIO counts are not compared.
        self.failed: set[Side] = set()
        # Sides whose incoming stream lost bytes: where their records now start depends on record sizes.
        self.truncated: set[Side] = set()
        # Sides that got part of a stream and have not, since the rest arrived, run a call that read all of it:
        # how much of a record they hold depends on record sizes too.
        self.partial: set[Side] = set()
        try:
            for side in SIDES:
                self.ends[side] = self._end(side)
        except BaseException:
            self.close()
            raise
        self.link = Link(self)

    @classmethod
    def on(cls, stack: str, setup: Setup) -> World:
        return cls(api_of(stack), setup)

    @property
    def client(self) -> Any:
        return self.ends["client"].ssl

    @property
    def server(self) -> Any:
        return self.ends["server"].ssl

    def _attach(self, ssl: Any) -> _End:
        """A new transport of the set-up's kind, given to ``ssl`` (SSL_set_bio, or SSL_set_fd)."""
        api, setup = self.api, self.setup
        if setup.transport in ("socket", "fd"):
            return _SocketEnd(api, ssl, use_fd=setup.transport == "fd")
        if setup.transport == "pair":
            ret, internal, network = api.BIO_new_bio_pair(setup.pair_size, setup.pair_size)
            if ret != 1:
                raise RuntimeError(f"{api.library}: BIO_new_bio_pair failed")
            api.SSL_set_bio(ssl, internal, internal)
            return _BioEnd(api, ssl, network, network, internal, [network], mem=False)
        rbio, wbio = api.BIO_new(api.BIO_s_mem()), api.BIO_new(api.BIO_s_mem())
        api.SSL_set_bio(ssl, rbio, wbio)
        return _BioEnd(api, ssl, rbio, wbio, rbio, [], mem=True)

    def _end(self, side: Side) -> _End:
        api, setup = self.api, self.setup
        ssl = api.SSL_new(_context(api, side, setup))
        if ssl is None:
            raise RuntimeError(f"{api.library}: SSL_new failed")
        try:
            end = self._attach(ssl)
        except RuntimeError:
            api.SSL_free(ssl)
            raise
        if side == "server":
            api.SSL_set_accept_state(ssl)
        else:
            api.SSL_set_connect_state(ssl)
            if setup.sni:
                api.SSL_set_tlsext_host_name(ssl, SERVER_NAME.encode())
            if setup.host != "none":
                api.SSL_set1_host(ssl, (SERVER_NAME if setup.host == "right" else "other.test").encode())
        return end

    def close(self) -> None:
        for end in self.ends.values():
            self.api.SSL_free(end.ssl)
            end.close()
        self.ends = {}

    def _move_bios(self, side: Side, ssl: Any) -> None:
        """Give ``ssl`` new BIOs in place of ``side``'s: what the old SSL wrote goes to the link first, the bytes
        delivered and not yet read move to the new read BIO, an end of file is reported again. The old BIOs go with
        SSL_set_bio (same SSL) or with the old SSL (SSL_free, done by the caller); the harness frees its halves."""
        old = self.ends[side]
        self.link.pull(side)
        unread = old.take_unread()
        end = self._attach(ssl)
        old.close()
        if unread:
            end.deliver(unread)
        self.ends[side] = end
        if side in self.eof:
            end.eof()

    def rebio(self, side: Side) -> None:
        """SSL_set_bio with new BIOs (the program's Rebio step)."""
        self._move_bios(side, self.ends[side].ssl)

    def dup(self, side: Side) -> str:
        """SSL_dup (the program's Dup step): "same" (the handle came back, its extra reference is dropped), "new" (a
        copy, which takes over from the original), or "null"."""
        api = self.api
        old = self.ends[side].ssl
        copy = api.SSL_dup(old)
        if copy is None:
            return "null"
        if copy is old or copy == old:
            api.SSL_free(copy)
            return "same"
        self._move_bios(side, copy)
        api.SSL_free(old)
        return "new"

    # --- steps and observations ---------------------------------------------------------------------------------

    def _errors(self) -> list[tuple[int, int, str]]:
        api = self.api
        found: list[tuple[int, int, str]] = []
        while len(found) < 32:
            code = api.ERR_get_error()
            if not code:
                break
            found.append((api.ERR_GET_LIB(code), api.ERR_GET_REASON(code), api.ERR_error_string_n(code)))
        return found

    def _call(self, step: Step) -> Observation:
        """Run an SSL call; the return value, output, SSL_get_error and SSL_want of the side it ran on."""
        api = self.api
        side: Side = step.side  # type: ignore[union-attr]
        ssl = self.ends[side].ssl
        obs: Observation = {}
        if isinstance(step, Clear):
            other: Side = "server" if side == "client" else "client"
            obs["ret"] = [api.SSL_clear(ssl), api.SSL_clear(self.ends[other].ssl)]
            self.link.reset()
            self.failed.clear()
            self.truncated.clear()
            self.partial.clear()
            return obs
        if side in self.failed:
            # SSL_get_error.pod: after SSL_ERROR_SSL / SSL_ERROR_SYSCALL no further I/O operations should be
            # performed on the connection and SSL_shutdown() must not be called; a program does not, nor does the
            # runner (what a library does then is nowhere documented)
            obs["skipped"] = "after a fatal error on this side"
            return obs
        get_error = True
        if isinstance(step, Dup):
            obs["ret"] = self.dup(side)
            return obs
        if isinstance(step, Rebio):
            self.rebio(side)
            return obs
        if isinstance(step, Renegotiate):
            obs["ret"] = getattr(api, step.func)(ssl)
            return obs  # SSL_key_update.pod: 1 or 0, no SSL_get_error
        if isinstance(step, Handshake):
            ret = api.SSL_do_handshake(ssl)
        elif isinstance(step, Read):
            ret, data = getattr(api, step.func)(ssl, step.num)
            obs["data"] = bytes(data).hex()
        elif isinstance(step, Write):
            data = payload(step.num)
            if step.ex:
                ret, written = api.SSL_write_ex(ssl, data, moved=step.moved)
                obs["written"] = written
            else:
                ret = api.SSL_write(ssl, data, moved=step.moved)
        elif isinstance(step, Shutdown):
            ret = api.SSL_shutdown(ssl)
            get_error = ret < 0  # SSL_shutdown.pod: SSL_get_error only for a negative return
        else:
            assert isinstance(step, KeyUpdate)
            ret = api.SSL_key_update(ssl, step.updatetype)
            get_error = False
        obs["ret"] = ret
        if get_error:
            code = api.SSL_get_error(ssl, ret)
            obs["error"] = _ERROR_NAMES.get(code, code)
            if code in (K.SSL_ERROR_SSL, K.SSL_ERROR_SYSCALL) or code not in _ERROR_NAMES:
                # (a code that is no SSL_ERROR_* value, e.g. wolfSSL's negative internal errors, is a failure too)
                self.failed.add(side)
                return obs  # SSL_want.pod: error conditions are not reported by SSL_want, so it is not compared
        want = api.SSL_want(ssl)
        obs["want"] = _WANT_NAMES.get(want, want)
        return obs

    def run(self, step: Step) -> Observation:
        """Run one step and observe everything a program can see afterwards."""
        api = self.api
        api.ERR_clear_error()
        obs: Observation = {}
        try:
            if isinstance(step, Move):
                self.link.move(step.src, step.keep)
                if self.link.flight[step.src]:
                    self.partial.add("server" if step.src == "client" else "client")
            elif isinstance(step, Drop):
                if self.link.drop(step.src, step.keep):
                    self.truncated.add("server" if step.src == "client" else "client")
            elif isinstance(step, Corrupt):
                self.link.corrupt(step.src, step.back)
            elif isinstance(step, Eof):
                self.link.eof(step.dst)
            else:
                side: Side = step.side
                obs.update(self._call(step))
                if (side in self.partial and side not in self.failed
                        and not self.link.flight["server" if side == "client" else "client"]
                        and not self.ends[side].unread()):  # fmt: skip
                    # the side read everything delivered (a whole flight): its buffers no longer depend on where
                    # records end. A call that reads nothing (SSL_key_update, SSL_write after the handshake) leaves
                    # a part of a record where the earlier read put it (found at seed 777, transport fd).
                    self.partial.discard(side)
        except Exception as exc:  # an exception escaping a C-API call: the stack broke its convention
            obs["raised"] = f"{type(exc).__name__}: {exc}"
        errors = self._errors()
        # A link step's own BIO_write may fail (a pair half after BIO_shutdown_wr): whether it wrote at all depends
        # on how many bytes the stack produced, so that entry is shown, not compared.
        link_step = isinstance(step, Move | Drop | Corrupt)
        obs["~link_err" if link_step else "err"] = [errors[0][0], errors[0][1]] if errors else None
        if not link_step:
            # the rest of the queue, library and reason of every entry after the first (most failures push one)
            obs["err_rest"] = [[lib, reason] for lib, reason, _ in errors[1:]]
        obs["~err_text"] = "; ".join(text for _, _, text in errors)
        obs.update(self.observe())
        return obs

    def observe(self) -> Observation:
        """The state of both SSLs and their BIOs: SSL_pending, SSL_has_pending, SSL_get_shutdown, whether the SSL's
        output BIO holds bytes the link has not taken (``out``), whether its input BIO holds delivered bytes it
        has not read (``unread``). Byte counts on the wire differ between stacks, so BIO counts are compared as
        zero / non-zero. A side after a fatal error shows only its shutdown state (the pages define nothing else
        of it). ``has_pending`` and ``unread`` are left out while the link holds back bytes towards the side, until
        the side has run a call that read all the rest, and for good once bytes towards it were dropped: whether a
        partial record sits in a buffer then depends on record sizes (certificates, signatures and extensions
        differ between stacks)."""
        api = self.api
        obs: Observation = {}
        for side, end in self.ends.items():
            obs[f"{side}.shutdown"] = api.SSL_get_shutdown(end.ssl)
            if side in self.failed:
                continue
            obs[f"{side}.pending"] = api.SSL_pending(end.ssl)
            if self.renegotiation:
                obs[f"{side}.reneg_pending"] = api.SSL_renegotiate_pending(end.ssl)
            obs[f"{side}.out"] = end.has_output()
            comparable = side not in self.truncated and side not in self.partial
            if comparable and not self.link.flight["server" if side == "client" else "client"]:
                obs[f"{side}.has_pending"] = api.SSL_has_pending(end.ssl)
                obs[f"{side}.unread"] = end.unread() > 0
        return obs
