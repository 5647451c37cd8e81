"""Helpers for the C-API cases of the SSL object pages (lifecycle, shutdown, BIOs, modes): SSL objects on BIO pairs
that the case builds itself (so it can configure the context before SSL_new), bytes moved by the harness's link
(traced), handshakes driven by the harness's pump (a deadlock is a *hang*, not an assertion), and the set-ups the
cases repeat: a NULL return with an error-queue entry, a corrupted record, a handshake stopped at a chosen point,
and SSL / SSL_CTX / BIO handles freed by ``with`` blocks.

The SSL object of a case is a :class:`~conformance.stacks.capi_endpoint.CApiEndpoint`, the same object the stacks'
endpoints are; :func:`ssl_endpoint` (alias :class:`Mem`) makes one for a case and registers it with the harness."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Outcome, Role, SslError, error_code
from conformance.pump import Goal, Pump
from conformance.stacks.base import Endpoint, EndpointConfig
from conformance.stacks.capi_endpoint import CApiEndpoint, as_capi_endpoint, new_context
from conformance.trace import Trace
from specs.cases._tls12wire import tapped

WANT = (SslError.SSL_ERROR_WANT_READ, SslError.SSL_ERROR_WANT_WRITE)
SSL_CTRL_SESS_NUMBER = 20
SSL_CTRL_GET_MAX_CERT_LIST = 50
SSL_CTRL_SET_MAX_CERT_LIST = 51


def note(h: Harness, text: str) -> None:
    h.trace.note(text)


class Mem(CApiEndpoint):
    """An SSL object of the stack under test made by a case (see :func:`ssl_endpoint`): a
    :class:`~conformance.stacks.capi_endpoint.CApiEndpoint` with the case's defaults, nothing more."""

    def __init__(self, h: Harness, role: Role, *, adjust: Callable[[EndpointConfig], EndpointConfig] | None = None,
                 before_new: Callable[[Any], object] | None = None, ctx: Any = None, set_role: bool = True,
                 host_check: bool = False) -> None:
        h.need("c_api", stacks=(h.stack,))
        config = EndpointConfig(role=role, verify_peer=role is Role.CLIENT)
        if adjust is not None:
            config = adjust(config)
        if ctx is None:
            ctx = new_context(h.capi, config)
        super().__init__(getattr(h.stack, "capi"), config, f"{role.value}({h.stack.name})",  # noqa: B009
                         ctx=ctx, before_new=before_new, set_role=set_role, host_check=host_check)
        self.attach_trace(h.trace)
        h.endpoints.append(self)


def ssl_endpoint(h: Harness, role: Role, *, adjust: Callable[[EndpointConfig], EndpointConfig] | None = None,
                 before_new: Callable[[Any], object] | None = None, ctx: Any = None, set_role: bool = True,
                 host_check: bool = False) -> Mem:
    """One SSL object of the stack under test in ``role`` on the internal half of its own BIO pair (``net`` is the
    half the case or the link reads and writes), registered with the harness so it is freed at the end of the case
    (a case that frees ``ssl`` / ``ctx`` / ``net`` itself sets the attribute to None).

    ``adjust`` changes the default configuration; ``before_new(ctx)`` runs before SSL_new; ``ctx`` is an SSL_CTX the
    case made and hands over; ``set_role=False`` leaves the SSL in neither state; ``host_check`` makes a client
    call SSL_set1_host (off by default: most cases check other things than the host name)."""
    return Mem(h, role, adjust=adjust, before_new=before_new, ctx=ctx, set_role=set_role, host_check=host_check)


# --- moving bytes and driving: the harness's link and pump -----------------------------------------------------

# One pump per pair of endpoints (keyed by their ids; the pump itself is checked to hold exactly these two, so a
# reused id never finds a stale one). Cases run one per process, so the table lives as long as the case.
_PUMPS: dict[tuple[int, int], Pump] = {}


def pump(h: Harness, a: CApiEndpoint, b: CApiEndpoint) -> Pump:
    """The harness's pump between ``a`` and ``b`` over a whole link (one per pair of endpoints, whichever order
    they are named in, so bytes in flight keep their order); every call and link move goes to the case's trace.
    The link's channels are :class:`specs.cases._tls12wire.WireTap` s: a case may count the records they carried."""
    return _pump_for(h.trace, a, b)


def _pump_for(trace: Trace, a: CApiEndpoint, b: CApiEndpoint) -> Pump:
    for first, second in ((a, b), (b, a)):
        found = _PUMPS.get((id(first), id(second)))
        if found is not None and found.client is first and found.server is second:
            return found
    made = Pump(a, b, tapped()[0], trace)  # a whole link that keeps what it carried (records a case may read)
    _PUMPS[(id(a), id(b))] = made
    return made


def move(a: CApiEndpoint, b: CApiEndpoint, h: Harness | None = None) -> int:
    """Carry every byte waiting in either direction over the link between ``a`` and ``b`` (traced); returns how
    many moved. Every byte must be taken by the receiving BIO pair."""
    trace = h.trace if h is not None else a.trace or b.trace
    if trace is None:  # neither endpoint belongs to a case: move by hand, untraced
        ab, ba = a.take(), b.take()
        b.give(ab)
        a.give(ba)
        return len(ab) + len(ba)
    p = _pump_for(trace, a, b)
    before = p.link.c2s.delivered + p.link.s2c.delivered
    p.settle()
    for channel in (p.link.c2s, p.link.s2c):
        assert not channel.in_flight, "the BIO pair did not take all bytes"
    return p.link.c2s.delivered + p.link.s2c.delivered - before


def error(api: Any, ssl: Any, ret: int) -> SslError | int:
    """SSL_get_error's answer for ``ret``, as an :class:`SslError` where it is one."""
    return error_code(api.SSL_get_error(ssl, ret))


class _HandshakeFailed(Exception):
    def __init__(self, side: str, outcome: Outcome) -> None:
        super().__init__(side, outcome)
        self.side = side
        self.outcome = outcome


def attempt_handshake(h: Harness, client: CApiEndpoint, server: CApiEndpoint, rounds: int | None = None
                      ) -> tuple[str, Outcome] | None:
    """SSL_do_handshake on both (error queue cleared before each call) until both return 1, the harness's pump
    moving bytes in between (traced; no progress is a *hang*). None when both completed, else ``(side, outcome)``
    of the first call that failed (neither 1 nor a retry); the handshake stops there."""

    def goal(name: str) -> Goal:
        def step(e: Endpoint) -> Outcome:
            out = as_capi_endpoint(e).handshake_with("SSL_do_handshake")
            if out.ret != 1 and not out.retry:
                h.trace.call(e.label, out)
                raise _HandshakeFailed(name, out)
            return out

        return step

    try:
        _pump_for(h.trace, client, server).drive(goal("client"), goal("server"), budget=rounds)
    except _HandshakeFailed as failed:
        note(h, f"{failed.side} handshake failed: {failed.outcome}")
        return failed.side, failed.outcome
    return None


def handshake(h: Harness, client: CApiEndpoint, server: CApiEndpoint, rounds: int | None = None) -> None:
    """:func:`attempt_handshake` that must complete: a side whose SSL_do_handshake fails is an AssertionError
    naming the call and SSL_get_error's code."""
    failed = attempt_handshake(h, client, server, rounds)
    if failed is not None:
        side, out = failed
        raise AssertionError(f"{side} SSL_do_handshake -> {out.ret}, SSL_get_error {out.error}")
    note(h, "handshake complete")


def run(h: Harness, side: CApiEndpoint, peer: CApiEndpoint, fn: Callable[[], Any], rounds: int | None = None) -> Any:
    """Repeat ``fn`` (a raw call on ``side``, returning the C return value first) while SSL_get_error asks for a
    retry, the link moving bytes in between; returns the last result. No progress is a *hang*."""
    last: list[Any] = [None]

    def goal(e: Endpoint) -> Outcome:
        endpoint = as_capi_endpoint(e)
        endpoint.api.ERR_clear_error()
        result = fn()
        last[0] = result
        ret = int(result[0] if isinstance(result, tuple) else result)
        if ret > 0:
            return Outcome(getattr(fn, "__name__", "call"), ret, SslError.SSL_ERROR_NONE)
        return Outcome(getattr(fn, "__name__", "call"), ret, error(endpoint.api, endpoint.ssl, ret))

    p = _pump_for(h.trace, side, peer)
    if p.client is side:
        p.drive(client=goal, budget=rounds)
    else:
        p.drive(server=goal, budget=rounds)
    return last[0]


# --- the set-ups cases repeat -----------------------------------------------------------------------------------

def null_with_error(h: Harness, name: str, *args: Any) -> int:
    """Call ``name(*args)`` with an empty error queue: it must return NULL and leave a reason on the queue (the
    pages' "NULL ... and the error queue says why"); returns the first code."""
    api = h.capi
    api.ERR_clear_error()
    result = getattr(api, name)(*args)
    shown = ", ".join("NULL" if a is None else type(a).__name__ if not isinstance(a, (int, bytes, str)) else repr(a)
                      for a in args)
    assert result is None, f"{name}({shown}) must return NULL, returned {result!r}"
    code = int(api.ERR_peek_error())
    note(h, f"{name}({shown}) -> NULL, ERR_peek_error -> {code:#x}")
    assert code != 0, "a NULL return must leave the reason on the error queue"
    return code


def corrupt_record(h: Harness, sender: CApiEndpoint, receiver: CApiEndpoint, data: bytes = b"to be corrupted",
                   at: int = -3) -> bytes:
    """``sender`` writes ``data`` in one record; one byte of its ciphertext (``at``, counted from the start of what
    was sent; default: inside the AEAD tag) is flipped on the way to ``receiver``, which has not read it yet.
    Returns the corrupted bytes."""
    api = h.capi
    assert api.SSL_write(sender.ssl, data) > 0, "the write of the record to corrupt failed"
    record = bytearray(sender.take())
    record[at] ^= 0x01
    note(h, f"corrupted byte {at} of the {len(record)} bytes {sender.label} sent")
    receiver.give(bytes(record))
    return bytes(record)


STOP_POINTS = ("client-hello-sent", "client-hello-received", "server-flight-received")


def handshake_until(h: Harness, client: CApiEndpoint, server: CApiEndpoint, stop: str) -> None:
    """Run the handshake up to ``stop`` and leave it there:

    * ``client-hello-sent``: the client called SSL_do_handshake once; its ClientHello waits in its BIO pair;
    * ``client-hello-received``: ... and the link carried it to the server, which has not read it;
    * ``server-flight-received``: ... the server answered (one SSL_do_handshake) and the link carried its flight to
      the client, which has not read it.
    """
    if stop not in STOP_POINTS:
        raise ValueError(f"stop must be one of {', '.join(STOP_POINTS)}, not {stop!r}")
    api = h.capi
    api.ERR_clear_error()
    ret = api.SSL_do_handshake(client.ssl)
    note(h, f"client SSL_do_handshake -> {ret}")
    if stop == "client-hello-sent":
        return
    move(client, server, h)
    if stop == "client-hello-received":
        return
    api.ERR_clear_error()
    ret = api.SSL_do_handshake(server.ssl)
    note(h, f"server SSL_do_handshake -> {ret}")
    move(client, server, h)


# --- handles freed by ``with`` ----------------------------------------------------------------------------------

@contextmanager
def ssl_ctx(h: Harness, method: Any = None) -> Iterator[Any]:
    """An SSL_CTX (``method``: default TLS_method()) freed with SSL_CTX_free when the block ends; NULL fails."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method() if method is None else method)
    assert ctx is not None, "SSL_CTX_new returned NULL"
    try:
        yield ctx
    finally:
        api.SSL_CTX_free(ctx)


@contextmanager
def ssl_obj(h: Harness, ctx: Any) -> Iterator[Any]:
    """An SSL made from ``ctx``, freed with SSL_free when the block ends; NULL fails."""
    api = h.capi
    ssl = api.SSL_new(ctx)
    assert ssl is not None, "SSL_new returned NULL"
    try:
        yield ssl
    finally:
        api.SSL_free(ssl)


@contextmanager
def bio(h: Harness, method: Any = None) -> Iterator[Any]:
    """A BIO (``method``: default BIO_s_mem()) freed with BIO_free when the block ends; NULL fails."""
    api = h.capi
    b = api.BIO_new(api.BIO_s_mem() if method is None else method)
    assert b is not None, "BIO_new returned NULL"
    try:
        yield b
    finally:
        api.BIO_free(b)


def paired(api: Any, partner: Any) -> bool:
    """Whether the BIO pair half ``partner`` still has its other half: a released other half unpairs it, so a
    one-byte write is no longer accepted."""
    return bool(api.BIO_write(partner, b"\0") == 1)


def version(api: Any, ssl: Any) -> str | None:
    text = api.SSL_get_version(ssl)
    return str(text.decode() if isinstance(text, bytes) else text) if text else None


def sess_number(api: Any, ctx: Any) -> int:
    return int(api.SSL_CTX_sess_number(ctx))  # the page's macro (a function where the library's header has one)


def session_reused(api: Any, ssl: Any) -> int:
    return int(api.SSL_session_reused(ssl))


def full_shutdown(h: Harness, first: CApiEndpoint, second: CApiEndpoint) -> None:
    """A complete two-way shutdown: ``first`` closes, ``second`` reads the close_notify and answers."""
    api = h.capi
    assert api.SSL_shutdown(first.ssl) == 0, f"{first.label}: the first SSL_shutdown must return 0"
    move(first, second)
    ret, _ = api.SSL_read(second.ssl, 10)
    assert error(api, second.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN, f"{second.label}: no ZERO_RETURN"
    assert api.SSL_shutdown(second.ssl) == 1, f"{second.label}: SSL_shutdown after the close_notify must return 1"
    move(first, second)
    assert api.SSL_shutdown(first.ssl) == 1, (
        f"{first.label}: the second SSL_shutdown, once the peer's close_notify arrived, must return 1")


__all__ = [
    "SSL_CTRL_GET_MAX_CERT_LIST",
    "SSL_CTRL_SET_MAX_CERT_LIST",
    "STOP_POINTS",
    "WANT",
    "K",
    "Mem",
    "attempt_handshake",
    "bio",
    "corrupt_record",
    "error",
    "full_shutdown",
    "handshake",
    "handshake_until",
    "move",
    "note",
    "null_with_error",
    "paired",
    "pump",
    "run",
    "sess_number",
    "session_reused",
    "ssl_ctx",
    "ssl_endpoint",
    "ssl_obj",
    "version",
]
