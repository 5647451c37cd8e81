"""The context-level caches of engine.tls.certificates (own DER encodings, the trust store per set of roots) give
exactly what the uncached calls give: a cache hit never lets one set of roots, or one certificate, stand for
another."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from tls13_testlib import NOW, make_ca, make_leaf

from engine.tls import AlertDescription, TLSAlertError
from engine.tls.certificates import der_chain, verify_server_chain


def test_each_set_of_roots_has_its_own_store() -> None:
    ca1, ca2 = make_ca("CA one"), make_ca("CA two")
    leaf1 = make_leaf(ca1, "server.example")
    leaf2 = make_leaf(ca2, "server.example")
    for _ in range(2):  # the second time from the cache
        verify_server_chain([leaf1.cert], [ca1.cert], "server.example", NOW)
        verify_server_chain([leaf2.cert], [ca2.cert], "server.example", NOW)
        for leaf, roots in ((leaf1, [ca2.cert]), (leaf2, [ca1.cert])):
            with pytest.raises(TLSAlertError) as info:
                verify_server_chain([leaf.cert], roots, "server.example", NOW)
            assert info.value.alert == AlertDescription.unknown_ca
    verify_server_chain([leaf2.cert], [ca1.cert, ca2.cert], "server.example", NOW)


def test_a_new_list_of_the_same_roots_and_a_changed_list() -> None:
    ca1, ca2 = make_ca("CA one"), make_ca("CA two")
    leaf2 = make_leaf(ca2, "server.example")
    roots = [ca1.cert]
    with pytest.raises(TLSAlertError):
        verify_server_chain([leaf2.cert], roots, "server.example", NOW)
    roots[0] = ca2.cert  # the same list object, another root
    verify_server_chain([leaf2.cert], roots, "server.example", NOW)


def test_der_chain_is_public_bytes() -> None:
    ca = make_ca()
    certs = [make_leaf(ca, f"s{i}.example").cert for i in range(3)] + [ca.cert]
    for _ in range(2):
        assert der_chain(certs) == [c.public_bytes(Encoding.DER) for c in certs]
    assert der_chain(list(reversed(certs))) == [c.public_bytes(Encoding.DER) for c in reversed(certs)]
