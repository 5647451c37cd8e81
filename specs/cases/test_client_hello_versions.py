"""Hellos from before TLS 1.2 against a C-API server (RFC 9846 section 4.1.2 and appendices E.2, E.5).

The client is the engine's sans-IO TLS core, whose ClientHello the case rewrites (legacy_version) or replaces (an
SSL 2.0-compatible CLIENT-HELLO); the server is the stack under test on a BIO pair, offering TLS 1.2 and TLS 1.3.
Its answer is read from the bytes it writes: a refusal before any ServerHello is a plaintext alert record."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from conformance.outcome import Role, SslError
from engine.tls.config import TLSConfig
from engine.tls.connection import TLSConnection
from specs.cases._ssl_objects import Mem, error, note
from specs.cases._wire import records

pytestmark = pytest.mark.needs("c_api", "server_role", "tls1_2", "tls1_3")

ALERT, HANDSHAKE = 21, 22
PROTOCOL_VERSION = 70


def _client_hello(with_supported_versions: bool) -> bytes:
    """One ClientHello record of the engine core (TLS 1.3 and 1.2 offered; or TLS 1.2 only, without the
    supported_versions extension, as a TLS 1.2 client sends it)."""
    versions = (0x0304, 0x0303) if with_supported_versions else (0x0303,)
    conn = TLSConnection(TLSConfig(server_name="server.test", verify_peer=False, supported_versions=versions),
                         "client")
    conn.start_handshake()
    hello = conn.data_to_send()
    assert hello[0] == HANDSHAKE and hello[5] == 1, hello[:6].hex()
    return hello


def _answer(h: Harness, server: Mem, data: bytes) -> tuple[int, SslError | int, bytes]:
    api = h.capi
    server.give(data)
    api.ERR_clear_error()
    ret = api.SSL_do_handshake(server.ssl)
    code = error(api, server.ssl, ret)
    out = server.take()
    note(h, f"server SSL_do_handshake -> {ret}, SSL_get_error {code}; wrote {out[:16].hex()}...")
    return ret, code, out


def _alerts(out: bytes) -> list[tuple[int, int]]:
    return [(r.body[0], r.body[1]) for r in records(out) if r.type == ALERT and r.length == 2]


@pytest.mark.clauses("RFC9846/4.1.2/legacy-version-below-tls12")
@pytest.mark.parametrize("legacy_version", [0x0301, 0x0302, 0x0300])
@pytest.mark.parametrize("supported_versions", [True, False], ids=["with-supported-versions", "tls12-style"])
def test_legacy_version_below_tls12_is_refused(h: Harness, legacy_version: int, supported_versions: bool) -> None:
    hello = _client_hello(supported_versions)
    # record header (5 bytes), handshake header (4), then ClientHello.legacy_version
    patched = hello[:9] + legacy_version.to_bytes(2, "big") + hello[11:]
    server = Mem(h, Role.SERVER)
    ret, code, out = _answer(h, server, patched)
    assert ret <= 0 and code is SslError.SSL_ERROR_SSL, \
        f"legacy_version {legacy_version:#06x}: SSL_do_handshake -> {ret}, SSL_get_error {code}; it must be refused"
    assert (2, PROTOCOL_VERSION) in _alerts(out), \
        f"legacy_version {legacy_version:#06x}: the server sent {_alerts(out)}, not a fatal protocol_version (70)"


@pytest.mark.clauses("RFC9846/4.1.2/legacy-version-below-tls12")
def test_legacy_version_tls12_is_served(h: Harness) -> None:
    server = Mem(h, Role.SERVER)
    ret, code, out = _answer(h, server, _client_hello(True))
    assert code is SslError.SSL_ERROR_WANT_READ and out[:1] == bytes((HANDSHAKE,)), (ret, code, out[:8].hex())


SSL2_CLIENT_HELLO = bytes.fromhex(
    "802e"  # SSL 2.0 record header: top bit set, 46 bytes follow
    "01" "0303" "0015" "0000" "0010"  # CLIENT-HELLO, version 3.3, cipher specs / session id / challenge lengths
    "00c02f00c03000009c00009d00002f000035000033"  # seven cipher specs of three bytes
    "000102030405060708090a0b0c0d0e0f"  # the challenge
)


@pytest.mark.clauses("RFC9846/E.5/ssl2-client-hello")
def test_ssl2_client_hello_gets_a_prompt_alert(h: Harness) -> None:
    server = Mem(h, Role.SERVER)
    ret, code, out = _answer(h, server, SSL2_CLIENT_HELLO)
    assert ret <= 0 and code is SslError.SSL_ERROR_SSL, \
        f"an SSL 2.0 CLIENT-HELLO: SSL_do_handshake -> {ret}, SSL_get_error {code}; it must be refused at once"
    assert out[:1] == bytes((ALERT,)) and any(level == 2 for level, _ in _alerts(out)), \
        f"the server answered {out[:16].hex()!r} instead of a fatal alert"
