"""Mbed TLS through python-mbedtls: ``ClientContext`` / ``ServerContext`` over a ``TLSWrappedBuffer`` (sans I/O).

What the binding lets us observe: ``do_handshake`` / ``read`` / ``write`` / ``shutdown`` raise ``WantReadError`` /
``WantWriteError`` for the two retry codes and ``TLSError`` (with Mbed TLS's own error number) for everything else;
the adapter maps them to ``SSL_ERROR_WANT_READ`` / ``_WANT_WRITE`` / ``SSL_ERROR_SSL``, and a received close_notify
(``MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY``) to ``SSL_ERROR_ZERO_RETURN``. The network side is the wrapped buffer's
``receive_from_network`` and ``peek_outgoing`` / ``consume_outgoing``; its rings hold a fixed 32 KiB. Mbed TLS 2.28
(the library python-mbedtls 2.10 is built with) speaks TLS 1.2 at most; TLS 1.3 cipher suites and groups cannot be
asked for. Return values are synthesised from the exceptions (no ``raw_return_values``).

The server's certificate follows ``EndpointConfig.server_key`` (an RSA key is loaded with ``mbedtls.pk.RSA``, an
ECDSA one with ``mbedtls.pk.ECC``): an adapter that always presented the ECDSA certificate made every ECDHE-RSA suite
fail with a handshake_failure alert, which was the adapter's fault, not Mbed TLS's.
"""

from __future__ import annotations

import importlib
import re
import socket
from types import MappingProxyType
from typing import Any

from conformance.certs import Identity
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

# python-mbedtls's own type stubs disagree with its runtime in places (readinto, cipher, the ring buffers), so the
# modules are handled as Any.
mbedtls: Any
mtls: Any
mx509: Any
ECC: Any
RSA: Any
TLSError: Any
try:
    mbedtls = importlib.import_module("mbedtls")
    mtls = importlib.import_module("mbedtls.tls")
    mx509 = importlib.import_module("mbedtls.x509")
    ECC = importlib.import_module("mbedtls.pk").ECC
    RSA = importlib.import_module("mbedtls.pk").RSA
    TLSError = importlib.import_module("mbedtls.exceptions").TLSError
    _IMPORT_ERROR = ""
except ImportError as exc:  # reported by check_available
    mbedtls = mtls = mx509 = ECC = RSA = None
    TLSError = Exception
    _IMPORT_ERROR = str(exc)

__all__ = ["MbedtlsStack"]

_RECORD = 16384  # the largest plaintext of one TLS record
_PEER_CLOSE_NOTIFY = 0x7880  # MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY (negated in C)


# Why a memory-mode endpoint cannot promise whole-buffer writes (partial_write=False): a fact of the library and the
# binding, see MbedtlsEndpoint.write
_NO_WHOLE_WRITE = (
    "mbedtls: Mbed TLS has no whole-buffer write mode: mbedtls_ssl_write writes at most one record and returns that "
    "count (as if SSL_MODE_ENABLE_PARTIAL_WRITE were always set); python-mbedtls's TLSWrappedBuffer.write() loops it "
    "over the buffer but, once its 32 KiB output ring (TLS_BUFFER_CAPACITY) is full, raises WantReadError without "
    "the count written so far, so its retry starts again at the first byte")


_OPENSSL_BULK = re.compile(r"AES(128|256)(-GCM)?-(SHA\d*)")


def mbedtls_suite(name: str) -> str | None:
    """The Mbed TLS name of an OpenSSL TLS 1.2 ECDHE suite name (ECDHE-ECDSA-AES128-GCM-SHA256 ->
    TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256, ECDHE-RSA-AES128-SHA -> TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA); None for a
    name of another shape."""
    for auth in ("ECDSA", "RSA"):
        prefix = f"ECDHE-{auth}-"
        if not name.startswith(prefix):
            continue
        rest = name.removeprefix(prefix)
        if rest == "CHACHA20-POLY1305":
            return f"TLS-ECDHE-{auth}-WITH-CHACHA20-POLY1305-SHA256"
        bulk = _OPENSSL_BULK.fullmatch(rest)
        if bulk is not None:
            bits, gcm, mac = bulk.groups()
            return f"TLS-ECDHE-{auth}-WITH-AES-{bits}-{'GCM' if gcm else 'CBC'}-{mac}"
    return None


def _ciphers(config: EndpointConfig) -> tuple[str, ...] | None:
    """TLSConfiguration(ciphers=): mbedtls_ssl_conf_ciphersuites with the Mbed TLS names of the cipher list."""
    if config.cipher_list is None:
        return None
    names = tuple(mbedtls_suite(n) for n in config.cipher_list)
    missing = [o for o, m in zip(config.cipher_list, names, strict=True) if m is None or m not in _available()]
    if missing:
        raise Unsupported(f"mbedtls: no Mbed TLS suite among mbedtls.tls.ciphers_available() for {', '.join(missing)} "
                          "(capability cipher_list)")
    return tuple(n for n in names if n is not None)


def _available() -> frozenset[str]:
    return frozenset(mtls.ciphers_available())


def _version(name: str | None) -> Any:
    if name == "TLSv1.3":
        raise Unsupported("mbedtls: Mbed TLS 2.28 has no TLS 1.3 (capability tls1_3)")
    return mtls.TLSVersion.TLSv1_2


def _configuration(config: EndpointConfig, over_socket: bool = False) -> Any:
    if config.ciphersuites is not None:
        raise Unsupported("mbedtls: TLS 1.3 cipher suites cannot be chosen on Mbed TLS 2.28 (no TLS 1.3)")
    if config.groups is not None:
        raise Unsupported("mbedtls: python-mbedtls offers no way to choose key-exchange groups")
    for name in ("write_buffer", "read_buffer"):
        if getattr(config, name) is not None:
            raise Unsupported(f"mbedtls: {name} cannot be set: TLSWrappedBuffer's rings have the fixed size "
                              "TLS_BUFFER_CAPACITY (32 KiB, python-mbedtls _tls.pyx), which no call changes")
    if config.partial_write is True and over_socket:
        raise Unsupported("mbedtls: TLSWrappedSocket.send() hands the whole message to TLSWrappedBuffer.write() and "
                          "reports len(message), so a write over a socket is never partial")
    if config.partial_write is False and not over_socket:
        raise Unsupported(_NO_WHOLE_WRITE)
    if config.ignore_unexpected_eof:
        raise Unsupported("mbedtls: no option to ignore an unexpected EOF")
    pki = config.pki
    trust = mtls.TrustStore.from_pem_file(str(pki.other_ca_path if config.trust_other_ca else pki.ca_path))
    identity: Identity | None
    if config.role is Role.SERVER:
        identity = pki.server_identity(config.server_key)
    else:
        identity = pki.client if config.present_certificate else None
    chain = None
    if identity is not None:
        cert = mx509.CRT.from_file(str(identity.cert_path))
        # the key type follows the certificate: an RSA server certificate needs mbedtls.pk.RSA, not ECC
        key_class = RSA if config.role is Role.SERVER and config.server_key == "rsa" else ECC
        key = key_class.from_buffer(identity.key_path.read_bytes())
        chain = ((cert,), key)
    if config.alpn is not None and config.role is Role.SERVER and config.alpn_no_overlap == "ignore":
        raise Unsupported("mbedtls: an Mbed TLS 2.28 server with ALPN protocols refuses a client that offers none of "
                          "them with no_application_protocol (ssl_srv.c, ssl_parse_alpn_ext); python-mbedtls has no "
                          "ALPN callback to go on without ALPN")
    return mtls.TLSConfiguration(
        ciphers=_ciphers(config),
        # ALPN (mbedtls_ssl_conf_alpn_protocols): a server picks in its own order (ssl_parse_alpn_ext)
        inner_protocols=None if config.alpn is None else tuple(p.encode() for p in config.alpn),
        # mbedtls_ssl_conf_authmode: True is MBEDTLS_SSL_VERIFY_REQUIRED, False MBEDTLS_SSL_VERIFY_OPTIONAL (_tls.pyx,
        # _set_validate_certificates). A server asking without requiring (require_client_certificate False) is
        # OPTIONAL. python-mbedtls has no MBEDTLS_SSL_VERIFY_NONE for a server: None keeps the defaults of the
        # client-endpoint config it starts from (REQUIRED), so a server that should not verify is OPTIONAL too, and
        # still sends a CertificateRequest (seen: it receives the certificate of a client that has one).
        validate_certificates=config.verify_peer and (config.role is Role.CLIENT or config.require_client_certificate),
        certificate_chain=chain,
        trust_store=trust,
        lowest_supported_version=_version(config.min_version),
        highest_supported_version=_version(config.max_version),
    )


class MbedtlsEndpoint(Endpoint):
    def __init__(self, config: EndpointConfig, label: str, sock: socket.socket | None = None) -> None:
        self.role = config.role
        self.label = label
        conf = _configuration(config, over_socket=sock is not None)
        # over a socket: python-mbedtls's TLSWrappedSocket, which moves the bytes between the socket and its own
        # TLSWrappedBuffer in Python (tls.py); its buffer is then the one the state machine uses
        self.sock: Any = None
        if config.role is Role.SERVER:
            context = mtls.ServerContext(conf)
            if sock is not None:
                self.sock = context.wrap_socket(sock)
            else:
                self.buffer = context.wrap_buffers()
        else:
            context = mtls.ClientContext(conf)
            if sock is not None:
                self.sock = context.wrap_socket(sock, config.server_name if config.send_sni else None)
            else:
                # server_hostname None: no mbedtls_ssl_set_hostname, so no SNI
                self.buffer = context.wrap_buffers(config.server_name if config.send_sni else None)
        if self.sock is not None:
            self.buffer = self.sock._buffer
        self._out = bytearray()
        self._shutdown_sent = False
        self._eof = False

    def _run(self, op: str, args: str, fn: Any) -> Outcome:
        try:
            ret, data = fn()
        except mtls.WantReadError:
            if self._eof and not len(self.buffer._input_buffer):
                return Outcome(op, -1, SslError.SSL_ERROR_SYSCALL, reason="the transport ended without close_notify",
                               args=args)
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_READ, args=args)
        except mtls.WantWriteError:
            return Outcome(op, -1, SslError.SSL_ERROR_WANT_WRITE, args=args)
        except OSError as exc:  # over a socket: TLSWrappedSocket lets the socket's own error escape
            return Outcome(op, -1, SslError.SSL_ERROR_SYSCALL, args=args,
                           reason=f"{type(exc).__name__} from python-mbedtls's TLSWrappedSocket: {exc}")
        except TLSError as exc:
            if getattr(exc, "err", None) == _PEER_CLOSE_NOTIFY:
                return Outcome(op, 0, SslError.SSL_ERROR_ZERO_RETURN, args=args, reason=str(exc))
            return Outcome(op, -1, SslError.SSL_ERROR_SSL, reason=f"{exc} (Mbed TLS error -0x{exc.err:04x})"
                           if getattr(exc, "err", None) else str(exc), args=args)
        return Outcome(op, ret, SslError.SSL_ERROR_NONE, data=data, args=args)

    def do_handshake(self) -> Outcome:
        def go() -> tuple[int, bytes]:
            # do_handshake() runs one step of the state machine (mbedtls_ssl_handshake_step); repeated until the
            # handshake is over or a step needs I/O (WantReadError / WantWriteError), as mbedtls_ssl_handshake does.
            if self.sock is not None:
                self.sock.do_handshake()  # TLSWrappedSocket's own loop of steps, reading the socket between them
            while self.buffer._handshake_state is not mtls.HandshakeStep.HANDSHAKE_OVER:
                self.buffer.do_handshake()
            return 1, b""

        return self._run("mbedtls_ssl_handshake", "", go)

    def read(self, size: int) -> Outcome:
        # readinto() is one mbedtls_ssl_read call (read() skips the call when no new bytes arrived, hiding what the
        # library still holds of an earlier record).
        def go() -> tuple[int, bytes]:
            if self.sock is not None:  # TLSWrappedSocket.recv: one socket recv, then the buffer's read
                data = bytes(self.sock.recv(size))
                return len(data), data
            buf = bytearray(max(size, 1))
            n = self.buffer.readinto(memoryview(buf), size)
            return n, bytes(buf[:n])

        try:
            return self._run("mbedtls_ssl_read", str(size), go)
        except mtls.RaggedEOF:  # mbedtls_ssl_read returned 0: the transport ended without close_notify
            return Outcome("mbedtls_ssl_read", 0, SslError.SSL_ERROR_SYSCALL, args=str(size),
                           reason="the transport ended without close_notify (python-mbedtls RaggedEOF)")

    def write(self, data: bytes) -> Outcome:
        # write() loops mbedtls_ssl_write over the whole buffer but restarts at its first byte after a WantReadError
        # (its 32 KiB output ring was full), so a write larger than the ring never completes and resends its start
        # (seen: a livelock). The adapter therefore hands it at most one record (16 KiB) per call, which is one
        # mbedtls_ssl_write call, and reports that count: Mbed TLS's own semantics (mbedtls_ssl_write writes at most
        # one record and returns the count), the same as SSL_MODE_ENABLE_PARTIAL_WRITE (capability partial_write).
        chunk = data[:_RECORD]

        def go() -> tuple[int, bytes]:
            if self.sock is not None:  # TLSWrappedSocket.send: the buffer's write of all of it, then one socket send
                return int(self.sock.send(data)), b""
            self.buffer.write(chunk)
            return len(chunk), b""

        return self._run("mbedtls_ssl_write", str(len(data)), go)

    def shutdown(self) -> Outcome:
        def go() -> tuple[int, bytes]:
            if self.sock is not None:  # the wrapper's only call that sends close_notify also shuts the socket's
                self.sock.shutdown(socket.SHUT_WR)  # sending side
                return 0, b""
            self.buffer.shutdown()
            return 0, b""  # close_notify sent; python-mbedtls does not wait for the peer's

        return self._run("mbedtls_ssl_close_notify", "", go)

    def negotiated_version(self) -> str | None:
        version = self.buffer.negotiated_tls_version()
        return {mtls.TLSVersion.TLSv1_2: "TLSv1.2", mtls.TLSVersion.TLSv1_3: "TLSv1.3"}.get(version)

    def alpn_selected(self) -> str | None:
        proto = self.buffer.negotiated_protocol()  # mbedtls_ssl_get_alpn_protocol
        return str(proto.decode() if isinstance(proto, bytes) else proto) if proto else None

    def negotiated_cipher(self) -> str | None:
        # mbedtls_ssl_get_ciphersuite, reported under the OpenSSL name it has in the cipher lists the cases use
        # (None: a suite of no such name, or none yet)
        name = self.buffer.cipher()
        return _OPENSSL_NAMES.get(str(name)) if name else None

    def take_outgoing(self, limit: int | None = None) -> bytes:
        pending = self.buffer.peek_outgoing(1 << 20)
        if pending:
            self.buffer.consume_outgoing(len(pending))
            self._out += pending
        return bounded_take(self._out, limit)

    def outgoing_pending(self) -> int:
        return len(self._out) + len(self.buffer.peek_outgoing(1 << 20))

    def put_incoming(self, data: bytes) -> int:
        ring = self.buffer._input_buffer  # a ring of TLS_BUFFER_CAPACITY (32 KiB): take what fits
        room = int(ring.maxlen) - len(ring)
        take = data[:max(0, room)]
        if take:
            self.buffer.receive_from_network(take)
        return len(take)

    def put_eof(self) -> None:
        self._eof = True

    def close(self) -> None:
        if self.sock is not None:
            self.sock._socket.close()  # TLSWrappedSocket.close() would first write close_notify into the buffer


_OPENSSL_NAMES = {m: o for o in (f"ECDHE-{a}-{b}" for a in ("ECDSA", "RSA") for b in (
    "AES128-GCM-SHA256", "AES256-GCM-SHA384", "CHACHA20-POLY1305", "AES128-SHA", "AES256-SHA", "AES128-SHA256",
    "AES256-SHA384")) if (m := mbedtls_suite(o)) is not None}


class MbedtlsStack(StackAdapter):
    name = "mbedtls"
    library = "Mbed TLS through python-mbedtls (TLSWrappedBuffer)"
    tier = "binding"
    capabilities = capability_set("client_role", "server_role", "tls1_2", "error_codes", "implicit_handshake",
                                  "client_certificates", "peer_verification", "zero_length_write",
                                  "socket_transport", "alpn",
                                  # validate_certificates=False on a server: MBEDTLS_SSL_VERIFY_OPTIONAL
                                  "optional_client_certificate",
                                  # mbedtls_ssl_write's own one-record writes (see MbedtlsEndpoint.write); a
                                  # memory-mode partial_write=False is refused with _NO_WHOLE_WRITE
                                  "partial_write",
                                  # TLSConfiguration(ciphers=) with the Mbed TLS names of the OpenSSL list
                                  "cipher_list")
    missing_reasons = MappingProxyType({
        "tls1_3": "Mbed TLS 2.28, which python-mbedtls 2.10 is built with, has no TLS 1.3",
        "raw_return_values": "python-mbedtls raises exceptions instead of returning the C value",
        "error_queue": "Mbed TLS has no error queue",
        "bounded_write_buffer": "TLSWrappedBuffer's output ring has the fixed size TLS_BUFFER_CAPACITY (32 KiB, "
                                "python-mbedtls _tls.pyx), which no call changes, and over a socket the bound is the "
                                "kernel's socket buffer",
        "peek": "not offered by TLSWrappedBuffer",
        "pending": "not offered by TLSWrappedBuffer",
        "shutdown_return_values": "shutdown() sends close_notify and returns nothing",
        "ignore_unexpected_eof": ("python-mbedtls raises RaggedEOF for a transport end without close_notify and has "
                                  "no setting to take it as a clean close"),
        "cipher_selection": "TLS 1.3 cipher suites do not exist in Mbed TLS 2.28",
        "group_selection": "TLSConfiguration has no curve or group field (python-mbedtls binds no "
                           "mbedtls_ssl_conf_curves), so the groups offered are Mbed TLS's defaults",
        "key_update": "KeyUpdate is a TLS 1.3 message and Mbed TLS 2.28 has no TLS 1.3",
        "renegotiation": "python-mbedtls switches renegotiation off in every configuration "
                         "(mbedtls_ssl_conf_renegotiation(conf, 0) in _BaseConfiguration.__init__, _tls.pyx), and its "
                         "only way to start one is the private TLSWrappedBuffer._renegotiate",
        "host_name_check": "the name a client verifies is the one it sends as SNI: wrap_buffers(server_hostname) is "
                           "mbedtls_ssl_set_hostname, which sets both, and python-mbedtls has no other name setting",
        "c_api": "python-mbedtls is a Python binding: no OpenSSL-style C functions to call",
        "verify_callback": "python-mbedtls binds no verify callback (mbedtls_ssl_conf_verify is not among the "
                           "functions _tls imports): TLSConfiguration has the bool validate_certificates only",
        "ssl_options": "Mbed TLS has no SSL_OP_ option bits, and TLSConfiguration offers no counterpart setting",
        "shutdown_state": "TLSWrappedBuffer has no call telling whether close_notify was sent or received (no "
                          "SSL_get_shutdown counterpart)",
        "want_state": "TLSWrappedBuffer has no SSL_want_read / SSL_want_write counterpart: the exception class "
                      "(WantReadError / WantWriteError) says which retry the last call wants",
        "session_resumption": "python-mbedtls binds neither mbedtls_ssl_get_session / mbedtls_ssl_set_session (its "
                              "TLSSession class has no methods and no call takes or returns one) nor a server "
                              "session cache or ticket key (mbedtls_ssl_conf_session_cache / "
                              "mbedtls_ssl_conf_session_tickets_cb are not among the functions _tls imports)",
        "session_reused": "TLSWrappedBuffer has no call telling whether a handshake resumed (no SSL_session_reused "
                          "counterpart; python-mbedtls cannot offer a session anyway)",
        "connection_verify": "TLSWrappedBuffer has no verify setting of its own: verification is "
                             "TLSConfiguration.validate_certificates (mbedtls_ssl_conf_authmode), shared by every "
                             "buffer of the context",
        "connection_options": "Mbed TLS has no SSL_OP_ option bits, and TLSWrappedBuffer no per-connection setting "
                              "in their place",
        "set_shutdown": "TLSWrappedBuffer has no call that sets a shutdown state (no SSL_set_shutdown counterpart)",
        "verify_depth": "TLSConfiguration has no chain length setting; Mbed TLS limits chains at build time "
                        "(MBEDTLS_X509_MAX_INTERMEDIATE_CA), not per context",
        "server_name_seen": "python-mbedtls 2.10 takes TLSConfiguration(sni_callback=...) but ServerContext() then "
                            "raises NotImplementedError (_tls.pyx, MbedTLSConfiguration._set_sni_callback), and "
                            "TLSWrappedBuffer has no accessor for the name the client sent",
    })

    def check_available(self) -> None:
        if mbedtls is None:
            raise StackUnavailable(f"python-mbedtls is not importable ({_IMPORT_ERROR}): pip install python-mbedtls")

    def version(self) -> str:
        if mbedtls is None:
            return "-"
        return f"python-mbedtls {mbedtls.__version__} ({mbedtls.version.version})"

    def endpoint(self, config: EndpointConfig, label: str) -> Endpoint:
        self.check_available()
        return MbedtlsEndpoint(config, label)

    def socket_endpoint(self, config: EndpointConfig, label: str, sock: socket.socket) -> Endpoint:
        self.check_available()
        return MbedtlsEndpoint(config, label, sock)
