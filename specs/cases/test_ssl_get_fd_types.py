"""C-API cases for SSL_get_fd / SSL_get_rfd / SSL_get_wfd on BIO kinds other than the socket BIO SSL_set_fd makes:
a connect BIO (as BIO_new_ssl_connect gives the SSL), a file descriptor BIO, and a buffering filter over a socket
BIO. Found by the newuser branch's programs (tests/engine/test_pod_programs.py), where the engine gave -1 for an SSL
on a connected connect BIO."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from specs.cases._capi import tcp_pair
from specs.cases._ssl_objects import ssl_ctx, ssl_obj

pytestmark = pytest.mark.needs("c_api", "client_role")


@contextmanager
def _ssl_and_a_tcp_socket(h: Harness) -> Iterator[tuple[socket.socket, Any]]:
    """A connected TCP pair on 127.0.0.1 and an SSL from a default context, for the case to put on the client socket;
    the SSL and its context are freed and both sockets closed when the block ends."""
    csock, ssock = tcp_pair()
    try:
        with ssl_ctx(h) as ctx, ssl_obj(h, ctx) as ssl:
            yield csock, ssl
    finally:
        csock.close()
        ssock.close()


def _check_descriptors(api: Any, ssl: Any, fd: int, where: str) -> None:
    """SSL_get_fd, SSL_get_rfd and SSL_get_wfd all give ``fd``."""
    got = (int(api.SSL_get_fd(ssl)), int(api.SSL_get_rfd(ssl)), int(api.SSL_get_wfd(ssl)))
    assert got == (fd, fd, fd), f"(SSL_get_fd, SSL_get_rfd, SSL_get_wfd) {where} -> {got}, not {fd}"


@pytest.mark.clauses("SSL_get_fd/RETURN VALUES/any-descriptor-bio", "SSL_get_fd/RETURN VALUES/>=0",
                     "SSL_get_fd/DESCRIPTION/returns-linked-fd")
def test_connected_connect_bio_gives_its_descriptor(h: Harness) -> None:
    """An SSL whose BIO is a connect BIO connected to a listening socket on 127.0.0.1: the three getters give the
    connect BIO's descriptor (BIO_get_fd), as they would a socket BIO's."""
    api = h.capi
    with socket.create_server(("127.0.0.1", 0)) as listener, ssl_ctx(h) as ctx, ssl_obj(h, ctx) as ssl:
        port = listener.getsockname()[1]
        cbio = api.BIO_new_connect(f"127.0.0.1:{port}")
        assert cbio is not None, "BIO_new_connect failed"
        api.SSL_set_bio(ssl, cbio, cbio)  # the SSL owns it now (freed, and its socket closed, with the SSL)
        assert api.BIO_do_connect(cbio) == 1, "BIO_do_connect to a listening socket failed"
        peer, _ = listener.accept()
        peer.close()
        ret, fd = api.BIO_get_fd(cbio)
        assert ret >= 0 and fd >= 0, f"BIO_get_fd of the connected connect BIO -> {(ret, fd)}"
        _check_descriptors(api, ssl, fd, "on a connect BIO")


@pytest.mark.clauses("SSL_get_fd/RETURN VALUES/any-descriptor-bio", "SSL_get_fd/RETURN VALUES/>=0")
def test_fd_bio_gives_its_descriptor(h: Harness) -> None:
    """An SSL on a file descriptor BIO (BIO_new_fd) over a TCP socket: the getters give that descriptor."""
    api = h.capi
    with _ssl_and_a_tcp_socket(h) as (csock, ssl):
        fbio = api.BIO_new_fd(csock.fileno(), K.BIO_NOCLOSE)
        assert fbio is not None, "BIO_new_fd failed"
        api.SSL_set_bio(ssl, fbio, fbio)
        _check_descriptors(api, ssl, csock.fileno(), "on an fd BIO")


@pytest.mark.clauses("SSL_get_fd/RETURN VALUES/descriptor-below-a-filter")
def test_buffer_filter_over_a_socket_bio_gives_the_socket(h: Harness) -> None:
    """BIO_f_buffer pushed on a socket BIO, the chain given to the SSL: the getters give the socket's descriptor."""
    api = h.capi
    with _ssl_and_a_tcp_socket(h) as (csock, ssl):
        sbio = api.BIO_new_socket(csock.fileno(), K.BIO_NOCLOSE)
        fbio = api.BIO_new(api.BIO_f_buffer())
        assert sbio is not None and fbio is not None
        chain = api.BIO_push(fbio, sbio)
        api.SSL_set_bio(ssl, chain, chain)
        _check_descriptors(api, ssl, csock.fileno(), "over a buffer BIO")
