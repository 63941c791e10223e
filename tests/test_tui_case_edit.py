"""Issue 15, "friction": the case screen edits a case's risk, summary, village and parties (`m`),
offers every move the rules allow in the status list (tier 2 to tier 3), marks optional fields;
driven as an officer would, on real encrypted stores of a station."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea

from fieldapp import i18n
from fieldapp.core.service import CaseService, init_device
from fieldapp.core.station import adopt_enrolment, issue_certificate
from fieldapp.domain import fields, model
from fieldapp.domain.cases import Step, next_steps, status_refusal
from fieldapp.domain.dialog_drafts import draft_key, read_draft
from fieldapp.domain.intake_form import PartyValues
from fieldapp.tui.app import FieldApp
from fieldapp.tui.intake_widgets import PartyRow
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.case_dialogs import UpdateDialog
from fieldapp.tui.screens.case_edit import EditDialog
from fieldapp.tui.screens.supervisor_dialogs import ConflictDialog
from harness import FAST_KDF, PASSPHRASE
from harness.replicas import exchange, station_devices
from tests.cli import fieldapp as cli
from tests.test_tui_autolock import Idle, files_holding, stack, stored_drafts, unlock
from tests.test_tui_autolock import run as run_80x24
from tests.test_tui_case import intake, notifications, open_dialog, own_ops, run, save, shown

pytestmark = pytest.mark.timeout(120)


def last_edit(app: FieldApp, case_id: str) -> list[str]:
    """The fields the case's last operation wrote, if it was an edit (`case.set`)."""
    assert app.service is not None
    entry = app.service.case(case_id)["history"][-1]
    assert entry["kind"] == "case.set", entry
    return list(entry["what"]["fields"])


def rows(dialog: EditDialog) -> list[PartyRow]:
    return list(dialog.query(PartyRow))


async def type_into(pilot: Pilot[None], widget: Input | TextArea, text: str) -> None:
    """Replace what a field holds by `text`, typed."""
    widget.focus()
    if isinstance(widget, Input):
        widget.value = ""
    else:
        widget.text = ""
    await pilot.press(*text)


def test_m_edits_each_field_and_records_only_what_changed(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer)
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            assert app.service is not None
            footer = {b.description for _, b, _, _ in screen.active_bindings.values()}
            assert "Edit" in footer
            dialog = await open_dialog(app, pilot, "m", EditDialog)
            # Prefilled with the case as it stands.
            assert dialog.query_one("#village", Input).value == "测试村"
            assert dialog.query_one("#risk", Select).value == "yellow"
            assert dialog.query_one("#summary", TextArea).text == "两户因排水沟走向发生争执"
            assert [r.values() for r in rows(dialog)] == [PartyValues("张某某", "13800000001", "applicant")]

            # Saving with nothing changed writes nothing and says so.
            before = own_ops(app.service)
            await save(pilot)
            assert app.screen is dialog
            assert "Nothing was changed" in shown(dialog, "#case-dialog-error")
            assert own_ops(app.service) == before

            # Risk only: one edit, of the risk alone.
            dialog.query_one("#risk", Select).value = "red"
            await save(pilot)
            assert app.screen is screen
            assert own_ops(app.service) == before + 1
            assert last_edit(app, case_id) == ["risk"]
            case = app.service.case(case_id)
            assert case["risk"] == "red" and case["village"] == "测试村"
            assert notifications(app) == [f"Case {case_id} updated."]
            assert " Red " in shown(screen, "#case-title")

            # Village, summary and the parties (one changed, one added): one edit of those three.
            dialog = await open_dialog(app, pilot, "m", EditDialog)
            assert dialog.query_one("#risk", Select).value == "red"
            dialog.query_one("#village", Input).focus()
            await pilot.press(*"三组")  # typed after what is there, not over it (no select on focus)
            await type_into(
                pilot, dialog.query_one("#summary", TextArea), "Drain dispute, now over the wall too"
            )
            await type_into(pilot, rows(dialog)[0].query_one(".party-phone", Input), "13900000002")
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert len(rows(dialog)) == 2 and app.focused is rows(dialog)[1].query_one(".party-name")
            await pilot.press(*"Li")
            rows(dialog)[1].query_one(".party-role", Select).value = "respondent"
            await save(pilot)
            assert app.screen is screen
            assert own_ops(app.service) == before + 2
            assert last_edit(app, case_id) == ["parties", "summary", "village"]
            case = app.service.case(case_id)
            assert case["village"] == "测试村三组" and case["risk"] == "red"
            assert case["summary"] == "Drain dispute, now over the wall too"
            assert case["parties"] == [
                {"name": "张某某", "phone": "13900000002", "role": "applicant"},
                {"name": "Li", "phone": "", "role": "respondent"},
            ]
            assert "Li (respondent)" in shown(screen, "#case-facts")

            # Removing a party (ctrl+r on its row) is an edit of the parties alone.
            dialog = await open_dialog(app, pilot, "m", EditDialog)
            rows(dialog)[0].query_one(".party-name", Input).focus()
            await pilot.press("ctrl+r")
            await pilot.pause()
            assert [r.values().name for r in rows(dialog)] == ["Li"]
            await save(pilot)
            assert last_edit(app, case_id) == ["parties"]
            assert app.service.case(case_id)["parties"] == [{"name": "Li", "phone": "", "role": "respondent"}]

        run(store, case_id, scenario)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_edit_dialog_shows_each_problem_beside_its_field_and_records_nothing(
    tmp_path: Path, lang: str
) -> None:
    """The intake form's checks (fields.py): a village is required, a summary needs 4
    characters, a phone is digits, a party needs a name, a dispute needs a party."""
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer)
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            assert app.service is not None
            before, digest = own_ops(app.service), app.service.state_hash()
            dialog = await open_dialog(app, pilot, "m", EditDialog)
            dialog.query_one("#village", Input).value = "  "
            dialog.query_one("#summary", TextArea).text = "abc"
            rows(dialog)[0].query_one(".party-phone", Input).value = "138abc"
            await pilot.press("ctrl+n")
            await pilot.pause()
            rows(dialog)[1].query_one(".party-phone", Input).value = "13800000009"
            await save(pilot)
            assert app.screen is dialog
            assert shown(dialog, "#village-error") == i18n.t("intake.error.village_required")
            assert shown(dialog, "#summary-error") == i18n.t("rule.summary_too_short.sentence", min=4)
            errors = [shown(row, ".field-error") for row in rows(dialog)]
            assert errors == [
                i18n.t("intake.error.phone", min=5, max=20),
                i18n.t("intake.error.party_name_required"),
            ]
            assert shown(dialog, "#parties-error") == i18n.t("case.edit.fix_parties")
            assert dialog.query_one("#village", Input).has_class("-invalid")
            assert rows(dialog)[0].query_one(".party-phone").has_class("-invalid")
            assert app.focused is dialog.query_one("#village", Input)  # the first field at fault
            if lang == "zh":
                assert shown(dialog, "#summary-error").startswith("情况摘要至少 4 个字")
                assert "电话" in errors[0] and "姓名" in errors[1]
            assert own_ops(app.service) == before and app.service.state_hash() == digest

            # A dispute without any party is refused as at intake.
            dialog.query_one("#village", Input).value = "测试村"
            dialog.query_one("#summary", TextArea).text = "田界纠纷"
            for _ in range(2):
                rows(dialog)[0].query_one(".party-name", Input).focus()
                await pilot.press("ctrl+r")
                await pilot.pause()
            assert rows(dialog) == []
            await save(pilot)
            assert app.screen is dialog
            assert shown(dialog, "#parties-error") == i18n.t("rule.parties_required.sentence")
            assert shown(dialog, "#village-error") == "" and shown(dialog, "#summary-error") == ""
            assert own_ops(app.service) == before

        run(store, case_id, scenario, lang=lang)


def test_the_edit_dialog_checks_only_what_changed(tmp_path: Path) -> None:
    """A summary an earlier version stored (shorter than 4 characters) does not block a change
    of the risk: only typed values are checked."""
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer, summary="纠纷")  # the service takes it, as the reducer does
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            dialog = await open_dialog(app, pilot, "m", EditDialog)
            dialog.query_one("#risk", Select).value = "orange"
            await save(pilot)
            assert app.screen is screen
            assert last_edit(app, case_id) == ["risk"]

        run(store, case_id, scenario)


def test_the_edit_dialog_survives_auto_lock_with_its_party_rows(tmp_path: Path) -> None:
    """Typed values and party rows added or removed come back after the lock (kept encrypted);
    saving then records them and removes the draft."""
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer)
        store = officer.db.store.directory
        officer.close()

    async def scenario(app: FieldApp, pilot: Pilot[None], idle: Idle) -> None:
        app.open_case(case_id)
        await pilot.pause()
        dialog = await open_dialog(app, pilot, "m", EditDialog)
        await type_into(pilot, dialog.query_one("#summary", TextArea), "邻里排水沟纠纷再起")
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press(*"王某某")
        rows(dialog)[1].query_one(".party-phone", Input).value = "13700000003"
        await pilot.pause()
        await idle.lock(pilot)
        assert files_holding(tmp_path, "王某某") == [] and files_holding(tmp_path, "排水沟纠纷再起") == []
        drafts = stored_drafts(store)
        assert list(drafts) == [draft_key("edit", case_id)]
        kept = read_draft(drafts[draft_key("edit", case_id)])
        assert kept is not None and kept["party-rows"] == 2 and kept["party-1-name"] == "王某某"

        await unlock(app, pilot)
        assert stack(app) == ["HomeScreen", "CaseScreen", "EditDialog"]
        back = app.screen
        assert isinstance(back, EditDialog)
        assert back.query_one("#summary", TextArea).text == "邻里排水沟纠纷再起"
        assert [r.values() for r in rows(back)] == [
            PartyValues("张某某", "13800000001", "applicant"),
            PartyValues("王某某", "13700000003", "party"),
        ]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        assert app.service is not None
        case = app.service.case(case_id)
        assert case["summary"] == "邻里排水沟纠纷再起"
        assert [p["name"] for p in case["parties"]] == ["张某某", "王某某"]
        assert not app.service.replica.local.has(draft_key("edit", case_id))

    run_80x24(store, scenario)
    assert stored_drafts(store) == {}


# ------------------------------------------------------------------ the status list


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_escalated_case_at_tier_2_can_go_to_tier_3(tmp_path: Path, lang: str) -> None:
    """The status list offers every move the rules allow: from tier 2, a higher tier (written as
    `case update --tier 3` writes it), the officer's awaiting approval; the reason is optional."""
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer)
        officer.update(case_id, status="escalated", tier=2, reason="")
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            assert app.service is not None
            dialog = await open_dialog(app, pilot, "u", UpdateDialog)
            status = dialog.query_one("#status", Select)
            offered = {value: label for label, value in status._options if value != Select.NULL}
            assert offered["escalated"] == i18n.t("case.update.raise_tier")
            assert set(offered) == {"in_progress", "escalated", "referred", "resolved"}
            status.value = "escalated"
            await pilot.pause()
            tiers = [value for _, value in dialog.query_one("#tier", Select)._options if value != Select.NULL]
            assert tiers == [3]
            await save(pilot)
            assert app.screen is dialog
            assert i18n.t("case.tier.3") in shown(dialog, "#tier-error")
            dialog.query_one("#tier", Select).value = 3
            await save(pilot)
            assert app.screen is screen
            case = app.service.case(case_id)
            assert case["status"] == "escalated" and case["tier"] == 3
            assert case["escalation_approved"] is False  # an officer's raise awaits the supervisor
            assert last_edit(app, case_id) == ["tier"]

        run(store, case_id, scenario, lang=lang)


@pytest.mark.parametrize(("lang", "mark"), [("en", "(optional)"), ("zh", "可不填")])
def test_the_update_dialog_marks_the_reason_optional(tmp_path: Path, lang: str, mark: str) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer)
        store = officer.db.store.directory
        officer.close()

        async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
            dialog = await open_dialog(app, pilot, "u", UpdateDialog)
            dialog.query_one("#status", Select).value = "in_progress"
            await pilot.pause()
            assert mark in shown(dialog, "#reason-label") and mark in shown(dialog, "#note-label")

        run(store, case_id, scenario, lang=lang)


def test_next_steps_offer_what_the_reducer_folds() -> None:
    """From each status (and tier), what the list offers is what `case.status` / `case.set`
    accept: the same checks (`status_refusal`, `tier_raise_refusal`)."""
    base = {"status": "open", "tier": None}
    assert next_steps(base, "officer") == [
        Step("in_progress"),
        Step("escalated", (2, 3)),
        Step("referred"),
        Step("resolved"),
    ]
    at_2 = {"status": "escalated", "tier": 2}
    assert Step("escalated", (3,), tier_raise=True) in next_steps(at_2, "officer")
    at_3 = {"status": "escalated", "tier": 3}
    for role in ("officer", "supervisor"):
        assert next_steps(at_3, role) == [Step("in_progress"), Step("referred"), Step("resolved")]
    for status in model.STATUSES:
        steps = next_steps({"status": status, "tier": None}, "officer")
        offered = {step.status for step in steps if not step.tier_raise}
        assert offered == {new for new in model.STATUSES if status_refusal(status, new) is None}
        assert offered == set(model.TRANSITIONS[status])


# ------------------------------------------------------------------ the conflict dialog


def test_a_deadline_written_in_the_conflict_dialog_is_checked_as_t_checks_it(tmp_path: Path) -> None:
    """Two supervisors set the deadline concurrently; the value written to settle the conflict is
    checked by the deadline dialog's own check (`fields.deadline_problem`): a past date, a day
    that does not exist and one beyond `DEADLINE_MAX_DAYS` are said beside the field, not recorded."""
    today = fields.station_today()
    with station_devices(tmp_path, 0) as (authority,):
        init_device(tmp_path / "deputy", PASSPHRASE, "测试副所长", FAST_KDF)
        deputy = CaseService.open(tmp_path / "deputy", PASSPHRASE)
        try:
            cert, anchor = issue_certificate(
                authority, deputy.identity.public_key, deputy.officer, "supervisor"
            )
            adopt_enrolment(deputy, cert, anchor)
            case_id = intake(authority)
            exchange(authority, deputy)
            authority.update(case_id, fields={"deadline": (today + timedelta(days=10)).isoformat()})
            deputy.update(case_id, fields={"deadline": (today + timedelta(days=20)).isoformat()})
            exchange(authority, deputy)
        finally:
            deputy.close()
        assert [c["field"] for c in authority.case(case_id)["conflicts"] if c["open"]] == ["deadline"]
        store = authority.db.store.directory
        authority.close()

    good = (today + timedelta(days=30)).isoformat()
    bad = {
        "2020-01-31": i18n.t("rule.deadline_past.sentence", date="2020-01-31", today=today.isoformat()),
        "2027-02-30": i18n.t("rule.deadline_no_day.sentence", date="2027-02-30", day=30, days=28),
        "31-12-2026": i18n.t("deadline.required"),
    }
    far = (today + timedelta(days=fields.DEADLINE_MAX_DAYS + 1)).isoformat()
    latest = (today + timedelta(days=fields.DEADLINE_MAX_DAYS)).isoformat()
    bad[far] = i18n.t("rule.deadline_too_far.sentence", date=far, latest=latest)

    async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
        assert app.service is not None
        before = own_ops(app.service)
        dialog = ConflictDialog(app.service, app.service.cases_view()[case_id], "deadline")
        await app.push_screen(dialog)
        await pilot.pause()
        for typed, message in bad.items():
            dialog.query_one("#write", Input).value = typed
            await save(pilot)
            assert app.screen is dialog, typed
            assert shown(dialog, "#write-error") == message
            assert app.focused is dialog.query_one("#write", Input)
            assert own_ops(app.service) == before
        dialog.query_one("#write", Input).value = good
        await save(pilot)
        assert app.screen is screen
        case = app.service.case(case_id)
        assert case["deadline"] == good and not [c for c in case["conflicts"] if c["open"]]

    run(store, case_id, scenario)


# ------------------------------------------------------------------ the command line


@pytest.mark.timeout(120)
def test_case_update_summary_needs_four_characters_as_at_intake(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert cli("init", "--officer", "测试辅警", "--store", store).returncode == 0
    made = cli(
        "case", "new", "--store", store, "--village", "东岭村", "--category", "land", "--risk", "yellow",
        "--summary", "地界争议", "--party", "张某某", "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    case_id = json.loads(made.stdout)["id"]
    short = cli(
        "case", "update", case_id, "--store", store, "--summary", " 纠纷 ", env={"LANG": "zh_CN.UTF-8"}
    )
    assert short.returncode == 1 and short.stdout == ""
    assert "未记录：情况摘要至少 4 个字" in short.stderr
    assert "Not recorded: the summary needs at least 4 characters" in short.stderr
    shown_case = json.loads(cli("case", "show", case_id, "--store", store, "--json").stdout)
    assert shown_case["summary"] == "地界争议" and len(shown_case["history"]) == 1
    longer = cli("case", "update", case_id, "--store", store, "--summary", " 田界纠纷 ", "--json")
    assert longer.returncode == 0, longer.stderr
    assert json.loads(longer.stdout)["summary"] == "田界纠纷"
