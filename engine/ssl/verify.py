"""The built-in verification procedure of SSL_CTX_set_verify.pod, around ``cryptography``'s path validation.

Theory of operation
===================

Path validation itself (building a chain to a trust anchor, signatures, validity periods, key usage, the name)
is ``cryptography.x509.verification``'s, through :mod:`engine.tls.certificates`. What this module adds is the
OpenSSL surface the page describes on top of it:

1. **Errors per level.** The chain the peer sent is laid out by depth (0 = the peer's certificate, then each
   issuer, the trust anchor last when one was found). Every failure the engine can detect becomes an
   ``X509_V_ERR_*`` code at a depth: a chain that reaches no trust anchor (UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
   SELF_SIGNED_CERT_IN_CHAIN, DEPTH_ZERO_SELF_SIGNED_CERT at the top of what was sent; a lone certificate also
   UNABLE_TO_VERIFY_LEAF_SIGNATURE after it, as OpenSSL 3.0 reports), a certificate outside its
   validity period (CERT_HAS_EXPIRED, CERT_NOT_YET_VALID at its own depth), a peer certificate that does not carry
   the name to verify (HOSTNAME_MISMATCH at depth 0), a chain longer than the verify depth allows
   (CERT_CHAIN_TOO_LONG), anything else cryptography rejects (CERT_REJECTED at depth 0).
2. **The callback walk.** From the deepest level (the trust anchor) up to the peer's certificate, the verify
   callback is called once with ``preverify_ok`` 0 for each error at that level (the error stored in the
   :class:`X509_STORE_CTX`), or once with 1 when the level has none. A return of 0 stops the walk: verification
   failed. Without a callback the default one returns ``preverify_ok``.
3. **The result.** ``SSL_get_verify_result`` is the error the store context holds when the walk ends (the last
   error found, unless the callback cleared it with ``X509_STORE_CTX_set_error``). Verification that failed ends
   the handshake with an alert only when the SSL verifies its peer (server: SSL_VERIFY_PEER; client: any flag,
   SSL_CTX_set_verify.pod BUGS); otherwise the handshake goes on and the result stays readable.

The callback convention of the engine (``conformance.capi``): ``callback(preverify_ok, store_ctx) -> int``, where
``store_ctx`` is an :class:`X509_STORE_CTX` that the ``X509_STORE_CTX_*`` functions below read and write, and
whose ex_data at ``SSL_get_ex_data_X509_STORE_CTX_idx()`` is the SSL doing the verification.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from engine.ssl import constants as K
from engine.tls import certificates
from engine.tls.alerts import AlertDescription, TLSAlertError

__all__ = [
    "DEFAULT_VERIFY_DEPTH",
    "X509",
    "X509_NAME",
    "X509_STORE_CTX",
    "SSL_get_ex_data_X509_STORE_CTX_idx",
    "VerifyCallback",
    "X509_NAME_oneline",
    "X509_STORE_CTX_get_current_cert",
    "X509_STORE_CTX_get_error",
    "X509_STORE_CTX_get_error_depth",
    "X509_STORE_CTX_get_ex_data",
    "X509_STORE_CTX_set_error",
    "X509_get_subject_name",
    "verify_chain",
]  # fmt: skip

VerifyCallback = Callable[[int, Any], int]

# SSL_CTX_set_verify: NOTES "The default depth limit is 100"; a negative depth (the getters' -1 of a context that
# never had one set, as in OpenSSL 3.0) means that default
DEFAULT_VERIFY_DEPTH = 100
# the ex_data index of the SSL inside a store context (OpenSSL allocates one at start-up; the engine fixes it)
_SSL_INDEX = 0


class X509:
    """An opaque certificate handle (the engine's ``X509 *``), wrapping a ``cryptography`` certificate; ``references``
    counts the owners of a handle handed over to the caller (X509_free releases one, engine/ssl/handles.py)."""

    __slots__ = ("cert", "references")

    def __init__(self, cert: x509.Certificate) -> None:
        self.cert = cert
        self.references = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X509) and other.cert == self.cert

    def __hash__(self) -> int:
        return hash(self.cert)

    def __repr__(self) -> str:
        return f"<X509 {self.cert.subject.rfc4514_string()}>"


class X509_NAME:
    """An opaque name handle (``X509_NAME *``)."""

    __slots__ = ("name",)

    def __init__(self, name: x509.Name) -> None:
        self.name = name


class X509_STORE_CTX:
    """The state of one verification as the verify callback sees it: the level being looked at (depth and
    certificate), the error found there, and the SSL doing the verification (ex_data)."""

    __slots__ = ("chain", "current_cert", "error", "error_depth", "ex_data")

    def __init__(self, ssl: object, chain: list[x509.Certificate]) -> None:
        self.chain = [X509(c) for c in chain]
        self.current_cert: X509 | None = None
        self.error = K.X509_V_OK
        self.error_depth = 0
        self.ex_data: dict[int, object] = {_SSL_INDEX: ssl}


def _store(ctx: object) -> X509_STORE_CTX | None:
    return ctx if isinstance(ctx, X509_STORE_CTX) else None


def X509_STORE_CTX_get_error(ctx: X509_STORE_CTX | None) -> int:
    s = _store(ctx)
    return K.X509_V_ERR_UNSPECIFIED if s is None else s.error


def X509_STORE_CTX_set_error(ctx: X509_STORE_CTX | None, s: int) -> None:
    """The callback may replace the error (X509_V_OK clears it): it becomes the verification result."""
    store = _store(ctx)
    if store is not None and isinstance(s, int):
        store.error = s


def X509_STORE_CTX_get_error_depth(ctx: X509_STORE_CTX | None) -> int:
    s = _store(ctx)
    return 0 if s is None else s.error_depth


def X509_STORE_CTX_get_current_cert(ctx: X509_STORE_CTX | None) -> X509 | None:
    s = _store(ctx)
    return None if s is None else s.current_cert


def X509_STORE_CTX_get_ex_data(ctx: X509_STORE_CTX | None, idx: int) -> Any:
    s = _store(ctx)
    return None if s is None else s.ex_data.get(idx)


def SSL_get_ex_data_X509_STORE_CTX_idx() -> int:
    # SSL_CTX_set_verify: DESCRIPTION inside the callback, the index under which the verifying SSL is stored
    return _SSL_INDEX


def X509_get_subject_name(x: X509 | None) -> X509_NAME | None:
    return X509_NAME(x.cert.subject) if isinstance(x, X509) and x.references > 0 else None


_SHORT_NAMES = {NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATION_NAME: "O", NameOID.COUNTRY_NAME: "C",
                NameOID.ORGANIZATIONAL_UNIT_NAME: "OU"}  # fmt: skip


def X509_NAME_oneline(a: X509_NAME | None, size: int = 256) -> str | None:
    """The one-line form ``/CN=server.test`` (OpenSSL's X509_NAME_oneline into a buffer of ``size`` bytes, the
    conformance.capi convention), attributes in certificate order."""
    if not isinstance(a, X509_NAME):
        return None
    text = "".join(f"/{_SHORT_NAMES.get(attr.oid, attr.oid.dotted_string)}={attr.value!s}" for attr in a.name)
    return text[: max(size - 1, 0)]


# --- the procedure --------------------------------------------------------------------------------------------------
def _levels(sent: list[x509.Certificate], roots: list[x509.Certificate]) -> list[x509.Certificate]:
    """The levels of a chain that did not validate: what was sent, as far as each certificate names the next as its
    issuer, plus a trust anchor that issued the top one (if any)."""
    levels = sent[:1]
    for cert in sent[1:]:
        if levels[-1].issuer != cert.subject:
            break
        levels.append(cert)
    top = levels[-1]
    if top.issuer != top.subject:
        for root in roots:
            if root.subject == top.issuer:
                levels.append(root)
                break
    return levels


def _time_errors(levels: list[x509.Certificate], now: datetime.datetime) -> list[tuple[int, int]]:
    found = []
    for depth, cert in enumerate(levels):
        if now > cert.not_valid_after_utc:
            found.append((depth, K.X509_V_ERR_CERT_HAS_EXPIRED))
        elif now < cert.not_valid_before_utc:
            found.append((depth, K.X509_V_ERR_CERT_NOT_YET_VALID))
    return found


def _diagnose(
    sent: list[x509.Certificate], roots: list[x509.Certificate], host: str | None, server_cert: bool,
    now: datetime.datetime,
) -> tuple[list[x509.Certificate], list[tuple[int, int]], TLSAlertError | None]:
    """The levels of the chain and the (depth, X509_V_ERR_*) errors found in it, with the built-in check's alert."""

    def check(name: str | None) -> list[x509.Certificate]:
        if server_cert:
            return certificates.verify_server_chain(sent, roots, name, now)
        return certificates.verify_client_chain(sent, roots, now)

    try:
        return check(host), [], None
    except TLSAlertError as exc:
        failure = exc
    if server_cert and host is not None:
        try:
            levels = check(None)
        except TLSAlertError:
            pass
        else:
            return levels, [(0, K.X509_V_ERR_HOSTNAME_MISMATCH)], failure
    levels = _levels(sent, roots)
    errors = _time_errors(levels, now)
    top = levels[-1]
    if not any(top == root for root in roots):
        # no trust anchor above the top of what was sent: the error sits at that top
        depth = len(levels) - 1
        if top.issuer != top.subject:
            errors.append((depth, K.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY))
            if depth == 0:
                # a lone certificate whose issuer is unknown: once that error is let through, its signature cannot
                # be checked either (OpenSSL 3.0 reports UNABLE_TO_VERIFY_LEAF_SIGNATURE next; the page is silent)
                errors.append((depth, K.X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE))
        elif depth == 0:
            errors.append((depth, K.X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT))
        else:
            errors.append((depth, K.X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN))
    if not errors:
        errors.append((0, K.X509_V_ERR_CERT_REJECTED))
    return levels, errors, failure


def verify_chain(
    ssl: Any, sent: list[x509.Certificate], *, roots: list[x509.Certificate], host: str | None, server_cert: bool,
    depth_limit: int, callback: VerifyCallback | None, now: datetime.datetime,
) -> tuple[int, TLSAlertError | None]:
    """Run the procedure of the module docstring on ``sent`` (leaf first): the X509_V_* result, and the alert that
    ends the handshake when the SSL enforces verification (None: the verification succeeded)."""
    levels, errors, failure = _diagnose(sent, roots, host, server_cert, now)
    limit = DEFAULT_VERIFY_DEPTH if depth_limit < 0 else depth_limit
    if len(levels) > limit + 2:
        # SSL_CTX_set_verify: NOTES a chain needing more than depth intermediates gives CERT_CHAIN_TOO_LONG
        errors.append((limit + 1, K.X509_V_ERR_CERT_CHAIN_TOO_LONG))
    store = X509_STORE_CTX(ssl, levels)
    ok = True
    for depth in range(len(levels) - 1, -1, -1):  # from the trust anchor up to the peer's certificate
        store.current_cert = store.chain[depth]
        store.error_depth = depth
        here = [code for d, code in errors if d == depth]
        calls: list[tuple[int, int | None]] = [(0, c) for c in here] or [(1, None)]
        for preverify_ok, code in calls:
            if code is not None:
                store.error = code
            ok = _call(callback, preverify_ok, store)
            if not ok:
                break
        if not ok:
            break
    result = store.error
    if not ok and result == K.X509_V_OK:
        # the callback refused a level without an error: OpenSSL 3.0 records X509_V_ERR_UNSPECIFIED (page silent)
        result = store.error = K.X509_V_ERR_UNSPECIFIED
    if ok:
        return result, None
    if failure is not None and result == _first_code(errors):
        return result, failure
    return result, TLSAlertError(_alert_for(result), f"certificate verify failed: X509_V_ERR {result}")


def _first_code(errors: list[tuple[int, int]]) -> int | None:
    """The error the walk meets first (the deepest level's first), the one the built-in check's alert is about."""
    if not errors:
        return None
    deepest = max(d for d, _ in errors)
    return next(code for d, code in errors if d == deepest)


def _call(callback: VerifyCallback | None, preverify_ok: int, store: X509_STORE_CTX) -> bool:
    if callback is None:
        return bool(preverify_ok)  # SSL_CTX_set_verify: NOTES the default callback returns preverify_ok
    try:
        return bool(callback(preverify_ok, store))
    except Exception:  # an application callback that raises is treated as one that refused
        return False


def _alert_for(code: int) -> AlertDescription:
    """The alert for a verification failure (libssl 3.0's ssl_verify_alarm_type for the codes the engine has)."""
    if code in (K.X509_V_ERR_CERT_HAS_EXPIRED, K.X509_V_ERR_CERT_NOT_YET_VALID):
        return AlertDescription.certificate_expired
    if code in (K.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, K.X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
                K.X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, K.X509_V_ERR_CERT_CHAIN_TOO_LONG):  # fmt: skip
        return AlertDescription.unknown_ca
    if code == K.X509_V_ERR_UNSPECIFIED:
        return AlertDescription.internal_error
    if code in (K.X509_V_ERR_APPLICATION_VERIFICATION, K.X509_V_ERR_HOSTNAME_MISMATCH):
        return AlertDescription.handshake_failure
    return AlertDescription.bad_certificate
