"""Certificate chain and name checks with ``cryptography.x509.verification`` (RFC 9846 sections 4.5.1.3, 6.2).

Each failure becomes the alert RFC 9846 section 6.2 names for it: a chain that does not lead to a trusted root is
unknown_ca, an expired or not-yet-valid certificate certificate_expired / bad_certificate, a certificate that does
not parse or does not match the name bad_certificate, an unsupported key type unsupported_certificate.
"""

from __future__ import annotations

import datetime
import ipaddress
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.verification import PolicyBuilder, Store, Subject, VerificationError

from .alerts import AlertDescription, TLSAlertError
from .signatures import PublicKey

_UNPARSABLE = (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType)
"""What cryptography raises for a certificate part it cannot read when the part is first used; the last two are no
ValueError (a duplicate extension was found by the long fuzz run)."""


_PARSED: dict[bytes, x509.Certificate] = {}
"""Certificates already parsed, by their DER bytes: a peer sends the same certificates handshake after handshake, and
an ``x509.Certificate`` is immutable (it also keeps its public key once loaded). Only the parse is shared: every
handshake still verifies the chain it received. Bounded: at most 128 certificates of at most 16 KiB each, emptied
when it is full."""
_PARSED_MAX = 128
_PARSED_MAX_DER = 16384


def load_chain(ders: list[bytes]) -> list[x509.Certificate]:
    chain = []
    for der in ders:
        cert = _PARSED.get(der)
        if cert is None:
            try:
                cert = x509.load_der_x509_certificate(der)
            except (ValueError, x509.InvalidVersion) as exc:  # InvalidVersion (unknown X.509 version): no ValueError
                raise TLSAlertError(AlertDescription.bad_certificate, "certificate does not parse") from exc
            if len(der) <= _PARSED_MAX_DER:
                if len(_PARSED) >= _PARSED_MAX:
                    _PARSED.clear()  # (one call: safe with connections in several threads)
                _PARSED[bytes(der)] = cert
        chain.append(cert)
    return chain


_DER: dict[int, tuple[x509.Certificate, bytes]] = {}
"""Our own certificates' DER encodings, by object identity: a context's chain goes out handshake after handshake and
``public_bytes`` re-encodes it each time (about 10 us a certificate). The entry holds the certificate, so its id is
not reused while cached. Bounded like ``_PARSED``."""


def der_chain(chain: list[x509.Certificate]) -> list[bytes]:
    """The DER encodings of ``chain`` (one of our own chains, sent in a Certificate message)."""
    out = []
    for cert in chain:
        entry = _DER.get(id(cert))
        if entry is None or entry[0] is not cert:
            if len(_DER) >= _PARSED_MAX:
                _DER.clear()
            entry = _DER[id(cert)] = (cert, cert.public_bytes(Encoding.DER))
        out.append(entry[1])
    return out


def leaf_public_key(cert: x509.Certificate) -> PublicKey:
    try:
        key = cert.public_key()
    except Exception as exc:  # unsupported algorithms raise several types
        raise TLSAlertError(AlertDescription.unsupported_certificate, "unsupported public key") from exc
    if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return key
    raise TLSAlertError(AlertDescription.unsupported_certificate, "unsupported public key type")


def _check_times(chain: list[x509.Certificate], now: datetime.datetime) -> None:
    # Only the end-entity certificate: a peer may send unrelated extra certificates (RFC 9846 section 4.5.1).
    for cert in chain[:1]:
        if now > cert.not_valid_after_utc:
            raise TLSAlertError(AlertDescription.certificate_expired, f"certificate expired: {cert.subject}")
        if now < cert.not_valid_before_utc:
            # RFC 9846 section 6.2: certificate_expired covers "expired or not currently valid".
            raise TLSAlertError(AlertDescription.certificate_expired, f"certificate not yet valid: {cert.subject}")


def _alert_for(exc: VerificationError) -> TLSAlertError:
    text = str(exc)
    # An expired intermediate also ends in "candidates exhausted"; its cause decides the alert, so test it first.
    if "not valid at validation time" in text:
        return TLSAlertError(AlertDescription.certificate_expired, text)
    if "candidates exhausted" in text or "no issuer" in text:
        return TLSAlertError(AlertDescription.unknown_ca, text)
    if "unsupported" in text:
        return TLSAlertError(AlertDescription.unsupported_certificate, text)
    return TLSAlertError(AlertDescription.bad_certificate, text)


def _need_roots(roots: list[x509.Certificate]) -> None:
    # With no trust anchor no chain can lead to a known CA (cryptography refuses to build an empty Store).
    if not roots:
        raise TLSAlertError(AlertDescription.unknown_ca, "no trusted root certificates are configured")


@lru_cache(maxsize=64)
def _subject(name: str) -> Subject:  # (the name is checked once per name, not per handshake)
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _own_name(leaf: x509.Certificate) -> Subject:
    """A name the leaf itself carries: cryptography's server verifier always matches a subject, so a check without
    a name matches the certificate against one of its own (the chain, validity and purpose checks stay whole)."""
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise TLSAlertError(AlertDescription.bad_certificate, "server certificate has no subjectAltName") from None
    for ip in san.get_values_for_type(x509.IPAddress):
        return x509.IPAddress(ip)
    for dns in san.get_values_for_type(x509.DNSName):
        if "*" not in dns:
            return x509.DNSName(dns)
        return x509.DNSName(dns.replace("*", "x", 1))
    raise TLSAlertError(AlertDescription.bad_certificate, "server certificate names no DNS name or IP address")


# cryptography stops building a path after 8 intermediates by default; the layer above applies its own limit
# (SSL_CTX_set_verify: NOTES the default verify depth of 100), so the path may be as long as cryptography allows
MAX_CHAIN_DEPTH = 255


_BUILDERS: dict[tuple[int, ...], tuple[list[x509.Certificate], PolicyBuilder]] = {}
"""The trust store and depth limit, made once per set of trusted roots (an SSL_CTX's X509_STORE is made once too):
a ``Store`` and its ``PolicyBuilder`` are immutable, and each handshake still builds its verifier with its own time
and name and verifies the chain it received. Keyed by the roots' identities; the entry holds the roots, so the ids
are not reused while cached. Bounded like ``_PARSED``."""


def _policy(roots: list[x509.Certificate], now: datetime.datetime) -> PolicyBuilder:
    key = tuple(map(id, roots))
    entry = _BUILDERS.get(key)
    if entry is None or any(a is not b for a, b in zip(entry[0], roots, strict=True)):
        if len(_BUILDERS) >= _PARSED_MAX:
            _BUILDERS.clear()
        entry = _BUILDERS[key] = (list(roots), PolicyBuilder().store(Store(roots)).max_chain_depth(MAX_CHAIN_DEPTH))
    return entry[1].time(now)


def verify_server_chain(
    chain: list[x509.Certificate], roots: list[x509.Certificate], server_name: str | None, now: datetime.datetime
) -> list[x509.Certificate]:
    """Path validation of a server chain (leaf first) for the TLS server purpose, plus the name check when a name
    is given (None: the chain alone, as OpenSSL does when no host name is set to verify). Returns the chain that
    was built, leaf first and ending with the trust anchor."""
    _check_times(chain, now)
    _need_roots(roots)
    try:
        subject = _subject(server_name) if server_name is not None else _own_name(chain[0])
        verifier = _policy(roots, now).build_server_verifier(subject)
        return verifier.verify(chain[0], chain[1:])
    except VerificationError as exc:
        failure = _alert_for(exc)
        if server_name is not None and failure.alert == AlertDescription.bad_certificate:
            # cryptography matches the name before it builds the path; OpenSSL 3.0 builds the path first and
            # checks the name last, so a chain that also leads to no known CA is unknown_ca (RFC 9846 section 6.2)
            # whatever the name (the pages are silent on the order; found by the differential runner)
            verify_server_chain(chain, roots, None, now)
        raise failure from None
    except _UNPARSABLE as exc:
        raise TLSAlertError(AlertDescription.bad_certificate, str(exc)) from None


def verify_client_chain(chain: list[x509.Certificate], roots: list[x509.Certificate], now: datetime.datetime
                        ) -> list[x509.Certificate]:  # fmt: skip
    """As :func:`verify_server_chain`, for the TLS client purpose and without a name."""
    _check_times(chain, now)
    _need_roots(roots)
    try:
        verifier = _policy(roots, now).build_client_verifier()
        return verifier.verify(chain[0], chain[1:]).chain
    except VerificationError as exc:
        raise _alert_for(exc) from None
    except _UNPARSABLE as exc:
        raise TLSAlertError(AlertDescription.bad_certificate, str(exc)) from None
