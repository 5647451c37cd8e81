"""engine.tls.misbehave: each fault makes a correct engine peer fail with the alert RFC 9846 names, and the hook is
unreachable from the C-API layer (engine.ssl never mentions it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

import engine.ssl
from conformance.certs import SERVER_NAME, default_pki
from engine.tls.alerts import AlertDescription as A
from engine.tls.alerts import TLSAlertError
from engine.tls.config import TLSConfig
from engine.tls.connection import TLSConnection
from engine.tls.misbehave import (
    BadInnerType,
    BadKeyUpdate,
    BadRenegotiationInfo,
    HelloFault,
    InterleavedRecord,
    Misbehaviour,
    OversizedRecord,
    PlaintextAlert,
    RepeatedMessage,
    UnexpectedMessage,
    WrongCertificateVerify,
    WrongFinished,
    _edit_extensions,
)


def _config(server: bool, certificate: bool = False) -> TLSConfig:
    pki = default_pki()
    identity = pki.server if server else (pki.client if certificate else None)
    key = load_pem_private_key(identity.key_pem, None) if identity else None
    assert key is None or isinstance(key, ec.EllipticCurvePrivateKey)
    return TLSConfig(certificate_chain=[x509.load_pem_x509_certificate(identity.cert_pem)] if identity else [],
                     private_key=key, trusted_roots=[x509.load_pem_x509_certificate(pki.ca_pem)],
                     server_name=None if server else SERVER_NAME, request_client_certificate=certificate,
                     require_client_certificate=certificate)


def _run(fault: Misbehaviour, faulty: str, *, certificate: bool = False, after_handshake: bool = False,
         tls12: bool = False) -> A | None:
    """A client and a server, one of them with ``fault``; returns the alert the correct side raised."""
    client_config, server_config = _config(False, certificate), _config(True, certificate)
    if tls12:
        client_config.supported_versions = server_config.supported_versions = (0x0303,)
    client = TLSConnection(client_config, "client", misbehaviour=fault if faulty == "client" else None)
    server = TLSConnection(server_config, "server", misbehaviour=fault if faulty == "server" else None)
    honest = server if faulty == "client" else client
    try:
        for _ in range(10):
            client_out = client.data_to_send()
            if client_out:
                server.receive_bytes(client_out)
            server_out = server.data_to_send()
            if server_out:
                client.receive_bytes(server_out)
            if not client_out and not server_out:
                break
        if after_handshake:
            assert client.handshake_complete and server.handshake_complete
            (server if faulty == "client" else client).receive_bytes(fault.wrong_record())
    except TLSAlertError as exc:
        assert exc.sent_by_us and honest.error is exc, f"the wrong side failed: {exc!r}"
        return A(exc.alert)
    assert client.handshake_complete and server.handshake_complete
    return None


@pytest.mark.parametrize("faulty", ["client", "server"])
@pytest.mark.parametrize(("fault", "alert"), [
    (WrongFinished, A.decrypt_error),
    (UnexpectedMessage, A.unexpected_message),
    (RepeatedMessage, A.unexpected_message),
])
def test_handshake_faults(fault: type[Misbehaviour], alert: A, faulty: str) -> None:
    instance = fault()
    assert _run(instance, faulty) is alert
    assert instance.done


@pytest.mark.parametrize("faulty", ["client", "server"])
def test_certificate_verify_over_the_wrong_transcript(faulty: str) -> None:
    assert _run(WrongCertificateVerify(), faulty, certificate=True) is A.decrypt_error


@pytest.mark.parametrize("faulty", ["client", "server"])
@pytest.mark.parametrize(("fault", "alert"), [
    (BadInnerType, A.unexpected_message),
    (OversizedRecord, A.record_overflow),
    (BadKeyUpdate, A.illegal_parameter),
    (PlaintextAlert, A.unexpected_message),
])
def test_record_faults(fault: type[Misbehaviour], alert: A, faulty: str) -> None:
    assert _run(fault(), faulty, after_handshake=True) is alert


@pytest.mark.parametrize("faulty", ["client", "server"])
@pytest.mark.parametrize(("kind", "tls12"), [("application_data", False), ("change_cipher_spec", False),
                                             ("application_data", True)])
def test_a_record_between_two_handshake_messages(kind: str, tls12: bool, faulty: str) -> None:
    """InterleavedRecord: a protected record of another type just before the sender's Finished (RFC 9846 sections 2
    and 5, RFC 5246 section 7.4.9): unexpected_message."""
    fault = InterleavedRecord(kind)
    assert _run(fault, faulty, tls12=tls12) is A.unexpected_message
    assert fault.done


def test_only_the_misbehaving_peer_makes_a_send_record() -> None:
    """SendRecord is test-only: no state machine and nothing of engine.ssl makes one."""
    package = Path(engine.ssl.__file__).parent.parent
    users = sorted(p.relative_to(package).as_posix() for p in package.rglob("*.py")
                   if "SendRecord(" in p.read_text(encoding="utf-8"))
    assert users == ["tls/misbehave.py"], users


def test_a_well_behaved_misbehaviour_changes_nothing() -> None:
    assert _run(Misbehaviour(), "server") is None


def test_the_c_api_layer_never_reaches_the_hook() -> None:
    package = Path(engine.ssl.__file__).parent
    users = [p.name for p in package.rglob("*.py") if "misbehav" in p.read_text(encoding="utf-8")]
    assert not users, f"engine.ssl must not reach engine.tls.misbehave: {users}"


def test_the_c_api_layer_never_sets_the_edit_hook() -> None:
    package = Path(engine.ssl.__file__).parent
    users = [p.name for p in package.rglob("*.py") if "edit_handshake" in p.read_text(encoding="utf-8")]
    assert not users, f"engine.ssl must not set TLSContext.edit_handshake: {users}"


class _Unchanged(HelloFault):
    """A hello fault that rebuilds the hello from its parsed form without changing it."""

    def change(self, raw: bytes) -> bytes:
        return _edit_extensions(raw, lambda exts: exts)


@pytest.mark.parametrize(("faulty", "msg_type"), [("client", 1), ("server", 2)])
def test_a_hello_rebuilt_unchanged_changes_nothing(faulty: str, msg_type: int) -> None:
    fault = _Unchanged(msg_type=msg_type)
    assert _run(fault, faulty) is None
    assert fault.done


@pytest.mark.parametrize(("faulty", "msg_type"), [("client", 1), ("server", 2)])
def test_a_non_empty_renegotiation_info_in_the_first_hello(faulty: str, msg_type: int) -> None:
    """The edit hook changes the hello before it enters the sender's transcript; TLS 1.2 both sides (RFC 5746)."""
    fault = BadRenegotiationInfo(msg_type=msg_type, kind="not-empty")
    assert _run(fault, faulty, tls12=True) is A.handshake_failure
    assert fault.done
