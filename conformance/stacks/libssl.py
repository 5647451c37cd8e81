"""The C API tier on real libraries: OpenSSL's ``libssl.so.3`` and wolfSSL's OpenSSL compatibility layer, through
``ctypes`` (:mod:`conformance.capi.libssl`).

Endpoints are :class:`~conformance.stacks.capi_endpoint.CApiEndpoint` objects: an SSL on a BIO pair, every return
value raw. The ``capi`` attribute gives C-API cases the library's functions under their OpenSSL names.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from conformance.stacks.base import (
    Capability,
    Endpoint,
    EndpointConfig,
    StackAdapter,
    StackUnavailable,
    capability_set,
)
from conformance.stacks.capi_endpoint import CApiEndpoint, new_context

__all__ = ["LibsslStack", "WolfsslStack"]

C_API_CAPABILITIES = capability_set(
    "client_role", "server_role", "tls1_2", "tls1_3", "raw_return_values", "error_codes", "error_queue",
    "bounded_write_buffer", "partial_write", "peek", "pending", "implicit_handshake", "shutdown_return_values",
    "ignore_unexpected_eof", "client_certificates", "peer_verification", "cipher_selection", "cipher_list",
    "group_selection", "key_update", "renegotiation", "zero_length_write", "c_api", "host_name_check",
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
