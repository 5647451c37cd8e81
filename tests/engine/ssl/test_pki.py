"""engine/ssl/pki.py and engine/ssl/handles.py: PEM readers, name decoding, the callback's pair, bad input."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

import engine.ssl as E
from conformance.certs import default_pki
from engine import err
from engine.bio import BIO_free, BIO_new_mem_buf
from engine.ssl.handles import install_callback_pair
from engine.ssl.pki import decode_name


def _read_x509(data: bytes) -> E.X509 | None:
    bio = BIO_new_mem_buf(data)
    try:
        return E.PEM_read_bio_X509(bio)
    finally:
        BIO_free(bio)


def test_pem_reader_skips_other_blocks_and_reads_the_first_certificate() -> None:
    pki = default_pki()
    cert = _read_x509(pki.client.key_pem + pki.client.cert_pem + pki.server.cert_pem)
    assert cert is not None and cert.references == 1
    assert E.X509_NAME_oneline(E.X509_get_subject_name(cert)) == "/CN=client.test"


def test_pem_reader_without_a_certificate_gives_null_and_an_entry() -> None:
    err.ERR_clear_error()
    assert _read_x509(b"no pem here\n") is None
    assert err.ERR_get_error() != 0
    assert E.PEM_read_bio_X509(None) is None
    assert E.PEM_read_bio_PrivateKey(None) is None
    assert _read_x509(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n") is None
    err.ERR_clear_error()


def test_x509_free_releases_the_reference() -> None:
    cert = _read_x509(default_pki().client.cert_pem)
    assert cert is not None
    E.X509_free(cert)
    assert E.X509_get_subject_name(cert) is None  # a dead handle reads as NULL
    E.X509_free(cert)  # a second free of a dead handle does nothing
    E.X509_free(None)


def test_name_decoding_round_trips_and_refuses_garbage() -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Ünïcode CA")])
    assert decode_name(name.public_bytes()) == name
    for bad in (b"", b"\x30", b"\x30\x05\x31\x03\x30\x01\x00", b"\x31\x00", b"\x30\x02\x31\x00\x00", b"\x30\x84"):
        assert decode_name(bad) is None


def test_callback_answers_of_any_shape_never_raise() -> None:
    ctx = E.SSL_CTX_new(E.TLS_client_method())
    ssl = E.SSL_new(ctx)
    assert ssl is not None
    for answer in (None, "x", (1,), (1, None, None), (1, 5, 6), (True, None, None), 2, 0, -3):
        assert install_callback_pair(ssl, answer) in (-3, 0)
    E.SSL_free(ssl)
    E.SSL_CTX_free(ctx)
    err.ERR_clear_error()


def test_client_ca_list_before_anything_and_on_bad_handles() -> None:
    ctx = E.SSL_CTX_new(E.TLS_server_method())
    ssl = E.SSL_new(ctx)
    assert E.SSL_get_client_CA_list(ssl) is None  # a server without a list
    assert E.SSL_CTX_add_client_CA(ctx, None) == 0
    assert E.SSL_CTX_add_client_CA(None, None) == 0
    assert E.SSL_get_client_CA_list(None) is None
    assert E.SSL_get1_peer_certificate(None) is None
    assert E.SSL_get1_peer_certificate(ssl) is None
    E.SSL_free(ssl)
    E.SSL_CTX_free(ctx)
    err.ERR_clear_error()
