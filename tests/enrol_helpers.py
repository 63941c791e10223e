"""Helpers shared by the enrolment tests (tests/test_enrol.py, tests/test_enrol_netns.py).

`substituting_relay` is the attacker that runs SPAKE2 with a guessed code to both
sides; tests/test_enrol_netns.py also runs it in its own process, in a third
network namespace.
"""

from __future__ import annotations

import asyncio

import msgpack
import pytest
from spake2 import SPAKE2_A, SPAKE2_B

from sync.enrol import ID_JOINER, ID_STATION, LIMITS, _keys
from sync.enrol_codes import WORDS, parse_code
from sync.frames import FrameError, read_frame, write_frame


def wrong_words(code: str) -> str:
    """The same number with other words."""
    nameplate, first, second = code.split("-")
    return f"{nameplate}-{WORDS[(WORDS.index(first) + 1) % 256]}-{second}"


async def substituting_relay(
    joiner: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    station_addr: tuple[str, int],
    guess: str,
    mode: str,
    seen: list[bytes],
) -> None:
    """An attacker between the joiner and the station, running SPAKE2 with a guessed code to both.

    mode "forward": pass the station's verdict on the attacker's guess back to the joiner;
    mode "impersonate": answer the joiner with a confirmation made from the guessed code.
    """
    reader_j, writer_j = joiner
    reader_s, writer_s = await asyncio.open_connection(*station_addr)
    try:
        hello = await read_frame(reader_j, 5, LIMITS)
        nameplate, password = parse_code(guess)
        towards_station = SPAKE2_A(password.encode(), idA=ID_JOINER, idB=ID_STATION)
        msg_a = towards_station.start()
        await write_frame(writer_s, {"t": "hello", "v": 1, "nameplate": hello["nameplate"], "spake": msg_a})
        answer = await read_frame(reader_s, 5, LIMITS)
        towards_joiner = SPAKE2_B(password.encode(), idA=ID_JOINER, idB=ID_STATION)
        msg_b = towards_joiner.start()
        await write_frame(writer_j, {"t": "spake", "spake": msg_b})
        keys_j = _keys(towards_joiner.finish(hello["spake"]), nameplate, hello["spake"], msg_b)
        keys_s = _keys(towards_station.finish(answer["spake"]), nameplate, msg_a, answer["spake"])
        seen.append(msgpack.packb(await read_frame(reader_j, 5, LIMITS)))
        await write_frame(writer_s, {"t": "confirm", "mac": keys_s.joiner_mac})
        verdict = await read_frame(reader_s, 5, LIMITS)
        if mode == "forward":
            await write_frame(writer_j, verdict)
        else:
            await write_frame(writer_j, {"t": "confirm", "mac": keys_j.station_mac})
            with pytest.raises(FrameError):  # the joiner hangs up instead of sending its key
                seen.append(msgpack.packb(await read_frame(reader_j, 5, LIMITS)))
    finally:
        writer_s.close()
        writer_j.close()
