"""The intake form, typed into as an officer would: checks, durable save, parties, drafts, language."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Select, Static, TextArea

from fieldapp import i18n
from fieldapp.core.service import CaseService, init_device
from fieldapp.domain import model
from fieldapp.domain.fields import station_today
from fieldapp.domain.intake_form import (
    DRAFT_KEY,
    IntakeValues,
    PartyValues,
    case_fields,
    draft_doc,
    known_villages,
    matching_villages,
    read_draft,
    validate,
)
from fieldapp.tui.app import FieldApp
from fieldapp.tui.intake_widgets import PartyRow
from fieldapp.tui.screens.intake import IntakeScreen
from fieldapp.tui.screens.unlock import UnlockScreen
from harness import FAST_KDF, PASSPHRASE

#: A deadline the form takes whenever the test runs (not before today, not two years ahead).
DUE = (station_today() + timedelta(days=30)).isoformat()

pytestmark = pytest.mark.timeout(120)

T = TypeVar("T")
Scenario = Callable[[FieldApp, Pilot[None], IntakeScreen], Awaitable[None]]


@pytest.fixture
def enrolled(store_dir: Path) -> Path:
    """A real store with a device identity and no cases."""
    init_device(store_dir, PASSPHRASE, "Wang Fang", FAST_KDF)
    return store_dir


def with_service(store_dir: Path, use: Callable[[CaseService], T]) -> T:
    """Open the store (as the CLI would), use it, lock it again."""
    service = CaseService.open(store_dir, PASSPHRASE)
    try:
        return use(service)
    finally:
        service.close()


def run_intake(store_dir: Path, scenario: Scenario, lang: str = "en") -> list[str | None]:
    """Unlock the real app at 100x30, push the intake form, run `scenario`; the dismiss results."""
    results: list[str | None] = []

    async def main() -> None:
        app = FieldApp(store_dir, lang=lang)
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.service is not None
            screen = IntakeScreen(app.service)
            await app.push_screen(screen, results.append)
            await pilot.pause()
            await scenario(app, pilot, screen)

    asyncio.run(main())
    return results


def keys(text: str) -> list[str]:
    """Key presses typing `text` (Chinese characters arrive as typed characters, as from an IME)."""
    return ["space" if ch == " " else ch for ch in text]


async def type_into(pilot: Pilot[None], widget: Input | TextArea, text: str) -> None:
    widget.focus()
    await pilot.press(*keys(text))


async def choose(pilot: Pilot[None], select: Select[str], value: str) -> None:
    """Open a Select with Enter and move to `value` with the arrow keys, as on the device."""
    select.focus()
    await pilot.press("enter")
    overlay = select.query_one("SelectOverlay", OptionList)
    target = [v for _, v in select._options].index(value)
    current = overlay.highlighted or 0
    await pilot.press(*(["down"] * (target - current) or ["up"] * (current - target)), "enter")
    await pilot.pause()
    assert select.value == value


def error_of(screen: IntakeScreen, name: str) -> str:
    """The message beside a field ('' when hidden)."""
    label = screen.query_one(f"#{name}-error", Static)
    return str(label.render()) if label.display else ""


def rows(screen: IntakeScreen) -> list[PartyRow]:
    return list(screen.query(PartyRow))


def case_count(app: FieldApp) -> int:
    assert app.service is not None
    return len(app.service.cases())


def test_bad_fields_are_explained_beside_them_and_nothing_is_recorded_until_fixed(enrolled: Path) -> None:
    saved: list[str] = []

    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        await type_into(pilot, screen.query_one("#village", Input), "西河村")
        await choose(pilot, screen.query_one("#category", Select), "homestead")
        await choose(pilot, screen.query_one("#source", Select), "grid_report")
        row = rows(screen)[0]
        await type_into(pilot, row.query_one(".party-name", Input), "张三")
        await type_into(pilot, row.query_one(".party-phone", Input), "12ab")
        await choose(pilot, row.query_one(".party-role", Select), "applicant")
        await choose(pilot, screen.query_one("#risk", Select), "orange")
        screen.query_one("#flag-petition_threat", Checkbox).focus()
        await pilot.press("space")
        await type_into(pilot, screen.query_one("#deadline", Input), "2026-13-45")

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert error_of(screen, "summary") == "Describe the dispute in a few words."
        assert error_of(screen, "deadline") == (  # the format is right: which part does not exist
            "2026-13-45 is not a date: there is no month 13 (months run 01 to 12); write it as "
            "year-month-day, e.g. 2026-12-31."
        )
        party_error = row.query_one(".field-error", Static)
        assert str(party_error.render()) == "Phone: 5 to 20 digits, optionally starting with +."
        assert error_of(screen, "village") == error_of(screen, "category") == error_of(screen, "risk") == ""
        assert "3 field(s)" in str(screen.query_one("#intake-error", Static).render())
        assert screen.focused is row.query_one(".party-phone")  # the first field to fix, in form order
        assert case_count(app) == 0 and app.screen is screen

        row.query_one(".party-phone", Input).value = ""
        await type_into(pilot, row.query_one(".party-phone", Input), "+8613800138000")
        await pilot.pause()
        assert str(party_error.render()) == ""  # messages follow corrections once a save was tried
        summary = screen.query_one("#summary", TextArea)
        await type_into(pilot, summary, "两户因宅基地墙界争执")
        summary.insert("，")  # Pilot cannot press full-width punctuation (a terminal sends it as text)
        await type_into(pilot, summary, "张三称邻居占地 30 厘米")
        screen.query_one("#deadline", Input).value = ""
        await type_into(pilot, screen.query_one("#deadline", Input), DUE)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is not screen
        assert case_count(app) == 1
        saved.extend(str(n.message) for n in app._notifications)

    results = run_intake(enrolled, scenario)
    assert len(results) == 1 and results[0] is not None
    case_id = results[0]
    assert saved == [f"Case {case_id} saved."]

    def check(service: CaseService) -> None:  # a fresh unlock: the save was durable
        case = service.case(case_id)
        assert {
            k: case[k] for k in ("village", "category", "source", "risk", "summary", "flags", "deadline")
        } == {
            "village": "西河村",
            "category": "homestead",
            "source": "grid_report",
            "risk": "orange",
            "summary": "两户因宅基地墙界争执，张三称邻居占地 30 厘米",
            "flags": ["petition_threat"],
            "deadline": DUE,
        }
        assert case["parties"] == [{"name": "张三", "phone": "+8613800138000", "role": "applicant"}]
        assert len(service.cases()) == 1
        assert service.replica.local.get_copy(DRAFT_KEY) is None

    with_service(enrolled, check)


def test_the_domain_refusal_is_shown_in_the_general_line(
    enrolled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        assert app.service is not None
        monkeypatch.setattr(app.service, "new_case", _refuse)
        await type_into(pilot, screen.query_one("#village", Input), "东岭村")
        await choose(pilot, screen.query_one("#category", Select), "land")
        await type_into(pilot, rows(screen)[0].query_one(".party-name", Input), "张某某")
        await choose(pilot, screen.query_one("#risk", Select), "red")
        await type_into(pilot, screen.query_one("#summary", TextArea), "田界纠纷")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert (
            str(screen.query_one("#intake-error", Static).render()) == "Not recorded: the village is closed."
        )
        assert app.screen is screen and case_count(app) == 0

    assert run_intake(enrolled, scenario) == []


def _refuse(**_fields: object) -> dict[str, Any]:
    from fieldapp.core.service import CaseError

    raise CaseError("Not recorded: the village is closed.")


def test_parties_are_added_and_removed_by_key_and_by_button(enrolled: Path) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        await type_into(pilot, rows(screen)[0].query_one(".party-name", Input), "张三")
        for name in ("李四", "王五"):
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert screen.focused is rows(screen)[-1].query_one(".party-name")
            await pilot.press(*keys(name))
        assert [r.values().name for r in rows(screen)] == ["张三", "李四", "王五"]

        rows(screen)[1].query_one(".party-phone", Input).focus()  # ctrl+r removes the row with the cursor
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert [r.values().name for r in rows(screen)] == ["张三", "王五"]
        assert screen.focused is rows(screen)[1].query_one(".party-name")

        await pilot.press("ctrl+n")  # an extra row, removed with the mouse
        await pilot.pause()
        remove = rows(screen)[-1].query_one(".party-remove", Button)
        remove.scroll_visible(animate=False)
        await pilot.pause()
        assert await pilot.click(remove)
        await pilot.pause()
        assert len(rows(screen)) == 2

        await pilot.press("ctrl+n")  # a blank row is ignored when saving
        await pilot.pause()
        await type_into(pilot, screen.query_one("#village", Input), "西河村")
        await choose(pilot, screen.query_one("#category", Select), "neighbor")
        await choose(pilot, screen.query_one("#risk", Select), "yellow")
        await type_into(pilot, screen.query_one("#summary", TextArea), "邻里噪音")
        await pilot.press("ctrl+s")
        await pilot.pause()

    [case_id] = run_intake(enrolled, scenario)
    assert case_id is not None
    parties = with_service(enrolled, lambda s: s.case(case_id)["parties"])
    assert parties == [
        {"name": "张三", "phone": "", "role": "party"},
        {"name": "王五", "phone": "", "role": "party"},
    ]


def test_escape_keeps_a_draft_that_comes_back_after_the_store_is_reopened(enrolled: Path) -> None:
    async def fill_and_escape(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        assert not screen.query_one("#draft-note").display
        await type_into(pilot, screen.query_one("#village", Input), "西河村")
        await choose(pilot, screen.query_one("#risk", Select), "red")
        await type_into(pilot, rows(screen)[0].query_one(".party-name", Input), "李四")
        await type_into(pilot, screen.query_one("#summary", TextArea), "扬言上访")
        screen.query_one("#flag-violence_risk", Checkbox).value = True
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen
        assert case_count(app) == 0
        assert [n.message for n in app._notifications] == [i18n.t("intake.draft_kept")]

        assert app.service is not None
        again = IntakeScreen(app.service)  # reopened in the same session
        await app.push_screen(again)
        await pilot.pause()
        assert again.query_one("#village", Input).value == "西河村"
        assert again.query_one("#draft-note").display

    assert run_intake(enrolled, fill_and_escape) == [None]

    async def reopened(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        assert screen.query_one("#draft-note").display
        assert "Draft restored" in str(screen.query_one("#draft-text", Static).render())
        assert screen.query_one("#village", Input).value == "西河村"
        assert screen.query_one("#risk", Select).value == "red"
        assert screen.query_one("#category", Select).is_blank()
        assert [r.values() for r in rows(screen)] == [PartyValues("李四", "", "party")]
        assert screen.query_one("#summary", TextArea).text == "扬言上访"
        assert screen.query_one("#flag-violence_risk", Checkbox).value
        assert not screen.query_one("#flag-petition_threat", Checkbox).value
        footer = {b.description for _, b, _, _ in screen.active_bindings.values()}
        assert "Discard draft" in footer

    run_intake(enrolled, reopened)


def test_a_draft_is_kept_when_the_app_quits_with_the_form_open(enrolled: Path) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        await type_into(pilot, screen.query_one("#summary", TextArea), "浇水纠纷")
        await pilot.pause()
        await pilot.press("ctrl+q")

    run_intake(enrolled, scenario)
    stored = with_service(enrolled, lambda s: read_draft(s.replica.local.get_copy(DRAFT_KEY)))
    assert stored is not None and stored[0].summary == "浇水纠纷"


def test_a_draft_is_kept_shortly_after_typing_so_locking_loses_nothing(
    enrolled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(IntakeScreen, "AUTOSAVE_SECONDS", 0.01)

    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        await type_into(pilot, screen.query_one("#village", Input), "西河村")
        await pilot.pause(0.3)  # the autosave timer's delay, not a worker's
        app.action_lock()  # closes the store before the form goes (as auto-lock does)
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen)

    run_intake(enrolled, scenario)
    stored = with_service(enrolled, lambda s: read_draft(s.replica.local.get_copy(DRAFT_KEY)))
    assert stored is not None and stored[0].village == "西河村"


def test_discarding_the_draft_empties_the_form_and_the_store(enrolled: Path) -> None:
    draft = IntakeValues(village="东岭村", category="land", summary="田界", parties=())
    with_service(enrolled, lambda s: s.replica.local.put(DRAFT_KEY, draft_doc(draft, "2026-05-01 09:30")))

    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        assert "2026-05-01 09:30" in str(screen.query_one("#draft-text", Static).render())
        assert screen.query_one("#category", Select).value == "land"
        await pilot.press("f8")
        await pilot.pause()
        assert not screen.query_one("#draft-note").display
        assert screen.query_one("#village", Input).value == ""
        assert screen.query_one("#category", Select).is_blank()
        assert screen.query_one("#summary", TextArea).text == ""
        assert len(rows(screen)) == 1
        assert app.service is not None and app.service.replica.local.get_copy(DRAFT_KEY) is None
        footer = {b.description for _, b, _, _ in screen.active_bindings.values()}
        assert "Discard draft" not in footer
        await pilot.press("escape")  # an empty form leaves no draft behind
        await pilot.pause()

    assert run_intake(enrolled, scenario) == [None]
    assert with_service(enrolled, lambda s: s.replica.local.get_copy(DRAFT_KEY)) is None


def test_village_quick_search_offers_the_stations_villages(enrolled: Path) -> None:
    def seed(service: CaseService) -> None:
        service.new_case("西河村", "land", "red", "a")
        service.new_case("西河村", "land", "red", "b")
        service.new_case("东河村", "land", "red", "c")

    with_service(enrolled, seed)

    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        village = screen.query_one("#village", Input)
        hint = screen.query_one("#village-hint", Static)
        assert str(hint.render()) == "Known: 西河村 · 东河村"
        await type_into(pilot, village, "东")
        await pilot.press("right")  # accepts the inline suggestion
        assert village.value == "东河村"
        village.value = ""
        await type_into(pilot, village, "河")
        assert str(hint.render()) == "Known: 西河村 · 东河村"
        await pilot.press("enter")  # takes the first match and moves on
        assert village.value == "西河村"
        assert screen.focused is screen.query_one("#category")
        village.value = "南山村"
        await pilot.pause()
        assert str(hint.render()) == "A new village: it joins the list once saved."

    run_intake(enrolled, scenario)


def test_switching_language_relabels_the_form_and_its_messages(enrolled: Path) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        await choose(pilot, screen.query_one("#category", Select), "irrigation")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause()
        assert str(screen.query_one("#label-village", Label).render()) == "村（社区）"
        assert str(screen.query_one("#intake-title", Static).render()) == "登记矛盾纠纷或安全隐患"
        assert error_of(screen, "summary") == "请简要描述纠纷情况。"
        assert screen.query_one("#category", Select).value == "irrigation"  # kept while relabelled
        assert (
            str(screen.query_one("#category", Select).query_one("SelectCurrent #label", Static).render())
            == "浇水灌溉"
        )
        assert str(screen.query_one("#flag-repeat_calls", Checkbox).label) == "重复警情"
        assert str(rows(screen)[0].query_one(".party-remove", Button).label) == "删除"
        assert role_shown(screen) == "当事人"  # a row's role (a Select that cannot be blank) too
        footer = {b.description for _, b, _, _ in screen.active_bindings.values()}
        assert {"保存", "添加当事人", "English"} <= footer
        # An open list's own key (Textual's "Dismiss menu") is labelled in Chinese too.
        screen.query_one("#risk", Select).focus()
        await pilot.press("enter")
        await pilot.pause()
        menu = {b.description for _, b, _, _ in screen.active_bindings.values()}
        assert "关闭列表" in menu and "Dismiss menu" not in menu
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause()
        assert str(screen.query_one("#label-village", Label).render()) == "Village"
        assert role_shown(screen) == "Party"

    run_intake(enrolled, scenario)


def role_shown(screen: IntakeScreen) -> str:
    """The first party row's role as its Select shows it (the chosen option's label)."""
    role = rows(screen)[0].query_one(".party-role", Select)
    return str(role.query_one("SelectCurrent #label", Static).render())


def test_every_intake_string_exists_in_both_languages() -> None:
    assert i18n.missing_keys() == set()
    assert i18n.mismatched_placeholders() == set()


# ------------------------------------------------------------ the form's rules, without a screen


def test_phone_numbers_are_digits_with_an_optional_plus() -> None:
    def phone_ok(phone: str) -> bool:
        values = IntakeValues(parties=(PartyValues("张三", phone),))
        return not [p for p in validate(values) if p.field == "party_phone"]

    assert phone_ok("") and phone_ok("12345") and phone_ok("+8613800138000") and phone_ok("1" * 20)
    assert (
        not phone_ok("1234")
        and not phone_ok("1" * 21)
        and not phone_ok("138-0013")
        and not phone_ok("1+2345")
    )
    assert phone_ok("１３８００１３８０００")  # full-width digits from a Chinese IME are stored as ASCII
    values = IntakeValues(
        "村", "land", "patrol", (PartyValues("张三", "１３８００１３８０００"),), "s", "red"
    )
    assert case_fields(values)["parties"] == [{"name": "张三", "phone": "13800138000", "role": "party"}]


def test_only_party_rows_with_content_need_a_name() -> None:
    values = IntakeValues(parties=(PartyValues(), PartyValues("", "13800138000"), PartyValues("  ")))
    problems = [(p.field, p.index) for p in validate(values) if p.field.startswith("party")]
    assert problems == [("party_name", 1)]


def test_drafts_round_trip_and_junk_is_ignored() -> None:
    values = IntakeValues(
        "西河村", "land", None, (PartyValues("张三", "1", "witness"),), "摘要", "red", ("repeat_calls",), "x"
    )
    assert read_draft(draft_doc(values, "t")) == (values, "t")
    assert read_draft({"version": 99}) is None and read_draft("junk") is None
    odd = read_draft({"version": 1, "category": "nonsense", "parties": [{"role": "king"}, 3], "flags": ["x"]})
    assert odd is not None
    assert odd[0] == IntakeValues(category=None, source=None, parties=(PartyValues(),), flags=())


def test_villages_are_offered_most_used_first() -> None:
    cases: list[dict[str, Any]] = [
        {"village": "B"},
        {"village": "A"},
        {"village": "B"},
        {"village": " "},
        {"village": "C", "exists": False},
    ]
    assert known_villages(cases) == ["B", "A"]
    assert matching_villages(["西河村", "东河村", "河口"], "河") == ["河口", "西河村", "东河村"]


def test_tab_goes_through_the_party_rows_before_the_add_party_button(enrolled: Path) -> None:
    """The form is walked top to bottom: source, the row's name, phone, role, remove, then "Add party"."""
    walked: list[str] = []

    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        screen.query_one("#source", Select).focus()
        for _ in range(6):
            await pilot.press("tab")
            focused = app.focused
            assert focused is not None
            walked.append(focused.id or next(c for c in focused.classes if c.startswith("party-")))

    run_intake(enrolled, scenario)
    assert walked[:6] == ["party-name", "party-phone", "party-role", "party-remove", "add-party", "summary"]


def test_typing_after_a_focus_adds_to_the_text_instead_of_replacing_it(enrolled: Path) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        village = screen.query_one("#village", Input)
        village.value = "东岭"
        name = rows(screen)[0].query_one(".party-name", Input)
        name.value = "张某"
        deadline = screen.query_one("#deadline", Input)
        deadline.value = "2026-12-3"
        screen.query_one("#category", Select).focus()
        await pilot.press("shift+tab", "村")  # back into the village, as an officer would
        assert app.focused is village and village.value == "东岭村"
        screen.query_one("#source", Select).focus()
        await pilot.press("tab", "某")
        assert app.focused is name and name.value == "张某某"
        screen.query_one("#flag-" + model.FLAGS[-1], Checkbox).focus()
        await pilot.press("tab", "1")
        assert app.focused is deadline and deadline.value == "2026-12-31"

    run_intake(enrolled, scenario)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_dispute_without_a_party_or_with_a_three_character_summary_is_not_saved(
    enrolled: Path, lang: str
) -> None:
    said: dict[str, str] = {}

    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        await type_into(pilot, screen.query_one("#village", Input), "东岭村")
        await choose(pilot, screen.query_one("#category", Select), "land")
        await choose(pilot, screen.query_one("#risk", Select), "yellow")
        await type_into(pilot, screen.query_one("#summary", TextArea), "abc")
        await pilot.press("ctrl+s")
        await pilot.pause()
        said["parties"], said["summary"] = error_of(screen, "parties"), error_of(screen, "summary")
        assert case_count(app) == 0
        assert app.focused is rows(screen)[0].query_one(".party-name")  # the first thing to fix
        await type_into(pilot, rows(screen)[0].query_one(".party-name", Input), "张某某")
        await type_into(pilot, screen.query_one("#summary", TextArea), "de")
        await pilot.pause()
        assert error_of(screen, "parties") == error_of(screen, "summary") == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert case_count(app) == 1

    results = run_intake(enrolled, scenario, lang)
    assert len(results) == 1 and results[0] is not None
    if lang == "en":
        assert said["parties"] == (
            "a dispute needs at least one party (only a safety hazard may have none): add one with ctrl+n."
        )
        assert (
            said["summary"] == "the summary needs at least 4 characters: say what happened and between whom."
        )
    else:
        assert said["parties"] == "纠纷须至少填写一名当事人（只有安全隐患可以不填）：按 ctrl+n 添加。"
        assert said["summary"] == "情况摘要至少 4 个字：请写明发生了什么、在谁之间。"


def test_a_safety_hazard_is_saved_without_a_party(enrolled: Path) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None], screen: IntakeScreen) -> None:
        await type_into(pilot, screen.query_one("#village", Input), "东岭村")
        await choose(pilot, screen.query_one("#category", Select), "hazard")
        await choose(pilot, screen.query_one("#risk", Select), "orange")
        await type_into(pilot, screen.query_one("#summary", TextArea), "村口桥栏杆断裂")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert case_count(app) == 1

    results = run_intake(enrolled, scenario)
    [case_id] = results
    assert case_id is not None
    case = with_service(enrolled, lambda s: s.case(case_id))
    assert case["category"] == "hazard" and case["parties"] == []
