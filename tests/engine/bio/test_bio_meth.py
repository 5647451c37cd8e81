"""engine.bio.meth: application-defined BIO methods and their missing callbacks."""

from __future__ import annotations

import engine.bio as B
from engine import err
from engine.bio.constants import BIO_R_UNSUPPORTED_METHOD


def test_method_without_callbacks() -> None:
    method = B.BIO_meth_new(0x0400 | 100, b"nothing")
    bio = B.BIO_new(method)
    assert bio is not None and B.BIO_get_init(bio) == 0
    B.BIO_set_init(bio, 1)
    err.ERR_clear_error()
    assert B.BIO_write(bio, b"x") == -2
    assert err.ERR_GET_REASON(err.ERR_peek_error()) == BIO_R_UNSUPPORTED_METHOD
    assert B.BIO_flush(bio) == -2
    err.ERR_clear_error()
    B.BIO_free(bio)
    B.BIO_meth_free(method)


def test_method_with_callbacks() -> None:
    written: list[bytes] = []
    method = B.BIO_meth_new(0x0400 | 101, "collector")
    assert B.BIO_meth_set_write(method, lambda data: written.append(data) or len(data)) == 1
    assert B.BIO_meth_set_read(method, lambda n: b"abc"[:n]) == 1
    assert B.BIO_meth_set_ctrl(method, lambda cmd, larg: 1) == 1
    bio = B.BIO_new(method)
    B.BIO_set_init(bio, 1)
    assert B.BIO_write(bio, b"hello") == 5 and written == [b"hello"]
    assert B.BIO_read(bio, 2) == (2, b"ab")
    assert B.BIO_flush(bio) == 1
    B.BIO_free(bio)
    B.BIO_meth_free(method)
    assert B.BIO_meth_set_write(method, None) == 0  # freed
