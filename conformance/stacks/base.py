"""The adapter contract: how the harness reaches a TLS stack.

A *stack* adapter says what it wraps (library and version), what it can do and observe (capabilities), and makes
endpoints. An *endpoint* is one side of a connection, reached through a normalised surface close to the C API:
``do_handshake``, ``read``, ``write``, ``shutdown``, ``pending`` (the application side), each returning an
:class:`~conformance.outcome.Outcome`; and the *network side* (the other half of its BIO pair or memory BIO):
``take_outgoing`` / ``put_incoming`` / ``put_eof``, which only the link calls.

Capabilities are plain strings from :data:`CAPABILITIES`. A case names the ones it needs; a stack without one gets the
verdict *not applicable* with the stack's own explanation from :meth:`StackAdapter.lacks`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from conformance.certs import SERVER_NAME, TestPKI, default_pki
from conformance.outcome import Outcome, Role

__all__ = [
    "CAPABILITIES",
    "Endpoint",
    "EndpointConfig",
    "StackAdapter",
    "StackUnavailable",
    "Unsupported",
]

CAPABILITIES: Mapping[str, str] = {
    "client_role": "can play the TLS client",
    "server_role": "can play the TLS server",
    "tls1_2": "speaks TLS 1.2",
    "tls1_3": "speaks TLS 1.3",
    "raw_return_values": "the C return value of every call is observed, not synthesised from an exception",
    "error_codes": "the SSL_get_error code of a failed call is observed (maybe through the binding's exception type)",
    "error_queue": "the thread's error queue is observable",
    "bounded_write_buffer": "the outgoing transport buffer can be bounded, so SSL_ERROR_WANT_WRITE can occur",
    "partial_write": "SSL_MODE_ENABLE_PARTIAL_WRITE can be set",
    "peek": "SSL_peek is available",
    "pending": "SSL_pending is available",
    "implicit_handshake": "read and write start the handshake on an endpoint whose role is set",
    "shutdown_return_values": "SSL_shutdown's 0 (close_notify sent) and 1 (both sent) are observable",
    "ignore_unexpected_eof": "SSL_OP_IGNORE_UNEXPECTED_EOF can be set",
    "client_certificates": "can present and request client certificates",
    "peer_verification": "verifies the peer's certificate chain against the configured trust anchors",
    "host_name_check": "a verifying client can also match the server certificate against a host name "
                       "(SSL_set1_host), set apart from the SNI it sends",
    "cipher_selection": "the TLS 1.3 cipher suites offered can be chosen",
    "cipher_list": "the TLS 1.2 cipher suites offered can be chosen (an OpenSSL cipher list)",
    "group_selection": "the key-exchange groups offered or accepted can be chosen",
    "key_update": "can send a TLS 1.3 KeyUpdate",
    "renegotiation": "can renegotiate a TLS 1.2 connection",
    "zero_length_write": "a write of zero bytes reaches the library's write function",
    "c_api": "the library's functions are callable under their OpenSSL names (conformance.capi convention)",
}


class Unsupported(Exception):
    """The library refuses a configuration a case asks for (e.g. a group it was built without); the verdict is
    *not applicable* with this message, which should name the call and what it returned."""


class StackUnavailable(RuntimeError):
    """The stack cannot be used on this machine; the message says what is missing and how to get it."""


@dataclass(frozen=True)
class EndpointConfig:
    """What a case asks of an endpoint. Adapters map every field or refuse with a clear error."""

    role: Role
    min_version: str | None = None  # "TLSv1.2" | "TLSv1.3"
    max_version: str | None = None
    ciphersuites: tuple[str, ...] | None = None  # TLS 1.3 suites by IANA name, e.g. "TLS_AES_128_GCM_SHA256"
    cipher_list: tuple[str, ...] | None = None  # TLS 1.2 suites by OpenSSL name, e.g. "ECDHE-RSA-AES128-SHA"
    server_key: str = "ecdsa"  # server: the key of its certificate, "ecdsa" (P-256) or "rsa" (RSA-2048)
    allow_client_renegotiation: bool = False  # server: SSL_OP_ALLOW_CLIENT_RENEGOTIATION (TLS 1.2)
    groups: tuple[str, ...] | None = None  # key-exchange groups, e.g. ("x25519", "secp256r1"); first = key share
    verify_peer: bool = True  # client: verify the server; server: request and require a client certificate
    present_certificate: bool | None = None  # client: send a client certificate (default: only if asked)
    trust_other_ca: bool = False  # trust an unrelated CA instead of the one that signed the peer's certificate
    server_name: str = SERVER_NAME
    send_sni: bool = True  # client: send server_name as SNI (SSL_set_tlsext_host_name)
    # client with verify_peer: also match the certificate against server_name (SSL_set1_host); False verifies the
    # chain only. Stacks without 'host_name_check' check the chain only whatever this says.
    check_host: bool = True
    partial_write: bool | None = None  # SSL_MODE_ENABLE_PARTIAL_WRITE on/off; None: the library default
    write_buffer: int | None = None  # bound of the outgoing transport buffer in bytes (None: unbounded)
    read_buffer: int | None = None  # bound of the incoming transport buffer (bytes the library has not read yet)
    ignore_unexpected_eof: bool = False
    pki: TestPKI = field(default_factory=default_pki)

    def with_(self, **changes: object) -> EndpointConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


class Endpoint(abc.ABC):
    """One side of a connection. Application side first, network side last."""

    role: Role
    label: str
    # The C functions the endpoint's read and write reach (e.g. stdlib ssl uses the _ex forms).
    read_function: str = "SSL_read"
    write_function: str = "SSL_write"

    @abc.abstractmethod
    def do_handshake(self) -> Outcome: ...

    @abc.abstractmethod
    def read(self, size: int) -> Outcome: ...

    def peek(self, size: int) -> Outcome:
        raise NotImplementedError(f"{self.label}: peek is not offered (capability 'peek')")

    @abc.abstractmethod
    def write(self, data: bytes) -> Outcome: ...

    @abc.abstractmethod
    def shutdown(self) -> Outcome: ...

    def pending(self) -> int:
        raise NotImplementedError(f"{self.label}: pending is not offered (capability 'pending')")

    def key_update(self, request_peer: bool) -> Outcome:
        raise NotImplementedError(f"{self.label}: key update is not offered (capability 'key_update')")

    def renegotiate(self) -> Outcome:
        """Request a TLS 1.2 renegotiation (SSL_renegotiate) and start it (SSL_do_handshake)."""
        raise NotImplementedError(f"{self.label}: renegotiation is not offered (capability 'renegotiation')")

    def renegotiation_pending(self) -> bool:
        raise NotImplementedError(f"{self.label}: renegotiation is not offered (capability 'renegotiation')")

    def negotiated_version(self) -> str | None:
        return None

    def negotiated_cipher(self) -> str | None:
        return None

    # --- network side ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def take_outgoing(self, limit: int | None = None) -> bytes:
        """Remove and return up to ``limit`` bytes the endpoint has written to its transport."""

    @abc.abstractmethod
    def outgoing_pending(self) -> int:
        """How many bytes wait in the outgoing transport buffer."""

    @abc.abstractmethod
    def put_incoming(self, data: bytes) -> int:
        """Offer bytes from the peer; returns how many were accepted (the rest stays with the link)."""

    @abc.abstractmethod
    def put_eof(self) -> None:
        """The transport from the peer is closed: after the bytes already given, reads see end of file."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release the endpoint's resources."""


class StackAdapter(abc.ABC):
    """A TLS stack under test. Third parties subclass this and register it in the ``conformance.stacks``
    entry-point group."""

    name: str = ""
    library: str = ""
    tier: str = "binding"  # "c-api" | "binding" | "wire"
    capabilities: frozenset[str] = frozenset()
    # Why a capability is absent, in the stack's own terms (shown with a not-applicable verdict).
    missing_reasons: Mapping[str, str] = MappingProxyType({})

    @abc.abstractmethod
    def version(self) -> str:
        """The library version, read from the library itself."""

    def check_available(self) -> None:  # noqa: B027 - optional hook
        """Raise :class:`StackUnavailable` if the stack cannot run here."""

    def lacks(self, capability: str) -> str | None:
        """``None`` if the stack has the capability, else the reason it does not."""
        if capability not in CAPABILITIES:
            raise KeyError(f"unknown capability {capability!r}; known: {', '.join(sorted(CAPABILITIES))}")
        if capability in self.capabilities:
            return None
        why = self.missing_reasons.get(capability, "")
        return f"{self.name} lacks '{capability}' ({CAPABILITIES[capability]})" + (f": {why}" if why else "")

    @abc.abstractmethod
    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        """A fresh endpoint in the given role, its handshake not yet started."""

    def endpoint_factory(self, config: EndpointConfig) -> Callable[[str], Endpoint]:
        """Endpoints that share one configured context, as an application reuses its SSL_CTX (the benchmark uses
        this). The default makes each endpoint from scratch; adapters override it when the library has a
        context to share."""
        return lambda label: self.endpoint(config, label)
