"""Enrolment under abuse: abandoned, silent, concurrent and crowding connections, on loopback.

Only a wrong proof of the code (a `confirm` frame) is a guess, and three burn the code;
an exchange that ends before its proof tests nothing and is not counted; a connection
that holds still does not keep the real joiner out (`sync.enrol`, `sync.enrol_gate`).
Attackers connect from other loopback addresses (127.0.0.2 and up) than the joiner
(127.0.0.1), as hosts on a LAN would. The servers here run with a 30 s step timeout
unless the test is about that timeout, so a joiner getting through shows the station
serving side by side, not a timeout freeing it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from spake2 import SPAKE2_A

from sync.enrol import ID_JOINER, ID_STATION, LIMITS, Connection, EnrolServer, _Keys, _keys, enrol_join
from sync.enrol_codes import WORDS, EnrolError, parse_code
from sync.enrol_gate import BUSY_FROM_ADDRESS, RATE_FROM_ADDRESS, STATION_BUSY, Gate, source
from sync.frames import FrameError, read_frame, write_frame

HOST = "127.0.0.1"
CERT = [b"body", b"signature", b"x509"]
ANCHOR = {"station_id": "st-test"}
NOT_COUNTED = "not counted as an attempt"
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass
class Station:
    """An enrolment server on loopback that records what it certified and what it reported."""

    server: EnrolServer = field(init=False)
    issued: list[bytes] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def issue(self, device_key: bytes, officer: str, role: str) -> tuple[list[bytes], dict[str, Any]]:
        """Certify (a fixed certificate: the protocol is what is under test here)."""
        self.issued.append(device_key)
        return CERT, ANCHOR

    async def join(self, code: str | None = None, timeout: float = 5.0) -> bytes:
        """The real joiner (from 127.0.0.1) enrols; returns its key."""
        key = os.urandom(32)
        got = await enrol_join(HOST, self.server.port, code or self.code, key, "Officer Test", timeout)
        assert got == (CERT, ANCHOR)
        return key

    @property
    def code(self) -> str:
        """The code on offer."""
        assert self.server.current is not None
        return self.server.current.code

    def kinds(self) -> list[str]:
        """The kinds of event the server reported."""
        return [kind for kind, _ in self.events]


def scenario(test: Callable[[Station], Awaitable[None]], **options: Any) -> Station:
    """Run `test` against a started server (options passed to it); return the station."""

    async def main() -> Station:
        station = Station()
        options.setdefault("io_timeout", 30.0)
        options.setdefault("stop_when_burned", False)
        on_event = lambda kind, data: station.events.append((kind, data))  # noqa: E731
        station.server = EnrolServer(station.issue, host=HOST, on_event=on_event, **options)
        await station.server.start()
        try:
            await test(station)
        finally:
            await station.server.close()
        return station

    return asyncio.run(asyncio.wait_for(main(), 40))


async def connect(station: Station, address: str) -> Stream:
    """A TCP connection to the station from `address` (a loopback address)."""
    opening = asyncio.open_connection(HOST, station.server.port, local_addr=(address, 0))
    return await asyncio.wait_for(opening, 5)


@dataclass
class Exchange:
    """An attacker's exchange that got the station's SPAKE2 answer."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    keys: _Keys


async def send_hello(writer: asyncio.StreamWriter, code: str) -> tuple[SPAKE2_A, bytes]:
    nameplate, password = parse_code(code)
    spake = SPAKE2_A(password.encode(), idA=ID_JOINER, idB=ID_STATION)
    msg_a = spake.start()
    await write_frame(writer, {"t": "hello", "v": 1, "nameplate": nameplate, "spake": msg_a})
    return spake, msg_a


async def exchange(station: Station, address: str, code: str) -> Exchange:
    """hello with `code`, up to the station's SPAKE2 message (and nothing more)."""
    reader, writer = await connect(station, address)
    spake, msg_a = await send_hello(writer, code)
    answer = await read_frame(reader, 5, LIMITS)
    assert set(answer) == {"t", "spake"} and answer["t"] == "spake", answer
    msg_b = answer["spake"]
    return Exchange(reader, writer, _keys(spake.finish(msg_b), parse_code(code)[0], msg_a, msg_b))


async def prove(ex: Exchange) -> dict[str, Any]:
    """Send the proof this exchange's code gives; the station's verdict."""
    await write_frame(ex.writer, {"t": "confirm", "mac": ex.keys.joiner_mac})
    return await read_frame(ex.reader, 5, LIMITS)


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> list[dict[str, Any]]:
    """Stop sending; every frame the station sends until it closes (so it is done with us)."""
    writer.write_eof()
    return await rest(reader, writer)


async def rest(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> list[dict[str, Any]]:
    """Frames until the station closes the connection."""
    frames: list[dict[str, Any]] = []
    try:
        while True:
            frames.append(await read_frame(reader, 5, LIMITS))
    except FrameError as exc:
        assert exc.reason == "the peer closed the connection", exc.reason
    writer.close()
    return frames


def wrong_codes(code: str, n: int) -> list[str]:
    """`n` distinct codes with the same number and other words."""
    nameplate, first, second = code.split("-")
    return [f"{nameplate}-{w}-{second}" for w in WORDS if w != first][:n]


async def still_open(reader: asyncio.StreamReader) -> bool:
    """The station has neither closed this connection nor written to it."""
    await asyncio.sleep(0)  # let anything already on its way arrive
    return not reader.at_eof() and not reader._buffer  # noqa: SLF001 (asyncio keeps no public peek)


# ----------------------------------------------------------------- abandoned exchanges


@pytest.mark.timeout(60)
def test_many_abandoned_exchanges_do_not_burn_the_code() -> None:
    """Twelve exchanges left before their proof, from twelve addresses; the real joiner then enrols."""

    async def test(station: Station) -> None:
        code = station.code
        guesses = wrong_codes(code, 9)
        for i in range(12):
            address, guess = f"127.0.0.{10 + i}", (code if i % 4 == 3 else guesses.pop())
            if i % 4 == 0:  # the hello, and gone before the answer
                reader, writer = await connect(station, address)
                await send_hello(writer, guess)
                frames = await hang_up(reader, writer)
                assert [f["t"] for f in frames] == ["spake", "error"]
            else:  # gone after the answer; or something else than a proof; or holding the right code
                ex = await exchange(station, address, guess)
                if i % 4 == 2:
                    await write_frame(ex.writer, {"t": "request", "box": b"\x00" * 40})
                frames = await hang_up(ex.reader, ex.writer)
                assert [f["t"] for f in frames] == ["error"]
            assert NOT_COUNTED in frames[-1]["message"], frames[-1]
        assert station.server.current is not None and station.server.current.failures == 0
        assert station.server.connections == 0
        key = await station.join(code)
        assert station.issued == [key]

    station = scenario(test)
    assert station.kinds().count("dropped") == 12
    assert "refused" not in station.kinds() and "burned" not in station.kinds()


@pytest.mark.timeout(60)
def test_a_silent_hold_does_not_block_the_real_joiner() -> None:
    """One connection says nothing, one stops after the station's answer; the joiner enrols meanwhile."""

    async def test(station: Station) -> None:
        code = station.code
        mute = await connect(station, "127.0.0.2")
        holder = await exchange(station, "127.0.0.3", wrong_codes(code, 1)[0])
        key = await station.join(code, timeout=5)
        assert len(await station.server.wait(1)) == 1
        assert station.issued == [key]
        assert await still_open(mute[0]) and await still_open(holder.reader)
        assert station.server.connections == 2  # both still held, neither counted
        assert station.server.slots[parse_code(code)[0]].failures == 0
        mute[1].close()
        holder.writer.close()

    scenario(test)


@pytest.mark.timeout(60)
def test_a_silent_hold_is_dropped_after_a_short_step_and_not_counted() -> None:
    async def test(station: Station) -> None:
        code = station.code
        mute = await connect(station, "127.0.0.2")
        holder = await exchange(station, "127.0.0.3", wrong_codes(code, 1)[0])
        dropped = await asyncio.gather(rest(*mute), rest(holder.reader, holder.writer))
        timed_out = "timed out waiting for the peer"
        assert dropped == [
            [{"t": "error", "message": timed_out}],
            [{"t": "error", "message": f"{timed_out} before the device proved the code ({NOT_COUNTED})"}],
        ]
        assert station.server.connections == 0
        assert station.server.slots[parse_code(code)[0]].failures == 0
        await station.join(code)

    scenario(test, io_timeout=0.3)


# ----------------------------------------------------------------- the guessing bound


@pytest.mark.timeout(60)
def test_three_wrong_proofs_burn_the_code_even_sent_side_by_side() -> None:
    """Five wrong proofs at once: three are counted, two refused unchecked, then the right one too."""

    async def test(station: Station) -> None:
        code = station.code
        guesses = wrong_codes(code, 5)
        wrong = await asyncio.gather(
            *(exchange(station, f"127.0.0.{30 + i}", guess) for i, guess in enumerate(guesses))
        )
        right = await exchange(station, "127.0.0.40", code)
        verdicts = await asyncio.gather(*(prove(ex) for ex in wrong))
        assert all(v["t"] == "error" and set(v) == {"t", "message"} for v in verdicts)
        counted = [v["message"] for v in verdicts if v["message"].startswith("wrong code")]
        unchecked = [v["message"] for v in verdicts if not v["message"].startswith("wrong code")]
        assert sorted(counted) == [
            "wrong code; check it with the supervisor (1 attempt left)",
            "wrong code; check it with the supervisor (2 attempts left)",
            "wrong code; too many wrong attempts; this code is no longer valid; ask for a new one",
        ]
        too_many = "too many wrong attempts; this code is no longer valid; ask the supervisor for a new one"
        assert unchecked == [too_many] * 2
        assert station.server.slots[parse_code(code)[0]].failures == 3
        assert await prove(right) == {"t": "error", "message": too_many}  # no station proof in it
        with pytest.raises(EnrolError, match="too many wrong attempts"):
            await station.join(code)
        for ex in [*wrong, right]:
            ex.writer.close()

    station = scenario(test)
    assert station.issued == []
    assert station.kinds().count("refused") == 2 and station.kinds().count("burned") == 1


# ----------------------------------------------------------------- crowding


@pytest.mark.timeout(60)
def test_one_address_holds_a_few_connections_and_the_joiner_from_another_gets_through() -> None:
    async def test(station: Station) -> None:
        held = [await connect(station, "127.0.0.2") for _ in range(4)]
        for _ in range(2):
            reader, writer = await connect(station, "127.0.0.2")
            assert await rest(reader, writer) == [{"t": "error", "message": BUSY_FROM_ADDRESS}]
        await station.join()
        assert all([await still_open(reader) for reader, _ in held])
        for _, writer in held:
            writer.close()

    station = scenario(test)
    assert station.kinds().count("throttled") == 1  # told once, not once per connection


@pytest.mark.timeout(60)
def test_an_address_that_connects_too_often_waits_for_its_budget() -> None:
    now = [0.0]
    gate: Gate[Connection] = Gate(burst=3, rate=0.5, clock=lambda: now[0])

    async def test(station: Station) -> None:
        code = station.code
        for guess in wrong_codes(code, 3):
            ex = await exchange(station, "127.0.0.2", guess)
            await hang_up(ex.reader, ex.writer)
        reader, writer = await connect(station, "127.0.0.2")
        assert await rest(reader, writer) == [{"t": "error", "message": RATE_FROM_ADDRESS}]
        await station.join(code)  # another address is not held back
        now[0] += 2.0  # one connection's worth of budget back
        ex = await exchange(station, "127.0.0.2", station.code)
        await hang_up(ex.reader, ex.writer)
        reader, writer = await connect(station, "127.0.0.2")
        assert await rest(reader, writer) == [{"t": "error", "message": RATE_FROM_ADDRESS}]

    scenario(test, gate=gate, count=2)


@pytest.mark.timeout(60)
def test_a_full_station_closes_the_oldest_unproven_connection_for_a_new_one() -> None:
    gate: Gate[Connection] = Gate(max_connections=3)

    async def test(station: Station) -> None:
        oldest = await connect(station, "127.0.0.2")
        holder = await exchange(station, "127.0.0.3", wrong_codes(station.code, 1)[0])
        mute = await connect(station, "127.0.0.4")
        await station.join(timeout=5)
        assert await rest(*oldest) == []  # closed to make room for the joiner
        assert await still_open(holder.reader) and await still_open(mute[0])
        assert station.server.connections == 2
        holder.writer.close()
        mute[1].close()

    station = scenario(test, gate=gate)
    assert (
        "dropped",
        {"reason": "too many enrolment connections at once: the oldest unfinished one was closed"},
    ) in station.events


def test_the_gate_never_pre_empts_a_proven_connection_and_counts_ipv6_by_its_64() -> None:
    gate: Gate[str] = Gate(max_connections=2)
    assert gate.admit("a", "10.0.0.1").refusal is None
    gate.prove("a")
    assert gate.admit("b", "10.0.0.2").refusal is None
    assert gate.admit("c", "10.0.0.3").evicted == "b"
    assert gate.admit("d", "10.0.0.4").evicted == "c"
    gate.prove("d")
    assert gate.admit("e", "10.0.0.5").refusal == STATION_BUSY
    gate.release("a")
    gate.release("a")  # twice is harmless
    assert gate.admit("e", "10.0.0.5").refusal is None and len(gate) == 2
    assert source("2001:db8:1:2::1") == source("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert source("::ffff:10.0.0.7") == "10.0.0.7"
    assert source("fe80::1%eth0") == "fe80::1" != source("fe80::2")


@pytest.mark.timeout(60)
def test_closing_the_station_hangs_up_on_silent_holders_at_once(caplog: pytest.LogCaptureFixture) -> None:
    async def test(station: Station) -> None:
        mute = await connect(station, "127.0.0.2")
        holder = await exchange(station, "127.0.0.3", wrong_codes(station.code, 1)[0])
        assert station.server.connections == 2
        await station.server.close()
        assert await asyncio.gather(rest(*mute), rest(holder.reader, holder.writer)) == [[], []]
        assert station.server.connections == 0

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        station = scenario(test)
    assert caplog.records == []  # no handler task was cancelled mid-read
    assert station.kinds() == ["open"]  # closing is not reported as dropped connections
