"""The extension block reader (``Reader.extension_list``, used by every message's extensions): the same results and
errors as reading it item by item, for every way the block can be cut or overrun."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.tls.alerts import AlertDescription, TLSAlertError
from engine.tls.messages import EncryptedExtensions, push_extensions
from engine.tls.wire import Reader


def _item_by_item(data: bytes) -> list[tuple[int, bytes]]:
    """The reference: a vector of (uint16 type, opaque<2>) items."""
    return Reader(data).vector(2, lambda r: (r.uint16(), r.opaque(2)))


def _outcome(read: object, data: bytes) -> object:
    try:
        return read(data)  # type: ignore[operator]
    except TLSAlertError as exc:
        return exc.alert, str(exc)


@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=20)), max_size=6), st.data())
def test_same_as_item_by_item(exts: list[tuple[int, bytes]], data: st.DataObject) -> None:
    block = push_extensions(exts)
    assert Reader(block).extension_list() == exts
    # every cut of the block body with its length prefix rewritten, and every cut of the whole block
    cut = data.draw(st.integers(0, len(block) - 2))
    body = block[2 : 2 + cut]
    relabelled = len(body).to_bytes(2, "big") + body
    assert _outcome(lambda d: Reader(d).extension_list(), relabelled) == _outcome(_item_by_item, relabelled)
    short = block[: 2 + cut]
    assert _outcome(lambda d: Reader(d).extension_list(), short) == _outcome(_item_by_item, short)


@pytest.mark.parametrize("body", [
    b"\x00",  # one byte of a type
    b"\x00\x10\x00",  # a type and one byte of a length
    b"\x00\x10\x00\x05abc",  # a body longer than the block
])  # fmt: skip
def test_cut_item_is_decode_error(body: bytes) -> None:
    with pytest.raises(TLSAlertError) as info:
        Reader(len(body).to_bytes(2, "big") + body).extension_list()
    assert info.value.alert == AlertDescription.decode_error
    assert str(info.value).endswith("message truncated")


def test_repeated_type_after_others_is_illegal_parameter() -> None:
    ee = EncryptedExtensions([(1, b""), (2, b"x"), (1, b"y")]).build_body()
    with pytest.raises(TLSAlertError) as info:
        EncryptedExtensions.parse(ee)
    assert info.value.alert == AlertDescription.illegal_parameter
