"""BIO_set_tcp_ndelay (SSL_connect.pod NOTES point to it for latency-sensitive handshakes): TCP_NODELAY on a socket."""

from __future__ import annotations

import socket

from engine import err

__all__ = ["BIO_set_tcp_ndelay"]


def BIO_set_tcp_ndelay(sock: int, turn_on: int) -> int:
    """1 when TCP_NODELAY was set (turn_on != 0) or cleared, 0 with errno and a system entry on failure."""
    try:
        s = socket.socket(fileno=sock)
    except (OSError, ValueError, TypeError) as e:
        err.raise_sys(getattr(e, "errno", None) or 9, "BIO_set_tcp_ndelay", func="BIO_set_tcp_ndelay")
        return 0
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1 if turn_on else 0)
    except OSError as e:
        err.raise_sys(e.errno or 22, "calling setsockopt()", func="BIO_set_tcp_ndelay")
        return 0
    finally:
        s.detach()
    return 1
