"""The bulk paths of engine.ssl (SSL_read / SSL_write with nothing buffered, pending or scheduled; the record reader's
whole-record read) against the general paths they stand for: records delivered whole, in pieces at every kind of
boundary, cut off by the end of the transport, or with a bad header, in TLS 1.3 and TLS 1.2."""

from __future__ import annotations

from typing import Any

import pytest

import engine.bio as B
import engine.ssl as E
from conformance.certs import default_pki
from engine import err
from engine.ssl import constants as K

VERSIONS = [K.TLS1_3_VERSION, K.TLS1_2_VERSION]


def _ctx(server: bool, version: int) -> Any:
    pki = default_pki()
    ctx = E.SSL_CTX_new(E.TLS_server_method() if server else E.TLS_client_method())
    assert E.SSL_CTX_set_max_proto_version(ctx, version) == 1
    E.SSL_CTX_load_verify_locations(ctx, str(pki.ca_path).encode(), None)
    if server:
        E.SSL_CTX_use_certificate_file(ctx, str(pki.server.cert_path).encode(), K.SSL_FILETYPE_PEM)
        E.SSL_CTX_use_PrivateKey_file(ctx, str(pki.server.key_path).encode(), K.SSL_FILETYPE_PEM)
    return ctx


class End:
    """One SSL on the inner half of a BIO pair; the test moves the bytes of the outer half (``net``)."""

    def __init__(self, server: bool, version: int, size: int) -> None:
        self.ssl = E.SSL_new(_ctx(server, version))
        _, inner, self.net = B.BIO_new_bio_pair(size, 1 << 17)
        E.SSL_set_bio(self.ssl, inner, inner)
        (E.SSL_set_accept_state if server else E.SSL_set_connect_state)(self.ssl)

    def take(self) -> bytes:
        n = B.BIO_ctrl_pending(self.net)
        return B.BIO_read(self.net, n)[1] if n else b""

    def give(self, data: bytes) -> None:
        if data:
            assert B.BIO_write(self.net, data) == len(data)


def pair(version: int, size: int = 1 << 17) -> tuple[End, End]:
    """Client and server after the handshake; ``size``: the client's write buffer (0: the 17 KiB default)."""
    err.ERR_clear_error()
    c, s = End(False, version, size), End(True, version, 1 << 17)
    done = [0, 0]
    for _ in range(100):
        for i, e in enumerate((c, s)):
            if done[i] != 1:
                done[i] = E.SSL_do_handshake(e.ssl)
        s.give(c.take())
        c.give(s.take())
        if done == [1, 1]:
            ret, _ = E.SSL_read(c.ssl, 1)  # the tickets of TLS 1.3
            assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_WANT_READ
            return c, s
    raise AssertionError(done)


def want_read(s: End) -> None:
    ret, data = E.SSL_read(s.ssl, 1 << 16)
    assert (ret, data) == (-1, b"")
    assert E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_WANT_READ


@pytest.mark.parametrize("version", VERSIONS)
def test_records_whole_and_back_to_back(version: int) -> None:
    c, s = pair(version)
    chunks = [bytes([i]) * n for i, n in enumerate((1, 100, 16384, 5000, 16384))]
    for chunk in chunks:
        assert E.SSL_write(c.ssl, chunk) == len(chunk)
    s.give(c.take())
    for chunk in chunks:  # SSL_read: NOTES one record per call
        assert E.SSL_read(s.ssl, 1 << 16) == (len(chunk), chunk)
    want_read(s)
    assert E.SSL_pending(s.ssl) == 0 and E.SSL_has_pending(s.ssl) == 0


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("cut", [1, 3, 5, 6, 200, -1])
def test_a_record_in_two_pieces(version: int, cut: int) -> None:
    """A record cut inside its header, right after it, inside its body or one byte short: WANT_READ with the bytes
    held (SSL_has_pending), then the whole record once the rest arrives."""
    c, s = pair(version)
    data = bytes(range(256)) * 40
    assert E.SSL_write(c.ssl, data) == len(data)
    wire = c.take()
    s.give(wire[:cut])
    want_read(s)
    assert E.SSL_has_pending(s.ssl) == 1 and E.SSL_pending(s.ssl) == 0
    want_read(s)  # again, with the bytes already held
    assert E.SSL_want(s.ssl) == K.SSL_READING
    s.give(wire[cut:])
    assert E.SSL_read(s.ssl, 1 << 16) == (len(data), data)
    assert E.SSL_want(s.ssl) == K.SSL_NOTHING  # SSL_want: the state of the last call, which succeeded
    assert E.SSL_has_pending(s.ssl) == 0
    want_read(s)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_record_byte_by_byte(version: int) -> None:
    c, s = pair(version)
    data = b"x" * 700
    assert E.SSL_write(c.ssl, data) == len(data)
    wire = c.take()
    for i in range(len(wire) - 1):
        s.give(wire[i : i + 1])
        want_read(s)
    s.give(wire[-1:])
    assert E.SSL_read(s.ssl, 1 << 16) == (len(data), data)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("cut", [0, 3, 5, 50])
def test_end_of_transport_inside_a_record(version: int, cut: int) -> None:
    """SSL_get_error: NOTES an EOF without close_notify is SSL_ERROR_SSL (unexpected EOF); with no byte of a record
    held it is the same; the read returns 0 (the BIO_read's)."""
    c, s = pair(version)
    assert E.SSL_write(c.ssl, b"y" * 300) == 300
    s.give(c.take()[:cut])
    B.BIO_shutdown_wr(s.net)
    err.ERR_clear_error()
    ret, data = E.SSL_read(s.ssl, 1 << 16)
    assert (ret, data) == (0, b"")
    assert E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_SSL
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_UNEXPECTED_EOF_WHILE_READING


@pytest.mark.parametrize("version", VERSIONS)
def test_a_bad_header_fails_before_its_body(version: int) -> None:
    """A header the core refuses (an unknown content type) fails when its body has to be waited for, not after a
    body that never comes (engine.ssl.records: the header goes into the core on its own)."""
    c, s = pair(version)
    assert E.SSL_write(c.ssl, b"z" * 300) == 300
    wire = bytearray(c.take())
    wire[0] = 0x63
    s.give(bytes(wire[:5]))
    err.ERR_clear_error()
    ret, _ = E.SSL_read(s.ssl, 1 << 16)
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_SSL


@pytest.mark.parametrize("version", VERSIONS)
def test_a_tampered_record_is_bad_record_mac(version: int) -> None:
    c, s = pair(version)
    assert E.SSL_write(c.ssl, b"w" * 1000) == 1000
    wire = bytearray(c.take())
    wire[-1] ^= 1
    s.give(bytes(wire))
    err.ERR_clear_error()
    ret, _ = E.SSL_read(s.ssl, 1 << 16)
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_SSL
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == K.SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC
    ret, _ = E.SSL_read(s.ssl, 1 << 16)  # failed for good
    assert ret == -1 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_SSL


@pytest.mark.parametrize("version", VERSIONS)
def test_write_into_a_full_bio_is_retried_with_the_same_arguments(version: int) -> None:
    """SSL_write: WARNINGS a write that wanted to write must be repeated with the same arguments; the record is made
    once, and what was queued goes out first."""
    c, s = pair(version, 0)
    first = b"a" * 16384
    second = b"b" * 16384
    assert E.SSL_write(c.ssl, first) == len(first)
    ret = E.SSL_write(c.ssl, second)  # the 17 KiB pair buffer holds one record, not two
    assert ret == -1 and E.SSL_get_error(c.ssl, ret) == K.SSL_ERROR_WANT_WRITE
    assert E.SSL_want(c.ssl) == K.SSL_WRITING
    s.give(c.take())
    assert E.SSL_write(c.ssl, second) == len(second)
    assert E.SSL_want(c.ssl) == K.SSL_NOTHING
    s.give(c.take())
    assert E.SSL_read(s.ssl, 1 << 16) == (len(first), first)
    assert E.SSL_read(s.ssl, 1 << 16) == (len(second), second)
    want_read(s)


@pytest.mark.parametrize("version", VERSIONS)
def test_partial_reads_and_peek_of_a_record(version: int) -> None:
    c, s = pair(version)
    data = bytes(range(200))
    assert E.SSL_write(c.ssl, data) == len(data)
    s.give(c.take())
    assert E.SSL_peek(s.ssl, 10) == (10, data[:10])
    assert E.SSL_read(s.ssl, 50) == (50, data[:50])
    assert E.SSL_pending(s.ssl) == 150
    assert E.SSL_read(s.ssl, 1 << 16) == (150, data[50:])
    want_read(s)


@pytest.mark.parametrize("version", VERSIONS)
def test_close_notify_after_data(version: int) -> None:
    c, s = pair(version)
    assert E.SSL_write(c.ssl, b"last") == 4
    assert E.SSL_shutdown(c.ssl) == 0
    s.give(c.take())
    assert E.SSL_read(s.ssl, 100) == (4, b"last")
    ret, _ = E.SSL_read(s.ssl, 100)
    assert ret == 0 and E.SSL_get_error(s.ssl, ret) == K.SSL_ERROR_ZERO_RETURN
    assert E.SSL_write(s.ssl, b"late") == 4  # the server may still write after the client's close_notify
    assert E.SSL_shutdown(s.ssl) == 1
