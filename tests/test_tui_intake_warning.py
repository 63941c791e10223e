"""The early warning in the intake form (issue 17, docs/persons.md "Early warning at intake"):
typed as an officer would, on a real officer's store holding cases merged from another device.
Fake people only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea

from fieldapp.core.service import CaseService
from fieldapp.tui import person_index_worker
from fieldapp.tui.app import FieldApp
from fieldapp.tui.early_warning import EarlyWarning
from fieldapp.tui.screens.intake import IntakeScreen
from fieldapp.tui.screens.keys_help import KeysHelp
from harness import PASSPHRASE
from harness.replicas import exchange, station_devices

pytestmark = pytest.mark.timeout(120)

Scenario = Callable[[FieldApp, Pilot[None], IntakeScreen], Awaitable[None]]
MOBILE_SPELLINGS = ("13800001111", "138 0000 1111")


def party(name: str, phone: str = "") -> dict[str, str]:
    return {"name": name, "phone": phone, "role": "party"}


def record(svc: CaseService, village: str, *parties: dict[str, str], category: str = "neighbor") -> str:
    return str(svc.new_case(village, category, "orange", "邻里纠纷测试记录", list(parties))["id"])


@pytest.fixture
def merged_store(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """An officer's store holding another officer's cases, merged: a person known by mobile (two
    cases, the mobile written two ways) and a party without a mobile in 东岭村."""
    with station_devices(tmp_path, 2) as (supervisor, officer, other):
        by_mobile = [record(other, village, party("测试甲", phone)) for village, phone in zip(
            ("东岭村", "西河村"), MOBILE_SPELLINGS, strict=True)]  # fmt: skip
        by_name = record(other, "东岭村", party("测试王"), category="land")
        exchange(supervisor, other)
        exchange(supervisor, officer)
        store = officer.db.store.directory
        facts = {"by_mobile": by_mobile, "by_name": by_name, "other": other.officer}
        officer.close()
    return store, facts


def run_form(store: Path, scenario: Scenario, size: tuple[int, int] = (100, 36), lang: str = "en") -> None:
    """Unlock the real app, press `n` on home for the intake form, run `scenario`."""

    async def main() -> None:
        app = FieldApp(store, lang=lang)
        async with app.run_test(size=size) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("n")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, IntakeScreen)
            await scenario(app, pilot, screen)

    asyncio.run(main())


async def settle(app: FieldApp, pilot: Pilot[None]) -> None:
    """Let the index worker finish and the (zero-second) debounce timer fire."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def retype(pilot: Pilot[None], widget: Input, text: str) -> None:
    widget.focus()
    widget.value = ""
    await pilot.press(*["space" if ch == " " else ch for ch in text])


def panel(screen: IntakeScreen) -> tuple[str, str]:
    """(summary line, case lines) of the early warning; ("", "") when it is hidden."""
    warning = screen.query_one(EarlyWarning)
    if not warning.display:
        return "", ""
    cases = screen.query_one("#warn-cases", Static)
    shown = str(cases.render()) if cases.display else ""
    return str(screen.query_one("#warn-summary", Static).render()), shown


@pytest.fixture
def no_debounce(monkeypatch: pytest.MonkeyPatch) -> None:
    """The warning looks at once after a keystroke (the delay is a timer's, not a worker's)."""
    monkeypatch.setattr(IntakeScreen, "WARNING_SECONDS", 0)


@pytest.mark.usefixtures("no_debounce")
def test_a_known_mobile_in_another_spelling_and_a_name_in_the_village_warn_before_saving(
    merged_store: tuple[Path, dict[str, Any]],
) -> None:
    store, facts = merged_store

    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        await settle(app, pilot)
        assert panel(screen) == ("", "")  # nothing typed: nothing said
        village = screen.query_one("#village", Input)
        name = screen.query_one(".party-name", Input)
        phone = screen.query_one(".party-phone", Input)
        await retype(pilot, village, "北山村")
        await retype(pilot, name, "测试甲")
        await retype(pilot, phone, "+86 138-0000-1111")  # as the other device never wrote it
        await settle(app, pilot)
        summary, cases = panel(screen)
        assert "2 open/recent case(s) of 测试甲 (same mobile)" in summary
        assert "F3: hide." in summary  # a tall terminal lists them at once
        assert "测试甲, same mobile: 2 case(s)" in cases
        for case_id, village_name in zip(facts["by_mobile"], ("东岭村", "西河村"), strict=True):
            [line] = [line for line in cases.splitlines() if case_id in line]
            # village, category, risk, the officer's name, status, when
            assert line.startswith(
                f"  {case_id} · {village_name} · Neighbours · Orange · {facts['other']} · Open · "
            )
        assert facts["by_name"] not in cases  # 测试王 was not typed

        # F3 folds the list to its one line, and F1 names the key.
        await pilot.press("f3")
        await pilot.pause()
        assert panel(screen)[1] == "" and "F3: show." in panel(screen)[0]
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, KeysHelp)
        assert any(line.startswith("f3") and "earlier cases" in line for line in app.screen.texts())
        await pilot.press("escape")
        await pilot.pause()

        # Someone the station has not met: no panel.
        await retype(pilot, name, "新当事人")
        await retype(pilot, phone, "13900002222")
        await settle(app, pilot)
        assert panel(screen) == ("", "")

        # A name without a mobile: only in the village where that name was recorded.
        await retype(pilot, name, "测试王")
        await retype(pilot, phone, "")
        await settle(app, pilot)
        assert panel(screen) == ("", "")  # 北山村: another village
        await retype(pilot, village, "东岭村")
        await settle(app, pilot)
        summary, _cases = panel(screen)
        assert "1 open/recent case(s) of 测试王 (same name in this village" in summary

    run_form(store, scenario)


@pytest.mark.usefixtures("no_debounce")
def test_the_warning_appears_once_the_index_built_off_the_ui_thread_is_ready(
    merged_store: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, facts = merged_store
    release = asyncio.Event()
    build = person_index_worker.person_index_off_thread

    async def held(*views: Any) -> Any:
        await release.wait()
        return await build(*views)

    monkeypatch.setattr("fieldapp.tui.screens.intake.person_index_off_thread", held)

    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        await retype(pilot, screen.query_one(".party-name", Input), "测试甲")
        await retype(pilot, screen.query_one(".party-phone", Input), "13800001111")
        await pilot.pause()
        await pilot.pause()
        summary, _cases = panel(screen)
        assert summary.startswith("Looking up the parties' earlier cases")
        # Typing and saving do not wait: the form still takes keys meanwhile.
        await retype(pilot, screen.query_one("#village", Input), "北山村")
        assert screen.query_one("#village", Input).value == "北山村"
        release.set()
        await settle(app, pilot)
        summary, cases = panel(screen)
        assert "2 open/recent case(s) of 测试甲 (same mobile)" in summary
        assert all(case_id in cases for case_id in facts["by_mobile"])

    run_form(store, scenario)


@pytest.mark.usefixtures("no_debounce")
def test_the_warning_is_one_line_at_80x24_in_chinese_and_every_field_stays_reachable(
    merged_store: tuple[Path, dict[str, Any]],
) -> None:
    store, facts = merged_store

    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        assert app.has_class("-short")
        await settle(app, pilot)
        await retype(pilot, screen.query_one(".party-name", Input), "测试甲")
        await retype(pilot, screen.query_one(".party-phone", Input), "13800001111")
        await settle(app, pilot)
        summary, cases = panel(screen)
        assert summary.startswith("预警：测试甲（同一手机号）已有 2 起未结或近期案件。按 F3 查看")
        assert cases == ""  # folded: the form keeps the rows
        warning = screen.query_one(EarlyWarning)
        assert warning.outer_size.height <= 2
        await pilot.press("f3")
        await pilot.pause()
        assert all(case_id in panel(screen)[1] for case_id in facts["by_mobile"])
        assert warning.outer_size.height <= 8
        # Every field of the form can still be reached, and the save button too.
        for widget_id in ("#deadline", "#save"):
            widget = screen.query_one(widget_id)
            widget.focus()
            await pilot.pause()
            form = screen.query_one("#intake-form")
            overlap = widget.region.intersection(form.region)
            assert overlap.height == widget.outer_size.height > 0, widget_id

    run_form(store, scenario, size=(80, 24), lang="zh")


@pytest.mark.usefixtures("no_debounce")
def test_a_form_filled_while_the_index_is_built_is_saved_without_waiting_for_it(
    merged_store: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _facts = merged_store
    never = asyncio.Event()  # the index is never built in this test

    async def held(*_views: Any) -> Any:
        await never.wait()

    monkeypatch.setattr("fieldapp.tui.screens.intake.person_index_off_thread", held)
    saved: list[str] = []

    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        screen.query_one("#village", Input).value = "东岭村"
        for name, value in (("category", "neighbor"), ("source", "patrol"), ("risk", "orange")):
            screen.query_one(f"#{name}", Select).value = value
        screen.query_one(".party-name", Input).value = "测试甲"
        screen.query_one(".party-phone", Input).value = "13800001111"
        screen.query_one("#summary", TextArea).text = "邻里纠纷测试记录"
        await pilot.pause()
        await pilot.pause()
        assert panel(screen)[0].startswith("Looking up")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not screen.is_attached  # saved and closed, the index still not built
        assert app.service is not None
        saved.extend(c["id"] for c in app.service.cases() if c["village"] == "东岭村")

    run_form(store, scenario)
    assert len(saved) == 3  # the two cases merged from the other device, and this one


@pytest.mark.usefixtures("no_debounce")
def test_the_field_with_the_cursor_stays_in_view_when_the_warning_takes_rows(
    merged_store: tuple[Path, dict[str, Any]],
) -> None:
    store, _facts = merged_store

    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        await settle(app, pilot)
        save = screen.query_one("#save")
        save.focus()  # the lowest widget: the form scrolls it to its bottom edge
        await pilot.pause()
        form = screen.query_one("#intake-form")
        assert save.region.intersection(form.region).height == save.outer_size.height
        # A known party arrives (a paste, a restored draft): the warning takes rows at the bottom.
        screen.query_one(".party-name", Input).value = "测试甲"
        screen.query_one(".party-phone", Input).value = "13800001111"
        await settle(app, pilot)
        assert screen.query_one(EarlyWarning).outer_size.height > 3
        assert app.focused is save
        assert save.region.intersection(form.region).height == save.outer_size.height

    run_form(store, scenario, size=(100, 30))
