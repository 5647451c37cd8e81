"""The endpoint of the ``gnutls`` stack: an SSL of GnuTLS's OpenSSL compatibility layer (libgnutls-openssl.so.27)
on one end of a non-blocking ``socketpair()``, the other end its network side, which the harness's pump drives.

The layer has no BIO pair, no memory BIO and no SSL_do_handshake; it has SSL_set_fd, SSL_connect, SSL_accept,
SSL_read, SSL_write and SSL_shutdown. Its SSL_get_error() answers SSL_ERROR_ZERO_RETURN for every return value <= 0
(extra/gnutls_openssl.c), so a call that returns 0 is told apart by the layer's ERR_get_error() (the negated GnuTLS
error code): 28 (GNUTLS_E_AGAIN) a retry, reported here as SSL_ERROR_WANT_READ; 0 after SSL_read the peer's
close_notify (SSL_ERROR_ZERO_RETURN); anything else a failure (SSL_ERROR_SSL with ERR_error_string's text). Those
codes are this adapter's reading, not the layer's answers, so the stack claims no capability that needs raw codes.
The layer is in-process and synchronous: when a call returns it has done all it could with the bytes there.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import fcntl
import socket
import termios
from collections.abc import Callable
from typing import Any

from conformance.outcome import Outcome, Role, SslError
from conformance.stacks.base import Endpoint, EndpointConfig, Unsupported
from engine.ssl import constants as K

__all__ = ["GNUTLS_E_AGAIN", "Layer", "LayerEndpoint"]

GNUTLS_E_AGAIN = 28  # the layer's ERR_get_error() is -(GnuTLS error code): gnutls/gnutls.h

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
        "options (no SSL_OP_ bit of the layer has an effect)": bool(config.options),
        "partial_write (no SSL_CTX_set_mode effect)": config.partial_write is not None,
        "write_buffer / read_buffer (the transport is a socketpair)":
            config.write_buffer is not None or config.read_buffer is not None,
        "ignore_unexpected_eof (no SSL_OP_IGNORE_UNEXPECTED_EOF)": config.ignore_unexpected_eof,
        "allow_client_renegotiation (no renegotiation)": config.allow_client_renegotiation,
        "present_certificate (no client certificate is loaded by this adapter)":
            config.role is Role.CLIENT and bool(config.present_certificate),
    }
    named = [what for what, on in asked.items() if on]
    return "; ".join(named) if named else None


NOT_A_CAPI_ENDPOINT = (
    "the C-API cases reach an SSL on a BIO pair (BIO_new_bio_pair, BIO_s_mem) and drive it with SSL_do_handshake; "
    "GnuTLS's OpenSSL compatibility layer has none of the three, so its SSL lives on a socketpair descriptor"
)


class LayerEndpoint(Endpoint):
    """The layer's SSL on one end of a non-blocking socketpair; the other end is the network side."""

    # read by conformance.stacks.capi_endpoint.as_capi_endpoint: a case that needs an SSL on a BIO pair is not
    # applicable to this endpoint
    not_capi_reason = NOT_A_CAPI_ENDPOINT

    def __init__(self, layer: Layer, config: EndpointConfig, label: str) -> None:
        refused = _refuse(config)
        if refused:
            raise Unsupported(f"GnuTLS's OpenSSL compatibility layer cannot be configured for: {refused}")
        self.role, self.label, self._layer = config.role, label, layer
        server = config.role is Role.SERVER
        self._ctx = layer.SSL_CTX_new(layer.SSLv23_server_method() if server else layer.SSLv23_client_method())
        if not self._ctx:
            raise RuntimeError(f"{label}: SSL_CTX_new of the layer returned NULL")
        if server:
            identity = config.pki.server_identity(config.server_key)
            if (layer.SSL_CTX_use_certificate_file(self._ctx, str(identity.cert_path).encode(),
                                                   K.SSL_FILETYPE_PEM) != 1
                    or layer.SSL_CTX_use_PrivateKey_file(self._ctx, str(identity.key_path).encode(),
                                                         K.SSL_FILETYPE_PEM) != 1):
                layer.SSL_CTX_free(self._ctx)
                raise RuntimeError(f"{label}: the layer refused the server's certificate or key")
        # What an application asks for, as it would ask it; the layer stores the mode and never uses it (observed,
        # docs/na-audit.md): verification failures are the cases' to see.
        if config.verify_peer:
            fail = K.SSL_VERIFY_FAIL_IF_NO_PEER_CERT if server and config.require_client_certificate else 0
            layer.SSL_CTX_set_verify(self._ctx, K.SSL_VERIFY_PEER | fail, None)
        self._net, self._app = socket.socketpair()
        self._net.setblocking(False)
        self._app.setblocking(False)
        self._ssl = layer.SSL_new(self._ctx)
        if not self._ssl or layer.SSL_set_fd(self._ssl, self._app.fileno()) != 1:
            self._release()
            raise RuntimeError(f"{label}: SSL_new / SSL_set_fd of the layer failed")
        self._closed = False

    def _outcome(self, op: str, ret: int, packed: int | None = None) -> Outcome:
        if ret > 0:
            return Outcome(op, ret, SslError.SSL_ERROR_NONE)
        packed = int(self._layer.ERR_get_error()) if packed is None else packed
        if packed == GNUTLS_E_AGAIN:
            return Outcome(op, ret, SslError.SSL_ERROR_WANT_READ)
        if packed == 0 and op == "SSL_read":
            return Outcome(op, ret, SslError.SSL_ERROR_ZERO_RETURN)
        text = self._layer.ERR_error_string(packed, None)
        return Outcome(op, ret, SslError.SSL_ERROR_SSL, reason=(text or b"").decode(errors="replace"))

    def __getattr__(self, name: str) -> Any:
        if name in ("ssl", "network", "api"):  # what the C-API cases take from a CApiEndpoint
            raise Unsupported(f"{self.label}: {NOT_A_CAPI_ENDPOINT}")
        raise AttributeError(name)

    def negotiated_version(self) -> str | None:
        """SSL_CIPHER_get_version(SSL_get_current_cipher()): GnuTLS's name of the version ("TLS1.3"), the only
        version getter the layer has (no SSL_get_version), spelled as OpenSSL does."""
        cipher = self._layer.SSL_get_current_cipher(self._ssl)
        name = self._layer.SSL_CIPHER_get_version(cipher) if cipher else None
        if not name:
            return None
        text = bytes(name).decode(errors="replace")
        return {"TLS1.3": "TLSv1.3", "TLS1.2": "TLSv1.2", "TLS1.1": "TLSv1.1", "TLS1.0": "TLSv1"}.get(text, text)

    def do_handshake(self) -> Outcome:
        if self.role is Role.SERVER:
            return self._outcome("SSL_accept", int(self._layer.SSL_accept(self._ssl)))
        return self._outcome("SSL_connect", int(self._layer.SSL_connect(self._ssl)))

    def read(self, size: int) -> Outcome:
        ret, data, packed = self._layer.read(self._ssl, size)
        while ret == 0 and packed == GNUTLS_E_AGAIN and _queued(self._app) > 0:
            # a NewSessionTicket gives GNUTLS_E_AGAIN even with the next record already there; libssl's SSL_read
            # goes on to it, so the endpoint does (else the pump, seeing nothing in flight, proves a deadlock)
            ret, data, packed = self._layer.read(self._ssl, size)
        if ret > 0:
            return Outcome("SSL_read", ret, SslError.SSL_ERROR_NONE, data)
        return self._outcome("SSL_read", ret, packed)

    def write(self, data: bytes) -> Outcome:
        return self._outcome("SSL_write", int(self._layer.SSL_write(self._ssl, data, len(data))))

    def shutdown(self) -> Outcome:
        ret = int(self._layer.SSL_shutdown(self._ssl))
        if ret >= 0:  # 1 at once, after sending close_notify (observed); no SSL_get_error worth reading
            return Outcome("SSL_shutdown", ret, SslError.SSL_ERROR_NONE)
        return self._outcome("SSL_shutdown", ret)

    # --- network side ---------------------------------------------------------------------------------------
    def take_outgoing(self, limit: int | None = None) -> bytes:
        try:
            return self._net.recv(limit or 1 << 20)
        except BlockingIOError:
            return b""

    def outgoing_pending(self) -> int:
        return _queued(self._net)

    def put_incoming(self, data: bytes) -> int:
        try:
            return self._net.send(data)
        except BlockingIOError:
            return 0

    def put_eof(self) -> None:
        with contextlib.suppress(OSError):
            self._net.shutdown(socket.SHUT_WR)

    def _release(self) -> None:
        if self._ssl:
            self._layer.SSL_free(self._ssl)
        self._layer.SSL_CTX_free(self._ctx)
        self._net.close()
        self._app.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._release()
