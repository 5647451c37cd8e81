"""An endpoint over any implementation of the C API tier (``conformance.capi``): real libssl through ctypes, a
wolfSSL compatibility layer, and the reference ``engine``.

The SSL object sits on one half of a BIO pair (``BIO_new_bio_pair``); the link reads and writes the other half, the
*network BIO*. A case may instead put the SSL on a socket (``SSL_set_fd``; the kernel is then the link), hand over
an ``SSL_CTX`` it configured itself, or leave the role unset: :class:`CApiEndpoint` is the one holder of a C-API
SSL object, for the stacks' endpoints and for the C-API cases alike, and :class:`SslObjects` is what it frees.

Every outcome carries the raw return value and ``SSL_get_error``'s code, and, for an error, the
reason string of the first error-queue entry. The queue is cleared before each call, as SSL_get_error.pod asks.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, Self

from conformance.capi import constants as K
from conformance.outcome import Outcome, Role, SslError, error_code
from conformance.stacks.base import Endpoint, EndpointConfig, Unsupported
from conformance.trace import Trace, TracedApi

__all__ = ["HANDSHAKE_FUNCTIONS", "CApiEndpoint", "SetupError", "SslObjects", "as_capi_endpoint", "new_context"]

TLS1_2_VERSION = 0x0303
TLS1_3_VERSION = 0x0304
SSL_FILETYPE_PEM = 1
SSL_OP_ALLOW_CLIENT_RENEGOTIATION = 1 << 8  # ssl.h (3.0)
SSL_VERIFY_NONE = 0x00
SSL_VERIFY_PEER = 0x01
SSL_VERIFY_FAIL_IF_NO_PEER_CERT = 0x02
SSL_MODE_ENABLE_PARTIAL_WRITE = 0x1
SSL_OP_IGNORE_UNEXPECTED_EOF = 1 << 7
SSL_KEY_UPDATE_NOT_REQUESTED = 0
SSL_KEY_UPDATE_REQUESTED = 1
SSL_TLSEXT_ERR_OK = 0  # tls1.h: answers of the ALPN select callback
SSL_TLSEXT_ERR_ALERT_FATAL = 2
SSL_TLSEXT_ERR_NOACK = 3
OPENSSL_NPN_NEGOTIATED = 1  # SSL_select_next_proto: a protocol of both lists was found
TLSEXT_NAMETYPE_host_name = 0
# The functions that drive a handshake; SSL_connect.pod and SSL_accept.pod describe the first two as
# SSL_do_handshake with the role set.
HANDSHAKE_FUNCTIONS = ("SSL_do_handshake", "SSL_connect", "SSL_accept")
_VERSIONS = {"TLSv1.2": TLS1_2_VERSION, "TLSv1.3": TLS1_3_VERSION}
# wolfSSL names the TLS 1.3 suites its own way; reported under the IANA names OpenSSL uses.
_IANA_TLS13 = {
    "TLS13-AES128-GCM-SHA256": "TLS_AES_128_GCM_SHA256",
    "TLS13-AES256-GCM-SHA384": "TLS_AES_256_GCM_SHA384",
    "TLS13-CHACHA20-POLY1305-SHA256": "TLS_CHACHA20_POLY1305_SHA256",
}


class SetupError(RuntimeError):
    """Configuring the library failed; the message names the call and the error queue's reason."""


def _reason(api: Any) -> str:
    code = api.ERR_peek_error()
    if not code:
        return ""
    text = api.ERR_error_string_n(code)
    return str(text.decode() if isinstance(text, bytes) else text)


def _verify_callback(api: Any, accept: Callable[[bool, int, int], bool] | None) -> Any:
    """The C-API verify callback (preverify_ok, store_ctx) that asks ``accept(preverify_ok, depth, error)``."""
    if accept is None:
        return None

    def callback(preverify_ok: int, store: Any) -> int:
        depth = api.X509_STORE_CTX_get_error_depth(store)
        return 1 if accept(bool(preverify_ok), depth, api.X509_STORE_CTX_get_error(store)) else 0
    return callback


def new_context(api: Any, config: EndpointConfig) -> Any:
    """An ``SSL_CTX`` configured as ``config`` asks (role, versions, suites, groups, trust, certificate, verify
    mode, modes, options). Raises :class:`SetupError` naming the call that failed."""

    def check(ok: bool, call: str) -> None:
        if not ok:
            api.SSL_CTX_free(ctx) if ctx is not None else None
            raise SetupError(f"{call} failed: {_reason(api) or 'no error queue entry'}")

    api.ERR_clear_error()
    server = config.role is Role.SERVER
    ctx = api.SSL_CTX_new(api.TLS_server_method() if server else api.TLS_client_method())
    check(ctx is not None, "SSL_CTX_new")
    if config.min_version:
        check(api.SSL_CTX_set_min_proto_version(ctx, _VERSIONS[config.min_version]) == 1,
              "SSL_CTX_set_min_proto_version")
    if config.max_version:
        check(api.SSL_CTX_set_max_proto_version(ctx, _VERSIONS[config.max_version]) == 1,
              "SSL_CTX_set_max_proto_version")
    if config.ciphersuites is not None:
        check(api.SSL_CTX_set_ciphersuites(ctx, ":".join(config.ciphersuites).encode()) == 1,
              "SSL_CTX_set_ciphersuites")
    if config.cipher_list is not None:
        check(api.SSL_CTX_set_cipher_list(ctx, ":".join(config.cipher_list).encode()) == 1, "SSL_CTX_set_cipher_list")
    if config.allow_client_renegotiation:
        api.SSL_CTX_set_options(ctx, SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
    if config.groups is not None:
        groups = ":".join(config.groups)
        if api.SSL_CTX_set1_groups_list(ctx, groups.encode()) != 1:
            api.SSL_CTX_free(ctx)
            raise Unsupported(f"{api.library}: SSL_CTX_set1_groups_list({groups!r}) refused the group list "
                              f"({_reason(api) or 'no error queue entry'})")
    pki = config.pki
    ca = pki.other_ca_path if config.trust_other_ca else pki.ca_path
    check(api.SSL_CTX_load_verify_locations(ctx, str(ca).encode(), None) == 1, "SSL_CTX_load_verify_locations")
    client_identity = pki.client if config.present_certificate else None
    identity = pki.server_identity(config.server_key) if server else client_identity
    if identity is not None and identity.chain:  # the file also holds the intermediate: send it too
        check(api.SSL_CTX_use_certificate_chain_file(ctx, str(identity.cert_path).encode()) == 1,
              "SSL_CTX_use_certificate_chain_file")
    elif identity is not None:
        check(api.SSL_CTX_use_certificate_file(ctx, str(identity.cert_path).encode(), SSL_FILETYPE_PEM) == 1,
              "SSL_CTX_use_certificate_file")
    if identity is not None:
        check(api.SSL_CTX_use_PrivateKey_file(ctx, str(identity.key_path).encode(), SSL_FILETYPE_PEM) == 1,
              "SSL_CTX_use_PrivateKey_file")
    if server:
        fail = SSL_VERIFY_FAIL_IF_NO_PEER_CERT if config.require_client_certificate else 0
        mode = SSL_VERIFY_PEER | fail if config.verify_peer else SSL_VERIFY_NONE
    else:
        mode = SSL_VERIFY_PEER if config.verify_peer else SSL_VERIFY_NONE
    api.SSL_CTX_set_verify(ctx, mode, _verify_callback(api, config.verify_callback))
    if config.verify_depth is not None:
        api.SSL_CTX_set_verify_depth(ctx, config.verify_depth)
    for name in config.options:  # SSL_CTX_set_options by name (capability 'ssl_options')
        api.SSL_CTX_set_options(ctx, getattr(K, name))
    if config.partial_write is True:
        api.SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE)
    elif config.partial_write is False:
        api.SSL_CTX_clear_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE)
    if config.ignore_unexpected_eof:
        api.SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF)
    if config.alpn is not None:
        _set_alpn(api, ctx, config, check)
    return ctx


def alpn_wire(protocols: tuple[str, ...]) -> bytes:
    """A protocol list in wire format (each name after its one-byte length), as SSL_CTX_set_alpn_protos takes it."""
    return b"".join(bytes((len(p.encode()),)) + p.encode() for p in protocols)


def _set_alpn(api: Any, ctx: Any, config: EndpointConfig, check: Callable[[bool, str], None]) -> None:
    """Client: offer ``config.alpn`` (SSL_CTX_set_alpn_protos, 0 on success). Server: a select callback that takes
    the first protocol of the server's list the client offered (SSL_select_next_proto: the server's order decides),
    and on no overlap refuses the handshake (SSL_TLSEXT_ERR_ALERT_FATAL: no_application_protocol) or, with
    alpn_no_overlap "ignore", goes on without ALPN (SSL_TLSEXT_ERR_NOACK)."""
    ours = alpn_wire(config.alpn or ())
    if config.role is Role.CLIENT:
        check(api.SSL_CTX_set_alpn_protos(ctx, ours) == 0, "SSL_CTX_set_alpn_protos")
        return
    refuse = SSL_TLSEXT_ERR_NOACK if config.alpn_no_overlap == "ignore" else SSL_TLSEXT_ERR_ALERT_FATAL

    def select(ssl: Any, offered: bytes) -> tuple[int, bytes]:
        ret, chosen = api.SSL_select_next_proto(ours, offered)
        return (SSL_TLSEXT_ERR_OK, chosen) if ret == OPENSSL_NPN_NEGOTIATED else (refuse, b"")

    api.SSL_CTX_set_alpn_select_cb(ctx, select)


class SslObjects:
    """What one C-API SSL object holds: the ``SSL``, the ``SSL_CTX`` it owns (None when the context is shared and
    someone else frees it), the network half of its BIO pair and its socket. :meth:`close` releases each once, in
    that order (SSL_free also frees the BIOs SSL_set_bio handed over), and may be called again; a ``with`` block
    calls it at its end."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.ssl: Any = None
        self.ctx: Any = None
        self.network: Any = None
        self.sock: socket.socket | None = None

    def close(self) -> None:
        api = self.api
        if self.ssl is not None:
            api.SSL_free(self.ssl)
            self.ssl = None
        if self.network is not None:
            api.BIO_free(self.network)
            self.network = None
        if self.ctx is not None:
            api.SSL_CTX_free(self.ctx)
            self.ctx = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CApiEndpoint(SslObjects, Endpoint):
    """One SSL object of a C-API stack, driven by the harness's pump (or called directly by a C-API case).

    The SSL sits on a BIO pair whose network half the link reads and writes, or, with ``sock``, on that socket
    (SSL_set_fd; the endpoint then has no network half and the pump cannot drive it)."""

    # What do_handshake calls; a case checking an SSL_connect or SSL_accept clause sets it (see as_capi_endpoint).
    handshake_function = "SSL_do_handshake"

    def __init__(self, api: Any, config: EndpointConfig, label: str, shared_ctx: Any = None, *, ctx: Any = None,
                 before_new: Callable[[Any], object] | None = None, set_role: bool = True,
                 host_check: bool | None = None, sock: socket.socket | None = None, bio: bool = True) -> None:
        """``shared_ctx``: an SSL_CTX made by :func:`new_context` for ``config`` and owned by the caller.
        ``ctx``: an SSL_CTX the caller made and hands over (the endpoint frees it); with neither, the endpoint
        makes its own from ``config``. ``before_new(ctx)`` runs before SSL_new. ``set_role=False`` leaves the SSL
        in neither connect nor accept state. ``host_check``: whether a client calls SSL_set1_host (default: when
        ``config`` verifies the peer and checks the host). ``sock``: put the SSL on this socket (SSL_set_fd)
        instead of a BIO pair; the endpoint closes it. ``bio=False`` (without ``sock``): give the SSL no BIO."""
        # Every library function the endpoint calls is noted (see attach_trace), setup calls included.
        super().__init__(TracedApi(api, set()))
        self.role = config.role
        self.label = label
        self.config = config
        self.shared_ctx = shared_ctx
        self.ctx = ctx
        self.sock = sock
        self.trace: Trace | None = None
        self.held_sessions: list[Any] = []  # references taken by session(), given back by close()
        try:
            self._setup(config, before_new, set_role, host_check, bio)
        except Exception:
            self.close()
            raise

    def attach_trace(self, trace: Trace) -> None:
        """From now on note the functions this endpoint calls in ``trace`` (with those it called so far)."""
        trace.functions.update(self.api.sink)
        self.api.sink = trace.functions
        self.trace = trace

    def _check(self, ok: bool, call: str) -> None:
        if not ok:
            raise SetupError(f"{self.label}: {call} failed: {self._reason() or 'no error queue entry'}")

    def _setup(self, config: EndpointConfig, before_new: Callable[[Any], object] | None, set_role: bool,
               host_check: bool | None, bio: bool) -> None:
        api = self.api
        server = config.role is Role.SERVER
        if self.shared_ctx is None and self.ctx is None:
            self.ctx = new_context(api, config)
        ctx = self.ctx if self.shared_ctx is None else self.shared_ctx
        if before_new is not None:
            before_new(ctx)
        self.ssl = api.SSL_new(ctx)
        self._check(self.ssl is not None, "SSL_new")
        if self.sock is not None:
            self._check(api.SSL_set_fd(self.ssl, self.sock.fileno()) == 1, "SSL_set_fd")
        elif bio:
            # The SSL's half buffers what the SSL writes (write_buffer); the network half buffers what the link
            # delivers until the SSL reads it (read_buffer). 0 is the library's default size.
            ret, internal, network = api.BIO_new_bio_pair(config.write_buffer or 0, config.read_buffer or 0)
            self._check(ret == 1, "BIO_new_bio_pair")
            self.network = network
            api.SSL_set_bio(self.ssl, internal, internal)
        if set_role:
            if server:
                api.SSL_set_accept_state(self.ssl)
            else:
                api.SSL_set_connect_state(self.ssl)
        if not server:
            if config.send_sni:
                self._check(api.SSL_set_tlsext_host_name(self.ssl, config.server_name.encode()) == 1,
                            "SSL_set_tlsext_host_name")
            if host_check is None:
                host_check = config.verify_peer and config.check_host
            if host_check:
                self._check(api.SSL_set1_host(self.ssl, config.server_name.encode()) == 1, "SSL_set1_host")
            if config.resume is not None:
                self._check(api.SSL_set_session(self.ssl, config.resume) == 1, "SSL_set_session")

    # --- application side ---------------------------------------------------------------------------------
    def _reason(self) -> str:
        return _reason(self.api)

    def _outcome(self, op: str, args: str, ret: int, data: bytes = b"") -> Outcome:
        error = error_code(self.api.SSL_get_error(self.ssl, ret))
        reason = self._reason() if error in (SslError.SSL_ERROR_SSL, SslError.SSL_ERROR_SYSCALL) else ""
        if not isinstance(error, SslError):
            reason = self._reason() or "SSL_get_error returned a value that is no SSL_ERROR_* code"
        if error is SslError.SSL_ERROR_SYSCALL and not reason:
            reason = f"errno {self.api.errno()}"
        return Outcome(op, ret, error, data if ret > 0 else b"", reason, args)

    def do_handshake(self) -> Outcome:
        """One step of the handshake with the function :attr:`handshake_function` names (SSL_do_handshake unless
        a case chose SSL_connect or SSL_accept)."""
        return self.handshake_with(self.handshake_function)

    def handshake_with(self, function: str) -> Outcome:
        """One call of ``function`` (SSL_do_handshake, SSL_connect or SSL_accept) on the SSL object."""
        if function not in HANDSHAKE_FUNCTIONS:
            raise ValueError(f"{function!r} is not one of {', '.join(HANDSHAKE_FUNCTIONS)}")
        self.api.ERR_clear_error()
        return self._outcome(function, "", getattr(self.api, function)(self.ssl))

    def read(self, size: int) -> Outcome:
        self.api.ERR_clear_error()
        ret, data = self.api.SSL_read(self.ssl, size)
        return self._outcome("SSL_read", str(size), ret, data)

    def peek(self, size: int) -> Outcome:
        self.api.ERR_clear_error()
        ret, data = self.api.SSL_peek(self.ssl, size)
        return self._outcome("SSL_peek", str(size), ret, data)

    def write(self, data: bytes) -> Outcome:
        self.api.ERR_clear_error()
        return self._outcome("SSL_write", str(len(data)), self.api.SSL_write(self.ssl, data))

    def shutdown(self) -> Outcome:
        self.api.ERR_clear_error()
        ret = self.api.SSL_shutdown(self.ssl)
        if ret >= 0:  # SSL_shutdown.pod: 0 and 1 are not errors; SSL_get_error is only for < 0
            return Outcome("SSL_shutdown", ret, SslError.SSL_ERROR_NONE)
        return self._outcome("SSL_shutdown", "", ret)

    def pending(self) -> int:
        return int(self.api.SSL_pending(self.ssl))

    def key_update(self, request_peer: bool) -> Outcome:
        self.api.ERR_clear_error()
        kind = SSL_KEY_UPDATE_REQUESTED if request_peer else SSL_KEY_UPDATE_NOT_REQUESTED
        args = "SSL_KEY_UPDATE_REQUESTED" if request_peer else "SSL_KEY_UPDATE_NOT_REQUESTED"
        ret = self.api.SSL_key_update(self.ssl, kind)
        if ret != 1:
            return Outcome("SSL_key_update", ret, SslError.SSL_ERROR_SSL, reason=self._reason(), args=args)
        # SSL_key_update.pod: the update is sent by the next write or SSL_do_handshake.
        return self._outcome("SSL_do_handshake", "after SSL_key_update", self.api.SSL_do_handshake(self.ssl))

    def renegotiate(self) -> Outcome:
        self.api.ERR_clear_error()
        if self.api.SSL_renegotiate(self.ssl) != 1:
            return Outcome("SSL_renegotiate", 0, SslError.SSL_ERROR_SSL, reason=self._reason())
        return self.handshake_with("SSL_do_handshake")

    def renegotiation_pending(self) -> bool:
        return bool(self.api.SSL_renegotiate_pending(self.ssl))

    def session(self) -> object | None:
        session: object | None = self.api.SSL_get1_session(self.ssl)
        if session is not None:
            self.held_sessions.append(session)
        return session

    def get_shutdown(self) -> int:
        return int(self.api.SSL_get_shutdown(self.ssl))

    def set_shutdown(self, state: int) -> None:
        self.api.SSL_set_shutdown(self.ssl, state)

    def set_verify(self, mode: int, callback: Callable[[bool, int, int], bool] | None) -> None:
        self.api.SSL_set_verify(self.ssl, mode, _verify_callback(self.api, callback))

    def set_options(self, names: tuple[str, ...]) -> int | None:
        mask = None
        for name in names:
            mask = int(self.api.SSL_set_options(self.ssl, getattr(K, name)))
        return mask

    def want_read(self) -> bool:
        return bool(self.api.SSL_want_read(self.ssl))

    def want_write(self) -> bool:
        return bool(self.api.SSL_want_write(self.ssl))

    def session_reused(self) -> bool:
        return bool(self.api.SSL_session_reused(self.ssl))

    def negotiated_version(self) -> str | None:
        version = self.api.SSL_get_version(self.ssl)
        text = version.decode() if isinstance(version, bytes) else version
        return str(text) if text and text != "unknown" else None

    def alpn_selected(self) -> str | None:
        return self.api.SSL_get0_alpn_selected(self.ssl).decode(errors="replace") or None

    def server_name_seen(self) -> str | None:
        name = self.api.SSL_get_servername(self.ssl, TLSEXT_NAMETYPE_host_name)
        return None if name is None else str(name.decode() if isinstance(name, bytes) else name)

    def negotiated_cipher(self) -> str | None:
        cipher = self.api.SSL_get_current_cipher(self.ssl)
        if cipher is None:
            return None
        name = self.api.SSL_CIPHER_get_name(cipher)
        text = str(name.decode() if isinstance(name, bytes) else name)
        return _IANA_TLS13.get(text, text)

    # --- network side -------------------------------------------------------------------------------------
    def _network(self) -> Any:
        if self.network is None:
            raise TypeError(f"{self.label} is on a socket (or closed): it has no network BIO for the link to move")
        return self.network

    def take_outgoing(self, limit: int | None = None) -> bytes:
        pending = self.outgoing_pending()
        if pending <= 0:
            return b""
        ret, data = self.api.BIO_read(self._network(), pending if limit is None else min(limit, pending))
        return bytes(data) if ret > 0 else b""

    def outgoing_pending(self) -> int:
        return int(self.api.BIO_ctrl_pending(self._network()))

    def put_incoming(self, data: bytes) -> int:
        if not data:
            return 0
        # BIO_s_bio: a write into a pair takes what fits and reports the count; a full pair reports a retry (-1).
        ret = self.api.BIO_write(self._network(), data)
        return max(0, int(ret))

    def put_eof(self) -> None:
        self.api.BIO_shutdown_wr(self._network())

    # --- bytes by hand (C-API cases that inspect or alter what goes over the wire) -----------------------------
    @property
    def net(self) -> Any:
        """The network half of the BIO pair (what a case reads the SSL's output from and writes its input to)."""
        return self.network

    @net.setter
    def net(self, bio: Any) -> None:  # None: the case freed the network half itself
        self.network = bio

    def outgoing(self) -> int:
        """Bytes the SSL has written and nobody has taken yet."""
        return self.outgoing_pending()

    def take(self) -> bytes:
        """Everything the SSL has written so far."""
        return self.take_outgoing()

    def give(self, data: bytes) -> None:
        """Deliver ``data`` to the SSL; all of it must fit into the BIO pair."""
        if data:
            assert self.api.BIO_write(self._network(), data) == len(data), "the BIO pair did not take all bytes"

    def close(self) -> None:
        while self.held_sessions:
            self.api.SSL_SESSION_free(self.held_sessions.pop())
        super().close()


def as_capi_endpoint(endpoint: Endpoint) -> CApiEndpoint:
    """``endpoint`` as a C-API endpoint (for cases with capability ``c_api`` that call SSL_connect / SSL_accept or
    reach the SSL object); a binding's endpoint is a harness error."""
    if not isinstance(endpoint, CApiEndpoint):
        not_capi = getattr(type(endpoint), "not_capi_reason", None)
        if not_capi:  # a C-API stack whose library has no BIO pair (gnutls): the case is not applicable to it
            raise Unsupported(f"{endpoint.label}: {not_capi}")
        raise TypeError(f"{endpoint.label} is not a C-API endpoint; the case must need capability 'c_api'")
    return endpoint
