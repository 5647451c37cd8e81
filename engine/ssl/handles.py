"""Reference-counted certificate and key handles (``X509 *`` is :class:`engine.ssl.verify.X509`, ``EVP_PKEY *`` is
:class:`EVP_PKEY`), their free functions, and the pair a client-certificate callback hands back
(SSL_CTX_set_client_cert_cb.pod; the callback convention is in ``conformance/capi/__init__.py``)."""

from __future__ import annotations

from engine.ssl import constants as K
from engine.ssl.context import use_certificate, use_private_key
from engine.ssl.errors import raise_ssl
from engine.ssl.verify import X509
from engine.tls.signatures import PrivateKey

__all__ = ["EVP_PKEY", "EVP_PKEY_free", "X509_free", "install_callback_pair", "live_x509"]


class EVP_PKEY:
    """An opaque private-key handle (the engine's ``EVP_PKEY *``) with its reference count."""

    __slots__ = ("key", "references")

    def __init__(self, key: PrivateKey) -> None:
        self.key = key
        self.references = 1


def live_x509(x: object) -> X509 | None:
    return x if isinstance(x, X509) and x.references > 0 else None


def X509_free(a: X509 | None) -> None:
    """Release one reference; NULL is ignored (OpenSSL 3.0's X509_free(NULL) does nothing)."""
    x = live_x509(a)
    if x is not None:
        x.references -= 1


def EVP_PKEY_free(pkey: EVP_PKEY | None) -> None:
    if isinstance(pkey, EVP_PKEY) and pkey.references > 0:
        pkey.references -= 1


def install_callback_pair(ssl: object, answer: object) -> int:
    """The result of a client-certificate callback: ``ret`` or ``(ret, x509, pkey)``. With 1 and both objects, they
    are installed on ``ssl`` (they stay there: SSL_CTX_set_client_cert_cb NOTES / BUGS); the references handed over
    are released either way. Returns the callback's value as it counts: <0 suspend, 1 send the pair, 0 send none
    (1 without both objects counts as 0 with SSL_R_BAD_DATA_RETURNED_BY_CALLBACK, as OpenSSL 3.0 does: the page
    says only that a pair "must be set")."""
    x: object = None
    pkey: object = None
    if isinstance(answer, tuple) and len(answer) == 3:
        ret, x, pkey = answer
    else:
        ret = answer
    if not isinstance(ret, int) or isinstance(ret, bool):
        ret = 0
    if ret < 0:
        return ret
    cert = live_x509(x)
    key = pkey if isinstance(pkey, EVP_PKEY) and pkey.references > 0 else None
    if ret == 1:
        if cert is None or key is None:
            raise_ssl(K.SSL_R_BAD_DATA_RETURNED_BY_CALLBACK, "tls_prepare_client_certificate")
            ret = 0
        else:
            use_certificate(ssl, [cert.cert], keep_chain=True)
            use_private_key(ssl, key.key)
    else:
        ret = 0
    X509_free(cert)
    EVP_PKEY_free(key)
    return ret
