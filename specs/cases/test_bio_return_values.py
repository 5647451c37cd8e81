"""C-API cases written for survivors of the second mutation sweep (docs/mutation-sweep.md, branch mutants2): return
values and retry state of the BIO layer that the pages state and no earlier case held."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from specs.cases._bio import call, clear, drain, mem, owned

pytestmark = pytest.mark.needs("c_api")


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/eof-return-nonzero", "BIO_should_retry/DESCRIPTION/should-retry")
def test_a_positive_eof_value_is_also_marked_for_retry(h: Harness) -> None:
    """BIO_set_mem_eof_return with a positive v: an empty memory BIO returns v and is still marked for a read retry
    (the page asks for the retry flag with any non-zero v; it only advises a negative one)."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_set_mem_eof_return", m, 3) == 1
        ret = call(h, "BIO_read", m, 10)[0]
        assert ret == 3, f"an empty memory BIO with eof value 3 returned {ret}"
        assert call(h, "BIO_should_retry", m), "a positive eof value was not marked for retry"
        assert call(h, "BIO_should_read", m), "a positive eof value was not marked as a read retry"


@pytest.mark.clauses("BIO_should_retry/DESCRIPTION/get-retry-bio", "BIO_should_retry/RETURN VALUES/get-retry-bio-valid")
def test_get_retry_bio_stops_at_the_bio_that_asked(h: Harness) -> None:
    """Two memory BIOs chained with BIO_push; a read of the empty first one asks for a retry, the second was never
    used. BIO_get_retry_BIO(first) is the first BIO (it caused the condition), not the idle one behind it."""
    with owned(h) as o:
        first, second = mem(h, o), mem(h, o)
        assert call(h, "BIO_write", second, b"idle") == 4
        assert call(h, "BIO_push", first, second) is not None
        try:
            assert call(h, "BIO_read", first, 4)[0] == -1
            assert call(h, "BIO_should_retry", first), "the empty memory BIO did not ask for a retry"
            culprit, _reason = call(h, "BIO_get_retry_BIO", first)
            assert culprit is not None, "BIO_get_retry_BIO returned NULL"
            assert culprit == first, "BIO_get_retry_BIO went past the BIO that asked for the retry"
        finally:
            call(h, "BIO_pop", first)


@pytest.mark.clauses("BIO_read/RETURN VALUES/gets-not-implemented", "BIO_s_socket/DESCRIPTION/puts-not-gets")
def test_gets_on_a_socket_bio_without_a_socket_is_not_implemented(h: Harness) -> None:
    """A socket BIO has no line-reading operation, so BIO_gets returns -2 also before a socket was set
    (BIO_new(BIO_s_socket())): "not implemented" is a property of the BIO type, not of its state."""
    with owned(h) as o:
        b = o.bio(call(h, "BIO_new", call(h, "BIO_s_socket")))
        assert b is not None
        clear(h)
        ret = call(h, "BIO_gets", b, 10)[0]
        drain(h)
        assert ret == -2, f"BIO_gets on a socket BIO without a socket returned {ret}, not -2 (not implemented)"


@pytest.mark.clauses("BIO_s_mem/DESCRIPTION/eof-return-zero", "BIO_should_retry/DESCRIPTION/should-retry")
def test_end_of_file_after_a_retry_is_not_a_retry(h: Harness) -> None:
    """A read of an empty memory BIO asks for a retry (eof value -1); after BIO_set_mem_eof_return(b, 0) the next
    read of the still empty BIO is end of file: 0, and BIO_should_retry is false, whatever the call before it
    left."""
    with owned(h) as o:
        m = mem(h, o)
        assert call(h, "BIO_read", m, 4)[0] == -1
        assert call(h, "BIO_should_retry", m), "the empty memory BIO did not ask for a retry"
        assert call(h, "BIO_set_mem_eof_return", m, 0) == 1
        assert call(h, "BIO_read", m, 4)[0] == 0, "the empty BIO with eof value 0 did not read as end of file"
        assert not call(h, "BIO_should_retry", m), "end of file kept the retry flag of the read before it"
