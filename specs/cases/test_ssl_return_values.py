"""C-API cases written for survivors of the second mutation sweep (docs/mutation-sweep.md, branch mutants2): the
error-queue decoders and return values of the SSL functions that the pages state and no earlier case held."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from specs.cases._bio import call, function
from specs.cases._ssl_objects import ssl_ctx, ssl_obj

pytestmark = pytest.mark.needs("c_api")


@pytest.mark.clauses("ERR_GET_LIB/DESCRIPTION/fatal")
def test_a_common_reason_is_not_fatal_by_itself(h: Harness) -> None:
    """ERR_FATAL_ERROR looks at the fatal flag only: a code whose reason carries just the "common" flag (err.h's
    ERR_R_PASSED_INVALID_ARGUMENT) is not fatal, one with ERR_R_PASSED_NULL_PARAMETER (fatal and common) is."""
    function(h, "ERR_FATAL_ERROR")  # not applicable where the stack has no ERR_FATAL_ERROR
    common = (K.ERR_LIB_SSL << K.ERR_LIB_OFFSET) | K.ERR_R_PASSED_INVALID_ARGUMENT
    fatal = (K.ERR_LIB_SSL << K.ERR_LIB_OFFSET) | K.ERR_R_PASSED_NULL_PARAMETER
    assert call(h, "ERR_FATAL_ERROR", common) == 0, f"ERR_FATAL_ERROR({common:#x}) (common flag only) is not 0"
    assert call(h, "ERR_FATAL_ERROR", fatal) == 1, f"ERR_FATAL_ERROR({fatal:#x}) (fatal flag) is not 1"


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_READ")
def test_want_read_comes_from_the_read_bio(h: Harness) -> None:
    """A client SSL with two memory BIOs, an empty one to read from and another to write to (SSL_set_bio(ssl, rbio,
    wbio)): SSL_connect writes its ClientHello, finds nothing to read and fails; SSL_get_error is
    SSL_ERROR_WANT_READ, taken from the read BIO (the write BIO took everything and asks for nothing)."""
    api = h.capi
    with ssl_ctx(h) as ctx, ssl_obj(h, ctx) as ssl:
        rbio, wbio = api.BIO_new(api.BIO_s_mem()), api.BIO_new(api.BIO_s_mem())
        assert rbio is not None and wbio is not None
        call(h, "SSL_set_bio", ssl, rbio, wbio)  # the SSL owns both from here
        call(h, "ERR_clear_error")
        ret = call(h, "SSL_connect", ssl)
        # SSL_connect: RETURN VALUES < 0 also when a non-blocking BIO needs action (0 is a controlled shutdown)
        assert ret < 0, f"SSL_connect with nothing to read returned {ret}, not < 0"
        assert call(h, "BIO_ctrl_pending", wbio) > 0, "the ClientHello did not go to the write BIO"
        got = call(h, "SSL_get_error", ssl, ret)
        assert got == K.SSL_ERROR_WANT_READ, f"SSL_get_error is {got}, not SSL_ERROR_WANT_READ"
