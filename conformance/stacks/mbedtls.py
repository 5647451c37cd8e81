"""Mbed TLS through python-mbedtls: ``ClientContext`` / ``ServerContext`` over a ``TLSWrappedBuffer`` (sans I/O).

What the binding lets us observe: ``do_handshake`` / ``read`` / ``write`` / ``shutdown`` raise ``WantReadError`` /
``WantWriteError`` for the two retry codes and ``TLSError`` (with Mbed TLS's own error number) for everything else;
the adapter maps them to ``SSL_ERROR_WANT_READ`` / ``_WANT_WRITE`` / ``SSL_ERROR_SSL``, and a received close_notify
(``MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY``) to ``SSL_ERROR_ZERO_RETURN``. The network side is the wrapped buffer's
``receive_from_network`` and ``peek_outgoing`` / ``consume_outgoing``; the buffer grows without bound. Mbed TLS 2.28
(the library python-mbedtls 2.10 is built with) speaks TLS 1.2 at most; TLS 1.3 cipher suites and groups cannot be
asked for. Return values are synthesised from the exceptions (no ``raw_return_values``).

The server's certificate follows ``EndpointConfig.server_key`` (an RSA key is loaded with ``mbedtls.pk.RSA``, an
ECDSA one with ``mbedtls.pk.ECC``): an adapter that always presented the ECDSA certificate made every ECDHE-RSA suite
fail with a handshake_failure alert, which was the adapter's fault, not Mbed TLS's.
"""

from __future__ import annotations

import importlib
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


def _version(name: str | None) -> Any:
    if name == "TLSv1.3":
        raise Unsupported("mbedtls: Mbed TLS 2.28 has no TLS 1.3 (capability tls1_3)")
    return mtls.TLSVersion.TLSv1_2


def _configuration(config: EndpointConfig, over_socket: bool = False) -> Any:
    if config.ciphersuites is not None:
        raise Unsupported("mbedtls: TLS 1.3 cipher suites cannot be chosen on Mbed TLS 2.28 (no TLS 1.3)")
    if config.groups is not None:
        raise Unsupported("mbedtls: python-mbedtls offers no way to choose key-exchange groups")
    for name in ("write_buffer", "read_buffer", "partial_write"):
        # over a socket, TLSWrappedSocket.send() hands the whole buffer to write() and reports all of it: writes are
        # complete, which is partial_write=False
        if name == "partial_write" and over_socket and config.partial_write is False:
            continue
        if getattr(config, name) is not None:
            raise Unsupported(f"mbedtls: {name} cannot be set (the wrapped buffer grows without bound)")
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
        # ALPN (mbedtls_ssl_conf_alpn_protocols): a server picks in its own order (ssl_parse_alpn_ext)
        inner_protocols=None if config.alpn is None else tuple(p.encode() for p in config.alpn),
        validate_certificates=config.verify_peer,
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
        # (seen: a livelock). The adapter therefore hands it at most one record (16 KiB) per call and reports that
        # count: writes are partial, as with SSL_MODE_ENABLE_PARTIAL_WRITE.
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
        # Mbed TLS names suites its own way (TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256); no mapping to OpenSSL's names
        # is kept yet, so the name is not reported (None: "not observable").
        return None

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


class MbedtlsStack(StackAdapter):
    name = "mbedtls"
    library = "Mbed TLS through python-mbedtls (TLSWrappedBuffer)"
    tier = "binding"
    capabilities = capability_set("client_role", "server_role", "tls1_2", "error_codes", "implicit_handshake",
                                  "client_certificates", "peer_verification", "zero_length_write",
                                  "socket_transport", "alpn")
    missing_reasons = MappingProxyType({
        "tls1_3": "Mbed TLS 2.28, which python-mbedtls 2.10 is built with, has no TLS 1.3",
        "raw_return_values": "python-mbedtls raises exceptions instead of returning the C value",
        "error_queue": "Mbed TLS has no error queue",
        "bounded_write_buffer": "the wrapped buffer grows without bound",
        "partial_write": ("python-mbedtls's write() keeps calling mbedtls_ssl_write until the whole buffer is "
                          "written: there is no partial-write mode to switch on"),
        "peek": "not offered by TLSWrappedBuffer",
        "pending": "not offered by TLSWrappedBuffer",
        "shutdown_return_values": "shutdown() sends close_notify and returns nothing",
        "ignore_unexpected_eof": ("python-mbedtls raises RaggedEOF for a transport end without close_notify and has "
                                  "no setting to take it as a clean close"),
        "cipher_selection": "TLS 1.3 cipher suites do not exist in Mbed TLS 2.28",
        "group_selection": "python-mbedtls offers no way to choose key-exchange groups",
        "key_update": "KeyUpdate is a TLS 1.3 message and Mbed TLS 2.28 has no TLS 1.3",
        "renegotiation": "python-mbedtls does not expose renegotiation",
        "c_api": "python-mbedtls is a Python binding: no OpenSSL-style C functions to call",
        "verify_callback": "python-mbedtls binds no verify callback (mbedtls_ssl_conf_verify is not among the "
                           "functions _tls imports): TLSConfiguration has the bool validate_certificates only",
        "ssl_options": "Mbed TLS has no SSL_OP_ option bits, and TLSConfiguration offers no counterpart setting",
        "shutdown_state": "TLSWrappedBuffer has no call telling whether close_notify was sent or received (no "
                          "SSL_get_shutdown counterpart)",
        "want_state": "TLSWrappedBuffer has no SSL_want_read / SSL_want_write counterpart: the exception class "
                      "(WantReadError / WantWriteError) says which retry the last call wants",
        "optional_client_certificate": "TLSConfiguration has the bool validate_certificates only; on a server True "
                                       "is a required certificate (a client without one fails the handshake with "
                                       "-0x7480, 'required by the authentication mode'), and nothing sets "
                                       "MBEDTLS_SSL_VERIFY_OPTIONAL",
        "session_resumption": "python-mbedtls binds neither mbedtls_ssl_get_session / mbedtls_ssl_set_session (its "
                              "TLSSession class has no methods and no call takes or returns one) nor a server "
                              "session cache or ticket key (mbedtls_ssl_conf_session_cache / "
                              "mbedtls_ssl_conf_session_tickets_cb are not among the functions _tls imports)",
        "server_name_seen": "python-mbedtls 2.10 raises NotImplementedError for TLSConfiguration(sni_callback=...) "
                            "(_tls.pyx, MbedTLSConfiguration._set_sni_callback), and TLSWrappedBuffer has no "
                            "accessor for the name the client sent",
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
