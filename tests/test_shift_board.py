"""The shift board (the supervisor's Shift tab, 5) in station mode: real TLS syncs on loopback
into the app serving, driven by Pilot; the board's figures against what each device sent,
counted independently from the devices' own logs (docs/sync.md, "The shift board")."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from fieldapp.core.service import CaseService
from fieldapp.core.serving import Serving
from fieldapp.core.station import revoke_device
from fieldapp.tui import shift_board
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens import supervisor
from fieldapp.tui.screens.supervisor import SupervisorScreen
from fieldapp.tui.shift_board import COLUMNS, ShiftBoard
from harness.replicas import station_devices
from sync.ops import decode
from sync.session import SessionReport
from tests.test_station_mode import supervisor_loaded, sync_officer, unlock

pytestmark = pytest.mark.timeout(120)


def kinds_sent(service: CaseService, lacking: dict[str, int]) -> Counter[str]:
    """Independently of the ledger: the kinds of this device's own operations past `lacking`."""
    me = service.identity.device_id
    return Counter(
        decode(b, s).kind
        for b, s in service.replica.entries_missing_from(lacking)
        if decode(b, s).author == me
    )


def lacking(station: CaseService, device: CaseService) -> int:
    """Independently of the board: operations the station holds that `device` does not."""
    return len(list(station.replica.entries_missing_from(device.replica.vector())))


async def shown(app: FieldApp, pilot: Pilot[None], board: ShiftBoard, builds: int) -> None:
    """Wait until the board was built again after `builds` (the landed sessions' refresh)."""
    for _ in range(200):
        await pilot.pause(0.02)
        if board.builds > builds and not app.screen.workers:
            break
    await app.workers.wait_for_complete()
    await pilot.pause()


def cells(board: ShiftBoard, device: str) -> dict[str, str]:
    table = board.query_one("#shift-table", DataTable)
    return {c: str(v).strip() for c, v in zip(COLUMNS, table.get_row(device), strict=True)}


def test_the_board_counts_what_each_device_sent_and_who_is_behind(tmp_path: Path) -> None:
    with station_devices(tmp_path, 4) as (authority, a, b, never, lost):
        revoke_device(authority, lost.identity.device_id, "设备遗失")  # before it ever synced
        before = authority.replica.sync_vector()
        station_dir = authority.db.store.directory
        authority.close()
        for n in range(3):
            case = a.new_case("东岭村", "land", "yellow", f"田界纠纷{n}")
            a.add_visit(case["id"], "home", "走访记录")
        a.update(case["id"], fields={"risk": "red"})
        b.new_case("西河村", "debt", "yellow", "欠款")
        sent_a, sent_b = kinds_sent(a, before), kinds_sent(b, before)

        async def main() -> None:
            app = FieldApp(station_dir, lang="en", serve=("127.0.0.1", 0))
            async with app.run_test(size=(120, 36)) as pilot:
                await unlock(app, pilot)
                assert app.serving is not None
                port = app.serving.port
                await pilot.press("d")
                screen = await supervisor_loaded(app, pilot)
                await pilot.press("5")
                await pilot.pause()
                board = screen.query_one(ShiftBoard)
                station = app.service
                assert station is not None
                # Nobody has synced yet: all three expected devices are missing.
                merged = board.query_one("#shift-merged", Static)
                assert str(merged.render()).startswith("0 of 3 devices merged this shift; missing:")

                builds = board.builds
                assert (await sync_officer(a, port)).error is None
                await shown(app, pilot, board, builds)
                row_a = cells(board, a.identity.device_id)
                assert (row_a["intakes"], row_a["visits"]) == (
                    str(sent_a["case.create"]),
                    str(sent_a["visit.add"]),
                )
                assert row_a["updates"] == str(sent_a["case.set"]) and row_a["shift"] == "yes"
                assert sent_a == {"device.announce": 1, "case.create": 3, "visit.add": 3, "case.set": 1}
                assert row_a["behind"] == "0" == str(lacking(station, a))

                builds = board.builds
                assert (await sync_officer(b, port)).error is None  # later: gets all A brought
                revoked = await sync_officer(lost, port)
                assert revoked.error is not None
                await shown(app, pilot, board, builds)
                assert lacking(station, b) == 0  # one round suffices for the last to sync
                row_a, row_b = cells(board, a.identity.device_id), cells(board, b.identity.device_id)
                assert row_b["intakes"] == str(sent_b["case.create"]) == "1"
                # A synced before B: behind by what B brought, as the station's logs say.
                assert int(row_a["behind"]) == lacking(station, a) == sum(sent_b.values()) > 0
                assert row_b["behind"] == "0"
                row_never = cells(board, never.identity.device_id)
                assert (row_never["officer"], row_never["shift"], row_never["last"]) == (
                    "测试辅警2",
                    "no",
                    "never",
                )
                assert row_never["behind"] == "?"
                assert str(merged.render()) == (
                    "2 of 3 devices merged this shift; missing: 测试辅警2 (last synced never)"
                )
                row_lost = cells(board, lost.identity.device_id)
                assert row_lost["errors"] == "1" and row_lost["shift"] == "revoked"
                events = str(board.query_one("#shift-events", Static).render())
                assert "测试辅警3" in events and "revoked" in events

                builds = board.builds
                assert (await sync_officer(a, port)).error is None  # the next round: caught up
                await shown(app, pilot, board, builds)
                assert cells(board, a.identity.device_id)["behind"] == "0" == str(lacking(station, a))

                await pilot.press("f2")  # in Chinese too
                await pilot.pause()
                assert str(merged.render()).startswith("本班次已合并2/3台设备；未同步：测试辅警2")

        asyncio.run(main())


def test_sessions_landing_together_make_one_refresh(tmp_path: Path, monkeypatch: Any) -> None:
    with station_devices(tmp_path, 1) as (authority, _officer):
        station_dir = authority.db.store.directory
        authority.close()
        reads: list[int] = []
        build = supervisor.build_dashboard

        def counted(*args: Any, **kwargs: Any) -> Any:
            reads.append(1)
            return build(*args, **kwargs)

        monkeypatch.setattr(supervisor, "build_dashboard", counted)

        async def main() -> None:
            app = FieldApp(station_dir, lang="en")
            async with app.run_test(size=(120, 36)) as pilot:
                await unlock(app, pilot)
                await pilot.press("d")
                screen = await supervisor_loaded(app, pilot)
                assert isinstance(screen, SupervisorScreen)
                first = len(reads)
                for _ in range(5):  # five devices' sessions landing one after the other
                    screen.session_landed(SessionReport(peer="x"))
                    await screen.workers.wait_for_complete()
                    await pilot.pause()
                for _ in range(200):
                    if len(reads) > first and not screen.workers:
                        break
                    await pilot.pause(0.02)
                await screen.workers.wait_for_complete()
                assert len(reads) - first == 1

        asyncio.run(main())


def test_transfers_in_flight_are_tracked_for_the_progress_bars(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        serving = Serving(authority, "127.0.0.1")
        device = officer.identity.device_id
        serving._event("started", {"address": "127.0.0.1:5000", "device_id": device})
        counts = {"received": 40, "to_receive": 100, "sent": 5, "to_send": 10}
        serving._event("progress", {"address": "127.0.0.1:5000", "device_id": device, **counts})
        [transfer] = serving.status.transfers
        assert (transfer.device_id, transfer.received, transfer.to_receive, transfer.sent) == (
            device,
            40,
            100,
            5,
        )
        serving._event("session", {"address": "127.0.0.1:5000", **SessionReport(peer=device).as_json()})
        assert serving.status.transfers == () and serving.status.done == 1


def test_the_board_draws_a_progress_bar_per_transfer(tmp_path: Path) -> None:
    from fieldapp.core.serving import ServeStatus, Transfer

    with station_devices(tmp_path, 1) as (authority, officer):
        station_dir = authority.db.store.directory
        device = officer.identity.device_id
        authority.close()

        async def main() -> None:
            app = FieldApp(station_dir, lang="en")
            async with app.run_test(size=(80, 24)) as pilot:
                await unlock(app, pilot)
                await pilot.press("d")
                await supervisor_loaded(app, pilot)
                await pilot.press("5")
                await pilot.pause()
                board = app.screen.query_one(ShiftBoard)
                flight = Transfer("127.0.0.1:5000", device, received=30, to_receive=90, sent=0, to_send=10)
                app.serving = ServeStatus("127.0.0.1", 1, False, running=1, transfers=(flight,))
                await pilot.pause()
                [bar] = board.query(shift_board.ProgressBar)
                assert (bar.progress, bar.total) == (30, 100)
                label = str(board.query_one(".shift-transfer Static", Static).render())
                assert label == "测试辅警0: 30 of 100 operations"
                app.serving = ServeStatus("127.0.0.1", 1, False, done=1)
                await pilot.pause()
                assert not board.query(shift_board.ProgressBar)

        asyncio.run(main())


def test_the_palette_switches_station_mode_where_f6_does(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, _officer):
        station_dir = authority.db.store.directory
        authority.close()

        async def main() -> None:
            app = FieldApp(station_dir, lang="zh", serve=("127.0.0.1", 0))
            async with app.run_test(size=(120, 36)) as pilot:
                await unlock(app, pilot)
                assert app.serving is not None

                def titles() -> list[str]:
                    return [command.title for command in app.get_system_commands(app.screen)]

                assert not [title for title in titles() if "驻所接收" in title]  # home: no F6 there
                await pilot.press("d")
                await supervisor_loaded(app, pilot)
                assert "驻所接收：停止接收同步" in titles()
                await pilot.press("ctrl+p")
                await pilot.pause()
                await pilot.press(*"停止接收")
                await pilot.pause(0.3)
                await pilot.press("enter")
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert app.serving is None
                app.language = "en"
                assert "Station mode: accept the devices' syncs here" in titles()

        asyncio.run(main())
