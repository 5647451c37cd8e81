"""Key schedule pieces against RFC 8448: HKDF-Expand-Label, Derive-Secret, finished keys, traffic keys."""

from __future__ import annotations

import pytest
from tls13_testlib import Step, Trace

from engine.tls.keyschedule import (
    CIPHER_SUITES,
    Transcript,
    finished_verify_data,
    hkdf_expand_label,
    hkdf_extract,
    hkdf_label,
    next_traffic_secret,
    resumption_psk,
    traffic_keys,
)

SUITE = CIPHER_SUITES[0x1301]
SECTIONS = [
    "Simple 1-RTT Handshake",
    "Resumed 0-RTT Handshake",
    "HelloRetryRequest",
    "Client Authentication",
    "Compatibility Mode",
]


def _label_steps(rfc8448: dict[str, list[Step]]) -> list[Step]:
    return [s for sec in SECTIONS for s in rfc8448[sec] if "info" in s.fields and "expanded" in s.fields]


def test_every_rfc8448_expand_label(rfc8448: dict[str, list[Step]]) -> None:
    """Each 'derive secret' step: our HkdfLabel equals the RFC's info and the expansion equals its output."""
    steps = _label_steps(rfc8448)
    assert len(steps) > 40
    for s in steps:
        info = s.fields["info"]
        length = int.from_bytes(info[:2], "big")
        label_len = info[2]
        label = info[3 : 3 + label_len]
        assert label.startswith(b"tls13 ")
        context = info[4 + label_len :]
        assert hkdf_label(label[6:], context, length) == info
        assert hkdf_expand_label(SUITE, s.fields["PRK"], label[6:], context, length) == s.fields["expanded"]


def test_every_rfc8448_extract(rfc8448: dict[str, list[Step]]) -> None:
    for sec in SECTIONS:
        for s in rfc8448[sec]:
            if s.title.startswith("extract secret") and "secret" in s.fields and "IKM" in s.fields:
                salt = s.fields.get("salt", b"")
                assert hkdf_extract(SUITE, salt, s.fields["IKM"]) == s.fields["secret"]


def test_every_rfc8448_traffic_key(rfc8448: dict[str, list[Step]]) -> None:
    n = 0
    for sec in SECTIONS:
        for s in rfc8448[sec]:
            if "key expanded" in s.fields:
                key, iv = traffic_keys(SUITE, s.fields["PRK"])
                assert key == s.fields["key expanded"] and iv == s.fields["iv expanded"]
                n += 1
    assert n > 10


def test_finished_values(rfc8448: dict[str, list[Step]]) -> None:
    t = Trace(rfc8448["Simple 1-RTT Handshake"])
    server_hs = t.get("server", 'calculate finished "tls13 finished"', "PRK")
    finished = t.get("server", 'calculate finished "tls13 finished"', "finished")
    # transcript hash for server Finished: CH..CV; recompute it from the messages
    tr = Transcript()
    for role, title, name in [
        ("client", "construct a ClientHello", "ClientHello"),
        ("server", "construct a ServerHello", "ServerHello"),
        ("server", "construct a EncryptedExtensions", "EncryptedExtensions"),
        ("server", "construct a Certificate", "Certificate"),
        ("server", "construct a CertificateVerify", "CertificateVerify"),
    ]:
        tr.update(t.get(role, title, name))
    tr.start(SUITE)
    assert finished_verify_data(SUITE, server_hs, tr.digest()) == finished


def test_resumption_psk(rfc8448: dict[str, list[Step]]) -> None:
    t = Trace(rfc8448["Simple 1-RTT Handshake"])
    res = t.get("client", 'derive secret "tls13 res master"', "expanded")
    assert resumption_psk(SUITE, res, b"\x00\x00") == t.get("server", "generate resumption secret", "expanded")


@pytest.mark.parametrize("code", [0x1301, 0x1302, 0x1303])
def test_key_update_generations_differ_and_are_deterministic(code: int) -> None:
    suite = CIPHER_SUITES[code]
    s0 = bytes(suite.hash_len)
    s1 = next_traffic_secret(suite, s0)
    assert s1 == hkdf_expand_label(suite, s0, b"traffic upd", b"", suite.hash_len)
    assert len(s1) == suite.hash_len and s1 != s0 and next_traffic_secret(suite, s1) != s1
    key, iv = traffic_keys(suite, s1)
    assert len(key) == suite.key_len and len(iv) == 12


def test_transcript_requires_start() -> None:
    tr = Transcript()
    tr.update(b"abc")
    with pytest.raises(RuntimeError):
        tr.digest()
