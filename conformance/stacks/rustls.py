"""rustls through rtls, a module that imitates Python's ``ssl`` (``SSLContext.wrap_bio`` over ``MemoryBIO``).

The whole adapter is the declaration below: :class:`~conformance.stacks.ssl_like.SslLikeStack` drives any module with
the ``ssl`` surface, and this class only says what rtls honours. What rtls does is read from its own Python layer
(``rtls/_object.py``, ``rtls/_context.py``) over the Rust state machine (``rtls/_rustls``).
"""

from __future__ import annotations

from types import MappingProxyType

from conformance.stacks.base import capability_set
from conformance.stacks.ssl_like import SslLikeStack

__all__ = ["RustlsStack"]


class RustlsStack(SslLikeStack):
    name = "rustls"
    library = "rustls through rtls (ssl-like SSLContext.wrap_bio over MemoryBIO)"
    module_name = "rtls"
    capabilities = capability_set(
        "client_role", "server_role", "tls1_2", "tls1_3", "error_codes", "pending", "present_client_certificate",
        "request_client_certificate", "implicit_handshake_on_read",
        "peer_verification", "cipher_list", "ignore_unexpected_eof", "zero_length_write", "host_name_check",
        # TLSContext.wrap_socket (rtls/_socket.py's TLSSocket, which turns a non-blocking socket's BlockingIOError
        # into SSLWantReadError / SSLWantWriteError), TLSContext.options (OP_NO_TLSv1_2 / OP_NO_TLSv1_3 become the
        # version bounds) and verify_mode CERT_OPTIONAL (handed to the Rust config builder's set_verify_mode)
        "socket_transport", "ssl_options", "optional_client_certificate", "alpn",
    )
    alpn_no_overlap = "alert"
    alpn_no_overlap_reason = ("a rustls server with ALPN protocols refuses a client that offers none of them with "
                              "no_application_protocol (rustls server hs.rs: PeerIncompatible::NoApplicationProtocol); "
                              "neither rustls's ServerConfig nor rtls's SSLContext has a setting to go on without ALPN")
    missing_reasons = MappingProxyType({
        "raw_return_values": "rtls raises the ssl exception classes; there is no C return value",
        "error_queue": "rustls has no error queue",
        "bounded_write_buffer": "rtls's MemoryBIO (rtls/_bio.py) grows without bound and takes no size",
        "partial_write": "rustls has no partial-write mode to set",
        "peek": "TLSObject has no peek",
        "implicit_handshake_on_write": "TLSObject.write() before the handshake raises SSLError('handshake not done "
                                       "yet') instead of starting it (rtls/_object.py)",
        "shutdown_return_values": "TLSObject.unwrap() sends close_notify and returns None without waiting for the "
                                  "peer's, so SSL_shutdown's 0 / 1 cannot be told apart",
        "cipher_selection": "SSLContext.set_ciphers() is the only cipher setting; TLS 1.3 suites cannot be chosen",
        "group_selection": "rtls's TLSContext inherits set_ecdh_curve from ssl.SSLContext, where it configures "
                           "CPython's own OpenSSL context underneath and never reaches rustls: the Rust config builder "
                           "(RustlsConfigBuilder, rtls/_rustls.pyi) has no key-exchange group setter",
        "key_update": "the ssl surface has no KeyUpdate call",
        "renegotiation": "rustls does not implement renegotiation",
        "c_api": "a binding",
        "verify_callback": "rtls has no verify callback: TLSContext offers verify_mode and verify_flags only, and "
                           "the Rust config builder (rtls/_rustls.pyi) takes a mode, not a callable",
        "shutdown_state": "TLSObject has no get_shutdown (SSL_get_shutdown): unwrap() sets a private flag only",
        "want_state": "TLSObject has neither want_read nor want_write: the exception class says which retry the "
                      "last call wants",
        "session_resumption": "TLSObject.session is documented 'Not yet implemented' and always None, and "
                              "session_reused is always False (rtls/_object.py), so no session can be handed on",
        "session_reused": "TLSObject.session_reused is documented 'Always False for now' (rtls/_object.py): rtls does "
                          "not report whether rustls resumed",
        "connection_verify": "TLSObject has no verify setting of its own: verify_mode lives on the TLSContext (the "
                             "Rust config builder's set_verify_mode), shared by every connection built from it",
        "connection_options": "TLSObject has no options: TLSContext.options is the only setting (it turns "
                              "OP_NO_TLSv1_2 / OP_NO_TLSv1_3 into the config builder's version bounds)",
        "set_shutdown": "TLSObject has no SSL_set_shutdown counterpart: unwrap() sets a private flag only",
        "verify_depth": "rtls's RustlsConfigBuilder (rtls/_rustls.pyi) has no verify depth setting, and rustls's "
                        "verifier takes none",
        "server_name_seen": "rtls stores SSLContext.sni_callback but never calls it (rtls/_context.py keeps it, "
                            "rtls/_object.py never reads it), and its RustlsServerConnection (rtls/_rustls.pyi) has "
                            "no method that returns the client's server name",
    })
