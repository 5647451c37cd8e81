"""Library profiles: how each OpenSSL-ABI library spells the OpenSSL 3.0 API, as data.

A profile (:class:`~conformance.capi.libssl.SymbolProfile`) is everything that differs between one library and
OpenSSL 3.0 for a C program written against the 3.0 pages and compiled against that library's headers: the symbol
names (a prefix, renames), the macros its header turns into exported functions, the macros its header does not
define at all, its own prototypes where they differ from 3.0 (integer widths matter in an ABI call), the values its
header gives to the mode constants, and how its header unpacks error codes. A new library is one profile here; the
binding (:class:`~conformance.capi.libssl.LibsslApi`) and the calling convention of :mod:`conformance.capi` do not
change.

Why a table and not cffi's ABI mode
===================================

cffi's ABI mode reads declarations written as C (``int SSL_read(SSL *, void *, int);``), which is what
``_SIGNATURES`` in :mod:`conformance.capi.libssl` encodes with ctypes types. But the bulk of that module is not
declarations: it is the calling convention (output parameters returned after the value, the write buffer reused
for a retried ``SSL_write``, macros expanded the way each library's header expands them, callbacks whose Python
exceptions are re-raised after the C call). Rewriting it onto cffi would replace about 150 lines of prototypes,
keep the other 1,600, add a second FFI and its per-library ``cdef`` parsing (each library declares the opaque types
and a few prototypes differently), and gain no check the table lacks: a wrong width is wrong in either spelling.
So the prototypes stay one table, and what varies per library is this small data file, reviewed against each
library's own header.

Where a profile says a name is unavailable, a call raises :class:`~conformance.capi.libssl.MissingSymbol` and the
case is *not applicable* with the profile's reason; a name it does not mention is looked up in the library, and a
symbol the library does not export is also *not applicable*, naming the symbol. What the library does differently
once a call is made is not the profile's business: that is a finding, recorded in the stack's expectations file.
"""

from __future__ import annotations

from ctypes import c_char_p, c_int, c_long, c_size_t, c_uint16, c_uint32, c_ulong, c_void_p
from typing import Final

from conformance.capi.libssl import OPENSSL, WOLFSSL, SymbolProfile
from engine.ssl import constants as K

__all__ = ["BORINGSSL", "BORINGSSL_LIBRARIES", "GNUTLS", "GNUTLS_LIBRARIES", "PROFILES", "profile_for_version"]

_H = c_void_p

# BoringSSL as Android 13 ships it (Debian's android-libboringssl 13.0.0+r24): libssl.so.0 / libcrypto.so.0, no
# symbol prefix. Checked against include/openssl/{ssl,bio,err}.h of BoringSSL and the symbols the two libraries
# export (nm -D).
BORINGSSL_LIBRARIES: Final = ("/usr/lib/x86_64-linux-gnu/android/libssl.so.0",
                              "/usr/lib/x86_64-linux-gnu/android/libcrypto.so.0")

_NOT_IN_BORINGSSL = ("BoringSSL's headers define no such macro and the library exports no such function "
                     "(BoringSSL replaced most BIO_ctrl/SSL_ctrl macros by functions and dropped the rest)")

BORINGSSL: Final = SymbolProfile(
    name="boringssl",
    # Macros of 3.0 that BoringSSL's headers declare as exported functions.
    macro_functions=frozenset({
        "BIO_pending", "BIO_wpending", "BIO_eof", "BIO_flush", "BIO_reset", "BIO_set_close", "BIO_set_fd",
        "BIO_get_fd", "BIO_set_mem_eof_return", "BIO_get_mem_data", "BIO_should_retry", "BIO_should_read",
        "BIO_should_write", "BIO_should_io_special", "BIO_shutdown_wr", "BIO_set_retry_read", "BIO_set_retry_write",
        "BIO_set_retry_special", "BIO_clear_retry_flags", "SSL_CTX_set_mode", "SSL_CTX_clear_mode",
        "SSL_CTX_get_mode", "SSL_set_mode", "SSL_clear_mode", "SSL_get_mode", "SSL_CTX_set_min_proto_version",
        "SSL_CTX_set_max_proto_version", "SSL_CTX_get_min_proto_version", "SSL_CTX_get_max_proto_version",
        "SSL_set_min_proto_version", "SSL_set_max_proto_version", "SSL_set_tlsext_host_name",
        "SSL_CTX_set1_groups_list", "SSL_get_ex_new_index", "BIO_set_ssl", "BIO_set_conn_hostname",
        "BIO_set_conn_port", "BIO_set_nbio", "BIO_do_connect", "BIO_get_mem_ptr", "BIO_set_mem_buf",
        "SSL_CTX_set_read_ahead", "SSL_CTX_get_read_ahead", "SSL_CTX_set_max_send_fragment",
        "SSL_set_max_send_fragment", "SSL_CTX_sess_number",
        "SSL_CTX_set_tlsext_servername_callback", "SSL_CTX_set_tlsext_servername_arg",
        # 3.0 macros over SSL_CTX_ctrl / SSL_ctrl / BIO_ctrl that ssl.h and bio.h declare as functions (nm -D
        # --defined-only lists each; libssl.so.0 exports neither SSL_CTX_ctrl nor SSL_ctrl, so the 3.0 expansion
        # cannot be called at all).
        "BIO_seek", "BIO_tell", "BIO_set_write_buffer_size", "SSL_CTX_get_max_cert_list", "SSL_get_max_cert_list",
        "SSL_CTX_set_session_cache_mode", "SSL_CTX_get_session_cache_mode", "SSL_CTX_sess_set_cache_size",
        "SSL_CTX_sess_get_cache_size", "SSL_CTX_sess_connect", "SSL_CTX_sess_connect_good",
        "SSL_CTX_sess_connect_renegotiate", "SSL_CTX_sess_accept", "SSL_CTX_sess_accept_good",
        "SSL_CTX_sess_accept_renegotiate", "SSL_CTX_sess_hits", "SSL_CTX_sess_cb_hits", "SSL_CTX_sess_misses",
        "SSL_CTX_sess_timeouts", "SSL_CTX_sess_cache_full", "SSL_get_secure_renegotiation_support",
    }),
    # Android 13's BoringSSL predates SSL_CTX_set1_groups_list; the same function is exported under its older name.
    # SSL_get_peer_certificate is BoringSSL's get1 (ssl.h: "The caller must call X509_free on the result");
    # its stack functions are the older sk_num / sk_value with size_t indexes.
    renames={"SSL_CTX_set1_groups_list": "SSL_CTX_set1_curves_list",
             "SSL_get1_peer_certificate": "SSL_get_peer_certificate",
             "OPENSSL_sk_num": "sk_num", "OPENSSL_sk_value": "sk_value"},
    unavailable={
        **{name: _NOT_IN_BORINGSSL for name in (
            "BIO_make_bio_pair", "BIO_destroy_bio_pair", "BIO_set_write_buf_size", "BIO_get_write_buf_size",
            "BIO_get_write_guarantee", "BIO_get_read_request", "BIO_get_close", "BIO_get_flags", "BIO_retry_type",
            "ERR_FATAL_ERROR", "SSL_want_nothing", "SSL_want_x509_lookup", "SSL_want_retry_verify",
            "SSL_want_async", "SSL_want_async_job", "SSL_want_client_hello_cb",
            # the macros of BIO_f_ssl.pod, BIO_s_connect.pod and BIO_s_accept.pod it has neither as macro nor as
            # function (it has no accept BIO at all)
            "BIO_get_ssl", "BIO_do_handshake", "BIO_set_ssl_mode", "BIO_set_ssl_renegotiate_bytes",
            "BIO_set_ssl_renegotiate_timeout", "BIO_get_num_renegotiates", "BIO_set_conn_address",
            "BIO_set_conn_ip_family", "BIO_get_conn_hostname", "BIO_get_conn_port", "BIO_get_conn_address",
            "BIO_get_conn_ip_family", "BIO_do_accept", "BIO_set_nbio_accept", "BIO_set_accept_name",
            "BIO_set_accept_port", "BIO_set_accept_bios", "BIO_set_accept_ip_family", "BIO_get_accept_name",
            "BIO_get_accept_port", "BIO_get_accept_ip_family", "BIO_get_peer_name", "BIO_get_peer_port",
            "BIO_set_bind_mode", "BIO_get_bind_mode",
            "SSL_CTX_set_split_send_fragment", "SSL_set_split_send_fragment", "SSL_CTX_set_max_pipelines",
            "SSL_set_max_pipelines", "SSL_CTX_set_default_read_ahead", "SSL_CTX_get_default_read_ahead",
        )},
        **{name: "BoringSSL does not implement max_fragment_length (RFC 6066): its ssl.h declares no such "
                 "function and libssl.so.0 exports none (nm -D)"
           for name in ("SSL_CTX_set_tlsext_max_fragment_length", "SSL_set_tlsext_max_fragment_length",
                        "SSL_SESSION_get_max_fragment_length")},
        # BoringSSL's CRYPTO_get_ex_new_index(class, out_index, argl, argp, free_func) is another function than
        # 3.0's; called with 3.0's arguments it writes through a NULL pointer (seen: a segmentation fault).
        "CRYPTO_get_ex_new_index": "BoringSSL's CRYPTO_get_ex_new_index has another prototype (class, out_index, "
                                   "argl, argp, free_func) than OpenSSL 3.0's",
        # ssl.h: void SSL_CTX_set_max_cert_list(SSL_CTX *, size_t) and void SSL_set_max_cert_list(SSL *, size_t);
        # 3.0's macros return the previous limit, which BoringSSL's functions do not give back.
        **{name: "BoringSSL's function returns void (ssl.h), not the previous limit 3.0's macro returns"
           for name in ("SSL_CTX_set_max_cert_list", "SSL_set_max_cert_list")},
        "SSL_set_retry_verify": _NOT_IN_BORINGSSL,
    },
    signatures={
        # ssl.h: SSL_CTX_sess_number is a function (size_t, read as long)
        "SSL_CTX_sess_number": (c_long, (_H,)),
        # bio.h: functions where 3.0 has BIO_ctrl macros
        "BIO_get_mem_ptr": (c_int, (_H, c_void_p)),
        "BIO_set_mem_buf": (c_int, (_H, c_void_p, c_int)),
        # BoringSSL's own prototypes where they differ from 3.0 (a uint32_t result read as uint64_t would carry
        # whatever the upper half of the register held).
        "BIO_pending": (c_size_t, (_H,)),
        "BIO_wpending": (c_size_t, (_H,)),
        "BIO_eof": (c_int, (_H,)),
        "BIO_flush": (c_int, (_H,)),
        "BIO_reset": (c_int, (_H,)),
        "BIO_set_close": (c_int, (_H, c_int)),
        "BIO_set_fd": (c_int, (_H, c_int, c_int)),
        "BIO_get_fd": (c_int, (_H, c_void_p)),
        "BIO_set_mem_eof_return": (c_int, (_H, c_int)),
        "BIO_get_mem_data": (c_long, (_H, c_void_p)),
        "BIO_should_retry": (c_int, (_H,)),
        "BIO_should_read": (c_int, (_H,)),
        "BIO_should_write": (c_int, (_H,)),
        "BIO_should_io_special": (c_int, (_H,)),
        "BIO_shutdown_wr": (c_int, (_H,)),
        "BIO_set_retry_read": (None, (_H,)),
        "BIO_set_retry_write": (None, (_H,)),
        "BIO_set_retry_special": (None, (_H,)),
        "BIO_clear_retry_flags": (None, (_H,)),
        "SSL_CTX_set_read_ahead": (c_int, (_H, c_int)),
        "SSL_CTX_get_read_ahead": (c_int, (_H,)),
        "SSL_CTX_set_max_send_fragment": (c_int, (_H, c_size_t)),
        "SSL_set_max_send_fragment": (c_int, (_H, c_size_t)),
        "SSL_CTX_set_options": (c_uint32, (_H, c_uint32)),
        "SSL_CTX_get_options": (c_uint32, (_H,)),
        "SSL_CTX_clear_options": (c_uint32, (_H, c_uint32)),
        "SSL_set_options": (c_uint32, (_H, c_uint32)),
        "SSL_get_options": (c_uint32, (_H,)),
        "SSL_clear_options": (c_uint32, (_H, c_uint32)),
        "SSL_CTX_set_mode": (c_uint32, (_H, c_uint32)),
        "SSL_CTX_clear_mode": (c_uint32, (_H, c_uint32)),
        "SSL_CTX_get_mode": (c_uint32, (_H,)),
        "SSL_set_mode": (c_uint32, (_H, c_uint32)),
        "SSL_clear_mode": (c_uint32, (_H, c_uint32)),
        "SSL_get_mode": (c_uint32, (_H,)),
        "SSL_CTX_set_min_proto_version": (c_int, (_H, c_uint16)),
        "SSL_CTX_set_max_proto_version": (c_int, (_H, c_uint16)),
        "SSL_CTX_get_min_proto_version": (c_uint16, (_H,)),
        "SSL_CTX_get_max_proto_version": (c_uint16, (_H,)),
        "SSL_set_min_proto_version": (c_int, (_H, c_uint16)),
        "SSL_set_max_proto_version": (c_int, (_H, c_uint16)),
        "SSL_set_tlsext_host_name": (c_int, (_H, c_char_p)),
        "SSL_CTX_set_tlsext_servername_callback": (c_int, (_H, c_void_p)),
        "SSL_CTX_set_tlsext_servername_arg": (c_int, (_H, c_void_p)),
        "SSL_CTX_set1_groups_list": (c_int, (_H, c_char_p)),
        "SSL_get_ex_new_index": (c_int, (c_long, c_void_p, c_void_p, c_void_p, c_void_p)),
        "ERR_get_error": (c_uint32, ()),
        "ERR_peek_error": (c_uint32, ()),
        "ERR_peek_last_error": (c_uint32, ()),
        "ERR_error_string_n": (None, (c_uint32, c_char_p, c_size_t)),
        "SSL_pending": (c_int, (_H,)),
        "SSL_shutdown": (c_int, (_H,)),
        "BIO_set_ssl": (c_long, (_H, _H, c_int)),
        "BIO_set_conn_hostname": (c_int, (_H, c_char_p)),
        "BIO_set_conn_port": (c_int, (_H, c_char_p)),
        "BIO_set_nbio": (c_int, (_H, c_int)),
        "BIO_do_connect": (c_int, (_H,)),
        "OPENSSL_sk_num": (c_size_t, (_H,)),
        "OPENSSL_sk_value": (_H, (_H, c_size_t)),
        "BIO_seek": (c_long, (_H, c_long)),
        "BIO_tell": (c_long, (_H,)),
        "BIO_set_write_buffer_size": (c_int, (_H, c_int)),  # a no-op returning 0 (bio.h: no BIO_f_buffer)
        "SSL_CTX_get_max_cert_list": (c_size_t, (_H,)),
        "SSL_get_max_cert_list": (c_size_t, (_H,)),
        "SSL_CTX_set_session_cache_mode": (c_int, (_H, c_int)),
        "SSL_CTX_get_session_cache_mode": (c_int, (_H,)),
        "SSL_CTX_sess_set_cache_size": (c_ulong, (_H, c_ulong)),
        "SSL_CTX_sess_get_cache_size": (c_ulong, (_H,)),
        **{name: (c_int, (_H,)) for name in (
            "SSL_CTX_sess_connect", "SSL_CTX_sess_connect_good", "SSL_CTX_sess_connect_renegotiate",
            "SSL_CTX_sess_accept", "SSL_CTX_sess_accept_good", "SSL_CTX_sess_accept_renegotiate",
            "SSL_CTX_sess_hits", "SSL_CTX_sess_cb_hits", "SSL_CTX_sess_misses", "SSL_CTX_sess_timeouts",
            "SSL_CTX_sess_cache_full", "SSL_get_secure_renegotiation_support")},
    },
    # ssl.h: SSL_MODE_AUTO_RETRY and SSL_MODE_RELEASE_BUFFERS are defined as 0 (no-ops kept for source compatibility).
    # SSL_MODE_SEND_FALLBACK_SCSV is 0x400 (0x80, 3.0's value, is SSL_MODE_ENABLE_FALSE_START there).
    mode_bits={K.SSL_MODE_AUTO_RETRY: 0, K.SSL_MODE_RELEASE_BUFFERS: 0, K.SSL_MODE_SEND_FALLBACK_SCSV: 0x400},
    # ssl.h: SSL_NOTHING, SSL_WRITING and SSL_READING are SSL_ERROR_NONE (0), _WANT_WRITE (3) and _WANT_READ (2);
    # SSL_want returns the pending SSL_ERROR_* code.
    want_codes={0: K.SSL_NOTHING, 3: K.SSL_WRITING, 2: K.SSL_READING},
    # err.h: ERR_GET_LIB is ((packed >> 24) & 0xff), ERR_GET_REASON (packed & 0xfff), computed inline.
    err_layout=(24, 0xFF, 0xFFF),
    # BoringSSL's group names are P-256, P-384, P-521, X25519 (the 3.0 spellings secp256r1... are not accepted).
    group_names={"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521", "x25519": "X25519"},
    missing_reason="not part of BoringSSL's API",
)

# GnuTLS's OpenSSL compatibility layer (Debian's libgnutls-openssl27, GnuTLS 3.7.9): about forty SSL_ functions over
# file descriptors, declared in gnutls/openssl.h and implemented in extra/gnutls_openssl.c. Everything else of the
# pages is absent: no BIO pairs or memory BIOs, no error-queue functions but ERR_get_error, no TLS_*_method (only the
# old SSLv23_/TLSv1_ methods), no SSL_do_handshake.
GNUTLS_LIBRARIES: Final = ("/usr/lib/x86_64-linux-gnu/libgnutls-openssl.so.27", "libgnutls.so.30")

GNUTLS: Final = SymbolProfile(
    name="gnutls",
    unavailable={
        "BIO_get_fd": "gnutls/openssl.h declares BIO_get_fd(gnutls_session_t, int *): it takes a GnuTLS session, "
                      "not a BIO, and returns nothing",
    },
    signatures={
        "SSL_CTX_set_options": (c_ulong, (_H, c_ulong)),
        "SSL_CTX_set_mode": (c_long, (_H, c_long)),
    },
    version_symbol="",  # gnutls_check_version(NULL) of libgnutls.so.30 (the stack reads it)
    missing_reason="GnuTLS's OpenSSL compatibility layer (gnutls/openssl.h) does not have it",
)

PROFILES: Final = {"openssl": OPENSSL, "wolfssl": WOLFSSL, "boringssl": BORINGSSL, "gnutls": GNUTLS}


def profile_for_version(version: str) -> SymbolProfile:
    """The profile for a library that calls itself ``version`` (what its OpenSSL_version returns): BoringSSL's own
    spelling for BoringSSL (and AWS-LC, its fork, which keeps BoringSSL's headers), else OpenSSL 3.0's."""
    text = version.lower()
    if text.startswith("boringssl") or text.startswith("aws-lc"):
        return BORINGSSL
    return OPENSSL
