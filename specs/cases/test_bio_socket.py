"""C-API cases for BIO_connect.pod (BIO_socket/bind/connect/listen/accept_ex/closesocket and the BIO_SOCK_*
flags), BIO_ADDR.pod and BIO_s_socket.pod, on real loopback sockets (127.0.0.1 and ::1, port 0, always closed).

Nothing here passes NULL where C would dereference it: failures are provoked with a port in use, a port nobody
listens on, a descriptor that was just closed, an unknown address family or an empty BIO_ADDR.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import threading
import time

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from specs.cases._bio import (
    addr,
    call,
    clear,
    drain,
    has_entry,
    is_open,
    listener,
    nonblocking,
    owned,
    port_of,
    sockopt,
    view,
)
from specs.cases._capi import tcp_pair

pytestmark = pytest.mark.needs("c_api")

V4, V6 = "127.0.0.1", "::1"
MAPPED_V4 = "::ffff:127.0.0.1"


def _new_socket(h: Harness, o: object, host: str) -> int:
    family = K.AF_INET6 if ":" in host else K.AF_INET
    fd = call(h, "BIO_socket", family, socket.SOCK_STREAM, 0, 0)
    assert fd >= 0, f"BIO_socket returned {fd}"
    return o.fd(fd)  # type: ignore[attr-defined, no-any-return]


def _closed_descriptor(h: Harness) -> int:
    """A descriptor number that was a socket a moment ago and is closed now."""
    fd = call(h, "BIO_socket", K.AF_INET, socket.SOCK_STREAM, 0, 0)
    assert fd >= 0
    os.close(fd)
    return int(fd)


# --- BIO_socket ---------------------------------------------------------------------------------------------------

@pytest.mark.clauses("BIO_connect/DESCRIPTION/socket-creates", "BIO_connect/RETURN VALUES/socket-ok")
@pytest.mark.parametrize("host", [V4, V6])
def test_bio_socket_creates_a_stream_socket(h: Harness, host: str) -> None:
    """BIO_socket returns a descriptor of a socket of the asked domain and type."""
    with owned(h) as o:
        fd = _new_socket(h, o, host)
        with view(fd) as s:
            assert s.family == (socket.AF_INET6 if host == V6 else socket.AF_INET)
            assert s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM


@pytest.mark.clauses("BIO_connect/RETURN VALUES/socket-error")
def test_bio_socket_with_an_unknown_domain_fails(h: Harness) -> None:
    """An address family the system does not know: INVALID_SOCKET, an error entry, errno set."""
    clear(h)
    fd = call(h, "BIO_socket", 12345, socket.SOCK_STREAM, 0, 0)
    if fd >= 0:
        os.close(fd)
    assert fd == K.INVALID_SOCKET, f"BIO_socket(12345, ...) returned {fd}"
    assert has_entry(h), "the failed BIO_socket left no error entry"
    assert call(h, "errno") != 0, "errno was not set"
    drain(h)


# --- listen, connect, accept ----------------------------------------------------------------------------------------

@pytest.mark.clauses("BIO_connect/DESCRIPTION/listen", "BIO_connect/DESCRIPTION/connect",
                     "BIO_connect/DESCRIPTION/accept-ex",
                     "BIO_connect/RETURN VALUES/bind-connect-listen-ok", "BIO_connect/RETURN VALUES/accept-ok",
                     "BIO_connect/FLAGS/keepalive", "BIO_connect/FLAGS/nodelay", "BIO_connect/FLAGS/reuseaddr",
                     "BIO_connect/FLAGS/nonblock", "BIO_connect/FLAGS/bit-flags", "BIO_ADDR/DESCRIPTION/new-unfilled")
@pytest.mark.parametrize("host", [V4, V6])
def test_listen_connect_accept_with_flags(h: Harness, host: str) -> None:
    """BIO_listen with KEEPALIVE|NODELAY|REUSEADDR|NONBLOCK, BIO_connect with KEEPALIVE|NODELAY and
    BIO_accept_ex with NONBLOCK: each returns success, each flag shows on its socket, the peer address is
    filled in, and bytes flow both ways."""
    with owned(h) as o:
        listen_opts = K.BIO_SOCK_KEEPALIVE | K.BIO_SOCK_NODELAY | K.BIO_SOCK_REUSEADDR | K.BIO_SOCK_NONBLOCK
        lfd, port = listener(h, o, host, listen_opts)
        assert sockopt(lfd, socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0, "KEEPALIVE not set by BIO_listen"
        assert sockopt(lfd, socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0, "NODELAY not set by BIO_listen"
        assert sockopt(lfd, socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0, "REUSEADDR not set by BIO_listen"
        assert nonblocking(lfd), "NONBLOCK not set by BIO_listen"
        peer = o.addr(call(h, "BIO_ADDR_new"))
        assert call(h, "BIO_ADDR_family", peer) == K.AF_UNSPEC
        assert call(h, "BIO_accept_ex", lfd, peer, 0) == K.INVALID_SOCKET, "accept with nobody connecting"
        drain(h)
        cfd = _new_socket(h, o, host)
        assert call(h, "BIO_connect", cfd, addr(h, o, host, port), K.BIO_SOCK_KEEPALIVE | K.BIO_SOCK_NODELAY) == 1
        assert sockopt(cfd, socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0, "KEEPALIVE not set by BIO_connect"
        assert sockopt(cfd, socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0, "NODELAY not set by BIO_connect"
        assert not nonblocking(cfd), "BIO_connect without NONBLOCK left the socket non-blocking"
        select.select([lfd], [], [], 5.0)
        afd = o.fd(call(h, "BIO_accept_ex", lfd, peer, K.BIO_SOCK_NONBLOCK))
        assert afd >= 0, f"BIO_accept_ex returned {afd}"
        assert nonblocking(afd), "NONBLOCK not applied to the accepted socket"
        assert call(h, "BIO_ADDR_family", peer) == (K.AF_INET6 if host == V6 else K.AF_INET)
        assert call(h, "BIO_ADDR_hostname_string", peer, 1) == host
        assert socket.ntohs(call(h, "BIO_ADDR_rawport", peer)) == port_of(cfd), "peer port is not the client's"
        os.write(cfd, b"ping")
        select.select([afd], [], [], 5.0)
        assert os.read(afd, 10) == b"ping"
        os.write(afd, b"pong")
        assert os.read(cfd, 10) == b"pong"


@pytest.mark.clauses("BIO_connect/DESCRIPTION/accept-ex", "BIO_connect/RETURN VALUES/accept-ok")
def test_accept_ex_without_a_peer_address(h: Harness) -> None:
    """BIO_accept_ex with peer NULL accepts the connection all the same, blocking by default."""
    with owned(h) as o:
        lfd, port = listener(h, o, V4)
        cfd = _new_socket(h, o, V4)
        assert call(h, "BIO_connect", cfd, addr(h, o, V4, port), 0) == 1
        afd = o.fd(call(h, "BIO_accept_ex", lfd, None, 0))
        assert afd >= 0, f"BIO_accept_ex(peer NULL) returned {afd}"
        assert not nonblocking(afd), "an accepted socket without NONBLOCK is non-blocking"


@pytest.mark.clauses("BIO_connect/FLAGS/nonblock", "BIO_connect/DESCRIPTION/connect")
def test_connect_nonblock_leaves_a_nonblocking_socket(h: Harness) -> None:
    """BIO_connect with NONBLOCK puts the socket in non-blocking mode; the connection is then completed by the
    kernel (writable, SO_ERROR 0). The return value of a connect still in progress is not documented."""
    with owned(h) as o:
        _, port = listener(h, o, V4)
        cfd = _new_socket(h, o, V4)
        ret = call(h, "BIO_connect", cfd, addr(h, o, V4, port), K.BIO_SOCK_NONBLOCK)
        drain(h)
        assert ret in (0, 1), f"BIO_connect(NONBLOCK) returned {ret}"
        assert nonblocking(cfd), "NONBLOCK not set by BIO_connect"
        _, writable, _ = select.select([], [cfd], [], 5.0)
        assert writable and sockopt(cfd, socket.SOL_SOCKET, socket.SO_ERROR) == 0, "the connect did not complete"


@pytest.mark.clauses("BIO_connect/DESCRIPTION/bind", "BIO_connect/FLAGS/reuseaddr",
                     "BIO_connect/RETURN VALUES/bind-connect-listen-ok")
def test_bind_fixes_the_source_address(h: Harness) -> None:
    """BIO_bind with REUSEADDR gives the socket its local address; BIO_connect then comes from that port."""
    with owned(h) as o:
        lfd, port = listener(h, o, V4)
        cfd = _new_socket(h, o, V4)
        assert call(h, "BIO_bind", cfd, addr(h, o, V4, 0), K.BIO_SOCK_REUSEADDR) == 1
        assert sockopt(cfd, socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0, "REUSEADDR not set by BIO_bind"
        source = port_of(cfd)
        assert source != 0, "BIO_bind did not give the socket a port"
        assert call(h, "BIO_connect", cfd, addr(h, o, V4, port), 0) == 1
        peer = o.addr(call(h, "BIO_ADDR_new"))
        o.fd(call(h, "BIO_accept_ex", lfd, peer, 0))
        assert socket.ntohs(call(h, "BIO_ADDR_rawport", peer)) == source


@pytest.mark.clauses("BIO_connect/FLAGS/v6-only")
def test_v6_only_refuses_ipv4_mapped_addresses(h: Harness) -> None:
    """An IPv6 socket without V6_ONLY listens on ::ffff:127.0.0.1 and accepts an IPv4 client; with V6_ONLY the
    mapped address is refused (0, an error entry)."""
    with owned(h) as o:
        lfd, port = listener(h, o, MAPPED_V4, 0)
        assert sockopt(lfd, socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 0
        client = socket.create_connection((V4, port), timeout=5)
        try:
            peer = o.addr(call(h, "BIO_ADDR_new"))
            afd = o.fd(call(h, "BIO_accept_ex", lfd, peer, 0))
            assert afd >= 0, "the IPv6 listener without V6_ONLY did not accept an IPv4 client"
            assert call(h, "BIO_ADDR_hostname_string", peer, 1) == MAPPED_V4
        finally:
            client.close()
        fd = _new_socket(h, o, V6)
        clear(h)
        assert call(h, "BIO_listen", fd, addr(h, o, MAPPED_V4, 0), K.BIO_SOCK_V6_ONLY) == 0, (
            "a V6_ONLY socket accepted an IPv4-mapped address")
        assert has_entry(h), "the refused BIO_listen left no error entry"
        drain(h)


@pytest.mark.clauses("BIO_connect/FLAGS/v6-only")
def test_v6_only_flag_is_set_on_the_socket(h: Harness) -> None:
    """BIO_listen with V6_ONLY on ::1 leaves IPV6_V6ONLY set."""
    with owned(h) as o:
        lfd, _ = listener(h, o, V6, K.BIO_SOCK_V6_ONLY)
        assert sockopt(lfd, socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1


@pytest.mark.clauses("BIO_connect/DESCRIPTION/closesocket")
def test_closesocket_closes_the_descriptor(h: Harness) -> None:
    """After BIO_closesocket the descriptor is no longer open."""
    with owned(h) as o:
        fd = _new_socket(h, o, V4)
        o.forget(fd)
        call(h, "BIO_closesocket", fd)
        assert not is_open(fd), "the descriptor is still open after BIO_closesocket"


@pytest.mark.clauses("BIO_connect/FLAGS/tfo")
def test_tfo_flag_enables_fast_open(h: Harness) -> None:
    """The seed's BIO_SOCK_TFO: where the kernel allows TCP Fast Open for that side, BIO_listen sets TCP_FASTOPEN
    and BIO_connect sets TCP_FASTOPEN_CONNECT; where it does not, the call fails with 0 and an error entry."""
    version = str(getattr(h.capi, "version", ""))
    if version.startswith("OpenSSL 3.0") or version.startswith("OpenSSL 3.1"):
        h.not_applicable(f"{version} has no BIO_SOCK_TFO (the flag exists from OpenSSL 3.2, the seed's version)")
    try:
        with open("/proc/sys/net/ipv4/tcp_fastopen") as f:
            mode = int(f.read().strip() or "0")
    except OSError:
        mode = 0
    tcp_fastopen = getattr(socket, "TCP_FASTOPEN", 23)
    tcp_fastopen_connect = getattr(socket, "TCP_FASTOPEN_CONNECT", 30)
    with owned(h) as o:
        lfd = _new_socket(h, o, V4)
        clear(h)
        ret = call(h, "BIO_listen", lfd, addr(h, o, V4, 0), K.BIO_SOCK_TFO)
        if mode & 0x2:
            assert ret == 1 and sockopt(lfd, socket.IPPROTO_TCP, tcp_fastopen) > 0, "TFO not enabled on listen"
            port = port_of(lfd)
        else:
            assert ret == 0 and has_entry(h), "BIO_listen(TFO) without kernel server support must fail with an entry"
            drain(h)
            lfd, port = listener(h, o, V4)
        cfd = _new_socket(h, o, V4)
        clear(h)
        ret = call(h, "BIO_connect", cfd, addr(h, o, V4, port), K.BIO_SOCK_TFO)
        if mode & 0x1:
            assert ret == 1, f"BIO_connect(TFO) returned {ret}"
            assert sockopt(cfd, socket.IPPROTO_TCP, tcp_fastopen_connect) == 1, "TFO not enabled on connect"
        else:
            assert ret == 0 and has_entry(h), "BIO_connect(TFO) without kernel client support must fail with an entry"
            drain(h)


# --- failures: the documented return, an error entry, errno ----------------------------------------------------------

@pytest.mark.clauses("BIO_connect/RETURN VALUES/bind-connect-listen-error")
def test_listen_and_bind_on_a_port_in_use_fail(h: Harness) -> None:
    """A port another socket listens on: BIO_listen and BIO_bind return 0, leave an entry, errno EADDRINUSE."""
    with owned(h) as o:
        _, port = listener(h, o, V4)
        for name in ("BIO_listen", "BIO_bind"):
            fd = _new_socket(h, o, V4)
            clear(h)
            assert call(h, name, fd, addr(h, o, V4, port), 0) == 0, f"{name} on a port in use did not return 0"
            assert has_entry(h), f"the failed {name} left no error entry"
            assert call(h, "errno") == errno.EADDRINUSE
            drain(h)


@pytest.mark.clauses("BIO_connect/RETURN VALUES/bind-connect-listen-error")
def test_connect_to_a_port_nobody_listens_on_fails(h: Harness) -> None:
    """Connecting to a closed port (the one a listener just released, and port 0): 0, an entry, errno
    ECONNREFUSED."""
    with owned(h) as o:
        lfd, port = listener(h, o, V4)
        o.forget(lfd)
        os.close(lfd)
        for target in (port, 0):
            fd = _new_socket(h, o, V4)
            clear(h)
            assert call(h, "BIO_connect", fd, addr(h, o, V4, target), 0) == 0, f"connect to port {target} succeeded"
            assert has_entry(h), "the failed BIO_connect left no error entry"
            assert call(h, "errno") == errno.ECONNREFUSED
            drain(h)


@pytest.mark.clauses("BIO_connect/RETURN VALUES/bind-connect-listen-error", "BIO_connect/RETURN VALUES/accept-error")
def test_calls_on_a_closed_descriptor_fail(h: Harness) -> None:
    """BIO_bind, BIO_connect and BIO_listen on a closed descriptor return 0, BIO_accept_ex -1; each leaves an
    error entry and errno EBADF."""
    with owned(h) as o:
        target = addr(h, o, V4, 9)
        for name, failure in (("BIO_bind", 0), ("BIO_connect", 0), ("BIO_listen", 0), ("BIO_accept_ex", -1)):
            fd = _closed_descriptor(h)
            clear(h)
            arg = None if name == "BIO_accept_ex" else target
            ret = call(h, name, fd, arg, 0)
            assert ret == failure, f"{name} on a closed descriptor returned {ret}, not {failure}"
            assert has_entry(h), f"{name} on a closed descriptor left no error entry"
            assert call(h, "errno") == errno.EBADF
            drain(h)


@pytest.mark.clauses("BIO_connect/RETURN VALUES/bind-connect-listen-error")
def test_connect_to_an_unfilled_address_fails(h: Harness) -> None:
    """A BIO_ADDR that holds no address gives BIO_connect nothing to connect to: 0 and an error entry, and the
    socket stays unconnected."""
    with owned(h) as o:
        fd = _new_socket(h, o, V4)
        empty = o.addr(call(h, "BIO_ADDR_new"))
        clear(h)
        ret = call(h, "BIO_connect", fd, empty, 0)
        entry = has_entry(h)
        drain(h)
        with view(fd) as s:
            try:
                s.getpeername()
                connected = True
            except OSError:
                connected = False
        assert not connected, "the socket is connected to something"
        assert ret == 0, f"BIO_connect to an empty BIO_ADDR returned {ret} although nothing was connected"
        assert entry, "the failed BIO_connect left no error entry"


# --- BIO_ADDR -----------------------------------------------------------------------------------------------------

@pytest.mark.clauses("BIO_ADDR/DESCRIPTION/families", "BIO_ADDR/DESCRIPTION/rawmake", "BIO_ADDR/DESCRIPTION/family",
                     "BIO_ADDR/DESCRIPTION/rawaddress", "BIO_ADDR/DESCRIPTION/rawport", "BIO_ADDR/RAW ADDRESSES/layout")
def test_rawmake_round_trips_every_family(h: Harness) -> None:
    """IPv4 (4 bytes), IPv6 (16 bytes) and AF_UNIX (the path, port ignored) go in with BIO_ADDR_rawmake and come
    back unchanged from BIO_ADDR_family / _rawaddress / _rawport."""
    with owned(h) as o:
        a = o.addr(call(h, "BIO_ADDR_new"))
        cases = [(K.AF_INET, socket.inet_pton(socket.AF_INET, "192.0.2.7"), 443, 443),
                 (K.AF_INET6, socket.inet_pton(socket.AF_INET6, "2001:db8::1"), 8443, 8443),
                 (K.AF_UNIX, b"/tmp/conformance.sock", 99, 0)]
        for family, raw, port, want_port in cases:
            assert call(h, "BIO_ADDR_rawmake", a, family, raw, port=socket.htons(port)) == 1, f"rawmake {family}"
            assert call(h, "BIO_ADDR_family", a) == family
            result = call(h, "BIO_ADDR_rawaddress", a)
            assert result[0] == 1 and result[1] == raw, f"rawaddress of family {family}: {result}"
            assert socket.ntohs(call(h, "BIO_ADDR_rawport", a)) == want_port


@pytest.mark.clauses("BIO_ADDR/DESCRIPTION/clear", "BIO_ADDR/DESCRIPTION/family",
                     "BIO_ADDR/RETURN VALUES/zero-when-unavailable")
def test_clear_makes_the_address_empty_again(h: Harness) -> None:
    """After BIO_ADDR_clear the family is AF_UNSPEC and there is no raw address or port."""
    with owned(h) as o:
        a = addr(h, o, V4, 443)
        call(h, "BIO_ADDR_clear", a)
        assert call(h, "BIO_ADDR_family", a) == K.AF_UNSPEC
        assert call(h, "BIO_ADDR_rawaddress", a)[0] == 0
        assert call(h, "BIO_ADDR_rawport", a) == 0


@pytest.mark.clauses("BIO_ADDR/RETURN VALUES/zero-when-unavailable", "BIO_ADDR/RAW ADDRESSES/layout",
                     "BIO_ADDR/DESCRIPTION/new-unfilled")
def test_zero_when_nothing_to_give(h: Harness) -> None:
    """An empty BIO_ADDR has family AF_UNSPEC (0), no raw address (0) and port 0; AF_UNIX has port 0; an IPv4
    address of the wrong length or an unknown family makes nothing (0)."""
    with owned(h) as o:
        a = o.addr(call(h, "BIO_ADDR_new"))
        assert call(h, "BIO_ADDR_family", a) == K.AF_UNSPEC == 0
        assert call(h, "BIO_ADDR_rawaddress", a)[0] == 0
        assert call(h, "BIO_ADDR_rawport", a) == 0
        assert call(h, "BIO_ADDR_rawmake", a, K.AF_UNIX, b"/tmp/x", port=socket.htons(5)) == 1
        assert call(h, "BIO_ADDR_rawport", a) == 0, "an AF_UNIX address has no port"
        assert call(h, "BIO_ADDR_rawmake", a, K.AF_INET, b"\x7f\x00", port=0) == 0, "a 2-byte IPv4 address"
        assert call(h, "BIO_ADDR_rawmake", a, 12345, b"\x7f\x00\x00\x01", port=0) == 0, "an unknown family"
        drain(h)


@pytest.mark.clauses("BIO_ADDR/DESCRIPTION/free")
@pytest.mark.states("null-handle")
def test_addr_free_of_null_does_nothing(h: Harness) -> None:
    """BIO_ADDR_free(NULL) is harmless; a BIO_ADDR from BIO_ADDR_new is freed without complaint."""
    clear(h)
    assert call(h, "BIO_ADDR_free", None) is None
    a = call(h, "BIO_ADDR_new")
    assert call(h, "BIO_ADDR_free", a) is None
    assert not has_entry(h)


@pytest.mark.clauses("BIO_ADDR/DESCRIPTION/hostname-string", "BIO_ADDR/DESCRIPTION/service-string")
@pytest.mark.parametrize("host", [V4, V6])
def test_hostname_and_service_strings(h: Harness, host: str) -> None:
    """numeric 1: the address literal and the port number; numeric 0: a host name and a service name where the
    system knows one (loopback, port 443)."""
    with owned(h) as o:
        a = addr(h, o, host, 443)
        assert call(h, "BIO_ADDR_hostname_string", a, 1) == host
        assert call(h, "BIO_ADDR_service_string", a, 1) == "443"
        name = call(h, "BIO_ADDR_hostname_string", a, 0)
        assert name == socket.getnameinfo((host, 443), 0)[0], f"host name {name!r}"
        assert call(h, "BIO_ADDR_service_string", a, 0) == socket.getnameinfo((host, 443), 0)[1]


@pytest.mark.clauses("BIO_ADDR/RETURN VALUES/strings-null-on-error")
def test_strings_of_an_empty_address_fail(h: Harness) -> None:
    """The string functions on an empty BIO_ADDR return NULL and leave an error entry."""
    with owned(h) as o:
        a = o.addr(call(h, "BIO_ADDR_new"))
        for name, args in (("BIO_ADDR_hostname_string", (1,)), ("BIO_ADDR_service_string", (1,))):
            clear(h)
            assert call(h, name, a, *args) is None, f"{name} of an empty BIO_ADDR returned a string"
            assert has_entry(h), f"{name} failed without an error entry"
            drain(h)


@pytest.mark.clauses("BIO_ADDR/DESCRIPTION/hostname-string-inet-only", "BIO_ADDR/RETURN VALUES/strings-null-on-error")
def test_hostname_string_refuses_af_unix(h: Harness) -> None:
    """BIO_ADDR_hostname_string of an AF_UNIX address: NULL and an error entry."""
    with owned(h) as o:
        a = o.addr(call(h, "BIO_ADDR_new"))
        assert call(h, "BIO_ADDR_rawmake", a, K.AF_UNIX, b"/tmp/conformance.sock", port=0) == 1
        clear(h)
        result = call(h, "BIO_ADDR_hostname_string", a, 1)
        entry = has_entry(h)
        drain(h)
        assert result is None, f"BIO_ADDR_hostname_string of an AF_UNIX address returned {result!r}"
        assert entry, "the refusal left no error entry"


@pytest.mark.clauses("BIO_ADDR/DESCRIPTION/service-string-inet-only", "BIO_ADDR/RETURN VALUES/strings-null-on-error")
def test_service_string_refuses_af_unix(h: Harness) -> None:
    """BIO_ADDR_service_string of an AF_UNIX address: NULL and an error entry."""
    with owned(h) as o:
        a = o.addr(call(h, "BIO_ADDR_new"))
        assert call(h, "BIO_ADDR_rawmake", a, K.AF_UNIX, b"/tmp/conformance.sock", port=0) == 1
        clear(h)
        result = call(h, "BIO_ADDR_service_string", a, 1)
        entry = has_entry(h)
        drain(h)
        assert result is None, f"BIO_ADDR_service_string of an AF_UNIX address returned {result!r}"
        assert entry, "the refusal left no error entry"


@pytest.mark.clauses("BIO_ADDR/DESCRIPTION/path-string")
def test_path_string_of_af_unix(h: Harness) -> None:
    """BIO_ADDR_path_string gives the path of an AF_UNIX address."""
    with owned(h) as o:
        a = o.addr(call(h, "BIO_ADDR_new"))
        assert call(h, "BIO_ADDR_rawmake", a, K.AF_UNIX, b"/tmp/conformance.sock", port=0) == 1
        assert call(h, "BIO_ADDR_path_string", a) == "/tmp/conformance.sock"


@pytest.mark.clauses("BIO_ADDR/DESCRIPTION/path-string-unix-only", "BIO_ADDR/RETURN VALUES/strings-null-on-error")
def test_path_string_refuses_inet(h: Harness) -> None:
    """BIO_ADDR_path_string of an IPv4 address: NULL and an error entry."""
    with owned(h) as o:
        a = addr(h, o, V4, 443)
        clear(h)
        result = call(h, "BIO_ADDR_path_string", a)
        entry = has_entry(h)
        drain(h)
        assert result is None, f"BIO_ADDR_path_string of an IPv4 address returned {result!r}"
        assert entry, "the refusal left no error entry"


# --- BIO_s_socket -------------------------------------------------------------------------------------------------

@pytest.mark.clauses("BIO_s_socket/DESCRIPTION/method", "BIO_s_socket/DESCRIPTION/new-socket",
                     "BIO_s_socket/RETURN VALUES/new-socket", "BIO_s_socket/DESCRIPTION/read-write-the-socket",
                     "BIO_s_socket/DESCRIPTION/puts-not-gets", "BIO_s_socket/NOTES/fd-functionality",
                     "BIO_read/RETURN VALUES/gets-not-implemented", "BIO_read/DESCRIPTION/puts")
def test_socket_bio_reads_and_writes_its_socket(h: Harness) -> None:
    """BIO_new_socket and BIO_new(BIO_s_socket())+BIO_set_fd give BIOs whose writes the peer receives and whose
    reads return what the peer sent; BIO_puts works, BIO_gets is not implemented (-2); BIO_get_fd reports the
    socket."""
    ours, peer = tcp_pair()
    try:
        with owned(h) as o:
            b = o.bio(call(h, "BIO_new_socket", ours.fileno(), K.BIO_NOCLOSE))
            assert b is not None, "BIO_new_socket returned NULL"
            assert call(h, "BIO_write", b, b"hello") == 5
            assert peer.recv(10) == b"hello"
            peer.sendall(b"world")
            assert call(h, "BIO_read", b, 10) == (5, b"world")
            assert call(h, "BIO_puts", b, b"line\n") == 5
            assert peer.recv(10) == b"line\n"
            clear(h)
            assert call(h, "BIO_gets", b, 10)[0] == -2, "BIO_gets on a socket BIO is not -2 (not implemented)"
            drain(h)
            assert call(h, "BIO_get_fd", b) == (ours.fileno(), ours.fileno())
            method = call(h, "BIO_s_socket")
            assert method is not None
            b2 = o.bio(call(h, "BIO_new", method))
            assert call(h, "BIO_set_fd", b2, ours.fileno(), K.BIO_NOCLOSE) == 1
            assert call(h, "BIO_write", b2, b"again") == 5
            assert peer.recv(10) == b"again"
    finally:
        ours.close()
        peer.close()


@pytest.mark.clauses("BIO_s_socket/DESCRIPTION/close-flag", "BIO_new/DESCRIPTION/free-affects-io",
                     "BIO_new/NOTES/free-all-single")
@pytest.mark.parametrize("free", ["BIO_free", "BIO_free_all"])
def test_socket_bio_close_flag(h: Harness, free: str) -> None:
    """Freeing a socket BIO made with BIO_CLOSE closes its socket; with BIO_NOCLOSE the socket stays open."""
    for flag, closes in ((K.BIO_CLOSE, True), (K.BIO_NOCLOSE, False)):
        fd = socket.socket(socket.AF_INET, socket.SOCK_STREAM).detach()
        b = call(h, "BIO_new_socket", fd, flag)
        assert b is not None
        call(h, free, b)
        still_open = is_open(fd)
        if still_open:
            os.close(fd)
        assert still_open is not closes, f"{free} with close flag {flag}: socket open afterwards = {still_open}"


@pytest.mark.clauses("BIO_should_retry/NOTES/socket-read-zero-is-closed", "BIO_read/RETURN VALUES/zero-or-minus-one")
def test_socket_bio_read_zero_means_closed(h: Harness) -> None:
    """Once the peer has closed, a socket BIO read returns 0 without asking for a retry."""
    ours, peer = tcp_pair()
    try:
        with owned(h) as o:
            b = o.bio(call(h, "BIO_new_socket", ours.fileno(), K.BIO_NOCLOSE))
            peer.close()
            n, _ = call(h, "BIO_read", b, 10)
            assert n == 0, f"a read after the peer closed returned {n}"
            assert not call(h, "BIO_should_retry", b), "a closed connection was reported as a retry"
    finally:
        ours.close()
        peer.close()


@pytest.mark.clauses("BIO_read/NOTES/zero-or-minus-one-may-be-retry", "BIO_read/NOTES/select-with-nonblocking-io",
                     "BIO_should_retry/NOTES/wait-instead-of-spinning",
                     "BIO_should_retry/NOTES/nonblocking-avoids-hanging", "BIO_should_retry/DESCRIPTION/should-read")
def test_nonblocking_socket_bio_retries_and_select_tells_when(h: Harness) -> None:
    """Non-blocking socket BIO with nothing to read: -1 at once with a read retry; select() with a timeout
    returns empty instead of hanging; once the peer sends, select() reports readable and the retried read gets
    the data."""
    ours, peer = tcp_pair()
    ours.setblocking(False)
    try:
        with owned(h) as o:
            b = o.bio(call(h, "BIO_new_socket", ours.fileno(), K.BIO_NOCLOSE))
            started = time.monotonic()
            n, _ = call(h, "BIO_read", b, 10)
            assert time.monotonic() - started < 1.0, "the non-blocking read waited"
            assert n == -1, f"a non-blocking read with nothing there returned {n}"
            assert call(h, "BIO_should_retry", b), "no retry requested"
            assert call(h, "BIO_should_read", b), "the retry is not a read retry"
            readable, _, _ = select.select([ours], [], [], 0.2)
            assert not readable, "select() reported data that nobody sent"
            peer.sendall(b"now")
            readable, _, _ = select.select([ours], [], [], 5.0)
            assert readable, "select() did not report the data"
            assert call(h, "BIO_read", b, 10) == (3, b"now")
    finally:
        ours.close()
        peer.close()


@pytest.mark.clauses("BIO_should_retry/NOTES/blocking-no-retry")
def test_blocking_socket_bio_waits_instead_of_asking_for_a_retry(h: Harness) -> None:
    """Blocking socket BIO: a read with nothing there yet waits for the data (sent 0.2 s later) and returns it;
    no retry is requested."""
    ours, peer = tcp_pair()
    try:
        with owned(h) as o:
            b = o.bio(call(h, "BIO_new_socket", ours.fileno(), K.BIO_NOCLOSE))
            timer = threading.Timer(0.2, lambda: peer.sendall(b"late"))
            timer.start()
            try:
                n, data = call(h, "BIO_read", b, 10)
            finally:
                timer.join()
            assert (n, data) == (4, b"late"), f"the blocking read returned {n}"
            assert not call(h, "BIO_should_retry", b)
    finally:
        ours.close()
        peer.close()


@pytest.mark.clauses("BIO_ctrl/NOTES/pending-not-reliable", "BIO_ctrl/NOTES/unknown-ctrl-zero")
def test_socket_bio_pending_does_not_see_kernel_data(h: Harness) -> None:
    """Bytes received by the kernel are not counted by BIO_ctrl_pending of a socket BIO (0), yet BIO_read gets
    them; an unknown control command gives 0 on a socket BIO too."""
    ours, peer = tcp_pair()
    try:
        with owned(h) as o:
            b = o.bio(call(h, "BIO_new_socket", ours.fileno(), K.BIO_NOCLOSE))
            peer.sendall(b"12345")
            select.select([ours], [], [], 5.0)
            assert call(h, "BIO_ctrl_pending", b) == 0
            assert call(h, "BIO_read", b, 10) == (5, b"12345")
            assert call(h, "BIO_ctrl", b, 9999, 0, None) == 0
    finally:
        ours.close()
        peer.close()
