"""Helpers for C-API cases: SSL objects on real loopback TCP sockets, with bounded waits so nothing hangs."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

from conformance.outcome import Role
from conformance.stacks.base import EndpointConfig
from conformance.stacks.capi_endpoint import CApiEndpoint, new_context

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


# The old name of the holder of a socket SSL: the one C-API SSL object of the harness.
Side = CApiEndpoint


def side(api: Any, role: Role, *, sock: socket.socket | None = None,
         adjust: Callable[[EndpointConfig], EndpointConfig] | None = None,
         before_new: Callable[[Any], object] | None = None) -> CApiEndpoint:
    """An SSL in ``role`` on ``sock`` (via SSL_set_fd; closed with the SSL), or with no BIO at all when ``sock`` is
    None; ``close()`` frees it. The kernel moves the bytes, so the pump does not drive it."""
    config = EndpointConfig(role=role, verify_peer=role is Role.CLIENT)
    if adjust is not None:
        config = adjust(config)
    return CApiEndpoint(api, config, f"{role.value}(socket)", ctx=new_context(api, config), before_new=before_new,
                        host_check=False, sock=sock, bio=False)


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
