"""What the 80x24 snapshots showed (issue 15, "Done when"): forms that fit a short terminal,
optional fields marked, table columns and placeholders whole, "…" right after the last whole
Chinese character, toasts broken where a reader expects, chart labels the same on every run.

Driven as a user would, on real encrypted stores of a station (`harness.replicas`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import plotext._utility
import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static
from textual_plotext import PlotextPlot

from fieldapp.outputs.dashboard import build_dashboard
from fieldapp.tui import supervisor_dashboard as dashboard
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.case_dialogs import VisitDialog
from fieldapp.tui.screens.case_edit import EditDialog
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.intake import IntakeScreen
from fieldapp.tui.screens.supervisor import SupervisorScreen
from harness import PASSPHRASE
from harness.replicas import exchange, station_devices
from tests.test_tui_case import intake
from tests.test_tui_chinese_walk import screen_lines

pytestmark = pytest.mark.timeout(120)

Scenario = Callable[[FieldApp, Pilot[None]], Awaitable[None]]
LONG_SUMMARY = "两户因田界石移位发生争执，双方互不相让"


def run(store: Path, scenario: Scenario, lang: str, size: tuple[int, int] = (80, 24), **options: Any) -> None:
    """The real app at `size`, unlocked on home; then `scenario`."""

    async def main() -> None:
        app = FieldApp(store, lang=lang, **options)
        async with app.run_test(size=size, notifications=True) as pilot:
            app.screen.query_one("#passphrase", Input).value = PASSPHRASE
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
            await scenario(app, pilot)

    asyncio.run(main())


def officer_store(tmp_path: Path, **case: Any) -> tuple[Path, str]:
    """An enrolled officer's store holding one case (`case` overrides its fields)."""
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer, **case)
        store = officer.db.store.directory
        officer.close()
    return store, case_id


def supervisor_store(tmp_path: Path) -> Path:
    """The station authority's store, having synced an officer's case."""
    with station_devices(tmp_path, 1) as (supervisor, officer):
        intake(officer, summary=LONG_SUMMARY)
        exchange(supervisor, officer)
        store = supervisor.db.store.directory
        supervisor.close()
    return store


async def open_case_dialog(app: FieldApp, pilot: Pilot[None], case_id: str, key: str, kind: type) -> Any:
    app.open_case(case_id)
    await pilot.pause()
    assert isinstance(app.screen, CaseScreen)
    await pilot.press(key)
    await pilot.pause()
    await pilot.pause()
    assert isinstance(app.screen, kind)
    return app.screen


def visible_rows(widget: Widget, within: Widget) -> int:
    """Rows of `widget` shown inside `within`'s region on the screen."""
    overlap = widget.region.intersection(within.region)
    return overlap.height if overlap.width else 0


def whole_on_screen(widget: Widget) -> bool:
    return widget.region.height > 0 and widget.screen.region.contains_region(widget.region)


def shown_lines(app: FieldApp) -> list[str]:
    return screen_lines(app.export_screenshot())


# ------------------------------------------------------------------ forms at 80x24


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_visit_and_edit_dialogs_fit_80x24_without_scrolling(tmp_path: Path, lang: str) -> None:
    store, case_id = officer_store(
        tmp_path, parties=[{"name": "张某某", "role": "applicant"}, {"name": "李某", "role": "respondent"}]
    )

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        assert app.has_class("-short")
        visit = await open_case_dialog(app, pilot, case_id, "v", VisitDialog)
        body = visit.query_one(".case-dialog-body")
        assert body.max_scroll_y == 0, "the visit dialog scrolls at 80x24"
        for name in ("kind", "note", "place", "participants", "occurred"):
            assert whole_on_screen(visit.query_one(f"#{name}-label")), name
            assert whole_on_screen(visit.query_one(f"#{name}")), name
        await pilot.press("escape")
        await pilot.pause()
        edit = await open_case_dialog(app, pilot, case_id, "m", EditDialog)
        assert edit.query_one(".case-dialog-body").max_scroll_y == 0, "the edit dialog scrolls at 80x24"
        rows = [*edit.query(".party-name"), *edit.query(".party-remove")]
        for widget in (*rows, edit.query_one("#add-party")):
            assert whole_on_screen(widget)

    run(store, scenario, lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_intake_form_with_every_problem_shown_fits_80x24(tmp_path: Path, lang: str) -> None:
    store, _case_id = officer_store(tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, IntakeScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        form = app.screen.query_one("#intake-form")
        assert form.max_scroll_y == 0, "fields below the fold after ctrl+s"
        for error in app.screen.query(".field-error").results(Static):
            if error.display:
                assert whole_on_screen(error)
        assert whole_on_screen(app.screen.query_one("#save"))

    run(store, scenario, lang)


def test_a_tall_terminal_keeps_the_bordered_fields(tmp_path: Path) -> None:
    store, case_id = officer_store(tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        assert not app.has_class("-short")
        visit = await open_case_dialog(app, pilot, case_id, "v", VisitDialog)
        assert visit.query_one("#place", Input).outer_size.height == 3  # its border drawn

    run(store, scenario, "en", size=(120, 36))


def test_saving_with_a_problem_low_in_the_intake_form_brings_it_into_view(tmp_path: Path) -> None:
    store, _case_id = officer_store(tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        await pilot.press("n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, IntakeScreen)
        screen.query_one("#village", Input).value = "测试村"
        screen.query_one("#category").value = "neighbor"  # type: ignore[attr-defined]
        screen.query_one("#risk").value = "yellow"  # type: ignore[attr-defined]
        screen.query_one(".party-name", Input).value = "张某某"
        screen.query_one("#summary").text = "太短"  # type: ignore[attr-defined]  # below the fold, too short
        form = screen.query_one("#intake-form")
        form.scroll_home(animate=False)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert app.focused is screen.query_one("#summary")
        for widget in (screen.query_one("#summary"), screen.query_one("#summary-error")):
            assert visible_rows(widget, form) == widget.outer_size.height > 0, widget

    run(store, scenario, "zh", size=(100, 30))


@pytest.mark.parametrize(("lang", "mark"), [("en", "(optional)"), ("zh", "（可不填）")])
def test_the_visit_dialog_marks_place_and_participants_optional(tmp_path: Path, lang: str, mark: str) -> None:
    store, case_id = officer_store(tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        visit = await open_case_dialog(app, pilot, case_id, "v", VisitDialog)
        for name in ("place", "participants"):
            assert mark in str(visit.query_one(f"#{name}-label", Static).render()), name

    run(store, scenario, lang)


# ------------------------------------------------------------------ tables and the reports tab


def test_every_devices_column_shows_whole_at_80_columns(tmp_path: Path) -> None:
    store = supervisor_store(tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        await pilot.press("d")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        await pilot.press("3")
        await pilot.pause()
        table = screen.query_one("#devices-table", DataTable)
        columns = list(table.columns.values())
        assert "state" in [str(c.key.value) for c in columns]
        used = sum(c.get_render_width(table) for c in columns)
        assert used <= table.scrollable_content_region.width, "columns run past the right edge"
        text = "\n".join(shown_lines(app))
        assert "this device" in text and "active" in text

    run(store, scenario, "en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_reports_tab_shows_the_village_hint_whole_and_the_preview_after_show(
    tmp_path: Path, lang: str
) -> None:
    store = supervisor_store(tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        await pilot.press("d")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        await pilot.press("4")
        await pilot.pause()
        village = screen.query_one("#exp-village", Input)
        assert cell_len(village.placeholder) <= village.content_region.width, village.placeholder
        screen.query_one("#rep-show").press()  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.pause()
        pane, preview = screen.query_one("#reports-body"), screen.query_one("#rep-preview")
        assert visible_rows(preview, pane) >= pane.scrollable_content_region.height - 1

    run(store, scenario, lang)


def test_ellipsize_puts_the_ellipsis_right_after_the_last_whole_character() -> None:
    from fieldapp.tui.column_fit import ellipsize

    assert ellipsize(LONG_SUMMARY, 31) == "两户因田界石移位发生争执，双方…"  # 30 cells + "…"
    assert ellipsize(LONG_SUMMARY, 32) == "两户因田界石移位发生争执，双方…"  # a half character: no blank
    assert ellipsize("Land boundary dispute", 8) == "Land bo…"
    assert ellipsize("东岭村", 6) == "东岭村"


def test_home_cuts_a_chinese_summary_with_no_blank_before_the_ellipsis(tmp_path: Path) -> None:
    store, _case_id = officer_store(tmp_path, summary=LONG_SUMMARY + LONG_SUMMARY)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        cut = [line for line in shown_lines(app) if "两户因田界石移位" in line]
        assert cut and all("…" in line for line in cut), cut
        assert not any(" …" in line for line in cut), cut

    run(store, scenario, "zh")


# ------------------------------------------------------------------ toasts


def toast_lines(app: FieldApp) -> list[str]:
    """The toasts' lines as drawn (what follows the toast's left edge "▌")."""
    return [line.split("▌", 1)[1].strip() for line in shown_lines(app) if "▌" in line]


@pytest.mark.parametrize(
    ("lang", "first"), [("zh", "已5分钟未操作，已自动锁定。"), ("en", "Locked after 5 min")]
)
def test_the_auto_lock_toast_keeps_the_minutes_with_their_unit(tmp_path: Path, lang: str, first: str) -> None:
    store, _case_id = officer_store(tmp_path)
    clock = [1000.0]

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        clock[0] += 300
        app.lock_if_idle()
        await pilot.pause()
        await pilot.pause()
        lines = toast_lines(app)
        assert any(line.startswith(first) for line in lines), lines

    run(store, scenario, lang, clock=lambda: clock[0], lock_after=300.0)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_agreement_toast_shows_the_file_name_whole(tmp_path: Path, lang: str) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer)
        officer.add_visit(case_id, "mediation", "组织双方调解，达成一致")
        agreement = {"kind": "agreement", "terms": "共同疏通排水沟"}
        officer.update(case_id, status="resolved", reason="调解成功", outcome=agreement)
        store = officer.db.store.directory
        officer.close()

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        app.open_case(case_id)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        screen.agreement_folder = tmp_path
        await pilot.press("g")
        await pilot.pause()
        await pilot.pause()
        assert screen.last_agreement is not None
        assert screen.last_agreement.name in toast_lines(app)

    run(store, scenario, lang)


# ------------------------------------------------------------------ the charts' labels


class Charts(App[None]):
    """The dashboard's two charts alone, as wide as at 80 columns."""

    def compose(self) -> ComposeResult:
        yield Static(id="intake-title")
        yield PlotextPlot(id="intake-chart")
        yield Static(id="intake-legend")
        yield Static(id="rate-title")
        yield PlotextPlot(id="rate-chart")


def drawn_charts(width: int, no_duplicates: Callable[[Any], list[Any]]) -> list[str]:
    """The charts' lines, with plotext's de-duplication of tick labels replaced."""
    board = build_dashboard([], today=date(2026, 3, 16))

    async def main() -> list[str]:
        app = Charts()
        async with app.run_test(size=(width, 24)) as pilot:
            dashboard.draw_charts(board, app.screen, width)
            await pilot.pause()
            return screen_lines(app.export_screenshot())

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plotext._utility, "no_duplicates", no_duplicates)
        return asyncio.run(main())


@pytest.mark.timeout(60)
def test_the_rate_charts_month_labels_do_not_depend_on_set_order() -> None:
    width = 80 - 44 - 1  # what the dashboard's figures leave at 80 columns
    forwards = drawn_charts(width, lambda data: list(dict.fromkeys(data)))
    backwards = drawn_charts(width, lambda data: list(dict.fromkeys(data))[::-1])
    assert forwards == backwards
    assert any("26-03" in line for line in forwards), "the current month is labelled"


def test_spaced_ticks_label_the_last_bar_and_leave_room_between_labels() -> None:
    months = [f"25-{m:02d}" for m in range(4, 13)] + ["26-01", "26-02", "26-03"]
    for width in (35, 75, 200):
        positions, labels = dashboard.spaced_ticks(months, width)
        assert positions[-1] == len(months) and labels[-1] == "26-03"
        per_bar = (width - dashboard.CHART_MARGIN) / len(months)
        gaps = [b - a for a, b in zip(positions, positions[1:], strict=False)]
        assert all(gap * per_bar >= len("26-03") + 2 for gap in gaps), (width, positions)
