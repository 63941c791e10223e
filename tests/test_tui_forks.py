"""A supervisor settles a real fork from the review queue; an officer's device cannot.

The stores are those of `tests.fork_station`: an officer's store copied and written in two
places, both entries received by the supervisor's device and by the other officer's.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, RadioButton, Static

from fieldapp.core.service import CaseService
from fieldapp.core.station import fork_rows
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.supervisor_dialogs import ForkDialog
from tests.fork_station import BEFORE_VILLAGE, HELD_VILLAGE, OTHER_VILLAGE, build_forked_station
from tests.test_tui_supervisor import choose_row, reopened, run, shown_actions, supervise

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def forked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_forked_station(tmp_path_factory.mktemp("forked"))


def copy_store(forked: dict[str, Any], name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(forked["root"] / name, target)
    return target


def rendered(widget: Static) -> str:
    return str(widget.render())


def plain(renderable: Any, width: int = 100) -> str:
    """What a Rich renderable shows, as plain text."""
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(renderable)
    return console.export_text()


def fork_of(store: Path) -> dict[str, Any]:
    service = reopened(store)
    try:
        (row,) = fork_rows(service)
        return row
    finally:
        service.close()


def test_supervisor_settles_a_fork_for_the_held_entry_and_the_devices_work_shows_again(
    forked: dict[str, Any], tmp_path: Path
) -> None:
    store = copy_store(forked, "authority", tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "review")
        assert screen.queue.counts["fork"] == 1
        first = screen.queue.items[0]  # forks come first: the device's work is held out
        assert (first.kind, first.detail["fork"]) == ("fork", forked["fork"])
        assert screen.board is not None and set(screen.board.by_village) == {BEFORE_VILLAGE}
        assert "held out until settled" in screen._item_text(first)
        assert "Enter" in screen._item_text(first)
        table = screen.query_one("#queue", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(first.key))
        await pilot.pause()
        hint = rendered(screen.query_one("#review-hint", Static))  # the whole story, on a narrow screen too
        assert forked["forked_officer"] in hint and "Enter: compare the two and keep one" in hint
        await choose_row(pilot, table, first.key)
        dialog = app.screen
        assert isinstance(dialog, ForkDialog)
        assert app.focused is dialog.query_one("#fork-entries")  # read first, then choose
        lines = [line.strip() for line in plain(dialog.comparison()).splitlines()]
        assert "Held on this device" in lines[0] and "Arrived" in lines[0]
        (village,) = [line for line in lines if line.startswith("Village")]
        assert village.index(HELD_VILLAGE) < village.index(OTHER_VILLAGE)  # side by side
        (kind,) = [line for line in lines if line.startswith("Record")]
        assert kind.split()[1:] == ["intake", "intake"]

        await pilot.press("ctrl+s")  # neither a choice nor a reason: said beside each field
        await pilot.pause()
        assert app.screen is dialog
        assert "Choose the entry" in rendered(dialog.query_one("#keep-error", Static))
        assert "Write why" in rendered(dialog.query_one("#reason-error", Static))
        dialog.query_one("#keep-held", RadioButton).value = True
        await pilot.press("ctrl+s")  # still no reason
        await pilot.pause()
        assert app.screen is dialog
        assert not dialog.query_one("#keep-error", Static).display
        assert dialog.query_one("#reason-error", Static).display
        dialog.query_one("#reason", Input).value = "原设备记录属实，副本已销毁"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()

        assert app.screen is screen
        assert (screen.queue.counts["fork"], screen.queue.counts["fork_settled"]) == (0, 1)
        assert not any(i.kind == "fork" for i in screen.queue.items)
        assert set(screen.board.by_village) == {BEFORE_VILLAGE, HELD_VILLAGE}
        assert app.focused is table  # the list keeps the keyboard

    run(store, scenario)
    service = reopened(store)
    try:
        assert not service.replica.quarantined(forked["forked"])
        assert [v["note"] for v in service.case(forked["held"])["visits"]] == ["上门了解借款经过"]
    finally:
        service.close()
    assert fork_of(store)["standing"] == "kept"


def test_settling_for_the_other_entry_sets_this_devices_branch_aside(
    forked: dict[str, Any], tmp_path: Path
) -> None:
    store = copy_store(forked, "authority", tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "review")
        item = screen.queue.items[0]
        # The fork is listed once, as itself (not again as a rejected entry), in Chinese.
        assert not [i for i in screen.queue.items if i.kind == "rejected"]
        assert item.kind == "fork" and "回车裁定" in screen._item_text(item)
        await choose_row(pilot, screen.query_one("#queue", DataTable), item.key)
        dialog = app.screen
        assert isinstance(dialog, ForkDialog)
        assert "本机所存版本" in plain(dialog.comparison()).splitlines()[0]
        dialog.query_one("#keep-other", RadioButton).value = True
        dialog.query_one("#reason", Input).value = "民警确认用的是备份副本"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        (settled,) = [i for i in screen.queue.items if i.kind == "fork_settled"]
        assert "本机所存的分支已搁置" in screen._item_text(settled)
        assert screen.board is not None and HELD_VILLAGE not in screen.board.by_village

    run(store, scenario, lang="zh")
    assert fork_of(store)["standing"] == "awaiting"


def test_an_officers_device_holding_a_fork_has_no_settle_action(
    forked: dict[str, Any], tmp_path: Path
) -> None:
    store = copy_store(forked, "officer1", tmp_path)  # it received both entries too
    row = fork_of(store)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        home = app.screen
        assert "supervise" not in shown_actions(home)
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is home  # no review queue, so no fork to settle
        service = app.service
        assert isinstance(service, CaseService)
        # Reached another way, the dialog records nothing: settle_fork refuses an officer.
        await app.push_screen(ForkDialog(service, row))
        dialog = app.screen
        dialog.query_one("#keep-held", RadioButton).value = True
        dialog.query_one("#reason", Input).value = "想自己裁定"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        assert "Only a supervisor's device can settle a fork" in rendered(
            dialog.query_one("#case-dialog-error", Static)
        )

    run(store, scenario)
    assert fork_of(store)["standing"] == "open"
