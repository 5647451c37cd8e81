"""Interop smoke test against tlslite-ng (pure Python TLS 1.3) over a socketpair, tlslite in a thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from tls13_testlib import PKI, client_config, make_leaf, server_config

from engine.tls import ApplicationData, CloseNotifyReceived, HandshakeComplete, TLSConnection
from engine.tls.events import Event
from engine.tls.keyexchange import NamedGroup

tlslite = pytest.importorskip("tlslite.api")


def _settings() -> object:
    hs = tlslite.HandshakeSettings()
    hs.minVersion = (3, 4)
    hs.maxVersion = (3, 4)
    return hs


def _drive(ours: TLSConnection, sock: socket.socket, until: Callable[[list[Event]], bool]) -> list[Event]:
    events: list[Event] = []
    sock.settimeout(10)
    for _ in range(1000):
        out = ours.data_to_send()
        if out:
            sock.sendall(out)
        if until(events):
            return events
        data = sock.recv(65536)
        if not data:
            break
        ours.receive_bytes(data)
        events += ours.events()
    return events


def _run(target: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def wrapper() -> None:
        try:
            target()
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    t = threading.Thread(target=wrapper, daemon=True)
    t.start()
    return t, errors


def test_our_client_with_tlslite_server(pki: PKI) -> None:
    rsa_leaf = make_leaf(pki.ca, key_type="rsa")
    a, b = socket.socketpair()
    chain = tlslite.X509CertChain()
    chain.parsePemList(rsa_leaf.cert.public_bytes(serialization.Encoding.PEM).decode())
    key = tlslite.parsePEMKey(
        rsa_leaf.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        private=True,
    )

    def server() -> None:
        conn = tlslite.TLSConnection(b)
        conn.handshakeServer(certChain=chain, privateKey=key, settings=_settings())
        data = conn.read(max=100, min=4)
        conn.write(bytes(data).upper())
        conn.close()

    thread, errors = _run(server)
    ours = TLSConnection(client_config(pki), "client")
    events = _drive(ours, a, lambda ev: any(isinstance(e, HandshakeComplete) for e in ev))
    assert any(isinstance(e, HandshakeComplete) for e in events)
    ours.send_application_data(b"ping")
    events = _drive(ours, a, lambda ev: CloseNotifyReceived() in ev)
    assert ApplicationData(b"PING") in events
    thread.join(10)
    assert not errors, errors
    a.close()
    b.close()


def test_tlslite_client_with_our_server(pki: PKI) -> None:
    a, b = socket.socketpair()
    result: list[bytes] = []

    def client() -> None:
        conn = tlslite.TLSConnection(b)
        conn.handshakeClientCert(settings=_settings(), serverName="server.example")
        conn.write(b"hello")
        result.append(bytes(conn.read(max=100, min=5)))
        conn.close()

    thread, errors = _run(client)
    ours = TLSConnection(server_config(pki), "server")
    events = _drive(ours, a, lambda ev: any(isinstance(e, ApplicationData) for e in ev))
    assert any(isinstance(e, HandshakeComplete) for e in events)
    assert ApplicationData(b"hello") in events
    ours.send_application_data(b"world")
    _drive(ours, a, lambda ev: CloseNotifyReceived() in ev)
    thread.join(10)
    assert not errors, errors
    assert result == [b"world"]
    a.close()
    b.close()


# x448 and secp521r1 (RFC 9846 section 4.3.7) in a full handshake, each side against tlslite-ng's own implementation
NEW_GROUPS = [
    pytest.param(NamedGroup.x448, "x448", id="x448"),
    pytest.param(NamedGroup.secp521r1, "secp521r1", id="p521"),
]


@pytest.mark.parametrize(("group", "tlslite_name"), NEW_GROUPS)
def test_new_groups_with_tlslite_server(pki: PKI, group: int, tlslite_name: str) -> None:
    a, b = socket.socketpair()
    chain = tlslite.X509CertChain()
    chain.parsePemList(pki.server.cert.public_bytes(serialization.Encoding.PEM).decode())
    key = tlslite.parsePEMKey(
        pki.server.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        private=True,
    )
    settings = _settings()
    settings.eccCurves = [tlslite_name]  # type: ignore[attr-defined]
    settings.keyShares = [tlslite_name]  # type: ignore[attr-defined]

    def server() -> None:
        conn = tlslite.TLSConnection(b)
        conn.handshakeServer(certChain=chain, privateKey=key, settings=settings)
        data = conn.read(max=100, min=4)
        conn.write(bytes(data).upper())
        conn.close()

    thread, errors = _run(server)
    ours = TLSConnection(client_config(pki, groups=(group,)), "client")
    events = _drive(ours, a, lambda ev: any(isinstance(e, HandshakeComplete) for e in ev))
    assert any(isinstance(e, HandshakeComplete) for e in events), (events, errors)
    ours.send_application_data(b"ping")
    events = _drive(ours, a, lambda ev: CloseNotifyReceived() in ev)
    assert ApplicationData(b"PING") in events
    thread.join(10)
    assert not errors, errors
    a.close()
    b.close()


@pytest.mark.parametrize(("group", "tlslite_name"), NEW_GROUPS)
def test_new_groups_with_tlslite_client(pki: PKI, group: int, tlslite_name: str) -> None:
    a, b = socket.socketpair()
    result: list[bytes] = []
    settings = _settings()
    settings.eccCurves = [tlslite_name]  # type: ignore[attr-defined]
    settings.keyShares = [tlslite_name]  # type: ignore[attr-defined]

    def client() -> None:
        conn = tlslite.TLSConnection(b)
        conn.handshakeClientCert(settings=settings, serverName="server.example")
        conn.write(b"hello")
        result.append(bytes(conn.read(max=100, min=5)))
        conn.close()

    thread, errors = _run(client)
    ours = TLSConnection(server_config(pki, groups=(group,)), "server")
    events = _drive(ours, a, lambda ev: any(isinstance(e, ApplicationData) for e in ev))
    assert any(isinstance(e, HandshakeComplete) for e in events), (events, errors)
    assert ApplicationData(b"hello") in events
    ours.send_application_data(b"world")
    _drive(ours, a, lambda ev: CloseNotifyReceived() in ev)
    thread.join(10)
    assert not errors, errors
    assert result == [b"world"]
    a.close()
    b.close()
