"""BIO_get_ktls_send() / BIO_get_ktls_recv() (BIO_ctrl.pod) on BIOs that do not use kernel TLS.

The functions answer 1 only for a BIO whose socket has been handed to the kernel's TLS layer, and 0 otherwise. The
kernel says which sockets that is: a socket on the kernel TLS path carries the ``tls`` upper-layer protocol
(``getsockopt(IPPROTO_TCP, TCP_ULP)``). So each case reads the socket's ULP as well: where it is not ``tls`` the
BIO must answer 0; where it is (a kernel with its ``tls`` module, a library that switched it on) nothing is asserted
about 1, since whether a library uses kernel TLS is its choice. In OpenSSL 3.0 the two names are macros expanding to
``BIO_ctrl(b, BIO_CTRL_GET_KTLS_SEND / _RECV, 0, NULL) > 0``; the ctypes binding calls exactly that.

A memory BIO or a BIO pair has no socket at all: for them the answer is 0 on every machine.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._bio import call
from specs.cases._capi import Background, side, tcp_pair

pytestmark = pytest.mark.needs("c_api")

TCP_ULP = getattr(socket, "TCP_ULP", 31)  # linux/tcp.h


def _ulp(sock: socket.socket) -> bytes:
    """The socket's upper-layer protocol name (b"" when none is set, or when the platform has no TCP_ULP)."""
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, TCP_ULP, 16).rstrip(b"\0")
    except OSError:
        return b""


@pytest.mark.clauses("BIO_ctrl/DESCRIPTION/ktls")
@pytest.mark.needs("client_role", "server_role", "socket_transport")
def test_ktls_getters_say_0_for_sockets_off_the_kernel_tls_path(h: Harness) -> None:
    """A TLS connection over a loopback TCP pair, each SSL on a socket BIO of its own (BIO_new_socket, BIO_NOCLOSE,
    SSL_set_bio), handshake done and one record each way. Where the kernel says a socket is not on the TLS path (its
    ULP is not "tls"), BIO_get_ktls_send and BIO_get_ktls_recv of its BIO are 0; where it is, 0 or 1."""
    api = h.capi
    client_sock, server_sock = tcp_pair()
    client = side(api, Role.CLIENT)
    server = side(api, Role.SERVER)
    bios: dict[str, Any] = {}
    try:
        for name, end, sock in (("client", client, client_sock), ("server", server, server_sock)):
            bios[name] = call(h, "BIO_new_socket", sock.fileno(), 0)  # BIO_NOCLOSE: the case closes the socket
            assert bios[name] is not None, "BIO_new_socket failed"
            assert api.BIO_up_ref(bios[name]) == 1  # SSL_set_bio(ssl, b, b) takes one; the case keeps the other
            api.SSL_set_bio(end.ssl, bios[name], bios[name])
        accepting = Background(lambda: api.SSL_accept(server.ssl))
        assert api.SSL_connect(client.ssl) == 1, "the handshake failed"
        assert accepting.join() == 1
        assert api.SSL_write(client.ssl, b"ping") == 4
        assert api.SSL_read(server.ssl, 10) == (4, b"ping")
        assert api.SSL_write(server.ssl, b"pong") == 4
        assert api.SSL_read(client.ssl, 10) == (4, b"pong")
        for name, sock in (("client", client_sock), ("server", server_sock)):
            send = call(h, "BIO_get_ktls_send", bios[name])
            recv = call(h, "BIO_get_ktls_recv", bios[name])
            ulp = _ulp(sock)
            h.trace.note(f"{name}: socket ULP {ulp!r}, BIO_get_ktls_send {send}, BIO_get_ktls_recv {recv}")
            if ulp != b"tls":
                assert (send, recv) == (0, 0), (
                    f"{name}: the kernel has not put the socket on its TLS path (ULP {ulp!r}), yet "
                    f"BIO_get_ktls_send / BIO_get_ktls_recv say {send} / {recv}; the page says 0")
            else:
                assert send in (0, 1) and recv in (0, 1), f"{name}: {send} / {recv} is not 0 or 1"
    finally:
        client.close()
        server.close()
        for b in bios.values():
            api.BIO_free(b)
        client_sock.close()
        server_sock.close()


@pytest.mark.clauses("BIO_ctrl/DESCRIPTION/ktls")
def test_ktls_getters_say_0_for_memory_bios_and_pairs(h: Harness) -> None:
    """A memory BIO holding data and both halves of a BIO pair (one byte written into it) have no socket: on each
    BIO_get_ktls_send and BIO_get_ktls_recv return 0."""
    api = h.capi
    mem = call(h, "BIO_new", call(h, "BIO_s_mem"))
    ret, b1, b2 = api.BIO_new_bio_pair(0, 0)
    assert mem is not None and ret == 1
    try:
        assert api.BIO_write(mem, b"data") == 4
        assert api.BIO_write(b1, b"x") == 1
        for label, b in (("memory BIO", mem), ("pair half 1", b1), ("pair half 2", b2)):
            got = (call(h, "BIO_get_ktls_send", b), call(h, "BIO_get_ktls_recv", b))
            assert got == (0, 0), f"{label}: BIO_get_ktls_send / BIO_get_ktls_recv say {got[0]} / {got[1]}; " \
                "a BIO without a socket cannot be on the kernel TLS path"
    finally:
        api.BIO_free(mem)
        api.BIO_free(b1)
        api.BIO_free(b2)
