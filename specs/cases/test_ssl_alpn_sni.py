"""C-API cases of ALPN and SNI (SSL_CTX_set_alpn_select_cb.pod, SSL_CTX_set_tlsext_servername_callback.pod).

Client and server are SSL objects of the stack under test on BIO pairs that the case drives by hand. Where a
handshake fails on the server before its ServerHello (a refused ALPN offer or server name), the alert it sends
is in the clear, so the case reads it from the bytes that go to the client."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from conformance.stacks.base import EndpointConfig
from specs.cases._ssl_objects import WANT, Mem, error, note
from specs.cases._wire import records

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")

PAGE = "SSL_CTX_set_alpn_select_cb"
SNI = "SSL_CTX_set_tlsext_servername_callback"
ALERT = 21
NO_APPLICATION_PROTOCOL = 120
UNRECOGNIZED_NAME = 112
HANDSHAKE_FAILURE = 40
OPENSSL_NPN_NEGOTIATED = 1
OPENSSL_NPN_NO_OVERLAP = 2

VERSIONS = pytest.mark.parametrize("version", [
    pytest.param("TLSv1.3", id="tls13", marks=pytest.mark.needs("tls1_3")),
    pytest.param("TLSv1.2", id="tls12", marks=pytest.mark.needs("tls1_2")),
])


def _only(version: str) -> Any:
    def adjust(config: EndpointConfig) -> EndpointConfig:
        return replace(config, min_version=version, max_version=version)
    return adjust


def wire(*names: bytes) -> bytes:
    return b"".join(bytes((len(n),)) + n for n in names)


@dataclass
class Drive:
    client_ret: int = 0
    server_ret: int = 0
    client_error: SslError | int | None = None
    server_error: SslError | int | None = None
    to_client: bytearray = field(default_factory=bytearray)

    @property
    def done(self) -> bool:
        return self.client_ret == 1 and self.server_ret == 1

    def server_alerts(self) -> list[tuple[int, int]]:
        """The (level, description) of every plaintext alert record the server sent."""
        return [(r.body[0], r.body[1]) for r in records(bytes(self.to_client)) if r.type == ALERT and r.length == 2]


def drive(h: Harness, client: Mem, server: Mem, rounds: int = 60) -> Drive:
    """SSL_do_handshake on both sides until both are done or one fails (no retry code), moving bytes between them
    and keeping what the server sent."""
    api = h.capi
    d = Drive()
    for _ in range(rounds):
        for role, m in (("client", client), ("server", server)):
            ret = d.client_ret if role == "client" else d.server_ret
            code = d.client_error if role == "client" else d.server_error
            if ret == 1 or (code is not None and code not in WANT):
                continue
            api.ERR_clear_error()
            ret = api.SSL_do_handshake(m.ssl)
            code = None if ret == 1 else error(api, m.ssl, ret)
            if role == "client":
                d.client_ret, d.client_error = ret, code
            else:
                d.server_ret, d.server_error = ret, code
        to_client = server.take()
        d.to_client += to_client
        client.give(to_client)
        server.give(client.take())
        finished = [d.client_ret == 1 or d.client_error not in (*WANT, None),
                    d.server_ret == 1 or d.server_error not in (*WANT, None)]
        if all(finished) or (d.server_error not in (*WANT, None) and not to_client):
            break
    note(h, f"client SSL_do_handshake -> {d.client_ret} ({d.client_error}), server -> {d.server_ret} "
            f"({d.server_error}), server alerts {d.server_alerts()}")
    return d


def pair(h: Harness, version: str | None = None, *, server_ctx: Any = None, client_ctx: Any = None) -> tuple[Mem, Mem]:
    adjust = _only(version) if version else None
    client = Mem(h, Role.CLIENT, adjust=adjust, before_new=client_ctx)
    server = Mem(h, Role.SERVER, adjust=adjust, before_new=server_ctx)
    return client, server


# ---- ALPN ------------------------------------------------------------------------------------------------------


@pytest.mark.clauses(f"{PAGE}/RETURN VALUES/set-protos-zero-on-success",
                     f"{PAGE}/RETURN VALUES/set-protos-nonzero-on-failure",
                     f"{PAGE}/DESCRIPTION/callback-gets-client-list")
def test_alpn_protos_return_values_and_offer(h: Harness) -> None:
    """0 for a good list (the reversed convention), non-0 for a malformed one, which leaves the list in force; the
    server callback gets the SSL's list (which replaced the context's) in wire format and order."""
    api = h.capi
    seen: list[bytes] = []

    def select(ssl: Any, offered: bytes) -> tuple[int, bytes]:
        seen.append(offered)
        return K.SSL_TLSEXT_ERR_NOACK, b""

    def client_ctx(ctx: Any) -> None:
        ret = api.SSL_CTX_set_alpn_protos(ctx, wire(b"ctx-only"))
        assert ret == 0, f"SSL_CTX_set_alpn_protos(good list) -> {ret}, the page says 0 on success"
        for bad in (b"\x00", b"\x05abc", wire(b"h2") + b"\x00"):
            ret = api.SSL_CTX_set_alpn_protos(ctx, bad)
            assert ret != 0, f"SSL_CTX_set_alpn_protos({bad!r}) -> {ret}: a malformed list must be refused"

    client, server = pair(h, server_ctx=lambda ctx: api.SSL_CTX_set_alpn_select_cb(ctx, select),
                          client_ctx=client_ctx)
    offer = wire(b"http/1.1", b"h2", b"x" * 255)
    assert api.SSL_set_alpn_protos(client.ssl, offer) == 0, "SSL_set_alpn_protos(good list) must return 0"
    for bad in (b"\x03ab", b"\x00\x02h2"):
        ret = api.SSL_set_alpn_protos(client.ssl, bad)
        assert ret != 0, f"SSL_set_alpn_protos({bad!r}) -> {ret}: a malformed list must be refused"
    assert drive(h, client, server).done
    assert seen == [offer], f"the select callback saw {seen}, the client set {offer!r}"


@pytest.mark.clauses(f"{PAGE}/RETURN VALUES/callback-ok", f"{PAGE}/DESCRIPTION/get0-none")
@VERSIONS
def test_alpn_selected_on_both_sides(h: Harness, version: str) -> None:
    api = h.capi

    def select(ssl: Any, offered: bytes) -> tuple[int, bytes]:
        return K.SSL_TLSEXT_ERR_OK, b"h2"

    client, server = pair(h, version, server_ctx=lambda ctx: api.SSL_CTX_set_alpn_select_cb(ctx, select),
                          client_ctx=lambda ctx: api.SSL_CTX_set_alpn_protos(ctx, wire(b"http/1.1", b"h2")))
    for m in (client, server):
        assert api.SSL_get0_alpn_selected(m.ssl) == b"", "nothing is selected before the handshake"
    d = drive(h, client, server)
    assert d.done, d
    for m in (client, server):
        got = api.SSL_get0_alpn_selected(m.ssl)
        assert got == b"h2", f"{m.label}: SSL_get0_alpn_selected -> {got!r}, the callback chose b'h2'"


@pytest.mark.clauses(f"{PAGE}/RETURN VALUES/callback-noack", f"{PAGE}/DESCRIPTION/null-callback",
                     f"{PAGE}/DESCRIPTION/get0-none")
@VERSIONS
@pytest.mark.parametrize("server_side", ["noack", "no-callback"])
def test_alpn_not_used(h: Harness, version: str, server_side: str) -> None:
    api = h.capi

    def server_ctx(ctx: Any) -> None:
        if server_side == "noack":
            api.SSL_CTX_set_alpn_select_cb(ctx, lambda ssl, offered: (K.SSL_TLSEXT_ERR_NOACK, b""))

    client, server = pair(h, version, server_ctx=server_ctx,
                          client_ctx=lambda ctx: api.SSL_CTX_set_alpn_protos(ctx, wire(b"h2")))
    d = drive(h, client, server)
    assert d.done, d
    for m in (client, server):
        got = api.SSL_get0_alpn_selected(m.ssl)
        assert got == b"", f"{m.label}: SSL_get0_alpn_selected -> {got!r}, but ALPN was not used ({server_side})"


@pytest.mark.clauses(f"{PAGE}/RETURN VALUES/callback-alert-fatal")
@VERSIONS
def test_alpn_fatal_refusal_sends_no_application_protocol(h: Harness, version: str) -> None:
    api = h.capi
    client, server = pair(
        h, version,
        server_ctx=lambda ctx: api.SSL_CTX_set_alpn_select_cb(ctx, lambda s, o: (K.SSL_TLSEXT_ERR_ALERT_FATAL, b"")),
        client_ctx=lambda ctx: api.SSL_CTX_set_alpn_protos(ctx, wire(b"h2")))
    d = drive(h, client, server)
    assert d.server_error is SslError.SSL_ERROR_SSL and d.server_ret <= 0, d
    assert d.client_error is SslError.SSL_ERROR_SSL, f"the client must fail too: {d}"
    assert (2, NO_APPLICATION_PROTOCOL) in d.server_alerts(), \
        f"the server's alerts were {d.server_alerts()}, not a fatal no_application_protocol (120)"


@pytest.mark.clauses(f"{PAGE}/NOTES/no-offer-no-callback")
@VERSIONS
def test_alpn_callback_not_called_without_an_offer(h: Harness, version: str) -> None:
    api = h.capi
    calls: list[bytes] = []

    def select(ssl: Any, offered: bytes) -> tuple[int, bytes]:
        calls.append(offered)
        return K.SSL_TLSEXT_ERR_OK, b"h2"

    client, server = pair(h, version, server_ctx=lambda ctx: api.SSL_CTX_set_alpn_select_cb(ctx, select))
    d = drive(h, client, server)
    assert d.done, d
    assert calls == [], f"the select callback ran for a ClientHello without ALPN: {calls}"
    assert api.SSL_get0_alpn_selected(server.ssl) == b""


@pytest.mark.clauses(f"{PAGE}/DESCRIPTION/select-next-proto")
def test_select_next_proto(h: Harness) -> None:
    api = h.capi
    server_list, client_list = wire(b"spdy/1", b"h2", b"http/1.1"), wire(b"http/1.1", b"h2")
    assert api.SSL_select_next_proto(server_list, client_list) == (OPENSSL_NPN_NEGOTIATED, b"h2")
    assert api.SSL_select_next_proto(wire(b"spdy/1"), client_list) == (OPENSSL_NPN_NO_OVERLAP, b"http/1.1")


# ---- SNI -------------------------------------------------------------------------------------------------------


@pytest.mark.clauses(f"{SNI}/RETURN VALUES/always-one")
def test_servername_setters_return_one(h: Harness) -> None:
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_server_method())
    try:
        assert api.SSL_CTX_set_tlsext_servername_callback(ctx, lambda s, al, arg: K.SSL_TLSEXT_ERR_OK) == 1
        assert api.SSL_CTX_set_tlsext_servername_arg(ctx, "an argument") == 1
        assert api.SSL_CTX_set_tlsext_servername_callback(ctx, None) == 1
        assert api.SSL_CTX_set_tlsext_servername_arg(ctx, None) == 1
    finally:
        api.SSL_CTX_free(ctx)


@pytest.mark.clauses(f"{SNI}/DESCRIPTION/ok", f"{SNI}/DESCRIPTION/get-servername-server",
                     f"{SNI}/DESCRIPTION/get-servername-client", f"{PAGE}/NOTES/after-servername-callback")
@VERSIONS
def test_servername_callback_ok(h: Harness, version: str) -> None:
    api = h.capi
    calls: list[tuple[Any, ...]] = []
    arg = object()

    def servername(ssl: Any, al: int, got: Any) -> int:
        calls.append(("servername", api.SSL_get_servername(ssl, K.TLSEXT_NAMETYPE_host_name), got is arg, al))
        return K.SSL_TLSEXT_ERR_OK

    def select(ssl: Any, offered: bytes) -> tuple[int, bytes]:
        calls.append(("alpn",))
        return K.SSL_TLSEXT_ERR_OK, b"h2"

    def server_ctx(ctx: Any) -> None:
        api.SSL_CTX_set_tlsext_servername_callback(ctx, servername)
        api.SSL_CTX_set_tlsext_servername_arg(ctx, arg)
        api.SSL_CTX_set_alpn_select_cb(ctx, select)

    client, server = pair(h, version, server_ctx=server_ctx,
                          client_ctx=lambda ctx: api.SSL_CTX_set_alpn_protos(ctx, wire(b"h2")))
    name = client.config.server_name
    assert api.SSL_get_servername(server.ssl, K.TLSEXT_NAMETYPE_host_name) is None, "a server has no name before"
    assert api.SSL_get_servername(client.ssl, K.TLSEXT_NAMETYPE_host_name) == name
    assert api.SSL_get_servername_type(client.ssl) == K.TLSEXT_NAMETYPE_host_name
    d = drive(h, client, server)
    assert d.done, d
    assert calls == [("servername", name, True, UNRECOGNIZED_NAME), ("alpn",)], \
        f"callbacks seen: {calls}; expected the servername callback (name, arg, al=112) once, then ALPN"
    assert api.SSL_get_servername(server.ssl, K.TLSEXT_NAMETYPE_host_name) == name
    assert api.SSL_get_servername(client.ssl, K.TLSEXT_NAMETYPE_host_name) == name


@pytest.mark.clauses(f"{SNI}/DESCRIPTION/get-servername-client", f"{SNI}/DESCRIPTION/get-servername-server")
@VERSIONS
def test_no_name_sent(h: Harness, version: str) -> None:
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: replace(_only(version)(c), send_sni=False))
    server = Mem(h, Role.SERVER, adjust=_only(version))
    assert api.SSL_get_servername(client.ssl, K.TLSEXT_NAMETYPE_host_name) is None
    assert api.SSL_get_servername_type(client.ssl) == -1
    d = drive(h, client, server)
    assert d.done, d
    assert api.SSL_get_servername(server.ssl, K.TLSEXT_NAMETYPE_host_name) is None
    assert api.SSL_get_servername(client.ssl, K.TLSEXT_NAMETYPE_host_name) is None


@pytest.mark.clauses(f"{SNI}/DESCRIPTION/alert-fatal")
@VERSIONS
@pytest.mark.parametrize("alert", [None, HANDSHAKE_FAILURE], ids=["default-al", "al-set"])
def test_servername_fatal(h: Harness, version: str, alert: int | None) -> None:
    api = h.capi

    def servername(ssl: Any, al: int, arg: Any) -> int | tuple[int, int]:
        return K.SSL_TLSEXT_ERR_ALERT_FATAL if alert is None else (K.SSL_TLSEXT_ERR_ALERT_FATAL, alert)

    client, server = pair(h, version,
                          server_ctx=lambda ctx: api.SSL_CTX_set_tlsext_servername_callback(ctx, servername))
    d = drive(h, client, server)
    assert d.server_error is SslError.SSL_ERROR_SSL and d.server_ret <= 0, d
    expected = UNRECOGNIZED_NAME if alert is None else alert
    assert (2, expected) in d.server_alerts(), f"server alerts {d.server_alerts()}, expected fatal {expected}"


@pytest.mark.clauses(f"{SNI}/DESCRIPTION/alert-warning", f"{SNI}/DESCRIPTION/noack")
@VERSIONS
@pytest.mark.parametrize("answer", ["warning", "noack"])
def test_servername_declined(h: Harness, version: str, answer: str) -> None:
    api = h.capi
    ret = K.SSL_TLSEXT_ERR_ALERT_WARNING if answer == "warning" else K.SSL_TLSEXT_ERR_NOACK
    client, server = pair(
        h, version, server_ctx=lambda ctx: api.SSL_CTX_set_tlsext_servername_callback(ctx, lambda s, al, a: ret))
    d = drive(h, client, server)
    assert d.done, f"{answer}: the handshake must complete: {d}"
    warnings = [a for a in d.server_alerts() if a[0] == 1]
    if answer == "warning" and version == "TLSv1.2":
        assert (1, UNRECOGNIZED_NAME) in warnings, f"TLS 1.2 ALERT_WARNING: no warning alert, saw {warnings}"
    elif answer == "noack":
        assert not warnings, f"NOACK sends no alert, saw {warnings}"
    if answer == "noack":
        got = api.SSL_get_servername(server.ssl, K.TLSEXT_NAMETYPE_host_name)
        assert got == client.config.server_name, f"the server reports {got!r} after NOACK"


@pytest.mark.clauses(f"{SNI}/DESCRIPTION/sni-is-not-the-verified-name")
@pytest.mark.needs("host_name_check")
def test_sni_apart_from_the_verified_name(h: Harness) -> None:
    api = h.capi
    client, server = pair(h)
    verified = client.config.server_name
    assert api.SSL_set_tlsext_host_name(client.ssl, b"sni-only.invalid") == 1
    assert api.SSL_set1_host(client.ssl, verified.encode()) == 1
    d = drive(h, client, server)
    assert d.done, f"SNI 'sni-only.invalid', verifying {verified!r}: {d}"
    assert api.SSL_get_servername(server.ssl, K.TLSEXT_NAMETYPE_host_name) == "sni-only.invalid"
    assert api.SSL_get_verify_result(client.ssl) == K.X509_V_OK


@pytest.mark.clauses(f"{SNI}/NOTES/callback-order", f"{PAGE}/NOTES/after-servername-callback")
@VERSIONS
def test_client_hello_servername_alpn_callback_order(h: Harness, version: str) -> None:
    api = h.capi
    order: list[str] = []

    def hello(ssl: Any) -> int:
        order.append("client_hello")
        return 1  # SSL_CLIENT_HELLO_SUCCESS

    def servername(ssl: Any, al: int, arg: Any) -> int:
        order.append("servername")
        return K.SSL_TLSEXT_ERR_OK

    def select(ssl: Any, offered: bytes) -> tuple[int, bytes]:
        order.append("alpn")
        return K.SSL_TLSEXT_ERR_OK, b"h2"

    def server_ctx(ctx: Any) -> None:
        api.SSL_CTX_set_alpn_select_cb(ctx, select)
        api.SSL_CTX_set_tlsext_servername_callback(ctx, servername)
        api.SSL_CTX_set_client_hello_cb(ctx, hello)

    client, server = pair(h, version, server_ctx=server_ctx,
                          client_ctx=lambda ctx: api.SSL_CTX_set_alpn_protos(ctx, wire(b"h2")))
    d = drive(h, client, server)
    assert d.done, d
    assert order == ["client_hello", "servername", "alpn"], f"callbacks ran in the order {order}"
