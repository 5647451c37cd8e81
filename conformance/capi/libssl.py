"""The C-API tier over a real OpenSSL-ABI library, reached through :mod:`ctypes`.

:class:`LibsslApi` exposes the functions and macros of the OpenSSL 3.0 pages as methods with the OpenSSL names and
the calling convention of :mod:`conformance.capi` (opaque handles, ``None`` for ``NULL``, raw ``int`` returns, output
parameters returned after the return value). The same object drives the system ``libssl.so.3`` or any library that
offers the OpenSSL API under other symbol names, selected by a :class:`SymbolProfile`.

How an OpenSSL name becomes a call
==================================

* A *function* of the pages (``SSL_read``, ``BIO_new_bio_pair``, ...) is looked up in the library as
  ``profile.symbol(name)``: for OpenSSL the name itself; for wolfSSL the rule below. Its ``argtypes``/``restype`` are
  declared from the 3.0 prototype (``_SIGNATURES``), or from the other library's own prototype where it differs
  (``SymbolProfile.signatures``).
* A *macro* of the pages (``BIO_pending``, ``SSL_CTX_set_mode``, ``BIO_should_retry``, ...) is expanded exactly as
  the library's own headers expand it: for OpenSSL into ``BIO_ctrl`` / ``SSL_ctrl`` / ``SSL_CTX_ctrl`` /
  ``BIO_test_flags`` with the command numbers of the 3.0 headers, including the header's casts (``(int)``,
  ``(size_t)``); where the other library's compatibility header turns the macro into a function of its own
  (``SymbolProfile.macro_functions``), that function is called instead; where its header does not define the macro
  at all (``SymbolProfile.unavailable``), the call raises :class:`MissingSymbol`.
* ``ERR_GET_LIB`` / ``ERR_GET_REASON`` / ``ERR_FATAL_ERROR`` are inline functions in 3.0: computed here in Python
  with the 3.0 packing (``ERR_SYSTEM_FLAG`` first, then ``ERR_LIB_OFFSET`` / ``ERR_REASON_MASK`` /
  ``ERR_RFLAGS_OFFSET``); for wolfSSL its own exported decoders (it has none for ``ERR_FATAL_ERROR``).
* The one exception a call can raise is :class:`MissingSymbol`: the library does not provide the name. The harness
  turns it into *not applicable* with ``str(exc)`` as the reason. Everything else that goes wrong in C is a return
  value.

Conventions this module adds to those of :mod:`conformance.capi`
---------------------------------------------------------------

* ``const char *`` results are ``str`` (``None`` for ``NULL``); string arguments are ``str`` or ``bytes``.
* A ``void`` function returns ``None``; a ``void`` function with output parameters returns just the outputs
  (``ERR_error_string_n(e, len) -> str``).
* Port numbers of ``BIO_ADDR_rawmake`` / ``BIO_ADDR_rawport`` are in network byte order, as in C.
* ``SSL_write`` / ``SSL_write_ex`` retried with the *same bytes* on the same ``SSL`` reuse the same C buffer, as a C
  program retrying "with the same arguments" does (OpenSSL checks the buffer address unless
  ``SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER`` is set). Different bytes get a different buffer.
* The verify callback of ``SSL_CTX_set_verify`` / ``SSL_set_verify`` is ``callback(preverify_ok, store_ctx) -> int``
  with ``store_ctx`` an ``X509_STORE_CTX`` handle for the ``X509_STORE_CTX_*`` functions.
* ``ERR_get_error_all`` / ``ERR_peek_error_all`` / ``ERR_peek_last_error_all`` return ``(code, file, line, func,
  data, flags)``, ``ERR_peek_error_line`` ``(code, file, line)``, ``ERR_peek_error_func`` ``(code, func)`` and
  ``ERR_peek_error_data`` ``(code, data, flags)``, the shapes of ``engine.err``; an output the library did not set
  (the queue was empty, so the C variable keeps its ``NULL`` / 0) comes back as ``""`` / 0.

wolfSSL (the OpenSSL compatibility layer of ``libwolfssl.so.35``, Debian package libwolfssl35 5.5.4)
===================================================================================================

The mapping mirrors ``wolfssl/openssl/*.h`` of the same release, i.e. what a C program written for OpenSSL gets
when it is compiled against wolfSSL's compatibility headers. Rule: strip a leading ``SSL_`` and prepend
``wolfSSL_`` (``SSL_new -> wolfSSL_new``, ``SSL_CTX_new -> wolfSSL_CTX_new``, ``SSL_get_error ->
wolfSSL_get_error``, ``SSL_CIPHER_get_name -> wolfSSL_CIPHER_get_name``, ``BIO_new_bio_pair ->
wolfSSL_BIO_new_bio_pair``, ``ERR_get_error -> wolfSSL_ERR_get_error``). Exceptions (``WOLFSSL_RENAMES``)::

    TLS_method               -> wolfSSLv23_method
    TLS_client_method        -> wolfTLS_client_method
    TLS_server_method        -> wolfTLS_server_method
    SSL_get_rbio / _wbio     -> wolfSSL_SSL_get_rbio / wolfSSL_SSL_get_wbio
    SSL_do_handshake         -> wolfSSL_SSL_do_handshake
    SSL_get_mode             -> wolfSSL_SSL_get_mode      (exported, though the header does not map it)
    SSL_CTX_set_ciphersuites -> wolfSSL_CTX_set_cipher_list (so does the header)
    SSL_get1_peer_certificate -> wolfSSL_get_peer_certificate (a new copy per call, freed by the caller)
    version string           -> wolfSSL_lib_version()     (OpenSSL: OpenSSL_version(OPENSSL_VERSION))

Macros that wolfSSL implements as exported functions (``WOLFSSL_MACRO_FUNCTIONS``, called through the rule, with
wolfSSL's prototypes): ``BIO_make_bio_pair, BIO_set_write_buf_size, BIO_pending, BIO_wpending, BIO_eof, BIO_reset,
BIO_flush, BIO_set_mem_eof_return, BIO_get_mem_data, BIO_should_retry, BIO_get_fd, BIO_set_fd, BIO_set_close,
BIO_clear_retry_flags, ERR_GET_LIB, ERR_GET_REASON, SSL_CTX_set_min_proto_version, SSL_CTX_set_max_proto_version,
SSL_set_min_proto_version, SSL_set_max_proto_version, SSL_CTX_set_mode, SSL_CTX_clear_mode, SSL_CTX_get_mode,
SSL_get_mode, SSL_set_tlsext_host_name``. ``SSL_set_mode`` expands, as in wolfSSL's header, to
``wolfSSL_ctrl(SSL_CTRL_MODE)``; ``BIO_set_retry_read`` / ``BIO_set_retry_write`` expand, as in wolfSSL's
``openssl/bio.h``, to ``wolfSSL_BIO_set_flags`` with wolfSSL's own flag values (``SymbolProfile.bio_flags``).

Not provided by wolfSSL 5.5.4 (calls raise :class:`MissingSymbol`): the macros ``BIO_destroy_bio_pair,
BIO_shutdown_wr, BIO_get_write_buf_size, BIO_get_write_guarantee, BIO_get_read_request, BIO_should_read,
BIO_should_write, BIO_should_io_special, BIO_retry_type, BIO_get_close, BIO_get_flags, BIO_set_retry_special,
ERR_FATAL_ERROR, SSL_clear_mode, SSL_CTX_get_min_proto_version, SSL_CTX_get_max_proto_version`` and the functions
``BIO_new_ex, BIO_s_secmem, BIO_ctrl_get_write_guarantee, BIO_ctrl_get_read_request, BIO_ctrl_wpending, BIO_read_ex,
BIO_write_ex, BIO_test_flags, BIO_get_retry_BIO, BIO_get_retry_reason, BIO_set_retry_reason, BIO_socket, BIO_bind,
BIO_connect, BIO_listen, BIO_accept_ex, BIO_closesocket, BIO_sock_info, BIO_ADDR_*, BIO_lookup_ex, BIO_ADDRINFO_*,
ERR_get_error_all, ERR_peek_error_all, ERR_peek_last_error_all, ERR_peek_error_line, ERR_peek_error_func,
ERR_peek_error_data, SSL_dup, SSL_up_ref, SSL_set0_rbio, SSL_set0_wbio, SSL_get_rfd, SSL_get_wfd,
SSL_get_quiet_shutdown, SSL_CTX_get_quiet_shutdown, SSL_read_ex, SSL_peek_ex, SSL_write_ex, SSL_key_update,
SSL_get_key_update_type``
(wolfSSL has ``wolfSSL_update_keys``, with other semantics: it is not mapped).

wolfSSL's compatibility header also gives some constants other values than OpenSSL 3.0 (``SSL_ERROR_SSL`` is 85,
``SSL_ERROR_WANT_X509_LOOKUP`` 83, ``SSL_MODE_ENABLE_PARTIAL_WRITE`` 2, ``SSL_MODE_AUTO_RETRY`` 3,
``SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER`` 4, ``BIO_FLAGS_*`` shifted by one bit). Cases use the 3.0 values, so with
``translate_constants=True`` (the wolfSSL default) the binding translates these two namespaces at the boundary, as
recompiling the C program against wolfSSL's headers would: mode bits passed to the mode functions, and the result of
``SSL_get_error``. Mode *results* are returned untranslated. ``translate_constants=False`` gives the raw values.
Nothing else is translated: wolfSSL's ``SSL_get_error`` also returns its own negative error numbers (e.g. -322,
-313, -308) where OpenSSL returns ``SSL_ERROR_SSL``, and its error-queue codes are wolfSSL error numbers without a
library field; those are observations about the library and reach the cases unchanged.
"""

from __future__ import annotations

import builtins
import ctypes
import ctypes.util
import os
from collections.abc import Callable, Mapping
from ctypes import POINTER, byref, c_char_p, c_int, c_long, c_size_t, c_uint8, c_uint64, c_ulong, c_ushort, c_void_p
from dataclasses import dataclass, field
from typing import Any, Final

from engine.ssl import constants as K

__all__ = [
    "OPENSSL",
    "WOLFSSL",
    "WOLFSSL_LIBRARY",
    "Handle",
    "LibsslApi",
    "MissingSymbol",
    "SymbolProfile",
]

# --- BIO command numbers and flags of the 3.0 headers (openssl/bio.h), used only to expand the BIO macros here.
_BIO_CTRL_RESET: Final = 1
_BIO_CTRL_EOF: Final = 2
_BIO_CTRL_INFO: Final = 3
_BIO_CTRL_GET_CLOSE: Final = 8
_BIO_CTRL_SET_CLOSE: Final = 9
_BIO_CTRL_PENDING: Final = 10
_BIO_CTRL_FLUSH: Final = 11
_BIO_CTRL_WPENDING: Final = 13
_BIO_CTRL_GET_KTLS_SEND: Final = 73
_BIO_CTRL_GET_KTLS_RECV: Final = 76
_BIO_C_SET_FD: Final = 104
_BIO_C_GET_FD: Final = 105
_BIO_C_SET_BUF_MEM_EOF_RETURN: Final = 130
_BIO_C_GET_BUFF_NUM_LINES: Final = 116
_BIO_C_FILE_SEEK: Final = 128
_BIO_C_FILE_TELL: Final = 133
_BIO_C_SET_BUFF_SIZE: Final = 117
_BIO_C_SET_BUFF_READ_DATA: Final = 122
_BIO_C_SET_WRITE_BUF_SIZE: Final = 136
_BIO_C_GET_WRITE_BUF_SIZE: Final = 137
_BIO_C_MAKE_BIO_PAIR: Final = 138
_BIO_C_DESTROY_BIO_PAIR: Final = 139
_BIO_C_GET_WRITE_GUARANTEE: Final = 140
_BIO_C_GET_READ_REQUEST: Final = 141
_BIO_C_SHUTDOWN_WR: Final = 142
_BIO_FLAGS_READ: Final = 0x01
_BIO_FLAGS_WRITE: Final = 0x02
_BIO_FLAGS_IO_SPECIAL: Final = 0x04
_BIO_FLAGS_RWS: Final = _BIO_FLAGS_READ | _BIO_FLAGS_WRITE | _BIO_FLAGS_IO_SPECIAL
_BIO_FLAGS_SHOULD_RETRY: Final = 0x08
# wolfSSL's enum BIO_FLAGS (wolfssl/ssl.h): the same flags one bit higher; its bio.h expands BIO_set_retry_read/_write
# with these.
_WOLFSSL_BIO_FLAGS: Final = {_BIO_FLAGS_READ: 0x02, _BIO_FLAGS_WRITE: 0x04, _BIO_FLAGS_IO_SPECIAL: 0x08,
                             _BIO_FLAGS_SHOULD_RETRY: 0x10}
_OPENSSL_VERSION: Final = 0  # OpenSSL_version(OPENSSL_VERSION)
_BIO_C_DO_STATE_MACHINE: Final = 101
_BIO_C_SET_NBIO: Final = 102
_BIO_C_SET_ACCEPT: Final = 118
_BIO_C_GET_ACCEPT: Final = 124
_BIO_C_SET_CONNECT: Final = 100
_BIO_C_GET_CONNECT: Final = 123
_BIO_C_SET_SSL: Final = 109
_BIO_C_GET_SSL: Final = 110
_BIO_C_SSL_MODE: Final = 119
_BIO_C_SET_SSL_RENEGOTIATE_BYTES: Final = 125
_BIO_C_GET_SSL_NUM_RENEGOTIATES: Final = 126
_BIO_C_SET_SSL_RENEGOTIATE_TIMEOUT: Final = 127
_BIO_C_SET_BIND_MODE: Final = 131
_BIO_C_GET_BIND_MODE: Final = 132

_BIO_C_SET_BUF_MEM: Final = 114  # bio.h: BIO_set_mem_buf(b, bm, c) is BIO_ctrl(b, BIO_C_SET_BUF_MEM, c, (char *)bm)
_BIO_C_GET_BUF_MEM_PTR: Final = 115  # bio.h: BIO_get_mem_ptr(b, pp) is BIO_ctrl(b, BIO_C_GET_BUF_MEM_PTR, 0, pp)


class _BufMem(ctypes.Structure):
    """buffer.h (OpenSSL 3.0; BoringSSL has the same first three fields): the fields of BUF_MEM a case reads."""

    _fields_ = [("length", c_size_t), ("data", c_void_p), ("max", c_size_t)]


class _WolfBufMem(ctypes.Structure):
    """wolfssl/ssl.h 5.5.4: WOLFSSL_BUF_MEM, the data pointer first."""

    _fields_ = [("data", c_void_p), ("length", c_size_t), ("max", c_size_t)]
_SSL_CTRL_SET_GROUPS_LIST: Final = 92
_SSL_CTRL_SET_RETRY_VERIFY: Final = 136
_WOLFSSL_GROUP_NAMES: Final = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521", "x25519": "X25519"}
_CLIENT_CERT_CB: Final = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p)
_CLIENT_HELLO_CB: Final = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p)

_H = c_void_p  # every handle is passed and returned as a void pointer
_Sig = tuple[Any, tuple[Any, ...]]

# The 3.0 prototypes, by OpenSSL name: (restype, argtypes).
_SIGNATURES: Final[dict[str, _Sig]] = {
    # BIO objects
    "BIO_new": (_H, (_H,)),
    "BIO_free": (c_int, (_H,)),
    "BIO_free_all": (None, (_H,)),
    "BIO_vfree": (None, (_H,)),
    "BIO_up_ref": (c_int, (_H,)),
    "BIO_s_mem": (_H, ()),
    "BIO_new_mem_buf": (_H, (c_void_p, c_int)),
    "BIO_s_bio": (_H, ()),
    "BIO_new_bio_pair": (c_int, (POINTER(c_void_p), c_size_t, POINTER(c_void_p), c_size_t)),
    "BIO_ctrl_get_write_guarantee": (c_size_t, (_H,)),
    "BIO_ctrl_get_read_request": (c_size_t, (_H,)),
    "BIO_ctrl_reset_read_request": (c_int, (_H,)),
    "BIO_ctrl_pending": (c_size_t, (_H,)),
    "BIO_ctrl_wpending": (c_size_t, (_H,)),
    "BIO_ctrl": (c_long, (_H, c_int, c_long, c_void_p)),
    "BIO_int_ctrl": (c_long, (_H, c_int, c_long, c_int)),
    "BIO_read": (c_int, (_H, c_void_p, c_int)),
    "BIO_write": (c_int, (_H, c_void_p, c_int)),
    "BIO_read_ex": (c_int, (_H, c_void_p, c_size_t, POINTER(c_size_t))),
    "BIO_write_ex": (c_int, (_H, c_void_p, c_size_t, POINTER(c_size_t))),
    "BIO_gets": (c_int, (_H, c_void_p, c_int)),
    "BIO_get_line": (c_int, (_H, c_void_p, c_int)),  # added in OpenSSL 3.0
    "BIO_puts": (c_int, (_H, c_char_p)),
    "BIO_test_flags": (c_int, (_H, c_int)),
    "BIO_get_retry_BIO": (_H, (_H, POINTER(c_int))),
    "BIO_get_retry_reason": (c_int, (_H,)),
    "BIO_s_socket": (_H, ()),
    "BIO_new_socket": (_H, (c_int, c_int)),
    # sockets and addresses
    "BIO_socket": (c_int, (c_int, c_int, c_int, c_int)),
    "BIO_bind": (c_int, (c_int, _H, c_int)),
    "BIO_connect": (c_int, (c_int, _H, c_int)),
    "BIO_listen": (c_int, (c_int, _H, c_int)),
    "BIO_accept_ex": (c_int, (c_int, _H, c_int)),
    "BIO_closesocket": (c_int, (c_int,)),
    "BIO_sock_info": (c_int, (c_int, c_int, POINTER(c_void_p))),
    "BIO_ADDR_new": (_H, ()),
    "BIO_ADDR_free": (None, (_H,)),
    "BIO_ADDR_clear": (None, (_H,)),
    "BIO_ADDR_rawmake": (c_int, (_H, c_int, c_void_p, c_size_t, c_ushort)),
    "BIO_ADDR_family": (c_int, (_H,)),
    "BIO_ADDR_rawaddress": (c_int, (_H, c_void_p, POINTER(c_size_t))),
    "BIO_ADDR_rawport": (c_ushort, (_H,)),
    "BIO_ADDR_hostname_string": (c_void_p, (_H, c_int)),  # char *, to be freed with OPENSSL_free
    "BIO_ADDR_service_string": (c_void_p, (_H, c_int)),
    "BIO_lookup_ex": (c_int, (c_char_p, c_char_p, c_int, c_int, c_int, c_int, POINTER(c_void_p))),
    "BIO_ADDRINFO_next": (_H, (_H,)),
    "BIO_ADDRINFO_free": (None, (_H,)),
    "BIO_ADDRINFO_address": (_H, (_H,)),
    "BIO_ADDRINFO_family": (c_int, (_H,)),
    "BIO_ADDRINFO_socktype": (c_int, (_H,)),
    "BIO_ADDRINFO_protocol": (c_int, (_H,)),
    "CRYPTO_free": (None, (c_void_p, c_char_p, c_int)),
    # the error queue
    "ERR_get_error": (c_ulong, ()),
    "ERR_peek_error": (c_ulong, ()),
    "ERR_peek_last_error": (c_ulong, ()),
    "ERR_clear_error": (None, ()),
    "ERR_error_string_n": (None, (c_ulong, c_char_p, c_size_t)),
    # SSL_CTX
    "OpenSSL_version": (c_char_p, (c_int,)),
    "TLS_method": (_H, ()),
    "TLS_client_method": (_H, ()),
    "TLS_server_method": (_H, ()),
    "SSL_CTX_new": (_H, (_H,)),
    "SSL_CTX_free": (None, (_H,)),
    "SSL_CTX_up_ref": (c_int, (_H,)),
    "SSL_CTX_ctrl": (c_long, (_H, c_int, c_long, c_void_p)),
    "SSL_ctrl": (c_long, (_H, c_int, c_long, c_void_p)),
    "SSL_CTX_set_options": (c_uint64, (_H, c_uint64)),
    "SSL_CTX_get_options": (c_uint64, (_H,)),
    "SSL_CTX_clear_options": (c_uint64, (_H, c_uint64)),
    "SSL_set_options": (c_uint64, (_H, c_uint64)),
    "SSL_get_options": (c_uint64, (_H,)),
    "SSL_clear_options": (c_uint64, (_H, c_uint64)),
    "SSL_CTX_set_verify": (None, (_H, c_int, c_void_p)),
    "SSL_set_verify": (None, (_H, c_int, c_void_p)),
    "SSL_CTX_use_certificate_file": (c_int, (_H, c_char_p, c_int)),
    "SSL_CTX_use_PrivateKey_file": (c_int, (_H, c_char_p, c_int)),
    "SSL_CTX_use_certificate_chain_file": (c_int, (_H, c_char_p)),
    "SSL_CTX_load_verify_locations": (c_int, (_H, c_char_p, c_char_p)),
    "SSL_CTX_set_quiet_shutdown": (None, (_H, c_int)),
    "SSL_CTX_get_quiet_shutdown": (c_int, (_H,)),
    "SSL_set_quiet_shutdown": (None, (_H, c_int)),
    "SSL_get_quiet_shutdown": (c_int, (_H,)),
    "SSL_CTX_set_cipher_list": (c_int, (_H, c_char_p)),
    "SSL_CTX_set_ciphersuites": (c_int, (_H, c_char_p)),
    "SSL_CTX_set_num_tickets": (c_int, (_H, c_size_t)),
    "SSL_CTX_set_tlsext_max_fragment_length": (c_int, (_H, c_uint8)),
    "SSL_set_tlsext_max_fragment_length": (c_int, (_H, c_uint8)),
    "SSL_SESSION_get_max_fragment_length": (c_uint8, (_H,)),
    # SSL
    "SSL_set1_host": (c_int, (_H, c_char_p)),
    "SSL_get0_param": (_H, (_H,)),
    "SSL_CTX_get0_param": (_H, (_H,)),
    "X509_VERIFY_PARAM_set1_host": (c_int, (_H, c_char_p, ctypes.c_size_t)),
    "SSL_new": (_H, (_H,)),
    "SSL_dup": (_H, (_H,)),
    "SSL_up_ref": (c_int, (_H,)),
    "SSL_free": (None, (_H,)),
    "SSL_clear": (c_int, (_H,)),
    "SSL_get_SSL_CTX": (_H, (_H,)),
    "SSL_set_bio": (None, (_H, _H, _H)),
    "SSL_set0_rbio": (None, (_H, _H)),
    "SSL_set0_wbio": (None, (_H, _H)),
    "SSL_get_rbio": (_H, (_H,)),
    "SSL_get_wbio": (_H, (_H,)),
    "SSL_set_fd": (c_int, (_H, c_int)),
    "SSL_set_rfd": (c_int, (_H, c_int)),
    "SSL_set_wfd": (c_int, (_H, c_int)),
    "SSL_get_fd": (c_int, (_H,)),
    "SSL_get_rfd": (c_int, (_H,)),
    "SSL_get_wfd": (c_int, (_H,)),
    "SSL_set_connect_state": (None, (_H,)),
    "SSL_set_accept_state": (None, (_H,)),
    "SSL_is_server": (c_int, (_H,)),
    "SSL_connect": (c_int, (_H,)),
    "SSL_accept": (c_int, (_H,)),
    "SSL_do_handshake": (c_int, (_H,)),
    "SSL_read": (c_int, (_H, c_void_p, c_int)),
    "SSL_peek": (c_int, (_H, c_void_p, c_int)),
    "SSL_read_ex": (c_int, (_H, c_void_p, c_size_t, POINTER(c_size_t))),
    "SSL_peek_ex": (c_int, (_H, c_void_p, c_size_t, POINTER(c_size_t))),
    "SSL_write": (c_int, (_H, c_void_p, c_int)),
    "SSL_write_ex": (c_int, (_H, c_void_p, c_size_t, POINTER(c_size_t))),
    "SSL_pending": (c_int, (_H,)),
    "SSL_has_pending": (c_int, (_H,)),
    "SSL_shutdown": (c_int, (_H,)),
    "SSL_set_shutdown": (None, (_H, c_int)),
    "SSL_get_shutdown": (c_int, (_H,)),
    "SSL_get_error": (c_int, (_H, c_int)),
    "SSL_want": (c_int, (_H,)),
    "SSL_key_update": (c_int, (_H, c_int)),
    # SSL_CTX_set_verify.pod: post-handshake authentication
    "SSL_verify_client_post_handshake": (c_int, (_H,)),
    "SSL_set_post_handshake_auth": (None, (_H, c_int)),
    "SSL_CTX_set_post_handshake_auth": (None, (_H, c_int)),
    "SSL_renegotiate": (c_int, (_H,)),
    "SSL_renegotiate_pending": (c_int, (_H,)),
    "SSL_CTX_set_client_cert_cb": (None, (_H, c_void_p)),
    "SSL_CTX_set_client_hello_cb": (None, (_H, c_void_p, c_void_p)),
    "SSL_sendfile": (ctypes.c_ssize_t, (_H, c_int, ctypes.c_int64, c_size_t, c_int)),
    "BIO_set_tcp_ndelay": (c_int, (c_int, c_int)),
    "BIO_new_connect": (_H, (c_char_p,)),
    "BIO_new_accept": (_H, (c_char_p,)),
    "BIO_ptr_ctrl": (c_void_p, (_H, c_int, c_long)),  # char *, or a BIO_ADDR * (BIO_get_conn_address)
    # connect, accept and SSL BIOs (BIO_s_connect.pod, BIO_s_accept.pod, BIO_f_ssl.pod)
    "BIO_s_connect": (_H, ()),
    "BIO_s_accept": (_H, ()),
    "BIO_method_type": (c_int, (_H,)),
    "BIO_f_ssl": (_H, ()),
    "BIO_new_ssl": (_H, (_H, c_int)),
    "BIO_new_ssl_connect": (_H, (_H,)),
    "BIO_new_buffer_ssl_connect": (_H, (_H,)),
    "BIO_ssl_copy_session_id": (c_int, (_H, _H)),
    "BIO_ssl_shutdown": (None, (_H,)),
    "BIO_callback_ctrl": (c_long, (_H, c_int, c_void_p)),
    "SSL_get_key_update_type": (c_int, (_H,)),
    "SSL_version": (c_int, (_H,)),
    "SSL_get_version": (c_char_p, (_H,)),
    "SSL_get_current_cipher": (_H, (_H,)),
    "SSL_CIPHER_get_name": (c_char_p, (_H,)),
    "SSL_get_verify_result": (c_long, (_H,)),
    # what a server or client shows about its connection (conformance serve / connect)
    "SSL_get_servername": (c_char_p, (_H, c_int)),
    "SSL_get1_peer_certificate": (_H, (_H,)),
    "X509_get_subject_name": (_H, (_H,)),
    "X509_NAME_oneline": (c_char_p, (_H, c_char_p, c_int)),
    "X509_free": (None, (_H,)),
    "d2i_X509_bio": (_H, (_H, c_void_p)),  # one of the ASN1 BIO functions of BIO_should_retry.pod's BUGS
    # the certificate and key a client-certificate callback hands back; the CA list of a CertificateRequest
    "PEM_read_bio_X509": (_H, (_H, _H, _H, _H)),
    "PEM_read_bio_PrivateKey": (_H, (_H, _H, _H, _H)),
    "EVP_PKEY_free": (None, (_H,)),
    "SSL_CTX_add_client_CA": (c_int, (_H, _H)),
    "SSL_get_client_CA_list": (_H, (_H,)),
    "OPENSSL_sk_num": (c_int, (_H,)),
    "OPENSSL_sk_value": (_H, (_H, c_int)),
    "X509_verify_cert_error_string": (c_char_p, (c_long,)),
    "SSL_CTX_set_alpn_protos": (c_int, (_H, c_char_p, ctypes.c_uint)),
    "SSL_set_alpn_protos": (c_int, (_H, c_char_p, ctypes.c_uint)),
    "SSL_CTX_set_alpn_select_cb": (None, (_H, c_void_p, c_void_p)),
    "SSL_get0_alpn_selected": (None, (_H, POINTER(c_void_p), POINTER(ctypes.c_uint))),
    "SSL_get_servername_type": (c_int, (_H,)),
    "SSL_select_next_proto": (c_int, (POINTER(c_void_p), POINTER(ctypes.c_ubyte), c_char_p, ctypes.c_uint,
                                      c_char_p, ctypes.c_uint)),
    "SSL_CTX_callback_ctrl": (c_long, (_H, c_int, c_void_p)),
}

# The verification machinery, read ahead and record sizes (SSL_CTX_set_verify.pod, SSL_CTX_set_read_ahead.pod,
# SSL_CTX_set_split_send_fragment.pod, SSL_CTX_set_client_cert_cb.pod); the 3.0 prototypes.
_SIGNATURES.update({
    "X509_STORE_CTX_get_error": (c_int, (_H,)),
    "X509_STORE_CTX_set_error": (None, (_H, c_int)),
    "X509_STORE_CTX_get_error_depth": (c_int, (_H,)),
    "X509_STORE_CTX_get_current_cert": (_H, (_H,)),
    "X509_STORE_CTX_get_ex_data": (c_void_p, (_H, c_int)),
    "SSL_get_ex_data_X509_STORE_CTX_idx": (c_int, ()),
    "SSL_CTX_get_verify_callback": (c_void_p, (_H,)),
    "SSL_CTX_get_verify_mode": (c_int, (_H,)),
    "SSL_CTX_get_verify_depth": (c_int, (_H,)),
    "SSL_CTX_set_verify_depth": (None, (_H, c_int)),
    "SSL_CTX_get_client_cert_cb": (c_void_p, (_H,)),
    "SSL_set_read_ahead": (None, (_H, c_int)),
    "SSL_get_read_ahead": (c_int, (_H,)),
    "SSL_CTX_set_default_read_buffer_len": (None, (_H, c_size_t)),
    "SSL_set_default_read_buffer_len": (None, (_H, c_size_t)),
})

# Functions used by the cases of the SSL object lifecycle pages (SSL_new/SSL_dup, SSL_clear, SSL_set_bio, SSL_want,
# SSL_shutdown); the 3.0 prototypes.
_SIGNATURES.update({
    "SSL_get_verify_mode": (c_int, (_H,)),
    "SSL_get_verify_depth": (c_int, (_H,)),
    "SSL_set_verify_depth": (None, (_H, c_int)),
    "SSL_set_cipher_list": (c_int, (_H, c_char_p)),
    "SSL_get_cipher_list": (c_char_p, (_H, c_int)),
    "SSL_set_security_level": (None, (_H, c_int)),
    "SSL_get_security_level": (c_int, (_H,)),
    "SSL_CTX_set_security_level": (None, (_H, c_int)),
    "SSL_CTX_get_security_level": (c_int, (_H,)),
    "SSL_set_ex_data": (c_int, (_H, c_int, c_void_p)),
    "CRYPTO_get_ex_new_index": (c_int, (c_int, c_long, c_void_p, c_void_p, c_void_p, c_void_p)),
    "SSL_get_ex_data": (c_void_p, (_H, c_int)),
    "SSL_CTX_set_ex_data": (c_int, (_H, c_int, c_void_p)),
    "SSL_CTX_get_ex_data": (c_void_p, (_H, c_int)),
    "SSL_CTX_set_timeout": (c_long, (_H, c_long)),
    "SSL_get_session": (_H, (_H,)),
    "SSL_get1_session": (_H, (_H,)),
    "SSL_set_session": (c_int, (_H, _H)),
    "SSL_SESSION_free": (None, (_H,)),
    "SSL_SESSION_get_timeout": (c_long, (_H,)),
    "SSL_SESSION_is_resumable": (c_int, (_H,)),
    "SSL_CTX_get_timeout": (c_long, (_H,)),
    "SSL_SESSION_get_time": (c_long, (_H,)),
    "SSL_SESSION_set_time": (c_long, (_H, c_long)),
    "SSL_CTX_set_cert_verify_callback": (None, (_H, c_void_p, c_void_p)),
    "SSL_CTX_sess_set_remove_cb": (None, (_H, c_void_p)),
    "SSL_renegotiate_abbreviated": (c_int, (_H,)),
    "SSL_session_reused": (c_int, (_H,)),
    "DTLS_method": (_H, ()),
    "DTLS_client_method": (_H, ()),
    "DTLS_server_method": (_H, ()),
    "DTLSv1_2_client_method": (_H, ()),
    "DTLSv1_2_server_method": (_H, ()),
    "DTLSv1_client_method": (_H, ()),
    "DTLSv1_server_method": (_H, ()),
    "TLSv1_2_method": (_H, ()),
    "SSLv3_method": (_H, ()),  # absent from builds with no-ssl3-method (Debian's libssl.so.3); GnuTLS's layer has two
    "SSLv3_client_method": (_H, ()),
    "SSLv3_server_method": (_H, ()),
    "TLSv1_2_client_method": (_H, ()),
    "TLSv1_2_server_method": (_H, ()),
    "SSL_CTX_new_ex": (_H, (c_void_p, c_char_p, _H)),
    "SSL_use_certificate_file": (c_int, (_H, c_char_p, c_int)),
    "SSL_use_PrivateKey_file": (c_int, (_H, c_char_p, c_int)),
    "SSL_get_certificate": (_H, (_H,)),
    "SSL_set_info_callback": (None, (_H, c_void_p)),
    # SSL_MODE_ASYNC (SSL_get_error.pod, SSL_want.pod) and the libcrypto async jobs behind it (ASYNC_start_job.pod)
    "SSL_get_all_async_fds": (c_int, (_H, c_void_p, POINTER(c_size_t))),
    "SSL_get_changed_async_fds": (c_int, (_H, c_void_p, POINTER(c_size_t), c_void_p, POINTER(c_size_t))),
    "ASYNC_init_thread": (c_int, (c_size_t, c_size_t)),
    "ASYNC_cleanup_thread": (None, ()),
    "ASYNC_get_current_job": (c_void_p, ()),
    "ASYNC_pause_job": (c_int, ()),
    "ASYNC_get_wait_ctx": (c_void_p, (c_void_p,)),
    "ASYNC_WAIT_CTX_set_wait_fd": (c_int, (c_void_p, c_void_p, c_int, c_void_p, c_void_p)),
    "ASYNC_WAIT_CTX_clear_fd": (c_int, (c_void_p, c_void_p)),
    "SSL_get_info_callback": (c_void_p, (_H,)),
    "SSL_get_verify_callback": (c_void_p, (_H,)),
    "BIO_meth_set_write": (c_int, (_H, c_void_p)),
    "BIO_meth_set_ctrl": (c_int, (_H, c_void_p)),
    "BIO_set_init": (None, (_H, c_int)),
    "BIO_meth_new": (_H, (c_int, c_char_p)),
    "BIO_meth_free": (None, (_H,)),
})

# The rest of the BIO_new, BIO_ctrl, BIO_should_retry, BIO_s_mem, BIO_ADDR and ERR_get_error pages; the 3.0 prototypes.
_ERR_OUT: Final = (POINTER(c_char_p), POINTER(c_int), POINTER(c_char_p), POINTER(c_char_p), POINTER(c_int))
_SIGNATURES.update({
    "BIO_new_ex": (_H, (c_void_p, _H)),
    "BIO_set_flags": (None, (_H, c_int)),
    "BIO_clear_flags": (None, (_H, c_int)),
    "BIO_set_retry_reason": (None, (_H, c_int)),
    "BIO_s_secmem": (_H, ()),
    # BIO_push.pod (and BIO_next, from BIO_find_type.pod, to see a chain)
    "BIO_push": (_H, (_H, _H)),
    "BIO_pop": (_H, (_H,)),
    "BIO_next": (_H, (_H,)),
    "BIO_set_next": (None, (_H, _H)),
    "BIO_f_buffer": (_H, ()),
    "BIO_s_fd": (_H, ()),
    "BIO_lookup": (c_int, (c_char_p, c_char_p, c_int, c_int, c_int, POINTER(c_void_p))),
    "BIO_parse_hostserv": (c_int, (c_char_p, POINTER(c_void_p), POINTER(c_void_p), c_int)),
    "BIO_new_fd": (_H, (c_int, c_int)),
    "BIO_ADDR_path_string": (c_void_p, (_H,)),  # char *, to be freed with OPENSSL_free
    "ERR_get_error_all": (c_ulong, _ERR_OUT),
    "ERR_peek_error_all": (c_ulong, _ERR_OUT),
    "ERR_peek_last_error_all": (c_ulong, _ERR_OUT),
    "ERR_peek_error_line": (c_ulong, (POINTER(c_char_p), POINTER(c_int))),
    "ERR_peek_error_func": (c_ulong, (POINTER(c_char_p),)),
    "ERR_peek_error_data": (c_ulong, (POINTER(c_char_p), POINTER(c_int))),
})
_CERT_VERIFY_CB: Final = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p)
_REMOVE_SESSION_CB: Final = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)
_INFO_CB: Final = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_int)
_VERIFY_CB: Final = ctypes.CFUNCTYPE(c_int, c_int, c_void_p)  # (preverify_ok, X509_STORE_CTX *)
# int (*)(SSL *, const unsigned char **out, unsigned char *outlen, const unsigned char *in, unsigned int inlen, void *)
_SERVERNAME_CB: Final = ctypes.CFUNCTYPE(c_int, c_void_p, POINTER(c_int), c_void_p)  # (SSL *, int *al, void *arg)
_ALPN_SELECT_CB: Final = ctypes.CFUNCTYPE(c_int, c_void_p, POINTER(c_void_p), POINTER(ctypes.c_ubyte), c_void_p,
                                          ctypes.c_uint, c_void_p)
# CRYPTO_EX_new / CRYPTO_EX_free: (parent, ptr, ad, idx, argl, argp); CRYPTO_EX_dup: (to, from, from_d, idx, ...)
_EX_NEW_FREE_CB: Final = ctypes.CFUNCTYPE(None, c_void_p, c_void_p, c_void_p, c_int, c_long, c_void_p)
_EX_DUP_CB: Final = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p, c_int, c_long, c_void_p)
ExCallback = Callable[..., Any]
_CRYPTO_EX_INDEX_SSL: Final = 0
_CRYPTO_EX_INDEX_SSL_CTX: Final = 1
_BIO_WRITE_CB: Final = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_int)
_BIO_INFO_CB: Final = ctypes.CFUNCTYPE(c_int, c_void_p, c_int, c_int)  # bio.h: BIO_info_cb (BIO *, int state, int res)
_BIO_CTRL_CB: Final = ctypes.CFUNCTYPE(c_long, c_void_p, c_int, c_long, c_void_p)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def c_heap_in_use() -> int:
    """Bytes in use from glibc's malloc (mallinfo2: uordblks + hblkhd), after a garbage collection."""
    import gc

    gc.collect()
    fn = ctypes.CDLL(None).mallinfo2
    fn.restype, fn.argtypes = _Mallinfo2, ()
    info = fn()
    return int(info.uordblks + info.hblkhd)


class MissingSymbol(Exception):
    """The library does not provide this OpenSSL name: the case is *not applicable* to it (``str(exc)`` says why)."""

    def __init__(self, name: str, library: str, reason: str) -> None:
        self.name = name
        self.library = library
        self.reason = reason
        super().__init__(f"{library} does not provide {name}: {reason}")


class Handle:
    """An opaque C pointer (``SSL *``, ``BIO *``, ...). Two handles are equal when they name the same object."""

    __slots__ = ("_address", "_kind")

    def __init__(self, kind: str, address: int) -> None:
        if not address:
            raise ValueError("a Handle never wraps NULL (NULL is None)")
        self._kind = kind
        self._address = address

    @property
    def kind(self) -> str:
        return self._kind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Handle) and other._kind == self._kind and other._address == self._address

    def __hash__(self) -> int:
        return hash((self._kind, self._address))

    def __repr__(self) -> str:
        return f"<{self._kind} * 0x{self._address:x}>"


def _address(handle: Handle | None, *kinds: str) -> int | None:
    """The pointer to pass for ``handle``: checks it is a handle (an ``int`` is refused) of an expected kind."""
    if handle is None:
        return None
    if not isinstance(handle, Handle):
        raise TypeError(f"expected a Handle of kind {'/'.join(kinds)} or None, got {type(handle).__name__}")
    if kinds and handle._kind not in kinds:
        raise TypeError(f"expected a {'/'.join(kinds)} handle, got {handle!r}")
    return handle._address


def _wrap(kind: str, address: int | None) -> Handle | None:
    return Handle(kind, address) if address else None


def _ex_trampoline(fn: Callable[..., Any], kind: str) -> Callable[..., None]:
    def trampoline(parent: int | None, ptr: int | None, ad: int | None, idx: int, argl: int, argp: int | None) -> None:
        fn(_wrap(kind, parent), ptr, ad, idx, argl, argp)

    return trampoline


def _dup_trampoline(fn: Callable[..., Any]) -> Callable[..., int]:
    def trampoline(*args: Any) -> int:
        return int(fn(*args) or 0)

    return trampoline


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", "replace")


def _cstr(value: str | bytes | os.PathLike[str] | None) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    return os.fsencode(value)


def _err_fatal_error(errcode: int) -> int:
    """err.h 3.0 (inline): ``(ERR_GET_RFLAGS(errcode) & ERR_RFLAG_FATAL) != 0``."""
    if errcode & K.ERR_SYSTEM_FLAG:
        return 0  # ERR_GET_RFLAGS: no reason flags in a system error
    rflags = errcode & (K.ERR_RFLAGS_MASK << K.ERR_RFLAGS_OFFSET)
    return int((rflags & K.ERR_RFLAG_FATAL) != 0)


def _int(value: int) -> int:
    """C's ``(int)`` cast of a ``long``."""
    return c_int(value).value


@dataclass(frozen=True)
class SymbolProfile:
    """How one library spells the OpenSSL names (see the module docstring for the wolfSSL table)."""

    name: str
    prefix: str = ""
    strip: tuple[str, ...] = ()
    renames: Mapping[str, str] = field(default_factory=dict)
    macro_functions: frozenset[str] = frozenset()
    unavailable: Mapping[str, str] = field(default_factory=dict)
    signatures: Mapping[str, _Sig] = field(default_factory=dict)
    version_symbol: str = "OpenSSL_version"
    init_symbol: str | None = None
    error_codes: Mapping[int, int] = field(default_factory=dict)  # library's SSL_get_error value -> 3.0 value
    mode_bits: Mapping[int, int] = field(default_factory=dict)  # 3.0 SSL_MODE_* bit -> library's value
    # 3.0 BIO_FLAGS_* bit -> library's value, for the BIO macros the library's own header expands with its flags
    bio_flags: Mapping[int, int] = field(default_factory=dict)
    # How the library's header unpacks an error code when it computes ERR_GET_LIB / ERR_GET_REASON inline:
    # (library offset, library mask, reason mask); None: the 3.0 layout with its system-error flag.
    err_layout: tuple[int, int, int] | None = None
    # The library's own spelling of key-exchange group names in its groups-list function (3.0 name -> library's).
    group_names: Mapping[str, str] = field(default_factory=dict)
    want_codes: Mapping[int, int] = field(default_factory=dict)  # library's SSL_want value -> 3.0 value
    # Why a name the library does not export is missing, for names the profile knows about (else a generic reason).
    missing_reason: str = ""

    def symbol(self, name: str) -> str:
        """The exported symbol that implements the OpenSSL name ``name`` in this library."""
        if name in self.renames:
            return self.renames[name]
        base = name
        for head in self.strip:
            if base.startswith(head):
                base = base[len(head) :]
                break
        return self.prefix + base


OPENSSL: Final = SymbolProfile(name="openssl")

WOLFSSL_LIBRARY: Final = "libwolfssl.so.35"

WOLFSSL_RENAMES: Final[dict[str, str]] = {
    "TLS_method": "wolfSSLv23_method",
    "TLS_client_method": "wolfTLS_client_method",
    "TLS_server_method": "wolfTLS_server_method",
    "SSL_get_rbio": "wolfSSL_SSL_get_rbio",
    "SSL_get_wbio": "wolfSSL_SSL_get_wbio",
    "SSL_do_handshake": "wolfSSL_SSL_do_handshake",
    "SSL_get_mode": "wolfSSL_SSL_get_mode",
    "SSL_CTX_set_ciphersuites": "wolfSSL_CTX_set_cipher_list",
    "SSL_renegotiate": "wolfSSL_Rehandshake",
    "SSL_renegotiate_pending": "wolfSSL_SSL_renegotiate_pending",
    # wolfSSL's function returns a new copy on every call (two calls give two objects), which the caller frees with
    # X509_free: the ownership of OpenSSL's SSL_get1_peer_certificate.
    "SSL_get1_peer_certificate": "wolfSSL_get_peer_certificate",
    # wolfssl/openssl/ssl.h: sk_X509_NAME_num / _value are wolfSSL_sk_X509_NAME_num / _value (generic ones below)
    "OPENSSL_sk_num": "wolfSSL_sk_num",
    "OPENSSL_sk_value": "wolfSSL_sk_value",
    "SSL_CTX_get_timeout": "wolfSSL_SSL_CTX_get_timeout",
    # wolfssl/openssl/bio.h: #define BIO_s_accept wolfSSL_BIO_s_socket (it has no accept BIO method of its own)
    "BIO_s_accept": "wolfSSL_BIO_s_socket",
    # wolfssl/openssl/ssl.h: #define SSL_CTX_set_tlsext_servername_arg wolfSSL_CTX_set_servername_arg
    "SSL_CTX_set_tlsext_servername_arg": "wolfSSL_CTX_set_servername_arg",
}

WOLFSSL_MACRO_FUNCTIONS: Final = frozenset(
    {
        "BIO_make_bio_pair", "BIO_set_write_buf_size", "BIO_pending", "BIO_wpending", "BIO_eof", "BIO_reset",
        "BIO_flush", "BIO_set_mem_eof_return", "BIO_get_mem_data", "BIO_should_retry", "BIO_get_fd", "BIO_set_fd",
        "ERR_GET_LIB", "ERR_GET_REASON", "SSL_CTX_set_min_proto_version", "SSL_CTX_set_max_proto_version",
        "SSL_set_min_proto_version", "SSL_set_max_proto_version", "SSL_CTX_set_mode", "SSL_CTX_clear_mode",
        "SSL_CTX_get_mode", "SSL_get_mode", "SSL_set_tlsext_host_name", "BIO_set_close", "BIO_clear_retry_flags",
        # wolfssl/ssl.h declares the session cache macros of 3.0 as functions
        "SSL_CTX_set_session_cache_mode", "SSL_CTX_get_session_cache_mode", "SSL_CTX_sess_set_cache_size",
        "SSL_CTX_sess_get_cache_size", "SSL_CTX_sess_number", "SSL_CTX_sess_connect", "SSL_CTX_sess_connect_good",
        "SSL_CTX_sess_connect_renegotiate", "SSL_CTX_sess_accept", "SSL_CTX_sess_accept_good",
        "SSL_CTX_sess_accept_renegotiate", "SSL_CTX_sess_hits", "SSL_CTX_sess_cb_hits", "SSL_CTX_sess_misses",
        "SSL_CTX_sess_timeouts", "SSL_CTX_sess_cache_full",
        "SSL_CTX_set_tlsext_servername_callback", "SSL_CTX_set_tlsext_servername_arg",
    }
)  # fmt: skip

_NOT_IN_WOLFSSL_HEADERS = "wolfSSL's compatibility headers (wolfssl/openssl/*.h, 5.5.4) do not define this macro"
WOLFSSL_UNAVAILABLE: Final[dict[str, str]] = {
    name: _NOT_IN_WOLFSSL_HEADERS
    for name in (
        "BIO_destroy_bio_pair", "BIO_shutdown_wr", "BIO_get_write_buf_size", "BIO_get_write_guarantee",
        "BIO_get_read_request", "BIO_should_read", "BIO_should_write", "BIO_should_io_special", "BIO_retry_type",
        "SSL_clear_mode", "SSL_CTX_get_min_proto_version", "SSL_CTX_get_max_proto_version", "BIO_get_close",
        "BIO_get_flags", "BIO_set_retry_special", "ERR_FATAL_ERROR", "BIO_get_buffer_num_lines",
        "BIO_set_read_buffer_size", "BIO_set_buffer_size", "BIO_set_buffer_read_data", "BIO_set_mem_buf",
        # the connect, accept and SSL BIO macros its headers do not define (checked against libwolfssl-dev 5.5.4)
        "BIO_set_ssl_mode", "BIO_set_ssl_renegotiate_bytes", "BIO_set_ssl_renegotiate_timeout",
        "BIO_get_num_renegotiates", "BIO_set_conn_address", "BIO_set_conn_ip_family", "BIO_get_conn_hostname",
        "BIO_get_conn_port", "BIO_get_conn_address", "BIO_get_conn_ip_family", "BIO_set_accept_name",
        "BIO_set_accept_port", "BIO_set_accept_bios", "BIO_set_accept_ip_family", "BIO_get_accept_name",
        "BIO_get_accept_port", "BIO_get_accept_ip_family", "BIO_get_peer_name", "BIO_get_peer_port",
        "BIO_set_bind_mode", "BIO_get_bind_mode", "BIO_set_nbio_accept",
    )
}  # fmt: skip

_NO_WOLFSSL_FRAGMENT_CTRL = (
    "libwolfssl 5.5.4 exports no function for this macro, and its wolfSSL_CTX_ctrl / wolfSSL_ctrl do not implement "
    "the 3.0 command (SSL_CTRL_SET_MAX_SEND_FRAGMENT 52, _SPLIT_SEND_FRAGMENT 125, _MAX_PIPELINES 126): expanded "
    "to them, every value from 0 to 16385 gave 0 or an unrelated number (observed)")

WOLFSSL: Final = SymbolProfile(
    name="wolfssl",
    prefix="wolfSSL_",
    strip=("SSL_",),
    renames=WOLFSSL_RENAMES,
    macro_functions=WOLFSSL_MACRO_FUNCTIONS | {"SSL_CTX_set1_groups_list", "BIO_set_write_buffer_size",
                                                 "BIO_seek", "BIO_tell", "BIO_set_ssl", "BIO_get_ssl",
                                                 "BIO_do_handshake", "BIO_do_connect", "BIO_do_accept",
                                                 "BIO_set_conn_hostname", "BIO_set_conn_port", "BIO_set_nbio",
                                                 "BIO_get_mem_ptr",
                                                 "SSL_CTX_set_read_ahead", "SSL_CTX_get_read_ahead",
                                                 "SSL_CTX_set_default_read_ahead"},
    unavailable={**WOLFSSL_UNAVAILABLE, **{name: _NO_WOLFSSL_FRAGMENT_CTRL for name in (
        "SSL_CTX_set_max_send_fragment", "SSL_set_max_send_fragment", "SSL_CTX_set_split_send_fragment",
        "SSL_set_split_send_fragment", "SSL_CTX_set_max_pipelines", "SSL_set_max_pipelines")},
        "SSL_SESSION_get_max_fragment_length": "libwolfssl 5.5.4 exports no wolfSSL_SESSION_get_max_fragment_length "
                                               "(nm -D) and its compatibility headers define no such macro"},
    signatures={
        # the read-ahead macros are wolfSSL functions (wolfssl/ssl.h)
        "SSL_CTX_set_read_ahead": (c_int, (_H, c_int)),
        "SSL_CTX_get_read_ahead": (c_int, (_H,)),
        "SSL_CTX_set_default_read_ahead": (c_int, (_H, c_int)),
        # wolfSSL's own prototypes where they differ from 3.0 (wolfssl/ssl.h)
        # the session cache macros of 3.0, which wolfssl/ssl.h declares as functions
        "SSL_CTX_sess_number": (c_long, (_H,)),
        "SSL_CTX_sess_connect": (c_long, (_H,)),
        "SSL_CTX_sess_connect_good": (c_long, (_H,)),
        "SSL_CTX_sess_connect_renegotiate": (c_long, (_H,)),
        "SSL_CTX_sess_accept": (c_long, (_H,)),
        "SSL_CTX_sess_accept_good": (c_long, (_H,)),
        "SSL_CTX_sess_accept_renegotiate": (c_long, (_H,)),
        "SSL_CTX_sess_hits": (c_long, (_H,)),
        "SSL_CTX_sess_cb_hits": (c_long, (_H,)),
        "SSL_CTX_sess_misses": (c_long, (_H,)),
        "SSL_CTX_sess_timeouts": (c_long, (_H,)),
        "SSL_CTX_sess_cache_full": (c_long, (_H,)),
        "SSL_CTX_set_session_cache_mode": (c_long, (_H, c_long)),
        "SSL_CTX_get_session_cache_mode": (c_long, (_H,)),
        "SSL_CTX_sess_set_cache_size": (c_long, (_H, c_long)),
        "SSL_CTX_sess_get_cache_size": (c_long, (_H,)),
        "SSL_CTX_set_options": (c_long, (_H, c_long)),
        "SSL_CTX_get_options": (c_long, (_H,)),
        "SSL_CTX_clear_options": (c_long, (_H, c_long)),
        "SSL_set_options": (c_long, (_H, c_long)),
        "SSL_get_options": (c_long, (_H,)),
        "SSL_clear_options": (c_long, (_H, c_long)),
        "BIO_make_bio_pair": (c_int, (_H, _H)),
        "BIO_get_mem_ptr": (c_int, (_H, c_void_p)),  # wolfSSL_BIO_get_mem_ptr(bio, WOLFSSL_BUF_MEM **)
        "BIO_set_write_buffer_size": (c_long, (_H, c_long)),
        "BIO_seek": (c_int, (_H, c_int)),
        "BIO_tell": (c_int, (_H,)),
        "BIO_set_write_buf_size": (c_int, (_H, c_long)),
        "BIO_pending": (c_int, (_H,)),
        "BIO_wpending": (c_size_t, (_H,)),
        "BIO_eof": (c_int, (_H,)),
        "BIO_reset": (c_int, (_H,)),
        "BIO_flush": (c_int, (_H,)),
        "BIO_set_mem_eof_return": (c_long, (_H, c_int)),
        "BIO_get_mem_data": (c_int, (_H, c_void_p)),
        "BIO_should_retry": (c_int, (_H,)),
        "BIO_get_fd": (c_int, (_H, POINTER(c_int))),
        "BIO_set_fd": (c_long, (_H, c_int, c_int)),
        "ERR_GET_LIB": (c_int, (c_ulong,)),
        "ERR_GET_REASON": (c_int, (c_ulong,)),
        "SSL_CTX_set_min_proto_version": (c_int, (_H, c_int)),
        "SSL_CTX_set_max_proto_version": (c_int, (_H, c_int)),
        "SSL_set_min_proto_version": (c_int, (_H, c_int)),
        "SSL_set_max_proto_version": (c_int, (_H, c_int)),
        "SSL_CTX_set_mode": (c_long, (_H, c_long)),
        "SSL_CTX_clear_mode": (c_long, (_H, c_long)),
        "SSL_CTX_get_mode": (c_long, (_H,)),
        "SSL_get_mode": (c_long, (_H,)),
        "SSL_set_tlsext_host_name": (c_int, (_H, c_char_p)),
        "SSL_CTX_set_tlsext_servername_callback": (c_int, (_H, c_void_p)),
        "SSL_CTX_set_tlsext_servername_arg": (c_int, (_H, c_void_p)),
        "ERR_error_string_n": (None, (c_ulong, c_char_p, c_ulong)),
        "SSL_get_verify_result": (c_long, (_H,)),
        "SSL_CTX_set1_groups_list": (c_int, (_H, c_char_p)),  # a macro in 3.0, a function in wolfSSL
        "BIO_set_close": (c_int, (_H, c_long)),
        "BIO_clear_retry_flags": (None, (_H,)),
        "BIO_set_ssl": (c_long, (_H, _H, c_int)),
        "BIO_get_ssl": (c_long, (_H, POINTER(c_void_p))),
        "BIO_do_handshake": (c_long, (_H,)),
        "BIO_do_connect": (c_long, (_H,)),
        "BIO_do_accept": (c_int, (_H,)),
        "BIO_set_conn_hostname": (c_long, (_H, c_char_p)),
        "BIO_set_conn_port": (c_long, (_H, c_char_p)),
        "BIO_set_nbio": (c_long, (_H, c_long)),
    },
    version_symbol="wolfSSL_lib_version",
    init_symbol="wolfSSL_Init",
    error_codes={85: int(K.SSL_ERROR_SSL), 83: int(K.SSL_ERROR_WANT_X509_LOOKUP)},
    mode_bits={
        K.SSL_MODE_ENABLE_PARTIAL_WRITE: 2,
        K.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER: 4,
        K.SSL_MODE_AUTO_RETRY: 3,
        K.SSL_MODE_RELEASE_BUFFERS: 0x10,
    },
    bio_flags=_WOLFSSL_BIO_FLAGS,
    group_names=_WOLFSSL_GROUP_NAMES,
)

_PROFILES: Final = {"openssl": OPENSSL, "wolfssl": WOLFSSL}


def _load(path: str | None, default_soname: str, find_name: str) -> ctypes.CDLL:
    if path is None:
        try:
            return ctypes.CDLL(default_soname, use_errno=True)
        except OSError:
            found = ctypes.util.find_library(find_name)
            if found is None:
                raise
            return ctypes.CDLL(found, use_errno=True)
    return ctypes.CDLL(path, use_errno=True)


class LibsslApi:
    """The OpenSSL 3.0 C API of one real library, with the calling convention of :mod:`conformance.capi`.

    ``LibsslApi()`` is the system OpenSSL (``libssl.so.3`` + ``libcrypto.so.3``); ``LibsslApi.wolfssl()`` is
    wolfSSL's compatibility layer; any other library: ``LibsslApi(path, None, profile=SymbolProfile(...))``.
    """

    def __init__(
        self,
        libssl: str | None = None,
        libcrypto: str | None = None,
        *,
        profile: SymbolProfile | str = "openssl",
        translate_constants: bool | None = None,
    ) -> None:
        self.profile: SymbolProfile = _PROFILES[profile] if isinstance(profile, str) else profile
        self._libs = self._open(libssl, libcrypto)
        self.library: str = self._libs[0]._name
        self.translate_constants: bool = (
            bool(self.profile.error_codes or self.profile.mode_bits) if translate_constants is None
            else translate_constants
        )  # fmt: skip
        self._functions: dict[str, Callable[..., Any]] = {}
        self._write_buffers: dict[int, tuple[bytes, ctypes.Array[ctypes.c_char]]] = {}
        self._callbacks: list[Any] = []  # C trampolines must outlive the contexts that hold them
        self._servername_args: dict[int | None, Any] = {}  # SSL_CTX_set_tlsext_servername_arg, by SSL_CTX address
        # An exception raised by a Python callback cannot cross the C frames; it is kept here and raised again when
        # the C call that ran the callback returns (see _function), so a failed assertion in a callback fails its case.
        self._callback_errors: list[BaseException] = []
        self._mem_buffers: dict[int, ctypes.Array[ctypes.c_char]] = {}
        if self.profile.init_symbol is not None:
            init = self._raw(self.profile.init_symbol)
            if init is not None:
                init.restype, init.argtypes = c_int, ()
                init()
        self.version: str = self._library_version()

    @classmethod
    def wolfssl(cls, path: str | None = None, *, translate_constants: bool | None = None) -> LibsslApi:
        """wolfSSL's OpenSSL compatibility layer (default: the system ``libwolfssl.so.35``)."""
        return cls(path or WOLFSSL_LIBRARY, None, profile=WOLFSSL, translate_constants=translate_constants)

    # ------------------------------------------------------------------ symbol machinery

    def _open(self, libssl: str | None, libcrypto: str | None) -> tuple[ctypes.CDLL, ...]:
        if self.profile is OPENSSL:
            ssl = _load(libssl, "libssl.so.3", "ssl")
            crypto = _load(libcrypto, "libcrypto.so.3", "crypto") if (libcrypto or libssl is None) else None
            return (ssl,) if crypto is None else (ssl, crypto)
        libs = [_load(libssl, WOLFSSL_LIBRARY, "wolfssl")]
        if libcrypto is not None:
            libs.append(_load(libcrypto, libcrypto, libcrypto))
        return tuple(libs)

    def _raw(self, symbol: str) -> Any:
        for lib in self._libs:
            try:
                return getattr(lib, symbol)
            except AttributeError:
                continue
        return None

    def has(self, name: str) -> bool:
        """Whether ``name`` (a function or macro of the pages) can be called on this library."""
        if name in self.profile.unavailable:
            return False
        if name in _SIGNATURES or name in self.profile.macro_functions:
            try:
                self._function(name)
            except MissingSymbol:
                return False
            return True
        return callable(getattr(self, name, None))

    def exported_symbol(self, name: str) -> str | None:
        """Not a function of the pages: the symbol this library exports for the OpenSSL name ``name`` (its own
        spelling, e.g. ``wolfSSL_BIO_get_fd``), or ``None`` when it exports none, as for a name its headers define
        as a macro (or one it lacks). A name the profile declares unavailable is looked up all the same."""
        symbol = self.profile.symbol(name)
        return symbol if self._raw(symbol) is not None else None

    def symbol_table(self) -> dict[str, str]:
        """For every declared function: the symbol it resolves to, or why it is missing (for reports)."""
        table: dict[str, str] = {}
        for name in sorted(set(_SIGNATURES) | set(self.profile.macro_functions) | set(self.profile.unavailable)):
            if name in self.profile.unavailable:
                table[name] = f"missing: {self.profile.unavailable[name]}"
                continue
            symbol = self.profile.symbol(name)
            table[name] = symbol if self._raw(symbol) is not None else f"missing: {symbol} not exported"
        return table

    def _function(self, name: str) -> Callable[..., Any]:
        cached = self._functions.get(name)
        if cached is not None:
            return cached
        if name in self.profile.unavailable:
            raise MissingSymbol(name, self.library, self.profile.unavailable[name])
        symbol = self.profile.symbol(name)
        fn = self._raw(symbol)
        if fn is None:
            why = f"the library does not export {symbol}"
            if self.profile.missing_reason:
                why += f" ({self.profile.missing_reason})"
            raise MissingSymbol(name, self.library, why)
        restype, argtypes = self.profile.signatures.get(name) or _SIGNATURES[name]
        fn.restype = restype
        fn.argtypes = argtypes
        errors = self._callback_errors

        def call(*args: Any) -> Any:
            result = fn(*args)
            if errors:
                first = errors[0]
                errors.clear()
                raise first
            return result

        self._functions[name] = call
        return call

    def _guard(self, trampoline: Callable[..., Any]) -> Callable[..., Any]:
        """``trampoline`` for C: an exception it raises is recorded (and 0 returned to C) instead of being lost."""

        def guarded(*args: Any) -> Any:
            try:
                return trampoline(*args)
            except BaseException as exc:  # re-raised by the C call's wrapper in _function
                self._callback_errors.append(exc)
                return 0

        return guarded

    def _macro_function(self, name: str) -> Callable[..., Any] | None:
        """The library's own function for the macro ``name``, ``None`` to expand it, or :class:`MissingSymbol`."""
        if name in self.profile.unavailable:
            raise MissingSymbol(name, self.library, self.profile.unavailable[name])
        if name in self.profile.macro_functions:
            return self._function(name)
        return None

    def _library_version(self) -> str:
        if self.profile.version_symbol == "OpenSSL_version":
            old = self._raw("SSLeay_version") if self._raw("OpenSSL_version") is None else None
            if old is not None:  # OpenSSL 1.0.x and old LibreSSL name it SSLeay_version(SSLEAY_VERSION)
                old.restype, old.argtypes = c_char_p, (c_int,)
                return _text(old(_OPENSSL_VERSION)) or ""
            return _text(self._function("OpenSSL_version")(_OPENSSL_VERSION)) or ""
        fn = self._raw(self.profile.version_symbol)
        if fn is None:
            return ""
        fn.restype, fn.argtypes = c_char_p, ()
        return _text(fn()) or ""

    def _mode_in(self, mode: int) -> int:
        if not (self.translate_constants and self.profile.mode_bits):
            return mode
        out = 0
        for bit in range(64):
            if mode & (1 << bit):
                out |= self.profile.mode_bits.get(1 << bit, 1 << bit)
        return out

    # ------------------------------------------------------------------ misc

    def errno(self) -> int:
        """``errno`` as the last call through this binding left it."""
        return ctypes.get_errno()

    def version_number(self) -> int:
        """``OpenSSL_version_num()`` (``SSLeay()`` before 1.1.0): the release number the library says it is or
        imitates; 0 if it has neither."""
        for symbol in ("OpenSSL_version_num", "SSLeay"):
            fn = self._raw(symbol)
            if fn is not None:
                fn.restype, fn.argtypes = c_ulong, ()
                return int(fn())
        return 0

    def OpenSSL_version(self, t: int = _OPENSSL_VERSION) -> str | None:
        return _text(self._function("OpenSSL_version")(t))

    # ------------------------------------------------------------------ BIO objects

    def BIO_new(self, type: Handle | None) -> Handle | None:
        return _wrap("BIO", self._function("BIO_new")(_address(type, "BIO_METHOD")))

    def BIO_free(self, a: Handle | None) -> int:
        return int(self._function("BIO_free")(_address(a, "BIO")))

    def BIO_free_all(self, a: Handle | None) -> None:
        self._function("BIO_free_all")(_address(a, "BIO"))

    def BIO_vfree(self, a: Handle | None) -> None:
        self._function("BIO_vfree")(_address(a, "BIO"))

    def BIO_up_ref(self, a: Handle | None) -> int:
        return int(self._function("BIO_up_ref")(_address(a, "BIO")))

    def BIO_s_mem(self) -> Handle | None:
        return _wrap("BIO_METHOD", self._function("BIO_s_mem")())

    def BIO_s_bio(self) -> Handle | None:
        return _wrap("BIO_METHOD", self._function("BIO_s_bio")())

    def BIO_s_socket(self) -> Handle | None:
        return _wrap("BIO_METHOD", self._function("BIO_s_socket")())

    def BIO_new_mem_buf(self, buf: bytes | bytearray | None, len: int | None = None) -> Handle | None:
        """``len`` defaults to ``len(buf)``; ``-1`` means "up to the first NUL" as in C. A ``bytearray`` is the
        caller's own memory and is handed to the library as it is (its address, not a copy), as C passes a buffer;
        ``bytes`` are copied into memory of the binding's, which stays alive as long as the binding."""
        if buf is None:
            return _wrap("BIO", self._function("BIO_new_mem_buf")(None, -1 if len is None else len))
        if isinstance(buf, bytearray):
            size = builtins.len(buf)
            if len is not None and not 0 <= len <= size:
                raise ValueError(f"BIO_new_mem_buf over a bytearray of {size} bytes needs 0 <= len <= {size}")
            caller = (ctypes.c_char * size).from_buffer(buf)  # no copy: the BIO reads the bytearray itself
            result = _wrap("BIO", self._function("BIO_new_mem_buf")(caller, size if len is None else len))
            if result is not None:
                self._mem_buffers[result._address] = caller
            return result
        storage = ctypes.create_string_buffer(buf, max(builtins.len(buf), len or 0) + 1)
        result = _wrap("BIO", self._function("BIO_new_mem_buf")(storage, builtins.len(buf) if len is None else len))
        if result is not None:
            self._mem_buffers[result._address] = storage  # the BIO reads this memory for its whole life
        return result

    def c_heap_in_use(self) -> int:
        """Not a function of the pages: the bytes the process holds from glibc's malloc right now (``mallinfo2()``:
        ``uordblks`` in the heap plus ``hblkhd`` in mmapped blocks). The library under test allocates with malloc,
        so a difference around its calls is memory it took or gave back (with the interpreter's noise)."""
        return c_heap_in_use()

    def BIO_new_bio_pair(self, writebuf1: int = 0, writebuf2: int = 0) -> tuple[int, Handle | None, Handle | None]:
        b1, b2 = c_void_p(), c_void_p()
        ret = self._function("BIO_new_bio_pair")(byref(b1), writebuf1, byref(b2), writebuf2)
        return int(ret), _wrap("BIO", b1.value), _wrap("BIO", b2.value)

    def BIO_new_bio_pair_over(self, old1: Handle | None, old2: Handle | None, writebuf1: int = 0,
                              writebuf2: int = 0) -> tuple[int, Handle | None, Handle | None]:
        """Not a function of the pages: BIO_new_bio_pair() with its two output locations holding ``old1`` and
        ``old2`` before the call (as a C caller's variables might), to see what it does with them."""
        b1, b2 = c_void_p(_address(old1, "BIO")), c_void_p(_address(old2, "BIO"))
        ret = self._function("BIO_new_bio_pair")(byref(b1), writebuf1, byref(b2), writebuf2)
        return int(ret), _wrap("BIO", b1.value), _wrap("BIO", b2.value)

    def BIO_new_socket(self, sock: int, close_flag: int) -> Handle | None:
        return _wrap("BIO", self._function("BIO_new_socket")(sock, close_flag))

    # ------------------------------------------------------------------ BIO chains (BIO_push.pod)

    def BIO_push(self, b: Handle | None, next: Handle | None) -> Handle | None:
        return _wrap("BIO", self._function("BIO_push")(_address(b, "BIO"), _address(next, "BIO")))

    def BIO_pop(self, b: Handle | None) -> Handle | None:
        return _wrap("BIO", self._function("BIO_pop")(_address(b, "BIO")))

    def BIO_next(self, b: Handle | None) -> Handle | None:
        return _wrap("BIO", self._function("BIO_next")(_address(b, "BIO")))

    def BIO_set_next(self, b: Handle | None, next: Handle | None) -> None:
        self._function("BIO_set_next")(_address(b, "BIO"), _address(next, "BIO"))

    # ------------------------------------------------------------------ BIO_parse_hostserv.pod

    def BIO_parse_hostserv(
        self, hostserv: str | bytes | None, hostserv_prio: int, host: str | None = None, service: str | None = None
    ) -> tuple[int, str | None, str | None]:
        """``(ret, host, service)``: ``host`` / ``service`` are what ``*host`` / ``*service`` hold before the call
        (the caller's own strings, left alone by the library when it does not touch them); strings the library
        allocated come back as ``str`` and are freed with OPENSSL_free."""
        keep = [ctypes.create_string_buffer(v.encode()) if v is not None else None for v in (host, service)]
        before = [ctypes.addressof(k) if k is not None else None for k in keep]
        out = [c_void_p(b) for b in before]
        ret = int(self._function("BIO_parse_hostserv")(_cstr(hostserv), byref(out[0]), byref(out[1]), hostserv_prio))
        results: list[str | None] = []
        for value, old, pointer in zip((host, service), before, out, strict=True):
            if pointer.value is None:
                results.append(None)
            elif pointer.value == old:
                results.append(value)  # untouched: still the caller's string
            else:
                results.append(self._owned_string(pointer.value))
        return ret, results[0], results[1]

    # ------------------------------------------------------------------ descriptor BIOs (BIO_s_fd.pod)

    def BIO_s_fd(self) -> Handle | None:
        return _wrap("BIO_METHOD", self._function("BIO_s_fd")())

    def BIO_new_fd(self, fd: int, close_flag: int) -> Handle | None:
        return _wrap("BIO", self._function("BIO_new_fd")(fd, close_flag))

    def BIO_seek(self, b: Handle | None, ofs: int) -> int:
        return _int(self._bio_macro("BIO_seek", b, _BIO_C_FILE_SEEK, ofs))

    def BIO_tell(self, b: Handle | None) -> int:
        return _int(self._bio_macro("BIO_tell", b, _BIO_C_FILE_TELL))

    # ------------------------------------------------------------------ buffering BIOs (BIO_f_buffer.pod)

    def BIO_f_buffer(self) -> Handle | None:
        return _wrap("BIO_METHOD", self._function("BIO_f_buffer")())

    def BIO_get_buffer_num_lines(self, b: Handle | None) -> int:
        return self._bio_macro("BIO_get_buffer_num_lines", b, _BIO_C_GET_BUFF_NUM_LINES)

    def BIO_set_read_buffer_size(self, b: Handle | None, size: int) -> int:
        self._macro_function("BIO_set_read_buffer_size")  # raises MissingSymbol where the headers lack the macro
        return self.BIO_int_ctrl(b, _BIO_C_SET_BUFF_SIZE, size, 0)

    def BIO_set_write_buffer_size(self, b: Handle | None, size: int) -> int:
        fn = self._macro_function("BIO_set_write_buffer_size")
        if fn is not None:
            return int(fn(_address(b, "BIO"), size))
        return self.BIO_int_ctrl(b, _BIO_C_SET_BUFF_SIZE, size, 1)

    def BIO_set_buffer_size(self, b: Handle | None, size: int) -> int:
        return self._bio_macro("BIO_set_buffer_size", b, _BIO_C_SET_BUFF_SIZE, size)

    def BIO_set_buffer_read_data(self, b: Handle | None, buf: bytes, num: int) -> int:
        self._macro_function("BIO_set_buffer_read_data")
        storage = ctypes.create_string_buffer(buf, max(len(buf), 1))  # the BIO copies the bytes
        return int(self._function("BIO_ctrl")(_address(b, "BIO"), _BIO_C_SET_BUFF_READ_DATA, num,
                                                 ctypes.addressof(storage)))

    # ------------------------------------------------------------------ BIO control (functions and macros)

    def BIO_ctrl(self, bp: Handle | None, cmd: int, larg: int = 0, parg: Handle | int | None = None) -> int:
        """Generic ``BIO_ctrl``; ``parg`` may be a handle (e.g. the peer of ``BIO_C_MAKE_BIO_PAIR``) or NULL."""
        pointer = parg if isinstance(parg, int) else _address(parg)
        return int(self._function("BIO_ctrl")(_address(bp, "BIO"), cmd, larg, pointer))

    def BIO_int_ctrl(self, bp: Handle | None, cmd: int, larg: int, iarg: int) -> int:
        return int(self._function("BIO_int_ctrl")(_address(bp, "BIO"), cmd, larg, iarg))

    def _bio_macro(self, name: str, b: Handle | None, cmd: int, larg: int = 0, parg: Handle | None = None) -> int:
        fn = self._macro_function(name)
        if fn is not None:
            args: list[Any] = [_address(b, "BIO")]
            if name == "BIO_make_bio_pair":
                args.append(_address(parg, "BIO"))
            elif name in ("BIO_set_write_buf_size", "BIO_seek"):
                args.append(larg)
            return int(fn(*args))
        return self.BIO_ctrl(b, cmd, larg, parg)

    def BIO_make_bio_pair(self, b1: Handle | None, b2: Handle | None) -> int:
        return _int(self._bio_macro("BIO_make_bio_pair", b1, _BIO_C_MAKE_BIO_PAIR, 0, b2))

    def BIO_destroy_bio_pair(self, b: Handle | None) -> int:
        return _int(self._bio_macro("BIO_destroy_bio_pair", b, _BIO_C_DESTROY_BIO_PAIR))

    def BIO_shutdown_wr(self, b: Handle | None) -> int:
        return _int(self._bio_macro("BIO_shutdown_wr", b, _BIO_C_SHUTDOWN_WR))

    def BIO_set_write_buf_size(self, b: Handle | None, size: int) -> int:
        return _int(self._bio_macro("BIO_set_write_buf_size", b, _BIO_C_SET_WRITE_BUF_SIZE, size))

    def BIO_get_write_buf_size(self, b: Handle | None, size: int = 0) -> int:
        return c_size_t(self._bio_macro("BIO_get_write_buf_size", b, _BIO_C_GET_WRITE_BUF_SIZE, size)).value

    def BIO_get_write_guarantee(self, b: Handle | None) -> int:
        return _int(self._bio_macro("BIO_get_write_guarantee", b, _BIO_C_GET_WRITE_GUARANTEE))

    def BIO_get_read_request(self, b: Handle | None) -> int:
        return _int(self._bio_macro("BIO_get_read_request", b, _BIO_C_GET_READ_REQUEST))

    def BIO_pending(self, b: Handle | None) -> int:
        return _int(self._bio_macro("BIO_pending", b, _BIO_CTRL_PENDING))

    def BIO_wpending(self, b: Handle | None) -> int:
        return _int(self._bio_macro("BIO_wpending", b, _BIO_CTRL_WPENDING))

    def BIO_eof(self, b: Handle | None) -> int:
        return _int(self._bio_macro("BIO_eof", b, _BIO_CTRL_EOF))

    def BIO_reset(self, b: Handle | None) -> int:
        return _int(self._bio_macro("BIO_reset", b, _BIO_CTRL_RESET))

    def BIO_flush(self, b: Handle | None) -> int:
        return _int(self._bio_macro("BIO_flush", b, _BIO_CTRL_FLUSH))

    def BIO_set_mem_eof_return(self, b: Handle | None, v: int) -> int:
        fn = self._macro_function("BIO_set_mem_eof_return")
        if fn is not None:
            return int(fn(_address(b, "BIO"), v))
        return self.BIO_ctrl(b, _BIO_C_SET_BUF_MEM_EOF_RETURN, v, None)

    def BIO_get_mem_data(self, b: Handle | None) -> tuple[int, bytes]:
        """``(ret, data)``: ``ret`` is what the macro returned (the length), ``data`` the bytes it points to."""
        pointer = c_void_p()
        fn = self._macro_function("BIO_get_mem_data")
        if fn is not None:
            ret = int(fn(_address(b, "BIO"), byref(pointer)))
        else:
            ret = int(self._function("BIO_ctrl")(_address(b, "BIO"), _BIO_CTRL_INFO, 0, byref(pointer)))
        data = ctypes.string_at(pointer.value, ret) if (pointer.value and ret > 0) else b""
        return ret, data

    def BIO_get_mem_ptr(self, b: Handle | None) -> tuple[int, Handle | None]:
        """``(ret, BUF_MEM)``: the macro's value and the pointer it stored (None when it stored none)."""
        out = c_void_p()
        fn = self._macro_function("BIO_get_mem_ptr")
        if fn is not None:
            ret = int(fn(_address(b, "BIO"), byref(out)))
        else:
            ret = int(self._function("BIO_ctrl")(_address(b, "BIO"), _BIO_C_GET_BUF_MEM_PTR, 0, byref(out)))
        return ret, _wrap("BUF_MEM", out.value)

    def BIO_set_mem_buf(self, b: Handle | None, bm: Handle | None, c: int) -> int:
        fn = self._macro_function("BIO_set_mem_buf")
        if fn is not None:
            return int(fn(_address(b, "BIO"), _address(bm, "BUF_MEM"), c))
        return int(self._function("BIO_ctrl")(_address(b, "BIO"), _BIO_C_SET_BUF_MEM, c, _address(bm, "BUF_MEM")))

    def BUF_MEM_fields(self, bm: Handle | None) -> tuple[int, bytes, int]:
        """Not a function of the pages: C's field access ``(bm->length, bm->data[0..length), bm->max)`` on a
        BUF_MEM the library handed out, with the library's own struct layout."""
        address = _address(bm, "BUF_MEM")
        if address is None:
            raise TypeError("BUF_MEM_fields needs a BUF_MEM, not NULL")
        layout = _WolfBufMem if self.profile.name == "wolfssl" else _BufMem
        fields = layout.from_address(address)
        data = ctypes.string_at(fields.data, fields.length) if fields.data and fields.length else b""
        return int(fields.length), data, int(fields.max)

    def BIO_get_fd(self, b: Handle | None) -> tuple[int, int]:
        """``(ret, fd)``; ``fd`` is -1 when the call did not store one."""
        fd = c_int(-1)
        fn = self._macro_function("BIO_get_fd")
        if fn is not None:
            return int(fn(_address(b, "BIO"), byref(fd))), fd.value
        ret = int(self._function("BIO_ctrl")(_address(b, "BIO"), _BIO_C_GET_FD, 0, byref(fd)))
        return ret, fd.value

    def BIO_set_fd(self, b: Handle | None, fd: int, c: int) -> int:
        fn = self._macro_function("BIO_set_fd")
        if fn is not None:
            return int(fn(_address(b, "BIO"), fd, c))
        return self.BIO_int_ctrl(b, _BIO_C_SET_FD, c, fd)

    def BIO_ctrl_get_write_guarantee(self, b: Handle | None) -> int:
        return int(self._function("BIO_ctrl_get_write_guarantee")(_address(b, "BIO")))

    def BIO_ctrl_get_read_request(self, b: Handle | None) -> int:
        return int(self._function("BIO_ctrl_get_read_request")(_address(b, "BIO")))

    def BIO_ctrl_reset_read_request(self, b: Handle | None) -> int:
        return int(self._function("BIO_ctrl_reset_read_request")(_address(b, "BIO")))

    def BIO_ctrl_pending(self, b: Handle | None) -> int:
        return int(self._function("BIO_ctrl_pending")(_address(b, "BIO")))

    def BIO_ctrl_wpending(self, b: Handle | None) -> int:
        return int(self._function("BIO_ctrl_wpending")(_address(b, "BIO")))

    # ------------------------------------------------------------------ BIO I/O

    def BIO_read(self, b: Handle | None, dlen: int) -> tuple[int, bytes]:
        buf = ctypes.create_string_buffer(max(dlen, 0) + 1)
        ret = int(self._function("BIO_read")(_address(b, "BIO"), buf, dlen))
        return ret, (buf.raw[:ret] if ret > 0 else b"")

    def BIO_write(self, b: Handle | None, data: bytes, dlen: int | None = None) -> int:
        n = builtins.len(data) if dlen is None else dlen
        buf = ctypes.create_string_buffer(data, max(builtins.len(data), n, 0) + 1)
        return int(self._function("BIO_write")(_address(b, "BIO"), buf, n))

    def BIO_read_ex(self, b: Handle | None, dlen: int) -> tuple[int, bytes]:
        buf = ctypes.create_string_buffer(max(dlen, 0) + 1)
        readbytes = c_size_t(0)
        ret = int(self._function("BIO_read_ex")(_address(b, "BIO"), buf, dlen, byref(readbytes)))
        return ret, (buf.raw[: readbytes.value] if ret > 0 else b"")

    def BIO_write_ex(self, b: Handle | None, data: bytes, dlen: int | None = None) -> tuple[int, int]:
        n = builtins.len(data) if dlen is None else dlen
        buf = ctypes.create_string_buffer(data, max(builtins.len(data), n, 0) + 1)
        written = c_size_t(0)
        ret = int(self._function("BIO_write_ex")(_address(b, "BIO"), buf, n, byref(written)))
        return ret, written.value

    def BIO_gets(self, b: Handle | None, size: int) -> tuple[int, bytes]:
        buf = ctypes.create_string_buffer(max(size, 0) + 1)
        ret = int(self._function("BIO_gets")(_address(b, "BIO"), buf, size))
        return ret, (buf.raw[:ret] if ret > 0 else b"")

    def BIO_get_line(self, b: Handle | None, size: int) -> tuple[int, bytes]:
        """``(ret, line)``: the line is the ``ret`` bytes the library reports (NULs included), b"" when ret <= 0."""
        buf = ctypes.create_string_buffer(max(size, 0) + 1)
        ret = int(self._function("BIO_get_line")(_address(b, "BIO"), buf, size))
        return ret, (buf.raw[:ret] if ret > 0 else b"")

    def BIO_puts(self, b: Handle | None, buf: bytes) -> int:
        return int(self._function("BIO_puts")(_address(b, "BIO"), buf))

    # ------------------------------------------------------------------ BIO retry flags

    def BIO_test_flags(self, b: Handle | None, flags: int) -> int:
        return int(self._function("BIO_test_flags")(_address(b, "BIO"), flags))

    def _flag_macro(self, name: str, b: Handle | None, flags: int) -> int:
        fn = self._macro_function(name)
        if fn is not None:
            return int(fn(_address(b, "BIO")))
        return self.BIO_test_flags(b, flags)

    def BIO_should_retry(self, b: Handle | None) -> int:
        return self._flag_macro("BIO_should_retry", b, _BIO_FLAGS_SHOULD_RETRY)

    def BIO_should_read(self, b: Handle | None) -> int:
        return self._flag_macro("BIO_should_read", b, _BIO_FLAGS_READ)

    def BIO_should_write(self, b: Handle | None) -> int:
        return self._flag_macro("BIO_should_write", b, _BIO_FLAGS_WRITE)

    def BIO_should_io_special(self, b: Handle | None) -> int:
        return self._flag_macro("BIO_should_io_special", b, _BIO_FLAGS_IO_SPECIAL)

    def BIO_retry_type(self, b: Handle | None) -> int:
        return self._flag_macro("BIO_retry_type", b, _BIO_FLAGS_RWS)

    def BIO_get_retry_BIO(self, bio: Handle | None) -> tuple[Handle | None, int]:
        reason = c_int(0)
        ret = self._function("BIO_get_retry_BIO")(_address(bio, "BIO"), byref(reason))
        return _wrap("BIO", ret), reason.value

    def BIO_get_retry_reason(self, bio: Handle | None) -> int:
        return int(self._function("BIO_get_retry_reason")(_address(bio, "BIO")))

    # ------------------------------------------------------------------ sockets and BIO_ADDR

    def BIO_socket(self, domain: int, socktype: int, protocol: int, options: int) -> int:
        return int(self._function("BIO_socket")(domain, socktype, protocol, options))

    def BIO_bind(self, sock: int, addr: Handle | None, options: int) -> int:
        return int(self._function("BIO_bind")(sock, _address(addr, "BIO_ADDR"), options))

    def BIO_connect(self, sock: int, addr: Handle | None, options: int) -> int:
        return int(self._function("BIO_connect")(sock, _address(addr, "BIO_ADDR"), options))

    def BIO_listen(self, sock: int, addr: Handle | None, options: int) -> int:
        return int(self._function("BIO_listen")(sock, _address(addr, "BIO_ADDR"), options))

    def BIO_accept_ex(self, accept_sock: int, addr: Handle | None, options: int) -> int:
        return int(self._function("BIO_accept_ex")(accept_sock, _address(addr, "BIO_ADDR"), options))

    def BIO_closesocket(self, sock: int) -> int:
        return int(self._function("BIO_closesocket")(sock))

    def BIO_sock_info(self, sock: int, type: int, addr: Handle | None) -> int:
        """``BIO_sock_info(sock, BIO_SOCK_INFO_ADDRESS, &info)`` with ``info.addr`` = ``addr`` (filled in)."""
        info = c_void_p(_address(addr, "BIO_ADDR"))
        return int(self._function("BIO_sock_info")(sock, type, byref(info)))

    def BIO_ADDR_new(self) -> Handle | None:
        return _wrap("BIO_ADDR", self._function("BIO_ADDR_new")())

    def BIO_ADDR_free(self, ap: Handle | None) -> None:
        self._function("BIO_ADDR_free")(_address(ap, "BIO_ADDR"))

    def BIO_ADDR_clear(self, ap: Handle | None) -> None:
        self._function("BIO_ADDR_clear")(_address(ap, "BIO_ADDR"))

    def BIO_ADDR_rawmake(self, ap: Handle | None, family: int, where: bytes | None, port: int) -> int:
        """``wherelen`` is ``len(where)``; ``port`` in network byte order, as in C."""
        size = 0 if where is None else builtins.len(where)
        return int(self._function("BIO_ADDR_rawmake")(_address(ap, "BIO_ADDR"), family, where, size, port))

    def BIO_ADDR_family(self, ap: Handle | None) -> int:
        return int(self._function("BIO_ADDR_family")(_address(ap, "BIO_ADDR")))

    def BIO_ADDR_rawaddress(self, ap: Handle | None) -> tuple[int, bytes]:
        """``(ret, address bytes)``: asks for the length first (``p == NULL``), then fills a buffer that size."""
        size = c_size_t(0)
        fn = self._function("BIO_ADDR_rawaddress")
        ret = int(fn(_address(ap, "BIO_ADDR"), None, byref(size)))
        if ret != 1:
            return ret, b""
        buf = ctypes.create_string_buffer(size.value + 1)
        ret = int(fn(_address(ap, "BIO_ADDR"), buf, byref(size)))
        return ret, (buf.raw[: size.value] if ret == 1 else b"")

    def BIO_ADDR_rawport(self, ap: Handle | None) -> int:
        return int(self._function("BIO_ADDR_rawport")(_address(ap, "BIO_ADDR")))

    def _owned_string(self, pointer: int | None) -> str | None:
        if not pointer:
            return None
        text = ctypes.string_at(pointer).decode("utf-8", "replace")
        self._function("CRYPTO_free")(pointer, b"conformance/capi/libssl.py", 0)  # OPENSSL_free
        return text

    def BIO_ADDR_string_unfreed(self, name: str, ap: Handle | None, *args: int) -> int | None:
        """Not a function of the pages: the ``char *`` that ``name`` (BIO_ADDR_hostname_string,
        BIO_ADDR_service_string or BIO_ADDR_path_string) returns, as an address the binding does not free; the
        caller reads it with :meth:`c_string_at` and releases it with :meth:`OPENSSL_free`."""
        if name not in ("BIO_ADDR_hostname_string", "BIO_ADDR_service_string", "BIO_ADDR_path_string"):
            raise ValueError(f"{name} returns no string to be freed")
        return self._function(name)(_address(ap, "BIO_ADDR"), *args)  # type: ignore[no-any-return]

    def c_string_at(self, pointer: int) -> bytes:
        """Not a function of the pages: the NUL-terminated bytes at ``pointer`` (a live string of the library)."""
        return ctypes.string_at(pointer)

    def OPENSSL_free(self, pointer: int | None) -> None:
        """crypto.h: ``CRYPTO_free(addr, OPENSSL_FILE, OPENSSL_LINE)``."""
        self._function("CRYPTO_free")(pointer, b"conformance/capi/libssl.py", 0)

    def BIO_ADDR_hostname_string(self, ap: Handle | None, numeric: int) -> str | None:
        return self._owned_string(self._function("BIO_ADDR_hostname_string")(_address(ap, "BIO_ADDR"), numeric))

    def BIO_ADDR_service_string(self, ap: Handle | None, numeric: int) -> str | None:
        return self._owned_string(self._function("BIO_ADDR_service_string")(_address(ap, "BIO_ADDR"), numeric))

    def BIO_lookup_ex(
        self,
        host: str | bytes | None,
        service: str | bytes | None,
        lookup_type: int,
        family: int,
        socktype: int,
        protocol: int,
    ) -> tuple[int, Handle | None]:
        res = c_void_p()
        fn = self._function("BIO_lookup_ex")
        ret = int(fn(_cstr(host), _cstr(service), lookup_type, family, socktype, protocol, byref(res)))
        return ret, _wrap("BIO_ADDRINFO", res.value)

    def BIO_lookup(
        self, host: str | bytes | None, service: str | bytes | None, lookup_type: int, family: int, socktype: int
    ) -> tuple[int, Handle | None]:
        res = c_void_p()
        ret = int(self._function("BIO_lookup")(_cstr(host), _cstr(service), lookup_type, family, socktype, byref(res)))
        return ret, _wrap("BIO_ADDRINFO", res.value)

    def BIO_ADDRINFO_next(self, bai: Handle | None) -> Handle | None:
        return _wrap("BIO_ADDRINFO", self._function("BIO_ADDRINFO_next")(_address(bai, "BIO_ADDRINFO")))

    def BIO_ADDRINFO_free(self, bai: Handle | None) -> None:
        self._function("BIO_ADDRINFO_free")(_address(bai, "BIO_ADDRINFO"))

    def BIO_ADDRINFO_address(self, bai: Handle | None) -> Handle | None:
        return _wrap("BIO_ADDR", self._function("BIO_ADDRINFO_address")(_address(bai, "BIO_ADDRINFO")))

    def BIO_ADDRINFO_family(self, bai: Handle | None) -> int:
        return int(self._function("BIO_ADDRINFO_family")(_address(bai, "BIO_ADDRINFO")))

    def BIO_ADDRINFO_socktype(self, bai: Handle | None) -> int:
        return int(self._function("BIO_ADDRINFO_socktype")(_address(bai, "BIO_ADDRINFO")))

    def BIO_ADDRINFO_protocol(self, bai: Handle | None) -> int:
        return int(self._function("BIO_ADDRINFO_protocol")(_address(bai, "BIO_ADDRINFO")))

    # ------------------------------------------------------------------ the error queue

    def ERR_get_error(self) -> int:
        return int(self._function("ERR_get_error")())

    def ERR_peek_error(self) -> int:
        return int(self._function("ERR_peek_error")())

    def ERR_peek_last_error(self) -> int:
        return int(self._function("ERR_peek_last_error")())

    def ERR_clear_error(self) -> None:
        self._function("ERR_clear_error")()

    def ERR_error_string_n(self, e: int, len: int = 256) -> str:
        buf = ctypes.create_string_buffer(max(len, 0) + 1)
        self._function("ERR_error_string_n")(e, buf, len)
        return buf.value.decode("utf-8", "replace")

    def ERR_GET_LIB(self, errcode: int) -> int:
        fn = self._macro_function("ERR_GET_LIB")
        if fn is not None:
            return int(fn(errcode))
        if self.profile.err_layout is not None:
            offset, mask, _ = self.profile.err_layout
            return (errcode >> offset) & mask
        if errcode & K.ERR_SYSTEM_FLAG:
            return K.ERR_LIB_SYS
        return (errcode >> K.ERR_LIB_OFFSET) & K.ERR_LIB_MASK

    def ERR_GET_REASON(self, errcode: int) -> int:
        fn = self._macro_function("ERR_GET_REASON")
        if fn is not None:
            return int(fn(errcode))
        if self.profile.err_layout is not None:
            return errcode & self.profile.err_layout[2]
        if errcode & K.ERR_SYSTEM_FLAG:
            return errcode & K.ERR_SYSTEM_MASK
        return errcode & K.ERR_REASON_MASK

    # ------------------------------------------------------------------ methods and SSL_CTX

    def TLS_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("TLS_method")())

    def _sslv23(self, name: str, tls: str) -> Handle | None:
        """ssl.h (3.0): ``# define SSLv23_method TLS_method`` (and the client / server pair); a library that exports
        the old name as a function of its own (BoringSSL, GnuTLS's layer) is called under that name."""
        own = self._raw(self.profile.symbol(name))
        if own is None:
            return self._wrap_method(self._function(tls)())
        own.restype, own.argtypes = _H, ()
        return self._wrap_method(own())

    @staticmethod
    def _wrap_method(address: int | None) -> Handle | None:
        return _wrap("SSL_METHOD", address)

    def SSLv23_method(self) -> Handle | None:
        return self._sslv23("SSLv23_method", "TLS_method")

    def SSLv23_client_method(self) -> Handle | None:
        return self._sslv23("SSLv23_client_method", "TLS_client_method")

    def SSLv23_server_method(self) -> Handle | None:
        return self._sslv23("SSLv23_server_method", "TLS_server_method")

    def TLS_client_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("TLS_client_method")())

    def TLS_server_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("TLS_server_method")())

    def SSL_CTX_new(self, method: Handle | None) -> Handle | None:
        return _wrap("SSL_CTX", self._function("SSL_CTX_new")(_address(method, "SSL_METHOD")))

    def SSL_CTX_free(self, ctx: Handle | None) -> None:
        self._function("SSL_CTX_free")(_address(ctx, "SSL_CTX"))

    def SSL_CTX_up_ref(self, ctx: Handle | None) -> int:
        return int(self._function("SSL_CTX_up_ref")(_address(ctx, "SSL_CTX")))

    def SSL_CTX_ctrl(self, ctx: Handle | None, cmd: int, larg: int = 0, parg: bytes | None = None) -> int:
        return int(self._function("SSL_CTX_ctrl")(_address(ctx, "SSL_CTX"), cmd, larg, parg))

    def SSL_ctrl(self, ssl: Handle | None, cmd: int, larg: int = 0, parg: bytes | None = None) -> int:
        return int(self._function("SSL_ctrl")(_address(ssl, "SSL"), cmd, larg, parg))

    def _ctx_macro(self, name: str, ctx: Handle | None, cmd: int, *args: int) -> int:
        fn = self._macro_function(name)
        if fn is not None:
            return int(fn(_address(ctx, "SSL_CTX"), *args))
        return self.SSL_CTX_ctrl(ctx, cmd, args[0] if args else 0, None)

    def _ssl_macro(self, name: str, ssl: Handle | None, cmd: int, *args: int) -> int:
        fn = self._macro_function(name)
        if fn is not None:
            return int(fn(_address(ssl, "SSL"), *args))
        return self.SSL_ctrl(ssl, cmd, args[0] if args else 0, None)

    def SSL_CTX_set_min_proto_version(self, ctx: Handle | None, version: int) -> int:
        return self._ctx_macro("SSL_CTX_set_min_proto_version", ctx, K.SSL_CTRL_SET_MIN_PROTO_VERSION, version)

    def SSL_CTX_set_max_proto_version(self, ctx: Handle | None, version: int) -> int:
        return self._ctx_macro("SSL_CTX_set_max_proto_version", ctx, K.SSL_CTRL_SET_MAX_PROTO_VERSION, version)

    def SSL_CTX_get_min_proto_version(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_get_min_proto_version", ctx, K.SSL_CTRL_GET_MIN_PROTO_VERSION)

    def SSL_CTX_get_max_proto_version(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_get_max_proto_version", ctx, K.SSL_CTRL_GET_MAX_PROTO_VERSION)

    def SSL_set_min_proto_version(self, ssl: Handle | None, version: int) -> int:
        return self._ssl_macro("SSL_set_min_proto_version", ssl, K.SSL_CTRL_SET_MIN_PROTO_VERSION, version)

    def SSL_set_max_proto_version(self, ssl: Handle | None, version: int) -> int:
        return self._ssl_macro("SSL_set_max_proto_version", ssl, K.SSL_CTRL_SET_MAX_PROTO_VERSION, version)

    def SSL_CTX_set_mode(self, ctx: Handle | None, mode: int) -> int:
        return self._ctx_macro("SSL_CTX_set_mode", ctx, K.SSL_CTRL_MODE, self._mode_in(mode))

    def SSL_CTX_clear_mode(self, ctx: Handle | None, mode: int) -> int:
        return self._ctx_macro("SSL_CTX_clear_mode", ctx, K.SSL_CTRL_CLEAR_MODE, self._mode_in(mode))

    def SSL_CTX_get_mode(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_get_mode", ctx, K.SSL_CTRL_MODE)

    def SSL_set_mode(self, ssl: Handle | None, mode: int) -> int:
        return self._ssl_macro("SSL_set_mode", ssl, K.SSL_CTRL_MODE, self._mode_in(mode))

    def SSL_clear_mode(self, ssl: Handle | None, mode: int) -> int:
        return self._ssl_macro("SSL_clear_mode", ssl, K.SSL_CTRL_CLEAR_MODE, self._mode_in(mode))

    def SSL_get_mode(self, ssl: Handle | None) -> int:
        return self._ssl_macro("SSL_get_mode", ssl, K.SSL_CTRL_MODE)

    def SSL_CTX_set_options(self, ctx: Handle | None, op: int) -> int:
        return int(self._function("SSL_CTX_set_options")(_address(ctx, "SSL_CTX"), op))

    def SSL_CTX_get_options(self, ctx: Handle | None) -> int:
        return int(self._function("SSL_CTX_get_options")(_address(ctx, "SSL_CTX")))

    def SSL_CTX_clear_options(self, ctx: Handle | None, op: int) -> int:
        return int(self._function("SSL_CTX_clear_options")(_address(ctx, "SSL_CTX"), op))

    def SSL_set_options(self, ssl: Handle | None, op: int) -> int:
        return int(self._function("SSL_set_options")(_address(ssl, "SSL"), op))

    def SSL_get_options(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_get_options")(_address(ssl, "SSL")))

    def SSL_clear_options(self, ssl: Handle | None, op: int) -> int:
        return int(self._function("SSL_clear_options")(_address(ssl, "SSL"), op))

    def _verify_callback(self, callback: Callable[[int, Any], int] | None) -> Any:
        """``callback(preverify_ok, store_ctx)`` -> the int OpenSSL's verify callback returns (None: no callback)."""
        if callback is None:
            return None

        def trampoline(preverify_ok: int, store_ctx: int | None) -> int:
            return int(callback(preverify_ok, _wrap("X509_STORE_CTX", store_ctx)))

        c_fn = _VERIFY_CB(self._guard(trampoline))
        self._callbacks.append(c_fn)
        return ctypes.cast(c_fn, c_void_p)

    def SSL_CTX_set_verify(self, ctx: Handle | None, mode: int,
                           callback: Callable[[int, Any], int] | None = None) -> None:
        self._function("SSL_CTX_set_verify")(_address(ctx, "SSL_CTX"), mode, self._verify_callback(callback))

    def SSL_set_verify(self, ssl: Handle | None, mode: int, callback: Callable[[int, Any], int] | None = None) -> None:
        self._function("SSL_set_verify")(_address(ssl, "SSL"), mode, self._verify_callback(callback))

    def SSL_get_verify_callback(self, ssl: Handle | None) -> int | None:
        """The callback's address (an int) or None: enough to compare two objects' callbacks."""
        return self._function("SSL_get_verify_callback")(_address(ssl, "SSL"))  # type: ignore[no-any-return]

    def SSL_CTX_get_verify_callback(self, ctx: Handle | None) -> int | None:
        """The callback's address (an int) or None."""
        return self._function("SSL_CTX_get_verify_callback")(_address(ctx, "SSL_CTX"))  # type: ignore[no-any-return]

    def SSL_CTX_get_verify_mode(self, ctx: Handle | None) -> int:
        return int(self._function("SSL_CTX_get_verify_mode")(_address(ctx, "SSL_CTX")))

    def SSL_CTX_get_verify_depth(self, ctx: Handle | None) -> int:
        return int(self._function("SSL_CTX_get_verify_depth")(_address(ctx, "SSL_CTX")))

    def SSL_CTX_set_verify_depth(self, ctx: Handle | None, depth: int) -> None:
        self._function("SSL_CTX_set_verify_depth")(_address(ctx, "SSL_CTX"), depth)

    def X509_STORE_CTX_get_error(self, ctx: Handle | None) -> int:
        return int(self._function("X509_STORE_CTX_get_error")(_address(ctx, "X509_STORE_CTX")))

    def X509_STORE_CTX_set_error(self, ctx: Handle | None, s: int) -> None:
        self._function("X509_STORE_CTX_set_error")(_address(ctx, "X509_STORE_CTX"), s)

    def X509_STORE_CTX_get_error_depth(self, ctx: Handle | None) -> int:
        return int(self._function("X509_STORE_CTX_get_error_depth")(_address(ctx, "X509_STORE_CTX")))

    def X509_STORE_CTX_get_current_cert(self, ctx: Handle | None) -> Handle | None:
        return _wrap("X509", self._function("X509_STORE_CTX_get_current_cert")(_address(ctx, "X509_STORE_CTX")))

    def X509_STORE_CTX_get_ex_data(self, ctx: Handle | None, idx: int) -> Handle | None:
        """The pointer stored at ``idx``, as an SSL handle: the store contexts of a TLS handshake carry the verifying
        SSL at ``SSL_get_ex_data_X509_STORE_CTX_idx()`` (the only index the cases read)."""
        return _wrap("SSL", self._function("X509_STORE_CTX_get_ex_data")(_address(ctx, "X509_STORE_CTX"), idx))

    def SSL_get_ex_data_X509_STORE_CTX_idx(self) -> int:
        return int(self._function("SSL_get_ex_data_X509_STORE_CTX_idx")())

    def SSL_CTX_get_client_cert_cb(self, ctx: Handle | None) -> int | None:
        """The callback's address (an int) or None."""
        return self._function("SSL_CTX_get_client_cert_cb")(_address(ctx, "SSL_CTX"))  # type: ignore[no-any-return]

    def SSL_CTX_set_read_ahead(self, ctx: Handle | None, yes: int) -> int:
        return self._ctx_macro("SSL_CTX_set_read_ahead", ctx, K.SSL_CTRL_SET_READ_AHEAD, yes)

    def SSL_CTX_get_read_ahead(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_get_read_ahead", ctx, K.SSL_CTRL_GET_READ_AHEAD)

    def SSL_CTX_set_default_read_ahead(self, ctx: Handle | None, yes: int) -> int:
        return self._ctx_macro("SSL_CTX_set_default_read_ahead", ctx, K.SSL_CTRL_SET_READ_AHEAD, yes)

    def SSL_CTX_get_default_read_ahead(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_get_default_read_ahead", ctx, K.SSL_CTRL_GET_READ_AHEAD)

    def SSL_set_read_ahead(self, ssl: Handle | None, yes: int) -> None:
        self._function("SSL_set_read_ahead")(_address(ssl, "SSL"), yes)

    def SSL_get_read_ahead(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_get_read_ahead")(_address(ssl, "SSL")))

    def SSL_CTX_set_tlsext_max_fragment_length(self, ctx: Handle | None, mode: int) -> int:
        return int(self._function("SSL_CTX_set_tlsext_max_fragment_length")(_address(ctx, "SSL_CTX"), mode))

    def SSL_set_tlsext_max_fragment_length(self, ssl: Handle | None, mode: int) -> int:
        return int(self._function("SSL_set_tlsext_max_fragment_length")(_address(ssl, "SSL"), mode))

    def SSL_SESSION_get_max_fragment_length(self, s: Handle | None) -> int:
        return int(self._function("SSL_SESSION_get_max_fragment_length")(_address(s, "SSL_SESSION")))

    def SSL_CTX_set_max_send_fragment(self, ctx: Handle | None, m: int) -> int:
        return self._ctx_macro("SSL_CTX_set_max_send_fragment", ctx, K.SSL_CTRL_SET_MAX_SEND_FRAGMENT, m)

    def SSL_set_max_send_fragment(self, ssl: Handle | None, m: int) -> int:
        return self._ssl_macro("SSL_set_max_send_fragment", ssl, K.SSL_CTRL_SET_MAX_SEND_FRAGMENT, m)

    def SSL_CTX_set_split_send_fragment(self, ctx: Handle | None, m: int) -> int:
        return self._ctx_macro("SSL_CTX_set_split_send_fragment", ctx, K.SSL_CTRL_SET_SPLIT_SEND_FRAGMENT, m)

    def SSL_set_split_send_fragment(self, ssl: Handle | None, m: int) -> int:
        return self._ssl_macro("SSL_set_split_send_fragment", ssl, K.SSL_CTRL_SET_SPLIT_SEND_FRAGMENT, m)

    def SSL_CTX_set_max_pipelines(self, ctx: Handle | None, m: int) -> int:
        return self._ctx_macro("SSL_CTX_set_max_pipelines", ctx, K.SSL_CTRL_SET_MAX_PIPELINES, m)

    def SSL_set_max_pipelines(self, ssl: Handle | None, m: int) -> int:
        return self._ssl_macro("SSL_set_max_pipelines", ssl, K.SSL_CTRL_SET_MAX_PIPELINES, m)

    def SSL_CTX_set_default_read_buffer_len(self, ctx: Handle | None, len: int) -> None:
        self._function("SSL_CTX_set_default_read_buffer_len")(_address(ctx, "SSL_CTX"), len)

    def SSL_set_default_read_buffer_len(self, ssl: Handle | None, len: int) -> None:
        self._function("SSL_set_default_read_buffer_len")(_address(ssl, "SSL"), len)

    def SSL_CTX_use_certificate_file(self, ctx: Handle | None, file: str | bytes | None, type: int) -> int:
        return int(self._function("SSL_CTX_use_certificate_file")(_address(ctx, "SSL_CTX"), _cstr(file), type))

    def SSL_CTX_use_PrivateKey_file(self, ctx: Handle | None, file: str | bytes | None, type: int) -> int:
        return int(self._function("SSL_CTX_use_PrivateKey_file")(_address(ctx, "SSL_CTX"), _cstr(file), type))

    def SSL_CTX_use_certificate_chain_file(self, ctx: Handle | None, file: str | bytes | None) -> int:
        return int(self._function("SSL_CTX_use_certificate_chain_file")(_address(ctx, "SSL_CTX"), _cstr(file)))

    def SSL_CTX_load_verify_locations(
        self, ctx: Handle | None, CAfile: str | bytes | None, CApath: str | bytes | None = None
    ) -> int:
        fn = self._function("SSL_CTX_load_verify_locations")
        return int(fn(_address(ctx, "SSL_CTX"), _cstr(CAfile), _cstr(CApath)))

    def SSL_CTX_set_quiet_shutdown(self, ctx: Handle | None, mode: int) -> None:
        self._function("SSL_CTX_set_quiet_shutdown")(_address(ctx, "SSL_CTX"), mode)

    def SSL_CTX_get_quiet_shutdown(self, ctx: Handle | None) -> int:
        return int(self._function("SSL_CTX_get_quiet_shutdown")(_address(ctx, "SSL_CTX")))

    def SSL_set_quiet_shutdown(self, ssl: Handle | None, mode: int) -> None:
        self._function("SSL_set_quiet_shutdown")(_address(ssl, "SSL"), mode)

    def SSL_get_quiet_shutdown(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_get_quiet_shutdown")(_address(ssl, "SSL")))

    def SSL_CTX_set_cipher_list(self, ctx: Handle | None, str: str | bytes | None) -> int:
        return int(self._function("SSL_CTX_set_cipher_list")(_address(ctx, "SSL_CTX"), _cstr(str)))

    def SSL_CTX_set_num_tickets(self, ctx: Handle | None, num_tickets: int) -> int:
        return int(self._function("SSL_CTX_set_num_tickets")(_address(ctx, "SSL_CTX"), num_tickets))

    def SSL_CTX_set_ciphersuites(self, ctx: Handle | None, str: str | bytes | None) -> int:
        return int(self._function("SSL_CTX_set_ciphersuites")(_address(ctx, "SSL_CTX"), _cstr(str)))

    # ------------------------------------------------------------------ SSL objects

    def SSL_new(self, ctx: Handle | None) -> Handle | None:
        return _wrap("SSL", self._function("SSL_new")(_address(ctx, "SSL_CTX")))

    def SSL_dup(self, s: Handle | None) -> Handle | None:
        return _wrap("SSL", self._function("SSL_dup")(_address(s, "SSL")))

    def SSL_up_ref(self, s: Handle | None) -> int:
        return int(self._function("SSL_up_ref")(_address(s, "SSL")))

    def SSL_free(self, ssl: Handle | None) -> None:
        self._function("SSL_free")(_address(ssl, "SSL"))

    def SSL_clear(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_clear")(_address(ssl, "SSL")))

    def SSL_get_SSL_CTX(self, ssl: Handle | None) -> Handle | None:
        return _wrap("SSL_CTX", self._function("SSL_get_SSL_CTX")(_address(ssl, "SSL")))

    def SSL_set1_host(self, s: Handle | None, hostname: str | bytes | None) -> int:
        return int(self._function("SSL_set1_host")(_address(s, "SSL"), _cstr(hostname)))

    def SSL_get0_param(self, s: Handle | None) -> Handle | None:
        return _wrap("X509_VERIFY_PARAM", self._function("SSL_get0_param")(_address(s, "SSL")))

    def SSL_CTX_get0_param(self, ctx: Handle | None) -> Handle | None:
        return _wrap("X509_VERIFY_PARAM", self._function("SSL_CTX_get0_param")(_address(ctx, "SSL_CTX")))

    def X509_VERIFY_PARAM_set1_host(self, param: Handle | None, name: str | bytes | None, namelen: int = 0) -> int:
        fn = self._function("X509_VERIFY_PARAM_set1_host")
        return int(fn(_address(param, "X509_VERIFY_PARAM"), _cstr(name), namelen))

    def SSL_set_tlsext_host_name(self, s: Handle | None, name: str | bytes | None) -> int:
        fn = self._macro_function("SSL_set_tlsext_host_name")
        if fn is not None:
            return int(fn(_address(s, "SSL"), _cstr(name)))
        return self.SSL_ctrl(s, K.SSL_CTRL_SET_TLSEXT_HOSTNAME, K.TLSEXT_NAMETYPE_host_name, _cstr(name))

    def SSL_set_bio(self, ssl: Handle | None, rbio: Handle | None, wbio: Handle | None) -> None:
        self._function("SSL_set_bio")(_address(ssl, "SSL"), _address(rbio, "BIO"), _address(wbio, "BIO"))

    def SSL_set0_rbio(self, s: Handle | None, rbio: Handle | None) -> None:
        self._function("SSL_set0_rbio")(_address(s, "SSL"), _address(rbio, "BIO"))

    def SSL_set0_wbio(self, s: Handle | None, wbio: Handle | None) -> None:
        self._function("SSL_set0_wbio")(_address(s, "SSL"), _address(wbio, "BIO"))

    def SSL_get_rbio(self, ssl: Handle | None) -> Handle | None:
        return _wrap("BIO", self._function("SSL_get_rbio")(_address(ssl, "SSL")))

    def SSL_get_wbio(self, ssl: Handle | None) -> Handle | None:
        return _wrap("BIO", self._function("SSL_get_wbio")(_address(ssl, "SSL")))

    def SSL_set_fd(self, ssl: Handle | None, fd: int) -> int:
        return int(self._function("SSL_set_fd")(_address(ssl, "SSL"), fd))

    def SSL_set_rfd(self, ssl: Handle | None, fd: int) -> int:
        return int(self._function("SSL_set_rfd")(_address(ssl, "SSL"), fd))

    def SSL_set_wfd(self, ssl: Handle | None, fd: int) -> int:
        return int(self._function("SSL_set_wfd")(_address(ssl, "SSL"), fd))

    def SSL_get_fd(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_get_fd")(_address(ssl, "SSL")))

    def SSL_get_rfd(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_get_rfd")(_address(ssl, "SSL")))

    def SSL_get_wfd(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_get_wfd")(_address(ssl, "SSL")))

    def SSL_set_connect_state(self, ssl: Handle | None) -> None:
        self._function("SSL_set_connect_state")(_address(ssl, "SSL"))

    def SSL_set_accept_state(self, ssl: Handle | None) -> None:
        self._function("SSL_set_accept_state")(_address(ssl, "SSL"))

    def SSL_is_server(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_is_server")(_address(ssl, "SSL")))

    # ------------------------------------------------------------------ handshake and I/O

    def SSL_connect(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_connect")(_address(ssl, "SSL")))

    def SSL_accept(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_accept")(_address(ssl, "SSL")))

    def SSL_do_handshake(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_do_handshake")(_address(ssl, "SSL")))

    def _read(self, name: str, ssl: Handle | None, num: int) -> tuple[int, bytes]:
        buf = ctypes.create_string_buffer(max(num, 0) + 1)
        ret = int(self._function(name)(_address(ssl, "SSL"), buf, num))
        return ret, (buf.raw[:ret] if ret > 0 else b"")

    def _read_ex(self, name: str, ssl: Handle | None, num: int) -> tuple[int, bytes]:
        buf = ctypes.create_string_buffer(max(num, 0) + 1)
        readbytes = c_size_t(0)
        ret = int(self._function(name)(_address(ssl, "SSL"), buf, num, byref(readbytes)))
        return ret, (buf.raw[: readbytes.value] if ret > 0 else b"")

    def SSL_read(self, ssl: Handle | None, num: int) -> tuple[int, bytes]:
        return self._read("SSL_read", ssl, num)

    def SSL_peek(self, ssl: Handle | None, num: int) -> tuple[int, bytes]:
        return self._read("SSL_peek", ssl, num)

    def SSL_read_ex(self, ssl: Handle | None, num: int) -> tuple[int, bytes]:
        return self._read_ex("SSL_read_ex", ssl, num)

    def SSL_peek_ex(self, ssl: Handle | None, num: int) -> tuple[int, bytes]:
        return self._read_ex("SSL_peek_ex", ssl, num)

    def _write_buffer(self, ssl: Handle | None, data: bytes, num: int, moved: bool = False
                      ) -> ctypes.Array[ctypes.c_char]:
        """The C buffer for a write: the previous one again when the same bytes are written again on this SSL,
        unless ``moved`` asks for the same bytes at a new address (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)."""
        key = _address(ssl, "SSL") or 0
        size = max(builtins.len(data), num, 0) + 1
        previous = self._write_buffers.get(key)
        if not moved and previous is not None and previous[0] == data and builtins.len(previous[1]) >= size:
            return previous[1]
        buf = ctypes.create_string_buffer(data, size)
        self._write_buffers[key] = (data, buf)
        return buf

    def SSL_write(self, ssl: Handle | None, buf: bytes, num: int | None = None, *, moved: bool = False) -> int:
        n = builtins.len(buf) if num is None else num
        return int(self._function("SSL_write")(_address(ssl, "SSL"), self._write_buffer(ssl, buf, n, moved), n))

    def SSL_write_ex(self, ssl: Handle | None, buf: bytes, num: int | None = None, *, moved: bool = False
                     ) -> tuple[int, int]:
        n = builtins.len(buf) if num is None else num
        written = c_size_t(0)
        cbuf = self._write_buffer(ssl, buf, n, moved)
        ret = int(self._function("SSL_write_ex")(_address(ssl, "SSL"), cbuf, n, byref(written)))
        return ret, written.value

    def SSL_pending(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_pending")(_address(ssl, "SSL")))

    def SSL_has_pending(self, s: Handle | None) -> int:
        return int(self._function("SSL_has_pending")(_address(s, "SSL")))

    def SSL_shutdown(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_shutdown")(_address(ssl, "SSL")))

    def SSL_set_shutdown(self, ssl: Handle | None, mode: int) -> None:
        self._function("SSL_set_shutdown")(_address(ssl, "SSL"), mode)

    def SSL_get_shutdown(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_get_shutdown")(_address(ssl, "SSL")))

    def SSL_get_error(self, ssl: Handle | None, ret: int) -> int:
        code = int(self._function("SSL_get_error")(_address(ssl, "SSL"), ret))
        if self.translate_constants:
            return self.profile.error_codes.get(code, code)
        return code

    def SSL_want(self, ssl: Handle | None) -> int:
        state = int(self._function("SSL_want")(_address(ssl, "SSL")))
        if self.translate_constants:
            return self.profile.want_codes.get(state, state)
        return state

    def _want_is(self, name: str, ssl: Handle | None, state: int) -> int:
        """The ``SSL_want_*`` macros: ``SSL_want(ssl) == state`` where the library's header defines the macro."""
        if name in self.profile.unavailable:
            raise MissingSymbol(name, self.library, self.profile.unavailable[name])
        return int(self.SSL_want(ssl) == state)

    def SSL_want_nothing(self, ssl: Handle | None) -> int:
        return self._want_is("SSL_want_nothing", ssl, K.SSL_NOTHING)

    def SSL_want_read(self, ssl: Handle | None) -> int:
        return self._want_is("SSL_want_read", ssl, K.SSL_READING)

    def SSL_want_write(self, ssl: Handle | None) -> int:
        return self._want_is("SSL_want_write", ssl, K.SSL_WRITING)

    def SSL_want_x509_lookup(self, ssl: Handle | None) -> int:
        return self._want_is("SSL_want_x509_lookup", ssl, K.SSL_X509_LOOKUP)

    def SSL_want_retry_verify(self, ssl: Handle | None) -> int:
        return self._want_is("SSL_want_retry_verify", ssl, K.SSL_RETRY_VERIFY)

    def SSL_want_async(self, ssl: Handle | None) -> int:
        return self._want_is("SSL_want_async", ssl, K.SSL_ASYNC_PAUSED)

    def SSL_want_async_job(self, ssl: Handle | None) -> int:
        return self._want_is("SSL_want_async_job", ssl, K.SSL_ASYNC_NO_JOBS)

    def SSL_want_client_hello_cb(self, ssl: Handle | None) -> int:
        return self._want_is("SSL_want_client_hello_cb", ssl, K.SSL_CLIENT_HELLO_CB)

    def SSL_key_update(self, s: Handle | None, updatetype: int) -> int:
        return int(self._function("SSL_key_update")(_address(s, "SSL"), updatetype))

    def SSL_verify_client_post_handshake(self, s: Handle | None) -> int:
        return int(self._function("SSL_verify_client_post_handshake")(_address(s, "SSL")))

    def SSL_set_post_handshake_auth(self, s: Handle | None, val: int) -> None:
        self._function("SSL_set_post_handshake_auth")(_address(s, "SSL"), val)

    def SSL_CTX_set_post_handshake_auth(self, ctx: Handle | None, val: int) -> None:
        self._function("SSL_CTX_set_post_handshake_auth")(_address(ctx, "SSL_CTX"), val)

    def SSL_get_key_update_type(self, s: Handle | None) -> int:
        return int(self._function("SSL_get_key_update_type")(_address(s, "SSL")))

    # ------------------------------------------------------------------ connection information

    def SSL_version(self, s: Handle | None) -> int:
        return int(self._function("SSL_version")(_address(s, "SSL")))

    def SSL_get_version(self, ssl: Handle | None) -> str | None:
        return _text(self._function("SSL_get_version")(_address(ssl, "SSL")))

    def SSL_get_current_cipher(self, ssl: Handle | None) -> Handle | None:
        return _wrap("SSL_CIPHER", self._function("SSL_get_current_cipher")(_address(ssl, "SSL")))

    def SSL_CIPHER_get_name(self, cipher: Handle | None) -> str | None:
        return _text(self._function("SSL_CIPHER_get_name")(_address(cipher, "SSL_CIPHER")))

    def SSL_get_verify_result(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_get_verify_result")(_address(ssl, "SSL")))

    # ------------------------------------------------------------------ further functions of the pages' cases

    def SSL_CTX_set1_groups_list(self, ctx: Handle | None, groups: str | bytes) -> int:
        """A macro in 3.0 (``SSL_CTX_ctrl(ctx, SSL_CTRL_SET_GROUPS_LIST, 0, list)``); a function in wolfSSL."""
        if "SSL_CTX_set1_groups_list" not in self.profile.macro_functions:
            fn = self._function("SSL_CTX_ctrl")
            return int(fn(_address(ctx, "SSL_CTX"), _SSL_CTRL_SET_GROUPS_LIST, 0, ctypes.c_char_p(_cstr(groups))))
        # wolfSSL's group list takes its own curve names (P-256, P-384, X25519).
        names = (groups.decode() if isinstance(groups, bytes) else groups).split(":")
        spelled = ":".join(self.profile.group_names.get(n, n) for n in names)
        macro = self._macro_function("SSL_CTX_set1_groups_list")
        if macro is None:
            raise MissingSymbol("SSL_CTX_set1_groups_list", self.library, "no groups-list function")
        return int(macro(_address(ctx, "SSL_CTX"), _cstr(spelled)))

    def SSL_renegotiate(self, s: Handle | None) -> int:
        return int(self._function("SSL_renegotiate")(_address(s, "SSL")))

    def SSL_renegotiate_pending(self, s: Handle | None) -> int:
        return int(self._function("SSL_renegotiate_pending")(_address(s, "SSL")))

    def SSL_CTX_set_client_cert_cb(self, ctx: Handle | None,
                                   callback: Callable[[Handle | None], int | tuple[int, Handle | None, Handle | None]]
                                   | None) -> None:
        """``callback(ssl)`` returns the C callback's value (-1: call again later, 0: no certificate), or
        ``(ret, x509, pkey)``: the out parameters, written through the ``X509 **`` / ``EVP_PKEY **`` the library
        passed (one reference of each handed over: OpenSSL frees them after installing the pair). The binding
        keeps the C trampoline alive as long as the api object."""
        if callback is None:
            self._function("SSL_CTX_set_client_cert_cb")(_address(ctx, "SSL_CTX"), None)
            return

        def trampoline(ssl: int | None, x509: int | None, pkey: int | None) -> int:
            answer = callback(_wrap("SSL", ssl))
            if not isinstance(answer, tuple):
                return int(answer)
            ret, cert, key = answer
            if x509:
                ctypes.cast(x509, ctypes.POINTER(c_void_p))[0] = _address(cert, "X509")
            if pkey:
                ctypes.cast(pkey, ctypes.POINTER(c_void_p))[0] = _address(key, "EVP_PKEY")
            return int(ret)

        c_fn = _CLIENT_CERT_CB(self._guard(trampoline))
        self._callbacks.append(c_fn)
        self._function("SSL_CTX_set_client_cert_cb")(_address(ctx, "SSL_CTX"), ctypes.cast(c_fn, c_void_p))

    def SSL_CTX_set_client_hello_cb(self, ctx: Handle | None, callback: Callable[[Handle | None], int] | None
                                    ) -> None:
        """``callback(ssl)`` returns SSL_CLIENT_HELLO_SUCCESS (1), _ERROR (0) or _RETRY (-1)."""
        if callback is None:
            self._function("SSL_CTX_set_client_hello_cb")(_address(ctx, "SSL_CTX"), None, None)
            return

        def trampoline(ssl: int | None, alert: Any, arg: int | None) -> int:
            return int(callback(_wrap("SSL", ssl)))

        c_fn = _CLIENT_HELLO_CB(self._guard(trampoline))
        self._callbacks.append(c_fn)
        self._function("SSL_CTX_set_client_hello_cb")(_address(ctx, "SSL_CTX"), ctypes.cast(c_fn, c_void_p), None)

    def SSL_sendfile(self, s: Handle | None, fd: int, offset: int, size: int, flags: int) -> int:
        return int(self._function("SSL_sendfile")(_address(s, "SSL"), fd, offset, size, flags))

    def BIO_set_tcp_ndelay(self, sock: int, turn_on: int) -> int:
        return int(self._function("BIO_set_tcp_ndelay")(sock, turn_on))

    def BIO_new_connect(self, host_port: str | bytes) -> Handle | None:
        return _wrap("BIO", self._function("BIO_new_connect")(_cstr(host_port)))

    def BIO_new_accept(self, host_port: str | bytes) -> Handle | None:
        return _wrap("BIO", self._function("BIO_new_accept")(_cstr(host_port)))

    # ------------------------------------------------------------------ connect, accept and SSL BIOs
    # (BIO_s_connect.pod, BIO_s_accept.pod, BIO_f_ssl.pod). Each macro is expanded as 3.0's bio.h expands it, or
    # is the library's own function where its header maps the macro to one (SymbolProfile.macro_functions).

    def _bio_ctrl_macro(self, name: str, b: Handle | None, cmd: int, larg: int, parg: Any,
                        *args: Any) -> int:  # fmt: skip
        """``name`` through the library's own function (called with ``b, *args``) or as ``BIO_ctrl``."""
        fn = self._macro_function(name)
        if fn is not None:
            return int(fn(_address(b, "BIO"), *args))
        return int(self._function("BIO_ctrl")(_address(b, "BIO"), cmd, larg, parg))

    def _bio_ptr_macro(self, name: str, b: Handle | None, cmd: int, larg: int) -> int | None:
        """A ``BIO_ptr_ctrl(b, cmd, larg)`` macro: the pointer it returns (None for NULL)."""
        self._macro_function(name)  # raises MissingSymbol where the library's headers lack the macro
        fn = self._function("BIO_ptr_ctrl")
        result = fn(_address(b, "BIO"), cmd, larg)
        return int(result) if result else None

    def _bio_str_macro(self, name: str, b: Handle | None, cmd: int, larg: int) -> str | None:
        pointer = self._bio_ptr_macro(name, b, cmd, larg)
        return None if pointer is None else _text(ctypes.string_at(pointer))

    def BIO_s_connect(self) -> Handle | None:
        return _wrap("BIO_METHOD", self._function("BIO_s_connect")())

    def BIO_s_accept(self) -> Handle | None:
        return _wrap("BIO_METHOD", self._function("BIO_s_accept")())

    def BIO_method_type(self, b: Handle | None) -> int:
        return int(self._function("BIO_method_type")(_address(b, "BIO")))

    def BIO_set_nbio(self, b: Handle | None, n: int) -> int:
        return self._bio_ctrl_macro("BIO_set_nbio", b, _BIO_C_SET_NBIO, n, None, n)

    def BIO_do_handshake(self, b: Handle | None) -> int:
        return self._bio_ctrl_macro("BIO_do_handshake", b, _BIO_C_DO_STATE_MACHINE, 0, None)

    def BIO_do_connect(self, b: Handle | None) -> int:
        return self._bio_ctrl_macro("BIO_do_connect", b, _BIO_C_DO_STATE_MACHINE, 0, None)

    def BIO_do_accept(self, b: Handle | None) -> int:
        return self._bio_ctrl_macro("BIO_do_accept", b, _BIO_C_DO_STATE_MACHINE, 0, None)

    def BIO_set_nbio_accept(self, b: Handle | None, n: int) -> int:
        # bio.h: BIO_ctrl(b, BIO_C_SET_ACCEPT, 2, (n) ? (void *)"a" : NULL)
        return self._bio_ctrl_macro("BIO_set_nbio_accept", b, _BIO_C_SET_ACCEPT, 2,
                                    ctypes.c_char_p(b"a" if n else None), n)  # fmt: skip

    def BIO_set_conn_hostname(self, b: Handle | None, name: str | bytes) -> int:
        return self._bio_ctrl_macro("BIO_set_conn_hostname", b, _BIO_C_SET_CONNECT, 0, ctypes.c_char_p(_cstr(name)),
                                    _cstr(name))  # fmt: skip

    def BIO_set_conn_port(self, b: Handle | None, port: str | bytes) -> int:
        return self._bio_ctrl_macro("BIO_set_conn_port", b, _BIO_C_SET_CONNECT, 1, ctypes.c_char_p(_cstr(port)),
                                    _cstr(port))  # fmt: skip

    def BIO_set_conn_address(self, b: Handle | None, addr: Handle | None) -> int:
        return self._bio_ctrl_macro("BIO_set_conn_address", b, _BIO_C_SET_CONNECT, 2, _address(addr, "BIO_ADDR"))

    def BIO_set_conn_ip_family(self, b: Handle | None, family: int) -> int:
        self._macro_function("BIO_set_conn_ip_family")
        return self.BIO_int_ctrl(b, _BIO_C_SET_CONNECT, 3, family)

    def BIO_get_conn_hostname(self, b: Handle | None) -> str | None:
        return self._bio_str_macro("BIO_get_conn_hostname", b, _BIO_C_GET_CONNECT, 0)

    def BIO_get_conn_port(self, b: Handle | None) -> str | None:
        return self._bio_str_macro("BIO_get_conn_port", b, _BIO_C_GET_CONNECT, 1)

    def BIO_get_conn_address(self, b: Handle | None) -> Handle | None:
        """The BIO's own BIO_ADDR (an internal pointer: never freed by the caller)."""
        return _wrap("BIO_ADDR", self._bio_ptr_macro("BIO_get_conn_address", b, _BIO_C_GET_CONNECT, 2))

    def BIO_get_conn_ip_family(self, b: Handle | None) -> int:
        return self._bio_ctrl_macro("BIO_get_conn_ip_family", b, _BIO_C_GET_CONNECT, 3, None)

    def BIO_set_accept_name(self, b: Handle | None, name: str | bytes) -> int:
        return self._bio_ctrl_macro("BIO_set_accept_name", b, _BIO_C_SET_ACCEPT, 0, ctypes.c_char_p(_cstr(name)),
                                    _cstr(name))  # fmt: skip

    def BIO_set_accept_port(self, b: Handle | None, port: str | bytes) -> int:
        return self._bio_ctrl_macro("BIO_set_accept_port", b, _BIO_C_SET_ACCEPT, 1, ctypes.c_char_p(_cstr(port)),
                                    _cstr(port))  # fmt: skip

    def BIO_set_accept_bios(self, b: Handle | None, bio: Handle | None) -> int:
        return self._bio_ctrl_macro("BIO_set_accept_bios", b, _BIO_C_SET_ACCEPT, 3, _address(bio, "BIO"))

    def BIO_set_accept_ip_family(self, b: Handle | None, family: int) -> int:
        self._macro_function("BIO_set_accept_ip_family")
        return self.BIO_int_ctrl(b, _BIO_C_SET_ACCEPT, 4, family)

    def BIO_get_accept_ip_family(self, b: Handle | None) -> int:
        return self._bio_ctrl_macro("BIO_get_accept_ip_family", b, _BIO_C_GET_ACCEPT, 4, None)

    def BIO_set_bind_mode(self, b: Handle | None, mode: int) -> int:
        return self._bio_ctrl_macro("BIO_set_bind_mode", b, _BIO_C_SET_BIND_MODE, mode, None, mode)

    def BIO_get_bind_mode(self, b: Handle | None) -> int:
        return self._bio_ctrl_macro("BIO_get_bind_mode", b, _BIO_C_GET_BIND_MODE, 0, None)

    def BIO_get_accept_name(self, b: Handle | None) -> str | None:
        return self._bio_str_macro("BIO_get_accept_name", b, _BIO_C_GET_ACCEPT, 0)

    def BIO_ptr_ctrl(self, bp: Handle | None, cmd: int, larg: int) -> str | None:
        """The pointer ``BIO_ptr_ctrl`` returns, read as the C string every ``BIO_ptr_ctrl`` macro of the pages
        returns (host name, port, accepted address); None for NULL."""
        result = self._function("BIO_ptr_ctrl")(_address(bp, "BIO"), cmd, larg)
        return _text(ctypes.string_at(result)) if result else None

    def BIO_callback_ctrl(self, b: Handle | None, cmd: int, fp: Callable[[Handle | None, int, int], int] | None
                          ) -> int:
        """``fp(bio, state, res) -> int`` is passed as a ``BIO_info_cb``; it is kept alive with the binding."""
        if fp is None:
            return int(self._function("BIO_callback_ctrl")(_address(b, "BIO"), cmd, None))
        callback = fp

        def trampoline(bio: int | None, state: int, res: int) -> int:
            return int(callback(_wrap("BIO", bio), state, res))

        c_fn = _BIO_INFO_CB(self._guard(trampoline))
        self._callbacks.append(c_fn)
        return int(self._function("BIO_callback_ctrl")(_address(b, "BIO"), cmd, ctypes.cast(c_fn, c_void_p)))

    def BIO_get_accept_port(self, b: Handle | None) -> str | None:
        return self._bio_str_macro("BIO_get_accept_port", b, _BIO_C_GET_ACCEPT, 1)

    def BIO_get_peer_name(self, b: Handle | None) -> str | None:
        return self._bio_str_macro("BIO_get_peer_name", b, _BIO_C_GET_ACCEPT, 2)

    def BIO_get_peer_port(self, b: Handle | None) -> str | None:
        return self._bio_str_macro("BIO_get_peer_port", b, _BIO_C_GET_ACCEPT, 3)

    def BIO_f_ssl(self) -> Handle | None:
        return _wrap("BIO_METHOD", self._function("BIO_f_ssl")())

    def BIO_set_ssl(self, b: Handle | None, ssl: Handle | None, c: int) -> int:
        return self._bio_ctrl_macro("BIO_set_ssl", b, _BIO_C_SET_SSL, c, _address(ssl, "SSL"),
                                    _address(ssl, "SSL"), c)  # fmt: skip

    def BIO_get_ssl(self, b: Handle | None) -> tuple[int, Handle | None]:
        """``(ret, ssl)``: the SSL pointer the call stored (None if it stored none)."""
        out = c_void_p(None)
        ret = self._bio_ctrl_macro("BIO_get_ssl", b, _BIO_C_GET_SSL, 0, ctypes.addressof(out), byref(out))
        return ret, _wrap("SSL", out.value)

    def BIO_set_ssl_mode(self, b: Handle | None, client: int) -> int:
        return self._bio_ctrl_macro("BIO_set_ssl_mode", b, _BIO_C_SSL_MODE, client, None, client)

    def BIO_set_ssl_renegotiate_bytes(self, b: Handle | None, num: int) -> int:
        return self._bio_ctrl_macro("BIO_set_ssl_renegotiate_bytes", b, _BIO_C_SET_SSL_RENEGOTIATE_BYTES, num, None,
                                    num)  # fmt: skip

    def BIO_set_ssl_renegotiate_timeout(self, b: Handle | None, seconds: int) -> int:
        return self._bio_ctrl_macro("BIO_set_ssl_renegotiate_timeout", b, _BIO_C_SET_SSL_RENEGOTIATE_TIMEOUT, seconds,
                                    None, seconds)  # fmt: skip

    def BIO_get_num_renegotiates(self, b: Handle | None) -> int:
        return self._bio_ctrl_macro("BIO_get_num_renegotiates", b, _BIO_C_GET_SSL_NUM_RENEGOTIATES, 0, None)

    def BIO_new_ssl(self, ctx: Handle | None, client: int) -> Handle | None:
        return _wrap("BIO", self._function("BIO_new_ssl")(_address(ctx, "SSL_CTX"), client))

    def BIO_new_ssl_connect(self, ctx: Handle | None) -> Handle | None:
        return _wrap("BIO", self._function("BIO_new_ssl_connect")(_address(ctx, "SSL_CTX")))

    def BIO_new_buffer_ssl_connect(self, ctx: Handle | None) -> Handle | None:
        return _wrap("BIO", self._function("BIO_new_buffer_ssl_connect")(_address(ctx, "SSL_CTX")))

    def BIO_ssl_copy_session_id(self, to: Handle | None, from_: Handle | None) -> int:
        return int(self._function("BIO_ssl_copy_session_id")(_address(to, "BIO"), _address(from_, "BIO")))

    def BIO_ssl_shutdown(self, bio: Handle | None) -> None:
        self._function("BIO_ssl_shutdown")(_address(bio, "BIO"))

    # ------------------------------------------------------------------ lifecycle pages' cases

    def SSL_get_verify_mode(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_get_verify_mode")(_address(ssl, "SSL")))

    def SSL_get_verify_depth(self, ssl: Handle | None) -> int:
        return int(self._function("SSL_get_verify_depth")(_address(ssl, "SSL")))

    def SSL_set_verify_depth(self, ssl: Handle | None, depth: int) -> None:
        self._function("SSL_set_verify_depth")(_address(ssl, "SSL"), depth)

    def SSL_set_cipher_list(self, ssl: Handle | None, str: str | bytes | None) -> int:
        return int(self._function("SSL_set_cipher_list")(_address(ssl, "SSL"), _cstr(str)))

    def SSL_get_cipher_list(self, ssl: Handle | None, priority: int) -> str | None:
        return _text(self._function("SSL_get_cipher_list")(_address(ssl, "SSL"), priority))

    def SSL_set_security_level(self, s: Handle | None, level: int) -> None:
        self._function("SSL_set_security_level")(_address(s, "SSL"), level)

    def SSL_get_security_level(self, s: Handle | None) -> int:
        return int(self._function("SSL_get_security_level")(_address(s, "SSL")))

    def SSL_CTX_set_security_level(self, ctx: Handle | None, level: int) -> None:
        self._function("SSL_CTX_set_security_level")(_address(ctx, "SSL_CTX"), level)

    def SSL_CTX_get_security_level(self, ctx: Handle | None) -> int:
        return int(self._function("SSL_CTX_get_security_level")(_address(ctx, "SSL_CTX")))

    def _ex_new_index(self, class_index: int, kind: str, argl: int, argp: int | None, new_func: ExCallback | None,
                      dup_func: ExCallback | None, free_func: ExCallback | None) -> int:
        """CRYPTO_get_ex_new_index with Python callbacks: new_func / free_func get ``(parent, ptr, ad, idx, argl,
        argp)`` (parent a Handle of ``kind``, the pointers as ints or None), dup_func ``(to, from, from_d, idx,
        argl, argp)`` as raw addresses and returns an int. The trampolines live as long as the api object."""
        pointers: list[c_void_p | None] = []
        for fn, cb_type in ((new_func, _EX_NEW_FREE_CB), (dup_func, _EX_DUP_CB), (free_func, _EX_NEW_FREE_CB)):
            if fn is None:
                pointers.append(None)
                continue
            c_fn = cb_type(self._guard(_dup_trampoline(fn) if cb_type is _EX_DUP_CB else _ex_trampoline(fn, kind)))
            self._callbacks.append(c_fn)
            pointers.append(ctypes.cast(c_fn, c_void_p))
        return int(self._function("CRYPTO_get_ex_new_index")(class_index, argl, argp, *pointers))

    def SSL_get_ex_new_index(self, argl: int = 0, argp: int | None = None, new_func: ExCallback | None = None,
                             dup_func: ExCallback | None = None, free_func: ExCallback | None = None) -> int:
        """The ssl.h macro: CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, argl, argp, new, dup, free)."""
        fn = self._macro_function("SSL_get_ex_new_index")
        if fn is not None:  # a library exporting it as a function (BoringSSL: argl, argp, unused, dup, free)
            if new_func is not None or dup_func is not None or free_func is not None:
                raise MissingSymbol("SSL_get_ex_new_index", self.library, "the binding passes callbacks only "
                                    "through OpenSSL 3.0's CRYPTO_get_ex_new_index")
            return int(fn(argl, argp, None, None, None))
        return self._ex_new_index(_CRYPTO_EX_INDEX_SSL, "SSL", argl, argp, new_func, dup_func, free_func)

    def SSL_CTX_get_ex_new_index(self, argl: int = 0, argp: int | None = None, new_func: ExCallback | None = None,
                                 dup_func: ExCallback | None = None, free_func: ExCallback | None = None) -> int:
        """The ssl.h macro: CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, argl, argp, new, dup, free)."""
        return self._ex_new_index(_CRYPTO_EX_INDEX_SSL_CTX, "SSL_CTX", argl, argp, new_func, dup_func, free_func)

    def SSL_CTX_set_ex_data(self, ctx: Handle | None, idx: int, arg: int | None) -> int:
        """``arg`` is the pointer value itself (an int, or None for NULL)."""
        return int(self._function("SSL_CTX_set_ex_data")(_address(ctx, "SSL_CTX"), idx, arg))

    def SSL_CTX_get_ex_data(self, ctx: Handle | None, idx: int) -> int | None:
        return self._function("SSL_CTX_get_ex_data")(_address(ctx, "SSL_CTX"), idx)  # type: ignore[no-any-return]

    def SSL_set_max_cert_list(self, ssl: Handle | None, size: int) -> int:
        return self._ssl_macro("SSL_set_max_cert_list", ssl, K.SSL_CTRL_SET_MAX_CERT_LIST, size)

    def SSL_get_max_cert_list(self, ssl: Handle | None) -> int:
        return self._ssl_macro("SSL_get_max_cert_list", ssl, K.SSL_CTRL_GET_MAX_CERT_LIST)

    def SSL_CTX_set_max_cert_list(self, ctx: Handle | None, size: int) -> int:
        return self._ctx_macro("SSL_CTX_set_max_cert_list", ctx, K.SSL_CTRL_SET_MAX_CERT_LIST, size)

    def SSL_CTX_get_max_cert_list(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_get_max_cert_list", ctx, K.SSL_CTRL_GET_MAX_CERT_LIST)

    def SSL_set_ex_data(self, s: Handle | None, idx: int, arg: int | None) -> int:
        """``arg`` is the pointer value itself (an int, or None for NULL)."""
        return int(self._function("SSL_set_ex_data")(_address(s, "SSL"), idx, arg))

    def SSL_get_ex_data(self, s: Handle | None, idx: int) -> int | None:
        return self._function("SSL_get_ex_data")(_address(s, "SSL"), idx)  # type: ignore[no-any-return]

    def SSL_CTX_set_timeout(self, ctx: Handle | None, t: int) -> int:
        return int(self._function("SSL_CTX_set_timeout")(_address(ctx, "SSL_CTX"), t))

    def SSL_get_session(self, ssl: Handle | None) -> Handle | None:
        return _wrap("SSL_SESSION", self._function("SSL_get_session")(_address(ssl, "SSL")))

    def SSL_get1_session(self, ssl: Handle | None) -> Handle | None:
        return _wrap("SSL_SESSION", self._function("SSL_get1_session")(_address(ssl, "SSL")))

    def SSL_set_session(self, to: Handle | None, session: Handle | None) -> int:
        return int(self._function("SSL_set_session")(_address(to, "SSL"), _address(session, "SSL_SESSION")))

    def SSL_SESSION_free(self, session: Handle | None) -> None:
        self._function("SSL_SESSION_free")(_address(session, "SSL_SESSION"))

    def SSL_SESSION_get_timeout(self, s: Handle | None) -> int:
        return int(self._function("SSL_SESSION_get_timeout")(_address(s, "SSL_SESSION")))

    def SSL_SESSION_is_resumable(self, s: Handle | None) -> int:
        return int(self._function("SSL_SESSION_is_resumable")(_address(s, "SSL_SESSION")))

    def SSL_CTX_get_timeout(self, ctx: Handle | None) -> int:
        return int(self._function("SSL_CTX_get_timeout")(_address(ctx, "SSL_CTX")))

    def SSL_SESSION_get_time(self, s: Handle | None) -> int:
        return int(self._function("SSL_SESSION_get_time")(_address(s, "SSL_SESSION")))

    def SSL_SESSION_set_time(self, s: Handle | None, t: int) -> int:
        return int(self._function("SSL_SESSION_set_time")(_address(s, "SSL_SESSION"), t))

    def SSL_CTX_set_session_cache_mode(self, ctx: Handle | None, mode: int) -> int:
        return self._ctx_macro("SSL_CTX_set_session_cache_mode", ctx, K.SSL_CTRL_SET_SESS_CACHE_MODE, mode)

    def SSL_CTX_get_session_cache_mode(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_get_session_cache_mode", ctx, K.SSL_CTRL_GET_SESS_CACHE_MODE)

    def SSL_CTX_sess_set_cache_size(self, ctx: Handle | None, t: int) -> int:
        return self._ctx_macro("SSL_CTX_sess_set_cache_size", ctx, K.SSL_CTRL_SET_SESS_CACHE_SIZE, t)

    def SSL_CTX_sess_get_cache_size(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_get_cache_size", ctx, K.SSL_CTRL_GET_SESS_CACHE_SIZE)

    def SSL_CTX_sess_number(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_number", ctx, K.SSL_CTRL_SESS_NUMBER)

    def SSL_CTX_sess_connect(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_connect", ctx, K.SSL_CTRL_SESS_CONNECT)

    def SSL_CTX_sess_connect_good(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_connect_good", ctx, K.SSL_CTRL_SESS_CONNECT_GOOD)

    def SSL_CTX_sess_connect_renegotiate(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_connect_renegotiate", ctx, K.SSL_CTRL_SESS_CONNECT_RENEGOTIATE)

    def SSL_CTX_sess_accept(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_accept", ctx, K.SSL_CTRL_SESS_ACCEPT)

    def SSL_CTX_sess_accept_good(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_accept_good", ctx, K.SSL_CTRL_SESS_ACCEPT_GOOD)

    def SSL_CTX_sess_accept_renegotiate(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_accept_renegotiate", ctx, K.SSL_CTRL_SESS_ACCEPT_RENEGOTIATE)

    def SSL_CTX_sess_hits(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_hits", ctx, K.SSL_CTRL_SESS_HIT)

    def SSL_CTX_sess_cb_hits(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_cb_hits", ctx, K.SSL_CTRL_SESS_CB_HIT)

    def SSL_CTX_sess_misses(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_misses", ctx, K.SSL_CTRL_SESS_MISSES)

    def SSL_CTX_sess_timeouts(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_timeouts", ctx, K.SSL_CTRL_SESS_TIMEOUTS)

    def SSL_CTX_sess_cache_full(self, ctx: Handle | None) -> int:
        return self._ctx_macro("SSL_CTX_sess_cache_full", ctx, K.SSL_CTRL_SESS_CACHE_FULL)

    def SSL_get_secure_renegotiation_support(self, ssl: Handle | None) -> int:
        """The ssl.h macro: SSL_ctrl(ssl, SSL_CTRL_GET_RI_SUPPORT, 0, NULL), or the library's function."""
        return self._ssl_macro("SSL_get_secure_renegotiation_support", ssl, K.SSL_CTRL_GET_RI_SUPPORT)

    def SSL_set_retry_verify(self, ssl: Handle | None) -> int:
        """The ssl.h macro: (SSL_ctrl(ssl, SSL_CTRL_SET_RETRY_VERIFY, 0, NULL) > 0)."""
        self._macro_function("SSL_set_retry_verify")  # raises MissingSymbol where the library's headers lack it
        return int(self.SSL_ctrl(ssl, _SSL_CTRL_SET_RETRY_VERIFY, 0, None) > 0)

    def SSL_CTX_set_cert_verify_callback(self, ctx: Handle | None, callback: Callable[[], int] | None) -> None:
        """``callback()`` returns the C callback's value (1 accept, 0 reject; OpenSSL 3.0 pauses for a retry when it
        returns 1 after SSL_set_retry_verify()); the X509_STORE_CTX and arg are not passed on. The trampoline lives
        as long as the api object."""
        if callback is None:
            self._function("SSL_CTX_set_cert_verify_callback")(_address(ctx, "SSL_CTX"), None, None)
            return

        def trampoline(store: int | None, arg: int | None) -> int:
            return int(callback())

        c_fn = _CERT_VERIFY_CB(self._guard(trampoline))
        self._callbacks.append(c_fn)
        self._function("SSL_CTX_set_cert_verify_callback")(_address(ctx, "SSL_CTX"), ctypes.cast(c_fn, c_void_p), None)

    def SSL_CTX_sess_set_remove_cb(self, ctx: Handle | None, callback: Callable[[Handle | None], None] | None
                                   ) -> None:
        """``callback(session)`` is called for each session removed from the internal cache."""
        if callback is None:
            self._function("SSL_CTX_sess_set_remove_cb")(_address(ctx, "SSL_CTX"), None)
            return

        def trampoline(ctx_: int | None, session: int | None) -> None:
            callback(_wrap("SSL_SESSION", session))

        c_fn = _REMOVE_SESSION_CB(self._guard(trampoline))
        self._callbacks.append(c_fn)
        self._function("SSL_CTX_sess_set_remove_cb")(_address(ctx, "SSL_CTX"), ctypes.cast(c_fn, c_void_p))

    def SSL_session_reused(self, s: Handle | None) -> int:
        return int(self._function("SSL_session_reused")(_address(s, "SSL")))

    def SSL_renegotiate_abbreviated(self, s: Handle | None) -> int:
        return int(self._function("SSL_renegotiate_abbreviated")(_address(s, "SSL")))

    def DTLS_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("DTLS_method")())

    def DTLS_client_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("DTLS_client_method")())

    def DTLS_server_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("DTLS_server_method")())

    def DTLSv1_2_client_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("DTLSv1_2_client_method")())

    def DTLSv1_2_server_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("DTLSv1_2_server_method")())

    def DTLSv1_client_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("DTLSv1_client_method")())

    def DTLSv1_server_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("DTLSv1_server_method")())

    def SSLv3_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("SSLv3_method")())

    def SSLv3_client_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("SSLv3_client_method")())

    def SSLv3_server_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("SSLv3_server_method")())

    def TLSv1_2_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("TLSv1_2_method")())

    def TLSv1_2_client_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("TLSv1_2_client_method")())

    def TLSv1_2_server_method(self) -> Handle | None:
        return _wrap("SSL_METHOD", self._function("TLSv1_2_server_method")())

    def SSL_CTX_new_ex(self, libctx: None, propq: str | bytes | None, method: Handle | None) -> Handle | None:
        """Only the default library context (``libctx`` None) can be passed: the binding has no OSSL_LIB_CTX."""
        if libctx is not None:
            raise TypeError("the ctypes binding passes only the default library context (NULL)")
        if self.profile is WOLFSSL:
            raise MissingSymbol("SSL_CTX_new_ex", self.library, "wolfSSL_CTX_new_ex(method, heap) is another "
                                "function with another prototype; the compatibility headers do not map this name")
        fn = self._function("SSL_CTX_new_ex")
        return _wrap("SSL_CTX", fn(None, _cstr(propq), _address(method, "SSL_METHOD")))

    def SSL_use_certificate_file(self, ssl: Handle | None, file: str | bytes | None, type: int) -> int:
        return int(self._function("SSL_use_certificate_file")(_address(ssl, "SSL"), _cstr(file), type))

    def SSL_use_PrivateKey_file(self, ssl: Handle | None, file: str | bytes | None, type: int) -> int:
        return int(self._function("SSL_use_PrivateKey_file")(_address(ssl, "SSL"), _cstr(file), type))

    def SSL_get_certificate(self, ssl: Handle | None) -> Handle | None:
        return _wrap("X509", self._function("SSL_get_certificate")(_address(ssl, "SSL")))

    def SSL_set_info_callback(self, ssl: Handle | None, callback: Callable[[int, int], None] | None) -> None:
        """``callback(where, ret)``; the SSL argument is not passed on."""
        if callback is None:
            self._function("SSL_set_info_callback")(_address(ssl, "SSL"), None)
            return

        def trampoline(s: int | None, where: int, ret: int) -> None:
            callback(where, ret)

        c_fn = _INFO_CB(self._guard(trampoline))
        self._callbacks.append(c_fn)
        self._function("SSL_set_info_callback")(_address(ssl, "SSL"), ctypes.cast(c_fn, c_void_p))

    def SSL_get_all_async_fds(self, s: Handle | None) -> tuple[int, list[int]]:
        """``(ret, fds)``: the wait descriptors of the SSL's paused async job (called once for the count, once for
        the descriptors, as the page describes)."""
        fn = self._function("SSL_get_all_async_fds")
        count = c_size_t(0)
        ret = int(fn(_address(s, "SSL"), None, byref(count)))
        if ret != 1 or count.value == 0:
            return ret, []
        fds = (c_int * count.value)()
        ret = int(fn(_address(s, "SSL"), fds, byref(count)))
        return ret, list(fds[: count.value])

    def SSL_get_changed_async_fds(self, s: Handle | None) -> tuple[int, list[int], list[int]]:
        """``(ret, added, deleted)``: the wait descriptors added and removed since the last call."""
        fn = self._function("SSL_get_changed_async_fds")
        nadd, ndel = c_size_t(0), c_size_t(0)
        ret = int(fn(_address(s, "SSL"), None, byref(nadd), None, byref(ndel)))
        if ret != 1:
            return ret, [], []
        add, delete = (c_int * max(nadd.value, 1))(), (c_int * max(ndel.value, 1))()
        ret = int(fn(_address(s, "SSL"), add, byref(nadd), delete, byref(ndel)))
        return ret, list(add[: nadd.value]), list(delete[: ndel.value])

    def ASYNC_init_thread(self, max_size: int, init_size: int) -> int:
        return int(self._function("ASYNC_init_thread")(max_size, init_size))

    def ASYNC_cleanup_thread(self) -> None:
        self._function("ASYNC_cleanup_thread")()

    def ASYNC_get_current_job(self) -> int | None:
        """The running job's address, or None outside a job."""
        return self._function("ASYNC_get_current_job")()  # type: ignore[no-any-return]

    def ASYNC_pause_job(self) -> int:
        return int(self._function("ASYNC_pause_job")())

    def ASYNC_get_wait_ctx(self, job: int | None) -> int | None:
        return self._function("ASYNC_get_wait_ctx")(job)  # type: ignore[no-any-return]

    def SSL_CTX_set_client_hello_cb_pause_job(self, ctx: Handle | None) -> None:
        """Not a function of the pages: makes libcrypto's own ``ASYNC_pause_job()`` the context's client hello
        callback, C calling C with no Python on the job's small stack. Its result, 1 once the job is resumed (or at
        once outside a job), is SSL_CLIENT_HELLO_SUCCESS, and the callback's three arguments are ignored by a
        function of none, as the x86-64 calling convention allows. So inside an async job (SSL_MODE_ASYNC) a server
        pauses once while it processes each ClientHello, as it would while an async engine did its cryptography."""
        pause = ctypes.cast(self._function_pointer("ASYNC_pause_job"), c_void_p)
        self._function("SSL_CTX_set_client_hello_cb")(_address(ctx, "SSL_CTX"), pause, None)

    def _function_pointer(self, name: str) -> Any:
        self._function(name)  # MissingSymbol where the library lacks it
        return self._raw(self.profile.symbol(name))

    def ASYNC_WAIT_CTX_set_wait_fd(self, ctx: int | None, key: int, fd: int) -> int:
        """Registers ``fd`` under ``key`` (an address used only as a name), with no custom data and no cleanup."""
        return int(self._function("ASYNC_WAIT_CTX_set_wait_fd")(ctx, key, fd, None, None))

    def ASYNC_WAIT_CTX_clear_fd(self, ctx: int | None, key: int) -> int:
        return int(self._function("ASYNC_WAIT_CTX_clear_fd")(ctx, key))

    def SSL_get_info_callback(self, ssl: Handle | None) -> int | None:
        """The callback's address (an int) or None: enough to compare two objects' callbacks."""
        return self._function("SSL_get_info_callback")(_address(ssl, "SSL"))  # type: ignore[no-any-return]

    def BIO_meth_set_write(self, biom: Handle | None, write: Callable[[bytes], int] | None) -> int:
        """``write(data)`` returns what the C write callback returns (bytes taken, or <= 0)."""
        if write is None:
            return int(self._function("BIO_meth_set_write")(_address(biom, "BIO_METHOD"), None))

        def trampoline(bio: int | None, buf: int | None, n: int) -> int:
            return int(write(ctypes.string_at(buf, n) if buf and n > 0 else b""))

        c_fn = _BIO_WRITE_CB(self._guard(trampoline))
        self._callbacks.append(c_fn)
        return int(self._function("BIO_meth_set_write")(_address(biom, "BIO_METHOD"), ctypes.cast(c_fn, c_void_p)))

    def BIO_meth_set_ctrl(self, biom: Handle | None, ctrl: Callable[[int, int], int] | None) -> int:
        """``ctrl(cmd, larg)`` returns the C ctrl callback's long; the pointer argument is not passed on."""
        if ctrl is None:
            return int(self._function("BIO_meth_set_ctrl")(_address(biom, "BIO_METHOD"), None))

        def trampoline(bio: int | None, cmd: int, larg: int, parg: int | None) -> int:
            return int(ctrl(cmd, larg))

        c_fn = _BIO_CTRL_CB(self._guard(trampoline))
        self._callbacks.append(c_fn)
        return int(self._function("BIO_meth_set_ctrl")(_address(biom, "BIO_METHOD"), ctypes.cast(c_fn, c_void_p)))

    def BIO_set_init(self, a: Handle | None, init: int) -> None:
        self._function("BIO_set_init")(_address(a, "BIO"), init)

    def BIO_meth_new(self, type: int, name: str | bytes) -> Handle | None:
        """A BIO_METHOD with no callbacks at all (no read, write or ctrl)."""
        return _wrap("BIO_METHOD", self._function("BIO_meth_new")(type, _cstr(name)))

    def BIO_meth_free(self, biom: Handle | None) -> None:
        self._function("BIO_meth_free")(_address(biom, "BIO_METHOD"))

    # ------------------------------------------------------------------ the rest of the BIO and ERR pages

    def BIO_new_ex(self, libctx: None, type: Handle | None) -> Handle | None:
        """Only the default library context (``libctx`` None) can be passed: the binding has no OSSL_LIB_CTX."""
        if libctx is not None:
            raise TypeError("the ctypes binding passes only the default library context (NULL)")
        return _wrap("BIO", self._function("BIO_new_ex")(None, _address(type, "BIO_METHOD")))

    def BIO_s_secmem(self) -> Handle | None:
        return _wrap("BIO_METHOD", self._function("BIO_s_secmem")())

    def BIO_set_close(self, b: Handle | None, c: int) -> int:
        """bio.h: ``(int)BIO_ctrl(b, BIO_CTRL_SET_CLOSE, (c), NULL)``; wolfSSL: ``wolfSSL_BIO_set_close(b, c)``."""
        fn = self._macro_function("BIO_set_close")
        if fn is not None:
            return int(fn(_address(b, "BIO"), c))
        return _int(self.BIO_ctrl(b, _BIO_CTRL_SET_CLOSE, c, None))

    def BIO_get_close(self, b: Handle | None) -> int:
        """bio.h: ``(int)BIO_ctrl(b, BIO_CTRL_GET_CLOSE, 0, NULL)``."""
        return _int(self._bio_macro("BIO_get_close", b, _BIO_CTRL_GET_CLOSE))

    def BIO_get_ktls_send(self, b: Handle | None) -> int:
        """bio.h (3.0, built with KTLS): ``(BIO_ctrl(b, BIO_CTRL_GET_KTLS_SEND, 0, NULL) > 0)``."""
        return 1 if self.BIO_ctrl(b, _BIO_CTRL_GET_KTLS_SEND, 0, None) > 0 else 0

    def BIO_get_ktls_recv(self, b: Handle | None) -> int:
        """bio.h (3.0, built with KTLS): ``(BIO_ctrl(b, BIO_CTRL_GET_KTLS_RECV, 0, NULL) > 0)``."""
        return 1 if self.BIO_ctrl(b, _BIO_CTRL_GET_KTLS_RECV, 0, None) > 0 else 0

    def BIO_set_flags(self, b: Handle | None, flags: int) -> None:
        self._function("BIO_set_flags")(_address(b, "BIO"), flags)

    def BIO_clear_flags(self, b: Handle | None, flags: int) -> None:
        self._function("BIO_clear_flags")(_address(b, "BIO"), flags)

    def BIO_get_flags(self, b: Handle | None) -> int:
        """bio.h: ``BIO_test_flags(b, ~(0x0))``."""
        return self._flag_macro("BIO_get_flags", b, ~0)

    def _library_flags(self, flags: int) -> int:
        """3.0 ``BIO_FLAGS_*`` bits as the library's header spells them (for macros that header expands itself)."""
        out = 0
        for bit in range(32):
            if flags & (1 << bit):
                out |= self.profile.bio_flags.get(1 << bit, 1 << bit)
        return out

    def _set_flags_macro(self, name: str, b: Handle | None, flags: int) -> None:
        fn = self._macro_function(name)
        if fn is not None:
            fn(_address(b, "BIO"))
            return
        self.BIO_set_flags(b, self._library_flags(flags))

    def BIO_set_retry_special(self, b: Handle | None) -> None:
        """bio.h: ``BIO_set_flags(b, (BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY))``."""
        self._set_flags_macro("BIO_set_retry_special", b, _BIO_FLAGS_IO_SPECIAL | _BIO_FLAGS_SHOULD_RETRY)

    def BIO_set_retry_read(self, b: Handle | None) -> None:
        """bio.h: ``BIO_set_flags(b, (BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY))`` (wolfSSL: with its flag values)."""
        self._set_flags_macro("BIO_set_retry_read", b, _BIO_FLAGS_READ | _BIO_FLAGS_SHOULD_RETRY)

    def BIO_set_retry_write(self, b: Handle | None) -> None:
        """bio.h: ``BIO_set_flags(b, (BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY))`` (wolfSSL: with its flag values)."""
        self._set_flags_macro("BIO_set_retry_write", b, _BIO_FLAGS_WRITE | _BIO_FLAGS_SHOULD_RETRY)

    def BIO_clear_retry_flags(self, b: Handle | None) -> None:
        """bio.h: ``BIO_clear_flags(b, (BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY))``; wolfSSL:
        ``wolfSSL_BIO_clear_retry_flags(b)``."""
        fn = self._macro_function("BIO_clear_retry_flags")
        if fn is not None:
            fn(_address(b, "BIO"))
            return
        self.BIO_clear_flags(b, _BIO_FLAGS_RWS | _BIO_FLAGS_SHOULD_RETRY)

    def BIO_set_retry_reason(self, bio: Handle | None, reason: int) -> None:
        self._function("BIO_set_retry_reason")(_address(bio, "BIO"), reason)

    def BIO_ADDR_path_string(self, ap: Handle | None) -> str | None:
        return self._owned_string(self._function("BIO_ADDR_path_string")(_address(ap, "BIO_ADDR")))

    def _error_all(self, name: str) -> tuple[int, str, int, str, str, int]:
        file, func, data = c_char_p(), c_char_p(), c_char_p()
        line, flags = c_int(0), c_int(0)
        code = int(self._function(name)(byref(file), byref(line), byref(func), byref(data), byref(flags)))
        return (code, _text(file.value) or "", line.value, _text(func.value) or "", _text(data.value) or "",
                flags.value)

    def ERR_error_all_pointers(self, name: str) -> tuple[int, int | None, int, int | None, int | None, int]:
        """Not a function of the pages: ``name`` (ERR_get_error_all, ERR_peek_error_all or ERR_peek_last_error_all)
        with the ``file``, ``func`` and ``data`` pointers it stores returned as addresses, not copied: ``(code,
        file, line, func, data, flags)``. Read them with :meth:`c_string_at` while the page says they are valid."""
        if name not in ("ERR_get_error_all", "ERR_peek_error_all", "ERR_peek_last_error_all"):
            raise ValueError(f"{name} stores no pointers")
        file, func, data = c_char_p(), c_char_p(), c_char_p()
        line, flags = c_int(0), c_int(0)
        code = int(self._function(name)(byref(file), byref(line), byref(func), byref(data), byref(flags)))

        def address(p: c_char_p) -> int | None:
            return ctypes.cast(p, c_void_p).value

        return code, address(file), line.value, address(func), address(data), flags.value

    def ERR_get_error_all(self) -> tuple[int, str, int, str, str, int]:
        """``(code, file, line, func, data, flags)`` of the oldest entry, which is removed."""
        return self._error_all("ERR_get_error_all")

    def ERR_peek_error_all(self) -> tuple[int, str, int, str, str, int]:
        return self._error_all("ERR_peek_error_all")

    def ERR_peek_last_error_all(self) -> tuple[int, str, int, str, str, int]:
        return self._error_all("ERR_peek_last_error_all")

    def ERR_peek_error_line(self) -> tuple[int, str, int]:
        """``(code, file, line)`` of the oldest entry."""
        file, line = c_char_p(), c_int(0)
        code = int(self._function("ERR_peek_error_line")(byref(file), byref(line)))
        return code, _text(file.value) or "", line.value

    def ERR_peek_error_func(self) -> tuple[int, str]:
        """``(code, func)`` of the oldest entry."""
        func = c_char_p()
        code = int(self._function("ERR_peek_error_func")(byref(func)))
        return code, _text(func.value) or ""

    def ERR_peek_error_data(self) -> tuple[int, str, int]:
        """``(code, data, flags)`` of the oldest entry."""
        data, flags = c_char_p(), c_int(0)
        code = int(self._function("ERR_peek_error_data")(byref(data), byref(flags)))
        return code, _text(data.value) or "", flags.value

    @property
    def ERR_FATAL_ERROR(self) -> Callable[[int], int]:
        """``api.ERR_FATAL_ERROR(errcode)``: err.h's inline ``(ERR_GET_RFLAGS(errcode) & ERR_RFLAG_FATAL) != 0``
        (ERR_GET_RFLAGS is 0 for a system error), computed in Python. Resolved when looked up, not when called: on a
        library whose headers lack it (wolfSSL) the lookup itself raises :class:`MissingSymbol`, so a case that asks
        for the function before it makes any error entry is not applicable there."""
        fn = self._macro_function("ERR_FATAL_ERROR")
        if fn is not None:
            return lambda errcode: int(fn(errcode))
        return _err_fatal_error

    # ------------------------------------------------------------------ connection details (serve / connect)

    def SSL_get_servername(self, s: Handle | None, type: int) -> str | None:
        return _text(self._function("SSL_get_servername")(_address(s, "SSL"), type))

    def SSL_get1_peer_certificate(self, s: Handle | None) -> Handle | None:
        """The peer's certificate with a reference the caller releases with ``X509_free``."""
        return _wrap("X509", self._function("SSL_get1_peer_certificate")(_address(s, "SSL")))

    def X509_get_subject_name(self, x: Handle | None) -> Handle | None:
        return _wrap("X509_NAME", self._function("X509_get_subject_name")(_address(x, "X509")))

    def X509_NAME_oneline(self, a: Handle | None, size: int = 256) -> str | None:
        """The one-line form written into a buffer of ``size`` bytes (``buf`` is never NULL here)."""
        buf = ctypes.create_string_buffer(max(size, 1))
        return _text(self._function("X509_NAME_oneline")(_address(a, "X509_NAME"), buf, size))

    def d2i_X509_bio(self, bp: Handle | None) -> Handle | None:
        """``d2i_X509_bio(bp, NULL)``: a certificate decoded from the DER read from ``bp``, or NULL."""
        return _wrap("X509", self._function("d2i_X509_bio")(_address(bp, "BIO"), None))

    def X509_free(self, a: Handle | None) -> None:
        self._function("X509_free")(_address(a, "X509"))

    def SSL_get_peer_certificate(self, s: Handle | None) -> Handle | None:
        """OpenSSL 3.0's ssl.h defines it as SSL_get1_peer_certificate (deprecated name, same reference rule)."""
        return _wrap("X509", self._function("SSL_get1_peer_certificate")(_address(s, "SSL")))

    def PEM_read_bio_X509(self, bp: Handle | None, x: None = None, cb: None = None, u: None = None
                          ) -> Handle | None:
        """The next certificate on ``bp``, a reference for the caller (``x``, ``cb``, ``u``: NULL only)."""
        return _wrap("X509", self._function("PEM_read_bio_X509")(_address(bp, "BIO"), None, None, None))

    def PEM_read_bio_PrivateKey(self, bp: Handle | None, x: None = None, cb: None = None, u: None = None
                                ) -> Handle | None:
        return _wrap("EVP_PKEY", self._function("PEM_read_bio_PrivateKey")(_address(bp, "BIO"), None, None, None))

    def EVP_PKEY_free(self, pkey: Handle | None) -> None:
        self._function("EVP_PKEY_free")(_address(pkey, "EVP_PKEY"))

    def SSL_CTX_add_client_CA(self, ctx: Handle | None, cacert: Handle | None) -> int:
        return int(self._function("SSL_CTX_add_client_CA")(_address(ctx, "SSL_CTX"), _address(cacert, "X509")))

    def SSL_get_client_CA_list(self, s: Handle | None) -> list[Handle] | None:
        """The ``STACK_OF(X509_NAME)`` as a list of ``X509_NAME`` handles (owned by the SSL), ``None`` for NULL."""
        stack = self._function("SSL_get_client_CA_list")(_address(s, "SSL"))
        if not stack:
            return None
        count = int(self._function("OPENSSL_sk_num")(stack))
        names = [_wrap("X509_NAME", self._function("OPENSSL_sk_value")(stack, i)) for i in range(count)]
        return [n for n in names if n is not None]

    def X509_verify_cert_error_string(self, n: int) -> str | None:
        return _text(self._function("X509_verify_cert_error_string")(n))

    def SSL_CTX_set_alpn_protos(self, ctx: Handle | None, protos: bytes) -> int:
        """``protos`` in wire format (length-prefixed names); 0 on success, as the C function returns."""
        return int(self._function("SSL_CTX_set_alpn_protos")(_address(ctx, "SSL_CTX"), protos, len(protos)))

    def SSL_set_alpn_protos(self, ssl: Handle | None, protos: bytes) -> int:
        """``protos`` in wire format (length-prefixed names); 0 on success, as the C function returns."""
        return int(self._function("SSL_set_alpn_protos")(_address(ssl, "SSL"), protos, len(protos)))

    def SSL_get0_alpn_selected(self, ssl: Handle | None) -> bytes:
        """The selected protocol (``b""`` when none was): the outputs of the void C function."""
        data, length = c_void_p(), ctypes.c_uint(0)
        self._function("SSL_get0_alpn_selected")(_address(ssl, "SSL"), byref(data), byref(length))
        return ctypes.string_at(data.value, length.value) if data.value and length.value else b""

    def SSL_CTX_set_alpn_select_cb(
        self, ctx: Handle | None, callback: Callable[[Handle | None, bytes], tuple[int, bytes]] | None
    ) -> None:
        """``callback(ssl, client_protos)`` gets the client's list in wire format and returns ``(ret, selected)``:
        SSL_TLSEXT_ERR_OK (0) with one of the client's names, or SSL_TLSEXT_ERR_ALERT_FATAL (2) / _NOACK (3). The
        ``out`` pointer given to C points into the client's list (the name must be one the client offered, as
        SSL_select_next_proto's result does); a name the client did not offer is passed from a buffer kept alive."""
        if callback is None:
            self._function("SSL_CTX_set_alpn_select_cb")(_address(ctx, "SSL_CTX"), None, None)
            return
        kept = self._callbacks

        def trampoline(ssl: int | None, out: Any, outlen: Any, inp: int | None, inlen: int, arg: int | None) -> int:
            offered = ctypes.string_at(inp, inlen) if inp and inlen else b""
            ret, selected = callback(_wrap("SSL", ssl), offered)
            if ret == 0 and selected:
                at = _wire_offset(offered, selected)
                if at is not None and inp:
                    out[0] = inp + at
                else:
                    buf = ctypes.create_string_buffer(selected, len(selected))
                    kept.append(buf)
                    out[0] = ctypes.addressof(buf)
                outlen[0] = len(selected)
            return int(ret)

        c_fn = _ALPN_SELECT_CB(self._guard(trampoline))
        self._callbacks.append(c_fn)
        self._function("SSL_CTX_set_alpn_select_cb")(_address(ctx, "SSL_CTX"), ctypes.cast(c_fn, c_void_p), None)


    def SSL_get_servername_type(self, s: Handle | None) -> int:
        return int(self._function("SSL_get_servername_type")(_address(s, "SSL")))

    def SSL_select_next_proto(self, server: bytes, client: bytes) -> tuple[int, bytes]:
        """``(ret, out)``: the protocol ``out`` / ``outlen`` point at after the call."""
        out, outlen = c_void_p(), ctypes.c_ubyte(0)
        ret = self._function("SSL_select_next_proto")(byref(out), byref(outlen), server, len(server), client,
                                                       len(client))
        return int(ret), ctypes.string_at(out.value, outlen.value) if out.value and outlen.value else b""

    def SSL_CTX_set_tlsext_servername_callback(
        self, ctx: Handle | None, callback: Callable[[Handle | None, int, Any], int | tuple[int, int]] | None
    ) -> int:
        """``callback(ssl, al, arg) -> ret`` or ``(ret, al)``: ``al`` is the alert libssl put in ``*al`` (the one
        an ALERT_FATAL / ALERT_WARNING answer sends), ``arg`` the object of SSL_CTX_set_tlsext_servername_arg
        (kept on this side: C gets NULL). A macro over SSL_CTX_callback_ctrl in 3.0, a function elsewhere."""
        address = _address(ctx, "SSL_CTX")
        pointer: Any = None
        if callback is not None:
            args = self._servername_args

            def trampoline(ssl: int | None, al: Any, arg: int | None) -> int:
                result = callback(_wrap("SSL", ssl), int(al[0]), args.get(address))
                ret, alert = result if isinstance(result, tuple) else (result, None)
                if alert is not None:
                    al[0] = int(alert)
                return int(ret)

            c_fn = _SERVERNAME_CB(self._guard(trampoline))
            self._callbacks.append(c_fn)
            pointer = ctypes.cast(c_fn, c_void_p)
        fn = self._macro_function("SSL_CTX_set_tlsext_servername_callback")
        if fn is not None:
            return int(fn(address, pointer))
        return int(self._function("SSL_CTX_callback_ctrl")(address, K.SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, pointer))

    def SSL_CTX_set_tlsext_servername_arg(self, ctx: Handle | None, arg: Any) -> int:
        address = _address(ctx, "SSL_CTX")
        self._servername_args[address] = arg
        fn = self._macro_function("SSL_CTX_set_tlsext_servername_arg")
        if fn is not None:
            return int(fn(address, None))
        return self.SSL_CTX_ctrl(ctx, K.SSL_CTRL_SET_TLSEXT_SERVERNAME_ARG, 0, None)


def _wire_offset(wire: bytes, name: bytes) -> int | None:
    """Where ``name`` starts inside the length-prefixed list ``wire`` (the offset of its bytes), or None."""
    at = 0
    while at < len(wire):
        size = wire[at]
        if wire[at + 1 : at + 1 + size] == name:
            return at + 1
        at += 1 + size
    return None
