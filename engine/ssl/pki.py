"""Certificates and keys as C-API handles: what a client-certificate callback hands back, the peer's certificate,
and the list of acceptable certificate authorities a server sends.

* ``X509`` (:mod:`engine.ssl.verify`) and :class:`EVP_PKEY` are handles with a reference count. A function that
  hands over a reference (``PEM_read_bio_X509``, ``SSL_get1_peer_certificate``) leaves the caller one to release
  with ``X509_free`` / ``EVP_PKEY_free``; a handle whose count reached zero is dead, and the functions here answer
  it as they answer NULL (the misuse C would allow and the engine refuses).
* ``PEM_read_bio_X509`` / ``PEM_read_bio_PrivateKey`` read a BIO line by line up to the end of the first PEM block
  of their kind (earlier blocks of other kinds are skipped), as OpenSSL's PEM readers do; the optional ``x``, ``cb``
  and ``u`` arguments must be NULL (no reuse of an object, no password callback).
* The client-certificate callback of SSL_CTX_set_client_cert_cb.pod returns ``(ret, x509, pkey)`` in this
  convention (``conformance/capi/__init__.py``); the SSL takes the references it is handed (OpenSSL 3.0 installs
  the pair with SSL_use_certificate / SSL_use_PrivateKey and then frees what the callback returned).
* ``SSL_CTX_add_client_CA`` adds a CA's subject to the names a server's CertificateRequest lists;
  ``SSL_get_client_CA_list`` gives, on a client, the names the server's request listed (a Python list of
  ``X509_NAME`` handles stands for the ``STACK_OF(X509_NAME)``), on a server the names it sends.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import ObjectIdentifier

from engine import err
from engine.bio import BIO
from engine.bio.core import BIO_gets
from engine.ssl.connection import SSL, live_ssl
from engine.ssl.context import SSL_CTX, live_ctx
from engine.ssl.errors import raise_ssl
from engine.ssl.handles import EVP_PKEY, live_x509
from engine.ssl.verify import X509, X509_NAME

__all__ = [
    "PEM_read_bio_PrivateKey",
    "PEM_read_bio_X509",
    "SSL_CTX_add_client_CA",
    "SSL_get1_peer_certificate",
    "SSL_get_client_CA_list",
    "SSL_get_peer_certificate",
    "decode_name",
]  # fmt: skip

_PEM_R_NO_START_LINE = 108
_PEM_R_BAD_DECRYPT = 101
_MAX_PEM_LINES = 100_000  # a PEM block longer than this is refused (bounded memory on a BIO that never ends)



def _pem_block(bp: object, kinds: tuple[str, ...], func: str) -> tuple[str, bytes] | None:
    """The first PEM block on ``bp`` whose label is one of ``kinds``: (label, text of the block)."""
    if not isinstance(bp, BIO):
        err.ERR_raise(err.ERR_LIB_PEM, err.ERR_R_PASSED_NULL_PARAMETER if bp is None else
                      err.ERR_R_PASSED_INVALID_ARGUMENT, func=func)  # fmt: skip
        return None
    label: str | None = None
    lines: list[bytes] = []
    for _ in range(_MAX_PEM_LINES):
        ret, line = BIO_gets(bp, 1024)
        if ret <= 0:
            break
        text = line.strip()
        if label is None:
            if text.startswith(b"-----BEGIN ") and text.endswith(b"-----"):
                label = text[11:-5].decode("ascii", "replace")
                lines = [text]
            continue
        lines.append(text)
        if text == f"-----END {label}-----".encode():
            if label in kinds:
                return label, b"\n".join(lines) + b"\n"
            label = None
    err.ERR_raise(err.ERR_LIB_PEM, _PEM_R_NO_START_LINE, func=func)
    return None


def PEM_read_bio_X509(bp: BIO | None, x: None = None, cb: None = None, u: None = None) -> X509 | None:
    """The first certificate on ``bp`` (one reference for the caller), NULL with a PEM entry when none is there."""
    block = _pem_block(bp, ("CERTIFICATE", "X509 CERTIFICATE"), "PEM_read_bio_X509")
    if block is None:
        return None
    try:
        return X509(x509.load_pem_x509_certificate(block[1]))
    except (ValueError, TypeError, x509.InvalidVersion):
        err.ERR_raise(err.ERR_LIB_PEM, _PEM_R_NO_START_LINE, func="PEM_read_bio_X509")
        return None


def PEM_read_bio_PrivateKey(bp: BIO | None, x: None = None, cb: None = None, u: None = None) -> EVP_PKEY | None:
    """The first private key on ``bp`` (PKCS#8, or the traditional RSA / EC forms), NULL when there is none or it
    is encrypted (no password callback)."""
    func = "PEM_read_bio_PrivateKey"
    block = _pem_block(bp, ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), func)
    if block is None:
        return None
    try:
        key = load_pem_private_key(block[1], None)
    except (ValueError, TypeError):
        err.ERR_raise(err.ERR_LIB_PEM, _PEM_R_BAD_DECRYPT, func=func)
        return None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
                      | ed448.Ed448PrivateKey):  # fmt: skip
        err.ERR_raise(err.ERR_LIB_PEM, _PEM_R_NO_START_LINE, func=func)
        return None
    return EVP_PKEY(key)


# --- the peer's certificate -----------------------------------------------------------------------------------------

def SSL_get1_peer_certificate(s: SSL | None) -> X509 | None:
    """The peer's leaf certificate with a reference for the caller (X509_free), NULL when the peer sent none (before
    the handshake; a client a server did not ask). OpenSSL 3.0's page (SSL_get_peer_certificate.pod, outside
    ../shared): the count is raised so the certificate outlives the session; the engine hands a new handle per
    call, which a caller that frees each one cannot tell apart."""
    ssl = live_ssl(s, "SSL_get1_peer_certificate")
    if ssl is None or not ssl.peer_chain:
        return None
    return X509(ssl.peer_chain[0])


def SSL_get_peer_certificate(s: SSL | None) -> X509 | None:
    """OpenSSL 3.0's deprecated name of SSL_get1_peer_certificate (a macro of ssl.h): the same reference rule."""
    ssl = live_ssl(s, "SSL_get_peer_certificate")
    return None if ssl is None else SSL_get1_peer_certificate(ssl)


# --- acceptable certificate authorities -----------------------------------------------------------------------------

def SSL_CTX_add_client_CA(ctx: SSL_CTX | None, cacert: X509 | None) -> int:
    """Add ``cacert``'s subject to the names a server lists in its CertificateRequest: 1, or 0 with an entry."""
    c = live_ctx(ctx, "SSL_CTX_add_client_CA")
    if c is None:
        return 0
    cert = live_x509(cacert)
    if cert is None:
        raise_ssl(err.ERR_R_PASSED_NULL_PARAMETER, "SSL_CTX_add_client_CA")
        return 0
    c.client_ca_names.append(cert.cert.subject.public_bytes())
    return 1


def SSL_get_client_CA_list(s: SSL | None) -> list[X509_NAME] | None:
    """Client: the names of the server's last CertificateRequest (NULL before any; an empty list when it named
    none). Server: the names it sends (NULL when none were set), as OpenSSL 3.0 does."""
    ssl = live_ssl(s, "SSL_get_client_CA_list")
    if ssl is None:
        return None
    if ssl.server:
        names = list(ssl.ctx.client_ca_names)
        return [n for n in map(_name, names) if n is not None] if names else None
    received = None if ssl.conn is None else ssl.conn.peer_ca_names
    if received is None:
        return None
    return [n for n in map(_name, received) if n is not None]


def _name(der: bytes) -> X509_NAME | None:
    name = decode_name(der)
    return None if name is None else X509_NAME(name)


# DER of a Name (RFC 5280 4.1.2.4): SEQUENCE OF SET OF SEQUENCE { OID, string }. cryptography builds Name DER but has
# no public parser for it, so this small reader does; anything it does not understand gives None.
_STRING_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be", 0x1C: "utf-32-be"}


def _tlv(data: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, contents, next offset) of the DER element at ``at``; ValueError when it runs past the end."""
    if at + 2 > len(data):
        raise ValueError("truncated")
    tag, first = data[at], data[at + 1]
    at += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    if at + length > len(data):
        raise ValueError("truncated")
    return tag, data[at : at + length], at + length


def _oid(body: bytes) -> str:
    if not body:
        raise ValueError("empty OID")
    parts = [body[0] // 40, body[0] % 40]
    value = 0
    for b in body[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def decode_name(der: bytes) -> x509.Name | None:
    try:
        tag, body, end = _tlv(der, 0)
        if tag != 0x30 or end != len(der):
            return None
        rdns = []
        at = 0
        while at < len(body):
            tag, rdn, at = _tlv(body, at)
            if tag != 0x31:
                return None
            attrs = []
            inner = 0
            while inner < len(rdn):
                tag, atv, inner = _tlv(rdn, inner)
                otag, oid, pos = _tlv(atv, 0)
                vtag, value, _ = _tlv(atv, pos)
                codec = _STRING_TAGS.get(vtag)
                if tag != 0x30 or otag != 0x06 or codec is None:
                    return None
                attrs.append(x509.NameAttribute(ObjectIdentifier(_oid(oid)), value.decode(codec)))
            rdns.append(x509.RelativeDistinguishedName(attrs))
        return x509.Name(rdns)
    except (ValueError, UnicodeDecodeError, TypeError):
        return None
