"""engine.bio.addr: BIO_ADDR.pod."""

from __future__ import annotations

import socket

from engine import err
from engine.bio import (
    BIO_ADDR_clear,
    BIO_ADDR_family,
    BIO_ADDR_free,
    BIO_ADDR_hostname_string,
    BIO_ADDR_new,
    BIO_ADDR_path_string,
    BIO_ADDR_rawaddress,
    BIO_ADDR_rawmake,
    BIO_ADDR_rawport,
    BIO_ADDR_service_string,
)
from engine.bio.constants import AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC


def setup_function() -> None:
    err.ERR_clear_error()


def test_fresh_address_is_unspec() -> None:
    a = BIO_ADDR_new()
    assert BIO_ADDR_family(a) == AF_UNSPEC
    assert BIO_ADDR_rawport(a) == 0
    assert BIO_ADDR_rawaddress(a) == (0, b"", 0)
    assert BIO_ADDR_hostname_string(a, 1) is None and err.ERR_get_error() != 0
    assert BIO_ADDR_service_string(a, 1) is None and err.ERR_get_error() != 0
    assert BIO_ADDR_path_string(a) is None and err.ERR_get_error() != 0


def test_inet_round_trip() -> None:
    a = BIO_ADDR_new()
    assert BIO_ADDR_rawmake(a, AF_INET, b"\x7f\0\0\1", 4, socket.htons(443)) == 1
    assert BIO_ADDR_family(a) == AF_INET
    assert BIO_ADDR_rawport(a) == socket.htons(443)  # network byte order
    assert BIO_ADDR_rawaddress(a) == (1, b"\x7f\0\0\1", 4)
    assert BIO_ADDR_hostname_string(a, 1) == "127.0.0.1"
    assert BIO_ADDR_service_string(a, 1) == "443"
    assert BIO_ADDR_path_string(a) is None
    BIO_ADDR_clear(a)
    assert BIO_ADDR_family(a) == AF_UNSPEC


def test_inet6_and_unix() -> None:
    a = BIO_ADDR_new()
    assert BIO_ADDR_rawmake(a, AF_INET6, b"\0" * 15 + b"\1", 16, socket.htons(80)) == 1
    assert BIO_ADDR_hostname_string(a, 1) == "::1"
    assert BIO_ADDR_rawmake(a, AF_UNIX, b"/tmp/sock", 9, 5) == 1
    assert BIO_ADDR_family(a) == AF_UNIX and BIO_ADDR_rawport(a) == 0
    assert BIO_ADDR_path_string(a) == "/tmp/sock"
    assert BIO_ADDR_rawaddress(a) == (1, b"/tmp/sock", 9)
    assert BIO_ADDR_hostname_string(a, 1) is None  # BIO_ADDR DESCRIPTION; libcrypto answers "localhost" (erratum)


def test_rawmake_rejects_bad_input() -> None:
    a = BIO_ADDR_new()
    assert BIO_ADDR_rawmake(a, 99, b"\x7f\0\0\1", 4, 0) == 0
    assert BIO_ADDR_rawmake(a, AF_INET, b"\x7f\0\0\1\0", 5, 0) == 0
    assert BIO_ADDR_rawmake(a, AF_INET, b"\x7f\0\0\1", 4, 70000) == 0
    assert BIO_ADDR_rawmake(a, AF_INET, b"\x7f\0\0\1", 9, 0) == 0
    assert BIO_ADDR_rawmake(a, AF_UNIX, b"/" * 200, 200, 0) == 0
    assert BIO_ADDR_family(a) == AF_UNSPEC


def test_free_and_use_after_free() -> None:
    BIO_ADDR_free(None)
    a = BIO_ADDR_new()
    BIO_ADDR_free(a)
    assert BIO_ADDR_family(a) == AF_UNSPEC
    assert BIO_ADDR_rawmake(a, AF_INET, b"\x7f\0\0\1", 4, 0) == 0
    assert BIO_ADDR_rawaddress(a) == (0, b"", 0)
    assert err.ERR_get_error() != 0
