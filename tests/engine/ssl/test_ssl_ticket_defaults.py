"""The reference's TLS 1.2 ticket defaults through its C API: a client made from a default SSL_CTX asks for a ticket
(an empty SessionTicket extension, RFC 5077 section 3.2) and a server made from one answers that request (an empty
SessionTicket extension in its ServerHello, then a NewSessionTicket, section 3.3), for its own client and for
libssl's. These are the engine's choices, not the suite's clauses: the interop case test_tls12_ticket_resumption
observes another stack's defaults and checks only what RFC 5077 requires of any stack.

The hellos and the NewSessionTicket travel in plaintext before ChangeCipherSpec, so they are read off the bytes the
two sides exchange on their BIO pairs, with the cases' parser of that plaintext (``specs/cases/_tls12wire.py``)."""

from __future__ import annotations

from typing import Any

import pytest

import engine.bio as B
import engine.ssl as E
from conformance.capi.libssl import LibsslApi
from conformance.certs import SERVER_NAME, default_pki
from engine.ssl import constants as K
from specs.cases._tls12wire import NEW_SESSION_TICKET, SERVER_HELLO, SESSION_TICKET, Flight, flight, hello

CLIENT_HELLO = 1


class _Engine:
    """The engine's C API under one name space, as LibsslApi offers libssl's."""

    def __getattr__(self, name: str) -> Any:
        return getattr(E, name) if hasattr(E, name) else getattr(B, name)


class _End:
    """One SSL of ``api`` from a default context (TLS 1.2 at most) on the internal half of a BIO pair."""

    def __init__(self, api: Any, server: bool) -> None:
        self.api = api
        self.ctx = api.SSL_CTX_new(api.TLS_server_method() if server else api.TLS_client_method())
        assert self.ctx is not None
        assert api.SSL_CTX_set_max_proto_version(self.ctx, K.TLS1_2_VERSION) == 1
        pki = default_pki()
        if server:
            assert api.SSL_CTX_use_certificate_file(self.ctx, str(pki.server.cert_path).encode(), 1) == 1
            assert api.SSL_CTX_use_PrivateKey_file(self.ctx, str(pki.server.key_path).encode(), 1) == 1
        self.ssl = api.SSL_new(self.ctx)
        ret, inner, self.net = api.BIO_new_bio_pair(0, 0)
        assert ret == 1
        api.SSL_set_bio(self.ssl, inner, inner)
        if server:
            api.SSL_set_accept_state(self.ssl)
        else:
            api.SSL_set_connect_state(self.ssl)
            assert api.SSL_set_tlsext_host_name(self.ssl, SERVER_NAME.encode()) == 1
        self.sent = b""

    def take(self) -> bytes:
        n = int(self.api.BIO_ctrl_pending(self.net))
        data = bytes(self.api.BIO_read(self.net, n)[1]) if n > 0 else b""
        self.sent += data
        return data

    def give(self, data: bytes) -> None:
        if data:
            assert self.api.BIO_write(self.net, data) == len(data)

    def close(self) -> None:
        self.api.SSL_free(self.ssl)
        self.api.BIO_free(self.net)
        self.api.SSL_CTX_free(self.ctx)


def _handshake(client: _End, server: _End) -> None:
    done = [0, 0]
    for _ in range(50):
        for i, end in enumerate((client, server)):
            if done[i] != 1:
                done[i] = int(end.api.SSL_do_handshake(end.ssl))
        a, b = client.take(), server.take()
        server.give(a)
        client.give(b)
        if not a and not b and done == [1, 1]:
            return
    raise AssertionError(f"the handshake did not complete: {done}")


def _first(messages: Flight, kind: int) -> bytes:
    body = messages.first(kind)
    assert body is not None, f"no handshake message of type {kind}: {messages.types()}"
    return body


def _exchange(client_api: Any) -> tuple[dict[int, bytes], Flight]:
    """A TLS 1.2 handshake of a default client of ``client_api`` with a default engine server: the ClientHello's
    extensions and the server's plaintext flight."""
    client = _End(client_api, server=False)
    server = _End(_Engine(), server=True)
    try:
        _handshake(client, server)
        return hello(_first(flight(client.sent), CLIENT_HELLO), client=True).extensions, flight(server.sent)
    finally:
        client.close()
        server.close()


def test_a_default_client_asks_for_a_ticket() -> None:
    client_hello, _ = _exchange(_Engine())
    assert client_hello.get(SESSION_TICKET) == b"", "the engine's default client sent no empty SessionTicket extension"


@pytest.mark.parametrize("client_stack", ["engine", "libssl"])
def test_a_default_server_answers_a_ticket_request(libssl: LibsslApi, client_stack: str) -> None:
    client_hello, server_flight = _exchange(_Engine() if client_stack == "engine" else libssl)
    assert SESSION_TICKET in client_hello, f"precondition: the default {client_stack} client asks for a ticket"
    answer = hello(_first(server_flight, SERVER_HELLO), client=False).extensions
    assert answer.get(SESSION_TICKET) == b"", "the engine's default server did not answer the ticket request"
    ticket = _first(server_flight, NEW_SESSION_TICKET)[6:]  # lifetime hint (4), ticket length (2)
    assert ticket, "the engine's default server sent an empty ticket"
