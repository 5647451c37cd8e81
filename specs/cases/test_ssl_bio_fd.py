"""C-API cases for attaching transports: SSL_set_bio/SSL_set0_rbio/SSL_set0_wbio, SSL_get_rbio/SSL_get_wbio,
SSL_set_fd/SSL_set_rfd/SSL_set_wfd and SSL_get_fd/SSL_get_rfd/SSL_get_wfd.

Reference accounting without touching freed memory: every BIO is one half of a BIO pair and the case keeps the
other half (the partner). A released BIO unpairs its partner, which then refuses a one-byte write. The case keeps
one reference of its own to every BIO and BIO_up_ref()s one more before each call that, by the page, consumes a
reference; after SSL_free() its own reference must be the only one left: the pair intact after SSL_free(), broken
after the case's BIO_free()."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conformance.harness import Harness
from conformance.outcome import Role, SslError
from specs.cases._capi import Background, side, tcp_pair
from specs.cases._ssl_objects import WANT, Mem, error, paired, ssl_ctx, ssl_obj

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")


class Bios:
    """Named BIO pair halves (``X``, ``Y``, ...) with their partners; the case owns one reference to each."""

    def __init__(self, api: Any, names: str) -> None:
        self.api = api
        self.bio: dict[str, Any] = {}
        self.partner: dict[str, Any] = {}
        for name in names:
            ret, bio, partner = api.BIO_new_bio_pair(0, 0)
            assert ret == 1
            self.bio[name], self.partner[name] = bio, partner

    def give(self, names: str) -> None:
        """One more reference of each named BIO, to be consumed by the next call."""
        for name in names:
            assert self.api.BIO_up_ref(self.bio[name]) == 1

    def settle(self) -> list[str]:
        """After the SSL is freed: each BIO must hold exactly the case's reference. Frees everything safely and
        returns what was wrong."""
        api, wrong = self.api, []
        for name, bio in self.bio.items():
            if not paired(api, self.partner[name]):
                wrong.append(f"{name} was released by SSL_free although the case still held a reference "
                             "(more references consumed than the page says)")
            else:
                api.BIO_free(bio)
                if paired(api, self.partner[name]):
                    wrong.append(f"{name} survived the case's BIO_free (fewer references consumed than the page "
                                 "says: one leaked)")
            api.BIO_free(self.partner[name])
        return wrong


def _set_bio_rule(h: Harness, steps: list[tuple[str, str, str]]) -> None:
    """``steps``: (rbio, wbio, references the page says this call consumes)."""
    api = h.capi
    bios = Bios(api, "XYZW")
    with ssl_ctx(h, api.TLS_method()) as ctx:
        ssl = api.SSL_new(ctx)
        for rbio, wbio, consumed in steps:
            bios.give(consumed)
            assert api.SSL_set_bio(ssl, bios.bio[rbio], bios.bio[wbio]) is None
            h.trace.note(f"SSL_set_bio(ssl, {rbio}, {wbio}); the page: consumes a reference of {consumed or 'none'}")
            assert api.SSL_get_rbio(ssl) == bios.bio[rbio] and api.SSL_get_wbio(ssl) == bios.bio[wbio]
        api.SSL_free(ssl)
        wrong = bios.settle()
        assert not wrong, "; ".join(wrong)


@pytest.mark.clauses("SSL_set_bio/DESCRIPTION/rule-unchanged", "SSL_set_bio/RETURN VALUES/cannot-fail")
def test_set_bio_unchanged(h: Harness) -> None:
    _set_bio_rule(h, [("X", "Y", "XY"), ("X", "Y", "")])


@pytest.mark.clauses("SSL_set_bio/DESCRIPTION/rule-two-new")
def test_set_bio_two_new(h: Harness) -> None:
    _set_bio_rule(h, [("X", "Y", "XY"), ("Z", "W", "ZW")])


@pytest.mark.clauses("SSL_set_bio/DESCRIPTION/rule-one-new-for-both")
def test_set_bio_one_new_for_both(h: Harness) -> None:
    _set_bio_rule(h, [("Y", "Z", "YZ"), ("X", "X", "X")])


@pytest.mark.clauses("SSL_set_bio/DESCRIPTION/rule-current-rbio-for-both")
def test_set_bio_current_rbio_for_both(h: Harness) -> None:
    _set_bio_rule(h, [("X", "Y", "XY"), ("X", "X", "")])


@pytest.mark.clauses("SSL_set_bio/DESCRIPTION/rule-rbio-kept")
def test_set_bio_rbio_kept(h: Harness) -> None:
    _set_bio_rule(h, [("X", "Y", "XY"), ("X", "Z", "Z")])


@pytest.mark.clauses("SSL_set_bio/DESCRIPTION/rule-wbio-kept-was-shared")
def test_set_bio_wbio_kept_was_shared(h: Harness) -> None:
    _set_bio_rule(h, [("X", "X", "X"), ("Y", "X", "Y")])


@pytest.mark.clauses("SSL_set_bio/DESCRIPTION/rule-wbio-kept-was-separate")
def test_set_bio_wbio_kept_was_separate(h: Harness) -> None:
    _set_bio_rule(h, [("X", "Y", "XY"), ("Z", "Y", "ZY")])


@pytest.mark.clauses(
    "SSL_set_bio/DESCRIPTION/set0-rbio-takes-ownership",
    "SSL_set_bio/DESCRIPTION/set0-rbio-frees-previous",
    "SSL_set_bio/DESCRIPTION/set0-wbio-like-rbio",
    "SSL_set_bio/DESCRIPTION/same-bio-two-references",
    "SSL_set_bio/DESCRIPTION/prefer-set0",
)
def test_set0_functions_take_one_reference_per_call(h: Harness) -> None:
    """set0_rbio(X), set0_rbio(Y) (X released), set0_rbio(Y) again (needs a fresh reference), set0_wbio(Z),
    set0_wbio(Y) (the same BIO both ways: one reference per call); SSL_free releases what the object held."""
    api = h.capi
    bios = Bios(api, "XYZ")
    with ssl_ctx(h, api.TLS_method()) as ctx:
        ssl = api.SSL_new(ctx)
        for function, name in (("SSL_set0_rbio", "X"), ("SSL_set0_rbio", "Y"), ("SSL_set0_rbio", "Y"),
                               ("SSL_set0_wbio", "Z"), ("SSL_set0_wbio", "Y")):
            bios.give(name)
            assert getattr(api, function)(ssl, bios.bio[name]) is None
            h.trace.note(f"{function}(ssl, {name}) with one reference handed over")
        assert api.SSL_get_rbio(ssl) == bios.bio["Y"] == api.SSL_get_wbio(ssl)
        assert paired(api, bios.partner["X"]), "X must still hold the case's own reference"
        api.SSL_free(ssl)
        wrong = bios.settle()
        assert not wrong, "; ".join(wrong)


@pytest.mark.clauses(
    "SSL_set_bio/DESCRIPTION/rbio-used-for-reading",
    "SSL_set_bio/DESCRIPTION/inherits-blocking-behaviour",
    "SSL_get_rbio/DESCRIPTION/returns-read-and-write-bio",
    "SSL_get_rbio/RETURN VALUES/bio",
)
def test_separate_read_and_write_bios(h: Harness) -> None:
    """A client reading from one BIO pair and writing to another: its ClientHello appears on the write pair only,
    it waits (WANT_READ, a BIO pair never blocks) for the answer on the read pair, and the handshake completes."""
    api = h.capi
    server = Mem(h, Role.SERVER)
    client = Mem(h, Role.CLIENT)
    _, rbio, rnet = api.BIO_new_bio_pair(0, 0)
    _, wbio, wnet = api.BIO_new_bio_pair(0, 0)
    api.SSL_set0_rbio(client.ssl, rbio)  # replaces (and releases) the Mem's own BIO
    api.SSL_set0_wbio(client.ssl, wbio)
    api.BIO_free(client.net)
    client.net = None
    try:
        assert api.SSL_get_rbio(client.ssl) == rbio and api.SSL_get_wbio(client.ssl) == wbio and rbio != wbio
        started = time.monotonic()
        ret = api.SSL_do_handshake(client.ssl)
        assert ret == -1 and error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_READ
        assert time.monotonic() - started < 1.0
        assert api.BIO_ctrl_pending(wnet) > 0 and api.BIO_ctrl_pending(rnet) == 0
        done = False
        for _ in range(50):
            n = api.BIO_ctrl_pending(wnet)
            if n:
                server.give(api.BIO_read(wnet, n)[1])
            api.SSL_do_handshake(server.ssl)
            answer = server.take()
            if answer:
                assert api.BIO_write(rnet, answer) == len(answer)
            done = api.SSL_do_handshake(client.ssl) == 1 and api.SSL_do_handshake(server.ssl) == 1
            if done:
                break
        assert done, "the handshake over separate read and write BIOs did not complete"
    finally:
        api.BIO_free(rnet)
        api.BIO_free(wnet)


@pytest.mark.clauses("SSL_get_rbio/RETURN VALUES/NULL")
def test_get_rbio_without_a_bio_is_null(h: Harness) -> None:
    api = h.capi
    with ssl_ctx(h, api.TLS_method()) as ctx, ssl_obj(h, ctx) as ssl:
        assert api.SSL_get_rbio(ssl) is None and api.SSL_get_wbio(ssl) is None


@pytest.mark.clauses("SSL_get_rbio/DESCRIPTION/no-reference-taken")
def test_get_rbio_takes_no_reference(h: Harness) -> None:
    api = h.capi
    s = Mem(h, Role.CLIENT)
    for _ in range(5):
        assert api.SSL_get_rbio(s.ssl) is not None and api.SSL_get_wbio(s.ssl) is not None
    api.SSL_free(s.ssl)
    s.ssl = None
    assert not paired(api, s.net), "SSL_free alone must release the BIO: the getters took no reference"


def _empty_method(api: Any) -> Any:
    method = api.BIO_meth_new(0x0400 | 100, b"no callbacks")  # BIO_TYPE_SOURCE_SINK | an unused index
    assert method is not None
    return method


def _free_before_the_method(api: Any, client: Mem | None, partner: Any) -> None:
    """Free the SSL (and with it the custom BIO) before its BIO_METHOD, also when the case failed half way: a BIO
    freed after its method reads freed memory (seen as a SIGSEGV in SSL_free at the case's teardown on wolfSSL under
    glibc's malloc perturbation, where the assertion fails before the case's own SSL_free)."""
    if client is not None and client.ssl is not None:
        api.SSL_free(client.ssl)
        client.ssl = None
    if partner is not None:
        api.BIO_free(partner)
    api.ERR_clear_error()


@pytest.mark.clauses(
    "SSL_set_bio/DESCRIPTION/custom-rbio-must-read",
    "SSL_set_bio/DESCRIPTION/custom-wbio-must-write-and-flush",
)
@pytest.mark.parametrize("direction", ["read", "write"])
def test_custom_bio_without_callbacks_cannot_carry_a_handshake(h: Harness, direction: str) -> None:
    """A BIO whose method has no callbacks as the read (or write) BIO: the handshake fails instead of completing
    or waiting."""
    api = h.capi
    method = _empty_method(api)
    client: Mem | None = None
    partner: Any = None
    try:
        client = Mem(h, Role.CLIENT)
        custom = api.BIO_new(method)
        assert custom is not None
        _, half, partner = api.BIO_new_bio_pair(0, 0)
        if direction == "read":
            api.SSL_set_bio(client.ssl, custom, half)
        else:
            api.SSL_set_bio(client.ssl, half, custom)
        api.ERR_clear_error()
        ret = api.SSL_do_handshake(client.ssl)
        code = error(api, client.ssl, ret)
        h.trace.note(f"custom {direction} BIO without callbacks: SSL_do_handshake -> {ret}, SSL_get_error {code}")
        assert ret <= 0 and code not in WANT, f"the handshake must fail: {ret}, {code}"
    finally:
        _free_before_the_method(api, client, partner)
        api.BIO_meth_free(method)


@pytest.mark.clauses("SSL_set_bio/DESCRIPTION/custom-wbio-must-write-and-flush")
def test_custom_write_bio_needs_a_flush(h: Harness) -> None:
    """A custom write BIO with a write callback: without a ctrl callback (so BIO_flush fails) the first handshake
    flight fails; with a ctrl that answers BIO_CTRL_FLUSH with 1 and does nothing else, the ClientHello is written
    and the handshake waits for the server (WANT_READ)."""
    api = h.capi
    outcomes = {}
    for with_flush in (False, True):
        written: list[bytes] = []
        method = _empty_method(api)
        def write(data: bytes, w: list[bytes] = written) -> int:
            w.append(data)
            return len(data)

        client: Mem | None = None
        try:
            assert api.BIO_meth_set_write(method, write) == 1
            if with_flush:
                assert api.BIO_meth_set_ctrl(method, lambda cmd, larg: 1 if cmd == 11 else 0) == 1  # BIO_CTRL_FLUSH
            custom = api.BIO_new(method)
            api.BIO_set_init(custom, 1)
            client = Mem(h, Role.CLIENT)
            api.BIO_up_ref(api.SSL_get_rbio(client.ssl))  # the pair half stays the read BIO
            api.SSL_set_bio(client.ssl, api.SSL_get_rbio(client.ssl), custom)
            api.ERR_clear_error()
            ret = api.SSL_do_handshake(client.ssl)
            outcomes[with_flush] = (ret, error(api, client.ssl, ret), sum(map(len, written)))
        finally:
            _free_before_the_method(api, client, None)
            api.BIO_meth_free(method)
    h.trace.note(f"(ret, SSL_get_error, bytes written) without flush {outcomes[False]}, with flush {outcomes[True]}")
    ret, code, sent = outcomes[True]
    assert ret == -1 and code is SslError.SSL_ERROR_WANT_READ and sent > 0, f"with a flush: {outcomes[True]}"
    ret, code, _ = outcomes[False]
    assert ret <= 0 and code not in WANT, f"without a flush the handshake must fail: {outcomes[False]}"


# --- descriptors ----------------------------------------------------------------------------------------------

@pytest.mark.clauses(
    "SSL_set_fd/DESCRIPTION/fd-is-transport",
    "SSL_set_fd/DESCRIPTION/socket-bio-created",
    "SSL_set_fd/RETURN VALUES/1",
    "SSL_get_fd/DESCRIPTION/returns-linked-fd",
    "SSL_get_fd/RETURN VALUES/>=0",
)
def test_set_fd_runs_the_connection_over_the_socket(h: Harness) -> None:
    api = h.capi
    csock, ssock = tcp_pair()
    # SSL_set_fd(ssl, fd) == 1 is checked in side()
    with side(api, Role.CLIENT, sock=csock) as client, side(api, Role.SERVER, sock=ssock) as server:
        assert api.SSL_get_fd(client.ssl) == csock.fileno()
        rbio = api.SSL_get_rbio(client.ssl)
        assert rbio is not None and api.SSL_get_wbio(client.ssl) == rbio
        assert api.BIO_get_fd(rbio)[1] == csock.fileno(), "the attached BIO must be a socket BIO on the descriptor"

        def serve() -> bytes:
            assert api.SSL_accept(server.ssl) == 1
            _, data = api.SSL_read(server.ssl, 100)
            return bytes(data)

        background = Background(serve)
        assert api.SSL_connect(client.ssl) == 1
        assert api.SSL_write(client.ssl, b"over the socket") == 15
        assert background.join() == b"over the socket"


@pytest.mark.clauses("SSL_set_fd/DESCRIPTION/inherits-fd-blocking")
def test_set_fd_non_blocking_descriptor(h: Harness) -> None:
    """On a non-blocking socket whose peer says nothing, SSL_connect returns WANT_READ at once."""
    api = h.capi
    csock, ssock = tcp_pair()
    csock.setblocking(False)
    client = side(api, Role.CLIENT, sock=csock)
    try:
        started = time.monotonic()
        ret = api.SSL_connect(client.ssl)
        elapsed = time.monotonic() - started
        assert ret == -1 and error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_READ, ret
        assert elapsed < 1.0, f"SSL_connect on a non-blocking socket took {elapsed:.2f} s"
    finally:
        client.close()
        ssock.close()


@pytest.mark.clauses("SSL_set_fd/DESCRIPTION/frees-previous-bio")
def test_set_fd_frees_the_previous_bios(h: Harness) -> None:
    api = h.capi
    ctx = api.SSL_CTX_new(api.TLS_method())
    csock, ssock = tcp_pair()
    try:
        ssl = api.SSL_new(ctx)
        _, rbio, rpartner = api.BIO_new_bio_pair(0, 0)
        _, wbio, wpartner = api.BIO_new_bio_pair(0, 0)
        api.SSL_set_bio(ssl, rbio, wbio)
        assert api.SSL_set_fd(ssl, csock.fileno()) == 1
        assert not paired(api, rpartner), "SSL_set_fd must free the previous read BIO"
        assert not paired(api, wpartner), "SSL_set_fd must free the previous write BIO"
        api.SSL_free(ssl)
        api.BIO_free(rpartner)
        api.BIO_free(wpartner)
    finally:
        api.SSL_CTX_free(ctx)
        csock.close()
        ssock.close()


@pytest.mark.clauses(
    "SSL_set_fd/DESCRIPTION/rfd-wfd-separate",
    "SSL_get_fd/DESCRIPTION/rfd-wfd",
    "SSL_get_fd/DESCRIPTION/fd-is-read-channel",
)
def test_separate_read_and_write_descriptors(h: Harness) -> None:
    """Read from one socket, write to another: the getters report them, SSL_get_fd gives the read one, and the
    ClientHello goes out on the write socket only."""
    api = h.capi
    a_local, a_peer = tcp_pair(timeout=1.0)
    b_local, b_peer = tcp_pair(timeout=1.0)
    ctx = api.SSL_CTX_new(api.TLS_client_method())
    try:
        ssl = api.SSL_new(ctx)
        assert api.SSL_set_rfd(ssl, a_local.fileno()) == 1
        assert api.SSL_set_wfd(ssl, b_local.fileno()) == 1
        assert api.SSL_get_rfd(ssl) == a_local.fileno() and api.SSL_get_wfd(ssl) == b_local.fileno()
        assert api.SSL_get_fd(ssl) == a_local.fileno(), "SSL_get_fd must give the read channel's descriptor"
        a_local.setblocking(False)
        api.SSL_set_connect_state(ssl)
        ret = api.SSL_do_handshake(ssl)
        assert ret == -1 and error(api, ssl, ret) is SslError.SSL_ERROR_WANT_READ
        hello = b_peer.recv(65536)
        assert hello[:1] == b"\x16", f"no ClientHello on the write socket: {hello[:8]!r}"
        a_peer.setblocking(False)
        try:
            stray = a_peer.recv(65536)
        except BlockingIOError:
            stray = b""
        assert stray == b"", "bytes went out on the read socket"
        api.SSL_free(ssl)
    finally:
        api.SSL_CTX_free(ctx)
        for s in (a_local, a_peer, b_local, b_peer):
            s.close()


@pytest.mark.clauses("SSL_get_fd/RETURN VALUES/-1")
def test_get_fd_without_a_descriptor(h: Harness) -> None:
    """A BIO pair half is no descriptor BIO, and an object with no BIO has no descriptor: -1 from all three."""
    api = h.capi
    s = Mem(h, Role.CLIENT)
    got = [api.SSL_get_fd(s.ssl)]
    bare = api.SSL_new(s.ctx)
    got.append(api.SSL_get_fd(bare))
    try:
        got += [api.SSL_get_rfd(s.ssl), api.SSL_get_wfd(s.ssl), api.SSL_get_rfd(bare), api.SSL_get_wfd(bare)]
    finally:
        api.SSL_free(bare)
    assert all(v == -1 for v in got), got

