"""The supervisor's screens driven as a station head would, on real encrypted stores of a
station (authority + enrolled officers): drill down, assign, approve, settle a conflict,
revoke a device, export, print an agreement; and an officer's device neither shows nor
reaches any of it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from rich.cells import cell_len
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, RadioButton, Select, TextArea

from fieldapp import i18n
from fieldapp.core.service import CaseService
from fieldapp.core.station import device_rows, set_mediation_org
from fieldapp.domain.fields import station_today
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.case_list import CaseListScreen
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.supervisor import SupervisorScreen
from fieldapp.tui.screens.supervisor_dialogs import (
    ApproveDialog,
    AssignDialog,
    ConflictDialog,
    PlaceDialog,
    RevokeDialog,
)
from fieldapp.tui.screens.supervisor_reports import ReportsPane
from harness import PASSPHRASE
from harness.replicas import converge, station_devices
from tests.persons_truth import party_key

#: A deadline a supervisor may type whenever the test runs, and a day that does not exist (a
#: February has no 30th: refused as such before the date is compared with today).
DUE = (station_today() + timedelta(days=60)).isoformat()
NO_DAY = "2027-02-30"

pytestmark = pytest.mark.timeout(180)

Scenario = Callable[[FieldApp, Pilot[None]], Awaitable[None]]


def intake(svc: CaseService, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "village": "测试村",
        "category": "irrigation",
        "risk": "yellow",
        "summary": "轮灌时间安排不均，上下游农户争抢浇水",
        "parties": [{"name": "测试甲", "phone": "13800000001", "role": "applicant"}],
    }
    fields.update(overrides)
    return str(svc.new_case(**fields)["id"])


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A station's stores after a shift: overdue work, an escalation, a conflict, a red resolution."""
    root = tmp_path_factory.mktemp("station")
    facts: dict[str, Any] = {"root": root}
    with station_devices(root, 2) as (boss, first, second):
        overdue = intake(first, risk="orange", deadline="2020-01-31")
        escalated = intake(second, village="南坡村", category="homestead", risk="orange")
        second.add_visit(escalated, "mediation", "组织双方调解，分歧较大")
        second.update(escalated, status="escalated", tier=3, reason="需司法所参与")
        red = intake(first, category="family", risk="red")
        first.add_visit(red, "mediation", "家庭调解，达成赡养协议")
        first.update(
            red, status="resolved", outcome={"kind": "agreement", "terms": "兄弟二人每月各承担八百元"}
        )
        contested = intake(first)
        converge([boss, first, second])
        first.update(contested, fields={"risk": "orange"})
        second.update(contested, fields={"risk": "red"})
        converge([boss, first, second])
        facts.update(
            overdue=overdue,
            escalated=escalated,
            red=red,
            contested=contested,
            first=first.identity.device_id,
            second=second.identity.device_id,
            first_name=first.officer,
            second_name=second.officer,
        )
    return facts


def copy_store(station: dict[str, Any], name: str, tmp_path: Path) -> Path:
    """A private copy of one device's store (tests change what they open)."""
    target = tmp_path / name
    shutil.copytree(station["root"] / name, target)
    return target


def run(store: Path, scenario: Scenario, lang: str = "en") -> None:
    async def main() -> None:
        app = FieldApp(store, lang=lang)
        async with app.run_test(size=(120, 36)) as pilot:
            app.screen.query_one("#passphrase", Input).value = PASSPHRASE
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
            await scenario(app, pilot)

    asyncio.run(main())


async def supervise(app: FieldApp, pilot: Pilot[None], tab: str) -> SupervisorScreen:
    await pilot.press("d")
    await app.workers.wait_for_complete()  # the caseload is read in slices, then drawn
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, SupervisorScreen)
    await pilot.press({"dashboard": "1", "review": "2", "devices": "3", "reports": "4"}[tab])
    await pilot.pause()
    return screen


async def choose_row(pilot: Pilot[None], table: DataTable[Any], key: str) -> None:
    table.focus()
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


def reopened(store: Path) -> CaseService:
    return CaseService.open(store, PASSPHRASE)


def shown_actions(screen: Any) -> set[str]:
    """The actions the footer offers on `screen` (enabled bindings)."""
    return {active.binding.action for active in screen.active_bindings.values() if active.enabled}


# ---------------------------------------------------------------- an officer's device


def test_an_officers_device_neither_shows_nor_reaches_the_supervisors_actions(
    station: dict[str, Any], tmp_path: Path
) -> None:
    store = copy_store(station, "officer0", tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        home = app.screen
        assert "supervise" not in shown_actions(home)
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is home
        app.action_supervise()  # reached another way: refused, nothing opens
        await pilot.pause()
        assert app.screen is home
        palette = [command.title for command in app.get_system_commands(app.screen)]
        assert palette and not any("Supervise" in title for title in palette)
        app.open_case(station["escalated"])
        await pilot.pause()
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen)
        assert not shown_actions(case_screen) & {"assign", "deadline", "approve"}
        for key in ("a", "t", "e"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is case_screen
        case_screen.action_assign()
        await pilot.pause()
        assert app.screen is case_screen

    run(store, scenario)
    service = reopened(store)
    try:
        case = service.case(station["escalated"])
        assert case["assignee"] is None and case["escalation_approved"] is False
    finally:
        service.close()


# ---------------------------------------------------------------- the supervisor's device


def test_dashboard_figure_drills_down_to_its_cases(station: dict[str, Any], tmp_path: Path) -> None:
    store = copy_store(station, "authority", tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        assert "supervise" in shown_actions(app.screen)
        screen = await supervise(app, pilot, "dashboard")
        assert screen.board is not None and screen.board.overdue == [station["overdue"]]
        await choose_row(pilot, screen.query_one("#figures", DataTable), "overdue")
        listing = app.screen
        assert isinstance(listing, CaseListScreen)
        assert listing.ids == [station["overdue"]]
        assert listing.query_one("#case-list", DataTable).row_count == 1
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == station["overdue"]
        await pilot.press("escape", "escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        await choose_row(pilot, screen.query_one("#figures", DataTable), "risk:red")
        assert isinstance(app.screen, CaseListScreen)
        # The contested case is red if the officer who wrote red wrote last; the resolved red
        # case is not open either way.
        view = app.service.replica.view("cases")
        red = {station["contested"]} if view[station["contested"]]["risk"] == "red" else set()
        assert set(app.screen.ids) == red and station["red"] not in app.screen.ids

    run(store, scenario)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_figure_and_its_count_fit_in_the_dashboards_table(
    station: dict[str, Any], tmp_path: Path, lang: str
) -> None:
    """The table of figures fits its pane in both languages: no count hidden past its edge."""
    store = copy_store(station, "authority", tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "dashboard")
        table = screen.query_one("#figures", DataTable)
        assert table.row_count > 20
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert table.columns["count"].get_render_width(table) >= cell_len(i18n.t("dash.column.count")) + 2
        # Every label is shown whole, the section titles included.
        widest = max(cell_len(str(table.get_cell_at(Coordinate(row, 0)))) for row in range(table.row_count))
        assert widest <= table.columns["figure"].get_render_width(table) - 2 * table.cell_padding

    run(store, scenario, lang)


def test_supervisor_assigns_a_case_with_a_deadline(station: dict[str, Any], tmp_path: Path) -> None:
    store = copy_store(station, "authority", tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        app.open_case(station["overdue"])
        await pilot.pause()
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen)
        assert {"assign", "deadline"} <= shown_actions(case_screen)
        await pilot.press("a")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, AssignDialog)
        dialog.query_one("#officer", Select).value = station["second"]
        dialog.query_one("#deadline", Input).value = NO_DAY
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog  # not a date: said beside the field, nothing recorded
        assert f"{NO_DAY} is not a date: that month has 28 days, so there is no day 30." == str(
            dialog.query_one("#deadline-error").render()
        )
        dialog.query_one("#deadline", Input).value = DUE
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is case_screen
        assert case_screen.case is not None
        assert case_screen.case["assignee"] == station["second"]
        assert case_screen.case["deadline"] == DUE
        assert any(DUE in text for text in case_screen.timeline_texts())

    run(store, scenario)
    service = reopened(store)
    try:
        case = service.case(station["overdue"])
        assert (case["assignee"], case["deadline"], case["claimed_by"]) == (
            station["second"],
            DUE,
            None,
        )
    finally:
        service.close()


def test_supervisor_approves_an_escalation_from_the_review_queue(
    station: dict[str, Any], tmp_path: Path
) -> None:
    store = copy_store(station, "authority", tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "review")
        assert screen.queue.counts["escalation"] == 1
        key = next(i.key for i in screen.queue.items if i.kind == "escalation")
        await choose_row(pilot, screen.query_one("#queue", DataTable), key)
        assert isinstance(app.screen, ApproveDialog)
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert screen.queue.counts["escalation"] == 0

    run(store, scenario, lang="zh")
    service = reopened(store)
    try:
        assert service.case(station["escalated"])["escalation_approved"] is True
    finally:
        service.close()


def test_the_approval_opened_from_the_case_names_the_officer_who_escalated(
    station: dict[str, Any], tmp_path: Path
) -> None:
    """The case screen holds the case as shown (no writers): the dialog still finds who asked,
    as the review queue's does, not the assignee (nobody here)."""
    store = copy_store(station, "authority", tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        app.open_case(station["escalated"])
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ApproveDialog)
        body = str(dialog.query_one("#approve-body").render())
        assert station["second_name"] in body

    run(store, scenario)


def test_supervisor_settles_a_conflict_choosing_the_other_value(
    station: dict[str, Any], tmp_path: Path
) -> None:
    store = copy_store(station, "authority", tmp_path)
    chosen: dict[str, Any] = {}

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "review")
        key = next(i.key for i in screen.queue.items if i.kind == "conflict")
        await choose_row(pilot, screen.query_one("#queue", DataTable), key)
        dialog = app.screen
        assert isinstance(dialog, ConflictDialog)
        assert {v["value"] for v in dialog.values} == {"orange", "red"}
        shown = dialog.case["risk"]
        index = next(i for i, v in enumerate(dialog.values) if v["value"] != shown)
        chosen["risk"] = dialog.values[index]["value"]
        dialog.query_one(f"#value-{index}", RadioButton).value = True
        await pilot.pause()
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert screen.queue.counts["conflict"] == 0

    run(store, scenario)
    service = reopened(store)
    try:
        case = service.case(station["contested"])
        assert case["risk"] == chosen["risk"]
        assert not [c for c in case["conflicts"] if c["open"]]
    finally:
        service.close()


def test_supervisor_revokes_a_device_with_a_reason(station: dict[str, Any], tmp_path: Path) -> None:
    store = copy_store(station, "authority", tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "devices")
        table = screen.query_one("#devices-table", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(station["first"]))
        await pilot.pause()
        assert "revoke" in shown_actions(screen)  # offered on another device's row (not on its own)
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RevokeDialog)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog  # the reason is required
        dialog.query_one("#reason", TextArea).text = "巡逻中遗失"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        row = next(r for r in screen.devices if r["device_id"] == station["first"])
        assert row["revoked"] == {"reason": "巡逻中遗失", "by": row["revoked"]["by"]}

    run(store, scenario)
    service = reopened(store)
    try:
        rows = {r["device_id"]: r for r in device_rows(service)}
        assert rows[station["first"]]["revoked"]["reason"] == "巡逻中遗失"
        assert rows[station["second"]]["revoked"] is None
    finally:
        service.close()


def test_export_from_the_reports_tab_holds_exactly_the_filtered_cases(
    station: dict[str, Any], tmp_path: Path
) -> None:
    store = copy_store(station, "authority", tmp_path)
    out = tmp_path / "exports"
    out.mkdir()
    written: dict[str, Path] = {}

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "reports")
        pane = screen.query_one(ReportsPane)
        pane.query_one("#folder", Input).value = str(tmp_path / "missing")
        pane.export()
        await pilot.pause()
        assert "does not exist" in str(pane.query_one("#exp-result").render())
        pane.query_one("#folder", Input).value = str(out)
        pane.query_one("#exp-risk", Select).value = "orange"
        await pilot.pause()
        await pilot.click("#exp-button")
        await pilot.pause()
        assert pane.last_export is not None
        written["cases"] = pane.last_export
        pane.query_one("#rep-period", Select).value = "quarter"
        pane.write_report()
        await pilot.pause()
        assert pane.last_report is not None
        written["report"] = pane.last_report

    run(store, scenario)
    book = openpyxl.load_workbook(written["cases"], read_only=True)
    rows = list(book["cases"].iter_rows(values_only=True))
    ids = {row[0] for row in rows[1:]}
    service = reopened(store)
    try:
        cases = service.cases()
        orange = {c["id"] for c in cases if c["risk"] == "orange"}
    finally:
        service.close()
    # The orange cases, no others (the contested one is orange if its orange write won).
    assert ids == orange and {station["overdue"], station["escalated"]} <= orange
    # A supervisor's workbook: the persons of those cases too, one row each (counted the test's way).
    assert book.sheetnames == ["cases", "visits", "parties", "persons"]
    people = {party_key(c["id"], p) for c in cases if c["id"] in orange for p in c["parties"]}
    assert book["persons"].max_row - 1 == len(people) > 0
    assert written["report"].parent == out and written["report"].suffix == ".xlsx"
    report = openpyxl.load_workbook(written["report"], read_only=True)["report"]
    assert report.max_row > 3
    figures = {row[1]: row[2] for row in report.iter_rows(min_row=2, values_only=True)}
    assert isinstance(figures["Repeat disputes"], int)  # counted on persons, not "—"


def test_the_agreement_is_written_from_a_resolved_case(station: dict[str, Any], tmp_path: Path) -> None:
    store = copy_store(station, "authority", tmp_path)
    first = tmp_path / f"fieldapp-agreement-{station['red']}.html"
    second = tmp_path / f"fieldapp-agreement-{station['red']}-2.html"

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        app.open_case(station["overdue"])
        await pilot.pause()
        assert "agreement" not in shown_actions(app.screen)  # nothing agreed yet
        await pilot.press("g")  # pressed anyway: says why, in the app's language, and writes nothing
        await pilot.pause()
        assert [str(n.message) for n in app._notifications] == [
            i18n.t("agreement.tui.none", id=station["overdue"])
        ]
        assert "按 u" in str(next(iter(app._notifications)).message)
        app._notifications.clear()
        await pilot.press("escape")
        app.open_case(station["red"])
        await pilot.pause()
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen)
        case_screen.agreement_folder = tmp_path
        set_mediation_org(case_screen.service, "测试镇人民调解委员会")
        assert "agreement" in shown_actions(case_screen)
        await pilot.press("g")
        await pilot.pause()
        assert case_screen.last_agreement == first
        printed = first.read_bytes()
        # A second g never replaces the first file (it may be printed and signed): a new one.
        await pilot.press("g")
        await pilot.pause()
        assert case_screen.last_agreement == second and first.read_bytes() == printed
        messages = [str(n.message) for n in app._notifications]
        for path in (first, second):  # the name and its folder, each on a line of its own
            assert any(f"\n{path.name}\n" in m and str(path.parent) in m for m in messages)
        assert all("调解协议书已写入" in m for m in messages)

    run(store, scenario, lang="zh")
    html = first.read_text(encoding="utf-8")
    assert "人民调解协议书" in html and "兄弟二人每月各承担八百元" in html and station["first_name"] in html
    assert "调解组织：测试镇人民调解委员会" in html and "测试镇人民调解委员会（印章）" in html
    assert second.read_text(encoding="utf-8") == html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_g_is_not_offered_on_a_case_reopened_after_its_agreement(
    station: dict[str, Any], tmp_path: Path, lang: str
) -> None:
    store = copy_store(station, "authority", tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        app.open_case(station["red"])
        await pilot.pause()
        case_screen = app.screen
        assert isinstance(case_screen, CaseScreen)
        case_screen.agreement_folder = tmp_path
        assert "agreement" in shown_actions(case_screen)
        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#reason", TextArea).text = "赡养费未按时支付，纠纷再起"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is case_screen and case_screen.case is not None
        assert case_screen.case["reopened"] is not None
        assert "agreement" not in shown_actions(case_screen)
        app._notifications.clear()
        await pilot.press("g")
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert messages == [i18n.t("agreement.tui.reopened", id=station["red"])]
        if lang == "zh":
            assert "重新启动" in messages[0] and "按 u" in messages[0]
        else:
            assert "reopened after its mediation agreement" in messages[0] and "press u" in messages[0]

    run(store, scenario, lang=lang)
    assert list(tmp_path.glob("fieldapp-agreement-*")) == []


def test_supervisor_places_a_village_in_a_police_area_from_the_dashboard(
    station: dict[str, Any], tmp_path: Path
) -> None:
    store = copy_store(station, "authority", tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "dashboard")
        assert screen.board is not None and set(screen.board.by_area) == {""}
        table = screen.query_one("#figures", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("overdue"))
        await pilot.press("p")
        await pilot.pause()
        assert app.screen is screen  # not a village's row: said, nothing opens
        table.move_cursor(row=table.get_row_index("village:南坡村"))
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PlaceDialog)
        dialog.query_one("#area", Input).value = "第二警务区"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert screen.board.by_area["第二警务区"] == [station["escalated"]]
        assert "area:第二警务区" in screen._drill

    run(store, scenario, lang="zh")
    service = reopened(store)
    try:
        assert service.areas() == {"南坡村": "第二警务区"}
    finally:
        service.close()
