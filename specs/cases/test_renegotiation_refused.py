"""Renegotiation refused, from each of the three places it can be refused on a TLS 1.2 connection:

- by the caller's own SSL_OP_NO_RENEGOTIATION: SSL_renegotiate() / SSL_renegotiate_abbreviated() return 0 with a
  reason on the error queue and schedule nothing (C API: the return value and the queue entry's library and reason
  codes are only visible there);
- by the peer, as the declining side: the stack under test holds SSL_OP_NO_RENEGOTIATION (or, as a server, lacks
  SSL_OP_ALLOW_CLIENT_RENEGOTIATION) and the engine's TLS core asks it to renegotiate. The core holds the keys, so
  it reads the alert the stack answers with, warning or fatal (RFC 5246 section 7.2.2);
- by the peer, as the requesting side: the stack starts a renegotiation and the core declines it with a warning
  no_renegotiation; the stack's I/O call that reads it fails, and the core reads the alert the stack sends.

The last two go through the normalised endpoint (Endpoint.renegotiate / read / set_options), so they run on every
stack with TLS 1.2 renegotiation, bindings included; on a C-API stack they also read the queue entry's codes. So does
the binding tier of the first: the refused call's outcome (its reason, the queue's, where the stack has an error
queue; its 0 where the stack shows C return values), nothing written, data still flowing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness, Pair
from conformance.outcome import Outcome, Role, SslError
from conformance.stacks.base import Endpoint, EndpointConfig
from engine.tls.alerts import AlertDescription as A
from engine.tls.alerts import AlertLevel
from engine.tls.misbehave import Misbehaviour
from specs.cases._misbehaving import MisbehavingPeer, alert_name, pair_with_misbehaving_peer
from specs.cases._ssl_objects import Mem, handshake, move, note
from specs.cases._wire import assert_fatal, words

NO_RENEG = K.SSL_OP_NO_RENEGOTIATION
ALLOW = K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION
TLS12_ONLY: dict[str, Any] = {"supported_versions": (0x0303,)}
NO_RENEGOTIATION_WARNING = (int(AlertLevel.WARNING), int(A.no_renegotiation))


def _codes(api: Any, code: int) -> tuple[int, int]:
    return (int(api.ERR_GET_LIB(code)), int(api.ERR_GET_REASON(code))) if code else (0, 0)


# ---- the caller's own option (C API) ------------------------------------------------------------------------------


@pytest.mark.needs("c_api", "client_role", "server_role", "tls1_2", "renegotiation")
@pytest.mark.clauses("SSL_key_update/RETURN VALUES/0-no-renegotiation", "SSL_key_update/RETURN VALUES/0",
                     "SSL_key_update/RETURN VALUES/1", "SSL_CTX_set_options/NOTES/no-renegotiation")
@pytest.mark.states("established")
@pytest.mark.parametrize("where", ["none", "SSL_CTX", "SSL"])
@pytest.mark.parametrize("fn", ["SSL_renegotiate", "SSL_renegotiate_abbreviated"])
@pytest.mark.parametrize("role", ["client", "server"])
def test_renegotiate_with_the_ssls_own_no_renegotiation(h: Harness, role: str, fn: str, where: str) -> None:
    """After a TLS 1.2 handshake, ``role`` calls ``fn`` while its SSL holds SSL_OP_NO_RENEGOTIATION, set with
    SSL_CTX_set_options on its context before SSL_new (``SSL_CTX``) or with SSL_set_options on the SSL (``SSL``):
    0, the first entry on the error queue is ERR_LIB_SSL / SSL_R_NO_RENEGOTIATION (the clause asks for an entry,
    not for it alone: whatever follows it is only logged), SSL_renegotiate_pending 0, and the next
    SSL_do_handshake writes nothing; the connection still carries data. Without the option (``none``, the
    control) the same call returns 1 and a renegotiation is pending."""
    api = h.capi
    mine = Role.CLIENT if role == "client" else Role.SERVER

    def ctx_options(side: Role) -> Callable[[Any], object]:
        bits = (NO_RENEG if where == "SSL_CTX" and side is mine else 0) | (ALLOW if side is Role.SERVER else 0)
        return lambda ctx: api.SSL_CTX_set_options(ctx, bits)

    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"), before_new=ctx_options(Role.CLIENT))
    server = Mem(h, Role.SERVER, before_new=ctx_options(Role.SERVER))
    side = client if mine is Role.CLIENT else server
    if where == "SSL":
        api.SSL_set_options(side.ssl, NO_RENEG)
    handshake(h, client, server)
    held = api.SSL_get_options(side.ssl) & NO_RENEG
    assert bool(held) == (where != "none"), f"SSL_get_options & SSL_OP_NO_RENEGOTIATION = {held:#x} ({where})"
    api.ERR_clear_error()
    ret = int(getattr(api, fn)(side.ssl))
    first = int(api.ERR_get_error())
    more = int(api.ERR_peek_error())
    pending = int(api.SSL_renegotiate_pending(side.ssl))
    hs = int(api.SSL_do_handshake(side.ssl))
    api.ERR_clear_error()
    sent = side.take()
    note(h, f"{side.label}: option on {where}: {fn} -> {ret}, queue {_codes(api, first)} then {more:#x}, "
            f"pending {pending}; SSL_do_handshake -> {hs}, {len(sent)} bytes written")
    if where == "none":
        assert ret == 1 and pending == 1, f"without the option {fn} -> {ret}, SSL_renegotiate_pending {pending}"
        return
    assert ret == 0, f"{fn} on an SSL with SSL_OP_NO_RENEGOTIATION (on its {where}) returned {ret}, not 0"
    assert _codes(api, first) == (K.ERR_LIB_SSL, K.SSL_R_NO_RENEGOTIATION), \
        f"{fn} returned 0; the queue's entry is {first:#x} = (library, reason) {_codes(api, first)}, not " \
        f"(ERR_LIB_SSL {K.ERR_LIB_SSL}, SSL_R_NO_RENEGOTIATION {K.SSL_R_NO_RENEGOTIATION})"
    assert pending == 0, f"{fn} returned 0 yet SSL_renegotiate_pending -> {pending}"
    assert not sent, f"{fn} returned 0, yet SSL_do_handshake wrote {len(sent)} bytes (a renegotiation)"
    assert api.SSL_write(client.ssl, b"after") == 5
    move(client, server)
    got = api.SSL_read(server.ssl, 10)
    assert got == (5, b"after"), f"after the refused {fn} the server read {got}"


# ---- the caller's own option, through the endpoint (every stack that can renegotiate) ------------------------------


@pytest.mark.needs("tls1_2", "renegotiate")
@pytest.mark.clauses("SSL_key_update/RETURN VALUES/0-no-renegotiation", "SSL_CTX_set_options/NOTES/no-renegotiation")
@pytest.mark.states("established")
@pytest.mark.parametrize("where", ["none", "context", "connection"])
@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER], ids=["stack-client", "stack-server"])
def test_binding_renegotiate_with_its_own_no_renegotiation(h: Harness, role: Role, where: str) -> None:
    """Through the endpoint, against the engine's TLS core, after a TLS 1.2 handshake the stack asks for a
    renegotiation (Endpoint.renegotiate: SSL_renegotiate, then the call that starts it) while it holds
    SSL_OP_NO_RENEGOTIATION, set on its context before the handshake (``context``, EndpointConfig.options) or on
    the connection after it (``connection``, Endpoint.set_options). The request is refused: the outcome is a failed
    SSL_renegotiate, not a retry, with ret 0 where the stack shows C return values and the reason no_renegotiation
    where it has an error queue; no renegotiation is pending (where observable); the stack writes nothing, also
    at its next read; data still flows both ways. Without the option (``none``, the control) the request is
    taken: the call succeeds or wants to read, and the renegotiation's first message is written."""
    if where == "context":
        h.need("ssl_options", stacks=(h.stack,))
    elif where == "connection":
        h.need("connection_options", stacks=(h.stack,))
    config = EndpointConfig(role=role, verify_peer=role is Role.CLIENT,
                            options=("SSL_OP_NO_RENEGOTIATION",) if where == "context" else ())
    if role is Role.CLIENT:
        config = config.with_(max_version="TLSv1.2")
    pair, stack, peer = pair_with_misbehaving_peer(h, role, Misbehaviour(), config, tls=TLS12_ONLY)
    pair.handshake()
    if where == "connection":
        mask = stack.set_options(("SSL_OP_NO_RENEGOTIATION",))
        note(h, f"{stack.label}: SSL_set_options(SSL_OP_NO_RENEGOTIATION) after the handshake -> {mask}")
    out = pair.call(stack, lambda e: e.renegotiate())
    written = stack.outgoing_pending()
    note(h, f"{stack.label}: option {where}: renegotiate -> {out}; {written} bytes written")
    if where == "none":
        assert out.ok or out.retry, f"without the option {stack.label}'s renegotiation request failed: {out}"
        assert written, f"without the option {stack.label} took the request ({out}) yet wrote nothing"
        return
    assert not out.ok and not out.retry, \
        f"{stack.label} holds SSL_OP_NO_RENEGOTIATION ({where}), yet its renegotiation request was taken: {out}"
    assert out.op == "SSL_renegotiate" and out.error is SslError.SSL_ERROR_SSL, \
        f"the refused request is reported as {out}, not a failed SSL_renegotiate"
    if h.has("raw_return_values"):
        assert out.ret == 0, f"SSL_renegotiate under SSL_OP_NO_RENEGOTIATION returned {out.ret}, not 0"
    if h.has("error_queue"):
        assert "no renegotiation" in words(out.reason), \
            f"SSL_renegotiate was refused with the queue's reason {out.reason!r}, not no_renegotiation"
    if h.has("renegotiation_pending"):
        assert not stack.renegotiation_pending(), "SSL_renegotiate was refused, yet a renegotiation is pending"
    assert not written, f"SSL_renegotiate was refused, yet {stack.label} wrote {written} bytes"
    nxt = pair.call(stack, lambda e: e.read(100))
    written = stack.outgoing_pending()
    assert nxt.retry and not written, \
        f"after the refusal {stack.label}'s read (nothing to read) -> {nxt}, {written} bytes written (a " \
        "renegotiation it should not have scheduled)"
    pair.call(stack, lambda e: e.write(b"after"))
    pair.settle()
    got = pair.call(peer, lambda e: e.read(100))
    assert got.data == b"after", f"after the refused renegotiation the core read {got}"
    pair.call(peer, lambda e: e.write(b"back"))
    pair.settle()
    back = pair.call(stack, lambda e: e.read(100))
    assert back.data == b"back", f"after the refused renegotiation {stack.label} read {back}"


# ---- the stack declines (it is asked by the engine's core) --------------------------------------------------------

# cause -> (role of the stack, its context's options, SSL_set_options after the handshake, refused)
DECLINES: dict[str, tuple[Role, tuple[str, ...], bool, bool]] = {
    "server-default": (Role.SERVER, (), False, True),
    "server-NO_RENEGOTIATION-on-SSL_CTX": (
        Role.SERVER, ("SSL_OP_ALLOW_CLIENT_RENEGOTIATION", "SSL_OP_NO_RENEGOTIATION"), False, True),
    "server-NO_RENEGOTIATION-on-SSL": (Role.SERVER, ("SSL_OP_ALLOW_CLIENT_RENEGOTIATION",), True, True),
    "server-allowed": (Role.SERVER, ("SSL_OP_ALLOW_CLIENT_RENEGOTIATION",), False, False),
    "client-NO_RENEGOTIATION-on-SSL_CTX": (Role.CLIENT, ("SSL_OP_NO_RENEGOTIATION",), False, True),
    "client-NO_RENEGOTIATION-on-SSL": (Role.CLIENT, (), True, True),
    "client-allowed": (Role.CLIENT, (), False, False),
}


def _exchange(pair: Pair, stack: Endpoint, peer: MisbehavingPeer, rounds: int = 20) -> Outcome | None:
    """Both sides read, the link moved between calls, until nothing moves; the stack's failed read, if any (the
    core then reads once more, for the alert the stack sent with its failure)."""
    for _ in range(rounds):
        pair.settle()
        got = pair.call(stack, lambda e: e.read(100))
        if not got.ok and not got.retry:
            pair.settle()
            pair.call(peer, lambda e: e.read(100))
            return got
        pair.settle()
        pair.call(peer, lambda e: e.read(100))
        if peer.error is not None or not pair.settle():
            break
    return None


def _declined(h: Harness, cause: str, role: Role, pair: Pair, stack: Endpoint, peer: MisbehavingPeer,
              failed: Outcome | None, renegotiated: bool) -> None:
    """RFC 5246 section 7.2.2 on the declining stack: no fatal alert, no failed read, no renegotiation; the alerts
    it answered with are one warning no_renegotiation (or, for a client, none); data still flows both ways."""
    assert peer.received_alert is None and failed is None, \
        f"{cause}: declining the renegotiation, the stack sent the fatal alert {alert_name(peer.received_alert)} " \
        f"/ its read failed: {failed}"
    assert not renegotiated, f"{cause}: the stack renegotiated although it should decline"
    allowed = [[NO_RENEGOTIATION_WARNING]] + ([[]] if role is Role.CLIENT else [])
    assert peer.warnings in allowed, \
        f"{cause}: the stack answered the request with the alerts (level, description) {peer.warnings}, not " \
        f"{' or '.join(map(str, allowed))} (a warning no_renegotiation)"
    wrote = pair.call(stack, lambda e: e.write(b"from the stack"))
    assert wrote.ok, f"{cause}: after declining, the stack's write failed: {wrote}"
    pair.settle()
    got = pair.call(peer, lambda e: e.read(100))
    assert got.data == b"from the stack", f"{cause}: after the refusal the core read {got}"
    pair.call(peer, lambda e: e.write(b"from the core"))
    pair.settle()
    back = pair.call(stack, lambda e: e.read(100))
    assert back.data == b"from the core", f"{cause}: after the refusal the stack read {back}"
    if h.has("renegotiation_pending"):
        # SSL_key_update.pod: SSL_renegotiate_pending is 1 only for a renegotiation (request) scheduled and not yet
        # acted on, 0 otherwise; the declining stack scheduled none and the request it declined is over
        pending = stack.renegotiation_pending()
        note(h, f"{cause}: after declining, SSL_renegotiate_pending -> {int(pending)}")
        assert not pending, f"{cause}: the stack declined the renegotiation, yet SSL_renegotiate_pending is 1 " \
            "(nothing is scheduled on it and no new handshake is under way)"


@pytest.mark.needs("client_role", "server_role", "tls1_2", "renegotiation", "ssl_options")
@pytest.mark.clauses("RFC5246/7.2.2/no-renegotiation-warning", "SSL_key_update/DESCRIPTION/renegotiate-pending")
@pytest.mark.states("established")
@pytest.mark.parametrize("cause", list(DECLINES))
def test_a_declined_renegotiation_is_answered_with_a_warning(h: Harness, cause: str) -> None:
    """After a TLS 1.2 handshake the engine's core asks the stack to renegotiate (as a client, a new ClientHello;
    as a server, a HelloRequest). The stack, declining (``cause``), sends no fatal alert and does not fail; a
    declining server answers with a warning no_renegotiation, a declining client with that warning or nothing;
    afterwards the stack still writes data the core reads and reads data the core writes, and (where it binds
    SSL_renegotiate_pending) reports no renegotiation pending. In the ``allowed`` controls the renegotiation
    completes instead."""
    role, options, on_ssl, refused = DECLINES[cause]
    if on_ssl:
        h.need("connection_options")
    config = EndpointConfig(role=role, verify_peer=role is Role.CLIENT, options=options)
    if role is Role.CLIENT:
        config = config.with_(max_version="TLSv1.2")
    pair, stack, peer = pair_with_misbehaving_peer(h, role, Misbehaviour(), config, tls=TLS12_ONLY)
    pair.handshake()
    if on_ssl:
        mask = stack.set_options(("SSL_OP_NO_RENEGOTIATION",))
        note(h, f"{stack.label}: SSL_set_options(SSL_OP_NO_RENEGOTIATION) after the handshake -> {mask}")
    peer.request_renegotiation()
    failed = _exchange(pair, stack, peer)
    renegotiated = any(getattr(c, "renegotiation", False) for c in peer.completed)
    note(h, f"{cause}: the stack's read {'failed: ' + str(failed) if failed else 'did not fail'}; the core read "
            f"warnings {peer.warnings}, fatal {alert_name(peer.received_alert)}; renegotiation completed: "
            f"{renegotiated}")
    if not refused:
        assert renegotiated and failed is None and peer.error is None, \
            f"{cause}: the renegotiation did not complete (stack {failed}, core {peer.error}, warnings " \
            f"{peer.warnings})"
        if h.has("renegotiation_pending"):
            assert not stack.renegotiation_pending(), \
                f"{cause}: the renegotiation completed, yet the stack's SSL_renegotiate_pending is 1"
        return
    _declined(h, cause, role, pair, stack, peer, failed, renegotiated)


@pytest.mark.needs("tls1_2")
@pytest.mark.clauses("RFC5246/7.2.2/no-renegotiation-warning", "SSL_key_update/DESCRIPTION/renegotiate-pending")
@pytest.mark.states("established")
@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER], ids=["stack-client", "stack-server"])
def test_a_stack_declining_by_default_answers_with_at_most_a_warning(h: Harness, role: Role) -> None:
    """The stack as it comes, no option set: after a TLS 1.2 handshake the engine's core asks it to renegotiate (a
    HelloRequest to the stack's client, a new ClientHello to its server). A stack that declines (many do by
    default) sends no fatal alert and keeps carrying data both ways; the alert it answers with is a warning
    no_renegotiation (a client may also send nothing, section 7.4.1.1), and where it binds SSL_renegotiate_pending
    it reports nothing pending. A stack that carries out the renegotiation
    has not declined: the case is not applicable to it (those with an option to decline are checked by
    test_a_declined_renegotiation_is_answered_with_a_warning)."""
    h.need("client_role" if role is Role.CLIENT else "server_role", stacks=(h.stack,))
    config = EndpointConfig(role=role, verify_peer=role is Role.CLIENT)
    if role is Role.CLIENT:
        config = config.with_(max_version="TLSv1.2")
    pair, stack, peer = pair_with_misbehaving_peer(h, role, Misbehaviour(), config, tls=TLS12_ONLY)
    pair.handshake()
    if not peer.conn.secure_renegotiation:
        h.not_applicable(f"the stack's {role.value} does not take part in secure renegotiation (RFC 5746: no "
                         "renegotiation_info in its hello), so its peer may not renegotiate with it")
    peer.request_renegotiation()
    failed = _exchange(pair, stack, peer)
    renegotiated = any(getattr(c, "renegotiation", False) for c in peer.completed)
    note(h, f"the stack's read {'failed: ' + str(failed) if failed else 'did not fail'}; the core read warnings "
            f"{peer.warnings}, fatal {alert_name(peer.received_alert)}; renegotiation completed: {renegotiated}")
    if renegotiated and failed is None and peer.error is None:
        h.not_applicable(f"the stack's {role.value} carries out a renegotiation its peer asks for (it does not "
                         "decline by default)")
    _declined(h, f"{role.value}-as-it-comes", role, pair, stack, peer, failed, renegotiated)


# ---- the stack asks, the engine's core declines -------------------------------------------------------------------


@pytest.mark.needs("client_role", "server_role", "tls1_2", "renegotiation", "error_codes")
@pytest.mark.clauses("SSL_key_update/DESCRIPTION/refused-renegotiation-error",
                     "SSL_key_update/DESCRIPTION/no-renegotiation-alert-fails")
@pytest.mark.states("established")
@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER], ids=["stack-client", "stack-server"])
def test_a_renegotiation_the_peer_declines_fails_the_requester(h: Harness, role: Role) -> None:
    """After a TLS 1.2 handshake the stack starts a renegotiation (SSL_renegotiate, then its next I/O call) and the
    engine's core declines it with a warning no_renegotiation. The stack's read that meets the alert fails:
    SSL_ERROR_SSL (return <= 0 where visible), the reason no_renegotiation where the stack has an error queue
    (ERR_LIB_SSL / SSL_R_NO_RENEGOTIATION on a C-API stack), and it sends a fatal handshake_failure."""
    config = EndpointConfig(role=role, verify_peer=role is Role.CLIENT)
    if role is Role.CLIENT:
        config = config.with_(max_version="TLSv1.2")
    pair, stack, peer = pair_with_misbehaving_peer(h, role, Misbehaviour(), config,
                                                   tls={**TLS12_ONLY, "allow_renegotiation": False})
    pair.handshake()
    api = h.capi if h.has("c_api") else None
    if api is not None:
        api.ERR_clear_error()
    started = pair.call(stack, lambda e: e.renegotiate())
    assert started.ok or started.retry, f"{stack.label} could not start a renegotiation: {started}"
    failed = _exchange(pair, stack, peer)
    code = int(api.ERR_peek_error()) if api is not None else 0
    note(h, f"the core declined with a warning no_renegotiation (warnings the stack sent it: {peer.warnings}); "
            f"the stack: {failed}; queue {_codes(api, code) if api is not None else 'n/a'}; the core then read the "
            f"fatal alert {alert_name(peer.received_alert)}")
    out = assert_fatal(failed, h.stack, f"{stack.label}'s read after its renegotiation was declined")
    if h.has("error_queue"):
        assert "no renegotiation" in words(out.reason), \
            f"the declined renegotiation failed with the reason {out.reason!r}, not no_renegotiation"
    if api is not None:
        assert _codes(api, code) == (K.ERR_LIB_SSL, K.SSL_R_NO_RENEGOTIATION), \
            f"the queue's first entry is {code:#x} = (library, reason) {_codes(api, code)}, not " \
            f"(ERR_LIB_SSL {K.ERR_LIB_SSL}, SSL_R_NO_RENEGOTIATION {K.SSL_R_NO_RENEGOTIATION})"
    assert peer.received_alert == A.handshake_failure, \
        f"failing the connection, the stack sent {alert_name(peer.received_alert)}, not a fatal handshake_failure"
