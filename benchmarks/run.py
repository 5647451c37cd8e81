"""Fair side-by-side benchmark of the stacks: handshakes per second, bulk throughput and memory, TLS 1.3 and 1.2.

Fairness rules (each is checked or stated in the output):

* Same work for every stack: the same group (x25519; pyOpenSSL, whose OpenSSL 4.0 would otherwise negotiate the
  hybrid X25519MLKEM768, is set to x25519 through its binding), the same suite (TLS_AES_256_GCM_SHA384 in TLS 1.3,
  ECDHE-ECDSA-AES256-GCM-SHA384 in TLS 1.2), the same ECDSA P-256 certificate signed by the same CA, and the same
  verification (the client checks the chain against the CA and the host name; the ``host name`` column says which
  stacks cannot). The negotiated version and suite are read back from every stack before it is measured.
* Each stack driven as directly as its API allows: C-API stacks (engine, libssl, wolfssl) with their own functions,
  client and server SSL on the two halves of one BIO pair, no outcome bookkeeping (``SSL_get_error`` only after a
  call that did not succeed, as an application does); the bindings (pyOpenSSL, stdlib ssl) over their memory BIOs,
  the bytes moved between them by Python as any application of those bindings must.
* A handshake is a new client/server SSL pair from shared contexts, the full handshake, and the client's first read,
  which takes in the server's NewSessionTickets (every stack sends its library's default tickets).
* CPU time (``time.process_time``) is the main figure, wall time is also given. Each round measures every stack once,
  alternating; a measurement runs about ``--seconds`` of CPU (calibrated per stack in the warm-up). Ratios are the
  median of the per-round ratios, with their minimum and maximum.
* The *ceiling* is the same handshake's and bulk path's ``cryptography`` calls alone, without any TLS logic:
  key shares and exchanges, the transcript hashes, HKDF, the Finished HMACs, the ECDSA signature and the two
  verifications (certificate and CertificateVerify), the certificate parse and the AEAD of every record. Every figure
  has its ratio to that ceiling, measured in the same run.
* Memory: resident set size per idle connection pair (after the handshake), measured in a fresh child process per
  stack (``--pairs`` pairs kept alive).

    python benchmarks/run.py                                # engine, pyopenssl, stdlib, libssl (+ wolfssl)
    python benchmarks/run.py --stack engine --stack pyopenssl --versions 1.3 --json reports/benchmark.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from hmac import compare_digest as hmac_compare
from pathlib import Path
from typing import Any

from conformance.certs import SERVER_NAME, default_pki

DEFAULT_STACKS = ("engine", "pyopenssl", "stdlib", "libssl", "wolfssl")
CHUNK = 16 * 1024
GROUP = "x25519"
SUITE13 = "TLS_AES_256_GCM_SHA384"
SUITE12 = "ECDHE-ECDSA-AES256-GCM-SHA384"
SUITE12_CBC = "ECDHE-ECDSA-AES128-SHA256"  # the "1.2cbc" row: AES-128-CBC with HMAC-SHA256 (encrypt-then-MAC)
PAIR_BUFFER = 0  # BIO pair buffers of the library default size (17 KiB: one 16 KiB record fits)

SSL_ERROR_WANT_READ = 2
SSL_ERROR_WANT_WRITE = 3
SSL_FILETYPE_PEM = 1
SSL_VERIFY_PEER = 1
TLS1_2_VERSION = 0x0303
TLS1_3_VERSION = 0x0304
SSL_OP_NO_ENCRYPT_THEN_MAC = 1 << 19  # OpenSSL 3.0's value (and the engine's)
_PROTO = {"1.2": TLS1_2_VERSION, "1.3": TLS1_3_VERSION, "1.2cbc": TLS1_2_VERSION, "1.2mte": TLS1_2_VERSION}
_VERSION_NAMES = {"1.2": "TLSv1.2", "1.3": "TLSv1.3", "1.2cbc": "TLSv1.2", "1.2mte": "TLSv1.2"}


def _suite(version: str) -> str:
    """The suite measured: "1.2cbc" is TLS 1.2 with a CBC suite (every stack here negotiates encrypt-then-MAC,
    RFC 7366, by default); "1.2mte" the same suite with SSL_OP_NO_ENCRYPT_THEN_MAC set, so MAC-then-encrypt."""
    return SUITE13 if version == "1.3" else SUITE12_CBC if version in ("1.2cbc", "1.2mte") else SUITE12
# wolfSSL reports TLS 1.3 suites under its own names
_IANA = {"TLS13-AES256-GCM-SHA384": "TLS_AES_256_GCM_SHA384"}


def _groups(version: str) -> str:
    """The group list: x25519 alone in TLS 1.3; in TLS 1.2 a client must also name P-256, the curve of the server's
    ECDSA certificate (RFC 8422 section 5.1), and x25519 stays first, so the key exchange is still x25519."""
    return GROUP if version == "1.3" else f"{GROUP}:secp256r1"


class Skip(Exception):
    """This stack cannot be measured in this configuration; the message says why."""


class Pair:
    """A client and a server connection of one stack."""

    def handshake(self) -> None:
        raise NotImplementedError

    def transfer(self, chunk: bytes, count: int) -> int:
        """``count`` writes of ``chunk`` from client to server, all read back; returns the bytes received."""
        raise NotImplementedError

    def describe(self) -> tuple[str, str]:
        """(negotiated version, negotiated suite) after the handshake."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


@dataclass
class Driver:
    name: str
    version: str
    new_pair: Callable[[], Pair]
    host_name_checked: bool
    note: str = ""


# --- C-API stacks (engine, libssl, wolfssl) -------------------------------------------------------------------------
class CApiPair(Pair):
    def __init__(self, api: Any, cctx: Any, sctx: Any, verify_host: bool) -> None:
        self.api = api
        self.c = api.SSL_new(cctx)
        self.s = api.SSL_new(sctx)
        ret, b1, b2 = api.BIO_new_bio_pair(PAIR_BUFFER, PAIR_BUFFER)
        if ret != 1:
            raise RuntimeError("BIO_new_bio_pair failed")
        api.SSL_set_bio(self.c, b1, b1)
        api.SSL_set_bio(self.s, b2, b2)
        api.SSL_set_connect_state(self.c)
        api.SSL_set_accept_state(self.s)
        api.SSL_set_tlsext_host_name(self.c, SERVER_NAME.encode())
        if verify_host and api.SSL_set1_host(self.c, SERVER_NAME.encode()) != 1:
            raise RuntimeError("SSL_set1_host failed")

    def _step(self, ssl: Any, ret: int) -> bool:
        if ret == 1:
            return True
        err = self.api.SSL_get_error(ssl, ret)
        if err not in (SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE):
            raise RuntimeError(f"{self.api.library}: handshake failed, SSL_get_error {err}: "
                               f"{self.api.ERR_error_string_n(self.api.ERR_peek_error())!r}")
        return False

    def handshake(self) -> None:
        api, c, s = self.api, self.c, self.s
        done_c = done_s = False
        for _ in range(100):
            if not done_c:
                done_c = self._step(c, api.SSL_do_handshake(c))
            if not done_s:
                done_s = self._step(s, api.SSL_do_handshake(s))
            if done_c and done_s:
                break
        else:
            raise RuntimeError(f"{api.library}: handshake did not complete")
        ret, _ = api.SSL_read(c, 1)  # takes in the NewSessionTickets; no application data is there
        if ret > 0 or api.SSL_get_error(c, ret) != SSL_ERROR_WANT_READ:
            raise RuntimeError(f"{api.library}: the client's first read did not want to read")

    def transfer(self, chunk: bytes, count: int) -> int:
        api, c, s = self.api, self.c, self.s
        n = len(chunk)
        received = 0
        for i in range(count):
            if api.SSL_write(c, chunk) != n:
                raise RuntimeError(f"{api.library}: SSL_write did not write the whole chunk")
            while received < n * (i + 1):
                ret, _data = api.SSL_read(s, 65536)
                if ret <= 0:
                    raise RuntimeError(f"{api.library}: SSL_read returned {ret}")
                received += ret
        return received

    def describe(self) -> tuple[str, str]:
        version = self.api.SSL_get_version(self.c)
        name = self.api.SSL_CIPHER_get_name(self.api.SSL_get_current_cipher(self.c))
        version = version.decode() if isinstance(version, bytes) else str(version)
        name = name.decode() if isinstance(name, bytes) else str(name)
        return version, _IANA.get(name, name)

    def close(self) -> None:
        self.api.SSL_free(self.c)  # each frees its half of the pair
        self.api.SSL_free(self.s)


def _capi_driver(name: str, version: str, api: Any = None) -> Driver:
    if api is not None:  # a C-API object made by the caller (benchmarks/mypyc_bench.py: the mypyc-compiled engine)
        label = api.version
    elif name == "engine":
        from conformance.stacks.engine import EngineApi

        api = EngineApi()
        label = api.version
    else:
        from conformance.capi.libssl import LibsslApi

        try:
            api = LibsslApi() if name == "libssl" else LibsslApi.wolfssl()
        except (OSError, ImportError) as exc:
            raise Skip(f"cannot be loaded: {exc}") from exc
        label = f"{name} {api.version}"
    pki = default_pki()

    def context(server: bool) -> Any:
        ctx = api.SSL_CTX_new(api.TLS_server_method() if server else api.TLS_client_method())
        ok = (api.SSL_CTX_set_min_proto_version(ctx, _PROTO[version]) == 1
              and api.SSL_CTX_set_max_proto_version(ctx, _PROTO[version]) == 1)
        if version == "1.3":
            ok = ok and api.SSL_CTX_set_ciphersuites(ctx, SUITE13.encode()) == 1
        else:
            ok = ok and api.SSL_CTX_set_cipher_list(ctx, _suite(version).encode()) == 1
        if version == "1.2mte":
            api.SSL_CTX_set_options(ctx, SSL_OP_NO_ENCRYPT_THEN_MAC)
        if ok:
            ret = api.SSL_CTX_set1_groups_list(ctx, _groups(version).encode())
            if ret != 1:
                raise Skip(f"SSL_CTX_set1_groups_list({_groups(version)!r}) returned {ret}, so the group cannot be "
                           f"made the same as the other stacks'")
        if server:
            ok = (ok and api.SSL_CTX_use_certificate_file(ctx, str(pki.server.cert_path).encode(),
                                                          SSL_FILETYPE_PEM) == 1
                  and api.SSL_CTX_use_PrivateKey_file(ctx, str(pki.server.key_path).encode(), SSL_FILETYPE_PEM) == 1)
        else:
            ok = ok and api.SSL_CTX_load_verify_locations(ctx, str(pki.ca_path).encode(), None) == 1
            api.SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, None)
        if not ok:
            raise Skip(f"TLS {version} context setup refused: {api.ERR_error_string_n(api.ERR_peek_error())!r}")
        return ctx

    cctx, sctx = context(False), context(True)
    return Driver(name, label, lambda: CApiPair(api, cctx, sctx, True), host_name_checked=True)


# --- pyOpenSSL ------------------------------------------------------------------------------------------------------
def _pyopenssl_driver(version: str) -> Driver:
    from importlib.metadata import version as dist_version

    from OpenSSL import SSL
    from OpenSSL._util import lib

    pki = default_pki()

    def context(server: bool) -> Any:
        ctx = SSL.Context(SSL.TLS_SERVER_METHOD if server else SSL.TLS_CLIENT_METHOD)
        ctx.set_min_proto_version(_PROTO[version])
        ctx.set_max_proto_version(_PROTO[version])
        if version == "1.3":
            ctx.set_tls13_ciphersuites(SUITE13.encode())
        else:
            ctx.set_cipher_list(_suite(version).encode())
            if version == "1.2mte":
                ctx.set_options(SSL_OP_NO_ENCRYPT_THEN_MAC)
        # The binding has no group setter; its cffi library has the 3.0 name of SSL_CTX_set1_groups_list.
        if lib.SSL_CTX_set1_curves_list(ctx._context, _groups(version).encode()) != 1:
            raise Skip(f"SSL_CTX_set1_curves_list({_groups(version)!r}) refused")
        if server:
            ctx.use_certificate_file(str(pki.server.cert_path))
            ctx.use_privatekey_file(str(pki.server.key_path))
        else:
            ctx.load_verify_locations(str(pki.ca_path))
            ctx.set_verify(SSL.VERIFY_PEER, None)
        return ctx

    cctx, sctx = context(False), context(True)
    host = SERVER_NAME.encode()

    class PyOpenSSLPair(Pair):
        def __init__(self) -> None:
            self.c = SSL.Connection(cctx, None)
            self.s = SSL.Connection(sctx, None)
            self.c.set_tlsext_host_name(host)
            # The binding has no host-name check; its cffi library reaches the same X509_VERIFY_PARAM call.
            if lib.X509_VERIFY_PARAM_set1_host(lib.SSL_get0_param(self.c._ssl), host, len(host)) != 1:
                raise RuntimeError("X509_VERIFY_PARAM_set1_host failed")
            self.c.set_connect_state()
            self.s.set_accept_state()

        @staticmethod
        def _move(src: Any, dst: Any) -> None:
            while True:
                try:
                    data = src.bio_read(1 << 17)
                except SSL.WantReadError:
                    return
                dst.bio_write(data)

        def handshake(self) -> None:
            c, s = self.c, self.s
            done_c = done_s = False
            for _ in range(100):
                if not done_c:
                    try:
                        c.do_handshake()
                        done_c = True
                    except SSL.WantReadError:
                        pass
                self._move(c, s)
                if not done_s:
                    try:
                        s.do_handshake()
                        done_s = True
                    except SSL.WantReadError:
                        pass
                self._move(s, c)
                if done_c and done_s:
                    break
            else:
                raise RuntimeError("pyopenssl: handshake did not complete")
            try:
                c.recv(1)
                raise RuntimeError("pyopenssl: unexpected data")
            except SSL.WantReadError:
                pass

        def transfer(self, chunk: bytes, count: int) -> int:
            c, s = self.c, self.s
            n = len(chunk)
            received = 0
            for i in range(count):
                c.send(chunk)
                self._move(c, s)
                while received < n * (i + 1):
                    received += len(s.recv(65536))
            return received

        def describe(self) -> tuple[str, str]:
            group = self.c.get_group_name()
            if group and group.lower() != GROUP:
                raise RuntimeError(f"pyopenssl negotiated {group}, not {GROUP}")
            return str(self.c.get_protocol_version_name()), str(self.c.get_cipher_name())

        def close(self) -> None:
            del self.c, self.s

    label = f"pyOpenSSL {dist_version('pyOpenSSL')} ({SSL.OpenSSL_version(SSL.OPENSSL_VERSION).decode()})"
    return Driver("pyopenssl", label, PyOpenSSLPair, host_name_checked=True,
                  note="group and host-name check set through the binding's cffi library (no public setter)")


# --- stdlib ssl -----------------------------------------------------------------------------------------------------
def _stdlib_driver(version: str) -> Driver:
    import ssl

    pki = default_pki()
    versions = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3, "1.2cbc": ssl.TLSVersion.TLSv1_2,
                "1.2mte": ssl.TLSVersion.TLSv1_2}

    def context(server: bool) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ctx.maximum_version = versions[version]
        if version != "1.3":
            ctx.set_ciphers(_suite(version))
            if version == "1.2mte":
                ctx.options |= ssl.Options(SSL_OP_NO_ENCRYPT_THEN_MAC)
        if server:
            ctx.load_cert_chain(str(pki.server.cert_path), str(pki.server.key_path))
        else:
            ctx.load_verify_locations(cafile=str(pki.ca_path))  # check_hostname and CERT_REQUIRED by default
        return ctx

    cctx, sctx = context(False), context(True)

    class StdlibPair(Pair):
        def __init__(self) -> None:
            self.cin, self.cout = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.sin, self.sout = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.c = cctx.wrap_bio(self.cin, self.cout, server_side=False, server_hostname=SERVER_NAME)
            self.s = sctx.wrap_bio(self.sin, self.sout, server_side=True)

        def handshake(self) -> None:
            done_c = done_s = False
            for _ in range(100):
                if not done_c:
                    try:
                        self.c.do_handshake()
                        done_c = True
                    except ssl.SSLWantReadError:
                        pass
                if self.cout.pending:
                    self.sin.write(self.cout.read())
                if not done_s:
                    try:
                        self.s.do_handshake()
                        done_s = True
                    except ssl.SSLWantReadError:
                        pass
                if self.sout.pending:
                    self.cin.write(self.sout.read())
                if done_c and done_s:
                    break
            else:
                raise RuntimeError("stdlib: handshake did not complete")
            try:
                self.c.read(1)
                raise RuntimeError("stdlib: unexpected data")
            except ssl.SSLWantReadError:
                pass

        def transfer(self, chunk: bytes, count: int) -> int:
            c, s, cout, sin = self.c, self.s, self.cout, self.sin
            n = len(chunk)
            received = 0
            for i in range(count):
                c.write(chunk)
                sin.write(cout.read())
                while received < n * (i + 1):
                    received += len(s.read(65536))
            return received

        def describe(self) -> tuple[str, str]:
            cipher = self.c.cipher()
            return str(self.c.version()), cipher[0] if cipher else "?"

        def close(self) -> None:
            del self.c, self.s

    note = ("the TLS 1.3 suite and group are OpenSSL 3.0's defaults (the binding cannot set them), read back"
            if version == "1.3" else "")
    return Driver("stdlib", f"Python ssl ({ssl.OPENSSL_VERSION})", StdlibPair, host_name_checked=True, note=note)


EXTRA_DRIVERS: dict[str, Callable[[str], Driver]] = {}
"""Stacks a wrapper script adds (name -> driver for a version), e.g. ``benchmarks/mypyc_bench.py``'s compiled engine."""


def make_driver(name: str, version: str) -> Driver:
    if name in EXTRA_DRIVERS:
        return EXTRA_DRIVERS[name](version)
    if name in ("engine", "libssl", "wolfssl"):
        return _capi_driver(name, version)
    if name == "pyopenssl":
        return _pyopenssl_driver(version)
    if name == "stdlib":
        return _stdlib_driver(version)
    if name == "minimal":
        if version != "1.3":
            raise Skip("the minimal straight-line handshake (benchmarks/minimal13.py) is TLS 1.3 only")
        import minimal13  # beside this file

        minimal = minimal13.Minimal13()
        return Driver("minimal", "straight-line TLS 1.3 in Python (benchmarks/minimal13.py)",
                      lambda: minimal13.MinimalPair(minimal), host_name_checked=True,
                      note="the engine's crypto with the least framing: the lower bound for Python TLS logic")
    raise Skip("unknown stack (this benchmark knows engine, pyopenssl, stdlib, libssl, wolfssl, minimal)")


# --- the crypto-only ceiling ----------------------------------------------------------------------------------------
class Ceiling:
    """The ``cryptography`` calls of one handshake and of the bulk path, with no TLS logic around them.

    TLS 1.3 (RFC 9846 section 7): two x25519 key shares and exchanges; the transcript hash (SHA-384) updated with
    every handshake message and read at the schedule's points; HKDF-Extract three times and HKDF-Expand-Label for
    every secret, key and IV of both sides (as HMAC, the cheapest correct form); the server's ECDSA signature, the
    client's certificate parse and two ECDSA verifications; the Finished HMACs; AES-256-GCM for each encrypted
    handshake record (EncryptedExtensions..Finished in one flight, the client Finished, two tickets) both ways.
    TLS 1.2 (RFC 5246 with RFC 7627/5289): the same key exchange, signature and verification, the PRF as HMAC-SHA384
    chains for the extended master secret, key block and both Finished, AES-256-GCM for the two Finished records.
    Bulk: one AES-256-GCM seal and one open of each 16 KiB record with the nonce and header built per record; for
    the TLS 1.2 CBC row, AES-128-CBC encryption and HMAC-SHA256 of each record, the HMAC check and the decryption.
    """

    def __init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, hmac, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, x25519
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.x509, self.hashes, self.hmac, self.ec, self.x25519, self.AESGCM = x509, hashes, hmac, ec, x25519, AESGCM
        self.serialization = serialization
        pki = default_pki()
        self.server_key = serialization.load_pem_private_key(pki.server.key_path.read_bytes(), None)
        self.server_der = x509.load_pem_x509_certificate(pki.server.cert_path.read_bytes()).public_bytes(
            serialization.Encoding.DER)
        self.ca_public = x509.load_pem_x509_certificate(pki.ca_pem).public_key()
        # Message sizes of a typical exchange: ClientHello, ServerHello, EncryptedExtensions, Certificate,
        # CertificateVerify, Finished (the transcript hashes see these).
        self.messages = [os.urandom(n) for n in (250, 90, 10, 520, 80, 52)]

    def _hmac(self, key: bytes, data: bytes) -> bytes:
        mac = self.hmac.HMAC(key, self.hashes.SHA384())
        mac.update(data)
        return bytes(mac.finalize())

    def _expand_label(self, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
        full = b"tls13 " + label
        info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
        out = b""
        block = b""
        counter = 1
        while len(out) < length:
            block = self._hmac(secret, block + info + bytes([counter]))
            out += block
            counter += 1
        return out[:length]

    def _peer_auth(self, transcript: bytes) -> None:
        ec, hashes = self.ec, self.hashes
        signature = self.server_key.sign(transcript, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr,call-arg]
        cert = self.x509.load_der_x509_certificate(self.server_der)
        self.ca_public.verify(cert.signature, cert.tbs_certificate_bytes,  # type: ignore[union-attr,call-arg]
                              ec.ECDSA(hashes.SHA256()))
        cert.public_key().verify(signature, transcript, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr,call-arg]

    def _shares(self) -> bytes:
        x = self.x25519
        raw = self.serialization.Encoding.Raw, self.serialization.PublicFormat.Raw
        ck, sk = x.X25519PrivateKey.generate(), x.X25519PrivateKey.generate()
        cpub, spub = ck.public_key().public_bytes(*raw), sk.public_key().public_bytes(*raw)
        shared = sk.exchange(x.X25519PublicKey.from_public_bytes(cpub))
        if ck.exchange(x.X25519PublicKey.from_public_bytes(spub)) != shared:
            raise RuntimeError("x25519 mismatch")
        return bytes(shared)

    def handshake13(self) -> None:
        hashes = self.hashes
        shared = self._shares()
        for _side in range(2):  # both peers keep a transcript and walk the schedule
            t = hashes.Hash(hashes.SHA384())
            points = []
            for m in self.messages:
                t.update(m)
                points.append(t.copy().finalize())
            zeros = bytes(48)
            early = self._hmac(zeros, zeros)
            empty = hashes.Hash(hashes.SHA384()).finalize()
            hs = self._hmac(self._expand_label(early, b"derived", empty, 48), shared)
            secrets = [self._expand_label(hs, b"c hs traffic", points[1], 48),
                       self._expand_label(hs, b"s hs traffic", points[1], 48)]
            main = self._hmac(self._expand_label(hs, b"derived", empty, 48), zeros)
            secrets += [self._expand_label(main, b"c ap traffic", points[5], 48),
                        self._expand_label(main, b"s ap traffic", points[5], 48)]
            for secret in secrets:
                self._expand_label(secret, b"key", b"", 32)
                self._expand_label(secret, b"iv", b"", 12)
            for secret in secrets[:2]:
                self._hmac(self._expand_label(secret, b"finished", b"", 48), points[-1])
            res = self._expand_label(main, b"res master", points[-1], 48)
            for nonce in (b"\x00", b"\x01"):
                self._expand_label(res, b"resumption", nonce, 48)
        self._peer_auth(b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + points[3])
        self._records([sum(map(len, self.messages[2:])), 52, 200, 200])

    def handshake12(self) -> None:
        hashes = self.hashes
        shared = self._shares()
        for _side in range(2):
            t = hashes.Hash(hashes.SHA384())
            for m in self.messages[:4]:
                t.update(m)
            session_hash = t.copy().finalize()
            master = self._prf(shared, b"extended master secret" + session_hash, 48)
            self._prf(master, b"key expansion" + bytes(64), 2 * 32 + 2 * 4)
            for label in (b"client finished", b"server finished"):
                self._prf(master, label + t.copy().finalize(), 12)
        self._peer_auth(bytes(64) + self.messages[2])
        self._records([16, 16])

    def _prf(self, secret: bytes, seed: bytes, length: int) -> bytes:
        out = b""
        a = seed
        while len(out) < length:
            a = self._hmac(secret, a)
            out += self._hmac(secret, a + seed)
        return out[:length]

    def _records(self, sizes: list[int]) -> None:
        key, iv = os.urandom(32), os.urandom(12)
        for seq, size in enumerate(sizes):
            self._seal_open(self.AESGCM(key), iv, seq, bytes(size))

    def _seal_open(self, aead: Any, iv: bytes, seq: int, plaintext: bytes) -> bytes:
        nonce = (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")
        header = b"\x17\x03\x03" + (len(plaintext) + 17).to_bytes(2, "big")
        sealed = aead.encrypt(nonce, plaintext + b"\x17", header)
        return bytes(aead.decrypt(nonce, sealed, header))

    def _cbc_transfer(self, chunk: bytes, count: int) -> int:
        """AES-128-CBC + HMAC-SHA256, encrypt-then-MAC (RFC 7366), the cheapest correct calls: one encryptor and
        one decryptor per connection (each record's explicit IV is the previous record's last ciphertext block, so
        the stream is plain CBC), the MAC keyed once and copied per record, the padding made and checked in C."""
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        key, mac_key = os.urandom(16), os.urandom(32)
        enc = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
        dec = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).decryptor()
        keyed = self.hmac.HMAC(mac_key, self.hashes.SHA256())
        iv = bytes(16)
        pad = 15 - len(chunk) % 16
        padding = bytes((pad,)) * (pad + 1)
        received = 0
        for seq in range(count):
            blocks = iv + enc.update(chunk + padding)  # IV || CBC(content || padding)
            iv = blocks[-16:]
            header = seq.to_bytes(8, "big") + b"\x17\x03\x03" + len(blocks).to_bytes(2, "big")
            mac = keyed.copy()
            mac.update(header)
            mac.update(blocks)
            record = blocks + mac.finalize()
            # the peer: the MAC first, then decrypt and strip the padding
            check = keyed.copy()
            check.update(header)
            check.update(record[:-32])
            if not hmac_compare(check.finalize(), record[-32:]):
                raise RuntimeError("ceiling: MAC mismatch")
            plain = dec.update(record[:-32])[16:]
            received += len(plain) - plain[-1] - 1
        return received

    def new_pair(self, version: str) -> Pair:
        ceiling = self
        aead_key, iv = os.urandom(32), os.urandom(12)

        class CeilingPair(Pair):
            def handshake(self) -> None:
                ceiling.handshake13() if version == "1.3" else ceiling.handshake12()

            def transfer(self, chunk: bytes, count: int) -> int:
                if version in ("1.2cbc", "1.2mte"):
                    return ceiling._cbc_transfer(chunk, count)
                aead = ceiling.AESGCM(aead_key)  # made once per connection, as the stacks do
                received = 0
                for seq in range(count):
                    received += len(ceiling._seal_open(aead, iv, seq, chunk)) - 1
                return received

            def describe(self) -> tuple[str, str]:
                return _VERSION_NAMES[version], _suite(version)

            def close(self) -> None:
                pass

        return CeilingPair()


# --- measuring ------------------------------------------------------------------------------------------------------
@dataclass
class Figures:
    hs_cpu: list[float] = field(default_factory=list)  # handshakes per CPU second, one per round
    hs_wall: list[float] = field(default_factory=list)
    bulk_cpu: list[float] = field(default_factory=list)  # MiB per CPU second
    bulk_wall: list[float] = field(default_factory=list)
    hs_count: int = 1
    bulk_count: int = 1


def measure_handshakes(new_pair: Callable[[], Pair], count: int) -> tuple[float, float]:
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(count):
        pair = new_pair()
        pair.handshake()
        pair.close()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return count / max(cpu, 1e-9), count / max(wall, 1e-9)


def measure_bulk(new_pair: Callable[[], Pair], count: int) -> tuple[float, float]:
    pair = new_pair()
    pair.handshake()
    chunk = bytes(range(256)) * (CHUNK // 256)
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    received = pair.transfer(chunk, count)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    pair.close()
    if received != count * CHUNK:
        raise RuntimeError(f"received {received} bytes of {count * CHUNK}")
    mib = received / (1024 * 1024)
    return mib / max(cpu, 1e-9), mib / max(wall, 1e-9)


def _calibrate(new_pair: Callable[[], Pair], seconds: float) -> tuple[int, int]:
    hs_rate, _ = measure_handshakes(new_pair, 3)
    bulk_rate, _ = measure_bulk(new_pair, 16)
    return max(2, round(hs_rate * seconds)), max(4, round(bulk_rate * 64 * seconds))  # 64 chunks per MiB


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_child(name: str, version: str, pairs: int) -> int:
    """Resident bytes per idle connection pair, printed as JSON (run in a fresh process per stack)."""
    driver = make_driver(name, version)
    warm = [driver.new_pair() for _ in range(3)]
    for p in warm:
        p.handshake()
    def batch() -> list[Pair]:
        kept = []
        for _ in range(pairs):
            p = driver.new_pair()
            p.handshake()
            kept.append(p)
        gc.collect()
        return kept

    gc.collect()
    before = _rss()
    first = batch()
    rss = (_rss() - before) / pairs
    # A second batch under tracemalloc (which has its own memory cost, hence after the RSS figure): the part of it
    # that is Python objects.
    tracemalloc.start()
    traced = tracemalloc.get_traced_memory()[0]
    second = batch()
    python = (tracemalloc.get_traced_memory()[0] - traced) / pairs
    tracemalloc.stop()
    print(json.dumps({"bytes_per_pair": rss, "python_bytes_per_pair": python, "pairs": len(first) + len(second)}))
    return 0


def memory_per_pair(name: str, version: str, pairs: int) -> dict[str, float] | None:
    proc = subprocess.run([sys.executable, __file__, "--memory-child", name, "--versions", version,
                           "--pairs", str(pairs)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        print(f"benchmark: memory of {name} not measured: {proc.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _ratios(a: list[float], b: list[float]) -> dict[str, float]:
    r = [x / y for x, y in zip(a, b, strict=True)]
    return {"median": statistics.median(r), "min": min(r), "max": max(r)}


def _fmt(r: dict[str, float] | None) -> str:
    if r is None:
        return "-"
    return f"{r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f})"


def run_version(version: str, names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    drivers: dict[str, Driver] = {}
    for name in names:
        try:
            driver = make_driver(name, version)
            probe = driver.new_pair()
            probe.handshake()
            got = probe.describe()
            probe.close()
        except Skip as exc:
            print(f"benchmark: TLS {version}: skipping {name}: {exc}", file=sys.stderr)
            continue
        except Exception as exc:  # a stack that cannot do this version at all
            print(f"benchmark: TLS {version}: skipping {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        want = (_VERSION_NAMES[version], _suite(version))
        if got != want:
            print(f"benchmark: TLS {version}: skipping {name}: negotiated {got}, not {want}", file=sys.stderr)
            continue
        drivers[name] = driver
    ceiling = Ceiling()
    drivers["ceiling"] = Driver("ceiling", "cryptography calls alone", lambda: ceiling.new_pair(version),
                                host_name_checked=False, note="no TLS logic: the limit of `cryptography` here")
    figures = {name: Figures() for name in drivers}
    for name, driver in drivers.items():
        figures[name].hs_count, figures[name].bulk_count = _calibrate(driver.new_pair, args.seconds)
    for round_no in range(args.rounds):
        order = list(drivers) if round_no % 2 == 0 else list(reversed(drivers))
        for name in order:
            f = figures[name]
            cpu, wall = measure_handshakes(drivers[name].new_pair, f.hs_count)
            f.hs_cpu.append(cpu)
            f.hs_wall.append(wall)
            cpu, wall = measure_bulk(drivers[name].new_pair, f.bulk_count)
            f.bulk_cpu.append(cpu)
            f.bulk_wall.append(wall)
        print(f"TLS {version}: round {round_no + 1}/{args.rounds} done", file=sys.stderr)
    result: dict[str, Any] = {}
    ref_hs = figures.get("pyopenssl")
    ref_bulk = figures.get("stdlib")
    top = figures["ceiling"]
    for name, driver in drivers.items():
        f = figures[name]
        memory = None if name == "ceiling" or not args.pairs else memory_per_pair(name, version, args.pairs)
        result[name] = {
            "version": driver.version, "host_name_checked": driver.host_name_checked, "note": driver.note,
            "handshakes_per_cpu_s": statistics.median(f.hs_cpu), "handshakes_per_wall_s": statistics.median(f.hs_wall),
            "bulk_mib_per_cpu_s": statistics.median(f.bulk_cpu), "bulk_mib_per_wall_s": statistics.median(f.bulk_wall),
            "handshakes_per_round": f.hs_count, "bulk_chunks_per_round": f.bulk_count,
            "handshake_x_pyopenssl": _ratios(f.hs_cpu, ref_hs.hs_cpu) if ref_hs else None,
            "handshake_x_pyopenssl_wall": _ratios(f.hs_wall, ref_hs.hs_wall) if ref_hs else None,
            "handshake_x_ceiling": _ratios(f.hs_cpu, top.hs_cpu),
            "bulk_x_stdlib": _ratios(f.bulk_cpu, ref_bulk.bulk_cpu) if ref_bulk else None,
            "bulk_x_stdlib_wall": _ratios(f.bulk_wall, ref_bulk.bulk_wall) if ref_bulk else None,
            "bulk_x_ceiling": _ratios(f.bulk_cpu, top.bulk_cpu),
            "memory_bytes_per_idle_pair": memory,
            "rounds": {"handshakes_per_cpu_s": f.hs_cpu, "handshakes_per_wall_s": f.hs_wall,
                       "bulk_mib_per_cpu_s": f.bulk_cpu, "bulk_mib_per_wall_s": f.bulk_wall},
        }
    return result


def print_table(version: str, result: dict[str, Any]) -> None:
    print(f"\nTLS {version}: CPU time; ratios are medians of per-round ratios (min-max); wall-time figures in the "
          "JSON;\nKiB/pair: resident memory per idle connection pair; py KiB: the part that is Python objects "
          "(tracemalloc)")
    print(f"{'stack':<10} {'hs/s':>7} {'x pyOpenSSL':>17} {'x ceiling':>17} {'MiB/s':>7} {'x stdlib':>17} "
          f"{'x ceiling':>17} {'KiB/pair':>8} {'py KiB':>6} {'host':>4}  library")
    for name, r in result.items():
        mem = r["memory_bytes_per_idle_pair"] or {}
        rss, py = mem.get("bytes_per_pair"), mem.get("python_bytes_per_pair")
        print(f"{name:<10} {r['handshakes_per_cpu_s']:>7.0f} {_fmt(r['handshake_x_pyopenssl']):>17} "
              f"{_fmt(r['handshake_x_ceiling']):>17} {r['bulk_mib_per_cpu_s']:>7.0f} {_fmt(r['bulk_x_stdlib']):>17} "
              f"{_fmt(r['bulk_x_ceiling']):>17} {'-' if rss is None else f'{rss / 1024:.0f}':>8} "
              f"{'-' if py is None else f'{py / 1024:.0f}':>6} "
              f"{'yes' if r['host_name_checked'] else 'no':>4}  {r['version']}")
    for name, r in result.items():
        if r["note"]:
            print(f"  {name}: {r['note']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--stack", action="append", default=[], help="stack to measure (repeatable; default: "
                        + ", ".join(DEFAULT_STACKS) + ")")
    parser.add_argument("--versions", default="1.3,1.2,1.2cbc",
                        help="TLS versions to measure: 1.3, 1.2 (AES-GCM), 1.2cbc (TLS 1.2 with AES-CBC + HMAC, "
                        "encrypt-then-MAC) and 1.2mte (the same, MAC-then-encrypt); default 1.3,1.2,1.2cbc")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; medians are reported (default 7)")
    parser.add_argument("--seconds", type=float, default=0.6,
                        help="CPU seconds one measurement aims at (calibrated per stack; default 0.6)")
    parser.add_argument("--pairs", type=int, default=200,
                        help="idle connection pairs for the memory figure (0: skip; default 200)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child, args.versions, args.pairs)
    names = args.stack or list(DEFAULT_STACKS)
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    if any(v not in _PROTO for v in versions):
        print(f"benchmark: --versions takes 1.3, 1.2, 1.2cbc and/or 1.2mte, not {args.versions!r}", file=sys.stderr)
        return 2
    out: dict[str, Any] = {"group": GROUP, "suite13": SUITE13, "suite12": SUITE12, "suite12cbc": SUITE12_CBC,
                           "write_size": CHUNK, "rounds": args.rounds, "seconds": args.seconds, "pairs": args.pairs,
                           "clock": "time.process_time (CPU); time.perf_counter (wall)", "versions": {}}
    measured = False
    for version in versions:
        result = run_version(version, names, args)
        if len(result) > 1:  # more than the ceiling
            measured = True
        out["versions"][version] = result
        print_table(version, result)
    if not measured:
        print("benchmark: no stack to measure", file=sys.stderr)
        return 2
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
        print(f"\nwritten: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
