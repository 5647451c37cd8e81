"""Helpers for C-API cases: SSL objects on real loopback TCP sockets, with bounded waits so nothing hangs."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.outcome import Role
from conformance.stacks.base import EndpointConfig
from conformance.stacks.capi_endpoint import new_context

SOCKET_TIMEOUT = 5.0  # seconds a blocking socket call may wait before the kernel gives up (SO_RCVTIMEO/SNDTIMEO)


def tcp_pair(timeout: float = SOCKET_TIMEOUT) -> tuple[socket.socket, socket.socket]:
    """A connected pair of TCP sockets on 127.0.0.1 (client, server), blocking, with kernel timeouts."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    finally:
        listener.close()
    tv = struct.pack("ll", int(timeout), int((timeout % 1) * 1_000_000))
    for s in (client, server):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
    return client, server


@dataclass
class Side:
    """One SSL object with its context and (optionally) its socket; ``close`` frees everything."""

    api: Any
    role: Role
    ctx: Any
    ssl: Any
    sock: socket.socket | None = None
    extra: list[Any] = field(default_factory=list)

    def close(self) -> None:
        if self.ssl is not None:
            self.api.SSL_free(self.ssl)
            self.ssl = None
        if self.ctx is not None:
            self.api.SSL_CTX_free(self.ctx)
            self.ctx = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def side(api: Any, role: Role, *, sock: socket.socket | None = None,
         adjust: Callable[[EndpointConfig], EndpointConfig] | None = None,
         before_new: Callable[[Any], None] | None = None) -> Side:
    """An SSL in ``role`` on ``sock`` (via SSL_set_fd), or with no BIO at all when ``sock`` is None."""
    config = EndpointConfig(role=role, verify_peer=role is Role.CLIENT)
    if adjust is not None:
        config = adjust(config)
    ctx = new_context(api, config)
    if before_new is not None:
        before_new(ctx)
    ssl = api.SSL_new(ctx)
    if sock is not None:
        assert api.SSL_set_fd(ssl, sock.fileno()) == 1
    if role is Role.CLIENT:
        api.SSL_set_tlsext_host_name(ssl, config.server_name.encode())
        api.SSL_set_connect_state(ssl)
    else:
        api.SSL_set_accept_state(ssl)
    return Side(api, role, ctx, ssl, sock)


class Background:
    """Run ``fn`` in a thread and collect its result or exception (for the blocking-socket cases)."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self.result = fn()
        except BaseException as exc:  # handed to the case thread
            self.error = exc

    def join(self, timeout: float = 3 * SOCKET_TIMEOUT) -> Any:
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError(f"the background call did not return within {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result
