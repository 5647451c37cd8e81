"""Helpers for the C-API cases of the SSL object pages (lifecycle, shutdown, BIOs, modes): SSL objects on BIO pairs
that the case builds itself (so it can configure the context before SSL_new), moving bytes by hand, and a way to
see whether a BIO pair half has been released without touching freed memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from conformance.stacks.base import EndpointConfig
from conformance.stacks.capi_endpoint import new_context

WANT = (SslError.SSL_ERROR_WANT_READ, SslError.SSL_ERROR_WANT_WRITE)
SSL_CTRL_SESS_NUMBER = 20
SSL_CTRL_GET_MAX_CERT_LIST = 50
SSL_CTRL_SET_MAX_CERT_LIST = 51


def note(h: Harness, text: str) -> None:
    h.trace.note(text)


class Mem:
    """One SSL object on the internal half of its own BIO pair; ``net`` is the half the case reads and writes.

    Registered with the harness, so it is freed at the end of the case (``ssl``/``ctx``/``net`` set to None by a
    case that frees them itself)."""

    def __init__(self, h: Harness, role: Role, *, adjust: Callable[[EndpointConfig], EndpointConfig] | None = None,
                 before_new: Callable[[Any], None] | None = None, ctx: Any = None, set_role: bool = True,
                 host_check: bool = False) -> None:
        api = h.capi
        self.api = api
        self.role = role
        self.label = f"{role.value}({h.stack.name})"
        config = EndpointConfig(role=role, verify_peer=role is Role.CLIENT)
        if adjust is not None:
            config = adjust(config)
        self.config = config
        self.ssl: Any = None
        self.net: Any = None
        self.ctx: Any = ctx if ctx is not None else new_context(api, config)
        h.endpoints.append(self)  # type: ignore[arg-type]  # only close() is used
        if before_new is not None:
            before_new(self.ctx)
        self.ssl = api.SSL_new(self.ctx)
        assert self.ssl is not None, "SSL_new failed"
        ret, inner, self.net = api.BIO_new_bio_pair(config.write_buffer or 0, 0)
        assert ret == 1, "BIO_new_bio_pair failed"
        api.SSL_set_bio(self.ssl, inner, inner)
        if set_role:
            if role is Role.CLIENT:
                api.SSL_set_connect_state(self.ssl)
            else:
                api.SSL_set_accept_state(self.ssl)
        if role is Role.CLIENT:
            api.SSL_set_tlsext_host_name(self.ssl, config.server_name.encode())
            if host_check:
                api.SSL_set1_host(self.ssl, config.server_name.encode())

    def outgoing(self) -> int:
        return int(self.api.BIO_ctrl_pending(self.net))

    def take(self) -> bytes:
        pending = self.outgoing()
        if pending <= 0:
            return b""
        ret, data = self.api.BIO_read(self.net, pending)
        return bytes(data) if ret > 0 else b""

    def give(self, data: bytes) -> None:
        if data:
            assert self.api.BIO_write(self.net, data) == len(data), "the BIO pair did not take all bytes"

    def close(self) -> None:
        api = self.api
        if self.ssl is not None:
            api.SSL_free(self.ssl)
            self.ssl = None
        if self.net is not None:
            api.BIO_free(self.net)
            self.net = None
        if self.ctx is not None:
            api.SSL_CTX_free(self.ctx)
            self.ctx = None


def move(a: Mem, b: Mem) -> int:
    """Carry every byte waiting in either direction; returns how many moved."""
    ab, ba = a.take(), b.take()
    b.give(ab)
    a.give(ba)
    return len(ab) + len(ba)


def error(api: Any, ssl: Any, ret: int) -> SslError | int:
    code = api.SSL_get_error(ssl, ret)
    try:
        return SslError(code)
    except ValueError:
        return int(code)


def handshake(h: Harness, client: Mem, server: Mem, rounds: int = 100) -> None:
    """SSL_do_handshake on both until both return 1, moving bytes in between; asserts on failure."""
    api = h.capi
    done = {"client": False, "server": False}
    for _ in range(rounds):
        for name, side in (("client", client), ("server", server)):
            if done[name]:
                continue
            api.ERR_clear_error()
            ret = api.SSL_do_handshake(side.ssl)
            if ret == 1:
                done[name] = True
                continue
            code = error(api, side.ssl, ret)
            assert code in WANT, f"{name} SSL_do_handshake -> {ret}, SSL_get_error {code}"
        moved = move(client, server)
        if all(done.values()) and not moved:
            note(h, "handshake complete")
            return
    raise AssertionError(f"handshake did not complete in {rounds} rounds: {done}")


def run(h: Harness, side: Mem, peer: Mem, fn: Callable[[], Any], rounds: int = 100) -> Any:
    """Repeat ``fn`` (a raw call on ``side``) while it asks for a retry, moving bytes and letting ``peer`` run its
    handshake in between; returns the last result."""
    api = h.capi
    result: Any = None
    for _ in range(rounds):
        api.ERR_clear_error()
        result = fn()
        value = result[0] if isinstance(result, tuple) else result
        if value > 0 or error(api, side.ssl, value) not in WANT:
            return result
        if not move(side, peer):
            return result
    return result


def paired(api: Any, partner: Any) -> bool:
    """Whether the BIO pair half ``partner`` still has its other half: a released other half unpairs it, so a
    one-byte write is no longer accepted."""
    return bool(api.BIO_write(partner, b"\0") == 1)


def version(api: Any, ssl: Any) -> str | None:
    text = api.SSL_get_version(ssl)
    return str(text.decode() if isinstance(text, bytes) else text) if text else None


def sess_number(api: Any, ctx: Any) -> int:
    return int(api.SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_NUMBER, 0, None))


def session_reused(api: Any, ssl: Any) -> int:
    return int(api.SSL_session_reused(ssl))


def full_shutdown(h: Harness, first: Mem, second: Mem) -> None:
    """A complete two-way shutdown: ``first`` closes, ``second`` reads the close_notify and answers."""
    api = h.capi
    assert api.SSL_shutdown(first.ssl) == 0
    move(first, second)
    ret, _ = api.SSL_read(second.ssl, 10)
    assert error(api, second.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN
    assert api.SSL_shutdown(second.ssl) == 1
    move(first, second)
    assert api.SSL_shutdown(first.ssl) == 1


__all__ = [
    "SSL_CTRL_GET_MAX_CERT_LIST",
    "SSL_CTRL_SET_MAX_CERT_LIST",
    "WANT",
    "K",
    "Mem",
    "error",
    "full_shutdown",
    "handshake",
    "move",
    "note",
    "paired",
    "run",
    "sess_number",
    "session_reused",
    "version",
]
