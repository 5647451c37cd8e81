"""GnuTLS's OpenSSL compatibility layer (libgnutls-openssl.so.27) over *blocking* loopback sockets.

The layer has no BIO pair, no memory BIO and no SSL_do_handshake, and its SSL_get_error() answers
SSL_ERROR_ZERO_RETURN for every return value <= 0; the ``gnutls`` stack's endpoint therefore puts its SSL on a
socketpair and reads the layer's ERR_get_error() (conformance/stacks/gnutls_layer.py). These tests check
how far the layer goes where it was meant to be used: SSL_set_fd on a blocking descriptor, the peer in another
thread. The peers are the servers and clients of every other C-API stack (engine, libssl, wolfssl, boringssl),
written against their C API on the same kind of socket. What the tests pin is what was observed (docs/na-audit.md,
"gnutls over a blocking socket"):

- the handshake, SSL_write and SSL_read work in both roles (TLS 1.3 with every peer, TLS 1.2 with a peer
  that offers no more);
- a TLS 1.3 NewSessionTicket makes SSL_read return 0 with SSL_get_error() = SSL_ERROR_ZERO_RETURN, exactly what a
  received close_notify gives; only the layer's ERR_get_error() (the negated GnuTLS error code, 28 =
  GNUTLS_E_AGAIN) tells the two apart, and a truncated connection (110 = GNUTLS_E_PREMATURE_TERMINATION) from both;
- SSL_connect and SSL_accept return 0 on failure, never < 0;
- SSL_shutdown returns 1 as soon as its close_notify is sent, without the peer's;
- the client verifies nothing: SSL_CTX_set_verify(SSL_VERIFY_PEER) with no trust anchor still connects; the
  server lets a client without a certificate in under SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT.

At the end, the gnutls stack's endpoint (``conformance.stacks.gnutls_layer.LayerEndpoint``: the layer's SSL on one
end of a non-blocking socketpair, the other end its network side) is driven by the interop cases' one-thread pump
(``Harness.pair``) against every C-API stack in both roles: handshake and data both ways work.
"""

from __future__ import annotations

import ctypes
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance.certs import SERVER_NAME, default_pki
from conformance.harness import Harness
from conformance.stacks import StackUnavailable, gnutls_layer, load_stack
from engine.ssl import constants as K

LAYER_PATH = "/usr/lib/x86_64-linux-gnu/libgnutls-openssl.so.27"
PEERS = ("engine", "libssl", "wolfssl", "boringssl")
GNUTLS_E_AGAIN = gnutls_layer.GNUTLS_E_AGAIN
GNUTLS_E_PREMATURE_TERMINATION = 110
SOCKET_TIMEOUT = 10  # seconds, SO_RCVTIMEO / SO_SNDTIMEO: the descriptor stays blocking but never waits forever

pytestmark = pytest.mark.skipif(not os.path.exists(LAYER_PATH),
                                reason="libgnutls-openssl27 is not installed (scripts/bootstrap as root)")

class Layer(gnutls_layer.Layer):
    """The stack's bindings of the layer (conformance/stacks/gnutls_layer.py), with a read that also reports
    SSL_get_error, which these tests record."""

    def __init__(self) -> None:
        super().__init__(LAYER_PATH)

    def read(self, ssl: int, num: int = 1024) -> tuple[int, bytes, int, int]:  # type: ignore[override]
        """SSL_read, then SSL_get_error of its result and ERR_get_error: (ret, data, error code, packed error)."""
        buf = ctypes.create_string_buffer(num)
        ret = int(self._lib.SSL_read(ssl, buf, num))
        return ret, buf.raw[:max(ret, 0)], int(self._lib.SSL_get_error(ssl, ret)), int(self._lib.ERR_get_error())

    def write(self, ssl: int, data: bytes) -> int:
        return int(self._lib.SSL_write(ssl, data, len(data)))


@pytest.fixture(scope="module")
def layer() -> Layer:
    return Layer()


def _peer_api(name: str) -> Any:
    try:
        stack = load_stack(name)
        stack.check_available()
    except StackUnavailable as exc:
        pytest.skip(f"{name}: {exc}")
    return stack.capi  # type: ignore[attr-defined]


def _blocking(sock: socket.socket) -> socket.socket:
    """A blocking descriptor (Python's settimeout would make it non-blocking) whose waits the kernel bounds."""
    sock.setblocking(True)
    bound = struct.pack("ll", SOCKET_TIMEOUT, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, bound)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, bound)
    return sock


@contextmanager
def _pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected (client, server) pair of blocking TCP sockets on 127.0.0.1."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    with client, server:
        yield _blocking(client), _blocking(server)


@contextmanager
def _thread(target: Callable[[], None]) -> Iterator[list[BaseException]]:
    """Runs ``target`` in a thread (the peer's side of the blocking exchange); its exception is re-raised after."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        yield errors
    finally:  # the peer's own failure first: it is usually why the layer's side failed too
        worker.join(3 * SOCKET_TIMEOUT)
        assert not worker.is_alive(), "the peer's thread did not finish"
        if errors:
            raise errors[0]


@contextmanager
def _layer_ssl(layer: Layer, server: bool, fd: int, *, verify: int = K.SSL_VERIFY_NONE) -> Iterator[int]:
    ctx = layer.SSL_CTX_new(layer.SSLv23_server_method() if server else layer.SSLv23_client_method())
    assert ctx
    if server:
        identity = default_pki().server
        assert layer.SSL_CTX_use_certificate_file(ctx, str(identity.cert_path).encode(), K.SSL_FILETYPE_PEM) == 1
        assert layer.SSL_CTX_use_PrivateKey_file(ctx, str(identity.key_path).encode(), K.SSL_FILETYPE_PEM) == 1
    if verify:
        layer.SSL_CTX_set_verify(ctx, verify, None)
    ssl = layer.SSL_new(ctx)
    assert ssl and layer.SSL_set_fd(ssl, fd) == 1
    try:
        yield int(ssl)
    finally:
        layer.SSL_free(ssl)
        layer.SSL_CTX_free(ctx)


def _peer_server(api: Any, sock: socket.socket, seen: dict[str, Any], *, close_notify: bool = True,
                 max_version: int = 0) -> None:
    """The peer stack's server on ``sock``: accept, read one message, answer, wait for the client's close_notify."""
    identity = default_pki().server
    ctx = api.SSL_CTX_new(api.TLS_server_method())
    try:
        if max_version:
            assert api.SSL_CTX_set_max_proto_version(ctx, max_version) == 1
        assert api.SSL_CTX_use_certificate_chain_file(ctx, str(identity.cert_path)) == 1
        assert api.SSL_CTX_use_PrivateKey_file(ctx, str(identity.key_path), K.SSL_FILETYPE_PEM) == 1
        ssl = api.SSL_new(ctx)
        try:
            assert api.SSL_set_fd(ssl, sock.fileno()) == 1
            seen["accept"] = api.SSL_accept(ssl)
            if seen["accept"] != 1:
                return
            seen["version"] = api.SSL_get_version(ssl)
            seen["read"] = api.SSL_read(ssl, 1024)
            seen["write"] = api.SSL_write(ssl, b"pong")
            if not close_notify:
                return  # the caller closes the socket: the layer sees the connection end without close_notify
            ret, data = api.SSL_read(ssl, 1024)
            seen["last_read"] = ret, data, int(api.SSL_get_error(ssl, ret))
        finally:
            api.SSL_free(ssl)
    finally:
        api.SSL_CTX_free(ctx)


def _peer_client(api: Any, sock: socket.socket, seen: dict[str, Any]) -> None:
    """The peer stack's client on ``sock``, verifying the layer's certificate against the test CA and host name."""
    ctx = api.SSL_CTX_new(api.TLS_client_method())
    try:
        assert api.SSL_CTX_load_verify_locations(ctx, str(default_pki().ca_path), None) == 1
        api.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER, None)
        ssl = api.SSL_new(ctx)
        try:
            assert api.SSL_set1_host(ssl, SERVER_NAME) == 1
            assert api.SSL_set_fd(ssl, sock.fileno()) == 1
            seen["connect"] = api.SSL_connect(ssl)
            if seen["connect"] != 1:
                seen["connect_error"] = int(api.SSL_get_error(ssl, seen["connect"]))
                return
            seen["verify_result"] = api.SSL_get_verify_result(ssl)
            seen["version"] = api.SSL_get_version(ssl)
            seen["write"] = api.SSL_write(ssl, b"ping")
            seen["read"] = api.SSL_read(ssl, 1024)
            seen["shutdown"] = api.SSL_shutdown(ssl)
        finally:
            api.SSL_free(ssl)
    finally:
        api.SSL_CTX_free(ctx)


def _read_past_tickets(layer: Layer, ssl: int) -> tuple[bytes, list[tuple[int, int, int]]]:
    """SSL_read until data comes; the (ret, SSL_get_error, ERR_get_error) of each read that gave none."""
    empty: list[tuple[int, int, int]] = []
    for _ in range(8):
        ret, data, code, packed = layer.read(ssl)
        if ret > 0:
            return data, empty
        empty.append((ret, code, packed))
        if packed != GNUTLS_E_AGAIN:
            break
    return b"", empty


@pytest.mark.parametrize("peer", PEERS)
def test_layer_client_talks_to_every_capi_server_over_a_blocking_socket(layer: Layer, peer: str) -> None:
    api = _peer_api(peer)
    seen: dict[str, Any] = {}
    with (_pair() as (client, server), _layer_ssl(layer, False, client.fileno()) as ssl,
          _thread(lambda: _peer_server(api, server, seen))):
        connected = layer.SSL_connect(ssl)
        assert connected == 1, f"SSL_connect returned {connected}, ERR_get_error {layer.ERR_get_error()}"
        assert layer.write(ssl, b"ping") == 4
        data, empty_reads = _read_past_tickets(layer, ssl)
        assert layer.SSL_shutdown(ssl) == 1  # returned at once: the peer's close_notify is not waited for
    assert seen["version"] == "TLSv1.3"
    assert seen["read"] == (4, b"ping")
    assert data == b"pong"
    # Each TLS 1.3 NewSessionTicket of the peer: SSL_read 0 with SSL_ERROR_ZERO_RETURN, as for a close_notify;
    # only the layer's ERR_get_error (GNUTLS_E_AGAIN) says the connection goes on.
    assert empty_reads, "the peer sent no NewSessionTicket before its data"
    assert all(r == (0, K.SSL_ERROR_ZERO_RETURN, GNUTLS_E_AGAIN) for r in empty_reads), empty_reads
    # the layer's SSL_shutdown sent a close_notify the peer read as one
    assert seen["last_read"] == (0, b"", K.SSL_ERROR_ZERO_RETURN)


@pytest.mark.parametrize("peer", PEERS)
def test_layer_server_serves_every_capi_client_over_a_blocking_socket(layer: Layer, peer: str) -> None:
    api = _peer_api(peer)
    seen: dict[str, Any] = {}
    with (_pair() as (client, server), _layer_ssl(layer, True, server.fileno()) as ssl,
          _thread(lambda: _peer_client(api, client, seen))):
        accepted = layer.SSL_accept(ssl)
        assert accepted == 1, (accepted, layer.ERR_get_error(), seen)
        got = layer.read(ssl)
        sent = layer.write(ssl, b"pong")
        after = layer.read(ssl)  # the peer's close_notify
        shutdown = layer.SSL_shutdown(ssl)
    assert seen["connect"] == 1, seen
    assert seen["verify_result"] == K.X509_V_OK  # the layer's certificate chains to the CA and names the host
    assert seen["version"] == "TLSv1.3"
    assert got == (4, b"ping", K.SSL_ERROR_NONE, 0)
    assert sent == 4
    assert seen["read"] == (4, b"pong")
    # the peer's close_notify: 0, SSL_ERROR_ZERO_RETURN, and no layer error (a ticket would have left 28)
    assert after == (0, b"", K.SSL_ERROR_ZERO_RETURN, 0)
    assert shutdown == 1


def test_layer_reports_truncation_only_through_err_get_error(layer: Layer) -> None:
    """The peer closes the TCP connection without close_notify: SSL_read still gives 0 and ZERO_RETURN."""
    api = _peer_api("libssl")
    seen: dict[str, Any] = {}
    with _pair() as (client, server), _layer_ssl(layer, False, client.fileno()) as ssl:
        def serve_then_close() -> None:
            _peer_server(api, server, seen, close_notify=False)
            server.shutdown(socket.SHUT_RDWR)

        with _thread(serve_then_close):
            assert layer.SSL_connect(ssl) == 1
            assert layer.write(ssl, b"ping") == 4
            data, _ = _read_past_tickets(layer, ssl)
            truncated = layer.read(ssl)
    assert data == b"pong"
    assert truncated == (0, b"", K.SSL_ERROR_ZERO_RETURN, GNUTLS_E_PREMATURE_TERMINATION)


def test_layer_handshake_failure_returns_zero(layer: Layer) -> None:
    """A server that answers the ClientHello by closing the connection: SSL_connect gives 0 (not < 0) and
    SSL_get_error SSL_ERROR_ZERO_RETURN, the code OpenSSL keeps for a close_notify."""
    with _pair() as (client, server), _layer_ssl(layer, False, client.fileno()) as ssl:
        def hang_up() -> None:
            server.recv(4096)
            server.shutdown(socket.SHUT_RDWR)

        with _thread(hang_up):
            ret = layer.SSL_connect(ssl)
            code, packed = layer.SSL_get_error(ssl, ret), layer.ERR_get_error()
    assert (ret, code) == (0, K.SSL_ERROR_ZERO_RETURN)
    assert packed != 0  # the GnuTLS error, negated


def test_layer_client_does_not_verify_the_server(layer: Layer) -> None:
    """SSL_CTX_set_verify(SSL_VERIFY_PEER) with no trust anchor at all (the layer has no
    SSL_CTX_load_verify_locations): the handshake still succeeds, so the layer's client checks nothing."""
    api = _peer_api("libssl")
    seen: dict[str, Any] = {}
    with (_pair() as (client, server), _layer_ssl(layer, False, client.fileno(), verify=K.SSL_VERIFY_PEER) as ssl,
          _thread(lambda: _peer_server(api, server, seen))):
        connected = layer.SSL_connect(ssl)
        assert layer.write(ssl, b"ping") == 4
        _read_past_tickets(layer, ssl)
        layer.SSL_shutdown(ssl)
    assert connected == 1
    assert seen["accept"] == 1


def test_layer_client_speaks_tls12_to_a_tls12_server(layer: Layer) -> None:
    api = _peer_api("libssl")
    seen: dict[str, Any] = {}
    with (_pair() as (client, server), _layer_ssl(layer, False, client.fileno()) as ssl,
          _thread(lambda: _peer_server(api, server, seen, max_version=K.TLS1_2_VERSION))):
        assert layer.SSL_connect(ssl) == 1
        assert layer.write(ssl, b"ping") == 4
        data, empty_reads = _read_past_tickets(layer, ssl)
        assert layer.SSL_shutdown(ssl) == 1
    assert seen["version"] == "TLSv1.2"
    assert (data, empty_reads) == (b"pong", [])  # TLS 1.2 tickets are part of the handshake: no empty read
    assert seen["last_read"] == (0, b"", K.SSL_ERROR_ZERO_RETURN)


def test_layer_server_lets_a_client_without_certificate_in(layer: Layer) -> None:
    """SSL_CTX_set_verify.pod: a server in SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT mode ends the
    handshake when the client sends no certificate. The layer stores the mode and never uses it (observed)."""
    api = _peer_api("libssl")
    seen: dict[str, Any] = {}
    mode = K.SSL_VERIFY_PEER | K.SSL_VERIFY_FAIL_IF_NO_PEER_CERT
    with (_pair() as (client, server), _layer_ssl(layer, True, server.fileno(), verify=mode) as ssl,
          _thread(lambda: _peer_client(api, client, seen))):
        accepted = layer.SSL_accept(ssl)
        got = layer.read(ssl)
        layer.write(ssl, b"pong")
        layer.read(ssl)
        layer.SSL_shutdown(ssl)
    assert accepted == 1
    assert got[:2] == (4, b"ping")
    assert seen["connect"] == 1


# --- the gnutls stack's endpoint (conformance/stacks/gnutls_layer.py), driven by the pump -------------------------


@pytest.mark.parametrize("layer_is", ["client", "server"])
@pytest.mark.parametrize("peer", PEERS)
def test_the_pump_drives_the_layer_through_a_socketpair(layer: Layer, peer: str, layer_is: str) -> None:
    """The interop cases' one-thread pair driver, with the gnutls stack's endpoint against every C-API stack."""
    _peer_api(peer)
    sketch, other = load_stack("gnutls"), load_stack(peer)
    client, server = (sketch, other) if layer_is == "client" else (other, sketch)
    h = Harness(sketch, client_stack=client, server_stack=server)
    try:
        pair = h.pair(client=lambda c: c.with_(verify_peer=layer_is == "server"))
        pair.handshake()
        pair.send(b"to the server")
        assert pair.drive(server=lambda e: e.write(b"to the client")).server.ok  # type: ignore[union-attr]
        got = pair.drive(client=lambda e: e.read(100)).client
        assert got is not None and got.data == b"to the client", got
        assert pair.client.negotiated_version() in (None, "TLSv1.3")
    finally:
        h.close()
