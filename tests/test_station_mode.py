"""Station mode: the app on the station's computer accepts the devices' syncs while the supervisor
works (docs/sync.md, "Station mode"). Real TLS sessions on loopback (127.0.0.1 only, where the
advertisement stays on this machine); the app's clock is a test double, so auto-lock is tested
without waiting for wall-clock time."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input, Static

from fieldapp.core.service import CaseService
from fieldapp.core.serving import remember_serving, remembered_serving
from fieldapp.core.station import tls_material
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.supervisor import SupervisorScreen
from fieldapp.tui.screens.sync import SyncScreen
from fieldapp.tui.screens.unlock import UnlockScreen
from fieldapp.tui.station_mode import ServeDialog, ServingLine, SessionLanded
from harness import PASSPHRASE
from harness.replicas import station_devices
from storage import FieldDB
from sync.lan import sync_with
from sync.session import Endpoint, SessionReport
from tests.cli import ROOT, fieldapp

pytestmark = pytest.mark.timeout(120)


class FakeClock:
    """The app's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def unlock(app: FieldApp, pilot: Pilot[None], passphrase: str = PASSPHRASE) -> None:
    app.screen.query_one("#passphrase", Input).focus()
    await pilot.press(*passphrase, "enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


def serving_line(app: FieldApp) -> str:
    return str(app.screen.query_one(ServingLine).render())


async def sync_officer(officer: CaseService, port: int) -> SessionReport:
    material = tls_material(officer)
    assert material is not None
    return await sync_with("127.0.0.1", port, Endpoint(officer.replica), material, timeout=30)


def refuses_connections(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


async def supervisor_loaded(app: FieldApp, pilot: Pilot[None]) -> SupervisorScreen:
    screen = app.screen
    assert isinstance(screen, SupervisorScreen)
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return screen


def test_the_app_serves_a_real_sync_and_the_supervisor_sees_the_new_case(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        station_dir = authority.db.store.directory
        authority.close()  # the app opens it
        red = officer.new_case("东岭村", "land", "red", "田界纠纷，双方争执")
        landed: list[SessionReport] = []

        def hook(message: Message) -> None:
            if isinstance(message, SessionLanded):
                landed.append(message.report)

        async def main() -> None:
            app = FieldApp(station_dir, lang="en", serve=("127.0.0.1", 0))
            async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
                await unlock(app, pilot)
                status = app.serving
                assert status is not None and status.host == "127.0.0.1" and status.port > 0
                await pilot.press("d")
                screen = await supervisor_loaded(app, pilot)
                assert screen.board is not None and red["id"] not in screen.board.open_by_risk.get("red", [])
                assert f"Serving syncs on 127.0.0.1 port {status.port}" in serving_line(app)

                seen: list[Any] = []
                screen.watch(app, "serving", lambda status: seen.append(status), init=False)
                loads = screen.loads
                report = await sync_officer(officer, status.port)  # while the supervisor works
                assert report.error is None and report.sent >= 2
                await pilot.pause()
                assert [r.received for r in landed] == [report.sent]
                # In progress (with each batch's progress), then done.
                assert list(dict.fromkeys((s.running, s.done) for s in seen)) == [(1, 0), (0, 1)]
                for _ in range(200):  # the landing's refresh comes LANDED_DELAY later
                    if screen.loads > loads:
                        break
                    await pilot.pause(0.02)
                screen = await supervisor_loaded(app, pilot)
                assert red["id"] in screen.board.open_by_risk["red"]  # refreshed by the landing
                assert "0 in progress, 1 done" in serving_line(app)
                port = status.port
            # Quitting stops the server and locks the store.
            assert app.serving is None and refuses_connections(port)
            FieldDB.open(station_dir, PASSPHRASE).close()

        asyncio.run(main())


def test_f6_asks_for_the_address_the_first_time_then_remembers_it(tmp_path: Path) -> None:
    with station_devices(tmp_path, 0) as (authority,):
        station_dir = authority.db.store.directory
        authority.close()

        async def main() -> None:
            app = FieldApp(station_dir, lang="en")
            async with app.run_test(size=(120, 36)) as pilot:
                await unlock(app, pilot)
                await pilot.press("s")
                await pilot.pause()
                assert isinstance(app.screen, SyncScreen)
                assert "Station mode is off: F6" in serving_line(app)
                await pilot.press("f6")
                await pilot.pause()
                dialog = app.screen
                assert isinstance(dialog, ServeDialog)
                dialog.query_one("#serve-interface", Input).value = "192.0.2.7"  # TEST-NET: not here
                await pilot.press("enter")
                await pilot.pause()
                error = str(dialog.query_one("#serve-error", Static).render())
                assert "192.0.2.7 is not an address of this computer" in error
                dialog.query_one("#serve-interface", Input).value = "127.0.0.1"
                await pilot.press("enter")
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert isinstance(app.screen, SyncScreen)
                status = app.serving
                assert status is not None and status.host == "127.0.0.1"
                assert app.service is not None
                assert remembered_serving(app.service.replica.local) == ("127.0.0.1", 0)
                assert f"127.0.0.1 port {status.port}, advertised" in serving_line(app)
                await pilot.press("f2")
                await pilot.pause()
                assert "正在接收同步：127.0.0.1 端口" in serving_line(app)
                await pilot.press("f2")

                await pilot.press("f6")  # off
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert app.serving is None and refuses_connections(status.port)
                assert "Station mode is off" in serving_line(app)

                await pilot.press("escape", "d")  # on again from the supervisor screen: one key
                await supervisor_loaded(app, pilot)
                await pilot.press("f6")
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert isinstance(app.screen, SupervisorScreen)
                assert app.serving is not None and app.serving.host == "127.0.0.1"

        asyncio.run(main())


def test_f6_asks_again_when_the_remembered_address_is_no_longer_this_computers(tmp_path: Path) -> None:
    with station_devices(tmp_path, 0) as (authority,):
        remember_serving(authority.replica.local, "192.0.2.7", 47001)  # another network's address
        station_dir = authority.db.store.directory
        authority.close()

        async def main() -> None:
            app = FieldApp(station_dir, lang="en")
            async with app.run_test(size=(120, 36)) as pilot:
                await unlock(app, pilot)
                await pilot.press("s", "f6")
                await pilot.pause()
                dialog = app.screen
                assert isinstance(dialog, ServeDialog) and app.serving is None
                assert dialog.query_one("#serve-interface", Input).value == "192.0.2.7"
                assert dialog.query_one("#serve-port", Input).value == "47001"
                await pilot.press("escape")
                await pilot.pause()
                assert isinstance(app.screen, SyncScreen) and app.serving is None

        asyncio.run(main())


def test_auto_lock_while_serving_locks_the_screen_and_serving_goes_on(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        station_dir = authority.db.store.directory
        authority.close()
        case = officer.new_case("西河村", "irrigation", "orange", "灌溉用水纠纷")
        clock = FakeClock()

        async def main() -> None:
            app = FieldApp(station_dir, lang="en", clock=clock, lock_after=60, serve=("127.0.0.1", 0))
            async with app.run_test(size=(120, 36)) as pilot:
                await unlock(app, pilot)
                served = app.station_mode.service
                assert app.serving is not None and served is app.service
                port = app.serving.port

                clock.now += 61
                app.lock_if_idle()
                await pilot.pause()
                assert isinstance(app.screen, UnlockScreen) and app.service is None
                line = serving_line(app)
                assert f"still accepting the devices' syncs on 127.0.0.1 port {port}" in line
                assert "To stop: unlock, then F6" in line

                report = await sync_officer(officer, port)  # locked, and still serving
                assert report.error is None and report.sent >= 2
                await pilot.pause()
                assert "(1 done)" in serving_line(app)
                assert isinstance(app.screen, UnlockScreen)  # nothing of the case is shown

                await unlock(app, pilot, "not the passphrase")
                assert "Wrong passphrase" in str(app.screen.query_one("#unlock-error", Static).render())
                assert app.service is None
                clock.now += 60  # past the wrong-passphrase wait
                await unlock(app, pilot)
                assert isinstance(app.screen, HomeScreen)
                assert app.service is served  # the one service, kept for the server
                assert any(c["id"] == case["id"] for c in served.cases())
                await pilot.press("d")
                await supervisor_loaded(app, pilot)
                await pilot.press("f6")  # stopping takes an unlocked screen
                await app.workers.wait_for_complete()
                assert app.serving is None and refuses_connections(port)

        asyncio.run(main())


def test_station_open_opens_the_app_serving_on_the_interface(tmp_path: Path, monkeypatch: Any) -> None:
    from fieldapp.cli import main as cli_main
    from fieldapp.tui import app as tui_app

    opened: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tui_app, "run_app", lambda *args: opened.append(args))
    store = tmp_path / "store"
    argv = ["station", "open", "--store", str(store), "--interface", "127.0.0.1", "--port", "47001"]
    assert cli_main.main([*argv, "--lock-after", "10"]) == 0
    assert opened == [(store, None, 600.0, ("127.0.0.1", 47001))]
    assert cli_main.main(["--lang", "en", "station", "open", "--interface", "192.0.2.7"]) == 1
    assert len(opened) == 1


def serve_process(store: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "FIELDAPP_PASSPHRASE": PASSPHRASE}
    argv = [sys.executable, "-m", "fieldapp", "serve", "--store", str(store), "--interface", "127.0.0.1"]
    return subprocess.Popen(
        [*argv, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )


def test_a_second_process_is_told_which_process_serves_the_store(tmp_path: Path) -> None:
    with station_devices(tmp_path, 0) as (authority,):
        station_dir = authority.db.store.directory
    server = serve_process(station_dir)
    try:
        assert server.stdout is not None
        assert json.loads(server.stdout.readline())["event"] == "listening"
        since = time.strftime("%H:%M")  # (a test run across midnight would read the date too)
        en = fieldapp("case", "list", "--store", station_dir, "--lang", "en")
        assert en.returncode == 1
        assert f"is open in `fieldapp serve` (pid {server.pid}, since {since})" in en.stderr
        assert "`fieldapp station open`" in en.stderr  # what to do instead
        zh = fieldapp("case", "list", "--store", station_dir, "--lang", "zh")
        assert f"数据库已在 `fieldapp serve` 中打开（进程号 {server.pid}，自 {since} 起）" in zh.stderr

        async def main() -> None:  # the app's unlock screen says the same
            app = FieldApp(station_dir, lang="en")
            async with app.run_test(size=(120, 36)) as pilot:
                await unlock(app, pilot)
                shown = str(app.screen.query_one("#unlock-error", Static).render())
                assert f"open in `fieldapp serve` (pid {server.pid}, since {since})" in shown

        asyncio.run(main())
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0
    assert (station_dir / "lock").read_bytes() == b""  # let go: nothing left to mislead
    assert fieldapp("case", "list", "--store", station_dir).returncode == 0


def test_a_lock_record_whose_process_is_gone_names_nobody(tmp_path: Path) -> None:
    with station_devices(tmp_path, 0) as (authority,):
        station_dir = authority.db.store.directory
    server = serve_process(station_dir)
    assert server.stdout is not None
    assert json.loads(server.stdout.readline())["event"] == "listening"
    server.kill()  # no clean-up: its record stays in the lock file, the kernel frees the lock
    server.wait(timeout=30)
    assert b'"runs": "serve"' in (station_dir / "lock").read_bytes()
    assert fieldapp("case", "list", "--store", station_dir).returncode == 0  # a stale record never blocks

    # Held by a process that wrote no record of its own over a dead process's record: the stale
    # record is not shown.
    stale = {"pid": server.pid, "runs": "serve", "since": time.time()}
    (station_dir / "lock").write_text(json.dumps(stale))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(station_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        refused = fieldapp("case", "list", "--store", station_dir, "--lang", "en")
        assert refused.returncode == 1
        assert "open in another fieldapp process. Close that one" in refused.stderr
        assert f"pid {server.pid}" not in refused.stderr and "since" not in refused.stderr
    finally:
        holder.kill()
        holder.wait(timeout=30)


#: Takes a store's lock the old way (flock only, the record left as it was) and holds it.
HOLD = """
import fcntl, os, sys, time
fd = os.open(os.path.join(sys.argv[1], "lock"), os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""
