"""C-API cases for the life of SSL and SSL_CTX objects: SSL_new/SSL_dup/SSL_up_ref, SSL_free, SSL_CTX_new,
SSL_CTX_free, SSL_get_SSL_CTX, SSL_set_connect_state/SSL_is_server and SSL_clear.

Reference counts are only ever observed through documented, safe means: the object still works after a matching
number of frees, and a BIO pair half it owns is released (its partner unpaired) when the object goes away."""

from __future__ import annotations

import weakref
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.certs import default_pki
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from conformance.stacks.capi_endpoint import as_capi_endpoint
from specs.cases._ssl_objects import (
    WANT,
    Mem,
    attempt_handshake,
    error,
    full_shutdown,
    handshake,
    move,
    null_with_error,
    paired,
    pump,
    ssl_ctx,
    ssl_obj,
    version,
)

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")


# --- SSL_new / SSL_get_SSL_CTX / SSL_CTX_new ------------------------------------------------------------------

@pytest.mark.clauses(
    "SSL_new/DESCRIPTION/creates-object",
    "SSL_new/RETURN VALUES/pointer",
    "SSL_get_SSL_CTX/DESCRIPTION/returns-creating-context",
    "SSL_get_SSL_CTX/RETURN VALUES/pointer",
    "SSL_CTX_new/DESCRIPTION/creates-context",
    "SSL_CTX_new/RETURN VALUES/pointer",
)
def test_ssl_new_object_belongs_to_its_context(h: Harness) -> None:
    """SSL_CTX_new and SSL_new return objects; SSL_get_SSL_CTX gives back exactly the context used."""
    api = h.capi
    with ssl_ctx(h) as ctx, ssl_ctx(h) as other, ssl_obj(h, ctx) as ssl, ssl_obj(h, other) as ssl2:
        assert ssl != ssl2
        assert api.SSL_get_SSL_CTX(ssl) == ctx, "SSL_get_SSL_CTX must return the context SSL_new was given"
        assert api.SSL_get_SSL_CTX(ssl2) == other


@pytest.mark.clauses("SSL_new/RETURN VALUES/NULL")
def test_ssl_new_without_context_returns_null(h: Harness) -> None:
    """SSL_new(NULL) cannot make an object: NULL, with the reason on the error queue."""
    api = h.capi
    null_with_error(h, "SSL_new", None)
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_CTX_new/RETURN VALUES/NULL")
def test_ssl_ctx_new_without_method_returns_null(h: Harness) -> None:
    """SSL_CTX_new(NULL): NULL with the reason on the error queue."""
    api = h.capi
    null_with_error(h, "SSL_CTX_new", None)
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_CTX_new/DESCRIPTION/new-ex-libctx-propq")
def test_ssl_ctx_new_ex_fetches_with_the_property_query(h: Harness) -> None:
    """SSL_CTX_new_ex(NULL, NULL, method) and a query the default provider meets give working contexts; a query no
    provider meets leaves nothing to fetch: NULL with the reason on the queue."""
    api = h.capi
    for propq in (None, b"provider=default"):
        ctx = api.SSL_CTX_new_ex(None, propq, api.TLS_method())
        assert ctx is not None, f"SSL_CTX_new_ex(NULL, {propq!r}, TLS_method()) failed"
        ssl = api.SSL_new(ctx)
        assert ssl is not None
        api.SSL_free(ssl)
        api.SSL_CTX_free(ctx)
    null_with_error(h, "SSL_CTX_new_ex", None, b"provider=nonexistent", api.TLS_method())
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_new/DESCRIPTION/inherits-context-settings")
def test_ssl_new_inherits_context_settings(h: Harness) -> None:
    """An object made after the context was configured has its method, options and verification settings."""
    api = h.capi
    for method, server in (("TLS_client_method", 0), ("TLS_server_method", 1)):
        with ssl_ctx(h, getattr(api, method)()) as ctx:
            api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET | K.SSL_OP_CIPHER_SERVER_PREFERENCE)
            api.SSL_CTX_set_verify(ctx, K.SSL_VERIFY_PEER | K.SSL_VERIFY_FAIL_IF_NO_PEER_CERT, None)
            with ssl_obj(h, ctx) as ssl:
                assert api.SSL_is_server(ssl) == server, f"{method}: SSL_is_server -> {api.SSL_is_server(ssl)}"
                options = api.SSL_get_options(ssl)
                assert options & K.SSL_OP_NO_TICKET and options & K.SSL_OP_CIPHER_SERVER_PREFERENCE, hex(options)
                mode = api.SSL_get_verify_mode(ssl)
                assert mode == K.SSL_VERIFY_PEER | K.SSL_VERIFY_FAIL_IF_NO_PEER_CERT, mode


@pytest.mark.clauses("SSL_new/DESCRIPTION/inherits-context-timeout")
@pytest.mark.needs("tls1_2")
def test_ssl_new_inherits_context_timeout(h: Harness) -> None:
    """A session timeout set on the context before SSL_new is the timeout of the session the object makes."""
    api = h.capi
    client = Mem(h, Role.CLIENT)
    server = Mem(h, Role.SERVER, adjust=lambda c: c.with_(max_version="TLSv1.2"),
                 before_new=lambda ctx: api.SSL_CTX_set_timeout(ctx, 1234))
    handshake(h, client, server)
    session = api.SSL_get_session(server.ssl)
    assert session is not None
    assert api.SSL_SESSION_get_timeout(session) == 1234, api.SSL_SESSION_get_timeout(session)


# --- reference counts: SSL_up_ref / SSL_free / SSL_CTX_up_ref / SSL_CTX_free ----------------------------------

@pytest.mark.clauses(
    "SSL_new/DESCRIPTION/reference-counted",
    "SSL_new/DESCRIPTION/up-ref-increments",
    "SSL_new/RETURN VALUES/up-ref-1",
    "SSL_free/DESCRIPTION/drops-reference",
)
def test_ssl_up_ref_needs_a_matching_free(h: Harness) -> None:
    """After SSL_up_ref the first SSL_free leaves the object (and the BIO it owns) alive; the second releases it."""
    api = h.capi
    side = Mem(h, Role.CLIENT)
    assert api.SSL_up_ref(side.ssl) == 1
    api.SSL_free(side.ssl)
    assert api.SSL_get_SSL_CTX(side.ssl) == side.ctx, "the object must still be usable after the first SSL_free"
    assert paired(api, side.net), "the object's BIO must still exist after the first SSL_free"
    ret = api.SSL_do_handshake(side.ssl)
    assert ret == -1 and error(api, side.ssl, ret) is SslError.SSL_ERROR_WANT_READ, "it can still start a handshake"
    api.SSL_free(side.ssl)
    side.ssl = None
    assert not paired(api, side.net), "the last SSL_free must release the object and the BIO it owns"


# An index with a free callback stays registered for the rest of the process (as in C), so it is made once per api
# object; each case marks its own object with a fresh value and looks only for that value.
# Keyed by the api object itself, held weakly: an id() can be reused by another stack's api once the first is freed.
_FREE_INDEX: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()
_FREED: list[tuple[str, int, int | None]] = []
_MARKS = iter(range(0x5EED_0001, 0x5EED_FFFF))


def _free_index(api: Any, kind: str) -> int:
    indexes = _FREE_INDEX.setdefault(api, {})
    if kind not in indexes:
        def on_free(parent: Any, ptr: Any, ad: Any, idx: int, argl: int, argp: Any) -> None:
            _FREED.append((kind, idx, ptr))

        new_index = api.SSL_get_ex_new_index if kind == "SSL" else api.SSL_CTX_get_ex_new_index
        indexes[kind] = new_index(0, None, None, None, on_free)
    return indexes[kind]


def _freed(kind: str, idx: int, mark: int) -> int:
    return sum(1 for entry in _FREED if entry == (kind, idx, mark))


@pytest.mark.clauses("SSL_free/DESCRIPTION/drops-reference", "SSL_free/DESCRIPTION/memory-released")
def test_ssl_ex_data_is_freed_with_the_last_reference(h: Harness) -> None:
    """An application-data index with a free callback (SSL_get_ex_new_index): after SSL_up_ref the first SSL_free
    does not free the object, so the callback has not run for its data; the second does, and the callback runs
    once, with the data that was set."""
    api = h.capi
    idx = _free_index(api, "SSL")
    mark = next(_MARKS)
    with ssl_ctx(h) as ctx:
        ssl = api.SSL_new(ctx)  # freed twice below: the case is about those frees
        assert api.SSL_set_ex_data(ssl, idx, mark) == 1
        assert api.SSL_up_ref(ssl) == 1
        api.SSL_free(ssl)
        assert _freed("SSL", idx, mark) == 0, "the free callback ran although a reference was left"
        assert api.SSL_get_ex_data(ssl, idx) == mark
        api.SSL_free(ssl)
        assert _freed("SSL", idx, mark) == 1, \
            f"the last SSL_free must run the free callback once for the data: {_freed('SSL', idx, mark)} times"


@pytest.mark.clauses("SSL_CTX_free/DESCRIPTION/drops-reference", "SSL_CTX_free/DESCRIPTION/frees-owned-items")
def test_ssl_ctx_ex_data_is_freed_with_the_last_reference(h: Harness) -> None:
    """The same for a context (SSL_CTX_get_ex_new_index): an SSL made from it holds a reference too, so the data
    is freed only once the context's own references and the SSL are all gone."""
    api = h.capi
    idx = _free_index(api, "SSL_CTX")
    mark = next(_MARKS)
    ctx = api.SSL_CTX_new(api.TLS_method())
    assert api.SSL_CTX_set_ex_data(ctx, idx, mark) == 1
    assert api.SSL_CTX_up_ref(ctx) == 1
    ssl = api.SSL_new(ctx)
    api.SSL_CTX_free(ctx)
    api.SSL_CTX_free(ctx)
    assert _freed("SSL_CTX", idx, mark) == 0, "the free callback ran while an SSL still used the context"
    assert api.SSL_CTX_get_ex_data(ctx, idx) == mark
    api.SSL_free(ssl)
    assert _freed("SSL_CTX", idx, mark) == 1, \
        f"freeing the last user must run the free callback once: {_freed('SSL_CTX', idx, mark)} times"


@pytest.mark.clauses("SSL_free/DESCRIPTION/drops-reference", "SSL_CTX_free/DESCRIPTION/drops-reference")
def test_ssl_keeps_its_context_until_its_last_free(h: Harness) -> None:
    """An SSL with two references (SSL_up_ref) holds its context until its last SSL_free: with the context's own
    reference already given back, the first SSL_free must not free the context (its application data's free
    callback does not run), the second does (review16: an SSL_free that gave back the context's reference at every
    call, not only the last, passed every case)."""
    api = h.capi
    idx = _free_index(api, "SSL_CTX")
    mark = next(_MARKS)
    ctx = api.SSL_CTX_new(api.TLS_method())
    assert api.SSL_CTX_set_ex_data(ctx, idx, mark) == 1
    ssl = api.SSL_new(ctx)
    assert api.SSL_up_ref(ssl) == 1
    api.SSL_CTX_free(ctx)
    assert _freed("SSL_CTX", idx, mark) == 0, "the free callback ran while an SSL still used the context"
    api.SSL_free(ssl)
    assert _freed("SSL_CTX", idx, mark) == 0, \
        "the free callback ran after the first of two SSL_free calls: the SSL still holds its context"
    assert api.SSL_get_SSL_CTX(ssl) == ctx and api.SSL_CTX_get_ex_data(ctx, idx) == mark
    api.SSL_free(ssl)
    assert _freed("SSL_CTX", idx, mark) == 1, \
        f"the last SSL_free must free the context: the free callback ran {_freed('SSL_CTX', idx, mark)} times"


@pytest.mark.clauses("SSL_new/DESCRIPTION/inherits-context-settings")
def test_ssl_inherits_max_cert_list(h: Harness) -> None:
    """SSL_CTX_set_max_cert_list returns the old limit (100 KiB by default) and an SSL made afterwards starts with
    the context's limit; SSL_set_max_cert_list changes the SSL alone."""
    api = h.capi
    with ssl_ctx(h) as ctx:
        assert api.SSL_CTX_get_max_cert_list(ctx) == 100 * 1024, api.SSL_CTX_get_max_cert_list(ctx)
        assert api.SSL_CTX_set_max_cert_list(ctx, 4321) == 100 * 1024
        assert api.SSL_CTX_get_max_cert_list(ctx) == 4321
        with ssl_obj(h, ctx) as ssl:
            assert api.SSL_get_max_cert_list(ssl) == 4321, "SSL_new must take the context's limit"
            assert api.SSL_set_max_cert_list(ssl, 777) == 4321
            assert api.SSL_get_max_cert_list(ssl) == 777 and api.SSL_CTX_get_max_cert_list(ctx) == 4321


@pytest.mark.clauses(
    "SSL_free/NOTES/frees-bios",
    "SSL_free/NOTES/do-not-free-owned-items",
    "SSL_free/RETURN VALUES/void",
)
def test_ssl_free_releases_its_bios(h: Harness) -> None:
    """SSL_free releases the read and write BIOs handed over to the object (so the caller must not free them)."""
    api = h.capi
    with ssl_ctx(h) as ctx:
        ssl = api.SSL_new(ctx)  # the case frees it: SSL_free is what it checks
        _, rbio, rpartner = api.BIO_new_bio_pair(0, 0)
        _, wbio, wpartner = api.BIO_new_bio_pair(0, 0)
        api.SSL_set_bio(ssl, rbio, wbio)
        assert paired(api, rpartner) and paired(api, wpartner)
        assert api.SSL_free(ssl) is None
        assert not paired(api, rpartner), "SSL_free must release the read BIO"
        assert not paired(api, wpartner), "SSL_free must release the write BIO"
        api.BIO_free(rpartner)
        api.BIO_free(wpartner)


@pytest.mark.clauses(
    "SSL_free/DESCRIPTION/null-no-op",
    "SSL_CTX_free/DESCRIPTION/null-no-op",
    "SSL_CTX_free/RETURN VALUES/void",
    "SSL_free/RETURN VALUES/void",
)
@pytest.mark.states("null-handle")
def test_free_functions_accept_null(h: Harness) -> None:
    api = h.capi
    api.ERR_clear_error()
    assert api.SSL_free(None) is None
    assert api.SSL_CTX_free(None) is None
    assert api.ERR_peek_error() == 0, "freeing NULL must do nothing, not even queue an error"


@pytest.mark.clauses("SSL_free/NOTES/releases-session")
def test_ssl_free_leaves_a_session_the_caller_holds(h: Harness) -> None:
    """The object gives back its reference to the session; a reference the caller took keeps the session."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    session = api.SSL_get1_session(client.ssl)
    assert session is not None
    timeout = api.SSL_SESSION_get_timeout(session)
    api.SSL_free(client.ssl)
    client.ssl = None
    try:
        assert api.SSL_SESSION_get_timeout(session) == timeout, "the caller's session must survive SSL_free"
    finally:
        api.SSL_SESSION_free(session)


@pytest.mark.clauses("SSL_free/NOTES/unclosed-session-removed", "SSL_set_shutdown/NOTES/open-session-bad")
@pytest.mark.needs("tls1_2")
def test_unclosed_session_leaves_the_cache_on_free(h: Harness) -> None:
    """A TLS 1.2 server caches the session by id; SSL_free without SSL_SENT_SHUTDOWN removes it from the cache."""
    _session_cache_after(h, "SSL_free")


@pytest.mark.clauses("SSL_clear/NOTES/open-session-removed", "SSL_set_shutdown/NOTES/open-session-bad")
@pytest.mark.needs("tls1_2")
def test_unclosed_session_leaves_the_cache_on_clear(h: Harness) -> None:
    """SSL_clear without SSL_SENT_SHUTDOWN removes the server's cached session."""
    _session_cache_after(h, "SSL_clear")


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/session-kept-good")
@pytest.mark.needs("tls1_2")
@pytest.mark.parametrize("then", ["SSL_free", "SSL_clear"])
def test_closed_session_stays_in_the_cache(h: Harness, then: str) -> None:
    """After SSL_shutdown the session stays in the server's cache when the object is freed or cleared."""
    _session_cache_after(h, f"SSL_shutdown+{then}")


@pytest.mark.clauses("SSL_set_shutdown/NOTES/sent-means-closed")
@pytest.mark.needs("tls1_2")
def test_set_shutdown_sent_keeps_the_session(h: Harness) -> None:
    """SSL_set_shutdown(SSL_SENT_SHUTDOWN) counts as a closed connection: SSL_free keeps the cached session."""
    _session_cache_after(h, "SSL_set_shutdown+SSL_free")


def _session_cache_after(h: Harness, how: str) -> None:
    api = h.capi
    client = Mem(h, Role.CLIENT)
    server = Mem(h, Role.SERVER, adjust=lambda c: c.with_(max_version="TLSv1.2"),
                 before_new=lambda ctx: api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET))
    handshake(h, client, server)
    # the server cache is on by default (SSL_CTX_set_session_cache_mode: SSL_SESS_CACHE_SERVER), so after one full
    # TLS 1.2 handshake without tickets it holds that session: a stack whose count says otherwise fails here
    first = api.SSL_CTX_sess_number(server.ctx)
    assert first == 1, (f"SSL_CTX_sess_number reports {first} sessions after a full TLS 1.2 handshake with tickets "
                        "off; the server's session cache is on by default and holds that session")
    closed = how.startswith("SSL_shutdown") or how.startswith("SSL_set_shutdown")
    if how.startswith("SSL_shutdown"):
        assert api.SSL_shutdown(server.ssl) == 0
    elif how.startswith("SSL_set_shutdown"):
        api.SSL_set_shutdown(server.ssl, K.SSL_SENT_SHUTDOWN)
    if how.endswith("SSL_free"):
        api.SSL_free(server.ssl)
        server.ssl = None
    else:
        assert api.SSL_clear(server.ssl) == 1
    left = api.SSL_CTX_sess_number(server.ctx)
    h.trace.note(f"{how}: sessions in the server cache afterwards: {left}")
    assert left == (1 if closed else 0), f"after {how} the cache holds {left} session(s)"


# --- SSL_dup --------------------------------------------------------------------------------------------------

@pytest.mark.clauses(
    "SSL_new/DESCRIPTION/dup-new-object-same-context",
    "SSL_new/DESCRIPTION/initial-state-required",
    "SSL_new/RETURN VALUES/pointer",
)
def test_ssl_dup_of_a_fresh_object(h: Harness) -> None:
    api = h.capi
    with ssl_ctx(h) as ctx, ssl_obj(h, ctx) as original:
        copy = api.SSL_dup(original)
        assert copy is not None and copy != original, "SSL_dup of a fresh object must return a new object"
        assert api.SSL_get_SSL_CTX(copy) == ctx, "the copy must come from the original's context"
        api.SSL_free(copy)


def _cipher_list(api: Any, ssl: Any) -> list[str]:
    names: list[str] = []
    while (name := api.SSL_get_cipher_list(ssl, len(names))) is not None:
        names.append(name)
    return names


_EX_INDEX: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def _ex_index(api: Any) -> int:
    """One application-data index per api object (SSL_get_ex_new_index), as a C program would allocate it."""
    if api not in _EX_INDEX:
        _EX_INDEX[api] = api.SSL_get_ex_new_index(0)
    return _EX_INDEX[api]


def _dup_settings() -> dict[str, tuple[Any, Any]]:
    """setting -> (apply(api, ssl), read(api, ssl)); the case compares read() on the copy with read() on the
    original, and checks that apply() changed the value compared with a fresh object."""
    return {
        "options": (lambda a, s: a.SSL_set_options(s, K.SSL_OP_NO_TICKET | K.SSL_OP_NO_COMPRESSION),
                    lambda a, s: a.SSL_get_options(s)),
        "mode": (lambda a, s: a.SSL_set_mode(s, K.SSL_MODE_ENABLE_PARTIAL_WRITE | K.SSL_MODE_RELEASE_BUFFERS),
                 lambda a, s: a.SSL_get_mode(s)),
        "protocol-limits": (lambda a, s: (a.SSL_set_min_proto_version(s, K.TLS1_2_VERSION),
                                          a.SSL_set_max_proto_version(s, K.TLS1_2_VERSION)),
                            lambda a, s: (a.SSL_ctrl(s, K.SSL_CTRL_GET_MIN_PROTO_VERSION),
                                          a.SSL_ctrl(s, K.SSL_CTRL_GET_MAX_PROTO_VERSION))),
        "verify": (lambda a, s: (a.SSL_set_verify(s, K.SSL_VERIFY_PEER | K.SSL_VERIFY_CLIENT_ONCE, None),
                                 a.SSL_set_verify_depth(s, 3)),
                   lambda a, s: (a.SSL_get_verify_mode(s), a.SSL_get_verify_depth(s))),
        "role": (lambda a, s: a.SSL_set_connect_state(s), lambda a, s: a.SSL_is_server(s)),
        "read-ahead": (lambda a, s: a.SSL_ctrl(s, K.SSL_CTRL_SET_READ_AHEAD, 1),
                       lambda a, s: a.SSL_ctrl(s, K.SSL_CTRL_GET_READ_AHEAD)),
        "max-cert-list": (lambda a, s: a.SSL_set_max_cert_list(s, 12345), lambda a, s: a.SSL_get_max_cert_list(s)),
        "app-data": (lambda a, s: a.SSL_set_ex_data(s, _ex_index(a), 0x5EED),
                     lambda a, s: a.SSL_get_ex_data(s, _ex_index(a))),
        "cipher-list": (lambda a, s: a.SSL_set_cipher_list(s, b"ECDHE-ECDSA-AES128-GCM-SHA256"),
                        lambda a, s: _cipher_list(a, s)),
        "security-level": (lambda a, s: a.SSL_set_security_level(s, 0), lambda a, s: a.SSL_get_security_level(s)),
    }


@pytest.mark.clauses(
    "SSL_new/DESCRIPTION/dup-copies-options",
    "SSL_new/DESCRIPTION/dup-copies-mode",
    "SSL_new/DESCRIPTION/dup-copies-protocol-limits",
    "SSL_new/DESCRIPTION/dup-copies-verify",
    "SSL_new/DESCRIPTION/dup-copies-role",
    "SSL_new/DESCRIPTION/dup-copies-read-ahead",
    "SSL_new/DESCRIPTION/dup-copies-max-cert-list",
    "SSL_new/DESCRIPTION/dup-copies-app-data",
    "SSL_new/DESCRIPTION/dup-copies-cipher-list",
    "SSL_new/DESCRIPTION/dup-copies-security-level",
)
def test_ssl_dup_copies_settings(h: Harness) -> None:
    """Each setting of the list is changed on an original (compared with a fresh object: every setter here has a
    documented getter, so an accepted change that does not show is itself a failure; a setter that refuses the
    value with its documented 0, as a TLS 1.3-only stack does for a TLS 1.2 cipher list, is noted in the trace),
    then SSL_dup(); the copy must read the same."""
    api = h.capi
    wrong: list[str] = []
    with ssl_ctx(h, api.TLS_method()) as ctx:
        for setting, (apply, read) in sorted(_dup_settings().items()):
            fresh = api.SSL_new(ctx)
            original = api.SSL_new(ctx)
            before = read(api, fresh)
            if apply(api, original) == 0:  # a setter with a failure return refused the value: nothing to copy
                h.trace.note(f"{setting}: the setter refused the value (returned 0) on this stack")
                api.SSL_free(original)
                api.SSL_free(fresh)
                continue
            wanted = read(api, original)
            if wanted == before:
                wrong.append(f"{setting} (the setter changed nothing the getter shows: still {before!r})")
            else:
                copy = api.SSL_dup(original)
                assert copy is not None and copy != original, f"{setting}: SSL_dup returned {copy}"
                got = read(api, copy)
                h.trace.note(f"{setting}: fresh {before!r}, original {wanted!r}, copy {got!r}")
                if got != wanted:
                    wrong.append(f"{setting} (original {wanted!r}, copy {got!r})")
                api.SSL_free(copy)
            api.SSL_free(original)
            api.SSL_free(fresh)
    assert not wrong, "SSL_dup did not copy: " + "; ".join(wrong)


@pytest.mark.clauses("SSL_new/DESCRIPTION/dup-copies-cipher-list")
@pytest.mark.needs("tls1_3")
def test_ssl_dup_copies_the_cipher_list_not_the_contexts(h: Harness) -> None:
    """The copy has the original's cipher list, both parts. After SSL_new the context's TLS 1.3 suites are changed
    (SSL_CTX_set_ciphersuites; a new object shows the change); SSL_dup's copy must then list what the original
    lists at that moment, whether the original kept its own list (the engine copies it at SSL_new) or follows its
    context (libssl: an object without a list of its own uses the context's). Review16: a copy that took its TLS 1.3
    suites from the context passed every case, the settings case changes only the TLS 1.2 part on the object."""
    api = h.capi
    with ssl_ctx(h, api.TLS_method()) as ctx, ssl_obj(h, ctx) as original:
        before = _cipher_list(api, original)
        assert api.SSL_CTX_set_ciphersuites(ctx, b"TLS_AES_256_GCM_SHA384") == 1
        with ssl_obj(h, ctx) as fresh:
            later = _cipher_list(api, fresh)
        wanted = _cipher_list(api, original)
        h.trace.note(f"original before {before}, after the context change {wanted}; a new object {later}")
        copy = api.SSL_dup(original)  # first: a library without SSL_dup is not applicable, whatever it lists
        assert copy is not None and copy != original, f"SSL_dup returned {copy}"
        if later == before:
            api.SSL_free(copy)
            raise AssertionError("SSL_CTX_set_ciphersuites changed nothing SSL_get_cipher_list shows")
        try:
            got = _cipher_list(api, copy)
        finally:
            api.SSL_free(copy)
        h.trace.note(f"copy {got}")
        assert got == wanted, f"the copy lists {got}, the original {wanted}"


@pytest.mark.clauses("SSL_new/DESCRIPTION/dup-copies-verify")
@pytest.mark.parametrize("host", ["server.test", "not-the-server.test"])
def test_ssl_dup_copies_the_verification_parameters(h: Harness, host: str) -> None:
    """The X509 verification parameters travel with the copy: an original told to verify the peer and to expect
    ``host`` (SSL_set_verify, SSL_set1_host) is duplicated before its handshake; the copy, driven against a server
    whose trusted certificate names server.test, completes only when ``host`` is that name. No SNI is set on the
    copy, so only the copied parameter can name the host."""
    api = h.capi
    with ssl_ctx(h, api.TLS_client_method()) as ctx:
        assert api.SSL_CTX_load_verify_locations(ctx, str(default_pki().ca_path).encode(), None) == 1
        original = api.SSL_new(ctx)
        api.SSL_set_verify(original, K.SSL_VERIFY_PEER, None)
        assert api.SSL_set1_host(original, host.encode()) == 1
        api.SSL_set_connect_state(original)
        copy = api.SSL_dup(original)
        assert copy is not None and copy != original, f"SSL_dup returned {copy}"
        api.SSL_free(original)
        client = Mem(h, Role.CLIENT, ctx=api.SSL_CTX_new(api.TLS_client_method()))
        inner = api.SSL_get_rbio(client.ssl)
        api.BIO_up_ref(inner)
        api.SSL_set_bio(copy, inner, inner)
        api.SSL_free(client.ssl)
        client.ssl = copy  # the Mem now drives (and frees) the copy
        server = Mem(h, Role.SERVER)
        outcome = _handshake_outcome(h, client, server)
        h.trace.note(f"copy expecting {host!r}: {outcome}")
        if host == "server.test":
            assert outcome == "completed", f"the copy failed although the host is right: {outcome}"
        else:
            assert outcome.startswith("client failed"), (
                f"the copy did not keep the expected host {host!r} (SSL_set1_host): its handshake {outcome}")


@pytest.mark.clauses("SSL_new/DESCRIPTION/dup-copies-verify")
def test_ssl_dup_copies_the_verify_callback(h: Harness) -> None:
    """A verify callback set on the original (SSL_set_verify) is the copy's: SSL_get_verify_callback reads the same
    callback, and it is the one in effect. The copy, which trusts only an unrelated CA, completes its handshake
    because the callback accepts what the built-in check refused, and the callback was called with preverify_ok 0."""
    api = h.capi
    seen: list[int] = []

    def accept_anyway(preverify_ok: int, store_ctx: object) -> int:
        seen.append(preverify_ok)
        return 1

    with ssl_ctx(h, api.TLS_client_method()) as ctx:
        assert api.SSL_CTX_load_verify_locations(ctx, str(default_pki().other_ca_path).encode(), None) == 1
        original = api.SSL_new(ctx)
        api.SSL_set_verify(original, K.SSL_VERIFY_PEER, accept_anyway)
        callback = api.SSL_get_verify_callback(original)
        assert callback is not None, "SSL_get_verify_callback does not show the callback just set"
        api.SSL_set_connect_state(original)
        copy = api.SSL_dup(original)
        assert copy is not None and copy != original, f"SSL_dup returned {copy}"
        api.SSL_free(original)
        assert api.SSL_get_verify_callback(copy) == callback, "SSL_dup did not copy the verify callback"
        client = Mem(h, Role.CLIENT, ctx=api.SSL_CTX_new(api.TLS_client_method()))
        inner = api.SSL_get_rbio(client.ssl)
        api.BIO_up_ref(inner)
        api.SSL_set_bio(copy, inner, inner)
        api.SSL_free(client.ssl)
        client.ssl = copy
        outcome = _handshake_outcome(h, client, Mem(h, Role.SERVER))
        h.trace.note(f"copy with the accepting callback against an untrusted server: {outcome}; callback saw {seen}")
        assert outcome == "completed", f"the copied callback was not in effect: the handshake {outcome}"
        assert 0 in seen, f"the callback was never asked about the untrusted chain: {seen}"


def _handshake_outcome(h: Harness, client: Mem, server: Mem) -> str:
    """'completed', or which side failed first and how."""
    failed = attempt_handshake(h, client, server)
    if failed is None:
        return "completed"
    side, out = failed
    return f"{side} failed: {out.ret}, SSL_get_error {out.error}"


@pytest.mark.clauses("SSL_new/DESCRIPTION/dup-copies-other-settings")
def test_ssl_dup_copies_the_session(h: Harness) -> None:
    """A session set on the original is the copy's session too (same timeout, distinctive by construction)."""
    api = h.capi
    client = Mem(h, Role.CLIENT, before_new=lambda ctx: api.SSL_CTX_set_timeout(ctx, 4321))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    move(client, server)
    api.SSL_read(client.ssl, 10)  # process the TLS 1.3 tickets, if any
    session = api.SSL_get1_session(client.ssl)
    assert session is not None
    try:
        with ssl_obj(h, client.ctx) as original:
            assert api.SSL_set_session(original, session) == 1
            copy = api.SSL_dup(original)
            assert copy is not None and copy != original
            copied = api.SSL_get_session(copy)
            assert copied is not None, "the copy has no session"
            assert api.SSL_SESSION_get_timeout(copied) == api.SSL_SESSION_get_timeout(session) == 4321
            api.SSL_free(copy)
    finally:
        api.SSL_SESSION_free(session)


@pytest.mark.clauses("SSL_new/DESCRIPTION/dup-copies-other-settings")
def test_ssl_dup_copies_the_certificate(h: Harness) -> None:
    """A certificate and key given to the original object itself (its context has none) are the copy's too: the
    copy can complete a server handshake."""
    api = h.capi
    identity = default_pki().server
    with ssl_ctx(h, api.TLS_server_method()) as ctx, ssl_obj(h, ctx) as original:
        assert api.SSL_get_certificate(original) is None
        assert api.SSL_use_certificate_file(original, str(identity.cert_path), K.SSL_FILETYPE_PEM) == 1
        assert api.SSL_use_PrivateKey_file(original, str(identity.key_path), K.SSL_FILETYPE_PEM) == 1
        copy = api.SSL_dup(original)
        assert copy is not None and copy != original
        assert api.SSL_get_certificate(copy) is not None, "the copy has no certificate"
        server = Mem(h, Role.SERVER, ctx=api.SSL_CTX_new(api.TLS_server_method()))
        inner = api.SSL_get_rbio(server.ssl)
        api.BIO_up_ref(inner)
        api.SSL_set_bio(copy, inner, inner)
        api.SSL_set_accept_state(copy)
        api.SSL_free(server.ssl)
        server.ssl = copy  # the Mem now drives (and frees) the copy
        handshake(h, Mem(h, Role.CLIENT, adjust=lambda c: c.with_(verify_peer=False)), server)


@pytest.mark.clauses("SSL_new/DESCRIPTION/dup-copies-callbacks")
def test_ssl_dup_copies_the_info_callback(h: Harness) -> None:
    api = h.capi
    with ssl_ctx(h, api.TLS_method()) as ctx:
        original = api.SSL_new(ctx)
        api.SSL_set_info_callback(original, lambda where, ret: None)
        callback = api.SSL_get_info_callback(original)
        assert callback is not None
        copy = api.SSL_dup(original)
        assert copy is not None and copy != original
        assert api.SSL_get_info_callback(copy) == callback, "SSL_dup did not copy the info callback"
        api.SSL_free(copy)
        api.SSL_free(original)


@pytest.mark.clauses("SSL_new/DESCRIPTION/dup-started-returns-same", "SSL_new/DESCRIPTION/initial-state-required")
def test_ssl_dup_after_handshake_start_returns_the_same_handle(h: Harness) -> None:
    """Once the ClientHello is out, SSL_dup returns the original itself with one more reference."""
    api = h.capi
    side = Mem(h, Role.CLIENT)
    ret = api.SSL_do_handshake(side.ssl)
    assert ret == -1 and error(api, side.ssl, ret) is SslError.SSL_ERROR_WANT_READ
    copy = api.SSL_dup(side.ssl)
    assert copy == side.ssl, f"SSL_dup of a started object returned {copy}, not the same handle"
    api.SSL_free(copy)  # gives back the reference SSL_dup added
    assert paired(api, side.net) and api.SSL_get_SSL_CTX(side.ssl) == side.ctx, \
        "after freeing the extra reference the original must still be alive"


@pytest.mark.clauses(
    "SSL_CTX_new/DESCRIPTION/reference-counted",
    "SSL_CTX_new/RETURN VALUES/up-ref-1",
    "SSL_CTX_free/DESCRIPTION/drops-reference",
)
def test_ssl_ctx_up_ref_needs_a_matching_free(h: Harness) -> None:
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    assert api.SSL_CTX_up_ref(ctx) == 1
    api.SSL_CTX_free(ctx)
    ssl = api.SSL_new(ctx)  # the context must still be alive
    assert ssl is not None and api.SSL_get_SSL_CTX(ssl) == ctx
    api.SSL_free(ssl)
    api.SSL_CTX_free(ctx)


@pytest.mark.clauses("SSL_CTX_free/WARNINGS/remove-callback-per-session", "SSL_CTX_free/DESCRIPTION/frees-owned-items")
@pytest.mark.needs("tls1_2")
def test_ssl_ctx_free_empties_the_session_cache(h: Harness) -> None:
    """Freeing a context whose cache holds one session calls the remove callback for that session."""
    api = h.capi
    removed: list[Any] = []
    client = Mem(h, Role.CLIENT)

    def no_tickets_note_removals(ctx: Any) -> None:
        api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET)
        api.SSL_CTX_sess_set_remove_cb(ctx, removed.append)

    server = Mem(h, Role.SERVER, adjust=lambda c: c.with_(max_version="TLSv1.2"), before_new=no_tickets_note_removals)
    handshake(h, client, server)
    assert api.SSL_shutdown(server.ssl) == 0  # closed cleanly: the session stays cached
    api.SSL_free(server.ssl)
    server.ssl = None
    assert removed == [], f"no session may leave the cache before the context is freed: {removed}"
    api.SSL_CTX_free(server.ctx)
    server.ctx = None
    assert len(removed) == 1, f"freeing the context called the remove callback {len(removed)} times, not once"


# --- SSL_CTX_new NOTES ----------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_new/NOTES/no-verification-by-default")
def test_fresh_context_does_not_verify_the_peer(h: Harness) -> None:
    """A client context left at its defaults (no trust anchors, no SSL_CTX_set_verify) completes the handshake
    with a server whose certificate it cannot verify."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_client_method())
    client = Mem(h, Role.CLIENT, ctx=ctx)
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    h.trace.note(f"SSL_get_verify_result(client) -> {api.SSL_get_verify_result(client.ssl)} (no trust anchors "
                 "were loaded, so the certificate could not have been verified)")


@pytest.mark.clauses("SSL_CTX_new/NOTES/defaults-initialised")
def test_fresh_context_has_defaults(h: Harness) -> None:
    """Two fresh contexts start with the same options and cipher list; a fresh server context has no certificate,
    so a server made from it cannot complete a handshake."""
    api = h.capi
    a = api.SSL_CTX_new(api.TLS_server_method())
    with ssl_ctx(h, api.TLS_server_method()) as b:
        assert api.SSL_CTX_get_options(a) == api.SSL_CTX_get_options(b)
        sa, sb = api.SSL_new(a), api.SSL_new(b)
        assert _cipher_list(api, sa) == _cipher_list(api, sb)
        api.SSL_free(sa)
        api.SSL_free(sb)
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(verify_peer=False))
    server = Mem(h, Role.SERVER, ctx=a)
    for _ in range(20):
        api.SSL_do_handshake(client.ssl)
        move(client, server)
        ret = api.SSL_do_handshake(server.ssl)
        if ret == 1 or error(api, server.ssl, ret) not in WANT:
            break
        move(client, server)
    assert ret != 1, "a server without a certificate completed a handshake"


def _with_identity(api: Any, identity: Any) -> Any:
    def load(ctx: Any) -> None:
        assert api.SSL_CTX_use_certificate_file(ctx, str(identity.cert_path), K.SSL_FILETYPE_PEM) == 1
        assert api.SSL_CTX_use_PrivateKey_file(ctx, str(identity.key_path), K.SSL_FILETYPE_PEM) == 1
    return load


def _attempt(h: Harness, client: Mem, server: Mem) -> bool:
    return attempt_handshake(h, client, server) is None


@pytest.mark.clauses("SSL_CTX_new/NOTES/default-purpose")
def test_certificate_purpose_is_checked(h: Harness) -> None:
    """The test PKI's server certificate is for serverAuth only and the client certificate for clientAuth only.
    A server demanding a client certificate refuses the server certificate; a verifying client refuses a server
    presenting the client certificate; the right certificates pass."""
    api = h.capi
    pki = default_pki()
    ok = _attempt(h, Mem(h, Role.CLIENT, before_new=_with_identity(api, pki.client)),
                  Mem(h, Role.SERVER, adjust=lambda c: c.with_(verify_peer=True)))
    assert ok, "the control handshake with the right client certificate failed"
    wrong_client = _attempt(h, Mem(h, Role.CLIENT, before_new=_with_identity(api, pki.server)),
                            Mem(h, Role.SERVER, adjust=lambda c: c.with_(verify_peer=True)))
    assert not wrong_client, "the server accepted a client certificate made for serverAuth only"
    wrong_server = _attempt(h, Mem(h, Role.CLIENT),
                            Mem(h, Role.SERVER, before_new=_with_identity(api, pki.client)))
    assert not wrong_server, "the client accepted a server certificate made for clientAuth only"


@pytest.mark.clauses("SSL_CTX_new/NOTES/version-specific-methods")
@pytest.mark.needs("tls1_2", "client_role", "server_role")
@pytest.mark.parametrize("side", ["client", "server"])
def test_version_specific_method_speaks_one_version(h: Harness, side: str) -> None:
    """A TLSv1_2_client_method() context gets TLS 1.2 from a server that would speak TLS 1.3; a
    TLSv1_2_server_method() context gives TLS 1.2 to a client that offers TLS 1.3 (review16: a server-side method
    that spoke TLS 1.3 passed the client-only run)."""
    api = h.capi
    if side == "client":
        ctx = api.SSL_CTX_new(api.TLSv1_2_client_method())
        assert ctx is not None
        client = Mem(h, Role.CLIENT, ctx=ctx)
        server = Mem(h, Role.SERVER)
    else:
        ctx = api.SSL_CTX_new(api.TLSv1_2_server_method())
        assert ctx is not None
        _with_identity(api, default_pki().server)(ctx)
        client = Mem(h, Role.CLIENT)
        server = Mem(h, Role.SERVER, ctx=ctx)
    handshake(h, client, server)
    got = version(api, client.ssl), version(api, server.ssl)
    h.trace.note(f"TLSv1_2_{side}_method on the {side}: client {got[0]}, server {got[1]}")
    assert got == ("TLSv1.2", "TLSv1.2"), got


def _dtls(h: Harness, client_method: str, server_method: str, client_max: int | None = None) -> str | None:
    """A DTLS handshake between two objects over their own BIO pairs; returns the client's version string."""
    api = h.capi
    pki = default_pki()
    cctx = api.SSL_CTX_new(getattr(api, client_method)())
    sctx = api.SSL_CTX_new(getattr(api, server_method)())
    _with_identity(api, pki.server)(sctx)
    if client_max is not None:
        for ctx in (cctx, sctx):
            api.SSL_CTX_set_min_proto_version(ctx, 0)
        api.SSL_CTX_set_max_proto_version(cctx, client_max)
    client = Mem(h, Role.CLIENT, ctx=cctx)
    server = Mem(h, Role.SERVER, ctx=sctx)
    if client_max is not None:
        api.SSL_set_security_level(client.ssl, 0)
        api.SSL_set_security_level(server.ssl, 0)
    handshake(h, client, server)
    return version(api, client.ssl)


@pytest.mark.clauses("SSL_CTX_new/NOTES/dtls-methods")
def test_dtls_methods(h: Harness) -> None:
    got = _dtls(h, "DTLS_client_method", "DTLS_server_method")
    assert got == "DTLSv1.2", f"version-flexible DTLS methods agreed on {got}"
    got = _dtls(h, "DTLSv1_2_client_method", "DTLS_server_method")
    assert got == "DTLSv1.2", f"a DTLSv1_2_client_method() client got {got}"
    got = _dtls(h, "DTLS_client_method", "DTLS_server_method", client_max=0xFEFF)  # DTLS1_VERSION
    assert got == "DTLSv1", f"a client limited to DTLS 1.0 got {got}"


@pytest.mark.clauses("SSL_CTX_new/NOTES/no-holes")
@pytest.mark.needs("tls1_2", "tls1_3")
def test_disabled_version_disables_the_higher_ones(h: Harness) -> None:
    """A client with SSL_OP_NO_TLSv1_2 but TLS 1.0/1.1 still allowed must not speak TLS 1.3 either."""
    api = h.capi
    client = Mem(h, Role.CLIENT, before_new=lambda ctx: api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TLSv1_2))
    server = Mem(h, Role.SERVER)
    ok = _attempt(h, client, server)
    got = version(api, client.ssl)
    h.trace.note(f"handshake completed: {ok}, version {got}")
    assert not (ok and got == "TLSv1.3"), "TLS 1.3 was negotiated although the client switched off TLS 1.2"


@pytest.mark.clauses("SSL_CTX_new/NOTES/version-flexible-methods")
def test_generic_method_serves_both_roles(h: Harness) -> None:
    """TLS_method() contexts on both sides (roles set on the objects) complete a handshake."""
    api = h.capi
    client_ctx = api.SSL_CTX_new(api.TLS_method())
    server_ctx = api.SSL_CTX_new(api.TLS_method())
    _with_identity(api, default_pki().server)(server_ctx)
    client = Mem(h, Role.CLIENT, ctx=client_ctx)
    generic_server = Mem(h, Role.SERVER, ctx=server_ctx)
    handshake(h, client, generic_server)
    assert version(api, client.ssl) in ("TLSv1.3", "TLSv1.2")


# --- SSL_set_connect_state / SSL_set_accept_state / SSL_is_server ---------------------------------------------

@pytest.mark.clauses(
    "SSL_set_connect_state/NOTES/is-server-before-role",
    "SSL_set_connect_state/RETURN VALUES/is-server",
    "SSL_set_connect_state/RETURN VALUES/set-void",
)
def test_is_server_follows_the_method_until_a_role_is_set(h: Harness) -> None:
    api = h.capi
    for method, expected in (("TLS_method", 1), ("TLS_server_method", 1), ("TLS_client_method", 0)):
        with ssl_ctx(h, getattr(api, method)()) as ctx, ssl_obj(h, ctx) as ssl:
            got = api.SSL_is_server(ssl)
            h.trace.note(f"{method}: SSL_is_server before a role -> {got}")
            assert got == expected, f"{method}: SSL_is_server -> {got} before any role was set, expected {expected}"
            assert api.SSL_set_connect_state(ssl) is None and api.SSL_is_server(ssl) == 0
            assert api.SSL_set_accept_state(ssl) is None and api.SSL_is_server(ssl) == 1


@pytest.mark.clauses(
    "SSL_set_connect_state/DESCRIPTION/connect-state-client",
    "SSL_set_connect_state/DESCRIPTION/accept-state-server",
)
def test_role_decides_who_speaks_first(h: Harness) -> None:
    """Objects of a generic method: the one in connect state sends a ClientHello on SSL_do_handshake, the one in
    accept state waits for it; they then complete the handshake in those roles."""
    api = h.capi
    client = Mem(h, Role.CLIENT, ctx=api.SSL_CTX_new(api.TLS_method()), set_role=False)
    server = Mem(h, Role.SERVER, set_role=False)
    api.SSL_set_connect_state(client.ssl)
    api.SSL_set_accept_state(server.ssl)
    ret = api.SSL_do_handshake(server.ssl)
    assert ret == -1 and error(api, server.ssl, ret) is SslError.SSL_ERROR_WANT_READ and server.outgoing() == 0
    ret = api.SSL_do_handshake(client.ssl)
    assert ret == -1 and error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_READ and client.outgoing() > 0
    handshake(h, client, server)
    assert api.SSL_is_server(client.ssl) == 0 and api.SSL_is_server(server.ssl) == 1


@pytest.mark.clauses("SSL_set_connect_state/NOTES/role-must-be-set")
def test_handshake_without_a_role_does_not_start(h: Harness) -> None:
    """A client-method object with no role set: SSL_do_handshake fails and sends nothing. A fresh one with its role
    set by SSL_set_connect_state starts the handshake (its ClientHello is sent)."""
    api = h.capi
    side = Mem(h, Role.CLIENT, set_role=False)
    api.ERR_clear_error()
    ret = api.SSL_do_handshake(side.ssl)
    code = error(api, side.ssl, ret)
    h.trace.note(f"SSL_do_handshake without a role -> {ret}, SSL_get_error {code}")
    assert ret <= 0 and code not in WANT, f"the handshake started or waits without a role: {ret}, {code}"
    assert side.outgoing() == 0, "nothing may be sent without a role"
    api.ERR_clear_error()
    with_role = Mem(h, Role.CLIENT, set_role=False)
    api.SSL_set_connect_state(with_role.ssl)
    ret = api.SSL_do_handshake(with_role.ssl)
    code = error(api, with_role.ssl, ret)
    assert ret == -1 and code is SslError.SSL_ERROR_WANT_READ, f"with SSL_set_connect_state: {ret}, {code}"
    assert with_role.outgoing() > 0, "with its role set the client must send its ClientHello"


@pytest.mark.clauses("SSL_set_connect_state/NOTES/connect-accept-set-role")
def test_connect_and_accept_set_the_role_themselves(h: Harness) -> None:
    api = h.capi
    client = Mem(h, Role.CLIENT, ctx=api.SSL_CTX_new(api.TLS_method()), set_role=False)
    server = Mem(h, Role.SERVER, set_role=False)
    result = pump(h, client, server).drive(lambda e: as_capi_endpoint(e).handshake_with("SSL_connect"),
                                           lambda e: as_capi_endpoint(e).handshake_with("SSL_accept"))
    done = {"c": result.client.ret if result.client else 0, "s": result.server.ret if result.server else 0}
    assert done == {"c": 1, "s": 1}, (result.client, result.server)
    assert api.SSL_is_server(client.ssl) == 0 and api.SSL_is_server(server.ssl) == 1


@pytest.mark.clauses("SSL_set_connect_state/NOTES/connect-accept-keep-earlier-role")
def test_connect_and_accept_keep_a_role_set_before(h: Harness) -> None:
    """Both objects of generic-method contexts. SSL_accept on the one put in connect state sends a ClientHello and
    stays a client; SSL_connect on the one put in accept state sends nothing and stays a server; driven on with the
    same two functions they complete the handshake in those roles."""
    api = h.capi
    server_ctx = api.SSL_CTX_new(api.TLS_method())
    _with_identity(api, default_pki().server)(server_ctx)
    client = Mem(h, Role.CLIENT, ctx=api.SSL_CTX_new(api.TLS_method()), set_role=False)
    server = Mem(h, Role.SERVER, ctx=server_ctx, set_role=False)
    api.SSL_set_connect_state(client.ssl)
    api.SSL_set_accept_state(server.ssl)
    ret = api.SSL_connect(server.ssl)
    code = error(api, server.ssl, ret)
    h.trace.note(f"SSL_connect after SSL_set_accept_state -> {ret}, {code}, {server.outgoing()} bytes out")
    assert ret == -1 and code is SslError.SSL_ERROR_WANT_READ and server.outgoing() == 0, \
        f"SSL_connect on an object in accept state did not wait as a server: {ret}, {code}, {server.outgoing()} out"
    assert api.SSL_is_server(server.ssl) == 1, "SSL_connect changed a role set by SSL_set_accept_state"
    ret = api.SSL_accept(client.ssl)
    code = error(api, client.ssl, ret)
    h.trace.note(f"SSL_accept after SSL_set_connect_state -> {ret}, {code}, {client.outgoing()} bytes out")
    assert ret == -1 and code is SslError.SSL_ERROR_WANT_READ and client.outgoing() > 0, \
        f"SSL_accept on an object in connect state did not start as a client: {ret}, {code}, {client.outgoing()} out"
    assert api.SSL_is_server(client.ssl) == 0, "SSL_accept changed a role set by SSL_set_connect_state"
    result = pump(h, client, server).drive(lambda e: as_capi_endpoint(e).handshake_with("SSL_accept"),
                                           lambda e: as_capi_endpoint(e).handshake_with("SSL_connect"))
    done = {"c": result.client.ret if result.client else 0, "s": result.server.ret if result.server else 0}
    assert done == {"c": 1, "s": 1}, (result.client, result.server)
    assert api.SSL_is_server(client.ssl) == 0 and api.SSL_is_server(server.ssl) == 1


@pytest.mark.clauses("SSL_set_connect_state/NOTES/implicit-handshake-needs-role")
def test_implicit_handshake_needs_the_role(h: Harness) -> None:
    """With roles set, a client that only writes and a server that only reads complete the handshake inside those
    calls and the data arrives; a client without a role fails its first write at once."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    wrote = got = None
    for _ in range(50):
        if wrote is None or wrote <= 0:
            wrote = api.SSL_write(client.ssl, b"implicit")
            assert wrote > 0 or error(api, client.ssl, wrote) in WANT, (wrote, error(api, client.ssl, wrote))
        ret, data = api.SSL_read(server.ssl, 100)
        if ret > 0:
            got = data
            break
        assert error(api, server.ssl, ret) in WANT
        move(client, server)
    assert got == b"implicit", got
    roleless = Mem(h, Role.CLIENT, set_role=False)
    api.ERR_clear_error()
    ret = api.SSL_write(roleless.ssl, b"x")
    code = error(api, roleless.ssl, ret)
    assert ret <= 0 and code not in WANT and roleless.outgoing() == 0, (ret, code)


# --- SSL_clear ------------------------------------------------------------------------------------------------

@pytest.mark.clauses(
    "SSL_clear/DESCRIPTION/ready-for-another-connection",
    "SSL_clear/DESCRIPTION/keeps-settings",
    "SSL_clear/RETURN VALUES/1",
    "SSL_clear/WARNINGS/same-peer-only",
    "SSL_new/DESCRIPTION/prefer-fresh-handle",
    "SSL_shutdown/DESCRIPTION/reuse-transport-needs-full-shutdown",
)
def test_ssl_clear_allows_another_connection(h: Harness) -> None:
    """Connection, complete shutdown (nothing left in the transport), SSL_clear on both objects: same BIOs, same
    context, same cipher list, shutdown state 0; a second connection over the same transport works."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    assert api.SSL_write(client.ssl, b"first") == 5
    move(client, server)
    assert api.SSL_read(server.ssl, 10) == (5, b"first")
    full_shutdown(h, client, server)
    assert client.outgoing() == 0 and server.outgoing() == 0, "bytes left in the transport after a full shutdown"
    before = {s.label: (api.SSL_get_rbio(s.ssl), api.SSL_get_wbio(s.ssl), _cipher_list(api, s.ssl))
              for s in (client, server)}
    for side in (client, server):
        assert api.SSL_clear(side.ssl) == 1, f"SSL_clear({side.label}) failed"
        assert api.SSL_get_shutdown(side.ssl) == 0
        assert api.SSL_get_SSL_CTX(side.ssl) == side.ctx
        after = (api.SSL_get_rbio(side.ssl), api.SSL_get_wbio(side.ssl), _cipher_list(api, side.ssl))
        assert after == before[side.label], f"{side.label}: SSL_clear changed BIOs or cipher list"
    handshake(h, client, server)
    assert api.SSL_write(client.ssl, b"second") == 6
    move(client, server)
    assert api.SSL_read(server.ssl, 10) == (6, b"second")


@pytest.mark.clauses("SSL_clear/NOTES/closed-session-kept")
def test_ssl_clear_keeps_a_cleanly_closed_session(h: Harness) -> None:
    """After a clean two-way close the client's session is still its session after SSL_clear; after a connection
    left open it is not."""
    api = h.capi
    for closed in (True, False):
        client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
        handshake(h, client, server)
        move(client, server)
        api.SSL_read(client.ssl, 10)  # TLS 1.3: take the tickets in
        if closed:
            full_shutdown(h, client, server)
        session = api.SSL_get_session(client.ssl)
        assert session is not None
        assert api.SSL_clear(client.ssl) == 1
        kept = api.SSL_get_session(client.ssl)
        h.trace.note(f"closed={closed}: session before SSL_clear {session}, after {kept}")
        if closed:
            assert kept == session, "SSL_clear dropped a cleanly closed session"
        else:
            assert kept != session, "SSL_clear kept a session that was never closed"


@pytest.mark.clauses("SSL_clear/NOTES/session-method-kept")
@pytest.mark.needs("tls1_2", "tls1_3")
def test_ssl_clear_keeps_the_session_version(h: Harness) -> None:
    """First connection TLS 1.2 (the server allows no more), clean close, SSL_clear on the client; the next server
    allows TLS 1.3, yet the page says the client keeps using the TLS 1.2 method of its session."""
    api = h.capi
    client = Mem(h, Role.CLIENT)
    server = Mem(h, Role.SERVER, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    handshake(h, client, server)
    assert version(api, client.ssl) == "TLSv1.2"
    full_shutdown(h, client, server)
    assert api.SSL_clear(client.ssl) == 1
    newer = Mem(h, Role.SERVER)
    handshake(h, client, newer)
    got = version(api, client.ssl)
    h.trace.note(f"second connection after SSL_clear: {got}")
    assert got == "TLSv1.2", f"the cleared client negotiated {got}, not the TLS 1.2 of its closed session"


@pytest.mark.clauses("SSL_clear/RETURN VALUES/0")
@pytest.mark.needs("tls1_2", "renegotiation")
def test_ssl_clear_fails_with_a_renegotiation_scheduled(h: Harness) -> None:
    """A renegotiation scheduled and not acted on: SSL_clear cannot reset the object and returns 0 with a queue
    entry."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    assert api.SSL_renegotiate(client.ssl) == 1
    api.ERR_clear_error()
    ret = api.SSL_clear(client.ssl)
    code = api.ERR_peek_error()
    h.trace.note(f"SSL_clear with a renegotiation scheduled -> {ret}, ERR_peek_error {code:#x}")
    assert ret == 0 and code != 0, (ret, code)
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_new/DESCRIPTION/inherits-context-settings")
def test_ssl_new_inherits_context_security_level(h: Harness) -> None:
    """SSL_new.pod: the new object "inherits the settings of the underlying context"; the security level is one of
    them. A level set on the context before SSL_new is the level SSL_get_security_level reports on the new object,
    for two different non-default levels (so a stack that happens to start at one of them cannot pass by chance)."""
    api = h.capi
    for level in (0, 3):
        with ssl_ctx(h) as ctx:
            api.SSL_CTX_set_security_level(ctx, level)
            assert api.SSL_CTX_get_security_level(ctx) == level, \
                f"SSL_CTX_set_security_level({level}) did not stick: {api.SSL_CTX_get_security_level(ctx)}"
            with ssl_obj(h, ctx) as ssl:
                got = api.SSL_get_security_level(ssl)
                h.trace.note(f"SSL_CTX_set_security_level({level}); SSL_new -> SSL_get_security_level {got}")
                assert got == level, f"SSL_new did not take the context's security level {level}: the SSL has {got}"
