"""Helpers for the TLS 1.3 core tests: RFC 8448 text parser, throwaway PKI, in-memory pumping.

Imported by the test modules as ``tls13_testlib`` (conftest.py puts this directory on sys.path; the name is unique
because the suite runs with ``--import-mode=importlib``)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from engine.tls import TLSConfig, TLSConnection, TLSContext

RFC8448 = Path("/work/shared/tls13-vectors/draft-ietf-tls-tls13-vectors-07.txt")


# --------------------------------------------------------------------------------------------------------------
# RFC 8448 text parser


@dataclass
class Step:
    role: str
    title: str
    fields: dict[str, bytes] = field(default_factory=dict)


_STEP = re.compile(r"^   \{(client|server)\}  (.*)$")
_FIELD = re.compile(r"^      ([A-Za-z][A-Za-z0-9 ]*?) \((\d+) octets\):\s*(.*)$")
_HEX = re.compile(r"^\s+((?:[0-9a-f]{2} ?)+)$")
_SECTION = re.compile(r"^(\d+)\.  (.*)$")


def parse_rfc8448(text: str) -> dict[str, list[Step]]:
    """Sections (by title) -> ordered steps with their hex fields, page furniture skipped."""
    sections: dict[str, list[Step]] = {}
    current: list[Step] | None = None
    step: Step | None = None
    name: str | None = None
    expected = 0
    for line in text.splitlines():
        if line.startswith("Thomson ") or line.startswith("Internet-Draft ") or line.startswith("\f"):
            continue
        m = _SECTION.match(line)
        if m:
            current = sections.setdefault(m.group(2).strip(), [])
            step = None
            name = None
            continue
        m = _STEP.match(line)
        if m and current is not None:
            step = Step(m.group(1), m.group(2).strip())
            current.append(step)
            name = None
            continue
        if step is None:
            continue
        m = _FIELD.match(line)
        if m:
            name = m.group(1)
            expected = int(m.group(2))
            rest = m.group(3).strip()
            step.fields[name] = b"" if rest.startswith("(") else bytes.fromhex(rest)
            continue
        m = _HEX.match(line)
        if m and name is not None and len(step.fields[name]) < expected:
            step.fields[name] += bytes.fromhex(m.group(1))
    for steps in sections.values():
        for st in steps:
            for key, value in st.fields.items():
                assert value or key, (st.title, key)
    return sections


class Trace:
    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps

    def get(self, role: str, title_prefix: str, name: str, nth: int = 0) -> bytes:
        found = [s for s in self.steps if s.role == role and s.title.startswith(title_prefix) and name in s.fields]
        return found[nth].fields[name]


def load_rfc8448() -> dict[str, list[Step]]:
    return parse_rfc8448(RFC8448.read_text())


# --------------------------------------------------------------------------------------------------------------
# A throwaway PKI


NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


@dataclass
class Identity:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    cert: x509.Certificate


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str = "Test CA") -> Identity:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Identity(key, cert)


def make_leaf(
    ca: Identity,
    name: str = "server.example",
    *,
    key_type: str = "ec256",
    client: bool = False,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> Identity:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    if key_type == "ec256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif key_type == "ec384":
        key = ec.generate_private_key(ec.SECP384R1())
    elif key_type == "rsa":
        key = rsa.generate_private_key(65537, 2048)
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    eku = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - datetime.timedelta(days=1))
        .not_valid_after(not_after or NOW + datetime.timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return Identity(key, cert)


@dataclass
class PKI:
    ca: Identity
    server: Identity
    client: Identity
    other_ca: Identity


def make_pki() -> PKI:
    ca = make_ca()
    return PKI(ca, make_leaf(ca), make_leaf(ca, "client.example", client=True), make_ca("Other CA"))


def server_config(pki: PKI, **kw: object) -> TLSConfig:
    cfg = TLSConfig(certificate_chain=[pki.server.cert], private_key=pki.server.key, trusted_roots=[pki.ca.cert])
    for k, v in kw.items():
        setattr(cfg, k, v)
    return cfg


def client_config(pki: PKI, **kw: object) -> TLSConfig:
    cfg = TLSConfig(server_name="server.example", verify_host="server.example", trusted_roots=[pki.ca.cert])
    for k, v in kw.items():
        setattr(cfg, k, v)
    return cfg


def pump(a: TLSConnection, b: TLSConnection, rounds: int = 20) -> None:
    """Move bytes both ways until nothing moves."""
    for _ in range(rounds):
        moved = False
        data = a.data_to_send()
        if data:
            b.receive_bytes(data)
            moved = True
        data = b.data_to_send()
        if data:
            a.receive_bytes(data)
            moved = True
        if not moved:
            return


def pair(
    pki: PKI,
    client_kw: dict[str, object] | None = None,
    server_kw: dict[str, object] | None = None,
) -> tuple[TLSConnection, TLSConnection]:
    c = TLSConnection(client_config(pki, **(client_kw or {})), "client", TLSContext())
    s = TLSConnection(server_config(pki, **(server_kw or {})), "server", TLSContext())
    return c, s
