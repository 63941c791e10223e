"""The command line in the user's language: `case show` in full, typed deadlines checked, and
every daily command in Chinese with `--lang zh`, with the locale, or as the device remembers.

Language precedence (README.md, "Language"): `--lang`, else the device's remembered choice
(`fieldapp.core.settings`, once the store is unlocked), else the locale, else English.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseService
from fieldapp.domain import fields
from fieldapp.domain.intake_form import IntakeValues, PartyValues, validate
from harness import PASSPHRASE
from tests.cli import fieldapp

#: The environment of a test that sets the locale itself (no LC_* or LANG from the runner).
NO_LOCALE = ("LC_", "LANG")
ENGLISH = {"LANG": "en_GB.UTF-8"}
CHINESE = {"LANG": "zh_CN.UTF-8"}


def run(*args: Any, env: dict[str, str] | None = None) -> Any:
    """Run a command with the given locale (English unless said), none inherited."""
    return fieldapp(*args, env=env or ENGLISH, without=NO_LOCALE)


def ok(*args: Any, env: dict[str, str] | None = None) -> str:
    """Run a command that must succeed; its stdout."""
    result = run(*args, env=env)
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


def ok_json(*args: Any) -> Any:
    return json.loads(ok(*args, "--json"))


@pytest.fixture
def resolved_case(tmp_path: Path) -> tuple[Path, str]:
    """A supervisor's store with a case mediated, resolved with an agreement, then closed."""
    store = tmp_path / "store"
    ok("init", "--store", store, "--officer", "王警官", "--role", "supervisor")
    case = ok_json(
        "case", "new", "--store", store, "--village", "东岭村", "--category", "land", "--risk", "yellow",
        "--summary", "田界纠纷，双方争执", "--party", "张某某:13800000001",
    )  # fmt: skip
    ok("visit", "add", case["id"], "--store", store, "--kind", "mediation", "--note", "双方达成协议")
    ok(
        "case", "update", case["id"], "--store", store, "--status", "resolved",
        "--outcome", "agreement", "--terms", "张某某赔偿二百元",
    )  # fmt: skip
    ok("case", "update", case["id"], "--store", store, "--status", "closed", "--reason", "协议已履行")
    return store, case["id"]


@pytest.mark.timeout(120)
def test_case_show_lists_outcome_closure_follow_ups_and_history_in_english(
    resolved_case: tuple[Path, str],
) -> None:
    store, case_id = resolved_case
    shown = ok("case", "show", case_id, "--store", store, "--lang", "en")
    follow_ups = json.loads(ok("case", "show", case_id, "--store", store, "--json"))["followups"]
    assert "Outcome: mediation agreement — 张某某赔偿二百元" in shown
    assert "Closed: 协议已履行" in shown
    assert f"Follow-ups: {follow_ups[0]['due']} due" in shown
    history = shown[shown.index("History:") :]
    assert "王警官: Intake recorded" in history
    assert "Visit (Mediation): 双方达成协议" in history
    assert "Resolved: mediation agreement" in history
    assert "reason: 协议已履行" in history


@pytest.mark.timeout(120)
def test_case_show_lists_outcome_closure_follow_ups_and_history_in_chinese(
    resolved_case: tuple[Path, str],
) -> None:
    store, case_id = resolved_case
    shown = ok("case", "show", case_id, "--store", store, "--lang", "zh")
    assert "化解结果：人民调解协议 — 张某某赔偿二百元" in shown
    assert "结案原因：协议已履行" in shown
    assert "回访安排：" in shown and "待回访" in shown
    history = shown[shown.index("办理经过：") :]
    assert "走访（调解）：双方达成协议" in history and "原因：协议已履行" in history


def _new_case(store: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    return run(
        "case", "new", "--store", store, "--village", "东岭村", "--category", "land", "--risk", "yellow",
        "--summary", "田界纠纷", "--party", "张某某", *extra, env=env,
    )  # fmt: skip


@pytest.mark.timeout(120)
def test_the_command_line_refuses_a_past_a_far_and_a_nonexistent_deadline_saying_which(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    ok("init", "--store", store, "--officer", "王警官")
    past = _new_case(store, "--deadline", "2020-01-05")
    assert past.returncode == 1 and past.stdout == ""
    assert "the deadline 2020-01-05 is before today" in past.stderr and "早于今天" in past.stderr
    no_month = _new_case(store, "--deadline", "2026-13-45")
    assert "2026-13-45 is not a date: there is no month 13" in no_month.stderr
    assert "2026-13-45 不是有效日期：没有 13 月" in no_month.stderr
    assert "use" not in no_month.stderr.lower().split()  # not the "write it like" message alone
    no_day = _new_case(store, "--deadline", "2027-02-30")
    assert "that month has 28 days, so there is no day 30" in no_day.stderr
    far = (fields.station_today() + timedelta(days=fields.DEADLINE_MAX_DAYS + 1)).isoformat()
    too_far = _new_case(store, "--deadline", far)
    assert "more than two years ahead" in too_far.stderr and "超过两年" in too_far.stderr
    assert ok_json("case", "list", "--store", store) == []  # nothing recorded
    today = fields.station_today().isoformat()
    assert json.loads(_new_case(store, "--deadline", today, "--json").stdout)["deadline"] == today
    [case] = ok_json("case", "list", "--store", store)
    refused = run("case", "update", case["id"], "--store", store, "--deadline", "2021-06-01", "--json")
    assert refused.returncode == 1 and json.loads(refused.stderr)["rule"] == "deadline_past"


def test_the_form_says_a_past_and_a_nonexistent_deadline_as_the_command_line_does() -> None:
    today = date(2026, 12, 7)

    def problems(deadline: str) -> list[tuple[str, dict[str, Any]]]:
        values = IntakeValues(
            village="东岭村",
            category="land",
            risk="yellow",
            summary="地界争议",
            parties=(PartyValues("张某某"),),
            deadline=deadline,
        )
        return [(p.key, dict(p.params)) for p in validate(values, today) if p.field == "deadline"]

    assert problems("2020-01-05") == [
        ("rule.deadline_past.sentence", {"date": "2020-01-05", "today": "2026-12-07"})
    ]
    assert problems("2026-13-45") == [
        ("rule.deadline_no_month.sentence", {"date": "2026-13-45", "month": 13})
    ]
    assert problems("2028-02-30") == [
        ("rule.deadline_no_day.sentence", {"date": "2028-02-30", "day": 30, "days": 29})
    ]
    assert problems("2028-12-07") == [
        ("rule.deadline_too_far.sentence", {"date": "2028-12-07", "latest": "2028-12-06"})
    ]
    assert problems("2026-12-7") == [("intake.error.deadline", {})]
    assert problems("2026-12-07") == problems("2028-12-06") == problems("") == []


def test_the_supervisors_deadline_dialog_refuses_a_past_deadline_by_its_rule() -> None:
    from fieldapp.tui.screens.supervisor_dialogs import _deadline_problem

    key, params = _deadline_problem("2020-01-05", "deadline.required") or ("", {})
    assert key == "rule.deadline_past.sentence" and params["date"] == "2020-01-05"
    assert _deadline_problem("", "deadline.required") == ("deadline.required", {})


def test_the_reducer_still_folds_a_deadline_set_before_today(tmp_path: Path) -> None:
    """A deadline typed offline yesterday arrives today: the merge checks only its form."""
    assert fields.FIELD_CHECKS["deadline"]("2020-01-05") is None
    assert fields.FIELD_CHECKS["deadline"]("2026-13-45") is not None
    from fieldapp.core.service import init_device

    init_device(tmp_path / "s", PASSPHRASE, "王警官")
    service = CaseService.open(tmp_path / "s", PASSPHRASE)
    try:
        case = service.new_case("东岭村", "land", "yellow", "田界纠纷", deadline="2020-01-05")
    finally:
        service.close()
    assert case["deadline"] == "2020-01-05"


@pytest.mark.timeout(120)
def test_the_locale_chooses_chinese_when_no_lang_is_given(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ok("init", "--store", store, "--officer", "王警官")
    missing = run("case", "show", "nosuchcase", "--store", store, env=CHINESE)
    assert missing.returncode == 1
    assert "本设备上没有案件 nosuchcase" in missing.stderr and "No case" not in missing.stderr
    bad = run("sync", "--store", store, "--interface", "not-an-address", env=CHINESE)
    assert "--interface 须为本设备在所内网络上的 IP 地址" in bad.stderr
    assert "共 0 件案件。" in ok("case", "list", "--store", store, env=CHINESE)
    assert "0 case(s)." in ok("case", "list", "--store", store, env=ENGLISH)


@pytest.mark.timeout(120)
def test_a_devices_language_is_remembered_until_another_is_chosen(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ok("init", "--store", store, "--officer", "王警官")
    assert "0 case(s)." in ok("case", "list", "--store", store)  # the locale's (English)
    assert "共 0 件案件。" in ok("case", "list", "--store", store, "--lang", "zh")
    assert "共 0 件案件。" in ok("case", "list", "--store", store)  # remembered over the locale
    missing = run("case", "show", "nosuchcase", "--store", store)
    assert "本设备上没有案件 nosuchcase" in missing.stderr  # errors once unlocked too
    assert "数据库完好" in ok("store", "check", "--store", store)
    assert "0 case(s)." in ok("case", "list", "--store", store, "--lang", "en")
    assert "0 case(s)." in ok("case", "list", "--store", store, env=CHINESE)  # English remembered
    chosen = tmp_path / "chosen"
    ok("init", "--store", chosen, "--officer", "王警官", "--lang", "zh")  # the first choice counts
    assert "共 0 件案件。" in ok("case", "list", "--store", chosen)


#: Latin words a Chinese line may hold: the program's name, keys, units and the protocol's words.
ALLOWED = {"fieldapp", "Ctrl", "C", "KB", "MB", "B", "KiB", "Esc", "IP"}


def _english_words(text: str, known: set[str]) -> list[str]:
    """Latin words left in `text` once ids, codes, paths, options and commands are taken out."""
    text = re.sub(r"`[^`]*`", " ", text)  # commands to type
    text = re.sub(r"(?<![\w/])--[a-z-]+", " ", text)  # options
    text = re.sub(r"/\S+", " ", text)  # paths
    text = re.sub(r"\b\d{4}-\d{2}-\d{2}T\S+", " ", text)  # times
    for word in sorted(known, key=len, reverse=True):
        text = text.replace(word, " ")
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED]


@pytest.mark.timeout(300)
def test_the_daily_commands_speak_chinese_with_lang_zh(tmp_path: Path) -> None:
    """Supervisor's and officer's day on one device, every line read for English words."""
    store = tmp_path / "store"
    zh = ("--store", store, "--lang", "zh")
    said: list[str] = []

    def day(*args: Any, fails: bool = False) -> str:
        result = run(*args, *zh)
        assert (result.returncode != 0) is fails, result.stderr
        said.append(result.stdout + result.stderr)
        return str(result.stdout)

    day("init", "--officer", "王警官", "--role", "supervisor")
    day("station", "create", "--name", "城关派出所")
    day("case", "new", "--village", "东岭村", "--category", "land", "--risk", "red", "--summary", "田界纠纷",
        "--party", "张某某:13800000001", "--deadline", fields.station_today().isoformat())  # fmt: skip
    [case] = json.loads(run("case", "list", "--json", *zh).stdout)
    day("case", "list")
    day("case", "list", "--overdue")
    day("case", "update", case["id"], "--status", "in_progress", "--reason", "调解", "--note", "双方到场")
    day("visit", "add", case["id"], "--kind", "home", "--note", "上门查看界桩", "--place", "三组")
    day("case", "update", case["id"], "--status", "resolved", "--outcome", "agreement", "--terms", "各退一步")
    day("case", "show", case["id"])
    day("case", "show", "nosuchcase", fails=True)
    day("case", "update", case["id"], fails=True)  # nothing to update
    day("case", "new", "--village", "东岭村", "--category", "land", "--risk", "red", "--summary", "x",
        "--deadline", "2026-13-45", fails=True)  # fmt: skip
    day("device", "list")
    day("device", "revoke", "nosuchdevice", "--reason", "遗失", fails=True)
    day("area", "set", "东岭村", "第一警务区")
    day("area", "list")
    day("store", "check")
    day("serve", "--duration", "0.3")
    day("sync", fails=True)  # no address to look for the station's devices on
    day("sync", "--peer", "not-a-peer", fails=True)
    checked = json.loads(run("store", "check", "--json", *zh).stdout)
    devices = json.loads(run("device", "list", "--json", *zh).stdout)
    known = {case["id"], *checked["tables"], *(d["device_id"] for d in devices)}
    known |= {"nosuchcase", "nosuchdevice", "not-a-peer"}  # what was typed, said back
    known |= set(re.findall(r"st-[a-z0-9]+", "".join(said)))  # the station's id
    lines = "".join(said).splitlines()
    # A refusal of the rules is said in both languages, the reader's first (`refusal_message`).
    pairs = zip(["", *lines[:-1]], lines, strict=True)
    lines = [line for before, line in pairs if not _second_half(before, line)]
    leftover = [line for line in lines if _english_words(line, known)]
    assert leftover == [], "\n".join(leftover)


def _second_half(before: str, line: str) -> bool:
    """`line` is the English after the Chinese of a bilingual refusal."""
    return "未记录：" in before and line.startswith("Not recorded: ")


@pytest.mark.timeout(60)
def test_the_app_speaks_the_remembered_language_once_unlocked_and_remembers_f2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fieldapp.core.service import init_device
    from fieldapp.core.settings import remembered_language
    from fieldapp.tui.app import FieldApp
    from harness import FAST_KDF
    from tests.test_tui import submit

    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    store = tmp_path / "store"
    init_device(store, PASSPHRASE, "王警官", FAST_KDF, language="zh")  # `init --lang zh`
    app = FieldApp(store)

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            assert app.language == "en"  # locked: only the locale is known
            await submit(app, pilot, PASSPHRASE)
            assert app.language == "zh"  # the device's choice
            await pilot.press("f2")
            await pilot.pause()
            assert app.language == "en"

    asyncio.run(scenario())
    service = CaseService.open(store, PASSPHRASE)
    try:
        assert remembered_language(service.replica.local) == "en"
    finally:
        service.close()
