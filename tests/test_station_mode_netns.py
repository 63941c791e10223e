"""Station mode between network namespaces: the app (driven by Textual's Pilot) serves on its
namespace's address and advertises there; an officer's `fieldapp sync --interface` in another
namespace finds it by real zeroconf and syncs over TLS 1.3 while the supervisor's screen is open,
and that screen then shows the officer's case (harness/netns.py; nothing reaches the machine's
interfaces)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.netns import Running, fieldapp_in, namespaces, skip_unless_available
from harness.replicas import station_devices

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

#: The station's computer: the app in station mode, the supervisor's screen open, reporting what
#: it shows as JSON lines; it quits (as ctrl+q does) when the file `stop` appears.
APP = """
import asyncio, json, os, sys
from pathlib import Path
from fieldapp.tui.app import FieldApp
from fieldapp.tui.station_mode import ServingLine, SessionLanded

store, address, stop, case_id = sys.argv[1:5]

def say(**data):
    print(json.dumps(data), flush=True)

async def main():
    landed = asyncio.Event()

    def hook(message):
        if isinstance(message, SessionLanded):
            landed.set()

    app = FieldApp(Path(store), lang="en", serve=(address, 0))
    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        app.screen.query_one("#passphrase").focus()
        await pilot.press(*os.environ["FIELDAPP_PASSPHRASE"], "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("d")
        await app.screen.workers.wait_for_complete()
        loads = app.screen.loads
        status = app.serving
        say(event="serving", host=status.host, port=status.port, advertised=status.advertised)
        await asyncio.wait_for(landed.wait(), 90)
        await pilot.pause()
        screen = app.screen
        for _ in range(500):  # the landing's refresh comes LANDED_DELAY later
            if screen.loads > loads:
                break
            await pilot.pause(0.02)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        shown = case_id in screen.board.open_by_risk.get("red", [])
        say(event="landed", shown=shown, line=str(screen.query_one(ServingLine).render()))
        while not os.path.exists(stop):
            await asyncio.sleep(0.05)
    say(event="closed", serving=app.serving is not None)

asyncio.run(main())
"""


def test_the_app_in_station_mode_is_found_and_synced_with_from_another_namespace(tmp_path: Path) -> None:
    skip_unless_available()
    with station_devices(tmp_path, 1) as (authority, officer):
        red = officer.new_case("东岭村", "land", "red", "田界纠纷，双方争执")
        station_store, officer_store = authority.db.store.directory, officer.db.store.directory
    stop = tmp_path / "stop"
    with namespaces(2) as (station_ns, officer_ns):
        app = Running(
            station_ns.command(
                [sys.executable, "-c", APP, str(station_store), station_ns.address, str(stop), red["id"]]
            )
        )
        try:
            serving = app.json_line(60)
            assert serving == {
                "event": "serving",
                "host": station_ns.address,
                "port": serving["port"],
                "advertised": True,
            }
            sync = Running(
                fieldapp_in(
                    officer_ns, "sync", "--store", officer_store, "--interface", officer_ns.address, "--json"
                )
            )
            assert sync.finish() == 0, "".join(sync.stderr)
            (report,) = json.loads(sync.lines.get(timeout=5))["peers"]
            assert report["error"] is None and report["sent"] >= 2
            landed = app.json_line(60)
            assert landed["shown"] is True
            assert f"{station_ns.address} port {serving['port']}, advertised" in landed["line"]
            assert "1 done" in landed["line"]
            stop.touch()
            assert app.json_line(60) == {"event": "closed", "serving": False}
            assert app.finish() == 0
        finally:
            app.stop()
