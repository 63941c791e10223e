"""An edit of a case just received from a fast-clock peer, through the app's own sync path.

The peer's clock runs 5 minutes fast (inside the 10-minute bound): every stamp it makes
is ahead of the officer's wall clock. The officer syncs on the sync screen, logs a visit
on the case that came, and syncs back; the visit must stay recorded on both devices.
"""

from __future__ import annotations

import ast
import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from fieldapp.core.station import tls_material
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.case_dialogs import VisitDialog
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.sync import SyncScreen
from harness import PASSPHRASE
from harness.replicas import FAST_MS, fast_peer_station
from sync.hlc import wall_ms
from sync.lan import SyncServer
from sync.session import Endpoint

pytestmark = pytest.mark.timeout(120)


async def sync_on_screen(app: FieldApp, pilot: Pilot[None], port: int, sessions: list[Any]) -> None:
    """From home: open the sync screen, add the peer, sync, wait for both sides, go back."""
    served = len(sessions)
    await pilot.press("s")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, SyncScreen)
    assert screen._service is app.service  # one service on the store, the app's
    screen.query_one("#peer-input", Input).focus()
    await pilot.press(*f"127.0.0.1:{port}", "enter")
    await pilot.pause()
    await pilot.press("ctrl+s")
    await screen.workers.wait_for_complete()
    await pilot.pause()
    (report,) = screen.session_reports().values()
    assert report is not None and report.error is None and report.refused == 0, report
    while len(sessions) == served:  # the peer's side has folded what it received
        await pilot.pause()
    assert sessions[-1]["error"] is None and sessions[-1]["refused"] == 0
    await pilot.press("escape")
    await pilot.pause()
    assert isinstance(app.screen, HomeScreen)


def test_an_edit_of_a_case_from_a_fast_clock_peer_stays_saved_on_both_devices(tmp_path: Path) -> None:
    with fast_peer_station(tmp_path) as (peer, officer):
        officer_dir = officer.db.store.directory
        officer.close()  # the app opens it
        case_id = peer.new_case("西河村", "irrigation", "orange", "灌溉用水纠纷")["id"]
        created = peer.replica.view("cases")[case_id]["_ops"][0][0]
        assert wall_ms(created) > time.time_ns() // 1_000_000 + FAST_MS - 60_000  # ahead of us
        material = tls_material(peer)
        assert material is not None
        sessions: list[dict[str, Any]] = []

        def on_event(kind: str, data: dict[str, Any]) -> None:
            if kind == "session":
                sessions.append(data)

        async def main() -> None:
            async with SyncServer(Endpoint(peer.replica), material, "127.0.0.1", on_event=on_event) as server:
                app = FieldApp(officer_dir, lang="en")
                async with app.run_test(size=(100, 30)) as pilot:
                    app.screen.query_one("#passphrase", Input).value = PASSPHRASE
                    await pilot.press("enter")
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                    await sync_on_screen(app, pilot, server.port, sessions)
                    service = app.service
                    assert service is not None

                    app.open_case(case_id)
                    await pilot.pause()
                    case_screen = app.screen
                    assert isinstance(case_screen, CaseScreen)
                    await pilot.press("v")
                    await pilot.pause()
                    dialog = app.screen
                    assert isinstance(dialog, VisitDialog)
                    dialog.query_one("#note", TextArea).focus()
                    await pilot.press(*"Water schedule agreed")
                    await pilot.press("ctrl+s")
                    await pilot.pause()
                    await pilot.pause()
                    # Said saved: the dialog closed with the "logged" notice, no refusal shown.
                    assert app.screen is case_screen
                    assert [n.message for n in app._notifications] == [f"Visit logged on case {case_id}."]
                    mine = service.replica.view("cases")[case_id]
                    assert [v["note"] for v in mine["visits"]] == ["Water schedule agreed"]
                    assert mine.get("refused", []) == []
                    assert mine["_ops"][-1][1] == service.identity.device_id  # sorts after the intake

                    await pilot.press("escape")
                    await pilot.pause()
                    await sync_on_screen(app, pilot, server.port, sessions)
                    after = service.replica.view("cases")[case_id]
                    assert [v["note"] for v in after["visits"]] == ["Water schedule agreed"]
                    assert after.get("refused", []) == []
                    theirs = peer.replica.view("cases")[case_id]
                    assert [v["note"] for v in theirs["visits"]] == ["Water schedule agreed"]
                    assert theirs.get("refused", []) == []
                    assert service.state_hash() == peer.state_hash()

        asyncio.run(main())


def test_only_the_app_builds_a_service_or_replica_on_its_store() -> None:
    """Every screen gets the app's service; a screen that built its own once lost an edit."""
    tui = Path(__file__).resolve().parent.parent / "fieldapp" / "tui"
    builders = {"CaseService", "Replica", "open"}
    built: list[str] = []
    for path in sorted(tui.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                target = ast.unparse(node.func)
                if name in builders and ("CaseService" in target or "Replica" in target):
                    built.append(f"{path.relative_to(tui)}:{node.lineno} {target}")
    assert [b.split(":")[0] for b in built] == ["app.py"], built
