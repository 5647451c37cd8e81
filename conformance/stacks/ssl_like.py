"""A reusable adapter for modules that imitate Python's ``ssl``: ``SSLContext`` + ``wrap_bio`` over two ``MemoryBIO``.

Many TLS bindings copy the standard library's surface so that asyncio (which drives ``SSLContext.wrap_bio``) can use
them: rtls (rustls), and the ``ssl`` module itself. For such a module a stack is a few lines::

    from conformance.stacks.ssl_like import SslLikeStack

    class RustlsStack(SslLikeStack):
        name = "rustls"
        library = "rustls through rtls (ssl-like SSLContext.wrap_bio)"
        module_name = "rtls"
        capabilities = capability_set("client_role", "server_role", "tls1_2", "tls1_3", "error_codes", ...)
        missing_reasons = MappingProxyType({"peek": "the SSLObject has no peek", ...})

What the module must offer (the names of ``ssl``): ``SSLContext(PROTOCOL_TLS_CLIENT | PROTOCOL_TLS_SERVER)`` with
``minimum_version`` / ``maximum_version`` (``TLSVersion.TLSv1_2`` / ``TLSv1_3``), ``load_verify_locations(cafile=)``,
``load_cert_chain(cert, key)``, ``verify_mode`` (``CERT_NONE`` / ``CERT_REQUIRED``), ``check_hostname``, ``options``,
``wrap_bio(incoming, outgoing, server_side=, server_hostname=)``; for the capabilities of those names, the ``OP_``
constants (``ssl_options``), ``CERT_OPTIONAL`` (``optional_client_certificate``) and ``wrap_socket(sock,
server_side=, server_hostname=, do_handshake_on_connect=False)`` (``socket_transport``); ``MemoryBIO`` with
``write`` / ``read`` / ``pending`` / ``write_eof``; and the exception classes ``SSLWantReadError``,
``SSLWantWriteError``, ``SSLZeroReturnError``, ``SSLEOFError``, ``SSLSyscallError`` and ``SSLError``.

How an :class:`~conformance.outcome.Outcome` is made from what the module reports: each exception class stands for its
``SSL_get_error`` code (``SSLEOFError``, "EOF in violation of protocol", is OpenSSL 3.0's ``SSL_ERROR_SSL`` with the
unexpected-EOF reason); return values are synthesised (1, or the byte count; 0 for a read that met close_notify; -1
otherwise), so such a stack never has ``raw_return_values``. An empty ``read()`` is the ``ssl`` rendering of
``SSL_ERROR_ZERO_RETURN``. The endpoint refuses, with :class:`~conformance.stacks.base.Unsupported`, every
configuration whose capability the stack does not declare (cipher list, ignore-unexpected-EOF, TLS 1.3 suites, groups,
bounded transport buffers, partial writes), so a subclass states what its module honours only through its
capabilities. Knobs a subclass may set: ``read_function`` / ``write_function`` (the C names the calls stand for) and
``unwrap_repeats_shutdown`` (``unwrap()`` calls ``SSL_shutdown`` again after a 0, as ``_ssl.c`` does, so a first
unwrap that wants to read means close_notify was sent; False: unwrap only sends close_notify).

The standard library's own adapter (:mod:`conformance.stacks.stdlib`) is this one with ``module_name = "ssl"``, the
``_ex`` function names, ``unwrap_repeats_shutdown = True`` and what only ``ssl`` offers on top (groups through
``set_ecdh_curve``, sessions, the SNI callback): a subclass adds such things through ``endpoint_class`` (stdlib
overrides the endpoint methods instead, to keep ``StdlibEndpoint(config, label)`` for adapters that subclass it), the
hooks of :class:`SslLikeEndpoint` (``_wrap``, ``error_reason``, ``zero_return_reason``, ``empty_read_reason``) and by
extending :meth:`SslLikeStack.context`.
"""

from __future__ import annotations

import importlib
import socket
from collections.abc import Callable
from types import ModuleType
from typing import Any

from conformance.outcome import Outcome, Role, SslError
from conformance.stacks._memory import bounded_take
from conformance.stacks.base import (
    Capability,
    Endpoint,
    EndpointConfig,
    StackAdapter,
    StackUnavailable,
    Unsupported,
)

__all__ = ["SslLikeEndpoint", "SslLikeStack"]

_OP_ALLOW_CLIENT_RENEGOTIATION = 1 << 8  # ssl.h (3.0); ssl-like modules have no name for it


def _reason(exc: BaseException) -> str:
    parts = [p for p in (getattr(exc, "library", None), getattr(exc, "reason", None)) if p]
    return ":".join(str(p) for p in parts) or str(exc) or type(exc).__name__


class SslLikeEndpoint(Endpoint):
    """One side of a connection: ``ctx.wrap_bio`` over two memory BIOs of the module."""

    def __init__(self, stack: SslLikeStack, config: EndpointConfig, label: str, ctx: Any | None = None,
                 sock: socket.socket | None = None) -> None:
        stack.refuse_unsupported(config)
        mod = stack.module
        self.mod = mod
        self.stack = stack
        self.role = config.role
        self.label = label
        self.read_function = stack.read_function
        self.write_function = stack.write_function
        server = config.role is Role.SERVER
        if not server and config.verify_peer and config.check_host and not config.send_sni:
            raise Unsupported(f"{stack.name}: server_hostname is both the SNI and the name checked; a host name "
                              "cannot be checked without sending it")
        ctx = ctx if ctx is not None else stack.context(config)
        self.incoming = mod.MemoryBIO()
        self.outgoing = mod.MemoryBIO()
        hostname = None if server or not config.send_sni else config.server_name
        self.sock: Any = None
        self.obj: Any = self._wrap(config, ctx, sock, hostname)
        self._out = bytearray()
        self._shutdown_called = False

    def _wrap(self, config: EndpointConfig, ctx: Any, sock: socket.socket | None, hostname: str | None) -> Any:
        """The module's connection object: ``wrap_socket`` over ``sock`` (kept as ``self.sock``; its blocking mode
        is the connection's) or ``wrap_bio`` over the two memory BIOs."""
        server = config.role is Role.SERVER
        if sock is not None:
            self.sock = ctx.wrap_socket(sock, server_side=server, server_hostname=hostname,
                                        do_handshake_on_connect=False)
            return self.sock
        return ctx.wrap_bio(self.incoming, self.outgoing, server_side=server, server_hostname=hostname)

    # the texts an outcome carries (a subclass may word them its own way)
    empty_read_reason = "close_notify received (reported as an empty read)"

    def error_reason(self, exc: BaseException) -> str:
        """The reason of an outcome with SSL_ERROR_SSL from the module's SSLError."""
        return _reason(exc)

    def zero_return_reason(self, exc: BaseException) -> str:
        return str(exc)

    def _run(self, op: str, args: str, fn: Callable[[], tuple[int, bytes]]) -> Outcome:
        mod = self.mod
        try:
            ret, data = fn()
        except mod.SSLWantReadError:
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_READ, args=args)
        except mod.SSLWantWriteError:
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_WRITE, args=args)
        except mod.SSLZeroReturnError as exc:
            return Outcome(op, 0, SslError.SSL_ERROR_ZERO_RETURN, args=args, reason=self.zero_return_reason(exc))
        except mod.SSLEOFError as exc:
            return Outcome(op, -1, SslError.SSL_ERROR_SSL,
                           reason=f"unexpected eof while reading (reported as {mod.__name__}.SSLEOFError: {exc})",
                           args=args)
        except mod.SSLSyscallError as exc:
            return Outcome(op, -1, SslError.SSL_ERROR_SYSCALL, reason=str(exc), args=args)
        except mod.SSLError as exc:
            return Outcome(op, -1, SslError.SSL_ERROR_SSL, reason=self.error_reason(exc), args=args)
        return Outcome(op, ret, SslError.SSL_ERROR_NONE, data=data, args=args)

    def do_handshake(self) -> Outcome:
        def go() -> tuple[int, bytes]:
            self.obj.do_handshake()
            return 1, b""
        return self._run("SSL_do_handshake", "", go)

    def read(self, size: int) -> Outcome:
        def go() -> tuple[int, bytes]:
            data = bytes(self.obj.read(size))
            return len(data), data
        outcome = self._run(self.read_function, str(size), go)
        if outcome.ok and outcome.ret == 0 and size > 0:
            # the ssl convention: SSL_ERROR_ZERO_RETURN after a received close_notify is an empty read
            return Outcome(self.read_function, 0, SslError.SSL_ERROR_ZERO_RETURN, args=str(size),
                           reason=self.empty_read_reason)
        return outcome

    def write(self, data: bytes) -> Outcome:
        return self._run(self.write_function, str(len(data)), lambda: (int(self.obj.write(data)), b""))

    def shutdown(self) -> Outcome:
        def go() -> tuple[int, bytes]:
            self.obj.unwrap()
            return 1, b""
        outcome = self._run("SSL_shutdown", "", go)
        first = not self._shutdown_called
        self._shutdown_called = True
        if self.stack.unwrap_repeats_shutdown and first and outcome.error is SslError.SSL_ERROR_WANT_READ:
            # unwrap() retries SSL_shutdown only after a 0 return, and a memory BIO never blocks the first call's
            # close_notify: WANT_READ on the first unwrap() means the first SSL_shutdown returned 0.
            return Outcome("SSL_shutdown", 0, SslError.SSL_ERROR_NONE,
                           reason="close_notify sent (unwrap's repeated SSL_shutdown then wanted to read)")
        return outcome

    def pending(self) -> int:
        return int(self.obj.pending())

    def negotiated_version(self) -> str | None:
        version = self.obj.version()
        return str(version) if version else None

    def alpn_selected(self) -> str | None:
        proto = self.obj.selected_alpn_protocol()
        return str(proto) if proto else None

    def negotiated_cipher(self) -> str | None:
        cipher = self.obj.cipher()
        return str(cipher[0]) if cipher else None

    def take_outgoing(self, limit: int | None = None) -> bytes:
        if self.outgoing.pending:
            self._out += self.outgoing.read()
        return bounded_take(self._out, limit)

    def outgoing_pending(self) -> int:
        return len(self._out) + int(self.outgoing.pending)

    def put_incoming(self, data: bytes) -> int:
        self.incoming.write(data)
        return len(data)

    def put_eof(self) -> None:
        self.incoming.write_eof()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


class SslLikeStack(StackAdapter):
    """A stack over a module that imitates ``ssl``; subclasses set ``name``, ``library``, ``module_name``,
    ``capabilities`` and ``missing_reasons`` (and the knobs described in the module docstring)."""

    tier = "binding"
    module_name: str = ""
    pip_name: str = ""  # the distribution to install, for the not-installed message (default: module_name)
    read_function: str = "SSL_read"
    write_function: str = "SSL_write"
    unwrap_repeats_shutdown: bool = False
    # what the module's server does when a client offers ALPN but none of its protocols: "alert"
    # (no_application_protocol) or "ignore" (no ALPN); a config asking the other is refused with this reason
    alpn_no_overlap: str = "ignore"
    alpn_no_overlap_reason: str = ""
    endpoint_class: type[SslLikeEndpoint] = SslLikeEndpoint

    @property
    def module(self) -> ModuleType:
        try:
            return importlib.import_module(self.module_name)
        except ImportError as exc:
            raise StackUnavailable(f"{self.module_name} is not importable ({exc}): pip install "
                                   f"{self.pip_name or self.module_name}") from exc

    def check_available(self) -> None:
        self.module  # noqa: B018 - imported for its error

    def version(self) -> str:
        mod = self.module
        own = getattr(mod, "__version__", None)
        return f"{self.module_name} {own} ({mod.OPENSSL_VERSION})" if own else str(mod.OPENSSL_VERSION)

    def refuse_unsupported(self, config: EndpointConfig) -> None:
        """Raise :class:`Unsupported` for every field of ``config`` whose capability the stack lacks."""
        refusals = (
            (config.write_buffer is not None, Capability.BOUNDED_WRITE_BUFFER, "MemoryBIO is unbounded"),
            (config.partial_write is True, Capability.PARTIAL_WRITE, "SSL_MODE_ENABLE_PARTIAL_WRITE cannot be set"),
            (config.groups is not None, Capability.GROUP_SELECTION, "SSLContext cannot choose key-exchange groups"),
            (config.ciphersuites is not None, Capability.CIPHER_SELECTION,
             "SSLContext cannot choose TLS 1.3 cipher suites"),
            (config.cipher_list is not None, Capability.CIPHER_LIST, "set_ciphers is not honoured"),
            (config.ignore_unexpected_eof, Capability.IGNORE_UNEXPECTED_EOF, "OP_IGNORE_UNEXPECTED_EOF is not offered"),
            (bool(config.options), Capability.SSL_OPTIONS, "SSLContext.options is not honoured"),
            (config.verify_callback is not None, Capability.VERIFY_CALLBACK, "SSLContext has no verify callback"),
            (config.role is Role.SERVER and config.verify_peer and not config.require_client_certificate,
             Capability.OPTIONAL_CLIENT_CERTIFICATE, "CERT_OPTIONAL is not honoured"),
            (config.alpn is not None, Capability.ALPN, "set_alpn_protocols is not honoured"),
        )
        for asked, capability, why in refusals:
            if asked and self.lacks(capability) is not None:
                raise Unsupported(f"{self.name}: {why} (capability {capability})")
        if config.alpn is not None and config.role is Role.SERVER and config.alpn_no_overlap not in (
                None, self.alpn_no_overlap):
            raise Unsupported(f"{self.name}: {self.alpn_no_overlap_reason}")

    def context(self, config: EndpointConfig) -> Any:
        """The module's SSLContext for ``config`` (shareable between endpoints of one config)."""
        mod = self.module
        versions = {"TLSv1.2": mod.TLSVersion.TLSv1_2, "TLSv1.3": mod.TLSVersion.TLSv1_3}
        server = config.role is Role.SERVER
        ctx = mod.SSLContext(mod.PROTOCOL_TLS_SERVER if server else mod.PROTOCOL_TLS_CLIENT)
        if config.min_version:
            ctx.minimum_version = versions[config.min_version]
        if config.max_version:
            ctx.maximum_version = versions[config.max_version]
        if config.cipher_list is not None:
            try:
                ctx.set_ciphers(":".join(config.cipher_list))
            except mod.SSLError as exc:  # the library refuses the list (e.g. a suite it does not implement)
                raise Unsupported(f"{self.name}: SSLContext.set_ciphers({':'.join(config.cipher_list)!r}) raised "
                                  f"{exc}") from exc
        pki = config.pki
        ctx.load_verify_locations(cafile=str(pki.other_ca_path if config.trust_other_ca else pki.ca_path))
        if server:
            identity = pki.server_identity(config.server_key)
            ctx.load_cert_chain(str(identity.cert_path), str(identity.key_path))
            if config.allow_client_renegotiation:
                ctx.options |= _OP_ALLOW_CLIENT_RENEGOTIATION
            required = mod.CERT_REQUIRED if config.require_client_certificate else mod.CERT_OPTIONAL
            ctx.verify_mode = required if config.verify_peer else mod.CERT_NONE
        else:
            if config.present_certificate:
                ctx.load_cert_chain(str(pki.client.cert_path), str(pki.client.key_path))
            if not config.verify_peer or not config.check_host:
                ctx.check_hostname = False  # CERT_REQUIRED stays: the chain alone is verified
            if not config.verify_peer:
                ctx.verify_mode = mod.CERT_NONE
        if config.ignore_unexpected_eof:
            ctx.options |= mod.OP_IGNORE_UNEXPECTED_EOF
        for name in config.options:  # SSLContext.options with the module's OP_ constant of that name
            value = getattr(mod, name.removeprefix("SSL_"), None)
            if not isinstance(value, int):
                raise Unsupported(f"{self.name}: {self.module_name} has no constant {name.removeprefix('SSL_')} for "
                                  "SSLContext.options (capability ssl_options)")
            ctx.options |= value
        if config.alpn is not None:
            ctx.set_alpn_protocols(list(config.alpn))
        return ctx

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        return self.endpoint_class(self, config, label)

    def socket_endpoint(self, config: EndpointConfig, label: str, sock: socket.socket) -> Endpoint:
        if self.lacks(Capability.SOCKET_TRANSPORT) is not None:
            return super().socket_endpoint(config, label, sock)
        return self.endpoint_class(self, config, label, sock=sock)

    def endpoint_factory(self, config: EndpointConfig) -> Callable[[str], Endpoint]:
        self.refuse_unsupported(config)
        ctx = self.context(config)
        return lambda label: self.endpoint_class(self, config, label, ctx)
