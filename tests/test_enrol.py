"""Enrolment with a one-time code, on loopback, in one event loop, against real stores.

Covers the protocol of `sync.enrol` end to end (the supervisor's real station
authority issues, the new device really adopts) and the ways it must fail:
wrong, unknown, expired, reused and burned codes, a man in the middle with a
guessed code, hostile frames. The frame codec itself is tested in tests/test_frames.py;
the attacker's relay is in tests/enrol_helpers.py, shared with tests/test_enrol_netns.py.
"""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spake2 import SPAKE2_A

from fieldapp.core import station
from fieldapp.core.device import LOCAL_STATION
from fieldapp.core.service import CaseService, init_device
from harness import FAST_KDF, PASSPHRASE
from sync.enrol import ID_JOINER, ID_STATION, LIMITS, EnrolServer, enrol_join
from sync.enrol_codes import WORDS, EnrolError, parse_code
from sync.frames import FrameError, read_frame, write_frame
from tests.enrol_helpers import substituting_relay, wrong_words

HOST = "127.0.0.1"


@dataclass
class Devices:
    """A station authority's device, a fresh device, and what the authority issued."""

    sup: CaseService
    new: CaseService
    issued: list[tuple[bytes, str, str]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def server(self, **options: Any) -> EnrolServer:
        """An enrolment server on loopback issuing with the real station authority."""

        def issue(device_key: bytes, officer: str, role: str) -> tuple[list[bytes], dict[str, Any]]:
            self.issued.append((device_key, officer, role))
            return station.issue_certificate(self.sup, device_key, officer, role)

        options.setdefault("io_timeout", 5.0)
        return EnrolServer(issue, host=HOST, on_event=lambda k, d: self.events.append((k, d)), **options)

    async def join(self, server: EnrolServer, code: str, port: int | None = None) -> tuple[list[bytes], dict]:
        """The fresh device's side of the exchange."""
        key, officer = self.new.identity.public_key, self.new.officer
        return await enrol_join(HOST, port or server.port, code, key, officer, timeout=10)

    def assert_nothing_enrolled(self, server: EnrolServer) -> None:
        """No certificate was issued and the fresh device still belongs to no station."""
        assert self.issued == []
        assert server.enrolled == []
        assert self.new.replica.station == LOCAL_STATION
        assert station.authority(self.new) is None


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Devices]:
    """A supervisor device that is the station authority, and a freshly initialised device."""
    init_device(tmp_path / "sup", PASSPHRASE, "Supervisor Li", FAST_KDF)
    init_device(tmp_path / "new", PASSPHRASE, "Officer Wang", FAST_KDF)
    sup = CaseService.open(tmp_path / "sup", PASSPHRASE)
    new = CaseService.open(tmp_path / "new", PASSPHRASE)
    station.create_station(sup, "Chengguan")
    try:
        yield Devices(sup, new)
    finally:
        sup.close()
        new.close()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run one async scenario to completion."""
    asyncio.run(asyncio.wait_for(scenario(), 30))


# --------------------------------------------------------------- success


@pytest.mark.timeout(60)
def test_enrolment_gives_the_new_device_a_station_certificate(devices: Devices) -> None:
    async def scenario() -> None:
        server = devices.server(role="supervisor", officer="Officer Wang Wei")
        await server.start()
        try:
            cert_wire, anchor_doc = await devices.join(server, server.current.code)
            assert await server.wait(5) == server.enrolled
        finally:
            await server.close()
        cert = station.adopt_enrolment(devices.new, cert_wire, anchor_doc)
        assert cert.role == "supervisor" and cert.officer == "Officer Wang Wei"
        assert cert.device_id == devices.new.identity.device_id

    run(scenario)
    sup_station = devices.sup.replica.station
    assert devices.new.replica.station == sup_station != LOCAL_STATION
    assert devices.issued == [(devices.new.identity.public_key, "Officer Wang Wei", "supervisor")]
    assert [k for k, _ in devices.events] == ["open", "enrolled"]
    assert devices.events[1][1]["enrolled"] == devices.new.identity.device_id


@pytest.mark.timeout(60)
def test_one_wrong_code_leaves_attempts_for_the_right_one(devices: Devices) -> None:
    async def scenario() -> None:
        server = devices.server()
        await server.start()
        try:
            code = server.current.code
            with pytest.raises(EnrolError, match=r"wrong code.*2 attempts left"):
                await devices.join(server, wrong_words(code))
            assert devices.issued == []
            await devices.join(server, code)
        finally:
            await server.close()

    run(scenario)
    assert len(devices.issued) == 1 and devices.issued[0][1:] == ("Officer Wang", "officer")


# --------------------------------------------------------------- refusals


@pytest.mark.timeout(60)
def test_wrong_code_enrols_nothing(devices: Devices) -> None:
    async def scenario() -> None:
        server = devices.server()
        await server.start()
        try:
            with pytest.raises(EnrolError, match="wrong code"):
                await devices.join(server, wrong_words(server.current.code))
            assert server.current.failures == 1
        finally:
            await server.close()
        devices.assert_nothing_enrolled(server)

    run(scenario)


@pytest.mark.timeout(60)
def test_unknown_number_is_named(devices: Devices) -> None:
    async def scenario() -> None:
        server = devices.server()
        await server.start()
        try:
            nameplate, rest = server.current.code.split("-", 1)
            other = 1 + int(nameplate) % 99
            with pytest.raises(
                EnrolError, match=r"no enrolment is open under that code \(check the number\)"
            ):
                await devices.join(server, f"{other}-{rest}")
            assert server.current.failures == 0
        finally:
            await server.close()
        devices.assert_nothing_enrolled(server)

    run(scenario)


@pytest.mark.timeout(60)
def test_expired_code_is_refused(devices: Devices) -> None:
    async def scenario() -> None:
        server = devices.server(code_ttl=0.3)
        await server.start()
        try:
            code = next(data["code"] for kind, data in devices.events if kind == "open")
            # Wait for the server's own expiry (its timer), not for a span of wall-clock time.
            while "expired" not in [kind for kind, _ in devices.events]:
                await asyncio.sleep(0.01)
            with pytest.raises(EnrolError, match="this code has expired; ask the supervisor for a new one"):
                await devices.join(server, code)
        finally:
            await server.close()
        devices.assert_nothing_enrolled(server)
        assert (
            "expired",
            {"nameplate": int(code.split("-")[0]), "message": f"code {code} expired before a device used it"},
        ) in devices.events

    run(scenario)


@pytest.mark.timeout(60)
def test_reused_code_is_refused_and_the_next_code_works(devices: Devices, tmp_path: Path) -> None:
    init_device(tmp_path / "third", PASSPHRASE, "Officer Zhao", FAST_KDF)
    third = CaseService.open(tmp_path / "third", PASSPHRASE)

    async def scenario() -> None:
        server = devices.server(count=2)
        await server.start()
        try:
            first = server.current.code
            await devices.join(server, first)
            second = server.current.code
            assert second != first
            key = third.identity.public_key
            with pytest.raises(
                EnrolError, match="this code was already used; ask the supervisor for a new one"
            ):
                await enrol_join(HOST, server.port, first, key, third.officer, timeout=10)
            await enrol_join(HOST, server.port, second, key, third.officer, timeout=10)
            assert len(await server.wait(5)) == 2
        finally:
            await server.close()

    try:
        run(scenario)
    finally:
        third.close()
    assert [officer for _, officer, _ in devices.issued] == ["Officer Wang", "Officer Zhao"]
    assert [k for k, _ in devices.events].count("open") == 2


@pytest.mark.timeout(60)
def test_three_wrong_attempts_burn_the_code_even_for_the_right_one(devices: Devices) -> None:
    async def scenario() -> None:
        server = devices.server(stop_when_burned=False)
        await server.start()
        try:
            code = server.current.code
            for left in ("2 attempts left", "1 attempt left", "too many wrong attempts"):
                with pytest.raises(EnrolError, match=f"wrong code.*{left}"):
                    await devices.join(server, wrong_words(code))
            with pytest.raises(EnrolError, match="too many wrong attempts; this code is no longer valid"):
                await devices.join(server, code)
        finally:
            await server.close()
        devices.assert_nothing_enrolled(server)
        assert "burned" in [k for k, _ in devices.events]

    run(scenario)


@pytest.mark.timeout(60)
def test_a_burned_code_stops_the_server_by_default(devices: Devices) -> None:
    async def scenario() -> None:
        server = devices.server()
        await server.start()
        try:
            for _ in range(3):
                with pytest.raises(EnrolError, match="wrong code"):
                    await devices.join(server, wrong_words(server.slots[next(iter(server.slots))].code))
            with pytest.raises(
                EnrolError, match="enrolment stopped: 3 wrong attempts.*Start a new enrolment"
            ):
                await server.wait(5)
        finally:
            await server.close()
        devices.assert_nothing_enrolled(server)

    run(scenario)


# --------------------------------------------------------------- man in the middle


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("mode", "joiner_sees"),
    [("forward", "wrong code"), ("impersonate", "does not know the code.*posing as the station")],
)
def test_man_in_the_middle_with_a_guessed_code_fails_on_both_sides(
    devices: Devices, mode: str, joiner_sees: str
) -> None:
    async def scenario() -> None:
        server = devices.server()
        await server.start()
        seen: list[bytes] = []
        relay_done: list[asyncio.Task[None]] = []
        code = server.current.code
        guess = wrong_words(code)

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.ensure_future(
                substituting_relay((reader, writer), (HOST, server.port), guess, mode, seen)
            )
            relay_done.append(task)
            await task

        relay = await asyncio.start_server(accept, HOST, 0)
        try:
            relay_port = relay.sockets[0].getsockname()[1]
            with pytest.raises(EnrolError, match=joiner_sees):
                await devices.join(server, code, port=relay_port)
            await asyncio.wait_for(relay_done[0], 5)
            assert server.current.failures == 1  # the attacker's guess cost an attempt
        finally:
            relay.close()
            await server.close()
        devices.assert_nothing_enrolled(server)
        assert not any(devices.new.identity.public_key in chunk for chunk in seen)
        assert (
            "refused",
            {
                "nameplate": server.current.nameplate,
                "message": "wrong code; check it with the supervisor (2 attempts left)",
            },
        ) in devices.events

    run(scenario)


@pytest.mark.timeout(60)
def test_a_plain_relay_learns_nothing(devices: Devices) -> None:
    """Someone who forwards bytes without the code sees neither names nor keys nor the certificate."""

    async def scenario() -> tuple[bytes, tuple[list[bytes], dict]]:
        server = devices.server()
        await server.start()
        seen = bytearray()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while chunk := await src.read(4096):
                seen.extend(chunk)
                dst.write(chunk)
                await dst.drain()
            dst.close()

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_reader, up_writer = await asyncio.open_connection(HOST, server.port)
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        relay = await asyncio.start_server(accept, HOST, 0)
        try:
            got = await devices.join(server, server.current.code, port=relay.sockets[0].getsockname()[1])
        finally:
            relay.close()
            await server.close()
        return bytes(seen), got

    seen, (cert_wire, anchor_doc) = asyncio.run(scenario())
    secrets = [
        b"Officer Wang",
        b"Chengguan",
        devices.new.identity.public_key,
        cert_wire[0],
        anchor_doc["ca_key"],
    ]
    assert seen and not any(secret in seen for secret in secrets)


# --------------------------------------------------------------- hostile input


async def _raw(port: int, data: bytes) -> tuple[dict[str, Any] | None, bytes]:
    """Send raw bytes; return the server's error frame (if any) and what followed it."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(data)
    await writer.drain()
    writer.write_eof()
    try:
        reply: dict[str, Any] | None = await read_frame(reader, 5, LIMITS)
    except FrameError:
        reply = None
    rest = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return reply, rest


def _frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


@pytest.mark.timeout(60)
def test_hostile_frames_end_only_that_connection(devices: Devices) -> None:
    hostile = {
        "frame of 2147483647 bytes exceeds the limit": struct.pack(">I", 2**31 - 1) + b"x" * 10,
        "connection closed mid-frame": struct.pack(">I", 100) + b"\x81",
        "not a msgpack map": _frame(msgpack.packb([1, 2, 3])),
        "extension types are not allowed": _frame(msgpack.packb({"t": msgpack.ExtType(1, b"x")})),
        "map keys must be strings": _frame(msgpack.packb({1: 2}, strict_types=False)),
        "not valid msgpack": _frame(b"\xc1\xc1"),
        "nests deeper than 4 levels": _frame(msgpack.packb({"a": [[[[1]]]]})),
        "not an enrolment request": _frame(msgpack.packb({"t": "sync", "v": 1})),
        "the enrolment request is malformed": _frame(
            msgpack.packb({"t": "hello", "v": 1, "spake": b"A" * 9})
        ),
    }

    async def scenario() -> None:
        server = devices.server()
        await server.start()
        try:
            for reason, data in hostile.items():
                reply, rest = await _raw(server.port, data)
                assert rest == b"", reason
                if reply is not None:  # the server says why when the peer can still hear it
                    assert reply["t"] == "error" and reason in reply["message"]
                assert reason in devices.events[-1][1]["reason"], devices.events[-1]
            assert server.current.failures == 0
            await devices.join(server, server.current.code)  # still serving
        finally:
            await server.close()

    run(scenario)
    assert len(devices.issued) == 1


_FIELD = st.one_of(st.none(), st.integers(-(2**40), 2**40), st.binary(max_size=40), st.text(max_size=20))
_MESSAGE = st.fixed_dictionaries(
    {"t": st.sampled_from(["hello", "confirm", "request", "error", "x"])},
    optional={
        "v": _FIELD,
        "nameplate": st.integers(0, 100) | _FIELD,
        "spake": _FIELD,
        "mac": _FIELD,
        "box": _FIELD,
    },
)


@pytest.mark.timeout(120)
@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(_MESSAGE.map(msgpack.packb), st.binary(max_size=64)), min_size=1, max_size=4))
def test_random_frames_never_stop_the_server(bodies: list[bytes]) -> None:
    """Whatever a peer sends, the server answers or hangs up, and the real joiner still gets through."""
    issued: list[bytes] = []

    def issue(device_key: bytes, officer: str, role: str) -> tuple[list[bytes], dict[str, Any]]:
        issued.append(device_key)
        return [b"body", b"signature", b"x509"], {"station_id": "st-test"}

    async def scenario() -> None:
        server = EnrolServer(issue, host=HOST, io_timeout=0.5)
        await server.start()
        try:
            reader, writer = await asyncio.open_connection(HOST, server.port)
            writer.write(b"".join(_frame(body) for body in bodies))
            writer.write_eof()
            await asyncio.wait_for(reader.read(), 5)
            writer.close()
            assert issued == []
            key = os.urandom(32)
            assert await enrol_join(HOST, server.port, server.current.code, key, "x", timeout=5) == (
                [b"body", b"signature", b"x509"],
                {"station_id": "st-test"},
            )
            assert issued == [key]
        finally:
            await server.close()

    run(scenario)


@pytest.mark.timeout(60)
def test_an_abandoned_exchange_is_not_counted_as_an_attempt(devices: Devices) -> None:
    """Leaving after the station's SPAKE2 message tests no guess (even with the right code in hand).

    More abandoned, silent and concurrent exchanges are in tests/test_enrol_abuse.py.
    """

    async def scenario() -> None:
        server = devices.server()
        await server.start()
        try:
            code = server.current.code
            nameplate, password = parse_code(code)
            reader, writer = await asyncio.open_connection(HOST, server.port)
            spake = SPAKE2_A(password.encode(), idA=ID_JOINER, idB=ID_STATION)
            await write_frame(writer, {"t": "hello", "v": 1, "nameplate": nameplate, "spake": spake.start()})
            assert (await read_frame(reader, 5, LIMITS))["t"] == "spake"
            writer.write_eof()  # walk away without confirming
            error = await read_frame(reader, 5, LIMITS)  # the station's last word, then it hangs up
            assert await asyncio.wait_for(reader.read(), 5) == b""
            writer.close()
            assert error["t"] == "error" and "not counted as an attempt" in error["message"]
            assert server.current.failures == 0
            await devices.join(server, code)
        finally:
            await server.close()

    run(scenario)
    assert len(devices.issued) == 1


@pytest.mark.timeout(30)
def test_joiner_gives_up_on_a_silent_or_absent_station() -> None:
    async def scenario() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(10)

        server = await asyncio.start_server(silent, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(EnrolError, match="timed out waiting for the peer; nothing was enrolled"):
            await enrol_join(HOST, port, "7-river-lantern", os.urandom(32), "x", timeout=0.5)
        server.close()
        with pytest.raises(EnrolError, match="cannot reach the station"):
            await enrol_join(HOST, port, "7-river-lantern", os.urandom(32), "x", timeout=2)

    run(scenario)


# --------------------------------------------------------------- codes


def test_codes() -> None:
    assert len(WORDS) == 256 == len(set(WORDS))
    assert all(w.isalpha() and w.islower() and 2 < len(w) <= 8 for w in WORDS)
    assert parse_code(" 7 River-LANTERN ") == (7, "7-river-lantern")
    for bad, reason in [
        ("river-lantern", "a number and two words"),
        ("0-river-lantern", "a number and two words"),
        ("100-river-lantern", "a number and two words"),
        ("7-river-lanterns", "'lanterns' is not a code word"),
    ]:
        with pytest.raises(EnrolError, match=reason):
            parse_code(bad)
