"""Cases for the max fragment length part of SSL_CTX_set_split_send_fragment.pod
(SSL_CTX_set_tlsext_max_fragment_length, SSL_set_tlsext_max_fragment_length, SSL_SESSION_get_max_fragment_length)
and RFC 6066 section 4, at the C-API tier.

Pairs of the stack under test run on BIO pairs and the bytes between them are read as TLS records. Where a peer
must misbehave (a value outside 1..4, an echo of another value, a record above the limit) the peer is the engine's
TLS core, driven by hand against an SSL object of the stack."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role
from engine.tls.alerts import AlertDescription, TLSAlertError
from engine.tls.config import TLSContext
from engine.tls.connection import TLSConnection
from engine.tls.messages import ExtensionType
from specs.cases._misbehaving import _config
from specs.cases._ssl_objects import Mem, handshake
from specs.cases._wire import records

pytestmark = pytest.mark.needs("c_api")

HANDSHAKE = 22
APPLICATION_DATA = 23
EXPANSION = 256  # the most a TLS 1.3 record may add to its plaintext (RFC 9846 section 5.2); TLS 1.2 AEAD adds less
MODES = {K.TLSEXT_max_fragment_length_512: 512, K.TLSEXT_max_fragment_length_1024: 1024,
         K.TLSEXT_max_fragment_length_2048: 2048, K.TLSEXT_max_fragment_length_4096: 4096}
VERSIONS = {"tls1_3": K.TLS1_3_VERSION, "tls1_2": K.TLS1_2_VERSION}


def _pin(h: Harness, mem: Mem, version: str) -> None:
    h.need(version, stacks=(h.stack,))
    v = VERSIONS[version]
    h.capi.SSL_set_min_proto_version(mem.ssl, v)
    h.capi.SSL_set_max_proto_version(mem.ssl, v)


def _asking_client(h: Harness, on: str, mode: int, version: str) -> Mem:
    api = h.capi
    client = Mem(h, Role.CLIENT, before_new=(lambda ctx: api.SSL_CTX_set_tlsext_max_fragment_length(ctx, mode))
                 if on == "SSL_CTX" else None)
    if on == "SSL":
        assert api.SSL_set_tlsext_max_fragment_length(client.ssl, mode) == 1
    _pin(h, client, version)
    return client


@pytest.mark.clauses("SSL_CTX_set_split_send_fragment/NOTES/max-fragment-length-modes")
@pytest.mark.parametrize("on", ["SSL_CTX", "SSL"])
def test_modes_accepted_and_refused(h: Harness, on: str) -> None:
    """DISABLED, 512, 1024, 2048 and 4096 are taken (1); any other mode value is refused (0)."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    ssl = api.SSL_new(ctx)
    obj: Any = ctx if on == "SSL_CTX" else ssl
    setter = getattr(api, f"{on}_set_tlsext_max_fragment_length")
    try:
        got = {m: setter(obj, m) for m in (5, 255, K.TLSEXT_max_fragment_length_DISABLED, *MODES)}
        h.trace.note(f"{on}_set_tlsext_max_fragment_length: {got}")
        assert got == {5: 0, 255: 0, 0: 1, 1: 1, 2: 1, 3: 1, 4: 1}, got
    finally:
        api.SSL_free(ssl)
        api.SSL_CTX_free(ctx)


@pytest.mark.clauses("SSL_CTX_set_split_send_fragment/DESCRIPTION/max-fragment-length-negotiated")
@pytest.mark.needs("client_role", "server_role")
@pytest.mark.parametrize("version", ["tls1_3", "tls1_2"])
@pytest.mark.parametrize("on", ["SSL_CTX", "SSL"])
def test_session_holds_the_negotiated_mode(h: Harness, on: str, version: str) -> None:
    """A client asking for 1024 against a server of the same stack: its session reports that mode; a client
    that asked for nothing reports DISABLED."""
    api = h.capi
    client = _asking_client(h, on, K.TLSEXT_max_fragment_length_1024, version)
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    got = api.SSL_SESSION_get_max_fragment_length(api.SSL_get_session(client.ssl))
    h.trace.note(f"SSL_SESSION_get_max_fragment_length after asking for 1024: {got}")
    assert got == K.TLSEXT_max_fragment_length_1024, f"the session reports mode {got}, not 2 (1024)"
    plain, other = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    _pin(h, plain, version)
    handshake(h, plain, other)
    got = api.SSL_SESSION_get_max_fragment_length(api.SSL_get_session(plain.ssl))
    h.trace.note(f"SSL_SESSION_get_max_fragment_length without asking: {got}")
    assert got == K.TLSEXT_max_fragment_length_DISABLED, f"no request, yet the session reports mode {got}"


@pytest.mark.clauses("SSL_CTX_set_split_send_fragment/DESCRIPTION/max-fragment-length-records")
@pytest.mark.needs("client_role", "server_role")
@pytest.mark.parametrize("version", ["tls1_3", "tls1_2"])
def test_records_no_larger_than_negotiated(h: Harness, version: str) -> None:
    """Mode 512 negotiated: a 4000-byte write goes out in at least eight application records from either side,
    none carrying more than 512 bytes of plaintext."""
    api = h.capi
    client = _asking_client(h, "SSL", K.TLSEXT_max_fragment_length_512, version)
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    payload = bytes(range(250)) * 16
    for side in (client, server):
        assert api.SSL_write(side.ssl, payload) == len(payload)
        app = [r.length for r in records(side.take()) if r.type == APPLICATION_DATA]
        h.trace.note(f"{side.label}: application records for a {len(payload)}-byte write: {app}")
        assert len(app) >= -(-len(payload) // 512), f"{side.label}: {len(app)} records cannot carry 4000 bytes in 512s"
        assert max(app) <= 512 + EXPANSION, f"{side.label}: a record of {max(app)} bytes carries more than 512"


# ---- the engine's core as the misbehaving peer ----------------------------------------------------------------------

def _drive(h: Harness, core: TLSConnection, mem: Mem, rounds: int = 30) -> TLSAlertError | None:
    """Move bytes between the core and the stack's SSL (driving its handshake) until neither moves; a fatal alert
    either side raised in the core comes back."""
    for _ in range(rounds):
        data = core.data_to_send()
        mem.give(data)
        api_ret = h.capi.SSL_do_handshake(mem.ssl)
        out = mem.take()
        if out:
            try:
                core.receive_bytes(out)
            except TLSAlertError as exc:
                h.trace.note(f"engine core: {'sent' if exc.sent_by_us else 'received'} alert {exc.alert}: {exc}")
                return exc
        if not data and not out:
            h.trace.note(f"SSL_do_handshake -> {api_ret}")
            return None
    return None


def _core(role: Role, version: str, **tls: Any) -> TLSConnection:
    versions = (VERSIONS[version],)
    return TLSConnection(_config(role, client_certificate=False, tls={"supported_versions": versions, **tls}),
                         "client" if role is Role.CLIENT else "server", TLSContext())


def _answering_server(h: Harness, version: str) -> tuple[Mem, TLSConnection]:
    """A handshake of the stack's server with the core asking for 512; not applicable if the server does not answer
    (NOTES: the server's support is optional)."""
    server = Mem(h, Role.SERVER)
    _pin(h, server, version)
    core = _core(Role.CLIENT, version, max_fragment_length=K.TLSEXT_max_fragment_length_512)
    core.start_handshake()
    assert _drive(h, core, server) is None and core.handshake_complete, "no handshake with mode 512"
    if core.max_fragment_mode != K.TLSEXT_max_fragment_length_512:
        h.not_applicable(f"{h.stack.name}'s server does not answer max_fragment_length (it ignores the request; "
                         "the page's NOTES make a server's support optional)")
    return server, core


def _alert_from_stack(exc: TLSAlertError | None) -> int | None:
    return exc.alert if exc is not None and not exc.sent_by_us else None


@pytest.mark.clauses("SSL_CTX_set_split_send_fragment/DESCRIPTION/max-fragment-length-illegal-value")
@pytest.mark.needs("server_role")
@pytest.mark.parametrize("version", ["tls1_3", "tls1_2"])
def test_server_refuses_a_value_outside_the_modes(h: Harness, version: str) -> None:
    """A ClientHello asking for max_fragment_length 5: the stack's server ends the handshake with
    illegal_parameter (RFC 6066 section 4)."""
    _answering_server(h, version)
    server = Mem(h, Role.SERVER)
    _pin(h, server, version)
    core = _core(Role.CLIENT, version, extra_extensions=((ExtensionType.max_fragment_length, b"\x05"),))
    core.start_handshake()
    got = _alert_from_stack(_drive(h, core, server))
    h.trace.note(f"alert from the server: {got}")
    assert got == AlertDescription.illegal_parameter, f"alert {got} instead of illegal_parameter (47)"


@pytest.mark.clauses("SSL_CTX_set_split_send_fragment/DESCRIPTION/max-fragment-length-illegal-value")
@pytest.mark.needs("server_role")
@pytest.mark.parametrize("version", ["tls1_3", "tls1_2"])
def test_server_refuses_max_fragment_length_zero(h: Harness, version: str) -> None:
    """A ClientHello asking for max_fragment_length 0 (OpenSSL's "disabled", which no client sends; RFC 6066
    defines 1 to 4 only): the stack's server ends the handshake with illegal_parameter. Added by the mutation sweep
    (docs/mutation-sweep.md): a server that read 0 as "no request" passed the case with 5."""
    _answering_server(h, version)
    server = Mem(h, Role.SERVER)
    _pin(h, server, version)
    core = _core(Role.CLIENT, version, extra_extensions=((ExtensionType.max_fragment_length, b"\x00"),))
    core.start_handshake()
    got = _alert_from_stack(_drive(h, core, server))
    h.trace.note(f"alert from the server: {got}")
    assert got == AlertDescription.illegal_parameter, f"alert {got} instead of illegal_parameter (47)"


@pytest.mark.clauses("SSL_CTX_set_split_send_fragment/DESCRIPTION/max-fragment-length-echo")
@pytest.mark.needs("client_role")
def test_client_refuses_an_echo_of_another_value(h: Harness) -> None:
    """TLS 1.2: the client asked for 512 and the ServerHello echoes 1024: the stack's client ends the handshake with
    illegal_parameter (RFC 6066 section 4). The engine's server echoes 512; the case rewrites the plaintext
    ServerHello's extension before the client reads it."""
    client = _asking_client(h, "SSL", K.TLSEXT_max_fragment_length_512, "tls1_2")
    core = _core(Role.SERVER, "tls1_2")
    h.capi.SSL_do_handshake(client.ssl)
    core.receive_bytes(client.take())
    flight = core.data_to_send()
    echo = b"\x00\x01\x00\x01\x01"
    assert flight[0] == HANDSHAKE and echo in flight, "the engine's ServerHello carries no echo"
    client.give(flight.replace(echo, b"\x00\x01\x00\x01\x02", 1))
    ret = h.capi.SSL_do_handshake(client.ssl)
    out = records(client.take())
    alerts = [r for r in out if r.type == 21]
    h.trace.note(f"SSL_do_handshake -> {ret}; records back: {[(r.type, r.length) for r in out]}")
    assert ret <= 0, "the client went on after an echo of another value"
    assert alerts and alerts[0].body[1] == AlertDescription.illegal_parameter, \
        f"alert {alerts[0].body.hex() if alerts else None} instead of illegal_parameter (47)"


@pytest.mark.clauses("SSL_CTX_set_split_send_fragment/DESCRIPTION/max-fragment-length-overflow")
@pytest.mark.needs("server_role")
@pytest.mark.parametrize("version", ["tls1_3", "tls1_2"])
def test_a_larger_record_is_record_overflow(h: Harness, version: str) -> None:
    """Mode 512 negotiated with the stack's server; the client then sends a record of 1000 bytes of plaintext:
    the server answers record_overflow (RFC 6066 section 4)."""
    api = h.capi
    server, core = _answering_server(h, version)
    core._record.max_fragment_length = None  # the misbehaviour: records up to 2^14 again
    core.send_application_data(b"x" * 1000)
    server.give(core.data_to_send())
    ret, _ = api.SSL_read(server.ssl, 2000)
    h.trace.note(f"SSL_read -> {ret}")
    got: int | None = None
    try:
        core.receive_bytes(server.take())
    except TLSAlertError as exc:
        got = _alert_from_stack(exc)
    h.trace.note(f"alert from the server: {got}")
    assert ret <= 0, "the server read a record larger than the negotiated limit"
    assert got == AlertDescription.record_overflow, f"alert {got} instead of record_overflow (22)"
