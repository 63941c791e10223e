"""Received operation bodies must be canonical, and what this device encodes always is.

`encode_body` writes bodies with msgpack (map keys sorted); `decode` reads them with
ormsgpack and re-encodes them with sorted keys, which must give the same bytes. So the
two libraries must agree byte for byte on every value a body can hold: checked here
over random values, and every way of spelling the same value differently is refused.
"""

from __future__ import annotations

from typing import Any

import msgpack
import ormsgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.ops import GENESIS, MalformedOperation, canonical, decode, encode_body

SIG = bytes(64)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=300),
    st.binary(max_size=300),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=20) | st.dictionaries(st.text(max_size=20), inner, max_size=20),
    max_leaves=60,
)


@given(value=values)
def test_ormsgpack_with_sorted_keys_encodes_exactly_as_msgpack_of_the_canonical_value(value: Any) -> None:
    assert ormsgpack.packb(value, option=ormsgpack.OPT_SORT_KEYS) == msgpack.packb(
        canonical(value), use_bin_type=True
    )


@given(payload=st.dictionaries(st.text(max_size=20), values, max_size=10))
def test_every_body_this_device_encodes_decodes_to_what_was_encoded(payload: dict[str, Any]) -> None:
    body = encode_body("站", "author", 7, 3, GENESIS, 12345 << 16, "note.add", "case", payload)
    op = decode(body, SIG)
    assert op.payload == canonical(payload) and op.body == body
    assert (op.station, op.author, op.epoch, op.seq, op.kind, op.entity) == (
        "站",
        "author",
        7,
        3,
        "note.add",
        "case",
    )


def _body(*, payload: bytes = b"\x80", version: bytes = b"\x01", epoch: bytes = b"\x07") -> bytes:
    """A body spelled byte by byte: 10 fields, the given spellings of some of them."""
    head = b"\x9a" + version + msgpack.packb("st") + msgpack.packb("author") + epoch + b"\x03"
    return (
        head
        + msgpack.packb(GENESIS, use_bin_type=True)
        + b"\x05"
        + msgpack.packb("k")
        + msgpack.packb("e")
        + payload
    )


def test_the_hand_spelled_body_is_canonical() -> None:
    assert decode(_body(), SIG).epoch == 7


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_body(epoch=b"\xcc\x07"), "canonical"),  # 7 as uint8: not the shortest encoding
        (_body(payload=b"\x81\xd9\x01a\x01"), "canonical"),  # key "a" as str8, not fixstr
        (_body(payload=b"\x82\xa1b\x01\xa1a\x02"), "canonical"),  # keys out of order
        (_body(payload=b"\x82\xa1a\x01\xa1a\x02"), "canonical"),  # a repeated key
        (_body() + b"\xc0", "canonical"),  # something after the body
        (_body(payload=b"\x81\x01\x02"), "not valid msgpack"),  # a map key that is not text
        (_body(payload=b"\xd6\xff\x00\x00\x00\x01"), "not valid msgpack"),  # the timestamp extension
        (_body(version=b"\xc3"), "unknown operation version"),  # true for the version
        (_body(epoch=b"\xc3"), "wrong type"),  # true for the epoch
        (b"\x9a" + b"\x91" * 60_000, "not valid msgpack"),  # nested past any sane depth
        (b"\xdd\xff\xff\xff\xff", "not valid msgpack"),  # an array claiming 4 billion items
    ],
    ids=[
        "long-int",
        "long-str",
        "unsorted",
        "repeated-key",
        "trailing",
        "int-key",
        "timestamp-ext",
        "bool-version",
        "bool-epoch",
        "deep",
        "huge-array",
    ],
)
def test_every_other_spelling_is_refused(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedOperation, match=reason):
        decode(body, SIG)
