"""The ctypes binding against the real libraries: system OpenSSL 3.x and, when installed, wolfSSL's compat layer."""

from __future__ import annotations

import datetime
import errno as errno_module
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conformance.capi import constants as C
from conformance.capi.libssl import WOLFSSL_LIBRARY, Handle, LibsslApi, MissingSymbol

SERVER_NAME = "server.test"
BIO_SOCK_REUSEADDR = 0x01  # openssl/bio.h
BIO_SOCK_INFO_ADDRESS = 0  # enum BIO_sock_info_type
BIO_LOOKUP_SERVER = 1  # enum BIO_lookup_type


# ---------------------------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throwaway CA and a server certificate for ``server.test`` (ECDSA P-256), written as PEM files."""
    directory = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("binding test CA"))
        .issuer_name(_name("binding test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(SERVER_NAME))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = Pki(ca=directory / "ca.pem", cert=directory / "server.pem", key=directory / "server.key")
    paths.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def _wolfssl() -> LibsslApi:
    try:
        return LibsslApi.wolfssl()
    except OSError as exc:
        pytest.skip(f"wolfSSL ({WOLFSSL_LIBRARY}) is not installed: {exc} (apt-get install libwolfssl35)")


@pytest.fixture(scope="module")
def openssl() -> LibsslApi:
    return LibsslApi()


@pytest.fixture(scope="module")
def wolfssl() -> LibsslApi:
    return _wolfssl()


@pytest.fixture(scope="module", params=["openssl", "wolfssl"])
def api(request: pytest.FixtureRequest) -> LibsslApi:
    return LibsslApi() if request.param == "openssl" else _wolfssl()


@dataclass
class Conn:
    api: LibsslApi
    client_ctx: Handle
    server_ctx: Handle
    client: Handle
    server: Handle
    client_bio: Handle  # the half of the pair the client reads and writes
    server_bio: Handle


def _new(api: LibsslApi, pki: Pki, bufsize: int = 0) -> Conn:
    api.ERR_clear_error()
    server_ctx = api.SSL_CTX_new(api.TLS_server_method())
    client_ctx = api.SSL_CTX_new(api.TLS_client_method())
    assert server_ctx is not None and client_ctx is not None
    assert api.SSL_CTX_use_certificate_file(server_ctx, str(pki.cert), C.SSL_FILETYPE_PEM) == 1
    assert api.SSL_CTX_use_PrivateKey_file(server_ctx, str(pki.key), C.SSL_FILETYPE_PEM) == 1
    assert api.SSL_CTX_load_verify_locations(client_ctx, str(pki.ca), None) == 1
    api.SSL_CTX_set_verify(client_ctx, C.SSL_VERIFY_PEER)
    for ctx in (server_ctx, client_ctx):
        assert api.SSL_CTX_set_min_proto_version(ctx, C.TLS1_3_VERSION) == 1
    client, server = api.SSL_new(client_ctx), api.SSL_new(server_ctx)
    assert client is not None and server is not None
    assert api.SSL_set1_host(client, SERVER_NAME) == 1
    assert api.SSL_set_tlsext_host_name(client, SERVER_NAME) == 1
    ret, client_bio, server_bio = api.BIO_new_bio_pair(bufsize, bufsize)
    assert ret == 1 and client_bio is not None and server_bio is not None
    api.SSL_set_bio(client, client_bio, client_bio)
    api.SSL_set_bio(server, server_bio, server_bio)
    api.SSL_set_connect_state(client)
    api.SSL_set_accept_state(server)
    return Conn(api, client_ctx, server_ctx, client, server, client_bio, server_bio)


def _free(conn: Conn) -> None:
    conn.api.SSL_free(conn.client)  # frees client_bio (one reference for rbio == wbio)
    conn.api.SSL_free(conn.server)
    conn.api.SSL_CTX_free(conn.client_ctx)
    conn.api.SSL_CTX_free(conn.server_ctx)
    conn.api.ERR_clear_error()


def _errors(api: LibsslApi) -> list[str]:
    found = []
    while code := api.ERR_get_error():
        found.append(api.ERR_error_string_n(code, 256))
    return found


def _handshake(conn: Conn) -> None:
    api = conn.api
    done = {"client": False, "server": False}
    for _ in range(50):
        for role, ssl in (("client", conn.client), ("server", conn.server)):
            if done[role]:
                continue
            ret = api.SSL_do_handshake(ssl)
            if ret == 1:
                done[role] = True
                continue
            err = api.SSL_get_error(ssl, ret)
            assert err in (C.SSL_ERROR_WANT_READ, C.SSL_ERROR_WANT_WRITE), (role, ret, err, _errors(api))
        if all(done.values()):
            return
    raise AssertionError("handshake did not finish in 50 rounds")


@pytest.fixture
def conn(api: LibsslApi, pki: Pki) -> Iterator[Conn]:
    connection = _new(api, pki)
    _handshake(connection)
    yield connection
    _free(connection)


# ---------------------------------------------------------------------------------------------- the library


def test_version_comes_from_the_library(openssl: LibsslApi) -> None:
    assert openssl.version.startswith("OpenSSL 3.")
    assert openssl.OpenSSL_version(0) == openssl.version


def test_wolfssl_version_and_names(wolfssl: LibsslApi) -> None:
    assert wolfssl.version.startswith("5.")
    table = wolfssl.symbol_table()
    assert table["SSL_new"] == "wolfSSL_new"
    assert table["SSL_CTX_new"] == "wolfSSL_CTX_new"
    assert table["SSL_get_error"] == "wolfSSL_get_error"
    assert table["BIO_new_bio_pair"] == "wolfSSL_BIO_new_bio_pair"
    assert table["ERR_get_error"] == "wolfSSL_ERR_get_error"
    assert table["TLS_client_method"] == "wolfTLS_client_method"
    assert table["TLS_method"] == "wolfSSLv23_method"
    assert table["SSL_do_handshake"] == "wolfSSL_SSL_do_handshake"
    assert table["SSL_read_ex"].startswith("missing")


def test_every_declared_openssl_function_is_exported(openssl: LibsslApi) -> None:
    missing = {name: why for name, why in openssl.symbol_table().items() if why.startswith("missing")}
    # declared for other libraries (GnuTLS's layer exports SSLv3_client_method); OpenSSL 3.0 builds configured
    # with no-ssl3-method, Debian's among them, export none of the three (SSL_CTX_new/NOTES/sslv3-methods)
    for name in ("SSLv3_method", "SSLv3_client_method", "SSLv3_server_method"):
        missing.pop(name, None)
    assert missing == {}


def test_missing_symbol_is_the_only_exception(wolfssl: LibsslApi) -> None:
    ret, b1, b2 = wolfssl.BIO_new_bio_pair(0, 0)
    assert ret == 1
    with pytest.raises(MissingSymbol, match="BIO_shutdown_wr"):
        wolfssl.BIO_shutdown_wr(b1)
    with pytest.raises(MissingSymbol, match="does not export wolfSSL_read_ex"):
        wolfssl.SSL_read_ex(None, 5)
    assert not wolfssl.has("BIO_shutdown_wr")
    assert not wolfssl.has("SSL_key_update")
    assert wolfssl.has("BIO_pending")
    assert wolfssl.has("SSL_read")
    wolfssl.BIO_free(b1)
    wolfssl.BIO_free(b2)


def test_handles_are_typed_and_compare_by_address(openssl: LibsslApi) -> None:
    ctx = openssl.SSL_CTX_new(openssl.TLS_method())
    ssl = openssl.SSL_new(ctx)
    assert ssl is not None
    with pytest.raises(TypeError):
        openssl.SSL_read(1234, 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        openssl.SSL_read(ctx, 5)  # a handle of the wrong kind
    assert openssl.SSL_get_SSL_CTX(ssl) == ctx
    assert openssl.SSL_get_rbio(ssl) is None
    _ret, b1, b2 = openssl.BIO_new_bio_pair(0, 0)
    openssl.SSL_set_bio(ssl, b1, b1)
    assert openssl.SSL_get_rbio(ssl) == b1 and openssl.SSL_get_wbio(ssl) == b1
    openssl.SSL_free(ssl)
    openssl.BIO_free(b2)
    openssl.SSL_CTX_free(ctx)


# ---------------------------------------------------------------------------------------------- BIO basics


def test_bio_pair_reads_writes_and_retry_flags(openssl: LibsslApi) -> None:
    api = openssl
    ret, b1, b2 = api.BIO_new_bio_pair(64, 64)
    assert ret == 1
    assert api.BIO_get_write_buf_size(b1) == 64
    assert api.BIO_get_write_guarantee(b1) == 64 == api.BIO_ctrl_get_write_guarantee(b1)
    assert api.BIO_write(b1, b"hello") == 5
    assert api.BIO_pending(b2) == 5 == api.BIO_ctrl_pending(b2)
    assert api.BIO_wpending(b1) == 5 == api.BIO_ctrl_wpending(b1)  # own buffer, not yet read by the peer
    assert api.BIO_read(b2, 3) == (3, b"hel")
    assert api.BIO_read_ex(b2, 10) == (1, b"lo")
    ret, data = api.BIO_read(b2, 10)
    assert (ret, data) == (-1, b"")
    assert api.BIO_should_retry(b2) and api.BIO_should_read(b2)
    assert api.BIO_get_read_request(b1) == 10 == api.BIO_ctrl_get_read_request(b1)
    assert api.BIO_ctrl_reset_read_request(b1) == 1
    assert api.BIO_write_ex(b1, b"x" * 100) == (1, 64)
    assert api.BIO_write(b1, b"y") == -1
    assert api.BIO_should_retry(b1) and api.BIO_should_write(b1)
    assert api.BIO_retry_type(b1) == 0x02  # BIO_FLAGS_WRITE
    assert api.BIO_shutdown_wr(b1) == 1
    assert api.BIO_read(b2, 100) == (64, b"x" * 64)
    assert api.BIO_read(b2, 100) == (0, b"")  # EOF after BIO_shutdown_wr: 0, no retry
    assert not api.BIO_should_retry(b2)
    assert api.BIO_eof(b2) == 1
    assert api.BIO_destroy_bio_pair(b1) == 1
    api.BIO_free(b1)
    api.BIO_free(b2)


def test_mem_bio(api: LibsslApi) -> None:
    mem = api.BIO_new(api.BIO_s_mem())
    assert mem is not None
    assert api.BIO_puts(mem, b"line one\nline two") == 17
    assert api.BIO_get_mem_data(mem) == (17, b"line one\nline two")
    assert api.BIO_gets(mem, 100) == (9, b"line one\n")
    assert api.BIO_read(mem, 100) == (8, b"line two")
    assert api.BIO_read(mem, 100) == (-1, b"")  # empty memory BIO: -1 (the default eof return)
    assert api.BIO_free(mem) == 1
    if api.profile.name == "openssl":
        mem = api.BIO_new(api.BIO_s_mem())
        assert api.BIO_read(mem, 100) == (-1, b"")
        assert api.BIO_should_retry(mem) and api.BIO_should_read(mem)
        api.BIO_set_mem_eof_return(mem, 0)
        assert api.BIO_read(mem, 100) == (0, b"")
        assert not api.BIO_should_retry(mem)
        api.BIO_free(mem)
    ro = api.BIO_new_mem_buf(b"static data")
    assert ro is not None
    assert api.BIO_read(ro, 6) == (6, b"static")
    api.BIO_free(ro)


# ---------------------------------------------------------------------------------------------- SSL over BIO pairs


def test_tls13_handshake_and_data(conn: Conn) -> None:
    api = conn.api
    assert api.SSL_version(conn.client) == C.TLS1_3_VERSION == api.SSL_version(conn.server)
    assert api.SSL_get_version(conn.client) == "TLSv1.3"
    cipher = api.SSL_get_current_cipher(conn.client)
    name = api.SSL_CIPHER_get_name(cipher)
    assert name
    assert api.SSL_get_verify_result(conn.client) == C.X509_V_OK
    assert api.SSL_is_server(conn.server) == 1 and api.SSL_is_server(conn.client) == 0

    assert api.SSL_write(conn.client, b"ping from the client") == 20
    assert api.SSL_peek(conn.server, 4) == (4, b"ping")
    assert api.SSL_read(conn.server, 4) == (4, b"ping")
    assert api.SSL_pending(conn.server) == 16
    assert api.SSL_has_pending(conn.server) == 1
    assert api.SSL_read(conn.server, 100) == (16, b" from the client")
    assert api.SSL_write(conn.server, b"pong") == 4
    assert api.SSL_read(conn.client, 100) == (4, b"pong")


def test_ex_functions(openssl: LibsslApi, pki: Pki) -> None:
    conn = _new(openssl, pki)
    _handshake(conn)
    api = conn.api
    assert api.SSL_write_ex(conn.client, b"abc") == (1, 3)
    assert api.SSL_peek_ex(conn.server, 2) == (1, b"ab")
    assert api.SSL_read_ex(conn.server, 10) == (1, b"abc")
    assert api.SSL_read_ex(conn.server, 10) == (0, b"")
    assert api.SSL_get_error(conn.server, 0) == C.SSL_ERROR_WANT_READ
    _free(conn)


def test_want_read_on_an_empty_pair(api: LibsslApi, pki: Pki) -> None:
    conn = _new(api, pki)
    ret = api.SSL_do_handshake(conn.server)  # nothing from the client yet
    assert ret == -1
    assert api.SSL_get_error(conn.server, ret) == C.SSL_ERROR_WANT_READ
    assert api.SSL_want_read(conn.server) == 1
    _handshake(conn)
    ret, data = api.SSL_read(conn.client, 10)
    assert (ret, data) == (-1, b"")
    assert api.SSL_get_error(conn.client, ret) == C.SSL_ERROR_WANT_READ
    assert api.SSL_want(conn.client) == C.SSL_READING
    _free(conn)


def test_want_write_with_a_tiny_buffer(api: LibsslApi, pki: Pki) -> None:
    conn = _new(api, pki, bufsize=512)
    _handshake(conn)
    payload = bytes(range(256)) * 64  # 16 KiB: one full record, bigger than the 512-byte pair buffer
    ret = api.SSL_write(conn.client, payload)
    assert ret == -1
    assert api.SSL_get_error(conn.client, ret) == C.SSL_ERROR_WANT_WRITE
    assert api.SSL_want_write(conn.client) == 1
    received = b""
    for _ in range(200):  # drain on the server side, retry the same write on the client side
        ret, data = api.SSL_read(conn.server, 16384)
        received += data
        if ret <= 0:
            assert api.SSL_get_error(conn.server, ret) == C.SSL_ERROR_WANT_READ
        wret = api.SSL_write(conn.client, payload)
        if wret > 0:
            assert wret == len(payload)
            break
        assert api.SSL_get_error(conn.client, wret) == C.SSL_ERROR_WANT_WRITE
    else:
        raise AssertionError("the write never completed")
    while len(received) < len(payload):
        ret, data = api.SSL_read(conn.server, 16384)
        assert ret > 0, api.SSL_get_error(conn.server, ret)
        received += data
    assert received == payload
    _free(conn)


def test_zero_return_after_close_notify(conn: Conn) -> None:
    api = conn.api
    assert api.SSL_shutdown(conn.client) == 0  # close_notify sent, the peer's not yet received
    assert api.SSL_get_shutdown(conn.client) & C.SSL_SENT_SHUTDOWN
    ret, data = api.SSL_read(conn.server, 10)
    assert (ret, data) == (0, b"")
    assert api.SSL_get_error(conn.server, ret) == C.SSL_ERROR_ZERO_RETURN
    assert api.SSL_get_shutdown(conn.server) & C.SSL_RECEIVED_SHUTDOWN
    assert api.SSL_shutdown(conn.server) == 1


def test_openssl_bidirectional_shutdown_completes(openssl: LibsslApi, pki: Pki) -> None:
    api = openssl
    conn = _new(api, pki)
    _handshake(conn)
    assert api.SSL_shutdown(conn.client) == 0
    assert api.SSL_read(conn.server, 10) == (0, b"")
    assert api.SSL_shutdown(conn.server) == 1
    assert api.SSL_shutdown(conn.client) == 1  # the peer's close_notify is waiting in the pair: completed
    assert api.SSL_get_shutdown(conn.client) == C.SSL_SENT_SHUTDOWN | C.SSL_RECEIVED_SHUTDOWN
    ret, _ = api.SSL_read(conn.client, 10)
    assert ret == 0 and api.SSL_get_error(conn.client, ret) == C.SSL_ERROR_ZERO_RETURN
    _free(conn)


def test_unexpected_eof_is_ssl_error_with_reason(openssl: LibsslApi, pki: Pki) -> None:
    api = openssl
    conn = _new(api, pki)
    _handshake(conn)
    api.ERR_clear_error()
    assert api.BIO_shutdown_wr(conn.client_bio) == 1  # EOF without close_notify
    ret, data = api.SSL_read(conn.server, 10)
    assert ret <= 0 and data == b""
    assert api.SSL_get_error(conn.server, ret) == C.SSL_ERROR_SSL
    code = api.ERR_peek_error()
    assert api.ERR_GET_LIB(code) == C.ERR_LIB_SSL
    assert api.ERR_GET_REASON(code) == C.SSL_R_UNEXPECTED_EOF_WHILE_READING
    assert "unexpected eof while reading" in api.ERR_error_string_n(code, 256)
    _free(conn)


def test_ignore_unexpected_eof_option_turns_it_into_zero_return(openssl: LibsslApi, pki: Pki) -> None:
    api = openssl
    conn = _new(api, pki)
    api.SSL_set_options(conn.server, C.SSL_OP_IGNORE_UNEXPECTED_EOF)
    _handshake(conn)
    api.BIO_shutdown_wr(conn.client_bio)
    ret, _ = api.SSL_read(conn.server, 10)
    assert ret == 0
    assert api.SSL_get_error(conn.server, ret) == C.SSL_ERROR_ZERO_RETURN
    _free(conn)


def test_modes_and_options(api: LibsslApi) -> None:
    ctx = api.SSL_CTX_new(api.TLS_method())
    assert ctx is not None
    ssl = api.SSL_new(ctx)
    before = api.SSL_CTX_get_options(ctx)
    after = api.SSL_CTX_set_options(ctx, C.SSL_OP_NO_TLSv1_2)
    assert after & C.SSL_OP_NO_TLSv1_2 and after == api.SSL_CTX_get_options(ctx)
    assert api.SSL_CTX_clear_options(ctx, C.SSL_OP_NO_TLSv1_2) & C.SSL_OP_NO_TLSv1_2 == before & C.SSL_OP_NO_TLSv1_2
    api.SSL_set_quiet_shutdown(ssl, 1)
    api.SSL_free(ssl)
    api.SSL_CTX_free(ctx)


def test_openssl_mode_macros(openssl: LibsslApi) -> None:
    api = openssl
    ctx = api.SSL_CTX_new(api.TLS_method())
    assert api.SSL_CTX_get_mode(ctx) == C.SSL_MODE_AUTO_RETRY  # the default since 1.1.1
    assert api.SSL_CTX_set_mode(ctx, C.SSL_MODE_ENABLE_PARTIAL_WRITE) == (
        C.SSL_MODE_AUTO_RETRY | C.SSL_MODE_ENABLE_PARTIAL_WRITE
    )
    assert api.SSL_CTX_clear_mode(ctx, C.SSL_MODE_AUTO_RETRY) == C.SSL_MODE_ENABLE_PARTIAL_WRITE
    ssl = api.SSL_new(ctx)
    assert api.SSL_get_mode(ssl) == C.SSL_MODE_ENABLE_PARTIAL_WRITE
    assert api.SSL_set_mode(ssl, C.SSL_MODE_RELEASE_BUFFERS) == (
        C.SSL_MODE_ENABLE_PARTIAL_WRITE | C.SSL_MODE_RELEASE_BUFFERS
    )
    assert api.SSL_clear_mode(ssl, C.SSL_MODE_ENABLE_PARTIAL_WRITE) == C.SSL_MODE_RELEASE_BUFFERS
    assert api.SSL_get_quiet_shutdown(ssl) == 0
    api.SSL_set_quiet_shutdown(ssl, 1)
    assert api.SSL_get_quiet_shutdown(ssl) == 1
    assert api.SSL_CTX_set_max_proto_version(ctx, C.TLS1_2_VERSION) == 1
    assert api.SSL_CTX_get_max_proto_version(ctx) == C.TLS1_2_VERSION
    assert api.SSL_CTX_set_cipher_list(ctx, "no-such-cipher") == 0
    assert api.SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") == 1
    api.ERR_clear_error()
    api.SSL_free(ssl)
    api.SSL_CTX_free(ctx)


def test_ssl_dup_up_ref_and_set0(openssl: LibsslApi) -> None:
    api = openssl
    ctx = api.SSL_CTX_new(api.TLS_method())
    assert api.SSL_CTX_up_ref(ctx) == 1
    ssl = api.SSL_new(ctx)
    assert api.SSL_up_ref(ssl) == 1
    api.SSL_free(ssl)  # drops the extra reference only
    rbio, wbio = api.BIO_new(api.BIO_s_mem()), api.BIO_new(api.BIO_s_mem())
    api.SSL_set0_rbio(ssl, rbio)
    api.SSL_set0_wbio(ssl, wbio)
    assert api.SSL_get_rbio(ssl) == rbio and api.SSL_get_wbio(ssl) == wbio
    dup = api.SSL_dup(ssl)
    assert dup is not None and dup != ssl
    api.SSL_free(dup)
    api.SSL_free(ssl)
    api.SSL_CTX_free(ctx)
    api.SSL_CTX_free(ctx)


def test_key_update(openssl: LibsslApi, pki: Pki) -> None:
    api = openssl
    conn = _new(api, pki)
    _handshake(conn)
    assert api.SSL_get_key_update_type(conn.client) == C.SSL_KEY_UPDATE_NONE
    assert api.SSL_key_update(conn.client, C.SSL_KEY_UPDATE_REQUESTED) == 1
    assert api.SSL_get_key_update_type(conn.client) == C.SSL_KEY_UPDATE_REQUESTED
    assert api.SSL_write(conn.client, b"after update") == 12
    assert api.SSL_get_key_update_type(conn.client) == C.SSL_KEY_UPDATE_NONE
    assert api.SSL_read(conn.server, 100) == (12, b"after update")
    assert api.SSL_key_update(conn.client, 7) == 0  # an invalid type
    assert api.ERR_GET_REASON(api.ERR_get_error()) == C.SSL_R_INVALID_KEY_UPDATE_TYPE
    _free(conn)


# ---------------------------------------------------------------------------------------------- the error queue


def test_err_get_lib_and_reason_use_the_30_layout(openssl: LibsslApi) -> None:
    api = openssl
    packed = (C.ERR_LIB_SSL << C.ERR_LIB_OFFSET) | C.SSL_R_UNEXPECTED_EOF_WHILE_READING
    assert api.ERR_GET_LIB(packed) == C.ERR_LIB_SSL
    assert api.ERR_GET_REASON(packed) == C.SSL_R_UNEXPECTED_EOF_WHILE_READING
    system = C.ERR_SYSTEM_FLAG | errno_module.ECONNREFUSED
    assert api.ERR_GET_LIB(system) == C.ERR_LIB_SYS
    assert api.ERR_GET_REASON(system) == errno_module.ECONNREFUSED
    fatal = (C.ERR_LIB_SSL << C.ERR_LIB_OFFSET) | C.ERR_R_INTERNAL_ERROR
    assert api.ERR_GET_REASON(fatal) == C.ERR_R_INTERNAL_ERROR


def test_error_queue_with_a_system_error(openssl: LibsslApi, tmp_path: Path) -> None:
    api = openssl
    api.ERR_clear_error()
    assert api.ERR_get_error() == 0
    ctx = api.SSL_CTX_new(api.TLS_server_method())
    missing = tmp_path / "no-such-file.pem"
    assert api.SSL_CTX_use_certificate_file(ctx, str(missing), C.SSL_FILETYPE_PEM) == 0
    first, last = api.ERR_peek_error(), api.ERR_peek_last_error()
    assert first != 0 and last != 0
    assert api.ERR_GET_LIB(first) == C.ERR_LIB_SYS  # fopen failed: the errno, with ERR_SYSTEM_FLAG
    assert api.ERR_GET_REASON(first) == errno_module.ENOENT
    assert api.ERR_get_error() == first
    api.ERR_clear_error()
    assert api.ERR_peek_error() == 0
    api.SSL_CTX_free(ctx)


# ---------------------------------------------------------------------------------------------- sockets


def test_bio_socket_listen_accept_connect_on_loopback(openssl: LibsslApi) -> None:
    api = openssl
    loopback = socket.inet_aton("127.0.0.1")
    listen_addr, peer, local = api.BIO_ADDR_new(), api.BIO_ADDR_new(), api.BIO_ADDR_new()
    assert api.BIO_ADDR_rawmake(listen_addr, socket.AF_INET, loopback, 0) == 1
    assert api.BIO_ADDR_family(listen_addr) == socket.AF_INET
    assert api.BIO_ADDR_rawaddress(listen_addr) == (1, loopback)
    listener = api.BIO_socket(socket.AF_INET, socket.SOCK_STREAM, 0, 0)
    client = api.BIO_socket(socket.AF_INET, socket.SOCK_STREAM, 0, 0)
    accepted = -1
    try:
        assert listener >= 0 and client >= 0
        assert api.BIO_listen(listener, listen_addr, BIO_SOCK_REUSEADDR) == 1
        assert api.BIO_sock_info(listener, BIO_SOCK_INFO_ADDRESS, local) == 1
        port = socket.ntohs(api.BIO_ADDR_rawport(local))
        assert port != 0
        assert api.BIO_ADDR_service_string(local, 1) == str(port)
        assert api.BIO_ADDR_hostname_string(local, 1) == "127.0.0.1"
        ret, infos = api.BIO_lookup_ex("127.0.0.1", str(port), BIO_LOOKUP_SERVER, socket.AF_INET,
                                       socket.SOCK_STREAM, 0)  # fmt: skip
        assert ret == 1 and infos is not None
        target = api.BIO_ADDRINFO_address(infos)
        assert api.BIO_ADDRINFO_family(infos) == socket.AF_INET
        assert api.BIO_ADDRINFO_socktype(infos) == socket.SOCK_STREAM
        assert api.BIO_connect(client, target, 0) == 1
        api.BIO_ADDRINFO_free(infos)
        accepted = api.BIO_accept_ex(listener, peer, 0)
        assert accepted >= 0
        assert api.BIO_ADDR_hostname_string(peer, 1) == "127.0.0.1"
        bio = api.BIO_new_socket(client, 0)  # BIO_NOCLOSE
        assert api.BIO_get_fd(bio) == (client, client)
        assert api.BIO_write(bio, b"over tcp") == 8
        server_bio = api.BIO_new(api.BIO_s_socket())
        assert api.BIO_set_fd(server_bio, accepted, 0) == 1
        assert api.BIO_read(server_bio, 100) == (8, b"over tcp")
        api.BIO_free(bio)
        api.BIO_free(server_bio)
    finally:
        for fd in (accepted, client, listener):
            if fd >= 0:
                assert api.BIO_closesocket(fd) == 1
        for addr in (listen_addr, peer, local):
            api.BIO_ADDR_free(addr)


def test_bio_connect_refused_sets_errno(openssl: LibsslApi) -> None:
    api = openssl
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nobody listens on this port now
    addr = api.BIO_ADDR_new()
    api.BIO_ADDR_rawmake(addr, socket.AF_INET, socket.inet_aton("127.0.0.1"), socket.htons(port))
    sock = api.BIO_socket(socket.AF_INET, socket.SOCK_STREAM, 0, 0)
    try:
        api.ERR_clear_error()
        assert api.BIO_connect(sock, addr, 0) == 0
        assert api.errno() == errno_module.ECONNREFUSED
        code = api.ERR_get_error()
        assert api.ERR_GET_LIB(code) == C.ERR_LIB_SYS
        assert api.ERR_GET_REASON(code) == errno_module.ECONNREFUSED
    finally:
        api.BIO_closesocket(sock)
        api.BIO_ADDR_free(addr)
        api.ERR_clear_error()


# ---------------------------------------------------------------------------------------------- wolfSSL as observed
# Each assertion below pins a place where wolfSSL 5.5.4's compatibility layer differs from the OpenSSL 3.0 pages;
# they become expected-deviation entries. If one starts failing, wolfSSL changed: re-check the deviation.


def test_wolfssl_deviation_retry_flag_not_set_on_empty_read(wolfssl: LibsslApi) -> None:
    api = wolfssl
    mem = api.BIO_new(api.BIO_s_mem())
    assert api.BIO_read(mem, 10) == (-1, b"")
    assert api.BIO_should_retry(mem) == 0  # BIO_s_mem.pod / BIO_should_retry.pod: the retry flag is set
    assert api.BIO_set_mem_eof_return(mem, 0) == 1
    assert api.BIO_read(mem, 10) == (-1, b"")  # BIO_s_mem.pod: an empty BIO then returns 0 (the eof value)
    api.BIO_free(mem)
    _ret, b1, b2 = api.BIO_new_bio_pair(0, 0)
    assert api.BIO_read(b2, 10) == (-1, b"")
    assert api.BIO_should_retry(b2) == 0  # BIO_s_bio.pod: reading an empty pair sets the retry flag
    api.BIO_free(b1)
    api.BIO_free(b2)


def test_wolfssl_deviation_modes_are_not_reported(wolfssl: LibsslApi) -> None:
    api = wolfssl
    ctx = api.SSL_CTX_new(api.TLS_method())
    assert api.SSL_CTX_get_mode(ctx) == 0  # OpenSSL: SSL_MODE_AUTO_RETRY by default
    api.SSL_CTX_set_mode(ctx, C.SSL_MODE_ENABLE_PARTIAL_WRITE)
    assert api.SSL_CTX_get_mode(ctx) == 0  # SSL_CTX_set_mode.pod: get_mode returns the mode just set
    ssl = api.SSL_new(ctx)
    assert api.SSL_set_mode(ssl, C.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) == 0  # pod: returns the new bitmask
    assert api.SSL_get_mode(ssl) == 0
    api.SSL_free(ssl)
    api.SSL_CTX_free(ctx)


def test_wolfssl_deviation_cipher_names(wolfssl: LibsslApi, pki: Pki) -> None:
    conn = _new(wolfssl, pki)
    _handshake(conn)
    name = wolfssl.SSL_CIPHER_get_name(wolfssl.SSL_get_current_cipher(conn.client))
    assert name is not None and name.startswith("TLS13-")  # OpenSSL/IANA: TLS_AES_128_GCM_SHA256
    _free(conn)


def test_wolfssl_deviation_second_shutdown(wolfssl: LibsslApi, pki: Pki) -> None:
    api = wolfssl
    conn = _new(api, pki)
    _handshake(conn)
    assert api.SSL_shutdown(conn.client) == 0
    assert api.SSL_read(conn.server, 10) == (0, b"")
    assert api.SSL_shutdown(conn.server) == 1
    # The server's close_notify is waiting in the pair: SSL_shutdown.pod says the call returns 1 then.
    assert api.SSL_shutdown(conn.client) == 0
    assert api.SSL_shutdown(conn.client) == 1
    assert api.SSL_get_shutdown(conn.client) == C.SSL_SENT_SHUTDOWN | C.SSL_RECEIVED_SHUTDOWN
    _free(conn)


def test_wolfssl_deviation_get_error_returns_internal_codes(wolfssl: LibsslApi, pki: Pki) -> None:
    api = wolfssl
    conn = _new(api, pki)
    api.SSL_set1_host(conn.client, "wrong.test")  # the certificate is for server.test
    assert api.SSL_do_handshake(conn.client) == -1
    assert api.SSL_do_handshake(conn.server) == -1
    ret = api.SSL_do_handshake(conn.client)
    assert ret == -1
    err = api.SSL_get_error(conn.client, ret)
    assert err == -322  # wolfSSL DOMAIN_NAME_MISMATCH; SSL_get_error.pod: one of the SSL_ERROR_* (here SSL_ERROR_SSL)
    assert api.SSL_get_verify_result(conn.client) == C.X509_V_OK  # OpenSSL: X509_V_ERR_HOSTNAME_MISMATCH
    code = api.ERR_peek_error()
    assert code == 322 and api.ERR_GET_LIB(code) == 0  # ERR_GET_LIB.pod: the library (ERR_LIB_SSL)
    _free(conn)


def test_zero_length_ssl_write(api: LibsslApi, pki: Pki) -> None:
    """SSL_write.pod: num=0 "will return an error". What SSL_get_error then says differs (both pinned here)."""
    conn = _new(api, pki)
    _handshake(conn)
    ret = api.SSL_write(conn.client, b"")
    assert ret == 0
    err = api.SSL_get_error(conn.client, ret)
    if api.profile.name == "openssl":
        assert err == C.SSL_ERROR_SYSCALL  # "fatal I/O error", yet the connection stays usable:
        assert api.ERR_peek_error() == 0
    else:
        assert err == C.SSL_ERROR_NONE  # SSL_get_error.pod: NONE only for ret > 0
    assert api.SSL_write(conn.client, b"x") == 1
    assert api.SSL_read(conn.server, 10) == (1, b"x")
    _free(conn)
