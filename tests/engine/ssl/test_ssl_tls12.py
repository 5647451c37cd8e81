"""TLS 1.2 through the engine's C API against independent implementations on real loopback sockets: the system
libssl through its C API (both roles, with renegotiation started by either side), and the ``openssl`` command line
tools (``s_server -tls1_2 -www`` and ``s_client -tls1_2``). Plus the renegotiation retry rules on BIO pairs:
SSL_write that wants to read and SSL_read that wants to write (SSL_read.pod, SSL_write.pod)."""

from __future__ import annotations

import select
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import engine.ssl as E
from conformance.capi.libssl import LibsslApi
from conformance.certs import default_pki
from engine import bio as B
from engine import err
from engine.ssl import constants as K

WANT = (K.SSL_ERROR_WANT_READ, K.SSL_ERROR_WANT_WRITE)


def _ctx(api: Any, server: bool, *, max12: bool = True, options: int = 0) -> Any:
    pki = default_pki()
    ctx = api.SSL_CTX_new(api.TLS_server_method() if server else api.TLS_client_method())
    assert api.SSL_CTX_load_verify_locations(ctx, str(pki.ca_path).encode(), None) == 1
    if server:
        assert api.SSL_CTX_use_certificate_file(ctx, str(pki.server.cert_path).encode(), 1) == 1
        assert api.SSL_CTX_use_PrivateKey_file(ctx, str(pki.server.key_path).encode(), 1) == 1
    else:
        api.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER, None)
    if max12:
        assert api.SSL_CTX_set_max_proto_version(ctx, K.TLS1_2_VERSION) == 1
    if options:
        api.SSL_CTX_set_options(ctx, options)
    return ctx


class End:
    """One SSL of ``api`` on a non-blocking loopback socket."""

    def __init__(self, api: Any, server: bool, sock: socket.socket, **ctx_kw: Any) -> None:
        self.api = api
        self.sock = sock
        sock.setblocking(False)
        self.ctx = _ctx(api, server, **ctx_kw)
        self.ssl = api.SSL_new(self.ctx)
        assert api.SSL_set_fd(self.ssl, sock.fileno()) == 1
        if server:
            api.SSL_set_accept_state(self.ssl)
        else:
            api.SSL_set_connect_state(self.ssl)
            api.SSL_set_tlsext_host_name(self.ssl, b"server.test")

    def step(self, call: str, *args: Any) -> Any:
        ret = getattr(self.api, call)(self.ssl, *args)
        value = ret[0] if isinstance(ret, tuple) else ret
        if value <= 0:
            code = self.api.SSL_get_error(self.ssl, value)
            assert code in WANT, f"{self.api.library} {call} -> {value}, SSL_get_error {code}"
        return ret

    def close(self) -> None:
        self.api.SSL_free(self.ssl)
        self.api.SSL_CTX_free(self.ctx)
        self.sock.close()


@pytest.fixture
def sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    yield client, server
    for s in (client, server):
        s.close()


def _until(ends: tuple[End, End], done: Any, steps: Any, rounds: int = 400) -> None:
    for _ in range(rounds):
        steps()
        if done():
            return
        select.select([e.sock for e in ends], [], [], 0.01)
    raise AssertionError("no progress on the loopback connection")


def _handshake(c: End, s: End) -> None:
    state = {"c": 0, "s": 0}

    def steps() -> None:
        if state["c"] != 1:
            state["c"] = c.step("SSL_do_handshake")
        if state["s"] != 1:
            state["s"] = s.step("SSL_do_handshake")

    _until((c, s), lambda: state == {"c": 1, "s": 1}, steps)


def _send(writer: End, reader: End, data: bytes) -> None:
    got = bytearray()
    written = [False]

    def steps() -> None:
        if not written[0]:
            written[0] = writer.step("SSL_write", data) == len(data)
        n, chunk = reader.step("SSL_read", 65536)
        if n > 0:
            got.extend(chunk)

    _until((writer, reader), lambda: bytes(got) == data, steps)


@pytest.mark.parametrize("engine_role", ["client", "server"])
def test_tls12_with_libssl_over_loopback_sockets(libssl: LibsslApi, sockets: tuple[socket.socket, socket.socket],
                                                 engine_role: str) -> None:  # fmt: skip
    csock, ssock = sockets
    engine_is_client = engine_role == "client"
    c = End(E if engine_is_client else libssl, False, csock)
    s = End(libssl if engine_is_client else E, True, ssock)
    try:
        _handshake(c, s)
        for end in (c, s):
            version = end.api.SSL_get_version(end.ssl)
            assert (version.decode() if isinstance(version, bytes) else version) == "TLSv1.2"
        names = {end.api.SSL_CIPHER_get_name(end.api.SSL_get_current_cipher(end.ssl)) for end in (c, s)}
        assert len(names) == 1, names  # both sides name the suite the same way (OpenSSL's names)
        _send(c, s, b"to the server" * 1000)
        _send(s, c, b"to the client" * 1000)
    finally:
        c.close()
        s.close()


@pytest.mark.parametrize("starter", ["engine", "libssl"])
@pytest.mark.parametrize("engine_role", ["client", "server"])
def test_renegotiation_with_libssl_over_loopback_sockets(
    libssl: LibsslApi, sockets: tuple[socket.socket, socket.socket], engine_role: str, starter: str
) -> None:
    """SSL_renegotiate on one side (the server lets clients renegotiate); both sides then only read and write."""
    csock, ssock = sockets
    engine_is_client = engine_role == "client"
    opts = {"options": K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION}
    c = End(E if engine_is_client else libssl, False, csock)
    s = End(libssl if engine_is_client else E, True, ssock, **opts)
    try:
        _handshake(c, s)
        by = c if (starter == "engine") == engine_is_client else s
        assert by.api.SSL_renegotiate(by.ssl) == 1
        assert by.api.SSL_renegotiate_pending(by.ssl) == 1
        for i in range(4):
            _send(c, s, b"ping %d" % i)
            _send(s, c, b"pong %d" % i)
            if not by.api.SSL_renegotiate_pending(by.ssl):
                break
        assert by.api.SSL_renegotiate_pending(by.ssl) == 0, "the renegotiation did not complete"
        _send(c, s, b"after the renegotiation")
    finally:
        c.close()
        s.close()


# -- the openssl command line tools --------------------------------------------------------------------------------

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="no openssl command line tool")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@needs_openssl
def test_engine_client_against_openssl_s_server_tls12() -> None:
    pki = default_pki()
    port = _free_port()
    assert OPENSSL is not None
    server = subprocess.Popen(
        [OPENSSL, "s_server", "-tls1_2", "-accept", str(port), "-www", "-cert", str(pki.server.cert_path),
         "-key", str(pki.server.key_path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        sock = None
        while sock is None:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "s_server did not start"
                time.sleep(0.05)
        sock.settimeout(None)  # blocking: every call completes or fails
        ctx = _ctx(E, False, max12=False)
        ssl = E.SSL_new(ctx)
        E.SSL_set_fd(ssl, sock.fileno())
        E.SSL_set_tlsext_host_name(ssl, b"server.test")
        E.SSL_set1_host(ssl, b"server.test")
        assert E.SSL_connect(ssl) == 1, err.ERR_peek_error()
        assert E.SSL_get_version(ssl) == "TLSv1.2"  # s_server -tls1_2 speaks nothing else
        assert E.SSL_write(ssl, b"GET / HTTP/1.0\r\n\r\n") == 18
        page = bytearray()
        while True:
            n, data = E.SSL_read(ssl, 16384)
            if n <= 0:
                break
            page += data
        text = page.decode(errors="replace")
        cipher = E.SSL_CIPHER_get_name(E.SSL_get_current_cipher(ssl))
        assert "Protocol  : TLSv1.2" in text and f"Cipher    : {cipher}" in text, text[:2000]
        E.SSL_free(ssl)
        E.SSL_CTX_free(ctx)
        sock.close()
    finally:
        server.kill()
        server.wait()
        assert server.stdout is not None
        server.stdout.close()


@needs_openssl
@pytest.mark.parametrize(
    "cipher", ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-SHA"]
)
def test_openssl_s_client_tls12_against_the_engine_server(cipher: str) -> None:
    """s_client -tls1_2 connects, renegotiates once ("R" on its input), sends a line and reads the answer."""
    pki = default_pki()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    result: dict[str, Any] = {}

    def serve() -> None:
        conn, _ = listener.accept()
        ctx = _ctx(E, True, max12=False, options=K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
        ssl = E.SSL_new(ctx)
        E.SSL_set_fd(ssl, conn.fileno())
        result["accept"] = E.SSL_accept(ssl)
        result["version"] = E.SSL_get_version(ssl)
        lines = bytearray()
        while b"hello" not in lines:
            n, data = E.SSL_read(ssl, 1000)
            if n <= 0:
                result["read"] = (n, E.SSL_get_error(ssl, n), err.ERR_peek_error())
                break
            lines += data
        result["lines"] = bytes(lines)
        E.SSL_write(ssl, b"served by the engine\n")
        E.SSL_shutdown(ssl)
        E.SSL_free(ssl)
        E.SSL_CTX_free(ctx)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert OPENSSL is not None
    client = subprocess.Popen(
        [OPENSSL, "s_client", "-tls1_2", "-cipher", cipher, "-connect", f"127.0.0.1:{port}", "-servername",
         "server.test", "-CAfile", str(pki.ca_path), "-verify_return_error"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert client.stdin is not None and client.stdout is not None
        time.sleep(0.5)
        client.stdin.write(b"R\n")  # s_client: "R" renegotiates (the command letters need -ign_eof off)
        client.stdin.flush()
        time.sleep(0.5)
        client.stdin.write(b"hello\n")
        client.stdin.flush()
        thread.join(10)
        out, _ = client.communicate(timeout=10)
    finally:
        client.kill()
        listener.close()
    text = out.decode(errors="replace")
    assert result.get("accept") == 1 and result.get("version") == "TLSv1.2", (result, text[-2000:])
    assert result.get("lines", b"").endswith(b"hello\n"), (result, text[-2000:])
    assert "RENEGOTIATING" in text and "Verify return code: 0 (ok)" in text, text[-2000:]
    assert f"Cipher is {cipher}" in text and "served by the engine" in text, text[-2000:]


# -- renegotiation retry rules on BIO pairs (engine against itself) -------------------------------------------------


class Mem:
    def __init__(self, server: bool, size: int = 0, **ctx_kw: Any) -> None:
        err.ERR_clear_error()
        self.ctx = _ctx(E, server, **ctx_kw)
        self.ssl = E.SSL_new(self.ctx)
        _, inner, self.net = B.BIO_new_bio_pair(size, 0)
        E.SSL_set_bio(self.ssl, inner, inner)
        if server:
            E.SSL_set_accept_state(self.ssl)
        else:
            E.SSL_set_connect_state(self.ssl)
            E.SSL_set_tlsext_host_name(self.ssl, b"server.test")

    def take(self) -> bytes:
        n = B.BIO_ctrl_pending(self.net)
        return B.BIO_read(self.net, n)[1] if n else b""

    def give(self, data: bytes) -> None:
        if data:
            assert B.BIO_write(self.net, data) == len(data)


def _move(a: Mem, b: Mem) -> bool:
    x, y = a.take(), b.take()
    b.give(x)
    a.give(y)
    return bool(x or y)


def _mem_pair(**server_kw: Any) -> tuple[Mem, Mem]:
    c, s = Mem(False), Mem(True, **server_kw)
    done = [0, 0]
    for _ in range(30):
        for i, e in enumerate((c, s)):
            if done[i] != 1:
                done[i] = E.SSL_do_handshake(e.ssl)
        if not _move(c, s) and done == [1, 1]:
            break
    assert done == [1, 1] and E.SSL_get_version(c.ssl) == "TLSv1.2"
    return c, s


def test_ssl_write_wants_to_read_during_a_renegotiation() -> None:
    # SSL_write.pod: the renegotiation is carried out inside SSL_write, which then may want to read
    c, _ = _mem_pair(options=K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
    assert E.SSL_renegotiate(c.ssl) == 1
    ret = E.SSL_write(c.ssl, b"data")
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_WANT_READ
    assert c.take()[:1] == b"\x16", "the ClientHello went out"
    assert E.SSL_renegotiate_pending(c.ssl) == 1


@pytest.mark.parametrize("starter", ["client", "server"])
@pytest.mark.parametrize("func", ["SSL_do_handshake", "SSL_read", "SSL_write"])
def test_renegotiation_scheduled_after_close_notify_is_not_started(starter: str, func: str) -> None:
    # SSL_key_update.pod: the next I/O call starts the renegotiation only at "a suitable time"; after our
    # close_notify it never is. The core used to raise RuntimeError out of the C call (differential runner, seed 202)
    c, s = _mem_pair(options=K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
    e = c if starter == "client" else s
    assert E.SSL_shutdown(e.ssl) == 0 and e.take()
    assert E.SSL_renegotiate(e.ssl) == 1
    err.ERR_clear_error()
    if func == "SSL_do_handshake":
        assert E.SSL_do_handshake(e.ssl) == 1
    elif func == "SSL_read":
        ret, _ = E.SSL_read(e.ssl, 10)
        assert ret == -1 and E.SSL_get_error(e.ssl, ret) == K.SSL_ERROR_WANT_READ
    else:
        ret = E.SSL_write(e.ssl, b"data")
        assert ret == -1 and E.SSL_get_error(e.ssl, ret) == K.SSL_ERROR_SSL  # SSL_R_PROTOCOL_IS_SHUTDOWN
    assert e.take() == b"", "nothing may follow the close_notify"
    assert E.SSL_get_shutdown(e.ssl) & K.SSL_SENT_SHUTDOWN
    assert E.SSL_renegotiate_pending(e.ssl) == 1, "scheduled, never acted on"


@pytest.mark.parametrize("func", ["SSL_write", "SSL_write_ex"])
def test_zero_length_write_starts_a_scheduled_renegotiation(func: str) -> None:
    # SSL_key_update.pod: the next I/O call starts a scheduled renegotiation; a write of 0 bytes is one (libssl 3.0
    # sends its ClientHello and wants to read; the engine returned at once, differential runner seed 404)
    c, _ = _mem_pair(options=K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
    assert E.SSL_renegotiate(c.ssl) == 1
    if func == "SSL_write":
        ret = E.SSL_write(c.ssl, b"", 0)
    else:
        ret, written = E.SSL_write_ex(c.ssl, b"", 0)
        assert written == 0
        ret = -1 if ret == 0 else ret
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_WANT_READ
    assert c.take()[:1] == b"\x16", "the ClientHello went out"


def test_ssl_read_wants_to_write_during_a_renegotiation() -> None:
    # SSL_read.pod: a renegotiation may make SSL_read write; with a full write BIO it wants to write
    c, s = _mem_pair(options=K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
    assert E.SSL_renegotiate(c.ssl) == 1
    assert E.SSL_do_handshake(c.ssl) == -1
    hello = c.take()
    # the server now sits on a pair whose buffer (300 bytes) cannot take its whole flight, and nobody drains it
    _, inner, net = B.BIO_new_bio_pair(300, 0)
    E.SSL_set_bio(s.ssl, inner, inner)
    assert B.BIO_write(net, hello) == len(hello)
    ret, _ = E.SSL_read(s.ssl, 100)
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_WANT_WRITE


@pytest.mark.parametrize("auto_retry", [True, False])
def test_renegotiation_records_and_auto_retry(auto_retry: bool) -> None:
    """The application data behind a HelloRequest comes out of the first SSL_read with SSL_MODE_AUTO_RETRY and
    without it: SSL_CTX_set_mode.pod says only that a read without it "can" stop after a non-application record;
    OpenSSL 3.0 hands a renegotiation's records to its handshake state machine, which reads on to the data (libssl
    3.0.22 observed by the differential runner, seed 404; the engine used to stop with SSL_ERROR_WANT_READ)."""
    c, s = _mem_pair()
    if not auto_retry:
        E.SSL_clear_mode(c.ssl, K.SSL_MODE_AUTO_RETRY)
    assert E.SSL_renegotiate(s.ssl) == 1
    assert E.SSL_do_handshake(s.ssl) == 1  # a server sends its HelloRequest and carries on
    assert E.SSL_write(s.ssl, b"behind the request") == 18
    _move(c, s)
    assert E.SSL_read(c.ssl, 100) == (18, b"behind the request")
    for _ in range(10):  # the renegotiation completes inside reads
        _move(c, s)
        E.SSL_read(s.ssl, 100)
        E.SSL_read(c.ssl, 100)
    assert E.SSL_renegotiate_pending(s.ssl) == 0


def test_no_auto_retry_server_stops_after_a_refused_client_hello() -> None:
    """A server without SSL_MODE_AUTO_RETRY that refuses a renegotiating ClientHello (no_renegotiation warning)
    ends the read with SSL_ERROR_WANT_READ and leaves the next record in the BIO: SSL_CTX_set_mode.pod says only
    "can"; OpenSSL 3.0 (3.0.22, differential runner seed 404, mem) stops there. The engine's refusal left no event,
    so the read went on to the next record."""
    c, s = _mem_pair()
    E.SSL_clear_mode(s.ssl, K.SSL_MODE_AUTO_RETRY)
    assert E.SSL_renegotiate(c.ssl) == 1
    # the client meets the end of its input: behind its ClientHello it sends a fatal decode_error alert
    assert B.BIO_shutdown_wr(c.net) == 1
    ret = E.SSL_write(c.ssl, b"x")
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_SSL
    err.ERR_clear_error()
    flight = c.take()
    assert flight[:1] == b"\x16" and b"\x15\x03\x03" in flight
    s.give(flight)
    rbio = E.SSL_get_rbio(s.ssl)
    ret, _ = E.SSL_read(s.ssl, 100)
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_WANT_READ
    assert B.BIO_ctrl_pending(rbio) > 0, "the alert waits in the BIO"
    assert E.SSL_get_shutdown(s.ssl) == 0
    assert s.take()[:1] == b"\x15", "the no_renegotiation warning went out"


@pytest.mark.parametrize("starter", ["client", "server"])
def test_read_returning_buffered_data_sends_the_renegotiation_start(starter: str) -> None:
    """SSL_key_update.pod: a scheduled renegotiation starts at the next I/O call. An SSL_read that returns
    plaintext already buffered writes the HelloRequest / ClientHello before it returns, as libssl 3.0 does
    (differential runner seed 404, pair: the engine's server kept its HelloRequest back)."""
    c, s = _mem_pair(options=K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
    e, peer = (c, s) if starter == "client" else (s, c)
    assert E.SSL_write(peer.ssl, b"ab") == 2
    _move(c, s)
    assert E.SSL_read(e.ssl, 1) == (1, b"a")
    assert E.SSL_renegotiate(e.ssl) == 1
    assert E.SSL_read(e.ssl, 1) == (1, b"b")
    assert e.take()[:1] == b"\x16", "the renegotiation's first message went out"


@pytest.mark.parametrize("auto_retry", [True, False])
def test_hello_request_after_our_close_notify_is_not_answered(auto_retry: bool) -> None:
    """RFC 5246 section 7.2.1: nothing follows our close_notify. A client waiting in SSL_shutdown that meets the
    server's HelloRequest sends no ClientHello (libssl 3.0 alike; the engine's core answered it, differential
    runner branch diff404, seed 404) and finishes at the server's close_notify; without SSL_MODE_AUTO_RETRY the
    first wait stops after the HelloRequest (-1, SSL_ERROR_WANT_READ; SSL_CTX_set_mode.pod "can", OpenSSL 3.0)."""
    c, s = _mem_pair()
    if not auto_retry:
        E.SSL_clear_mode(c.ssl, K.SSL_MODE_AUTO_RETRY)
    assert E.SSL_renegotiate(s.ssl) == 1
    assert E.SSL_shutdown(c.ssl) == 0
    _move(c, s)
    ret, _ = E.SSL_read(s.ssl, 1)  # sends the HelloRequest, then reads the close_notify
    assert ret == 0 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_ZERO_RETURN
    assert E.SSL_shutdown(s.ssl) == 1
    _move(c, s)
    if not auto_retry:
        ret = E.SSL_shutdown(c.ssl)
        assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_WANT_READ
    assert E.SSL_shutdown(c.ssl) == 1
    assert c.take() == b"", "no ClientHello after the close_notify"
    assert E.SSL_renegotiate_pending(c.ssl) == 0


def test_renegotiation_refused_by_options() -> None:
    c, s = _mem_pair()
    assert E.SSL_get_secure_renegotiation_support(c.ssl) == 1
    E.SSL_set_options(c.ssl, K.SSL_OP_NO_RENEGOTIATION)
    err.ERR_clear_error()
    assert E.SSL_renegotiate(c.ssl) == 0
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_NO_RENEGOTIATION
    err.ERR_clear_error()
    # a server without SSL_OP_ALLOW_CLIENT_RENEGOTIATION answers no_renegotiation; the client fails (SSL_key_update.pod)
    c, s = _mem_pair()
    assert E.SSL_renegotiate(c.ssl) == 1
    assert E.SSL_do_handshake(c.ssl) == -1
    _move(c, s)
    E.SSL_read(s.ssl, 100)
    _move(c, s)
    ret = E.SSL_do_handshake(c.ssl)
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_SSL
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_NO_RENEGOTIATION
    err.ERR_clear_error()


# -- session-ID resumption through SSL_get1_session / SSL_set_session ----------------------------------------------


@pytest.mark.parametrize("engine_role", ["client", "server"])
def test_session_resumption_with_libssl(libssl: LibsslApi, engine_role: str) -> None:
    """A client keeps the session of a first TLS 1.2 connection (SSL_get1_session) and offers it on a second one
    (SSL_set_session); the server finds it in its context's cache and both report SSL_session_reused 1."""
    engine_is_client = engine_role == "client"
    client_api: Any = E if engine_is_client else libssl
    server_api: Any = libssl if engine_is_client else E
    server_ctx = _ctx(server_api, True)
    ends = []
    session = None
    reused = []
    for _ in range(2):
        a, b = socket.socketpair()
        c = End(client_api, False, a)
        s = End(server_api, True, b)
        server_api.SSL_free(s.ssl)  # both server connections come from one context (one session cache)
        s.ssl = server_api.SSL_new(server_ctx)
        server_api.SSL_set_fd(s.ssl, b.fileno())
        server_api.SSL_set_accept_state(s.ssl)
        if session is not None:
            assert client_api.SSL_set_session(c.ssl, session) == 1
        _handshake(c, s)
        _send(c, s, b"data")
        reused.append((client_api.SSL_session_reused(c.ssl), server_api.SSL_session_reused(s.ssl)))
        if session is None:
            session = client_api.SSL_get1_session(c.ssl)
            assert session is not None
        ends.append((c, s))
    assert reused == [(0, 0), (1, 1)], reused
    client_api.SSL_SESSION_free(session)
    for c, s in ends:
        c.close()
        s.close()
    server_api.SSL_CTX_free(server_ctx)
