"""The engine's C API never raises: random call sequences on both roles over BIO pairs (hypothesis).

Each example is a program of C-API calls on a client and a server whose BIO pairs the program drains, cuts, corrupts
and closes. Whatever the order, every call must return a documented value (failures are return values plus the
error queue); an exception escaping the API fails the test, with the shrunk program as the evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine.bio as B
import engine.ssl as E
from conformance.certs import default_pki
from engine import err
from engine.ssl import constants as K

pytestmark = pytest.mark.filterwarnings("error")


def _ctx(server: bool, verify: bool) -> Any:
    pki = default_pki()
    ctx = E.SSL_CTX_new(E.TLS_server_method() if server else E.TLS_client_method())
    E.SSL_CTX_load_verify_locations(ctx, str(pki.ca_path).encode(), None)
    if server:
        E.SSL_CTX_use_certificate_file(ctx, str(pki.server.cert_path).encode(), K.SSL_FILETYPE_PEM)
        E.SSL_CTX_use_PrivateKey_file(ctx, str(pki.server.key_path).encode(), K.SSL_FILETYPE_PEM)
    elif verify:
        E.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER, None)
    return ctx


class Side:
    def __init__(self, server: bool, size: int, verify: bool) -> None:
        self.ctx = _ctx(server, verify)
        self.ssl = E.SSL_new(self.ctx)
        _, inner, self.net = B.BIO_new_bio_pair(size, size)
        E.SSL_set_bio(self.ssl, inner, inner)
        (E.SSL_set_accept_state if server else E.SSL_set_connect_state)(self.ssl)
        self.freed = False

    def take(self, limit: int) -> bytes:
        n = B.BIO_ctrl_pending(self.net)
        if n <= 0:
            return b""
        ret, data = B.BIO_read(self.net, min(n, limit))
        return bytes(data) if ret > 0 else b""

    def give(self, data: bytes) -> None:
        if data:
            B.BIO_write(self.net, data)

    def free_ssl(self) -> None:
        if not self.freed:
            E.SSL_free(self.ssl)
        self.freed = True

    def free(self) -> None:
        self.free_ssl()
        B.BIO_free(self.net)
        E.SSL_CTX_free(self.ctx)


_SNI = (None, b"server.example", b"x" * 300)
_MODES = (K.SSL_MODE_ENABLE_PARTIAL_WRITE, K.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, K.SSL_MODE_AUTO_RETRY,
          K.SSL_MODE_RELEASE_BUFFERS)


def _ops(me: Side, peer: Side, arg: int) -> dict[str, Callable[[], object]]:
    s = me.ssl
    return {
        "SSL_do_handshake": lambda: E.SSL_do_handshake(s),
        "SSL_read": lambda: E.SSL_read(s, arg % 20000),
        "SSL_read_ex": lambda: E.SSL_read_ex(s, arg % 20000),
        "SSL_peek": lambda: E.SSL_peek(s, arg % 20000),
        "SSL_write": lambda: E.SSL_write(s, b"w" * (arg % 40000)),
        "SSL_write_ex": lambda: E.SSL_write_ex(s, b"x" * (arg % 40000)),
        "SSL_shutdown": lambda: E.SSL_shutdown(s),
        "SSL_key_update": lambda: E.SSL_key_update(s, arg % 4),
        "SSL_clear": lambda: E.SSL_clear(s),
        "SSL_set_shutdown": lambda: E.SSL_set_shutdown(s, arg % 4),
        "SSL_pending": lambda: (E.SSL_pending(s), E.SSL_has_pending(s)),
        "SSL_get_error": lambda: E.SSL_get_error(s, arg % 3 - 1),
        "SSL_set_mode": lambda: E.SSL_set_mode(s, _MODES[arg % len(_MODES)]),
        "SSL_clear_mode": lambda: E.SSL_clear_mode(s, _MODES[arg % len(_MODES)]),
        "SSL_set_read_ahead": lambda: E.SSL_set_read_ahead(s, arg % 2),
        "SSL_renegotiate": lambda: E.SSL_renegotiate(s),
        "SSL_dup": lambda: E.SSL_free(E.SSL_dup(s)),
        "SSL_set_connect_state": lambda: E.SSL_set_connect_state(s),
        "SSL_set_accept_state": lambda: E.SSL_set_accept_state(s),
        "SSL_set_bio": lambda: E.SSL_set_bio(s, None, None),
        "SSL_peek_ex": lambda: E.SSL_peek_ex(s, arg % 20000),
        "SSL_write_moved": lambda: E.SSL_write(s, bytearray(b"m" * (arg % 40000)), moved=True),
        "SSL_set1_host": lambda: E.SSL_set1_host(s, (b"", b"server.example", b"other.example")[arg % 3]),
        "SSL_set_tlsext_host_name": lambda: E.SSL_set_tlsext_host_name(s, _SNI[arg % 3]),
        "SSL_set_max_cert_list": lambda: E.SSL_set_max_cert_list(s, (arg % 3 - 1) * 2000),
        "SSL_set_verify": lambda: E.SSL_set_verify(s, arg % 4, None),
        "SSL_get_verify_result": lambda: E.SSL_get_verify_result(s),
        "SSL_set_quiet_shutdown": lambda: E.SSL_set_quiet_shutdown(s, arg % 2),
        "SSL_set_options": lambda: E.SSL_set_options(s, K.SSL_OP_IGNORE_UNEXPECTED_EOF),
        "SSL_free": me.free_ssl,  # the program goes on with a freed handle: every call must cope
        "move": lambda: peer.give(me.take(1 + arg % 20000)),
        "corrupt": lambda: peer.give(_flip(me.take(20000), arg)),
        "garbage": lambda: peer.give(bytes((arg * 7 + i) % 256 for i in range(arg % 40))),
        "eof": lambda: B.BIO_shutdown_wr(me.net),
    }


def _flip(data: bytes, at: int) -> bytes:
    if not data:
        return data
    buf = bytearray(data)
    buf[at % len(buf)] ^= 1 + at % 255
    return bytes(buf)


OPS = (
    "SSL_do_handshake", "SSL_read", "SSL_read_ex", "SSL_peek", "SSL_write", "SSL_write_ex", "SSL_shutdown",
    "SSL_key_update", "SSL_clear", "SSL_set_shutdown", "SSL_pending", "SSL_get_error", "SSL_set_mode",
    "SSL_clear_mode", "SSL_set_read_ahead", "SSL_renegotiate", "SSL_dup", "SSL_set_connect_state",
    "SSL_set_accept_state", "SSL_set_bio", "SSL_set_quiet_shutdown", "SSL_set_options", "SSL_free",
    "SSL_peek_ex", "SSL_write_moved", "SSL_set1_host", "SSL_set_tlsext_host_name", "SSL_set_max_cert_list",
    "SSL_set_verify", "SSL_get_verify_result",
    "move", "move", "move", "corrupt", "garbage", "eof",
)
STEP = st.tuples(st.sampled_from(OPS), st.sampled_from(("client", "server")), st.integers(0, 1 << 16))


def run_program(program: list[tuple[str, str, int]], size: int, verify: bool) -> None:
    err.ERR_clear_error()
    client, server = Side(False, size, verify), Side(True, size, verify)
    sides = {"client": (client, server), "server": (server, client)}
    done: list[str] = []
    try:
        for name, role, arg in program:
            me, peer = sides[role]
            try:
                _ops(me, peer, arg)[name]()
            except Exception as exc:
                trace = "\n  ".join([*done, f"{name}({role}, {arg})  <-- raised"])
                raise AssertionError(f"{type(exc).__name__}: {exc} escaped the C API after:\n  {trace}") from exc
            done.append(f"{name}({role}, {arg})")
    finally:
        client.free()
        server.free()
        err.ERR_clear_error()


def test_handshake_then_key_update_after_shutdown_returns_one() -> None:
    """Issue 11: after SSL_shutdown, SSL_key_update then SSL_do_handshake returned a RuntimeError; OpenSSL 3.0
    returns 1 for both (the pages are silent) and the engine does too, sending nothing after its close_notify."""
    client, server = Side(False, 0, True), Side(True, 0, True)
    try:
        for _ in range(10):
            E.SSL_do_handshake(client.ssl)
            server.give(client.take(1 << 20))
            E.SSL_do_handshake(server.ssl)
            client.give(server.take(1 << 20))
        assert E.SSL_is_init_finished(client.ssl) == 1
        assert E.SSL_shutdown(client.ssl) == 0
        sent = client.take(1 << 20)
        assert E.SSL_key_update(client.ssl, K.SSL_KEY_UPDATE_REQUESTED) == 1
        assert E.SSL_do_handshake(client.ssl) == 1
        assert client.take(1 << 20) == b"", "nothing may follow the close_notify"
        assert sent
    finally:
        client.free()
        server.free()


_HANDSHAKE = [("SSL_do_handshake", "client", 0), ("move", "client", 1 << 16), ("SSL_do_handshake", "server", 0),
              ("move", "server", 1 << 16), ("SSL_do_handshake", "client", 0), ("move", "client", 1 << 16),
              ("SSL_do_handshake", "server", 0), ("move", "server", 1 << 16)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=st.lists(STEP, max_size=40), size=st.sampled_from((0, 1, 17, 512, 17000)), verify=st.booleans(),
       connected=st.booleans())
def test_random_programs_never_raise(program: list[tuple[str, str, int]], size: int, verify: bool,
                                     connected: bool) -> None:
    run_program((_HANDSHAKE if connected else []) + program, size, verify)
