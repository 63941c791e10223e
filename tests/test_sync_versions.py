"""Devices of different sync protocol versions, over real TLS on loopback (docs/sync.md, "Versions").

Another minor version, or a hello without versions (a device of protocol 1.0): the session goes
on and both converge. Another major version: both sides refuse with the code `protocol_major`
and both versions, and the side that sees it tells the other in its `error`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseService
from fieldapp.i18n.sync_errors import sync_error_text
from harness.replicas import station_devices
from sync.frames import encode_frame, read_frame
from sync.lan import SyncServer, sync_with
from sync.messages import PROTOCOL_VERSION, Hello, app_version
from sync.session import Endpoint, SessionReport
from sync.tls import client_context
from tests.test_sync_session import HOST, material, record_work

pytestmark = pytest.mark.timeout(120)
OURS = f"{PROTOCOL_VERSION[0]}.{PROTOCOL_VERSION[1]}"


class Served:
    """A SyncServer's `session` event, awaited (the server reports once its side has closed)."""

    def __init__(self) -> None:
        self.seen = asyncio.Event()
        self.session: dict[str, Any] = {}

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "session":
            self.session = data
            self.seen.set()

    async def report(self) -> dict[str, Any]:
        await asyncio.wait_for(self.seen.wait(), 20)
        return self.session


async def _session(
    server: Endpoint, server_side: CaseService, client: Endpoint, client_side: CaseService
) -> tuple[SessionReport, dict[str, Any]]:
    """One session between two endpoints; the client's report and the server's `session` event."""
    served = Served()
    async with SyncServer(server, material(server_side), HOST, on_event=served.on_event) as srv:
        report = await sync_with(HOST, srv.port, client, material(client_side), timeout=10)
        return report, await served.report()


def test_a_peer_of_another_major_version_is_refused_on_both_sides_with_both_versions(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        record_work(officer, 2, "东岭")
        record_work(authority, 1, "西河")
        before = (authority.replica.vector(), officer.replica.vector())
        future = Endpoint(authority.replica, app="2.0.0", protocol=(2, 0))
        report, served = asyncio.run(_session(future, authority, Endpoint(officer.replica), officer))

        assert report.error_code == "protocol_major", report.error
        assert report.error_params == {
            "ours": OURS,
            "theirs": "2.0",
            "app": app_version(),
            "peer_app": "2.0.0",
        }
        assert report.peer_version == (2, 0) and report.peer_app == "2.0.0"
        assert (
            f"sync protocol {OURS} (fieldapp {app_version()}), the peer 2.0 (fieldapp 2.0.0)" in report.error
        )
        assert "update the older one" in report.error and "fieldapp --version" in report.error

        assert served["error_code"] == "protocol_major", served["error"]
        assert served["peer_version"] == OURS and served["peer_app"] == app_version()
        assert (
            f"sync protocol 2.0 (fieldapp 2.0.0), the peer {OURS} (fieldapp {app_version()})"
            in served["error"]
        )
        assert served["received"] == report.received == 0
        assert (authority.replica.vector(), officer.replica.vector()) == before

        # What the app shows, from the code and its parameters, in both languages.
        english = sync_error_text(report.error, report.error_code, report.error_params, "en")
        assert english == (
            f"This device speaks sync protocol {OURS} (fieldapp {app_version()}), the other runs 2.0 "
            "(fieldapp 2.0.0): update the older one; `fieldapp --version` shows each device's version."
        )
        chinese = sync_error_text(report.error, report.error_code, report.error_params, "zh")
        assert chinese.startswith(
            f"本设备的同步协议为 {OURS}（fieldapp {app_version()}），对方为 2.0（fieldapp 2.0.0）"
        )
        assert "`fieldapp --version`" in chinese


def test_the_side_that_sees_another_major_tells_the_peer_in_its_error(tmp_path: Path) -> None:
    """A device of 2.0 sends its hello: the station answers with its own hello, then an `error`
    carrying the code and its versions, so that a peer which could not tell reports it too."""
    with station_devices(tmp_path, 1) as (authority, officer):

        async def talk() -> tuple[list[dict[str, Any]], dict[str, Any]]:
            served = Served()
            async with SyncServer(
                Endpoint(authority.replica), material(authority), HOST, on_event=served.on_event
            ) as srv:
                reader, writer = await asyncio.open_connection(
                    HOST, srv.port, ssl=client_context(material(officer)), server_hostname="fieldapp"
                )
                hello = {"t": "hello", "proto": 2, "version": [2, 0], "app": "2.0.0", "device": "x"}
                writer.write(encode_frame(hello))
                replies = [await read_frame(reader, 10), await read_frame(reader, 10)]
                writer.close()
                return replies, await served.report()

        (hello, error), served = asyncio.run(talk())
        assert (
            hello["t"] == "hello"
            and hello["version"] == list(PROTOCOL_VERSION)
            and hello["app"] == app_version()
        )
        assert error["t"] == "error" and error["code"] == "protocol_major"
        assert error["version"] == list(PROTOCOL_VERSION) and error["app"] == app_version()
        assert error["reason"].startswith(
            f"sync protocol {OURS} (fieldapp {app_version()}) here, 2.0 (fieldapp 2.0.0)"
        )
        assert served["error_code"] == "protocol_major" and served["peer_version"] == "2.0"


def test_a_peer_that_only_hears_of_another_major_from_the_error_reports_it_too(tmp_path: Path) -> None:
    """A newer device may read today's hello and still refuse: its `error` alone tells this side."""
    with station_devices(tmp_path, 1) as (authority, officer):

        async def talk() -> dict[str, Any]:
            served = Served()
            async with SyncServer(
                Endpoint(authority.replica), material(authority), HOST, on_event=served.on_event
            ) as srv:
                reader, writer = await asyncio.open_connection(
                    HOST, srv.port, ssl=client_context(material(officer)), server_hostname="fieldapp"
                )
                hello = Hello(
                    authority.replica.station, officer.identity.device_id, b"\1" * 32, {}, version=(1, 1)
                )
                refusal = {
                    "t": "error",
                    "reason": "major",
                    "code": "protocol_major",
                    "version": [3, 2],
                    "app": "3.2.0",
                }
                writer.write(encode_frame(hello.encode()) + encode_frame(refusal))
                await writer.drain()
                report = await served.report()
                writer.close()
                return report

        served = asyncio.run(talk())
        assert served["error_code"] == "protocol_major", served["error"]
        assert served["peer_version"] == "3.2" and served["peer_app"] == "3.2.0"
        assert (
            f"sync protocol {OURS} (fieldapp {app_version()}), the peer 3.2 (fieldapp 3.2.0)"
            in served["error"]
        )


@pytest.mark.parametrize("other", [(1, 7), (1, 0)], ids=["another minor", "no versions in its hello (1.0)"])
def test_a_peer_of_another_minor_version_or_of_1_0_syncs_and_both_converge(
    tmp_path: Path, other: tuple[int, int]
) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        record_work(officer, 110, "东岭")  # 220 operations and more: more than one batch
        record_work(authority, 2, "西河")
        older = Endpoint(authority.replica, app="0.9.0", protocol=other)
        report, served = asyncio.run(_session(older, authority, Endpoint(officer.replica), officer))

        assert report.error is None and served["error"] is None, (report.error, served["error"])
        assert report.sent == served["received"] > 200 and report.received == served["sent"] > 0
        assert officer.state_hash() == authority.state_hash()
        assert report.peer_version == other
        assert report.peer_app == (None if other == (1, 0) else "0.9.0")  # a 1.0 hello does not say
        assert served["peer_version"] == OURS and served["peer_app"] == app_version()


def test_discovery_finds_a_device_of_another_major_for_its_hello_to_refuse() -> None:
    from sync.lan import station_tag, wanted_by

    wanted = wanted_by("station-a", "ME")
    tag = station_tag("station-a")
    assert wanted({"v": "1", "st": tag, "id": "PEER"})
    assert wanted({"v": "2", "st": tag, "id": "PEER"})  # refused later by the hello, with a message
    assert not wanted({"v": "2", "st": station_tag("station-b"), "id": "PEER"})  # another station
    assert not wanted({"v": "1", "st": tag, "id": "ME"})  # this device itself
    assert not wanted({"st": tag, "id": "PEER"})  # not a fieldapp advertisement
    assert not wanted({"v": "x", "st": tag, "id": "PEER"})
