"""Interop smoke tests against the system OpenSSL through the stdlib ``ssl`` module (SSLObject over MemoryBIO),
in memory, with a throwaway CA made at test time. Both roles, every cipher suite and group, HelloRetryRequest,
1 MiB each way, KeyUpdate, close_notify each way, client certificates."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from tls13_testlib import PKI, Identity, client_config, server_config

from engine.tls import (
    ApplicationData,
    CloseNotifyReceived,
    HandshakeComplete,
    KeyUpdateReceived,
    NewSessionTicketReceived,
    TLSAlertError,
    TLSConnection,
)
from engine.tls.events import Event

MiB = 1 << 20


class Peer:
    """An ssl.SSLObject on a pair of memory BIOs."""

    def __init__(self, ctx: ssl.SSLContext, server_side: bool, hostname: str | None = None) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_side=server_side, server_hostname=hostname)
        self.received = bytearray()
        self.closed = False
        self.done = False

    def step(self) -> None:
        """Advance the handshake, then read whatever application data is available."""
        try:
            if not self.done:
                self.obj.do_handshake()
                self.done = True
            while True:
                chunk = self.obj.read(1 << 16)
                if not chunk:  # close_notify received
                    self.closed = True
                    break
                self.received += chunk
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:
            self.closed = True


def pump(ours: TLSConnection, peer: Peer, rounds: int = 200) -> list[Event]:
    events: list[Event] = []
    for _ in range(rounds):
        moved = False
        data = ours.data_to_send()
        if data:
            peer.incoming.write(data)
            moved = True
        peer.step()
        out = peer.outgoing.read()
        if out:
            ours.receive_bytes(out)
            moved = True
        events.extend(ours.events())
        if not moved:
            break
    return events


def _pem_files(tmp: Path, ident: Identity, name: str) -> tuple[str, str]:
    cert = tmp / f"{name}.crt"
    key = tmp / f"{name}.key"
    cert.write_bytes(ident.cert.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        ident.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert), str(key)


@pytest.fixture
def pem(tmp_path: Path, pki: PKI) -> Iterator[dict[str, tuple[str, str]]]:
    yield {
        "server": _pem_files(tmp_path, pki.server, "server"),
        "client": _pem_files(tmp_path, pki.client, "client"),
    }


def openssl_server(
    pki: PKI, pem: dict[str, tuple[str, str]], *, require_client_cert: bool = False, curve: str | None = None
) -> Peer:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(*pem["server"])
    if curve:
        ctx.set_ecdh_curve(curve)
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=pki.ca.cert.public_bytes(serialization.Encoding.PEM).decode())
    return Peer(ctx, server_side=True)


def openssl_client(
    pki: PKI, pem: dict[str, tuple[str, str]], *, with_cert: bool = False, curve: str | None = None
) -> Peer:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(cadata=pki.ca.cert.public_bytes(serialization.Encoding.PEM).decode())
    if curve:
        ctx.set_ecdh_curve(curve)
    if with_cert:
        ctx.load_cert_chain(*pem["client"])
    return Peer(ctx, server_side=False, hostname="server.example")


def _complete(events: list[Event]) -> HandshakeComplete:
    done = [e for e in events if isinstance(e, HandshakeComplete)]
    assert len(done) == 1, events
    return done[0]


SUITES = {0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384", 0x1303: "TLS_CHACHA20_POLY1305_SHA256"}
GROUPS = [0x1D, 0x17, 0x18]


@pytest.mark.parametrize("suite", sorted(SUITES))
@pytest.mark.parametrize("group", GROUPS)
def test_our_client_each_suite_and_group(pki: PKI, pem: dict[str, tuple[str, str]], suite: int, group: int) -> None:
    peer = openssl_server(pki, pem)
    ours = TLSConnection(client_config(pki, cipher_suites=(suite,), groups=(group,)), "client")
    events = pump(ours, peer)
    done = _complete(events)
    assert done.cipher_suite == suite and done.group == group and not done.hello_retry_request
    assert peer.obj.cipher()[0] == SUITES[suite]  # type: ignore[index]
    # OpenSSL sends two NewSessionTickets by default: parsed and reported
    assert sum(isinstance(e, NewSessionTicketReceived) for e in events) == 2
    ours.send_application_data(b"ping")
    pump(ours, peer)
    assert bytes(peer.received) == b"ping"


@pytest.mark.parametrize("suite", sorted(SUITES))
@pytest.mark.parametrize("group", GROUPS)
def test_our_server_each_suite_and_group(pki: PKI, pem: dict[str, tuple[str, str]], suite: int, group: int) -> None:
    curve = {0x1D: "X25519", 0x17: "prime256v1", 0x18: "secp384r1"}[group]
    peer = openssl_client(pki, pem, curve=curve)
    ours = TLSConnection(server_config(pki, cipher_suites=(suite,), groups=(group,)), "server")
    events = pump(ours, peer)
    done = _complete(events)
    assert done.cipher_suite == suite and done.group == group
    peer.obj.write(b"pong")
    events = pump(ours, peer)
    assert ApplicationData(b"pong") in events


def test_our_client_gets_hello_retry_request(pki: PKI, pem: dict[str, tuple[str, str]]) -> None:
    peer = openssl_server(pki, pem, curve="prime256v1")
    ours = TLSConnection(client_config(pki), "client")  # offers an x25519 share only
    done = _complete(pump(ours, peer))
    assert done.hello_retry_request and done.group == 0x17


def test_our_server_sends_hello_retry_request(pki: PKI, pem: dict[str, tuple[str, str]]) -> None:
    peer = openssl_client(pki, pem)  # OpenSSL sends an x25519 share
    ours = TLSConnection(server_config(pki, groups=(0x18, 0x1D)), "server")
    done = _complete(pump(ours, peer))
    assert done.hello_retry_request and done.group == 0x18
    peer.obj.write(b"after hrr")
    assert ApplicationData(b"after hrr") in pump(ours, peer)


def _collect(events: list[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, ApplicationData))


@pytest.mark.parametrize("role", ["client", "server"])
def test_bulk_keyupdate_close(pki: PKI, pem: dict[str, tuple[str, str]], role: str) -> None:
    if role == "client":
        peer = openssl_server(pki, pem)
        ours = TLSConnection(client_config(pki), "client")
    else:
        peer = openssl_client(pki, pem)
        ours = TLSConnection(server_config(pki), "server")
    _complete(pump(ours, peer))
    blob = bytes(range(256)) * (MiB // 256)
    # 1 MiB from us
    ours.send_application_data(blob)
    pump(ours, peer)
    assert bytes(peer.received) == blob
    # 1 MiB from OpenSSL
    peer.obj.write(blob)
    got = _collect(pump(ours, peer))
    assert got == blob
    # KeyUpdate with update_requested: OpenSSL must answer with its own KeyUpdate
    ours.send_key_update(request=True)
    ours.send_application_data(b"after our update")
    events = pump(ours, peer)
    peer.obj.write(b"reply")
    events += pump(ours, peer)
    assert KeyUpdateReceived(False) in events
    assert bytes(peer.received).endswith(b"after our update")
    assert _collect(events) == b"reply"
    # close_notify from us, then from OpenSSL
    ours.close()
    pump(ours, peer)
    assert peer.closed
    with contextlib.suppress(ssl.SSLWantReadError):
        peer.obj.unwrap()
    events = pump(ours, peer)
    assert CloseNotifyReceived() in events


def test_client_certificate_to_openssl_server(pki: PKI, pem: dict[str, tuple[str, str]]) -> None:
    peer = openssl_server(pki, pem, require_client_cert=True)
    cfg = client_config(pki, certificate_chain=[pki.client.cert], private_key=pki.client.key)
    ours = TLSConnection(cfg, "client")
    _complete(pump(ours, peer))
    ours.send_application_data(b"with cert")
    pump(ours, peer)
    assert bytes(peer.received) == b"with cert"
    assert peer.obj.getpeercert() is not None


def test_openssl_client_certificate_to_our_server(pki: PKI, pem: dict[str, tuple[str, str]]) -> None:
    peer = openssl_client(pki, pem, with_cert=True)
    ours = TLSConnection(server_config(pki, require_client_certificate=True), "server")
    done = _complete(pump(ours, peer))
    assert done.peer_certificates and done.peer_certificates[0] == pki.client.cert


def test_openssl_client_without_certificate_rejected(pki: PKI, pem: dict[str, tuple[str, str]]) -> None:
    peer = openssl_client(pki, pem, with_cert=False)
    ours = TLSConnection(server_config(pki, require_client_certificate=True), "server")
    with pytest.raises(TLSAlertError) as info:
        pump(ours, peer)
    assert info.value.alert == 116 and info.value.sent_by_us  # certificate_required


def test_our_client_rejects_unknown_ca(pki: PKI, pem: dict[str, tuple[str, str]]) -> None:
    peer = openssl_server(pki, pem)
    ours = TLSConnection(client_config(pki, trusted_roots=[pki.other_ca.cert]), "client")
    with pytest.raises(TLSAlertError) as info:
        pump(ours, peer)
    assert info.value.alert == 48  # unknown_ca
    # the alert goes to OpenSSL, which reports it
    peer.incoming.write(ours.data_to_send())
    with pytest.raises(ssl.SSLError, match="UNKNOWN_CA"):
        peer.obj.read(10)
