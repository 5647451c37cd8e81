"""The reference engine as a stack of the C API tier.

:class:`EngineApi` gathers the engine's public functions (``engine.bio``, ``engine.err`` and, once it exists,
``engine.ssl``) under their OpenSSL names, following :mod:`conformance.capi`. A name the engine does not offer raises
:class:`~conformance.capi.libssl.MissingSymbol`, which the harness reports as *not applicable* with the reason.

With the SSL layer (``engine.ssl``) present, the engine has every SSL capability (it speaks TLS 1.3 and TLS 1.2,
with renegotiation). Without ``SSL_new`` (an engine built without its SSL layer) it has no client or server
role, every SSL-level case is *not applicable* for it, and the BIO and error-queue cases still run.
"""

from __future__ import annotations

import importlib
import socket
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import engine.bio as _bio
import engine.err as _err
import engine.ssl as _ssl
from conformance.capi.libssl import MissingSymbol
from conformance.stacks.base import Capability, Endpoint, EndpointConfig, StackAdapter, capability_set
from conformance.stacks.capi_endpoint import CApiEndpoint, new_context

__all__ = ["ABSENT", "EngineApi", "EngineFunctions", "EngineStack"]

_MODULES = ("engine.bio", "engine.err", "engine.ssl")
SSL_CAPABILITIES = capability_set(
    "client_role", "server_role", "tls1_2", "tls1_3", "raw_return_values", "error_codes", "error_queue",
    "bounded_write_buffer", "partial_write", "peek", "pending", "implicit_handshake", "shutdown_return_values",
    "ignore_unexpected_eof", "client_certificates", "peer_verification", "cipher_selection", "cipher_list",
    "group_selection", "key_update", "zero_length_write", "host_name_check", "renegotiation", "session_resumption",
    "verify_callback", "ssl_options", "socket_transport",
    "shutdown_state", "want_state", "optional_client_certificate",
)


# The one list of functions the engine leaves out on purpose, with the reason a not-applicable verdict shows
# (tests/engine/test_public_surface.py checks it against the catalogue and the engine).
ABSENT = MappingProxyType({
    **{name: "the engine implements TLS over streams only; it has no DTLS" for name in (
        "DTLS_method", "DTLS_client_method", "DTLS_server_method", "DTLSv1_method", "DTLSv1_2_method",
        "DTLSv1_2_client_method", "DTLSv1_2_server_method", "DTLSv1_client_method", "DTLSv1_server_method")},
    "BIO_callback_ctrl": "the engine's BIOs have no callbacks (BIO_set_callback_ex is not implemented)",
    "BIO_ptr_ctrl": "no ctrl of the engine's BIOs returns a pointer",
    "BIO_get_ktls_recv": "the engine has no kernel TLS",
    "BIO_get_ktls_send": "the engine has no kernel TLS",
    "BIO_get_mem_ptr": "the engine has no BUF_MEM type",
    "BIO_set_mem_buf": "the engine has no BUF_MEM type",
    "SSL_get_all_async_fds": "the engine has no async engine support (SSL_MODE_ASYNC)",
    "SSL_get_changed_async_fds": "the engine has no async engine support (SSL_MODE_ASYNC)",
    **{name: "the engine does not implement SSL 3.0" for name in (
        "SSLv3_method", "SSLv3_client_method", "SSLv3_server_method")},
    **{name: "the engine speaks TLS 1.3 and 1.2 only (no TLS 1.0 / 1.1)" for name in (
        "TLSv1_method", "TLSv1_1_method")},
})


class EngineFunctions:
    """The engine's functions of the typed contract (:class:`conformance.capi.contract.CApi`), bound as typed
    attributes so mypy checks them against the protocol; :class:`EngineApi` adds every other function by name."""

    library = "engine"
    errno = staticmethod(_err.errno)
    ERR_clear_error = staticmethod(_err.ERR_clear_error)
    ERR_get_error = staticmethod(_err.ERR_get_error)
    ERR_peek_error = staticmethod(_err.ERR_peek_error)
    ERR_GET_LIB = staticmethod(_err.ERR_GET_LIB)
    ERR_GET_REASON = staticmethod(_err.ERR_GET_REASON)
    ERR_error_string_n = staticmethod(_err.ERR_error_string_n)
    TLS_client_method = staticmethod(_ssl.TLS_client_method)
    TLS_server_method = staticmethod(_ssl.TLS_server_method)
    SSL_CTX_new = staticmethod(_ssl.SSL_CTX_new)
    SSL_CTX_free = staticmethod(_ssl.SSL_CTX_free)
    SSL_CTX_set_min_proto_version = staticmethod(_ssl.SSL_CTX_set_min_proto_version)
    SSL_CTX_set_max_proto_version = staticmethod(_ssl.SSL_CTX_set_max_proto_version)
    SSL_CTX_use_certificate_file = staticmethod(_ssl.SSL_CTX_use_certificate_file)
    SSL_CTX_use_PrivateKey_file = staticmethod(_ssl.SSL_CTX_use_PrivateKey_file)
    SSL_CTX_load_verify_locations = staticmethod(_ssl.SSL_CTX_load_verify_locations)
    SSL_CTX_set_verify = staticmethod(_ssl.SSL_CTX_set_verify)
    SSL_CTX_set_mode = staticmethod(_ssl.SSL_CTX_set_mode)
    SSL_CTX_clear_mode = staticmethod(_ssl.SSL_CTX_clear_mode)
    SSL_CTX_set_num_tickets = staticmethod(_ssl.SSL_CTX_set_num_tickets)
    SSL_new = staticmethod(_ssl.SSL_new)
    SSL_free = staticmethod(_ssl.SSL_free)
    SSL_clear = staticmethod(_ssl.SSL_clear)
    SSL_set_bio = staticmethod(_ssl.SSL_set_bio)
    SSL_set_connect_state = staticmethod(_ssl.SSL_set_connect_state)
    SSL_set_accept_state = staticmethod(_ssl.SSL_set_accept_state)
    SSL_set_tlsext_host_name = staticmethod(_ssl.SSL_set_tlsext_host_name)
    SSL_set1_host = staticmethod(_ssl.SSL_set1_host)
    SSL_get_verify_result = staticmethod(_ssl.SSL_get_verify_result)
    SSL_do_handshake = staticmethod(_ssl.SSL_do_handshake)
    SSL_read = staticmethod(_ssl.SSL_read)
    SSL_peek = staticmethod(_ssl.SSL_peek)
    SSL_read_ex = staticmethod(_ssl.SSL_read_ex)
    SSL_peek_ex = staticmethod(_ssl.SSL_peek_ex)
    SSL_write = staticmethod(_ssl.SSL_write)
    SSL_write_ex = staticmethod(_ssl.SSL_write_ex)
    SSL_pending = staticmethod(_ssl.SSL_pending)
    SSL_has_pending = staticmethod(_ssl.SSL_has_pending)
    SSL_shutdown = staticmethod(_ssl.SSL_shutdown)
    SSL_get_shutdown = staticmethod(_ssl.SSL_get_shutdown)
    SSL_key_update = staticmethod(_ssl.SSL_key_update)
    SSL_get_error = staticmethod(_ssl.SSL_get_error)
    SSL_want = staticmethod(_ssl.SSL_want)
    BIO_s_mem = staticmethod(_bio.BIO_s_mem)
    BIO_new = staticmethod(_bio.BIO_new)
    BIO_free = staticmethod(_bio.BIO_free)
    BIO_new_bio_pair = staticmethod(_bio.BIO_new_bio_pair)
    BIO_read = staticmethod(_bio.BIO_read)
    BIO_write = staticmethod(_bio.BIO_write)
    BIO_ctrl_pending = staticmethod(_bio.BIO_ctrl_pending)
    BIO_ctrl_get_write_guarantee = staticmethod(_bio.BIO_ctrl_get_write_guarantee)
    BIO_shutdown_wr = staticmethod(_bio.BIO_shutdown_wr)
    BIO_set_mem_eof_return = staticmethod(_bio.BIO_set_mem_eof_return)

    @property
    def version(self) -> str:
        from importlib.metadata import version

        return f"engine {version('ssl-bio-conformance')}"

    def has(self, name: str, /) -> bool:
        return callable(getattr(type(self), name, None))


class EngineApi(EngineFunctions):
    """The engine's functions by OpenSSL name; built from each module's ``__all__``."""

    def __init__(self) -> None:
        self._names: dict[str, Any] = {}
        for module_name in _MODULES:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            for name in getattr(module, "__all__", ()):
                self._names.setdefault(name, getattr(module, name))
        for name, value in self._names.items():
            setattr(self, name, value)

    def has(self, name: str, /) -> bool:
        return name in self._names

    def __getattr__(self, name: str) -> Any:  # only reached for names the engine does not define
        if name.startswith("_"):
            raise AttributeError(name)
        raise MissingSymbol(name, "engine", ABSENT.get(name, "the engine does not implement this function yet"))


class EngineStack(StackAdapter):
    name = "engine"
    library = "reference engine (this project)"
    tier = "c-api"

    def __init__(self) -> None:
        self._api = EngineApi()
        has_ssl = self._api.has("SSL_new")
        self.capabilities = frozenset({Capability.C_API} | (SSL_CAPABILITIES if has_ssl else set()))
        reason = "" if has_ssl else "the engine's SSL layer (engine.ssl) does not exist yet"
        self.missing_reasons = MappingProxyType({
            **{cap: reason for cap in SSL_CAPABILITIES if not has_ssl},
        })

    @property
    def capi(self) -> EngineApi:
        return self._api

    def version(self) -> str:
        return self._api.version

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        return CApiEndpoint(self._api, config, label)

    def socket_endpoint(self, config: EndpointConfig, label: str, sock: socket.socket) -> Endpoint:
        return CApiEndpoint(self._api, config, label, sock=sock)  # SSL_set_fd

    def endpoint_factory(self, config: EndpointConfig) -> Callable[[str], Endpoint]:
        ctx = new_context(self._api, config)
        return lambda label: CApiEndpoint(self._api, config, label, shared_ctx=ctx)
