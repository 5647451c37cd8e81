"""Library profiles and OpenSSL-ABI libraries given by path: name, version and spelling read from the library."""

from __future__ import annotations

import os

import pytest

from conformance.capi.libssl import OPENSSL, MissingSymbol
from conformance.capi.profiles import BORINGSSL, BORINGSSL_LIBRARIES, profile_for_version
from conformance.stacks import StackUnavailable, load_stack
from engine.ssl import constants as K

SYSTEM = ("/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3")
needs_system = pytest.mark.skipif(not all(map(os.path.exists, SYSTEM)), reason="no system libssl.so.3 at " + SYSTEM[0])
needs_boringssl = pytest.mark.skipif(not all(map(os.path.exists, BORINGSSL_LIBRARIES)),
                                     reason="android-libboringssl is not installed (scripts/bootstrap as root)")


def test_profile_follows_what_the_library_calls_itself() -> None:
    assert profile_for_version("BoringSSL") is BORINGSSL
    assert profile_for_version("OpenSSL 3.0.13 30 Jan 2024") is OPENSSL


@needs_system
def test_a_library_by_path_is_named_by_its_version_string() -> None:
    stack = load_stack("libssl:" + ",".join(SYSTEM))
    assert stack.name.startswith("openssl-3.")
    assert stack.version().startswith("OpenSSL 3.")
    assert stack.expectations_path is not None and stack.expectations_path.name == "libssl.toml"


def test_a_wrong_path_is_a_clear_error(tmp_path: object) -> None:
    with pytest.raises(StackUnavailable, match="does not exist"):
        load_stack("libssl:/nonexistent/libssl.so")
    with pytest.raises(StackUnavailable, match="expected libssl:PATH"):
        load_stack("libssl:")


@needs_boringssl
def test_boringssl_by_path_gets_the_boringssl_profile() -> None:
    stack = load_stack("libssl:" + ",".join(BORINGSSL_LIBRARIES))
    assert stack.name == "boringssl"
    api = stack.capi  # type: ignore[attr-defined]
    assert api.profile is BORINGSSL


@needs_boringssl
def test_boringssl_spelling() -> None:
    api = load_stack("boringssl").capi  # type: ignore[attr-defined]
    # A macro of 3.0 that BoringSSL exports as a function, with BoringSSL's prototype (size_t).
    ret, b1, b2 = api.BIO_new_bio_pair(0, 0)
    assert ret == 1 and api.BIO_write(b1, b"abc") == 3 and api.BIO_pending(b2) == 3
    # A macro BoringSSL's headers do not have: not applicable, with the reason.
    with pytest.raises(MissingSymbol, match="BoringSSL's headers define no such macro"):
        api.BIO_get_write_guarantee(b1)
    api.BIO_free(b1)
    api.BIO_free(b2)
    # SSL_want's codes and the mode bits translated as recompiling against BoringSSL's ssl.h would.
    ctx = api.SSL_CTX_new(api.TLS_method())
    ssl = api.SSL_new(ctx)
    assert api.SSL_want(ssl) == K.SSL_NOTHING
    api.SSL_set_mode(ssl, K.SSL_MODE_SEND_FALLBACK_SCSV)
    assert api.SSL_get_mode(ssl) & 0x400
    # Error codes decoded with BoringSSL's own layout: (lib << 24) | reason.
    assert api.ERR_GET_LIB(0x1100006F) == 17 and api.ERR_GET_REASON(0x1100006F) == 111
    api.SSL_free(ssl)
    api.SSL_CTX_free(ctx)


@pytest.mark.skipif(not os.path.exists("/usr/lib/x86_64-linux-gnu/libgnutls-openssl.so.27"),
                    reason="libgnutls-openssl27 is not installed (scripts/bootstrap as root)")
def test_gnutls_layer_version_and_what_it_lacks() -> None:
    stack = load_stack("gnutls")
    assert stack.version().startswith("GnuTLS 3.")
    api = stack.capi  # type: ignore[attr-defined]
    with pytest.raises(MissingSymbol, match="does not export BIO_new_bio_pair"):
        api.BIO_new_bio_pair(0, 0)
    with pytest.raises(MissingSymbol, match="takes a GnuTLS session"):
        api.BIO_get_fd(None)
    # the socketpair endpoint plays both roles and reports the layer's own codes; it has no error queue
    assert stack.lacks("client_role") is None and stack.lacks("server_role") is None
    assert stack.lacks("error_codes") is None and stack.lacks("raw_return_values") is None
    assert "ERR_clear_error" in str(stack.lacks("error_queue"))
