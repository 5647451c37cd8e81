"""Interop of the larger key-exchange groups, x448 (RFC 7748) and secp521r1, in TLS 1.3 and TLS 1.2, on every pair of
stacks that both can be limited to the group: the client offers only that group (and its key share), the server
accepts only that group. A stack that refuses the group in its group list is not applicable (both groups are
optional: RFC 9846 section 9.1 asks for secp256r1 and X25519 only). test_interop.py / test_interop12.py cover x25519,
secp256r1 and secp384r1 with the client alone choosing."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from specs.cases.test_interop import _exchange

pytestmark = pytest.mark.interop

GROUPS = ("x448", "secp521r1")


def _run(h: Harness, group: str, version: str) -> None:
    h.need("tls1_3" if version == "TLSv1.3" else "tls1_2")
    h.need("group_selection")
    pinned = {"min_version": version, "max_version": version}
    # TLS 1.2 with an ECDSA certificate needs the certificate's curve among the client's groups (RFC 8422 section
    # 5.1), which a client offering only the group under test does not allow: an RSA certificate then
    key = "rsa" if version == "TLSv1.2" else "ecdsa"
    pair = h.pair(client=lambda c: c.with_(groups=(group,), **pinned),
                  server=lambda c: c.with_(groups=(group,), server_key=key, **pinned))  # fmt: skip
    pair.handshake()
    for endpoint in (pair.client, pair.server):
        got = endpoint.negotiated_version()
        assert got in (None, version), f"{endpoint.label} negotiated {got}"
    _exchange(pair, b"g" * 1000)
    _exchange(pair, b"h" * 1000, to_server=False)


@pytest.mark.clauses("RFC9846/4.3.8/key-share-groups")
@pytest.mark.parametrize("group", GROUPS)
def test_large_group_tls13(h: Harness, group: str) -> None:
    _run(h, group, "TLSv1.3")


@pytest.mark.clauses("RFC5246/7.4.3/ecdhe-groups")
@pytest.mark.parametrize("group", GROUPS)
def test_large_group_tls12(h: Harness, group: str) -> None:
    _run(h, group, "TLSv1.2")


@pytest.mark.clauses("RFC9846/4.2.1/no-common-group")
def test_disjoint_groups_fail_tls13(h: Harness) -> None:
    """The client offers only x25519, the server accepts only secp256r1: there is no overlap, so the handshake must
    not complete (RFC 9846 section 4.2.1: the server aborts with handshake_failure or insufficient_security). Added
    by the mutation sweep (docs/mutation-sweep.md): an engine that ignored SSL_CTX_set1_groups_list passed every
    other case."""
    h.need("tls1_3")
    h.need("group_selection")
    pinned = {"min_version": "TLSv1.3", "max_version": "TLSv1.3"}
    pair = h.pair(client=lambda c: c.with_(groups=("x25519",), **pinned),
                  server=lambda c: c.with_(groups=("secp256r1",), **pinned))  # fmt: skip
    result = pair.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake())
    done = [side for side in (result.client, result.server) if side is not None and side.ok]
    assert len(done) < 2, "both handshakes completed although client and server share no group"
