"""Interop of the larger key-exchange groups, x448 (RFC 7748) and secp521r1, in TLS 1.3 and TLS 1.2, on every pair of
stacks that can choose groups on one side: once the client offers only the group (and its key share), once the
server accepts only the group and the client keeps its defaults (a HelloRetryRequest in TLS 1.3 when the client's
first key share is another group). test_interop.py / test_interop12.py cover x25519, secp256r1 and secp384r1."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from specs.cases.test_interop import _exchange

pytestmark = pytest.mark.interop

GROUPS = ("x448", "secp521r1")
SIDES = ("client-chooses", "server-chooses")


def _run(h: Harness, group: str, version: str, side: str) -> None:
    h.need("tls1_3" if version == "TLSv1.3" else "tls1_2")
    h.need("group_selection", stacks=(h.client_stack if side == "client-chooses" else h.server_stack,))
    pinned = {"min_version": version, "max_version": version}
    # TLS 1.2 with an ECDSA certificate needs the certificate's curve among the client's groups (RFC 8422 section
    # 5.1), which a client offering only the group under test does not allow: an RSA certificate then
    key = "rsa" if version == "TLSv1.2" and side == "client-chooses" else "ecdsa"
    if side == "client-chooses":
        pair = h.pair(client=lambda c: c.with_(groups=(group,), **pinned),
                      server=lambda c: c.with_(server_key=key, **pinned))  # fmt: skip
    else:
        pair = h.pair(client=lambda c: c.with_(**pinned), server=lambda c: c.with_(groups=(group,), **pinned))
    pair.handshake()
    for endpoint in (pair.client, pair.server):
        got = endpoint.negotiated_version()
        assert got in (None, version), f"{endpoint.label} negotiated {got}"
    _exchange(pair, b"g" * 1000)
    _exchange(pair, b"h" * 1000, to_server=False)


@pytest.mark.clauses("RFC9846/4.3.8/key-share-groups")
@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("group", GROUPS)
def test_large_group_tls13(h: Harness, group: str, side: str) -> None:
    _run(h, group, "TLSv1.3", side)


@pytest.mark.clauses("RFC5246/7.4.3/ecdhe-groups")
@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("group", GROUPS)
def test_large_group_tls12(h: Harness, group: str, side: str) -> None:
    _run(h, group, "TLSv1.2", side)
