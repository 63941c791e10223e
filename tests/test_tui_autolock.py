"""Auto-lock keeps what was typed in a dialog (encrypted, as a draft) and returns to it.

Issue 15, item 1: `--lock-after`, open a case, `v`, type a note, wait, unlock: the app is
back on the case with the visit dialog and its note, and says that it locked itself.
The app's clock is a test double (as in test_tui_home's auto-lock test): the tests wait
for the app's own idle checks, never for wall-clock time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, TabbedContent, TextArea

from fieldapp import i18n
from fieldapp.core.service import CaseService
from fieldapp.domain.dialog_drafts import DRAFT_PREFIX, draft_key, read_draft
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.case_dialogs import UpdateDialog, VisitDialog
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.intake import IntakeScreen
from fieldapp.tui.screens.supervisor import SupervisorScreen
from fieldapp.tui.screens.supervisor_dialogs import RevokeDialog
from fieldapp.tui.screens.unlock import UnlockScreen
from harness import PASSPHRASE
from harness.replicas import exchange, station_devices

pytestmark = pytest.mark.timeout(120)

#: Typed into the dialogs; invented text, looked for in every file the test leaves.
NOTE_EN = "Spoke with both households about the ditch"
NOTE_ZH = "双方同意周五再谈水渠"


class FakeClock:
    """The app's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Scenario = Callable[[FieldApp, Pilot[None], "Idle"], Awaitable[None]]


class Idle:
    """Makes the app idle beyond its lock time and waits for its own idle check to lock it."""

    def __init__(self, app: FieldApp, clock: FakeClock) -> None:
        self.app, self.clock, self.checks = app, clock, 0
        check = app.lock_if_idle

        def counted() -> None:
            self.checks += 1
            check()

        app.lock_if_idle = counted  # type: ignore[method-assign]  # before mount: the timer takes this one

    async def lock(self, pilot: Pilot[None]) -> None:
        self.clock.now += 60.0
        target = self.checks + 1
        while self.checks < target:
            await asyncio.sleep(0.01)
        await pilot.pause()
        assert isinstance(self.app.screen, UnlockScreen)
        assert self.app.db is None


def a_case(tmp_path: Path) -> tuple[Path, str]:
    """An officer's store holding one case (the app opens it)."""
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = str(
            officer.new_case(
                village="测试村",
                category="neighbor",
                risk="yellow",
                summary="两户因排水沟走向发生争执",
                parties=[{"name": "张某某", "phone": "13800000001", "role": "applicant"}],
            )["id"]
        )
        store = officer.db.store.directory
        officer.close()
    return store, case_id


def run(store: Path, scenario: Scenario, lang: str = "en") -> None:
    """The real app (80x24) with a fake clock and a lock time of 0.2 s, unlocked; then `scenario`."""

    async def main() -> None:
        clock = FakeClock()
        app = FieldApp(store, lang=lang, clock=clock, lock_after=0.2)
        idle = Idle(app, clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await unlock(app, pilot)
            assert isinstance(app.screen, HomeScreen)
            await scenario(app, pilot, idle)

    asyncio.run(main())


async def unlock(app: FieldApp, pilot: Pilot[None]) -> None:
    app.screen.query_one("#passphrase", Input).value = PASSPHRASE
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def open_case_dialog(app: FieldApp, pilot: Pilot[None], case_id: str, key: str, kind: type) -> Any:
    app.open_case(case_id)  # what Enter on a case row does
    await pilot.pause()
    assert isinstance(app.screen, CaseScreen)
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(app.screen, kind)
    return app.screen


def stack(app: FieldApp) -> list[str]:
    """The screens over the default one, by class name."""
    return [type(screen).__name__ for screen in app.screen_stack[1:]]


def notifications(app: FieldApp) -> list[str]:
    return [n.message for n in app._notifications]


def files_holding(root: Path, text: str) -> list[Path]:
    """Every file under `root` whose bytes contain `text` (UTF-8)."""
    needle = text.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def stored_drafts(store: Path) -> dict[str, Any]:
    """The dialog drafts in the store's `local` table, decrypted."""
    service = CaseService.open(store, PASSPHRASE)
    try:
        local = service.replica.local
        return {key: local.get_copy(key) for key in local.raw() if key.startswith(DRAFT_PREFIX)}
    finally:
        service.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_auto_lock_keeps_the_visit_note_encrypted_and_unlock_returns_to_the_dialog(
    tmp_path: Path, lang: str
) -> None:
    """The issue's scenario: the note survives the lock, only encrypted; unlock returns to the
    case with the dialog and its note, and says the app locked itself; saving removes the draft."""
    store, case_id = a_case(tmp_path)
    note = NOTE_EN if lang == "en" else NOTE_ZH

    async def scenario(app: FieldApp, pilot: Pilot[None], idle: Idle) -> None:
        dialog = await open_case_dialog(app, pilot, case_id, "v", VisitDialog)
        dialog.query_one("#note", TextArea).focus()
        await pilot.press(*note)
        dialog.query_one("#place", Input).focus()
        await pilot.press(*"Group 3")
        assert dialog.query_one("#note", TextArea).text == note

        await idle.lock(pilot)
        assert notifications(app) == [i18n.t("app.auto_locked", minutes=f"{0.2 / 60:g}")]
        # Kept in the store (decrypted here), and in no file in clear: not the store, no temp file.
        assert files_holding(tmp_path, note) == [] and files_holding(tmp_path, "Group 3") == []
        drafts = stored_drafts(store)
        assert list(drafts) == [draft_key("visit", case_id)]
        values = read_draft(drafts[draft_key("visit", case_id)])
        assert values is not None and values["note"] == note and values["place"] == "Group 3"

        await unlock(app, pilot)
        assert stack(app) == ["HomeScreen", "CaseScreen", "VisitDialog"]
        back = app.screen
        assert isinstance(back, VisitDialog) and back.case["id"] == case_id
        assert back.query_one("#note", TextArea).text == note
        assert back.query_one("#place", Input).value == "Group 3"
        assert app.focused is back.query_one("#place", Input)  # the cursor where the typing was
        said = notifications(app)
        assert i18n.t("app.resumed_after_lock", minutes=f"{0.2 / 60:g}") in said
        if lang == "zh":
            assert any("自动锁定" in text and "分钟" in text for text in said)

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        assert app.service is not None
        visits = app.service.case(case_id)["visits"]
        assert [(v["note"], v["place"]) for v in visits] == [(note, "Group 3")]
        assert not app.service.replica.local.has(draft_key("visit", case_id))

    run(store, scenario, lang)
    assert stored_drafts(store) == {}


def test_cancelling_the_restored_dialog_discards_its_draft(tmp_path: Path) -> None:
    """Esc on the dialog brought back after the lock drops the draft: `v` again is empty."""
    store, case_id = a_case(tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None], idle: Idle) -> None:
        await open_case_dialog(app, pilot, case_id, "v", VisitDialog)
        await pilot.press("tab", *NOTE_EN)
        await idle.lock(pilot)
        await unlock(app, pilot)
        assert isinstance(app.screen, VisitDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        assert app.service is not None and not app.service.replica.local.has(draft_key("visit", case_id))
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, VisitDialog)
        assert app.screen.query_one("#note", TextArea).text == ""

    run(store, scenario)
    assert stored_drafts(store) == {}


def test_the_update_dialog_comes_back_with_its_status_reason_and_note(tmp_path: Path) -> None:
    """Choices come back as well as text: the status (and the fields it shows), the reason, the note."""
    store, case_id = a_case(tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None], idle: Idle) -> None:
        dialog = await open_case_dialog(app, pilot, case_id, "u", UpdateDialog)
        dialog.query_one("#status", Select).value = "in_progress"
        await pilot.pause()
        dialog.query_one("#reason", Input).focus()
        await pilot.press(*"Both sides came to the station")
        dialog.query_one("#note", TextArea).focus()
        await pilot.press(*NOTE_ZH)
        await idle.lock(pilot)
        assert files_holding(tmp_path, NOTE_ZH) == []
        assert files_holding(tmp_path, "Both sides came to the station") == []

        await unlock(app, pilot)
        assert stack(app) == ["HomeScreen", "CaseScreen", "UpdateDialog"]
        back = app.screen
        assert back.query_one("#status", Select).value == "in_progress"
        assert back.query_one("#reason-field").display
        assert back.query_one("#reason", Input).value == "Both sides came to the station"
        assert back.query_one("#note", TextArea).text == NOTE_ZH
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.service is not None and app.service.case(case_id)["status"] == "in_progress"

    run(store, scenario)
    assert stored_drafts(store) == {}


def test_a_case_no_longer_on_the_device_leaves_the_officer_on_home_with_a_message(tmp_path: Path) -> None:
    """The screen the officer was on shows a case this store does not hold: unlock goes home and says so."""
    store, _case_id = a_case(tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None], idle: Idle) -> None:
        app.open_case("nosuchcase00")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        await idle.lock(pilot)
        await unlock(app, pilot)
        assert stack(app) == ["HomeScreen"]
        said = notifications(app)
        assert i18n.t("app.resume_case_gone", id="nosuchcase00") in said
        assert i18n.t("app.resumed_after_lock", minutes=f"{0.2 / 60:g}") in said

    run(store, scenario)


def test_a_lock_right_after_typing_keeps_the_intake_form_and_returns_to_it(tmp_path: Path) -> None:
    """The intake's own draft is kept at the lock (not only by its autosave, seconds later), and
    the form is open again after unlock."""
    store, _case_id = a_case(tmp_path)

    async def scenario(app: FieldApp, pilot: Pilot[None], idle: Idle) -> None:
        app.action_new_intake()
        await pilot.pause()
        assert isinstance(app.screen, IntakeScreen)
        await pilot.press(*"西河村")
        await idle.lock(pilot)
        assert files_holding(tmp_path, "西河村") == []
        await unlock(app, pilot)
        assert stack(app) == ["HomeScreen", "IntakeScreen"]
        assert app.screen.query_one("#village", Input).value == "西河村"

    run(store, scenario)


def test_the_supervisors_revoke_dialog_comes_back_on_its_tab_with_the_reason(tmp_path: Path) -> None:
    """A supervisor's dialog too: the devices tab and the revoke dialog with its reason come back;
    the reason is stored only encrypted, and cancelling drops it."""
    with station_devices(tmp_path, 1) as (authority, officer):
        exchange(authority, officer)  # the station's device learns the officer's
        store, officer_id = authority.db.store.directory, officer.identity.device_id
        authority.close()
        officer.close()
    reason = "巡逻中遗失已报备"

    async def scenario(app: FieldApp, pilot: Pilot[None], idle: Idle) -> None:
        await pilot.press("d")
        await app.workers.wait_for_complete()
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        table = screen.query_one("#devices-table", DataTable)
        table.move_cursor(row=table.get_row_index(officer_id))
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, RevokeDialog)
        app.screen.query_one("#reason", TextArea).focus()
        await pilot.press(*reason)
        await idle.lock(pilot)
        assert files_holding(tmp_path, reason) == []
        assert list(stored_drafts(store)) == [draft_key("revoke", officer_id)]

        await unlock(app, pilot)
        await app.workers.wait_for_complete()  # the caseload is read, then the dialog opens
        await pilot.pause()
        assert stack(app) == ["HomeScreen", "SupervisorScreen", "RevokeDialog"]
        back = app.screen
        assert isinstance(back, RevokeDialog) and back.device["device_id"] == officer_id
        assert back.query_one("#reason", TextArea).text == reason
        assert notifications(app) == [
            i18n.t("app.resumed_after_lock", minutes=f"{0.2 / 60:g}"),
            i18n.t("case.dialog.draft_restored"),
        ]
        assert "自动锁定" in notifications(app)[0]
        assert app.screen_stack[-2].query_one(TabbedContent).active == "devices"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SupervisorScreen)

    run(store, scenario, "zh")
    assert stored_drafts(store) == {}
