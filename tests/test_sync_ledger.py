"""The sync ledger: what each session, file and refused connection left on the device (sync/ledger.py)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseService
from fieldapp.core.station import revoke_device
from harness.replicas import station_devices
from sync import ledger
from sync.lan import SyncServer, sync_with
from sync.ops import decode
from sync.session import BATCH_ENTRIES, Endpoint, SessionReport
from sync.tls import client_context
from tests.test_sync_session import HOST, material, sync

pytestmark = pytest.mark.timeout(120)


def make_work(service: CaseService, intakes: int, visits: int) -> None:
    """`intakes` cases and `visits` visits spread over them (fake places and text)."""
    ids = [service.new_case("东岭村", "land", "yellow", f"田界纠纷 {n}")["id"] for n in range(intakes)]
    for n in range(visits):
        service.add_visit(ids[n % len(ids)], "home", f"第{n}次走访")


def held_by_kind(service: CaseService, author: str, lacking: dict[str, int]) -> Counter[str]:
    """Independently of the ledger: the kinds of `author`'s operations `service` holds past `lacking`."""
    found: Counter[str] = Counter()
    for body, sig in service.replica.entries_missing_from(lacking):
        op = decode(body, sig)
        if op.author == author:
            found[op.kind] += 1
    return found


def test_a_real_tls_sync_leaves_one_entry_each_side_counting_what_the_peer_sent(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (station, officer):
        make_work(officer, 7, 11)
        me = officer.identity.device_id
        sent = held_by_kind(officer, me, station.replica.sync_vector())
        assert sent == {"case.create": 7, "visit.add": 11, "device.announce": 1}
        before = time.time()
        report, events = sync(station, officer)
        assert report.error is None and dict(events)["session"]["error"] is None

        [entry] = ledger.entries(station.db)
        assert entry["kind"] == "session" and entry["side"] == "server"
        assert entry["peer"] == me and entry["officer"] == officer.officer
        assert before <= entry["start"] <= entry["end"] <= time.time()
        assert entry["applied"] == {me: dict(sent)}
        assert entry["received"] == sum(sent.values()) and entry["error_code"] is None
        assert entry["duplicates"] == entry["refused"] == entry["forks"] == 0
        epoch_chain = f"{me}.{officer.identity.epoch:016x}"
        assert entry["ranges"] == {epoch_chain: [[1, sum(sent.values())]]}

        [mine] = ledger.entries(officer.db)  # the officer's device keeps its side of it
        assert mine["side"] == "client" and mine["peer"] == station.identity.device_id
        assert mine["sent"] == sum(sent.values())

        again, _ = sync(station, officer)  # a re-sync: an entry too, with nothing applied
        assert again.error is None
        last = ledger.entries(station.db)[-1]
        assert len(ledger.entries(station.db)) == 2 and last["applied"] == {} and last["received"] == 0


def test_a_revoked_device_is_recorded_as_refused_with_its_id(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (station, lost):
        assert sync(station, lost)[0].error is None
        revoke_device(station, lost.identity.device_id, "设备遗失")
        make_work(lost, 1, 0)
        report, _ = sync(station, lost)
        assert report.error is not None
        entry = ledger.entries(station.db)[-1]
        assert entry["peer"] == lost.identity.device_id and entry["error_code"] == "revoked"
        assert entry["applied"] == {} and entry["received"] == 0


async def present_certificate(
    station: CaseService, stranger: CaseService
) -> list[tuple[str, dict[str, Any]]]:
    """The stranger connects without checking the station's certificate, so its own reaches the station."""
    events: list[tuple[str, dict[str, Any]]] = []
    server = SyncServer(
        Endpoint(station.replica), material(station), HOST, on_event=lambda k, d: events.append((k, d))
    )
    async with server:
        context = client_context(material(stranger))
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            reader, _ = await asyncio.open_connection(
                HOST, server.port, ssl=context, server_hostname="fieldapp"
            )
            await reader.read(100)
        for _ in range(100):  # the server reports the refusal once the handshake has failed
            if any(kind == "refused" for kind, _ in events):
                break
            await asyncio.sleep(0.05)
    return events


def test_a_device_of_another_station_is_recorded_as_a_refused_connection(tmp_path: Path) -> None:
    with (
        station_devices(tmp_path / "a", 0) as (station,),
        station_devices(tmp_path / "b", 1) as (_, stranger),
    ):
        events = asyncio.run(present_certificate(station, stranger))
        [entry] = ledger.entries(station.db)
        assert entry["kind"] == "refused" and entry["peer"] is None and entry["side"] == "server"
        assert entry["error_code"] == "foreign_certificate" and entry["address"].startswith(HOST)
        assert entry["error"] == dict(events)["refused"]["reason"]
        # A stranger that checks the station's certificate gives up first: the station sees the
        # handshake dropped, and records that.
        report, _ = sync(station, stranger)
        assert report.error is not None
        assert ledger.entries(station.db)[-1]["error_code"] == "handshake_lost"


def test_a_cut_transfer_is_recorded_as_an_error_and_what_it_merged_stays(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (station, officer):
        make_work(officer, 200, 400)  # 601 operations: 4 batches

        async def cut_after_first_ack() -> list[tuple[str, dict[str, Any]]]:
            events: list[tuple[str, dict[str, Any]]] = []
            server = SyncServer(
                Endpoint(station.replica),
                material(station),
                HOST,
                on_event=lambda k, d: events.append((k, d)),
            )
            async with server:
                cut = asyncio.Event()

                def progress(report: SessionReport) -> None:
                    if report.sent >= BATCH_ENTRIES:
                        cut.set()

                task = asyncio.create_task(
                    sync_with(
                        HOST, server.port, Endpoint(officer.replica), material(officer), progress=progress
                    )
                )
                await cut.wait()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                for _ in range(200):  # the server notices the cut connection and ends its session
                    if any(kind == "session" for kind, _ in events):
                        break
                    await asyncio.sleep(0.05)
            return events

        events = asyncio.run(cut_after_first_ack())
        assert dict(events)["session"]["error"] is not None
        chain = f"{officer.identity.device_id}.{officer.identity.epoch:016x}"
        held = station.replica.vector()[chain]
        assert BATCH_ENTRIES <= held < 601
        [entry] = ledger.entries(station.db)
        assert entry["error_code"] is not None and entry["error"]
        assert entry["ranges"] == {chain: [[1, held]]}  # all it merged before the cut, counted
        assert sum(entry["applied"][officer.identity.device_id].values()) == held

        report, _ = sync(station, officer)  # the next session brings the rest, in an entry of its own
        assert report.error is None and report.sent == 601 - held
        assert ledger.entries(station.db)[-1]["ranges"] == {chain: [[held + 1, 601]]}


def test_an_ops_import_is_an_entry_of_its_own(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (station, officer):
        make_work(officer, 3, 2)
        station.import_ops(officer.export_ops())
        [entry] = ledger.entries(station.db)
        assert entry["kind"] == "import" and entry["side"] == "file" and entry["peer"] is None
        assert entry["applied"][officer.identity.device_id] == {
            "case.create": 3,
            "visit.add": 2,
            "device.announce": 1,
        }


def test_the_ledger_is_bounded_in_age_and_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with station_devices(tmp_path, 0) as (station,):
        now = time.time()
        day = 86400.0
        for age in (200, 91, 89, 1):
            ledger.record(station.db, ledger.entry("server", "x", now - age * day, now - age * day))
        starts = [round((now - e["start"]) / day) for e in ledger.entries(station.db)]
        assert starts == [89, 1]  # a write drops what started more than 90 days ago
        monkeypatch.setattr(ledger, "MAX_ENTRIES", 3)
        for n in range(3):
            ledger.record(station.db, ledger.entry("server", f"p{n}", now + n, now + n))
        assert [e["peer"] for e in ledger.entries(station.db)] == ["p0", "p1", "p2"]  # the oldest went
        assert station.replica.state_hash() == station.state_hash()
