"""The frame codec of `sync.frames`: round trips, limits, and arbitrary bytes.

The fuzzing decodes with the limits the enrolment protocol uses (`sync.enrol.LIMITS`);
how the enrolment server copes with hostile frames is in tests/test_enrol.py.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.enrol import LIMITS
from sync.frames import FrameError, FrameLimits, decode_body, encode_frame, read_frame


@pytest.mark.timeout(30)
def test_frames_round_trip_and_limits() -> None:
    async def scenario() -> None:
        reader = asyncio.StreamReader()
        reader.feed_data(encode_frame({"t": "x", "b": b"\x00" * 10, "n": [1, {"k": None}]}))
        assert await read_frame(reader, 1) == {"t": "x", "b": b"\x00" * 10, "n": [1, {"k": None}]}
        with pytest.raises(FrameError, match="timed out waiting for the peer"):
            await read_frame(reader, 0.05)
        reader.feed_data(struct.pack(">I", 2000) + b"\x80")
        with pytest.raises(FrameError, match="frame of 2000 bytes exceeds the limit of 1000"):
            await read_frame(reader, 1, FrameLimits(max_bytes=1000))
        reader.feed_eof()  # the rest of that frame, then nothing
        with pytest.raises(FrameError, match="connection closed mid-frame"):
            await read_frame(reader, 1)
        closed = asyncio.StreamReader()
        closed.feed_eof()
        with pytest.raises(FrameError, match="the peer closed the connection"):
            await read_frame(closed, 1)

    asyncio.run(asyncio.wait_for(scenario(), 30))
    with pytest.raises(FrameError, match="exceeds the limit"):
        encode_frame({"b": b"x" * 2000}, max_bytes=1000)
    deep: Any = 1
    for _ in range(20):
        deep = [deep]
    with pytest.raises(FrameError, match="nests deeper than 16 levels"):
        decode_body(msgpack.packb({"a": deep}))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decode_body_fuzz(data: bytes) -> None:
    """Any bytes decode to a string-keyed map or fail with FrameError; nothing else escapes."""
    try:
        value = decode_body(data, LIMITS)
    except FrameError as exc:
        assert exc.reason
    else:
        assert isinstance(value, dict) and all(isinstance(k, str) for k in value)
