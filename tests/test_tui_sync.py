"""The sync screen, driven as an officer would, against a real peer over TLS on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, ProgressBar, Static

from fieldapp.core.station import tls_material
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.sync import PeerRow, SyncScreen
from harness import PASSPHRASE
from harness.replicas import station_devices
from sync.lan import SyncServer
from sync.session import Endpoint

pytestmark = pytest.mark.timeout(120)


def test_sync_screen_syncs_with_a_real_peer_and_the_caseload_shows_what_came(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        for n in range(30):
            authority.new_case("西河村", "irrigation", "orange", f"灌溉用水纠纷 {n}")
        officer.new_case("东岭村", "land", "red", "田界纠纷")
        officer_dir = officer.db.store.directory
        officer.close()  # the app opens it
        material = tls_material(authority)
        assert material is not None

        async def main() -> None:
            server = SyncServer(Endpoint(authority.replica), material, "127.0.0.1")
            async with server:
                app = FieldApp(officer_dir, lang="en")
                async with app.run_test(size=(100, 30)) as pilot:
                    app.screen.query_one("#passphrase").focus()
                    await pilot.press(*PASSPHRASE, "enter")
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                    assert isinstance(app.screen, HomeScreen)
                    assert app.screen.query_one("#mine", DataTable).row_count == 1
                    assert "Cases: 1" in str(app.screen.query_one("#case-count", Static).render())
                    assert "never" in str(app.screen.query_one("#home-status", Static).render())

                    await pilot.press("s")
                    await pilot.pause()
                    screen = app.screen
                    assert isinstance(screen, SyncScreen)
                    assert "Discovery is off" in str(screen.query_one("#sync-discovery", Static).render())

                    screen.query_one("#peer-input", Input).focus()
                    await pilot.press(*"not-a-peer", "enter")
                    assert "HOST:PORT" in str(screen.query_one("#peer-input-error", Static).render())
                    screen.query_one("#peer-input", Input).value = ""
                    await pilot.press(*f"127.0.0.1:{server.port}", "enter")
                    await pilot.pause()
                    rows = list(screen.query(PeerRow))
                    assert len(rows) == 1

                    await pilot.press("ctrl+s")
                    await screen.workers.wait_for_complete()
                    await pilot.pause()
                    report = rows[0].report
                    assert report is not None and report.error is None
                    assert report.received >= 30 and report.sent >= 1
                    bar = rows[0].query_one(ProgressBar)
                    assert bar.percentage == 1.0
                    status = str(rows[0].query_one(".peer-status", Static).render())
                    assert f"received {report.received}" in status
                    assert "1 of 1" in str(screen.query_one("#sync-summary", Static).render())

                    await pilot.press("f2")  # the screen follows the language switch
                    await pilot.pause()
                    assert "同步" in str(screen.query_one("#sync-title", Static).render())
                    assert f"接收 {report.received} 条" in str(
                        rows[0].query_one(".peer-status", Static).render()
                    )
                    await pilot.press("f2")

                    await pilot.press("escape")
                    await pilot.pause()
                    assert isinstance(app.screen, HomeScreen)
                    assert "Cases: 31" in str(app.screen.query_one("#case-count", Static).render())
                    status = str(app.screen.query_one("#home-status", Static).render())
                    assert "Not yet synced: 0 of my operations" in status and "never" not in status

        asyncio.run(main())
        assert authority.state_hash()  # the served store is intact and has the officer's case
        assert any(c["summary"] == "田界纠纷" for c in authority.cases())


def test_sync_screen_on_an_unenrolled_device_says_what_to_do(tmp_path: Path, store_dir: Path) -> None:
    from fieldapp.core.service import init_device
    from harness import FAST_KDF

    init_device(store_dir, PASSPHRASE, "未入站辅警", FAST_KDF)

    async def main() -> None:
        app = FieldApp(store_dir, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("s")
            await pilot.pause()
            assert "not enrolled at a station" in str(app.screen.query_one("#sync-identity", Static).render())
            assert app.screen.query_one("#peer-input", Input).disabled

    asyncio.run(main())
