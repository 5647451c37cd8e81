"""C-API cases for BIO_new.pod (life cycle), BIO_ctrl.pod (control operations) and BIO_should_retry.pod (retry
predicates and their exact return values)."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from specs.cases._bio import call, clear, connect_in_progress, drain, has_entry, mem, owned, pair

pytestmark = pytest.mark.needs("c_api")

UNKNOWN_CTRL = 9999  # no BIO type defines this control command


# --- BIO_new.pod ------------------------------------------------------------------------------------------------

@pytest.mark.clauses("BIO_new/DESCRIPTION/new-ex", "BIO_new/RETURN VALUES/new")
def test_new_ex_with_the_default_context(h: Harness) -> None:
    """BIO_new_ex(NULL, method) makes a working BIO in the default library context."""
    with owned(h) as o:
        b = o.bio(call(h, "BIO_new_ex", None, call(h, "BIO_s_mem")))
        assert b is not None, "BIO_new_ex(NULL, BIO_s_mem()) returned NULL"
        assert call(h, "BIO_write", b, b"ctx") == 3
        assert call(h, "BIO_read", b, 5) == (3, b"ctx")


@pytest.mark.clauses("BIO_new/DESCRIPTION/up-ref", "BIO_new/RETURN VALUES/up-ref-free")
def test_up_ref_needs_one_more_free(h: Harness) -> None:
    """After BIO_up_ref the first BIO_free (1) leaves the BIO working; the second frees it (1)."""
    with owned(h) as o:
        b = mem(h, o)
        assert call(h, "BIO_up_ref", b) == 1
        assert call(h, "BIO_free", b) == 1
        assert call(h, "BIO_write", b, b"alive") == 5, "the BIO stopped working after the first of two frees"
        assert call(h, "BIO_read", b, 10) == (5, b"alive")
        o.forget(b)
        assert call(h, "BIO_free", b) == 1


@pytest.mark.clauses("BIO_new/DESCRIPTION/free", "BIO_new/DESCRIPTION/free-all", "BIO_new/RETURN VALUES/void",
                     "BIO_new/RETURN VALUES/up-ref-free")
@pytest.mark.states("null-handle")
def test_free_functions_ignore_null(h: Harness) -> None:
    """BIO_free(NULL) does nothing and so does not succeed (0); BIO_vfree(NULL) and BIO_free_all(NULL) do nothing
    and return nothing; none of them records an error."""
    clear(h)
    assert call(h, "BIO_free", None) == 0
    assert call(h, "BIO_vfree", None) is None
    assert call(h, "BIO_free_all", None) is None
    assert not has_entry(h), "freeing NULL left an error entry"


@pytest.mark.clauses("BIO_new/DESCRIPTION/free", "BIO_new/RETURN VALUES/void", "BIO_new/NOTES/free-all-single",
                     "BIO_new/RETURN VALUES/up-ref-free")
def test_free_vfree_and_free_all_release_a_bio(h: Harness) -> None:
    """BIO_free returns 1; BIO_vfree and BIO_free_all on a single BIO free it too and return nothing. A freed pair
    half shows the free without touching the freed BIO: its peer is unpaired, so the peer's writes fail."""
    api = h.capi
    for name in ("BIO_free", "BIO_vfree", "BIO_free_all"):
        b = api.BIO_new(api.BIO_s_mem())
        assert b is not None
        assert call(h, "BIO_up_ref", b) == 1  # a second reference: the BIO survives this free, so it can be checked
        result = call(h, name, b)
        assert result == (1 if name == "BIO_free" else None), f"{name} returned {result}"
        assert call(h, "BIO_write", b, b"x") == 1, f"{name} freed more than one reference"
        assert call(h, "BIO_free", b) == 1
        with owned(h) as o:
            half, peer = pair(h, o)
            o.forget(half)
            call(h, name, half)  # its only reference
            clear(h)
            n = call(h, "BIO_write", peer, b"x")
            drain(h)
            assert n < 0, f"{name} of a pair half's only reference did not free it: its peer still writes ({n})"


# --- BIO_ctrl.pod -----------------------------------------------------------------------------------------------

@pytest.mark.clauses("BIO_ctrl/DESCRIPTION/generic-control")
def test_ctrl_gives_the_macros_answers(h: Harness) -> None:
    """BIO_ctrl / BIO_int_ctrl with the command of BIO_pending or BIO_eof give what the macros give."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_write", m, b"12345") == 5
        assert call(h, "BIO_ctrl", m, K.BIO_CTRL_PENDING, 0, None) == call(h, "BIO_pending", m) == 5
        assert call(h, "BIO_int_ctrl", m, K.BIO_CTRL_PENDING, 0, 0) == 5
        assert call(h, "BIO_ctrl", m, K.BIO_CTRL_EOF, 0, None) == call(h, "BIO_eof", m) == 0
        call(h, "BIO_read", m, 5)
        assert call(h, "BIO_ctrl", m, K.BIO_CTRL_EOF, 0, None) == call(h, "BIO_eof", m) == 1


@pytest.mark.clauses("BIO_ctrl/DESCRIPTION/flush", "BIO_ctrl/RETURN VALUES/flush")
def test_flush_succeeds_on_unbuffered_bios(h: Harness) -> None:
    """Memory BIOs and pair halves hold nothing back: BIO_flush returns 1 and changes nothing."""
    with owned(h) as o:
        m = mem(h, o)
        b1, b2 = pair(h, o)
        assert call(h, "BIO_write", m, b"abc") == 3
        assert call(h, "BIO_write", b1, b"def") == 3
        assert call(h, "BIO_flush", m) == 1
        assert call(h, "BIO_flush", b1) == 1
        assert call(h, "BIO_read", m, 10) == (3, b"abc")
        assert call(h, "BIO_read", b2, 10) == (3, b"def")


@pytest.mark.clauses("BIO_ctrl/NOTES/unknown-ctrl-zero", "BIO_ctrl/BUGS/zero-is-ambiguous")
def test_unknown_ctrl_returns_zero(h: Harness) -> None:
    """Source/sink BIOs answer an unknown command with 0, the same value BIO_eof gives for 'not at end of file'."""
    with owned(h) as o:
        m = mem(h, o)
        b1, _ = pair(h, o)
        assert call(h, "BIO_write", m, b"data") == 4
        assert call(h, "BIO_ctrl", m, UNKNOWN_CTRL, 0, None) == 0
        assert call(h, "BIO_ctrl", b1, UNKNOWN_CTRL, 0, None) == 0
        assert call(h, "BIO_eof", m) == 0, "the same 0 means 'not at EOF' here"


@pytest.mark.clauses("BIO_ctrl/DESCRIPTION/close-flag", "BIO_ctrl/RETURN VALUES/set-close",
                     "BIO_ctrl/RETURN VALUES/get-close")
def test_close_flag_set_and_get(h: Harness) -> None:
    """BIO_set_close returns 1 and BIO_get_close reads back BIO_CLOSE / BIO_NOCLOSE."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_set_close", m, K.BIO_NOCLOSE) == 1
        assert call(h, "BIO_get_close", m) == K.BIO_NOCLOSE
        assert call(h, "BIO_set_close", m, K.BIO_CLOSE) == 1
        assert call(h, "BIO_get_close", m) == K.BIO_CLOSE


# --- BIO_should_retry.pod ---------------------------------------------------------------------------------------

@pytest.mark.clauses("BIO_should_retry/RETURN VALUES/should-retry-one-or-zero")
def test_should_retry_returns_one_or_zero(h: Harness) -> None:
    """BIO_should_retry is exactly 1 after an empty memory-BIO read and exactly 0 after a successful one."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_read", m, 4)[0] == -1
        assert call(h, "BIO_should_retry", m) == 1, "BIO_should_retry did not return exactly 1"
        call(h, "BIO_write", m, b"x")
        assert call(h, "BIO_read", m, 4)[0] == 1
        assert call(h, "BIO_should_retry", m) == 0


@pytest.mark.clauses("BIO_should_retry/RETURN VALUES/should-read-one-or-zero")
def test_should_read_returns_one_or_zero(h: Harness) -> None:
    """BIO_should_read is exactly 1 after an empty memory-BIO read and exactly 0 after a successful one."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_read", m, 4)[0] == -1
        assert call(h, "BIO_should_read", m) == 1, "BIO_should_read did not return exactly 1"
        call(h, "BIO_write", m, b"x")
        assert call(h, "BIO_read", m, 4)[0] == 1
        assert call(h, "BIO_should_read", m) == 0


@pytest.mark.clauses("BIO_should_retry/RETURN VALUES/should-write-one-or-zero")
def test_should_write_returns_one_or_zero(h: Harness) -> None:
    """BIO_should_write is exactly 1 after a write into a full pair half and exactly 0 after an empty read."""
    with owned(h) as o:
        b1, _b2 = pair(h, o, 10, 0)
        assert call(h, "BIO_write", b1, b"0123456789") == 10
        assert call(h, "BIO_write", b1, b"x") <= 0
        assert call(h, "BIO_should_write", b1) == 1, "BIO_should_write did not return exactly 1"
        assert call(h, "BIO_read", b1, 4)[0] <= 0
        assert call(h, "BIO_should_write", b1) == 0


@pytest.mark.clauses("BIO_should_retry/RETURN VALUES/should-io-special-one-or-zero",
                     "BIO_should_retry/DESCRIPTION/should-io-special")
def test_should_io_special_is_zero_for_read_and_write_retries(h: Harness) -> None:
    """A plain read or write retry is not 'special': BIO_should_io_special returns 0."""
    with owned(h) as o:
        b1, _ = pair(h, o, 1, 0)
        assert call(h, "BIO_read", b1, 4)[0] <= 0
        assert call(h, "BIO_should_io_special", b1) == 0
        assert call(h, "BIO_write", b1, b"ab") == 1
        assert call(h, "BIO_write", b1, b"c") <= 0
        assert call(h, "BIO_should_io_special", b1) == 0


@pytest.mark.clauses("BIO_should_retry/RETURN VALUES/should-retry-one-or-zero",
                     "BIO_should_retry/RETURN VALUES/should-io-special-one-or-zero",
                     "BIO_should_retry/DESCRIPTION/should-io-special", "BIO_should_retry/DESCRIPTION/retry-type",
                     "BIO_should_retry/DESCRIPTION/set-retry-reason", "BIO_should_retry/DESCRIPTION/get-retry-reason",
                     "BIO_should_retry/RETURN VALUES/get-retry-reason")
def test_special_retry_with_a_reason(h: Harness) -> None:
    """A BIO marked for a special retry (BIO_set_retry_special) answers BIO_should_io_special with 1, its retry
    type is BIO_FLAGS_IO_SPECIAL, and BIO_get_retry_reason reports what BIO_set_retry_reason stored."""
    with owned(h) as o:
        m = mem(h, o)
        call(h, "BIO_set_retry_special", m)
        call(h, "BIO_set_retry_reason", m, K.BIO_RR_CONNECT)
        assert call(h, "BIO_should_retry", m) == 1
        assert call(h, "BIO_should_io_special", m) == 1, "BIO_should_io_special did not return exactly 1"
        assert call(h, "BIO_retry_type", m) == K.BIO_FLAGS_IO_SPECIAL
        assert call(h, "BIO_get_retry_reason", m) == K.BIO_RR_CONNECT


@pytest.mark.clauses("BIO_should_retry/RETURN VALUES/should-io-special-one-or-zero",
                     "BIO_should_retry/DESCRIPTION/should-io-special")
def test_connect_bio_in_progress_is_a_special_retry(h: Harness) -> None:
    """A connect BIO whose connect is still in progress asks for a special retry: BIO_should_io_special is
    exactly 1."""
    with owned(h) as o, connect_in_progress(h, o) as (bio, _lst):
        assert call(h, "BIO_should_io_special", bio) == 1, "BIO_should_io_special did not return exactly 1"
        assert call(h, "BIO_should_retry", bio), "a connect in progress did not ask for a retry"


@pytest.mark.clauses("BIO_should_retry/DESCRIPTION/get-retry-bio", "BIO_should_retry/DESCRIPTION/get-retry-reason",
                     "BIO_should_retry/RETURN VALUES/get-retry-bio-valid",
                     "BIO_should_retry/RETURN VALUES/get-retry-reason", "BIO_should_retry/DESCRIPTION/retry-type")
def test_get_retry_bio_reports_the_connect_reason(h: Harness) -> None:
    """For a connect still in progress, BIO_get_retry_BIO returns the connect BIO itself with reason
    BIO_RR_CONNECT, BIO_get_retry_reason agrees, and the retry type is BIO_FLAGS_IO_SPECIAL alone."""
    with owned(h) as o, connect_in_progress(h, o) as (bio, _lst):
        culprit, reason = call(h, "BIO_get_retry_BIO", bio)
        assert culprit is not None and culprit == bio, "BIO_get_retry_BIO did not return the connect BIO"
        assert reason == K.BIO_RR_CONNECT, f"reason {reason}, not BIO_RR_CONNECT"
        assert call(h, "BIO_get_retry_reason", bio) == K.BIO_RR_CONNECT
        assert call(h, "BIO_retry_type", bio) == K.BIO_FLAGS_IO_SPECIAL


@pytest.mark.clauses("BIO_should_retry/DESCRIPTION/get-retry-bio", "BIO_should_retry/RETURN VALUES/get-retry-bio-valid",
                     "BIO_should_retry/DESCRIPTION/get-retry-reason", "BIO_should_retry/RETURN VALUES/get-retry-reason")
def test_get_retry_bio_of_a_single_bio_is_itself(h: Harness) -> None:
    """After a retry on a single memory BIO, BIO_get_retry_BIO returns that BIO and the same reason code as
    BIO_get_retry_reason (0: a read retry has no special reason)."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_read", m, 4)[0] == -1
        culprit, reason = call(h, "BIO_get_retry_BIO", m)
        assert culprit is not None, "BIO_get_retry_BIO returned NULL"
        assert culprit == m, "BIO_get_retry_BIO of a lone BIO is not the BIO itself"
        assert reason == call(h, "BIO_get_retry_reason", m) == 0


@pytest.mark.clauses("BIO_ctrl/RETURN VALUES/pending-macros", "BIO_ctrl/RETURN VALUES/pending-functions",
                     "BIO_ctrl/RETURN VALUES/flush", "BIO_ctrl/RETURN VALUES/reset")
def test_control_calls_on_null_report_failure(h: Harness) -> None:
    """With no BIO to act on (NULL, which every stack checks before use) the control calls fail the documented
    way: BIO_ctrl_pending 0, BIO_pending / BIO_wpending 0 or less, BIO_flush and BIO_reset 0 or less."""
    clear(h)
    assert call(h, "BIO_ctrl_pending", None) == 0
    assert call(h, "BIO_pending", None) <= 0
    assert call(h, "BIO_wpending", None) <= 0
    assert call(h, "BIO_flush", None) <= 0
    assert call(h, "BIO_reset", None) <= 0
    drain(h)


@pytest.mark.clauses("BIO_ctrl/RETURN VALUES/eof")
def test_eof_on_null_fails(h: Harness) -> None:
    """BIO_eof with no BIO is a failure: a negative value, neither 'at end of file' (1) nor 'not yet' (0)."""
    clear(h)
    ret = call(h, "BIO_eof", None)
    drain(h)
    assert ret < 0, f"BIO_eof(NULL) returned {ret}"
