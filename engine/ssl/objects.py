"""The SSL object's life cycle and settings (SSL_new.pod, SSL_free.pod, SSL_clear.pod, SSL_set_bio.pod,
SSL_set_fd.pod, SSL_get_fd.pod, SSL_get_rbio.pod, SSL_set_connect_state.pod, SSL_get_SSL_CTX.pod, ...): the public
functions that make, configure and free an :class:`~engine.ssl.connection.SSL`; the I/O lives in :mod:`.io`.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509

from engine import err
from engine.bio import (
    BIO,
    BIO_METHOD,
    BIO_free_all,
    BIO_get_fd,
    BIO_method_type,
    BIO_new,
    BIO_next,
    BIO_s_socket,
    BIO_set_fd,
    BIO_up_ref,
)
from engine.bio.constants import BIO_NOCLOSE, BIO_TYPE_DESCRIPTOR
from engine.ssl import constants as K
from engine.ssl.connection import (
    SSL,
    is_int,
    live_ssl,
)
from engine.ssl.context import (
    SSL_CTX,
    get_ex_data,
    live_ctx,
    load_certificate_file,
    load_key_file,
    parse_cipher_list,
    set_ex_data,
    settings_ctrl,
    use_certificate,
    use_private_key,
    valid_max_fragment_mode,
    valid_version,
)
from engine.ssl.errors import raise_ssl
from engine.ssl.exdata import SSL_CLASS
from engine.ssl.session import SSL_SESSION, SSL_SESSION_free, SSL_SESSION_up_ref, live_session
from engine.tls.keyschedule import CIPHER_SUITES
from engine.tls.suites12 import SUITES12

__all__ = [
    "X509_VERIFY_PARAM",
    "SSL_CTX_get0_param",
    "SSL_clear",
    "SSL_clear_mode",
    "SSL_clear_options",
    "SSL_ctrl",
    "SSL_dup",
    "SSL_free",
    "SSL_get0_param",
    "SSL_get1_session",
    "SSL_get_SSL_CTX",
    "SSL_get_certificate",
    "SSL_get_cipher_list",
    "SSL_get_ex_data",
    "SSL_get_ex_new_index",
    "SSL_get_fd",
    "SSL_get_info_callback",
    "SSL_get_max_cert_list",
    "SSL_get_max_proto_version",
    "SSL_get_min_proto_version",
    "SSL_get_mode",
    "SSL_get_options",
    "SSL_get_quiet_shutdown",
    "SSL_get_rbio",
    "SSL_get_read_ahead",
    "SSL_get_rfd",
    "SSL_get_security_level",
    "SSL_get_session",
    "SSL_get_verify_callback",
    "SSL_get_verify_depth",
    "SSL_get_verify_mode",
    "SSL_get_wbio",
    "SSL_get_wfd",
    "SSL_is_server",
    "SSL_new",
    "SSL_set0_rbio",
    "SSL_set0_wbio",
    "SSL_set1_host",
    "SSL_set_accept_state",
    "SSL_set_bio",
    "SSL_set_cipher_list",
    "SSL_set_connect_state",
    "SSL_set_default_read_buffer_len",
    "SSL_set_ex_data",
    "SSL_set_fd",
    "SSL_set_info_callback",
    "SSL_set_max_cert_list",
    "SSL_set_max_pipelines",
    "SSL_set_max_proto_version",
    "SSL_set_max_send_fragment",
    "SSL_set_min_proto_version",
    "SSL_set_mode",
    "SSL_set_options",
    "SSL_set_quiet_shutdown",
    "SSL_set_read_ahead",
    "SSL_set_rfd",
    "SSL_set_security_level",
    "SSL_set_session",
    "SSL_set_split_send_fragment",
    "SSL_set_tlsext_host_name",
    "SSL_set_tlsext_max_fragment_length",
    "SSL_set_verify",
    "SSL_set_verify_depth",
    "SSL_set_wfd",
    "SSL_up_ref",
    "SSL_use_PrivateKey_file",
    "SSL_use_certificate_file",
    "X509_VERIFY_PARAM_set1_host",
]


# --- life cycle (SSL_new.pod, SSL_free.pod, SSL_clear.pod) ---------------------------------------------------------
def SSL_new(ctx: SSL_CTX | None) -> SSL | None:
    # SSL_new: RETURN VALUES NULL "The creation of a new SSL structure failed"
    if ctx is None:
        raise_ssl(K.SSL_R_NULL_SSL_CTX, "SSL_new")
        return None
    c = live_ctx(ctx, "SSL_new")
    if c is None:
        return None
    c.references += 1
    new = SSL(c)
    SSL_CLASS.on_new(new)
    return new


def SSL_up_ref(s: SSL | None) -> int:
    ssl = live_ssl(s, "SSL_up_ref")
    if ssl is None:
        return 0
    ssl.references += 1
    return 1


def SSL_dup(s: SSL | None) -> SSL | None:
    # SSL_new: DESCRIPTION SSL_dup copies a handle in its initial state; otherwise it returns the same handle
    ssl = live_ssl(s, "SSL_dup")
    if ssl is None:
        return None
    if not ssl.in_before:
        ssl.references += 1
        return ssl
    new = SSL_new(ssl.ctx)
    assert new is not None
    for name in ("options", "mode", "min_version", "max_version", "verify_mode", "verify_callback", "cert_chain",
                 "private_key", "ciphersuites", "cipher_list", "groups", "host", "server", "role_set", "shutdown",
                 "verify_depth", "read_ahead", "max_cert_list", "security_level", "info_callback",
                 "max_send_fragment", "split_send_fragment", "max_pipelines", "default_read_buffer_len",
                 "post_handshake_auth"):  # fmt: skip
        value = getattr(ssl, name)
        setattr(new, name, list(value) if isinstance(value, list) else value)
    new.ex_data = dict(ssl.ex_data)
    SSL_CLASS.on_dup(new, ssl, new.ex_data)
    if ssl.session is not None:
        SSL_SESSION_up_ref(ssl.session)  # SSL_new: DESCRIPTION SSL_dup copies "any session data"
        new.session = ssl.session
    return new


def SSL_free(ssl: SSL | None) -> None:
    # SSL_free: "If ssl is NULL nothing is done"; the BIOs it owns (SSL_set_bio) are freed with it
    if ssl is None:
        return
    s = live_ssl(ssl, "SSL_free")
    if s is None:
        return
    s.references -= 1
    if s.references > 0:
        return
    rbio, wbio = s.rbio, s.wbio
    s.rbio = s.wbio = None
    BIO_free_all(wbio)
    BIO_free_all(rbio)
    s.drop_unclosed_session()  # SSL_free: NOTES a session not closed by SSL_shutdown leaves the cache
    SSL_SESSION_free(s.session)  # SSL_free: NOTES the object's reference to its session goes
    s.session = None
    SSL_CLASS.on_free(s, s.ex_data)  # CRYPTO_get_ex_new_index: free_func runs when the object is freed
    s.ex_data = {}
    s.freed = True
    s.conn = None
    from engine.ssl.context import SSL_CTX_free

    SSL_CTX_free(s.ctx)


def SSL_clear(ssl: SSL | None) -> int:
    # SSL_clear: "All settings (method, ciphers, BIOs) are kept"
    s = live_ssl(ssl, "SSL_clear")
    if s is None:
        return 0
    if s.renegotiation_pending:
        # SSL_clear: RETURN VALUES 0 when the object cannot be reset (libssl 3.0: a renegotiation is scheduled)
        raise_ssl(err.ERR_R_INTERNAL_ERROR, "SSL_clear")
        return 0
    if s.session is not None and not s.shutdown & K.SSL_SENT_SHUTDOWN and s.init_finished:
        # SSL_clear: NOTES a session still open is bad and dropped (also from the cache); a closed one is kept
        s.drop_unclosed_session()
        SSL_SESSION_free(s.session)
        s.session = None
    # SSL_clear: NOTES a cleanly closed session keeps its method: a TLS 1.2 session makes the next handshake TLS 1.2
    s.session_method = s.session.version if s.session is not None else 0
    s._reset()
    return 1


def SSL_get_SSL_CTX(ssl: SSL | None) -> SSL_CTX | None:
    s = live_ssl(ssl, "SSL_get_SSL_CTX")
    return None if s is None else s.ctx


# --- settings on the SSL --------------------------------------------------------------------------------------------
def SSL_set_mode(ssl: SSL | None, mode: int) -> int:
    s = live_ssl(ssl, "SSL_set_mode")
    if s is None:
        return 0
    s.mode |= mode
    return s.mode


def SSL_clear_mode(ssl: SSL | None, mode: int) -> int:
    s = live_ssl(ssl, "SSL_clear_mode")
    if s is None:
        return 0
    s.mode &= ~mode
    return s.mode


def SSL_get_mode(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_get_mode")
    return 0 if s is None else s.mode


def SSL_set_options(ssl: SSL | None, options: int) -> int:
    s = live_ssl(ssl, "SSL_set_options")
    if s is None:
        return 0
    s.options |= options
    return s.options


def SSL_clear_options(ssl: SSL | None, options: int) -> int:
    s = live_ssl(ssl, "SSL_clear_options")
    if s is None:
        return 0
    s.options &= ~options
    return s.options


def SSL_get_options(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_get_options")
    return 0 if s is None else s.options


def SSL_set_min_proto_version(ssl: SSL | None, version: int) -> int:
    s = live_ssl(ssl, "SSL_set_min_proto_version")
    if s is None or not valid_version(version):
        return 0
    s.min_version = version
    return 1


def SSL_set_max_proto_version(ssl: SSL | None, version: int) -> int:
    s = live_ssl(ssl, "SSL_set_max_proto_version")
    if s is None or not valid_version(version):
        return 0
    s.max_version = version
    return 1


def SSL_get_min_proto_version(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_get_min_proto_version")
    return 0 if s is None else s.min_version


def SSL_get_max_proto_version(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_get_max_proto_version")
    return 0 if s is None else s.max_version


def SSL_set_verify(ssl: SSL | None, mode: int, verify_callback: Any = None) -> None:
    # SSL_CTX_set_verify: DESCRIPTION a NULL callback keeps the one this SSL has (its own, or the context's from
    # SSL_new time)
    s = live_ssl(ssl, "SSL_set_verify")
    if s is not None:
        s.verify_mode = mode
        if verify_callback is not None:
            s.verify_callback = verify_callback


def SSL_get_verify_callback(ssl: SSL | None) -> Any:
    s = live_ssl(ssl, "SSL_get_verify_callback")
    return None if s is None else s.verify_callback


def SSL_get_verify_mode(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_get_verify_mode")
    return 0 if s is None else s.verify_mode


def SSL_set_quiet_shutdown(ssl: SSL | None, mode: int) -> None:
    s = live_ssl(ssl, "SSL_set_quiet_shutdown")
    if s is not None:
        s.quiet_shutdown = 1 if mode else 0


def SSL_get_quiet_shutdown(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_get_quiet_shutdown")
    return 0 if s is None else s.quiet_shutdown


def _name(name: object) -> str | None:
    if isinstance(name, bytes):
        return name.decode("ascii", "replace")
    return name if isinstance(name, str) else None


def SSL_set_tlsext_host_name(s: SSL | None, name: bytes | str | None) -> int:
    ssl = live_ssl(s, "SSL_set_tlsext_host_name")
    if ssl is None:
        return 0
    if name is None:
        ssl.sni = None
        return 1
    text = _name(name)
    if text is None or not text or len(text) > 255:
        raise_ssl(K.SSL_R_BAD_VALUE, "SSL_set_tlsext_host_name")
        return 0
    ssl.sni = text
    return 1


def SSL_set1_host(s: SSL | None, hostname: bytes | str | None) -> int:
    """The name the server certificate must match (kept apart from the SNI); NULL or "" clears it, as in OpenSSL."""
    ssl = live_ssl(s, "SSL_set1_host")
    if ssl is None:
        return 0
    ssl.host = _name(hostname) or None
    return 1


class X509_VERIFY_PARAM:
    """The verification parameters of an SSL or SSL_CTX (SSL_get0_param / SSL_CTX_get0_param): a view that sets the
    owner's name to verify. Only the host name is modelled."""

    __slots__ = ("owner",)

    def __init__(self, owner: SSL | SSL_CTX) -> None:
        self.owner = owner


def SSL_get0_param(s: SSL | None) -> X509_VERIFY_PARAM | None:
    ssl = live_ssl(s, "SSL_get0_param")
    return None if ssl is None else X509_VERIFY_PARAM(ssl)


def SSL_CTX_get0_param(ctx: SSL_CTX | None) -> X509_VERIFY_PARAM | None:
    c = live_ctx(ctx, "SSL_CTX_get0_param")
    return None if c is None else X509_VERIFY_PARAM(c)


def X509_VERIFY_PARAM_set1_host(param: X509_VERIFY_PARAM | None, name: bytes | str | None, namelen: int = 0) -> int:
    """Replace the names to verify with ``name`` (its first ``namelen`` bytes, or all of it for 0); NULL or "" clears
    them. A name with an embedded NUL is refused (0), as OpenSSL does."""
    if not isinstance(param, X509_VERIFY_PARAM) or param.owner.freed:
        return 0
    text = _name(name)
    if text is not None and is_int(namelen) and namelen > 0:
        text = text[:namelen]
    if text is not None and "\0" in text:
        return 0
    param.owner.host = text or None
    return 1


def SSL_ctrl(ssl: SSL | None, cmd: int, larg: int = 0, parg: Any = None) -> int:
    """The ctrl commands behind the SSL macros of the pages; unknown commands return 0."""
    s = live_ssl(ssl, "SSL_ctrl")
    if s is None:
        return 0
    if cmd == K.SSL_CTRL_MODE:
        return SSL_set_mode(s, larg)
    if cmd == K.SSL_CTRL_CLEAR_MODE:
        return SSL_clear_mode(s, larg)
    if cmd == K.SSL_CTRL_SET_MIN_PROTO_VERSION:
        return SSL_set_min_proto_version(s, larg)
    if cmd == K.SSL_CTRL_SET_MAX_PROTO_VERSION:
        return SSL_set_max_proto_version(s, larg)
    if cmd == K.SSL_CTRL_GET_MIN_PROTO_VERSION:
        return s.min_version
    if cmd == K.SSL_CTRL_GET_MAX_PROTO_VERSION:
        return s.max_version
    if cmd == K.SSL_CTRL_SET_TLSEXT_HOSTNAME and larg == K.TLSEXT_NAMETYPE_host_name:
        return SSL_set_tlsext_host_name(s, parg)
    if cmd == K.SSL_CTRL_GET_RI_SUPPORT:
        return 1 if s.conn is not None and s.conn.secure_renegotiation else 0
    shared = settings_ctrl(s, cmd, larg)
    return 0 if shared is None else shared


def SSL_use_certificate_file(ssl: SSL | None, file: bytes | str, type: int) -> int:
    # SSL_CTX_use_certificate: the SSL_ form sets the certificate of this object only
    s = live_ssl(ssl, "SSL_use_certificate_file")
    cert = None if s is None else load_certificate_file(file, type, "SSL_use_certificate_file")
    if s is None or cert is None:
        return 0
    use_certificate(s, [cert], keep_chain=True)
    return 1


def SSL_use_PrivateKey_file(ssl: SSL | None, file: bytes | str, type: int) -> int:
    s = live_ssl(ssl, "SSL_use_PrivateKey_file")
    key = None if s is None else load_key_file(file, type, "SSL_use_PrivateKey_file")
    if s is None or key is None:
        return 0
    use_private_key(s, key)
    return 1


def SSL_get_certificate(ssl: SSL | None) -> x509.Certificate | None:
    """The object's own certificate (the leaf it would send), NULL when it has none."""
    s = live_ssl(ssl, "SSL_get_certificate")
    return s.cert_chain[0] if s is not None and s.cert_chain else None


def SSL_set_info_callback(ssl: SSL | None, cb: Any) -> None:
    """``cb(where, ret)``, called at the handshake's start and end (SSL_CB_HANDSHAKE_START / _DONE) and exits."""
    s = live_ssl(ssl, "SSL_set_info_callback")
    if s is not None:
        s.info_callback = cb


def SSL_get_info_callback(ssl: SSL | None) -> Any:
    s = live_ssl(ssl, "SSL_get_info_callback")
    return None if s is None else s.info_callback


def SSL_set_read_ahead(s: SSL | None, yes: int) -> None:
    SSL_ctrl(s, K.SSL_CTRL_SET_READ_AHEAD, yes, None)


def SSL_get_read_ahead(s: SSL | None) -> int:
    return SSL_ctrl(s, K.SSL_CTRL_GET_READ_AHEAD, 0, None)


def SSL_set_max_send_fragment(s: SSL | None, m: int) -> int:
    return SSL_ctrl(s, K.SSL_CTRL_SET_MAX_SEND_FRAGMENT, m, None)


def SSL_set_tlsext_max_fragment_length(ssl: SSL | None, mode: int) -> int:
    """SSL_CTX_set_split_send_fragment: DESCRIPTION the mode ssl's handshakes ask for from now on (client side);
    RETURN VALUES 1 / 0 (a mode outside the NOTES list)."""
    s = live_ssl(ssl, "SSL_set_tlsext_max_fragment_length")
    if s is None or not valid_max_fragment_mode(mode, "SSL_set_tlsext_max_fragment_length"):
        return 0
    s.max_fragment_mode = mode
    return 1


def SSL_set_split_send_fragment(s: SSL | None, m: int) -> int:
    return SSL_ctrl(s, K.SSL_CTRL_SET_SPLIT_SEND_FRAGMENT, m, None)


def SSL_set_max_pipelines(s: SSL | None, m: int) -> int:
    return SSL_ctrl(s, K.SSL_CTRL_SET_MAX_PIPELINES, m, None)


def SSL_set_default_read_buffer_len(s: SSL | None, len: int) -> None:
    """Stored only (as SSL_CTX_set_default_read_buffer_len)."""
    ssl = live_ssl(s, "SSL_set_default_read_buffer_len")
    if ssl is not None and is_int(len):
        ssl.default_read_buffer_len = len


def SSL_set_verify_depth(s: SSL | None, depth: int) -> None:
    ssl = live_ssl(s, "SSL_set_verify_depth")
    if ssl is not None:
        ssl.verify_depth = depth


def SSL_get_verify_depth(s: SSL | None) -> int:
    ssl = live_ssl(s, "SSL_get_verify_depth")
    return -1 if ssl is None else ssl.verify_depth


def SSL_set_security_level(s: SSL | None, level: int) -> None:
    ssl = live_ssl(s, "SSL_set_security_level")
    if ssl is not None:
        ssl.security_level = level


def SSL_get_security_level(s: SSL | None) -> int:
    ssl = live_ssl(s, "SSL_get_security_level")
    return 0 if ssl is None else ssl.security_level


def SSL_get_cipher_list(s: SSL | None, n: int) -> str | None:
    """The name of the ``n``-th cipher the SSL would offer, in order: the TLS 1.3 suites, then the TLS 1.2 ones
    (as libssl 3.0 lists them); None past the end (SSL_get_ciphers.pod)."""
    ssl = live_ssl(s, "SSL_get_cipher_list")
    if ssl is None or not is_int(n):
        return None
    names = [CIPHER_SUITES[c].name for c in ssl.ciphersuites] + [SUITES12[c].openssl_name for c in ssl.cipher_list]
    return names[n] if 0 <= n < len(names) else None


def SSL_set_cipher_list(s: SSL | None, str: bytes | str) -> int:
    """The TLS 1.2 cipher list of this SSL (SSL_CTX_set_cipher_list's format and failure)."""
    ssl = live_ssl(s, "SSL_set_cipher_list")
    if ssl is None:
        return 0
    codes = parse_cipher_list(str)
    if codes is None:
        raise_ssl(K.SSL_R_NO_CIPHER_MATCH, "SSL_set_cipher_list")
        return 0
    ssl.cipher_list = codes
    return 1


def SSL_get_session(ssl: SSL | None) -> SSL_SESSION | None:
    # SSL_get_session: the session in use, no reference taken (NULL if there is none)
    s = live_ssl(ssl, "SSL_get_session")
    return None if s is None else s.session


def SSL_get1_session(ssl: SSL | None) -> SSL_SESSION | None:
    # SSL_get_session: SSL_get1_session takes a reference the caller frees with SSL_SESSION_free
    s = live_ssl(ssl, "SSL_get1_session")
    if s is None or s.session is None:
        return None
    SSL_SESSION_up_ref(s.session)
    return s.session


def SSL_set_session(ssl: SSL | None, session: SSL_SESSION | None) -> int:
    """Store ``session`` on the SSL (a reference is taken): a client offers it in its next handshake (a TLS 1.2
    session id, or the TLS 1.3 ticket it holds) and keeps it if the server resumes it (SSL_set_session.pod)."""
    s = live_ssl(ssl, "SSL_set_session")
    if s is None:
        return 0
    if session is not None:
        if live_session(session, "SSL_set_session") is None:
            return 0
        SSL_SESSION_up_ref(session)
    s.drop_unclosed_session()  # SSL_set_session: DESCRIPTION the old session, still open, is bad
    SSL_SESSION_free(s.session)
    s.session = session
    return 1


def SSL_get_ex_new_index(argl: int = 0, argp: Any = None, new_func: Any = None, dup_func: Any = None,
                         free_func: Any = None) -> int:  # fmt: skip
    """A new application-data index for SSL objects; its callbacks run as described in engine.ssl.exdata (free_func
    when reference counting frees an SSL)."""
    return SSL_CLASS.new_index(argl, argp, new_func, dup_func, free_func)


def SSL_set_max_cert_list(s: SSL | None, size: int) -> int:
    """ssl.h macro: the largest certificate chain accepted from the peer; returns the old value."""
    return SSL_ctrl(s, K.SSL_CTRL_SET_MAX_CERT_LIST, size, None)


def SSL_get_max_cert_list(s: SSL | None) -> int:
    return SSL_ctrl(s, K.SSL_CTRL_GET_MAX_CERT_LIST, 0, None)


def SSL_set_ex_data(s: SSL | None, idx: int, data: Any) -> int:
    return set_ex_data(live_ssl(s, "SSL_set_ex_data"), idx, data)


def SSL_get_ex_data(s: SSL | None, idx: int) -> Any:
    return get_ex_data(live_ssl(s, "SSL_get_ex_data"), idx)


# --- role (SSL_set_connect_state.pod) ---------------------------------------------------------------------------------
def SSL_set_connect_state(ssl: SSL | None) -> None:
    s = live_ssl(ssl, "SSL_set_connect_state")
    if s is not None:
        s.server = False
        s.role_set = True
        s.shutdown = 0


def SSL_set_accept_state(ssl: SSL | None) -> None:
    s = live_ssl(ssl, "SSL_set_accept_state")
    if s is not None:
        s.server = True
        s.role_set = True
        s.shutdown = 0


def SSL_is_server(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_is_server")
    return 1 if s is not None and s.server else 0


# --- BIOs (SSL_set_bio.pod, SSL_get_rbio.pod, SSL_set_fd.pod, SSL_get_fd.pod) ----------------------------------------
def SSL_set0_rbio(s: SSL | None, rbio: BIO | None) -> None:
    # SSL_set_bio: DESCRIPTION set0 takes the reference; the old rbio is freed, also when it is the same BIO
    ssl = live_ssl(s, "SSL_set0_rbio")
    if ssl is None:
        return
    old, ssl.rbio = ssl.rbio, rbio
    BIO_free_all(old)


def SSL_set0_wbio(s: SSL | None, wbio: BIO | None) -> None:
    ssl = live_ssl(s, "SSL_set0_wbio")
    if ssl is None:
        return
    old, ssl.wbio = ssl.wbio, wbio
    BIO_free_all(old)


def SSL_set_bio(ssl: SSL | None, rbio: BIO | None, wbio: BIO | None) -> None:
    """The ownership rules of SSL_set_bio.pod DESCRIPTION, one branch per rule.

    libssl 3.0 swaps two of them (a new rbio with the old wbio kept: it takes one reference when the old BIOs were
    different and two when they were the same, the page says the opposite); the engine follows the page.
    """
    s = live_ssl(ssl, "SSL_set_bio")
    if s is None:
        return
    old_r, old_w = s.rbio, s.wbio
    if rbio is old_r and wbio is old_w:
        return  # "neither ... changed": nothing is done
    if rbio is wbio:
        if rbio is not None:
            BIO_up_ref(rbio)  # the object holds one reference per direction
        if rbio is old_r:
            SSL_set0_wbio(s, wbio)  # same BIO, rbio unchanged: no additional reference consumed
        else:
            SSL_set0_rbio(s, rbio)  # same BIO, new: one reference consumed
            SSL_set0_wbio(s, wbio)
        return
    if rbio is old_r:
        SSL_set0_wbio(s, wbio)  # different, rbio unchanged: one reference consumed for the wbio
        return
    if wbio is old_w and old_r is old_w:
        SSL_set0_rbio(s, rbio)  # wbio kept, old ones shared: one reference for the rbio only
        return
    # both new, or the wbio kept while the old BIOs were different: one reference each
    SSL_set0_rbio(s, rbio)
    SSL_set0_wbio(s, wbio)


def SSL_get_rbio(ssl: SSL | None) -> BIO | None:
    s = live_ssl(ssl, "SSL_get_rbio")
    return None if s is None else s.rbio


def SSL_get_wbio(ssl: SSL | None) -> BIO | None:
    s = live_ssl(ssl, "SSL_get_wbio")
    return None if s is None else s.wbio


def _socket_bio(fd: int, func: str) -> BIO | None:
    method: BIO_METHOD = BIO_s_socket()
    bio = BIO_new(method)
    if bio is None or BIO_set_fd(bio, fd, BIO_NOCLOSE) != 1:
        raise_ssl(err.ERR_R_PASSED_INVALID_ARGUMENT, func, "cannot make a socket BIO")
        return None
    return bio


def _bio_fd(bio: BIO | None) -> int:
    # SSL_get_fd: RETURN VALUES -1 only when the BIO is not of a type "suitable for file descriptors": a socket, fd,
    # connect or accept BIO gives its descriptor; a filter on top of one (BIO_f_buffer over a socket BIO) gives the
    # one below it, as OpenSSL 3.0 does (page silent; BIO_find_type(b, BIO_TYPE_DESCRIPTOR) there)
    for _ in range(_MAX_CHAIN):
        if bio is None:
            return -1
        if BIO_method_type(bio) & BIO_TYPE_DESCRIPTOR:
            ret, fd = BIO_get_fd(bio)
            return fd if ret >= 0 else -1
        bio = BIO_next(bio)
    return -1


_MAX_CHAIN = 1024  # a bound on the walk down a BIO chain (BIO_set_next could make a cycle)


def SSL_set_fd(ssl: SSL | None, fd: int) -> int:
    # SSL_set_fd: RETURN VALUES 1 success, 0 failure; one socket BIO (BIO_NOCLOSE) for both directions
    s = live_ssl(ssl, "SSL_set_fd")
    if s is None or not is_int(fd):
        return 0
    bio = _socket_bio(fd, "SSL_set_fd")
    if bio is None:
        return 0
    SSL_set_bio(s, bio, bio)  # consumes our reference and takes a second one for the other direction
    return 1


def SSL_set_rfd(ssl: SSL | None, fd: int) -> int:
    s = live_ssl(ssl, "SSL_set_rfd")
    if s is None or not is_int(fd):
        return 0
    if s.wbio is not None and _bio_fd(s.wbio) == fd:
        BIO_up_ref(s.wbio)
        SSL_set0_rbio(s, s.wbio)
        return 1
    bio = _socket_bio(fd, "SSL_set_rfd")
    if bio is None:
        return 0
    SSL_set0_rbio(s, bio)
    return 1


def SSL_set_wfd(ssl: SSL | None, fd: int) -> int:
    s = live_ssl(ssl, "SSL_set_wfd")
    if s is None or not is_int(fd):
        return 0
    if s.rbio is not None and _bio_fd(s.rbio) == fd:
        BIO_up_ref(s.rbio)
        SSL_set0_wbio(s, s.rbio)
        return 1
    bio = _socket_bio(fd, "SSL_set_wfd")
    if bio is None:
        return 0
    SSL_set0_wbio(s, bio)
    return 1


def SSL_get_fd(ssl: SSL | None) -> int:
    return SSL_get_rfd(ssl)


def SSL_get_rfd(ssl: SSL | None) -> int:
    # SSL_get_fd: RETURN VALUES -1 "The operation failed, because the underlying BIO is not of the correct type"
    s = live_ssl(ssl, "SSL_get_rfd")
    return -1 if s is None else _bio_fd(s.rbio)


def SSL_get_wfd(ssl: SSL | None) -> int:
    s = live_ssl(ssl, "SSL_get_wfd")
    return -1 if s is None else _bio_fd(s.wbio)
