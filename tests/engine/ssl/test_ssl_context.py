"""engine.ssl.context: SSL_CTX life cycle, modes, options, versions, certificates, suites and groups."""

from __future__ import annotations

from pathlib import Path

import engine.ssl as E
from conformance.certs import default_pki
from engine import err
from engine.ssl import constants as K


def _reason() -> tuple[int, int]:
    code = err.ERR_peek_error()
    return err.ERR_GET_LIB(code), err.ERR_GET_REASON(code)


def test_new_needs_a_method() -> None:
    err.ERR_clear_error()
    assert E.SSL_CTX_new(None) is None
    assert _reason() == (err.ERR_LIB_SSL, K.SSL_R_NULL_SSL_METHOD_PASSED)


def test_defaults_of_a_new_context() -> None:
    ctx = E.SSL_CTX_new(E.TLS_method())
    # SSL_CTX_set_mode: AUTO_RETRY is on by default in 3.0
    assert E.SSL_CTX_get_mode(ctx) == K.SSL_MODE_AUTO_RETRY
    assert E.SSL_CTX_get_options(ctx) & K.SSL_OP_NO_COMPRESSION
    assert E.SSL_CTX_get_verify_mode(ctx) == K.SSL_VERIFY_NONE
    assert E.SSL_CTX_get_quiet_shutdown(ctx) == 0
    assert E.SSL_CTX_get_num_tickets(ctx) == 2
    E.SSL_CTX_free(ctx)


def test_mode_and_options_return_the_new_bitmask() -> None:
    ctx = E.SSL_CTX_new(E.TLS_client_method())
    assert E.SSL_CTX_set_mode(ctx, K.SSL_MODE_ENABLE_PARTIAL_WRITE) == K.SSL_MODE_AUTO_RETRY | 1
    assert E.SSL_CTX_clear_mode(ctx, K.SSL_MODE_AUTO_RETRY) == K.SSL_MODE_ENABLE_PARTIAL_WRITE
    before = E.SSL_CTX_get_options(ctx)
    assert E.SSL_CTX_set_options(ctx, K.SSL_OP_IGNORE_UNEXPECTED_EOF) == before | K.SSL_OP_IGNORE_UNEXPECTED_EOF
    assert E.SSL_CTX_clear_options(ctx, K.SSL_OP_IGNORE_UNEXPECTED_EOF) == before
    assert E.SSL_CTX_ctrl(ctx, K.SSL_CTRL_MODE, K.SSL_MODE_RELEASE_BUFFERS) & K.SSL_MODE_RELEASE_BUFFERS
    E.SSL_CTX_free(ctx)


def test_protocol_limits() -> None:
    ctx = E.SSL_CTX_new(E.TLS_method())
    assert E.SSL_CTX_set_min_proto_version(ctx, K.TLS1_3_VERSION) == 1
    assert E.SSL_CTX_set_max_proto_version(ctx, K.TLS1_2_VERSION) == 1
    assert E.SSL_CTX_get_min_proto_version(ctx) == K.TLS1_3_VERSION
    assert E.SSL_CTX_get_max_proto_version(ctx) == K.TLS1_2_VERSION
    assert E.SSL_CTX_set_max_proto_version(ctx, 0x9999) == 0
    E.SSL_CTX_free(ctx)


def test_reference_counts() -> None:
    ctx = E.SSL_CTX_new(E.TLS_method())
    assert E.SSL_CTX_up_ref(ctx) == 1
    E.SSL_CTX_free(ctx)
    assert E.SSL_CTX_get_mode(ctx) == K.SSL_MODE_AUTO_RETRY  # still alive: one reference left
    ssl = E.SSL_new(ctx)  # an SSL holds a reference of its own
    E.SSL_CTX_free(ctx)
    assert E.SSL_get_SSL_CTX(ssl) is ctx and E.SSL_CTX_get_mode(ctx) == K.SSL_MODE_AUTO_RETRY
    E.SSL_free(ssl)
    err.ERR_clear_error()
    assert E.SSL_CTX_up_ref(ctx) == 0, "the last reference went with the SSL"
    E.SSL_CTX_free(None)  # NULL: nothing happens


def test_certificate_files() -> None:
    pki = default_pki()
    ctx = E.SSL_CTX_new(E.TLS_server_method())
    assert E.SSL_CTX_use_certificate_file(ctx, str(pki.server.cert_path).encode(), K.SSL_FILETYPE_PEM) == 1
    assert E.SSL_CTX_use_PrivateKey_file(ctx, str(pki.server.key_path).encode(), K.SSL_FILETYPE_PEM) == 1
    assert E.SSL_CTX_use_certificate_chain_file(ctx, str(pki.server.cert_path)) == 1
    assert E.SSL_CTX_load_verify_locations(ctx, str(pki.ca_path).encode(), None) == 1
    E.SSL_CTX_free(ctx)


def test_missing_file_leaves_a_system_error_first(tmp_path: Path) -> None:
    ctx = E.SSL_CTX_new(E.TLS_method())
    err.ERR_clear_error()
    assert E.SSL_CTX_use_certificate_file(ctx, str(tmp_path / "none.pem").encode(), K.SSL_FILETYPE_PEM) == 0
    assert err.ERR_GET_LIB(err.ERR_peek_error()) == err.ERR_LIB_SYS
    assert err.ERR_GET_LIB(err.ERR_peek_last_error()) == err.ERR_LIB_SSL
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"not a certificate")
    err.ERR_clear_error()
    assert E.SSL_CTX_use_certificate_file(ctx, str(garbage), K.SSL_FILETYPE_PEM) == 0
    assert err.ERR_peek_error() != 0
    err.ERR_clear_error()
    assert E.SSL_CTX_use_certificate_file(ctx, str(garbage), 99) == 0
    assert _reason() == (err.ERR_LIB_SSL, K.SSL_R_BAD_SSL_FILETYPE)
    assert E.SSL_CTX_load_verify_locations(ctx, None, None) == 0
    err.ERR_clear_error()
    E.SSL_CTX_free(ctx)


def test_ciphersuites_and_groups() -> None:
    ctx = E.SSL_CTX_new(E.TLS_method())
    assert E.SSL_CTX_set_ciphersuites(ctx, b"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256") == 1
    err.ERR_clear_error()
    assert E.SSL_CTX_set_ciphersuites(ctx, b"TLS_NO_SUCH_SUITE") == 0
    assert _reason() == (err.ERR_LIB_SSL, K.SSL_R_NO_CIPHER_MATCH)
    assert E.SSL_CTX_set1_groups_list(ctx, b"P-256:x25519") == 1
    err.ERR_clear_error()
    assert E.SSL_CTX_set1_groups_list(ctx, b"ffdhe2048") == 0
    assert err.ERR_peek_error() != 0
    err.ERR_clear_error()
    E.SSL_CTX_free(ctx)


def test_freed_context_is_refused_with_an_entry() -> None:
    ctx = E.SSL_CTX_new(E.TLS_method())
    E.SSL_CTX_free(ctx)
    err.ERR_clear_error()
    assert E.SSL_new(ctx) is None
    assert _reason() == (err.ERR_LIB_SSL, err.ERR_GET_REASON(err.ERR_R_PASSED_INVALID_ARGUMENT))
    err.ERR_clear_error()
    assert E.SSL_new(None) is None
    assert _reason() == (err.ERR_LIB_SSL, K.SSL_R_NULL_SSL_CTX)
    err.ERR_clear_error()


def test_new_ex_takes_the_default_property_query_only() -> None:
    for propq in (None, b"", b"provider=default", "?provider=legacy"):
        ctx = E.SSL_CTX_new_ex(None, propq, E.TLS_method())
        assert ctx is not None, propq
        E.SSL_CTX_free(ctx)
    err.ERR_clear_error()
    assert E.SSL_CTX_new_ex(None, b"provider=nonexistent", E.TLS_method()) is None
    assert err.ERR_peek_error() != 0
    err.ERR_clear_error()
