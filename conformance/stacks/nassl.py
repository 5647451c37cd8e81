"""nassl's OpenSSL builds (SSLyze's OpenSSL wrapper): OpenSSL 1.1.1 (``nassl._nassl``) and a legacy OpenSSL 1.0.2
(``nassl._nassl_legacy``), both driven through their own BIO pair, client role only.

nassl's ``SslClient`` classes own a socket; the adapter uses the objects underneath them, which are thin wrappers of
the C API: ``SSL_CTX(method)``, ``SSL(ctx)`` with ``set_connect_state``, and ``BIO.make_bio_pair`` (the SSL's half
set with ``set_bio``, the other half is the network side). ``do_handshake`` / ``read`` / ``write`` / ``shutdown`` raise
``WantReadError`` / ``WantWriteError`` / ``WantX509LookupError`` for the retry codes and ``OpenSSLError`` (with the
error-queue text) otherwise; SSL_ERROR_ZERO_RETURN and an empty-queue SSL_ERROR_SYSCALL are ``SslError`` with fixed
texts (nassl_errors.c), mapped back. The legacy module raises the modern module's exception classes.
nassl builds no server (its modules cannot load a server certificate into an accepting SSL), so both stacks are
clients only and meet every server stack in the interoperability cases. Versions are read from the version text
compiled into each module (nassl exposes no ``OpenSSL_version``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

from conformance.outcome import Outcome, Role, SslError
from conformance.stacks._memory import bounded_take
from conformance.stacks.base import (
    Endpoint,
    EndpointConfig,
    StackAdapter,
    StackUnavailable,
    Unsupported,
    capability_set,
)

__all__ = ["NasslLegacyStack", "NasslStack"]

# SSL_OP_NO_* of OpenSSL 1.0.2 / 1.1.1 (ssl.h)
_OP_NO_SSLv3 = 0x02000000
_OP_NO_TLSv1 = 0x04000000
_OP_NO_TLSv1_2 = 0x08000000
_OP_NO_TLSv1_1 = 0x10000000
_OP_NO_TLSv1_3 = 0x20000000
# the SSL_OP_ names EndpointConfig.options may ask for, with their ssl.h values (the same in 1.0.2 and 1.1.1), set
# with nassl's SSL.set_options (SSL_set_options); NO_TLSv1_3 and NO_RENEGOTIATION exist in 1.1.1 only
_OPTIONS = {"SSL_OP_NO_TICKET": 0x4000, "SSL_OP_NO_COMPRESSION": 0x20000, "SSL_OP_CIPHER_SERVER_PREFERENCE": 0x400000,
            "SSL_OP_NO_SSLv3": _OP_NO_SSLv3, "SSL_OP_NO_TLSv1": _OP_NO_TLSv1, "SSL_OP_NO_TLSv1_1": _OP_NO_TLSv1_1,
            "SSL_OP_NO_TLSv1_2": _OP_NO_TLSv1_2}
_OPTIONS_1_1_1 = {**_OPTIONS, "SSL_OP_NO_TLSv1_3": _OP_NO_TLSv1_3, "SSL_OP_NO_RENEGOTIATION": 0x40000000}
_SSLV23 = 0  # nassl's OpenSslVersionEnum.SSLV23: the version-flexible method
_VERIFY_NONE, _VERIFY_PEER = 0, 1
_FILETYPE_PEM = 1
_MODE_ENABLE_PARTIAL_WRITE = 0x1
_VERSION_TEXT = re.compile(rb"OpenSSL \d+\.\d+\.\d+[a-z]* +\d+ [A-Z][a-z]{2} \d{4}")


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise StackUnavailable(f"{name} is not importable ({exc}): pip install nassl") from exc


class NasslEndpoint(Endpoint):
    def __init__(self, stack: _NasslBase, config: EndpointConfig, label: str) -> None:
        if config.role is not Role.CLIENT:
            raise Unsupported(f"{stack.name}: nassl offers the client role only")
        for field, cap in (("write_buffer", "bounded_write_buffer"), ("read_buffer", "bounded_write_buffer")):
            if getattr(config, field) is not None:
                raise Unsupported(f"{stack.name}: nassl's BIO pair has a fixed size (capability {cap})")
        if config.ignore_unexpected_eof:
            raise Unsupported(f"{stack.name}: SSL_OP_IGNORE_UNEXPECTED_EOF does not exist before OpenSSL 3.0")
        if config.ciphersuites is not None and not stack.modern:
            raise Unsupported(f"{stack.name}: OpenSSL 1.0.2 has no TLS 1.3 cipher suites")
        if config.groups is not None and not stack.modern:
            raise Unsupported(f"{stack.name}: the legacy module has no set1_groups")
        if config.verify_callback is not None:
            raise Unsupported(f"{stack.name}: SSL_CTX.set_verify takes the mode only (capability verify_callback)")
        known = _OPTIONS_1_1_1 if stack.modern else _OPTIONS
        unknown = [name for name in config.options if name not in known]
        if unknown:
            raise Unsupported(f"{stack.name}: {', '.join(unknown)} not in this OpenSSL's ssl.h "
                              "(capability ssl_options)")
        if config.alpn is not None:
            raise Unsupported(f"{stack.name}: nassl binds no SSL_set_alpn_protos (capability alpn)")
        mod = stack.module
        self.mod = mod
        self.known_options = known
        self.errors = _import("nassl._nassl")  # the legacy module raises the exception classes of the modern one
        self.role = config.role
        self.label = label
        ctx = mod.SSL_CTX(_SSLV23)
        pki = config.pki
        ctx.set_verify(_VERIFY_PEER if config.verify_peer else _VERIFY_NONE)
        ctx.load_verify_locations(str(pki.other_ca_path if config.trust_other_ca else pki.ca_path))
        if config.present_certificate:
            ctx.use_certificate_chain_file(str(pki.client.cert_path))
            ctx.use_PrivateKey_file(str(pki.client.key_path), _FILETYPE_PEM)
        else:
            # nassl installs a client-certificate callback that answers every CertificateRequest with
            # SSL_ERROR_WANT_X509_LOOKUP (so SSLyze learns a server asks); without it OpenSSL answers with an empty
            # Certificate, the library's own behaviour the cases check
            ctx.set_client_cert_cb_NULL()
        self.ssl = mod.SSL(ctx)
        self._ctx = ctx  # the SSL holds a reference in C, but keep the Python object alive too
        self.ssl.set_connect_state()
        if config.resume is not None:  # SSL.set_session: SSL_set_session before the handshake
            if not isinstance(config.resume, mod.SSL_SESSION):
                raise TypeError(f"{label}: EndpointConfig.resume is {type(config.resume).__name__}, not the "
                                f"SSL_SESSION of an earlier {stack.name} client (Endpoint.session)")
            self.ssl.set_session(config.resume)
        options = _OP_NO_SSLv3 | _OP_NO_TLSv1 | _OP_NO_TLSv1_1
        if config.min_version == "TLSv1.3":
            if not stack.modern:
                raise Unsupported(f"{stack.name}: OpenSSL 1.0.2 has no TLS 1.3")
            options |= _OP_NO_TLSv1_2
        if config.max_version == "TLSv1.2" and stack.modern:
            options |= _OP_NO_TLSv1_3
        for name in config.options:
            options |= known[name]
        self.ssl.set_options(options)
        if config.partial_write:
            self.ssl.set_mode(_MODE_ENABLE_PARTIAL_WRITE)
        unknown_groups = [g for g in config.groups or () if g not in _GROUP_NIDS]
        if unknown_groups:  # our table's gap, not the library's refusal: an error, never "not applicable"
            raise LookupError(f"harness gap: conformance/stacks/nassl.py has no NID for {unknown_groups}")
        try:
            if config.cipher_list is not None:
                self.ssl.set_cipher_list(":".join(config.cipher_list))
            if config.ciphersuites is not None:
                self.ssl.set_ciphersuites(":".join(config.ciphersuites))
            if config.groups is not None:
                self.ssl.set1_groups([_group_nid(g) for g in config.groups])
        except (self.errors.OpenSSLError, ValueError, TypeError) as exc:
            raise Unsupported(f"{stack.name}: the library refused the configuration: {exc}") from exc
        if config.send_sni:
            self.ssl.set_tlsext_host_name(config.server_name)
        self.internal = mod.BIO()
        self.network = mod.BIO()
        mod.BIO.make_bio_pair(self.internal, self.network)
        self.ssl.set_bio(self.internal)
        self.ssl.set_network_bio_to_free_when_dealloc(self.network)
        self._out = bytearray()
        self._in = bytearray()  # bytes from the peer the BIO pair had no room for yet
        self._eof = False

    def _run(self, op: str, args: str, fn: Any) -> Outcome:
        mod = self.errors
        self._feed()
        try:
            ret, data = fn()
        except mod.WantReadError:
            if self._eof and not self._in:
                return Outcome(op, -1, SslError.SSL_ERROR_SYSCALL, args=args,
                               reason="the transport ended (the BIO pair's peer half was closed)")
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_READ, args=args)
        except mod.WantWriteError:
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_WRITE, args=args)
        except mod.WantX509LookupError:
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_X509_LOOKUP, args=args)
        except mod.OpenSSLError as exc:
            text = str(exc.args[0] if exc.args else exc)
            # nassl_errors.c: SSL_ERROR_ZERO_RETURN and SSL_ERROR_SYSCALL with an empty queue become these texts
            if text == "Connection was shut down by peer":
                return Outcome(op, 0, SslError.SSL_ERROR_ZERO_RETURN, args=args, reason=text)
            if text == "An EOF was observed that violates the protocol":
                return Outcome(op, 0, SslError.SSL_ERROR_SYSCALL, args=args, reason=text)
            return Outcome(op, -1, SslError.SSL_ERROR_SSL, args=args, reason=text)
        finally:
            self._feed()
        return Outcome(op, ret, SslError.SSL_ERROR_NONE, data=data, args=args)

    def do_handshake(self) -> Outcome:
        return self._run("SSL_do_handshake", "", lambda: (int(self.ssl.do_handshake() or 1), b""))

    def read(self, size: int) -> Outcome:
        def go() -> tuple[int, bytes]:
            data = bytes(self.ssl.read(size))
            return len(data), data
        return self._run("SSL_read", str(size), go)

    def write(self, data: bytes) -> Outcome:
        return self._run("SSL_write", str(len(data)), lambda: (int(self.ssl.write(data)), b""))

    def shutdown(self) -> Outcome:
        # nassl's SSL.shutdown() returns SSL_shutdown's own 0 or 1 (an error is raised)
        return self._run("SSL_shutdown", "", lambda: (int(self.ssl.shutdown()), b""))

    def pending(self) -> int:
        return int(self.ssl.pending())

    def renegotiate(self) -> Outcome:
        # SSL.renegotiate() calls SSL_renegotiate and drops its return value (it returns None), so only the
        # SSL_do_handshake that starts the renegotiation is observed
        self.ssl.renegotiate()
        return self._run("SSL_do_handshake", "after SSL_renegotiate", lambda: (int(self.ssl.do_handshake() or 1), b""))

    def set_verify(self, mode: int, callback: Callable[[bool, int, int], bool] | None) -> None:
        if callback is not None:
            raise Unsupported(f"{self.label}: nassl's SSL.set_verify is SSL_set_verify with a NULL verify_callback "
                              "and takes the mode only (capability verify_callback)")
        self.ssl.set_verify(mode)  # SSL_set_verify(ssl, mode, NULL)

    def set_options(self, names: tuple[str, ...]) -> int | None:
        mask = None
        for name in names:  # SSL.set_options is SSL_set_options and returns the new mask
            if name not in self.known_options:
                raise Unsupported(f"{self.label}: {name} is not in this OpenSSL's ssl.h (capability "
                                  "connection_options)")
            mask = int(self.ssl.set_options(self.known_options[name]))
        return mask

    def negotiated_cipher(self) -> str | None:
        try:
            name = self.ssl.get_cipher_name()
        except self.errors.OpenSSLError:
            return None
        return str(name) if name else None

    def session(self) -> object | None:
        # SSL.get_session: SSL_get1_session. nassl binds no SSL_session_reused, so session_reused() stays the base
        # class's (capability 'session_reused')
        session: object | None = self.ssl.get_session()
        return session

    # --- network side: the BIO pair's other half ---------------------------------------------------------------
    def _feed(self) -> None:
        while self._in:
            try:
                n = int(self.network.write(bytes(self._in)))
            except (self.errors.OpenSSLError, OSError):  # BIO_write() failed: the pair is full
                n = 0
            if n <= 0:
                break
            del self._in[:n]

    def take_outgoing(self, limit: int | None = None) -> bytes:
        while (n := int(self.network.pending())) > 0:
            self._out += bytes(self.network.read(n))
        return bounded_take(self._out, limit)

    def outgoing_pending(self) -> int:
        return len(self._out) + int(self.network.pending())

    def put_incoming(self, data: bytes) -> int:
        self._in += data
        self._feed()
        return len(data)

    def put_eof(self) -> None:
        self._eof = True


_GROUP_NIDS = {"secp256r1": 415, "prime256v1": 415, "secp384r1": 715, "secp521r1": 716, "x25519": 1034, "x448": 1035}


def _group_nid(name: str) -> int:
    return _GROUP_NIDS[name]


class _NasslBase(StackAdapter):
    tier = "binding"
    module_name = ""
    modern = True

    @property
    def module(self) -> ModuleType:
        return _import(self.module_name)

    def check_available(self) -> None:
        self.module  # noqa: B018 - imported for its error

    def version(self) -> str:
        path = Path(str(self.module.__file__))
        found = _VERSION_TEXT.search(path.read_bytes())
        return found.group().decode() if found else f"{self.module_name} (version text not found)"

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        return NasslEndpoint(self, config, label)


_COMMON_MISSING = {
    "server_role": "nassl's modules drive a client only (SslClient); no server can be configured",
    "alpn": "nassl's SSL and SSL_CTX objects (nassl._nassl, nassl._nassl_legacy) bind neither SSL_set_alpn_protos / "
            "SSL_CTX_set_alpn_protos nor SSL_get0_alpn_selected",
    "server_name_seen": "nassl plays the client only",
    "raw_return_values": "nassl raises an exception for every result other than success",
    "error_queue": "nassl folds the error queue into the exception text",
    "bounded_write_buffer": "nassl's BIO pair is made with a fixed size (make_bio_pair has no size)",
    "peek": "nassl has no SSL_peek",
    "host_name_check": "nassl has no SSL_set1_host: a verifying client checks the chain only",
    "ignore_unexpected_eof": "SSL_OP_IGNORE_UNEXPECTED_EOF is an OpenSSL 3.0 option",
    "request_client_certificate": "a server feature; nassl has no server",
    "key_update": "nassl has no SSL_key_update",
    "renegotiation_pending": "nassl does not bind SSL_renegotiate_pending (its SSL has renegotiate() and "
                             "do_handshake() only)",
    "c_api": "a binding",
    "verify_callback": "nassl binds SSL_CTX_set_verify / SSL_set_verify with a NULL verify_callback: "
                       "SSL_CTX.set_verify and SSL.set_verify take the mode only (a second argument is a TypeError)",
    "socket_transport": "nassl binds neither SSL_set_fd nor a socket BIO (its BIO has make_bio_pair, read, write, "
                        "pending only); its SslClient moves bytes between a socket and a BIO pair in Python with "
                        "sock.recv / sock.send, so a non-blocking socket's BlockingIOError escapes instead of "
                        "SSL_ERROR_WANT_READ",
    "shutdown_state": "nassl's SSL has no get_shutdown (SSL_get_shutdown is not bound)",
    "want_state": "nassl's SSL binds neither SSL_want nor SSL_want_read / SSL_want_write (the exception class says "
                  "which retry the last call wants)",
    "optional_client_certificate": "a server feature; nassl has no server",
    "session_reused": "nassl's SSL binds SSL_get1_session / SSL_set_session (get_session, set_session) but not "
                      "SSL_session_reused",
    "set_shutdown": "nassl's SSL binds neither SSL_set_shutdown nor SSL_get_shutdown",
    "verify_depth": "nassl binds neither SSL_CTX_set_verify_depth nor SSL_set_verify_depth (its SSL_CTX has "
                    "set_verify, load_verify_locations and use_certificate_chain_file for verification)",
}


class NasslStack(_NasslBase):
    name = "nassl"
    library = "OpenSSL 1.1.1 built into nassl (nassl._nassl, BIO pair)"
    module_name = "nassl._nassl"
    capabilities = capability_set(
        # SSL.get_session / set_session (SSL_get1_session, SSL_set_session): a client hands its session on
        "session_resumption",
        "client_role", "tls1_2", "tls1_3", "error_codes", "pending", "implicit_handshake",
        "present_client_certificate", "peer_verification", "cipher_list", "cipher_selection", "group_selection",
        "partial_write", "shutdown_return_values", "zero_length_write", "ssl_options",
        # SSL.set_verify (mode only) and SSL.set_options are SSL_set_verify / SSL_set_options
        "connection_verify", "connection_options",
        # SSL.renegotiate() + SSL.do_handshake() (SSL_renegotiate, SSL_do_handshake); no SSL_renegotiate_pending
        "renegotiate",
    )
    missing_reasons = MappingProxyType(_COMMON_MISSING)


class NasslLegacyStack(_NasslBase):
    name = "nassl-legacy"
    library = "OpenSSL 1.0.2 built into nassl (nassl._nassl_legacy, BIO pair)"
    module_name = "nassl._nassl_legacy"
    modern = False
    capabilities = capability_set(
        # SSL.get_session / set_session (SSL_get1_session, SSL_set_session): a client hands its session on
        "session_resumption",
        "client_role", "tls1_2", "error_codes", "pending", "implicit_handshake", "present_client_certificate",
        "peer_verification", "cipher_list", "partial_write", "shutdown_return_values", "zero_length_write",
        "ssl_options", "connection_verify", "connection_options", "renegotiate",
    )
    missing_reasons = MappingProxyType({
        **_COMMON_MISSING,
        "tls1_3": "OpenSSL 1.0.2 predates TLS 1.3",
        "cipher_selection": "OpenSSL 1.0.2 has no TLS 1.3 cipher suites",
        "group_selection": "the legacy module has no set1_groups",
    })
