"""The supervisor's day as a new user lives it (issue 15, items 3-5): in Chinese and English,
at 80x24 and 120x36, on real encrypted stores of a station. What is asserted is what the
screen draws: the rows' rendered text, the table's used width, the text beside a field."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, RadioButton, RadioSet, Static

from fieldapp import i18n
from fieldapp.core.service import CaseService
from fieldapp.tui.app import FieldApp
from fieldapp.tui.case_timeline import local_time
from fieldapp.tui.screens.case_list import CaseListScreen
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.supervisor_dialogs import ApproveDialog, ConflictDialog
from fieldapp.tui.screens.supervisor_reports import ReportsPane
from harness import PASSPHRASE
from harness.replicas import converge, station_devices
from tests.test_tui_supervisor import intake, supervise

pytestmark = pytest.mark.timeout(180)

Scenario = Callable[[FieldApp, Pilot[None]], Awaitable[None]]
LANGS = ("en", "zh")
SIZES = ((80, 24), (120, 36))
#: Orange cases of the station: (village, category, deadline).
ORANGE = (
    ("东山岭下村", "homestead", "2031-03-01"),
    ("南坡村", "family", "2031-04-15"),
    ("测试村", "irrigation", None),
)


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A station after a shift: orange cases in three villages, and a review queue of a red case
    to close, a conflict and an escalation (in that order)."""
    root = tmp_path_factory.mktemp("station")
    facts: dict[str, Any] = {"root": root, "orange": []}
    with station_devices(root, 2) as (boss, first, second):
        for village, category, deadline in ORANGE:
            facts["orange"].append(
                intake(first, village=village, category=category, risk="orange", deadline=deadline)
            )
        first.update(facts["orange"][0], status="escalated", tier=3, reason="需司法所参与")
        red = intake(first, category="family", risk="red")
        first.add_visit(red, "mediation", "家庭调解，达成赡养协议")
        first.update(
            red, status="resolved", outcome={"kind": "agreement", "terms": "兄弟二人每月各承担八百元"}
        )
        contested = intake(first, risk="yellow")
        converge([boss, first, second])
        first.update(contested, fields={"village": "北坡村"})
        second.update(contested, fields={"village": "西坡村"})
        converge([boss, first, second])
        facts.update(red=red, contested=contested)
    return facts


def authority_copy(station: dict[str, Any], tmp_path: Path) -> Path:
    """A private copy of the supervisor's store (tests change what they open)."""
    target = tmp_path / "authority"
    shutil.copytree(station["root"] / "authority", target)
    return target


def run(store: Path, scenario: Scenario, lang: str, size: tuple[int, int] = (120, 36)) -> None:
    async def main() -> None:
        app = FieldApp(store, lang=lang)
        async with app.run_test(size=size) as pilot:
            app.screen.query_one("#passphrase", Input).value = PASSPHRASE
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
            await scenario(app, pilot)

    asyncio.run(main())


def row_text(table: DataTable[Any], key: str) -> str:
    """The row as the table draws it (the header is the first line)."""
    return table.render_line(table.header_height + table.get_row_index(key)).text


def cells_drawn(table: DataTable[Any], key: str) -> dict[str, str]:
    """Each cell of the row as drawn, by column key (cut at the columns' drawn widths, in
    terminal cells: a Chinese character takes two)."""
    line = table.render_line(table.header_height + table.get_row_index(key))
    cells, x = {}, 0
    for column in table.ordered_columns:
        width = column.get_render_width(table)
        cells[str(column.key.value)] = line.crop(x, x + width).text.strip()
        x += width
    return cells


def text_of(static: Static) -> str:
    return str(static.render())


def assert_fills_its_width(table: DataTable[Any]) -> None:
    """The columns use the table's whole width and no more: nothing hidden past its right edge,
    no empty band on its right."""
    used = sum(column.get_render_width(table) for column in table.columns.values())
    assert used == table.scrollable_content_region.width == table.virtual_size.width


# ---------------------------------------------------------------- reports (item 3)


@pytest.mark.parametrize("lang", LANGS)
def test_written_report_names_its_path_and_a_bad_month_clears_the_old_preview(
    station: dict[str, Any], tmp_path: Path, lang: str
) -> None:
    store = authority_copy(station, tmp_path)
    out = tmp_path / "reports"
    out.mkdir()

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "reports")
        pane = screen.query_one(ReportsPane)
        result, preview = pane.query_one("#rep-result", Static), pane.query_one("#rep-preview", Static)
        pane.query_one("#folder", Input).value = str(out)
        await pilot.click("#rep-button")
        await pilot.pause()
        assert pane.last_report is not None and pane.last_report.parent == out
        # The path written is said, whole (it wraps on a narrow screen), and the report is shown.
        assert str(pane.last_report) in text_of(result).replace("\n", "")
        assert text_of(preview).strip()

        pane.query_one("#rep-of", Input).value = "2026-13"
        await pilot.click("#rep-show")
        await pilot.pause()
        assert text_of(preview) == ""  # the old month's figures are not left under a refused month
        said = text_of(result)
        assert "2026-13" in said and "2026-03" in said
        assert i18n.t("rep.show") in said and i18n.t("rep.button") in said  # what to press after
        assert app.focused is pane.query_one("#rep-of", Input)  # where to type it
        if lang == "zh":
            assert "不是月份" in said

        pane.query_one("#rep-of", Input).value = ""
        await pilot.click("#rep-button")
        await pilot.pause()
        assert text_of(preview) == "" and "2026-03" in text_of(result)
        assert sorted(p.name for p in out.iterdir()) == [pane.last_report.name]  # nothing more written

    run(store, scenario, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_the_report_row_fits_80_columns(station: dict[str, Any], tmp_path: Path, lang: str) -> None:
    """The buttons that the month's message names are on screen at 80x24, not past its edge."""
    store = authority_copy(station, tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "reports")
        pane = screen.query_one(ReportsPane)
        for widget_id in ("#rep-period", "#rep-of", "#rep-format", "#rep-show", "#rep-button"):
            region = pane.query_one(widget_id).region
            assert region.width and region.right <= pane.scrollable_content_region.right, widget_id
        pane.query_one("#rep-of", Input).value = "2026-03"
        await pilot.pause()
        month = pane.query_one("#rep-of", Input)
        assert month.content_region.width > len("2026-03")  # the month whole, the cursor after it

    run(store, scenario, lang, (80, 24))


# ---------------------------------------------------------------- drill-down lists (item 4)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", LANGS)
def test_drill_down_list_shows_ids_villages_categories_statuses_and_deadlines_whole(
    station: dict[str, Any], tmp_path: Path, lang: str, size: tuple[int, int]
) -> None:
    store = authority_copy(station, tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "dashboard")
        figures = screen.query_one("#figures", DataTable)
        figures.move_cursor(row=figures.get_row_index("risk:orange"))
        await pilot.press("enter")
        await pilot.pause()
        listing = app.screen
        assert isinstance(listing, CaseListScreen)
        table = listing.query_one("#case-list", DataTable)
        assert table.row_count == len(ORANGE)
        assert app.service is not None
        view = app.service.replica.view("cases")
        for case_id in station["orange"]:
            case = view[case_id]
            drawn = cells_drawn(table, case_id)
            assert drawn == {
                "id": case_id,
                "risk": i18n.t("risk.orange"),
                "village": case["village"],
                "category": i18n.t(f"category.{case['category']}"),
                "status": i18n.t(f"status.{case['status']}"),
                "summary": drawn["summary"],  # the free text that takes the rest: may end with "…"
                "deadline": case["deadline"] or "",
            }
            assert drawn["summary"]
        assert_fills_its_width(table)
        if size[0] < 120:  # a wider terminal: the summary takes the new width
            await pilot.resize_terminal(120, 36)
            await pilot.pause()
            assert_fills_its_width(table)
        # Room enough at 120 columns for the whole summary too.
        assert all(
            cells_drawn(table, case_id)["summary"] == view[case_id]["summary"]
            for case_id in station["orange"]
        )

    run(store, scenario, lang, size)


# ---------------------------------------------------------------- review (item 5 and the time column)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", LANGS)
def test_review_rows_show_who_and_when_whole(
    station: dict[str, Any], tmp_path: Path, lang: str, size: tuple[int, int]
) -> None:
    store = authority_copy(station, tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "review")
        table = screen.query_one("#queue", DataTable)
        assert table.row_count == 3
        for item in screen.queue.items:
            drawn = row_text(table, item.key)
            for value in (i18n.t(f"review.kind.{item.kind}"), item.case_id, local_time(item.at)):
                assert value and value in drawn, (value, drawn)
            assert screen._officer_name(item.author) in drawn
        assert_fills_its_width(table)

    run(store, scenario, lang, size)


async def decide_in_dialog(app: FieldApp, pilot: Pilot[None]) -> None:
    """Record the decision of the open dialog with the keyboard (a conflict: the first value)."""
    assert isinstance(app.screen, ConflictDialog | ApproveDialog)
    if isinstance(app.screen, ConflictDialog):
        await pilot.press("enter")
    await pilot.press("ctrl+s")


def test_review_keeps_the_keyboard_on_the_next_item_after_a_decision(
    station: dict[str, Any], tmp_path: Path
) -> None:
    store = authority_copy(station, tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "review")
        table = screen.query_one("#queue", DataTable)
        first, second, third = (item.key for item in screen.queue.items)
        assert screen._items[first].kind == "red_closure"
        await pilot.press("down", "enter")  # the second item: a conflict or an escalation
        await decide_in_dialog(app, pilot)
        assert app.screen is screen
        # At once, with no waiting for the queue to be read again: the list has the keyboard,
        # the cursor is on the item that followed the one decided.
        assert app.focused is table
        assert screen._cursor_key(table) == third
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [str(row.value) for row in table.rows] == [first, third]
        assert app.focused is table and screen._cursor_key(table) == third
        await pilot.press("enter")  # Enter works right away, on that item
        assert app.screen is not screen
        await decide_in_dialog(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        # The last row decided: the cursor on the row above it, the list still under the keys.
        assert app.screen is screen and app.focused is table
        assert [str(row.value) for row in table.rows] == [first]
        assert screen._cursor_key(table) == first

    run(store, scenario, "zh")


@pytest.mark.parametrize("lang", LANGS)
def test_conflict_dialog_settles_nothing_until_a_value_is_chosen(
    station: dict[str, Any], tmp_path: Path, lang: str
) -> None:
    store = authority_copy(station, tmp_path)
    chosen: dict[str, Any] = {}

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "review")
        table = screen.query_one("#queue", DataTable)
        key = next(i.key for i in screen.queue.items if i.kind == "conflict")
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("enter")
        dialog = app.screen
        assert isinstance(dialog, ConflictDialog)
        assert not any(button.value for button in dialog.query(RadioButton))
        values = dialog.values
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog  # nothing settled
        said = text_of(dialog.query_one("#choice-error", Static))
        assert "ctrl+s" in said and "Esc" in said
        assert ("尚未处理" if lang == "zh" else "Nothing settled") in said
        assert app.focused is dialog.query_one("#choice", RadioSet)
        await pilot.press("down", "enter")  # the second value, by keyboard
        chosen["village"] = values[1]["value"]
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen and screen.queue.counts["conflict"] == 0

    run(store, scenario, lang)
    service = CaseService.open(store, PASSPHRASE)
    try:
        case = service.case(station["contested"])
        assert case["village"] == chosen["village"]
        assert not [c for c in case["conflicts"] if c["open"]]
    finally:
        service.close()
