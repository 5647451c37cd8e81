"""BIO_should_retry.pod, BUGS: OpenSSL's ASN1 functions cannot resume after a partial read from a non-blocking BIO.

d2i_X509_bio() reads a DER certificate from a BIO. On a memory BIO whose empty reads ask for a retry
(BIO_set_mem_eof_return(b, -1): a non-blocking source that has no data yet) and which holds only the first half of
the certificate, it fails; the half it read is gone, so once the rest arrives a second call sees only the second
half and fails again: the decoding does not continue where it stopped. The whole certificate in one BIO decodes.

The reference engine has no ASN1 BIO functions (its X.509 parsing is the cryptography package's), so the case does
not apply to it.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from conformance.certs import default_pki
from conformance.harness import Harness
from specs.cases._bio import call

pytestmark = pytest.mark.needs("c_api")


def _mem_with(h: Harness, api: Any, data: bytes, *, retry_when_empty: bool) -> Any:
    b = call(h, "BIO_new", call(h, "BIO_s_mem"))
    assert b is not None
    if retry_when_empty:
        assert call(h, "BIO_set_mem_eof_return", b, -1) == 1
    assert api.BIO_write(b, data) == len(data)
    return b


@pytest.mark.clauses("BIO_should_retry/BUGS/asn1-no-resume")
def test_d2i_x509_bio_does_not_resume_after_a_partial_non_blocking_read(h: Harness) -> None:
    """A DER certificate (the test CA's) in one memory BIO decodes with d2i_X509_bio. Its first half in a memory BIO
    whose empty reads ask for a retry: d2i_X509_bio returns NULL; the second half is then written to the same BIO
    and d2i_X509_bio returns NULL again: it does not continue the certificate it had started."""
    api = h.capi
    if not hasattr(api, "d2i_X509_bio"):
        h.not_applicable(f"{h.stack.name} has no ASN1 BIO functions (d2i_X509_bio): its X.509 parsing reads no BIO")
    der = x509.load_pem_x509_certificate(default_pki().ca_pem).public_bytes(Encoding.DER)
    half = len(der) // 2
    whole = _mem_with(h, api, der, retry_when_empty=False)
    partial = _mem_with(h, api, der[:half], retry_when_empty=True)
    made: list[Any] = []
    try:
        cert = call(h, "d2i_X509_bio", whole)
        assert cert is not None, "d2i_X509_bio could not decode the whole certificate"
        made.append(cert)
        first = call(h, "d2i_X509_bio", partial)
        if first is not None:
            made.append(first)
        assert first is None, "d2i_X509_bio decoded a certificate from half of its bytes"
        h.trace.note(f"after the partial read: BIO_should_retry {call(h, 'BIO_should_retry', partial)}, "
                     f"{call(h, 'BIO_pending', partial)} bytes left in the BIO")
        api.ERR_clear_error()
        assert api.BIO_write(partial, der[half:]) == len(der) - half
        second = call(h, "d2i_X509_bio", partial)
        if second is not None:
            made.append(second)
        assert second is None, "d2i_X509_bio continued the certificate it had started: the page says the ASN1 " \
            "functions cannot resume after a partial non-blocking read"
    finally:
        api.ERR_clear_error()
        for c in made:
            api.X509_free(c)
        api.BIO_free(whole)
        api.BIO_free(partial)
