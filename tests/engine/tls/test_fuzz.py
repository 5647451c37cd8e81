"""Fuzzing both roles: arbitrary bytes, and valid handshake flights with mutations. The only exception allowed to
escape is TLSAlertError (a protocol error with its alert); anything else is a bug.

Small by default; set ENGINE_FUZZ_EXAMPLES (e.g. 20000) for a long run.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from functools import cache

from cryptography.hazmat.primitives.asymmetric import ec, x25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tls13_testlib import PKI, client_config, make_leaf, make_pki, server_config

from engine.tls import TLSAlertError, TLSConfig, TLSConnection, TLSContext
from engine.tls.keyexchange import PrivateKeyShare

EXAMPLES = int(os.environ.get("ENGINE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)


@cache
def _pki() -> PKI:
    # Ed25519 signatures are deterministic, so a recorded flight replays against a fresh connection.
    pki = make_pki()
    pki.server = make_leaf(pki.ca, key_type="ed25519")
    return pki


def _fixed_context(seed: int) -> TLSContext:
    counter = [seed]

    def random(n: int) -> bytes:
        counter[0] += 1
        return (counter[0].to_bytes(8, "big") * ((n + 7) // 8))[:n]

    def keygen(group: int) -> PrivateKeyShare:
        material = hashlib.sha256(random(8) + group.to_bytes(2, "big")).digest()
        if group == 0x1D:
            return x25519.X25519PrivateKey.from_private_bytes(material)
        curve = ec.SECP256R1() if group == 0x17 else ec.SECP384R1()
        return ec.derive_private_key(int.from_bytes(material, "big") % (2**200) + 1, curve)

    return TLSContext(random=random, generate_key_share=keygen)


def _conn(role: str) -> TLSConnection:
    pki = _pki()
    cfg: TLSConfig = client_config(pki) if role == "client" else server_config(pki, request_client_certificate=True)
    return TLSConnection(cfg, role, _fixed_context(1 if role == "client" else 2))  # type: ignore[arg-type]


@cache
def _flights() -> dict[str, list[bytes]]:
    """The bytes each side sends in a normal handshake plus a little data, flight by flight."""
    c, s = _conn("client"), _conn("server")
    to_server: list[bytes] = []
    to_client: list[bytes] = []
    for _ in range(6):
        data = c.data_to_send()
        if data:
            to_server.append(data)
            s.receive_bytes(data)
        data = s.data_to_send()
        if data:
            to_client.append(data)
            c.receive_bytes(data)
    c.send_key_update(True)
    c.send_application_data(b"hello")
    c.close()
    to_server.append(c.data_to_send())
    return {"server": to_server, "client": to_client}


def _feed(conn: TLSConnection, chunks: list[bytes]) -> None:
    try:
        for chunk in chunks:
            conn.receive_bytes(chunk)
            conn.events()
            conn.data_to_send()
    except TLSAlertError as exc:
        assert isinstance(int(exc.alert), int)
        assert conn.state == "ERROR"
        conn.data_to_send()


Mutation = Callable[[bytes], bytes]


@st.composite
def _mutated(draw: st.DrawFn, role: str) -> list[bytes]:
    flights = list(_flights()[role])
    index = draw(st.integers(0, len(flights) - 1))
    data = bytearray(flights[index])
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "splice", "zero"]))
    pos = draw(st.integers(0, len(data) - 1))
    if kind == "flip":
        data[pos] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        del data[pos:]
    elif kind == "insert":
        data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
    elif kind == "splice":
        end = draw(st.integers(pos, len(data)))
        data[pos:end] = draw(st.binary(max_size=64))
    else:
        data[pos : pos + 4] = b"\x00" * 4
    flights[index] = bytes(data)
    # also vary how the bytes are cut into receive_bytes calls
    joined = b"".join(flights[: index + 1])
    step = draw(st.sampled_from([1, 7, 100, len(joined) or 1]))
    return [joined[i : i + step] for i in range(0, len(joined), step)]


@FUZZ
@given(st.lists(st.binary(max_size=300), max_size=4))
def test_arbitrary_bytes_to_server(chunks: list[bytes]) -> None:
    _feed(_conn("server"), chunks)


@FUZZ
@given(st.lists(st.binary(max_size=300), max_size=4))
def test_arbitrary_bytes_to_client(chunks: list[bytes]) -> None:
    _feed(_conn("client"), chunks)


@FUZZ
@given(st.binary(max_size=400).map(lambda b: b"\x16\x03\x01" + len(b).to_bytes(2, "big") + b))
def test_arbitrary_handshake_record_to_server(record: bytes) -> None:
    _feed(_conn("server"), [record])


@FUZZ
@given(_mutated("server"))
def test_mutated_client_flights_to_server(chunks: list[bytes]) -> None:
    _feed(_conn("server"), chunks)


@FUZZ
@given(_mutated("client"))
def test_mutated_server_flights_to_client(chunks: list[bytes]) -> None:
    conn = _conn("client")
    conn.data_to_send()
    _feed(conn, chunks)


def test_unmutated_flights_complete() -> None:
    """Sanity: the recorded flights replay to a finished handshake on fresh connections (same seeds)."""
    s = _conn("server")
    for chunk in _flights()["server"][:-1]:
        s.receive_bytes(chunk)
    assert s.handshake_complete


# -- TLS 1.2 flights, both roles (with a renegotiation after the first handshake) ----------------------------------


@cache
def _pki12() -> PKI:
    # RSA PKCS#1 v1.5 signatures are deterministic, so a recorded TLS 1.2 flight replays against a fresh connection.
    pki = make_pki()
    pki.server = make_leaf(pki.ca, key_type="rsa")
    return pki


def _conn12(role: str) -> TLSConnection:
    pki = _pki12()
    common = {"supported_versions": (0x0303,), "signature_algorithms12": (0x0401,)}
    cfg: TLSConfig = (
        client_config(pki, **common)
        if role == "client"
        else server_config(pki, request_client_certificate=True, allow_renegotiation=True, **common)
    )
    return TLSConnection(cfg, role, _fixed_context(3 if role == "client" else 4))  # type: ignore[arg-type]


@cache
def _flights12() -> dict[str, list[bytes]]:
    c, s = _conn12("client"), _conn12("server")
    to_server: list[bytes] = []
    to_client: list[bytes] = []

    def exchange() -> None:
        for _ in range(6):
            data = c.data_to_send()
            if data:
                to_server.append(data)
                s.receive_bytes(data)
            data = s.data_to_send()
            if data:
                to_client.append(data)
                c.receive_bytes(data)

    exchange()
    c.send_application_data(b"hello")
    c.renegotiate()
    exchange()
    c.close()
    to_server.append(c.data_to_send())
    assert c.handshake_complete and s.handshake_complete
    return {"server": to_server, "client": to_client}


@st.composite
def _mutated12(draw: st.DrawFn, role: str) -> list[bytes]:
    flights = list(_flights12()[role])
    index = draw(st.integers(0, len(flights) - 1))
    data = bytearray(flights[index])
    pos = draw(st.integers(0, len(data) - 1))
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "zero"]))
    if kind == "flip":
        data[pos] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        del data[pos:]
    elif kind == "insert":
        data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
    else:
        data[pos : pos + 4] = b"\x00" * 4
    flights[index] = bytes(data)
    joined = b"".join(flights[: index + 1])
    step = draw(st.sampled_from([1, 7, 100, len(joined) or 1]))
    return [joined[i : i + step] for i in range(0, len(joined), step)]


@FUZZ
@given(st.binary(max_size=400).map(lambda b: b"\x16\x03\x03" + len(b).to_bytes(2, "big") + b))
def test_arbitrary_handshake_record_to_tls12_server(record: bytes) -> None:
    _feed(_conn12("server"), [record])


@FUZZ
@given(_mutated12("server"))
def test_mutated_tls12_client_flights_to_server(chunks: list[bytes]) -> None:
    _feed(_conn12("server"), chunks)


@FUZZ
@given(_mutated12("client"))
def test_mutated_tls12_server_flights_to_client(chunks: list[bytes]) -> None:
    conn = _conn12("client")
    conn.data_to_send()
    _feed(conn, chunks)


def test_unmutated_tls12_flights_complete() -> None:
    """Sanity: the recorded TLS 1.2 flights (handshake, data, renegotiation) replay on fresh connections."""
    s = _conn12("server")
    for chunk in _flights12()["server"][:-1]:
        s.receive_bytes(chunk)
    events = s.events()
    assert s.handshake_complete and sum(type(e).__name__ == "HandshakeComplete" for e in events) == 2
    c = _conn12("client")
    c.data_to_send()
    c.receive_bytes(_flights12()["client"][0])  # the server's first flight
    c.data_to_send()
    c.receive_bytes(_flights12()["client"][1])  # its ChangeCipherSpec and Finished
    assert c.handshake_complete
