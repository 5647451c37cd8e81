"""The C API tier on real libraries: OpenSSL's ``libssl.so.3`` and wolfSSL's OpenSSL compatibility layer, through
``ctypes`` (:mod:`conformance.capi.libssl`).

Endpoints are :class:`~conformance.stacks.capi_endpoint.CApiEndpoint` objects: an SSL on a BIO pair, every return
value raw. The ``capi`` attribute gives C-API cases the library's functions under their OpenSSL names.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from conformance.stacks.base import (
    UMBRELLAS,
    Capability,
    Endpoint,
    EndpointConfig,
    StackAdapter,
    StackUnavailable,
    capability_set,
)
from conformance.stacks.capi_endpoint import CApiEndpoint, new_context

__all__ = ["BoringsslStack", "GnutlsStack", "LibsslStack", "OpenSSLAbiStack", "WolfsslStack"]

C_API_CAPABILITIES = capability_set(
    "client_role", "server_role", "tls1_2", "tls1_3", "raw_return_values", "error_codes", "error_queue",
    "bounded_write_buffer", "partial_write", "peek", "pending", "implicit_handshake", "shutdown_return_values",
    "ignore_unexpected_eof", "client_certificates", "peer_verification", "cipher_selection", "cipher_list",
    "group_selection", "key_update", "renegotiation", "zero_length_write", "c_api", "host_name_check",
    "session_resumption", "verify_callback", "ssl_options",
    "socket_transport", "shutdown_state", "want_state",
    "optional_client_certificate",
    "session_reused", "alpn", "server_name_seen",
    "connection_verify", "connection_options", "set_shutdown", "verify_depth",
)


class _CApiStack(StackAdapter):
    tier = "c-api"
    capabilities = C_API_CAPABILITIES

    def __init__(self) -> None:
        self._api: Any = None
        self._problem = ""

    def _load(self) -> Any:
        raise NotImplementedError

    @property
    def capi(self) -> Any:
        """The library's functions under their OpenSSL names (the ``conformance.capi`` convention)."""
        if self._api is None:
            if self._problem:
                raise StackUnavailable(self._problem)
            try:
                self._api = self._load()
            except (OSError, ImportError) as exc:
                self._problem = f"{self.library} cannot be loaded: {exc}"
                raise StackUnavailable(self._problem) from exc
        return self._api

    def check_available(self) -> None:
        self.capi  # noqa: B018 - loading is the check

    def version(self) -> str:
        return str(self.capi.version)

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        return CApiEndpoint(self.capi, config, label)

    def socket_endpoint(self, config: EndpointConfig, label: str, sock: socket.socket) -> Endpoint:
        return CApiEndpoint(self.capi, config, label, sock=sock)  # SSL_set_fd

    def endpoint_factory(self, config: EndpointConfig) -> Callable[[str], Endpoint]:
        ctx = new_context(self.capi, config)  # lives as long as the factory's users; freed with the process
        return lambda label: CApiEndpoint(self.capi, config, label, shared_ctx=ctx)


class LibsslStack(_CApiStack):
    name = "libssl"
    library = "OpenSSL libssl.so.3 (ctypes)"

    def _load(self) -> Any:
        from conformance.capi.libssl import LibsslApi

        return LibsslApi()


class WolfsslStack(_CApiStack):
    name = "wolfssl"
    library = "wolfSSL libwolfssl.so.35, OpenSSL compatibility layer (ctypes)"
    capabilities = C_API_CAPABILITIES - {Capability.RENEGOTIATION}
    missing_reasons = MappingProxyType({
        "renegotiation": "SSL_renegotiate (wolfSSL_Rehandshake) returns 0 on a TLS 1.2 connection in Debian's "
                         "libwolfssl35 build (secure renegotiation is not enabled there)",
    })

    def _load(self) -> Any:
        from conformance.capi.libssl import LibsslApi

        return LibsslApi.wolfssl()


class BoringsslStack(_CApiStack):
    """BoringSSL as Android ships it (Debian's android-libboringssl), with its own spelling of the API
    (:data:`conformance.capi.profiles.BORINGSSL`)."""

    name = "boringssl"
    library = "BoringSSL libssl.so.0 + libcrypto.so.0 of Android 13 (ctypes)"
    capabilities = C_API_CAPABILITIES - {Capability.RENEGOTIATION, Capability.CIPHER_SELECTION,
                                         Capability.IGNORE_UNEXPECTED_EOF}
    missing_reasons = MappingProxyType({
        "renegotiation": "BoringSSL never starts a renegotiation: SSL_renegotiate only completes one the server "
                         "asked for (ssl.h), and a BoringSSL server never asks",
        "cipher_selection": "BoringSSL has no SSL_CTX_set_ciphersuites; its TLS 1.3 cipher suites are fixed",
        "ignore_unexpected_eof": "BoringSSL's ssl.h has no SSL_OP_IGNORE_UNEXPECTED_EOF",
    })

    def check_available(self) -> None:
        from conformance.capi.profiles import BORINGSSL_LIBRARIES

        missing = [p for p in BORINGSSL_LIBRARIES if not os.path.exists(p)]
        if missing:
            raise StackUnavailable(f"{', '.join(missing)} not found: install Debian's android-libboringssl "
                                   "(scripts/bootstrap does when run as root)")
        super().check_available()

    def _load(self) -> Any:
        from conformance.capi.libssl import LibsslApi
        from conformance.capi.profiles import BORINGSSL, BORINGSSL_LIBRARIES

        return LibsslApi(*BORINGSSL_LIBRARIES, profile=BORINGSSL)

    def version(self) -> str:
        # BoringSSL's OpenSSL_version says only "BoringSSL"; OpenSSL_version_num is the OpenSSL release it imitates.
        api = self.capi
        return f"{api.version} (OPENSSL_VERSION_NUMBER {api.version_number():#x})"


_GNUTLS_NO_ENDPOINT = (
    "GnuTLS's OpenSSL compatibility layer (gnutls/openssl.h) has no function for it"
)


_GNUTLS_NO_QUEUE = (
    "the layer has no error queue: no ERR_peek_error, ERR_clear_error or ERR_get_error_all (nm -D); its "
    "ERR_get_error() returns the last negated GnuTLS error code once and resets it (each outcome reports it)"
)
_GNUTLS_IMPLICIT = (
    "the layer's SSL_read and SSL_write before SSL_connect / SSL_accept return 0 with ERR_get_error 408 "
    "(GNUTLS_E_UNAVAILABLE_DURING_HANDSHAKE): they never start the handshake, and the layer has no SSL_do_handshake "
    "(observed: tests/conformance/test_gnutls_capi.py)"
)
_GNUTLS_NO_CLIENT_CHECK = (
    "the layer's server never requests a client certificate: SSL_CTX_set_verify's mode is stored and never used "
    "(observed: tests/conformance/test_gnutls_blocking.py)"
)
_GNUTLS_MISSING = {
    "error_queue": _GNUTLS_NO_QUEUE,
    "peer_verification": "the layer has no SSL_CTX_load_verify_locations; SSL_CTX_set_verify stores the mode and "
                         "it is never used (observed: tests/conformance/test_gnutls_blocking.py)",
    "client_certificates": _GNUTLS_NO_CLIENT_CHECK, "request_client_certificate": _GNUTLS_NO_CLIENT_CHECK,
    "optional_client_certificate": _GNUTLS_NO_CLIENT_CHECK,
    "bounded_write_buffer": "the layer has no BIO_new_bio_pair, BIO_s_mem or BIO_set_write_buf_size (nm -D): its SSL "
                            "runs on a descriptor (SSL_set_fd), whose kernel buffer the adapter does not bound",
    "socket_transport": "the gnutls stack's endpoint already uses SSL_set_fd on a socketpair end; a second, "
                        "pump-less socket endpoint is not offered by this adapter",
    "cipher_selection": "no SSL_CTX_set_ciphersuites in the layer",
    "cipher_list": "SSL_CTX_set_cipher_list is a no-op in extra/gnutls_openssl.c",
    "connection_verify": "the layer exports SSL_set_verify, but its verify modes are stored and never used "
                         "(observed for SSL_CTX_set_verify); not mapped",
    "connection_options": "the layer has no SSL_set_options (nm -D)",
    "partial_write": "the layer exports SSL_CTX_set_mode but no SSL_CTX_clear_mode; not mapped",
    "shutdown_state": "the layer has no SSL_get_shutdown / SSL_set_shutdown (nm -D)",
    "set_shutdown": "the layer has no SSL_set_shutdown (nm -D)",
    "key_update": "the layer has no SSL_key_update (nm -D)",
    "renegotiation": "the layer has no SSL_renegotiate (nm -D)",
    "session_resumption": "the layer has no SSL_get1_session / SSL_set_session (nm -D)",
    "alpn": "the layer has no SSL_CTX_set_alpn_protos / SSL_get0_alpn_selected (nm -D)",
    "group_selection": "the layer has no SSL_CTX_set1_groups_list (nm -D)",
    "verify_callback": "the layer stores SSL_CTX_set_verify's callback and never calls it (extra/gnutls_openssl.c)",
    "verify_depth": "the layer has no SSL_CTX_set_verify_depth (nm -D)",
    "host_name_check": "the layer has no SSL_set1_host (nm -D)",
    "server_name_seen": "the layer has no SSL_get_servername (nm -D)",
    "peek": "the layer has no SSL_peek (nm -D)",
    "implicit_handshake": _GNUTLS_IMPLICIT, "implicit_handshake_on_read": _GNUTLS_IMPLICIT,
    "implicit_handshake_on_write": _GNUTLS_IMPLICIT,
    "ignore_unexpected_eof": "gnutls/openssl.h defines no SSL_OP_IGNORE_UNEXPECTED_EOF",
}
# What the gnutls endpoint (conformance/stacks/gnutls_layer.LayerEndpoint) reports as the layer's own answers: raw
# return values and SSL_get_error codes (SSL_ERROR_ZERO_RETURN for every ret <= 0 in this layer: the cases judge it),
# SSL_pending, SSL_want (the header's SSL_want_read / _write macros), SSL_CTX_set_options with the header's two bits.
_GNUTLS_CLAIMED = capability_set(
    "c_api", "client_role", "server_role", "tls1_3", "tls1_2", "raw_return_values", "error_codes",
    "shutdown_return_values", "pending", "ssl_options", "want_state", "zero_length_write",
    "present_client_certificate",
)


class GnutlsStack(_CApiStack):
    """GnuTLS's OpenSSL compatibility layer (Debian's libgnutls-openssl27): the C-API cases that use only the
    functions it has run on it, and its endpoint (:class:`~conformance.stacks.gnutls_layer.LayerEndpoint`: a
    CApiEndpoint whose SSL is on one end of a non-blocking socketpair through SSL_set_fd, the pump on the other)
    plays both roles, in the C-API cases and in the cases between two endpoints. Every return value and
    SSL_get_error code it reports is the layer's own. GnuTLS's TLS is also reached on the wire through
    ``gnutls-serv`` / ``gnutls-cli`` (``gnutls-programs``)."""

    name = "gnutls"
    library = "GnuTLS OpenSSL compatibility layer libgnutls-openssl.so.27 (ctypes)"
    capabilities = _GNUTLS_CLAIMED
    # every other endpoint capability, the parts of an umbrella included, so that none is reported without a reason
    missing_reasons = MappingProxyType({
        cap: _GNUTLS_MISSING.get(str(cap), _GNUTLS_NO_ENDPOINT)
        for cap in C_API_CAPABILITIES | {part for parts in UMBRELLAS.values() for part in parts}
        if cap not in _GNUTLS_CLAIMED
    })

    def __init__(self) -> None:
        super().__init__()
        self._layer: Any = None

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        from conformance.capi.profiles import GNUTLS_LIBRARIES
        from conformance.stacks.gnutls_layer import Layer, LayerEndpoint

        if self._layer is None:
            self.check_available()
            self._layer = Layer(GNUTLS_LIBRARIES[0])
        return LayerEndpoint(self.capi, self._layer, config, label)

    def socket_endpoint(self, config: EndpointConfig, label: str, sock: socket.socket) -> Endpoint:
        raise NotImplementedError(f"{self.name}: no socket transport (capability 'socket_transport')")

    def endpoint_factory(self, config: EndpointConfig) -> Callable[[str], Endpoint]:
        return lambda label: self.endpoint(config, label)

    def check_available(self) -> None:
        from conformance.capi.profiles import GNUTLS_LIBRARIES

        if not os.path.exists(GNUTLS_LIBRARIES[0]):
            raise StackUnavailable(f"{GNUTLS_LIBRARIES[0]} not found: install Debian's libgnutls-openssl27 "
                                   "(scripts/bootstrap does when run as root)")
        super().check_available()

    def _load(self) -> Any:
        from conformance.capi.libssl import LibsslApi
        from conformance.capi.profiles import GNUTLS, GNUTLS_LIBRARIES

        return LibsslApi(*GNUTLS_LIBRARIES, profile=GNUTLS)

    def version(self) -> str:
        import ctypes

        check = self.capi._raw("gnutls_check_version")
        check.restype, check.argtypes = ctypes.c_char_p, (ctypes.c_char_p,)
        return f"GnuTLS {check(None).decode()} OpenSSL compatibility layer"


class OpenSSLAbiStack(_CApiStack):
    """Any OpenSSL-ABI library given by path (``--stack libssl:PATH[,PATH]``): OpenSSL, LibreSSL, AWS-LC,
    BoringSSL or a fork, without an adapter of its own. Its name and version are read from the library
    (``OpenSSL_version``); the spelling profile is OpenSSL 3.0's, or BoringSSL's for a library that calls itself
    BoringSSL or AWS-LC. Every capability of the C-API tier is claimed: what the library lacks shows as missing
    symbols (not applicable), what it does differently as failed cases, to be read in the report."""

    PREFIX = "libssl:"

    def __init__(self, spec: str) -> None:
        super().__init__()
        paths = [p for p in spec.removeprefix(self.PREFIX).split(",") if p]
        if not paths or len(paths) > 2:
            raise StackUnavailable(f"{spec!r}: expected libssl:PATH/TO/libssl.so[,PATH/TO/libcrypto.so]")
        for path in paths:
            if not os.path.exists(path):
                raise StackUnavailable(f"{spec!r}: {path} does not exist")
        self._paths = (paths[0], paths[1] if len(paths) > 1 else None)
        self.spec = spec
        self.library = f"OpenSSL-ABI library {', '.join(paths)} (ctypes)"
        self.name = self._library_name()
        # The deviations already recorded for the same library apply: BoringSSL's, or libssl's for OpenSSL 3.0.
        from conformance.capi.profiles import BORINGSSL
        from conformance.expectations import builtin_path

        if self.capi.profile is BORINGSSL:
            self.expectations_path = builtin_path("boringssl")
        elif str(self.capi.version).startswith("OpenSSL 3.0."):
            self.expectations_path = builtin_path("libssl")

    def _load(self) -> Any:
        from conformance.capi.libssl import LibsslApi
        from conformance.capi.profiles import profile_for_version

        probe = LibsslApi(*self._paths)
        profile = profile_for_version(probe.version)
        return probe if profile is probe.profile else LibsslApi(*self._paths, profile=profile)

    def _library_name(self) -> str:
        """``openssl-3.0.13``, ``libressl-3.8.2``, ``boringssl``: the first two words of OpenSSL_version."""
        words = str(self.capi.version).split()
        name = words[0].lower() if words else "unknown"
        if len(words) > 1 and words[1][:1].isdigit():
            name += "-" + words[1]
        return name
