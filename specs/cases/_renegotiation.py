"""A TLS 1.2 renegotiation driven the way an application drives one (SSL_key_update.pod: SSL_renegotiate() and
SSL_renegotiate_abbreviated() only schedule it; the next I/O call acts on it). Shared by the cases that claim
SSL_key_update.pod's renegotiation clauses and those that count renegotiations (SSL_CTX_sess_number.pod), and, at
the binding tier, by the cases that only need to know when a renegotiation is over (:class:`RenegotiationEnd`)."""

from __future__ import annotations

from conformance.capi import constants as K
from conformance.harness import Harness, Pair
from conformance.outcome import Outcome, Role
from conformance.stacks.base import Endpoint
from specs.cases._ssl_objects import WANT, Mem, error, handshake, move, pump
from specs.cases._tls12wire import WireTap, change_cipher_specs

__all__ = ["RenegotiationEnd", "link_ccs", "new_handshake_on_link", "renegotiate", "tls12_pair"]


def tls12_pair(h: Harness, server_options: int = K.SSL_OP_ALLOW_CLIENT_RENEGOTIATION) -> tuple[Mem, Mem]:
    """A client limited to TLS 1.2 and a server with ``server_options`` set on its context before its SSL is made
    (by default it lets the client renegotiate), after a completed handshake: (client, server)."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    server = Mem(h, Role.SERVER, before_new=lambda ctx: api.SSL_CTX_set_options(ctx, server_options))
    handshake(h, client, server)
    return client, server


def link_ccs(h: Harness, a: Mem, b: Mem) -> tuple[int, int]:
    """How many ChangeCipherSpec records the pump's link between the C-API endpoints ``a`` and ``b`` carried each
    way so far (its channels are taps, ``specs.cases._ssl_objects.pump``; bytes moved by hand are not seen)."""
    link = pump(h, a, b).link
    c2s, s2c = link.c2s, link.s2c
    assert isinstance(c2s, WireTap) and isinstance(s2c, WireTap), "the pump's link is not tapped"
    return change_cipher_specs(bytes(c2s.seen)), change_cipher_specs(bytes(s2c.seen))


def new_handshake_on_link(h: Harness, a: Mem, b: Mem, before: tuple[int, int]) -> bool:
    """Whether a new TLS 1.2 handshake completed on the link since ``before`` (:func:`link_ccs`): a
    ChangeCipherSpec record each way (see :class:`RenegotiationEnd` for why the flags alone do not tell)."""
    now = link_ccs(h, a, b)
    done = now[0] > before[0] and now[1] > before[1]
    h.trace.note(f"ChangeCipherSpec records on the link, each way: {before} -> {now}: "
                 f"{'a' if done else 'no'} new handshake completed")
    return done


def renegotiate(h: Harness, starter: Mem, other: Mem, rounds: int = 50) -> None:
    """The starter runs SSL_do_handshake once (sending its ClientHello or HelloRequest), then both sides only call
    SSL_read, as an application would, until the renegotiation is no longer pending and nothing moves. The new
    handshake must then show on the link (:func:`new_handshake_on_link`), so a renegotiation the peer declined
    with a warning, after which the starter carried on with its flag clear, does not count as done."""
    api = h.capi
    before = link_ccs(h, starter, other)
    ret = api.SSL_do_handshake(starter.ssl)
    assert ret == 1 or error(api, starter.ssl, ret) in WANT, (ret, error(api, starter.ssl, ret))
    for _ in range(rounds):
        moved = move(starter, other, h)
        for s in (other, starter):
            r, _ = api.SSL_read(s.ssl, 10)
            assert r > 0 or error(api, s.ssl, r) in WANT, (s.label, r, error(api, s.ssl, r))
        moved += move(starter, other, h)
        if not moved and not api.SSL_renegotiate_pending(starter.ssl):
            assert new_handshake_on_link(h, starter, other, before), \
                f"{starter.label}: SSL_renegotiate_pending is 0 and nothing moves, but no new handshake completed " \
                "on the wire (no ChangeCipherSpec record each way since the renegotiation started)"
            return
    raise AssertionError("the renegotiation did not complete")


class RenegotiationEnd:
    """How a binding-tier case that does not judge SSL_renegotiate_pending itself tells that the renegotiation
    ``starter`` starts (Endpoint.renegotiate) is over, asked only while the link is settled (both sides' reads want
    more and nothing moves). Two witnesses, and both must say so (:meth:`over`):

    The starter's word (:meth:`says_over`). Where its stack binds SSL_renegotiate_pending (capability
    ``renegotiation_pending``): the flag is clear. Elsewhere, for a client starter (capability ``renegotiate`` only,
    e.g. nassl): its SSL_do_handshake returns 1, which SSL_do_handshake.pod gives only once the handshake is
    completed; with the link settled the call has no peer bytes to act on, so it adds no progress of its own. A
    client's new handshake cannot complete inside the call that sends its ClientHello (the server's answer is not
    there yet), so that call must want to read: a 1 there would say nothing was started, and the later 1s would
    prove nothing. A server's SSL_do_handshake returns 1 once its HelloRequest is out, before the client's new
    handshake: a server starter needs the flag, and the case is not applicable on a stack without it.

    The wire (:meth:`on_wire`): the pair's link must be tapped (``specs.cases._tls12wire.tapped``), and each
    direction carried a ChangeCipherSpec record since this object was made. TLS 1.2 record headers are in clear
    (RFC 5246 section 6.2.1) and each side sends one in every handshake it completes, full or abbreviated (sections
    7.1, 7.3). Neither word above tells a completed renegotiation from one the peer declined with a warning
    no_renegotiation after which the starter carried on (section 7.2.2 lets it; the page's SSL_renegotiate_pending
    says only "scheduled but not yet acted on"): the wire does."""

    def __init__(self, h: Harness, pair: Pair, starter: Endpoint) -> None:
        self.h = h
        self.pair = pair
        self.starter = starter
        stack = h.client_stack if starter is pair.client else h.server_stack
        self.flag = stack.lacks("renegotiation_pending") is None
        if not self.flag and starter is not pair.client:
            h.need("renegotiation_pending", stacks=(stack,))
        taps = (pair.link.c2s, pair.link.s2c)
        assert isinstance(taps[0], WireTap) and isinstance(taps[1], WireTap), \
            "RenegotiationEnd needs a pair on a tapped link (specs.cases._tls12wire.tapped)"
        self.taps: tuple[WireTap, WireTap] = (taps[0], taps[1])
        self.before = self._ccs()

    def _ccs(self) -> tuple[int, int]:
        return change_cipher_specs(bytes(self.taps[0].seen)), change_cipher_specs(bytes(self.taps[1].seen))

    def started(self, out: Outcome) -> None:
        """Check what the starter's Endpoint.renegotiate returned: the renegotiation is under way."""
        if self.flag:
            assert out.ok or out.retry, f"{self.starter.label} could not start a renegotiation: {out}"
        else:
            assert out.retry, f"{self.starter.label}: SSL_do_handshake after SSL_renegotiate returned {out}, not a " \
                "wish to read the server's answer to a new ClientHello (was a renegotiation started?)"

    def says_over(self) -> bool:
        """The starter's word that the renegotiation is over (call it with the link settled)."""
        if self.flag:
            return not self.starter.renegotiation_pending()
        got = self.pair.call(self.starter, lambda e: e.do_handshake())
        assert got.ok or got.retry, f"{self.starter.label}: SSL_do_handshake during the renegotiation: {got}"
        return got.ok

    def on_wire(self) -> bool:
        """Whether both directions carried a ChangeCipherSpec record since the start: a new handshake completed."""
        now = self._ccs()
        done = now[0] > self.before[0] and now[1] > self.before[1]
        self.h.trace.note(f"ChangeCipherSpec records client->server {self.before[0]} -> {now[0]}, server->client "
                          f"{self.before[1]} -> {now[1]}: {'a' if done else 'no'} new handshake completed on the wire")
        return done

    def over(self) -> bool:
        """Whether the renegotiation is over: the starter says so and the wire shows the new handshake."""
        return self.says_over() and self.on_wire()
