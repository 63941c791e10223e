"""The case detail screen, driven as an officer would, on real encrypted stores of a station."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Select, Static, TextArea

from fieldapp import i18n
from fieldapp.core.service import CaseService
from fieldapp.i18n import case as i18n_case
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.case_dialogs import ClaimDialog, ReopenDialog, UpdateDialog, VisitDialog
from fieldapp.tui.screens.home import HomeScreen
from harness import PASSPHRASE
from harness.replicas import exchange, station_devices

pytestmark = pytest.mark.timeout(120)

# All names are invented for tests (station_devices names the officers 测试所长 and 测试辅警0).
SUPERVISOR, OFFICER = "测试所长", "测试辅警0"
Scenario = Callable[[FieldApp, CaseScreen, Pilot[None]], Awaitable[None]]


def intake(svc: CaseService, **overrides: Any) -> str:
    """Record a valid intake; its id."""
    fields: dict[str, Any] = {
        "village": "测试村",
        "category": "neighbor",
        "risk": "yellow",
        "summary": "两户因排水沟走向发生争执",
        "parties": [{"name": "张某某", "phone": "13800000001", "role": "applicant"}],
    }
    fields.update(overrides)
    return str(svc.new_case(**fields)["id"])


def visited(svc: CaseService, **overrides: Any) -> str:
    """A case with one home visit logged."""
    case_id = intake(svc, **overrides)
    svc.add_visit(case_id, "home", "上门了解情况，双方同意调解", place="测试村三组")
    return case_id


def own_ops(svc: CaseService) -> int:
    """How many operations this device has written."""
    return svc.replica.head(f"{svc.identity.device_id}.{svc.identity.epoch:016x}")[0]


def run(store: Path, case_id: str, scenario: Scenario, lang: str = "en") -> None:
    """Unlock the officer's store in the real app (100x30), open the case from home, run `scenario`."""

    async def main() -> None:
        app = FieldApp(store, lang=lang)
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase", Input).value = PASSPHRASE
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
            app.open_case(case_id)  # what Enter on a case row does
            await pilot.pause()
            assert isinstance(app.screen, CaseScreen)
            await scenario(app, app.screen, pilot)

    asyncio.run(main())


def shown(screen: Any, selector: str) -> str:
    """The text a Static shows."""
    return str(screen.query_one(selector, Static).render())


def entry_with(screen: CaseScreen, phrase: str) -> str:
    """The one timeline entry that contains `phrase`."""
    found = [text for text in screen.timeline_texts() if phrase in text]
    assert len(found) == 1, (phrase, screen.timeline_texts())
    return found[0]


async def open_dialog(app: FieldApp, pilot: Pilot[None], key: str, kind: type) -> Any:
    """Press an action key; the dialog it opens."""
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(app.screen, kind)
    return app.screen


async def save(pilot: Pilot[None]) -> None:
    await pilot.press("ctrl+s")
    await pilot.pause()
    await pilot.pause()


def notifications(app: FieldApp) -> list[str]:
    return [n.message for n in app._notifications]


# ------------------------------------------------------------------ reading the case


def test_header_and_timeline_show_who_did_what(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (supervisor, officer):
        exchange(supervisor, officer)
        case_id = visited(officer, risk="red", deadline="2020-01-15", flags=["violence_risk"])
        exchange(supervisor, officer)
        supervisor.update(case_id, status="in_progress", reason="所长督办")
        exchange(supervisor, officer)
        store = officer.db.store.directory
        officer.close()  # the app opens it

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            title = shown(screen, "#case-title")
            assert case_id in title and "测试村" in title and "Neighbours" in title
            assert " Red " in title and "In progress" in title  # risk as a word, not colour alone
            facts = shown(screen, "#case-facts")
            assert "Deadline: 2020-01-15" in facts and "OVERDUE" in facts
            assert "张某某 (applicant, 13800000001)" in facts and "Risk of violence" in facts
            assert "Overdue" in shown(screen, "#case-alerts")

            texts = screen.timeline_texts()
            assert len(texts) == 3
            assert OFFICER in texts[0] and "Intake recorded" in texts[0]
            assert OFFICER in texts[1] and "Visit (Home visit): 上门了解情况，双方同意调解" in texts[1]
            assert "place: 测试村三组" in texts[1]
            assert SUPERVISOR in texts[2] and "Status Open → In progress — reason: 所长督办" in texts[2]
            assert texts[0][:4].isdigit() and texts[0][4] == "-"  # local "YYYY-MM-DD HH:MM" first

            footer = {b.description for _, b, _, _ in screen.active_bindings.values()}
            assert {"Log visit", "Update", "Claim", "Reopen", "Back"} <= footer
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)

        run(store, case_id, scenario)


def test_concurrent_edits_show_as_a_conflict_with_both_values(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (supervisor, officer):
        case_id = intake(officer, risk="yellow")
        exchange(supervisor, officer)
        supervisor.update(case_id, fields={"risk": "red"})  # neither has seen the other's edit
        officer.update(case_id, fields={"risk": "orange"})
        exchange(supervisor, officer)
        assert [c["open"] for c in officer.case(case_id)["conflicts"]] == [True]
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            assert "1 conflicting edit(s) to review (Risk)" in shown(screen, "#case-alerts")
            conflict = entry_with(screen, "Conflict on Risk")
            assert f"Red ({SUPERVISOR}, " in conflict and f"Orange ({OFFICER}, " in conflict
            assert "needs review" in conflict
            entries = list(screen.query(".timeline-entry.-open-conflict"))
            assert len(entries) == 1

        run(store, case_id, scenario)


# ------------------------------------------------------------------ actions


def test_logging_a_visit_checks_the_note_then_records_it(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer)
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            assert app.service is not None
            before = own_ops(app.service)
            dialog = await open_dialog(app, pilot, "v", VisitDialog)
            assert app.focused is dialog.query_one("#kind", Select)
            await pilot.press("enter", "down", "enter")  # the menu: Home visit -> Phone call
            assert dialog.query_one("#kind", Select).value == "phone"

            await save(pilot)
            assert app.screen is dialog
            assert "the note cannot be empty" in shown(dialog, "#note-error")
            assert app.focused is dialog.query_one("#note", TextArea)
            assert own_ops(app.service) == before and app.service.case(case_id)["visits"] == []

            await pilot.press(*"Both sides agree to talk")
            dialog.query_one("#place", Input).focus()
            await pilot.press(*"Group 3")
            await save(pilot)
            assert app.screen is screen
            visits = app.service.case(case_id)["visits"]
            assert [(v["kind"], v["note"], v["place"]) for v in visits] == [
                ("phone", "Both sides agree to talk", "Group 3")
            ]
            assert OFFICER in entry_with(screen, "Visit (Phone call): Both sides agree to talk")
            assert notifications(app) == [f"Visit logged on case {case_id}."]

        run(store, case_id, scenario)


def test_resolving_with_a_mediation_agreement_records_its_terms(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = visited(officer)
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            assert app.service is not None
            dialog = await open_dialog(app, pilot, "u", UpdateDialog)
            assert not dialog.query_one("#terms-field").display
            dialog.query_one("#status", Select).value = "resolved"
            dialog.query_one("#outcome", Select).value = "agreement"
            await pilot.pause()
            assert dialog.query_one("#terms-field").display and not dialog.query_one("#tier-field").display

            await save(pilot)
            assert app.screen is dialog
            assert "Write the agreement's terms" in shown(dialog, "#terms-error")
            assert app.service.case(case_id)["status"] == "open"

            # Everything stays reachable at 100x30: the form scrolls to the focused field.
            body = dialog.query_one(".case-dialog-body")
            note = dialog.query_one("#note", TextArea)
            note.focus()
            await pilot.pause()
            assert body.max_scroll_y > 0 and body.region.contains_region(note.region)
            assert app.screen.region.contains_region(dialog.query_one("#case-dialog-save", Button).region)

            dialog.query_one("#terms", TextArea).focus()
            await pilot.press(*"Li pays Zhang 3000 yuan")
            await save(pilot)
            assert app.screen is screen
            case = app.service.case(case_id)
            assert case["status"] == "resolved"
            assert case["outcome"] == {"kind": "agreement", "terms": "Li pays Zhang 3000 yuan"}
            assert "Resolved: mediation agreement — terms: Li pays Zhang 3000 yuan" in entry_with(
                screen, "Resolved"
            )
            assert "Outcome: mediation agreement — Li pays Zhang 3000 yuan" in shown(screen, "#case-facts")
            assert "Follow-ups:" in shown(screen, "#case-facts")

        run(store, case_id, scenario)


def test_a_refused_update_says_why_and_records_nothing(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        unvisited = intake(officer)
        red = visited(officer, risk="red")
        officer.update(red, status="resolved", outcome={"kind": "withdrawn"})
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            assert app.service is not None
            before, digest = own_ops(app.service), app.service.state_hash()
            dialog = await open_dialog(app, pilot, "u", UpdateDialog)
            dialog.query_one("#status", Select).value = "resolved"
            dialog.query_one("#outcome", Select).value = "withdrawn"
            await save(pilot)
            assert app.screen is dialog
            refusal = shown(dialog, "#case-dialog-error")
            assert refusal.startswith("Refused: A case cannot be resolved before at least one visit")
            assert refusal.endswith("Nothing was recorded.")
            for visible in ("#case-dialog-error", "#case-dialog-save"):  # both on screen at 100x30
                assert app.screen.region.contains_region(dialog.query_one(visible).region)
            assert own_ops(app.service) == before and app.service.state_hash() == digest

            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen and notifications(app) == []
            assert app.service.case(unvisited)["status"] == "open"

            # An officer may not close a red case; a supervisor does that.
            await app.pop_screen()
            await app.push_screen(CaseScreen(app.service, red))
            await pilot.pause()
            dialog = await open_dialog(app, pilot, "u", UpdateDialog)
            dialog.query_one("#status", Select).value = "closed"
            await save(pilot)
            refusal = shown(dialog, "#case-dialog-error")
            assert refusal.startswith("Refused: A red case can only be closed by a supervisor")
            assert own_ops(app.service) == before and app.service.case(red)["status"] == "resolved"

        run(store, unvisited, scenario)


def test_reopening_needs_a_reason(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = visited(officer)
        officer.update(case_id, status="resolved", outcome={"kind": "withdrawn"})
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            assert app.service is not None
            before = own_ops(app.service)
            dialog = await open_dialog(app, pilot, "r", ReopenDialog)
            await save(pilot)
            assert "the reason cannot be empty" in shown(dialog, "#reason-error")
            assert own_ops(app.service) == before

            await pilot.press(*"Drain blocked again")
            await save(pilot)
            assert app.screen is screen
            case = app.service.case(case_id)
            assert case["status"] == "in_progress" and case["reopened"]["reason"] == "Drain blocked again"
            assert "Reopened (Resolved → In progress): Drain blocked again" in entry_with(screen, "Reopened")
            assert notifications(app) == [f"Case {case_id} reopened."]

        run(store, case_id, scenario)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            (
                "Outcome: ",
                "Outcome ended by the reopening: mediation agreement",
                "cancelled by the reopening",
            ),
        ),
        ("zh", ("化解结果：", "重新启动前的化解结果（已失效）：人民调解协议", "因重新启动已取消")),
    ],
)
def test_reopening_with_r_ends_the_agreement_and_cancels_the_follow_ups(
    tmp_path: Path, lang: str, words: tuple[str, str, str]
) -> None:
    """Issue 15, item 2: after `r` the case shows no outcome, the ended one as such, and its
    pending follow-ups as cancelled, not due."""
    current, ended, cancelled = words
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = visited(officer)
        officer.update(case_id, status="resolved", outcome={"kind": "agreement", "terms": "界桩恢复原位"})
        officer.add_visit(case_id, "follow_up", "第一次回访")
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            assert app.service is not None
            assert current in shown(screen, "#case-facts")
            await open_dialog(app, pilot, "r", ReopenDialog)
            await pilot.press(*"Drain blocked again")
            await save(pilot)
            assert app.screen is screen
            facts = shown(screen, "#case-facts")
            assert not [line for line in facts.splitlines() if line.startswith(current)]
            assert f"{ended} — 界桩恢复原位" in facts
            followups = next(line for line in facts.splitlines() if cancelled in line)
            assert followups.count(cancelled) == 2
            assert app.service.case(case_id)["outcome"] is None

        run(store, case_id, scenario, lang=lang)


def test_claiming_makes_the_officer_the_one_in_charge(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (supervisor, officer):
        exchange(supervisor, officer)
        case_id = intake(supervisor)
        exchange(supervisor, officer)
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            assert app.service is not None
            assert "Claimed by: nobody yet" in shown(screen, "#case-facts")
            dialog = await open_dialog(app, pilot, "c", ClaimDialog)
            assert f"You, {OFFICER}, become the officer in charge" in shown(dialog, "#claim-body")
            await pilot.press("enter")  # the Claim button has the focus
            await pilot.pause()
            assert app.screen is screen
            case = app.service.case(case_id)
            assert case["claimed_by"] == case["assignee"] == app.service.identity.device_id
            assert f"Claimed by: {OFFICER}" in shown(screen, "#case-facts")
            assert OFFICER in entry_with(screen, f"Claimed by {OFFICER}")
            assert SUPERVISOR in entry_with(screen, "Intake recorded")

        run(store, case_id, scenario)


def test_buttons_open_the_same_dialogs_as_the_keys(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer)
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            for button, kind in (
                ("#action-visit", VisitDialog),
                ("#action-update", UpdateDialog),
                ("#action-claim", ClaimDialog),
                ("#action-reopen", ReopenDialog),
            ):
                await pilot.click(button)
                await pilot.pause()
                assert isinstance(app.screen, kind)
                await pilot.click("#case-dialog-cancel")
                await pilot.pause()
                assert app.screen is screen
            await pilot.click("#action-back")
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)

        run(store, case_id, scenario)


# ------------------------------------------------------------------ language


def test_switching_language_relabels_screen_and_dialog(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = visited(officer)
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            await pilot.press("f2")
            await pilot.pause()
            assert shown(screen, "#case-title").startswith(f"案件 {case_id}")
            assert "邻里" in shown(screen, "#case-title") and "待处理" in shown(screen, "#case-title")
            assert "登记纠纷" in entry_with(screen, "登记纠纷")
            assert "走访（上门走访）：上门了解情况" in entry_with(screen, "走访")
            footer = {b.description for _, b, _, _ in screen.active_bindings.values()}
            assert {"记录走访", "更新进展", "认领", "重新启动", "返回"} <= footer
            assert str(screen.query_one("#action-visit", Button).label) == "记录走访 (v)"

            dialog = await open_dialog(app, pilot, "v", VisitDialog)
            assert shown(dialog, "#kind-label") == "走访方式"
            await save(pilot)
            assert shown(dialog, "#note-error") == "请填写走访情况，不能为空。"
            await pilot.press("f2")
            await pilot.pause()
            assert shown(dialog, "#kind-label") == "Kind of visit"
            assert "the note cannot be empty" in shown(dialog, "#note-error")

        run(store, case_id, scenario, lang="en")


def test_case_strings_exist_in_both_languages() -> None:
    assert set(i18n_case.EN) == set(i18n_case.ZH)
    assert i18n.missing_keys() == set()
    assert i18n.mismatched_placeholders() == set()
