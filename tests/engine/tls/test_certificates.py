"""Chain and name checks (RFC 9846 sections 4.5.1.3 and 6.2) on certificates made at test time.

Each failure must end in the alert RFC 9846 section 6.2 names for it: no path to a trusted root is unknown_ca, a
certificate that "has expired or is not currently valid" is certificate_expired, a corrupt certificate or one that
does not match is bad_certificate, a key of an unsupported type unsupported_certificate.
"""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from tls13_testlib import NOW, Identity, make_ca, make_leaf

from engine.tls import AlertDescription, TLSAlertError
from engine.tls.certificates import leaf_public_key, load_chain, verify_client_chain, verify_server_chain

A = AlertDescription
DAY = datetime.timedelta(days=1)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _intermediate(ca: Identity, *, not_after: datetime.datetime | None = None) -> Identity:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Test Intermediate"))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - 2 * DAY)
        .not_valid_after(not_after or NOW + 20 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Identity(key, cert)


def _leaf_with(ca: Identity, public_key: object, san: x509.GeneralName) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(_name("leaf"))
        .issuer_name(ca.cert.subject)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + 10 * DAY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def ca() -> Identity:
    return make_ca()


@pytest.fixture(scope="module")
def other_ca() -> Identity:
    return make_ca("Other CA")


@pytest.fixture(scope="module")
def leaf(ca: Identity) -> Identity:
    return make_leaf(ca, "server.example")


def _alert(action: object) -> TLSAlertError:
    assert callable(action)
    with pytest.raises(TLSAlertError) as info:
        action()
    assert info.value.sent_by_us
    return info.value


# -- good chains -------------------------------------------------------------------------------------------------


def test_good_leaf_directly_under_root(ca: Identity, leaf: Identity) -> None:
    verify_server_chain([leaf.cert], [ca.cert], "server.example", NOW)


def test_good_chain_through_an_intermediate(ca: Identity) -> None:
    inter = _intermediate(ca)
    leaf = make_leaf(inter, "server.example")
    verify_server_chain([leaf.cert, inter.cert], [ca.cert], "server.example", NOW)


def test_name_is_matched_case_insensitively(ca: Identity, leaf: Identity) -> None:
    verify_server_chain([leaf.cert], [ca.cert], "Server.EXAMPLE", NOW)


def test_ip_address_name_matches_an_ip_san(ca: Identity) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _leaf_with(ca, key.public_key(), x509.IPAddress(ipaddress.ip_address("192.0.2.7")))
    verify_server_chain([cert], [ca.cert], "192.0.2.7", NOW)
    assert _alert(lambda: verify_server_chain([cert], [ca.cert], "192.0.2.8", NOW)).alert == A.bad_certificate


def test_good_client_chain(ca: Identity) -> None:
    client = make_leaf(ca, "client.example", client=True)
    verify_client_chain([client.cert], [ca.cert], NOW)


# -- unknown_ca --------------------------------------------------------------------------------------------------


def test_unknown_ca(leaf: Identity, other_ca: Identity) -> None:
    err = _alert(lambda: verify_server_chain([leaf.cert], [other_ca.cert], "server.example", NOW))
    assert err.alert == A.unknown_ca


def test_no_trusted_roots_at_all_is_unknown_ca(leaf: Identity) -> None:
    err = _alert(lambda: verify_server_chain([leaf.cert], [], "server.example", NOW))
    assert err.alert == A.unknown_ca


def test_missing_intermediate_is_unknown_ca(ca: Identity) -> None:
    inter = _intermediate(ca)
    leaf = make_leaf(inter, "server.example")
    err = _alert(lambda: verify_server_chain([leaf.cert], [ca.cert], "server.example", NOW))
    assert err.alert == A.unknown_ca


def test_client_chain_from_unknown_ca(ca: Identity, other_ca: Identity) -> None:
    client = make_leaf(ca, "client.example", client=True)
    err = _alert(lambda: verify_client_chain([client.cert], [other_ca.cert], NOW))
    assert err.alert == A.unknown_ca


# -- validity period: certificate_expired ("has expired or is not currently valid") ------------------------------


def test_expired_leaf(ca: Identity) -> None:
    old = make_leaf(ca, not_before=NOW - 5 * DAY, not_after=NOW - DAY)
    err = _alert(lambda: verify_server_chain([old.cert], [ca.cert], "server.example", NOW))
    assert err.alert == A.certificate_expired


def test_the_given_time_decides_not_the_wall_clock(ca: Identity, leaf: Identity) -> None:
    # the leaf is valid for 10 days from now; at +20 days it has expired
    err = _alert(lambda: verify_server_chain([leaf.cert], [ca.cert], "server.example", NOW + 20 * DAY))
    assert err.alert == A.certificate_expired


def test_expired_client_certificate(ca: Identity) -> None:
    old = make_leaf(ca, "client.example", client=True, not_before=NOW - 5 * DAY, not_after=NOW - DAY)
    assert _alert(lambda: verify_client_chain([old.cert], [ca.cert], NOW)).alert == A.certificate_expired


def test_not_yet_valid_leaf_is_certificate_expired(ca: Identity) -> None:
    future = make_leaf(ca, not_before=NOW + 2 * DAY, not_after=NOW + 9 * DAY)
    err = _alert(lambda: verify_server_chain([future.cert], [ca.cert], "server.example", NOW))
    assert err.alert == A.certificate_expired


def test_expired_intermediate_is_certificate_expired(ca: Identity) -> None:
    inter = _intermediate(ca, not_after=NOW - DAY)
    leaf = make_leaf(inter, "server.example")
    err = _alert(lambda: verify_server_chain([leaf.cert, inter.cert], [ca.cert], "server.example", NOW))
    assert err.alert == A.certificate_expired


# -- name mismatch -----------------------------------------------------------------------------------------------


def test_wrong_name_is_bad_certificate(ca: Identity, leaf: Identity) -> None:
    # RFC 9846 section 6.2 has no alert of its own for a name mismatch; the module documents bad_certificate
    # ("does not match the name"), the closest definition ("a certificate was corrupt, ..., etc.")
    err = _alert(lambda: verify_server_chain([leaf.cert], [ca.cert], "other.example", NOW))
    assert err.alert == A.bad_certificate


def test_subdomain_is_not_the_name(ca: Identity, leaf: Identity) -> None:
    err = _alert(lambda: verify_server_chain([leaf.cert], [ca.cert], "www.server.example", NOW))
    assert err.alert == A.bad_certificate


# -- parsing and key types ---------------------------------------------------------------------------------------


def test_load_chain_round_trips_der(ca: Identity, leaf: Identity) -> None:
    ders = [leaf.cert.public_bytes(Encoding.DER), ca.cert.public_bytes(Encoding.DER)]
    assert load_chain(ders) == [leaf.cert, ca.cert]


def test_certificate_that_does_not_parse_is_bad_certificate(leaf: Identity) -> None:
    der = leaf.cert.public_bytes(Encoding.DER)
    assert _alert(lambda: load_chain([der[:-10]])).alert == A.bad_certificate
    assert _alert(lambda: load_chain([b"not a certificate"])).alert == A.bad_certificate


@pytest.mark.parametrize("kind", ["ec", "rsa", "ed25519"])
def test_leaf_public_key_of_signing_key_types(ca: Identity, kind: str) -> None:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    if kind == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    elif kind == "rsa":
        key = rsa.generate_private_key(65537, 2048)
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    cert = _leaf_with(ca, key.public_key(), x509.DNSName("server.example"))
    assert leaf_public_key(cert) == key.public_key()


def test_key_that_cannot_sign_is_unsupported_certificate(ca: Identity) -> None:
    # an X25519 key can be certified but cannot produce a CertificateVerify signature
    cert = _leaf_with(ca, x25519.X25519PrivateKey.generate().public_key(), x509.DNSName("server.example"))
    assert _alert(lambda: leaf_public_key(cert)).alert == A.unsupported_certificate


def test_parsed_certificates_are_shared_by_their_bytes_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # a peer's certificate bytes are parsed once (engine.tls.certificates._PARSED); other bytes are another
    # certificate, and the cache never holds more than its bound
    from engine.tls import certificates

    monkeypatch.setattr(certificates, "_PARSED", {})
    monkeypatch.setattr(certificates, "_PARSED_MAX", 2)
    ders = [make_ca(f"CA {i}").cert.public_bytes(Encoding.DER) for i in range(3)]
    first = load_chain(ders[:1])[0]
    assert load_chain([bytes(ders[0])])[0] is first
    chain = load_chain(ders)
    assert [c.public_bytes(Encoding.DER) for c in chain] == ders
    assert len(certificates._PARSED) <= 2
    assert load_chain(ders[2:])[0].public_bytes(Encoding.DER) == ders[2]
