"""Cases for SSL_CTX_set_options.pod, SSL_CTX_set_read_ahead.pod, SSL_CTX_set_split_send_fragment.pod and the
ssl(7) overview, at the C-API tier (objects on BIO pairs, the bytes between them read as TLS records)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from specs.cases._ssl_objects import WANT, Mem, error, handshake, move
from specs.cases._wire import records

pytestmark = pytest.mark.needs("c_api")

CHANGE_CIPHER_SPEC = 20
APPLICATION_DATA = 23
SOME_OPTIONS = K.SSL_OP_NO_TICKET | K.SSL_OP_CIPHER_SERVER_PREFERENCE


# ---- SSL_CTX_set_options.pod -------------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_options/RETURN VALUES/set-returns-new-mask",
                     "SSL_CTX_set_options/RETURN VALUES/clear-returns-new-mask",
                     "SSL_CTX_set_options/RETURN VALUES/get-returns-mask")
@pytest.mark.parametrize("on", ["SSL_CTX", "SSL"])
def test_option_bit_arithmetic(h: Harness, on: str) -> None:
    """Set adds bits and keeps the others, returning the new mask; clear removes exactly the given bits, returning
    the new mask; get returns the mask."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    ssl = api.SSL_new(ctx)
    prefix = "SSL_CTX" if on == "SSL_CTX" else "SSL"
    obj = ctx if on == "SSL_CTX" else ssl
    try:
        set_, clear, get = (getattr(api, f"{prefix}_{n}_options") for n in ("set", "clear", "get"))
        base = get(obj)
        assert set_(obj, K.SSL_OP_NO_TICKET) == base | K.SSL_OP_NO_TICKET
        assert set_(obj, K.SSL_OP_CIPHER_SERVER_PREFERENCE) == base | SOME_OPTIONS, "setting cleared a bit"
        assert get(obj) == base | SOME_OPTIONS
        assert clear(obj, K.SSL_OP_NO_TICKET) == (base | SOME_OPTIONS) & ~K.SSL_OP_NO_TICKET
        assert get(obj) == (base | K.SSL_OP_CIPHER_SERVER_PREFERENCE) & ~K.SSL_OP_NO_TICKET
    finally:
        api.SSL_free(ssl)
        api.SSL_CTX_free(ctx)


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/ssl-new-copies", "SSL_CTX_set_options/NOTES/clear-keeps-options")
def test_options_copied_at_ssl_new_and_kept_by_ssl_clear(h: Harness) -> None:
    """SSL_new copies the context's options of that moment; a later change of the context does not reach the
    object; SSL_clear leaves the object's options alone."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    try:
        api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TICKET)
        ssl = api.SSL_new(ctx)
        assert api.SSL_get_options(ssl) & K.SSL_OP_NO_TICKET, "SSL_new did not copy the context's options"
        api.SSL_CTX_set_options(ctx, K.SSL_OP_CIPHER_SERVER_PREFERENCE)
        assert not api.SSL_get_options(ssl) & K.SSL_OP_CIPHER_SERVER_PREFERENCE, "a later context change leaked"
        api.SSL_set_options(ssl, K.SSL_OP_CIPHER_SERVER_PREFERENCE)
        before = api.SSL_get_options(ssl)
        assert api.SSL_clear(ssl) == 1
        assert api.SSL_get_options(ssl) == before, f"SSL_clear changed the options: {before:#x} -> " \
                                                    f"{api.SSL_get_options(ssl):#x}"
        api.SSL_free(ssl)
    finally:
        api.SSL_CTX_free(ctx)


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/no-compression-default",
                     "SSL_CTX_set_options/NOTES/middlebox-compat-default")
def test_options_of_a_new_context(h: Harness) -> None:
    """A new context has SSL_OP_NO_COMPRESSION and SSL_OP_ENABLE_MIDDLEBOX_COMPAT on."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    try:
        options = api.SSL_CTX_get_options(ctx)
        h.trace.note(f"options of a new context: {options:#x}")
        assert options & K.SSL_OP_NO_COMPRESSION, "SSL_OP_NO_COMPRESSION is not set by default"
        assert options & K.SSL_OP_ENABLE_MIDDLEBOX_COMPAT, "SSL_OP_ENABLE_MIDDLEBOX_COMPAT is not set by default"
    finally:
        api.SSL_CTX_free(ctx)


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/middlebox-compat-default")
@pytest.mark.needs("client_role", "server_role", "tls1_3")
@pytest.mark.parametrize(("side", "compat"), [("client", True), ("client", False), ("server", True), ("server", False)],
                         ids=["default", "cleared", "server-default", "server-cleared"])
def test_middlebox_compat_sends_dummy_change_cipher_spec(h: Harness, side: str, compat: bool) -> None:
    """A TLS 1.3 client with the default options sends a change_cipher_spec record; with
    SSL_OP_ENABLE_MIDDLEBOX_COMPAT cleared it sends none. The server with the default options (the page: "an
    endpoint") sends one as well, and none with the option cleared on the server (review16: a server that never
    sent it passed the client-only runs; the engine's server sent it whatever its own option said)."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    api.SSL_set_max_proto_version(client.ssl, K.TLS1_3_VERSION)
    api.SSL_set_min_proto_version(client.ssl, K.TLS1_3_VERSION)
    watched = client if side == "client" else server
    assert api.SSL_CTX_get_options(watched.ctx) & K.SSL_OP_ENABLE_MIDDLEBOX_COMPAT, "the option is not on by default"
    if not compat:
        api.SSL_clear_options(watched.ssl, K.SSL_OP_ENABLE_MIDDLEBOX_COMPAT)
    sent = bytearray()
    done = {Role.CLIENT: False, Role.SERVER: False}
    for _ in range(50):
        for party in (client, server):
            if not done[party.role]:
                ret = api.SSL_do_handshake(party.ssl)
                done[party.role] = ret == 1
                assert ret == 1 or error(api, party.ssl, ret) in WANT, f"{party.label}: {ret}"
        out = client.take()
        server.give(out)
        back = server.take()
        client.give(back)
        sent += out if side == "client" else back
        if all(done.values()) and not out and not back:
            break
    types = [r.type for r in records(bytes(sent))]
    h.trace.note(f"{side} record types: {types}")
    assert all(done.values()), "the handshake did not complete"
    if compat:
        assert CHANGE_CIPHER_SPEC in types, f"no dummy change_cipher_spec from the {side} with " \
                                            "SSL_OP_ENABLE_MIDDLEBOX_COMPAT"
    else:
        assert CHANGE_CIPHER_SPEC not in types, "a change_cipher_spec record although the option was cleared"


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/no-version-options",
                     "SSL_CTX_set_options/NOTES/handshake-uses-object-options")
@pytest.mark.needs("client_role", "server_role", "tls1_2", "tls1_3")
@pytest.mark.parametrize("on", ["SSL_CTX_set_options", "SSL_set_options", "server-SSL_set_options"])
def test_no_tls13_option_gives_tls12(h: Harness, on: str) -> None:
    """SSL_OP_NO_TLSv1_3 on the client's context, on the client object alone, or on the server object alone: the
    connection is TLS 1.2 (the server run was added by the mutation sweep, docs/mutation-sweep.md: a client's
    "no holes" rule hid an engine that ignored the option itself)."""
    api = h.capi
    client = Mem(h, Role.CLIENT, before_new=(lambda ctx: api.SSL_CTX_set_options(ctx, K.SSL_OP_NO_TLSv1_3))
                 if on == "SSL_CTX_set_options" else None)
    if on == "SSL_set_options":
        api.SSL_set_options(client.ssl, K.SSL_OP_NO_TLSv1_3)
    server = Mem(h, Role.SERVER)
    if on == "server-SSL_set_options":
        api.SSL_set_options(server.ssl, K.SSL_OP_NO_TLSv1_3)
    handshake(h, client, server)
    version = api.SSL_version(client.ssl)
    h.trace.note(f"SSL_OP_NO_TLSv1_3 via {on}: version {version:#x}")
    assert version == K.TLS1_2_VERSION, f"the connection is {version:#x}, not TLS 1.2"


# ---- SSL_CTX_set_read_ahead.pod ----------------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_read_ahead/RETURN VALUES/get-reports-setting")
def test_read_ahead_getters(h: Harness) -> None:
    """Off (0) by default; any non-zero value turns it on (the getters then return non-zero), 0 turns it off."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    ssl = api.SSL_new(ctx)
    try:
        assert api.SSL_CTX_get_read_ahead(ctx) == 0 and api.SSL_get_read_ahead(ssl) == 0, "read-ahead on by default"
        api.SSL_CTX_set_read_ahead(ctx, 5)
        assert api.SSL_CTX_get_read_ahead(ctx) != 0
        api.SSL_CTX_set_read_ahead(ctx, 0)
        assert api.SSL_CTX_get_read_ahead(ctx) == 0
        api.SSL_set_read_ahead(ssl, 1)
        assert api.SSL_get_read_ahead(ssl) != 0
        api.SSL_set_read_ahead(ssl, 0)
        assert api.SSL_get_read_ahead(ssl) == 0
    finally:
        api.SSL_free(ssl)
        api.SSL_CTX_free(ctx)


@pytest.mark.clauses("SSL_CTX_set_read_ahead/DESCRIPTION/default-names")
def test_default_read_ahead_names(h: Harness) -> None:
    """The _default_ names set and read the same setting as SSL_CTX_set_read_ahead / SSL_CTX_get_read_ahead."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    try:
        api.SSL_CTX_set_default_read_ahead(ctx, 1)
        assert api.SSL_CTX_get_read_ahead(ctx) != 0, "SSL_CTX_set_default_read_ahead did not turn read-ahead on"
        assert api.SSL_CTX_get_default_read_ahead(ctx) == api.SSL_CTX_get_read_ahead(ctx)
        api.SSL_CTX_set_read_ahead(ctx, 0)
        assert api.SSL_CTX_get_default_read_ahead(ctx) == 0
    finally:
        api.SSL_CTX_free(ctx)


@pytest.mark.clauses("SSL_CTX_set_read_ahead/DESCRIPTION/reads-what-is-available")
@pytest.mark.needs("client_role", "server_role")
@pytest.mark.parametrize("ahead", [False, True], ids=["off", "on"])
def test_read_ahead_takes_the_next_record_from_the_bio(h: Harness, ahead: bool) -> None:
    """Two records wait in the client's read BIO; one SSL_read returns the first. With reading ahead off the
    second record is still in the BIO; with it on the BIO is empty."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    api.SSL_set_read_ahead(client.ssl, 1 if ahead else 0)
    for text in (b"first record", b"second record"):
        assert api.SSL_write(server.ssl, text) == len(text)
    move(client, server)
    ret, data = api.SSL_read(client.ssl, 100)
    left = api.BIO_ctrl_pending(api.SSL_get_rbio(client.ssl))
    h.trace.note(f"read-ahead {'on' if ahead else 'off'}: SSL_read -> {ret} {bytes(data or b'')!r}; "
                 f"{left} bytes left in the read BIO")
    assert ret > 0 and bytes(data) == b"first record", f"SSL_read -> {ret}, {data!r}"
    if ahead:
        assert left == 0, f"with read-ahead on, {left} bytes were left in the BIO"
    else:
        assert left > 0, "with read-ahead off, the next record must stay in the BIO"


@pytest.mark.clauses("SSL_CTX_set_read_ahead/DESCRIPTION/reads-what-is-available")
@pytest.mark.needs("client_role", "server_role", "tls1_2")
@pytest.mark.parametrize("ahead", [False, True], ids=["off", "on"])
def test_read_ahead_applies_inside_the_handshake(h: Harness, ahead: bool) -> None:
    """TLS 1.2: the server finishes first and writes an application record straight after its Finished; the
    client's last SSL_do_handshake finds both in its read BIO. With reading ahead on it takes everything (the BIO is
    empty after the handshake); with it off the application record stays in the BIO. Either way the next SSL_read
    gives the data. Review16: a client that read ahead only for application data (not inside the handshake)
    passed every other case."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
    server = Mem(h, Role.SERVER)
    api.SSL_set_read_ahead(client.ssl, 1 if ahead else 0)
    text = b"written after the server's Finished"
    last = b""
    for _ in range(20):
        ret = api.SSL_do_handshake(client.ssl)
        assert ret <= 0 and error(api, client.ssl, ret) in WANT, f"client SSL_do_handshake -> {ret} too early"
        server.give(client.take())
        ret = api.SSL_do_handshake(server.ssl)
        if ret == 1:
            assert api.SSL_write(server.ssl, text) == len(text)
            last = server.take()
            break
        assert error(api, server.ssl, ret) in WANT, f"server SSL_do_handshake -> {ret}"
        client.give(server.take())
    assert last, "the server did not finish its handshake"
    client.give(last)
    ret = api.SSL_do_handshake(client.ssl)
    assert ret == 1, f"the client's last SSL_do_handshake -> {ret}, {error(api, client.ssl, ret)}"
    left = api.BIO_ctrl_pending(api.SSL_get_rbio(client.ssl))
    h.trace.note(f"read-ahead {'on' if ahead else 'off'}: {left} bytes left in the client's read BIO after the "
                 f"handshake (the server's last flight was {len(last)} bytes)")
    if ahead:
        assert left == 0, f"with read-ahead on, {left} bytes were left in the BIO by the handshake"
    else:
        assert left > 0, "with read-ahead off, the application record after the Finished must stay in the BIO"
    ret, data = api.SSL_read(client.ssl, 100)
    assert ret == len(text) and bytes(data) == text, f"SSL_read -> {ret}, {data!r}"


@pytest.mark.clauses("SSL_CTX_set_read_ahead/DESCRIPTION/reads-what-is-available")
@pytest.mark.needs("client_role", "server_role")
def test_read_ahead_set_on_the_context_reaches_a_new_ssl(h: Harness) -> None:
    """Reading ahead turned on with SSL_CTX_set_read_ahead before SSL_new: the SSL has it from its context, so with
    two records waiting one SSL_read leaves the BIO empty. Added by the mutation sweep (docs/mutation-sweep.md): an
    SSL that did not take its context's setting passed every other case."""
    api = h.capi
    client = Mem(h, Role.CLIENT, before_new=lambda ctx: api.SSL_CTX_set_read_ahead(ctx, 1))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    for text in (b"first record", b"second record"):
        assert api.SSL_write(server.ssl, text) == len(text)
    move(client, server)
    ret, data = api.SSL_read(client.ssl, 100)
    left = api.BIO_ctrl_pending(api.SSL_get_rbio(client.ssl))
    h.trace.note(f"read-ahead from the context: SSL_read -> {ret} {bytes(data or b'')!r}; {left} bytes left in the BIO")
    assert ret > 0 and bytes(data) == b"first record", f"SSL_read -> {ret}, {data!r}"
    assert left == 0, f"with read-ahead on in the SSL's context, {left} bytes were left in the BIO"


@pytest.mark.clauses("SSL_CTX_set_read_ahead/NOTES/pending-sees-processed-only")
@pytest.mark.needs("client_role", "server_role")
@pytest.mark.parametrize("ahead", [False, True], ids=["off", "on"])
def test_read_ahead_changes_what_pending_reports(h: Harness, ahead: bool) -> None:
    """Two records wait in the client's read BIO; one SSL_read returns the first. With reading ahead on the second
    record is inside the SSL unprocessed: SSL_has_pending is 1 while SSL_pending is 0. With it off the second record
    is still in the BIO and the SSL holds nothing: both are 0."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    api.SSL_set_read_ahead(client.ssl, 1 if ahead else 0)
    for text in (b"first record", b"second record"):
        assert api.SSL_write(server.ssl, text) == len(text)
    move(client, server)
    ret, data = api.SSL_read(client.ssl, 100)
    assert ret > 0 and bytes(data) == b"first record", f"SSL_read -> {ret}, {data!r}"
    pending, has_pending = api.SSL_pending(client.ssl), api.SSL_has_pending(client.ssl)
    h.trace.note(f"read-ahead {'on' if ahead else 'off'}: SSL_pending -> {pending}, SSL_has_pending -> {has_pending}")
    assert pending == 0, f"SSL_pending -> {pending} although the first record was read whole"
    if ahead:
        assert has_pending == 1, f"with read-ahead on, SSL_has_pending -> {has_pending} (the second record is buffered)"
    else:
        assert has_pending == 0, f"with read-ahead off, SSL_has_pending -> {has_pending} (nothing is buffered)"


@pytest.mark.clauses("SSL_CTX_set_read_ahead/NOTES/keep-auto-retry")
@pytest.mark.needs("client_role", "server_role", "tls1_3", "key_update")
def test_read_ahead_with_auto_retry_reads_past_a_key_update(h: Harness) -> None:
    """The page's advice for read-ahead: keep SSL_MODE_AUTO_RETRY. With it (and read-ahead on), a TLS 1.3 KeyUpdate
    record followed by an application record in the same BIO gives the data in one SSL_read, no WANT_READ. What
    happens with AUTO_RETRY cleared is a "may" on the page; it is only noted in the trace, not asserted."""
    api = h.capi
    # KeyUpdate exists in TLS 1.3 only: the client offers nothing older (a stack without TLS 1.3 or key updates is
    # not applicable through the marks above)
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version="TLSv1.3"))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    negotiated = api.SSL_version(client.ssl)
    assert negotiated == K.TLS1_3_VERSION, f"a TLS 1.3-only client negotiated version {negotiated:#x}"
    api.SSL_set_read_ahead(client.ssl, 1)
    api.SSL_set_mode(client.ssl, K.SSL_MODE_AUTO_RETRY)
    for auto_retry in (True, False):
        if not auto_retry:
            api.SSL_clear_mode(client.ssl, K.SSL_MODE_AUTO_RETRY)
        text = b"after the key update" if auto_retry else b"after the second key update"
        assert api.SSL_key_update(server.ssl, K.SSL_KEY_UPDATE_NOT_REQUESTED) == 1
        assert api.SSL_write(server.ssl, text) == len(text)
        move(client, server)
        ret, data = api.SSL_read(client.ssl, 100)
        got = bytes(data or b"") if ret > 0 else error(api, client.ssl, ret)
        h.trace.note(f"AUTO_RETRY {'set' if auto_retry else 'cleared'}: first SSL_read -> {ret} {got!r}; "
                     f"SSL_has_pending -> {api.SSL_has_pending(client.ssl)}")
        if auto_retry:
            assert ret > 0 and got == text, f"with AUTO_RETRY set, the first SSL_read -> {ret} {got!r}"


@pytest.mark.clauses("SSL_CTX_set_read_ahead/NOTES/off-when-transport-reused")
@pytest.mark.needs("client_role", "server_role")
@pytest.mark.parametrize("ahead", [False, True], ids=["off", "on"])
def test_read_ahead_and_bytes_after_close_notify(h: Harness, ahead: bool) -> None:
    """The server closes and goes on using the transport: bytes that are no part of the TLS connection follow its
    close_notify in the client's read BIO. The client's SSL_read sees the close_notify; with reading ahead off the
    following bytes stay in the BIO for the application; with it on the SSL has taken them."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    api.SSL_set_read_ahead(client.ssl, 1 if ahead else 0)
    move(client, server)
    assert api.SSL_shutdown(server.ssl) == 0, "the server's first SSL_shutdown must return 0"
    after = b"plain bytes of the reused transport"
    client.give(server.take() + after)
    ret, _ = api.SSL_read(client.ssl, 100)
    assert ret <= 0 and error(api, client.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN, "close_notify not seen"
    left = api.BIO_ctrl_pending(api.SSL_get_rbio(client.ssl))
    h.trace.note(f"read-ahead {'on' if ahead else 'off'}: {left} of the {len(after)} bytes after the close_notify "
                 "left in the read BIO")
    if ahead:
        assert left < len(after), "with read-ahead on, the SSL left every byte after the close_notify in the BIO"
    else:
        assert left == len(after), f"with read-ahead off, {left} bytes (not {len(after)}) were left in the BIO"


# ---- SSL_CTX_set_split_send_fragment.pod -------------------------------------------------------------------------

@pytest.mark.clauses("SSL_CTX_set_split_send_fragment/DESCRIPTION/max-send-fragment-range",
                     "SSL_CTX_set_split_send_fragment/DESCRIPTION/split-not-above-max")
@pytest.mark.parametrize("on", ["SSL_CTX", "SSL"])
def test_fragment_sizes_accepted_and_refused(h: Harness, on: str) -> None:
    """max_send_fragment takes 512..16384 and refuses 511 and 16385; split_send_fragment takes up to
    max_send_fragment and refuses more."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    ssl = api.SSL_new(ctx)
    obj = ctx if on == "SSL_CTX" else ssl
    set_max = getattr(api, f"{on}_set_max_send_fragment")
    set_split = getattr(api, f"{on}_set_split_send_fragment")
    try:
        got = {m: set_max(obj, m) for m in (511, 16385, 16384, 512)}
        h.trace.note(f"{on}_set_max_send_fragment: {got}")
        assert got == {511: 0, 16385: 0, 16384: 1, 512: 1}, got
        split = {m: set_split(obj, m) for m in (513, 512, 256)}
        h.trace.note(f"{on}_set_split_send_fragment with max 512: {split}")
        assert split == {513: 0, 512: 1, 256: 1}, split
    finally:
        api.SSL_free(ssl)
        api.SSL_CTX_free(ctx)


@pytest.mark.clauses("SSL_CTX_set_split_send_fragment/DESCRIPTION/max-pipelines-range")
@pytest.mark.parametrize("on", ["SSL_CTX", "SSL"])
def test_max_pipelines_range_and_read_ahead(h: Harness, on: str) -> None:
    """max_pipelines takes 1..32 and refuses 0 and 33; a value above 1 turns reading ahead on: 2, the smallest,
    already does (review16: a "more than 2" rule passed when only 32 was tried)."""
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    ssl = api.SSL_new(ctx)
    obj: Any = ctx if on == "SSL_CTX" else ssl
    set_pipes = getattr(api, f"{on}_set_max_pipelines")
    get_ahead = api.SSL_CTX_get_read_ahead if on == "SSL_CTX" else api.SSL_get_read_ahead
    try:
        assert get_ahead(obj) == 0, "read-ahead on before max_pipelines was set"
        assert set_pipes(obj, 2) == 1
        assert get_ahead(obj) != 0, "max_pipelines above 1 must turn read-ahead on (2 did not)"
        got = {m: set_pipes(obj, m) for m in (0, 33, 1, 32)}
        h.trace.note(f"{on}_set_max_pipelines: {got}")
        assert got == {0: 0, 33: 0, 1: 1, 32: 1}, got
        assert get_ahead(obj) != 0, "max_pipelines above 1 must turn read-ahead on"
    finally:
        api.SSL_free(ssl)
        api.SSL_CTX_free(ctx)


@pytest.mark.clauses("SSL_CTX_set_split_send_fragment/DESCRIPTION/records-no-larger")
@pytest.mark.needs("client_role", "server_role", "tls1_3")
@pytest.mark.parametrize("on", ["SSL_CTX", "SSL"])
def test_records_no_larger_than_max_send_fragment(h: Harness, on: str) -> None:
    """max_send_fragment 512 and a 4000-byte write: at least eight application records on the wire, none
    carrying more than 512 bytes of plaintext (plus the 256 bytes of expansion TLS 1.3 allows)."""
    api = h.capi
    client = Mem(h, Role.CLIENT, before_new=(lambda ctx: api.SSL_CTX_set_max_send_fragment(ctx, 512))
                 if on == "SSL_CTX" else None)
    if on == "SSL":
        assert api.SSL_set_max_send_fragment(client.ssl, 512) == 1
    api.SSL_set_min_proto_version(client.ssl, K.TLS1_3_VERSION)
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    payload = bytes(range(250)) * 16
    assert api.SSL_write(client.ssl, payload) == len(payload)
    wire = records(client.take())
    app = [r.length for r in wire if r.type == APPLICATION_DATA]
    h.trace.note(f"application records for a {len(payload)}-byte write: {app}")
    assert len(app) >= -(-len(payload) // 512), f"{len(app)} records cannot carry {len(payload)} bytes in 512s"
    assert max(app) <= 512 + 256, f"a record of {max(app)} bytes carries more than 512 bytes of plaintext"


# ---- ssl(7) --------------------------------------------------------------------------------------------------------

@pytest.mark.clauses("ssl/DESCRIPTION/ctx-then-ssl-on-transport", "ssl/DESCRIPTION/handshake-data-shutdown")
@pytest.mark.needs("client_role", "server_role")
def test_overview_sequence(h: Harness) -> None:
    """The sequence of the overview: contexts, objects tied to BIOs (SSL_set_bio), SSL_connect / SSL_accept,
    SSL_write / SSL_read both ways, SSL_shutdown on both sides."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)  # SSL_CTX_new, SSL_new, SSL_set_bio on a BIO pair
    done = {"c": 0, "s": 0}
    for _ in range(50):
        if done["c"] != 1:
            done["c"] = api.SSL_connect(client.ssl)
        if done["s"] != 1:
            done["s"] = api.SSL_accept(server.ssl)
        for side, key in ((client, "c"), (server, "s")):
            assert done[key] == 1 or error(api, side.ssl, done[key]) in WANT, f"{side.label}: {done[key]}"
        if not move(client, server) and done == {"c": 1, "s": 1}:
            break
    assert done == {"c": 1, "s": 1}, f"SSL_connect / SSL_accept did not complete: {done}"
    for writer, reader, text in ((client, server, b"hello server"), (server, client, b"hello client")):
        assert api.SSL_write(writer.ssl, text) == len(text)
        move(client, server)
        ret, data = api.SSL_read(reader.ssl, 100)
        assert ret == len(text) and bytes(data) == text, f"SSL_read -> {ret}, {data!r}"
    assert api.SSL_shutdown(client.ssl) == 0, "the client's first SSL_shutdown sends close_notify and returns 0"
    move(client, server)
    ret, _ = api.SSL_read(server.ssl, 100)
    assert ret == 0 and error(api, server.ssl, ret) is SslError.SSL_ERROR_ZERO_RETURN, "close_notify not seen"
    assert api.SSL_shutdown(server.ssl) == 1, "the server, having received close_notify, must complete its shutdown"
    move(client, server)
    assert api.SSL_shutdown(client.ssl) == 1, "the client's second SSL_shutdown must see the server's close_notify"


LEGACY_OPTIONS = ("SSL_OP_MICROSOFT_SESS_ID_BUG", "SSL_OP_NETSCAPE_CHALLENGE_BUG",
                  "SSL_OP_NETSCAPE_REUSE_CIPHER_CHANGE_BUG", "SSL_OP_SSLREF2_REUSE_CERT_TYPE_BUG",
                  "SSL_OP_MICROSOFT_BIG_SSLV3_BUFFER", "SSL_OP_MSIE_SSLV2_RSA_PADDING",
                  "SSL_OP_SSLEAY_080_CLIENT_DH_BUG",
                  "SSL_OP_TLS_D5_BUG", "SSL_OP_TLS_BLOCK_PADDING_BUG", "SSL_OP_SINGLE_ECDH_USE", "SSL_OP_SINGLE_DH_USE",
                  "SSL_OP_EPHEMERAL_RSA", "SSL_OP_PKCS1_CHECK_1", "SSL_OP_PKCS1_CHECK_2", "SSL_OP_NETSCAPE_CA_DN_BUG",
                  "SSL_OP_NETSCAPE_DEMO_CIPHER_CHANGE_BUG")


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/legacy-options-no-effect")
@pytest.mark.needs("client_role", "server_role")
def test_legacy_options_have_no_effect(h: Harness) -> None:
    """Every legacy option name (0 in OpenSSL 3.0's header) set on both contexts leaves the option masks as they
    were, and the two objects still connect."""
    api = h.capi
    masks = {}

    def set_legacy(ctx: Any) -> None:
        before = api.SSL_CTX_get_options(ctx)
        for name in LEGACY_OPTIONS:
            api.SSL_CTX_set_options(ctx, getattr(K, name))
        masks[id(ctx)] = (before, api.SSL_CTX_get_options(ctx))

    client, server = Mem(h, Role.CLIENT, before_new=set_legacy), Mem(h, Role.SERVER, before_new=set_legacy)
    h.trace.note(f"option masks before and after setting the legacy names: {list(masks.values())}")
    for before, after in masks.values():
        assert before == after, f"setting the legacy options changed the mask: {before:#x} -> {after:#x}"
    handshake(h, client, server)
