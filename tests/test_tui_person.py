"""The person screen (一人一档一策, issue 17 item 3), driven as an officer would: reached from a
case's parties (p), its timeline across devices, the plan dialog (k), linking a possible match
(l), and Enter on a row. Real encrypted stores of a station; fake people only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, RadioButton, Select, Static, TextArea

from fieldapp.core.service import CaseService
from fieldapp.domain.persons import person_id_for
from fieldapp.i18n.rules import render
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.person import PersonScreen
from fieldapp.tui.screens.person_dialogs import LinkDialog, PartiesDialog, PlanDialog, UnlinkDialog
from harness import PASSPHRASE
from harness.replicas import converge, station_devices
from tests.cli import fieldapp

pytestmark = pytest.mark.timeout(180)

MOBILE = "13800001111"
PERSON = person_id_for(f"mobile:{MOBILE}")
DUE = (date.today() + timedelta(days=14)).isoformat()
Scenario = Callable[[FieldApp, Pilot[None]], Awaitable[None]]


def party(name: str, phone: str = "", role: str = "applicant") -> dict[str, str]:
    return {"name": name, "phone": phone, "role": role}


def intake(svc: CaseService, village: str, *parties: dict[str, str]) -> str:
    return str(svc.new_case(village, "neighbor", "yellow", "邻里纠纷测试记录", list(parties))["id"])


def own_ops(svc: CaseService) -> int:
    return svc.replica.head(f"{svc.identity.device_id}.{svc.identity.epoch:016x}")[0]


def run(store: Path, scenario: Scenario, lang: str = "en", size: tuple[int, int] = (100, 30)) -> None:
    """The real app on `store`, unlocked on home; then `scenario`."""

    async def main() -> None:
        app = FieldApp(store, lang=lang, lock_after=None)
        async with app.run_test(size=size, notifications=True) as pilot:
            app.screen.query_one("#passphrase", Input).value = PASSPHRASE
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
            await scenario(app, pilot)

    asyncio.run(main())


async def person_from_case(
    app: FieldApp, pilot: Pilot[None], case_id: str, party_index: int = 0
) -> PersonScreen:
    """Open the case, press p, choose a party with Enter: their person screen."""
    app.open_case(case_id)
    await pilot.pause()
    assert isinstance(app.screen, CaseScreen)
    await pilot.press("p")
    await pilot.pause()
    assert isinstance(app.screen, PartiesDialog)
    for _ in range(party_index):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()
    assert isinstance(app.screen, PersonScreen)
    return app.screen


@pytest.fixture
def station(tmp_path: Path) -> dict[str, Any]:
    """Two officers' cases of one person, matched by a mobile written three ways, with visits;
    another person's case; two parties with one name in one village and no mobile. Merged."""
    with station_devices(tmp_path, 2) as (supervisor, first, second):
        ours: dict[str, int] = {}  # case -> visits logged on it
        a = intake(first, "东岭村", party("测试张", MOBILE), party("测试李", role="respondent"))
        first.add_visit(a, "home", "上门了解情况")
        first.add_visit(a, "phone", "电话回访")
        ours[a] = 2
        b = intake(first, "西河村", party("测试张", "+86 138 0000 1111"))
        ours[b] = 0
        c = intake(second, "南坡村", party("测试 张", "138-0000-1111"))
        second.add_visit(c, "mediation", "组织双方调解")
        ours[c] = 1
        other = intake(second, "东岭村", party("测试赵", "13900002222"))
        second.add_visit(other, "home", "走访另一当事人")
        named = intake(first, "北塘村", party("测试王"))
        named_again = intake(second, "北塘村", party("测试王"))
        converge([supervisor, first, second])
        facts = {
            "ours": ours,
            "other": other,
            "named": named,
            "named_again": named_again,
            "first_device": first.identity.device_id,
            "second_device": second.identity.device_id,
            "first": first.db.store.directory,
        }
    return facts


def test_the_timeline_holds_every_case_and_visit_of_a_person_matched_by_mobile(
    station: dict[str, Any],
) -> None:
    ours: dict[str, int] = station["ours"]

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await person_from_case(app, pilot, next(iter(ours)))
        assert screen.person_id == PERSON
        created = [row.case_id for row in screen.rows if row.kind == "case.create"]
        visits = [row.case_id for row in screen.rows if row.kind == "visit.add"]
        assert sorted(created) == sorted(ours)  # each case once, the other person's not
        assert {case: visits.count(case) for case in ours} == ours
        assert station["other"] not in {row.case_id for row in screen.rows}
        # Newest first, and the table shows every row, each naming its case.
        orders = [row.order for row in screen.rows]
        assert orders == sorted(orders, reverse=True)
        table = screen.query_one("#person-timeline", DataTable)
        assert table.row_count == len(screen.rows)
        assert [str(table.get_row_at(i)[1]) for i in range(table.row_count)] == [
            r.case_id for r in screen.rows
        ]
        facts = str(screen.query_one("#person-facts", Static).render())
        assert MOBILE in facts and "东岭村" in facts and "西河村" in facts and "南坡村" in facts

    run(station["first"], scenario)


def test_marking_a_key_person_with_a_plan_records_what_person_show_then_shows(
    station: dict[str, Any],
) -> None:
    store: Path = station["first"]

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await person_from_case(app, pilot, next(iter(station["ours"])))
        await pilot.press("k")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PlanDialog)
        dialog.query_one("#plan", TextArea).text = "每周上门走访一次，稳控情绪"
        dialog.query_one("#due", Input).value = DUE
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert app.screen is screen
        assert f"Person {PERSON} is a key person; plan recorded." in [n.message for n in app._notifications]
        assert screen.person is not None and screen.person.key
        assert "每周上门走访一次" in str(screen.query_one("#person-plan", Static).render())

    run(store, scenario)
    shown = fieldapp("person", "show", "--store", store, PERSON, "--json")
    assert shown.returncode == 0, shown.stderr
    person = json.loads(shown.stdout)
    assert person["key"] is True and person["plan"] == "每周上门走访一次，稳控情绪"
    assert person["officer"] == station["first_device"] and person["due"] == DUE


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_officer_giving_the_plan_to_another_officer_is_refused_with_the_reason(
    station: dict[str, Any], lang: str
) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        assert app.service is not None
        before = own_ops(app.service)
        await person_from_case(app, pilot, next(iter(station["ours"])))
        await pilot.press("k")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PlanDialog)
        dialog.query_one("#plan", TextArea).text = "每周上门走访一次"
        dialog.query_one("#officer", Select).value = station["second_device"]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog  # stays open, saying why
        error = str(dialog.query_one("#case-dialog-error", Static).render())
        reason = render("person_plan_assign_supervisor_only", {}, lang, app=True)
        assert reason[1:] in error, (reason, error)  # (its first letter made a capital)
        assert "--officer" not in error  # the app names its fields, not the command's options
        assert own_ops(app.service) == before

    run(station["first"], scenario, lang=lang)


def test_linking_a_proposed_match_makes_the_other_id_resolve_to_the_person(station: dict[str, Any]) -> None:
    store: Path = station["first"]
    shown: list[str] = []

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await person_from_case(app, pilot, station["named"])
        assert [p.cases[0].id for p in screen.proposals] == [station["named_again"]]
        other = screen.proposals[0].id
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LinkDialog)
        await pilot.press("enter")  # the first (only) match
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert app.screen is screen
        assert screen.person is not None and other in screen.person.aliases + (screen.person.id,)
        assert {r.case_id for r in screen.rows} == {station["named"], station["named_again"]}
        assert screen.proposals == []
        shown.extend([screen.person.id, other])

    run(store, scenario)
    service = CaseService.open(store, PASSPHRASE)
    try:
        index = service.person_index()
        assert index.resolve(shown[1]) == index.resolve(shown[0]) == shown[0]
    finally:
        service.close()


def test_unlinking_an_alias_gives_both_ids_back_as_person_show_then_says(station: dict[str, Any]) -> None:
    store: Path = station["first"]
    first = CaseService.open(store, PASSPHRASE)
    try:  # an officer linked the two 测试王 of 北塘村 (no mobile) earlier
        index = first.person_index()
        named = index.person_of(station["named"], party("测试王"))
        again = index.person_of(station["named_again"], party("测试王"))
        assert named and again and named != again
        first.link_persons(named, again)
    finally:
        first.close()

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await person_from_case(app, pilot, station["named"])
        assert screen.person is not None and screen.person.id == named and screen.person.aliases == (again,)
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, UnlinkDialog)
        # The alias is said with whom it names, not only as an id.
        label = str(dialog.query(RadioButton).first().label)
        assert label == f"{again}  测试王 · no mobile · 北塘村 · 1 case(s)"
        await pilot.press("enter")  # the only alias
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert screen.person is not None and screen.person.id == named and screen.person.aliases == ()
        assert {r.case_id for r in screen.rows} == {station["named"]}
        assert screen.proposals == []  # said not to be one person: no longer proposed either

    run(store, scenario)
    for pid, case in ((named, station["named"]), (again, station["named_again"])):
        shown = fieldapp("person", "show", "--store", store, pid, "--json")
        assert shown.returncode == 0, shown.stderr
        person = json.loads(shown.stdout)
        assert person["id"] == pid and person["aliases"] == []
        assert [c["id"] for c in person["cases"]] == [case]


def test_f2_turns_the_timeline_into_the_other_language_too(station: dict[str, Any]) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await person_from_case(app, pilot, station["named"])
        assert [row.text for row in screen.rows] == ["Intake recorded"]
        await pilot.press("f2")
        await pilot.pause()
        assert [row.text for row in screen.rows] == ["登记纠纷"]
        table = screen.query_one("#person-timeline", DataTable)
        assert str(table.get_row_at(0)[-1]) == "登记纠纷"
        assert "人员档案" in str(screen.query_one("#person-title", Static).render())

    run(station["first"], scenario)


def test_enter_on_a_timeline_row_opens_that_case(station: dict[str, Any]) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await person_from_case(app, pilot, next(iter(station["ours"])))
        table = screen.query_one("#person-timeline", DataTable)
        wanted = next(i for i, row in enumerate(screen.rows) if row.case_id != screen.rows[0].case_id)
        table.focus()
        table.move_cursor(row=wanted)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.case_id == screen.rows[wanted].case_id
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen

    run(station["first"], scenario)


def test_a_lock_with_the_plan_dialog_open_comes_back_to_the_person_and_the_draft(
    station: dict[str, Any],
) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        await person_from_case(app, pilot, next(iter(station["ours"])))
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, PlanDialog)
        app.screen.query_one("#plan", TextArea).text = "每月走访一次"
        app.action_lock()
        await pilot.pause()
        app.screen.query_one("#passphrase", Input).value = PASSPHRASE
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PlanDialog), app.screen_stack
        assert dialog.query_one("#plan", TextArea).text == "每月走访一次"
        under = app.screen_stack[-2]
        assert isinstance(under, PersonScreen) and under.person_id == PERSON
        assert isinstance(app.screen_stack[-3], CaseScreen)

    run(station["first"], scenario)


def test_an_overdue_plan_is_marked_and_can_be_rewritten_without_moving_its_date(
    station: dict[str, Any],
) -> None:
    store: Path = station["first"]
    past = (date.today() - timedelta(days=3)).isoformat()
    service = CaseService.open(store, PASSPHRASE)
    try:  # as another version or `person key` before that day recorded it
        service.mark_key_person(PERSON, "每周上门走访一次", None, past)
    finally:
        service.close()

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await person_from_case(app, pilot, next(iter(station["ours"])))
        plan = str(screen.query_one("#person-plan", Static).render())
        assert past in plan and "OVERDUE" in plan
        await pilot.press("k")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PlanDialog)
        assert dialog.query_one("#due", Input).value == past
        dialog.query_one("#plan", TextArea).text = "每周上门走访两次"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert app.screen is screen, str(dialog.query_one("#due-error", Static).render())
        assert screen.person is not None and screen.person.plan == "每周上门走访两次"
        assert screen.person.due == past
        # A date typed anew is checked as `person key --due` checks it: not in the past.
        await pilot.press("k")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PlanDialog)
        dialog.query_one("#due", Input).value = (date.today() - timedelta(days=1)).isoformat()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        assert str(dialog.query_one("#due-error", Static).render())

    run(store, scenario)
