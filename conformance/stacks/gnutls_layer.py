"""The endpoint of the ``gnutls`` stack: an SSL of GnuTLS's OpenSSL compatibility layer (libgnutls-openssl.so.27)
on one end of a non-blocking ``socketpair()``, the other end its network side, which the harness's pump drives.

Theory of operation
-------------------
The layer has no BIO pair, no memory BIO and no SSL_do_handshake; it has SSL_set_fd, SSL_connect, SSL_accept,
SSL_read, SSL_write, SSL_shutdown, SSL_pending, SSL_get_error and ERR_get_error (``nm -D``). :class:`LayerEndpoint`
is a :class:`~conformance.stacks.capi_endpoint.CApiEndpoint` over the stack's C API (``GnutlsStack.capi``) whose SSL
sits on the socketpair (SSL_set_fd) instead of a BIO pair, so the C-API cases run on the layer's SSL; a case that
calls a function the layer lacks is not applicable with that function's name (``MissingSymbol``).

Every outcome is the layer's raw answer: the return value of the call and ``SSL_get_error(ssl, ret)`` as the layer
returns it (SSL_ERROR_ZERO_RETURN for every ``ret <= 0``, extra/gnutls_openssl.c), with the layer's
``ERR_get_error()`` (the negated GnuTLS error code, a global last-error value, not a queue) and its
``ERR_error_string`` text as the reason. Where those answers differ from the pages the cases fail; that is the
finding, pinned in conformance/expectations/gnutls.toml.

The harness still has to know when to call again: ERR_get_error() 28 (GNUTLS_E_AGAIN) is the layer's "try again".
The outcome carries it as :attr:`LayerOutcome.pump_again`, which only the pump reads; ``Outcome.retry`` (and every
assertion of a case) stays with SSL_get_error's raw code. Two more things are the harness's, not the cases':

* the layer may answer 28 while its descriptor is readable: a TLS 1.3 NewSessionTicket gives GNUTLS_E_AGAIN with the
  next record already queued, and a partial record followed by end of file gives 28 once before the error. An
  application polling the descriptor would call again; so does the endpoint, at once (at most a few times), else
  the pump, seeing nothing in flight, would prove a deadlock. Each such earlier call is noted in the trace;
* the layer has no ERR_clear_error (nor a queue to clear): reading ERR_get_error after each call resets it.

The layer is in-process and synchronous: when a call returns it has done all it could with the bytes there.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import fcntl
import select
import socket
import termios
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.capi.libssl import Handle
from conformance.outcome import Outcome, Role, SslError, error_code
from conformance.stacks.base import EndpointConfig, Unsupported
from conformance.stacks.capi_endpoint import CApiEndpoint
from engine.ssl import constants as K

__all__ = ["GNUTLS_E_AGAIN", "LAYER_OPTIONS", "Layer", "LayerEndpoint", "LayerOutcome"]

GNUTLS_E_AGAIN = 28  # the layer's ERR_get_error() is -(GnuTLS error code): gnutls/gnutls.h
# The only SSL_OP_ bits gnutls/openssl.h defines, with the header's values (not OpenSSL's): what a C program compiled
# against the layer can pass to SSL_CTX_set_options.
_AGAIN_LIMIT = 8  # calls of one operation while the descriptor stays readable and the layer still says "again"
LAYER_OPTIONS = {"SSL_OP_ALL": 0x000FFFFF, "SSL_OP_NO_TLSv1": 0x0400000}

_P = ctypes.c_void_p
_I = ctypes.c_int
_SIGNATURES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "SSL_library_init": (_I, ()),
    "SSLv23_client_method": (_P, ()),
    "SSLv23_server_method": (_P, ()),
    "SSL_CTX_new": (_P, (_P,)),
    "SSL_CTX_free": (None, (_P,)),
    "SSL_CTX_set_verify": (None, (_P, _I, _P)),
    "SSL_CTX_use_certificate_file": (_I, (_P, ctypes.c_char_p, _I)),
    "SSL_CTX_use_PrivateKey_file": (_I, (_P, ctypes.c_char_p, _I)),
    "SSL_new": (_P, (_P,)),
    "SSL_free": (None, (_P,)),
    "SSL_set_fd": (_I, (_P, _I)),
    "SSL_connect": (_I, (_P,)),
    "SSL_accept": (_I, (_P,)),
    "SSL_read": (_I, (_P, ctypes.c_char_p, _I)),
    "SSL_write": (_I, (_P, ctypes.c_char_p, _I)),
    "SSL_shutdown": (_I, (_P,)),
    "SSL_get_error": (_I, (_P, _I)),
    "SSL_get_current_cipher": (_P, (_P,)),
    "SSL_CIPHER_get_version": (ctypes.c_char_p, (_P,)),
    "ERR_get_error": (ctypes.c_ulong, ()),
    "ERR_error_string": (ctypes.c_char_p, (ctypes.c_ulong, _P)),
}


class Layer:
    """The layer's functions as gnutls/openssl.h declares them (its SSL_METHOD constructors are the old SSLv23_*
    ones), on a CDLL of its own so that the declarations do not touch the C-API tier's."""

    def __init__(self, path: str) -> None:
        self._lib = ctypes.CDLL(path)
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(self._lib, name)
            fn.restype, fn.argtypes = restype, argtypes
        self._lib.SSL_library_init()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        fn: Callable[..., Any] = getattr(self._lib, name)
        return fn

    def read(self, ssl: int, num: int) -> tuple[int, bytes, int]:
        """SSL_read, then ERR_get_error: (ret, data, packed error)."""
        buf = ctypes.create_string_buffer(max(num, 1))
        ret = int(self._lib.SSL_read(ssl, buf, num))
        return ret, buf.raw[:max(ret, 0)], int(self._lib.ERR_get_error())


def _queued(sock: socket.socket) -> int:
    """Bytes waiting in the receive queue of ``sock`` (FIONREAD)."""
    queued = array.array("i", [0])
    fcntl.ioctl(sock.fileno(), termios.FIONREAD, queued)
    return queued[0]


def _refuse(config: EndpointConfig) -> str | None:
    """What of ``config`` the layer has no call for (None: it can honour all of it)."""
    asked = {
        "min_version / max_version (no SSL_CTX_set_min/max_proto_version)": config.min_version or config.max_version,
        "ciphersuites (no SSL_CTX_set_ciphersuites)": config.ciphersuites is not None,
        "cipher_list (SSL_CTX_set_cipher_list is a no-op in extra/gnutls_openssl.c)": config.cipher_list is not None,
        "groups (no SSL_CTX_set1_groups_list)": config.groups is not None,
        "alpn (no SSL_CTX_set_alpn_protos)": config.alpn is not None,
        "resume (no SSL_get1_session / SSL_set_session)": config.resume is not None,
        "verify_callback (the layer stores SSL_CTX_set_verify's callback and never calls it)":
            config.verify_callback is not None,
        "verify_depth (no SSL_CTX_set_verify_depth)": config.verify_depth is not None,
        "options " + ", ".join(sorted(set(config.options) - set(LAYER_OPTIONS))) + " (gnutls/openssl.h defines only "
        "SSL_OP_ALL and SSL_OP_NO_TLSv1)": bool(set(config.options) - set(LAYER_OPTIONS)),
        "partial_write (no SSL_CTX_set_mode effect)": config.partial_write is not None,
        "write_buffer / read_buffer (the layer has no BIO pair whose buffer could be sized; its SSL is on a "
        "descriptor)":
            config.write_buffer is not None or config.read_buffer is not None,
        "ignore_unexpected_eof (no SSL_OP_IGNORE_UNEXPECTED_EOF)": config.ignore_unexpected_eof,
        "allow_client_renegotiation (no renegotiation)": config.allow_client_renegotiation,
    }
    named = [what for what, on in asked.items() if on]
    return "; ".join(named) if named else None


@dataclass(frozen=True)
class LayerOutcome(Outcome):
    """An outcome of the layer: ``ret`` and ``error`` are its raw answers; ``pump_again`` is the harness's signal
    that the layer's ERR_get_error() was 28 (GNUTLS_E_AGAIN), so the pump calls again. Cases never read it."""

    pump_again: bool = False


class LayerEndpoint(CApiEndpoint):
    """The layer's SSL on one end of a non-blocking socketpair (SSL_set_fd); the other end is the network side.
    Handshakes go through SSL_connect / SSL_accept (the layer has no SSL_do_handshake)."""

    def __init__(self, api: Any, layer: Layer, config: EndpointConfig, label: str) -> None:
        refused = _refuse(config)
        if refused:
            raise Unsupported(f"GnuTLS's OpenSSL compatibility layer cannot be configured for: {refused}")
        self._layer = layer
        self._net, app = socket.socketpair()
        self._net.setblocking(False)
        app.setblocking(False)
        try:
            ctx = self._new_context(api, layer, config, label)
        except Exception:
            self._net.close()
            app.close()
            raise
        try:
            super().__init__(api, config, label, ctx=ctx, sock=app, set_role=False)
        except Exception:
            self._net.close()
            raise
        self.handshake_function = "SSL_accept" if config.role is Role.SERVER else "SSL_connect"

    @staticmethod
    def _new_context(api: Any, layer: Layer, config: EndpointConfig, label: str) -> Any:
        """An SSL_CTX as an application of the layer makes one: the layer's SSLv23 method of the role (it has no
        TLS_*_method), the server's certificate and key, the verify mode and the SSL_OP_ bits asked for."""
        server = config.role is Role.SERVER
        address = layer.SSL_CTX_new(layer.SSLv23_server_method() if server else layer.SSLv23_client_method())
        if not address:
            raise RuntimeError(f"{label}: SSL_CTX_new of the layer returned NULL")
        ctx = Handle("SSL_CTX", address)
        identity = (config.pki.server_identity(config.server_key) if server
                    else config.pki.client if config.present_certificate else None)
        # a client's is presented when asked (capability present_client_certificate)
        if identity is not None and (
                api.SSL_CTX_use_certificate_file(ctx, str(identity.cert_path).encode(), K.SSL_FILETYPE_PEM) != 1
                or api.SSL_CTX_use_PrivateKey_file(ctx, str(identity.key_path).encode(), K.SSL_FILETYPE_PEM) != 1):
            api.SSL_CTX_free(ctx)
            raise RuntimeError(f"{label}: the layer refused the certificate or key of {identity.cert_path}")
        # What an application asks for, as it would ask it; the layer stores the mode and never uses it (observed,
        # docs/na-audit.md): verification failures are the cases' to see.
        if config.verify_peer:
            fail = K.SSL_VERIFY_FAIL_IF_NO_PEER_CERT if server and config.require_client_certificate else 0
            api.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER | fail, None)
        for name in config.options:  # capability 'ssl_options': the header's bits (_refuse turned the others away)
            api.SSL_CTX_set_options(ctx, LAYER_OPTIONS[name])
        return ctx

    def _setup(self, config: EndpointConfig, before_new: Callable[[Any], object] | None, set_role: bool,
               host_check: bool | None, bio: bool) -> None:
        # No SSL_set_accept_state, SSL_set_tlsext_host_name or SSL_set1_host in the layer: its SSL takes its role
        # from the method and checks no name (SSL_connect sends the ClientHello GnuTLS builds).
        api = self.api
        self.ssl = api.SSL_new(self.ctx)
        self._check(self.ssl is not None, "SSL_new")
        assert self.sock is not None
        self._check(api.SSL_set_fd(self.ssl, self.sock.fileno()) == 1, "SSL_set_fd")

    # --- application side: the layer's raw answers --------------------------------------------------------
    def _reason(self) -> str:
        return ""  # the layer has no error queue to peek at; its one error value is read in _layer_outcome

    def _layer_outcome(self, op: str, args: str, ret: int, data: bytes = b"") -> LayerOutcome:
        """``ret``, SSL_get_error(ssl, ret) and ERR_get_error() as the layer returns them."""
        error = error_code(self.api.SSL_get_error(self.ssl, ret))
        packed = int(self.api.ERR_get_error())  # also resets the layer's last error (it has no ERR_clear_error)
        reason = ""
        if packed:
            text = self._layer.ERR_error_string(packed, None)
            reason = f"ERR_get_error {packed}: {(text or b'').decode(errors='replace')}"
        return LayerOutcome(op, ret, error, data if ret > 0 else b"", reason, args,
                            pump_again=packed == GNUTLS_E_AGAIN)

    def _again(self, outcome: LayerOutcome, calls: int) -> bool:
        """GNUTLS_E_AGAIN although the descriptor is readable (bytes or end of file wait there, as poll() would tell
        an application): call again at once, at most a few times, noting each earlier answer in the trace."""
        if not outcome.pump_again or self.sock is None or calls >= _AGAIN_LIMIT:
            return False
        if not select.select([self.sock], [], [], 0)[0]:
            return False
        if self.trace is not None:
            self.trace.note(f"{self.label}: {outcome}; the descriptor is readable, called again")
        return True

    def handshake_with(self, function: str) -> Outcome:
        call = getattr(self.api, function)  # SSL_do_handshake: the layer has none (MissingSymbol: not applicable)
        calls = 0
        while True:
            outcome = self._layer_outcome(function, "", int(call(self.ssl)))
            calls += 1
            if not self._again(outcome, calls):
                return outcome

    def read(self, size: int) -> Outcome:
        calls = 0
        while True:
            ret, data = self.api.SSL_read(self.ssl, size)
            outcome = self._layer_outcome("SSL_read", str(size), ret, data)
            calls += 1
            if not self._again(outcome, calls):
                return outcome

    def write(self, data: bytes) -> Outcome:
        return self._layer_outcome("SSL_write", str(len(data)), self.api.SSL_write(self.ssl, data))

    def shutdown(self) -> Outcome:
        ret = self.api.SSL_shutdown(self.ssl)
        if ret >= 0:  # SSL_shutdown.pod: 0 and 1 are no errors (SSL_get_error is for < 0); the layer says 1 at once
            self.api.ERR_get_error()
            return LayerOutcome("SSL_shutdown", ret, SslError.SSL_ERROR_NONE)
        return self._layer_outcome("SSL_shutdown", "", ret)

    def pending(self) -> int:
        return int(self.api.SSL_pending(self.ssl))  # capability 'pending': the layer's own count

    def negotiated_version(self) -> str | None:
        """SSL_CIPHER_get_version(SSL_get_current_cipher()): GnuTLS's name of the version ("TLS1.3"), the only
        version getter the layer has (no SSL_get_version), spelled as OpenSSL does."""
        self.api.sink.update(("SSL_get_current_cipher", "SSL_CIPHER_get_version"))
        cipher = self._layer.SSL_get_current_cipher(_pointer(self.ssl))
        name = self._layer.SSL_CIPHER_get_version(cipher) if cipher else None
        if not name:
            return None
        text = bytes(name).decode(errors="replace")
        return {"TLS1.3": "TLSv1.3", "TLS1.2": "TLSv1.2", "TLS1.1": "TLSv1.1", "TLS1.0": "TLSv1"}.get(text, text)

    def negotiated_cipher(self) -> str | None:
        """Not compared: the layer's SSL_CIPHER_get_name answers GnuTLS's own suite names
        ("ECDHE_RSA_AES_128_GCM_SHA256", observed), neither OpenSSL's nor IANA's, and this adapter has no table
        from one to the other (``Endpoint.negotiated_cipher``: None)."""
        return None

    # --- network side: the other end of the socketpair ------------------------------------------------------
    def take_outgoing(self, limit: int | None = None) -> bytes:
        try:
            return self._net.recv(limit or 1 << 20)
        except OSError:  # nothing there (BlockingIOError) or closed
            return b""

    def outgoing_pending(self) -> int:
        return _queued(self._net) if self._net.fileno() >= 0 else 0

    def put_incoming(self, data: bytes) -> int:
        try:
            return self._net.send(data)
        except BlockingIOError:
            return 0

    def put_eof(self) -> None:
        with contextlib.suppress(OSError):
            self._net.shutdown(socket.SHUT_WR)

    def give(self, data: bytes) -> None:
        if data:
            assert self._net.send(data) == len(data), "the socketpair did not take all bytes"

    def close(self) -> None:
        super().close()
        self._net.close()


def _pointer(handle: Handle) -> int:
    """The C pointer ``handle`` names, for the layer's own bindings (:class:`Layer`)."""
    return int(getattr(handle, "_address"))  # noqa: B009 - Handle keeps its pointer in a slot of that name
