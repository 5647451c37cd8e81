"""SSL_METHOD and SSL_CTX (SSL_CTX_new.pod, SSL_CTX_set_mode.pod, SSL_CTX_set_options.pod, SSL_CTX_set_verify.pod,
SSL_CTX_set_quiet_shutdown.pod, SSL_CTX_set_client_cert_cb.pod, SSL_CTX_free.pod).

An ``SSL_CTX`` is a bag of settings plus a reference count; every ``SSL`` made from it copies what SSL_new.pod
lists (method, options, mode, verification settings, certificate and key, ...) and holds one reference to it.
Certificates and keys are parsed with ``cryptography`` (PEM, or DER for SSL_FILETYPE_ASN1). The engine implements
TLS 1.3 and TLS 1.2: the version limits are stored as asked and enforced when a handshake starts (connection.py).
"""

from __future__ import annotations

import errno as _errno
import os
import time
from collections.abc import Callable
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_private_key, load_pem_private_key

from engine import err
from engine.ssl import constants as K
from engine.ssl.cache import SessionStats
from engine.ssl.errors import raise_ssl
from engine.ssl.exdata import SSL_CTX_CLASS
from engine.tls import maxfraglen
from engine.tls.keyexchange import SUPPORTED_GROUPS, NamedGroup
from engine.tls.keyschedule import CIPHER_SUITES
from engine.tls.session12 import Session12
from engine.tls.session13 import TicketSealer
from engine.tls.signatures import PrivateKey
from engine.tls.suites12 import SUITES12, Authentication, BulkCipher, MACAlgorithm, Suite12, suite_by_name

__all__ = [
    "SSL_CTX",
    "SSL_METHOD",
    "SSL_CTX_clear_mode",
    "SSL_CTX_clear_options",
    "SSL_CTX_ctrl",
    "SSL_CTX_free",
    "SSL_CTX_get_client_cert_cb",
    "SSL_CTX_get_default_read_ahead",
    "SSL_CTX_get_ex_data",
    "SSL_CTX_get_ex_new_index",
    "SSL_CTX_get_info_callback",
    "SSL_CTX_get_max_cert_list",
    "SSL_CTX_get_max_proto_version",
    "SSL_CTX_get_min_proto_version",
    "SSL_CTX_get_mode",
    "SSL_CTX_get_num_tickets",
    "SSL_CTX_get_options",
    "SSL_CTX_get_quiet_shutdown",
    "SSL_CTX_get_read_ahead",
    "SSL_CTX_get_security_level",
    "SSL_CTX_get_session_cache_mode",
    "SSL_CTX_get_timeout",
    "SSL_CTX_get_verify_callback",
    "SSL_CTX_get_verify_depth",
    "SSL_CTX_get_verify_mode",
    "SSL_CTX_load_verify_locations",
    "SSL_CTX_new",
    "SSL_CTX_new_ex",
    "SSL_CTX_sess_accept",
    "SSL_CTX_sess_accept_good",
    "SSL_CTX_sess_accept_renegotiate",
    "SSL_CTX_sess_cache_full",
    "SSL_CTX_sess_cb_hits",
    "SSL_CTX_sess_connect",
    "SSL_CTX_sess_connect_good",
    "SSL_CTX_sess_connect_renegotiate",
    "SSL_CTX_sess_get_cache_size",
    "SSL_CTX_sess_hits",
    "SSL_CTX_sess_misses",
    "SSL_CTX_sess_number",
    "SSL_CTX_sess_set_cache_size",
    "SSL_CTX_sess_set_remove_cb",
    "SSL_CTX_sess_timeouts",
    "SSL_CTX_set1_groups_list",
    "SSL_CTX_set_cert_verify_callback",
    "SSL_CTX_set_cipher_list",
    "SSL_CTX_set_ciphersuites",
    "SSL_CTX_set_client_cert_cb",
    "SSL_CTX_set_client_hello_cb",
    "SSL_CTX_set_default_read_ahead",
    "SSL_CTX_set_default_read_buffer_len",
    "SSL_CTX_set_ex_data",
    "SSL_CTX_set_info_callback",
    "SSL_CTX_set_max_cert_list",
    "SSL_CTX_set_max_pipelines",
    "SSL_CTX_set_max_proto_version",
    "SSL_CTX_set_max_send_fragment",
    "SSL_CTX_set_min_proto_version",
    "SSL_CTX_set_mode",
    "SSL_CTX_set_num_tickets",
    "SSL_CTX_set_options",
    "SSL_CTX_set_post_handshake_auth",
    "SSL_CTX_set_quiet_shutdown",
    "SSL_CTX_set_read_ahead",
    "SSL_CTX_set_security_level",
    "SSL_CTX_set_session_cache_mode",
    "SSL_CTX_set_split_send_fragment",
    "SSL_CTX_set_timeout",
    "SSL_CTX_set_tlsext_max_fragment_length",
    "SSL_CTX_set_verify",
    "SSL_CTX_set_verify_depth",
    "SSL_CTX_up_ref",
    "SSL_CTX_use_PrivateKey_file",
    "SSL_CTX_use_certificate_chain_file",
    "SSL_CTX_use_certificate_file",
    "SSLv23_client_method",
    "SSLv23_method",
    "SSLv23_server_method",
    "Settings",
    "TLS_client_method",
    "TLS_method",
    "TLS_server_method",
    "TLSv1_2_client_method",
    "TLSv1_2_method",
    "TLSv1_2_server_method",
    "get_ex_data",
    "live_ctx",
    "load_certificate_file",
    "load_key_file",
    "parse_cipher_list",
    "parse_ciphersuites",
    "parse_groups",
    "set_ex_data",
    "settings_ctrl",
    "valid_version",
]  # fmt: skip

ClientCertCallback = Callable[[Any], Any]  # -> int, or (int, X509 | None, EVP_PKEY | None)
ClientHelloCallback = Callable[[Any], int]
VerifyCallback = Callable[..., int]
CertVerifyCallback = Callable[[], int]
InfoCallback = Callable[[int, int], None]

# SSL_CTX_new.pod / ssl_lib.c 3.0: options every new context starts with
DEFAULT_OPTIONS = K.SSL_OP_NO_COMPRESSION | K.SSL_OP_ENABLE_MIDDLEBOX_COMPAT
# SSL_CTX_set_mode.pod: "SSL_MODE_AUTO_RETRY ... enabled by default" (3.0)
DEFAULT_MODE = K.SSL_MODE_AUTO_RETRY
# SSL_CTX_set_num_tickets.pod: two TLS 1.3 tickets by default
DEFAULT_NUM_TICKETS = 2
# SSL_CTX_set_timeout.pod: the TLS methods' default session timeout, 2 hours
DEFAULT_SESSION_TIMEOUT = 7200

_SUITE_NAMES = {suite.name: code for code, suite in CIPHER_SUITES.items()}
_GROUP_NAMES: dict[str, int] = {
    "x25519": NamedGroup.x25519, "secp256r1": NamedGroup.secp256r1, "p-256": NamedGroup.secp256r1,
    "prime256v1": NamedGroup.secp256r1, "secp384r1": NamedGroup.secp384r1, "p-384": NamedGroup.secp384r1,
    "x448": NamedGroup.x448, "secp521r1": NamedGroup.secp521r1, "p-521": NamedGroup.secp521r1,
    "x25519mlkem768": NamedGroup.X25519MLKEM768,
}  # fmt: skip
# SSL_CTX_set_split_send_fragment: DESCRIPTION the accepted range of max_send_fragment and of max_pipelines
MIN_SEND_FRAGMENT = 512
MAX_SEND_FRAGMENT = 16384  # SSL3_RT_MAX_PLAIN_LENGTH
SSL_MAX_PIPELINES = 32
_VERSIONS = frozenset({0, K.SSL3_VERSION, K.TLS1_VERSION, K.TLS1_1_VERSION, K.TLS1_2_VERSION, K.TLS1_3_VERSION})


class SSL_METHOD:
    """An opaque method handle: which role an SSL made from it starts in (None: set later), and for a
    version-specific method (TLSv1_2_method) the one version it speaks (0: version-flexible)."""

    __slots__ = ("name", "server", "version")

    def __init__(self, name: str, server: bool | None, version: int = 0) -> None:
        self.name = name
        self.server = server
        self.version = version

    def __repr__(self) -> str:
        return f"<SSL_METHOD {self.name}>"


_TLS_METHOD = SSL_METHOD("TLS_method", None)
_TLS_CLIENT_METHOD = SSL_METHOD("TLS_client_method", False)
_TLS_SERVER_METHOD = SSL_METHOD("TLS_server_method", True)


_TLS12_METHOD = SSL_METHOD("TLSv1_2_method", None, K.TLS1_2_VERSION)
_TLS12_CLIENT_METHOD = SSL_METHOD("TLSv1_2_client_method", False, K.TLS1_2_VERSION)
_TLS12_SERVER_METHOD = SSL_METHOD("TLSv1_2_server_method", True, K.TLS1_2_VERSION)


def TLS_method() -> SSL_METHOD:
    return _TLS_METHOD


# SSL_CTX_new.pod: TLSv1_2_method() and its client/server forms speak TLS 1.2 only (deprecated in 3.0)
def TLSv1_2_method() -> SSL_METHOD:
    return _TLS12_METHOD


def TLSv1_2_client_method() -> SSL_METHOD:
    return _TLS12_CLIENT_METHOD


def TLSv1_2_server_method() -> SSL_METHOD:
    return _TLS12_SERVER_METHOD


def TLS_client_method() -> SSL_METHOD:
    return _TLS_CLIENT_METHOD


def TLS_server_method() -> SSL_METHOD:
    return _TLS_SERVER_METHOD


# SSL_CTX_new.pod: the SSLv23_* names are deprecated aliases of the TLS_* methods.
def SSLv23_method() -> SSL_METHOD:
    return _TLS_METHOD


def SSLv23_client_method() -> SSL_METHOD:
    return _TLS_CLIENT_METHOD


def SSLv23_server_method() -> SSL_METHOD:
    return _TLS_SERVER_METHOD


class SSL_CTX:
    """An opaque context handle. Callers never look inside; connection.py copies the fields into each SSL. Slots
    keep it small."""

    __slots__ = (
        "alpn_protos",
        "alpn_select_cb",
        "cert_chain",
        "cert_verify_callback",
        "cipher_list",
        "ciphersuites",
        "client_ca_names",
        "client_cert_cb",
        "client_hello_cb",
        "clock",
        "default_read_buffer_len",
        "ex_data",
        "freed",
        "groups",
        "host",
        "info_callback",
        "max_cert_list",
        "max_fragment_mode",
        "max_pipelines",
        "max_send_fragment",
        "max_version",
        "method",
        "min_version",
        "mode",
        "num_tickets",
        "options",
        "other_certs",
        "post_handshake_auth",
        "private_key",
        "quiet_shutdown",
        "read_ahead",
        "references",
        "remove_session_cb",
        "security_level",
        "servername_arg",
        "servername_cb",
        "session_cache_mode",
        "session_cache_size",
        "session_timeout",
        "session_times",
        "sessions",
        "split_send_fragment",
        "stats",
        "ticket_sealer",
        "trusted",
        "verify_callback",
        "verify_depth",
        "verify_mode",
    )

    def __init__(self, method: SSL_METHOD) -> None:
        self.method = method
        self.references = 1
        self.freed = False
        self.options = DEFAULT_OPTIONS
        self.mode = DEFAULT_MODE
        self.min_version = 0
        self.max_version = 0
        self.verify_mode = K.SSL_VERIFY_NONE
        self.post_handshake_auth = False  # SSL_CTX_set_post_handshake_auth: DESCRIPTION not sent by default
        self.verify_callback: VerifyCallback | None = None
        self.cert_chain: list[x509.Certificate] = []
        self.private_key: PrivateKey | None = None
        self.trusted: list[x509.Certificate] = []
        self.ciphersuites: tuple[int, ...] = (0x1302, 0x1303, 0x1301)  # OpenSSL 3.0's default TLS 1.3 order
        self.cipher_list: tuple[int, ...] = DEFAULT_CIPHER_LIST
        # the pages are silent on the default groups: OpenSSL 3.0's default list, without its FFDHE groups
        self.groups: tuple[int, ...] = tuple(
            g for g in (NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.x448, NamedGroup.secp521r1,
                        NamedGroup.secp384r1) if g in SUPPORTED_GROUPS
        )
        self.quiet_shutdown = 0
        self.num_tickets = DEFAULT_NUM_TICKETS
        self.client_cert_cb: ClientCertCallback | None = None
        self.client_ca_names: list[bytes] = []  # SSL_CTX_add_client_CA: DER subjects a CertificateRequest lists
        self.client_hello_cb: ClientHelloCallback | None = None
        self.verify_depth = -1
        self.read_ahead = 0
        self.max_cert_list = K.SSL_MAX_CERT_LIST_DEFAULT
        # SSL_CTX_set_split_send_fragment: DESCRIPTION the defaults (records of up to 16384 bytes, one pipeline,
        # split equal to the maximum, no read buffer length asked for)
        self.max_send_fragment = MAX_SEND_FRAGMENT
        self.split_send_fragment = MAX_SEND_FRAGMENT
        self.max_pipelines = 1
        self.default_read_buffer_len = 0
        self.max_fragment_mode = K.TLSEXT_max_fragment_length_DISABLED  # NOTES: DISABLED is the default
        self.security_level = 1
        self.session_timeout = DEFAULT_SESSION_TIMEOUT
        self.sessions: dict[bytes, Session12] = {}  # the server session cache (TLS 1.2 session ids)
        self.session_times: dict[bytes, Any] = {}  # id -> its time and timeout (engine.ssl.cache.Lifetime)
        # SSL_CTX_set_session_cache_mode: NOTES the default mode is SSL_SESS_CACHE_SERVER
        self.session_cache_mode = K.SSL_SESS_CACHE_SERVER
        self.session_cache_size = K.SSL_SESSION_CACHE_MAX_SIZE_DEFAULT
        self.stats = SessionStats()
        # the key that seals this context's TLS 1.3 tickets (engine.tls.session13)
        self.ticket_sealer = TicketSealer(os.urandom(32), os.urandom)
        # seconds since the epoch, for session times and expiry; not part of the C API (tests replace it)
        self.clock: Callable[[], float] = time.time
        self.remove_session_cb: Callable[[Any], None] | None = None
        self.cert_verify_callback: CertVerifyCallback | None = None
        self.info_callback: InfoCallback | None = None
        self.ex_data: dict[int, Any] = {}
        self.host: str | None = None  # X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(ctx), ...): inherited by SSL_new
        # engine/ssl/extensions.py: ALPN offer (client, wire format) and select callback, SNI callback and its arg,
        # and the certificates of other key types than cert_chain's (one per key type, as OpenSSL keeps them)
        self.alpn_protos = b""
        self.alpn_select_cb: Callable[..., Any] | None = None
        self.servername_cb: Callable[..., Any] | None = None
        self.servername_arg: Any = None
        self.other_certs: list[tuple[list[x509.Certificate], PrivateKey]] = []
        SSL_CTX_CLASS.on_new(self)

    def remove_session(self, state: Session12) -> None:
        """Take one session out of the cache and tell the remove callback (SSL_CTX_sess_set_remove_cb)."""
        if self.sessions.pop(state.session_id, None) is None:
            return
        self.session_times.pop(state.session_id, None)
        cb = self.remove_session_cb
        if cb is not None:
            from engine.ssl.session import SSL_SESSION

            cb(SSL_SESSION(K.TLS1_2_VERSION, state.cipher_suite, self.session_timeout, state))

    def __repr__(self) -> str:
        return f"<SSL_CTX {self.method.name} {'freed' if self.freed else f'refs={self.references}'}>"


def live_ctx(ctx: object, func: str) -> SSL_CTX | None:
    """``ctx`` if it is a usable SSL_CTX; otherwise an error entry and None."""
    if ctx is None:
        raise_ssl(err.ERR_R_PASSED_NULL_PARAMETER, func)
        return None
    if not isinstance(ctx, SSL_CTX) or ctx.freed:
        raise_ssl(err.ERR_R_PASSED_INVALID_ARGUMENT, func, "not a live SSL_CTX")
        return None
    return ctx


def _int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# --- settings an SSL_CTX and an SSL hold alike (one implementation for the CTX and the SSL functions) ---------------
class Settings(Protocol):
    """What SSL_CTX and SSL both carry: the settings their ctrl commands and ex_data functions read and write."""

    read_ahead: int
    max_cert_list: int
    max_send_fragment: int
    max_fragment_mode: int
    split_send_fragment: int
    max_pipelines: int
    ex_data: dict[int, Any]


def settings_ctrl(obj: Settings, cmd: int, larg: int) -> int | None:
    """The ctrl commands that mean the same on an SSL_CTX and on an SSL; None for any other command."""
    if cmd == K.SSL_CTRL_GET_READ_AHEAD:
        return obj.read_ahead
    if cmd == K.SSL_CTRL_SET_READ_AHEAD:
        # SSL_CTX_set_read_ahead: DESCRIPTION 0 turns reading ahead off, any other value on; the old value comes back
        old, obj.read_ahead = obj.read_ahead, larg
        return old
    if cmd == K.SSL_CTRL_GET_MAX_CERT_LIST:
        return obj.max_cert_list
    if cmd == K.SSL_CTRL_SET_MAX_CERT_LIST:
        if not _int(larg) or larg < 0:
            return 0  # as OpenSSL 3.0: a negative size is refused
        old, obj.max_cert_list = obj.max_cert_list, larg
        return old
    if cmd == K.SSL_CTRL_SET_MAX_SEND_FRAGMENT:
        # SSL_CTX_set_split_send_fragment: DESCRIPTION only 512..16384; RETURN VALUES 1 / 0. A split fragment above
        # the new maximum comes down with it (OpenSSL 3.0; the page only says it may not exceed the maximum)
        if not _int(larg) or not MIN_SEND_FRAGMENT <= larg <= MAX_SEND_FRAGMENT:
            return 0
        obj.max_send_fragment = larg
        obj.split_send_fragment = min(obj.split_send_fragment, larg)
        return 1
    if cmd == K.SSL_CTRL_SET_SPLIT_SEND_FRAGMENT:
        # SSL_CTX_set_split_send_fragment: DESCRIPTION never above max_send_fragment (and not 0)
        if not _int(larg) or not 0 < larg <= obj.max_send_fragment:
            return 0
        obj.split_send_fragment = larg
        return 1
    if cmd == K.SSL_CTRL_SET_MAX_PIPELINES:
        # SSL_CTX_set_split_send_fragment: DESCRIPTION 1..SSL_MAX_PIPELINES; more than one also turns read_ahead on
        if not _int(larg) or not 1 <= larg <= SSL_MAX_PIPELINES:
            return 0
        obj.max_pipelines = larg
        if larg > 1:
            obj.read_ahead = 1
        return 1
    return None


def set_ex_data(obj: Settings | None, idx: int, data: Any) -> int:
    if obj is None or not _int(idx) or idx < 0:
        return 0
    obj.ex_data[idx] = data
    return 1


def get_ex_data(obj: Settings | None, idx: int) -> Any:
    return None if obj is None else obj.ex_data.get(idx)


# --- life cycle (SSL_CTX_new.pod, SSL_CTX_free.pod) ---------------------------------------------------------------
def SSL_CTX_new(method: SSL_METHOD | object | None) -> SSL_CTX | None:
    # SSL_CTX_new: RETURN VALUES "NULL: The creation of a new SSL_CTX object failed"
    if method is None:
        raise_ssl(K.SSL_R_NULL_SSL_METHOD_PASSED, "SSL_CTX_new")
        return None
    if not isinstance(method, SSL_METHOD):
        raise_ssl(err.ERR_R_PASSED_INVALID_ARGUMENT, "SSL_CTX_new", "not an SSL_METHOD")
        return None
    return SSL_CTX(method)


_DEFAULT_PROPERTIES = frozenset({"provider=default", "fips=no", "-fips"})


def SSL_CTX_new_ex(libctx: object, propq: bytes | str | None, method: SSL_METHOD | object | None) -> SSL_CTX | None:
    """SSL_CTX_new with a library context and property query. The engine has one library context (NULL) and takes
    all its algorithms from ``cryptography``'s default OpenSSL provider: a query that provider meets (or an empty
    one) gives a context, any other leaves nothing to fetch (NULL, ERR_R_UNSUPPORTED)."""
    if libctx is not None:
        raise_ssl(err.ERR_R_PASSED_INVALID_ARGUMENT, "SSL_CTX_new_ex", "only the default library context exists")
        return None
    text = propq.decode("ascii", "replace") if isinstance(propq, bytes) else propq or ""
    for clause in filter(None, (c.strip() for c in text.split(","))):
        if clause.startswith("?"):
            continue  # an optional property never rules a provider out
        if clause.replace(" ", "").lower() not in _DEFAULT_PROPERTIES:
            raise_ssl(err.ERR_R_UNSUPPORTED, "SSL_CTX_new_ex", f"no algorithms match the property query {text!r}")
            return None
    return SSL_CTX_new(method)


def SSL_CTX_set_info_callback(ctx: SSL_CTX | None, cb: InfoCallback | None) -> None:
    """``cb(where, ret)`` (the SSL is not passed, conformance.capi convention); inherited by SSL_new."""
    c = live_ctx(ctx, "SSL_CTX_set_info_callback")
    if c is not None:
        c.info_callback = cb


def SSL_CTX_get_info_callback(ctx: SSL_CTX | None) -> InfoCallback | None:
    c = live_ctx(ctx, "SSL_CTX_get_info_callback")
    return None if c is None else c.info_callback


def SSL_CTX_up_ref(ctx: SSL_CTX | None) -> int:
    c = live_ctx(ctx, "SSL_CTX_up_ref")
    if c is None:
        return 0
    c.references += 1
    return 1


def SSL_CTX_free(ctx: SSL_CTX | None) -> None:
    # SSL_CTX_free: "If ctx is NULL nothing is done"
    if ctx is None:
        return
    c = live_ctx(ctx, "SSL_CTX_free")
    if c is None:
        return
    c.references -= 1
    if c.references <= 0:
        SSL_CTX_CLASS.on_free(c, c.ex_data)  # CRYPTO_get_ex_new_index: free_func runs when the context is freed
        c.ex_data = {}
        c.freed = True
        # SSL_CTX_free: the cached sessions go with the context, each through the remove callback (WARNINGS)
        for state in list(c.sessions.values()):
            c.remove_session(state)
        c.cert_chain = []
        c.private_key = None
        c.trusted = []


# --- versions (SSL_CTX_set_min_proto_version.pod) -------------------------------------------------------------------
def valid_version(version: object) -> bool:
    return _int(version) and version in _VERSIONS


def SSL_CTX_set_min_proto_version(ctx: SSL_CTX | None, version: int) -> int:
    c = live_ctx(ctx, "SSL_CTX_set_min_proto_version")
    if c is None or not valid_version(version):
        return 0
    c.min_version = version
    return 1


def SSL_CTX_set_max_proto_version(ctx: SSL_CTX | None, version: int) -> int:
    c = live_ctx(ctx, "SSL_CTX_set_max_proto_version")
    if c is None or not valid_version(version):
        return 0
    c.max_version = version
    return 1


def SSL_CTX_get_min_proto_version(ctx: SSL_CTX | None) -> int:
    c = live_ctx(ctx, "SSL_CTX_get_min_proto_version")
    return 0 if c is None else c.min_version


def SSL_CTX_get_max_proto_version(ctx: SSL_CTX | None) -> int:
    c = live_ctx(ctx, "SSL_CTX_get_max_proto_version")
    return 0 if c is None else c.max_version


# --- mode and options (SSL_CTX_set_mode.pod, SSL_CTX_set_options.pod) ---------------------------------------------
def SSL_CTX_set_mode(ctx: SSL_CTX | None, mode: int) -> int:
    # SSL_CTX_set_mode: RETURN VALUES "return the new mode bitmask after adding mode"
    c = live_ctx(ctx, "SSL_CTX_set_mode")
    if c is None:
        return 0
    c.mode |= mode
    return c.mode


def SSL_CTX_clear_mode(ctx: SSL_CTX | None, mode: int) -> int:
    c = live_ctx(ctx, "SSL_CTX_clear_mode")
    if c is None:
        return 0
    c.mode &= ~mode
    return c.mode


def SSL_CTX_get_mode(ctx: SSL_CTX | None) -> int:
    c = live_ctx(ctx, "SSL_CTX_get_mode")
    return 0 if c is None else c.mode


def SSL_CTX_set_options(ctx: SSL_CTX | None, options: int) -> int:
    # SSL_CTX_set_options: RETURN VALUES "return the new options bitmask after adding options"
    c = live_ctx(ctx, "SSL_CTX_set_options")
    if c is None:
        return 0
    c.options |= options
    return c.options


def SSL_CTX_clear_options(ctx: SSL_CTX | None, options: int) -> int:
    c = live_ctx(ctx, "SSL_CTX_clear_options")
    if c is None:
        return 0
    c.options &= ~options
    return c.options


def SSL_CTX_get_options(ctx: SSL_CTX | None) -> int:
    c = live_ctx(ctx, "SSL_CTX_get_options")
    return 0 if c is None else c.options


def SSL_CTX_ctrl(ctx: SSL_CTX | None, cmd: int, larg: int = 0, parg: Any = None) -> int:
    """The ctrl commands behind the context macros of the pages; unknown commands return 0."""
    c = live_ctx(ctx, "SSL_CTX_ctrl")
    if c is None:
        return 0
    if cmd == K.SSL_CTRL_MODE:
        return SSL_CTX_set_mode(c, larg)
    if cmd == K.SSL_CTRL_CLEAR_MODE:
        return SSL_CTX_clear_mode(c, larg)
    if cmd == K.SSL_CTRL_SET_MIN_PROTO_VERSION:
        return SSL_CTX_set_min_proto_version(c, larg)
    if cmd == K.SSL_CTRL_SET_MAX_PROTO_VERSION:
        return SSL_CTX_set_max_proto_version(c, larg)
    if cmd == K.SSL_CTRL_GET_MIN_PROTO_VERSION:
        return c.min_version
    if cmd == K.SSL_CTRL_GET_MAX_PROTO_VERSION:
        return c.max_version
    shared = settings_ctrl(c, cmd, larg)
    if shared is not None:
        return shared
    if cmd == K.SSL_CTRL_SESS_NUMBER:
        return len(c.sessions)  # SSL_CTX_sess_number: sessions in the server cache (TLS 1.2 session ids)
    stat = _STATS.get(cmd)
    if stat is not None:
        return int(getattr(c.stats, stat))  # SSL_CTX_sess_number.pod: the counters
    if cmd == K.SSL_CTRL_SET_SESS_CACHE_MODE:
        # SSL_CTX_set_session_cache_mode: RETURN VALUES the previous mode
        old, c.session_cache_mode = c.session_cache_mode, larg
        return old
    if cmd == K.SSL_CTRL_GET_SESS_CACHE_MODE:
        return c.session_cache_mode
    if cmd == K.SSL_CTRL_SET_SESS_CACHE_SIZE:
        if not isinstance(larg, int) or larg < 0:
            return 0  # as OpenSSL 3.0: a negative size is refused
        old, c.session_cache_size = c.session_cache_size, larg
        return old
    if cmd == K.SSL_CTRL_GET_SESS_CACHE_SIZE:
        return c.session_cache_size
    return 0


_STATS = {
    K.SSL_CTRL_SESS_CONNECT: "connect", K.SSL_CTRL_SESS_CONNECT_GOOD: "connect_good",
    K.SSL_CTRL_SESS_CONNECT_RENEGOTIATE: "connect_renegotiate", K.SSL_CTRL_SESS_ACCEPT: "accept",
    K.SSL_CTRL_SESS_ACCEPT_GOOD: "accept_good", K.SSL_CTRL_SESS_ACCEPT_RENEGOTIATE: "accept_renegotiate",
    K.SSL_CTRL_SESS_HIT: "hits", K.SSL_CTRL_SESS_CB_HIT: "cb_hits", K.SSL_CTRL_SESS_MISSES: "misses",
    K.SSL_CTRL_SESS_TIMEOUTS: "timeouts", K.SSL_CTRL_SESS_CACHE_FULL: "cache_full",
}  # fmt: skip


def SSL_CTX_set_max_cert_list(ctx: SSL_CTX | None, size: int) -> int:
    """ssl.h macro: the largest certificate chain (Certificate message) accepted from a peer; returns the old one."""
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SET_MAX_CERT_LIST, size, None)


def SSL_CTX_get_max_cert_list(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_GET_MAX_CERT_LIST, 0, None)


def SSL_CTX_get_ex_new_index(argl: int = 0, argp: Any = None, new_func: Any = None, dup_func: Any = None,
                             free_func: Any = None) -> int:  # fmt: skip
    """A new application-data index for contexts (callbacks as in engine.ssl.exdata)."""
    return SSL_CTX_CLASS.new_index(argl, argp, new_func, dup_func, free_func)


def SSL_CTX_set_ex_data(ctx: SSL_CTX | None, idx: int, data: Any) -> int:
    return set_ex_data(live_ctx(ctx, "SSL_CTX_set_ex_data"), idx, data)


def SSL_CTX_get_ex_data(ctx: SSL_CTX | None, idx: int) -> Any:
    return get_ex_data(live_ctx(ctx, "SSL_CTX_get_ex_data"), idx)




def SSL_CTX_sess_set_remove_cb(ctx: SSL_CTX | None, remove_session_cb: Callable[[Any], None] | None) -> None:
    """``remove_session_cb(session)`` for each session that leaves the context's cache (SSL_CTX_free: WARNINGS)."""
    c = live_ctx(ctx, "SSL_CTX_sess_set_remove_cb")
    if c is not None:
        c.remove_session_cb = remove_session_cb


def SSL_CTX_set_read_ahead(ctx: SSL_CTX | None, yes: int) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SET_READ_AHEAD, yes, None)


def SSL_CTX_get_read_ahead(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_GET_READ_AHEAD, 0, None)


# SSL_CTX_set_read_ahead: DESCRIPTION the _default_ names are the same macros under older names
SSL_CTX_set_default_read_ahead = SSL_CTX_set_read_ahead
SSL_CTX_get_default_read_ahead = SSL_CTX_get_read_ahead


# --- record sizes and pipelines (SSL_CTX_set_split_send_fragment.pod) ----------------------------------------------
def SSL_CTX_set_max_send_fragment(ctx: SSL_CTX | None, m: int) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SET_MAX_SEND_FRAGMENT, m, None)


def SSL_CTX_set_split_send_fragment(ctx: SSL_CTX | None, m: int) -> int:
    """Stored and checked against max_send_fragment; with no pipeline-capable cipher the engine writes one
    record of at most max_send_fragment bytes at a time (what the page says a split equal to the maximum does)."""
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SET_SPLIT_SEND_FRAGMENT, m, None)


def SSL_CTX_set_max_pipelines(ctx: SSL_CTX | None, m: int) -> int:
    """Stored (and turns read_ahead on above 1); the engine has no pipeline-capable cipher, so one pipeline is used."""
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SET_MAX_PIPELINES, m, None)


def SSL_CTX_set_default_read_buffer_len(ctx: SSL_CTX | None, len: int) -> None:
    """Stored only: the engine's read buffer grows as needed (the page: used only when above the default)."""
    c = live_ctx(ctx, "SSL_CTX_set_default_read_buffer_len")
    if c is not None and _int(len):
        c.default_read_buffer_len = len


def valid_max_fragment_mode(mode: object, func: str) -> bool:
    """SSL_CTX_set_split_send_fragment: NOTES the modes DISABLED, 512, 1024, 2048 and 4096; RETURN VALUES any other
    is a failure (0), with OpenSSL 3.0's reason on the error queue (the page is silent on the queue)."""
    if isinstance(mode, int) and _int(mode) and maxfraglen.valid(mode):
        return True
    raise_ssl(K.SSL_R_SSL3_EXT_INVALID_MAX_FRAGMENT_LENGTH, func)
    return False


def SSL_CTX_set_tlsext_max_fragment_length(ctx: SSL_CTX | None, mode: int) -> int:
    """SSL_CTX_set_split_send_fragment: DESCRIPTION the mode SSL objects made from ctx afterwards ask for (client
    side: a server answers any valid request whatever its own mode); RETURN VALUES 1 / 0."""
    c = live_ctx(ctx, "SSL_CTX_set_tlsext_max_fragment_length")
    if c is None or not valid_max_fragment_mode(mode, "SSL_CTX_set_tlsext_max_fragment_length"):
        return 0
    c.max_fragment_mode = mode
    return 1


def SSL_CTX_set_verify_depth(ctx: SSL_CTX | None, depth: int) -> None:
    c = live_ctx(ctx, "SSL_CTX_set_verify_depth")
    if c is not None:
        c.verify_depth = depth


def SSL_CTX_get_verify_depth(ctx: SSL_CTX | None) -> int:
    c = live_ctx(ctx, "SSL_CTX_get_verify_depth")
    return -1 if c is None else c.verify_depth


def SSL_CTX_set_security_level(ctx: SSL_CTX | None, level: int) -> None:
    c = live_ctx(ctx, "SSL_CTX_set_security_level")
    if c is not None:
        c.security_level = level


def SSL_CTX_get_security_level(ctx: SSL_CTX | None) -> int:
    c = live_ctx(ctx, "SSL_CTX_get_security_level")
    return 0 if c is None else c.security_level


# --- verification, certificates, keys -----------------------------------------------------------------------------
def SSL_CTX_set_verify(ctx: SSL_CTX | None, mode: int, verify_callback: VerifyCallback | None) -> None:
    """``verify_callback(preverify_ok, store_ctx)``, called per chain level by the built-in verification
    (engine/ssl/verify.py); NULL: the default callback, which returns preverify_ok."""
    c = live_ctx(ctx, "SSL_CTX_set_verify")
    if c is not None:
        c.verify_mode = mode
        c.verify_callback = verify_callback


def SSL_CTX_set_post_handshake_auth(ctx: SSL_CTX | None, val: int) -> None:
    """SSL_CTX_set_verify: DESCRIPTION a client offers the post-handshake authentication extension when val != 0."""
    c = live_ctx(ctx, "SSL_CTX_set_post_handshake_auth")
    if c is not None:
        c.post_handshake_auth = bool(val)


def SSL_CTX_get_verify_callback(ctx: SSL_CTX | None) -> VerifyCallback | None:
    c = live_ctx(ctx, "SSL_CTX_get_verify_callback")
    return None if c is None else c.verify_callback


def SSL_CTX_get_verify_mode(ctx: SSL_CTX | None) -> int:
    c = live_ctx(ctx, "SSL_CTX_get_verify_mode")
    return 0 if c is None else c.verify_mode


def _path(file: object) -> str | None:
    if isinstance(file, bytes):
        return os.fsdecode(file)
    if isinstance(file, str):
        return file
    return None


def _read_file(file: object, func: str) -> bytes | None:
    """The file's bytes, or None with the entries libssl leaves (system error, then ERR_R_SYS_LIB)."""
    path = _path(file)
    if path is None:
        raise_ssl(err.ERR_R_PASSED_NULL_PARAMETER, func)
        return None
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as e:
        err.raise_sys(e.errno or _errno.EIO, f"calling fopen({path}, r)", func=func)
        raise_ssl(err.ERR_R_SYS_LIB, func)
        return None


_PEM_LIB = 9 | err.ERR_RFLAG_COMMON  # ERR_R_PEM_LIB
_PEM_R_NO_START_LINE = 108


def _load_certs(data: bytes, filetype: int, func: str) -> list[x509.Certificate] | None:
    try:
        if filetype == K.SSL_FILETYPE_ASN1:
            return [x509.load_der_x509_certificate(data)]
        certs = x509.load_pem_x509_certificates(data)
    except (ValueError, x509.InvalidVersion):  # an unknown X.509 version is no ValueError (found by the fuzz)
        err.ERR_raise(err.ERR_LIB_PEM, _PEM_R_NO_START_LINE, func=func)
        raise_ssl(_PEM_LIB, func)
        return None
    return certs


def _filetype_ok(filetype: int, func: str) -> bool:
    if filetype not in (K.SSL_FILETYPE_PEM, K.SSL_FILETYPE_ASN1):
        raise_ssl(K.SSL_R_BAD_SSL_FILETYPE, func)
        return False
    return True


def load_certificate_file(file: object, type: int, func: str) -> x509.Certificate | None:
    """The first certificate of a PEM or DER file, or None with libssl's entries on the queue."""
    if not _filetype_ok(type, func):
        return None
    data = _read_file(file, func)
    certs = None if data is None else _load_certs(data, type, func)
    return certs[0] if certs else None


def load_key_file(file: object, type: int, func: str) -> PrivateKey | None:
    """A private key from a PEM or DER file, or None with the entries on the queue."""
    if not _filetype_ok(type, func):
        return None
    data = _read_file(file, func)
    if data is None:
        return None
    try:
        key = load_der_private_key(data, None) if type == K.SSL_FILETYPE_ASN1 else load_pem_private_key(data, None)
    except (ValueError, TypeError):
        err.ERR_raise(err.ERR_LIB_PEM, _PEM_R_NO_START_LINE, func=func)
        raise_ssl(_PEM_LIB, func)
        return None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
                      | ed448.Ed448PrivateKey):  # fmt: skip
        raise_ssl(K.SSL_R_BAD_VALUE, func, "unsupported key type")
        return None
    return key


def SSL_CTX_use_certificate_file(ctx: SSL_CTX | None, file: bytes | str, type: int) -> int:
    # SSL_CTX_use_certificate: RETURN VALUES "1 on success, otherwise ... check the error stack"
    c = live_ctx(ctx, "SSL_CTX_use_certificate_file")
    cert = None if c is None else load_certificate_file(file, type, "SSL_CTX_use_certificate_file")
    if c is None or cert is None:
        return 0
    use_certificate(c, [cert], keep_chain=True)
    return 1


def SSL_CTX_use_certificate_chain_file(ctx: SSL_CTX | None, file: bytes | str) -> int:
    c = live_ctx(ctx, "SSL_CTX_use_certificate_chain_file")
    if c is None:
        return 0
    data = _read_file(file, "SSL_CTX_use_certificate_chain_file")
    certs = None if data is None else _load_certs(data, K.SSL_FILETYPE_PEM, "SSL_CTX_use_certificate_chain_file")
    if not certs:
        return 0
    use_certificate(c, list(certs))
    return 1


def SSL_CTX_use_PrivateKey_file(ctx: SSL_CTX | None, file: bytes | str, type: int) -> int:
    c = live_ctx(ctx, "SSL_CTX_use_PrivateKey_file")
    key = None if c is None else load_key_file(file, type, "SSL_CTX_use_PrivateKey_file")
    if c is None or key is None:
        return 0
    use_private_key(c, key)
    return 1


def _key_kind(key: object) -> str:
    """The slot a key fills: OpenSSL keeps one certificate per key type (SSL_PKEY_RSA, SSL_PKEY_ECC, ...)."""
    for kind in (rsa.RSAPublicKey, rsa.RSAPrivateKey):
        if isinstance(key, kind):
            return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return "ec"
    return type(key).__name__.replace("Public", "").replace("Private", "")


def use_certificate(holder: Any, chain: list[x509.Certificate], keep_chain: bool = False) -> None:
    """Install ``chain`` on an SSL_CTX or SSL (both have ``cert_chain``, ``private_key``, ``other_certs``).

    A certificate of the same key type as the current one replaces it (``keep_chain``: only the leaf, as
    SSL_CTX_use_certificate does). One of another key type, while the current certificate has its key, moves
    the current pair aside to ``other_certs`` and starts a new one: that is how an RSA and an ECDSA certificate are
    loaded on one SSL_CTX, each followed by its key (the server then picks by the client's signature_algorithms)."""
    current = holder.cert_chain
    kind = _key_kind(chain[0].public_key())
    if current and holder.private_key is not None and _key_kind(current[0].public_key()) != kind:
        aside = [p for p in holder.other_certs if _key_kind(p[1]) not in (kind, _key_kind(holder.private_key))]
        holder.other_certs = [*aside, (current, holder.private_key)]
        holder.cert_chain, holder.private_key = list(chain), None
        return
    holder.other_certs = [p for p in holder.other_certs if _key_kind(p[1]) != kind]
    holder.cert_chain = [chain[0], *current[1:]] if keep_chain else list(chain)


def use_private_key(holder: Any, key: PrivateKey) -> None:
    """The key of the current certificate; a key matching a certificate set aside completes that one instead."""
    for i, (chain, _) in enumerate(holder.other_certs):
        if not (holder.cert_chain and _key_kind(holder.cert_chain[0].public_key()) == _key_kind(key)) and (
            _key_kind(chain[0].public_key()) == _key_kind(key)
        ):
            holder.other_certs[i] = (chain, key)
            return
    holder.private_key = key


def SSL_CTX_load_verify_locations(ctx: SSL_CTX | None, CAfile: bytes | str | None, CApath: bytes | str | None
                                  ) -> int:  # fmt: skip
    """Trust every certificate of ``CAfile`` (PEM) and of each PEM file in ``CApath``."""
    c = live_ctx(ctx, "SSL_CTX_load_verify_locations")
    if c is None:
        return 0
    if CAfile is None and CApath is None:
        raise_ssl(err.ERR_R_PASSED_NULL_PARAMETER, "SSL_CTX_load_verify_locations")
        return 0
    found: list[x509.Certificate] = []
    if CAfile is not None:
        data = _read_file(CAfile, "SSL_CTX_load_verify_locations")
        certs = None if data is None else _load_certs(data, K.SSL_FILETYPE_PEM, "SSL_CTX_load_verify_locations")
        if not certs:
            return 0
        found += certs
    if CApath is not None:
        path = _path(CApath) or ""
        try:
            names = sorted(os.listdir(path))
        except OSError as e:
            err.raise_sys(e.errno or _errno.EIO, f"opendir({path})", func="SSL_CTX_load_verify_locations")
            raise_ssl(err.ERR_R_SYS_LIB, "SSL_CTX_load_verify_locations")
            return 0
        for name in names:
            try:
                with open(os.path.join(path, name), "rb") as fh:
                    found += x509.load_pem_x509_certificates(fh.read())
            except (OSError, ValueError, x509.InvalidVersion):
                continue  # like a hashed directory lookup, files that are no certificates are skipped
    c.trusted = c.trusted + found
    return 1


# --- cipher suites and groups -------------------------------------------------------------------------------------
def parse_ciphersuites(text: object) -> tuple[int, ...] | None:
    """``TLS_AES_128_GCM_SHA256:...`` -> suite codes, None if a name is unknown (SSL_CTX_set_ciphersuites)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        return None
    codes = []
    for name in filter(None, text.split(":")):
        code = _SUITE_NAMES.get(name)
        if code is None:
            return None
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def SSL_CTX_set_ciphersuites(ctx: SSL_CTX | None, str: bytes | str) -> int:
    c = live_ctx(ctx, "SSL_CTX_set_ciphersuites")
    if c is None:
        return 0
    codes = parse_ciphersuites(str)
    if codes is None:
        raise_ssl(K.SSL_R_NO_CIPHER_MATCH, "SSL_CTX_set_ciphersuites")
        return 0
    c.ciphersuites = codes
    return 1


# OpenSSL 3.0's DEFAULT order of the TLS 1.2 suites the engine has (``openssl ciphers -tls1_2 -s DEFAULT``)
DEFAULT_CIPHER_LIST: tuple[int, ...] = tuple(
    suite_by_name(n).id
    for n in (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES128-SHA256",
        "ECDHE-RSA-AES128-SHA256",
        "ECDHE-ECDSA-AES256-SHA",
        "ECDHE-RSA-AES256-SHA",
        "ECDHE-ECDSA-AES128-SHA",
        "ECDHE-RSA-AES128-SHA",
    )
)


def _cipher_alias(word: str) -> frozenset[int] | None:
    """The suites one word of a cipher string stands for: an OpenSSL suite name or one of the aliases of
    openssl-ciphers(1) that can select among the engine's suites; None for a word the engine does not know."""
    suites = SUITES12.values()
    try:
        return frozenset({suite_by_name(word).id})
    except KeyError:
        pass
    tests: dict[str, Callable[[Suite12], bool]] = {
        "ALL": lambda s: True,
        "DEFAULT": lambda s: True,
        "HIGH": lambda s: True,
        "TLSv1.2": lambda s: True,
        "ECDHE": lambda s: True,
        "EECDH": lambda s: True,
        "kECDHE": lambda s: True,
        "kEECDH": lambda s: True,
        "ECDSA": lambda s: s.auth is Authentication.ECDSA,
        "aECDSA": lambda s: s.auth is Authentication.ECDSA,
        "aRSA": lambda s: s.auth is Authentication.RSA,
        "RSA": lambda s: False,  # RSA key exchange: none of the engine's suites
        "AESGCM": lambda s: s.cipher in (BulkCipher.AES_128_GCM, BulkCipher.AES_256_GCM),
        "AES": lambda s: s.cipher is not BulkCipher.CHACHA20_POLY1305,
        "AES128": lambda s: s.cipher in (BulkCipher.AES_128_GCM, BulkCipher.AES_128_CBC),
        "AES256": lambda s: s.cipher in (BulkCipher.AES_256_GCM, BulkCipher.AES_256_CBC),
        "CHACHA20": lambda s: s.cipher is BulkCipher.CHACHA20_POLY1305,
        "SHA1": lambda s: s.mac is MACAlgorithm.SHA1,
        "SHA": lambda s: s.mac is MACAlgorithm.SHA1,
        "SHA256": lambda s: s.prf_hash == "sha256" and s.mac is not MACAlgorithm.SHA1,
        "SHA384": lambda s: s.prf_hash == "sha384",
        "COMPLEMENTOFDEFAULT": lambda s: False,
        "eNULL": lambda s: False,
        "aNULL": lambda s: False,
    }
    test = tests.get(word)
    return None if test is None else frozenset(s.id for s in suites if test(s))


def parse_cipher_list(text: object) -> tuple[int, ...] | None:
    """A cipher string (openssl-ciphers(1) CIPHER LIST FORMAT) -> the engine's TLS 1.2 suites it selects, in
    order; None when it selects none (SSL_CTX_set_cipher_list: SSL_R_NO_CIPHER_MATCH).

    Words are suite names and aliases, joined with ``+`` for an intersection; ``!`` removes for good, ``-``
    removes, ``+`` moves to the end; ``@STRENGTH`` sorts by key length; ``@SECLEVEL=n`` is accepted. Words the
    engine does not know select nothing, as libssl ignores unknown names in a list.
    """
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        return None
    chosen: list[int] = []
    banned: set[int] = set()
    for word in text.replace(",", ":").replace(" ", ":").split(":"):
        if not word:
            continue
        if word == "@STRENGTH":
            chosen.sort(key=lambda c: -SUITES12[c].enc_key_len)
            continue
        if word.startswith("@"):
            continue
        op = word[0] if word[0] in "!-+" else ""
        selected: frozenset[int] | None = None
        for part in (word[1:] if op else word).split("+"):
            alias = _cipher_alias(part)
            if alias is None:
                selected = frozenset()
                break
            selected = alias if selected is None else selected & alias
        picked = [c for c in DEFAULT_CIPHER_LIST if c in (selected or frozenset())]
        if op == "!":
            banned.update(picked)
        elif op == "-":
            chosen = [c for c in chosen if c not in picked]
        elif op == "+":
            chosen = [c for c in chosen if c not in picked] + [c for c in chosen if c in picked]
        else:
            chosen += [c for c in picked if c not in chosen and c not in banned]
    result = tuple(c for c in chosen if c not in banned)
    return result or None


def SSL_CTX_set_cipher_list(ctx: SSL_CTX | None, str: bytes | str) -> int:
    """The TLS 1.2 cipher list (``ciphers`` format); 0 and SSL_R_NO_CIPHER_MATCH when it selects none of the
    engine's TLS 1.2 suites (libssl 3.0 likewise). TLS 1.3 suites: SSL_CTX_set_ciphersuites."""
    c = live_ctx(ctx, "SSL_CTX_set_cipher_list")
    if c is None:
        return 0
    codes = parse_cipher_list(str)
    if codes is None:
        raise_ssl(K.SSL_R_NO_CIPHER_MATCH, "SSL_CTX_set_cipher_list")
        return 0
    c.cipher_list = codes
    return 1


def parse_groups(text: object) -> tuple[int, ...] | None:
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str) or not text:
        return None
    groups = []
    for name in text.split(":"):
        code = _GROUP_NAMES.get(name.lower())
        if code is None or code not in SUPPORTED_GROUPS:
            return None
        if code not in groups:
            groups.append(code)
    return tuple(groups)


def SSL_CTX_set1_groups_list(ctx: SSL_CTX | None, list: bytes | str) -> int:
    c = live_ctx(ctx, "SSL_CTX_set1_groups_list")
    if c is None:
        return 0
    groups = parse_groups(list)
    if groups is None:
        raise_ssl(err.ERR_R_PASSED_INVALID_ARGUMENT, "SSL_CTX_set1_groups_list", "unknown or unsupported group")
        return 0
    c.groups = groups
    return 1


# --- shutdown, tickets, callbacks ---------------------------------------------------------------------------------
def SSL_CTX_set_timeout(ctx: SSL_CTX | None, t: int) -> int:
    # SSL_CTX_set_timeout: RETURN VALUES "returns the previously set timeout value"
    c = live_ctx(ctx, "SSL_CTX_set_timeout")
    if c is None:
        return 0
    old, c.session_timeout = c.session_timeout, t
    return old


def SSL_CTX_get_timeout(ctx: SSL_CTX | None) -> int:
    c = live_ctx(ctx, "SSL_CTX_get_timeout")
    return 0 if c is None else c.session_timeout


def SSL_CTX_set_quiet_shutdown(ctx: SSL_CTX | None, mode: int) -> None:
    c = live_ctx(ctx, "SSL_CTX_set_quiet_shutdown")
    if c is not None:
        c.quiet_shutdown = 1 if mode else 0


def SSL_CTX_get_quiet_shutdown(ctx: SSL_CTX | None) -> int:
    c = live_ctx(ctx, "SSL_CTX_get_quiet_shutdown")
    return 0 if c is None else c.quiet_shutdown


def SSL_CTX_set_num_tickets(ctx: SSL_CTX | None, num_tickets: int) -> int:
    c = live_ctx(ctx, "SSL_CTX_set_num_tickets")
    if c is None or not _int(num_tickets) or num_tickets < 0:
        return 0
    c.num_tickets = num_tickets
    return 1


def SSL_CTX_get_num_tickets(ctx: SSL_CTX | None) -> int:
    c = live_ctx(ctx, "SSL_CTX_get_num_tickets")
    return 0 if c is None else c.num_tickets


def SSL_CTX_set_client_cert_cb(ctx: SSL_CTX | None, client_cert_cb: ClientCertCallback | None) -> None:
    """``client_cert_cb(ssl) -> (ret, x509, pkey)`` (or a bare ``ret``: out parameters left NULL): 1 with an X509
    and an EVP_PKEY = install that pair on the SSL and send it (the references handed over are released), 0 = none,
    < 0 = call me again (SSL_get_error: SSL_ERROR_WANT_X509_LOOKUP). Called only when the server asks and the SSL
    has no certificate (engine/ssl/handles.py)."""
    c = live_ctx(ctx, "SSL_CTX_set_client_cert_cb")
    if c is not None:
        c.client_cert_cb = client_cert_cb


def SSL_CTX_get_client_cert_cb(ctx: SSL_CTX | None) -> ClientCertCallback | None:
    # SSL_CTX_set_client_cert_cb: RETURN VALUES the callback set, NULL when none
    c = live_ctx(ctx, "SSL_CTX_get_client_cert_cb")
    return None if c is None else c.client_cert_cb


def SSL_CTX_set_cert_verify_callback(ctx: SSL_CTX | None, cb: CertVerifyCallback | None, arg: Any = None) -> None:
    """``cb()`` replaces the built-in check of the server's chain (SSL_CTX_set_cert_verify_callback.pod): 1 accepts,
    0 rejects; 1 after SSL_set_retry_verify() suspends the handshake (SSL_ERROR_WANT_RETRY_VERIFY) until the next
    call, which asks the callback again. The X509_STORE_CTX and arg are not passed (conformance.capi convention)."""
    c = live_ctx(ctx, "SSL_CTX_set_cert_verify_callback")
    if c is not None:
        c.cert_verify_callback = cb


def SSL_CTX_set_client_hello_cb(ctx: SSL_CTX | None, cb: ClientHelloCallback | None, arg: Any = None) -> None:
    """``cb(ssl)``: SSL_CLIENT_HELLO_SUCCESS (1), _ERROR (0) or _RETRY (-1, SSL_ERROR_WANT_CLIENT_HELLO_CB)."""
    c = live_ctx(ctx, "SSL_CTX_set_client_hello_cb")
    if c is not None:
        c.client_hello_cb = cb


# --- session cache (SSL_CTX_set_session_cache_mode.pod, SSL_CTX_sess_number.pod) -----------------------------------
def SSL_CTX_set_session_cache_mode(ctx: SSL_CTX | None, mode: int) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SET_SESS_CACHE_MODE, mode, None)


def SSL_CTX_get_session_cache_mode(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_GET_SESS_CACHE_MODE, 0, None)


def SSL_CTX_sess_set_cache_size(ctx: SSL_CTX | None, t: int) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SET_SESS_CACHE_SIZE, t, None)


def SSL_CTX_sess_get_cache_size(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_GET_SESS_CACHE_SIZE, 0, None)


def SSL_CTX_sess_number(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_NUMBER, 0, None)


def SSL_CTX_sess_connect(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_CONNECT, 0, None)


def SSL_CTX_sess_connect_good(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_CONNECT_GOOD, 0, None)


def SSL_CTX_sess_connect_renegotiate(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_CONNECT_RENEGOTIATE, 0, None)


def SSL_CTX_sess_accept(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_ACCEPT, 0, None)


def SSL_CTX_sess_accept_good(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_ACCEPT_GOOD, 0, None)


def SSL_CTX_sess_accept_renegotiate(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_ACCEPT_RENEGOTIATE, 0, None)


def SSL_CTX_sess_hits(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_HIT, 0, None)


def SSL_CTX_sess_cb_hits(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_CB_HIT, 0, None)


def SSL_CTX_sess_misses(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_MISSES, 0, None)


def SSL_CTX_sess_timeouts(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_TIMEOUTS, 0, None)


def SSL_CTX_sess_cache_full(ctx: SSL_CTX | None) -> int:
    return SSL_CTX_ctrl(ctx, K.SSL_CTRL_SESS_CACHE_FULL, 0, None)
