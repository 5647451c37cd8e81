"""The server's per-hello choices that depend on the application: the SNI answer and the certificate.

* :func:`server_name_answer`: the host name a ClientHello's server_name extension carries (RFC 6066 section 3),
  passed to the application's callback when there is one; the callback says whether the server acknowledges it (an
  empty server_name extension in EncryptedExtensions / ServerHello) or raises an alert to end the handshake.
* :func:`choose_certificate13`: with one certificate, the scheme is the first of ours the client accepts and the
  key can make (unchanged behaviour). With several (an RSA and an ECDSA key on one server), the client's
  signature_algorithms order decides, as OpenSSL 3.0 does without SSL_OP_CIPHER_SERVER_PREFERENCE
  (``tls1_set_shared_sigalgs`` then ``find_sig_alg``): the first scheme the client lists, that we accept too, for
  which some certificate's key can sign; the pages are silent on this choice.
"""

from __future__ import annotations

from cryptography import x509

from .alerts import AlertDescription, TLSAlertError
from .config import DeclineWithWarning, TLSConfig
from .messages import parse_server_name
from .signatures import PrivateKey, choose_scheme, key_matches_scheme

Candidate = tuple[list[x509.Certificate], PrivateKey]


def server_name_answer(config: TLSConfig, body: bytes | None) -> tuple[str | None, bool, int | None]:
    """``(host name or None, acknowledge, warning alert)`` for a ClientHello's server_name extension ``body``
    (None: absent). The callback's :class:`DeclineWithWarning` declines the name with a warning alert, which only
    a TLS 1.2 server sends (TLS 1.3 has no warning alerts)."""
    name = parse_server_name(body) if body is not None else None
    answer: bool | DeclineWithWarning = True
    if config.server_name_callback is not None:
        answer = config.server_name_callback(name)
    if isinstance(answer, DeclineWithWarning):
        return name, False, answer.alert
    return name, answer and name is not None, None


def candidates(config: TLSConfig) -> list[Candidate]:
    """Every certificate chain the server holds with its key: the main one first, then ``certificates``."""
    found: list[Candidate] = []
    if config.certificate_chain and config.private_key is not None:
        found.append((config.certificate_chain, config.private_key))
    found.extend((chain, key) for chain, key in config.certificates if chain)
    return found


def choose_certificate13(config: TLSConfig, client_schemes: list[int]) -> tuple[list[x509.Certificate], PrivateKey,
                                                                                  int]:
    """``(chain, key, scheme)`` for a TLS 1.3 server (RFC 9846 section 4.4.2.2): handshake_failure when no
    certificate can sign with a scheme the client accepts, internal_error when there is no certificate at all."""
    found = candidates(config)
    if not found:
        raise TLSAlertError(AlertDescription.internal_error, "server has no certificate")
    ours = config.signature_algorithms
    if len(found) == 1:
        chain, key = found[0]
        scheme = choose_scheme(key, ours, client_schemes)
        if scheme is not None:
            return chain, key, scheme
    else:
        for scheme in client_schemes:
            if scheme not in ours:
                continue
            for chain, key in found:
                if key_matches_scheme(key, scheme):
                    return chain, key, scheme
    raise TLSAlertError(AlertDescription.handshake_failure, "no common signature scheme")
