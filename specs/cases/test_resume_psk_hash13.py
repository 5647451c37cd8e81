"""A TLS 1.3 client offers a PSK only with a suite of the PSK's hash (RFC 9846 section 4.2.2, the ClientHello's
cipher_suites, a SHOULD).

Two SSL objects of the stack under test on BIO pairs. The first connection's client lists only TLS_AES_256_GCM_SHA384,
so its ticket's PSK goes with SHA-384; the client's context then lists only TLS_AES_128_GCM_SHA256, and a new client
is given the session with SSL_set_session. Its ClientHello (plaintext) is read off the wire: either it has no
pre_shared_key extension, or it lists a SHA-384 suite."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._ssl_objects import Mem, handshake
from specs.cases._tls12wire import flight, hello, offered_suites
from specs.cases.test_ssl_session import V13, _connect, _reused, held_session, offering_pair13

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role", "tls1_3")

PRE_SHARED_KEY = 41  # RFC 9846 section 4.3.11
SHA384_SUITE = b"TLS_AES_256_GCM_SHA384"
SHA256_SUITE = b"TLS_AES_128_GCM_SHA256"
SHA384_SUITES = {0x1302}  # RFC 9846 appendix B.4: the one SHA-384 suite


def _offer(h: Harness, client_ctx: Any, server_ctx: Any, session: Any) -> tuple[Mem, Mem, list[int], bool]:
    """A TLS 1.3 handshake of new SSL objects on these contexts, the client given ``session``: the suites its
    ClientHello lists and whether it has a pre_shared_key, read off the wire; then the handshake is completed."""
    api = h.capi
    client, server = offering_pair13(h, client_ctx, server_ctx, session)
    api.ERR_clear_error()
    ret = int(api.SSL_do_handshake(client.ssl))
    sent = client.take()
    body = flight(sent).first(1)
    if body is None:
        code, entry = int(api.SSL_get_error(client.ssl, ret)), int(api.ERR_peek_error())
        raise AssertionError(f"the client's first handshake step sent no ClientHello: SSL_do_handshake -> {ret}, "
                             f"SSL_get_error {code}, error entry {entry:#x}; sent {sent[:16].hex()!r}")
    suites, psk = offered_suites(body), PRE_SHARED_KEY in hello(body, client=True).extensions
    h.trace.note(f"ClientHello suites {[hex(s) for s in suites]}, pre_shared_key: {psk}")
    server.give(sent)
    handshake(h, client, server)
    return client, server, suites, psk


@pytest.mark.clauses("RFC9846/4.2.2/psk-hash-suite-offered")
def test_a_psk_is_offered_only_with_a_suite_of_its_hash(h: Harness) -> None:
    """The session was made under TLS_AES_256_GCM_SHA384 (the only suite its client listed); with that suite still
    listed the session is offered (pre_shared_key) and resumed, so the check can fail. With only
    TLS_AES_128_GCM_SHA256 listed, the ClientHello either has no pre_shared_key (then the handshake is a full one)
    or lists a SHA-384 suite."""
    api = h.capi
    probe = Mem(h, Role.CLIENT)  # a client context configured as the case's clients are
    assert api.SSL_CTX_set_ciphersuites(probe.ctx, SHA384_SUITE) == 1
    first_client, first_server = _connect(
        h, V13, client_ctx=probe.ctx,
        server_setup=lambda ctx: api.SSL_CTX_set_ciphersuites(ctx, SHA384_SUITE + b":" + SHA256_SUITE))
    session = held_session(h, first_client)
    client, server, suites, psk = _offer(h, first_client.ctx, first_server.ctx, session)
    assert psk, "the client did not offer its ticket while it still listed the session's suite"
    assert _reused(h, client, server) == (1, 1), "the ticket offered with its suite listed was not resumed"

    assert api.SSL_CTX_set_ciphersuites(first_client.ctx, SHA256_SUITE) == 1
    client, server, suites, psk = _offer(h, first_client.ctx, first_server.ctx, session)
    if psk:
        assert SHA384_SUITES & set(suites), (
            f"the ClientHello offers a PSK made under TLS_AES_256_GCM_SHA384 (SHA-384) but lists only "
            f"{[hex(s) for s in suites]}, no suite with that hash")
        return
    assert _reused(h, client, server) == (0, 0), "a session the client did not offer was resumed"
