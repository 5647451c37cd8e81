"""ALPN codec helpers (engine/tls/alpn.py, RFC 7301).

Oracles: tlslite-ng's ALPNExtension (its own encoder and parser) and real OpenSSL through the standard library's
``ssl`` module, whose ClientHello and TLS 1.2 ServerHello carry the extension in the clear.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st
from tls13_testlib import PKI

from engine.tls.alerts import AlertDescription, TLSAlertError
from engine.tls.alpn import (
    decode_client_extension,
    decode_server_extension,
    encode_extension,
    encode_protocol_names,
    negotiate,
    parse_protocol_names,
    select,
)

tlslite_extensions = pytest.importorskip("tlslite.extensions")
tlslite_codec = pytest.importorskip("tlslite.utils.codec")

ALPN = 16  # ExtensionType.application_layer_protocol_negotiation
names = st.lists(st.binary(min_size=1, max_size=255), min_size=1, max_size=8)


def _alert(fn: object) -> AlertDescription | int:
    assert callable(fn)
    with pytest.raises(TLSAlertError) as info:
        fn()
    return info.value.alert


def test_known_bytes() -> None:
    # "h2" and "http/1.1" (IANA ALPN protocol IDs), each with a 1-byte length, in a 2-byte-length list
    assert encode_extension([b"h2", b"http/1.1"]) == bytes.fromhex("000c02683208687474702f312e31")
    assert encode_protocol_names([b"h2", b"http/1.1"]) == bytes.fromhex("02683208687474702f312e31")
    assert decode_client_extension(bytes.fromhex("000c02683208687474702f312e31")) == [b"h2", b"http/1.1"]


@settings(max_examples=60, deadline=None)
@given(protocols=names)
def test_matches_tlslite_both_ways(protocols: list[bytes]) -> None:
    theirs = tlslite_extensions.ALPNExtension().create([bytearray(p) for p in protocols])
    assert encode_extension(protocols) == bytes(theirs.extData)
    parsed = tlslite_extensions.ALPNExtension().parse(tlslite_codec.Parser(bytearray(encode_extension(protocols))))
    assert [bytes(p) for p in parsed.protocol_names] == protocols
    assert decode_client_extension(bytes(theirs.extData)) == protocols
    assert parse_protocol_names(encode_protocol_names(protocols)) == protocols


@settings(max_examples=300, deadline=None)
@given(body=st.integers(0, 40).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_peer_garbage_is_decode_error_or_a_valid_list(body: bytes) -> None:
    try:
        protocols = decode_client_extension(body)
    except TLSAlertError as exc:
        assert exc.alert == AlertDescription.decode_error
    else:
        assert protocols and all(protocols)
        assert encode_extension(protocols) == body  # only a canonical encoding decodes


@pytest.mark.parametrize(
    "body",
    [
        b"",  # no list length
        b"\x00\x00",  # empty list (minimum is 2 bytes)
        b"\x00\x01\x00",  # an empty protocol name
        b"\x00\x03\x02h2\x00",  # trailing byte after the list
        b"\x00\x04\x02h2",  # list length past the end
        b"\x00\x03\x03h2",  # name length past the list
        b"\x00\x02\x00\x00",  # empty names
    ],
)
def test_malformed_client_lists_are_decode_error(body: bytes) -> None:
    assert _alert(lambda: decode_client_extension(body)) == AlertDescription.decode_error


def test_server_answer_names_exactly_one_offered_protocol() -> None:
    assert decode_server_extension(encode_extension([b"h2"])) == b"h2"
    assert decode_server_extension(encode_extension([b"h2"]), offered=[b"http/1.1", b"h2"]) == b"h2"
    two = encode_extension([b"h2", b"http/1.1"])
    assert _alert(lambda: decode_server_extension(two)) == AlertDescription.decode_error
    not_offered = encode_extension([b"spdy/3"])
    assert _alert(lambda: decode_server_extension(not_offered, offered=[b"h2"])) == AlertDescription.illegal_parameter
    assert _alert(lambda: decode_server_extension(b"\x00\x00")) == AlertDescription.decode_error


def test_server_preference_wins() -> None:
    # RFC 7301 section 3.2: the server picks by its own preference among what the client offers
    assert select([b"http/1.1", b"h2"], [b"h2", b"http/1.1"]) == b"http/1.1"
    assert select([b"h3"], [b"h2"]) is None
    assert negotiate([b"h2"], [b"x", b"h2"]) == b"h2"
    assert _alert(lambda: negotiate([b"h3"], [b"h2"])) == AlertDescription.no_application_protocol


@pytest.mark.parametrize(
    "bad",
    [[], [b""], [b"x" * 256], ["h2"], [b"x" * 255] * 258],
    ids=["empty-list", "empty-name", "long-name", "str-name", "list-too-long"],
)
def test_local_mistakes_are_value_errors(bad: list[bytes]) -> None:
    with pytest.raises(ValueError):
        encode_extension(bad)


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x03h2", b"\x02h2\x00", b"\x02h2\x05abc"])
def test_malformed_bare_lists_are_value_errors(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_protocol_names(data)


# -- real OpenSSL ------------------------------------------------------------------------------------------------


def _extensions(hello: bytes, server: bool) -> dict[int, bytes]:
    """Extensions of a ClientHello / ServerHello handshake message (4-byte header included)."""
    pos = 4 + 2 + 32
    pos += 1 + hello[pos]  # session id
    if server:
        pos += 2 + 1
    else:
        pos += 2 + int.from_bytes(hello[pos : pos + 2], "big")  # cipher suites
        pos += 1 + hello[pos]  # compression methods
    end = pos + 2 + int.from_bytes(hello[pos : pos + 2], "big")
    pos += 2
    out = {}
    while pos < end:
        ext, n = int.from_bytes(hello[pos : pos + 2], "big"), int.from_bytes(hello[pos + 2 : pos + 4], "big")
        out[ext] = hello[pos + 4 : pos + 4 + n]
        pos += 4 + n
    return out


def test_openssl_offer_and_choice_decode(pki: PKI, tmp_path: Path) -> None:
    crt, key = tmp_path / "s.crt", tmp_path / "s.key"
    crt.write_bytes(pki.server.cert.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        pki.server.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(crt), str(key))
    server_ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # the answer is in the clear in a 1.2 ServerHello
    server_ctx.set_alpn_protocols(["http/1.1", "h2"])
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    client_ctx.set_alpn_protocols(["h2", "spdy/3", "http/1.1"])
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    client_hello = c_out.read()
    s_in.write(client_hello)
    with pytest.raises(ssl.SSLWantReadError):
        server.do_handshake()
    server_flight = s_out.read()
    offer = decode_client_extension(_extensions(client_hello[5:], server=False)[ALPN])
    assert offer == [b"h2", b"spdy/3", b"http/1.1"]
    chosen = decode_server_extension(_extensions(server_flight[5:], server=True)[ALPN], offered=offer)
    # OpenSSL's server picks by its own preference too
    assert chosen == b"http/1.1" == select([b"http/1.1", b"h2"], offer)


# -- wired into both roles of TLS 1.3 and TLS 1.2 (engine/tls/{client,server}1{2,3}.py) ---------------------------

from tls13_testlib import pair, pump  # noqa: E402

from engine.tls import HandshakeComplete, TLSConnection  # noqa: E402

VERSIONS = pytest.mark.parametrize("versions", [(0x0304,), (0x0303,)], ids=["tls13", "tls12"])


def _completions(*conns: TLSConnection) -> list[HandshakeComplete]:
    return [e for c in conns for e in c.events() if isinstance(e, HandshakeComplete)]


@VERSIONS
def test_server_preference_decides_on_the_wire(pki: PKI, versions: tuple[int, ...]) -> None:
    c, s = pair(pki, {"alpn_protocols": (b"http/1.1", b"h2"), "supported_versions": versions},
                {"alpn_protocols": (b"h2", b"http/1.1"), "supported_versions": versions})
    pump(c, s)
    done = _completions(c, s)
    assert [d.alpn_protocol for d in done] == [b"h2", b"h2"] and {d.version for d in done} == {versions[0]}


@VERSIONS
def test_selector_sees_the_offer_and_may_decline(pki: PKI, versions: tuple[int, ...]) -> None:
    seen: list[list[bytes]] = []

    def decline(offer: list[bytes]) -> bytes | None:
        seen.append(offer)
        return None

    c, s = pair(pki, {"alpn_protocols": (b"a", b"bb"), "supported_versions": versions},
                {"alpn_select": decline, "alpn_protocols": (b"a",), "supported_versions": versions})
    pump(c, s)
    assert seen == [[b"a", b"bb"]]
    assert [d.alpn_protocol for d in _completions(c, s)] == [None, None]


@VERSIONS
def test_selector_choice_and_fatal_refusal(pki: PKI, versions: tuple[int, ...]) -> None:
    c, s = pair(pki, {"alpn_protocols": (b"a", b"bb"), "supported_versions": versions},
                {"alpn_select": lambda offer: offer[-1], "supported_versions": versions})
    pump(c, s)
    assert [d.alpn_protocol for d in _completions(c, s)] == [b"bb", b"bb"]

    def refuse(offer: list[bytes]) -> bytes | None:
        raise TLSAlertError(AlertDescription.no_application_protocol, "none of these")

    c, s = pair(pki, {"alpn_protocols": (b"a",), "supported_versions": versions},
                {"alpn_select": refuse, "supported_versions": versions})
    with pytest.raises(TLSAlertError):
        pump(c, s)
    assert s.error is not None and s.error.alert == AlertDescription.no_application_protocol and s.error.sent_by_us
    with pytest.raises(TLSAlertError) as seen:
        c.receive_bytes(s.data_to_send())
    assert seen.value.alert == AlertDescription.no_application_protocol and not seen.value.sent_by_us


@VERSIONS
def test_client_refuses_a_protocol_it_did_not_offer(pki: PKI, versions: tuple[int, ...]) -> None:
    c, s = pair(pki, {"alpn_protocols": (b"a",), "supported_versions": versions},
                {"alpn_select": lambda offer: b"zz", "supported_versions": versions})
    with pytest.raises(TLSAlertError):
        pump(c, s)
    assert c.error is not None and c.error.alert == AlertDescription.illegal_parameter and c.error.sent_by_us
