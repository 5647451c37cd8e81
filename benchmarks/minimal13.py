"""A lower bound for a TLS 1.3 handshake written in Python over ``cryptography``: the engine's cryptographic work with
the least framing that still puts real TLS 1.3 bytes on the wire.

``handshake()`` runs a client and a server in one straight line of code (no state machine, no layers, no events,
no error handling beyond what the crypto checks itself): the ClientHello and ServerHello are encoded and parsed
(extensions walked to find the key share), EncryptedExtensions, Certificate, CertificateVerify, Finished and two
NewSessionTickets are each sent as one AES-256-GCM record, the transcript is SHA-384, the key schedule is HKDF as
HMAC keyed once per secret with precomputed labels (RFC 9846 section 7.1), the server signs with ECDSA P-256, and the
client checks the chain and host name with ``cryptography``'s ServerVerifier built for the handshake, the
CertificateVerify signature and the server's Finished; the server checks the client's Finished and seals two
tickets. It is the engine's crypto call for call (benchmarks/breakdown.py lists those), so the difference between
this and the engine is the engine's TLS logic, and the difference between this and the ceiling of
benchmarks/run.py is the smallest framing any Python TLS 1.3 stack must pay.

What it deliberately leaves out, and any real stack has: alerts, validation of lengths and values, extension
negotiation beyond the key share, HelloRetryRequest, PSK, the SSL/BIO API, buffering partial records, callbacks.

    python benchmarks/minimal13.py --rounds 7 --seconds 0.6

Prints CPU time per handshake pair of the minimal handshake, the ceiling, the engine and pyOpenSSL, measured in
interleaved rounds (medians of per-round ratios to pyOpenSSL, min-max).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import struct
import sys
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.verification import PolicyBuilder, Store

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # benchmarks/run.py, beside this file

from conformance.certs import SERVER_NAME, default_pki

SHA384 = hashes.SHA384()
ECDSA256 = ec.ECDSA(hashes.SHA256())
RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw
HL = 48
ZEROS = bytes(HL)
EMPTY_HASH = hashes.Hash(SHA384).finalize()
CV_PREFIX = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00"


def _label(label: bytes, length: int) -> bytes:
    full = b"tls13 " + label
    return struct.pack(">HB", length, len(full)) + full


# HkdfLabel prefixes (length, label), built once (RFC 9846 section 7.1)
L_DERIVED, L_CHS, L_SHS = _label(b"derived", HL), _label(b"c hs traffic", HL), _label(b"s hs traffic", HL)
L_CAP, L_SAP, L_RES = _label(b"c ap traffic", HL), _label(b"s ap traffic", HL), _label(b"res master", HL)
L_KEY, L_IV, L_FIN, L_PSK = _label(b"key", 32), _label(b"iv", 12), _label(b"finished", HL), _label(b"resumption", HL)


def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.HMAC(key, SHA384)


def _expand(keyed: hmac.HMAC, prefix: bytes, context: bytes, length: int = HL) -> bytes:
    """HKDF-Expand-Label for outputs of at most one hash length: one HMAC block."""
    h = keyed.copy()
    h.update(prefix + bytes((len(context),)) + context + b"\x01")
    return h.finalize()[:length]


def _extract(salt: bytes, ikm: bytes) -> hmac.HMAC:
    h = _keyed(salt)
    h.update(ikm)
    return _keyed(h.finalize())


class _Protect:
    """One direction's AES-256-GCM record protection (RFC 9846 section 5.2/5.3)."""

    __slots__ = ("aead", "iv", "seq")

    def __init__(self, secret: bytes) -> None:
        keyed = _keyed(secret)
        self.aead = AESGCM(_expand(keyed, L_KEY, b"", 32))
        self.iv = int.from_bytes(_expand(keyed, L_IV, b"", 12), "big")
        self.seq = 0

    def seal(self, message: bytes, content_type: bytes = b"\x16") -> bytes:
        header = b"\x17\x03\x03" + struct.pack(">H", len(message) + 17)
        nonce = (self.iv ^ self.seq).to_bytes(12, "big")
        self.seq += 1
        return header + self.aead.encrypt(nonce, message + content_type, header)

    def open(self, record: bytes) -> bytes:
        nonce = (self.iv ^ self.seq).to_bytes(12, "big")
        self.seq += 1
        inner = self.aead.decrypt(nonce, record[5:], record[:5])
        return inner[:-1]  # no padding is sent here; the type byte is the last one


def _hs(msg_type: int, body: bytes) -> bytes:
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body


def _extensions(data: bytes, pos: int) -> dict[int, bytes]:
    end = pos + 2 + int.from_bytes(data[pos:pos + 2], "big")
    pos += 2
    found = {}
    while pos < end:
        etype, elen = struct.unpack_from(">HH", data, pos)
        found[etype] = data[pos + 4:pos + 4 + elen]
        pos += 4 + elen
    return found


class Minimal13:
    """Context-level state (as an SSL_CTX holds it): the server's key, its certificate's DER, the client's trust
    store, the ticket key. Everything else happens per handshake."""

    def __init__(self) -> None:
        pki = default_pki()
        self.server_key: Any = serialization.load_pem_private_key(pki.server.key_path.read_bytes(), None)
        self.server_der = x509.load_pem_x509_certificate(pki.server.cert_path.read_bytes()).public_bytes(
            serialization.Encoding.DER)
        self.store = Store([x509.load_pem_x509_certificate(pki.ca_pem)])
        self.host = x509.DNSName(SERVER_NAME)
        self.ticket_aead = AESGCM(os.urandom(32))
        sni = SERVER_NAME.encode()
        self.sni_ext = struct.pack(">HHHBH", 0, len(sni) + 5, len(sni) + 3, 0, len(sni)) + sni

    def handshake(self) -> tuple[_Protect, _Protect]:
        """One full handshake; returns the client's application write protection and the server's read one."""
        # --- client: ClientHello --------------------------------------------------------------------------------
        ck = x25519.X25519PrivateKey.generate()
        cshare = ck.public_key().public_bytes(*RAW)
        exts = (b"\x00\x2b\x00\x03\x02\x03\x04"  # supported_versions: TLS 1.3
                b"\x00\x0a\x00\x04\x00\x02\x00\x1d"  # supported_groups: x25519
                b"\x00\x0d\x00\x04\x00\x02\x04\x03"  # signature_algorithms: ecdsa_secp256r1_sha256
                + self.sni_ext
                + b"\x00\x33\x00\x26\x00\x24\x00\x1d\x00\x20" + cshare)  # key_share
        session_id = os.urandom(32)
        ch = _hs(1, b"\x03\x03" + os.urandom(32) + b"\x20" + session_id + b"\x00\x02\x13\x02\x01\x00"
                 + struct.pack(">H", len(exts)) + exts)
        wire = b"\x16\x03\x01" + struct.pack(">H", len(ch)) + ch

        # --- server: parse the ClientHello, ServerHello, keys, flight -------------------------------------------
        s_ch = wire[5:]
        pos = 4 + 2 + 32
        sid = s_ch[pos + 1:pos + 1 + s_ch[pos]]
        pos += 1 + len(sid)
        pos += 2 + int.from_bytes(s_ch[pos:pos + 2], "big")  # cipher suites (TLS_AES_256_GCM_SHA384 assumed)
        pos += 1 + s_ch[pos]  # compression methods
        ch_exts = _extensions(s_ch, pos)
        ks = ch_exts[0x33]
        peer_share = ks[6:6 + 32]  # the one x25519 entry
        sk = x25519.X25519PrivateKey.generate()
        s_shared = sk.exchange(x25519.X25519PublicKey.from_public_bytes(peer_share))
        sh = _hs(2, b"\x03\x03" + os.urandom(32) + b"\x20" + sid + b"\x13\x02\x00\x00\x2e"
                 b"\x00\x2b\x00\x02\x03\x04\x00\x33\x00\x24\x00\x1d\x00\x20" + sk.public_key().public_bytes(*RAW))
        s_t = hashes.Hash(SHA384)
        s_t.update(s_ch)
        s_t.update(sh)
        s_wire = [b"\x16\x03\x03" + struct.pack(">H", len(sh)) + sh, b"\x14\x03\x03\x00\x01\x01"]
        s_keys = self._schedule(s_shared, s_t.copy().finalize())
        s_out, s_in = _Protect(s_keys[1]), _Protect(s_keys[0])
        ee = _hs(8, b"\x00\x00")
        der = self.server_der
        cert = _hs(11, b"\x00" + (len(der) + 5).to_bytes(3, "big") + len(der).to_bytes(3, "big") + der + b"\x00\x00")
        s_t.update(ee)
        s_t.update(cert)
        sig = self.server_key.sign(CV_PREFIX + s_t.copy().finalize(), ECDSA256)
        cv = _hs(15, b"\x04\x03" + struct.pack(">H", len(sig)) + sig)
        s_t.update(cv)
        s_fin = _hs(20, _fin(s_keys[1], s_t.copy().finalize()))
        s_t.update(s_fin)
        s_th = s_t.copy().finalize()
        s_main = s_keys[2]
        for m in (ee, cert, cv, s_fin):
            s_wire.append(s_out.seal(m))
        s_app_out = _Protect(_expand(s_main, L_SAP, s_th))
        s_app_in = _Protect(_expand(s_main, L_CAP, s_th))

        # --- client: ServerHello, flight, Finished ------------------------------------------------------------
        c_sh = s_wire[0][5:]
        pos = 4 + 2 + 32
        pos += 1 + c_sh[pos] + 3
        sh_exts = _extensions(c_sh, pos)
        c_shared = ck.exchange(x25519.X25519PublicKey.from_public_bytes(sh_exts[0x33][4:36]))
        c_t = hashes.Hash(SHA384)
        c_t.update(ch[0:])
        c_t.update(c_sh)
        c_keys = self._schedule(c_shared, c_t.copy().finalize())
        c_in, c_out = _Protect(c_keys[1]), _Protect(c_keys[0])
        c_ee = c_in.open(s_wire[2])
        c_t.update(c_ee)
        c_cert = c_in.open(s_wire[3])
        c_t.update(c_cert)
        leaf_len = int.from_bytes(c_cert[5 + 3:5 + 6], "big")
        leaf = x509.load_der_x509_certificate(c_cert[11:11 + leaf_len])
        now = datetime.datetime.now(datetime.UTC)
        PolicyBuilder().store(self.store).time(now).max_chain_depth(255).build_server_verifier(
            self.host).verify(leaf, [])
        c_cv = c_in.open(s_wire[4])
        leaf_key: Any = leaf.public_key()
        leaf_key.verify(c_cv[8:], CV_PREFIX + c_t.copy().finalize(), ECDSA256)
        c_t.update(c_cv)
        c_sfin = c_in.open(s_wire[5])
        if c_sfin[4:] != _fin(c_keys[1], c_t.copy().finalize()):
            raise RuntimeError("server Finished")
        c_t.update(c_sfin)
        c_th = c_t.copy().finalize()
        c_main = c_keys[2]
        c_app_in = _Protect(_expand(c_main, L_SAP, c_th))
        c_app_out = _Protect(_expand(c_main, L_CAP, c_th))
        c_fin = _hs(20, _fin(c_keys[0], c_th))
        c_t.update(c_fin)
        c_res = _keyed(_expand(c_main, L_RES, c_t.finalize()))
        c_wire = [b"\x14\x03\x03\x00\x01\x01", c_out.seal(c_fin)]

        # --- server: client Finished, two tickets ---------------------------------------------------------------
        s_cfin = s_in.open(c_wire[1])
        if s_cfin[4:] != _fin(s_keys[0], s_th):
            raise RuntimeError("client Finished")
        s_t.update(s_cfin)
        s_res = _keyed(_expand(s_main, L_RES, s_t.finalize()))
        tickets = []
        for n in (1, 2):
            nonce = n.to_bytes(8, "big")
            psk = _expand(s_res, L_PSK, nonce)
            tnonce = os.urandom(12)
            ticket = tnonce + self.ticket_aead.encrypt(tnonce, psk + b"\x13\x02" + os.urandom(12), b"tls13 ticket")
            body = struct.pack(">IIB", 7200, int.from_bytes(os.urandom(4), "big"), 8) + nonce + struct.pack(
                ">H", len(ticket)) + ticket + b"\x00\x00"
            tickets.append(s_app_out.seal(_hs(4, body)))

        # --- client: the tickets ------------------------------------------------------------------------------
        for record in tickets:
            nst = c_app_in.open(record)
            nonce = nst[4 + 9:4 + 17]
            _expand(c_res, L_PSK, nonce)  # the ticket's PSK, kept with the session
        return c_app_out, s_app_in

    @staticmethod
    def _schedule(shared: bytes, hello_hash: bytes) -> tuple[bytes, bytes, hmac.HMAC]:
        early = _extract(ZEROS, ZEROS)
        hs = _extract(_expand(early, L_DERIVED, EMPTY_HASH), shared)
        chs, shs = _expand(hs, L_CHS, hello_hash), _expand(hs, L_SHS, hello_hash)
        main = _extract(_expand(hs, L_DERIVED, EMPTY_HASH), ZEROS)
        return chs, shs, main


def _fin(secret: bytes, transcript_hash: bytes) -> bytes:
    key = _expand(_keyed(secret), L_FIN, b"")
    h = _keyed(key)
    h.update(transcript_hash)
    return h.finalize()


class MinimalPair(run.Pair):
    def __init__(self, m: Minimal13) -> None:
        self.m = m
        self.protections: tuple[_Protect, _Protect] | None = None

    def handshake(self) -> None:
        self.protections = self.m.handshake()

    def transfer(self, chunk: bytes, count: int) -> int:
        """Application data records, sealed by the client and opened by the server (no framing beyond that)."""
        assert self.protections is not None
        out, into = self.protections
        received = 0
        for _ in range(count):
            received += len(into.open(out.seal(chunk, b"\x17")))
        return received

    def describe(self) -> tuple[str, str]:
        return "TLSv1.3", run.SUITE13

    def close(self) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.6)
    parser.add_argument("--stack", action="append", default=[], help="stacks beside minimal and ceiling "
                        "(default engine, pyopenssl)")
    args = parser.parse_args(argv)
    minimal = Minimal13()
    ceiling = run.Ceiling()
    makers: dict[str, Any] = {"minimal": lambda: MinimalPair(minimal), "ceiling": lambda: ceiling.new_pair("1.3")}
    for name in args.stack or ["engine", "pyopenssl"]:
        makers[name] = run.make_driver(name, "1.3").new_pair
    counts = {}
    for name, make in makers.items():
        rate, _ = run.measure_handshakes(make, 5)
        counts[name] = max(5, round(rate * args.seconds))
    per: dict[str, list[float]] = {name: [] for name in makers}
    load0 = os.getloadavg()[0]
    for r in range(args.rounds):
        for name in list(makers) if r % 2 == 0 else list(reversed(makers)):
            rate, _ = run.measure_handshakes(makers[name], counts[name])
            per[name].append(1e6 / rate)
    load1 = os.getloadavg()[0]
    ref = per.get("pyopenssl")
    print(f"TLS 1.3 handshake pair, CPU us (median of {args.rounds} interleaved rounds; load {load0:.1f}-{load1:.1f})")
    for name, us in per.items():
        line = f"  {name:<10} {statistics.median(us):7.0f} us"
        if ref:
            ratios = [b / a for a, b in zip(us, ref, strict=True)]
            line += f"   x pyOpenSSL {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
