"""Presentation-language primitives (RFC 9846 section 3): exact round trips, and every short read, out-of-range
vector length or leftover byte is a decode_error alert raised by us."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.tls import AlertDescription, TLSAlertError
from engine.tls.wire import Reader, opaque8, opaque16, opaque24, pack_u16s, u8, u16, u24, u32


def _decode_error(action: object) -> TLSAlertError:
    assert callable(action)
    with pytest.raises(TLSAlertError) as info:
        action()
    assert info.value.alert == AlertDescription.decode_error and info.value.sent_by_us, info.value
    return info.value


# -- integers (RFC 9846 section 3.3: network byte order) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("write", "read", "value", "wire"),
    [
        (u8, Reader.uint8, 0xAB, b"\xab"),
        (u16, Reader.uint16, 0x0304, b"\x03\x04"),
        (u24, Reader.uint24, 0x010203, b"\x01\x02\x03"),
        (u32, Reader.uint32, 0xDEADBEEF, b"\xde\xad\xbe\xef"),
    ],
)
def test_integers_are_big_endian_and_round_trip(
    write: Callable[[int], bytes], read: Callable[[Reader], int], value: int, wire: bytes
) -> None:
    assert write(value) == wire
    r = Reader(wire)
    assert read(r) == value
    assert r.eof() and r.remaining == 0
    r.done()


@pytest.mark.parametrize("read", [Reader.uint8, Reader.uint16, Reader.uint24, Reader.uint32])
def test_integer_past_the_end_is_decode_error(read: Callable[[Reader], int]) -> None:
    _decode_error(lambda: read(Reader(b"")))


def test_short_integer_is_decode_error() -> None:
    _decode_error(lambda: Reader(b"\x01\x02\x03").uint32())


@pytest.mark.parametrize(
    "data",
    [b"\x00\x04\x13\x01\x13\x02", b"\x00\x00", b"\x00\x03\x13\x01\x13", b"\x00\x06\x13\x01", b"\x00", b"\x00\x02\x13"],
)
def test_uint16_vector_reads_as_the_item_by_item_vector(data: bytes) -> None:
    # the one-unpack read of suites, groups and schemes: the same values, and the same decode_error where the
    # item-by-item vector fails (odd length: a truncated last item; a block past the end)
    def slow() -> list[int]:
        return Reader(data).vector(2, Reader.uint16)

    try:
        expected: list[int] | None = slow()
    except TLSAlertError:
        expected = None
    if expected is None:
        _decode_error(lambda: Reader(data).uint16_vector(2))
    else:
        assert Reader(data).uint16_vector(2) == expected
    _decode_error(lambda: Reader(b"\x00\x02\x13\x01").uint16_vector(2, minimum=4))


def test_pack_u16s_is_u16_per_value() -> None:
    assert pack_u16s([0x1301, 0x1302, 0]) == u16(0x1301) + u16(0x1302) + u16(0)
    assert pack_u16s(list(range(100))) == b"".join(u16(v) for v in range(100))
    with pytest.raises(OverflowError):
        pack_u16s([1, 1 << 16])


def test_integer_writers_refuse_values_that_do_not_fit() -> None:
    with pytest.raises(OverflowError):
        u8(256)
    with pytest.raises(OverflowError):
        u24(1 << 24)


# -- variable-length vectors (RFC 9846 section 3.4) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("write", "size", "payload"),
    [
        (write, size, payload)
        for write, size in [(opaque8, 1), (opaque16, 2), (opaque24, 3)]
        for payload in [b"", b"x", bytes(range(255)) if size == 1 else bytes(range(256)) * 300]
        if len(payload) < 256**size
    ],
)
def test_opaque_round_trip_is_exact(write: Callable[[bytes], bytes], size: int, payload: bytes) -> None:
    wire = write(payload)
    assert wire == len(payload).to_bytes(size, "big") + payload
    r = Reader(wire + b"tail")
    assert r.opaque(size) == payload
    assert r.rest() == b"tail"
    r.done()


def test_opaque_exact_bytes() -> None:
    assert opaque8(b"ab") == b"\x02ab"
    assert opaque16(b"abc") == b"\x00\x03abc"
    assert opaque24(b"") == b"\x00\x00\x00"


@pytest.mark.parametrize("size", [1, 2, 3])
def test_opaque_length_beyond_data_is_decode_error(size: int) -> None:
    wire = (5).to_bytes(size, "big") + b"abcd"  # claims 5, carries 4
    _decode_error(lambda: Reader(wire).opaque(size))


def test_truncated_length_prefix_is_decode_error() -> None:
    _decode_error(lambda: Reader(b"\x00").opaque(2))


def test_opaque_length_outside_declared_range_is_decode_error() -> None:
    # opaque x<2..4>
    assert Reader(opaque8(b"ab")).opaque(1, 2, 4) == b"ab"
    assert Reader(opaque8(b"abcd")).opaque(1, 2, 4) == b"abcd"
    _decode_error(lambda: Reader(opaque8(b"a")).opaque(1, 2, 4))
    _decode_error(lambda: Reader(opaque8(b"abcde")).opaque(1, 2, 4))


def test_vector_of_items_round_trip() -> None:
    values = [0x1301, 0x1302, 0x1303]
    wire = opaque16(b"".join(u16(v) for v in values))
    r = Reader(wire)
    assert r.vector(2, Reader.uint16) == values
    r.done()


def test_vector_with_half_an_item_left_over_is_decode_error() -> None:
    # a 2-byte-item vector whose length is odd: the last item would read past the block
    wire = opaque16(b"\x13\x01\x13")
    _decode_error(lambda: Reader(wire).vector(2, Reader.uint16))


def test_vector_item_cannot_read_past_its_block() -> None:
    # the block holds 1 byte, but the item reader wants 2; the bytes after the block must not be used
    wire = opaque8(b"\x13") + b"\x01"
    _decode_error(lambda: Reader(wire).vector(1, Reader.uint16))


def test_vector_below_minimum_is_decode_error() -> None:
    _decode_error(lambda: Reader(opaque16(b"")).vector(2, Reader.uint16, minimum=2))


def test_block_must_be_consumed_exactly() -> None:
    r = Reader(opaque16(b"\x00\x01extra") + b"after")
    with pytest.raises(TLSAlertError) as info, r.block(2) as sub:
        assert sub.uint16() == 1
    assert info.value.alert == AlertDescription.decode_error


def test_block_consumed_exactly_leaves_the_outer_reader_after_it() -> None:
    r = Reader(opaque8(b"\x07\x08") + b"\x09")
    with r.block(1) as sub:
        assert sub.raw(2) == b"\x07\x08"
    assert r.uint8() == 9
    r.done()


def test_block_longer_than_data_is_decode_error() -> None:
    def read() -> None:
        with Reader(b"\x00\x09abc").block(2):
            pass

    _decode_error(read)


# -- whole messages ----------------------------------------------------------------------------------------------


def test_leftover_bytes_after_a_message_are_decode_error() -> None:
    r = Reader(b"\x01\x02")
    r.uint8()
    assert r.remaining == 1 and not r.eof()
    _decode_error(r.done)


def test_raw_and_rest_return_exact_bytes() -> None:
    r = Reader(b"abcdef")
    assert r.raw(2) == b"ab"
    assert r.remaining == 4
    assert r.rest() == b"cdef"
    assert r.eof()
    _decode_error(lambda: r.raw(1))


def test_reader_window_does_not_see_outside_bytes() -> None:
    r = Reader(b"XXabcYY", pos=2, end=5)
    assert r.rest() == b"abc"
    _decode_error(r.uint8)
