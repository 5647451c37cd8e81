"""C-API cases written for survivors of the second mutation sweep (docs/mutation-sweep.md, branch mutants2): the
error-queue decoders and return values of the SSL functions that the pages state and no earlier case held."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from specs.cases._bio import call, function

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
