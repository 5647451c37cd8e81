"""RFC 8448 example handshakes reproduced byte for byte (sections 3 "Simple 1-RTT Handshake" and 5
"HelloRetryRequest").

Everything random is injected through :class:`TLSContext`: the randoms, the ephemeral x25519 / P-256 private keys
and the server's CertificateVerify signature. RFC 8448 signs with rsa_pss_rsae_sha256, whose PSS salt is random, so
the exact signature cannot be recomputed; the injected signer instead *verifies* the RFC's signature over the
content our server asked it to sign (proving our transcript and CertificateVerify input are right) and returns it.
The RFC certificate ("CN=rsa", no subjectAltName, expiring 2026) is not checked against a trust store
(``verify_peer=False``); the client still verifies the CertificateVerify signature with the certificate's key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from tls13_testlib import Step, Trace

from engine.tls import ApplicationData, HandshakeComplete, TLSConfig, TLSConnection, TLSContext
from engine.tls.keyexchange import PrivateKeyShare
from engine.tls.keyschedule import CIPHER_SUITES, KeySchedule, Transcript
from engine.tls.messages import Certificate, CertificateVerify, NewSessionTicket, ServerHello, find_extension
from engine.tls.signatures import PrivateKey

SUITE = CIPHER_SUITES[0x1301]
RFC_SIGALGS = (
    0x0403,
    0x0503,
    0x0603,
    0x0203,
    0x0804,
    0x0805,
    0x0806,
    0x0401,
    0x0501,
    0x0601,
    0x0201,
    0x0402,
    0x0502,
    0x0602,
    0x0202,
)
ALL_GROUPS = (0x1D, 0x17, 0x18, 0x19, 0x100, 0x101, 0x102, 0x103, 0x104)
# server_name, renegotiation_info, supported_groups, session_ticket, key_share, supported_versions,
# signature_algorithms, cookie, psk_key_exchange_modes, record_size_limit, padding
RFC_ORDER = (0x0000, 0xFF01, 0x000A, 0x0023, 0x0033, 0x002B, 0x000D, 0x002C, 0x002D, 0x001C, 0x0015)
RECORD_SIZE_LIMIT = (0x001C, b"\x40\x01")


def _int(b: bytes) -> int:
    return int.from_bytes(b, "big")


def rfc_rsa_key(steps: dict[str, list[Step]]) -> rsa.RSAPrivateKey:
    import re
    from pathlib import Path

    text = Path("/work/shared/tls13-vectors/draft-ietf-tls-tls13-vectors-07.txt").read_text()
    start = text.index("   modulus (public):")
    block = text[start : text.index("3.  Simple 1-RTT Handshake", start)]
    values: dict[str, bytes] = {}
    current = ""
    for line in block.splitlines():
        m = re.match(r"^   ([a-z0-9 ]+?)( \(public\))?:\s+(.*)$", line)
        if m:
            current = m.group(1)
            values[current] = bytes.fromhex(m.group(3))
        elif re.match(r"^\s+([0-9a-f]{2} ?)+$", line) and current:
            values[current] += bytes.fromhex(line.strip())
    pub = rsa.RSAPublicNumbers(_int(values["public exponent"]), _int(values["modulus"]))
    priv = rsa.RSAPrivateNumbers(
        _int(values["prime1"]),
        _int(values["prime2"]),
        _int(values["private exponent"]),
        _int(values["exponent1"]),
        _int(values["exponent2"]),
        _int(values["coefficient"]),
        pub,
    )
    return priv.private_key()


def _randoms(*values: bytes) -> Callable[[int], bytes]:
    it: Iterator[bytes] = iter(values)

    def random(n: int) -> bytes:
        v = next(it)
        assert len(v) == n
        return v

    return random


def _keys(table: dict[int, list[PrivateKeyShare]]) -> Callable[[int], PrivateKeyShare]:
    def generate(group: int) -> PrivateKeyShare:
        return table[group].pop(0)

    return generate


def _verifying_signer(expected: bytes) -> Callable[[PrivateKey, int, bytes], bytes]:
    def sign(key: PrivateKey, scheme: int, content: bytes) -> bytes:
        assert scheme == 0x0804
        assert isinstance(key, rsa.RSAPrivateKey)
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        key.public_key().verify(expected, content, pss, hashes.SHA256())  # raises if our content differs
        return expected

    return sign


def _x25519(b: bytes) -> x25519.X25519PrivateKey:
    return x25519.X25519PrivateKey.from_private_bytes(b)


def _p256(b: bytes) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(_int(b), ec.SECP256R1())


def _records(t: Trace, role: str) -> list[bytes]:
    return [s.fields["complete record"] for s in t.steps if s.role == role and "complete record" in s.fields]


class Setup:
    def __init__(self, rfc8448: dict[str, list[Step]], section: str, hrr: bool) -> None:
        t = self.trace = Trace(rfc8448[section])
        self.client_records = _records(t, "client")
        self.server_records = _records(t, "server")
        ch = t.get("client", "construct a ClientHello", "ClientHello")
        client_random = ch[6:38]
        cert_msg = Certificate.parse(t.get("server", "construct a Certificate", "Certificate")[4:])
        cv = CertificateVerify.parse(t.get("server", "construct a CertificateVerify", "CertificateVerify")[4:])
        sh_index = 1 if hrr else 0
        server_random = t.get("server", "construct a ServerHello", "ServerHello", sh_index)[6:38]
        ckeys: dict[int, list[PrivateKeyShare]] = {
            0x1D: [_x25519(t.get("client", "create an ephemeral x25519", "private key"))]
        }
        if hrr:
            ckeys[0x17] = [_p256(t.get("client", "create an ephemeral P-256", "private key"))]
            skeys: dict[int, list[PrivateKeyShare]] = {
                0x17: [_p256(t.get("server", "create an ephemeral P-256", "private key"))]
            }
        else:
            skeys = {0x1D: [_x25519(t.get("server", "create an ephemeral x25519", "private key"))]}

        self.client_cfg = TLSConfig(
            cipher_suites=(0x1301, 0x1303, 0x1302),
            groups=(0x1D, 0x17, 0x18),
            advertised_groups=(0x1D, 0x17, 0x18) if hrr else ALL_GROUPS,
            signature_algorithms=RFC_SIGALGS,
            server_name="server",
            verify_peer=False,
            middlebox_compat=False,
            extra_extensions=((0xFF01, b"\x00"),) + (() if hrr else ((0x0023, b""),)) + (RECORD_SIZE_LIMIT,),
            extension_order=RFC_ORDER,
            pad_client_hello=True,
        )
        nst_bytes = t.get("server", "construct a NewSessionTicket", "NewSessionTicket") if not hrr else b""
        self.server_cfg = TLSConfig(
            groups=(0x17, 0x18, 0x1D) if hrr else (0x1D, 0x17, 0x18),
            certificate_chain=[x509.load_der_x509_certificate(cert_msg.certificate_list[0].cert_data)],
            private_key=rfc_rsa_key(rfc8448),
            advertise_groups=(0x17, 0x18, 0x1D) if hrr else ALL_GROUPS,
            extra_extensions=(RECORD_SIZE_LIMIT,),
            verify_peer=False,
            middlebox_compat=False,
            session_tickets=0 if hrr else 1,
            ticket_issuer=(lambda suite, secret: NewSessionTicket.parse(nst_bytes[4:])),
        )
        if hrr:
            hrr_msg = ServerHello.parse(t.get("server", "construct a ServerHello", "ServerHello", 0)[4:])
            cookie_ext = find_extension(hrr_msg.extensions, 0x002C)
            assert cookie_ext is not None
            self.server_cfg.hrr_cookie = lambda _hash: cookie_ext[2:]
        self.client = TLSConnection(
            self.client_cfg, "client", TLSContext(random=_randoms(client_random), generate_key_share=_keys(ckeys))
        )
        self.server = TLSConnection(
            self.server_cfg,
            "server",
            TLSContext(
                random=_randoms(server_random), generate_key_share=_keys(skeys), sign=_verifying_signer(cv.signature)
            ),
        )


def test_simple_1rtt_byte_for_byte(rfc8448: dict[str, list[Step]]) -> None:
    s = Setup(rfc8448, "Simple 1-RTT Handshake", hrr=False)
    t = s.trace
    client, server = s.client, s.server
    # ClientHello record (16 03 01 ...)
    ch_record = client.data_to_send()
    assert ch_record == s.client_records[0]
    assert ch_record[5:] == t.get("client", "construct a ClientHello", "ClientHello")

    server.receive_bytes(ch_record)
    flight = server.data_to_send()
    sh_record, enc_record = s.server_records[0], s.server_records[1]
    assert flight[: len(sh_record)] == sh_record
    assert flight[len(sh_record) :] == enc_record
    assert sh_record[5:] == t.get("server", "construct a ServerHello", "ServerHello")

    client.receive_bytes(flight)
    fin_record = client.data_to_send()
    assert fin_record == s.client_records[1]
    assert isinstance(client.next_event(), HandshakeComplete)

    server.receive_bytes(fin_record)
    assert isinstance(server.next_event(), HandshakeComplete)
    nst_record = server.data_to_send()
    assert nst_record == s.server_records[2]
    client.receive_bytes(nst_record)
    ticket = client.next_event()
    assert type(ticket).__name__ == "NewSessionTicketReceived"
    # the PSK derived from the ticket is the RFC's "tls13 resumption" output
    assert ticket.psk == t.get("server", "generate resumption secret", "expanded")  # type: ignore[union-attr]

    payload = bytes(range(50))
    client.send_application_data(payload)
    assert client.data_to_send() == s.client_records[2]
    server.receive_bytes(s.client_records[2])
    assert server.next_event() == ApplicationData(payload)
    server.send_application_data(payload)
    assert server.data_to_send() == s.server_records[3]
    client.receive_bytes(s.server_records[3])
    assert client.next_event() == ApplicationData(payload)

    client.close()
    assert client.data_to_send() == s.client_records[3]
    server.close()
    assert server.data_to_send() == s.server_records[4]

    # every derived secret
    for hs in (client.handshake, server.handshake):
        assert hs.schedule is not None
        assert hs.schedule.early_secret == t.get("server", 'extract secret "early"', "secret")
        assert hs.schedule.handshake_secret == t.get("server", 'extract secret "handshake"', "secret")
        assert hs.schedule.main_secret == t.get("server", 'extract secret "master"', "secret")
        assert hs.client_hs_secret == t.get("server", 'derive secret "tls13 c hs traffic"', "expanded")  # type: ignore[attr-defined]
        assert hs.server_hs_secret == t.get("server", 'derive secret "tls13 s hs traffic"', "expanded")  # type: ignore[attr-defined]
        assert hs.client_app_secret == t.get("server", 'derive secret "tls13 c ap traffic"', "expanded")
        assert hs.server_app_secret == t.get("server", 'derive secret "tls13 s ap traffic"', "expanded")
        assert hs.exporter_secret == t.get("server", 'derive secret "tls13 exp master"', "expanded")
        assert hs.resumption_secret == t.get("client", 'derive secret "tls13 res master"', "expanded")


def test_hello_retry_request_byte_for_byte(rfc8448: dict[str, list[Step]]) -> None:
    s = Setup(rfc8448, "HelloRetryRequest", hrr=True)
    t = s.trace
    client, server = s.client, s.server
    ch1 = client.data_to_send()
    assert ch1 == s.client_records[0]
    server.receive_bytes(ch1)
    hrr = server.data_to_send()
    assert hrr == s.server_records[0]
    client.receive_bytes(hrr)
    ch2 = client.data_to_send()
    assert ch2 == s.client_records[1]
    assert ch2[:3] == b"\x16\x03\x03"  # only the initial ClientHello uses 0x0301
    server.receive_bytes(ch2)
    flight = server.data_to_send()
    assert flight == s.server_records[1] + s.server_records[2]
    client.receive_bytes(flight)
    fin = client.data_to_send()
    assert fin == s.client_records[2]
    server.receive_bytes(fin)
    done = client.next_event()
    assert isinstance(done, HandshakeComplete) and done.hello_retry_request and done.group == 0x17
    assert isinstance(server.next_event(), HandshakeComplete)
    client.close()
    assert client.data_to_send() == s.client_records[3]
    server.close()
    assert server.data_to_send() == s.server_records[3]
    for hs in (client.handshake, server.handshake):
        assert hs.schedule is not None
        assert hs.schedule.handshake_secret == t.get("server", 'extract secret "handshake"', "secret")
        assert hs.client_app_secret == t.get("server", 'derive secret "tls13 c ap traffic"', "expanded")
        assert hs.resumption_secret == t.get("client", 'derive secret "tls13 res master"', "expanded")


@pytest.mark.parametrize(
    "section", ["Simple 1-RTT Handshake", "HelloRetryRequest", "Client Authentication", "Compatibility Mode"]
)
def test_key_schedule_matches_trace(rfc8448: dict[str, list[Step]], section: str) -> None:
    """The key schedule alone, fed the RFC's shared secret and transcript hashes, yields the RFC's secrets."""
    t = Trace(rfc8448[section])
    ks = KeySchedule(SUITE)
    assert ks.early_secret == t.get("server", 'extract secret "early"', "secret")
    ks.set_shared_secret(t.get("server", 'extract secret "handshake"', "IKM"))
    assert ks.handshake_secret == t.get("server", 'extract secret "handshake"', "secret")
    assert ks.main_secret == t.get("server", 'extract secret "master"', "secret")
    c, sv = ks.handshake_traffic_secrets(t.get("server", 'derive secret "tls13 c hs traffic"', "hash"))
    assert c == t.get("server", 'derive secret "tls13 c hs traffic"', "expanded")
    assert sv == t.get("server", 'derive secret "tls13 s hs traffic"', "expanded")
    c, sv = ks.application_traffic_secrets(t.get("server", 'derive secret "tls13 c ap traffic"', "hash"))
    assert c == t.get("server", 'derive secret "tls13 c ap traffic"', "expanded")
    assert sv == t.get("server", 'derive secret "tls13 s ap traffic"', "expanded")


def test_transcript_message_hash_rule(rfc8448: dict[str, list[Step]]) -> None:
    t = Trace(rfc8448["HelloRetryRequest"])
    tr = Transcript()
    tr.update(t.get("client", "construct a ClientHello", "ClientHello", 0))
    tr.replace_with_message_hash(SUITE)
    tr.update(t.get("server", "construct a ServerHello", "ServerHello", 0))
    tr.update(t.get("client", "construct a ClientHello", "ClientHello", 1))
    tr.update(t.get("server", "construct a ServerHello", "ServerHello", 1))
    assert tr.digest() == t.get("server", 'derive secret "tls13 c hs traffic"', "hash")
