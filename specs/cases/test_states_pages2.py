"""More functions in the connection states their pages name (issue 10, item 1, after ``test_states_pages.py``):
SSL_set_bio on a connected object, SSL_session_reused / SSL_get_verify_result / SSL_get1_peer_certificate before
a handshake (and, for the last two, on a server whose client sent no certificate), SSL_renegotiate before, during
and after the first handshake, BIO_ssl_shutdown on a connection, the first I/O of an SSL BIO before the handshake,
and SSL_clear on a session that is still open.

As in the other state files, the state comes first (``_states.reach``: the calls an application makes, checked on
the way), then one call of the function under test, then what its page promises there. Each case declares its
states with ``@pytest.mark.states``; tests/specs/test_states.py checks that every state a clause names has one.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.certs import SERVER_NAME
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from conformance.stacks.base import EndpointConfig
from specs.cases._bio import call
from specs.cases._ssl_objects import WANT, Mem, error, handshake, move, note, sess_number
from specs.cases._states import State, error_entry, reach

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")

ROLES = [Role.CLIENT, Role.SERVER]
SENT, RECEIVED = K.SSL_SENT_SHUTDOWN, K.SSL_RECEIVED_SHUTDOWN
BIO_NOCLOSE = 0x00
ROUNDS = 20


def _tls12(config: EndpointConfig) -> EndpointConfig:
    return config.with_(min_version="TLSv1.2", max_version="TLSv1.2")


def _tls13(config: EndpointConfig) -> EndpointConfig:
    return config.with_(min_version="TLSv1.3", max_version="TLSv1.3")


def _empty_queue(api: Any, after: str) -> None:
    assert error_entry(api) == (0, 0), f"{after} left the error entry {error_entry(api)} (library, reason)"


# --- SSL_set_bio / SSL_set0_rbio / SSL_set0_wbio on an established connection -----------------------------------

@pytest.mark.clauses("SSL_set_bio/DESCRIPTION/set-on-established-connection", "SSL_set_bio/RETURN VALUES/cannot-fail")
@pytest.mark.states("established")
@pytest.mark.parametrize("how", ["SSL_set_bio", "SSL_set0_rbio+SSL_set0_wbio"])
@pytest.mark.parametrize("role", ROLES)
def test_new_bios_on_an_established_connection(h: Harness, role: Role, how: str) -> None:
    """Established and quiet (the subject has read what the peer sent, its read BIO holds nothing): a new BIO pair
    replaces the old one. The subject's next record appears in the new pair and none in the old; the peer reads
    it; the peer's answer, delivered through the new pair, is read by the subject."""
    staged = reach(h, State.ESTABLISHED, role)
    api = staged.api
    assert api.SSL_write(staged.peer.ssl, b"before") == 6
    staged.move()
    assert api.SSL_read(staged.ssl, 100) == (6, b"before"), "the subject's read before the BIOs change"
    left = int(api.BIO_ctrl_pending(api.SSL_get_rbio(staged.ssl)))
    assert left == 0, f"{left} bytes still wait in the subject's read BIO at the quiet point"
    ret, inner, outer = api.BIO_new_bio_pair(0, 0)
    assert ret == 1 and inner is not None and outer is not None, "BIO_new_bio_pair failed"
    old_network = staged.subject.net
    if how == "SSL_set_bio":
        api.SSL_set_bio(staged.ssl, inner, inner)  # one BIO for both directions: one reference consumed
    else:
        assert api.BIO_up_ref(inner) == 1  # the set0 functions take one reference each
        api.SSL_set0_rbio(staged.ssl, inner)
        api.SSL_set0_wbio(staged.ssl, inner)
    # from here the link serves the new pair; the old network half (its partner released by the SSL) is freed
    staged.subject.net = outer
    api.BIO_free(old_network)
    rbio, wbio = api.SSL_get_rbio(staged.ssl), api.SSL_get_wbio(staged.ssl)
    note(h, f"{how} on an established {role.value}: SSL_get_rbio -> {rbio}, SSL_get_wbio -> {wbio} (new {inner})")
    assert rbio == inner and wbio == inner, f"{how} did not attach the new BIO: rbio {rbio}, wbio {wbio}"
    _empty_queue(api, how)
    assert api.SSL_write(staged.ssl, b"over the new pair") == 17, "the subject's write after the BIOs changed"
    sent = staged.subject.outgoing()
    assert sent > 0, "the subject's record did not go into the new write BIO"
    staged.move()
    assert api.SSL_read(staged.peer.ssl, 100) == (17, b"over the new pair"), "the peer's read of that record"
    assert api.SSL_write(staged.peer.ssl, b"answer") == 6
    staged.move()
    ret, data = api.SSL_read(staged.ssl, 100)
    assert (ret, data) == (6, b"answer"), \
        f"the subject's read from the new BIO -> {ret} {data!r} ({staged.error(ret) if ret <= 0 else ''})"


# --- SSL_session_reused before any handshake ----------------------------------------------------------------------

@pytest.mark.clauses("SSL_session_reused/RETURN VALUES/0-no-handshake-yet")
@pytest.mark.states("before-handshake")
@pytest.mark.parametrize("role", ROLES)
def test_session_reused_before_the_handshake(h: Harness, role: Role) -> None:
    """A new object of either role, with its transport and no handshake step: SSL_session_reused() is 0."""
    staged = reach(h, State.BEFORE_HANDSHAKE, role)
    api = staged.api
    reused = int(api.SSL_session_reused(staged.ssl))
    note(h, f"before the handshake: SSL_session_reused({role.value}) -> {reused}")
    assert reused == 0, f"SSL_session_reused before any handshake: {reused}, not 0"
    _empty_queue(api, "SSL_session_reused")


@pytest.mark.clauses("SSL_session_reused/RETURN VALUES/0-no-handshake-yet", "SSL_session_reused/RETURN VALUES/1")
@pytest.mark.states("after-clear")
@pytest.mark.needs("tls1_2", "session_resumption", "session_reused")
@pytest.mark.parametrize("role", ROLES)
def test_session_reused_after_clear_of_a_resumed_connection(h: Harness, role: Role) -> None:
    """A TLS 1.2 connection that resumed the session of a first one (SSL_session_reused 1 on both sides) is
    closed both ways; SSL_clear() on the subject (client or server) then leaves an object that has run no
    handshake since: SSL_session_reused() is 0."""
    api = h.capi
    first_client, first_server = Mem(h, Role.CLIENT, adjust=_tls12), Mem(h, Role.SERVER, adjust=_tls12)
    handshake(h, first_client, first_server)
    session = api.SSL_get1_session(first_client.ssl)
    assert session is not None, "SSL_get1_session returned NULL after a TLS 1.2 handshake"
    first_client.held_sessions.append(session)
    for ctx in (first_client.ctx, first_server.ctx):
        assert api.SSL_CTX_up_ref(ctx) == 1
    client = Mem(h, Role.CLIENT, adjust=_tls12, ctx=first_client.ctx)
    server = Mem(h, Role.SERVER, adjust=_tls12, ctx=first_server.ctx)
    assert api.SSL_set_session(client.ssl, session) == 1, "SSL_set_session failed"
    handshake(h, client, server)
    reused = (int(api.SSL_session_reused(client.ssl)), int(api.SSL_session_reused(server.ssl)))
    assert reused == (1, 1), f"the second connection did not resume: SSL_session_reused (client, server) {reused}"
    subject, peer = (client, server) if role is Role.CLIENT else (server, client)
    # a clean two-way close started by the subject, then SSL_clear
    assert api.SSL_shutdown(subject.ssl) == 0
    move(subject, peer)
    ret, _ = api.SSL_read(peer.ssl, 10)
    assert error(api, peer.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN, f"the peer's read of close_notify: {ret}"
    assert api.SSL_shutdown(peer.ssl) == 1
    move(subject, peer)
    ret, _ = api.SSL_read(subject.ssl, 10)
    assert error(api, subject.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN, f"reading the answer: {ret}"
    api.ERR_clear_error()
    assert api.SSL_clear(subject.ssl) == 1, f"SSL_clear after a clean close: error entry {error_entry(api)}"
    after = int(api.SSL_session_reused(subject.ssl))
    note(h, f"after SSL_clear of the resumed {role.value}: SSL_session_reused -> {after}")
    assert after == 0, f"SSL_session_reused after SSL_clear of a resumed connection: {after}, not 0"


# --- SSL_get_verify_result and SSL_get1_peer_certificate while no certificate was presented --------------------

@pytest.mark.clauses("SSL_get_verify_result/BUGS/no-certificate-ok",
                     "SSL_get_peer_certificate/RETURN VALUES/null-before-connection")
@pytest.mark.states("before-handshake")
@pytest.mark.parametrize("role", ROLES)
def test_no_peer_certificate_before_the_handshake(h: Harness, role: Role) -> None:
    """Before the handshake no certificate was presented and no connection is established: the verify result is
    X509_V_OK and SSL_get1_peer_certificate() returns NULL, both with an empty error queue."""
    staged = reach(h, State.BEFORE_HANDSHAKE, role)
    api = staged.api
    result = int(api.SSL_get_verify_result(staged.ssl))
    cert = api.SSL_get1_peer_certificate(staged.ssl)
    note(h, f"before the handshake ({role.value}): SSL_get_verify_result -> {result}, "
            f"SSL_get1_peer_certificate -> {cert}")
    if cert is not None:
        api.X509_free(cert)
    assert cert is None, "SSL_get1_peer_certificate before the handshake returned a certificate, not NULL"
    assert result == K.X509_V_OK, f"SSL_get_verify_result before the handshake: {result}, not X509_V_OK"
    _empty_queue(api, "SSL_get_verify_result / SSL_get1_peer_certificate")


@pytest.mark.clauses("SSL_get_verify_result/BUGS/no-certificate-ok",
                     "SSL_get_peer_certificate/NOTES/client-sends-only-when-asked")
@pytest.mark.states("established")
def test_server_without_a_client_certificate(h: Harness) -> None:
    """An established server that did not ask for a client certificate (SSL_VERIFY_NONE, the default) got none:
    its verify result is X509_V_OK (nothing failed, nothing was verified) and SSL_get1_peer_certificate() is
    NULL."""
    staged = reach(h, State.ESTABLISHED, Role.SERVER)
    api = staged.api
    result = int(api.SSL_get_verify_result(staged.ssl))
    cert = api.SSL_get1_peer_certificate(staged.ssl)
    note(h, f"established server, no client certificate: SSL_get_verify_result -> {result}, "
            f"SSL_get1_peer_certificate -> {cert}")
    if cert is not None:
        api.X509_free(cert)
    assert result == K.X509_V_OK, f"SSL_get_verify_result without a client certificate: {result}, not X509_V_OK"
    assert cert is None, "SSL_get1_peer_certificate on a server whose client sent no certificate is not NULL"
    _empty_queue(api, "SSL_get_verify_result / SSL_get1_peer_certificate")


@pytest.mark.clauses("SSL_get_peer_certificate/RETURN VALUES/peer-leaf")
@pytest.mark.states("established")
def test_client_gets_the_server_certificate(h: Harness) -> None:
    """An established client: SSL_get1_peer_certificate() returns the certificate the server presented (its
    subject names the server), which the case gives back with X509_free()."""
    staged = reach(h, State.ESTABLISHED, Role.CLIENT)
    api = staged.api
    cert = api.SSL_get1_peer_certificate(staged.ssl)
    assert cert is not None, "SSL_get1_peer_certificate on an established client returned NULL"
    try:
        subject = api.X509_NAME_oneline(api.X509_get_subject_name(cert))
    finally:
        api.X509_free(cert)
    note(h, f"established client: the peer certificate's subject is {subject!r}")
    assert subject is not None and SERVER_NAME in str(subject), \
        f"the peer certificate's subject {subject!r} is not the server's ({SERVER_NAME})"


# --- SSL_renegotiate / SSL_renegotiate_abbreviated before, during and after the first handshake --------------------

RENEGOTIATE = ["SSL_renegotiate", "SSL_renegotiate_abbreviated"]


def _renegotiate(h: Harness, api: Any, function: str, ssl: Any) -> tuple[int, int]:
    ret = int(getattr(api, function)(ssl))
    pending = int(api.SSL_renegotiate_pending(ssl))
    note(h, f"{function} -> {ret}, SSL_renegotiate_pending -> {pending}, error entry {error_entry(api)}")
    api.ERR_clear_error()
    return ret, pending


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/renegotiate-tls12-only", "SSL_key_update/RETURN VALUES/0",
                     "SSL_key_update/RETURN VALUES/renegotiate-pending-0")
@pytest.mark.states("before-handshake", "mid-handshake")
@pytest.mark.parametrize("state", [State.BEFORE_HANDSHAKE, State.MID_HANDSHAKE])
@pytest.mark.parametrize("function", RENEGOTIATE)
@pytest.mark.parametrize("role", ROLES)
def test_renegotiate_refused_until_the_first_handshake_is_done(h: Harness, role: Role, function: str,
                                                               state: State) -> None:
    """Before the first handshake finished (not started, or stopped at its first WANT_READ) the connection has not
    negotiated TLS 1.2 or lower: the call fails (0) and schedules nothing (SSL_renegotiate_pending 0); the
    handshake then completes as an ordinary one."""
    staged = reach(h, state, role)
    api = staged.api
    ret, pending = _renegotiate(h, api, function, staged.ssl)
    assert (ret, pending) == (0, 0), \
        f"{function} {state} ({role.value}): (return, SSL_renegotiate_pending) ({ret}, {pending}), not (0, 0)"
    client, server = (staged.subject, staged.peer) if role is Role.CLIENT else (staged.peer, staged.subject)
    handshake(h, client, server)


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/renegotiate-tls12-only", "SSL_key_update/RETURN VALUES/0",
                     "SSL_key_update/RETURN VALUES/renegotiate-pending-0")
@pytest.mark.states("established")
@pytest.mark.needs("tls1_3")
@pytest.mark.parametrize("function", RENEGOTIATE)
@pytest.mark.parametrize("role", ROLES)
def test_renegotiate_refused_on_an_established_tls13_connection(h: Harness, role: Role, function: str) -> None:
    """Established in TLS 1.3: not a connection that negotiated TLS 1.2 or lower, so the call fails (0), nothing
    is scheduled, and data still flows."""
    staged = reach(h, State.ESTABLISHED, role, adjust=_tls13)
    api = staged.api
    ret, pending = _renegotiate(h, api, function, staged.ssl)
    assert (ret, pending) == (0, 0), \
        f"{function} on TLS 1.3 ({role.value}): (return, SSL_renegotiate_pending) ({ret}, {pending}), not (0, 0)"
    assert api.SSL_write(staged.ssl, b"still up") == 8
    staged.move()
    assert api.SSL_read(staged.peer.ssl, 100) == (8, b"still up"), "the peer's read after the refused call"


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/renegotiate-tls12-only", "SSL_key_update/RETURN VALUES/1",
                     "SSL_key_update/RETURN VALUES/renegotiate-pending-1")
@pytest.mark.states("established")
@pytest.mark.needs("tls1_2", "renegotiation")
@pytest.mark.parametrize("function", RENEGOTIATE)
@pytest.mark.parametrize("role", ROLES)
def test_renegotiate_scheduled_on_an_established_tls12_connection(h: Harness, role: Role, function: str) -> None:
    """Established in TLS 1.2 (a server that allows client-initiated renegotiation): the call returns 1 and a
    renegotiation is scheduled (SSL_renegotiate_pending 1), not yet sent (nothing written)."""
    options = K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION

    def server_options(ctx: Any) -> None:
        if role is Role.SERVER:
            h.capi.SSL_CTX_set_options(ctx, options)

    staged = reach(h, State.ESTABLISHED, role, adjust=_tls12, before_new=server_options)
    api = staged.api
    if role is Role.CLIENT:
        api.SSL_set_options(staged.peer.ssl, options)
    ret, pending = _renegotiate(h, api, function, staged.ssl)
    assert (ret, pending) == (1, 1), \
        f"{function} on TLS 1.2 ({role.value}): (return, SSL_renegotiate_pending) ({ret}, {pending}), not (1, 1)"
    sent = staged.subject.outgoing()
    assert sent == 0, f"{function} itself wrote {sent} bytes (it only schedules; the next I/O call sends)"


# --- BIO_ssl_shutdown on an established connection ---------------------------------------------------------------

@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/ssl-shutdown")
@pytest.mark.states("established")
@pytest.mark.parametrize("role", ROLES)
def test_bio_ssl_shutdown_closes_an_established_connection(h: Harness, role: Role) -> None:
    """The subject's connected SSL in an SSL BIO (BIO_set_ssl, BIO_NOCLOSE): BIO_ssl_shutdown() shuts it down
    like SSL_shutdown(): SSL_SENT_SHUTDOWN is set, and the peer reads close_notify (SSL_ERROR_ZERO_RETURN,
    SSL_RECEIVED_SHUTDOWN)."""
    staged = reach(h, State.ESTABLISHED, role)
    api = staged.api
    b = call(h, "BIO_new", call(h, "BIO_f_ssl"))
    assert b is not None, "BIO_new(BIO_f_ssl()) returned NULL"
    try:
        assert call(h, "BIO_set_ssl", b, staged.ssl, BIO_NOCLOSE) == 1, "BIO_set_ssl did not return 1"
        call(h, "BIO_ssl_shutdown", b)
        flags = int(api.SSL_get_shutdown(staged.ssl))
        assert flags & SENT, f"SSL_get_shutdown after BIO_ssl_shutdown: {flags}, SSL_SENT_SHUTDOWN not set"
        staged.move()
        ret, data = api.SSL_read(staged.peer.ssl, 100)
        code = error(api, staged.peer.ssl, ret)
        note(h, f"the peer's SSL_read after BIO_ssl_shutdown -> {ret} {data!r} ({code})")
        assert ret <= 0 and code is SslError.SSL_ERROR_ZERO_RETURN, \
            f"the peer's read after BIO_ssl_shutdown: {ret} ({code}), not the peer's close_notify"
        assert int(api.SSL_get_shutdown(staged.peer.ssl)) & RECEIVED, "the peer has not received close_notify"
    finally:
        call(h, "BIO_free", b)


# --- the first I/O on an SSL BIO before the handshake ---------------------------------------------------------------

@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/first-io-handshakes")
@pytest.mark.states("before-handshake")
@pytest.mark.parametrize("role", ROLES)
def test_first_write_on_an_ssl_bio_makes_the_connection(h: Harness, role: Role) -> None:
    """The subject's SSL, before any handshake step, in an SSL BIO (BIO_NOCLOSE): BIO_write() starts the
    handshake (a client's first call sends its ClientHello) and asks for a retry while the peer has not answered;
    called again as the peer answers, it completes the handshake and then writes the data, which the peer reads."""
    staged = reach(h, State.BEFORE_HANDSHAKE, role)
    api = staged.api
    b = call(h, "BIO_new", call(h, "BIO_f_ssl"))
    assert b is not None, "BIO_new(BIO_f_ssl()) returned NULL"
    try:
        assert call(h, "BIO_set_ssl", b, staged.ssl, BIO_NOCLOSE) == 1, "BIO_set_ssl did not return 1"
        ret = int(call(h, "BIO_write", b, b"first data"))
        assert ret <= 0, f"the first BIO_write before any handshake returned {ret} with no peer answer"
        assert call(h, "BIO_should_retry", b), "the first BIO_write returned <= 0 without a retry request"
        if role is Role.CLIENT:
            assert staged.subject.outgoing() > 0, "the client's first BIO_write sent no ClientHello"
        peer_done = False
        for _ in range(ROUNDS):
            staged.move()
            if not peer_done:
                peer_ret = api.SSL_do_handshake(staged.peer.ssl)
                peer_done = peer_ret == 1
                assert peer_done or error(api, staged.peer.ssl, peer_ret) in WANT, \
                    f"the peer's handshake failed: {peer_ret} ({error(api, staged.peer.ssl, peer_ret)})"
            staged.move()
            ret = int(call(h, "BIO_write", b, b"first data"))
            if ret > 0 or not call(h, "BIO_should_retry", b):
                break
        assert ret == 10, f"BIO_write on the SSL BIO did not complete the handshake and write: {ret}"
        staged.move()
        assert api.SSL_read(staged.peer.ssl, 100) == (10, b"first data"), "the peer's read of the data"
    finally:
        call(h, "BIO_free", b)


# --- SSL_clear on a session still open: out of the server's cache --------------------------------------------------

@pytest.mark.clauses("SSL_clear/NOTES/open-session-removed", "SSL_clear/RETURN VALUES/1")
@pytest.mark.states("established", "close-notify-received", "close-notify-sent")
@pytest.mark.needs("tls1_2")
@pytest.mark.parametrize("state", [State.ESTABLISHED, State.CLOSE_NOTIFY_RECEIVED, State.CLOSE_NOTIFY_SENT])
def test_ssl_clear_removes_an_open_session_from_the_cache(h: Harness, state: State) -> None:
    """A TLS 1.2 server without tickets caches its session by id. SSL_clear() while SSL_SENT_SHUTDOWN is not set
    (established, or only the client's close_notify read) counts the session as bad: it leaves the cache. Once
    the server has sent its own close_notify the session is closed and stays."""

    def no_tickets(ctx: Any) -> None:
        h.capi.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET)

    staged = reach(h, state, Role.SERVER, adjust=_tls12, before_new=no_tickets)
    api = staged.api
    cached = sess_number(api, staged.subject.ctx)
    # a server caches its sessions by default (SSL_CTX_set_session_cache_mode: SSL_SESS_CACHE_SERVER), so a stack
    # reporting anything but one session here is wrong, not unobservable
    assert cached == 1, (f"SSL_CTX_sess_number reports {cached} sessions after one full TLS 1.2 handshake with "
                         "tickets off (the default server cache holds it)")
    flags = int(api.SSL_get_shutdown(staged.ssl))
    ret = int(api.SSL_clear(staged.ssl))
    assert ret == 1, f"SSL_clear {state}: {ret} (error entry {error_entry(api)})"
    left = sess_number(api, staged.subject.ctx)
    note(h, f"{state} (SSL_get_shutdown {flags}): sessions cached before SSL_clear 1, after {left}")
    if state is State.CLOSE_NOTIFY_SENT:
        assert left == 1, f"SSL_clear removed a closed session (SSL_SENT_SHUTDOWN set): {left} cached, not 1"
    else:
        assert left == 0, f"SSL_clear kept an open session ({state}) in the cache: {left} cached, not 0"


# --- BIO_reset on the SSL BIO of an established connection --------------------------------------------------------

def _drop_unread(api: Any, ssl: Any) -> None:
    """Drop what the old connection left unread in the SSL's read BIO (a TLS 1.3 client's session tickets): they
    belong to no new connection (an application would have a new transport)."""
    rbio = api.SSL_get_rbio(ssl)
    for _ in range(64):  # bounded: a BIO that reports pending bytes but hands none over must not spin the case
        if int(api.BIO_ctrl_pending(rbio)) <= 0:
            return
        api.BIO_read(rbio, 16384)
    raise AssertionError("the read BIO kept reporting pending bytes that BIO_read did not hand over")


@pytest.mark.clauses("BIO_f_ssl/DESCRIPTION/reset")
@pytest.mark.states("established")
@pytest.mark.parametrize("role", ROLES)
def test_bio_reset_closes_an_established_connection_and_starts_over(h: Harness, role: Role) -> None:
    """The subject's connected SSL in an SSL BIO (BIO_NOCLOSE, no BIO behind it): BIO_reset() shuts the connection
    down with SSL_shutdown() before it resets the SSL, so the session counts as closed and stays (SSL_get_session
    unchanged; an open one would be dropped, SSL_clear.pod), the shutdown state is 0 again, the subject's next
    handshake step starts a new handshake, the bytes it wrote during the reset are a close_notify that its old peer
    reads as the end of the connection, and a handshake with a new peer makes a new connection that carries data."""
    staged = reach(h, State.ESTABLISHED, role)
    api = staged.api
    session = api.SSL_get_session(staged.ssl)
    assert session is not None, f"the established {role.value} has no session"
    half = api.SSL_get_rbio(staged.ssl)
    # What the SSL writes during the reset goes into a memory BIO of its own: the reset is passed on to the SSL's
    # read BIO (no BIO is behind the SSL BIO), its BIO pair half, and a reset pair half drops what was written into
    # it (BIO_s_bio: DESCRIPTION), so the close_notify would be lost before anyone could see it. SSL_set_bio with
    # the same read BIO and a new write BIO takes the one reference to the new one (SSL_set_bio: DESCRIPTION); the
    # SSL_set_bio that puts the pair half back frees it (else SSL_free does).
    wire = api.BIO_new(api.BIO_s_mem())
    assert wire is not None, "BIO_new(BIO_s_mem()) returned NULL"
    api.SSL_set_bio(staged.ssl, half, wire)
    b = call(h, "BIO_new", call(h, "BIO_f_ssl"))
    assert b is not None, "BIO_new(BIO_f_ssl()) returned NULL"
    try:
        assert call(h, "BIO_set_ssl", b, staged.ssl, BIO_NOCLOSE) == 1, "BIO_set_ssl did not return 1"
        # its return value is the one of the reset passed on (here to the SSL's own BIO pair half, whose answer
        # BIO_s_bio.pod does not give): traced, not judged; the SSL's state below is what the page describes
        call(h, "BIO_reset", b)
    finally:
        call(h, "BIO_free", b)
    written = int(api.BIO_ctrl_pending(wire))
    sent = bytes(api.BIO_read(wire, written)[1]) if written > 0 else b""
    api.SSL_set_bio(staged.ssl, half, half)  # the pair half writes again (no reference given); the memory BIO freed
    kept, flags = api.SSL_get_session(staged.ssl), int(api.SSL_get_shutdown(staged.ssl))
    note(h, f"after BIO_reset: session {session} -> {kept}, SSL_get_shutdown -> {flags}, {len(sent)} bytes written "
            f"({_records(sent)})")
    assert kept == session, "after BIO_reset the session was dropped: the connection was not shut down first"
    assert flags == 0, f"SSL_get_shutdown after BIO_reset: {flags}, not 0 (the SSL is not back in its initial state)"
    _drop_unread(api, staged.ssl)
    # back in the initial connect / accept state: the next handshake step starts a new handshake (a client sends
    # a ClientHello, a server waits for one) instead of reporting the old one complete
    ret = int(api.SSL_do_handshake(staged.ssl))
    code = staged.error(ret)
    note(h, f"SSL_do_handshake after BIO_reset -> {ret} ({code}), {staged.subject.outgoing()} bytes out")
    assert ret < 0 and code is SslError.SSL_ERROR_WANT_READ, \
        f"SSL_do_handshake after BIO_reset: {ret} ({code}), not a new handshake waiting for the peer"
    # SSL_shutdown ran: the old peer, given the bytes written during the reset, reads a close_notify (0,
    # SSL_ERROR_ZERO_RETURN, SSL_RECEIVED_SHUTDOWN set), seen on the wire rather than in the subject's own flags
    assert sent, "BIO_reset wrote nothing: no close_notify, SSL_shutdown was not called"
    staged.peer.give(sent)
    got, data = api.SSL_read(staged.peer.ssl, 100)
    peer_code = error(api, staged.peer.ssl, int(got))
    peer_flags = int(api.SSL_get_shutdown(staged.peer.ssl))
    note(h, f"old peer SSL_read of the {len(sent)} bytes -> {got} ({peer_code}), SSL_get_shutdown -> {peer_flags}")
    assert got == 0 and peer_code is SslError.SSL_ERROR_ZERO_RETURN and peer_flags & RECEIVED, (
        f"the bytes BIO_reset wrote ({_records(sent)}) are not a close_notify: the old peer's SSL_read -> {got} "
        f"{bytes(data or b'')[:16]!r} ({peer_code}), SSL_get_shutdown {peer_flags}")
    fresh = Mem(h, Role.SERVER if role is Role.CLIENT else Role.CLIENT)
    client, server = (staged.subject, fresh) if role is Role.CLIENT else (fresh, staged.subject)
    handshake(h, client, server)
    assert api.SSL_write(staged.ssl, b"anew") == 4, "the subject's write on its new connection"
    move(staged.subject, fresh)
    assert api.SSL_read(fresh.ssl, 10) == (4, b"anew"), "the new peer's read"


def _records(data: bytes) -> str:
    """The TLS records in ``data`` as ``type/length`` (for the trace and failure texts; a torn tail is shown)."""
    shown, at = [], 0
    while at + 5 <= len(data):
        length = int.from_bytes(data[at + 3:at + 5], "big")
        shown.append(f"{data[at]}/{length}")
        at += 5 + length
    if at < len(data):
        shown.append(f"{len(data) - at} torn bytes")
    return ", ".join(shown) or "none"


# --- SSL_clear keeps the object's settings --------------------------------------------------------------------------

@pytest.mark.clauses("SSL_clear/DESCRIPTION/keeps-settings", "SSL_clear/DESCRIPTION/ready-for-another-connection")
@pytest.mark.states("after-clear")
@pytest.mark.parametrize("role", ROLES)
def test_settings_survive_ssl_clear(h: Harness, role: Role) -> None:
    """Settings made on the object itself before its first connection (SSL_set_cipher_list, SSL_set_options) and
    its BIOs are the same after the connection was closed both ways and SSL_clear() reset it; a new handshake with
    a new peer uses them (the cipher negotiated in TLS 1.2 is the one the object allowed)."""
    cipher = b"ECDHE-ECDSA-AES128-GCM-SHA256"
    option = K.SSL_OP_NO_TICKET
    staged = reach(h, State.BEFORE_HANDSHAKE, role, adjust=_tls12)
    api = staged.api
    assert api.SSL_set_cipher_list(staged.ssl, cipher) == 1, "SSL_set_cipher_list refused the suite"
    api.SSL_set_options(staged.ssl, option)
    assert int(api.SSL_get_options(staged.ssl)) & option == option, "SSL_set_options did not take"
    rbio, wbio = api.SSL_get_rbio(staged.ssl), api.SSL_get_wbio(staged.ssl)
    client, server = (staged.subject, staged.peer) if role is Role.CLIENT else (staged.peer, staged.subject)
    handshake(h, client, server)
    assert api.SSL_shutdown(staged.ssl) == 0
    staged.move()
    ret, _ = api.SSL_read(staged.peer.ssl, 10)
    assert error(api, staged.peer.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN
    assert api.SSL_shutdown(staged.peer.ssl) == 1
    staged.move()
    ret, _ = api.SSL_read(staged.ssl, 10)
    assert error(api, staged.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN, f"reading the answer: {ret}"
    api.ERR_clear_error()
    assert api.SSL_clear(staged.ssl) == 1, f"SSL_clear after a clean close: error entry {error_entry(api)}"
    kept = int(api.SSL_get_options(staged.ssl)) & option
    after_rbio, after_wbio = api.SSL_get_rbio(staged.ssl), api.SSL_get_wbio(staged.ssl)
    note(h, f"after SSL_clear ({role.value}): option {kept:#x}, rbio {after_rbio}, wbio {after_wbio}")
    assert kept == option, f"SSL_clear lost the option {option:#x}"
    assert after_rbio == rbio and after_wbio == wbio, "SSL_clear changed the object's BIOs"
    fresh = Mem(h, Role.SERVER if role is Role.CLIENT else Role.CLIENT)
    client, server = (staged.subject, fresh) if role is Role.CLIENT else (fresh, staged.subject)
    handshake(h, client, server)
    name = api.SSL_CIPHER_get_name(api.SSL_get_current_cipher(staged.ssl))
    name = name.decode() if isinstance(name, bytes) else str(name)
    note(h, f"the new connection's cipher: {name}")
    assert name == cipher.decode(), f"the new connection negotiated {name}, not the kept cipher list's {cipher!r}"
