"""The adapter contract: how the harness reaches a TLS stack.

A *stack* adapter says what it wraps (library and version), what it can do and observe (capabilities), and makes
endpoints. An *endpoint* is one side of a connection, reached through a normalised surface close to the C API:
``do_handshake``, ``read``, ``write``, ``shutdown``, ``pending`` (the application side), each returning an
:class:`~conformance.outcome.Outcome`; and the *network side* (the other half of its BIO pair or memory BIO):
``take_outgoing`` / ``put_incoming`` / ``put_eof``, which only the link calls.

Capabilities are the members of :class:`Capability` (a :class:`enum.StrEnum`, so a case may still write
``@pytest.mark.needs("peek")``: the string and the member are equal). A case names the ones it needs; a stack without
one gets the verdict *not applicable* with the stack's own explanation from :meth:`StackAdapter.lacks`. A name that
is not a member is an error, both in a case and in an adapter's declaration (:func:`check_adapter`), so a typo can
never turn into a silently missing capability.

The contract an adapter must keep (checked by :func:`check_adapter` when the adapter is loaded and by
``conformance check-adapter MODULE:CLASS``):

* ``name`` equals the name the adapter is registered under in the ``conformance.stacks`` entry-point group;
* ``capabilities`` and the keys of ``missing_reasons`` are :class:`Capability` members (or their exact strings);
* ``expectations_path``, when set, is a readable expectations file (schema in :mod:`conformance.expectations`);
* a configuration the library cannot honour is refused by raising :class:`Unsupported` from ``endpoint()``
  (verdict *not applicable*), never ``ValueError`` (which is a harness *error*).
"""

from __future__ import annotations

import abc
import enum
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from conformance.certs import SERVER_NAME, TestPKI, default_pki
from conformance.outcome import Outcome, Role

__all__ = [
    "CAPABILITIES",
    "UMBRELLAS",
    "Capability",
    "Endpoint",
    "EndpointConfig",
    "StackAdapter",
    "StackUnavailable",
    "Unsupported",
    "capability_set",
    "check_adapter",
]

class Capability(enum.StrEnum):
    """What a stack can do or let the harness observe. Equal to (and hashed as) its string value."""

    CLIENT_ROLE = "client_role"
    SERVER_ROLE = "server_role"
    TLS1_2 = "tls1_2"
    TLS1_3 = "tls1_3"
    RAW_RETURN_VALUES = "raw_return_values"
    ERROR_CODES = "error_codes"
    ERROR_QUEUE = "error_queue"
    BOUNDED_WRITE_BUFFER = "bounded_write_buffer"
    PARTIAL_WRITE = "partial_write"
    PEEK = "peek"
    PENDING = "pending"
    IMPLICIT_HANDSHAKE = "implicit_handshake"
    SHUTDOWN_RETURN_VALUES = "shutdown_return_values"
    IGNORE_UNEXPECTED_EOF = "ignore_unexpected_eof"
    CLIENT_CERTIFICATES = "client_certificates"
    PEER_VERIFICATION = "peer_verification"
    HOST_NAME_CHECK = "host_name_check"
    CIPHER_SELECTION = "cipher_selection"
    CIPHER_LIST = "cipher_list"
    GROUP_SELECTION = "group_selection"
    KEY_UPDATE = "key_update"
    RENEGOTIATION = "renegotiation"
    ZERO_LENGTH_WRITE = "zero_length_write"
    C_API = "c_api"
    SESSION_RESUMPTION = "session_resumption"
    SESSION_REUSED = "session_reused"
    ALPN = "alpn"
    SERVER_NAME_SEEN = "server_name_seen"
    # finer parts of three capabilities above: declaring the umbrella declares both parts; the umbrella is had when
    # both parts are (see UMBRELLAS)
    IMPLICIT_HANDSHAKE_ON_READ = "implicit_handshake_on_read"
    IMPLICIT_HANDSHAKE_ON_WRITE = "implicit_handshake_on_write"
    PRESENT_CLIENT_CERTIFICATE = "present_client_certificate"
    REQUEST_CLIENT_CERTIFICATE = "request_client_certificate"
    RENEGOTIATE = "renegotiate"
    RENEGOTIATION_PENDING = "renegotiation_pending"
    VERIFY_CALLBACK = "verify_callback"
    SSL_OPTIONS = "ssl_options"
    SOCKET_TRANSPORT = "socket_transport"
    SHUTDOWN_STATE = "shutdown_state"
    WANT_STATE = "want_state"
    OPTIONAL_CLIENT_CERTIFICATE = "optional_client_certificate"
    CONNECTION_VERIFY = "connection_verify"
    CONNECTION_OPTIONS = "connection_options"
    SET_SHUTDOWN = "set_shutdown"
    VERIFY_DEPTH = "verify_depth"


CAPABILITIES: Mapping[Capability, str] = MappingProxyType({
    Capability.CLIENT_ROLE: "can play the TLS client",
    Capability.SERVER_ROLE: "can play the TLS server",
    Capability.TLS1_2: "speaks TLS 1.2",
    Capability.TLS1_3: "speaks TLS 1.3",
    Capability.RAW_RETURN_VALUES: "the C return value of every call is observed, not synthesised from an exception",
    Capability.ERROR_CODES: "the SSL_get_error code of a failed call is observed (maybe through the binding's "
                            "exception type)",
    Capability.ERROR_QUEUE: "the thread's error queue is observable",
    Capability.BOUNDED_WRITE_BUFFER: "the outgoing transport buffer can be bounded, so SSL_ERROR_WANT_WRITE can occur",
    Capability.PARTIAL_WRITE: "SSL_MODE_ENABLE_PARTIAL_WRITE can be set",
    Capability.PEEK: "SSL_peek is available",
    Capability.PENDING: "SSL_pending is available",
    Capability.IMPLICIT_HANDSHAKE: "read and write start the handshake on an endpoint whose role is set",
    Capability.SHUTDOWN_RETURN_VALUES: "SSL_shutdown's 0 (close_notify sent) and 1 (both sent) are observable",
    Capability.IGNORE_UNEXPECTED_EOF: "SSL_OP_IGNORE_UNEXPECTED_EOF can be set",
    Capability.CLIENT_CERTIFICATES: "can present and request client certificates",
    Capability.PEER_VERIFICATION: "verifies the peer's certificate chain against the configured trust anchors",
    Capability.HOST_NAME_CHECK: "a verifying client can also match the server certificate against a host name "
                                "(SSL_set1_host), set apart from the SNI it sends",
    Capability.CIPHER_SELECTION: "the TLS 1.3 cipher suites offered can be chosen",
    Capability.CIPHER_LIST: "the TLS 1.2 cipher suites offered can be chosen (an OpenSSL cipher list)",
    Capability.GROUP_SELECTION: "the key-exchange groups offered or accepted can be chosen",
    Capability.KEY_UPDATE: "can send a TLS 1.3 KeyUpdate",
    Capability.RENEGOTIATION: "can renegotiate a TLS 1.2 connection and observe whether a renegotiation is pending "
                              "(both parts: renegotiate, renegotiation_pending)",
    Capability.ZERO_LENGTH_WRITE: "a write of zero bytes reaches the library's write function",
    Capability.C_API: "the library's functions are callable under their OpenSSL names (conformance.capi convention)",
    Capability.SESSION_RESUMPTION: "a client hands its session to a later client (Endpoint.session, "
                                   "EndpointConfig.resume) and servers of one endpoint_factory share a session "
                                   "cache or ticket key; whether a handshake resumed is then a fact of the wire (a "
                                   "case reads it there, or from a peer with 'session_reused')",
    Capability.SESSION_REUSED: "the stack's own answer to whether the completed handshake resumed a session "
                               "(SSL_session_reused) is observable (Endpoint.session_reused)",
    Capability.ALPN: "ALPN (RFC 7301): a client offers EndpointConfig.alpn, a server selects from it, and the "
                     "protocol selected is observable on either side (Endpoint.alpn_selected)",
    Capability.SERVER_NAME_SEEN: "a server observes the host name a client sent as SNI (Endpoint.server_name_seen)",
    Capability.IMPLICIT_HANDSHAKE_ON_READ: "read starts the handshake on an endpoint whose role is set",
    Capability.IMPLICIT_HANDSHAKE_ON_WRITE: "write starts the handshake on an endpoint whose role is set",
    Capability.PRESENT_CLIENT_CERTIFICATE: "as a client, presents a certificate when the server asks for one",
    Capability.REQUEST_CLIENT_CERTIFICATE: "as a server, can be set to request and require a client certificate",
    Capability.VERIFY_CALLBACK: "a verify callback (SSL_CTX_set_verify) is called with preverify_ok, the depth and "
                                "the error of each level, and its answer decides (EndpointConfig.verify_callback)",
    Capability.SSL_OPTIONS: "SSL_OP_ options can be set on the context by name (EndpointConfig.options); a name the "
                            "library lacks is refused with Unsupported",
    Capability.SOCKET_TRANSPORT: "an endpoint can run over a connected TCP socket, the kernel moving the bytes "
                                 "(SSL_set_fd or the binding's socket wrapper; StackAdapter.socket_endpoint)",
    Capability.SHUTDOWN_STATE: "SSL_get_shutdown's SENT / RECEIVED flags are observable (Endpoint.get_shutdown)",
    Capability.WANT_STATE: "SSL_want_read / SSL_want_write are observable (Endpoint.want_read, want_write)",
    Capability.OPTIONAL_CLIENT_CERTIFICATE: "as a server, can ask for a client certificate without requiring one "
                                            "(SSL_VERIFY_PEER alone; EndpointConfig.require_client_certificate)",
    Capability.CONNECTION_VERIFY: "one connection's verify mode can be set apart from its context's (SSL_set_verify; "
                                  "Endpoint.set_verify); a callback with it also needs 'verify_callback'",
    Capability.CONNECTION_OPTIONS: "SSL_OP_ options can be set on one connection by name (SSL_set_options; "
                                   "Endpoint.set_options)",
    Capability.SET_SHUTDOWN: "the shutdown state can be set (SSL_set_shutdown; Endpoint.set_shutdown)",
    Capability.VERIFY_DEPTH: "the verify depth can be set (SSL_CTX_set_verify_depth; EndpointConfig.verify_depth) "
                             "and a server presents the intermediates of its certificate file",
    Capability.RENEGOTIATE: "can request and start a TLS 1.2 renegotiation (SSL_renegotiate + SSL_do_handshake; "
                            "Endpoint.renegotiate) and carry out one the peer asks for inside read / write",
    Capability.RENEGOTIATION_PENDING: "whether a requested renegotiation is still pending is observable "
                                      "(SSL_renegotiate_pending; Endpoint.renegotiation_pending)",
})

# A capability that is two behaviours: a stack that declares it has both parts; one that declares both parts has it.
UMBRELLAS: Mapping[Capability, tuple[Capability, ...]] = MappingProxyType({
    Capability.IMPLICIT_HANDSHAKE: (Capability.IMPLICIT_HANDSHAKE_ON_READ, Capability.IMPLICIT_HANDSHAKE_ON_WRITE),
    Capability.CLIENT_CERTIFICATES: (Capability.PRESENT_CLIENT_CERTIFICATE, Capability.REQUEST_CLIENT_CERTIFICATE),
    Capability.RENEGOTIATION: (Capability.RENEGOTIATE, Capability.RENEGOTIATION_PENDING),
})


def _has(declared: frozenset[Capability], cap: Capability) -> bool:
    if cap in declared:
        return True
    parts = UMBRELLAS.get(cap)
    if parts is not None:
        return all(p in declared for p in parts)
    return any(cap in parts and umbrella in declared for umbrella, parts in UMBRELLAS.items())


def capability_set(*names: str) -> frozenset[Capability]:
    """The capabilities named (each a :class:`Capability` or its exact string); an unknown name raises
    ``ValueError`` naming the known ones."""
    out = set()
    for name in names:
        try:
            out.add(Capability(name))
        except ValueError:
            raise ValueError(f"unknown capability {name!r}; known: {', '.join(sorted(CAPABILITIES))}") from None
    return frozenset(out)


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
    # client: a session taken with Endpoint.session() from an earlier client of the same stack, offered for
    # resumption (SSL_set_session); capability 'session_resumption'
    resume: object | None = None
    # verify callback (SSL_CTX_set_verify): (preverify_ok, depth, error) -> accept; capability 'verify_callback'
    verify_callback: Callable[[bool, int, int], bool] | None = None
    options: tuple[str, ...] = ()  # SSL_OP_ names set with SSL_CTX_set_options, e.g. "SSL_OP_NO_TLSv1_3"
    verify_depth: int | None = None  # SSL_CTX_set_verify_depth; None: the library default (capability verify_depth)
    # server with verify_peer: False asks without requiring (no SSL_VERIFY_FAIL_IF_NO_PEER_CERT; ssl.CERT_OPTIONAL)
    require_client_certificate: bool = True
    # ALPN (RFC 7301; capability 'alpn'): a client offers these protocols, in this order; a server supports these
    # and selects the first of its own list that the client offered (its order decides, as SSL_select_next_proto
    # does). None: no ALPN (a client offers nothing, a server ignores an offer).
    alpn: tuple[str, ...] | None = None
    # server with alpn, when the client offers none of its protocols: "alert" refuses the handshake with a fatal
    # no_application_protocol (RFC 7301 section 3.2), "ignore" goes on without ALPN (SSL_TLSEXT_ERR_NOACK);
    # None: whatever the stack does by itself (a case that does not depend on it)
    alpn_no_overlap: str | None = None
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
        raise NotImplementedError(f"{self.label}: renegotiation is not offered (capability 'renegotiate')")

    def renegotiation_pending(self) -> bool:
        """SSL_renegotiate_pending: a renegotiation was requested and its handshake has not completed."""
        raise NotImplementedError(f"{self.label}: SSL_renegotiate_pending is not offered "
                                  "(capability 'renegotiation_pending')")

    def negotiated_version(self) -> str | None:
        return None

    def get_shutdown(self) -> int:
        """SSL_get_shutdown: SSL_SENT_SHUTDOWN (1) | SSL_RECEIVED_SHUTDOWN (2)."""
        raise NotImplementedError(f"{self.label}: SSL_get_shutdown is not offered (capability 'shutdown_state')")

    def set_shutdown(self, state: int) -> None:
        """SSL_set_shutdown: make the shutdown state ``state`` (SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN)."""
        raise NotImplementedError(f"{self.label}: SSL_set_shutdown is not offered (capability 'set_shutdown')")

    def set_verify(self, mode: int, callback: Callable[[bool, int, int], bool] | None) -> None:
        """SSL_set_verify on this connection: ``mode`` (SSL_VERIFY_* bits) and a callback (preverify_ok, depth,
        error) -> accept; None passes no callback (the page: the connection keeps the one it has)."""
        raise NotImplementedError(f"{self.label}: SSL_set_verify is not offered (capability 'connection_verify')")

    def set_options(self, names: tuple[str, ...]) -> int | None:
        """SSL_set_options on this connection with the SSL_OP_ options of these names; the option mask the last call
        returned (None: the binding does not return it)."""
        raise NotImplementedError(f"{self.label}: SSL_set_options is not offered (capability 'connection_options')")

    def want_read(self) -> bool:
        """SSL_want_read: the last call stopped wanting to read."""
        raise NotImplementedError(f"{self.label}: SSL_want_read is not offered (capability 'want_state')")

    def want_write(self) -> bool:
        """SSL_want_write: the last call stopped wanting to write."""
        raise NotImplementedError(f"{self.label}: SSL_want_write is not offered (capability 'want_state')")

    def session(self) -> object | None:
        """The session a later client may resume (SSL_get1_session): an opaque object for ``EndpointConfig.resume``
        of the same stack; None if there is none yet (TLS 1.3: no ticket read so far)."""
        raise NotImplementedError(f"{self.label}: sessions are not offered (capability 'session_resumption')")

    def session_reused(self) -> bool:
        """Whether the completed handshake resumed a session (SSL_session_reused)."""
        raise NotImplementedError(f"{self.label}: SSL_session_reused is not observable (capability 'session_reused')")

    def negotiated_cipher(self) -> str | None:
        return None

    def alpn_selected(self) -> str | None:
        """The protocol ALPN selected in the completed handshake (SSL_get0_alpn_selected); None: none was."""
        raise NotImplementedError(f"{self.label}: ALPN is not offered (capability 'alpn')")

    def server_name_seen(self) -> str | None:
        """Server: the host name the client's SNI carried, as the server observed it (SSL_get_servername, a
        servername callback); None: the client sent none."""
        raise NotImplementedError(f"{self.label}: the server name is not observable (capability 'server_name_seen')")

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
    entry-point group under the adapter's ``name``."""

    name: str = ""
    library: str = ""
    tier: str = "binding"  # "c-api" | "binding" | "wire"
    capabilities: frozenset[Capability] = frozenset()  # see capability_set()
    # Why a capability is absent, in the stack's own terms (shown with a not-applicable verdict).
    missing_reasons: Mapping[str, str] = MappingProxyType({})  # keyed by Capability (or its exact string)
    # The stack's expected deviations (schema in conformance.expectations); None: the built-in file
    # conformance/expectations/<name>.toml, if there is one.
    expectations_path: Path | None = None

    @abc.abstractmethod
    def version(self) -> str:
        """The library version, read from the library itself."""

    def check_available(self) -> None:  # noqa: B027 - optional hook
        """Raise :class:`StackUnavailable` if the stack cannot run here."""

    def lacks(self, capability: str) -> str | None:
        """``None`` if the stack has the capability, else the reason it does not."""
        try:
            cap = Capability(capability)
        except ValueError:
            raise KeyError(f"unknown capability {capability!r}; known: {', '.join(sorted(CAPABILITIES))}") from None
        if _has(self.capabilities, cap):
            return None
        why = self.missing_reasons.get(cap, "")
        if not why:  # a part the stack does not explain by itself: the umbrella's reason covers it
            why = next((self.missing_reasons[u] for u, parts in UMBRELLAS.items()
                        if cap in parts and u in self.missing_reasons), "")
        if not why and cap in UMBRELLAS:  # the umbrella is missing because a part is: say which, and why
            why = "; ".join(f"{p}: {self.missing_reasons.get(p, 'not declared')}" for p in UMBRELLAS[cap]
                            if not _has(self.capabilities, p))
        return f"{self.name} lacks '{cap}' ({CAPABILITIES[cap]})" + (f": {why}" if why else "")

    @abc.abstractmethod
    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        """A fresh endpoint in the given role, its handshake not yet started."""

    def socket_endpoint(self, config: EndpointConfig, label: str, sock: socket.socket) -> Endpoint:
        """An endpoint whose transport is the connected socket ``sock`` (capability 'socket_transport'); it
        inherits the socket's blocking mode and closes it with :meth:`Endpoint.close`. It has no network side:
        the kernel moves the bytes, so the pump cannot drive it."""
        raise NotImplementedError(f"{self.name}: no socket transport (capability 'socket_transport')")

    def endpoint_factory(self, config: EndpointConfig) -> Callable[[str], Endpoint]:
        """Endpoints that share one configured context, as an application reuses its SSL_CTX (the benchmark uses
        this). The default makes each endpoint from scratch; adapters override it when the library has a
        context to share."""
        return lambda label: self.endpoint(config, label)


def _unknown(names: Iterable[str]) -> list[str]:
    return sorted(str(n) for n in names if str(n) not in CAPABILITIES)


def check_adapter(adapter: StackAdapter, registered_as: str | None = None) -> list[str]:
    """Everything about ``adapter`` that breaks the contract, as sentences (empty: it keeps the contract).

    Checked without running a case: the name (against the entry-point name it was registered under, when given),
    tier, capability names, the keys of ``missing_reasons``, that the abstract methods are implemented, and that
    the expectations file parses.
    """
    from conformance.expectations import ExpectationsError, load_expectations

    problems: list[str] = []
    cls = type(adapter)
    if not adapter.name:
        problems.append(f"{cls.__name__}.name is empty")
    if registered_as is not None and registered_as != adapter.name:
        problems.append(f"registered as {registered_as!r} in the conformance.stacks entry points, but the adapter "
                        f"calls itself {adapter.name!r}: the two names must be equal")
    if adapter.tier not in ("c-api", "binding", "wire"):
        problems.append(f"tier {adapter.tier!r} is not one of c-api, binding, wire")
    unknown = _unknown(adapter.capabilities)
    if unknown:
        problems.append(f"unknown capabilities {', '.join(unknown)} (known: {', '.join(sorted(CAPABILITIES))})")
    unknown = _unknown(adapter.missing_reasons)
    if unknown:
        problems.append(f"missing_reasons names unknown capabilities {', '.join(unknown)}")
    explained_but_present = sorted(str(c) for c in adapter.missing_reasons if str(c) in
                                   {str(x) for x in adapter.capabilities})
    if explained_but_present:
        problems.append(f"missing_reasons explains capabilities the adapter declares: "
                        f"{', '.join(explained_but_present)}")
    abstract = sorted(getattr(cls, "__abstractmethods__", ()))
    if abstract:
        problems.append(f"abstract methods not implemented: {', '.join(abstract)}")
    path = adapter.expectations_path
    if path is not None and not Path(path).is_file():
        problems.append(f"expectations_path {path} does not exist")
    else:
        try:
            load_expectations(adapter.name, path)
        except (ExpectationsError, OSError) as exc:
            problems.append(f"expectations file: {exc}")
    return problems
