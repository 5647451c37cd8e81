"""SSL_CTX_set_options.pod: SSL_OP_TLSEXT_PADDING (and SSL_OP_ALL, which includes it) on a client, at the C-API
tier: the length of the ClientHello read from the client's first bytes."""

from __future__ import annotations

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness, NotApplicable
from conformance.outcome import Role
from specs.cases._ssl_objects import WANT, Mem, error
from specs.cases._wire import records

pytestmark = pytest.mark.needs("c_api", "client_role")

HANDSHAKE = 22
# a long SNI host name brings the ClientHellos of the stacks here (about 240-330 bytes) into 256..511
LONG_NAME = b"padding-" + b"a" * 56 + b".test"


def _client_hello(h: Harness, options: int) -> bytes:
    api = h.capi
    client = Mem(h, Role.CLIENT)
    assert api.SSL_set_tlsext_host_name(client.ssl, LONG_NAME) == 1
    if options:
        api.SSL_set_options(client.ssl, options)
    ret = api.SSL_do_handshake(client.ssl)
    assert error(api, client.ssl, ret) in WANT, f"client SSL_do_handshake -> {ret}"
    body = b"".join(r.body for r in records(client.take()) if r.type == HANDSHAKE)
    assert body[:1] == b"\x01", "the first handshake message is not a ClientHello"
    return body[:4 + int.from_bytes(body[1:4], "big")]


@pytest.mark.clauses("SSL_CTX_set_options/NOTES/tlsext-padding")
@pytest.mark.parametrize("option", ["SSL_OP_TLSEXT_PADDING", "SSL_OP_ALL"])
def test_padding_keeps_the_client_hello_out_of_256_to_511(h: Harness, option: str) -> None:
    """A client naming a long host name (SNI) so that its ClientHello without options is between 256 and 511 bytes
    long (else the case cannot show anything): with the option set the ClientHello is not."""
    plain = _client_hello(h, 0)
    padded = _client_hello(h, getattr(K, option))
    h.trace.note(f"ClientHello: {len(plain)} bytes without options, {len(padded)} bytes with {option}")
    # the length hangs on the host name being sent: a client that dropped it would make the case not applicable
    assert LONG_NAME in plain and LONG_NAME in padded, (
        "SSL_set_tlsext_host_name returned 1 but the ClientHello does not carry the host name (no SNI)")
    # the page's rule holds whatever the length without the option, so it is checked first (review16: a client that
    # padded only WITHOUT the option was not applicable here, its unpadded hello never judged)
    assert not 256 <= len(padded) < 512, f"with {option} the ClientHello is still {len(padded)} bytes long"
    if not 256 <= len(plain) < 512:
        raise NotApplicable(f"this stack's ClientHello is {len(plain)} bytes long without options, outside "
                            "256..511, so padding has nothing to change")
